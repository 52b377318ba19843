//! The outbox: what to send and sending it.
//!
//! Data flows one way: planner events -> [`enqueue`] (rows in the store's
//! outbox table, idempotent by key) -> [`dispatch`] (claims with a lease,
//! re-checks, renders, sends, records). [`timing`] holds the pure sending
//! hours and backoff arithmetic, [`retention`] which finished rows the
//! daily housekeeping deletes. [`Tick`] runs one enqueue + dispatch round,
//! as the daemon's minute tick and `simulate`'s virtual clock both do.
//!
//! Must not: read the clock (every entry point takes `now` or a clock), or
//! talk to SMTP other than through `mail::Mailer`.

pub mod digest;
pub mod dispatch;
pub mod enqueue;
mod group_commit;
mod notices;
pub mod report;
pub mod retention;
pub mod simulate;
pub mod timing;
pub mod voice;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::mail::{ComposeError, Composer, TemplateErrors, Templates};
use crate::store::{Store, StoreError};

pub use dispatch::{DispatchReport, Dispatcher, SentMessage};
pub use enqueue::{
    Candidate, LOOKBACK_DAYS, Planned, Written, candidates, decide, describe, enqueue_due, stopped,
};
pub use timing::{backoff, in_sending_hours, next_sending_instant, retry_at};
pub use voice::period_ref;

/// Why the composer of a configuration cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ComposerError {
    #[error("mail templates:\n{0}")]
    Templates(#[from] TemplateErrors),
    #[error(transparent)]
    Compose(#[from] ComposeError),
}

/// The composer `hanbao run` and `simulate` both use: the configured
/// templates (checked against sample data first) and, with
/// `daemon.public_url` and the key file, the confirmation links. A key file
/// that cannot be used is logged and the notices go out without links.
pub fn composer(cfg: &Config) -> Result<Composer, ComposerError> {
    let links = match crate::link::Links::configured(&cfg.daemon) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "thư nhắc sẽ không có liên kết xác nhận");
            None
        }
    };
    composer_with_links(cfg, links)
}

/// The same composer with `links` already made (`hanbao run` takes them
/// from its snapshot, `live::Live::links`, so the mail and `/confirm`
/// share one reading of the key).
pub fn composer_with_links(
    cfg: &Config,
    links: Option<crate::link::Links>,
) -> Result<Composer, ComposerError> {
    let templates = Templates::configured(&cfg.mail)?;
    Ok(Composer::new(&cfg.mail, templates)?.with_links(links))
}

/// The planning watermark: after the first (full) planning round, later
/// rounds only plan from the day before the previous round, which keeps a
/// minute tick cheap. Reset it (e.g. after a config reload) to plan the whole
/// look-back window again; either way the result is the same rows.
#[derive(Debug, Clone, Default)]
pub struct Planning {
    last: Option<Timestamp>,
}

impl Planning {
    pub fn reset(&mut self) {
        self.last = None;
    }

    /// The first day to plan from at `now`.
    pub fn from(&self, cfg: &Config, now: Timestamp) -> Date {
        let tz = &cfg.daemon.time_zone;
        let today = tz.to_datetime(now).date();
        let back = match self.last {
            // A clock that went backwards still looks back a full day.
            Some(last) => {
                let last_day = tz.to_datetime(last.min(now)).date();
                return last_day.yesterday().unwrap_or(last_day);
            }
            None => LOOKBACK_DAYS,
        };
        today
            .checked_sub(jiff::Span::new().days(back))
            .unwrap_or(today)
    }

    /// Plans and enqueues everything due by `now`.
    pub async fn enqueue(
        &mut self,
        store: &Store,
        cfg: &Config,
        cal: &WorkCalendar,
        now: Timestamp,
    ) -> Result<Planned, StoreError> {
        let from = self.from(cfg, now);
        let report = enqueue_due(store, cfg, cal, from, now).await?;
        self.last = Some(now);
        Ok(report)
    }
}
