//! One report (unit, obligation, period): `GET
//! /dashboard/units/{unit}/{obligation}/{period}` shows its state, its
//! history and three forms, which post to `.../submission` (the report
//! arrived), `.../extension` (a new due day) and `.../waiver` (excused).
//!
//! The key is checked by the `Owed` extractor and the post by `CsrfForm`
//! before a handler runs. Typed values are checked by `crate::input`; a
//! problem shows the form again with the message and what was typed (422),
//! writing nothing. A write redirects back here (POST-redirect-GET) with a
//! flash message; the store's refusals show the form again (409 for a
//! conflict, 422 otherwise). Writes carry the token's identity as actor
//! and source "web". Must not: write anything else.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::values::parse_date;
use crate::input::{self, Field, MAX_NOTE, MAX_REFERENCE};
use crate::store::{
    HistoryFilter, Key, NewExtension, NewSubmission, NewWaiver, Recorded, Source, Store,
    StoreError, Subject,
};
use crate::tracking::{self, Selection, TrackingError};

use super::super::{AppState, html};
use super::extract::{CsrfForm, Owed};
use super::page::{self, Frame, error_page, store_failed};
use super::session::Admin;
use super::view::{History, cell_text, dmy, key_href, pct, unit_href};

const PAGE: &str = "/dashboard/units/{unit}/{obligation}/{period}";

pub fn routes<S: Store + 'static>() -> Router<AppState<S>> {
    Router::new()
        .route(PAGE, get(report_page::<S>))
        .route(&format!("{PAGE}/submission"), post(record_submission::<S>))
        .route(&format!("{PAGE}/extension"), post(grant_extension::<S>))
        .route(&format!("{PAGE}/waiver"), post(grant_waiver::<S>))
}

/// The submission form's values and message.
#[derive(Debug, Default, Serialize)]
struct SubmissionFields {
    error: Option<String>,
    reference: String,
    received_on: String,
    note: String,
}

/// The extension form's values and message.
#[derive(Debug, Default, Serialize)]
struct ExtensionFields {
    error: Option<String>,
    until: String,
    reason: String,
}

/// The waiver form's values and message.
#[derive(Debug, Default, Serialize)]
struct WaiverFields {
    error: Option<String>,
    reason: String,
}

/// What was typed in one of the forms, kept when the page is shown again.
#[derive(Debug)]
enum Typed {
    Nothing,
    Submission(SubmissionFields),
    Extension(ExtensionFields),
    Waiver(WaiverFields),
}

impl Typed {
    fn with_error(mut self, text: String) -> Typed {
        match &mut self {
            Typed::Nothing => {}
            Typed::Submission(f) => f.error = Some(text),
            Typed::Extension(f) => f.error = Some(text),
            Typed::Waiver(f) => f.error = Some(text),
        }
        self
    }
}

/// How each form names its fields in a message.
fn label(form: Subject) -> impl Fn(Field) -> &'static str {
    move |f| match (f, form) {
        (Field::ReceivedOn, _) => "Ngày nhận",
        (Field::Reference, _) => "Số văn bản",
        (Field::Note, _) => "Ghi chú",
        (Field::Until, _) => "Hạn mới",
        (Field::Reason, Subject::Extension) => "Lý do gia hạn",
        (Field::Reason, Subject::Waiver) => "Lý do miễn nộp",
        (Field::Reason, Subject::Submission) => "Lý do",
    }
}

/// The report's facts at the top of the page.
#[derive(Serialize)]
struct Facts {
    title: String,
    obligation: String,
    period: String,
    unit_href: String,
    unit_name: String,
    due: String,
    state: &'static str,
    text: String,
    reference: Option<String>,
}

#[derive(Serialize)]
struct ReportView<'a> {
    report: Facts,
    /// Where the forms post (`.../submission` and so on).
    base: String,
    csrf: &'a str,
    max_reference: usize,
    max_note: usize,
    submission: SubmissionFields,
    extension: ExtensionFields,
    waiver: WaiverFields,
    history: History,
    back_href: String,
}

/// The page of `key` with `typed` in its form.
async fn show<S: Store>(
    state: &AppState<S>,
    admin: &Admin,
    key: &Key,
    status: StatusCode,
    typed: Typed,
) -> Response {
    let flash = admin.take_flash(state);
    let live = state.live();
    let today = live.today(Timestamp::now());
    let sel = Selection {
        obligation: Some(key.obligation.clone()),
        period: Some(key.period.clone()),
        unit: Some(key.unit.clone()),
    };
    let not_found = |text: &str| error_page(StatusCode::NOT_FOUND, "Không tìm thấy báo cáo", text);
    let rows = match tracking::status(&state.shared.store, &live.cfg, &live.cal, &sel, today).await
    {
        Ok(r) => r,
        Err(TrackingError::Store(e)) => return store_failed(e),
        Err(e) => return not_found(&format!("{e}.")),
    };
    let Some(row) = rows.first() else {
        return not_found("Đơn vị này không phải nộp kỳ báo cáo này.");
    };
    let filter = HistoryFilter {
        obligation: Some(key.obligation.clone()),
        period: Some(key.period.clone()),
        unit: Some(key.unit.clone()),
    };
    let events = match state.shared.store.history(&filter).await {
        Ok(e) => e,
        Err(e) => return store_failed(e),
    };
    let mut view = ReportView {
        report: Facts {
            title: row.obligation.title.clone(),
            obligation: row.obligation.id.clone(),
            period: row.period.to_string(),
            unit_href: unit_href(&row.unit.id),
            unit_name: row.unit.name.clone(),
            due: dmy(row.status.due),
            state: row.status.state.as_str(),
            text: cell_text(row),
            reference: row.reference.clone(),
        },
        base: key_href(&key.unit, &key.obligation, &key.period),
        csrf: &admin.csrf,
        max_reference: MAX_REFERENCE,
        max_note: MAX_NOTE,
        submission: SubmissionFields {
            received_on: today.to_string(),
            ..SubmissionFields::default()
        },
        extension: ExtensionFields::default(),
        waiver: WaiverFields::default(),
        history: History::new(&events, &live.cfg.daemon.time_zone, false),
        back_href: format!(
            "/dashboard?obligation={}&period={}",
            pct(&key.obligation),
            pct(&key.period)
        ),
    };
    match typed {
        Typed::Nothing => {}
        Typed::Submission(f) => view.submission = f,
        Typed::Extension(f) => view.extension = f,
        Typed::Waiver(f) => view.waiver = f,
    }
    let title = format!("{} — {}", row.obligation.title, row.unit.name);
    let frame = Frame {
        title: &title,
        nav: Some(admin.nav()),
        flash,
    };
    page::render(status, "dashboard/report.html", frame, &view)
}

/// `GET /dashboard/units/{unit}/{obligation}/{period}`.
async fn report_page<S: Store + 'static>(
    State(state): State<AppState<S>>,
    admin: Admin,
    owed: Owed,
) -> Response {
    show(&state, &admin, &owed.key, StatusCode::OK, Typed::Nothing).await
}

/// Runs a checked write: on success a flash and a redirect to the
/// report's page; otherwise the form again with the message (409 for a
/// conflict, 422 for what the store refused), nothing written.
async fn finish_write<S: Store>(
    state: &AppState<S>,
    admin: &Admin,
    key: &Key,
    what: &str,
    result: Result<Recorded, StoreError>,
    typed: Typed,
) -> Response {
    let (status, msg) = match result {
        Ok(r) => {
            tracing::info!(
                actor = %admin.actor(),
                source = "web",
                key = %r.event().key,
                what,
                new = r.is_new(),
                "dashboard write"
            );
            let text = if r.is_new() {
                format!("Đã ghi: {what}.")
            } else {
                format!("Không có gì thay đổi: {what} đã được ghi trước đó.")
            };
            admin.flash(state, true, text);
            return Redirect::to(&key_href(&key.unit, &key.obligation, &key.period))
                .into_response();
        }
        Err(StoreError::Conflict { existing, .. }) => (
            StatusCode::CONFLICT,
            format!(
                "Đã có ghi nhận khác cho báo cáo này (ngày gửi {}, số văn bản {}). Nếu cần thay bằng ghi nhận mới, hãy đánh dấu \"Sửa ghi nhận đã có\".",
                existing.received_on.map(dmy).unwrap_or_default(),
                existing.reference.as_deref().unwrap_or("không ghi")
            ),
        ),
        Err(StoreError::NothingToCorrect { .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Chưa có ghi nhận nào để sửa; bỏ đánh dấu \"Sửa ghi nhận đã có\".".into(),
        ),
        Err(StoreError::Invalid { field, reason }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Dữ liệu không hợp lệ ({field}: {reason})."),
        ),
        Err(e) => return store_failed(e),
    };
    show(state, admin, key, status, typed.with_error(msg)).await
}

#[derive(Debug, Deserialize)]
pub struct SubmissionForm {
    #[serde(default)]
    reference: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    correction: Option<String>,
}

/// `POST .../submission`: records that the report arrived.
async fn record_submission<S: Store + 'static>(
    State(state): State<AppState<S>>,
    admin: Admin,
    Owed { key, .. }: Owed,
    CsrfForm(f): CsrfForm<SubmissionForm>,
) -> Response {
    let now = Timestamp::now();
    let checked = match parse_date(&f.received_on) {
        Err(e) => Err(format!("Ngày nhận: {e} (ghi dd/mm/yyyy).")),
        Ok(day) => input::submission(
            input::Submission {
                received_on: day,
                reference: Some(&f.reference),
                note: Some(&f.note),
            },
            state.live().today(now),
        )
        .map_err(|p| html::problems_text(&p, label(Subject::Submission))),
    };
    let correction = f.correction.is_some();
    let typed = Typed::Submission(SubmissionFields {
        error: None,
        reference: f.reference,
        received_on: f.received_on,
        note: f.note,
    });
    let checked = match checked {
        Ok(c) => c,
        Err(e) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return show(&state, &admin, &key, status, typed.with_error(e)).await;
        }
    };
    let new = NewSubmission {
        key: key.clone(),
        received_on: checked.received_on,
        received_at: None,
        reference: checked.reference,
        note: checked.note,
        actor: admin.actor(),
        source: Source::Web,
        correction,
    };
    let result = state.shared.store.record_submission(new, now).await;
    finish_write(&state, &admin, &key, "đã nhận báo cáo", result, typed).await
}

#[derive(Debug, Deserialize)]
pub struct ExtensionForm {
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
}

/// `POST .../extension`: grants a new due date.
async fn grant_extension<S: Store + 'static>(
    State(state): State<AppState<S>>,
    admin: Admin,
    Owed { key, due }: Owed,
    CsrfForm(f): CsrfForm<ExtensionForm>,
) -> Response {
    let checked = match parse_date(&f.until) {
        Err(e) => Err(format!("Hạn mới: {e} (ghi dd/mm/yyyy).")),
        Ok(day) => input::extension(day, due, &f.reason)
            .map_err(|p| html::problems_text(&p, label(Subject::Extension))),
    };
    let typed = Typed::Extension(ExtensionFields {
        error: None,
        until: f.until,
        reason: f.reason,
    });
    let checked = match checked {
        Ok(c) => c,
        Err(e) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return show(&state, &admin, &key, status, typed.with_error(e)).await;
        }
    };
    let what = format!("gia hạn đến {}", dmy(checked.until));
    let new = NewExtension {
        key: key.clone(),
        until: checked.until,
        reason: checked.reason,
        actor: admin.actor(),
        source: Source::Web,
    };
    let result = state
        .shared
        .store
        .grant_extension(new, Timestamp::now())
        .await;
    finish_write(&state, &admin, &key, &what, result, typed).await
}

#[derive(Debug, Deserialize)]
pub struct WaiverForm {
    #[serde(default)]
    reason: String,
}

/// `POST .../waiver`: excuses the unit from this period.
async fn grant_waiver<S: Store + 'static>(
    State(state): State<AppState<S>>,
    admin: Admin,
    Owed { key, .. }: Owed,
    CsrfForm(f): CsrfForm<WaiverForm>,
) -> Response {
    let checked =
        input::waiver(&f.reason).map_err(|p| html::problems_text(&p, label(Subject::Waiver)));
    let typed = Typed::Waiver(WaiverFields {
        error: None,
        reason: f.reason,
    });
    let reason = match checked {
        Ok(r) => r,
        Err(e) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return show(&state, &admin, &key, status, typed.with_error(e)).await;
        }
    };
    let new = NewWaiver {
        key: key.clone(),
        reason,
        actor: admin.actor(),
        source: Source::Web,
    };
    let result = state.shared.store.grant_waiver(new, Timestamp::now()).await;
    finish_write(&state, &admin, &key, "miễn nộp", result, typed).await
}
