//! The PostgreSQL backend, for deployments that outgrow one server.
//!
//! Every write transaction first takes `LOCK TABLE events IN SHARE ROW
//! EXCLUSIVE MODE`: writers to `events` queue one behind the other (readers
//! are never blocked), so "read what is in effect, then append" cannot race
//! with another instance, ids follow commit order, and a single lock cannot
//! deadlock. Writes are human-rate, so serialising them costs nothing.
//!
//! Must not: read the clock, or write anything but appends to `events`.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use jiff::Timestamp;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::{Postgres, QueryBuilder, Transaction};

use super::decide::{self, Decision};
use super::outbox::{self as ob, OUTBOX_COLUMNS, OutboxDbRow};
use super::row::{self, Bind, EventRow};
use super::tokens::{NewToken, Token};
use super::{
    AppliedMigration, CurrentState, EnqueueReport, Event, Facts, HistoryFilter, ImportReport, Key,
    KnownIds, NewExtension, NewOutboxRow, NewSubmission, NewWaiver, OutboxRow, OutboxStatus,
    Outcome, Recorded, Revocation, Store, StoreError, Subject,
};

/// Rows per multi-row INSERT (13 parameters each, under the 65535 limit).
const INSERT_CHUNK: usize = 2000;

macro_rules! columns {
    () => {
        "id, obligation_id, period_key, unit_id, subject, action, received_on, received_at, \
         reference, due_on, note, actor, source, recorded_at"
    };
}

/// The latest event per (unit, subject) of one obligation and period: one
/// backward scan of the `events_current` range, (the planner may sort instead once
/// statistics say so). Aggregated into one JSON document (see `row::current_from_json`).
const CURRENT_JSON: &str = concat!(
    "SELECT coalesce(json_agg(json_build_array(id, unit_id, subject, action, received_on, \
     received_at, reference, due_on, note, actor, source, recorded_at)), '[]')::text FROM (",
    "SELECT DISTINCT ON (unit_id, subject) ",
    columns!(),
    " FROM events WHERE obligation_id = $1 AND period_key = $2 \
     ORDER BY unit_id DESC, subject DESC, id DESC",
    ") latest"
);

/// The `facts` read of one (obligation, period): the latest event per
/// (unit, subject) by DISTINCT ON over the `events_current` range (whose
/// INCLUDE columns allow an index-only scan), revocations dropped, only the
/// columns status needs, aggregated into one JSON document.
const FACTS_JSON: &str = "SELECT coalesce(json_agg(json_build_array(unit_id, subject, \
     received_on, reference, due_on)), '[]')::text FROM (\
     SELECT DISTINCT ON (unit_id, subject) unit_id, subject, action, received_on, reference, \
            due_on \
     FROM events WHERE obligation_id = $1 AND period_key = $2 \
     ORDER BY unit_id DESC, subject DESC, id DESC) latest \
     WHERE action <> 'revoke'";

const CURRENT_SUBMISSIONS: &str = concat!(
    "SELECT DISTINCT ON (unit_id) ",
    columns!(),
    " FROM events WHERE obligation_id = $1 AND period_key = $2 AND subject = 'submission' \
     ORDER BY unit_id DESC, id DESC"
);

const CURRENT_FOR: &str = concat!(
    "SELECT DISTINCT ON (subject) ",
    columns!(),
    " FROM events WHERE obligation_id = $1 AND period_key = $2 AND unit_id = $3 \
     ORDER BY subject DESC, id DESC"
);

const LATEST: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM events WHERE obligation_id = $1 AND period_key = $2 AND unit_id = $3 AND subject = $4 \
     ORDER BY id DESC LIMIT 1"
);

const INSERT: &str = "INSERT INTO events (obligation_id, period_key, unit_id, subject, action, \
     received_on, received_at, reference, due_on, note, actor, source, recorded_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";

const WRITE_LOCK: &str = "LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE";

fn migrator() -> sqlx::migrate::Migrator {
    super::migrator(&[
        (
            1,
            "events",
            include_str!("../../migrations/postgres/0001_events.sql"),
        ),
        (
            2,
            "outbox",
            include_str!("../../migrations/postgres/0002_outbox.sql"),
        ),
        (
            3,
            "events current covering",
            include_str!("../../migrations/postgres/0003_events_current_covering.sql"),
        ),
        (
            4,
            "tokens",
            include_str!("../../migrations/postgres/0004_tokens.sql"),
        ),
    ])
}

const OUTBOX_INSERT: &str = "INSERT INTO outbox (obligation_id, period_key, unit_id, kind, stage, \
     recipient, rank, due_on, status, next_attempt_at, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT DO NOTHING";

const OUTBOX_SUPERSEDE: &str = "UPDATE outbox SET status = 'cancelled', \
     last_error = 'superseded by ' || $5, updated_at = $6 \
     WHERE obligation_id = $1 AND period_key = $2 AND unit_id = $3 \
     AND status = 'pending' AND rank < $4";

const OUTBOX_FINISH: &str = "UPDATE outbox SET status = $3, last_error = $4, \
     message_id = coalesce($5, message_id), next_attempt_at = coalesce($6, next_attempt_at), \
     sent_at = CASE WHEN $3 = 'sent' THEN $7 ELSE sent_at END, \
     lease_owner = NULL, lease_until = NULL, updated_at = $7 \
     WHERE id = $1 AND lease_owner = $2 AND status = 'sending'";

/// The PostgreSQL store. Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `postgres://...` (the database must exist) and migrates;
    /// concurrent instances migrating at once are serialised by sqlx's
    /// advisory lock.
    pub async fn open(url: &str) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .map_err(|e| StoreError::Open(e.to_string()))?;
        migrator().run(&pool).await.map_err(StoreError::Migrate)?;
        Ok(PgStore { pool })
    }

    /// Leases due rows to `owner`: pending rows whose time has come, rows
    /// whose lease ended, and this owner's own `sending` rows from an
    /// earlier run (a run that failed before recording them). Rows another
    /// instance has locked are skipped, not waited for: two dispatchers
    /// never claim the same row and never block each other. Without
    /// `escalations`, escalation rows are left for the leader.
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
            "WITH due AS (SELECT id FROM outbox \
                 WHERE ((status = 'pending' AND next_attempt_at <= $1) \
                    OR (status = 'sending' AND lease_until <= $1) \
                    OR (status = 'sending' AND lease_owner = $3 AND updated_at < $1)){kind} \
                 ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) \
             UPDATE outbox o SET status = 'sending', lease_owner = $3, lease_until = $4, \
                 attempts = o.attempts + 1, updated_at = $1 \
             FROM due WHERE o.id = due.id \
             RETURNING {}",
            OUTBOX_COLUMNS
                .split(", ")
                .map(|c| format!("o.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let got: Vec<OutboxDbRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(now.as_second())
            .bind(i64::from(limit))
            .bind(owner)
            .bind(lease_until.as_second())
            .fetch_all(&self.pool)
            .await?;
        let mut rows = ob::rows(got)?;
        rows.sort_by_key(|r| (r.next_attempt_at, r.id));
        Ok(rows)
    }

    /// `EXPLAIN` of the `current` query, one line per plan line.
    pub async fn explain_current(
        &self,
        obligation: &str,
        period: &str,
    ) -> Result<Vec<String>, StoreError> {
        let sql = format!("EXPLAIN {CURRENT_JSON}");
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(obligation)
            .bind(period)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(line,)| line).collect())
    }

    /// `EXPLAIN` of the `facts` query, one line per plan line.
    pub async fn explain_facts(
        &self,
        pairs: &[(String, String)],
    ) -> Result<Vec<String>, StoreError> {
        let sql = format!("EXPLAIN {FACTS_JSON}");
        let (o, k) = pairs.first().cloned().unwrap_or_default();
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(o)
            .bind(k)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(line,)| line).collect())
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(WRITE_LOCK).execute(&mut *tx).await?;
        Ok(tx)
    }

    async fn write(
        &self,
        key: &Key,
        subject: Subject,
        decide: impl FnOnce(Option<&Event>) -> Result<Decision, StoreError> + Send,
    ) -> Result<Recorded, StoreError> {
        let mut tx = self.begin_write().await?;
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
    conn: &mut PgConnection,
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

async fn insert(conn: &mut PgConnection, e: &Event) -> Result<i64, StoreError> {
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

async fn insert_many(conn: &mut PgConnection, events: &[Event]) -> Result<(), StoreError> {
    for chunk in events.chunks(INSERT_CHUNK) {
        let mut qb: QueryBuilder<Postgres> =
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

impl Store for PgStore {
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
        let mut qb: QueryBuilder<Postgres> =
            QueryBuilder::new(concat!("SELECT ", columns!(), " FROM events WHERE TRUE"));
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
        let mut tx = self.begin_write().await?;
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
        let mut tx = self.pool.begin().await?;
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
            // One row: one autocommitted statement (no BEGIN/COMMIT round trips).
            [(id, outcome)] => {
                let (status, error, message_id, next) = ob::outcome_columns(outcome);
                let n = sqlx::query(OUTBOX_FINISH)
                    .bind(*id)
                    .bind(owner)
                    .bind(status)
                    .bind(error)
                    .bind(message_id)
                    .bind(next)
                    .bind(now.as_second())
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                return Ok(vec![n > 0]);
            }
            rows if ob::one_statement(rows) => {
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
                let updated: Vec<i64> = sqlx::query_scalar(
                    "UPDATE outbox AS o SET status = v.status, last_error = v.error, \
                     message_id = coalesce(v.message_id, o.message_id), \
                     next_attempt_at = coalesce(v.next, o.next_attempt_at), \
                     sent_at = CASE WHEN v.status = 'sent' THEN $7 ELSE o.sent_at END, \
                     lease_owner = NULL, lease_until = NULL, updated_at = $7 \
                     FROM unnest($1::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[]) \
                         AS v(id, status, error, message_id, next) \
                     WHERE o.id = v.id AND o.lease_owner = $2 AND o.status = 'sending' \
                     RETURNING o.id",
                )
                .bind(&ids)
                .bind(owner)
                .bind(&statuses)
                .bind(&errors)
                .bind(&message_ids)
                .bind(&nexts)
                .bind(now.as_second())
                .fetch_all(&self.pool)
                .await?;
                return Ok(ob::updated_in_order(rows, &updated));
            }
            _ => {}
        }
        let mut tx = self.pool.begin().await?;
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
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE $1::text IS NULL OR status = $1 ORDER BY id"
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
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE obligation_id = $1 AND period_key = $2 \
             AND unit_id = ANY($3) AND status IN ('sent', 'pending', 'sending') ORDER BY id"
        );
        let got: Vec<OutboxDbRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(obligation)
            .bind(period)
            .bind(units)
            .fetch_all(&self.pool)
            .await?;
        ob::rows(got)
    }

    async fn outbox_next_due(&self, now: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT min(t) FROM (\
             SELECT min(next_attempt_at) AS t FROM outbox WHERE status = 'pending' AND next_attempt_at > $1 \
             UNION ALL \
             SELECT min(lease_until) AS t FROM outbox WHERE status = 'sending' AND lease_until > $1) x",
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
        super::tokens::pg_create(&self.pool, token, now).await
    }

    async fn tokens(&self) -> Result<Vec<Token>, StoreError> {
        super::tokens::pg_list(&self.pool).await
    }

    async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<Option<Token>, StoreError> {
        super::tokens::pg_revoke(&self.pool, id, now).await
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<Token>, StoreError> {
        super::tokens::pg_by_hash(&self.pool, hash).await
    }

    async fn close(&self) {
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

    fn leader_lock(&self) -> super::LeaderLock {
        super::LeaderLock::postgres((*self.pool.connect_options()).clone())
    }

    async fn retry_outbox(&self, id: i64, now: Timestamp) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE outbox SET status = 'pending', next_attempt_at = $2, lease_owner = NULL, \
             lease_until = NULL, updated_at = $2 WHERE id = $1 AND status = 'failed'",
        )
        .bind(id)
        .bind(now.as_second())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }
}
