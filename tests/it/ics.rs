//! The .ics feeds read by a parser that is not ours: Python's `icalendar`
//! (PyPI; `.ci/run` installs it). The per-unit and all-deadlines feeds are
//! fetched twice from the running server (127.0.0.1:0), written to temp
//! files and parsed by `tests/ics_check.py`, which checks the structure
//! (VERSION, PRODID, UIDs, all-day DTSTART, exclusive DTEND, relative
//! alarms) and prints counts and per-event alarm triggers; this test
//! compares them with values checked by hand. A missing python3 or
//! icalendar fails the test with the install command.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use hanbao::http::{self, AppState};
use hanbao::mail::ids::calendar_uid;
use hanbao::store::{self, NewToken, Store, TokenRole};
use hanbao::store::{Records, Tokens};
use jiff::Timestamp;
use serde_json::Value;

/// One quarterly report with three reminders and one annual report with
/// none, for two units.
const CONFIG: &str = r#"
[[group]]
id = "so-nganh"

[[unit]]
id = "ubnd-tinh"
name = "UBND tỉnh"
email = "vanthu@ubnd.quangngai.example"

[[unit]]
id = "so-yte"
name = "Sở Y tế; \"Phòng, ban\""
email = "vanthu@soyte.quangngai.example"
groups = ["so-nganh"]

[[unit]]
id = "so-taichinh"
name = "Sở Tài chính"
email = "vanthu@sotc.quangngai.example"
groups = ["so-nganh"]

[[obligation]]
id = "bc-quy"
title = "Báo cáo quý, tình hình \\ kết quả"
legal_basis = "Công văn số 4040/UBND-KGVX ngày 28/8/2020"
reporters = ["so-nganh"]
recipient = "ubnd-tinh"
cycle = "quarterly"
due = "ngày 20"
reminders = ["7 ngày", "2 ngày làm việc", "0 ngày"]

[[obligation]]
id = "bc-nam"
title = "Báo cáo năm"
reporters = ["so-nganh"]
recipient = "ubnd-tinh"
cycle = "annual"
due = "20/12"
"#;

/// The 2026 due days and alarm triggers, by hand from a 2026 wall
/// calendar: "ngày 20" of March is Friday 20/03; 20/06 is a Saturday, 20/09
/// and 20/12 Sundays, each moved to the next Monday (Civil Code 148.5; no
/// holiday near any of them). "7 ngày" is 7 calendar days; "2 ngày làm
/// việc" before a Friday is the Wednesday (2), before a Monday the Thursday
/// (4); "0 ngày" is the day itself (0). Each alarm fires on its reminder
/// day at 07:30, the start of the sending hours, not at midnight: d days
/// before the all-day event's start (00:00 of the due day) plus 7 h 30 min,
/// that is `d * 1440 - 450` minutes before the start (the alarm on the due
/// day itself, -450, is 7 h 30 min after it). The annual report (due 20/12
/// -> Monday 21/12) has no reminders.
const fn at_0730(days: i64) -> i64 {
    days * 1440 - 450
}
const EXPECTED: [(&str, &str, &[i64]); 5] = [
    (
        "bc-quy",
        "2026-03-20",
        &[at_0730(0), at_0730(2), at_0730(7)],
    ),
    (
        "bc-quy",
        "2026-06-22",
        &[at_0730(0), at_0730(4), at_0730(7)],
    ),
    (
        "bc-quy",
        "2026-09-21",
        &[at_0730(0), at_0730(4), at_0730(7)],
    ),
    (
        "bc-quy",
        "2026-12-21",
        &[at_0730(0), at_0730(4), at_0730(7)],
    ),
    ("bc-nam", "2026-12-21", &[]),
];

async fn token(store: &Store, name: &str, role: TokenRole) -> String {
    let secret = http::token::generate().unwrap();
    store
        .create_token(
            NewToken {
                name: name.into(),
                role,
                hash: http::token::hash(&secret),
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    secret
}

/// The body of a GET that must answer 200.
async fn fetch(addr: SocketAddr, path: &str) -> String {
    let r = crate::support::http::Request::get(path).send(addr).await;
    let head = &r.head;
    assert!(String::from_utf8(r.bytes.clone()).is_ok(), "UTF-8 feed");
    assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/calendar"),
        "{head}"
    );
    assert!(
        !head.to_ascii_lowercase().contains("chunked"),
        "feeds are sent with a length"
    );
    r.body
}

/// Runs `tests/ics_check.py` on `files`; one JSON object per file.
fn python_check(files: &[&Path]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ics_check.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run python3 ({e}): install Python 3 and its icalendar package \
                 (apt-get install python3 python3-pip; python3 -m pip install icalendar)"
            )
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() != Some(3),
        "{stderr}(`.ci/run` installs it: python3 -m pip install icalendar)"
    );
    assert!(out.status.success(), "icalendar rejects the feed: {stderr}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn uids(v: &Value) -> Vec<String> {
    v["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uid"].as_str().unwrap().to_string())
        .collect()
}

/// Checks one parsed feed against [`EXPECTED`] for `units`; the first
/// quarter of so-yte was submitted: its event says so and has no alarm.
#[track_caller]
fn expect_feed(v: &Value, units: &[&str]) {
    let n = EXPECTED.len() * units.len();
    let alarms: usize = EXPECTED.iter().map(|e| e.2.len()).sum::<usize>() * units.len() - 3;
    assert_eq!(v["version"], "2.0");
    assert!(v["prodid"].as_str().unwrap().contains("hanbao"), "{v}");
    assert_eq!(v["events"], n, "{v}");
    assert_eq!(v["unique_uids"], n);
    assert_eq!(v["alarms"], alarms);
    let detail = v["detail"].as_array().unwrap();
    for unit in units {
        for (ob, start, triggers) in EXPECTED {
            let period = if ob == "bc-nam" {
                "2026".to_string()
            } else {
                let month: u32 = start[5..7].parse().unwrap();
                format!("2026-Q{}", (month - 1) / 3 + 1)
            };
            // The same UID as the .ics attached to that unit's reminders
            // (domain of `mail.from`; the default sender is at localhost).
            let uid = calendar_uid(ob, &period, unit, "localhost");
            let hit: Vec<&Value> = detail.iter().filter(|e| e["uid"] == uid).collect();
            assert_eq!(hit.len(), 1, "{ob} {period} {unit} in {v}");
            assert_eq!(hit[0]["start"], *start, "{ob} {period} {unit}");
            let got: Vec<i64> = hit[0]["triggers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_i64().unwrap())
                .collect();
            let summary = hit[0]["summary"].as_str().unwrap();
            if (*unit, ob, period.as_str()) == ("so-yte", "bc-quy", "2026-Q1") {
                assert!(got.is_empty(), "a submitted report has no alarm");
                assert!(summary.starts_with("Đã gửi (18/03/2026): "), "{summary}");
            } else {
                assert_eq!(got, triggers.to_vec(), "{ob} {period} {unit} alarms");
                assert!(summary.starts_with("Hạn: "), "{summary}");
            }
        }
    }
}

/// The coordinator's feed: one event per report-period of [`EXPECTED`]
/// (not one per unit), its description counting the two units as `hanbao
/// status` classifies them on the day of the request; the first quarter
/// (so-yte sent it on 18/03, before its due day 20/03) says 1 of 2 on
/// time, and keeps its alarms while so-taichinh has not sent it.
#[track_caller]
fn expect_report_feed(v: &Value) {
    let n = EXPECTED.len();
    let alarms: usize = EXPECTED.iter().map(|e| e.2.len()).sum();
    assert_eq!(v["events"], n, "{v}");
    assert_eq!(v["unique_uids"], n);
    assert_eq!(v["alarms"], alarms);
    let detail = v["detail"].as_array().unwrap();
    for (ob, start, triggers) in EXPECTED {
        let period = if ob == "bc-nam" {
            "2026".to_string()
        } else {
            let month: u32 = start[5..7].parse().unwrap();
            format!("2026-Q{}", (month - 1) / 3 + 1)
        };
        let uid = calendar_uid(ob, &period, "", "localhost");
        let hit: Vec<&Value> = detail.iter().filter(|e| e["uid"] == uid).collect();
        assert_eq!(hit.len(), 1, "{ob} {period} in {v}");
        assert_eq!(hit[0]["start"], *start, "{ob} {period}");
        let got: Vec<i64> = hit[0]["triggers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_i64().unwrap())
            .collect();
        assert_eq!(got, triggers.to_vec(), "{ob} {period} alarms");
        let summary = hit[0]["summary"].as_str().unwrap();
        let description = hit[0]["description"].as_str().unwrap();
        let sent = usize::from((ob, period.as_str()) == ("bc-quy", "2026-Q1"));
        assert!(
            summary.ends_with(&format!(" — đã nhận {sent}/2")),
            "{summary}"
        );
        assert!(summary.starts_with("Hạn: "), "{summary}");
        // Whatever today is, a report-period is owed by both units: the
        // units not sent are overdue once it has passed, none before.
        let today = jiff::tz::TimeZone::fixed(jiff::tz::offset(7))
            .to_datetime(Timestamp::now())
            .date();
        let due: jiff::civil::Date = start.parse().unwrap();
        let overdue = if due < today { 2 - sent } else { 0 };
        assert!(
            description.contains(&format!(
                "Đã nhận {sent}/2 báo cáo ({sent} đúng hạn, 0 trễ hạn), quá hạn {overdue}"
            )),
            "{description}"
        );
    }
}

#[tokio::test]
async fn feeds_parse_with_python_icalendar() {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&format!("sqlite://{}/h.db", dir.path().display()))
        .await
        .unwrap();
    let cfg = hanbao::config::load_str("ics.toml", CONFIG)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    store
        .record_submission(
            store::NewSubmission {
                key: store::Key::new("bc-quy", "2026-Q1", "so-yte"),
                received_on: jiff::civil::date(2026, 3, 18),
                received_at: None,
                reference: None,
                note: None,
                actor: "test".into(),
                source: store::Source::Cli,
                correction: false,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let admin = token(&store, "Lịch chung", TokenRole::Feed(None)).await;
    let yte = token(
        &store,
        "Lịch Sở Y tế",
        TokenRole::Feed(Some("so-yte".into())),
    )
    .await;
    let state = AppState::new(store.clone(), hanbao::live::Live::new(cfg).into(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(http::serve(listener, state, async move {
        let _ = stopped.await;
    }));

    let range = "from=2026-01-01&to=2026-12-31";
    let unit_path = format!("/ics/so-yte.ics?token={yte}&{range}");
    let all_path = format!("/ics/all.ics?token={admin}&{range}");
    let mut files = Vec::new();
    for (i, path) in [&unit_path, &all_path, &unit_path, &all_path]
        .into_iter()
        .enumerate()
    {
        let body = fetch(addr, path).await;
        let file = dir.path().join(format!("feed{i}.ics"));
        std::fs::write(&file, body).unwrap();
        files.push(file);
        // DTSTAMP has whole seconds: let the second fetch differ in it.
        if i == 1 {
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        }
    }
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let parsed = python_check(&refs);
    assert_eq!(parsed.len(), 4, "one line per file");
    expect_feed(&parsed[0], &["so-yte"]);
    expect_report_feed(&parsed[1]);
    assert_eq!(uids(&parsed[0]), uids(&parsed[2]), "UIDs are stable");
    assert_eq!(uids(&parsed[1]), uids(&parsed[3]), "UIDs are stable");
    let all = uids(&parsed[1]);
    assert!(
        uids(&parsed[0]).iter().all(|u| !all.contains(u)),
        "a report-period's event is not any unit's"
    );

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// The checker is not a rubber stamp: a feed with an inclusive DTEND, a
/// date-time DTSTART or a repeated UID is refused.
#[test]
fn the_checker_refuses_broken_feeds() {
    let dir = tempfile::tempdir().unwrap();
    let event = |uid: &str, start: &str, end: &str| {
        format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n{start}\r\n{end}\r\nSUMMARY:x\r\nEND:VEVENT\r\n"
        )
    };
    let cal = |events: &str| {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//VI\r\n{events}END:VCALENDAR\r\n")
    };
    let good = event(
        "a@x",
        "DTSTART;VALUE=DATE:20260320",
        "DTEND;VALUE=DATE:20260321",
    );
    let path = dir.path().join("good.ics");
    std::fs::write(&path, cal(&good)).unwrap();
    assert_eq!(python_check(&[&path])[0]["events"], 1);
    for (name, text) in [
        (
            "inclusive",
            cal(&event(
                "a@x",
                "DTSTART;VALUE=DATE:20260320",
                "DTEND;VALUE=DATE:20260320",
            )),
        ),
        (
            "datetime",
            cal(&event(
                "a@x",
                "DTSTART:20260320T000000Z",
                "DTEND:20260321T000000Z",
            )),
        ),
        ("duplicate", cal(&format!("{good}{good}"))),
        ("no-version", cal(&good).replace("VERSION:2.0\r\n", "")),
    ] {
        let path = dir.path().join(format!("{name}.ics"));
        std::fs::write(&path, text).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ics_check.py");
        let out = Command::new("python3")
            .arg(script)
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name} must be refused");
    }
}

/// A deadline with a time of day ("trước 16 giờ 00 thứ Năm" for a weekly
/// report) is a timed event at that instant, without DTEND, in the feed.
#[test]
fn a_timed_deadline_is_a_timed_event_in_the_feed() {
    let text = format!(
        "{CONFIG}\n[[obligation]]\nid = \"bc-tuan\"\ntitle = \"Báo cáo tuần\"\nreporters = [\"so-yte\"]\nrecipient = \"ubnd-tinh\"\ncycle = \"hàng tuần\"\ndue = \"trước 16 giờ 00 thứ Năm\"\n"
    );
    let cfg = hanbao::config::load_str("t.toml", &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    let cal = hanbao::calendar::WorkCalendar::new(&cfg.calendar);
    // Week 23 of 2026 (1–7/6): Thursday 4/6, 16:00 at UTC+7 = 09:00 UTC.
    let feed = http::feed::render(
        &cfg,
        &cal,
        Some("so-yte"),
        jiff::civil::date(2026, 6, 4),
        jiff::civil::date(2026, 6, 4),
        "2026-06-01T00:00:00Z".parse().unwrap(),
        Vec::new(),
    );
    assert!(feed.contains("\r\nDTSTART:20260604T090000Z\r\n"), "{feed}");
    assert!(!feed.contains("DTEND"), "{feed}");
    assert!(feed.contains("trước 16 giờ 00 ngày 04/06/2026"), "{feed}");
    assert!(!feed.contains("\r\n\r\n"), "{feed}");
}

/// The coordinator's feed on the sample directive: one event per
/// report-period due in June and July 2026 (not one per unit: the
/// six-monthly report alone has 33 units, all due on one day), each
/// describing what `hanbao status` says of that report-period at the same
/// moment (its classification, counted): received on time, late, overdue,
/// exempted. One unit sent the first-half report on time (17/06; the
/// province asked for 18/06 that year), one late (25/06), one is exempted;
/// as of Wed 01/07/2026 10:00. The compiled report is due 07/07: nothing
/// overdue yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coordinators_feed_has_one_event_per_report_period_counted_as_status_does() {
    use hanbao::status::{Moment, StateName};
    use hanbao::store::{Key, NewSubmission, NewWaiver, Source};
    use hanbao::tracking::{self, Selection};
    use jiff::civil::date;

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/quang-ngai-4040.toml");
    let cfg = hanbao::config::load(&path).unwrap().config;
    let cal = hanbao::calendar::WorkCalendar::new(&cfg.calendar);
    let dir = tempfile::tempdir().unwrap();
    let s = store::open(&format!("sqlite://{}/f.db", dir.path().display()))
        .await
        .unwrap();
    let ob = cfg.obligation("nq121-6thang").unwrap();
    let units: Vec<&str> = hanbao::planner::deadlines(
        &cfg,
        &cal,
        date(2026, 6, 18),
        date(2026, 6, 18),
        &hanbao::planner::Filter {
            obligation: Some(ob.id.clone()),
            unit: None,
        },
    )
    .iter()
    .map(|d| d.unit.id.as_str())
    .collect();
    assert_eq!(units.len(), 33, "{units:?}");
    for (unit, on) in [(units[0], date(2026, 6, 17)), (units[1], date(2026, 6, 25))] {
        s.record_submission(
            NewSubmission {
                key: Key::new(&ob.id, "2026-H1", unit),
                received_on: on,
                received_at: None,
                reference: None,
                note: None,
                actor: "test".into(),
                source: Source::Cli,
                correction: false,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    }
    s.grant_waiver(
        NewWaiver {
            key: Key::new(&ob.id, "2026-H1", units[2]),
            reason: "test".into(),
            actor: "test".into(),
            source: Source::Cli,
        },
        Timestamp::now(),
    )
    .await
    .unwrap();

    let (from, to) = (date(2026, 6, 1), date(2026, 7, 31));
    let now: Timestamp = "2026-07-01T03:00:00Z".parse().unwrap();
    let deadlines = hanbao::planner::deadlines(&cfg, &cal, from, to, &Default::default());
    let mut pairs: Vec<(String, String)> = deadlines
        .iter()
        .map(|d| (d.obligation.id.clone(), d.period.to_string()))
        .collect();
    pairs.sort();
    pairs.dedup();
    let facts = s.facts(&pairs).await.unwrap();
    let feed = http::feed::render(&cfg, &cal, None, from, to, now, facts);

    // The events, unfolded and unescaped: (SUMMARY, DESCRIPTION).
    let text = feed.replace("\r\n ", "");
    let events: Vec<(String, String)> = text
        .split("BEGIN:VEVENT")
        .skip(1)
        .map(|ev| {
            let prop = |name: &str| {
                ev.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap_or_default()
                    .replace("\\n", "\n")
                    .replace("\\,", ",")
                    .replace("\\;", ";")
            };
            (prop("SUMMARY:"), prop("DESCRIPTION:"))
        })
        .collect();
    assert_eq!(events.len(), 2, "{feed}");
    assert_eq!(events.len(), pairs.len(), "{feed}");
    assert!(deadlines.len() > 2 * pairs.len(), "units share an event");
    let at = Moment::local(now, &cfg.daemon.time_zone);
    for (ob_id, period) in &pairs {
        let rows = tracking::status(
            &s,
            &cfg,
            &cal,
            &Selection {
                obligation: Some(ob_id.clone()),
                period: Some(period.clone()),
                unit: None,
            },
            at,
        )
        .await
        .unwrap();
        let count = |st: StateName| rows.iter().filter(|r| r.status.state == st).count();
        let (on_time, late) = (
            count(StateName::SubmittedOnTime),
            count(StateName::SubmittedLate),
        );
        let mut want = format!(
            "Đã nhận {}/{} báo cáo ({on_time} đúng hạn, {late} trễ hạn), quá hạn {}",
            on_time + late,
            rows.len(),
            count(StateName::Overdue)
        );
        if count(StateName::Waived) > 0 {
            want.push_str(&format!(", miễn {}", count(StateName::Waived)));
        }
        let title = &cfg.obligation(ob_id).unwrap().title;
        let hit: Vec<&(String, String)> = events
            .iter()
            .filter(|(sum, _)| sum.starts_with(&format!("Hạn: {title} ({period}) — ")))
            .collect();
        assert_eq!(hit.len(), 1, "{ob_id} {period}: {events:#?}");
        assert!(
            hit[0].1.lines().any(|l| l == want),
            "{want:?} in {:?}",
            hit[0].1
        );
        assert!(
            hit[0]
                .0
                .ends_with(&format!("đã nhận {}/{}", on_time + late, rows.len())),
            "{}",
            hit[0].0
        );
    }
    // The first-half report as counted by hand: 33 units, one on time, one
    // late, one exempted, the other 30 overdue.
    let h1 = events
        .iter()
        .find(|(sum, _)| sum.contains(&format!("{} (2026-H1)", ob.title)))
        .unwrap();
    assert!(
        h1.1.contains("Đã nhận 2/33 báo cáo (1 đúng hạn, 1 trễ hạn), quá hạn 30, miễn 1"),
        "{}",
        h1.1
    );
}
