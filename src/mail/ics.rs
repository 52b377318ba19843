//! A minimal RFC 5545 writer for the deadline attached to a notice.
//!
//! One VCALENDAR with METHOD:PUBLISH and one all-day VEVENT on the due date
//! (DTEND is the next day: all-day ends are exclusive), or, for a deadline
//! with a time of day, a VEVENT at that instant. Text values are
//! escaped (`\`, `;`, `,`, newlines) and lines folded at 75 octets without
//! splitting a UTF-8 character. Pure: DTSTAMP comes from the caller.

use jiff::Timestamp;
use jiff::civil::Date;

/// The event to write.
#[derive(Debug, Clone)]
pub struct CalendarEvent<'a> {
    pub uid: &'a str,
    pub stamp: Timestamp,
    pub due: Date,
    /// The deadline instant when it has a time of day: a timed event at
    /// that instant (UTC, no DTEND: it ends when it starts) instead of an
    /// all-day event.
    pub at: Option<Timestamp>,
    pub summary: &'a str,
    pub description: &'a str,
}

/// Escape a TEXT value (RFC 5545 §3.3.11).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Fold one content line (RFC 5545 §3.1): at most 75 octets per physical
/// line, continuation lines start with a space, CRLF after each.
pub fn fold_line(line: &str, out: &mut String) {
    let mut budget = 75;
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > budget {
            out.push_str("\r\n ");
            // The leading space counts towards the 75 octets.
            budget = 74;
            used = 0;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

fn date_value(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

/// The whole .ics file.
pub fn render(event: &CalendarEvent<'_>) -> String {
    let end = event.due.tomorrow().unwrap_or(event.due);
    let stamp = event.stamp.strftime("%Y%m%dT%H%M%SZ").to_string();
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        format!("PRODID:-//hanbao//hanbao {}//VI", env!("CARGO_PKG_VERSION")),
        "CALSCALE:GREGORIAN".to_string(),
        "METHOD:PUBLISH".to_string(),
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", event.uid),
        format!("DTSTAMP:{stamp}"),
        match event.at {
            Some(at) => format!("DTSTART:{}", at.strftime("%Y%m%dT%H%M%SZ")),
            None => format!("DTSTART;VALUE=DATE:{}", date_value(event.due)),
        },
        match event.at {
            // RFC 5545 §3.6.1: a DATE-TIME DTSTART without DTEND or DURATION
            // ends when it starts.
            Some(_) => String::new(),
            None => format!("DTEND;VALUE=DATE:{}", date_value(end)),
        },
        format!("SUMMARY:{}", escape_text(event.summary)),
        format!("DESCRIPTION:{}", escape_text(event.description)),
        "TRANSP:TRANSPARENT".to_string(),
        "END:VEVENT".to_string(),
        "END:VCALENDAR".to_string(),
    ];
    let mut out = String::new();
    for line in lines.iter().filter(|l| !l.is_empty()) {
        fold_line(line, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_four_specials() {
        assert_eq!(escape_text("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
    }

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let long = format!("SUMMARY:{}", "Báo cáo tình hình ".repeat(20));
        let mut out = String::new();
        fold_line(&long, &mut out);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l:?}", l.len());
        }
        // Unfolding gives the original back.
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, long);
    }

    #[test]
    fn short_lines_are_not_folded() {
        let mut out = String::new();
        fold_line(&"x".repeat(75), &mut out);
        assert_eq!(out, format!("{}\r\n", "x".repeat(75)));
        let mut out = String::new();
        fold_line(&"x".repeat(76), &mut out);
        assert_eq!(out, format!("{}\r\n x\r\n", "x".repeat(75)));
    }

    #[test]
    fn all_day_event_ends_the_next_day() {
        // 31/12/2026 -> DTEND 01/01/2027 (checked by hand: year rollover).
        let ics = render(&CalendarEvent {
            uid: "u@x",
            stamp: "2026-12-01T01:02:03Z".parse().unwrap(),
            due: jiff::civil::date(2026, 12, 31),
            at: None,
            summary: "s",
            description: "d",
        });
        assert!(ics.contains("DTSTART;VALUE=DATE:20261231\r\n"));
        assert!(ics.contains("DTEND;VALUE=DATE:20270101\r\n"));
        assert!(ics.contains("DTSTAMP:20261201T010203Z\r\n"));
        assert!(ics.contains("METHOD:PUBLISH\r\n"));
    }

    #[test]
    fn a_timed_deadline_is_an_instant_without_dtend() {
        let ics = render(&CalendarEvent {
            uid: "u@x",
            stamp: "2026-12-01T01:02:03Z".parse().unwrap(),
            due: jiff::civil::date(2026, 12, 31),
            // 14:00 on 31/12/2026 at UTC+7.
            at: Some("2026-12-31T07:00:00Z".parse().unwrap()),
            summary: "s",
            description: "d",
        });
        assert!(ics.contains("\r\nDTSTART:20261231T070000Z\r\n"), "{ics}");
        assert!(!ics.contains("DTEND"), "{ics}");
        assert!(!ics.contains("\r\n\r\n"), "no empty line: {ics}");
    }
}
