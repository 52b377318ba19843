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
use super::row::{self, Bind, EventRow};
use super::{
    AppliedMigration, CurrentState, Event, Facts, HistoryFilter, ImportReport, Key, KnownIds,
    NewExtension, NewSubmission, NewWaiver, Recorded, Revocation, Store, StoreError, Subject,
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
            "events current covering",
            include_str!("../../migrations/postgres/0002_events_current_covering.sql"),
        ),
    ])
}

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

    async fn close(&self) {
        self.pool.close().await;
    }
}
