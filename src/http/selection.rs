//! Status rows of a selection and validation of (obligation, period, unit):
//! the small glue the API needs between planner, store and `status`.
//!
//! Temporary home: `src/tracking.rs` (written in parallel) does the same for
//! `hanbao status`; once merged, these functions should be replaced by its
//! equivalents so the CLI and the API cannot drift. Must not: write to the
//! store, read the clock (`at` is an argument) or know about HTTP.

use jiff::civil::Date;
use serde::Serialize;

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::planner::{self, Deadline, Filter, PlanError};
use crate::status::{self, Schedule, StateName, Tracking};
use crate::store::{CurrentState, Store, StoreError};

/// How far back (days before `at`) a selection without a period looks for
/// due days, and how far ahead.
pub const BACK_DAYS: i64 = 62;
pub const AHEAD_DAYS: i64 = 31;

/// One row, with the fields of `hanbao status --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusRow {
    pub obligation: String,
    pub period: String,
    pub unit: String,
    pub state: StateName,
    pub due: Date,
    pub submitted_on: Option<Date>,
    pub days_late: Option<i32>,
    pub reference: Option<String>,
}

/// What to list; `None` means every one.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub obligation: Option<String>,
    pub period: Option<String>,
    pub unit: Option<String>,
}

/// Why a selection or key is refused.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// An id the configuration does not know; `suggestion` is the nearest ids.
    #[error("unknown {what} {id:?}{suggestion}")]
    Unknown {
        what: &'static str,
        id: String,
        suggestion: String,
    },
    /// Known ids that do not make a key that is owed.
    #[error(transparent)]
    NotOwed(PlanError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// "; did you mean ...?" with the nearest known ids (Jaro-Winkler >= 0.75).
pub fn nearest<'a>(id: &str, known: impl Iterator<Item = &'a str>) -> String {
    let mut scored: Vec<(f64, &str)> = known
        .map(|k| (strsim::jaro_winkler(id, k), k))
        .filter(|(s, _)| *s >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let best: Vec<String> = scored
        .iter()
        .take(3)
        .map(|(_, k)| format!("{k:?}"))
        .collect();
    if best.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", best.join(", "))
    }
}

/// Checks that the ids the selection names exist.
pub fn check_ids(cfg: &Config, sel: &Selection) -> Result<(), SelectError> {
    if let Some(id) = &sel.obligation
        && cfg.obligation(id).is_none()
    {
        return Err(SelectError::Unknown {
            what: "obligation",
            id: id.clone(),
            suggestion: nearest(id, cfg.obligations.iter().map(|o| o.id.as_str())),
        });
    }
    if let Some(id) = &sel.unit
        && cfg.unit(id).is_none()
    {
        return Err(SelectError::Unknown {
            what: "unit",
            id: id.clone(),
            suggestion: nearest(id, cfg.units.iter().map(|u| u.id.as_str())),
        });
    }
    Ok(())
}

/// The deadline of one key, with unknown ids named and the nearest ids
/// suggested.
pub fn deadline<'a>(
    cfg: &'a Config,
    cal: &WorkCalendar,
    obligation: &str,
    period: &str,
    unit: &str,
) -> Result<Deadline<'a>, SelectError> {
    check_ids(
        cfg,
        &Selection {
            obligation: Some(obligation.into()),
            period: None,
            unit: Some(unit.into()),
        },
    )?;
    planner::deadline_for(cfg, cal, obligation, period, unit).map_err(SelectError::NotOwed)
}

/// The rows of a selection on day `at`, in the planner's order.
///
/// With a period: every selected reporter that owes that period (a single
/// fully named key that is not owed is an error). Without: every unit-period
/// whose due day lies in `[at - BACK_DAYS, at + AHEAD_DAYS]`.
pub async fn rows<S: Store>(
    store: &S,
    cfg: &Config,
    cal: &WorkCalendar,
    at: Date,
    sel: &Selection,
) -> Result<Vec<StatusRow>, SelectError> {
    check_ids(cfg, sel)?;
    let filter = Filter {
        obligation: sel.obligation.clone(),
        unit: sel.unit.clone(),
    };
    let deadlines: Vec<Deadline<'_>> = match &sel.period {
        Some(period) => {
            if let (Some(o), Some(u)) = (&sel.obligation, &sel.unit) {
                vec![deadline(cfg, cal, o, period, u)?]
            } else {
                let mut out = Vec::new();
                for ob in &cfg.obligations {
                    if filter.obligation.as_deref().is_some_and(|o| o != ob.id) {
                        continue;
                    }
                    for unit in &ob.reporters {
                        if filter.unit.as_deref().is_some_and(|u| u != unit) {
                            continue;
                        }
                        match planner::deadline_for(cfg, cal, &ob.id, period, unit) {
                            Ok(d) => out.push(d),
                            // A period key of another cycle, or a unit not
                            // owing it: simply not part of the selection.
                            Err(_) => continue,
                        }
                    }
                }
                out
            }
        }
        None => {
            let from = at
                .checked_sub(jiff::Span::new().days(BACK_DAYS))
                .unwrap_or(at);
            let to = at
                .checked_add(jiff::Span::new().days(AHEAD_DAYS))
                .unwrap_or(at);
            planner::deadlines(cfg, cal, from, to, &filter)
        }
    };
    let mut out = Vec::with_capacity(deadlines.len());
    let mut cached: Option<((String, String), Vec<CurrentState>)> = None;
    for d in &deadlines {
        let pair = (d.obligation.id.clone(), d.period.to_string());
        if cached.as_ref().is_none_or(|(p, _)| *p != pair) {
            let states = store.current(&pair.0, &pair.1).await?;
            cached = Some((pair.clone(), states));
        }
        let states = cached.as_ref().map(|(_, s)| s.as_slice()).unwrap_or(&[]);
        let current = states.iter().find(|s| s.key.unit == d.unit.id);
        out.push(row(d, current, at, cal));
    }
    Ok(out)
}

/// Classifies one deadline with what the store knows.
pub fn row(
    d: &Deadline<'_>,
    current: Option<&CurrentState>,
    at: Date,
    cal: &WorkCalendar,
) -> StatusRow {
    let tracking = match current {
        Some(c) => Tracking {
            submitted_on: c.submission.as_ref().map(|s| s.received_on),
            reference: c.submission.as_ref().and_then(|s| s.reference.clone()),
            waived: c.waiver.is_some(),
            extended_until: c.extension.as_ref().map(|e| e.until),
        },
        None => Tracking::default(),
    };
    let schedule = Schedule {
        opens: d.window.start,
        due: d.due,
        reminders_from: planner::events::reminder_days(d.obligation, cal, d.due)
            .into_iter()
            .min(),
    };
    let s = status::classify(at, &schedule, &tracking, cal);
    StatusRow {
        obligation: d.obligation.id.clone(),
        period: d.period.to_string(),
        unit: d.unit.id.clone(),
        state: s.state,
        due: s.due,
        submitted_on: s.submitted_on,
        days_late: s.days_late,
        reference: tracking.reference,
    }
}
