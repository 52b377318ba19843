//! The outbox's types: what a row is (`OutboxKind`, `OutboxStatus`, its
//! key), what the planner writes (`NewOutboxRow`, `EnqueueReport`), what
//! the dispatcher records (`Outcome`) and the dashboard counts
//! (`OutboxSummary`) and filters (`OutboxFilter`, `LastSent`). Plain data;
//! the queries are `outbox`'s.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;

/// What a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutboxKind {
    /// Before the deadline, to the unit.
    Reminder,
    /// On the due day, to the unit, if nothing arrived.
    DueToday,
    /// After the deadline, to the unit's own mailboxes.
    Overdue,
    /// After the deadline, to the people above the unit (grouped per recipient).
    Escalation,
    /// To the unit's mailbox that replied by email: its report was
    /// recorded (or refused for its size). One per processed message
    /// (stage = its `intake_messages` id), written by the watched mailbox
    /// in the transaction that records the reply; never superseded by a
    /// later stage nor cancelled because the report arrived.
    Acknowledgement,
}

/// `names!(Type { Variant => "name", .. })`: `as_str`, `parse` and
/// `Display` of an enum stored by name; one list, so the three agree.
macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)*
                }
            }

            pub fn parse(s: &str) -> Option<$ty> {
                match s {
                    $($name => Some($ty::$variant),)*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names!(OutboxKind {
    Reminder => "reminder",
    DueToday => "due_today",
    Overdue => "overdue",
    Escalation => "escalation",
    Acknowledgement => "acknowledgement",
});

/// Where a row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutboxStatus {
    /// Waiting for `next_attempt_at`.
    Pending,
    /// Claimed by a dispatcher until `lease_until`; claimable again after it.
    Sending,
    Sent,
    /// Permanent failure: never retried automatically.
    Failed,
    /// Recorded so that it never goes out (a stage passed during downtime).
    Skipped,
    /// Withdrawn: the report arrived, was waived or extended, or a later stage superseded it.
    Cancelled,
}

impl OutboxStatus {
    /// Every status, in declaration order.
    pub const ALL: [OutboxStatus; 6] = [
        OutboxStatus::Pending,
        OutboxStatus::Sending,
        OutboxStatus::Sent,
        OutboxStatus::Failed,
        OutboxStatus::Skipped,
        OutboxStatus::Cancelled,
    ];
}

names!(OutboxStatus {
    Pending => "pending",
    Sending => "sending",
    Sent => "sent",
    Failed => "failed",
    Skipped => "skipped",
    Cancelled => "cancelled",
});

/// The unique key of an outbox row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutboxKey {
    pub obligation: String,
    pub period: String,
    pub unit: String,
    pub kind: OutboxKind,
    pub stage: u32,
    pub recipient: String,
}

impl fmt::Display for OutboxKey {
    /// `obligation|period|unit|kind|stage|recipient`: the text the
    /// Message-ID is derived from.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}|{}|{}|{}|{}|{}",
            self.obligation, self.period, self.unit, self.kind, self.stage, self.recipient
        )
    }
}

/// A row to write. Only `Pending` and `Skipped` are meaningful here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxRow {
    pub key: OutboxKey,
    /// Position in the unit's timeline for this period; see [`OutboxRow::rank`].
    pub rank: u32,
    pub due_on: Date,
    pub status: OutboxStatus,
    pub next_attempt_at: Timestamp,
}

/// One stored outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub key: OutboxKey,
    /// Later stages rank higher; a new pending row cancels the older pending
    /// rows of the same (obligation, period, unit).
    pub rank: u32,
    pub due_on: Date,
    pub status: OutboxStatus,
    pub next_attempt_at: Timestamp,
    /// Claims so far (a claim counts even if the process then crashed).
    pub attempts: u32,
    pub lease_owner: Option<String>,
    pub lease_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub message_id: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What `enqueue` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnqueueReport {
    /// New pending rows.
    pub pending: usize,
    /// New skipped rows.
    pub skipped: usize,
    /// Rows that already existed: nothing written.
    pub existing: usize,
    /// Older pending rows cancelled because a later stage was enqueued.
    pub superseded: usize,
    /// The rows newly written (pending and skipped), in the order given:
    /// what the daemon's log says was planned.
    pub written: Vec<NewOutboxRow>,
}

/// The outbox counted rather than read: what `/metrics` reports, from a
/// few aggregate statements whatever the table's size
/// ([`Outbox::outbox_summary`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxSummary {
    /// One entry per (status, kind) that has rows, by status then kind.
    pub counts: Vec<OutboxCount>,
    /// The earliest `next_attempt_at` of a `pending` or `sending` row.
    pub oldest_queued: Option<Timestamp>,
}

/// The rows of one (status, kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxCount {
    pub status: OutboxStatus,
    pub kind: OutboxKind,
    pub rows: u64,
    /// Sum of their `attempts`.
    pub attempts: u64,
    /// How many of them were claimed at least once (`attempts > 0`).
    pub attempted: u64,
}

/// How a claimed row ended (written by the dispatcher that holds the lease).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        message_id: String,
    },
    /// Transient failure: pending again at `next_attempt_at`.
    Retry {
        error: String,
        next_attempt_at: Timestamp,
    },
    /// Permanent failure.
    Failed {
        error: String,
    },
    /// No longer wanted (report arrived, waived, extended, stale).
    Cancelled {
        reason: String,
    },
}

/// Which outbox rows a page lists ([`Outbox::outbox_page`]): each field
/// that is set narrows the list; `units` is a list of unit ids (an empty
/// list matches nothing).
///
/// [`Outbox::outbox_page`]: super::Outbox::outbox_page
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxFilter {
    pub status: Option<OutboxStatus>,
    pub kind: Option<OutboxKind>,
    pub obligation: Option<String>,
    pub period: Option<String>,
    pub units: Option<Vec<String>>,
}

/// The last message that went out to (or about) a unit for one
/// (obligation, period): what "last reminded" shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastSent {
    pub unit: String,
    pub kind: OutboxKind,
    pub stage: u32,
    pub sent_at: Timestamp,
}
