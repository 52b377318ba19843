//! `hanbao simulate` on the real binary: the `--index-only` mode lists
//! exactly the messages the .eml mode writes, and writes no .eml file.
//! It does not check what the messages say (see `daemon.rs` for a season
//! with its exact expected messages).

use std::path::Path;
use std::process::Command;

/// Runs `simulate` on the sample directive for June–July 2026 into `out`.
fn run(out: &Path, extra: &[&str]) -> String {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/quang-ngai-4040.toml");
    let state = out.with_extension("state");
    let output = Command::new(env!("CARGO_BIN_EXE_hanbao"))
        .args(["--config", config, "simulate"])
        .args(["--from", "2026-06-01", "--to", "2026-07-31"])
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("HANBAO_STATE_DIR", &state)
        .env("HANBAO_LOG", "warn")
        .output()
        .expect("run hanbao");
    assert!(
        output.status.success(),
        "simulate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn eml_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "eml")
        })
        .count()
}

/// The index without its last column (the .eml path, or the Message-ID).
fn rows(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("index.tsv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once('\t').unwrap().0.to_string())
        .collect()
}

#[test]
fn index_only_lists_the_same_messages_and_writes_no_eml() {
    let tmp = tempfile::tempdir().unwrap();
    let (full, index) = (tmp.path().join("full"), tmp.path().join("index"));
    let full_summary = run(&full, &[]);
    let index_summary = run(&index, &["--index-only"]);

    let (a, b) = (rows(&full), rows(&index));
    assert!(a.len() > 10, "the season produces messages: {a:?}");
    assert_eq!(a[0], "sent_at\trecipients\tsubject");
    assert_eq!(a, b, "same send times, recipients and subjects, same order");
    assert_eq!(eml_files(&full), a.len() - 1, "one .eml per message");
    assert_eq!(eml_files(&index), 0, "--index-only writes no .eml");
    // The last column is the Message-ID, as in the .eml file's header.
    let first = std::fs::read_to_string(index.join("index.tsv")).unwrap();
    let id = first.lines().nth(1).unwrap().rsplit('\t').next().unwrap();
    assert!(id.starts_with('<') && id.ends_with('>'), "{id}");

    // Same summary, with the per-kind counts adding up to the total.
    assert_eq!(
        full_summary.lines().skip(1).collect::<Vec<_>>(),
        index_summary.lines().skip(1).collect::<Vec<_>>()
    );
    let total: usize = index_summary
        .lines()
        .skip(1)
        .map(|l| l.rsplit(' ').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, a.len() - 1, "{index_summary}");
}

#[test]
fn index_only_and_deliver_exclude_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/quang-ngai-4040.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_hanbao"))
        .args(["--config", config, "simulate"])
        .args(["--from", "2026-06-01", "--to", "2026-06-02"])
        .arg("--out")
        .arg(tmp.path())
        .args(["--index-only", "--deliver"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--index-only"));
}
