//! The dispatcher: claims due outbox rows with a lease, checks again that
//! each is still wanted, renders, sends and records the result.
//!
//! Delivery is at least once: a row is marked sent only after the transport
//! accepted it, and a row left `sending` (the process died between claim and
//! record) is claimed again when its lease ends. The Message-ID is derived
//! from the row's key, so a duplicate is recognisable as one. Messages go
//! out one at a time per lane (one lane per SMTP connection in use,
//! `[mail.smtp] connections`, default 1); a message's result is written
//! while the lane's next one is with the server, and the one after waits for
//! that write, so a crash can repeat at most two messages per lane
//! (ARCHITECTURE.md, "The bound on duplicates").
//!
//! It does not decide what to enqueue (see `enqueue`) and never reads the
//! clock itself: the caller passes a clock, virtual in `simulate`.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use tokio_util::sync::CancellationToken;

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::mail::{self, Composer, Mailer, Notice};
use crate::planner;
use crate::store::{
    Claim, CurrentState, LateGroup, OutboxKind, OutboxRow, Outcome, Store, StoreError,
};

use super::enqueue::stopped;
use super::group_commit::Group;
use super::notices::{Index, NoticeError, Notices};
use super::timing::{in_sending_hours, retry_at};
use crate::store::{Outbox, Records};

/// How long a claim is held before another dispatcher may take the row.
pub const LEASE: SignedDuration = SignedDuration::from_secs(15 * 60);
/// Rows claimed per query.
pub const BATCH: u32 = 500;
/// Rows claimed before sending starts (one grouping round).
pub const MAX_PER_RUN: usize = 2000;
/// How long a row whose obligation or unit this instance's configuration
/// lacks is left for another instance (one with a newer configuration, in
/// the middle of a rolling reload) before it is cancelled as no longer
/// configured. Until then it goes back to `pending` with the usual backoff.
pub const FOREIGN_GRACE: SignedDuration = SignedDuration::from_secs(3600);

/// Why a claimed row is not sent after all (its outbox record and the log).
const CANCELLED_SETTLED: &str =
    "đơn vị đã nộp báo cáo, được miễn hoặc được gia hạn sau khi thư được lập";
const CANCELLED_UNCONFIGURED: &str = "nghĩa vụ hoặc đơn vị không còn trong cấu hình";
const CANCELLED_LATE: &str = "hạn nộp đã qua trước khi thư nhắc kịp gửi";

pub use super::report::{DispatchReport, SentMessage, kind_words, summary};

/// What the dispatcher needs, built once per configuration (and again on reload).
pub struct Dispatcher<'a> {
    pub cfg: &'a Config,
    pub cal: &'a WorkCalendar,
    pub composer: &'a Composer,
    pub mailer: &'a Mailer,
    /// Names this process in leases (e.g. "host:pid").
    pub owner: &'a str,
}

/// Outcomes not yet written, with their rows (for the lost-lease warning).
#[derive(Default)]
struct Results {
    rows: Vec<OutboxRow>,
    outcomes: Vec<(i64, Outcome)>,
}

impl Results {
    fn push(&mut self, row: OutboxRow, outcome: Outcome) {
        self.outcomes.push((row.id, outcome));
        self.rows.push(row);
    }
}

/// One message to build from one or more claimed rows.
struct Batch {
    rows: Vec<OutboxRow>,
}

/// A batch with its message built (or the reason it cannot be), ready to go.
struct Prepared {
    batch: Batch,
    message: Result<(Notice, mail::Outgoing), PrepareFailure>,
}

enum PrepareFailure {
    /// The notice cannot be built (unknown obligation or unit, ...): permanent.
    Notice(String),
    /// The templates or MIME failed.
    Compose(mail::SendError),
}

/// A batch with the transport's answer, or why nothing was sent.
struct Transmitted {
    batch: Batch,
    answer: Result<(Notice, mail::Outgoing, Result<mail::Sent, mail::SendError>), PrepareFailure>,
}

impl Dispatcher<'_> {
    /// Sends everything due by `clock()`, batch after batch, as long as the
    /// clock is inside the sending hours of a working day.
    pub async fn run(
        &self,
        store: &Store,
        clock: &(dyn Fn() -> Timestamp + Sync),
    ) -> Result<DispatchReport, StoreError> {
        self.run_until(store, clock, &CancellationToken::new())
            .await
    }

    /// Like [`Dispatcher::run`], stopping between batches once `stop` is
    /// cancelled (shutdown): the batch in flight is finished and recorded
    /// first.
    pub async fn run_until(
        &self,
        store: &Store,
        clock: &(dyn Fn() -> Timestamp + Sync),
        stop: &CancellationToken,
    ) -> Result<DispatchReport, StoreError> {
        self.run_scoped(store, clock, stop, true).await
    }

    /// Like [`Dispatcher::run_until`]; with `escalations` false, escalation
    /// rows are left for another process (the leader, which groups them
    /// per recipient): see `Claim::except_escalations`.
    pub async fn run_scoped(
        &self,
        store: &Store,
        clock: &(dyn Fn() -> Timestamp + Sync),
        stop: &CancellationToken,
        escalations: bool,
    ) -> Result<DispatchReport, StoreError> {
        let mut report = DispatchReport::default();
        let tz = &self.cfg.daemon.time_zone;
        let hours = self.cfg.daemon.sending_hours;
        loop {
            if stop.is_cancelled() {
                break;
            }
            let now = clock();
            if !in_sending_hours(now, tz, hours, self.cal) {
                break;
            }
            let lease_until = now.checked_add(LEASE).unwrap_or(Timestamp::MAX);
            // Claim everything due (up to MAX_PER_RUN) before sending, so
            // that every escalation to one recipient in this run is grouped
            // into one message.
            let mut rows = Vec::new();
            loop {
                let claim = Claim::new(self.owner, now, lease_until, BATCH);
                let claim = if escalations {
                    claim
                } else {
                    claim.except_escalations()
                };
                let got = store.claim_with(claim).await?;
                let done = got.len() < BATCH as usize;
                rows.extend(got);
                if done || rows.len() >= MAX_PER_RUN {
                    break;
                }
            }
            if rows.is_empty() {
                break;
            }
            // The other late periods of each short-cycle report claimed, so
            // that its unit's notice lists them all (see `handle`). Only a
            // full run can have left some: otherwise it took every due row.
            let groups = if rows.len() >= MAX_PER_RUN {
                self.late_groups(&rows)
            } else {
                Vec::new()
            };
            if !groups.is_empty() {
                let claim = Claim::new(self.owner, now, lease_until, BATCH);
                rows.extend(store.claim_late_periods(claim, &groups).await?);
            }
            self.handle(store, rows, now, &mut report).await?;
        }
        Ok(report)
    }

    /// The (report, unit, recipient) of every claimed overdue notice of a
    /// report with periods shorter than a month: the notices `handle`
    /// sends as one message per group.
    fn late_groups(&self, rows: &[OutboxRow]) -> Vec<LateGroup> {
        let groups: std::collections::BTreeSet<LateGroup> = rows
            .iter()
            .filter(|r| r.key.kind == OutboxKind::Overdue)
            .filter(|r| {
                self.cfg
                    .obligation(&r.key.obligation)
                    .is_some_and(|o| o.cycle.is_short())
            })
            .map(|r| LateGroup {
                obligation: r.key.obligation.clone(),
                unit: r.key.unit.clone(),
                recipient: r.key.recipient.clone(),
            })
            .collect();
        groups.into_iter().collect()
    }

    /// What is in effect, read once per (obligation, period) for the
    /// whole claimed set, just before its messages go out; and the outbox
    /// rows of the claimed units of each.
    async fn index(&self, store: &Store, rows: &[OutboxRow]) -> Result<Index<'_>, StoreError> {
        let mut states: HashMap<(String, String), HashMap<String, CurrentState>> = HashMap::new();
        let mut units: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for row in rows {
            let pair = (row.key.obligation.clone(), row.key.period.clone());
            let listed = units.entry(pair.clone()).or_default();
            if !listed.contains(&row.key.unit) {
                listed.push(row.key.unit.clone());
            }
            if let Entry::Vacant(e) = states.entry(pair) {
                let by_unit = store
                    .current(&row.key.obligation, &row.key.period)
                    .await?
                    .into_iter()
                    .map(|s| (s.key.unit.clone(), s))
                    .collect();
                e.insert(by_unit);
            }
        }
        let mut index = Index::new(self.cfg);
        for ((obligation, period), units) in units {
            let rows = store.outbox_history(&obligation, &period, &units).await?;
            index.history.insert((obligation, period), rows);
        }
        index.states = states;
        Ok(index)
    }

    async fn handle(
        &self,
        store: &Store,
        rows: Vec<OutboxRow>,
        now: Timestamp,
        report: &mut DispatchReport,
    ) -> Result<(), StoreError> {
        let today = self.cfg.daemon.time_zone.to_datetime(now).date();
        let index = self.index(store, &rows).await?;
        // Shared with the blocking threads that render (cheap: the
        // templates themselves are behind an `Arc`).
        let composer = Arc::new(self.composer.clone());
        let mut singles = Vec::new();
        // Escalations: one message per recipient and directive (each
        // directive speaks in its own agency's name).
        let mut grouped: BTreeMap<(String, Option<String>), Vec<OutboxRow>> = BTreeMap::new();
        // Overdue notices of a report with short periods: one message per
        // (recipient, report, unit), listing every late period claimed, so
        // a unit late with a daily report for a week (or a catch-up after
        // downtime) gets one mail, not one per day. Each row keeps its own
        // key and is recorded with the message, as an escalation's rows.
        let mut late_periods: BTreeMap<(String, String, String), Vec<OutboxRow>> = BTreeMap::new();
        let mut results = Results::default();
        let mut foreign_rows = 0usize;
        // Rows not sent after all, per (reason, obligation, period).
        let mut cancelled: BTreeMap<(&str, String, String), usize> = BTreeMap::new();
        for row in rows {
            let is_stopped = index
                .states
                .get(&(row.key.obligation.clone(), row.key.period.clone()))
                .and_then(|by_unit| by_unit.get(&row.key.unit))
                .is_some_and(|s| stopped(s, today));
            let unknown = self.cfg.obligation(&row.key.obligation).is_none()
                || index.unit(&row.key.unit).is_none();
            // Planned recently by an instance whose configuration has it:
            // not ours to cancel yet (several instances, reloads in turn).
            let foreign = unknown
                && !is_stopped
                && now
                    < row
                        .created_at
                        .checked_add(FOREIGN_GRACE)
                        .unwrap_or(Timestamp::MAX);
            if foreign {
                let outcome = self.left_to_another_instance(&row, now);
                results.push(row, outcome);
                report.retried += 1;
                foreign_rows += 1;
                continue;
            }
            if let Some(reason) = self.cancel_reason(&row, is_stopped, unknown, now) {
                *cancelled
                    .entry((reason, row.key.obligation.clone(), row.key.period.clone()))
                    .or_default() += 1;
                results.push(
                    row,
                    Outcome::Cancelled {
                        reason: reason.to_string(),
                    },
                );
                report.cancelled += 1;
                continue;
            }
            match row.key.kind {
                OutboxKind::Escalation => {
                    let directive = self
                        .cfg
                        .obligation(&row.key.obligation)
                        .and_then(|o| o.voice.directive.clone());
                    grouped
                        .entry((row.key.recipient.clone(), directive))
                        .or_default()
                        .push(row)
                }
                OutboxKind::Overdue
                    if self
                        .cfg
                        .obligation(&row.key.obligation)
                        .is_some_and(|o| o.cycle.is_short()) =>
                {
                    late_periods
                        .entry((
                            row.key.recipient.clone(),
                            row.key.obligation.clone(),
                            row.key.unit.clone(),
                        ))
                        .or_default()
                        .push(row)
                }
                _ => singles.push(Batch { rows: vec![row] }),
            }
        }
        log_not_sent(foreign_rows, &cancelled);
        // Cancellations are recorded before anything is sent.
        self.record(store, &mut results, now, report).await?;
        // Each lane sends one message at a time, on its own pooled
        // connection (`[mail.smtp] connections` lanes, 1 by default). While
        // a lane's message is with the server, the lane builds its next one
        // (notice, templates, MIME: no side effect) and writes its previous
        // one's result: at any moment at most two messages per lane are
        // accepted-but-not-yet-recorded, which bounds what a crash can repeat.
        let queue = std::sync::Mutex::new(
            singles
                .into_iter()
                .chain(late_periods.into_values().map(|mut rows| {
                    // Oldest period first: the keys of one cycle sort in
                    // time order (`period`), then the stage.
                    rows.sort_by(|a, b| {
                        (&a.key.period, a.key.stage).cmp(&(&b.key.period, b.key.stage))
                    });
                    Batch { rows }
                }))
                .chain(grouped.into_values().map(|rows| Batch { rows })),
        );
        let lanes = self.mailer.connections();
        // One lane writes its own records; several write theirs together.
        let group = (lanes > 1).then(Group::default);
        let done = futures_util::future::join_all(
            (0..lanes).map(|_| self.lane(store, &index, &composer, &queue, group.as_ref(), now)),
        )
        .await;
        // Every lane finishes (and records) before an error is returned.
        for lane in done {
            let lane = lane?;
            report.sent.extend(lane.sent);
            report.retried += lane.retried;
            report.failed += lane.failed;
            report.cancelled += lane.cancelled;
            report.lost_leases += lane.lost_leases;
        }
        Ok(())
    }

    /// A row planned by an instance whose configuration has its obligation
    /// or unit, which this one's lacks: put back for later, untouched.
    fn left_to_another_instance(&self, row: &OutboxRow, now: Timestamp) -> Outcome {
        let next_attempt_at = retry_at(
            now,
            row.attempts,
            &self.cfg.daemon.time_zone,
            self.cfg.daemon.sending_hours,
            self.cal,
        );
        let error = "cấu hình của tiến trình này không có nghĩa vụ hoặc đơn vị này \
                     (để lại cho tiến trình có nó)"
            .to_string();
        Outcome::Retry {
            error,
            next_attempt_at,
        }
    }

    /// Why a claimed row is not sent after all: its report is settled, its
    /// obligation or unit is no longer configured, or it is a reminder or
    /// due-day notice whose deadline has passed.
    fn cancel_reason(
        &self,
        row: &OutboxRow,
        is_stopped: bool,
        unknown: bool,
        now: Timestamp,
    ) -> Option<&'static str> {
        // An acknowledgement tells the unit its report arrived: the report
        // being settled is what it is about, never a reason to hold it.
        if is_stopped && row.key.kind != OutboxKind::Acknowledgement {
            Some(CANCELLED_SETTLED)
        } else if unknown {
            Some(CANCELLED_UNCONFIGURED)
        } else if matches!(row.key.kind, OutboxKind::Reminder | OutboxKind::DueToday)
            && now
                >= planner::deadline_at(
                    &self.cfg.daemon.time_zone,
                    row.due_on,
                    self.cfg
                        .obligation(&row.key.obligation)
                        .and_then(|o| o.due_time),
                )
        {
            Some(CANCELLED_LATE)
        } else {
            None
        }
    }

    /// One lane: takes batches from the shared queue until it is empty,
    /// pipelined as described in `handle`.
    async fn lane<I: Iterator<Item = Batch>>(
        &self,
        store: &Store,
        index: &Index<'_>,
        composer: &Arc<Composer>,
        queue: &std::sync::Mutex<I>,
        group: Option<&Group>,
        now: Timestamp,
    ) -> Result<DispatchReport, StoreError> {
        // The lock is never held across an await.
        let take = || queue.lock().ok().and_then(|mut q| q.next());
        let mut report = DispatchReport::default();
        let mut results = Results::default();
        let mut next = match take() {
            Some(b) => Some(self.prepare(store, index, composer, b, now).await?),
            None => None,
        };
        while let Some(current) = next.take() {
            let mut previous = std::mem::take(&mut results);
            let (sent, following, recorded) = tokio::join!(
                self.transmit(current),
                async {
                    match take() {
                        Some(b) => Some(self.prepare(store, index, composer, b, now).await),
                        None => None,
                    }
                },
                self.record_in(store, group, &mut previous, now, &mut report),
            );
            recorded?;
            self.conclude(sent, now, &mut results, &mut report);
            next = following.transpose()?;
        }
        self.record_in(store, group, &mut results, now, &mut report)
            .await?;
        Ok(report)
    }

    /// Writes the results gathered so far in one transaction.
    async fn record(
        &self,
        store: &Store,
        results: &mut Results,
        now: Timestamp,
        report: &mut DispatchReport,
    ) -> Result<(), StoreError> {
        self.record_in(store, None, results, now, report).await
    }

    /// Like `record`; with a `group`, together with whatever the other
    /// lanes are waiting to write at that moment. Returns once these
    /// results have committed either way.
    async fn record_in(
        &self,
        store: &Store,
        group: Option<&Group>,
        results: &mut Results,
        now: Timestamp,
        report: &mut DispatchReport,
    ) -> Result<(), StoreError> {
        if results.outcomes.is_empty() {
            return Ok(());
        }
        let outcomes = std::mem::take(&mut results.outcomes);
        let rows = std::mem::take(&mut results.rows);
        let done = match group {
            Some(group) => group.finish(store, self.owner, outcomes, now).await?,
            None => store.finish_many(self.owner, outcomes, now).await?,
        };
        for (row, ok) in rows.iter().zip(done) {
            if !ok {
                tracing::warn!(
                    row = row.id,
                    key = %row.key,
                    "mất quyền giữ thư (hết hạn lease) trước khi ghi được kết quả; tiến trình khác có thể gửi lại"
                );
                report.lost_leases += 1;
            }
        }
        Ok(())
    }

    /// Builds the message of a batch: notice, templates, MIME.
    async fn prepare(
        &self,
        store: &Store,
        index: &Index<'_>,
        composer: &Arc<Composer>,
        batch: Batch,
        now: Timestamp,
    ) -> Result<Prepared, StoreError> {
        let notices = Notices {
            cfg: self.cfg,
            cal: self.cal,
            composer: self.composer,
        };
        let message = match notices.notice(store, index, &batch.rows, now).await {
            // Templates and MIME are CPU work with no IO: with one lane,
            // on a blocking thread beside the task that talks to the server
            // and the store, not between its polls.
            Ok(notice) => compose_elsewhere(composer, notice, self.mailer.connections() == 1).await,
            Err(NoticeError::Store(e)) => return Err(e),
            Err(NoticeError::Other(reason)) => Err(PrepareFailure::Notice(reason)),
        };
        Ok(Prepared { batch, message })
    }

    /// Hands a prepared message to the transport.
    async fn transmit(&self, p: Prepared) -> Transmitted {
        let answer = match p.message {
            Ok((notice, msg)) => {
                let result = self.mailer.send(&msg).await;
                Ok((notice, msg, result))
            }
            Err(failure) => Err(failure),
        };
        Transmitted {
            batch: p.batch,
            answer,
        }
    }

    /// Turns the transport's answer into the rows' outcomes.
    fn conclude(
        &self,
        t: Transmitted,
        now: Timestamp,
        results: &mut Results,
        report: &mut DispatchReport,
    ) {
        let Transmitted { batch, answer } = t;
        let (notice, msg, result) = match answer {
            Ok(answered) => answered,
            Err(PrepareFailure::Notice(reason)) => {
                for row in batch.rows {
                    tracing::error!(key = %row.key, %reason, "không dựng được nội dung thư; không gửi");
                    let outcome = Outcome::Failed {
                        error: reason.clone(),
                    };
                    results.push(row, outcome);
                    report.failed += 1;
                }
                return;
            }
            Err(PrepareFailure::Compose(e)) => {
                failed_permanently(batch.rows, &e, results, report);
                return;
            }
        };
        let tz = &self.cfg.daemon.time_zone;
        let hours = self.cfg.daemon.sending_hours;
        match result {
            Ok(sent) => {
                for row in batch.rows {
                    let outcome = Outcome::Sent {
                        message_id: sent.message_id.clone(),
                    };
                    results.push(row, outcome);
                }
                tracing::info!(
                    kind = notice.kind.name(),
                    to = %msg.recipients().join(", "),
                    subject = %msg.subject(),
                    "đã gửi {}",
                    kind_words(notice.kind.name())
                );
                report.sent.push(SentMessage {
                    sent_at: now,
                    kind: notice.kind.name(),
                    recipients: msg.recipients().to_vec(),
                    subject: msg.subject().to_string(),
                    message_id: sent.message_id,
                    detail: sent.detail,
                });
            }
            Err(e) if e.is_transient() => {
                for row in batch.rows {
                    let next = retry_at(now, row.attempts, tz, hours, self.cal);
                    tracing::warn!(
                        key = %row.key,
                        error = %e,
                        "gửi chưa được (lỗi tạm thời); thử lại lúc {}",
                        crate::logging::local_time(next, tz)
                    );
                    let outcome = Outcome::Retry {
                        error: e.reason().to_string(),
                        next_attempt_at: next,
                    };
                    results.push(row, outcome);
                    report.retried += 1;
                }
            }
            Err(e) => failed_permanently(batch.rows, &e, results, report),
        }
    }
}

/// Says which claimed rows were left to another process (planned by one
/// whose configuration has them) and which were cancelled before sending.
fn log_not_sent(foreign_rows: usize, cancelled: &BTreeMap<(&str, String, String), usize>) {
    if foreign_rows > 0 {
        tracing::warn!(
            rows = foreign_rows,
            "{foreign_rows} thư cho nghĩa vụ hoặc đơn vị mà cấu hình của tiến trình này \
             không có, được lập trong vòng một giờ: để lại cho tiến trình khác \
             (tiến trình này cần nạp lại cấu hình?)"
        );
    }
    for ((reason, ob, period), n) in cancelled {
        tracing::info!(
            cancelled = n,
            "huỷ {n} thư {ob} kỳ {period} trước khi gửi: {reason}"
        );
    }
}

/// Marks every row of a message failed (a 5xx, a bad address, a message
/// that cannot be built): never retried blindly, listed in the digest.
fn failed_permanently(
    rows: Vec<OutboxRow>,
    e: &mail::SendError,
    results: &mut Results,
    report: &mut DispatchReport,
) {
    for row in rows {
        tracing::error!(
            key = %row.key,
            error = %e,
            "gửi thất bại vĩnh viễn; không thử lại (có trong bản tổng hợp)"
        );
        let outcome = Outcome::Failed {
            error: e.reason().to_string(),
        };
        results.push(row, outcome);
        report.failed += 1;
    }
}

/// Renders and assembles `notice`: on tokio's blocking pool with `elsewhere`
/// (one lane: the build then overlaps the lane's own exchange with the
/// server), on the calling task otherwise (several lanes: the other lanes'
/// exchanges overlap it, and the thread hop would cost more CPU than it
/// saves). The message is the same either way.
async fn compose_elsewhere(
    composer: &Arc<Composer>,
    notice: Notice,
    elsewhere: bool,
) -> Result<(Notice, mail::Outgoing), PrepareFailure> {
    if !elsewhere {
        return match composer.compose(&notice) {
            Ok(msg) => Ok((notice, msg)),
            Err(e) => Err(PrepareFailure::Compose(mail::SendError::from(e))),
        };
    }
    let composer = Arc::clone(composer);
    let composed = tokio::task::spawn_blocking(move || {
        let built = composer.compose(&notice);
        (notice, built)
    })
    .await;
    match composed {
        Ok((notice, Ok(msg))) => Ok((notice, msg)),
        Ok((_, Err(e))) => Err(PrepareFailure::Compose(mail::SendError::from(e))),
        // The closure panicked (a bug): re-raise it here, as the inline call did.
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
