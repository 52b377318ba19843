//! What a reply means: the (obligation, period, unit) it reports for, or
//! why it is refused. Pure: the notices it answers are read from the
//! store by the caller, the configuration and calendar are the snapshot
//! in force, and `arrived` and `now` are arguments.
//!
//! What is trusted, and why:
//! - The notice a reply answers is found by its In-Reply-To or References
//!   header against the Message-ID hanbao gave the notice (the outbox
//!   keeps it). That names the report-period; it is not a secret (a
//!   Message-ID is a hash of a public key), so it alone proves nothing.
//! - The sender (From) must be one of the mailboxes configured for the
//!   unit the notice was about. A From header alone can be forged; the
//!   receiving server's checks (SPF, DKIM, DMARC) are what stop a forged
//!   one from reaching the mailbox, which is why the mailbox must be one
//!   whose server enforces them. Both together are needed: a unit's real
//!   mailbox answering the notice hanbao sent to that unit.
//! - Only notices addressed to the unit itself (reminders, the due-day
//!   notice, overdue notices) are answered this way; a reply to an
//!   escalation, sent to a supervisor or a council, is refused.
//! - A notice that grouped several report-periods (the overdue notices of
//!   a short-cycle report) is not guessed at: which period a file is for
//!   cannot be told from the reply, so it is refused with its reason and
//!   the coordinator records it by hand.

use jiff::Timestamp;

use super::reply::Reply;
use crate::calendar::WorkCalendar;
use crate::config::model::{Config, Intake};
use crate::config::values::{format_date, parse_mailbox};
use crate::input;
use crate::store::{IntakeOutcome, Key, NewSubmission, SentNotice, Source};
use crate::tracking;

/// Why a message was not recorded. The code is stored and stable; the
/// dashboard's mailbox page (`http::dashboard::mailbox`) words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a message that could be read.
    Unreadable,
    /// It answers no message (no In-Reply-To, no References).
    NotAReply,
    /// It answers a message hanbao did not send (or no longer has).
    UnknownNotice,
    /// It answers a notice that was not sent to a unit (an escalation).
    NotToUnit,
    /// The sender is no configured unit's mailbox.
    UnknownSender,
    /// The sender is another unit's mailbox than the notice's unit.
    OtherUnit,
    /// The notice grouped several report-periods.
    SeveralReports,
    /// The report-period is no longer owed by the unit (configuration changed).
    NotOwed,
    /// The received day or the document number does not pass the rules
    /// every front end checks.
    Invalid,
    NoAttachment,
    /// More attachments than `intake.max_attachments`.
    TooManyAttachments,
    /// The message is larger than `intake.max_message_mb`, or one of its
    /// attachments than `daemon.file_max_mb`.
    TooBig,
}

impl Refusal {
    /// Whether the sender is told (an acknowledgement saying why it was not
    /// recorded): only for the refusals that come after the sender was
    /// found to be the unit's own mailbox answering the notice sent to it,
    /// and that the unit can mend. Nobody else is ever answered: a reply to
    /// an unknown or forged sender would be backscatter.
    pub fn acknowledged(self) -> bool {
        matches!(self, Refusal::TooBig | Refusal::TooManyAttachments)
    }
}

impl Refusal {
    pub const ALL: [Refusal; 12] = [
        Refusal::Unreadable,
        Refusal::NotAReply,
        Refusal::UnknownNotice,
        Refusal::NotToUnit,
        Refusal::UnknownSender,
        Refusal::OtherUnit,
        Refusal::SeveralReports,
        Refusal::NotOwed,
        Refusal::Invalid,
        Refusal::NoAttachment,
        Refusal::TooManyAttachments,
        Refusal::TooBig,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Refusal::Unreadable => "unreadable",
            Refusal::NotAReply => "not_a_reply",
            Refusal::UnknownNotice => "unknown_notice",
            Refusal::NotToUnit => "not_to_unit",
            Refusal::UnknownSender => "unknown_sender",
            Refusal::OtherUnit => "other_unit",
            Refusal::SeveralReports => "several_reports",
            Refusal::NotOwed => "not_owed",
            Refusal::Invalid => "invalid",
            Refusal::NoAttachment => "no_attachment",
            Refusal::TooManyAttachments => "too_many_attachments",
            Refusal::TooBig => "too_big",
        }
    }

    pub fn parse(code: &str) -> Option<Refusal> {
        Refusal::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// What a message was found to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The report-period it was matched to, when it was (also for some
    /// refusals: too big, no attachment).
    pub key: Option<Key>,
    pub outcome: Result<NewSubmission, Refusal>,
}

impl Decision {
    fn refused(refusal: Refusal, key: Option<Key>) -> Decision {
        Decision {
            key,
            outcome: Err(refusal),
        }
    }

    /// What the store writes.
    pub fn to_store(&self) -> IntakeOutcome {
        match &self.outcome {
            Ok(s) => IntakeOutcome::Submission(s.clone()),
            Err(r) => IntakeOutcome::Refused {
                reason: r.code().to_string(),
                key: self.key.clone(),
            },
        }
    }
}

/// The plain address of a configured mailbox ("Tên <a@b>" or "a@b"), lowercased.
fn address(mailbox: &str) -> String {
    parse_mailbox(mailbox)
        .unwrap_or(mailbox)
        .trim()
        .to_lowercase()
}

/// Kinds of notice sent to the reporting unit itself.
const TO_UNIT: [&str; 3] = ["reminder", "due_today", "overdue"];

/// How a message came: its size and when the server received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub size: u64,
    pub arrived: Timestamp,
}

/// Decides on a reply that answers `notices` (those found for its
/// In-Reply-To and References).
pub fn decide(
    reply: &Reply,
    received: Received,
    notices: &[SentNotice],
    cfg: &Config,
    cal: &WorkCalendar,
    limits: &Intake,
    now: Timestamp,
) -> Decision {
    let Received { size, arrived } = received;
    let Some(sender) = reply.sender.as_deref() else {
        return Decision::refused(Refusal::UnknownSender, None);
    };
    if notices.is_empty() {
        let why = if reply.answers.is_empty() {
            Refusal::NotAReply
        } else {
            Refusal::UnknownNotice
        };
        return Decision::refused(why, None);
    }
    let to_units: Vec<&SentNotice> = notices
        .iter()
        .filter(|n| TO_UNIT.contains(&n.kind.as_str()))
        .collect();
    if to_units.is_empty() {
        return Decision::refused(Refusal::NotToUnit, None);
    }
    let is_of = |unit: &str| {
        cfg.unit(unit)
            .is_some_and(|u| u.emails.iter().any(|m| address(m) == sender))
    };
    let mut keys: Vec<&Key> = to_units
        .iter()
        .filter(|n| is_of(&n.key.unit))
        .map(|n| &n.key)
        .collect();
    keys.sort();
    keys.dedup();
    let key = match keys[..] {
        [] => {
            let someone = cfg.units.iter().any(|u| is_of(&u.id));
            let why = if someone {
                Refusal::OtherUnit
            } else {
                Refusal::UnknownSender
            };
            return Decision::refused(why, None);
        }
        [one] => one.clone(),
        _ => return Decision::refused(Refusal::SeveralReports, None),
    };
    let Ok(deadline) = tracking::resolve(cfg, cal, &key.obligation, &key.period, &key.unit) else {
        return Decision::refused(Refusal::NotOwed, Some(key));
    };
    if size > limits.max_message_bytes {
        return Decision::refused(Refusal::TooBig, Some(key));
    }
    if reply.attachments.is_empty() {
        return Decision::refused(Refusal::NoAttachment, Some(key));
    }
    if reply.attachments.len() > limits.max_attachments {
        return Decision::refused(Refusal::TooManyAttachments, Some(key));
    }
    // Each attachment is a file like any other: the limit every front end
    // keeps files under (`daemon.file_max_mb`).
    if reply
        .attachments
        .iter()
        .any(|a| a.bytes.len() as u64 > cfg.daemon.files.max_bytes)
    {
        return Decision::refused(Refusal::TooBig, Some(key));
    }
    let zone = &cfg.daemon.time_zone;
    let today = zone.to_datetime(now).date();
    let received_on = zone.to_datetime(arrived.min(now)).date();
    let mut note = format!("Nhận qua thư điện tử từ {sender}");
    if let Some(d) = reply.document_date {
        note.push_str(&format!("; văn bản ngày {}", format_date(d)));
    }
    let typed = input::Submission {
        received_on,
        reference: reply.document_number.as_deref(),
        note: Some(&note),
    };
    let checked = match input::submission(typed, deadline.window.start, today) {
        Ok(c) => c,
        Err(_) => return Decision::refused(Refusal::Invalid, Some(key)),
    };
    Decision {
        key: Some(key.clone()),
        outcome: Ok(NewSubmission {
            key,
            received_on: checked.received_on,
            received_at: Some(arrived.min(now)),
            reference: checked.reference,
            note: checked.note,
            actor: format!("email:{sender}"),
            source: Source::Email,
            correction: false,
        }),
    }
}
