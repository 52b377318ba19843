//! `GET /dashboard/matrix`: the status of units, filtered by obligation,
//! period, group, state and a search (unit name or id, Vietnamese with or
//! without diacritics, `primitives::fold`), sorted (file order, name,
//! state, days late) and paged. The filters are shared with the CSV export
//! (`export`).
//!
//! Two shapes. When the selection is one report-period, a list: one line
//! per unit with its state, due day in force, day received, days late,
//! số văn bản and the last message sent ("Lần nhắc gần nhất": one
//! `Outbox::last_sent` per page, for its units only). Otherwise a grid, units × (obligation, period); a report
//! with periods shorter than a month takes two columns (its latest period,
//! its earlier unsettled ones together). Columns are named by the report's
//! title and the period in words. The whole grid is one page while it
//! has at most [`WHOLE_GRID_CELLS`] cells (a province's configuration);
//! beyond, every report's earlier unsettled periods share one column, and
//! the grid comes in pages of units ("101–200 / 3 310"), never every unit at once
//! but for printing (`print=1`: every line, at most [`PRINT_LINES`]).
//!
//! Must not: write anything.

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::primitives::fold;
use crate::status::{Moment, StateName};
use crate::tracking::block::Block;
use crate::tracking::{self, Row, Selection, TrackingError};

use super::super::AppState;
use super::page::{self, Frame, store_failed};
use super::sent::kind_words;
use super::session::Admin;
use super::view::{STATES, cell_text, dmy, key_href, local, pct, period_words, unit_href};
use crate::live::Live;
use crate::store::{LastSent, Outbox};

pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard/matrix", get(matrix))
}

/// The most cells the grid shows on one page without being asked to page
/// (a province: 48 units × a few columns).
pub const WHOLE_GRID_CELLS: usize = 5_000;
/// The page sizes offered; the first is the grid's default, the second
/// the list's.
pub const PAGE_SIZES: [usize; 3] = [50, 100, 200];
/// The most lines a print view (`print=1`) shows.
pub const PRINT_LINES: usize = 5_000;
/// The characters of a report's title shown in a column head.
const TITLE_CHARS: usize = 40;

/// The matrix query (all optional; empty means all). `status` may list
/// several states separated by commas (the summary's "received" is
/// `submitted_on_time,submitted_late`).
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    obligation: Option<String>,
    period: Option<String>,
    group: Option<String>,
    status: Option<String>,
    /// Words of a unit's name or id, diacritics optional.
    q: Option<String>,
    /// `file` (default), `name`, `state` or `late`.
    sort: Option<String>,
    /// `asc` (default) or `desc`.
    dir: Option<String>,
    page: Option<String>,
    per: Option<String>,
    /// `1`: every line of the selection on one page (at most
    /// [`PRINT_LINES`]), to print.
    print: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Filters {
    /// The selecting filters (not sort or paging) as a query string
    /// (`?k=v&...`, or empty).
    fn query(&self) -> String {
        self.query_with(&[])
    }

    /// The selecting filters, then `extra` (non-empty values only).
    fn query_with(&self, extra: &[(&str, String)]) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("obligation", &self.obligation),
            ("period", &self.period),
            ("group", &self.group),
            ("status", &self.status),
            ("q", &self.q),
        ] {
            if let Some(v) = nonempty(v) {
                parts.push(format!("{k}={}", pct(&v)));
            }
        }
        for (k, v) in extra {
            if !v.is_empty() {
                parts.push(format!("{k}={}", pct(v)));
            }
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// Why the filters select nothing: a Vietnamese message for the page, or
/// the store failed (the page to send).
pub enum Refused {
    Message(String),
    Store(Response),
}

/// The states `status` names (comma-separated), or why not.
fn wanted_states(status: Option<String>) -> Result<Option<Vec<StateName>>, String> {
    let Some(s) = status else { return Ok(None) };
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match STATES.into_iter().find(|st| st.as_str() == part) {
            Some(st) => out.push(st),
            None => return Err(format!("Không có trạng thái \"{part}\".")),
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

/// Whether every word of the folded query is in the unit's folded name
/// or id.
pub(super) fn matches(words: &[String], name: &str, id: &str) -> bool {
    let hay = format!("{} {}", fold(name), fold(id));
    words.iter().all(|w| hay.contains(w.as_str()))
}

/// What the selecting filters ask for, checked (the page and the CSV
/// export share it): the selection, the group's members, the states and
/// the search's folded words.
pub(super) struct Wanted {
    pub(super) sel: Selection,
    pub(super) members: Option<HashSet<String>>,
    pub(super) states: Option<Vec<StateName>>,
    pub(super) words: Vec<String>,
}

impl Filters {
    /// The selecting filters checked; Err is the Vietnamese message.
    pub(super) fn wanted(&self, live: &Live) -> Result<Wanted, String> {
        let period = nonempty(&self.period);
        if let Some(p) = &period
            && crate::period::PeriodKey::parse(p).is_err()
            && !live.cfg.obligations.iter().any(|o| o.id == *p)
        {
            return Err(format!(
                "Kỳ \"{p}\" không đúng dạng: ghi 2026-03, 2026-Q1, 2026-H1, 2026-9M, 2026, hoặc mã của báo cáo một lần."
            ));
        }
        let members = match nonempty(&self.group) {
            Some(g) => match live.cfg.groups.get(&g) {
                Some(m) => Some(m.iter().cloned().collect()),
                None => return Err(format!("Không có nhóm \"{g}\" trong cấu hình.")),
            },
            None => None,
        };
        Ok(Wanted {
            sel: Selection {
                obligation: nonempty(&self.obligation),
                period,
                unit: None,
            },
            members,
            states: wanted_states(nonempty(&self.status))?,
            words: nonempty(&self.q)
                .map(|q| fold(&q).split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
        })
    }
}

/// The cells the filters select at `at` (a day and a time: hours late
/// within the first day), as `tracking::block`s: the look-back's
/// event-less cells are filtered per block, not one by one, where the
/// filter does not depend on the unit.
pub async fn select<'a>(
    state: &AppState,
    live: &'a Live,
    f: &Filters,
    at: impl Into<Moment>,
) -> Result<Vec<Block<'a>>, Refused> {
    let w = f.wanted(live).map_err(Refused::Message)?;
    let mut blocks = match tracking::block::status(
        &state.shared.store,
        &live.cfg,
        &live.cal,
        &w.sel,
        at,
    )
    .await
    {
        Ok(b) => b,
        Err(TrackingError::Store(e)) => return Err(Refused::Store(store_failed(e))),
        Err(e) => return Err(Refused::Message(format!("{e}."))),
    };
    // Whether each unit (by place in the file) passes the group and the
    // search, decided once per unit, not once per cell.
    let mut unit_ok: Vec<Option<bool>> = vec![None; live.cfg.units.len()];
    let mut passes = |u: &crate::config::model::Unit| {
        let decide = || {
            w.members.as_ref().is_none_or(|m| m.contains(&u.id))
                && (w.words.is_empty() || matches(&w.words, &u.name, &u.id))
        };
        match live.cfg.unit_place(u) {
            Some(i) => *unit_ok[i].get_or_insert_with(decide),
            None => decide(),
        }
    };
    let filtered = w.members.is_some() || !w.words.is_empty() || w.states.is_some();
    if filtered {
        for b in &mut blocks {
            b.retain(|u, st| w.states.as_ref().is_none_or(|s| s.contains(&st.state)) && passes(u));
        }
    }
    blocks.retain(|b| !b.cells.is_empty());
    Ok(blocks)
}

/// Every cell of `blocks` as a row, in order.
fn rows_of<'a>(blocks: &[Block<'a>]) -> Vec<Row<'a>> {
    blocks.iter().flat_map(|b| b.rows()).collect()
}

/// How far down a state sorts: the most urgent first.
fn severity(s: StateName) -> u8 {
    match s {
        StateName::Overdue => 0,
        StateName::DueSoon => 1,
        StateName::Open => 2,
        StateName::Extended => 3,
        StateName::NotOpen => 4,
        StateName::SubmittedLate => 5,
        StateName::SubmittedOnTime => 6,
        StateName::Waived => 7,
    }
}

/// The order of lines a query asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    File,
    Name,
    State,
    Late,
}

impl Sort {
    fn parse(s: Option<String>) -> Sort {
        match s.as_deref() {
            Some("name") => Sort::Name,
            Some("state") => Sort::State,
            Some("late") => Sort::Late,
            _ => Sort::File,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Sort::File => "",
            Sort::Name => "name",
            Sort::State => "state",
            Sort::Late => "late",
        }
    }
}

/// The units of `rows` (as their place in the file) in the order asked:
/// a unit's key in a grid is its worst cell (most urgent state, most
/// late). Ties go by name, then file order.
fn unit_order(live: &Live, rows: &[Row<'_>], sort: Sort, desc: bool) -> Vec<usize> {
    struct Key {
        severity: u8,
        lateness: (i32, i32),
        name: String,
    }
    let order = tracking::FileOrder::new(&live.cfg);
    let mut keys: BTreeMap<usize, Key> = BTreeMap::new();
    for r in rows {
        let u = order.unit(&r.unit.id);
        let k = keys.entry(u).or_insert_with(|| Key {
            severity: u8::MAX,
            lateness: (i32::MIN, i32::MIN),
            name: match sort {
                Sort::Name | Sort::State | Sort::Late => fold(&r.unit.name),
                Sort::File => String::new(),
            },
        });
        k.severity = k.severity.min(severity(r.status.state));
        let late = match r.status.state {
            StateName::Overdue | StateName::SubmittedLate => r.status.lateness(),
            _ => (i32::MIN, i32::MIN),
        };
        k.lateness = k.lateness.max(late);
    }
    let mut units: Vec<(usize, Key)> = keys.into_iter().collect();
    match sort {
        Sort::File => {}
        Sort::Name => units.sort_by(|a, b| a.1.name.cmp(&b.1.name).then(a.0.cmp(&b.0))),
        Sort::State => units.sort_by(|a, b| {
            (
                a.1.severity,
                std::cmp::Reverse(a.1.lateness),
                &a.1.name,
                a.0,
            )
                .cmp(&(
                    b.1.severity,
                    std::cmp::Reverse(b.1.lateness),
                    &b.1.name,
                    b.0,
                ))
        }),
        Sort::Late => units.sort_by(|a, b| {
            (std::cmp::Reverse(a.1.lateness), &a.1.name, a.0).cmp(&(
                std::cmp::Reverse(b.1.lateness),
                &b.1.name,
                b.0,
            ))
        }),
    }
    if desc {
        units.reverse();
    }
    units.into_iter().map(|(u, _)| u).collect()
}

/// The same order as [`unit_order`] of the blocks' rows, from the blocks:
/// a block's event-less cells share one status, so their key is worked
/// out once per block and each cell costs a comparison.
fn unit_order_blocks(live: &Live, blocks: &[Block<'_>], sort: Sort, desc: bool) -> Vec<usize> {
    #[derive(Clone)]
    struct Key {
        severity: u8,
        lateness: (i32, i32),
    }
    let key_of = |s: &crate::status::Status| Key {
        severity: severity(s.state),
        lateness: match s.state {
            StateName::Overdue | StateName::SubmittedLate => s.lateness(),
            _ => (i32::MIN, i32::MIN),
        },
    };
    let order = tracking::FileOrder::new(&live.cfg);
    let mut keys: Vec<Option<Key>> = vec![None; live.cfg.units.len()];
    let mut names: Vec<Option<&crate::config::model::Unit>> = vec![None; live.cfg.units.len()];
    for b in blocks {
        let blank = key_of(&b.blank);
        for &(u, slot) in &b.cells {
            let i = live.cfg.unit_place(u).unwrap_or_else(|| order.unit(&u.id));
            let k = match slot {
                tracking::block::BLANK => blank.clone(),
                _ => key_of(b.status_of(slot)),
            };
            names[i].get_or_insert(u);
            let cur = keys[i].get_or_insert(Key {
                severity: u8::MAX,
                lateness: (i32::MIN, i32::MIN),
            });
            cur.severity = cur.severity.min(k.severity);
            cur.lateness = cur.lateness.max(k.lateness);
        }
    }
    let mut units: Vec<(usize, Key, String)> = keys
        .into_iter()
        .enumerate()
        .filter_map(|(i, k)| {
            let k = k?;
            let name = match sort {
                Sort::Name | Sort::State | Sort::Late => names[i].map(|u| fold(&u.name)),
                Sort::File => None,
            };
            Some((i, k, name.unwrap_or_default()))
        })
        .collect();
    match sort {
        Sort::File => {}
        Sort::Name => units.sort_by(|a, b| a.2.cmp(&b.2).then(a.0.cmp(&b.0))),
        Sort::State => units.sort_by(|a, b| {
            (a.1.severity, std::cmp::Reverse(a.1.lateness), &a.2, a.0).cmp(&(
                b.1.severity,
                std::cmp::Reverse(b.1.lateness),
                &b.2,
                b.0,
            ))
        }),
        Sort::Late => units.sort_by(|a, b| {
            (std::cmp::Reverse(a.1.lateness), &a.2, a.0).cmp(&(
                std::cmp::Reverse(b.1.lateness),
                &b.2,
                b.0,
            ))
        }),
    }
    if desc {
        units.reverse();
    }
    units.into_iter().map(|(u, _, _)| u).collect()
}

/// `n` with a no-break space between thousands: 3310 -> "3 310".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    out
}

/// Which lines a page shows, and its links.
#[derive(Serialize)]
struct Pager {
    /// "101–200 / 3 310".
    text: String,
    prev: Option<String>,
    next: Option<String>,
    /// The page sizes, with links.
    sizes: Vec<Choice>,
    per: usize,
}

/// One `<option>` of a filter.
#[derive(Serialize)]
struct Choice {
    value: String,
    text: String,
}

/// The filter form: what is chosen and what can be.
#[derive(Serialize)]
struct FilterView {
    obligation: Option<String>,
    group: Option<String>,
    status: Option<String>,
    period: String,
    q: String,
    sort: &'static str,
    desc: bool,
}

#[derive(Debug, PartialEq, Serialize)]
struct Column {
    /// The report's short title, else its title cut to [`TITLE_CHARS`]
    /// characters.
    title: String,
    /// The whole title (a tooltip).
    full_title: String,
    id: String,
    /// The period in words.
    period: String,
    due: String,
}

#[derive(Debug, PartialEq, Serialize)]
struct Cell {
    state: &'static str,
    id: String,
    href: String,
    text: String,
}

#[derive(Debug, PartialEq, Serialize)]
struct Line {
    href: String,
    name: String,
    id: String,
    /// One per column; `None` where the unit owes nothing.
    cells: Vec<Option<Cell>>,
}

#[derive(Debug, PartialEq, Serialize)]
struct Legend {
    state: &'static str,
    label: &'static str,
    count: usize,
}

#[derive(Debug, PartialEq, Serialize)]
struct Table {
    columns: Vec<Column>,
    lines: Vec<Line>,
    legend: Vec<Legend>,
    total: usize,
}

/// One unit's line in the list of a report-period.
#[derive(Serialize)]
struct ListLine {
    href: String,
    name: String,
    id: String,
    /// The names of its groups.
    groups: String,
    cell: Cell,
    /// The due day in force (an extension's day when extended).
    due: String,
    received: String,
    days_late: String,
    reference: String,
    /// The last message sent for this report-period, if any.
    last: Option<LastLine>,
}

/// The "Lần nhắc gần nhất" cell: when (local time) and what.
#[derive(Serialize)]
struct LastLine {
    when: String,
    kind: String,
}

/// The list of one report-period.
#[derive(Serialize)]
struct List {
    title: String,
    period: String,
    due: String,
    lines: Vec<ListLine>,
    legend: Vec<Legend>,
    total: usize,
    /// Column heads that sort: (text, href).
    heads: Vec<Choice>,
}

#[derive(Serialize)]
struct MatrixView {
    filters: FilterView,
    obligations: Vec<Choice>,
    groups: Vec<Choice>,
    states: Vec<Choice>,
    sorts: Vec<Choice>,
    /// Why nothing is shown (400).
    error: Option<String>,
    today: String,
    export_href: String,
    /// Every line of the selection on one page, to print.
    print_href: String,
    pager: Option<Pager>,
    /// The grid, or `None`.
    table: Option<Table>,
    /// The list of one report-period, or `None`.
    list: Option<List>,
}

fn choices(live: &Live) -> [Vec<Choice>; 4] {
    let obligations = live
        .cfg
        .obligations
        .iter()
        .map(|o| Choice {
            value: o.id.clone(),
            text: o.title.clone(),
        })
        .collect();
    let groups = live
        .cfg
        .groups
        .keys()
        .map(|g| Choice {
            value: g.clone(),
            text: live.cfg.group_name(g).to_string(),
        })
        .collect();
    let states = STATES
        .iter()
        .map(|s| Choice {
            value: s.as_str().to_string(),
            text: s.label_vi().to_string(),
        })
        .collect();
    let sorts = [
        (Sort::File, "Thứ tự trong cấu hình"),
        (Sort::Name, "Tên đơn vị"),
        (Sort::State, "Trạng thái (gấp nhất trước)"),
        (Sort::Late, "Số ngày muộn (nhiều nhất trước)"),
    ]
    .into_iter()
    .map(|(s, text)| Choice {
        value: s.as_str().to_string(),
        text: text.to_string(),
    })
    .collect();
    [obligations, groups, states, sorts]
}

/// `text` cut to `n` characters, ending in "…" when cut.
fn cut(text: &str, n: usize) -> String {
    match text.char_indices().nth(n) {
        Some(_) => {
            let mut t: String = text.chars().take(n.saturating_sub(1)).collect();
            t.push('…');
            t
        }
        None => text.to_owned(),
    }
}

fn legend(rows: &[Row<'_>]) -> Vec<Legend> {
    STATES
        .iter()
        .map(|st| Legend {
            state: st.as_str(),
            label: st.label_vi(),
            count: rows.iter().filter(|r| r.status.state == *st).count(),
        })
        .filter(|l| l.count > 0)
        .collect()
}

fn single_cell(c: &Row<'_>) -> Cell {
    Cell {
        state: c.status.state.as_str(),
        id: format!("{}-{}-{}", c.unit.id, c.obligation.id, c.period),
        href: key_href(&c.unit.id, &c.obligation.id, &c.period),
        text: cell_text(c),
    }
}

/// The cell of one unit in one column: its one row, or the earlier
/// periods of a report together (how many, how many overdue, the longest).
fn cell_of(cs: &[&Row<'_>]) -> Cell {
    match cs {
        [c] => single_cell(c),
        _ => {
            let overdue: Vec<&&Row<'_>> = cs
                .iter()
                .filter(|c| c.status.state == StateName::Overdue)
                .collect();
            let most = overdue
                .iter()
                .max_by_key(|c| c.status.lateness())
                .map(|c| c.status.time_late_vi())
                .unwrap_or_default();
            Cell {
                state: overdue
                    .first()
                    .map_or(cs[0].status.state, |c| c.status.state)
                    .as_str(),
                id: format!("{}-{}-earlier", cs[0].unit.id, cs[0].obligation.id),
                href: unit_href(&cs[0].unit.id),
                text: match overdue.len() {
                    0 => format!("{} kỳ chưa xong", cs.len()),
                    n => format!("Quá hạn {n} kỳ (lâu nhất {most})"),
                },
            }
        }
    }
}

/// What a column head shows of the cell it is named after.
struct Head<'a> {
    obligation: &'a crate::config::model::Obligation,
    due: Date,
    extended: bool,
}

/// The grid of `blocks`: the same table as [`table_of`] their rows, built
/// from the blocks. The columns, the legend and the total are worked out
/// per block (a block's event-less cells share one status); only the
/// cells of `units` (one page) are made into rows.
fn grid(live: &Live, blocks: &[Block<'_>], units: &[usize], today: Date, collapse: bool) -> Table {
    let today = today.to_string();
    let order = tracking::FileOrder::new(&live.cfg);
    // The latest period of each short-cycle report among the blocks.
    let mut latest: HashMap<usize, &str> = HashMap::new();
    for b in blocks
        .iter()
        .filter(|b| b.obligation.cycle.is_short() && !b.cells.is_empty())
    {
        let l = latest
            .entry(order.obligation(&b.obligation.id))
            .or_insert(&*b.period);
        if *b.period > **l {
            *l = &b.period;
        }
    }
    let mut shown = vec![false; live.cfg.units.len()];
    for &u in units {
        if let Some(s) = shown.get_mut(u) {
            *s = true;
        }
    }
    let place = |u: &crate::config::model::Unit| {
        live.cfg.unit_place(u).unwrap_or_else(|| order.unit(&u.id))
    };
    let mut columns: BTreeMap<(usize, &str), Head<'_>> = BTreeMap::new();
    let mut page: Vec<Row<'_>> = Vec::new();
    let mut legend_counts: HashMap<StateName, usize> = HashMap::new();
    let mut total = 0;
    for b in blocks.iter().filter(|b| !b.cells.is_empty()) {
        let o = order.obligation(&b.obligation.id);
        let period: &str = match collapse && !b.all_units {
            true => tracking::EARLIER,
            false => match latest.get(&o) {
                Some(l) if *l != &*b.period => tracking::EARLIER,
                _ => &b.period,
            },
        };
        // The head: the earliest due day of an earlier column; else the
        // first cell without an extension (all of them share the period's
        // due day), or the first cell when every one is extended.
        let blanks = b.blanks();
        let candidates = (blanks > 0)
            .then_some(&b.blank)
            .into_iter()
            .chain(b.events.iter().map(|r| &r.status));
        for st in candidates {
            let col = columns.entry((o, period)).or_insert(Head {
                obligation: b.obligation,
                due: st.due,
                extended: st.extended,
            });
            if period == tracking::EARLIER {
                if st.due < col.due {
                    col.due = st.due;
                    col.extended = st.extended;
                }
            } else if col.extended && !st.extended {
                col.due = st.due;
                col.extended = st.extended;
            }
        }
        *legend_counts.entry(b.blank.state).or_default() += blanks;
        for r in &b.events {
            *legend_counts.entry(r.status.state).or_default() += 1;
        }
        total += b.cells.len();
        if units.is_empty() {
            continue;
        }
        for &(u, slot) in &b.cells {
            if shown.get(place(u)).copied().unwrap_or(false) {
                page.push(b.row(u, slot));
            }
        }
    }
    let mut lines: HashMap<usize, &Row<'_>> = HashMap::new();
    let mut cells: HashMap<(usize, usize, &str), Vec<&Row<'_>>> = HashMap::new();
    for r in &page {
        let o = order.obligation(&r.obligation.id);
        let u = place(r.unit);
        let period = match collapse && !r.all_units {
            true => tracking::EARLIER,
            false => match latest.get(&o) {
                Some(l) if *l != &*r.period => tracking::EARLIER,
                _ => &*r.period,
            },
        };
        lines.entry(u).or_insert(r);
        cells.entry((u, o, period)).or_default().push(r);
    }
    Table {
        columns: columns
            .iter()
            .map(|((_, period), h)| Column {
                title: match &h.obligation.short_title {
                    Some(short) => short.clone(),
                    None => cut(&h.obligation.title, TITLE_CHARS),
                },
                full_title: h.obligation.title.clone(),
                id: h.obligation.id.clone(),
                period: match *period {
                    tracking::EARLIER => "các kỳ trước".into(),
                    p if p == today => "hôm nay".into(),
                    p => period_words(p),
                },
                due: if *period == tracking::EARLIER {
                    format!("từ {}", dmy(h.due))
                } else if h.extended {
                    "—".into()
                } else {
                    dmy(h.due)
                },
            })
            .collect(),
        lines: units
            .iter()
            .filter_map(|u| lines.get(u).map(|r| (u, r)))
            .map(|(u, r)| Line {
                href: unit_href(&r.unit.id),
                name: r.unit.name.clone(),
                id: r.unit.id.clone(),
                cells: columns
                    .keys()
                    .map(|(o, period)| cells.get(&(*u, *o, *period)).map(|c| cell_of(c)))
                    .collect(),
            })
            .collect(),
        legend: STATES
            .iter()
            .map(|st| Legend {
                state: st.as_str(),
                label: st.label_vi(),
                count: legend_counts.get(st).copied().unwrap_or(0),
            })
            .filter(|l| l.count > 0)
            .collect(),
        total,
    }
}

/// The matrix table of every unit of `rows`, in file order.
#[cfg(test)]
fn table(live: &Live, rows: &[Row<'_>], today: Date) -> Table {
    let order = unit_order(live, rows, Sort::File, false);
    table_of(live, rows, &order, today, false)
}

/// The matrix table: one line per unit of `units` (places in the file, in
/// that order), one column per (obligation, period) of `rows` (file order,
/// then period). A report with periods shorter than a month takes two
/// columns: its latest period, and its earlier unsettled periods together
/// (`tracking::EARLIER`), whose cell counts them and links to the unit's
/// page. A daily report's period of `today` is headed "hôm nay", as in
/// `status`. With `collapse` (a grid too big for one page), the earlier
/// periods of every report shown only for their unsettled units share that
/// one column too, so there are at most two columns per report.
///
/// The reference for [`grid`], which the page uses (the same table from
/// blocks, without a row per cell); the tests check that they agree.
#[cfg(test)]
fn table_of(live: &Live, rows: &[Row<'_>], units: &[usize], today: Date, collapse: bool) -> Table {
    let today = today.to_string();
    let order = tracking::FileOrder::new(&live.cfg);
    let latest = tracking::latest_short_periods(rows, &order);
    let shown: std::collections::HashSet<usize> = units.iter().copied().collect();
    let mut columns: BTreeMap<(usize, &str), &Row<'_>> = BTreeMap::new();
    let mut lines: HashMap<usize, &Row<'_>> = HashMap::new();
    let mut cells: HashMap<(usize, usize, &str), Vec<&Row<'_>>> = HashMap::new();
    for r in rows {
        let o = order.obligation(&r.obligation.id);
        let u = order.unit(&r.unit.id);
        let period = match collapse && !r.all_units {
            true => tracking::EARLIER,
            false => tracking::column_of(&latest, o, r),
        };
        let col = columns.entry((o, period)).or_insert(r);
        if period == tracking::EARLIER {
            if r.status.due < col.status.due {
                *col = r;
            }
        } else if col.status.extended && !r.status.extended {
            *col = r;
        }
        if shown.contains(&u) {
            lines.entry(u).or_insert(r);
            cells.entry((u, o, period)).or_default().push(r);
        }
    }
    Table {
        columns: columns
            .iter()
            .map(|((_, period), r)| Column {
                title: match &r.obligation.short_title {
                    Some(short) => short.clone(),
                    None => cut(&r.obligation.title, TITLE_CHARS),
                },
                full_title: r.obligation.title.clone(),
                id: r.obligation.id.clone(),
                period: match *period {
                    tracking::EARLIER => "các kỳ trước".into(),
                    p if p == today => "hôm nay".into(),
                    p => period_words(p),
                },
                due: if *period == tracking::EARLIER {
                    format!("từ {}", dmy(r.status.due))
                } else if r.status.extended {
                    "—".into()
                } else {
                    dmy(r.status.due)
                },
            })
            .collect(),
        lines: units
            .iter()
            .filter_map(|u| lines.get(u).map(|r| (u, r)))
            .map(|(u, r)| Line {
                href: unit_href(&r.unit.id),
                name: r.unit.name.clone(),
                id: r.unit.id.clone(),
                cells: columns
                    .keys()
                    .map(|(o, period)| cells.get(&(*u, *o, *period)).map(|c| cell_of(c)))
                    .collect(),
            })
            .collect(),
        legend: legend(rows),
        total: rows.len(),
    }
}

/// The rows of `units` (places in the file), in that order: one page.
fn page_rows<'r, 'a>(live: &Live, rows: &'r [Row<'a>], units: &[usize]) -> Vec<&'r Row<'a>> {
    let order = tracking::FileOrder::new(&live.cfg);
    let by_unit: HashMap<usize, &Row<'_>> =
        rows.iter().map(|r| (order.unit(&r.unit.id), r)).collect();
    units
        .iter()
        .filter_map(|u| by_unit.get(u).copied())
        .collect()
}

/// The list of one report-period: the lines of `page` (in that order),
/// each with the last message sent to its unit among `last`.
fn list_of(
    live: &Live,
    rows: &[Row<'_>],
    page: &[&Row<'_>],
    last: &[LastSent],
    f: &Filters,
) -> List {
    let tz = &live.cfg.daemon.time_zone;
    let last: HashMap<&str, &LastSent> = last.iter().map(|l| (l.unit.as_str(), l)).collect();
    let first = &rows[0];
    let mut groups_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for (g, members) in &live.cfg.groups {
        for m in members {
            groups_of.entry(m).or_default().push(live.cfg.group_name(g));
        }
    }
    let due = rows
        .iter()
        .filter(|r| !r.status.extended)
        .map(|r| r.status.due)
        .min()
        .or_else(|| rows.iter().map(|r| r.status.due).min());
    let lines = page
        .iter()
        .map(|r| {
            let s = &r.status;
            ListLine {
                href: unit_href(&r.unit.id),
                name: r.unit.name.clone(),
                id: r.unit.id.clone(),
                groups: groups_of
                    .get(r.unit.id.as_str())
                    .map(|g| g.join(", "))
                    .unwrap_or_default(),
                cell: single_cell(r),
                due: dmy(s.due),
                received: s.submitted_on.map(dmy).unwrap_or_default(),
                days_late: match (s.days_late, s.working_days_late) {
                    (Some(d), Some(w)) if d > 0 => format!("{d} ({w} LV)"),
                    (Some(d), None) if d > 0 => d.to_string(),
                    _ => String::new(),
                },
                reference: r.reference.clone().unwrap_or_default(),
                last: last.get(r.unit.id.as_str()).map(|l| LastLine {
                    when: local(l.sent_at, tz),
                    kind: kind_words(l.kind, l.stage),
                }),
            }
        })
        .collect();
    let head = |text: &str, sort: Sort| Choice {
        value: format!(
            "/dashboard/matrix{}",
            f.query_with(&[("sort", sort.as_str().into())])
        ),
        text: text.to_string(),
    };
    List {
        title: first.obligation.title.clone(),
        period: period_words(&first.period),
        due: due.map(dmy).unwrap_or_default(),
        lines,
        legend: legend(rows),
        total: rows.len(),
        heads: vec![
            head("Đơn vị", Sort::Name),
            head("Trạng thái", Sort::State),
            head("Số ngày muộn", Sort::Late),
        ],
    }
}

/// The page size asked (one of [`PAGE_SIZES`]), if any.
fn per_asked(f: &Filters) -> Option<usize> {
    nonempty(&f.per)
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| PAGE_SIZES.contains(p))
}

/// The page asked, from 1.
fn page_asked(f: &Filters) -> usize {
    nonempty(&f.page)
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1)
}

/// The slice of `units` the page shows, and the pager.
fn paged<'u>(f: &Filters, units: &'u [usize], per: usize) -> (&'u [usize], Pager) {
    let n = units.len();
    let pages = n.div_ceil(per.max(1)).max(1);
    let page = page_asked(f).min(pages);
    let from = (page - 1) * per;
    let to = (from + per).min(n);
    let keep = |page: usize| {
        let mut extra = vec![
            ("sort", nonempty(&f.sort).unwrap_or_default()),
            ("dir", nonempty(&f.dir).unwrap_or_default()),
        ];
        if let Some(p) = per_asked(f) {
            extra.push(("per", p.to_string()));
        }
        if page > 1 {
            extra.push(("page", page.to_string()));
        }
        format!("/dashboard/matrix{}", f.query_with(&extra))
    };
    let sizes = PAGE_SIZES
        .iter()
        .map(|p| Choice {
            value: format!(
                "/dashboard/matrix{}",
                f.query_with(&[
                    ("sort", nonempty(&f.sort).unwrap_or_default()),
                    ("dir", nonempty(&f.dir).unwrap_or_default()),
                    ("per", p.to_string()),
                ])
            ),
            text: p.to_string(),
        })
        .collect();
    let text = if n == 0 {
        "0 / 0".to_string()
    } else {
        format!(
            "{}–{} / {}",
            thousands(from + 1),
            thousands(to),
            thousands(n)
        )
    };
    let pager = Pager {
        text,
        prev: (page > 1).then(|| keep(page - 1)),
        next: (page < pages).then(|| keep(page + 1)),
        sizes,
        per,
    };
    (&units[from.min(n)..to], pager)
}

/// `GET /dashboard/matrix`.
async fn matrix(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<Filters>, QueryRejection>,
) -> Response {
    let flash = admin.take_flash(&state);
    let live = state.live();
    let now = Moment::local(Timestamp::now(), &live.cfg.daemon.time_zone);
    let today = now.day;
    let (f, bad_query) = match query {
        Ok(Query(f)) => (f, None),
        Err(e) => (Filters::default(), Some(e.body_text())),
    };
    let sort = Sort::parse(nonempty(&f.sort));
    let desc = nonempty(&f.dir).as_deref() == Some("desc");
    let print = nonempty(&f.print).as_deref() == Some("1");
    let mut pager = None;
    let (status, error, table, list) = match bad_query {
        Some(e) => {
            tracing::debug!(error = %e, "dashboard: bad filter query");
            let msg = "Bộ lọc không đọc được.".to_string();
            (StatusCode::BAD_REQUEST, Some(msg), None, None)
        }
        None => match select(&state, &live, &f, now).await {
            Ok(blocks) if blocks.is_empty() => (StatusCode::OK, None, None, None),
            Ok(blocks) if blocks.len() == 1 => {
                // One report-period: a list of at most every unit, as rows.
                let rows = rows_of(&blocks);
                let units = unit_order(&live, &rows, sort, desc);
                let per = match print {
                    true => units.len().clamp(1, PRINT_LINES),
                    false => per_asked(&f).unwrap_or(PAGE_SIZES[1]),
                };
                let (page, p) = paged(&f, &units, per);
                pager = Some(p);
                let page = page_rows(&live, &rows, page);
                let ids: Vec<String> = page.iter().map(|r| r.unit.id.clone()).collect();
                let first = &rows[0];
                let last = match state
                    .shared
                    .store
                    .last_sent(&first.obligation.id, &first.period, &ids)
                    .await
                {
                    Ok(l) => l,
                    Err(e) => return store_failed(e),
                };
                let list = list_of(&live, &rows, &page, &last, &f);
                (StatusCode::OK, None, None, Some(list))
            }
            Ok(blocks) => {
                let units = unit_order_blocks(&live, &blocks, sort, desc);
                let columns = grid(&live, &blocks, &[], today, false).columns.len();
                let whole = units.len() * columns <= WHOLE_GRID_CELLS;
                let per = match per_asked(&f) {
                    _ if print => units.len().clamp(1, PRINT_LINES),
                    Some(p) => p,
                    None if whole => units.len(),
                    None => PAGE_SIZES[0],
                };
                let (page, p) = paged(&f, &units, per);
                pager = Some(p);
                let table = grid(&live, &blocks, page, today, !whole);
                (StatusCode::OK, None, Some(table), None)
            }
            Err(Refused::Message(msg)) => (StatusCode::BAD_REQUEST, Some(msg), None, None),
            Err(Refused::Store(resp)) => return resp,
        },
    };
    let [obligations, groups, states, sorts] = choices(&live);
    let view = MatrixView {
        filters: FilterView {
            obligation: nonempty(&f.obligation),
            group: nonempty(&f.group),
            status: nonempty(&f.status),
            period: nonempty(&f.period).unwrap_or_default(),
            q: nonempty(&f.q).unwrap_or_default(),
            sort: sort.as_str(),
            desc,
        },
        obligations,
        groups,
        states,
        sorts,
        error,
        today: dmy(today),
        export_href: format!("/dashboard/export.csv{}", f.query()),
        print_href: format!(
            "/dashboard/matrix{}",
            f.query_with(&[
                ("sort", nonempty(&f.sort).unwrap_or_default()),
                ("dir", nonempty(&f.dir).unwrap_or_default()),
                ("print", "1".into()),
            ])
        ),
        pager,
        table,
        list,
    };
    let frame = Frame {
        title: "Chi tiết từng đơn vị",
        nav: Some(admin.nav()),
        flash,
    };
    page::render(status, "dashboard/matrix.html", frame, &view)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A daily report (due 10:00 the next working day) of "xã A", never
    /// sent since `active_from`, on Wed 25/2/2026 at 15:00 (Tết 14–22/2).
    fn daily_table(active_from: &str) -> Table {
        daily_table_with(
            "hàng ngày",
            "chậm nhất 10 giờ, 1 ngày làm việc",
            active_from,
        )
    }

    /// The same with its own cycle and due rule.
    fn daily_table_with(cycle: &str, due: &str, active_from: &str) -> Table {
        let text = format!(
            "[[unit]]\nid = \"so\"\nname = \"Sở Thử\"\nemail = \"vanthu@so.example\"\n\
            [[unit]]\nid = \"xa-a\"\nname = \"UBND xã A\"\nemail = \"vanthu@xa-a.example\"\n\
            [[obligation]]\nid = \"bc-ngay\"\ntitle = \"Báo cáo nhanh trong ngày\"\n\
            reporters = [\"xa-a\"]\nrecipient = \"so\"\ncycle = \"{cycle}\"\n\
            due = \"{due}\"\nactive_from = \"{active_from}\"\n"
        );
        let cfg = crate::config::load_str("t.toml", &text)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let live = Live::new(cfg);
        let at = Moment {
            day: jiff::civil::date(2026, 2, 25),
            time: Some(jiff::civil::Time::constant(15, 0, 0, 0)),
        };
        let targets =
            tracking::targets(&live.cfg, &live.cal, &Selection::default(), at.day).unwrap();
        let rows = tracking::rows(&targets, Vec::new(), &live.cal, at);
        table(&live, &rows, at.day)
    }

    /// Which cells a test filter keeps.
    type Keep<'a> = Box<dyn Fn(&crate::config::model::Unit, StateName) -> bool + 'a>;

    /// On random configurations, moments and events (`tracking::block`'s
    /// cases), filtered as the page filters (by group, by state), the grid
    /// built from blocks is the table built from every row, whole and
    /// paged, collapsed or not, and the units come in the same order for
    /// every sort.
    #[test]
    fn the_grid_from_blocks_is_the_grid_from_rows() {
        use tracking::block::{blocks, cases};
        let sorts = [Sort::File, Sort::Name, Sort::State, Sort::Late];
        let mut grids = 0;
        for seed in 0..80 {
            let c = cases::case(seed);
            let live = Live::new(c.cfg);
            let ts =
                tracking::targets(&live.cfg, &live.cal, &Selection::default(), c.at.day).unwrap();
            let facts = cases::facts(seed, &cases::pairs(&ts));
            let g2: HashSet<&str> = live
                .cfg
                .groups
                .get("g2")
                .map(|m| m.iter().map(String::as_str).collect())
                .unwrap_or_default();
            let filters: [(&str, Keep<'_>); 3] = [
                ("all", Box::new(|_, _| true)),
                ("group g2", Box::new(|u, _| g2.contains(u.id.as_str()))),
                ("overdue", Box::new(|_, s| s == StateName::Overdue)),
            ];
            for (what, keep) in &filters {
                let mut bs = blocks(&ts, facts.clone(), &live.cal, c.at);
                for b in &mut bs {
                    b.retain(|u, s| keep(u, s.state));
                }
                if seed % 2 == 0 {
                    // The page drops empty blocks; the grid must not need it.
                    bs.retain(|b| !b.cells.is_empty());
                }
                let rows = rows_of(&bs);
                let full: Vec<Row<'_>> = tracking::rows(&ts, facts.clone(), &live.cal, c.at)
                    .into_iter()
                    .filter(|r| keep(r.unit, r.status.state))
                    .collect();
                assert_eq!(rows.len(), full.len(), "seed {seed}, {what}");
                for sort in sorts {
                    for desc in [false, true] {
                        assert_eq!(
                            unit_order_blocks(&live, &bs, sort, desc),
                            unit_order(&live, &full, sort, desc),
                            "seed {seed}, {what}, {sort:?} {desc}"
                        );
                    }
                }
                let units = unit_order(&live, &full, Sort::Late, true);
                let half = &units[..units.len() / 2];
                for page in [&units[..], half, &[]] {
                    for collapse in [false, true] {
                        assert_eq!(
                            grid(&live, &bs, page, c.at.day, collapse),
                            table_of(&live, &full, page, c.at.day, collapse),
                            "seed {seed}, {what}, collapse {collapse}"
                        );
                        grids += 1;
                    }
                }
            }
        }
        assert_eq!(grids, 80 * 3 * 3 * 2);
    }

    fn heads(t: &Table) -> Vec<(&str, &str)> {
        t.columns
            .iter()
            .map(|c| (c.period.as_str(), c.due.as_str()))
            .collect()
    }

    fn cells(t: &Table) -> Vec<(&str, &str, &str)> {
        t.lines[0]
            .cells
            .iter()
            .flatten()
            .map(|c| (c.state, c.id.as_str(), c.text.as_str()))
            .collect()
    }

    /// Since 9/2/2026: the days 9–13/2 and 23–24/2 share one column (7
    /// overdue, the oldest 15 days late, due from 10/02/2026), today's
    /// period 25/2 has its own, headed "hôm nay".
    #[test]
    fn a_daily_report_takes_two_columns() {
        let t = daily_table("09/02/2026");
        assert_eq!(t.total, 8);
        assert_eq!(
            heads(&t),
            [("các kỳ trước", "từ 10/02/2026"), ("hôm nay", "26/02/2026")]
        );
        assert_eq!(
            cells(&t),
            [
                (
                    "overdue",
                    "xa-a-bc-ngay-earlier",
                    "Quá hạn 7 kỳ (lâu nhất 15 ngày)"
                ),
                ("open", "xa-a-bc-ngay-2026-02-25", "Đang trong kỳ"),
            ]
        );
    }

    /// Since 24/2/2026: yesterday's period fell due at 10:00 today, so at
    /// 15:00 it is 5 hours late (worded as `status` words it), next to
    /// today's.
    #[test]
    fn a_daily_period_late_since_this_morning_counts_hours() {
        let t = daily_table("24/02/2026");
        assert_eq!(
            heads(&t),
            [("các kỳ trước", "từ 25/02/2026"), ("hôm nay", "26/02/2026")]
        );
        assert_eq!(
            cells(&t),
            [
                ("overdue", "xa-a-bc-ngay-2026-02-24", "Quá hạn 5 giờ"),
                ("open", "xa-a-bc-ngay-2026-02-25", "Đang trong kỳ"),
            ]
        );
    }

    /// Every day, due 24:00 the day after, since 23/2: the 23rd is 15
    /// hours late at 15:00 on the 25th and the 24th still open; they share
    /// the earlier column, which says the longest lateness in hours.
    #[test]
    fn a_group_late_within_its_first_day_says_hours() {
        let t = daily_table_with("daily-all-days", "1 ngày", "23/02/2026");
        assert_eq!(
            heads(&t),
            [("các kỳ trước", "từ 24/02/2026"), ("hôm nay", "26/02/2026")]
        );
        assert_eq!(
            cells(&t),
            [
                (
                    "overdue",
                    "xa-a-bc-ngay-earlier",
                    "Quá hạn 1 kỳ (lâu nhất 15 giờ)"
                ),
                ("open", "xa-a-bc-ngay-2026-02-25", "Đang trong kỳ"),
            ]
        );
    }
}
