//! Which of several `hanbao run` processes on one database leads: plans
//! (enqueues), sends the coordinator's digest and claims grouped
//! escalations. Every instance dispatches the other rows.
//!
//! [`Leadership`] wraps the store's `LeaderLock` (a PostgreSQL advisory lock
//! on a dedicated session, or always the leader on SQLite) behind a mutex,
//! records the role in the [`Heartbeat`] for `/healthz` and `/metrics`, and
//! logs every change. [`Leadership::confirm`] does IO (a round trip on the
//! lock's session, or an attempt to take the lock, reconnecting if needed):
//! the daemon calls it before each leader duty and every
//! [`LEADERSHIP_INTERVAL`] from a task of its own, so a dead leader is
//! replaced within about that interval.
//!
//! Must not: touch SQL directly (that is `store::LeaderLock`), or decide
//! what is sent.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, Notify};

use crate::store::LeaderLock;

use crate::heartbeat::Heartbeat;

/// How often a process that does not lead tries to take the lock (and a
/// leader confirms it still holds it).
pub const LEADERSHIP_INTERVAL: Duration = Duration::from_secs(5);

/// What one check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role {
    /// This process leads now.
    pub leader: bool,
    /// It did not at the previous check (a takeover, or the first check).
    pub gained: bool,
}

#[derive(Debug)]
struct Inner {
    lock: LeaderLock,
    /// The database could not be reached at the last check (logged once).
    unreachable: bool,
}

/// The process's leadership, shared by the tick, digest, mailbox and check
/// tasks.
#[derive(Clone)]
pub struct Leadership {
    inner: Arc<Mutex<Inner>>,
    heartbeat: Heartbeat,
    /// Signalled on every takeover, whichever task's check saw it: the
    /// takeover's own round (`run::Daemon::check_leadership`) must not
    /// depend on which caller happened to confirm first.
    gains: Arc<Notify>,
}

impl Leadership {
    pub fn new(lock: LeaderLock, heartbeat: Heartbeat) -> Leadership {
        Leadership {
            inner: Arc::new(Mutex::new(Inner {
                lock,
                unreachable: false,
            })),
            heartbeat,
            gains: Arc::new(Notify::new()),
        }
    }

    /// Resolves at the next takeover seen by any [`Leadership::confirm`]
    /// (or at once for one seen since the last call: the signal is kept).
    pub async fn gained(&self) {
        self.gains.notified().await;
    }

    /// Checks (IO) whether this process leads now, records and logs it.
    pub async fn confirm(&self) -> Role {
        let mut inner = self.inner.lock().await;
        let before = self.heartbeat.leader();
        let leader = match inner.lock.check().await {
            Ok(leader) => {
                if inner.unreachable {
                    inner.unreachable = false;
                    tracing::info!("quyền dẫn dắt: cơ sở dữ liệu đã trả lời lại");
                }
                leader
            }
            Err(e) => {
                if !inner.unreachable {
                    inner.unreachable = true;
                    tracing::warn!(
                        error = %e,
                        "quyền dẫn dắt: không kết nối được cơ sở dữ liệu; không dẫn dắt cho đến khi kết nối lại (thử lại mỗi {} giây)",
                        LEADERSHIP_INTERVAL.as_secs()
                    );
                }
                false
            }
        };
        self.heartbeat.set_leader(leader);
        let gained = leader && before != Some(true);
        if gained {
            self.gains.notify_one();
            tracing::info!(
                lock = inner.lock.kind(),
                "đã nhận quyền dẫn dắt (leader): tiến trình này lập lịch thư, gửi bản tổng hợp và các thư đôn đốc gộp"
            );
        } else if !leader && before == Some(true) {
            tracing::warn!(
                "mất quyền dẫn dắt: tiến trình này ngừng lập lịch thư và để thư đôn đốc cho tiến trình dẫn dắt"
            );
        } else if !leader && before.is_none() {
            tracing::info!(
                "một tiến trình khác đang dẫn dắt; tiến trình này chỉ gửi thư nhắc và thư báo cho đơn vị"
            );
        }
        Role { leader, gained }
    }

    /// Whether this process led at the last check (no IO).
    pub fn is_leader(&self) -> bool {
        self.heartbeat.leader() == Some(true)
    }

    /// Gives the lock up (shutdown), so another instance takes over at its
    /// next check.
    pub async fn release(&self) {
        let mut inner = self.inner.lock().await;
        let was = inner.lock.held();
        inner.lock.release().await;
        if was && !matches!(inner.lock, LeaderLock::Single) {
            self.heartbeat.set_leader(false);
            tracing::info!("đã trả quyền dẫn dắt");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[tokio::test]
    async fn a_single_process_always_leads_and_says_so_once() {
        let hb = Heartbeat::new(Instant::now());
        let l = Leadership::new(LeaderLock::Single, hb.clone());
        assert_eq!(hb.leader(), None);
        assert_eq!(
            l.confirm().await,
            Role {
                leader: true,
                gained: true
            }
        );
        assert_eq!(
            l.confirm().await,
            Role {
                leader: true,
                gained: false
            }
        );
        assert!(l.is_leader());
        // The takeover is signalled once, to whoever waits for it later.
        tokio::time::timeout(std::time::Duration::from_secs(1), l.gained())
            .await
            .expect("the gain seen by confirm is signalled");
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), l.gained())
                .await
                .is_err(),
            "only once"
        );
        l.release().await;
        assert_eq!(hb.leader(), Some(true), "SQLite: still the only process");
    }
}
