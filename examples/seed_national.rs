//! Seeds a database for the national-scale benchmarks: creates it with
//! hanbao's migrations (`store::open`, which creates a missing SQLite file) and bulk-loads history rows
//! (`testkit::history`: older periods of 20 reports × 4,000 units, plain
//! SQL, fixture data only), then refreshes the statistics.
//!
//! Usage: `cargo run --release --example seed_national -- DATABASE_URL [ROWS]`
//! (ROWS defaults to 1,000,000; `sqlite:///tmp/x/hanbao.db` or a
//! PostgreSQL URL). Used by `benches/footprint.sh --national`.

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        eprintln!("usage: seed_national DATABASE_URL [ROWS]");
        std::process::exit(2);
    };
    let rows: i64 = match args.next().map(|r| r.replace([',', '_'], "").parse()) {
        None => 1_000_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("ROWS: a positive whole number");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let store = hanbao::store::open(&url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        store.close().await;
        let t = std::time::Instant::now();
        testkit::history::bulk_load_history(&url, rows, true).await;
        eprintln!("seeded {rows} history rows in {:.1?}", t.elapsed());
    });
}
