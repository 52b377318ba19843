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

use std::net::SocketAddr;
use std::time::Duration;

use hanbao::http::{self, AppState};
use hanbao::store::{
    self, HistoryFilter, Key, NewOutboxRow, NewSubmission, NewToken, Outbox, OutboxKey, OutboxKind,
    OutboxStatus, Outcome, Records, Source, Store, Subject, TokenRole, Tokens,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_needs_an_administrator_session() {
    let s = start().await;
    let r = s.get("/", None).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/dashboard")));
    for path in [
        "/dashboard",
        Q1,
        "/dashboard/export.csv",
        "/dashboard/units/so-yte",
        YTE_Q1,
        "/dashboard/outbox",
    ] {
        let r = s.get(path, None).await;
        assert_eq!(r.status, 303, "{path}");
        assert_eq!(r.header("location"), Some("/dashboard/login"), "{path}");
        // A cookie the server never issued is no session either.
        let r = s
            .get(path, Some("hanbao_session=00112233445566778899"))
            .await;
        assert_eq!(r.status, 303, "{path} with a forged cookie");
    }
    // Posts without a session write nothing.
    for (path, fields) in [
        (
            format!("{YTE_Q1}/submission"),
            vec![("csrf", "x"), ("received_on", "2026-03-19")],
        ),
        (
            format!("{YTE_Q1}/waiver"),
            vec![("csrf", "x"), ("reason", "r")],
        ),
        ("/dashboard/outbox/1/retry".to_string(), vec![("csrf", "x")]),
        ("/dashboard/logout".to_string(), vec![("csrf", "x")]),
    ] {
        let r = s.post(&path, None, &fields).await;
        assert_eq!(r.status, 303, "{path}");
        assert_eq!(r.header("location"), Some("/dashboard/login"));
    }
    assert!(s.history("so-yte").await.is_empty());
    // The login page itself is public, in Vietnamese, for phones, and
    // carries the security headers.
    let r = s.get("/dashboard/login", None).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<html lang=\"vi\">"));
    assert!(r.body.contains("name=\"viewport\""));
    assert!(r.body.contains("Mã quản trị"));
    assert!(!r.body.contains("<script"), "no JavaScript");
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-"),
        "{csp}"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_failures_are_refused_and_limited() {
    let s = start().await;
    let wrong = format!("{}0", &s.admin[..s.admin.len() - 1]);
    let wrong = if wrong == s.admin {
        format!("{}1", &s.admin[..s.admin.len() - 1])
    } else {
        wrong
    };
    let mut failures = 0;
    for (secret, status, text) in [
        (wrong.as_str(), 401, "Mã không đúng hoặc đã bị thu hồi."),
        (s.revoked.as_str(), 401, "Mã không đúng hoặc đã bị thu hồi."),
        ("", 401, "Mã không đúng"),
        (
            s.unit.as_str(),
            403,
            "Mã này là mã của một đơn vị; bảng điều khiển cần mã quản trị.",
        ),
    ] {
        let r = s.post("/dashboard/login", None, &[("token", secret)]).await;
        assert_eq!(r.status, status, "{}", r.body);
        assert!(r.body.contains(text), "{}", r.body);
        assert!(r.header("set-cookie").is_none());
        assert!(
            !r.body.contains(secret) || secret.is_empty(),
            "never echoed"
        );
        if status == 401 {
            failures += 1;
        }
    }
    // Failures count toward the API's limit per client.
    for _ in failures..http::MAX_FAILURES {
        let r = s
            .post("/dashboard/login", None, &[("token", "hanbao_nope")])
            .await;
        assert_eq!(r.status, 401);
    }
    let r = s
        .post("/dashboard/login", None, &[("token", &s.admin)])
        .await;
    assert_eq!(r.status, 429, "even the right token waits: {}", r.body);
    assert!(r.header("retry-after").is_some());
    assert!(r.body.contains("Đăng nhập sai quá nhiều lần"));
    // A login form posted from another site is refused before anything.
    let r = send(
        s.addr,
        "POST",
        "/dashboard/login",
        None,
        &[("Origin", "http://evil.example")],
        Some(&form(&[("token", &s.admin)])),
    )
    .await;
    assert_eq!(r.status, 403);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_a_strict_cookie_and_logout_ends_the_session() {
    let s = start().await;
    let r = s
        .post("/dashboard/login", None, &[("token", &s.admin)])
        .await;
    assert_eq!(r.status, 303);
    let set = r.header("set-cookie").unwrap();
    assert!(set.starts_with("hanbao_session="), "{set}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    let id = set.split(';').next().unwrap()["hanbao_session=".len()..].to_string();
    assert_eq!(id.len(), 64);
    assert!(!id.contains(&s.admin[7..]), "the cookie is not the token");
    let cookie = format!("hanbao_session={id}");
    let page = s.get("/dashboard", Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Đăng xuất (Điều phối)"));
    // Behind an HTTPS proxy the cookie is Secure.
    let r = send(
        s.addr,
        "POST",
        "/dashboard/login",
        None,
        &[("X-Forwarded-Proto", "https")],
        Some(&form(&[("token", &s.admin)])),
    )
    .await;
    assert!(r.header("set-cookie").unwrap().ends_with("; Secure"));
    // Logout needs the CSRF token.
    let r = s
        .post("/dashboard/logout", Some(&cookie), &[("csrf", "bad")])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(s.get("/dashboard", Some(&cookie)).await.status, 200);
    let r = s
        .post(
            "/dashboard/logout",
            Some(&cookie),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/dashboard/login?out=1"));
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    let r = s.get("/dashboard", Some(&cookie)).await;
    assert_eq!(r.status, 303, "the old cookie is dead");
    assert!(
        s.get("/dashboard/login?out=1", None)
            .await
            .body
            .contains("Đã đăng xuất.")
    );
    // Revoking the token ends its sessions at once.
    let cookie = s.login(&s.admin).await;
    assert_eq!(s.get("/dashboard", Some(&cookie)).await.status, 200);
    s.store
        .revoke_token(s.admin_id, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(s.get("/dashboard", Some(&cookie)).await.status, 303);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_matrix_shows_states_filters_and_escapes_hostile_names() {
    let s = start().await;
    s.store
        .record_submission(
            NewSubmission {
                key: Key::new("bc-quy", "2026-Q1", "so-yte"),
                received_on: date(2026, 3, 19),
                received_at: None,
                reference: Some("12/BC-SYT <i>".into()),
                note: None,
                actor: "cli:test".into(),
                source: Source::Cli,
                correction: false,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let cookie = s.login(&s.admin).await;
    let r = s.get(Q1, Some(&cookie)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(cell_state(&r.body, "so-yte"), "submitted_on_time");
    assert!(r.body.contains("Đã nộp 19/03"));
    // 2026-Q1 was due 20/03/2026; the machine's clock is later than that.
    assert_eq!(cell_state(&r.body, "so-taichinh"), "overdue");
    assert!(r.body.contains("Quá hạn "));
    // Hostile names and titles are text, never markup.
    assert!(!r.body.contains("<script>alert"));
    assert!(!r.body.contains("<b>KT-XH"));
    assert!(r.body.contains(
        "Sở Tài chính &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;B&quot;"
    ));
    assert!(r.body.contains("Báo cáo quý &lt;b&gt;KT-XH&lt;/b&gt;"));
    assert!(
        r.body
            .contains("href=\"/dashboard/export.csv?obligation=bc-quy&amp;period=2026-Q1\"")
    );
    // Filters: state, group.
    let r = s.get(&format!("{Q1}&status=overdue"), Some(&cookie)).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("c-so-yte-bc-quy-2026-Q1"));
    assert_eq!(cell_state(&r.body, "so-taichinh"), "overdue");
    assert!(r.body.contains("<option value=\"overdue\" selected>"));
    let r = s.get(&format!("{Q1}&group=khac"), Some(&cookie)).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Không có báo cáo nào phải theo dõi"));
    let r = s.get(&format!("{Q1}&group=so-nganh"), Some(&cookie)).await;
    assert!(r.body.contains("c-so-yte-bc-quy-2026-Q1"));
    // Bad filters: a Vietnamese message, 400.
    for (q, text) in [
        ("?group=nope", "Không có nhóm \"nope\""),
        ("?status=late", "Không có trạng thái \"late\""),
        ("?period=2026-Q5", "không đúng dạng"),
        ("?obligation=bc-qy", "có phải ý là"),
    ] {
        let r = s.get(&format!("/dashboard{q}"), Some(&cookie)).await;
        assert_eq!(r.status, 400, "{q}");
        let text = text.replace('"', "&quot;");
        assert!(r.body.contains(&text), "{q}: {}", r.body);
    }
    // The unit page: current periods and history, escaped.
    let r = s.get("/dashboard/units/so-yte", Some(&cookie)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("số văn bản 12/BC-SYT &lt;i&gt;"));
    assert!(r.body.contains("cli:test"));
    let r = s.get("/dashboard/units/so-taichinh", Some(&cookie)).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("<script>alert"));
    assert!(r.body.contains("Chưa có ghi nhận nào."));
    let r = s.get("/dashboard/units/so-yt", Some(&cookie)).await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("Không có đơn vị"));
    // A report that is not owed, a period that does not exist.
    for path in [
        "/dashboard/units/ubnd-tinh/bc-quy/2026-Q1",
        "/dashboard/units/so-yte/bc-quy/2026-Q7",
        "/dashboard/units/so-yte/bc-khac/2026-Q1",
    ] {
        let r = s.get(path, Some(&cookie)).await;
        assert_eq!(r.status, 404, "{path}");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_export_is_hanbao_status_csv() {
    let s = start().await;
    let cookie = s.login(&s.admin).await;
    let r = s
        .get(
            "/dashboard/export.csv?obligation=bc-quy&period=2026-Q1",
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    assert!(
        r.bytes
            .starts_with("\u{feff}Nghĩa vụ,Tên nghĩa vụ,Kỳ".as_bytes())
    );
    assert!(r.body.contains("\r\n"));
    // Byte for byte what `hanbao status --csv` writes for the same rows.
    let live = s.state.live();
    let today = live.today(Timestamp::now());
    let rows = tracking::status(
        &s.store,
        &live.cfg,
        &live.cal,
        &Selection {
            obligation: Some("bc-quy".into()),
            period: Some("2026-Q1".into()),
            unit: None,
        },
        today,
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(r.bytes, hanbao::commands::status::csv(&rows));
    // Filters apply; bad ones are refused.
    let r = s
        .get(
            "/dashboard/export.csv?period=2026-Q1&status=waived",
            Some(&cookie),
        )
        .await;
    assert_eq!(r.body.lines().count(), 1, "header only: {}", r.body);
    let r = s.get("/dashboard/export.csv?group=x", Some(&cookie)).await;
    assert_eq!(r.status, 400);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_check_csrf_origin_and_input_then_write_and_redirect() {
    let s = start().await;
    let cookie = s.login(&s.admin).await;
    let page = s.get(YTE_Q1, Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Ghi nhận đã nhận báo cáo"));
    let csrf = page.csrf();
    let sub = format!("{YTE_Q1}/submission");
    let good = [
        ("csrf", csrf.as_str()),
        ("reference", "15/BC-SYT <img src=x onerror=alert(1)>"),
        ("received_on", "19/03/2026"),
    ];
    // Wrong or missing CSRF token: 403, nothing written.
    for bad in ["", "0000", &csrf[1..]] {
        let mut f = good.to_vec();
        f[0].1 = bad;
        let r = s.post(&sub, Some(&cookie), &f).await;
        assert_eq!(r.status, 403, "csrf {bad:?}");
        assert!(r.body.contains("Biểu mẫu không hợp lệ"));
    }
    // Cross-origin: 403 even with the right token and cookie.
    for (k, v) in [
        ("Origin", "http://evil.example"),
        ("Origin", "null"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let r = send(
            s.addr,
            "POST",
            &sub,
            Some(&cookie),
            &[(k, v)],
            Some(&form(&good)),
        )
        .await;
        assert_eq!(r.status, 403, "{k}: {v}");
        assert!(r.body.contains("Yêu cầu bị từ chối"));
    }
    // Bad input: the form again with a Vietnamese message, 422.
    let long = "x".repeat(201);
    for (field, value, text) in [
        ("received_on", "31/02/2026", "không tồn tại"),
        ("received_on", "hôm qua", "Ngày nhận"),
        ("received_on", "", "chưa ghi ngày"),
        ("received_on", "01/01/2099", "ở sau hôm nay"),
        ("reference", long.as_str(), "Số văn bản dài quá 200 ký tự"),
    ] {
        let mut f = good.to_vec();
        let i = f.iter().position(|(k, _)| *k == field).unwrap();
        f[i].1 = value;
        let r = s.post(&sub, Some(&cookie), &f).await;
        assert_eq!(r.status, 422, "{field}={value:?}: {}", r.body);
        assert!(r.body.contains(text), "{field}={value:?}: {}", r.body);
        assert!(r.body.contains("role=\"alert\""));
    }
    assert!(s.history("so-yte").await.is_empty(), "nothing half-written");
    // The good form: 303 back to the report's page, with a flash once.
    let r = s.post(&sub, Some(&cookie), &good).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some(YTE_Q1));
    let after = s.get(YTE_Q1, Some(&cookie)).await;
    assert!(
        after.body.contains("Đã ghi: đã nhận báo cáo."),
        "{}",
        after.body
    );
    assert!(after.body.contains("data-state=\"submitted_on_time\""));
    assert!(
        after
            .body
            .contains("15/BC-SYT &lt;img src=x onerror=alert(1)&gt;")
    );
    assert!(!after.body.contains("<img"));
    assert!(!s.get(YTE_Q1, Some(&cookie)).await.body.contains("Đã ghi:"));
    let events = s.history("so-yte").await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.actor, format!("token:{}:Điều phối", s.admin_id));
    assert_eq!(e.source, Source::Web);
    assert_eq!(e.received_on, Some(date(2026, 3, 19)));
    // The same again: harmless; a different one: 409 until marked a correction.
    let r = s.post(&sub, Some(&cookie), &good).await;
    assert_eq!(r.status, 303);
    let other = [
        ("csrf", csrf.as_str()),
        ("reference", "16/BC-SYT"),
        ("received_on", "2026-03-20"),
    ];
    let r = s.post(&sub, Some(&cookie), &other).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("Đã có ghi nhận khác"));
    assert!(r.body.contains("value=\"16/BC-SYT\""), "typed text kept");
    let mut fix = other.to_vec();
    fix.push(("correction", "1"));
    assert_eq!(s.post(&sub, Some(&cookie), &fix).await.status, 303);
    assert_eq!(s.history("so-yte").await.len(), 2);

    // Extension for the other unit.
    let tc = "/dashboard/units/so-taichinh/bc-quy/2026-Q1";
    let ext = format!("{tc}/extension");
    for (until, reason, text) in [
        ("2026-02-30", "r", "không tồn tại"),
        ("20/03/2026", "r", "phải sau hạn gốc 20/03/2026"),
        ("2026-04-30", "  ", "Lý do gia hạn không được để trống"),
    ] {
        let r = s
            .post(
                &ext,
                Some(&cookie),
                &[("csrf", &csrf), ("until", until), ("reason", reason)],
            )
            .await;
        assert_eq!(r.status, 422, "{until} {reason:?}: {}", r.body);
        assert!(r.body.contains(text), "{}", r.body);
    }
    assert!(s.history("so-taichinh").await.is_empty());
    let r = s
        .post(
            &ext,
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("until", "2099-04-30"),
                ("reason", "Công văn 5/UBND"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let ev = s.history("so-taichinh").await;
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].subject, ev[0].due_on),
        (Subject::Extension, Some(date(2099, 4, 30)))
    );
    let page = s.get(tc, Some(&cookie)).await;
    assert!(page.body.contains("Đã ghi: gia hạn đến 30/04/2099."));
    assert!(page.body.contains("data-state=\"extended\""));
    // Waiver.
    let wv = format!("{tc}/waiver");
    let r = s
        .post(&wv, Some(&cookie), &[("csrf", &csrf), ("reason", "")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Lý do miễn nộp không được để trống"));
    let r = s
        .post(
            &wv,
            Some(&cookie),
            &[("csrf", &csrf), ("reason", "Sáp nhập <đơn vị>")],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = s.get(tc, Some(&cookie)).await;
    assert!(page.body.contains("data-state=\"waived\""));
    assert!(page.body.contains("Sáp nhập &lt;đơn vị&gt;"));
    // A report that is not owed: 404, nothing written.
    let r = s
        .post(
            "/dashboard/units/ubnd-tinh/bc-quy/2026-Q1/waiver",
            Some(&cookie),
            &[("csrf", &csrf), ("reason", "x")],
        )
        .await;
    assert_eq!(r.status, 404);
    assert!(s.history("ubnd-tinh").await.is_empty());
    // A body that is not a form.
    let r = send(
        s.addr,
        "POST",
        &wv,
        Some(&cookie),
        &[("Content-Type", "application/json")],
        None,
    )
    .await;
    assert_eq!(r.status, 400);
    s.shutdown().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_lists_failures_and_the_retry_button_puts_one_back() {
    let s = start().await;
    let t0 = Timestamp::from_second(1_700_000_000).unwrap();
    s.store
        .enqueue(
            vec![
                outbox_row("so-yte", "a@x.vn"),
                outbox_row("so-taichinh", "b@x.vn"),
            ],
            t0,
        )
        .await
        .unwrap();
    let claimed = s
        .store
        .claim("d", t0, Timestamp::from_second(1_700_000_900).unwrap(), 1)
        .await
        .unwrap();
    let failed = claimed[0].id;
    assert!(
        s.store
            .finish(
                failed,
                "d",
                Outcome::Failed {
                    error: "550 5.1.1 <a@x.vn>: no such user".into()
                },
                t0
            )
            .await
            .unwrap()
    );
    let cookie = s.login(&s.admin).await;
    let r = s.get("/dashboard/outbox", Some(&cookie)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Gửi lỗi (không tự gửi lại) (1)"));
    assert!(r.body.contains("Chờ gửi (1)"));
    assert!(r.body.contains("550 5.1.1 &lt;a@x.vn&gt;: no such user"));
    let retry = format!("/dashboard/outbox/{failed}/retry");
    assert!(r.body.contains(&format!("action=\"{retry}\"")));
    let csrf = r.csrf();
    // Bad CSRF, cross-origin: refused, still failed.
    assert_eq!(
        s.post(&retry, Some(&cookie), &[("csrf", "nope")])
            .await
            .status,
        403
    );
    let r = send(
        s.addr,
        "POST",
        &retry,
        Some(&cookie),
        &[("Origin", "https://evil.example")],
        Some(&form(&[("csrf", &csrf)])),
    )
    .await;
    assert_eq!(r.status, 403);
    let status_of = |rows: Vec<store::OutboxRow>| {
        rows.into_iter()
            .find(|r| r.id == failed)
            .map(|r| r.status)
            .unwrap()
    };
    assert_eq!(
        status_of(s.store.outbox(None).await.unwrap()),
        OutboxStatus::Failed
    );
    // The button.
    let r = s.post(&retry, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/dashboard/outbox"));
    assert_eq!(
        status_of(s.store.outbox(None).await.unwrap()),
        OutboxStatus::Pending
    );
    let page = s.get("/dashboard/outbox", Some(&cookie)).await;
    assert!(
        page.body
            .contains(&format!("Thư #{failed} sẽ được gửi lại"))
    );
    assert!(page.body.contains("Gửi lỗi (không tự gửi lại) (0)"));
    assert!(page.body.contains("Chờ gửi (2)"));
    // Again: nothing to retry, said so.
    let r = s.post(&retry, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    let page = s.get("/dashboard/outbox", Some(&cookie)).await;
    assert!(page.body.contains("không còn ở trạng thái gửi lỗi"));
    let r = s
        .post(
            "/dashboard/outbox/abc/retry",
            Some(&cookie),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 404);
    s.shutdown().await;
}

/// Where the end-to-end screenshots go: `target/e2e/`.
fn e2e_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The story in a real browser: log in with the administrator token, open
/// the matrix, follow a cell to its report, record the receipt through the
/// form, see the cell change; screenshots of the desktop and phone layouts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_an_administrator_records_a_receipt_and_sees_the_cell_change() {
    let s = start().await;
    let base = format!("http://{}", s.addr);
    let admin = s.admin.clone();
    let dir = e2e_dir();
    let shots = tokio::task::spawn_blocking(move || {
        let b = Browser::start();
        b.goto(&format!("{base}/dashboard"));
        assert!(b.url().ends_with("/dashboard/login"), "{}", b.url());
        let field = b.find("input[name=token]");
        b.type_text(&field, &admin);
        b.click(&b.find("form[action='/dashboard/login'] button[type=submit]"));
        b.wait_for_url("/dashboard");
        b.goto(&format!("{base}{Q1}"));
        let cell = "#c-so-yte-bc-quy-2026-Q1";
        let before = b.attr(&b.find(cell), "data-state").unwrap();
        assert!(
            ["overdue", "due_soon", "open", "not_open"].contains(&before.as_str()),
            "{before}"
        );
        b.click(&b.find(&format!("{cell} a")));
        b.wait_for_url(YTE_Q1);
        let reference = b.find("form[action$='/submission'] input[name=reference]");
        b.type_text(&reference, "123/BC-SYT");
        b.click(&b.find("form[action$='/submission'] button[type=submit]"));
        let flash = b.wait_for_text(".flash.ok");
        assert_eq!(flash, "Đã ghi: đã nhận báo cáo.");
        let report = b.screenshot();
        b.goto(&format!("{base}{Q1}"));
        let el = b.find(cell);
        let after = b.attr(&el, "data-state").unwrap();
        assert!(after.starts_with("submitted_"), "{after}");
        let text = b.text(&el);
        assert!(
            text.starts_with("Nộp muộn") || text.starts_with("Đã nộp"),
            "{text}"
        );
        let desktop = b.screenshot();
        b.set_window(390, 844);
        let phone = b.screenshot();
        [desktop, phone, report]
    })
    .await
    .unwrap();
    let names = [
        "dashboard.png",
        "dashboard-phone.png",
        "dashboard-report.png",
    ];
    for (name, png) in names.iter().zip(&shots) {
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
        assert!(png.len() > 5_000, "{name}: {} bytes", png.len());
        std::fs::write(dir.join(name), png).unwrap();
    }
    let events = s.history("so-yte").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].reference.as_deref(), Some("123/BC-SYT"));
    assert_eq!(events[0].source, Source::Web);
    assert_eq!(events[0].actor, format!("token:{}:Điều phối", s.admin_id));
    s.shutdown().await;
}
