//! [`Files`]: the rows of the files units sent with their reports (which
//! report, name, type, size, how and from whom, when, with which
//! submission). The bytes are not here: the `files` module keeps them
//! under the state directory, named by their SHA-256, and writes a row
//! only once its file is in place.
//!
//! The queries are the same on both dialects: written once. Must not: read
//! or write the files themselves, check names (the `files` module
//! sanitises them), or update or delete a row.

use std::future::Future;

use jiff::Timestamp;

use super::Store;
use super::error::StoreError;
use super::model::{Key, NewSubmission, Recorded, Subject};
use super::sql::{Sql, sql};

/// What the `files` module and the HTTP side ask of the store about files.
/// Implemented once, by [`Store`]; the futures are `Send`.
pub trait Files {
    /// Records files already stored (their bytes in place), for one or
    /// more reports, in one transaction: all rows or none. Each row keeps
    /// the `event_id` it is given.
    fn add_files(
        &self,
        files: Vec<NewFile>,
    ) -> impl Future<Output = Result<Vec<StoredFile>, StoreError>> + Send;

    /// Records a submission and the files that came with it in one
    /// transaction: both or neither. The files are linked to the event of
    /// the submission in effect afterwards (the new one, or the one
    /// already recorded when it is the same again: files sent with a
    /// second confirmation join the first). Their `key` must be the
    /// submission's, their `event_id` is ignored.
    fn record_submission_with_files(
        &self,
        submission: NewSubmission,
        files: Vec<NewFile>,
        now: Timestamp,
    ) -> impl Future<Output = Result<(Recorded, Vec<StoredFile>), StoreError>> + Send;

    /// The files of one report, oldest first.
    fn files_for(
        &self,
        key: &Key,
    ) -> impl Future<Output = Result<Vec<StoredFile>, StoreError>> + Send;

    /// The files of every unit of one obligation and period, by unit id,
    /// then oldest first.
    fn files_of_period(
        &self,
        obligation: &str,
        period: &str,
    ) -> impl Future<Output = Result<Vec<StoredFile>, StoreError>> + Send;

    /// One file's row by id.
    fn file(&self, id: i64) -> impl Future<Output = Result<Option<StoredFile>, StoreError>> + Send;
}

/// How a file came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileSource {
    /// Attached by the unit on its confirmation page.
    Upload,
    /// Attached by an administrator on the dashboard's report page.
    Dashboard,
    /// Sent to the API (multipart).
    Api,
    /// An attachment of a unit's reply by email.
    Email,
}

impl FileSource {
    pub fn as_str(self) -> &'static str {
        match self {
            FileSource::Upload => "upload",
            FileSource::Dashboard => "dashboard",
            FileSource::Api => "api",
            FileSource::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<FileSource> {
        Some(match s {
            "upload" => FileSource::Upload,
            "dashboard" => FileSource::Dashboard,
            "api" => FileSource::Api,
            "email" => FileSource::Email,
            _ => return None,
        })
    }
}

/// A file whose bytes are stored, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub key: Key,
    /// SHA-256 of the content, 64 lowercase hex digits: its name on disk.
    pub sha256: String,
    /// The sanitised original name (`files::sanitize_name`).
    pub name: String,
    /// The media type as the sender declared it, or guessed from the name.
    pub media_type: String,
    pub size: u64,
    pub source: FileSource,
    /// Who sent it: the recorded actor (`token:3:văn thư`, `web:admin`,
    /// `link`) or the sender's mailbox.
    pub sender: String,
    pub received_at: Timestamp,
    /// The event of the submission it came with, if any.
    pub event_id: Option<i64>,
}

/// A recorded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub id: i64,
    pub key: Key,
    pub sha256: String,
    pub name: String,
    pub media_type: String,
    pub size: u64,
    pub source: FileSource,
    pub sender: String,
    pub received_at: Timestamp,
    pub event_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(super) struct FileDbRow {
    id: i64,
    obligation_id: String,
    period_key: String,
    unit_id: String,
    sha256: String,
    name: String,
    media_type: String,
    size: i64,
    source: String,
    sender: String,
    received_at: i64,
    event_id: Option<i64>,
}

impl TryFrom<FileDbRow> for StoredFile {
    type Error = StoreError;

    fn try_from(r: FileDbRow) -> Result<StoredFile, StoreError> {
        Ok(StoredFile {
            id: r.id,
            key: Key::new(r.obligation_id, r.period_key, r.unit_id),
            sha256: r.sha256,
            name: r.name,
            media_type: r.media_type,
            size: u64::try_from(r.size)
                .map_err(|_| StoreError::Corrupt(format!("file size {}", r.size)))?,
            source: FileSource::parse(&r.source)
                .ok_or_else(|| StoreError::Corrupt(format!("file source {:?}", r.source)))?,
            sender: r.sender,
            received_at: Timestamp::from_second(r.received_at)
                .map_err(|_| StoreError::Corrupt(format!("file instant {}", r.received_at)))?,
            event_id: r.event_id,
        })
    }
}

/// Refuses a row the table would refuse, with the field named.
pub(super) fn check(f: &NewFile) -> Result<(), StoreError> {
    let invalid = |field, reason: &str| {
        Err(StoreError::Invalid {
            field,
            reason: reason.into(),
        })
    };
    if f.sha256.len() != 64
        || !f
            .sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return invalid("sha256", "expected 64 lowercase hex digits");
    }
    if f.name.is_empty() {
        return invalid("name", "a file needs a name");
    }
    if f.media_type.is_empty() {
        return invalid("media_type", "a file needs a media type");
    }
    if i64::try_from(f.size).is_err() {
        return invalid("size", "too large");
    }
    if [&f.key.obligation, &f.key.period, &f.key.unit]
        .iter()
        .any(|s| s.is_empty())
    {
        return invalid("key", "obligation, period and unit are required");
    }
    Ok(())
}

/// The columns `FileDbRow` reads, in order (a macro, for `concat!`).
macro_rules! file_columns {
    () => {
        "id, obligation_id, period_key, unit_id, sha256, name, media_type, size, source, sender, \
         received_at, event_id"
    };
}

pub(super) const INSERT: Sql = sql!(concat!(
    "INSERT INTO files (obligation_id, period_key, unit_id, sha256, name, media_type, size, \
     source, sender, received_at, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
     RETURNING ",
    file_columns!()
));
const FOR_KEY: Sql = sql!(concat!(
    "SELECT ",
    file_columns!(),
    " FROM files WHERE obligation_id = $1 AND period_key = $2 AND unit_id = $3 ORDER BY id"
));
const OF_PERIOD: Sql = sql!(concat!(
    "SELECT ",
    file_columns!(),
    " FROM files WHERE obligation_id = $1 AND period_key = $2 ORDER BY unit_id, id"
));
/// The files kept from one message of the watched mailbox: linked to its
/// event, sent by its sender, received when it was processed.
pub(super) const OF_MESSAGE: Sql = sql!(concat!(
    "SELECT ",
    file_columns!(),
    " FROM files WHERE event_id = $1 AND source = 'email' AND sender = $2 AND received_at = $3 \
     ORDER BY id"
));
const BY_ID: Sql = sql!(concat!(
    "SELECT ",
    file_columns!(),
    " FROM files WHERE id = $1"
));

/// `insert_files!(db, tx, files, event_id)`: inserts the rows in `tx`
/// (the transaction of backend `db`), each with `event_id` when it is
/// `Some`, else its own; evaluates to the stored files.
macro_rules! insert_files {
    ($db:ident, $tx:ident, $files:expr, $event_id:expr) => {{
        let mut stored = Vec::new();
        for f in $files {
            let row: $crate::store::files::FileDbRow =
                sqlx::query_as($db.sql(&$crate::store::files::INSERT))
                    .bind(&f.key.obligation)
                    .bind(&f.key.period)
                    .bind(&f.key.unit)
                    .bind(&f.sha256)
                    .bind(&f.name)
                    .bind(&f.media_type)
                    .bind(f.size as i64)
                    .bind(f.source.as_str())
                    .bind(&f.sender)
                    .bind(f.received_at.as_second())
                    .bind($event_id.or(f.event_id))
                    .fetch_one(&mut *$tx)
                    .await?;
            stored.push($crate::store::StoredFile::try_from(row)?);
        }
        stored
    }};
}
pub(super) use insert_files;

impl Files for Store {
    async fn add_files(&self, files: Vec<NewFile>) -> Result<Vec<StoredFile>, StoreError> {
        files.iter().try_for_each(check)?;
        if files.is_empty() {
            return Ok(Vec::new());
        }
        on_backend!(self, db => {
            let mut tx = db.begin_append().await?;
            let stored = insert_files!(db, tx, &files, None::<i64>);
            tx.commit().await?;
            Ok(stored)
        })
    }

    async fn record_submission_with_files(
        &self,
        submission: NewSubmission,
        files: Vec<NewFile>,
        now: Timestamp,
    ) -> Result<(Recorded, Vec<StoredFile>), StoreError> {
        files.iter().try_for_each(check)?;
        if let Some(f) = files.iter().find(|f| f.key != submission.key) {
            return Err(StoreError::Invalid {
                field: "key",
                reason: format!("a file for {} sent with {}", f.key, submission.key),
            });
        }
        self.write_with_files(
            &submission.key.clone(),
            Subject::Submission,
            files,
            |latest| super::decide::submission(latest, &submission, now),
        )
        .await
    }

    async fn files_for(&self, key: &Key) -> Result<Vec<StoredFile>, StoreError> {
        let rows: Vec<FileDbRow> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&FOR_KEY))
                .bind(&key.obligation)
                .bind(&key.period)
                .bind(&key.unit)
                .fetch_all(&db.pool)
                .await?
        });
        rows.into_iter().map(StoredFile::try_from).collect()
    }

    async fn files_of_period(
        &self,
        obligation: &str,
        period: &str,
    ) -> Result<Vec<StoredFile>, StoreError> {
        let rows: Vec<FileDbRow> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&OF_PERIOD))
                .bind(obligation)
                .bind(period)
                .fetch_all(&db.pool)
                .await?
        });
        rows.into_iter().map(StoredFile::try_from).collect()
    }

    async fn file(&self, id: i64) -> Result<Option<StoredFile>, StoreError> {
        let row: Option<FileDbRow> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&BY_ID))
                .bind(id)
                .fetch_optional(&db.pool)
                .await?
        });
        row.map(StoredFile::try_from).transpose()
    }
}
