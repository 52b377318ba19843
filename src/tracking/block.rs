//! The status of a selection, compactly: one [`Block`] per (obligation,
//! period), in which the cells with an event in effect are classified one
//! by one and every other cell shares one status, classified once.
//!
//! Why it is exact: a cell without an event in effect (no submission,
//! extension or waiver; a revoked one leaves none) has
//! `Tracking::default()`, and its status is `status::classify(at,
//! schedule, default)`, where the schedule is the (obligation, period)'s
//! (`tracking::schedule`: the due day from the configuration, its time of
//! day and per-period overrides, none of them per unit). Which units owe
//! the period (reporters, active on the window's last day) is decided by
//! [`super::targets`], as for [`super::rows`]. So every event-less cell of
//! a target has the same status, and a block holds it once.
//!
//! Invariant: [`Block::rows`] of each block of [`blocks`] are, in order,
//! exactly the rows [`super::rows`] returns for the same targets, facts
//! and moment (checked on random configurations and events by this
//! module's tests): `status::classify` stays the one source of truth.
//!
//! Pure, like the rest of `tracking`: no store, no clock.

use std::collections::HashMap;
use std::sync::Arc;

use crate::calendar::WorkCalendar;
use crate::config::model::{Obligation, Unit};
use crate::status::{self, Status, Tracking};
use crate::store::Facts;

use super::{Row, Target};

/// In [`Block::cells`]: a cell without an event in effect.
pub const BLANK: u32 = u32::MAX;

/// The cells of one (obligation, period).
#[derive(Debug, Clone)]
pub struct Block<'a> {
    pub obligation: &'a Obligation,
    /// The period key.
    pub period: Arc<str>,
    /// False for an earlier period shown only for its unsettled units.
    pub all_units: bool,
    /// The status of every cell without an event in effect.
    pub blank: Status,
    /// The cells, in the target's unit order: the unit, and [`BLANK`] or
    /// the index of its row in `events`.
    pub cells: Vec<(&'a Unit, u32)>,
    /// The cells with an event in effect, each classified.
    pub events: Vec<Row<'a>>,
}

impl<'a> Block<'a> {
    /// How many cells share [`Block::blank`].
    pub fn blanks(&self) -> usize {
        self.cells.len() - self.events.len()
    }

    /// The status of the cell `(unit, slot)` of [`Block::cells`].
    pub fn status_of(&self, slot: u32) -> &Status {
        match slot {
            BLANK => &self.blank,
            i => &self.events[i as usize].status,
        }
    }

    /// Each cell's unit and status, in order.
    pub fn statuses(&self) -> impl Iterator<Item = (&'a Unit, &Status)> + '_ {
        self.cells.iter().map(|&(u, s)| (u, self.status_of(s)))
    }

    /// The row of one cell (a blank one is built).
    pub fn row(&self, unit: &'a Unit, slot: u32) -> Row<'a> {
        match slot {
            BLANK => Row {
                obligation: self.obligation,
                period: self.period.clone(),
                unit,
                status: self.blank.clone(),
                reference: None,
                all_units: self.all_units,
            },
            i => self.events[i as usize].clone(),
        }
    }

    /// Every cell as a row, in order: what [`super::rows`] returns for
    /// this (obligation, period).
    pub fn rows(&self) -> Vec<Row<'a>> {
        self.cells.iter().map(|&(u, s)| self.row(u, s)).collect()
    }

    /// Keeps the cells for which `keep(unit, status)` holds. `keep` is
    /// asked once per cell.
    pub fn retain(&mut self, mut keep: impl FnMut(&'a Unit, &Status) -> bool) {
        let mut events = Vec::new();
        let mut cells = Vec::with_capacity(self.cells.len());
        let mut old: Vec<Option<Row<'a>>> = std::mem::take(&mut self.events)
            .into_iter()
            .map(Some)
            .collect();
        for &(u, s) in &self.cells {
            match s {
                BLANK => {
                    if keep(u, &self.blank) {
                        cells.push((u, BLANK));
                    }
                }
                i => {
                    let row = old[i as usize].take().expect("each event row once");
                    if keep(u, &row.status) {
                        cells.push((u, events.len() as u32));
                        events.push(row);
                    }
                }
            }
        }
        self.cells = cells;
        self.events = events;
    }
}

/// The blocks of `targets` with what the store has in effect (`facts`, as
/// for [`super::rows`]), at `at`: one per target, in order, with the
/// cells [`super::rows`] would return (an earlier period keeps only its
/// unsettled units). A target whose every cell is settled gives an empty
/// block.
pub fn blocks<'a>(
    targets: &[Target<'a>],
    mut facts: Vec<Facts>,
    cal: &WorkCalendar,
    at: impl Into<status::Moment>,
) -> Vec<Block<'a>> {
    let at: status::Moment = at.into();
    let slot: HashMap<(&str, &str), usize> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| ((t.obligation.id.as_str(), &*t.period), i))
        .collect();
    // The facts of each target, in the store's order.
    let mut of_target: Vec<Vec<usize>> = vec![Vec::new(); targets.len()];
    for (i, f) in facts.iter().enumerate() {
        if let Some(&t) = slot.get(&(f.key.obligation.as_str(), f.key.period.as_str())) {
            of_target[t].push(i);
        }
    }
    let mut out = Vec::with_capacity(targets.len());
    for (t, mine) in targets.iter().zip(of_target) {
        let blank = status::classify(at, &t.schedule, &Tracking::default(), cal);
        // The fact of each unit that has one (the last, as `rows` keeps).
        let mut fact_at: Vec<u32> = Vec::new();
        if !mine.is_empty() {
            let place: HashMap<&str, usize> = t
                .units
                .iter()
                .enumerate()
                .map(|(i, u)| (u.id.as_str(), i))
                .collect();
            fact_at = vec![BLANK; t.units.len()];
            for i in mine {
                if let Some(&p) = place.get(facts[i].key.unit.as_str()) {
                    fact_at[p] = i as u32;
                }
            }
        }
        let mut cells = Vec::with_capacity(t.units.len());
        let mut events = Vec::new();
        for (p, &u) in t.units.iter().enumerate() {
            let f = match fact_at.get(p) {
                Some(&i) if i != BLANK => &mut facts[i as usize],
                _ => {
                    cells.push((u, BLANK));
                    continue;
                }
            };
            let tracking = Tracking {
                submitted_on: f.submitted_on,
                reference: None,
                waived: f.waived,
                extended_until: f.extended_until,
            };
            if !t.all_units && (tracking.waived || tracking.submitted_on.is_some()) {
                continue;
            }
            let st = status::classify(at, &t.schedule, &tracking, cal);
            cells.push((u, events.len() as u32));
            events.push(Row {
                obligation: t.obligation,
                period: t.period.clone(),
                unit: u,
                status: st,
                reference: f.reference.take(),
                all_units: t.all_units,
            });
        }
        out.push(Block {
            obligation: t.obligation,
            period: t.period.clone(),
            all_units: t.all_units,
            blank,
            cells,
            events,
        });
    }
    out
}

/// The blocks of a selection at `at`: [`super::targets`], one
/// [`crate::store::Records::facts`] read, then [`blocks`]: the same cells
/// as [`super::status`], compactly.
pub async fn status<'a>(
    store: &crate::store::Store,
    cfg: &'a crate::config::model::Config,
    cal: &WorkCalendar,
    sel: &super::Selection,
    at: impl Into<status::Moment>,
) -> Result<Vec<Block<'a>>, super::TrackingError> {
    use crate::store::Records;
    let at: status::Moment = at.into();
    let targets = super::targets(cfg, cal, sel, at.day)?;
    let pairs: Vec<(String, String)> = targets
        .iter()
        .map(|t| (t.obligation.id.clone(), t.period.to_string()))
        .collect();
    let facts = store.facts(&pairs).await?;
    Ok(blocks(&targets, facts, cal, at))
}

/// Random configurations and events for the tests here and the
/// dashboard's (which compare the block-built pages with the row-built
/// ones): daily reports (with a time of day, every day or working days),
/// a weekly one by Friday 16:00, a monthly one with a per-period
/// override, a quarterly one; units active for part of the range; two
/// groups; moments around Tết 2026 and month ends, with and without a
/// time of day; submissions on time and late, extensions, waivers and
/// revoked events (facts with nothing in effect).
#[cfg(test)]
pub(crate) mod cases {
    use jiff::civil::{Date, Time, date};

    use crate::config::model::Config;
    use crate::status::Moment;
    use crate::store::{Facts, Key};

    pub(crate) struct Case {
        pub(crate) cfg: Config,
        pub(crate) at: Moment,
    }

    fn dmy(d: Date) -> String {
        format!("{:02}/{:02}/{:04}", d.day(), d.month(), d.year())
    }

    fn day_near(rng: &mut fastrand::Rng, from: Date, span: i64) -> Date {
        from.checked_add(jiff::Span::new().days(rng.i64(0..span)))
            .expect("in range")
    }

    /// The configuration and moment of `seed`.
    pub(crate) fn case(seed: u64) -> Case {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut t = String::from(
            "[[group]]\nid = \"g1\"\nname = \"Nhóm một\"\n\n[[group]]\nid = \"g2\"\nname = \"Nhóm hai\"\n\n\
             [[unit]]\nid = \"so\"\nname = \"Sở Thử\"\nemail = \"vanthu@so.example\"\n\n",
        );
        let n = rng.usize(3..9);
        for i in 0..n {
            let groups = match rng.u8(0..4) {
                0 => "[]",
                1 => "[\"g1\"]",
                2 => "[\"g2\"]",
                _ => "[\"g1\", \"g2\"]",
            };
            t.push_str(&format!(
                "[[unit]]\nid = \"u{i}\"\nname = \"Xã Thử {i}\"\nemail = \"vanthu@u{i}.example\"\ngroups = {groups}\n"
            ));
            let mut from = date(2025, 1, 1);
            if rng.u8(0..4) == 0 {
                from = day_near(&mut rng, date(2025, 6, 1), 500);
                t.push_str(&format!("active_from = \"{}\"\n", dmy(from)));
            }
            if rng.u8(0..5) == 0 {
                let until = day_near(&mut rng, from.max(date(2025, 9, 1)), 400);
                t.push_str(&format!("active_until = \"{}\"\n", dmy(until)));
            }
            t.push('\n');
        }
        let obligations = [
            ("bc-ngay", "daily", "chậm nhất 9 giờ, 1 ngày làm việc", ""),
            ("bc-ngay-all", "daily-all-days", "1 ngày", ""),
            ("bc-tuan", "weekly", "trước 16 giờ 00 thứ Sáu", ""),
            (
                "bc-thang",
                "monthly",
                "ngày 5 tháng sau",
                "[obligation.overrides]\n\"2026-01\" = \"13/02/2026\"\n",
            ),
            ("bc-quy", "quarterly", "10 ngày làm việc", ""),
        ];
        for (id, cycle, due, extra) in obligations {
            if rng.u8(0..5) == 0 {
                continue;
            }
            let reporters: Vec<String> = match rng.u8(0..3) {
                0 => vec!["\"g1\"".into(), "\"g2\"".into()],
                _ => (0..n)
                    .filter(|_| rng.bool())
                    .map(|i| format!("\"u{i}\""))
                    .collect(),
            };
            if reporters.is_empty() {
                continue;
            }
            let from = match rng.bool() {
                true => "01/01/2020".to_string(),
                false => dmy(day_near(&mut rng, date(2025, 3, 1), 500)),
            };
            t.push_str(&format!(
                "[[obligation]]\nid = \"{id}\"\ntitle = \"Báo cáo {id}\"\nreporters = [{}]\nrecipient = \"so\"\ncycle = \"{cycle}\"\ndue = \"{due}\"\nreminders = [\"1 ngày làm việc\"]\nactive_from = \"{from}\"\n{extra}\n",
                reporters.join(", ")
            ));
        }
        let cfg = crate::config::load_str("t.toml", &t)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{t}"))
            .config;
        let days = [
            date(2026, 2, 13),
            date(2026, 2, 16),
            date(2026, 2, 23),
            date(2026, 2, 24),
            date(2026, 2, 28),
            date(2026, 3, 31),
            date(2026, 6, 30),
            date(2026, 12, 31),
            date(2027, 1, 1),
        ];
        let day = match rng.bool() {
            true => days[rng.usize(0..days.len())],
            false => day_near(&mut rng, date(2025, 12, 1), 400),
        };
        let time = match rng.u8(0..4) {
            0 => None,
            1 => Some(Time::constant(9, 0, 0, 0)),
            2 => Some(Time::constant(16, 0, 0, 0)),
            _ => Some(Time::new(rng.i8(0..24), rng.i8(0..60), 0, 0).expect("valid")),
        };
        Case {
            cfg,
            at: Moment { day, time },
        }
    }

    /// Random facts for `pairs` (obligation, period, its units), for some
    /// of their units and for a unit that owes nothing (which the rows
    /// ignore), in pair order as the store returns them.
    pub(crate) fn facts(seed: u64, pairs: &[(String, String, Vec<String>, Date)]) -> Vec<Facts> {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed);
        let mut out = Vec::new();
        for (o, p, units, due) in pairs {
            for u in units.iter().map(String::as_str).chain(["khong-co"]) {
                if rng.u8(0..4) != 0 {
                    continue;
                }
                let around = |rng: &mut fastrand::Rng| {
                    due.checked_add(jiff::Span::new().days(rng.i64(-5..15)))
                        .expect("in range")
                };
                let mut f = Facts::empty(Key::new(o.as_str(), p.as_str(), u));
                match rng.u8(0..6) {
                    0 => {}
                    1 => f.waived = true,
                    2 => f.extended_until = Some(around(&mut rng)),
                    3 => {
                        f.extended_until = Some(around(&mut rng));
                        f.submitted_on = Some(around(&mut rng));
                    }
                    _ => {
                        f.submitted_on = Some(around(&mut rng));
                        f.reference = Some(format!("{}/BC", rng.u16(1..999)));
                    }
                }
                out.push(f);
            }
        }
        out
    }

    /// The targets' pairs and units, as [`facts`] takes them.
    pub(crate) fn pairs(targets: &[super::Target<'_>]) -> Vec<(String, String, Vec<String>, Date)> {
        targets
            .iter()
            .map(|t| {
                (
                    t.obligation.id.clone(),
                    t.period.to_string(),
                    t.units.iter().map(|u| u.id.clone()).collect(),
                    t.schedule.due,
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkCalendar;
    use crate::status::StateName;
    use crate::tracking::{Selection, rows, targets};

    type Flat = (String, String, String, Status, Option<String>, bool);

    fn flat(r: &Row<'_>) -> Flat {
        (
            r.obligation.id.clone(),
            r.period.to_string(),
            r.unit.id.clone(),
            r.status.clone(),
            r.reference.clone(),
            r.all_units,
        )
    }

    /// On random configurations, moments and events, the blocks hold
    /// exactly the rows of the full classification (`tracking::rows`),
    /// in the same order, also after keeping one state. (Their summary
    /// is checked in `tracking::summary`, which depends on this module.)
    #[test]
    fn blocks_equal_the_full_classification() {
        let mut cells = 0;
        let mut blank_cells = 0;
        let mut states = std::collections::HashSet::new();
        for seed in 0..120 {
            let c = cases::case(seed);
            let cal = WorkCalendar::new(&c.cfg.calendar);
            let ts = targets(&c.cfg, &cal, &Selection::default(), c.at.day).unwrap();
            let facts = cases::facts(seed, &cases::pairs(&ts));
            let full = rows(&ts, facts.clone(), &cal, c.at);
            let bs = blocks(&ts, facts, &cal, c.at);
            assert_eq!(bs.len(), ts.len(), "seed {seed}");
            let fast: Vec<Row<'_>> = bs.iter().flat_map(|b| b.rows()).collect();
            assert_eq!(
                fast.iter().map(flat).collect::<Vec<_>>(),
                full.iter().map(flat).collect::<Vec<_>>(),
                "seed {seed}"
            );
            for b in &bs {
                for (_, s) in b.statuses() {
                    states.insert(s.state);
                }
                blank_cells += b.blanks();
            }
            cells += full.len();
            // Filtered as the dashboard filters by state.
            let mut overdue = bs.clone();
            for b in &mut overdue {
                b.retain(|_, s| s.state == StateName::Overdue);
            }
            let kept: Vec<Flat> = full
                .iter()
                .filter(|r| r.status.state == StateName::Overdue)
                .map(flat)
                .collect();
            let fast: Vec<Flat> = overdue
                .iter()
                .flat_map(|b| b.rows())
                .map(|r| flat(&r))
                .collect();
            assert_eq!(fast, kept, "seed {seed}, overdue");
        }
        // The cases cover what they are meant to.
        assert!(cells > 10_000, "{cells} cells");
        assert!(blank_cells > cells / 2, "{blank_cells} of {cells}");
        for st in [
            StateName::Overdue,
            StateName::SubmittedOnTime,
            StateName::SubmittedLate,
            StateName::Waived,
            StateName::Extended,
            StateName::Open,
            StateName::DueSoon,
        ] {
            assert!(states.contains(&st), "no {st:?} among the cases");
        }
    }
}
