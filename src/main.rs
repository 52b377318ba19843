//! The `hanbao` command: a thin edge over the library.
//!
//! Parses flags, sets up logging, finds and validates the configuration, then
//! hands over to `hanbao::commands`. It never runs anything on a
//! configuration that fails `hanbao check` (exit code 78).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use jiff::civil::Date;

use hanbao::calendar::WorkCalendar;
use hanbao::commands;
use hanbao::config;

/// Default place of the main configuration file.
const DEFAULT_CONFIG: &str = "/etc/hanbao/hanbao.toml";
/// sysexits.h EX_CONFIG: the configuration is wrong.
const EX_CONFIG: u8 = commands::check::EX_CONFIG;

#[derive(Parser, Debug)]
#[command(
    name = "hanbao",
    version,
    about = "Hạn báo cáo: periodic reporting deadlines for Vietnamese agencies"
)]
struct Cli {
    /// Main configuration file [default: $HANBAO_CONFIG, then /etc/hanbao/hanbao.toml]
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate the configuration: every problem with file:line:column
    Check,
    /// Every deadline, reminder and escalation in a date range
    Plan(PlanArgs),
    /// The Vietnamese calendar: holidays, lunar and solar dates
    #[command(subcommand)]
    Calendar(CalendarCommand),
    // --- daemon commands (run, simulate, send-test) ---
    /// Run the daemon: reminders and escalations by email (SIGHUP reloads)
    Run,
    /// Every message a date range would produce, through the real pipeline
    /// on a virtual clock (throwaway database; .eml files and index.tsv)
    Simulate(SimulateArgs),
    /// Send a test message with the configured mail settings
    SendTest(SendTestArgs),
    // --- token commands (HTTP API) ---
    /// API tokens for /api/v1: create (prints the secret once), list, revoke
    #[command(subcommand)]
    Token(TokenCommand),
}

// --- token commands (HTTP API) ---
#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Create a token; its secret is printed once and stored only as a hash
    Create(TokenCreateArgs),
    /// Every token (id, role, unit, name, created, revoked); never secrets
    List,
    /// Revoke a token by id
    Revoke {
        /// Token id (from `hanbao token list`)
        id: i64,
    },
}

#[derive(Args, Debug)]
struct TokenCreateArgs {
    /// An administrator token (every unit, extensions and waivers)
    #[arg(long, conflicts_with = "unit", required_unless_present = "unit")]
    admin: bool,
    /// A token that acts only for this unit id
    #[arg(long, value_name = "ID")]
    unit: Option<String>,
    /// Who holds it (recorded as the actor of every write)
    #[arg(long)]
    name: String,
}

fn token(flag: Option<&Path>, cmd: TokenCommand) -> Result<ExitCode> {
    let cfg = match load_config(flag) {
        Ok(cfg) => cfg,
        Err(code) => return Ok(code),
    };
    let rt = tokio_runtime()?;
    let out = match cmd {
        TokenCommand::Create(args) => {
            let holder = match args.unit {
                Some(u) => commands::token::Holder::Unit(u),
                None => commands::token::Holder::Admin,
            };
            rt.block_on(commands::token::create(&cfg, holder, &args.name))?
        }
        TokenCommand::List => rt.block_on(commands::token::list(&cfg))?,
        TokenCommand::Revoke { id } => rt.block_on(commands::token::revoke(&cfg, id))?,
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
// --- end token commands ---

#[derive(Args, Debug)]
struct SimulateArgs {
    /// First day (YYYY-MM-DD or dd/mm/yyyy)
    #[arg(long, value_parser = parse_date)]
    from: Date,
    /// Last day, inclusive
    #[arg(long, value_parser = parse_date)]
    to: Date,
    /// CSV of submissions (obligation,period,unit,received_on) recorded on their day
    #[arg(long, value_name = "FILE.csv")]
    submissions: Option<PathBuf>,
    /// Where the .eml files and index.tsv go
    #[arg(long, value_name = "DIR", default_value = "hanbao-simulate")]
    out: PathBuf,
    /// Send through the configured transport instead of writing files
    #[arg(long)]
    deliver: bool,
}

#[derive(Args, Debug)]
struct SendTestArgs {
    /// Recipient address
    #[arg(long, value_name = "ADDRESS")]
    to: String,
}

#[derive(Args, Debug)]
struct PlanArgs {
    /// First day (YYYY-MM-DD or dd/mm/yyyy)
    #[arg(long, value_parser = parse_date)]
    from: Date,
    /// Last day, inclusive
    #[arg(long, value_parser = parse_date)]
    to: Date,
    /// Only this obligation (id)
    #[arg(long)]
    obligation: Option<String>,
    /// Only this unit (id)
    #[arg(long)]
    unit: Option<String>,
    /// One JSON object per line
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum CalendarCommand {
    /// Holidays and changed working days of a year (with the configured days
    /// when a configuration is given or found)
    Holidays {
        #[arg(long)]
        year: i16,
        /// A JSON array for other tools
        #[arg(long)]
        json: bool,
    },
    /// The lunar date of a solar date
    Lunar {
        /// Solar date (YYYY-MM-DD or dd/mm/yyyy)
        #[arg(value_parser = parse_date)]
        date: Date,
        #[arg(long)]
        json: bool,
    },
    /// The solar date of a lunar date
    Solar {
        /// Lunar date as YYYY-MM-DD (lunar year, month, day)
        date: String,
        /// The month is the leap month (tháng nhuận)
        #[arg(long)]
        leap: bool,
        #[arg(long)]
        json: bool,
    },
}

fn parse_date(s: &str) -> Result<Date, String> {
    config::values::parse_date(s)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    hanbao::logging::init();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("lỗi: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Where the configuration comes from: flag, environment, default path.
fn config_path(flag: Option<&Path>) -> (PathBuf, bool) {
    if let Some(p) = flag {
        return (p.to_path_buf(), true);
    }
    match std::env::var_os("HANBAO_CONFIG") {
        Some(p) if !p.is_empty() => (PathBuf::from(p), true),
        _ => (PathBuf::from(DEFAULT_CONFIG), false),
    }
}

/// Loads and validates the configuration; on any error prints the full
/// report (as `hanbao check` would) and yields the exit code 78.
fn load_config(flag: Option<&Path>) -> Result<config::model::Config, ExitCode> {
    let (path, _) = config_path(flag);
    let result = config::load(&path);
    match result {
        Ok(loaded) => {
            for w in &loaded.warnings {
                tracing::warn!("{w}");
            }
            Ok(loaded.config)
        }
        Err(_) => {
            eprint!("{}", commands::check::render(&result));
            Err(ExitCode::from(EX_CONFIG))
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Check => {
            let (path, _) = config_path(cli.config.as_deref());
            let result = config::load(&path);
            print!("{}", commands::check::render(&result));
            Ok(ExitCode::from(commands::check::exit_code(&result)))
        }
        Command::Plan(args) => plan(cli.config.as_deref(), args),
        Command::Calendar(cmd) => calendar(cli.config.as_deref(), cmd),
        Command::Run => run_daemon(cli.config.as_deref()),
        Command::Simulate(args) => simulate(cli.config.as_deref(), args),
        Command::SendTest(args) => send_test(cli.config.as_deref(), args),
        Command::Token(cmd) => token(cli.config.as_deref(), cmd),
    }
}

// --- daemon commands (run, simulate, send-test) ---

fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

fn run_daemon(flag: Option<&Path>) -> Result<ExitCode> {
    let cfg = match load_config(flag) {
        Ok(cfg) => cfg,
        Err(code) => return Ok(code),
    };
    let (path, _) = config_path(flag);
    let reload = std::sync::Arc::new(move || match config::load(&path) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                tracing::warn!("{w}");
            }
            Ok(loaded.config)
        }
        Err(e) => Err(commands::check::render(&Err(e))),
    });
    tokio_runtime()?.block_on(commands::run::run(cfg, reload))?;
    Ok(ExitCode::SUCCESS)
}

fn simulate(flag: Option<&Path>, args: SimulateArgs) -> Result<ExitCode> {
    let cfg = match load_config(flag) {
        Ok(cfg) => cfg,
        Err(code) => return Ok(code),
    };
    let opts = commands::simulate::Options {
        from: args.from,
        to: args.to,
        submissions: args.submissions,
        out: args.out,
        deliver: args.deliver,
    };
    print!(
        "{}",
        tokio_runtime()?.block_on(commands::simulate::simulate(cfg, opts))?
    );
    Ok(ExitCode::SUCCESS)
}

fn send_test(flag: Option<&Path>, args: SendTestArgs) -> Result<ExitCode> {
    let cfg = match load_config(flag) {
        Ok(cfg) => cfg,
        Err(code) => return Ok(code),
    };
    print!(
        "{}",
        tokio_runtime()?.block_on(commands::send_test::send_test(cfg, &args.to))?
    );
    Ok(ExitCode::SUCCESS)
}

fn calendar(flag: Option<&Path>, cmd: CalendarCommand) -> Result<ExitCode> {
    match cmd {
        CalendarCommand::Holidays { year, json } => {
            // The administrator's days off count when a configuration is
            // named or installed; without one the built-in calendar answers.
            let (path, explicit) = config_path(flag);
            let settings = if explicit || path.exists() {
                match load_config(flag) {
                    Ok(cfg) => cfg.calendar,
                    Err(code) => return Ok(code),
                }
            } else {
                config::model::CalendarSettings {
                    culture_day: true,
                    ..Default::default()
                }
            };
            let cal = WorkCalendar::new(&settings);
            print!("{}", commands::calendar::holidays(&cal, year, json));
        }
        CalendarCommand::Lunar { date, json } => {
            print!("{}", commands::calendar::lunar(date, json)?);
        }
        CalendarCommand::Solar { date, leap, json } => {
            let (y, m, d) = commands::calendar::parse_lunar_arg(&date)?;
            print!("{}", commands::calendar::solar(y, m, d, leap, json)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn plan(flag: Option<&Path>, args: PlanArgs) -> Result<ExitCode> {
    let cfg = match load_config(flag) {
        Ok(cfg) => cfg,
        Err(code) => return Ok(code),
    };
    if args.to < args.from {
        anyhow::bail!("--to {} is before --from {}", args.to, args.from);
    }
    for (what, id, known) in [
        (
            "obligation",
            &args.obligation,
            cfg.obligations
                .iter()
                .map(|o| o.id.as_str())
                .collect::<Vec<_>>(),
        ),
        (
            "unit",
            &args.unit,
            cfg.units.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ),
    ] {
        if let Some(id) = id {
            if !known.contains(&id.as_str()) {
                anyhow::bail!("unknown {what} {id:?}{}", commands::suggest(id, &known));
            }
        }
    }
    let cal = WorkCalendar::new(&cfg.calendar);
    let filter = hanbao::planner::Filter {
        obligation: args.obligation,
        unit: args.unit,
    };
    let events = hanbao::planner::plan(&cfg, &cal, args.from, args.to, &filter);
    print!("{}", commands::plan::render(&events, &cfg, args.json));
    Ok(ExitCode::SUCCESS)
}
