//! Store benchmarks, both backends, `cargo bench --bench store`.
//!
//! For SQLite (a temp file) and PostgreSQL (a throwaway cluster started the
//! same way as the tests', with default durability settings):
//! 1. importing 10,000 submissions (one `import_submissions` call each), as
//!    the 4,000 units × 20 obligations of one period are loaded;
//! 2. the status read: `current` for 20 obligations × 4,000 units of one
//!    period (80,000 states, with corrections, extensions and waivers);
//! 3. the same read after bulk-loading 1,000,000 historical rows into other
//!    periods, with the query plans showing the index in use.
//!
//! The bulk load writes SQL directly (it is fixture data, not a code path
//! under test); everything measured goes through the `Store` API.

use std::time::{Duration, Instant};

use hanbao::store::Records;
use hanbao::store::{self, Key, NewExtension, NewSubmission, NewWaiver, Source, Store};
use jiff::Timestamp;
use jiff::civil::date;
use testkit::{history, pg};

const UNITS: usize = 4_000;
const OBLIGATIONS: usize = 20;
const PERIOD: &str = "2026-03";
const HISTORY_ROWS: i64 = 1_000_000;
const ROUNDS: usize = 5;

fn obligation(o: usize) -> String {
    format!("nq{o:02}-bao-cao")
}

fn unit(u: usize) -> String {
    format!("don-vi-{u:04}")
}

fn now() -> Timestamp {
    Timestamp::from_second(1_775_000_000).unwrap()
}

fn submission(o: usize, u: usize, correction: bool) -> NewSubmission {
    NewSubmission {
        key: Key::new(obligation(o), PERIOD, unit(u)),
        received_on: date(2026, 4, 1 + (u % 20) as i8),
        received_at: None,
        reference: Some(format!(
            "{}/BC-UBND{}",
            u + 1,
            if correction { "-sửa" } else { "" }
        )),
        note: (u % 7 == 0).then(|| "Đã nhận bản giấy".to_string()),
        actor: "Nguyễn Văn Thư".into(),
        source: Source::Import,
        correction,
    }
}

struct Figures {
    backend: &'static str,
    import_10k: Vec<Duration>,
    import_10k_with_history: Duration,
    status_empty: Duration,
    status_history: Duration,
    bulk_load: Duration,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `current` for every obligation of the period; returns the median of
/// `ROUNDS` full passes after one warm-up.
async fn status_pass(s: &Store) -> Duration {
    let mut times = Vec::new();
    for round in 0..=ROUNDS {
        let t = Instant::now();
        let mut states = 0;
        for o in 0..OBLIGATIONS {
            states += s.current(&obligation(o), PERIOD).await.unwrap().len();
        }
        let elapsed = t.elapsed();
        assert_eq!(states, UNITS * OBLIGATIONS, "every unit has a state");
        if round > 0 {
            times.push(elapsed);
        }
    }
    median(times)
}

async fn run(backend: &'static str, url: &str) -> Figures {
    println!("\n=== {backend} ===");
    let s = store::open(url).await.unwrap();

    // 1. Import the period, 10,000 rows per call.
    let rows: Vec<NewSubmission> = (0..OBLIGATIONS)
        .flat_map(|o| (0..UNITS).map(move |u| submission(o, u, false)))
        .collect();
    let mut import_10k = Vec::new();
    for chunk in rows.chunks(10_000) {
        let t = Instant::now();
        let report = s.import_submissions(chunk.to_vec(), now()).await.unwrap();
        import_10k.push(t.elapsed());
        assert_eq!(report.submitted, chunk.len());
    }
    println!(
        "import 10,000 submissions: {} calls, median {:?}, max {:?}",
        import_10k.len(),
        median(import_10k.clone()),
        import_10k.iter().max().unwrap()
    );
    // Corrections for 1 unit in 10, extensions and waivers for a few.
    let fixes: Vec<NewSubmission> = (0..OBLIGATIONS)
        .flat_map(|o| (0..UNITS).step_by(10).map(move |u| submission(o, u, true)))
        .collect();
    s.import_submissions(fixes, now()).await.unwrap();
    for u in (0..UNITS).step_by(100) {
        let k = Key::new(obligation(u % OBLIGATIONS), PERIOD, unit(u + 1));
        s.grant_extension(
            NewExtension {
                key: k.clone(),
                until: date(2026, 5, 15),
                reason: "Thiên tai".into(),
                actor: "Trưởng phòng".into(),
                source: Source::Cli,
            },
            now(),
        )
        .await
        .unwrap();
        s.grant_waiver(
            NewWaiver {
                key: k,
                reason: "Sáp nhập đơn vị".into(),
                actor: "Trưởng phòng".into(),
                source: Source::Cli,
            },
            now(),
        )
        .await
        .unwrap();
    }

    // 2. Status with no history.
    let status_empty = status_pass(&s).await;
    println!(
        "status {UNITS} units x {OBLIGATIONS} obligations, no history: median {status_empty:?}"
    );
    for line in s.explain_current(&obligation(3), PERIOD).await.unwrap() {
        println!("  plan: {line}");
    }

    // 3. Bulk-load history into 13 other periods, then measure again.
    let t = Instant::now();
    history::bulk_load_history(url, HISTORY_ROWS, true).await;
    let bulk_load = t.elapsed();
    println!("bulk-loaded {HISTORY_ROWS} historical rows in {bulk_load:?}");
    let status_history = status_pass(&s).await;
    println!(
        "status {UNITS} units x {OBLIGATIONS} obligations, {HISTORY_ROWS} historical rows: median {status_history:?}"
    );
    for line in s.explain_current(&obligation(3), PERIOD).await.unwrap() {
        println!("  plan: {line}");
    }
    // Import with history present, into a new period.
    let next: Vec<NewSubmission> = (0..10_000)
        .map(|i| {
            let mut sub = submission(i % OBLIGATIONS, i / OBLIGATIONS, false);
            sub.key.period = "2026-04".into();
            sub
        })
        .collect();
    let t = Instant::now();
    s.import_submissions(next, now()).await.unwrap();
    let import_10k_with_history = t.elapsed();
    println!("import 10,000 submissions with history present: {import_10k_with_history:?}");
    s.close().await;
    Figures {
        backend,
        import_10k,
        import_10k_with_history,
        status_empty,
        status_history,
        bulk_load,
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let figures = rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let sqlite_url = format!("sqlite://{}/bench.db", dir.path().display());
        let sqlite = run("sqlite", &sqlite_url).await;

        let cluster = pg::Cluster::start(pg::Durability::Default).unwrap_or_else(|e| panic!("{e}"));
        let pg_url = cluster.create_database("hanbao_bench").unwrap();
        let postgres = run("postgres", &pg_url).await;
        vec![sqlite, postgres]
    });

    println!(
        "\n| backend | import 10k (median of 8) | import 10k, 1M history | status 80k, no history | status 80k, 1M history | bulk load 1M |"
    );
    println!("|---|---|---|---|---|---|");
    for f in figures {
        println!(
            "| {} | {:.0} ms | {:.0} ms | {:.1} ms | {:.1} ms | {:.1} s |",
            f.backend,
            median(f.import_10k).as_secs_f64() * 1e3,
            f.import_10k_with_history.as_secs_f64() * 1e3,
            f.status_empty.as_secs_f64() * 1e3,
            f.status_history.as_secs_f64() * 1e3,
            f.bulk_load.as_secs_f64(),
        );
    }
}
