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
    Event, Key, NewExtension, NewSubmission, NewWaiver, Recorded, Revocation, Source, Store,
    Subject,
};

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::selection::{self, Selection};

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
                        format!("the body is over {} bytes", super::BODY_LIMIT),
                    )
                } else {
                    ApiError::bad_request("cannot read the body")
                }
            })?;
        if !json_type {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as Content-Type: application/json",
            ));
        }
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| {
            use serde_json::error::Category;
            match e.classify() {
                Category::Data => ApiError::unprocessable(e.to_string()),
                _ => ApiError::bad_request(format!("malformed JSON: {e}")),
            }
        })
    }
}

fn parse_day(field: &str, text: &str) -> Result<Date, ApiError> {
    text.parse::<Date>().map_err(|_| {
        ApiError::unprocessable(format!("{field}: {text:?} is not a date (YYYY-MM-DD)"))
    })
}

fn required(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        Err(ApiError::unprocessable(format!(
            "{field}: must not be empty"
        )))
    } else {
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusQuery {
    pub obligation: Option<String>,
    pub period: Option<String>,
    pub unit: Option<String>,
    /// YYYY-MM-DD; today (local) by default.
    pub at: Option<String>,
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// `GET /api/v1/status`.
pub async fn status<S: Store + 'static>(
    State(state): State<AppState<S>>,
    caller: Caller,
    query: Result<Query<StatusQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let live = state.live();
    let at = match nonempty(q.at) {
        Some(t) => t
            .parse::<Date>()
            .map_err(|_| ApiError::bad_request(format!("at: {t:?} is not a date (YYYY-MM-DD)")))?,
        None => live.today(Timestamp::now()),
    };
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
    if let Some(p) = &sel.period
        && crate::period::PeriodKey::parse(p).is_err()
        && !live.cfg.obligations.iter().any(|o| o.id == *p)
    {
        return Err(ApiError::bad_request(format!(
            "period: {p:?} is not a period key (2026-03, 2026-Q1, 2026-H1, 2026-9M, 2026, or a one-off obligation's id)"
        )));
    }
    let rows = selection::rows(&state.shared.store, &live.cfg, &live.cal, at, &sel).await?;
    Ok(Json(rows).into_response())
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
fn owed_key<S: Store>(
    state: &AppState<S>,
    caller: &Caller,
    obligation: &str,
    period: &str,
    unit: &str,
) -> Result<(Key, Date), ApiError> {
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
    Ok((Key::new(obligation, d.period.to_string(), unit), d.due))
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
        "API write"
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
pub async fn record_submission<S: Store + 'static>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiJson(b): ApiJson<SubmissionBody>,
) -> Result<Response, ApiError> {
    let (key, _) = owed_key(&state, &caller, &b.obligation, &b.period, &b.unit)?;
    let received_on = parse_day("received_on", &b.received_on)?;
    let now = Timestamp::now();
    let typed = input::submission(
        input::Submission {
            received_on,
            reference: b.reference.as_deref(),
            note: b.note.as_deref(),
        },
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

async fn revoke<S: Store + 'static>(
    state: AppState<S>,
    caller: Caller,
    b: KeyBody,
    subject: Subject,
) -> Result<Response, ApiError> {
    let (key, _) = owed_key(&state, &caller, &b.obligation, &b.period, &b.unit)?;
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
pub async fn revoke_submission<S: Store + 'static>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiJson(b): ApiJson<KeyBody>,
) -> Result<Response, ApiError> {
    revoke(state, caller, b, Subject::Submission).await
}

/// `POST /api/v1/extensions/revoke`.
pub async fn revoke_extension<S: Store + 'static>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiJson(b): ApiJson<KeyBody>,
) -> Result<Response, ApiError> {
    revoke(state, caller, b, Subject::Extension).await
}

/// `POST /api/v1/waivers/revoke`.
pub async fn revoke_waiver<S: Store + 'static>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiJson(b): ApiJson<KeyBody>,
) -> Result<Response, ApiError> {
    revoke(state, caller, b, Subject::Waiver).await
}

/// `POST /api/v1/extensions` (administrators).
pub async fn grant_extension<S: Store + 'static>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiJson(b): ApiJson<ExtensionBody>,
) -> Result<Response, ApiError> {
    let (key, due) = owed_key(&state, &caller, &b.obligation, &b.period, &b.unit)?;
    caller.require_admin()?;
    let until = parse_day("until", &b.until)?;
    let typed = input::extension(until, due, &b.reason)?;
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
pub async fn grant_waiver<S: Store + 'static>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiJson(b): ApiJson<WaiverBody>,
) -> Result<Response, ApiError> {
    let (key, _) = owed_key(&state, &caller, &b.obligation, &b.period, &b.unit)?;
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
