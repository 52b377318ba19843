//! Calendar feeds: `/ics/{unit}.ics?token=...` (one unit's deadlines) and
//! `/ics/all.ics?token=...` (every deadline).
//!
//! RFC 5545: METHOD:PUBLISH, one VEVENT per (obligation, period, unit):
//! all day with an exclusive DTEND, or at the deadline's instant when it
//! has a time of day; the same UID as the .ics attached to the
//! reminders (`mail::ids::calendar_uid`, domain of `mail.from`), and one
//! VALARM per configured reminder, firing on the reminder day at the start
//! of the sending hours, or a reminder in hours at its own time
//! (`mail::ics::alarm_minutes`, as in the attachment).
//! A report-period the unit has submitted says so in its SUMMARY and has
//! no alarm. The token is in the query because calendar clients cannot
//! send headers, so it must be a read-only feed token (`TokenRole::Feed`:
//! one unit's feed, or every feed); an administrator or unit token is
//! refused (403) and logged by id, since a URL ends up in proxy logs and
//! calendar services. Checked like a bearer token otherwise (same failure
//! limit). Must not: log the query string.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use std::collections::HashMap;

use crate::config::model::Config;
use crate::config::values::format_date;
use crate::mail::ics::{
    alarm_lines, alarm_minutes, calendar_head, escape_text, event_lines, fold_all, from_start,
};
use crate::mail::ids::calendar_uid;
use crate::planner::{self, Filter};
use crate::store::{Key, Records, TokenRole};

use super::AppState;
use super::auth::{Client, Presented, authenticate, read_only};
use super::error::ApiError;

/// Default reach of a feed around today, in days.
pub const FEED_DAYS: i64 = 366;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    token: Option<String>,
    /// First due day (YYYY-MM-DD); default today - 366 days.
    from: Option<String>,
    /// Last due day; default today + 366 days.
    to: Option<String>,
}

/// The domain of `mail.from`, as the mail module uses it for UIDs.
fn from_domain(cfg: &Config) -> String {
    let addr = cfg.mail.from.trim().trim_end_matches('>');
    addr.rsplit('@')
        .next()
        .unwrap_or("localhost")
        .trim()
        .to_ascii_lowercase()
}

fn day_param(name: &str, v: Option<String>, default: Date) -> Result<Date, ApiError> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(t) => t.parse().map_err(|_| {
            ApiError::bad_request(format!("{name}: {t:?} không phải ngày dạng YYYY-MM-DD"))
        }),
    }
}

/// `GET /ics/{file}`: `{unit}.ics` or `all.ics`.
pub async fn feed(
    State(state): State<AppState>,
    Client(ip): Client,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<FeedQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    // A file name that is not UTF-8 once decoded: the API's 400, not axum's text.
    let Path(file) = path.map_err(|_| {
        ApiError::bad_request("tên tệp lịch không hợp lệ: cần MÃ_ĐƠN_VỊ.ics hoặc all.ics")
    })?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(super::api::query_problem(&e)))?;
    let presented = match q.token.as_deref().map(str::trim) {
        None => Presented::Missing,
        Some("") => Presented::Malformed,
        Some(t) => Presented::Secret(t),
    };
    let caller = authenticate(&state, ip, presented).await?;
    let scope = match &caller.token.role {
        TokenRole::Feed(scope) => scope.clone(),
        TokenRole::Admin | TokenRole::Unit(_) => {
            // The secret is in a URL now (proxy logs, calendar services):
            // refuse it, and tell the administrator which token it was.
            tracing::warn!(
                token = caller.token.id,
                "a write-capable token was used in a calendar feed URL and refused; \
                 make a feed token (hanbao token create --feed) and consider revoking this one"
            );
            return Err(ApiError::forbidden(
                "lịch chỉ nhận mã truy cập chỉ đọc lịch (hanbao token create --feed ...); \
                 mã quản trị và mã đơn vị bị từ chối ở đây, vì địa chỉ lịch nằm lại trong \
                 nhật ký của máy chủ trung gian và dịch vụ lịch",
            ));
        }
        role => return Err(read_only(role)),
    };
    let Some(name) = file.strip_suffix(".ics") else {
        return Err(ApiError::not_found(
            "lịch chỉ có ở /ics/{mã đơn vị}.ics và /ics/all.ics",
        ));
    };
    let live = state.live();
    let cfg = &live.cfg;
    let unit = if name == "all" {
        if let Some(own) = &scope {
            return Err(ApiError::forbidden(format!(
                "mã truy cập này chỉ đọc lịch của đơn vị {own:?}"
            )));
        }
        None
    } else {
        crate::tracking::unit(cfg, name)?;
        if let Some(own) = scope.as_ref().filter(|own| *own != name) {
            return Err(ApiError::forbidden(format!(
                "mã truy cập này chỉ đọc lịch của đơn vị {own:?}, không phải của {name:?}"
            )));
        }
        Some(name.to_string())
    };
    let now = Timestamp::now();
    let today = live.today(now);
    let span = jiff::Span::new().days(FEED_DAYS);
    let from = day_param("from", q.from, today.checked_sub(span).unwrap_or(today))?;
    let to = day_param("to", q.to, today.checked_add(span).unwrap_or(today))?;
    if to < from {
        return Err(ApiError::bad_request("\"to\" ở trước \"from\""));
    }
    // A bounded answer whatever the query: at most the default span on
    // both sides of a day (two years and two days), not 200 years of
    // deadlines from one request.
    let days = from
        .until((jiff::Unit::Day, to))
        .map_or(i64::MAX, |s| i64::from(s.get_days()));
    if days > 2 * FEED_DAYS + 1 {
        return Err(ApiError::bad_request(format!(
            "khoảng từ \"from\" đến \"to\" dài quá {} ngày; chia thành nhiều lần tải",
            2 * FEED_DAYS + 1
        )));
    }
    // What each unit has submitted, for the feed's report-periods.
    let filter = Filter {
        obligation: None,
        unit: unit.clone(),
    };
    let mut pairs: Vec<(String, String)> = planner::deadlines(cfg, &live.cal, from, to, &filter)
        .iter()
        .map(|d| (d.obligation.id.clone(), d.period.to_string()))
        .collect();
    pairs.dedup();
    let submitted: HashMap<Key, Date> = state
        .shared
        .store
        .facts(&pairs)
        .await?
        .into_iter()
        .filter_map(|f| Some((f.key, f.submitted_on?)))
        .collect();
    let body = render(cfg, &live.cal, unit.as_deref(), from, to, now, &submitted);
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    Ok(resp)
}

/// The feed text: every deadline with its due day in `[from, to]`;
/// `submitted` holds the day each (obligation, period, unit) arrived.
pub fn render(
    cfg: &Config,
    cal: &crate::calendar::WorkCalendar,
    unit: Option<&str>,
    from: Date,
    to: Date,
    now: Timestamp,
    submitted: &HashMap<Key, Date>,
) -> String {
    let domain = from_domain(cfg);
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let filter = Filter {
        obligation: None,
        unit: unit.map(str::to_string),
    };
    let name = match unit.and_then(|u| cfg.unit(u)) {
        Some(u) => format!("Hạn báo cáo — {}", u.name),
        None => "Hạn báo cáo — tất cả".to_string(),
    };
    let mut lines = calendar_head();
    lines.extend([
        format!("X-WR-CALNAME:{}", escape_text(&name)),
        format!("X-WR-TIMEZONE:{}", cfg.daemon.time_zone_name),
    ]);
    for d in planner::deadlines(cfg, cal, from, to, &filter) {
        let period = d.period.to_string();
        let due_words = match d.obligation.due_time {
            Some(t) => format!(
                "trước {} ngày {}",
                t.strftime("%H giờ %M"),
                format_date(d.due)
            ),
            None => format_date(d.due),
        };
        let mut description = format!(
            "Đơn vị: {}\nKỳ báo cáo: {}\nHạn: {}",
            d.unit.name, period, due_words
        );
        if let Some(basis) = &d.obligation.legal_basis {
            description.push_str(&format!("\nCăn cứ: {basis}"));
        }
        let done = submitted.get(&Key::new(&d.obligation.id, &period, &d.unit.id));
        if let Some(on) = done {
            description.push_str(&format!("\nĐã gửi: ngày {}", format_date(*on)));
        }
        let title = format!("Hạn: {} ({}) — {}", d.obligation.title, period, d.unit.name);
        let summary = match done {
            Some(on) => format!("Đã gửi ({}): {title}", format_date(*on)),
            None => title,
        };
        let uid = calendar_uid(&d.obligation.id, &period, &d.unit.id, &domain);
        let at = d.obligation.due_time.map(|_| d.deadline);
        lines.extend(event_lines(&uid, &stamp, d.due, at, &summary, &description));
        if done.is_none() {
            let times = planner::events::reminder_times_from(
                d.obligation,
                cal,
                cfg.daemon.sending_hours,
                d.due,
                d.window.start,
            );
            let alarm = format!("Sắp đến hạn: {}", d.obligation.title);
            let minutes = alarm_minutes(d.due, &times);
            for m in from_start(&minutes, d.obligation.due_time) {
                lines.extend(alarm_lines(m, &alarm));
            }
        }
        lines.push("END:VEVENT".to_string());
    }
    lines.push("END:VCALENDAR".to_string());
    fold_all(&lines)
}
