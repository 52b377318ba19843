//! The long-running service (`hanbao run`): scheduler, watchdog, signals.
//!
//! Submodules own one outside dependency each: `schedule` the cron crate,
//! `notify` the systemd notification socket. `crate::heartbeat` ties them
//! together: watchdog pings stop when the scheduler stops ticking. `leader`
//! decides which of several processes on one database plans and escalates.

pub mod clock;
pub mod leader;
pub mod notify;
pub mod run;
pub mod schedule;
