//! Notice templates: the built-in Vietnamese and English set, override
//! files read from `mail.templates` (once, at start and on reload, never
//! while sending), the template context of a notice, and the check that
//! renders every template against sample notices (`hanbao check`, and
//! before a start or reload takes a template set).
//!
//! Templates are minijinja (`escape::templates`: strict undefined, `.html`
//! auto-escaped, so configuration text cannot inject markup). Composing a
//! message from the rendered parts is `render`'s. No network, no clock.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use minijinja::{Environment, Value};

use super::notice::{
    AckOutcome, Acknowledgement, Deadline, Digest, Escalation, LateUnit, Notice, NoticeKind,
    ObligationRef, PastNotice, PeriodRef, Speaker, Standing,
};
use super::samples::sample_notices;
use crate::config::model::Mail;

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("templates/", $name)))),*]
    };
}

/// Every built-in template, by relative name. `page.html` and `markup.html`
/// hold the markup both languages share (the words come from the
/// `<lang>/` templates) and are not overridden themselves: a
/// `<lang>/layout.html` or `<lang>/letter.html` override may leave them,
/// and one written before they existed still works.
const BUILTIN: &[(&str, &str)] = builtin!(
    "page.html",
    "markup.html",
    "vi/layout.html",
    "vi/letter.txt",
    "vi/letter.html",
    "vi/ending.html",
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
    "vi/acknowledgement.subject",
    "vi/acknowledgement.txt",
    "vi/acknowledgement.html",
    "vi/test.subject",
    "vi/test.txt",
    "vi/test.html",
    "en/layout.html",
    "en/letter.txt",
    "en/letter.html",
    "en/ending.html",
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
    "en/acknowledgement.subject",
    "en/acknowledgement.txt",
    "en/acknowledgement.html",
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

        let mut env = crate::escape::templates(false);
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
    pairs.push((
        "due_time",
        match d.due_time {
            Some(t) => Value::from(t.local.strftime("%H:%M").to_string()),
            None => Value::from(()),
        },
    ));
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
    pairs.push((
        "also_late",
        Value::from_iter(d.also_late.iter().map(|p| {
            Value::from_pairs([
                ("period", period_value(&p.period)),
                ("due", Value::from(p.due.to_string())),
                ("days_late", Value::from(p.days_late)),
                ("working_days_late", Value::from(p.working_days_late)),
            ])
        })),
    ));
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
                .map(|s| s.standing.late_count())
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
        // A grouped line (a report with short periods): how many periods
        // are late and the oldest; 1 and none otherwise.
        ("periods", Value::from(l.periods.len().max(1))),
        (
            "since",
            l.periods.first().map_or(Value::from(()), period_value),
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
        ("late_count", Value::from(s.late_count())),
        (
            "span",
            match &s.span {
                Some(sp) => Value::from_pairs([
                    ("first", period_value(&sp.first)),
                    ("last", period_value(&sp.last)),
                    ("count", Value::from(sp.count)),
                ]),
                None => Value::from(()),
            },
        ),
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
        Value::from(d.overdue.iter().map(Standing::late_count).sum::<usize>()),
    ));
    pairs.push((
        "overdue_periods",
        Value::from(
            d.overdue
                .iter()
                .map(|s| s.span.as_ref().map_or(1, |sp| sp.count as usize))
                .sum::<usize>(),
        ),
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

/// A local instant as templates take it: `on` (ISO, for `|date`) and
/// `time` ("09:05").
fn local_value(at: &jiff::civil::DateTime) -> Value {
    Value::from_pairs([
        ("on", Value::from(at.date().to_string())),
        ("time", Value::from(at.strftime("%H:%M").to_string())),
    ])
}

fn acknowledgement_pairs(a: &Acknowledgement, pairs: &mut Vec<(&'static str, Value)>) {
    pairs.push(("obligation", obligation_value(&a.obligation)));
    pairs.push(("period", period_value(&a.period)));
    pairs.push(("unit", unit_value(&a.unit)));
    pairs.push(("speaker", speaker_value(&a.speaker)));
    pairs.push(("register", Value::from(a.register.as_str())));
    pairs.push(("sender", Value::from(a.sender.as_str())));
    pairs.push(("processed", local_value(&a.processed_at)));
    let none = Value::from(());
    let (outcome, recorded, limits) = match &a.outcome {
        AckOutcome::Recorded {
            received_on,
            reference,
            recorded_at,
            earlier,
        } => (
            "recorded",
            Value::from_pairs([
                ("received_on", Value::from(received_on.to_string())),
                ("reference", opt(reference)),
                ("at", local_value(recorded_at)),
                ("earlier", Value::from(*earlier)),
            ]),
            none.clone(),
        ),
        AckOutcome::TooBig {
            file_max_mb,
            message_max_mb,
        } => (
            "too_big",
            none.clone(),
            Value::from_pairs([
                ("file_max_mb", Value::from(*file_max_mb)),
                ("message_max_mb", Value::from(*message_max_mb)),
            ]),
        ),
        AckOutcome::TooMany { max } => (
            "too_many",
            none.clone(),
            Value::from_pairs([("max_files", Value::from(*max))]),
        ),
    };
    pairs.push(("outcome", Value::from(outcome)));
    pairs.push(("recorded", recorded));
    pairs.push(("limits", limits));
    pairs.push((
        "files",
        Value::from_iter(a.files.iter().map(|f| {
            Value::from_pairs([
                ("name", Value::from(f.name.as_str())),
                ("size", Value::from(f.size.as_str())),
            ])
        })),
    ));
    pairs.push(("confirm_url", opt(&a.confirm_url)));
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
        NoticeKind::Acknowledgement(a) => acknowledgement_pairs(a, &mut pairs),
        NoticeKind::Test => {}
    }
    Value::from_pairs(pairs)
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
