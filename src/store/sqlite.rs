//! The SQLite backend: the embedded default.
//!
//! The file and its directory are created on first use; WAL lets readers
//! run beside the one writer; a busy timeout makes a writer wait for the
//! lock (held by another task or process) instead of failing. Every write is
//! a `BEGIN IMMEDIATE` transaction: it takes the write lock before reading,
//! so two writers can never deadlock upgrading read locks.
//!
//! Must not: read the clock, or write anything but appends to `events`.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::decide::{self, Decision};
use super::outbox::{self as ob, OUTBOX_COLUMNS, OutboxDbRow};
use super::row::{self, Bind, EventRow};
use super::tokens::{NewToken, Token};
use super::{
    AppliedMigration, CurrentState, EnqueueReport, Event, Facts, HistoryFilter, ImportReport, Key,
    KnownIds, NewExtension, NewOutboxRow, NewSubmission, NewWaiver, OutboxRow, OutboxStatus,
    Outcome, Recorded, Revocation, Store, StoreError, Subject,
};

/// How long a writer waits for another writer (task or process) before
/// giving up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Rows per multi-row INSERT (13 parameters each, well under SQLite's
/// 32766-parameter limit).
const INSERT_CHUNK: usize = 1000;

macro_rules! columns {
    () => {
        "id, obligation_id, period_key, unit_id, subject, action, received_on, received_at, \
         reference, due_on, note, actor, source, recorded_at"
    };
}

/// The latest event per (unit, subject) of one obligation and period. The
/// outer scan and the correlated max() both seek `events_current`.
/// Aggregated into one JSON document (see `row::current_from_json`).
const CURRENT_JSON: &str = "SELECT coalesce(json_group_array(json_array(e.id, e.unit_id, \
     e.subject, e.action, e.received_on, e.received_at, e.reference, e.due_on, e.note, e.actor, \
     e.source, e.recorded_at)), '[]') \
     FROM events e WHERE e.obligation_id = ?1 AND e.period_key = ?2 \
     AND e.id = (SELECT max(x.id) FROM events x \
                 WHERE x.obligation_id = e.obligation_id AND x.period_key = e.period_key \
                   AND x.unit_id = e.unit_id AND x.subject = e.subject)";

/// The `facts` read of one (obligation, period): the latest event per
/// (unit, subject) by SQLite's bare-column `max(id)` (the other columns come
/// from the row holding the maximum), revocations dropped, only the columns
/// status needs, aggregated into one JSON document. One scan of the
/// covering `events_current` range, grouped in index order.
const FACTS_JSON: &str = "SELECT coalesce(json_group_array(json_array(unit_id, subject, \
     received_on, reference, due_on)), '[]') FROM (\
     SELECT unit_id, subject, action, received_on, reference, due_on, max(id) \
     FROM events WHERE obligation_id = ?1 AND period_key = ?2 \
     GROUP BY unit_id, subject) \
     WHERE action <> 'revoke'";

const CURRENT_SUBMISSIONS: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM events e WHERE e.obligation_id = ?1 AND e.period_key = ?2 AND e.subject = 'submission' \
     AND e.id = (SELECT max(x.id) FROM events x \
                 WHERE x.obligation_id = e.obligation_id AND x.period_key = e.period_key \
                   AND x.unit_id = e.unit_id AND x.subject = e.subject)"
);

const CURRENT_FOR: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM events e WHERE e.obligation_id = ?1 AND e.period_key = ?2 AND e.unit_id = ?3 \
     AND e.id = (SELECT max(x.id) FROM events x \
                 WHERE x.obligation_id = e.obligation_id AND x.period_key = e.period_key \
                   AND x.unit_id = e.unit_id AND x.subject = e.subject)"
);

const LATEST: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM events WHERE obligation_id = ?1 AND period_key = ?2 AND unit_id = ?3 AND subject = ?4 \
     ORDER BY id DESC LIMIT 1"
);

const INSERT: &str = "INSERT INTO events (obligation_id, period_key, unit_id, subject, action, \
     received_on, received_at, reference, due_on, note, actor, source, recorded_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING id";

fn migrator() -> sqlx::migrate::Migrator {
    super::migrator(&[
        (
            1,
            "events",
            include_str!("../../migrations/sqlite/0001_events.sql"),
        ),
        (
            2,
            "outbox",
            include_str!("../../migrations/sqlite/0002_outbox.sql"),
        ),
        (
            3,
            "events current covering",
            include_str!("../../migrations/sqlite/0003_events_current_covering.sql"),
        ),
        (
            4,
            "tokens",
            include_str!("../../migrations/sqlite/0004_tokens.sql"),
        ),
    ])
}

const OUTBOX_INSERT: &str = "INSERT INTO outbox (obligation_id, period_key, unit_id, kind, stage, \
     recipient, rank, due_on, status, next_attempt_at, created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) ON CONFLICT DO NOTHING";

const OUTBOX_SUPERSEDE: &str = "UPDATE outbox SET status = 'cancelled', \
     last_error = 'superseded by ' || ?5, updated_at = ?6 \
     WHERE obligation_id = ?1 AND period_key = ?2 AND unit_id = ?3 \
     AND status = 'pending' AND rank < ?4";

const OUTBOX_FINISH: &str = "UPDATE outbox SET status = ?3, last_error = ?4, \
     message_id = coalesce(?5, message_id), next_attempt_at = coalesce(?6, next_attempt_at), \
     sent_at = CASE WHEN ?3 = 'sent' THEN ?7 ELSE sent_at END, \
     lease_owner = NULL, lease_until = NULL, updated_at = ?7 \
     WHERE id = ?1 AND lease_owner = ?2 AND status = 'sending'";

/// The SQLite store. Cloning shares the pool (and the writer).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// File databases: one connection outside the pool for the
    /// dispatcher's one-row `finish_many` (one per message sent). A pooled
    /// query costs more: sqlx pings the connection on its worker thread on
    /// every release (a second round trip); this one is a single round trip.
    writer: Option<Arc<tokio::sync::Mutex<Writer>>>,
}

/// `query.method(executor).await?` on the writer connection when there is
/// one (dropped after an error, so the next call opens a fresh one), else
/// on the pool.
macro_rules! on_writer {
    ($store:ident, $query:ident . $method:ident) => {
        match &$store.writer {
            Some(writer) => {
                let mut writer = writer.lock().await;
                let done = $query.$method(writer.connection().await?).await;
                if done.is_err() {
                    writer.conn = None;
                }
                done?
            }
            None => $query.$method(&$store.pool).await?,
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

impl SqliteStore {
    /// Leases due rows to `owner` in one `BEGIN IMMEDIATE` transaction:
    /// pending rows whose time has come, rows whose lease ended, and this
    /// owner's own `sending` rows from an earlier run (a run that failed
    /// before recording them). Without `escalations`, escalation rows are
    /// left for the leader.
    async fn claim_rows(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        escalations: bool,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let kind = if escalations {
            ""
        } else {
            " AND kind <> 'escalation'"
        };
        let sql = format!(
            "UPDATE outbox SET status = 'sending', lease_owner = ?3, lease_until = ?4, \
             attempts = attempts + 1, updated_at = ?1 \
             WHERE id IN (SELECT id FROM outbox \
                 WHERE ((status = 'pending' AND next_attempt_at <= ?1) \
                    OR (status = 'sending' AND lease_until <= ?1) \
                    OR (status = 'sending' AND lease_owner = ?3 AND updated_at < ?1)){kind} \
                 ORDER BY next_attempt_at, id LIMIT ?2) \
             RETURNING {OUTBOX_COLUMNS}"
        );
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let got: Vec<OutboxDbRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(now.as_second())
            .bind(i64::from(limit))
            .bind(owner)
            .bind(lease_until.as_second())
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut rows = ob::rows(got)?;
        rows.sort_by_key(|r| (r.next_attempt_at, r.id));
        Ok(rows)
    }

    /// Opens `sqlite://PATH` (creating the file and its directory) or
    /// `sqlite::memory:` (one connection, for throwaway use), and migrates.
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
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
        if !in_memory
            && let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Open(format!("cannot create directory {}: {e}", dir.display()))
            })?;
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
                .acquire_timeout(BUSY_TIMEOUT + Duration::from_secs(5))
                // A file connection does not go stale like a network one:
                // no ping (a round trip to the connection's worker thread)
                // before every query.
                .test_before_acquire(false)
                .connect_with(options)
                .await
        }
        .map_err(|e| StoreError::Open(e.to_string()))?;
        migrator().run(&pool).await.map_err(StoreError::Migrate)?;
        Ok(SqliteStore { pool, writer })
    }

    /// `EXPLAIN QUERY PLAN` of the `current` query, one line per node.
    pub async fn explain_current(
        &self,
        obligation: &str,
        period: &str,
    ) -> Result<Vec<String>, StoreError> {
        let sql = format!("EXPLAIN QUERY PLAN {CURRENT_JSON}");
        let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(obligation)
            .bind(period)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(_, _, _, detail)| detail).collect())
    }

    /// `EXPLAIN QUERY PLAN` of the `facts` query, one line per node.
    pub async fn explain_facts(
        &self,
        pairs: &[(String, String)],
    ) -> Result<Vec<String>, StoreError> {
        let sql = format!("EXPLAIN QUERY PLAN {FACTS_JSON}");
        let (o, p) = pairs.first().cloned().unwrap_or_default();
        let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(o)
            .bind(p)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(_, _, _, detail)| detail).collect())
    }

    async fn write(
        &self,
        key: &Key,
        subject: Subject,
        decide: impl FnOnce(Option<&Event>) -> Result<Decision, StoreError> + Send,
    ) -> Result<Recorded, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let latest = latest(&mut tx, key, subject).await?;
        match decide(latest.as_ref())? {
            Decision::Already(e) => {
                tx.rollback().await?;
                Ok(Recorded::AlreadyRecorded(e))
            }
            Decision::Insert(mut e) => {
                e.id = insert(&mut tx, &e).await?;
                tx.commit().await?;
                Ok(Recorded::New(e))
            }
        }
    }
}

async fn latest(
    conn: &mut SqliteConnection,
    key: &Key,
    subject: Subject,
) -> Result<Option<Event>, StoreError> {
    let row: Option<EventRow> = sqlx::query_as(LATEST)
        .bind(&key.obligation)
        .bind(&key.period)
        .bind(&key.unit)
        .bind(subject.as_str())
        .fetch_optional(conn)
        .await?;
    row.map(Event::try_from).transpose()
}

async fn insert(conn: &mut SqliteConnection, e: &Event) -> Result<i64, StoreError> {
    let b = Bind::of(e);
    let id: i64 = sqlx::query_scalar(INSERT)
        .bind(b.obligation_id)
        .bind(b.period_key)
        .bind(b.unit_id)
        .bind(b.subject)
        .bind(b.action)
        .bind(b.received_on)
        .bind(b.received_at)
        .bind(b.reference)
        .bind(b.due_on)
        .bind(b.note)
        .bind(b.actor)
        .bind(b.source)
        .bind(b.recorded_at)
        .fetch_one(conn)
        .await?;
    Ok(id)
}

async fn insert_many(conn: &mut SqliteConnection, events: &[Event]) -> Result<(), StoreError> {
    for chunk in events.chunks(INSERT_CHUNK) {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("INSERT INTO events ({}) ", row::INSERT_COLUMNS));
        qb.push_values(chunk, |mut v, e| {
            let b = Bind::of(e);
            v.push_bind(b.obligation_id)
                .push_bind(b.period_key)
                .push_bind(b.unit_id)
                .push_bind(b.subject)
                .push_bind(b.action)
                .push_bind(b.received_on)
                .push_bind(b.received_at)
                .push_bind(b.reference)
                .push_bind(b.due_on)
                .push_bind(b.note)
                .push_bind(b.actor)
                .push_bind(b.source)
                .push_bind(b.recorded_at);
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

impl Store for SqliteStore {
    async fn record_submission(
        &self,
        submission: NewSubmission,
        now: Timestamp,
    ) -> Result<Recorded, StoreError> {
        self.write(&submission.key, Subject::Submission, |latest| {
            decide::submission(latest, &submission, now)
        })
        .await
    }

    async fn revoke(&self, revocation: Revocation, now: Timestamp) -> Result<Recorded, StoreError> {
        self.write(&revocation.key, revocation.subject, |latest| {
            decide::revocation(latest, &revocation, now)
        })
        .await
    }

    async fn grant_extension(
        &self,
        extension: NewExtension,
        now: Timestamp,
    ) -> Result<Recorded, StoreError> {
        self.write(&extension.key, Subject::Extension, |latest| {
            decide::extension(latest, &extension, now)
        })
        .await
    }

    async fn grant_waiver(
        &self,
        waiver: NewWaiver,
        now: Timestamp,
    ) -> Result<Recorded, StoreError> {
        self.write(&waiver.key, Subject::Waiver, |latest| {
            decide::waiver(latest, &waiver, now)
        })
        .await
    }

    async fn current(
        &self,
        obligation: &str,
        period: &str,
    ) -> Result<Vec<CurrentState>, StoreError> {
        let json: String = sqlx::query_scalar(CURRENT_JSON)
            .bind(obligation)
            .bind(period)
            .fetch_one(&self.pool)
            .await?;
        row::current_from_json(obligation, period, &json)
    }

    async fn facts(&self, pairs: &[(String, String)]) -> Result<Vec<Facts>, StoreError> {
        super::facts_per_pair(pairs, |o, p| {
            let pool = self.pool.clone();
            async move {
                let json: String = sqlx::query_scalar(FACTS_JSON)
                    .bind(&o)
                    .bind(&p)
                    .fetch_one(&pool)
                    .await?;
                row::facts_from_json(&o, &p, &json)
            }
        })
        .await
    }

    async fn current_for(&self, key: &Key) -> Result<CurrentState, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(CURRENT_FOR)
            .bind(&key.obligation)
            .bind(&key.period)
            .bind(&key.unit)
            .fetch_all(&self.pool)
            .await?;
        let mut state = CurrentState::empty(key.clone());
        for e in row::events(rows)? {
            state.apply_latest(e);
        }
        Ok(state)
    }

    async fn history(&self, filter: &HistoryFilter) -> Result<Vec<Event>, StoreError> {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new(concat!("SELECT ", columns!(), " FROM events WHERE 1 = 1"));
        if let Some(o) = &filter.obligation {
            qb.push(" AND obligation_id = ").push_bind(o.as_str());
        }
        if let Some(p) = &filter.period {
            qb.push(" AND period_key = ").push_bind(p.as_str());
        }
        if let Some(u) = &filter.unit {
            qb.push(" AND unit_id = ").push_bind(u.as_str());
        }
        qb.push(" ORDER BY id");
        let rows: Vec<EventRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        row::events(rows)
    }

    async fn import_submissions(
        &self,
        submissions: Vec<NewSubmission>,
        now: Timestamp,
    ) -> Result<ImportReport, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let pairs: BTreeSet<(&str, &str)> = submissions
            .iter()
            .map(|s| (s.key.obligation.as_str(), s.key.period.as_str()))
            .collect();
        let mut latest = HashMap::new();
        for (obligation, period) in pairs {
            let rows: Vec<EventRow> = sqlx::query_as(CURRENT_SUBMISSIONS)
                .bind(obligation)
                .bind(period)
                .fetch_all(&mut *tx)
                .await?;
            for e in row::events(rows)? {
                latest.insert(e.key.clone(), (e, None));
            }
        }
        let (events, report) = super::plan_import(&mut latest, &submissions, now)?;
        insert_many(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn known_ids(&self) -> Result<KnownIds, StoreError> {
        let obligations: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT obligation_id FROM events")
                .fetch_all(&self.pool)
                .await?;
        let units: Vec<String> = sqlx::query_scalar("SELECT DISTINCT unit_id FROM events")
            .fetch_all(&self.pool)
            .await?;
        Ok(KnownIds {
            obligations: obligations.into_iter().collect(),
            units: units.into_iter().collect(),
        })
    }

    async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT version, description FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(version, description)| AppliedMigration {
                version,
                description,
            })
            .collect())
    }

    async fn enqueue(
        &self,
        rows: Vec<NewOutboxRow>,
        now: Timestamp,
    ) -> Result<EnqueueReport, StoreError> {
        let mut report = EnqueueReport::default();
        if rows.is_empty() {
            return Ok(report);
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for r in &rows {
            let inserted = sqlx::query(OUTBOX_INSERT)
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
                    report.superseded += sqlx::query(OUTBOX_SUPERSEDE)
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
        }
        tx.commit().await?;
        Ok(report)
    }

    async fn claim(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.claim_rows(owner, now, lease_until, limit, true).await
    }

    async fn finish(
        &self,
        id: i64,
        owner: &str,
        outcome: Outcome,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let (status, error, message_id, next) = ob::outcome_columns(&outcome);
        let n = sqlx::query(OUTBOX_FINISH)
            .bind(id)
            .bind(owner)
            .bind(status)
            .bind(error)
            .bind(message_id)
            .bind(next)
            .bind(now.as_second())
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    async fn finish_many(
        &self,
        owner: &str,
        results: Vec<(i64, Outcome)>,
        now: Timestamp,
    ) -> Result<Vec<bool>, StoreError> {
        match results.as_slice() {
            [] => return Ok(Vec::new()),
            // One row: one autocommitted statement (no BEGIN/COMMIT round
            // trips), on the writer connection when there is one.
            [(id, outcome)] => {
                let (status, error, message_id, next) = ob::outcome_columns(outcome);
                let query = sqlx::query(OUTBOX_FINISH)
                    .bind(*id)
                    .bind(owner)
                    .bind(status)
                    .bind(error)
                    .bind(message_id)
                    .bind(next)
                    .bind(now.as_second());
                let n = on_writer!(self, query.execute).rows_affected();
                return Ok(vec![n > 0]);
            }
            rows if ob::one_statement(rows) => {
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
                let updated = on_writer!(self, query.fetch_all);
                return Ok(ob::updated_in_order(rows, &updated));
            }
            _ => {}
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut done = Vec::with_capacity(results.len());
        for (id, outcome) in &results {
            let (status, error, message_id, next) = ob::outcome_columns(outcome);
            let n = sqlx::query(OUTBOX_FINISH)
                .bind(*id)
                .bind(owner)
                .bind(status)
                .bind(error)
                .bind(message_id)
                .bind(next)
                .bind(now.as_second())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            done.push(n > 0);
        }
        tx.commit().await?;
        Ok(done)
    }

    async fn outbox(&self, status: Option<OutboxStatus>) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE ?1 IS NULL OR status = ?1 ORDER BY id"
        );
        let got: Vec<OutboxDbRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(status.map(|s| s.as_str()))
            .fetch_all(&self.pool)
            .await?;
        ob::rows(got)
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
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE obligation_id = ?1 AND period_key = ?2 \
             AND unit_id IN (SELECT value FROM json_each(?3)) \
             AND status IN ('sent', 'pending', 'sending') ORDER BY id"
        );
        let list = serde_json::to_string(units).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let got: Vec<OutboxDbRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(obligation)
            .bind(period)
            .bind(list)
            .fetch_all(&self.pool)
            .await?;
        ob::rows(got)
    }

    async fn outbox_next_due(&self, now: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT min(t) FROM (\
             SELECT min(next_attempt_at) AS t FROM outbox WHERE status = 'pending' AND next_attempt_at > ?1 \
             UNION ALL \
             SELECT min(lease_until) AS t FROM outbox WHERE status = 'sending' AND lease_until > ?1)",
        )
        .bind(now.as_second())
        .fetch_one(&self.pool)
        .await?;
        next.map(|t| {
            Timestamp::from_second(t)
                .map_err(|_| StoreError::Corrupt(format!("outbox instant {t}")))
        })
        .transpose()
    }

    async fn create_token(&self, token: NewToken, now: Timestamp) -> Result<Token, StoreError> {
        super::tokens::sqlite_create(&self.pool, token, now).await
    }

    async fn tokens(&self) -> Result<Vec<Token>, StoreError> {
        super::tokens::sqlite_list(&self.pool).await
    }

    async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<Option<Token>, StoreError> {
        super::tokens::sqlite_revoke(&self.pool, id, now).await
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<Token>, StoreError> {
        super::tokens::sqlite_by_hash(&self.pool, hash).await
    }

    async fn close(&self) {
        if let Some(writer) = &self.writer
            && let Some(conn) = writer.lock().await.conn.take()
        {
            let _ = sqlx::Connection::close(conn).await;
        }
        self.pool.close().await;
    }

    async fn claim_except_escalations(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.claim_rows(owner, now, lease_until, limit, false).await
    }

    /// One process per SQLite file: always the leader.
    fn leader_lock(&self) -> super::LeaderLock {
        super::LeaderLock::Single
    }

    async fn retry_outbox(&self, id: i64, now: Timestamp) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?2, lease_owner = NULL, \
             lease_until = NULL, updated_at = ?2 WHERE id = ?1 AND status = 'failed'",
        )
        .bind(id)
        .bind(now.as_second())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The append-only rule holds even for SQL that bypasses the store.
    #[tokio::test]
    async fn events_cannot_be_updated_or_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/h.db", dir.path().display());
        let store = SqliteStore::open(&url).await.unwrap();
        let s = NewSubmission {
            key: Key::new("o", "p", "u"),
            received_on: jiff::civil::date(2026, 1, 5),
            received_at: None,
            reference: None,
            note: None,
            actor: "a".into(),
            source: super::super::Source::Cli,
            correction: false,
        };
        store
            .record_submission(s, Timestamp::UNIX_EPOCH)
            .await
            .unwrap();
        for sql in ["UPDATE events SET actor = 'b'", "DELETE FROM events"] {
            let err = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&store.pool)
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
