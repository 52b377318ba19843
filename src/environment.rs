//! Where hanbao keeps things: the one resolver of the configuration file,
//! the state directory, the database and the .eml directory, used by every
//! command, so that `run`, `check`, `status`, `submit`, `token` and the
//! others all mean the same by `--config`, `HANBAO_STATE_DIR` or
//! `HANBAO_DATABASE`.
//!
//! Four ways of choosing, the first given wins:
//!
//! | way | configuration | state directory | database |
//! |---|---|---|---|
//! | flag | `--config PATH` | `--state-dir DIR` | `--database URL` |
//! | environment | `HANBAO_CONFIG` | `HANBAO_STATE_DIR` | `HANBAO_DATABASE` |
//! | configuration file | | `daemon.state_dir` | `daemon.database` |
//! | built-in default | `/etc/hanbao/hanbao.toml` | `/var/lib/hanbao` | `sqlite://<state dir>/hanbao.db` |
//!
//! A database given by flag or environment is a URL (`sqlite:...`,
//! `postgres://...`) or a plain SQLite file path. The database and the .eml
//! directory follow the state directory while the configuration leaves them
//! at their defaults (a `daemon.database` or `[mail.file] dir` equal to the
//! one derived from `daemon.state_dir` counts as left). When the built-in
//! state directory cannot be written by this user and nothing else was
//! chosen, the per-user `$XDG_STATE_HOME/hanbao` (or
//! `~/.local/state/hanbao`) is used instead, by every command alike.
//!
//! Whether a command may create a missing SQLite database is decided here
//! too ([`Places::check_access`]): `hanbao run` may (the database is the
//! daemon's); a writing command only where this invocation chose it (flag or
//! environment); a reading command never.
//!
//! Must not: create, write or open anything (it only asks whether a
//! directory could be written), or read the process environment anywhere
//! but [`Inputs::from_process`].

use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::config::model::{Config, Transport};
use crate::config::validate::DEFAULT_STATE_DIR;

/// Default place of the main configuration file.
pub const DEFAULT_CONFIG: &str = "/etc/hanbao/hanbao.toml";
/// The SQLite file inside the state directory.
pub const DATABASE_FILE: &str = "hanbao.db";
/// The .eml directory inside the state directory.
pub const MAIL_DIR: &str = "outbox-mail";

/// How a place was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag, e.g. `--state-dir`.
    Flag(&'static str),
    /// An environment variable, e.g. `HANBAO_STATE_DIR`.
    Environment(&'static str),
    /// A key of the configuration file, e.g. `daemon.state_dir`.
    ConfigFile(&'static str),
    /// The built-in default.
    Default,
    /// The built-in state directory cannot be written by this user: the
    /// per-user one.
    PerUser,
    /// Inside the state directory (the database, the .eml directory).
    StateDir,
}

impl Source {
    /// Chosen for this invocation (flag or environment).
    pub fn is_chosen_here(self) -> bool {
        matches!(self, Source::Flag(_) | Source::Environment(_))
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "chọn bằng {flag}"),
            Source::Environment(var) => write!(f, "chọn bằng biến môi trường {var}"),
            Source::ConfigFile(key) => write!(f, "theo tệp cấu hình, {key}"),
            Source::Default => f.write_str("mặc định"),
            Source::PerUser => write!(
                f,
                "thư mục riêng của người dùng, vì {DEFAULT_STATE_DIR} không ghi được"
            ),
            Source::StateDir => f.write_str("trong thư mục trạng thái"),
        }
    }
}

/// A value and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen<T> {
    pub value: T,
    pub source: Source,
}

/// What the process was given, read once.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub config_flag: Option<PathBuf>,
    pub state_dir_flag: Option<PathBuf>,
    pub database_flag: Option<String>,
    /// `HANBAO_CONFIG`, `HANBAO_STATE_DIR`, `HANBAO_DATABASE` (empty = unset).
    pub config_env: Option<PathBuf>,
    pub state_dir_env: Option<PathBuf>,
    pub database_env: Option<String>,
    /// The working directory, against which relative paths are made absolute.
    pub cwd: PathBuf,
    /// `$XDG_STATE_HOME/hanbao`, else `$HOME/.local/state/hanbao`.
    pub user_state_dir: Option<PathBuf>,
    /// Who records, when `--by` is not given: `$SUDO_USER`, `$USER`,
    /// `$LOGNAME`, else "hanbao".
    pub actor: String,
    /// `HANBAO_TEST_CLOCK`, for tests only: `hanbao run` on a stepped
    /// virtual clock (`daemon::clock`).
    pub test_clock: Option<String>,
}

impl Inputs {
    /// The flags given and the process environment.
    pub fn from_process(
        config_flag: Option<PathBuf>,
        state_dir_flag: Option<PathBuf>,
        database_flag: Option<String>,
    ) -> Inputs {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let text = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let user_state_dir = match var("XDG_STATE_HOME") {
            Some(p) => Some(PathBuf::from(p).join("hanbao")),
            None => var("HOME").map(|h| PathBuf::from(h).join(".local/state/hanbao")),
        };
        Inputs {
            config_flag,
            state_dir_flag,
            database_flag,
            config_env: var("HANBAO_CONFIG").map(PathBuf::from),
            state_dir_env: var("HANBAO_STATE_DIR").map(PathBuf::from),
            database_env: text("HANBAO_DATABASE"),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            user_state_dir,
            actor: ["SUDO_USER", "USER", "LOGNAME"]
                .into_iter()
                .find_map(text)
                .unwrap_or_else(|| "hanbao".into()),
            test_clock: text("HANBAO_TEST_CLOCK"),
        }
    }
}

/// A refusal of the resolver.
#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    #[error(
        "{given}: \"{value}\" không phải cơ sở dữ liệu được hỗ trợ; \
         dùng một URL sqlite:///đường/dẫn.db hoặc postgres://người-dùng@máy/tên, \
         hoặc đường dẫn một tệp SQLite"
    )]
    UnsupportedDatabase { given: &'static str, value: String },
    #[error(
        "chưa có cơ sở dữ liệu tại {} ({from}); daemon chưa chạy, \
         hoặc chọn bằng --database / HANBAO_STATE_DIR{}",
        path.display(),
        hint_for(*from, *access)
    )]
    NoDatabase {
        path: PathBuf,
        from: Source,
        access: Access,
    },
}

fn hint_for(from: Source, access: Access) -> String {
    let mut hint = String::new();
    if access == Access::Write {
        hint.push_str(
            ". Lệnh ghi chỉ tạo cơ sở dữ liệu mới ở nơi chọn bằng --database, --state-dir, \
             HANBAO_DATABASE hoặc HANBAO_STATE_DIR; cơ sở dữ liệu của daemon do hanbao run tạo",
        );
    }
    if from == Source::PerUser {
        hint.push_str(&format!(
            ". Nếu daemon chạy dưới systemd với {DEFAULT_STATE_DIR}, chạy lệnh bằng sudo"
        ));
    }
    hint
}

/// What a command does with the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only (`status`, `export`, `history`, `token list`): never
    /// creates a database.
    Read,
    /// Records (`submit`, `revoke`, `extend`, `waive`, `import`,
    /// `token create|revoke`): creates a missing SQLite database only where
    /// this invocation chose it (flag or environment).
    Write,
    /// The daemon (`run`): the database is its own; it creates it wherever
    /// it was chosen.
    Own,
}

/// The flags and environment, resolved once; the configuration's part is
/// added by [`Environment::places`].
#[derive(Debug, Clone)]
pub struct Environment {
    config: Chosen<PathBuf>,
    state_dir: Option<Chosen<PathBuf>>,
    database: Option<Chosen<String>>,
    user_state_dir: Option<PathBuf>,
    actor: String,
    test_clock: Option<String>,
}

/// Where one command's state is, for a loaded configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Places {
    pub state_dir: Chosen<PathBuf>,
    /// The database URL (a password in it is never shown: [`Places::database_shown`]).
    pub database: Chosen<String>,
    /// The .eml directory; `None` when mail goes out by SMTP.
    pub mail_dir: Option<Chosen<PathBuf>>,
}

impl Environment {
    /// Resolves the flags and the process environment.
    pub fn from_process(
        config_flag: Option<PathBuf>,
        state_dir_flag: Option<PathBuf>,
        database_flag: Option<String>,
    ) -> Result<Environment, EnvironmentError> {
        Environment::new(Inputs::from_process(
            config_flag,
            state_dir_flag,
            database_flag,
        ))
    }

    /// Resolves what the process was given (pure).
    pub fn new(inputs: Inputs) -> Result<Environment, EnvironmentError> {
        let config = match (inputs.config_flag, inputs.config_env) {
            (Some(p), _) => Chosen {
                value: p,
                source: Source::Flag("--config"),
            },
            (None, Some(p)) => Chosen {
                value: p,
                source: Source::Environment("HANBAO_CONFIG"),
            },
            (None, None) => Chosen {
                value: PathBuf::from(DEFAULT_CONFIG),
                source: Source::Default,
            },
        };
        let cwd = &inputs.cwd;
        let state_dir = match (inputs.state_dir_flag, inputs.state_dir_env) {
            (Some(p), _) => Some(Chosen {
                value: absolute(cwd, &p),
                source: Source::Flag("--state-dir"),
            }),
            (None, Some(p)) => Some(Chosen {
                value: absolute(cwd, &p),
                source: Source::Environment("HANBAO_STATE_DIR"),
            }),
            (None, None) => None,
        };
        let database = match (inputs.database_flag, inputs.database_env) {
            (Some(v), _) => Some(Chosen {
                value: database_url(cwd, "--database", &v)?,
                source: Source::Flag("--database"),
            }),
            (None, Some(v)) => Some(Chosen {
                value: database_url(cwd, "HANBAO_DATABASE", &v)?,
                source: Source::Environment("HANBAO_DATABASE"),
            }),
            (None, None) => None,
        };
        Ok(Environment {
            config,
            state_dir,
            database,
            user_state_dir: inputs.user_state_dir,
            actor: inputs.actor,
            test_clock: inputs.test_clock,
        })
    }

    /// The main configuration file.
    pub fn config_path(&self) -> &Chosen<PathBuf> {
        &self.config
    }

    /// Who records, when `--by` is not given.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// `HANBAO_TEST_CLOCK` as given (tests only; see `daemon::clock`).
    pub fn test_clock(&self) -> Option<&str> {
        self.test_clock.as_deref()
    }

    /// The places for a loaded configuration (before [`Environment::apply`]).
    pub fn places(&self, cfg: &Config) -> Places {
        self.places_with(cfg, could_write)
    }

    /// [`Environment::places`] with the question "could this directory be
    /// written (created if missing)?" answered by `writable`.
    pub fn places_with(&self, cfg: &Config, writable: impl Fn(&Path) -> bool) -> Places {
        let configured = &cfg.daemon.state_dir;
        let state_dir = match &self.state_dir {
            Some(chosen) => chosen.clone(),
            None if configured != Path::new(DEFAULT_STATE_DIR) => Chosen {
                value: configured.clone(),
                source: Source::ConfigFile("daemon.state_dir"),
            },
            None => match &self.user_state_dir {
                Some(user) if !writable(configured) => Chosen {
                    value: user.clone(),
                    source: Source::PerUser,
                },
                _ => Chosen {
                    value: configured.clone(),
                    source: Source::Default,
                },
            },
        };
        let database = match &self.database {
            Some(chosen) => chosen.clone(),
            None if cfg.daemon.database_url != derived_database(configured) => Chosen {
                value: cfg.daemon.database_url.clone(),
                source: Source::ConfigFile("daemon.database"),
            },
            None => Chosen {
                value: derived_database(&state_dir.value),
                source: Source::StateDir,
            },
        };
        let mail_dir = match &cfg.mail.transport {
            Transport::File { dir } if *dir == configured.join(MAIL_DIR) => Some(Chosen {
                value: state_dir.value.join(MAIL_DIR),
                source: Source::StateDir,
            }),
            Transport::File { dir } => Some(Chosen {
                value: dir.clone(),
                source: Source::ConfigFile("[mail.file] dir"),
            }),
            Transport::Smtp(_) => None,
        };
        Places {
            state_dir,
            database,
            mail_dir,
        }
    }

    /// Resolves the places of `cfg` and writes them into it (state
    /// directory, database URL, .eml directory), so that everything
    /// downstream (the store, the mailer, `link.key`) uses them.
    pub fn apply(&self, cfg: &mut Config) -> Places {
        let places = self.places(cfg);
        places.write_into(cfg);
        places
    }
}

impl Places {
    /// Writes the places into `cfg`.
    pub fn write_into(&self, cfg: &mut Config) {
        cfg.daemon.state_dir = self.state_dir.value.clone();
        cfg.daemon.database_url = self.database.value.clone();
        if let (Transport::File { dir }, Some(mail)) = (&mut cfg.mail.transport, &self.mail_dir) {
            *dir = mail.value.clone();
        }
    }

    /// The SQLite file of the database; `None` for PostgreSQL or an
    /// in-memory database.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        sqlite_file(&self.database.value)
    }

    /// The database URL as it may be shown: any password replaced by `***`.
    pub fn database_shown(&self) -> String {
        crate::primitives::redact_url(&self.database.value)
    }

    /// Where the database is and how it was chosen, for people: the
    /// database's source, or the state directory's when it is inside it.
    pub fn database_line(&self) -> String {
        match self.database.source {
            Source::StateDir => format!(
                "Cơ sở dữ liệu: {} (trong thư mục trạng thái, {})",
                self.database_shown(),
                self.state_dir.source
            ),
            from => format!("Cơ sở dữ liệu: {} ({from})", self.database_shown()),
        }
    }

    /// Whether this invocation chose the database (flag or environment,
    /// directly or through the state directory).
    pub fn database_chosen_here(&self) -> bool {
        match self.database.source {
            Source::StateDir => self.state_dir.source.is_chosen_here(),
            from => from.is_chosen_here(),
        }
    }

    /// Refuses to go on when the SQLite database does not exist and the
    /// command may not create it (see [`Access`]). A PostgreSQL database is
    /// the server's: it is never created here.
    pub fn check_access(&self, access: Access) -> Result<(), EnvironmentError> {
        let Some(file) = self.sqlite_file() else {
            return Ok(());
        };
        let may_create = match access {
            Access::Read => false,
            Access::Write => self.database_chosen_here(),
            Access::Own => true,
        };
        if may_create || file.exists() {
            return Ok(());
        }
        let from = match self.database.source {
            Source::StateDir => self.state_dir.source,
            from => from,
        };
        Err(EnvironmentError::NoDatabase {
            path: file,
            from,
            access,
        })
    }
}

/// `sqlite://<dir>/hanbao.db`.
pub fn derived_database(state_dir: &Path) -> String {
    format!("sqlite://{}", state_dir.join(DATABASE_FILE).display())
}

/// The file of a SQLite URL (`sqlite://PATH`, `sqlite:PATH`, query string
/// dropped); `None` for other backends or an in-memory database.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

/// A database given on the command line or in the environment: a URL, or a
/// plain SQLite file path (made absolute).
fn database_url(cwd: &Path, given: &'static str, value: &str) -> Result<String, EnvironmentError> {
    let v = value.trim();
    if v.starts_with("sqlite:") || v.starts_with("postgres://") || v.starts_with("postgresql://") {
        return Ok(v.to_owned());
    }
    if v.contains("://") {
        return Err(EnvironmentError::UnsupportedDatabase {
            given,
            value: crate::primitives::redact_url(v),
        });
    }
    Ok(format!(
        "sqlite://{}",
        absolute(cwd, Path::new(v)).display()
    ))
}

/// `path` against `cwd`, without `.` components ("./hanbao-state").
fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    joined
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// Whether this user could write `dir`, creating it if it is missing
/// (its nearest existing ancestor writable). Asks the kernel; writes nothing.
fn could_write(dir: &Path) -> bool {
    use rustix::fs::{Access as Mode, access};
    let mut probe = dir;
    loop {
        if probe.exists() {
            return probe.is_dir() && access(probe, Mode::WRITE_OK | Mode::EXEC_OK).is_ok();
        }
        match probe.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => probe = parent,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(toml: &str) -> Config {
        crate::config::load_str("h.toml", toml).unwrap().config
    }

    fn inputs() -> Inputs {
        Inputs {
            cwd: PathBuf::from("/work"),
            user_state_dir: Some(PathBuf::from("/home/an/.local/state/hanbao")),
            actor: "an".into(),
            ..Inputs::default()
        }
    }

    fn env(i: Inputs) -> Environment {
        Environment::new(i).unwrap()
    }

    #[test]
    fn flag_over_environment_over_configuration_over_default() {
        let file = cfg("[daemon]\nstate_dir = \"/srv/tep\"\n");
        let plain = cfg("");
        let mut i = inputs();
        let p = env(i.clone()).places_with(&plain, |_| true);
        assert_eq!(p.state_dir.value, Path::new("/var/lib/hanbao"));
        assert_eq!(p.state_dir.source, Source::Default);
        assert_eq!(p.database.value, "sqlite:///var/lib/hanbao/hanbao.db");
        let p = env(i.clone()).places_with(&file, |_| true);
        assert_eq!(p.state_dir.value, Path::new("/srv/tep"));
        assert_eq!(p.state_dir.source, Source::ConfigFile("daemon.state_dir"));
        assert_eq!(p.database.value, "sqlite:///srv/tep/hanbao.db");
        assert_eq!(p.mail_dir.unwrap().value, Path::new("/srv/tep/outbox-mail"));
        i.state_dir_env = Some("./bien".into());
        let p = env(i.clone()).places_with(&file, |_| true);
        assert_eq!(p.state_dir.value, Path::new("/work/bien"));
        assert_eq!(p.state_dir.source, Source::Environment("HANBAO_STATE_DIR"));
        assert_eq!(p.database.value, "sqlite:///work/bien/hanbao.db");
        assert_eq!(
            p.mail_dir.unwrap().value,
            Path::new("/work/bien/outbox-mail")
        );
        i.state_dir_flag = Some("/co".into());
        let p = env(i.clone()).places_with(&file, |_| true);
        assert_eq!(p.state_dir.value, Path::new("/co"));
        assert_eq!(p.database.value, "sqlite:///co/hanbao.db");
        assert!(p.database_chosen_here());
    }

    #[test]
    fn the_database_is_a_url_or_a_plain_sqlite_path_for_every_way() {
        let plain = cfg("");
        let mut i = inputs();
        i.database_env = Some("x.db".into());
        let p = env(i.clone()).places_with(&plain, |_| true);
        assert_eq!(p.database.value, "sqlite:///work/x.db");
        assert_eq!(p.database.source, Source::Environment("HANBAO_DATABASE"));
        assert_eq!(p.sqlite_file(), Some(PathBuf::from("/work/x.db")));
        i.database_flag = Some("postgres://u:mat-khau@h/db".into());
        let p = env(i.clone()).places_with(&plain, |_| true);
        assert_eq!(p.database.value, "postgres://u:mat-khau@h/db");
        assert!(
            !p.database_line().contains("mat-khau"),
            "{}",
            p.database_line()
        );
        assert_eq!(p.sqlite_file(), None);
        i.database_flag = Some("mysql://h/db".into());
        let e = Environment::new(i).unwrap_err().to_string();
        assert!(
            e.contains("--database") && e.contains("mysql://h/db"),
            "{e}"
        );
        // A database the file sets stays where it is when the state
        // directory moves; the derived one follows.
        let set = cfg("[daemon]\ndatabase = \"sqlite:///srv/db/h.db\"\n");
        let mut i = inputs();
        i.state_dir_env = Some("/bien".into());
        let p = env(i).places_with(&set, |_| true);
        assert_eq!(p.database.value, "sqlite:///srv/db/h.db");
        assert_eq!(p.database.source, Source::ConfigFile("daemon.database"));
    }

    #[test]
    fn per_user_fallback_only_for_the_unwritable_built_in_default() {
        let plain = cfg("");
        let p = env(inputs()).places_with(&plain, |_| false);
        assert_eq!(p.state_dir.value, Path::new("/home/an/.local/state/hanbao"));
        assert_eq!(p.state_dir.source, Source::PerUser);
        assert_eq!(
            p.database.value,
            "sqlite:///home/an/.local/state/hanbao/hanbao.db"
        );
        let file = cfg("[daemon]\nstate_dir = \"/srv/tep\"\n");
        let p = env(inputs()).places_with(&file, |_| false);
        assert_eq!(p.state_dir.value, Path::new("/srv/tep"));
        let mut i = inputs();
        i.user_state_dir = None;
        let p = env(i).places_with(&plain, |_| false);
        assert_eq!(p.state_dir.value, Path::new("/var/lib/hanbao"));
    }

    #[test]
    fn who_may_create_a_missing_database() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("tep");
        let file = cfg(&format!("[daemon]\nstate_dir = \"{}\"\n", state.display()));
        let mut i = inputs();
        let p = env(i.clone()).places_with(&file, |_| true);
        assert!(p.check_access(Access::Own).is_ok());
        let e = p.check_access(Access::Read).unwrap_err().to_string();
        let want = format!(
            "chưa có cơ sở dữ liệu tại {} (theo tệp cấu hình, daemon.state_dir); \
             daemon chưa chạy, hoặc chọn bằng --database / HANBAO_STATE_DIR",
            state.join("hanbao.db").display()
        );
        assert!(e.starts_with(&want), "{e}");
        let e = p.check_access(Access::Write).unwrap_err().to_string();
        assert!(
            e.contains("Lệnh ghi chỉ tạo cơ sở dữ liệu mới ở nơi chọn bằng"),
            "{e}"
        );
        i.state_dir_env = Some(dir.path().join("moi"));
        let p = env(i).places_with(&file, |_| true);
        assert!(p.check_access(Access::Write).is_ok());
        assert!(p.check_access(Access::Read).is_err());
        std::fs::create_dir(dir.path().join("moi")).unwrap();
        std::fs::write(dir.path().join("moi/hanbao.db"), b"").unwrap();
        assert!(p.check_access(Access::Read).is_ok());
        let pg = cfg("[daemon]\ndatabase = \"postgres://h/db\"\n");
        let p = env(inputs()).places_with(&pg, |_| true);
        assert!(p.check_access(Access::Read).is_ok());
        let e = env(inputs())
            .places_with(&cfg(""), |_| false)
            .check_access(Access::Read)
            .unwrap_err()
            .to_string();
        assert!(e.contains("chạy lệnh bằng sudo"), "{e}");
    }

    #[test]
    fn sqlite_files_of_urls() {
        assert_eq!(
            sqlite_file("sqlite:///tmp/a.db?mode=rwc"),
            Some("/tmp/a.db".into())
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }
}
