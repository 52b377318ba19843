//! Dashboard sessions: who is logged in, their CSRF token and flash message,
//! and the same-origin check on every form post.
//!
//! A session is created when an administrator pastes an administrator API
//! token on the login page. The cookie (`hanbao_session`, HttpOnly,
//! SameSite=Strict, Path=/, plus Secure behind an HTTPS proxy) holds 32
//! random bytes in hex; the session itself is held server-side, in memory,
//! keyed by the SHA-256 of that id, so a restart logs everyone out. A
//! session lasts [`SESSION_TTL`] and re-checks its token on every request: a
//! token revoked with `hanbao token revoke` ends its sessions at once.
//!
//! Must not: log or render a token secret or a session id; accept a post
//! without a matching CSRF token (checked in constant time).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::store::Token;

use super::super::AppState;
use super::super::token;
use super::page::{Flash, Nav, error_page};
use crate::store::Tokens;

/// The cookie's name.
pub const COOKIE: &str = "hanbao_session";
/// How long a session lasts after login.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// Sessions held at most (the oldest expired ones are dropped first).
const MAX_SESSIONS: usize = 10_000;

struct Entry {
    token_hash: String,
    csrf: String,
    expires: Instant,
    flash: Option<Flash>,
}

/// Every live session, by the SHA-256 of its id.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.map.lock().map(|m| m.len()).unwrap_or(0);
        write!(f, "Sessions({n})")
    }
}

/// 32 bytes from the operating system, in hex.
fn random_hex() -> std::io::Result<String> {
    crate::primitives::random_hex(32)
}

impl Sessions {
    /// A new session for `tok`; returns the id to put in the cookie.
    pub fn create(&self, tok: &Token) -> std::io::Result<String> {
        let id = random_hex()?;
        let csrf = random_hex()?;
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, e| e.expires > now);
        }
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, e)| e.expires)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(
            token::hash(&id),
            Entry {
                token_hash: tok.hash.clone(),
                csrf,
                expires: now + SESSION_TTL,
                flash: None,
            },
        );
        Ok(id)
    }

    /// The token hash and CSRF token of a live session.
    fn get(&self, id: &str) -> Option<(String, String)> {
        let key = token::hash(id);
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&key) {
            Some(e) if e.expires > Instant::now() => Some((e.token_hash.clone(), e.csrf.clone())),
            Some(_) => {
                map.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends a session (logout, revoked token).
    pub fn remove(&self, id: &str) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&token::hash(id));
    }

    fn set_flash(&self, id: &str, flash: Flash) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = map.get_mut(&token::hash(id)) {
            e.flash = Some(flash);
        }
    }

    fn take_flash(&self, id: &str) -> Option<Flash> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get_mut(&token::hash(id)).and_then(|e| e.flash.take())
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Whether the request came through an HTTPS reverse proxy.
fn behind_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// The `Set-Cookie` value for a new session.
pub fn set_cookie(headers: &HeaderMap, id: &str) -> HeaderValue {
    let secure = if behind_https(headers) {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::try_from(format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/{secure}"
    ))
    .expect("hex and ASCII")
}

/// The `Set-Cookie` value that deletes the session cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("hanbao_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// A logged-in administrator, checked against the store on every request.
#[derive(Debug, Clone)]
pub struct Admin {
    id: String,
    pub token: Token,
    pub csrf: String,
    /// The agency the top bar names (`confirm::coordinator_name`), from
    /// the configuration in force when the request came.
    pub agency: Option<String>,
}

impl Admin {
    /// The actor recorded in the audit trail, as the API writes it:
    /// `token:<id>:<name>`.
    pub fn actor(&self) -> String {
        format!("token:{}:{}", self.token.id, self.token.name)
    }

    /// Whether `presented` is this session's CSRF token (constant time).
    pub fn csrf_ok(&self, presented: &str) -> bool {
        token::constant_time_eq(self.csrf.as_bytes(), presented.as_bytes())
    }

    pub fn flash(&self, state: &AppState, ok: bool, text: impl Into<String>) {
        state.shared.sessions.set_flash(
            &self.id,
            Flash {
                ok,
                text: text.into(),
            },
        );
    }

    pub fn take_flash(&self, state: &AppState) -> Option<Flash> {
        state.shared.sessions.take_flash(&self.id)
    }

    pub fn logout(&self, state: &AppState) {
        state.shared.sessions.remove(&self.id);
    }

    /// The top bar of this administrator's pages.
    pub fn nav(&self) -> Nav<'_> {
        Nav {
            who: &self.token.name,
            csrf: &self.csrf,
            agency: self.agency.as_deref(),
        }
    }
}

/// The extractor of every page but the login page. The session is looked
/// up once per request: a later extractor of the same request (the
/// CSRF-checked form) finds it in the request's extensions.
impl FromRequestParts<AppState> for Admin {
    /// Not logged in (or the session ended): to the login page.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, Response> {
        if let Some(admin) = parts.extensions.get::<Admin>() {
            return Ok(admin.clone());
        }
        let admin = Admin::look_up(parts, state).await?;
        parts.extensions.insert(admin.clone());
        Ok(admin)
    }
}

impl Admin {
    async fn look_up(parts: &Parts, state: &AppState) -> Result<Admin, Response> {
        let to_login = || Redirect::to("/dashboard/login").into_response();
        let Some(id) = cookie(&parts.headers, COOKIE).map(str::to_owned) else {
            return Err(to_login());
        };
        let sessions = &state.shared.sessions;
        let Some((token_hash, csrf)) = sessions.get(&id) else {
            return Err(to_login());
        };
        match state.shared.store.token_by_hash(&token_hash).await {
            Ok(Some(t)) if !t.is_revoked() && t.role == crate::store::TokenRole::Admin => {
                let agency = super::super::confirm::coordinator_name(&state.live().cfg);
                Ok(Admin {
                    id,
                    token: t,
                    csrf,
                    agency,
                })
            }
            Ok(_) => {
                sessions.remove(&id);
                Err(to_login())
            }
            Err(e) => {
                tracing::error!(error = %e, "dashboard: cannot check the session's token");
                Err(error_page(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "Máy chủ tạm thời không trả lời",
                    "Không đọc được cơ sở dữ liệu. Hãy thử lại sau ít phút.",
                ))
            }
        }
    }
}

/// Whether a post comes from a page of this server. A browser's
/// `Sec-Fetch-Site` (which pages cannot forge) decides when present;
/// otherwise the `Origin` must name this host (`Host` or, behind a proxy,
/// `X-Forwarded-Host`). Clients that send neither (not a browser) still need
/// the session cookie and the CSRF token.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    [header::HOST.as_str(), "x-forwarded-host"]
        .iter()
        .filter_map(|h| headers.get(*h)?.to_str().ok())
        .any(|h| authority.is_some_and(|a| h.trim().eq_ignore_ascii_case(a)))
}

/// Middleware: refuses cross-origin posts to the dashboard with 403.
pub async fn reject_cross_origin(req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD && !same_origin(req.headers()) {
        tracing::warn!(path = %req.uri().path(), "dashboard: cross-origin post refused");
        return error_page(
            axum::http::StatusCode::FORBIDDEN,
            "Yêu cầu bị từ chối",
            "Biểu mẫu này được gửi từ một trang khác, không phải từ bảng điều khiển của hanbao. Hãy mở bảng điều khiển và thử lại.",
        );
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_checks_origin_then_fetch_metadata() {
        let host = ("host", "127.0.0.1:8080");
        assert!(same_origin(&headers(&[
            host,
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[host, ("origin", "null")])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "http://127.0.0.1:8081")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "baocao.example.gov.vn"),
            ("origin", "https://baocao.example.gov.vn")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "http://127.0.0.1:8080"),
            ("sec-fetch-site", "same-site")
        ])));
        // Fetch metadata decides: Origin is "null" under some referrer policies.
        assert!(same_origin(&headers(&[
            host,
            ("origin", "null"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(same_origin(&headers(&[host])));
    }

    #[test]
    fn cookie_finds_the_session_among_others() {
        let h = headers(&[("cookie", "a=1; hanbao_session=abc ; b=2")]);
        assert_eq!(cookie(&h, COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn cookie_attributes() {
        let v = set_cookie(&HeaderMap::new(), "ab12");
        assert_eq!(
            v.to_str().unwrap(),
            "hanbao_session=ab12; HttpOnly; SameSite=Strict; Path=/"
        );
        let v = set_cookie(&headers(&[("x-forwarded-proto", "https")]), "ab12");
        assert!(v.to_str().unwrap().ends_with("; Secure"));
    }
}
