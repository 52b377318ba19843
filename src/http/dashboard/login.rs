//! `GET|POST /dashboard/login` and `POST /dashboard/logout`.
//!
//! An administrator API token pasted on the login page opens a session
//! (`session`); failures count toward the API's failure limit per client
//! IP. Must not: echo or log the token.

use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use crate::store::TokenRole;

use super::super::AppState;
use super::super::auth::{Presented, authenticate};
use super::extract::{CsrfForm, NoFields};
use super::page::{self, Frame, bad_form, store_failed};
use super::session::{self, Admin};
use crate::http::auth::Client;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard/login", get(login_form).post(login))
        .route("/dashboard/logout", post(logout))
}

#[derive(Serialize)]
struct LoginView<'a> {
    note: Option<&'a str>,
    error: Option<&'a str>,
}

fn login_page(status: StatusCode, error: Option<&str>, note: Option<&str>) -> Response {
    page::render(
        status,
        "dashboard/login.html",
        Frame::public("Đăng nhập"),
        &LoginView { note, error },
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    out: Option<String>,
}

/// `GET /dashboard/login`.
async fn login_form(query: Result<Query<LoginQuery>, QueryRejection>) -> Response {
    let out = query.ok().and_then(|Query(q)| q.out).is_some();
    login_page(StatusCode::OK, None, out.then_some("Đã đăng xuất."))
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    token: String,
}

/// `POST /dashboard/login`: an administrator token opens a session.
/// Failures count toward the API's failure limit per client.
async fn login(
    State(state): State<AppState>,
    Client(ip): Client,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return bad_form();
    };
    let secret = f.token.trim();
    let presented = if secret.is_empty() {
        Presented::Missing
    } else {
        Presented::Secret(secret)
    };
    let caller = match authenticate(&state, ip, presented).await {
        Ok(c) => c,
        Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
            let mut r = login_page(
                StatusCode::TOO_MANY_REQUESTS,
                Some(&format!(
                    "Đăng nhập sai quá nhiều lần. Hãy thử lại sau {} giây.",
                    e.retry_after.unwrap_or(60)
                )),
                None,
            );
            if let Some(secs) = e.retry_after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            return r;
        }
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            return login_page(
                StatusCode::UNAUTHORIZED,
                Some("Mã không đúng hoặc đã bị thu hồi."),
                None,
            );
        }
        Err(e) => return store_failed(e.message),
    };
    if caller.token.role != TokenRole::Admin {
        return login_page(
            StatusCode::FORBIDDEN,
            Some("Mã này là mã của một đơn vị; bảng điều khiển cần mã quản trị."),
            None,
        );
    }
    let id = match state.shared.sessions.create(&caller.token) {
        Ok(id) => id,
        Err(e) => return store_failed(e),
    };
    tracing::info!(actor = %caller.actor(), client = %ip, "dashboard login");
    let mut r = Redirect::to("/dashboard").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, session::set_cookie(&headers, &id));
    r
}

/// `POST /dashboard/logout`.
async fn logout(
    State(state): State<AppState>,
    admin: Admin,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Response {
    admin.logout(&state);
    tracing::info!(actor = %admin.actor(), "dashboard logout");
    let mut r = Redirect::to("/dashboard/login?out=1").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie());
    r
}
