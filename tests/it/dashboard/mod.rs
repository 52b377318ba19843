//! The HTML dashboard over real TCP on 127.0.0.1:0 with a real SQLite store:
//! every route with and without a session, login failures and the failure
//! limit, CSRF and cross-origin refusals, validation errors (nothing
//! written), escaping of hostile configuration and user text, the CSV
//! export, the outbox retry button, and (last) the end-to-end story in a
//! real headless chromium driven over WebDriver, with a screenshot in
//! `target/e2e/`.
//!
//! The client is a few lines of HTTP/1.1 over `tokio::net::TcpStream`, with
//! the session cookie carried by hand, so nothing here shares code with the
//! server.

mod browser;
mod escaping;
mod forms;
mod pages;
mod session;

use std::net::SocketAddr;
use std::time::Duration;

use hanbao::http::{self, AppState};
use hanbao::store::{
    self, AnyStore, HistoryFilter, Key, NewOutboxRow, NewSubmission, NewToken, OutboxKey,
    OutboxKind, OutboxStatus, Outcome, Source, Store, Subject, TokenRole,
};
use hanbao::tracking::{self, Selection};
use jiff::Timestamp;
use jiff::civil::date;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::browser::Browser;

/// Two reporters of a quarterly obligation ("ngày 20": 2026-Q1 is due
/// Friday 20/03/2026, checked against a 2026 wall calendar). The Sở Tài
/// chính's name and the obligation's title are hostile markup: every page
/// must show them as text.
const CONFIG: &str = r#"
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

const Q1: &str = "/dashboard?obligation=bc-quy&period=2026-Q1";
const YTE_Q1: &str = "/dashboard/units/so-yte/bc-quy/2026-Q1";

struct Server {
    addr: SocketAddr,
    store: AnyStore,
    state: AppState,
    admin: String,
    admin_id: i64,
    unit: String,
    revoked: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn token(store: &AnyStore, name: &str, role: TokenRole) -> (i64, String) {
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
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&format!("sqlite://{}/h.db", dir.path().display()))
        .await
        .unwrap();
    let cfg = hanbao::config::load_str("h.toml", CONFIG)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    let (admin_id, admin) = token(&store, "Điều phối", TokenRole::Admin).await;
    let (_, unit) = token(&store, "Văn thư Sở Y tế", TokenRole::Unit("so-yte".into())).await;
    let (rid, revoked) = token(&store, "old", TokenRole::Admin).await;
    store.revoke_token(rid, Timestamp::now()).await.unwrap();
    let state = AppState::new(store.clone(), cfg, None);
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

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    bytes: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

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

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap().trim(), 16)
                .unwrap();
        body = &body[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
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
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        r.push_str(&format!("Cookie: {c}\r\n"));
    }
    for (k, v) in extra {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        r.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    r.push_str("\r\n");
    r.push_str(body.unwrap_or(""));
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(r.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(buf[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    let mut bytes = buf[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        bytes = dechunk(&bytes);
    }
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    }
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
