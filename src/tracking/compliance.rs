//! Compliance over time: for a range of days (typically a calendar year),
//! how each unit (per report and in all) and each group kept its
//! reporting duties. The figures a coordinator puts in the year-end
//! assessment: reports owed, sent on time, late (average and worst days
//! late), never sent, not yet due, extensions and waivers in effect.
//!
//! - [`pairs`] (pure): the report-periods of the range, those whose window
//!   *ends* in it (as `status --period` names them), of every obligation in
//!   force on the period's last day; a daily report of working days owes
//!   nothing on a day off, so those days are left out.
//! - [`for_each_pair`]: each report-period's rows through
//!   [`super::status`] with that obligation and period selected, the same
//!   call as `hanbao status --obligation O --period P`, so every cell is
//!   status's cell by construction. One report-period at a time: a
//!   national year is never held in memory as rows, only folded.
//! - [`compute`]: the fold into [`Figures`] per unit × obligation, per
//!   unit, per group (a unit counts in each of its groups) and in total;
//!   [`unit_rows`]: one unit's cells behind its figures.
//! - [`csv`] and [`each_row`]: the three tables ("Theo nhóm", "Theo đơn
//!   vị", "Theo đơn vị và báo cáo") as CSV, and row by row for the
//!   workbook (`super::sheets`).
//!
//! "In effect" is read at `at`, as status reads it: a revoked extension or
//! waiver does not count; a report of the range received after `to` counts
//! as late with its days; one never received is "chưa nộp" (overdue at
//! `at`).
//!
//! Must not: read the clock (`at` is an argument), hold every row of the
//! range at once, or classify a cell any other way than
//! [`crate::status::classify`] through [`super::rows`].

use std::borrow::Cow;
use std::collections::HashMap;

use jiff::civil::Date;
use serde::Serialize;

use crate::calendar::WorkCalendar;
use crate::config::model::{Config, Obligation, Unit};
use crate::planner::{self, periods_ending_in};
use crate::status::{Moment, StateName, Status};
use crate::store::Store;

use super::{FileOrder, Row, Selection, TrackingError, dmy};

/// The days whose periods are assessed, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Range {
    pub from: Date,
    pub to: Date,
}

impl Range {
    /// A calendar year, 01/01 to 31/12.
    pub fn year(year: i16) -> Option<Range> {
        Some(Range {
            from: Date::new(year, 1, 1).ok()?,
            to: Date::new(year, 12, 31).ok()?,
        })
    }

    /// "01/01/2026–31/12/2026".
    pub fn words(&self) -> String {
        format!("{}–{}", dmy(self.from), dmy(self.to))
    }
}

/// The counts of a set of cells (one unit's cells of one report, a unit's,
/// a group's, or all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Every cell, waived ones included.
    pub cells: u32,
    /// Cells not waived: the reports that were owed.
    pub owed: u32,
    /// Submitted on time (`submitted_on_time`).
    pub on_time: u32,
    /// Submitted late (`submitted_late`).
    pub late: u32,
    /// Sum and maximum of the calendar days late of the late ones.
    pub days_late_total: i64,
    pub days_late_worst: Option<i32>,
    /// Sum and maximum of the working days late of the late ones.
    pub working_days_late_total: i64,
    pub working_days_late_worst: Option<i32>,
    /// Never sent: overdue at `at`.
    pub never_sent: u32,
    /// Not yet due at `at` (not open, open, due soon, extended).
    pub not_yet_due: u32,
    /// Cells with an extension in effect (waived ones included).
    pub extensions: u32,
    /// Waived cells.
    pub waivers: u32,
}

impl Figures {
    /// Counts one cell.
    pub fn add(&mut self, s: &Status) {
        self.cells += 1;
        if s.extended {
            self.extensions += 1;
        }
        match s.state {
            StateName::Waived => {
                self.waivers += 1;
                return;
            }
            StateName::SubmittedOnTime => self.on_time += 1,
            StateName::SubmittedLate => {
                self.late += 1;
                let days = s.days_late.unwrap_or(0);
                let working = s.working_days_late.unwrap_or(0);
                self.days_late_total += i64::from(days);
                self.working_days_late_total += i64::from(working);
                self.days_late_worst = self.days_late_worst.max(Some(days));
                self.working_days_late_worst = self.working_days_late_worst.max(Some(working));
            }
            StateName::Overdue => self.never_sent += 1,
            StateName::NotOpen | StateName::Open | StateName::DueSoon | StateName::Extended => {
                self.not_yet_due += 1
            }
        }
        self.owed += 1;
    }

    /// Adds another set's counts.
    pub fn merge(&mut self, o: &Figures) {
        self.cells += o.cells;
        self.owed += o.owed;
        self.on_time += o.on_time;
        self.late += o.late;
        self.days_late_total += o.days_late_total;
        self.days_late_worst = self.days_late_worst.max(o.days_late_worst);
        self.working_days_late_total += o.working_days_late_total;
        self.working_days_late_worst = self.working_days_late_worst.max(o.working_days_late_worst);
        self.never_sent += o.never_sent;
        self.not_yet_due += o.not_yet_due;
        self.extensions += o.extensions;
        self.waivers += o.waivers;
    }

    /// Mean calendar days late of the late reports.
    pub fn average_days_late(&self) -> Option<f64> {
        (self.late > 0).then(|| self.days_late_total as f64 / f64::from(self.late))
    }

    /// Mean working days late of the late reports.
    pub fn average_working_days_late(&self) -> Option<f64> {
        (self.late > 0).then(|| self.working_days_late_total as f64 / f64::from(self.late))
    }

    /// The reports that fell due by `at`: on time, late or never sent.
    pub fn fell_due(&self) -> u32 {
        self.on_time + self.late + self.never_sent
    }

    /// On time among those that fell due (0..=1); `None` when none did.
    pub fn on_time_rate(&self) -> Option<f64> {
        let due = self.fell_due();
        (due > 0).then(|| f64::from(self.on_time) / f64::from(due))
    }
}

/// One unit's figures for one report (obligation) over the range.
#[derive(Debug, Clone)]
pub struct UnitReport<'a> {
    pub unit: &'a Unit,
    pub obligation: &'a Obligation,
    pub figures: Figures,
}

/// One unit's figures over every report of the range.
#[derive(Debug, Clone)]
pub struct UnitFigures<'a> {
    pub unit: &'a Unit,
    pub figures: Figures,
}

/// One group's figures: the sum of its units'.
#[derive(Debug, Clone)]
pub struct GroupFigures {
    pub id: String,
    /// Members with at least one cell in the range.
    pub units: u32,
    pub figures: Figures,
}

/// The assessment of a range.
#[derive(Debug, Clone)]
pub struct Compliance<'a> {
    pub range: Range,
    pub at: Moment,
    /// How many report-periods the range has.
    pub pairs: usize,
    /// Unit file order, then obligation file order; only units × reports
    /// with a cell.
    pub reports: Vec<UnitReport<'a>>,
    /// Unit file order; only units with a cell.
    pub units: Vec<UnitFigures<'a>>,
    /// Group id order; only groups with a unit that has a cell.
    pub groups: Vec<GroupFigures>,
    pub total: Figures,
}

/// The report-periods of `range` (pure): for each obligation in file
/// order, the periods whose window ends in the range, the obligation in
/// force on that last day and the period owed on the calendar.
pub fn pairs<'a>(
    cfg: &'a Config,
    cal: &WorkCalendar,
    range: Range,
) -> Vec<(&'a Obligation, String)> {
    let mut out = Vec::new();
    for ob in &cfg.obligations {
        for p in periods_ending_in(ob, range.from, range.to) {
            if ob.active_on(p.window.end) && planner::owed_on_calendar(ob, cal, p.window) {
                out.push((ob, p.key.to_string()));
            }
        }
    }
    out
}

/// Calls `f` with the status rows of each report-period of `range` at
/// `at` (see [`pairs`]), one report-period at a time; returns how many
/// there were.
pub async fn for_each_pair<'a>(
    store: &Store,
    cfg: &'a Config,
    cal: &WorkCalendar,
    range: Range,
    at: Moment,
    mut f: impl FnMut(&[Row<'a>]),
) -> Result<usize, TrackingError> {
    let pairs = pairs(cfg, cal, range);
    for (ob, key) in &pairs {
        let sel = Selection {
            obligation: Some(ob.id.clone()),
            period: Some(key.clone()),
            unit: None,
        };
        let rows = super::status(store, cfg, cal, &sel, at).await?;
        f(&rows);
    }
    Ok(pairs.len())
}

/// One unit's cells of `range` at `at`, report-period by report-period
/// in [`pairs`]' order: the drill-down behind its figures, each cell
/// `status` of that one (obligation, period, unit).
pub async fn unit_rows<'a>(
    store: &Store,
    cfg: &'a Config,
    cal: &WorkCalendar,
    range: Range,
    at: Moment,
    unit: &str,
) -> Result<Vec<Row<'a>>, TrackingError> {
    let mut out = Vec::new();
    for (ob, key) in pairs(cfg, cal, range) {
        if !ob.reporters.iter().any(|r| r == unit) {
            continue;
        }
        let sel = Selection {
            obligation: Some(ob.id.clone()),
            period: Some(key),
            unit: Some(unit.to_owned()),
        };
        out.extend(super::status(store, cfg, cal, &sel, at).await?);
    }
    Ok(out)
}

/// The figures of `range` at `at` (see the module's doc).
pub async fn compute<'a>(
    store: &Store,
    cfg: &'a Config,
    cal: &WorkCalendar,
    range: Range,
    at: Moment,
) -> Result<Compliance<'a>, TrackingError> {
    let order = FileOrder::new(cfg);
    // (unit position, obligation position) -> figures.
    let mut acc: HashMap<(usize, usize), Figures> = HashMap::new();
    let pairs = for_each_pair(store, cfg, cal, range, at, |rows| {
        for r in rows {
            let key = (order.unit(&r.unit.id), order.obligation(&r.obligation.id));
            acc.entry(key).or_default().add(&r.status);
        }
    })
    .await?;
    let mut keys: Vec<(usize, usize)> = acc.keys().copied().collect();
    keys.sort_unstable();
    let mut reports = Vec::with_capacity(keys.len());
    let mut units: Vec<UnitFigures<'a>> = Vec::new();
    for (u, o) in keys {
        let figures = acc[&(u, o)];
        let unit = &cfg.units[u];
        reports.push(UnitReport {
            unit,
            obligation: &cfg.obligations[o],
            figures,
        });
        match units.last_mut() {
            Some(last) if last.unit.id == unit.id => last.figures.merge(&figures),
            _ => units.push(UnitFigures { unit, figures }),
        }
    }
    let mut by_group: HashMap<&str, GroupFigures> = HashMap::new();
    let mut total = Figures::default();
    for u in &units {
        total.merge(&u.figures);
        for g in &u.unit.groups {
            let e = by_group.entry(g.as_str()).or_insert_with(|| GroupFigures {
                id: g.clone(),
                units: 0,
                figures: Figures::default(),
            });
            e.units += 1;
            e.figures.merge(&u.figures);
        }
    }
    let mut groups: Vec<GroupFigures> = by_group.into_values().collect();
    groups.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Compliance {
        range,
        at,
        pairs,
        reports,
        units,
        groups,
        total,
    })
}

/// The three tables of an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Groups,
    Units,
    Reports,
}

impl Table {
    pub const ALL: [Table; 3] = [Table::Groups, Table::Units, Table::Reports];

    /// The sheet's name in the workbook.
    pub fn title(self) -> &'static str {
        match self {
            Table::Groups => "Theo nhóm",
            Table::Units => "Theo đơn vị",
            Table::Reports => "Theo đơn vị và báo cáo",
        }
    }

    /// The query value that picks it (`table=`), also the file name's end.
    pub fn slug(self) -> &'static str {
        match self {
            Table::Groups => "nhom",
            Table::Units => "don-vi",
            Table::Reports => "don-vi-bao-cao",
        }
    }

    pub fn from_slug(s: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.slug() == s)
    }

    /// The columns naming the row, before the figures.
    fn lead(self) -> &'static [&'static str] {
        match self {
            Table::Groups => &["Mã nhóm", "Tên nhóm", "Số đơn vị"],
            Table::Units => &["Mã đơn vị", "Tên đơn vị", "Nhóm"],
            Table::Reports => &["Mã đơn vị", "Tên đơn vị", "Nghĩa vụ", "Tên nghĩa vụ"],
        }
    }

    /// Every column, the figures last ([`FIGURE_COLUMNS`]).
    pub fn header(self) -> Vec<&'static str> {
        let mut h = self.lead().to_vec();
        h.extend_from_slice(&FIGURE_COLUMNS);
        h
    }
}

/// The figure columns every table ends with, in this order.
pub const FIGURE_COLUMNS: [&str; 12] = [
    "Phải nộp",
    "Đúng hạn",
    "Nộp muộn",
    "Số ngày trễ trung bình",
    "Số ngày trễ nhiều nhất",
    "Số ngày làm việc trễ trung bình",
    "Số ngày làm việc trễ nhiều nhất",
    "Chưa nộp (quá hạn)",
    "Chưa đến hạn",
    "Được gia hạn",
    "Được miễn",
    "Tỷ lệ đúng hạn (%)",
];

/// One cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'c> {
    /// Text from the configuration (ids, names, titles).
    Text(Cow<'c, str>),
    Count(i64),
    /// A mean, shown with one decimal; `None`: empty.
    Decimal(Option<f64>),
    /// A share 0..=1, shown as a percentage with one decimal; `None`: empty.
    Percent(Option<f64>),
}

impl Cell<'_> {
    /// As the CSV writes it (text not yet escaped).
    pub fn shown(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(t) => Cow::Borrowed(t),
            Cell::Count(n) => Cow::Owned(n.to_string()),
            Cell::Decimal(v) => Cow::Owned(v.map(|v| format!("{v:.1}")).unwrap_or_default()),
            Cell::Percent(v) => {
                Cow::Owned(v.map(|v| format!("{:.1}", v * 100.0)).unwrap_or_default())
            }
        }
    }
}

fn figure_cells(f: &Figures, out: &mut Vec<Cell<'_>>) {
    let opt = |v: Option<i32>| match v {
        Some(v) => Cell::Count(i64::from(v)),
        None => Cell::Decimal(None),
    };
    out.extend([
        Cell::Count(f.owed.into()),
        Cell::Count(f.on_time.into()),
        Cell::Count(f.late.into()),
        Cell::Decimal(f.average_days_late()),
        opt(f.days_late_worst),
        Cell::Decimal(f.average_working_days_late()),
        opt(f.working_days_late_worst),
        Cell::Count(f.never_sent.into()),
        Cell::Count(f.not_yet_due.into()),
        Cell::Count(f.extensions.into()),
        Cell::Count(f.waivers.into()),
        Cell::Percent(f.on_time_rate()),
    ]);
}

/// Calls `f` with each row of `table` (without the header), in the
/// assessment's order.
pub fn each_row(c: &Compliance<'_>, cfg: &Config, table: Table, mut f: impl FnMut(&[Cell<'_>])) {
    let mut cells: Vec<Cell<'_>> = Vec::with_capacity(16);
    match table {
        Table::Groups => {
            for g in &c.groups {
                cells.clear();
                cells.push(Cell::Text(Cow::Borrowed(&g.id)));
                cells.push(Cell::Text(Cow::Borrowed(cfg.group_name(&g.id))));
                cells.push(Cell::Count(g.units.into()));
                figure_cells(&g.figures, &mut cells);
                f(&cells);
            }
        }
        Table::Units => {
            for u in &c.units {
                cells.clear();
                cells.push(Cell::Text(Cow::Borrowed(&u.unit.id)));
                cells.push(Cell::Text(Cow::Borrowed(&u.unit.name)));
                let names: Vec<&str> = u.unit.groups.iter().map(|g| cfg.group_name(g)).collect();
                cells.push(Cell::Text(Cow::Owned(names.join(", "))));
                figure_cells(&u.figures, &mut cells);
                f(&cells);
            }
        }
        Table::Reports => {
            for r in &c.reports {
                cells.clear();
                cells.push(Cell::Text(Cow::Borrowed(&r.unit.id)));
                cells.push(Cell::Text(Cow::Borrowed(&r.unit.name)));
                cells.push(Cell::Text(Cow::Borrowed(&r.obligation.id)));
                cells.push(Cell::Text(Cow::Borrowed(&r.obligation.title)));
                figure_cells(&r.figures, &mut cells);
                f(&cells);
            }
        }
    }
}

/// One table as CSV, like `tracking::csv`: UTF-8 with a BOM, CRLF, text
/// from the configuration through `escape::spreadsheet` (never a
/// formula); means with one decimal and a dot, the rate in percent.
pub fn csv(c: &Compliance<'_>, cfg: &Config, table: Table) -> Vec<u8> {
    let mut buf = Vec::with_capacity(c.reports.len() * 120 + 256);
    buf.extend_from_slice("\u{feff}".as_bytes());
    {
        let mut w = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .from_writer(&mut buf);
        w.write_record(table.header()).expect("writing to memory");
        each_row(c, cfg, table, |cells| {
            let record: Vec<Cow<'_, str>> = cells
                .iter()
                .map(|cell| match cell {
                    Cell::Text(t) => Cow::Owned(crate::escape::spreadsheet(t).into_owned()),
                    other => Cow::Owned(other.shown().into_owned()),
                })
                .collect();
            w.write_record(record.iter().map(|s| s.as_bytes()))
                .expect("writing to memory");
        });
        w.flush().expect("writing to memory");
    }
    buf
}

/// A figure with one decimal as Vietnamese writes it (a comma: "27,6"),
/// for people (the page, the command's summary); the CSV keeps a dot.
pub fn decimal_vi(v: f64) -> String {
    format!("{v:.1}").replace('.', ",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn st(state: StateName, days: Option<i32>, extended: bool) -> Status {
        Status {
            state,
            due: date(2026, 1, 15),
            submitted_on: None,
            days_late: days,
            working_days_late: days.map(|d| d - d / 7 * 2),
            hours_late: None,
            extended,
        }
    }

    #[test]
    fn figures_count_each_state_once() {
        let mut f = Figures::default();
        f.add(&st(StateName::SubmittedOnTime, None, false));
        f.add(&st(StateName::SubmittedLate, Some(3), false));
        f.add(&st(StateName::SubmittedLate, Some(10), true));
        f.add(&st(StateName::Overdue, Some(40), false));
        f.add(&st(StateName::Waived, None, true));
        f.add(&st(StateName::Extended, None, true));
        assert_eq!(f.cells, 6);
        assert_eq!(f.owed, 5);
        assert_eq!((f.on_time, f.late, f.never_sent), (1, 2, 1));
        assert_eq!((f.not_yet_due, f.waivers, f.extensions), (1, 1, 3));
        assert_eq!(f.average_days_late(), Some(6.5));
        assert_eq!(f.days_late_worst, Some(10));
        assert_eq!(f.on_time_rate(), Some(0.25));
        let mut g = Figures::default();
        g.merge(&f);
        g.merge(&f);
        assert_eq!(g.owed, 10);
        assert_eq!(g.days_late_worst, Some(10));
        assert_eq!(g.average_days_late(), Some(6.5));
    }

    #[test]
    fn an_empty_set_has_no_mean_and_no_rate() {
        let f = Figures::default();
        assert_eq!(f.average_days_late(), None);
        assert_eq!(f.on_time_rate(), None);
        assert_eq!(Cell::Decimal(None).shown(), "");
        assert_eq!(Cell::Percent(Some(0.875)).shown(), "87.5");
    }

    #[test]
    fn a_year_is_its_first_and_last_day() {
        let y = Range::year(2026).expect("valid");
        assert_eq!(y.words(), "01/01/2026–31/12/2026");
    }
}
