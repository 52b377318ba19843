//! `/api/v1`: read status, record and revoke submissions, grant and revoke
//! extensions and waivers.
//!
//! Every write is checked against the configuration (the key must be owed),
//! authorised (unit tokens only for their own unit; extensions and waivers
//! need an administrator), recorded with the token as actor and source
//! "api", and logged. Must not: send mail or touch the outbox; the daemon's
//! next tick notices the change.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::input;
use crate::store::{
    Event, Key, NewExtension, NewSubmission, NewWaiver, Recorded, Revocation, Source, Subject,
};
use crate::tracking::summary::{Summary, Tally};

use super::AppState;
use super::auth::Caller;
use super::cursor::{self, Cursor};
use super::error::ApiError;
use super::selection::{self, Listing, Selection};
use crate::store::Records;

/// A JSON body: wrong content type is 415, bad JSON 400, JSON of the wrong
/// shape 422, over the body limit 413, all in the API's error shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| {
                if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        format!("nội dung yêu cầu dài quá {} byte", super::BODY_LIMIT),
                    )
                } else {
                    ApiError::bad_request("không đọc được nội dung yêu cầu")
                }
            })?;
        if !json_type {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "hãy gửi nội dung dạng JSON, với Content-Type: application/json",
            ));
        }
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| {
            use serde_json::error::Category;
            match e.classify() {
                Category::Data => ApiError::unprocessable(json_problem(&e)),
                _ => ApiError::bad_request(format!(
                    "JSON không đúng cú pháp (dòng {}, cột {})",
                    e.line(),
                    e.column()
                )),
            }
        })
    }
}

/// A JSON body that parses but does not fit the route's fields, in
/// Vietnamese: serde's common messages (a missing or unknown field, a
/// wrong type) translated, the rest quoted, with the position.
fn json_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let detail = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(d, _)| d);
    let what = if let Some(field) = detail.strip_prefix("missing field ") {
        format!("thiếu trường {field}")
    } else if let Some(rest) = detail.strip_prefix("unknown field ") {
        match rest.split_once(", expected ") {
            Some((field, known)) => format!(
                "trường {field} không được hỗ trợ; các trường: {}",
                known.trim_start_matches("one of ")
            ),
            None => format!("trường {rest} không được hỗ trợ"),
        }
    } else if let Some(rest) = detail.strip_prefix("invalid type: ") {
        let (got, want) = rest.split_once(", expected ").unwrap_or((rest, "?"));
        format!("sai kiểu dữ liệu: nhận {got}, cần {want}")
    } else {
        format!("nội dung không đúng yêu cầu ({detail})")
    };
    format!("{what} (dòng {}, cột {})", e.line(), e.column())
}

/// A query string that does not fit the route's parameters (axum's
/// wording quoted after the Vietnamese).
pub(crate) fn query_problem(e: &QueryRejection) -> String {
    let text = e.body_text();
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(&text);
    match detail.strip_prefix("unknown field ") {
        Some(rest) => format!(
            "tham số {} không được hỗ trợ",
            rest.split(',').next().unwrap_or(rest)
        ),
        None => format!("tham số truy vấn không hợp lệ ({detail})"),
    }
}

fn not_a_date(field: &str, text: &str) -> String {
    format!("{field}: {text:?} không phải ngày dạng YYYY-MM-DD")
}

fn parse_day(field: &str, text: &str) -> Result<Date, ApiError> {
    text.parse::<Date>()
        .map_err(|_| ApiError::unprocessable(not_a_date(field, text)))
}

fn required(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        Err(ApiError::unprocessable(format!(
            "{field}: không được để trống"
        )))
    } else {
        Ok(())
    }
}

/// Rows per page of `GET /api/v1/status` when `limit` is not given.
pub const STATUS_LIMIT: usize = 1000;
/// The most rows one page of `GET /api/v1/status` may hold.
pub const STATUS_MAX_LIMIT: usize = 5000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusQuery {
    pub obligation: Option<String>,
    pub period: Option<String>,
    pub unit: Option<String>,
    /// A group id: only its members.
    pub group: Option<String>,
    /// A comma list of states (and `received`, `missing`).
    pub state: Option<String>,
    /// YYYY-MM-DD; today (local) by default.
    pub at: Option<String>,
    /// Rows per page: 1 to [`STATUS_MAX_LIMIT`], [`STATUS_LIMIT`] by default.
    pub limit: Option<String>,
    /// Where the page starts: the `cursor` of the previous page's `Link`.
    pub cursor: Option<String>,
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

fn page_size(limit: Option<&str>) -> Result<usize, ApiError> {
    let Some(text) = limit else {
        return Ok(STATUS_LIMIT);
    };
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=STATUS_MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_limit",
            format!("limit: {text:?} phải là số nguyên từ 1 đến {STATUS_MAX_LIMIT}"),
        )),
    }
}

/// `GET /api/v1/status`: one page of rows in the stable order
/// (obligation, period, unit ids), with a `Link: <…>; rel="next"` header
/// while rows remain (see README, "API").
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<StatusQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(query_problem(&e)))?;
    let live = state.live();
    let mut sel = Selection {
        obligation: nonempty(q.obligation),
        period: nonempty(q.period),
        unit: nonempty(q.unit),
    };
    if let Some(own) = caller.token.role.unit() {
        match &sel.unit {
            Some(u) => caller.may_act_for(u)?,
            None => sel.unit = Some(own.to_string()),
        }
    }
    let group = nonempty(q.group);
    let state_list = nonempty(q.state);
    let at_text = nonempty(q.at);
    let limit_text = nonempty(q.limit);
    let limit = page_size(limit_text.as_deref())?;
    let filters = [
        ("obligation", sel.obligation.as_deref()),
        ("period", sel.period.as_deref()),
        ("unit", sel.unit.as_deref()),
        ("group", group.as_deref()),
        ("state", state_list.as_deref()),
        ("at", at_text.as_deref()),
    ];
    let fingerprint = cursor::fingerprint(&filters);
    let from = match nonempty(q.cursor) {
        Some(text) => Some(Cursor::decode(&text, &fingerprint).map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_cursor", e.to_string())
        })?),
        None => None,
    };
    let at = match (&from, &at_text) {
        (Some(c), _) => c.at,
        (None, Some(t)) => t
            .parse::<Date>()
            .map_err(|_| ApiError::bad_request(not_a_date("at", t)))?,
        (None, None) => live.today(Timestamp::now()),
    };
    if let Some(p) = &sel.period
        && crate::period::PeriodKey::parse(p).is_err()
        && !live.cfg.obligations.iter().any(|o| o.id == *p)
    {
        return Err(ApiError::bad_request(format!(
            "period: {p:?} không phải mã kỳ (2026-03, 2026-Q1, 2026-H1, 2026-9M, 2026, hoặc mã của một nghĩa vụ một lần)"
        )));
    }
    let units = match &group {
        Some(g) => Some(
            group_members(&live.cfg, g)?
                .iter()
                .map(String::as_str)
                .collect(),
        ),
        None => None,
    };
    let states = match &state_list {
        Some(list) => selection::states(list).map_err(|w| {
            ApiError::bad_request(format!(
                "state: {w:?} không phải trạng thái (not_open, open, due_soon, overdue, submitted_on_time, submitted_late, waived, extended, received, missing)"
            ))
        })?,
        None => Vec::new(),
    };
    let listing = Listing {
        sel: sel.clone(),
        units,
        states,
        after: from.map(|c| c.after),
        limit,
    };
    let page = selection::page(&state.shared.store, &live.cfg, &live.cal, at, &listing).await?;
    let next = match (page.more, page.rows.last()) {
        (true, Some(last)) => Some(
            Cursor {
                at,
                after: (
                    last.obligation.clone(),
                    last.period.clone(),
                    last.unit.clone(),
                ),
                filters: fingerprint,
            }
            .encode(),
        ),
        _ => None,
    };
    let mut response = Json(page.rows).into_response();
    if let Some(next) = next {
        let mut query: Vec<String> = filters
            .iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={}", crate::primitives::percent(v))))
            .collect();
        if let Some(l) = &limit_text {
            query.push(format!("limit={}", crate::primitives::percent(l)));
        }
        query.push(format!("cursor={next}"));
        let link = format!("</api/v1/status?{}>; rel=\"next\"", query.join("&"));
        response.headers_mut().insert(
            header::LINK,
            header::HeaderValue::try_from(link).expect("percent-encoded ASCII"),
        );
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// YYYY-MM-DD; today (local) by default.
    pub at: Option<String>,
    /// A group id: count only its members.
    pub group: Option<String>,
}

/// The counts of a [`Tally`] as JSON.
fn tally_json(t: &Tally) -> serde_json::Value {
    json!({
        "rows": t.rows(),
        "owed": t.owed,
        "received": t.received(),
        "on_time": t.on_time,
        "late": t.late,
        "overdue": t.overdue,
        "extended": t.extended,
        "waived": t.waived,
        "not_yet_due": t.not_yet,
        "due": t.due_day(),
    })
}

/// `GET /api/v1/summary` (administrators): the counts of the dashboard's
/// summary (`tracking::summary::Summary` of `hanbao status`'s rows on
/// `at`): per report-period received X of Y (on time, late), overdue,
/// extended, waived and not yet due; per group; in total; and the earlier
/// periods' unsettled rows apart. With `group`, only its members count.
pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<SummaryQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(query_problem(&e)))?;
    caller.require_admin()?;
    let live = state.live();
    let cfg = &live.cfg;
    let at = match nonempty(q.at) {
        Some(t) => t
            .parse::<Date>()
            .map_err(|_| ApiError::bad_request(not_a_date("at", &t)))?,
        None => live.today(Timestamp::now()),
    };
    let group = nonempty(q.group);
    let members: Option<std::collections::HashSet<&str>> = match &group {
        Some(g) => Some(group_members(cfg, g)?.iter().map(String::as_str).collect()),
        None => None,
    };
    let mut blocks = crate::tracking::block::status(
        &state.shared.store,
        cfg,
        &live.cal,
        &Selection::default(),
        at,
    )
    .await?;
    if let Some(m) = &members {
        for b in &mut blocks {
            b.retain(|u, _| m.contains(u.id.as_str()));
        }
    }
    let s = Summary::of_blocks(&blocks, cfg);
    let pairs: Vec<serde_json::Value> = s
        .pairs
        .iter()
        .map(|p| {
            let mut v = tally_json(&p.tally);
            v["obligation"] = json!(p.obligation);
            v["title"] = json!(cfg.obligation(&p.obligation).map(|o| o.title.as_str()));
            v["period"] = json!(&*p.period);
            v["all_units"] = json!(p.all_units);
            v
        })
        .collect();
    let groups: Vec<serde_json::Value> = s
        .groups
        .iter()
        .filter(|(g, _)| group.as_deref().is_none_or(|only| only == g))
        .map(|(g, t)| {
            let mut v = tally_json(t);
            v["group"] = json!(g);
            v["name"] = json!(cfg.group_name(g));
            v
        })
        .collect();
    Ok(Json(json!({
        "at": at,
        "group": group,
        "pairs": pairs,
        "groups": groups,
        "total": tally_json(&s.total),
        "earlier": tally_json(&s.earlier),
    }))
    .into_response())
}

/// The members of group `g`, or 404 naming the nearest group.
fn group_members<'c>(
    cfg: &'c crate::config::model::Config,
    g: &str,
) -> Result<&'c Vec<String>, ApiError> {
    cfg.groups.get(g).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_id",
            format!(
                "không có nhóm \"{g}\" trong cấu hình{}",
                crate::tracking::nearest(g, cfg.groups.keys().map(String::as_str))
                    .first()
                    .map(|n| format!("; có phải ý là \"{n}\"?"))
                    .unwrap_or_default()
            ),
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmissionBody {
    pub obligation: String,
    pub period: String,
    pub unit: String,
    /// YYYY-MM-DD: the day the report arrived.
    pub received_on: String,
    pub reference: Option<String>,
    pub note: Option<String>,
    #[serde(default)]
    pub correction: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    pub obligation: String,
    pub period: String,
    pub unit: String,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionBody {
    pub obligation: String,
    pub period: String,
    pub unit: String,
    /// YYYY-MM-DD: the new due day.
    pub until: String,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiverBody {
    pub obligation: String,
    pub period: String,
    pub unit: String,
    pub reason: String,
}

/// Validates the key against the configuration and the caller: the period
/// key as stored (canonical form), and the period's due day.
/// A key the configuration says is owed, with the first day of its
/// period's window and its due day.
pub(super) struct Owed {
    pub(super) key: Key,
    opens: Date,
    due: Date,
}

pub(super) fn owed_key(
    state: &AppState,
    caller: &Caller,
    obligation: &str,
    period: &str,
    unit: &str,
) -> Result<Owed, ApiError> {
    for (f, v) in [
        ("obligation", obligation),
        ("period", period),
        ("unit", unit),
    ] {
        required(f, v)?;
    }
    let live = state.live();
    // Unknown ids first (404), then permission (403), then owed (422).
    selection::check_ids(
        &live.cfg,
        &Selection {
            obligation: Some(obligation.into()),
            period: None,
            unit: Some(unit.into()),
        },
    )?;
    caller.may_act_for(unit)?;
    let d = selection::deadline(&live.cfg, &live.cal, obligation, period, unit)?;
    Ok(Owed {
        key: Key::new(obligation, d.period.to_string(), unit),
        opens: d.window.start,
        due: d.due,
    })
}

fn event_json(e: &Event) -> serde_json::Value {
    json!({
        "id": e.id,
        "obligation": e.key.obligation,
        "period": e.key.period,
        "unit": e.key.unit,
        "subject": e.subject.as_str(),
        "action": e.action.as_str(),
        "received_on": e.received_on,
        "reference": e.reference,
        "due_on": e.due_on,
        "note": e.note,
        "actor": e.actor,
        "source": e.source.as_str(),
        "recorded_at": e.recorded_at.to_string(),
    })
}

/// 201 for a new event, 200 when it was already in effect.
fn recorded(r: Recorded, caller: &Caller, what: &str) -> Response {
    let e = r.event();
    tracing::info!(
        actor = %caller.actor(),
        source = "api",
        key = %e.key,
        what,
        new = r.is_new(),
        "ghi nhận qua API"
    );
    let (status, outcome) = if r.is_new() {
        (StatusCode::CREATED, "recorded")
    } else {
        (StatusCode::OK, "already_recorded")
    };
    (
        status,
        Json(json!({"result": outcome, "event": event_json(e)})),
    )
        .into_response()
}

/// `POST /api/v1/submissions`.
pub async fn record_submission(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<SubmissionBody>,
) -> Result<Response, ApiError> {
    let owed = owed_key(&state, &caller, &b.obligation, &b.period, &b.unit)?;
    let key = owed.key;
    let received_on = parse_day("received_on", &b.received_on)?;
    let now = Timestamp::now();
    let typed = input::submission(
        input::Submission {
            received_on,
            reference: b.reference.as_deref(),
            note: b.note.as_deref(),
        },
        owed.opens,
        state.live().today(now),
    )?;
    let r = state
        .shared
        .store
        .record_submission(
            NewSubmission {
                key,
                received_on: typed.received_on,
                received_at: None,
                reference: typed.reference,
                note: typed.note,
                actor: caller.actor(),
                source: Source::Api,
                correction: b.correction,
            },
            now,
        )
        .await?;
    Ok(recorded(r, &caller, "submission"))
}

async fn revoke(
    state: AppState,
    caller: Caller,
    b: KeyBody,
    subject: Subject,
) -> Result<Response, ApiError> {
    let key = owed_key(&state, &caller, &b.obligation, &b.period, &b.unit)?.key;
    if subject != Subject::Submission {
        caller.require_admin()?;
    }
    let reason = input::revocation(b.reason.as_deref())?;
    let r = state
        .shared
        .store
        .revoke(
            Revocation {
                key,
                subject,
                reason,
                actor: caller.actor(),
                source: Source::Api,
            },
            Timestamp::now(),
        )
        .await?;
    Ok(recorded(r, &caller, "revocation"))
}

/// `POST /api/v1/submissions/revoke`.
pub async fn revoke_submission(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<KeyBody>,
) -> Result<Response, ApiError> {
    revoke(state, caller, b, Subject::Submission).await
}

/// `POST /api/v1/extensions/revoke`.
pub async fn revoke_extension(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<KeyBody>,
) -> Result<Response, ApiError> {
    revoke(state, caller, b, Subject::Extension).await
}

/// `POST /api/v1/waivers/revoke`.
pub async fn revoke_waiver(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<KeyBody>,
) -> Result<Response, ApiError> {
    revoke(state, caller, b, Subject::Waiver).await
}

/// `POST /api/v1/extensions` (administrators).
pub async fn grant_extension(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<ExtensionBody>,
) -> Result<Response, ApiError> {
    let Owed { key, due, .. } = owed_key(&state, &caller, &b.obligation, &b.period, &b.unit)?;
    caller.require_admin()?;
    let until = parse_day("until", &b.until)?;
    let today = state.live().today(Timestamp::now());
    let typed = input::extension(until, due, today, &b.reason)?;
    let r = state
        .shared
        .store
        .grant_extension(
            NewExtension {
                key,
                until: typed.until,
                reason: typed.reason,
                actor: caller.actor(),
                source: Source::Api,
            },
            Timestamp::now(),
        )
        .await?;
    Ok(recorded(r, &caller, "extension"))
}

/// `POST /api/v1/waivers` (administrators).
pub async fn grant_waiver(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<WaiverBody>,
) -> Result<Response, ApiError> {
    let key = owed_key(&state, &caller, &b.obligation, &b.period, &b.unit)?.key;
    caller.require_admin()?;
    let reason = input::waiver(&b.reason)?;
    let r = state
        .shared
        .store
        .grant_waiver(
            NewWaiver {
                key,
                reason,
                actor: caller.actor(),
                source: Source::Api,
            },
            Timestamp::now(),
        )
        .await?;
    Ok(recorded(r, &caller, "waiver"))
}
