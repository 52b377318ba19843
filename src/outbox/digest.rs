//! The coordinator's digest: open periods, who is late and by how much, and
//! what failed to send.
//!
//! Built from the planner and the store at `now` (an argument) and sent
//! directly, not through the outbox: it is a summary of the moment, and a
//! failed digest is logged and simply replaced by the next one. It goes to
//! `mail.reply_to` (the coordinator's office) or, without one, to the From
//! address.

use jiff::Timestamp;

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::mail::{
    self, Addressee, Composer, Digest, FailedSend, Mailer, Notice, NoticeKind, ObligationRef,
    OpenPeriod, OverdueItem, SendError,
};
use crate::planner::{self, Filter};
use crate::store::{Outbox, OutboxStatus, Records, Store, StoreError};

use super::{LOOKBACK_DAYS, period_ref, stopped};

/// How far ahead the digest lists open periods.
pub const AHEAD_DAYS: i64 = 31;

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("digest: {0}")]
    Send(#[from] SendError),
    #[error("digest: no coordinator address: {0}")]
    Address(String),
}

/// Builds the digest for the local day of `now`.
pub async fn build(
    store: &Store,
    cfg: &Config,
    cal: &WorkCalendar,
    now: Timestamp,
) -> Result<Digest, StoreError> {
    let tz = &cfg.daemon.time_zone;
    let today = tz.to_datetime(now).date();
    let from = today
        .checked_sub(jiff::Span::new().days(LOOKBACK_DAYS))
        .unwrap_or(today);
    let to = today
        .checked_add(jiff::Span::new().days(AHEAD_DAYS))
        .unwrap_or(today);
    let deadlines = planner::deadlines(cfg, cal, from, to, &Filter::default());
    let mut late = Vec::new();
    let mut open: Vec<OpenPeriod> = Vec::new();
    let mut last_pair: Option<(String, String)> = None;
    let mut states = Vec::new();
    for d in &deadlines {
        let pair = (d.obligation.id.clone(), d.period.to_string());
        if last_pair.as_ref() != Some(&pair) {
            states = store.current(&pair.0, &pair.1).await?;
            last_pair = Some(pair.clone());
        }
        let state = states.iter().find(|s| s.key.unit == d.unit.id);
        let ob_ref = ObligationRef {
            id: d.obligation.id.clone(),
            title: d.obligation.title.clone(),
            legal_basis: d.obligation.legal_basis.clone(),
        };
        if d.due < today {
            if !state.is_some_and(|s| stopped(s, today)) {
                late.push(OverdueItem {
                    unit_name: d.unit.name.clone(),
                    obligation: ob_ref,
                    period: period_ref(d.obligation, &pair.1),
                    due: d.due,
                    days_late: u32::try_from((today - d.due).get_days().max(0)).unwrap_or(0),
                });
            }
        } else {
            let submitted = u32::from(state.is_some_and(|s| s.submission.is_some()));
            match open
                .iter_mut()
                .find(|o| o.obligation.id == pair.0 && o.period.key == pair.1)
            {
                Some(o) => {
                    o.expected += 1;
                    o.submitted += submitted;
                }
                None => open.push(OpenPeriod {
                    obligation: ob_ref,
                    period: period_ref(d.obligation, &pair.1),
                    due: d.due,
                    submitted,
                    expected: 1,
                }),
            }
        }
    }
    let week_ago = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * 8))
        .unwrap_or(now);
    let failed_sends = store
        .outbox(Some(OutboxStatus::Failed))
        .await?
        .into_iter()
        .filter(|r| r.updated_at >= week_ago)
        .map(|r| FailedSend {
            recipient: r.key.recipient.clone(),
            subject: format!(
                "{} {} {} ({})",
                r.key.kind, r.key.obligation, r.key.period, r.key.unit
            ),
            reason: r.last_error.unwrap_or_default(),
        })
        .collect();
    Ok(Digest {
        as_of: today,
        open_periods: open,
        late,
        failed_sends,
    })
}

/// Builds and sends the digest to the coordinator.
pub async fn send_digest(
    store: &Store,
    cfg: &Config,
    cal: &WorkCalendar,
    composer: &Composer,
    mailer: &Mailer,
    now: Timestamp,
) -> Result<mail::Sent, DigestError> {
    let digest = build(store, cfg, cal, now).await?;
    let to_text = cfg.mail.reply_to.as_deref().unwrap_or(&cfg.mail.from);
    let mbox = mail::render::parse_mailbox(to_text).map_err(DigestError::Address)?;
    let notice = Notice {
        outbox_key: format!("digest|{}|{}", digest.as_of, mbox.email),
        kind: NoticeKind::Digest(digest),
        language: cfg.mail.language,
        recipients: vec![Addressee::new(mbox.email.to_string())],
        sent_at: now,
    };
    let msg = composer.compose(&notice).map_err(SendError::from)?;
    let sent = mailer.send(&msg).await?;
    tracing::info!(to = %msg.recipients().join(", "), subject = %msg.subject(), "digest sent");
    Ok(sent)
}
