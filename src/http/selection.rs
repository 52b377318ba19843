//! Status rows for the API, from `tracking` (the same rows as `hanbao
//! status`), in the JSON shape of `hanbao status --json`.
//!
//! Must not: write to the store, read the clock (`at` is an argument) or
//! know about HTTP. Selection semantics, id validation and nearest-id
//! messages all come from `crate::tracking`, so the CLI and the API agree.

use jiff::civil::Date;
use serde::Serialize;

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::planner::Deadline;
use crate::status::StateName;
use crate::store::Store;
use crate::tracking::{self, TrackingError};

pub use crate::tracking::Selection;

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
    pub working_days_late: Option<i32>,
}

/// Checks that the ids the selection names exist.
pub fn check_ids(cfg: &Config, sel: &Selection) -> Result<(), TrackingError> {
    if let Some(id) = &sel.obligation {
        tracking::obligation(cfg, id)?;
    }
    if let Some(id) = &sel.unit {
        tracking::unit(cfg, id)?;
    }
    Ok(())
}

/// The deadline of one key that must be owed (`tracking::resolve`).
pub fn deadline<'a>(
    cfg: &'a Config,
    cal: &WorkCalendar,
    obligation: &str,
    period: &str,
    unit: &str,
) -> Result<Deadline<'a>, TrackingError> {
    tracking::resolve(cfg, cal, obligation, period, unit)
}

/// The rows of a selection on day `at` (`tracking::status`).
pub async fn rows(
    store: &Store,
    cfg: &Config,
    cal: &WorkCalendar,
    at: Date,
    sel: &Selection,
) -> Result<Vec<StatusRow>, TrackingError> {
    let rows = tracking::status(store, cfg, cal, sel, at).await?;
    Ok(rows
        .into_iter()
        .map(|r| StatusRow {
            obligation: r.obligation.id.clone(),
            period: r.period.to_string(),
            unit: r.unit.id.clone(),
            state: r.status.state,
            due: r.status.due,
            submitted_on: r.status.submitted_on,
            days_late: r.status.days_late,
            reference: r.reference,
            working_days_late: r.status.working_days_late,
        })
        .collect())
}
