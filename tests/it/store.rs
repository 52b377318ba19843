//! The store's contract ("story") tests: every story runs unchanged against
//! SQLite (a temp file) and PostgreSQL (a throwaway cluster, see
//! `support::pg`). A story is an async fn over `&Store`; the
//! `stories!` macro generates one `sqlite` and one `postgres` test for each.

use std::time::Duration;

use hanbao::store::{
    self, Action, HistoryFilter, Key, NewExtension, NewSubmission, NewWaiver, Recorded, Revocation,
    Source, Store, StoreError, Subject,
};
use jiff::Timestamp;
use jiff::civil::{Date, date};

use crate::support::backend::{Backend, stories};
use hanbao::store::{Records, Tokens};

stories!(
    submit_and_read_back,
    same_submission_twice_is_a_no_op,
    different_submission_is_refused_unless_corrected,
    revoke_keeps_history,
    extensions_and_waivers,
    import_is_all_or_nothing,
    migrations_are_recorded_and_reopening_works,
    concurrent_writers_queue_without_deadlock,
    vietnamese_text_round_trips,
    history_filters_and_known_ids,
    tokens_store_hashes_and_revoke,
    read_only_token_roles_round_trip,
);

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_775_000_000 + second).unwrap()
}

fn key(unit: &str) -> Key {
    Key::new("bc-quy", "2026-Q1", unit)
}

fn submission(unit: &str, on: Date, reference: &str) -> NewSubmission {
    NewSubmission {
        key: key(unit),
        received_on: on,
        received_at: None,
        reference: Some(reference.to_string()),
        note: None,
        actor: "van-thu".into(),
        source: Source::Cli,
        correction: false,
    }
}

fn revocation(unit: &str, subject: Subject) -> Revocation {
    Revocation {
        key: key(unit),
        subject,
        reason: Some("nhập nhầm".into()),
        actor: "van-thu".into(),
        source: Source::Cli,
    }
}

async fn all_history(s: &Store) -> Vec<store::Event> {
    s.history(&HistoryFilter::default()).await.unwrap()
}

async fn submit_and_read_back(b: &Backend) {
    let s = b.open().await;
    let mut sub = submission("xa-an-phu", date(2026, 4, 8), "15/BC-UBND");
    // Sub-second precision is dropped: instants are stored in whole seconds.
    sub.received_at = Some("2026-04-08T02:15:30.75Z".parse().unwrap());
    sub.note = Some("bản giấy".into());
    let rec = s.record_submission(sub, at(0)).await.unwrap();
    let Recorded::New(e) = rec else {
        panic!("expected a new event, got {rec:?}")
    };
    assert!(e.id > 0);
    assert_eq!(e.action, Action::Submit);
    assert_eq!(e.recorded_at, at(0));

    let cur = s.current_for(&key("xa-an-phu")).await.unwrap();
    let got = cur.submission.expect("submission in effect");
    assert_eq!(got.received_on, date(2026, 4, 8));
    assert_eq!(
        got.received_at,
        Some("2026-04-08T02:15:30Z".parse().unwrap())
    );
    assert_eq!(got.reference.as_deref(), Some("15/BC-UBND"));
    assert_eq!(got.note.as_deref(), Some("bản giấy"));
    assert!(!got.corrected);
    assert_eq!(got.stamp.actor, "van-thu");
    assert_eq!(got.stamp.source, Source::Cli);
    assert_eq!(got.stamp.recorded_at, at(0));
    assert_eq!(got.stamp.event_id, e.id);
    assert!(cur.extension.is_none() && cur.waiver.is_none());

    // Nothing recorded for another unit, period or obligation.
    assert!(s.current_for(&key("xa-binh-an")).await.unwrap().is_empty());
    assert!(s.current("bc-quy", "2026-Q2").await.unwrap().is_empty());
    assert!(s.current("bc-thang", "2026-Q1").await.unwrap().is_empty());

    let all = s.current("bc-quy", "2026-Q1").await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].key, key("xa-an-phu"));
    assert_eq!(all_history(&s).await, vec![e]);
}

async fn same_submission_twice_is_a_no_op(b: &Backend) {
    let s = b.open().await;
    let first = s
        .record_submission(submission("u1", date(2026, 4, 8), "15/BC"), at(0))
        .await
        .unwrap();
    assert!(first.is_new());
    // Same report recorded again by someone else, from an import: no-op.
    let mut again = submission("u1", date(2026, 4, 8), "15/BC");
    again.actor = "chuyen-vien".into();
    again.source = Source::Import;
    let second = s.record_submission(again, at(60)).await.unwrap();
    assert_eq!(second, Recorded::AlreadyRecorded(first.event().clone()));
    assert_eq!(all_history(&s).await.len(), 1);
}

async fn different_submission_is_refused_unless_corrected(b: &Backend) {
    let s = b.open().await;
    let first = s
        .record_submission(submission("u1", date(2026, 4, 8), "15/BC"), at(0))
        .await
        .unwrap();

    let err = s
        .record_submission(submission("u1", date(2026, 4, 9), "16/BC"), at(10))
        .await
        .unwrap_err();
    match &err {
        StoreError::Conflict { key: k, existing } => {
            assert_eq!(*k, key("u1"));
            assert_eq!(**existing, *first.event());
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(err.to_string().contains("correction"), "{err}");
    assert_eq!(all_history(&s).await.len(), 1);

    let mut fix = submission("u1", date(2026, 4, 9), "16/BC");
    fix.correction = true;
    let corrected = s.record_submission(fix.clone(), at(20)).await.unwrap();
    assert!(corrected.is_new());
    assert_eq!(corrected.event().action, Action::Correct);
    let cur = s.current_for(&key("u1")).await.unwrap().submission.unwrap();
    assert_eq!(cur.reference.as_deref(), Some("16/BC"));
    assert_eq!(cur.received_on, date(2026, 4, 9));
    assert!(cur.corrected);
    // The same correction again is a no-op.
    assert!(!s.record_submission(fix, at(30)).await.unwrap().is_new());

    // A correction of nothing is refused.
    let mut stray = submission("u2", date(2026, 4, 9), "17/BC");
    stray.correction = true;
    assert!(matches!(
        s.record_submission(stray, at(40)).await,
        Err(StoreError::NothingToCorrect { .. })
    ));
    let h = all_history(&s).await;
    assert_eq!(
        h.iter().map(|e| e.action).collect::<Vec<_>>(),
        [Action::Submit, Action::Correct]
    );
}

async fn revoke_keeps_history(b: &Backend) {
    let s = b.open().await;
    s.record_submission(submission("u1", date(2026, 4, 8), "15/BC"), at(0))
        .await
        .unwrap();
    let rev = s
        .revoke(revocation("u1", Subject::Submission), at(10))
        .await
        .unwrap();
    assert!(rev.is_new());
    assert!(s.current_for(&key("u1")).await.unwrap().is_empty());
    assert!(s.current("bc-quy", "2026-Q1").await.unwrap().is_empty());
    // Revoking again is a no-op; revoking what never existed is an error.
    assert_eq!(
        s.revoke(revocation("u1", Subject::Submission), at(20))
            .await
            .unwrap(),
        Recorded::AlreadyRecorded(rev.event().clone())
    );
    assert!(matches!(
        s.revoke(revocation("u1", Subject::Waiver), at(20)).await,
        Err(StoreError::NothingToRevoke {
            subject: Subject::Waiver,
            ..
        })
    ));
    // After a revocation a new, different submission is accepted.
    assert!(
        s.record_submission(submission("u1", date(2026, 4, 10), "20/BC"), at(30))
            .await
            .unwrap()
            .is_new()
    );
    let h = all_history(&s).await;
    assert_eq!(
        h.iter().map(|e| e.action).collect::<Vec<_>>(),
        [Action::Submit, Action::Revoke, Action::Submit]
    );
    assert!(h.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(h[1].note.as_deref(), Some("nhập nhầm"));
    assert_eq!(
        s.current_for(&key("u1"))
            .await
            .unwrap()
            .submission
            .unwrap()
            .reference
            .as_deref(),
        Some("20/BC")
    );
}

async fn extensions_and_waivers(b: &Backend) {
    let s = b.open().await;
    let ext = |until: Date| NewExtension {
        key: key("u1"),
        until,
        reason: "lũ lụt".into(),
        actor: "truong-phong".into(),
        source: Source::Web,
    };
    assert!(
        s.grant_extension(ext(date(2026, 4, 30)), at(0))
            .await
            .unwrap()
            .is_new()
    );
    assert!(
        !s.grant_extension(ext(date(2026, 4, 30)), at(1))
            .await
            .unwrap()
            .is_new()
    );
    // A later extension supersedes the first.
    assert!(
        s.grant_extension(ext(date(2026, 5, 15)), at(2))
            .await
            .unwrap()
            .is_new()
    );
    let cur = s.current_for(&key("u1")).await.unwrap();
    let x = cur.extension.unwrap();
    assert_eq!(x.until, date(2026, 5, 15));
    assert_eq!(x.reason.as_deref(), Some("lũ lụt"));
    assert_eq!(x.stamp.actor, "truong-phong");

    s.revoke(revocation("u1", Subject::Extension), at(3))
        .await
        .unwrap();
    assert!(s.current_for(&key("u1")).await.unwrap().extension.is_none());

    let waiver = NewWaiver {
        key: key("u2"),
        reason: "đơn vị sáp nhập".into(),
        actor: "truong-phong".into(),
        source: Source::Cli,
    };
    assert!(
        s.grant_waiver(waiver.clone(), at(4))
            .await
            .unwrap()
            .is_new()
    );
    assert!(
        !s.grant_waiver(waiver.clone(), at(5))
            .await
            .unwrap()
            .is_new()
    );
    // A waiver and a submission live side by side.
    s.record_submission(submission("u2", date(2026, 4, 1), "1/BC"), at(6))
        .await
        .unwrap();
    let all = s.current("bc-quy", "2026-Q1").await.unwrap();
    assert_eq!(all.len(), 1, "u1 has nothing in effect any more: {all:?}");
    assert_eq!(all[0].key.unit, "u2");
    assert_eq!(
        all[0].waiver.as_ref().unwrap().reason.as_deref(),
        Some("đơn vị sáp nhập")
    );
    assert!(all[0].submission.is_some());

    s.revoke(revocation("u2", Subject::Waiver), at(7))
        .await
        .unwrap();
    let u2 = s.current_for(&key("u2")).await.unwrap();
    assert!(u2.waiver.is_none() && u2.submission.is_some());

    // A blank reason is refused.
    let mut blank = waiver;
    blank.reason = " ".into();
    assert!(matches!(
        s.grant_waiver(blank, at(8)).await,
        Err(StoreError::Invalid {
            field: "reason",
            ..
        })
    ));
    // extension x2 + its revocation, waiver + its revocation, one submission.
    assert_eq!(all_history(&s).await.len(), 6);
}

async fn import_is_all_or_nothing(b: &Backend) {
    let s = b.open().await;
    s.record_submission(submission("u1", date(2026, 4, 8), "15/BC"), at(0))
        .await
        .unwrap();

    // Row 3 conflicts with what is recorded: nothing of the file is written.
    let bad = vec![
        submission("u2", date(2026, 4, 8), "2/BC"),
        submission("u3", date(2026, 4, 8), "3/BC"),
        submission("u1", date(2026, 4, 9), "other"),
    ];
    match s.import_submissions(bad, at(10)).await {
        Err(StoreError::ImportRow { row: 3, source }) => {
            assert!(matches!(*source, StoreError::Conflict { .. }), "{source:?}")
        }
        other => panic!("expected row 3 to conflict, got {other:?}"),
    }
    // A blank actor on row 2.
    let mut blank = submission("u3", date(2026, 4, 8), "3/BC");
    blank.actor = String::new();
    let bad = vec![submission("u2", date(2026, 4, 8), "2/BC"), blank];
    assert!(matches!(
        s.import_submissions(bad, at(10)).await,
        Err(StoreError::ImportRow { row: 2, .. })
    ));
    // Two rows of the file disagree.
    let bad = vec![
        submission("u2", date(2026, 4, 8), "2/BC"),
        submission("u3", date(2026, 4, 8), "3/BC"),
        submission("u2", date(2026, 4, 8), "2b/BC"),
    ];
    assert!(matches!(
        s.import_submissions(bad, at(10)).await,
        Err(StoreError::ImportDuplicate {
            row: 3,
            earlier_row: 1,
            ..
        })
    ));
    assert_eq!(all_history(&s).await.len(), 1, "nothing may be written");

    let mut fix = submission("u3", date(2026, 4, 9), "3b/BC");
    fix.correction = true;
    let mut other_period = submission("u2", date(2026, 7, 2), "9/BC");
    other_period.key.period = "2026-Q2".into();
    let good = vec![
        submission("u1", date(2026, 4, 8), "15/BC"), // already recorded
        submission("u2", date(2026, 4, 8), "2/BC"),
        submission("u3", date(2026, 4, 8), "3/BC"),
        submission("u2", date(2026, 4, 8), "2/BC"), // repeated in the file
        fix,                                        // corrects row 3
        other_period,
    ];
    let report = s.import_submissions(good, at(20)).await.unwrap();
    assert_eq!(
        (report.submitted, report.corrected, report.unchanged),
        (3, 1, 2)
    );
    let all = s.current("bc-quy", "2026-Q1").await.unwrap();
    let refs: Vec<_> = all
        .iter()
        .map(|c| {
            let sub = c.submission.as_ref().unwrap();
            (c.key.unit.as_str(), sub.reference.as_deref().unwrap())
        })
        .collect();
    assert_eq!(refs, [("u1", "15/BC"), ("u2", "2/BC"), ("u3", "3b/BC")]);
    assert_eq!(s.current("bc-quy", "2026-Q2").await.unwrap().len(), 1);
    assert_eq!(all_history(&s).await.len(), 5);
    // The same file again changes nothing.
    let again = s
        .import_submissions(
            vec![
                submission("u1", date(2026, 4, 8), "15/BC"),
                submission("u2", date(2026, 4, 8), "2/BC"),
            ],
            at(30),
        )
        .await
        .unwrap();
    assert_eq!((again.submitted, again.unchanged), (0, 2));
    assert_eq!(all_history(&s).await.len(), 5);
}

async fn migrations_are_recorded_and_reopening_works(b: &Backend) {
    let s = b.open().await;
    let applied = s.applied_migrations().await.unwrap();
    assert_eq!(
        applied
            .iter()
            .map(|m| (m.version, m.description.as_str()))
            .collect::<Vec<_>>(),
        [
            (1, "events"),
            (2, "outbox"),
            (3, "events current covering"),
            (4, "tokens"),
            (5, "outbox counts"),
            (6, "token roles"),
            (7, "outbox purged"),
            (8, "outbox views"),
            (9, "outbox tally"),
            (10, "files"),
            (11, "intake"),
            (12, "acknowledgement")
        ]
    );
    s.record_submission(submission("u1", date(2026, 4, 8), "15/BC"), at(0))
        .await
        .unwrap();
    s.close().await;

    let s = b.open().await;
    assert_eq!(s.applied_migrations().await.unwrap(), applied);
    assert_eq!(s.current("bc-quy", "2026-Q1").await.unwrap().len(), 1);
    // Two handles on one database at once (two processes, in effect).
    let other = b.open().await;
    other
        .record_submission(submission("u2", date(2026, 4, 8), "2/BC"), at(1))
        .await
        .unwrap();
    assert_eq!(s.current("bc-quy", "2026-Q1").await.unwrap().len(), 2);
}

async fn concurrent_writers_queue_without_deadlock(b: &Backend) {
    // Two handles, as two processes would have, each with its own pool.
    let stores = [b.open().await, b.open().await];
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..8usize {
        let s = stores[t % 2].clone();
        tasks.spawn(async move {
            let mut outcomes = Vec::new();
            for i in 0..25 {
                let unit = format!("t{t}-u{i}");
                let r = s
                    .record_submission(submission(&unit, date(2026, 4, 8), "x"), at(i))
                    .await;
                assert!(r.unwrap().is_new());
                // Everyone records the same report for one key...
                let same = s
                    .record_submission(submission("shared", date(2026, 4, 8), "1/BC"), at(i))
                    .await
                    .unwrap();
                // ...and a different report for another key.
                let diff = s
                    .record_submission(
                        submission("contested", date(2026, 4, 8), &format!("{t}/BC")),
                        at(i),
                    )
                    .await;
                outcomes.push((same.is_new(), diff));
            }
            outcomes
        });
    }
    let all = tokio::time::timeout(Duration::from_secs(120), tasks.join_all())
        .await
        .expect("writers deadlocked or starved");
    let outcomes: Vec<_> = all.into_iter().flatten().collect();
    assert_eq!(outcomes.iter().filter(|(new, _)| *new).count(), 1);
    let contested_new = outcomes
        .iter()
        .filter(|(_, d)| matches!(d, Ok(r) if r.is_new()))
        .count();
    let already = outcomes
        .iter()
        .filter(|(_, d)| matches!(d, Ok(r) if !r.is_new()))
        .count();
    let conflicts = outcomes
        .iter()
        .filter(|(_, d)| matches!(d, Err(StoreError::Conflict { .. })))
        .count();
    assert_eq!(contested_new, 1);
    // The winner's own later attempts are no-ops; everyone else conflicts.
    assert_eq!(already, 24);
    assert_eq!(conflicts, 200 - 25);
    assert_eq!(
        stores[0].current("bc-quy", "2026-Q1").await.unwrap().len(),
        202
    );
    assert_eq!(all_history(&stores[1]).await.len(), 202);
}

async fn vietnamese_text_round_trips(b: &Backend) {
    let s = b.open().await;
    let k = Key::new("báo-cáo-quý", "2026-Q1", "UBND xã Ea Kao (Đắk Lắk)");
    let note = "Đã nhận bản giấy; “Nghị quyết số 12” — ghi chú: ỹ ữ ẵ ặ ờ ợ Ư Ơ";
    // NFD (decomposed) text must come back byte for byte, not normalised.
    let decomposed_actor = "Nguye\u{302}\u{303}n Thi\u{323} Thu\u{309}y";
    let sub = NewSubmission {
        key: k.clone(),
        received_on: date(2026, 4, 8),
        received_at: None,
        reference: Some("123/BC-UBND-VP".into()),
        note: Some(note.into()),
        actor: decomposed_actor.into(),
        source: Source::Web,
        correction: false,
    };
    s.record_submission(sub, at(0)).await.unwrap();
    s.grant_waiver(
        NewWaiver {
            key: k.clone(),
            reason: "Đơn vị đã giải thể theo Nghị quyết 1234/NQ-UBTVQH15".into(),
            actor: "Trần Văn Đức".into(),
            source: Source::Cli,
        },
        at(1),
    )
    .await
    .unwrap();
    let all = s.current("báo-cáo-quý", "2026-Q1").await.unwrap();
    assert_eq!(all.len(), 1);
    let c = &all[0];
    assert_eq!(c.key, k);
    let sub = c.submission.as_ref().unwrap();
    assert_eq!(sub.note.as_deref(), Some(note));
    assert_eq!(sub.stamp.actor, decomposed_actor);
    assert_eq!(sub.stamp.actor.len(), decomposed_actor.len());
    assert_eq!(
        c.waiver.as_ref().unwrap().reason.as_deref(),
        Some("Đơn vị đã giải thể theo Nghị quyết 1234/NQ-UBTVQH15")
    );
    let h = s
        .history(&HistoryFilter {
            unit: Some("UBND xã Ea Kao (Đắk Lắk)".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].actor, "Trần Văn Đức");
    let ids = s.known_ids().await.unwrap();
    assert!(ids.obligations.contains("báo-cáo-quý"));
    assert!(ids.units.contains("UBND xã Ea Kao (Đắk Lắk)"));
}

async fn history_filters_and_known_ids(b: &Backend) {
    let s = b.open().await;
    assert_eq!(s.known_ids().await.unwrap(), Default::default());
    let mut n = 0;
    for obligation in ["o1", "o2"] {
        for period in ["2026-01", "2026-02"] {
            for unit in ["u1", "u2"] {
                let mut sub = submission(unit, date(2026, 2, 3), "r");
                sub.key = Key::new(obligation, period, unit);
                s.record_submission(sub, at(n)).await.unwrap();
                n += 1;
            }
        }
    }
    let count = |o: Option<&'static str>, p: Option<&'static str>, u: Option<&'static str>| {
        let f = HistoryFilter {
            obligation: o.map(Into::into),
            period: p.map(Into::into),
            unit: u.map(Into::into),
        };
        let s = &s;
        async move {
            let h = s.history(&f).await.unwrap();
            assert!(h.windows(2).all(|w| w[0].id < w[1].id), "ordered");
            for e in &h {
                assert!(o.is_none_or(|o| e.key.obligation == o));
                assert!(p.is_none_or(|p| e.key.period == p));
                assert!(u.is_none_or(|u| e.key.unit == u));
            }
            h.len()
        }
    };
    assert_eq!(count(None, None, None).await, 8);
    assert_eq!(count(Some("o1"), None, None).await, 4);
    assert_eq!(count(None, Some("2026-02"), None).await, 4);
    assert_eq!(count(None, None, Some("u2")).await, 4);
    assert_eq!(count(Some("o2"), Some("2026-01"), Some("u1")).await, 1);
    assert_eq!(count(Some("gone"), None, None).await, 0);
    let ids = s.known_ids().await.unwrap();
    assert_eq!(
        ids.obligations.into_iter().collect::<Vec<_>>(),
        ["o1", "o2"]
    );
    assert_eq!(ids.units.into_iter().collect::<Vec<_>>(), ["u1", "u2"]);
}

#[tokio::test]
async fn unsupported_urls_are_refused_without_echoing_secrets() {
    let err = store::open("mysql://root:hunter2@db/x").await.unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedUrl { .. }));
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[tokio::test]
async fn sqlite_memory_url_works_with_one_connection() {
    let s = store::open("sqlite::memory:").await.unwrap();
    s.record_submission(submission("u1", date(2026, 4, 8), "1"), at(0))
        .await
        .unwrap();
    assert_eq!(s.current("bc-quy", "2026-Q1").await.unwrap().len(), 1);
}

/// Outside systemd nothing narrows the umask: the SQLite database, its
/// -wal and -shm files and the directories the store creates for it are
/// private whatever the umask (000 here, in a child process: the umask
/// belongs to the whole process).
#[tokio::test]
async fn sqlite_database_is_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state/nested/hanbao.db");
    let url = format!("sqlite://{}", db.display());
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_hanbao"))
        .arg("--config")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/quang-ngai-4040.toml"
        ))
        // A writing command creates the database where the invocation
        // chose it (reading commands never create one).
        .args(["token", "create", "--admin", "--name", "umask"])
        .env("HANBAO_DATABASE", &url)
        .env_remove("HANBAO_STATE_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&db), 0o600, "database");
    assert_eq!(mode(&dir.path().join("state/nested")), 0o700);
    assert_eq!(mode(&dir.path().join("state")), 0o700);

    // Written to from this process: the -wal and -shm files SQLite creates
    // take the database's mode.
    let s = store::open(&url).await.unwrap();
    s.record_submission(submission("u1", date(2026, 4, 8), "1"), at(0))
        .await
        .unwrap();
    for suffix in ["-wal", "-shm"] {
        let path = db.with_file_name(format!("hanbao.db{suffix}"));
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    s.close().await;

    // The .eml directory the file transport creates is private too.
    let state = dir.path().join("mailstate");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_hanbao"))
        .arg("--config")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/quang-ngai-4040.toml"
        ))
        .args(["send-test", "--to", "vanthu@soyte.example"])
        .env("HANBAO_STATE_DIR", &state)
        .env_remove("HANBAO_DATABASE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&state.join("outbox-mail")), 0o700, "mail directory");
}

async fn tokens_store_hashes_and_revoke(b: &Backend) {
    use hanbao::store::{NewToken, TokenRole};
    let s = b.open().await;
    let hash = |c: char| c.to_string().repeat(64);
    let admin = s
        .create_token(
            NewToken {
                name: "Điều phối".into(),
                role: TokenRole::Admin,
                hash: hash('a'),
            },
            at(0),
        )
        .await
        .unwrap();
    let unit = s
        .create_token(
            NewToken {
                name: "Văn thư".into(),
                role: TokenRole::Unit("so-yte".into()),
                hash: hash('b'),
            },
            at(1),
        )
        .await
        .unwrap();
    assert_eq!(
        (admin.role.clone(), admin.revoked_at),
        (TokenRole::Admin, None)
    );
    assert_eq!(unit.role, TokenRole::Unit("so-yte".into()));
    assert_eq!(unit.created_at, at(1));
    // The same hash twice is refused (unique), as are bad hashes and names.
    let dup = NewToken {
        name: "x".into(),
        role: TokenRole::Admin,
        hash: hash('a'),
    };
    assert!(s.create_token(dup, at(2)).await.is_err());
    for bad in [
        NewToken {
            name: " ".into(),
            role: TokenRole::Admin,
            hash: hash('c'),
        },
        NewToken {
            name: "x".into(),
            role: TokenRole::Unit(String::new()),
            hash: hash('c'),
        },
        NewToken {
            name: "x".into(),
            role: TokenRole::Admin,
            hash: "abc".into(),
        },
    ] {
        assert!(matches!(
            s.create_token(bad, at(2)).await,
            Err(StoreError::Invalid { .. })
        ));
    }
    assert_eq!(s.token_by_hash(&hash('b')).await.unwrap().unwrap(), unit);
    assert_eq!(
        s.token_by_hash(&hash('B')).await.unwrap().unwrap().id,
        unit.id,
        "hex is case-insensitive"
    );
    assert_eq!(s.token_by_hash(&hash('c')).await.unwrap(), None);

    let revoked = s.revoke_token(unit.id, at(5)).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(at(5)));
    // Revoking again keeps the first revocation time.
    let again = s.revoke_token(unit.id, at(9)).await.unwrap().unwrap();
    assert_eq!(again.revoked_at, Some(at(5)));
    assert_eq!(s.revoke_token(999, at(9)).await.unwrap(), None);
    assert!(
        s.token_by_hash(&hash('b'))
            .await
            .unwrap()
            .unwrap()
            .is_revoked()
    );
    let all = s.tokens().await.unwrap();
    assert_eq!(
        all.iter().map(|t| t.id).collect::<Vec<_>>(),
        [admin.id, unit.id]
    );
    // Debug never shows the whole hash.
    assert!(!format!("{:?}", all[0]).contains(&hash('a')));
    s.close().await;
}

/// The read-only roles: a feed token for one unit or for every feed, and
/// a metrics token, stored and read back as created (after the tokens
/// made before them, whose ids they never reuse); a feed token for an
/// empty unit id is refused.
async fn read_only_token_roles_round_trip(b: &Backend) {
    use hanbao::store::{NewToken, TokenRole};
    let s = b.open().await;
    let hash = |c: char| c.to_string().repeat(64);
    let mut made = Vec::new();
    for (c, role) in [
        ('a', TokenRole::Admin),
        ('b', TokenRole::Feed(Some("so-yte".into()))),
        ('c', TokenRole::Feed(None)),
        ('d', TokenRole::Metrics),
    ] {
        let t = s
            .create_token(
                NewToken {
                    name: format!("token {c}"),
                    role: role.clone(),
                    hash: hash(c),
                },
                at(1),
            )
            .await
            .unwrap();
        assert_eq!(t.role, role);
        assert_eq!(s.token_by_hash(&hash(c)).await.unwrap().unwrap(), t);
        made.push(t);
    }
    assert!(made.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(made[1].role.as_str(), "feed");
    assert_eq!(made[1].role.unit(), Some("so-yte"));
    assert_eq!(made[2].role.unit(), None);
    assert_eq!(made[3].role.as_str(), "metrics");
    assert_eq!(s.tokens().await.unwrap(), made);
    let bad = NewToken {
        name: "x".into(),
        role: TokenRole::Feed(Some(" ".into())),
        hash: hash('e'),
    };
    assert!(matches!(
        s.create_token(bad, at(2)).await,
        Err(StoreError::Invalid { .. })
    ));
    s.close().await;
}
