//! Collecting diagnostics: the files read (to turn byte spans into line and
//! column), the [`Reporter`] that gathers every problem, and the small
//! [`Problem`] builder each check describes its problem with.
//!
//! Also the shared wording helpers of the messages: [`quote`] for values,
//! [`join`] for key paths, [`nearest`] for "did you mean" suggestions.
//! No IO, no validation: `load` and `validate` decide what is a problem.

use std::ops::Range;
use std::path::PathBuf;

use super::diagnostic::{Diagnostic, Severity, escape_controls};

/// One file that was read.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub(crate) fn new(path: PathBuf, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path,
            text,
            line_starts,
        }
    }

    /// 1-based line and character column of a byte offset.
    pub fn position(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= byte);
        let start = self.line_starts[line - 1];
        let col = self
            .text
            .get(start..byte)
            .map_or(byte - start, |s| s.chars().count());
        (line, col + 1)
    }

    /// The source text of a span, shortened for messages.
    pub(crate) fn snippet(&self, span: &Range<usize>) -> String {
        let s = self.text.get(span.clone()).unwrap_or("").trim();
        let s = s.lines().next().unwrap_or("");
        if s.chars().count() > 80 {
            format!("{}…", s.chars().take(80).collect::<String>())
        } else {
            s.to_string()
        }
    }
}

/// A place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    /// Index in [`Reporter::files`]; `usize::MAX` for "no file".
    pub file: usize,
    pub span: Range<usize>,
}

/// One problem being described: where it is, under which key, what is
/// wrong; then, optionally, the value as written and what would be valid.
/// Handed to [`Reporter::report`]:
///
/// ```ignore
/// rep.report(Problem::error(&loc, "daemon.state_dir", "phải là đường dẫn tuyệt đối")
///     .quoted(raw)
///     .hint("ví dụ \"/var/lib/hanbao\""));
/// ```
#[derive(Debug, Clone)]
#[must_use = "a problem is only seen once it is reported"]
pub struct Problem {
    severity: Severity,
    loc: Loc,
    key: String,
    message: String,
    value: Option<String>,
    hint: Option<String>,
}

impl Problem {
    /// An error: the configuration cannot be used until it is fixed.
    pub fn error(loc: &Loc, key: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem::new(Severity::Error, loc, key, message)
    }

    /// A warning: legal, but probably not what was meant.
    pub fn warning(loc: &Loc, key: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem::new(Severity::Warning, loc, key, message)
    }

    fn new(
        severity: Severity,
        loc: &Loc,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            severity,
            loc: loc.clone(),
            key: key.into(),
            message: message.into(),
            value: None,
            hint: None,
        }
    }

    /// The offending value, exactly as it is to be shown (a number, `[]`,
    /// `"***"` for a secret, or an already quoted string).
    pub fn value(mut self, shown: impl Into<String>) -> Problem {
        self.value = Some(shown.into());
        self
    }

    /// The offending string value as written, quoted with [`quote`].
    pub fn quoted(self, raw: &str) -> Problem {
        self.value(quote(raw))
    }

    /// [`Problem::value`] when there is one.
    pub fn maybe_value(mut self, shown: Option<String>) -> Problem {
        self.value = shown;
        self
    }

    /// What would be valid.
    pub fn hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }

    /// [`Problem::hint`] when there is one.
    pub fn maybe_hint(mut self, hint: Option<String>) -> Problem {
        self.hint = hint;
        self
    }
}

/// Collects diagnostics and turns spans into positions.
#[derive(Debug, Default)]
pub struct Reporter {
    pub files: Vec<SourceFile>,
    pub diags: Vec<Diagnostic>,
}

impl Reporter {
    /// Records `problem` with the file and position of its location.
    pub fn report(&mut self, problem: Problem) {
        let Problem {
            severity,
            loc,
            key,
            message,
            value,
            hint,
        } = problem;
        let (file, line, column) = match self.files.get(loc.file) {
            Some(f) => {
                let (l, c) = f.position(loc.span.start);
                (f.path.clone(), l, c)
            }
            None => (PathBuf::new(), 0, 0),
        };
        self.diags.push(Diagnostic {
            severity,
            file,
            line,
            column,
            key,
            value,
            message,
            hint,
        });
    }

    /// How many errors have been reported so far.
    pub fn error_count(&self) -> usize {
        self.diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// "file:line:col" of a location, for "already declared at ..." messages.
    pub fn place(&self, loc: &Loc) -> String {
        match self.files.get(loc.file) {
            Some(f) => {
                let (l, c) = f.position(loc.span.start);
                format!("{}:{l}:{c}", f.path.display())
            }
            None => "?".into(),
        }
    }
}

/// Longest value shown whole in a message, in characters; a longer one is
/// cut with "…" and its length (a 5 MB value was echoed in every message
/// about its element).
pub const MAX_QUOTED_CHARS: usize = 200;

/// Quotes a string value for messages, as a TOML string would be written:
/// `\\` and `"` escaped, and control characters too (`\\r`, `\\n`,
/// `\\e`, `\\u0000`), so a quoted value is always one visible line.
pub fn quote(s: &str) -> String {
    let n = s.chars().count();
    let shown = if n > MAX_QUOTED_CHARS {
        let head: String = s.chars().take(MAX_QUOTED_CHARS).collect();
        format!("{head}… ({n} ký tự)")
    } else {
        s.to_string()
    };
    let shown = shown.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{}\"", escape_controls(&shown))
}

/// Joins a key path: `unit "x"` + `email` -> `unit "x": email`, `daemon` + `x` -> `daemon.x`.
pub fn join(prefix: &str, sub: &str) -> String {
    if prefix.is_empty() {
        sub.to_string()
    } else if sub.is_empty() {
        prefix.to_string()
    } else if prefix.ends_with('"') {
        format!("{prefix}: {sub}")
    } else if sub.starts_with('[') {
        format!("{prefix}{sub}")
    } else {
        format!("{prefix}.{sub}")
    }
}

/// The nearest candidate to `word`, if it is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
