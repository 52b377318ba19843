//! `[[group]]` and `[[unit]]`: ids (shared namespace, no duplicates),
//! membership from both sides, each unit's fields, and the links between
//! units: supervisor, council and successor references, successors that
//! take over the day after, and supervisor loops.

use std::collections::{HashMap, HashSet};

use serde_spanned::Spanned;

use super::{GroupInfo, Validator, active_span, at};
use crate::config::load::Item;
use crate::config::model::{Person, Unit};
use crate::config::raw::{RawPerson, RawUnit};
use crate::config::report::{Loc, Problem, join, quote};
use crate::config::values::{self, format_date};

/// Ids already taken: id -> kind ("group" or "unit") and place.
type Ids = HashMap<String, (&'static str, Loc)>;

impl Validator<'_> {
    /// Reads the groups, then the units, then who belongs to which group.
    pub(super) fn units_and_groups(&mut self) {
        let mut ids: Ids = HashMap::new();
        self.declare_groups(&mut ids);
        self.declare_units(&mut ids);
        self.group_members();
        self.unit_groups();
        if self.col.incomplete {
            // Members may be declared in the file that could not be read.
            return;
        }
        let empty: Vec<(String, Loc)> = self
            .groups
            .iter()
            .filter(|(_, g)| g.members.is_empty())
            .map(|(k, g)| (k.clone(), g.loc.clone()))
            .collect();
        for (id, loc) in empty {
            self.rep.report(
                Problem::warning(
                    &loc,
                    format!("group {}", quote(&id)),
                    "nhóm không có thành viên nào",
                )
                .hint("thêm members = [...] hoặc groups = [...] trong các [[unit]]"),
            );
        }
    }

    /// Checks the id of a group or unit (`kind`): its form, and that no
    /// group or unit before it has taken it. Records it in `ids` and
    /// returns its location; `None` after reporting.
    fn claim_id(
        &mut self,
        ids: &mut Ids,
        kind: &'static str,
        file: usize,
        label: &str,
        id: &Spanned<String>,
    ) -> Option<Loc> {
        if !self.id_ok(file, &join(label, "id"), id) {
            return None;
        }
        let loc = at(file, id);
        if let Some((first_kind, first)) = ids.get(id.get_ref()) {
            let first = self.rep.place(first);
            self.rep.report(
                Problem::error(
                    &loc,
                    label,
                    format!("trùng id: đã khai báo là {first_kind} tại {first}"),
                )
                .quoted(id.get_ref())
                .hint("mỗi id chỉ dùng một lần"),
            );
            return None;
        }
        ids.insert(id.get_ref().clone(), (kind, loc.clone()));
        Some(loc)
    }

    fn declare_groups(&mut self, ids: &mut Ids) {
        let col = self.col;
        for g in &col.groups {
            let file = g.loc.file;
            let label = g.value.id.as_ref().map_or("group".to_string(), |i| {
                format!("group {}", quote(i.get_ref()))
            });
            let Some(id) = &g.value.id else {
                self.rep
                    .report(Problem::error(&g.loc, &label, "thiếu id").hint("id = \"so-nganh\""));
                continue;
            };
            let Some(loc) = self.claim_id(ids, "group", file, &label, id) else {
                continue;
            };
            self.groups.insert(
                id.get_ref().clone(),
                GroupInfo {
                    loc,
                    name: g
                        .value
                        .name
                        .as_ref()
                        .map(|n| n.get_ref().trim())
                        .filter(|n| !n.is_empty())
                        .unwrap_or(id.get_ref())
                        .to_string(),
                    members: Vec::new(),
                    set: HashSet::new(),
                },
            );
        }
    }

    fn declare_units(&mut self, ids: &mut Ids) {
        let col = self.col;
        for (idx, u) in col.units.iter().enumerate() {
            let file = u.loc.file;
            let Some(id) = &u.value.id else {
                self.rep.report(
                    Problem::error(&u.loc, format!("unit[{idx}]"), "thiếu id")
                        .hint("id = \"so-ldtbxh\""),
                );
                continue;
            };
            let label = format!("unit {}", quote(id.get_ref()));
            if self.claim_id(ids, "unit", file, &label, id).is_none() {
                continue;
            }
            let unit = self.unit(&u.value, file, &label, &u.loc);
            self.unit_locs.insert(unit.id.clone(), (idx, u.loc.clone()));
            self.unit_pos.insert(unit.id.clone(), self.units.len());
            self.units.push(unit);
        }
    }

    /// The units named in each group's `members`, in file order.
    fn group_members(&mut self) {
        let col = self.col;
        for g in &col.groups {
            let Some(gid) = g.value.id.as_ref().map(|i| i.get_ref().clone()) else {
                continue;
            };
            if !self.groups.contains_key(&gid) {
                continue;
            }
            for (i, m) in g.value.members.iter().enumerate() {
                let key = join(&format!("group {}", quote(&gid)), &format!("members[{i}]"));
                if self.unit_locs.contains_key(m.get_ref()) {
                    if let Some(g) = self.groups.get_mut(&gid)
                        && g.set.insert(m.get_ref().clone())
                    {
                        g.members.push(m.get_ref().clone());
                    }
                } else if self.groups.contains_key(m.get_ref()) {
                    self.rep.report(
                        Problem::error(
                            &at(g.loc.file, m),
                            &key,
                            "là một nhóm; thành viên của nhóm phải là đơn vị",
                        )
                        .quoted(m.get_ref()),
                    );
                } else {
                    let cands: Vec<&str> = self.unit_ids().collect();
                    self.unknown(&at(g.loc.file, m), &key, m.get_ref(), "unit", cands);
                }
            }
        }
    }

    /// The units that join groups with their own `groups` key.
    fn unit_groups(&mut self) {
        let col = self.col;
        for u in &col.units {
            let Some(uid) = self.declared_id(u) else {
                continue;
            };
            for (i, gs) in u.value.groups.iter().enumerate() {
                let key = join(&format!("unit {}", quote(&uid)), &format!("groups[{i}]"));
                match self.groups.get_mut(gs.get_ref()) {
                    Some(g) => {
                        if g.set.insert(uid.clone()) {
                            g.members.push(uid.clone());
                        }
                    }
                    None => {
                        let cands: Vec<&str> = self.group_ids().collect();
                        self.unknown(&at(u.loc.file, gs), &key, gs.get_ref(), "group", cands);
                    }
                }
            }
        }
    }

    /// The id of a `[[unit]]` element when it is the one that declared the
    /// id (not a duplicate, not refused).
    fn declared_id(&self, u: &Item<RawUnit>) -> Option<String> {
        let uid = u.value.id.as_ref().map(|i| i.get_ref().clone())?;
        if self.unit_locs.get(&uid).is_none_or(|(_, l)| *l != u.loc) {
            return None;
        }
        Some(uid)
    }

    fn unit(&mut self, raw: &RawUnit, file: usize, label: &str, loc: &Loc) -> Unit {
        let id = raw
            .id
            .as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_default();
        let name = match &raw.name {
            Some(n) if !n.get_ref().trim().is_empty() => n.get_ref().trim().to_string(),
            _ => {
                self.rep.report(
                    Problem::error(loc, join(label, "name"), "thiếu tên đơn vị")
                        .hint("name = \"Sở Y tế\""),
                );
                String::new()
            }
        };
        let mut emails = Vec::new();
        if let Some(e) = &raw.email {
            for (i, addr) in e.get_ref().0.iter().enumerate() {
                let key = if e.get_ref().0.len() == 1 {
                    "email".to_string()
                } else {
                    format!("email[{i}]")
                };
                if values::is_valid_email(addr) {
                    emails.push(addr.clone());
                } else {
                    self.rep.report(
                        Problem::error(&at(file, e), join(label, &key), "không phải địa chỉ email")
                            .quoted(addr)
                            .hint("ví dụ \"vanthu@soyte.quangngai.example\""),
                    );
                }
            }
        }
        if let Some(flag) = &raw.emailed
            && !*flag.get_ref()
        {
            if let Some(e) = &raw.email {
                self.rep.report(
                    Problem::error(
                        &at(file, flag),
                        join(label, "emailed"),
                        "đơn vị ghi emailed = false nhưng vẫn có email",
                    )
                    .value("false")
                    .hint(format!(
                        "bỏ emailed = false để gửi thư tới {}, hoặc xóa email nếu đơn vị này cố ý không nhận thư",
                        e.get_ref()
                            .0
                            .iter()
                            .map(|a| quote(a))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
            self.unmailed.insert(id.clone());
        }
        let head = raw.head.as_ref().and_then(|h| self.head(file, label, h));
        let (active_from, active_until, _) = active_span(
            self.rep,
            file,
            label,
            raw.active_from.as_ref(),
            raw.active_until.as_ref(),
            Some("active_until là ngày cuối cùng đơn vị hoạt động, không trước active_from"),
        );
        Unit {
            id,
            name,
            emails,
            head,
            groups: raw.groups.iter().map(|g| g.get_ref().clone()).collect(),
            supervisor: raw.supervisor.as_ref().map(|s| s.get_ref().clone()),
            council: raw.council.as_ref().map(|s| s.get_ref().clone()),
            active_from,
            active_until,
            successor: raw.successor.as_ref().map(|s| s.get_ref().clone()),
        }
    }

    /// `head = { name, email }` of the unit `label`; both are required.
    fn head(&mut self, file: usize, label: &str, h: &Spanned<RawPerson>) -> Option<Person> {
        let hloc = at(file, h);
        let h = h.get_ref();
        let name = h
            .name
            .as_ref()
            .map(|n| n.get_ref().trim().to_string())
            .filter(|n| !n.is_empty());
        if name.is_none() {
            self.rep.report(
                Problem::error(&hloc, join(label, "head.name"), "thiếu tên người đứng đầu")
                    .hint("head = { name = \"...\", email = \"...\" }"),
            );
        }
        let email = match &h.email {
            Some(e) if values::is_valid_email(e.get_ref()) => Some(e.get_ref().clone()),
            Some(e) => {
                self.rep.report(
                    Problem::error(
                        &at(file, e),
                        join(label, "head.email"),
                        "không phải địa chỉ email",
                    )
                    .quoted(e.get_ref())
                    .hint("ví dụ \"giamdoc@soyte.quangngai.example\""),
                );
                None
            }
            None => {
                self.rep.report(
                    Problem::error(
                        &hloc,
                        join(label, "head.email"),
                        "thiếu email của người đứng đầu",
                    )
                    .hint("head = { name = \"...\", email = \"...\" }"),
                );
                None
            }
        };
        Some(Person {
            name: name?,
            email: email?,
        })
    }

    /// supervisor / council / successor references, successor windows,
    /// supervisor loops.
    pub(super) fn unit_links(&mut self) {
        let col = self.col;
        for u in &col.units {
            let Some(uid) = self.declared_id(u) else {
                continue;
            };
            self.unit_references(u, &uid);
            self.successor_window(u, &uid);
        }
        self.supervisor_loops();
    }

    fn unit_references(&mut self, u: &Item<RawUnit>, uid: &str) {
        let label = format!("unit {}", quote(uid));
        for (key, r) in [
            ("supervisor", &u.value.supervisor),
            ("council", &u.value.council),
            ("successor", &u.value.successor),
        ] {
            let Some(r) = r else { continue };
            let loc = at(u.loc.file, r);
            if r.get_ref() == uid {
                self.rep.report(
                    Problem::error(
                        &loc,
                        join(&label, key),
                        "đơn vị không thể tham chiếu chính nó",
                    )
                    .quoted(r.get_ref()),
                );
            } else if !self.unit_locs.contains_key(r.get_ref()) {
                let cands: Vec<&str> = self.unit_ids().collect();
                self.unknown(&loc, &join(&label, key), r.get_ref(), "unit", cands);
            }
        }
    }

    /// A successor must be active the day after its predecessor's last day.
    fn successor_window(&mut self, u: &Item<RawUnit>, uid: &str) {
        let Some(s) = &u.value.successor else { return };
        let (Some(pred), Some(succ)) = (self.unit_by_id(uid), self.unit_by_id(s.get_ref())) else {
            return;
        };
        let loc = at(u.loc.file, s);
        let key = join(&format!("unit {}", quote(uid)), "successor");
        let problem = match pred.active_until {
            None => Problem::error(&loc, key, "có đơn vị kế nhiệm nhưng thiếu active_until")
                .quoted(s.get_ref())
                .hint("thêm active_until = ngày cuối cùng đơn vị này hoạt động"),
            Some(until) => match until.tomorrow() {
                Ok(next) if !succ.active_on(next) => Problem::error(
                    &loc,
                    key,
                    format!(
                        "đơn vị kế nhiệm không hoạt động vào {} (ngày sau active_until)",
                        format_date(next)
                    ),
                )
                .quoted(s.get_ref())
                .hint(format!(
                    "active_from của {} phải không muộn hơn {}",
                    quote(s.get_ref()),
                    format_date(next)
                )),
                _ => return,
            },
        };
        self.rep.report(problem);
    }

    /// Follows each supervisor chain; reports each loop once.
    fn supervisor_loops(&mut self) {
        let sup: HashMap<&str, &str> = self
            .units
            .iter()
            .filter_map(|u| u.supervisor.as_deref().map(|s| (u.id.as_str(), s)))
            .collect();
        let mut reported: HashSet<Vec<String>> = HashSet::new();
        let mut errors = Vec::new();
        for u in &self.units {
            let mut chain = vec![u.id.as_str()];
            let mut cur = u.id.as_str();
            while let Some(&next) = sup.get(cur) {
                if let Some(pos) = chain.iter().position(|&c| c == next) {
                    let cycle: Vec<String> = chain[pos..].iter().map(|s| s.to_string()).collect();
                    let mut key = cycle.clone();
                    key.sort();
                    if next != cur && reported.insert(key) {
                        let mut shown = cycle.clone();
                        shown.push(next.to_string());
                        errors.push((cycle[0].clone(), shown.join(" → ")));
                    }
                    break;
                }
                chain.push(next);
                cur = next;
            }
        }
        let col = self.col;
        for (id, chain) in errors {
            let Some((idx, loc)) = self.unit_locs.get(&id).cloned() else {
                continue;
            };
            let loc = col.units[idx]
                .value
                .supervisor
                .as_ref()
                .map_or(loc, |s| at(col.units[idx].loc.file, s));
            let value = self.unit_by_id(&id).and_then(|u| u.supervisor.clone());
            self.rep.report(
                Problem::error(
                    &loc,
                    format!("unit {}: supervisor", quote(&id)),
                    format!("vòng lặp cấp trên: {chain}"),
                )
                .maybe_value(value.as_deref().map(quote))
                .hint("chuỗi supervisor phải kết thúc ở một đơn vị không có cấp trên"),
            );
        }
    }
}
