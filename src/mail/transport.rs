//! Delivering composed messages: the file transport (the embedded default)
//! and SMTP through lettre, with failures classified for the outbox.
//!
//! The SMTP password is read from its [`SecretSource`] when the [`Mailer`]
//! is built (at start and on every reload) and kept in a [`Secret`], whose
//! `Debug` and `Display` print `***`; it never appears in logs or errors.
//! lettre speaks SMTP (EHLO, STARTTLS, TLS, AUTH, DATA) on connections we
//! pool ourselves (see `SmtpSender` for why); every whole send is wrapped
//! in a timeout, since lettre's own covers connecting only. A reused pooled
//! connection found dead is replaced once, at once, so a message in flight
//! at that moment may reach the server twice: delivery is at least once.
//! This module renders nothing and reads the clock only for pool ageing.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiff::Timestamp;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;

use super::notice::{Addressee, Notice, NoticeKind};
use super::render::{ComposeError, Composer, Outgoing, Templates};
use crate::config::model::{Mail, Smtp, SmtpSecurity, Transport};

pub use super::secret::{Secret, SecretError, read_secret};

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
/// Limit on connecting, the greeting, EHLO, STARTTLS and AUTH.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Idle pooled connections older than this are closed by us before the
/// server closes them under our feet (lettre #743).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle connections kept at most.
const POOL_MAX_IDLE: usize = crate::config::validate::MAX_SMTP_CONNECTIONS;

/// A failure below the classification.
enum SmtpFailure {
    Smtp(lettre::transport::smtp::Error),
    Io(std::io::Error),
    ConnectTimeout,
}

impl SmtpFailure {
    fn kind(&self) -> FailureKind {
        match self {
            // 5xx, or a client-side refusal (no STARTTLS offered, no usable
            // AUTH mechanism, 8BITMIME missing): retrying cannot help.
            SmtpFailure::Smtp(e) if e.is_permanent() || e.is_client() => FailureKind::Permanent,
            // 4xx, network, TLS handshake, unparsable or incomplete replies.
            SmtpFailure::Smtp(_) => FailureKind::Transient,
            // Refused, reset, unreachable, DNS, timeouts.
            SmtpFailure::Io(_) | SmtpFailure::ConnectTimeout => FailureKind::Transient,
        }
    }

    /// Whether a reused pooled connection died under us (the server closed
    /// it while idle, perhaps saying "421 closing"): then one fresh
    /// connection is worth a try at once.
    fn is_stale_connection(&self) -> bool {
        match self {
            SmtpFailure::Smtp(e) => match e.status() {
                Some(code) => code.to_string() == "421",
                None => !e.is_client() && !e.is_timeout(),
            },
            SmtpFailure::Io(_) => true,
            SmtpFailure::ConnectTimeout => false,
        }
    }

    fn text(&self) -> String {
        match self {
            SmtpFailure::Smtp(e) => e.to_string(),
            SmtpFailure::Io(e) => e.to_string(),
            SmtpFailure::ConnectTimeout => {
                format!("no connection within {} s", CONNECT_TIMEOUT.as_secs())
            }
        }
    }
}

/// Where a plain SMTP connection is, as seen from the bytes passing through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Commands,
    /// "DATA" went out; the next reply says whether the body follows.
    DataSent,
    /// After "354": hold the body until its terminator is written.
    Body,
}

/// Our TCP socket for lettre: TCP_NODELAY, and a DATA body sent in the same
/// segment as its terminator. lettre 0.11.23 writes and flushes the body and
/// then `\r\n.\r\n` separately; on its own that costs one more packet and
/// server wake-up per message. Every other flush goes out at once. Over
/// STARTTLS the bytes here are ciphertext, nothing matches, and every flush
/// simply passes through.
#[derive(Debug)]
struct SmtpStream {
    tcp: tokio::net::TcpStream,
    out: Vec<u8>,
    phase: Phase,
}

impl SmtpStream {
    fn new(tcp: tokio::net::TcpStream) -> SmtpStream {
        SmtpStream {
            tcp,
            out: Vec::with_capacity(8 * 1024),
            phase: Phase::Commands,
        }
    }
}

impl tokio::io::AsyncRead for SmtpStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        std::task::ready!(std::pin::Pin::new(&mut this.tcp).poll_read(cx, buf))?;
        let got = &buf.filled()[before..];
        if this.phase == Phase::DataSent && !got.is_empty() {
            this.phase = if got.starts_with(b"354") {
                Phase::Body
            } else {
                Phase::Commands
            };
        }
        std::task::Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for SmtpStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.out.extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = &mut *self;
        match this.phase {
            Phase::Body if !this.out.ends_with(b"\r\n.\r\n") => {
                return std::task::Poll::Ready(Ok(()));
            }
            Phase::Body => this.phase = Phase::Commands,
            Phase::Commands if this.out.eq_ignore_ascii_case(b"DATA\r\n") => {
                this.phase = Phase::DataSent
            }
            _ => {}
        }
        while !this.out.is_empty() {
            let n = std::task::ready!(std::pin::Pin::new(&mut this.tcp).poll_write(cx, &this.out))?;
            if n == 0 {
                return std::task::Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            this.out.drain(..n);
        }
        std::pin::Pin::new(&mut this.tcp).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        // Whatever is held goes out before the close.
        if self.phase == Phase::Body {
            self.phase = Phase::Commands;
        }
        std::task::ready!(self.as_mut().poll_flush(cx))?;
        std::pin::Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for SmtpStream {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.tcp.peer_addr()
    }
}

struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// SMTP with our own small connection pool over lettre's
/// `AsyncSmtpConnection`. lettre does the protocol, STARTTLS, TLS and AUTH;
/// we open the TCP socket ourselves so it gets TCP_NODELAY: lettre 0.11.23
/// writes the DATA terminator as a separate small write, and with Nagle on
/// every message waits for the server's delayed ACK (about 40 ms; fixed
/// upstream by lettre PR #1159, not in a release we can use).
struct SmtpSender {
    smtp: Smtp,
    password: Option<Secret>,
    credentials: Option<Credentials>,
    hello: ClientId,
    idle: Arc<tokio::sync::Mutex<Vec<Idle>>>,
    /// Connections opened so far (for tests and metrics).
    opened: AtomicUsize,
}

impl SmtpSender {
    fn new(smtp: &Smtp, password: Option<Secret>) -> Result<SmtpSender, MailerError> {
        if smtp.security == SmtpSecurity::None && !is_loopback(&smtp.host) {
            return Err(MailerError::PlainNotLoopback(smtp.host.clone()));
        }
        let credentials = match (&smtp.username, &password) {
            (Some(user), Some(pw)) => Some(Credentials::new(user.clone(), pw.expose().to_string())),
            (None, Some(_)) => return Err(MailerError::PasswordWithoutUser),
            _ => None,
        };
        if smtp.security != SmtpSecurity::None {
            // Fail at start, not at the first send, if the TLS set-up is impossible.
            TlsParameters::new(smtp.host.clone()).map_err(|e| MailerError::Smtp {
                host: smtp.host.clone(),
                reason: e.to_string(),
            })?;
        }
        let idle: Arc<tokio::sync::Mutex<Vec<Idle>>> = Arc::default();
        // Close idle connections in the background, before the server does.
        let weak = Arc::downgrade(&idle);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(POOL_IDLE_TIMEOUT / 2).await;
                let Some(idle) = weak.upgrade() else { return };
                let expired: Vec<Idle> = {
                    let mut list = idle.lock().await;
                    let (old, fresh): (Vec<Idle>, Vec<Idle>) = list
                        .drain(..)
                        .partition(|c| c.since.elapsed() >= POOL_IDLE_TIMEOUT);
                    *list = fresh;
                    old
                };
                drop(idle);
                for mut c in expired {
                    let _ = tokio::time::timeout(Duration::from_secs(2), c.conn.quit()).await;
                }
            }
        });
        Ok(SmtpSender {
            smtp: smtp.clone(),
            password,
            credentials,
            hello: ClientId::default(),
            idle,
            opened: AtomicUsize::new(0),
        })
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SmtpFailure> {
        let setup = async {
            let tls = || TlsParameters::new(self.smtp.host.clone()).map_err(SmtpFailure::Smtp);
            let mut conn = match self.smtp.security {
                SmtpSecurity::Tls => {
                    // Implicit TLS needs the handshake before the greeting,
                    // so lettre opens this socket (Nagle stays on).
                    AsyncSmtpConnection::connect_tokio1(
                        (self.smtp.host.as_str(), self.smtp.port),
                        Some(CONNECT_TIMEOUT),
                        &self.hello,
                        Some(tls()?),
                        None,
                    )
                    .await
                    .map_err(SmtpFailure::Smtp)?
                }
                SmtpSecurity::StartTls | SmtpSecurity::None => {
                    let tcp =
                        tokio::net::TcpStream::connect((self.smtp.host.as_str(), self.smtp.port))
                            .await
                            .map_err(SmtpFailure::Io)?;
                    tcp.set_nodelay(true).map_err(SmtpFailure::Io)?;
                    let mut conn = AsyncSmtpConnection::connect_with_transport(
                        Box::new(SmtpStream::new(tcp)),
                        &self.hello,
                    )
                    .await
                    .map_err(SmtpFailure::Smtp)?;
                    if self.smtp.security == SmtpSecurity::StartTls {
                        // Required: lettre refuses with a client error when
                        // the server does not offer STARTTLS.
                        conn.starttls(tls()?, &self.hello)
                            .await
                            .map_err(SmtpFailure::Smtp)?;
                    }
                    conn
                }
            };
            if let Some(creds) = &self.credentials {
                conn.auth(DEFAULT_MECHANISMS, creds)
                    .await
                    .map_err(SmtpFailure::Smtp)?;
            }
            Ok(conn)
        };
        let conn = tokio::time::timeout(CONNECT_TIMEOUT, setup)
            .await
            .map_err(|_| SmtpFailure::ConnectTimeout)??;
        self.opened.fetch_add(1, Ordering::Relaxed);
        Ok(conn)
    }

    /// A pooled connection young enough to trust, if any.
    async fn checkout(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().await;
        while let Some(c) = idle.pop() {
            if c.since.elapsed() < POOL_IDLE_TIMEOUT && !c.conn.has_broken() {
                return Some(c.conn);
            }
        }
        None
    }

    async fn checkin(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = self.idle.lock().await;
        if idle.len() < POOL_MAX_IDLE {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }

    async fn send(&self, envelope: &Envelope, bytes: &[u8]) -> Result<Response, SmtpFailure> {
        if let Some(mut conn) = self.checkout().await {
            match conn.send(envelope, bytes).await {
                Ok(r) => {
                    self.checkin(conn).await;
                    return Ok(r);
                }
                Err(e) => {
                    let failure = SmtpFailure::Smtp(e);
                    if !failure.is_stale_connection() {
                        self.checkin(conn).await;
                        return Err(failure);
                    }
                    // The server closed the idle connection: use a fresh one.
                }
            }
        }
        let mut conn = self.connect().await?;
        let result = conn.send(envelope, bytes).await.map_err(SmtpFailure::Smtp);
        self.checkin(conn).await;
        result
    }
}

enum Inner {
    File {
        dir: PathBuf,
    },
    Smtp(SmtpSender),
    /// Accepts every message and keeps nothing (`simulate --index-only`).
    Discard,
}

/// Sends [`Outgoing`] messages over the configured transport. Build it once
/// (and again on reload); share it by reference between sends.
/// Must be built inside a tokio runtime (the pool's idle reaper is a task).
pub struct Mailer {
    inner: Inner,
    send_timeout: Duration,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mailer");
        match &self.inner {
            Inner::File { dir } => d.field("file_dir", dir),
            Inner::Discard => d.field("discard", &true),
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
        BASE64.encode(pw),
        BASE64.encode(format!("\0{user}\0{pw}")),
    ];
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    let mut out = text;
    for f in forms {
        out = out.replace(&f, "***");
    }
    out
}

impl Mailer {
    /// Build the transport from `[mail]`. Reads the SMTP password now.
    pub fn new(mail: &Mail) -> Result<Mailer, MailerError> {
        let inner = match &mail.transport {
            Transport::File { dir } => Inner::File { dir: dir.clone() },
            Transport::Smtp(smtp) => {
                let password = smtp.password.as_ref().map(read_secret).transpose()?;
                Inner::Smtp(SmtpSender::new(smtp, password)?)
            }
        };
        Ok(Mailer {
            inner,
            send_timeout: DEFAULT_SEND_TIMEOUT,
        })
    }

    /// A transport that accepts every (already composed) message and keeps
    /// nothing; the `Sent` detail is the Message-ID. For `simulate
    /// --index-only`, where only the list of messages is wanted.
    pub fn discard() -> Mailer {
        Mailer {
            inner: Inner::Discard,
            send_timeout: DEFAULT_SEND_TIMEOUT,
        }
    }

    /// How many messages a dispatcher may have with this transport at once:
    /// `[mail.smtp] connections` for SMTP (each on its own pooled
    /// connection), 1 for the file and discard transports.
    pub fn connections(&self) -> usize {
        match &self.inner {
            Inner::Smtp(s) => s.smtp.connections.max(1),
            Inner::File { .. } | Inner::Discard => 1,
        }
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
            Inner::Discard => Ok(Sent {
                message_id: msg.message_id().to_string(),
                detail: msg.message_id().to_string(),
            }),
        }
    }

    async fn send_file(&self, dir: &Path, msg: &Outgoing) -> Result<Sent, SendError> {
        let io = |what: &str, path: &Path, e: std::io::Error| SendError::Transient {
            reason: format!("cannot {what} {}: {e}", path.display()),
        };
        // 0700 for every directory created here (the umask can only narrow
        // it): the messages name units and people, no other account needs them.
        tokio::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .await
            .map_err(|e| io("create the mail directory", dir, e))?;
        let name = super::ids::eml_file_name(msg.message_id());
        let path = dir.join(&name);
        // Write then rename, so a reader never sees half a message.
        let tmp = dir.join(format!(".{name}.tmp"));
        tokio::fs::write(&tmp, msg.bytes())
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
        let outcome =
            tokio::time::timeout(self.send_timeout, s.send(&msg.envelope, msg.bytes())).await;
        let scrub = |text: String| scrub(text, &s.smtp, s.password.as_ref());
        let at = format!("{}:{}", s.smtp.host, s.smtp.port);
        match outcome {
            Ok(Ok(response)) => Ok(Sent {
                message_id: msg.message_id().to_string(),
                detail: scrub(format!(
                    "{} {}",
                    response.code(),
                    response.message().collect::<Vec<_>>().join(" ")
                )),
            }),
            Ok(Err(failure)) => {
                let reason = scrub(format!("{at}: {}", failure.text()));
                Err(match failure.kind() {
                    FailureKind::Transient => SendError::Transient { reason },
                    FailureKind::Permanent => SendError::Permanent { reason },
                })
            }
            // The cancelled send owned its connection, which is now closed:
            // nothing half-finished goes back to the pool.
            Err(_elapsed) => Err(SendError::Transient {
                reason: format!(
                    "{at}: no answer within {} s",
                    self.send_timeout.as_secs_f64()
                ),
            }),
        }
    }

    /// SMTP connections opened so far (0 for the file transport).
    pub fn connections_opened(&self) -> usize {
        match &self.inner {
            Inner::File { .. } | Inner::Discard => 0,
            Inner::Smtp(s) => s.opened.load(Ordering::Relaxed),
        }
    }
}

/// `hanbao send-test --to ADDRESS`: build the transport from `[mail]`,
/// compose the test message with the configured templates and send it.
pub async fn send_test(mail: &Mail, to: &str, now: Timestamp) -> Result<Sent, SendError> {
    let mailer = Mailer::new(mail)?;
    let templates = Templates::configured(mail).map_err(|e| SendError::Permanent {
        reason: format!("mail.templates: {e}"),
    })?;
    let composer = Composer::new(mail, templates)?;
    let notice = Notice {
        kind: NoticeKind::Test,
        language: mail.language,
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
    use crate::config::model::SecretSource;

    async fn stream_pair() -> (SmtpStream, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, server) =
            tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        (SmtpStream::new(client.unwrap()), server.unwrap().0)
    }

    async fn read_some(peer: &mut tokio::net::TcpStream, wait: Duration) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 4096];
        match tokio::time::timeout(wait, peer.read(&mut buf)).await {
            Ok(n) => buf[..n.unwrap()].to_vec(),
            Err(_) => Vec::new(),
        }
    }

    #[tokio::test]
    async fn smtp_stream_holds_the_body_until_its_terminator() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut c, mut peer) = stream_pair().await;
        let short = Duration::from_millis(100);
        c.write_all(b"DATA\r\n").await.unwrap();
        c.flush().await.unwrap();
        assert_eq!(read_some(&mut peer, short).await, b"DATA\r\n");
        peer.write_all(b"354 go ahead\r\n").await.unwrap();
        let mut reply = [0u8; 14];
        c.read_exact(&mut reply).await.unwrap();
        c.write_all(b"Subject: x\r\n\r\nbody").await.unwrap();
        c.flush().await.unwrap();
        assert_eq!(read_some(&mut peer, short).await, b"", "body held");
        c.write_all(b"\r\n.\r\n").await.unwrap();
        c.flush().await.unwrap();
        let got = read_some(&mut peer, Duration::from_secs(5)).await;
        assert_eq!(got, b"Subject: x\r\n\r\nbody\r\n.\r\n", "one write");
        // Back to commands: flushed at once.
        c.write_all(b"NOOP\r\n").await.unwrap();
        c.flush().await.unwrap();
        assert_eq!(
            read_some(&mut peer, Duration::from_secs(5)).await,
            b"NOOP\r\n"
        );
    }

    #[tokio::test]
    async fn smtp_stream_passes_everything_through_when_data_is_refused() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut c, mut peer) = stream_pair().await;
        c.write_all(b"DATA\r\n").await.unwrap();
        c.flush().await.unwrap();
        assert_eq!(
            read_some(&mut peer, Duration::from_secs(5)).await,
            b"DATA\r\n"
        );
        peer.write_all(b"554 no\r\n").await.unwrap();
        let mut reply = [0u8; 8];
        c.read_exact(&mut reply).await.unwrap();
        c.write_all(b"QUIT\r\n").await.unwrap();
        c.flush().await.unwrap();
        assert_eq!(
            read_some(&mut peer, Duration::from_secs(5)).await,
            b"QUIT\r\n"
        );
    }

    #[test]
    fn secret_debug_and_display_hide_the_value() {
        let s = Secret::new("hunter2-mật-khẩu");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(s.expose(), "hunter2-mật-khẩu");
    }

    #[test]
    fn scrub_removes_password_and_auth_plain_forms() {
        let smtp = Smtp {
            connections: 1,
            host: "h".into(),
            port: 25,
            security: SmtpSecurity::StartTls,
            username: Some("u".into()),
            password: None,
        };
        let pw = Secret::new("s3cret");
        let plain = BASE64.encode(b"\0u\0s3cret");
        let text = format!("535 bad s3cret {plain} {}", BASE64.encode(b"s3cret"));
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
