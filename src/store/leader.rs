//! Leadership among several `hanbao run` processes on one database: which
//! one plans, sends the digest and sends grouped escalations. [`Election`]
//! is the store's interface for it (the daemon's `daemon::leader` is its
//! client).
//!
//! On PostgreSQL the leader is the process holding a session-level advisory
//! lock (`pg_try_advisory_lock(LEADER_LOCK_KEY)`, scoped to the database) on
//! a connection of its own, outside the pool, so that the lock lives exactly
//! as long as that session: when the process dies, its connection closes and
//! the server releases the lock; the next attempt of another process takes
//! it. The session asks the server to close it when the client stays silent
//! (`idle_session_timeout`, TCP keepalives), so a hung or unreachable leader
//! loses the lock within [`SILENT_SESSION_CLOSED_AFTER`] even without a
//! clean disconnect. A lock held is confirmed by a round trip on that
//! connection before each leader duty; a failed or slow round trip drops
//! the connection: not leader.
//!
//! On SQLite there is one process per database file by design: it is
//! always the leader ([`LeaderLock::Single`]). Several processes on one file
//! stay safe (claims are `BEGIN IMMEDIATE`, so no row is sent by two), but
//! each plans (idempotent), each sends the digest, and escalations to one
//! recipient may be split between processes.
//!
//! Must not: read the clock, or hold the lock on a pooled connection.

use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use super::{Store, StoreError};

/// What the daemon's leadership loop asks of the store. Implemented once,
/// by [`Store`].
pub trait Election {
    /// A new, not yet taken, leadership lock for this database: the
    /// advisory lock on a dedicated session (PostgreSQL), or always the
    /// leader (SQLite). No IO until [`LeaderLock::check`].
    fn leader_lock(&self) -> LeaderLock;
}

impl Election for Store {
    fn leader_lock(&self) -> LeaderLock {
        on_backend!(self, db => db.leader_lock())
    }
}

/// The advisory lock key: "hanbao" in ASCII, then 1.
pub const LEADER_LOCK_KEY: i64 = 0x6861_6e62_616f_0001;

/// How long a connect, lock attempt or liveness round trip may take before
/// the lock connection counts as lost.
pub const ROUND_TRIP_TIMEOUT: Duration = Duration::from_secs(3);

/// The server closes the lock session when the client has said nothing for
/// this long (`idle_session_timeout`), releasing the lock of a leader that
/// hangs. The daemon checks every few seconds, well inside it.
pub const SILENT_SESSION_CLOSED_AFTER: Duration = Duration::from_secs(30);

/// Session settings of the lock connection; each is tried alone and a
/// server that does not know one (e.g. `idle_session_timeout` before
/// PostgreSQL 14) just keeps its default.
const SESSION_SETTINGS: [&str; 4] = [
    "SET idle_session_timeout = '30s'",
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
];

/// The leadership lock of one process. Not shared: the daemon keeps one
/// behind a mutex.
#[derive(Debug)]
pub enum LeaderLock {
    /// One process per database (SQLite): always the leader.
    Single,
    /// PostgreSQL: the advisory lock on a dedicated session.
    Postgres(Box<PgLeaderLock>),
}

/// The advisory-lock session (see the module docs).
#[derive(Debug)]
pub struct PgLeaderLock {
    options: PgConnectOptions,
    conn: Option<PgConnection>,
    held: bool,
}

impl LeaderLock {
    pub(crate) fn postgres(options: PgConnectOptions) -> LeaderLock {
        LeaderLock::Postgres(Box::new(PgLeaderLock {
            options,
            conn: None,
            held: false,
        }))
    }

    /// Whether this process leads now. A lock already held is confirmed by
    /// a round trip on its connection; otherwise (or if that failed) the
    /// lock is tried, connecting again if needed. `Err` means the database
    /// could not be reached: not leader, try again later.
    pub async fn check(&mut self) -> Result<bool, StoreError> {
        match self {
            LeaderLock::Single => Ok(true),
            LeaderLock::Postgres(pg) => pg.check().await,
        }
    }

    /// Whether the last check found the lock held (no IO).
    pub fn held(&self) -> bool {
        match self {
            LeaderLock::Single => true,
            LeaderLock::Postgres(pg) => pg.held,
        }
    }

    /// Gives the lock up (on shutdown) by closing its session.
    pub async fn release(&mut self) {
        if let LeaderLock::Postgres(pg) = self {
            pg.held = false;
            if let Some(conn) = pg.conn.take() {
                let _ = tokio::time::timeout(ROUND_TRIP_TIMEOUT, conn.close()).await;
            }
        }
    }

    /// "postgres advisory lock" or "single process" (for logs).
    pub fn kind(&self) -> &'static str {
        match self {
            LeaderLock::Single => "single process",
            LeaderLock::Postgres(_) => "postgres advisory lock",
        }
    }
}

impl PgLeaderLock {
    async fn check(&mut self) -> Result<bool, StoreError> {
        if self.held {
            if let Some(conn) = self.conn.as_mut()
                && let Ok(Ok(())) = tokio::time::timeout(ROUND_TRIP_TIMEOUT, conn.ping()).await
            {
                return Ok(true);
            }
            // The session is gone or silent: so is the lock.
            self.held = false;
            self.drop_connection();
        }
        let result = tokio::time::timeout(ROUND_TRIP_TIMEOUT, self.try_lock()).await;
        match result {
            Ok(Ok(got)) => {
                self.held = got;
                Ok(got)
            }
            Ok(Err(e)) => {
                self.drop_connection();
                Err(e)
            }
            Err(_) => {
                self.drop_connection();
                Err(StoreError::Open(
                    "leadership lock: the database did not answer in time".into(),
                ))
            }
        }
    }

    async fn try_lock(&mut self) -> Result<bool, StoreError> {
        if self.conn.is_none() {
            let mut conn = PgConnection::connect_with(&self.options)
                .await
                .map_err(|e| StoreError::Open(format!("leadership lock connection: {e}")))?;
            for sql in SESSION_SETTINGS {
                let _ = sqlx::query(sql).execute(&mut conn).await;
            }
            self.conn = Some(conn);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Ok(false);
        };
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(LEADER_LOCK_KEY)
            .fetch_one(conn)
            .await?;
        Ok(got)
    }

    fn drop_connection(&mut self) {
        // Dropping closes the socket; the server ends the session (and
        // releases the lock, if it still held one) when it notices.
        self.conn = None;
    }
}
