//! The HTTP server over real TCP on 127.0.0.1:0 with a real SQLite store:
//! every route, every authentication failure, the validation errors, body
//! limit, failure limit, security headers, health and metrics.
//!
//! The client is the tests' own HTTP/1.1 client (`support::http`: a
//! request written onto a `tokio::net::TcpStream`, `Connection: close`), so
//! nothing here shares code with the server.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hanbao::heartbeat::Heartbeat;
use hanbao::http::{self, AppState};
use hanbao::live::Live;
use hanbao::store::{
    self, NewOutboxRow, NewToken, OutboxKey, OutboxKind, OutboxStatus, Store, TokenRole,
};
use hanbao::store::{Outbox, Records, Tokens};
use jiff::Timestamp;
use serde_json::{Value, json};

mod paging;

/// Two reporters, a quarterly obligation ("ngày 20": 2026-Q1 is due Friday
/// 20/03/2026, checked against a 2026 wall calendar) and a monthly one (so
/// that on any day some period is overdue for `/metrics`).
const CONFIG: &str = r#"
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
title = "Báo cáo quý"
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

struct Server {
    addr: SocketAddr,
    store: Store,
    state: AppState,
    admin: String,
    yte: String,
    revoked: String,
    /// Read-only feed tokens: so-yte's feed, every feed.
    feed_yte: String,
    feed_all: String,
    /// A read-only metrics token.
    metrics: String,
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

async fn start(heartbeat: Option<Heartbeat>) -> Server {
    start_with(heartbeat, "").await
}

/// [`start`] with `daemon` (lines of `[daemon]`) added to the configuration.
async fn start_with(heartbeat: Option<Heartbeat>, daemon: &str) -> Server {
    start_config(heartbeat, &format!("[daemon]\n{daemon}\n{CONFIG}")).await
}

/// A server on the configuration `text` (which must have units `so-yte`,
/// in group `so-nganh`, and `so-taichinh`, for the tokens).
async fn start_config(heartbeat: Option<Heartbeat>, text: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&format!("sqlite://{}/h.db", dir.path().display()))
        .await
        .unwrap();
    let cfg = hanbao::config::load_str("h.toml", text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    let (_, admin) = token(&store, "Điều phối", TokenRole::Admin).await;
    let (_, yte) = token(&store, "Văn thư Sở Y tế", TokenRole::Unit("so-yte".into())).await;
    let (rid, revoked) = token(&store, "old", TokenRole::Admin).await;
    store.revoke_token(rid, Timestamp::now()).await.unwrap();
    let (_, feed_yte) = token(
        &store,
        "Lịch Sở Y tế",
        TokenRole::Feed(Some("so-yte".into())),
    )
    .await;
    let (_, feed_all) = token(&store, "Lịch chung", TokenRole::Feed(None)).await;
    let (_, metrics) = token(&store, "prometheus", TokenRole::Metrics).await;
    let state = AppState::new(store.clone(), Live::new(cfg).into(), heartbeat);
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
        yte,
        revoked,
        feed_yte,
        feed_all,
        metrics,
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
}

pub(crate) type Resp = crate::support::http::Response;

trait ErrorCode {
    fn error_code(&self) -> String;
}

impl ErrorCode for Resp {
    /// The error code of an error response, checking its shape.
    #[track_caller]
    fn error_code(&self) -> String {
        let v = self.json();
        let e = &v["error"];
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error without message: {v}"
        );
        e["code"].as_str().expect("error.code").to_string()
    }
}

/// One HTTP/1.1 request (`Connection: close`); also used by `cli.rs`.
pub(crate) async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> Resp {
    let mut req = crate::support::http::Request::new(method, path);
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    if let Some((ctype, b)) = body {
        req = req.body(ctype, b);
    }
    let r = req.send(addr).await;
    assert!(std::str::from_utf8(&r.bytes).is_ok(), "not UTF-8: {r:?}");
    r
}

fn bearer(secret: &str) -> String {
    format!("Bearer {secret}")
}

async fn get(s: &Server, path: &str, secret: Option<&str>) -> Resp {
    let auth = secret.map(bearer);
    request(s.addr, "GET", path, auth.as_deref(), None).await
}

async fn post(s: &Server, path: &str, secret: &str, body: Value) -> Resp {
    let b = body.to_string();
    request(
        s.addr,
        "POST",
        path,
        Some(&bearer(secret)),
        Some(("application/json", b.as_bytes())),
    )
    .await
}

#[track_caller]
fn assert_security_headers(r: &Resp) {
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{r:?}");
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert!(
        r.header("content-security-policy")
            .is_some_and(|v| v.contains("frame-ancestors 'none'"))
    );
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

fn sub(unit: &str, received_on: &str, reference: &str) -> Value {
    json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": unit,
           "received_on": received_on, "reference": reference})
}

const Q1: &str = "/api/v1/status?obligation=bc-quy&period=2026-Q1&at=2026-03-25";

fn states(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["unit"].as_str().unwrap().to_string(),
                r["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn status_reads_with_the_fields_of_status_json() {
    let s = start(None).await;
    let r = get(&s, Q1, Some(&s.admin)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_security_headers(&r);
    let v = r.json();
    // In id order (not the file's). Due Friday 20/03/2026; on Wednesday
    // 25/03 both are 5 calendar days
    // late, 3 working days (Mon 23, Tue 24, Wed 25).
    assert_eq!(
        v,
        json!([
            {"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-taichinh", "state": "overdue",
             "due": "2026-03-20", "submitted_on": null, "days_late": 5, "reference": null,
             "working_days_late": 3},
            {"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte", "state": "overdue",
             "due": "2026-03-20", "submitted_on": null, "days_late": 5, "reference": null,
             "working_days_late": 3},
        ])
    );
    // Before the reminder window (3 working days before 20/03 = 17/03): open;
    // inside it: due_soon; before the quarter: not_open.
    for (at, state) in [
        ("2026-03-10", "open"),
        ("2026-03-17", "due_soon"),
        ("2025-12-31", "not_open"),
    ] {
        let r = get(
            &s,
            &format!("/api/v1/status?obligation=bc-quy&period=2026-Q1&unit=so-yte&at={at}"),
            Some(&s.admin),
        )
        .await;
        assert_eq!(r.json()[0]["state"], state, "at {at}");
    }
    // Without a period: the due days around `at`, both obligations.
    let r = get(
        &s,
        "/api/v1/status?unit=so-yte&at=2026-03-25",
        Some(&s.admin),
    )
    .await;
    let v = r.json();
    let keys: Vec<(String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["obligation"].as_str().unwrap().into(),
                r["period"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        keys.contains(&("bc-quy".into(), "2026-Q1".into())),
        "{keys:?}"
    );
    assert!(
        keys.contains(&("bc-thang".into(), "2026-02".into())),
        "{keys:?}"
    );
    assert!(v.as_array().unwrap().iter().all(|r| r["unit"] == "so-yte"));
    s.shutdown().await;
}

#[tokio::test]
async fn status_validation_errors() {
    let s = start(None).await;
    let cases: [(&str, u16, &str); 7] = [
        ("/api/v1/status?at=25/03/2026", 400, "bad_request"),
        ("/api/v1/status?colour=red", 400, "bad_request"),
        (
            "/api/v1/status?obligation=bc-quy&period=2026-Q5",
            400,
            "bad_request",
        ),
        ("/api/v1/status?obligation=bc-qui", 404, "unknown_id"),
        ("/api/v1/status?unit=so-yt", 404, "unknown_id"),
        (
            "/api/v1/status?obligation=bc-quy&period=2026-03&unit=so-yte",
            422,
            "unknown_period",
        ),
        (
            "/api/v1/status?obligation=bc-quy&period=2026-Q1&unit=ubnd-tinh",
            422,
            "not_owed",
        ),
    ];
    for (path, status, code) in cases {
        let r = get(&s, path, Some(&s.admin)).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (status, code),
            "{path}: {r:?}"
        );
        assert_security_headers(&r);
    }
    let r = get(&s, "/api/v1/status?obligation=bc-qui", Some(&s.admin)).await;
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"bc-quy\""),
        "nearest id"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn unit_tokens_see_and_act_only_for_their_unit() {
    let s = start(None).await;
    let r = get(&s, Q1, Some(&s.yte)).await;
    assert_eq!(states(&r.json()), [("so-yte".into(), "overdue".into())]);
    let r = get(&s, &format!("{Q1}&unit=so-taichinh"), Some(&s.yte)).await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));

    let r = post(
        &s,
        "/api/v1/submissions",
        &s.yte,
        sub("so-taichinh", "2026-03-18", "1/BC"),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let r = post(
        &s,
        "/api/v1/submissions",
        &s.yte,
        sub("so-yte", "2026-03-18", "15/BC-SYT"),
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    let r = post(
        &s,
        "/api/v1/submissions/revoke",
        &s.yte,
        json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-taichinh"}),
    )
    .await;
    assert_eq!(r.status, 403);
    // Extensions and waivers are for administrators, even for the own unit.
    let r = post(
        &s,
        "/api/v1/extensions",
        &s.yte,
        json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte",
               "until": "2026-03-31", "reason": "xin gia hạn"}),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let r = post(
        &s,
        "/api/v1/waivers",
        &s.yte,
        json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte", "reason": "x"}),
    )
    .await;
    assert_eq!(r.status, 403);
    s.shutdown().await;
}

#[tokio::test]
async fn submissions_record_conflict_correct_revoke_and_audit() {
    let s = start(None).await;
    let r = post(
        &s,
        "/api/v1/submissions",
        &s.admin,
        sub("so-yte", "2026-03-18", "15/BC"),
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_security_headers(&r);
    let v = r.json();
    assert_eq!(v["result"], "recorded");
    assert_eq!(v["event"]["source"], "api");
    assert_eq!(v["event"]["actor"], "token:1:Điều phối");

    let r = post(
        &s,
        "/api/v1/submissions",
        &s.admin,
        sub("so-yte", "2026-03-18", "15/BC"),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["result"].as_str()),
        (200, Some("already_recorded"))
    );
    let r = post(
        &s,
        "/api/v1/submissions",
        &s.admin,
        sub("so-yte", "2026-03-19", "16/BC"),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (409, "conflict"));
    let mut correction = sub("so-yte", "2026-03-23", "16/BC");
    correction["correction"] = json!(true);
    let r = post(&s, "/api/v1/submissions", &s.admin, correction).await;
    assert_eq!(r.status, 201, "{r:?}");

    let v = get(&s, Q1, Some(&s.admin)).await.json();
    assert_eq!(v[1]["state"], "submitted_late");
    assert_eq!(v[1]["submitted_on"], "2026-03-23");
    assert_eq!(v[1]["days_late"], 3);
    assert_eq!(v[1]["reference"], "16/BC");

    let key =
        json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte", "reason": "nhầm"});
    let r = post(&s, "/api/v1/submissions/revoke", &s.admin, key.clone()).await;
    assert_eq!(r.status, 201, "{r:?}");
    let r = post(&s, "/api/v1/submissions/revoke", &s.admin, key).await;
    assert_eq!(r.status, 200, "revoking again is harmless: {r:?}");
    let r = post(
        &s,
        "/api/v1/submissions/revoke",
        &s.admin,
        json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-taichinh"}),
    )
    .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (404, "nothing_to_revoke")
    );
    assert_eq!(
        get(&s, Q1, Some(&s.admin)).await.json()[1]["state"],
        "overdue"
    );

    // The audit trail: every write with the token's identity, source api.
    let history = s
        .store
        .history(&hanbao::store::HistoryFilter::default())
        .await
        .unwrap();
    assert_eq!(history.len(), 3, "submit, correct, revoke");
    for e in &history {
        assert_eq!(e.actor, "token:1:Điều phối");
        assert_eq!(e.source, hanbao::store::Source::Api);
    }
    s.shutdown().await;
}

#[tokio::test]
async fn extensions_and_waivers_grant_and_revoke() {
    let s = start(None).await;
    let ext = json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte",
                     "until": "2026-03-31", "reason": "Công văn 12/UBND"});
    let r = post(&s, "/api/v1/extensions", &s.admin, ext.clone()).await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(
        post(&s, "/api/v1/extensions", &s.admin, ext).await.status,
        200
    );
    let r = post(
        &s,
        "/api/v1/waivers",
        &s.admin,
        json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-taichinh", "reason": "sáp nhập"}),
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    let v = get(&s, Q1, Some(&s.admin)).await.json();
    assert_eq!(
        states(&v),
        [
            ("so-taichinh".into(), "waived".into()),
            ("so-yte".into(), "extended".into())
        ]
    );
    assert_eq!(v[1]["due"], "2026-03-31");
    for path in ["/api/v1/extensions/revoke", "/api/v1/waivers/revoke"] {
        let unit = if path.contains("ext") {
            "so-yte"
        } else {
            "so-taichinh"
        };
        let key = json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": unit});
        let r = post(&s, path, &s.yte, key.clone()).await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(post(&s, path, &s.admin, key).await.status, 201, "{path}");
    }
    let v = get(&s, Q1, Some(&s.admin)).await.json();
    assert_eq!(
        states(&v),
        [
            ("so-taichinh".into(), "overdue".into()),
            ("so-yte".into(), "overdue".into())
        ]
    );
    s.shutdown().await;
}

#[tokio::test]
async fn write_validation_errors() {
    let s = start(None).await;
    let a = &s.admin;
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "/api/v1/submissions",
            sub("so-yt", "2026-03-18", "x"),
            404,
            "unknown_id",
        ),
        (
            "/api/v1/submissions",
            json!({"obligation": "bc-qui", "period": "2026-Q1", "unit": "so-yte", "received_on": "2026-03-18"}),
            404,
            "unknown_id",
        ),
        (
            "/api/v1/submissions",
            json!({"obligation": "bc-quy", "period": "2026-03", "unit": "so-yte", "received_on": "2026-03-18"}),
            422,
            "unknown_period",
        ),
        (
            "/api/v1/submissions",
            sub("ubnd-tinh", "2026-03-18", "x"),
            422,
            "not_owed",
        ),
        (
            "/api/v1/submissions",
            sub("so-yte", "18/03/2026", "x"),
            422,
            "invalid",
        ),
        (
            "/api/v1/submissions",
            sub("so-yte", "2999-01-01", "x"),
            422,
            "invalid",
        ),
        (
            "/api/v1/submissions",
            sub("so-yte", "2026-03-18", &"x".repeat(201)),
            422,
            "invalid",
        ),
        (
            "/api/v1/submissions",
            json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte"}),
            422,
            "invalid",
        ),
        (
            "/api/v1/submissions",
            json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte", "received_on": 5}),
            422,
            "invalid",
        ),
        (
            "/api/v1/submissions",
            json!({"obligation": "", "period": "2026-Q1", "unit": "so-yte", "received_on": "2026-03-18"}),
            422,
            "invalid",
        ),
        (
            "/api/v1/extensions",
            json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte", "until": "mai", "reason": "x"}),
            422,
            "invalid",
        ),
        (
            "/api/v1/extensions",
            json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte", "until": "2026-04-30", "reason": " "}),
            422,
            "invalid",
        ),
        // Not after the due day (20/03/2026): refused as on the command
        // line and the dashboard.
        (
            "/api/v1/extensions",
            json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte", "until": "2026-03-20", "reason": "x"}),
            422,
            "invalid",
        ),
        (
            "/api/v1/waivers",
            json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte", "reason": "x", "extra": 1}),
            422,
            "invalid",
        ),
    ];
    for (path, body, status, code) in cases {
        let r = post(&s, path, a, body.clone()).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (status, code),
            "{path} {body}: {r:?}"
        );
    }
    // Malformed JSON: 400; not JSON at all: 415.
    let auth = bearer(a);
    let r = request(
        s.addr,
        "POST",
        "/api/v1/submissions",
        Some(&auth),
        Some(("application/json", b"{\"obligation\": ")),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_request"));
    let r = request(
        s.addr,
        "POST",
        "/api/v1/submissions",
        Some(&auth),
        Some(("text/plain", b"hello")),
    )
    .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (415, "unsupported_media_type")
    );
    // Over the body limit: 413, still in the error shape with the headers.
    let big = format!(
        "{{\"obligation\":\"bc-quy\",\"period\":\"2026-Q1\",\"unit\":\"so-yte\",\"received_on\":\"2026-03-18\",\"note\":\"{}\"}}",
        "x".repeat(http::BODY_LIMIT + 1)
    );
    let r = request(
        s.addr,
        "POST",
        "/api/v1/submissions",
        Some(&auth),
        Some(("application/json", big.as_bytes())),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (413, "too_large"));
    assert_security_headers(&r);
    // Nothing was written by any of them.
    assert!(
        s.store
            .history(&hanbao::store::HistoryFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    // Unknown route and wrong method.
    let r = get(&s, "/api/v1/nope", Some(a)).await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
    assert_security_headers(&r);
    let r = get(&s, "/api/v1/submissions", Some(a)).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (405, "method_not_allowed")
    );
    s.shutdown().await;
}

#[tokio::test]
async fn every_authentication_failure_is_401() {
    // One server per case: twelve failures from 127.0.0.1 would trip the
    // failure limit (tested below).
    for case in 0..6 {
        let s = start(None).await;
        // The admin token with its last character changed (never to itself:
        // a random token may already end in '0').
        let last = if s.admin.ends_with('0') { '1' } else { '0' };
        let wrong = format!("{}{last}", &s.admin[..s.admin.len() - 1]);
        let (auth, why): (Option<String>, &str) = match case {
            0 => (None, "missing"),
            1 => (Some("Basic YWRtaW46YWRtaW4=".into()), "malformed"),
            2 => (Some("Bearer ".into()), "malformed"),
            3 => (Some(bearer("hanbao_00")), "unknown"),
            4 => (Some(bearer(&wrong)), "unknown"),
            _ => (Some(bearer(&s.revoked)), "revoked"),
        };
        for (method, path) in [("GET", Q1), ("POST", "/api/v1/submissions")] {
            let body = sub("so-yte", "2026-03-18", "x").to_string();
            let b = (method == "POST").then_some(("application/json", body.as_bytes()));
            let r = request(s.addr, method, path, auth.as_deref(), b).await;
            assert_eq!(
                (r.status, r.error_code().as_str()),
                (401, "unauthorized"),
                "{why}"
            );
            assert!(
                r.json()["error"]["message"].as_str().unwrap().contains(why),
                "{why}: {r:?}"
            );
            assert_eq!(
                r.header("www-authenticate"),
                Some("Bearer realm=\"hanbao\"")
            );
            assert_security_headers(&r);
            assert!(!r.body.contains(&s.revoked) && !r.body.contains(&s.admin));
        }
        assert!(
            s.store
                .history(&hanbao::store::HistoryFilter::default())
                .await
                .unwrap()
                .is_empty()
        );
        let m = get(&s, "/metrics", Some(&s.metrics)).await.body;
        assert!(m.contains("\nhanbao_api_auth_failures_total 2\n"), "{m}");
        s.shutdown().await;
    }
}

/// Only failures count, per client, and only failing requests are
/// refused: after ten failures from one address its eleventh failure is
/// 429, but a valid token from that same address still works (the
/// credential is checked first), and so does a valid token elsewhere.
#[tokio::test]
async fn too_many_failures_refuse_failures_never_a_valid_token() {
    let s = start(None).await;
    for i in 0..http::MAX_FAILURES {
        let r = get(&s, Q1, Some("nope")).await;
        assert_eq!(r.status, 401, "failure {i}");
    }
    let r = get(&s, Q1, Some("nope")).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (429, "too_many_failures")
    );
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_security_headers(&r);
    let r = get(&s, Q1, None).await;
    assert_eq!(r.status, 429, "a missing token is a failure too");
    // Valid credentials from the same client: never refused.
    assert_eq!(get(&s, Q1, Some(&s.admin)).await.status, 200);
    assert_eq!(get(&s, Q1, Some(&s.yte)).await.status, 200);
    let r = get(&s, "/ics/so-yte.ics?token=nope", None).await;
    assert_eq!(r.status, 429, "feeds share the limit");
    let m = get(&s, "/metrics", Some(&s.metrics)).await.body;
    assert!(
        m.contains("\nhanbao_api_auth_rate_limited_total 3\n"),
        "{m}"
    );
    s.shutdown().await;
}

/// Behind a trusted reverse proxy every request comes from the proxy's
/// address; the client is the address the proxy appends to
/// `X-Forwarded-For`. Failures from one client do not limit another, and
/// a client cannot pick its own address by writing the header itself.
/// Without `trusted_proxies` the header is ignored.
#[tokio::test]
async fn behind_a_trusted_proxy_failures_count_per_forwarded_client() {
    let s = start_with(None, "trusted_proxies = [\"127.0.0.1\"]").await;
    let from = |client: &str, secret: &str| {
        // `request` writes "Authorization: " before this: a second header follows.
        let headers = format!("Bearer {secret}\r\nX-Forwarded-For: {client}");
        let addr = s.addr;
        async move { request(addr, "GET", Q1, Some(&headers), None).await }
    };
    for _ in 0..http::MAX_FAILURES {
        assert_eq!(from("198.51.100.7", "nope").await.status, 401);
    }
    assert_eq!(from("198.51.100.7", "nope").await.status, 429);
    // The attacker's own additions to the header change nothing: the proxy
    // appends the real address, the rightmost untrusted one.
    assert_eq!(from("203.0.113.1, 198.51.100.7", "nope").await.status, 429);
    // Another client behind the same proxy: its own count.
    assert_eq!(from("198.51.100.8", "nope").await.status, 401);
    assert_eq!(from("198.51.100.8", &s.admin).await.status, 200);
    assert_eq!(from("198.51.100.7", &s.admin).await.status, 200);
    s.shutdown().await;

    // Not trusted: every request is the peer's, whatever the header says.
    let s = start(None).await;
    for i in 0..http::MAX_FAILURES {
        let client = format!("198.51.100.{i}");
        let headers = format!("Bearer nope\r\nX-Forwarded-For: {client}");
        let r = request(s.addr, "GET", Q1, Some(&headers), None).await;
        assert_eq!(r.status, 401);
    }
    let headers = "Bearer nope\r\nX-Forwarded-For: 198.51.100.99";
    assert_eq!(
        request(s.addr, "GET", Q1, Some(headers), None).await.status,
        429
    );
    s.shutdown().await;
}

#[tokio::test]
async fn healthz_reports_database_and_scheduler() {
    // No scheduler attached: 503, "not_running".
    let s = start(None).await;
    let r = get(&s, "/healthz", Some(&s.metrics)).await;
    assert_eq!(r.status, 503, "{r:?}");
    assert_security_headers(&r);
    let v = r.json();
    assert_eq!(
        (v["database"].as_str(), v["scheduler"].as_str()),
        (Some("ok"), Some("not_running"))
    );
    assert!(v["reason"].as_str().unwrap().contains("scheduler"));
    s.shutdown().await;

    // A ticking scheduler: 200.
    let hb = Heartbeat::new(Instant::now());
    hb.beat(Instant::now());
    let s = start(Some(hb.clone())).await;
    let r = get(&s, "/healthz", Some(&s.metrics)).await;
    assert_eq!(r.status, 200, "{r:?}");
    let v = r.json();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["database"], "ok");
    assert_eq!(v["scheduler"], "ok");
    assert!(v["last_tick_age_s"].as_u64().unwrap() <= 1);

    // The database gone: 503 with the reason.
    s.store.close().await;
    let r = get(&s, "/healthz", Some(&s.metrics)).await;
    assert_eq!(r.status, 503, "{r:?}");
    let v = r.json();
    assert_eq!(v["database"], "error");
    assert!(v["reason"].as_str().unwrap().contains("database"));
    s.shutdown().await;

    // A scheduler that stopped ticking 200 s ago: 503 "stalled".
    let origin = Instant::now()
        .checked_sub(Duration::from_secs(300))
        .expect("monotonic clock older than 300 s");
    let hb = Heartbeat::new(origin);
    hb.beat(origin + Duration::from_secs(100));
    let s = start(Some(hb)).await;
    let v = get(&s, "/healthz", Some(&s.metrics)).await;
    assert_eq!(v.status, 503);
    let v = v.json();
    assert_eq!(v["scheduler"], "stalled");
    assert!(v["last_tick_age_s"].as_u64().unwrap() >= 200);
    s.shutdown().await;
}

/// Parses the exposition line by line: every sample belongs to the family
/// of the preceding `# TYPE`, names and labels are well-formed, values are
/// numbers. Returns (name with labels, value).
fn parse_metrics(text: &str) -> Vec<(String, f64)> {
    let mut family: Option<String> = None;
    let mut helped: Option<String> = None;
    let mut out = Vec::new();
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !n.starts_with(|c: char| c.is_ascii_digit())
    };
    assert!(text.ends_with('\n'));
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(name_ok(name) && !help.is_empty(), "{line}");
            helped = Some(name.to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(["counter", "gauge"].contains(&kind), "{line}");
            assert_eq!(helped.as_deref(), Some(name), "HELP before TYPE: {line}");
            family = Some(name.to_string());
        } else {
            assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
            let (series, value) = line.rsplit_once(' ').expect("sample value");
            let name = series.split('{').next().unwrap();
            assert_eq!(
                Some(name),
                family.as_deref(),
                "sample outside its family: {line}"
            );
            assert!(name_ok(name), "{line}");
            if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
                let inner = labels.strip_prefix('{').and_then(|l| l.strip_suffix('}'));
                for pair in inner.expect("braces").split(',') {
                    let (k, v) = pair.split_once('=').expect("label=value");
                    assert!(
                        name_ok(k) && v.starts_with('"') && v.ends_with('"'),
                        "{line}"
                    );
                }
            }
            let v: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
            out.push((series.to_string(), v));
        }
    }
    out
}

fn metric(samples: &[(String, f64)], series: &str) -> f64 {
    samples
        .iter()
        .find(|(s, _)| s == series)
        .unwrap_or_else(|| panic!("no {series} in {samples:?}"))
        .1
}

#[tokio::test]
async fn metrics_are_prometheus_text_from_the_store_and_counters() {
    let hb = Heartbeat::new(Instant::now());
    hb.beat(Instant::now());
    let s = start(Some(hb)).await;
    let now = Timestamp::now();
    let row = |unit: &str, kind: OutboxKind, ago: i64| NewOutboxRow {
        key: OutboxKey {
            obligation: "bc-quy".into(),
            period: "2026-Q1".into(),
            unit: unit.into(),
            kind,
            stage: 0,
            recipient: format!("{unit}@example.org"),
        },
        rank: 0,
        due_on: jiff::civil::date(2026, 3, 20),
        status: OutboxStatus::Pending,
        next_attempt_at: now
            .checked_sub(jiff::SignedDuration::from_secs(ago))
            .unwrap(),
    };
    s.store
        .enqueue(
            vec![
                row("so-yte", OutboxKind::Reminder, 120),
                row("so-taichinh", OutboxKind::Overdue, 30),
            ],
            now,
        )
        .await
        .unwrap();
    // One reminder claimed and sent.
    let claimed = s
        .store
        .claim(
            "t",
            now,
            now.checked_add(jiff::SignedDuration::from_secs(60))
                .unwrap(),
            1,
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        s.store
            .finish(
                claimed[0].id,
                "t",
                hanbao::store::Outcome::Sent {
                    message_id: "<m@x>".into()
                },
                now
            )
            .await
            .unwrap()
    );
    s.state.metrics().record_reload(true);
    s.state.metrics().record_reload(false);
    s.state.metrics().record_reload(false);

    let r = get(&s, "/metrics", Some(&s.metrics)).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert_security_headers(&r);
    let m = parse_metrics(&r.body);
    assert_eq!(metric(&m, "hanbao_outbox_pending"), 1.0);
    let age = metric(&m, "hanbao_outbox_oldest_pending_age_seconds");
    assert!((30.0..40.0).contains(&age), "{age}");
    assert_eq!(
        metric(&m, "hanbao_notifications_sent_total{kind=\"reminder\"}"),
        1.0
    );
    assert_eq!(
        metric(&m, "hanbao_notifications_sent_total{kind=\"overdue\"}"),
        0.0
    );
    assert_eq!(
        metric(&m, "hanbao_notifications_failed_total{kind=\"escalation\"}"),
        0.0
    );
    assert_eq!(
        metric(&m, "hanbao_notifications_retried_total{kind=\"due_today\"}"),
        0.0
    );
    assert_eq!(
        metric(&m, "hanbao_config_reloads_total{result=\"ok\"}"),
        1.0
    );
    assert_eq!(
        metric(&m, "hanbao_config_reloads_total{result=\"failed\"}"),
        2.0
    );
    assert!(metric(&m, "hanbao_scheduler_last_tick_age_seconds") <= 1.0);
    for outcome in ["recorded", "already", "refused"] {
        let series = format!("hanbao_intake_messages_total{{outcome=\"{outcome}\"}}");
        assert_eq!(metric(&m, &series), 0.0);
    }
    // Monthly reports due on the 20th: whatever today is, both reporters
    // have an unsubmitted month due within the last 62 days.
    assert_eq!(
        metric(&m, "hanbao_overdue_units{obligation=\"bc-thang\"}"),
        2.0
    );

    // Submitting every overdue month of so-yte leaves one overdue unit.
    let status = get(
        &s,
        "/api/v1/status?obligation=bc-thang&unit=so-yte",
        Some(&s.admin),
    )
    .await
    .json();
    let mut n = 0;
    for row in status
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "overdue")
    {
        let body = json!({"obligation": "bc-thang", "period": row["period"], "unit": "so-yte",
                          "received_on": row["due"]});
        assert_eq!(
            post(&s, "/api/v1/submissions", &s.admin, body).await.status,
            201
        );
        n += 1;
    }
    assert!(n >= 1);
    // The gauge is computed at most once a minute, in the background once
    // it exists; without a maximum age the next scrapes see the change.
    s.state.set_metrics_max_age(Duration::ZERO);
    let mut seen = Vec::new();
    for _ in 0..50 {
        let m = parse_metrics(&get(&s, "/metrics", Some(&s.metrics)).await.body);
        seen.push(metric(&m, "hanbao_overdue_units{obligation=\"bc-thang\"}"));
        if seen.last() == Some(&1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen.last(), Some(&1.0), "{seen:?}");
    s.shutdown().await;
}

/// Scrapes in parallel share one computation of the overdue gauge (the
/// status matrix of every unit): sixteen at once on a fresh server compute
/// it once, and a scrape within the minute after computes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_scrapes_compute_the_overdue_gauge_once() {
    let s = start(None).await;
    let scrapes: Vec<_> = (0..16)
        .map(|_| {
            let auth = bearer(&s.metrics);
            let addr = s.addr;
            tokio::spawn(async move { request(addr, "GET", "/metrics", Some(&auth), None).await })
        })
        .collect();
    for r in scrapes {
        let r = r.await.unwrap();
        assert_eq!(r.status, 200, "{r:?}");
        let m = parse_metrics(&r.body);
        assert_eq!(
            metric(&m, "hanbao_overdue_units{obligation=\"bc-thang\"}"),
            2.0
        );
    }
    let m = parse_metrics(&get(&s, "/metrics", Some(&s.metrics)).await.body);
    assert_eq!(metric(&m, "hanbao_overdue_units_refreshes_total"), 1.0);
    assert!(metric(&m, "hanbao_overdue_units_age_seconds") < 60.0);
    s.shutdown().await;
}

/// The daemon's web interface (`http::start`) computes `/metrics`' gauges
/// as it starts, before any scrape: at national scale the overdue units
/// are the whole status matrix, and the first scrape after a start would
/// otherwise wait for it. The computation is seen without scraping (the
/// refresh counter), and the first scrape then reports values older than
/// itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemons_web_interface_computes_the_gauges_before_any_scrape() {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&format!("sqlite://{}/h.db", dir.path().display()))
        .await
        .unwrap();
    let cfg = hanbao::config::load_str("h.toml", CONFIG).unwrap().config;
    let (_, secret) = token(&store, "prometheus", TokenRole::Metrics).await;
    let state = AppState::new(store.clone(), Live::new(cfg).into(), None);
    let addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let running = http::start(addr, state.clone(), stop.clone()).await;
    let refreshes = || {
        state
            .metrics()
            .overdue_refreshes
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let started = Instant::now();
    while refreshes() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the overdue units were not computed without a scrape"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = request(addr, "GET", "/metrics", Some(&bearer(&secret)), None).await;
    assert_eq!(r.status, 200, "{r:?}");
    let m = parse_metrics(&r.body);
    assert_eq!(metric(&m, "hanbao_overdue_units_refreshes_total"), 1.0);
    let up = started.elapsed().as_secs_f64();
    for age in [
        "hanbao_overdue_units_age_seconds",
        "hanbao_outbox_counts_age_seconds",
    ] {
        let a = metric(&m, age);
        assert!((1.0..=up).contains(&a), "{age} = {a}, started {up} s ago");
    }
    assert_eq!(
        metric(&m, "hanbao_overdue_units{obligation=\"bc-thang\"}"),
        2.0
    );
    stop.cancel();
    running.stopped().await;
}

#[tokio::test]
async fn a_reload_swaps_the_configuration_in_force() {
    let s = start(None).await;
    let mut cfg = hanbao::config::load_str("h.toml", CONFIG).unwrap().config;
    cfg.obligations.retain(|o| o.id != "bc-quy");
    s.state.reloaded(Some(Live::new(cfg).into()));
    let r = get(&s, Q1, Some(&s.admin)).await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "unknown_id"));
    s.shutdown().await;
}

/// The real binary: `hanbao token create` prints a secret that `hanbao run`
/// accepts on `daemon.http_listen`; SIGHUP swaps the configuration the API
/// sees and counts the reload; `token revoke` takes effect at once; SIGTERM
/// stops the server with the daemon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanbao_run_serves_http_and_token_commands_work() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let cfg_path = dir.path().join("hanbao.toml");
    let daemon = format!("[daemon]\nhttp_listen = \"{addr}\"\n");
    std::fs::write(&cfg_path, format!("{daemon}{CONFIG}")).unwrap();
    let hanbao = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .arg("--config")
            .arg(&cfg_path)
            .args(args)
            .env("HANBAO_STATE_DIR", dir.path().join("state"))
            .env_remove("HANBAO_DATABASE")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (ok, out, err) = hanbao(&["token", "create", "--admin", "--name", "Điều phối"]);
    assert!(ok, "{err}");
    let secret = out
        .lines()
        .find(|l| l.starts_with(http::token::PREFIX))
        .unwrap_or_else(|| panic!("no secret in {out}"))
        .to_string();
    let (ok, out, _) = hanbao(&["token", "create", "--unit", "so-yte", "--name", "Văn thư"]);
    assert!(ok && out.contains("đơn vị so-yte"), "{out}");
    let (ok, _, err) = hanbao(&["token", "create", "--unit", "so-yt", "--name", "x"]);
    assert!(!ok && err.contains("\"so-yte\""), "nearest unit: {err}");
    let (ok, _, _) = hanbao(&["token", "create", "--name", "x"]);
    assert!(!ok, "--admin or --unit is required");
    // Read-only tokens: a unit's feed, every feed, metrics.
    let (ok, out, err) = hanbao(&[
        "token", "create", "--feed", "--unit", "so-yte", "--name", "Lịch",
    ]);
    assert!(
        ok && out.contains("chỉ đọc lịch của đơn vị so-yte")
            && out.contains("/ics/so-yte.ics?token="),
        "{out}{err}"
    );
    let feed_secret = out
        .lines()
        .find(|l| l.starts_with(http::token::PREFIX))
        .unwrap()
        .to_string();
    let (ok, out, _) = hanbao(&["token", "create", "--feed", "--all", "--name", "Lịch chung"]);
    assert!(ok && out.contains("chỉ đọc mọi lịch"), "{out}");
    let (ok, out, _) = hanbao(&["token", "create", "--metrics", "--name", "prometheus"]);
    assert!(ok && out.contains("chỉ đọc số liệu vận hành"), "{out}");
    let (ok, _, err) = hanbao(&["token", "create", "--feed", "--name", "x"]);
    assert!(
        !ok && err.contains("--unit MÃ_ĐƠN_VỊ") && err.contains("--all"),
        "{err}"
    );
    for bad in [
        &["--admin", "--feed", "--all"][..],
        &["--all"][..],
        &["--metrics", "--unit", "so-yte"][..],
        &["--feed", "--all", "--unit", "so-yte"][..],
    ] {
        let mut args = vec!["token", "create"];
        args.extend_from_slice(bad);
        args.extend_from_slice(&["--name", "x"]);
        assert!(!hanbao(&args).0, "{bad:?} is refused");
    }
    let (ok, out, _) = hanbao(&["token", "list"]);
    assert!(
        ok && out.contains("Điều phối") && out.contains("so-yte"),
        "{out}"
    );
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    let row_of = |role: &str, unit: &str| {
        rows.iter()
            .any(|r| r.get(1) == Some(&role) && r.get(2) == Some(&unit))
    };
    assert!(
        row_of("đọc lịch", "so-yte") && row_of("đọc lịch", "*") && row_of("số liệu vận hành", "-"),
        "{out}"
    );
    assert!(!out.contains(&secret), "list never shows secrets");

    // A link key in the state directory turns on /confirm.
    let key_bytes = b"fedcba9876543210fedcba9876543210\n";
    std::fs::write(
        dir.path().join("state").join(http::LINK_KEY_FILE),
        key_bytes,
    )
    .unwrap();
    let key = http::link::LinkKey::new(key_bytes.to_vec()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hanbao"))
        .arg("--config")
        .arg(&cfg_path)
        .arg("run")
        .env("HANBAO_STATE_DIR", dir.path().join("state"))
        .env_remove("HANBAO_DATABASE")
        .env_remove("JOURNAL_STREAM")
        .env_remove("NOTIFY_SOCKET")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let signal = |sig: &str| {
        assert!(
            Command::new("kill")
                .args([sig, &pid])
                .status()
                .unwrap()
                .success()
        );
    };
    let mut healthy = None;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            let r = request(addr, "GET", "/healthz", Some(&bearer(&secret)), None).await;
            if r.status == 200 {
                healthy = Some(r);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let healthy = healthy.expect("/healthz 200 within 10 s");
    assert_eq!(healthy.json()["scheduler"], "ok");
    let auth = bearer(&secret);
    let r = request(
        addr,
        "GET",
        "/api/v1/status?obligation=bc-thang",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let link = http::link::LinkScope {
        obligation: "bc-quy".into(),
        period: "2026-Q1".into(),
        unit: "so-yte".into(),
        expires: Timestamp::now().as_second() + 3600,
    };
    let r = request(addr, "GET", &link.path(&key), None, None).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("Xác nhận đã gửi báo cáo"));
    let feed = |secret: &str| format!("/ics/so-yte.ics?token={secret}");
    let r = request(addr, "GET", &feed(&feed_secret), None, None).await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = request(addr, "GET", &feed(&secret), None, None).await;
    assert_eq!(r.status, 403, "an administrator token in a feed URL: {r:?}");

    // Reload without bc-thang: the API follows, and the reload is counted.
    std::fs::write(
        &cfg_path,
        format!(
            "{daemon}{}",
            &CONFIG[..CONFIG.find("[[obligation]]\nid = \"bc-thang\"").unwrap()]
        ),
    )
    .unwrap();
    signal("-HUP");
    let mut reloaded = false;
    for _ in 0..50 {
        let r = request(
            addr,
            "GET",
            "/api/v1/status?obligation=bc-thang",
            Some(&auth),
            None,
        )
        .await;
        if r.status == 404 {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reloaded, "the API sees the reloaded configuration");
    let m = parse_metrics(
        &request(addr, "GET", "/metrics", Some(&auth), None)
            .await
            .body,
    );
    assert_eq!(
        metric(&m, "hanbao_config_reloads_total{result=\"ok\"}"),
        1.0
    );

    // Revoked from another process: refused on the next request.
    let (ok, out, err) = hanbao(&["token", "revoke", "1"]);
    assert!(
        ok && out.contains("Đã thu hồi mã truy cập số 1"),
        "{out}{err}"
    );
    let r = request(addr, "GET", "/api/v1/status", Some(&auth), None).await;
    assert_eq!(r.status, 401);

    signal("-TERM");
    let status = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut err = String::new();
        use std::io::Read as _;
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status, err)
    })
    .await
    .unwrap();
    assert!(status.0.success(), "{}", status.1);
    assert!(!status.1.contains(&secret), "the secret is never logged");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the server stops with the daemon"
    );
}

fn form_body(fields: &[(&str, &str)]) -> Vec<u8> {
    crate::support::http::form(fields).into_bytes()
}

async fn send(s: &Server, fields: Vec<(&str, String)>) -> Resp {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post_form(s, &refs).await
}

async fn post_form(s: &Server, fields: &[(&str, &str)]) -> Resp {
    let body = form_body(fields);
    request(
        s.addr,
        "POST",
        "/confirm",
        None,
        Some(("application/x-www-form-urlencoded", &body)),
    )
    .await
}

#[tokio::test]
async fn confirmation_links_open_a_form_and_record_once() {
    use hanbao::http::link::{LinkKey, LinkScope};
    let s = start(None).await;
    let scope = |unit: &str, expires: i64| LinkScope {
        obligation: "bc-quy".into(),
        period: "2026-Q1".into(),
        unit: unit.into(),
        expires,
    };
    let later = Timestamp::now().as_second() + 86_400;
    let key = LinkKey::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();

    // Without a key the feature is off.
    let r = get(&s, &scope("so-yte", later).path(&key), None).await;
    assert_eq!(r.status, 404);
    crate::support::turn_on_links(&s.state, &key);

    let link = scope("so-taichinh", later);
    let r = get(&s, &link.path(&key), None).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert_security_headers(&r);
    assert!(r.body.contains("Xác nhận đã gửi báo cáo"));
    assert!(
        r.body
            .contains("Sở Tài chính &lt;Ban &quot;A&quot; &amp; B&gt;"),
        "names are escaped: {}",
        r.body
    );
    assert!(!r.body.contains("<Ban"));
    assert!(r.body.contains("20/03/2026"), "the due day");
    // Styled like the dashboard (its stylesheet, allowed by hash), the
    // period in words, a text date field, and what happens next.
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("style-src 'sha256-"), "{csp}");
    assert!(r.body.contains("<style>") && !r.body.contains("<script"));
    assert!(r.body.contains("quý I năm 2026"), "{}", r.body);
    assert!(!r.body.contains("type=\"date\""));
    assert!(r.body.contains("placeholder=\"dd/mm/yyyy\""));
    assert!(r.body.contains("Sau khi xác nhận"));
    assert!(r.body.contains("không nhận thêm thư nhắc"));

    // Tampered (another unit, another expiry, a wrong signature) and expired.
    let sig = link.sign(&key);
    for path in [
        format!("/confirm?o=bc-quy&p=2026-Q1&u=so-yte&e={later}&s={sig}"),
        format!(
            "/confirm?o=bc-quy&p=2026-Q1&u=so-taichinh&e={}&s={sig}",
            later + 1
        ),
        format!(
            "/confirm?o=bc-quy&p=2026-Q1&u=so-taichinh&e={later}&s={}",
            "0".repeat(64)
        ),
        "/confirm?o=bc-quy".to_string(),
    ] {
        let r = get(&s, &path, None).await;
        assert_eq!(r.status, 400, "{path}");
        assert!(r.body.contains("Liên kết không hợp lệ"), "{path}");
    }
    let expired = scope("so-taichinh", Timestamp::now().as_second() - 1);
    let r = get(&s, &expired.path(&key), None).await;
    assert_eq!(r.status, 410);
    assert!(r.body.contains("hết hạn"));

    let e = later.to_string();
    let fields = |reference: &'static str, on: &'static str, step: &'static str| {
        vec![
            ("o", "bc-quy".to_string()),
            ("p", "2026-Q1".to_string()),
            ("u", "so-taichinh".to_string()),
            ("e", e.clone()),
            ("s", sig.clone()),
            ("reference", reference.to_string()),
            ("received_on", on.to_string()),
            ("step", step.to_string()),
        ]
    };
    let nothing_recorded = || async {
        s.store
            .history(&hanbao::store::HistoryFilter::default())
            .await
            .unwrap()
            .is_empty()
    };
    // A date in the future: the form again, with the message and the
    // escaped reference.
    let r = send(&s, fields("<b>15</b>", "2099-01-01", "check")).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("sau hôm nay") && r.body.contains("&lt;b&gt;15&lt;/b&gt;"),
        "{}",
        r.body
    );
    // Dates that could be read two ways, or not at all: refused in
    // Vietnamese, even on the post that records.
    for (on, says) in [
        ("18/03", "thiếu năm"),
        ("2026-13-01", "tháng 13 không tồn tại"),
        ("31/02/2026", "ngày 31/02/2026 không tồn tại"),
        ("18/03/26", "năm phải có 4 chữ số"),
    ] {
        for step in ["check", "record"] {
            let r = send(&s, fields("15/BC", on, step)).await;
            assert_eq!(r.status, 422, "{on} {step}");
            assert!(
                r.body.contains("Ngày gửi báo cáo") && r.body.contains(says),
                "{on}: {}",
                r.body
            );
            assert!(
                r.body.contains(&format!("value=\"{on}\"")),
                "kept: {}",
                r.body
            );
        }
    }
    // A forged post records nothing.
    let mut forged = fields("15/BC", "18/03/2026", "record");
    forged[2].1 = "so-yte".into();
    assert_eq!(send(&s, forged).await.status, 400);
    assert!(nothing_recorded().await);

    // The first post echoes the day in words and records nothing; "Sửa
    // lại" shows the form again with what was typed.
    let r = send(&s, fields("15/BC-STC", "2026-03-18", "check")).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        r.body
            .contains("<strong id=\"echo\">thứ Tư, ngày 18 tháng 3 năm 2026</strong>"),
        "{}",
        r.body
    );
    for hidden in [
        "name=\"received_on\" value=\"18/03/2026\"",
        "name=\"reference\" value=\"15/BC-STC\"",
        "name=\"u\" value=\"so-taichinh\"",
        "name=\"step\" value=\"record\"",
        "name=\"step\" value=\"edit\"",
    ] {
        assert!(r.body.contains(hidden), "{hidden}: {}", r.body);
    }
    assert!(nothing_recorded().await, "the echo records nothing");
    let r = send(&s, fields("15/BC-STC", "18/03/2026", "edit")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("name=\"received_on\" value=\"18/03/2026\""));
    assert!(!r.body.contains("id=\"echo\""));
    assert!(nothing_recorded().await);

    let r = send(&s, fields("15/BC-STC", "18/03/2026", "record")).await;
    assert_eq!(r.status, 201, "{r:?}");
    assert!(r.body.contains("Đã ghi nhận báo cáo") && r.body.contains("18/03/2026"));
    assert!(r.body.contains("thứ Tư, ngày 18 tháng 3 năm 2026"));
    // Twice: harmless.
    let r = send(&s, fields("15/BC-STC", "2026-03-18", "record")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("đã được ghi nhận"));
    let r = send(&s, fields("99/BC", "2026-03-19", "record")).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("15/BC-STC"), "shows what is recorded");
    let r = get(&s, &link.path(&key), None).await;
    assert_eq!(r.status, 200);
    // No confirmation form any more: only the one that sends files.
    assert!(r.body.contains("Báo cáo đã được ghi nhận") && !r.body.contains("action=\"/confirm\""));
    assert!(r.body.contains("action=\"/confirm/files\""));

    let history = s
        .store
        .history(&hanbao::store::HistoryFilter::default())
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].source, hanbao::store::Source::Link);
    assert_eq!(history[0].actor, "link:so-taichinh");
    assert_eq!(history[0].reference.as_deref(), Some("15/BC-STC"));
    let v = get(&s, Q1, Some(&s.admin)).await.json();
    assert_eq!(v[0]["state"], "submitted_on_time");
    s.shutdown().await;
}

/// Unfolds an .ics body after checking the physical lines: CRLF only, at
/// most 75 octets each.
fn unfold(ics: &str) -> Vec<String> {
    assert!(ics.ends_with("\r\n"));
    let mut out: Vec<String> = Vec::new();
    for physical in ics.split("\r\n").filter(|l| !l.is_empty()) {
        assert!(!physical.contains('\n') && !physical.contains('\r'));
        assert!(
            physical.len() <= 75,
            "{} octets: {physical:?}",
            physical.len()
        );
        match physical.strip_prefix(' ') {
            Some(rest) => out.last_mut().expect("continuation first").push_str(rest),
            None => out.push(physical.to_string()),
        }
    }
    out
}

/// (UID, DTSTART, DTEND, TRIGGERs) of every VEVENT, checking BEGIN/END nesting.
fn events(lines: &[String]) -> Vec<(String, String, String, Vec<String>)> {
    let mut stack: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    let mut cur: Option<(String, String, String, Vec<String>)> = None;
    for l in lines {
        if let Some(what) = l.strip_prefix("BEGIN:") {
            stack.push(what);
            if what == "VEVENT" {
                cur = Some(Default::default());
            }
        } else if let Some(what) = l.strip_prefix("END:") {
            assert_eq!(stack.pop(), Some(what), "nesting at {l}");
            if what == "VEVENT" {
                out.push(cur.take().unwrap());
            }
        } else if let Some(c) = cur.as_mut() {
            if let Some(v) = l.strip_prefix("UID:") {
                c.0 = v.into();
            } else if let Some(v) = l.strip_prefix("DTSTART;VALUE=DATE:") {
                c.1 = v.into();
            } else if let Some(v) = l.strip_prefix("DTEND;VALUE=DATE:") {
                c.2 = v.into();
            } else if let Some(v) = l.strip_prefix("TRIGGER:") {
                c.3.push(v.into());
            }
        }
    }
    assert!(stack.is_empty());
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert!(lines.contains(&"METHOD:PUBLISH".to_string()));
    out
}

#[tokio::test]
async fn calendar_feeds_per_unit_and_for_all() {
    let s = start(None).await;
    let year = "from=2026-01-01&to=2026-12-31";
    let r = get(
        &s,
        &format!("/ics/so-yte.ics?token={}&{year}", s.feed_yte),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    assert_security_headers(&r);
    let lines = unfold(&r.body);
    let ev = events(&lines);
    // 4 quarters + 12 months due in 2026.
    assert_eq!(ev.len(), 16, "{lines:?}");
    // Q1: due Friday 20/03/2026, reminder 3 working days before (Tue 17/03).
    // Q2: 20/06/2026 is a Saturday, rolled to Monday 22/06; 3 working days
    // before is Wednesday 17/06, 5 calendar days (checked on a 2026 calendar).
    // Each alarm fires at 07:30 on its day, the start of the sending hours:
    // 3 days before 00:00 of the due day plus 7 h 30 min is 2 days 16 h 30 min.
    let q1 = ev
        .iter()
        .find(|e| e.1 == "20260320" && !e.3.is_empty())
        .unwrap();
    assert_eq!(
        (q1.2.as_str(), q1.3.as_slice()),
        ("20260321", &["-P2DT16H30M".to_string()][..])
    );
    let q2 = ev
        .iter()
        .find(|e| e.1 == "20260622" && !e.3.is_empty())
        .unwrap();
    assert_eq!(
        (q2.2.as_str(), q2.3.as_slice()),
        ("20260623", &["-P4DT16H30M".to_string()][..])
    );
    let mut uids: Vec<&str> = ev.iter().map(|e| e.0.as_str()).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 16, "unique UIDs");
    // The UID of the .ics the reminders attach (domain of mail.from, here
    // the default "hanbao@localhost").
    assert_eq!(
        q1.0,
        hanbao::mail::ids::calendar_uid("bc-quy", "2026-Q1", "so-yte", "localhost")
    );
    // Stable: the same UIDs on the next fetch.
    let again = get(
        &s,
        &format!("/ics/so-yte.ics?token={}&{year}", s.feed_yte),
        None,
    )
    .await;
    let ev2 = events(&unfold(&again.body));
    assert_eq!(
        ev.iter().map(|e| &e.0).collect::<Vec<_>>(),
        ev2.iter().map(|e| &e.0).collect::<Vec<_>>()
    );
    assert!(r.body.contains("X-WR-CALNAME:Hạn báo cáo — Sở Y tế"));

    let all = get(
        &s,
        &format!("/ics/all.ics?token={}&{year}", s.feed_all),
        None,
    )
    .await;
    assert_eq!(all.status, 200);
    // One event per report-period (4 quarters + 12 months), not one per
    // unit: each counts what the two units sent.
    let all_lines = unfold(&all.body);
    assert_eq!(events(&all_lines).len(), 16, "{all_lines:?}");
    assert_eq!(
        all_lines
            .iter()
            .filter(|l| l.starts_with("DESCRIPTION:") && l.contains("Đã nhận "))
            .count(),
        16,
        "{all_lines:?}"
    );
    let admin_unit = get(
        &s,
        &format!("/ics/so-taichinh.ics?token={}&{year}", s.feed_all),
        None,
    )
    .await;
    assert_eq!(admin_unit.status, 200);
    assert!(
        unfold(&admin_unit.body)
            .iter()
            .any(|l| l.starts_with("SUMMARY:") && l.ends_with("— Sở Tài chính <Ban \"A\" & B>")),
        "TEXT values keep <, & and quotes (only backslash, ; , and newlines are escaped)"
    );

    for (path, status, code) in [
        (
            format!("/ics/so-taichinh.ics?token={}", s.feed_yte),
            403,
            "forbidden",
        ),
        (
            format!("/ics/all.ics?token={}", s.feed_yte),
            403,
            "forbidden",
        ),
        (
            format!("/ics/so-yt.ics?token={}", s.feed_all),
            404,
            "unknown_id",
        ),
        (
            format!("/ics/so-yte?token={}", s.feed_all),
            404,
            "not_found",
        ),
        (
            format!("/ics/so-yte.ics?token={}&from=mai", s.feed_all),
            400,
            "bad_request",
        ),
        (
            format!(
                "/ics/so-yte.ics?token={}&from=2026-02-01&to=2026-01-01",
                s.feed_all
            ),
            400,
            "bad_request",
        ),
        // One request never asks for centuries of deadlines: at most two
        // years and two days (733 days) between from and to.
        (
            format!(
                "/ics/all.ics?token={}&from=1900-01-01&to=2100-12-31",
                s.feed_all
            ),
            400,
            "bad_request",
        ),
        (
            format!(
                "/ics/all.ics?token={}&from=2026-01-01&to=2028-01-06",
                s.feed_all
            ),
            400,
            "bad_request",
        ),
        ("/ics/so-yte.ics".to_string(), 401, "unauthorized"),
        (
            format!("/ics/so-yte.ics?token={}", s.revoked),
            401,
            "unauthorized",
        ),
        (
            "/ics/so-yte.ics?token=hanbao_00".to_string(),
            401,
            "unauthorized",
        ),
    ] {
        let r = get(&s, &path, None).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (status, code),
            "{path}"
        );
    }
    s.shutdown().await;
}

/// Feeds take read-only feed tokens only: administrator and unit tokens,
/// which can write, are refused there (a feed URL ends up in proxy logs
/// and calendar services), and feed tokens are refused everywhere else.
#[tokio::test]
async fn feeds_refuse_write_capable_tokens_and_feed_tokens_read_nothing_else() {
    let s = start(None).await;
    for (secret, path) in [
        (&s.admin, "/ics/all.ics"),
        (&s.admin, "/ics/so-yte.ics"),
        (&s.yte, "/ics/so-yte.ics"),
    ] {
        let r = get(&s, &format!("{path}?token={secret}"), None).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (403, "forbidden"),
            "{path}"
        );
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("mã truy cập chỉ đọc lịch")
        );
        assert!(!r.body.contains(secret.as_str()));
    }
    for secret in [&s.feed_yte, &s.feed_all] {
        let r = get(&s, Q1, Some(secret)).await;
        assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
        let body = sub("so-yte", "2026-03-18", "x").to_string();
        let r = request(
            s.addr,
            "POST",
            "/api/v1/submissions",
            Some(&bearer(secret)),
            Some(("application/json", body.as_bytes())),
        )
        .await;
        assert_eq!(r.status, 403);
    }
    assert!(
        s.store
            .history(&hanbao::store::HistoryFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    s.shutdown().await;
}

/// Dates a client types are bounded (a receipt inside the period or after
/// it, never before it started: no backdating; an extension within a year
/// and a day of the due day), control characters are refused, and the
/// messages are Vietnamese while the codes stay stable.
#[tokio::test]
async fn hostile_dates_and_control_characters_are_refused_in_vietnamese() {
    let s = start(None).await;
    let a = &s.admin;
    let ext = |until: &str| {
        json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte",
               "until": until, "reason": "bão"})
    };
    // A year and a day after today (later than the due day, 20/03/2026).
    let today = s
        .state
        .live()
        .today(Timestamp::now())
        .max(jiff::civil::date(2026, 3, 20));
    let latest = today.checked_add(jiff::Span::new().days(366)).unwrap();
    let after_latest = latest.tomorrow().unwrap().to_string();
    let mut control = sub("so-yte", "2026-03-18", "15/BC");
    control["note"] = json!("đã nhận\u{1b}[2J\rroot");
    let mut cr_reference = sub("so-yte", "2026-03-18", "15/BC\rthật");
    cr_reference["note"] = json!("ok");
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/api/v1/submissions",
            sub("so-yte", "-009999-01-01", "x"),
            "received_on: ngày nhận 01/01/-9999 trước khi kỳ báo cáo bắt đầu",
        ),
        (
            "/api/v1/submissions",
            sub("so-yte", "1900-01-01", "x"),
            "trước khi kỳ báo cáo bắt đầu (01/01/2026)",
        ),
        (
            "/api/v1/submissions",
            sub("so-yte", "2025-12-31", "x"),
            "ngày nhận 31/12/2025 trước khi kỳ báo cáo bắt đầu (01/01/2026)",
        ),
        (
            "/api/v1/submissions",
            control,
            "note: ghi chú có ký tự điều khiển",
        ),
        (
            "/api/v1/submissions",
            cr_reference,
            "reference: số văn bản có ký tự điều khiển \\r",
        ),
        (
            "/api/v1/extensions",
            ext("9999-12-31"),
            "until: ngày gia hạn 31/12/9999 quá xa: gia hạn được tối đa đến ",
        ),
        ("/api/v1/extensions", ext(&after_latest), "quá xa"),
        (
            "/api/v1/waivers",
            json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte", "reason": "x\u{0}y"}),
            "reason: lý do có ký tự điều khiển \\0",
        ),
        (
            "/api/v1/submissions",
            json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte"}),
            "thiếu trường `received_on`",
        ),
    ];
    for (path, body, want) in cases {
        let r = post(&s, path, a, body.clone()).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (422, "invalid"),
            "{path} {body}: {r:?}"
        );
        let message = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(
            message.contains(want),
            "{path} {body}: {message}\nwanted: {want}"
        );
    }
    // The bounds themselves are accepted.
    let r = post(&s, "/api/v1/extensions", a, ext(&latest.to_string())).await;
    assert_eq!(r.status, 201, "{r:?}");
    let r = post(
        &s,
        "/api/v1/submissions",
        a,
        sub("so-taichinh", "2026-01-01", "1/BC"),
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    // People read the messages of the other refusals too.
    let r = post(
        &s,
        "/api/v1/submissions",
        &s.yte,
        sub("so-taichinh", "2026-03-18", "x"),
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mã truy cập này chỉ dùng cho đơn vị \"so-yte\""),
        "{r:?}"
    );
    let r = post(
        &s,
        "/api/v1/waivers",
        &s.yte,
        json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": "so-yte", "reason": "x"}),
    )
    .await;
    assert!(r.body.contains("mã truy cập quản trị"), "{r:?}");
    let r = get(&s, "/api/v1/nope", Some(a)).await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
    assert!(r.body.contains("không có đường dẫn này"), "{r:?}");
    let history = s
        .store
        .history(&hanbao::store::HistoryFilter::default())
        .await
        .unwrap();
    assert_eq!(
        history.len(),
        2,
        "only the two accepted writes: {history:?}"
    );
    s.shutdown().await;
}

/// A confirmation link cannot backdate a receipt to before the period.
#[tokio::test]
async fn a_confirmation_link_cannot_backdate_a_receipt() {
    use hanbao::http::link::{LinkKey, LinkScope};
    let s = start(None).await;
    let key = LinkKey::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
    crate::support::turn_on_links(&s.state, &key);
    let link = LinkScope {
        obligation: "bc-quy".into(),
        period: "2026-Q1".into(),
        unit: "so-yte".into(),
        expires: Timestamp::now().as_second() + 86_400,
    };
    let sig = link.sign(&key);
    let e = link.expires.to_string();
    for (on, reference) in [
        ("1900-01-01", "15/BC"),
        ("31/12/2025", "15/BC"),
        ("18/03/2026", "15/BC\u{1b}[2J"),
    ] {
        let r = send(
            &s,
            vec![
                ("o", "bc-quy".into()),
                ("p", "2026-Q1".into()),
                ("u", "so-yte".into()),
                ("e", e.clone()),
                ("s", sig.clone()),
                ("reference", reference.into()),
                ("received_on", on.into()),
            ],
        )
        .await;
        assert_eq!(r.status, 422, "{on}: {r:?}");
        assert!(
            r.body
                .contains("trước ngày bắt đầu của kỳ báo cáo (01/01/2026)")
                || r.body.contains("ký tự điều khiển"),
            "{on}: {}",
            r.body
        );
    }
    assert!(
        s.store
            .history(&hanbao::store::HistoryFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    s.shutdown().await;
}

/// Without a token `/healthz` says only whether the daemon is well, and
/// `/metrics` (overdue units per obligation, failed authentications)
/// answers 401; the details and the numbers need an administrator or
/// metrics token, and unit or feed tokens get 403.
#[tokio::test]
async fn healthz_and_metrics_reveal_nothing_without_a_token() {
    let hb = Heartbeat::new(Instant::now());
    hb.beat(Instant::now());
    let s = start(Some(hb)).await;
    let r = get(&s, "/healthz", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"status": "ok"}));
    let r = get(&s, "/metrics", None).await;
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    assert!(!r.body.contains("hanbao_"), "{}", r.body);
    for secret in [&s.yte, &s.feed_all] {
        for path in ["/metrics", "/healthz"] {
            let r = get(&s, path, Some(secret)).await;
            assert_eq!(
                (r.status, r.error_code().as_str()),
                (403, "forbidden"),
                "{path}"
            );
        }
    }
    for secret in [&s.admin, &s.metrics] {
        let r = get(&s, "/healthz", Some(secret)).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["scheduler"], "ok");
        let r = get(&s, "/metrics", Some(secret)).await;
        assert_eq!(r.status, 200);
        assert!(
            r.body
                .contains("hanbao_overdue_units{obligation=\"bc-thang\"}")
        );
    }
    // A wrong token is a failure, like anywhere else.
    let r = get(&s, "/healthz", Some("hanbao_nope")).await;
    assert_eq!(r.status, 401);
    s.shutdown().await;
}

/// A revoked token and a token that never existed get the same answer:
/// same status, code, message and headers, on the API, the feeds and the
/// metrics.
#[tokio::test]
async fn revoked_and_unknown_tokens_are_indistinguishable() {
    let s = start(None).await;
    let unknown = http::token::generate().unwrap();
    let answer = |r: Resp| {
        let mut headers: Vec<(String, String)> = r
            .headers
            .iter()
            .filter(|(k, _)| k != "date" && k != "content-length")
            .cloned()
            .collect();
        headers.sort();
        (r.status, r.body, headers)
    };
    for path in [Q1.to_string(), "/metrics".to_string()] {
        let revoked = answer(get(&s, &path, Some(&s.revoked)).await);
        let never = answer(get(&s, &path, Some(&unknown)).await);
        assert_eq!(revoked, never, "{path}");
        assert_eq!(revoked.0, 401);
    }
    let feed = |secret: &str| format!("/ics/so-yte.ics?token={secret}");
    let revoked = answer(get(&s, &feed(&s.revoked), None).await);
    let never = answer(get(&s, &feed(&unknown), None).await);
    assert_eq!(revoked, never);
    s.shutdown().await;
}
