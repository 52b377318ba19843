//! Calendar feeds: `/ics/{unit}.ics?token=...` (one unit's deadlines) and
//! `/ics/all.ics?token=...` (the coordinator's: one event per report-period).
//!
//! RFC 5545: METHOD:PUBLISH. A unit's feed has one VEVENT per (obligation,
//! period) it owes, with the same UID as the .ics attached to its
//! reminders (`mail::ids::calendar_uid`, domain of `mail.from`); a
//! report-period the unit has submitted says so in its SUMMARY and has no
//! alarm. The coordinator's feed has one VEVENT per (obligation, period),
//! not one per unit, whose SUMMARY and DESCRIPTION say "đã nhận X/Y" with
//! on time, late, overdue and exempted counts, classified by
//! `tracking::rows` (so `status::classify`, as `hanbao status`) at the
//! moment of the request; its alarms stay while a unit has not settled it.
//! Every event is all day with an exclusive DTEND, or at the deadline's
//! instant when it has a time of day; one VALARM per configured reminder,
//! firing on the reminder day at the start of the sending hours, or a
//! reminder in hours at its own time (`mail::ics::alarm_minutes`, as in
//! the attachment). The token is in the query because calendar clients
//! cannot send headers, so it must be a read-only feed token
//! (`TokenRole::Feed`: one unit's feed, or every feed); an administrator or
//! unit token is refused (403) and logged by id, since a URL ends up in
//! proxy logs and calendar services. Checked like a bearer token otherwise
//! (same failure limit). Must not: log the query string.

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
use crate::planner::{self, Deadline, Filter};
use crate::status::{Moment, StateName};
use crate::store::{Facts, Key, Records, TokenRole};
use crate::tracking::{self, Target};

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
                "đã từ chối một mã có quyền ghi dùng trong địa chỉ lịch; \
                 hãy tạo mã chỉ đọc lịch (hanbao token create --feed) và cân nhắc thu hồi mã này"
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
    let facts = state.shared.store.facts(&pairs).await?;
    let body = render(cfg, &live.cal, unit.as_deref(), from, to, now, facts);
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    Ok(resp)
}

/// The feed text: every deadline with its due day in `[from, to]`, for
/// one unit or (without) one event per report-period; `facts` is what the
/// store holds for the report-periods of those deadlines.
pub fn render(
    cfg: &Config,
    cal: &crate::calendar::WorkCalendar,
    unit: Option<&str>,
    from: Date,
    to: Date,
    now: Timestamp,
    facts: Vec<Facts>,
) -> String {
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
    let deadlines = planner::deadlines(cfg, cal, from, to, &filter);
    let events = Events {
        cfg,
        cal,
        domain: from_domain(cfg),
        stamp: now.strftime("%Y%m%dT%H%M%SZ").to_string(),
    };
    if unit.is_some() {
        let submitted: HashMap<Key, Date> = facts
            .into_iter()
            .filter_map(|f| Some((f.key, f.submitted_on?)))
            .collect();
        for d in &deadlines {
            events.unit_event(&mut lines, d, &submitted);
        }
    } else {
        let at = Moment::local(now, &cfg.daemon.time_zone);
        events.report_events(&mut lines, &deadlines, facts, at);
    }
    lines.push("END:VCALENDAR".to_string());
    fold_all(&lines)
}

/// How a report-period stands for the coordinator's feed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Units that owe it.
    pub expected: usize,
    pub on_time: usize,
    pub late: usize,
    pub overdue: usize,
    pub waived: usize,
    /// Given more time, not yet overtaken.
    pub extended: usize,
}

impl Received {
    pub fn received(&self) -> usize {
        self.on_time + self.late
    }

    /// "Đã nhận X/Y báo cáo (a đúng hạn, b trễ hạn), quá hạn c" (and
    /// exempted or extended when there are).
    pub fn words(&self) -> String {
        let mut s = format!(
            "Đã nhận {}/{} báo cáo ({} đúng hạn, {} trễ hạn), quá hạn {}",
            self.received(),
            self.expected,
            self.on_time,
            self.late,
            self.overdue
        );
        if self.waived > 0 {
            s.push_str(&format!(", miễn {}", self.waived));
        }
        if self.extended > 0 {
            s.push_str(&format!(", gia hạn {}", self.extended));
        }
        s
    }
}

/// What the events of one feed share.
struct Events<'a> {
    cfg: &'a Config,
    cal: &'a crate::calendar::WorkCalendar,
    domain: String,
    stamp: String,
}

impl Events<'_> {
    /// "trước 14 giờ 00 ngày 20/03/2026", or the day.
    fn due_words(d: &Deadline<'_>) -> String {
        match d.obligation.due_time {
            Some(t) => format!(
                "trước {} ngày {}",
                t.strftime("%H giờ %M"),
                format_date(d.due)
            ),
            None => format_date(d.due),
        }
    }

    /// The VALARMs of a deadline, as in the reminders' attachment.
    fn alarms(&self, lines: &mut Vec<String>, d: &Deadline<'_>, text: &str) {
        let times = planner::events::reminder_times_from(
            d.obligation,
            self.cal,
            self.cfg.daemon.sending_hours,
            d.due,
            d.window.start,
        );
        let minutes = alarm_minutes(d.due, &times);
        for m in from_start(&minutes, d.obligation.due_time) {
            lines.extend(alarm_lines(m, text));
        }
    }

    /// One unit's event for one deadline.
    fn unit_event(
        &self,
        lines: &mut Vec<String>,
        d: &Deadline<'_>,
        submitted: &HashMap<Key, Date>,
    ) {
        let period = d.period.to_string();
        let mut description = format!(
            "Đơn vị: {}\nKỳ báo cáo: {}\nHạn: {}",
            d.unit.name,
            period,
            Self::due_words(d)
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
        let uid = calendar_uid(&d.obligation.id, &period, &d.unit.id, &self.domain);
        let at = d.obligation.due_time.map(|_| d.deadline);
        lines.extend(event_lines(
            &uid,
            &self.stamp,
            d.due,
            at,
            &summary,
            &description,
        ));
        if done.is_none() {
            self.alarms(lines, d, &format!("Sắp đến hạn: {}", d.obligation.title));
        }
        lines.push("END:VEVENT".to_string());
    }

    /// One event per report-period of `deadlines` (in their order), each
    /// with where it stands at `at`: every unit classified as `hanbao
    /// status` does ([`tracking::rows`]).
    fn report_events(
        &self,
        lines: &mut Vec<String>,
        deadlines: &[Deadline<'_>],
        facts: Vec<Facts>,
        at: Moment,
    ) {
        // The report-periods, first deadline of each, and their units.
        let mut firsts: Vec<&Deadline<'_>> = Vec::new();
        let mut targets: Vec<Target<'_>> = Vec::new();
        let mut slot: HashMap<(&str, String), usize> = HashMap::new();
        for d in deadlines {
            let key = (d.obligation.id.as_str(), d.period.to_string());
            let i = *slot.entry(key).or_insert_with(|| {
                let p = crate::period::Period {
                    key: d.period.clone(),
                    window: d.window,
                };
                targets.push(Target {
                    obligation: d.obligation,
                    period: d.period.to_string().into(),
                    schedule: tracking::schedule(d.obligation, self.cal, &p),
                    units: Vec::new(),
                    all_units: true,
                });
                firsts.push(d);
                targets.len() - 1
            });
            targets[i].units.push(d.unit);
        }
        let mut received = vec![Received::default(); targets.len()];
        let index: HashMap<(&str, &str), usize> = targets
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.obligation.id.as_str(), &*t.period), i))
            .collect();
        for r in tracking::rows(&targets, facts, self.cal, at) {
            let Some(&i) = index.get(&(r.obligation.id.as_str(), &*r.period)) else {
                continue;
            };
            let c = &mut received[i];
            c.expected += 1;
            match r.status.state {
                StateName::SubmittedOnTime => c.on_time += 1,
                StateName::SubmittedLate => c.late += 1,
                StateName::Overdue => c.overdue += 1,
                StateName::Waived => c.waived += 1,
                StateName::Extended => c.extended += 1,
                StateName::NotOpen | StateName::Open | StateName::DueSoon => {}
            }
        }
        for (d, c) in firsts.into_iter().zip(received) {
            let period = d.period.to_string();
            let mut description = format!(
                "Kỳ báo cáo: {}\nHạn: {}\n{}",
                period,
                Self::due_words(d),
                c.words()
            );
            if let Some(basis) = &d.obligation.legal_basis {
                description.push_str(&format!("\nCăn cứ: {basis}"));
            }
            let summary = format!(
                "Hạn: {} ({}) — đã nhận {}/{}",
                d.obligation.title,
                period,
                c.received(),
                c.expected
            );
            // Not the UID of any unit's event: a report-period's own.
            let uid = calendar_uid(&d.obligation.id, &period, "", &self.domain);
            let at = d.obligation.due_time.map(|_| d.deadline);
            lines.extend(event_lines(
                &uid,
                &self.stamp,
                d.due,
                at,
                &summary,
                &description,
            ));
            if c.received() + c.waived < c.expected {
                self.alarms(
                    lines,
                    d,
                    &format!(
                        "Sắp đến hạn: {} (đã nhận {}/{})",
                        d.obligation.title,
                        c.received(),
                        c.expected
                    ),
                );
            }
            lines.push("END:VEVENT".to_string());
        }
    }
}
