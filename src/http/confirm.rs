//! `/confirm`: the page a one-click link from a reminder opens, and the form
//! it posts, recording the submission with source "link".
//!
//! The link's HMAC signature is the only credential: it names one
//! (obligation, period, unit) and expires. A tampered link gets 400, an
//! expired one 410, each with a page that says so in Vietnamese; using a
//! link twice is harmless (the store answers "already recorded"). Every
//! piece of configuration or user text is HTML-escaped. Must not: send
//! mail, or accept a write whose signature was not checked.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;

use crate::config::values::{format_date, parse_date};
use crate::store::{Key, NewSubmission, Recorded, Records, Source, StoreError};

use super::AppState;
use super::link::{LinkError, LinkScope};
use super::selection;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t} — hanbao</title>\n</head>\n<body>\n<main>\n<h1>{t}</h1>\n{body}\n</main>\n</body>\n</html>\n",
        t = escape(title)
    );
    (status, Html(html)).into_response()
}

fn message(status: StatusCode, title: &str, text: &str) -> Response {
    page(status, title, &format!("<p>{}</p>", escape(text)))
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

fn bad_link() -> Response {
    message(
        StatusCode::BAD_REQUEST,
        "Liên kết không hợp lệ",
        "Liên kết này không đúng hoặc đã bị sửa. Hãy mở lại liên kết trong thư nhắc, hoặc liên hệ bộ phận theo dõi báo cáo.",
    )
}

/// Checks the key is configured and the signature and expiry hold.
fn check(state: &AppState, scope: &LinkScope, sig: &str) -> Result<(), Box<Response>> {
    let Some(key) = state.shared.link_key.get() else {
        return Err(Box::new(message(
            StatusCode::NOT_FOUND,
            "Chưa bật xác nhận qua liên kết",
            "Máy chủ này chưa được cấu hình khóa ký liên kết xác nhận.",
        )));
    };
    match scope.verify(key, sig, Timestamp::now()) {
        Ok(()) => Ok(()),
        Err(LinkError::Tampered) => Err(Box::new(bad_link())),
        Err(LinkError::Expired) => Err(Box::new(message(
            StatusCode::GONE,
            "Liên kết đã hết hạn",
            "Liên kết xác nhận này đã hết hạn. Hãy dùng liên kết trong thư nhắc mới nhất, hoặc báo cho bộ phận theo dõi báo cáo.",
        ))),
    }
}

struct Described {
    key: Key,
    title: String,
    unit_name: String,
    due: jiff::civil::Date,
}

fn describe(state: &AppState, scope: &LinkScope) -> Result<Described, Box<Response>> {
    let live = state.live();
    match selection::deadline(
        &live.cfg,
        &live.cal,
        &scope.obligation,
        &scope.period,
        &scope.unit,
    ) {
        Ok(d) => Ok(Described {
            key: Key::new(&d.obligation.id, d.period.to_string(), &d.unit.id),
            title: d.obligation.title.clone(),
            unit_name: d.unit.name.clone(),
            due: d.due,
        }),
        Err(_) => Err(Box::new(message(
            StatusCode::NOT_FOUND,
            "Không tìm thấy báo cáo",
            "Báo cáo mà liên kết này nói đến không còn trong cấu hình.",
        ))),
    }
}

fn summary(d: &Described) -> String {
    format!(
        "<dl>\n<dt>Báo cáo</dt><dd>{}</dd>\n<dt>Kỳ</dt><dd>{}</dd>\n<dt>Đơn vị</dt><dd>{}</dd>\n<dt>Hạn</dt><dd>{}</dd>\n</dl>",
        escape(&d.title),
        escape(&d.key.period),
        escape(&d.unit_name),
        format_date(d.due)
    )
}

fn recorded_page(
    status: StatusCode,
    title: &str,
    d: &Described,
    on: jiff::civil::Date,
    reference: Option<&str>,
) -> Response {
    page(
        status,
        title,
        &format!(
            "{}\n<p>Ngày gửi: {}. Số văn bản: {}.</p>",
            summary(d),
            format_date(on),
            escape(reference.unwrap_or("(không ghi)"))
        ),
    )
}

fn form(
    q: &LinkQuery,
    d: &Described,
    today: jiff::civil::Date,
    error: Option<&str>,
    reference: &str,
) -> String {
    let hidden = |name: &str, value: &str| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        )
    };
    format!(
        "{summary}\n{error}<form method=\"post\" action=\"/confirm\">\n{o}{p}{u}{e}{s}\n\
         <p><label>Số văn bản <input name=\"reference\" maxlength=\"200\" value=\"{reference}\"></label></p>\n\
         <p><label>Ngày gửi <input type=\"date\" name=\"received_on\" value=\"{today}\" required></label></p>\n\
         <p><button type=\"submit\">Xác nhận đã gửi báo cáo</button></p>\n</form>",
        summary = summary(d),
        error = error
            .map(|e| format!("<p role=\"alert\"><strong>{}</strong></p>\n", escape(e)))
            .unwrap_or_default(),
        o = hidden("o", &q.o),
        p = hidden("p", &q.p),
        u = hidden("u", &q.u),
        e = hidden("e", &q.e.to_string()),
        s = hidden("s", &q.s),
        reference = escape(reference),
    )
}

/// `GET /confirm`: the form, or what is already recorded.
pub async fn show(
    State(state): State<AppState>,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return bad_link();
    };
    let scope = q.scope();
    if let Err(r) = check(&state, &scope, &q.s) {
        return *r;
    }
    let d = match describe(&state, &scope) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    match state.shared.store.current_for(&d.key).await {
        Ok(c) => {
            if let Some(sub) = c.submission {
                return recorded_page(
                    StatusCode::OK,
                    "Báo cáo đã được ghi nhận",
                    &d,
                    sub.received_on,
                    sub.reference.as_deref(),
                );
            }
        }
        Err(e) => return store_failed(e),
    }
    let today = state.live().today(Timestamp::now());
    page(
        StatusCode::OK,
        "Xác nhận đã gửi báo cáo",
        &form(&q, &d, today, None, ""),
    )
}

fn store_failed(e: StoreError) -> Response {
    tracing::error!(error = %e, "confirmation link: database error");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Chưa ghi nhận được",
        "Máy chủ tạm thời không ghi được. Hãy thử lại sau ít phút.",
    )
}

/// `POST /confirm`: records the submission.
pub async fn submit(
    State(state): State<AppState>,
    form_data: Result<Form<ConfirmForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form_data else {
        return bad_link();
    };
    let q = LinkQuery {
        o: f.o,
        p: f.p,
        u: f.u,
        e: f.e,
        s: f.s,
    };
    let scope = q.scope();
    if let Err(r) = check(&state, &scope, &q.s) {
        return *r;
    }
    let d = match describe(&state, &scope) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let now = Timestamp::now();
    let today = state.live().today(now);
    let invalid = |text: String| {
        page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Xác nhận đã gửi báo cáo",
            &form(&q, &d, today, Some(&text), &f.reference),
        )
    };
    let received_on = match parse_date(&f.received_on) {
        Ok(day) if day > today => {
            return invalid(format!("Ngày gửi {} ở sau hôm nay.", format_date(day)));
        }
        Ok(day) => day,
        Err(e) => return invalid(format!("Ngày gửi: {e}.")),
    };
    let reference = f.reference.trim();
    if reference.chars().count() > super::api::MAX_REFERENCE {
        return invalid(format!(
            "Số văn bản dài quá {} ký tự.",
            super::api::MAX_REFERENCE
        ));
    }
    let reference = (!reference.is_empty()).then(|| reference.to_string());
    let result = state
        .shared
        .store
        .record_submission(
            NewSubmission {
                key: d.key.clone(),
                received_on,
                received_at: None,
                reference: reference.clone(),
                note: None,
                actor: format!("link:{}", d.key.unit),
                source: Source::Link,
                correction: false,
            },
            now,
        )
        .await;
    match result {
        Ok(Recorded::New(e)) => {
            tracing::info!(key = %e.key, source = "link", "submission confirmed by link");
            recorded_page(
                StatusCode::CREATED,
                "Đã ghi nhận báo cáo",
                &d,
                received_on,
                reference.as_deref(),
            )
        }
        Ok(Recorded::AlreadyRecorded(e)) => recorded_page(
            StatusCode::OK,
            "Báo cáo đã được ghi nhận",
            &d,
            e.received_on.unwrap_or(received_on),
            e.reference.as_deref(),
        ),
        Err(StoreError::Conflict { existing, .. }) => page(
            StatusCode::CONFLICT,
            "Báo cáo đã được ghi nhận trước đó",
            &format!(
                "{}\n<p>Đã có ghi nhận khác: ngày gửi {}, số văn bản {}. Nếu cần sửa, hãy liên hệ bộ phận theo dõi báo cáo.</p>",
                summary(&d),
                existing.received_on.map(format_date).unwrap_or_default(),
                escape(existing.reference.as_deref().unwrap_or("(không ghi)"))
            ),
        ),
        Err(e) => store_failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(escape("Sở Y tế"), "Sở Y tế");
    }
}
