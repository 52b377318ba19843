//! The HTML dashboard over real TCP on 127.0.0.1:0 with a real SQLite store:
//! every route with and without a session, login failures and the failure
//! limit, CSRF and cross-origin refusals, validation errors (nothing
//! written), escaping of hostile configuration and user text, the CSV
//! export, the outbox retry button, and (last) the end-to-end story in a
//! real headless chromium driven over WebDriver, with a screenshot in
//! `target/e2e/`.
//!
//! The client is the tests' own HTTP/1.1 client (`support::http`), with
//! the session cookie carried by hand, so nothing here shares code with the
//! server.

mod browser;
mod compliance;
mod escaping;
mod files;
mod forms;
mod matrix;
mod pages;
mod sent;
mod session;

use std::net::SocketAddr;
use std::time::Duration;

use hanbao::http::{self, AppState};
use hanbao::store::{
    self, HistoryFilter, Key, NewOutboxRow, NewSubmission, NewToken, OutboxKey, OutboxKind,
    OutboxStatus, Outcome, Source, Store, Subject, TokenRole,
};
use hanbao::tracking::{self, Selection};
use jiff::Timestamp;
use jiff::civil::date;

use crate::support::browser::Browser;
use crate::support::http::form;
use hanbao::store::{Records, Tokens};

/// Two reporters of a quarterly obligation ("ngày 20": 2026-Q1 is due
/// Friday 20/03/2026, checked against a 2026 wall calendar). The Sở Tài
/// chính's name, the obligation's title and the sender's name (the agency
/// the confirmation page names) are hostile markup: every page must show
/// them as text.
const CONFIG: &str = r#"
[mail]
from = "Sở LĐ-TB&XH <i>Quảng Ngãi</i> <baocao@soldtbxh.quangngai.example>"
reply_to = "Phòng Trẻ em <treem@soldtbxh.quangngai.example>"

[[group]]
id = "so-nganh"

[[group]]
id = "khac"

[[unit]]
id = "ubnd-tinh"
name = "UBND tỉnh"
email = "vanthu@ubnd.quangngai.example"
groups = ["khac"]

[[unit]]
id = "so-yte"
name = "Sở Y tế"
email = "vanthu@soyte.quangngai.example"
groups = ["so-nganh"]
supervisor = "ubnd-tinh"

[[unit]]
id = "so-taichinh"
name = "Sở Tài chính <script>alert('x')</script> & \"B\""
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
"#;

const Q1: &str = "/dashboard/matrix?obligation=bc-quy&period=2026-Q1";
const YTE_Q1: &str = "/dashboard/units/so-yte/bc-quy/2026-Q1";

struct Server {
    addr: SocketAddr,
    store: Store,
    state: AppState,
    admin: String,
    admin_id: i64,
    unit: String,
    revoked: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn token(store: &Store, name: &str, role: TokenRole) -> (i64, String) {
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
    (t.id, secret)
}

async fn start() -> Server {
    start_with(CONFIG).await
}

/// A server on its own configuration.
async fn start_with(config: &str) -> Server {
    let cfg = hanbao::config::load_str("h.toml", config)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    start_on(cfg).await
}

/// A server on a loaded configuration.
async fn start_on(mut cfg: hanbao::config::model::Config) -> Server {
    let dir = tempfile::tempdir().unwrap();
    // Files uploaded through the pages stay in the test's directory, never
    // in the default /var/lib/hanbao (CI runs as root, and its package
    // check refuses a machine where that directory exists).
    if cfg.daemon.state_dir == std::path::Path::new("/var/lib/hanbao") {
        cfg.daemon.state_dir = dir.path().to_path_buf();
    }
    let store = store::open(&format!("sqlite://{}/h.db", dir.path().display()))
        .await
        .unwrap();
    let (admin_id, admin) = token(&store, "Điều phối", TokenRole::Admin).await;
    let (_, unit) = token(&store, "Văn thư Sở Y tế", TokenRole::Unit("so-yte".into())).await;
    let (rid, revoked) = token(&store, "old", TokenRole::Admin).await;
    store.revoke_token(rid, Timestamp::now()).await.unwrap();
    let state = AppState::new(store.clone(), hanbao::live::Live::new(cfg).into(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(http::serve(listener, state.clone(), async move {
        let _ = rx.await;
    }));
    Server {
        addr,
        store,
        state,
        admin,
        admin_id,
        unit,
        revoked,
        stop: Some(tx),
        task,
        _dir: dir,
    }
}

impl Server {
    async fn shutdown(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("server stops on shutdown")
            .unwrap()
            .unwrap();
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Resp {
        send(self.addr, "GET", path, cookie, &[], None).await
    }

    /// A same-origin form post, as a browser sends it.
    async fn post(&self, path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Resp {
        let origin = format!("http://{}", self.addr);
        send(
            self.addr,
            "POST",
            path,
            cookie,
            &[("Origin", &origin)],
            Some(&form(fields)),
        )
        .await
    }

    /// Logs in with `secret`; the session cookie (`hanbao_session=...`).
    async fn login(&self, secret: &str) -> String {
        let r = self
            .post("/dashboard/login", None, &[("token", secret)])
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(r.header("location"), Some("/dashboard"));
        let c = r.header("set-cookie").expect("a session cookie");
        c.split(';').next().unwrap().to_string()
    }

    async fn history(&self, unit: &str) -> Vec<store::Event> {
        self.store
            .history(&HistoryFilter {
                unit: Some(unit.into()),
                ..HistoryFilter::default()
            })
            .await
            .unwrap()
    }
}

type Resp = crate::support::http::Response;

trait Csrf {
    fn csrf(&self) -> String;
}

impl Csrf for Resp {
    /// The value of the first hidden `csrf` field.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no csrf field in {}", self.body));
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    extra: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    let mut req = crate::support::http::Request::new(method, path);
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    for (k, v) in extra {
        req = req.header(k, v);
    }
    if let Some(b) = body {
        req = req.body("application/x-www-form-urlencoded", b);
    }
    req.send(addr).await
}

/// The `data-state` of the matrix cell of (unit, bc-quy, 2026-Q1).
fn cell_state(body: &str, unit: &str) -> String {
    let id = format!("id=\"c-{unit}-bc-quy-2026-Q1\"");
    let at = body
        .find(&id)
        .unwrap_or_else(|| panic!("no cell {id} in {body}"));
    let before = &body[..at];
    let ds = before.rfind("data-state=\"").unwrap() + "data-state=\"".len();
    before[ds..ds + before[ds..].find('"').unwrap()].to_string()
}

fn outbox_row(unit: &str, to: &str) -> NewOutboxRow {
    NewOutboxRow {
        key: OutboxKey {
            obligation: "bc-quy".into(),
            period: "2026-Q1".into(),
            unit: unit.into(),
            kind: OutboxKind::Overdue,
            stage: 1,
            recipient: to.into(),
        },
        rank: 101,
        due_on: date(2026, 3, 20),
        status: OutboxStatus::Pending,
        next_attempt_at: Timestamp::from_second(1_700_000_000).unwrap(),
    }
}
