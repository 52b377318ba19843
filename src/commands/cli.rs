//! The command line of `hanbao`: the clap tree of every command ([`Cli`],
//! [`Command`]) and the one place that hands each command to its `run`
//! ([`dispatch`]).
//!
//! In the library rather than in `src/main.rs` so that the generator of the
//! man pages and shell completions (`xtask`, run when the Debian package is
//! built) reads the same definition the binary parses: [`command`]. Must
//! not: do any work of a command itself, or read the environment (that is
//! `super::Context`'s, once).

use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};

use super::{
    Context, GlobalArgs, backup, calendar, check, compliance, export, import, init, plan, record,
    restore, run, send_test, simulate, status, token, units, verify_db,
};

/// The whole command line: the global flags and one command.
#[derive(Parser, Debug)]
#[command(
    name = "hanbao",
    version = crate::VERSION,
    about = "Hạn báo cáo: periodic reporting deadlines for Vietnamese agencies"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Every command; each one's arguments live in its own file under
/// `src/commands/`.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate the configuration (every problem with file:line:column) and
    /// say where the state directory, database and .eml files are
    Check,
    /// Every deadline, reminder and escalation in a date range
    Plan(plan::Args),
    /// The Vietnamese calendar: holidays, lunar and solar dates
    #[command(subcommand)]
    Calendar(calendar::Command),
    /// Run the daemon: reminders and escalations by email (SIGHUP reloads)
    Run,
    /// Every message a date range would produce, through the real pipeline
    /// on a virtual clock (its own throwaway database; .eml files and index.tsv)
    Simulate(simulate::Options),
    /// Send a test message with the configured mail settings
    SendTest(send_test::Args),
    /// Who has reported: units × obligations for a period, with days late
    Status(status::Args),
    /// The status table as CSV for LibreOffice/Excel (UTF-8 BOM, CRLF)
    Export(export::Args),
    /// Compliance over a range of periods per group and unit (year-end
    /// assessment); CSV, .xlsx or JSON
    Compliance(compliance::Args),
    /// Record that a report arrived
    Submit(record::SubmitArgs),
    /// Withdraw a submission, extension or waiver (history is kept)
    Revoke(record::RevokeArgs),
    /// Grant a unit a new due date for one period
    Extend(record::ExtendArgs),
    /// Exempt a unit from one period
    Waive(record::WaiveArgs),
    /// Every recorded change, oldest first, in local time
    History(record::HistoryArgs),
    /// Record many submissions from a CSV file, all or nothing
    Import(import::Args),
    /// API tokens for /api/v1: create (prints the secret once), list, revoke
    #[command(subcommand)]
    Token(token::Command),
    /// A consistent copy of the SQLite database, while the daemon runs
    Backup(backup::Args),
    /// Put a backup in place of the SQLite database (--force to replace data)
    #[command(mut_arg("file", |a| a.help(restore::FILE_HELP)))]
    #[command(mut_arg("force", |a| a.help(restore::FORCE_HELP)))]
    Restore(restore::Args),
    /// Check a database or a backup: integrity, schema version, row counts
    VerifyDb(verify_db::Args),
    /// Units: import a unit list from a spreadsheet
    #[command(subcommand)]
    Units(units::Command),
    /// Write a starter configuration (Vietnamese comments) into a directory
    Init(init::Args),
}

/// The clap definition of the command line, built: what the man pages and
/// the shell completions are generated from.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Runs one command in `ctx`.
pub fn dispatch(ctx: &Context, command: Command) -> Result<ExitCode> {
    match command {
        Command::Check => check::run(ctx),
        Command::Plan(args) => plan::run(ctx, args),
        Command::Calendar(cmd) => calendar::run(ctx, cmd),
        Command::Run => run::run(ctx),
        Command::Simulate(args) => simulate::run(ctx, args),
        Command::SendTest(args) => send_test::run(ctx, args),
        Command::Status(args) => status::run(ctx, args),
        Command::Export(args) => export::run(ctx, args),
        Command::Compliance(args) => compliance::run(ctx, args),
        Command::Submit(args) => record::run_submit(ctx, args),
        Command::Revoke(args) => record::run_revoke(ctx, args),
        Command::Extend(args) => record::run_extend(ctx, args),
        Command::Waive(args) => record::run_waive(ctx, args),
        Command::History(args) => record::run_history(ctx, args),
        Command::Import(args) => import::run(ctx, args),
        Command::Token(cmd) => token::run(ctx, cmd),
        Command::Backup(args) => backup::run(ctx, args),
        Command::Restore(args) => restore::run(ctx, args),
        Command::VerifyDb(args) => verify_db::run(ctx, args),
        Command::Units(cmd) => units::run(ctx, cmd),
        Command::Init(args) => init::run(args),
    }
}
