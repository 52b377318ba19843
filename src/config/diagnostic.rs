//! Problems found while loading a configuration, and the two results of a
//! load: [`Loaded`] (valid, maybe with warnings) and [`ConfigErrors`].
//!
//! A diagnostic points at a file position (1-based line and column in
//! characters), names the key path, quotes the bad value and says what would
//! be valid. Messages are in Vietnamese with the English key names of the
//! file. Nothing here may carry a secret: values of password keys are never
//! quoted. No IO.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

use super::model::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file as it was named (main path, or include resolved against it).
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no position (e.g. the main file is missing).
    pub line: usize,
    /// 1-based, counted in characters; 0 when unknown.
    pub column: usize,
    /// Where in the configuration, e.g. `obligation "nq121-6thang": reminders[1]`.
    pub key: String,
    /// The offending value as written (TOML-quoted when it is a string), if any.
    pub value: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What would be valid, if there is something useful to say.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// `file:line:col` (or just `file` when there is no position). Control
    /// characters in the file name are shown escaped.
    pub fn location(&self) -> String {
        let file = self.file.display().to_string();
        let file = escape_controls(&file);
        if self.line == 0 {
            file.into_owned()
        } else {
            format!("{file}:{}:{}", self.line, self.column)
        }
    }
}

/// Whether `c` is a control character that configured text may not hold:
/// C0 controls (CR, LF, NUL, ESC, ...) except TAB, DEL, and C1 controls.
pub fn is_refused_control(c: char) -> bool {
    c.is_control() && c != '\t'
}

/// `s` with every control character (TAB included) written as a TOML
/// escape (`\r`, `\n`, `\t`, `\e`, `\u0000`), so that nothing a message
/// quotes can move the cursor or rewrite a terminal line.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: lỗi: <key> = <value>: <message>; <hint>`, with any
    /// control character escaped (a message is one line on a terminal).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "lỗi",
            Severity::Warning => "cảnh báo",
        };
        write!(f, "{}: {level}: ", self.location())?;
        if !self.key.is_empty() {
            f.write_str(&escape_controls(&self.key))?;
            if let Some(v) = &self.value {
                write!(f, " = {}", escape_controls(v))?;
            }
            f.write_str(": ")?;
        } else if let Some(v) = &self.value {
            write!(f, "{}: ", escape_controls(v))?;
        }
        f.write_str(&escape_controls(&self.message))?;
        if let Some(h) = &self.hint {
            write!(f, "; {}", escape_controls(h))?;
        }
        Ok(())
    }
}

/// A configuration that passed validation.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
}

/// Every problem found in one run. `errors` is never empty.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", summary(self))]
pub struct ConfigErrors {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

fn summary(e: &ConfigErrors) -> String {
    let mut s = format!("cấu hình có {} lỗi", e.errors.len());
    for d in &e.errors {
        s.push('\n');
        s.push_str(&d.to_string());
    }
    s
}
