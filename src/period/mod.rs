//! Reporting periods: stable keys, their parsing and display, their
//! Vietnamese words, and the window of days each calendar period covers, in
//! calendar or Decree 09/2019 style.
//!
//! Keys (one form per cycle; zero-padded so that the keys of one cycle sort
//! chronologically as text too):
//!
//! | cycle | key | window | in words |
//! |---|---|---|---|
//! | daily | `2026-05-15` | that day | ngày 15/05/2026 |
//! | weekly | `2026-W23` | ISO 8601 week, Monday–Sunday (01/06–07/06/2026); the year is the ISO week-year, so `2026-W53` ends on 03/01/2027 and `2026-W01` starts on 29/12/2025 | tuần 23 năm 2026 (01/06–07/06/2026) |
//! | ten-day | `2026-05-D1`, `-D2`, `-D3` | 1–10, 11–20, 21–end of the month | 10 ngày đầu / giữa / cuối tháng 5 năm 2026 |
//! | fifteen-day | `2026-05-H1`, `-H2` | 1–15, 16–end of the month | nửa đầu / nửa cuối tháng 5 năm 2026 |
//! | monthly | `2026-05` | the month | tháng 5 năm 2026 |
//! | quarterly | `2026-Q3` | the quarter | quý III năm 2026 |
//! | six-monthly | `2026-H1`, `2026-H2` | the half-year | 6 tháng đầu / cuối năm 2026 |
//! | nine-monthly | `2026-9M` | 1/1–30/9 | 9 tháng năm 2026 |
//! | annual | `2026` | the year | năm 2026 |
//! | one-off | the obligation id | from the obligation | the obligation's title |
//!
//! Decree 09/2019/NĐ-CP defines data cut-off windows (15th of the month
//! before to the 14th) for monthly, quarterly, six-monthly, nine-monthly and
//! annual reports only; the shorter cycles' windows are calendar days in
//! either style (the configuration refuses `window = "decree09"` for them).
//!
//! Shared by `config` (checking per-period overrides) and `planner` (which
//! re-exports it), so it depends only on `config::model` and jiff: it must
//! not use `planner`, `calendar` or anything above them. Pure date
//! arithmetic: no IO, never reads the clock, never consults the working-day
//! calendar (windows are plain calendar dates; which days of a working-day
//! daily cycle are owed is the planner's question). Parsing never panics,
//! whatever the input.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::sync::Arc;

use jiff::civil::{Date, ISOWeekDate, Weekday};

use crate::config::model::{Cycle, FIRST_YEAR, LAST_YEAR, WindowStyle};

/// First year a calendar period key may name in the planner. One year of
/// margin inside the calendar's range, because Decree 09 windows start in the
/// previous year and due dates may fall in the next one.
pub const MIN_PERIOD_YEAR: i16 = FIRST_YEAR + 1;
/// Last year a calendar period key may name (see [`MIN_PERIOD_YEAR`]).
pub const MAX_PERIOD_YEAR: i16 = LAST_YEAR - 1;

/// The stable key of one reporting period, as stored by tracking and shown to
/// people: `2026-05-15`, `2026-W23`, `2026-05-D2`, `2026-05-H1`, `2026-05`,
/// `2026-Q3`, `2026-H1`, `2026-H2`, `2026-9M`, `2026`, or the obligation id
/// for a one-off report (see the module doc).
///
/// Ordering (derived) sorts keys of the same kind chronologically; it is used
/// only as a tie-breaker between periods of one obligation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeriodKey {
    /// `YYYY-MM`, month 1..=12.
    Month { year: i16, month: i8 },
    /// `YYYY-Qn`, quarter 1..=4.
    Quarter { year: i16, quarter: i8 },
    /// `YYYY-H1` or `YYYY-H2`.
    Half { year: i16, half: i8 },
    /// `YYYY-9M`: the first nine months.
    NineMonths { year: i16 },
    /// `YYYY`: the whole year.
    Year { year: i16 },
    /// `YYYY-MM-DD`: one day.
    Day { year: i16, month: i8, day: i8 },
    /// `YYYY-Www`: ISO 8601 week `week` (01..=52 or 53) of ISO week-year `year`.
    Week { year: i16, week: i8 },
    /// `YYYY-MM-Dn`: ten-day period `part` (1..=3) of the month.
    TenDays { year: i16, month: i8, part: i8 },
    /// `YYYY-MM-Hn`: half `half` (1..=2) of the month.
    HalfMonth { year: i16, month: i8, half: i8 },
    /// A one-off report, keyed by its obligation id.
    Once(Arc<str>),
}

/// Why a string is not a calendar period key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodKeyError {
    #[error(
        "\"{0}\" is not a period key; expected YYYY, YYYY-MM, YYYY-Qn, YYYY-H1, YYYY-H2, YYYY-9M, YYYY-Www, YYYY-MM-DD, YYYY-MM-Dn or YYYY-MM-Hn (e.g. 2026-H1, 2026-W23)"
    )]
    Malformed(String),
    #[error("period key \"{key}\": year {year} is outside {MIN_PERIOD_YEAR}–{MAX_PERIOD_YEAR}")]
    YearOutOfRange { key: String, year: i16 },
    #[error("period key \"{0}\": the month must be 01–12")]
    Month(String),
    #[error("period key \"{0}\": the quarter must be Q1–Q4")]
    Quarter(String),
    #[error("period key \"{0}\": the half must be H1 or H2")]
    Half(String),
    #[error("period key \"{0}\": that day does not exist")]
    Day(String),
    #[error("period key \"{0}\": that ISO week does not exist (W01–W52, W53 in some years)")]
    Week(String),
    #[error("period key \"{0}\": the ten-day period must be D1, D2 or D3")]
    TenDays(String),
}

/// The days a period covers, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    pub start: Date,
    pub end: Date,
}

/// One period: its key and its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub key: PeriodKey,
    pub window: Window,
}

/// Keeps error messages short when someone passes a huge string.
pub(crate) fn shown(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

fn parse_year(s: &str, key: &str, years: &RangeInclusive<i16>) -> Result<i16, PeriodKeyError> {
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PeriodKeyError::Malformed(shown(key)));
    }
    // Four ASCII digits always fit an i16.
    let year: i16 = s
        .parse()
        .map_err(|_| PeriodKeyError::Malformed(shown(key)))?;
    if !years.contains(&year) {
        return Err(PeriodKeyError::YearOutOfRange {
            key: shown(key),
            year,
        });
    }
    Ok(year)
}

impl PeriodKey {
    /// Parses a calendar period key naming a year in
    /// [`MIN_PERIOD_YEAR`]..=[`MAX_PERIOD_YEAR`]. Exact form only (upper-case
    /// letters, no spaces). One-off keys (obligation ids) are not calendar
    /// keys: the planner looks those up with the obligation.
    pub fn parse(key: &str) -> Result<PeriodKey, PeriodKeyError> {
        PeriodKey::parse_in(key, MIN_PERIOD_YEAR..=MAX_PERIOD_YEAR)
    }

    /// [`PeriodKey::parse`] accepting the years in `years` instead (the
    /// configuration accepts the calendar's whole range). The year is checked
    /// before the rest of the key; a year outside `years` is reported as
    /// [`PeriodKeyError::YearOutOfRange`], whose message names the planner's range.
    pub(crate) fn parse_in(
        key: &str,
        years: RangeInclusive<i16>,
    ) -> Result<PeriodKey, PeriodKeyError> {
        let (year_part, rest) = match key.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (key, None),
        };
        let year = parse_year(year_part, key, &years)?;
        let Some(rest) = rest else {
            return Ok(PeriodKey::Year { year });
        };
        match rest.as_bytes() {
            [b'H', h] => match h {
                b'1' => Ok(PeriodKey::Half { year, half: 1 }),
                b'2' => Ok(PeriodKey::Half { year, half: 2 }),
                _ => Err(PeriodKeyError::Half(shown(key))),
            },
            [b'Q', q] => match q {
                b'1'..=b'4' => Ok(PeriodKey::Quarter {
                    year,
                    quarter: (q - b'0') as i8,
                }),
                _ => Err(PeriodKeyError::Quarter(shown(key))),
            },
            [b'9', b'M'] => Ok(PeriodKey::NineMonths { year }),
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                let month = two_digits(*a, *b);
                if (1..=12).contains(&month) {
                    Ok(PeriodKey::Month { year, month })
                } else {
                    Err(PeriodKeyError::Month(shown(key)))
                }
            }
            [b'W', a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                let k = PeriodKey::Week {
                    year,
                    week: two_digits(*a, *b),
                };
                k.fields_valid()
                    .then_some(k)
                    .ok_or_else(|| PeriodKeyError::Week(shown(key)))
            }
            [a, b, b'-', c, e] if a.is_ascii_digit() && b.is_ascii_digit() => {
                let month = two_digits(*a, *b);
                if !(1..=12).contains(&month) {
                    return Err(PeriodKeyError::Month(shown(key)));
                }
                let (k, err): (PeriodKey, fn(String) -> PeriodKeyError) = match (c, e) {
                    (b'D', p) if p.is_ascii_digit() => (
                        PeriodKey::TenDays {
                            year,
                            month,
                            part: (p - b'0') as i8,
                        },
                        PeriodKeyError::TenDays,
                    ),
                    (b'H', h) if h.is_ascii_digit() => (
                        PeriodKey::HalfMonth {
                            year,
                            month,
                            half: (h - b'0') as i8,
                        },
                        PeriodKeyError::Half,
                    ),
                    (c, e) if c.is_ascii_digit() && e.is_ascii_digit() => (
                        PeriodKey::Day {
                            year,
                            month,
                            day: two_digits(*c, *e),
                        },
                        PeriodKeyError::Day,
                    ),
                    _ => return Err(PeriodKeyError::Malformed(shown(key))),
                };
                k.fields_valid().then_some(k).ok_or_else(|| err(shown(key)))
            }
            _ => Err(PeriodKeyError::Malformed(shown(key))),
        }
    }

    /// The calendar year a calendar key names (`None` for one-offs).
    pub fn year(&self) -> Option<i16> {
        match *self {
            PeriodKey::Month { year, .. }
            | PeriodKey::Quarter { year, .. }
            | PeriodKey::Half { year, .. }
            | PeriodKey::NineMonths { year }
            | PeriodKey::Year { year }
            | PeriodKey::Day { year, .. }
            | PeriodKey::Week { year, .. }
            | PeriodKey::TenDays { year, .. }
            | PeriodKey::HalfMonth { year, .. } => Some(year),
            PeriodKey::Once(_) => None,
        }
    }

    /// Whether month, quarter and half are in range (the variants are
    /// public, so a key can be built by hand without going through
    /// [`PeriodKey::parse`]).
    fn fields_valid(&self) -> bool {
        match *self {
            PeriodKey::Month { month, .. } => (1..=12).contains(&month),
            PeriodKey::Quarter { quarter, .. } => (1..=4).contains(&quarter),
            PeriodKey::Half { half, .. } => (1..=2).contains(&half),
            PeriodKey::NineMonths { .. } | PeriodKey::Year { .. } => true,
            PeriodKey::Day { year, month, day } => Date::new(year, month, day).is_ok(),
            PeriodKey::Week { year, week } => ISOWeekDate::new(year, week, Weekday::Monday).is_ok(),
            PeriodKey::TenDays { month, part, .. } => {
                (1..=12).contains(&month) && (1..=3).contains(&part)
            }
            PeriodKey::HalfMonth { month, half, .. } => {
                (1..=12).contains(&month) && (1..=2).contains(&half)
            }
            PeriodKey::Once(ref id) => !id.is_empty(),
        }
    }

    /// The window of a calendar key in the given style. `None` for one-offs
    /// (whose window comes from the obligation), for fields out of range and
    /// for years jiff cannot represent. Any other year has a window: the
    /// planner's narrower year range is checked by its callers.
    pub fn calendar_window(&self, style: WindowStyle) -> Option<Window> {
        // Outside jiff's years there are no dates (and `year - 1` below must not overflow).
        let representable = |y: i16| Date::MIN.year() < y && y <= Date::MAX.year();
        if !self.fields_valid() || self.year().is_some_and(|y| !representable(y)) {
            return None;
        }
        let d = |y: i16, m: i8, day: i8| Date::new(y, m, day).ok();
        let last = |y: i16, m: i8| d(y, m, 1).map(|first| first.last_of_month());
        let w = |start: Option<Date>, end: Option<Date>| {
            Some(Window {
                start: start?,
                end: end?,
            })
        };
        match (style, self) {
            (_, PeriodKey::Once(_)) => None,
            // Periods shorter than a month: calendar days in either style
            // (Decree 09 defines no cut-off for them).
            (_, &PeriodKey::Day { year, month, day }) => {
                w(d(year, month, day), d(year, month, day))
            }
            (_, &PeriodKey::Week { year, week }) => {
                let monday = ISOWeekDate::new(year, week, Weekday::Monday).ok()?.date();
                let sunday = ISOWeekDate::new(year, week, Weekday::Sunday).ok()?.date();
                w(Some(monday), Some(sunday))
            }
            (_, &PeriodKey::TenDays { year, month, part }) => match part {
                1 => w(d(year, month, 1), d(year, month, 10)),
                2 => w(d(year, month, 11), d(year, month, 20)),
                _ => w(d(year, month, 21), last(year, month)),
            },
            (_, &PeriodKey::HalfMonth { year, month, half }) => match half {
                1 => w(d(year, month, 1), d(year, month, 15)),
                _ => w(d(year, month, 16), last(year, month)),
            },
            (WindowStyle::Calendar, &PeriodKey::Month { year, month }) => {
                w(d(year, month, 1), last(year, month))
            }
            (WindowStyle::Calendar, &PeriodKey::Quarter { year, quarter }) => {
                w(d(year, quarter * 3 - 2, 1), last(year, quarter * 3))
            }
            (WindowStyle::Calendar, &PeriodKey::Half { year, half: 1 }) => {
                w(d(year, 1, 1), d(year, 6, 30))
            }
            (WindowStyle::Calendar, &PeriodKey::Half { year, .. }) => {
                w(d(year, 7, 1), d(year, 12, 31))
            }
            (WindowStyle::Calendar, &PeriodKey::NineMonths { year }) => {
                w(d(year, 1, 1), d(year, 9, 30))
            }
            (WindowStyle::Calendar, &PeriodKey::Year { year }) => w(d(year, 1, 1), d(year, 12, 31)),
            // Decree 09/2019: from the 15th of the month before to the 14th.
            (WindowStyle::Decree09, &PeriodKey::Month { year, month }) => {
                w(fifteenth_before(year, month), d(year, month, 14))
            }
            (WindowStyle::Decree09, &PeriodKey::Quarter { year, quarter }) => w(
                fifteenth_before(year, quarter * 3 - 2),
                d(year, quarter * 3, 14),
            ),
            (WindowStyle::Decree09, &PeriodKey::Half { year, half: 1 }) => {
                w(d(year - 1, 12, 15), d(year, 6, 14))
            }
            (WindowStyle::Decree09, &PeriodKey::Half { year, .. }) => {
                w(d(year, 6, 15), d(year, 12, 14))
            }
            (WindowStyle::Decree09, &PeriodKey::NineMonths { year }) => {
                w(d(year - 1, 12, 15), d(year, 9, 14))
            }
            (WindowStyle::Decree09, &PeriodKey::Year { year }) => {
                w(d(year - 1, 12, 15), d(year, 12, 14))
            }
        }
    }

    /// Whether this is one of the keys `cycle` produces (calendar keys only:
    /// a one-off's key is its obligation's id, which the cycle does not know).
    pub fn in_cycle(&self, cycle: &Cycle) -> bool {
        matches!(
            (cycle, self),
            (Cycle::Monthly, PeriodKey::Month { .. })
                | (Cycle::Quarterly, PeriodKey::Quarter { .. })
                | (
                    Cycle::SixMonthly {
                        first_half_only: true
                    },
                    PeriodKey::Half { half: 1, .. }
                )
                | (
                    Cycle::SixMonthly {
                        first_half_only: false
                    },
                    PeriodKey::Half { .. }
                )
                | (Cycle::NineMonthly, PeriodKey::NineMonths { .. })
                | (Cycle::Annual, PeriodKey::Year { .. })
                | (Cycle::Daily { .. }, PeriodKey::Day { .. })
                | (Cycle::Weekly, PeriodKey::Week { .. })
                | (Cycle::TenDay, PeriodKey::TenDays { .. })
                | (Cycle::FifteenDay, PeriodKey::HalfMonth { .. })
        )
    }

    /// The period in Vietnamese words, as notices, listings and the
    /// confirmation page show it: "ngày 15/05/2026", "tuần 23 năm 2026
    /// (01/06–07/06/2026)", "10 ngày giữa tháng 5 năm 2026", "nửa đầu tháng
    /// 5 năm 2026", "tháng 5 năm 2026", "quý III năm 2026", "6 tháng đầu năm
    /// 2026", "9 tháng năm 2026", "năm 2026". `None` for a one-off (its
    /// obligation's title says it) and for fields out of range.
    pub fn label_vi(&self) -> Option<String> {
        if !self.fields_valid() {
            return None;
        }
        Some(match *self {
            PeriodKey::Year { year } => format!("năm {year}"),
            PeriodKey::Half { year, half: 1 } => format!("6 tháng đầu năm {year}"),
            PeriodKey::Half { year, .. } => format!("6 tháng cuối năm {year}"),
            PeriodKey::Quarter { year, quarter } => {
                let roman = ["I", "II", "III", "IV"];
                format!("quý {} năm {year}", roman[(quarter - 1) as usize])
            }
            PeriodKey::NineMonths { year } => format!("9 tháng năm {year}"),
            PeriodKey::Month { year, month } => format!("tháng {month} năm {year}"),
            PeriodKey::Day { year, month, day } => format!("ngày {day:02}/{month:02}/{year:04}"),
            PeriodKey::Week { year, week } => {
                let w = self.calendar_window(WindowStyle::Calendar)?;
                let start = if w.start.year() == w.end.year() {
                    format!("{:02}/{:02}", w.start.day(), w.start.month())
                } else {
                    format!(
                        "{:02}/{:02}/{:04}",
                        w.start.day(),
                        w.start.month(),
                        w.start.year()
                    )
                };
                format!(
                    "tuần {week} năm {year} ({start}–{:02}/{:02}/{:04})",
                    w.end.day(),
                    w.end.month(),
                    w.end.year()
                )
            }
            PeriodKey::TenDays { year, month, part } => {
                let which = ["đầu", "giữa", "cuối"][(part - 1) as usize];
                format!("10 ngày {which} tháng {month} năm {year}")
            }
            PeriodKey::HalfMonth { year, month, half } => {
                let which = if half == 1 { "đầu" } else { "cuối" };
                format!("nửa {which} tháng {month} năm {year}")
            }
            PeriodKey::Once(_) => return None,
        })
    }
}

/// Two ASCII digits as a number (the caller checked they are digits).
fn two_digits(a: u8, b: u8) -> i8 {
    ((a - b'0') * 10 + (b - b'0')) as i8
}

/// The number of ISO 8601 weeks of ISO week-year `year` (52 or 53).
pub(crate) fn iso_weeks(year: i16) -> i8 {
    if ISOWeekDate::new(year, 53, Weekday::Monday).is_ok() {
        53
    } else {
        52
    }
}

/// The 15th of the month before `month` of `year`.
fn fifteenth_before(year: i16, month: i8) -> Option<Date> {
    if month == 1 {
        Date::new(year - 1, 12, 15).ok()
    } else {
        Date::new(year, month - 1, 15).ok()
    }
}

impl fmt::Display for PeriodKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeriodKey::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            PeriodKey::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
            PeriodKey::Half { year, half } => write!(f, "{year:04}-H{half}"),
            PeriodKey::NineMonths { year } => write!(f, "{year:04}-9M"),
            PeriodKey::Year { year } => write!(f, "{year:04}"),
            PeriodKey::Day { year, month, day } => write!(f, "{year:04}-{month:02}-{day:02}"),
            PeriodKey::Week { year, week } => write!(f, "{year:04}-W{week:02}"),
            PeriodKey::TenDays { year, month, part } => write!(f, "{year:04}-{month:02}-D{part}"),
            PeriodKey::HalfMonth { year, month, half } => {
                write!(f, "{year:04}-{month:02}-H{half}")
            }
            PeriodKey::Once(id) => f.write_str(id),
        }
    }
}

impl FromStr for PeriodKey {
    type Err = PeriodKeyError;
    fn from_str(s: &str) -> Result<PeriodKey, PeriodKeyError> {
        PeriodKey::parse(s)
    }
}

/// Appends the keys `cycle` produces for calendar year `year`, in order
/// (none for a one-off).
pub(crate) fn keys_of_year(cycle: &Cycle, year: i16, out: &mut Vec<PeriodKey>) {
    match cycle {
        Cycle::Monthly => out.extend((1..=12).map(|month| PeriodKey::Month { year, month })),
        Cycle::Quarterly => out.extend((1..=4).map(|quarter| PeriodKey::Quarter { year, quarter })),
        Cycle::SixMonthly { first_half_only } => {
            out.push(PeriodKey::Half { year, half: 1 });
            if !first_half_only {
                out.push(PeriodKey::Half { year, half: 2 });
            }
        }
        Cycle::NineMonthly => out.push(PeriodKey::NineMonths { year }),
        Cycle::Annual => out.push(PeriodKey::Year { year }),
        Cycle::Daily { .. } => {
            let Ok(mut day) = Date::new(year, 1, 1) else {
                return;
            };
            while day.year() == year {
                out.push(PeriodKey::Day {
                    year,
                    month: day.month(),
                    day: day.day(),
                });
                match day.tomorrow() {
                    Ok(next) => day = next,
                    Err(_) => break,
                }
            }
        }
        Cycle::Weekly => {
            out.extend((1..=iso_weeks(year)).map(|week| PeriodKey::Week { year, week }))
        }
        Cycle::TenDay => {
            out.extend((1..=12).flat_map(|month| {
                (1..=3).map(move |part| PeriodKey::TenDays { year, month, part })
            }))
        }
        Cycle::FifteenDay => {
            out.extend((1..=12).flat_map(|month| {
                (1..=2).map(move |half| PeriodKey::HalfMonth { year, month, half })
            }))
        }
        Cycle::Once { .. } => {}
    }
}

/// The periods `cycle` has in year `year` (the keys naming that year), in
/// order, with their windows in `style`. Empty for a one-off. Every window,
/// in both styles, ends in the year its key names, except the last ISO week
/// of a week-year, which may end on 1–3 January of the next year.
pub fn periods_of_year(cycle: &Cycle, style: WindowStyle, year: i16) -> Vec<Period> {
    let mut keys = Vec::new();
    keys_of_year(cycle, year, &mut keys);
    keys.into_iter()
        .filter_map(|key| {
            let window = key.calendar_window(style)?;
            Some(Period { key, window })
        })
        .collect()
}

#[cfg(test)]
mod tests;
