//! `reminders` of one obligation: offsets before the deadline in days,
//! working days or hours (no sign, no duplicates), sorted earliest first,
//! and a warning for a reminder that would come before its period even
//! starts.

use jiff::civil::Date;

use super::Validator;
use super::due::Schedule;
use super::obligation::Draft;
use crate::config::model::{Cycle, DayUnit, DueRule, Offset};
use crate::config::report::{Problem, quote};
use crate::config::values::{self, NOTICE_OFFSET_FORMS};
use crate::period::periods_of_year;

/// Approximate calendar days of an offset (working days × 7/5), for warnings.
fn approx_days(o: Offset) -> i64 {
    match o.unit {
        DayUnit::Days => i64::from(o.amount),
        DayUnit::WorkingDays => i64::from(o.amount) * 7 / 5,
        DayUnit::Hours => i64::from(o.amount) / 24,
    }
}

/// Approximate hours of an offset, for ordering reminders.
fn approx_hours(o: Offset) -> i64 {
    match o.unit {
        DayUnit::Hours => i64::from(o.amount),
        _ => approx_days(o) * 24,
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
        // Later than the end by one to three months: no reminder of a
        // sensible length falls before the period's start.
        DueRule::DayOfNextQuarter { .. } => end,
        // At least the offset after the end (the first tier's due day is
        // not before it for the rules that count from the end).
        DueRule::AfterDue(o) => end
            .checked_add(jiff::Span::new().days(approx_days(o)))
            .unwrap_or(end),
        DueRule::DayMonth { day, month } => (end.year() - 1..=end.year() + 1)
            .filter_map(|y| Date::new(y, month as i8, day as i8).ok())
            .min_by_key(|d| (*d - end).get_days().abs())
            .unwrap_or(end),
        DueRule::Weekday { weekday, next_week } => {
            let monday = end
                .checked_sub(jiff::Span::new().days(end.weekday().to_monday_zero_offset()))
                .unwrap_or(end);
            monday
                .checked_add(
                    jiff::Span::new()
                        .days(weekday.to_monday_zero_offset() + 7 * i8::from(next_week)),
                )
                .unwrap_or(end)
        }
    }
}

impl Validator<'_> {
    pub(super) fn reminders(&mut self, d: &mut Draft, schedule: &Schedule) -> Vec<Offset> {
        let mut reminders: Vec<Offset> = Vec::new();
        for (i, r) in d.raw.reminders.iter().enumerate() {
            let key = d.key(&format!("reminders[{i}]"));
            let text = r.get_ref().trim();
            let why = match values::parse_notice_offset(text) {
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
                Problem::error(&d.at(r), &key, why)
                    .hint(format!("{NOTICE_OFFSET_FORMS} (trước hạn nộp)"))
            };
            self.rep.report(problem.quoted(r.get_ref()));
            d.ok = false;
        }
        reminders
            .sort_by_key(|o| std::cmp::Reverse((approx_hours(*o), o.unit == DayUnit::WorkingDays)));
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
        // Hours from the period's first 00:00 to the deadline (24:00 of
        // the due day, or its time of day).
        let deadline_hours = |s: Date, e: Date| {
            let days = i64::from((approx_due(&schedule.due, e) - s).get_days());
            days * 24 + schedule.due_time.map_or(24, |t| i64::from(t.hour()))
        };
        for (i, r) in d.raw.reminders.iter().enumerate() {
            let Ok(o) = values::parse_notice_offset(r.get_ref()) else {
                continue;
            };
            if sample.iter().any(|&(s, e)| match o.unit {
                DayUnit::Hours => deadline_hours(s, e) < i64::from(o.amount),
                _ => i64::from((approx_due(&schedule.due, e) - s).get_days()) < approx_days(o),
            }) {
                self.rep.report(
                    Problem::warning(
                        &d.at(r),
                        d.key(&format!("reminders[{i}]")),
                        "nhắc hạn rơi vào trước khi kỳ báo cáo bắt đầu; với những kỳ đó, nhắc hạn này được bỏ qua",
                    )
                    .quoted(r.get_ref())
                    .hint("chọn khoảng nhắc ngắn hơn độ dài kỳ"),
                );
            }
        }
    }
}
