//! The coordinator's view at national scale, both backends:
//! `cargo bench --bench dashboard` (release; needs chromium and
//! chromedriver on PATH and PostgreSQL's binaries, as the tests do).
//!
//! The national configuration (`testkit::national`: 4,000 units, 22
//! obligations, a daily and a weekly one among them) on a database holding,
//! for the latest period of every report, submissions of 3 units in 4 (1 in
//! 10 corrected), extensions, waivers and revocations, some 10,000 outbox
//! rows (sent, failed, retried, pending), and 1,000,000 bulk-loaded history
//! rows (`testkit::history`, older periods of other report ids: they weigh
//! on the tables and indexes). The earlier periods of the year's look-back
//! are left unsettled: every unit owes about 250 daily and 50 weekly
//! reports, the worst case for the summary and the matrix. Then the
//! statistics are refreshed (`ANALYZE`, `VACUUM ANALYZE` on PostgreSQL) as
//! autovacuum would.
//!
//! The server is started as the daemon starts it (`http::start`, which
//! computes `/metrics`' gauges in the background), on 127.0.0.1; each page
//! is fetched over real TCP with an administrator's session (the API with
//! its bearer token) and timed from the request to the last byte (the
//! first fetch, then the median of [`ROUNDS`]). `/metrics` is also timed on
//! a second server without that warm-up (`http::serve`), whose first scrape
//! computes the gauges. Last, headless chromium (WebDriver) loads the
//! summary and the heaviest matrix page; the figure is the page's own
//! `performance.getEntriesByType('navigation')[0].loadEventEnd`. Each figure
//! is printed against its target.

#[path = "../tests/it/support/browser.rs"]
mod browser;
/// What `browser.rs` finds as `super::http`.
mod http {
    pub use testkit::http::*;
}

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hanbao::calendar::WorkCalendar;
use hanbao::config::model::Config;
use hanbao::http::AppState;
use hanbao::live::Live;
use hanbao::store::{
    self, Key, NewExtension, NewOutboxRow, NewSubmission, NewToken, NewWaiver, OutboxKey,
    OutboxKind, OutboxStatus, Outcome, Revocation, Source, Store, Subject, TokenRole,
};
use hanbao::store::{Outbox, Records, Tokens};
use hanbao::tracking::{self, Selection};
use jiff::Timestamp;
use jiff::civil::Date;
use testkit::{history, pg};

const HISTORY_ROWS: i64 = 1_000_000;
const ROUNDS: usize = 7;
/// Rounds of the slow reads (export, compliance of the year).
const SLOW_ROUNDS: usize = 3;
/// A first fetch slower than this is not repeated.
const SLOW: Duration = Duration::from_secs(5);

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn size(b: usize) -> String {
    if b >= 1 << 20 {
        format!("{:.2} MB", b as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} KB", b as f64 / 1024.0)
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn today(cfg: &Config) -> Date {
    cfg.daemon.time_zone.to_datetime(Timestamp::now()).date()
}

/// The pairs the bench reads: (obligation, latest period).
struct Pairs {
    /// The daily report's latest period (every unit reports it).
    daily: (String, String),
    /// The first monthly report's latest period.
    monthly: (String, String),
}

/// Writes the fixture through the store; returns the pairs to read.
async fn fixture(s: &Store, cfg: &Config, cal: &WorkCalendar) -> Pairs {
    let now = Timestamp::now();
    let day = today(cfg);
    let targets = tracking::targets(cfg, cal, &Selection::default(), day).unwrap();
    let latest: Vec<_> = targets.iter().filter(|t| t.all_units).collect();
    let mut subs = Vec::new();
    let mut fixes = Vec::new();
    for t in &latest {
        for (i, u) in t.units.iter().enumerate() {
            let sub = |correction: bool| NewSubmission {
                key: Key::new(t.obligation.id.clone(), t.period.to_string(), u.id.clone()),
                received_on: day,
                received_at: None,
                reference: Some(format!(
                    "{}/BC{}",
                    i + 1,
                    if correction { "-sửa" } else { "" }
                )),
                note: None,
                actor: "Văn thư".into(),
                source: Source::Import,
                correction,
            };
            if i % 4 != 3 {
                subs.push(sub(false));
                if i % 10 == 0 {
                    fixes.push(sub(true));
                }
            }
        }
    }
    let n = subs.len();
    for chunk in subs.chunks(10_000) {
        s.import_submissions(chunk.to_vec(), now).await.unwrap();
    }
    s.import_submissions(fixes, now).await.unwrap();
    // Extensions, waivers and revocations on a unit in 40 of each report.
    let actor = "Trưởng phòng".to_string();
    let mut granted = 0;
    for t in &latest {
        for (i, u) in t.units.iter().enumerate().step_by(40).skip(1) {
            let key = |unit: &str| Key::new(t.obligation.id.clone(), t.period.to_string(), unit);
            match i % 3 {
                0 => s
                    .grant_extension(
                        NewExtension {
                            key: key(&u.id),
                            until: day.saturating_add(jiff::Span::new().days(20)),
                            reason: "Thiên tai".into(),
                            actor: actor.clone(),
                            source: Source::Cli,
                        },
                        now,
                    )
                    .await
                    .map(drop),
                1 => s
                    .grant_waiver(
                        NewWaiver {
                            key: key(&u.id),
                            reason: "Sáp nhập".into(),
                            actor: actor.clone(),
                            source: Source::Cli,
                        },
                        now,
                    )
                    .await
                    .map(drop),
                _ => s
                    .revoke(
                        Revocation {
                            key: key(&u.id),
                            subject: Subject::Submission,
                            reason: Some("nhập nhầm".into()),
                            actor: actor.clone(),
                            source: Source::Cli,
                        },
                        now,
                    )
                    .await
                    .map(drop),
            }
            .unwrap();
            granted += 1;
        }
    }
    // Outbox: a reminder to every 4th unit of each report; some sent,
    // failed, retried, the rest pending.
    let mut rows = Vec::new();
    for t in &latest {
        for u in t.units.iter().step_by(8) {
            rows.push(NewOutboxRow {
                key: OutboxKey {
                    obligation: t.obligation.id.clone(),
                    period: t.period.to_string(),
                    unit: u.id.clone(),
                    kind: OutboxKind::Reminder,
                    stage: 0,
                    recipient: u.emails[0].clone(),
                },
                rank: 0,
                due_on: day,
                status: OutboxStatus::Pending,
                next_attempt_at: now
                    .checked_sub(jiff::SignedDuration::from_hours(1))
                    .unwrap(),
            });
        }
    }
    let queued = rows.len();
    s.enqueue(rows, now).await.unwrap();
    let lease = now.checked_add(jiff::SignedDuration::from_mins(5)).unwrap();
    let claimed = s
        .claim("bench", now, lease, (queued * 2 / 3) as u32)
        .await
        .unwrap();
    let results: Vec<(i64, Outcome)> = claimed
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let outcome = match i % 20 {
                0 => Outcome::Failed {
                    error: "550 5.1.1 hộp thư không tồn tại".into(),
                },
                1 => Outcome::Retry {
                    error: "421 thử lại sau".into(),
                    next_attempt_at: lease,
                },
                _ => Outcome::Sent {
                    message_id: format!("<{}@bench>", r.id),
                },
            };
            (r.id, outcome)
        })
        .collect();
    s.finish_many("bench", results, now).await.unwrap();
    println!(
        "fixture: {} latest report-periods, {n} submissions, {granted} extensions/waivers/revocations, {queued} outbox rows ({} claimed and finished)",
        latest.len(),
        claimed.len()
    );
    let pair = |id: &str| {
        let t = latest.iter().find(|t| t.obligation.id == id).unwrap();
        (id.to_string(), t.period.to_string())
    };
    Pairs {
        daily: pair("bc-ngay"),
        monthly: pair("bc-00"),
    }
}

/// Statistics as autovacuum would leave them.
async fn settle(url: &str) {
    use sqlx::Connection;
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query("VACUUM ANALYZE").execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    }
}

async fn token(s: &Store, role: TokenRole) -> String {
    let secret = hanbao::http::token::generate().unwrap();
    s.create_token(
        NewToken {
            name: "bench".into(),
            role,
            hash: hanbao::http::token::hash(&secret),
        },
        Timestamp::now(),
    )
    .await
    .unwrap();
    secret
}

#[derive(Clone)]
enum Auth {
    Cookie(String),
    Bearer(String),
}

/// One GET: time to the last byte, body bytes, status (a page slower than
/// the server's request timeout answers 408).
async fn get(addr: SocketAddr, path: &str, auth: &Auth) -> (Duration, usize, u16) {
    let req = match auth {
        Auth::Cookie(c) => testkit::http::Request::get(path).header("Cookie", c),
        Auth::Bearer(t) => {
            testkit::http::Request::get(path).header("Authorization", &format!("Bearer {t}"))
        }
    };
    let t = Instant::now();
    let r = req.send(addr).await;
    (t.elapsed(), r.bytes.len(), r.status)
}

struct Timing {
    first: Duration,
    median: Duration,
    bytes: usize,
    status: u16,
}

/// The first fetch, then the median of `rounds` more (none when the first
/// took over [`SLOW`]: the median is then the first).
async fn timed(addr: SocketAddr, path: &str, auth: &Auth, rounds: usize) -> Timing {
    let (first, bytes, status) = get(addr, path, auth).await;
    let mut v = vec![first];
    if first < SLOW {
        v.clear();
        for _ in 0..rounds {
            v.push(get(addr, path, auth).await.0);
        }
    }
    Timing {
        first,
        median: median(v),
        bytes,
        status,
    }
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// One line of the report: what, first, median, bytes, and the targets.
fn line(what: &str, t: &Timing, time_target: Option<Duration>, byte_target: Option<usize>) {
    let mut s = format!(
        "{what}: first {}, median {}, {}",
        ms(t.first),
        ms(t.median),
        size(t.bytes)
    );
    if t.status != 200 {
        s.push_str(&format!(" (HTTP {}: not served)", t.status));
    }
    if let Some(limit) = time_target {
        s.push_str(&format!(
            "; target < {}: {}",
            ms(limit),
            verdict(t.status == 200 && t.median < limit)
        ));
    }
    if let Some(limit) = byte_target {
        s.push_str(&format!(
            "; target < {}: {}",
            size(limit),
            verdict(t.bytes < limit)
        ));
    }
    println!("  {s}");
}

/// What the browser measured for one page: `loadEventEnd` (ms from the
/// navigation's start) and the wall time of the WebDriver navigation.
struct Rendered {
    first: f64,
    median: f64,
    wall: Duration,
    transfer: u64,
}

/// Logs headless chromium in and loads each of `paths` (first, then the
/// median of 3).
fn browse(addr: SocketAddr, secret: String, paths: Vec<String>) -> Vec<Rendered> {
    let b = browser::Browser::start();
    let base = format!("http://{addr}");
    b.goto(&format!("{base}/dashboard/login"));
    b.type_text(&b.find("input[name=token]"), &secret);
    b.click(&b.find("form[action='/dashboard/login'] button[type=submit]"));
    b.wait_for_url("/dashboard");
    let nav = "const n = performance.getEntriesByType('navigation')[0]; \
               return [n.loadEventEnd, n.transferSize];";
    paths
        .iter()
        .map(|p| {
            let mut loads = Vec::new();
            let mut wall = Vec::new();
            let mut transfer = 0;
            for round in 0..4 {
                if round == 2 && wall[0] > SLOW {
                    break;
                }
                b.goto("about:blank");
                let t = Instant::now();
                b.goto(&format!("{base}{p}"));
                wall.push(t.elapsed());
                let v = b.script(nav);
                loads.push(v[0].as_f64().unwrap());
                transfer = v[1].as_u64().unwrap_or(0);
            }
            let first = loads[0];
            let mut rest = loads[1..].to_vec();
            let wall = if wall.len() > 1 {
                wall[1..].to_vec()
            } else {
                wall
            };
            rest.sort_by(f64::total_cmp);
            Rendered {
                first,
                median: rest[rest.len() / 2],
                wall: median(wall),
                transfer,
            }
        })
        .collect()
}

async fn run(backend: &str, url: &str, cfg: &Config, cal: &WorkCalendar) {
    println!("\n=== {backend} ===");
    let s = store::open(url).await.unwrap();
    let t = Instant::now();
    let pairs = fixture(&s, cfg, cal).await;
    println!("fixture written through the store in {:?}", t.elapsed());
    let t = Instant::now();
    history::bulk_load_history(url, HISTORY_ROWS, false).await;
    settle(url).await;
    println!(
        "bulk-loaded {HISTORY_ROWS} history rows and refreshed the statistics in {:?}",
        t.elapsed()
    );
    let admin = token(&s, TokenRole::Admin).await;
    let scraper = Auth::Bearer(token(&s, TokenRole::Metrics).await);
    let live = Arc::new(Live::new(cfg.clone()));

    // `/metrics` on a server without the warm-up: the first scrape computes.
    let bare = AppState::new(s.clone(), live.clone(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let bare_task = tokio::spawn(hanbao::http::serve(listener, bare, async move {
        let _ = rx.await;
    }));
    let (unwarmed, _, unwarmed_status) = get(bare_addr, "/metrics", &scraper).await;
    let _ = tx.send(());
    bare_task.await.unwrap().unwrap();

    // The daemon's way: `http::start` warms the gauges in the background.
    let state = AppState::new(s.clone(), live, None);
    let addr = free_addr();
    let stop = tokio_util::sync::CancellationToken::new();
    let started = Instant::now();
    let running = hanbao::http::start(addr, state.clone(), stop.clone()).await;
    while state.metrics().overdue_refreshes.load(Ordering::Relaxed) == 0 {
        assert!(started.elapsed() < Duration::from_secs(600), "warm-up");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let warm_up = started.elapsed();
    let metrics = timed(addr, "/metrics", &scraper, ROUNDS).await;

    let login = testkit::http::Request::post("/dashboard/login")
        .header("Origin", &format!("http://{addr}"))
        .form(&[("token", &admin)])
        .send(addr)
        .await;
    assert_eq!(login.status, 303, "login: {}", login.body);
    let cookie = Auth::Cookie(
        login
            .header("set-cookie")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string(),
    );
    let year = today(cfg).year();
    let (daily, dperiod) = &pairs.daily;
    let (monthly, mperiod) = &pairs.monthly;
    let summary = timed(addr, "/dashboard", &cookie, ROUNDS).await;
    let matrices = [
        "/dashboard/matrix?per=200".to_string(),
        "/dashboard/matrix?group=ubnd-xa&per=200".to_string(),
        "/dashboard/matrix?group=ubnd-xa&sort=late&dir=desc&per=200".to_string(),
        format!("/dashboard/matrix?obligation={daily}&period={dperiod}&per=200"),
        format!("/dashboard/matrix?obligation={daily}&period={dperiod}&sort=late&dir=desc&per=200"),
    ];
    let mut heaviest: Option<(String, Timing)> = None;
    println!(
        "  (server times: request to last byte over 127.0.0.1; first fetch, then the median of {ROUNDS})"
    );
    line(
        "/dashboard (summary)",
        &summary,
        Some(Duration::from_millis(300)),
        Some(500 << 10),
    );
    for m in &matrices {
        let t = timed(addr, m, &cookie, ROUNDS).await;
        line(m, &t, Some(Duration::from_secs(1)), Some(2 << 20));
        if heaviest.as_ref().is_none_or(|(_, h)| t.median > h.median) {
            heaviest = Some((m.clone(), t));
        }
    }
    let (heavy_path, _) = heaviest.unwrap();
    let list = timed(
        addr,
        &format!("/dashboard/matrix?obligation={monthly}&period={mperiod}"),
        &cookie,
        ROUNDS,
    )
    .await;
    line(
        "list page of one report-period (default page size)",
        &list,
        None,
        None,
    );
    let api = timed(
        addr,
        "/api/v1/status?limit=1000",
        &Auth::Bearer(admin.clone()),
        ROUNDS,
    )
    .await;
    line("/api/v1/status?limit=1000 (first page)", &api, None, None);
    let export = timed(addr, "/dashboard/export.csv", &cookie, SLOW_ROUNDS).await;
    line(
        "/dashboard/export.csv (everything, streamed)",
        &export,
        None,
        None,
    );
    let compliance = timed(
        addr,
        &format!("/dashboard/compliance?year={year}"),
        &cookie,
        SLOW_ROUNDS,
    )
    .await;
    line(
        &format!("/dashboard/compliance?year={year}"),
        &compliance,
        None,
        None,
    );
    println!(
        "  /metrics without the warm-up, first scrape: {} (HTTP {unwarmed_status}); target < 50 ms: {}",
        ms(unwarmed),
        verdict(unwarmed_status == 200 && unwarmed < Duration::from_millis(50))
    );
    println!(
        "  /metrics after http::start: gauges computed in the background in {}; first scrape after that {}, warm median {} (HTTP {}); target < 50 ms: {}",
        ms(warm_up),
        ms(metrics.first),
        ms(metrics.median),
        metrics.status,
        verdict(
            metrics.status == 200 && metrics.first.max(metrics.median) < Duration::from_millis(50)
        )
    );

    let paths = vec!["/dashboard".to_string(), heavy_path.clone()];
    let rendered = tokio::task::spawn_blocking(move || browse(addr, admin, paths))
        .await
        .unwrap();
    for (what, r) in ["/dashboard", heavy_path.as_str()].iter().zip(&rendered) {
        println!(
            "  chromium {what}: loadEventEnd first {:.0} ms, median {:.0} ms (WebDriver navigation {}), {} transferred{}",
            r.first,
            r.median,
            ms(r.wall),
            size(r.transfer as usize),
            if *what == "/dashboard" {
                format!("; target < 2000 ms: {}", verdict(r.median < 2000.0))
            } else {
                String::new()
            }
        );
    }
    stop.cancel();
    running.stopped().await;
    s.close().await;
}

fn main() {
    let text = testkit::national::generate();
    let cfg = hanbao::config::load_str("national.toml", &text)
        .unwrap_or_else(|e| panic!("national config invalid: {e}"))
        .config;
    let cal = WorkCalendar::new(&cfg.calendar);
    println!(
        "national configuration: {} units, {} obligations; today {}",
        cfg.units.len(),
        cfg.obligations.len(),
        today(&cfg)
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let sqlite_url = format!("sqlite://{}/bench.db", dir.path().display());
        run("sqlite", &sqlite_url, &cfg, &cal).await;
        let cluster = pg::Cluster::start(pg::Durability::Default).unwrap_or_else(|e| panic!("{e}"));
        let pg_url = cluster.create_database("hanbao_dashboard_bench").unwrap();
        run("postgres", &pg_url, &cfg, &cal).await;
    });
}
