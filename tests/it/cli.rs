//! One database for every command: the real binary (`CARGO_BIN_EXE_hanbao`)
//! run as an administrator would, under each way of choosing where things
//! are (a flag, the environment, the configuration file, the built-in
//! default with its per-user fallback), for the state directory and for the
//! database. Every command must open the same file, say so with
//! `--verbose`, and never create a database where it may not
//! (`environment::Access`): reading commands never, writing commands only
//! where the invocation chose it, `run` wherever it was chosen.
//!
//! `simulate` is the exception by design: it runs on a throwaway database
//! of its own, and says so.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const UNITS: &str = "[[unit]]\nid = \"so\"\nname = \"Sở Y tế\"\nemail = \"so@example.org\"\n\n\
     [[unit]]\nid = \"xa-a\"\nname = \"UBND xã A\"\nemail = \"a@example.org\"\n\n\
     [[unit]]\nid = \"xa-b\"\nname = \"UBND xã B\"\nemail = \"b@example.org\"\n\n\
     [[obligation]]\nid = \"bc\"\ntitle = \"Báo cáo năm\"\nreporters = [\"xa-a\", \"xa-b\"]\n\
     recipient = \"so\"\ncycle = \"annual\"\ndue = \"20/12\"\n";

/// A temporary root every user can write (the default case runs as
/// `nobody` when the tests run as root), canonical so that paths compare.
fn root() -> (tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    for sub in ["", "work", "home", "xdg"] {
        let p = root.join(sub);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    (dir, root)
}

fn url(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// One way of choosing, and the file it must lead every command to.
struct Case {
    name: &'static str,
    root: PathBuf,
    config: PathBuf,
    /// Global flags given to every command.
    flags: Vec<OsString>,
    env: Vec<(&'static str, OsString)>,
    db: PathBuf,
    /// Flag or environment: writing commands may create the database.
    chosen_here: bool,
    /// Run as `nobody` (the built-in default, when the tests run as root).
    unprivileged: bool,
}

impl Case {
    fn new(name: &'static str, root: &Path, daemon_toml: &str) -> Case {
        let config = root.join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!("[daemon]\nhttp_listen = \"127.0.0.1:0\"\n{daemon_toml}\n{UNITS}"),
        )
        .unwrap();
        Case {
            name,
            root: root.to_path_buf(),
            config,
            flags: Vec::new(),
            env: Vec::new(),
            db: PathBuf::new(),
            chosen_here: false,
            unprivileged: false,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hanbao"));
        c.arg("--config").arg(&self.config);
        c.args(&self.flags).args(args);
        for var in [
            "HANBAO_CONFIG",
            "HANBAO_STATE_DIR",
            "HANBAO_DATABASE",
            "HANBAO_LOG",
            "SUDO_USER",
            "JOURNAL_STREAM",
            "NOTIFY_SOCKET",
        ] {
            c.env_remove(var);
        }
        c.env("HOME", self.root.join("home"))
            .env("XDG_STATE_HOME", self.root.join("xdg"))
            .env("USER", "chi-lan")
            .env("NO_COLOR", "1")
            .current_dir(self.root.join("work"));
        for (k, v) in &self.env {
            c.env(k, v);
        }
        if self.unprivileged && rustix::process::geteuid().is_root() {
            c.uid(65534).gid(65534);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs a command that must succeed with `-v`, naming the database on
    /// stderr; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let mut all = vec!["-v"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        let (stdout, stderr) = texts(&out);
        assert!(
            out.status.success(),
            "{}: {args:?}: {stdout}\n{stderr}",
            self.name
        );
        self.names_the_database(args, &stderr);
        stdout
    }

    #[track_caller]
    fn names_the_database(&self, args: &[&str], text: &str) {
        let want = format!("Cơ sở dữ liệu: {} (", url(&self.db));
        assert!(
            text.contains(&want),
            "{}: {args:?} does not name {want:?}:\n{text}",
            self.name
        );
    }

    /// Runs a command that must be refused because the database is missing.
    fn refused(&self, args: &[&str]) {
        let mut all = vec!["-v"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        let (stdout, stderr) = texts(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {args:?}: {stdout}\n{stderr}",
            self.name
        );
        let want = format!("chưa có cơ sở dữ liệu tại {} (", self.db.display());
        assert!(stderr.contains(&want), "{}: {args:?}: {stderr}", self.name);
        assert!(
            stderr.contains("daemon chưa chạy, hoặc chọn bằng --database / HANBAO_STATE_DIR"),
            "{stderr}"
        );
        self.names_the_database(args, &stderr);
        assert!(
            !self.db.exists(),
            "{}: {args:?} created {}",
            self.name,
            self.db.display()
        );
    }

    /// `hanbao run` until its start is logged; returns the log.
    fn run_daemon_briefly(&self) -> String {
        let log = self.root.join(format!("{}-run.log", self.name));
        let child = self
            .command(&["run"])
            .env("HANBAO_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut daemon = Running(child);
        let started = Instant::now();
        let text = loop {
            let text = std::fs::read_to_string(&log).unwrap();
            if text.contains("hanbao đang chạy") {
                break text;
            }
            assert!(
                daemon.0.try_wait().unwrap().is_none(),
                "{}: run exited:\n{text}",
                self.name
            );
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{}: run did not start:\n{text}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        daemon.stop();
        text
    }
}

fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A child process killed on drop, so that none outlives a failed test.
struct Running(Child);

impl Running {
    /// SIGTERM, then the exit status must be success.
    fn stop(&mut self) {
        let pid = self.0.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = self.0.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every `*.db` file under `dir`.
fn databases(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(databases(&path));
        } else if path.extension().is_some_and(|e| e == "db") {
            found.push(path);
        }
    }
    found
}

/// The seven ways of choosing: the state directory by flag, environment,
/// configuration file and default; the database by flag, environment and
/// configuration file.
fn cases(root: &Path) -> Vec<Case> {
    let mut all = Vec::new();

    let mut c = Case::new("state-flag", root, "");
    c.flags = vec!["--state-dir".into(), root.join("flag-state").into()];
    c.db = root.join("flag-state/hanbao.db");
    c.chosen_here = true;
    all.push(c);

    // Relative, as README's "Try it" gives it.
    let mut c = Case::new("state-env", root, "");
    c.env = vec![("HANBAO_STATE_DIR", "./env-state".into())];
    c.db = root.join("work/env-state/hanbao.db");
    c.chosen_here = true;
    all.push(c);

    let cfg_state = root.join("cfg-state");
    let mut c = Case::new(
        "state-config",
        root,
        &format!("state_dir = \"{}\"\n", cfg_state.display()),
    );
    c.db = cfg_state.join("hanbao.db");
    all.push(c);

    // /var/lib/hanbao cannot be written by `nobody` (nor by a developer
    // without root): the per-user directory, for every command alike.
    let mut c = Case::new("state-default", root, "");
    c.db = root.join("xdg/hanbao/hanbao.db");
    c.unprivileged = true;
    all.push(c);

    // The database chosen apart from the state directory (set in the file
    // so that nothing goes to /var/lib/hanbao).
    let state = |name: &str| format!("state_dir = \"{}\"\n", root.join(name).display());
    let mut c = Case::new("db-flag", root, &state("db-flag-state"));
    c.flags = vec!["--database".into(), root.join("flag-db/h.db").into()];
    c.db = root.join("flag-db/h.db");
    c.chosen_here = true;
    all.push(c);

    // A plain relative path, which `run` used to refuse.
    let mut c = Case::new("db-env", root, &state("db-env-state"));
    c.env = vec![("HANBAO_DATABASE", "env-db/h.db".into())];
    c.db = root.join("work/env-db/h.db");
    c.chosen_here = true;
    all.push(c);

    let cfg_db = root.join("cfg-db/h.db");
    let mut c = Case::new(
        "db-config",
        root,
        &format!("{}database = \"{}\"\n", state("db-cfg-state"), url(&cfg_db)),
    );
    c.db = cfg_db;
    all.push(c);
    all
}

/// Every command of one case, in the order an administrator meets them.
fn every_command_opens_the_same_database(c: &Case) {
    // Nothing yet: reading commands refuse and create nothing; so do
    // writing commands where the place was not chosen by this invocation.
    for args in [
        &["status"][..],
        &["export"],
        &["history"],
        &["token", "list"],
        &["verify-db"],
        &["backup", "/nonexistent/never-written.db"],
    ] {
        c.refused(args);
    }
    assert!(
        !c.db.parent().unwrap().exists(),
        "{}: a reading command created {}",
        c.name,
        c.db.parent().unwrap().display()
    );
    if !c.chosen_here {
        c.refused(&["submit", "bc", "2025", "xa-a"]);
        c.refused(&["token", "create", "--admin", "--name", "A"]);
    }
    let out = c.ok(&["check"]);
    c.names_the_database(&["check"], &out);
    assert!(out.contains("[chưa có; hanbao run sẽ tạo]"), "{out}");

    // The daemon creates its database where it was chosen, and says where.
    let log = c.run_daemon_briefly();
    assert!(
        log.contains(&format!(
            "đã mở cơ sở dữ liệu backend=\"sqlite\" database={}",
            url(&c.db)
        )),
        "{}: {log}",
        c.name
    );
    assert!(c.db.exists(), "{}: run did not create the database", c.name);

    let out = c.ok(&["token", "create", "--admin", "--name", "Điều phối"]);
    assert!(out.contains("Đã tạo mã truy cập số 1 (quản trị"), "{out}");
    c.ok(&["token", "create", "--unit", "xa-a", "--name", "Văn thư"]);
    let out = c.ok(&["token", "list"]);
    assert!(
        out.contains("Điều phối") && out.contains("Văn thư"),
        "{out}"
    );
    // Vietnamese, local time with the zone named.
    assert!(
        out.starts_with("Mã truy cập (giờ Asia/Ho_Chi_Minh, UTC+07:00):\nSố  Quyền"),
        "{out}"
    );
    assert!(
        out.contains("quản trị") && out.contains("đơn vị    xa-a"),
        "{out}"
    );
    c.ok(&["token", "revoke", "2"]);
    c.ok(&[
        "submit",
        "bc",
        "2025",
        "xa-a",
        "--on",
        "2025-12-01",
        "--ref",
        "1/BC",
    ]);
    c.ok(&[
        "extend",
        "bc",
        "2025",
        "xa-b",
        "--until",
        "2026-01-15",
        "--reason",
        "lũ",
    ]);
    c.ok(&["waive", "bc", "2024", "xa-b", "--reason", "sáp nhập"]);
    c.ok(&[
        "revoke", "bc", "2024", "xa-b", "--what", "waiver", "--reason", "nhầm",
    ]);
    let csv = c.root.join(format!("{}.csv", c.name));
    std::fs::write(
        &csv,
        "obligation,period,unit,received_on\nbc,2024,xa-a,2024-12-01\n",
    )
    .unwrap();
    c.ok(&["import", csv.to_str().unwrap()]);

    let out = c.ok(&["status", "--json", "--period", "2025"]);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let a = rows.iter().find(|r| r["unit"] == "xa-a").unwrap();
    assert_eq!(a["submitted_on"], "2025-12-01", "{out}");
    let b = rows.iter().find(|r| r["unit"] == "xa-b").unwrap();
    assert_eq!(b["due"], "2026-01-15", "{out}");
    let out = c.ok(&["export", "--period", "2024"]);
    assert!(out.contains("01/12/2024"), "{out}");
    let out = c.ok(&["history"]);
    assert_eq!(out.lines().count(), 6, "header and five events:\n{out}");
    assert!(out.contains("(import)"), "{out}");
    let out = c.ok(&["verify-db"]);
    assert!(out.contains("Lịch sử: 5 sự kiện"), "{out}");
    let copy = c.root.join(format!("{}.backup", c.name));
    let out = c.ok(&["backup", copy.to_str().unwrap()]);
    assert!(out.contains("Kết quả: tốt"), "{out}");
    let out = c.ok(&["check"]);
    c.names_the_database(&["check"], &out);
    assert!(out.contains("[đã có]"), "{out}");

    // simulate: its own throwaway database, by design, and it says so.
    let sim = c.root.join(format!("{}-sim", c.name));
    let out = c.run(&[
        "-v",
        "simulate",
        "--from",
        "2025-12-01",
        "--to",
        "2025-12-31",
        "--index-only",
        "--out",
        sim.to_str().unwrap(),
    ]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "Cơ sở dữ liệu: tạm thời, riêng cho simulate (không dùng {})",
            url(&c.db)
        )),
        "{stderr}"
    );
}

#[test]
fn every_command_uses_one_database_under_each_way_of_choosing() {
    let (_dir, root) = root();
    let cases = cases(&root);
    for c in &cases {
        every_command_opens_the_same_database(c);
    }
    // No other database anywhere: one file per way of choosing.
    let mut found = databases(&root);
    found.sort();
    let mut want: Vec<PathBuf> = cases.iter().map(|c| c.db.clone()).collect();
    want.sort();
    assert_eq!(found, want);
}

/// Flag over environment over configuration file over default, for the
/// state directory and the database, as `check` reports them.
#[test]
fn flag_beats_environment_beats_configuration_file_beats_default() {
    let (_dir, root) = root();
    let mut c = Case::new(
        "order",
        &root,
        &format!("state_dir = \"{}\"\n", root.join("cfg").display()),
    );
    let check = |c: &Case| {
        let out = c.run(&["check"]);
        let (stdout, stderr) = texts(&out);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        stdout
    };
    c.flags = vec!["--state-dir".into(), root.join("flag").into()];
    c.env = vec![("HANBAO_STATE_DIR", root.join("env").into())];
    let out = check(&c);
    assert!(
        out.contains(&format!(
            "Thư mục trạng thái: {} (chọn bằng --state-dir)",
            root.join("flag").display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "Thư .eml: {} (trong thư mục trạng thái)",
            root.join("flag/outbox-mail").display()
        )),
        "{out}"
    );
    c.flags.clear();
    let out = check(&c);
    assert!(
        out.contains(&format!(
            "Thư mục trạng thái: {} (chọn bằng biến môi trường HANBAO_STATE_DIR)",
            root.join("env").display()
        )),
        "{out}"
    );
    // The summary names the same .eml directory as `run` uses.
    assert!(
        out.contains(&format!(
            "gửi thư: tệp .eml trong {}",
            root.join("env/outbox-mail").display()
        )),
        "{out}"
    );
    c.env.clear();
    let out = check(&c);
    assert!(
        out.contains(&format!(
            "Thư mục trạng thái: {} (theo tệp cấu hình, daemon.state_dir)",
            root.join("cfg").display()
        )),
        "{out}"
    );
    // The database: flag over environment, a password never shown.
    c.flags = vec!["--database".into(), "postgres://u:bi-mat@h/db".into()];
    c.env = vec![("HANBAO_DATABASE", root.join("e.db").into())];
    let out = check(&c);
    assert!(
        out.contains("Cơ sở dữ liệu: postgres://u:***@h/db (chọn bằng --database)"),
        "{out}"
    );
    assert!(!out.contains("bi-mat"), "{out}");
    c.flags.clear();
    let out = check(&c);
    assert!(
        out.contains(&format!(
            "Cơ sở dữ liệu: {} (chọn bằng biến môi trường HANBAO_DATABASE)",
            url(&root.join("e.db"))
        )),
        "{out}"
    );
    // An unsupported URL is refused by every command.
    c.env = vec![("HANBAO_DATABASE", "mysql://h/db".into())];
    for args in [&["check"][..], &["status"], &["run"]] {
        let out = c.run(args);
        let (_, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr
                .contains("HANBAO_DATABASE: \"mysql://h/db\" không phải cơ sở dữ liệu được hỗ trợ"),
            "{stderr}"
        );
    }
}

/// README's "Try it" in one shell: the daemon started with
/// `HANBAO_STATE_DIR=./hanbao-state`, a submission made through its API,
/// then `hanbao history` and `status` in the same shell must show it, and a
/// receipt recorded with `hanbao submit` must be what the daemon sees (so
/// its reminders stop). These commands used to ignore `HANBAO_STATE_DIR`
/// and open `/var/lib/hanbao/hanbao.db`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_dir_of_try_it_is_shared_by_the_daemon_its_api_and_the_commands() {
    let (_dir, root) = root();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut c = Case::new("try-it", &root, "");
    std::fs::write(
        &c.config,
        format!("[daemon]\nhttp_listen = \"{addr}\"\n{UNITS}"),
    )
    .unwrap();
    c.env = vec![("HANBAO_STATE_DIR", "./hanbao-state".into())];
    c.db = root.join("work/hanbao-state/hanbao.db");

    let out = c.ok(&["token", "create", "--admin", "--name", "Điều phối"]);
    let secret = out
        .lines()
        .find(|l| l.starts_with("hanbao_"))
        .unwrap()
        .to_string();
    let auth = format!("Bearer {secret}");
    let child = c
        .command(&["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut daemon = Running(child);
    let started = Instant::now();
    loop {
        // The client expects a listening port: wait for it first.
        if tokio::net::TcpStream::connect(addr).await.is_ok()
            && crate::http::request(addr, "GET", "/healthz", None, None)
                .await
                .status
                == 200
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no /healthz");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = serde_json::json!({"obligation": "bc", "period": "2025", "unit": "xa-a",
        "received_on": "2025-12-01", "reference": "9/BC"})
    .to_string();
    let r = crate::http::request(
        addr,
        "POST",
        "/api/v1/submissions",
        Some(&auth),
        Some(("application/json", body.as_bytes())),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let out = c.ok(&["history"]);
    assert!(
        out.contains("bc / 2025 / xa-a  nộp  nhận 01/12/2025, số 9/BC  token:1:Điều phối (api)"),
        "{out}"
    );
    let out = c.ok(&["status", "--json", "--period", "2025", "--unit", "xa-a"]);
    assert!(out.contains("\"submitted_on\":\"2025-12-01\""), "{out}");

    c.ok(&[
        "submit",
        "bc",
        "2025",
        "xa-b",
        "--on",
        "2025-12-02",
        "--ref",
        "10/BC",
    ]);
    let r = crate::http::request(
        addr,
        "GET",
        "/api/v1/status?obligation=bc&period=2025&unit=xa-b",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = r.json();
    assert_eq!(rows[0]["submitted_on"], "2025-12-02", "{rows}");
    assert_eq!(rows[0]["reference"], "10/BC", "{rows}");
    daemon.stop();
    assert_eq!(databases(&root), [c.db.clone()]);
}

/// The definition the man pages and shell completions are generated from
/// (`commands::cli::command`, read by `xtask`) passes clap's own checks and
/// is the one the binary parses: every command it names answers `--help`.
#[test]
fn the_generated_documentation_describes_the_binary() {
    let cmd = hanbao::commands::cli::command();
    cmd.clone().debug_assert();
    assert_eq!(cmd.get_name(), "hanbao");
    let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
    for name in ["check", "run", "simulate", "status", "token"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    for name in &names {
        let out = Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .args([name, "--help"])
            .output()
            .unwrap();
        assert!(out.status.success(), "hanbao {name} --help: {out:?}");
    }
}
