//! The configuration exactly as written in the TOML files, with spans.
//!
//! Each struct mirrors one table of the file; unknown keys are errors
//! (`deny_unknown_fields`). Values stay as the administrator wrote them
//! (`Spanned<String>`), so that `validate` can point at them and collect every
//! problem. This module only describes the syntax: it does no IO and does not
//! validate. README.md ("Configuration reference") documents the same keys for administrators.
//!
//! A file has these top-level keys, all optional:
//!
//! ```toml
//! include = ["quang-ngai-4040.toml", "units/*.toml"]  # other files, relative to this one
//! [daemon]        # once in the whole configuration
//! [mail]          # once
//! [calendar]      # once
//! [intake]        # once, optional: the watched mailbox of replies
//! [[directive]]   # any number, from any file
//! [[group]]       # any number, from any file
//! [[unit]]        # any number, from any file
//! [[obligation]]  # any number, from any file
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_spanned::Spanned;

/// Top-level keys of a file, in the order they are documented.
pub const TOP_LEVEL_KEYS: [&str; 9] = [
    "include",
    "daemon",
    "mail",
    "calendar",
    "intake",
    "directive",
    "group",
    "unit",
    "obligation",
];

/// `[daemon]`: where and when the service runs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDaemon {
    /// IANA time zone. Default "Asia/Ho_Chi_Minh".
    pub time_zone: Option<Spanned<String>>,
    /// Absolute directory for the database, outbox and state. Default "/var/lib/hanbao".
    pub state_dir: Option<Spanned<String>>,
    /// sqlx URL `sqlite://...` or `postgres://...`. Default `sqlite://<state_dir>/hanbao.db`.
    pub database: Option<Spanned<String>>,
    /// Local times on working days during which mail is sent, "07:30-11:00" (the default).
    pub sending_hours: Option<Spanned<String>>,
    /// HTTP listen address "IP:port". Default "127.0.0.1:8080".
    pub http_listen: Option<Spanned<String>>,
    /// Public base URL of the web server as units reach it (behind the
    /// reverse proxy), e.g. "https://baocao.quangngai.example". Unset: no
    /// confirmation link in reminders.
    pub public_url: Option<Spanned<String>>,
    /// When the coordinator's digest goes out: a cron expression of five
    /// fields (minute first) or six (seconds first), local time. Default "0 8 * * Mon".
    pub digest: Option<Spanned<String>>,
    /// HTTP connections served at once (1–65535, default 512); more wait
    /// in the kernel's backlog.
    pub http_max_connections: Option<Spanned<i64>>,
    /// Seconds a connection has to send a request's line and headers, from
    /// its opening and after each response (1–3600, default 20).
    pub http_header_timeout_secs: Option<Spanned<i64>>,
    /// Seconds a request has to send its body and be answered, and a
    /// response to be taken by the client (1–3600, default 30).
    pub http_request_timeout_secs: Option<Spanned<i64>>,
    /// Reverse proxies (IP addresses or CIDR ranges) whose
    /// `X-Forwarded-For` names the client. Default: none.
    pub trusted_proxies: Option<Vec<Spanned<String>>>,
    /// Days a finished outbox row (sent, skipped, cancelled) is kept before
    /// housekeeping deletes it (100–36500, default 730).
    pub outbox_retention_days: Option<Spanned<i64>>,
    /// Largest file a unit may send with a report, in MiB (1–1024, default 25).
    pub file_max_mb: Option<Spanned<i64>>,
    /// Most files sent with one report at once (1–100, default 10).
    pub files_per_submission: Option<Spanned<i64>>,
}

/// `[mail]`: how notices leave the server.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMail {
    /// "file" (default: .eml files in a directory) or "smtp".
    pub transport: Option<Spanned<String>>,
    /// From mailbox, "Tên <dia-chi@x.example>" or an address. Default "hanbao@localhost" (with a warning).
    pub from: Option<Spanned<String>>,
    /// Reply-To mailbox (e.g. the coordinator's office). Optional.
    pub reply_to: Option<Spanned<String>>,
    /// Absolute directory whose `vi/` and `en/` files override the built-in templates. Optional.
    pub templates: Option<Spanned<String>>,
    /// Language of the notices: "vi" (default) or "en".
    pub language: Option<Spanned<String>>,
    /// `[mail.file]`: settings of the file transport.
    pub file: Option<Spanned<RawMailFile>>,
    /// `[mail.smtp]`: settings of the SMTP transport (required when transport = "smtp").
    pub smtp: Option<Spanned<RawSmtp>>,
}

/// `[mail.file]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMailFile {
    /// Directory of .eml files. Default `<state_dir>/outbox-mail`.
    pub dir: Option<Spanned<String>>,
}

/// `[mail.smtp]`. The password is never written in the file: give exactly one
/// of `password_file`, `password_env`, `password_credential`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    /// Server host name. Required.
    pub host: Option<Spanned<String>>,
    /// Port. Default 587 for "starttls", 465 for "tls".
    pub port: Option<Spanned<i64>>,
    /// "starttls" (default; the upgrade is required), "tls" (implicit TLS), or
    /// "none" (no encryption; only for a relay on 127.0.0.1, ::1 or localhost).
    pub security: Option<Spanned<String>>,
    /// SMTP connections used at once by one dispatcher (1–16, default 1).
    pub connections: Option<Spanned<i64>>,
    /// Login name. Required when a password source is given.
    pub username: Option<Spanned<String>>,
    /// Path of a file holding the password (first line).
    pub password_file: Option<Spanned<String>>,
    /// Name of an environment variable holding the password.
    pub password_env: Option<Spanned<String>>,
    /// Name of a systemd credential (`LoadCredential=`), read from `$CREDENTIALS_DIRECTORY`.
    pub password_credential: Option<Spanned<String>>,
    /// Rejected: a literal password. Only its position is kept, never its value.
    pub password: Option<Spanned<IgnoredAny>>,
}

/// `[intake]`: the IMAP mailbox where units' replies to the notices
/// arrive. Absent: no mailbox is watched. The password is never written in
/// the file: give exactly one of `password_file`, `password_env`,
/// `password_credential`, as for `[mail.smtp]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIntake {
    /// IMAP server host name. Required.
    pub host: Option<Spanned<String>>,
    /// Port. Default 993 with "tls", 143 with "none".
    pub port: Option<Spanned<i64>>,
    /// "tls" (default: implicit TLS) or "none" (only for a server on
    /// 127.0.0.1, ::1 or localhost).
    pub security: Option<Spanned<String>>,
    /// Login name. Required.
    pub username: Option<Spanned<String>>,
    /// Path of a file holding the password (first line).
    pub password_file: Option<Spanned<String>>,
    /// Name of an environment variable holding the password.
    pub password_env: Option<Spanned<String>>,
    /// Name of a systemd credential (`LoadCredential=`).
    pub password_credential: Option<Spanned<String>>,
    /// Rejected: a literal password. Only its position is kept.
    pub password: Option<Spanned<IgnoredAny>>,
    /// The mailbox (folder) watched, printable ASCII. Default "INBOX".
    pub mailbox: Option<Spanned<String>>,
    /// The folder a processed message is moved to. Absent: the message is
    /// only marked as seen where it is.
    pub move_to: Option<Spanned<String>>,
    /// Seconds between two looks at the mailbox when the server does not
    /// offer IDLE (10–3600, default 60).
    pub poll_secs: Option<Spanned<i64>>,
    /// Largest message accepted, in MB (1–100, default 25); a larger one is
    /// refused and the unit told so.
    pub max_message_mb: Option<Spanned<i64>>,
    /// Most attachments in one message (1–100, default 20).
    pub max_attachments: Option<Spanned<i64>>,
}

/// `[calendar]`: adjustments to the built-in Vietnamese calendar.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalendar {
    /// Whether a make-up working Saturday counts as a working day for deadlines. Default false.
    pub makeup_saturday_counts: Option<Spanned<bool>>,
    /// Vietnam Culture Day (24/11) as a paid holiday from 2026. Default true.
    pub culture_day: Option<Spanned<bool>>,
    /// `[[calendar.days_off]]`: extra days off.
    #[serde(default)]
    pub days_off: Vec<Spanned<RawDay>>,
    /// `[[calendar.working_days]]`: extra working days (make-up Saturdays).
    #[serde(default)]
    pub working_days: Vec<Spanned<RawDay>>,
}

/// One configured day, or a run of days with `until`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDay {
    /// The day, "dd/mm/yyyy" or "yyyy-mm-dd". Required.
    pub date: Option<Spanned<String>>,
    /// Last day of a run of days (inclusive). Optional.
    pub until: Option<Spanned<String>>,
    /// Why (shown in calendars and notices). Required.
    pub reason: Option<Spanned<String>>,
}

/// `[[directive]]`: the document that sets reporting duties (a công văn,
/// quyết định, kế hoạch ...), and who speaks for it in the notices.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDirective {
    /// Directive id, e.g. "cv4040"; obligations name it in `directive`. Required.
    pub id: Option<Spanned<String>>,
    /// Kind of document: "Công văn", "Quyết định", "Kế hoạch" ... Required.
    pub kind: Option<Spanned<String>>,
    /// Its number and symbol, e.g. "4040/UBND-KGVX". Required.
    pub number: Option<Spanned<String>>,
    /// Its date, "dd/mm/yyyy". Required.
    pub date: Option<Spanned<String>>,
    /// Who issued it, e.g. "UBND tỉnh Quảng Ngãi". Required.
    pub issuer: Option<Spanned<String>>,
    /// What it is about (trích yếu), without "V/v". Optional.
    pub about: Option<Spanned<String>>,
    /// `[directive.sender]`: who speaks in the notices. Required.
    pub sender: Option<Spanned<RawSender>>,
    /// `[directive.contact]`: whom readers call. Required.
    pub contact: Option<Spanned<RawContact>>,
    /// `[directive.submission]`: where and how a report is sent. Required.
    pub submission: Option<Spanned<RawSubmission>>,
}

/// `[directive.sender]` / `[obligation.sender]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSender {
    /// The coordinating body: a unit id (its name is used). Required.
    pub agency: Option<Spanned<String>>,
    /// The office in charge inside it, e.g. "Phòng Trẻ em - Bình đẳng giới". Optional.
    pub office: Option<Spanned<String>>,
}

/// `[directive.contact]` / `[obligation.contact]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContact {
    /// E.g. "Bà Nguyễn Thị Hoa". Required.
    pub name: Option<Spanned<String>>,
    /// Position, e.g. "Chuyên viên Phòng Trẻ em - Bình đẳng giới". Optional.
    pub title: Option<Spanned<String>>,
    /// Phone number. At least one of `phone` and `email`.
    pub phone: Option<Spanned<String>>,
    pub email: Option<Spanned<String>>,
}

/// `[directive.submission]` / `[obligation.submission]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubmission {
    /// To which body (and office) the report goes. Required.
    pub to: Option<Spanned<String>>,
    /// Through which channel: the document system, an address, paper ... Required.
    pub how: Option<Spanned<String>>,
}

/// `[[group]]`: a named set of units, usable wherever a unit list is expected.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    /// Group id, shares the namespace of unit ids. Required.
    pub id: Option<Spanned<String>>,
    /// Human name, e.g. "Các sở, ban ngành tỉnh".
    pub name: Option<Spanned<String>>,
    /// Member unit ids (units can also join with their own `groups` key).
    #[serde(default)]
    pub members: Vec<Spanned<String>>,
}

/// `[[unit]]`: an agency that reports, receives or supervises.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUnit {
    /// Unit id, e.g. "so-ldtbxh". Required.
    pub id: Option<Spanned<String>>,
    /// Official name, e.g. "Sở Lao động - Thương binh và Xã hội". Required.
    pub name: Option<Spanned<String>>,
    /// Official mailbox(es): a string or a list of strings. Required for a
    /// unit that reports, unless `emailed = false`.
    pub email: Option<Spanned<OneOrMany>>,
    /// `false`: the unit has no mailbox on purpose and gets no mail (its
    /// reports are followed on the dashboard or by phone). Default true.
    pub emailed: Option<Spanned<bool>>,
    /// The head of the unit: `{ name = "...", email = "..." }`.
    pub head: Option<Spanned<RawPerson>>,
    /// Group ids this unit belongs to.
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
    /// Unit id that receives this unit's escalations (cấp trên).
    pub supervisor: Option<Spanned<String>>,
    /// Unit id of the People's Council it reports to (HĐND cùng cấp).
    pub council: Option<Spanned<String>>,
    /// First day the unit exists, inclusive.
    pub active_from: Option<Spanned<String>>,
    /// Last day the unit exists, inclusive.
    pub active_until: Option<Spanned<String>>,
    /// Unit id that takes over after `active_until`.
    pub successor: Option<Spanned<String>>,
}

/// `head = { name = "...", email = "..." }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPerson {
    pub name: Option<Spanned<String>>,
    pub email: Option<Spanned<String>>,
}

/// `[[obligation]]`: one reporting duty.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObligation {
    /// Obligation id, e.g. "nq121-6thang"; also the period key of a one-off. Required.
    pub id: Option<Spanned<String>>,
    /// Title used in notices. Required.
    pub title: Option<Spanned<String>>,
    /// A short title for subjects, e.g. "Báo cáo NQ 121". Optional.
    pub short_title: Option<Spanned<String>>,
    /// The `[[directive]]` id this duty comes from; optional when exactly one exists.
    pub directive: Option<Spanned<String>>,
    /// `[obligation.sender]`: replaces the directive's for this duty.
    pub sender: Option<Spanned<RawSender>>,
    /// `[obligation.contact]`: replaces the directive's for this duty.
    pub contact: Option<Spanned<RawContact>>,
    /// `[obligation.submission]`: replaces the directive's for this duty.
    pub submission: Option<Spanned<RawSubmission>>,
    /// Legal basis, e.g. "Công văn 4040/UBND-KGVX ngày 28/8/2020".
    pub legal_basis: Option<Spanned<String>>,
    /// Reporting unit ids and/or group ids. Required, not empty.
    pub reporters: Option<Spanned<Vec<Spanned<String>>>>,
    /// A unit id, "reporter.council" (each reporter's own People's Council) or
    /// "reporter.supervisor" (each reporter's supervisor). Required.
    pub recipient: Option<Spanned<String>>,
    /// "daily", "daily-all-days", "weekly", "ten-day", "fifteen-day",
    /// "monthly", "quarterly", "six-monthly", "six-monthly-first-half",
    /// "nine-monthly", "annual" or "once" (or a Vietnamese alias). Required.
    pub cycle: Option<Spanned<String>>,
    /// One-off only: first day of the period covered (optional).
    pub period_start: Option<Spanned<String>>,
    /// One-off only: last day of the period covered (default: the due date).
    pub period_end: Option<Spanned<String>>,
    /// "calendar" (default; 1/1–30/6 ...) or "decree09" (15th of the previous month to the 14th).
    pub window: Option<Spanned<String>>,
    /// Due rule: "5 ngày làm việc", "10 ngày", "ngày 20", "ngày 5 tháng sau",
    /// "ngày 15 tháng đầu quý sau", "25/11", "thứ Năm" (weekly), or for a
    /// one-off a date "15/10/2026"; with an optional time and "chậm nhất" /
    /// "trước" ("trước 16 giờ 00 thứ Năm"). Required.
    pub due: Option<Spanned<String>>,
    /// `[obligation.overrides]`: period key -> due date, e.g. `"2026-H1" = "18/06/2026"`.
    pub overrides: Option<Spanned<BTreeMap<Spanned<String>, Spanned<String>>>>,
    /// Civil Code 148.5: move a due day that is not a working day to the next working day. Default true.
    pub roll_to_working_day: Option<Spanned<bool>>,
    /// Offsets before the deadline, e.g. ["5 ngày làm việc", "1 ngày làm việc"].
    #[serde(default)]
    pub reminders: Vec<Spanned<String>>,
    /// `[[obligation.escalation]]`: stages after the deadline.
    #[serde(default)]
    pub escalation: Vec<Spanned<RawStage>>,
    /// First day the duty applies, inclusive (e.g. the date of the letter).
    pub active_from: Option<Spanned<String>>,
    /// Last day the duty applies, inclusive.
    pub active_until: Option<Spanned<String>>,
    /// Ids of obligations this compiled report waits for.
    #[serde(default)]
    pub depends_on: Vec<Spanned<String>>,
}

/// One escalation stage.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    /// Delay after the deadline: "1 ngày làm việc", "0 ngày" (the morning after the due day). Required.
    pub after: Option<Spanned<String>>,
    /// Among "unit", "head", "supervisor", "recipient" and email addresses. Required, not empty.
    #[serde(default)]
    pub notify: Vec<Spanned<String>>,
    /// `repeat = { every = "5 ngày làm việc", limit = 3 }`.
    pub repeat: Option<Spanned<RawRepeat>>,
}

/// Repeat a stage.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRepeat {
    /// Interval between repeats. Required.
    pub every: Option<Spanned<String>>,
    /// Number of repeats after the first notice, 1–100. Required.
    pub limit: Option<Spanned<i64>>,
}

/// A string or a list of strings (`email = "a@x"` or `email = ["a@x", "b@x"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V)
    }
}
