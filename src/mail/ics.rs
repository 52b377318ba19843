//! A minimal RFC 5545 writer for the deadline attached to a notice.
//!
//! One VCALENDAR with METHOD:PUBLISH and one all-day VEVENT on the due date
//! (DTEND is the next day: all-day ends are exclusive), or, for a deadline
//! with a time of day, a VEVENT at that instant; with a VALARM per
//! reminder at its time (`alarm_minutes`). Text values are escaped
//! (`\`, `;`, `,`, newlines) and lines folded at 75 octets without
//! splitting a UTF-8 character. The calendar feeds (`http::feed`) use the
//! same escaping, folding and alarms ([`alarm_minutes`], [`trigger`]).
//! Pure: DTSTAMP comes from the caller.

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
    /// Alarms in minutes from the event's start (00:00 of the due day, or
    /// `at`; negative: before): see [`from_start`].
    pub alarms: &'a [i64],
    pub alarm_text: &'a str,
}

/// When the alarms of a deadline fire: each reminder's day at its time
/// (the start of the sending hours, or the time of a reminder in hours:
/// `planner::events::reminder_times`), in minutes from 00:00 of the due
/// day (negative before it), earliest first, each once.
pub fn alarm_minutes(due: Date, reminders: &[(Date, jiff::civil::Time)]) -> Vec<i64> {
    let mut out: Vec<i64> = reminders
        .iter()
        .map(|(day, t)| {
            (*day - due).get_days() as i64 * 1440 + i64::from(t.hour()) * 60 + i64::from(t.minute())
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// An alarm's TRIGGER value relative to the start: `-P6DT16H30M`, `PT7H30M`.
pub fn trigger(minutes: i64) -> String {
    let sign = if minutes < 0 { "-" } else { "" };
    let m = minutes.unsigned_abs();
    let (days, hours, mins) = (m / 1440, (m % 1440) / 60, m % 60);
    let mut out = format!("{sign}P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours > 0 || mins > 0 || days == 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if mins > 0 || hours == 0 {
            out.push_str(&format!("{mins}M"));
        }
    }
    out
}

/// The VALARM lines of one alarm.
pub fn alarm_lines(minutes: i64, text: &str) -> [String; 5] {
    [
        "BEGIN:VALARM".to_string(),
        "ACTION:DISPLAY".to_string(),
        format!("DESCRIPTION:{}", escape_text(text)),
        format!("TRIGGER:{}", trigger(minutes)),
        "END:VALARM".to_string(),
    ]
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

/// The lines of one event on `due`, from `BEGIN:VEVENT` to `TRANSP`,
/// without its alarms: the same in the .ics of a notice and in the calendar
/// feeds. All day (an exclusive `DTEND`), or, for a deadline with a time of
/// day, at the instant `at` (no `DTEND`: RFC 5545 §3.6.1, a DATE-TIME start
/// without end or duration ends when it starts). `stamp` is `DTSTAMP`'s value.
pub fn event_lines(
    uid: &str,
    stamp: &str,
    due: Date,
    at: Option<Timestamp>,
    summary: &str,
    description: &str,
) -> Vec<String> {
    let mut lines = vec![
        "BEGIN:VEVENT".to_string(),
        format!("UID:{uid}"),
        format!("DTSTAMP:{stamp}"),
    ];
    match at {
        Some(at) => lines.push(format!("DTSTART:{}", at.strftime("%Y%m%dT%H%M%SZ"))),
        None => {
            let end = due.tomorrow().unwrap_or(due);
            lines.push(format!("DTSTART;VALUE=DATE:{}", date_value(due)));
            lines.push(format!("DTEND;VALUE=DATE:{}", date_value(end)));
        }
    }
    lines.extend([
        format!("SUMMARY:{}", escape_text(summary)),
        format!("DESCRIPTION:{}", escape_text(description)),
        "TRANSP:TRANSPARENT".to_string(),
    ]);
    lines
}

/// Alarms in minutes from 00:00 of the due day ([`alarm_minutes`]) made
/// relative to the event's start: unchanged for an all-day event, shifted
/// by the time of day for a timed one (a TRIGGER counts from DTSTART).
pub fn from_start(alarms: &[i64], at: Option<jiff::civil::Time>) -> Vec<i64> {
    let shift = at.map_or(0, |t| i64::from(t.hour()) * 60 + i64::from(t.minute()));
    alarms.iter().map(|m| m - shift).collect()
}

/// The first lines of every calendar hanbao writes (`METHOD:PUBLISH`),
/// the .ics of a notice and the feeds alike.
pub fn calendar_head() -> Vec<String> {
    vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        format!("PRODID:-//hanbao//hanbao {}//VI", env!("CARGO_PKG_VERSION")),
        "CALSCALE:GREGORIAN".to_string(),
        "METHOD:PUBLISH".to_string(),
    ]
}

/// The lines of a calendar, each folded and ended with CRLF.
pub fn fold_all(lines: &[String]) -> String {
    let mut out = String::new();
    for line in lines {
        fold_line(line, &mut out);
    }
    out
}

/// The whole .ics file.
pub fn render(event: &CalendarEvent<'_>) -> String {
    let stamp = event.stamp.strftime("%Y%m%dT%H%M%SZ").to_string();
    let mut lines = calendar_head();
    lines.extend(event_lines(
        event.uid,
        &stamp,
        event.due,
        event.at,
        event.summary,
        event.description,
    ));
    for &m in event.alarms {
        lines.extend(alarm_lines(m, event.alarm_text));
    }
    lines.push("END:VEVENT".to_string());
    lines.push("END:VCALENDAR".to_string());
    fold_all(&lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reminder 7 days before at 07:30 is 6 days 16 h 30 min before
    /// 00:00 of the due day; one on the due day is 7 h 30 min after.
    #[test]
    fn alarms_fire_at_the_start_of_the_sending_hours() {
        let due = jiff::civil::date(2026, 3, 20);
        let start = jiff::civil::Time::constant(7, 30, 0, 0);
        let days = [
            (jiff::civil::date(2026, 3, 13), start),
            (due, start),
            (jiff::civil::date(2026, 3, 18), start),
        ];
        let m = alarm_minutes(due, &days);
        assert_eq!(m, [-7 * 1440 + 450, -2 * 1440 + 450, 450]);
        let t: Vec<String> = m.iter().map(|&x| trigger(x)).collect();
        assert_eq!(t, ["-P6DT16H30M", "-P1DT16H30M", "PT7H30M"]);
        assert_eq!(trigger(-1440), "-P1D");
        assert_eq!(trigger(0), "PT0M");
        assert_eq!(trigger(-60), "-PT1H");
    }

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
            alarms: &[-6 * 1440 - 450, 450],
            alarm_text: "a",
        });
        assert!(ics.contains("TRIGGER:-P6DT7H30M\r\n"), "{ics}");
        assert!(ics.contains("TRIGGER:PT7H30M\r\n"), "{ics}");
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
            // Reminder 2 days before at 07:30, relative to 14:00.
            alarms: &from_start(
                &[-2 * 1440 + 450],
                Some(jiff::civil::Time::constant(14, 0, 0, 0)),
            ),
            alarm_text: "a",
        });
        assert!(ics.contains("TRIGGER:-P2DT6H30M\r\n"), "{ics}");
        assert!(ics.contains("\r\nDTSTART:20261231T070000Z\r\n"), "{ics}");
        assert!(!ics.contains("DTEND"), "{ics}");
        assert!(!ics.contains("\r\n\r\n"), "no empty line: {ics}");
    }
}
