//! The MIME reader of the tests: a message as its recipient's software sees
//! it, parsed by Stalwart's `mail-parser`, a different author's code from
//! hanbao's hand-written MIME writer, so a test that reads a message back
//! through it checks the writer against an independent reader rather than
//! against itself.
//!
//! [`Mail::header`] gives a header as written on the wire (folding undone),
//! for checks on the encoding itself; [`Mail::decoded`] gives it as a mail
//! client shows it (encoded words decoded, addresses as `Name <address>`);
//! [`Mail::leaves`] and [`Mail::leaf`] give the body parts that are not
//! multiparts, in document order, with their transfer encoding and charset
//! undone.
//!
//! [`read`] is the oracle for whole messages: the message as its reader
//! sees it ([`Read`]), or every defect found: 8-bit bytes, a bare LF, a
//! line over 998 octets (RFC 5322 2.1.1), a missing header, an encoded
//! word left undecoded, a part the parser had to guess at
//! (`is_encoding_problem`), a replacement character in decoded text, a
//! missing text or HTML body, a calendar attachment that is not one.
//!
//! Test-only: panics where a test should fail.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders as _, PartType};

/// A parsed message.
pub struct Mail {
    message: mail_parser::Message<'static>,
    /// The top-level headers as on the wire (see [`Mail::header`]).
    headers: Vec<(String, String)>,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.message.raw_message()))
    }
}

/// A leaf part of the body.
#[derive(Debug, Clone)]
pub struct Leaf {
    content_type: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// The headers of one part as on the wire: (name, value unfolded and trimmed).
fn raw_headers(raw: &[u8], headers: &[mail_parser::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            let value = &raw[h.offset_start() as usize..h.offset_end() as usize];
            let value = String::from_utf8_lossy(value)
                .replace("\r\n", "")
                .replace('\n', "");
            (h.name().to_string(), value.trim().to_string())
        })
        .collect()
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `Name <address>, address, ...` as a mail client lists mailboxes.
fn mailboxes(address: &Address<'_>) -> String {
    let one = |a: &mail_parser::Addr<'_>| match (a.name.as_deref(), a.address.as_deref()) {
        (Some(n), Some(addr)) => format!("{n} <{addr}>"),
        (None, Some(addr)) => addr.to_string(),
        (Some(n), None) => n.to_string(),
        (None, None) => String::new(),
    };
    match address {
        Address::List(list) => list.iter().map(one).collect::<Vec<_>>().join(", "),
        Address::Group(groups) => groups
            .iter()
            .flat_map(|g| g.addresses.iter().map(one))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

impl Mail {
    /// Parses `raw` (the bytes of an RFC 5322 message).
    #[track_caller]
    pub fn parse(raw: impl AsRef<[u8]>) -> Mail {
        let raw = raw.as_ref();
        let message = MessageParser::default()
            .parse(raw)
            .unwrap_or_else(|| panic!("not a message: {:?}", String::from_utf8_lossy(raw)))
            .into_owned();
        let headers = raw_headers(message.raw_message(), &message.root_part().headers);
        Mail { message, headers }
    }

    /// The first header `name` (any case) of the message as written on the
    /// wire, folding undone and surrounding white space trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// The first header `name` as a mail client shows it: encoded words
    /// decoded, addresses as `Name <address>` separated by `, `.
    pub fn decoded(&self, name: &str) -> Option<String> {
        let header = self
            .message
            .root_part()
            .headers
            .iter()
            .find(|h| h.name().eq_ignore_ascii_case(name))?;
        Some(match header.value() {
            HeaderValue::Address(a) => mailboxes(a),
            HeaderValue::Text(t) => t.to_string(),
            HeaderValue::TextList(list) => list.join(", "),
            _ => self.header(name)?.to_string(),
        })
    }

    /// The parts that are not multiparts, in document order.
    pub fn leaves(&self) -> Vec<Leaf> {
        let raw = self.message.raw_message();
        self.message
            .parts
            .iter()
            .filter_map(|part| {
                let body = match &part.body {
                    PartType::Text(t) | PartType::Html(t) => t.as_bytes().to_vec(),
                    PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
                    PartType::Message(_) | PartType::Multipart(_) => return None,
                };
                let content_type = match part.content_type() {
                    None => "text/plain".to_string(),
                    Some(ct) => {
                        let mut s = ct.ctype().to_string();
                        if let Some(sub) = ct.subtype() {
                            s.push('/');
                            s.push_str(sub);
                        }
                        for a in ct.attributes().unwrap_or_default() {
                            s.push_str(&format!("; {}={}", a.name, a.value));
                        }
                        s.to_ascii_lowercase()
                    }
                };
                Some(Leaf {
                    content_type,
                    headers: raw_headers(raw, &part.headers),
                    body,
                })
            })
            .collect()
    }

    /// The first leaf whose content type starts with `content_type`.
    #[track_caller]
    pub fn leaf(&self, content_type: &str) -> Leaf {
        self.leaves()
            .into_iter()
            .find(|p| p.content_type.starts_with(content_type))
            .unwrap_or_else(|| panic!("no {content_type} part in {self:?}"))
    }
}

impl Leaf {
    /// `type/subtype; name=value; ...` as parsed, in lower case.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The first header `name` of this part, as on the wire.
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// The decoded body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The decoded body as text; panics if it is not UTF-8.
    #[track_caller]
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_headers_raw_and_decoded_and_the_leaves() {
        let raw = "Subject: =?utf-8?b?SOG6oW4=?=\r\n \
             =?utf-8?b?IG7hu5lw?=\r\n\
             To: =?utf-8?b?U+G7nw==?= <a@x.example>, b@x.example\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nS8OtbmggZ+G7rWk=\r\n\
             --b\r\nContent-Type: text/calendar; charset=utf-8; method=PUBLISH\r\n\
             Content-Disposition: attachment; filename=\"a.ics\"\r\n\r\nBEGIN:VCALENDAR\r\n\
             --b--\r\n";
        let m = Mail::parse(raw);
        assert_eq!(
            m.header("subject"),
            Some("=?utf-8?b?SOG6oW4=?= =?utf-8?b?IG7hu5lw?=")
        );
        assert_eq!(m.decoded("Subject").as_deref(), Some("Hạn nộp"));
        assert_eq!(
            m.decoded("To").as_deref(),
            Some("Sở <a@x.example>, b@x.example")
        );
        let leaves = m.leaves();
        assert_eq!(leaves.len(), 2);
        assert_eq!(m.leaf("text/plain").text(), "Kính gửi");
        let cal = m.leaf("text/calendar");
        assert_eq!(
            cal.content_type(),
            "text/calendar; charset=utf-8; method=publish"
        );
        assert!(
            cal.header("content-disposition")
                .unwrap()
                .contains("attachment")
        );
    }
}
