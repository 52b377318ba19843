//! Bearer-token authentication, the client's address, and the limit on
//! failed attempts per client.
//!
//! A request's secret is hashed and looked up by hash; the stored hash is
//! then compared in constant time. The credential is checked first: a
//! valid one is always accepted, whatever others did. Only failures count,
//! per client address ([`client_addr`]: the peer, or behind a trusted
//! reverse proxy the address it forwards), and only failing requests get
//! 429 once their client is over the limit. "Unknown" and "revoked" are
//! one answer. Must not: log or echo a secret.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::store::{Token, TokenRole};

use super::AppState;
use super::error::ApiError;
use super::token;
use crate::store::Tokens;

/// Failed authentications allowed per client and window.
pub const MAX_FAILURES: u32 = 10;
/// The window of [`MAX_FAILURES`].
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Clients the limiter remembers; beyond that, new clients share one
/// count (memory stays bounded when failures come from many addresses).
const MAX_CLIENTS: usize = 10_000;

/// The limiter's key for a client: an IPv4 address, or the /64 of an IPv6
/// one (a host is given a whole /64 and can use any address in it).
fn limit_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// The shared count of clients beyond [`MAX_CLIENTS`] (no real client has it).
const OVERFLOW: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

/// Failures per client in fixed windows.
#[derive(Debug, Default)]
pub struct FailureLimiter {
    clients: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailureLimiter {
    /// Counts one failure of `ip` at `now`. Returns the seconds until the
    /// window ends when this failure is beyond [`MAX_FAILURES`] (answer
    /// 429), `None` while within it (answer 401).
    pub fn fail(&self, ip: IpAddr, now: Instant) -> Option<u64> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let mut key = limit_key(ip);
        if !clients.contains_key(&key) && clients.len() >= MAX_CLIENTS {
            clients.retain(|_, (start, _)| now < *start + FAILURE_WINDOW);
            if clients.len() >= MAX_CLIENTS {
                key = OVERFLOW;
            }
        }
        let entry = clients.entry(key).or_insert((now, 0));
        if now >= entry.0 + FAILURE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        let end = entry.0 + FAILURE_WINDOW;
        (entry.1 > MAX_FAILURES).then(|| end.duration_since(now).as_secs().max(1))
    }
}

/// The client of a request: the peer, or, when the peer is a trusted
/// reverse proxy (`daemon.trusted_proxies`), the rightmost address of
/// `X-Forwarded-For` that is not itself a trusted proxy (each proxy
/// appends the address it received the request from, so everything left
/// of that is what the client wrote). A hop that is not an address stops
/// the walk at the last address found.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    let peer = peer.to_canonical();
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// One entry of `X-Forwarded-For`: `1.2.3.4`, `2001:db8::1`, or with a
/// port (`1.2.3.4:5678`, `[2001:db8::1]:5678`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The client's address (see [`client_addr`]), for the failure limiter
/// and the logs.
#[derive(Debug, Clone, Copy)]
pub struct Client(pub IpAddr);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Client, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let live = state.live();
        Ok(Client(client_addr(
            peer,
            &parts.headers,
            &live.cfg.daemon.http.trusted_proxies,
        )))
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
                "mã truy cập này chỉ dùng cho đơn vị {own:?}, không dùng được cho {unit:?}"
            ))),
            TokenRole::Feed(_) | TokenRole::Metrics => Err(read_only(&self.token.role)),
        }
    }

    /// 403 unless the caller is an administrator.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "việc này cần mã truy cập quản trị (hanbao token create --admin)",
            ))
        }
    }
}

/// What a request presented as its credential.
pub(crate) enum Presented<'a> {
    Missing,
    Malformed,
    Secret(&'a str),
}

/// The secret in `Authorization: Bearer <secret>`.
pub(crate) fn bearer(headers: &HeaderMap) -> Presented<'_> {
    match headers.get(header::AUTHORIZATION) {
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
    }
}

/// The secret presented, or the failure of `ip` for presenting none.
fn secret_of<'a>(
    state: &AppState,
    ip: IpAddr,
    presented: Presented<'a>,
) -> Result<&'a str, ApiError> {
    match presented {
        Presented::Missing => Err(refuse(
            state,
            ip,
            "missing bearer token (Authorization: Bearer ...)",
        )),
        Presented::Malformed => Err(refuse(
            state,
            ip,
            "malformed Authorization header; expected Bearer",
        )),
        Presented::Secret(s) => Ok(s),
    }
}

/// The token `found` for `hash`, if it is that token and not revoked.
fn valid(found: Option<Token>, hash: &str) -> Option<Token> {
    found.filter(|t| token::constant_time_eq(t.hash.as_bytes(), hash.as_bytes()) && !t.is_revoked())
}

/// Checks a presented secret from client `ip`: a valid, unrevoked token is
/// accepted; anything else is a failure of `ip` (401, or 429 once `ip` is
/// over the limit). Unknown and revoked tokens get the same answer.
pub(crate) async fn authenticate(
    state: &AppState,
    ip: IpAddr,
    presented: Presented<'_>,
) -> Result<Caller, ApiError> {
    let hash = token::hash(secret_of(state, ip, presented)?);
    match valid(state.shared.store.token_by_hash(&hash).await?, &hash) {
        Some(t) => Ok(Caller { token: t }),
        None => Err(refuse(state, ip, UNKNOWN_OR_REVOKED)),
    }
}

/// How long the readers of `/healthz` and `/metrics` wait for the
/// database to check their token before the last known answer is used.
const READER_DB_TIMEOUT: Duration = Duration::from_secs(2);

/// Administrator and metrics tokens recently accepted by `/healthz` or
/// `/metrics`, by hash: while the database does not answer (when the
/// details of `/healthz` matter most) a token accepted before is accepted
/// again. A token found revoked or unknown is forgotten. Tokens cannot be
/// revoked while the database is unreachable, so this widens nothing for
/// one instance.
#[derive(Debug, Default)]
pub struct Readers {
    known: Mutex<HashMap<String, Token>>,
}

impl Readers {
    fn remember(&self, hash: &str, t: &Token) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= 64 && !known.contains_key(hash) {
            known.clear();
        }
        known.insert(hash.to_string(), t.clone());
    }

    fn forget(&self, hash: &str) {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(hash);
    }

    fn recall(&self, hash: &str) -> Option<Token> {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(hash)
            .cloned()
    }
}

/// Checks the token of a reader of `/metrics` or of `/healthz`'s details:
/// an administrator or metrics token. Failures count like any other; a
/// token of another role is 403; when the database does not answer within
/// [`READER_DB_TIMEOUT`], a token accepted before is accepted (503 for
/// any other).
pub(crate) async fn authorize_reader(
    state: &AppState,
    ip: IpAddr,
    presented: Presented<'_>,
) -> Result<Caller, ApiError> {
    let hash = token::hash(secret_of(state, ip, presented)?);
    let readers = &state.shared.readers;
    let found = match tokio::time::timeout(
        READER_DB_TIMEOUT,
        state.shared.store.token_by_hash(&hash),
    )
    .await
    {
        Ok(Ok(found)) => found,
        Ok(Err(_)) | Err(_) => {
            return match readers.recall(&hash) {
                Some(t) => Ok(Caller { token: t }),
                None => Err(ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the token cannot be checked now: the database does not answer",
                )),
            };
        }
    };
    match valid(found, &hash) {
        Some(t) if matches!(t.role, TokenRole::Admin | TokenRole::Metrics) => {
            readers.remember(&hash, &t);
            Ok(Caller { token: t })
        }
        Some(_) => Err(ApiError::forbidden(
            "this needs an administrator or metrics token (hanbao token create --metrics)",
        )),
        None => {
            readers.forget(&hash);
            Err(refuse(state, ip, UNKNOWN_OR_REVOKED))
        }
    }
}

/// The one answer for a token that does not exist or was revoked.
pub(crate) const UNKNOWN_OR_REVOKED: &str = "unknown or revoked token";

/// Counts a failed authentication of `ip`: 401 with `message`, or 429
/// when `ip` is over the limit.
fn refuse(state: &AppState, ip: IpAddr, message: &str) -> ApiError {
    let metrics = &state.shared.metrics;
    metrics.auth_failures.fetch_add(1, Ordering::Relaxed);
    match state.shared.limiter.fail(ip, Instant::now()) {
        None => {
            tracing::warn!(client = %ip, reason = message, "authentication failed");
            ApiError::unauthorized(message)
        }
        Some(secs) => {
            metrics.auth_rate_limited.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(client = %ip, reason = message, "authentication failed; client over the limit");
            let mut e = ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "too_many_failures",
                format!("too many failed authentications; try again in {secs} s"),
            );
            e.retry_after = Some(secs);
            e
        }
    }
}

/// 403 for a read-only token where it cannot be used.
pub(crate) fn read_only(role: &TokenRole) -> ApiError {
    ApiError::forbidden(match role {
        TokenRole::Feed(_) => "this token reads calendar feeds (/ics/...) and nothing else",
        _ => "this token reads /metrics and /healthz and nothing else",
    })
}

/// The API's caller: an administrator or unit token; read-only tokens
/// (feeds, metrics) are refused with 403.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let Ok(Client(ip)) = Client::from_request_parts(parts, state).await;
        let presented = bearer(&parts.headers);
        let caller = authenticate(state, ip, presented).await?;
        match caller.token.role {
            TokenRole::Admin | TokenRole::Unit(_) => Ok(caller),
            ref role => Err(read_only(role)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_beyond_the_limit_are_429_until_the_window_ends() {
        let l = FailureLimiter::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            assert_eq!(l.fail(ip, t0), None, "failure {i}");
        }
        assert_eq!(l.fail(ip, t0), Some(60));
        assert_eq!(l.fail(ip, t0 + Duration::from_secs(59)), Some(1));
        assert_eq!(l.fail(other, t0), None, "another client has its own count");
        assert_eq!(l.fail(ip, t0 + FAILURE_WINDOW), None, "new window");
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        let l = FailureLimiter::default();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            let ip: IpAddr = format!("2001:db8:1:2::{i:x}").parse().unwrap();
            assert_eq!(l.fail(ip, t0), None);
        }
        let same_64: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        assert!(l.fail(same_64, t0).is_some());
        let next_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(l.fail(next_64, t0), None);
    }

    #[test]
    fn memory_stays_bounded_with_many_clients() {
        let l = FailureLimiter::default();
        let t0 = Instant::now();
        for i in 0..(MAX_CLIENTS as u32 + 500) {
            l.fail(IpAddr::from(u32::to_be_bytes(0x0a00_0000 + i)), t0);
        }
        assert!(l.clients.lock().unwrap().len() <= MAX_CLIENTS + 1);
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_forwarded_address() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let trusted: Vec<ipnet::IpNet> = vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.1.0.0/16".parse().unwrap(),
        ];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Not behind a trusted proxy: the peer, whatever the header says.
        assert_eq!(
            client_addr(ip("203.0.113.9"), &xff(&["198.51.100.1"]), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(client_addr(proxy, &xff(&[]), &[]), proxy);
        assert_eq!(client_addr(proxy, &xff(&["198.51.100.1"]), &[]), proxy);
        // Behind it: the address the proxy appended, not what the client wrote.
        assert_eq!(
            client_addr(proxy, &xff(&["1.1.1.1, 198.51.100.1"]), &trusted),
            ip("198.51.100.1")
        );
        // Through two trusted proxies (one header per hop, or one list).
        assert_eq!(
            client_addr(
                proxy,
                &xff(&["6.6.6.6", "198.51.100.1", "10.1.2.3"]),
                &trusted
            ),
            ip("198.51.100.1")
        );
        // Garbage written by the client stops the walk at the last address.
        assert_eq!(
            client_addr(proxy, &xff(&["garbage, 198.51.100.1"]), &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(client_addr(proxy, &xff(&["garbage"]), &trusted), proxy);
        // Ports, brackets and IPv4-mapped IPv6.
        assert_eq!(
            client_addr(proxy, &xff(&["198.51.100.1:4711"]), &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_addr(proxy, &xff(&["[2001:db8::7]:4711"]), &trusted),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_addr(
                ip("::ffff:127.0.0.1"),
                &xff(&["::ffff:198.51.100.1"]),
                &trusted
            ),
            ip("198.51.100.1")
        );
        // Every hop trusted: the leftmost.
        assert_eq!(
            client_addr(proxy, &xff(&["10.1.9.9"]), &trusted),
            ip("10.1.9.9")
        );
    }
}
