//! `GET /dashboard/units/{unit}`: one unit's current periods, the messages
//! sent to it or about it and those planned (the latest
//! [`MESSAGES_SHOWN`], with the last one sent), and its history; with a
//! range (`?year=2026`, or `?from=dd/mm/yyyy&to=dd/mm/yyyy`, as the
//! compliance page links it), also every cell of that range with its state
//! ("Trong kỳ đánh giá"): the drill-down behind the unit's figures.
//!
//! Must not: write anything.

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use jiff::Timestamp;
use serde::Serialize;

use crate::store::{HistoryFilter, Outbox, OutboxFilter, OutboxStatus};
use crate::tracking::{self, Selection, TrackingError};

use super::super::AppState;
use super::compliance;
use super::page::{self, Frame, error_page, store_failed};
use super::sent::Messages;
use super::session::Admin;
use super::view::{History, cell_text, dmy, key_href, pct};
use crate::store::Records;

/// Messages listed on a unit's page (the outbox page has the rest).
const MESSAGES_SHOWN: usize = 20;

pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard/units/{unit}", get(unit_page))
}

#[derive(Serialize)]
struct UnitFacts {
    id: String,
    groups: String,
    emails: String,
}

/// One current period of the unit.
#[derive(Serialize)]
struct Current {
    title: String,
    period: String,
    due: String,
    state: &'static str,
    href: String,
    text: String,
}

/// The cells of an assessed range (`?from=&to=` or `?year=`).
#[derive(Serialize)]
struct Assessed {
    range: String,
    back: String,
    rows: Vec<Current>,
}

#[derive(Serialize)]
struct UnitView {
    unit: UnitFacts,
    today: String,
    rows: Vec<Current>,
    messages: Messages,
    assessed: Option<Assessed>,
    history: History,
}

fn current(r: &tracking::Row<'_>) -> Current {
    Current {
        title: r.obligation.title.clone(),
        period: r.period.to_string(),
        due: dmy(r.status.due),
        state: r.status.state.as_str(),
        href: key_href(&r.unit.id, &r.obligation.id, &r.period),
        text: cell_text(r),
    }
}

/// `GET /dashboard/units/{unit}`: the unit's current periods and history.
async fn unit_page(
    State(state): State<AppState>,
    admin: Admin,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<compliance::Params>, QueryRejection>,
) -> Response {
    // A segment that is not UTF-8 once decoded names no unit either.
    let Ok(Path(unit_id)) = path else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Không tìm thấy đơn vị",
            "Đường dẫn không chỉ đến một đơn vị.",
        );
    };
    let flash = admin.take_flash(&state);
    let live = state.live();
    let Ok(unit) = tracking::unit(&live.cfg, &unit_id) else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Không tìm thấy đơn vị",
            &format!("Không có đơn vị \"{unit_id}\" trong cấu hình."),
        );
    };
    let today = live.today(Timestamp::now());
    let sel = Selection {
        unit: Some(unit.id.clone()),
        ..Selection::default()
    };
    let now = crate::status::Moment::local(Timestamp::now(), &live.cfg.daemon.time_zone);
    let rows = match tracking::status(&state.shared.store, &live.cfg, &live.cal, &sel, now).await {
        Ok(r) => r,
        Err(TrackingError::Store(e)) => return store_failed(e),
        Err(_) => Vec::new(),
    };
    let ranged = query
        .ok()
        .map(|Query(p)| p)
        .filter(compliance::Params::has_range);
    let assessed = match ranged {
        None => None,
        Some(p) => {
            let r = match compliance::range(&p, today) {
                Ok(r) => r,
                Err(msg) => {
                    return error_page(
                        StatusCode::BAD_REQUEST,
                        "Khoảng thời gian không hợp lệ",
                        &msg,
                    );
                }
            };
            let cfg = &live.cfg;
            match tracking::compliance::unit_rows(
                &state.shared.store,
                cfg,
                &live.cal,
                r,
                now,
                &unit.id,
            )
            .await
            {
                Ok(rows) => Some(Assessed {
                    range: r.words(),
                    back: compliance::page_href(r),
                    rows: rows.iter().map(current).collect(),
                }),
                Err(TrackingError::Store(e)) => return store_failed(e),
                Err(_) => None,
            }
        }
    };
    let filter = HistoryFilter {
        unit: Some(unit.id.clone()),
        ..HistoryFilter::default()
    };
    let events = match state.shared.store.history(&filter).await {
        Ok(e) => e,
        Err(e) => return store_failed(e),
    };
    let units = OutboxFilter {
        units: Some(vec![unit.id.clone()]),
        ..OutboxFilter::default()
    };
    let sent = OutboxFilter {
        status: Some(OutboxStatus::Sent),
        ..units.clone()
    };
    let store = &state.shared.store;
    let (listed, sent) = match tokio::try_join!(
        store.outbox_page(&units, None, MESSAGES_SHOWN as u32 + 1),
        store.outbox_page(&sent, None, MESSAGES_SHOWN as u32),
    ) {
        Ok(r) => r,
        Err(e) => return store_failed(e),
    };
    let messages = Messages::new(
        listed,
        MESSAGES_SHOWN,
        &sent,
        true,
        format!("/dashboard/outbox?status=sent&unit={}", pct(&unit.id)),
        &live,
        Timestamp::now(),
    );
    let view = UnitView {
        unit: UnitFacts {
            id: unit.id.clone(),
            groups: unit.groups.join(", "),
            emails: unit.emails.join(", "),
        },
        today: dmy(today),
        rows: rows.iter().map(current).collect(),
        messages,
        assessed,
        history: History::new(&events, &live.cfg.daemon.time_zone, true),
    };
    let frame = Frame {
        title: &unit.name,
        nav: Some(admin.nav()),
        flash,
    };
    page::render(StatusCode::OK, "dashboard/unit.html", frame, &view)
}
