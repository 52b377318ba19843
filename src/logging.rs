//! Logging setup: journald under systemd, readable stderr otherwise.
//!
//! The only module that touches `tracing-subscriber` and `tracing-journald`.
//! It decides where log lines go, never what they say: secrets are kept out
//! of log lines by the types that hold them (see `mail` and `config::model`).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

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

/// Installs the global subscriber. `HANBAO_LOG` (an `EnvFilter` directive
/// such as `info` or `hanbao=debug`) overrides [`DEFAULT_FILTER`].
/// Calling it twice is harmless (the second call changes nothing).
pub fn init() {
    let filter =
        EnvFilter::try_from_env("HANBAO_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
