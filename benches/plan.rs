//! Planner benchmark: the national-scale configuration written by
//! `testkit::national` (4,000 units, 22 obligations of mixed cycles,
//! window styles and due rules), loaded through `config::load`, planned for
//! one year on one core. Prints unit-period deadlines per second, events per
//! second and peak memory (VmHWM) against the size of the output.
//!
//! Run with `cargo bench --bench plan`. Plain `std::time::Instant`, no
//! harness; it reads /proc/self/status for memory and nothing else.

use std::hint::black_box;
use std::time::{Duration, Instant};

use hanbao::calendar::WorkCalendar;
use hanbao::config::model::Config;
use hanbao::planner::{Event, Filter, deadlines, plan};
use jiff::civil::date;

/// The national-scale configuration of `testkit::national`,
/// loaded and validated like any administrator's file.
fn model() -> Config {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("national.toml");
    std::fs::write(&path, testkit::national::generate()).expect("write generated config");
    let start = Instant::now();
    let loaded =
        hanbao::config::load(&path).unwrap_or_else(|e| panic!("generated config is invalid: {e}"));
    println!(
        "config: generated {} bytes, loaded and validated in {:.1} ms",
        std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
        start.elapsed().as_secs_f64() * 1e3
    );
    loaded.config
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Best of `runs` timings of `f`, and its last result.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        drop(out.take());
        let t = Instant::now();
        let r = black_box(f());
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.expect("runs > 0"))
}

fn main() {
    let t = Instant::now();
    let cfg = model();
    let cal = WorkCalendar::new(&cfg.calendar);
    let (from, to) = (date(2026, 1, 1), date(2026, 12, 31));
    let filter = Filter::default();
    let reporters: usize = cfg.obligations.iter().map(|o| o.reporters.len()).sum();
    println!(
        "model: {} units, {} obligations, {} reporter links (built in {:.0?})",
        cfg.units.len(),
        cfg.obligations.len(),
        reporters,
        t.elapsed()
    );
    let base = vm_hwm_kib();
    println!("VmHWM after building the model: {:.1} MiB", mib(base));

    let (dt, ds) = best(7, || deadlines(&cfg, &cal, from, to, &filter));
    let n = ds.len();
    let bytes = n * std::mem::size_of_val(&ds[0]);
    println!(
        "deadlines 2026: {n} unit-period deadlines in {:.1} ms (best of 7) = {:.0} deadlines/s; \
         output {:.1} MiB ({} B each)",
        dt.as_secs_f64() * 1e3,
        n as f64 / dt.as_secs_f64(),
        bytes as f64 / (1 << 20) as f64,
        std::mem::size_of_val(&ds[0]),
    );
    drop(ds);
    let after_deadlines = vm_hwm_kib();
    println!(
        "VmHWM after deadlines: {:.1} MiB (+{:.1} MiB over the model)",
        mib(after_deadlines),
        mib(after_deadlines - base)
    );

    let (et, events): (Duration, Vec<Event>) = best(3, || plan(&cfg, &cal, from, to, &filter));
    let m = events.len();
    let ebytes = m * std::mem::size_of::<Event>();
    println!(
        "plan 2026: {m} events in {:.1} ms (best of 3) = {:.0} events/s; output {:.1} MiB \
         ({} B each, recipient lists shared)",
        et.as_secs_f64() * 1e3,
        m as f64 / et.as_secs_f64(),
        ebytes as f64 / (1 << 20) as f64,
        std::mem::size_of::<Event>(),
    );
    let after_plan = vm_hwm_kib();
    println!(
        "VmHWM after plan: {:.1} MiB (+{:.1} MiB over the model; {:.2}x the event vector)",
        mib(after_plan),
        mib(after_plan - base),
        (after_plan - base) as f64 * 1024.0 / ebytes as f64
    );

    let sample = &events[..events.len().min(200_000)];
    let t = Instant::now();
    let json = hanbao::planner::events::to_json_lines(sample);
    let jt = t.elapsed();
    println!(
        "json: {} events in {:.1} ms = {:.0} events/s ({:.0} B per line)",
        sample.len(),
        jt.as_secs_f64() * 1e3,
        sample.len() as f64 / jt.as_secs_f64(),
        json.len() as f64 / sample.len() as f64
    );
    let target = 1_000_000.0;
    let rate = n as f64 / dt.as_secs_f64();
    println!(
        "target >= {target:.0} deadlines/s on one core: {}",
        if rate >= target { "met" } else { "NOT met" }
    );
}
