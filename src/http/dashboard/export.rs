//! `GET /dashboard/export.csv`: the rows the matrix's filters select, as
//! `hanbao status --csv` writes them (the same functions, so the same
//! columns, encoding, formula escaping and bytes).
//!
//! Streamed: the header goes out at once, then the rows of one
//! (obligation, period) at a time (`tracking::targets`, then
//! `Records::facts` and `tracking::rows` per pair, `tracking::csv_rows`),
//! through a channel of a few pieces, so a slow reader holds back the
//! reading and the memory is one pair's rows (at most the units of one
//! report), whatever the table's size. The order is `hanbao status`'s
//! (file order). The matrix's filters apply, its search (`q`) and several
//! states included. A store failure in the middle ends the download early
//! (the client sees an incomplete transfer) and is logged.
//!
//! Must not: write anything.

use std::collections::HashSet;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use jiff::civil::Date;
use tokio::sync::mpsc;

use crate::live::Live;
use crate::store::{Records, Store};
use crate::tracking::{self, TrackingError};

use super::super::AppState;
use super::matrix::{Filters, Wanted, matches};
use super::page::{error_page, store_failed};
use super::session::Admin;

pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard/export.csv", get(export))
}

/// How many pieces wait in the channel before the reader must catch up.
const PIECES_AHEAD: usize = 4;

/// `GET /dashboard/export.csv`.
async fn export(
    State(state): State<AppState>,
    _admin: Admin,
    query: Result<Query<Filters>, axum::extract::rejection::QueryRejection>,
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
    let what = match f.wanted(&live) {
        Ok(w) => w,
        Err(msg) => return error_page(StatusCode::BAD_REQUEST, "Bộ lọc không hợp lệ", &msg),
    };
    // The selection is checked before the first byte, so a bad id is a
    // page, not a broken download.
    match tracking::targets(&live.cfg, &live.cal, &what.sel, today) {
        Ok(_) => {}
        Err(TrackingError::Store(e)) => return store_failed(e),
        Err(e) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Bộ lọc không hợp lệ",
                &format!("{e}."),
            );
        }
    }
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(PIECES_AHEAD);
    let store = state.shared.store.clone();
    tokio::spawn(async move {
        if let Err(e) = stream(&store, &live, &what, today, &tx).await {
            tracing::error!(error = %e, "xuất CSV: lỗi cơ sở dữ liệu giữa chừng; tệp tải về không đầy đủ");
            let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
        }
    });
    let body = Body::from_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    let mut r = (StatusCode::OK, body).into_response();
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

/// Sends the header, then each pair's lines; stops quietly when the
/// client has gone (the channel closed).
async fn stream(
    store: &Store,
    live: &Live,
    what: &Wanted,
    at: Date,
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<(), TrackingError> {
    if tx
        .send(Ok(Bytes::from(tracking::csv_header())))
        .await
        .is_err()
    {
        return Ok(());
    }
    let mut targets = tracking::targets(&live.cfg, &live.cal, &what.sel, at)?;
    if let Some(members) = &what.members {
        for t in &mut targets {
            t.units.retain(|u| members.contains(&u.id));
        }
    }
    if !what.words.is_empty() {
        let found: HashSet<String> = live
            .cfg
            .units
            .iter()
            .filter(|u| matches(&what.words, &u.name, &u.id))
            .map(|u| u.id.clone())
            .collect();
        for t in &mut targets {
            t.units.retain(|u| found.contains(&u.id));
        }
    }
    targets.retain(|t| !t.units.is_empty());
    for t in targets.chunks(1) {
        let pair = [(t[0].obligation.id.clone(), t[0].period.to_string())];
        let facts = store.facts(&pair).await?;
        let rows: Vec<_> = tracking::rows(t, facts, &live.cal, at)
            .into_iter()
            .filter(|r| {
                what.states
                    .as_ref()
                    .is_none_or(|w| w.contains(&r.status.state))
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        if tx
            .send(Ok(Bytes::from(tracking::csv_rows(&rows))))
            .await
            .is_err()
        {
            return Ok(());
        }
    }
    Ok(())
}
