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
    Addressee, Deadline, Digest, Escalation, Language, Notice, NoticeKind, ObligationRef,
    OverdueItem, PeriodRef,
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
        // A subject is one line: fold any newlines an override introduced.
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
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

fn obligation_value(o: &ObligationRef) -> Value {
    Value::from_pairs([
        ("id", Value::from(o.id.as_str())),
        ("title", Value::from(o.title.as_str())),
        ("legal_basis", opt(&o.legal_basis)),
    ])
}

fn period_value(p: &PeriodRef) -> Value {
    Value::from_pairs([
        ("key", Value::from(p.key.as_str())),
        ("label", Value::from(p.label.as_str())),
    ])
}

fn overdue_value(i: &OverdueItem) -> Value {
    Value::from_pairs([
        ("unit_name", Value::from(i.unit_name.as_str())),
        ("obligation", obligation_value(&i.obligation)),
        ("period", period_value(&i.period)),
        ("due", Value::from(i.due.to_string())),
        ("days_late", Value::from(i.days_late)),
    ])
}

fn deadline_pairs(d: &Deadline, pairs: &mut Vec<(&'static str, Value)>) {
    pairs.push(("obligation", obligation_value(&d.obligation)));
    pairs.push(("period", period_value(&d.period)));
    pairs.push((
        "unit",
        Value::from_pairs([
            ("id", Value::from(d.unit.id.as_str())),
            ("name", Value::from(d.unit.name.as_str())),
        ]),
    ));
    pairs.push(("due", Value::from(d.due.to_string())));
    pairs.push(("days_left", Value::from(d.days_left)));
    pairs.push(("days_late", Value::from(d.days_late)));
    pairs.push((
        "missing_reporters",
        Value::from_iter(d.missing_reporters.iter().map(|s| Value::from(s.as_str()))),
    ));
    pairs.push(("confirm_url", opt(&d.confirm_url)));
}

fn escalation_pairs(e: &Escalation, pairs: &mut Vec<(&'static str, Value)>) {
    pairs.push(("items", Value::from_iter(e.items.iter().map(overdue_value))));
}

fn digest_pairs(d: &Digest, pairs: &mut Vec<(&'static str, Value)>) {
    pairs.push(("as_of", Value::from(d.as_of.to_string())));
    pairs.push((
        "open_periods",
        Value::from_iter(d.open_periods.iter().map(|p| {
            Value::from_pairs([
                ("obligation", obligation_value(&p.obligation)),
                ("period", period_value(&p.period)),
                ("due", Value::from(p.due.to_string())),
                ("submitted", Value::from(p.submitted)),
                ("expected", Value::from(p.expected)),
            ])
        })),
    ));
    pairs.push(("late", Value::from_iter(d.late.iter().map(overdue_value))));
    pairs.push((
        "failed_sends",
        Value::from_iter(d.failed_sends.iter().map(|f| {
            Value::from_pairs([
                ("recipient", Value::from(f.recipient.as_str())),
                ("subject", Value::from(f.subject.as_str())),
                ("reason", Value::from(f.reason.as_str())),
            ])
        })),
    ));
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

/// Sample notices of every kind in both languages, used by [`check_templates`].
pub fn sample_notices(now: Timestamp) -> Vec<Notice> {
    let obligation = ObligationRef {
        id: "mau-6thang".into(),
        title: "Báo cáo công tác 6 tháng".into(),
        legal_basis: Some("Nghị định 09/2019/NĐ-CP, Điều 12".into()),
    };
    let period = PeriodRef {
        key: "2026-H1".into(),
        label: "6 tháng đầu năm 2026".into(),
    };
    let due = jiff::civil::date(2026, 6, 22);
    let deadline = Deadline {
        obligation: obligation.clone(),
        period: period.clone(),
        unit: super::notice::UnitRef {
            id: "ubnd-xa-mau".into(),
            name: "UBND xã Mẫu".into(),
        },
        due,
        days_left: 3,
        days_late: 2,
        missing_reporters: vec!["Phòng Nội vụ".into()],
        confirm_url: Some(sample_links().confirm_url(
            &obligation.id,
            &period.key,
            "ubnd-xa-mau",
            due,
            now,
        )),
    };
    let item = OverdueItem {
        unit_name: "UBND xã Mẫu".into(),
        obligation: obligation.clone(),
        period: period.clone(),
        due,
        days_late: 2,
    };
    let kinds = [
        NoticeKind::Reminder(deadline.clone()),
        NoticeKind::DueToday(deadline.clone()),
        NoticeKind::Overdue(deadline),
        NoticeKind::Escalation(Escalation {
            items: vec![item.clone(), item.clone()],
        }),
        NoticeKind::Escalation(Escalation {
            items: vec![item.clone()],
        }),
        NoticeKind::Digest(Digest {
            as_of: due,
            open_periods: vec![super::notice::OpenPeriod {
                obligation,
                period,
                due,
                submitted: 3,
                expected: 5,
            }],
            late: vec![item],
            failed_sends: vec![super::notice::FailedSend {
                recipient: "vanthu@xa.example".into(),
                subject: "[Quá hạn] ...".into(),
                reason: "550 5.1.1 mailbox unavailable".into(),
            }],
        }),
        NoticeKind::Digest(Digest {
            as_of: due,
            open_periods: vec![],
            late: vec![],
            failed_sends: vec![],
        }),
        NoticeKind::Test,
    ];
    let mut out = Vec::new();
    for language in [Language::Vi, Language::En] {
        for kind in &kinds {
            out.push(Notice {
                kind: kind.clone(),
                language,
                recipients: vec![Addressee::named("vanthu@xa.example", "Văn thư")],
                outbox_key: format!("sample|{}|{}", language.code(), kind.name()),
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
