//! SMTP throughput: hanbao's pooled `Mailer` against the sink's own capacity.
//!
//! Starts the test SMTP sink in-process, measures how many messages per
//! second a minimal plain client (a few lines over `TcpStream`, one
//! connection, no pipelining) gets through it, then how many hanbao's
//! `Mailer` delivers to the same sink with pooling, with the same message
//! bytes, in the same run. Prints both and the ratio (goal: >= 80 %).
//! Run with `cargo bench --bench smtp` (or `cargo test --bench smtp` for a
//! quick unoptimised run). Not a test: it asserts nothing about speed.

use std::time::{Duration, Instant};

use hanbao::config::model::{Mail, Smtp, SmtpSecurity, Transport};
use hanbao::mail::{
    Addressee, Composer, Deadline, Language, Mailer, Notice, NoticeKind, ObligationRef, Outgoing,
    PeriodRef, Templates, UnitRef,
};
use testkit::plain_smtp::{data_payload, plain_client};
use testkit::smtp::{SinkOptions, SmtpSink};

fn messages(mail: &Mail, n: usize) -> Vec<Outgoing> {
    let composer = Composer::new(mail, Templates::builtin()).expect("composer");
    let sent_at = "2026-06-19T01:00:00Z".parse().unwrap();
    (0..n)
        .map(|i| {
            let notice = Notice {
                kind: NoticeKind::Reminder({
                    let mut d = Deadline::new(
                        ObligationRef {
                            id: "nq121-6thang".into(),
                            title: "Báo cáo kết quả thực hiện Nghị quyết 121".into(),
                            short: "Báo cáo NQ 121".into(),
                            legal_basis: Some("Nghị quyết 121/NQ-HĐND".into()),
                        },
                        PeriodRef {
                            key: "2026-H1".into(),
                            label: "6 tháng đầu năm 2026".into(),
                        },
                        UnitRef {
                            id: format!("unit-{i}"),
                            name: format!("UBND xã số {i}"),
                        },
                        jiff::civil::date(2026, 6, 22),
                    );
                    d.days_left = 3;
                    d.speaker.agency = "Sở Lao động - Thương binh và Xã hội".into();
                    d
                }),
                language: Language::Vi,
                recipients: vec![Addressee::named(format!("u{i}@xa.example"), "Văn thư")],
                outbox_key: format!("bench|{i}"),
                sent_at,
            };
            composer.compose(&notice).expect("compose")
        })
        .collect()
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn main() {
    let n: usize = std::env::var("HANBAO_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let sink = SmtpSink::start_with(SinkOptions {
            count_only: true,
            ..Default::default()
        })
        .await;
        let mail = Mail {
            transport: Transport::Smtp(Smtp {
                connections: 1,
                host: "127.0.0.1".into(),
                port: sink.port(),
                security: SmtpSecurity::None,
                username: None,
                password: None,
            }),
            from: "Sở LĐ-TB&XH <baocao@so.example>".into(),
            reply_to: None,
            templates: None,
            language: Default::default(),
        };
        let compose_start = Instant::now();
        let msgs = messages(&mail, n);
        let compose = compose_start.elapsed();
        let bodies: Vec<(String, Vec<u8>)> = msgs
            .iter()
            .map(|m| (m.recipients()[0].clone(), m.bytes().to_vec()))
            .collect();
        let size = bodies.iter().map(|b| b.1.len()).sum::<usize>() / n;
        assert!(data_payload(b"a\r\n.b\r\n").ends_with(b"a\r\n..b\r\n.\r\n"));

        let mailer = Mailer::new(&mail).expect("mailer");
        // Warm up both paths (connection set-up, allocator, caches).
        plain_client(sink.port(), &bodies[..n.min(100)]).await;
        for m in &msgs[..n.min(100)] {
            mailer.send(m).await.expect("warm-up send");
        }

        // Alternate the two measurements, round by round, so load from
        // other processes hits both alike; report the median round.
        let rounds = 7;
        let mut plain = Duration::ZERO;
        let mut ours = Duration::ZERO;
        let mut ratios = Vec::new();
        for _ in 0..rounds {
            let p = plain_client(sink.port(), &bodies).await;
            let start = Instant::now();
            for m in &msgs {
                mailer.send(m).await.expect("send");
            }
            let o = start.elapsed();
            plain += p;
            ours += o;
            ratios.push(p.as_secs_f64() / o.as_secs_f64());
        }
        ratios.sort_by(f64::total_cmp);
        let plain_rate = rate(rounds * n, plain);
        let ours_rate = rate(rounds * n, ours);
        println!(
            "SMTP sink throughput, {n} messages x {rounds} rounds, ~{size} bytes each, one connection, sequential"
        );
        println!("  sink capacity (plain client): {plain_rate:>9.0} msg/s");
        println!("  hanbao Mailer (lettre, pool): {ours_rate:>9.0} msg/s");
        println!(
            "  ratio, all rounds:            {:>9.1} %  (goal >= 80 %)",
            100.0 * ours_rate / plain_rate
        );
        println!(
            "  ratio per round: median {:.1} %, min {:.1} %, max {:.1} %",
            100.0 * ratios[rounds / 2],
            100.0 * ratios[0],
            100.0 * ratios[rounds - 1]
        );
        println!("  composing (templates + MIME): {:>9.0} msg/s", rate(n, compose));
        println!(
            "  connections opened by the Mailer: {} for {} sends",
            mailer.connections_opened(),
            rounds * n + n.min(100)
        );
    });
}
