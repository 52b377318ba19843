//! [`Intake`]: the store's interface for the watched mailbox. Each message
//! processed is one row of `intake_messages`, keyed by (mailbox,
//! UIDVALIDITY, UID) and found again by its Message-ID, written in the same
//! transaction as what the message meant: the submission it records (the
//! decision of `decide::submission`, the rule every front end records
//! with) or why it was refused. So a message is processed exactly once,
//! whatever crashes between reading it and flagging it in the mailbox.
//!
//! Knows nothing of IMAP or MIME: `intake` reads the message and says what
//! it is; this module writes it.

use std::future::Future;

use jiff::Timestamp;

use super::decide::{self, Decision};
use super::model::{Event, Key, NewSubmission, Subject};
use super::row::{EventRow, event_columns};
use super::sql::{Sql, sql};
use super::{Store, StoreError};

/// Where a message sits in the mailbox and what it says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeMessage {
    pub mailbox: String,
    pub uid_validity: u32,
    pub uid: u32,
    /// The Message-ID header without angle brackets, when present.
    pub message_id: Option<String>,
    /// The sender's address as the From header gives it.
    pub sender: String,
    pub subject: String,
    /// The Date header, when readable.
    pub sent_at: Option<Timestamp>,
}

/// What a message means, decided by `intake` before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeOutcome {
    /// A unit's reply with its report: record this submission.
    Submission(NewSubmission),
    /// Not recorded, for this reason (a stable English code); the key when
    /// the message could be matched to one.
    Refused { reason: String, key: Option<Key> },
}

/// What writing a processed message did.
#[derive(Debug, Clone, PartialEq)]
pub enum IntakeWritten {
    /// The message (its UID, or its Message-ID under another UID) was
    /// processed before: nothing was written.
    AlreadyProcessed,
    /// A new submission was recorded.
    Recorded(Event),
    /// The report was already recorded for that key (the same one or
    /// another): the message is kept as processed, nothing else written.
    AlreadyRecorded(Event),
    /// The refusal was kept with its reason.
    Refused,
}

/// One processed message as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeRow {
    pub id: i64,
    pub mailbox: String,
    pub uid: u32,
    pub message_id: Option<String>,
    /// "recorded", "already" or "refused".
    pub outcome: String,
    pub reason: Option<String>,
    pub key: Option<Key>,
    pub sender: String,
    pub subject: String,
    pub sent_at: Option<Timestamp>,
    pub processed_at: Timestamp,
}

/// A notice hanbao sent: one outbox row with its Message-ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentNotice {
    pub key: Key,
    /// The outbox kind: "reminder", "due_today", "overdue", "escalation".
    pub kind: String,
    pub recipient: String,
}

/// What the watched mailbox asks of the store. Implemented once, by [`Store`].
pub trait Intake {
    /// Whether this message was processed already: its (mailbox,
    /// UIDVALIDITY, UID), or its Message-ID under any UID.
    fn intake_processed(
        &self,
        message: &IntakeMessage,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The notices sent with this Message-ID (with its angle brackets, as
    /// the outbox keeps it): several rows when the message grouped them.
    fn intake_notices(
        &self,
        message_id: &str,
    ) -> impl Future<Output = Result<Vec<SentNotice>, StoreError>> + Send;

    /// Writes what `outcome` says and the processed message in one
    /// transaction; a message processed before writes nothing.
    fn intake_write(
        &self,
        message: &IntakeMessage,
        outcome: &IntakeOutcome,
        now: Timestamp,
    ) -> impl Future<Output = Result<IntakeWritten, StoreError>> + Send;

    /// The processed messages with this outcome ("refused", ...), newest
    /// first, at most `limit`.
    fn intake_messages(
        &self,
        outcome: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<IntakeRow>, StoreError>> + Send;

    /// How many processed messages have this outcome.
    fn intake_count(&self, outcome: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

const PROCESSED: Sql = sql!(
    "SELECT CAST(count(*) AS BIGINT) FROM intake_messages \
     WHERE (mailbox = $1 AND uid_validity = $2 AND uid = $3) OR message_id = $4"
);

const NOTICES: Sql = sql!(
    "SELECT obligation_id, period_key, unit_id, kind, recipient FROM outbox \
     WHERE message_id = $1 AND status = 'sent' ORDER BY id"
);

const LATEST: Sql = sql!(concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE obligation_id = $1 AND period_key = $2 AND unit_id = $3 AND subject = $4 \
     ORDER BY id DESC LIMIT 1"
));

const INSERT_MESSAGE: Sql = sql!(
    "INSERT INTO intake_messages (mailbox, uid_validity, uid, message_id, outcome, reason, \
     obligation_id, period_key, unit_id, event_id, sender, subject, sent_at, processed_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
);

const LIST: Sql = sql!(
    "SELECT id, mailbox, uid, message_id, outcome, reason, obligation_id, period_key, unit_id, \
     sender, subject, sent_at, processed_at FROM intake_messages WHERE outcome = $1 \
     ORDER BY id DESC LIMIT $2"
);

const COUNT: Sql = sql!("SELECT CAST(count(*) AS BIGINT) FROM intake_messages WHERE outcome = $1");

type ListRow = (
    i64,
    String,
    i64,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<i64>,
    i64,
);

fn list_row(r: ListRow) -> IntakeRow {
    let (id, mailbox, uid, message_id, outcome, reason, o, p, u, sender, subject, sent, at) = r;
    let key = match (o, p, u) {
        (Some(o), Some(p), Some(u)) => Some(Key::new(o, p, u)),
        _ => None,
    };
    IntakeRow {
        id,
        mailbox,
        uid: u32::try_from(uid).unwrap_or(0),
        message_id,
        outcome,
        reason,
        key,
        sender,
        subject,
        sent_at: sent.and_then(|s| Timestamp::from_second(s).ok()),
        processed_at: Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH),
    }
}

impl Intake for Store {
    async fn intake_processed(&self, message: &IntakeMessage) -> Result<bool, StoreError> {
        let n: i64 = on_backend!(self, db => {
            sqlx::query_scalar(db.sql(&PROCESSED))
                .bind(&message.mailbox)
                .bind(i64::from(message.uid_validity))
                .bind(i64::from(message.uid))
                .bind(message.message_id.as_deref())
                .fetch_one(&db.pool)
                .await?
        });
        Ok(n > 0)
    }

    async fn intake_notices(&self, message_id: &str) -> Result<Vec<SentNotice>, StoreError> {
        let rows: Vec<(String, String, String, String, String)> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&NOTICES))
                .bind(message_id)
                .fetch_all(&db.pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(o, p, u, kind, recipient)| SentNotice {
                key: Key::new(o, p, u),
                kind,
                recipient,
            })
            .collect())
    }

    async fn intake_write(
        &self,
        message: &IntakeMessage,
        outcome: &IntakeOutcome,
        now: Timestamp,
    ) -> Result<IntakeWritten, StoreError> {
        on_backend!(self, db => {
            let mut tx = db.begin_append().await?;
            let seen: i64 = sqlx::query_scalar(db.sql(&PROCESSED))
                .bind(&message.mailbox)
                .bind(i64::from(message.uid_validity))
                .bind(i64::from(message.uid))
                .bind(message.message_id.as_deref())
                .fetch_one(&mut *tx)
                .await?;
            if seen > 0 {
                tx.rollback().await?;
                return Ok(IntakeWritten::AlreadyProcessed);
            }
            let (written, kept, key, reason, event_id) = match outcome {
                IntakeOutcome::Refused { reason, key } => {
                    (IntakeWritten::Refused, "refused", key.clone(), Some(reason.clone()), None)
                }
                IntakeOutcome::Submission(s) => {
                    let latest: Option<EventRow> = sqlx::query_as(db.sql(&LATEST))
                        .bind(&s.key.obligation)
                        .bind(&s.key.period)
                        .bind(&s.key.unit)
                        .bind(Subject::Submission.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                    let latest = latest.map(Event::try_from).transpose()?;
                    match decide::submission(latest.as_ref(), s, now) {
                        Ok(Decision::Insert(mut e)) => {
                            let id = super::records::insert_event!(db, tx, &e);
                            e.id = id;
                            (IntakeWritten::Recorded(e), "recorded", Some(s.key.clone()), None, Some(id))
                        }
                        Ok(Decision::Already(e)) => {
                            let id = e.id;
                            (IntakeWritten::AlreadyRecorded(e), "already", Some(s.key.clone()), None, Some(id))
                        }
                        // Another report is in effect for the key: the
                        // first one received stands; the coordinator
                        // corrects it by hand if the reply replaces it.
                        Err(StoreError::Conflict { existing, .. }) => {
                            let id = existing.id;
                            (IntakeWritten::AlreadyRecorded(*existing), "already", Some(s.key.clone()), None, Some(id))
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            sqlx::query(db.sql(&INSERT_MESSAGE))
                .bind(&message.mailbox)
                .bind(i64::from(message.uid_validity))
                .bind(i64::from(message.uid))
                .bind(message.message_id.as_deref())
                .bind(kept)
                .bind(reason)
                .bind(key.as_ref().map(|k| k.obligation.clone()))
                .bind(key.as_ref().map(|k| k.period.clone()))
                .bind(key.as_ref().map(|k| k.unit.clone()))
                .bind(event_id)
                .bind(&message.sender)
                .bind(&message.subject)
                .bind(message.sent_at.map(|t| t.as_second()))
                .bind(now.as_second())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(written)
        })
    }

    async fn intake_messages(
        &self,
        outcome: &str,
        limit: u32,
    ) -> Result<Vec<IntakeRow>, StoreError> {
        let rows: Vec<ListRow> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&LIST))
                .bind(outcome)
                .bind(i64::from(limit))
                .fetch_all(&db.pool)
                .await?
        });
        Ok(rows.into_iter().map(list_row).collect())
    }

    async fn intake_count(&self, outcome: &str) -> Result<u64, StoreError> {
        let n: i64 = on_backend!(self, db => {
            sqlx::query_scalar(db.sql(&COUNT))
                .bind(outcome)
                .fetch_one(&db.pool)
                .await?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
