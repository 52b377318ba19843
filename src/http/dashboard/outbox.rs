//! `GET /dashboard/outbox`: pending, sending and failed messages with their
//! reasons; `POST /dashboard/outbox/{id}/retry` puts a failed one back to
//! pending, due now (the daemon's next tick sends it, after its usual
//! re-check that it is still wanted).
//!
//! Must not: send mail, or change any outbox row but a failed one.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::store::{OutboxKind, OutboxRow, OutboxStatus};

use super::super::AppState;
use super::extract::{CsrfForm, NoFields};
use super::page::{self, Frame, error_page, store_failed};
use super::session::Admin;
use super::view::{local, unit_href};
use crate::store::Outbox;

/// Outbox rows listed per state (the rest are counted).
const OUTBOX_SHOWN: usize = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard/outbox", get(outbox_page))
        .route("/dashboard/outbox/{id}/retry", post(retry))
}

fn kind_vi(k: OutboxKind) -> &'static str {
    match k {
        OutboxKind::Reminder => "Nhắc hạn",
        OutboxKind::DueToday => "Đến hạn hôm nay",
        OutboxKind::Overdue => "Quá hạn (gửi đơn vị)",
        OutboxKind::Escalation => "Báo cáo cấp trên",
    }
}

/// One message.
#[derive(Serialize)]
struct Message {
    id: i64,
    kind: &'static str,
    obligation: String,
    period: String,
    unit_href: String,
    unit: String,
    to: String,
    attempts: u32,
    /// The next attempt, or the lease of a message being sent.
    next: String,
    error: String,
}

/// The messages of one state.
#[derive(Serialize)]
struct Section {
    title: &'static str,
    /// Failed messages have a retry button instead of a next attempt.
    failed: bool,
    total: usize,
    rows: Vec<Message>,
}

#[derive(Serialize)]
struct OutboxView<'a> {
    csrf: &'a str,
    sections: Vec<Section>,
}

fn message(r: &OutboxRow, tz: &TimeZone) -> Message {
    let next = match r.status {
        OutboxStatus::Sending => format!(
            "đang gửi (giữ đến {})",
            r.lease_until.map(|t| local(t, tz)).unwrap_or_default()
        ),
        _ => local(r.next_attempt_at, tz),
    };
    Message {
        id: r.id,
        kind: kind_vi(r.key.kind),
        obligation: r.key.obligation.clone(),
        period: r.key.period.clone(),
        unit_href: unit_href(&r.key.unit),
        unit: r.key.unit.clone(),
        to: r.key.recipient.clone(),
        attempts: r.attempts,
        next,
        error: r.last_error.clone().unwrap_or_default(),
    }
}

/// `GET /dashboard/outbox`.
async fn outbox_page(State(state): State<AppState>, admin: Admin) -> Response {
    let flash = admin.take_flash(&state);
    let live = state.live();
    let tz = &live.cfg.daemon.time_zone;
    let mut sections = Vec::new();
    for (status, title) in [
        (OutboxStatus::Failed, "Gửi lỗi (không tự gửi lại)"),
        (OutboxStatus::Sending, "Đang gửi"),
        (OutboxStatus::Pending, "Chờ gửi"),
    ] {
        let rows = match state.shared.store.outbox(Some(status)).await {
            Ok(r) => r,
            Err(e) => return store_failed(e),
        };
        sections.push(Section {
            title,
            failed: status == OutboxStatus::Failed,
            total: rows.len(),
            rows: rows
                .iter()
                .take(OUTBOX_SHOWN)
                .map(|r| message(r, tz))
                .collect(),
        });
    }
    let view = OutboxView {
        csrf: &admin.csrf,
        sections,
    };
    let frame = Frame {
        title: "Thư chờ gửi",
        nav: Some(admin.nav()),
        flash,
    };
    page::render(StatusCode::OK, "dashboard/outbox.html", frame, &view)
}

/// `POST /dashboard/outbox/{id}/retry`: a failed message goes back to
/// pending, due now.
async fn retry(
    State(state): State<AppState>,
    admin: Admin,
    path: Result<Path<String>, PathRejection>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Response {
    // A segment that is not UTF-8 once decoded is no message number either.
    let Ok(Path(id)) = path else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Không tìm thấy thư",
            "Đường dẫn không chỉ đến một thư.",
        );
    };
    let Ok(id) = id.parse::<i64>() else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Không tìm thấy thư",
            &format!("\"{id}\" không phải số thứ tự của một thư."),
        );
    };
    match state.shared.store.retry_outbox(id, Timestamp::now()).await {
        Ok(true) => {
            tracing::info!(actor = %admin.actor(), outbox_id = id, "dashboard: failed message put back to pending");
            admin.flash(
                &state,
                true,
                format!("Thư #{id} sẽ được gửi lại trong lần chạy tới của hanbao."),
            );
        }
        Ok(false) => admin.flash(
            &state,
            false,
            format!("Thư #{id} không còn ở trạng thái gửi lỗi; không có gì thay đổi."),
        ),
        Err(e) => return store_failed(e),
    }
    Redirect::to("/dashboard/outbox").into_response()
}
