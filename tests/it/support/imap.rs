//! A throwaway Dovecot IMAP server for the intake tests, as `pg` is for
//! PostgreSQL: Debian's `dovecot-imapd` started in the foreground in a
//! temp directory, on a free port of 127.0.0.1, plain IMAP (the intake
//! allows it towards this machine only), one user with a password. As root
//! it logs in as `dovenull` and keeps mail as `dovecot`; otherwise as the
//! current user throughout. [`Dovecot::stop`] and [`Dovecot::start_again`]
//! take it away and bring it back on the same port and mail, for the
//! outage test; dropping it stops it.
//!
//! [`Dovecot::append`] feeds a message by IMAP APPEND over a raw socket
//! (its own few lines of IMAP, sharing nothing with hanbao's client), and
//! [`Dovecot::count`] and [`Dovecot::seen`] read the mailbox back.
//!
//! If Dovecot is not installed this panics with how to install it: the
//! tests fail, they never skip.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DOVECOT: &str = "/usr/sbin/dovecot";
const INSTALL_HINT: &str = "Dovecot is required by the intake tests and was not found \
     (/usr/sbin/dovecot). Install it with `apt-get install dovecot-imapd` and run the tests again.";

pub const USER: &str = "baocao";
pub const PASSWORD: &str = "mat-khau-thu";

pub struct Dovecot {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    rustix::process::getuid().is_root()
}

fn current_user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            let out = Command::new("id").arg("-un").output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        })
}

impl Dovecot {
    /// Starts a server on a free port.
    pub fn start() -> Dovecot {
        assert!(Path::new(DOVECOT).exists(), "{INSTALL_HINT}");
        let dir = tempfile::Builder::new()
            .prefix("hanbao-dovecot")
            .tempdir()
            .unwrap();
        let root = dir.path();
        let port = free_port();
        let (internal, login, mail_user) = if is_root() {
            (
                "dovecot".to_string(),
                "dovenull".to_string(),
                "dovecot".to_string(),
            )
        } else {
            let me = current_user();
            (me.clone(), me.clone(), me)
        };
        std::fs::create_dir_all(root.join("run")).unwrap();
        std::fs::create_dir_all(root.join("mail")).unwrap();
        std::fs::write(root.join("users"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
        let r = root.display();
        let conf = format!(
            "protocols = imap\n\
             first_valid_uid = 1\n\
             first_valid_gid = 1\n\
             listen = 127.0.0.1\n\
             base_dir = {r}/run\n\
             state_dir = {r}/run/state\n\
             instance_name = hanbao-test-{port}\n\
             default_internal_user = {internal}\n\
             default_internal_group = {internal_group}\n\
             default_login_user = {login}\n\
             ssl = no\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = plain login\n\
             log_path = {r}/dovecot.log\n\
             mail_location = maildir:{r}/mail/%u\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {r}/users\n}}\n\
             userdb {{\n  driver = static\n  args = uid={mail_user} gid={mail_group} home={r}/mail/%u\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n  chroot =\n}}\n\
             service anvil {{\n  chroot =\n}}\n",
            internal_group = group_of(&internal),
            mail_group = group_of(&mail_user),
        );
        std::fs::write(root.join("dovecot.conf"), conf).unwrap();
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "dovecot:dovecot"])
                .arg(root.join("mail"))
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown of the mail directory");
            // The login and internal users must reach the directory.
            let _ = Command::new("chmod").arg("755").arg(root).status();
        }
        let mut d = Dovecot {
            dir,
            port,
            child: None,
        };
        d.start_again();
        d
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Starts the server again on the same port and mail.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(self.dir.path().join("stderr.log")).unwrap(),
            ))
            .spawn()
            .expect(INSTALL_HINT);
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let mut line = String::new();
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                if BufReader::new(s).read_line(&mut line).is_ok() && line.starts_with("* OK") {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "Dovecot did not start: {}\n{}",
                std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default(),
                std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (SIGTERM to the master, which ends its children)
    /// and waits until the port is closed.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn session(&self) -> Imap {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to Dovecot");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut imap = Imap {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
            tag: 0,
        };
        let mut greeting = String::new();
        imap.reader.read_line(&mut greeting).unwrap();
        imap.command(&format!("LOGIN {USER} {PASSWORD}"));
        imap
    }

    /// Appends `message` to `mailbox` (created when missing).
    pub fn append(&self, mailbox: &str, message: &[u8]) {
        let mut imap = self.session();
        imap.send(&format!("CREATE \"{mailbox}\""));
        imap.tagged();
        imap.send(&format!("APPEND \"{mailbox}\" {{{}}}", message.len()));
        let mut cont = String::new();
        imap.reader.read_line(&mut cont).unwrap();
        assert!(cont.starts_with('+'), "APPEND refused: {cont}");
        imap.writer.write_all(message).unwrap();
        imap.writer.write_all(b"\r\n").unwrap();
        let (ok, text) = imap.tagged();
        assert!(ok, "APPEND failed: {text}");
    }

    /// How many messages `mailbox` holds and how many of them are seen.
    pub fn count(&self, mailbox: &str) -> (usize, usize) {
        let mut imap = self.session();
        let (_, all) = imap.command(&format!("STATUS \"{mailbox}\" (MESSAGES UNSEEN)"));
        let number = |name: &str| -> usize {
            let at = all.find(name).unwrap_or_else(|| panic!("{name} in {all}"));
            all[at + name.len()..]
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap()
        };
        let messages = number("MESSAGES");
        (messages, messages - number("UNSEEN"))
    }

    /// Dovecot's log, for failing tests.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

fn group_of(user: &str) -> String {
    let out = Command::new("id").arg("-gn").arg(user).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A few lines of IMAP over a blocking socket.
struct Imap {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

impl Imap {
    fn send(&mut self, command: &str) {
        self.tag += 1;
        write!(self.writer, "t{} {command}\r\n", self.tag).unwrap();
    }

    /// Reads up to the tagged answer: (OK?, every line read).
    fn tagged(&mut self) -> (bool, String) {
        let tag = format!("t{} ", self.tag);
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).unwrap();
            assert!(n > 0, "Dovecot closed the connection: {all}");
            all.push_str(&line);
            if let Some(rest) = line.strip_prefix(&tag) {
                return (rest.starts_with("OK"), all);
            }
            // A literal in an untagged answer: read it whole.
            if let Some(open) = line.trim_end().strip_suffix('}')
                && let Some(at) = open.rfind('{')
                && let Ok(n) = open[at + 1..].parse::<usize>()
            {
                let mut buf = vec![0; n];
                self.reader.read_exact(&mut buf).unwrap();
                all.push_str(&String::from_utf8_lossy(&buf));
            }
        }
    }

    fn command(&mut self, command: &str) -> (bool, String) {
        self.send(command);
        let (ok, text) = self.tagged();
        assert!(ok, "{command}: {text}");
        (ok, text)
    }
}

/// Where the mailbox's messages are on disk (maildir), for checks that
/// look under the server.
pub fn maildir(d: &Dovecot) -> PathBuf {
    d.dir().join("mail").join(USER)
}
