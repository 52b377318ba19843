//! `reminders` of one obligation: offsets before the deadline (no sign,
//! no duplicates), sorted earliest first, and a warning for a reminder that
//! would come before its period even starts.

use jiff::civil::Date;

use super::Validator;
use super::due::Schedule;
use super::obligation::Draft;
use crate::config::model::{Cycle, DayUnit, DueRule, Offset};
use crate::config::report::{Problem, quote};
use crate::config::values::{self, OFFSET_FORMS};
use crate::period::periods_of_year;

/// Approximate calendar days of an offset (working days × 7/5), for warnings.
fn approx_days(o: Offset) -> i64 {
    match o.unit {
        DayUnit::Days => i64::from(o.amount),
        DayUnit::WorkingDays => i64::from(o.amount) * 7 / 5,
    }
}

/// The unrolled due day of a period, approximating working days.
fn approx_due(due: &DueRule, end: Date) -> Date {
    match *due {
        DueRule::After(o) => end
            .checked_add(jiff::Span::new().days(approx_days(o)))
            .unwrap_or(end),
        DueRule::DayOfMonth { day, next_month } => {
            let month_start = end.first_of_month();
            let m = if next_month {
                month_start
                    .checked_add(jiff::Span::new().months(1))
                    .unwrap_or(month_start)
            } else {
                month_start
            };
            let d = i8::try_from(day).unwrap_or(1).min(m.days_in_month());
            Date::new(m.year(), m.month(), d).unwrap_or(m)
        }
    }
}

impl Validator<'_> {
    pub(super) fn reminders(&mut self, d: &mut Draft, schedule: &Schedule) -> Vec<Offset> {
        let mut reminders: Vec<Offset> = Vec::new();
        for (i, r) in d.raw.reminders.iter().enumerate() {
            let key = d.key(&format!("reminders[{i}]"));
            let text = r.get_ref().trim();
            let why = match values::parse_offset(text) {
                Ok(o) if reminders.contains(&o) => {
                    self.rep.report(
                        Problem::warning(&d.at(r), &key, "nhắc hạn bị lặp lại").quoted(r.get_ref()),
                    );
                    continue;
                }
                Ok(o) => {
                    reminders.push(o);
                    continue;
                }
                Err(why) => why,
            };
            let problem = if text.starts_with('+') {
                Problem::error(
                    &d.at(r),
                    &key,
                    "nhắc hạn nằm sau hạn nộp; reminders là khoảng thời gian trước hạn",
                )
                .hint(format!(
                    "bỏ dấu '+', ví dụ {}; việc nhắc sau hạn ghi trong [[obligation.escalation]]",
                    quote(text.trim_start_matches('+').trim())
                ))
            } else if text.starts_with('-') {
                Problem::error(
                    &d.at(r),
                    &key,
                    "không ghi dấu '-': reminders luôn tính trước hạn nộp",
                )
                .hint(format!(
                    "viết {}",
                    quote(text.trim_start_matches('-').trim())
                ))
            } else {
                Problem::error(&d.at(r), &key, why).hint(format!("{OFFSET_FORMS} (trước hạn nộp)"))
            };
            self.rep.report(problem.quoted(r.get_ref()));
            d.ok = false;
        }
        reminders
            .sort_by_key(|o| std::cmp::Reverse((approx_days(*o), o.unit == DayUnit::WorkingDays)));
        self.warn_reminders_before_period(d, schedule);
        reminders
    }

    /// A reminder that would come before the period even starts.
    fn warn_reminders_before_period(&mut self, d: &Draft, schedule: &Schedule) {
        let sample: Vec<(Date, Date)> = match &schedule.cycle {
            Cycle::Once { start, end } => start.map(|s| vec![(s, *end)]).unwrap_or_default(),
            c => periods_of_year(c, schedule.window, 2026)
                .into_iter()
                .map(|p| (p.window.start, p.window.end))
                .collect(),
        };
        for (i, r) in d.raw.reminders.iter().enumerate() {
            let Ok(o) = values::parse_offset(r.get_ref()) else {
                continue;
            };
            if sample.iter().any(|&(s, e)| {
                i64::from((approx_due(&schedule.due, e) - s).get_days()) < approx_days(o)
            }) {
                self.rep.report(
                    Problem::warning(
                        &d.at(r),
                        d.key(&format!("reminders[{i}]")),
                        "nhắc hạn rơi vào trước khi kỳ báo cáo bắt đầu",
                    )
                    .quoted(r.get_ref())
                    .hint("chọn khoảng nhắc ngắn hơn độ dài kỳ"),
                );
            }
        }
    }
}
