//! MIME assembly: the header block and the multipart body of every message
//! hanbao sends, written straight into one byte buffer.
//!
//! The output is 7-bit and deterministic: bodies are base64 (76-column
//! lines), header text outside ASCII becomes RFC 2047 `B` encoded words of
//! UTF-8 cut on character boundaries, lines stay within 78 octets where a
//! fold is allowed, and the multipart boundaries are derived from the
//! Message-ID (they start with `=_`, which base64 never produces, so no
//! body can contain them). Same inputs, same bytes.
//!
//! This module only formats. It renders no template and validates no
//! address (the configuration accepts ASCII addresses only, and lettre's
//! `Address` parsed them), reads no clock and does no IO. The base64 is the
//! `base64` crate's (standard alphabet, padded); this module only cuts it
//! into lines.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

/// Limit of a header line holding encoded words (RFC 2047 §2: 76), CRLF
/// excluded; within RFC 5322's 78.
const LINE: usize = 76;

/// UTF-8 bytes per encoded word: 39 bytes are 52 base64 characters, so a
/// word (`=?utf-8?b?` + 52 + `?=`) is 64 octets and fits on a folded line
/// together with a header name such as `Reply-To: `.
const WORD_BYTES: usize = 39;

/// Input bytes per body line: 57 bytes are 76 base64 characters, the
/// limit of RFC 2045 §6.8.
const BODY_LINE_BYTES: usize = 57;

/// Appends the base64 of `data` (RFC 4648, padded) in lines of 76
/// characters, each ended by CRLF (the last one too; nothing for no data).
fn base64_lines_into(out: &mut Vec<u8>, data: &[u8]) {
    let lines = data.len().div_ceil(BODY_LINE_BYTES);
    out.reserve(data.len().div_ceil(3) * 4 + 2 * lines);
    for chunk in data.chunks(BODY_LINE_BYTES) {
        let at = out.len();
        out.resize(at + chunk.len().div_ceil(3) * 4, 0);
        // The slice is exactly the encoded length, so this cannot fail.
        let written = STANDARD.encode_slice(chunk, &mut out[at..]).unwrap_or(0);
        out.truncate(at + written);
        out.extend_from_slice(b"\r\n");
    }
}

/// Whether `text` can go into a header as it is: printable ASCII and
/// spaces, and nothing a reader could take for an encoded word.
fn plain_header_text(text: &str) -> bool {
    text.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) && !text.contains("=?")
}

/// `atext` of RFC 5322 §3.2.3, plus the space between words of a phrase.
fn phrase_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b' ' || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// A header being written: tracks the current line's length for folding.
pub(crate) struct Headers {
    out: Vec<u8>,
    column: usize,
}

impl Headers {
    pub(crate) fn with_capacity(n: usize) -> Headers {
        Headers {
            out: Vec::with_capacity(n),
            column: 0,
        }
    }

    fn start(&mut self, name: &str) {
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b": ");
        self.column = name.len() + 2;
    }

    fn end(&mut self) {
        self.out.extend_from_slice(b"\r\n");
        self.column = 0;
    }

    /// Writes `token` (no spaces inside), folding before it when the line
    /// would grow past [`LINE`] (never before the first token of a value).
    fn token(&mut self, token: &str, first: bool) {
        if !first {
            if self.column + 1 + token.len() > LINE {
                self.out.extend_from_slice(b"\r\n ");
                self.column = 1;
            } else {
                self.out.push(b' ');
                self.column += 1;
            }
        }
        self.out.extend_from_slice(token.as_bytes());
        self.column += token.len();
    }

    /// Writes `text` as encoded words of at most [`WORD_BYTES`] bytes each.
    fn encoded_words(&mut self, text: &str, mut first: bool) {
        let mut rest = text;
        while !rest.is_empty() {
            let mut cut = rest.len().min(WORD_BYTES);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            // Cut after a space where there is one: the words decode the
            // same, and a reader that wrongly keeps the folding white space
            // between them (Python's `email` does so in display names)
            // shows a doubled space instead of a word cut in two.
            if cut < rest.len()
                && let Some(space) = rest[..cut].rfind(' ').filter(|&i| i >= WORD_BYTES / 3)
            {
                cut = space + 1;
            }
            let mut word = String::with_capacity(12 + cut.div_ceil(3) * 4);
            word.push_str("=?utf-8?b?");
            STANDARD.encode_string(&rest.as_bytes()[..cut], &mut word);
            word.push_str("?=");
            self.token(&word, first);
            first = false;
            rest = &rest[cut..];
        }
    }

    /// A header whose value is ASCII without folding needs (identifiers,
    /// dates, parameters).
    pub(crate) fn raw(&mut self, name: &str, value: &str) {
        self.start(name);
        self.out.extend_from_slice(value.as_bytes());
        self.end();
    }

    /// An unstructured header (`Subject`): as it is when plain ASCII
    /// (folded between words), otherwise encoded words.
    pub(crate) fn text(&mut self, name: &str, value: &str) {
        self.start(name);
        // A word too long to fold around would break the line limits.
        let foldable = value.split(' ').all(|w| w.len() + 1 < LINE - name.len());
        if plain_header_text(value) && foldable {
            for (i, word) in value.split(' ').filter(|w| !w.is_empty()).enumerate() {
                self.token(word, i == 0);
            }
        } else {
            self.encoded_words(value, true);
        }
        self.end();
    }

    /// An address header: `Name <address>` items separated by commas.
    /// Names of plain words stay as they are, other ASCII names are
    /// quoted, anything else becomes encoded words.
    pub(crate) fn mailboxes<'a>(
        &mut self,
        name: &str,
        items: impl IntoIterator<Item = (Option<&'a str>, &'a str)>,
    ) {
        self.start(name);
        let mut first = true;
        let mut items = items.into_iter().peekable();
        while let Some((display, address)) = items.next() {
            let comma = if items.peek().is_some() { "," } else { "" };
            match display.map(str::trim).filter(|d| !d.is_empty()) {
                None => self.token(&format!("{address}{comma}"), first),
                Some(d) => {
                    let short_words = d.split(' ').all(|w| w.len() + 2 < LINE - name.len());
                    if d.bytes().all(phrase_char) && !d.contains("=?") && short_words {
                        for (i, word) in d.split(' ').filter(|w| !w.is_empty()).enumerate() {
                            self.token(word, first && i == 0);
                        }
                    } else if plain_header_text(d) && d.len() + 2 < LINE - name.len() {
                        let mut quoted = String::with_capacity(d.len() + 2);
                        quoted.push('"');
                        for c in d.chars() {
                            if c == '"' || c == '\\' {
                                quoted.push('\\');
                            }
                            quoted.push(c);
                        }
                        quoted.push('"');
                        self.token(&quoted, first);
                    } else {
                        self.encoded_words(d, first);
                    }
                    self.token(&format!("<{address}>{comma}"), false);
                }
            }
            first = false;
        }
        self.end();
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.out
    }
}

/// One leaf of the body.
pub(crate) struct Leaf<'a> {
    /// The whole Content-Type value, parameters included (ASCII).
    pub content_type: &'a str,
    /// The Content-Disposition value, if any (ASCII).
    pub disposition: Option<&'a str>,
    pub body: &'a [u8],
}

/// Text in canonical form (RFC 2045 §6.4, RFC 2046 §4.1.1): every line
/// ends with CRLF before the base64, whatever the template wrote (LF, CRLF
/// or a lone CR).
fn canonical_lines(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 32 + 2);
    let mut rest = text;
    while let Some(i) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(b"\r\n");
        let crlf = rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n');
        rest = &rest[i + if crlf { 2 } else { 1 }..];
    }
    out.extend_from_slice(rest);
    out
}

fn leaf_into(out: &mut Vec<u8>, leaf: &Leaf<'_>) {
    out.extend_from_slice(b"Content-Type: ");
    out.extend_from_slice(leaf.content_type.as_bytes());
    out.extend_from_slice(b"\r\n");
    if let Some(d) = leaf.disposition {
        out.extend_from_slice(b"Content-Disposition: ");
        out.extend_from_slice(d.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Transfer-Encoding: base64\r\n\r\n");
    if leaf.content_type.starts_with("text/") {
        base64_lines_into(out, &canonical_lines(leaf.body));
    } else {
        base64_lines_into(out, leaf.body);
    }
}

/// The multipart boundary of one level, from a seed unique per message.
fn boundary(seed: u64, level: &str) -> String {
    let mut b = String::with_capacity(32);
    let _ = write!(b, "=_hanbao_{level}_{seed:016x}");
    b
}

/// A stable 64-bit seed from the Message-ID: the first 8 bytes of its
/// SHA-256 (spreading only, no secrecy needed).
pub(crate) fn seed(message_id: &str) -> u64 {
    let digest = Sha256::digest(message_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// Appends `MIME-Version`, the top Content-Type and the body: a
/// multipart/alternative of `alternatives`, wrapped in a multipart/mixed
/// with `attachments` when there are any.
pub(crate) fn body_into(
    out: &mut Vec<u8>,
    seed: u64,
    alternatives: &[Leaf<'_>],
    attachments: &[Leaf<'_>],
) {
    let alt = boundary(seed, "alt");
    out.extend_from_slice(b"MIME-Version: 1.0\r\n");
    let mixed = (!attachments.is_empty()).then(|| boundary(seed, "mixed"));
    if let Some(mixed) = &mixed {
        let _ = write_bytes(
            out,
            format_args!(
                "Content-Type: multipart/mixed; boundary=\"{mixed}\"\r\n\r\n--{mixed}\r\n"
            ),
        );
    }
    let _ = write_bytes(
        out,
        format_args!("Content-Type: multipart/alternative; boundary=\"{alt}\"\r\n\r\n"),
    );
    for leaf in alternatives {
        let _ = write_bytes(out, format_args!("--{alt}\r\n"));
        leaf_into(out, leaf);
    }
    let _ = write_bytes(out, format_args!("--{alt}--\r\n"));
    if let Some(mixed) = &mixed {
        for leaf in attachments {
            let _ = write_bytes(out, format_args!("--{mixed}\r\n"));
            leaf_into(out, leaf);
        }
        let _ = write_bytes(out, format_args!("--{mixed}--\r\n"));
    }
}

fn write_bytes(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    std::io::Write::write_fmt(out, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes of base64 text, line breaks ignored.
    fn decode64(s: &str) -> Vec<u8> {
        let clean: String = s.split_ascii_whitespace().collect();
        STANDARD.decode(clean).expect("valid base64")
    }

    fn header(h: impl FnOnce(&mut Headers)) -> String {
        let mut w = Headers::with_capacity(64);
        h(&mut w);
        String::from_utf8(w.into_bytes()).unwrap()
    }

    #[test]
    fn wrapped_base64_has_76_column_lines_and_decodes_back() {
        for len in [1000, 57 * 3, 1, 0] {
            let data: Vec<u8> = (0..=255u8).cycle().take(len).collect();
            let mut out = Vec::new();
            base64_lines_into(&mut out, &data);
            let text = String::from_utf8(out).unwrap();
            if len == 0 {
                assert_eq!(text, "", "no data, no line");
                continue;
            }
            assert!(text.ends_with("\r\n") && !text.ends_with("\r\n\r\n"));
            let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
            assert!(lines[..lines.len() - 1].iter().all(|l| l.len() == 76));
            assert_eq!(decode64(&text), data);
        }
    }

    #[test]
    fn text_lines_end_with_crlf_once() {
        for (text, want) in [
            ("a\nb", "a\r\nb"),
            ("a\r\nb\n", "a\r\nb\r\n"),
            ("\n\n", "\r\n\r\n"),
            ("a\r\n", "a\r\n"),
            ("a\rb\r", "a\r\nb\r\n"),
            ("\r\r\n", "\r\n\r\n"),
            ("", ""),
        ] {
            assert_eq!(
                &*canonical_lines(text.as_bytes()),
                want.as_bytes(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn subjects_plain_or_encoded() {
        // (value, exact header) checked by hand: "Hạn" is 48 e1 ba a1 6e.
        let cases = [
            ("Report due", "Subject: Report due\r\n"),
            ("Hạn", "Subject: =?utf-8?b?SOG6oW4=?=\r\n"),
            // Something that looks like an encoded word is encoded itself.
            ("=?x?", "Subject: =?utf-8?b?PT94Pw==?=\r\n"),
        ];
        for (value, want) in cases {
            assert_eq!(header(|h| h.text("Subject", value)), want, "{value}");
        }
    }

    #[test]
    fn long_vietnamese_subjects_fold_on_character_boundaries() {
        let subject = "[Nhắc hạn] Báo cáo kết quả thực hiện Nghị quyết 121 – kỳ 6 tháng đầu năm 2026 – hạn 22/06/2026";
        let h = header(|h| h.text("Subject", subject));
        let mut decoded = Vec::new();
        for line in h.trim_end().split("\r\n") {
            assert!(line.len() <= LINE, "{} octets: {line}", line.len());
            let word = line
                .trim_start_matches("Subject: ")
                .trim_start()
                .strip_prefix("=?utf-8?b?")
                .and_then(|w| w.strip_suffix("?="))
                .unwrap_or_else(|| panic!("one encoded word per line: {line}"));
            let bytes = decode64(word);
            // Every word is whole UTF-8 on its own (RFC 2047 §5).
            assert!(std::str::from_utf8(&bytes).is_ok(), "{line}");
            decoded.extend(bytes);
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), subject);
    }

    #[test]
    fn words_too_long_to_fold_are_encoded() {
        let subject = format!("see {}", "x".repeat(1200));
        let h = header(|h| h.text("Subject", &subject));
        assert!(h.trim_end().split("\r\n").all(|l| l.len() <= LINE), "{h}");
        let long_name = "A".repeat(90);
        let h = header(|h| h.mailboxes("To", [(Some(long_name.as_str()), "a@x")]));
        assert!(h.trim_end().split("\r\n").all(|l| l.len() <= LINE), "{h}");
    }

    #[test]
    fn plain_long_subjects_fold_between_words() {
        let subject = "word ".repeat(30);
        let h = header(|h| h.text("Subject", &subject));
        assert!(h.trim_end().split("\r\n").all(|l| l.len() <= LINE), "{h}");
        assert!(h.contains("\r\n "), "folded: {h}");
        assert_eq!(
            h.replace("\r\n ", " "),
            format!("Subject: {}\r\n", subject.trim_end())
        );
    }

    #[test]
    fn encoded_words_end_after_a_space_when_they_can() {
        // Checked by hand: "Sở Nông nghiệp và Phát triển " is 37 bytes and
        // the next space-free cut would have split "nông".
        let name = "Sở Nông nghiệp và Phát triển nông thôn";
        let h = header(|h| h.mailboxes("To", [(Some(name), "a@x.example")]));
        let words: Vec<String> = h
            .split("=?utf-8?b?")
            .skip(1)
            .map(|w| String::from_utf8(decode64(&w[..w.find("?=").unwrap()])).unwrap())
            .collect();
        assert_eq!(words, ["Sở Nông nghiệp và Phát triển ", "nông thôn"]);
    }

    #[test]
    fn mailboxes_plain_quoted_and_encoded() {
        let cases: [(Option<&str>, &str); 5] = [
            (None, "To: a@x.example\r\n"),
            (Some("Van thu"), "To: Van thu <a@x.example>\r\n"),
            (Some("So LD-TB&XH"), "To: So LD-TB&XH <a@x.example>\r\n"),
            (
                Some("Phong \"A\", So B"),
                "To: \"Phong \\\"A\\\", So B\" <a@x.example>\r\n",
            ),
            (Some("Sở"), "To: =?utf-8?b?U+G7nw==?= <a@x.example>\r\n"),
        ];
        for (name, want) in cases {
            assert_eq!(
                header(|h| h.mailboxes("To", [(name, "a@x.example")])),
                want,
                "{name:?}"
            );
        }
        assert_eq!(
            header(|h| h.mailboxes("To", [(Some("A"), "a@x"), (None, "b@x")])),
            "To: A <a@x>, b@x\r\n"
        );
    }

    #[test]
    fn bodies_nest_alternative_inside_mixed_with_stable_boundaries() {
        let alternatives = [
            Leaf {
                content_type: "text/plain; charset=utf-8",
                disposition: None,
                body: "Kính gửi".as_bytes(),
            },
            Leaf {
                content_type: "text/html; charset=utf-8",
                disposition: None,
                body: b"<p>x</p>",
            },
        ];
        let ics = [Leaf {
            content_type: "text/calendar; charset=utf-8; method=PUBLISH",
            disposition: Some("attachment; filename=\"a.ics\""),
            body: b"BEGIN:VCALENDAR\r\n",
        }];
        let s = seed("<k@x>");
        let mut a = Vec::new();
        body_into(&mut a, s, &alternatives, &ics);
        let mut b = Vec::new();
        body_into(&mut b, s, &alternatives, &ics);
        assert_eq!(a, b, "same inputs, same bytes");
        let text = String::from_utf8(a).unwrap();
        let mixed = boundary(s, "mixed");
        let alt = boundary(s, "alt");
        let order: Vec<usize> = [
            format!("multipart/mixed; boundary=\"{mixed}\""),
            format!("--{mixed}\r\nContent-Type: multipart/alternative"),
            format!("--{alt}\r\nContent-Type: text/plain"),
            format!("--{alt}\r\nContent-Type: text/html"),
            format!("--{alt}--\r\n--{mixed}\r\nContent-Type: text/calendar"),
            format!("--{mixed}--\r\n"),
        ]
        .iter()
        .map(|needle| text.find(needle.as_str()).expect(needle))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(text.ends_with(&format!("--{mixed}--\r\n")));
        assert!(text.contains(&format!("{}\r\n", STANDARD.encode("Kính gửi"))));
        // No attachment: the alternative is the top level.
        let mut c = Vec::new();
        body_into(&mut c, s, &alternatives, &[]);
        let c = String::from_utf8(c).unwrap();
        assert!(c.starts_with("MIME-Version: 1.0\r\nContent-Type: multipart/alternative"));
        assert!(!c.contains("mixed"));
        assert_ne!(seed("<k@x>"), seed("<l@x>"));
    }
}
