//! The outbox's vocabulary: rows of notifications to send and their states.
//!
//! Plain data and the row conversion; no IO. The backends (`sqlite`,
//! `postgres`) run the SQL. The unique key of a row is (obligation, period,
//! unit, kind, stage, recipient): writing the same key again is a no-op.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;

use super::error::StoreError;

/// What a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutboxKind {
    /// Before the deadline, to the unit.
    Reminder,
    /// On the due day, to the unit, if nothing arrived.
    DueToday,
    /// After the deadline, to the unit's own mailboxes.
    Overdue,
    /// After the deadline, to the people above the unit (grouped per recipient).
    Escalation,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Reminder => "reminder",
            OutboxKind::DueToday => "due_today",
            OutboxKind::Overdue => "overdue",
            OutboxKind::Escalation => "escalation",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxKind> {
        Some(match s {
            "reminder" => OutboxKind::Reminder,
            "due_today" => OutboxKind::DueToday,
            "overdue" => OutboxKind::Overdue,
            "escalation" => OutboxKind::Escalation,
            _ => return None,
        })
    }
}

impl fmt::Display for OutboxKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutboxStatus {
    /// Waiting for `next_attempt_at`.
    Pending,
    /// Claimed by a dispatcher until `lease_until`; claimable again after it.
    Sending,
    Sent,
    /// Permanent failure: never retried automatically.
    Failed,
    /// Recorded so that it never goes out (a stage passed during downtime).
    Skipped,
    /// Withdrawn: the report arrived, was waived or extended, or a later stage superseded it.
    Cancelled,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Skipped => "skipped",
            OutboxStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxStatus> {
        Some(match s {
            "pending" => OutboxStatus::Pending,
            "sending" => OutboxStatus::Sending,
            "sent" => OutboxStatus::Sent,
            "failed" => OutboxStatus::Failed,
            "skipped" => OutboxStatus::Skipped,
            "cancelled" => OutboxStatus::Cancelled,
            _ => return None,
        })
    }
}

impl fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The unique key of an outbox row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutboxKey {
    pub obligation: String,
    pub period: String,
    pub unit: String,
    pub kind: OutboxKind,
    pub stage: u32,
    pub recipient: String,
}

impl fmt::Display for OutboxKey {
    /// `obligation|period|unit|kind|stage|recipient`: the text the
    /// Message-ID is derived from.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}|{}|{}|{}|{}|{}",
            self.obligation, self.period, self.unit, self.kind, self.stage, self.recipient
        )
    }
}

/// A row to write. Only `Pending` and `Skipped` are meaningful here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxRow {
    pub key: OutboxKey,
    /// Position in the unit's timeline for this period; see [`OutboxRow::rank`].
    pub rank: u32,
    pub due_on: Date,
    pub status: OutboxStatus,
    pub next_attempt_at: Timestamp,
}

/// One stored outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub key: OutboxKey,
    /// Later stages rank higher; a new pending row cancels the older pending
    /// rows of the same (obligation, period, unit).
    pub rank: u32,
    pub due_on: Date,
    pub status: OutboxStatus,
    pub next_attempt_at: Timestamp,
    /// Claims so far (a claim counts even if the process then crashed).
    pub attempts: u32,
    pub lease_owner: Option<String>,
    pub lease_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub message_id: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What `enqueue` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnqueueReport {
    /// New pending rows.
    pub pending: usize,
    /// New skipped rows.
    pub skipped: usize,
    /// Rows that already existed: nothing written.
    pub existing: usize,
    /// Older pending rows cancelled because a later stage was enqueued.
    pub superseded: usize,
    /// The rows newly written (pending and skipped), in the order given:
    /// what the daemon's log says was planned.
    pub written: Vec<NewOutboxRow>,
}

/// How a claimed row ended (written by the dispatcher that holds the lease).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        message_id: String,
    },
    /// Transient failure: pending again at `next_attempt_at`.
    Retry {
        error: String,
        next_attempt_at: Timestamp,
    },
    /// Permanent failure.
    Failed {
        error: String,
    },
    /// No longer wanted (report arrived, waived, extended, stale).
    Cancelled {
        reason: String,
    },
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OutboxDbRow {
    id: i64,
    obligation_id: String,
    period_key: String,
    unit_id: String,
    kind: String,
    stage: i64,
    recipient: String,
    rank: i64,
    due_on: String,
    status: String,
    next_attempt_at: i64,
    attempts: i64,
    lease_owner: Option<String>,
    lease_until: Option<i64>,
    last_error: Option<String>,
    message_id: Option<String>,
    sent_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

/// The columns `OutboxDbRow` reads, in order.
pub(crate) const OUTBOX_COLUMNS: &str = "id, obligation_id, period_key, unit_id, kind, stage, \
     recipient, rank, due_on, status, next_attempt_at, attempts, lease_owner, lease_until, \
     last_error, message_id, sent_at, created_at, updated_at";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("outbox {what} {value:?}"))
}

fn instant(v: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_second(v).map_err(|_| corrupt("instant", &v.to_string()))
}

fn small(what: &str, v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| corrupt(what, &v.to_string()))
}

impl TryFrom<OutboxDbRow> for OutboxRow {
    type Error = StoreError;

    fn try_from(r: OutboxDbRow) -> Result<OutboxRow, StoreError> {
        Ok(OutboxRow {
            id: r.id,
            key: OutboxKey {
                kind: OutboxKind::parse(&r.kind).ok_or_else(|| corrupt("kind", &r.kind))?,
                stage: small("stage", r.stage)?,
                obligation: r.obligation_id,
                period: r.period_key,
                unit: r.unit_id,
                recipient: r.recipient,
            },
            rank: small("rank", r.rank)?,
            due_on: r.due_on.parse().map_err(|_| corrupt("due_on", &r.due_on))?,
            status: OutboxStatus::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
            next_attempt_at: instant(r.next_attempt_at)?,
            attempts: small("attempts", r.attempts)?,
            lease_owner: r.lease_owner,
            lease_until: r.lease_until.map(instant).transpose()?,
            last_error: r.last_error,
            message_id: r.message_id,
            sent_at: r.sent_at.map(instant).transpose()?,
            created_at: instant(r.created_at)?,
            updated_at: instant(r.updated_at)?,
        })
    }
}

pub(crate) fn rows(rows: Vec<OutboxDbRow>) -> Result<Vec<OutboxRow>, StoreError> {
    rows.into_iter().map(OutboxRow::try_from).collect()
}

/// Status, error and message id columns for an outcome.
/// Results written by one statement (`UPDATE … FROM` a list of rows) rather
/// than one statement each in a transaction: the dispatcher's group of
/// records from several lanes. Larger lists (the cancellations of a whole
/// claimed set) use the transaction.
pub(crate) const FINISH_IN_ONE_STATEMENT: usize = 64;

/// Whether `results` can be written by the one-statement form: a few rows,
/// no id twice (the statement would not say which result won).
pub(crate) fn one_statement(results: &[(i64, Outcome)]) -> bool {
    (2..=FINISH_IN_ONE_STATEMENT).contains(&results.len()) && {
        let ids: std::collections::HashSet<i64> = results.iter().map(|(id, _)| *id).collect();
        ids.len() == results.len()
    }
}

/// Per row of `results`, in order: whether its id is among `updated`.
pub(crate) fn updated_in_order(results: &[(i64, Outcome)], updated: &[i64]) -> Vec<bool> {
    let updated: std::collections::HashSet<i64> = updated.iter().copied().collect();
    results.iter().map(|(id, _)| updated.contains(id)).collect()
}

pub(crate) fn outcome_columns(
    o: &Outcome,
) -> (&'static str, Option<&str>, Option<&str>, Option<i64>) {
    match o {
        Outcome::Sent { message_id } => ("sent", None, Some(message_id), None),
        Outcome::Retry {
            error,
            next_attempt_at,
        } => (
            "pending",
            Some(error),
            None,
            Some(next_attempt_at.as_second()),
        ),
        Outcome::Failed { error } => ("failed", Some(error), None, None),
        Outcome::Cancelled { reason } => ("cancelled", Some(reason), None, None),
    }
}

/// The outbox counted rather than read: what `/metrics` reports, from a
/// few aggregate statements whatever the table's size
/// ([`crate::store::Store::outbox_summary`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxSummary {
    /// One entry per (status, kind) that has rows, by status then kind.
    pub counts: Vec<OutboxCount>,
    /// The earliest `next_attempt_at` of a `pending` or `sending` row.
    pub oldest_queued: Option<Timestamp>,
}

/// The rows of one (status, kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxCount {
    pub status: OutboxStatus,
    pub kind: OutboxKind,
    pub rows: u64,
    /// Sum of their `attempts`.
    pub attempts: u64,
    /// How many of them were claimed at least once (`attempts > 0`).
    pub attempted: u64,
}

/// Rows per (status, kind), on both backends (the same text: no
/// parameters, `CAST` rather than PostgreSQL's `::`, whose `SUM` of a
/// `BIGINT` is a `NUMERIC`). The whole table is counted, but no row is
/// sent to the process.
pub(crate) const OUTBOX_COUNTS: &str = "SELECT status, kind, COUNT(*) AS n, \
     CAST(COALESCE(SUM(attempts), 0) AS BIGINT) AS attempts, \
     CAST(COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS attempted \
     FROM outbox GROUP BY status, kind ORDER BY status, kind";

/// The earliest `next_attempt_at` of a queued row: one `MIN` per status,
/// each a seek in the `outbox_due (status, next_attempt_at)` index.
pub(crate) const OUTBOX_OLDEST_QUEUED: &str = "SELECT MIN(t) FROM (\
     SELECT MIN(next_attempt_at) AS t FROM outbox WHERE status = 'pending' \
     UNION ALL \
     SELECT MIN(next_attempt_at) AS t FROM outbox WHERE status = 'sending') q";

/// The summary from the rows of [`OUTBOX_COUNTS`] (status, kind, rows,
/// attempts, attempted) and the value of [`OUTBOX_OLDEST_QUEUED`].
pub(crate) fn summary(
    counts: Vec<(String, String, i64, i64, i64)>,
    oldest: Option<i64>,
) -> Result<OutboxSummary, StoreError> {
    let count = |what: &str, v: i64| u64::try_from(v).map_err(|_| corrupt(what, &v.to_string()));
    let counts = counts
        .into_iter()
        .map(|(status, kind, rows, attempts, attempted)| {
            Ok(OutboxCount {
                status: OutboxStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
                kind: OutboxKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
                rows: count("count", rows)?,
                attempts: count("attempts", attempts)?,
                attempted: count("count", attempted)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(OutboxSummary {
        counts,
        oldest_queued: oldest.map(instant).transpose()?,
    })
}
