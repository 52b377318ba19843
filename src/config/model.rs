//! The validated configuration: what the rest of hanbao sees.
//!
//! Everything here has passed `config::validate`: ids are unique, every
//! cross-reference resolves, groups are expanded, dates and zones parse.
//! Nothing in this module does IO or reads the clock; it is plain data.
//!
//! Units and obligations keep the order of the files they came from so that
//! plans and reports come out in the order the administrator wrote.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;

/// First and last year hanbao knows about: every date the configuration
/// accepts lies in these years, and the working-day calendar covers them.
pub const FIRST_YEAR: i16 = 1900;
pub const LAST_YEAR: i16 = 2100;

/// `daemon.outbox_retention_days` by default: two years.
pub const DEFAULT_OUTBOX_RETENTION_DAYS: u32 = 730;
/// The shortest `daemon.outbox_retention_days`: longer than the planner's
/// look-back (`outbox::LOOKBACK_DAYS`, 92 days) with a margin, so that a
/// deleted row is never planned again (checked at compile time there).
pub const MIN_OUTBOX_RETENTION_DAYS: u32 = 100;
/// The longest `daemon.outbox_retention_days` (a hundred years: "keep").
pub const MAX_OUTBOX_RETENTION_DAYS: u32 = 36_500;

/// `daemon.file_max_mb` by default: 25 MiB a file.
pub const DEFAULT_FILE_MAX_MB: u64 = 25;
/// Bounds of `daemon.file_max_mb`.
pub const FILE_MAX_MB_RANGE: (u64, u64) = (1, 1024);
/// `daemon.files_per_submission` by default.
pub const DEFAULT_FILES_PER_SUBMISSION: usize = 10;
/// Bounds of `daemon.files_per_submission`.
pub const FILES_PER_SUBMISSION_RANGE: (usize, usize) = (1, 100);

/// How much a unit may send with one report: checked while the bytes
/// arrive, before anything is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimits {
    /// Largest file, in bytes (`daemon.file_max_mb` MiB).
    pub max_bytes: u64,
    /// Most files sent at once (one form, one API request, one message).
    pub max_count: usize,
}

impl Default for FileLimits {
    fn default() -> Self {
        FileLimits {
            max_bytes: DEFAULT_FILE_MAX_MB * 1024 * 1024,
            max_count: DEFAULT_FILES_PER_SUBMISSION,
        }
    }
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub daemon: Daemon,
    pub mail: Mail,
    pub calendar: CalendarSettings,
    /// `[intake]`: the watched mailbox of replies; `None`, no mailbox is watched.
    pub intake: Option<Intake>,
    /// The documents the duties come from, in file order.
    pub directives: Vec<Directive>,
    /// Units in file order ([`Config::unit`] finds one by id).
    pub units: Vec<Unit>,
    /// Obligations in file order.
    pub obligations: Vec<Obligation>,
    /// Group name -> member unit ids, in file order.
    pub groups: BTreeMap<String, Vec<String>>,
    /// Group id -> the group's `name` (its id when it has none), for
    /// people; every group of [`Config::groups`] has one.
    pub group_names: BTreeMap<String, String>,
    /// Every file that was read, main file first (for messages and reloads).
    pub files: Vec<PathBuf>,
    /// Where each unit and obligation id sits in `units` and
    /// `obligations`, so that a lookup by id is one hash probe, not a scan
    /// of 4,000 units (built once by `config::validate`; a configuration
    /// written by hand may leave it `Default`, and lookups then scan).
    pub positions: Positions,
}

/// Positions of ids in [`Config::units`] and [`Config::obligations`].
///
/// A position is trusted only when the item there still has that id, so
/// code (tests, mostly) that edits the public vectors after validation gets
/// a scan instead of a wrong answer.
#[derive(Clone, Default)]
pub struct Positions {
    units: HashMap<String, usize>,
    obligations: HashMap<String, usize>,
}

impl Positions {
    pub fn of(units: &[Unit], obligations: &[Obligation]) -> Positions {
        Positions {
            units: units
                .iter()
                .enumerate()
                .map(|(i, u)| (u.id.clone(), i))
                .collect(),
            obligations: obligations
                .iter()
                .enumerate()
                .map(|(i, o)| (o.id.clone(), i))
                .collect(),
        }
    }
}

impl std::fmt::Debug for Positions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Positions({} units, {} obligations)",
            self.units.len(),
            self.obligations.len()
        )
    }
}

impl Config {
    pub fn unit(&self, id: &str) -> Option<&Unit> {
        match self
            .positions
            .units
            .get(id)
            .and_then(|&i| self.units.get(i))
        {
            Some(u) if u.id == id => Some(u),
            _ => self.units.iter().find(|u| u.id == id),
        }
    }

    pub fn obligation(&self, id: &str) -> Option<&Obligation> {
        match self
            .positions
            .obligations
            .get(id)
            .and_then(|&i| self.obligations.get(i))
        {
            Some(o) if o.id == id => Some(o),
            _ => self.obligations.iter().find(|o| o.id == id),
        }
    }

    /// The place of `u` in `units` (its index), in O(1) when `u` is one of
    /// them (by its address, checked with `ptr::eq`), else by its id.
    /// Status pages index per-unit tables by it for a million cells, where
    /// a lookup by id per cell costs more than the rest of the work.
    pub fn unit_place(&self, u: &Unit) -> Option<usize> {
        let size = std::mem::size_of::<Unit>();
        let offset = (u as *const Unit as usize).wrapping_sub(self.units.as_ptr() as usize);
        let i = offset / size;
        if offset % size == 0 && self.units.get(i).is_some_and(|x| std::ptr::eq(x, u)) {
            return Some(i);
        }
        self.positions
            .units
            .get(u.id.as_str())
            .copied()
            .filter(|&i| self.units.get(i).is_some_and(|x| x.id == u.id))
            .or_else(|| self.units.iter().position(|x| x.id == u.id))
    }

    /// The name of group `id` for people: its `name`, else the id itself.
    pub fn group_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.group_names.get(id).map_or(id, String::as_str)
    }
}

/// `[daemon]`: where and when the service runs.
#[derive(Debug, Clone)]
pub struct Daemon {
    /// IANA name as written, e.g. "Asia/Ho_Chi_Minh".
    pub time_zone_name: String,
    pub time_zone: TimeZone,
    /// sqlx URL: `sqlite://...` or `postgres://...`. Secrets in it are never logged.
    pub database_url: String,
    pub state_dir: PathBuf,
    /// Mail goes out only on working days between these local times.
    pub sending_hours: SendingHours,
    /// HTTP listen address (used by the web module).
    pub http_listen: SocketAddr,
    /// Public base URL of the web server (absolute http(s), no trailing
    /// `/`), used for the confirmation links in reminders; `None`: no links.
    pub public_url: Option<String>,
    /// Cron expression of the coordinator's digest, local time, as written
    /// (five or six fields; checked by `config::cron::validate`).
    pub digest: String,
    /// Limits of the HTTP server (`http_max_connections`, `http_*_timeout_secs`).
    pub http: HttpSettings,
    /// Days a finished outbox row (sent, skipped, cancelled) is kept; the
    /// daily housekeeping deletes older ones. The history of submissions
    /// is never deleted.
    pub outbox_retention_days: u32,
    /// Limits on the files sent with a report (`daemon.file_max_mb`,
    /// `daemon.files_per_submission`).
    pub files: FileLimits,
}

/// How the HTTP server protects itself from slow or idle clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Connections served at once; further ones wait in the kernel's
    /// backlog (they hold no file descriptor of the process) until one ends.
    pub max_connections: usize,
    /// Time a connection has to send a request's line and headers: from
    /// its opening (a client that sends nothing is closed), and from the
    /// end of each response on a kept-alive connection (the idle timeout).
    pub header_timeout: Duration,
    /// Time a request has to send its body and be answered (408 after),
    /// and any single write of a response may wait for the client to read.
    pub request_timeout: Duration,
    /// Peers (the reverse proxy) whose `X-Forwarded-For` is believed: for a
    /// request from one of them, the client is the rightmost address of
    /// that header that is not itself a trusted proxy. Empty: the peer is
    /// the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            max_connections: 512,
            header_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(30),
            trusted_proxies: Vec::new(),
        }
    }
}

/// A window of local time on a working day, start inclusive, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendingHours {
    pub start: Time,
    pub end: Time,
}

/// `[mail]`.
#[derive(Debug, Clone)]
pub struct Mail {
    pub transport: Transport,
    /// RFC 5322 mailbox, e.g. `"Sở LĐ-TB&XH <baocao@soldtbxh.quangngai.example>"`.
    pub from: String,
    pub reply_to: Option<String>,
    /// Directory of template overrides (`vi/`, `en/`); `None` = built-ins only.
    pub templates: Option<PathBuf>,
    /// Language the notices are written in.
    pub language: Language,
}

/// The language of the notices (`[mail] language`). Vietnamese is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    #[default]
    Vi,
    En,
}

impl Language {
    /// The code as written in the configuration and the template directory name (`vi`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Language::Vi => "vi",
            Language::En => "en",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Transport {
    /// Write each message as an .eml file in this directory (the default).
    File {
        dir: PathBuf,
    },
    Smtp(Smtp),
}

#[derive(Debug, Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// Messages a dispatcher has with the server at once, each on its own
    /// pooled connection (1–16; default 1).
    pub connections: usize,
    pub username: Option<String>,
    /// Where to read the password at run time; the password itself is never stored here.
    pub password: Option<SecretSource>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS; the upgrade is required.
    StartTls,
    /// Implicit TLS (usually port 465).
    Tls,
    /// No encryption at all: only for a relay on the loopback interface
    /// (127.0.0.1, ::1, localhost), e.g. a local sink in tests or a local
    /// MTA. `mail::Mailer` refuses it for any other host.
    None,
}

/// `[intake]`: the IMAP mailbox where units reply to the notices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intake {
    pub host: String,
    pub port: u16,
    pub security: ImapSecurity,
    pub username: String,
    /// Where to read the password when connecting; never the password.
    pub password: SecretSource,
    /// The mailbox (folder) watched, "INBOX" by default.
    pub mailbox: String,
    /// What is done to a message once it is processed.
    pub after: AfterIntake,
    /// Seconds between two looks when the server does not offer IDLE.
    pub poll_secs: u64,
    /// Largest message accepted, in bytes.
    pub max_message_bytes: u64,
    /// Most attachments in one message.
    pub max_attachments: usize,
}

/// How the IMAP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapSecurity {
    /// Implicit TLS (port 993), the server's certificate checked against
    /// Mozilla's roots.
    Tls,
    /// No encryption: only for a server on the loopback interface.
    None,
}

/// What is done to a processed message in the mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterIntake {
    /// Flagged `\Seen` where it is.
    MarkSeen,
    /// Moved to this folder.
    MoveTo(String),
}

/// Where a secret lives. Only its location is kept, so `Debug` cannot leak it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
    /// A systemd credential name (read from `$CREDENTIALS_DIRECTORY/NAME`).
    Credential(String),
}

/// `[calendar]`: adjustments to the built-in Vietnamese calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarSettings {
    /// Whether a make-up working Saturday counts as a working day for deadlines.
    pub makeup_saturday_counts: bool,
    /// Vietnam Culture Day (24/11) as a paid holiday from 2026.
    pub culture_day: bool,
    /// Extra days off declared by the administrator.
    pub extra_days_off: Vec<ConfiguredDay>,
    /// Extra working days (e.g. a make-up Saturday) declared by the administrator.
    pub extra_working_days: Vec<ConfiguredDay>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredDay {
    pub date: Date,
    pub reason: String,
}

/// `[[directive]]`: the document that sets reporting duties, and who
/// speaks for it in the notices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub id: String,
    pub basis: Basis,
    pub sender: Sender,
    pub contact: Contact,
    pub submission: Submission,
}

/// The document cited as the basis of a notice (Decree 30/2020 form:
/// kind, number, date, issuer, subject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basis {
    /// "Công văn", "Quyết định", "Kế hoạch" ...
    pub kind: String,
    /// "4040/UBND-KGVX".
    pub number: String,
    pub date: Date,
    /// "UBND tỉnh Quảng Ngãi".
    pub issuer: String,
    /// The subject (trích yếu), without "V/v".
    pub about: Option<String>,
}

/// Who speaks in the notices: the coordinating body and its office in charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// A unit id (its name is the agency's name in the notices).
    pub agency: String,
    pub office: Option<String>,
}

/// Whom the readers of a notice can call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub title: Option<String>,
    /// At least one of `phone` and `email`.
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Where and how a report is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// To which body (and office).
    pub to: String,
    /// Through which channel.
    pub how: String,
}

/// Who speaks in one obligation's notices: its own `sender`, `contact`
/// and `submission` over those of its directive. Each part may be missing
/// when no directive is configured (the notices then say less).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Voice {
    /// The directive's id.
    pub directive: Option<String>,
    pub basis: Option<Basis>,
    pub sender: Option<Sender>,
    pub contact: Option<Contact>,
    pub submission: Option<Submission>,
}

/// An agency that reports, receives or supervises.
#[derive(Debug, Clone)]
pub struct Unit {
    pub id: String,
    pub name: String,
    /// Official mailboxes (at least one for a unit that reports).
    pub emails: Vec<String>,
    pub head: Option<Person>,
    pub groups: Vec<String>,
    /// Unit id that receives this unit's escalations.
    pub supervisor: Option<String>,
    /// Unit id of the People's Council this unit reports to (HĐND cùng cấp).
    pub council: Option<String>,
    /// First day the unit exists (inclusive).
    pub active_from: Option<Date>,
    /// Last day the unit exists (inclusive).
    pub active_until: Option<Date>,
    /// Unit id that takes over after `active_until`.
    pub successor: Option<String>,
}

impl Unit {
    /// Whether the unit exists on `day`.
    pub fn active_on(&self, day: Date) -> bool {
        in_force(self.active_from, self.active_until, day)
    }
}

/// Whether `day` lies in `[from, until]`, a missing end being open.
fn in_force(from: Option<Date>, until: Option<Date>, day: Date) -> bool {
    from.is_none_or(|f| f <= day) && until.is_none_or(|u| day <= u)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub email: String,
}

/// A reporting cycle: who reports what to whom, and by when.
#[derive(Debug, Clone)]
pub struct Obligation {
    pub id: String,
    pub title: String,
    /// For subjects; `None`: a cut of the title.
    pub short_title: Option<String>,
    pub legal_basis: Option<String>,
    /// Who speaks in its notices.
    pub voice: Voice,
    /// Reporting unit ids, groups already expanded, file order, no duplicates.
    pub reporters: Vec<String>,
    pub recipient: Recipient,
    pub cycle: Cycle,
    pub window: WindowStyle,
    pub due: DueRule,
    /// "trước ngày X" read literally: the day the rule gives is excluded,
    /// so the due day is the day before it (before rolling). Never set
    /// together with `due_time`.
    pub due_exclusive: bool,
    /// The time of day of the deadline on the due day ("chậm nhất 14 giờ");
    /// `None`: 24:00 (Civil Code Art. 148.6). Applies to overrides and
    /// extensions too.
    pub due_time: Option<Time>,
    /// For [`DueRule::AfterDue`]: the obligation whose due day it counts from.
    pub due_after: Option<TierBase>,
    /// Period key (e.g. "2026-H1") -> due date set by the receiving office.
    pub overrides: BTreeMap<String, Date>,
    /// Civil Code 148.5: a due day that is not a working day moves to the next working day.
    pub roll_to_working_day: bool,
    /// Offsets before the deadline at which the unit is reminded, nearest last.
    pub reminders: Vec<Offset>,
    pub escalation: Vec<EscalationStage>,
    pub active_from: Option<Date>,
    pub active_until: Option<Date>,
    /// Obligations whose reporters this compiled report waits for.
    pub depends_on: Vec<String>,
}

impl Obligation {
    /// Whether the obligation itself is in force on `day`.
    pub fn active_on(&self, day: Date) -> bool {
        in_force(self.active_from, self.active_until, day)
    }
}

/// To whom a report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// One unit for every reporter.
    Unit(String),
    /// Each reporter's own People's Council (`Unit::council`).
    ReporterCouncil,
    /// Each reporter's supervisor (`Unit::supervisor`).
    ReporterSupervisor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cycle {
    Monthly,
    Quarterly,
    SixMonthly {
        first_half_only: bool,
    },
    NineMonthly,
    Annual,
    /// One period a day (`2026-05-15`). With `working_days_only` (the
    /// default, "hàng ngày"), only the working days of the calendar are
    /// periods: no report is owed for a Sunday or a day of Tết.
    Daily {
        working_days_only: bool,
    },
    /// One period an ISO 8601 week, Monday to Sunday (`2026-W23`).
    Weekly,
    /// Three periods a month (`2026-05-D1`…`D3`): 1–10, 11–20, 21–end.
    TenDay,
    /// Two periods a month (`2026-05-H1`, `H2`): 1–15, 16–end.
    FifteenDay,
    /// A single report; its period key is the obligation id.
    Once {
        start: Option<Date>,
        end: Date,
    },
}

impl Cycle {
    /// A cycle shorter than a month (daily, weekly, ten-day, fifteen-day):
    /// a unit late for several of its periods gets one overdue notice
    /// listing them (`outbox::dispatch`), not one per period.
    pub fn is_short(&self) -> bool {
        matches!(
            self,
            Cycle::Daily { .. } | Cycle::Weekly | Cycle::TenDay | Cycle::FifteenDay
        )
    }
}

/// How a period's window is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowStyle {
    /// 1/1–30/6, 1/1–31/3, 1/5–31/5, ...
    Calendar,
    /// Decree 09/2019 data cut-off: 15th of the previous month to the 14th.
    /// The decree defines it for monthly, quarterly, six-monthly,
    /// nine-monthly and annual reports only; the configuration refuses it
    /// for shorter cycles, whose windows are always calendar days.
    Decree09,
}

/// How the due day of a period is computed from its window (before the
/// per-period overrides, `due_exclusive` and rolling to a working day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueRule {
    /// N days (or working days) after the last day of the window.
    After(Offset),
    /// Day `day` of the window's last month (`next_month = false`) or of the
    /// month after it; clamped to the month's last day.
    DayOfMonth { day: u8, next_month: bool },
    /// Day `day` of the first month of the quarter after the one holding the
    /// window's last day ("ngày 15 tháng đầu quý sau"); clamped.
    DayOfNextQuarter { day: u8 },
    /// A day and month ("25/11"): the occurrence of it nearest to the
    /// window's last day, before or after it (an annual report due 25/11 is
    /// due on 25/11 of its own year; one due 20/01 on 20/01 of the next).
    /// 29/02 falls on 28/02 in common years.
    DayMonth { day: u8, month: u8 },
    /// A weekday of the ISO week holding the window's last day
    /// (`next_week = false`) or of the week after ("thứ Năm", "thứ Hai tuần sau").
    Weekday { weekday: Weekday, next_week: bool },
    /// N days (or working days) after the due day of the same period of
    /// the first-tier obligation in `Obligation::due_after` ("3 ngày làm
    /// việc sau hạn của nq121-6thang"): a compiled report's deadline.
    AfterDue(Offset),
}

/// The first-tier obligation a second-tier due rule ([`DueRule::AfterDue`])
/// counts from: one of `depends_on`, with the same cycle.
#[derive(Debug, Clone)]
pub struct TierBase {
    pub id: String,
    /// A copy of that obligation (with its own base, if it is a second tier
    /// too), filled in once every obligation is read; `None` only while the
    /// configuration is being validated.
    pub obligation: Option<Box<Obligation>>,
}

/// A count of days or working days (or, for reminders and escalation
/// delays, hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Offset {
    pub amount: u32,
    pub unit: DayUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DayUnit {
    Days,
    WorkingDays,
    /// Hours from the deadline instant ("2 giờ"): reminders and
    /// `escalation.after` only (`values::parse_notice_offset`); never in
    /// a due rule or a repeat.
    Hours,
}

/// One rung of the escalation ladder, counted from the deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationStage {
    /// Delay after the deadline (0 days = the morning after the due day).
    pub after: Offset,
    pub notify: Vec<EscalationTarget>,
    /// Repeat this stage every `every` until `limit` repeats (None = no repeat).
    pub repeat: Option<Repeat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    pub every: Offset,
    /// Maximum number of repeats after the first notice.
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscalationTarget {
    /// The reporting unit's official mailboxes.
    Unit,
    /// The reporting unit's head.
    Head,
    /// The reporting unit's supervisor's mailboxes.
    Supervisor,
    /// The obligation's recipient (per reporter where that applies).
    Recipient,
    /// A fixed address.
    Address(String),
}
