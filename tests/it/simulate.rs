//! `hanbao simulate` on the real binary: the `--index-only` mode lists
//! exactly the messages the .eml mode writes, and writes no .eml file.
//! It does not check what the messages say (see `daemon.rs` for a season
//! with its exact expected messages).

use std::path::Path;
use std::process::Command;

/// Runs `simulate` on the sample directive for June–July 2026 into `out`.
fn run(out: &Path, extra: &[&str]) -> String {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/quang-ngai-4040.toml");
    let state = out.with_extension("state");
    let output = Command::new(env!("CARGO_BIN_EXE_hanbao"))
        .args(["--config", config, "simulate"])
        .args(["--from", "2026-06-01", "--to", "2026-07-31"])
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("HANBAO_STATE_DIR", &state)
        .env("HANBAO_LOG", "warn")
        .output()
        .expect("run hanbao");
    assert!(
        output.status.success(),
        "simulate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn eml_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "eml")
        })
        .count()
}

/// The index without its last column (the .eml path, or the Message-ID).
fn rows(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("index.tsv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once('\t').unwrap().0.to_string())
        .collect()
}

#[test]
fn index_only_lists_the_same_messages_and_writes_no_eml() {
    let tmp = tempfile::tempdir().unwrap();
    let (full, index) = (tmp.path().join("full"), tmp.path().join("index"));
    let full_summary = run(&full, &[]);
    let index_summary = run(&index, &["--index-only"]);

    let (a, b) = (rows(&full), rows(&index));
    assert!(a.len() > 10, "the season produces messages: {a:?}");
    assert_eq!(a[0], "sent_at\trecipients\tsubject");
    assert_eq!(a, b, "same send times, recipients and subjects, same order");
    assert_eq!(eml_files(&full), a.len() - 1, "one .eml per message");
    assert_eq!(eml_files(&index), 0, "--index-only writes no .eml");
    // The last column is the Message-ID, as in the .eml file's header.
    let first = std::fs::read_to_string(index.join("index.tsv")).unwrap();
    let id = first.lines().nth(1).unwrap().rsplit('\t').next().unwrap();
    assert!(id.starts_with('<') && id.ends_with('>'), "{id}");

    // Same summary, with the per-kind counts adding up to the total.
    assert_eq!(
        full_summary.lines().skip(1).collect::<Vec<_>>(),
        index_summary.lines().skip(1).collect::<Vec<_>>()
    );
    let total: usize = index_summary
        .lines()
        .skip(1)
        .map(|l| l.rsplit(' ').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, a.len() - 1, "{index_summary}");
}

#[test]
fn index_only_and_deliver_exclude_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/quang-ngai-4040.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_hanbao"))
        .args(["--config", config, "simulate"])
        .args(["--from", "2026-06-01", "--to", "2026-06-02"])
        .arg("--out")
        .arg(tmp.path())
        .args(["--index-only", "--deliver"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--index-only"));
}

/// The sample directive with `[daemon]` and `[mail]` as a deployment has
/// them: a public URL (confirmation links) and the coordinator's Reply-To.
fn deployment(dir: &Path) -> std::path::PathBuf {
    let main = dir.join("hanbao.toml");
    std::fs::write(
        &main,
        format!(
            "include = [\"{}/config/quang-ngai-4040.toml\"]\n\n\
             [daemon]\nhttp_listen = \"127.0.0.1:0\"\npublic_url = \"https://baocao.example\"\n\n\
             [mail]\nfrom = \"Sở LĐ-TB&XH Quảng Ngãi <baocao@soldtbxh.quangngai.example>\"\n\
             reply_to = \"Phòng Trẻ em - Bình đẳng giới <treem@soldtbxh.quangngai.example>\"\n",
            env!("CARGO_MANIFEST_DIR")
        ),
    )
    .unwrap();
    main
}

fn hanbao(config: &Path, state: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hanbao"));
    c.arg("--config")
        .arg(config)
        .env("HANBAO_STATE_DIR", state)
        .env("HANBAO_LOG", "warn")
        .env_remove("HANBAO_DATABASE");
    c
}

/// The .eml files of a directory, by name, with their bytes.
fn emls(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// `simulate` is a preview of the daemon: the real `hanbao run`, started on
/// a test clock at 00:00 of 15/06/2026 with the same database (one report
/// already in), stepped to 00:00 of 10/07/2026, writes exactly the .eml
/// files `simulate --from 2026-06-15 --to 2026-07-09` writes, byte for
/// byte: same Message-IDs, kinds, recipients, Date headers, confirmation
/// links (same key, same expiry) and the Monday digests at 08:00. The
/// season holds the catch-up of the first tick (the reminder of 11/6, sent
/// at 07:30 on 15/6), reminders, due-day notices, overdue notices, grouped
/// escalations and four digests. The clock steps 5 minutes at a time: every
/// instant that matters here (07:30, 08:00) is a multiple of 5 minutes, and
/// the 1-minute step takes five times as long for the same result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_writes_what_the_daemon_sends_on_a_test_clock() {
    use crate::support::procs::Daemon;
    use std::time::Duration;
    let tmp = tempfile::tempdir().unwrap();
    let config = deployment(tmp.path());
    let state = tmp.path().join("daemon-state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("link.key"), [7u8; 32]).unwrap();
    let submit = hanbao(&config, &state)
        .args([
            "submit",
            "nq121-6thang",
            "2026-H1",
            "so-yte",
            "--on",
            "2026-06-10",
        ])
        .output()
        .unwrap();
    assert!(submit.status.success(), "{submit:?}");

    let database = format!("sqlite://{}/hanbao.db", state.display());
    let mut daemon = Daemon::spawn_with(
        "daemon",
        &config,
        &database,
        tmp.path(),
        &[(
            "HANBAO_TEST_CLOCK",
            "2026-06-15T00:00:00+07:00..2026-07-10T00:00:00+07:00/5m",
        )],
    );
    daemon
        .wait_for_log("đồng hồ thử đã chạy đến cuối", Duration::from_secs(300))
        .await;
    assert!(daemon.term(Duration::from_secs(30)).success());

    let csv = tmp.path().join("submissions.csv");
    std::fs::write(
        &csv,
        "obligation,period,unit,received_on\nnq121-6thang,2026-H1,so-yte,2026-06-10\n",
    )
    .unwrap();
    let out = tmp.path().join("simulate");
    let sim = hanbao(&config, &state)
        .args(["simulate", "--from", "2026-06-15", "--to", "2026-07-09"])
        .arg("--submissions")
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(sim.status.success(), "{sim:?}");

    let (sent, simulated) = (emls(&state.join("outbox-mail")), emls(&out));
    let names =
        |m: &std::collections::BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&simulated), names(&sent), "the same Message-IDs");
    for (name, bytes) in &sent {
        assert!(simulated[name] == *bytes, "{name} differs");
    }
    let summary = String::from_utf8(sim.stdout).unwrap();
    for kind in [
        "bản tổng hợp: 4",
        "thư báo đến hạn hôm nay:",
        "thư đôn đốc:",
        "thư báo quá hạn:",
        "thư nhắc hạn:",
    ] {
        assert!(summary.contains(kind), "{kind} in {summary}");
    }
    assert!(sent.len() > 200, "{}", sent.len());
    let with_link = sent
        .values()
        .filter(|b| {
            let text = String::from_utf8_lossy(b);
            text.contains("X-Hanbao-Kind: reminder") || text.contains("X-Hanbao-Kind: overdue")
        })
        .count();
    assert!(
        with_link > 100,
        "reminders and overdue notices: {with_link}"
    );
}

/// The day the issue was found on: `simulate --from 2026-06-22 --to
/// 2026-06-22` sends what a daemon started that morning sends, the overdue
/// notice of every unit whose report of the first half is late (the stage
/// of 19/6, caught up at 07:30) and the Monday digest, not nothing.
#[test]
fn one_day_of_simulate_catches_up_as_the_daemon_does() {
    let tmp = tempfile::tempdir().unwrap();
    let config = deployment(tmp.path());
    let state = tmp.path().join("state");
    let out = tmp.path().join("out");
    let sim = hanbao(&config, &state)
        .args([
            "simulate",
            "--from",
            "2026-06-22",
            "--to",
            "2026-06-22",
            "--index-only",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(sim.status.success(), "{sim:?}");
    let summary = String::from_utf8(sim.stdout).unwrap();
    // 33 reporters of nq121-6thang (the provincial departments and the
    // districts); so-ldtbxh's compiled report is not due yet.
    assert!(summary.contains("  thư báo quá hạn: 33\n"), "{summary}");
    assert!(summary.contains("  bản tổng hợp: 1\n"), "{summary}");
    let index = std::fs::read_to_string(out.join("index.tsv")).unwrap();
    assert!(
        index
            .lines()
            .skip(1)
            .all(|l| l.starts_with("2026-06-22 07:30") || l.starts_with("2026-06-22 08:00")),
        "{index}"
    );
}

/// `plan` lists every message `simulate` sends, and nothing it does not:
/// over June–July 2026 on the sample directive (no report arrives, and
/// nothing from the look-back window is pending on 1/6), the set of
/// (time, kind, recipient) of the plan's messages (reminders, due-day
/// notices, overdue notices, escalations, digests) is the set of the
/// simulated messages' (escalations to one recipient at one time are one
/// grouped message).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_lists_every_message_simulate_sends() {
    use hanbao::calendar::WorkCalendar;
    use hanbao::commands::plan::{EntryKind, entries};
    use hanbao::mail::Mailer;
    use hanbao::planner::{Filter, plan};
    use jiff::civil::date;
    use std::collections::BTreeSet;

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/quang-ngai-4040.toml");
    let cfg = hanbao::config::load(&path).unwrap().config;
    let cal = WorkCalendar::new(&cfg.calendar);
    let (from, to) = (date(2026, 6, 1), date(2026, 7, 31));
    let digests = hanbao::commands::simulate::digest_instants(&cfg, from, to).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = hanbao::store::open(&format!("sqlite://{}/s.db", dir.path().display()))
        .await
        .unwrap();
    let composer = hanbao::outbox::composer(&cfg).unwrap();
    let mut sent = Vec::new();
    hanbao::outbox::simulate::simulate(
        &store,
        &cfg,
        &cal,
        &composer,
        &Mailer::discard(),
        from,
        to,
        vec![],
        &digests,
        &mut |m| sent.push(m),
    )
    .await
    .unwrap();
    let simulated: BTreeSet<(jiff::Timestamp, String, String)> = sent
        .iter()
        .map(|m| {
            assert_eq!(m.recipients.len(), 1);
            (m.sent_at, m.kind.to_string(), m.recipients[0].clone())
        })
        .collect();
    assert_eq!(
        simulated.len(),
        sent.len(),
        "one message per (time, kind, recipient)"
    );

    let events = plan(&cfg, &cal, from, to, &Filter::default());
    let planned: BTreeSet<(jiff::Timestamp, String, String)> =
        entries(&cfg, &cal, &events, &digests)
            .iter()
            .filter(|e| e.kind != EntryKind::Deadline)
            .flat_map(|e| {
                e.recipients
                    .iter()
                    .map(|r| (e.at, e.kind.code().to_string(), r.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
    let kinds: BTreeSet<&str> = planned.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["digest", "due_today", "escalation", "overdue", "reminder"])
    );
    let only_planned: Vec<_> = planned.difference(&simulated).collect();
    let only_simulated: Vec<_> = simulated.difference(&planned).collect();
    assert!(
        only_planned.is_empty() && only_simulated.is_empty(),
        "planned only: {only_planned:#?}\nsimulated only: {only_simulated:#?}"
    );
}

/// A daily report (due 10:00 the next working day) and a weekly one (due
/// 16:00 on Friday) of one commune around Tết 2026 (Sat 14/2–Sun 22/2,
/// checked by hand on the 2026 calendar), neither ever sent.
fn short_cycles() -> hanbao::config::model::Config {
    let text = "[daemon]\nsending_hours = \"07:30-17:00\"\n\
        [mail]\ntransport = \"file\"\nfrom = \"Sở Thử <baocao@so.example>\"\n\
        [[unit]]\nid = \"so\"\nname = \"Sở Thử\"\nemail = \"vanthu@so.example\"\n\
        [[unit]]\nid = \"xa-a\"\nname = \"UBND xã A\"\nemail = \"vanthu@xa-a.example\"\n\
        [[obligation]]\nid = \"bc-ngay\"\ntitle = \"Báo cáo nhanh trong ngày\"\n\
        reporters = [\"xa-a\"]\nrecipient = \"so\"\ncycle = \"hàng ngày\"\n\
        due = \"chậm nhất 10 giờ, 1 ngày làm việc\"\nactive_from = \"09/02/2026\"\n\
        [[obligation.escalation]]\nafter = \"0 ngày\"\nnotify = [\"unit\"]\n\
        repeat = { every = \"1 ngày làm việc\", limit = 3 }\n\
        [[obligation]]\nid = \"bc-tuan\"\ntitle = \"Báo cáo tuần\"\n\
        reporters = [\"xa-a\"]\nrecipient = \"so\"\ncycle = \"hàng tuần\"\n\
        due = \"trước 16 giờ 00 thứ Sáu\"\nactive_from = \"09/02/2026\"\nreminders = [\"1 ngày\"]\n\
        [[obligation.escalation]]\nafter = \"1 ngày\"\nnotify = [\"unit\"]\n";
    hanbao::config::load_str("short.toml", text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

async fn simulate_short_cycles(
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Vec<hanbao::outbox::SentMessage> {
    simulated(&short_cycles(), from, to).await
}

/// What `simulate` sends for `cfg` from `from` to `to`, on a throwaway
/// SQLite database, with nothing submitted.
async fn simulated(
    cfg: &hanbao::config::model::Config,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Vec<hanbao::outbox::SentMessage> {
    let cal = hanbao::calendar::WorkCalendar::new(&cfg.calendar);
    let dir = tempfile::tempdir().unwrap();
    let store = hanbao::store::open(&format!("sqlite://{}/s.db", dir.path().display()))
        .await
        .unwrap();
    let composer = hanbao::outbox::composer(cfg).unwrap();
    let mut sent = Vec::new();
    hanbao::outbox::simulate::simulate(
        &store,
        cfg,
        &cal,
        &composer,
        &hanbao::mail::Mailer::discard(),
        from,
        to,
        vec![],
        &[],
        &mut |m| sent.push(m),
    )
    .await
    .unwrap();
    sent
}

/// (local day and time, kind, subject) of each message.
fn listed(sent: &[hanbao::outbox::SentMessage]) -> Vec<(String, &'static str, String)> {
    let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(7));
    sent.iter()
        .map(|m| {
            (
                tz.to_datetime(m.sent_at)
                    .strftime("%d/%m %H:%M")
                    .to_string(),
                m.kind,
                m.subject.clone(),
            )
        })
        .collect()
}

/// A unit late with its daily report for several days gets one overdue
/// notice a morning listing the late days, not one per day. Daily
/// periods (working days): 9–13/2, then 23/2 after Tết. Period 9/2 is due
/// Tue 10/2 10:00, overdue from Wed 11/2 (the morning after), repeated
/// each working day three times (Thu 12, Fri 13, Mon 23/2); 10/2 from
/// Thu 12 to Tue 24; 11/2 from Fri 13 to Wed 25; 12/2 (due Fri 13) from
/// Mon 23 (the morning after is a Tết day) to Thu 26; 13/2 (due Mon 23)
/// from Tue 24 to Fri 27; 23/2 from Wed 25; 24/2 from Thu 26; 25/2 on Fri 27.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_report_late_for_days_gets_one_overdue_notice_a_morning() {
    use jiff::civil::date;
    let sent = simulate_short_cycles(date(2026, 2, 9), date(2026, 2, 27)).await;
    let all = listed(&sent);
    let daily_overdue: Vec<(String, String)> = all
        .iter()
        .filter(|(_, k, s)| *k == "overdue" && s.contains("trong ngày"))
        .map(|(at, _, s)| {
            let more = s.split(" và ").nth(1).unwrap_or("-").to_string();
            (at.clone(), more)
        })
        .collect();
    assert_eq!(
        daily_overdue,
        [
            ("11/02 07:30", "-"),
            ("12/02 07:30", "1 kỳ khác"),
            ("13/02 07:30", "2 kỳ khác"),
            ("23/02 07:30", "3 kỳ khác"),
            ("24/02 07:30", "3 kỳ khác"),
            ("25/02 07:30", "3 kỳ khác"),
            ("26/02 07:30", "3 kỳ khác"),
            ("27/02 07:30", "3 kỳ khác"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string())),
        "{all:#?}"
    );
    // The oldest late day leads: on Tue 24/2, 10/2 (9/2's repeats are over).
    let tue = all
        .iter()
        .find(|(at, k, s)| at == "24/02 07:30" && *k == "overdue" && s.contains("trong ngày"))
        .unwrap();
    assert!(
        tue.2.contains("kỳ ngày 10/02/2026 và 3 kỳ khác"),
        "{}",
        tue.2
    );
    // The weekly report: week 7 (9–15/2) due Fri 13/2 16:00, reminded Thu
    // 12/2, due-day notice Fri 13/2, overdue on Mon 23/2 (Sat 14 is Tết);
    // week 8 (Tết) due Fri 20/2 rolled to Mon 23/2: its reminder (Fri 13/2)
    // would come before the week starts and is dropped; due-day notice Mon
    // 23/2, overdue 1 day later, Tue 24/2; week 9 (23/2–1/3) reminded Thu
    // 26/2, due Fri 27/2.
    let weekly: Vec<(&str, &str)> = all
        .iter()
        .filter(|(_, _, s)| s.contains("Báo cáo tuần"))
        .map(|(at, k, _)| (at.as_str(), *k))
        .collect();
    assert_eq!(
        weekly,
        [
            ("12/02 07:30", "reminder"),
            ("13/02 07:30", "due_today"),
            ("23/02 07:30", "due_today"),
            ("23/02 07:30", "overdue"),
            ("24/02 07:30", "overdue"),
            ("26/02 07:30", "reminder"),
            ("27/02 07:30", "due_today"),
        ],
        "{all:#?}"
    );
}

/// Catch-up after downtime: started on Mon 23/2 (down since before Tết),
/// the daemon sends one overdue notice for the daily report, listing the
/// four late days 9–12/2, not four messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_after_downtime_sends_one_notice_per_unit_and_report() {
    use jiff::civil::date;
    let sent = simulate_short_cycles(date(2026, 2, 23), date(2026, 2, 23)).await;
    let all = listed(&sent);
    let overdue: Vec<&String> = all
        .iter()
        .filter(|(_, k, _)| *k == "overdue")
        .map(|(_, _, s)| s)
        .collect();
    assert_eq!(overdue.len(), 2, "{all:#?}");
    assert!(
        overdue
            .iter()
            .any(|s| s.contains("kỳ ngày 09/02/2026 và 3 kỳ khác")),
        "{all:#?}"
    );
}

/// `plan` and `simulate` agree on short cycles with offsets in hours: a
/// daily report due 10:00 the next working day, reminded 2 hours before
/// (08:00) and overdue-noticed 1 hour after (11:00 the same day), and a
/// weekly one, around Tết 2026. The set of (time, kind, recipient) of the
/// planned messages is the set of the simulated ones (the overdue notices
/// of one unit and report at one time are one grouped message).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_simulate_agree_on_short_cycles_with_hours() {
    use hanbao::commands::plan::{EntryKind, entries};
    use hanbao::planner::{Filter, plan};
    use jiff::civil::date;
    use std::collections::BTreeSet;

    let text = "[daemon]\nsending_hours = \"07:30-17:00\"\n\
        [mail]\ntransport = \"file\"\nfrom = \"Sở Thử <baocao@so.example>\"\n\
        [[unit]]\nid = \"so\"\nname = \"Sở Thử\"\nemail = \"vanthu@so.example\"\n\
        [[unit]]\nid = \"xa-a\"\nname = \"UBND xã A\"\nemail = \"vanthu@xa-a.example\"\n\
        [[unit]]\nid = \"xa-b\"\nname = \"UBND xã B\"\nemail = \"vanthu@xa-b.example\"\n\
        [[obligation]]\nid = \"bc-ngay\"\ntitle = \"Báo cáo nhanh trong ngày\"\n\
        reporters = [\"xa-a\", \"xa-b\"]\nrecipient = \"so\"\ncycle = \"hàng ngày\"\n\
        due = \"chậm nhất 10 giờ, 1 ngày làm việc\"\nactive_from = \"09/02/2026\"\n\
        reminders = [\"2 giờ\"]\n\
        [[obligation.escalation]]\nafter = \"1 giờ\"\nnotify = [\"unit\", \"recipient\"]\n\
        repeat = { every = \"1 ngày làm việc\", limit = 2 }\n\
        [[obligation]]\nid = \"bc-tuan\"\ntitle = \"Báo cáo tuần\"\n\
        reporters = [\"xa-a\", \"xa-b\"]\nrecipient = \"so\"\ncycle = \"hàng tuần\"\n\
        due = \"trước 16 giờ 00 thứ Sáu\"\nactive_from = \"09/02/2026\"\nreminders = [\"1 ngày\"]\n\
        [[obligation.escalation]]\nafter = \"1 ngày\"\nnotify = [\"unit\"]\n";
    let cfg = hanbao::config::load_str("short.toml", text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    let cal = hanbao::calendar::WorkCalendar::new(&cfg.calendar);
    let (from, to) = (date(2026, 2, 9), date(2026, 2, 27));
    let sent = simulated(&cfg, from, to).await;
    let simulated: BTreeSet<(jiff::Timestamp, String, String)> = sent
        .iter()
        .map(|m| {
            assert_eq!(m.recipients.len(), 1);
            (m.sent_at, m.kind.to_string(), m.recipients[0].clone())
        })
        .collect();
    // One message per (time, kind, recipient, report): the two reports'
    // notices at one time are two messages, a report's grouped notices one.
    let report = |subject: &str| {
        if subject.contains("tuần") {
            "bc-tuan"
        } else {
            "bc-ngay"
        }
    };
    let distinct: BTreeSet<(jiff::Timestamp, &str, &str, &str)> = sent
        .iter()
        .map(|m| {
            (
                m.sent_at,
                m.kind,
                m.recipients[0].as_str(),
                report(&m.subject),
            )
        })
        .collect();
    assert_eq!(distinct.len(), sent.len(), "{distinct:#?}");
    let events = plan(&cfg, &cal, from, to, &Filter::default());
    let planned: BTreeSet<(jiff::Timestamp, String, String)> = entries(&cfg, &cal, &events, &[])
        .iter()
        .filter(|e| e.kind != EntryKind::Deadline)
        .flat_map(|e| {
            e.recipients
                .iter()
                .map(|r| (e.at, e.kind.code().to_string(), r.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let only_planned: Vec<_> = planned.difference(&simulated).collect();
    let only_simulated: Vec<_> = simulated.difference(&planned).collect();
    assert!(
        only_planned.is_empty() && only_simulated.is_empty(),
        "planned only: {only_planned:#?}\nsimulated only: {only_simulated:#?}"
    );
    // Hand-checked instants (+07:00): the daily reminder of period 12/2
    // (due Fri 13/2 10:00) at 08:00 on 13/2, its overdue notice at 11:00.
    let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(7));
    let at = |s: &str| {
        tz.to_timestamp(s.parse::<jiff::civil::DateTime>().unwrap())
            .unwrap()
    };
    let a = "vanthu@xa-a.example".to_string();
    assert!(simulated.contains(&(at("2026-02-13T08:00"), "reminder".into(), a.clone())));
    assert!(simulated.contains(&(at("2026-02-13T11:00"), "overdue".into(), a.clone())));
    // Overdue and escalation to the department at once for both communes:
    // one escalation message at 11:00 on Mon 23/2 (period 13/2 due 10:00).
    assert!(simulated.contains(&(
        at("2026-02-23T11:00"),
        "escalation".into(),
        "vanthu@so.example".into()
    )));
}

/// A grouped overdue notice is as idempotent as a grouped escalation: on
/// Mon 23/2/2026 at 08:00 (after Tết), the daily report's four late days
/// (9–12/2) are pending for the unit; a process claims them and dies
/// before sending; planning again writes nothing new; once the lease
/// (15 minutes) is over another process sends them as one message; a
/// further replan and run send nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grouped_overdue_notice_is_sent_once_after_a_crash_and_a_replan() {
    use hanbao::outbox::{Dispatcher, Planning};
    use hanbao::store::{Outbox, OutboxKind};

    let cfg = short_cycles();
    let cal = hanbao::calendar::WorkCalendar::new(&cfg.calendar);
    let dir = tempfile::tempdir().unwrap();
    let store = hanbao::store::open(&format!("sqlite://{}/s.db", dir.path().display()))
        .await
        .unwrap();
    let composer = hanbao::outbox::composer(&cfg).unwrap();
    let mailer = hanbao::mail::Mailer::discard();
    let at = |minutes: i64| -> jiff::Timestamp {
        "2026-02-23T01:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .checked_add(jiff::SignedDuration::from_mins(minutes))
            .unwrap()
    };
    let first = Planning::default()
        .enqueue(&store, &cfg, &cal, at(0))
        .await
        .unwrap();
    assert!(first.pending >= 4, "{first:?}");
    // The process that claims them dies before sending anything.
    let claimed = store.claim("dead", at(0), at(15), 1000).await.unwrap();
    let daily: Vec<&str> = claimed
        .iter()
        .filter(|r| r.key.obligation == "bc-ngay" && r.key.kind == OutboxKind::Overdue)
        .map(|r| r.key.period.as_str())
        .collect();
    assert_eq!(
        daily,
        ["2026-02-09", "2026-02-10", "2026-02-11", "2026-02-12"]
    );
    let d = Dispatcher {
        cfg: &cfg,
        cal: &cal,
        composer: &composer,
        mailer: &mailer,
        owner: "b",
    };
    let again = Planning::default()
        .enqueue(&store, &cfg, &cal, at(1))
        .await
        .unwrap();
    assert_eq!(again.pending, 0, "{again:?}");
    assert!(d.run(&store, &|| at(1)).await.unwrap().sent.is_empty());
    // After the lease: one overdue message for the daily report.
    let report = d.run(&store, &|| at(16)).await.unwrap();
    let daily: Vec<&str> = report
        .sent
        .iter()
        .filter(|m| m.kind == "overdue" && m.subject.contains("trong ngày"))
        .map(|m| m.subject.as_str())
        .collect();
    assert_eq!(daily.len(), 1, "{:#?}", report.sent);
    assert!(
        daily[0].contains("kỳ ngày 09/02/2026 và 3 kỳ khác"),
        "{}",
        daily[0]
    );
    let replan = Planning::default()
        .enqueue(&store, &cfg, &cal, at(17))
        .await
        .unwrap();
    assert_eq!(replan.pending, 0, "{replan:?}");
    assert!(d.run(&store, &|| at(18)).await.unwrap().sent.is_empty());
}

/// The supervisor of two communes late with a daily report hears of it in
/// one escalation with one line per commune, how many days and since when
/// (not one section per day). Simulated on Thu 26/2/2026 only, after Tết,
/// nothing sent since 9/2: the catch-up escalates every late day at once.
/// Hand-checked: periods 9–13/2 and 23–24/2 are late on the 26th's first
/// run (7 days; 25/2 is due at 10:00 that day, escalated from 11:00 on),
/// 9/2 was due Tue 10/2: 16 days, 7 working days (11, 12, 13, 23–26/2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_hears_of_a_daily_reports_late_days_in_one_line_per_unit() {
    use jiff::civil::date;
    let mut cfg = crate::outbox::daily_late(true);
    let out = tempfile::tempdir().unwrap();
    cfg.mail.transport = hanbao::config::model::Transport::File {
        dir: out.path().to_path_buf(),
    };
    let cal = hanbao::calendar::WorkCalendar::new(&cfg.calendar);
    let dir = tempfile::tempdir().unwrap();
    let store = hanbao::store::open(&format!("sqlite://{}/s.db", dir.path().display()))
        .await
        .unwrap();
    let composer = hanbao::outbox::composer(&cfg).unwrap();
    let mut sent = Vec::new();
    hanbao::outbox::simulate::simulate(
        &store,
        &cfg,
        &cal,
        &composer,
        &hanbao::mail::Mailer::new(&cfg.mail).unwrap(),
        date(2026, 2, 26),
        date(2026, 2, 26),
        vec![],
        &[],
        &mut |m| sent.push(m),
    )
    .await
    .unwrap();
    let escalations: Vec<_> = sent.iter().filter(|m| m.kind == "escalation").collect();
    let first = escalations
        .first()
        .unwrap_or_else(|| panic!("{:#?}", listed(&sent)));
    assert_eq!(
        first.subject,
        "[Đôn đốc] 2 đơn vị chưa gửi Báo cáo nhanh trong ngày, 7 kỳ từ ngày 09/02/2026",
        "{:#?}",
        listed(&sent)
    );
    let raw = std::fs::read_to_string(&first.detail).unwrap();
    let mail = crate::support::mime::Mail::parse(&raw);
    let text = mail.leaf("text/plain").text().replace("\r\n", "\n");
    for want in [
        "1. Báo cáo nhanh trong ngày, 7 kỳ từ ngày 09/02/2026 đến ngày 24/02/2026\n",
        "Đã nhận 0/14 lượt báo cáo. Các cơ quan, đơn vị trực thuộc chưa gửi (2):\n",
        "   - UBND xã A: 7 kỳ chưa gửi (từ kỳ ngày 09/02/2026), lâu nhất quá hạn 16 ngày (7 ngày làm việc)\n",
        "   - UBND xã B: 7 kỳ chưa gửi (từ kỳ ngày 09/02/2026), lâu nhất quá hạn 16 ngày (7 ngày làm việc)\n",
    ] {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }
    assert_eq!(text.matches("UBND xã A").count(), 1, "{text}");
}

/// A catch-up larger than one dispatch run (80 communes, a daily report
/// nobody sent since Mon 1/12/2025, the daemon first started on Mon
/// 2/2/2026: about 40 late working days each, over 3,000 overdue notices,
/// more than the 2,000 rows one run claims) still sends each commune one overdue
/// notice listing all its late days: the run claims every late period of
/// the units it holds, so no commune's days are split between runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catch_up_larger_than_one_run_still_sends_one_notice_per_unit() {
    use jiff::civil::date;
    use std::collections::BTreeMap;
    let mut text = String::from(
        "[daemon]\nsending_hours = \"07:30-17:00\"\n\
         [mail]\ntransport = \"file\"\nfrom = \"Sở Thử <baocao@so.example>\"\n\
         [[unit]]\nid = \"so\"\nname = \"Sở Thử\"\nemail = \"vanthu@so.example\"\n",
    );
    let communes: Vec<String> = (0..80).map(|i| format!("xa-{i:02}")).collect();
    for id in &communes {
        text.push_str(&format!(
            "[[unit]]\nid = \"{id}\"\nname = \"UBND {id}\"\nemail = \"vanthu@{id}.example\"\n"
        ));
    }
    let reporters: Vec<String> = communes.iter().map(|c| format!("\"{c}\"")).collect();
    text.push_str(&format!(
        "[[obligation]]\nid = \"bc-ngay\"\ntitle = \"Báo cáo nhanh trong ngày\"\n\
         reporters = [{}]\nrecipient = \"so\"\ncycle = \"hàng ngày\"\n\
         due = \"chậm nhất 10 giờ, 1 ngày làm việc\"\nactive_from = \"01/12/2025\"\n\
         [[obligation.escalation]]\nafter = \"1 giờ\"\nnotify = [\"unit\"]\n",
        reporters.join(", ")
    ));
    let cfg = hanbao::config::load_str("catch-up.toml", &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    // Working days from Mon 1/12/2025 to Thu 29/1/2026 (due by Fri 30/1
    // 10:00): each a late period at the first sending instant of 2/2.
    let cal = hanbao::calendar::WorkCalendar::new(&cfg.calendar);
    let late = std::iter::successors(Some(date(2025, 12, 1)), |d| d.tomorrow().ok())
        .take_while(|d| *d <= date(2026, 1, 29))
        .filter(|d| cal.is_working_day(*d))
        .count();
    assert!(late * communes.len() > 2_000, "{late}");
    let sent = simulated(&cfg, date(2026, 2, 2), date(2026, 2, 2)).await;
    let first = sent.iter().map(|m| m.sent_at).min().unwrap();
    let mut per_unit: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in sent
        .iter()
        .filter(|m| m.kind == "overdue" && m.sent_at == first)
    {
        assert_eq!(m.recipients.len(), 1);
        per_unit
            .entry(m.recipients[0].as_str())
            .or_default()
            .push(m.subject.as_str());
    }
    assert_eq!(per_unit.len(), communes.len(), "{per_unit:#?}");
    for (to, subjects) in &per_unit {
        assert_eq!(subjects.len(), 1, "{to}: {subjects:#?}");
        let want = format!("kỳ ngày 01/12/2025 và {} kỳ khác", late - 1);
        assert!(subjects[0].contains(&want), "{to}: {want}: {subjects:#?}");
    }
}
