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

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use lettre::message::Mailbox;

use super::ics;
use super::ids;
use super::mime;
use super::notice::{Addressee, Deadline, Language, Notice};
use crate::config::model::Mail;

pub use super::samples::sample_notices;
pub use super::templates::{
    MAX_SUBJECT, RenderedParts, TemplateError, TemplateErrors, Templates, and_list,
    check_templates, dd_mm_yyyy, named_report, weekday_name,
};

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
            desc.push(match d.due_time {
                None => format!(
                    "Thời hạn: chậm nhất hết ngày {}, {due}",
                    weekday_name(d.due, false)
                ),
                Some(t) => format!(
                    "Thời hạn: trước {} ngày {}, {due}",
                    t.local.strftime("%H giờ %M"),
                    weekday_name(d.due, false)
                ),
            });
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
            desc.push(match d.due_time {
                None => format!("Due: by the end of {}, {due}", weekday_name(d.due, true)),
                Some(t) => format!(
                    "Due: {}, {due}, before {}",
                    weekday_name(d.due, true),
                    t.local.strftime("%H:%M")
                ),
            });
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
                let alarms = ics::from_start(&d.alarms, d.due_time.map(|t| t.local));
                let calendar = ics::render(&ics::CalendarEvent {
                    uid: &uid,
                    stamp: notice.sent_at,
                    due: d.due,
                    at: d.due_time.map(|t| t.instant),
                    summary: &summary,
                    description: &description,
                    alarms: &alarms,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::{LinkKey, Links};
    use crate::mail::notice::{
        Escalation, LateUnit, NoticeKind, ObligationRef, PeriodRef, Register, Role, Section,
        Speaker, Standing, UnitRef,
    };

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
                                periods: vec![],
                            }],
                            span: None,
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
