//! The store's vocabulary: what callers record and what they read back.
//!
//! Plain data with no IO. Ids are the config's ids as strings; the store
//! never checks them against the config (the commands do that), so history
//! survives a unit or obligation being removed from the config.

use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;

/// One (obligation, period, unit): the thing a report is owed for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub obligation: String,
    /// The planner's period key, e.g. "2026-Q1" or "2026-03".
    pub period: String,
    pub unit: String,
}

impl Key {
    pub fn new(
        obligation: impl Into<String>,
        period: impl Into<String>,
        unit: impl Into<String>,
    ) -> Self {
        Key {
            obligation: obligation.into(),
            period: period.into(),
            unit: unit.into(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {} / {}", self.obligation, self.period, self.unit)
    }
}

/// Where a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Cli,
    Import,
    Api,
    Web,
    Link,
    /// A unit's reply to a notice, read from the watched mailbox.
    Email,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cli => "cli",
            Source::Import => "import",
            Source::Api => "api",
            Source::Web => "web",
            Source::Link => "link",
            Source::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Some(match s {
            "cli" => Source::Cli,
            "import" => Source::Import,
            "api" => Source::Api,
            "web" => Source::Web,
            "link" => Source::Link,
            "email" => Source::Email,
            _ => return None,
        })
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an event is about. Each subject has its own "latest event" per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Submission,
    Extension,
    Waiver,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Submission => "submission",
            Subject::Extension => "extension",
            Subject::Waiver => "waiver",
        }
    }

    pub fn parse(s: &str) -> Option<Subject> {
        Some(match s {
            "submission" => Subject::Submission,
            "extension" => Subject::Extension,
            "waiver" => Subject::Waiver,
            _ => return None,
        })
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an event did. Submissions are `Submit` or `Correct`; extensions and
/// waivers are `Grant`; any subject can be `Revoke`d.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Submit,
    Correct,
    Grant,
    Revoke,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Correct => "correct",
            Action::Grant => "grant",
            Action::Revoke => "revoke",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "submit" => Action::Submit,
            "correct" => Action::Correct,
            "grant" => Action::Grant,
            "revoke" => Action::Revoke,
            _ => return None,
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A report that arrived, to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubmission {
    pub key: Key,
    /// The (local, civil) date the report arrived: what lateness is judged on.
    pub received_on: Date,
    /// The instant it arrived, when known.
    pub received_at: Option<Timestamp>,
    /// Số văn bản: the document number of the report.
    pub reference: Option<String>,
    pub note: Option<String>,
    /// Who recorded it (a person's name or login, or a system name).
    pub actor: String,
    pub source: Source,
    /// An explicit correction replaces the current submission; without it a
    /// different submission for the same key is refused.
    pub correction: bool,
}

/// A new due date for one unit and period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewExtension {
    pub key: Key,
    pub until: Date,
    pub reason: String,
    pub actor: String,
    pub source: Source,
}

/// The unit is exempt for that period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWaiver {
    pub key: Key,
    pub reason: String,
    pub actor: String,
    pub source: Source,
}

/// Withdraws the current submission, extension or waiver of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub key: Key,
    pub subject: Subject,
    pub reason: Option<String>,
    pub actor: String,
    pub source: Source,
}

/// One row of the append-only history, exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Increases with every event recorded (commit order); 0 only for an
    /// event not yet written (e.g. an earlier row of the same import).
    pub id: i64,
    pub key: Key,
    pub subject: Subject,
    pub action: Action,
    /// Submissions only.
    pub received_on: Option<Date>,
    /// Submissions only, when known.
    pub received_at: Option<Timestamp>,
    /// Submissions only: số văn bản.
    pub reference: Option<String>,
    /// Extensions only: the new due date.
    pub due_on: Option<Date>,
    /// The submission's note, or the reason of a grant or revocation.
    pub note: Option<String>,
    pub actor: String,
    pub source: Source,
    pub recorded_at: Timestamp,
}

/// Who recorded something, how and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub event_id: i64,
    pub actor: String,
    pub source: Source,
    pub recorded_at: Timestamp,
}

/// The submission currently in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionState {
    pub received_on: Date,
    pub received_at: Option<Timestamp>,
    pub reference: Option<String>,
    pub note: Option<String>,
    /// True when this is a correction of an earlier submission.
    pub corrected: bool,
    pub stamp: Stamp,
}

/// The extension currently in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionState {
    pub until: Date,
    pub reason: Option<String>,
    pub stamp: Stamp,
}

/// The waiver currently in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverState {
    pub reason: Option<String>,
    pub stamp: Stamp,
}

/// What is in effect for one key, derived from its latest events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentState {
    pub key: Key,
    pub submission: Option<SubmissionState>,
    pub extension: Option<ExtensionState>,
    pub waiver: Option<WaiverState>,
}

impl CurrentState {
    pub fn empty(key: Key) -> Self {
        CurrentState {
            key,
            submission: None,
            extension: None,
            waiver: None,
        }
    }

    /// True when nothing is in effect (never recorded, or all revoked).
    pub fn is_empty(&self) -> bool {
        self.submission.is_none() && self.extension.is_none() && self.waiver.is_none()
    }

    /// Folds in the latest event of one subject (moving its text).
    pub(crate) fn apply_latest(&mut self, e: Event) {
        let revoked = e.action == Action::Revoke;
        let stamp = Stamp {
            event_id: e.id,
            actor: e.actor,
            source: e.source,
            recorded_at: e.recorded_at,
        };
        match e.subject {
            Subject::Submission => {
                self.submission = match (revoked, e.received_on) {
                    (false, Some(received_on)) => Some(SubmissionState {
                        received_on,
                        received_at: e.received_at,
                        reference: e.reference,
                        note: e.note,
                        corrected: e.action == Action::Correct,
                        stamp,
                    }),
                    _ => None,
                }
            }
            Subject::Extension => {
                self.extension = match (revoked, e.due_on) {
                    (false, Some(until)) => Some(ExtensionState {
                        until,
                        reason: e.note,
                        stamp,
                    }),
                    _ => None,
                }
            }
            Subject::Waiver => {
                self.waiver = (!revoked).then_some(WaiverState {
                    reason: e.note,
                    stamp,
                })
            }
        }
    }
}

/// What the status of one key depends on: the lean read behind
/// `hanbao status` ([`crate::store::Records::facts`]). Only what is in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub key: Key,
    /// The day the submission in effect arrived.
    pub submitted_on: Option<Date>,
    /// Its số văn bản.
    pub reference: Option<String>,
    /// The due day of the extension in effect.
    pub extended_until: Option<Date>,
    /// A waiver is in effect.
    pub waived: bool,
}

impl Facts {
    pub fn empty(key: Key) -> Facts {
        Facts {
            key,
            submitted_on: None,
            reference: None,
            extended_until: None,
            waived: false,
        }
    }
}

/// The outcome of a write that succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A new event was appended.
    New(Event),
    /// The same thing was already in effect; nothing was written. Carries the
    /// event that is in effect.
    AlreadyRecorded(Event),
}

impl Recorded {
    pub fn event(&self) -> &Event {
        match self {
            Recorded::New(e) | Recorded::AlreadyRecorded(e) => e,
        }
    }

    pub fn is_new(&self) -> bool {
        matches!(self, Recorded::New(_))
    }
}

/// Which events `history` returns; `None` fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    pub obligation: Option<String>,
    pub period: Option<String>,
    pub unit: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// New submissions written.
    pub submitted: usize,
    /// Corrections written.
    pub corrected: usize,
    /// Rows identical to what was already in effect: nothing written.
    pub unchanged: usize,
}

/// Ids that have history in the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownIds {
    pub obligations: BTreeSet<String>,
    pub units: BTreeSet<String>,
}

/// A schema migration recorded as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub description: String,
}
