//! API errors: one JSON shape, `{"error": {"code": "...", "message": "..."}}`,
//! with the HTTP status that says what the client should do.
//!
//! Must not: put a token, a database URL or an internal error's details in a
//! message; database failures are logged and answered with a generic 500/503.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::input::{Problem, Problems};
use crate::store::StoreError;

use crate::tracking::TrackingError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the daemon's log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut resp = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"hanbao\""),
            );
        }
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Conflict { .. } | StoreError::NothingToCorrect { .. } => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            StoreError::NothingToRevoke { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "nothing_to_revoke", e.to_string())
            }
            StoreError::Invalid { .. } => ApiError::unprocessable(e.to_string()),
            other => {
                tracing::error!(error = %other, "API: database error");
                ApiError::internal()
            }
        }
    }
}

/// A rule of `input` broken: 422 `invalid`, every problem in English,
/// each led by its field's JSON name.
impl From<Problems> for ApiError {
    fn from(problems: Problems) -> ApiError {
        let message = problems
            .iter()
            .map(|p| match p {
                Problem::ReceivedInFuture { received_on, today } => {
                    format!("received_on: {received_on} is after today ({today})")
                }
                Problem::TooLong { field, max } => {
                    format!("{}: longer than {max} characters", field.as_str())
                }
                Problem::Missing { field } => format!("{}: must not be empty", field.as_str()),
                Problem::UntilNotAfterDue { until, due } => {
                    format!("until: {until} is not after the due day ({due})")
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::unprocessable(message)
    }
}

impl From<TrackingError> for ApiError {
    fn from(e: TrackingError) -> ApiError {
        match e {
            TrackingError::UnknownObligation { .. } | TrackingError::UnknownUnit { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_id", e.to_string())
            }
            TrackingError::UnknownPeriod { .. } | TrackingError::PeriodMatchesNothing { .. } => {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_period",
                    e.to_string(),
                )
            }
            TrackingError::NotOwed(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_owed", e.to_string())
            }
            TrackingError::Store(s) => s.into(),
        }
    }
}
