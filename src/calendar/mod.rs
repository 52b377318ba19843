//! The Vietnamese working-day calendar.
//!
//! Pure: no IO, never reads the clock. Built once from the built-in data and
//! the administrator's `[calendar]` settings, then answered from a dense
//! per-day table so that the planner can ask millions of questions cheaply.
//!
//! (Skeleton: weekends and configured days only; statutory holidays, the
//! lunar calendar and the official schedules land in submodules.)

use jiff::civil::{Date, Weekday};

use crate::config::model::CalendarSettings;

/// Why a day is special. Serialised in `hanbao calendar holidays --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HolidayKind {
    /// Labour Code 2019 Art. 112.
    Statutory,
    /// Art. 111.3: the next working day after a holiday on a weekly rest day.
    Compensatory,
    /// The civil-servant schedule announced for a year (days swapped, make-up Saturdays).
    Official,
    /// Declared by the administrator in `[calendar]`.
    Configured,
}

impl HolidayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HolidayKind::Statutory => "statutory",
            HolidayKind::Compensatory => "compensatory",
            HolidayKind::Official => "official",
            HolidayKind::Configured => "configured",
        }
    }
}

/// A day whose status differs from plain Monday–Friday, or that is a holiday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialDay {
    pub date: Date,
    pub name: String,
    pub kind: HolidayKind,
    pub working: bool,
}

/// First and last year the calendar covers.
pub const FIRST_YEAR: i16 = 1900;
pub const LAST_YEAR: i16 = 2100;

/// Answers "is this a working day?" and the arithmetic built on it.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    settings: CalendarSettings,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("{0} is outside the calendar's range {FIRST_YEAR}–{LAST_YEAR}")]
    OutOfRange(Date),
}

impl WorkCalendar {
    pub fn new(settings: &CalendarSettings) -> WorkCalendar {
        WorkCalendar {
            settings: settings.clone(),
        }
    }

    /// Whether `d` is a working day for deadline purposes.
    pub fn is_working_day(&self, d: Date) -> bool {
        if self.settings.extra_days_off.iter().any(|c| c.date == d) {
            return false;
        }
        if self.settings.extra_working_days.iter().any(|c| c.date == d) {
            return true;
        }
        !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// `d` if it is a working day, else the next working day.
    pub fn on_or_after(&self, d: Date) -> Date {
        let mut d = d;
        while !self.is_working_day(d) {
            d = d.tomorrow().expect("date in range");
        }
        d
    }

    /// `d` if it is a working day, else the previous working day.
    pub fn on_or_before(&self, d: Date) -> Date {
        let mut d = d;
        while !self.is_working_day(d) {
            d = d.yesterday().expect("date in range");
        }
        d
    }

    /// The `n`th working day after `d` (not counting `d`); `n = 0` is `d`.
    pub fn add_working_days(&self, d: Date, n: u32) -> Date {
        let mut d = d;
        for _ in 0..n {
            d = self.on_or_after(d.tomorrow().expect("date in range"));
        }
        d
    }

    /// The `n`th working day before `d` (not counting `d`); `n = 0` is `d`.
    pub fn sub_working_days(&self, d: Date, n: u32) -> Date {
        let mut d = d;
        for _ in 0..n {
            d = self.on_or_before(d.yesterday().expect("date in range"));
        }
        d
    }

    /// Every special day of `year`, in date order.
    pub fn special_days(&self, year: i16) -> Vec<SpecialDay> {
        let mut out: Vec<SpecialDay> = Vec::new();
        for c in &self.settings.extra_days_off {
            if c.date.year() == year {
                out.push(SpecialDay {
                    date: c.date,
                    name: c.reason.clone(),
                    kind: HolidayKind::Configured,
                    working: false,
                });
            }
        }
        for c in &self.settings.extra_working_days {
            if c.date.year() == year {
                out.push(SpecialDay {
                    date: c.date,
                    name: c.reason.clone(),
                    kind: HolidayKind::Configured,
                    working: true,
                });
            }
        }
        out.sort_by_key(|s| s.date);
        out
    }
}
