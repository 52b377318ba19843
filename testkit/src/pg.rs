//! A throwaway PostgreSQL cluster for tests and benchmarks.
//!
//! `fresh_database()` starts one cluster per test binary on first use
//! (initdb + pg_ctl in a temp directory, on a free port on 127.0.0.1, as the
//! `postgres` user when running as root, unix socket inside the temp dir)
//! and creates a new database per call. A small reaper process watches the
//! test binary and stops the cluster and removes its directory when the
//! binary exits, however it exits. A test that needs the server to go away
//! (`Cluster::stop`, `Cluster::start_again` on the same port and data
//! directory) starts its own cluster with `Cluster::start`, so the shared
//! one stays up for the others.
//!
//! If PostgreSQL is not installed this panics with how to install it: the
//! PostgreSQL tests fail, they never skip. Uses no sqlx (plain `initdb`,
//! `pg_ctl` and `createdb`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

const INSTALL_HINT: &str = "PostgreSQL is required by the store tests and benchmarks and was not \
     found (looked in $HANBAO_PG_BIN, /usr/lib/postgresql/*/bin and PATH for initdb and pg_ctl). \
     Install it with `apt-get install postgresql` (Debian/Ubuntu) and run the tests again.";

/// A running cluster.
pub struct Cluster {
    bin: PathBuf,
    root: PathBuf,
    port: u16,
    as_postgres: bool,
    /// The server options given to `pg_ctl start` (without the port).
    options: String,
}

/// How the cluster trades durability for speed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync off: for tests.
    Fast,
    /// PostgreSQL's defaults: for benchmarks that should mean something.
    Default,
}

static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// The cluster shared by this test binary, started on first use.
pub fn shared() -> &'static Cluster {
    match SHARED.get_or_init(|| Cluster::start(Durability::Fast)) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

/// A URL to a new, empty database on the shared cluster.
pub fn fresh_database() -> String {
    let n = NEXT_DB.fetch_add(1, Ordering::Relaxed);
    shared()
        .create_database(&format!("hanbao_test_{n}"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The directory holding initdb and pg_ctl, newest version first.
pub fn find_bin_dir() -> Option<PathBuf> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("HANBAO_PG_BIN").map(PathBuf::from) {
        return has_tools(&dir).then_some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_tools(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| has_tools(d))
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

impl Cluster {
    /// initdb, start on a free port, and arrange for removal at exit.
    pub fn start(durability: Durability) -> Result<Cluster, String> {
        let bin = find_bin_dir().ok_or_else(|| INSTALL_HINT.to_string())?;
        let as_postgres = running_as_root();
        let root = tempfile::Builder::new()
            .prefix("hanbao-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a temp dir: {e}"))?
            .keep();
        let mut cluster = Cluster {
            bin,
            root,
            port: 0,
            as_postgres,
            options: String::new(),
        };
        // Arm the reaper first, so even a failed start is cleaned up.
        cluster.spawn_reaper()?;
        if as_postgres {
            run(
                Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(&cluster.root),
                "chown of the cluster directory to postgres",
            )?;
        }
        run(
            cluster
                .tool("initdb")
                .arg("-D")
                .arg(cluster.data())
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
                .args(["--no-sync", "--no-instructions"]),
            "initdb",
        )?;
        let mut options = String::from("-c listen_addresses=127.0.0.1 -c max_connections=200");
        if durability == Durability::Fast {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            // pg_ctl leaves postgres running with our stdio: never pipe it.
            let status = cluster
                .tool("pg_ctl")
                .arg("-D")
                .arg(cluster.data())
                .arg("-l")
                .arg(cluster.root.join("server.log"))
                .args(["-w", "-t", "60", "-o"])
                .arg(format!("-p {port} -k {} {options}", cluster.root.display()))
                .arg("start")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| format!("pg_ctl: cannot run: {e}"))?;
            if status.success() {
                cluster.port = port;
                cluster.options = options;
                return Ok(cluster);
            }
            last_error =
                std::fs::read_to_string(cluster.root.join("server.log")).unwrap_or_default();
        }
        Err(format!(
            "pg_ctl start failed 5 times; server log:\n{last_error}"
        ))
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    /// A PostgreSQL program, run as `postgres` when we are root.
    fn tool(&self, name: &str) -> Command {
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(name));
            c
        } else {
            Command::new(self.bin.join(name))
        }
    }

    /// A shell process that waits for this process to end, then stops the
    /// cluster and deletes its directory. It runs in a process group of its
    /// own and ignores hang-up, interrupt and terminate, so the Ctrl-C (or
    /// the job control) that ends the test run does not end it too and leave
    /// the server running.
    fn spawn_reaper(&self) -> Result<(), String> {
        use std::os::unix::process::CommandExt as _;
        let runas = if self.as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let script = format!(
            "trap '' HUP INT TERM; \
             while kill -0 {pid} 2>/dev/null; do sleep 0.2; done; \
             {runas}{pg_ctl} -D {data} -m immediate -w stop >/dev/null 2>&1; \
             rm -rf {root}",
            pid = std::process::id(),
            pg_ctl = quote(&self.bin.join("pg_ctl")),
            data = quote(&self.data()),
            root = quote(&self.root),
        );
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start the cleanup process: {e}"))?;
        Ok(())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (`pg_ctl -m fast stop`: open sessions are cut,
    /// transactions in progress rolled back). The data directory stays.
    pub fn stop(&self) -> Result<(), String> {
        run(
            self.tool("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-m", "fast", "-w", "-t", "60", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "pg_ctl stop",
        )
    }

    /// Starts the server again after [`stop`](Self::stop), on the same port
    /// and data directory with the same options.
    pub fn start_again(&self) -> Result<(), String> {
        let mut last = String::new();
        for _ in 0..20 {
            let status = self
                .tool("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(self.root.join("server.log"))
                .args(["-w", "-t", "60", "-o"])
                .arg(format!(
                    "-p {} -k {} {}",
                    self.port,
                    self.root.display(),
                    self.options
                ))
                .arg("start")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| format!("pg_ctl: cannot run: {e}"))?;
            if status.success() {
                return Ok(());
            }
            // The port may still be held for a moment after the stop.
            last = std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default();
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        Err(format!("pg_ctl start (again) failed; server log:\n{last}"))
    }

    /// Creates database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        run(
            Command::new(self.bin.join("createdb"))
                .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
                .arg(self.port.to_string())
                .arg(name),
            "createdb",
        )?;
        Ok(self.url(name))
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}
