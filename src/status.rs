//! Where a report stands at a given day: the status of one
//! (obligation, period, unit).
//!
//! Pure: the caller supplies the day, the planned dates and what the store
//! knows; this module only classifies. It never reads the clock, the
//! database or the configuration files.

use jiff::civil::Date;
use serde::Serialize;

use crate::calendar::WorkCalendar;

/// What the tracking store knows about one (obligation, period, unit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracking {
    /// Day the report arrived, if a (non-revoked) submission is recorded.
    pub submitted_on: Option<Date>,
    /// Document number (số văn bản) of that submission.
    pub reference: Option<String>,
    /// The unit is exempt for this period.
    pub waived: bool,
    /// A new due date granted to this unit for this period.
    pub extended_until: Option<Date>,
}

/// The planned dates of one (obligation, period, unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// First day of the period window: before it the report is `not_open`.
    pub opens: Date,
    /// The due day (deadline at 24:00 that day).
    pub due: Date,
    /// First day of the reminder window (the earliest reminder), if any.
    pub reminders_from: Option<Date>,
}

/// The state names used in `hanbao status --json` and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StateName {
    NotOpen,
    Open,
    DueSoon,
    Overdue,
    SubmittedOnTime,
    SubmittedLate,
    Waived,
    Extended,
}

impl StateName {
    pub fn as_str(self) -> &'static str {
        match self {
            StateName::NotOpen => "not_open",
            StateName::Open => "open",
            StateName::DueSoon => "due_soon",
            StateName::Overdue => "overdue",
            StateName::SubmittedOnTime => "submitted_on_time",
            StateName::SubmittedLate => "submitted_late",
            StateName::Waived => "waived",
            StateName::Extended => "extended",
        }
    }

    /// Vietnamese label for people.
    pub fn label_vi(self) -> &'static str {
        match self {
            StateName::NotOpen => "Chưa đến kỳ",
            StateName::Open => "Đang trong kỳ",
            StateName::DueSoon => "Sắp đến hạn",
            StateName::Overdue => "Quá hạn",
            StateName::SubmittedOnTime => "Đã nộp đúng hạn",
            StateName::SubmittedLate => "Nộp muộn",
            StateName::Waived => "Được miễn",
            StateName::Extended => "Được gia hạn",
        }
    }
}

/// The status of one (obligation, period, unit) on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub state: StateName,
    /// The due day in force (the extension's when one was granted).
    pub due: Date,
    pub submitted_on: Option<Date>,
    /// Calendar days late (overdue: so far; submitted late: at submission).
    pub days_late: Option<i32>,
    /// Working days late, counted like `days_late`.
    pub working_days_late: Option<i32>,
    /// Whether an extension moved the due day.
    pub extended: bool,
}

/// Classifies one (obligation, period, unit) on day `at`.
///
/// Order of precedence: waived, then submitted (on time or late against the
/// due day in force), then the open states against the due day in force. An
/// extension that has not yet been overtaken shows as `extended`; once its new
/// due day passes, the ordinary states apply against it.
pub fn classify(at: Date, schedule: &Schedule, tracking: &Tracking, cal: &WorkCalendar) -> Status {
    let due = tracking.extended_until.unwrap_or(schedule.due);
    let extended = tracking.extended_until.is_some();
    let mut status = Status {
        state: StateName::Open,
        due,
        submitted_on: tracking.submitted_on,
        days_late: None,
        working_days_late: None,
        extended,
    };
    if tracking.waived {
        status.state = StateName::Waived;
        return status;
    }
    if let Some(on) = tracking.submitted_on {
        if on <= due {
            status.state = StateName::SubmittedOnTime;
        } else {
            status.state = StateName::SubmittedLate;
            status.days_late = Some(days_between(due, on));
            status.working_days_late = Some(working_days_between(cal, due, on));
        }
        return status;
    }
    if at > due {
        status.state = StateName::Overdue;
        status.days_late = Some(days_between(due, at));
        status.working_days_late = Some(working_days_between(cal, due, at));
    } else if extended {
        status.state = StateName::Extended;
    } else if at < schedule.opens {
        status.state = StateName::NotOpen;
    } else if schedule.reminders_from.is_some_and(|r| at >= r) {
        status.state = StateName::DueSoon;
    } else {
        status.state = StateName::Open;
    }
    status
}

/// Calendar days from `from` to `to` (positive when `to` is later).
fn days_between(from: Date, to: Date) -> i32 {
    from.until(to).map(|span| span.get_days()).unwrap_or(0)
}

/// Working days in `(from, to]`.
fn working_days_between(cal: &WorkCalendar, from: Date, to: Date) -> i32 {
    let mut n = 0;
    let mut d = from;
    while d < to {
        d = d.tomorrow().expect("date in range");
        if cal.is_working_day(d) {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::CalendarSettings;
    use jiff::civil::date;

    fn cal() -> WorkCalendar {
        WorkCalendar::new(&CalendarSettings::default())
    }

    /// H1 2026 with the Decree 09 window (15/12/2025–14/6/2026), due Sat
    /// 20/6/2026 rolled to Mon 22/6, first reminder Mon 15/6.
    fn h1() -> Schedule {
        Schedule {
            opens: date(2025, 12, 15),
            due: date(2026, 6, 22),
            reminders_from: Some(date(2026, 6, 15)),
        }
    }

    /// (day, tracking, expected state, days late, working days late)
    type Case = (Date, Tracking, StateName, Option<i32>, Option<i32>);

    #[test]
    fn states_through_a_season() {
        // (day, tracking, expected state, days late, working days late)
        // Working days late checked on a wall calendar: 23/6 Tue is the
        // first day late; 30/6 Tue is 8 days and 6 working days late.
        let sub = |y, m, d| Tracking {
            submitted_on: Some(date(y, m, d)),
            ..Tracking::default()
        };
        let none = Tracking::default();
        let cases: Vec<Case> = vec![
            (
                date(2025, 12, 14),
                none.clone(),
                StateName::NotOpen,
                None,
                None,
            ),
            (
                date(2025, 12, 15),
                none.clone(),
                StateName::Open,
                None,
                None,
            ),
            (date(2026, 6, 14), none.clone(), StateName::Open, None, None),
            (
                date(2026, 6, 15),
                none.clone(),
                StateName::DueSoon,
                None,
                None,
            ),
            (
                date(2026, 6, 22),
                none.clone(),
                StateName::DueSoon,
                None,
                None,
            ),
            (
                date(2026, 6, 23),
                none.clone(),
                StateName::Overdue,
                Some(1),
                Some(1),
            ),
            (
                date(2026, 6, 30),
                none.clone(),
                StateName::Overdue,
                Some(8),
                Some(6),
            ),
            (
                date(2026, 6, 30),
                sub(2026, 6, 22),
                StateName::SubmittedOnTime,
                None,
                None,
            ),
            (
                date(2026, 6, 30),
                sub(2026, 6, 1),
                StateName::SubmittedOnTime,
                None,
                None,
            ),
            (
                date(2026, 6, 30),
                sub(2026, 6, 29),
                StateName::SubmittedLate,
                Some(7),
                Some(5),
            ),
            (
                date(2026, 6, 30),
                Tracking {
                    waived: true,
                    ..none.clone()
                },
                StateName::Waived,
                None,
                None,
            ),
        ];
        for (at, tracking, state, days, wdays) in cases {
            let s = classify(at, &h1(), &tracking, &cal());
            assert_eq!(
                (s.state, s.days_late, s.working_days_late),
                (state, days, wdays),
                "at {at} with {tracking:?}"
            );
        }
    }

    #[test]
    fn extension_then_the_ordinary_states_against_it() {
        let t = Tracking {
            extended_until: Some(date(2026, 7, 3)),
            ..Tracking::default()
        };
        let s = classify(date(2026, 6, 25), &h1(), &t, &cal());
        assert_eq!(
            (s.state, s.due, s.extended),
            (StateName::Extended, date(2026, 7, 3), true)
        );
        // Sat 4/7 is the first day late; Mon 6/7 is 3 days, 1 working day late.
        let s = classify(date(2026, 7, 6), &h1(), &t, &cal());
        assert_eq!(
            (s.state, s.days_late, s.working_days_late),
            (StateName::Overdue, Some(3), Some(1))
        );
        let t = Tracking {
            submitted_on: Some(date(2026, 7, 2)),
            ..t
        };
        let s = classify(date(2026, 7, 6), &h1(), &t, &cal());
        assert_eq!(s.state, StateName::SubmittedOnTime);
    }
}
