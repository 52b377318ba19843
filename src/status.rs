//! Where a report stands at a given day: the status of one
//! (obligation, period, unit).
//!
//! Pure: the caller supplies the day, the planned dates and what the store
//! knows; this module only classifies. It never reads the clock, the
//! database or the configuration files.

use jiff::civil::{Date, Time};
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
    /// The due day (deadline at 24:00 that day, or at `due_time`).
    pub due: Date,
    /// The deadline's time of day on the due day (and on an extension's
    /// day); `None`: 24:00.
    pub due_time: Option<Time>,
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
    /// Overdue, when the moment has a time of day: whole hours since the
    /// deadline instant (24:00 of the due day, or its time of day), so a
    /// daily report reads "quá hạn 5 giờ" on the day it fell due.
    pub hours_late: Option<i32>,
    /// Whether an extension moved the due day.
    pub extended: bool,
}

impl Status {
    /// How late an overdue report is within its first day late, in words:
    /// "quá hạn 5 giờ" when the hours are known (a status of "now"), "quá
    /// giờ hạn hôm nay" when not or under an hour; `None` for any other
    /// state and from the second day late on (days late then). The CLI
    /// matrix and the dashboard both word it so.
    pub fn late_within_day_vi(&self) -> Option<String> {
        if !self.within_first_day_late() {
            return None;
        }
        Some(match self.hours_late {
            Some(h) if h > 0 => format!("quá hạn {h} giờ"),
            _ => "quá giờ hạn hôm nay".into(),
        })
    }

    /// How long an overdue report has been late, for "lâu nhất ...": "5
    /// giờ" (or "dưới 1 giờ") within the first day late when the hours are
    /// known, else "N ngày".
    pub fn time_late_vi(&self) -> String {
        match self.hours_late {
            Some(h) if self.within_first_day_late() && h > 0 => format!("{h} giờ"),
            Some(_) if self.within_first_day_late() => "dưới 1 giờ".into(),
            _ => format!("{} ngày", self.days_late.unwrap_or(0)),
        }
    }

    /// The order of lateness among overdue reports: days, then hours.
    pub fn lateness(&self) -> (i32, i32) {
        (self.days_late.unwrap_or(0), self.hours_late.unwrap_or(0))
    }

    fn within_first_day_late(&self) -> bool {
        self.state == StateName::Overdue
            && (self.days_late == Some(0) || self.hours_late.is_some_and(|h| h < 24))
    }
}

/// When a status is asked for: a day, and the local time of day when it is
/// "now" (a deadline with a time of day passes during its due day). A bare
/// day (`From<Date>`, e.g. `status --at`) is its beginning: a deadline on
/// that day has not passed yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub day: Date,
    pub time: Option<Time>,
}

impl From<Date> for Moment {
    fn from(day: Date) -> Moment {
        Moment { day, time: None }
    }
}

impl Moment {
    /// The local day and time of `now` in `tz`.
    pub fn local(now: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> Moment {
        let dt = tz.to_datetime(now);
        Moment {
            day: dt.date(),
            time: Some(dt.time()),
        }
    }
}

/// Classifies one (obligation, period, unit) at `at`.
///
/// Order of precedence: waived, then submitted (on time or late against the
/// due day in force), then the open states against the due day in force. An
/// extension that has not yet been overtaken shows as `extended`; once its new
/// due day passes, the ordinary states apply against it.
///
/// With a time of day on the deadline, the report is overdue from that time
/// on the due day (0 days late); a submission is recorded by day only, so
/// one received on the due day counts as on time.
pub fn classify(
    at: impl Into<Moment>,
    schedule: &Schedule,
    tracking: &Tracking,
    cal: &WorkCalendar,
) -> Status {
    let Moment { day: at, time } = at.into();
    let due = tracking.extended_until.unwrap_or(schedule.due);
    let past_the_hour = at == due
        && schedule
            .due_time
            .is_some_and(|t| time.is_some_and(|now| now >= t));
    let extended = tracking.extended_until.is_some();
    let mut status = Status {
        state: StateName::Open,
        due,
        submitted_on: tracking.submitted_on,
        days_late: None,
        working_days_late: None,
        hours_late: None,
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
    if at > due || past_the_hour {
        status.state = StateName::Overdue;
        status.days_late = Some(days_between(due, at));
        status.working_days_late = Some(working_days_between(cal, due, at));
        status.hours_late = time.map(|now| {
            let deadline = schedule.due_time.map_or(24 * 60, |t| {
                i32::from(t.hour()) * 60 + i32::from(t.minute())
            });
            let now = i32::from(now.hour()) * 60 + i32::from(now.minute());
            (days_between(due, at) * 24 * 60 + now - deadline).max(0) / 60
        });
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

/// Working days in `(from, to]`, in O(1) from the calendar's ranks (a
/// walk day by day was three quarters of the dashboard's time at national
/// scale: a year's daily periods, each counted up to today).
fn working_days_between(cal: &WorkCalendar, from: Date, to: Date) -> i32 {
    if from >= to {
        return 0;
    }
    let next = from.tomorrow().expect("date in range");
    i32::try_from(cal.working_days_between(next, to)).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::CalendarSettings;
    use jiff::civil::date;

    /// The lateness wording shared by `status --matrix`, its summary and
    /// the dashboard: hours within the first day late when known, days
    /// after; nothing for a report that is not overdue.
    #[test]
    fn lateness_in_words() {
        let overdue = |days: i32, hours: Option<i32>| Status {
            state: StateName::Overdue,
            due: date(2026, 2, 24),
            submitted_on: None,
            days_late: Some(days),
            working_days_late: Some(days),
            hours_late: hours,
            extended: false,
        };
        let words = |s: &Status| (s.late_within_day_vi(), s.time_late_vi());
        let w = |a: Option<&str>, b: &str| (a.map(str::to_owned), b.to_owned());
        // Due 10:00 today, at 15:00.
        assert_eq!(
            words(&overdue(0, Some(5))),
            w(Some("quá hạn 5 giờ"), "5 giờ")
        );
        assert_eq!(
            words(&overdue(0, Some(0))),
            w(Some("quá giờ hạn hôm nay"), "dưới 1 giờ")
        );
        // A bare day (`--at`): no hours.
        assert_eq!(
            words(&overdue(0, None)),
            w(Some("quá giờ hạn hôm nay"), "0 ngày")
        );
        // Due 24:00 yesterday, at 15:00 today; then the second day.
        assert_eq!(
            words(&overdue(1, Some(15))),
            w(Some("quá hạn 15 giờ"), "15 giờ")
        );
        assert_eq!(words(&overdue(1, None)), w(None, "1 ngày"));
        assert_eq!(words(&overdue(2, Some(39))), w(None, "2 ngày"));
        assert!(overdue(2, Some(39)).lateness() > overdue(1, Some(15)).lateness());
        let open = Status {
            state: StateName::Open,
            days_late: None,
            hours_late: None,
            ..overdue(0, None)
        };
        assert_eq!(open.late_within_day_vi(), None);
    }

    fn cal() -> WorkCalendar {
        WorkCalendar::new(&CalendarSettings::default())
    }

    /// Working days late from the calendar's ranks agree with a walk day by
    /// day, across weekends and Tết 2026 (16–20 February), either order.
    #[test]
    fn working_days_between_agrees_with_a_walk() {
        let cal = cal();
        let walk = |from: Date, to: Date| {
            let mut n = 0;
            let mut d = from;
            while d < to {
                d = d.tomorrow().unwrap();
                n += i32::from(cal.is_working_day(d));
            }
            n
        };
        let start = date(2026, 1, 25);
        let days: Vec<Date> = (0..60)
            .map(|i| start.checked_add(jiff::Span::new().days(i)).unwrap())
            .collect();
        for &from in &days {
            for &to in &days {
                assert_eq!(
                    working_days_between(&cal, from, to),
                    walk(from, to),
                    "{from} -> {to}"
                );
            }
        }
    }

    /// H1 2026 with the Decree 09 window (15/12/2025–14/6/2026), due Sat
    /// 20/6/2026 rolled to Mon 22/6, first reminder Mon 15/6.
    fn h1() -> Schedule {
        Schedule {
            opens: date(2025, 12, 15),
            due: date(2026, 6, 22),
            due_time: None,
            reminders_from: Some(date(2026, 6, 15)),
        }
    }

    /// A deadline at 14:00 on Mon 22/6/2026: overdue from 14:00 that day
    /// (0 days late), not before; a bare day is its beginning; an extension
    /// to Wed 24/6 keeps the hour; a submission that day is on time.
    #[test]
    fn a_deadline_with_a_time_of_day() {
        let s = Schedule {
            due_time: Some(Time::constant(14, 0, 0, 0)),
            ..h1()
        };
        let at = |d: Date, h: i8, m: i8| Moment {
            day: d,
            time: Some(Time::constant(h, m, 0, 0)),
        };
        let none = Tracking::default();
        let extended = Tracking {
            extended_until: Some(date(2026, 6, 24)),
            ..Tracking::default()
        };
        let on_due_day = Tracking {
            submitted_on: Some(date(2026, 6, 22)),
            ..Tracking::default()
        };
        let cases: Vec<(Moment, &Tracking, StateName, Option<i32>)> = vec![
            (
                at(date(2026, 6, 22), 13, 59),
                &none,
                StateName::DueSoon,
                None,
            ),
            (
                at(date(2026, 6, 22), 14, 0),
                &none,
                StateName::Overdue,
                Some(0),
            ),
            (date(2026, 6, 22).into(), &none, StateName::DueSoon, None),
            (
                at(date(2026, 6, 23), 8, 0),
                &none,
                StateName::Overdue,
                Some(1),
            ),
            (
                at(date(2026, 6, 22), 15, 0),
                &extended,
                StateName::Extended,
                None,
            ),
            (
                at(date(2026, 6, 24), 13, 0),
                &extended,
                StateName::Extended,
                None,
            ),
            (
                at(date(2026, 6, 24), 14, 30),
                &extended,
                StateName::Overdue,
                Some(0),
            ),
            (
                at(date(2026, 6, 22), 16, 0),
                &on_due_day,
                StateName::SubmittedOnTime,
                None,
            ),
        ];
        for (moment, tracking, state, late) in cases {
            let st = classify(moment, &s, tracking, &cal());
            assert_eq!(
                (st.state, st.days_late),
                (state, late),
                "{moment:?} {tracking:?}"
            );
        }
        // Without a time of day, 23:59 on the due day is still in time.
        let st = classify(at(date(2026, 6, 22), 23, 59), &h1(), &none, &cal());
        assert_eq!(st.state, StateName::DueSoon);
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
