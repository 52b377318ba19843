//! The real pipeline over a virtual clock: planner, outbox, dispatcher,
//! templates and transport, stepped through every instant that matters.
//!
//! What it yields is what `hanbao run` started at 00:00 of the first day on
//! the same database would send, message for message and byte for byte:
//! the catch-up of the first tick (the most advanced stage of each report
//! whose time has come in the look-back window, sent when the first sending
//! window opens), every reminder, due-day, overdue and grouped escalation,
//! the confirmation links (when the composer has them) and the
//! coordinator's digest at the instants the caller gives (the cron times of
//! `daemon.digest`: `daemon::schedule::occurrences`). At an instant that is
//! both, the tick runs before the digest, as the daemon's test clock does.
//!
//! The caller supplies a throwaway store and a mailer (file transport or the
//! configured SMTP). Instants that matter: every planned notification's
//! sending time, the opening of the sending window while rows wait, every
//! recorded submission, every retry, every digest. Never reads the real
//! clock.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::{Date, Time};

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::mail::{Composer, Mailer};
use crate::planner::{self, Filter};
use crate::store::{NewSubmission, Store, StoreError};

use super::{
    Dispatcher, LOOKBACK_DAYS, Planning, SentMessage, candidates, in_sending_hours,
    next_sending_instant,
};
use crate::store::{Outbox, Records};

/// Days planned at once when looking for the instants that matter.
const PLAN_SLICE_DAYS: i64 = 31;

/// Why a simulation stopped.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("--to {to} is before --from {from}")]
    Range { from: Date, to: Date },
}

/// Runs the season `[from, to]` (local days). Submissions are recorded at
/// 00:00 local of their `received_on` (or at `received_at` if given); the
/// digest is sent at each of `digests` inside the season. Hands each
/// message given to the transport to `each`, in sending order, as soon as
/// its dispatch run ends (a national year is millions of messages: the
/// caller decides what to keep). Returns how many there were.
#[allow(clippy::too_many_arguments)]
pub async fn simulate(
    store: &Store,
    cfg: &Config,
    cal: &WorkCalendar,
    composer: &Composer,
    mailer: &Mailer,
    from: Date,
    to: Date,
    mut submissions: Vec<NewSubmission>,
    digests: &[Timestamp],
    each: &mut (dyn FnMut(SentMessage) + Send),
) -> Result<usize, SimulateError> {
    if to < from {
        return Err(SimulateError::Range { from, to });
    }
    let tz = &cfg.daemon.time_zone;
    let hours = cfg.daemon.sending_hours;
    let local = |d: Date| {
        tz.to_timestamp(d.to_datetime(Time::midnight()))
            .unwrap_or(Timestamp::MAX)
    };
    let start = local(from);
    let end = local(to.tomorrow().unwrap_or(to));

    let plan_from = from
        .checked_sub(jiff::Span::new().days(LOOKBACK_DAYS))
        .unwrap_or(from);
    // The instants that matter, planned a month at a time: a year of a
    // national configuration is millions of events, and only the distinct
    // sending instants are kept. `plan` returns the events whose day is in
    // the slice and each event gives its candidates alone, so the slices
    // give exactly the instants of one plan over the whole range.
    let mut points: BTreeSet<Timestamp> = BTreeSet::new();
    let mut slice_from = plan_from;
    while slice_from <= to {
        let slice_to = slice_from
            .checked_add(jiff::Span::new().days(PLAN_SLICE_DAYS - 1))
            .unwrap_or(to)
            .min(to);
        let events = planner::plan(cfg, cal, slice_from, slice_to, &Filter::default());
        points.extend(
            candidates(cfg, cal, &events)
                .iter()
                .map(|c| next_sending_instant(c.at, tz, hours, cal)),
        );
        match slice_to.tomorrow() {
            Ok(next) if slice_to < to => slice_from = next,
            _ => break,
        }
    }
    let sub_at = |s: &NewSubmission| s.received_at.unwrap_or_else(|| local(s.received_on));
    points.extend(submissions.iter().map(sub_at));
    let digests: BTreeSet<Timestamp> = digests
        .iter()
        .copied()
        .filter(|t| (start..end).contains(t))
        .collect();
    points.extend(digests.iter().copied());
    submissions.sort_by_key(sub_at);
    let mut submissions = submissions.into_iter().peekable();

    let dispatcher = Dispatcher {
        cfg,
        cal,
        composer,
        mailer,
        owner: "simulate",
    };
    let mut planning = Planning::default();
    let mut count = 0;
    let mut t = start;
    loop {
        while let Some(s) = submissions.next_if(|s| sub_at(s) <= t) {
            store.record_submission(s, t).await?;
        }
        planning.enqueue(store, cfg, cal, t).await?;
        let report = dispatcher.run(store, &|| t).await?;
        count += report.sent.len();
        report.sent.into_iter().for_each(&mut *each);
        if digests.contains(&t) {
            match super::digest::send_digest(store, cfg, cal, composer, mailer, t).await {
                Ok((sent, msg)) => {
                    count += 1;
                    each(SentMessage {
                        sent_at: t,
                        kind: "digest",
                        recipients: msg.recipients().to_vec(),
                        subject: msg.subject().to_string(),
                        message_id: sent.message_id,
                        detail: sent.detail,
                    });
                }
                // As in the daemon: logged, and replaced by the next one.
                Err(super::digest::DigestError::Store(e)) => return Err(e.into()),
                Err(e) => tracing::error!(error = %e, "digest not sent"),
            }
        }
        // Rows waiting for a later attempt, or already due but outside the
        // sending hours (the catch-up of the first tick): the daemon sends
        // them at its first tick inside a sending window.
        let retry = match store.outbox_next_due(Timestamp::MIN).await? {
            Some(r) if r > t => Some(next_sending_instant(r, tz, hours, cal)),
            Some(_) if !in_sending_hours(t, tz, hours, cal) => {
                Some(next_sending_instant(t, tz, hours, cal))
            }
            _ => store
                .outbox_next_due(t)
                .await?
                .map(|r| next_sending_instant(r, tz, hours, cal)),
        };
        let next = points
            .range(
                t.checked_add(jiff::SignedDuration::from_secs(1))
                    .unwrap_or(t)..,
            )
            .next()
            .copied();
        let next = match (next, retry) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(n) => n,
                None => break,
            },
        };
        if next >= end || next <= t {
            break;
        }
        t = next;
    }
    Ok(count)
}
