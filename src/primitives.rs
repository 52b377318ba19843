//! The few fixed shapes in which hanbao uses its hashing, randomness and
//! URL crates, in one module below every layer, so that no layer reaches
//! into another (the mail side, the link signer, the web side) for them.
//!
//! The primitives themselves are the crates': `sha2` (SHA-256), `getrandom`
//! (the operating system's random source through its system call, no file
//! descriptor, no `/dev`), `subtle` (constant-time equality), `hex`,
//! `percent-encoding`, `url` and `unicode-normalization`. This module only fixes what more than one
//! place needs: a digest as 64 lowercase hex digits, a fresh secret as hex,
//! a URL component percent-encoded, a URL fit to print, a name folded for
//! search without diacritics. A crate with a
//! single user is imported there directly: `hmac` by `link`, `base64` by
//! `mail::mime` (and the dashboard's stylesheet hash); `mail::mime` also
//! takes `sha2` directly, for the seed of a message's multipart boundaries
//! (a number, not a digest in hex).
//!
//! Pure apart from the random source: no clock, no files, no logging. Must
//! not: print, log or keep a secret it is given or makes.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// SHA-256 of `data` as 64 lowercase hex digits (the stored form of API
/// tokens and the key of dashboard sessions).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `len` bytes from the operating system's random source, as `2 * len`
/// lowercase hex digits.
pub fn random_hex(len: usize) -> std::io::Result<String> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    Ok(hex::encode(bytes))
}

/// Whether `a == b`, in time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const URL_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a path segment or query value: every byte of the UTF-8
/// but the unreserved characters, as `%XX` (upper-case hex).
pub fn percent(s: &str) -> String {
    utf8_percent_encode(s, URL_COMPONENT).to_string()
}

/// A URL (typically a database URL) fit to print in a diagnostic or a log:
/// the password, in the userinfo or a query parameter whose name holds
/// `password`, becomes `***`, and no part of it can remain (the query is
/// cut at `&` as the server cuts it; a fragment is dropped).
///
/// Parsed with `url`, which ends the userinfo at the *last* `@` before the
/// host, so `postgres://u:p@ss@host/db` gives `postgres://u:***@host/db`.
/// Text the parser rejects, or where an `@` is left outside the userinfo (a
/// password holding `/`, `?` or `#`), shows only its scheme: `postgres://***`.
/// Text without `@`, `?` or `#` (a plain SQLite path, `sqlite::memory:`)
/// has nowhere to hold a password and is returned as it is.
pub fn redact_url(text: &str) -> String {
    if let Ok(mut url) = url::Url::parse(text) {
        let at_only_in_userinfo = !url.path().contains('@')
            && !url.query().is_some_and(|q| q.contains('@'))
            && !url.fragment().is_some_and(|f| f.contains('@'));
        let password_hidden = url.password().is_none() || url.set_password(Some("***")).is_ok();
        if at_only_in_userinfo && password_hidden {
            let mut changed = redact_password_parameters(&mut url);
            // A database URL has no use for a fragment; a `#` in a password
            // given as a query parameter would start one.
            if url.fragment().is_some() {
                url.set_fragment(None);
                changed = true;
            }
            return if changed || url.password().is_some() {
                url.to_string()
            } else {
                text.to_string()
            };
        }
    }
    if !text.contains(['@', '?', '#']) {
        return text.to_string();
    }
    match text.split_once("://") {
        Some((scheme, _))
            if !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
        {
            format!("{scheme}://***")
        }
        _ => "***".to_string(),
    }
}

/// Replaces the value of every query parameter whose name holds `password`
/// (`password`, `sslpassword`, ...) with `***`; whether there was one.
fn redact_password_parameters(url: &mut url::Url) -> bool {
    let secret = |k: &str| k.to_ascii_lowercase().contains("password");
    if !url.query_pairs().any(|(k, _)| secret(&k)) {
        return false;
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if secret(&k) {
                "***".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    true
}

/// `s` folded for search without diacritics: decomposed (NFD), the
/// combining marks U+0300–U+036F dropped, đ/Đ (and the look-alike Ð,
/// U+00D0) read as `d`, then lowercased. "Hòa Hiệp" and "Hoà Hiệp" (old
/// and new tone placement, NFC or NFD) all fold to "hoa hiep". Letters of
/// other scripts are only lowercased; nothing is transliterated.
pub fn fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    s.nfd()
        .filter(|c| !('\u{0300}'..='\u{036F}').contains(c))
        .map(|c| match c {
            'đ' | 'Đ' | 'Ð' => 'd',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_is_lowercase_hex_of_the_digest() {
        // FIPS 180-4 example vector, also `printf abc | sha256sum`.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn random_hex_is_fresh_lowercase_hex_of_the_length_asked() {
        let a = random_hex(32).unwrap();
        let b = random_hex(32).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn constant_time_eq_compares_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn percent_keeps_only_unreserved_characters() {
        assert_eq!(percent("a b/ư"), "a%20b%2F%C6%B0");
        assert_eq!(percent("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(percent("&=?#%+"), "%26%3D%3F%23%25%2B");
    }

    /// The password never prints, whatever it holds; URLs without one
    /// print as they are.
    #[test]
    fn redact_url_hides_every_part_of_the_password() {
        for (url, want) in [
            ("postgres://u:p@ss@host/db", "postgres://u:***@host/db"),
            (
                "postgres://u:secret@host:5432/db",
                "postgres://u:***@host:5432/db",
            ),
            ("mysql://u:a@b@c@db.example/x", "mysql://u:***@db.example/x"),
            (
                "postgres://u@host/db?sslmode=require&password=secret",
                "postgres://u@host/db?sslmode=require&password=***",
            ),
            (
                "postgres://u@host/db?sslpassword=secret",
                "postgres://u@host/db?sslpassword=***",
            ),
            // '/', '?' or '#' end the authority for the parser, so an '@'
            // is left outside it: only the scheme shows.
            ("postgres://u:p/ss@host/db", "postgres://***"),
            ("postgres://u:123/x@host/db", "postgres://***"),
            ("postgres://u:p?w@host/db", "postgres://***"),
            ("postgres://host/db?password=s@cret", "postgres://***"),
            // Not a URL at all.
            ("postgres://u:secret@bad host/db", "postgres://***"),
            ("post gres://u:secret@host/db", "***"),
            ("u:secret@host", "***"),
            // Nothing to hide.
            (
                "postgres://hanbao@localhost/hanbao",
                "postgres://hanbao@localhost/hanbao",
            ),
            (
                "sqlite:///var/lib/hanbao/hanbao.db",
                "sqlite:///var/lib/hanbao/hanbao.db",
            ),
            ("sqlite:hanbao.db", "sqlite:hanbao.db"),
            ("sqlite::memory:", "sqlite::memory:"),
            ("/var/lib/hanbao/hanbao.db", "/var/lib/hanbao/hanbao.db"),
            ("", ""),
        ] {
            assert_eq!(redact_url(url), want, "{url}");
        }
        // Secrets of characters found nowhere else in the URLs: not one of
        // them may show, in any shape of URL.
        let secret_chars = "ZQXW789";
        for secret in [
            "ZQ@XW", "ZQXW", "Z@Q@X", "ZQ/XW", "789/XW", "ZQ?XW", "ZQ#XW", "Z:Q",
        ] {
            for url in [
                format!("postgres://u:{secret}@host/db"),
                format!("postgres://u:{secret}@host/db?password={secret}"),
                format!("postgres://u@host/db?password={secret}&sslmode=require"),
                format!("mysql://u:{secret}@host:1/db"),
                format!("u:{secret}@host"),
            ] {
                let shown = redact_url(&url);
                assert!(
                    !shown.contains(|c| secret_chars.contains(c)),
                    "{url} -> {shown}"
                );
            }
        }
    }

    #[test]
    fn fold_reads_every_vietnamese_letter_as_ascii() {
        // The 67 lowercase letters with a diacritic, then their capitals.
        let lower = "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ";
        let base = "aaaaaaaaaaaaaaaaadeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyy";
        assert_eq!(lower.chars().count(), 67);
        assert_eq!(fold(lower), base);
        let upper = lower.to_uppercase();
        assert_eq!(upper.chars().count(), 67);
        assert_eq!(fold(&upper), base);
        // Decomposed input folds alike, and so does the old tone placement.
        use unicode_normalization::UnicodeNormalization as _;
        let nfd: String = upper.nfd().collect();
        assert_ne!(nfd, upper);
        assert_eq!(fold(&nfd), base);
        assert_eq!(fold("UBND xã Hòa Hiệp Trung"), "ubnd xa hoa hiep trung");
        assert_eq!(fold("Hoà"), fold("Hòa"));
        assert_eq!(
            fold("Sở Tài nguyên tỉnh Đắk Lắk"),
            "so tai nguyen tinh dak lak"
        );
        assert_eq!(fold("đĐÐ"), "ddd");
        assert_eq!(fold("so-gd_01"), "so-gd_01");
    }
}
