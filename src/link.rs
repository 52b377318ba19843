//! One-click confirmation links: HMAC-SHA256 signatures scoped to one
//! (obligation, period, unit) and an expiry instant, shared by the mail
//! side (which puts links into reminders, see [`Links`]) and `http`
//! (whose `/confirm` page checks them).
//!
//! Pure apart from [`read_key`], [`LinkKey::from_file`] and
//! [`Links::configured`] (which read the key file): no clock (`now` is an
//! argument), no HTTP, no axum. The signed text is versioned and
//! newline-separated, so no two different scopes sign the same bytes.
//! HMAC-SHA256 is the `hmac` and `sha2` crates'; a signature is checked
//! with `Mac::verify_slice` (constant time). Must not: print the key
//! (`Debug` is redacted) or compare a signature any other way.

use std::fmt;
use std::path::Path;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use hmac::{KeyInit as _, Mac as _};

use crate::config::model::Daemon;
use crate::primitives::percent;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The HMAC key of confirmation links, in the state directory (e.g.
/// `head -c 32 /dev/urandom > /var/lib/hanbao/link.key`); absent: `/confirm`
/// answers 404 and reminders carry no link.
pub const LINK_KEY_FILE: &str = "link.key";

/// How long a link in a notice stays valid after the deadline (24:00 of
/// the due day, local time) or after the notice was sent, whichever is
/// later: a late unit can confirm from any overdue notice for a month.
pub const VALID_AFTER_DEADLINE: SignedDuration = SignedDuration::from_hours(30 * 24);

/// Shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// The secret key links are signed with.
#[derive(Clone)]
pub struct LinkKey(Vec<u8>);

impl fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkKey(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LinkKeyError {
    #[error("cannot read the link key file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the link key file {path} is too short: at least {MIN_KEY_BYTES} bytes")]
    TooShort { path: String },
}

impl LinkKey {
    /// A key from bytes (at least [`MIN_KEY_BYTES`]).
    pub fn new(bytes: Vec<u8>) -> Option<LinkKey> {
        (bytes.len() >= MIN_KEY_BYTES).then_some(LinkKey(bytes))
    }

    /// Reads a key file as raw bytes: every byte is key, none is trimmed.
    /// A random key (`head -c 32 /dev/urandom`) starts or ends with a byte
    /// that reads as ASCII whitespace (space, tab, CR, LF, form feed) about
    /// one time in 26; trimming made such keys too short and switched the
    /// links off.
    pub fn from_file(path: &Path) -> Result<LinkKey, LinkKeyError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| LinkKeyError::Read {
            path: shown.clone(),
            source,
        })?;
        LinkKey::new(bytes).ok_or(LinkKeyError::TooShort { path: shown })
    }
}

/// The key file `<state_dir>/link.key` of `[daemon]`: `Ok(None)` when it
/// does not exist, an error when it exists but cannot be used. The one
/// reader of the file: `live::Live::load` (each start and reload of
/// `hanbao run`, for the mail and `/confirm` alike) and `hanbao check`
/// (through [`Links::configured`]).
pub fn read_key(daemon: &Daemon) -> Result<Option<LinkKey>, LinkKeyError> {
    let path = daemon.state_dir.join(LINK_KEY_FILE);
    if !path.exists() {
        return Ok(None);
    }
    LinkKey::from_file(&path).map(Some)
}

/// What a link confirms, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkScope {
    pub obligation: String,
    pub period: String,
    pub unit: String,
    /// Epoch seconds after which the link is refused.
    pub expires: i64,
}

impl LinkScope {
    fn message(&self) -> Vec<u8> {
        format!(
            "hanbao-confirm-v1\n{}\n{}\n{}\n{}",
            self.obligation, self.period, self.unit, self.expires
        )
        .into_bytes()
    }

    /// HMAC-SHA256 of this scope's text under `key`, before finalising.
    fn mac(&self, key: &LinkKey) -> HmacSha256 {
        // Any key length is valid for HMAC; `new_from_slice` never fails.
        let mut mac = HmacSha256::new_from_slice(&key.0).expect("HMAC takes keys of any length");
        mac.update(&self.message());
        mac
    }

    /// The signature, 64 lowercase hex digits.
    pub fn sign(&self, key: &LinkKey) -> String {
        hex::encode(self.mac(key).finalize().into_bytes())
    }

    /// The path and query of the confirmation page for this scope.
    pub fn path(&self, key: &LinkKey) -> String {
        format!(
            "/confirm?o={}&p={}&u={}&e={}&s={}",
            percent(&self.obligation),
            percent(&self.period),
            percent(&self.unit),
            self.expires,
            self.sign(key)
        )
    }

    /// Checks `signature` (hex, either case) in constant time, then the
    /// expiry at `now`.
    pub fn verify(&self, key: &LinkKey, signature: &str, now: Timestamp) -> Result<(), LinkError> {
        let tag = hex::decode(signature).map_err(|_| LinkError::Tampered)?;
        self.mac(key)
            .verify_slice(&tag)
            .map_err(|_| LinkError::Tampered)?;
        if now.as_second() > self.expires {
            return Err(LinkError::Expired);
        }
        Ok(())
    }
}

/// Why a link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link's signature does not match")]
    Tampered,
    #[error("the link has expired")]
    Expired,
}

/// What the mail side needs to put a confirmation link into a notice: the
/// public base URL of the web server (`daemon.public_url`), the key, and
/// the time zone the deadline is counted in.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
    key: LinkKey,
    time_zone: TimeZone,
}

impl Links {
    /// `base` is an absolute http(s) URL (a trailing `/` is ignored), e.g.
    /// `https://baocao.quangngai.example` or `https://example.gov.vn/hanbao`.
    pub fn new(base: &str, key: LinkKey, time_zone: TimeZone) -> Links {
        Links {
            base: base.trim_end_matches('/').to_string(),
            key,
            time_zone,
        }
    }

    /// Links as `[daemon]` asks: `Ok(None)` without `public_url` or without
    /// the key file `<state_dir>/link.key`; an error when the file exists
    /// but cannot be used (the caller logs it and sends without links).
    pub fn configured(daemon: &Daemon) -> Result<Option<Links>, LinkKeyError> {
        let Some(base) = &daemon.public_url else {
            return Ok(None);
        };
        Ok(read_key(daemon)?.map(|key| Links::new(base, key, daemon.time_zone.clone())))
    }

    /// The full confirmation URL for (obligation, period, unit) due on
    /// `due`, in a notice sent at `sent_at`: the link expires
    /// [`VALID_AFTER_DEADLINE`] after the deadline or after `sent_at`,
    /// whichever is later.
    pub fn confirm_url(
        &self,
        obligation: &str,
        period: &str,
        unit: &str,
        due: Date,
        sent_at: Timestamp,
    ) -> String {
        let deadline = crate::planner::deadline_instant(&self.time_zone, due);
        let expires = deadline
            .max(sent_at)
            .checked_add(VALID_AFTER_DEADLINE)
            .unwrap_or(Timestamp::MAX);
        let scope = LinkScope {
            obligation: obligation.to_string(),
            period: period.to_string(),
            unit: unit.to_string(),
            expires: expires.as_second(),
        };
        format!("{}{}", self.base, scope.path(&self.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quarterly report of `so-yte` for 2026-Q1, expiring in 2027.
    fn quarterly() -> LinkScope {
        LinkScope {
            obligation: "bc-quy".into(),
            period: "2026-Q1".into(),
            unit: "so-yte".into(),
            expires: 1_800_000_000,
        }
    }

    /// The signature is the same bytes as before HMAC came from a crate,
    /// and as OpenSSL's: `printf 'hanbao-confirm-v1\nbc-quy\n2026-Q1\nso-yte\n1800000000'
    /// | openssl dgst -sha256 -mac HMAC -macopt hexkey:0707...07` (32 bytes).
    /// Either case of hex verifies; anything else is tampered.
    #[test]
    fn signatures_are_pinned_to_openssl() {
        let (key, scope) = (LinkKey::new(vec![7; 32]).unwrap(), quarterly());
        let sig = scope.sign(&key);
        assert_eq!(
            sig,
            "629314b616c7461baae092e1957587ded0d9afb679e2bbf9ac5be3cdc4f44d49"
        );
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        assert_eq!(scope.verify(&key, &sig.to_ascii_uppercase(), now), Ok(()));
        for bad in [
            &sig[..62],
            &format!("{sig}00"),
            &sig.replacen('6', "g", 1),
            "",
        ] {
            assert_eq!(
                scope.verify(&key, bad, now),
                Err(LinkError::Tampered),
                "{bad}"
            );
        }
    }

    #[test]
    fn links_verify_only_for_their_scope_key_and_time() {
        let key = LinkKey::new(vec![7; 32]).unwrap();
        let other = LinkKey::new(vec![8; 32]).unwrap();
        let scope = quarterly();
        let sig = scope.sign(&key);
        let before = Timestamp::from_second(1_799_999_999).unwrap();
        let after = Timestamp::from_second(1_800_000_001).unwrap();
        assert_eq!(scope.verify(&key, &sig, before), Ok(()));
        assert_eq!(
            scope.verify(&key, &sig, Timestamp::from_second(1_800_000_000).unwrap()),
            Ok(()),
            "valid through its last second"
        );
        assert_eq!(scope.verify(&key, &sig, after), Err(LinkError::Expired));
        assert_eq!(scope.verify(&other, &sig, before), Err(LinkError::Tampered));
        for changed in [
            LinkScope {
                unit: "so-taichinh".into(),
                ..scope.clone()
            },
            LinkScope {
                period: "2026-Q2".into(),
                ..scope.clone()
            },
            LinkScope {
                obligation: "bc-thang".into(),
                ..scope.clone()
            },
            LinkScope {
                expires: scope.expires + 86_400,
                ..scope.clone()
            },
        ] {
            assert_eq!(
                changed.verify(&key, &sig, before),
                Err(LinkError::Tampered),
                "{changed:?}"
            );
        }
        assert!(LinkKey::new(vec![1; 31]).is_none());
        assert_eq!(format!("{key:?}"), "LinkKey(***)");
        assert_eq!(
            scope.path(&key),
            format!("/confirm?o=bc-quy&p=2026-Q1&u=so-yte&e=1800000000&s={sig}")
        );
    }

    /// The deadline of a due day is 24:00 local (UTC+7 here), so a link for
    /// 20/03/2026 sent before it expires at 2026-03-20T17:00:00Z + 30 days
    /// = 2026-04-19T17:00:00Z (checked with `date -u -d @1776618000`); one
    /// sent on 2026-05-01T01:00:00Z (an overdue notice 6 weeks late)
    /// expires 30 days after that: 1777597200 + 2592000 = 1780189200.
    #[test]
    fn links_expire_30_days_after_the_deadline_or_sending_and_verify() {
        let key = LinkKey::new(vec![9; 32]).unwrap();
        let tz = TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        let links = Links::new("https://bc.example/hanbao/", key.clone(), tz);
        let due = jiff::civil::date(2026, 3, 20);
        let early: Timestamp = "2026-03-17T01:00:00Z".parse().unwrap();
        let late: Timestamp = "2026-05-01T01:00:00Z".parse().unwrap();
        assert_eq!(late.as_second(), 1_777_597_200);
        let expiry = |url: &str| {
            let e = url.split(['?', '&']).find_map(|kv| kv.strip_prefix("e="));
            e.unwrap().parse::<i64>().unwrap()
        };
        let url = links.confirm_url("bc-quy", "2026-Q1", "so-yte", due, early);
        assert_eq!(expiry(&url), 1_776_618_000);
        let late_url = links.confirm_url("bc-quy", "2026-Q1", "so-yte", due, late);
        assert_eq!(expiry(&late_url), 1_780_189_200);
        let scope = LinkScope {
            expires: 1_776_618_000,
            ..quarterly()
        };
        assert_eq!(
            url,
            format!("https://bc.example/hanbao{}", scope.path(&key)),
            "one slash between base and path"
        );
        let sig = url.rsplit("s=").next().unwrap();
        let last_second = Timestamp::from_second(1_776_618_000).unwrap();
        assert_eq!(scope.verify(&key, sig, last_second), Ok(()));
        assert_eq!(
            scope.verify(&key, sig, Timestamp::from_second(1_776_618_001).unwrap()),
            Err(LinkError::Expired)
        );
    }
}
