//! The PostgreSQL backend, for deployments that outgrow one server. Only
//! what PostgreSQL does differently lives here; the queries both dialects
//! share are written once in `records`, `outbox` and `tokens`.
//!
//! Every transaction that appends to `events` first takes `LOCK TABLE
//! events IN SHARE ROW EXCLUSIVE MODE`: writers to `events` queue one
//! behind the other (readers are never blocked), so "read what is in
//! effect, then append" cannot race with another instance, ids follow
//! commit order, and a single lock cannot deadlock. Writes are human-rate,
//! so serialising them costs nothing. Outbox rows are claimed with `FOR
//! UPDATE SKIP LOCKED`: several instances claim side by side without
//! waiting for each other.
//!
//! Here: connecting and migrations, the write lock, claiming, the current
//! state aggregated with `json_agg`, the latest event per (unit, subject)
//! by `DISTINCT ON`, the bulk finish as `UPDATE … FROM unnest(…)`, a list
//! of units read by `json_array_elements_text`, `EXPLAIN`, the
//! leadership lock's connection options, and the fold of the outbox
//! tally's changes (`outbox_tally_delta`, which SQLite does not have).
//!
//! Must not: read the clock, or write anything but appends to `events`,
//! outbox claims and finishes, and the tally's fold.

use std::str::FromStr as _;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgQueryResult};
use sqlx::query::Query;
use sqlx::{Postgres, Transaction};

use super::StoreError;
use super::leader::LeaderLock;
use super::outbox::{
    self as ob, Claim, Ids, LateGroup, Listed, OutboxDbRow, claim_query, due_rows, outbox_columns,
};
use super::row::event_columns;
use super::sql::{Sql, sql};

/// The latest event per (unit, subject) of one obligation and period: one
/// backward scan of the `events_current` range (the planner may sort
/// instead once statistics say so). Aggregated into one JSON document (see
/// `row::current_from_json`).
pub(super) const CURRENT_JSON: &str = concat!(
    "SELECT coalesce(json_agg(json_build_array(id, unit_id, subject, action, received_on, \
     received_at, reference, due_on, note, actor, source, recorded_at)), '[]')::text FROM (",
    "SELECT DISTINCT ON (unit_id, subject) ",
    event_columns!(),
    " FROM events WHERE obligation_id = $1 AND period_key = $2 \
     ORDER BY unit_id DESC, subject DESC, id DESC",
    ") latest"
);

/// The `facts` read of periods of one obligation (`$2`: a JSON array of
/// period keys): the latest event per (period, unit, subject) by DISTINCT
/// ON over the `events_current` ranges (whose INCLUDE columns allow an
/// index-only scan), revocations dropped, only the columns status needs,
/// aggregated into one JSON document.
pub(super) const FACTS_JSON: &str = "SELECT coalesce(json_agg(json_build_array(period_key, \
     unit_id, subject, received_on, reference, due_on)), '[]')::text FROM (\
     SELECT DISTINCT ON (period_key, unit_id, subject) period_key, unit_id, subject, action, \
            received_on, reference, due_on \
     FROM events WHERE obligation_id = $1 \
     AND period_key = ANY(ARRAY(SELECT jsonb_array_elements_text($2::jsonb))) \
     ORDER BY period_key DESC, unit_id DESC, subject DESC, id DESC) latest \
     WHERE action <> 'revoke'";

/// The latest submission event of every unit of one obligation and period.
pub(super) const CURRENT_SUBMISSIONS: &str = concat!(
    "SELECT DISTINCT ON (unit_id) ",
    event_columns!(),
    " FROM events WHERE obligation_id = $1 AND period_key = $2 AND subject = 'submission' \
     ORDER BY unit_id DESC, id DESC"
);

/// The latest event per subject of one (obligation, period, unit).
pub(super) const CURRENT_FOR: &str = concat!(
    "SELECT DISTINCT ON (subject) ",
    event_columns!(),
    " FROM events WHERE obligation_id = $1 AND period_key = $2 AND unit_id = $3 \
     ORDER BY subject DESC, id DESC"
);

const WRITE_LOCK: &str = "LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE";

/// Leases due rows (see [`Db::claim`]); `$kind` filters further. Rows
/// another transaction has locked are skipped, not waited for.
macro_rules! claim {
    ($kind:literal) => {
        sql!(concat!(
            "WITH due AS (SELECT id AS due_id FROM outbox WHERE ",
            due_rows!(),
            $kind,
            " ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) \
             UPDATE outbox SET status = 'sending', lease_owner = $3, lease_until = $4, \
             attempts = attempts + 1, updated_at = $1 \
             FROM due WHERE id = due.due_id RETURNING ",
            outbox_columns!()
        ))
        .postgres()
    };
}

const CLAIM: &str = claim!("");
const CLAIM_EXCEPT_ESCALATIONS: &str = claim!(" AND kind <> 'escalation'");
/// The waiting overdue notices of one (unit, obligation, recipient) whose
/// time has come: `$5`, `$6`, `$7` (the partial index `outbox_late_pending`).
const CLAIM_LATE_PERIODS: &str = sql!(concat!(
    "WITH due AS (SELECT id AS due_id FROM outbox \
     WHERE status = 'pending' AND kind = 'overdue' AND unit_id = $5 \
     AND obligation_id = $6 AND recipient = $7 AND next_attempt_at <= $1 \
     ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) \
     UPDATE outbox SET status = 'sending', lease_owner = $3, lease_until = $4, \
     attempts = attempts + 1, updated_at = $1 \
     FROM due WHERE id = due.due_id RETURNING ",
    outbox_columns!()
))
.postgres();

/// The bulk finish: one row of `v` per result, from five arrays.
const FINISH_LISTED: &str = "UPDATE outbox AS o SET status = v.status, last_error = v.error, \
     message_id = coalesce(v.message_id, o.message_id), \
     next_attempt_at = coalesce(v.next, o.next_attempt_at), \
     sent_at = CASE WHEN v.status = 'sent' THEN $7 ELSE o.sent_at END, \
     lease_owner = NULL, lease_until = NULL, updated_at = $7 \
     FROM unnest($1::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[]) \
         AS v(id, status, error, message_id, next) \
     WHERE o.id = v.id AND o.lease_owner = $2 AND o.status = 'sending' \
     RETURNING o.id";

/// The advisory lock a fold of the outbox's tally holds for its
/// transaction: "hanbao" in ASCII, then 2 (the leader's is 1).
const TALLY_FOLD_LOCK_KEY: i64 = 0x6861_6e62_616f_0002;

/// About how many changes wait to be folded: the span of their ids (two
/// seeks in the primary key; gaps from rolled-back statements count too).
const TALLY_DELTAS: &str =
    "SELECT CAST(COALESCE(max(id) - min(id) + 1, 0) AS BIGINT) FROM outbox_tally_delta";

const TALLY_FOLD_LOCK: &str = "SELECT pg_try_advisory_xact_lock($1)";

/// Deletes every change this transaction sees and adds them, per (status,
/// kind), to `outbox_tally`, in one statement: a reader sees the changes
/// either still in `outbox_tally_delta` or already in `outbox_tally`,
/// never both or neither. Returns how many changes were folded. Changes
/// of transactions not committed yet are not seen, and stay to the next
/// fold.
const TALLY_FOLD: &str = "WITH folded AS (\
     DELETE FROM outbox_tally_delta RETURNING status, kind, rows, attempts, attempted), \
     added AS (INSERT INTO outbox_tally (status, kind, rows, attempts, attempted) \
     SELECT status, kind, CAST(SUM(rows) AS BIGINT), CAST(SUM(attempts) AS BIGINT), \
     CAST(SUM(attempted) AS BIGINT) FROM folded GROUP BY status, kind \
     ON CONFLICT (status, kind) DO UPDATE SET rows = outbox_tally.rows + excluded.rows, \
     attempts = outbox_tally.attempts + excluded.attempts, \
     attempted = outbox_tally.attempted + excluded.attempted) \
     SELECT CAST(COUNT(*) AS BIGINT) FROM folded";

/// A PostgreSQL database. Cloning shares the pool.
#[derive(Debug, Clone)]
pub(super) struct Db {
    pub(super) pool: PgPool,
}

impl Db {
    /// Connects to `postgres://...` (the database must exist) and migrates;
    /// concurrent instances migrating at once are serialised by sqlx's
    /// advisory lock.
    pub(super) async fn open(url: &str) -> Result<Db, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .map_err(|e| StoreError::Open(e.to_string()))?;
        // A database a newer hanbao migrated is refused before the
        // migrator takes its lock or creates its table.
        let probe = super::Store {
            backend: super::Backend::Postgres(Db { pool: pool.clone() }),
        };
        if let Err(e) = super::schema::refuse_newer(&probe).await {
            pool.close().await;
            return Err(e);
        }
        migrations!("postgres")
            .run(&pool)
            .await
            .map_err(StoreError::Migrate)?;
        Ok(Db { pool })
    }

    /// Connects to `url` for reading only (every transaction read-only),
    /// without migrating.
    pub(super) async fn open_read_only(url: &str) -> Result<Db, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Open(e.to_string()))?
            .options([("default_transaction_read_only", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open(e.to_string()))?;
        Ok(Db { pool })
    }

    /// This dialect's text of `query`.
    pub(super) fn sql(&self, query: &Sql) -> &'static str {
        query.postgres()
    }

    /// A transaction that appends to `events`, holding the table's write
    /// lock (see the module docs).
    pub(super) async fn begin_append(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(WRITE_LOCK).execute(&mut *tx).await?;
        Ok(tx)
    }

    /// A write transaction (outbox): rows are locked as they are written.
    pub(super) async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// Runs one autocommitted statement on the pool.
    pub(super) async fn execute_one(
        &self,
        query: Query<'_, Postgres, PgArguments>,
    ) -> Result<PgQueryResult, StoreError> {
        Ok(query.execute(&self.pool).await?)
    }

    /// Leases due rows to `owner`: pending rows whose time has come, rows
    /// whose lease ended, and this owner's own `sending` rows from an
    /// earlier run (a run that failed before recording them). Rows another
    /// instance has locked are skipped, not waited for: two dispatchers
    /// never claim the same row and never block each other. Without
    /// `escalations`, escalation rows are left for the leader.
    pub(super) async fn claim(&self, c: &Claim<'_>) -> Result<Vec<OutboxDbRow>, StoreError> {
        let query = claim_query!(c, CLAIM, CLAIM_EXCEPT_ESCALATIONS);
        Ok(query.fetch_all(&self.pool).await?)
    }

    pub(super) async fn claim_late_periods(
        &self,
        c: &Claim<'_>,
        groups: &[LateGroup],
    ) -> Result<Vec<OutboxDbRow>, StoreError> {
        let mut tx = self.pool.begin().await?;
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

    /// Records a few results in one autocommitted statement: `UPDATE …
    /// FROM unnest(…)` over one array per column. Returns the ids updated.
    pub(super) async fn finish_listed(&self, owner: &str, rows: Listed<'_>, now: Timestamp) -> Ids {
        let mut ids = Vec::with_capacity(rows.len());
        let mut statuses = Vec::with_capacity(rows.len());
        let mut errors = Vec::with_capacity(rows.len());
        let mut message_ids = Vec::with_capacity(rows.len());
        let mut nexts = Vec::with_capacity(rows.len());
        for (id, outcome) in rows {
            let (status, error, message_id, next) = ob::outcome_columns(outcome);
            ids.push(*id);
            statuses.push(status);
            errors.push(error);
            message_ids.push(message_id);
            nexts.push(next);
        }
        Ok(sqlx::query_scalar(FINISH_LISTED)
            .bind(&ids)
            .bind(owner)
            .bind(&statuses)
            .bind(&errors)
            .bind(&message_ids)
            .bind(&nexts)
            .bind(now.as_second())
            .fetch_all(&self.pool)
            .await?)
    }

    /// Folds the tally's changes when about `at_least` wait (see
    /// `Outbox::fold_outbox_tally`); 0 when fewer wait, or another fold
    /// holds the lock.
    pub(super) async fn fold_tally(&self, at_least: u64) -> Result<u64, StoreError> {
        let waiting: i64 = sqlx::query_scalar(TALLY_DELTAS)
            .fetch_one(&self.pool)
            .await?;
        let waiting = u64::try_from(waiting).unwrap_or(0);
        if waiting == 0 || waiting < at_least {
            return Ok(0);
        }
        let mut tx = self.pool.begin().await?;
        let locked: bool = sqlx::query_scalar(TALLY_FOLD_LOCK)
            .bind(TALLY_FOLD_LOCK_KEY)
            .fetch_one(&mut *tx)
            .await?;
        if !locked {
            return Ok(0);
        }
        let folded: i64 = sqlx::query_scalar(TALLY_FOLD).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(u64::try_from(folded).unwrap_or(0))
    }

    /// `EXPLAIN` of `sql` for one `[obligation, period]`, one line per
    /// plan line.
    pub(super) async fn explain(
        &self,
        sql: &str,
        key: [&str; 2],
    ) -> Result<Vec<String>, StoreError> {
        let sql = format!("EXPLAIN {sql}");
        let lines = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(key[0])
            .bind(key[1])
            .fetch_all(&self.pool)
            .await?;
        Ok(lines)
    }

    /// The advisory lock on a session of its own (see `store::leader`).
    pub(super) fn leader_lock(&self) -> LeaderLock {
        LeaderLock::postgres((*self.pool.connect_options()).clone())
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }
}
