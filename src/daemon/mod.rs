//! The long-running service (`hanbao run`): scheduler, watchdog, signals.
//!
//! Submodules own one outside dependency each: `schedule` the cron crate,
//! `notify` the systemd notification socket. `heartbeat` ties them together:
//! watchdog pings stop when the scheduler stops ticking.

pub mod heartbeat;
pub mod notify;
pub mod run;
pub mod schedule;
