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

/// A reminder, due-day or overdue notice for one (obligation, period, unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub obligation: ObligationRef,
    pub period: PeriodRef,
    pub unit: UnitRef,
    /// The due date after rolling to a working day and any extension.
    pub due: Date,
    /// Days before the deadline (reminders); 0 otherwise.
    pub days_left: u32,
    /// Days after the deadline (overdue); 0 otherwise.
    pub days_late: u32,
    /// For a compiled report (`depends_on`): the reporters still missing.
    pub missing_reporters: Vec<String>,
    /// One-click confirmation link (issue 5), if the web side is enabled.
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

/// One unit that has not sent a report-period, for the digest and the
/// grouped escalations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateUnit {
    pub unit: UnitRef,
    /// The due day in force for this unit (an extension's, if overtaken).
    pub due: Date,
    pub days_late: u32,
    pub working_days_late: u32,
    /// What was already sent about it, oldest first (empty when unknown).
    pub notices: Vec<PastNotice>,
}

/// A message already sent about one (obligation, period, unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastNotice {
    /// `reminder`, `due_today`, `overdue` (to the unit) or `escalation`
    /// (to someone else: see `to`).
    pub kind: &'static str,
    /// The local day it went out.
    pub on: Date,
    /// For an escalation: the name of whom it went to.
    pub to: Option<String>,
}

/// One report-period and where it stands: the title once, received X of Y,
/// and the units that are late.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub obligation: ObligationRef,
    pub period: PeriodRef,
    /// The period's due day (before any extension).
    pub due: Date,
    /// Units that owe the report.
    pub expected: u32,
    /// Units whose report arrived (on time or late).
    pub submitted: u32,
    /// Of those, arrived after their due day.
    pub submitted_late: u32,
    /// Units exempted for this period.
    pub waived: u32,
    /// Units overdue, in configuration order.
    pub late: Vec<LateUnit>,
}

/// A message that failed permanently, for the digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedSend {
    pub recipient: String,
    /// `reminder`, `due_today`, `overdue` or `escalation`.
    pub kind: String,
    /// The unit the message was about (its name; the id if unknown).
    pub unit_name: String,
    pub obligation: ObligationRef,
    pub period: PeriodRef,
    /// The local day it failed.
    pub on: Date,
    pub reason: String,
}

/// The coordinator's digest: what `hanbao status` shows that day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The local day the digest describes (shown in the subject).
    pub as_of: Date,
    /// Whom it is addressed to, by name (the coordinator).
    pub coordinator: Option<String>,
    /// Every report-period with an overdue unit, with all its overdue units.
    pub overdue: Vec<Standing>,
    /// Report-periods due in the coming weeks (today included).
    pub upcoming: Vec<Standing>,
    pub failed_sends: Vec<FailedSend>,
    /// `daemon.public_url` + `/dashboard`, when set.
    pub dashboard_url: Option<String>,
}

impl Digest {
    /// Every overdue (obligation, period, unit id), as `hanbao status` lists them.
    pub fn overdue_keys(&self) -> Vec<(String, String, String)> {
        self.overdue
            .iter()
            .flat_map(|s| {
                s.late.iter().map(|l| {
                    (
                        s.obligation.id.clone(),
                        s.period.key.clone(),
                        l.unit.id.clone(),
                    )
                })
            })
            .collect()
    }
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
