//! Bearer-token authentication and the limit on failed attempts per client.
//!
//! A request's `Authorization: Bearer <secret>` is hashed and looked up by
//! hash; the stored hash is then compared in constant time. A client (IP
//! address) with too many failures in a window gets 429 until the window
//! ends, before its token is even looked at. Must not: log or echo a secret.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use crate::store::{Token, TokenRole, Tokens};

use super::AppState;
use super::error::ApiError;
use super::token;

/// Failed authentications allowed per client and window.
pub const MAX_FAILURES: u32 = 10;
/// The window of [`MAX_FAILURES`].
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// Failures per client IP in fixed windows.
#[derive(Debug, Default)]
pub struct FailureLimiter {
    clients: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailureLimiter {
    /// Seconds until `ip` may try again, if it is over the limit at `now`.
    pub fn blocked(&self, ip: IpAddr, now: Instant) -> Option<u64> {
        let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let (start, n) = *clients.get(&ip)?;
        let end = start + FAILURE_WINDOW;
        (n >= MAX_FAILURES && now < end).then(|| end.duration_since(now).as_secs().max(1))
    }

    /// Counts one failure of `ip` at `now`.
    pub fn fail(&self, ip: IpAddr, now: Instant) {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() > 10_000 {
            clients.retain(|_, (start, _)| now < *start + FAILURE_WINDOW);
        }
        let entry = clients.entry(ip).or_insert((now, 0));
        if now >= entry.0 + FAILURE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

/// The authenticated caller of an API request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: Token,
}

impl Caller {
    /// The actor recorded in the audit trail: `token:<id>:<name>`.
    pub fn actor(&self) -> String {
        format!("token:{}:{}", self.token.id, self.token.name)
    }

    pub fn is_admin(&self) -> bool {
        self.token.role == TokenRole::Admin
    }

    /// 403 unless the caller may act for `unit`.
    pub fn may_act_for(&self, unit: &str) -> Result<(), ApiError> {
        match &self.token.role {
            TokenRole::Admin => Ok(()),
            TokenRole::Unit(own) if own == unit => Ok(()),
            TokenRole::Unit(own) => Err(ApiError::forbidden(format!(
                "this token acts only for unit {own:?}, not {unit:?}"
            ))),
        }
    }

    /// 403 unless the caller is an administrator.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs an administrator token"))
        }
    }
}

fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// What a request presented as its credential.
pub(crate) enum Presented<'a> {
    Missing,
    Malformed,
    Secret(&'a str),
}

/// Checks a presented secret from client `ip`: the failure limit first, then
/// the token (unknown and revoked tokens count as failures).
pub(crate) async fn authenticate(
    state: &AppState,
    ip: IpAddr,
    presented: Presented<'_>,
) -> Result<Caller, ApiError> {
    let limiter = &state.shared.limiter;
    let metrics = &state.shared.metrics;
    if let Some(secs) = limiter.blocked(ip, Instant::now()) {
        metrics.auth_rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut e = ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "too_many_failures",
            format!("too many failed authentications; try again in {secs} s"),
        );
        e.retry_after = Some(secs);
        return Err(e);
    }
    let fail = |message: &str| {
        limiter.fail(ip, Instant::now());
        metrics.auth_failures.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(client = %ip, reason = message, "API authentication failed");
        ApiError::unauthorized(message)
    };
    let secret = match presented {
        Presented::Missing => {
            return Err(fail("missing bearer token (Authorization: Bearer ...)"));
        }
        Presented::Malformed => {
            return Err(fail("malformed Authorization header; expected Bearer"));
        }
        Presented::Secret(s) => s,
    };
    let hash = token::hash(secret);
    let found = state.shared.store.token_by_hash(&hash).await?;
    match found {
        Some(t) if token::constant_time_eq(t.hash.as_bytes(), hash.as_bytes()) => {
            if t.is_revoked() {
                Err(fail("token revoked"))
            } else {
                Ok(Caller { token: t })
            }
        }
        _ => Err(fail("unknown token")),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let ip = client_ip(parts);
        let presented = match parts.headers.get(header::AUTHORIZATION) {
            None => Presented::Missing,
            Some(value) => match value
                .to_str()
                .ok()
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                Some(secret) => Presented::Secret(secret),
                None => Presented::Malformed,
            },
        };
        authenticate(state, ip, presented).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_until_the_window_ends() {
        let l = FailureLimiter::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            assert_eq!(l.blocked(ip, t0), None, "after {i} failures");
            l.fail(ip, t0);
        }
        assert_eq!(l.blocked(ip, t0), Some(60));
        assert_eq!(l.blocked(ip, t0 + Duration::from_secs(59)), Some(1));
        assert_eq!(l.blocked(other, t0), None);
        assert_eq!(l.blocked(ip, t0 + FAILURE_WINDOW), None);
        l.fail(ip, t0 + FAILURE_WINDOW);
        assert_eq!(l.blocked(ip, t0 + FAILURE_WINDOW), None, "new window");
    }
}
