//! Delivering composed messages: the file transport (the embedded default)
//! and SMTP through lettre, with failures classified for the outbox.
//!
//! The SMTP password is read from its [`SecretSource`] when the [`Mailer`]
//! is built (at start and on every reload) and kept in a [`Secret`], whose
//! `Debug` and `Display` print `***`; it never appears in logs or errors.
//! Every send is wrapped in a timeout (lettre's own covers connecting only).
//! This module reads no clock for message content and renders nothing.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::Tls;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::notice::{Addressee, Language, Notice, NoticeKind};
use super::render::{ComposeError, Composer, Outgoing, Templates};
use crate::config::model::{Mail, SecretSource, Smtp, SmtpSecurity, Transport};

/// A secret string (the SMTP password). Its `Debug`/`Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for the one place that must hand it over.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A secret could not be read. Names where it was looked for, never its value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read the password file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the environment variable {0} holding the password is not set or not UTF-8")]
    Env(String),
    #[error(
        "the systemd credential {0} is unavailable: CREDENTIALS_DIRECTORY is not set (use LoadCredential= in the unit)"
    )]
    NoCredentialsDirectory(String),
    #[error("the password from {0} is empty")]
    Empty(String),
}

fn read_secret_file(path: &Path) -> Result<Secret, SecretError> {
    let text = std::fs::read_to_string(path).map_err(|source| SecretError::File {
        path: path.to_path_buf(),
        source,
    })?;
    // Files usually end with a newline the editor added; it is not part of the password.
    let trimmed = text.trim_end_matches(['\n', '\r']);
    if trimmed.is_empty() {
        return Err(SecretError::Empty(path.display().to_string()));
    }
    Ok(Secret(trimmed.to_string()))
}

/// Read a secret from a file, an environment variable or a systemd credential.
pub fn read_secret(source: &SecretSource) -> Result<Secret, SecretError> {
    match source {
        SecretSource::File(path) => read_secret_file(path),
        SecretSource::Env(var) => match std::env::var(var) {
            Ok(v) if v.is_empty() => Err(SecretError::Empty(format!("${var}"))),
            Ok(v) => Ok(Secret(v)),
            Err(_) => Err(SecretError::Env(var.clone())),
        },
        SecretSource::Credential(name) => {
            let dir = std::env::var_os("CREDENTIALS_DIRECTORY")
                .ok_or_else(|| SecretError::NoCredentialsDirectory(name.clone()))?;
            read_secret_file(&Path::new(&dir).join(name))
        }
    }
}

/// Why a [`Mailer`] could not be built from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(
        "mail.smtp: security = \"none\" is only allowed for 127.0.0.1, ::1 or localhost, not {0:?}"
    )]
    PlainNotLoopback(String),
    #[error("mail.smtp: a password is configured but no username")]
    PasswordWithoutUser,
    #[error("mail.smtp: host {host:?}: {reason}")]
    Smtp { host: String, reason: String },
    #[error(transparent)]
    Compose(#[from] ComposeError),
}

/// How a failed send should be treated by the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Retry later with backoff: 4xx replies, timeouts, refused or reset
    /// connections, a pooled connection the server closed ("incomplete response").
    Transient,
    /// Do not retry: 5xx replies, an invalid address, a message that cannot
    /// be built, or a client-side protocol refusal (e.g. the server does not
    /// offer STARTTLS, no usable AUTH mechanism).
    Permanent,
}

/// A failed send. `reason` carries the server's reply text when there is one;
/// it never contains credentials (the password is scrubbed if a server echoes it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("temporary failure: {reason}")]
    Transient { reason: String },
    #[error("permanent failure: {reason}")]
    Permanent { reason: String },
}

impl SendError {
    pub fn kind(&self) -> FailureKind {
        match self {
            SendError::Transient { .. } => FailureKind::Transient,
            SendError::Permanent { .. } => FailureKind::Permanent,
        }
    }

    pub fn is_transient(&self) -> bool {
        self.kind() == FailureKind::Transient
    }

    pub fn reason(&self) -> &str {
        match self {
            SendError::Transient { reason } | SendError::Permanent { reason } => reason,
        }
    }
}

impl From<ComposeError> for SendError {
    fn from(e: ComposeError) -> SendError {
        SendError::Permanent {
            reason: e.to_string(),
        }
    }
}

impl From<MailerError> for SendError {
    fn from(e: MailerError) -> SendError {
        SendError::Permanent {
            reason: e.to_string(),
        }
    }
}

/// A delivered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message_id: String,
    /// The server's final reply (`250 ...`) or the .eml file written.
    pub detail: String,
}

/// Default limit on one whole send (connect, MAIL, RCPT, DATA, final reply).
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// lettre's own timeout: connecting and each command.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Pooled connections idle longer than this are closed by us before the
/// server closes them (lettre #743).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
const POOL_MAX_SIZE: u32 = 4;

type SmtpTransport = AsyncSmtpTransport<Tokio1Executor>;

struct SmtpSender {
    smtp: Smtp,
    password: Option<Secret>,
    /// Replaced with a fresh pool after a timeout: a send cancelled mid-way
    /// leaves its connection in an unknown protocol state.
    transport: RwLock<Arc<SmtpTransport>>,
}

enum Inner {
    File { dir: PathBuf },
    Smtp(SmtpSender),
}

/// Sends [`Outgoing`] messages over the configured transport. Build it once
/// (and again on reload); it is shared by reference between sends.
/// Must be built inside a tokio runtime (lettre's pool spawns a task).
pub struct Mailer {
    inner: Inner,
    send_timeout: Duration,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mailer");
        match &self.inner {
            Inner::File { dir } => d.field("file_dir", dir),
            Inner::Smtp(s) => d
                .field("host", &s.smtp.host)
                .field("port", &s.smtp.port)
                .field("security", &s.smtp.security)
                .field("username", &s.smtp.username)
                .field("password", &s.password),
        };
        d.field("send_timeout", &self.send_timeout).finish()
    }
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn build_transport(smtp: &Smtp, password: Option<&Secret>) -> Result<SmtpTransport, MailerError> {
    let err = |e: lettre::transport::smtp::Error| MailerError::Smtp {
        host: smtp.host.clone(),
        reason: e.to_string(),
    };
    let builder = match smtp.security {
        SmtpSecurity::StartTls => SmtpTransport::starttls_relay(&smtp.host).map_err(err)?,
        SmtpSecurity::Tls => SmtpTransport::relay(&smtp.host).map_err(err)?,
        SmtpSecurity::None => {
            if !is_loopback(&smtp.host) {
                return Err(MailerError::PlainNotLoopback(smtp.host.clone()));
            }
            SmtpTransport::builder_dangerous(&smtp.host).tls(Tls::None)
        }
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(CONNECT_TIMEOUT))
        .pool_config(
            PoolConfig::new()
                .max_size(POOL_MAX_SIZE)
                .idle_timeout(POOL_IDLE_TIMEOUT),
        );
    match (&smtp.username, password) {
        (Some(user), Some(pw)) => {
            builder = builder.credentials(Credentials::new(user.clone(), pw.expose().to_string()));
        }
        (None, Some(_)) => return Err(MailerError::PasswordWithoutUser),
        _ => {}
    }
    Ok(builder.build())
}

/// Remove the password (and its base64 forms used by AUTH) from a text.
fn scrub(text: String, smtp: &Smtp, password: Option<&Secret>) -> String {
    let Some(pw) = password else { return text };
    let pw = pw.expose();
    if pw.is_empty() {
        return text;
    }
    let user = smtp.username.as_deref().unwrap_or("");
    let mut forms = vec![
        pw.to_string(),
        base64(pw.as_bytes()),
        base64(format!("\0{user}\0{pw}").as_bytes()),
    ];
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    let mut out = text;
    for f in forms {
        out = out.replace(&f, "***");
    }
    out
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Map a lettre error to the outbox's two classes.
fn classify(e: &lettre::transport::smtp::Error) -> (FailureKind, String) {
    let text = e.to_string();
    let kind = if e.is_permanent() || e.is_client() {
        FailureKind::Permanent
    } else {
        // 4xx, timeouts, connection and network errors, TLS handshake
        // failures, unparsable or incomplete responses, pool shut down.
        FailureKind::Transient
    };
    (kind, text)
}

impl Mailer {
    /// Build the transport from `[mail]`. Reads the SMTP password now.
    pub fn new(mail: &Mail) -> Result<Mailer, MailerError> {
        let inner = match &mail.transport {
            Transport::File { dir } => Inner::File { dir: dir.clone() },
            Transport::Smtp(smtp) => {
                let password = smtp.password.as_ref().map(read_secret).transpose()?;
                let transport = build_transport(smtp, password.as_ref())?;
                Inner::Smtp(SmtpSender {
                    smtp: smtp.clone(),
                    password,
                    transport: RwLock::new(Arc::new(transport)),
                })
            }
        };
        Ok(Mailer {
            inner,
            send_timeout: DEFAULT_SEND_TIMEOUT,
        })
    }

    /// Limit on one whole send (default [`DEFAULT_SEND_TIMEOUT`]).
    pub fn with_send_timeout(mut self, timeout: Duration) -> Mailer {
        self.send_timeout = timeout;
        self
    }

    /// Deliver one message. The file transport writes `<Message-ID local part>.eml`
    /// (re-sending overwrites); SMTP uses the pooled connection.
    pub async fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        match &self.inner {
            Inner::File { dir } => self.send_file(dir, msg).await,
            Inner::Smtp(s) => self.send_smtp(s, msg).await,
        }
    }

    async fn send_file(&self, dir: &Path, msg: &Outgoing) -> Result<Sent, SendError> {
        let io = |what: &str, path: &Path, e: std::io::Error| SendError::Transient {
            reason: format!("cannot {what} {}: {e}", path.display()),
        };
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| io("create the mail directory", dir, e))?;
        let name = super::ids::eml_file_name(msg.message_id());
        let path = dir.join(&name);
        // Write then rename, so a reader never sees half a message.
        let tmp = dir.join(format!(".{name}.tmp"));
        tokio::fs::write(&tmp, msg.to_bytes())
            .await
            .map_err(|e| io("write", &tmp, e))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| io("rename into", &path, e))?;
        Ok(Sent {
            message_id: msg.message_id().to_string(),
            detail: path.display().to_string(),
        })
    }

    async fn send_smtp(&self, s: &SmtpSender, msg: &Outgoing) -> Result<Sent, SendError> {
        let transport = s
            .transport
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let outcome =
            tokio::time::timeout(self.send_timeout, transport.send(msg.message.clone())).await;
        match outcome {
            Ok(Ok(response)) => {
                // lettre hands the connection back to the pool in a spawned
                // task; let it run so the next send finds it there.
                tokio::task::yield_now().await;
                Ok(Sent {
                    message_id: msg.message_id().to_string(),
                    detail: scrub(
                        format!(
                            "{} {}",
                            response.code(),
                            response.message().collect::<Vec<_>>().join(" ")
                        ),
                        &s.smtp,
                        s.password.as_ref(),
                    ),
                })
            }
            Ok(Err(e)) => {
                let (kind, text) = classify(&e);
                let reason = scrub(
                    format!("{}:{}: {text}", s.smtp.host, s.smtp.port),
                    &s.smtp,
                    s.password.as_ref(),
                );
                Err(match kind {
                    FailureKind::Transient => SendError::Transient { reason },
                    FailureKind::Permanent => SendError::Permanent { reason },
                })
            }
            Err(_elapsed) => {
                // The cancelled send's connection may go back to the pool in
                // the middle of a transaction: start a fresh pool.
                if let Ok(fresh) = build_transport(&s.smtp, s.password.as_ref()) {
                    *s.transport.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
                }
                Err(SendError::Transient {
                    reason: format!(
                        "{}:{}: no answer within {} s",
                        s.smtp.host,
                        s.smtp.port,
                        self.send_timeout.as_secs_f64()
                    ),
                })
            }
        }
    }
}

/// `hanbao send-test --to ADDRESS`: build the transport from `[mail]`,
/// compose the test message with the built-in templates and send it.
pub async fn send_test(mail: &Mail, to: &str, now: Timestamp) -> Result<Sent, SendError> {
    let mailer = Mailer::new(mail)?;
    let composer = Composer::new(mail, Templates::builtin())?;
    let notice = Notice {
        kind: NoticeKind::Test,
        language: Language::Vi,
        recipients: vec![Addressee::new(to)],
        // A fresh key per run: each test message is a new message.
        outbox_key: format!("send-test|{to}|{}", now.as_nanosecond()),
        sent_at: now,
    };
    let msg = composer.compose(&notice)?;
    mailer.send(&msg).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_and_display_hide_the_value() {
        let s = Secret::new("hunter2-mật-khẩu");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(s.expose(), "hunter2-mật-khẩu");
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        // RFC 4648 §10.
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn scrub_removes_password_and_auth_plain_forms() {
        let smtp = Smtp {
            host: "h".into(),
            port: 25,
            security: SmtpSecurity::StartTls,
            username: Some("u".into()),
            password: None,
        };
        let pw = Secret::new("s3cret");
        let plain = base64(b"\0u\0s3cret");
        let text = format!("535 bad s3cret {plain} {}", base64(b"s3cret"));
        let out = scrub(text, &smtp, Some(&pw));
        assert_eq!(out, "535 bad *** *** ***");
    }

    #[test]
    fn loopback_hosts() {
        for h in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["10.0.0.1", "mail.example", "0.0.0.0"] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn secret_file_trims_the_trailing_newline_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, " pass word \r\n").unwrap();
        assert_eq!(
            read_secret(&SecretSource::File(p)).unwrap().expose(),
            " pass word "
        );
    }

    #[test]
    fn secret_errors_name_the_source_not_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing");
        let e = read_secret(&SecretSource::File(p.clone())).unwrap_err();
        assert!(e.to_string().contains(&p.display().to_string()));
        let e = read_secret(&SecretSource::Env("HANBAO_TEST_SURELY_UNSET_VAR".into())).unwrap_err();
        assert!(e.to_string().contains("HANBAO_TEST_SURELY_UNSET_VAR"));
    }
}
