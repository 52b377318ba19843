//! The `hanbao` command: a thin edge over the library.
//!
//! Parses the command line, sets up logging, resolves the environment once
//! (`hanbao::environment`, through `commands::Context`) and hands over to
//! the command's `run` in `hanbao::commands`. No command runs on a
//! configuration that fails `hanbao check` (exit code 78).

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use hanbao::commands::{self, Context, GlobalArgs};
use hanbao::commands::{
    backup, calendar, check, export, import, init, plan, record, restore, run, send_test, simulate,
    status, token, units, verify_db,
};

#[derive(Parser, Debug)]
#[command(
    name = "hanbao",
    version = hanbao::VERSION,
    about = "Hạn báo cáo: periodic reporting deadlines for Vietnamese agencies"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
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
    Restore(restore::Args),
    /// Check a database or a backup: integrity, schema version, row counts
    VerifyDb(verify_db::Args),
    /// Units: import a unit list from a spreadsheet
    #[command(subcommand)]
    Units(units::Command),
    /// Write a starter configuration (Vietnamese comments) into a directory
    Init(init::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    hanbao::logging::init();
    commands::exit(Context::new(cli.global).and_then(|ctx| dispatch(&ctx, cli.command)))
}

fn dispatch(ctx: &Context, command: Command) -> Result<ExitCode> {
    match command {
        Command::Check => check::run(ctx),
        Command::Plan(args) => plan::run(ctx, args),
        Command::Calendar(cmd) => calendar::run(ctx, cmd),
        Command::Run => run::run(ctx),
        Command::Simulate(args) => simulate::run(ctx, args),
        Command::SendTest(args) => send_test::run(ctx, args),
        Command::Status(args) => status::run(ctx, args),
        Command::Export(args) => export::run(ctx, args),
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
