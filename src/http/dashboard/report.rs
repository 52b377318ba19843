//! One report (unit, obligation, period): `GET
//! /dashboard/units/{unit}/{obligation}/{period}` shows its state, its
//! history and three forms, which post to `.../submission` (the report
//! arrived), `.../extension` (a new due day) and `.../waiver` (excused).
//!
//! The key is checked by the `Owed` extractor and the post by `CsrfForm`
//! before a handler runs. Dates are typed as dd/mm/yyyy text
//! (`http::date_field`), other values checked by `crate::input`; a problem
//! shows the form again with the message and what was typed (422), writing
//! nothing. A form with a date is posted twice: the first post echoes the
//! date in words with what was typed in hidden fields (200, nothing
//! written); its "Xác nhận" posts again with `step=record`, which checks
//! everything again and writes; "Sửa lại" (`step=edit`) shows the form with
//! the values kept. A write redirects back here (POST-redirect-GET) with a
//! flash message; the store's refusals show the form again (409 for a
//! conflict, 422 otherwise). The receipt form may carry files
//! (multipart): they are kept when first posted (content-addressed, so a
//! receipt never recorded leaves only files nothing refers to), named by
//! the check page, and recorded with the receipt in one transaction. Writes carry the token's identity as actor
//! and source "web". Must not: write anything else, or write on a post
//! that is not `step=record` when the form has a date.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::input::{self, Field, MAX_NOTE, MAX_REFERENCE};
use crate::store::{
    CurrentState, HistoryFilter, Key, NewExtension, NewSubmission, NewWaiver, Recorded, Source,
    StoreError, Subject,
};
use crate::tracking::{self, Selection, TrackingError};

use super::super::AppState;
use super::super::date_field::{self, Step};
use super::super::html::{self, Check, Hidden};
use super::extract::{CsrfForm, Owed};
use super::page::{self, Frame, error_page, store_failed};
use super::sent::Messages;
use super::session::Admin;
use super::view::{FilesView, History, cell_text, dmy, key_href, pct, unit_href};
use crate::files::Blobs;
use crate::store::{FileSource, Files, Outbox, Records};

use super::super::upload::{self, UploadError};

const PAGE: &str = "/dashboard/units/{unit}/{obligation}/{period}";

pub fn routes(upload_limit: axum::extract::DefaultBodyLimit) -> Router<AppState> {
    Router::new()
        .route(PAGE, get(report_page))
        .route(
            &format!("{PAGE}/submission"),
            post(record_submission).layer(upload_limit),
        )
        .route(&format!("{PAGE}/extension"), post(grant_extension))
        .route(&format!("{PAGE}/waiver"), post(grant_waiver))
}

/// The submission form's values and message.
#[derive(Debug, Default, Serialize)]
pub(super) struct SubmissionFields {
    error: Option<String>,
    reference: String,
    received_on: String,
    note: String,
    correction: bool,
}

/// The extension form's values and message.
#[derive(Debug, Default, Serialize)]
pub(super) struct ExtensionFields {
    error: Option<String>,
    until: String,
    reason: String,
}

/// The waiver form's values and message.
#[derive(Debug, Default, Serialize)]
pub(super) struct WaiverFields {
    error: Option<String>,
    reason: String,
}

/// The revoke form's values and message (`dashboard::revoke`).
#[derive(Debug, Default, Serialize)]
pub(super) struct RevokeFields {
    pub(super) error: Option<String>,
    pub(super) subject: String,
    pub(super) reason: String,
}

/// What is in effect and can be revoked: a choice of the revoke form.
#[derive(Debug, Serialize)]
struct Revocable {
    subject: &'static str,
    text: String,
}

/// What was typed in one of the forms, kept when the page is shown again.
#[derive(Debug)]
pub(super) enum Typed {
    Nothing,
    Submission(SubmissionFields),
    Extension(ExtensionFields),
    Waiver(WaiverFields),
    Revoke(RevokeFields),
}

impl Typed {
    fn with_error(mut self, text: String) -> Typed {
        match &mut self {
            Typed::Nothing => {}
            Typed::Submission(f) => f.error = Some(text),
            Typed::Extension(f) => f.error = Some(text),
            Typed::Waiver(f) => f.error = Some(text),
            Typed::Revoke(f) => f.error = Some(text),
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
        (Field::By, _) => "Người ghi",
    }
}

/// The report's facts at the top of the page.
#[derive(Serialize)]
pub(super) struct Facts {
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
    revocable: Vec<Revocable>,
    revoke: RevokeFields,
    messages: Messages,
    files: FilesView,
    history: History,
    back_href: String,
}

/// The report's facts and its page title, or the page that says why not.
pub(super) async fn facts(
    state: &AppState,
    key: &Key,
    today: jiff::civil::Date,
) -> Result<(Facts, String), Response> {
    let live = state.live();
    let sel = Selection {
        obligation: Some(key.obligation.clone()),
        period: Some(key.period.clone()),
        unit: Some(key.unit.clone()),
    };
    let not_found = |text: &str| error_page(StatusCode::NOT_FOUND, "Không tìm thấy báo cáo", text);
    // Today, and now when it is today (a deadline at 14:00 passes at 14:00).
    let now = crate::status::Moment::local(Timestamp::now(), &live.cfg.daemon.time_zone);
    let at = if now.day == today { now } else { today.into() };
    let rows = match tracking::status(&state.shared.store, &live.cfg, &live.cal, &sel, at).await {
        Ok(r) => r,
        Err(TrackingError::Store(e)) => return Err(store_failed(e)),
        Err(e) => return Err(not_found(&format!("{e}."))),
    };
    let Some(row) = rows.first() else {
        return Err(not_found("Đơn vị này không phải nộp kỳ báo cáo này."));
    };
    let facts = Facts {
        title: row.obligation.title.clone(),
        obligation: row.obligation.id.clone(),
        period: row.period.to_string(),
        unit_href: unit_href(&row.unit.id),
        unit_name: row.unit.name.clone(),
        due: dmy(row.status.due),
        state: row.status.state.as_str(),
        text: cell_text(row),
        reference: row.reference.clone(),
    };
    let title = format!("{} — {}", row.obligation.title, row.unit.name);
    Ok((facts, title))
}

/// The page of `key` with `typed` in its form.
/// The form again with what was typed and why it cannot be recorded (422).
async fn unprocessable(state: &AppState, admin: &Admin, key: &Key, typed: Typed) -> Response {
    show(state, admin, key, StatusCode::UNPROCESSABLE_ENTITY, typed).await
}

pub(super) async fn show(
    state: &AppState,
    admin: &Admin,
    key: &Key,
    status: StatusCode,
    typed: Typed,
) -> Response {
    let flash = admin.take_flash(state);
    let live = state.live();
    let today = live.today(Timestamp::now());
    let (report, title) = match facts(state, key, today).await {
        Ok(f) => f,
        Err(page) => return page,
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
    let current = match state.shared.store.current_for(key).await {
        Ok(c) => c,
        Err(e) => return store_failed(e),
    };
    let sent = match state.shared.store.outbox_for_key(key).await {
        Ok(r) => r,
        Err(e) => return store_failed(e),
    };
    let kept = match state.shared.store.files_for(key).await {
        Ok(f) => f,
        Err(e) => return store_failed(e),
    };
    let files = FilesView::new(
        &kept,
        key,
        &live.cfg.daemon.files,
        &live.cfg.daemon.time_zone,
    );
    let messages = Messages::new(
        sent.clone(),
        sent.len(),
        &sent,
        false,
        format!(
            "/dashboard/outbox?status=sent&unit={}&obligation={}&period={}",
            pct(&key.unit),
            pct(&key.obligation),
            pct(&key.period)
        ),
        &live,
        Timestamp::now(),
    );
    let mut view = ReportView {
        report,
        base: key_href(&key.unit, &key.obligation, &key.period),
        csrf: &admin.csrf,
        max_reference: MAX_REFERENCE,
        max_note: MAX_NOTE,
        submission: SubmissionFields {
            received_on: date_field::shown(today),
            ..SubmissionFields::default()
        },
        extension: ExtensionFields::default(),
        waiver: WaiverFields::default(),
        revocable: revocable(&current),
        revoke: RevokeFields::default(),
        messages,
        files,
        history: History::new(&events, &live.cfg.daemon.time_zone, false),
        back_href: format!(
            "/dashboard/matrix?obligation={}&period={}",
            pct(&key.obligation),
            pct(&key.period)
        ),
    };
    match typed {
        Typed::Nothing => {}
        Typed::Submission(f) => view.submission = f,
        Typed::Extension(f) => view.extension = f,
        Typed::Waiver(f) => view.waiver = f,
        Typed::Revoke(f) => view.revoke = f,
    }
    let frame = Frame {
        title: &title,
        nav: Some(admin.nav()),
        flash,
    };
    page::render(status, "dashboard/report.html", frame, &view)
}

/// What is in effect for the report, as the revoke form offers it.
fn revocable(c: &CurrentState) -> Vec<Revocable> {
    let mut out = Vec::new();
    if let Some(s) = &c.submission {
        let mut text = format!("Ghi nhận đã nhận báo cáo ngày {}", dmy(s.received_on));
        if let Some(r) = &s.reference {
            text.push_str(&format!(", số văn bản {r}"));
        }
        out.push(Revocable {
            subject: Subject::Submission.as_str(),
            text,
        });
    }
    if let Some(e) = &c.extension {
        out.push(Revocable {
            subject: Subject::Extension.as_str(),
            text: format!("Gia hạn đến {}", dmy(e.until)),
        });
    }
    if c.waiver.is_some() {
        out.push(Revocable {
            subject: Subject::Waiver.as_str(),
            text: "Miễn nộp kỳ này".into(),
        });
    }
    out
}

/// The echo of a typed date (`check`) under the report's facts, before
/// anything is written (200).
async fn check_page(
    state: &AppState,
    admin: &Admin,
    key: &Key,
    heading: &str,
    mut check: Check,
) -> Response {
    #[derive(Serialize)]
    struct CheckView<'a> {
        report: Facts,
        heading: &'a str,
        check: Check,
    }
    let today = state.live().today(Timestamp::now());
    let report = match facts(state, key, today).await {
        Ok((f, _)) => f,
        Err(page) => return page,
    };
    check.csrf = Some(admin.csrf.clone());
    let frame = Frame {
        title: "Kiểm tra trước khi ghi",
        nav: Some(admin.nav()),
        flash: None,
    };
    let view = CheckView {
        report,
        heading,
        check,
    };
    page::render(StatusCode::OK, "dashboard/check.html", frame, &view)
}

/// `GET /dashboard/units/{unit}/{obligation}/{period}`.
async fn report_page(State(state): State<AppState>, admin: Admin, owed: Owed) -> Response {
    show(&state, &admin, &owed.key, StatusCode::OK, Typed::Nothing).await
}

/// Runs a checked write: on success a flash and a redirect to the
/// report's page; otherwise the form again with the message (409 for a
/// conflict, 422 for what the store refused), nothing written.
async fn finish_write(
    state: &AppState,
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SubmissionForm {
    reference: String,
    received_on: String,
    note: String,
    correction: Option<String>,
    step: Step,
    /// The files chosen with the first post, kept already, carried by the
    /// check page to the post that records (`carried_files`).
    files: String,
}

impl SubmissionForm {
    /// The form from the text fields of a multipart post.
    fn of_fields(fields: &upload::Fields) -> SubmissionForm {
        SubmissionForm {
            reference: fields.get("reference").to_string(),
            received_on: fields.get("received_on").to_string(),
            note: fields.get("note").to_string(),
            correction: Some(fields.get("correction"))
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            step: match fields.get("step") {
                "record" => Step::Record,
                "edit" => Step::Edit,
                _ => Step::Check,
            },
            files: fields.get("files").to_string(),
        }
    }
}

/// Files kept by the first post of the form, as the check page carries
/// them: `sha256:size:type:name` each (the name last), separated by a
/// backslash, which a sanitised name never holds (nor a type).
fn carry_files(files: &[crate::files::Received]) -> String {
    files
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}:{}",
                f.blob.sha256, f.blob.size, f.media_type, f.name
            )
        })
        .collect::<Vec<_>>()
        .join("\\")
}

/// The files the check page carried, each checked to be kept with that
/// size (a post can name nothing but a kept file); `None` if one is not.
async fn carried_files(blobs: &Blobs, text: &str) -> Option<Vec<crate::files::Received>> {
    let mut out = Vec::new();
    for line in text.split('\\').filter(|l| !l.trim().is_empty()) {
        let mut parts = line.splitn(4, ':');
        let (sha, size, kind, name) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let size: u64 = size.parse().ok()?;
        let path = blobs.path_of(sha)?;
        let meta = tokio::fs::metadata(&path).await.ok()?;
        if meta.len() != size {
            return None;
        }
        out.push(crate::files::Received::new(
            crate::files::Blob {
                sha256: sha.to_string(),
                size,
            },
            Some(name),
            Some(kind),
        ));
    }
    Some(out)
}

/// The submission form as posted: a form (no file), or multipart with the
/// files chosen, kept under their final names (nothing recorded yet).
async fn read_submission(
    state: &AppState,
    admin: &Admin,
    key: &Key,
    req: axum::extract::Request,
) -> Result<(SubmissionForm, Vec<crate::files::Received>), Response> {
    use axum::extract::FromRequest as _;
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let CsrfForm(f) = CsrfForm::<SubmissionForm>::from_request(req, state).await?;
        return Ok((f, Vec::new()));
    }
    let Ok(body) = axum::extract::Multipart::from_request(req, state).await else {
        return Err(page::bad_form());
    };
    let live = state.live();
    let blobs = Blobs::under(&live.cfg.daemon.state_dir);
    let got = upload::read(body, &blobs, &live.cfg.daemon.files, |fields| {
        if admin.csrf_ok(fields.get("csrf")) {
            Ok(SubmissionForm::of_fields(fields))
        } else {
            Err(())
        }
    })
    .await;
    match got {
        Ok(u) => Ok((u.gated, u.files)),
        Err(UploadError::Gate(())) => Err(page::bad_csrf()),
        Err(e) => {
            let Some((status, text)) = e.refusal() else {
                if let UploadError::Files(e) = &e {
                    tracing::error!(error = %e, "cannot keep a file sent with a receipt");
                }
                return Err(store_failed("không lưu được tệp"));
            };
            Err(show(state, admin, key, status, Typed::Nothing.with_error(text)).await)
        }
    }
}

/// `POST .../submission`: echoes the day received (and the files chosen,
/// kept already), then (`step=record`) records that the report arrived
/// together with its files, in one transaction: both or neither.
async fn record_submission(
    State(state): State<AppState>,
    admin: Admin,
    Owed { key, opens, .. }: Owed,
    req: axum::extract::Request,
) -> Response {
    let (f, uploaded) = match read_submission(&state, &admin, &key, req).await {
        Ok(got) => got,
        Err(r) => return r,
    };
    let now = Timestamp::now();
    let labels = label(Subject::Submission);
    let correction = f.correction.is_some();
    let typed = Typed::Submission(SubmissionFields {
        error: None,
        reference: f.reference.clone(),
        received_on: f.received_on.clone(),
        note: f.note.clone(),
        correction,
    });
    if f.step == Step::Edit {
        return show(&state, &admin, &key, StatusCode::OK, typed).await;
    }
    let checked = date_field::read(labels(Field::ReceivedOn), &f.received_on).and_then(|day| {
        input::submission(
            input::Submission {
                received_on: day,
                reference: Some(&f.reference),
                note: Some(&f.note),
            },
            opens,
            state.live().today(now),
        )
        .map_err(|p| html::problems_text(&p, &labels))
    });
    let checked = match checked {
        Ok(c) => c,
        Err(e) => return unprocessable(&state, &admin, &key, typed.with_error(e)).await,
    };
    let day = checked.received_on;
    let live = state.live();
    let blobs = Blobs::under(&live.cfg.daemon.state_dir);
    let Some(mut chosen) = carried_files(&blobs, &f.files).await else {
        let e = "Tệp đã chọn không còn trên máy chủ; hãy chọn lại tệp.".to_string();
        return unprocessable(&state, &admin, &key, typed.with_error(e)).await;
    };
    chosen.extend(uploaded);
    if let Err(e) = crate::files::check_count(chosen.len(), &live.cfg.daemon.files) {
        return unprocessable(&state, &admin, &key, typed.with_error(format!("{e}."))).await;
    }
    if f.step == Step::Check {
        let base = key_href(&key.unit, &key.obligation, &key.period);
        let mut check = Check::new(format!("{base}/submission"), "Ghi nhận ngày nhận", day);
        check.hidden = vec![
            Hidden::new("reference", checked.reference.clone().unwrap_or_default()),
            Hidden::new("received_on", date_field::shown(day)),
            Hidden::new("note", checked.note.clone().unwrap_or_default()),
        ];
        check
            .hidden
            .push(Hidden::new("files", carry_files(&chosen)));
        check.detail("Số văn bản", checked.reference.as_deref());
        check.detail("Ghi chú", checked.note.as_deref());
        let names: Vec<String> = chosen
            .iter()
            .map(|c| format!("{} ({})", c.name, crate::files::size_text(c.blob.size)))
            .collect();
        check.detail("Tệp gửi kèm", Some(&names.join("; ")));
        if correction {
            check.hidden.push(Hidden::new("correction", "1"));
            check.detail(
                "Sửa ghi nhận đã có",
                Some("có: thay ghi nhận trước bằng ghi nhận này"),
            );
        }
        let heading = "Ghi nhận đã nhận báo cáo";
        return check_page(&state, &admin, &key, heading, check).await;
    }
    let mut what = format!("đã nhận báo cáo ngày {}", dmy(day));
    if !chosen.is_empty() {
        what.push_str(&format!(" và {} tệp gửi kèm", chosen.len()));
    }
    let actor = admin.actor();
    let files = chosen
        .into_iter()
        .map(|r| r.into_new_file(&key, FileSource::Dashboard, &actor, now, None))
        .collect();
    let new = NewSubmission {
        key: key.clone(),
        received_on: day,
        received_at: None,
        reference: checked.reference,
        note: checked.note,
        actor,
        source: Source::Web,
        correction,
    };
    let result = state
        .shared
        .store
        .record_submission_with_files(new, files, now)
        .await
        .map(|(recorded, _)| recorded);
    finish_write(&state, &admin, &key, &what, result, typed).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExtensionForm {
    step: Step,
    until: String,
    reason: String,
}

/// `POST .../extension`: echoes the new due day, then (`step=record`)
/// grants it.
async fn grant_extension(
    State(state): State<AppState>,
    admin: Admin,
    owed: Owed,
    CsrfForm(f): CsrfForm<ExtensionForm>,
) -> Response {
    let Owed { key, due, .. } = owed;
    let labels = label(Subject::Extension);
    let typed = Typed::Extension(ExtensionFields {
        error: None,
        until: f.until.clone(),
        reason: f.reason.clone(),
    });
    if f.step == Step::Edit {
        return show(&state, &admin, &key, StatusCode::OK, typed).await;
    }
    let checked = date_field::read(labels(Field::Until), &f.until).and_then(|day| {
        input::extension(day, due, state.live().today(Timestamp::now()), &f.reason)
            .map_err(|p| html::problems_text(&p, &labels))
    });
    let checked = match checked {
        Ok(c) => c,
        Err(e) => return unprocessable(&state, &admin, &key, typed.with_error(e)).await,
    };
    if f.step == Step::Check {
        let base = key_href(&key.unit, &key.obligation, &key.period);
        let mut check = Check::new(
            format!("{base}/extension"),
            "Gia hạn đến hết ngày",
            checked.until,
        );
        check.hidden = vec![
            Hidden::new("until", date_field::shown(checked.until)),
            Hidden::new("reason", checked.reason.clone()),
        ];
        check.detail("Hạn gốc", Some(&dmy(due)));
        check.detail("Lý do gia hạn", Some(&checked.reason));
        return check_page(&state, &admin, &key, "Gia hạn", check).await;
    }
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WaiverForm {
    reason: String,
}

/// `POST .../waiver`: excuses the unit from this period.
async fn grant_waiver(
    State(state): State<AppState>,
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
        Err(e) => return unprocessable(&state, &admin, &key, typed.with_error(e)).await,
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
