//! The IMAP connection: the only user of `async-imap` (and of
//! `tokio-rustls` for it). Connects with implicit TLS (the server's
//! certificate checked against Mozilla's roots, `webpki-roots`, as lettre
//! does for SMTP) or, to a server on this machine only, without
//! encryption; logs in with the password read from its source at that
//! moment; selects the watched mailbox and says its UIDVALIDITY; lists,
//! fetches, flags and moves messages by UID; waits for new mail with IDLE
//! when the server offers it, else sleeps the polling interval.
//!
//! Must not: decide what a message means or write to the store.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use jiff::Timestamp;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::config::model::{AfterIntake, ImapSecurity, Intake};
use crate::mail::secret::read_secret;

/// How long connecting and each command may take before the connection
/// is given up (and made again).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the mailbox could not be used; the watcher logs it and connects
/// again after a pause. Never holds the password.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("không kết nối được máy chủ IMAP {host}:{port}: {why}")]
    Connect {
        host: String,
        port: u16,
        why: String,
    },
    #[error("không đọc được mật khẩu hộp thư: {0}")]
    Password(String),
    #[error("máy chủ IMAP từ chối đăng nhập của {user}: {why}")]
    Login { user: String, why: String },
    #[error("không mở được hộp thư {mailbox:?}: {why}")]
    Select { mailbox: String, why: String },
    #[error("máy chủ IMAP không trả lời trong {0} giây")]
    Timeout(u64),
    #[error("lỗi IMAP: {0}")]
    Protocol(String),
}

impl From<async_imap::error::Error> for ImapError {
    fn from(e: async_imap::error::Error) -> ImapError {
        ImapError::Protocol(e.to_string())
    }
}

/// The byte stream under the IMAP session: TLS or plain TCP.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> Io for T {}

type Stream = Box<dyn Io>;

/// A message's place and size, before its body is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    pub uid: u32,
    pub size: u64,
    /// When the server received it (INTERNALDATE).
    pub arrived: Option<Timestamp>,
}

/// One logged-in session on the watched mailbox.
pub struct Mailbox {
    session: Session<Stream>,
    /// The folder watched.
    pub name: String,
    pub uid_validity: u32,
    idle: bool,
}

async fn timed<T>(f: impl Future<Output = Result<T, ImapError>>) -> Result<T, ImapError> {
    tokio::time::timeout(COMMAND_TIMEOUT, f)
        .await
        .unwrap_or(Err(ImapError::Timeout(COMMAND_TIMEOUT.as_secs())))
}

fn tls_connector() -> TlsConnector {
    let roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn connect_stream(cfg: &Intake) -> Result<Stream, ImapError> {
    let fail = |why: String| ImapError::Connect {
        host: cfg.host.clone(),
        port: cfg.port,
        why,
    };
    let tcp = TcpStream::connect((cfg.host.as_str(), cfg.port))
        .await
        .map_err(|e| fail(e.to_string()))?;
    match cfg.security {
        ImapSecurity::None => Ok(Box::new(tcp)),
        ImapSecurity::Tls => {
            let host = cfg.host.trim_start_matches('[').trim_end_matches(']');
            let name = ServerName::try_from(host.to_string()).map_err(|e| fail(e.to_string()))?;
            let tls = tls_connector()
                .connect(name, tcp)
                .await
                .map_err(|e| fail(e.to_string()))?;
            Ok(Box::new(tls))
        }
    }
}

impl Mailbox {
    /// Connects, logs in, makes the folder processed messages move to
    /// (when it is missing) and selects `cfg.mailbox`.
    pub async fn open(cfg: &Intake) -> Result<Mailbox, ImapError> {
        timed(Mailbox::open_untimed(cfg)).await
    }

    async fn open_untimed(cfg: &Intake) -> Result<Mailbox, ImapError> {
        let password =
            read_secret(&cfg.password).map_err(|e| ImapError::Password(e.to_string()))?;
        let mut client = Client::new(connect_stream(cfg).await?);
        client
            .read_response()
            .await
            .map_err(|e| ImapError::Protocol(e.to_string()))?
            .ok_or_else(|| ImapError::Protocol("máy chủ đóng kết nối ngay khi chào".into()))?;
        let mut session = client
            .login(&cfg.username, password.expose())
            .await
            .map_err(|(e, _)| ImapError::Login {
                user: cfg.username.clone(),
                why: e.to_string(),
            })?;
        let idle = session.capabilities().await?.has_str("IDLE");
        if let AfterIntake::MoveTo(folder) = &cfg.after {
            // Made once; "already exists" is the usual answer.
            let _ = session.create(folder).await;
        }
        let selected = session
            .select(&cfg.mailbox)
            .await
            .map_err(|e| ImapError::Select {
                mailbox: cfg.mailbox.clone(),
                why: e.to_string(),
            })?;
        Ok(Mailbox {
            session,
            name: cfg.mailbox.clone(),
            uid_validity: selected.uid_validity.unwrap_or(0),
            idle,
        })
    }

    /// The UIDs still to look at, oldest first: the unseen ones when
    /// processed messages are only flagged, every one when they are moved
    /// away.
    pub async fn waiting(&mut self, after: &AfterIntake) -> Result<Vec<u32>, ImapError> {
        let query = match after {
            AfterIntake::MarkSeen => "UNSEEN",
            AfterIntake::MoveTo(_) => "ALL",
        };
        let mut uids: Vec<u32> = timed(async { Ok(self.session.uid_search(query).await?) })
            .await?
            .into_iter()
            .collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// Size and arrival of one message; `None` when it is gone.
    pub async fn listed(&mut self, uid: u32) -> Result<Option<Listed>, ImapError> {
        let fetched = self.fetch(uid, "(UID RFC822.SIZE INTERNALDATE)").await?;
        Ok(fetched.map(|(size, arrived, _)| Listed { uid, size, arrived }))
    }

    /// The whole message (without setting `\Seen`).
    pub async fn body(&mut self, uid: u32) -> Result<Option<Vec<u8>>, ImapError> {
        Ok(self
            .fetch(uid, "(UID BODY.PEEK[])")
            .await?
            .and_then(|(_, _, b)| b))
    }

    /// Only the header block, for a message too big to fetch whole.
    pub async fn header(&mut self, uid: u32) -> Result<Option<Vec<u8>>, ImapError> {
        Ok(self
            .fetch(uid, "(UID BODY.PEEK[HEADER])")
            .await?
            .and_then(|(_, _, b)| b))
    }

    async fn fetch(
        &mut self,
        uid: u32,
        what: &str,
    ) -> Result<Option<(u64, Option<Timestamp>, Option<Vec<u8>>)>, ImapError> {
        let session = &mut self.session;
        timed(async move {
            let stream = session.uid_fetch(uid.to_string(), what).await?;
            let fetches: Vec<_> = stream.try_collect().await?;
            Ok(fetches.into_iter().find(|f| f.uid == Some(uid)).map(|f| {
                let body = f.body().or_else(|| f.header()).map(<[u8]>::to_vec);
                let arrived = f
                    .internal_date()
                    .and_then(|d| Timestamp::from_second(d.timestamp()).ok());
                (u64::from(f.size.unwrap_or(0)), arrived, body)
            }))
        })
        .await
    }

    /// Leaves a processed message as the administrator chose: flagged
    /// `\Seen`, or moved to the folder (MOVE, or COPY then delete where
    /// the server lacks MOVE).
    pub async fn done(&mut self, uid: u32, after: &AfterIntake) -> Result<(), ImapError> {
        let session = &mut self.session;
        timed(async move {
            let set = uid.to_string();
            {
                let flagged = session.uid_store(&set, "+FLAGS.SILENT (\\Seen)").await?;
                let _: Vec<_> = flagged.try_collect().await?;
            }
            if let AfterIntake::MoveTo(folder) = after {
                session.uid_mv(&set, folder).await?;
            }
            Ok(())
        })
        .await
    }

    /// Waits until the server says something changed (IDLE), or `poll`
    /// when it cannot say; at most `limit` either way, so the caller looks
    /// again at its leadership and the shutdown. Consumes and gives back
    /// the session (IDLE takes it over while it waits).
    pub async fn wait(mut self, poll: Duration, limit: Duration) -> Result<Mailbox, ImapError> {
        if !self.idle {
            tokio::time::sleep(poll.min(limit)).await;
            timed(async { Ok(self.session.noop().await?) }).await?;
            return Ok(self);
        }
        let Mailbox {
            session,
            name,
            uid_validity,
            idle,
        } = self;
        // A message that arrived after the last search is announced
        // (EXISTS) with the replies to the commands since, or just before
        // IDLE's go-ahead; async-imap hands those to the session's
        // unsolicited channel, never to the wait below, which would then
        // sleep the whole `limit` over a message already there.
        let news = session.unsolicited_responses.clone();
        let mut handle = session.idle();
        timed(async { Ok(handle.init().await?) }).await?;
        let mut arrived = false;
        while let Ok(said) = news.try_recv() {
            arrived |= matches!(
                said,
                async_imap::types::UnsolicitedResponse::Exists(_)
                    | async_imap::types::UnsolicitedResponse::Recent(_)
            );
        }
        if arrived {
            tracing::debug!("hộp thư: có thư mới trước khi chờ");
        } else {
            let (waiting, _stop) = handle.wait_with_timeout(limit);
            if let IdleResponse::NewData(_) = waiting.await? {
                tracing::debug!("hộp thư: có thư mới");
            }
        }
        let session = timed(async { Ok(handle.done().await?) }).await?;
        Ok(Mailbox {
            session,
            name,
            uid_validity,
            idle,
        })
    }

    /// Says goodbye; errors do not matter any more.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.session.logout()).await;
    }
}
