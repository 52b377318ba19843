//! `GET /dashboard/export.csv`: the rows the matrix's filters select, as
//! `hanbao status --csv` writes them (the same function, so the same
//! columns, encoding and bytes).
//!
//! Must not: write anything.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;

use super::super::AppState;
use super::matrix::{Filters, Refused, select};
use super::page::error_page;
use super::session::Admin;

pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard/export.csv", get(export))
}

/// `GET /dashboard/export.csv`.
async fn export(
    State(state): State<AppState>,
    _admin: Admin,
    query: Result<Query<Filters>, QueryRejection>,
) -> Response {
    let Ok(Query(f)) = query else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Bộ lọc không đọc được",
            "Các tham số lọc không đúng dạng.",
        );
    };
    let live = state.live();
    let today = live.today(Timestamp::now());
    match select(&state, &live, &f, today).await {
        Ok(rows) => {
            let bytes = crate::tracking::csv(&rows);
            let mut r = (StatusCode::OK, bytes).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::try_from(format!(
                    "attachment; filename=\"hanbao-tinh-hinh-{today}.csv\""
                ))
                .expect("ASCII"),
            );
            r
        }
        Err(Refused::Message(msg)) => {
            error_page(StatusCode::BAD_REQUEST, "Bộ lọc không hợp lệ", &msg)
        }
        Err(Refused::Store(resp)) => resp,
    }
}
