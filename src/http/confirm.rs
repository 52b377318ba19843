//! `/confirm`: the page a one-click link from a reminder opens, and the form
//! it posts, recording the submission with source "link". Its route is
//! here, beside its handlers; its pages are `confirm/*.html` templates of
//! `http::html` (auto-escaped).
//!
//! The link's HMAC signature is the only credential: it names one
//! (obligation, period, unit) and expires. A tampered link gets 400, an
//! expired one 410, each with a page that says so in Vietnamese; using a
//! link twice is harmless (the store answers "already recorded"). Typed
//! values are checked by `crate::input` (422: the form again, with the
//! message and the typed document number). Must not: send mail, or accept
//! a write whose signature was not checked.

use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::config::values::{format_date, parse_date};
use crate::input::{self, Field};
use crate::store::{Key, NewSubmission, Recorded, Source, Store, StoreError};

use super::AppState;
use super::html;
use super::link::{LinkError, LinkScope};
use super::selection;

pub fn routes<S: Store + 'static>() -> Router<AppState<S>> {
    Router::new().route("/confirm", get(show::<S>).post(submit::<S>))
}

/// A page: template `name` (which extends `confirm/frame.html`) with
/// `view`'s fields.
fn page(status: StatusCode, name: &str, title: &str, view: &impl Serialize) -> Response {
    #[derive(Serialize)]
    struct Frame<'a> {
        title: &'a str,
    }
    match html::render(name, &Frame { title }, view) {
        Ok(page) => (status, Html(page)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, template = name, "confirmation link: cannot render a page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi khi dựng trang; xem nhật ký của hanbao.",
            )
                .into_response()
        }
    }
}

/// A page with one message.
fn message(status: StatusCode, title: &str, text: &str) -> Response {
    #[derive(Serialize)]
    struct Message<'a> {
        text: &'a str,
    }
    page(status, "confirm/message.html", title, &Message { text })
}

/// The link's fields, as in [`LinkScope::path`].
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    o: String,
    p: String,
    u: String,
    e: i64,
    s: String,
}

impl LinkQuery {
    fn scope(&self) -> LinkScope {
        LinkScope {
            obligation: self.o.clone(),
            period: self.p.clone(),
            unit: self.u.clone(),
            expires: self.e,
        }
    }
}

/// The form: the link's fields (not flattened: serde's flatten cannot read
/// the expiry as a number from a form) and what was typed.
#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    o: String,
    p: String,
    u: String,
    e: i64,
    s: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    received_on: String,
}

impl ConfirmForm {
    fn link(&self) -> LinkQuery {
        LinkQuery {
            o: self.o.clone(),
            p: self.p.clone(),
            u: self.u.clone(),
            e: self.e,
            s: self.s.clone(),
        }
    }
}

fn bad_link() -> Response {
    message(
        StatusCode::BAD_REQUEST,
        "Liên kết không hợp lệ",
        "Liên kết này không đúng hoặc đã bị sửa. Hãy mở lại liên kết trong thư nhắc, hoặc liên hệ bộ phận theo dõi báo cáo.",
    )
}

/// What a checked link names, as the pages show it.
#[derive(Debug, Serialize)]
struct Report {
    #[serde(skip)]
    key: Key,
    title: String,
    period: String,
    unit_name: String,
    due: String,
}

/// Checks that links are on, that the signature and expiry hold and that
/// the configuration still has the report; what it names, or the page
/// that says why not.
fn open<S: Store>(state: &AppState<S>, q: &LinkQuery) -> Result<Report, Box<Response>> {
    let Some(key) = state.shared.link_key.get() else {
        return Err(Box::new(message(
            StatusCode::NOT_FOUND,
            "Chưa bật xác nhận qua liên kết",
            "Máy chủ này chưa được cấu hình khóa ký liên kết xác nhận.",
        )));
    };
    let scope = q.scope();
    match scope.verify(key, &q.s, Timestamp::now()) {
        Ok(()) => {}
        Err(LinkError::Tampered) => return Err(Box::new(bad_link())),
        Err(LinkError::Expired) => {
            return Err(Box::new(message(
                StatusCode::GONE,
                "Liên kết đã hết hạn",
                "Liên kết xác nhận này đã hết hạn. Hãy dùng liên kết trong thư nhắc mới nhất, hoặc báo cho bộ phận theo dõi báo cáo.",
            )));
        }
    }
    let live = state.live();
    match selection::deadline(
        &live.cfg,
        &live.cal,
        &scope.obligation,
        &scope.period,
        &scope.unit,
    ) {
        Ok(d) => Ok(Report {
            key: Key::new(&d.obligation.id, d.period.to_string(), &d.unit.id),
            title: d.obligation.title.clone(),
            period: d.period.to_string(),
            unit_name: d.unit.name.clone(),
            due: format_date(d.due),
        }),
        Err(_) => Err(Box::new(message(
            StatusCode::NOT_FOUND,
            "Không tìm thấy báo cáo",
            "Báo cáo mà liên kết này nói đến không còn trong cấu hình.",
        ))),
    }
}

/// What is recorded: the day the report was sent and its number, or a
/// different submission already in effect (`existing`).
#[derive(Serialize)]
struct RecordedView<'a> {
    report: &'a Report,
    on: String,
    reference: &'a str,
    existing: bool,
}

fn recorded_page(
    status: StatusCode,
    title: &str,
    report: &Report,
    on: Option<Date>,
    reference: Option<&str>,
    existing: bool,
) -> Response {
    let view = RecordedView {
        report,
        on: on.map(format_date).unwrap_or_default(),
        reference: reference.unwrap_or("(không ghi)"),
        existing,
    };
    page(status, "confirm/recorded.html", title, &view)
}

/// A hidden field that carries the link through the form.
#[derive(Serialize)]
struct Hidden {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
struct FormView<'a> {
    report: &'a Report,
    error: Option<String>,
    hidden: [Hidden; 5],
    max_reference: usize,
    reference: &'a str,
    today: String,
}

/// The form (422 with `error` when what was typed broke a rule).
fn form_page(
    q: &LinkQuery,
    report: &Report,
    today: Date,
    error: Option<String>,
    reference: &str,
) -> Response {
    let hidden = |name: &'static str, value: &str| Hidden {
        name,
        value: value.to_string(),
    };
    let view = FormView {
        report,
        hidden: [
            hidden("o", &q.o),
            hidden("p", &q.p),
            hidden("u", &q.u),
            hidden("e", &q.e.to_string()),
            hidden("s", &q.s),
        ],
        error,
        max_reference: input::MAX_REFERENCE,
        reference,
        today: today.to_string(),
    };
    let status = if view.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(
        status,
        "confirm/form.html",
        "Xác nhận đã gửi báo cáo",
        &view,
    )
}

/// `GET /confirm`: the form, or what is already recorded.
async fn show<S: Store + 'static>(
    State(state): State<AppState<S>>,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return bad_link();
    };
    let report = match open(&state, &q) {
        Ok(r) => r,
        Err(page) => return *page,
    };
    match state.shared.store.current_for(&report.key).await {
        Ok(c) => {
            if let Some(sub) = c.submission {
                return recorded_page(
                    StatusCode::OK,
                    "Báo cáo đã được ghi nhận",
                    &report,
                    Some(sub.received_on),
                    sub.reference.as_deref(),
                    false,
                );
            }
        }
        Err(e) => return store_failed(e),
    }
    let today = state.live().today(Timestamp::now());
    form_page(&q, &report, today, None, "")
}

fn store_failed(e: StoreError) -> Response {
    tracing::error!(error = %e, "confirmation link: database error");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Chưa ghi nhận được",
        "Máy chủ tạm thời không ghi được. Hãy thử lại sau ít phút.",
    )
}

/// How the confirmation form names its fields.
fn label(f: Field) -> &'static str {
    match f {
        Field::ReceivedOn => "Ngày gửi",
        Field::Reference => "Số văn bản",
        Field::Note => "Ghi chú",
        Field::Until => "Hạn mới",
        Field::Reason => "Lý do",
    }
}

/// `POST /confirm`: records the submission.
async fn submit<S: Store + 'static>(
    State(state): State<AppState<S>>,
    form_data: Result<Form<ConfirmForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form_data else {
        return bad_link();
    };
    let link = f.link();
    let report = match open(&state, &link) {
        Ok(r) => r,
        Err(page) => return *page,
    };
    let now = Timestamp::now();
    let today = state.live().today(now);
    let invalid = |text: String| form_page(&link, &report, today, Some(text), &f.reference);
    let received_on = match parse_date(&f.received_on) {
        Ok(day) => day,
        Err(e) => return invalid(format!("Ngày gửi: {e}.")),
    };
    let typed = input::Submission {
        received_on,
        reference: Some(&f.reference),
        note: None,
    };
    let reference = match input::submission(typed, today) {
        Ok(c) => c.reference,
        Err(problems) => return invalid(html::problems_text(&problems, label)),
    };
    let new = NewSubmission {
        key: report.key.clone(),
        received_on,
        received_at: None,
        reference: reference.clone(),
        note: None,
        actor: format!("link:{}", report.key.unit),
        source: Source::Link,
        correction: false,
    };
    match state.shared.store.record_submission(new, now).await {
        Ok(Recorded::New(e)) => {
            tracing::info!(key = %e.key, source = "link", "submission confirmed by link");
            recorded_page(
                StatusCode::CREATED,
                "Đã ghi nhận báo cáo",
                &report,
                Some(received_on),
                reference.as_deref(),
                false,
            )
        }
        Ok(Recorded::AlreadyRecorded(e)) => recorded_page(
            StatusCode::OK,
            "Báo cáo đã được ghi nhận",
            &report,
            Some(e.received_on.unwrap_or(received_on)),
            e.reference.as_deref(),
            false,
        ),
        Err(StoreError::Conflict { existing, .. }) => recorded_page(
            StatusCode::CONFLICT,
            "Báo cáo đã được ghi nhận trước đó",
            &report,
            existing.received_on,
            existing.reference.as_deref(),
            true,
        ),
        Err(e) => store_failed(e),
    }
}
