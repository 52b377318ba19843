//! The SQLite backend: the embedded default. Only what SQLite does
//! differently lives here; the queries both dialects share are written once
//! in `records`, `outbox` and `tokens`.
//!
//! The file (mode 0600) and its missing directories (0700) are created on
//! first use, private whatever the umask; WAL lets readers run beside the
//! one writer; a busy timeout makes a writer wait for the lock (held by
//! another task or process) instead of failing. Every write is a `BEGIN
//! IMMEDIATE` transaction: it takes the write lock before reading, so two
//! writers can never deadlock upgrading read locks, and claiming outbox
//! rows needs nothing more. The dispatcher's one-row records go through a
//! connection of their own (see [`Db::execute_one`]).
//!
//! Here: opening and migrations, the write lock, claiming, the current
//! state aggregated with `json_group_array`, the latest event per (unit,
//! subject) by a correlated `max(id)`, the bulk finish as `UPDATE … FROM
//! (VALUES …)`, a list of units read by `json_each`, and `EXPLAIN QUERY
//! PLAN`.
//!
//! Must not: read the clock, or write anything but appends to `events`.

use std::fs::{DirBuilder, Permissions};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteQueryResult, SqliteSynchronous,
};
use sqlx::{Sqlite, SqliteConnection, Transaction};

use super::StoreError;
use super::leader::LeaderLock;
use super::outbox::{
    self as ob, Claim, Ids, LateGroup, Listed, OutboxDbRow, claim_query, due_rows, outbox_columns,
};
use super::row::event_columns;
use super::sql::{Sql, sql};

/// How long a writer waits for another writer (task or process) before
/// giving up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The latest event per (unit, subject) of one obligation and period. The
/// outer scan and the correlated max() both seek `events_current`.
/// Aggregated into one JSON document (see `row::current_from_json`).
pub(super) const CURRENT_JSON: &str = "SELECT coalesce(json_group_array(json_array(e.id, \
     e.unit_id, e.subject, e.action, e.received_on, e.received_at, e.reference, e.due_on, \
     e.note, e.actor, e.source, e.recorded_at)), '[]') \
     FROM events e WHERE e.obligation_id = ?1 AND e.period_key = ?2 \
     AND e.id = (SELECT max(x.id) FROM events x \
                 WHERE x.obligation_id = e.obligation_id AND x.period_key = e.period_key \
                   AND x.unit_id = e.unit_id AND x.subject = e.subject)";

/// The `facts` read of periods of one obligation (`?2`: a JSON array of
/// period keys): the latest event per (period, unit, subject) by SQLite's
/// bare-column `max(id)` (the other columns come from the row holding the
/// maximum), revocations dropped, only the columns status needs,
/// aggregated into one JSON document. One scan of the covering
/// `events_current` range per period, grouped in index order; one
/// statement for a daily report's year of periods, not one per period.
pub(super) const FACTS_JSON: &str = "SELECT coalesce(json_group_array(json_array(period_key, \
     unit_id, subject, received_on, reference, due_on)), '[]') FROM (\
     SELECT period_key, unit_id, subject, action, received_on, reference, due_on, max(id) \
     FROM events WHERE obligation_id = ?1 \
     AND period_key IN (SELECT value FROM json_each(?2)) \
     GROUP BY period_key, unit_id, subject) \
     WHERE action <> 'revoke'";

/// Keeps an event `e` only if it is the latest of its unit and subject
/// (a macro, for `concat!`).
macro_rules! latest_of_unit_and_subject {
    () => {
        " AND e.id = (SELECT max(x.id) FROM events x \
         WHERE x.obligation_id = e.obligation_id AND x.period_key = e.period_key \
         AND x.unit_id = e.unit_id AND x.subject = e.subject)"
    };
}

/// The latest submission event of every unit of one obligation and period.
pub(super) const CURRENT_SUBMISSIONS: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events e WHERE e.obligation_id = ?1 AND e.period_key = ?2 AND e.subject = 'submission'",
    latest_of_unit_and_subject!()
);

/// The latest event per subject of one (obligation, period, unit).
pub(super) const CURRENT_FOR: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events e WHERE e.obligation_id = ?1 AND e.period_key = ?2 AND e.unit_id = ?3",
    latest_of_unit_and_subject!()
);

/// Leases due rows (see [`Db::claim`]); `$kind` filters further. Under
/// `BEGIN IMMEDIATE` no other writer runs between the select and the update.
macro_rules! claim {
    ($kind:literal) => {
        sql!(concat!(
            "UPDATE outbox SET status = 'sending', lease_owner = $3, lease_until = $4, \
             attempts = attempts + 1, updated_at = $1 \
             WHERE id IN (SELECT id FROM outbox WHERE ",
            due_rows!(),
            $kind,
            " ORDER BY next_attempt_at, id LIMIT $2) RETURNING ",
            outbox_columns!()
        ))
        .sqlite()
    };
}

const CLAIM: &str = claim!("");
const CLAIM_EXCEPT_ESCALATIONS: &str = claim!(" AND kind <> 'escalation'");
/// The waiting overdue notices of one (unit, obligation, recipient) whose
/// time has come: `$5`, `$6`, `$7`; one seek in `outbox_late_pending`.
const CLAIM_LATE_PERIODS: &str = sql!(concat!(
    "UPDATE outbox SET status = 'sending', lease_owner = $3, lease_until = $4, \
     attempts = attempts + 1, updated_at = $1 \
     WHERE id IN (SELECT id FROM outbox INDEXED BY outbox_late_pending \
     WHERE status = 'pending' AND kind = 'overdue' AND unit_id = $5 \
     AND obligation_id = $6 AND recipient = $7 AND next_attempt_at <= $1 \
     ORDER BY next_attempt_at, id LIMIT $2) RETURNING ",
    outbox_columns!()
))
.sqlite();

/// An SQLite database. Cloning shares the pool (and the writer).
#[derive(Debug, Clone)]
pub(super) struct Db {
    pub(super) pool: SqlitePool,
    /// File databases: one connection outside the pool for the
    /// dispatcher's one-row records (one per message sent). A pooled query
    /// costs more: sqlx pings the connection on its worker thread on every
    /// release (a second round trip); this one is a single round trip.
    writer: Option<Arc<tokio::sync::Mutex<Writer>>>,
}

/// `query.method(executor).await?` on the writer connection when there is
/// one (dropped after an error, so the next call opens a fresh one), else
/// on the pool.
macro_rules! on_writer {
    ($db:ident, $query:ident . $method:ident) => {
        match &$db.writer {
            Some(writer) => {
                let mut writer = writer.lock().await;
                let done = $query.$method(writer.connection().await?).await;
                if done.is_err() {
                    writer.conn = None;
                }
                done?
            }
            None => $query.$method(&$db.pool).await?,
        }
    };
}

/// The lazily opened writer connection and how to open it again.
#[derive(Debug)]
struct Writer {
    options: SqliteConnectOptions,
    conn: Option<SqliteConnection>,
}

impl Writer {
    async fn connection(&mut self) -> Result<&mut SqliteConnection, StoreError> {
        match &mut self.conn {
            Some(conn) => Ok(conn),
            slot => {
                let conn = sqlx::ConnectOptions::connect(&self.options).await?;
                Ok(slot.insert(conn))
            }
        }
    }
}

impl Db {
    /// Opens `sqlite://PATH` (creating the file and its directory) or
    /// `sqlite::memory:` (one connection, for throwaway use), and migrates.
    pub(super) async fn open(url: &str) -> Result<Db, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Open(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        // A second connection to :memory: would be another database.
        let writer = (!in_memory).then(|| {
            Arc::new(tokio::sync::Mutex::new(Writer {
                options: options.clone(),
                conn: None,
            }))
        });
        if !in_memory {
            let file = options.get_filename();
            // A database a newer hanbao migrated is refused before anything
            // touches it (the pool below sets the journal mode).
            if std::fs::metadata(file).is_ok_and(|m| m.len() > 0) {
                let probe = super::Store {
                    backend: super::Backend::Sqlite(Db::open_read_only_file(file, true).await?),
                };
                let refused = super::schema::refuse_newer(&probe).await;
                probe.close().await;
                refused?;
            }
            create_private(file)?;
        }
        let pool = if in_memory {
            // Each connection to :memory: is its own database: keep exactly one.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
        } else {
            SqlitePoolOptions::new()
                .max_connections(8)
                // At least one connection stays open, so that another
                // process sees the file in use (`backup::sqlite_in_use`:
                // `hanbao restore` refuses to replace it under a daemon).
                .min_connections(1)
                .acquire_timeout(BUSY_TIMEOUT + Duration::from_secs(5))
                // A file connection does not go stale like a network one:
                // no ping (a round trip to the connection's worker thread)
                // before every query.
                .test_before_acquire(false)
                .connect_with(options)
                .await
        }
        .map_err(|e| StoreError::Open(e.to_string()))?;
        let migrator = migrations!("sqlite");
        migrator.run(&pool).await.map_err(StoreError::Migrate)?;
        Ok(Db { pool, writer })
    }

    /// Opens the file of `url` read-only, as it is: no migration, no
    /// journal mode set, nothing created (a missing file is an error).
    /// `untouched`: see [`Db::open_read_only_file`].
    pub(super) async fn open_read_only(url: &str, untouched: bool) -> Result<Db, StoreError> {
        let options =
            SqliteConnectOptions::from_str(url).map_err(|e| StoreError::Open(e.to_string()))?;
        Db::open_read_only_file(options.get_filename(), untouched).await
    }

    /// `untouched`: when no other process has the file in WAL mode (no
    /// `-wal` beside it), open it immutable, creating no `-wal` or `-shm`
    /// (a check of a backup, the refusal of a newer schema). Not for a
    /// backup: immutable means unlocked, and a daemon starting meanwhile
    /// would not be seen.
    async fn open_read_only_file(file: &Path, untouched: bool) -> Result<Db, StoreError> {
        if !file.is_file() {
            return Err(StoreError::Open(format!(
                "{} does not exist or is not a file",
                file.display()
            )));
        }
        // Without a WAL file (closed cleanly, or never in WAL mode), the
        // main file is the whole database: opened immutable, SQLite creates
        // no `-wal` or `-shm` beside it, so the directory is left exactly as
        // it was. With one, it is read as well (a read-only connection).
        let wal = Path::new(&format!("{}-wal", file.display())).exists();
        let untouched = untouched && !wal;
        let options = SqliteConnectOptions::new()
            .filename(file)
            .read_only(true)
            .immutable(untouched)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open(e.to_string()))?;
        Ok(Db { pool, writer: None })
    }

    /// What `PRAGMA integrity_check` and `PRAGMA foreign_key_check` find,
    /// one line each (nothing when the database is sound).
    pub(super) async fn integrity_problems(&self) -> Result<Vec<String>, StoreError> {
        use super::schema::MAX_INTEGRITY_LINES;
        let limit = format!("PRAGMA integrity_check({MAX_INTEGRITY_LINES})");
        let mut lines: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(limit))
            .fetch_all(&self.pool)
            .await?;
        lines.retain(|l| l != "ok");
        let foreign: Vec<(String, Option<i64>, String, i64)> =
            sqlx::query_as("PRAGMA foreign_key_check")
                .fetch_all(&self.pool)
                .await?;
        lines.extend(foreign.into_iter().take(MAX_INTEGRITY_LINES).map(
            |(table, row, parent, _)| {
                format!(
                    "{table}: row {} refers to a missing row of {parent}",
                    row.unwrap_or(0)
                )
            },
        ));
        Ok(lines)
    }

    /// Whether another connection has `file` open: an exclusive lock (no
    /// waiting) cannot be taken. In WAL mode every open connection keeps a
    /// shared lock, idle or not, so a running daemon is seen. Nothing is
    /// written.
    pub(super) async fn in_use(file: &Path) -> Result<bool, StoreError> {
        use sqlx::ConnectOptions as _;
        let options = SqliteConnectOptions::new()
            .filename(file)
            .locking_mode(sqlx::sqlite::SqliteLockingMode::Exclusive)
            .busy_timeout(Duration::ZERO);
        let mut conn = options
            .connect()
            .await
            .map_err(|e| StoreError::Open(e.to_string()))?;
        let busy = match sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await {
            Ok(_) => {
                sqlx::query("ROLLBACK").execute(&mut conn).await?;
                false
            }
            Err(sqlx::Error::Database(e)) if is_busy(e.code().as_deref()) => true,
            Err(e) => return Err(e.into()),
        };
        sqlx::Connection::close(conn).await?;
        Ok(busy)
    }

    /// Writes a consistent copy of the database into `dest` (which must
    /// not exist or be empty) with `VACUUM INTO`: one read transaction, so
    /// the copy is the database as of one instant while writers go on
    /// (WAL: a reader blocks no writer).
    pub(super) async fn vacuum_into(&self, dest: &Path) -> Result<(), StoreError> {
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::Open(format!("{} is not UTF-8", dest.display())))?;
        sqlx::query("VACUUM INTO ?1")
            .bind(dest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The size of the database in bytes (pages × page size).
    pub(super) async fn size(&self) -> Result<u64, StoreError> {
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&self.pool)
            .await?;
        let page: i64 = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(pages.saturating_mul(page)).unwrap_or(0))
    }

    /// This dialect's text of `query`.
    pub(super) fn sql(&self, query: &Sql) -> &'static str {
        query.sqlite()
    }

    /// A transaction that appends to `events`: `BEGIN IMMEDIATE` takes the
    /// database's write lock before the first read.
    pub(super) async fn begin_append(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.begin_write().await
    }

    /// A write transaction (outbox, imports): `BEGIN IMMEDIATE`, so it
    /// never has to upgrade a read lock.
    pub(super) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Runs one autocommitted statement on the writer connection (the pool
    /// for `:memory:`).
    pub(super) async fn execute_one(
        &self,
        query: Query<'_, Sqlite, SqliteArguments>,
    ) -> Result<SqliteQueryResult, StoreError> {
        let db = self;
        Ok(on_writer!(db, query.execute))
    }

    /// Leases due rows to `owner` in one `BEGIN IMMEDIATE` transaction:
    /// pending rows whose time has come, rows whose lease ended, and this
    /// owner's own `sending` rows from an earlier run (a run that failed
    /// before recording them). Without `escalations`, escalation rows are
    /// left for the leader.
    pub(super) async fn claim(&self, c: &Claim<'_>) -> Result<Vec<OutboxDbRow>, StoreError> {
        let mut tx = self.begin_write().await?;
        let got = claim_query!(c, CLAIM, CLAIM_EXCEPT_ESCALATIONS)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(got)
    }

    pub(super) async fn claim_late_periods(
        &self,
        c: &Claim<'_>,
        groups: &[LateGroup],
    ) -> Result<Vec<OutboxDbRow>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut got = Vec::new();
        for g in groups {
            let rows = claim_query!(c, CLAIM_LATE_PERIODS, CLAIM_LATE_PERIODS)
                .bind(&g.unit)
                .bind(&g.obligation)
                .bind(&g.recipient)
                .fetch_all(&mut *tx)
                .await?;
            got.extend(rows);
        }
        tx.commit().await?;
        Ok(got)
    }

    /// Records a few results in one autocommitted statement on the writer
    /// connection: `UPDATE … FROM (VALUES …)`, one row of parameters per
    /// result. Returns the ids updated.
    pub(super) async fn finish_listed(&self, owner: &str, rows: Listed<'_>, now: Timestamp) -> Ids {
        let values = (0..rows.len())
            .map(|i| {
                let p = 3 + 5 * i;
                format!("(?{}, ?{}, ?{}, ?{}, ?{})", p, p + 1, p + 2, p + 3, p + 4)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE outbox SET status = v.column2, last_error = v.column3, \
             message_id = coalesce(v.column4, outbox.message_id), \
             next_attempt_at = coalesce(v.column5, outbox.next_attempt_at), \
             sent_at = CASE WHEN v.column2 = 'sent' THEN ?1 ELSE outbox.sent_at END, \
             lease_owner = NULL, lease_until = NULL, updated_at = ?1 \
             FROM (VALUES {values}) AS v \
             WHERE outbox.id = v.column1 AND outbox.lease_owner = ?2 \
             AND outbox.status = 'sending' RETURNING id"
        );
        let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
            .bind(now.as_second())
            .bind(owner);
        for (id, outcome) in rows {
            let (status, error, message_id, next) = ob::outcome_columns(outcome);
            query = query
                .bind(*id)
                .bind(status)
                .bind(error)
                .bind(message_id)
                .bind(next);
        }
        let db = self;
        Ok(on_writer!(db, query.fetch_all))
    }

    /// `EXPLAIN QUERY PLAN` of `sql` for one `[obligation, period]`, one
    /// line per node.
    pub(super) async fn explain(
        &self,
        sql: &str,
        key: [&str; 2],
    ) -> Result<Vec<String>, StoreError> {
        let sql = format!("EXPLAIN QUERY PLAN {sql}");
        let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(key[0])
            .bind(key[1])
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(_, _, _, detail)| detail).collect())
    }

    /// One process per SQLite file: always the leader.
    pub(super) fn leader_lock(&self) -> LeaderLock {
        LeaderLock::Single
    }

    /// Closes the writer connection and the pool.
    pub(super) async fn close(&self) {
        if let Some(writer) = &self.writer
            && let Some(conn) = writer.lock().await.conn.take()
        {
            let _ = sqlx::Connection::close(conn).await;
        }
        self.pool.close().await;
    }
}

/// Creates the database file (mode 0600) and its missing directories (mode
/// 0700), whatever the umask, before SQLite opens it: SQLite would create
/// the file 0644 less the umask, readable by every account outside systemd
/// (whose unit sets `UMask=0027`). The -wal and -shm files SQLite creates
/// later take the database file's mode. An existing file or directory is
/// left as it is.
/// SQLITE_BUSY or SQLITE_LOCKED, with or without an extended code.
fn is_busy(code: Option<&str>) -> bool {
    code.and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

fn create_private(path: &Path) -> Result<(), StoreError> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        create_private_dirs(dir).map_err(|e| {
            StoreError::Open(format!("cannot create directory {}: {e}", dir.display()))
        })?;
    }
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        // The mode given to open(2) is narrowed by the umask: set it exactly.
        Ok(file) => file.set_permissions(Permissions::from_mode(0o600)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
    .map_err(|e| StoreError::Open(format!("cannot create {}: {e}", path.display())))
}

/// `create_dir_all` with mode 0700 for every directory it creates: the
/// state directory holds the database, the link key and the mail written
/// as files, none of which another account needs.
fn create_private_dirs(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent()
        && !parent.as_os_str().is_empty()
    {
        create_private_dirs(parent)?;
    }
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => std::fs::set_permissions(dir, Permissions::from_mode(0o700)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::super::{HistoryFilter, Key, NewSubmission, Records as _, Source};
    use super::*;

    /// The append-only rule holds even for SQL that bypasses the store.
    #[tokio::test]
    async fn events_cannot_be_updated_or_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/h.db", dir.path().display());
        let store = super::super::open(&url).await.unwrap();
        let s = NewSubmission {
            key: Key::new("o", "p", "u"),
            received_on: jiff::civil::date(2026, 1, 5),
            received_at: None,
            reference: None,
            note: None,
            actor: "a".into(),
            source: Source::Cli,
            correction: false,
        };
        store
            .record_submission(s, Timestamp::UNIX_EPOCH)
            .await
            .unwrap();
        let db = Db::open(&url).await.unwrap();
        for sql in ["UPDATE events SET actor = 'b'", "DELETE FROM events"] {
            let err = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&db.pool)
                .await
                .unwrap_err();
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        assert_eq!(
            store
                .history(&HistoryFilter::default())
                .await
                .unwrap()
                .len(),
            1
        );
    }
}
