//! Events: the deadline, the reminders before it and the escalations after
//! it, for every (obligation, period, reporting unit), with their instants and
//! resolved email recipients.
//!
//! Pure: no IO, never reads the clock; the date range is an argument. The
//! times of a period's events depend only on its due day and the calendar, so
//! they are computed once per (obligation, period) and shared by all its
//! reporters; recipients are resolved once per (obligation, unit).

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::{Offset, TimeZone};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::calendar::WorkCalendar;
use crate::config::model::{
    Config, Cycle, DayUnit, EscalationTarget, Obligation, Offset as DayOffset, Recipient,
    SendingHours, Unit,
};
use crate::period::PeriodKey;
use crate::planner::due::{
    add_days, after, before, deadline_civil, deadline_of, local_instant, reach,
};
use crate::planner::{Filter, Scope, clamp_range, due_periods};

/// What an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// The deadline itself: 24:00 local on the due day, or the
    /// obligation's time of day on it.
    Deadline,
    /// A reminder before the deadline.
    Reminder,
    /// A notice after the deadline to the unit and the people above it.
    Escalation,
}

impl EventKind {
    /// The name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Deadline => "deadline",
            EventKind::Reminder => "reminder",
            EventKind::Escalation => "escalation",
        }
    }
}

/// One planned event for one reporting unit.
#[derive(Clone)]
pub struct Event<'a> {
    pub obligation: &'a Obligation,
    pub period: PeriodKey,
    pub unit: &'a Unit,
    pub kind: EventKind,
    /// 0 for the deadline; 1.. in time order for reminders and for escalations.
    pub stage: u32,
    /// When the event happens (the deadline: 00:00 local after the due day).
    pub at: Timestamp,
    /// The configured zone's UTC offset at `at` (for display and JSON).
    pub offset: Offset,
    /// The due day of the period (after overrides and rolling).
    pub due: Date,
    /// Email addresses, deduplicated, in the order the rules list them.
    pub recipients: Arc<[&'a str]>,
}

impl Event<'_> {
    /// The local date and time of `at`.
    pub fn local(&self) -> jiff::civil::DateTime {
        self.offset.to_datetime(self.at)
    }

    /// The local day the event belongs to: the due day for the deadline
    /// (24:00 ends that day), the day of `at` for the others.
    pub fn day(&self) -> Date {
        match self.kind {
            EventKind::Deadline => self.due,
            _ => self.local().date(),
        }
    }

    /// `at` as RFC 3339 with the zone's offset, e.g. `2026-06-19T07:30:00+07:00`.
    pub fn at_rfc3339(&self) -> String {
        format!("{:.0}", self.at.display_with_offset(self.offset))
    }
}

impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("obligation", &self.obligation.id)
            .field("period", &self.period.to_string())
            .field("unit", &self.unit.id)
            .field("kind", &self.kind)
            .field("stage", &self.stage)
            .field("at", &self.at_rfc3339())
            .field("due", &self.due)
            .field("recipients", &self.recipients)
            .finish()
    }
}

/// Serialises as
/// `{"obligation": ID, "period": KEY, "unit": ID, "kind": ..., "stage": N, "at": RFC3339, "due": "YYYY-MM-DD", "recipients": [...]}`.
impl Serialize for Event<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Event", 8)?;
        st.serialize_field("obligation", &self.obligation.id)?;
        st.serialize_field("period", &self.period.to_string())?;
        st.serialize_field("unit", &self.unit.id)?;
        st.serialize_field("kind", self.kind.as_str())?;
        st.serialize_field("stage", &self.stage)?;
        st.serialize_field("at", &self.at_rfc3339())?;
        st.serialize_field("due", &self.due.to_string())?;
        st.serialize_field("recipients", &*self.recipients)?;
        st.end()
    }
}

/// Marks a slot that uses the unit's own mailboxes rather than a ladder stage.
const UNIT_MAIL: usize = usize::MAX;

/// One event time of one (obligation, period), shared by all its reporters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub at: Timestamp,
    pub kind: EventKind,
    pub stage: u32,
    /// Escalation ladder index for recipients, or [`UNIT_MAIL`].
    pub ladder: usize,
}

/// Where one reminder falls for a due day: its day (a working day) and,
/// for an offset in hours, the local time it asks for when that is on the
/// same day (`None`: the start of the sending hours). Days are counted
/// back from the due day and moved back to a working day; hours are
/// counted back from the deadline instant (24:00, or its time of day), and
/// a non-working day moves the reminder back to the working day before.
fn reminder_point(
    obligation: &Obligation,
    cal: &WorkCalendar,
    due: Date,
    o: DayOffset,
) -> (Date, Option<Time>) {
    match o.unit {
        DayUnit::Hours => {
            let deadline = deadline_civil(due, obligation.due_time);
            let t = deadline
                .checked_sub(jiff::Span::new().hours(i64::from(o.amount)))
                .unwrap_or(deadline);
            let day = cal.on_or_before(t.date());
            (day, (day == t.date()).then_some(t.time()))
        }
        _ => (cal.on_or_before(before(cal, due, o)), None),
    }
}

/// Reminder days for a due day: each offset before it, moved back to a
/// working day, duplicates dropped, in time order.
pub fn reminder_days(obligation: &Obligation, cal: &WorkCalendar, due: Date) -> Vec<Date> {
    let mut days: Vec<Date> = obligation
        .reminders
        .iter()
        .map(|&o| reminder_point(obligation, cal, due, o).0)
        .collect();
    days.sort_unstable();
    days.dedup();
    days
}

/// The reminders of a due day as (day, local time), one a day (the
/// earliest), in time order: the days of [`reminder_days`], each at the
/// start of the sending hours, or, for an offset in hours, at the time it
/// asks for when that lies inside the sending hours (a time outside them
/// gives the start of that day's sending hours).
pub fn reminder_times(
    obligation: &Obligation,
    cal: &WorkCalendar,
    hours: SendingHours,
    due: Date,
) -> Vec<(Date, Time)> {
    let mut out: Vec<(Date, Time)> = obligation
        .reminders
        .iter()
        .map(|&o| {
            let (day, at) = reminder_point(obligation, cal, due, o);
            let at = match at {
                Some(t) if hours.start <= t && t < hours.end => t,
                _ => hours.start,
            };
            (day, at)
        })
        .collect();
    out.sort_unstable();
    out.dedup_by_key(|(day, _)| *day);
    out
}

/// Whether a reminder on `day` belongs to a period that opens on `opens`:
/// a reminder before its period has even started (a "10 ngày" reminder of
/// a daily report) is dropped; `check` warns about it. A one-off without
/// `period_start` keeps them all (its window starts on its last day only
/// for want of a known start).
fn within_period(obligation: &Obligation, day: Date, opens: Date) -> bool {
    matches!(obligation.cycle, Cycle::Once { start: None, .. }) || day >= opens
}

/// The reminder days of a period that opens on `opens`: those of
/// [`reminder_days`] on or after it (see [`within_period`]).
pub fn reminder_days_from(
    obligation: &Obligation,
    cal: &WorkCalendar,
    due: Date,
    opens: Date,
) -> Vec<Date> {
    let mut days = reminder_days(obligation, cal, due);
    days.retain(|&d| within_period(obligation, d, opens));
    days
}

/// [`reminder_times`] of a period that opens on `opens` (see
/// [`within_period`]).
pub fn reminder_times_from(
    obligation: &Obligation,
    cal: &WorkCalendar,
    hours: SendingHours,
    due: Date,
    opens: Date,
) -> Vec<(Date, Time)> {
    let mut times = reminder_times(obligation, cal, hours, due);
    times.retain(|&(d, _)| within_period(obligation, d, opens));
    times
}

/// When the first notice of an escalation stage `after` in hours goes:
/// that long after the deadline instant, moved into the sending hours of
/// a working day (the start of the next window when it falls outside).
fn hours_after(
    obligation: &Obligation,
    cal: &WorkCalendar,
    hours: SendingHours,
    due: Date,
    amount: u32,
) -> (Date, Time) {
    let deadline = deadline_civil(due, obligation.due_time);
    let t = deadline
        .checked_add(jiff::Span::new().hours(i64::from(amount)))
        .unwrap_or(deadline);
    let (day, at) = (t.date(), t.time());
    let working = cal.covers(day) && cal.is_working_day(day);
    if working && at < hours.start {
        (day, hours.start)
    } else if working && at < hours.end {
        (day, at)
    } else {
        (cal.on_or_after(add_days(day, 1)), hours.start)
    }
}

/// Escalation times up to `until` for a due day, as (day, local time,
/// ladder stage index), in time order (ties in ladder order). Each stage's
/// first notice is `after` from the due day, but never before the day
/// after it, at the start of the sending hours; a stage `after` in hours
/// is that long after the deadline instant instead ([`hours_after`]).
/// Repeats follow every `repeat.every` up to `repeat.limit` times, at the
/// start of the sending hours; each moves forward to a working day.
fn escalation_times(
    obligation: &Obligation,
    cal: &WorkCalendar,
    hours: SendingHours,
    due: Date,
    until: Date,
) -> Vec<(Date, Time, usize)> {
    let mut out = Vec::new();
    let morning_after = add_days(due, 1);
    for (i, stage) in obligation.escalation.iter().enumerate() {
        let (mut day, at) = match stage.after.unit {
            DayUnit::Hours => hours_after(obligation, cal, hours, due, stage.after.amount),
            _ => (
                cal.on_or_after(after(cal, due, stage.after).max(morning_after)),
                hours.start,
            ),
        };
        if day > until {
            continue;
        }
        out.push((day, at, i));
        if let Some(rep) = stage.repeat
            && rep.every.amount > 0
        {
            for _ in 0..rep.limit {
                day = cal.on_or_after(after(cal, day, rep.every));
                if day > until {
                    break;
                }
                out.push((day, hours.start, i));
            }
        }
    }
    out.sort();
    out
}

/// The event times of one (obligation, period) opening on `opens` whose day
/// is in `[from, to]`.
pub(crate) fn slots(
    obligation: &Obligation,
    cal: &WorkCalendar,
    tz: &TimeZone,
    hours: SendingHours,
    due: Date,
    opens: Date,
    (from, to): (Date, Date),
) -> Vec<Slot> {
    let mut out = Vec::new();
    let deadline = deadline_of(tz, obligation, due);
    let times = reminder_times_from(obligation, cal, hours, due, opens);
    // Stages keep their numbers when earlier reminders are dropped.
    let first_stage = reminder_times(obligation, cal, hours, due).len() - times.len();
    for (i, (day, time)) in times.into_iter().enumerate() {
        let i = i + first_stage;
        let at = local_instant(tz, day, time);
        // A deadline earlier in the day than the sending hours ("chậm nhất
        // 7 giờ") leaves no room for a reminder on the due day itself.
        if from <= day && day <= to && at < deadline {
            out.push(Slot {
                at,
                kind: EventKind::Reminder,
                stage: i as u32 + 1,
                ladder: UNIT_MAIL,
            });
        }
    }
    if from <= due && due <= to {
        out.push(Slot {
            at: deadline,
            kind: EventKind::Deadline,
            stage: 0,
            ladder: UNIT_MAIL,
        });
    }
    for (i, (day, time, ladder)) in escalation_times(obligation, cal, hours, due, to)
        .into_iter()
        .enumerate()
    {
        if from <= day {
            out.push(Slot {
                at: local_instant(tz, day, time),
                kind: EventKind::Escalation,
                stage: i as u32 + 1,
                ladder,
            });
        }
    }
    out
}

/// Appends `addr` unless it is already there (lists are short).
fn push_unique<'a>(out: &mut Vec<&'a str>, addr: &'a str) {
    if !out.contains(&addr) {
        out.push(addr);
    }
}

fn push_unit_mail<'a>(out: &mut Vec<&'a str>, unit: Option<&'a Unit>) {
    if let Some(u) = unit {
        for e in &u.emails {
            push_unique(out, e);
        }
    }
}

/// The email addresses an escalation stage with `targets` goes to for `unit`.
pub fn escalation_recipients<'a>(
    cfg: &'a Config,
    obligation: &'a Obligation,
    unit: &'a Unit,
    targets: &'a [EscalationTarget],
) -> Vec<&'a str> {
    let scope = Scope::new(cfg);
    resolve_targets(&scope, obligation, unit, targets)
}

fn resolve_targets<'a>(
    scope: &Scope<'a>,
    obligation: &'a Obligation,
    unit: &'a Unit,
    targets: &'a [EscalationTarget],
) -> Vec<&'a str> {
    let mut out = Vec::new();
    for t in targets {
        match t {
            EscalationTarget::Unit => push_unit_mail(&mut out, Some(unit)),
            EscalationTarget::Head => {
                if let Some(h) = &unit.head {
                    push_unique(&mut out, &h.email);
                }
            }
            EscalationTarget::Supervisor => push_unit_mail(
                &mut out,
                unit.supervisor.as_deref().and_then(|id| scope.unit(id)),
            ),
            EscalationTarget::Recipient => {
                let id = match &obligation.recipient {
                    Recipient::Unit(id) => Some(id.as_str()),
                    Recipient::ReporterCouncil => unit.council.as_deref(),
                    Recipient::ReporterSupervisor => unit.supervisor.as_deref(),
                };
                push_unit_mail(&mut out, id.and_then(|id| scope.unit(id)));
            }
            EscalationTarget::Address(a) => push_unique(&mut out, a),
        }
    }
    out
}

/// One (obligation, period) with something in range.
struct PeriodPlan {
    /// Index into the per-obligation tables.
    ob: usize,
    key: PeriodKey,
    due: Date,
    /// Positions in the obligation's reporter list of the units that owe it.
    owing: Vec<u32>,
}

/// Recipients of one obligation's reporters, resolved once.
struct ObligationMail<'a> {
    obligation: &'a Obligation,
    /// Reporter unit indices, in `Config::units` order.
    reporters: Vec<u32>,
    /// Per reporter: its mailboxes, then one list per ladder stage.
    unit_mail: Vec<Arc<[&'a str]>>,
    stage_mail: Vec<Vec<Arc<[&'a str]>>>,
}

impl<'a> ObligationMail<'a> {
    fn new(
        cfg: &'a Config,
        scope: &Scope<'a>,
        obligation: &'a Obligation,
        reporters: Vec<u32>,
    ) -> ObligationMail<'a> {
        let mut unit_mail = Vec::with_capacity(reporters.len());
        let mut stage_mail = Vec::with_capacity(reporters.len());
        for &u in &reporters {
            let unit = &cfg.units[u as usize];
            unit_mail.push(
                unit.emails
                    .iter()
                    .map(String::as_str)
                    .collect::<Arc<[&str]>>(),
            );
            stage_mail.push(
                obligation
                    .escalation
                    .iter()
                    .map(|st| Arc::from(resolve_targets(scope, obligation, unit, &st.notify)))
                    .collect(),
            );
        }
        ObligationMail {
            obligation,
            reporters,
            unit_mail,
            stage_mail,
        }
    }
}

/// How far before its due day a period of `obligation` can have a reminder
/// (lead) and how far after it an escalation (tail), in days: generous
/// bounds; the exact dates follow.
fn reach_bounds(obligation: &Obligation) -> (i64, i64) {
    let lead = obligation
        .reminders
        .iter()
        .map(|&o| reach(o))
        .max()
        .unwrap_or(0)
        + 31;
    let tail = obligation
        .escalation
        .iter()
        .map(|s| {
            let repeats = s.repeat.map_or(0, |r| {
                i64::from(r.limit.min(10_000)) * (reach(r.every) + 31)
            });
            reach(s.after) + 32 + repeats
        })
        .max()
        .unwrap_or(0);
    (lead, tail)
}

/// Every event whose day ([`Event::day`]) is in `[from, to]`, sorted by time,
/// then obligation and unit (both in file order), period, kind and stage.
///
/// A unit owes a period when it reports for the obligation and is active on
/// the window's last day, and the obligation is active on that day too.
pub fn plan<'a>(
    cfg: &'a Config,
    cal: &WorkCalendar,
    from: Date,
    to: Date,
    filter: &Filter,
) -> Vec<Event<'a>> {
    let (from, to) = clamp_range(from, to);
    let scope = Scope::new(cfg);
    let Some(selected) = scope.select(filter) else {
        return Vec::new();
    };
    let tz = &cfg.daemon.time_zone;
    let hours = cfg.daemon.sending_hours;

    let mut obs: Vec<ObligationMail<'a>> = Vec::new();
    let mut plans: Vec<PeriodPlan> = Vec::new();
    let mut all_slots: Vec<(Slot, usize)> = Vec::new();

    for (obligation, reporters) in selected {
        let (lead, tail) = reach_bounds(obligation);
        let ob_index = obs.len();
        let mut any = false;
        for (period, due) in due_periods(obligation, cal, add_days(from, -tail), add_days(to, lead))
        {
            let owing: Vec<u32> = reporters
                .iter()
                .enumerate()
                .filter(|&(_, &u)| cfg.units[u as usize].active_on(period.window.end))
                .map(|(pos, _)| pos as u32)
                .collect();
            if owing.is_empty() {
                continue;
            }
            let s = slots(
                obligation,
                cal,
                tz,
                hours,
                due,
                period.window.start,
                (from, to),
            );
            if s.is_empty() {
                continue;
            }
            any = true;
            let plan_index = plans.len();
            all_slots.extend(s.into_iter().map(|slot| (slot, plan_index)));
            plans.push(PeriodPlan {
                ob: ob_index,
                key: period.key,
                due,
                owing,
            });
        }
        if any {
            obs.push(ObligationMail::new(cfg, &scope, obligation, reporters));
        }
    }

    // Plans are in obligation order already; order each obligation's periods
    // by key so that the rank below sorts by (obligation, period).
    let mut order: Vec<usize> = (0..plans.len()).collect();
    order.sort_by(|&a, &b| (plans[a].ob, &plans[a].key).cmp(&(plans[b].ob, &plans[b].key)));
    let mut rank = vec![0usize; plans.len()];
    for (r, &p) in order.iter().enumerate() {
        rank[p] = r;
    }
    all_slots.sort_by_key(|(s, p)| (s.at, rank[*p], s.kind, s.stage));

    let total: usize = all_slots.iter().map(|(_, p)| plans[*p].owing.len()).sum();
    let mut events = Vec::with_capacity(total);
    // Within one instant and one (obligation, period), units come before kind
    // and stage: expand each such group unit by unit.
    let mut i = 0;
    while i < all_slots.len() {
        let (first, p) = all_slots[i];
        let mut j = i + 1;
        while j < all_slots.len() && all_slots[j].0.at == first.at && all_slots[j].1 == p {
            j += 1;
        }
        let plan = &plans[p];
        let om = &obs[plan.ob];
        let offset = tz.to_offset(first.at);
        for &pos in &plan.owing {
            let pos = pos as usize;
            let unit = &cfg.units[om.reporters[pos] as usize];
            for (slot, _) in &all_slots[i..j] {
                let recipients = if slot.ladder == UNIT_MAIL {
                    om.unit_mail[pos].clone()
                } else {
                    om.stage_mail[pos][slot.ladder].clone()
                };
                events.push(Event {
                    obligation: om.obligation,
                    period: plan.key.clone(),
                    unit,
                    kind: slot.kind,
                    stage: slot.stage,
                    at: slot.at,
                    offset,
                    due: plan.due,
                    recipients,
                });
            }
        }
        i = j;
    }
    events
}

/// Helper for callers that want one JSON object per line.
pub fn to_json_lines(events: &[Event<'_>]) -> String {
    let mut out = String::with_capacity(events.len() * 200);
    for e in events {
        // Serialising plain strings and numbers cannot fail.
        if let Ok(line) = serde_json::to_string(e) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}
