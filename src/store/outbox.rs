//! The outbox: rows of notifications to send, their states, and
//! [`Outbox`], the store's interface for the planner (enqueue), the
//! dispatcher (claim, finish, and the history a notice tells) and the
//! dashboard (list, retry).
//!
//! The counts per (status, kind) are not counted here: triggers of
//! migration 0009 keep a tally of them in the database as rows are
//! written, claimed, finished and purged, and the count queries read it
//! (see [`Outbox::outbox_summary`]).
//!
//! The unique key of a row is (obligation, period, unit, kind, stage,
//! recipient): writing the same key again is a no-op. The queries both
//! dialects share are written once here; claiming and the bulk finish
//! differ and live in `sqlite` and `postgres`. The outbox history reads a
//! list of units each dialect's way; both texts are here (the backends
//! use this file, so it does not use them).

use std::collections::HashSet;
use std::future::Future;

use jiff::Timestamp;

use super::Store;
use super::error::StoreError;
use super::model::Key;
use super::sql::{Sql, sql};

/// What the planner, the dispatcher and the dashboard ask of the store.
/// Implemented once, by [`Store`]; the futures are `Send` so that a
/// caller can spawn them.
pub trait Outbox {
    /// Writes outbox rows; a row whose key exists already is left as it is
    /// (counted as `existing`). A new `Pending` row cancels the pending rows
    /// of the same (obligation, period, unit) with a lower rank. One
    /// transaction.
    fn enqueue(
        &self,
        rows: Vec<NewOutboxRow>,
        now: Timestamp,
    ) -> impl Future<Output = Result<EnqueueReport, StoreError>> + Send;

    /// Claims up to `limit` rows that are due (pending with
    /// `next_attempt_at <= now`, or `sending` with an expired lease, or
    /// `sending` under a lease `owner` itself took before `now`: what a run
    /// of this process that failed mid-way, e.g. when the database went
    /// away, left behind): they become `sending`, leased to `owner` until
    /// `lease_until`, attempts + 1. An owner must therefore run one dispatch
    /// at a time, and every claim of one run passes the same `now`.
    /// Concurrent claimers never get the same row (SQLite: `BEGIN
    /// IMMEDIATE`; PostgreSQL: `FOR UPDATE SKIP LOCKED`).
    fn claim(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, StoreError>> + Send {
        self.claim_with(Claim::new(owner, now, lease_until, limit))
    }

    /// The claim [`Claim`] describes: [`Outbox::claim`]'s, or with
    /// [`Claim::except_escalations`] one that leaves escalation rows alone,
    /// what an instance that is not the leader claims, so that escalations
    /// to one recipient are grouped by one process (see `LeaderLock`).
    fn claim_with(
        &self,
        claim: Claim<'_>,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, StoreError>> + Send;

    /// Claims, under `claim`'s lease, the other due overdue notices of
    /// each of `groups` (up to `claim`'s limit for each), in one
    /// transaction. The dispatcher sends a short-cycle report's late
    /// periods to one recipient about one unit as one message; a claim
    /// takes rows in time order, so at national scale (a catch-up of
    /// several hundred thousand rows) one unit's late days would otherwise
    /// fall into different runs, and be sent one message per run.
    fn claim_late_periods(
        &self,
        claim: Claim<'_>,
        groups: &[LateGroup],
    ) -> impl Future<Output = Result<Vec<OutboxRow>, StoreError>> + Send;

    /// Records how a claimed row ended. Returns false (and writes nothing)
    /// when the row is no longer `sending` under `owner`'s lease.
    fn finish(
        &self,
        id: i64,
        owner: &str,
        outcome: Outcome,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records how many claimed rows ended, in one transaction: all of
    /// them or (on error) none. Each result is what [`Outbox::finish`]
    /// would have returned for that row, in the order given: false (and
    /// nothing written for that row) when it is no longer `sending` under
    /// `owner`'s lease.
    fn finish_many(
        &self,
        owner: &str,
        results: Vec<(i64, Outcome)>,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<bool>, StoreError>> + Send;

    /// Outbox rows, oldest first; only those with `status` if given. Reads
    /// every such row: for tests, `simulate` and small tables, never a
    /// daemon's hot path (use [`Outbox::outbox_waiting`] or
    /// [`Outbox::outbox_recent`]).
    fn outbox(
        &self,
        status: Option<OutboxStatus>,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, StoreError>> + Send;

    /// The rows of `units` for one (obligation, period) that went out or
    /// are about to (`sent`, `pending`, `sending`), oldest first: what a
    /// notice says happened before it, and who is told at the same time.
    fn outbox_history(
        &self,
        obligation: &str,
        period: &str,
        units: &[String],
    ) -> impl Future<Output = Result<Vec<OutboxRow>, StoreError>> + Send;

    /// One page of the rows `filter` selects, newest first (by id): at most
    /// `limit` rows, all with an id below `before` when given (keyset
    /// paging: the next page passes the last id shown). A status page and a
    /// unit's rows read an index in that order (`outbox_status_id`,
    /// `outbox_unit`), whatever the table's size.
    fn outbox_page(
        &self,
        filter: &OutboxFilter,
        before: Option<i64>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, StoreError>> + Send;

    /// Every row of one report (obligation, period, unit), whatever its
    /// status, oldest first: what was sent, is planned, failed, was
    /// skipped or cancelled for it.
    fn outbox_for_key(
        &self,
        key: &Key,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, StoreError>> + Send;

    /// For each of `units` that was sent something for (obligation,
    /// period), the message sent last (by `sent_at`; the higher id among
    /// equals), in unit order. Units with nothing sent are left out.
    fn last_sent(
        &self,
        obligation: &str,
        period: &str,
        units: &[String],
    ) -> impl Future<Output = Result<Vec<LastSent>, StoreError>> + Send;

    /// The rows in the table per status (retention's purged rows apart:
    /// what the outbox page can list), every status present with 0 when it
    /// has none, in [`OutboxStatus`] order. Read from the outbox's tally
    /// (see [`Outbox::outbox_summary`]), not the table.
    fn outbox_status_counts(
        &self,
    ) -> impl Future<Output = Result<Vec<(OutboxStatus, u64)>, StoreError>> + Send;

    /// The outbox counted by (status, kind), retention's purged rows
    /// included, and the earliest `next_attempt_at` of a queued row (what
    /// `/metrics` needs at any table size). The counts are read from the
    /// tally the database keeps as the outbox changes (`outbox_tally`,
    /// migration 0009: triggers in the transaction of every write, exact at
    /// every commit; on PostgreSQL plus the changes not folded yet, see
    /// [`Outbox::fold_outbox_tally`]), a few dozen rows whatever the size
    /// of the table; the earliest next attempt is one index seek per queued
    /// status.
    fn outbox_summary(&self) -> impl Future<Output = Result<OutboxSummary, StoreError>> + Send;

    /// How many rows have `status`, and their earliest `next_attempt_at`:
    /// one aggregate statement over the `(status, next_attempt_at)` index,
    /// no row read into memory (the daemon's start-up and daily logs).
    fn outbox_waiting(
        &self,
        status: OutboxStatus,
    ) -> impl Future<Output = Result<(u64, Option<Timestamp>), StoreError>> + Send;

    /// At most `limit` rows with `status` that last changed at or after
    /// `since`, oldest first (the digest's failed messages): the rows a
    /// report lists, never the whole table.
    fn outbox_recent(
        &self,
        status: OutboxStatus,
        since: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, StoreError>> + Send;

    /// The earliest `next_attempt_at` of a pending row, or lease end of a
    /// `sending` row, after `now` (for a virtual clock's next step).
    fn outbox_next_due(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    /// Retention: deletes the outbox rows that finished (`sent`, `skipped`
    /// or `cancelled`) and last changed (`updated_at`) before `before`,
    /// adding them to the counts of [`Outbox::outbox_summary`] (table
    /// `outbox_purged`) in the same transaction, so that counters never go
    /// down. `pending`, `sending` and `failed` rows are never deleted.
    /// Works in transactions of at most [`PURGE_BATCH`] rows, so writers
    /// (the dispatcher) wait for one batch at most. Returns how many rows
    /// were deleted.
    ///
    /// Safe for the planner only when `before` is older than its look-back
    /// (see `daemon.outbox_retention_days`): a row's notification was due
    /// no later than its `updated_at`, so a deleted row is never planned
    /// again.
    fn purge_finished(
        &self,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Folds the outbox's counted changes into its tally, when there are
    /// about `at_least` of them or more; returns how many were folded.
    ///
    /// PostgreSQL: every statement that changes the outbox appends its
    /// changes to `outbox_tally_delta` (no shared row is updated, so
    /// instances never wait for each other); the counts add those up, so
    /// the more there are the slower [`Outbox::outbox_summary`] reads. One
    /// statement deletes them and adds them to `outbox_tally`, which leaves
    /// every count as it was. Two folds at once cannot count a change
    /// twice: a fold runs under a transaction-level advisory lock, and one
    /// that does not get it folds nothing. The daemon's leader calls it
    /// between leadership checks with [`TALLY_FOLD_AT`].
    ///
    /// SQLite: the triggers update the tally in place (one writer at a
    /// time); there is nothing to fold, and nothing is read.
    fn fold_outbox_tally(
        &self,
        at_least: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Puts a `failed` outbox row back to `pending`, due at `now`, lease
    /// cleared (an administrator's retry from the dashboard). The last error
    /// and the attempt count are kept. Returns false (and writes nothing)
    /// when there is no such row or it is not `failed`.
    fn retry_outbox(
        &self,
        id: i64,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

pub use super::outbox_types::{
    EnqueueReport, LastSent, NewOutboxRow, OutboxCount, OutboxFilter, OutboxKey, OutboxKind,
    OutboxRow, OutboxStatus, OutboxSummary, Outcome,
};

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

/// The columns `OutboxDbRow` reads, in order (a macro, for `concat!`).
macro_rules! outbox_columns {
    () => {
        "id, obligation_id, period_key, unit_id, kind, stage, recipient, rank, due_on, status, \
         next_attempt_at, attempts, lease_owner, lease_until, last_error, message_id, sent_at, \
         created_at, updated_at"
    };
}
pub(crate) use outbox_columns;

/// The rows a claim takes (`$1` now, `$3` the owner): pending rows whose
/// time has come, rows whose lease ended, and the owner's own `sending`
/// rows from an earlier run. Each backend's claim statement wraps it.
macro_rules! due_rows {
    () => {
        "((status = 'pending' AND next_attempt_at <= $1) \
         OR (status = 'sending' AND lease_until <= $1) \
         OR (status = 'sending' AND lease_owner = $3 AND updated_at < $1))"
    };
}
pub(crate) use due_rows;

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

/// A list of unit ids as the JSON array of text the queries bind.
fn json_list(units: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(units).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn rows(rows: Vec<OutboxDbRow>) -> Result<Vec<OutboxRow>, StoreError> {
    rows.into_iter().map(OutboxRow::try_from).collect()
}

/// Results written by one statement (`UPDATE … FROM` a list of rows) rather
/// than one statement each in a transaction: the dispatcher's group of
/// records from several lanes. Larger lists (the cancellations of a whole
/// claimed set) use the transaction.
const FINISH_IN_ONE_STATEMENT: usize = 64;

/// Whether `results` can be written by the one-statement form: a few rows,
/// no id twice (the statement would not say which result won).
fn one_statement(results: &[(i64, Outcome)]) -> bool {
    (2..=FINISH_IN_ONE_STATEMENT).contains(&results.len()) && {
        let ids: HashSet<i64> = results.iter().map(|(id, _)| *id).collect();
        ids.len() == results.len()
    }
}

/// Per row of `results`, in order: whether its id is among `updated`.
fn updated_in_order(results: &[(i64, Outcome)], updated: &[i64]) -> Vec<bool> {
    let updated: HashSet<i64> = updated.iter().copied().collect();
    results.iter().map(|(id, _)| updated.contains(id)).collect()
}

/// Status, error, message id and next attempt columns for an outcome.
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

const INSERT: Sql = sql!(
    "INSERT INTO outbox (obligation_id, period_key, unit_id, kind, stage, recipient, rank, \
     due_on, status, next_attempt_at, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT DO NOTHING"
);

const SUPERSEDE: Sql = sql!(
    "UPDATE outbox SET status = 'cancelled', last_error = 'superseded by ' || $5, \
     updated_at = $6 WHERE obligation_id = $1 AND period_key = $2 AND unit_id = $3 \
     AND status = 'pending' AND rank < $4 AND kind <> 'acknowledgement'"
);

const FINISH: Sql = sql!(
    "UPDATE outbox SET status = $3, last_error = $4, \
     message_id = coalesce($5, message_id), next_attempt_at = coalesce($6, next_attempt_at), \
     sent_at = CASE WHEN $3 = 'sent' THEN $7 ELSE sent_at END, \
     lease_owner = NULL, lease_until = NULL, updated_at = $7 \
     WHERE id = $1 AND lease_owner = $2 AND status = 'sending'"
);

const LIST: Sql = sql!(concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE CAST($1 AS TEXT) IS NULL OR status = $1 ORDER BY id"
));

/// Rows of one status and their earliest next attempt (index only).
const WAITING: Sql = sql!("SELECT COUNT(*), MIN(next_attempt_at) FROM outbox WHERE status = $1");

/// Rows of one status changed since `$2`, oldest first, at most `$3`.
const RECENT: Sql = sql!(concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE status = $1 AND updated_at >= $2 ORDER BY id LIMIT $3"
));

/// SQLite: the sent, pending and sending outbox rows of some units of one
/// (obligation, period), oldest first; the units come as one JSON array of
/// text (`?3`), read by `json_each`. Seeks the outbox's unique key.
const HISTORY_SQLITE: &str = concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE obligation_id = ?1 AND period_key = ?2 \
     AND unit_id IN (SELECT value FROM json_each(?3)) \
     AND status IN ('sent', 'pending', 'sending') ORDER BY id"
);

/// PostgreSQL: the sent, pending and sending outbox rows of some units of one
/// (obligation, period), oldest first; the units come as one JSON array of
/// text (`$3`), read by `json_array_elements_text`. Seeks the outbox's
/// unique key.
const HISTORY_POSTGRES: &str = concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE obligation_id = $1 AND period_key = $2 \
     AND unit_id IN (SELECT json_array_elements_text(CAST($3 AS json))) \
     AND status IN ('sent', 'pending', 'sending') ORDER BY id"
);

/// The units are bound as one JSON array of text, which each dialect reads
/// its own way (`json_each` / `json_array_elements_text`).
const HISTORY: Sql = Sql::dialects(HISTORY_SQLITE, HISTORY_POSTGRES);

/// `outbox_page!(status condition, units condition's start, units list,
/// its end)`: the text of one outbox page. `$1` status, `$2` kind, `$3`
/// obligation, `$4` period, `$5` the units (a JSON array read by the
/// dialect's `units list`), `$6` the keyset bound, `$7` the limit. Each
/// optional value is `NULL` when not filtered on.
macro_rules! outbox_page {
    ($status:literal, $units:literal, $list:literal, $end:literal) => {
        concat!(
            "SELECT ",
            outbox_columns!(),
            " FROM outbox WHERE ",
            $status,
            " AND ",
            $units,
            $list,
            $end,
            " AND (CAST($2 AS TEXT) IS NULL OR kind = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR obligation_id = $3) \
             AND (CAST($4 AS TEXT) IS NULL OR period_key = $4) \
             AND (CAST($6 AS BIGINT) IS NULL OR id < $6) ORDER BY id DESC LIMIT $7"
        )
    };
}

/// `page_sql!(status, units start, units end)`: [`outbox_page!`] for both
/// dialects, the units (`$5`, a JSON array of text) read by `json_each` /
/// `json_array_elements_text`.
macro_rules! page_sql {
    ($status:literal, $units:literal, $end:literal) => {
        Sql::dialects(
            sql!(outbox_page!(
                $status,
                $units,
                "(SELECT value FROM json_each($5))",
                $end
            ))
            .sqlite(),
            outbox_page!(
                $status,
                $units,
                "(SELECT json_array_elements_text(CAST($5 AS json)))",
                $end
            ),
        )
    };
}

/// A status's rows, maybe of some units (the `outbox_status_id` index).
const PAGE_BY_STATUS: Sql = page_sql!(
    "status = $1",
    "(CAST($5 AS TEXT) IS NULL OR unit_id IN ",
    ")"
);
/// Some units' rows, maybe of one status (the `outbox_unit` index).
const PAGE_BY_UNITS: Sql = page_sql!(
    "(CAST($1 AS TEXT) IS NULL OR status = $1)",
    "unit_id IN ",
    ""
);
/// Anything, narrowed by kind, obligation or period only (the primary key).
const PAGE_ANY: Sql = page_sql!(
    "(CAST($1 AS TEXT) IS NULL OR status = $1)",
    "(CAST($5 AS TEXT) IS NULL OR unit_id IN ",
    ")"
);

/// Every row of one report, oldest first (a seek in the unique key).
const FOR_KEY: Sql = sql!(concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE obligation_id = $1 AND period_key = $2 AND unit_id = $3 ORDER BY id"
));

/// SQLite: per unit, the sent row with the latest `sent_at` (SQLite takes
/// the bare columns from the row `max` picked).
const LAST_SENT_SQLITE: &str = "SELECT unit_id, kind, stage, max(sent_at) AS sent_at \
     FROM (SELECT unit_id, kind, stage, sent_at FROM outbox WHERE obligation_id = ?1 \
     AND period_key = ?2 AND unit_id IN (SELECT value FROM json_each(?3)) \
     AND status = 'sent' AND sent_at IS NOT NULL ORDER BY id DESC) \
     GROUP BY unit_id ORDER BY unit_id";

/// PostgreSQL: per unit, the sent row with the latest `sent_at`.
const LAST_SENT_POSTGRES: &str = "SELECT DISTINCT ON (unit_id) unit_id, kind, stage, sent_at \
     FROM outbox WHERE obligation_id = $1 AND period_key = $2 \
     AND unit_id IN (SELECT json_array_elements_text(CAST($3 AS json))) \
     AND status = 'sent' AND sent_at IS NOT NULL ORDER BY unit_id, sent_at DESC, id DESC";

const LAST_SENT: Sql = Sql::dialects(LAST_SENT_SQLITE, LAST_SENT_POSTGRES);

/// `tallied!(deltas)`: the outbox's rows, attempts and attempted per
/// (status, kind) as the tally has them (`outbox_tally`, plus on
/// PostgreSQL the changes not folded into it yet, `deltas`), one row per
/// tally row: what the count queries add up instead of the table.
macro_rules! tallied {
    ($deltas:expr) => {
        concat!(
            "SELECT status, kind, rows AS n, attempts, attempted FROM outbox_tally",
            $deltas
        )
    };
}

/// PostgreSQL's changes not folded yet (see [`Outbox::fold_outbox_tally`]).
macro_rules! deltas {
    () => {
        " UNION ALL SELECT status, kind, rows, attempts, attempted FROM outbox_tally_delta"
    };
}

/// `status_counts!(deltas)`: rows per status, from the tally.
macro_rules! status_counts {
    ($deltas:expr) => {
        concat!(
            "SELECT status, CAST(SUM(n) AS BIGINT) FROM (",
            tallied!($deltas),
            ") t GROUP BY status HAVING SUM(n) > 0"
        )
    };
}

/// Rows per status, from the tally (a few dozen rows, whatever the size of
/// the table).
const STATUS_COUNTS: Sql = Sql::dialects(status_counts!(""), status_counts!(deltas!()));

const NEXT_DUE: Sql = sql!(
    "SELECT min(t) FROM (\
     SELECT min(next_attempt_at) AS t FROM outbox \
     WHERE status = 'pending' AND next_attempt_at > $1 \
     UNION ALL \
     SELECT min(lease_until) AS t FROM outbox WHERE status = 'sending' AND lease_until > $1\
     ) AS due"
);

/// `counts!(deltas)`: rows per (status, kind) from the tally, those
/// retention deleted (`outbox_purged`) included (`CAST` rather than
/// PostgreSQL's `::`, whose `SUM` of a `BIGINT` is a `NUMERIC`). A
/// (status, kind) whose rows all moved on is left out, as a count of the
/// table would.
macro_rules! counts {
    ($deltas:expr) => {
        concat!(
            "SELECT status, kind, CAST(SUM(n) AS BIGINT) AS n, \
             CAST(SUM(attempts) AS BIGINT) AS attempts, \
             CAST(SUM(attempted) AS BIGINT) AS attempted FROM (",
            tallied!($deltas),
            " UNION ALL SELECT status, kind, rows, attempts, attempted FROM outbox_purged) c \
             GROUP BY status, kind HAVING SUM(n) > 0 ORDER BY status, kind"
        )
    };
}

/// The counts of [`Outbox::outbox_summary`]: the tally's few dozen rows
/// (and on PostgreSQL its changes not folded yet), never the outbox
/// itself.
const COUNTS: Sql = Sql::dialects(counts!(""), counts!(deltas!()));

/// How many unfolded changes of the outbox's tally the daemon's leader
/// lets pile up before it folds them (see [`Outbox::fold_outbox_tally`]):
/// a few thousand small rows add little to a read of the counts.
pub const TALLY_FOLD_AT: u64 = 5_000;

/// Rows deleted per transaction by [`Outbox::purge_finished`].
pub const PURGE_BATCH: i64 = 5_000;

/// The finished rows older than `$1` (a macro, for `concat!`).
macro_rules! purgeable {
    () => {
        "status IN ('sent', 'skipped', 'cancelled') AND updated_at < $1"
    };
}

/// The highest id of the next batch of purgeable rows (`$2` rows at most).
const PURGE_BOUND: Sql = sql!(concat!(
    "SELECT max(id) FROM (SELECT id FROM outbox WHERE ",
    purgeable!(),
    " ORDER BY id LIMIT $2) b"
));

/// Adds the batch's rows (up to id `$2`) to `outbox_purged`.
const PURGE_TALLY: Sql = sql!(concat!(
    "INSERT INTO outbox_purged (status, kind, rows, attempts, attempted) \
     SELECT status, kind, COUNT(*), CAST(COALESCE(SUM(attempts), 0) AS BIGINT), \
     CAST(COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) \
     FROM outbox WHERE ",
    purgeable!(),
    " AND id <= $2 GROUP BY status, kind \
     ON CONFLICT (status, kind) DO UPDATE SET rows = outbox_purged.rows + excluded.rows, \
     attempts = outbox_purged.attempts + excluded.attempts, \
     attempted = outbox_purged.attempted + excluded.attempted"
));

/// Deletes the batch's rows (up to id `$2`).
const PURGE_DELETE: Sql = sql!(concat!(
    "DELETE FROM outbox WHERE ",
    purgeable!(),
    " AND id <= $2"
));

/// The earliest `next_attempt_at` of a queued row: one `MIN` per status,
/// each a seek in the `outbox_due (status, next_attempt_at)` index.
const OLDEST_QUEUED: Sql = sql!(
    "SELECT MIN(t) FROM (\
     SELECT MIN(next_attempt_at) AS t FROM outbox WHERE status = 'pending' \
     UNION ALL \
     SELECT MIN(next_attempt_at) AS t FROM outbox WHERE status = 'sending') q"
);

const RETRY: Sql = sql!(
    "UPDATE outbox SET status = 'pending', next_attempt_at = $2, lease_owner = NULL, \
     lease_until = NULL, updated_at = $2 WHERE id = $1 AND status = 'failed'"
);

/// `FINISH` with its values bound, for the backend `$db`.
macro_rules! finish_query {
    ($db:ident, $id:expr, $owner:expr, $outcome:expr, $now:expr) => {{
        let (status, error, message_id, next) = outcome_columns($outcome);
        sqlx::query($db.sql(&FINISH))
            .bind($id)
            .bind($owner)
            .bind(status)
            .bind(error)
            .bind(message_id)
            .bind(next)
            .bind($now.as_second())
    }};
}

/// One claim: who leases the rows, at what time, until when, how many at
/// most, and whether escalation rows are taken too (by default they are;
/// see [`Outbox::claim`]).
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub(super) owner: &'a str,
    pub(super) now: Timestamp,
    pub(super) lease_until: Timestamp,
    pub(super) limit: u32,
    pub(super) escalations: bool,
}

impl<'a> Claim<'a> {
    /// Up to `limit` due rows, escalations included, leased to `owner`
    /// until `lease_until`.
    pub fn new(owner: &'a str, now: Timestamp, lease_until: Timestamp, limit: u32) -> Self {
        Claim {
            owner,
            now,
            lease_until,
            limit,
            escalations: true,
        }
    }

    /// The same claim, leaving escalation rows for the leader.
    pub fn except_escalations(self) -> Self {
        Claim {
            escalations: false,
            ..self
        }
    }
}

/// One recipient's overdue notices about one unit for one report (see
/// [`Outbox::claim_late_periods`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LateGroup {
    pub obligation: String,
    pub unit: String,
    pub recipient: String,
}

/// What a claim returns.
type Rows = Result<Vec<OutboxRow>, StoreError>;

/// Results to record at once: (row id, how it ended).
pub(super) type Listed<'a> = &'a [(i64, Outcome)];

/// The ids of the rows a bulk finish updated.
pub(super) type Ids = Result<Vec<i64>, StoreError>;

/// `claim_query!(claim, ALL, EXCEPT_ESCALATIONS)`: the backend's claiming
/// statement for `claim` (`ALL` with escalations), its parameters bound.
macro_rules! claim_query {
    ($c:expr, $all:expr, $except:expr) => {{
        let c = $c;
        sqlx::query_as(if c.escalations { $all } else { $except })
            .bind(c.now.as_second())
            .bind(i64::from(c.limit))
            .bind(c.owner)
            .bind(c.lease_until.as_second())
    }};
}
pub(super) use claim_query;

impl Outbox for Store {
    async fn enqueue(
        &self,
        rows: Vec<NewOutboxRow>,
        now: Timestamp,
    ) -> Result<EnqueueReport, StoreError> {
        let mut report = EnqueueReport::default();
        if rows.is_empty() {
            return Ok(report);
        }
        on_backend!(self, db => {
            let mut tx = db.begin_write().await?;
            for r in rows {
                let inserted = sqlx::query(db.sql(&INSERT))
                    .bind(&r.key.obligation)
                    .bind(&r.key.period)
                    .bind(&r.key.unit)
                    .bind(r.key.kind.as_str())
                    .bind(i64::from(r.key.stage))
                    .bind(&r.key.recipient)
                    .bind(i64::from(r.rank))
                    .bind(r.due_on.to_string())
                    .bind(r.status.as_str())
                    .bind(r.next_attempt_at.as_second())
                    .bind(now.as_second())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    > 0;
                match (inserted, r.status) {
                    (false, _) => report.existing += 1,
                    (true, OutboxStatus::Pending) => {
                        report.pending += 1;
                        report.superseded += sqlx::query(db.sql(&SUPERSEDE))
                            .bind(&r.key.obligation)
                            .bind(&r.key.period)
                            .bind(&r.key.unit)
                            .bind(i64::from(r.rank))
                            .bind(format!("{} {}", r.key.kind, r.key.stage))
                            .bind(now.as_second())
                            .execute(&mut *tx)
                            .await?
                            .rows_affected() as usize;
                    }
                    (true, _) => report.skipped += 1,
                }
                if inserted {
                    report.written.push(r);
                }
            }
            tx.commit().await?;
        });
        Ok(report)
    }

    async fn claim_with(&self, claim: Claim<'_>) -> Rows {
        let got = on_backend!(self, db => db.claim(&claim).await?);
        let mut rows = rows(got)?;
        rows.sort_by_key(|r| (r.next_attempt_at, r.id));
        Ok(rows)
    }

    async fn claim_late_periods(&self, claim: Claim<'_>, groups: &[LateGroup]) -> Rows {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let got = on_backend!(self, db => db.claim_late_periods(&claim, groups).await?);
        let mut rows = rows(got)?;
        rows.sort_by_key(|r| (r.next_attempt_at, r.id));
        Ok(rows)
    }

    async fn finish(
        &self,
        id: i64,
        owner: &str,
        outcome: Outcome,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let n = on_backend!(self, db => {
            finish_query!(db, id, owner, &outcome, now)
                .execute(&db.pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn finish_many(
        &self,
        owner: &str,
        results: Vec<(i64, Outcome)>,
        now: Timestamp,
    ) -> Result<Vec<bool>, StoreError> {
        match results.as_slice() {
            [] => Ok(Vec::new()),
            // One row: one autocommitted statement (no BEGIN/COMMIT round
            // trips), on SQLite's writer connection.
            [(id, outcome)] => {
                let n = on_backend!(self, db => {
                    db.execute_one(finish_query!(db, *id, owner, outcome, now))
                        .await?
                        .rows_affected()
                });
                Ok(vec![n > 0])
            }
            rows if one_statement(rows) => {
                let updated = on_backend!(self, db => db.finish_listed(owner, rows, now).await?);
                Ok(updated_in_order(rows, &updated))
            }
            rows => on_backend!(self, db => {
                let mut tx = db.begin_write().await?;
                let mut done = Vec::with_capacity(rows.len());
                for (id, outcome) in rows {
                    let n = finish_query!(db, *id, owner, outcome, now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    done.push(n > 0);
                }
                tx.commit().await?;
                Ok(done)
            }),
        }
    }

    async fn outbox(&self, status: Option<OutboxStatus>) -> Result<Vec<OutboxRow>, StoreError> {
        let got: Vec<OutboxDbRow> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&LIST))
                .bind(status.map(|s| s.as_str()))
                .fetch_all(&db.pool)
                .await?
        });
        rows(got)
    }

    async fn outbox_waiting(
        &self,
        status: OutboxStatus,
    ) -> Result<(u64, Option<Timestamp>), StoreError> {
        let (n, first): (i64, Option<i64>) = on_backend!(self, db => {
            sqlx::query_as(db.sql(&WAITING))
                .bind(status.as_str())
                .fetch_one(&db.pool)
                .await?
        });
        let n = u64::try_from(n).map_err(|_| corrupt("count", &n.to_string()))?;
        Ok((n, first.map(instant).transpose()?))
    }

    async fn outbox_recent(
        &self,
        status: OutboxStatus,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let got: Vec<OutboxDbRow> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&RECENT))
                .bind(status.as_str())
                .bind(since.as_second())
                .bind(i64::from(limit))
                .fetch_all(&db.pool)
                .await?
        });
        rows(got)
    }

    async fn outbox_history(
        &self,
        obligation: &str,
        period: &str,
        units: &[String],
    ) -> Result<Vec<OutboxRow>, StoreError> {
        if units.is_empty() {
            return Ok(Vec::new());
        }
        let list = json_list(units)?;
        let got: Vec<OutboxDbRow> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&HISTORY))
                .bind(obligation)
                .bind(period)
                .bind(&list)
                .fetch_all(&db.pool)
                .await?
        });
        rows(got)
    }

    async fn outbox_page(
        &self,
        filter: &OutboxFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let units = match &filter.units {
            Some(u) if u.is_empty() => return Ok(Vec::new()),
            Some(u) => Some(json_list(u)?),
            None => None,
        };
        let query = match (filter.status, &units) {
            (Some(_), _) => &PAGE_BY_STATUS,
            (None, Some(_)) => &PAGE_BY_UNITS,
            (None, None) => &PAGE_ANY,
        };
        let got: Vec<OutboxDbRow> = on_backend!(self, db => {
            sqlx::query_as(db.sql(query))
                .bind(filter.status.map(|s| s.as_str()))
                .bind(filter.kind.map(|k| k.as_str()))
                .bind(filter.obligation.as_deref())
                .bind(filter.period.as_deref())
                .bind(units.as_deref())
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(&db.pool)
                .await?
        });
        rows(got)
    }

    async fn outbox_for_key(&self, key: &Key) -> Result<Vec<OutboxRow>, StoreError> {
        let got: Vec<OutboxDbRow> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&FOR_KEY))
                .bind(&key.obligation)
                .bind(&key.period)
                .bind(&key.unit)
                .fetch_all(&db.pool)
                .await?
        });
        rows(got)
    }

    async fn last_sent(
        &self,
        obligation: &str,
        period: &str,
        units: &[String],
    ) -> Result<Vec<LastSent>, StoreError> {
        if units.is_empty() {
            return Ok(Vec::new());
        }
        let list = json_list(units)?;
        let got: Vec<(String, String, i64, i64)> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&LAST_SENT))
                .bind(obligation)
                .bind(period)
                .bind(&list)
                .fetch_all(&db.pool)
                .await?
        });
        got.into_iter()
            .map(|(unit, kind, stage, sent_at)| {
                Ok(LastSent {
                    unit,
                    kind: OutboxKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
                    stage: small("stage", stage)?,
                    sent_at: instant(sent_at)?,
                })
            })
            .collect()
    }

    async fn outbox_status_counts(&self) -> Result<Vec<(OutboxStatus, u64)>, StoreError> {
        let got: Vec<(String, i64)> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&STATUS_COUNTS))
                .fetch_all(&db.pool)
                .await?
        });
        let mut counts: Vec<(OutboxStatus, u64)> =
            OutboxStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for (status, n) in got {
            let status = OutboxStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?;
            let n = u64::try_from(n).map_err(|_| corrupt("count", &n.to_string()))?;
            if let Some(c) = counts.iter_mut().find(|c| c.0 == status) {
                c.1 = n;
            }
        }
        Ok(counts)
    }

    async fn outbox_summary(&self) -> Result<OutboxSummary, StoreError> {
        let (counts, oldest): (Vec<CountRow>, Option<i64>) = on_backend!(self, db => {
            let counts = sqlx::query_as(db.sql(&COUNTS)).fetch_all(&db.pool).await?;
            let oldest = sqlx::query_scalar(db.sql(&OLDEST_QUEUED))
                .fetch_one(&db.pool)
                .await?;
            (counts, oldest)
        });
        summary(counts, oldest)
    }

    async fn outbox_next_due(&self, now: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        let next: Option<i64> = on_backend!(self, db => {
            sqlx::query_scalar(db.sql(&NEXT_DUE))
                .bind(now.as_second())
                .fetch_one(&db.pool)
                .await?
        });
        next.map(|t| {
            Timestamp::from_second(t)
                .map_err(|_| StoreError::Corrupt(format!("outbox instant {t}")))
        })
        .transpose()
    }

    async fn purge_finished(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut deleted = 0;
        loop {
            let n = on_backend!(self, db => {
                let mut tx = db.begin_write().await?;
                let bound: Option<i64> = sqlx::query_scalar(db.sql(&PURGE_BOUND))
                    .bind(before.as_second())
                    .bind(PURGE_BATCH)
                    .fetch_one(&mut *tx)
                    .await?;
                let Some(bound) = bound else {
                    break;
                };
                sqlx::query(db.sql(&PURGE_TALLY))
                    .bind(before.as_second())
                    .bind(bound)
                    .execute(&mut *tx)
                    .await?;
                let n = sqlx::query(db.sql(&PURGE_DELETE))
                    .bind(before.as_second())
                    .bind(bound)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                n
            });
            deleted += n;
        }
        Ok(deleted)
    }

    async fn fold_outbox_tally(&self, at_least: u64) -> Result<u64, StoreError> {
        match &self.backend {
            super::Backend::Sqlite(_) => Ok(0),
            super::Backend::Postgres(db) => db.fold_tally(at_least).await,
        }
    }

    async fn retry_outbox(&self, id: i64, now: Timestamp) -> Result<bool, StoreError> {
        let n = on_backend!(self, db => {
            sqlx::query(db.sql(&RETRY))
                .bind(id)
                .bind(now.as_second())
                .execute(&db.pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }
}

/// One row of [`COUNTS`]: status, kind, rows, attempts, attempted.
type CountRow = (String, String, i64, i64, i64);

/// The summary from the rows of [`COUNTS`] (status, kind, rows, attempts,
/// attempted) and the value of [`OLDEST_QUEUED`].
fn summary(counts: Vec<CountRow>, oldest: Option<i64>) -> Result<OutboxSummary, StoreError> {
    let corrupt = |what: &str, v: &str| StoreError::Corrupt(format!("outbox {what} {v:?}"));
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
    let oldest_queued = oldest
        .map(|t| {
            Timestamp::from_second(t)
                .map_err(|_| StoreError::Corrupt(format!("outbox instant {t}")))
        })
        .transpose()?;
    Ok(OutboxSummary {
        counts,
        oldest_queued,
    })
}
