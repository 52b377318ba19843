//! The outbox's contract tests: every story runs against SQLite (a temp
//! file) and PostgreSQL (a throwaway cluster), like `store.rs`.

use std::collections::HashSet;

use hanbao::store::{
    self, Key, LastSent, NewOutboxRow, OutboxCount, OutboxFilter, OutboxKey, OutboxKind, OutboxRow,
    OutboxStatus, Outcome,
};
use jiff::Timestamp;
use jiff::civil::date;

use crate::support::backend::{Backend, stories};
use hanbao::store::Outbox;

stories!(
    writing_a_row_again_is_a_no_op,
    claim_leases_and_finish,
    finish_many_records_each_row_under_the_lease,
    expired_lease_is_claimable_again,
    later_stage_supersedes_pending_rows,
    concurrent_claimers_never_share_a_row,
    retry_puts_a_failed_row_back_to_pending,
    history_lists_what_went_out_or_is_going_for_the_units_asked,
    summary_counts_the_outbox_by_status_and_kind,
    pages_cover_every_row_once_under_each_filter,
    a_report_lists_its_rows_of_every_status,
    last_sent_is_the_latest_sent_row_per_unit,
    waiting_and_recent_count_and_limit_without_reading_the_table,
    late_periods_of_a_group_are_claimed_together,
    the_tally_is_exact_after_any_sequence_of_changes,
    concurrent_writers_and_folds_keep_the_tally_exact,
);

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_780_000_000 + second).unwrap()
}

fn row(unit: &str, kind: OutboxKind, stage: u32, to: &str, due_at: i64) -> NewOutboxRow {
    NewOutboxRow {
        key: OutboxKey {
            obligation: "bc-quy".into(),
            period: "2026-Q1".into(),
            unit: unit.into(),
            kind,
            stage,
            recipient: to.into(),
        },
        rank: match kind {
            OutboxKind::Reminder => stage,
            OutboxKind::DueToday => 100,
            _ => 100 + stage,
        },
        due_on: date(2026, 4, 10),
        status: OutboxStatus::Pending,
        next_attempt_at: at(due_at),
    }
}

/// `outbox_history`: the sent, pending and sending rows of the units asked
/// for one (obligation, period), oldest first; skipped, cancelled and
/// failed rows, other units and other periods are left out.
async fn history_lists_what_went_out_or_is_going_for_the_units_asked(b: &Backend) {
    let s = b.open().await;
    let mut other_period = row("u1", OutboxKind::Overdue, 1, "a@x.vn", 0);
    other_period.key.period = "2026-Q2".into();
    let mut skipped = row("u1", OutboxKind::Reminder, 2, "a@x.vn", 0);
    skipped.status = OutboxStatus::Skipped;
    s.enqueue(
        vec![
            row("u1", OutboxKind::Reminder, 1, "a@x.vn", 0),
            skipped,
            row("u2", OutboxKind::Reminder, 1, "b@x.vn", 0),
            row("u3", OutboxKind::Reminder, 1, "c@x.vn", 0),
            other_period,
        ],
        at(0),
    )
    .await
    .unwrap();
    let claimed = s.claim("t", at(1), at(900), 10).await.unwrap();
    let results = claimed
        .iter()
        .map(|r| {
            let outcome = if r.key.unit == "u2" {
                Outcome::Failed {
                    error: "550".into(),
                }
            } else {
                Outcome::Sent {
                    message_id: format!("<{}>", r.id),
                }
            };
            (r.id, outcome)
        })
        .collect();
    s.finish_many("t", results, at(2)).await.unwrap();
    s.enqueue(
        vec![
            row("u1", OutboxKind::Overdue, 1, "a@x.vn", 100),
            row("u1", OutboxKind::Escalation, 1, "sep@x.vn", 100),
        ],
        at(100),
    )
    .await
    .unwrap();
    let units = ["u1".to_string(), "u2".to_string()];
    let got = s.outbox_history("bc-quy", "2026-Q1", &units).await.unwrap();
    let seen: Vec<(&str, OutboxKind, OutboxStatus)> = got
        .iter()
        .map(|r| (r.key.unit.as_str(), r.key.kind, r.status))
        .collect();
    assert_eq!(
        seen,
        [
            ("u1", OutboxKind::Reminder, OutboxStatus::Sent),
            ("u1", OutboxKind::Overdue, OutboxStatus::Pending),
            ("u1", OutboxKind::Escalation, OutboxStatus::Pending),
        ]
    );
    assert_eq!(got[0].sent_at, Some(at(2)));
    assert!(
        s.outbox_history("bc-quy", "2026-Q1", &[])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn writing_a_row_again_is_a_no_op(b: &Backend) {
    let s = b.open().await;
    let r = row("u1", OutboxKind::Reminder, 1, "a@x.vn", 0);
    let first = s.enqueue(vec![r.clone()], at(0)).await.unwrap();
    assert_eq!((first.pending, first.existing), (1, 0));
    // Again, even with a different schedule and status: nothing changes.
    let mut again = r.clone();
    again.next_attempt_at = at(999);
    again.status = OutboxStatus::Skipped;
    let second = s.enqueue(vec![again, r], at(5)).await.unwrap();
    assert_eq!((second.pending, second.skipped, second.existing), (0, 0, 2));
    let all = s.outbox(None).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, OutboxStatus::Pending);
    assert_eq!(all[0].next_attempt_at, at(0));
    // A different recipient is a different row.
    s.enqueue(vec![row("u1", OutboxKind::Reminder, 1, "b@x.vn", 0)], at(6))
        .await
        .unwrap();
    assert_eq!(s.outbox(None).await.unwrap().len(), 2);
}

async fn finish_many_records_each_row_under_the_lease(b: &Backend) {
    let s = b.open().await;
    s.enqueue(
        vec![
            row("u1", OutboxKind::Reminder, 1, "a@x.vn", 0),
            row("u2", OutboxKind::Reminder, 1, "b@x.vn", 0),
            row("u3", OutboxKind::Reminder, 1, "c@x.vn", 0),
            row("u4", OutboxKind::Reminder, 1, "d@x.vn", 0),
        ],
        at(0),
    )
    .await
    .unwrap();
    let got = s.claim("me", at(10), at(400), 3).await.unwrap();
    let ids: Vec<i64> = got.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 3);
    let unclaimed = s
        .outbox(Some(OutboxStatus::Pending))
        .await
        .unwrap()
        .remove(0)
        .id;
    // Nothing to record: nothing written, no error.
    assert!(
        s.finish_many("me", vec![], at(20))
            .await
            .unwrap()
            .is_empty()
    );
    // Another owner cannot record any of them.
    let sent = |m: &str| Outcome::Sent {
        message_id: m.into(),
    };
    assert_eq!(
        s.finish_many("other", vec![(ids[0], sent("<x@x>"))], at(20))
            .await
            .unwrap(),
        [false]
    );
    let done = s
        .finish_many(
            "me",
            vec![
                (ids[0], sent("<m0@x>")),
                (
                    ids[1],
                    Outcome::Retry {
                        error: "451 later".into(),
                        next_attempt_at: at(900),
                    },
                ),
                (unclaimed, sent("<never@x>")),
                (
                    ids[2],
                    Outcome::Cancelled {
                        reason: "arrived".into(),
                    },
                ),
            ],
            at(30),
        )
        .await
        .unwrap();
    // Results in the order given; the row not leased to "me" is untouched.
    assert_eq!(done, [true, true, false, true]);
    let by_id =
        |id: i64, all: &[store::OutboxRow]| all.iter().find(|r| r.id == id).unwrap().clone();
    let all = s.outbox(None).await.unwrap();
    let r0 = by_id(ids[0], &all);
    assert_eq!(r0.status, OutboxStatus::Sent);
    assert_eq!(r0.message_id.as_deref(), Some("<m0@x>"));
    assert_eq!(r0.sent_at, Some(at(30)));
    assert_eq!(r0.lease_owner, None);
    let r1 = by_id(ids[1], &all);
    assert_eq!(r1.status, OutboxStatus::Pending);
    assert_eq!(r1.next_attempt_at, at(900));
    assert_eq!(r1.last_error.as_deref(), Some("451 later"));
    assert_eq!(by_id(ids[2], &all).status, OutboxStatus::Cancelled);
    let u = by_id(unclaimed, &all);
    assert_eq!((u.status, u.message_id), (OutboxStatus::Pending, None));
    // Recording again is refused row by row: the lease is gone.
    assert_eq!(
        s.finish_many("me", vec![(ids[0], sent("<again@x>"))], at(40))
            .await
            .unwrap(),
        [false]
    );
    let again = s.outbox(None).await.unwrap();
    assert_eq!(by_id(ids[0], &again).message_id.as_deref(), Some("<m0@x>"));
}

async fn claim_leases_and_finish(b: &Backend) {
    let s = b.open().await;
    s.enqueue(
        vec![
            row("u1", OutboxKind::Reminder, 1, "a@x.vn", 0),
            row("u2", OutboxKind::Reminder, 1, "b@x.vn", 100),
            row("u3", OutboxKind::Reminder, 1, "c@x.vn", 200),
        ],
        at(0),
    )
    .await
    .unwrap();
    // Only what is due by now.
    let got = s.claim("me", at(150), at(450), 10).await.unwrap();
    assert_eq!(
        got.iter().map(|r| r.key.unit.as_str()).collect::<Vec<_>>(),
        ["u1", "u2"]
    );
    assert!(got.iter().all(|r| r.status == OutboxStatus::Sending
        && r.attempts == 1
        && r.lease_owner.as_deref() == Some("me")
        && r.lease_until == Some(at(450))));
    // Leased rows are not claimed again before the lease ends.
    assert!(
        s.claim("other", at(160), at(460), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Only the lease holder can finish.
    let id1 = got[0].id;
    let sent = Outcome::Sent {
        message_id: "<m1@x>".into(),
    };
    assert!(!s.finish(id1, "other", sent.clone(), at(170)).await.unwrap());
    assert!(s.finish(id1, "me", sent.clone(), at(170)).await.unwrap());
    assert!(!s.finish(id1, "me", sent, at(171)).await.unwrap(), "twice");
    let retry_at = at(1000);
    assert!(
        s.finish(
            got[1].id,
            "me",
            Outcome::Retry {
                error: "451 later".into(),
                next_attempt_at: retry_at
            },
            at(172)
        )
        .await
        .unwrap()
    );
    let all = s.outbox(None).await.unwrap();
    assert_eq!(all[0].status, OutboxStatus::Sent);
    assert_eq!(all[0].message_id.as_deref(), Some("<m1@x>"));
    assert_eq!(all[0].sent_at, Some(at(170)));
    assert_eq!(all[0].lease_owner, None);
    assert_eq!(all[1].status, OutboxStatus::Pending);
    assert_eq!(all[1].next_attempt_at, retry_at);
    assert_eq!(all[1].last_error.as_deref(), Some("451 later"));
    assert_eq!(s.outbox_next_due(at(300)).await.unwrap(), Some(retry_at));
    // The retry is claimed when due, with its attempts counted.
    let got = s.claim("me", at(1000), at(1300), 10).await.unwrap();
    assert_eq!(
        got.iter()
            .map(|r| (r.key.unit.as_str(), r.attempts))
            .collect::<Vec<_>>(),
        [("u3", 1), ("u2", 2)]
    );
    assert!(
        s.finish(
            got[1].id,
            "me",
            Outcome::Failed {
                error: "550 no such user".into()
            },
            at(1001)
        )
        .await
        .unwrap()
    );
    let failed = s.outbox(Some(OutboxStatus::Failed)).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].key.unit, "u2");
    // Failed rows are never claimed again.
    assert!(
        s.claim("me", at(99_999), at(99_999), 10)
            .await
            .unwrap()
            .len()
            == 1
    );
}

async fn expired_lease_is_claimable_again(b: &Backend) {
    let s = b.open().await;
    s.enqueue(vec![row("u1", OutboxKind::Overdue, 1, "a@x.vn", 0)], at(0))
        .await
        .unwrap();
    let first = s.claim("crashed", at(10), at(310), 10).await.unwrap();
    assert_eq!(first.len(), 1);
    // The owner dies without finishing. Before the lease ends: nothing.
    assert!(
        s.claim("new", at(309), at(609), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.outbox_next_due(at(10)).await.unwrap(), Some(at(310)));
    let again = s.claim("new", at(310), at(610), 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, first[0].id);
    assert_eq!(again[0].attempts, 2);
    // The crashed owner's late answer is refused; the new owner's counts.
    let sent = Outcome::Sent {
        message_id: "<m@x>".into(),
    };
    assert!(
        !s.finish(first[0].id, "crashed", sent.clone(), at(320))
            .await
            .unwrap()
    );
    assert!(s.finish(first[0].id, "new", sent, at(321)).await.unwrap());
}

async fn later_stage_supersedes_pending_rows(b: &Backend) {
    let s = b.open().await;
    s.enqueue(
        vec![
            row("u1", OutboxKind::Reminder, 1, "a@x.vn", 0),
            row("u2", OutboxKind::Reminder, 1, "b@x.vn", 0),
        ],
        at(0),
    )
    .await
    .unwrap();
    let mut skipped = row("u1", OutboxKind::Reminder, 2, "a@x.vn", 50);
    skipped.status = OutboxStatus::Skipped;
    let report = s
        .enqueue(
            vec![skipped, row("u1", OutboxKind::DueToday, 0, "a@x.vn", 100)],
            at(60),
        )
        .await
        .unwrap();
    assert_eq!(
        (report.pending, report.skipped, report.superseded),
        (1, 1, 1)
    );
    let all = s.outbox(None).await.unwrap();
    let status: Vec<(&str, OutboxKind, OutboxStatus)> = all
        .iter()
        .map(|r| (r.key.unit.as_str(), r.key.kind, r.status))
        .collect();
    assert_eq!(
        status,
        [
            ("u1", OutboxKind::Reminder, OutboxStatus::Cancelled),
            ("u2", OutboxKind::Reminder, OutboxStatus::Pending),
            ("u1", OutboxKind::Reminder, OutboxStatus::Skipped),
            ("u1", OutboxKind::DueToday, OutboxStatus::Pending),
        ]
    );
    assert!(all[0].last_error.as_deref().unwrap().contains("superseded"));
}

async fn concurrent_claimers_never_share_a_row(b: &Backend) {
    let s = b.open().await;
    let rows: Vec<_> = (0..200)
        .map(|i| row(&format!("u{i:03}"), OutboxKind::Reminder, 1, "a@x.vn", 0))
        .collect();
    s.enqueue(rows, at(0)).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..4 {
        let s = b.open().await;
        tasks.spawn(async move {
            let owner = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let got = s.claim(&owner, at(10), at(310), 7).await.unwrap();
                if got.is_empty() {
                    break;
                }
                mine.extend(got.into_iter().map(|r| r.id));
            }
            mine
        });
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    while let Some(ids) = tasks.join_next().await {
        for id in ids.unwrap() {
            total += 1;
            assert!(seen.insert(id), "row {id} claimed twice");
        }
    }
    assert_eq!(total, 200);
}

/// The dashboard's retry button: only a `failed` row goes back to
/// `pending`, due at once, lease cleared, its last error and attempt count
/// kept; the dispatcher can then claim it again.
async fn retry_puts_a_failed_row_back_to_pending(b: &Backend) {
    let s = b.open().await;
    s.enqueue(
        vec![
            row("u1", OutboxKind::Overdue, 1, "a@x.vn", 0),
            row("u2", OutboxKind::Overdue, 1, "b@x.vn", 0),
        ],
        at(0),
    )
    .await
    .unwrap();
    let got = s.claim("d1", at(10), at(400), 2).await.unwrap();
    let (failed, sent) = (got[0].id, got[1].id);
    let done = s
        .finish_many(
            "d1",
            vec![
                (
                    failed,
                    Outcome::Failed {
                        error: "550 5.1.1 no such user".into(),
                    },
                ),
                (
                    sent,
                    Outcome::Sent {
                        message_id: "<m@x>".into(),
                    },
                ),
            ],
            at(20),
        )
        .await
        .unwrap();
    assert_eq!(done, [true, true]);
    // Nothing is due before the retry.
    assert!(
        s.claim("d2", at(5000), at(6000), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // A sent row, a row that does not exist: refused, nothing written.
    assert!(!s.retry_outbox(sent, at(100)).await.unwrap());
    assert!(!s.retry_outbox(999_999, at(100)).await.unwrap());
    assert!(s.retry_outbox(failed, at(100)).await.unwrap());
    let all = s.outbox(None).await.unwrap();
    let r = all.iter().find(|r| r.id == failed).unwrap();
    assert_eq!(r.status, OutboxStatus::Pending);
    assert_eq!(r.next_attempt_at, at(100));
    assert_eq!((r.lease_owner.as_deref(), r.lease_until), (None, None));
    assert_eq!(r.last_error.as_deref(), Some("550 5.1.1 no such user"));
    assert_eq!(r.attempts, 1);
    assert_eq!(r.updated_at, at(100));
    let other = all.iter().find(|r| r.id == sent).unwrap();
    assert_eq!(other.status, OutboxStatus::Sent);
    // Retrying a row that is pending again is a no-op.
    assert!(!s.retry_outbox(failed, at(150)).await.unwrap());
    // The dispatcher claims it again.
    let again = s.claim("d2", at(200), at(800), 10).await.unwrap();
    assert_eq!(again.iter().map(|r| r.id).collect::<Vec<_>>(), [failed]);
    assert_eq!(again[0].attempts, 2);
}

/// `outbox_waiting` counts the rows of a status and finds their earliest
/// next attempt (as reading them all would); `outbox_recent` lists the rows
/// of a status changed since an instant, oldest first, at most `limit`.
async fn waiting_and_recent_count_and_limit_without_reading_the_table(b: &Backend) {
    let s = b.open().await;
    assert_eq!(
        s.outbox_waiting(OutboxStatus::Pending).await.unwrap(),
        (0, None)
    );
    let rows: Vec<NewOutboxRow> = (0..7)
        .map(|i| row(&format!("u{i}"), OutboxKind::Overdue, 1, "a@x.vn", 50 - i))
        .collect();
    s.enqueue(rows, at(0)).await.unwrap();
    assert_eq!(
        s.outbox_waiting(OutboxStatus::Pending).await.unwrap(),
        (7, Some(at(44)))
    );
    // Three fail, at 100, 200 and 300.
    for (n, when) in [(1, 100), (1, 200), (1, 300)] {
        let got = s.claim("d", at(when - 1), at(when + 50), n).await.unwrap();
        let fail = vec![(
            got[0].id,
            Outcome::Failed {
                error: format!("550 at {when}"),
            },
        )];
        assert_eq!(s.finish_many("d", fail, at(when)).await.unwrap(), [true]);
    }
    assert_eq!(s.outbox_waiting(OutboxStatus::Failed).await.unwrap().0, 3);
    assert_eq!(s.outbox_waiting(OutboxStatus::Pending).await.unwrap().0, 4);
    let errors = |rows: Vec<hanbao::store::OutboxRow>| {
        rows.into_iter()
            .map(|r| r.last_error.unwrap_or_default())
            .collect::<Vec<_>>()
    };
    let recent = s
        .outbox_recent(OutboxStatus::Failed, at(150), 10)
        .await
        .unwrap();
    let mut want = errors(s.outbox(Some(OutboxStatus::Failed)).await.unwrap());
    want.retain(|e| e != "550 at 100");
    assert_eq!(errors(recent), want);
    assert_eq!(want.len(), 2);
    let one = s
        .outbox_recent(OutboxStatus::Failed, at(0), 1)
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert!(
        s.outbox_recent(OutboxStatus::Sent, at(0), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The history's latest event id: 0 when empty, then the new event's.
    use hanbao::store::Records;
    assert_eq!(s.last_event_id().await.unwrap(), 0);
    let e = s
        .record_submission(
            store::NewSubmission {
                key: store::Key::new("bc-quy", "2026-Q1", "u1"),
                received_on: date(2026, 4, 1),
                received_at: None,
                reference: None,
                note: None,
                actor: "t".into(),
                source: store::Source::Cli,
                correction: false,
            },
            at(400),
        )
        .await
        .unwrap();
    assert_eq!(s.last_event_id().await.unwrap(), e.event().id);
}

/// The digest tells what `hanbao status` tells: for every day of 2026 on
/// the sample directive, with submissions, waivers and extensions recorded
/// at random (a fixed seed) as the year goes, the digest's overdue
/// (obligation, period, unit) set is exactly the `overdue` rows of
/// `status --json` that day (the same JSON the command prints, compared as
/// data), and its totals add up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_lists_what_status_lists_every_day_of_a_year() {
    use hanbao::calendar::WorkCalendar;
    use hanbao::store::{Key, NewExtension, NewSubmission, NewWaiver, Records, Source};
    use hanbao::tracking::{self, Selection};
    use std::collections::BTreeSet;

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/quang-ngai-4040.toml");
    let cfg = hanbao::config::load(&path).unwrap().config;
    let cal = WorkCalendar::new(&cfg.calendar);
    let tz = cfg.daemon.time_zone.clone();
    let dir = tempfile::tempdir().unwrap();
    let s = hanbao::store::open(&format!("sqlite://{}/d.db", dir.path().display()))
        .await
        .unwrap();
    // Seeded: the same choices on every run.
    let mut rng = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
    let mut rand = move |n: u64| rng.u64(..n);
    let (mut days, mut overdue_days, mut most) = (0, 0, 0);
    let mut day = date(2026, 1, 1);
    while day <= date(2026, 12, 31) {
        let now = tz.to_timestamp(day.at(8, 0, 0, 0)).unwrap();
        let rows = tracking::status(&s, &cfg, &cal, &Selection::default(), day)
            .await
            .unwrap();
        let status: BTreeSet<(String, String, String)> = hanbao::commands::status::json(&rows)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["state"] == "overdue")
            .map(|v| {
                let f = |k: &str| v[k].as_str().unwrap().to_string();
                (f("obligation"), f("period"), f("unit"))
            })
            .collect();
        let digest = hanbao::outbox::digest::build(&s, &cfg, &cal, now)
            .await
            .unwrap();
        let keys = digest.overdue_keys();
        let listed: BTreeSet<_> = keys.iter().cloned().collect();
        assert_eq!(keys.len(), listed.len(), "{day}: listed once each");
        assert_eq!(listed, status, "{day}");
        for st in &digest.overdue {
            assert!(
                st.submitted + st.waived + st.late.len() as u32 <= st.expected,
                "{day}: {st:?}"
            );
            assert!(st.late.iter().all(|l| l.days_late > 0 && l.due < day));
        }
        days += 1;
        overdue_days += usize::from(!status.is_empty());
        most = most.max(status.len());
        // Then the day's records: some open reports arrive, a few are
        // waived or extended.
        for r in rows.iter().filter(|r| {
            r.status.submitted_on.is_none() && r.status.state != hanbao::status::StateName::Waived
        }) {
            let key = Key::new(&r.obligation.id, &*r.period, &r.unit.id);
            match rand(100) {
                0..4 => {
                    s.record_submission(
                        NewSubmission {
                            key,
                            received_on: day,
                            received_at: None,
                            reference: None,
                            note: None,
                            actor: "test".into(),
                            source: Source::Cli,
                            correction: false,
                        },
                        now,
                    )
                    .await
                    .unwrap();
                }
                4 => {
                    s.grant_waiver(
                        NewWaiver {
                            key,
                            reason: "test".into(),
                            actor: "test".into(),
                            source: Source::Cli,
                        },
                        now,
                    )
                    .await
                    .unwrap();
                }
                5 if r.status.extended => {}
                5 => {
                    s.grant_extension(
                        NewExtension {
                            key,
                            until: day.checked_add(jiff::Span::new().days(10)).unwrap(),
                            reason: "test".into(),
                            actor: "test".into(),
                            source: Source::Cli,
                        },
                        now,
                    )
                    .await
                    .unwrap();
                }
                _ => {}
            }
        }
        day = day.tomorrow().unwrap();
    }
    assert_eq!(days, 365);
    // The year has overdue reports on many days, dozens at a time.
    assert!(
        overdue_days > 60 && most > 40,
        "{overdue_days} days, at most {most}"
    );
}

/// `/metrics`' read of the outbox: counts per (status, kind) with the sum
/// of attempts and the rows ever claimed, and the earliest queued
/// `next_attempt_at` (pending or sending), all from aggregate statements;
/// it agrees with the rows themselves.
async fn summary_counts_the_outbox_by_status_and_kind(b: &Backend) {
    let s = b.open().await;
    let empty = s.outbox_summary().await.unwrap();
    assert_eq!((empty.counts.len(), empty.oldest_queued), (0, None));
    let mut skipped = row("u9", OutboxKind::Escalation, 1, "z@x.vn", -500);
    skipped.status = OutboxStatus::Skipped;
    s.enqueue(
        vec![
            row("u1", OutboxKind::Reminder, 1, "a@x.vn", 0),
            row("u2", OutboxKind::Reminder, 1, "b@x.vn", 10),
            row("u3", OutboxKind::Reminder, 1, "c@x.vn", 20),
            row("u4", OutboxKind::Overdue, 1, "d@x.vn", 30),
            row("u5", OutboxKind::Overdue, 1, "e@x.vn", 5000),
            skipped,
        ],
        at(0),
    )
    .await
    .unwrap();
    // u1 sent; u2 retried (pending again, 1 attempt); u3 failed after a
    // retry (2 attempts); u4 claimed and still sending.
    let got = s.claim("me", at(40), at(400), 4).await.unwrap();
    assert_eq!(got.len(), 4);
    let id = |unit: &str| got.iter().find(|r| r.key.unit == unit).unwrap().id;
    let retry = |t: i64| Outcome::Retry {
        error: "451".into(),
        next_attempt_at: at(t),
    };
    s.finish_many(
        "me",
        vec![
            (
                id("u1"),
                Outcome::Sent {
                    message_id: "<1@x>".into(),
                },
            ),
            (id("u2"), retry(100)),
            (id("u3"), retry(50)),
        ],
        at(45),
    )
    .await
    .unwrap();
    // Another owner: "me" would take its own u4 lease back.
    let again = s.claim("me2", at(60), at(400), 10).await.unwrap();
    assert_eq!(again.len(), 1);
    s.finish(
        again[0].id,
        "me2",
        Outcome::Failed {
            error: "550".into(),
        },
        at(61),
    )
    .await
    .unwrap();

    let got = s.outbox_summary().await.unwrap();
    let c = |status, kind, rows, attempts, attempted| OutboxCount {
        status,
        kind,
        rows,
        attempts,
        attempted,
    };
    use OutboxKind::*;
    use OutboxStatus::*;
    let mut want = vec![
        c(Failed, Reminder, 1, 2, 1),
        c(Pending, Overdue, 1, 0, 0),
        c(Pending, Reminder, 1, 1, 1),
        c(Sending, Overdue, 1, 1, 1),
        c(Sent, Reminder, 1, 1, 1),
        c(Skipped, Escalation, 1, 0, 0),
    ];
    let mut have = got.counts.clone();
    let order = |x: &OutboxCount| (x.status.as_str(), x.kind.as_str());
    want.sort_by_key(order);
    have.sort_by_key(order);
    assert_eq!(have, want);
    // u4 (sending, due at 30) has waited longest; skipped rows never count.
    assert_eq!(got.oldest_queued, Some(at(30)));
    // The counts agree with the rows.
    let rows = s.outbox(None).await.unwrap();
    assert_eq!(
        got.counts.iter().map(|c| c.rows).sum::<u64>(),
        rows.len() as u64
    );
    assert_eq!(
        got.counts.iter().map(|c| c.attempts).sum::<u64>(),
        rows.iter().map(|r| u64::from(r.attempts)).sum::<u64>()
    );
}

/// A daily report due 10:00 the next working day, two communes of one
/// district, around Tết 2026 (Sat 14/2–Sun 22/2, checked by hand on the
/// 2026 calendar): on Thu 26/2 at 08:00, commune A has sent nothing since
/// 9/2 and commune B everything but 24/2.
pub(crate) fn daily_late(escalate: bool) -> hanbao::config::model::Config {
    let text = format!(
        "[daemon]\nsending_hours = \"07:30-17:00\"\n\
        [mail]\ntransport = \"file\"\nfrom = \"Sở Thử <baocao@so.example>\"\n\
        [[unit]]\nid = \"so\"\nname = \"Sở Thử\"\nemail = \"vanthu@so.example\"\n\
        [[unit]]\nid = \"huyen\"\nname = \"UBND huyện B\"\nemail = \"vanthu@huyen.example\"\n\
        [[unit]]\nid = \"xa-a\"\nname = \"UBND xã A\"\nemail = \"vanthu@xa-a.example\"\nsupervisor = \"huyen\"\n\
        [[unit]]\nid = \"xa-b\"\nname = \"UBND xã B\"\nemail = \"vanthu@xa-b.example\"\nsupervisor = \"huyen\"\n\
        [[obligation]]\nid = \"bc-ngay\"\ntitle = \"Báo cáo nhanh trong ngày\"\n\
        reporters = [\"xa-a\", \"xa-b\"]\nrecipient = \"so\"\ncycle = \"hàng ngày\"\n\
        due = \"chậm nhất 10 giờ, 1 ngày làm việc\"\nactive_from = \"09/02/2026\"\n{}",
        if escalate {
            "[[obligation.escalation]]\nafter = \"0 ngày\"\nnotify = [\"supervisor\"]\n"
        } else {
            ""
        }
    );
    hanbao::config::load_str("daily.toml", &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

/// The digest groups a daily report's late days: one line per unit with
/// how many periods and since when, not one line per day; its overdue keys
/// still name every (report, period, unit) `status` lists. Hand-checked:
/// daily periods are working days (9–13/2, 23/2, 24/2, ...); on Thu 26/2
/// the periods 9/2 to 24/2 are overdue (7 of them; 25/2 is due today at
/// 10:00). 9/2 was due Tue 10/2: 16 days late, 7 working days (11, 12,
/// 13, 23, 24, 25, 26/2). Commune B's 24/2, due Wed 25/2: 1 day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_groups_a_daily_reports_late_days_per_unit() {
    use hanbao::calendar::WorkCalendar;
    use hanbao::mail::{Language, Notice, NoticeKind, Templates};
    use hanbao::store::{Key, NewSubmission, Records, Source};
    use hanbao::tracking::{self, Selection};
    use std::collections::BTreeSet;

    let cfg = daily_late(false);
    let cal = WorkCalendar::new(&cfg.calendar);
    let tz = cfg.daemon.time_zone.clone();
    let dir = tempfile::tempdir().unwrap();
    let s = store::open(&format!("sqlite://{}/d.db", dir.path().display()))
        .await
        .unwrap();
    for (period, on) in [
        ("2026-02-09", date(2026, 2, 10)),
        ("2026-02-10", date(2026, 2, 11)),
        ("2026-02-11", date(2026, 2, 12)),
        ("2026-02-12", date(2026, 2, 13)),
        ("2026-02-13", date(2026, 2, 23)),
        ("2026-02-23", date(2026, 2, 24)),
    ] {
        s.record_submission(
            NewSubmission {
                key: Key::new("bc-ngay", period, "xa-b"),
                received_on: on,
                received_at: None,
                reference: None,
                note: None,
                actor: "test".into(),
                source: Source::Cli,
                correction: false,
            },
            tz.to_timestamp(on.at(9, 0, 0, 0)).unwrap(),
        )
        .await
        .unwrap();
    }
    let day = date(2026, 2, 26);
    let now = tz.to_timestamp(day.at(8, 0, 0, 0)).unwrap();
    let digest = hanbao::outbox::digest::build(&s, &cfg, &cal, now)
        .await
        .unwrap();
    assert_eq!(digest.overdue.len(), 1, "{:#?}", digest.overdue);
    let st = &digest.overdue[0];
    let span = st.span.as_ref().expect("grouped");
    assert_eq!(
        (span.count, &*span.first.key, &*span.last.key),
        (7, "2026-02-09", "2026-02-24")
    );
    assert_eq!((st.expected, st.submitted, st.submitted_late), (14, 6, 0));
    let lines: Vec<(&str, usize, &str, u32, u32)> = st
        .late
        .iter()
        .map(|l| {
            (
                l.unit.id.as_str(),
                l.periods.len(),
                l.periods[0].key.as_str(),
                l.days_late,
                l.working_days_late,
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("xa-a", 7, "2026-02-09", 16, 7),
            ("xa-b", 1, "2026-02-24", 1, 1)
        ]
    );
    // Every key `status` lists as overdue, each once.
    let rows = tracking::status(&s, &cfg, &cal, &Selection::default(), day)
        .await
        .unwrap();
    let status: BTreeSet<(String, String, String)> = rows
        .iter()
        .filter(|r| r.status.state == hanbao::status::StateName::Overdue)
        .map(|r| {
            (
                r.obligation.id.clone(),
                r.period.to_string(),
                r.unit.id.clone(),
            )
        })
        .collect();
    let keys = digest.overdue_keys();
    assert_eq!(keys.len(), 8);
    assert_eq!(keys.iter().cloned().collect::<BTreeSet<_>>(), status);

    // The English digest names the periods in English.
    let mut en_cfg = cfg.clone();
    en_cfg.mail.language = Language::En;
    let en_digest = hanbao::outbox::digest::build(&s, &en_cfg, &cal, now)
        .await
        .unwrap();
    let templates = Templates::builtin();
    let render = |language| {
        let digest = if language == Language::En {
            &en_digest
        } else {
            &digest
        };
        let notice = Notice {
            kind: NoticeKind::Digest(digest.clone()),
            language,
            recipients: vec![hanbao::mail::Addressee::new("baocao@so.example")],
            outbox_key: "digest".into(),
            sent_at: now,
        };
        templates.render(&notice, "baocao@so.example").unwrap()
    };
    let vi = render(Language::Vi);
    for want in [
        "1) Báo cáo nhanh trong ngày, 7 kỳ từ ngày 09/02/2026 đến ngày 24/02/2026\n",
        "   Đã nhận 6/14 lượt báo cáo; chưa gửi 2:\n",
        "   - UBND xã A: 7 kỳ chưa gửi (từ kỳ ngày 09/02/2026), lâu nhất quá hạn 16 ngày (7 ngày làm việc)\n",
        "   - UBND xã B: 1 kỳ chưa gửi (kỳ ngày 24/02/2026), quá hạn 1 ngày (1 ngày làm việc)\n",
        "Tổng cộng: 8 lượt đơn vị chưa gửi, thuộc 1 báo cáo.",
        // The coming days on one line too: 25–27/2, 2–6/3, 9–13/3, 16–18/3.
        "   - Báo cáo nhanh trong ngày, 16 kỳ từ ngày 25/02/2026 đến ngày 18/03/2026: hạn gần nhất thứ Năm, 26/02/2026; đã nhận 0/32 lượt\n",
    ] {
        assert!(vi.text.contains(want), "{want:?} in\n{}", vi.text);
    }
    assert_eq!(vi.text.matches("UBND xã A").count(), 1, "{}", vi.text);
    assert!(
        vi.html.contains(
            "<li>UBND xã A: 7 kỳ chưa gửi (từ kỳ ngày 09&#x2f;02&#x2f;2026), lâu nhất quá hạn 16 ngày (7 ngày làm việc)</li>"
        ),
        "{}",
        vi.html
    );
    let en = render(Language::En);
    for want in [
        "1) Báo cáo nhanh trong ngày, 7 periods from the day 09/02/2026 to the day 24/02/2026\n",
        "   Received 6 of 14 reports; 2 not sent:\n",
        "   - UBND xã A: 7 periods not sent (since the day 09/02/2026), the oldest 16 days late (7 working days)\n",
        "   - UBND xã B: 1 period not sent (for the day 24/02/2026), 1 day late (1 working day)\n",
        "In all: 8 reports not sent, in 7 report periods.",
        "   - Báo cáo nhanh trong ngày, 16 periods from the day 25/02/2026 to the day 18/03/2026: next due Thursday, 26/02/2026; received 0 of 32 reports\n",
    ] {
        assert!(en.text.contains(want), "{want:?} in\n{}", en.text);
    }
}
/// An outbox of every status: 4 units × 2 periods × 2 obligations × 2
/// kinds (64 rows), then most claimed in waves finished as sent (at
/// different instants), failed, retried later or cancelled; a few skipped
/// rows, the rest pending. The
/// rows as stored, oldest first.
async fn varied_outbox(s: &hanbao::store::Store) -> Vec<OutboxRow> {
    let mut new = Vec::new();
    for (o, ob) in ["bc-quy", "bc-thang"].into_iter().enumerate() {
        for period in ["2026-Q1", "2026-Q2"] {
            for u in 0..4 {
                for kind in [OutboxKind::Reminder, OutboxKind::Escalation] {
                    let mut r = row(&format!("u{u}"), kind, 1, &format!("{u}@x.vn"), 0);
                    r.key.obligation = ob.into();
                    r.key.period = period.into();
                    if (u + o) % 5 == 3 && kind == OutboxKind::Reminder {
                        r.status = OutboxStatus::Skipped;
                    }
                    new.push(r);
                }
            }
        }
    }
    s.enqueue(new, at(0)).await.unwrap();
    for wave in 0..3i64 {
        let got = s.claim("w", at(10 + wave), at(900), 12).await.unwrap();
        let results = got
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let outcome = match (i + wave as usize) % 5 {
                    0 | 1 => Outcome::Sent {
                        message_id: format!("<{}@x>", r.id),
                    },
                    2 => Outcome::Failed {
                        error: "550 không có hộp thư".into(),
                    },
                    3 => Outcome::Cancelled {
                        reason: "đã nhận báo cáo".into(),
                    },
                    _ => Outcome::Retry {
                        error: "421 thử lại sau".into(),
                        next_attempt_at: at(99_999),
                    },
                };
                (r.id, outcome)
            })
            .collect();
        // Later waves finish earlier: sent_at does not follow the ids.
        s.finish_many("w", results, at(500 - wave * 7))
            .await
            .unwrap();
    }
    s.outbox(None).await.unwrap()
}

/// `outbox_page`: paging by `before` through each filter's rows, a few at
/// a time, lists every matching row exactly once, newest first; an empty
/// unit list matches nothing.
async fn pages_cover_every_row_once_under_each_filter(b: &Backend) {
    let s = b.open().await;
    let all = varied_outbox(&s).await;
    let statuses: HashSet<_> = all.iter().map(|r| r.status).collect();
    assert!(statuses.len() >= 5, "{statuses:?}");
    let units = |u: &[&str]| Some(u.iter().map(|u| u.to_string()).collect::<Vec<_>>());
    let mut filters = vec![OutboxFilter::default()];
    for status in OutboxStatus::ALL {
        filters.push(OutboxFilter {
            status: Some(status),
            ..OutboxFilter::default()
        });
        filters.push(OutboxFilter {
            status: Some(status),
            units: units(&["u1", "u3"]),
            kind: Some(OutboxKind::Reminder),
            ..OutboxFilter::default()
        });
    }
    filters.push(OutboxFilter {
        units: units(&["u2"]),
        ..OutboxFilter::default()
    });
    filters.push(OutboxFilter {
        units: units(&["u0", "u2", "không-có"]),
        status: Some(OutboxStatus::Sent),
        obligation: Some("bc-thang".into()),
        period: Some("2026-Q2".into()),
        ..OutboxFilter::default()
    });
    filters.push(OutboxFilter {
        kind: Some(OutboxKind::Escalation),
        period: Some("2026-Q1".into()),
        ..OutboxFilter::default()
    });
    for f in &filters {
        let mut want: Vec<i64> = all
            .iter()
            .filter(|r| f.status.is_none_or(|s| r.status == s))
            .filter(|r| f.kind.is_none_or(|k| r.key.kind == k))
            .filter(|r| f.obligation.as_ref().is_none_or(|o| &r.key.obligation == o))
            .filter(|r| f.period.as_ref().is_none_or(|p| &r.key.period == p))
            .filter(|r| f.units.as_ref().is_none_or(|u| u.contains(&r.key.unit)))
            .map(|r| r.id)
            .collect();
        want.reverse();
        let mut got = Vec::new();
        let mut before = None;
        loop {
            let page = s.outbox_page(f, before, 3).await.unwrap();
            assert!(page.len() <= 3);
            let Some(last) = page.last() else { break };
            before = Some(last.id);
            // Whole rows, as `outbox` reads them.
            for r in &page {
                assert_eq!(Some(r), all.iter().find(|a| a.id == r.id));
            }
            got.extend(page.iter().map(|r| r.id));
        }
        assert_eq!(got, want, "{f:?}");
    }
    let none = OutboxFilter {
        units: Some(Vec::new()),
        ..OutboxFilter::default()
    };
    assert!(s.outbox_page(&none, None, 10).await.unwrap().is_empty());
    // The counts per status are the rows' (every status named, 0 included).
    let counts = s.outbox_status_counts().await.unwrap();
    assert_eq!(counts.len(), OutboxStatus::ALL.len());
    for (status, n) in counts {
        let want = all.iter().filter(|r| r.status == status).count() as u64;
        assert_eq!(n, want, "{status}");
    }
}

/// `outbox_for_key`: every row of one (obligation, period, unit), of every
/// status, oldest first; nothing of other reports.
async fn a_report_lists_its_rows_of_every_status(b: &Backend) {
    let s = b.open().await;
    let all = varied_outbox(&s).await;
    for ob in ["bc-quy", "bc-thang"] {
        for u in ["u0", "u1", "u2", "u3"] {
            let key = Key::new(ob, "2026-Q2", u);
            let got = s.outbox_for_key(&key).await.unwrap();
            let want: Vec<&OutboxRow> = all
                .iter()
                .filter(|r| r.key.obligation == ob && r.key.period == "2026-Q2" && r.key.unit == u)
                .collect();
            assert_eq!(got.iter().collect::<Vec<_>>(), want, "{ob} {u}");
            assert_eq!(got.len(), 2);
        }
    }
    let statuses: HashSet<_> = ["u0", "u1", "u2", "u3"]
        .iter()
        .flat_map(|u| all.iter().filter(move |r| r.key.unit == *u))
        .map(|r| r.status)
        .collect();
    assert!(statuses.len() >= 4, "{statuses:?}");
    let nothing = s
        .outbox_for_key(&Key::new("bc-quy", "2027-Q1", "u0"))
        .await
        .unwrap();
    assert!(nothing.is_empty());
}

/// `last_sent`: per unit asked, the sent row with the latest `sent_at`
/// (a brute-force max over every row), units with nothing sent left out.
async fn last_sent_is_the_latest_sent_row_per_unit(b: &Backend) {
    let s = b.open().await;
    let all = varied_outbox(&s).await;
    let asked: Vec<String> = ["u0", "u1", "u2", "u3", "u9"]
        .iter()
        .map(|u| u.to_string())
        .collect();
    let mut some = 0;
    for ob in ["bc-quy", "bc-thang"] {
        for period in ["2026-Q1", "2026-Q2"] {
            let got = s.last_sent(ob, period, &asked).await.unwrap();
            let mut want = Vec::new();
            for u in &asked {
                let best = all
                    .iter()
                    .filter(|r| {
                        r.key.obligation == ob
                            && r.key.period == period
                            && &r.key.unit == u
                            && r.status == OutboxStatus::Sent
                    })
                    .max_by_key(|r| (r.sent_at, r.id));
                if let Some(r) = best {
                    want.push(LastSent {
                        unit: u.clone(),
                        kind: r.key.kind,
                        stage: r.key.stage,
                        sent_at: r.sent_at.unwrap(),
                    });
                }
            }
            some += want.len();
            assert_eq!(got, want, "{ob} {period}");
        }
    }
    assert!(some >= 4, "the fixture sends something");
    assert!(
        s.last_sent("bc-quy", "2026-Q1", &[])
            .await
            .unwrap()
            .is_empty()
    );
}

/// `claim_late_periods`: the waiting overdue notices of one (unit, report,
/// recipient) whose time has come, leased with the claim; not those of
/// another unit, recipient or report, not reminders, not rows not yet due,
/// and not rows another dispatcher holds.
async fn late_periods_of_a_group_are_claimed_together(b: &Backend) {
    use hanbao::store::{Claim, LateGroup};
    let s = b.open().await;
    let period = |p: &str, unit: &str, kind, to: &str, due_at| {
        let mut r = row(unit, kind, 1, to, due_at);
        r.key.obligation = "bc-ngay".into();
        r.key.period = p.into();
        r
    };
    let mut rows = Vec::new();
    for d in 1..=5 {
        let p = format!("2026-03-0{d}");
        rows.push(period(&p, "u1", OutboxKind::Overdue, "a@x.vn", d));
        rows.push(period(&p, "u2", OutboxKind::Overdue, "b@x.vn", d));
        rows.push(period(&p, "u1", OutboxKind::Overdue, "so@x.vn", d));
        rows.push(period(&p, "u1", OutboxKind::Reminder, "a@x.vn", d));
    }
    // Not yet due at the claim.
    rows.push(period(
        "2026-03-09",
        "u1",
        OutboxKind::Overdue,
        "a@x.vn",
        500,
    ));
    // Another report of the same unit and recipient.
    let mut other = row("u1", OutboxKind::Overdue, 1, "a@x.vn", 1);
    other.key.obligation = "bc-tuan".into();
    rows.push(other);
    s.enqueue(rows, at(0)).await.unwrap();
    // Another dispatcher holds one of the group's rows.
    let held = s
        .claim_late_periods(
            Claim::new("d0", at(10), at(400), 1),
            &[LateGroup {
                obligation: "bc-ngay".into(),
                unit: "u1".into(),
                recipient: "a@x.vn".into(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].key.period, "2026-03-01");
    let got = s
        .claim_late_periods(
            Claim::new("d1", at(20), at(400), 500),
            &[LateGroup {
                obligation: "bc-ngay".into(),
                unit: "u1".into(),
                recipient: "a@x.vn".into(),
            }],
        )
        .await
        .unwrap();
    let periods: Vec<&str> = got.iter().map(|r| r.key.period.as_str()).collect();
    assert_eq!(
        periods,
        ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
    );
    assert!(got.iter().all(|r| r.status == OutboxStatus::Sending
        && r.key.kind == OutboxKind::Overdue
        && r.key.unit == "u1"
        && r.key.recipient == "a@x.vn"));
    // Nothing of the group is left to claim; the rest is still waiting.
    let again = s
        .claim_late_periods(
            Claim::new("d2", at(30), at(400), 500),
            &[LateGroup {
                obligation: "bc-ngay".into(),
                unit: "u1".into(),
                recipient: "a@x.vn".into(),
            }],
        )
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
    let rest = s.claim("d3", at(40), at(400), 100).await.unwrap();
    assert_eq!(rest.len(), 16, "{rest:?}");
}

/// One count of the outbox: (status, kind, rows, attempts, attempted).
pub(crate) type Tallied = (String, String, u64, u64, u64);

/// The outbox counted by brute force, as `/metrics` counted it before the
/// tally: a GROUP BY over every row, plus what retention deleted.
pub(crate) async fn counted_by_hand(url: &str) -> Vec<Tallied> {
    const BY_HAND: &str = "SELECT status, kind, CAST(SUM(n) AS BIGINT), \
         CAST(SUM(attempts) AS BIGINT), CAST(SUM(attempted) AS BIGINT) FROM (\
         SELECT status, kind, COUNT(*) AS n, SUM(attempts) AS attempts, \
         SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS attempted \
         FROM outbox GROUP BY status, kind \
         UNION ALL SELECT status, kind, rows, attempts, attempted FROM outbox_purged) c \
         GROUP BY status, kind ORDER BY status, kind";
    let got: Vec<(String, String, i64, i64, i64)> = if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let got = sqlx::query_as(BY_HAND).fetch_all(&pool).await.unwrap();
        pool.close().await;
        got
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let got = sqlx::query_as(BY_HAND).fetch_all(&pool).await.unwrap();
        pool.close().await;
        got
    };
    let n = |v: i64| u64::try_from(v).unwrap();
    got.into_iter()
        .map(|(s, k, r, a, t)| (s, k, n(r), n(a), n(t)))
        .collect()
}

/// `outbox_summary`'s counts, in the order of [`counted_by_hand`].
pub(crate) async fn tallied(s: &store::Store) -> Vec<Tallied> {
    let mut got: Vec<Tallied> = s
        .outbox_summary()
        .await
        .unwrap()
        .counts
        .into_iter()
        .map(|c| {
            (
                c.status.as_str().to_string(),
                c.kind.as_str().to_string(),
                c.rows,
                c.attempts,
                c.attempted,
            )
        })
        .collect();
    got.sort();
    got
}

/// Changes of the tally not folded yet (PostgreSQL; none on SQLite, which
/// has no such table).
async fn unfolded(url: &str) -> i64 {
    if url.starts_with("sqlite") {
        return 0;
    }
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let n = sqlx::query_scalar("SELECT count(*) FROM outbox_tally_delta")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

/// Runs `sql` on the database at `url` (a write the store never makes).
async fn execute(url: &str, sql: &'static str) {
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// A random outbox row of a small key space (so that rows collide,
/// supersede each other and are written again).
fn random_row(rng: &mut fastrand::Rng, t: i64) -> NewOutboxRow {
    let kind = [
        OutboxKind::Reminder,
        OutboxKind::DueToday,
        OutboxKind::Overdue,
        OutboxKind::Escalation,
    ][rng.usize(..4)];
    let stage = if kind == OutboxKind::DueToday {
        0
    } else {
        rng.u32(1..4)
    };
    let mut r = row(
        &format!("u{}", rng.u8(..5)),
        kind,
        stage,
        ["a@x.vn", "b@x.vn"][rng.usize(..2)],
        t + rng.i64(-50..50),
    );
    if rng.u8(..6) == 0 {
        r.status = OutboxStatus::Skipped;
    }
    r
}

/// A random way for a claimed row to end.
fn random_outcome(rng: &mut fastrand::Rng, t: i64) -> Outcome {
    match rng.u8(..4) {
        0 => Outcome::Sent {
            message_id: format!("<{t}.{}@x>", rng.u32(..)),
        },
        1 => Outcome::Failed {
            error: "550".into(),
        },
        2 => Outcome::Retry {
            error: "451".into(),
            next_attempt_at: at(t + rng.i64(1..30)),
        },
        _ => Outcome::Cancelled {
            reason: "đã nộp".into(),
        },
    }
}

/// The counts `/metrics` reads come from a tally kept by the database,
/// not from a scan of the outbox: after every step of random sequences of
/// enqueues (written again, superseding, skipped), claims (leases that
/// expire, claimed again), finishes one and several at a time (sent,
/// failed, retried, cancelled), the dashboard's retry, updates that move
/// no count, retention's purge and folds, `outbox_summary` equals a
/// brute-force count of the table plus `outbox_purged`.
async fn the_tally_is_exact_after_any_sequence_of_changes(b: &Backend) {
    let s = b.open().await;
    let mut seen = std::collections::BTreeSet::new();
    for seed in 1..=3u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut t = i64::try_from(seed).unwrap() * 100_000;
        let mut claimed: Vec<(i64, &str)> = Vec::new();
        for step in 0..70 {
            t += rng.i64(1..40);
            let what = rng.u8(..10);
            match what {
                0..=2 => {
                    let rows = (0..rng.usize(1..6))
                        .map(|_| random_row(&mut rng, t))
                        .collect();
                    s.enqueue(rows, at(t)).await.unwrap();
                }
                3 | 4 => {
                    let owner = ["a", "b"][rng.usize(..2)];
                    let got = s
                        .claim(owner, at(t), at(t + rng.i64(5..60)), rng.u32(1..6))
                        .await
                        .unwrap();
                    claimed.extend(got.iter().map(|r| (r.id, owner)));
                }
                5 | 6 if !claimed.is_empty() => {
                    let (id, owner) = claimed.swap_remove(rng.usize(..claimed.len()));
                    s.finish(id, owner, random_outcome(&mut rng, t), at(t))
                        .await
                        .unwrap();
                }
                5 | 6 => {}
                7 => {
                    let owner = ["a", "b"][rng.usize(..2)];
                    let mine: Vec<(i64, Outcome)> = claimed
                        .iter()
                        .filter(|(_, o)| *o == owner)
                        .map(|(id, _)| (*id, random_outcome(&mut rng, t)))
                        .collect();
                    claimed.retain(|(_, o)| *o != owner);
                    s.finish_many(owner, mine, at(t)).await.unwrap();
                }
                8 => {
                    let failed = s.outbox(Some(OutboxStatus::Failed)).await.unwrap();
                    if let Some(r) = failed.first() {
                        assert!(s.retry_outbox(r.id, at(t)).await.unwrap());
                    }
                    // Neither status nor attempts: no count moves.
                    let before = unfolded(&b.url).await;
                    execute(
                        &b.url,
                        "UPDATE outbox SET last_error = 'ghi chú', lease_until = lease_until",
                    )
                    .await;
                    assert_eq!(unfolded(&b.url).await, before, "seed {seed} step {step}");
                }
                _ => {
                    s.purge_finished(at(t - rng.i64(0..200))).await.unwrap();
                    s.fold_outbox_tally(0).await.unwrap();
                }
            }
            let counted = counted_by_hand(&b.url).await;
            assert_eq!(
                tallied(&s).await,
                counted,
                "seed {seed} step {step} ({what})"
            );
            seen.extend(counted.into_iter().map(|c| c.0));
        }
    }
    // Everything folded: the counts are the tally's own rows.
    s.fold_outbox_tally(0).await.unwrap();
    assert_eq!(unfolded(&b.url).await, 0);
    assert_eq!(tallied(&s).await, counted_by_hand(&b.url).await);
    // The sequences went through every status, and retention deleted rows.
    assert_eq!(seen.len(), OutboxStatus::ALL.len(), "{seen:?}");
    let summary: u64 = tallied(&s).await.iter().map(|c| c.2).sum();
    assert!(summary > s.outbox(None).await.unwrap().len() as u64);
}

/// Several processes claim and finish at once while folds run (two at a
/// time): no change is lost or counted twice, and a fold below its
/// threshold does nothing.
async fn concurrent_writers_and_folds_keep_the_tally_exact(b: &Backend) {
    let s = b.open().await;
    let rows: Vec<_> = (0..300)
        .map(|i| {
            let kind = [OutboxKind::Reminder, OutboxKind::Overdue][i % 2];
            row(&format!("u{i:03}"), kind, 1, "a@x.vn", 0)
        })
        .collect();
    s.enqueue(rows, at(0)).await.unwrap();
    if b.url.starts_with("postgres") {
        assert_eq!(s.fold_outbox_tally(1_000_000).await.unwrap(), 0);
        assert!(unfolded(&b.url).await > 0);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..4u64 {
        let s = b.open().await;
        tasks.spawn(async move {
            let owner = format!("w{w}");
            let mut rng = fastrand::Rng::with_seed(w);
            loop {
                let got = s.claim(&owner, at(10), at(310), 7).await.unwrap();
                if got.is_empty() {
                    break;
                }
                let results: Vec<_> = got
                    .iter()
                    .map(|r| (r.id, random_outcome(&mut rng, 400)))
                    .collect();
                if rng.bool() {
                    s.finish_many(&owner, results, at(11)).await.unwrap();
                } else {
                    for (id, outcome) in results {
                        s.finish(id, &owner, outcome, at(11)).await.unwrap();
                    }
                }
                s.fold_outbox_tally(0).await.unwrap();
            }
        });
    }
    for _ in 0..2 {
        let s = b.open().await;
        tasks.spawn(async move {
            for _ in 0..20 {
                s.fold_outbox_tally(0).await.unwrap();
                tokio::task::yield_now().await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    assert_eq!(tallied(&s).await, counted_by_hand(&b.url).await);
    s.fold_outbox_tally(0).await.unwrap();
    assert_eq!(unfolded(&b.url).await, 0);
    let counted = counted_by_hand(&b.url).await;
    assert_eq!(tallied(&s).await, counted);
    assert_eq!(counted.iter().map(|c| c.2).sum::<u64>(), 300);
}
