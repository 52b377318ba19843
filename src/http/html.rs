//! The HTML pages of the HTTP module (the dashboard and the confirmation
//! page): one minijinja environment, built once, of templates compiled
//! into the binary (`src/http/templates/`); their stylesheet and the
//! Content-Security-Policy that allows it by its hash; the view of the
//! echo of a typed date ([`Check`]); and the Vietnamese sentences that
//! explain a broken rule of `input` under a form.
//!
//! Every `.html` template is auto-escaped: a value printed with `{{ }}` is
//! text, never markup, whatever a configuration or a person typed. Escaping
//! turns `& < > " '` into entities (element content and quoted attribute
//! values; `/` is left alone so dates and paths read as typed). Undefined
//! values are errors (strict), so a misspelt field fails the tests instead
//! of printing nothing. Pages build their values in Rust (links already
//! percent-encoded) and pass them as serde-serialisable views.
//!
//! Must not: decide a rule (that is `crate::input`); load templates at run
//! time (the mail side's templates are user-editable; these are not).

use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::http::HeaderValue;
use jiff::civil::Date;
use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, Error, Output, State, Value};
use serde::Serialize;

use crate::config::values::format_date;
use crate::input::{Field, Problem, Problems};

use super::date_field;

/// The pages' stylesheet (dashboard and confirmation page), inlined in
/// every page and allowed by its hash in the Content-Security-Policy.
pub const DASHBOARD_CSS: &str = include_str!("templates/dashboard.css");

/// `sha256-...` of the stylesheet, for the Content-Security-Policy.
fn css_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD
                .encode(sha2::Sha256::digest(DASHBOARD_CSS.as_bytes()))
        )
    })
}

/// The policy of the HTML pages: nothing but the stylesheet, by its hash
/// (no script, no other origin); forms post to this origin only.
pub fn csp() -> HeaderValue {
    HeaderValue::try_from(format!(
        "default-src 'none'; style-src '{}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        css_hash()
    ))
    .expect("ASCII")
}

/// A value a form carries through a page unchanged.
#[derive(Debug, Clone, Serialize)]
pub struct Hidden {
    pub name: &'static str,
    pub value: String,
}

impl Hidden {
    pub fn new(name: &'static str, value: impl Into<String>) -> Hidden {
        Hidden {
            name,
            value: value.into(),
        }
    }
}

/// One more typed value shown under the echoed date.
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    pub label: &'static str,
    pub value: String,
}

/// The echo of a typed date before anything is recorded
/// (`check_form.html`, see `http::date_field`).
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Where "Xác nhận" and "Sửa lại" post.
    pub action: String,
    /// The session's CSRF token (dashboard); `None` on the confirmation
    /// page, whose signed link is its credential.
    pub csrf: Option<String>,
    /// What was typed (dates as dd/mm/yyyy), posted again.
    pub hidden: Vec<Hidden>,
    /// "Ghi nhận ngày nhận", ...
    pub question: &'static str,
    /// The date in words.
    pub words: String,
    /// The date as dd/mm/yyyy.
    pub day: String,
    pub details: Vec<Detail>,
}

impl Check {
    /// The echo of `day` under `question`, posting back to `action`.
    pub fn new(action: impl Into<String>, question: &'static str, day: Date) -> Check {
        Check {
            action: action.into(),
            csrf: None,
            hidden: Vec::new(),
            question,
            words: date_field::in_words(day),
            day: date_field::shown(day),
            details: Vec::new(),
        }
    }

    /// Shows `value` under `label` unless it is empty.
    pub fn detail(&mut self, label: &'static str, value: Option<&str>) {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.details.push(Detail {
                label,
                value: v.to_string(),
            });
        }
    }
}

/// Every template, by name.
const TEMPLATES: [(&str, &str); 25] = [
    ("date_field.html", include_str!("templates/date_field.html")),
    ("check_form.html", include_str!("templates/check_form.html")),
    (
        "dashboard/frame.html",
        include_str!("templates/dashboard/frame.html"),
    ),
    (
        "dashboard/macros.html",
        include_str!("templates/dashboard/macros.html"),
    ),
    (
        "dashboard/history.html",
        include_str!("templates/dashboard/history.html"),
    ),
    (
        "dashboard/message.html",
        include_str!("templates/dashboard/message.html"),
    ),
    (
        "dashboard/login.html",
        include_str!("templates/dashboard/login.html"),
    ),
    (
        "dashboard/matrix.html",
        include_str!("templates/dashboard/matrix.html"),
    ),
    (
        "dashboard/summary.html",
        include_str!("templates/dashboard/summary.html"),
    ),
    (
        "dashboard/unit.html",
        include_str!("templates/dashboard/unit.html"),
    ),
    (
        "dashboard/report.html",
        include_str!("templates/dashboard/report.html"),
    ),
    (
        "dashboard/outbox.html",
        include_str!("templates/dashboard/outbox.html"),
    ),
    (
        "dashboard/check.html",
        include_str!("templates/dashboard/check.html"),
    ),
    (
        "dashboard/mailbox.html",
        include_str!("templates/dashboard/mailbox.html"),
    ),
    (
        "dashboard/messages.html",
        include_str!("templates/dashboard/messages.html"),
    ),
    (
        "dashboard/revoke.html",
        include_str!("templates/dashboard/revoke.html"),
    ),
    (
        "dashboard/compliance.html",
        include_str!("templates/dashboard/compliance.html"),
    ),
    (
        "confirm/frame.html",
        include_str!("templates/confirm/frame.html"),
    ),
    (
        "confirm/summary.html",
        include_str!("templates/confirm/summary.html"),
    ),
    (
        "confirm/message.html",
        include_str!("templates/confirm/message.html"),
    ),
    (
        "confirm/form.html",
        include_str!("templates/confirm/form.html"),
    ),
    (
        "confirm/recorded.html",
        include_str!("templates/confirm/recorded.html"),
    ),
    (
        "confirm/check.html",
        include_str!("templates/confirm/check.html"),
    ),
    (
        "confirm/next.html",
        include_str!("templates/confirm/next.html"),
    ),
    (
        "confirm/contact.html",
        include_str!("templates/confirm/contact.html"),
    ),
];

/// Escapes text for HTML element content and quoted attribute values.
fn escape_into(out: &mut impl std::fmt::Write, s: &str) -> std::fmt::Result {
    let mut rest = s;
    while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
        out.write_str(&rest[..i])?;
        out.write_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        })?;
        rest = &rest[i + 1..];
    }
    out.write_str(rest)
}

/// Prints a value: escaped in `.html` templates unless marked safe (macro
/// output, the stylesheet).
fn formatter(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    if *state.auto_escape() == AutoEscape::Html && !value.is_safe() {
        let mut text = String::new();
        write!(text, "{value}").map_err(Error::from)?;
        escape_into(out, &text).map_err(Error::from)
    } else {
        minijinja::escape_formatter(out, state, value)
    }
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = crate::escape::templates(true);
        env.set_formatter(formatter);
        env.add_global(
            "dashboard_css",
            Value::from_safe_string(DASHBOARD_CSS.to_string()),
        );
        for (name, source) in TEMPLATES {
            // Compiled in and rendered by the tests: a syntax error cannot
            // reach a release.
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env
    })
}

/// Renders template `name` with the fields of `frame` (what the page's
/// frame template shows: title, top bar, ...) and of `view` (the page's
/// own), both serde-serialisable structs; `view`'s win a name clash.
pub fn render(name: &str, frame: &impl Serialize, view: &impl Serialize) -> Result<String, Error> {
    let ctx = minijinja::value::merge_maps([Value::from(Serde(view)), Value::from(Serde(frame))]);
    environment().get_template(name)?.render(ctx)
}

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
        Problem::ReceivedBeforePeriod { received_on, opens } => format!(
            "{l} {} ở trước ngày bắt đầu của kỳ báo cáo ({}).",
            format_date(*received_on),
            format_date(*opens)
        ),
        Problem::TooLong { max, .. } => format!("{l} dài quá {max} ký tự."),
        Problem::Missing { .. } => format!("{l} không được để trống."),
        Problem::ControlCharacter { .. } => {
            format!("{l} có ký tự điều khiển (xuống dòng, tab, mã ESC...): hãy ghi trên một dòng.")
        }
        Problem::UntilNotAfterDue { until, due } => format!(
            "{l} {} phải sau hạn gốc {}.",
            format_date(*until),
            format_date(*due)
        ),
        Problem::UntilTooLate { until, latest } => format!(
            "{l} {} quá xa: gia hạn được tối đa đến {} ({} ngày sau hạn gốc hoặc sau hôm nay).",
            format_date(*until),
            format_date(*latest),
            crate::input::MAX_EXTENSION_DAYS
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

#[cfg(test)]
mod tests {
    use super::*;

    fn escape(s: &str) -> String {
        let mut out = String::new();
        escape_into(&mut out, s).unwrap();
        out
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(escape("Sở Y tế 19/03/2026"), "Sở Y tế 19/03/2026");
    }

    #[test]
    fn every_template_compiles_and_values_are_escaped() {
        let env = environment();
        assert_eq!(env.templates().count(), TEMPLATES.len());
        let html = render(
            "confirm/message.html",
            &serde_json::json!({"title": "<b>T</b>", "agency": "Sở <A>"}),
            &serde_json::json!({"text": "a \"q\" & 'b' <i>"}),
        )
        .unwrap();
        assert!(html.contains("<title>&lt;b&gt;T&lt;/b&gt; — Sở &lt;A&gt;</title>"));
        assert!(html.contains("<p>a &quot;q&quot; &amp; &#39;b&#39; &lt;i&gt;</p>"));
    }

    #[test]
    fn an_undefined_value_is_an_error() {
        let e = render(
            "confirm/message.html",
            &serde_json::json!({"title": "t", "agency": null}),
            &serde_json::json!({}),
        )
        .unwrap_err();
        assert_eq!(e.kind(), minijinja::ErrorKind::UndefinedError);
    }

    #[test]
    fn the_policy_names_the_stylesheet_hash() {
        let v = csp();
        let v = v.to_str().unwrap();
        assert!(v.starts_with("default-src 'none'; style-src 'sha256-"));
        assert_eq!(css_hash().len(), "sha256-".len() + 44);
        assert!(v.contains(css_hash()));
    }

    #[test]
    fn the_stylesheet_is_printed_as_is() {
        let html = render(
            "dashboard/message.html",
            &serde_json::json!({"title": "t", "nav": null, "flash": null}),
            &serde_json::json!({"text": "x"}),
        )
        .unwrap();
        assert!(html.contains(&format!("<style>{DASHBOARD_CSS}</style>")));
    }
}
