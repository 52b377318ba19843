//! Extractors that refuse bad input before a dashboard handler runs.
//!
//! - [`Owed`]: the `{unit}/{obligation}/{period}` of a report page's path,
//!   checked against the configuration in force (`tracking::resolve`:
//!   unknown ids with the nearest ones, a period that does not exist, a
//!   report the unit does not owe): a 404 page otherwise.
//! - [`CsrfForm`]: a form posted with the session's CSRF token (compared in
//!   constant time): 400 for a body that is not the form, 403 for a
//!   missing or wrong token.
//!
//! Handlers list the administrator's session (`session::Admin`) first, so
//! a request without a session goes to the login page before anything
//! about the report or the form is said. Must not: write anything.

use axum::extract::{Form, FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use jiff::civil::Date;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::store::Key;
use crate::tracking::{self, TrackingError};

use super::super::AppState;
use super::page::{bad_csrf, bad_form, error_page};
use super::session::Admin;

/// A report the configuration says is owed: its key (the period in its
/// canonical form), the first day of its period's window and its due day.
#[derive(Debug, Clone)]
pub struct Owed {
    pub key: Key,
    pub opens: Date,
    pub due: Date,
}

/// The 404 page of a report that is not owed.
fn not_owed(e: &TrackingError) -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Không tìm thấy báo cáo",
        &format!("{e}."),
    )
}

impl FromRequestParts<AppState> for Owed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Owed, Response> {
        let Ok(Path((unit, obligation, period))) =
            Path::<(String, String, String)>::from_request_parts(parts, state).await
        else {
            return Err(error_page(
                StatusCode::NOT_FOUND,
                "Không tìm thấy báo cáo",
                "Đường dẫn không chỉ đến một báo cáo.",
            ));
        };
        let live = state.live();
        match tracking::resolve(&live.cfg, &live.cal, &obligation, &period, &unit) {
            Ok(d) => Ok(Owed {
                key: Key::new(&d.obligation.id, d.period.to_string(), &d.unit.id),
                opens: d.window.start,
                due: d.due,
            }),
            Err(e) => Err(not_owed(&e)),
        }
    }
}

/// A form of type `T` whose `csrf` field matched the session's token.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

/// A form body: the CSRF token beside the form's own fields.
#[derive(Debug, Deserialize)]
struct WithCsrf<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: T,
}

/// A form with no field but its CSRF token (logout, retry).
#[derive(Debug, Deserialize)]
pub struct NoFields {}

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<CsrfForm<T>, Response> {
        let (mut parts, body) = req.into_parts();
        let admin = Admin::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let Ok(Form(posted)) = Form::<WithCsrf<T>>::from_request(req, state).await else {
            return Err(bad_form());
        };
        if !admin.csrf_ok(&posted.csrf) {
            return Err(bad_csrf());
        }
        Ok(CsrfForm(posted.form))
    }
}
