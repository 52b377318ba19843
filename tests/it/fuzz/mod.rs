//! Fuzzing with proptest, in the normal `cargo test`, bounded in time.
//!
//! - `loader`: the configuration loader and the value parsers (dates,
//!   periods, offsets, times, due rules, URLs) on a mutated corpus,
//!   generated configurations and arbitrary text.
//! - `api`: generated and mutated requests to the real router (in process,
//!   `tower::ServiceExt::oneshot`): the JSON API, the calendar feeds,
//!   `/healthz` and `/metrics`.
//! - `web`: the dashboard's login and report forms with a real session and
//!   CSRF token, its pages' filters, and the one-click confirmation page
//!   with signed, forged and mutated links.
//! - `import`: `hanbao import`'s CSV reader and checks (`import_csv`) on
//!   mutated bytes.
//!
//! The HTTP and import properties: no panic, no 5xx, every API error in
//! the one JSON shape with a stable code, pages that escape whatever was
//! typed, and no half-written state: the history (`app::App::settle`) only
//! grows, and only by a write the response announces (201, a redirect
//! after a form, an import that says it recorded its rows).
//!
//! Time-bounded rather than case-bounded: `HANBAO_FUZZ_SECS` (default 20)
//! is split between the tests (each takes a fraction of it; they run in
//! parallel, two at a time on two cores: about 45 CPU-seconds in all).
//! `HANBAO_FUZZ_SECS=600 cargo test --test it fuzz:: -- --nocapture` for
//! a longer local run. Each run draws a fresh seed and prints it with its
//! counts and on failure (`HANBAO_FUZZ_SEED=N` replays one; the HTTP and
//! import tests keep a database across cases, so a replay is close, not
//! exact); `HANBAO_FUZZ_SHOW=1` prints why generated configurations were
//! refused, the API's error answers and the import's refusals (to tune
//! the generators). Every bug found gets a regression test
//! named after what it reproduces, beside the fuzzer that found it.

mod api;
mod app;
mod import;
mod loader;
mod pools;
mod web;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};

/// The whole budget in seconds (`HANBAO_FUZZ_SECS`, default 20).
fn budget() -> Duration {
    let secs = std::env::var("HANBAO_FUZZ_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(20.0);
    Duration::from_secs_f64(secs)
}

/// A runner with a fresh (or `HANBAO_FUZZ_SEED`) seed, no persistence
/// files, and shrinking bounded so a failure is reported quickly.
fn runner() -> (TestRunner, u64) {
    let seed = std::env::var("HANBAO_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = RunnerConfig {
        cases: 32,
        failure_persistence: None,
        max_shrink_iters: 2000,
        // Cases of the HTTP and import fuzzers touch a database: shrinking
        // them for long would hold the whole test run.
        max_shrink_time: 60_000,
        ..RunnerConfig::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    (TestRunner::new_with_rng(config, rng), seed)
}

/// Runs `test` on values of `strategy` until `time` is spent (at least one
/// round of 32 cases), panicking with the shrunk input on a failure.
fn fuzz_for<S: Strategy>(name: &str, time: Duration, strategy: S, test: impl Fn(S::Value) + Clone)
where
    S::Value: std::fmt::Debug,
{
    let (mut parent, seed) = runner();
    let start = Instant::now();
    let mut rounds = 0u64;
    loop {
        // A runner counts its successes: a fresh one per round, its
        // random numbers drawn from the parent's.
        let mut runner = TestRunner::new_with_rng(parent.config().clone(), parent.new_rng());
        let t = test.clone();
        let result = runner.run(&strategy, move |v| {
            t(v);
            Ok(())
        });
        if let Err(e) = result {
            panic!("fuzz {name}: {e}\n(replay: HANBAO_FUZZ_SEED={seed})");
        }
        rounds += 1;
        if start.elapsed() >= time {
            break;
        }
    }
    eprintln!(
        "fuzz {name}: {} inputs in {:.1} s, seed {seed}",
        rounds * 32,
        start.elapsed().as_secs_f64()
    );
}

/// Counts outcomes by name across proptest's cases (to see that the
/// generators reach every branch: writes, refusals, each status).
#[derive(Clone, Default)]
struct Tally(Arc<Mutex<BTreeMap<String, u64>>>);

impl Tally {
    fn add(&self, what: impl Into<String>) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(what.into()).or_default() += 1;
    }

    fn report(&self, name: &str) {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        eprintln!("fuzz {name}: {}", parts.join(", "));
    }
}

/// A current-thread runtime for the async cases of a (synchronous)
/// proptest run.
fn runtime() -> Arc<tokio::runtime::Runtime> {
    Arc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime"),
    )
}

/// Shown in a failure report: text as text (lossy), cut when long.
#[derive(Clone)]
struct Bytes(Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const SHOWN: usize = 3000;
        let text = String::from_utf8_lossy(&self.0[..self.0.len().min(SHOWN)]).into_owned();
        if self.0.len() > SHOWN {
            write!(f, "{text:?}… ({} bytes)", self.0.len())
        } else {
            write!(f, "{text:?}")
        }
    }
}

/// Any strategy of `&'static str` from a list.
fn one_of(list: &'static [&'static str]) -> impl Strategy<Value = &'static str> + Clone {
    proptest::sample::select(list)
}
