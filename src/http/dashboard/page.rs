//! The dashboard's frame: every page is a template of `http::html` that
//! extends `dashboard/frame.html` (top bar, title, flash message) and is
//! sent with the dashboard's Content-Security-Policy, which allows nothing
//! but the inline stylesheet, by its hash (no external assets, no
//! JavaScript). Also the error pages every part of the dashboard shows.
//!
//! Must not: assemble HTML in Rust (templates do, auto-escaped); import
//! the template engine (`http::html` owns it); load anything from another
//! origin; depend on `session` (sessions use this module's error pages,
//! not the other way round).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::super::html;

/// A message shown once, on the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

/// What the top bar shows: the agency whose reports these are (the
/// directive's sender, as in the notices), the logged-in administrator's
/// name and the CSRF token of the logout form.
#[derive(Debug, Clone, Serialize)]
pub struct Nav<'a> {
    pub who: &'a str,
    pub csrf: &'a str,
    pub agency: Option<&'a str>,
}

/// What every page has around its body (`dashboard/frame.html`).
#[derive(Debug, Clone, Serialize)]
pub struct Frame<'a> {
    pub title: &'a str,
    /// `None` on pages seen without a session (login, errors).
    pub nav: Option<Nav<'a>>,
    pub flash: Option<Flash>,
}

impl<'a> Frame<'a> {
    /// A page without the top bar's links (login, errors).
    pub fn public(title: &'a str) -> Frame<'a> {
        Frame {
            title,
            nav: None,
            flash: None,
        }
    }
}

/// A full page: template `name` (which extends `dashboard/frame.html`)
/// with `view`'s fields.
pub fn render(status: StatusCode, name: &str, frame: Frame<'_>, view: &impl Serialize) -> Response {
    let page = match html::render(name, &frame, view) {
        Ok(page) => page,
        Err(e) => {
            tracing::error!(error = %e, template = name, "dashboard: cannot render a page");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi khi dựng trang; xem nhật ký của hanbao.",
            )
                .into_response();
        }
    };
    let mut resp = (status, Html(page)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, html::csp());
    // With "no-referrer" browsers send `Origin: null` on form posts, which
    // the same-origin check must refuse; "same-origin" still sends nothing
    // to other sites.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

/// A page with one message and a way back.
pub fn error_page(status: StatusCode, title: &str, text: &str) -> Response {
    #[derive(Serialize)]
    struct Message<'a> {
        text: &'a str,
    }
    render(
        status,
        "dashboard/message.html",
        Frame::public(title),
        &Message { text },
    )
}

/// The database failed: logged, and a 503 page.
pub fn store_failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "dashboard: database error");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Máy chủ tạm thời không trả lời",
        "Không đọc hoặc ghi được cơ sở dữ liệu. Hãy thử lại sau ít phút.",
    )
}

/// A post without this session's CSRF token: 403.
pub fn bad_csrf() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Biểu mẫu không hợp lệ",
        "Biểu mẫu đã hết hạn hoặc không phải của phiên làm việc này. Hãy tải lại trang rồi gửi lại.",
    )
}

/// A body that is not the expected form: 400.
pub fn bad_form() -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "Biểu mẫu không đọc được",
        "Dữ liệu gửi lên không đúng dạng biểu mẫu. Hãy tải lại trang rồi gửi lại.",
    )
}
