//! `[[obligation.escalation]]`: each stage's delay after the deadline, its
//! recipients (roles or addresses; a warning when reporters lack the role)
//! and its optional repeat; a warning when the stages are not in order.

use serde_spanned::Spanned;

use super::obligation::Draft;
use super::{Validator, parsed};
use crate::config::model::{EscalationStage, EscalationTarget, Repeat};
use crate::config::raw::{RawRepeat, RawStage};
use crate::config::report::{Problem, nearest, quote};
use crate::config::values::{self, NOTICE_OFFSET_FORMS, OFFSET_FORMS};

/// The roles a stage can notify.
const NOTIFY: [&str; 4] = ["unit", "head", "supervisor", "recipient"];

fn notify_hint() -> String {
    "\"unit\" (đơn vị), \"head\" (thủ trưởng), \"supervisor\" (cấp trên), \"recipient\" (nơi nhận) hoặc một địa chỉ email".into()
}

impl Validator<'_> {
    /// The stages that have a readable `after`, in the order written.
    pub(super) fn escalation(
        &mut self,
        d: &mut Draft,
        reporters: &[String],
    ) -> Vec<EscalationStage> {
        // (stage, index in the file) for the ordering warning.
        let mut escalation: Vec<(EscalationStage, usize)> = Vec::new();
        for (i, st) in d.raw.escalation.iter().enumerate() {
            if let Some(stage) = self.stage(d, reporters, i, st) {
                escalation.push((stage, i));
            }
        }
        for w in escalation.windows(2) {
            let (a, b) = (&w[0].0, &w[1].0);
            if a.after.unit == b.after.unit && b.after.amount <= a.after.amount {
                let st = &d.raw.escalation[w[1].1];
                let after = st.get_ref().after.as_ref();
                let l = after.map_or(d.at(st), |s| d.at(s));
                self.rep.report(
                    Problem::warning(
                        &l,
                        d.key(&format!("escalation[{}].after", w[1].1)),
                        "không muộn hơn bậc trước",
                    )
                    .maybe_value(after.map(|s| quote(s.get_ref())))
                    .hint("các bậc nhắc sau hạn nên xếp theo thứ tự thời gian tăng dần"),
                );
            }
        }
        escalation.into_iter().map(|(s, _)| s).collect()
    }

    /// Stage `i`; `None` when its `after` is missing or unreadable.
    fn stage(
        &mut self,
        d: &mut Draft,
        reporters: &[String],
        i: usize,
        st: &Spanned<RawStage>,
    ) -> Option<EscalationStage> {
        let skey = d.key(&format!("escalation[{i}]"));
        let sloc = d.at(st);
        let s = st.get_ref();
        let after = match &s.after {
            None => {
                self.rep.report(
                    Problem::error(
                        &sloc,
                        format!("{skey}.after"),
                        "thiếu thời điểm nhắc sau hạn",
                    )
                    .hint("after = \"1 ngày làm việc\" (0 ngày = sáng hôm sau ngày hạn)"),
                );
                d.ok = false;
                None
            }
            Some(a) => {
                let after = parsed(
                    self.rep,
                    d.file,
                    &format!("{skey}.after"),
                    a,
                    values::parse_notice_offset,
                    format!("{NOTICE_OFFSET_FORMS} (sau hạn nộp)"),
                );
                d.ok &= after.is_some();
                after
            }
        };
        if s.notify.is_empty() {
            self.rep.report(
                Problem::error(&sloc, format!("{skey}.notify"), "thiếu người nhận")
                    .hint(notify_hint()),
            );
            d.ok = false;
        }
        let mut notify = Vec::new();
        for (j, n) in s.notify.iter().enumerate() {
            let nkey = format!("{skey}.notify[{j}]");
            let Some(t) = self.notify_target(d, reporters, &nkey, n) else {
                d.ok = false;
                continue;
            };
            if !notify.contains(&t) {
                notify.push(t);
            }
        }
        let repeat = s.repeat.as_ref().and_then(|rp| {
            let repeat = self.repeat(d, &skey, rp);
            if repeat.is_none() {
                d.ok = false;
            }
            repeat
        });
        Some(EscalationStage {
            after: after?,
            notify,
            repeat,
        })
    }

    /// One entry of `notify`: a role or an address; `None` after
    /// reporting. Warns when some reporters lack the role's person.
    fn notify_target(
        &mut self,
        d: &Draft,
        reporters: &[String],
        nkey: &str,
        n: &Spanned<String>,
    ) -> Option<EscalationTarget> {
        let t = match n.get_ref().as_str() {
            "unit" => EscalationTarget::Unit,
            "head" => EscalationTarget::Head,
            "supervisor" => EscalationTarget::Supervisor,
            "recipient" => EscalationTarget::Recipient,
            a if a.contains('@') && values::is_valid_email(a) => {
                EscalationTarget::Address(a.to_string())
            }
            a if a.contains('@') => {
                self.rep.report(
                    Problem::error(&d.at(n), nkey, "không phải địa chỉ email")
                        .quoted(a)
                        .hint(notify_hint()),
                );
                return None;
            }
            other => {
                let hint = match nearest(other, NOTIFY) {
                    Some(x) => format!("có phải ý là {}? {}", quote(x), notify_hint()),
                    None => notify_hint(),
                };
                self.rep.report(
                    Problem::error(&d.at(n), nkey, "không phải người nhận hợp lệ")
                        .quoted(other)
                        .hint(hint),
                );
                return None;
            }
        };
        let lacking: Vec<&str> = match t {
            EscalationTarget::Head => self.reporters_lacking(reporters, |x| x.head.is_none()),
            EscalationTarget::Supervisor => {
                self.reporters_lacking(reporters, |x| x.supervisor.is_none())
            }
            _ => Vec::new(),
        };
        if !lacking.is_empty() {
            let shown: Vec<&str> = lacking.iter().take(5).copied().collect();
            let more = if lacking.len() > 5 {
                format!(" và {} đơn vị khác", lacking.len() - 5)
            } else {
                String::new()
            };
            self.rep.report(
                Problem::warning(
                    &d.at(n),
                    nkey,
                    format!(
                        "{} đơn vị báo cáo không có {}: {}{more}",
                        lacking.len(),
                        n.get_ref(),
                        shown.join(", ")
                    ),
                )
                .quoted(n.get_ref()),
            );
        }
        Some(t)
    }

    /// `repeat = { every, limit }`; `None` after reporting.
    fn repeat(&mut self, d: &Draft, skey: &str, rp: &Spanned<RawRepeat>) -> Option<Repeat> {
        let rloc = d.at(rp);
        let r = rp.get_ref();
        let every = match &r.every {
            None => {
                self.rep.report(
                    Problem::error(
                        &rloc,
                        format!("{skey}.repeat.every"),
                        "thiếu khoảng lặp lại",
                    )
                    .hint("repeat = { every = \"5 ngày làm việc\", limit = 3 }"),
                );
                None
            }
            Some(e) if values::is_offset_in_hours(e.get_ref()) => {
                // A repeat goes out at the start of the sending hours of a
                // working day: several in one day about the same period
                // would say the same thing to the same superior.
                self.rep.report(
                    Problem::error(
                        &d.at(e),
                        format!("{skey}.repeat.every"),
                        "khoảng lặp lại tính theo ngày, không theo giờ: thư đôn đốc lặp lại được gửi vào đầu giờ gửi thư (daemon.sending_hours) của một ngày làm việc, mỗi ngày nhiều nhất một thư cho mỗi kỳ; với báo cáo hằng ngày, các kỳ quá hạn của những ngày sau được gộp vào cùng thư đôn đốc",
                    )
                    .quoted(e.get_ref())
                    .hint("ghi theo ngày, ví dụ repeat = { every = \"1 ngày làm việc\", limit = 3 }; muốn báo sớm hơn trong ngày hạn thì thêm một bậc đôn đốc với after = \"2 giờ\""),
                );
                None
            }
            Some(e) => match values::parse_offset(e.get_ref()) {
                Ok(o) if o.amount > 0 => Some(o),
                Ok(_) => {
                    self.rep.report(
                        Problem::error(
                            &d.at(e),
                            format!("{skey}.repeat.every"),
                            "khoảng lặp lại phải lớn hơn 0",
                        )
                        .quoted(e.get_ref()),
                    );
                    None
                }
                Err(why) => {
                    self.rep.report(
                        Problem::error(&d.at(e), format!("{skey}.repeat.every"), why)
                            .quoted(e.get_ref())
                            .hint(OFFSET_FORMS),
                    );
                    None
                }
            },
        };
        let limit = match &r.limit {
            None => {
                self.rep.report(
                    Problem::error(
                        &rloc,
                        format!("{skey}.repeat.limit"),
                        "thiếu số lần lặp lại tối đa",
                    )
                    .hint("limit = 3"),
                );
                None
            }
            Some(l) if (1..=100).contains(l.get_ref()) => Some(*l.get_ref() as u32),
            Some(l) => {
                self.rep.report(
                    Problem::error(
                        &d.at(l),
                        format!("{skey}.repeat.limit"),
                        "ngoài khoảng cho phép",
                    )
                    .value(l.get_ref().to_string())
                    .hint("một số từ 1 đến 100"),
                );
                None
            }
        };
        Some(Repeat {
            every: every?,
            limit: limit?,
        })
    }
}
