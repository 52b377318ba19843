//! Reporting periods: stable keys (`2026-H1`, `2026-Q3`, `2026-05`, ...) and
//! the window of days each period covers, in calendar or Decree 09/2019 style.
//!
//! Pure date arithmetic: no IO, never reads the clock, never consults the
//! working-day calendar (windows are plain calendar dates). Parsing never
//! panics, whatever the input.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use jiff::civil::Date;

use crate::calendar::{FIRST_YEAR, LAST_YEAR};
use crate::config::model::{Cycle, Obligation, WindowStyle};

/// First year a calendar period key may name. One year of margin inside the
/// calendar's range, because Decree 09 windows start in the previous year and
/// due dates may fall in the next one.
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

/// Why a key does not name a period of a given obligation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error(transparent)]
    Key(#[from] PeriodKeyError),
    #[error(
        "period {key} does not exist for obligation \"{obligation}\" because its cycle is {cycle}"
    )]
    NotInCycle {
        key: String,
        obligation: String,
        cycle: String,
    },
}

/// The days a period covers, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    pub start: Date,
    pub end: Date,
}

/// One period of one obligation: its key and its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub key: PeriodKey,
    pub window: Window,
}

/// Keeps error messages short when someone passes a huge string.
fn shown(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

fn parse_year(s: &str, key: &str) -> Result<i16, PeriodKeyError> {
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PeriodKeyError::Malformed(shown(key)));
    }
    // Four ASCII digits always fit an i16.
    let year: i16 = s
        .parse()
        .map_err(|_| PeriodKeyError::Malformed(shown(key)))?;
    if !(MIN_PERIOD_YEAR..=MAX_PERIOD_YEAR).contains(&year) {
        return Err(PeriodKeyError::YearOutOfRange {
            key: shown(key),
            year,
        });
    }
    Ok(year)
}

impl PeriodKey {
    /// Parses a calendar period key. One-off keys (obligation ids) are not
    /// calendar keys: look those up with [`period_of`], which knows the obligation.
    pub fn parse(key: &str) -> Result<PeriodKey, PeriodKeyError> {
        let (year_part, rest) = match key.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (key, None),
        };
        let year = parse_year(year_part, key)?;
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

    /// Whether the fields are in range (the variants are public, so a key can
    /// be built by hand without going through [`PeriodKey::parse`]).
    pub fn is_valid(&self) -> bool {
        let year_ok = self
            .year()
            .is_none_or(|y| (MIN_PERIOD_YEAR..=MAX_PERIOD_YEAR).contains(&y));
        year_ok
            && match *self {
                PeriodKey::Month { month, .. } => (1..=12).contains(&month),
                PeriodKey::Quarter { quarter, .. } => (1..=4).contains(&quarter),
                PeriodKey::Half { half, .. } => (1..=2).contains(&half),
                PeriodKey::NineMonths { .. } | PeriodKey::Year { .. } => true,
                PeriodKey::Once(ref id) => !id.is_empty(),
            }
    }

    /// The window of a calendar key in the given style. `None` for one-offs,
    /// whose window comes from the obligation.
    pub fn calendar_window(&self, style: WindowStyle) -> Option<Window> {
        if !self.is_valid() {
            return None;
        }
        let d = |y: i16, m: i8, day: i8| Date::constant(y, m, day);
        let last = |y: i16, m: i8| Date::constant(y, m, 1).last_of_month();
        let w = |start, end| Some(Window { start, end });
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
}

/// The 15th of the month before `month` of `year`.
fn fifteenth_before(year: i16, month: i8) -> Date {
    if month == 1 {
        Date::constant(year - 1, 12, 15)
    } else {
        Date::constant(year, month - 1, 15)
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

/// A short English description of a cycle, for messages.
pub fn describe_cycle(cycle: &Cycle) -> String {
    match cycle {
        Cycle::Monthly => "monthly (periods YYYY-MM)".into(),
        Cycle::Quarterly => "quarterly (periods YYYY-Q1..YYYY-Q4)".into(),
        Cycle::SixMonthly {
            first_half_only: true,
        } => "six-monthly, first half only (periods YYYY-H1)".into(),
        Cycle::SixMonthly {
            first_half_only: false,
        } => "six-monthly (periods YYYY-H1, YYYY-H2)".into(),
        Cycle::NineMonthly => "nine-monthly (periods YYYY-9M)".into(),
        Cycle::Annual => "annual (periods YYYY)".into(),
        Cycle::Once { end, .. } => format!("one-off (due after {end}; its only period is its id)"),
    }
}

/// Whether `key` is one of the keys `cycle` produces (calendar keys only).
fn cycle_has(cycle: &Cycle, key: &PeriodKey) -> bool {
    matches!(
        (cycle, key),
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

/// The window of a one-off obligation: `[start or end, end]`.
fn once_window(start: Option<Date>, end: Date) -> Window {
    let start = start.unwrap_or(end).min(end);
    Window { start, end }
}

/// Looks up the period `key` of `obligation` (a calendar key, or the
/// obligation's id for a one-off).
pub fn period_of(obligation: &Obligation, key: &str) -> Result<Period, PeriodError> {
    if let Cycle::Once { start, end } = obligation.cycle {
        if key == obligation.id {
            return Ok(Period {
                key: PeriodKey::Once(Arc::from(obligation.id.as_str())),
                window: once_window(start, end),
            });
        }
        return Err(PeriodError::NotInCycle {
            key: shown(key),
            obligation: obligation.id.clone(),
            cycle: describe_cycle(&obligation.cycle),
        });
    }
    let parsed = PeriodKey::parse(key)?;
    period_of_key(obligation, &parsed)
}

/// Like [`period_of`] for an already parsed key.
pub fn period_of_key(obligation: &Obligation, key: &PeriodKey) -> Result<Period, PeriodError> {
    let not_in_cycle = || PeriodError::NotInCycle {
        key: shown(&key.to_string()),
        obligation: obligation.id.clone(),
        cycle: describe_cycle(&obligation.cycle),
    };
    match (&obligation.cycle, key) {
        (Cycle::Once { start, end }, PeriodKey::Once(id)) if **id == *obligation.id => Ok(Period {
            key: key.clone(),
            window: once_window(*start, *end),
        }),
        (cycle, _) if cycle_has(cycle, key) => {
            if let Some(year) = key.year()
                && !(MIN_PERIOD_YEAR..=MAX_PERIOD_YEAR).contains(&year)
            {
                return Err(PeriodKeyError::YearOutOfRange {
                    key: key.to_string(),
                    year,
                }
                .into());
            }
            let window = key
                .calendar_window(obligation.window)
                .ok_or_else(|| PeriodKeyError::Malformed(shown(&key.to_string())))?;
            Ok(Period {
                key: key.clone(),
                window,
            })
        }
        _ => Err(not_in_cycle()),
    }
}

/// The keys `cycle` produces for calendar year `year`, in order.
fn keys_of_year(cycle: &Cycle, year: i16, out: &mut Vec<PeriodKey>) {
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

/// Every period of `obligation` whose window ends in `[from, to]`, ordered by
/// window end. Years outside [`MIN_PERIOD_YEAR`]..=[`MAX_PERIOD_YEAR`] are skipped.
///
/// Does not look at the obligation's `active_from`/`active_until`: whether a
/// period is owed is the planner's question, not the period's.
pub fn periods_ending_in(obligation: &Obligation, from: Date, to: Date) -> Vec<Period> {
    let mut out = Vec::new();
    if from > to {
        return out;
    }
    if let Cycle::Once { start, end } = obligation.cycle {
        if from <= end && end <= to {
            out.push(Period {
                key: PeriodKey::Once(Arc::from(obligation.id.as_str())),
                window: once_window(start, end),
            });
        }
        return out;
    }
    // Every calendar window (both styles) ends in the year its key names.
    let first = from.year().max(MIN_PERIOD_YEAR);
    let last = to.year().min(MAX_PERIOD_YEAR);
    let mut keys = Vec::new();
    for year in first..=last {
        keys.clear();
        keys_of_year(&obligation.cycle, year, &mut keys);
        for key in keys.drain(..) {
            if let Some(window) = key.calendar_window(obligation.window)
                && from <= window.end
                && window.end <= to
            {
                out.push(Period { key, window });
            }
        }
    }
    out
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
        assert!(
            !PeriodKey::Month {
                year: 2026,
                month: 13
            }
            .is_valid()
        );
        assert_eq!(
            PeriodKey::Quarter {
                year: 2026,
                quarter: 0
            }
            .calendar_window(WindowStyle::Calendar),
            None
        );
        let long = "x".repeat(10_000);
        let msg = PeriodKey::parse(&long).unwrap_err().to_string();
        assert!(msg.len() < 200, "{msg}");
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

    fn ob(cycle: Cycle, window: WindowStyle) -> Obligation {
        use crate::config::model::{DayUnit, DueRule, Offset, Recipient};
        Obligation {
            id: "bc".into(),
            title: "t".into(),
            legal_basis: None,
            reporters: vec![],
            recipient: Recipient::ReporterCouncil,
            cycle,
            window,
            due: DueRule::After(Offset {
                amount: 1,
                unit: DayUnit::Days,
            }),
            overrides: Default::default(),
            roll_to_working_day: true,
            reminders: vec![],
            escalation: vec![],
            active_from: None,
            active_until: None,
            depends_on: vec![],
        }
    }

    fn keys(o: &Obligation, from: Date, to: Date) -> Vec<String> {
        periods_ending_in(o, from, to)
            .iter()
            .map(|p| p.key.to_string())
            .collect()
    }

    #[test]
    fn listing_by_window_end() {
        use WindowStyle::*;
        let (a, b) = (date(2026, 1, 15), date(2026, 3, 30));
        // Decree 09 months end on the 14th: 14/2 and 14/3 are inside, 14/1 is not.
        assert_eq!(
            keys(&ob(Cycle::Monthly, Decree09), a, b),
            ["2026-02", "2026-03"]
        );
        // Calendar months end 31/1 and 28/2; 31/3 is outside.
        assert_eq!(
            keys(&ob(Cycle::Monthly, Calendar), a, b),
            ["2026-01", "2026-02"]
        );
        let h1 = ob(
            Cycle::SixMonthly {
                first_half_only: true,
            },
            Calendar,
        );
        assert_eq!(
            keys(&h1, date(2025, 1, 1), date(2026, 12, 31)),
            ["2025-H1", "2026-H1"]
        );
        let once = ob(
            Cycle::Once {
                start: None,
                end: date(2026, 3, 10),
            },
            Calendar,
        );
        assert_eq!(keys(&once, a, b), ["bc"]);
        assert!(keys(&once, date(2026, 3, 11), b).is_empty());
        assert!(keys(&ob(Cycle::Annual, Calendar), b, a).is_empty());
        let p = period_of(&once, "bc").unwrap();
        assert_eq!(
            p.window,
            Window {
                start: date(2026, 3, 10),
                end: date(2026, 3, 10)
            }
        );
    }
}
