//! Reporting periods: stable keys (`2026-H1`, `2026-Q3`, `2026-05`, ...),
//! their parsing and display, and the window of days each calendar period
//! covers, in calendar or Decree 09/2019 style.
//!
//! Shared by `config` (checking per-period overrides) and `planner` (which
//! re-exports it), so it depends only on `config::model` and jiff: it must
//! not use `planner`, `calendar` or anything above them. Pure date
//! arithmetic: no IO, never reads the clock, never consults the working-day
//! calendar (windows are plain calendar dates). Parsing never panics,
//! whatever the input.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::sync::Arc;

use jiff::civil::Date;

use crate::config::model::{Cycle, FIRST_YEAR, LAST_YEAR, WindowStyle};

/// First year a calendar period key may name in the planner. One year of
/// margin inside the calendar's range, because Decree 09 windows start in the
/// previous year and due dates may fall in the next one.
pub const MIN_PERIOD_YEAR: i16 = FIRST_YEAR + 1;
/// Last year a calendar period key may name (see [`MIN_PERIOD_YEAR`]).
pub const MAX_PERIOD_YEAR: i16 = LAST_YEAR - 1;

/// The stable key of one reporting period, as stored by tracking and shown to
/// people: `2026-05`, `2026-Q3`, `2026-H1`, `2026-H2`, `2026-9M`, `2026`, or
/// the obligation id for a one-off report.
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
    /// A one-off report, keyed by its obligation id.
    Once(Arc<str>),
}

/// Why a string is not a calendar period key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodKeyError {
    #[error(
        "\"{0}\" is not a period key; expected YYYY, YYYY-MM, YYYY-Qn, YYYY-H1, YYYY-H2 or YYYY-9M (e.g. 2026-H1)"
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
                let month = ((a - b'0') * 10 + (b - b'0')) as i8;
                if (1..=12).contains(&month) {
                    Ok(PeriodKey::Month { year, month })
                } else {
                    Err(PeriodKeyError::Month(shown(key)))
                }
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
            | PeriodKey::Year { year } => Some(year),
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
        )
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
        Cycle::Once { .. } => {}
    }
}

/// The periods `cycle` has in calendar year `year` (the keys naming that
/// year), in order, with their windows in `style`. Empty for a one-off.
/// Every calendar window, in both styles, ends in the year its key names.
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
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn parse_and_display_round_trip() {
        for s in [
            "2026-H1", "2026-H2", "2026-9M", "2026", "2026-Q3", "2026-05", "2026-12", "1901-01",
        ] {
            let k = PeriodKey::parse(s).unwrap();
            assert_eq!(k.to_string(), s);
        }
        assert_eq!(
            PeriodKey::parse("2026-05").unwrap(),
            PeriodKey::Month {
                year: 2026,
                month: 5
            }
        );
    }

    #[test]
    fn parse_rejects_bad_keys() {
        for s in [
            "",
            "-",
            "2026-",
            "2026-H3",
            "2026-Q0",
            "2026-Q5",
            "2026-00",
            "2026-13",
            "2026-5",
            "26-H1",
            "20266",
            "2026-9m",
            "2026-h1",
            "abcd",
            "2026-H1x",
            "1900",
            "2100-01",
            "+026",
            "２０２６",
            "2026-\u{1F600}",
        ] {
            assert!(PeriodKey::parse(s).is_err(), "{s:?} should not parse");
        }
        assert_eq!(
            PeriodKey::Month {
                year: 2026,
                month: 13
            }
            .calendar_window(WindowStyle::Calendar),
            None
        );
        assert_eq!(
            PeriodKey::Quarter {
                year: 2026,
                quarter: 0
            }
            .calendar_window(WindowStyle::Calendar),
            None
        );
        for year in [i16::MIN, i16::MAX] {
            assert_eq!(
                PeriodKey::Year { year }.calendar_window(WindowStyle::Decree09),
                None
            );
        }
        let long = "x".repeat(10_000);
        let msg = PeriodKey::parse(&long).unwrap_err().to_string();
        assert!(msg.len() < 200, "{msg}");
    }

    #[test]
    fn wider_year_range_for_the_configuration() {
        assert_eq!(
            PeriodKey::parse_in("2100-H2", FIRST_YEAR..=LAST_YEAR),
            Ok(PeriodKey::Half {
                year: 2100,
                half: 2
            })
        );
        assert_eq!(
            PeriodKey::parse_in("2101-Q5", FIRST_YEAR..=LAST_YEAR),
            Err(PeriodKeyError::YearOutOfRange {
                key: "2101-Q5".into(),
                year: 2101
            })
        );
    }

    // Windows checked by hand against the Decree 09/2019 table (BRIEF §2) and
    // a printed 2026 calendar (2026 is not a leap year; 2024 is).
    #[test]
    fn windows_table() {
        use WindowStyle::*;
        let cases: &[(&str, WindowStyle, Date, Date)] = &[
            ("2026-H1", Calendar, date(2026, 1, 1), date(2026, 6, 30)),
            ("2026-H2", Calendar, date(2026, 7, 1), date(2026, 12, 31)),
            ("2026-9M", Calendar, date(2026, 1, 1), date(2026, 9, 30)),
            ("2026", Calendar, date(2026, 1, 1), date(2026, 12, 31)),
            ("2026-Q3", Calendar, date(2026, 7, 1), date(2026, 9, 30)),
            ("2026-Q1", Calendar, date(2026, 1, 1), date(2026, 3, 31)),
            ("2026-02", Calendar, date(2026, 2, 1), date(2026, 2, 28)),
            ("2024-02", Calendar, date(2024, 2, 1), date(2024, 2, 29)),
            ("2026-05", Calendar, date(2026, 5, 1), date(2026, 5, 31)),
            ("2026-05", Decree09, date(2026, 4, 15), date(2026, 5, 14)),
            ("2026-01", Decree09, date(2025, 12, 15), date(2026, 1, 14)),
            ("2026-Q1", Decree09, date(2025, 12, 15), date(2026, 3, 14)),
            ("2026-Q3", Decree09, date(2026, 6, 15), date(2026, 9, 14)),
            ("2026-H1", Decree09, date(2025, 12, 15), date(2026, 6, 14)),
            ("2026-H2", Decree09, date(2026, 6, 15), date(2026, 12, 14)),
            ("2026-9M", Decree09, date(2025, 12, 15), date(2026, 9, 14)),
            ("2026", Decree09, date(2025, 12, 15), date(2026, 12, 14)),
        ];
        for &(key, style, start, end) in cases {
            let w = PeriodKey::parse(key)
                .unwrap()
                .calendar_window(style)
                .unwrap();
            assert_eq!(w, Window { start, end }, "{key} {style:?}");
        }
    }

    // The same windows as `windows_table`, listed per cycle.
    #[test]
    fn periods_of_a_year() {
        let list = |cycle: Cycle, style| -> Vec<String> {
            periods_of_year(&cycle, style, 2026)
                .iter()
                .map(|p| format!("{} {}..{}", p.key, p.window.start, p.window.end))
                .collect()
        };
        assert_eq!(
            list(
                Cycle::SixMonthly {
                    first_half_only: false
                },
                WindowStyle::Decree09
            ),
            [
                "2026-H1 2025-12-15..2026-06-14",
                "2026-H2 2026-06-15..2026-12-14"
            ]
        );
        assert_eq!(
            list(
                Cycle::SixMonthly {
                    first_half_only: true
                },
                WindowStyle::Calendar
            ),
            ["2026-H1 2026-01-01..2026-06-30"]
        );
        assert_eq!(list(Cycle::Monthly, WindowStyle::Calendar).len(), 12);
        assert_eq!(list(Cycle::Quarterly, WindowStyle::Calendar).len(), 4);
        assert!(
            list(
                Cycle::Once {
                    start: None,
                    end: date(2026, 3, 1)
                },
                WindowStyle::Calendar
            )
            .is_empty()
        );
    }
}
