//! Prometheus text exposition (format 0.0.4) of hanbao's own counters and
//! of gauges read from the store.
//!
//! No metrics crate: a few atomics in [`Metrics`] (bumped by the daemon and
//! the API) plus a renderer. Everything not an atomic here is read from the
//! database by aggregate queries, at most once per maximum age
//! (`http::gauges`). Must not: keep history, or sample on its own (a
//! refresh runs only when a scrape finds a value too old).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters the daemon and the HTTP layer bump.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Configuration reloads that took effect.
    pub reloads_ok: AtomicU64,
    /// Configuration reloads refused (the old configuration was kept).
    pub reloads_failed: AtomicU64,
    /// API requests refused for a missing, unknown or revoked token.
    pub auth_failures: AtomicU64,
    /// API requests refused because the client had too many failures.
    pub auth_rate_limited: AtomicU64,
    /// Computations of the overdue gauge (`http::gauges`).
    pub overdue_refreshes: AtomicU64,
}

impl Metrics {
    /// Counts one reload by its result.
    pub fn record_reload(&self, ok: bool) {
        let c = if ok {
            &self.reloads_ok
        } else {
            &self.reloads_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// One metric family being written.
pub struct Exposition {
    out: String,
}

impl Exposition {
    pub fn new() -> Exposition {
        Exposition { out: String::new() }
    }

    /// `# HELP` and `# TYPE` lines; `kind` is "counter" or "gauge".
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    /// One sample; `labels` are (name, value) pairs, values escaped here.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape_label(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", format_value(value));
    }

    pub fn finish(self) -> String {
        self.out
    }
}

impl Default for Exposition {
    fn default() -> Self {
        Exposition::new()
    }
}

fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_families_and_escapes_labels() {
        let mut e = Exposition::new();
        e.family("x_total", "counter", "Things.\nMore");
        e.sample("x_total", &[("a", "q\"b\\c\nd")], 3.0);
        e.sample("x_total", &[], 0.5);
        assert_eq!(
            e.finish(),
            "# HELP x_total Things.\\nMore\n# TYPE x_total counter\nx_total{a=\"q\\\"b\\\\c\\nd\"} 3\nx_total 0.5\n"
        );
    }
}
