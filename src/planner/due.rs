//! Due dates: from a period's window and the obligation's due rule to the
//! day a report is due, and from that day to the deadline instant.
//!
//! Pure: no IO, never reads the clock. Working days come only from the
//! [`WorkCalendar`] passed in.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use crate::calendar::WorkCalendar;
use crate::config::model::{DayUnit, DueRule, Obligation, Offset, TierBase};
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
        // Hours count from the deadline instant, not from a day: callers
        // handle them (`events`); here, the whole days they span.
        DayUnit::Hours => add_days(d, i64::from(offset.amount.div_ceil(24))),
    }
}

/// `offset` before `d`: N days or the Nth working day before `d`.
pub(crate) fn before(cal: &WorkCalendar, d: Date, offset: Offset) -> Date {
    match offset.unit {
        DayUnit::Days => add_days(d, -i64::from(offset.amount)),
        DayUnit::WorkingDays => cal.sub_working_days(d, offset.amount),
        DayUnit::Hours => add_days(d, -i64::from(offset.amount.div_ceil(24))),
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
        // Moved to a working day's sending hours: past a Tết break.
        DayUnit::Hours => n / 24 + 30,
    }
}

/// `(year, month)` plus `n` months.
fn month_plus(year: i16, month: i8, n: i8) -> (i16, i8) {
    let m0 = i32::from(month) - 1 + i32::from(n);
    (
        year + m0.div_euclid(12) as i16,
        (m0.rem_euclid(12) + 1) as i8,
    )
}

/// Day `day` of `month` of `year`, clamped to the month's last day
/// (Civil Code Art. 147: a missing day ends the month, 31/6 -> 30/6).
fn clamped(year: i16, month: i8, day: u8) -> Date {
    let first = Date::new(year, month, 1).unwrap_or(Date::MAX);
    let day = (day.clamp(1, 31) as i8).min(first.days_in_month());
    Date::new(year, month, day).unwrap_or(first)
}

/// The due day computed from the rule alone, before overrides and rolling.
fn rule_due_date(rule: DueRule, cal: &WorkCalendar, window: Window) -> Date {
    let end = window.end;
    match rule {
        DueRule::After(offset) => after(cal, end, offset),
        DueRule::DayOfMonth { day, next_month } => {
            let (year, month) = month_plus(end.year(), end.month(), i8::from(next_month));
            clamped(year, month, day)
        }
        DueRule::DayOfNextQuarter { day } => {
            let first_of_quarter = (end.month() - 1) / 3 * 3 + 1;
            let (year, month) = month_plus(end.year(), first_of_quarter, 3);
            clamped(year, month, day)
        }
        DueRule::DayMonth { day, month } => {
            // The occurrence nearest the window's end; on a tie, the later one.
            let month = month.clamp(1, 12) as i8;
            (end.year() - 1..=end.year() + 1)
                .map(|y| clamped(y, month, day))
                .min_by_key(|d| ((*d - end).get_days().abs(), std::cmp::Reverse(*d)))
                .unwrap_or(end)
        }
        // Without its first tier (never after validation): from the end.
        DueRule::AfterDue(offset) => after(cal, end, offset),
        DueRule::Weekday { weekday, next_week } => {
            let monday = add_days(end, -i64::from(end.weekday().to_monday_zero_offset()));
            let offset = i64::from(weekday.to_monday_zero_offset()) + 7 * i64::from(next_week);
            add_days(monday, offset)
        }
    }
}

/// The day the report for `key` (with window `window`) of `obligation` is due:
/// the per-period override if there is one, else the rule (the day before
/// it for "trước ngày X", `Obligation::due_exclusive`); then, when the
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
    let day = overridden.unwrap_or_else(|| {
        let day = match (obligation.due, &obligation.due_after) {
            (
                DueRule::AfterDue(offset),
                Some(TierBase {
                    obligation: Some(base),
                    ..
                }),
            ) => {
                // The first tier's own window of the same key (its window
                // style may differ), its due day, then the offset.
                let base_window =
                    crate::planner::period::period_of_key(base, key).map_or(window, |p| p.window);
                after(cal, due_date(base, cal, key, base_window), offset)
            }
            (rule, _) => rule_due_date(rule, cal, window),
        };
        if obligation.due_exclusive {
            add_days(day, -1)
        } else {
            day
        }
    });
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

/// The deadline instant of `obligation` for due day `due`: its time of day
/// on that day when the rule gives one ("chậm nhất 14 giờ"), else 24:00 as
/// in [`deadline_instant`].
pub fn deadline_of(tz: &TimeZone, obligation: &Obligation, due: Date) -> Timestamp {
    deadline_at(tz, due, obligation.due_time)
}

/// The deadline as a local civil time: `time` on `due`, or 00:00 of the
/// next day (24:00 of `due`).
pub(crate) fn deadline_civil(due: Date, time: Option<Time>) -> jiff::civil::DateTime {
    match time {
        Some(t) => due.to_datetime(t),
        None => add_days(due, 1).to_datetime(Time::midnight()),
    }
}

/// `time` on `due`, or 24:00 of `due` when `time` is `None`.
pub fn deadline_at(tz: &TimeZone, due: Date, time: Option<Time>) -> Timestamp {
    match time {
        Some(t) => local_instant(tz, due, t),
        None => deadline_instant(tz, due),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::CalendarSettings;
    use jiff::civil::{Weekday, date};

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
        let q = |day| DueRule::DayOfNextQuarter { day };
        let dm = |day, month| DueRule::DayMonth { day, month };
        let wk = |weekday, next_week| DueRule::Weekday { weekday, next_week };
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
            // Day 15 of the first month of the next quarter.
            (q(15), date(2026, 3, 31), date(2026, 4, 15)),
            (q(15), date(2026, 2, 28), date(2026, 4, 15)),
            (q(15), date(2026, 12, 31), date(2027, 1, 15)),
            (q(15), date(2026, 11, 30), date(2027, 1, 15)),
            (q(31), date(2026, 6, 30), date(2026, 7, 31)),
            (q(31), date(2026, 12, 14), date(2027, 1, 31)),
            // A day-month nearest the end, before or after it.
            (dm(25, 11), date(2026, 12, 31), date(2026, 11, 25)),
            (dm(25, 11), date(2026, 12, 14), date(2026, 11, 25)),
            (dm(20, 1), date(2026, 12, 31), date(2027, 1, 20)),
            (dm(5, 6), date(2026, 6, 30), date(2026, 6, 5)),
            (dm(15, 9), date(2026, 9, 30), date(2026, 9, 15)),
            (dm(5, 1), date(2026, 9, 30), date(2027, 1, 5)),
            // 29/02: 28/02/2027 in a common year, 29/02/2028 in a leap year.
            (dm(29, 2), date(2026, 12, 31), date(2027, 2, 28)),
            (dm(29, 2), date(2027, 12, 31), date(2028, 2, 29)),
            // Weekdays of the ISO week holding the end (Sun 7/6/2026, week 23).
            (
                wk(Weekday::Thursday, false),
                date(2026, 6, 7),
                date(2026, 6, 4),
            ),
            (
                wk(Weekday::Monday, false),
                date(2026, 6, 7),
                date(2026, 6, 1),
            ),
            (
                wk(Weekday::Sunday, false),
                date(2026, 6, 7),
                date(2026, 6, 7),
            ),
            (
                wk(Weekday::Monday, true),
                date(2026, 6, 7),
                date(2026, 6, 8),
            ),
            (
                wk(Weekday::Friday, true),
                date(2026, 6, 7),
                date(2026, 6, 12),
            ),
            // Week 53 of 2026 ends Sun 3/1/2027: its Thursday is 31/12/2026.
            (
                wk(Weekday::Thursday, false),
                date(2027, 1, 3),
                date(2026, 12, 31),
            ),
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
    fn deadline_with_a_time_of_day() {
        let tz = TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        // 14:00 on 19/6 at UTC+7 is 07:00 UTC.
        let ts = deadline_at(&tz, date(2026, 6, 19), Some(Time::constant(14, 0, 0, 0)));
        assert_eq!(ts.to_string(), "2026-06-19T07:00:00Z");
        assert_eq!(
            deadline_at(&tz, date(2026, 6, 19), None),
            deadline_instant(&tz, date(2026, 6, 19))
        );
    }

    #[test]
    fn deadline_is_midnight_after_due_day() {
        let tz = TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        let ts = deadline_instant(&tz, date(2026, 6, 19));
        // 00:00 on 20/6 at UTC+7 is 17:00 UTC on 19/6.
        assert_eq!(ts.to_string(), "2026-06-19T17:00:00Z");
    }
}
