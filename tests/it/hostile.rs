//! Hostile clients against the real binary (`hanbao run`, started by
//! `support::procs::Daemon`) over real sockets on 127.0.0.1: silent
//! sockets and slowloris heads and bodies, hundreds of idle connections,
//! connections beyond the cap, oversized heads and bodies.
//!
//! Each scenario runs with short server timeouts from the configuration
//! (`http_header_timeout_secs = 2`, `http_request_timeout_secs = 2`) and
//! a [`Probe`] that, while the attack runs, asks `/healthz` (must stay 200)
//! and makes an authorised API read (must answer 200 in under
//! [`API_BOUND`]). That bound is generous on purpose: the read takes a few
//! milliseconds on an idle machine, and `cargo test` runs this file beside
//! the rest of the suite on as few as two cores; a server that lets the
//! attack through (a full file table, a starved pool) misses it by seconds.
//! The scenarios take a lock so that they run one at a time (their
//! attacks would otherwise add up), and each is bounded in time and count.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::procs::Daemon;
use hanbao::store::Outbox;

/// What an authorised API read may take while an attack runs.
const API_BOUND: Duration = Duration::from_secs(1);
/// The server timeouts the scenarios configure.
const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// One scenario at a time (see the module doc).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const UNITS: &str = r#"
[[unit]]
id = "ubnd-tinh"
name = "UBND tỉnh"
email = "vanthu@ubnd.quangngai.example"

[[unit]]
id = "so-yte"
name = "Sở Y tế"
email = "vanthu@soyte.quangngai.example"
supervisor = "ubnd-tinh"

[[unit]]
id = "so-taichinh"
name = "Sở Tài chính"
email = "vanthu@sotc.quangngai.example"
supervisor = "ubnd-tinh"

[[obligation]]
id = "bc-thang"
title = "Báo cáo tháng"
reporters = ["so-yte", "so-taichinh"]
recipient = "ubnd-tinh"
cycle = "monthly"
due = "ngày 20"
"#;

/// A running `hanbao run` and what the scenarios need of it.
struct Target {
    daemon: Daemon,
    addr: SocketAddr,
    /// An administrator token's secret.
    admin: String,
    config: PathBuf,
    database: String,
    dir: tempfile::TempDir,
}

impl Target {
    /// Starts the daemon with `[daemon]` lines `extra` besides the short
    /// timeouts, waits until `/healthz` answers 200.
    async fn start(extra: &str) -> Target {
        Target::start_seeded(extra, 0).await
    }

    /// [`Target::start`] on a database that already holds `outbox_rows`
    /// rows in its outbox (sent long ago: what years of reminders leave).
    async fn start_seeded(extra: &str, outbox_rows: usize) -> Target {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("hanbao.toml");
        std::fs::write(
            &config,
            format!(
                "[daemon]\nhttp_listen = \"127.0.0.1:0\"\n\
                 http_header_timeout_secs = {}\nhttp_request_timeout_secs = {}\n{extra}\n{UNITS}",
                HEADER_TIMEOUT.as_secs(),
                REQUEST_TIMEOUT.as_secs()
            ),
        )
        .unwrap();
        let database = format!("sqlite://{}/hanbao.db", dir.path().display());
        if outbox_rows > 0 {
            seed_outbox(&database, outbox_rows).await;
        }
        let mut t = Target {
            daemon: Daemon::spawn("hostile", &config, &database, dir.path()),
            addr: "127.0.0.1:1".parse().unwrap(),
            admin: String::new(),
            config,
            database,
            dir,
        };
        t.daemon
            .wait_for_log("giao diện web (HTTP) đang nghe", Duration::from_secs(20))
            .await;
        const LISTENING: &str = "giao diện web (HTTP) đang nghe addr=";
        let log = t.daemon.log();
        let at = log.find(LISTENING).expect("the address in the log") + LISTENING.len();
        t.addr = log[at..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        t.admin = t.token(&["--admin"]);
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(r) = get(t.addr, "/healthz", None).await
                && r.status == 200
            {
                break;
            }
            assert!(Instant::now() < end, "no /healthz 200:\n{}", t.daemon.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        t
    }

    /// `hanbao token create ARGS --name ...` on the daemon's database: the secret.
    fn token(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .arg("--config")
            .arg(&self.config)
            .args(["token", "create"])
            .args(args)
            .args(["--name", "hostile"])
            .env("HANBAO_DATABASE", &self.database)
            .env("HANBAO_STATE_DIR", self.dir.path().join("cli-state"))
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text.lines()
            .find(|l| l.starts_with("hanbao_"))
            .unwrap_or_else(|| panic!("no secret in {text}"))
            .to_string()
    }

    /// The daemon's resident memory, in KiB (`VmRSS`).
    fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.daemon.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// Sockets the daemon holds open (its `/proc/PID/fd` entries that are sockets).
    fn sockets(&self) -> usize {
        let dir = PathBuf::from(format!("/proc/{}/fd", self.daemon.pid()));
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| {
                        std::fs::read_link(e.path())
                            .is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
                    })
                    .count()
            })
            .unwrap_or(0)
    }
}

/// Writes `n` skipped outbox rows (each its own recipient) in batches.
async fn seed_outbox(database: &str, n: usize) {
    use hanbao::store::{NewOutboxRow, OutboxKey, OutboxKind, OutboxStatus};
    let store = hanbao::store::open(database).await.unwrap();
    let now = jiff::Timestamp::now();
    let kinds = [
        OutboxKind::Reminder,
        OutboxKind::DueToday,
        OutboxKind::Overdue,
        OutboxKind::Escalation,
    ];
    for start in (0..n).step_by(10_000) {
        let rows = (start..n.min(start + 10_000))
            .map(|i| NewOutboxRow {
                key: OutboxKey {
                    obligation: "bc-thang".into(),
                    period: format!("2020-{:02}", i % 12 + 1),
                    unit: ["so-yte", "so-taichinh"][i % 2].into(),
                    kind: kinds[i % 4],
                    stage: 0,
                    recipient: format!("nguoi-nhan-{i}@donvi.example"),
                },
                rank: 0,
                due_on: jiff::civil::date(2020, 1, 20),
                status: OutboxStatus::Skipped,
                next_attempt_at: now,
            })
            .collect();
        store.enqueue(rows, now).await.unwrap();
    }
    store.close().await;
}

#[derive(Debug)]
struct Resp {
    status: u16,
    body: String,
}

/// One request on its own connection (`Connection: close`), with
/// `headers` (each `Name: value`) and an optional body; `None` when the
/// server did not answer within 5 s or closed without an answer.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[String],
    body: Option<&[u8]>,
) -> Option<Resp> {
    request_within(Duration::from_secs(5), addr, method, path, headers, body).await
}

/// [`request`], waiting at most `wait` for the answer.
async fn request_within(
    wait: Duration,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[String],
    body: Option<&[u8]>,
) -> Option<Resp> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    if let Some(b) = body {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    let exchange = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        let _ = s.write_all(&bytes).await;
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf).await;
        parse(&buf)
    };
    tokio::time::timeout(wait, exchange).await.ok().flatten()
}

fn parse(buf: &[u8]) -> Option<Resp> {
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..split]);
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some(Resp {
        status,
        body: String::from_utf8_lossy(&buf[split + 4..]).into_owned(),
    })
}

async fn get(addr: SocketAddr, path: &str, bearer: Option<&str>) -> Option<Resp> {
    let auth: Vec<String> = bearer
        .map(|b| format!("Authorization: Bearer {b}"))
        .into_iter()
        .collect();
    request(addr, "GET", path, &auth, None).await
}

/// `/healthz` and an authorised API read, over and over while an attack
/// runs; [`Probe::finish`] checks every answer.
struct Probe {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<String>>,
}

impl Probe {
    fn start(t: &Target) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let (addr, admin, flag) = (t.addr, t.admin.clone(), stop.clone());
        let task = tokio::spawn(async move {
            let mut problems = Vec::new();
            let mut rounds = 0;
            while !flag.load(Ordering::Relaxed) || rounds < 3 {
                rounds += 1;
                match get(addr, "/healthz", None).await {
                    Some(r) if r.status == 200 && r.body.contains("\"ok\"") => {}
                    other => problems.push(format!("/healthz: {other:?}")),
                }
                let t0 = Instant::now();
                let r = get(addr, "/api/v1/status?obligation=bc-thang", Some(&admin)).await;
                let took = t0.elapsed();
                match r {
                    Some(r) if r.status == 200 && took < API_BOUND => {}
                    other => problems.push(format!("API read in {took:?}: {other:?}")),
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            problems
        });
        Probe { stop, task }
    }

    /// Stops probing; panics with every failed or slow answer.
    async fn finish(self, what: &str) {
        self.stop.store(true, Ordering::Relaxed);
        let problems = self.task.await.unwrap();
        assert!(problems.is_empty(), "{what}: {problems:#?}");
    }
}

/// Whether the server closed `s` (EOF or reset) before `deadline`;
/// anything it sends first (a 408) is read and dropped.
async fn closed_by(s: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Opens `n` connections to `addr` (all of them, or panics).
async fn connect_many(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(TcpStream::connect(addr).await.expect("connect"));
    }
    out
}

/// Silent sockets and slowloris: a hundred connections that never send a
/// byte, a hundred that send a request head one byte every 300 ms and a
/// hundred that do the same with a form body. While they run the daemon
/// stays healthy, and it closes every one of them: the silent and slow
/// heads after the header timeout (hyper's timer runs from the connection's
/// opening, so a first-byte deadline), the slow bodies after the request
/// timeout (408).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_heads_bodies_and_silent_sockets_are_cut_off() {
    let _serial = SERIAL.lock().await;
    let t = Target::start("").await;
    let probe = Probe::start(&t);
    let t0 = Instant::now();
    let mut silent = connect_many(t.addr, 100).await;
    let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec();
    let body_head = b"POST /dashboard/login HTTP/1.1\r\nHost: x\r\n\
        Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\ntoken="
        .to_vec();
    let mut dribblers = Vec::new();
    for (i, mut s) in connect_many(t.addr, 200).await.into_iter().enumerate() {
        let (start, slow) = if i % 2 == 0 {
            (Vec::new(), head.clone())
        } else {
            (body_head.clone(), vec![b'a'; 60])
        };
        dribblers.push(tokio::spawn(async move {
            // The body's head in one go, then one byte every 300 ms until
            // the server closes (a write or a read fails) or 10 s pass.
            let _ = s.write_all(&start).await;
            let deadline = Instant::now() + Duration::from_secs(10);
            for b in slow {
                if s.write_all(&[b]).await.is_err() {
                    return Some(Instant::now());
                }
                let mut buf = [0u8; 256];
                match tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return Some(Instant::now()),
                    _ => {}
                }
                if Instant::now() > deadline {
                    break;
                }
            }
            None
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    probe.finish("during slowloris").await;
    // Every connection closed within the timeouts (plus scheduling slack).
    let deadline = t0 + HEADER_TIMEOUT.max(REQUEST_TIMEOUT) + Duration::from_secs(4);
    let mut open = 0;
    for s in &mut silent {
        if !closed_by(s, deadline).await {
            open += 1;
        }
    }
    assert_eq!(
        open,
        0,
        "silent sockets still open after {:?}",
        t0.elapsed()
    );
    let mut slow_open = 0;
    for d in dribblers {
        match d.await.unwrap() {
            Some(at) if at <= deadline => {}
            _ => slow_open += 1,
        }
    }
    assert_eq!(slow_open, 0, "slow heads or bodies not cut off in time");
}

/// 500 idle connections (480 that never send anything, 20 kept alive
/// after one request) under a cap of 600: the daemon stays healthy and
/// closes every one after the header timeout, the kept-alive ones too
/// (hyper restarts the timer after each response).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_idle_connections_are_harmless_and_closed() {
    let _serial = SERIAL.lock().await;
    let t = Target::start("http_max_connections = 600").await;
    let probe = Probe::start(&t);
    let t0 = Instant::now();
    let mut idle = connect_many(t.addr, 480).await;
    for mut s in connect_many(t.addr, 20).await {
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "kept-alive request");
        idle.push(s);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    probe.finish("with 500 idle connections").await;
    let deadline = t0 + HEADER_TIMEOUT + Duration::from_secs(4);
    let mut open = 0;
    for s in &mut idle {
        if !closed_by(s, deadline).await {
            open += 1;
        }
    }
    assert_eq!(
        open,
        0,
        "idle connections still open after {:?}",
        t0.elapsed()
    );
}

/// Beyond `http_max_connections` a connection waits in the kernel's
/// backlog: with a cap of 20 and 60 silent clients the daemon never holds
/// more than 20 of them, a request made meanwhile is answered once the
/// silent ones are cut off, and all 60 are closed in the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_and_hold_no_descriptor() {
    let _serial = SERIAL.lock().await;
    let t = Target::start("http_max_connections = 20").await;
    let before = t.sockets();
    let mut silent = connect_many(t.addr, 60).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = t.sockets().saturating_sub(before);
    assert!(held <= 20, "the daemon holds {held} sockets beyond its own");
    // A request behind them is served when slots free up: within three
    // rounds of the header timeout, not at once.
    let t0 = Instant::now();
    let r = request_within(
        HEADER_TIMEOUT * 3 + Duration::from_secs(4),
        t.addr,
        "GET",
        "/healthz",
        &[],
        None,
    )
    .await;
    assert!(
        matches!(&r, Some(r) if r.status == 200),
        "{r:?} after {:?}",
        t0.elapsed()
    );
    let deadline = Instant::now() + HEADER_TIMEOUT * 3 + Duration::from_secs(4);
    let mut open = 0;
    for s in &mut silent {
        if !closed_by(s, deadline).await {
            open += 1;
        }
    }
    assert_eq!(open, 0);
}

/// Oversized requests are refused early: a 40 KiB header or 200 headers
/// (431, the head is at most 32 KiB), a 10 MB declared body and an endless
/// chunked body (413 at 64 KiB), while the daemon stays healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_heads_and_bodies_are_refused() {
    let _serial = SERIAL.lock().await;
    let t = Target::start("").await;
    let probe = Probe::start(&t);
    let auth = format!("Authorization: Bearer {}", t.admin);
    let big = format!("X-Big: {}", "a".repeat(40 * 1024));
    let r = request(t.addr, "GET", "/healthz", &[big], None).await;
    assert_eq!(r.map(|r| r.status), Some(431), "a 40 KiB header");
    let many: Vec<String> = (0..200).map(|i| format!("X-H{i}: v")).collect();
    let r = request(t.addr, "GET", "/healthz", &many, None).await;
    assert_eq!(r.map(|r| r.status), Some(431), "200 headers");

    // A declared 10 MB body: refused before it is read.
    let mut s = TcpStream::connect(t.addr).await.unwrap();
    s.write_all(
        format!(
            "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\n{auth}\r\n\
             Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let _ = s.write_all(&vec![b' '; 256 * 1024]).await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    assert_eq!(parse(&buf).map(|r| r.status), Some(413), "declared 10 MB");

    // A chunked body that never ends: refused at the limit.
    let mut s = TcpStream::connect(t.addr).await.unwrap();
    s.write_all(
        format!(
            "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\n{auth}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
    let mut status = None;
    for _ in 0..64 {
        if s.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
        let mut buf = [0u8; 4096];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(20), s.read(&mut buf)).await {
            status = parse(&buf[..n]).map(|r| r.status);
            break;
        }
    }
    if status.is_none() {
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
        status = parse(&buf).map(|r| r.status);
    }
    assert_eq!(status, Some(413), "endless chunked body");
    probe.finish("with oversized requests").await;
}

/// A failed dashboard login from `client` behind the simulated proxy:
/// its status.
async fn login_from(addr: SocketAddr, client: &str, secret: &str) -> Option<u16> {
    let headers = [
        format!("X-Forwarded-For: {client}"),
        "Content-Type: application/x-www-form-urlencoded".to_string(),
    ];
    let body = format!("token={secret}");
    request(
        addr,
        "POST",
        "/dashboard/login",
        &headers,
        Some(body.as_bytes()),
    )
    .await
    .map(|r| r.status)
}

/// Failed logins from many addresses behind a reverse proxy (the test's
/// requests all come from 127.0.0.1, named in `trusted_proxies`, with the
/// client in `X-Forwarded-For`): 150 clients failing three times each and
/// one failing 40 times, eight at a time. Only the persistent client is
/// refused (429 from its eleventh failure), the others keep getting 401,
/// and the right token logs in, reads the API and a unit's feed from any
/// of them, the persistent one included, while `/healthz` stays 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_behind_a_proxy_refuse_only_the_failing_client() {
    let _serial = SERIAL.lock().await;
    let t = Target::start("trusted_proxies = [\"127.0.0.1\"]").await;
    let probe = Probe::start(&t);
    let mut clients: Vec<String> = (0..150)
        .flat_map(|i| std::iter::repeat_n(format!("198.51.100.{}", i % 250), 3))
        .collect();
    clients.sort();
    let work = Arc::new(std::sync::Mutex::new(clients));
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (work, addr) = (work.clone(), t.addr);
        workers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let Some(client) = work.lock().unwrap().pop() else {
                    return got;
                };
                got.push(login_from(addr, &client, "hanbao_wrong").await);
            }
        }));
    }
    let persistent = "203.0.113.66";
    let mut hammer = Vec::new();
    for _ in 0..40 {
        hammer.push(login_from(t.addr, persistent, "hanbao_wrong").await);
    }
    for w in workers {
        let got = w.await.unwrap();
        assert!(got.iter().all(|s| *s == Some(401)), "{got:?}");
    }
    assert!(hammer[..10].iter().all(|s| *s == Some(401)), "{hammer:?}");
    assert!(hammer[10..].iter().all(|s| *s == Some(429)), "{hammer:?}");
    // The right token: from the refused client and from another; a
    // unit's calendar feed too.
    let feed = t.token(&["--feed", "--unit", "so-yte"]);
    for client in [persistent, "198.51.100.1"] {
        let headers = [format!("X-Forwarded-For: {client}")];
        let path = format!("/ics/so-yte.ics?token={feed}");
        let r = request(t.addr, "GET", &path, &headers, None).await;
        assert_eq!(r.map(|r| r.status), Some(200), "feed from {client}");
        assert_eq!(
            login_from(t.addr, client, &t.admin).await,
            Some(303),
            "login from {client}"
        );
        let headers = [
            format!("X-Forwarded-For: {client}"),
            format!("Authorization: Bearer {}", t.admin),
        ];
        let r = request(t.addr, "GET", "/api/v1/status", &headers, None).await;
        assert_eq!(r.map(|r| r.status), Some(200), "API from {client}");
    }
    probe.finish("during failed logins").await;
}

/// Parallel scrapes of `/metrics` on a database with 60,000 outbox rows:
/// sixteen scrapers for three seconds. The figures come from aggregate
/// queries and are computed once for all of them (no scrape reads the
/// rows), so every scrape answers, the daemon's memory stays flat (under
/// 64 MiB more; reading every row per scrape took gigabytes), and
/// `/healthz` and the API stay responsive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_metrics_scrapes_on_a_large_outbox_stay_cheap() {
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let t = Target::start_seeded("", 60_000).await;
    eprintln!(
        "60,000 outbox rows written and the daemon started in {:?}",
        t0.elapsed()
    );
    let metrics = t.token(&["--metrics"]);
    let rss_before = t.rss_kib();
    let probe = Probe::start(&t);
    let end = Instant::now() + Duration::from_secs(3);
    let mut scrapers = Vec::new();
    for _ in 0..16 {
        let (addr, metrics) = (t.addr, metrics.clone());
        scrapers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while Instant::now() < end {
                let r = get(addr, "/metrics", Some(&metrics)).await;
                got.push(r.map(|r| (r.status, r.body.contains("hanbao_outbox_pending 0\n"))));
            }
            got
        }));
    }
    let mut rss_peak = rss_before;
    while Instant::now() < end {
        rss_peak = rss_peak.max(t.rss_kib());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut scrapes = 0;
    for s in scrapers {
        let got = s.await.unwrap();
        assert!(got.iter().all(|r| *r == Some((200, true))), "{got:?}");
        scrapes += got.len();
    }
    probe.finish("during parallel scrapes").await;
    let grew = rss_peak.saturating_sub(rss_before);
    eprintln!("{scrapes} scrapes in 3 s by 16 clients; resident memory grew by {grew} KiB");
    assert!(grew < 64 * 1024, "resident memory grew by {grew} KiB");
    let r = get(t.addr, "/metrics", Some(&metrics)).await.unwrap();
    assert!(
        r.body
            .contains("\nhanbao_overdue_units_refreshes_total 1\n"),
        "{scrapes} scrapes, one computation: {}",
        r.body
    );
}
