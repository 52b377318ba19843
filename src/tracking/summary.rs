//! Counts of status rows for people: per (obligation, period), per group
//! of units and in total, received X of Y (on time, late), overdue,
//! extended, waived and not yet due. `hanbao status`'s summary and the
//! dashboard's summary page both count with [`Tally`], so the two cannot
//! disagree.
//!
//! Pure: it reads only the rows and the configuration it is given; no
//! store, no clock, no wording (the surfaces word the counts).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::civil::Date;

use crate::config::model::Config;
use crate::status::{StateName, Status};

use super::block::Block;
use super::{FileOrder, Row};

/// Counts of a set of status rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Rows that are owed: every one but the waived.
    pub owed: usize,
    pub on_time: usize,
    pub late: usize,
    pub overdue: usize,
    /// Extended and not yet due (an extended report that is received or
    /// overdue counts there).
    pub extended: usize,
    pub waived: usize,
    /// Not open, open or due soon.
    pub not_yet: usize,
    /// The earliest due day of the rows without an extension.
    pub due: Option<Date>,
    /// The earliest due day of the rows with one.
    pub extended_due: Option<Date>,
}

impl Tally {
    /// Counts one row's status.
    pub fn add(&mut self, s: &Status) {
        self.add_n(s, 1);
    }

    /// Counts `n` rows of the same status (nothing when `n` is 0).
    pub fn add_n(&mut self, s: &Status, n: usize) {
        if n == 0 {
            return;
        }
        let slot = if s.extended {
            &mut self.extended_due
        } else {
            &mut self.due
        };
        *slot = Some(slot.map_or(s.due, |d| d.min(s.due)));
        if s.state != StateName::Waived {
            self.owed += n;
        }
        match s.state {
            StateName::SubmittedOnTime => self.on_time += n,
            StateName::SubmittedLate => self.late += n,
            StateName::Overdue => self.overdue += n,
            StateName::Extended => self.extended += n,
            StateName::Waived => self.waived += n,
            StateName::NotOpen | StateName::Open | StateName::DueSoon => self.not_yet += n,
        }
    }

    /// Adds the counts of `other`, as if its rows were added here.
    pub fn merge(&mut self, other: &Tally) {
        self.owed += other.owed;
        self.on_time += other.on_time;
        self.late += other.late;
        self.overdue += other.overdue;
        self.extended += other.extended;
        self.waived += other.waived;
        self.not_yet += other.not_yet;
        let min = |a: Option<Date>, b: Option<Date>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.due = min(self.due, other.due);
        self.extended_due = min(self.extended_due, other.extended_due);
    }

    /// Received, on time or late.
    pub fn received(&self) -> usize {
        self.on_time + self.late
    }

    /// Every row counted (the owed and the waived).
    pub fn rows(&self) -> usize {
        self.owed + self.waived
    }

    /// The due day to show: the earliest without an extension, else the
    /// earliest extended one.
    pub fn due_day(&self) -> Option<Date> {
        self.due.or(self.extended_due)
    }
}

/// The counts of one (obligation, period).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairTally {
    /// The obligation's id.
    pub obligation: String,
    pub period: Arc<str>,
    /// False for an earlier period counted only for its unsettled units.
    pub all_units: bool,
    pub tally: Tally,
}

/// The counts of a selection's rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Each (obligation, period), obligations in file order, then periods.
    pub pairs: Vec<PairTally>,
    /// Each group (id, in id order) that has a member among the rows of
    /// the periods counted for all their units; a unit counts in each of
    /// its groups.
    pub groups: Vec<(String, Tally)>,
    /// Every row of the periods counted for all their units.
    pub total: Tally,
    /// The rows of earlier periods (only their unsettled units).
    pub earlier: Tally,
}

impl Summary {
    /// The summary of the counts both ways of counting gather.
    fn assemble(
        pairs: BTreeMap<(usize, &str), PairTally>,
        groups: BTreeMap<&str, Tally>,
        total: Tally,
        earlier: Tally,
    ) -> Summary {
        Summary {
            pairs: pairs.into_values().collect(),
            groups: groups
                .into_iter()
                .map(|(g, t)| (g.to_string(), t))
                .collect(),
            total,
            earlier,
        }
    }

    /// Counts `rows` (from `tracking::status` over `cfg`).
    pub fn of(rows: &[Row<'_>], cfg: &Config) -> Summary {
        let order = FileOrder::new(cfg);
        let member_of = member_of(cfg);
        let mut pairs: BTreeMap<(usize, &str), PairTally> = BTreeMap::new();
        let mut groups: BTreeMap<&str, Tally> = BTreeMap::new();
        let mut total = Tally::default();
        let mut earlier = Tally::default();
        for r in rows {
            let o = order.obligation(&r.obligation.id);
            pairs
                .entry((o, &r.period))
                .or_insert_with(|| PairTally {
                    obligation: r.obligation.id.clone(),
                    period: r.period.clone(),
                    all_units: r.all_units,
                    tally: Tally::default(),
                })
                .tally
                .add(&r.status);
            if !r.all_units {
                earlier.add(&r.status);
                continue;
            }
            total.add(&r.status);
            for g in member_of.get(r.unit.id.as_str()).into_iter().flatten() {
                groups.entry(g).or_default().add(&r.status);
            }
        }
        Summary::assemble(pairs, groups, total, earlier)
    }

    /// The same counts as [`Summary::of`] the blocks' rows, from the
    /// blocks (`tracking::block`): the cells sharing a block's blank status
    /// are counted at once, except per group, where only the periods
    /// counted for all their units (a few) are walked cell by cell.
    pub fn of_blocks(blocks: &[Block<'_>], cfg: &Config) -> Summary {
        let order = FileOrder::new(cfg);
        let member_of = member_of(cfg);
        let mut pairs: BTreeMap<(usize, &str), PairTally> = BTreeMap::new();
        let mut groups: BTreeMap<&str, Tally> = BTreeMap::new();
        let mut total = Tally::default();
        let mut earlier = Tally::default();
        for b in blocks.iter().filter(|b| !b.cells.is_empty()) {
            let o = order.obligation(&b.obligation.id);
            let mut tally = Tally::default();
            tally.add_n(&b.blank, b.blanks());
            for r in &b.events {
                tally.add(&r.status);
            }
            let pair = pairs.entry((o, &b.period)).or_insert_with(|| PairTally {
                obligation: b.obligation.id.clone(),
                period: b.period.clone(),
                all_units: b.all_units,
                tally: Tally::default(),
            });
            pair.tally.merge(&tally);
            if !b.all_units {
                earlier.merge(&tally);
                continue;
            }
            total.merge(&tally);
            for (u, s) in b.statuses() {
                for g in member_of.get(u.id.as_str()).into_iter().flatten() {
                    groups.entry(g).or_default().add(s);
                }
            }
        }
        Summary::assemble(pairs, groups, total, earlier)
    }
}

/// The groups of each unit (`cfg.groups` turned around).
fn member_of(cfg: &Config) -> HashMap<&str, Vec<&str>> {
    let mut member_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for (g, members) in &cfg.groups {
        for m in members {
            member_of.entry(m).or_default().push(g);
        }
    }
    member_of
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkCalendar;
    use crate::tracking::block::{blocks, cases};
    use crate::tracking::{Selection, rows, targets};

    /// On the random cases of `tracking::block`, the summary counted from
    /// the blocks is the one counted from the full classification's rows,
    /// for every unit and after keeping one group's units.
    #[test]
    fn the_summary_of_the_blocks_is_the_summary_of_the_rows() {
        for seed in 0..120 {
            let c = cases::case(seed);
            let cal = WorkCalendar::new(&c.cfg.calendar);
            let ts = targets(&c.cfg, &cal, &Selection::default(), c.at.day).unwrap();
            let facts = cases::facts(seed, &cases::pairs(&ts));
            let full = rows(&ts, facts.clone(), &cal, c.at);
            let bs = blocks(&ts, facts, &cal, c.at);
            assert_eq!(
                Summary::of_blocks(&bs, &c.cfg),
                Summary::of(&full, &c.cfg),
                "seed {seed}"
            );
            let g1: std::collections::HashSet<&str> = c
                .cfg
                .groups
                .get("g1")
                .map(|m| m.iter().map(String::as_str).collect())
                .unwrap_or_default();
            let mut by_group = bs.clone();
            for b in &mut by_group {
                b.retain(|u, _| g1.contains(u.id.as_str()));
            }
            let kept: Vec<Row<'_>> = full
                .iter()
                .filter(|r| g1.contains(r.unit.id.as_str()))
                .cloned()
                .collect();
            assert_eq!(
                Summary::of_blocks(&by_group, &c.cfg),
                Summary::of(&kept, &c.cfg),
                "seed {seed}, group g1"
            );
        }
    }
}
