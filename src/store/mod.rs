//! The database: the append-only record of submissions, extensions and
//! waivers and the current state derived from it, the outbox of
//! notifications, API tokens, and the leadership lock.
//!
//! One concrete type, [`Store`], opened from a URL by [`open`] at the edge
//! and passed as `&Store` (cloning is cheap): inside, an enum of the two
//! backends' connections (`sqlite::Db`, `postgres::Db`), matched only
//! where the dialects differ. Nothing is generic over the store.
//!
//! Its interface is split by client, one trait per client implemented once
//! on `Store`: [`Records`] (submissions, extensions, waivers, history,
//! status facts: commands, API, dashboard, tracking), [`Outbox`] (enqueue,
//! claim, finish, list, retry, a notice's history: planner, dispatcher,
//! dashboard), [`Tokens`]
//! (`hanbao token`, authentication), [`Files`] (the rows of the files
//! units sent: the `files` module, the HTTP side) and [`Election`] (the leadership lock:
//! `daemon::leader`); opening, closing, migrations and query plans are its
//! own methods. Traits rather than grouped accessors
//! (`store.outbox().claim(..)`) because the methods keep their names at
//! every call site, a module's `use crate::store::{Outbox, Records}` says
//! which parts of the store it depends on, and there is no view type per
//! client to build and document. They are never used as bounds: with one
//! implementation there is nothing to be generic over.
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
//!   per subject. Only these tables have rows that change: `outbox`
//!   (notifications to send; its unique key makes enqueuing idempotent;
//!   retention deletes finished rows, `Outbox::purge_finished`),
//!   `outbox_purged` (the counts of what retention deleted, only ever
//!   increased), `outbox_tally` and, on PostgreSQL, `outbox_tally_delta`
//!   (the outbox counted per status and kind, written only by the
//!   database's triggers and `Outbox::fold_outbox_tally`) and `tokens` (an
//!   API token's `revoked_at` is set once). `files` rows are only ever
//!   inserted, like events.
//! - The outbox tally is exact: what `Outbox::outbox_summary` and
//!   `Outbox::outbox_status_counts` read equals a count of the table (plus
//!   `outbox_purged`) at every commit, on both backends.
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

/// `migrations!("sqlite")`: the migrator of one backend, its migrations
/// embedded from `migrations/<backend>/` with `include_str!`. Both
/// backends have the same versions and descriptions, each in its own SQL:
/// a new migration is a new file in each directory plus one line here.
macro_rules! migrations {
    ($backend:literal) => {
        $crate::store::migrator(&[
            (
                1,
                "events",
                include_str!(concat!("../../migrations/", $backend, "/0001_events.sql")),
            ),
            (
                2,
                "outbox",
                include_str!(concat!("../../migrations/", $backend, "/0002_outbox.sql")),
            ),
            (
                3,
                "events current covering",
                include_str!(concat!(
                    "../../migrations/",
                    $backend,
                    "/0003_events_current_covering.sql"
                )),
            ),
            (
                4,
                "tokens",
                include_str!(concat!("../../migrations/", $backend, "/0004_tokens.sql")),
            ),
            (
                5,
                "outbox counts",
                include_str!(concat!(
                    "../../migrations/",
                    $backend,
                    "/0005_outbox_counts.sql"
                )),
            ),
            (
                6,
                "token roles",
                include_str!(concat!(
                    "../../migrations/",
                    $backend,
                    "/0006_token_roles.sql"
                )),
            ),
            (
                7,
                "outbox purged",
                include_str!(concat!(
                    "../../migrations/",
                    $backend,
                    "/0007_outbox_purged.sql"
                )),
            ),
            (
                8,
                "outbox views",
                include_str!(concat!(
                    "../../migrations/",
                    $backend,
                    "/0008_outbox_views.sql"
                )),
            ),
            (
                9,
                "outbox tally",
                include_str!(concat!(
                    "../../migrations/",
                    $backend,
                    "/0009_outbox_tally.sql"
                )),
            ),
            (
                10,
                "files",
                include_str!(concat!("../../migrations/", $backend, "/0010_files.sql")),
            ),
            (
                11,
                "intake",
                include_str!(concat!("../../migrations/", $backend, "/0011_intake.sql")),
            ),
            (
                12,
                "acknowledgement",
                include_str!(concat!(
                    "../../migrations/",
                    $backend,
                    "/0012_acknowledgement.sql"
                )),
            ),
        ])
    };
}

/// `schema_version!()`: the version of the last migration above, as a
/// literal, so that `hanbao --version` can name it in a constant
/// (`crate::VERSION`). A test checks it against the migrators.
#[macro_export]
#[doc(hidden)]
macro_rules! schema_version {
    () => {
        12
    };
}

pub mod backup;
mod decide;
mod error;
mod files;
mod intake;
mod leader;
mod model;
mod outbox;
mod outbox_types;
mod postgres;
mod records;
mod row;
mod schema;
mod sql;
mod sqlite;
mod tokens;

use sqlx::SqlSafeStr as _;

pub use error::StoreError;
pub use files::{FileSource, Files, NewFile, StoredFile};
pub use intake::{
    Intake, IntakeAck, IntakeDetail, IntakeMessage, IntakeOutcome, IntakeRow, IntakeWrite,
    IntakeWritten, SentNotice,
};
pub use leader::{
    Election, LEADER_LOCK_KEY, LeaderLock, PgLeaderLock, SILENT_SESSION_CLOSED_AFTER,
};
pub use model::{
    Action, AppliedMigration, CurrentState, Event, ExtensionState, Facts, HistoryFilter,
    ImportReport, Key, KnownIds, NewExtension, NewSubmission, NewWaiver, Recorded, Revocation,
    Source, Stamp, Subject, SubmissionState, WaiverState,
};
pub use outbox::{
    Claim, EnqueueReport, LastSent, LateGroup, NewOutboxRow, Outbox, OutboxCount, OutboxFilter,
    OutboxKey, OutboxKind, OutboxRow, OutboxStatus, OutboxSummary, Outcome, PURGE_BATCH,
    TALLY_FOLD_AT,
};
pub use records::Records;
pub use schema::{
    Counts, Integrity, MigrationProblem, SCHEMA_VERSION, Schema, Verification, inspect,
};
pub use tokens::{NewToken, Token, TokenRole, Tokens};

/// The database, SQLite or PostgreSQL, picked once from the URL by [`open`].
/// Cloning is cheap and shares the connections.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(sqlite::Db),
    Postgres(postgres::Db),
}

/// Opens (creating if needed) the database at `url` and applies pending
/// migrations. `sqlite://PATH`, `sqlite:PATH` or `sqlite::memory:` for
/// SQLite; `postgres://` or `postgresql://` for PostgreSQL.
pub async fn open(url: &str) -> Result<Store, StoreError> {
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
    Ok(Store { backend })
}

const APPLIED_MIGRATIONS: sql::Sql =
    sql::sql!("SELECT version, description FROM _sqlx_migrations WHERE success ORDER BY version");

impl Store {
    /// "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Closes the connections (waits for queries in flight).
    pub async fn close(&self) {
        on_backend!(self, db => db.close().await)
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
            db.explain(db.sql(&records::CURRENT_JSON), [obligation, period]).await
        })
    }

    /// The query plan of the `facts` query for the first of the given pairs.
    pub async fn explain_facts(
        &self,
        pairs: &[(String, String)],
    ) -> Result<Vec<String>, StoreError> {
        let (o, p) = pairs.first().cloned().unwrap_or_default();
        on_backend!(self, db => db.explain(db.sql(&records::FACTS_JSON), [&o, &p]).await)
    }
}

/// Builds a migrator from migrations embedded with `include_str!`.
///
/// Equivalent to `sqlx::migrate!` (same `_sqlx_migrations` table and
/// checksums, files named like the sqlx CLI's), without needing sqlx's
/// `macros` feature.
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

/// The database at `url`, read-only and as it is: no migration, no
/// journal mode set, nothing created.
/// `untouched`: a SQLite file not in use is opened so that nothing is
/// created beside it (see `sqlite::Db::open_read_only_file`).
pub(super) async fn open_read_only(url: &str, untouched: bool) -> Result<Store, StoreError> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    let backend = match scheme {
        "sqlite" => Backend::Sqlite(sqlite::Db::open_read_only(url, untouched).await?),
        "postgres" | "postgresql" => Backend::Postgres(postgres::Db::open_read_only(url).await?),
        _ => {
            return Err(StoreError::UnsupportedUrl {
                scheme: scheme.chars().take(20).collect(),
            });
        }
    };
    Ok(Store { backend })
}
