//! The configuration in force: one snapshot per start or reload, shared
//! by the daemon and the web face.
//!
//! A [`Live`] holds the validated configuration, its working-day calendar
//! and the key of one-click confirmation links (`<state_dir>/link.key`),
//! read once, when the snapshot is made ([`Live::load`]). `hanbao run`
//! makes one at start and one per successful reload, and hands the same
//! `Arc<Live>` to its dispatcher (whose notices carry links signed with
//! that key, `Live::links`) and to the web face (whose `/confirm` checks
//! them with it, `Live::link_key`): the two never disagree about the key,
//! and a key created or rotated takes effect on both with the reload.
//! Rotating the key revokes every link signed with the old one.
//!
//! A reader takes the `Arc` and keeps it for its whole request or tick: a
//! reload swaps the snapshot, never a part of one.
//!
//! Must not: read the clock (`today` takes `now`), or hold anything that
//! changes between reloads (counters, sessions, the store).

use jiff::Timestamp;
use jiff::civil::Date;

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::link::{self, LinkKey, Links};

/// The configuration in force, its calendar and the link key.
#[derive(Debug)]
pub struct Live {
    pub cfg: Config,
    pub cal: WorkCalendar,
    /// The key of one-click confirmation links; `None`: links off
    /// (`/confirm` answers 404, notices carry no link).
    link_key: Option<LinkKey>,
}

impl Live {
    /// A snapshot of `cfg` without a link key; no IO.
    pub fn new(cfg: Config) -> Live {
        Live {
            cal: WorkCalendar::new(&cfg.calendar),
            cfg,
            link_key: None,
        }
    }

    /// The same snapshot with this link key (`None`: links off).
    pub fn with_link_key(mut self, key: Option<LinkKey>) -> Live {
        self.link_key = key;
        self
    }

    /// The snapshot `hanbao run` makes at start and on each reload: `cfg`
    /// with the key file `<state_dir>/link.key` read now (`link::read_key`).
    /// A key file that exists but cannot be used is logged, and the links
    /// are off until a reload finds a good one.
    pub fn load(cfg: Config) -> Live {
        let key = match link::read_key(&cfg.daemon) {
            Ok(Some(key)) => {
                tracing::info!(
                    path = %cfg.daemon.state_dir.join(link::LINK_KEY_FILE).display(),
                    "liên kết xác nhận một lần nhấp: bật"
                );
                Some(key)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!(
                    error = %e,
                    "liên kết xác nhận một lần nhấp: tắt (thư nhắc không kèm liên kết, /confirm trả 404)"
                );
                None
            }
        };
        Live::new(cfg).with_link_key(key)
    }

    /// The key `/confirm` checks links with.
    pub fn link_key(&self) -> Option<&LinkKey> {
        self.link_key.as_ref()
    }

    /// What the mail side puts links into notices with: `daemon.public_url`
    /// and the key; `None` when either is missing.
    pub fn links(&self) -> Option<Links> {
        let base = self.cfg.daemon.public_url.as_deref()?;
        let key = self.link_key.clone()?;
        Some(Links::new(base, key, self.cfg.daemon.time_zone.clone()))
    }

    /// The local day of `now` in the configured time zone.
    pub fn today(&self, now: Timestamp) -> Date {
        self.cfg.daemon.time_zone.to_datetime(now).date()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(state_dir: &std::path::Path, public_url: bool) -> Config {
        let url = if public_url {
            "public_url = \"https://bc.example/\"\n"
        } else {
            ""
        };
        let text = format!(
            "[daemon]\nstate_dir = \"{}\"\n{url}\n[[unit]]\nid = \"so\"\nname = \"Sở\"\nemail = \"a@so.example\"\n",
            state_dir.display()
        );
        crate::config::load_str("l.toml", &text)
            .unwrap_or_else(|e| panic!("{e}"))
            .config
    }

    /// The key is read when the snapshot is made, whole; `/confirm` has it
    /// without `public_url`, the mail only with it; a short key file
    /// turns both off.
    #[test]
    fn a_snapshot_reads_the_link_key_once_for_both_sides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(link::LINK_KEY_FILE);
        assert!(Live::load(config(dir.path(), true)).link_key().is_none());

        std::fs::write(&path, [7u8; 32]).unwrap();
        let live = Live::load(config(dir.path(), true));
        let key = LinkKey::new(vec![7; 32]).unwrap();
        let scope = link::LinkScope {
            obligation: "bc".into(),
            period: "2026".into(),
            unit: "so".into(),
            expires: 1_800_000_000,
        };
        let signed = scope.sign(live.link_key().unwrap());
        assert_eq!(signed, scope.sign(&key));
        let url = live.links().unwrap().confirm_url(
            "bc",
            "2026",
            "so",
            jiff::civil::date(2026, 3, 20),
            Timestamp::UNIX_EPOCH,
        );
        assert!(url.starts_with("https://bc.example/confirm?"), "{url}");

        // Written again after the snapshot: the snapshot keeps its key.
        std::fs::write(&path, [8u8; 32]).unwrap();
        assert_eq!(scope.sign(live.link_key().unwrap()), signed);

        let without_url = Live::load(config(dir.path(), false));
        assert!(without_url.link_key().is_some() && without_url.links().is_none());

        std::fs::write(&path, [9u8; 31]).unwrap();
        let short = Live::load(config(dir.path(), true));
        assert!(short.link_key().is_none() && short.links().is_none());
    }
}
