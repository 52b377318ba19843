//! Command output for people and scripts: one file per command group.
//!
//! The edge of the program: turns library results into text, JSON or CSV
//! and exit codes. The binary (`src/main.rs`) wires these to clap.

pub mod calendar;
pub mod check;
pub mod import;
pub mod plan;
pub mod record;
pub mod run;
pub mod send_test;
pub mod simulate;
pub mod status;
pub mod token;

/// "; did you mean ...?" for an unknown id, naming the nearest known ids.
pub fn suggest(id: &str, known: &[&str]) -> String {
    let mut scored: Vec<(f64, &str)> = known
        .iter()
        .map(|k| (strsim::jaro_winkler(id, k), *k))
        .filter(|(s, _)| *s >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let best: Vec<String> = scored
        .iter()
        .take(3)
        .map(|(_, k)| format!("{k:?}"))
        .collect();
    if best.is_empty() {
        String::new()
    } else {
        format!("; có phải ý là {}?", best.join(", "))
    }
}
