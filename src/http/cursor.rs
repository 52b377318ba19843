//! The opaque cursor of `GET /api/v1/status`: where the next page starts.
//!
//! A cursor is `v1.` followed by base64url (no padding) of a small JSON
//! object: the day every page of the listing is judged on (pinned by the
//! first page, so a listing that spans midnight stays one snapshot), the
//! last (obligation, period, unit) already returned, and a fingerprint of
//! the filters (the first 16 hex digits of a SHA-256 of their canonical
//! form), so a cursor cannot be replayed with other filters.
//!
//! It is not signed: it carries no secret and grants nothing. A forged
//! cursor can only move the start of a listing the caller may read anyway
//! (a unit token's filters always name its unit, and the fingerprint ties
//! the cursor to them). Must not: read the store or the clock.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// What every cursor starts with: the format's version.
const PREFIX: &str = "v1.";

/// Longer cursors are refused before decoding (a real one is about 150
/// characters; ids are short).
pub const MAX_LEN: usize = 2048;

/// A decoded cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The day every page is judged on.
    pub at: Date,
    /// The last row already returned: (obligation, period, unit).
    pub after: (String, String, String),
    /// The fingerprint of the filters the listing was made with.
    pub filters: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    at: String,
    after: [String; 3],
    sel: String,
}

/// Why a cursor cannot be used (Vietnamese, for the API's message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("cursor không đọc được (dùng nguyên giá trị cursor trong header Link của trang trước)")]
    Garbled,
    #[error(
        "cursor thuộc một danh sách với bộ lọc khác; giữ nguyên các tham số của trang đầu (obligation, period, unit, group, state, at) khi dùng cursor"
    )]
    OtherFilters,
}

impl Cursor {
    /// The text of the cursor.
    pub fn encode(&self) -> String {
        let wire = Wire {
            at: self.at.to_string(),
            after: [
                self.after.0.clone(),
                self.after.1.clone(),
                self.after.2.clone(),
            ],
            sel: self.filters.clone(),
        };
        let json = serde_json::to_vec(&wire).expect("a struct of strings");
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }

    /// Reads `text` and checks it belongs to a listing with `filters` (a
    /// [`fingerprint`]).
    pub fn decode(text: &str, filters: &str) -> Result<Cursor, CursorError> {
        if text.len() > MAX_LEN {
            return Err(CursorError::Garbled);
        }
        let body = text.strip_prefix(PREFIX).ok_or(CursorError::Garbled)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CursorError::Garbled)?;
        let wire: Wire = serde_json::from_slice(&json).map_err(|_| CursorError::Garbled)?;
        let at = wire.at.parse::<Date>().map_err(|_| CursorError::Garbled)?;
        if wire.sel != filters {
            return Err(CursorError::OtherFilters);
        }
        let [o, p, u] = wire.after;
        Ok(Cursor {
            at,
            after: (o, p, u),
            filters: wire.sel,
        })
    }
}

/// The fingerprint of a listing's filters: the first 16 hex digits of the
/// SHA-256 of `name=value` lines (absent filters as `name` alone), in the
/// order given.
pub fn fingerprint(filters: &[(&str, Option<&str>)]) -> String {
    let mut canonical = String::new();
    for (name, value) in filters {
        canonical.push_str(name);
        if let Some(v) = value {
            canonical.push('=');
            // Lengths first, so that no value can imitate another filter.
            canonical.push_str(&format!("{}:{v}", v.len()));
        }
        canonical.push('\n');
    }
    crate::primitives::sha256_hex(canonical.as_bytes())[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cursor {
        Cursor {
            at: jiff::civil::date(2026, 3, 25),
            after: ("bc-quy".into(), "2026-Q1".into(), "so-yte".into()),
            filters: fingerprint(&[("obligation", Some("bc-quy")), ("unit", None)]),
        }
    }

    #[test]
    fn round_trips() {
        let c = sample();
        let text = c.encode();
        assert!(text.starts_with("v1."));
        assert_eq!(Cursor::decode(&text, &c.filters), Ok(c));
    }

    #[test]
    fn refuses_other_filters_and_garbage() {
        let c = sample();
        let text = c.encode();
        let other = fingerprint(&[("obligation", Some("bc-thang")), ("unit", None)]);
        assert_eq!(
            Cursor::decode(&text, &other),
            Err(CursorError::OtherFilters)
        );
        for bad in [
            "",
            "v1.",
            "v2.e30",
            "v1.!!!",
            "v1.e30",
            &text[..text.len() - 3],
            &"v1.A".repeat(1000),
        ] {
            assert_eq!(
                Cursor::decode(bad, &c.filters),
                Err(CursorError::Garbled),
                "{bad}"
            );
        }
    }

    #[test]
    fn fingerprints_differ_by_value_and_presence() {
        let a = fingerprint(&[("group", Some("x")), ("state", None)]);
        let b = fingerprint(&[("group", None), ("state", Some("x"))]);
        let c = fingerprint(&[("group", Some("x\nstate=1:y")), ("state", None)]);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 16);
    }
}
