//! Warnings about how units are used: a reporter without a mailbox, and a
//! unit that takes part in nothing (reports nothing, receives nothing,
//! supervises nobody).

use std::collections::HashSet;

use super::Validator;
use crate::config::model::{Obligation, Recipient};
use crate::config::report::{Problem, quote};

impl Validator<'_> {
    /// Warnings: reporters without email, units that take part in nothing.
    pub(super) fn warnings_about_usage(&mut self, obligations: &[Obligation]) {
        let mut used: HashSet<&str> = HashSet::new();
        let mut reporting: HashSet<&str> = HashSet::new();
        for o in obligations {
            for r in &o.reporters {
                used.insert(r);
                reporting.insert(r);
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
        let mut warnings = Vec::new();
        for u in &self.units {
            let Some((_, loc)) = self.unit_locs.get(&u.id) else {
                continue;
            };
            let unit = format!("unit {}", quote(&u.id));
            if reporting.contains(u.id.as_str()) && u.emails.is_empty() {
                warnings.push(
                    Problem::warning(
                        loc,
                        &unit,
                        "đơn vị báo cáo không có email nên sẽ không nhận được nhắc hạn",
                    )
                    .hint("thêm email = \"vanthu@...\""),
                );
            }
            if !used.contains(u.id.as_str()) && !raw_used.contains(&u.id) {
                warnings.push(
                    Problem::warning(
                        loc,
                        &unit,
                        "đơn vị không tham gia nghĩa vụ nào (không báo cáo, không nhận, không là cấp trên)",
                    )
                    .hint("thêm nó vào reporters của một nghĩa vụ hoặc xóa khai báo"),
                );
            }
        }
        for w in warnings {
            self.rep.report(w);
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
