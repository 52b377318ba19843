//! [`Records`]: the store's interface for what units submitted and what was
//! granted them (submissions, extensions, waivers), their history, and the
//! facts the status of a unit is computed from. Its clients are the
//! commands, the API, the dashboard, the confirmation page, tracking and
//! the dispatcher's re-check.
//!
//! Every write appends an event inside a transaction that holds the write
//! lock (`Db::begin_append`), after `decide` has said what the write means
//! given the latest event. The queries both dialects share are written
//! once here; the latest-event reads and the JSON aggregation differ and
//! live in `sqlite` and `postgres`.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;

use jiff::Timestamp;
use sqlx::QueryBuilder;

use super::decide::{self, Decision};
use super::files::{NewFile, StoredFile, insert_files};
use super::model::{
    Action, CurrentState, Event, Facts, HistoryFilter, ImportReport, Key, KnownIds, NewExtension,
    NewSubmission, NewWaiver, Recorded, Revocation, Subject,
};
use super::row::{self, Bind, EventRow, event_columns, insert_columns};
use super::sql::{Sql, sql};
use super::{Store, StoreError, postgres, sqlite};

/// What the commands, the HTTP side and tracking ask of the store about
/// submissions, extensions and waivers. Implemented once, by [`Store`];
/// the futures are `Send` so that a caller can spawn them.
pub trait Records {
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
    /// out. The `hanbao status` hot path: one statement per obligation
    /// (covering-index ranges of its periods), only the columns status
    /// needs, the obligations read concurrently. Must be called inside a
    /// tokio runtime.
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

    /// The id of the latest event, 0 when there is none: one primary-key
    /// seek. The history only grows, so a figure computed from it is
    /// current while this has not changed.
    fn last_event_id(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;
}

/// Rows per multi-row INSERT: 13 parameters each, 26,000 in all, under
/// SQLite's 32,766 and PostgreSQL's 65,535.
const INSERT_CHUNK: usize = 2000;

pub(super) const CURRENT_JSON: Sql = Sql::dialects(sqlite::CURRENT_JSON, postgres::CURRENT_JSON);
pub(super) const FACTS_JSON: Sql = Sql::dialects(sqlite::FACTS_JSON, postgres::FACTS_JSON);
const CURRENT_SUBMISSIONS: Sql =
    Sql::dialects(sqlite::CURRENT_SUBMISSIONS, postgres::CURRENT_SUBMISSIONS);
const CURRENT_FOR: Sql = Sql::dialects(sqlite::CURRENT_FOR, postgres::CURRENT_FOR);

/// The latest event of one (key, subject).
const LATEST: Sql = sql!(concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE obligation_id = $1 AND period_key = $2 AND unit_id = $3 AND subject = $4 \
     ORDER BY id DESC LIMIT 1"
));

pub(super) const INSERT: Sql = sql!(concat!(
    "INSERT INTO events (",
    insert_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id"
));

/// Inserts event `$e` in transaction `$tx` of backend `$db` (inside
/// `on_backend!`) and evaluates to its id: the one insert of an event,
/// shared by every path that records (`records`, `intake`).
macro_rules! insert_event {
    ($db:ident, $tx:ident, $e:expr) => {{
        let b = $crate::store::row::Bind::of($e);
        let id: i64 = sqlx::query_scalar($db.sql(&$crate::store::records::INSERT))
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
            .fetch_one(&mut *$tx)
            .await?;
        id
    }};
}
pub(super) use insert_event;

const OBLIGATION_IDS: Sql = sql!("SELECT DISTINCT obligation_id FROM events");
const UNIT_IDS: Sql = sql!("SELECT DISTINCT unit_id FROM events");
const LAST_EVENT_ID: Sql = sql!("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM events");

impl Store {
    /// Appends what `decide` makes of the latest event of (key, subject),
    /// read under the write lock.
    async fn write(
        &self,
        key: &Key,
        subject: Subject,
        decide: impl FnOnce(Option<&Event>) -> Result<Decision, StoreError> + Send,
    ) -> Result<Recorded, StoreError> {
        Ok(self
            .write_with_files(key, subject, Vec::new(), decide)
            .await?
            .0)
    }

    /// `write`, and in the same transaction the rows of `files`, linked to
    /// the event in effect afterwards (the new one, or the one already
    /// recorded).
    pub(super) async fn write_with_files(
        &self,
        key: &Key,
        subject: Subject,
        files: Vec<NewFile>,
        decide: impl FnOnce(Option<&Event>) -> Result<Decision, StoreError> + Send,
    ) -> Result<(Recorded, Vec<StoredFile>), StoreError> {
        on_backend!(self, db => {
            let mut tx = db.begin_append().await?;
            let latest: Option<EventRow> = sqlx::query_as(db.sql(&LATEST))
                .bind(&key.obligation)
                .bind(&key.period)
                .bind(&key.unit)
                .bind(subject.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let latest = latest.map(Event::try_from).transpose()?;
            match decide(latest.as_ref())? {
                Decision::Already(e) => {
                    if files.is_empty() {
                        tx.rollback().await?;
                        return Ok((Recorded::AlreadyRecorded(e), Vec::new()));
                    }
                    let stored = insert_files!(db, tx, &files, Some(e.id));
                    tx.commit().await?;
                    Ok((Recorded::AlreadyRecorded(e), stored))
                }
                Decision::Insert(mut e) => {
                    let id = insert_event!(db, tx, &e);
                    e.id = id;
                    let stored = insert_files!(db, tx, &files, Some(id));
                    tx.commit().await?;
                    Ok((Recorded::New(e), stored))
                }
            }
        })
    }
}

impl Records for Store {
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
        let json: String = on_backend!(self, db => {
            sqlx::query_scalar(db.sql(&CURRENT_JSON))
                .bind(obligation)
                .bind(period)
                .fetch_one(&db.pool)
                .await?
        });
        row::current_from_json(obligation, period, &json)
    }

    async fn facts(&self, pairs: &[(String, String)]) -> Result<Vec<Facts>, StoreError> {
        on_backend!(self, db => {
            facts_per_obligation(pairs, |o, periods| {
                let (pool, sql) = (db.pool.clone(), db.sql(&FACTS_JSON));
                async move {
                    let list = serde_json::to_string(&periods)
                        .map_err(|e| StoreError::Corrupt(format!("period list: {e}")))?;
                    let json: String = sqlx::query_scalar(sql)
                        .bind(&o)
                        .bind(&list)
                        .fetch_one(&pool)
                        .await?;
                    row::facts_from_json(&o, &periods, &json)
                }
            })
            .await
        })
    }

    async fn current_for(&self, key: &Key) -> Result<CurrentState, StoreError> {
        let rows: Vec<EventRow> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&CURRENT_FOR))
                .bind(&key.obligation)
                .bind(&key.period)
                .bind(&key.unit)
                .fetch_all(&db.pool)
                .await?
        });
        let mut state = CurrentState::empty(key.clone());
        for e in row::events(rows)? {
            state.apply_latest(e);
        }
        Ok(state)
    }

    async fn history(&self, filter: &HistoryFilter) -> Result<Vec<Event>, StoreError> {
        let rows: Vec<EventRow> = on_backend!(self, db => {
            let mut qb = QueryBuilder::new(concat!(
                "SELECT ",
                event_columns!(),
                " FROM events WHERE 1 = 1"
            ));
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
            qb.build_query_as().fetch_all(&db.pool).await?
        });
        row::events(rows)
    }

    async fn import_submissions(
        &self,
        submissions: Vec<NewSubmission>,
        now: Timestamp,
    ) -> Result<ImportReport, StoreError> {
        let pairs: BTreeSet<(&str, &str)> = submissions
            .iter()
            .map(|s| (s.key.obligation.as_str(), s.key.period.as_str()))
            .collect();
        on_backend!(self, db => {
            let mut tx = db.begin_append().await?;
            let mut latest = HashMap::new();
            for &(obligation, period) in &pairs {
                let rows: Vec<EventRow> = sqlx::query_as(db.sql(&CURRENT_SUBMISSIONS))
                    .bind(obligation)
                    .bind(period)
                    .fetch_all(&mut *tx)
                    .await?;
                for e in row::events(rows)? {
                    latest.insert(e.key.clone(), (e, None));
                }
            }
            let (events, report) = plan_import(&mut latest, &submissions, now)?;
            for chunk in events.chunks(INSERT_CHUNK) {
                let mut qb = QueryBuilder::new(concat!("INSERT INTO events (", insert_columns!(), ") "));
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
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(report)
        })
    }

    async fn known_ids(&self) -> Result<KnownIds, StoreError> {
        let (obligations, units): (Vec<String>, Vec<String>) = on_backend!(self, db => {
            let obligations = sqlx::query_scalar(db.sql(&OBLIGATION_IDS))
                .fetch_all(&db.pool)
                .await?;
            let units = sqlx::query_scalar(db.sql(&UNIT_IDS))
                .fetch_all(&db.pool)
                .await?;
            (obligations, units)
        });
        Ok(KnownIds {
            obligations: obligations.into_iter().collect(),
            units: units.into_iter().collect(),
        })
    }

    async fn last_event_id(&self) -> Result<i64, StoreError> {
        Ok(on_backend!(self, db => {
            sqlx::query_scalar(db.sql(&LAST_EVENT_ID))
                .fetch_one(&db.pool)
                .await?
        }))
    }
}

/// Validates every row of an import against what is in effect (`latest`,
/// the latest submission event per key, as read in the transaction) and
/// against earlier rows, returning the events to append.
fn plan_import(
    latest: &mut HashMap<Key, (Event, Option<usize>)>,
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
            Ok(Decision::Already(_)) => report.unchanged += 1,
            Ok(Decision::Insert(e)) => {
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

/// The most periods of one obligation read by one statement.
const PERIODS_PER_READ: usize = 400;

/// Runs `read` for the periods of each obligation of `pairs` (up to
/// [`PERIODS_PER_READ`] at a time) concurrently, bounded by the backend's
/// pool, and returns the facts in pair order. One statement per
/// obligation rather than per pair: at national scale the look-back of a
/// daily and a weekly report is about 300 pairs, whose statements cost
/// more than their (mostly empty) ranges; on a multi-core server the
/// reads, and their JSON parsing, run in parallel.
async fn facts_per_obligation<F, Fut>(
    pairs: &[(String, String)],
    read: F,
) -> Result<Vec<Facts>, StoreError>
where
    F: Fn(String, Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<Vec<Facts>>, StoreError>> + Send + 'static,
{
    // Each obligation's pairs (their places in `pairs`), in first-seen order.
    let mut batches: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut of: HashMap<&str, usize> = HashMap::new();
    for (i, (o, _)) in pairs.iter().enumerate() {
        let b = *of.entry(o.as_str()).or_insert_with(|| {
            batches.push((o.as_str(), Vec::new()));
            batches.len() - 1
        });
        batches[b].1.push(i);
    }
    let mut set = tokio::task::JoinSet::new();
    for (o, places) in &batches {
        for chunk in places.chunks(PERIODS_PER_READ) {
            let periods: Vec<String> = chunk.iter().map(|&i| pairs[i].1.clone()).collect();
            let fut = read((*o).to_owned(), periods);
            let chunk = chunk.to_vec();
            set.spawn(async move { fut.await.map(|f| (chunk, f)) });
        }
    }
    let mut parts: Vec<Vec<Facts>> = vec![Vec::new(); pairs.len()];
    while let Some(joined) = set.join_next().await {
        let (places, facts) =
            joined.map_err(|e| StoreError::Open(format!("status read task: {e}")))??;
        for (i, f) in places.into_iter().zip(facts) {
            parts[i] = f;
        }
    }
    Ok(parts.into_iter().flatten().collect())
}
