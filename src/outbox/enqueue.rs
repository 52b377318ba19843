//! Enqueue planning: from the planner's events up to `now` and what the store
//! knows, which outbox rows to write.
//!
//! The pure part ([`candidates`], [`decide`]) takes `now` and the states as
//! arguments; [`enqueue_due`] reads the store and writes the rows. It never
//! sends anything and never reads the clock.
//!
//! Catch-up policy (also in ARCHITECTURE.md): per (obligation, period, unit)
//! only the most advanced stage whose time has come is written as pending;
//! every earlier stage not yet in the outbox is written as `skipped`, so it
//! can never go out later. A reminder or due-day notice whose deadline has
//! passed is skipped too. Nothing is written for a unit whose submission,
//! waiver or (not yet overtaken) extension is in effect. The unique key makes
//! every write idempotent, so a clock jump forward or back never duplicates.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use jiff::civil::Date;

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::planner::{self, EventKind, Filter};
use crate::store::{
    CurrentState, EnqueueReport, Key, NewOutboxRow, OutboxKey, OutboxKind, OutboxStatus, Store,
    StoreError,
};

use super::timing::next_sending_instant;
use crate::store::{Outbox, Records};

/// How far back planning looks when it has no watermark (on start): events
/// older than this are never sent.
pub const LOOKBACK_DAYS: i64 = 92;

/// The rank of the due-day notice; reminders rank 1.., overdue and
/// escalation stage s rank `DUE_TODAY_RANK + s`.
pub const DUE_TODAY_RANK: u32 = 100;

/// One notification whose time may have come, for one (obligation, period, unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub key: Key,
    pub kind: OutboxKind,
    pub stage: u32,
    pub rank: u32,
    /// When it is meant to go out.
    pub at: Timestamp,
    pub due: Date,
    /// 24:00 local on the due day.
    pub deadline: Timestamp,
    pub recipients: Vec<String>,
}

/// Turns the planner's events into candidates:
/// - a reminder stays a reminder to the unit;
/// - the deadline gives a due-day notice at the start of sending hours on
///   the due day, when that is a working day and no reminder falls on it;
/// - an escalation stage s gives an `overdue` notice to the unit's own
///   mailboxes among its recipients, and an `escalation` to the others
///   (both with stage s).
pub fn candidates(
    cfg: &Config,
    cal: &WorkCalendar,
    events: &[planner::Event<'_>],
) -> Vec<Candidate> {
    let tz = &cfg.daemon.time_zone;
    let start = cfg.daemon.sending_hours.start;
    let mut out = Vec::new();
    for e in events {
        let key = Key::new(&e.obligation.id, e.period.to_string(), &e.unit.id);
        let deadline = planner::deadline_of(tz, e.obligation, e.due);
        let base = |kind, stage, rank, at, recipients: Vec<String>| Candidate {
            key: key.clone(),
            kind,
            stage,
            rank,
            at,
            due: e.due,
            deadline,
            recipients,
        };
        let all: Vec<String> = e.recipients.iter().map(|s| s.to_string()).collect();
        match e.kind {
            EventKind::Reminder => {
                out.push(base(OutboxKind::Reminder, e.stage, e.stage, e.at, all));
            }
            EventKind::Deadline => {
                let reminder_on_due_day =
                    planner::events::reminder_days(e.obligation, cal, e.due).contains(&e.due);
                if cal.covers(e.due) && cal.is_working_day(e.due) && !reminder_on_due_day {
                    let at = tz
                        .to_timestamp(e.due.to_datetime(start))
                        .unwrap_or(Timestamp::MAX);
                    out.push(base(OutboxKind::DueToday, 0, DUE_TODAY_RANK, at, all));
                }
            }
            EventKind::Escalation => {
                let (own, others): (Vec<String>, Vec<String>) = all
                    .into_iter()
                    .partition(|a| e.unit.emails.iter().any(|m| m == a));
                let rank = DUE_TODAY_RANK + e.stage;
                if !own.is_empty() {
                    out.push(base(OutboxKind::Overdue, e.stage, rank, e.at, own));
                }
                if !others.is_empty() {
                    out.push(base(OutboxKind::Escalation, e.stage, rank, e.at, others));
                }
            }
        }
    }
    out
}

/// Whether nothing more should be sent for a key on `today`: a submission
/// or waiver is in effect, or an extension that has not been overtaken.
pub fn stopped(state: &CurrentState, today: Date) -> bool {
    state.submission.is_some()
        || state.waiver.is_some()
        || state.extension.as_ref().is_some_and(|x| x.until >= today)
}

/// The rows to write for the candidates whose time has come (`at <= now`),
/// per the catch-up policy in the module docs. `states` holds what is in
/// effect per key (missing = nothing).
pub fn decide(
    cfg: &Config,
    cal: &WorkCalendar,
    candidates: &[Candidate],
    states: &HashMap<Key, CurrentState>,
    now: Timestamp,
) -> Vec<NewOutboxRow> {
    let tz = &cfg.daemon.time_zone;
    let today = tz.to_datetime(now).date();
    let mut groups: BTreeMap<&Key, Vec<&Candidate>> = BTreeMap::new();
    for c in candidates.iter().filter(|c| c.at <= now) {
        groups.entry(&c.key).or_default().push(c);
    }
    let mut out = Vec::new();
    for (key, group) in groups {
        if states.get(key).is_some_and(|s| stopped(s, today)) {
            continue;
        }
        let top = group.iter().map(|c| c.rank).max().unwrap_or(0);
        for c in group {
            let stale =
                matches!(c.kind, OutboxKind::Reminder | OutboxKind::DueToday) && now >= c.deadline;
            let status = if c.rank == top && !stale {
                OutboxStatus::Pending
            } else {
                OutboxStatus::Skipped
            };
            for r in &c.recipients {
                out.push(NewOutboxRow {
                    key: OutboxKey {
                        obligation: key.obligation.clone(),
                        period: key.period.clone(),
                        unit: key.unit.clone(),
                        kind: c.kind,
                        stage: c.stage,
                        recipient: r.clone(),
                    },
                    rank: c.rank,
                    due_on: c.due,
                    status,
                    next_attempt_at: next_sending_instant(c.at, tz, cfg.daemon.sending_hours, cal),
                });
            }
        }
    }
    out
}

/// Why a row was written as it was (derived again from the row: the
/// catch-up policy in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Why {
    /// Pending: its time has come.
    Due,
    /// Skipped: the deadline passed before a reminder or due-day notice
    /// could go out.
    DeadlinePassed,
    /// Skipped: a later stage's time has come too (after downtime, or an
    /// obligation added late), and only the latest goes out.
    LaterStage,
}

/// Why `row` (as `decide` wrote it at `now`) is pending or skipped.
pub fn why(row: &NewOutboxRow, cfg: &Config, now: Timestamp) -> Why {
    let due_time = cfg.obligation(&row.key.obligation).and_then(|o| o.due_time);
    if row.status == OutboxStatus::Pending {
        Why::Due
    } else if matches!(row.key.kind, OutboxKind::Reminder | OutboxKind::DueToday)
        && now >= planner::deadline_at(&cfg.daemon.time_zone, row.due_on, due_time)
    {
        Why::DeadlinePassed
    } else {
        Why::LaterStage
    }
}

/// A kind of notice and its stage, in words (for the log).
pub fn kind_vi(kind: OutboxKind, stage: u32) -> String {
    match kind {
        OutboxKind::Reminder => format!("thư nhắc hạn (lần {stage})"),
        OutboxKind::DueToday => "thư báo đến hạn hôm nay".into(),
        OutboxKind::Overdue => format!("thư báo quá hạn (mức {stage}) gửi đơn vị"),
        OutboxKind::Escalation => {
            format!("thư đôn đốc (mức {stage}) gửi lãnh đạo, cấp trên, nơi nhận")
        }
        OutboxKind::Acknowledgement => "thư báo đã nhận báo cáo gửi đơn vị".into(),
    }
}

/// The most groups [`Written::lines`] names one by one.
pub const MAX_DESCRIBED: usize = 20;

/// One group of written rows: (obligation, period, kind, stage, why).
type GroupKey = (String, String, OutboxKind, u32, Why);

/// What the daemon's log says of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Group {
    units: usize,
    last_unit: String,
    rows: usize,
    first_at: Option<Timestamp>,
    due: Option<Date>,
}

/// The rows an enqueue wrote, folded into what the daemon's log says of
/// them: per (obligation, period, kind, stage, why), how many units and
/// messages and, for pending rows, when the first goes out. A few hundred
/// groups whatever the number of rows (a first start at national scale
/// writes over a million), so planning never keeps the rows themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    groups: BTreeMap<GroupKey, Group>,
}

impl Written {
    /// Adds `rows` as `decide` wrote them at `now`. The rows of one
    /// (obligation, period, unit) come together (as `decide` writes them),
    /// which is how units are counted without keeping their ids.
    pub fn add(&mut self, rows: &[NewOutboxRow], cfg: &Config, now: Timestamp) {
        for r in rows {
            let k = &r.key;
            let g = self
                .groups
                .entry((
                    k.obligation.clone(),
                    k.period.clone(),
                    k.kind,
                    k.stage,
                    why(r, cfg, now),
                ))
                .or_default();
            if g.rows == 0 || g.last_unit != k.unit {
                g.units += 1;
                g.last_unit.clone_from(&k.unit);
            }
            g.rows += 1;
            g.first_at = Some(
                g.first_at
                    .map_or(r.next_attempt_at, |t| t.min(r.next_attempt_at)),
            );
            g.due.get_or_insert(r.due_on);
        }
    }

    /// Adds the groups of `other` (written by another obligation: no group
    /// in common).
    pub fn merge(&mut self, other: Written) {
        for (k, g) in other.groups {
            match self.groups.entry(k) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(g);
                }
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    let mine = o.get_mut();
                    mine.units += g.units;
                    mine.rows += g.rows;
                    mine.first_at = match (mine.first_at, g.first_at) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    mine.due = mine.due.or(g.due);
                }
            }
        }
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The log lines: one per group, at most [`MAX_DESCRIBED`], then how
    /// many more.
    pub fn lines(&self, cfg: &Config) -> Vec<String> {
        let tz = &cfg.daemon.time_zone;
        let total = self.groups.len();
        let mut lines: Vec<String> = self
            .groups
            .iter()
            .take(MAX_DESCRIBED)
            .map(|((ob, period, kind, stage, why), g)| {
                let what = format!(
                    "{ob} kỳ {period}: {} — {} đơn vị, {} thư",
                    kind_vi(*kind, *stage),
                    g.units,
                    g.rows
                );
                match why {
                    Why::Due => format!(
                        "{what}: chờ gửi từ {}",
                        g.first_at
                            .map(|t| crate::logging::local_time(t, tz))
                            .unwrap_or_default()
                    ),
                    Why::DeadlinePassed => format!(
                        "{what}: bỏ qua (không bao giờ gửi) vì hạn nộp {} đã qua",
                        g.due.map(crate::tracking::dmy).unwrap_or_default()
                    ),
                    Why::LaterStage => format!(
                        "{what}: bỏ qua (không bao giờ gửi) vì đã đến lúc của một lần nhắc hoặc mức sau; sau thời gian ngừng chạy chỉ gửi lần mới nhất"
                    ),
                }
            })
            .collect();
        if total > MAX_DESCRIBED {
            lines.push(format!("và {} nhóm thư khác", total - MAX_DESCRIBED));
        }
        lines
    }
}

/// What an `enqueue` wrote, in words for the daemon's log: one line per
/// (obligation, period, kind, stage, why), with the units and messages it
/// covers and, for pending rows, when they go out (local time); at most
/// [`MAX_DESCRIBED`] lines, then how many more.
pub fn describe(report: &EnqueueReport, cfg: &Config, now: Timestamp) -> Vec<String> {
    let mut w = Written::default();
    w.add(&report.written, cfg, now);
    w.lines(cfg)
}

/// What a planning round did: the counts of every batch, and the rows it
/// wrote folded for the log ([`Written`]; `report.written` is left empty,
/// so a round never holds its rows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Planned {
    pub report: EnqueueReport,
    pub written: Written,
}

impl std::ops::Deref for Planned {
    type Target = EnqueueReport;

    fn deref(&self) -> &EnqueueReport {
        &self.report
    }
}

/// Plans the events whose day lies in `[from, today]`, keeps those due by
/// `now`, reads the states of their keys and writes the rows: one
/// obligation at a time, and within it batches of whole periods of at most
/// [`BATCH_EVENTS`] events, each in its own transaction, so memory holds
/// one obligation's events and one batch's candidates and rows at most (a
/// first start at national scale plans 92 days of 4,000 units × 20
/// reports: over a million rows, which planned at once peaked at 1.2 GB
/// resident in a debug build). A key is one obligation's one period, never
/// split between batches, so the catch-up policy sees the same candidates
/// per key as when everything was planned at once, and the rows written
/// are the same.
pub async fn enqueue_due(
    store: &Store,
    cfg: &Config,
    cal: &WorkCalendar,
    from: Date,
    now: Timestamp,
) -> Result<Planned, StoreError> {
    let mut planned = Planned::default();
    for ob in &cfg.obligations {
        let r = enqueue_obligation(store, cfg, cal, &ob.id, from, now).await?;
        planned.written.merge(r.written);
        let total = &mut planned.report;
        total.pending += r.report.pending;
        total.skipped += r.report.skipped;
        total.existing += r.report.existing;
        total.superseded += r.report.superseded;
    }
    Ok(planned)
}

/// At most how many planner events one batch of [`enqueue_due`] turns into
/// candidates and rows (whole periods: a period is never split, so every
/// key's candidates are in one batch). A daily report at national scale
/// has about half a million events in 92 days.
pub const BATCH_EVENTS: usize = 20_000;

/// [`enqueue_due`] for the one obligation `obligation`: its events sorted
/// by period, then written in batches of whole periods of at most
/// [`BATCH_EVENTS`] events (one period more when a single period is larger).
async fn enqueue_obligation(
    store: &Store,
    cfg: &Config,
    cal: &WorkCalendar,
    obligation: &str,
    from: Date,
    now: Timestamp,
) -> Result<Planned, StoreError> {
    let today = cfg.daemon.time_zone.to_datetime(now).date();
    let filter = Filter {
        obligation: Some(obligation.to_string()),
        unit: None,
    };
    let mut events = planner::plan(cfg, cal, from, today, &filter);
    events.sort_by(|a, b| a.period.cmp(&b.period));
    let mut planned = Planned::default();
    let mut rest = &events[..];
    while !rest.is_empty() {
        let mut end = 0;
        for chunk in rest.chunk_by(|a, b| a.period == b.period) {
            if end > 0 && end + chunk.len() > BATCH_EVENTS {
                break;
            }
            end += chunk.len();
        }
        let (batch, later) = rest.split_at(end);
        rest = later;
        let r = enqueue_events(store, cfg, cal, batch, now).await?;
        planned.written.add(&r.written, cfg, now);
        let total = &mut planned.report;
        total.pending += r.pending;
        total.skipped += r.skipped;
        total.existing += r.existing;
        total.superseded += r.superseded;
    }
    Ok(planned)
}

/// Candidates of `events` due by `now`, the states of their keys, the rows
/// to write, written in one transaction.
async fn enqueue_events(
    store: &Store,
    cfg: &Config,
    cal: &WorkCalendar,
    events: &[planner::Event<'_>],
    now: Timestamp,
) -> Result<EnqueueReport, StoreError> {
    let cands: Vec<Candidate> = candidates(cfg, cal, events)
        .into_iter()
        .filter(|c| c.at <= now)
        .collect();
    let mut states: HashMap<Key, CurrentState> = HashMap::new();
    let mut pairs: Vec<(&str, &str)> = cands
        .iter()
        .map(|c| (c.key.obligation.as_str(), c.key.period.as_str()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    for (obligation, period) in pairs {
        for s in store.current(obligation, period).await? {
            states.insert(s.key.clone(), s);
        }
    }
    let rows = decide(cfg, cal, &cands, &states, now);
    drop(cands);
    drop(states);
    store.enqueue(rows, now).await
}
