//! The store's error type: the variants callers act on.
//!
//! Messages never contain a database URL (it may carry a password).

use super::model::{Event, Key, Subject};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "unsupported database URL scheme {scheme:?}: use sqlite://PATH (or sqlite:PATH) or postgres://..."
    )]
    UnsupportedUrl { scheme: String },

    #[error("cannot open the database: {0}")]
    Open(String),

    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),

    /// Said to the administrator as it is: the database was left untouched.
    #[error(
        "cơ sở dữ liệu có lược đồ phiên bản {found}, mới hơn phiên bản {known} mà bản hanbao \
         này ({}) dùng: một bản hanbao mới hơn đã nâng cấp nó. Không mở và không thay đổi gì; \
         hãy chạy bản hanbao mới hơn đó (xem hanbao --version), hoặc khôi phục một bản sao lưu \
         làm với lược đồ {known} trở về trước (hanbao restore)",
        env!("CARGO_PKG_VERSION")
    )]
    NewerSchema { found: i64, known: i64 },

    #[error("{0} is not available on PostgreSQL")]
    NotOnPostgres(&'static str),

    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    #[error(
        "{key}: a different submission is already recorded (received on {}, reference {}, recorded by {}); record a correction to replace it",
        existing.received_on.map(|d| d.to_string()).unwrap_or_default(),
        existing.reference.as_deref().unwrap_or("none"),
        existing.actor
    )]
    Conflict { key: Key, existing: Box<Event> },

    #[error("{key}: there is no submission to correct; record it as a submission")]
    NothingToCorrect { key: Key },

    #[error("{key}: there is no {subject} to revoke")]
    NothingToRevoke { key: Key, subject: Subject },

    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },

    #[error("import row {row}: {source}")]
    ImportRow {
        /// 1-based position in the list given to `import_submissions`.
        row: usize,
        #[source]
        source: Box<StoreError>,
    },

    #[error(
        "import row {row}: {key}: differs from row {earlier_row} of the same import; mark it as a correction or remove one"
    )]
    ImportDuplicate {
        row: usize,
        earlier_row: usize,
        key: Key,
    },

    #[error("the database holds a value this version does not understand: {0}")]
    Corrupt(String),
}
