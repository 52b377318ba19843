//! The planner: from the validated configuration, the working-day calendar
//! and a date range to every (obligation, period, unit) with its deadline,
//! reminders and escalations.
//!
//! Pure: no IO, never reads the clock (`now` and ranges are arguments), no
//! global state. Everything here is deterministic for a given input.
//!
//! - [`period`]: the periods of one obligation (keys and windows themselves
//!   are in [`crate::period`], re-exported here).
//! - [`due`]: due days and deadline instants.
//! - [`events`]: reminders, deadlines and escalations with recipients.
//!
//! Who owes what: a unit owes a period when it reports for the obligation and
//! is active on the window's last day, and the obligation is active on that
//! day too (a unit dissolved on 30/6/2025 owes 2025-H1 but not 2025).

pub mod due;
pub mod events;
pub mod period;

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::calendar::WorkCalendar;
use crate::config::model::{Config, Cycle, DueRule, Obligation, Unit};

pub use crate::period::{Period, PeriodKey, PeriodKeyError, Window};
pub use due::{deadline_at, deadline_instant, deadline_of, due_date};
pub use events::{Event, EventKind, plan};
pub use period::{PeriodError, period_of, periods_ending_in};

/// Which obligations and units to plan for. `None` means all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub obligation: Option<String>,
    pub unit: Option<String>,
}

/// One unit's deadline for one period of one obligation.
#[derive(Clone)]
pub struct Deadline<'a> {
    pub obligation: &'a Obligation,
    pub period: PeriodKey,
    pub window: Window,
    pub unit: &'a Unit,
    /// The due day, after overrides and rolling.
    pub due: Date,
    /// 24:00 local on `due` (00:00 of the next day), or the obligation's
    /// time of day on `due` (`Obligation::due_time`); overdue from this instant.
    pub deadline: Timestamp,
}

impl std::fmt::Debug for Deadline<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deadline")
            .field("obligation", &self.obligation.id)
            .field("period", &self.period.to_string())
            .field("window", &self.window)
            .field("unit", &self.unit.id)
            .field("due", &self.due)
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// Why a single deadline cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("unknown obligation \"{0}\"")]
    UnknownObligation(String),
    #[error("unknown unit \"{0}\"")]
    UnknownUnit(String),
    #[error("obligation \"{obligation}\": {source}")]
    Period {
        obligation: String,
        #[source]
        source: PeriodError,
    },
    #[error("unit \"{unit}\" does not report for obligation \"{obligation}\"")]
    NotAReporter { obligation: String, unit: String },
    #[error(
        "unit \"{unit}\" does not owe {period} of \"{obligation}\": it is not active on {day}, the last day of the period"
    )]
    UnitInactive {
        obligation: String,
        period: String,
        unit: String,
        day: Date,
    },
    #[error(
        "period {period} of \"{obligation}\" is a day off ({day}): its daily reports are owed on working days only"
    )]
    DayOff {
        obligation: String,
        period: String,
        day: Date,
    },
    #[error("obligation \"{obligation}\" is not active on {day}, the last day of period {period}")]
    ObligationInactive {
        obligation: String,
        period: String,
        day: Date,
    },
}

/// Id lookups built once per call (the model's own lookups are linear).
pub(crate) struct Scope<'a> {
    cfg: &'a Config,
    units: HashMap<&'a str, u32>,
}

impl<'a> Scope<'a> {
    pub(crate) fn new(cfg: &'a Config) -> Scope<'a> {
        let units = cfg
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.as_str(), i as u32))
            .collect();
        Scope { cfg, units }
    }

    pub(crate) fn unit(&self, id: &str) -> Option<&'a Unit> {
        self.units.get(id).map(|&i| &self.cfg.units[i as usize])
    }

    /// The obligations the filter selects, each with its reporters (unit
    /// indices in `Config::units` order, restricted to the filter's unit).
    /// `None` when the filter names an unknown obligation or unit.
    pub(crate) fn select(&self, filter: &Filter) -> Option<Vec<(&'a Obligation, Vec<u32>)>> {
        let only_unit = match &filter.unit {
            Some(id) => Some(*self.units.get(id.as_str())?),
            None => None,
        };
        if let Some(id) = &filter.obligation {
            self.cfg.obligation(id)?;
        }
        let mut out = Vec::new();
        for ob in &self.cfg.obligations {
            if filter.obligation.as_deref().is_some_and(|id| id != ob.id) {
                continue;
            }
            let mut reporters: Vec<u32> = ob
                .reporters
                .iter()
                .filter_map(|id| self.units.get(id.as_str()).copied())
                .filter(|&u| only_unit.is_none_or(|o| o == u))
                .collect();
            reporters.sort_unstable();
            reporters.dedup();
            if !reporters.is_empty() {
                out.push((ob, reporters));
            }
        }
        Some(out)
    }
}

/// Keeps a planning range inside the years periods may name, so that the
/// calendar is never asked about days outside its range.
pub(crate) fn clamp_range(from: Date, to: Date) -> (Date, Date) {
    let lo = Date::constant(crate::period::MIN_PERIOD_YEAR, 1, 1);
    let hi = Date::constant(crate::period::MAX_PERIOD_YEAR, 12, 31);
    (from.clamp(lo, hi), to.clamp(lo, hi))
}

/// Whether the calendar lets a period be owed at all: a daily cycle of
/// working days ("hàng ngày") owes no report for a weekend, a public holiday
/// or a compensatory day off. Every other period is owed.
pub fn owed_on_calendar(obligation: &Obligation, cal: &WorkCalendar, window: Window) -> bool {
    match obligation.cycle {
        Cycle::Daily {
            working_days_only: true,
        } => cal.is_working_day(window.end),
        _ => true,
    }
}

/// How far, in calendar days, the rule's due day can lie before / after the
/// window's end (before rolling), generously.
fn rule_reach(obligation: &Obligation) -> (i64, i64) {
    use due::reach;
    let (before_end, after_end) = match obligation.due {
        DueRule::After(o) => (0, reach(o)),
        DueRule::DayOfMonth {
            next_month: false, ..
        } => (31, 31),
        DueRule::DayOfMonth {
            next_month: true, ..
        } => (0, 62),
        DueRule::DayOfNextQuarter { .. } => (0, 124),
        DueRule::DayMonth { .. } => (190, 190),
        DueRule::Weekday { .. } => (7, 14),
        DueRule::AfterDue(o) => match obligation
            .due_after
            .as_ref()
            .and_then(|t| t.obligation.as_deref())
        {
            // The first tier's reach, its rolling (up to a month over
            // Tết), then the offset.
            Some(base) => {
                let (b, a) = rule_reach(base);
                (b, a + 31 + reach(o))
            }
            None => (0, reach(o)),
        },
    };
    // "trước ngày X" moves the day back by one.
    (before_end + i64::from(obligation.due_exclusive), after_end)
}

/// The periods of `obligation` that are in force (obligation active on the
/// window's last day) and whose due day lies in `[from, to]`, with that day,
/// ordered by window end. Overridden periods are found wherever the override
/// moves them.
pub fn due_periods(
    obligation: &Obligation,
    cal: &WorkCalendar,
    from: Date,
    to: Date,
) -> Vec<(Period, Date)> {
    use due::add_days;
    // How far the rule's due day can lie before / after the window's end,
    // plus room for rolling over a long break.
    let (before_end, after_end) = rule_reach(obligation);
    let mut candidates = periods_ending_in(
        obligation,
        add_days(from, -(after_end + 31)),
        add_days(to, before_end),
    );
    for key in obligation.overrides.keys() {
        if let Ok(p) = period_of(obligation, key)
            && !candidates.iter().any(|c| c.key == p.key)
        {
            candidates.push(p);
        }
    }
    candidates.sort_by_key(|p| p.window.end);
    candidates
        .into_iter()
        .filter(|p| {
            obligation.active_on(p.window.end) && owed_on_calendar(obligation, cal, p.window)
        })
        .filter_map(|p| {
            let due = due_date(obligation, cal, &p.key, p.window);
            (from <= due && due <= to).then_some((p, due))
        })
        .collect()
}

/// Every unit-period whose due day lies in `[from, to]`, ordered by due day,
/// then obligation (file order), period, unit (file order). Each
/// (obligation, period) is computed once and shared by all its reporters.
pub fn deadlines<'a>(
    cfg: &'a Config,
    cal: &WorkCalendar,
    from: Date,
    to: Date,
    filter: &Filter,
) -> Vec<Deadline<'a>> {
    let (from, to) = clamp_range(from, to);
    let scope = Scope::new(cfg);
    let Some(selected) = scope.select(filter) else {
        return Vec::new();
    };
    let tz = &cfg.daemon.time_zone;
    let mut heads: Vec<(Date, usize, Period)> = Vec::new();
    for (i, (ob, _)) in selected.iter().enumerate() {
        for (p, due) in due_periods(ob, cal, from, to) {
            heads.push((due, i, p));
        }
    }
    heads.sort_by(|a, b| (a.0, a.1, &a.2.key).cmp(&(b.0, b.1, &b.2.key)));
    let mut out = Vec::new();
    for (due, i, p) in heads {
        let (ob, reporters) = &selected[i];
        let deadline = deadline_of(tz, ob, due);
        let end = p.window.end;
        for &u in reporters {
            let unit = &cfg.units[u as usize];
            if unit.active_on(end) {
                out.push(Deadline {
                    obligation: ob,
                    period: p.key.clone(),
                    window: p.window,
                    unit,
                    due,
                    deadline,
                });
            }
        }
    }
    out
}

/// The deadline of one unit for one period (`period_key` as stored: a
/// calendar key or a one-off's obligation id), with the reason if it is not owed.
pub fn deadline_for<'a>(
    cfg: &'a Config,
    cal: &WorkCalendar,
    obligation: &str,
    period_key: &str,
    unit: &str,
) -> Result<Deadline<'a>, PlanError> {
    let ob = cfg
        .obligation(obligation)
        .ok_or_else(|| PlanError::UnknownObligation(obligation.into()))?;
    let u = cfg
        .unit(unit)
        .ok_or_else(|| PlanError::UnknownUnit(unit.into()))?;
    let p = period_of(ob, period_key).map_err(|source| PlanError::Period {
        obligation: ob.id.clone(),
        source,
    })?;
    if !ob.reporters.contains(&u.id) {
        return Err(PlanError::NotAReporter {
            obligation: ob.id.clone(),
            unit: u.id.clone(),
        });
    }
    let end = p.window.end;
    if !ob.active_on(end) {
        return Err(PlanError::ObligationInactive {
            obligation: ob.id.clone(),
            period: p.key.to_string(),
            day: end,
        });
    }
    if !owed_on_calendar(ob, cal, p.window) {
        return Err(PlanError::DayOff {
            obligation: ob.id.clone(),
            period: p.key.to_string(),
            day: end,
        });
    }
    if !u.active_on(end) {
        return Err(PlanError::UnitInactive {
            obligation: ob.id.clone(),
            period: p.key.to_string(),
            unit: u.id.clone(),
            day: end,
        });
    }
    let due = due_date(ob, cal, &p.key, p.window);
    Ok(Deadline {
        obligation: ob,
        period: p.key,
        window: p.window,
        unit: u,
        due,
        deadline: deadline_of(&cfg.daemon.time_zone, ob, due),
    })
}

/// For a compiled report's period, the (obligation, period) pairs it waits
/// for: the same key when the cycles match, otherwise every period of the
/// dependency whose window ends inside the compiled period's window.
pub fn dependencies<'a>(
    cfg: &'a Config,
    compiled: &Obligation,
    period: &PeriodKey,
) -> Result<Vec<(&'a Obligation, Period)>, PlanError> {
    let own = period::period_of_key(compiled, period).map_err(|source| PlanError::Period {
        obligation: compiled.id.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for id in &compiled.depends_on {
        let dep = cfg
            .obligation(id)
            .ok_or_else(|| PlanError::UnknownObligation(id.clone()))?;
        let same_cycle = dep.cycle == compiled.cycle && !matches!(dep.cycle, Cycle::Once { .. });
        if same_cycle {
            let p = period::period_of_key(dep, period).map_err(|source| PlanError::Period {
                obligation: dep.id.clone(),
                source,
            })?;
            out.push((dep, p));
        } else {
            out.extend(
                periods_ending_in(dep, own.window.start, own.window.end)
                    .into_iter()
                    .map(|p| (dep, p)),
            );
        }
    }
    Ok(out)
}
