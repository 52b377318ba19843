//! The coordinator's digest: every overdue report that `hanbao status`
//! shows that day, grouped by report with totals, the deadlines of the
//! coming weeks, and what failed to send.
//!
//! The overdue part is computed by the same code as `hanbao status`
//! (`tracking::targets`, one `Store::facts` read, `tracking::rows`, so
//! `status::classify`): the digest can never say "none" while `status`
//! lists overdue units. Built at `now` (an argument) and sent directly, not
//! through the outbox: it is a summary of the moment, and a failed digest
//! is logged and replaced by the next one. It goes to `mail.reply_to` (the
//! coordinator's office) or, without one, to the From address.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::mail::{
    self, Addressee, Composer, Digest, FailedSend, LateUnit, Mailer, Notice, NoticeKind,
    ObligationRef, SendError, Standing, UnitRef,
};
use crate::planner::{self, Filter};
use crate::status::StateName;
use crate::store::{Key, Outbox, OutboxStatus, Records, Store, StoreError};
use crate::tracking::{self, Selection, TrackingError};

use super::voice::{self, obligation_ref};

/// How far ahead the digest lists deadlines (today included).
pub const AHEAD_DAYS: i64 = 21;

/// How far back the digest lists failed messages.
pub const FAILED_DAYS: i64 = 8;

/// At most how many failed messages the digest lists (the oldest first):
/// the digest is read by a person, and the rows are read by a bounded
/// query, never the whole outbox.
pub const FAILED_LISTED: u32 = 200;

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("digest: {0}")]
    Tracking(#[from] TrackingError),
    #[error("digest: {0}")]
    Send(#[from] SendError),
    #[error("digest: no coordinator address: {0}")]
    Address(String),
}

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

/// The overdue report-periods of `today`, as `hanbao status` (without
/// filters) shows them, each with its totals.
async fn overdue(
    store: &Store,
    cfg: &Config,
    cal: &WorkCalendar,
    today: Date,
) -> Result<Vec<Standing>, DigestError> {
    let mut targets = tracking::targets(cfg, cal, &Selection::default(), today)?;
    // `status` shows an earlier period only for its unsettled units; the
    // totals need them all. Only settled units are added back, and a
    // settled unit is never overdue, so the overdue set is `status`'s.
    for t in &mut targets {
        t.all_units = true;
    }
    let pairs: Vec<(String, String)> = targets
        .iter()
        .map(|t| (t.obligation.id.clone(), t.period.to_string()))
        .collect();
    let facts = store.facts(&pairs).await?;
    let rows = tracking::rows(&targets, facts, cal, today);
    let mut out: Vec<Standing> = Vec::new();
    let mut slot: HashMap<(&str, &str), usize> = HashMap::new();
    for t in &targets {
        slot.insert((t.obligation.id.as_str(), &*t.period), out.len());
        out.push(Standing {
            obligation: obligation_ref(t.obligation),
            period: voice::period_ref(&t.period, cfg.mail.language),
            due: t.schedule.due,
            expected: t.units.len() as u32,
            submitted: 0,
            submitted_late: 0,
            waived: 0,
            late: Vec::new(),
            span: None,
        });
    }
    for r in &rows {
        let Some(&i) = slot.get(&(r.obligation.id.as_str(), &*r.period)) else {
            continue;
        };
        let s = &mut out[i];
        match r.status.state {
            StateName::SubmittedOnTime => s.submitted += 1,
            StateName::SubmittedLate => {
                s.submitted += 1;
                s.submitted_late += 1;
            }
            StateName::Waived => s.waived += 1,
            StateName::Overdue => s.late.push(LateUnit {
                unit: UnitRef {
                    id: r.unit.id.clone(),
                    name: r.unit.name.clone(),
                },
                due: r.status.due,
                days_late: r.status.days_late.unwrap_or(0).max(0) as u32,
                working_days_late: r.status.working_days_late.unwrap_or(0).max(0) as u32,
                notices: Vec::new(),
                periods: Vec::new(),
            }),
            _ => {}
        }
    }
    out.retain(|s| !s.late.is_empty());
    Ok(group_short(cfg, out))
}

/// A report with short periods (daily, weekly, ...) late for several of
/// them: one standing for the report, one line per late unit with how many
/// periods and since when (`mail::group_short_periods`); the units in
/// configuration order. Other reports stay one standing per period.
fn group_short(cfg: &Config, overdue: Vec<Standing>) -> Vec<Standing> {
    let short = |id: &str| cfg.obligation(id).is_some_and(|o| o.cycle.is_short());
    let position: HashMap<&str, usize> = cfg
        .units
        .iter()
        .enumerate()
        .rev()
        .map(|(i, u)| (u.id.as_str(), i))
        .collect();
    mail::group_short_periods(overdue.into_iter().map(|s| ((), s)).collect(), short)
        .into_iter()
        .map(|((), mut s, from)| {
            if from.len() > 1 {
                s.late
                    .sort_by_key(|l| position.get(l.unit.id.as_str()).copied());
            }
            s
        })
        .collect()
}

/// The report-periods due from `today` to `today + AHEAD_DAYS`, with how
/// many units have sent them.
async fn upcoming(
    store: &Store,
    cfg: &Config,
    cal: &WorkCalendar,
    today: Date,
) -> Result<Vec<Standing>, DigestError> {
    let deadlines = planner::deadlines(
        cfg,
        cal,
        today,
        add_days(today, AHEAD_DAYS),
        &Filter::default(),
    );
    let mut out: Vec<Standing> = Vec::new();
    let mut slot: HashMap<(String, String), usize> = HashMap::new();
    let mut units: Vec<Vec<String>> = Vec::new();
    for d in &deadlines {
        let pair = (d.obligation.id.clone(), d.period.to_string());
        let i = *slot.entry(pair.clone()).or_insert_with(|| {
            out.push(Standing {
                obligation: obligation_ref(d.obligation),
                period: voice::period_ref(&pair.1, cfg.mail.language),
                due: d.due,
                expected: 0,
                submitted: 0,
                submitted_late: 0,
                waived: 0,
                late: Vec::new(),
                span: None,
            });
            units.push(Vec::new());
            out.len() - 1
        });
        out[i].expected += 1;
        units[i].push(d.unit.id.clone());
    }
    let pairs: Vec<(String, String)> = out
        .iter()
        .map(|s| (s.obligation.id.clone(), s.period.key.clone()))
        .collect();
    for f in store.facts(&pairs).await? {
        let Key {
            obligation,
            period,
            unit,
        } = &f.key;
        let Some(&i) = slot.get(&(obligation.clone(), period.clone())) else {
            continue;
        };
        if !units[i].contains(unit) {
            continue;
        }
        if f.waived {
            out[i].waived += 1;
        } else if let Some(on) = f.submitted_on {
            out[i].submitted += 1;
            if on > f.extended_until.unwrap_or(out[i].due) {
                out[i].submitted_late += 1;
            }
        }
    }
    // A daily report's coming days: one line, from the nearest.
    Ok(group_short(cfg, out))
}

/// The messages that failed permanently in the last [`FAILED_DAYS`].
async fn failed(
    store: &Store,
    cfg: &Config,
    now: Timestamp,
) -> Result<Vec<FailedSend>, DigestError> {
    let tz = &cfg.daemon.time_zone;
    let since = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * FAILED_DAYS))
        .unwrap_or(now);
    Ok(store
        .outbox_recent(OutboxStatus::Failed, since, FAILED_LISTED)
        .await?
        .into_iter()
        .map(|r| {
            let (obligation, period) = match cfg.obligation(&r.key.obligation) {
                Some(ob) => (
                    obligation_ref(ob),
                    voice::period_ref(&r.key.period, cfg.mail.language),
                ),
                None => (
                    ObligationRef {
                        id: r.key.obligation.clone(),
                        title: r.key.obligation.clone(),
                        short: r.key.obligation.clone(),
                        legal_basis: None,
                    },
                    mail::PeriodRef {
                        key: r.key.period.clone(),
                        label: r.key.period.clone(),
                    },
                ),
            };
            FailedSend {
                recipient: r.key.recipient.clone(),
                kind: r.key.kind.as_str().to_string(),
                unit_name: cfg
                    .unit(&r.key.unit)
                    .map_or_else(|| r.key.unit.clone(), |u| u.name.clone()),
                obligation,
                period,
                on: tz.to_datetime(r.updated_at).date(),
                reason: r.last_error.unwrap_or_default(),
            }
        })
        .collect())
}

/// The coordinator's mailbox: `mail.reply_to`, else `mail.from`.
fn coordinator(cfg: &Config) -> Result<Addressee, DigestError> {
    let text = cfg.mail.reply_to.as_deref().unwrap_or(&cfg.mail.from);
    let mbox = mail::render::parse_mailbox(text).map_err(DigestError::Address)?;
    Ok(match mbox.name {
        Some(name) => Addressee::named(mbox.email.to_string(), name),
        None => Addressee::new(mbox.email.to_string()),
    })
}

/// Builds the digest for the local day of `now`.
pub async fn build(
    store: &Store,
    cfg: &Config,
    cal: &WorkCalendar,
    now: Timestamp,
) -> Result<Digest, DigestError> {
    let today = cfg.daemon.time_zone.to_datetime(now).date();
    // The coordinating agency speaks; its contact is the coordinator (else
    // the display name of the digest's address).
    let speaker = voice::coordinator(cfg);
    let coordinator_name = match &speaker.contact {
        Some(c) => Some(c.name.clone()),
        None => coordinator(cfg).ok().and_then(|a| a.name),
    };
    Ok(Digest {
        as_of: today,
        speaker,
        coordinator: coordinator_name,
        overdue: overdue(store, cfg, cal, today).await?,
        upcoming: upcoming(store, cfg, cal, today).await?,
        failed_sends: failed(store, cfg, now).await?,
        dashboard_url: cfg
            .daemon
            .public_url
            .as_ref()
            .map(|u| format!("{}/dashboard", u.trim_end_matches('/'))),
    })
}

/// The digest as a notice to the coordinator (its Message-ID from the day
/// and the address, so a digest written twice is one message).
pub async fn notice(
    store: &Store,
    cfg: &Config,
    cal: &WorkCalendar,
    now: Timestamp,
) -> Result<Notice, DigestError> {
    let to = coordinator(cfg)?;
    let digest = build(store, cfg, cal, now).await?;
    Ok(Notice {
        outbox_key: format!("digest|{}|{}", digest.as_of, to.address),
        kind: NoticeKind::Digest(digest),
        language: cfg.mail.language,
        recipients: vec![to],
        sent_at: now,
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
) -> Result<(mail::Sent, mail::Outgoing), DigestError> {
    let notice = notice(store, cfg, cal, now).await?;
    let msg = composer.compose(&notice).map_err(SendError::from)?;
    let sent = mailer.send(&msg).await?;
    tracing::info!(to = %msg.recipients().join(", "), subject = %msg.subject(), "đã gửi thư tổng hợp");
    Ok((sent, msg))
}
