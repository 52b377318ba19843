//! `GET /dashboard/outbox`: the messages hanbao sent, will send, could not
//! send, skipped or cancelled, one status per tab with its count, newest
//! first, a page at a time (keyset: `before` = the last id shown), filtered
//! by kind, report, period, group and unit (by id, or by name typed
//! without diacritics: `q`). Each row names the report, the period in
//! words and the unit, says what kind of message it is with its stage, and
//! the time that matters (`sent`); a failed row says why and has a retry
//! button. `POST /dashboard/outbox/{id}/retry` puts a failed one back to
//! pending, due now (the daemon's next tick sends it, after its usual
//! re-check that it is still wanted).
//!
//! Must not: send mail, or change any outbox row but a failed one.

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::model::Config;
use crate::primitives::fold;
use crate::store::{OutboxFilter, OutboxKind, OutboxStatus};

use super::super::AppState;
use super::extract::{CsrfForm, NoFields};
use super::page::{self, Frame, error_page, store_failed};
use super::sent::{Shown, kind_name, shown, status_vi};
use super::session::Admin;
use super::view::{pct, unit_href};
use crate::store::Outbox;

/// Rows per page: the default and the choices.
const PER: [u32; 3] = [50, 100, 200];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard/outbox", get(outbox_page))
        .route("/dashboard/outbox/{id}/retry", post(retry))
}

/// The page's query; anything unknown or malformed is ignored (the
/// default view), never an error.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutboxQuery {
    status: String,
    kind: String,
    obligation: String,
    period: String,
    group: String,
    unit: String,
    q: String,
    before: String,
    per: String,
}

/// The filters as read, each `None` when not set or not valid.
#[derive(Debug, Default)]
struct Chosen {
    status: Option<OutboxStatus>,
    kind: Option<OutboxKind>,
    obligation: Option<String>,
    period: Option<String>,
    group: Option<String>,
    unit: Option<String>,
    q: String,
    before: Option<i64>,
    per: u32,
}

fn set(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl Chosen {
    fn read(q: OutboxQuery, cfg: &Config) -> Chosen {
        Chosen {
            status: OutboxStatus::parse(q.status.trim()),
            kind: OutboxKind::parse(q.kind.trim()),
            obligation: set(&q.obligation).filter(|o| cfg.obligation(o).is_some()),
            period: set(&q.period),
            group: set(&q.group).filter(|g| cfg.groups.contains_key(g)),
            unit: set(&q.unit),
            q: q.q.trim().chars().take(100).collect(),
            before: q.before.trim().parse().ok().filter(|b| *b > 0),
            per: q
                .per
                .trim()
                .parse()
                .ok()
                .filter(|p| PER.contains(p))
                .unwrap_or(PER[0]),
        }
    }

    /// The units the group, unit and search select, in file order; `None`
    /// when none of them is set.
    fn units(&self, cfg: &Config) -> Option<Vec<String>> {
        if self.group.is_none() && self.unit.is_none() && self.q.is_empty() {
            return None;
        }
        let words: Vec<String> = fold(&self.q)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let members = self.group.as_ref().and_then(|g| cfg.groups.get(g));
        let mut units: Vec<String> = cfg
            .units
            .iter()
            .filter(|u| self.unit.as_ref().is_none_or(|id| &u.id == id))
            .filter(|u| members.is_none_or(|m| m.contains(&u.id)))
            .filter(|u| {
                let hay = format!("{} {}", fold(&u.name), fold(&u.id));
                words.iter().all(|w| hay.contains(w.as_str()))
            })
            .map(|u| u.id.clone())
            .collect();
        // A unit gone from the configuration still has its rows.
        if let Some(id) = &self.unit
            && units.is_empty()
            && self.group.is_none()
            && self.q.is_empty()
            && cfg.unit(id).is_none()
        {
            units.push(id.clone());
        }
        Some(units)
    }

    /// The query string of this view with `status` (and no page bound).
    fn href(&self, status: OutboxStatus) -> String {
        let mut parts = vec![format!("status={}", status.as_str())];
        let mut add = |k: &str, v: Option<&str>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", pct(v)));
            }
        };
        add("kind", self.kind.map(|k| k.as_str()));
        add("obligation", self.obligation.as_deref());
        add("period", self.period.as_deref());
        add("group", self.group.as_deref());
        add("unit", self.unit.as_deref());
        add("q", Some(&self.q));
        if self.per != PER[0] {
            parts.push(format!("per={}", self.per));
        }
        format!("/dashboard/outbox?{}", parts.join("&"))
    }
}

/// One tab: a status, its count, the link keeping the filters.
#[derive(Serialize)]
struct Tab {
    status: &'static str,
    text: &'static str,
    count: u64,
    href: String,
    active: bool,
}

/// A choice of a filter's select.
#[derive(Serialize)]
struct Choice {
    value: String,
    text: String,
}

#[derive(Serialize)]
struct Filters {
    status: &'static str,
    kind: String,
    obligation: String,
    period: String,
    group: String,
    unit: String,
    /// The unit filtered on, by name, and the link that drops it.
    unit_name: Option<String>,
    unit_href: Option<String>,
    q: String,
    per: u32,
    kinds: Vec<Choice>,
    obligations: Vec<Choice>,
    groups: Vec<Choice>,
    pers: [u32; 3],
}

#[derive(Serialize)]
struct OutboxView<'a> {
    csrf: &'a str,
    tabs: Vec<Tab>,
    filters: Filters,
    /// The active tab's title ("Đã gửi").
    heading: &'static str,
    /// Whether the active tab's rows have a retry button.
    failed: bool,
    sent: bool,
    rows: Vec<Shown>,
    /// Older rows: the next page's link.
    older: Option<String>,
    /// A page after the first: the link back to the newest.
    newest: Option<String>,
    retention_days: u32,
}

fn filters(c: &Chosen, status: OutboxStatus, cfg: &Config) -> Filters {
    let unit_name = c
        .unit
        .as_ref()
        .map(|id| cfg.unit(id).map_or_else(|| id.clone(), |u| u.name.clone()));
    Filters {
        status: status.as_str(),
        kind: c.kind.map(|k| k.as_str().to_string()).unwrap_or_default(),
        obligation: c.obligation.clone().unwrap_or_default(),
        period: c.period.clone().unwrap_or_default(),
        group: c.group.clone().unwrap_or_default(),
        unit: c.unit.clone().unwrap_or_default(),
        unit_href: c.unit.as_ref().map(|u| unit_href(u)),
        unit_name,
        q: c.q.clone(),
        per: c.per,
        kinds: [
            OutboxKind::Reminder,
            OutboxKind::DueToday,
            OutboxKind::Overdue,
            OutboxKind::Escalation,
            OutboxKind::Acknowledgement,
        ]
        .into_iter()
        .map(|k| Choice {
            value: k.as_str().into(),
            text: kind_name(k).into(),
        })
        .collect(),
        obligations: cfg
            .obligations
            .iter()
            .map(|o| Choice {
                value: o.id.clone(),
                text: o.title.clone(),
            })
            .collect(),
        groups: cfg
            .groups
            .keys()
            .map(|g| Choice {
                value: g.clone(),
                text: cfg.group_name(g).to_string(),
            })
            .collect(),
        pers: PER,
    }
}

/// `GET /dashboard/outbox`.
async fn outbox_page(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<OutboxQuery>, QueryRejection>,
) -> Response {
    let flash = admin.take_flash(&state);
    let live = state.live();
    let cfg = &live.cfg;
    let chosen = Chosen::read(query.map(|Query(q)| q).unwrap_or_default(), cfg);
    let store = &state.shared.store;
    let counts = match store.outbox_status_counts().await {
        Ok(c) => c,
        Err(e) => return store_failed(e),
    };
    let count = |s: OutboxStatus| counts.iter().find(|c| c.0 == s).map_or(0, |c| c.1);
    // By default what needs attention: the failures, else what waits.
    let status = chosen.status.unwrap_or(if count(OutboxStatus::Failed) > 0 {
        OutboxStatus::Failed
    } else {
        OutboxStatus::Pending
    });
    let filter = OutboxFilter {
        status: Some(status),
        kind: chosen.kind,
        obligation: chosen.obligation.clone(),
        period: chosen.period.clone(),
        units: chosen.units(cfg),
    };
    let mut got = match store
        .outbox_page(&filter, chosen.before, chosen.per + 1)
        .await
    {
        Ok(r) => r,
        Err(e) => return store_failed(e),
    };
    let more = got.len() > chosen.per as usize;
    got.truncate(chosen.per as usize);
    let now = Timestamp::now();
    let here = chosen.href(status);
    let view = OutboxView {
        csrf: &admin.csrf,
        tabs: [
            OutboxStatus::Failed,
            OutboxStatus::Pending,
            OutboxStatus::Sending,
            OutboxStatus::Sent,
            OutboxStatus::Skipped,
            OutboxStatus::Cancelled,
        ]
        .into_iter()
        .map(|s| Tab {
            status: s.as_str(),
            text: status_vi(s),
            count: count(s),
            href: chosen.href(s),
            active: s == status,
        })
        .collect(),
        filters: filters(&chosen, status, cfg),
        heading: status_vi(status),
        failed: status == OutboxStatus::Failed,
        sent: status == OutboxStatus::Sent,
        older: more
            .then(|| got.last().map(|r| format!("{here}&before={}", r.id)))
            .flatten(),
        newest: chosen.before.map(|_| here.clone()),
        rows: got.iter().map(|r| shown(r, &live, now)).collect(),
        retention_days: cfg.daemon.outbox_retention_days,
    };
    let frame = Frame {
        title: "Thư gửi đi",
        nav: Some(admin.nav()),
        flash,
    };
    page::render(StatusCode::OK, "dashboard/outbox.html", frame, &view)
}

/// `POST /dashboard/outbox/{id}/retry`: a failed message goes back to
/// pending, due now.
async fn retry(
    State(state): State<AppState>,
    admin: Admin,
    path: Result<Path<String>, PathRejection>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Response {
    // A segment that is not UTF-8 once decoded is no message number either.
    let Ok(Path(id)) = path else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Không tìm thấy thư",
            "Đường dẫn không chỉ đến một thư.",
        );
    };
    let Ok(id) = id.parse::<i64>() else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Không tìm thấy thư",
            &format!("\"{id}\" không phải số thứ tự của một thư."),
        );
    };
    match state.shared.store.retry_outbox(id, Timestamp::now()).await {
        Ok(true) => {
            tracing::info!(actor = %admin.actor(), outbox_id = id, "dashboard: failed message put back to pending");
            admin.flash(
                &state,
                true,
                format!("Thư #{id} sẽ được gửi lại trong lần chạy tới của hanbao."),
            );
        }
        Ok(false) => admin.flash(
            &state,
            false,
            format!("Thư #{id} không còn ở trạng thái gửi lỗi; không có gì thay đổi."),
        ),
        Err(e) => return store_failed(e),
    }
    Redirect::to("/dashboard/outbox").into_response()
}
