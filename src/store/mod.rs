//! The database: the append-only record of submissions, extensions and
//! waivers, and the current state derived from it.
//!
//! One `Store` trait, two implementations (`SqliteStore`, `PgStore`) and
//! `AnyStore`, picked once from the URL by [`open`]. Each backend has its own
//! migrations (`migrations/sqlite`, `migrations/postgres`), embedded in the
//! binary, applied on open and recorded in `_sqlx_migrations`.
//!
//! Invariants:
//! - Only this module imports sqlx.
//! - Nothing in `events` is updated or deleted: every write appends an
//!   event; the state of an (obligation, period, unit) is its latest event
//!   per subject. Only two tables have rows that change: `outbox`
//!   (notifications to send; its unique key makes enqueuing idempotent) and
//!   `tokens` (an API token's `revoked_at` is set once).
//! - The store never reads the clock: every write takes `now`.
//! - Every write runs in a transaction that takes the write lock first
//!   (`BEGIN IMMEDIATE` on SQLite, a table lock on PostgreSQL), reads what is
//!   in effect, and appends; concurrent writers queue instead of deadlocking
//!   or racing.
//! - Stored encodings: instants are i64 epoch seconds UTC, civil dates are
//!   'YYYY-MM-DD' text, on both backends.
//! - The store does not check ids against the config; the commands do.
//! - Database URLs may carry a password: they never appear in errors or logs.

mod decide;
mod error;
mod leader;
mod model;
mod outbox;
mod postgres;
mod row;
mod sqlite;
mod tokens;

use std::future::Future;

use jiff::Timestamp;
use sqlx::SqlSafeStr as _;

pub use error::StoreError;
pub use leader::{LEADER_LOCK_KEY, LeaderLock, PgLeaderLock, SILENT_SESSION_CLOSED_AFTER};
pub use model::{
    Action, AppliedMigration, CurrentState, Event, ExtensionState, Facts, HistoryFilter,
    ImportReport, Key, KnownIds, NewExtension, NewSubmission, NewWaiver, Recorded, Revocation,
    Source, Stamp, Subject, SubmissionState, WaiverState,
};
pub use outbox::{
    EnqueueReport, NewOutboxRow, OutboxKey, OutboxKind, OutboxRow, OutboxStatus, Outcome,
};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use tokens::{NewToken, Token, TokenRole};

/// The submission record, whatever the backend.
///
/// Methods return `impl Future + Send` so generic code (`S: Store`) can be
/// spawned on a multi-threaded runtime.
pub trait Store: Send + Sync {
    /// Records that a report arrived. The same submission again is
    /// `Recorded::AlreadyRecorded`; a different one for the same key is
    /// `StoreError::Conflict` unless `correction` is set.
    fn record_submission(
        &self,
        submission: NewSubmission,
        now: Timestamp,
    ) -> impl Future<Output = Result<Recorded, StoreError>> + Send;

    /// Withdraws the submission, extension or waiver in effect. Revoking
    /// again is `AlreadyRecorded`; revoking what never existed is
    /// `StoreError::NothingToRevoke`.
    fn revoke(
        &self,
        revocation: Revocation,
        now: Timestamp,
    ) -> impl Future<Output = Result<Recorded, StoreError>> + Send;

    /// Grants (or replaces) an extension. The same grant again is a no-op.
    fn grant_extension(
        &self,
        extension: NewExtension,
        now: Timestamp,
    ) -> impl Future<Output = Result<Recorded, StoreError>> + Send;

    /// Grants (or replaces) a waiver. The same grant again is a no-op.
    fn grant_waiver(
        &self,
        waiver: NewWaiver,
        now: Timestamp,
    ) -> impl Future<Output = Result<Recorded, StoreError>> + Send;

    /// What is in effect for every unit of one obligation and period, by
    /// unit id. Units with nothing in effect (never recorded, or everything
    /// revoked) are left out. The status hot path: one index range.
    fn current(
        &self,
        obligation: &str,
        period: &str,
    ) -> impl Future<Output = Result<Vec<CurrentState>, StoreError>> + Send;

    /// What the status of every unit of many (obligation, period) pairs
    /// depends on: submissions, extensions and waivers in effect, ordered by
    /// pair (as given), then unit id. Units with nothing in effect are left
    /// out. The `hanbao status` hot path: one covering-index range per pair,
    /// only the columns status needs, the pairs read concurrently. Must be
    /// called inside a tokio runtime.
    fn facts(
        &self,
        pairs: &[(String, String)],
    ) -> impl Future<Output = Result<Vec<Facts>, StoreError>> + Send;

    /// What is in effect for one key (empty if nothing).
    fn current_for(
        &self,
        key: &Key,
    ) -> impl Future<Output = Result<CurrentState, StoreError>> + Send;

    /// Every event matching the filter, oldest first.
    fn history(
        &self,
        filter: &HistoryFilter,
    ) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;

    /// Records many submissions in one transaction: all of them or, on the
    /// first bad row (`StoreError::ImportRow`/`ImportDuplicate`), none.
    /// Rows identical to what is in effect (or to an earlier row) are
    /// counted as unchanged.
    fn import_submissions(
        &self,
        submissions: Vec<NewSubmission>,
        now: Timestamp,
    ) -> impl Future<Output = Result<ImportReport, StoreError>> + Send;

    /// Obligation and unit ids that have any history.
    fn known_ids(&self) -> impl Future<Output = Result<KnownIds, StoreError>> + Send;

    /// The migrations recorded as applied, by version.
    fn applied_migrations(
        &self,
    ) -> impl Future<Output = Result<Vec<AppliedMigration>, StoreError>> + Send;

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
    /// them or (on error) none. Each result is what [`Store::finish`]
    /// would have returned for that row, in the order given: false (and
    /// nothing written for that row) when it is no longer `sending` under
    /// `owner`'s lease.
    fn finish_many(
        &self,
        owner: &str,
        results: Vec<(i64, Outcome)>,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<bool>, StoreError>> + Send;

    /// Outbox rows, oldest first; only those with `status` if given.
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

    /// The earliest `next_attempt_at` of a pending row, or lease end of a
    /// `sending` row, after `now` (for a virtual clock's next step).
    fn outbox_next_due(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    /// Stores a new API token (its hash only).
    fn create_token(
        &self,
        token: NewToken,
        now: Timestamp,
    ) -> impl Future<Output = Result<Token, StoreError>> + Send;

    /// Every API token, revoked ones included, by id.
    fn tokens(&self) -> impl Future<Output = Result<Vec<Token>, StoreError>> + Send;

    /// Revokes a token (again: no change). `None` when there is no such id.
    fn revoke_token(
        &self,
        id: i64,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<Token>, StoreError>> + Send;

    /// The token whose secret hashes to `hash` (64 hex digits), revoked or not.
    fn token_by_hash(
        &self,
        hash: &str,
    ) -> impl Future<Output = Result<Option<Token>, StoreError>> + Send;

    /// Closes the connections (waits for queries in flight).
    fn close(&self) -> impl Future<Output = ()> + Send;

    /// Like [`Store::claim`], leaving escalation rows alone: what an
    /// instance that is not the leader claims, so that escalations to one
    /// recipient are grouped by one process (see `LeaderLock`).
    fn claim_except_escalations(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, StoreError>> + Send;

    /// A new, not yet taken, leadership lock for this database: the
    /// advisory lock on a dedicated session (PostgreSQL), or always the
    /// leader (SQLite). No IO until [`LeaderLock::check`].
    fn leader_lock(&self) -> LeaderLock;

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

/// The backend chosen from the configured URL.
#[derive(Debug, Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Opens (creating if needed) the database at `url` and applies pending
/// migrations. `sqlite://PATH`, `sqlite:PATH` or `sqlite::memory:` for
/// SQLite; `postgres://` or `postgresql://` for PostgreSQL.
pub async fn open(url: &str) -> Result<AnyStore, StoreError> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    match scheme {
        "sqlite" => Ok(AnyStore::Sqlite(SqliteStore::open(url).await?)),
        "postgres" | "postgresql" => Ok(AnyStore::Postgres(PgStore::open(url).await?)),
        _ => Err(StoreError::UnsupportedUrl {
            scheme: scheme.chars().take(20).collect(),
        }),
    }
}

impl AnyStore {
    /// The query plan of the `current` query for one obligation and period,
    /// one line per plan row (for benchmarks and diagnostics).
    pub async fn explain_current(
        &self,
        obligation: &str,
        period: &str,
    ) -> Result<Vec<String>, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.explain_current(obligation, period).await,
            AnyStore::Postgres(s) => s.explain_current(obligation, period).await,
        }
    }

    /// The query plan of the `facts` query for the given pairs.
    pub async fn explain_facts(
        &self,
        pairs: &[(String, String)],
    ) -> Result<Vec<String>, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.explain_facts(pairs).await,
            AnyStore::Postgres(s) => s.explain_facts(pairs).await,
        }
    }

    /// "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $call.await,
            AnyStore::Postgres($s) => $call.await,
        }
    };
}

impl Store for AnyStore {
    async fn record_submission(
        &self,
        submission: NewSubmission,
        now: Timestamp,
    ) -> Result<Recorded, StoreError> {
        dispatch!(self, s => s.record_submission(submission, now))
    }

    async fn revoke(&self, revocation: Revocation, now: Timestamp) -> Result<Recorded, StoreError> {
        dispatch!(self, s => s.revoke(revocation, now))
    }

    async fn grant_extension(
        &self,
        extension: NewExtension,
        now: Timestamp,
    ) -> Result<Recorded, StoreError> {
        dispatch!(self, s => s.grant_extension(extension, now))
    }

    async fn grant_waiver(
        &self,
        waiver: NewWaiver,
        now: Timestamp,
    ) -> Result<Recorded, StoreError> {
        dispatch!(self, s => s.grant_waiver(waiver, now))
    }

    async fn current(
        &self,
        obligation: &str,
        period: &str,
    ) -> Result<Vec<CurrentState>, StoreError> {
        dispatch!(self, s => s.current(obligation, period))
    }

    async fn facts(&self, pairs: &[(String, String)]) -> Result<Vec<Facts>, StoreError> {
        dispatch!(self, s => s.facts(pairs))
    }

    async fn current_for(&self, key: &Key) -> Result<CurrentState, StoreError> {
        dispatch!(self, s => s.current_for(key))
    }

    async fn history(&self, filter: &HistoryFilter) -> Result<Vec<Event>, StoreError> {
        dispatch!(self, s => s.history(filter))
    }

    async fn import_submissions(
        &self,
        submissions: Vec<NewSubmission>,
        now: Timestamp,
    ) -> Result<ImportReport, StoreError> {
        dispatch!(self, s => s.import_submissions(submissions, now))
    }

    async fn known_ids(&self) -> Result<KnownIds, StoreError> {
        dispatch!(self, s => s.known_ids())
    }

    async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        dispatch!(self, s => s.applied_migrations())
    }

    async fn enqueue(
        &self,
        rows: Vec<NewOutboxRow>,
        now: Timestamp,
    ) -> Result<EnqueueReport, StoreError> {
        dispatch!(self, s => s.enqueue(rows, now))
    }

    async fn claim(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        dispatch!(self, s => s.claim(owner, now, lease_until, limit))
    }

    async fn finish(
        &self,
        id: i64,
        owner: &str,
        outcome: Outcome,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.finish(id, owner, outcome, now))
    }

    async fn finish_many(
        &self,
        owner: &str,
        results: Vec<(i64, Outcome)>,
        now: Timestamp,
    ) -> Result<Vec<bool>, StoreError> {
        dispatch!(self, s => s.finish_many(owner, results, now))
    }

    async fn outbox(&self, status: Option<OutboxStatus>) -> Result<Vec<OutboxRow>, StoreError> {
        dispatch!(self, s => s.outbox(status))
    }

    async fn outbox_history(
        &self,
        obligation: &str,
        period: &str,
        units: &[String],
    ) -> Result<Vec<OutboxRow>, StoreError> {
        dispatch!(self, s => s.outbox_history(obligation, period, units))
    }

    async fn outbox_next_due(&self, now: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        dispatch!(self, s => s.outbox_next_due(now))
    }

    async fn create_token(&self, token: NewToken, now: Timestamp) -> Result<Token, StoreError> {
        dispatch!(self, s => s.create_token(token, now))
    }

    async fn tokens(&self) -> Result<Vec<Token>, StoreError> {
        dispatch!(self, s => s.tokens())
    }

    async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<Option<Token>, StoreError> {
        dispatch!(self, s => s.revoke_token(id, now))
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<Token>, StoreError> {
        dispatch!(self, s => s.token_by_hash(hash))
    }

    async fn close(&self) {
        dispatch!(self, s => s.close())
    }

    async fn claim_except_escalations(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        dispatch!(self, s => s.claim_except_escalations(owner, now, lease_until, limit))
    }

    fn leader_lock(&self) -> LeaderLock {
        match self {
            AnyStore::Sqlite(s) => s.leader_lock(),
            AnyStore::Postgres(s) => s.leader_lock(),
        }
    }

    async fn retry_outbox(&self, id: i64, now: Timestamp) -> Result<bool, StoreError> {
        dispatch!(self, s => s.retry_outbox(id, now))
    }
}

/// Builds a migrator from migrations embedded with `include_str!`.
///
/// Equivalent to `sqlx::migrate!` (same `_sqlx_migrations` table and
/// checksums, files named like the sqlx CLI's), without needing sqlx's
/// `macros` feature. A new migration is a new file plus one line in the
/// backend's list.
fn migrator(files: &[(i64, &'static str, &'static str)]) -> sqlx::migrate::Migrator {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    Migrator::with_migrations(
        files
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sqlx::AssertSqlSafe(sql).into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// Shared import logic: validates every row against what is in effect
/// (`latest`, the latest submission event per key, filled by the backend)
/// and against earlier rows, returning the events to append.
fn plan_import(
    latest: &mut std::collections::HashMap<Key, (Event, Option<usize>)>,
    submissions: &[NewSubmission],
    now: Timestamp,
) -> Result<(Vec<Event>, ImportReport), StoreError> {
    let mut report = ImportReport::default();
    let mut out = Vec::with_capacity(submissions.len());
    for (i, s) in submissions.iter().enumerate() {
        let row = i + 1;
        let wrap = |e: StoreError| StoreError::ImportRow {
            row,
            source: Box::new(e),
        };
        let new = decide::submission_event(s, now).map_err(wrap)?;
        let prior = latest.get(&new.key);
        match decide::decide_submission_event(prior.map(|(e, _)| e), new) {
            Ok(decide::Decision::Already(_)) => report.unchanged += 1,
            Ok(decide::Decision::Insert(e)) => {
                if e.action == Action::Correct {
                    report.corrected += 1;
                } else {
                    report.submitted += 1;
                }
                latest.insert(e.key.clone(), (e.clone(), Some(row)));
                out.push(e);
            }
            Err(StoreError::Conflict { key, .. }) if matches!(prior, Some((_, Some(_)))) => {
                let earlier_row = prior.and_then(|(_, r)| *r).unwrap_or(0);
                return Err(StoreError::ImportDuplicate {
                    row,
                    earlier_row,
                    key,
                });
            }
            Err(e) => return Err(wrap(e)),
        }
    }
    Ok((out, report))
}

/// Runs `read` for every (obligation, period) pair concurrently (bounded by
/// the backend's pool) and concatenates the results in pair order. The
/// status read is one index range per pair; on a multi-core server the
/// ranges are read, and their JSON parsed, in parallel.
async fn facts_per_pair<F, Fut>(
    pairs: &[(String, String)],
    read: F,
) -> Result<Vec<Facts>, StoreError>
where
    F: Fn(String, String) -> Fut,
    Fut: Future<Output = Result<Vec<Facts>, StoreError>> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for (i, (o, p)) in pairs.iter().enumerate() {
        let fut = read(o.clone(), p.clone());
        set.spawn(async move { fut.await.map(|f| (i, f)) });
    }
    let mut parts: Vec<Vec<Facts>> = vec![Vec::new(); pairs.len()];
    while let Some(joined) = set.join_next().await {
        let (i, facts) =
            joined.map_err(|e| StoreError::Open(format!("status read task: {e}")))??;
        parts[i] = facts;
    }
    Ok(parts.into_iter().flatten().collect())
}
