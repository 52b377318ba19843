//! Writes the national-scale configuration of the benchmarks (4,000 units,
//! 22 obligations, a daily and a weekly one among them; `testkit::national`)
//! to a file.
//!
//! Usage: `cargo run --example gen_national -- /tmp/national.toml`
//! The output passes `hanbao check`. Deterministic: no randomness, no clock.

fn main() -> std::io::Result<()> {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: gen_national OUTPUT.toml");
        std::process::exit(2);
    };
    let text = testkit::national::generate();
    std::fs::write(&path, &text)?;
    eprintln!(
        "wrote {} ({} bytes)",
        std::path::Path::new(&path).display(),
        text.len()
    );
    Ok(())
}
