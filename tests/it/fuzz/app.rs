//! The real router in process (`http::router`, called through
//! `tower::ServiceExt::oneshot`, no socket) over a real SQLite store in a
//! temporary directory, with one token of every kind, a link key and a
//! ticking scheduler heartbeat (so that `/healthz` is 200); and the
//! history as last seen, to tell what each request wrote.

use std::sync::Mutex;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use hanbao::heartbeat::Heartbeat;
use hanbao::http::{self, AppState};
use hanbao::link::LinkKey;
use hanbao::store::{self, Event, HistoryFilter, NewToken, Store, TokenRole};
use jiff::Timestamp;
use tower::ServiceExt as _;

use super::pools::Days;
use hanbao::store::{Records, Tokens};

/// Two reporters of a quarterly and a monthly obligation; `ubnd-tinh`
/// receives them and reports nothing. Names and titles carry markup, as
/// configurations may.
const CONFIG: &str = r#"
[daemon]
# A request in process has no peer address (the limiter sees 0.0.0.0):
# trusting it as a proxy lets X-Forwarded-For be fuzzed too.
trusted_proxies = ["0.0.0.0/32", "10.0.0.0/8"]

[[group]]
id = "so-nganh"

[[unit]]
id = "ubnd-tinh"
name = "UBND tỉnh"
email = "vanthu@ubnd.quangngai.example"

[[unit]]
id = "so-yte"
name = "Sở Y tế"
email = "vanthu@soyte.quangngai.example"
groups = ["so-nganh"]
supervisor = "ubnd-tinh"

[[unit]]
id = "so-taichinh"
name = "Sở Tài chính <Ban \"A\" & B>"
email = "vanthu@sotc.quangngai.example"
groups = ["so-nganh"]
supervisor = "ubnd-tinh"

[[obligation]]
id = "bc-quy"
title = "Báo cáo quý <b>KT-XH</b>"
reporters = ["so-nganh"]
recipient = "ubnd-tinh"
cycle = "quarterly"
due = "ngày 20"
reminders = ["3 ngày làm việc"]

[[obligation]]
id = "bc-thang"
title = "Báo cáo tháng"
reporters = ["so-nganh"]
recipient = "ubnd-tinh"
cycle = "monthly"
due = "ngày 20"
"#;

pub const OBLIGATIONS: &[&str] = &["bc-quy", "bc-thang"];

/// A token's secret and the actor its writes carry.
pub struct Tok {
    pub secret: String,
    pub actor: String,
}

pub struct App {
    router: axum::Router,
    pub store: Store,
    pub state: AppState,
    heartbeat: Heartbeat,
    pub admin: Tok,
    /// A unit token of so-yte.
    pub yte: Tok,
    pub feed: String,
    pub metrics: String,
    pub revoked: String,
    pub link_key: LinkKey,
    pub days: Days,
    /// The history as last seen by [`App::settle`].
    seen: Mutex<Vec<Event>>,
    _dir: tempfile::TempDir,
}

async fn token(store: &Store, name: &str, role: TokenRole) -> Tok {
    let secret = http::token::generate().unwrap();
    let t = store
        .create_token(
            NewToken {
                name: name.into(),
                role,
                hash: http::token::hash(&secret),
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    Tok {
        secret,
        actor: format!("token:{}:{}", t.id, t.name),
    }
}

/// A response, its body read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }
}

impl App {
    pub async fn start() -> App {
        let dir = tempfile::tempdir().unwrap();
        let store = store::open(&format!("sqlite://{}/h.db", dir.path().display()))
            .await
            .unwrap();
        // Files sent to the upload routes stay in the test's directory.
        let text = CONFIG.replacen(
            "[daemon]\n",
            &format!("[daemon]\nstate_dir = \"{}\"\n", dir.path().display()),
            1,
        );
        let cfg = hanbao::config::load_str("h.toml", &text)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let admin = token(&store, "Điều phối", TokenRole::Admin).await;
        let yte = token(&store, "Văn thư <fz-i>", TokenRole::Unit("so-yte".into())).await;
        let feed = token(&store, "Lịch", TokenRole::Feed(None)).await.secret;
        let metrics = token(&store, "prometheus", TokenRole::Metrics).await.secret;
        let revoked = {
            let secret = http::token::generate().unwrap();
            let t = store
                .create_token(
                    NewToken {
                        name: "cũ".into(),
                        role: TokenRole::Admin,
                        hash: http::token::hash(&secret),
                    },
                    Timestamp::now(),
                )
                .await
                .unwrap();
            store.revoke_token(t.id, Timestamp::now()).await.unwrap();
            secret
        };
        let heartbeat = Heartbeat::new(Instant::now());
        heartbeat.beat(Instant::now());
        let link_key = LinkKey::new(vec![0x5a; 32]).unwrap();
        let live = hanbao::live::Live::new(cfg).with_link_key(Some(link_key.clone()));
        let state = AppState::new(store.clone(), live.into(), Some(heartbeat.clone()));
        let days = Days::new(state.live().today(Timestamp::now()));
        App {
            router: http::router(state.clone()),
            store,
            state,
            heartbeat,
            admin,
            yte,
            feed,
            metrics,
            revoked,
            link_key,
            days,
            seen: Mutex::new(Vec::new()),
            _dir: dir,
        }
    }

    /// Sends `req` to the router; a panic in a handler panics here.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        self.heartbeat.beat(Instant::now());
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("the router's error is Infallible");
        let (parts, body) = resp.into_parts();
        let body = axum::body::to_bytes(body, 64 << 20)
            .await
            .expect("a body under 64 MiB")
            .to_vec();
        Resp {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// The events written since the last call. The history is
    /// append-only: what was seen before must still be there, unchanged.
    pub async fn settle(&self) -> Vec<Event> {
        let now = self
            .store
            .history(&HistoryFilter::default())
            .await
            .expect("history");
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            now.len() >= seen.len() && now[..seen.len()] == seen[..],
            "the history changed instead of growing:\nbefore: {seen:#?}\nafter: {now:#?}"
        );
        let new = now[seen.len()..].to_vec();
        *seen = now;
        new
    }

    /// Logs in with the administrator token: the session cookie
    /// (`hanbao_session=...`) and its CSRF token.
    pub async fn login(&self) -> (String, String) {
        let body = super::pools::form(&[("token".into(), self.admin.secret.clone())]);
        let r = self
            .send(
                Request::post("/dashboard/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let cookie = r.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let page = self
            .send(
                Request::get("/dashboard")
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        let text = page.text();
        let at = text.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
        let csrf = text[at..].split('"').next().unwrap().to_string();
        (cookie, csrf)
    }
}
