//! Talking to systemd: READY, RELOADING, STOPPING, STATUS and WATCHDOG.
//!
//! The only module that imports `sd-notify`. Outside systemd (no
//! `NOTIFY_SOCKET`) every call is a no-op, so the daemon runs the same in a
//! terminal, in tests and under `Type=notify`.

use std::time::Duration;

use sd_notify::NotifyState;

/// Startup finished: the configuration is loaded and the scheduler runs.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// A configuration reload (SIGHUP) started. Newer systemd wants the
/// monotonic time with it.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

/// Shutdown started: the sends in flight are being finished.
pub fn stopping() {
    send(&[
        NotifyState::Stopping,
        NotifyState::Status("finishing the sends in flight"),
    ]);
}

/// A free-form status line shown by `systemctl status`.
pub fn status(text: &str) {
    send(&[NotifyState::Status(text)]);
}

/// One watchdog ping: "the scheduler is still ticking".
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// The watchdog interval systemd asked for (`WatchdogSec=`), if any.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled()
}

fn send(states: &[NotifyState]) {
    if let Err(err) = sd_notify::notify(states) {
        tracing::debug!(error = %err, "không báo được cho systemd (sd_notify)");
    }
}
