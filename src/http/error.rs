//! API errors: one JSON shape, `{"error": {"code": "...", "message": "..."}}`,
//! with the HTTP status that says what the client should do. `code` is
//! stable English for programs (README lists them); `message` is
//! Vietnamese, for the people who read it.
//!
//! Must not: put a token, a database URL or an internal error's details in a
//! message; database failures are logged and answered with a generic 500/503.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::config::values::format_date;
use crate::input::{Problem, Problems};
use crate::store::{StoreError, Subject};

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
            "lỗi máy chủ; xem nhật ký (log) của daemon",
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
            StoreError::Conflict { key, existing } => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!(
                    "{key}: đã có một báo cáo khác được ghi nhận (nhận ngày {}, số văn bản {}, do {} ghi); muốn thay thì gửi lại với \"correction\": true",
                    existing.received_on.map(format_date).unwrap_or_default(),
                    existing.reference.as_deref().unwrap_or("không có"),
                    existing.actor
                ),
            ),
            StoreError::NothingToCorrect { key } => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("{key}: chưa có báo cáo nào để sửa; gửi lại không có \"correction\""),
            ),
            StoreError::NothingToRevoke { key, subject } => ApiError::new(
                StatusCode::NOT_FOUND,
                "nothing_to_revoke",
                format!(
                    "{key}: không có {} nào đang có hiệu lực để thu hồi",
                    match subject {
                        Subject::Submission => "báo cáo đã nộp",
                        Subject::Extension => "gia hạn",
                        Subject::Waiver => "miễn nộp",
                    }
                ),
            ),
            StoreError::Invalid { field, reason } => {
                ApiError::unprocessable(format!("{field}: giá trị không hợp lệ ({reason})"))
            }
            other => {
                tracing::error!(error = %other, "API: lỗi cơ sở dữ liệu");
                ApiError::internal()
            }
        }
    }
}

/// A rule of `input` broken: 422 `invalid`, every problem in the
/// Vietnamese of the command line, each led by its field's JSON name
/// (`received_on: ngày nhận 21/03/2026 ở tương lai ...`).
impl From<Problems> for ApiError {
    fn from(problems: Problems) -> ApiError {
        let message = problems
            .iter()
            .map(|p: &Problem| format!("{}: {p}", p.field().as_str()))
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
