//! How units are used: a reporter without a mailbox is an error (it would
//! silently get nothing) unless it is marked `emailed = false`; a unit that
//! takes part in nothing (reports nothing, receives nothing, supervises
//! nobody) is a warning.

use std::collections::HashSet;

use super::Validator;
use crate::config::model::{Obligation, Recipient};
use crate::config::report::{Problem, quote};

impl Validator<'_> {
    /// Reporters without email (an error unless `emailed = false`), units
    /// that take part in nothing (a warning).
    pub(super) fn warnings_about_usage(&mut self, obligations: &[Obligation]) {
        let mut used: HashSet<&str> = HashSet::new();
        for o in obligations {
            for r in &o.reporters {
                used.insert(r);
            }
            if let Recipient::Unit(u) = &o.recipient {
                used.insert(u);
            }
        }
        for u in &self.units {
            for r in [&u.supervisor, &u.council, &u.successor]
                .into_iter()
                .flatten()
            {
                used.insert(r);
            }
        }
        let raw_used = self.named_by_obligations();
        let mut problems = Vec::new();
        for u in &self.units {
            let Some((_, loc)) = self.unit_locs.get(&u.id) else {
                continue;
            };
            let unit = format!("unit {}", quote(&u.id));
            if u.emails.is_empty() && !self.unmailed.contains(&u.id) {
                let mut of = obligations
                    .iter()
                    .filter(|o| o.reporters.contains(&u.id))
                    .map(|o| quote(&o.id));
                if let Some(first) = of.next() {
                    let more = match of.count() {
                        0 => String::new(),
                        n => format!(" và {n} nghĩa vụ khác"),
                    };
                    problems.push(
                        Problem::error(
                            loc,
                            &unit,
                            format!(
                                "đơn vị báo cáo cho nghĩa vụ {first}{more} nhưng không có email, \
                                 nên sẽ không nhận được nhắc hạn hay đôn đốc nào"
                            ),
                        )
                        .hint(
                            "thêm email = \"vanthu@ten-mien.example\"; nếu đơn vị này cố ý không \
                             nhận thư (theo dõi qua bảng điều khiển hoặc điện thoại), ghi emailed = false",
                        ),
                    );
                }
            }
            if self.col.incomplete {
                // Its obligations may be in the file that could not be read.
                continue;
            }
            if !used.contains(u.id.as_str()) && !raw_used.contains(&u.id) {
                problems.push(
                    Problem::warning(
                        loc,
                        &unit,
                        "đơn vị không tham gia nghĩa vụ nào (không báo cáo, không nhận, không là cấp trên)",
                    )
                    .hint("thêm nó vào reporters của một nghĩa vụ hoặc xóa khai báo"),
                );
            }
        }
        for p in problems {
            self.rep.report(p);
        }
    }

    /// Every id an obligation names as reporter (groups expanded) or
    /// recipient, valid or not: an obligation with another error must not
    /// make its units "unused".
    fn named_by_obligations(&self) -> HashSet<String> {
        let mut named: HashSet<String> = HashSet::new();
        for o in &self.col.obligations {
            if let Some(rl) = &o.value.reporters {
                for r in rl.get_ref() {
                    named.insert(r.get_ref().clone());
                    if let Some(g) = self.groups.get(r.get_ref()) {
                        named.extend(g.members.iter().cloned());
                    }
                }
            }
            if let Some(r) = &o.value.recipient {
                named.insert(r.get_ref().clone());
            }
        }
        named
    }
}
