//! Due dates: from a period's window and the obligation's due rule to the
//! day a report is due, and from that day to the deadline instant.
//!
//! Pure: no IO, never reads the clock. Working days come only from the
//! [`WorkCalendar`] passed in.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use crate::calendar::WorkCalendar;
use crate::config::model::{DayUnit, DueRule, Obligation, Offset};
use crate::period::{PeriodKey, Window};

/// `d` plus `n` calendar days (negative `n` goes back), saturating at jiff's limits.
pub(crate) fn add_days(d: Date, n: i64) -> Date {
    match jiff::Span::new().try_days(n) {
        Ok(span) => d.saturating_add(span),
        Err(_) if n < 0 => Date::MIN,
        Err(_) => Date::MAX,
    }
}

/// `offset` after `d`: N days (Civil Code Art. 147: `d` itself is not
/// counted) or the Nth working day after `d`.
pub(crate) fn after(cal: &WorkCalendar, d: Date, offset: Offset) -> Date {
    match offset.unit {
        DayUnit::Days => add_days(d, i64::from(offset.amount)),
        DayUnit::WorkingDays => cal.add_working_days(d, offset.amount),
    }
}

/// `offset` before `d`: N days or the Nth working day before `d`.
pub(crate) fn before(cal: &WorkCalendar, d: Date, offset: Offset) -> Date {
    match offset.unit {
        DayUnit::Days => add_days(d, -i64::from(offset.amount)),
        DayUnit::WorkingDays => cal.sub_working_days(d, offset.amount),
    }
}

/// A generous upper bound, in calendar days, of how far `offset` reaches
/// (working days stretch over weekends and the Tết break). Used only to pick
/// candidate periods; exact dates are always computed afterwards.
pub(crate) fn reach(offset: Offset) -> i64 {
    let n = i64::from(offset.amount);
    match offset.unit {
        DayUnit::Days => n,
        DayUnit::WorkingDays => 2 * n + 30,
    }
}

/// The due day computed from the rule alone, before overrides and rolling.
fn rule_due_date(rule: DueRule, cal: &WorkCalendar, window: Window) -> Date {
    match rule {
        DueRule::After(offset) => after(cal, window.end, offset),
        DueRule::DayOfMonth { day, next_month } => {
            let (mut year, mut month) = (window.end.year(), window.end.month());
            if next_month {
                if month == 12 {
                    year += 1;
                    month = 1;
                } else {
                    month += 1;
                }
            }
            let first = Date::constant(year, month, 1);
            // Civil Code Art. 147: a missing day ends the month (31/6 -> 30/6).
            let day = (day.clamp(1, 31) as i8).min(first.days_in_month());
            Date::constant(year, month, day)
        }
    }
}

/// The day the report for `key` (with window `window`) of `obligation` is due:
/// the per-period override if there is one, else the rule; then, when the
/// obligation says so, moved to the next working day (Civil Code Art. 148.5).
pub fn due_date(
    obligation: &Obligation,
    cal: &WorkCalendar,
    key: &PeriodKey,
    window: Window,
) -> Date {
    let overridden = if obligation.overrides.is_empty() {
        None
    } else {
        obligation.overrides.get(key.to_string().as_str()).copied()
    };
    let day = overridden.unwrap_or_else(|| rule_due_date(obligation.due, cal, window));
    if obligation.roll_to_working_day {
        cal.on_or_after(day)
    } else {
        day
    }
}

/// The local instant `time` on `day` in `tz`.
pub(crate) fn local_instant(tz: &TimeZone, day: Date, time: Time) -> Timestamp {
    // Dates here lie within the calendar's years (1900–2100), where every
    // civil time maps to an instant; `compatible` resolves DST gaps/folds.
    tz.to_timestamp(day.to_datetime(time))
        .unwrap_or(Timestamp::MAX)
}

/// The deadline instant: 24:00 local on `due`, i.e. 00:00 of the next day
/// (Civil Code Art. 148.6). The unit is overdue from this instant on.
pub fn deadline_instant(tz: &TimeZone, due: Date) -> Timestamp {
    local_instant(tz, add_days(due, 1), Time::midnight())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::CalendarSettings;
    use jiff::civil::date;

    fn w(end: Date) -> Window {
        Window { start: end, end }
    }

    // Checked by hand with a printed calendar: 30/6/2026 is a Tuesday,
    // 14/6/2026 a Sunday, 28/2/2027 a Sunday; 2028 is a leap year.
    #[test]
    fn rule_table() {
        let cal = WorkCalendar::new(&CalendarSettings::default());
        let days = |n| {
            DueRule::After(Offset {
                amount: n,
                unit: DayUnit::Days,
            })
        };
        let wdays = |n| {
            DueRule::After(Offset {
                amount: n,
                unit: DayUnit::WorkingDays,
            })
        };
        let dom = |day, next_month| DueRule::DayOfMonth { day, next_month };
        let cases = [
            (days(0), date(2026, 6, 30), date(2026, 6, 30)),
            (days(10), date(2026, 6, 30), date(2026, 7, 10)),
            (days(5), date(2026, 12, 31), date(2027, 1, 5)),
            // Tue 30/6 + 5 working days: Wed 1, Thu 2, Fri 3, Mon 6, Tue 7.
            (wdays(5), date(2026, 6, 30), date(2026, 7, 7)),
            // Sun 14/6 + 2 working days: Mon 15, Tue 16.
            (wdays(2), date(2026, 6, 14), date(2026, 6, 16)),
            (dom(20, false), date(2026, 6, 14), date(2026, 6, 20)),
            (dom(31, false), date(2026, 6, 30), date(2026, 6, 30)),
            (dom(31, true), date(2026, 6, 30), date(2026, 7, 31)),
            (dom(29, true), date(2027, 1, 31), date(2027, 2, 28)),
            (dom(29, true), date(2028, 1, 31), date(2028, 2, 29)),
            (dom(10, true), date(2026, 12, 31), date(2027, 1, 10)),
            (dom(200, false), date(2026, 4, 30), date(2026, 4, 30)),
            (dom(0, false), date(2026, 4, 30), date(2026, 4, 1)),
        ];
        for (rule, end, want) in cases {
            assert_eq!(
                rule_due_date(rule, &cal, w(end)),
                want,
                "{rule:?} after {end}"
            );
        }
    }

    #[test]
    fn deadline_is_midnight_after_due_day() {
        let tz = TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        let ts = deadline_instant(&tz, date(2026, 6, 19));
        // 00:00 on 20/6 at UTC+7 is 17:00 UTC on 19/6.
        assert_eq!(ts.to_string(), "2026-06-19T17:00:00Z");
    }
}
