//! Copies of a SQLite database, and whether another process has it open:
//! what `hanbao backup` and `hanbao restore` need from the store.
//!
//! A backup is SQLite's `VACUUM INTO` on a read-only connection: one read
//! transaction, so the copy is the database as of one instant, while the
//! daemon goes on claiming, sending and recording (WAL: a reader blocks no
//! writer, a writer blocks no reader). Nothing is migrated or created in
//! the source. PostgreSQL's way is `pg_dump` (README, "Backups").
//!
//! Must not: write to the source database, or read the clock.

use std::path::Path;

use super::{Backend, StoreError, sqlite};

/// Writes a consistent copy of the SQLite database at `url` into `dest`,
/// which must not exist (or be empty). `url` is opened read-only, as it
/// is. Not on PostgreSQL.
pub async fn backup_sqlite(url: &str, dest: &Path) -> Result<(), StoreError> {
    let store = super::open_read_only(url, false).await?;
    let copied = match &store.backend {
        Backend::Sqlite(db) => db.vacuum_into(dest).await,
        Backend::Postgres(_) => Err(StoreError::NotOnPostgres("backup")),
    };
    store.close().await;
    copied
}

/// The size in bytes of the SQLite database at `url` (pages × page size),
/// read-only; `None` on PostgreSQL.
pub async fn size(url: &str) -> Result<Option<u64>, StoreError> {
    let store = super::open_read_only(url, true).await?;
    let size = match &store.backend {
        Backend::Sqlite(db) => db.size().await.map(Some),
        Backend::Postgres(_) => Ok(None),
    };
    store.close().await;
    size
}

/// Whether another connection (a running `hanbao run`, another command)
/// has the SQLite file `file` open: it cannot be locked exclusively at
/// once. A file that does not exist is not in use.
pub async fn sqlite_in_use(file: &Path) -> Result<bool, StoreError> {
    if !file.exists() {
        return Ok(false);
    }
    sqlite::Db::in_use(file).await
}
