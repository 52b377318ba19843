//! Stable identifiers: the Message-ID and .eml file name derived from an
//! outbox key, and the calendar UID of a deadline.
//!
//! Pure functions; no IO, no clock, no randomness: the same key always gives
//! the same identifier (SHA-256 from `sha2`, in hex from `hex`).

use sha2::{Digest as _, Sha256};

/// The first `bytes` bytes of SHA-256 of `data`, in lowercase hex.
fn digest_hex(data: &[u8], bytes: usize) -> String {
    hex::encode(&Sha256::digest(data)[..bytes])
}

/// The Message-ID (with angle brackets) for an outbox key:
/// `<first 128 bits of sha256(key) in hex>.hanbao@<domain>`.
///
/// `domain` is the domain of the configured From address, so the id looks
/// like the sender's own; the key alone decides the unique part.
pub fn message_id(outbox_key: &str, domain: &str) -> String {
    format!(
        "<{}.hanbao@{}>",
        digest_hex(outbox_key.as_bytes(), 16),
        domain
    )
}

/// The .eml file name for a Message-ID: its local part, which is plain hex
/// plus ".hanbao", so it is a safe file name and re-sending overwrites.
pub fn eml_file_name(message_id: &str) -> String {
    let inner = message_id.trim_start_matches('<').trim_end_matches('>');
    let local = inner.split('@').next().unwrap_or(inner);
    let safe: String = local
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.eml")
}

/// Lower-case ASCII label from an id: `[a-z0-9-]`, anything else as `-`.
/// Used in List-Id, whose id must be a dot-atom.
pub fn label(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "x".to_string() } else { s }
}

/// Calendar UID of a deadline: stable for (obligation, period, unit) so a
/// re-sent reminder updates the same event instead of adding one.
pub fn calendar_uid(obligation_id: &str, period_key: &str, unit_id: &str, domain: &str) -> String {
    let key = format!("{obligation_id}\u{1f}{period_key}\u{1f}{unit_id}");
    format!(
        "{}-{}-{}@hanbao.{}",
        label(obligation_id),
        label(period_key),
        digest_hex(key.as_bytes(), 8),
        domain
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The identifiers are the same bytes as before SHA-256 came from a
    /// crate: `printf '%s' 'nq121|2026-H1|ubnd-a|reminder|0|a@x.vn' |
    /// sha256sum` begins 0175591149fa745a52b7c0eed7876e44, and
    /// `printf 'bc-quy\x1f2026-Q1\x1fso-yte' | sha256sum` begins df94f6f42a7a85a6.
    #[test]
    fn identifiers_are_pinned_to_sha256sum() {
        assert_eq!(
            message_id("nq121|2026-H1|ubnd-a|reminder|0|a@x.vn", "so.example"),
            "<0175591149fa745a52b7c0eed7876e44.hanbao@so.example>"
        );
        assert_eq!(
            calendar_uid("bc-quy", "2026-Q1", "so-yte", "so.example"),
            "bc-quy-2026-q1-df94f6f42a7a85a6@hanbao.so.example"
        );
    }

    #[test]
    fn message_id_is_deterministic_and_key_sensitive() {
        let a = message_id("nq121|2026-H1|ubnd-a|reminder|0|a@x.vn", "so.example");
        let b = message_id("nq121|2026-H1|ubnd-a|reminder|0|a@x.vn", "so.example");
        let c = message_id("nq121|2026-H1|ubnd-a|reminder|1|a@x.vn", "so.example");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(
            a.starts_with('<') && a.ends_with(".hanbao@so.example>"),
            "{a}"
        );
        assert_eq!(eml_file_name(&a).len(), 32 + ".hanbao.eml".len());
    }

    #[test]
    fn labels_are_dot_atom_safe() {
        assert_eq!(label("NQ121_6tháng"), "nq121-6th-ng");
        assert_eq!(label("--"), "x");
    }
}
