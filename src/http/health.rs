//! `/healthz` and `/metrics`: is the daemon well, and the numbers to graph.
//!
//! Health reads the store at request time (with a timeout); without a
//! token it says only whether the daemon is well (`{"status"}` and 200 or
//! 503), the details (database, scheduler, leadership, reason) need an
//! administrator or metrics token. Metrics need such a token too: they
//! count overdue units per obligation and failed authentications. They
//! read their gauges through `gauges` (aggregate queries, at most once per
//! maximum age, one computation at a time). Must not: change anything.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::json;

use crate::heartbeat::TICK_MAX_AGE;
use crate::store::{OutboxCount, OutboxKind, OutboxStatus, OutboxSummary};

use super::AppState;
use super::Shared;
use super::auth::{Client, Presented, authorize_reader, bearer};
use super::gauges::Stamped;
use super::metrics::{Exposition, Metrics};

/// How long `/healthz` waits for the database.
pub const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// The scheduler's state as `/healthz` reports it.
fn scheduler(state: &AppState) -> (&'static str, Option<u64>) {
    match &state.shared.heartbeat {
        // No scheduler in this process (e.g. a bare `http::serve`): not healthy
        // for a daemon whose job is the scheduler.
        None => ("not_running", None),
        Some(hb) => match hb.age(Instant::now()) {
            None => ("not_started", None),
            Some(age) if age <= TICK_MAX_AGE => ("ok", Some(age.as_secs())),
            Some(age) => ("stalled", Some(age.as_secs())),
        },
    }
}

/// `GET /healthz`: 200 when the database answers within [`DB_TIMEOUT`] and
/// the last scheduler tick is at most `TICK_MAX_AGE` old; 503 otherwise.
/// The body is `{"status"}` alone, or with an administrator or metrics
/// token every detail and the `reason`.
pub async fn healthz(
    State(state): State<AppState>,
    Client(ip): Client,
    headers: HeaderMap,
) -> Response {
    let asked = !matches!(bearer(&headers), Presented::Missing);
    let (reader, db) = tokio::join!(
        async {
            if asked {
                Some(authorize_reader(&state, ip, bearer(&headers)).await)
            } else {
                None
            }
        },
        tokio::time::timeout(DB_TIMEOUT, state.shared.store.applied_migrations())
    );
    if let Some(Err(e)) = reader {
        return e.into_response();
    }
    let db = match db {
        Ok(Ok(_)) => "ok",
        Ok(Err(e)) => {
            tracing::error!(error = %e, "healthz: database error");
            "error"
        }
        Err(_) => "timeout",
    };
    let (sched, age) = scheduler(&state);
    let healthy = db == "ok" && sched == "ok";
    // Whether this instance plans and escalates (null before the first
    // check or without a scheduler): informative, not part of health.
    let leader = state.shared.heartbeat.as_ref().and_then(|h| h.leader());
    let status = if healthy { "ok" } else { "unavailable" };
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if reader.is_none() {
        return (code, axum::Json(json!({ "status": status }))).into_response();
    }
    let mut body = json!({
        "status": status,
        "database": db,
        "scheduler": sched,
        "last_tick_age_s": age,
        "leader": leader,
    });
    if !healthy {
        let mut reasons = Vec::new();
        if db != "ok" {
            reasons.push(format!("database: {db}"));
        }
        if sched != "ok" {
            reasons.push(format!("scheduler: {sched}"));
        }
        body["reason"] = json!(reasons.join("; "));
    }
    (code, axum::Json(body)).into_response()
}

const KINDS: [OutboxKind; 5] = [
    OutboxKind::Reminder,
    OutboxKind::DueToday,
    OutboxKind::Overdue,
    OutboxKind::Escalation,
    OutboxKind::Acknowledgement,
];

/// `GET /metrics`: Prometheus text format 0.0.4, for an administrator or
/// metrics token (`Authorization: Bearer`).
pub async fn metrics(
    State(state): State<AppState>,
    Client(ip): Client,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = authorize_reader(&state, ip, bearer(&headers)).await {
        return e.into_response();
    }
    match render(&state, Timestamp::now()).await {
        Ok(text) => {
            let mut resp = text.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "metrics: database error");
            (StatusCode::SERVICE_UNAVAILABLE, "database error\n").into_response()
        }
    }
}

/// The exposition at `now`.
pub async fn render(
    state: &AppState,
    now: Timestamp,
) -> Result<String, crate::tracking::TrackingError> {
    let mut e = Exposition::new();
    let outbox = super::gauges::outbox(state).await?;
    outbox_families(&mut e, &outbox, now);
    let overdue = super::gauges::overdue(state, now).await?;
    overdue_families(&mut e, &overdue, state.metrics());
    process_families(&mut e, &state.shared);
    intake_family(&mut e, state).await?;
    Ok(e.finish())
}

/// The watched mailbox's messages by outcome: recorded, found already
/// recorded, refused (three index counts, cheap at any size).
async fn intake_family(
    e: &mut Exposition,
    state: &AppState,
) -> Result<(), crate::tracking::TrackingError> {
    use crate::store::Intake;
    let store = &state.shared.store;
    e.family(
        "hanbao_intake_messages_total",
        "counter",
        "Messages of the watched mailbox processed, by outcome (recorded, already, refused).",
    );
    for outcome in ["recorded", "already", "refused"] {
        let n = store.intake_count(outcome).await?;
        e.sample(
            "hanbao_intake_messages_total",
            &[("outcome", outcome)],
            n as f64,
        );
    }
    Ok(())
}

/// The outbox's families: rows waiting and how long, sent, failed and
/// retried notifications by kind, and the age of these counts.
fn outbox_families(e: &mut Exposition, stamped: &Stamped<OutboxSummary>, now: Timestamp) {
    let summary = &stamped.value;
    let queued = summary
        .counts
        .iter()
        .filter(|c| matches!(c.status, OutboxStatus::Pending | OutboxStatus::Sending))
        .map(|c| c.rows)
        .sum::<u64>();
    e.family(
        "hanbao_outbox_pending",
        "gauge",
        "Outbox rows not yet sent (pending or being sent).",
    );
    e.sample("hanbao_outbox_pending", &[], queued as f64);
    e.family(
        "hanbao_outbox_oldest_pending_age_seconds",
        "gauge",
        "How long the longest-waiting due outbox row has been due (0 when none is due).",
    );
    let oldest = summary
        .oldest_queued
        .map_or(0, |t| (now.as_second() - t.as_second()).max(0));
    e.sample(
        "hanbao_outbox_oldest_pending_age_seconds",
        &[],
        oldest as f64,
    );

    for (name, help, count) in [
        (
            "hanbao_notifications_sent_total",
            "Notifications sent, by kind (outbox rows with status sent).",
            (|c: &OutboxCount| {
                if c.status == OutboxStatus::Sent {
                    c.rows
                } else {
                    0
                }
            }) as fn(&OutboxCount) -> u64,
        ),
        (
            "hanbao_notifications_failed_total",
            "Notifications that failed permanently, by kind.",
            |c| {
                if c.status == OutboxStatus::Failed {
                    c.rows
                } else {
                    0
                }
            },
        ),
        (
            "hanbao_notifications_retried_total",
            "Transient send failures scheduled for another attempt, by kind.",
            // A pending row's attempts all failed; any other row's last
            // attempt is its current or final one.
            |c| {
                if c.status == OutboxStatus::Pending {
                    c.attempts
                } else {
                    c.attempts.saturating_sub(c.attempted)
                }
            },
        ),
    ] {
        e.family(name, "counter", help);
        for kind in KINDS {
            let n: u64 = summary
                .counts
                .iter()
                .filter(|c| c.kind == kind)
                .map(count)
                .sum();
            e.sample(name, &[("kind", kind.as_str())], n as f64);
        }
    }

    e.family(
        "hanbao_outbox_counts_age_seconds",
        "gauge",
        "Seconds since the outbox figures above were counted (at most every 10 s, when scraped).",
    );
    e.sample(
        "hanbao_outbox_counts_age_seconds",
        &[],
        stamped.at.elapsed().as_secs_f64().floor(),
    );
}

/// The overdue units by obligation, their age and how often computed.
fn overdue_families(
    e: &mut Exposition,
    overdue: &Stamped<Vec<(String, usize)>>,
    metrics: &Metrics,
) {
    use std::sync::atomic::Ordering::Relaxed;
    e.family(
        "hanbao_overdue_units",
        "gauge",
        "Units with at least one overdue row in `hanbao status`, by obligation (computed at most once a minute).",
    );
    for (obligation, n) in &overdue.value {
        e.sample(
            "hanbao_overdue_units",
            &[("obligation", obligation)],
            *n as f64,
        );
    }
    e.family(
        "hanbao_overdue_units_age_seconds",
        "gauge",
        "Seconds since hanbao_overdue_units was computed.",
    );
    e.sample(
        "hanbao_overdue_units_age_seconds",
        &[],
        overdue.at.elapsed().as_secs_f64().floor(),
    );
    e.family(
        "hanbao_overdue_units_refreshes_total",
        "counter",
        "Computations of hanbao_overdue_units (at most one at a time, shared by concurrent scrapes).",
    );
    e.sample(
        "hanbao_overdue_units_refreshes_total",
        &[],
        metrics.overdue_refreshes.load(Relaxed) as f64,
    );
}

/// The process's own families: scheduler tick, leadership, reloads and
/// refused API requests.
fn process_families(e: &mut Exposition, shared: &Shared) {
    use std::sync::atomic::Ordering::Relaxed;
    e.family(
        "hanbao_scheduler_last_tick_age_seconds",
        "gauge",
        "Seconds since the scheduler last ticked (absent without a scheduler).",
    );
    if let Some(age) = shared
        .heartbeat
        .as_ref()
        .and_then(|h| h.age(Instant::now()))
    {
        e.sample(
            "hanbao_scheduler_last_tick_age_seconds",
            &[],
            age.as_secs_f64().floor(),
        );
    }

    e.family(
        "hanbao_leader",
        "gauge",
        "1 when this instance leads (plans, sends the digest and escalations), else 0 (absent before the first check).",
    );
    if let Some(leader) = shared.heartbeat.as_ref().and_then(|h| h.leader()) {
        e.sample("hanbao_leader", &[], f64::from(u8::from(leader)));
    }

    e.family(
        "hanbao_config_reloads_total",
        "counter",
        "Configuration reloads, by result.",
    );
    e.sample(
        "hanbao_config_reloads_total",
        &[("result", "ok")],
        shared.metrics.reloads_ok.load(Relaxed) as f64,
    );
    e.sample(
        "hanbao_config_reloads_total",
        &[("result", "failed")],
        shared.metrics.reloads_failed.load(Relaxed) as f64,
    );
    e.family(
        "hanbao_api_auth_failures_total",
        "counter",
        "API requests refused for a missing, unknown or revoked token.",
    );
    e.sample(
        "hanbao_api_auth_failures_total",
        &[],
        shared.metrics.auth_failures.load(Relaxed) as f64,
    );
    e.family(
        "hanbao_api_auth_rate_limited_total",
        "counter",
        "API requests refused because the client had too many failed authentications.",
    );
    e.sample(
        "hanbao_api_auth_rate_limited_total",
        &[],
        shared.metrics.auth_rate_limited.load(Relaxed) as f64,
    );
}
