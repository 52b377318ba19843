//! `POST /dashboard/units/{unit}/{obligation}/{period}/revoke`: withdraws
//! the receipt, extension or waiver in effect for one report, from the
//! report page's "Thu hồi ghi nhận" form (`subject`, a required `reason`).
//!
//! Posted twice: the first post checks the reason and that the subject is
//! in effect, then shows what will be withdrawn (200, nothing written);
//! its "Xác nhận thu hồi" posts again with `step=record`, which checks
//! everything again and records the revocation (an event in the history,
//! with the reason, the token's identity as actor, source "web"), then
//! redirects to the report page with a flash. Nothing in effect is 409
//! with a Vietnamese message; a missing reason or subject 422; both show
//! the report page again with what was typed.
//!
//! Must not: write anything but the one revocation, or write on a post
//! that is not `step=record`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::input::{self, Field};
use crate::store::{CurrentState, Key, Recorded, Records, Revocation, Source, StoreError, Subject};

use super::super::AppState;
use super::super::date_field::Step;
use super::super::html::{self, Detail};
use super::extract::{CsrfForm, Owed};
use super::page::{self, Frame, store_failed};
use super::report::{Facts, RevokeFields, Typed, facts, show};
use super::session::Admin;
use super::view::{dmy, key_href};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/dashboard/units/{unit}/{obligation}/{period}/revoke",
        post(revoke),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RevokeForm {
    subject: String,
    reason: String,
    step: Step,
}

/// What is withdrawn, in words: "ghi nhận đã nhận báo cáo".
fn subject_words(s: Subject) -> &'static str {
    match s {
        Subject::Submission => "ghi nhận đã nhận báo cáo",
        Subject::Extension => "gia hạn",
        Subject::Waiver => "miễn nộp",
    }
}

/// What of `subject` is in effect, as the confirmation lists it; `None`
/// when nothing is.
fn in_effect(c: &CurrentState, subject: Subject) -> Option<Vec<Detail>> {
    let d = |label: &'static str, value: String| Detail { label, value };
    match subject {
        Subject::Submission => c.submission.as_ref().map(|s| {
            let mut v = vec![d("Ngày nhận", dmy(s.received_on))];
            if let Some(r) = &s.reference {
                v.push(d("Số văn bản", r.clone()));
            }
            if let Some(n) = &s.note {
                v.push(d("Ghi chú", n.clone()));
            }
            v.push(d("Người ghi", s.stamp.actor.clone()));
            v
        }),
        Subject::Extension => c.extension.as_ref().map(|e| {
            let mut v = vec![d("Hạn mới", dmy(e.until))];
            if let Some(r) = &e.reason {
                v.push(d("Lý do gia hạn", r.clone()));
            }
            v.push(d("Người ghi", e.stamp.actor.clone()));
            v
        }),
        Subject::Waiver => c.waiver.as_ref().map(|w| {
            let mut v = Vec::new();
            if let Some(r) = &w.reason {
                v.push(d("Lý do miễn nộp", r.clone()));
            }
            v.push(d("Người ghi", w.stamp.actor.clone()));
            v
        }),
    }
}

/// The report page again with the form as typed and `message` (`status`).
async fn refused(
    state: &AppState,
    admin: &Admin,
    key: &Key,
    status: StatusCode,
    mut typed: RevokeFields,
    message: String,
) -> Response {
    typed.error = Some(message);
    show(state, admin, key, status, Typed::Revoke(typed)).await
}

/// The confirmation: the report, what will be withdrawn and why (200).
async fn confirm_page(
    state: &AppState,
    admin: &Admin,
    key: &Key,
    subject: Subject,
    details: Vec<Detail>,
    reason: String,
) -> Response {
    #[derive(Serialize)]
    struct ConfirmView {
        report: Facts,
        heading: String,
        action: String,
        csrf: String,
        subject: &'static str,
        reason: String,
        details: Vec<Detail>,
        back: String,
    }
    let today = state.live().today(Timestamp::now());
    let report = match facts(state, key, today).await {
        Ok((f, _)) => f,
        Err(page) => return page,
    };
    let base = key_href(&key.unit, &key.obligation, &key.period);
    let view = ConfirmView {
        report,
        heading: format!("Thu hồi {}", subject_words(subject)),
        action: format!("{base}/revoke"),
        csrf: admin.csrf.clone(),
        subject: subject.as_str(),
        reason,
        details,
        back: base,
    };
    let frame = Frame {
        title: "Kiểm tra trước khi thu hồi",
        nav: Some(admin.nav()),
        flash: None,
    };
    page::render(StatusCode::OK, "dashboard/revoke.html", frame, &view)
}

/// `POST .../revoke`: shows what will be withdrawn, then (`step=record`)
/// withdraws it.
async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Owed { key, .. }: Owed,
    CsrfForm(f): CsrfForm<RevokeForm>,
) -> Response {
    let typed = RevokeFields {
        error: None,
        subject: f.subject.clone(),
        reason: f.reason.clone(),
    };
    if f.step == Step::Edit {
        return show(&state, &admin, &key, StatusCode::OK, Typed::Revoke(typed)).await;
    }
    let Some(subject) = Subject::parse(f.subject.trim()) else {
        let text = "Chọn điều cần thu hồi: ghi nhận đã nhận, gia hạn hoặc miễn nộp.".to_string();
        return refused(
            &state,
            &admin,
            &key,
            StatusCode::UNPROCESSABLE_ENTITY,
            typed,
            text,
        )
        .await;
    };
    let labels = |field: Field| match field {
        Field::Reason => "Lý do thu hồi",
        _ => "Giá trị",
    };
    let reason = match input::revocation_reason(&f.reason) {
        Ok(r) => r,
        Err(p) => {
            let text = html::problems_text(&p, labels);
            return refused(
                &state,
                &admin,
                &key,
                StatusCode::UNPROCESSABLE_ENTITY,
                typed,
                text,
            )
            .await;
        }
    };
    let nothing = || {
        format!(
            "Không có {} nào đang có hiệu lực để thu hồi; không có gì thay đổi.",
            subject_words(subject)
        )
    };
    if f.step == Step::Check {
        let current = match state.shared.store.current_for(&key).await {
            Ok(c) => c,
            Err(e) => return store_failed(e),
        };
        let Some(details) = in_effect(&current, subject) else {
            return refused(&state, &admin, &key, StatusCode::CONFLICT, typed, nothing()).await;
        };
        return confirm_page(&state, &admin, &key, subject, details, reason).await;
    }
    let revocation = Revocation {
        key: key.clone(),
        subject,
        reason: Some(reason),
        actor: admin.actor(),
        source: Source::Web,
    };
    let what = subject_words(subject);
    match state
        .shared
        .store
        .revoke(revocation, Timestamp::now())
        .await
    {
        Ok(r) => {
            tracing::info!(
                actor = %admin.actor(),
                source = "web",
                key = %r.event().key,
                subject = subject.as_str(),
                new = r.is_new(),
                "dashboard revoke"
            );
            let text = match r {
                Recorded::New(_) => format!("Đã thu hồi {what}."),
                Recorded::AlreadyRecorded(_) => {
                    format!("Không có gì thay đổi: {what} đã được thu hồi trước đó.")
                }
            };
            admin.flash(&state, true, text);
            Redirect::to(&key_href(&key.unit, &key.obligation, &key.period)).into_response()
        }
        Err(StoreError::NothingToRevoke { .. }) => {
            refused(&state, &admin, &key, StatusCode::CONFLICT, typed, nothing()).await
        }
        Err(StoreError::Invalid { field, reason }) => {
            let text = format!("Dữ liệu không hợp lệ ({field}: {reason}).");
            refused(
                &state,
                &admin,
                &key,
                StatusCode::UNPROCESSABLE_ENTITY,
                typed,
                text,
            )
            .await
        }
        Err(e) => store_failed(e),
    }
}
