//! The rules of what a person types to record a submission, an extension, a
//! waiver or a revocation, checked once for every front end: `hanbao
//! submit`/`extend`/`waive`/`revoke`, `hanbao import`, the API, the
//! dashboard's forms and the one-click confirmation page.
//!
//! Each check takes values already parsed by its front end (dates are read
//! the way each front end reads them: clap, `dd/mm/yyyy` in forms and CSV,
//! `YYYY-MM-DD` in JSON) and returns either the cleaned values (text
//! trimmed, blank text absent) or every [`Problem`] found. A problem is
//! typed: [`Problem::field`] names the field as the API and the CSV columns
//! do, its `Display` is the Vietnamese sentence of the command line and
//! the API, and the web pages word it with their form labels.
//!
//! The rules: a received day inside the period's window or after it, and
//! not after today (a report can be sent before its period ends, never
//! before the period starts); an extension's new due day after the
//! period's due day and at most [`MAX_EXTENSION_DAYS`] days after that due
//! day or after today, whichever is later; text
//! within its length and free of control characters (`escape::is_control`:
//! line breaks, tabs, NUL, ESC, DEL, C1, the marks that reorder text),
//! which would otherwise reach a terminal, a spreadsheet or a page as
//! something else than text; reasons given.
//!
//! Pure: no IO, no clock (the caller passes `today`), no axum, no clap.
//! Must not: decide what the configuration owes (that is
//! `tracking::resolve`) or what a write means next to what is recorded
//! (that is `store::decide`).

use std::fmt;

use jiff::civil::Date;

use crate::config::values::format_date;
use crate::escape;

/// Longest accepted document number (số văn bản), in characters.
pub const MAX_REFERENCE: usize = 200;
/// Longest accepted note or reason, in characters.
pub const MAX_NOTE: usize = 2000;
/// Longest accepted name of who records (`--by`, the import's `by`), in
/// characters.
pub const MAX_ACTOR: usize = 100;
/// How far an extension may go, in days after the period's due day or
/// after today, whichever is later: a year and a day, so the same day next
/// year is always possible.
pub const MAX_EXTENSION_DAYS: i32 = 366;

/// A field a person fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The day the report arrived (ngày nhận).
    ReceivedOn,
    /// The document number (số văn bản).
    Reference,
    /// A free note (ghi chú).
    Note,
    /// The new due day of an extension (hạn mới).
    Until,
    /// Why an extension, waiver or revocation is given (lý do).
    Reason,
    /// Who records (người ghi): `--by`, the import's `by` column.
    By,
}

impl Field {
    /// The name used by the API's JSON and the import's CSV columns.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::ReceivedOn => "received_on",
            Field::Reference => "reference",
            Field::Note => "note",
            Field::Until => "until",
            Field::Reason => "reason",
            Field::By => "by",
        }
    }

    /// The field's name in a Vietnamese sentence (lower case).
    pub fn label_vi(self) -> &'static str {
        match self {
            Field::ReceivedOn => "ngày nhận",
            Field::Reference => "số văn bản",
            Field::Note => "ghi chú",
            Field::Until => "ngày gia hạn",
            Field::Reason => "lý do",
            Field::By => "người ghi",
        }
    }
}

/// One rule a typed value breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A report cannot have arrived after today.
    ReceivedInFuture { received_on: Date, today: Date },
    /// Nor before its period started (a backdated receipt).
    ReceivedBeforePeriod { received_on: Date, opens: Date },
    /// Text over its limit (counted in characters, after trimming).
    TooLong { field: Field, max: usize },
    /// Text that must be given is blank.
    Missing { field: Field },
    /// Text with a control character (`found`, the first one).
    ControlCharacter { field: Field, found: char },
    /// An extension must move the due day later.
    UntilNotAfterDue { until: Date, due: Date },
    /// An extension beyond [`MAX_EXTENSION_DAYS`] after the due day (or
    /// today, when later): `latest` is the last day allowed.
    UntilTooLate { until: Date, latest: Date },
}

impl Problem {
    /// The field the problem is about.
    pub fn field(&self) -> Field {
        match self {
            Problem::ReceivedInFuture { .. } | Problem::ReceivedBeforePeriod { .. } => {
                Field::ReceivedOn
            }
            Problem::TooLong { field, .. }
            | Problem::Missing { field }
            | Problem::ControlCharacter { field, .. } => *field,
            Problem::UntilNotAfterDue { .. } | Problem::UntilTooLate { .. } => Field::Until,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::ReceivedInFuture { received_on, today } => write!(
                f,
                "ngày nhận {} ở tương lai (hôm nay là {})",
                format_date(*received_on),
                format_date(*today)
            ),
            Problem::ReceivedBeforePeriod { received_on, opens } => write!(
                f,
                "ngày nhận {} trước khi kỳ báo cáo bắt đầu ({})",
                format_date(*received_on),
                format_date(*opens)
            ),
            Problem::TooLong { field, max } => {
                write!(f, "{} dài quá {max} ký tự", field.label_vi())
            }
            Problem::Missing { field } => {
                write!(f, "{} không được để trống", field.label_vi())
            }
            Problem::ControlCharacter { field, found } => write!(
                f,
                "{} có ký tự điều khiển {} (xuống dòng, tab, mã ESC...), không được phép; hãy ghi trên một dòng",
                field.label_vi(),
                escape::terminal(&found.to_string())
            ),
            Problem::UntilNotAfterDue { until, due } => write!(
                f,
                "ngày gia hạn {} phải sau hạn nộp {} của kỳ này",
                format_date(*until),
                format_date(*due)
            ),
            Problem::UntilTooLate { until, latest } => write!(
                f,
                "ngày gia hạn {} quá xa: gia hạn được tối đa đến {} ({MAX_EXTENSION_DAYS} ngày sau hạn nộp hoặc sau hôm nay)",
                format_date(*until),
                format_date(*latest)
            ),
        }
    }
}

/// Every problem of one input (never empty), in field order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

fn finish<T>(value: T, problems: Vec<Problem>) -> Result<T, Problems> {
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(Problems(problems))
    }
}

/// Trimmed text, `None` when blank; a problem when over `max` characters
/// or holding a control character.
fn optional(
    field: Field,
    text: Option<&str>,
    max: usize,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let t = text.map(str::trim).filter(|t| !t.is_empty())?;
    if t.chars().count() > max {
        problems.push(Problem::TooLong { field, max });
    }
    if let Some(found) = t.chars().find(|&c| escape::is_control(c)) {
        problems.push(Problem::ControlCharacter { field, found });
    }
    Some(t.to_owned())
}

/// Trimmed text that must not be blank nor over `max` characters.
fn required(field: Field, text: &str, max: usize, problems: &mut Vec<Problem>) -> String {
    match optional(field, Some(text), max, problems) {
        Some(t) => t,
        None => {
            problems.push(Problem::Missing { field });
            String::new()
        }
    }
}

/// What a submission's person typed (dates already parsed).
#[derive(Debug, Clone, Copy)]
pub struct Submission<'a> {
    pub received_on: Date,
    pub reference: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// A submission that passed: text trimmed, blank text absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSubmission {
    pub received_on: Date,
    pub reference: Option<String>,
    pub note: Option<String>,
}

/// The received day is not before `opens` (the first day of the period's
/// window) nor after `today` (the local day of the request); reference and
/// note fit their limits.
pub fn submission(
    s: Submission<'_>,
    opens: Date,
    today: Date,
) -> Result<CheckedSubmission, Problems> {
    let mut problems = Vec::new();
    if s.received_on < opens {
        problems.push(Problem::ReceivedBeforePeriod {
            received_on: s.received_on,
            opens,
        });
    }
    if s.received_on > today {
        problems.push(Problem::ReceivedInFuture {
            received_on: s.received_on,
            today,
        });
    }
    let reference = optional(Field::Reference, s.reference, MAX_REFERENCE, &mut problems);
    let note = optional(Field::Note, s.note, MAX_NOTE, &mut problems);
    finish(
        CheckedSubmission {
            received_on: s.received_on,
            reference,
            note,
        },
        problems,
    )
}

/// An extension that passed: the new due day and the trimmed reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedExtension {
    pub until: Date,
    pub reason: String,
}

/// The new due day is after the period's `due` day and at most
/// [`MAX_EXTENSION_DAYS`] after it or after `today` (the local day of the
/// request), whichever is later; a reason is given and fits its limit.
pub fn extension(
    until: Date,
    due: Date,
    today: Date,
    reason: &str,
) -> Result<CheckedExtension, Problems> {
    let mut problems = Vec::new();
    let latest = due
        .max(today)
        .checked_add(jiff::Span::new().days(MAX_EXTENSION_DAYS))
        .unwrap_or(Date::MAX);
    if until <= due {
        problems.push(Problem::UntilNotAfterDue { until, due });
    } else if until > latest {
        problems.push(Problem::UntilTooLate { until, latest });
    }
    let reason = required(Field::Reason, reason, MAX_NOTE, &mut problems);
    finish(CheckedExtension { until, reason }, problems)
}

/// A waiver's reason: given and within its limit; returned trimmed.
pub fn waiver(reason: &str) -> Result<String, Problems> {
    let mut problems = Vec::new();
    let reason = required(Field::Reason, reason, MAX_NOTE, &mut problems);
    finish(reason, problems)
}

/// A revocation's optional reason: within its limit; returned trimmed,
/// `None` when blank.
pub fn revocation(reason: Option<&str>) -> Result<Option<String>, Problems> {
    let mut problems = Vec::new();
    let reason = optional(Field::Reason, reason, MAX_NOTE, &mut problems);
    finish(reason, problems)
}

/// A revocation's reason where one is required (the dashboard's revoke
/// form: the history then says why): given and within its limit;
/// returned trimmed.
pub fn revocation_reason(reason: &str) -> Result<String, Problems> {
    let mut problems = Vec::new();
    let reason = required(Field::Reason, reason, MAX_NOTE, &mut problems);
    finish(reason, problems)
}

/// Who records, when a person names them (`--by`, the import's `by`):
/// within [`MAX_ACTOR`] characters, no control character; returned
/// trimmed, `None` when blank (the front end's default applies).
pub fn actor(by: Option<&str>) -> Result<Option<String>, Problems> {
    let mut problems = Vec::new();
    let by = optional(Field::By, by, MAX_ACTOR, &mut problems);
    finish(by, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const TODAY: Date = date(2026, 3, 20);
    const OPENS: Date = date(2026, 1, 1);

    fn sub<'a>(on: Date, reference: Option<&'a str>, note: Option<&'a str>) -> Submission<'a> {
        Submission {
            received_on: on,
            reference,
            note,
        }
    }

    #[test]
    fn a_submission_up_to_today_is_cleaned() {
        let c = submission(sub(TODAY, Some("  15/BC  "), Some("   ")), OPENS, TODAY).unwrap();
        assert_eq!(c.reference.as_deref(), Some("15/BC"));
        assert_eq!(c.note, None);
        assert!(submission(sub(OPENS, None, None), OPENS, TODAY).is_ok());
    }

    #[test]
    fn every_problem_of_a_submission_is_reported_in_field_order() {
        let long = "x".repeat(MAX_REFERENCE + 1);
        let note = "đ".repeat(MAX_NOTE + 1);
        let e = submission(
            sub(date(2026, 3, 21), Some(&long), Some(&note)),
            OPENS,
            TODAY,
        )
        .unwrap_err();
        let fields: Vec<Field> = e.iter().map(Problem::field).collect();
        assert_eq!(
            fields,
            [Field::ReceivedOn, Field::Reference, Field::Note],
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "ngày nhận 21/03/2026 ở tương lai (hôm nay là 20/03/2026); \
             số văn bản dài quá 200 ký tự; ghi chú dài quá 2000 ký tự"
        );
    }

    #[test]
    fn limits_count_characters_of_the_trimmed_text() {
        let at_limit = format!(" {} ", "ệ".repeat(MAX_REFERENCE));
        assert!(submission(sub(TODAY, Some(&at_limit), None), OPENS, TODAY).is_ok());
    }

    #[test]
    fn extensions_move_the_due_day_later_and_need_a_reason() {
        let due = date(2026, 3, 20);
        let ok = extension(date(2026, 3, 21), due, TODAY, " CV 5 ").unwrap();
        assert_eq!(ok.reason, "CV 5");
        let e = extension(due, due, TODAY, "  ").unwrap_err();
        assert_eq!(
            e.0,
            [
                Problem::UntilNotAfterDue { until: due, due },
                Problem::Missing {
                    field: Field::Reason
                }
            ]
        );
        assert_eq!(
            e.to_string(),
            "ngày gia hạn 20/03/2026 phải sau hạn nộp 20/03/2026 của kỳ này; lý do không được để trống"
        );
    }

    #[test]
    fn waivers_need_a_reason_revocations_may_have_one() {
        assert_eq!(waiver(" sáp nhập ").unwrap(), "sáp nhập");
        assert!(waiver("").is_err());
        assert_eq!(revocation(Some("  ")).unwrap(), None);
        let long = "x".repeat(MAX_NOTE + 1);
        assert_eq!(
            revocation(Some(&long)).unwrap_err().0,
            [Problem::TooLong {
                field: Field::Reason,
                max: MAX_NOTE
            }]
        );
    }

    #[test]
    fn the_web_revocation_needs_a_reason_within_its_limit() {
        assert_eq!(revocation_reason(" ghi nhầm ").unwrap(), "ghi nhầm");
        assert!(revocation_reason(" \t ").is_err());
        let long = "x".repeat(MAX_NOTE + 1);
        assert_eq!(
            revocation_reason(&long).unwrap_err().0,
            [Problem::TooLong {
                field: Field::Reason,
                max: MAX_NOTE
            }]
        );
    }

    #[test]
    fn a_received_day_before_the_period_starts_is_refused() {
        for day in [date(2025, 12, 31), date(1900, 1, 1), Date::MIN] {
            let e = submission(sub(day, None, None), OPENS, TODAY).unwrap_err();
            assert_eq!(
                e.0,
                [Problem::ReceivedBeforePeriod {
                    received_on: day,
                    opens: OPENS
                }]
            );
        }
        let e = submission(sub(date(2025, 12, 31), None, None), OPENS, TODAY).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ngày nhận 31/12/2025 trước khi kỳ báo cáo bắt đầu (01/01/2026)"
        );
    }

    #[test]
    fn an_extension_goes_at_most_a_year_and_a_day_past_the_due_day_or_today() {
        let due = date(2026, 3, 20);
        // Granted on the due day: a year and a day after it.
        assert!(extension(date(2027, 3, 21), due, due, "bão").is_ok());
        let e = extension(date(2027, 3, 22), due, due, "bão").unwrap_err();
        assert_eq!(
            e.0,
            [Problem::UntilTooLate {
                until: date(2027, 3, 22),
                latest: date(2027, 3, 21)
            }]
        );
        assert_eq!(
            e.to_string(),
            "ngày gia hạn 22/03/2027 quá xa: gia hạn được tối đa đến 21/03/2027 (366 ngày sau hạn nộp hoặc sau hôm nay)"
        );
        // Granted months later: a year and a day after that day.
        let later = date(2026, 12, 6);
        assert!(extension(date(2027, 12, 7), due, later, "bão").is_ok());
        assert!(extension(date(2027, 12, 8), due, later, "bão").is_err());
        assert!(extension(Date::MAX, due, later, "bão").is_err());
        assert!(extension(Date::MIN, due, later, "bão").is_err());
    }

    #[test]
    fn control_characters_are_refused_in_every_text() {
        for bad in [
            "a\rb",
            "x\u{1b}[2J",
            "nul\0",
            "del\u{7f}",
            "c1\u{9b}",
            "\u{202e}txt",
            "a\nb",
            "a\tb",
        ] {
            let e = submission(sub(TODAY, Some(bad), Some(bad)), OPENS, TODAY).unwrap_err();
            let fields: Vec<Field> = e.iter().map(Problem::field).collect();
            assert_eq!(fields, [Field::Reference, Field::Note], "{bad:?}");
            assert!(waiver(bad).is_err(), "{bad:?}");
            assert!(revocation(Some(bad)).is_err(), "{bad:?}");
            assert!(
                extension(date(2026, 4, 1), TODAY, TODAY, bad).is_err(),
                "{bad:?}"
            );
            assert!(actor(Some(bad)).is_err(), "{bad:?}");
        }
        let e = waiver("lý do\rgiả").unwrap_err();
        assert_eq!(
            e.to_string(),
            "lý do có ký tự điều khiển \\r (xuống dòng, tab, mã ESC...), không được phép; hãy ghi trên một dòng"
        );
        // Surrounding white space is trimmed first, not refused.
        assert_eq!(waiver(" sáp nhập\r\n").unwrap(), "sáp nhập");
    }

    #[test]
    fn who_records_is_checked_when_named() {
        assert_eq!(actor(None).unwrap(), None);
        assert_eq!(actor(Some("  ")).unwrap(), None);
        assert_eq!(
            actor(Some(" chị Lan ")).unwrap().as_deref(),
            Some("chị Lan")
        );
        let long = "x".repeat(MAX_ACTOR + 1);
        assert_eq!(
            actor(Some(&long)).unwrap_err().0,
            [Problem::TooLong {
                field: Field::By,
                max: MAX_ACTOR
            }]
        );
    }
}
