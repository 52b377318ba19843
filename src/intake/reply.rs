//! A message of the mailbox read into what intake decides on: who sent
//! it, what it answers (In-Reply-To, References), its attachments, and
//! the document number and date written in its subject or body in the
//! usual Vietnamese form ("Số: 45/BC-STP", "ngày 12 tháng 5 năm 2026",
//! "12/5/2026"). Reads with Stalwart's `mail-parser`; pure, no IO.

use jiff::Timestamp;
use jiff::civil::Date;
use mail_parser::{MessageParser, MimeHeaders};

/// An attached file as the message carries it: what the file store keeps.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name the sender gave (not yet sanitised), or "tep-dinh-kem".
    pub name: String,
    /// `type/subtype`, "application/octet-stream" when absent.
    pub media_type: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("name", &self.name)
            .field("media_type", &self.media_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// What intake reads of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// The Message-IDs it answers, In-Reply-To first, then References
    /// from the newest; without angle brackets.
    pub answers: Vec<String>,
    /// The sender's address (From), lowercased.
    pub sender: Option<String>,
    pub subject: String,
    pub sent_at: Option<Timestamp>,
    /// "45/BC-STP" when written after "Số".
    pub document_number: Option<String>,
    /// The document's date when written in words or as d/m/yyyy.
    pub document_date: Option<Date>,
    pub attachments: Vec<Attachment>,
}

impl Reply {
    /// Reads a whole message; `None` when it is not a message at all.
    pub fn read(bytes: &[u8]) -> Option<Reply> {
        let m = MessageParser::default().parse(bytes)?;
        let mut answers: Vec<String> = Vec::new();
        let mut add = |id: &str| {
            let id = id
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string();
            if !id.is_empty() && !answers.contains(&id) {
                answers.push(id);
            }
        };
        for id in m.in_reply_to().as_text_list().unwrap_or_default() {
            add(id);
        }
        for id in m
            .references()
            .as_text_list()
            .unwrap_or_default()
            .iter()
            .rev()
        {
            add(id);
        }
        let sender = m
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(|a| a.trim().to_lowercase());
        let subject = m.subject().unwrap_or_default().to_string();
        let body = m.body_text(0).map(|b| b.into_owned()).unwrap_or_default();
        let attachments = m
            .attachments()
            .map(|p| Attachment {
                name: p
                    .attachment_name()
                    .map(str::to_string)
                    .unwrap_or_else(|| "tep-dinh-kem".into()),
                media_type: p.content_type().map_or_else(
                    || "application/octet-stream".into(),
                    |c| match c.subtype() {
                        Some(s) => format!("{}/{}", c.ctype(), s).to_lowercase(),
                        None => c.ctype().to_lowercase(),
                    },
                ),
                bytes: p.contents().to_vec(),
            })
            .collect();
        let text = format!("{subject}\n{body}");
        Some(Reply {
            message_id: m
                .message_id()
                .map(|s| s.trim_start_matches('<').trim_end_matches('>').to_string()),
            answers,
            sender,
            subject,
            sent_at: m
                .date()
                .and_then(|d| Timestamp::from_second(d.to_timestamp()).ok()),
            document_number: document_number(&text),
            document_date: document_date(&text),
            attachments,
        })
    }
}

/// The document number written after "Số" ("Số: 45/BC-STP", "số 12/2026/BC-UBND"):
/// a run of letters, digits, '/', '-' and '.' that starts with a digit and
/// holds a '/'.
pub fn document_number(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("số") {
        let start = from + at + "số".len();
        from = start;
        // The original text at the same byte offsets: lowercasing "Số"
        // keeps its length, and the number itself is ASCII.
        let Some(rest) = text.get(start..) else {
            continue;
        };
        let rest = rest.trim_start_matches([' ', ':', '.', '\t']);
        let token: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '/' | '-' | '.'))
            .collect();
        let token = token.trim_end_matches(['.', '-', '/']);
        if token.starts_with(|c: char| c.is_ascii_digit()) && token.contains('/') {
            return Some(token.chars().take(100).collect());
        }
    }
    None
}

/// The first date written "ngày D tháng M năm YYYY" or "D/M/YYYY"
/// (dd/mm/yyyy) that is a real day.
pub fn document_date(text: &str) -> Option<Date> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')'))
        .filter(|w| !w.is_empty())
        .collect();
    for w in words.windows(6) {
        if w[0].to_lowercase() == "ngày"
            && w[2].to_lowercase() == "tháng"
            && w[4].to_lowercase() == "năm"
            && let (Ok(d), Ok(m), Ok(y)) = (
                w[1].parse::<i8>(),
                w[3].parse::<i8>(),
                w[5].trim_end_matches('.').parse::<i16>(),
            )
            && let Ok(date) = Date::new(y, m, d)
        {
            return Some(date);
        }
    }
    for w in &words {
        let w = w.trim_end_matches('.');
        let parts: Vec<&str> = w.split('/').collect();
        if let [d, m, y] = parts[..]
            && y.len() == 4
            && d.len() <= 2
            && m.len() <= 2
            && let (Ok(d), Ok(m), Ok(y)) = (d.parse::<i8>(), m.parse::<i8>(), y.parse::<i16>())
            && let Ok(date) = Date::new(y, m, d)
        {
            return Some(date);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn document_numbers_in_the_usual_forms() {
        let cases = [
            ("Số: 45/BC-STP", Some("45/BC-STP")),
            (
                "Re: Báo cáo quý I, số 12/2026/BC-UBND.",
                Some("12/2026/BC-UBND"),
            ),
            ("SỐ 7/BC-SYT ngày 2/3/2026", Some("7/BC-SYT")),
            ("Sở Tư pháp gửi báo cáo", None),
            ("số liệu 45 đơn vị", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(document_number(text).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn document_dates_in_words_and_figures() {
        let cases = [
            ("Hà Nội, ngày 12 tháng 5 năm 2026", Some(date(2026, 5, 12))),
            ("ngày 12 tháng 5 năm 2026.", Some(date(2026, 5, 12))),
            ("gửi ngày 12/5/2026", Some(date(2026, 5, 12))),
            ("gửi ngày 03/11/2026.", Some(date(2026, 11, 3))),
            ("Số: 45/2026/BC-STP", None),
            ("ngày 31/2/2026", None),
            ("ngày 40 tháng 5 năm 2026", None),
        ];
        for (text, want) in cases {
            assert_eq!(document_date(text), want, "{text}");
        }
    }

    #[test]
    fn a_reply_with_an_attachment_is_read() {
        let raw = "From: \"Van thu\" <VanThu@So.Example>\r\n\
            To: baocao@hanbao.example\r\n\
            Subject: =?UTF-8?Q?Re:_B=C3=A1o_c=C3=A1o_qu=C3=BD?=\r\n\
            Message-ID: <reply-1@so.example>\r\n\
            In-Reply-To: <abc.hanbao@hanbao.example>\r\n\
            References: <old@x> <abc.hanbao@hanbao.example>\r\n\
            Date: Tue, 12 May 2026 09:00:00 +0700\r\n\
            MIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
            --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
            Kính gửi, Số: 45/BC-STP ngày 12 tháng 5 năm 2026.\r\n\
            --b\r\nContent-Type: application/pdf\r\n\
            Content-Disposition: attachment; filename=\"bao-cao.pdf\"\r\n\
            Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n";
        let r = Reply::read(raw.as_bytes()).unwrap();
        assert_eq!(r.sender.as_deref(), Some("vanthu@so.example"));
        assert_eq!(r.message_id.as_deref(), Some("reply-1@so.example"));
        assert_eq!(r.answers, ["abc.hanbao@hanbao.example", "old@x"]);
        assert_eq!(r.subject, "Re: Báo cáo quý");
        assert_eq!(r.document_number.as_deref(), Some("45/BC-STP"));
        assert_eq!(r.document_date, Some(date(2026, 5, 12)));
        assert_eq!(r.attachments.len(), 1);
        assert_eq!(r.attachments[0].name, "bao-cao.pdf");
        assert_eq!(r.attachments[0].media_type, "application/pdf");
        assert_eq!(r.attachments[0].bytes, b"%PDF-1.4\n");
        assert_eq!(r.sent_at.unwrap().as_second(), 1778551200);
    }
}
