//! The database: the append-only record of submissions, extensions and
//! waivers and the current state derived from it, the outbox of
//! notifications, API tokens, and the leadership lock.
//!
//! One concrete type, [`AnyStore`], opened from a URL by [`open`]: inside,
//! an enum of the two backends' connections (`sqlite::Db`, `postgres::Db`).
//! Its interface is split by client, one trait per client implemented once
//! on that type: [`Records`] (submissions, extensions, waivers, history,
//! status facts), [`Outbox`] (enqueue, claim, finish, retry), [`Tokens`]
//! (API tokens) and [`Election`] (the leadership lock); opening, closing,
//! migrations and query plans are its own methods.
//!
//! SQL the two dialects share is written once, with `$N` placeholders
//! (SQLite's `?N` text is made at compile time, see `sql`), and so is the
//! code that binds and runs it (`on_backend!` compiles one body for each
//! backend). `sqlite.rs` and `postgres.rs` hold only what really differs:
//! opening and migrations, the write lock (`BEGIN IMMEDIATE` / `LOCK
//! TABLE`), claiming (`BEGIN IMMEDIATE` / `FOR UPDATE SKIP LOCKED`), the
//! latest-event reads and their JSON aggregation (correlated `max(id)` and
//! `json_group_array` / `DISTINCT ON` and `json_agg`), the bulk finish
//! (`VALUES` / `unnest`), SQLite's one-row writer connection and
//! `EXPLAIN`. `decide` holds the pure rules of what a write means, so the
//! backends cannot disagree.
//!
//! Each backend has its own migrations (`migrations/sqlite`,
//! `migrations/postgres`), embedded in the binary, applied on open and
//! recorded in `_sqlx_migrations`.
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

/// `on_backend!(store, db => body)`: runs `body` with `db` bound to the
/// backend in use (`sqlite::Db` or `postgres::Db`). The body is written
/// once and compiled for each backend: both `Db` types have a `pool`,
/// `sql(&Sql)` (the dialect's text of a query) and methods of the same
/// names where the dialects differ (`begin_append`, `claim`, ...).
macro_rules! on_backend {
    ($store:expr, $db:ident => $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite($db) => $body,
            $crate::store::Backend::Postgres($db) => $body,
        }
    };
}

mod decide;
mod error;
mod leader;
mod model;
mod outbox;
mod postgres;
mod records;
mod row;
mod sql;
mod sqlite;
mod tokens;

use std::future::Future;

use jiff::Timestamp;
use sqlx::SqlSafeStr as _;

pub use error::StoreError;
pub use leader::{
    Election, LEADER_LOCK_KEY, LeaderLock, PgLeaderLock, SILENT_SESSION_CLOSED_AFTER,
};
pub use model::{
    Action, AppliedMigration, CurrentState, Event, ExtensionState, Facts, HistoryFilter,
    ImportReport, Key, KnownIds, NewExtension, NewSubmission, NewWaiver, Recorded, Revocation,
    Source, Stamp, Subject, SubmissionState, WaiverState,
};
pub use outbox::{
    EnqueueReport, NewOutboxRow, Outbox, OutboxCount, OutboxKey, OutboxKind, OutboxRow,
    OutboxStatus, OutboxSummary, Outcome,
};
pub use records::Records;
pub use tokens::{NewToken, Token, TokenRole, Tokens};

/// The database, SQLite or PostgreSQL, picked once from the URL by [`open`].
/// Cloning is cheap and shares the connections.
#[derive(Debug, Clone)]
pub struct AnyStore {
    backend: Backend,
}

/// Transitional name, until callers stop being generic.
pub type SqliteStore = AnyStore;
/// Transitional name, until callers stop being generic.
pub type PgStore = AnyStore;

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(sqlite::Db),
    Postgres(postgres::Db),
}

/// Opens (creating if needed) the database at `url` and applies pending
/// migrations. `sqlite://PATH`, `sqlite:PATH` or `sqlite::memory:` for
/// SQLite; `postgres://` or `postgresql://` for PostgreSQL.
pub async fn open(url: &str) -> Result<AnyStore, StoreError> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    let backend = match scheme {
        "sqlite" => Backend::Sqlite(sqlite::Db::open(url).await?),
        "postgres" | "postgresql" => Backend::Postgres(postgres::Db::open(url).await?),
        _ => {
            return Err(StoreError::UnsupportedUrl {
                scheme: scheme.chars().take(20).collect(),
            });
        }
    };
    Ok(AnyStore { backend })
}

const APPLIED_MIGRATIONS: sql::Sql =
    sql::sql!("SELECT version, description FROM _sqlx_migrations WHERE success ORDER BY version");

impl AnyStore {
    /// Transitional: [`open`].
    pub async fn open(url: &str) -> Result<AnyStore, StoreError> {
        open(url).await
    }

    /// "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// The migrations recorded as applied, by version.
    pub async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        let rows: Vec<(i64, String)> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&APPLIED_MIGRATIONS))
                .fetch_all(&db.pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(version, description)| AppliedMigration {
                version,
                description,
            })
            .collect())
    }

    /// The query plan of the `current` query for one obligation and period,
    /// one line per plan row (for benchmarks and diagnostics).
    pub async fn explain_current(
        &self,
        obligation: &str,
        period: &str,
    ) -> Result<Vec<String>, StoreError> {
        on_backend!(self, db => {
            db.explain(db.sql(&records::CURRENT_JSON), obligation, period).await
        })
    }

    /// The query plan of the `facts` query for the first of the given pairs.
    pub async fn explain_facts(
        &self,
        pairs: &[(String, String)],
    ) -> Result<Vec<String>, StoreError> {
        let (o, p) = pairs.first().cloned().unwrap_or_default();
        on_backend!(self, db => db.explain(db.sql(&records::FACTS_JSON), &o, &p).await)
    }
}

/// Transitional: the whole interface in one trait, for callers that are
/// still generic over the store. Forwards to [`Records`], [`Outbox`],
/// [`Tokens`], [`Election`] and `AnyStore`'s own methods.
pub trait Store: Send + Sync {
    fn record_submission(
        &self,
        submission: NewSubmission,
        now: Timestamp,
    ) -> impl Future<Output = Result<Recorded, StoreError>> + Send;
    fn revoke(
        &self,
        revocation: Revocation,
        now: Timestamp,
    ) -> impl Future<Output = Result<Recorded, StoreError>> + Send;
    fn grant_extension(
        &self,
        extension: NewExtension,
        now: Timestamp,
    ) -> impl Future<Output = Result<Recorded, StoreError>> + Send;
    fn grant_waiver(
        &self,
        waiver: NewWaiver,
        now: Timestamp,
    ) -> impl Future<Output = Result<Recorded, StoreError>> + Send;
    fn current(
        &self,
        obligation: &str,
        period: &str,
    ) -> impl Future<Output = Result<Vec<CurrentState>, StoreError>> + Send;
    fn facts(
        &self,
        pairs: &[(String, String)],
    ) -> impl Future<Output = Result<Vec<Facts>, StoreError>> + Send;
    fn current_for(
        &self,
        key: &Key,
    ) -> impl Future<Output = Result<CurrentState, StoreError>> + Send;
    fn history(
        &self,
        filter: &HistoryFilter,
    ) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;
    fn import_submissions(
        &self,
        submissions: Vec<NewSubmission>,
        now: Timestamp,
    ) -> impl Future<Output = Result<ImportReport, StoreError>> + Send;
    fn known_ids(&self) -> impl Future<Output = Result<KnownIds, StoreError>> + Send;
    fn applied_migrations(
        &self,
    ) -> impl Future<Output = Result<Vec<AppliedMigration>, StoreError>> + Send;
    fn enqueue(
        &self,
        rows: Vec<NewOutboxRow>,
        now: Timestamp,
    ) -> impl Future<Output = Result<EnqueueReport, StoreError>> + Send;
    fn claim(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, StoreError>> + Send;
    fn finish(
        &self,
        id: i64,
        owner: &str,
        outcome: Outcome,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn finish_many(
        &self,
        owner: &str,
        results: Vec<(i64, Outcome)>,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<bool>, StoreError>> + Send;
    fn outbox(
        &self,
        status: Option<OutboxStatus>,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, StoreError>> + Send;
    fn outbox_summary(&self) -> impl Future<Output = Result<OutboxSummary, StoreError>> + Send;
    fn outbox_next_due(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;
    fn create_token(
        &self,
        token: NewToken,
        now: Timestamp,
    ) -> impl Future<Output = Result<Token, StoreError>> + Send;
    fn tokens(&self) -> impl Future<Output = Result<Vec<Token>, StoreError>> + Send;
    fn revoke_token(
        &self,
        id: i64,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<Token>, StoreError>> + Send;
    fn token_by_hash(
        &self,
        hash: &str,
    ) -> impl Future<Output = Result<Option<Token>, StoreError>> + Send;
    fn close(&self) -> impl Future<Output = ()> + Send;
    fn claim_except_escalations(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, StoreError>> + Send;
    fn leader_lock(&self) -> LeaderLock;
    fn retry_outbox(
        &self,
        id: i64,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

impl Store for AnyStore {
    async fn record_submission(
        &self,
        s: NewSubmission,
        now: Timestamp,
    ) -> Result<Recorded, StoreError> {
        Records::record_submission(self, s, now).await
    }
    async fn revoke(&self, r: Revocation, now: Timestamp) -> Result<Recorded, StoreError> {
        Records::revoke(self, r, now).await
    }
    async fn grant_extension(
        &self,
        x: NewExtension,
        now: Timestamp,
    ) -> Result<Recorded, StoreError> {
        Records::grant_extension(self, x, now).await
    }
    async fn grant_waiver(&self, w: NewWaiver, now: Timestamp) -> Result<Recorded, StoreError> {
        Records::grant_waiver(self, w, now).await
    }
    async fn current(&self, o: &str, p: &str) -> Result<Vec<CurrentState>, StoreError> {
        Records::current(self, o, p).await
    }
    async fn facts(&self, pairs: &[(String, String)]) -> Result<Vec<Facts>, StoreError> {
        Records::facts(self, pairs).await
    }
    async fn current_for(&self, key: &Key) -> Result<CurrentState, StoreError> {
        Records::current_for(self, key).await
    }
    async fn history(&self, filter: &HistoryFilter) -> Result<Vec<Event>, StoreError> {
        Records::history(self, filter).await
    }
    async fn import_submissions(
        &self,
        s: Vec<NewSubmission>,
        now: Timestamp,
    ) -> Result<ImportReport, StoreError> {
        Records::import_submissions(self, s, now).await
    }
    async fn known_ids(&self) -> Result<KnownIds, StoreError> {
        Records::known_ids(self).await
    }
    async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        AnyStore::applied_migrations(self).await
    }
    async fn enqueue(
        &self,
        rows: Vec<NewOutboxRow>,
        now: Timestamp,
    ) -> Result<EnqueueReport, StoreError> {
        Outbox::enqueue(self, rows, now).await
    }
    async fn claim(
        &self,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        Outbox::claim(self, owner, now, until, limit).await
    }
    async fn finish(
        &self,
        id: i64,
        owner: &str,
        outcome: Outcome,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        Outbox::finish(self, id, owner, outcome, now).await
    }
    async fn finish_many(
        &self,
        owner: &str,
        results: Vec<(i64, Outcome)>,
        now: Timestamp,
    ) -> Result<Vec<bool>, StoreError> {
        Outbox::finish_many(self, owner, results, now).await
    }
    async fn outbox(&self, status: Option<OutboxStatus>) -> Result<Vec<OutboxRow>, StoreError> {
        Outbox::outbox(self, status).await
    }
    async fn outbox_summary(&self) -> Result<OutboxSummary, StoreError> {
        Outbox::outbox_summary(self).await
    }
    async fn outbox_next_due(&self, now: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        Outbox::outbox_next_due(self, now).await
    }
    async fn create_token(&self, token: NewToken, now: Timestamp) -> Result<Token, StoreError> {
        Tokens::create_token(self, token, now).await
    }
    async fn tokens(&self) -> Result<Vec<Token>, StoreError> {
        Tokens::tokens(self).await
    }
    async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<Option<Token>, StoreError> {
        Tokens::revoke_token(self, id, now).await
    }
    async fn token_by_hash(&self, hash: &str) -> Result<Option<Token>, StoreError> {
        Tokens::token_by_hash(self, hash).await
    }
    async fn close(&self) {
        on_backend!(self, db => db.close().await)
    }
    async fn claim_except_escalations(
        &self,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        Outbox::claim_except_escalations(self, owner, now, until, limit).await
    }
    fn leader_lock(&self) -> LeaderLock {
        Election::leader_lock(self)
    }
    async fn retry_outbox(&self, id: i64, now: Timestamp) -> Result<bool, StoreError> {
        Outbox::retry_outbox(self, id, now).await
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
