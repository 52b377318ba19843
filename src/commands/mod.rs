//! The commands of the `hanbao` binary: one file per command or group, each
//! owning its clap arguments and its `run`, turning library results into
//! text, JSON or CSV and exit codes.
//!
//! The edge of the program, with `src/main.rs`: "now" is read from the
//! clock here, and where things are comes from `environment`, resolved
//! once. [`Context`] is what every command receives: that environment
//! (`environment::Environment`), the one configuration prelude
//! ([`Context::load`]), the one tokio runtime ([`block_on`]) and the one
//! way to open the database ([`Context::open_store`]). Must not: read
//! `HANBAO_*` variables or derive a database URL itself.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::config::model::Config;
use crate::environment::{Access, Environment, Places};
use crate::store::Store;

pub mod backup;
pub mod calendar;
pub mod check;
pub mod cli;
pub mod compliance;
pub mod export;
pub mod import;
pub mod init;
pub mod plan;
pub mod record;
pub mod restore;
pub mod run;
pub mod send_test;
pub mod simulate;
pub mod status;
pub mod token;
pub mod units;
pub mod verify_db;

/// The flags every command takes: where things are, and `--verbose`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Main configuration file [default: $HANBAO_CONFIG, then /etc/hanbao/hanbao.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// State directory (database, .eml files, link.key) [default: $HANBAO_STATE_DIR,
    /// then daemon.state_dir, then /var/lib/hanbao or, if that is not writable,
    /// ~/.local/state/hanbao]
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Database: a URL (sqlite://..., postgres://...) or a SQLite file
    /// [default: $HANBAO_DATABASE, then daemon.database, then <state dir>/hanbao.db]
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    /// Say on stderr which database is used, and how it was chosen (and,
    /// for simulate, a log line per message)
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

/// The configuration is invalid: `report` is what `hanbao check` prints;
/// the binary prints it and exits with [`check::EX_CONFIG`].
#[derive(Debug, thiserror::Error)]
#[error("cấu hình không hợp lệ")]
pub struct InvalidConfig {
    pub report: String,
}

/// What every command receives.
#[derive(Debug, Clone)]
pub struct Context {
    pub env: Environment,
    pub verbose: bool,
}

impl Context {
    /// Resolves the flags and the process environment, once.
    pub fn new(global: GlobalArgs) -> Result<Context> {
        let env = Environment::from_process(global.config, global.state_dir, global.database)?;
        Ok(Context {
            env,
            verbose: global.verbose,
        })
    }

    /// Loads and validates the configuration and resolves where things are
    /// (written into the returned configuration). Warnings are logged; an
    /// invalid configuration is an [`InvalidConfig`].
    pub fn load(&self) -> Result<(Config, Places)> {
        Ok(load(&self.env)?)
    }

    /// [`Context::load`] without the places.
    pub fn config(&self) -> Result<Config> {
        Ok(self.load()?.0)
    }

    /// What the tracking commands need, at this moment (the clock is read
    /// here): the calendar, now, today in the configured zone, and who
    /// records (`by`, else the environment's `$SUDO_USER`, `$USER`).
    pub fn tracking<'a>(&self, cfg: &'a Config, by: Option<&str>) -> record::Ctx<'a> {
        let now = jiff::Timestamp::now();
        record::Ctx {
            cfg,
            cal: crate::calendar::WorkCalendar::new(&cfg.calendar),
            now,
            today: now.to_zoned_datetime(cfg.daemon.time_zone.clone()).date(),
            default_actor: by.unwrap_or(self.env.actor()).to_owned(),
        }
    }

    /// Opens the database of `places` for `access`, refusing to create one
    /// where it may not (`environment::Access`). With `--verbose`, says
    /// which database on stderr.
    pub async fn open_store(&self, places: &Places, access: Access) -> Result<Store> {
        if self.verbose {
            eprintln!("{}", places.database_line());
        }
        places.check_access(access)?;
        crate::store::open(&places.database.value)
            .await
            .with_context(|| format!("không mở được cơ sở dữ liệu {}", places.database_shown()))
    }
}

/// The configuration prelude of every command: load, validate, log the
/// warnings, resolve the places. Also what `hanbao run` calls on SIGHUP.
pub fn load(env: &Environment) -> Result<(Config, Places), InvalidConfig> {
    let result = crate::config::load(&env.config_path().value);
    match result {
        Ok(mut loaded) => {
            crate::logging::use_time_zone(&loaded.config.daemon.time_zone);
            for w in &loaded.warnings {
                tracing::warn!("{w}");
            }
            let places = env.apply(&mut loaded.config);
            Ok((loaded.config, places))
        }
        Err(_) => Err(InvalidConfig {
            report: check::render(&result),
        }),
    }
}

/// Runs `f` on the one tokio runtime of the process (two worker threads).
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    Ok(rt.block_on(f))
}

/// The exit code of a command's result; prints the error (or the
/// configuration report) on stderr.
pub fn exit(result: Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => match err.downcast_ref::<InvalidConfig>() {
            Some(invalid) => {
                eprint!("{}", invalid.report);
                ExitCode::from(check::EX_CONFIG)
            }
            None => {
                let text = format!("{err:#}");
                eprintln!("lỗi: {}", crate::escape::terminal_lines(&text));
                ExitCode::FAILURE
            }
        },
    }
}

/// Prints a command's text (stdout on success, stderr otherwise) and
/// returns its exit code. Values in it were escaped where they were put
/// (`escape::terminal`); any control character left but the line breaks
/// is escaped here too, so nothing typed or stored reaches the terminal raw.
pub fn finish(outcome: record::Outcome) -> ExitCode {
    let text = crate::escape::terminal_lines(&outcome.text);
    if outcome.code == 0 {
        print!("{text}");
    } else {
        eprint!("{text}");
    }
    ExitCode::from(outcome.code)
}

/// Parses a date on the command line (`YYYY-MM-DD` or `dd/mm/yyyy`).
pub fn parse_date(s: &str) -> Result<jiff::civil::Date, String> {
    crate::config::values::parse_date(s)
}

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
