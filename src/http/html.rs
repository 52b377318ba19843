//! What the HTTP module's HTML pages (the dashboard and the confirmation
//! page) share: the Vietnamese sentences that explain a broken rule of
//! `input` under a form, in the form's own words.
//!
//! Must not: decide a rule (that is `crate::input`).

use crate::config::values::format_date;
use crate::input::{Field, Problem, Problems};

/// One problem as a sentence under a form: `label` names each field as the
/// form's label does ("Ngày nhận", "Ngày gửi", ...).
pub fn problem_sentence(p: &Problem, label: impl Fn(Field) -> &'static str) -> String {
    let l = label(p.field());
    match p {
        Problem::ReceivedInFuture { received_on, today } => format!(
            "{l} {} ở sau hôm nay ({}).",
            format_date(*received_on),
            format_date(*today)
        ),
        Problem::TooLong { max, .. } => format!("{l} dài quá {max} ký tự."),
        Problem::Missing { .. } => format!("{l} không được để trống."),
        Problem::UntilNotAfterDue { until, due } => format!(
            "{l} {} phải sau hạn gốc {}.",
            format_date(*until),
            format_date(*due)
        ),
    }
}

/// Every problem, one sentence each.
pub fn problems_text(problems: &Problems, label: impl Fn(Field) -> &'static str) -> String {
    problems
        .iter()
        .map(|p| problem_sentence(p, &label))
        .collect::<Vec<_>>()
        .join(" ")
}
