//! `GET /dashboard`: the status matrix, units × (obligation, period), with
//! colours and days late, filtered by obligation, period, group and state
//! (GET query). The filters are shared with the CSV export (`export`).
//! A report with periods shorter than a month takes two columns (its
//! latest period, its earlier unsettled ones together).
//!
//! Must not: write anything.

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::status::{Moment, StateName};
use crate::tracking::{self, Row, Selection, TrackingError};

use super::super::AppState;
use super::page::{self, Frame, store_failed};
use super::session::Admin;
use super::view::{STATES, cell_text, dmy, key_href, pct, unit_href};
use crate::live::Live;

pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard", get(matrix))
}

/// The matrix filters (all optional; empty means all).
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    obligation: Option<String>,
    period: Option<String>,
    group: Option<String>,
    status: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Filters {
    /// The filters as a query string (`?k=v&...`, or empty).
    fn query(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("obligation", &self.obligation),
            ("period", &self.period),
            ("group", &self.group),
            ("status", &self.status),
        ] {
            if let Some(v) = nonempty(v) {
                parts.push(format!("{k}={}", pct(&v)));
            }
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// Why the filters select nothing: a Vietnamese message for the page, or
/// the store failed (the page to send).
pub enum Refused {
    Message(String),
    Store(Response),
}

/// The rows the filters select at `at`: a day (the CSV export), or a day
/// and a time (the matrix: hours late within the first day).
pub async fn select<'a>(
    state: &AppState,
    live: &'a Live,
    f: &Filters,
    at: impl Into<Moment>,
) -> Result<Vec<Row<'a>>, Refused> {
    let period = nonempty(&f.period);
    if let Some(p) = &period
        && crate::period::PeriodKey::parse(p).is_err()
        && !live.cfg.obligations.iter().any(|o| o.id == *p)
    {
        return Err(Refused::Message(format!(
            "Kỳ \"{p}\" không đúng dạng: ghi 2026-03, 2026-Q1, 2026-H1, 2026-9M, 2026, hoặc mã của báo cáo một lần."
        )));
    }
    let members = match nonempty(&f.group) {
        Some(g) => match live.cfg.groups.get(&g) {
            Some(m) => Some(m),
            None => {
                return Err(Refused::Message(format!(
                    "Không có nhóm \"{g}\" trong cấu hình."
                )));
            }
        },
        None => None,
    };
    let wanted = match nonempty(&f.status) {
        Some(s) => match STATES.into_iter().find(|st| st.as_str() == s) {
            Some(st) => Some(st),
            None => return Err(Refused::Message(format!("Không có trạng thái \"{s}\"."))),
        },
        None => None,
    };
    let sel = Selection {
        obligation: nonempty(&f.obligation),
        period,
        unit: None,
    };
    let rows = match tracking::status(&state.shared.store, &live.cfg, &live.cal, &sel, at).await {
        Ok(r) => r,
        Err(TrackingError::Store(e)) => return Err(Refused::Store(store_failed(e))),
        Err(e) => return Err(Refused::Message(format!("{e}."))),
    };
    Ok(rows
        .into_iter()
        .filter(|r| members.is_none_or(|m| m.contains(&r.unit.id)))
        .filter(|r| wanted.is_none_or(|w| r.status.state == w))
        .collect())
}

/// One `<option>` of a filter.
#[derive(Serialize)]
struct Choice {
    value: String,
    text: String,
}

/// The filter form: what is chosen and what can be.
#[derive(Serialize)]
struct FilterView {
    obligation: Option<String>,
    group: Option<String>,
    status: Option<String>,
    period: String,
}

#[derive(Serialize)]
struct Column {
    title: String,
    id: String,
    period: String,
    due: String,
}

#[derive(Serialize)]
struct Cell {
    state: &'static str,
    id: String,
    href: String,
    text: String,
}

#[derive(Serialize)]
struct Line {
    href: String,
    name: String,
    id: String,
    /// One per column; `None` where the unit owes nothing.
    cells: Vec<Option<Cell>>,
}

#[derive(Serialize)]
struct Legend {
    state: &'static str,
    label: &'static str,
    count: usize,
}

#[derive(Serialize)]
struct Table {
    columns: Vec<Column>,
    lines: Vec<Line>,
    legend: Vec<Legend>,
    total: usize,
}

#[derive(Serialize)]
struct MatrixView {
    filters: FilterView,
    obligations: Vec<Choice>,
    groups: Vec<Choice>,
    states: Vec<Choice>,
    /// Why nothing is shown (400).
    error: Option<String>,
    today: String,
    export_href: String,
    /// `None` when the filters select nothing.
    table: Option<Table>,
}

fn choices(live: &Live) -> [Vec<Choice>; 3] {
    let obligations = live
        .cfg
        .obligations
        .iter()
        .map(|o| Choice {
            value: o.id.clone(),
            text: format!("{} — {}", o.id, o.title),
        })
        .collect();
    let groups = live
        .cfg
        .groups
        .keys()
        .map(|g| Choice {
            value: g.clone(),
            text: g.clone(),
        })
        .collect();
    let states = STATES
        .iter()
        .map(|s| Choice {
            value: s.as_str().to_string(),
            text: s.label_vi().to_string(),
        })
        .collect();
    [obligations, groups, states]
}

/// The matrix table: one line per unit (file order), one column per
/// (obligation, period) (file order, then period). A report with periods
/// shorter than a month takes two columns: its latest period, and its
/// earlier unsettled periods together (`tracking::EARLIER`), whose cell
/// counts them and links to the unit's page. A daily report's period of
/// `today` is headed "hôm nay", as in `status`.
fn table(live: &Live, rows: &[Row<'_>], today: Date) -> Table {
    let today = today.to_string();
    let order = tracking::FileOrder::new(&live.cfg);
    let latest = tracking::latest_short_periods(rows, &order);
    let mut columns: BTreeMap<(usize, &str), &Row<'_>> = BTreeMap::new();
    let mut lines: BTreeMap<usize, &Row<'_>> = BTreeMap::new();
    let mut cells: HashMap<(usize, usize, &str), Vec<&Row<'_>>> = HashMap::new();
    for r in rows {
        let o = order.obligation(&r.obligation.id);
        let u = order.unit(&r.unit.id);
        let period = tracking::column_of(&latest, o, r);
        let col = columns.entry((o, period)).or_insert(r);
        if period == tracking::EARLIER {
            if r.status.due < col.status.due {
                *col = r;
            }
        } else if col.status.extended && !r.status.extended {
            *col = r;
        }
        lines.entry(u).or_insert(r);
        cells.entry((u, o, period)).or_default().push(r);
    }
    let cell = |cs: &[&Row<'_>]| match cs {
        [c] => Cell {
            state: c.status.state.as_str(),
            id: format!("{}-{}-{}", c.unit.id, c.obligation.id, c.period),
            href: key_href(&c.unit.id, &c.obligation.id, &c.period),
            text: cell_text(c),
        },
        _ => {
            let overdue: Vec<&&Row<'_>> = cs
                .iter()
                .filter(|c| c.status.state == StateName::Overdue)
                .collect();
            let most = overdue
                .iter()
                .max_by_key(|c| c.status.lateness())
                .map(|c| c.status.time_late_vi())
                .unwrap_or_default();
            Cell {
                state: overdue
                    .first()
                    .map_or(cs[0].status.state, |c| c.status.state)
                    .as_str(),
                id: format!("{}-{}-earlier", cs[0].unit.id, cs[0].obligation.id),
                href: unit_href(&cs[0].unit.id),
                text: match overdue.len() {
                    0 => format!("{} kỳ chưa xong", cs.len()),
                    n => format!("Quá hạn {n} kỳ (lâu nhất {most})"),
                },
            }
        }
    };
    Table {
        columns: columns
            .iter()
            .map(|((_, period), r)| Column {
                title: r.obligation.title.clone(),
                id: r.obligation.id.clone(),
                period: match *period {
                    tracking::EARLIER => "các kỳ trước".into(),
                    p if p == today => "hôm nay".into(),
                    p => p.to_string(),
                },
                due: if *period == tracking::EARLIER {
                    format!("từ {}", dmy(r.status.due))
                } else if r.status.extended {
                    "—".into()
                } else {
                    dmy(r.status.due)
                },
            })
            .collect(),
        lines: lines
            .iter()
            .map(|(u, r)| Line {
                href: unit_href(&r.unit.id),
                name: r.unit.name.clone(),
                id: r.unit.id.clone(),
                cells: columns
                    .keys()
                    .map(|(o, period)| cells.get(&(*u, *o, *period)).map(|c| cell(c)))
                    .collect(),
            })
            .collect(),
        legend: STATES
            .iter()
            .map(|st| Legend {
                state: st.as_str(),
                label: st.label_vi(),
                count: rows.iter().filter(|r| r.status.state == *st).count(),
            })
            .filter(|l| l.count > 0)
            .collect(),
        total: rows.len(),
    }
}

/// `GET /dashboard`.
async fn matrix(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<Filters>, QueryRejection>,
) -> Response {
    let flash = admin.take_flash(&state);
    let live = state.live();
    let now = Moment::local(Timestamp::now(), &live.cfg.daemon.time_zone);
    let today = now.day;
    let (f, bad_query) = match query {
        Ok(Query(f)) => (f, None),
        Err(e) => (Filters::default(), Some(e.body_text())),
    };
    let (status, error, table) = match bad_query {
        Some(e) => {
            tracing::debug!(error = %e, "dashboard: bad filter query");
            let msg = "Bộ lọc không đọc được.".to_string();
            (StatusCode::BAD_REQUEST, Some(msg), None)
        }
        None => match select(&state, &live, &f, now).await {
            Ok(rows) if rows.is_empty() => (StatusCode::OK, None, None),
            Ok(rows) => (StatusCode::OK, None, Some(table(&live, &rows, today))),
            Err(Refused::Message(msg)) => (StatusCode::BAD_REQUEST, Some(msg), None),
            Err(Refused::Store(resp)) => return resp,
        },
    };
    let [obligations, groups, states] = choices(&live);
    let view = MatrixView {
        filters: FilterView {
            obligation: nonempty(&f.obligation),
            group: nonempty(&f.group),
            status: nonempty(&f.status),
            period: nonempty(&f.period).unwrap_or_default(),
        },
        obligations,
        groups,
        states,
        error,
        today: dmy(today),
        export_href: format!("/dashboard/export.csv{}", f.query()),
        table,
    };
    let frame = Frame {
        title: "Tình hình nộp báo cáo",
        nav: Some(admin.nav()),
        flash,
    };
    page::render(status, "dashboard/matrix.html", frame, &view)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A daily report (due 10:00 the next working day) of "xã A", never
    /// sent since `active_from`, on Wed 25/2/2026 at 15:00 (Tết 14–22/2).
    fn daily_table(active_from: &str) -> Table {
        daily_table_with(
            "hàng ngày",
            "chậm nhất 10 giờ, 1 ngày làm việc",
            active_from,
        )
    }

    /// The same with its own cycle and due rule.
    fn daily_table_with(cycle: &str, due: &str, active_from: &str) -> Table {
        let text = format!(
            "[[unit]]\nid = \"so\"\nname = \"Sở Thử\"\nemail = \"vanthu@so.example\"\n\
            [[unit]]\nid = \"xa-a\"\nname = \"UBND xã A\"\nemail = \"vanthu@xa-a.example\"\n\
            [[obligation]]\nid = \"bc-ngay\"\ntitle = \"Báo cáo nhanh trong ngày\"\n\
            reporters = [\"xa-a\"]\nrecipient = \"so\"\ncycle = \"{cycle}\"\n\
            due = \"{due}\"\nactive_from = \"{active_from}\"\n"
        );
        let cfg = crate::config::load_str("t.toml", &text)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let live = Live::new(cfg);
        let at = Moment {
            day: jiff::civil::date(2026, 2, 25),
            time: Some(jiff::civil::Time::constant(15, 0, 0, 0)),
        };
        let targets =
            tracking::targets(&live.cfg, &live.cal, &Selection::default(), at.day).unwrap();
        let rows = tracking::rows(&targets, Vec::new(), &live.cal, at);
        table(&live, &rows, at.day)
    }

    fn heads(t: &Table) -> Vec<(&str, &str)> {
        t.columns
            .iter()
            .map(|c| (c.period.as_str(), c.due.as_str()))
            .collect()
    }

    fn cells(t: &Table) -> Vec<(&str, &str, &str)> {
        t.lines[0]
            .cells
            .iter()
            .flatten()
            .map(|c| (c.state, c.id.as_str(), c.text.as_str()))
            .collect()
    }

    /// Since 9/2/2026: the days 9–13/2 and 23–24/2 share one column (7
    /// overdue, the oldest 15 days late, due from 10/02/2026), today's
    /// period 25/2 has its own, headed "hôm nay".
    #[test]
    fn a_daily_report_takes_two_columns() {
        let t = daily_table("09/02/2026");
        assert_eq!(t.total, 8);
        assert_eq!(
            heads(&t),
            [("các kỳ trước", "từ 10/02/2026"), ("hôm nay", "26/02/2026")]
        );
        assert_eq!(
            cells(&t),
            [
                (
                    "overdue",
                    "xa-a-bc-ngay-earlier",
                    "Quá hạn 7 kỳ (lâu nhất 15 ngày)"
                ),
                ("open", "xa-a-bc-ngay-2026-02-25", "Đang trong kỳ"),
            ]
        );
    }

    /// Since 24/2/2026: yesterday's period fell due at 10:00 today, so at
    /// 15:00 it is 5 hours late (worded as `status` words it), next to
    /// today's.
    #[test]
    fn a_daily_period_late_since_this_morning_counts_hours() {
        let t = daily_table("24/02/2026");
        assert_eq!(
            heads(&t),
            [("các kỳ trước", "từ 25/02/2026"), ("hôm nay", "26/02/2026")]
        );
        assert_eq!(
            cells(&t),
            [
                ("overdue", "xa-a-bc-ngay-2026-02-24", "Quá hạn 5 giờ"),
                ("open", "xa-a-bc-ngay-2026-02-25", "Đang trong kỳ"),
            ]
        );
    }

    /// Every day, due 24:00 the day after, since 23/2: the 23rd is 15
    /// hours late at 15:00 on the 25th and the 24th still open; they share
    /// the earlier column, which says the longest lateness in hours.
    #[test]
    fn a_group_late_within_its_first_day_says_hours() {
        let t = daily_table_with("daily-all-days", "1 ngày", "23/02/2026");
        assert_eq!(
            heads(&t),
            [("các kỳ trước", "từ 24/02/2026"), ("hôm nay", "26/02/2026")]
        );
        assert_eq!(
            cells(&t),
            [
                (
                    "overdue",
                    "xa-a-bc-ngay-earlier",
                    "Quá hạn 1 kỳ (lâu nhất 15 giờ)"
                ),
                ("open", "xa-a-bc-ngay-2026-02-25", "Đang trong kỳ"),
            ]
        );
    }
}
