//! Calendar feeds: `/ics/{unit}.ics?token=...` (one unit's deadlines) and
//! `/ics/all.ics?token=...` (every deadline, administrators only).
//!
//! RFC 5545: METHOD:PUBLISH, one all-day VEVENT per (obligation, period,
//! unit) with an exclusive DTEND, the same UID as the .ics attached to the
//! reminders (`mail::ids::calendar_uid`, domain of `mail.from`), and one
//! VALARM per configured reminder, firing on the reminder day at the start
//! of the sending hours (`mail::ics::alarm_minutes`, as in the attachment).
//! A report-period the unit has submitted says so in its SUMMARY and has
//! no alarm. The token is in the query because
//! calendar clients cannot send headers; it is checked like a bearer token
//! (same failure limit). Must not: log the query string.

use std::net::SocketAddr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use std::collections::HashMap;

use crate::config::model::Config;
use crate::config::values::format_date;
use crate::mail::ics::{alarm_lines, alarm_minutes, escape_text, fold_line};
use crate::mail::ids::calendar_uid;
use crate::planner::{self, Filter};
use crate::store::{Key, Store};

use super::AppState;
use super::auth::{Presented, authenticate};
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

fn date_value(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

fn day_param(name: &str, v: Option<String>, default: Date) -> Result<Date, ApiError> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(t) => t.parse().map_err(|_| {
            ApiError::bad_request(format!("{name}: {t:?} is not a date (YYYY-MM-DD)"))
        }),
    }
}

/// `GET /ics/{file}`: `{unit}.ics` or `all.ics`.
pub async fn feed<S: Store + 'static>(
    State(state): State<AppState<S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(file): Path<String>,
    query: Result<Query<FeedQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let presented = match q.token.as_deref().map(str::trim) {
        None => Presented::Missing,
        Some("") => Presented::Malformed,
        Some(t) => Presented::Secret(t),
    };
    let caller = authenticate(&state, peer.ip(), presented).await?;
    let Some(name) = file.strip_suffix(".ics") else {
        return Err(ApiError::not_found(
            "feeds are /ics/{unit}.ics and /ics/all.ics",
        ));
    };
    let live = state.live();
    let cfg = &live.cfg;
    let unit = if name == "all" {
        caller.require_admin()?;
        None
    } else {
        crate::tracking::unit(cfg, name)?;
        caller.may_act_for(name)?;
        Some(name.to_string())
    };
    let now = Timestamp::now();
    let today = live.today(now);
    let span = jiff::Span::new().days(FEED_DAYS);
    let from = day_param("from", q.from, today.checked_sub(span).unwrap_or(today))?;
    let to = day_param("to", q.to, today.checked_add(span).unwrap_or(today))?;
    if to < from {
        return Err(ApiError::bad_request("to is before from"));
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
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        format!("PRODID:-//hanbao//hanbao {}//VI", env!("CARGO_PKG_VERSION")),
        "CALSCALE:GREGORIAN".to_string(),
        "METHOD:PUBLISH".to_string(),
        format!("X-WR-CALNAME:{}", escape_text(&name)),
        format!("X-WR-TIMEZONE:{}", cfg.daemon.time_zone_name),
    ];
    for d in planner::deadlines(cfg, cal, from, to, &filter) {
        let period = d.period.to_string();
        let end = d.due.tomorrow().unwrap_or(d.due);
        let mut description = format!(
            "Đơn vị: {}\nKỳ báo cáo: {}\nHạn: {}",
            d.unit.name,
            period,
            format_date(d.due)
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
        lines.extend([
            "BEGIN:VEVENT".to_string(),
            format!(
                "UID:{}",
                calendar_uid(&d.obligation.id, &period, &d.unit.id, &domain)
            ),
            format!("DTSTAMP:{stamp}"),
            format!("DTSTART;VALUE=DATE:{}", date_value(d.due)),
            format!("DTEND;VALUE=DATE:{}", date_value(end)),
            format!("SUMMARY:{}", escape_text(&summary)),
            format!("DESCRIPTION:{}", escape_text(&description)),
            "TRANSP:TRANSPARENT".to_string(),
        ]);
        if done.is_none() {
            let days = planner::events::reminder_days(d.obligation, cal, d.due);
            let alarm = format!("Sắp đến hạn: {}", d.obligation.title);
            for m in alarm_minutes(d.due, &days, cfg.daemon.sending_hours.start) {
                lines.extend(alarm_lines(m, &alarm));
            }
        }
        lines.push("END:VEVENT".to_string());
    }
    lines.push("END:VCALENDAR".to_string());
    let mut out = String::new();
    for l in &lines {
        fold_line(l, &mut out);
    }
    out
}
