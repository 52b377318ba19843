//! `/dashboard`: the coordinator's web pages, server-rendered in Vietnamese,
//! usable without JavaScript and on a phone.
//!
//! - `GET /dashboard`: the status matrix (units × obligation periods) with
//!   colours and days late, filtered by obligation, period, group and state
//!   (GET query); `GET /dashboard/export.csv`: the same rows as `hanbao
//!   status --csv` (same function, so the same columns and encoding).
//! - `GET /dashboard/units/{unit}`: one unit's current periods and history.
//! - `GET /dashboard/units/{unit}/{obligation}/{period}`: one report, with
//!   forms to record a receipt, grant an extension or a waiver (`POST` to
//!   `.../submission`, `.../extension`, `.../waiver`).
//! - `GET /dashboard/outbox`: pending, sending and failed messages with their
//!   reasons; `POST /dashboard/outbox/{id}/retry` puts a failed one back.
//! - `GET|POST /dashboard/login`, `POST /dashboard/logout`.
//!
//! Every page needs an administrator session ([`session`]); every post
//! needs the session's CSRF token and a same-origin request, then redirects
//! (POST-redirect-GET) with a flash message. A bad input re-shows the form
//! with a Vietnamese message (422) and writes nothing. Writes go to the
//! store with the token's identity as actor and source "web".
//!
//! Must not: send mail, write anything but submissions, extensions, waivers
//! and the retry of a failed outbox row, or put text into HTML unescaped.

pub mod page;
pub mod session;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;

use crate::config::values::parse_date;
use crate::status::StateName;
use crate::store::{
    Event, HistoryFilter, Key, NewExtension, NewSubmission, NewWaiver, Outbox, OutboxKind,
    OutboxRow, OutboxStatus, Recorded, Records, Source, StoreError, Subject, TokenRole,
};
use crate::tracking::{self, Row, Selection, TrackingError};

use super::auth::{Presented, authenticate};
use super::{AppState, Live};
use page::{Nav, csrf_field, dmy, error_page, esc, local, pct, render};
use session::{Admin, ClientIp};

/// Longest accepted document number (số văn bản), as in the API.
const MAX_REFERENCE: usize = super::api::MAX_REFERENCE;
/// Longest accepted note or reason, as in the API.
const MAX_NOTE: usize = super::api::MAX_NOTE;
/// Outbox rows listed per state (the rest are counted).
const OUTBOX_SHOWN: usize = 500;
/// History events listed on a unit page (newest first).
const HISTORY_SHOWN: usize = 200;

/// Every state, in the order of the legend and the filter.
const STATES: [StateName; 8] = [
    StateName::Overdue,
    StateName::DueSoon,
    StateName::Open,
    StateName::Extended,
    StateName::SubmittedLate,
    StateName::SubmittedOnTime,
    StateName::Waived,
    StateName::NotOpen,
];

/// The dashboard's routes (merged into [`super::router`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/dashboard", get(matrix))
        .route("/dashboard/export.csv", get(export))
        .route("/dashboard/login", get(login_form).post(login))
        .route("/dashboard/logout", post(logout))
        .route("/dashboard/units/{unit}", get(unit_page))
        .route(
            "/dashboard/units/{unit}/{obligation}/{period}",
            get(key_page),
        )
        .route(
            "/dashboard/units/{unit}/{obligation}/{period}/submission",
            post(record_submission),
        )
        .route(
            "/dashboard/units/{unit}/{obligation}/{period}/extension",
            post(grant_extension),
        )
        .route(
            "/dashboard/units/{unit}/{obligation}/{period}/waiver",
            post(grant_waiver),
        )
        .route("/dashboard/outbox", get(outbox_page))
        .route("/dashboard/outbox/{id}/retry", post(retry))
        .route_layer(middleware::from_fn(session::reject_cross_origin))
}

fn nav(admin: &Admin) -> Nav<'_> {
    Nav {
        who: &admin.token.name,
        csrf: &admin.csrf,
    }
}

fn store_failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "dashboard: database error");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Máy chủ tạm thời không trả lời",
        "Không đọc hoặc ghi được cơ sở dữ liệu. Hãy thử lại sau ít phút.",
    )
}

fn bad_csrf() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Biểu mẫu không hợp lệ",
        "Biểu mẫu đã hết hạn hoặc không phải của phiên làm việc này. Hãy tải lại trang rồi gửi lại.",
    )
}

fn bad_form() -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "Biểu mẫu không đọc được",
        "Dữ liệu gửi lên không đúng dạng biểu mẫu. Hãy tải lại trang rồi gửi lại.",
    )
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

// ---------------------------------------------------------------- login

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    out: Option<String>,
}

fn login_page(status: StatusCode, error: Option<&str>, note: Option<&str>) -> Response {
    let mut body = String::new();
    if let Some(n) = note {
        let _ = writeln!(body, "<p class=\"flash ok\" role=\"status\">{}</p>", esc(n));
    }
    if let Some(e) = error {
        let _ = writeln!(body, "<p class=\"flash err\" role=\"alert\">{}</p>", esc(e));
    }
    body.push_str(
        "<form class=\"card\" method=\"post\" action=\"/dashboard/login\">\n\
         <p>Dán mã quản trị (tạo bằng lệnh <code>hanbao token create --admin</code>).</p>\n\
         <label>Mã quản trị <input type=\"password\" name=\"token\" autocomplete=\"off\" required></label>\n\
         <p><button type=\"submit\">Đăng nhập</button></p>\n</form>",
    );
    render(status, "Đăng nhập", None, None, &body)
}

/// `GET /dashboard/login`.
async fn login_form(query: Result<Query<LoginQuery>, QueryRejection>) -> Response {
    let out = query.ok().and_then(|Query(q)| q.out).is_some();
    login_page(StatusCode::OK, None, out.then_some("Đã đăng xuất."))
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    token: String,
}

/// `POST /dashboard/login`: an administrator token opens a session.
/// Failures count toward the API's failure limit per client.
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return bad_form();
    };
    let secret = f.token.trim();
    let presented = if secret.is_empty() {
        Presented::Missing
    } else {
        Presented::Secret(secret)
    };
    let caller = match authenticate(&state, ip, presented).await {
        Ok(c) => c,
        Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
            let mut r = login_page(
                StatusCode::TOO_MANY_REQUESTS,
                Some(&format!(
                    "Đăng nhập sai quá nhiều lần. Hãy thử lại sau {} giây.",
                    e.retry_after.unwrap_or(60)
                )),
                None,
            );
            if let Some(secs) = e.retry_after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            return r;
        }
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            return login_page(
                StatusCode::UNAUTHORIZED,
                Some("Mã không đúng hoặc đã bị thu hồi."),
                None,
            );
        }
        Err(e) => return store_failed(e.message),
    };
    if caller.token.role != TokenRole::Admin {
        return login_page(
            StatusCode::FORBIDDEN,
            Some("Mã này là mã của một đơn vị; bảng điều khiển cần mã quản trị."),
            None,
        );
    }
    let id = match state.shared.sessions.create(&caller.token) {
        Ok(id) => id,
        Err(e) => return store_failed(e),
    };
    tracing::info!(actor = %caller.actor(), client = %ip, "dashboard login");
    let mut r = Redirect::to("/dashboard").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, session::set_cookie(&headers, &id));
    r
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /dashboard/logout`.
async fn logout(
    State(state): State<AppState>,
    admin: Admin,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return bad_form();
    };
    if !admin.csrf_ok(&f.csrf) {
        return bad_csrf();
    }
    admin.logout(&state);
    tracing::info!(actor = %admin.actor(), "dashboard logout");
    let mut r = Redirect::to("/dashboard/login?out=1").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie());
    r
}

// ---------------------------------------------------------------- matrix

/// The matrix filters (all optional; empty means all).
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    obligation: Option<String>,
    period: Option<String>,
    group: Option<String>,
    status: Option<String>,
}

impl Filters {
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

fn state_by_name(name: &str) -> Option<StateName> {
    STATES.into_iter().find(|s| s.as_str() == name)
}

/// The rows the filters select on day `at`, or a Vietnamese message.
async fn select<'a>(
    state: &AppState,
    live: &'a Live,
    f: &Filters,
    at: Date,
) -> Result<Vec<Row<'a>>, Result<String, Box<Response>>> {
    let period = nonempty(&f.period);
    if let Some(p) = &period
        && crate::period::PeriodKey::parse(p).is_err()
        && !live.cfg.obligations.iter().any(|o| o.id == *p)
    {
        return Err(Ok(format!(
            "Kỳ \"{p}\" không đúng dạng: ghi 2026-03, 2026-Q1, 2026-H1, 2026-9M, 2026, hoặc mã của báo cáo một lần."
        )));
    }
    let members = match nonempty(&f.group) {
        Some(g) => match live.cfg.groups.get(&g) {
            Some(m) => Some(m),
            None => return Err(Ok(format!("Không có nhóm \"{g}\" trong cấu hình."))),
        },
        None => None,
    };
    let wanted = match nonempty(&f.status) {
        Some(s) => match state_by_name(&s) {
            Some(st) => Some(st),
            None => return Err(Ok(format!("Không có trạng thái \"{s}\"."))),
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
        Err(TrackingError::Store(e)) => return Err(Err(Box::new(store_failed(e)))),
        Err(e) => return Err(Ok(format!("{e}."))),
    };
    Ok(rows
        .into_iter()
        .filter(|r| members.is_none_or(|m| m.contains(&r.unit.id)))
        .filter(|r| wanted.is_none_or(|w| r.status.state == w))
        .collect())
}

fn short(d: Date) -> String {
    format!("{:02}/{:02}", d.day(), d.month())
}

/// The text of one matrix cell.
fn cell_text(r: &Row<'_>) -> String {
    let s = &r.status;
    match s.state {
        StateName::Overdue => format!(
            "Quá hạn {} ngày ({} ngày LV)",
            s.days_late.unwrap_or(0),
            s.working_days_late.unwrap_or(0)
        ),
        StateName::SubmittedLate => format!(
            "Nộp muộn {} ngày ({})",
            s.days_late.unwrap_or(0),
            s.submitted_on.map(short).unwrap_or_default()
        ),
        StateName::SubmittedOnTime => match s.submitted_on {
            Some(d) => format!("Đã nộp {}", short(d)),
            None => "Đã nộp".into(),
        },
        StateName::Extended => format!("Gia hạn đến {}", dmy(s.due)),
        other => other.label_vi().into(),
    }
}

fn key_href(unit: &str, obligation: &str, period: &str) -> String {
    format!(
        "/dashboard/units/{}/{}/{}",
        pct(unit),
        pct(obligation),
        pct(period)
    )
}

fn select_box(
    name: &str,
    label: &str,
    current: Option<&str>,
    options: &[(String, String)],
) -> String {
    let mut s = format!(
        "<label>{}<select name=\"{name}\"><option value=\"\">(tất cả)</option>",
        esc(label)
    );
    for (value, text) in options {
        let sel = if current == Some(value.as_str()) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            s,
            "<option value=\"{}\"{sel}>{}</option>",
            esc(value),
            esc(text)
        );
    }
    s.push_str("</select></label>");
    s
}

fn filter_form(live: &Live, f: &Filters) -> String {
    let obligations: Vec<(String, String)> = live
        .cfg
        .obligations
        .iter()
        .map(|o| (o.id.clone(), format!("{} — {}", o.id, o.title)))
        .collect();
    let groups: Vec<(String, String)> = live
        .cfg
        .groups
        .keys()
        .map(|g| (g.clone(), g.clone()))
        .collect();
    let states: Vec<(String, String)> = STATES
        .iter()
        .map(|s| (s.as_str().to_string(), s.label_vi().to_string()))
        .collect();
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/dashboard\">{}{}\
         <label>Kỳ<input name=\"period\" value=\"{}\" placeholder=\"2026-Q1\" size=\"9\"></label>{}\
         <button type=\"submit\">Lọc</button> <a href=\"/dashboard\">Bỏ lọc</a></form>",
        select_box(
            "obligation",
            "Báo cáo",
            nonempty(&f.obligation).as_deref(),
            &obligations
        ),
        select_box("group", "Nhóm", nonempty(&f.group).as_deref(), &groups),
        esc(&nonempty(&f.period).unwrap_or_default()),
        select_box(
            "status",
            "Trạng thái",
            nonempty(&f.status).as_deref(),
            &states
        ),
    )
}

/// The matrix table: one line per unit (file order), one column per
/// (obligation, period) (file order, then period).
fn matrix_table(live: &Live, rows: &[Row<'_>]) -> String {
    let ob_pos: HashMap<&str, usize> = live
        .cfg
        .obligations
        .iter()
        .enumerate()
        .map(|(i, o)| (o.id.as_str(), i))
        .collect();
    let unit_pos: HashMap<&str, usize> = live
        .cfg
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.as_str(), i))
        .collect();
    let mut columns: BTreeMap<(usize, &str), &Row<'_>> = BTreeMap::new();
    let mut lines: BTreeMap<usize, &Row<'_>> = BTreeMap::new();
    let mut cells: HashMap<(usize, usize, &str), &Row<'_>> = HashMap::new();
    for r in rows {
        let o = ob_pos.get(r.obligation.id.as_str()).copied().unwrap_or(0);
        let u = unit_pos.get(r.unit.id.as_str()).copied().unwrap_or(0);
        let col = columns.entry((o, &*r.period)).or_insert(r);
        if col.status.extended && !r.status.extended {
            *col = r;
        }
        lines.entry(u).or_insert(r);
        cells.insert((u, o, &*r.period), r);
    }
    let mut s =
        String::from("<div class=\"wrap\"><table class=\"matrix\">\n<thead><tr><th>Đơn vị</th>");
    for ((_, period), r) in &columns {
        let _ = write!(
            s,
            "<th title=\"{title}\">{id}<br>{period}<br><span class=\"muted\">hạn {due}</span></th>",
            title = esc(&r.obligation.title),
            id = esc(&r.obligation.id),
            period = esc(period),
            due = if r.status.extended {
                String::from("—")
            } else {
                dmy(r.status.due)
            }
        );
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for (u, r) in &lines {
        let _ = write!(
            s,
            "<tr><th class=\"u\" scope=\"row\"><a href=\"/dashboard/units/{}\">{}</a><br><span class=\"muted\">{}</span></th>",
            pct(&r.unit.id),
            esc(&r.unit.name),
            esc(&r.unit.id)
        );
        for (o, period) in columns.keys() {
            match cells.get(&(*u, *o, *period)) {
                Some(c) => {
                    let _ = write!(
                        s,
                        "<td class=\"c {st}\" data-state=\"{st}\" id=\"c-{cid}\"><a href=\"{href}\">{text}</a></td>",
                        st = c.status.state.as_str(),
                        cid = esc(&format!("{}-{}-{}", c.unit.id, c.obligation.id, c.period)),
                        href = key_href(&c.unit.id, &c.obligation.id, &c.period),
                        text = esc(&cell_text(c)),
                    );
                }
                None => s.push_str("<td>—</td>"),
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n");
    s
}

fn legend(rows: &[Row<'_>]) -> String {
    let mut s = String::from("<p class=\"legend\">");
    for st in STATES {
        let n = rows.iter().filter(|r| r.status.state == st).count();
        if n > 0 {
            let _ = write!(
                s,
                "<span class=\"{}\">{}: {n}</span> ",
                st.as_str(),
                st.label_vi()
            );
        }
    }
    let _ = write!(
        s,
        "</p><p class=\"muted\">Tổng: {} ô. LV: ngày làm việc.</p>",
        rows.len()
    );
    s
}

/// `GET /dashboard`.
async fn matrix(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<Filters>, QueryRejection>,
) -> Response {
    let flash = admin.take_flash(&state);
    let live = state.live();
    let today = live.today(Timestamp::now());
    let (f, bad_query) = match query {
        Ok(Query(f)) => (f, None),
        Err(e) => (Filters::default(), Some(e.body_text())),
    };
    let mut body = filter_form(&live, &f);
    let status = match bad_query {
        Some(e) => {
            tracing::debug!(error = %e, "dashboard: bad filter query");
            let _ = write!(
                body,
                "<p class=\"flash err\" role=\"alert\">Bộ lọc không đọc được.</p>"
            );
            StatusCode::BAD_REQUEST
        }
        None => match select(&state, &live, &f, today).await {
            Ok(rows) if rows.is_empty() => {
                let _ = write!(
                    body,
                    "<p>Không có báo cáo nào phải theo dõi với bộ lọc này vào ngày {}.</p>",
                    dmy(today)
                );
                StatusCode::OK
            }
            Ok(rows) => {
                let _ = write!(
                    body,
                    "<p class=\"muted\">Ngày {} · <a href=\"/dashboard/export.csv{}\">Tải CSV</a></p>\n{}{}",
                    dmy(today),
                    esc(&f.query()),
                    matrix_table(&live, &rows),
                    legend(&rows)
                );
                StatusCode::OK
            }
            Err(Ok(msg)) => {
                let _ = write!(
                    body,
                    "<p class=\"flash err\" role=\"alert\">{}</p>",
                    esc(&msg)
                );
                StatusCode::BAD_REQUEST
            }
            Err(Err(resp)) => return *resp,
        },
    };
    render(
        status,
        "Tình hình nộp báo cáo",
        Some(nav(&admin)),
        flash.as_ref(),
        &body,
    )
}

/// `GET /dashboard/export.csv`: the filtered rows as `hanbao status --csv`.
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
            let bytes = crate::commands::status::csv(&rows);
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
        Err(Ok(msg)) => error_page(StatusCode::BAD_REQUEST, "Bộ lọc không hợp lệ", &msg),
        Err(Err(resp)) => *resp,
    }
}

// ---------------------------------------------------------------- history

fn subject_vi(s: Subject) -> &'static str {
    match s {
        Subject::Submission => "Nộp báo cáo",
        Subject::Extension => "Gia hạn",
        Subject::Waiver => "Miễn nộp",
    }
}

fn action_vi(a: crate::store::Action) -> &'static str {
    use crate::store::Action;
    match a {
        Action::Submit => "ghi nhận",
        Action::Correct => "sửa",
        Action::Grant => "cho phép",
        Action::Revoke => "thu hồi",
    }
}

fn history_table(events: &[Event], tz: &jiff::tz::TimeZone, with_key: bool) -> String {
    if events.is_empty() {
        return "<p>Chưa có ghi nhận nào.</p>".into();
    }
    let mut s =
        String::from("<div class=\"wrap\"><table class=\"history\"><thead><tr><th>Lúc ghi</th>");
    if with_key {
        s.push_str("<th>Báo cáo</th><th>Kỳ</th>");
    }
    s.push_str(
        "<th>Việc</th><th>Chi tiết</th><th>Người ghi</th><th>Nguồn</th></tr></thead><tbody>\n",
    );
    for e in events.iter().rev().take(HISTORY_SHOWN) {
        let mut detail = Vec::new();
        if let Some(d) = e.received_on {
            detail.push(format!("ngày gửi {}", dmy(d)));
        }
        if let Some(r) = &e.reference {
            detail.push(format!("số văn bản {r}"));
        }
        if let Some(d) = e.due_on {
            detail.push(format!("hạn mới {}", dmy(d)));
        }
        if let Some(n) = &e.note {
            detail.push(n.clone());
        }
        let _ = write!(s, "<tr><td>{}</td>", local(e.recorded_at, tz));
        if with_key {
            let _ = write!(
                s,
                "<td><a href=\"{}\">{}</a></td><td>{}</td>",
                key_href(&e.key.unit, &e.key.obligation, &e.key.period),
                esc(&e.key.obligation),
                esc(&e.key.period)
            );
        }
        let _ = writeln!(
            s,
            "<td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            subject_vi(e.subject),
            action_vi(e.action),
            esc(&detail.join("; ")),
            esc(&e.actor),
            e.source.as_str()
        );
    }
    s.push_str("</tbody></table></div>\n");
    if events.len() > HISTORY_SHOWN {
        let _ = write!(
            s,
            "<p class=\"muted\">Chỉ hiện {HISTORY_SHOWN} ghi nhận mới nhất trong {}.</p>",
            events.len()
        );
    }
    s
}

/// `GET /dashboard/units/{unit}`: the unit's current periods and history.
async fn unit_page(
    State(state): State<AppState>,
    admin: Admin,
    Path(unit_id): Path<String>,
) -> Response {
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
    let rows = match tracking::status(&state.shared.store, &live.cfg, &live.cal, &sel, today).await
    {
        Ok(r) => r,
        Err(TrackingError::Store(e)) => return store_failed(e),
        Err(_) => Vec::new(),
    };
    let events = match state
        .shared
        .store
        .history(&HistoryFilter {
            unit: Some(unit.id.clone()),
            ..HistoryFilter::default()
        })
        .await
    {
        Ok(e) => e,
        Err(e) => return store_failed(e),
    };
    let mut body = format!(
        "<dl><dt>Mã đơn vị</dt><dd>{}</dd><dt>Nhóm</dt><dd>{}</dd><dt>Hộp thư</dt><dd>{}</dd></dl>\n\
         <h2>Các kỳ đang theo dõi ({})</h2>\n",
        esc(&unit.id),
        esc(&unit.groups.join(", ")),
        esc(&unit.emails.join(", ")),
        dmy(today)
    );
    if rows.is_empty() {
        body.push_str("<p>Đơn vị không có báo cáo nào phải theo dõi lúc này.</p>\n");
    } else {
        body.push_str(
            "<div class=\"wrap\"><table><thead><tr><th>Báo cáo</th><th>Kỳ</th><th>Hạn</th><th>Trạng thái</th></tr></thead><tbody>\n",
        );
        for r in &rows {
            let _ = writeln!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"c {st}\" data-state=\"{st}\"><a href=\"{}\">{}</a></td></tr>",
                esc(&r.obligation.title),
                esc(&r.period),
                dmy(r.status.due),
                key_href(&r.unit.id, &r.obligation.id, &r.period),
                esc(&cell_text(r)),
                st = r.status.state.as_str(),
            );
        }
        body.push_str("</tbody></table></div>\n");
    }
    body.push_str("<h2>Lịch sử</h2>\n");
    body.push_str(&history_table(&events, &live.cfg.daemon.time_zone, true));
    body.push_str("<p><a href=\"/dashboard\">← Về bảng tình hình</a></p>");
    render(
        StatusCode::OK,
        &unit.name,
        Some(nav(&admin)),
        flash.as_ref(),
        &body,
    )
}

// ---------------------------------------------------------------- one report

/// Which form a message belongs to, and what was typed (kept on error).
#[derive(Debug, Default)]
struct Typed {
    form: Option<Subject>,
    error: Option<String>,
    reference: String,
    received_on: String,
    note: String,
    until: String,
    reason: String,
}

/// The key of a report the configuration says is owed, or the 404 page.
fn owed(live: &Live, unit: &str, obligation: &str, period: &str) -> Result<Key, Box<Response>> {
    match tracking::resolve(&live.cfg, &live.cal, obligation, period, unit) {
        Ok(d) => Ok(Key::new(&d.obligation.id, d.period.to_string(), &d.unit.id)),
        Err(e) => Err(Box::new(error_page(
            StatusCode::NOT_FOUND,
            "Không tìm thấy báo cáo",
            &format!("{e}."),
        ))),
    }
}

async fn key_view(
    state: &AppState,
    admin: &Admin,
    key: &Key,
    status: StatusCode,
    typed: &Typed,
) -> Response {
    let flash = admin.take_flash(state);
    let live = state.live();
    let today = live.today(Timestamp::now());
    let sel = Selection {
        obligation: Some(key.obligation.clone()),
        period: Some(key.period.clone()),
        unit: Some(key.unit.clone()),
    };
    let rows = match tracking::status(&state.shared.store, &live.cfg, &live.cal, &sel, today).await
    {
        Ok(r) => r,
        Err(TrackingError::Store(e)) => return store_failed(e),
        Err(e) => {
            return error_page(
                StatusCode::NOT_FOUND,
                "Không tìm thấy báo cáo",
                &format!("{e}."),
            );
        }
    };
    let Some(row) = rows.first() else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Không tìm thấy báo cáo",
            "Đơn vị này không phải nộp kỳ báo cáo này.",
        );
    };
    let events = match state
        .shared
        .store
        .history(&HistoryFilter {
            obligation: Some(key.obligation.clone()),
            period: Some(key.period.clone()),
            unit: Some(key.unit.clone()),
        })
        .await
    {
        Ok(e) => e,
        Err(e) => return store_failed(e),
    };
    let base = key_href(&key.unit, &key.obligation, &key.period);
    let err_for = |s: Subject| match (&typed.form, &typed.error) {
        (Some(f), Some(e)) if *f == s => {
            format!("<p class=\"flash err\" role=\"alert\">{}</p>\n", esc(e))
        }
        _ => String::new(),
    };
    let received_default = if typed.form == Some(Subject::Submission) {
        typed.received_on.clone()
    } else {
        today.to_string()
    };
    let mut body = format!(
        "<dl><dt>Báo cáo</dt><dd>{title} ({ob})</dd><dt>Kỳ</dt><dd>{period}</dd>\
         <dt>Đơn vị</dt><dd><a href=\"/dashboard/units/{upct}\">{uname}</a></dd>\
         <dt>Hạn</dt><dd>{due}</dd>\
         <dt>Trạng thái</dt><dd class=\"c {st}\" data-state=\"{st}\" id=\"state\">{text}</dd>{reference}</dl>\n",
        title = esc(&row.obligation.title),
        ob = esc(&row.obligation.id),
        period = esc(&row.period),
        upct = pct(&row.unit.id),
        uname = esc(&row.unit.name),
        due = dmy(row.status.due),
        st = row.status.state.as_str(),
        text = esc(&cell_text(row)),
        reference = row
            .reference
            .as_deref()
            .map(|r| format!("<dt>Số văn bản</dt><dd>{}</dd>", esc(r)))
            .unwrap_or_default(),
    );
    let csrf = csrf_field(&admin.csrf);
    let _ = write!(
        body,
        "<h2>Ghi nhận đã nhận báo cáo</h2>\n\
         <form class=\"card\" method=\"post\" action=\"{base}/submission\">{csrf}\n{err}\
         <label>Số văn bản <input name=\"reference\" maxlength=\"{MAX_REFERENCE}\" value=\"{reference}\"></label>\n\
         <label>Ngày nhận <input type=\"date\" name=\"received_on\" value=\"{received}\" required></label>\n\
         <label>Ghi chú <input name=\"note\" maxlength=\"{MAX_NOTE}\" value=\"{note}\"></label>\n\
         <label><input type=\"checkbox\" name=\"correction\" value=\"1\"> Sửa ghi nhận đã có</label>\n\
         <p><button type=\"submit\">Ghi nhận</button></p></form>\n",
        err = err_for(Subject::Submission),
        reference = esc(&typed.reference),
        received = esc(&received_default),
        note = esc(&typed.note),
    );
    let (until, ext_reason) = if typed.form == Some(Subject::Extension) {
        (typed.until.as_str(), typed.reason.as_str())
    } else {
        ("", "")
    };
    let _ = write!(
        body,
        "<h2>Gia hạn</h2>\n\
         <form class=\"card\" method=\"post\" action=\"{base}/extension\">{csrf}\n{err}\
         <label>Hạn mới <input type=\"date\" name=\"until\" value=\"{until}\" required></label>\n\
         <label>Lý do <input name=\"reason\" maxlength=\"{MAX_NOTE}\" value=\"{reason}\" required></label>\n\
         <p><button type=\"submit\">Gia hạn</button></p></form>\n",
        err = err_for(Subject::Extension),
        until = esc(until),
        reason = esc(ext_reason),
    );
    let waiver_reason = if typed.form == Some(Subject::Waiver) {
        typed.reason.as_str()
    } else {
        ""
    };
    let _ = write!(
        body,
        "<h2>Miễn nộp</h2>\n\
         <form class=\"card\" method=\"post\" action=\"{base}/waiver\">{csrf}\n{err}\
         <label>Lý do <input name=\"reason\" maxlength=\"{MAX_NOTE}\" value=\"{reason}\" required></label>\n\
         <p><button type=\"submit\">Miễn nộp</button></p></form>\n",
        err = err_for(Subject::Waiver),
        reason = esc(waiver_reason),
    );
    body.push_str("<h2>Lịch sử</h2>\n");
    body.push_str(&history_table(&events, &live.cfg.daemon.time_zone, false));
    let _ = write!(
        body,
        "<p><a href=\"/dashboard?obligation={}&amp;period={}\">← Về bảng tình hình</a></p>",
        pct(&key.obligation),
        pct(&key.period)
    );
    render(
        status,
        &format!("{} — {}", row.obligation.title, row.unit.name),
        Some(nav(admin)),
        flash.as_ref(),
        &body,
    )
}

/// `GET /dashboard/units/{unit}/{obligation}/{period}`.
async fn key_page(
    State(state): State<AppState>,
    admin: Admin,
    Path((unit, obligation, period)): Path<(String, String, String)>,
) -> Response {
    let key = match owed(&state.live(), &unit, &obligation, &period) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    key_view(&state, &admin, &key, StatusCode::OK, &Typed::default()).await
}

#[derive(Debug, Deserialize)]
pub struct SubmissionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    correction: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ExtensionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Deserialize)]
pub struct WaiverForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Runs a validated write: on success a flash and a redirect to the
/// report's page; otherwise the form again with the message (409 for a
/// conflict, 422 for what the store refused), nothing written.
async fn finish_write(
    state: &AppState,
    admin: &Admin,
    key: &Key,
    what: &str,
    result: Result<Recorded, StoreError>,
    mut typed: Typed,
) -> Response {
    let (status, msg) = match result {
        Ok(r) => {
            tracing::info!(
                actor = %admin.actor(),
                source = "web",
                key = %r.event().key,
                what,
                new = r.is_new(),
                "dashboard write"
            );
            let text = if r.is_new() {
                format!("Đã ghi: {what}.")
            } else {
                format!("Không có gì thay đổi: {what} đã được ghi trước đó.")
            };
            admin.flash(state, true, text);
            return Redirect::to(&key_href(&key.unit, &key.obligation, &key.period))
                .into_response();
        }
        Err(StoreError::Conflict { existing, .. }) => (
            StatusCode::CONFLICT,
            format!(
                "Đã có ghi nhận khác cho báo cáo này (ngày gửi {}, số văn bản {}). Nếu cần thay bằng ghi nhận mới, hãy đánh dấu \"Sửa ghi nhận đã có\".",
                existing.received_on.map(dmy).unwrap_or_default(),
                existing.reference.as_deref().unwrap_or("không ghi")
            ),
        ),
        Err(StoreError::NothingToCorrect { .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Chưa có ghi nhận nào để sửa; bỏ đánh dấu \"Sửa ghi nhận đã có\".".into(),
        ),
        Err(StoreError::Invalid { field, reason }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Dữ liệu không hợp lệ ({field}: {reason})."),
        ),
        Err(e) => return store_failed(e),
    };
    typed.error = Some(msg);
    key_view(state, admin, key, status, &typed).await
}

fn too_long(label: &str, value: &str, max: usize) -> Option<String> {
    (value.chars().count() > max).then(|| format!("{label} dài quá {max} ký tự."))
}

/// `POST .../submission`: records that the report arrived.
async fn record_submission(
    State(state): State<AppState>,
    admin: Admin,
    Path((unit, obligation, period)): Path<(String, String, String)>,
    form: Result<Form<SubmissionForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return bad_form();
    };
    if !admin.csrf_ok(&f.csrf) {
        return bad_csrf();
    }
    let live = state.live();
    let key = match owed(&live, &unit, &obligation, &period) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let now = Timestamp::now();
    let today = live.today(now);
    let mut typed = Typed {
        form: Some(Subject::Submission),
        reference: f.reference.clone(),
        received_on: f.received_on.clone(),
        note: f.note.clone(),
        ..Typed::default()
    };
    let reference = f.reference.trim();
    let note = f.note.trim();
    let error = match parse_date(&f.received_on) {
        Err(e) => Some(format!("Ngày nhận: {e} (ghi dd/mm/yyyy).")),
        Ok(day) if day > today => Some(format!(
            "Ngày nhận {} ở sau hôm nay ({}).",
            dmy(day),
            dmy(today)
        )),
        Ok(_) => too_long("Số văn bản", reference, MAX_REFERENCE)
            .or_else(|| too_long("Ghi chú", note, MAX_NOTE)),
    };
    if let Some(e) = error {
        typed.error = Some(e);
        return key_view(
            &state,
            &admin,
            &key,
            StatusCode::UNPROCESSABLE_ENTITY,
            &typed,
        )
        .await;
    }
    let received_on = parse_date(&f.received_on).expect("checked above");
    let result = state
        .shared
        .store
        .record_submission(
            NewSubmission {
                key: key.clone(),
                received_on,
                received_at: None,
                reference: (!reference.is_empty()).then(|| reference.to_string()),
                note: (!note.is_empty()).then(|| note.to_string()),
                actor: admin.actor(),
                source: Source::Web,
                correction: f.correction.is_some(),
            },
            now,
        )
        .await;
    finish_write(&state, &admin, &key, "đã nhận báo cáo", result, typed).await
}

/// `POST .../extension`: grants a new due date.
async fn grant_extension(
    State(state): State<AppState>,
    admin: Admin,
    Path((unit, obligation, period)): Path<(String, String, String)>,
    form: Result<Form<ExtensionForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return bad_form();
    };
    if !admin.csrf_ok(&f.csrf) {
        return bad_csrf();
    }
    let live = state.live();
    let key = match owed(&live, &unit, &obligation, &period) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let due = tracking::resolve(
        &live.cfg,
        &live.cal,
        &key.obligation,
        &key.period,
        &key.unit,
    )
    .map(|d| d.due)
    .ok();
    let mut typed = Typed {
        form: Some(Subject::Extension),
        until: f.until.clone(),
        reason: f.reason.clone(),
        ..Typed::default()
    };
    let reason = f.reason.trim();
    let error = match parse_date(&f.until) {
        Err(e) => Some(format!("Hạn mới: {e} (ghi dd/mm/yyyy).")),
        Ok(day) if due.is_some_and(|d| day <= d) => Some(format!(
            "Hạn mới {} phải sau hạn gốc {}.",
            dmy(day),
            due.map(dmy).unwrap_or_default()
        )),
        Ok(_) if reason.is_empty() => Some("Lý do gia hạn không được để trống.".into()),
        Ok(_) => too_long("Lý do", reason, MAX_NOTE),
    };
    if let Some(e) = error {
        typed.error = Some(e);
        return key_view(
            &state,
            &admin,
            &key,
            StatusCode::UNPROCESSABLE_ENTITY,
            &typed,
        )
        .await;
    }
    let until = parse_date(&f.until).expect("checked above");
    let result = state
        .shared
        .store
        .grant_extension(
            NewExtension {
                key: key.clone(),
                until,
                reason: reason.to_string(),
                actor: admin.actor(),
                source: Source::Web,
            },
            Timestamp::now(),
        )
        .await;
    let what = format!("gia hạn đến {}", dmy(until));
    finish_write(&state, &admin, &key, &what, result, typed).await
}

/// `POST .../waiver`: excuses the unit from this period.
async fn grant_waiver(
    State(state): State<AppState>,
    admin: Admin,
    Path((unit, obligation, period)): Path<(String, String, String)>,
    form: Result<Form<WaiverForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return bad_form();
    };
    if !admin.csrf_ok(&f.csrf) {
        return bad_csrf();
    }
    let live = state.live();
    let key = match owed(&live, &unit, &obligation, &period) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let mut typed = Typed {
        form: Some(Subject::Waiver),
        reason: f.reason.clone(),
        ..Typed::default()
    };
    let reason = f.reason.trim();
    let error = if reason.is_empty() {
        Some("Lý do miễn nộp không được để trống.".to_string())
    } else {
        too_long("Lý do", reason, MAX_NOTE)
    };
    if let Some(e) = error {
        typed.error = Some(e);
        return key_view(
            &state,
            &admin,
            &key,
            StatusCode::UNPROCESSABLE_ENTITY,
            &typed,
        )
        .await;
    }
    let result = state
        .shared
        .store
        .grant_waiver(
            NewWaiver {
                key: key.clone(),
                reason: reason.to_string(),
                actor: admin.actor(),
                source: Source::Web,
            },
            Timestamp::now(),
        )
        .await;
    finish_write(&state, &admin, &key, "miễn nộp", result, typed).await
}

// ---------------------------------------------------------------- outbox

fn kind_vi(k: OutboxKind) -> &'static str {
    match k {
        OutboxKind::Reminder => "Nhắc hạn",
        OutboxKind::DueToday => "Đến hạn hôm nay",
        OutboxKind::Overdue => "Quá hạn (gửi đơn vị)",
        OutboxKind::Escalation => "Báo cáo cấp trên",
    }
}

fn outbox_table(
    rows: &[OutboxRow],
    status: OutboxStatus,
    admin: &Admin,
    tz: &jiff::tz::TimeZone,
) -> String {
    if rows.is_empty() {
        return "<p>Không có thư nào.</p>\n".into();
    }
    let failed = status == OutboxStatus::Failed;
    let mut s = String::from(
        "<div class=\"wrap\"><table class=\"outbox\"><thead><tr><th>#</th><th>Loại</th><th>Báo cáo</th><th>Kỳ</th><th>Đơn vị</th><th>Người nhận</th><th>Số lần thử</th>",
    );
    s.push_str(if failed {
        "<th>Lỗi</th><th></th>"
    } else {
        "<th>Lần gửi tới</th><th>Lỗi gần nhất</th>"
    });
    s.push_str("</tr></thead><tbody>\n");
    for r in rows.iter().take(OUTBOX_SHOWN) {
        let _ = write!(
            s,
            "<tr id=\"m-{id}\"><td>{id}</td><td>{kind}</td><td>{ob}</td><td>{period}</td>\
             <td><a href=\"/dashboard/units/{upct}\">{unit}</a></td><td>{to}</td><td>{att}</td>",
            id = r.id,
            kind = kind_vi(r.key.kind),
            ob = esc(&r.key.obligation),
            period = esc(&r.key.period),
            upct = pct(&r.key.unit),
            unit = esc(&r.key.unit),
            to = esc(&r.key.recipient),
            att = r.attempts,
        );
        let error = esc(r.last_error.as_deref().unwrap_or(""));
        if failed {
            let _ = writeln!(
                s,
                "<td>{error}</td><td><form method=\"post\" action=\"/dashboard/outbox/{}/retry\">{}\
                 <button type=\"submit\" class=\"small\">Gửi lại</button></form></td></tr>",
                r.id,
                csrf_field(&admin.csrf)
            );
        } else {
            let next = match r.status {
                OutboxStatus::Sending => format!(
                    "đang gửi (giữ đến {})",
                    r.lease_until.map(|t| local(t, tz)).unwrap_or_default()
                ),
                _ => local(r.next_attempt_at, tz),
            };
            let _ = writeln!(s, "<td>{}</td><td>{error}</td></tr>", esc(&next));
        }
    }
    s.push_str("</tbody></table></div>\n");
    if rows.len() > OUTBOX_SHOWN {
        let _ = writeln!(
            s,
            "<p class=\"muted\">Chỉ hiện {OUTBOX_SHOWN} thư đầu trong {}.</p>",
            rows.len()
        );
    }
    s
}

/// `GET /dashboard/outbox`.
async fn outbox_page(State(state): State<AppState>, admin: Admin) -> Response {
    let flash = admin.take_flash(&state);
    let live = state.live();
    let tz = &live.cfg.daemon.time_zone;
    let mut body = String::new();
    for (status, title) in [
        (OutboxStatus::Failed, "Gửi lỗi (không tự gửi lại)"),
        (OutboxStatus::Sending, "Đang gửi"),
        (OutboxStatus::Pending, "Chờ gửi"),
    ] {
        let rows = match state.shared.store.outbox(Some(status)).await {
            Ok(r) => r,
            Err(e) => return store_failed(e),
        };
        let _ = writeln!(body, "<h2>{title} ({})</h2>", rows.len());
        body.push_str(&outbox_table(&rows, status, &admin, tz));
    }
    render(
        StatusCode::OK,
        "Thư chờ gửi",
        Some(nav(&admin)),
        flash.as_ref(),
        &body,
    )
}

/// `POST /dashboard/outbox/{id}/retry`: a failed message goes back to
/// pending, due now; the daemon's next tick sends it (after its usual
/// re-check that it is still wanted).
async fn retry(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return bad_form();
    };
    if !admin.csrf_ok(&f.csrf) {
        return bad_csrf();
    }
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
