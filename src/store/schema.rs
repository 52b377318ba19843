//! The schema a database holds, checked without changing it: which
//! migrations it records, whether this binary knows them, whether its
//! pages are sound, and how many rows it keeps. What `hanbao verify-db`
//! and `hanbao backup` report, and the refusal of a database that a newer
//! hanbao has migrated.
//!
//! Migrations go forward only: there are no down migrations, and a binary
//! never opens a database whose recorded schema is newer than the last
//! migration it embeds ([`SCHEMA_VERSION`]). That check runs before
//! anything is written: on SQLite through a read-only connection opened
//! before the pool (no journal mode set, no table created), on PostgreSQL
//! before the migrator takes its lock; the database is left exactly as it
//! was ([`StoreError::NewerSchema`]).
//!
//! [`inspect`] opens a database read-only and never migrates it, so an
//! old backup can be checked as it is. The queries are written once for
//! both dialects where they agree.
//!
//! Must not: write to the database it inspects, or read the clock.

use std::collections::BTreeMap;

use super::outbox::OutboxStatus;
use super::sql::{Sql, sql};
use super::{Backend, Store, StoreError, open_read_only};

/// The version of the last migration this binary embeds: the schema it
/// expects (`hanbao --version` names it).
pub const SCHEMA_VERSION: i64 = crate::schema_version!();

/// What [`inspect`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// "sqlite" or "postgres".
    pub backend: &'static str,
    pub integrity: Integrity,
    pub schema: Schema,
    pub counts: Counts,
}

impl Verification {
    /// Sound pages, every recorded migration known and intact, and a
    /// schema this binary can use (the same, or older: it is migrated when
    /// opened).
    pub fn is_ok(&self) -> bool {
        !matches!(self.integrity, Integrity::Problems(_))
            && self.schema.problems.is_empty()
            && self.schema.latest <= SCHEMA_VERSION
    }
}

/// The database engine's own check of its pages and indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrity {
    /// SQLite's `PRAGMA integrity_check` and `foreign_key_check` found nothing.
    Ok,
    /// What they found, one line each (at most [`MAX_INTEGRITY_LINES`]).
    Problems(Vec<String>),
    /// PostgreSQL: the server keeps its pages; its checker is `pg_amcheck`.
    /// Every table was still read whole to count its rows.
    NotChecked,
}

/// The most lines of an integrity report kept.
pub const MAX_INTEGRITY_LINES: usize = 100;

/// The migrations a database records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// The highest version recorded (0: none, an empty database).
    pub latest: i64,
    /// Versions recorded as applied, in order.
    pub applied: Vec<i64>,
    /// Recorded migrations this binary cannot vouch for.
    pub problems: Vec<MigrationProblem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationProblem {
    /// Recorded as failed part-way (`success` false).
    Failed(i64),
    /// Applied from a text other than the one this binary embeds.
    Modified(i64),
    /// Not among this binary's migrations (a newer hanbao applied it).
    Unknown(i64),
}

/// Rows kept, per table. A table the schema does not have yet counts 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Every event of the history (submissions, extensions, waivers and
    /// their revocations).
    pub events: u64,
    pub submissions: u64,
    pub corrections: u64,
    pub extensions: u64,
    pub waivers: u64,
    pub revocations: u64,
    /// Distinct (obligation, period, unit) with history.
    pub keys: u64,
    /// Outbox rows per status (statuses with rows only).
    pub outbox: BTreeMap<OutboxStatus, u64>,
    /// Outbox rows retention removed (counted in `outbox_purged`).
    pub outbox_purged: u64,
    pub tokens: u64,
    /// Tokens not revoked.
    pub tokens_active: u64,
}

const TABLES: Sql = Sql::dialects(
    "SELECT name FROM sqlite_master WHERE type = 'table'",
    "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
);
const MIGRATIONS: Sql =
    sql!("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version");
const LATEST: Sql = sql!("SELECT max(version) FROM _sqlx_migrations");
const EVENTS: Sql =
    sql!("SELECT subject, action, count(*) FROM events GROUP BY subject, action ORDER BY 1, 2");
const KEYS: Sql =
    sql!("SELECT count(*) FROM (SELECT DISTINCT obligation_id, period_key, unit_id FROM events) k");
const OUTBOX: Sql = sql!("SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status");
const PURGED: Sql = sql!("SELECT CAST(coalesce(sum(rows), 0) AS BIGINT) FROM outbox_purged");
const TOKENS: Sql = sql!(
    "SELECT count(*), CAST(coalesce(sum(CASE WHEN revoked_at IS NULL THEN 1 ELSE 0 END), 0) \
     AS BIGINT) FROM tokens"
);

/// Opens the database at `url` read-only, without migrating it (a SQLite
/// file that does not exist is an error, never created), checks it and
/// closes it.
pub async fn inspect(url: &str) -> Result<Verification, StoreError> {
    let store = open_read_only(url, true).await?;
    let found = store.verification().await;
    store.close().await;
    found
}

/// Refuses a database whose recorded schema is newer than this binary's;
/// called on `store` opened as it is, before any migration.
pub(super) async fn refuse_newer(store: &Store) -> Result<(), StoreError> {
    let tables = store.tables().await?;
    if !tables.iter().any(|t| t == "_sqlx_migrations") {
        return Ok(());
    }
    let latest: Option<i64> = on_backend!(store, db => {
        sqlx::query_scalar(db.sql(&LATEST)).fetch_one(&db.pool).await?
    });
    match latest {
        Some(found) if found > SCHEMA_VERSION => Err(StoreError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        }),
        _ => Ok(()),
    }
}

/// Every migration this binary embeds, as (version, checksum).
fn known_migrations(backend: &'static str) -> Vec<(i64, Vec<u8>)> {
    let migrator = match backend {
        "sqlite" => migrations!("sqlite"),
        _ => migrations!("postgres"),
    };
    migrator
        .iter()
        .map(|m| (m.version, m.checksum.to_vec()))
        .collect()
}

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Store {
    /// The names of the tables of the database (its current schema on
    /// PostgreSQL).
    async fn tables(&self) -> Result<Vec<String>, StoreError> {
        Ok(on_backend!(self, db => {
            sqlx::query_scalar(db.sql(&TABLES)).fetch_all(&db.pool).await?
        }))
    }

    /// Checks the database (see [`inspect`]); reads only.
    pub(super) async fn verification(&self) -> Result<Verification, StoreError> {
        let backend = self.backend();
        let tables = self.tables().await?;
        let has = |t: &str| tables.iter().any(|n| n == t);
        let integrity = match &self.backend {
            Backend::Sqlite(db) => match db.integrity_problems().await? {
                lines if lines.is_empty() => Integrity::Ok,
                lines => Integrity::Problems(lines),
            },
            Backend::Postgres(_) => Integrity::NotChecked,
        };
        let schema = if has("_sqlx_migrations") {
            let rows: Vec<(i64, Vec<u8>, bool)> = on_backend!(self, db => {
                sqlx::query_as(db.sql(&MIGRATIONS)).fetch_all(&db.pool).await?
            });
            let known = known_migrations(backend);
            let mut problems = Vec::new();
            let mut applied = Vec::new();
            for (version, checksum, success) in &rows {
                match known.iter().find(|(v, _)| v == version) {
                    None => problems.push(MigrationProblem::Unknown(*version)),
                    Some((_, sum)) if sum != checksum => {
                        problems.push(MigrationProblem::Modified(*version))
                    }
                    Some(_) if !success => problems.push(MigrationProblem::Failed(*version)),
                    Some(_) => applied.push(*version),
                }
            }
            Schema {
                latest: rows.iter().map(|r| r.0).max().unwrap_or(0),
                applied,
                problems,
            }
        } else {
            Schema {
                latest: 0,
                applied: Vec::new(),
                problems: Vec::new(),
            }
        };
        let mut counts = Counts::default();
        if has("events") {
            let rows: Vec<(String, String, i64)> = on_backend!(self, db => {
                sqlx::query_as(db.sql(&EVENTS)).fetch_all(&db.pool).await?
            });
            for (subject, action, n) in rows {
                let n = count(n);
                counts.events += n;
                match (subject.as_str(), action.as_str()) {
                    (_, "revoke") => counts.revocations += n,
                    ("submission", "correct") => counts.corrections += n,
                    ("submission", _) => counts.submissions += n,
                    ("extension", _) => counts.extensions += n,
                    _ => counts.waivers += n,
                }
            }
            let keys: i64 = on_backend!(self, db => {
                sqlx::query_scalar(db.sql(&KEYS)).fetch_one(&db.pool).await?
            });
            counts.keys = count(keys);
        }
        if has("outbox") {
            let rows: Vec<(String, i64)> = on_backend!(self, db => {
                sqlx::query_as(db.sql(&OUTBOX)).fetch_all(&db.pool).await?
            });
            for (status, n) in rows {
                let status = OutboxStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("outbox status {status:?}")))?;
                counts.outbox.insert(status, count(n));
            }
        }
        if has("outbox_purged") {
            let n: i64 = on_backend!(self, db => {
                sqlx::query_scalar(db.sql(&PURGED)).fetch_one(&db.pool).await?
            });
            counts.outbox_purged = count(n);
        }
        if has("tokens") {
            let (all, active): (i64, i64) = on_backend!(self, db => {
                sqlx::query_as(db.sql(&TOKENS)).fetch_one(&db.pool).await?
            });
            counts.tokens = count(all);
            counts.tokens_active = count(active);
        }
        Ok(Verification {
            backend,
            integrity,
            schema,
            counts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_version_is_the_last_migration_of_both_backends() {
        for backend in ["sqlite", "postgres"] {
            let known = known_migrations(backend);
            assert_eq!(known.last().map(|m| m.0), Some(SCHEMA_VERSION), "{backend}");
            // Versions start at 1 and increase; a number may be left
            // free for a migration of a parallel line of work (sqlx
            // applies whatever a database lacks, in order).
            let versions: Vec<i64> = known.iter().map(|m| m.0).collect();
            assert_eq!(versions.first(), Some(&1), "{backend}");
            assert!(versions.windows(2).all(|w| w[0] < w[1]), "{backend}");
        }
        assert!(crate::VERSION.contains(&format!(" {SCHEMA_VERSION})")));
    }
}
