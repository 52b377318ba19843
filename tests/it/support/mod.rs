//! Test helpers shared by the integration tests.
//!
//! The ones that need hanbao's own types live here (`backend`, `procs`,
//! `browser`, which drives chromium, and `notices`, one message of each
//! kind for each reader through the real pipeline); the rest come from the `testkit`
//! crate, shared with the benchmarks, and are re-exported under the names
//! the tests use: `smtp` (the SMTP sink), `pg` (the PostgreSQL cluster),
//! `http` (the one HTTP/1.1 client), `mime` (the MIME reader, on
//! `mail-parser`).

pub mod backend;
pub mod browser;
pub mod imap;
pub mod notices;
pub mod procs;

pub use testkit::{http, mime, pg, smtp};

/// Turns on `/confirm` with `key`, as a reload that finds a new
/// `link.key` does: the snapshot in force again, with the key.
pub fn turn_on_links(state: &hanbao::http::AppState, key: &hanbao::link::LinkKey) {
    let cfg = state.live().cfg.clone();
    let live = hanbao::live::Live::new(cfg).with_link_key(Some(key.clone()));
    state.reloaded(Some(std::sync::Arc::new(live)));
}

/// A time zone in which the current local time is far from midnight, for
/// the tests that run the real binary on the real clock ("today is a
/// working day, remind every unit today"). Vietnam's own zone when its
/// local hour is between 04:00 and 20:00, otherwise UTC−5 (where it then is
/// between 08:00 and 16:00), so a test started late in the Vietnamese
/// evening does not see its "today" change under it. Returns the IANA name
/// written into the configuration and the zone.
pub fn daytime_zone() -> (&'static str, jiff::tz::TimeZone) {
    let now = jiff::Timestamp::now();
    for name in ["Asia/Ho_Chi_Minh", "Etc/GMT+5"] {
        let tz = jiff::tz::TimeZone::get(name).expect("time zone database");
        let hour = tz.to_datetime(now).hour();
        if (4..20).contains(&hour) {
            return (name, tz);
        }
    }
    unreachable!("UTC+7 and UTC-5 are 12 hours apart; one is in 04:00-20:00")
}
