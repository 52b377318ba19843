//! Retention: how long finished outbox rows are kept, and their removal
//! by the daemon's daily housekeeping.
//!
//! A row that finished (`sent`, `skipped`, `cancelled`) and last changed
//! more than `daemon.outbox_retention_days` ago is deleted
//! (`Outbox::purge_finished`); its counts move to `outbox_purged`, so the
//! counters of `/metrics` never go down. `pending`, `sending` and `failed`
//! rows are kept whatever their age (a failed row waits for an
//! administrator), and so is the history of submissions (`events`), which
//! nothing ever deletes.
//!
//! Why deleting is safe: a row's unique key is what stops the planner from
//! enqueuing its notification again. The planner only plans events whose
//! day lies within the last [`LOOKBACK_DAYS`] days, and a row is written
//! only once its event's time has come, so its event's day is no later
//! than the day of its `updated_at`. A row deleted for being older than
//! [`MIN_OUTBOX_RETENTION_DAYS`] (more than `LOOKBACK_DAYS` plus a day)
//! is therefore outside every future look-back, and is never planned, let
//! alone sent, again. The constant assertion below keeps the two numbers
//! in that order.
//!
//! Must not: read the clock (`now` is given), or touch rows still to send.

use jiff::{SignedDuration, Timestamp};

use crate::config::model::{Config, MIN_OUTBOX_RETENTION_DAYS};
use crate::store::{Outbox, Store, StoreError};

use super::LOOKBACK_DAYS;

const _: () = assert!(
    MIN_OUTBOX_RETENTION_DAYS as i64 > LOOKBACK_DAYS + 1,
    "retention must outlast the planner's look-back"
);

/// The instant before which finished rows are deleted at `now`.
pub fn cutoff(now: Timestamp, retention_days: u32) -> Timestamp {
    let keep = SignedDuration::from_hours(24 * i64::from(retention_days));
    now.checked_sub(keep).unwrap_or(Timestamp::MIN)
}

/// Deletes the finished rows older than the configured retention at `now`;
/// returns how many.
pub async fn purge(store: &Store, cfg: &Config, now: Timestamp) -> Result<u64, StoreError> {
    store
        .purge_finished(cutoff(now, cfg.daemon.outbox_retention_days))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_whole_days_before_now() {
        let now: Timestamp = "2026-06-30T01:00:00Z".parse().unwrap();
        assert_eq!(
            cutoff(now, 730),
            "2024-06-30T01:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(cutoff(Timestamp::MIN, 100), Timestamp::MIN);
    }
}
