//! When a message may go out: sending hours on working days, and the
//! backoff between attempts.
//!
//! Pure: `now` is an argument; no IO, no clock.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::calendar::WorkCalendar;
use crate::config::model::SendingHours;

/// First retry delay; doubles with every attempt.
pub const BACKOFF_BASE: SignedDuration = SignedDuration::from_secs(60);
/// The longest delay between two attempts.
pub const BACKOFF_MAX: SignedDuration = SignedDuration::from_secs(6 * 3600);

/// The sending window of a working day, as instants.
fn window(tz: &TimeZone, hours: SendingHours, day: Date) -> (Timestamp, Timestamp) {
    let at = |t| {
        tz.to_timestamp(day.to_datetime(t))
            .unwrap_or(Timestamp::MAX)
    };
    (at(hours.start), at(hours.end))
}

/// Whether `t` lies inside the sending hours of a working day.
pub fn in_sending_hours(
    t: Timestamp,
    tz: &TimeZone,
    hours: SendingHours,
    cal: &WorkCalendar,
) -> bool {
    let day = tz.to_datetime(t).date();
    let (start, end) = window(tz, hours, day);
    cal.covers(day) && cal.is_working_day(day) && start <= t && t < end
}

/// `t` itself if it is inside the sending hours of a working day, otherwise
/// the start of the next sending window.
pub fn next_sending_instant(
    t: Timestamp,
    tz: &TimeZone,
    hours: SendingHours,
    cal: &WorkCalendar,
) -> Timestamp {
    let mut day = tz.to_datetime(t).date();
    // Past the calendar's range there are no working days to find.
    if !cal.covers(day) {
        return t;
    }
    let (start, end) = window(tz, hours, day);
    if cal.is_working_day(day) {
        if t < start {
            return start;
        }
        if t < end {
            return t;
        }
    }
    match day.tomorrow() {
        Ok(next) if cal.covers(next) => day = cal.on_or_after(next),
        _ => return t,
    }
    window(tz, hours, day).0
}

/// The delay before attempt `attempts + 1` after `attempts` failed ones:
/// 1, 2, 4, ... minutes, at most [`BACKOFF_MAX`].
pub fn backoff(attempts: u32) -> SignedDuration {
    let exp = attempts.saturating_sub(1).min(20);
    let secs = BACKOFF_BASE.as_secs().saturating_mul(1_i64 << exp);
    SignedDuration::from_secs(secs.min(BACKOFF_MAX.as_secs()))
}

/// When to try again after `attempts` failed attempts at `now`: the backoff,
/// then moved into the next sending window.
pub fn retry_at(
    now: Timestamp,
    attempts: u32,
    tz: &TimeZone,
    hours: SendingHours,
    cal: &WorkCalendar,
) -> Timestamp {
    let t = now.checked_add(backoff(attempts)).unwrap_or(Timestamp::MAX);
    next_sending_instant(t, tz, hours, cal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::CalendarSettings;
    use jiff::civil::{Time, date};

    fn vn() -> TimeZone {
        TimeZone::get("Asia/Ho_Chi_Minh").unwrap()
    }

    fn hours() -> SendingHours {
        SendingHours {
            start: Time::constant(7, 30, 0, 0),
            end: Time::constant(11, 0, 0, 0),
        }
    }

    fn local(y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
        vn().to_timestamp(date(y, m, d).at(h, min, 0, 0)).unwrap()
    }

    /// Checked by hand against a 2026 wall calendar: 19/6/2026 is a Friday,
    /// 20-21/6 the weekend; 2/9/2026 (Wednesday) is National Day and 1/9
    /// (Tuesday) its adjacent day off (the calendar module's rule for 2026).
    #[test]
    fn next_sending_instant_table() {
        let cal = WorkCalendar::new(&CalendarSettings::default());
        let cases = [
            // inside the window: unchanged
            (local(2026, 6, 19, 8, 0), local(2026, 6, 19, 8, 0)),
            // before the window on a working day: that day's start
            (local(2026, 6, 19, 6, 0), local(2026, 6, 19, 7, 30)),
            // the end is exclusive; Friday after hours -> Monday 22/6
            (local(2026, 6, 19, 11, 0), local(2026, 6, 22, 7, 30)),
            // Saturday -> Monday
            (local(2026, 6, 20, 9, 0), local(2026, 6, 22, 7, 30)),
        ];
        for (t, want) in cases {
            assert_eq!(next_sending_instant(t, &vn(), hours(), &cal), want, "{t}");
        }
        // Monday 31/8 after hours: 1/9 and 2/9 are days off, so Thursday 3/9.
        let cal_days = (
            cal.is_working_day(date(2026, 9, 1)),
            cal.is_working_day(date(2026, 9, 2)),
        );
        assert_eq!(cal_days, (false, false));
        assert_eq!(
            next_sending_instant(local(2026, 8, 31, 12, 0), &vn(), hours(), &cal),
            local(2026, 9, 3, 7, 30)
        );
        assert!(in_sending_hours(
            local(2026, 6, 19, 10, 59),
            &vn(),
            hours(),
            &cal
        ));
        assert!(!in_sending_hours(
            local(2026, 6, 20, 9, 0),
            &vn(),
            hours(),
            &cal
        ));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mins: Vec<i64> = (1..=11).map(|a| backoff(a).as_secs() / 60).collect();
        assert_eq!(mins, [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360]);
        assert_eq!(backoff(u32::MAX).as_secs(), 6 * 3600);
        // A retry computed at 10:58 Friday lands inside Friday's window
        // (1 minute later); the 4th attempt's 8 minutes go past 11:00 and
        // move to Monday.
        let cal = WorkCalendar::new(&CalendarSettings::default());
        let t = local(2026, 6, 19, 10, 58);
        assert_eq!(
            retry_at(t, 1, &vn(), hours(), &cal),
            local(2026, 6, 19, 10, 59)
        );
        assert_eq!(
            retry_at(t, 4, &vn(), hours(), &cal),
            local(2026, 6, 22, 7, 30)
        );
    }
}
