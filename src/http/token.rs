//! API token secrets: generation, hashing and constant-time comparison.
//!
//! A secret is `hanbao_` followed by 64 hex digits (32 bytes from the
//! operating system's random source). Only its SHA-256 is stored. The
//! primitives are `crate::primitives`' (random hex, SHA-256 hex,
//! constant-time equality). Must not: log or format a secret anywhere but
//! the one line `hanbao token create` prints.

/// Every secret starts with this, so a leaked one is easy to recognise.
pub const PREFIX: &str = "hanbao_";

/// A fresh secret: 32 bytes from the operating system's random source.
pub fn generate() -> std::io::Result<String> {
    Ok(format!("{PREFIX}{}", crate::primitives::random_hex(32)?))
}

/// The stored form of a secret: SHA-256, 64 lowercase hex digits.
pub fn hash(secret: &str) -> String {
    crate::primitives::sha256_hex(secret.as_bytes())
}

pub use crate::primitives::constant_time_eq;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_fresh_prefixed_and_hash_to_64_hex() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 64);
        let h = hash(&a);
        assert_eq!(h.len(), 64);
        assert!(
            h.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(h, hash(&b));
        // FIPS 180-4 vector for "abc".
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
