//! Status rows for the API, from `tracking` (the same rows as `hanbao
//! status`), in the JSON shape of `hanbao status --json`.
//!
//! Listings are paged in a stable order ([`page`]): (obligation, period,
//! unit) ids, bytewise, read one (obligation, period) at a time.
//!
//! Must not: write to the store, read the clock (`at` is an argument) or
//! know about HTTP. Selection semantics, id validation and nearest-id
//! messages all come from `crate::tracking`, so the CLI and the API agree.

use std::collections::HashSet;

use jiff::civil::Date;
use serde::Serialize;

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::planner::Deadline;
use crate::status::StateName;
use crate::store::Records;
use crate::store::Store;
use crate::tracking::{self, Row, TrackingError};

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

fn status_row(r: Row<'_>) -> StatusRow {
    StatusRow {
        obligation: r.obligation.id.clone(),
        period: r.period.to_string(),
        unit: r.unit.id.clone(),
        state: r.status.state,
        due: r.status.due,
        submitted_on: r.status.submitted_on,
        days_late: r.status.days_late,
        reference: r.reference,
        working_days_late: r.status.working_days_late,
    }
}

/// Every state, for the `state` filter.
const STATES: [StateName; 8] = [
    StateName::NotOpen,
    StateName::Open,
    StateName::DueSoon,
    StateName::Overdue,
    StateName::SubmittedOnTime,
    StateName::SubmittedLate,
    StateName::Waived,
    StateName::Extended,
];

/// The states a `state` filter names: a comma list of state names and of
/// the shorthands `received` (on time or late) and `missing` (neither
/// received nor waived). Err names the first word that is neither.
pub fn states(list: &str) -> Result<Vec<StateName>, String> {
    let mut out = Vec::new();
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let more: Vec<StateName> = match word {
            "received" => vec![StateName::SubmittedOnTime, StateName::SubmittedLate],
            "missing" => vec![
                StateName::NotOpen,
                StateName::Open,
                StateName::DueSoon,
                StateName::Overdue,
                StateName::Extended,
            ],
            w => match STATES.into_iter().find(|s| s.as_str() == w) {
                Some(s) => vec![s],
                None => return Err(word.to_string()),
            },
        };
        for s in more {
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    Ok(out)
}

/// The stable order of a paged listing: (obligation, period, unit) ids,
/// compared bytewise. It does not depend on the configuration file's order.
pub type Place = (String, String, String);

/// What a page lists: a selection, filters on its rows (the units of a
/// group, some states), where the previous page ended and how many rows.
#[derive(Debug, Clone, Default)]
pub struct Listing<'a> {
    pub sel: Selection,
    /// Only these units (a group's members).
    pub units: Option<HashSet<&'a str>>,
    /// Only these states (empty: all).
    pub states: Vec<StateName>,
    /// The last row of the previous page.
    pub after: Option<Place>,
    pub limit: usize,
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct Page {
    pub rows: Vec<StatusRow>,
    /// Whether rows remain after the last one.
    pub more: bool,
}

/// At most `l.limit` rows of a listing on day `at`, in the stable order
/// ([`Place`]), starting after `l.after`. The (obligation, period) pairs are
/// read from the store one at a time, and only those at or after `after`'s
/// pair, so a page costs the pairs it covers, not the whole table; the
/// states are those of `tracking::status` (the same [`tracking::rows`]).
pub async fn page(
    store: &Store,
    cfg: &Config,
    cal: &WorkCalendar,
    at: Date,
    l: &Listing<'_>,
) -> Result<Page, TrackingError> {
    let after = l.after.as_ref();
    let mut targets = tracking::targets(cfg, cal, &l.sel, at)?;
    for t in &mut targets {
        if let Some(members) = &l.units {
            t.units.retain(|u| members.contains(u.id.as_str()));
        }
        t.units.sort_by(|a, b| a.id.cmp(&b.id));
    }
    targets.retain(|t| {
        !t.units.is_empty()
            && after.is_none_or(|(o, p, _)| {
                (t.obligation.id.as_str(), &*t.period) >= (o.as_str(), p.as_str())
            })
    });
    targets.sort_by(|a, b| {
        (a.obligation.id.as_str(), &*a.period).cmp(&(b.obligation.id.as_str(), &*b.period))
    });
    let mut rows = Vec::new();
    for t in targets.chunks(1) {
        let pair = [(t[0].obligation.id.clone(), t[0].period.to_string())];
        let facts = store.facts(&pair).await?;
        for r in tracking::rows(t, facts, cal, at) {
            if let Some((o, p, u)) = after
                && (r.obligation.id.as_str(), &*r.period, r.unit.id.as_str())
                    <= (o.as_str(), p.as_str(), u.as_str())
            {
                continue;
            }
            if !l.states.is_empty() && !l.states.contains(&r.status.state) {
                continue;
            }
            if rows.len() == l.limit {
                return Ok(Page { rows, more: true });
            }
            rows.push(status_row(r));
        }
    }
    Ok(Page { rows, more: false })
}
