//! Retention of the outbox (`Outbox::purge_finished`, `outbox::retention`):
//! finished rows older than the cut-off go, everything still to send and
//! the history of submissions stays, the counters of `/metrics` never go
//! down, and a deleted row is never planned again. The store stories run
//! on SQLite and PostgreSQL.

use hanbao::calendar::WorkCalendar;
use hanbao::outbox::{Planning, retention};
use hanbao::store::{
    self, HistoryFilter, Key, NewOutboxRow, NewSubmission, OutboxKey, OutboxKind, OutboxStatus,
    Outcome, PURGE_BATCH, Source,
};
use hanbao::store::{Outbox, Records};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};

use crate::support::backend::{Backend, stories};

stories!(
    purge_deletes_old_finished_rows_only_and_keeps_the_counts,
    purge_works_in_batches,
);

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_780_000_000 + second).unwrap()
}

fn row(unit: &str, kind: OutboxKind, stage: u32, status: OutboxStatus) -> NewOutboxRow {
    NewOutboxRow {
        key: OutboxKey {
            obligation: "bc-quy".into(),
            period: "2026-Q1".into(),
            unit: unit.into(),
            kind,
            stage,
            recipient: format!("vanthu@{unit}.example"),
        },
        rank: stage,
        due_on: date(2026, 4, 10),
        status,
        next_attempt_at: at(0),
    }
}

async fn units(s: &store::Store) -> Vec<(String, OutboxStatus)> {
    let mut all: Vec<_> = s
        .outbox(None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.key.unit, r.status))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

/// Rows of every status, finished long ago or just now: only the finished
/// ones (sent, skipped, cancelled) whose last change is before the cut-off
/// go; pending, sending and failed rows stay however old; the summary
/// counts the same before and after; the history of submissions is
/// untouched; a second purge deletes nothing.
async fn purge_deletes_old_finished_rows_only_and_keeps_the_counts(b: &Backend) {
    use OutboxKind::*;
    use OutboxStatus::*;
    let s = b.open().await;
    let sub = NewSubmission {
        key: Key::new("bc-quy", "2026-Q1", "old-sent"),
        received_on: date(2026, 4, 8),
        received_at: None,
        reference: Some("15/BC-UBND".into()),
        note: None,
        actor: "van-thu".into(),
        source: Source::Cli,
        correction: false,
    };
    s.record_submission(sub, at(0)).await.unwrap();
    // At 0: old rows; each is finished at 10 (or stays as it is).
    s.enqueue(
        vec![
            row("old-sent", Reminder, 1, Pending),
            row("old-failed", Overdue, 1, Pending),
            row("old-sending", Reminder, 1, Pending),
            row("old-skipped", DueToday, 0, Skipped),
            row("old-cancelled", Reminder, 1, Pending),
        ],
        at(0),
    )
    .await
    .unwrap();
    let claimed = s.claim("me", at(5), at(1_000_000), 10).await.unwrap();
    assert_eq!(claimed.len(), 4);
    let id = |unit: &str| claimed.iter().find(|r| r.key.unit == unit).unwrap().id;
    s.finish_many(
        "me",
        vec![
            (
                id("old-sent"),
                Outcome::Sent {
                    message_id: "<1@x>".into(),
                },
            ),
            (
                id("old-failed"),
                Outcome::Failed {
                    error: "550".into(),
                },
            ),
            (
                id("old-cancelled"),
                Outcome::Cancelled {
                    reason: "đã nộp".into(),
                },
            ),
        ],
        at(10),
    )
    .await
    .unwrap();
    let mut late = row("old-pending", Escalation, 1, Pending);
    late.next_attempt_at = at(10_000_000);
    s.enqueue(vec![late], at(0)).await.unwrap();
    // At 1000: a row sent recently.
    s.enqueue(vec![row("new-sent", Reminder, 1, Pending)], at(1000))
        .await
        .unwrap();
    // Another owner: "me" would take its own lease of "old-sending" back.
    let fresh = s.claim("me2", at(1000), at(1_000_000), 10).await.unwrap();
    assert_eq!(fresh.len(), 1);
    s.finish(
        fresh[0].id,
        "me2",
        Outcome::Sent {
            message_id: "<2@x>".into(),
        },
        at(1001),
    )
    .await
    .unwrap();

    let before = s.outbox_summary().await.unwrap();
    let history = s.history(&HistoryFilter::default()).await.unwrap();
    // The cut-off is strict: a row finished exactly at it stays.
    assert_eq!(s.purge_finished(at(0)).await.unwrap(), 0);
    assert_eq!(s.purge_finished(at(500)).await.unwrap(), 3);
    assert_eq!(
        units(&s).await,
        [
            ("new-sent".to_string(), Sent),
            ("old-failed".to_string(), Failed),
            ("old-pending".to_string(), Pending),
            ("old-sending".to_string(), Sending),
        ]
    );
    let after = s.outbox_summary().await.unwrap();
    assert_eq!(after.counts, before.counts, "counters never go down");
    assert_eq!(after.oldest_queued, before.oldest_queued);
    assert_eq!(s.history(&HistoryFilter::default()).await.unwrap(), history);
    assert_eq!(s.purge_finished(at(500)).await.unwrap(), 0);
    // Later rows of a purged (status, kind) add to what was counted.
    s.enqueue(vec![row("later-skipped", DueToday, 0, Skipped)], at(2000))
        .await
        .unwrap();
    assert_eq!(s.purge_finished(at(3000)).await.unwrap(), 2);
    let counts = s.outbox_summary().await.unwrap().counts;
    let n = |status, kind| {
        counts
            .iter()
            .find(|c| c.status == status && c.kind == kind)
            .map(|c| (c.rows, c.attempts, c.attempted))
    };
    assert_eq!(n(Skipped, DueToday), Some((2, 0, 0)));
    assert_eq!(n(Sent, Reminder), Some((2, 2, 2)));
    assert_eq!(n(Cancelled, Reminder), Some((1, 1, 1)));
    assert_eq!(n(Failed, Overdue), Some((1, 1, 1)));
    assert_eq!(units(&s).await.len(), 3);
}

/// More rows than one transaction deletes: all of them go, counted once.
async fn purge_works_in_batches(b: &Backend) {
    let s = b.open().await;
    let total = usize::try_from(PURGE_BATCH).unwrap() * 2 + 3;
    let rows = (0..total)
        .map(|i| {
            row(
                &format!("u{i}"),
                OutboxKind::DueToday,
                0,
                OutboxStatus::Skipped,
            )
        })
        .collect();
    s.enqueue(rows, at(0)).await.unwrap();
    assert_eq!(s.purge_finished(at(1)).await.unwrap(), total as u64);
    assert!(s.outbox(None).await.unwrap().is_empty());
    let counts = s.outbox_summary().await.unwrap().counts;
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0].rows, total as u64);
}

/// A one-off report due Thursday 25/6/2026 with a reminder three days
/// before, and the shortest retention allowed.
fn config() -> hanbao::config::model::Config {
    let text = "[daemon]\nsending_hours = \"07:30-11:00\"\noutbox_retention_days = 100\n\
         [[unit]]\nid = \"so\"\nname = \"Sở\"\nemail = \"vanthu@so.example\"\n\
         [[unit]]\nid = \"xa-1\"\nname = \"UBND xã 1\"\nemail = \"vanthu@xa-1.example\"\n\
         [[unit]]\nid = \"xa-2\"\nname = \"UBND xã 2\"\nemail = \"vanthu@xa-2.example\"\n\
         [[obligation]]\nid = \"bc-thu\"\ntitle = \"Báo cáo thử\"\n\
         reporters = [\"xa-1\", \"xa-2\"]\nrecipient = \"so\"\ncycle = \"once\"\n\
         due = \"25/06/2026\"\nreminders = [\"3 ngày\"]\n";
    let cfg = hanbao::config::load_str("retention.toml", text)
        .expect("valid configuration")
        .config;
    assert_eq!(cfg.daemon.outbox_retention_days, 100);
    cfg
}

/// The safety of deleting: rows sent and then purged after the shortest
/// retention are outside the planner's look-back, so a planner starting
/// afresh (no watermark: the longest look-back) plans none of them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_row_is_never_planned_again() {
    let cfg = config();
    let cal = WorkCalendar::new(&cfg.calendar);
    let dir = tempfile::tempdir().unwrap();
    let s = store::open(&format!("sqlite://{}/hanbao.db", dir.path().display()))
        .await
        .unwrap();
    // Friday 26/6/2026 08:00: the reminders and the due-day notices.
    let sent_at: Timestamp = "2026-06-26T01:00:00Z".parse().unwrap();
    let planned = Planning::default()
        .enqueue(&s, &cfg, &cal, sent_at)
        .await
        .unwrap();
    assert!(planned.pending + planned.skipped > 0, "{planned:?}");
    let claimed = s
        .claim("me", sent_at, sent_at + SignedDuration::from_mins(5), 100)
        .await
        .unwrap();
    let results = claimed
        .iter()
        .map(|r| {
            let sent = Outcome::Sent {
                message_id: format!("<{}@x>", r.id),
            };
            (r.id, sent)
        })
        .collect();
    s.finish_many("me", results, sent_at).await.unwrap();
    let rows = s.outbox(None).await.unwrap().len();
    assert!(rows >= 2, "{rows} rows");
    assert!(
        s.outbox(None)
            .await
            .unwrap()
            .iter()
            .all(|r| matches!(r.status, OutboxStatus::Sent | OutboxStatus::Skipped))
    );

    // 99 days on, nothing is old enough.
    let day = SignedDuration::from_hours(24);
    assert_eq!(
        retention::purge(&s, &cfg, sent_at + day * 99)
            .await
            .unwrap(),
        0
    );
    // 100 days and a second on, every row goes.
    let later = sent_at + day * 100 + SignedDuration::from_secs(1);
    assert_eq!(
        retention::purge(&s, &cfg, later).await.unwrap(),
        rows as u64
    );
    assert!(s.outbox(None).await.unwrap().is_empty());
    let again = Planning::default()
        .enqueue(&s, &cfg, &cal, later)
        .await
        .unwrap();
    assert_eq!((again.pending, again.skipped), (0, 0), "{again:?}");
    assert!(s.outbox(None).await.unwrap().is_empty());
}
