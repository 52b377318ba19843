//! The Vietnamese working-day calendar.
//!
//! Pure: no IO, never reads the clock. [`WorkCalendar::new`] builds, once,
//! a dense per-day table for 1900–2100 from the statutory holidays, the
//! compensatory days, the shipped official schedules (`holidays.rs`,
//! `official.toml`) and the administrator's `[calendar]` settings. Every
//! question after that is answered from the table in O(1): a prefix count
//! of working days and the list of working-day indices, extended past
//! both ends by closed-form counts of plain Monday–Friday weeks.
//!
//! Precedence for a day: administrator overrides (`extra_days_off`,
//! `extra_working_days`) win; then holidays, compensatory and official days
//! off; then official make-up working days (which count for deadlines only
//! when `makeup_saturday_counts` is set); then Monday–Friday.
//!
//! Outside 1900–2100 there are no holiday data: the calendar answers with
//! plain Monday–Friday weeks there (administrator overrides outside the
//! range are ignored), and arithmetic that leaves jiff's date range
//! saturates at `Date::MIN`/`Date::MAX`. No method panics on any date.
//!
//! Submodules: `astro` (new moons, solar longitude), `lunar` (the lunisolar
//! calendar), `holidays` (per-year rules and data), `daynum` (day numbers).

pub mod astro;
pub mod daynum;
pub mod holidays;
pub mod lunar;

use jiff::civil::Date;

use crate::config::model::CalendarSettings;
pub use lunar::{LunarDate, lunar_to_solar, solar_to_lunar};

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
///
/// `working` is the day's status in the schedule: an official make-up
/// Saturday is `working: true` even when `makeup_saturday_counts` is off
/// (then [`WorkCalendar::is_working_day`] still says `false` for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialDay {
    pub date: Date,
    pub name: String,
    pub kind: HolidayKind,
    pub working: bool,
}

/// First and last year the calendar covers (those of the configuration).
pub use crate::config::model::{FIRST_YEAR, LAST_YEAR};

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("{0} is outside the calendar's range {FIRST_YEAR}–{LAST_YEAR}")]
    OutOfRange(Date),
    #[error("lunar year {year} is outside the calendar's range {FIRST_YEAR}–{LAST_YEAR}")]
    LunarOutOfRange { year: i32 },
    #[error("lunar year {year} has no {} month {month}", if *leap { "leap" } else { "regular" })]
    NoSuchLunarMonth { year: i32, month: u8, leap: bool },
    #[error("lunar month {month}{} of {year} has {days_in_month} days, not {day}", if *leap { " (leap)" } else { "" })]
    NoSuchLunarDay {
        year: i32,
        month: u8,
        day: u8,
        leap: bool,
        days_in_month: u8,
    },
    #[error("\"{0}\" is not a date of the form YYYY-MM-DD")]
    Unparsable(String),
}

/// Answers "is this a working day?" and the arithmetic built on it.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    settings: CalendarSettings,
    /// JDN of 1 January of `FIRST_YEAR` (table index 0).
    base: i32,
    /// `before[i]` = number of working days among table days `0..i`
    /// (`len + 1` entries; day `i` is a working day iff `before[i + 1] > before[i]`).
    before: Vec<u32>,
    /// Table indices of the working days, ascending.
    working_index: Vec<u32>,
    /// Every special day of the range, in date order.
    special: Vec<SpecialDay>,
}

impl WorkCalendar {
    pub fn new(settings: &CalendarSettings) -> WorkCalendar {
        let base = daynum::jdn_ymd(i32::from(FIRST_YEAR), 1, 1);
        let end = daynum::jdn_ymd(i32::from(LAST_YEAR), 12, 31) + 1;
        let len = (end - base) as usize;
        let in_range = |d: Date| {
            let n = daynum::jdn(d);
            (base..end).contains(&n).then(|| (n - base) as usize)
        };

        // Special days by the law and the official schedules, then the
        // administrator's overrides (which win), sorted by date, one per day.
        let mut special: Vec<SpecialDay> =
            Vec::with_capacity(usize::from((LAST_YEAR - FIRST_YEAR + 1) as u16) * 16);
        special.extend_from_slice(holidays::all_years(settings.culture_day));
        for (list, working) in [
            (&settings.extra_days_off, false),
            (&settings.extra_working_days, true),
        ] {
            special.extend(list.iter().map(|c| SpecialDay {
                date: c.date,
                name: c.reason.clone(),
                kind: HolidayKind::Configured,
                working,
            }));
        }
        special.retain(|s| in_range(s.date).is_some());
        // One entry per day: configured beats days off, which beat make-up
        // days; among configured entries of a day the last one written wins.
        let rank = |s: &SpecialDay| match (s.kind, s.working) {
            (HolidayKind::Configured, _) => 0,
            (_, false) => 1,
            (_, true) => 2,
        };
        special.sort_by(|a, b| a.date.cmp(&b.date).then(rank(a).cmp(&rank(b))));
        let mut deduped: Vec<SpecialDay> = Vec::with_capacity(special.len());
        for s in special {
            match deduped.last_mut() {
                Some(last) if last.date == s.date => {
                    if s.kind == HolidayKind::Configured && last.kind == HolidayKind::Configured {
                        *last = s;
                    }
                }
                _ => deduped.push(s),
            }
        }
        let special = deduped;

        // Working day for deadlines? Weekends first, by stepping weeks.
        let mut working = vec![true; len];
        let mut sat = (6 + 7 - usize::from(daynum::weekday0(base))) % 7;
        if sat == 6 {
            // The range starts on a Sunday.
            working[0] = false;
        }
        while sat < len {
            working[sat] = false;
            if sat + 1 < len {
                working[sat + 1] = false;
            }
            sat += 7;
        }
        for s in &special {
            if let Some(i) = in_range(s.date) {
                working[i] = match (s.kind, s.working) {
                    (HolidayKind::Configured, w) => w,
                    (_, true) => {
                        settings.makeup_saturday_counts || !daynum::is_weekend(base + i as i32)
                    }
                    (_, false) => false,
                };
            }
        }

        let mut before = vec![0u32; len + 1];
        let mut working_index = Vec::with_capacity(len * 5 / 7 + 1);
        let mut count = 0u32;
        for i in 0..len {
            before[i] = count;
            if working[i] {
                working_index.push(i as u32);
                count += 1;
            }
        }
        before[len] = count;
        WorkCalendar {
            settings: settings.clone(),
            base,
            before,
            working_index,
            special,
        }
    }

    /// The settings the calendar was built from.
    pub fn settings(&self) -> &CalendarSettings {
        &self.settings
    }

    /// Whether `d` lies in the table (1900–2100).
    pub fn covers(&self, d: Date) -> bool {
        self.index(d).is_some()
    }

    fn index(&self, d: Date) -> Option<usize> {
        let i = daynum::jdn(d) - self.base;
        (i >= 0 && (i as usize) < self.len()).then_some(i as usize)
    }

    /// Whether `d` is a working day for deadline purposes.
    pub fn is_working_day(&self, d: Date) -> bool {
        let n = daynum::jdn(d);
        self.rank(n + 1) > self.rank(n)
    }

    /// Number of working days strictly before day `n` (JDN), counted from
    /// the table's first day: negative before the table, where (as after
    /// it) plain Monday–Friday weeks are assumed. O(1).
    fn rank(&self, n: i32) -> i64 {
        let n = i64::from(n);
        let base = i64::from(self.base);
        let end = base + self.len() as i64;
        if n < base {
            weekdays_before(n) - weekdays_before(base)
        } else if n <= end {
            i64::from(self.before[(n - base) as usize])
        } else {
            i64::from(self.before[self.len()]) + weekdays_before(n) - weekdays_before(end)
        }
    }

    /// The working day with rank `r` (the inverse of [`Self::rank`]),
    /// saturating at jiff's date range.
    fn nth(&self, r: i64) -> Date {
        let base = i64::from(self.base);
        let total = i64::from(self.before[self.len()]);
        let n = if r < 0 {
            weekday_number(weekdays_before(base) + r)
        } else if r < total {
            base + i64::from(self.working_index[r as usize])
        } else {
            weekday_number(weekdays_before(base + self.len() as i64) + (r - total))
        };
        match i32::try_from(n).ok().and_then(daynum::date_of) {
            Some(d) => d,
            None if n < 0 => Date::MIN,
            None => Date::MAX,
        }
    }

    /// `d` if it is a working day, else the next working day.
    pub fn on_or_after(&self, d: Date) -> Date {
        self.nth(self.rank(daynum::jdn(d)))
    }

    /// `d` if it is a working day, else the previous working day.
    pub fn on_or_before(&self, d: Date) -> Date {
        self.nth(self.rank(daynum::jdn(d) + 1) - 1)
    }

    /// The `n`th working day after `d` (not counting `d`); `n = 0` is `d`.
    pub fn add_working_days(&self, d: Date, n: u32) -> Date {
        if n == 0 {
            return d;
        }
        self.nth(self.rank(daynum::jdn(d) + 1) + i64::from(n) - 1)
    }

    /// The `n`th working day before `d` (not counting `d`); `n = 0` is `d`.
    pub fn sub_working_days(&self, d: Date, n: u32) -> Date {
        if n == 0 {
            return d;
        }
        self.nth(self.rank(daynum::jdn(d)) - i64::from(n))
    }

    /// Number of working days in `from..=to` (0 when `to < from`).
    pub fn working_days_between(&self, from: Date, to: Date) -> u64 {
        if to < from {
            return 0;
        }
        (self.rank(daynum::jdn(to) + 1) - self.rank(daynum::jdn(from))) as u64
    }

    fn len(&self) -> usize {
        self.before.len() - 1
    }

    /// Every special day of `year`, in date order (empty outside 1900–2100).
    pub fn special_days(&self, year: i16) -> Vec<SpecialDay> {
        let lo = self.special.partition_point(|s| s.date.year() < year);
        let hi = self.special.partition_point(|s| s.date.year() <= year);
        self.special[lo..hi].to_vec()
    }

    /// The special day on `d`, if any.
    pub fn special_day(&self, d: Date) -> Option<&SpecialDay> {
        let i = self.special.partition_point(|s| s.date < d);
        self.special.get(i).filter(|s| s.date == d)
    }

    /// Passthrough to [`lunar::solar_to_lunar`].
    pub fn lunar(&self, d: Date) -> Result<LunarDate, CalendarError> {
        lunar::solar_to_lunar(d)
    }

    /// Passthrough to [`lunar::lunar_to_solar`].
    pub fn solar(&self, d: LunarDate) -> Result<Date, CalendarError> {
        lunar::lunar_to_solar(d)
    }
}

/// Number of Monday–Friday days with JDN in `0..n` (negative for `n < 0`).
/// JDN 0 is a Monday.
fn weekdays_before(n: i64) -> i64 {
    5 * n.div_euclid(7) + n.rem_euclid(7).min(5)
}

/// The JDN of the weekday with [`weekdays_before`] equal to `k`.
fn weekday_number(k: i64) -> i64 {
    7 * k.div_euclid(5) + k.rem_euclid(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_counting() {
        // JDN 0 is a Monday: 0..5 are Mon–Fri, 5 and 6 the weekend.
        assert_eq!(daynum::weekday0(0), 1);
        assert_eq!(
            (0..=7).map(weekdays_before).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5, 5, 5]
        );
        assert_eq!(weekdays_before(-1), 0); // JDN -1 is a Sunday
        assert_eq!(weekdays_before(-3), -1); // JDN -3 is a Friday
        for k in -30..30 {
            let n = weekday_number(k);
            assert!(!daynum::is_weekend(n as i32), "{k}");
            assert_eq!(weekdays_before(n), k);
        }
    }
}
