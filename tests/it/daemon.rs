//! The daemon's pipeline end to end against a real SMTP server on
//! 127.0.0.1 (`support::smtp`): a simulated season of the sample directive
//! with the exact messages, stop on submit, grouped escalations, 4xx then
//! success, permanent 5xx, the server down then up, a crash between claim
//! and send (lease expiry), catch-up after a 30-day gap, the configured
//! language and templates, and on the real binary: SIGHUP with a broken
//! configuration, and `kill -9` while a send is in flight, then restart.

use std::path::Path;
use std::time::Duration;

use hanbao::calendar::WorkCalendar;
use hanbao::config::model::{Config, Smtp, SmtpSecurity, Transport};
use hanbao::mail::{Composer, Mailer, Templates};
use hanbao::outbox::simulate::simulate;
use hanbao::outbox::{Dispatcher, Planning};
use hanbao::store::{Key, NewSubmission, OutboxStatus, Source, Store};
use jiff::Timestamp;
use jiff::civil::{Date, date};

use crate::support::smtp::SmtpSink;
use hanbao::store::Outbox;

const OBLIGATION: &str = "nq121-6thang";
const UNITS: [&str; 3] = ["vp-ubnd", "so-noivu", "so-tuphap"];

/// The sample directive, reduced to one obligation and three reporters,
/// sending to the sink.
fn sample_config(port: u16) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/quang-ngai-4040.toml");
    let mut cfg = hanbao::config::load(&path).expect("sample config").config;
    cfg.obligations.retain(|o| o.id == OBLIGATION);
    cfg.obligations[0].reporters = UNITS.iter().map(|s| s.to_string()).collect();
    cfg.mail.transport = Transport::Smtp(Smtp {
        connections: 1,
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
    });
    cfg
}

struct Rig {
    cfg: Config,
    cal: WorkCalendar,
    composer: Composer,
    mailer: Mailer,
    store: Store,
    _dir: tempfile::TempDir,
}

impl Rig {
    async fn new(sink: &SmtpSink) -> Rig {
        let cfg = sample_config(sink.port());
        let dir = tempfile::tempdir().unwrap();
        let store = hanbao::store::open(&format!("sqlite://{}/h.db", dir.path().display()))
            .await
            .unwrap();
        Rig {
            cal: WorkCalendar::new(&cfg.calendar),
            composer: Composer::new(&cfg.mail, Templates::builtin()).unwrap(),
            mailer: Mailer::new(&cfg.mail)
                .unwrap()
                .with_send_timeout(Duration::from_secs(5)),
            store,
            cfg,
            _dir: dir,
        }
    }

    fn dispatcher<'a>(&'a self, owner: &'a str) -> Dispatcher<'a> {
        Dispatcher {
            cfg: &self.cfg,
            cal: &self.cal,
            composer: &self.composer,
            mailer: &self.mailer,
            owner,
        }
    }

    /// One daemon tick at `now`.
    async fn tick(&self, planning: &mut Planning, now: Timestamp) -> usize {
        planning
            .enqueue(&self.store, &self.cfg, &self.cal, now)
            .await
            .unwrap();
        let r = self
            .dispatcher("test")
            .run(&self.store, &|| now)
            .await
            .unwrap();
        r.sent.len()
    }
}

/// Local time in Vietnam (UTC+7, no DST).
fn vn(d: Date, h: i8, m: i8) -> Timestamp {
    jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh")
        .unwrap()
        .to_timestamp(d.at(h, m, 0, 0))
        .unwrap()
}

fn submission(unit: &str, on: Date) -> NewSubmission {
    NewSubmission {
        key: Key::new(OBLIGATION, "2026-H1", unit),
        received_on: on,
        received_at: None,
        reference: None,
        note: None,
        actor: "test".into(),
        source: Source::Cli,
        correction: false,
    }
}

fn subject_of(text: &str) -> String {
    // The subject is RFC 2047-encoded; the index of `simulate` has it
    // decoded, so compare the decoded form from the dispatcher instead.
    text.lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap_or("")
        .to_string()
}

/// The subject of the grouped escalations: the report by its short title
/// and period in words, with how many of its three units have not sent it.
const ESCALATION: &str =
    "[Tình hình] 2/3 đơn vị chưa gửi Báo cáo thực hiện NQ 121/2020/QH14 kỳ 6 tháng đầu năm 2026";

/// The 2026 season of "nq121-6thang" for three units, one of which submits
/// on Monday 22/6. Expected dates checked by hand against the 2026 calendar:
/// due 18/06/2026 (override, a Thursday); reminders 5 and 1 working days
/// before: Thu 11/6 and Wed 17/6; due-day notice Thu 18/6; escalation
/// stage "0 days" = the morning after, Fri 19/6; "3 working days" = Tue 23/6;
/// "5 working days" = Thu 25/6, repeated every 5 working days twice: Thu 2/7
/// and Thu 9/7. All at 07:30, the start of sending hours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_season_sends_exactly_the_expected_messages() {
    let sink = SmtpSink::start().await;
    let rig = Rig::new(&sink).await;
    let mut sent = Vec::new();
    simulate(
        &rig.store,
        &rig.cfg,
        &rig.cal,
        &rig.composer,
        &rig.mailer,
        date(2026, 6, 1),
        date(2026, 7, 15),
        vec![submission("so-noivu", date(2026, 6, 22))],
        &[],
        &mut |m| sent.push(m),
    )
    .await
    .unwrap();
    let tz = &rig.cfg.daemon.time_zone;
    let got: Vec<(String, String, String)> = sent
        .iter()
        .map(|m| {
            let prefix = m.subject.split(']').next().unwrap_or("").to_string() + "]";
            let what = if m.kind == "escalation" {
                m.subject.clone()
            } else {
                prefix
            };
            (
                tz.to_datetime(m.sent_at)
                    .strftime("%d/%m %H:%M")
                    .to_string(),
                m.recipients.join(","),
                what,
            )
        })
        .collect();
    let unit_mail = |u: &str| match u {
        "vp-ubnd" => "vanthu@vpubnd.quangngai.example",
        "so-noivu" => "vanthu@sonoivu.quangngai.example",
        _ => "vanthu@sotuphap.quangngai.example",
    };
    let mut want: Vec<(String, String, String)> = Vec::new();
    let mut push = |day: &str, to: &str, what: &str| {
        want.push((format!("{day} 07:30"), to.to_string(), what.to_string()))
    };
    for (day, what) in [
        ("11/06", "[Nhắc hạn]"),
        ("17/06", "[Nhắc hạn]"),
        ("18/06", "[Đến hạn hôm nay 18/06/2026]"),
        ("19/06", "[Quá hạn]"),
    ] {
        for u in UNITS {
            push(day, unit_mail(u), what);
        }
    }
    // so-noivu submitted on 22/6: nothing more for it.
    push("23/06", unit_mail("vp-ubnd"), "[Quá hạn]");
    push("23/06", unit_mail("so-tuphap"), "[Quá hạn]");
    push("23/06", "vanthu@soldtbxh.quangngai.example", ESCALATION);
    for day in ["25/06", "02/07", "09/07"] {
        push(day, unit_mail("vp-ubnd"), "[Quá hạn]");
        push(day, unit_mail("so-tuphap"), "[Quá hạn]");
        push(day, "vanthu@soldtbxh.quangngai.example", ESCALATION);
        push(day, "vanthu@ubnd.quangngai.example", ESCALATION);
    }
    let mut got_sorted = got.clone();
    got_sorted.sort();
    want.sort();
    assert_eq!(got_sorted, want, "in sending order: {got:#?}");
    // Every message went over SMTP, each to its one recipient.
    let received = sink
        .wait_for_messages(want.len(), Duration::from_secs(10))
        .await;
    assert_eq!(received.len(), want.len());
    assert!(received.iter().all(|r| r.rcpt_to.len() == 1));
    assert!(!subject_of(&received[0].text()).is_empty());
    // The grouped escalation lists both late units.
    let grouped = received
        .iter()
        .find(|r| r.rcpt_to == ["vanthu@ubnd.quangngai.example"])
        .unwrap()
        .text();
    assert!(grouped.contains("X-Hanbao-Kind: escalation"), "{grouped}");
}

async fn one_reminder(rig: &Rig) -> Timestamp {
    // Thursday 11/6/2026 07:30: the first reminder of all three units.
    let now = vn(date(2026, 6, 11), 7, 30);
    let mut planning = Planning::default();
    planning
        .enqueue(&rig.store, &rig.cfg, &rig.cal, now)
        .await
        .unwrap();
    assert_eq!(
        rig.store
            .outbox(Some(OutboxStatus::Pending))
            .await
            .unwrap()
            .len(),
        3
    );
    now
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_4xx_is_retried_then_sent() {
    let sink = SmtpSink::start().await;
    let rig = Rig::new(&sink).await;
    let now = one_reminder(&rig).await;
    sink.fail_next_messages(1, 451, "4.3.0 try later");
    let r = rig.dispatcher("t").run(&rig.store, &|| now).await.unwrap();
    assert_eq!((r.sent.len(), r.retried, r.failed), (2, 1, 0));
    let pending = rig.store.outbox(Some(OutboxStatus::Pending)).await.unwrap();
    assert_eq!(pending.len(), 1);
    // First retry after one minute, inside the sending hours.
    assert_eq!(pending[0].next_attempt_at, vn(date(2026, 6, 11), 7, 31));
    assert!(pending[0].last_error.as_deref().unwrap().contains("451"));
    let later = vn(date(2026, 6, 11), 7, 31);
    let r = rig
        .dispatcher("t")
        .run(&rig.store, &|| later)
        .await
        .unwrap();
    assert_eq!(r.sent.len(), 1);
    assert_eq!(
        sink.wait_for_messages(3, Duration::from_secs(5))
            .await
            .len(),
        3
    );
    assert_eq!(
        rig.store
            .outbox(Some(OutboxStatus::Sent))
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_5xx_is_failed_and_never_retried() {
    let sink = SmtpSink::start().await;
    let rig = Rig::new(&sink).await;
    let now = one_reminder(&rig).await;
    sink.reject_recipient(
        "vanthu@sotuphap.quangngai.example",
        550,
        "5.1.1 no such user",
    );
    let r = rig.dispatcher("t").run(&rig.store, &|| now).await.unwrap();
    assert_eq!((r.sent.len(), r.retried, r.failed), (2, 0, 1));
    let failed = rig.store.outbox(Some(OutboxStatus::Failed)).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].key.unit, "so-tuphap");
    assert!(failed[0].last_error.as_deref().unwrap().contains("550"));
    // Nothing is claimed again, however late.
    let later = vn(date(2026, 6, 11), 10, 0);
    let r = rig
        .dispatcher("t")
        .run(&rig.store, &|| later)
        .await
        .unwrap();
    assert_eq!((r.sent.len(), r.retried, r.failed), (0, 0, 0));
    // And the digest reports it.
    let digest = hanbao::outbox::digest::build(&rig.store, &rig.cfg, &rig.cal, later)
        .await
        .unwrap();
    assert_eq!(digest.failed_sends.len(), 1);
    assert_eq!(
        digest.failed_sends[0].recipient,
        "vanthu@sotuphap.quangngai.example"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_down_then_up_delivers_everything() {
    let sink = SmtpSink::start().await;
    let rig = Rig::new(&sink).await;
    let now = one_reminder(&rig).await;
    sink.stop().await;
    let r = rig.dispatcher("t").run(&rig.store, &|| now).await.unwrap();
    assert_eq!((r.sent.len(), r.retried), (0, 3));
    sink.restart().await;
    // Not before the backoff: nothing is due at 07:30:30.
    let early = now
        .checked_add(jiff::SignedDuration::from_secs(30))
        .unwrap();
    let r = rig
        .dispatcher("t")
        .run(&rig.store, &|| early)
        .await
        .unwrap();
    assert_eq!(r.sent.len(), 0);
    let later = vn(date(2026, 6, 11), 7, 31);
    let r = rig
        .dispatcher("t")
        .run(&rig.store, &|| later)
        .await
        .unwrap();
    assert_eq!(r.sent.len(), 3);
    assert_eq!(
        sink.wait_for_messages(3, Duration::from_secs(5))
            .await
            .len(),
        3
    );
}

/// A process that claimed rows and died before sending (kill -9 between
/// claim and send): the rows stay `sending` until the lease ends, then
/// another dispatcher sends them. Each message goes out exactly once here;
/// a duplicate is possible only if the dead process had already handed a
/// message to the server before dying (not recorded as sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_left_sending_by_a_crash_are_sent_after_the_lease() {
    let sink = SmtpSink::start().await;
    let rig = Rig::new(&sink).await;
    let now = one_reminder(&rig).await;
    let lease_end = now.checked_add(hanbao::outbox::dispatch::LEASE).unwrap();
    let claimed = rig
        .store
        .claim("crashed", now, lease_end, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3);
    // The restarted daemon before the lease ends: nothing to do.
    let r = rig
        .dispatcher("restarted")
        .run(&rig.store, &|| now)
        .await
        .unwrap();
    assert_eq!(r.sent.len(), 0);
    let r = rig
        .dispatcher("restarted")
        .run(&rig.store, &|| lease_end)
        .await
        .unwrap();
    assert_eq!(r.sent.len(), 3);
    let got = sink.wait_for_messages(3, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 3);
    let sent = rig.store.outbox(Some(OutboxStatus::Sent)).await.unwrap();
    assert!(sent.iter().all(|r| r.attempts == 2));
    // Message-IDs are derived from the keys: the same on any attempt.
    let ids: std::collections::BTreeSet<_> =
        sent.iter().filter_map(|r| r.message_id.clone()).collect();
    assert_eq!(ids.len(), 3);
}

/// Down from Wed 10/6 (before the first reminder) to Fri 10/7/2026: every
/// stage in between passed. On start, at most one message per unit (the
/// most advanced stage: escalation stage 4 of 2/7) plus one grouped
/// escalation per recipient; reminders and earlier stages are skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_after_a_30_day_gap_is_bounded() {
    let sink = SmtpSink::start().await;
    let rig = Rig::new(&sink).await;
    let mut planning = Planning::default();
    assert_eq!(
        rig.tick(&mut planning, vn(date(2026, 6, 10), 8, 0)).await,
        0
    );
    let back = vn(date(2026, 7, 10), 8, 0);
    let sent = rig.tick(&mut planning, back).await;
    // 3 overdue notices + one escalation each to so-ldtbxh and ubnd-tinh.
    assert_eq!(sent, 5);
    let all = rig.store.outbox(None).await.unwrap();
    let pending_or_sent = all
        .iter()
        .filter(|r| r.status == OutboxStatus::Sent)
        .count();
    assert_eq!(pending_or_sent, 3 + 6);
    assert!(all.iter().any(|r| r.status == OutboxStatus::Skipped));
    // Ticks later the same day, and a clock jumping back a week, add nothing.
    assert_eq!(
        rig.tick(&mut planning, vn(date(2026, 7, 10), 8, 1)).await,
        0
    );
    assert_eq!(rig.tick(&mut planning, vn(date(2026, 7, 3), 8, 0)).await, 0);
    let mut fresh = Planning::default();
    assert_eq!(rig.tick(&mut fresh, vn(date(2026, 7, 10), 9, 0)).await, 0);
    assert_eq!(sink.message_count(), 5);
}

/// `run`'s engine uses `[mail] language` and the `mail.templates` overrides;
/// a broken override makes the build (start or reload) fail with its file
/// and line, so the old engine stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_uses_the_configured_language_and_templates() {
    use hanbao::daemon::run::{Engine, RunError};
    use hanbao::live::Live;
    use tokio_util::sync::CancellationToken;
    let sink = SmtpSink::start().await;
    let tdir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tdir.path().join("en")).unwrap();
    std::fs::write(
        tdir.path().join("en/reminder.subject"),
        "[Reminder] {{ obligation.id }} due {{ due|date }}\n",
    )
    .unwrap();
    let mut cfg = sample_config(sink.port());
    cfg.mail.language = hanbao::config::model::Language::En;
    cfg.mail.templates = Some(tdir.path().to_path_buf());
    let dir = tempfile::tempdir().unwrap();
    let store = hanbao::store::open(&format!("sqlite://{}/h.db", dir.path().display()))
        .await
        .unwrap();
    let mut engine = Engine::build(Live::new(cfg.clone()).into()).unwrap();
    // Thursday 11/6/2026 07:30: the first reminder of the three units.
    let now = vn(date(2026, 6, 11), 7, 30);
    engine
        .tick(&store, "test", &|| now, &CancellationToken::new())
        .await;
    let got = sink.wait_for_messages(3, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 3);
    for m in &got {
        assert!(
            m.text()
                .contains("Subject: [Reminder] nq121-6thang due 18/06/2026"),
            "{}",
            subject_of(&m.text())
        );
    }

    let bad = tdir.path().join("en/overdue.txt");
    std::fs::write(&bad, "Dear {{ unit.name }},\n\n{{ no_such_variable }}\n").unwrap();
    let err = match Engine::build(Live::new(cfg).into()) {
        Err(e) => e,
        Ok(_) => panic!("a broken template must fail the build"),
    };
    assert!(matches!(err, RunError::Templates(_)), "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("{}:3:", bad.display())), "{text}");
}

/// SIGHUP with a broken configuration: the daemon logs why and keeps running
/// on the old one; SIGTERM then stops it cleanly.
#[test]
fn sighup_with_a_broken_config_keeps_the_old_one() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("hanbao.toml");
    let good = "[daemon]\ntime_zone = \"Asia/Ho_Chi_Minh\"\n";
    std::fs::write(&cfg_path, good).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hanbao"))
        .arg("--config")
        .arg(&cfg_path)
        .arg("run")
        .env("HANBAO_STATE_DIR", dir.path().join("state"))
        .env("HANBAO_LOG", "info")
        .env_remove("JOURNAL_STREAM")
        .env_remove("NOTIFY_SOCKET")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let signal = |sig: &str| {
        assert!(
            Command::new("kill")
                .args([sig, &pid])
                .status()
                .unwrap()
                .success()
        );
    };
    std::thread::sleep(Duration::from_secs(3));
    std::fs::write(&cfg_path, "[daemon]\ntime_zone = \"Mars/Olympus\"\n").unwrap();
    signal("-HUP");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        child.try_wait().unwrap().is_none(),
        "still running after SIGHUP"
    );
    signal("-TERM");
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{status}: {err}");
    assert!(err.contains("giữ cấu hình cũ"), "{err}");
    assert!(err.contains("Mars/Olympus"), "{err}");
    assert!(err.contains("đã dừng"), "{err}");
    assert!(dir.path().join("state/hanbao.db").exists());
}

/// The crash test on the real binary: `hanbao run` against a SQLite
/// database and the sink, killed with SIGKILL while a send is in flight,
/// then restarted. Everything is delivered; the only duplicate is the one
/// message the server had accepted when the process died (its reply was
/// lost), and duplicates never exceed the rows left `sending` by the crash.
///
/// No virtual clock: the configuration written here makes the test's own
/// day a working day with sending hours 00:00–23:59, and asks for one
/// reminder per unit today (a one-off report due in three days, reminded
/// three days before), so the daemon's first tick enqueues and sends them.
/// Only the 15-minute lease is shortened, by expiring it in the database
/// between the kill and the restart (what waiting 15 minutes would do).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_sending_then_restart_delivers_everything() {
    use hanbao::config::model::CalendarSettings;
    use std::collections::BTreeMap;
    use std::process::{Command, Stdio};

    const UNITS_N: usize = 12;
    const BEFORE_SWALLOW: usize = 4;
    let sink = SmtpSink::start().await;
    sink.swallow_message(BEFORE_SWALLOW);

    let (zone, tz) = crate::support::daytime_zone();
    let today = tz.to_datetime(Timestamp::now()).date();
    let due = today.checked_add(jiff::Span::new().days(3)).unwrap();
    let cal = WorkCalendar::new(&CalendarSettings {
        culture_day: true,
        ..Default::default()
    });
    let mut toml = format!(
        "[daemon]\ntime_zone = \"{zone}\"\nsending_hours = \"00:00-23:59\"\n\n\
         [mail]\ntransport = \"smtp\"\nfrom = \"Sở Thử <baocao@so.example>\"\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\n",
        sink.port()
    );
    if !cal.is_working_day(today) {
        toml.push_str(&format!(
            "[[calendar.working_days]]\ndate = \"{today}\"\nreason = \"crash test\"\n\n"
        ));
    }
    toml.push_str("[[unit]]\nid = \"so\"\nname = \"Sở\"\nemail = \"vanthu@so.example\"\n\n");
    let units: Vec<String> = (1..=UNITS_N).map(|i| format!("xa-{i:02}")).collect();
    for u in &units {
        toml.push_str(&format!(
            "[[unit]]\nid = \"{u}\"\nname = \"UBND {u}\"\nemail = \"vanthu@{u}.example\"\n\n"
        ));
    }
    toml.push_str(&format!(
        "[[obligation]]\nid = \"bc-thu\"\ntitle = \"Báo cáo thử\"\nreporters = [{}]\n\
         recipient = \"so\"\ncycle = \"once\"\ndue = \"{due}\"\nroll_to_working_day = false\n\
         reminders = [\"3 ngày\"]\n",
        units
            .iter()
            .map(|u| format!("\"{u}\""))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("hanbao.toml");
    std::fs::write(&cfg_path, &toml).unwrap();
    let state = dir.path().join("state");
    let spawn = |log: &str| {
        Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .arg("--config")
            .arg(&cfg_path)
            .arg("run")
            .env("HANBAO_STATE_DIR", &state)
            .env("HANBAO_LOG", "info")
            .env_remove("HANBAO_DATABASE")
            .env_remove("JOURNAL_STREAM")
            .env_remove("NOTIFY_SOCKET")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join(log)).unwrap())
            .spawn()
            .unwrap()
    };

    // First run: 4 messages acknowledged, the 5th taken by the server but
    // never acknowledged; the daemon waits for the reply (send timeout 60 s).
    let mut first = spawn("first.log");
    sink.wait_for_messages(BEFORE_SWALLOW + 1, Duration::from_secs(60))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    assert_eq!(sink.message_count(), BEFORE_SWALLOW + 1);

    let url = format!("sqlite://{}/hanbao.db", state.display());
    let store = hanbao::store::open(&url).await.unwrap();
    let rows = store.outbox(None).await.unwrap();
    let count = |st: OutboxStatus| rows.iter().filter(|r| r.status == st).count();
    assert_eq!(rows.len(), UNITS_N, "{rows:?}");
    assert_eq!(count(OutboxStatus::Sent), BEFORE_SWALLOW, "{rows:?}");
    let in_flight = count(OutboxStatus::Sending);
    assert_eq!(in_flight, UNITS_N - BEFORE_SWALLOW, "{rows:?}");
    store.close().await;
    // What 15 minutes would do: the dead process's leases end.
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE outbox SET lease_until = 0 WHERE status = 'sending'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    // Second run: everything left is sent, the swallowed message again.
    let mut second = spawn("second.log");
    let got = sink
        .wait_for_messages(UNITS_N + 1, Duration::from_secs(60))
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        Command::new("kill")
            .args(["-TERM", &second.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = second.wait().unwrap();
    let log = std::fs::read_to_string(dir.path().join("second.log")).unwrap();
    assert!(status.success(), "{status}: {log}");
    let got_after = sink.messages();
    assert_eq!(got_after.len(), got.len(), "nothing more after the backlog");

    let mut per_id: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for m in &got_after {
        let text = m.text();
        let id = text
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
            .unwrap_or_else(|| panic!("no Message-ID:\n{text}"))
            .to_string();
        per_id.entry(id).or_default().push(m.rcpt_to.clone());
    }
    // Every unit got its reminder.
    let mut reached: Vec<String> = per_id.values().flatten().flatten().cloned().collect();
    reached.sort();
    reached.dedup();
    let want: Vec<String> = units
        .iter()
        .map(|u| format!("vanthu@{u}.example"))
        .collect();
    assert_eq!(reached, want);
    let duplicates = got_after.len() - per_id.len();
    assert_eq!(duplicates, 1, "{per_id:?}");
    assert!(duplicates <= in_flight);
    // The duplicate is the swallowed message, under the same Message-ID.
    let swallowed = &got[BEFORE_SWALLOW];
    let dup: Vec<_> = per_id.iter().filter(|(_, v)| v.len() > 1).collect();
    assert_eq!(dup.len(), 1);
    assert_eq!(dup[0].1[0], swallowed.rcpt_to);

    let store = hanbao::store::open(&url).await.unwrap();
    let rows = store.outbox(None).await.unwrap();
    assert!(
        rows.iter().all(|r| r.status == OutboxStatus::Sent),
        "{rows:?}"
    );
    let retried = rows.iter().filter(|r| r.attempts == 2).count();
    assert_eq!(retried, in_flight, "{rows:?}");
    store.close().await;
}

/// The daemon's log as its administrator reads it: every line stamped with
/// the local time of `daemon.time_zone` and its offset (the process runs
/// with `TZ=UTC`), in Vietnamese, saying what was planned (which
/// obligation and period, which notice, for how many units), what was
/// skipped and why, and what was sent.
///
/// A one-off report due ten days ago with a reminder three days before
/// and an overdue notice the morning after: on start the daemon skips the
/// reminder (its deadline passed) and sends the overdue notice at once
/// (today made a working day, sending hours all day, mail as .eml files).
#[test]
fn daemon_log_is_local_time_and_says_what_was_planned_and_why() {
    use hanbao::config::model::CalendarSettings;
    use std::process::{Command, Stdio};

    let tz = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
    let today = tz.to_datetime(Timestamp::now()).date();
    let due = today.checked_sub(jiff::Span::new().days(10)).unwrap();
    let cal = WorkCalendar::new(&CalendarSettings {
        culture_day: true,
        ..Default::default()
    });
    let mut toml = String::from(
        "[daemon]\ntime_zone = \"Asia/Ho_Chi_Minh\"\nsending_hours = \"00:00-23:59\"\nhttp_listen = \"127.0.0.1:0\"\n\n",
    );
    if !cal.is_working_day(today) {
        toml.push_str(&format!(
            "[[calendar.working_days]]\ndate = \"{today}\"\nreason = \"log test\"\n\n"
        ));
    }
    toml.push_str(
        "[[unit]]\nid = \"so\"\nname = \"Sở\"\nemail = \"vanthu@so.example\"\n\n\
         [[unit]]\nid = \"xa-a\"\nname = \"UBND xã A\"\nemail = \"a@xa.example\"\n\n\
         [[unit]]\nid = \"xa-b\"\nname = \"UBND xã B\"\nemail = \"b@xa.example\"\n\n",
    );
    toml.push_str(&format!(
        "[[obligation]]\nid = \"bc-thu\"\ntitle = \"Báo cáo thử\"\nreporters = [\"xa-a\", \"xa-b\"]\n\
         recipient = \"so\"\ncycle = \"once\"\ndue = \"{due}\"\nroll_to_working_day = false\n\
         reminders = [\"3 ngày\"]\n\n[[obligation.escalation]]\nafter = \"0 ngày\"\nnotify = [\"unit\"]\n"
    ));
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("hanbao.toml");
    std::fs::write(&cfg_path, &toml).unwrap();
    let log_path = dir.path().join("run.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hanbao"))
        .arg("--config")
        .arg(&cfg_path)
        .arg("run")
        .env("HANBAO_STATE_DIR", dir.path().join("state"))
        .env("HANBAO_LOG", "info")
        .env("TZ", "UTC")
        .env_remove("HANBAO_DATABASE")
        .env_remove("JOURNAL_STREAM")
        .env_remove("NOTIFY_SOCKET")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(&log_path)
        .unwrap()
        .contains("đợt gửi:")
        && started.elapsed() < Duration::from_secs(90)
        && child.try_wait().unwrap().is_none()
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(status.success(), "{status}: {log}");

    // Every line is stamped in local time with its offset.
    let stamp = |l: &str| {
        let s = l.split_whitespace().next().unwrap_or("");
        s.len() == "2026-06-22T07:30:00.123+07:00".len()
            && s.ends_with("+07:00")
            && s.as_bytes()[10] == b'T'
    };
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        assert!(stamp(line), "not a local stamp: {line}\n{log}");
    }
    let due_vn = format!("{:02}/{:02}/{}", due.day(), due.month(), due.year());
    for want in [
        "hanbao đang chạy",
        "lập lịch thư: 2 thư mới chờ gửi",
        "lập lịch thư: bc-thu kỳ bc-thu: thư nhắc hạn (lần 1) — 2 đơn vị, 2 thư: bỏ qua (không bao giờ gửi) vì hạn nộp ",
        "lập lịch thư: bc-thu kỳ bc-thu: thư báo quá hạn (mức 1) gửi đơn vị — 2 đơn vị, 2 thư: chờ gửi từ ",
        "đợt gửi: đã gửi 2 thư (thư báo quá hạn 2)",
        "đã dừng",
    ] {
        assert!(log.contains(want), "wanted: {want}\n{log}");
    }
    assert!(log.contains(&format!("hạn nộp {due_vn} đã qua")), "{log}");
    for english in ["enqueued", "dispatched", "running", "stopped"] {
        assert!(!log.contains(english), "{english}: {log}");
    }
}

/// A first planning round (92 days back, no watermark) works one
/// obligation at a time; the rows it writes are the rows the pure
/// functions give for every obligation at once (`plan`, `candidates`,
/// `decide` over an empty store), with the same statuses, and its counts
/// and log lines add up.
#[tokio::test]
async fn batched_first_round_writes_what_planning_everything_at_once_gives() {
    use hanbao::outbox::{candidates, decide};
    use hanbao::planner::{Filter, plan};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/quang-ngai-4040.toml");
    let cfg = hanbao::config::load(&path).expect("sample config").config;
    let cal = WorkCalendar::new(&cfg.calendar);
    let dir = tempfile::tempdir().unwrap();
    let store = hanbao::store::open(&format!("sqlite://{}/h.db", dir.path().display()))
        .await
        .unwrap();
    // Late in a season: reminders, due days and escalations of several
    // obligations all fall in the 92 days looked back.
    let now = vn(date(2026, 8, 3), 9, 0);
    let mut planning = Planning::default();
    let from = planning.from(&cfg, now);
    let planned = planning.enqueue(&store, &cfg, &cal, now).await.unwrap();

    let today = cfg.daemon.time_zone.to_datetime(now).date();
    let events = plan(&cfg, &cal, from, today, &Filter::default());
    let cands = candidates(&cfg, &cal, &events);
    let mut want: Vec<(String, String, String, String, u32, String, String)> =
        decide(&cfg, &cal, &cands, &Default::default(), now)
            .into_iter()
            .map(|r| {
                (
                    r.key.obligation,
                    r.key.period,
                    r.key.unit,
                    r.key.kind.as_str().to_string(),
                    r.key.stage,
                    r.key.recipient,
                    r.status.as_str().to_string(),
                )
            })
            .collect();
    let mut got: Vec<_> = store
        .outbox(None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.key.obligation,
                r.key.period,
                r.key.unit,
                r.key.kind.as_str().to_string(),
                r.key.stage,
                r.key.recipient,
                r.status.as_str().to_string(),
            )
        })
        .collect();
    want.sort();
    got.sort();
    assert!(
        cfg.obligations.len() > 1 && want.len() > 100,
        "{} rows",
        want.len()
    );
    assert_eq!(got, want);
    assert_eq!(planned.pending + planned.skipped, want.len());
    assert!(!planned.written.is_empty());
    assert!(planned.report.written.is_empty(), "rows are not kept");
    let lines = planned.written.lines(&cfg);
    assert!(!lines.is_empty() && lines.len() <= 21, "{lines:?}");
    // The counts and the waiting rows, without reading the rows.
    let (pending, first) = store.outbox_waiting(OutboxStatus::Pending).await.unwrap();
    assert_eq!(pending as usize, planned.pending);
    let earliest = store
        .outbox(Some(OutboxStatus::Pending))
        .await
        .unwrap()
        .iter()
        .map(|r| r.next_attempt_at)
        .min();
    assert_eq!(first, earliest);
    // A second round writes nothing new.
    let again = Planning::default()
        .enqueue(&store, &cfg, &cal, now)
        .await
        .unwrap();
    assert_eq!((again.pending, again.skipped), (0, 0));
    assert_eq!(again.existing, want.len());
}
