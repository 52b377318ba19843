//! Templates and message composition: a [`Notice`] becomes an [`Outgoing`]
//! message (headers, text and HTML parts, the .ics attachment).
//!
//! Templates are minijinja with strict undefined; `.html` templates are
//! auto-escaped so configuration text (unit names, titles) cannot inject
//! markup. Vietnamese and English defaults are built into the binary; a file
//! with the same relative name (`vi/reminder.html`) in the override directory
//! replaces the built-in one. Override files are read once, when [`Templates`]
//! is loaded (at start and on reload), never while sending.
//!
//! No network and no clock here: the sending instant comes from the notice.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use lettre::message::Mailbox;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use super::ics;
use super::ids;
use super::mime;
use super::notice::{
    Addressee, Deadline, Digest, Escalation, Language, LateUnit, Notice, NoticeKind, ObligationRef,
    PastNotice, PeriodRef, Register, Role, Section, Speaker, Standing, UnitRef,
};
use crate::config::model::Mail;

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("templates/", $name)))),*]
    };
}

/// Every built-in template, by relative name.
const BUILTIN: &[(&str, &str)] = builtin!(
    "vi/layout.html",
    "vi/letter.txt",
    "vi/letter.html",
    "vi/deadline.txt",
    "vi/deadline.html",
    "vi/reminder.subject",
    "vi/reminder.txt",
    "vi/reminder.html",
    "vi/due_today.subject",
    "vi/due_today.txt",
    "vi/due_today.html",
    "vi/overdue.subject",
    "vi/overdue.txt",
    "vi/overdue.html",
    "vi/escalation.subject",
    "vi/escalation.txt",
    "vi/escalation.html",
    "vi/digest.subject",
    "vi/digest.txt",
    "vi/digest.html",
    "vi/test.subject",
    "vi/test.txt",
    "vi/test.html",
    "en/layout.html",
    "en/letter.txt",
    "en/letter.html",
    "en/deadline.txt",
    "en/deadline.html",
    "en/reminder.subject",
    "en/reminder.txt",
    "en/reminder.html",
    "en/due_today.subject",
    "en/due_today.txt",
    "en/due_today.html",
    "en/overdue.subject",
    "en/overdue.txt",
    "en/overdue.html",
    "en/escalation.subject",
    "en/escalation.txt",
    "en/escalation.html",
    "en/digest.subject",
    "en/digest.txt",
    "en/digest.html",
    "en/test.subject",
    "en/test.txt",
    "en/test.html",
);

/// A template problem, pointing at the file the administrator can fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The override file's path, or `built-in:vi/reminder.txt`.
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for TemplateError {}

/// The loaded template set (built-ins plus overrides). Cheap to clone.
#[derive(Clone)]
pub struct Templates {
    env: Arc<Environment<'static>>,
    /// Relative name -> where it came from (for error messages).
    origins: Arc<BTreeMap<String, String>>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates")
            .field("templates", &self.origins.len())
            .finish()
    }
}

/// `{{ due|date }}`: an ISO date (`2026-06-20`) as `20/06/2026`. The result
/// is our own digits and slashes, so it is marked safe (no `&#x2f;` in HTML).
fn date_filter(value: String) -> Result<Value, minijinja::Error> {
    let d: Date = value.parse().map_err(|e| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("`date` filter: {value:?} is not a date (YYYY-MM-DD): {e}"),
        )
    })?;
    Ok(Value::from_safe_string(dd_mm_yyyy(d)))
}

/// `{{ due|weekday }}`: the day of the week of an ISO date, in Vietnamese
/// ("thứ Năm", "Chủ nhật") or, with `weekday("en")`, in English.
fn weekday_filter(value: String, lang: Option<String>) -> Result<Value, minijinja::Error> {
    let d: Date = value.parse().map_err(|e| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("`weekday` filter: {value:?} is not a date (YYYY-MM-DD): {e}"),
        )
    })?;
    let en = lang.as_deref() == Some("en");
    Ok(Value::from(weekday_name(d, en)))
}

/// The day of the week, "thứ Hai" … "Chủ nhật" (or "Monday" … "Sunday").
pub fn weekday_name(d: Date, en: bool) -> &'static str {
    use jiff::civil::Weekday::*;
    match (d.weekday(), en) {
        (Monday, false) => "thứ Hai",
        (Tuesday, false) => "thứ Ba",
        (Wednesday, false) => "thứ Tư",
        (Thursday, false) => "thứ Năm",
        (Friday, false) => "thứ Sáu",
        (Saturday, false) => "thứ Bảy",
        (Sunday, false) => "Chủ nhật",
        (Monday, true) => "Monday",
        (Tuesday, true) => "Tuesday",
        (Wednesday, true) => "Wednesday",
        (Thursday, true) => "Thursday",
        (Friday, true) => "Friday",
        (Saturday, true) => "Saturday",
        (Sunday, true) => "Sunday",
    }
}

fn parse_iso(value: &str, filter: &str) -> Result<Date, minijinja::Error> {
    value.parse().map_err(|e| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("`{filter}` filter: {value:?} is not a date (YYYY-MM-DD): {e}"),
        )
    })
}

/// `{{ days|dates }}`: a list of ISO dates in words, "11/06, 17/06 và
/// 19/06/2026" when they share a year (the year once, at the end), else
/// each in full; `dates("en")` joins with "and".
fn dates_filter(values: Vec<String>, lang: Option<String>) -> Result<Value, minijinja::Error> {
    let days = values
        .iter()
        .map(|v| parse_iso(v, "dates"))
        .collect::<Result<Vec<Date>, _>>()?;
    let same_year = days.windows(2).all(|w| w[0].year() == w[1].year());
    let n = days.len();
    let shown: Vec<String> = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            if same_year && i + 1 < n {
                format!("{:02}/{:02}", d.day(), d.month())
            } else {
                dd_mm_yyyy(*d)
            }
        })
        .collect();
    Ok(Value::from_safe_string(and_list(
        &shown,
        lang.as_deref() == Some("en"),
    )))
}

/// "A", "A và B", "A, B và C" (or with "and").
pub fn and_list(items: &[String], en: bool) -> String {
    let and = if en { " and " } else { " và " };
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{}{and}{last}", init.join(", ")),
    }
}

/// `{{ names|and_list }}` / `and_list("en")`.
fn and_list_filter(values: Vec<String>, lang: Option<String>) -> String {
    and_list(&values, lang.as_deref() == Some("en"))
}

/// `{{ text|fit(n) }}`: cut at a word boundary to at most n characters.
fn fit_filter(value: String, n: usize) -> String {
    super::notice::cut(&value, n)
}

/// The longest subject, in characters: what an inbox list shows.
pub const MAX_SUBJECT: usize = 100;

/// A date as dd/mm/yyyy, as Vietnamese readers expect.
pub fn dd_mm_yyyy(d: Date) -> String {
    format!("{:02}/{:02}/{:04}", d.day(), d.month(), d.year())
}

/// Known template files under `dir`, and errors for unreadable directories
/// and unknown file names.
fn override_files(dir: &Path) -> (Vec<(String, PathBuf)>, Vec<TemplateError>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    if !dir.is_dir() {
        errors.push(TemplateError {
            file: dir.display().to_string(),
            line: None,
            message: "the template directory (mail.templates) does not exist or is not a directory"
                .into(),
        });
        return (found, errors);
    }
    for lang in ["vi", "en"] {
        let sub = dir.join(lang);
        let entries = match std::fs::read_dir(&sub) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                errors.push(TemplateError {
                    file: sub.display().to_string(),
                    line: None,
                    message: format!("cannot read the template directory: {e}"),
                });
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_file() {
                continue;
            }
            let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let name = format!("{lang}/{file_name}");
            if BUILTIN.iter().any(|(n, _)| *n == name) {
                found.push((name, path));
            } else if !file_name.starts_with('.') && !file_name.ends_with('~') {
                errors.push(TemplateError {
                    file: path.display().to_string(),
                    line: None,
                    message: format!(
                        "not a hanbao template name; expected one of: {}",
                        BUILTIN
                            .iter()
                            .filter(|(n, _)| n.starts_with(lang))
                            .map(|(n, _)| &n[3..])
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
    }
    (found, errors)
}

impl Templates {
    /// Only the built-in templates.
    pub fn builtin() -> Templates {
        Templates::load(None).expect("built-in templates parse (checked by tests)")
    }

    /// Built-ins, with files from `dir` (`dir/vi/*.txt|html|subject`,
    /// `dir/en/...`) replacing those with the same name. Syntax errors and
    /// unknown file names are all reported, with file and line.
    pub fn load(dir: Option<&Path>) -> Result<Templates, Vec<TemplateError>> {
        let mut sources: BTreeMap<String, (String, String)> = BUILTIN
            .iter()
            .map(|(n, s)| (n.to_string(), (s.to_string(), format!("built-in:{n}"))))
            .collect();
        let mut errors = Vec::new();
        if let Some(dir) = dir {
            let (files, mut problems) = override_files(dir);
            errors.append(&mut problems);
            for (name, path) in files {
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        sources.insert(name, (text, path.display().to_string()));
                    }
                    Err(e) => errors.push(TemplateError {
                        file: path.display().to_string(),
                        line: None,
                        message: format!("cannot read: {e}"),
                    }),
                }
            }
        }

        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()
                .expect("default delimiters are valid"),
        );
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.add_filter("date", date_filter);
        env.add_filter("weekday", weekday_filter);
        env.add_filter("dates", dates_filter);
        env.add_filter("and_list", and_list_filter);
        env.add_filter("fit", fit_filter);
        let mut origins = BTreeMap::new();
        for (name, (source, origin)) in sources {
            if let Err(e) = env.add_template_owned(name.clone(), source) {
                errors.push(TemplateError {
                    file: origin.clone(),
                    line: e.line(),
                    message: e.detail().unwrap_or("syntax error").to_string(),
                });
            }
            origins.insert(name, origin);
        }
        if errors.is_empty() {
            Ok(Templates {
                env: Arc::new(env),
                origins: Arc::new(origins),
            })
        } else {
            Err(errors)
        }
    }

    fn error(&self, name: &str, e: &minijinja::Error) -> TemplateError {
        // Point at the innermost template that failed (an include or layout).
        let failing = e.name().unwrap_or(name);
        let file = self
            .origins
            .get(failing)
            .cloned()
            .unwrap_or_else(|| failing.to_string());
        let mut message = e.detail().unwrap_or_default().to_string();
        if message.is_empty() {
            message = e.kind().to_string();
        } else {
            message = format!("{}: {message}", e.kind());
        }
        TemplateError {
            file,
            line: e.line(),
            message,
        }
    }

    fn render_one(&self, name: &str, ctx: &Value) -> Result<String, TemplateError> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| self.error(name, &e))?;
        tmpl.render(ctx.clone()).map_err(|e| self.error(name, &e))
    }

    /// Subject, text and HTML for a notice.
    pub fn render(&self, notice: &Notice, from: &str) -> Result<RenderedParts, TemplateError> {
        let ctx = context(notice, from);
        let base = format!("{}/{}", notice.language.code(), notice.kind.name());
        let subject = self.render_one(&format!("{base}.subject"), &ctx)?;
        // A subject is one line: fold any newlines an override introduced;
        // and it fits an inbox list.
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        let subject = super::notice::cut(&subject, MAX_SUBJECT);
        let text = self.render_one(&format!("{base}.txt"), &ctx)?;
        let html = self.render_one(&format!("{base}.html"), &ctx)?;
        Ok(RenderedParts {
            subject,
            text,
            html,
        })
    }
}

/// The rendered texts of one notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedParts {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn opt(s: &Option<String>) -> Value {
    match s {
        Some(s) => Value::from(s.as_str()),
        None => Value::from(()),
    }
}

/// How a report is named in Vietnamese prose: its title when the title
/// begins with "Báo cáo", else "báo cáo" and the title (never "báo cáo
/// Báo cáo ...").
pub fn named_report(title: &str) -> String {
    let lower = title.to_lowercase();
    if lower.starts_with("báo cáo") || lower.starts_with("bao cao") {
        title.to_string()
    } else {
        format!("báo cáo {title}")
    }
}

fn obligation_value(o: &ObligationRef) -> Value {
    Value::from_pairs([
        ("id", Value::from(o.id.as_str())),
        ("title", Value::from(o.title.as_str())),
        ("short", Value::from(o.short.as_str())),
        ("named", Value::from(named_report(&o.title))),
        ("legal_basis", opt(&o.legal_basis)),
    ])
}

fn period_value(p: &PeriodRef) -> Value {
    Value::from_pairs([
        ("key", Value::from(p.key.as_str())),
        ("label", Value::from(p.label.as_str())),
    ])
}

fn speaker_value(s: &Speaker) -> Value {
    let contact = match &s.contact {
        Some(c) => Value::from_pairs([
            ("name", Value::from(c.name.as_str())),
            ("title", opt(&c.title)),
            ("phone", opt(&c.phone)),
            ("email", opt(&c.email)),
        ]),
        None => Value::from(()),
    };
    let basis = match &s.basis {
        Some(b) => Value::from_pairs([
            ("kind", Value::from(b.kind.as_str())),
            ("number", Value::from(b.number.as_str())),
            ("date", Value::from(b.date.to_string())),
            ("issuer", Value::from(b.issuer.as_str())),
            ("about", opt(&b.about)),
        ]),
        None => Value::from(()),
    };
    Value::from_pairs([
        ("agency", Value::from(s.agency.as_str())),
        ("office", opt(&s.office)),
        ("contact", contact),
        ("submit_to", opt(&s.submit_to)),
        ("submit_how", opt(&s.submit_how)),
        ("basis", basis),
    ])
}

fn names_value(names: &[String]) -> Value {
    Value::from_iter(names.iter().map(|n| Value::from(n.as_str())))
}

fn deadline_pairs(d: &Deadline, pairs: &mut Vec<(&'static str, Value)>) {
    pairs.push(("obligation", obligation_value(&d.obligation)));
    pairs.push(("period", period_value(&d.period)));
    pairs.push(("unit", unit_value(&d.unit)));
    pairs.push(("due", Value::from(d.due.to_string())));
    pairs.push(("as_of", Value::from(d.as_of.to_string())));
    pairs.push(("days_left", Value::from(d.days_left)));
    pairs.push(("working_days_left", Value::from(d.working_days_left)));
    pairs.push(("days_late", Value::from(d.days_late)));
    pairs.push(("working_days_late", Value::from(d.working_days_late)));
    pairs.push(("stage", Value::from(d.stage)));
    pairs.push(("speaker", speaker_value(&d.speaker)));
    pairs.push(("register", Value::from(d.register.as_str())));
    pairs.push(("recipient_name", opt(&d.recipient_name)));
    pairs.push((
        "dependencies",
        Value::from_iter(d.dependencies.iter().map(standing_value)),
    ));
    pairs.push((
        "history",
        Value::from_iter(d.history.iter().map(past_value)),
    ));
    pairs.push((
        "informed",
        Value::from_iter(d.informed.iter().map(past_value)),
    ));
    pairs.push(("informing", names_value(&d.informing)));
    pairs.push(("confirm_url", opt(&d.confirm_url)));
}

fn escalation_pairs(e: &Escalation, pairs: &mut Vec<(&'static str, Value)>) {
    pairs.push(("speaker", speaker_value(&e.speaker)));
    pairs.push(("addressee", Value::from(e.addressee.as_str())));
    pairs.push(("register", Value::from(e.register.as_str())));
    pairs.push(("as_of", Value::from(e.as_of.to_string())));
    pairs.push((
        "late_total",
        Value::from(
            e.sections
                .iter()
                .map(|s| s.standing.late.len())
                .sum::<usize>(),
        ),
    ));
    pairs.push((
        "sections",
        Value::from_iter(e.sections.iter().map(|s| {
            Value::from_pairs([
                ("role", Value::from(s.role.as_str())),
                ("standing", standing_value(&s.standing)),
                ("recipient_name", opt(&s.recipient_name)),
                (
                    "dependencies",
                    Value::from_iter(s.dependencies.iter().map(standing_value)),
                ),
            ])
        })),
    ));
}

fn unit_value(u: &super::notice::UnitRef) -> Value {
    Value::from_pairs([
        ("id", Value::from(u.id.as_str())),
        ("name", Value::from(u.name.as_str())),
    ])
}

fn past_value(p: &PastNotice) -> Value {
    Value::from_pairs([
        ("kind", Value::from(p.kind)),
        ("on", Value::from(p.on.to_string())),
        ("to", opt(&p.to)),
    ])
}

fn late_value(l: &LateUnit) -> Value {
    Value::from_pairs([
        ("unit", unit_value(&l.unit)),
        ("due", Value::from(l.due.to_string())),
        ("days_late", Value::from(l.days_late)),
        ("working_days_late", Value::from(l.working_days_late)),
        (
            "notices",
            Value::from_iter(l.notices.iter().map(past_value)),
        ),
    ])
}

fn standing_value(s: &Standing) -> Value {
    Value::from_pairs([
        ("obligation", obligation_value(&s.obligation)),
        ("period", period_value(&s.period)),
        ("due", Value::from(s.due.to_string())),
        ("expected", Value::from(s.expected)),
        ("submitted", Value::from(s.submitted)),
        ("submitted_late", Value::from(s.submitted_late)),
        ("waived", Value::from(s.waived)),
        ("late", Value::from_iter(s.late.iter().map(late_value))),
    ])
}

fn digest_pairs(d: &Digest, pairs: &mut Vec<(&'static str, Value)>) {
    pairs.push(("as_of", Value::from(d.as_of.to_string())));
    pairs.push(("speaker", speaker_value(&d.speaker)));
    pairs.push(("coordinator", opt(&d.coordinator)));
    pairs.push((
        "overdue",
        Value::from_iter(d.overdue.iter().map(standing_value)),
    ));
    pairs.push((
        "overdue_units",
        Value::from(d.overdue.iter().map(|s| s.late.len()).sum::<usize>()),
    ));
    pairs.push((
        "upcoming",
        Value::from_iter(d.upcoming.iter().map(standing_value)),
    ));
    pairs.push((
        "failed_sends",
        Value::from_iter(d.failed_sends.iter().map(|f| {
            Value::from_pairs([
                ("recipient", Value::from(f.recipient.as_str())),
                ("kind", Value::from(f.kind.as_str())),
                ("unit_name", Value::from(f.unit_name.as_str())),
                ("obligation", obligation_value(&f.obligation)),
                ("period", period_value(&f.period)),
                ("on", Value::from(f.on.to_string())),
                ("reason", Value::from(f.reason.as_str())),
            ])
        })),
    ));
    pairs.push(("dashboard_url", opt(&d.dashboard_url)));
}

/// The template context. Dates are ISO strings; templates format them with `|date`.
fn context(notice: &Notice, from: &str) -> Value {
    let mut pairs: Vec<(&'static str, Value)> = vec![
        ("lang", Value::from(notice.language.code())),
        ("kind", Value::from(notice.kind.name())),
        ("from", Value::from(from)),
        (
            "sent_at",
            Value::from(notice.sent_at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()),
        ),
        (
            "recipients",
            Value::from_iter(notice.recipients.iter().map(|r| {
                Value::from_pairs([
                    ("address", Value::from(r.address.as_str())),
                    ("name", opt(&r.name)),
                ])
            })),
        ),
    ];
    match &notice.kind {
        NoticeKind::Reminder(d) | NoticeKind::DueToday(d) | NoticeKind::Overdue(d) => {
            deadline_pairs(d, &mut pairs)
        }
        NoticeKind::Escalation(e) => escalation_pairs(e, &mut pairs),
        NoticeKind::Digest(d) => digest_pairs(d, &mut pairs),
        NoticeKind::Test => {}
    }
    Value::from_pairs(pairs)
}

/// Why a notice could not be turned into a message. Retrying does not help:
/// the dispatcher marks the row failed (see `SendError::from`).
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("mail.from {value:?} is not a valid mailbox: {reason}")]
    From { value: String, reason: String },
    #[error("mail.reply_to {value:?} is not a valid mailbox: {reason}")]
    ReplyTo { value: String, reason: String },
    #[error("invalid recipient address {address:?}: {reason}")]
    InvalidAddress { address: String, reason: String },
    #[error("the notice has no recipients")]
    NoRecipients,
    #[error("template {0}")]
    Template(#[from] TemplateError),
    #[error("cannot build the message: {0}")]
    Build(String),
}

/// A message ready for a transport.
#[derive(Clone)]
pub struct Outgoing {
    pub(crate) envelope: lettre::address::Envelope,
    /// The formatted message, built once at compose time and reused by
    /// every send attempt.
    pub(crate) bytes: Arc<[u8]>,
    message_id: String,
    subject: String,
    recipients: Vec<String>,
}

impl fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outgoing")
            .field("message_id", &self.message_id)
            .field("subject", &self.subject)
            .field("recipients", &self.recipients)
            .finish()
    }
}

impl Outgoing {
    /// With angle brackets, e.g. `<3f…a1.hanbao@so.example>`.
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// The subject as rendered (before RFC 2047 encoding).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Envelope recipients.
    pub fn recipients(&self) -> &[String] {
        &self.recipients
    }

    /// The whole message as it goes on the wire (CRLF line ends, 7-bit).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Parse `Name <addr>`, `"Name" <addr>` or a bare address.
pub(crate) fn parse_mailbox(s: &str) -> Result<Mailbox, String> {
    let s = s.trim();
    if let (Some(open), true) = (s.rfind('<'), s.ends_with('>')) {
        let name = s[..open].trim();
        // `"Name"`: one pair of quotes around the whole name, with `\"` and
        // `\\` inside; quotes elsewhere are part of the name.
        let name = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
            Some(quoted) => {
                let mut out = String::with_capacity(quoted.len());
                let mut chars = quoted.chars();
                while let Some(c) = chars.next() {
                    out.push(if c == '\\' {
                        chars.next().unwrap_or(c)
                    } else {
                        c
                    });
                }
                out
            }
            None => name.to_string(),
        };
        let name = name.trim();
        let addr = s[open + 1..s.len() - 1].trim();
        let addr = addr.parse().map_err(|e| format!("{e}"))?;
        let name = (!name.is_empty()).then(|| name.to_string());
        Ok(Mailbox::new(name, addr))
    } else {
        Ok(Mailbox::new(None, s.parse().map_err(|e| format!("{e}"))?))
    }
}

fn addressee_mailbox(a: &Addressee) -> Result<Mailbox, ComposeError> {
    let addr = a
        .address
        .trim()
        .parse()
        .map_err(|e| ComposeError::InvalidAddress {
            address: a.address.clone(),
            reason: format!("{e}"),
        })?;
    Ok(Mailbox::new(a.name.clone(), addr))
}

/// The .ics SUMMARY, DESCRIPTION and alarm text of a notice's deadline.
fn ics_texts(notice: &Notice, d: &Deadline) -> (String, String, String) {
    let due = dd_mm_yyyy(d.due);
    let mut desc = Vec::new();
    match notice.language {
        Language::Vi => {
            let summary = format!("Hạn gửi {} kỳ {}", d.obligation.short, d.period.label);
            desc.push(format!("Đơn vị: {}", d.unit.name));
            desc.push(format!("Báo cáo: {}", d.obligation.title));
            desc.push(format!("Kỳ báo cáo: {}", d.period.label));
            desc.push(format!(
                "Thời hạn: chậm nhất hết ngày {}, {due}",
                weekday_name(d.due, false)
            ));
            if let Some(to) = &d.speaker.submit_to {
                desc.push(format!("Nơi nhận: {to}"));
            }
            if let Some(how) = &d.speaker.submit_how {
                desc.push(format!("Hình thức gửi: {how}"));
            }
            if let Some(b) = &d.obligation.legal_basis {
                desc.push(format!("Căn cứ: {b}"));
            }
            let alarm = format!(
                "Sắp đến hạn gửi {} kỳ {}",
                d.obligation.short, d.period.label
            );
            (summary, desc.join("\n"), alarm)
        }
        Language::En => {
            let summary = format!("Due: {}, {}", d.obligation.short, d.period.label);
            desc.push(format!("Unit: {}", d.unit.name));
            desc.push(format!("Report: {}", d.obligation.title));
            desc.push(format!("Period: {}", d.period.label));
            desc.push(format!(
                "Due: by the end of {}, {due}",
                weekday_name(d.due, true)
            ));
            if let Some(to) = &d.speaker.submit_to {
                desc.push(format!("Send to: {to}"));
            }
            if let Some(how) = &d.speaker.submit_how {
                desc.push(format!("How: {how}"));
            }
            if let Some(b) = &d.obligation.legal_basis {
                desc.push(format!("Legal basis: {b}"));
            }
            let alarm = format!(
                "Coming deadline: {}, {}",
                d.obligation.short, d.period.label
            );
            (summary, desc.join("\n"), alarm)
        }
    }
}

/// Turns notices into messages: templates plus the sender settings.
#[derive(Debug, Clone)]
pub struct Composer {
    templates: Templates,
    from: Mailbox,
    from_text: String,
    reply_to: Option<Mailbox>,
    domain: String,
    /// Signs the one-click confirmation links of reminder, due-day and
    /// overdue notices; `None`: no link (no `daemon.public_url` or no key).
    links: Option<crate::link::Links>,
}

impl Composer {
    pub fn new(mail: &Mail, templates: Templates) -> Result<Composer, ComposeError> {
        let from = parse_mailbox(&mail.from).map_err(|reason| ComposeError::From {
            value: mail.from.clone(),
            reason,
        })?;
        let reply_to = match &mail.reply_to {
            Some(r) => Some(parse_mailbox(r).map_err(|reason| ComposeError::ReplyTo {
                value: r.clone(),
                reason,
            })?),
            None => None,
        };
        let domain = from.email.domain().to_ascii_lowercase();
        Ok(Composer {
            templates,
            from_text: mail.from.clone(),
            from,
            reply_to,
            domain,
            links: None,
        })
    }

    /// Puts confirmation links into the notices this composer's caller
    /// builds (see [`Composer::confirm_url`]).
    pub fn with_links(mut self, links: Option<crate::link::Links>) -> Composer {
        self.links = links;
        self
    }

    /// The one-click confirmation URL for (obligation, period, unit) due on
    /// `due`, in a notice sent at `sent_at`, when links are on. Only for a
    /// unit's own notices (reminder, due today, overdue): an escalation's
    /// recipients are not the unit.
    pub fn confirm_url(
        &self,
        obligation: &str,
        period: &str,
        unit: &str,
        due: jiff::civil::Date,
        sent_at: Timestamp,
    ) -> Option<String> {
        self.links
            .as_ref()
            .map(|l| l.confirm_url(obligation, period, unit, due, sent_at))
    }

    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// The List-Id of a notice: per obligation for deadline notices, per kind otherwise.
    pub fn list_id(&self, notice: &Notice) -> String {
        let id = match notice.kind.deadline() {
            Some(d) => ids::label(&d.obligation.id),
            None => notice.kind.name().replace('_', "-"),
        };
        format!("<{}.hanbao.{}>", id, self.domain)
    }

    /// Render and assemble the message (see [`mime`]). Deterministic: same
    /// notice, same bytes.
    pub fn compose(&self, notice: &Notice) -> Result<Outgoing, ComposeError> {
        if notice.recipients.is_empty() {
            return Err(ComposeError::NoRecipients);
        }
        let parts = self.templates.render(notice, &self.from_text)?;
        let message_id = ids::message_id(&notice.outbox_key, &self.domain);

        let mut recipients = Vec::with_capacity(notice.recipients.len());
        let mut to = Vec::with_capacity(notice.recipients.len());
        for a in &notice.recipients {
            let mbox = addressee_mailbox(a)?;
            recipients.push(mbox.email.to_string());
            to.push(mbox);
        }
        let envelope = lettre::address::Envelope::new(
            Some(self.from.email.clone()),
            to.iter().map(|m| m.email.clone()).collect(),
        )
        .map_err(|e| ComposeError::Build(e.to_string()))?;

        let mut h = mime::Headers::with_capacity(1024 + 2 * (parts.text.len() + parts.html.len()));
        let from_email = self.from.email.to_string();
        h.mailboxes("From", [(self.from.name.as_deref(), from_email.as_str())]);
        h.mailboxes(
            "To",
            to.iter()
                .zip(&recipients)
                .map(|(m, e)| (m.name.as_deref(), e.as_str())),
        );
        if let Some(r) = &self.reply_to {
            h.mailboxes("Reply-To", [(r.name.as_deref(), r.email.as_ref())]);
        }
        h.text("Subject", &parts.subject);
        h.raw(
            "Date",
            &notice
                .sent_at
                .strftime("%a, %d %b %Y %H:%M:%S +0000")
                .to_string(),
        );
        h.raw("Message-ID", &message_id);
        h.raw("List-Id", &self.list_id(notice));
        // Keep automatic answers away from the Reply-To (the coordinator's
        // mailbox): RFC 3834 responders must not answer a message marked
        // Auto-Submitted; Exchange and Outlook obey X-Auto-Response-Suppress
        // (out-of-office and other auto-replies only: non-delivery reports
        // still come back, they say an address is dead); older vacation
        // programs look at Precedence (RFC 3834 section 2 lets them refuse
        // "bulk"; "list" would claim a mailing list).
        h.raw("Auto-Submitted", "auto-generated");
        h.raw("X-Auto-Response-Suppress", "OOF, AutoReply");
        h.raw("Precedence", "bulk");
        h.raw("X-Hanbao-Kind", notice.kind.name());
        if let Some(d) = notice.kind.deadline() {
            // For mail filters: the subject names the period in words.
            // Ids and keys are ASCII letters, digits, '-' and '_' once
            // validated; anything else is made so by `ids::label`.
            let token = |s: &str| {
                if !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    s.to_string()
                } else {
                    ids::label(s)
                }
            };
            h.raw("X-Hanbao-Obligation", &token(&d.obligation.id));
            h.raw("X-Hanbao-Period", &token(&d.period.key));
        }
        h.raw("User-Agent", concat!("hanbao/", env!("CARGO_PKG_VERSION")));
        let mut bytes = h.into_bytes();

        let alternatives = [
            mime::Leaf {
                content_type: "text/plain; charset=utf-8",
                disposition: None,
                body: parts.text.as_bytes(),
            },
            mime::Leaf {
                content_type: "text/html; charset=utf-8",
                disposition: None,
                body: parts.html.as_bytes(),
            },
        ];
        let seed = mime::seed(&message_id);
        // A calendar entry for a deadline still ahead: reminders and the
        // due-day notice, not an overdue notice.
        match notice.kind.calendar() {
            Some(d) => {
                let uid =
                    ids::calendar_uid(&d.obligation.id, &d.period.key, &d.unit.id, &self.domain);
                let (summary, description, alarm_text) = ics_texts(notice, d);
                let calendar = ics::render(&ics::CalendarEvent {
                    uid: &uid,
                    stamp: notice.sent_at,
                    due: d.due,
                    summary: &summary,
                    description: &description,
                    alarms: &d.alarms,
                    alarm_text: &alarm_text,
                });
                // `label` keeps ASCII letters, digits and '-' only.
                let file_name = format!(
                    "{}-{}.ics",
                    ids::label(&d.obligation.id),
                    ids::label(&d.period.key)
                );
                let content_type = format!(
                    "text/calendar; charset=utf-8; method=PUBLISH;\r\n name=\"{file_name}\""
                );
                let disposition = format!("attachment; filename=\"{file_name}\"");
                let attachment = mime::Leaf {
                    content_type: &content_type,
                    disposition: Some(&disposition),
                    body: calendar.as_bytes(),
                };
                mime::body_into(&mut bytes, seed, &alternatives, &[attachment]);
            }
            None => mime::body_into(&mut bytes, seed, &alternatives, &[]),
        }
        Ok(Outgoing {
            envelope,
            bytes: bytes.into(),
            message_id,
            subject: parts.subject,
            recipients,
        })
    }
}

/// Links signed with a fixed, public sample key: only for [`sample_notices`]
/// (a template that mangles a long URL with `&` shows up in `hanbao check`).
fn sample_links() -> crate::link::Links {
    let key =
        crate::link::LinkKey::new(b"hanbao-sample-key-not-a-secret!!".to_vec()).expect("32 bytes");
    crate::link::Links::new(
        "https://baocao.example.gov.vn/hanbao",
        key,
        jiff::tz::TimeZone::fixed(jiff::tz::offset(7)),
    )
}

/// The speaker of the samples: every part configured.
fn sample_speaker() -> Speaker {
    Speaker {
        agency: "Sở Mẫu".into(),
        office: Some("Phòng Mẫu".into()),
        contact: Some(super::notice::Contact {
            name: "Bà Nguyễn Thị Mẫu".into(),
            title: Some("Chuyên viên Phòng Mẫu".into()),
            phone: Some("0255 3000 000".into()),
            email: Some("mau@so.example".into()),
        }),
        submit_to: Some("Sở Mẫu (Phòng Mẫu)".into()),
        submit_how: Some("văn bản điện tử".into()),
        basis: Some(super::notice::Basis {
            kind: "Công văn".into(),
            number: "1/UBND-MAU".into(),
            date: jiff::civil::date(2020, 8, 28),
            issuer: "UBND tỉnh Mẫu".into(),
            about: Some("báo cáo mẫu".into()),
        }),
    }
}

/// Sample notices of every kind, every register and every reason an
/// escalation is sent, in both languages, with everything filled in and
/// with nothing optional: what [`check_templates`] renders, so a template
/// that fails on any branch shows in `hanbao check`.
pub fn sample_notices(now: Timestamp) -> Vec<Notice> {
    let obligation = ObligationRef {
        id: "mau-6thang".into(),
        title: "Báo cáo công tác 6 tháng".into(),
        short: "Báo cáo công tác".into(),
        legal_basis: Some("Nghị định 09/2019/NĐ-CP, Điều 12".into()),
    };
    let period = PeriodRef {
        key: "2026-H1".into(),
        label: "6 tháng đầu năm 2026".into(),
    };
    let due = jiff::civil::date(2026, 6, 22);
    let unit = UnitRef {
        id: "ubnd-xa-mau".into(),
        name: "UBND xã Mẫu".into(),
    };
    let sent = |y, m, d| PastNotice {
        kind: "reminder",
        on: jiff::civil::date(y, m, d),
        to: None,
    };
    let late = LateUnit {
        unit: unit.clone(),
        due,
        days_late: 2,
        working_days_late: 2,
        notices: vec![sent(2026, 6, 15), sent(2026, 6, 19)],
    };
    let standing = Standing {
        obligation: obligation.clone(),
        period: period.clone(),
        due,
        expected: 5,
        submitted: 3,
        submitted_late: 1,
        waived: 0,
        late: vec![late.clone()],
    };
    let mut full = Deadline::new(obligation.clone(), period.clone(), unit.clone(), due);
    full.as_of = jiff::civil::date(2026, 6, 24);
    full.days_left = 3;
    full.working_days_left = 3;
    full.days_late = 2;
    full.working_days_late = 2;
    full.stage = 2;
    full.speaker = sample_speaker();
    full.recipient_name = Some("UBND tỉnh Mẫu".into());
    full.dependencies = vec![standing.clone()];
    full.history = vec![sent(2026, 6, 15), sent(2026, 6, 19)];
    full.informed = vec![PastNotice {
        kind: "escalation",
        on: jiff::civil::date(2026, 6, 23),
        to: Some("UBND tỉnh Mẫu".into()),
    }];
    full.informing = vec!["Giám đốc Sở Mẫu".into()];
    full.confirm_url =
        Some(sample_links().confirm_url(&obligation.id, &period.key, &unit.id, due, now));
    full.alarms = vec![-3 * 1440 + 450, 450];
    let mut bare = Deadline::new(obligation.clone(), period.clone(), unit.clone(), due);
    bare.speaker.agency = "Sở Mẫu".into();
    bare.stage = 1;
    let mut kinds = Vec::new();
    for register in [Register::Peer, Register::Upward, Register::Internal] {
        let d = Deadline {
            register,
            ..full.clone()
        };
        kinds.push(NoticeKind::Reminder(d.clone()));
        kinds.push(NoticeKind::DueToday(d.clone()));
        kinds.push(NoticeKind::Overdue(d));
    }
    kinds.push(NoticeKind::Reminder(bare.clone()));
    kinds.push(NoticeKind::DueToday(bare.clone()));
    kinds.push(NoticeKind::Overdue(bare));
    let section = |role| Section {
        role,
        standing: standing.clone(),
        recipient_name: Some("UBND tỉnh Mẫu".into()),
        dependencies: vec![standing.clone()],
    };
    for register in [Register::Peer, Register::Upward, Register::Internal] {
        for roles in [
            vec![Role::Head],
            vec![Role::Supervisor],
            vec![Role::Recipient],
            vec![Role::Address],
            vec![Role::Supervisor, Role::Recipient],
        ] {
            kinds.push(NoticeKind::Escalation(Escalation {
                speaker: sample_speaker(),
                addressee: "UBND tỉnh Mẫu".into(),
                register,
                as_of: jiff::civil::date(2026, 6, 24),
                sections: roles.into_iter().map(section).collect(),
            }));
        }
    }
    kinds.push(NoticeKind::Escalation(Escalation {
        speaker: Speaker {
            agency: "Sở Mẫu".into(),
            ..Speaker::default()
        },
        addressee: "theodoi@so.example".into(),
        register: Register::Peer,
        as_of: due,
        sections: vec![Section {
            role: Role::Address,
            standing: standing.clone(),
            recipient_name: None,
            dependencies: vec![],
        }],
    }));
    kinds.push(NoticeKind::Digest(Digest {
        as_of: due,
        speaker: sample_speaker(),
        coordinator: Some("Bà Nguyễn Thị Mẫu".into()),
        overdue: vec![standing.clone()],
        upcoming: vec![Standing {
            late: vec![],
            waived: 1,
            ..standing.clone()
        }],
        failed_sends: vec![super::notice::FailedSend {
            recipient: "vanthu@xa.example".into(),
            kind: "overdue".into(),
            unit_name: "UBND xã Mẫu".into(),
            obligation: obligation.clone(),
            period: period.clone(),
            on: due,
            reason: "550 5.1.1 mailbox unavailable".into(),
        }],
        dashboard_url: Some("https://baocao.example.gov.vn/hanbao/dashboard".into()),
    }));
    kinds.push(NoticeKind::Digest(Digest {
        as_of: due,
        speaker: Speaker::default(),
        coordinator: None,
        overdue: vec![],
        upcoming: vec![],
        failed_sends: vec![],
        dashboard_url: None,
    }));
    kinds.push(NoticeKind::Test);
    let mut out = Vec::new();
    for language in [Language::Vi, Language::En] {
        for (i, kind) in kinds.iter().enumerate() {
            out.push(Notice {
                kind: kind.clone(),
                language,
                recipients: vec![Addressee::named("vanthu@xa.example", "Văn thư")],
                outbox_key: format!("sample|{}|{}|{i}", language.code(), kind.name()),
                sent_at: now,
            });
        }
    }
    out
}

/// Load the templates (with overrides from `dir`) and render every one
/// against sample data, so `hanbao check` catches a broken template before
/// the morning it is needed. Every error is returned, each with its file.
pub fn check_templates(dir: Option<&Path>) -> Result<(), Vec<TemplateError>> {
    let templates = Templates::load(dir)?;
    let now: Timestamp = "2026-06-19T01:00:00Z".parse().expect("valid instant");
    let mut errors: Vec<TemplateError> = Vec::new();
    for notice in sample_notices(now) {
        if let Err(e) = templates.render(&notice, "hanbao <hanbao@example.org>")
            && !errors.contains(&e)
        {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Every problem of a template set; displayed one per line, each with its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct TemplateErrors(pub Vec<TemplateError>);

impl Templates {
    /// The templates `[mail]` asks for (built-ins, with the files of
    /// `mail.templates` replacing them), after [`check_templates`] rendered
    /// every one against sample data: what `run`, `simulate` and `send-test`
    /// use, so a broken override stops them at start (or a reload) instead
    /// of failing a send.
    pub fn configured(mail: &Mail) -> Result<Templates, TemplateErrors> {
        let dir = mail.templates.as_deref();
        check_templates(dir).map_err(TemplateErrors)?;
        Templates::load(dir).map_err(TemplateErrors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::{LinkKey, Links};

    fn links() -> Links {
        Links::new(
            "https://bc.example/",
            LinkKey::new(vec![3; 32]).unwrap(),
            jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap(),
        )
    }

    fn deadline(confirm_url: Option<String>) -> Deadline {
        let mut d = Deadline::new(
            ObligationRef {
                id: "bc-quy".into(),
                title: "Báo cáo quý".into(),
                short: "Báo cáo quý".into(),
                legal_basis: None,
            },
            PeriodRef {
                key: "2026-Q1".into(),
                label: "quý I năm 2026".into(),
            },
            UnitRef {
                id: "so-yte".into(),
                name: "Sở Y tế".into(),
            },
            jiff::civil::date(2026, 3, 20),
        );
        d.speaker.agency = "Sở Mẫu".into();
        d.days_left = 3;
        d.days_late = 4;
        d.confirm_url = confirm_url;
        d
    }

    fn notice(kind: NoticeKind, language: Language) -> Notice {
        Notice {
            kind,
            language,
            recipients: vec![Addressee::new("vanthu@soyte.example")],
            outbox_key: "k".into(),
            sent_at: "2026-03-17T01:00:00Z".parse().unwrap(),
        }
    }

    /// Reminder, due-day and overdue notices carry the link in both parts
    /// and both languages (in HTML as an attribute, `&` escaped); without
    /// links, and in escalations, no `/confirm` appears anywhere.
    #[test]
    fn mailbox_names_lose_one_pair_of_quotes_and_their_escapes() {
        for (text, name) in [
            ("a@x.example", None),
            ("Sở Tư pháp <a@x.example>", Some("Sở Tư pháp")),
            ("\"Sở Tư pháp\" <a@x.example>", Some("Sở Tư pháp")),
            ("Sở \"X\" <a@x.example>", Some("Sở \"X\"")),
            ("\"Phong \\\"A\\\"\" <a@x.example>", Some("Phong \"A\"")),
            ("\"a\\\\b\" <a@x.example>", Some("a\\b")),
            ("\"\" <a@x.example>", None),
        ] {
            let m = parse_mailbox(text).unwrap();
            assert_eq!(m.name.as_deref(), name, "{text}");
            assert_eq!(m.email.to_string(), "a@x.example");
        }
    }

    #[test]
    fn unit_notices_carry_the_confirmation_link_in_text_and_html() {
        let from = "hanbao <hanbao@example.org>";
        let composer = Composer::new(
            &crate::config::model::Mail {
                transport: crate::config::model::Transport::File {
                    dir: std::env::temp_dir(),
                },
                from: from.into(),
                reply_to: None,
                templates: None,
                language: Language::Vi,
            },
            Templates::builtin(),
        )
        .unwrap();
        let due = jiff::civil::date(2026, 3, 20);
        let sent: Timestamp = "2026-03-17T01:00:00Z".parse().unwrap();
        assert_eq!(
            composer.confirm_url("bc-quy", "2026-Q1", "so-yte", due, sent),
            None
        );
        let composer = composer.with_links(Some(links()));
        let url = composer
            .confirm_url("bc-quy", "2026-Q1", "so-yte", due, sent)
            .unwrap();
        assert!(
            url.starts_with(
                "https://bc.example/confirm?o=bc-quy&p=2026-Q1&u=so-yte&e=1776618000&s="
            ),
            "{url}"
        );
        let templates = Templates::builtin();
        let button = [
            (Language::Vi, "Xác nhận đã gửi báo cáo"),
            (Language::En, "Confirm"),
        ];
        for (language, label) in button {
            for kind in [
                NoticeKind::Reminder(deadline(Some(url.clone()))),
                NoticeKind::DueToday(deadline(Some(url.clone()))),
                NoticeKind::Overdue(deadline(Some(url.clone()))),
            ] {
                let name = kind.name();
                let parts = templates.render(&notice(kind, language), from).unwrap();
                assert!(parts.text.contains(&url), "{name} {language:?} text");
                // Auto-escaped as an attribute value (`&` and `/` as
                // character references, which every HTML parser decodes).
                let unescaped = parts.html.replace("&#x2f;", "/").replace("&amp;", "&");
                assert!(
                    !parts.html.contains(&url),
                    "{name} {language:?}: & is escaped"
                );
                assert!(
                    unescaped.contains(&format!("href=\"{url}\"")),
                    "{name} {language:?} html: {}",
                    parts.html
                );
                assert!(parts.html.contains(label), "{name} {language:?} label");
            }
            for kind in [
                NoticeKind::Reminder(deadline(None)),
                NoticeKind::Overdue(deadline(None)),
                NoticeKind::Escalation(Escalation {
                    speaker: Speaker::default(),
                    addressee: "UBND tỉnh".into(),
                    register: Register::Upward,
                    as_of: due,
                    sections: vec![Section {
                        role: Role::Supervisor,
                        standing: Standing {
                            obligation: deadline(None).obligation,
                            period: deadline(None).period,
                            due,
                            expected: 2,
                            submitted: 1,
                            submitted_late: 0,
                            waived: 0,
                            late: vec![LateUnit {
                                unit: deadline(None).unit,
                                due,
                                days_late: 4,
                                working_days_late: 4,
                                notices: vec![],
                            }],
                        },
                        recipient_name: None,
                        dependencies: vec![],
                    }],
                }),
            ] {
                let parts = templates.render(&notice(kind, language), from).unwrap();
                assert!(!parts.text.contains("/confirm") && !parts.html.contains("/confirm"));
            }
        }
    }

    /// `hanbao check` renders a real signed link (sample key) in the samples.
    #[test]
    fn sample_notices_carry_a_signed_link() {
        let now = "2026-06-19T01:00:00Z".parse().unwrap();
        let url = sample_notices(now)
            .iter()
            .find_map(|n| n.kind.deadline().and_then(|d| d.confirm_url.clone()))
            .unwrap();
        assert!(url.starts_with("https://baocao.example.gov.vn/hanbao/confirm?o=mau-6thang&p=2026-H1&u=ubnd-xa-mau&e="), "{url}");
        assert!(check_templates(None).is_ok());
    }
}
