//! The watched mailbox (`[intake]`): units reply to their reminder with
//! the report attached, and the reply is recorded as their submission.
//!
//! `imap` owns the connection (async-imap over rustls, IDLE or polling),
//! `reply` reads a message (mail-parser), `decide` says what it means (the
//! report-period it answers, or why it is refused; what is trusted and
//! why is written there), and the store writes it (`store::Intake`).
//!
//! Exactly once, for every message: it is processed under the leader
//! alone (the daemon runs [`Watcher::run`] only while it leads); its
//! (mailbox, UIDVALIDITY, UID) and its Message-ID are looked up first,
//! and what it means is written in one transaction with the processed
//! message's row (which the store checks again under its write lock),
//! the rows of its files and the acknowledgement owed to its sender (an
//! outbox row whose stage is the message's id, so one per message); its
//! attachments' bytes are kept before that transaction, content-addressed,
//! so a crash leaves at most a file nothing refers to; the mailbox is
//! flagged or moved after the commit, so a crash in between finds the UID
//! recorded on restart and only flags it. A message redelivered under a
//! new UID (or after a UIDVALIDITY change) is found by its Message-ID.
//!
//! Refused messages are never recorded and never dropped: each is kept
//! with its reason (`intake_messages`, outcome "refused") for the
//! dashboard.
//!
//! Must not: send mail (an acknowledgement is an outbox row the
//! dispatcher sends), or read the clock but through `now` given by the
//! daemon.

pub mod decide;
pub mod imap;
pub mod reply;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio_util::sync::CancellationToken;

use crate::config::model::Intake as IntakeConfig;
use crate::files::{self, Blobs};
use crate::live::Live;
use crate::store::{
    FileSource, Intake, IntakeAck, IntakeMessage, IntakeWrite, IntakeWritten, Key, NewFile, Store,
    StoreError,
};
use decide::{Decision, Refusal};
use imap::{ImapError, Mailbox};
use reply::{Attachment, Reply};

/// Longest wait on the mailbox before looking again at leadership and
/// shutdown (IDLE is re-issued after it, well within the 29 minutes
/// servers allow).
pub const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// First pause after a failed connection; doubled after each failure up
/// to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Why processing stopped.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error("cơ sở dữ liệu: {0}")]
    Store(#[from] StoreError),
    #[error("không lưu được tệp đính kèm: {0}")]
    Files(String),
}

/// What became of one message, for the log and the tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Processed {
    /// Found processed before (this UID or its Message-ID): only flagged.
    Again,
    Recorded {
        key: crate::store::Key,
    },
    AlreadyRecorded {
        key: crate::store::Key,
    },
    Refused(Refusal),
}

/// Where the watcher reads the configuration and calendar in force, the
/// time, and whether it still leads.
pub struct Watcher<'a> {
    pub store: &'a Store,
    /// The snapshot in force (a reload swaps it).
    pub live: &'a (dyn Fn() -> Arc<Live> + Send + Sync),
    pub now: &'a (dyn Fn() -> Timestamp + Send + Sync),
    /// Whether this process still leads (the daemon's last check).
    pub leads: &'a (dyn Fn() -> bool + Send + Sync),
    pub stop: &'a CancellationToken,
}

/// The attachments of a recorded reply, kept (content-addressed, under
/// `daemon.state_dir`) before the transaction that records it, as the
/// rows that transaction writes. The one place where intake hands files to
/// the file store. A crash after this and before the commit leaves files
/// nothing refers to: harmless, and reused if the same content comes again.
async fn keep_attachments(
    live: &Live,
    key: &Key,
    sender: &str,
    attachments: &[Attachment],
    now: Timestamp,
) -> Result<Vec<NewFile>, IntakeError> {
    let blobs = Blobs::under(&live.cfg.daemon.state_dir);
    let limits = live.cfg.daemon.files;
    let mut kept = Vec::with_capacity(attachments.len());
    for a in attachments {
        let blob = blobs
            .put(&a.name, &a.bytes, &limits)
            .await
            .map_err(|e| IntakeError::Files(e.to_string()))?;
        kept.push(
            files::Received::new(blob, Some(&a.name), Some(&a.media_type)).into_new_file(
                key,
                FileSource::Email,
                sender,
                now,
                None,
            ),
        );
    }
    Ok(kept)
}

/// The acknowledgement owed for `decision`, if any: to the sender, when the
/// reply is recorded or refused for a reason the unit can mend
/// ([`Refusal::acknowledged`]); never to a sender that is not the unit's.
fn acknowledgement(
    live: &Live,
    decision: &Decision,
    sender: &str,
    now: Timestamp,
) -> Option<IntakeAck> {
    let key = decision.key.as_ref()?;
    let owed = match &decision.outcome {
        Ok(_) => true,
        Err(r) => r.acknowledged(),
    };
    if !owed || sender.is_empty() {
        return None;
    }
    let due_on = crate::tracking::resolve(
        &live.cfg,
        &live.cal,
        &key.obligation,
        &key.period,
        &key.unit,
    )
    .map(|d| d.due)
    .unwrap_or_else(|_| live.cfg.daemon.time_zone.to_datetime(now).date());
    Some(IntakeAck {
        recipient: sender.to_string(),
        due_on,
    })
}

impl Watcher<'_> {
    /// Watches until shutdown or until this process no longer leads:
    /// connects, processes what waits, waits for more; after a failure
    /// (server down, network, login) waits and connects again, the pause
    /// doubling from [`FIRST_BACKOFF`] to [`MAX_BACKOFF`].
    pub async fn run(&self) {
        let mut backoff = FIRST_BACKOFF;
        let mut failing = false;
        while !self.stop.is_cancelled() && (self.leads)() {
            let live = (self.live)();
            let Some(cfg) = live.cfg.intake.clone() else {
                return;
            };
            tracing::info!(host = %cfg.host, port = cfg.port, mailbox = %cfg.mailbox, "hộp thư: đang kết nối");
            let mut connected = false;
            match self.session(&cfg, &mut connected).await {
                Ok(()) => return,
                Err(e) => {
                    if connected {
                        // It worked for a while: start the pauses again.
                        backoff = FIRST_BACKOFF;
                        failing = false;
                    }
                    if failing {
                        tracing::debug!(error = %e, "hộp thư: vẫn chưa dùng được");
                    } else {
                        tracing::warn!(error = %e, "hộp thư: mất kết nối; sẽ thử lại");
                        failing = true;
                    }
                }
            }
            tokio::select! {
                () = self.stop.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One connection: returns `Ok` on shutdown or lost leadership, an
    /// error when the connection failed.
    async fn session(&self, cfg: &IntakeConfig, connected: &mut bool) -> Result<(), IntakeError> {
        let mut mailbox = Mailbox::open(cfg).await?;
        *connected = true;
        tracing::info!(
            host = %cfg.host,
            mailbox = %mailbox.name,
            uid_validity = mailbox.uid_validity,
            "hộp thư: đã kết nối"
        );
        loop {
            if self.stop.is_cancelled() || !(self.leads)() {
                mailbox.close().await;
                return Ok(());
            }
            for uid in mailbox.waiting(&cfg.after).await? {
                if self.stop.is_cancelled() {
                    break;
                }
                let what = self.process(&mut mailbox, cfg, uid).await?;
                tracing::info!(uid, outcome = ?what, "hộp thư: đã xử lý một thư");
            }
            let poll = Duration::from_secs(cfg.poll_secs);
            let stop = self.stop.clone();
            mailbox = tokio::select! {
                () = stop.cancelled() => return Ok(()),
                waited = mailbox.wait(poll, WAIT_LIMIT) => waited?,
            };
        }
    }

    /// Connects, processes every message that waits, and disconnects:
    /// what one round of [`Watcher::run`] does, for `hanbao` commands and
    /// tests.
    pub async fn sweep(&self, cfg: &IntakeConfig) -> Result<Vec<Processed>, IntakeError> {
        let mut mailbox = Mailbox::open(cfg).await?;
        let mut done = Vec::new();
        for uid in mailbox.waiting(&cfg.after).await? {
            done.push(self.process(&mut mailbox, cfg, uid).await?);
        }
        mailbox.close().await;
        Ok(done)
    }

    /// Processes one message and leaves it as configured.
    pub async fn process(
        &self,
        mailbox: &mut Mailbox,
        cfg: &IntakeConfig,
        uid: u32,
    ) -> Result<Processed, IntakeError> {
        let Some(listed) = mailbox.listed(uid).await? else {
            return Ok(Processed::Again);
        };
        let too_big = listed.size > cfg.max_message_bytes;
        let bytes = if too_big {
            mailbox.header(uid).await?
        } else {
            mailbox.body(uid).await?
        };
        let bytes = bytes.unwrap_or_default();
        let reply = Reply::read(&bytes);
        let mut message = IntakeMessage {
            mailbox: mailbox.name.clone(),
            uid_validity: mailbox.uid_validity,
            uid,
            message_id: reply.as_ref().and_then(|r| r.message_id.clone()),
            sender: reply
                .as_ref()
                .and_then(|r| r.sender.clone())
                .unwrap_or_default(),
            subject: reply
                .as_ref()
                .map(|r| r.subject.clone())
                .unwrap_or_default(),
            sent_at: reply.as_ref().and_then(|r| r.sent_at),
        };
        message.subject = message.subject.chars().take(500).collect();
        if self.store.intake_processed(&message).await? {
            mailbox.done(uid, &cfg.after).await?;
            return Ok(Processed::Again);
        }
        let now = (self.now)();
        let live = (self.live)();
        let decision = match &reply {
            None => Decision {
                key: None,
                outcome: Err(Refusal::Unreadable),
            },
            Some(r) => {
                let mut notices = Vec::new();
                for id in r.answers.iter().take(20) {
                    notices.extend(self.store.intake_notices(&format!("<{id}>")).await?);
                }
                decide::decide(
                    r,
                    decide::Received {
                        size: listed.size,
                        arrived: listed.arrived.unwrap_or(now),
                    },
                    &notices,
                    &live.cfg,
                    &live.cal,
                    cfg,
                    now,
                )
            }
        };
        let mut files = Vec::new();
        if let (Ok(s), Some(r)) = (&decision.outcome, &reply) {
            files = keep_attachments(&live, &s.key, &message.sender, &r.attachments, now).await?;
        }
        let write = IntakeWrite {
            outcome: decision.to_store(),
            files,
            ack: acknowledgement(&live, &decision, &message.sender, now),
        };
        let written = self.store.intake_record(&message, write, now).await?;
        mailbox.done(uid, &cfg.after).await?;
        Ok(match (written, decision.outcome) {
            (IntakeWritten::AlreadyProcessed, _) => Processed::Again,
            (IntakeWritten::Recorded(e), _) => Processed::Recorded { key: e.key },
            (IntakeWritten::AlreadyRecorded(e), _) => Processed::AlreadyRecorded { key: e.key },
            (IntakeWritten::Refused, Err(r)) => Processed::Refused(r),
            (IntakeWritten::Refused, Ok(_)) => Processed::Refused(Refusal::Invalid),
        })
    }
}
