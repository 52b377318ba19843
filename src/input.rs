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
//! do, its `Display` is the Vietnamese sentence of the command line, and
//! each front end may word it its own way (the API in English, the web
//! pages with their form labels).
//!
//! Pure: no IO, no clock (the caller passes `today`), no axum, no clap.
//! Must not: decide what the configuration owes (that is
//! `tracking::resolve`) or what a write means next to what is recorded
//! (that is `store::decide`).

use std::fmt;

use jiff::civil::Date;

use crate::config::values::format_date;

/// Longest accepted document number (số văn bản), in characters.
pub const MAX_REFERENCE: usize = 200;
/// Longest accepted note or reason, in characters.
pub const MAX_NOTE: usize = 2000;

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
        }
    }
}

/// One rule a typed value breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A report cannot have arrived after today.
    ReceivedInFuture { received_on: Date, today: Date },
    /// Text over its limit (counted in characters, after trimming).
    TooLong { field: Field, max: usize },
    /// Text that must be given is blank.
    Missing { field: Field },
    /// An extension must move the due day later.
    UntilNotAfterDue { until: Date, due: Date },
}

impl Problem {
    /// The field the problem is about.
    pub fn field(&self) -> Field {
        match self {
            Problem::ReceivedInFuture { .. } => Field::ReceivedOn,
            Problem::TooLong { field, .. } | Problem::Missing { field } => *field,
            Problem::UntilNotAfterDue { .. } => Field::Until,
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
            Problem::TooLong { field, max } => {
                write!(f, "{} dài quá {max} ký tự", field.label_vi())
            }
            Problem::Missing { field } => {
                write!(f, "{} không được để trống", field.label_vi())
            }
            Problem::UntilNotAfterDue { until, due } => write!(
                f,
                "ngày gia hạn {} phải sau hạn nộp {} của kỳ này",
                format_date(*until),
                format_date(*due)
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

/// Trimmed text, `None` when blank; a problem when over `max` characters.
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

/// The received day is not after `today` (the local day of the request);
/// reference and note fit their limits.
pub fn submission(s: Submission<'_>, today: Date) -> Result<CheckedSubmission, Problems> {
    let mut problems = Vec::new();
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

/// The new due day is after the period's `due` day; a reason is given and
/// fits its limit.
pub fn extension(until: Date, due: Date, reason: &str) -> Result<CheckedExtension, Problems> {
    let mut problems = Vec::new();
    if until <= due {
        problems.push(Problem::UntilNotAfterDue { until, due });
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

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const TODAY: Date = date(2026, 3, 20);

    fn sub<'a>(on: Date, reference: Option<&'a str>, note: Option<&'a str>) -> Submission<'a> {
        Submission {
            received_on: on,
            reference,
            note,
        }
    }

    #[test]
    fn a_submission_up_to_today_is_cleaned() {
        let c = submission(sub(TODAY, Some("  15/BC  "), Some("   ")), TODAY).unwrap();
        assert_eq!(c.reference.as_deref(), Some("15/BC"));
        assert_eq!(c.note, None);
        assert!(submission(sub(date(2020, 1, 1), None, None), TODAY).is_ok());
    }

    #[test]
    fn every_problem_of_a_submission_is_reported_in_field_order() {
        let long = "x".repeat(MAX_REFERENCE + 1);
        let note = "đ".repeat(MAX_NOTE + 1);
        let e = submission(sub(date(2026, 3, 21), Some(&long), Some(&note)), TODAY).unwrap_err();
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
        assert!(submission(sub(TODAY, Some(&at_limit), None), TODAY).is_ok());
    }

    #[test]
    fn extensions_move_the_due_day_later_and_need_a_reason() {
        let due = date(2026, 3, 20);
        let ok = extension(date(2026, 3, 21), due, " CV 5 ").unwrap();
        assert_eq!(ok.reason, "CV 5");
        let e = extension(due, due, "  ").unwrap_err();
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
}
