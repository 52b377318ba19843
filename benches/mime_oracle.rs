//! A real MIME parser reads every message of a simulated national year:
//! the national-scale configuration of `testkit::national` (4,000
//! units, 20 obligations) through the real pipeline (`outbox::simulate`,
//! file transport into a scratch directory), each .eml read back by
//! Stalwart's mail-parser (`testkit::mime::read`, the tests' reader)
//! as soon as its dispatch run ends, checked for defects, its decoded
//! subject, recipient and Message-ID compared with what the dispatcher
//! sent, then deleted (a year of .eml files would be 15-20 GB).
//!
//! Run with `cargo bench --bench mime_oracle [-- FROM TO]` (default the
//! whole of 2026). Prints the messages read per kind, the defects (the
//! first 20 in full) and the time (and, on stderr, progress every 100,000
//! messages); exits 1 on any defect. BENCHMARKS.md
//! ("MIME oracle") says how long it takes and what it found.

use std::collections::BTreeMap;
use std::time::Instant;

use hanbao::calendar::WorkCalendar;
use hanbao::config::model::Transport;
use hanbao::mail::Mailer;
use jiff::civil::Date;

use testkit::{mime, national};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let day = |i: usize, default: &str| -> Date {
        args.get(i)
            .map_or(default, String::as_str)
            .parse()
            .expect("YYYY-MM-DD")
    };
    let (from, to) = (day(0, "2026-01-01"), day(1, "2026-12-31"));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("national.toml");
    std::fs::write(&path, national::generate()).expect("write the configuration");
    let mut cfg = hanbao::config::load(&path)
        .unwrap_or_else(|e| panic!("generated config is invalid: {e}"))
        .config;
    cfg.mail.transport = Transport::File {
        dir: dir.path().join("mail"),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let start = Instant::now();
    let mut read: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut bytes = 0usize;
    let mut defects: Vec<String> = Vec::new();
    let mut seen = 0usize;
    let mut each = |m: hanbao::outbox::SentMessage| {
        let eml = std::fs::read(&m.detail).expect("the .eml the transport wrote");
        bytes += eml.len();
        match mime::read(&eml) {
            Ok(r) => {
                *read.entry(m.kind).or_default() += 1;
                if r.subject != m.subject || r.to.first().map(|t| &t.1) != m.recipients.first() {
                    defects.push(format!(
                        "{}: read back as {:?} to {:?}",
                        m.message_id, r.subject, r.to
                    ));
                }
                if r.message_id != m.message_id.trim_matches(['<', '>']) {
                    defects.push(format!("{}: Message-ID {:?}", m.message_id, r.message_id));
                }
            }
            Err(d) => defects.push(format!("{} ({}): {d:?}", m.message_id, m.kind)),
        }
        let _ = std::fs::remove_file(&m.detail);
        seen += 1;
        if seen % 100_000 == 0 {
            eprintln!(
                "  {seen} messages read by {} ({:.0} s), {} defects so far",
                m.sent_at,
                start.elapsed().as_secs_f64(),
                defects.len()
            );
        }
    };
    let count = rt.block_on(async {
        let store = hanbao::store::open(&format!("sqlite://{}/sim.db", dir.path().display()))
            .await
            .expect("store");
        let cal = WorkCalendar::new(&cfg.calendar);
        let composer = hanbao::outbox::composer(&cfg).expect("composer");
        let mailer = Mailer::new(&cfg.mail).expect("mailer");
        let digests = hanbao::commands::simulate::digest_instants(&cfg, from, to).expect("digests");
        hanbao::outbox::simulate::simulate(
            &store,
            &cfg,
            &cal,
            &composer,
            &mailer,
            from,
            to,
            vec![],
            &digests,
            &mut each,
        )
        .await
        .expect("simulate")
    });
    let secs = start.elapsed().as_secs_f64();
    let total: usize = read.values().sum();
    println!(
        "mail-parser read {total} of {count} messages of the national-scale year ({} units, {} obligations), {from} to {to}, in {secs:.0} s ({:.0} MB of .eml)",
        cfg.units.len(),
        cfg.obligations.len(),
        bytes as f64 / 1e6
    );
    for (kind, n) in &read {
        println!("  {kind}: {n}");
    }
    println!("defects: {}", defects.len());
    for d in defects.iter().take(20) {
        println!("  {d}");
    }
    if !defects.is_empty() || total != count {
        std::process::exit(1);
    }
}
