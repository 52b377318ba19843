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
use jiff::civil::Date;

use super::decide::{self, Decision};
use super::files::{FileDbRow, NewFile, StoredFile, check as check_file, insert_files};
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

/// Everything one processed message writes, in one transaction: what it
/// means, the rows of the files kept from it (their bytes already in
/// place), and the acknowledgement owed to its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeWrite {
    pub outcome: IntakeOutcome,
    /// Written only with a submission (recorded, or already recorded: the
    /// files join the event in effect). Their `key` must be the
    /// submission's; their `event_id` is set here.
    pub files: Vec<NewFile>,
    /// The acknowledgement to enqueue, if one is owed: an outbox row of
    /// kind `acknowledgement` for the message's key, its stage the id of
    /// the message's `intake_messages` row (so one per message, whatever
    /// is retried). Only written when the message has a key.
    pub ack: Option<IntakeAck>,
}

impl IntakeWrite {
    /// What `outcome` says, without files or acknowledgement.
    pub fn plain(outcome: IntakeOutcome) -> IntakeWrite {
        IntakeWrite {
            outcome,
            files: Vec::new(),
            ack: None,
        }
    }
}

/// Whom an acknowledgement goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeAck {
    /// The sender's mailbox (one of the unit's, checked by `intake`).
    pub recipient: String,
    /// The outbox row's `due_on`: the report-period's due day.
    pub due_on: Date,
}

/// One processed message with what the acknowledgement of it tells: the
/// submission in effect it was recorded with, and the files kept from it.
#[derive(Debug, Clone, PartialEq)]
pub struct IntakeDetail {
    pub row: IntakeRow,
    pub event: Option<Event>,
    pub files: Vec<StoredFile>,
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
    ) -> impl Future<Output = Result<IntakeWritten, StoreError>> + Send {
        self.intake_record(message, IntakeWrite::plain(outcome.clone()), now)
    }

    /// Writes the processed message, what it means, the rows of its files
    /// and its acknowledgement in one transaction: all or nothing, so a
    /// crash never leaves a recorded reply without its files or its
    /// acknowledgement, or either without the reply. A message processed
    /// before writes nothing.
    fn intake_record(
        &self,
        message: &IntakeMessage,
        write: IntakeWrite,
        now: Timestamp,
    ) -> impl Future<Output = Result<IntakeWritten, StoreError>> + Send;

    /// A processed message by id, with its event and the files kept from
    /// it (what its acknowledgement says).
    fn intake_detail(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<Option<IntakeDetail>, StoreError>> + Send;

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
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id"
);

/// The acknowledgement of a message: never superseding anything (it is
/// not a stage of the unit's timeline), its key unique per message.
const INSERT_ACK: Sql = sql!(
    "INSERT INTO outbox (obligation_id, period_key, unit_id, kind, stage, recipient, rank, \
     due_on, status, next_attempt_at, created_at, updated_at) \
     VALUES ($1, $2, $3, 'acknowledgement', $4, $5, 0, $6, 'pending', $7, $7, $7) \
     ON CONFLICT DO NOTHING"
);

const DETAIL: Sql = sql!(
    "SELECT id, mailbox, uid, message_id, outcome, reason, obligation_id, period_key, unit_id, \
     sender, subject, sent_at, processed_at, event_id FROM intake_messages WHERE id = $1"
);

const EVENT: Sql = sql!(concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE id = $1"
));

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

type DetailRow = (
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
    Option<i64>,
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

    async fn intake_record(
        &self,
        message: &IntakeMessage,
        write: IntakeWrite,
        now: Timestamp,
    ) -> Result<IntakeWritten, StoreError> {
        let IntakeWrite {
            outcome,
            files,
            ack,
        } = write;
        let outcome = &outcome;
        files.iter().try_for_each(check_file)?;
        if let IntakeOutcome::Submission(s) = outcome
            && let Some(f) = files.iter().find(|f| f.key != s.key)
        {
            return Err(StoreError::Invalid {
                field: "key",
                reason: format!("a file for {} sent with {}", f.key, s.key),
            });
        }
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
            let intake_id: i64 = sqlx::query_scalar(db.sql(&INSERT_MESSAGE))
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
                .fetch_one(&mut *tx)
                .await?;
            if event_id.is_some() && !files.is_empty() {
                let _stored = insert_files!(db, tx, &files, event_id);
            }
            if let (Some(ack), Some(key)) = (&ack, &key) {
                let stage = u32::try_from(intake_id).map_err(|_| StoreError::Invalid {
                    field: "stage",
                    reason: format!("intake message id {intake_id} out of range"),
                })?;
                sqlx::query(db.sql(&INSERT_ACK))
                    .bind(&key.obligation)
                    .bind(&key.period)
                    .bind(&key.unit)
                    .bind(i64::from(stage))
                    .bind(&ack.recipient)
                    .bind(ack.due_on.to_string())
                    .bind(now.as_second())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(written)
        })
    }

    async fn intake_detail(&self, id: i64) -> Result<Option<IntakeDetail>, StoreError> {
        let found: Option<(ListRow, Option<i64>)> = on_backend!(self, db => {
            let r: Option<DetailRow> = sqlx::query_as(db.sql(&DETAIL))
                .bind(id)
                .fetch_optional(&db.pool)
                .await?;
            r.map(|(a, b, c, d, e, f, g, h, i, j, k, l, m, event_id)| {
                ((a, b, c, d, e, f, g, h, i, j, k, l, m), event_id)
            })
        });
        let Some((r, event_id)) = found else {
            return Ok(None);
        };
        let row = list_row(r);
        let Some(event_id) = event_id else {
            return Ok(Some(IntakeDetail {
                row,
                event: None,
                files: Vec::new(),
            }));
        };
        let (event, files): (Option<EventRow>, Vec<FileDbRow>) = on_backend!(self, db => {
            let e: Option<EventRow> = sqlx::query_as(db.sql(&EVENT))
                .bind(event_id)
                .fetch_optional(&db.pool)
                .await?;
            let f: Vec<FileDbRow> = sqlx::query_as(db.sql(&super::files::OF_MESSAGE))
                .bind(event_id)
                .bind(&row.sender)
                .bind(row.processed_at.as_second())
                .fetch_all(&db.pool)
                .await?;
            (e, f)
        });
        Ok(Some(IntakeDetail {
            row,
            event: event.map(Event::try_from).transpose()?,
            files: files
                .into_iter()
                .map(StoredFile::try_from)
                .collect::<Result<_, _>>()?,
        }))
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
