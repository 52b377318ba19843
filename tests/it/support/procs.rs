//! Real `hanbao run` processes for the fault suite, and the configuration
//! they run on.
//!
//! [`Daemon::spawn`] starts the test build of the binary
//! (`CARGO_BIN_EXE_hanbao`) with a configuration file, `HANBAO_DATABASE`,
//! `HANBAO_STATE_DIR` and a `HOSTNAME` that names it in outbox leases
//! (`HOSTNAME:pid`), its log in a file. [`Daemon::term`] sends SIGTERM and
//! waits, [`Daemon::kill9`] sends SIGKILL, [`Daemon::hup`] SIGHUP; dropping
//! a `Daemon` kills it, so no process outlives its test, even a failed one.
//!
//! [`DaemonConfig`] writes a configuration on which the daemon's first tick
//! has work without a virtual clock: today (in `support::daytime_zone`, far from midnight) is made a
//! working day, sending hours are 00:00–23:59, and every obligation is a
//! one-off report due in three days with one reminder three days before,
//! that is today: one message per (obligation, unit), each to the unit's
//! own address, never grouped.
//!
//! Test-only: it must not be used outside the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use hanbao::calendar::WorkCalendar;
use hanbao::config::model::CalendarSettings;
use jiff::Timestamp;

/// A configuration for the fault suite (see the module doc).
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub smtp_port: u16,
    /// Units `xa-0001` … (each with `vanthu@xa-NNNN.example`).
    pub units: usize,
    /// Obligation ids, each reported by every unit.
    pub obligations: Vec<String>,
    /// `daemon.sending_hours` (default all day: "00:00-23:59").
    pub sending_hours: String,
}

impl DaemonConfig {
    /// `units` units and `obligations` obligations `bc-1` … `bc-N`.
    pub fn new(smtp_port: u16, units: usize, obligations: usize) -> DaemonConfig {
        DaemonConfig {
            smtp_port,
            units,
            obligations: (1..=obligations).map(|i| format!("bc-{i}")).collect(),
            sending_hours: "00:00-23:59".into(),
        }
    }

    /// Half an hour of sending just after midnight. In the zone of
    /// `support::daytime_zone` the local time is between 04:00 and 20:00,
    /// so today's window is over: the first tick plans and enqueues (the
    /// reminders fall at 00:00 today) but sends nothing before tomorrow.
    pub fn sending_later(mut self) -> DaemonConfig {
        self.sending_hours = "00:00-00:30".into();
        self
    }

    /// How many reminders the first tick enqueues.
    pub fn notifications(&self) -> usize {
        self.units * self.obligations.len()
    }

    pub fn unit_id(i: usize) -> String {
        format!("xa-{i:04}")
    }

    pub fn unit_email(i: usize) -> String {
        format!("vanthu@{}.example", DaemonConfig::unit_id(i))
    }

    /// The TOML text.
    pub fn toml(&self) -> String {
        let (zone, tz) = super::daytime_zone();
        let today = tz.to_datetime(Timestamp::now()).date();
        let due = today.checked_add(jiff::Span::new().days(3)).unwrap();
        let cal = WorkCalendar::new(&CalendarSettings {
            culture_day: true,
            ..Default::default()
        });
        let mut t = format!(
            "[daemon]\ntime_zone = \"{zone}\"\nsending_hours = \"{}\"\n\
             http_listen = \"127.0.0.1:0\"\n\n\
             [mail]\ntransport = \"smtp\"\nfrom = \"Sở Thử <baocao@so.example>\"\n\
             [mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\n",
            self.sending_hours, self.smtp_port
        );
        if !cal.is_working_day(today) {
            t.push_str(&format!(
                "[[calendar.working_days]]\ndate = \"{today}\"\nreason = \"fault suite\"\n\n"
            ));
        }
        t.push_str("[[unit]]\nid = \"so\"\nname = \"Sở\"\nemail = \"vanthu@so.example\"\n\n");
        for i in 1..=self.units {
            t.push_str(&format!(
                "[[unit]]\nid = \"{}\"\nname = \"UBND xã {i}\"\nemail = \"{}\"\n\n",
                DaemonConfig::unit_id(i),
                DaemonConfig::unit_email(i)
            ));
        }
        let reporters = (1..=self.units)
            .map(|i| format!("\"{}\"", DaemonConfig::unit_id(i)))
            .collect::<Vec<_>>()
            .join(", ");
        for ob in &self.obligations {
            t.push_str(&format!(
                "[[obligation]]\nid = \"{ob}\"\ntitle = \"Báo cáo thử {ob}\"\n\
                 reporters = [{reporters}]\nrecipient = \"so\"\ncycle = \"once\"\n\
                 due = \"{due}\"\nroll_to_working_day = false\nreminders = [\"3 ngày\"]\n\n"
            ));
        }
        t
    }

    /// Writes the TOML to `path`.
    pub fn write(&self, path: &Path) {
        std::fs::write(path, self.toml()).unwrap();
    }
}

/// One `hanbao run` process.
pub struct Daemon {
    child: Child,
    /// The `HOSTNAME` given to it.
    pub name: String,
    log: PathBuf,
}

impl Daemon {
    /// Starts `hanbao --config CONFIG run` with `HANBAO_DATABASE=database`
    /// and `HANBAO_STATE_DIR=dir/NAME-state`, logging to `dir/NAME.log`.
    pub fn spawn(name: &str, config: &Path, database: &str, dir: &Path) -> Daemon {
        Daemon::spawn_with(name, config, database, dir, &[])
    }

    /// [`Daemon::spawn`] with more environment variables (e.g.
    /// `HANBAO_TEST_CLOCK`), which win over the defaults above.
    pub fn spawn_with(
        name: &str,
        config: &Path,
        database: &str,
        dir: &Path,
        env: &[(&str, &str)],
    ) -> Daemon {
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("HANBAO_DATABASE", database)
            .env("HANBAO_STATE_DIR", dir.join(format!("{name}-state")))
            .env("HANBAO_LOG", "info")
            .env("HOSTNAME", name)
            .env_remove("JOURNAL_STREAM")
            .env_remove("NOTIFY_SOCKET")
            // Last, so that a test may give its own (a state directory
            // shared by the processes that follow each other).
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Daemon {
            child,
            name: name.to_string(),
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The lease owner this process writes in the outbox.
    pub fn owner(&self) -> String {
        format!("{}:{}", self.name, self.pid())
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} {} ({})", self.pid(), self.name);
    }

    /// SIGHUP: reload the configuration.
    pub fn hup(&self) {
        self.signal("-HUP");
    }

    /// SIGKILL, and reap it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait up to `timeout` (SIGKILL after it).
    pub fn term(&mut self, timeout: Duration) -> ExitStatus {
        if let Some(status) = self.child.try_wait().unwrap() {
            return status;
        }
        self.signal("-TERM");
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill9();
        panic!(
            "{} did not stop within {timeout:?} of SIGTERM; log:\n{}",
            self.name,
            self.log()
        );
    }

    /// Waits until its log contains `text`; panics after `timeout`.
    pub async fn wait_for_log(&self, text: &str, timeout: Duration) {
        let end = Instant::now() + timeout;
        while !self.log().contains(text) {
            assert!(
                Instant::now() < end,
                "{}: no {text:?} in the log after {timeout:?}:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
