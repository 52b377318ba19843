//! The gauges `/metrics` reads from the database, each computed at most
//! once per maximum age however many scrapes arrive.
//!
//! Two reads are worth keeping: the outbox counted by (status, kind)
//! (`Outbox::outbox_summary`: a read of the tally the database keeps as
//! the outbox changes, a few dozen rows whatever the table's size, and one
//! index seek per queued status, [`OUTBOX_MAX_AGE`]) and the overdue units per obligation
//! (the status matrix of `hanbao status`: at national scale, 4,000 units ×
//! 20 obligations, a read of every current period's facts and 80,000
//! classifications, [`OVERDUE_MAX_AGE`]). Each is kept with the instant it
//! was computed and the configuration it was computed for:
//! - younger than its maximum age, for the configuration in force: served
//!   as it is;
//! - older, or computed for a configuration since reloaded: one scrape
//!   starts a refresh in the background (never two at once: the refresh
//!   holds a lock that the others only `try_lock`) and every scrape
//!   meanwhile is answered with the previous value;
//! - none yet (the first scrape after start): the scrapes wait for the one
//!   computation under the lock and share its result; it runs in its own
//!   task, so a scrape that times out does not cancel it.
//!
//! A refresh of the overdue units first reads the latest event id: while
//! the history, the day (or minute, for deadlines at a time of day) and
//! the configuration are unchanged, the figures are kept without reading
//! the matrix again; when it does read it, one (obligation, period) at a
//! time, keeping only the overdue units.
//!
//! The daemon computes both once in the background as its web interface
//! starts ([`warm`], through `http::start`), so that at national scale the
//! first scrape after a start finds values instead of waiting for the
//! status matrix (a scrape arriving while that first computation runs
//! waits for it, as above, and shares it).
//!
//! So a scrape costs two memory reads, concurrent scrapes never multiply
//! the work, and a slow database delays the numbers, not the scrapes.
//! `hanbao_*_age_seconds` says how old each value is. Must not: write
//! anything, or run two computations of one gauge at a time.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::status::StateName;
use crate::store::OutboxSummary;
use crate::tracking::{self, Selection, TrackingError};

use super::AppState;
use crate::live::Live;
use crate::store::{Outbox, Records};

/// How old the outbox counts may be before a scrape refreshes them.
pub const OUTBOX_MAX_AGE: Duration = Duration::from_secs(10);
/// How old the overdue units may be before a scrape refreshes them.
pub const OVERDUE_MAX_AGE: Duration = Duration::from_secs(60);

/// One computation of a gauge.
#[derive(Debug)]
pub struct Stamped<T> {
    /// When it was computed.
    pub at: Instant,
    pub value: T,
    /// The configuration it was computed for (a reload makes it stale).
    live: Weak<Live>,
}

#[derive(Debug)]
struct Inner<T> {
    last: Mutex<Option<Arc<Stamped<T>>>>,
    refresh: Arc<tokio::sync::Mutex<()>>,
    max_age: Mutex<Duration>,
}

/// A gauge's last computation and the lock of its one refresh at a time.
#[derive(Debug)]
pub(crate) struct Cached<T>(Arc<Inner<T>>);

impl<T> Clone for Cached<T> {
    fn clone(&self) -> Self {
        Cached(self.0.clone())
    }
}

impl<T: Send + Sync + 'static> Cached<T> {
    pub(crate) fn new(max_age: Duration) -> Cached<T> {
        Cached(Arc::new(Inner {
            last: Mutex::new(None),
            refresh: Arc::new(tokio::sync::Mutex::new(())),
            max_age: Mutex::new(max_age),
        }))
    }

    pub(crate) fn set_max_age(&self, age: Duration) {
        *self.0.max_age.lock().unwrap_or_else(|e| e.into_inner()) = age;
    }

    fn last(&self) -> Option<Arc<Stamped<T>>> {
        self.0
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn fresh(&self, s: &Stamped<T>, live: &Arc<Live>) -> bool {
        let max_age = *self.0.max_age.lock().unwrap_or_else(|e| e.into_inner());
        s.at.elapsed() < max_age && Weak::ptr_eq(&s.live, &Arc::downgrade(live))
    }

    /// Runs `compute` and keeps its value (the caller holds the lock).
    async fn run<E>(
        &self,
        live: Arc<Live>,
        compute: impl Future<Output = Result<T, E>>,
    ) -> Result<Arc<Stamped<T>>, E> {
        let value = compute.await?;
        let s = Arc::new(Stamped {
            at: Instant::now(),
            value,
            live: Arc::downgrade(&live),
        });
        *self.0.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(s.clone());
        Ok(s)
    }

    /// The gauge for the configuration `live`, computed by `compute` when
    /// needed (see the module doc).
    pub(crate) async fn get<E, Fut>(
        &self,
        live: Arc<Live>,
        compute: impl FnOnce() -> Fut,
    ) -> Result<Arc<Stamped<T>>, E>
    where
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let last = self.last();
        if let Some(s) = &last
            && self.fresh(s, &live)
        {
            return Ok(s.clone());
        }
        if let Some(stale) = last {
            // Refresh in the background unless a refresh runs already; this
            // scrape is answered now with what there is.
            if let Ok(guard) = self.0.refresh.clone().try_lock_owned() {
                let this = self.clone();
                let fut = compute();
                tokio::spawn(async move {
                    let _guard = guard;
                    if let Err(e) = this.run(live, fut).await {
                        tracing::error!(error = %e, "metrics: cannot refresh a gauge from the database");
                    }
                });
            }
            return Ok(stale);
        }
        // Nothing yet: wait for the one computation (ours or another's).
        // It runs in its own task, so a scrape that gives up (its request
        // timed out) does not cancel it: a first computation longer than
        // the request timeout still ends, and the next scrape has a value.
        let guard = self.0.refresh.clone().lock_owned().await;
        if let Some(s) = self.last() {
            return Ok(s);
        }
        let this = self.clone();
        let fut = compute();
        let task = tokio::spawn(async move {
            let _guard = guard;
            this.run(live, fut).await
        });
        match task.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: only when the runtime shuts down.
            Err(_) => std::future::pending().await,
        }
    }
}

/// The gauges of one server.
#[derive(Debug, Clone)]
pub(crate) struct Gauges {
    pub outbox: Cached<OutboxSummary>,
    /// Units with an overdue row, per obligation, in configuration order.
    pub overdue: Cached<Vec<(String, usize)>>,
    /// What the last computation of `overdue` was computed from.
    overdue_key: Arc<Mutex<Option<OverdueKey>>>,
}

impl Default for Gauges {
    fn default() -> Self {
        Gauges {
            outbox: Cached::new(OUTBOX_MAX_AGE),
            overdue: Cached::new(OVERDUE_MAX_AGE),
            overdue_key: Arc::default(),
        }
    }
}

/// The outbox counts for a scrape.
pub(crate) async fn outbox(state: &AppState) -> Result<Arc<Stamped<OutboxSummary>>, TrackingError> {
    let store = state.shared.store.clone();
    let refresh = move || async move { Ok(store.outbox_summary().await?) };
    state.shared.gauges.outbox.get(state.live(), refresh).await
}

/// Computes both gauges in the background, as a first scrape would: what
/// `http::start` does when the daemon starts its web interface. A failure
/// is logged; the next scrape tries again.
pub(crate) fn warm(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = outbox(&state).await {
            tracing::warn!(error = %e, "metrics: cannot count the outbox at start");
        }
        if let Err(e) = overdue(&state, Timestamp::now()).await {
            tracing::warn!(error = %e, "metrics: cannot count the overdue units at start");
        }
    });
}

/// What the overdue gauge was computed from: the history's latest event,
/// and the moment as far as it matters (the local day, or the local minute
/// when a report has a deadline at a time of day). While neither changes
/// (nor the configuration: [`Cached`] checks that), the figures stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OverdueKey {
    last_event: i64,
    moment: String,
}

/// The overdue units per obligation for a scrape at `now`. A refresh first
/// reads the latest event id (one primary-key seek): when neither it nor
/// the day (or minute) changed, the previous figures are kept and the
/// status matrix is not read again.
pub(crate) async fn overdue(
    state: &AppState,
    now: Timestamp,
) -> Result<Arc<Stamped<Vec<(String, usize)>>>, TrackingError> {
    let st = state.clone();
    let live = state.live();
    let gauges = state.shared.gauges.clone();
    state
        .shared
        .gauges
        .overdue
        .get(live.clone(), move || async move {
            let key = OverdueKey {
                last_event: st.shared.store.last_event_id().await?,
                moment: moment_key(&live, now),
            };
            let previous = gauges.overdue.last();
            {
                let known = gauges.overdue_key.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(prev) = &previous
                    && known.as_ref() == Some(&key)
                    && Weak::ptr_eq(&prev.live, &Arc::downgrade(&live))
                {
                    return Ok(prev.value.clone());
                }
            }
            let counts = overdue_counts(&st, &live, now).await?;
            *gauges.overdue_key.lock().unwrap_or_else(|e| e.into_inner()) = Some(key);
            st.shared
                .metrics
                .overdue_refreshes
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(counts)
        })
        .await
}

/// The local day of `now`, or its minute when some report's deadline has
/// a time of day (a state can then change within the day).
fn moment_key(live: &Live, now: Timestamp) -> String {
    let local = live.cfg.daemon.time_zone.to_datetime(now);
    if live.cfg.obligations.iter().any(|o| o.due_time.is_some()) {
        local.strftime("%Y-%m-%dT%H:%M").to_string()
    } else {
        local.date().to_string()
    }
}

/// Units with an overdue row in `hanbao status` on `now`'s day, per
/// obligation of the configuration in force. Memory holds the blocks
/// (`tracking::block`: a pointer per cell and a row per cell with an
/// event), never a row per cell of the look-back.
async fn overdue_counts(
    state: &AppState,
    live: &Live,
    now: Timestamp,
) -> Result<Vec<(String, usize)>, TrackingError> {
    let at = crate::status::Moment::local(now, &live.cfg.daemon.time_zone);
    let targets = tracking::targets(&live.cfg, &live.cal, &Selection::default(), at.day)?;
    // Per obligation, which units (by place in the file) have an overdue
    // cell, from the blocks (the event-less cells of a period share one
    // status, classified once): no classification or id lookup per cell.
    let mut overdue: HashMap<&str, Vec<bool>> = HashMap::new();
    let n = live.cfg.units.len();
    // One read of every report-period (one statement per obligation): the
    // facts are the cells with events, a small part of the look-back.
    let pairs: Vec<(String, String)> = targets
        .iter()
        .map(|t| (t.obligation.id.clone(), t.period.to_string()))
        .collect();
    let facts = state.shared.store.facts(&pairs).await?;
    for b in tracking::block::blocks(&targets, facts, &live.cal, at) {
        let blank = b.blank.state == StateName::Overdue;
        for &(u, slot) in &b.cells {
            let late = match slot {
                tracking::block::BLANK => blank,
                _ => b.status_of(slot).state == StateName::Overdue,
            };
            if late && let Some(i) = live.cfg.unit_place(u) {
                overdue
                    .entry(b.obligation.id.as_str())
                    .or_insert_with(|| vec![false; n])[i] = true;
            }
        }
    }
    Ok(live
        .cfg
        .obligations
        .iter()
        .map(|o| {
            (
                o.id.clone(),
                overdue
                    .get(o.id.as_str())
                    .map_or(0, |u| u.iter().filter(|&&x| x).count()),
            )
        })
        .collect())
}
