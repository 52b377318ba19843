//! One `[[obligation]]`: title, short title, voice (`directive`), reporters (units and groups, expanded),
//! recipient, then its schedule (`due`), reminders (`reminders`) and
//! escalation ladder (`escalation`), its active span, and a warning when
//! none of its reporters is active while it applies.

use std::collections::HashSet;

use jiff::civil::Date;
use serde_spanned::Spanned;

use super::{RECIPIENT_COUNCIL, RECIPIENT_SUPERVISOR, Validator, active_span, at};
use crate::config::model::{Obligation, Recipient, Unit};
use crate::config::raw::RawObligation;
use crate::config::report::{Loc, Problem, join, quote};

/// One obligation while it is checked: what is written, where, and whether
/// an error makes it unusable (it is then left out of the model, so that
/// checks over all obligations do not repeat its errors).
pub(super) struct Draft<'o> {
    pub raw: &'o RawObligation,
    pub file: usize,
    /// `obligation "id"`, the start of every key path.
    pub label: &'o str,
    /// The whole element, for missing keys.
    pub loc: &'o Loc,
    pub id: String,
    pub ok: bool,
}

impl Draft<'_> {
    /// The key path of `sub` in this obligation.
    pub fn key(&self, sub: &str) -> String {
        join(self.label, sub)
    }

    /// Where a value of this obligation is.
    pub fn at<T>(&self, s: &Spanned<T>) -> Loc {
        at(self.file, s)
    }
}

impl Validator<'_> {
    pub(super) fn obligation(
        &mut self,
        raw: &RawObligation,
        file: usize,
        label: &str,
        loc: &Loc,
    ) -> Option<Obligation> {
        let id = raw
            .id
            .as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_default();
        let mut d = Draft {
            raw,
            file,
            label,
            loc,
            id,
            ok: true,
        };
        let title = self.title(&mut d);
        let short_title = self.short_title(&mut d);
        let voice = self.voice(&mut d);
        let reporters = self.reporters(&mut d);
        let recipient = self.recipient(&mut d, &reporters);
        let schedule = self.schedule(&mut d)?;
        let roll_to_working_day = raw
            .roll_to_working_day
            .as_ref()
            .is_none_or(|b| *b.get_ref());
        let reminders = self.reminders(&mut d, &schedule);
        let escalation = self.escalation(&mut d, &reporters);
        let (active_from, active_until, in_order) = active_span(
            self.rep,
            file,
            label,
            raw.active_from.as_ref(),
            raw.active_until.as_ref(),
            None,
        );
        d.ok &= in_order;
        self.warn_if_no_reporter_active(&d, &reporters, active_from, active_until);
        if !d.ok {
            return None;
        }
        Some(Obligation {
            id: d.id,
            title,
            short_title,
            voice,
            legal_basis: raw
                .legal_basis
                .as_ref()
                .map(|s| s.get_ref().trim().to_string()),
            reporters,
            recipient: recipient?,
            cycle: schedule.cycle,
            window: schedule.window,
            due: schedule.due,
            due_exclusive: schedule.due_exclusive,
            due_time: schedule.due_time,
            due_after: schedule.due_after,
            overrides: schedule.overrides,
            roll_to_working_day,
            reminders,
            escalation,
            active_from,
            active_until,
            depends_on: raw.depends_on.iter().map(|d| d.get_ref().clone()).collect(),
        })
    }

    fn title(&mut self, d: &mut Draft) -> String {
        match &d.raw.title {
            Some(t) if !t.get_ref().trim().is_empty() => t.get_ref().trim().to_string(),
            _ => {
                self.rep.report(
                    Problem::error(d.loc, d.key("title"), "thiếu tiêu đề")
                        .hint("title = \"Báo cáo 6 tháng ...\""),
                );
                d.ok = false;
                String::new()
            }
        }
    }

    /// Reporters: units and groups, expanded, in file order, without
    /// duplicates.
    fn reporters(&mut self, d: &mut Draft) -> Vec<String> {
        let mut reporters: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let list = match &d.raw.reporters {
            None => {
                self.rep.report(
                    Problem::error(d.loc, d.key("reporters"), "thiếu danh sách đơn vị báo cáo")
                        .hint("reporters = [\"so-nganh\", \"ubnd-huyen\"] (id đơn vị hoặc nhóm)"),
                );
                d.ok = false;
                return reporters;
            }
            Some(list) if list.get_ref().is_empty() => {
                self.rep.report(
                    Problem::error(
                        &d.at(list),
                        d.key("reporters"),
                        "danh sách đơn vị báo cáo rỗng",
                    )
                    .value("[]")
                    .hint("ghi ít nhất một id đơn vị hoặc nhóm"),
                );
                d.ok = false;
                return reporters;
            }
            Some(list) => list,
        };
        for (i, r) in list.get_ref().iter().enumerate() {
            let members: Vec<String> = if self.unit_locs.contains_key(r.get_ref()) {
                vec![r.get_ref().clone()]
            } else if let Some(g) = self.groups.get(r.get_ref()) {
                g.members.clone()
            } else {
                let cands: Vec<&str> = self.unit_ids().chain(self.group_ids()).collect();
                let key = d.key(&format!("reporters[{i}]"));
                self.unknown(&d.at(r), &key, r.get_ref(), "unit hay group", cands);
                d.ok = false;
                Vec::new()
            };
            for m in members {
                if seen.insert(m.clone()) {
                    reporters.push(m);
                }
            }
        }
        reporters
    }

    /// A unit, or each reporter's own council or supervisor (which every
    /// reporter must then have).
    fn recipient(&mut self, d: &mut Draft, reporters: &[String]) -> Option<Recipient> {
        let key = d.key("recipient");
        let Some(r) = &d.raw.recipient else {
            self.rep.report(
                Problem::error(d.loc, key, "thiếu nơi nhận báo cáo").hint(format!(
                    "id một đơn vị, {} hoặc {}",
                    quote(RECIPIENT_COUNCIL),
                    quote(RECIPIENT_SUPERVISOR)
                )),
            );
            d.ok = false;
            return None;
        };
        let rloc = d.at(r);
        let (rec, what, lacking) = match r.get_ref().as_str() {
            RECIPIENT_COUNCIL => (
                Recipient::ReporterCouncil,
                "council",
                self.reporters_lacking(reporters, |x| x.council.is_none()),
            ),
            RECIPIENT_SUPERVISOR => (
                Recipient::ReporterSupervisor,
                "supervisor",
                self.reporters_lacking(reporters, |x| x.supervisor.is_none()),
            ),
            other => {
                if !self.unit_locs.contains_key(other) {
                    let cands: Vec<&str> = self
                        .unit_ids()
                        .chain([RECIPIENT_COUNCIL, RECIPIENT_SUPERVISOR])
                        .collect();
                    self.unknown(&rloc, &key, other, "unit", cands);
                    d.ok = false;
                }
                (Recipient::Unit(other.to_string()), "", Vec::new())
            }
        };
        if !lacking.is_empty() {
            self.rep.report(
                Problem::error(
                    &rloc,
                    key,
                    format!(
                        "các đơn vị báo cáo sau không có {what}: {}",
                        lacking.join(", ")
                    ),
                )
                .quoted(r.get_ref())
                .hint(format!(
                    "thêm {what} = \"...\" vào các [[unit]] đó, hoặc chọn nơi nhận là một đơn vị"
                )),
            );
            d.ok = false;
        }
        Some(rec)
    }

    /// Warns when no reporter exists at any time the obligation applies.
    fn warn_if_no_reporter_active(
        &mut self,
        d: &Draft,
        reporters: &[String],
        active_from: Option<Date>,
        active_until: Option<Date>,
    ) {
        let Some(rl) = &d.raw.reporters else { return };
        if reporters.is_empty() {
            return;
        }
        let overlaps = |u: &Unit| {
            active_from.is_none_or(|f| u.active_until.is_none_or(|uu| f <= uu))
                && active_until.is_none_or(|t| u.active_from.is_none_or(|uf| uf <= t))
        };
        if !reporters
            .iter()
            .any(|r| self.unit_by_id(r).is_some_and(overlaps))
        {
            self.rep.report(
                Problem::warning(
                    &d.at(rl),
                    d.key("reporters"),
                    "không có đơn vị báo cáo nào hoạt động trong thời gian nghĩa vụ có hiệu lực",
                )
                .hint("kiểm tra active_from/active_until của nghĩa vụ và các đơn vị"),
            );
        }
    }
}
