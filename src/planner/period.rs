//! Periods of one obligation: looking a period up by its key (a calendar
//! key or a one-off's id) and listing the periods whose window ends in a
//! date range. Keys and windows themselves live in [`crate::period`].
//!
//! Pure date arithmetic: no IO, never reads the clock, never consults the
//! working-day calendar. Whether a period is owed (active obligation and
//! unit) is decided in `planner`, not here.

use std::sync::Arc;

use jiff::civil::Date;

use crate::config::model::{Cycle, Obligation};
use crate::period::{
    MAX_PERIOD_YEAR, MIN_PERIOD_YEAR, Period, PeriodKey, PeriodKeyError, Window, keys_of_year,
    shown,
};

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

/// A short English description of a cycle, for messages.
fn describe_cycle(cycle: &Cycle) -> String {
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
        Cycle::Daily {
            working_days_only: true,
        } => "daily, working days (periods YYYY-MM-DD)".into(),
        Cycle::Daily {
            working_days_only: false,
        } => "daily, every day (periods YYYY-MM-DD)".into(),
        Cycle::Weekly => "weekly (ISO weeks YYYY-W01..YYYY-W53)".into(),
        Cycle::TenDay => "ten-day (periods YYYY-MM-D1..YYYY-MM-D3)".into(),
        Cycle::FifteenDay => "fifteen-day (periods YYYY-MM-H1, YYYY-MM-H2)".into(),
        Cycle::Once { end, .. } => format!("one-off (due after {end}; its only period is its id)"),
    }
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
        (cycle, _) if key.in_cycle(cycle) => {
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
    // Every calendar window (both styles) ends in the year its key names,
    // but the last ISO week of the year before may end in early January.
    let first = if matches!(obligation.cycle, Cycle::Weekly) {
        from.year() - 1
    } else {
        from.year()
    }
    .max(MIN_PERIOD_YEAR);
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
    use crate::config::model::WindowStyle;
    use jiff::civil::date;

    fn ob(cycle: Cycle, window: WindowStyle) -> Obligation {
        use crate::config::model::{DayUnit, DueRule, Offset, Recipient};
        Obligation {
            id: "bc".into(),
            title: "t".into(),
            short_title: None,
            legal_basis: None,
            voice: Default::default(),
            reporters: vec![],
            recipient: Recipient::ReporterCouncil,
            cycle,
            window,
            due: DueRule::After(Offset {
                amount: 1,
                unit: DayUnit::Days,
            }),
            due_exclusive: false,
            due_time: None,
            due_after: None,
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
