//! The Vietnamese working-day calendar.
//!
//! Pure: no IO, never reads the clock. [`WorkCalendar::new`] builds, once,
//! a dense per-day table for 1900–2100 from the statutory holidays, the
//! compensatory days, the shipped official schedules (`holidays.rs`,
//! `official.toml`) and the administrator's `[calendar]` settings. Every
//! question after that is answered from the table in O(1): a prefix count
//! of working days and the list of working-day indices.
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

/// First and last year the calendar covers.
pub const FIRST_YEAR: i16 = 1900;
pub const LAST_YEAR: i16 = 2100;

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
    #[error("{year}-{month:02}-{day:02} is not a valid date")]
    InvalidDate { year: i32, month: u8, day: u8 },
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
        for year in FIRST_YEAR..=LAST_YEAR {
            special.extend(holidays::year_days(year, settings));
        }
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

        // 1 = working day for deadlines. Weekends first, by stepping weeks.
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

    fn date_at(&self, i: usize) -> Date {
        // Indices come from the table, whose dates are all valid.
        daynum::date_of(self.base + i as i32).unwrap_or(Date::MAX)
    }

    /// Whether `d` is a working day for deadline purposes.
    pub fn is_working_day(&self, d: Date) -> bool {
        match self.index(d) {
            Some(i) => self.before[i + 1] > self.before[i],
            None => !daynum::is_weekend(daynum::jdn(d)),
        }
    }

    /// `d` if it is a working day, else the next working day.
    pub fn on_or_after(&self, d: Date) -> Date {
        match self.index(d) {
            Some(i) => match self.working_index.get(self.before[i] as usize) {
                Some(&j) => self.date_at(j as usize),
                None => {
                    plain_on_or_after(self.date_at(self.len() - 1).tomorrow().unwrap_or(Date::MAX))
                }
            },
            None if d < self.first_day() => {
                let p = plain_on_or_after(d);
                if self.covers(p) {
                    self.on_or_after(p)
                } else {
                    p
                }
            }
            None => plain_on_or_after(d),
        }
    }

    /// `d` if it is a working day, else the previous working day.
    pub fn on_or_before(&self, d: Date) -> Date {
        match self.index(d) {
            Some(i) => match (self.before[i + 1] as usize).checked_sub(1) {
                Some(r) => self.date_at(self.working_index[r] as usize),
                None => plain_on_or_before(self.first_day().yesterday().unwrap_or(Date::MIN)),
            },
            None if d > self.first_day() => {
                let p = plain_on_or_before(d);
                if self.covers(p) {
                    self.on_or_before(p)
                } else {
                    p
                }
            }
            None => plain_on_or_before(d),
        }
    }

    fn len(&self) -> usize {
        self.before.len() - 1
    }

    fn first_day(&self) -> Date {
        self.date_at(0)
    }

    /// The `n`th working day after `d` (not counting `d`); `n = 0` is `d`.
    pub fn add_working_days(&self, d: Date, n: u32) -> Date {
        if n == 0 {
            return d;
        }
        let total = self.working_index.len() as u64;
        match self.index(d) {
            Some(i) => {
                // Working days up to and including d, plus n.
                let rank = u64::from(self.before[i + 1]) + u64::from(n);
                if rank <= total {
                    self.date_at(self.working_index[(rank - 1) as usize] as usize)
                } else {
                    let last = self.date_at(self.len() - 1);
                    plain_add(last, rank - total)
                }
            }
            None if d < self.first_day() => {
                // Count plain weekdays up to the table, then continue in it.
                let mut d = d;
                let mut n = u64::from(n);
                while n > 0 {
                    if self.covers(d) {
                        return self.add_working_days(d, n.min(u64::from(u32::MAX)) as u32);
                    }
                    let next = plain_add(d, 1);
                    if next == d {
                        return d;
                    }
                    d = next;
                    n -= 1;
                    if n > 0 && d < self.first_day() {
                        // Jump whole weeks while far from the table.
                        let gap = i64::from(daynum::jdn(self.first_day()) - daynum::jdn(d));
                        let weeks = (gap / 7 - 1).max(0).min((n / 5) as i64);
                        if weeks > 0 {
                            d = shift_days(d, weeks * 7);
                            n -= (weeks * 5) as u64;
                        }
                    }
                }
                d
            }
            None => plain_add(d, u64::from(n)),
        }
    }

    /// The `n`th working day before `d` (not counting `d`); `n = 0` is `d`.
    pub fn sub_working_days(&self, d: Date, n: u32) -> Date {
        if n == 0 {
            return d;
        }
        match self.index(d) {
            Some(i) => {
                // Working days strictly before d.
                let rank = u64::from(self.before[i]);
                let n = u64::from(n);
                if n <= rank {
                    self.date_at(self.working_index[(rank - n) as usize] as usize)
                } else {
                    plain_sub(self.first_day(), n - rank)
                }
            }
            None if d > self.first_day() => {
                let mut d = d;
                let mut n = u64::from(n);
                let last = self.date_at(self.len() - 1);
                while n > 0 {
                    if self.covers(d) {
                        return self.sub_working_days(d, n.min(u64::from(u32::MAX)) as u32);
                    }
                    let prev = plain_sub(d, 1);
                    if prev == d {
                        return d;
                    }
                    d = prev;
                    n -= 1;
                    if n > 0 && d > last {
                        let gap = i64::from(daynum::jdn(d) - daynum::jdn(last));
                        let weeks = (gap / 7 - 1).max(0).min((n / 5) as i64);
                        if weeks > 0 {
                            d = shift_days(d, -weeks * 7);
                            n -= (weeks * 5) as u64;
                        }
                    }
                }
                d
            }
            None => plain_sub(d, u64::from(n)),
        }
    }

    /// Number of working days in `from..=to` (0 when `to < from`; days
    /// outside the range count as plain weekdays).
    pub fn working_days_between(&self, from: Date, to: Date) -> u64 {
        if to < from {
            return 0;
        }
        match (self.index(from), self.index(to)) {
            (Some(a), Some(b)) => u64::from(self.before[b + 1] - self.before[a]),
            _ => {
                let (a, b) = (daynum::jdn(from), daynum::jdn(to));
                (a..=b)
                    .filter(|&n| match daynum::date_of(n) {
                        Some(d) => self.is_working_day(d),
                        None => false,
                    })
                    .count() as u64
            }
        }
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

/// `d` moved by `days`, saturating at jiff's range.
fn shift_days(d: Date, days: i64) -> Date {
    let n = i64::from(daynum::jdn(d)) + days;
    let clamp = if days < 0 { Date::MIN } else { Date::MAX };
    i32::try_from(n)
        .ok()
        .and_then(daynum::date_of)
        .unwrap_or(clamp)
}

fn plain_on_or_after(d: Date) -> Date {
    match daynum::weekday0(daynum::jdn(d)) {
        6 => shift_days(d, 2),
        0 => shift_days(d, 1),
        _ => d,
    }
}

fn plain_on_or_before(d: Date) -> Date {
    match daynum::weekday0(daynum::jdn(d)) {
        6 => shift_days(d, -1),
        0 => shift_days(d, -2),
        _ => d,
    }
}

/// The `n`th Monday–Friday day after `d`, saturating.
fn plain_add(d: Date, n: u64) -> Date {
    if n == 0 {
        return d;
    }
    // Start from the last weekday on or before d (same count from there).
    let start = plain_on_or_before(d);
    let wd = i64::from(daynum::weekday0(daynum::jdn(start))) - 1; // Mon = 0 .. Fri = 4
    let n = i64::try_from(n)
        .unwrap_or(i64::MAX / 2)
        .min(i64::from(i32::MAX));
    let total = wd + n;
    let days = total / 5 * 7 + total % 5 - wd;
    shift_days(start, days)
}

/// The `n`th Monday–Friday day before `d`, saturating.
fn plain_sub(d: Date, n: u64) -> Date {
    if n == 0 {
        return d;
    }
    let start = plain_on_or_after(d);
    let wd = 4 - (i64::from(daynum::weekday0(daynum::jdn(start))) - 1); // Fri = 0 .. Mon = 4
    let n = i64::try_from(n)
        .unwrap_or(i64::MAX / 2)
        .min(i64::from(i32::MAX));
    let total = wd + n;
    let days = total / 5 * 7 + total % 5 - wd;
    shift_days(start, -days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn slow_add(d: Date, n: u32) -> Date {
        let mut d = d;
        for _ in 0..n {
            d = d.tomorrow().unwrap();
            while !matches!(daynum::weekday0(daynum::jdn(d)), 1..=5) {
                d = d.tomorrow().unwrap();
            }
        }
        d
    }

    #[test]
    fn plain_weekday_arithmetic_matches_stepping() {
        // 2101-01-01 is a Saturday (checked with jiff's weekday in the loop).
        let mut d = date(2101, 1, 1);
        for _ in 0..30 {
            for n in 0..25 {
                assert_eq!(plain_add(d, n), slow_add(d, n as u32), "{d} + {n}");
            }
            d = d.tomorrow().unwrap();
        }
    }

    #[test]
    fn plain_sub_inverts_plain_add_on_weekdays() {
        let mut d = date(2101, 1, 3);
        for _ in 0..30 {
            if !daynum::is_weekend(daynum::jdn(d)) {
                for n in 0..25u64 {
                    assert_eq!(plain_sub(plain_add(d, n), n), d, "{d} {n}");
                }
            }
            d = d.tomorrow().unwrap();
        }
    }
}
