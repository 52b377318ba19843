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
    // --- tracking (issue 3): database from daemon.database or $HANBAO_DATABASE ---
    /// Who has reported: units × obligations for a period, with days late
    Status(StatusArgs),
    /// The status table as CSV for LibreOffice/Excel (UTF-8 BOM, CRLF)
    Export(ExportArgs),
    /// Record that a report arrived
    Submit(SubmitCli),
    /// Withdraw a submission, extension or waiver (history is kept)
    Revoke(RevokeCli),
    /// Grant a unit a new due date for one period
    Extend(ExtendCli),
    /// Exempt a unit from one period
    Waive(WaiveCli),
    /// Every recorded change, oldest first, in local time
    History(HistoryCli),
    /// Record many submissions from a CSV file, all or nothing
    Import(ImportCli),
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

/// Which statuses to show.
#[derive(Args, Debug, Clone)]
struct Filters {
    /// Only this obligation (id)
    #[arg(long)]
    obligation: Option<String>,
    /// Only this period (e.g. 2026-H1, 2026-Q3, 2026-05, 2026)
    #[arg(long)]
    period: Option<String>,
    /// Only this unit (id)
    #[arg(long)]
    unit: Option<String>,
    /// The day to judge at [default: today in the configured time zone]
    #[arg(long, value_parser = parse_date)]
    at: Option<Date>,
}

#[derive(Args, Debug)]
struct StatusArgs {
    #[command(flatten)]
    filters: Filters,
    /// One JSON object per line
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV (same as `hanbao export`)
    #[arg(long)]
    csv: bool,
}

#[derive(Args, Debug)]
struct ExportArgs {
    #[command(flatten)]
    filters: Filters,
    /// CSV output (the only format; accepted for clarity)
    #[arg(long)]
    csv: bool,
    /// Write to this file instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The (obligation, period, unit) a record is about.
#[derive(Args, Debug)]
struct KeyArgs {
    /// Obligation id, e.g. nq121-6thang
    obligation: String,
    /// Period key, e.g. 2026-H1
    period: String,
    /// Unit id, e.g. ubnd-binhson
    unit: String,
}

#[derive(Args, Debug)]
struct SubmitCli {
    #[command(flatten)]
    key: KeyArgs,
    /// Day the report arrived [default: today]
    #[arg(long, value_parser = parse_date)]
    on: Option<Date>,
    /// Local time it arrived, HH:MM
    #[arg(long, value_parser = parse_time)]
    at: Option<jiff::civil::Time>,
    /// Document number (số văn bản)
    #[arg(long = "ref")]
    reference: Option<String>,
    #[arg(long)]
    note: Option<String>,
    /// Who records it [default: $SUDO_USER, then $USER]
    #[arg(long)]
    by: Option<String>,
    /// Replace the submission already recorded
    #[arg(long)]
    correct: bool,
}

#[derive(Args, Debug)]
struct RevokeCli {
    #[command(flatten)]
    key: KeyArgs,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    by: Option<String>,
    /// What to withdraw
    #[arg(long, default_value = "submission", value_parser = ["submission", "extension", "waiver"])]
    what: String,
}

#[derive(Args, Debug)]
struct ExtendCli {
    #[command(flatten)]
    key: KeyArgs,
    /// The new due day
    #[arg(long, value_parser = parse_date)]
    until: Date,
    #[arg(long)]
    reason: String,
    #[arg(long)]
    by: Option<String>,
}

#[derive(Args, Debug)]
struct WaiveCli {
    #[command(flatten)]
    key: KeyArgs,
    #[arg(long)]
    reason: String,
    #[arg(long)]
    by: Option<String>,
}

#[derive(Args, Debug)]
struct HistoryCli {
    #[arg(long)]
    obligation: Option<String>,
    #[arg(long)]
    period: Option<String>,
    #[arg(long)]
    unit: Option<String>,
}

#[derive(Args, Debug)]
struct ImportCli {
    /// CSV file (see `hanbao import --help` and the README for the columns)
    file: PathBuf,
    /// Who records rows without a `by` column [default: $SUDO_USER, then $USER]
    #[arg(long)]
    by: Option<String>,
}

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
    #[arg(long, conflicts_with = "index_only")]
    deliver: bool,
    /// Render every message but write only index.tsv, no .eml files
    #[arg(long)]
    index_only: bool,
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

fn parse_time(s: &str) -> Result<jiff::civil::Time, String> {
    let (h, m) = s
        .trim()
        .split_once(':')
        .ok_or_else(|| format!("\"{s}\" không phải giờ HH:MM"))?;
    match (h.parse::<i8>(), m.parse::<i8>()) {
        (Ok(h), Ok(m)) if m.to_string().len() <= 2 => {
            jiff::civil::Time::new(h, m, 0, 0).map_err(|_| format!("\"{s}\" không phải giờ HH:MM"))
        }
        _ => Err(format!("\"{s}\" không phải giờ HH:MM")),
    }
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
            if let Ok(loaded) = &result {
                print!("{}", check_database(&loaded.config));
                let mut daemon_cfg = loaded.config.clone();
                commands::run::apply_env_overrides(&mut daemon_cfg)?;
                print!("{}", commands::check::render_links(&daemon_cfg.daemon));
            }
            let (report, code) = commands::check::report(&result);
            print!("{report}");
            Ok(ExitCode::from(code))
        }
        Command::Plan(args) => plan(cli.config.as_deref(), args),
        Command::Calendar(cmd) => calendar(cli.config.as_deref(), cmd),
        Command::Run => run_daemon(cli.config.as_deref()),
        Command::Simulate(args) => simulate(cli.config.as_deref(), args),
        Command::SendTest(args) => send_test(cli.config.as_deref(), args),
        Command::Status(args) => status(cli.config.as_deref(), args),
        Command::Export(args) => export(cli.config.as_deref(), args),
        Command::Submit(args) => submit(cli.config.as_deref(), args),
        Command::Revoke(args) => revoke(cli.config.as_deref(), args),
        Command::Extend(args) => extend(cli.config.as_deref(), args),
        Command::Waive(args) => waive(cli.config.as_deref(), args),
        Command::History(args) => history(cli.config.as_deref(), args),
        Command::Import(args) => import(cli.config.as_deref(), args),
        Command::Token(cmd) => token(cli.config.as_deref(), cmd),
    }
}

// --- tracking commands (issue 3) -------------------------------------------
// The clock and the environment are read here and nowhere below.

use hanbao::commands::record::{self as record_cmd, Ctx, Outcome};
use hanbao::store::Store;

/// The database URL: $HANBAO_DATABASE (a URL or a SQLite file path) over
/// `daemon.database`.
fn database_url(cfg: &config::model::Config) -> String {
    let env = std::env::var("HANBAO_DATABASE").ok();
    record_cmd::database_url(&cfg.daemon.database_url, env.as_deref())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

async fn open_store(cfg: &config::model::Config) -> Result<Store> {
    hanbao::store::open(&database_url(cfg))
        .await
        .map_err(|e| anyhow::anyhow!("không mở được cơ sở dữ liệu: {e}"))
}

fn default_actor() -> String {
    ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "hanbao".into())
}

fn ctx<'a>(cfg: &'a config::model::Config, by: Option<&str>) -> Ctx<'a> {
    let now = jiff::Timestamp::now();
    Ctx {
        cfg,
        cal: WorkCalendar::new(&cfg.calendar),
        now,
        today: now.to_zoned_datetime(cfg.daemon.time_zone.clone()).date(),
        default_actor: by.map(str::to_owned).unwrap_or_else(default_actor),
    }
}

fn finish(outcome: Outcome) -> ExitCode {
    if outcome.code == 0 {
        print!("{}", outcome.text);
    } else {
        eprint!("{}", outcome.text);
    }
    ExitCode::from(outcome.code)
}

fn selection(f: &Filters) -> hanbao::tracking::Selection {
    hanbao::tracking::Selection {
        obligation: f.obligation.clone(),
        period: f.period.clone(),
        unit: f.unit.clone(),
    }
}

/// The status rows of the filters, rendered by `render`.
fn with_status(
    flag: Option<&Path>,
    filters: &Filters,
    render: impl FnOnce(&[hanbao::tracking::Row<'_>], &config::model::Config, Date) -> Result<()>,
) -> Result<ExitCode> {
    let cfg = match load_config(flag) {
        Ok(cfg) => cfg,
        Err(code) => return Ok(code),
    };
    let c = ctx(&cfg, None);
    let at = filters.at.unwrap_or(c.today);
    let sel = selection(filters);
    // Bad filters are refused before the database is opened.
    hanbao::tracking::targets(&cfg, &c.cal, &sel, at).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rows = runtime()?.block_on(async {
        let store = open_store(&cfg).await?;
        let rows = hanbao::tracking::status(&store, &cfg, &c.cal, &sel, at).await;
        store.close().await;
        rows.map_err(|e| anyhow::anyhow!("{e}"))
    })?;
    render(&rows, &cfg, at)?;
    Ok(ExitCode::SUCCESS)
}

fn status(flag: Option<&Path>, args: StatusArgs) -> Result<ExitCode> {
    use std::io::{IsTerminal as _, Write as _};
    with_status(flag, &args.filters, |rows, cfg, at| {
        let mut out = std::io::stdout().lock();
        if args.json {
            out.write_all(commands::status::json(rows).as_bytes())?;
        } else if args.csv {
            out.write_all(&commands::status::csv(rows))?;
        } else {
            let colours = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            out.write_all(commands::status::matrix(rows, cfg, at, colours).as_bytes())?;
        }
        Ok(())
    })
}

fn export(flag: Option<&Path>, args: ExportArgs) -> Result<ExitCode> {
    use std::io::Write as _;
    with_status(flag, &args.filters, |rows, _, _| {
        let bytes = commands::status::csv(rows);
        match &args.output {
            Some(path) => std::fs::write(path, bytes)
                .map_err(|e| anyhow::anyhow!("không ghi được {}: {e}", path.display()))?,
            None => std::io::stdout().lock().write_all(&bytes)?,
        }
        Ok(())
    })
}

/// Loads the configuration, opens the database and runs one recording command.
fn recording<F>(flag: Option<&Path>, by: Option<&str>, f: F) -> Result<ExitCode>
where
    F: for<'c> AsyncFnOnce(&'c Store, &'c Ctx<'c>) -> Result<Outcome>,
{
    let cfg = match load_config(flag) {
        Ok(cfg) => cfg,
        Err(code) => return Ok(code),
    };
    let c = ctx(&cfg, by);
    let outcome = runtime()?.block_on(async {
        let store = open_store(&cfg).await?;
        let out = f(&store, &c).await;
        store.close().await;
        out
    })?;
    Ok(finish(outcome))
}

fn submit(flag: Option<&Path>, a: SubmitCli) -> Result<ExitCode> {
    let args = record_cmd::SubmitArgs {
        obligation: a.key.obligation,
        period: a.key.period,
        unit: a.key.unit,
        on: a.on,
        at: a.at,
        reference: a.reference,
        note: a.note,
        by: a.by,
        correct: a.correct,
    };
    recording(flag, None, async |s, c| {
        record_cmd::submit(s, c, args).await
    })
}

fn revoke(flag: Option<&Path>, a: RevokeCli) -> Result<ExitCode> {
    let args = record_cmd::RevokeArgs {
        obligation: a.key.obligation,
        period: a.key.period,
        unit: a.key.unit,
        what: hanbao::store::Subject::parse(&a.what).unwrap_or(hanbao::store::Subject::Submission),
        reason: a.reason,
        by: a.by,
    };
    recording(flag, None, async |s, c| {
        record_cmd::revoke(s, c, args).await
    })
}

fn extend(flag: Option<&Path>, a: ExtendCli) -> Result<ExitCode> {
    let args = record_cmd::ExtendArgs {
        obligation: a.key.obligation,
        period: a.key.period,
        unit: a.key.unit,
        until: a.until,
        reason: a.reason,
        by: a.by,
    };
    recording(flag, None, async |s, c| {
        record_cmd::extend(s, c, args).await
    })
}

fn waive(flag: Option<&Path>, a: WaiveCli) -> Result<ExitCode> {
    let args = record_cmd::WaiveArgs {
        obligation: a.key.obligation,
        period: a.key.period,
        unit: a.key.unit,
        reason: a.reason,
        by: a.by,
    };
    recording(flag, None, async |s, c| record_cmd::waive(s, c, args).await)
}

fn history(flag: Option<&Path>, a: HistoryCli) -> Result<ExitCode> {
    let filter = hanbao::store::HistoryFilter {
        obligation: a.obligation,
        period: a.period,
        unit: a.unit,
    };
    recording(flag, None, async |s, c| {
        record_cmd::history(s, c.cfg, filter).await
    })
}

fn import(flag: Option<&Path>, a: ImportCli) -> Result<ExitCode> {
    let bytes = std::fs::read(&a.file)
        .map_err(|e| anyhow::anyhow!("không đọc được {}: {e}", a.file.display()))?;
    let name = a.file.display().to_string();
    recording(flag, a.by.as_deref(), async |s, c| {
        commands::import::run(s, c, &name, &bytes).await
    })
}

/// `hanbao check`'s database part: warnings for history under ids the
/// configuration no longer has. A SQLite file that does not exist is left
/// alone (check never creates a database).
fn check_database(cfg: &config::model::Config) -> String {
    let url = database_url(cfg);
    if let Some(file) = record_cmd::sqlite_file(&url)
        && !file.exists()
    {
        return String::new();
    }
    let result = runtime().map_err(|e| e.to_string()).and_then(|rt| {
        rt.block_on(async {
            let store = hanbao::store::open(&url).await.map_err(|e| e.to_string())?;
            let known = hanbao::store::Records::known_ids(&store).await;
            store.close().await;
            known.map_err(|e| e.to_string())
        })
    });
    match result {
        Ok(known) => {
            let orphans = hanbao::tracking::orphans(cfg, &known);
            commands::check::render_database(&hanbao::tracking::orphan_warnings(cfg, &orphans))
        }
        Err(e) => commands::check::render_database(&[format!(
            "không đọc được cơ sở dữ liệu để đối chiếu lịch sử: {e}"
        )]),
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
        index_only: args.index_only,
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
