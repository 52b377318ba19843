//! SQL text, written once for both backends where the dialects agree.
//!
//! A query the two dialects share is written once with PostgreSQL's
//! numbered placeholders (`$1`, `$2`, ...) and wrapped in [`sql!`], which
//! makes SQLite's form of it (`?1`, `?2`, ...: the same numbers, SQLite's
//! documented numbered-parameter syntax) at compile time. Both texts are
//! then `&'static str` constants: nothing is rewritten or allocated when a
//! query runs. A query whose text differs by dialect is a [`Sql`] made by
//! [`Sql::dialects`] from two texts, each kept in its backend's file; the
//! code that binds and runs it is still written once (`on_backend!` in
//! `store`).
//!
//! Must not: hold text that is not SQL of this crate (no user input ever
//! reaches a query's text; values are bound).

/// One query's text for each backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sql {
    sqlite: &'static str,
    postgres: &'static str,
}

impl Sql {
    /// A query whose text differs between the dialects.
    pub(crate) const fn dialects(sqlite: &'static str, postgres: &'static str) -> Sql {
        Sql { sqlite, postgres }
    }

    /// What [`sql!`] builds: the PostgreSQL text and its SQLite bytes.
    pub(crate) const fn mapped(postgres: &'static str, sqlite: &'static [u8]) -> Sql {
        match std::str::from_utf8(sqlite) {
            Ok(sqlite) => Sql { sqlite, postgres },
            Err(_) => panic!("placeholder mapping broke UTF-8"),
        }
    }

    pub(crate) const fn sqlite(&self) -> &'static str {
        self.sqlite
    }

    pub(crate) const fn postgres(&self) -> &'static str {
        self.postgres
    }
}

/// SQLite's form of a PostgreSQL text: every `$N` placeholder becomes
/// `?N` (same length, so the result is the same size). Evaluated at compile
/// time by [`sql!`]; a `$` that is not a placeholder or a `?` in the text
/// (which SQLite would read as a parameter) fails the build.
pub(crate) const fn sqlite_placeholders<const N: usize>(postgres: &str) -> [u8; N] {
    let text = postgres.as_bytes();
    assert!(text.len() == N, "length mismatch");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        let b = text[i];
        assert!(b != b'?', "a `?` in SQL written with `$N` placeholders");
        out[i] = if b == b'$' {
            assert!(
                i + 1 < N && text[i + 1].is_ascii_digit(),
                "a `$` that is not a `$N` placeholder"
            );
            b'?'
        } else {
            b
        };
        i += 1;
    }
    out
}

/// `sql!("SELECT ... WHERE id = $1")`: a [`Sql`] for a query written once
/// with `$N` placeholders; SQLite's `?N` text is made at compile time. The
/// argument must be a constant expression (a literal, `concat!` of literals
/// and column-list macros).
macro_rules! sql {
    ($text:expr) => {{
        const POSTGRES_TEXT: &str = $text;
        const SQLITE_TEXT: &[u8; POSTGRES_TEXT.len()] =
            &$crate::store::sql::sqlite_placeholders(POSTGRES_TEXT);
        $crate::store::sql::Sql::mapped(POSTGRES_TEXT, SQLITE_TEXT)
    }};
}
pub(crate) use sql;

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: Sql = sql!("UPDATE t SET a = $2 WHERE id = $1 AND b = $12 OR c = $1");

    #[test]
    fn placeholders_keep_their_numbers() {
        assert_eq!(
            SAMPLE.sqlite(),
            "UPDATE t SET a = ?2 WHERE id = ?1 AND b = ?12 OR c = ?1"
        );
        assert_eq!(
            SAMPLE.postgres(),
            "UPDATE t SET a = $2 WHERE id = $1 AND b = $12 OR c = $1"
        );
    }

    #[test]
    fn dialects_keep_both_texts() {
        let q = Sql::dialects("SELECT json_group_array(x)", "SELECT json_agg(x)");
        assert_eq!(q.sqlite(), "SELECT json_group_array(x)");
        assert_eq!(q.postgres(), "SELECT json_agg(x)");
    }

    #[test]
    #[should_panic(expected = "not a `$N` placeholder")]
    fn a_dollar_that_is_not_a_placeholder_is_refused() {
        // At run time here; in `sql!` the same check fails the build.
        let _: [u8; 8] = sqlite_placeholders("x = '$a'");
    }

    #[test]
    #[should_panic(expected = "a `?` in SQL")]
    fn a_question_mark_is_refused() {
        let _: [u8; 5] = sqlite_placeholders("x = ?");
    }
}
