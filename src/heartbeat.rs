//! The scheduler's heartbeat: proof that periodic jobs still run.
//!
//! Every scheduler tick calls [`Heartbeat::beat`]. The watchdog task (and the
//! health endpoint) ask [`Heartbeat::age`]; if the scheduler stops ticking,
//! the pings to systemd stop and systemd restarts the daemon. Time comes from
//! the caller's monotonic clock so tests can drive it.
//!
//! It also carries this process's role among several instances (set by
//! `daemon::leader`, read by `/healthz` and `/metrics`).
//!
//! A leaf: written by the daemon, read by the web face that the daemon
//! starts, so it imports neither (the web face never imports the daemon).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The watchdog's pings stop, and `/healthz` answers 503, when the last
/// tick is older than this (below the unit's `WatchdogSec=120s`; ticks
/// come every minute).
pub const TICK_MAX_AGE: Duration = Duration::from_secs(90);

/// Shared, lock-free record of the last tick.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    origin: Instant,
    /// Milliseconds since `origin` of the last beat; `u64::MAX` = never.
    last_ms: Arc<AtomicU64>,
    /// 0 = not checked yet, 1 = not the leader, 2 = the leader.
    leader: Arc<AtomicU8>,
}

impl Heartbeat {
    pub fn new(origin: Instant) -> Heartbeat {
        Heartbeat {
            origin,
            last_ms: Arc::new(AtomicU64::new(u64::MAX)),
            leader: Arc::new(AtomicU8::new(0)),
        }
    }

    /// Records whether this process is the leader (see `daemon::leader`).
    pub fn set_leader(&self, leader: bool) {
        self.leader
            .store(if leader { 2 } else { 1 }, Ordering::Release);
    }

    /// Whether this process was the leader at the last check; `None`
    /// before the first one.
    pub fn leader(&self) -> Option<bool> {
        match self.leader.load(Ordering::Acquire) {
            0 => None,
            v => Some(v == 2),
        }
    }

    /// Records a tick at `now`.
    pub fn beat(&self, now: Instant) {
        let ms = now.saturating_duration_since(self.origin).as_millis();
        self.last_ms
            .store(u64::try_from(ms).unwrap_or(u64::MAX - 1), Ordering::Release);
    }

    /// Time since the last tick, or `None` if there never was one.
    pub fn age(&self, now: Instant) -> Option<Duration> {
        let last = self.last_ms.load(Ordering::Acquire);
        if last == u64::MAX {
            return None;
        }
        let now_ms = u64::try_from(now.saturating_duration_since(self.origin).as_millis())
            .unwrap_or(u64::MAX);
        Some(Duration::from_millis(now_ms.saturating_sub(last)))
    }

    /// Whether the last tick is at most `max_age` old.
    pub fn is_alive(&self, now: Instant, max_age: Duration) -> bool {
        self.age(now).is_some_and(|age| age <= max_age)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alive_only_while_beating() {
        let t0 = Instant::now();
        let hb = Heartbeat::new(t0);
        assert!(!hb.is_alive(t0, Duration::from_secs(60)), "never beat");
        hb.beat(t0 + Duration::from_secs(10));
        assert_eq!(
            hb.age(t0 + Duration::from_secs(40)),
            Some(Duration::from_secs(30))
        );
        assert!(hb.is_alive(t0 + Duration::from_secs(70), Duration::from_secs(60)));
        assert!(!hb.is_alive(t0 + Duration::from_secs(71), Duration::from_secs(60)));
        let clone = hb.clone();
        clone.beat(t0 + Duration::from_secs(100));
        assert!(hb.is_alive(t0 + Duration::from_secs(120), Duration::from_secs(60)));
    }

    #[test]
    fn leader_role_is_shared_by_clones() {
        let hb = Heartbeat::new(Instant::now());
        assert_eq!(hb.leader(), None, "not checked yet");
        let clone = hb.clone();
        clone.set_leader(true);
        assert_eq!(hb.leader(), Some(true));
        clone.set_leader(false);
        assert_eq!(hb.leader(), Some(false));
    }
}
