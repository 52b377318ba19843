//! `GET /dashboard/compliance`: compliance over a range of periods (the
//! year-end assessment of units' reporting discipline), from
//! `tracking::compliance`, so every count is a fold of `hanbao status`'s
//! cells. The range is `?from=dd/mm/yyyy&to=dd/mm/yyyy`, or `?year=2026`;
//! without either, this calendar year. A table per group, then the units
//! (paged, `page=`, sortable by `sort=name|rate|late|never`), each linking
//! to its unit page. `print=1` is the printable view: every unit, no
//! pager, an A4 header naming the agency, the range and the day the
//! figures stand at ("tính đến").
//!
//! `GET /dashboard/compliance.csv` (`table=nhom|don-vi|don-vi-bao-cao`,
//! default `don-vi`) and `GET /dashboard/compliance.xlsx` (the three
//! tables as sheets) export the same figures.
//!
//! Must not: write anything, or count a cell itself (`tracking` does).

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::status::Moment;
use crate::tracking::compliance::{self, Compliance, Figures, Range, Table};
use crate::tracking::{TrackingError, sheets};

use super::super::AppState;
use super::super::date_field;
use super::page::{self, Frame, error_page, store_failed};
use super::session::Admin;
use super::view::{dmy, pct, unit_href};

/// Units per page (the printable view shows all).
const PER_PAGE: usize = 100;

/// The longest range assessed at once, in days (about five years): each
/// report-period is one read.
const MAX_DAYS: i32 = 5 * 366;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard/compliance", get(compliance_page))
        .route("/dashboard/compliance.csv", get(csv))
        .route("/dashboard/compliance.xlsx", get(xlsx))
}

/// The query of the page and the exports (all optional); the unit page
/// reads its range from the same fields.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Params {
    from: Option<String>,
    to: Option<String>,
    year: Option<String>,
    group: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    print: Option<String>,
    table: Option<String>,
}

impl Params {
    /// Whether a range was asked for (the unit page shows it only then).
    pub(super) fn has_range(&self) -> bool {
        [&self.from, &self.to, &self.year]
            .into_iter()
            .any(|v| given(v).is_some())
    }
}

/// The compliance page of range `r`.
pub(super) fn page_href(r: Range) -> String {
    format!("/dashboard/compliance?{}", link_query(r, &[]))
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The range the query asks for, or a Vietnamese sentence saying what is
/// wrong with it.
pub(super) fn range(p: &Params, today: jiff::civil::Date) -> Result<Range, String> {
    if let Some(y) = given(&p.year) {
        return y
            .parse::<i16>()
            .ok()
            .filter(|y| (1900..=2200).contains(y))
            .and_then(Range::year)
            .ok_or_else(|| format!("Năm \"{y}\" không hợp lệ: ghi 4 chữ số, ví dụ 2026."));
    }
    let default = Range::year(today.year()).expect("this year is a valid year");
    let from = match given(&p.from) {
        Some(t) => date_field::read("Từ ngày", t)?,
        None => default.from,
    };
    let to = match given(&p.to) {
        Some(t) => date_field::read("Đến ngày", t)?,
        None => default.to,
    };
    if from > to {
        return Err(format!(
            "Từ ngày {} sau đến ngày {}: hãy đổi lại.",
            dmy(from),
            dmy(to)
        ));
    }
    if (to - from).get_days() > MAX_DAYS {
        return Err("Khoảng thời gian dài quá 5 năm: hãy chọn ngắn hơn.".into());
    }
    Ok(Range { from, to })
}

/// A query string with the range (and `extra` pairs), for links.
fn link_query(r: Range, extra: &[(&str, &str)]) -> String {
    let mut q = format!("from={}&to={}", pct(&dmy(r.from)), pct(&dmy(r.to)));
    for (k, v) in extra {
        if !v.is_empty() {
            q.push_str(&format!("&{k}={}", pct(v)));
        }
    }
    q
}

/// The figures as the page shows them.
#[derive(Serialize)]
struct FigView {
    owed: u32,
    on_time: u32,
    late: u32,
    average_late: String,
    worst_late: String,
    never_sent: u32,
    not_yet_due: u32,
    extensions: u32,
    waivers: u32,
    rate: String,
    /// For the colour of the rate: "good" (≥ 90 %), "fair" (≥ 70 %), "poor".
    grade: &'static str,
}

impl From<&Figures> for FigView {
    fn from(f: &Figures) -> FigView {
        let rate = f.on_time_rate();
        FigView {
            owed: f.owed,
            on_time: f.on_time,
            late: f.late,
            average_late: f
                .average_days_late()
                .map(crate::tracking::compliance::decimal_vi)
                .unwrap_or_default(),
            worst_late: f.days_late_worst.map(|d| d.to_string()).unwrap_or_default(),
            never_sent: f.never_sent,
            not_yet_due: f.not_yet_due,
            extensions: f.extensions,
            waivers: f.waivers,
            rate: rate
                .map(|r| format!("{} %", crate::tracking::compliance::decimal_vi(r * 100.0)))
                .unwrap_or_else(|| "—".into()),
            grade: match rate {
                Some(r) if r >= 0.9 => "good",
                Some(r) if r >= 0.7 => "fair",
                Some(_) => "poor",
                None => "",
            },
        }
    }
}

#[derive(Serialize)]
struct GroupLine {
    id: String,
    name: String,
    units: u32,
    href: String,
    fig: FigView,
}

#[derive(Serialize)]
struct UnitLine {
    id: String,
    name: String,
    href: String,
    fig: FigView,
}

#[derive(Serialize)]
struct Pager {
    shown: String,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Serialize)]
struct SortLink {
    text: &'static str,
    href: String,
    current: bool,
}

#[derive(Serialize)]
struct ComplianceView {
    from: String,
    to: String,
    range: String,
    at: String,
    agency: String,
    print: bool,
    pairs: usize,
    total: FigView,
    groups: Vec<GroupLine>,
    group: String,
    group_name: String,
    units: Vec<UnitLine>,
    units_total: usize,
    pager: Option<Pager>,
    sorts: Vec<SortLink>,
    print_href: String,
    screen_href: String,
    /// The same range, every group's units.
    all_groups_href: String,
    csv_hrefs: Vec<(String, &'static str)>,
    xlsx_href: String,
}

/// The assessment the query asks for, at "now"; or the response to send.
async fn assess<'l>(
    state: &AppState,
    live: &'l crate::live::Live,
    p: &Params,
) -> Result<(Range, Compliance<'l>), Response> {
    let now = Timestamp::now();
    let today = live.today(now);
    let r = range(p, today).map_err(|msg| {
        error_page(
            StatusCode::BAD_REQUEST,
            "Khoảng thời gian không hợp lệ",
            &msg,
        )
    })?;
    let at = Moment::local(now, &live.cfg.daemon.time_zone);
    match compliance::compute(&state.shared.store, &live.cfg, &live.cal, r, at).await {
        Ok(c) => Ok((r, c)),
        Err(TrackingError::Store(e)) => Err(store_failed(e)),
        Err(e) => Err(error_page(
            StatusCode::BAD_REQUEST,
            "Không tính được",
            &format!("{e}."),
        )),
    }
}

fn bad_query() -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "Bộ lọc không đọc được",
        "Các tham số lọc không đúng dạng.",
    )
}

/// `GET /dashboard/compliance`.
async fn compliance_page(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let Ok(Query(p)) = query else {
        return bad_query();
    };
    let live = state.live();
    let print = given(&p.print).is_some_and(|v| v != "0");
    let nav = admin.nav();
    let agency = nav.agency.unwrap_or("hanbao").to_owned();
    let title = "Đánh giá việc nộp báo cáo";
    let frame = Frame {
        title,
        // The printable view has no top bar: its own header says whose it is.
        nav: (!print).then_some(nav),
        flash: None,
    };
    let today = live.today(Timestamp::now());
    let (r, c) = match assess(&state, &live, &p).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let group = given(&p.group).unwrap_or("").to_owned();
    if !group.is_empty() && !live.cfg.groups.contains_key(&group) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Bộ lọc không hợp lệ",
            &format!("Không có nhóm \"{group}\" trong cấu hình."),
        );
    }
    let sort = given(&p.sort).unwrap_or("file");
    let mut units: Vec<&compliance::UnitFigures<'_>> = c
        .units
        .iter()
        .filter(|u| group.is_empty() || u.unit.groups.contains(&group))
        .collect();
    match sort {
        // Without diacritics first ("Đức" with the d's), then as written.
        "name" => units
            .sort_by_cached_key(|u| (crate::primitives::fold(&u.unit.name), u.unit.name.clone())),
        // Lowest rate first: those to talk to.
        "rate" => units.sort_by(|a, b| {
            let k = |u: &compliance::UnitFigures<'_>| u.figures.on_time_rate().unwrap_or(2.0);
            k(a).total_cmp(&k(b))
        }),
        "late" => units.sort_by(|a, b| {
            b.figures
                .late
                .cmp(&a.figures.late)
                .then(b.figures.days_late_total.cmp(&a.figures.days_late_total))
        }),
        "never" => units.sort_by_key(|u| std::cmp::Reverse(u.figures.never_sent)),
        _ => {}
    }
    let units_total = units.len();
    let pages = units_total.div_ceil(PER_PAGE).max(1);
    let page_no = given(&p.page)
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let base = |extra: &[(&str, &str)]| {
        let mut e: Vec<(&str, &str)> = vec![("group", group.as_str())];
        if sort != "file" {
            e.push(("sort", sort));
        }
        e.extend_from_slice(extra);
        format!("/dashboard/compliance?{}", link_query(r, &e))
    };
    let (shown, pager) = if print {
        (&units[..], None)
    } else {
        let start = (page_no - 1) * PER_PAGE;
        let end = (start + PER_PAGE).min(units_total);
        let pager = (units_total > PER_PAGE).then(|| Pager {
            shown: format!("{}–{} / {}", start + 1, end, units_total),
            prev: (page_no > 1).then(|| base(&[("page", &(page_no - 1).to_string())])),
            next: (page_no < pages).then(|| base(&[("page", &(page_no + 1).to_string())])),
        });
        (&units[start.min(end)..end], pager)
    };
    let sorts = [
        ("file", "thứ tự trong cấu hình"),
        ("rate", "tỷ lệ đúng hạn thấp nhất"),
        ("never", "chưa nộp nhiều nhất"),
        ("late", "nộp muộn nhiều nhất"),
        ("name", "tên"),
    ]
    .into_iter()
    .map(|(key, text)| SortLink {
        text,
        href: format!(
            "/dashboard/compliance?{}",
            link_query(
                r,
                &[
                    ("group", group.as_str()),
                    ("sort", if key == "file" { "" } else { key })
                ]
            )
        ),
        current: key == sort,
    })
    .collect();
    let group_name = live.cfg.group_name(&group).to_owned();
    let view = ComplianceView {
        from: dmy(r.from),
        to: dmy(r.to),
        range: r.words(),
        at: dmy(today),
        agency,
        print,
        pairs: c.pairs,
        total: FigView::from(&c.total),
        groups: c
            .groups
            .iter()
            .map(|g| GroupLine {
                id: g.id.clone(),
                name: live.cfg.group_name(&g.id).to_owned(),
                units: g.units,
                href: format!(
                    "/dashboard/compliance?{}#don-vi",
                    link_query(r, &[("group", &g.id)])
                ),
                fig: FigView::from(&g.figures),
            })
            .collect(),
        group_name,
        units: shown
            .iter()
            .map(|u| UnitLine {
                id: u.unit.id.clone(),
                name: u.unit.name.clone(),
                href: format!("{}?{}#danh-gia", unit_href(&u.unit.id), link_query(r, &[])),
                fig: FigView::from(&u.figures),
            })
            .collect(),
        group: group.clone(),
        units_total,
        pager,
        sorts,
        print_href: base(&[("print", "1")]),
        screen_href: base(&[]),
        all_groups_href: format!("/dashboard/compliance?{}#don-vi", link_query(r, &[])),
        csv_hrefs: Table::ALL
            .into_iter()
            .map(|t| {
                (
                    format!(
                        "/dashboard/compliance.csv?{}",
                        link_query(r, &[("table", t.slug())])
                    ),
                    t.title(),
                )
            })
            .collect(),
        xlsx_href: format!("/dashboard/compliance.xlsx?{}", link_query(r, &[])),
    };
    page::render(StatusCode::OK, "dashboard/compliance.html", frame, &view)
}

/// A download: `bytes` as `content_type`, saved as `name`.
fn download(bytes: Vec<u8>, content_type: &'static str, name: String) -> Response {
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::try_from(format!("attachment; filename=\"{name}\"")).expect("ASCII"),
    );
    resp
}

/// The file name's part for a range: `2026` or `2026-01-01_2026-06-30`.
fn range_slug(r: Range) -> String {
    match Range::year(r.from.year()) {
        Some(y) if y == r => r.from.year().to_string(),
        _ => format!("{}_{}", r.from, r.to),
    }
}

/// `GET /dashboard/compliance.csv`.
async fn csv(
    State(state): State<AppState>,
    _admin: Admin,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let Ok(Query(p)) = query else {
        return bad_query();
    };
    let table = match given(&p.table) {
        None => Table::Units,
        Some(t) => match Table::from_slug(t) {
            Some(t) => t,
            None => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "Bộ lọc không hợp lệ",
                    &format!("Không có bảng \"{t}\": chọn nhom, don-vi hoặc don-vi-bao-cao."),
                );
            }
        },
    };
    let live = state.live();
    let (r, c) = match assess(&state, &live, &p).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    download(
        compliance::csv(&c, &live.cfg, table),
        "text/csv; charset=utf-8",
        format!("hanbao-danh-gia-{}-{}.csv", range_slug(r), table.slug()),
    )
}

/// `GET /dashboard/compliance.xlsx`.
async fn xlsx(
    State(state): State<AppState>,
    _admin: Admin,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let Ok(Query(p)) = query else {
        return bad_query();
    };
    let live = state.live();
    let (r, c) = match assess(&state, &live, &p).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    match sheets::workbook(&c, &live.cfg) {
        Ok(bytes) => download(
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            format!("hanbao-danh-gia-{}.xlsx", range_slug(r)),
        ),
        Err(e) => {
            tracing::error!(error = %e, "dashboard: cannot write the compliance workbook");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Không tạo được tệp Excel",
                &e.to_string(),
            )
        }
    }
}
