//! `GET /dashboard`: the summary a coordinator reads first. For each
//! report and period, received X of Y (on time, late), overdue, extended,
//! waived and not yet due; the same per group of units; the earlier
//! periods still unsettled, one line per report. Every number links to the
//! matrix filtered to the units behind it. The counts are
//! `tracking::summary`'s, the same as `hanbao status`'s summary, counted
//! from `tracking::block` (the look-back's event-less cells counted per
//! report-period, not one by one).
//!
//! A `/dashboard` address with the matrix's filters (an old bookmark)
//! answers 303 to `/dashboard/matrix` with the same query.
//!
//! Must not: write anything.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use jiff::Timestamp;
use serde::Serialize;

use crate::status::Moment;
use crate::tracking::summary::{Summary, Tally};
use crate::tracking::{self, Selection, TrackingError};

use super::super::AppState;
use super::matrix::thousands;
use super::page::{self, Frame, error_page, store_failed};
use super::session::Admin;
use super::view::{dmy, pct, period_words};

pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard", get(summary))
}

/// The query keys of the matrix: a `/dashboard` address with one of them
/// is an old bookmark of the matrix.
const MATRIX_KEYS: [&str; 9] = [
    "obligation",
    "period",
    "group",
    "status",
    "q",
    "sort",
    "dir",
    "page",
    "per",
];

/// One count and the matrix of its units (`None` when zero).
#[derive(Serialize)]
struct Count {
    n: usize,
    /// `n` with its thousands apart ("24 000").
    text: String,
    href: Option<String>,
}

/// One line of a summary table.
#[derive(Serialize)]
struct Counts {
    /// Received (on time or late) of owed.
    received: Count,
    owed: usize,
    owed_text: String,
    percent: usize,
    on_time: Count,
    late: Count,
    overdue: Count,
    extended: Count,
    waived: Count,
    not_yet: Count,
}

#[derive(Serialize)]
struct PairLine {
    title: String,
    period: String,
    due: String,
    /// The list of the report-period (every unit).
    href: String,
    counts: Counts,
}

#[derive(Serialize)]
struct GroupLine {
    name: String,
    href: String,
    counts: Counts,
}

/// The earlier periods of one report, still unsettled.
#[derive(Serialize)]
struct EarlierLine {
    title: String,
    periods: usize,
    overdue: Count,
    unsettled: String,
}

#[derive(Serialize)]
struct SummaryView {
    today: String,
    total: Option<Counts>,
    pairs: Vec<PairLine>,
    groups: Vec<GroupLine>,
    earlier: Vec<EarlierLine>,
    matrix_href: &'static str,
}

/// The counts of `t`, each linked to `/dashboard/matrix?{base}&status=...`.
fn counts(t: &Tally, base: &str) -> Counts {
    let link = |n: usize, states: &str| Count {
        n,
        text: thousands(n),
        href: (n > 0).then(|| match base {
            "" => format!("/dashboard/matrix?status={}", pct(states)),
            _ => format!("/dashboard/matrix?{base}&status={}", pct(states)),
        }),
    };
    let percent = (t.received() * 100).checked_div(t.owed).unwrap_or(0);
    Counts {
        received: link(t.received(), "submitted_on_time,submitted_late"),
        owed: t.owed,
        owed_text: thousands(t.owed),
        percent,
        on_time: link(t.on_time, "submitted_on_time"),
        late: link(t.late, "submitted_late"),
        overdue: link(t.overdue, "overdue"),
        extended: link(t.extended, "extended"),
        waived: link(t.waived, "waived"),
        not_yet: link(t.not_yet, "not_open,open,due_soon"),
    }
}

/// `GET /dashboard`.
async fn summary(
    State(state): State<AppState>,
    admin: Admin,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(q) = query.as_deref().filter(|q| {
        q.split('&')
            .filter_map(|kv| kv.split('=').next())
            .any(|k| MATRIX_KEYS.contains(&k))
    }) {
        return Redirect::to(&format!("/dashboard/matrix?{q}")).into_response();
    }
    let flash = admin.take_flash(&state);
    let live = state.live();
    let now = Moment::local(Timestamp::now(), &live.cfg.daemon.time_zone);
    let sel = Selection::default();
    let blocks =
        match tracking::block::status(&state.shared.store, &live.cfg, &live.cal, &sel, now).await {
            Ok(b) => b,
            Err(TrackingError::Store(e)) => return store_failed(e),
            Err(e) => {
                return error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Không tính được tình hình",
                    &format!("{e}."),
                );
            }
        };
    let sum = Summary::of_blocks(&blocks, &live.cfg);
    let mut pairs = Vec::new();
    let mut earlier: BTreeMap<usize, (String, String, Tally, usize)> = BTreeMap::new();
    let order = tracking::FileOrder::new(&live.cfg);
    for p in &sum.pairs {
        let title = live
            .cfg
            .obligation(&p.obligation)
            .map(|o| o.title.clone())
            .unwrap_or_else(|| p.obligation.clone());
        if !p.all_units {
            let e = earlier
                .entry(order.obligation(&p.obligation))
                .or_insert_with(|| (p.obligation.clone(), title, Tally::default(), 0));
            e.2.overdue += p.tally.overdue;
            e.2.not_yet += p.tally.not_yet + p.tally.extended;
            e.3 += 1;
            continue;
        }
        let base = format!(
            "obligation={}&period={}",
            pct(&p.obligation),
            pct(&p.period)
        );
        pairs.push(PairLine {
            title,
            period: period_words(&p.period),
            due: p.tally.due_day().map(dmy).unwrap_or_default(),
            href: format!("/dashboard/matrix?{base}"),
            counts: counts(&p.tally, &base),
        });
    }
    let groups = sum
        .groups
        .iter()
        .map(|(g, t)| {
            let base = format!("group={}", pct(g));
            GroupLine {
                name: live.cfg.group_name(g).to_string(),
                href: format!("/dashboard/matrix?{base}"),
                counts: counts(t, &base),
            }
        })
        .collect();
    let earlier = earlier
        .into_values()
        .map(|(id, title, t, periods)| EarlierLine {
            title,
            periods,
            overdue: Count {
                n: t.overdue,
                text: thousands(t.overdue),
                href: (t.overdue > 0).then(|| {
                    format!(
                        "/dashboard/matrix?obligation={}&status=overdue&sort=late",
                        pct(&id)
                    )
                }),
            },
            unsettled: thousands(t.overdue + t.not_yet),
        })
        .collect();
    let view = SummaryView {
        today: dmy(now.day),
        total: (sum.total.rows() > 0).then(|| counts(&sum.total, "")),
        pairs,
        groups,
        earlier,
        matrix_href: "/dashboard/matrix",
    };
    let frame = Frame {
        title: "Tình hình nộp báo cáo",
        nav: Some(admin.nav()),
        flash,
    };
    page::render(StatusCode::OK, "dashboard/summary.html", frame, &view)
}
