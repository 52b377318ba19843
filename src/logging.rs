//! Logging setup: journald under systemd, readable stderr otherwise.
//!
//! The only module that touches `tracing-subscriber` and `tracing-journald`.
//! It decides where log lines go and how they are stamped, never what they
//! say: secrets are kept out of log lines by the types that hold them (see
//! `mail` and `config::model`).
//!
//! Lines on stderr are stamped with the local time of the configured zone
//! (`daemon.time_zone`, set by [`use_time_zone`] each time a configuration
//! is loaded; the system's zone before that), its UTC offset shown
//! (`2026-06-22T07:30:00.123+07:00`), so they read like the local times
//! inside the messages. The journal stamps its own lines.

use std::sync::RwLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::prelude::*;

/// The zone log lines are stamped in; `None`: the system's.
static ZONE: RwLock<Option<TimeZone>> = RwLock::new(None);

/// Stamps the log lines from now on in `tz` (the configured
/// `daemon.time_zone`).
pub fn use_time_zone(tz: &TimeZone) {
    if let Ok(mut zone) = ZONE.write() {
        *zone = Some(tz.clone());
    }
}

/// An instant as a log line's stamp: local time in `tz` with its offset.
pub fn stamp(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// An instant inside a log message, as people read it: `22/06/2026 07:30
/// +07:00` (local time in `tz`, offset shown).
pub fn local_time(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%d/%m/%Y %H:%M %:z")
        .to_string()
}

/// The timer of the stderr layer: [`stamp`] in the zone in use.
struct LocalTimer;

impl FormatTime for LocalTimer {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        let tz = ZONE
            .read()
            .ok()
            .and_then(|z| z.clone())
            .unwrap_or_else(TimeZone::system);
        w.write_str(&stamp(Timestamp::now(), &tz))
    }
}

/// Where log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    Journald,
    Stderr,
}

/// Picks journald when systemd connected our stderr to the journal
/// (`JOURNAL_STREAM` is set), plain stderr otherwise.
pub fn sink_from_env(journal_stream: Option<&str>) -> Sink {
    match journal_stream {
        Some(s) if !s.is_empty() => Sink::Journald,
        _ => Sink::Stderr,
    }
}

/// The default filter: hanbao's own `info` lines; the cron crate's chatter
/// ("Job creator created", ...) only when it warns.
pub const DEFAULT_FILTER: &str = "info,tokio_cron_scheduler=warn";

/// The default filter of a preview (`simulate`): its messages are listed in
/// its summary and index, and "sent" lines stamped with today's time would
/// read as if mail had gone out; warnings and errors still show.
pub const PREVIEW_FILTER: &str = "warn";

/// Installs the global subscriber. `HANBAO_LOG` (an `EnvFilter` directive
/// such as `info` or `hanbao=debug`) overrides [`DEFAULT_FILTER`].
/// Calling it twice is harmless (the second call changes nothing).
pub fn init() {
    init_with(DEFAULT_FILTER);
}

/// [`init`] with another default filter (`HANBAO_LOG` still overrides it).
pub fn init_with(default: &str) {
    let filter = EnvFilter::try_from_env("HANBAO_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let sink = sink_from_env(std::env::var("JOURNAL_STREAM").ok().as_deref());
    let registry = tracing_subscriber::registry().with(filter);
    let result = match sink {
        Sink::Journald => match tracing_journald::layer() {
            Ok(layer) => registry
                .with(layer.with_syslog_identifier("hanbao".into()))
                .try_init(),
            Err(_) => registry.with(stderr_layer()).try_init(),
        },
        Sink::Stderr => registry.with(stderr_layer()).try_init(),
    };
    // Already initialised (tests, a second call): keep the first subscriber.
    let _ = result;
}

fn stderr_layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use std::io::IsTerminal;
    // Colours only for a person at a terminal, never into files or pipes.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .with_timer(LocalTimer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_local_with_the_offset() {
        let t: Timestamp = "2026-06-22T00:30:00.5Z".parse().unwrap();
        let hcm = TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        assert_eq!(stamp(t, &hcm), "2026-06-22T07:30:00.500+07:00");
        assert_eq!(local_time(t, &hcm), "22/06/2026 07:30 +07:00");
        assert_eq!(stamp(t, &TimeZone::UTC), "2026-06-22T00:30:00.500+00:00");
    }

    #[test]
    fn journald_only_when_systemd_says_so() {
        for (env, sink) in [
            (None, Sink::Stderr),
            (Some(""), Sink::Stderr),
            (Some("8:12345"), Sink::Journald),
        ] {
            assert_eq!(sink_from_env(env), sink, "{env:?}");
        }
    }
}
