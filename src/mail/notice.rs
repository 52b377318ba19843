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
    /// For subjects: the configured `short_title`, else a cut of the title.
    pub short: String,
    pub legal_basis: Option<String>,
}

/// The longest cut of a title used in subjects (see [`short_title`]).
pub const SHORT_TITLE_CUT: usize = 45;

/// `text` cut at a word boundary to at most `max` characters, with "…"
/// when something was cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split_whitespace() {
        let next = if out.is_empty() {
            word.to_string()
        } else {
            format!("{out} {word}")
        };
        if next.chars().count() + 1 > max {
            break;
        }
        out = next;
    }
    if out.is_empty() {
        out = text.chars().take(max.saturating_sub(1)).collect();
    }
    let out = out.trim_end_matches([',', ';', ':', '-', '–']).trim_end();
    format!("{out}…")
}

/// The subject's name of a report: `short_title`, else the title cut to
/// [`SHORT_TITLE_CUT`] characters.
pub fn short_title(title: &str, short: Option<&str>) -> String {
    match short {
        Some(s) => s.to_string(),
        None => cut(title, SHORT_TITLE_CUT),
    }
}

/// A reporting period: its stable key and its name in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodRef {
    /// e.g. "2026-H1"; in the `X-Hanbao-Period` header for mail filters.
    pub key: String,
    /// In the notice's language: "6 tháng đầu năm 2026", "first half of 2026".
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

pub use crate::config::model::{Basis, Contact};

/// Who speaks in a notice: the coordinating agency and its office in
/// charge, whom to contact, where and how a report is sent, and the
/// document the duty comes from (each part only when configured).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Speaker {
    /// The agency's name, e.g. "Sở Lao động - Thương binh và Xã hội"
    /// (without a configured sender: the display name of `mail.from`).
    pub agency: String,
    pub office: Option<String>,
    pub contact: Option<Contact>,
    /// To which body the report goes, and through which channel.
    pub submit_to: Option<String>,
    pub submit_how: Option<String>,
    pub basis: Option<Basis>,
}

/// How the speaker stands to the addressee: it sets the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Register {
    /// A unit that is not above the speaking agency: a request ("đề nghị"),
    /// "Trân trọng./.".
    #[default]
    Peer,
    /// A body above the speaking agency (in its supervisor chain) or a
    /// People's Council: a report with a request for direction, "Kính báo cáo./.".
    Upward,
    /// The speaking agency's own mailbox: the office in charge reports to
    /// its agency's leadership.
    Internal,
}

impl Register {
    pub fn as_str(self) -> &'static str {
        match self {
            Register::Peer => "peer",
            Register::Upward => "upward",
            Register::Internal => "internal",
        }
    }
}

/// What a unit's reply by email came to, as its acknowledgement tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub obligation: ObligationRef,
    pub period: PeriodRef,
    pub unit: UnitRef,
    pub speaker: Speaker,
    pub register: Register,
    /// The mailbox the reply came from (the one answered).
    pub sender: String,
    /// When the reply was processed, local time.
    pub processed_at: jiff::civil::DateTime,
    pub outcome: AckOutcome,
    /// The files kept from the reply (none when it was refused).
    pub files: Vec<AckFile>,
    /// Where the unit can upload its report instead (refusals).
    pub confirm_url: Option<String>,
}

/// What became of the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckOutcome {
    /// The report is recorded: by this reply (`earlier` false), or it was
    /// before and this reply's files were added to it.
    Recorded {
        received_on: Date,
        reference: Option<String>,
        /// When the submission in effect was recorded, local time.
        recorded_at: jiff::civil::DateTime,
        earlier: bool,
    },
    /// Not recorded: the message or a file was larger than allowed.
    TooBig {
        file_max_mb: u64,
        message_max_mb: u64,
    },
    /// Not recorded: more attachments than allowed in one message.
    TooMany { max: usize },
}

/// A kept file as the acknowledgement lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckFile {
    pub name: String,
    /// In words: "1,2 MB" (`files::size_text`).
    pub size: String,
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
    /// The local day the notice goes out.
    pub as_of: Date,
    /// Days (and working days) from `as_of` to the due day (reminders).
    pub days_left: u32,
    pub working_days_left: u32,
    /// Days (and working days) since the due day (overdue notices).
    pub days_late: u32,
    pub working_days_late: u32,
    /// The escalation stage of an overdue notice (1 = the first); 0 otherwise.
    pub stage: u32,
    /// Who speaks, and to whom (the unit's relation to the speaker).
    pub speaker: Speaker,
    pub register: Register,
    /// The name of the body the report goes to (the obligation's recipient
    /// for this unit), when it is a unit.
    pub recipient_name: Option<String>,
    /// For a compiled report (`depends_on`): each report it compiles, with
    /// the units whose data has not arrived (neither sent nor exempted).
    pub dependencies: Vec<Standing>,
    /// Notices already sent to the unit about this report, oldest first.
    pub history: Vec<PastNotice>,
    /// Others already told that the report is late (escalations sent).
    pub informed: Vec<PastNotice>,
    /// Names of those told at the same time as this notice.
    pub informing: Vec<String>,
    /// One-click confirmation link (`link::Links`), if the web side is enabled.
    pub confirm_url: Option<String>,
    /// Calendar alarms of the attached .ics, in minutes from 00:00 of the
    /// due day (negative: before): the reminder days at the start of the
    /// sending hours.
    pub alarms: Vec<i64>,
    /// An overdue notice for a report with short periods (a daily or
    /// weekly report): the unit's other periods of the same report that
    /// are late and go out in the same message, oldest first (this
    /// notice's own period is the oldest of all). Empty otherwise.
    pub also_late: Vec<LatePeriod>,
}

/// Another late period of the same report, in a grouped overdue notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatePeriod {
    pub period: PeriodRef,
    pub due: Date,
    pub days_late: u32,
    pub working_days_late: u32,
}

impl Deadline {
    /// A notice with nothing but the report, the period, the unit and the
    /// due day (the rest empty or zero).
    pub fn new(obligation: ObligationRef, period: PeriodRef, unit: UnitRef, due: Date) -> Deadline {
        Deadline {
            obligation,
            period,
            unit,
            due,
            due_time: None,
            as_of: due,
            days_left: 0,
            working_days_left: 0,
            days_late: 0,
            working_days_late: 0,
            stage: 0,
            speaker: Speaker::default(),
            register: Register::Peer,
            recipient_name: None,
            dependencies: Vec::new(),
            history: Vec::new(),
            informed: Vec::new(),
            informing: Vec::new(),
            confirm_url: None,
            alarms: Vec::new(),
            also_late: Vec::new(),
        }
    }
}

/// Why an escalation goes to its addressee, for one report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The head of the late unit (about his own unit).
    Head,
    /// The late unit's supervisor.
    Supervisor,
    /// The body the report goes to.
    Recipient,
    /// A fixed address named by the escalation stage.
    Address,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Head => "head",
            Role::Supervisor => "supervisor",
            Role::Recipient => "recipient",
            Role::Address => "address",
        }
    }
}

/// One report in an escalation: where it stands, the late units the
/// addressee is told about, and why it is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub role: Role,
    /// Received X of Y for the whole report-period; `late` holds only the
    /// units this addressee is told about.
    pub standing: Standing,
    /// The name of the body the report goes to.
    pub recipient_name: Option<String>,
    /// For a compiled report: the data still missing, per report compiled.
    pub dependencies: Vec<Standing>,
}

/// An escalation to one addressee: every late report it covers, grouped by
/// report (the title once, then the late units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub speaker: Speaker,
    /// The addressee's official name (a unit, or a head by title).
    pub addressee: String,
    pub register: Register,
    /// The local day it goes out.
    pub as_of: Date,
    pub sections: Vec<Section>,
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
    /// In a standing that groups the periods of a report with short
    /// periods ([`Standing::span`]): this unit's late periods, oldest
    /// first (`due`, `days_late` and `working_days_late` are then the
    /// oldest's). Empty otherwise: the line is the standing's own period.
    pub periods: Vec<PeriodRef>,
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
    /// Set when this standing groups several periods of a report with
    /// short periods (daily, weekly, ten-day, fifteen-day), so a unit late
    /// for a week of a daily report is one line, not seven: `period` and
    /// `due` are then the oldest's, and the counts add up every period's.
    pub span: Option<PeriodSpan>,
}

/// The periods a grouped [`Standing`] covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodSpan {
    pub first: PeriodRef,
    pub last: PeriodRef,
    /// How many report-periods (at least two).
    pub count: u32,
}

impl Standing {
    /// Adds a later period of the same report: the counts add up, each
    /// late unit stays one line, with its late periods.
    fn absorb(&mut self, next: Standing) {
        if self.span.is_none() {
            self.span = Some(PeriodSpan {
                first: self.period.clone(),
                last: self.period.clone(),
                count: 1,
            });
            for l in &mut self.late {
                l.periods = vec![self.period.clone()];
            }
        }
        if let Some(span) = &mut self.span {
            span.last = next.period.clone();
            span.count += 1;
        }
        self.expected += next.expected;
        self.submitted += next.submitted;
        self.submitted_late += next.submitted_late;
        self.waived += next.waived;
        for mut l in next.late {
            match self.late.iter_mut().find(|x| x.unit.id == l.unit.id) {
                Some(x) => {
                    x.periods.push(next.period.clone());
                    for n in l.notices {
                        if !x.notices.contains(&n) {
                            x.notices.push(n);
                        }
                    }
                    x.notices.sort_by_key(|n| n.on);
                }
                None => {
                    l.periods = vec![next.period.clone()];
                    self.late.push(l);
                }
            }
        }
    }

    /// Every (period key, unit id) this standing lists as late: a grouped
    /// line stands for each of its periods.
    pub fn late_keys(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.late.iter().flat_map(move |l| {
            let periods = if l.periods.is_empty() {
                std::slice::from_ref(&self.period)
            } else {
                &l.periods[..]
            };
            periods
                .iter()
                .map(move |p| (p.key.as_str(), l.unit.id.as_str()))
        })
    }

    /// How many (period, unit) are late: a grouped line counts each period.
    pub fn late_count(&self) -> usize {
        self.late_keys().count()
    }
}

/// Groups the report-periods of each report with short periods (`short`
/// says which, by obligation id), and the same `K` (a further grouping key,
/// e.g. why an escalation's addressee is told), into one [`Standing`] with
/// each late unit once, listing its late periods. A report with a single
/// period among `items`, and every other report, is kept as it is. Each
/// result comes with the indices in `items` it was made of, so a caller
/// can merge what it holds beside the standing. Order: where each group's
/// first member stood; within a group, by period key (keys sort in time).
pub fn group_short_periods<K: PartialEq>(
    items: Vec<(K, Standing)>,
    short: impl Fn(&str) -> bool,
) -> Vec<(K, Standing, Vec<usize>)> {
    /// Whether the members may grow, and each member with its index.
    type Group<K> = (bool, Vec<(usize, K, Standing)>);
    let mut groups: Vec<Group<K>> = Vec::new();
    for (i, (k, st)) in items.into_iter().enumerate() {
        let found = if short(&st.obligation.id) {
            groups.iter().position(|(grouped, m)| {
                *grouped && m[0].2.obligation.id == st.obligation.id && m[0].1 == k
            })
        } else {
            None
        };
        match found {
            Some(g) => groups[g].1.push((i, k, st)),
            None => groups.push((short(&st.obligation.id), vec![(i, k, st)])),
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for (_, mut members) in groups {
        members.sort_by(|a, b| a.2.period.key.cmp(&b.2.period.key));
        let mut it = members.into_iter();
        let Some((i, k, mut first)) = it.next() else {
            continue;
        };
        let mut from = vec![i];
        for (j, _, next) in it {
            first.absorb(next);
            from.push(j);
        }
        out.push((k, first, from));
    }
    out
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
    /// Who sends it (the agency; the coordinator is its contact).
    pub speaker: Speaker,
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
                s.late_keys().map(|(period, unit)| {
                    (
                        s.obligation.id.clone(),
                        period.to_string(),
                        unit.to_string(),
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
    /// To a unit whose reply by email was recorded, or refused for its size.
    Acknowledgement(Acknowledgement),
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
            NoticeKind::Acknowledgement(_) => "acknowledgement",
            NoticeKind::Test => "test",
        }
    }

    /// The deadline data for the kinds that carry one.
    pub fn deadline(&self) -> Option<&Deadline> {
        match self {
            NoticeKind::Reminder(d) | NoticeKind::DueToday(d) | NoticeKind::Overdue(d) => Some(d),
            _ => None,
        }
    }

    /// The deadline for the kinds that attach it as an .ics: those sent
    /// before it passes (an overdue notice has no date left to note).
    pub fn calendar(&self) -> Option<&Deadline> {
        match self {
            NoticeKind::Reminder(d) | NoticeKind::DueToday(d) => Some(d),
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
