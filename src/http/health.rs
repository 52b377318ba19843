//! `/healthz` and `/metrics`: is the daemon well, and the numbers to graph.
//!
//! Both read the store at request time (health with a timeout). Must not:
//! require a token (they reveal no ids beyond obligation ids in labels) or
//! change anything.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::json;

use crate::daemon::run::TICK_MAX_AGE;
use crate::status::StateName;
use crate::store::{Outbox, OutboxKind, OutboxStatus};

use super::AppState;
use super::metrics::Exposition;
use super::selection::{self, Selection};

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
/// the last scheduler tick is at most `TICK_MAX_AGE` old; 503 otherwise,
/// with `reason`.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let db = match tokio::time::timeout(DB_TIMEOUT, state.shared.store.applied_migrations()).await {
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
    let mut body = json!({
        "status": if healthy { "ok" } else { "unavailable" },
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
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

const KINDS: [OutboxKind; 4] = [
    OutboxKind::Reminder,
    OutboxKind::DueToday,
    OutboxKind::Overdue,
    OutboxKind::Escalation,
];

/// `GET /metrics`: Prometheus text format 0.0.4.
pub async fn metrics(State(state): State<AppState>) -> Response {
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
    use std::sync::atomic::Ordering::Relaxed;
    let shared = &state.shared;
    let mut e = Exposition::new();

    let rows = shared.store.outbox(None).await?;
    let queued: Vec<_> = rows
        .iter()
        .filter(|r| matches!(r.status, OutboxStatus::Pending | OutboxStatus::Sending))
        .collect();
    e.family(
        "hanbao_outbox_pending",
        "gauge",
        "Outbox rows not yet sent (pending or being sent).",
    );
    e.sample("hanbao_outbox_pending", &[], queued.len() as f64);
    e.family(
        "hanbao_outbox_oldest_pending_age_seconds",
        "gauge",
        "How long the longest-waiting due outbox row has been due (0 when none is due).",
    );
    let oldest = queued
        .iter()
        .map(|r| (now.as_second() - r.next_attempt_at.as_second()).max(0))
        .max()
        .unwrap_or(0);
    e.sample(
        "hanbao_outbox_oldest_pending_age_seconds",
        &[],
        oldest as f64,
    );

    for (name, help, count) in [
        (
            "hanbao_notifications_sent_total",
            "Notifications sent, by kind (outbox rows with status sent).",
            (|r: &crate::store::OutboxRow| u64::from(r.status == OutboxStatus::Sent))
                as fn(&crate::store::OutboxRow) -> u64,
        ),
        (
            "hanbao_notifications_failed_total",
            "Notifications that failed permanently, by kind.",
            |r| u64::from(r.status == OutboxStatus::Failed),
        ),
        (
            "hanbao_notifications_retried_total",
            "Transient send failures scheduled for another attempt, by kind.",
            |r| {
                let extra = u64::from(r.status != OutboxStatus::Pending);
                u64::from(r.attempts).saturating_sub(extra)
            },
        ),
    ] {
        e.family(name, "counter", help);
        for kind in KINDS {
            let n: u64 = rows.iter().filter(|r| r.key.kind == kind).map(count).sum();
            e.sample(name, &[("kind", kind.as_str())], n as f64);
        }
    }

    let live = state.live();
    let today = live.today(now);
    let status = selection::rows(
        &shared.store,
        &live.cfg,
        &live.cal,
        today,
        &Selection::default(),
    )
    .await?;
    e.family(
        "hanbao_overdue_units",
        "gauge",
        "Units with at least one overdue row in `hanbao status` today, by obligation.",
    );
    for ob in &live.cfg.obligations {
        let n = status
            .iter()
            .filter(|r| r.obligation == ob.id && r.state == StateName::Overdue)
            .map(|r| r.unit.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        e.sample("hanbao_overdue_units", &[("obligation", &ob.id)], n as f64);
    }

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
    Ok(e.finish())
}
