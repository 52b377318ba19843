//! What a message is rendered from: plain data built by the dispatcher.
//!
//! No IO and no clock here: the sending instant is a field, so rendering the
//! same notice twice gives the same bytes.

use jiff::Timestamp;
use jiff::civil::Date;

/// The language a notice is written in (the configuration's type: `[mail] language`).
pub use crate::config::model::Language;

/// One addressee, with an optional display name (Vietnamese allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    pub address: String,
    pub name: Option<String>,
}

impl Addressee {
    pub fn new(address: impl Into<String>) -> Self {
        Addressee {
            address: address.into(),
            name: None,
        }
    }

    pub fn named(address: impl Into<String>, name: impl Into<String>) -> Self {
        Addressee {
            address: address.into(),
            name: Some(name.into()),
        }
    }
}

/// The obligation a notice is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObligationRef {
    pub id: String,
    pub title: String,
    pub legal_basis: Option<String>,
}

/// A reporting period: its stable key and a human label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodRef {
    /// e.g. "2026-H1"; appears in subjects so mail filters can match it.
    pub key: String,
    /// e.g. "6 tháng đầu năm 2026".
    pub label: String,
}

/// A unit: the id keeps calendar UIDs stable when the name is edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRef {
    pub id: String,
    pub name: String,
}

/// A deadline at a time of day rather than at 24:00: the local time (for
/// the wording) and the instant it makes on the due day (for the .ics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay {
    pub local: jiff::civil::Time,
    pub instant: jiff::Timestamp,
}

/// A reminder, due-day or overdue notice for one (obligation, period, unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub obligation: ObligationRef,
    pub period: PeriodRef,
    pub unit: UnitRef,
    /// The due date after rolling to a working day and any extension.
    pub due: Date,
    /// The deadline's time of day on `due` ("chậm nhất 14 giờ"); `None`:
    /// 24:00. Templates get it as `due_time` ("14:00").
    pub due_time: Option<TimeOfDay>,
    /// Days before the deadline (reminders); 0 otherwise.
    pub days_left: u32,
    /// Days after the deadline (overdue); 0 otherwise.
    pub days_late: u32,
    /// For a compiled report (`depends_on`): the reporters still missing.
    pub missing_reporters: Vec<String>,
    /// One-click confirmation link (`link::Links`), if the web side is enabled.
    pub confirm_url: Option<String>,
}

/// One overdue (obligation, period, unit) in an escalation or digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueItem {
    pub unit_name: String,
    pub obligation: ObligationRef,
    pub period: PeriodRef,
    pub due: Date,
    pub days_late: u32,
}

/// An escalation to one recipient, grouping every overdue item it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub items: Vec<OverdueItem>,
}

/// A period still open, for the digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPeriod {
    pub obligation: ObligationRef,
    pub period: PeriodRef,
    pub due: Date,
    /// Units that have submitted, out of `expected`.
    pub submitted: u32,
    pub expected: u32,
}

/// A message that failed permanently, for the digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedSend {
    pub recipient: String,
    pub subject: String,
    pub reason: String,
}

/// The coordinator's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The local day the digest describes (shown in the subject).
    pub as_of: Date,
    pub open_periods: Vec<OpenPeriod>,
    pub late: Vec<OverdueItem>,
    pub failed_sends: Vec<FailedSend>,
}

/// What kind of message, with the data only that kind has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeKind {
    Reminder(Deadline),
    DueToday(Deadline),
    Overdue(Deadline),
    Escalation(Escalation),
    Digest(Digest),
    /// `hanbao send-test`.
    Test,
}

impl NoticeKind {
    /// Template base name: `reminder`, `due_today`, `overdue`, `escalation`, `digest`, `test`.
    pub fn name(&self) -> &'static str {
        match self {
            NoticeKind::Reminder(_) => "reminder",
            NoticeKind::DueToday(_) => "due_today",
            NoticeKind::Overdue(_) => "overdue",
            NoticeKind::Escalation(_) => "escalation",
            NoticeKind::Digest(_) => "digest",
            NoticeKind::Test => "test",
        }
    }

    /// The deadline data for the kinds that carry one (and get an .ics).
    pub fn deadline(&self) -> Option<&Deadline> {
        match self {
            NoticeKind::Reminder(d) | NoticeKind::DueToday(d) | NoticeKind::Overdue(d) => Some(d),
            _ => None,
        }
    }
}

/// Everything needed to render one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub language: Language,
    pub recipients: Vec<Addressee>,
    /// The outbox row's unique key; the Message-ID is derived from it, so the
    /// same key always gives the same Message-ID (and the same .eml file name).
    pub outbox_key: String,
    /// When the message is sent (the Date header, DTSTAMP). Passed in, never read from the clock.
    pub sent_at: Timestamp,
}
