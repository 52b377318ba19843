//! The tests' MIME reader: Stalwart's `mail-parser`, written by other
//! people than hanbao's MIME writer (`mail::mime`), so what it reads back
//! is an independent check of the bytes that go on the wire.
//!
//! [`read`] returns the message as a reader sees it, or every defect found:
//! 8-bit bytes, a bare LF, a line over 998 octets (RFC 5322 2.1.1), a
//! missing header, an encoded word left undecoded, a part the parser had
//! to guess at (`is_encoding_problem`), a replacement character in decoded
//! text, a missing text or HTML body, a calendar attachment that is not one.
//!
//! Test-only: it must not be used outside the integration tests.
#![allow(dead_code)]

use mail_parser::{MessageParser, MimeHeaders};

/// One message as its reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub subject: String,
    /// (display name, address)
    pub from: (Option<String>, String),
    pub to: Vec<(Option<String>, String)>,
    pub reply_to: Option<(Option<String>, String)>,
    pub message_id: String,
    /// Seconds since the epoch.
    pub date: i64,
    /// Every header, name and raw value (unfolded, trimmed).
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
}

impl Read {
    /// The raw value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The calendar attachment, if any.
    pub fn calendar(&self) -> Option<&Attachment> {
        self.attachments
            .iter()
            .find(|a| a.content_type.starts_with("text/calendar"))
    }
}

/// An attachment: its type, file name and decoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub content_type: String,
    pub name: Option<String>,
    pub body: Vec<u8>,
}

fn addr(a: &mail_parser::Addr<'_>) -> (Option<String>, String) {
    (
        a.name().map(str::to_string),
        a.address().unwrap_or_default().to_string(),
    )
}

/// Reads one message, or lists every defect (see the module doc).
pub fn read(bytes: &[u8]) -> Result<Read, Vec<String>> {
    let mut defects = Vec::new();
    if !bytes.is_ascii() {
        defects.push("8-bit bytes on the wire".to_string());
    }
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        if !last && !line.ends_with(b"\r") {
            defects.push(format!("line {} ends with a bare LF", i + 1));
            break;
        }
        let len = line.len() - usize::from(!last);
        if len > 998 {
            defects.push(format!("line {} is {len} octets long", i + 1));
        }
    }
    let Some(m) = MessageParser::default().parse(bytes) else {
        defects.push("mail-parser cannot parse it".into());
        return Err(defects);
    };
    let subject = m.subject().unwrap_or_default().to_string();
    for (name, present) in [
        ("From", m.from().is_some()),
        ("To", m.to().is_some()),
        ("Subject", m.subject().is_some()),
        ("Date", m.date().is_some()),
        ("Message-ID", m.message_id().is_some()),
        ("MIME-Version", !m.mime_version().is_empty()),
    ] {
        if !present {
            defects.push(format!("no {name} header"));
        }
    }
    if subject.contains("=?") || subject.contains('\u{fffd}') {
        defects.push(format!("subject not decoded cleanly: {subject:?}"));
    }
    for (i, part) in m.parts.iter().enumerate() {
        if part.is_encoding_problem {
            defects.push(format!("part {i}: the parser had to guess its encoding"));
        }
    }
    let text = m.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let html = m.body_html(0).map(|t| t.into_owned()).unwrap_or_default();
    if m.text_body_count() == 0 || text.trim().is_empty() {
        defects.push("no text/plain body".into());
    }
    if m.html_body_count() == 0 || !html.contains("</html>") {
        defects.push("no text/html body".into());
    }
    if text.contains('\u{fffd}') || html.contains('\u{fffd}') {
        defects.push("a replacement character in a decoded body".into());
    }
    let attachments: Vec<Attachment> = m
        .attachments()
        .map(|a| Attachment {
            content_type: a
                .content_type()
                .map(|c| match c.subtype() {
                    Some(s) => format!("{}/{}", c.ctype(), s),
                    None => c.ctype().to_string(),
                })
                .unwrap_or_default()
                .to_ascii_lowercase(),
            name: a.attachment_name().map(str::to_string),
            body: a.contents().to_vec(),
        })
        .collect();
    for a in &attachments {
        if a.content_type == "text/calendar"
            && !(a.body.starts_with(b"BEGIN:VCALENDAR\r\n")
                && a.body.ends_with(b"END:VCALENDAR\r\n"))
        {
            defects.push("the calendar attachment is not a VCALENDAR".into());
        }
    }
    let from = m
        .from()
        .and_then(|f| f.first())
        .map(addr)
        .unwrap_or_default();
    let to: Vec<_> = m
        .to()
        .map(|t| t.iter().map(addr).collect())
        .unwrap_or_default();
    if to.iter().any(|(_, a)| a.is_empty()) || from.1.is_empty() {
        defects.push("an address without a mailbox".into());
    }
    let read = Read {
        subject,
        from,
        to,
        reply_to: m.reply_to().and_then(|r| r.first()).map(addr),
        message_id: m.message_id().unwrap_or_default().to_string(),
        date: m.date().map(|d| d.to_timestamp()).unwrap_or_default(),
        headers: m
            .headers_raw()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    v.split_whitespace().collect::<Vec<_>>().join(" "),
                )
            })
            .collect(),
        text,
        html,
        attachments,
    };
    if defects.is_empty() {
        Ok(read)
    } else {
        Err(defects)
    }
}
