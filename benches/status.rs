//! Status benchmark, both backends, `cargo bench --bench status`.
//!
//! The whole `hanbao status --period` path for 4,000 units × 20 monthly
//! obligations (80,000 rows): the planner's targets and schedules, one
//! `Records::facts` read, and `status::classify` for every row; first on a
//! database holding only that period (with corrections, extensions,
//! waivers and revocations), then after bulk-loading 1,000,000 historical
//! rows into other periods, with the query plans. The fixture is written
//! through the store (imports) except the history bulk load (plain SQL,
//! fixture data only); after each load the database is settled as
//! autovacuum would (`VACUUM ANALYZE` on PostgreSQL, `ANALYZE` on SQLite).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use hanbao::calendar::WorkCalendar;
use hanbao::config::model::Config;
use hanbao::status::StateName;
use hanbao::store::Records;
use hanbao::store::{
    self, Key, NewExtension, NewSubmission, NewWaiver, Revocation, Source, Store, Subject,
};
use hanbao::tracking::{self, Selection};
use jiff::Timestamp;
use jiff::civil::date;
use testkit::{history, pg};

const UNITS: usize = 4_000;
const OBLIGATIONS: usize = 20;
const PERIOD: &str = "2026-03";
const HISTORY_ROWS: i64 = 1_000_000;
const ROUNDS: usize = 7;

fn obligation(o: usize) -> String {
    format!("nq{o:02}-bao-cao")
}

fn unit(u: usize) -> String {
    format!("don-vi-{u:04}")
}

/// 4,000 units in one group, 20 monthly obligations due 5 working days
/// after the month.
fn config() -> Config {
    let mut s = String::new();
    s.push_str("[[group]]\nid = \"tat-ca\"\nname = \"Tất cả đơn vị\"\n\n");
    s.push_str(
        "[[unit]]\nid = \"so-tonghop\"\nname = \"Sở tổng hợp\"\nemail = \"th@example.org\"\n\n",
    );
    for u in 0..UNITS {
        let _ = write!(
            s,
            "[[unit]]\nid = \"{}\"\nname = \"Đơn vị số {u}\"\nemail = \"vt{u}@example.org\"\ngroups = [\"tat-ca\"]\n\n",
            unit(u)
        );
    }
    for o in 0..OBLIGATIONS {
        let _ = write!(
            s,
            "[[obligation]]\nid = \"{}\"\ntitle = \"Báo cáo tháng số {o}\"\nreporters = [\"tat-ca\"]\nrecipient = \"so-tonghop\"\ncycle = \"monthly\"\nwindow = \"calendar\"\ndue = \"5 ngày làm việc\"\nreminders = [\"3 ngày làm việc\"]\nactive_from = \"01/01/2020\"\n\n",
            obligation(o)
        );
    }
    hanbao::config::load_str("bench.toml", &s)
        .unwrap_or_else(|e| panic!("bench config invalid: {e}"))
        .config
}

fn now() -> Timestamp {
    Timestamp::from_second(1_776_000_000).unwrap()
}

fn submission(o: usize, u: usize, correction: bool) -> NewSubmission {
    NewSubmission {
        key: Key::new(obligation(o), PERIOD, unit(u)),
        received_on: date(2026, 4, 1 + (u % 14) as i8),
        received_at: None,
        reference: Some(format!(
            "{}/BC{}",
            u + 1,
            if correction { "-sửa" } else { "" }
        )),
        note: None,
        actor: "Văn thư".into(),
        source: Source::Import,
        correction,
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn fixture(s: &Store) {
    // 3 units in 4 have submitted; 1 in 10 of those corrected.
    let rows: Vec<NewSubmission> = (0..OBLIGATIONS)
        .flat_map(|o| {
            (0..UNITS)
                .filter(|u| u % 4 != 3)
                .map(move |u| submission(o, u, false))
        })
        .collect();
    for chunk in rows.chunks(10_000) {
        s.import_submissions(chunk.to_vec(), now()).await.unwrap();
    }
    let fixes: Vec<NewSubmission> = (0..OBLIGATIONS)
        .flat_map(|o| (0..UNITS).step_by(10).map(move |u| submission(o, u, true)))
        .collect();
    s.import_submissions(fixes, now()).await.unwrap();
    for u in (3..UNITS).step_by(40) {
        let k = Key::new(obligation(u % OBLIGATIONS), PERIOD, unit(u));
        let actor = "Trưởng phòng".to_string();
        s.grant_extension(
            NewExtension {
                key: k.clone(),
                until: date(2026, 4, 30),
                reason: "Thiên tai".into(),
                actor: actor.clone(),
                source: Source::Cli,
            },
            now(),
        )
        .await
        .unwrap();
        let w = Key::new(obligation((u + 1) % OBLIGATIONS), PERIOD, unit(u));
        s.grant_waiver(
            NewWaiver {
                key: w,
                reason: "Sáp nhập".into(),
                actor: actor.clone(),
                source: Source::Cli,
            },
            now(),
        )
        .await
        .unwrap();
        let r = Key::new(obligation(u % OBLIGATIONS), PERIOD, unit(u - 1));
        s.revoke(
            Revocation {
                key: r,
                subject: Subject::Submission,
                reason: Some("nhập nhầm".into()),
                actor,
                source: Source::Cli,
            },
            now(),
        )
        .await
        .unwrap();
    }
}

/// Median of the whole status path; checks the row count and a few states.
async fn status_pass(s: &Store, cfg: &Config, cal: &WorkCalendar) -> (Duration, Duration) {
    let sel = Selection {
        period: Some(PERIOD.into()),
        ..Selection::default()
    };
    let at = date(2026, 4, 20);
    let pairs: Vec<(String, String)> = (0..OBLIGATIONS)
        .map(|o| (obligation(o), PERIOD.to_string()))
        .collect();
    let mut whole = Vec::new();
    let mut read = Vec::new();
    for round in 0..=ROUNDS {
        let t = Instant::now();
        let facts = s.facts(&pairs).await.unwrap();
        let r = t.elapsed();
        assert!(facts.len() > UNITS * OBLIGATIONS * 3 / 4 - 1000);
        let t = Instant::now();
        let rows = tracking::status(s, cfg, cal, &sel, at).await.unwrap();
        let w = t.elapsed();
        assert_eq!(rows.len(), UNITS * OBLIGATIONS);
        let overdue = rows
            .iter()
            .filter(|r| r.status.state == StateName::Overdue)
            .count();
        assert!(overdue > 10_000, "{overdue} overdue");
        assert!(rows.iter().any(|r| r.status.state == StateName::Waived));
        assert!(rows.iter().any(|r| r.status.state == StateName::Extended));
        if round > 0 {
            whole.push(w);
            read.push(r);
        }
    }
    (median(whole), median(read))
}

/// What autovacuum does on a live PostgreSQL server after bulk writes: sets
/// the visibility map (so `facts` is an index-only scan) and the statistics.
/// SQLite: statistics only.
async fn settle(url: &str) {
    use sqlx::Connection;
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query("VACUUM ANALYZE events")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
}

struct Figures {
    backend: &'static str,
    empty: (Duration, Duration),
    history: (Duration, Duration),
}

async fn run(backend: &'static str, url: &str, cfg: &Config, cal: &WorkCalendar) -> Figures {
    println!("\n=== {backend} ===");
    let s = store::open(url).await.unwrap();
    let t = Instant::now();
    fixture(&s).await;
    println!("fixture written through the store in {:?}", t.elapsed());
    settle(url).await;
    let empty = status_pass(&s, cfg, cal).await;
    println!(
        "status {UNITS} units x {OBLIGATIONS} obligations, no history: whole path {:?} (facts read {:?})",
        empty.0, empty.1
    );
    let pairs: Vec<(String, String)> = (0..OBLIGATIONS)
        .map(|o| (obligation(o), PERIOD.to_string()))
        .collect();
    for line in s.explain_facts(&pairs).await.unwrap() {
        println!("  plan: {line}");
    }
    let t = Instant::now();
    history::bulk_load_history(url, HISTORY_ROWS, false).await;
    settle(url).await;
    println!(
        "bulk-loaded {HISTORY_ROWS} historical rows in {:?}",
        t.elapsed()
    );
    let history = status_pass(&s, cfg, cal).await;
    println!(
        "status {UNITS} units x {OBLIGATIONS} obligations, {HISTORY_ROWS} historical rows: whole path {:?} (facts read {:?})",
        history.0, history.1
    );
    for line in s.explain_facts(&pairs).await.unwrap() {
        println!("  plan: {line}");
    }
    s.close().await;
    Figures {
        backend,
        empty,
        history,
    }
}

fn main() {
    let cfg = config();
    let cal = WorkCalendar::new(&cfg.calendar);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let figures = rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let sqlite_url = format!("sqlite://{}/bench.db", dir.path().display());
        let sqlite = run("sqlite", &sqlite_url, &cfg, &cal).await;
        let cluster = pg::Cluster::start(pg::Durability::Default).unwrap_or_else(|e| panic!("{e}"));
        let pg_url = cluster.create_database("hanbao_status_bench").unwrap();
        let postgres = run("postgres", &pg_url, &cfg, &cal).await;
        vec![sqlite, postgres]
    });
    println!(
        "\n| backend | status 80k, no history (whole path / facts read) | status 80k, 1M history (whole path / facts read) |"
    );
    println!("|---|---|---|");
    for f in figures {
        println!(
            "| {} | {:.1} ms / {:.1} ms | {:.1} ms / {:.1} ms |",
            f.backend,
            f.empty.0.as_secs_f64() * 1e3,
            f.empty.1.as_secs_f64() * 1e3,
            f.history.0.as_secs_f64() * 1e3,
            f.history.1.as_secs_f64() * 1e3,
        );
    }
}
