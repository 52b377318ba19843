//! Dispatch throughput: the real dispatcher (outbox rows in SQLite -> claim
//! with a lease -> re-check -> render -> pooled `Mailer` -> record `sent`)
//! to an SMTP sink, beside the sink's own capacity measured by the plain
//! client of `testkit::plain_smtp` in the same run, with the same
//! message bytes and the same number of connections at once. Prints both
//! and the ratio (goal: >= 80 %), then where the time goes.
//!
//! Each round enqueues N reminders (one per unit of a generated
//! configuration) into a fresh SQLite database on disk, outside the timing,
//! then times `Dispatcher::run` on a virtual clock inside sending hours.
//! Run with `cargo bench --bench daemon`. Environment:
//! `HANBAO_BENCH_MESSAGES` (N, default 2000); `HANBAO_BENCH_CONNECTIONS`
//! (`[mail.smtp] connections` of the dispatcher and plain clients at once,
//! default 1); `HANBAO_BENCH_SINK=127.0.0.1:PORT` (an SMTP server already
//! listening, e.g. `benches/postfix_sink.sh start`; default: the in-process
//! test sink, which counts and keeps nothing); `HANBAO_BENCH_SINK_SPOOL`
//! (that server's Postfix queue directory: each timed phase waits until it
//! is empty). Not a test: it asserts that everything was delivered,
//! nothing about speed.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use hanbao::calendar::WorkCalendar;
use hanbao::config::model::Config;
use hanbao::mail::{Composer, Mailer, Templates};
use hanbao::outbox::dispatch::BATCH;
use hanbao::outbox::{Dispatcher, Planning};
use hanbao::store::{Outcome, Store};
use jiff::Timestamp;

use hanbao::store::Outbox;
use testkit::plain_smtp::plain_clients;
use testkit::smtp::{SinkOptions, SmtpSink};

/// N units, one one-off report due Thursday 25/6/2026 with a reminder three
/// days before (Monday 22/6/2026, a working day), sending to `port` over
/// `connections` pooled connections.
fn config(n: usize, port: u16, connections: usize) -> Config {
    let mut t = format!(
        "[daemon]\nsending_hours = \"07:30-11:00\"\n\
         [mail]\ntransport = \"smtp\"\nfrom = \"Sở LĐ-TB&XH <baocao@so.example>\"\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n\
         connections = {connections}\n\
         [[unit]]\nid = \"so\"\nname = \"Sở LĐ-TB&XH\"\nemail = \"vanthu@so.example\"\n"
    );
    let mut reporters = String::new();
    for i in 0..n {
        let _ = write!(
            t,
            "[[unit]]\nid = \"xa-{i:05}\"\nname = \"UBND xã số {i}\"\nemail = \"vanthu@xa-{i:05}.example\"\n"
        );
        let _ = write!(reporters, "\"xa-{i:05}\",");
    }
    let _ = write!(
        t,
        "[[obligation]]\nid = \"bc-thu\"\ntitle = \"Báo cáo kết quả thực hiện Nghị quyết 121\"\n\
         reporters = [{reporters}]\nrecipient = \"so\"\ncycle = \"once\"\ndue = \"25/06/2026\"\n\
         reminders = [\"3 ngày\"]\n"
    );
    hanbao::config::load_str("bench.toml", &t)
        .expect("generated configuration is valid")
        .config
}

/// Monday 22/6/2026 08:00 in Vietnam (UTC+7): the reminders are due.
fn now() -> Timestamp {
    "2026-06-22T01:00:00Z".parse().unwrap()
}

/// A fresh database with the N reminders pending.
async fn enqueued(cfg: &Config, cal: &WorkCalendar, dir: &std::path::Path) -> Store {
    let store = hanbao::store::open(&format!("sqlite://{}/bench.db", dir.display()))
        .await
        .expect("open");
    let r = Planning::default()
        .enqueue(&store, cfg, cal, now())
        .await
        .expect("enqueue");
    assert_eq!(r.pending, cfg.units.len() - 1, "one reminder per unit");
    store
}

/// CPU time of this whole process (every thread, the sink's included)
/// from /proc/self/stat, in clock ticks of 10 ms.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line.
    let field = |i: usize| {
        f.get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(14) + field(15)
}

/// Waits (up to a minute) until the external sink's spool has no message
/// in its incoming, active or deferred queues (Postfix's layout).
async fn drained(spool: Option<&str>) {
    let Some(spool) = spool else { return };
    let busy = || {
        ["incoming", "active", "deferred", "maildrop"]
            .iter()
            .any(|q| walk_has_file(&std::path::Path::new(spool).join(q)))
    };
    let until = Instant::now() + Duration::from_secs(60);
    while busy() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn walk_has_file(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let p = e.path();
            if p.is_dir() { walk_has_file(&p) } else { true }
        })
    })
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn main() {
    let n: usize = std::env::var("HANBAO_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    // SMTP connections used at once, by the dispatcher (`[mail.smtp]
    // connections`) and by the plain client alike.
    let connections: usize = std::env::var("HANBAO_BENCH_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    // With an external sink: its spool directory, to wait between rounds
    // until it has finished with the previous round's messages.
    let spool = std::env::var("HANBAO_BENCH_SINK_SPOOL").ok();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        // The exact bytes the dispatcher sends, captured once from a sink
        // that keeps messages, for the plain client.
        let keeper = SmtpSink::start().await;
        let cfg = config(n, keeper.port(), 1);
        let cal = WorkCalendar::new(&cfg.calendar);
        let composer = Composer::new(&cfg.mail, Templates::builtin()).unwrap();
        let mailer = Mailer::new(&cfg.mail).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = enqueued(&cfg, &cal, dir.path()).await;
        let d = Dispatcher {
            cfg: &cfg,
            cal: &cal,
            composer: &composer,
            mailer: &mailer,
            owner: "bench",
        };
        let r = d.run(&store, &now).await.expect("dispatch");
        assert_eq!(r.sent.len(), n);
        store.close().await;
        let bodies: Vec<(String, Vec<u8>)> = keeper
            .messages()
            .into_iter()
            .map(|m| (m.rcpt_to[0].clone(), m.data))
            .collect();
        let size = bodies.iter().map(|b| b.1.len()).sum::<usize>() / n;

        // The sink: the in-process test sink that counts and keeps nothing,
        // or an SMTP server already listening on 127.0.0.1:PORT given by
        // HANBAO_BENCH_SINK (`benches/postfix_sink.sh start` starts a
        // private Postfix there).
        let external: Option<u16> = std::env::var("HANBAO_BENCH_SINK").ok().map(|v| {
            v.rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("HANBAO_BENCH_SINK is 127.0.0.1:PORT")
        });
        let sink = SmtpSink::start_with(SinkOptions {
            count_only: true,
            ..Default::default()
        })
        .await;
        let port = external.unwrap_or(sink.port());
        let cfg = config(n, port, connections);
        let mailer = Mailer::new(&cfg.mail).unwrap();
        let rounds = 5;
        let (mut plain, mut ours) = (Duration::ZERO, Duration::ZERO);
        let mut ratios = Vec::new();
        let mut connections = 0;
        let (mut plain_cpu, mut ours_cpu) = (0u64, 0u64);
        for round in 0..rounds {
            drained(spool.as_deref()).await;
            let ticks = cpu_ticks();
            let p = plain_clients(port, &bodies, connections).await;
            plain_cpu += cpu_ticks() - ticks;
            let dir = tempfile::tempdir().unwrap();
            let store = enqueued(&cfg, &cal, dir.path()).await;
            let d = Dispatcher {
                cfg: &cfg,
                cal: &cal,
                composer: &composer,
                mailer: &mailer,
                owner: "bench",
            };
            drained(spool.as_deref()).await;
            let before = sink.message_count();
            let start = Instant::now();
            let ticks = cpu_ticks();
            let r = d.run(&store, &now).await.expect("dispatch");
            ours_cpu += cpu_ticks() - ticks;
            let o = start.elapsed();
            assert_eq!(r.sent.len(), n, "round {round}");
            if external.is_none() {
                assert_eq!(sink.message_count() - before, n);
            }
            store.close().await;
            plain += p;
            ours += o;
            ratios.push(p.as_secs_f64() / o.as_secs_f64());
            connections = mailer.connections_opened();
        }
        // Where the time goes, same run: the dispatcher with a transport
        // that keeps nothing (claim, re-check, render, record; no SMTP),
        // and the `sent` records alone (one `finish_many` per row, as the
        // dispatcher writes them).
        let discard = Mailer::discard();
        let (mut no_smtp, mut records, mut claims) =
            (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        for _ in 0..rounds {
            let dir = tempfile::tempdir().unwrap();
            let store = enqueued(&cfg, &cal, dir.path()).await;
            let d = Dispatcher {
                cfg: &cfg,
                cal: &cal,
                composer: &composer,
                mailer: &discard,
                owner: "bench",
            };
            let start = Instant::now();
            let r = d.run(&store, &now).await.expect("dispatch");
            no_smtp += start.elapsed();
            assert_eq!(r.sent.len(), n);
            store.close().await;

            let dir = tempfile::tempdir().unwrap();
            let store = enqueued(&cfg, &cal, dir.path()).await;
            let lease = now().checked_add(jiff::SignedDuration::from_secs(900)).unwrap();
            // Claimed as the dispatcher claims: BATCH rows per query.
            let start = Instant::now();
            let mut rows = Vec::new();
            while rows.len() < n {
                let got = store.claim("bench", now(), lease, BATCH).await.unwrap();
                assert!(!got.is_empty());
                rows.extend(got);
            }
            claims += start.elapsed();
            assert_eq!(rows.len(), n);
            let start = Instant::now();
            for row in rows {
                let sent = Outcome::Sent {
                    message_id: format!("<{}@bench>", row.id),
                };
                let done = store
                    .finish_many("bench", vec![(row.id, sent)], now())
                    .await
                    .unwrap();
                assert_eq!(done, vec![true]);
            }
            records += start.elapsed();
            store.close().await;
        }
        // The message alone, on this thread: templates, then templates and
        // MIME together, for the reminder the benchmark sends.
        let sample = hanbao::mail::render::sample_notices(now())
            .into_iter()
            .next()
            .expect("a reminder sample");
        let templates = composer.templates();
        let start = Instant::now();
        for _ in 0..rounds * n {
            std::hint::black_box(templates.render(&sample, "bench").unwrap());
        }
        let rendering = start.elapsed();
        let start = Instant::now();
        for _ in 0..rounds * n {
            std::hint::black_box(composer.compose(&sample).unwrap());
        }
        let composing = start.elapsed();
        // The transport alone: one composed message sent N times by the
        // same pooled `Mailer` to the same sink, nothing else around it.
        let alone = composer.compose(&sample).unwrap();
        let mut transport = Duration::ZERO;
        for _ in 0..rounds {
            let start = Instant::now();
            for _ in 0..n {
                mailer.send(&alone).await.expect("sink accepts");
            }
            transport += start.elapsed();
        }
        ratios.sort_by(f64::total_cmp);
        let plain_rate = rate(rounds * n, plain);
        let ours_rate = rate(rounds * n, ours);
        println!(
            "Dispatch throughput, {n} reminders x {rounds} rounds, ~{size} bytes each, SQLite outbox on disk"
        );
        match external {
            Some(p) => println!("  sink: the SMTP server on 127.0.0.1:{p} (HANBAO_BENCH_SINK)"),
            None => println!("  sink: the in-process test sink (counts, keeps nothing)"),
        }
        println!(
            "  SMTP connections at once: {connections} (dispatcher lanes and plain clients alike)"
        );
        println!("  sink capacity (plain client):       {plain_rate:>8.0} msg/s");
        println!("  hanbao dispatcher (outbox->Mailer): {ours_rate:>8.0} msg/s");
        println!(
            "  ratio, all rounds:                  {:>8.1} %  (goal >= 80 %)",
            100.0 * ours_rate / plain_rate
        );
        println!(
            "  ratio per round: median {:.1} %, min {:.1} %, max {:.1} %",
            100.0 * ratios[rounds / 2],
            100.0 * ratios[0],
            100.0 * ratios[rounds - 1]
        );
        println!(
            "  SMTP connections opened by the dispatcher's Mailer: {connections} for {} messages",
            rounds * n
        );
        let per = |d: Duration| d.as_secs_f64() * 1e6 / (rounds * n) as f64;
        println!(
            "  per message: plain client {:.0} us, dispatcher {:.0} us, dispatcher without SMTP {:.0} us,\n  \
             of which claim (share of a {BATCH}-row query) {:.0} us, `sent` record alone {:.0} us,\n  \
             message built alone {:.0} us (templates {:.0} us, MIME and .ics {:.0} us),\n  \
             the Mailer alone sending a built message {:.0} us ({:.1} % of the plain client's rate);\n  \
             CPU of the whole process (2 cores; sink included) per message: plain client {:.0} us, dispatcher {:.0} us",
            per(plain),
            per(ours),
            per(no_smtp),
            per(claims),
            per(records),
            per(composing),
            per(rendering),
            per(composing.saturating_sub(rendering)),
            per(transport),
            100.0 * plain.as_secs_f64() / transport.as_secs_f64(),
            plain_cpu as f64 * 1e4 / (rounds * n) as f64,
            ours_cpu as f64 * 1e4 / (rounds * n) as f64
        );
    });
}
