//! The `hanbao` command: a thin edge over the library.
//!
//! Parses the command line (its definition is `hanbao::commands::cli`, where
//! the man pages and completions are generated from too), sets up logging,
//! resolves the environment once (`hanbao::environment`, through
//! `commands::Context`) and hands over to the command's `run` in
//! `hanbao::commands`. No command runs on a configuration that fails
//! `hanbao check` (exit code 78).

use std::process::ExitCode;

use clap::Parser;

use hanbao::commands::{self, Context, cli};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // A preview's per-message lines only with --verbose (or HANBAO_LOG).
    let preview = matches!(cli.command, cli::Command::Simulate(_)) && !cli.global.verbose;
    hanbao::logging::init_with(if preview {
        hanbao::logging::PREVIEW_FILTER
    } else {
        hanbao::logging::DEFAULT_FILTER
    });
    commands::exit(Context::new(cli.global).and_then(|ctx| cli::dispatch(&ctx, cli.command)))
}
