//! Tracking glue: ties the configuration and planner to the store.
//!
//! - [`resolve`] checks an (obligation, period, unit) typed by a person
//!   against the configuration and the planner, with errors that name the
//!   nearest valid ids or say why the unit does not owe that period.
//! - [`targets`] (pure) and [`status`] compute the status rows of a
//!   selection: planner deadlines + what the store has in effect +
//!   [`crate::status::classify`].
//! - [`orphans`] finds ids with history that the configuration no longer has.
//! - [`csv`] writes status rows for spreadsheets: one writer for `hanbao
//!   export`, `hanbao status --csv` and the dashboard's export (which
//!   streams it in pieces: [`csv_header`], then [`csv_rows`] per period).
//! - [`block`]: the same cells as [`status`], compactly: per
//!   (obligation, period), the cells with an event classified one by one
//!   and the others (most of a national look-back) sharing one status.
//! - [`summary`] counts rows per (obligation, period), group and in total.
//! - [`compliance`]: compliance over a range of periods (the year-end
//!   assessment), folded from [`status`] one report-period at a time;
//!   [`sheets`] writes it as an .xlsx workbook.
//!
//! Must not: read the clock (`at` is always an argument), read the
//! environment, or print. Only the store touches the database.

pub mod block;
pub mod compliance;
pub mod sheets;
pub mod summary;

use std::collections::HashMap;
use std::sync::Arc;

use jiff::civil::Date;

use crate::calendar::WorkCalendar;
use crate::config::model::{Config, Obligation, Unit};
use crate::planner::{
    self, Deadline, Period, PeriodError, PlanError, due_date, events::reminder_days_from,
    period_of, periods_ending_in,
};
use crate::status::{self, Schedule, Status, Tracking};
use crate::store::Records;
use crate::store::{Facts, KnownIds, Store, StoreError};

/// How far back `status` without `--period` looks for earlier periods that
/// are still unsettled (not submitted, not waived), counted on due days.
pub const LOOK_BACK_DAYS: i64 = 366;

/// Why a request cannot be tracked. Messages are Vietnamese, like `hanbao check`.
#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    #[error("không có nghĩa vụ báo cáo \"{id}\" trong cấu hình{}", hint(nearest))]
    UnknownObligation { id: String, nearest: Vec<String> },

    #[error("không có đơn vị \"{id}\" trong cấu hình{}", hint(nearest))]
    UnknownUnit { id: String, nearest: Vec<String> },

    #[error(
        "kỳ \"{key}\" không hợp lệ cho nghĩa vụ \"{obligation}\": {reason}{}",
        periods_hint(valid)
    )]
    UnknownPeriod {
        obligation: String,
        key: String,
        reason: String,
        /// Valid period keys near the one given (same year), if any.
        valid: Vec<String>,
    },

    #[error("kỳ \"{key}\" không thuộc nghĩa vụ báo cáo nào được chọn")]
    PeriodMatchesNothing { key: String },

    #[error("{0}")]
    NotOwed(String),

    #[error(transparent)]
    Store(#[from] StoreError),
}

fn hint(nearest: &[String]) -> String {
    if nearest.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = nearest.iter().map(|k| format!("\"{k}\"")).collect();
        format!("; có phải ý là {}?", quoted.join(", "))
    }
}

fn periods_hint(valid: &[String]) -> String {
    if valid.is_empty() {
        String::new()
    } else {
        // A daily cycle has 365 keys a year: name the first and the last.
        match valid {
            [first, second, .., last] if valid.len() > 12 => {
                format!("; các kỳ hợp lệ: {first}, {second}, …, {last}")
            }
            _ => format!("; các kỳ hợp lệ: {}", valid.join(", ")),
        }
    }
}

/// Up to three known ids closest to `id` (Jaro–Winkler ≥ 0.75), best first.
pub fn nearest<'k>(id: &str, known: impl IntoIterator<Item = &'k str>) -> Vec<String> {
    let mut scored: Vec<(f64, &str)> = known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(id, k), k))
        .filter(|(s, _)| *s >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(3)
        .map(|(_, k)| k.to_owned())
        .collect()
}

/// The obligation `id`, or an error naming the nearest ids.
pub fn obligation<'a>(cfg: &'a Config, id: &str) -> Result<&'a Obligation, TrackingError> {
    cfg.obligation(id)
        .ok_or_else(|| TrackingError::UnknownObligation {
            id: id.to_owned(),
            nearest: nearest(id, cfg.obligations.iter().map(|o| o.id.as_str())),
        })
}

/// The unit `id`, or an error naming the nearest ids.
pub fn unit<'a>(cfg: &'a Config, id: &str) -> Result<&'a Unit, TrackingError> {
    cfg.unit(id).ok_or_else(|| TrackingError::UnknownUnit {
        id: id.to_owned(),
        nearest: nearest(id, cfg.units.iter().map(|u| u.id.as_str())),
    })
}

/// The period `key` of `ob`, or an error saying why and listing the valid
/// keys of the same year.
pub fn period(ob: &Obligation, key: &str) -> Result<Period, TrackingError> {
    period_of(ob, key).map_err(|e| {
        let reason = match &e {
            PeriodError::NotInCycle { cycle, .. } => {
                format!("chu kỳ của nghĩa vụ là {cycle}")
            }
            PeriodError::Key(k) => k.to_string(),
        };
        let year = key.get(..4).and_then(|y| y.parse::<i16>().ok());
        let valid = match year {
            Some(y)
                if (crate::period::MIN_PERIOD_YEAR..=crate::period::MAX_PERIOD_YEAR)
                    .contains(&y) =>
            {
                periods_ending_in(
                    ob,
                    Date::new(y, 1, 1).expect("valid"),
                    Date::new(y, 12, 31).expect("valid"),
                )
                .into_iter()
                .map(|p| p.key.to_string())
                .collect()
            }
            _ => match &ob.cycle {
                crate::config::model::Cycle::Once { .. } => vec![ob.id.clone()],
                _ => Vec::new(),
            },
        };
        TrackingError::UnknownPeriod {
            obligation: ob.id.clone(),
            key: key.to_owned(),
            reason,
            valid,
        }
    })
}

/// Checks that `unit_id` owes `period_key` of `obligation_id` and returns
/// its deadline. Unknown ids name the nearest valid ones; a period not in
/// the obligation's cycle, a unit that is not a reporter, or a unit or
/// obligation not active on the period's last day is refused with the reason.
pub fn resolve<'a>(
    cfg: &'a Config,
    cal: &WorkCalendar,
    obligation_id: &str,
    period_key: &str,
    unit_id: &str,
) -> Result<Deadline<'a>, TrackingError> {
    let ob = obligation(cfg, obligation_id)?;
    let u = unit(cfg, unit_id)?;
    period(ob, period_key)?;
    planner::deadline_for(cfg, cal, obligation_id, period_key, unit_id).map_err(|e| match e {
        PlanError::NotAReporter { obligation, unit } => TrackingError::NotOwed(format!(
            "đơn vị \"{unit}\" ({}) không phải nộp báo cáo \"{obligation}\": không có trong danh sách đơn vị báo cáo (reporters)",
            u.name
        )),
        PlanError::UnitInactive {
            obligation,
            period,
            unit,
            day,
        } => TrackingError::NotOwed(format!(
            "đơn vị \"{unit}\" không phải nộp kỳ {period} của \"{obligation}\": đơn vị không hoạt động vào {}, ngày cuối của kỳ{}",
            dmy(day),
            active_range(u)
        )),
        PlanError::ObligationInactive {
            obligation,
            period,
            day,
        } => TrackingError::NotOwed(format!(
            "nghĩa vụ \"{obligation}\" không có hiệu lực vào {}, ngày cuối của kỳ {period}",
            dmy(day)
        )),
        PlanError::DayOff {
            obligation, period, ..
        } => TrackingError::NotOwed(format!(
            "kỳ {period} của \"{obligation}\" là ngày nghỉ: báo cáo hàng ngày chỉ tính các ngày làm việc"
        )),
        other => TrackingError::NotOwed(other.to_string()),
    })
}

fn active_range(u: &Unit) -> String {
    match (u.active_from, u.active_until) {
        (None, None) => String::new(),
        (from, until) => format!(
            " (hoạt động {}–{})",
            from.map(dmy).unwrap_or_default(),
            until.map(dmy).unwrap_or_default()
        ),
    }
}

/// A date as people read it: dd/mm/yyyy.
pub fn dmy(d: Date) -> String {
    format!("{:02}/{:02}/{:04}", d.day(), d.month(), d.year())
}

/// The planned dates status needs for one period of one obligation.
pub fn schedule(ob: &Obligation, cal: &WorkCalendar, p: &Period) -> Schedule {
    let due = due_date(ob, cal, &p.key, p.window);
    Schedule {
        opens: p.window.start,
        due,
        due_time: ob.due_time,
        reminders_from: reminder_days_from(ob, cal, due, p.window.start)
            .first()
            .copied(),
    }
}

/// Which statuses to show; `None` means all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub obligation: Option<String>,
    pub period: Option<String>,
    pub unit: Option<String>,
}

/// One (obligation, period) to show and the units that owe it.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub obligation: &'a Obligation,
    /// The period key (shared by the rows).
    pub period: Arc<str>,
    pub schedule: Schedule,
    /// Reporters active on the window's last day, in file order.
    pub units: Vec<&'a Unit>,
    /// False for an earlier period shown only for its unsettled units.
    pub all_units: bool,
}

/// The (obligation, period)s a selection covers at day `at`, with their units.
///
/// With a period: that period of every selected obligation whose cycle has
/// it. Without: for each obligation, the latest period whose window has
/// started by `at`, plus earlier periods due within [`LOOK_BACK_DAYS`] (shown
/// only for units that have not settled them).
pub fn targets<'a>(
    cfg: &'a Config,
    cal: &WorkCalendar,
    sel: &Selection,
    at: Date,
) -> Result<Vec<Target<'a>>, TrackingError> {
    let only_ob = sel
        .obligation
        .as_deref()
        .map(|id| obligation(cfg, id))
        .transpose()?;
    let only_unit = sel.unit.as_deref().map(|id| unit(cfg, id)).transpose()?;
    if let (Some(ob), Some(u)) = (only_ob, only_unit)
        && !ob.reporters.contains(&u.id)
    {
        return Err(TrackingError::NotOwed(format!(
            "đơn vị \"{}\" không phải nộp báo cáo \"{}\": không có trong danh sách đơn vị báo cáo (reporters)",
            u.id, ob.id
        )));
    }
    let index: HashMap<&str, &Unit> = cfg.units.iter().map(|u| (u.id.as_str(), u)).collect();
    let mut out = Vec::new();
    for ob in &cfg.obligations {
        if only_ob.is_some_and(|o| o.id != ob.id) {
            continue;
        }
        if only_unit.is_some_and(|u| !ob.reporters.contains(&u.id)) {
            continue;
        }
        let periods: Vec<(Period, bool)> = match &sel.period {
            Some(key) => match period(ob, key) {
                Ok(p) => vec![(p, true)],
                Err(e) if only_ob.is_some() => return Err(e),
                Err(_) => continue,
            },
            None => current_periods(ob, cal, at),
        };
        // The reporters looked up once, not once per period (a daily
        // report has some 250 periods in the look-back).
        let reporters: Vec<&Unit> = ob
            .reporters
            .iter()
            .filter_map(|id| index.get(id.as_str()).copied())
            .filter(|u| only_unit.is_none_or(|o| o.id == u.id))
            .collect();
        for (p, all_units) in periods {
            if !ob.active_on(p.window.end) {
                continue;
            }
            let units: Vec<&Unit> = reporters
                .iter()
                .copied()
                .filter(|u| u.active_on(p.window.end))
                .collect();
            if units.is_empty() {
                continue;
            }
            out.push(Target {
                obligation: ob,
                period: Arc::from(p.key.to_string()),
                schedule: schedule(ob, cal, &p),
                units,
                all_units,
            });
        }
    }
    if out.is_empty()
        && let Some(key) = &sel.period
        && only_ob.is_none()
    {
        return Err(TrackingError::PeriodMatchesNothing { key: key.clone() });
    }
    Ok(out)
}

/// The periods of `ob` whose status matters at `at` (see [`targets`]),
/// oldest first, each with whether all its units are shown.
fn current_periods(ob: &Obligation, cal: &WorkCalendar, at: Date) -> Vec<(Period, bool)> {
    let from = add_days(at, -(LOOK_BACK_DAYS + 62));
    let to = add_days(at, 400);
    let started: Vec<Period> = periods_ending_in(ob, from, to)
        .into_iter()
        .filter(|p| p.window.start <= at && planner::owed_on_calendar(ob, cal, p.window))
        .collect();
    let Some(latest) = started.iter().map(|p| p.window.end).max() else {
        return Vec::new();
    };
    let look_back = add_days(at, -LOOK_BACK_DAYS);
    started
        .into_iter()
        .filter_map(|p| {
            if p.window.end == latest {
                return Some((p, true));
            }
            let due = due_date(ob, cal, &p.key, p.window);
            (due >= look_back).then_some((p, false))
        })
        .collect()
}

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

/// One cell of the status table.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub obligation: &'a Obligation,
    pub period: Arc<str>,
    pub unit: &'a Unit,
    pub status: Status,
    /// Số văn bản of the submission in effect.
    pub reference: Option<String>,
    /// False for an earlier period shown only for its unsettled units
    /// (the [`Target`]'s).
    pub all_units: bool,
}

/// Combines targets with what the store has in effect (pure). `facts` is
/// what [`Records::facts`] returned for the targets' (obligation, period)
/// pairs, in the same order (any order works; that one is fastest).
pub fn rows<'a>(
    targets: &[Target<'a>],
    mut facts: Vec<Facts>,
    cal: &WorkCalendar,
    at: impl Into<status::Moment>,
) -> Vec<Row<'a>> {
    let at: status::Moment = at.into();
    const NONE: u32 = u32::MAX;
    // Dense unit numbers, and each target's units as those numbers.
    let mut unit_ix: HashMap<&'a str, u32> = HashMap::new();
    let positions: Vec<Vec<u32>> = targets
        .iter()
        .map(|t| {
            t.units
                .iter()
                .map(|u| {
                    let next = unit_ix.len() as u32;
                    *unit_ix.entry(u.id.as_str()).or_insert(next)
                })
                .collect()
        })
        .collect();
    let slot: HashMap<(&str, &str), usize> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| ((t.obligation.id.as_str(), &*t.period), i))
        .collect();
    // found[target][unit number] = index into `facts`.
    let mut found: Vec<Vec<u32>> = vec![vec![NONE; unit_ix.len()]; targets.len()];
    let mut last: Option<(usize, usize)> = None; // (fact index, target) of the previous pair
    for (i, f) in facts.iter().enumerate() {
        let same_pair = last.is_some_and(|(j, _)| {
            let p: &Facts = &facts[j];
            p.key.obligation == f.key.obligation && p.key.period == f.key.period
        });
        let target = if same_pair {
            last.map(|(_, t)| t)
        } else {
            slot.get(&(f.key.obligation.as_str(), f.key.period.as_str()))
                .copied()
        };
        let Some(t) = target else { continue };
        last = Some((i, t));
        if let Some(&u) = unit_ix.get(f.key.unit.as_str()) {
            found[t][u as usize] = i as u32;
        }
    }
    let total: usize = targets.iter().map(|t| t.units.len()).sum();
    let mut out = Vec::with_capacity(total);
    for ((t, pos), found) in targets.iter().zip(&positions).zip(&found) {
        for (&u, &p) in t.units.iter().zip(pos) {
            let f = match found[p as usize] {
                NONE => None,
                i => Some(&mut facts[i as usize]),
            };
            let tracking = match &f {
                Some(f) => Tracking {
                    submitted_on: f.submitted_on,
                    reference: None,
                    waived: f.waived,
                    extended_until: f.extended_until,
                },
                None => Tracking::default(),
            };
            if !t.all_units && (tracking.waived || tracking.submitted_on.is_some()) {
                continue;
            }
            let st = status::classify(at, &t.schedule, &tracking, cal);
            out.push(Row {
                obligation: t.obligation,
                period: t.period.clone(),
                unit: u,
                status: st,
                reference: f.and_then(|f| f.reference.take()),
                all_units: t.all_units,
            });
        }
    }
    out
}

/// The status rows of a selection at day `at`: [`targets`], one
/// [`Records::facts`] read, then [`rows`]. `at` is a day (its beginning)
/// or, for "now", a day and a time (`status::Moment::local`), which decides
/// whether a deadline with a time of day has passed on its due day.
pub async fn status<'a>(
    store: &Store,
    cfg: &'a Config,
    cal: &WorkCalendar,
    sel: &Selection,
    at: impl Into<status::Moment>,
) -> Result<Vec<Row<'a>>, TrackingError> {
    let at: status::Moment = at.into();
    let targets = targets(cfg, cal, sel, at.day)?;
    let pairs: Vec<(String, String)> = targets
        .iter()
        .map(|t| (t.obligation.id.clone(), t.period.to_string()))
        .collect();
    let facts = store.facts(&pairs).await?;
    Ok(rows(&targets, facts, cal, at))
}

/// Ids that have history in the database but are not in the configuration
/// (removed, or renamed without carrying their history).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Orphans {
    pub obligations: Vec<String>,
    pub units: Vec<String>,
}

impl Orphans {
    pub fn is_empty(&self) -> bool {
        self.obligations.is_empty() && self.units.is_empty()
    }
}

/// Which ids with history the configuration no longer has, sorted.
pub fn orphans(cfg: &Config, known: &KnownIds) -> Orphans {
    Orphans {
        obligations: known
            .obligations
            .iter()
            .filter(|id| cfg.obligation(id).is_none())
            .cloned()
            .collect(),
        units: known
            .units
            .iter()
            .filter(|id| cfg.unit(id).is_none())
            .cloned()
            .collect(),
    }
}

/// The orphan warnings `hanbao check` prints, one line per id, with the
/// nearest configured id (a likely rename).
pub fn orphan_warnings(cfg: &Config, orphans: &Orphans) -> Vec<String> {
    let mut out = Vec::new();
    for id in &orphans.obligations {
        let near = nearest(id, cfg.obligations.iter().map(|o| o.id.as_str()));
        out.push(format!(
            "cơ sở dữ liệu có lịch sử của nghĩa vụ \"{id}\" nhưng cấu hình không còn nghĩa vụ này (lịch sử được giữ, hiển thị là đã lưu trữ){}",
            rename_hint(&near)
        ));
    }
    for id in &orphans.units {
        let near = nearest(id, cfg.units.iter().map(|u| u.id.as_str()));
        out.push(format!(
            "cơ sở dữ liệu có lịch sử của đơn vị \"{id}\" nhưng cấu hình không còn đơn vị này (lịch sử được giữ, hiển thị là đã lưu trữ){}",
            rename_hint(&near)
        ));
    }
    out
}

fn rename_hint(near: &[String]) -> String {
    match near.first() {
        Some(n) => format!("; nếu đã đổi mã thành \"{n}\" thì lịch sử cũ không còn gắn với mã mới"),
        None => String::new(),
    }
}

/// The CSV header (Vietnamese; the column order is documented in the README).
pub const CSV_HEADER: [&str; 12] = [
    "Nghĩa vụ",
    "Tên nghĩa vụ",
    "Kỳ",
    "Mã đơn vị",
    "Tên đơn vị",
    "Trạng thái",
    "Mã trạng thái",
    "Hạn nộp",
    "Ngày nộp",
    "Số ngày trễ",
    "Số ngày làm việc trễ",
    "Số văn bản",
];

/// The status table as CSV for LibreOffice and Excel: UTF-8 with a BOM (so
/// Excel reads the diacritics), CRLF line endings, dates dd/mm/yyyy. Text
/// from the configuration and from people (ids, titles, names, document
/// numbers) goes through `escape::spreadsheet`, so a cell such as
/// `=HYPERLINK(...)` is shown as text, never run as a formula; the dates,
/// state names and day counts hanbao writes itself are written as they are.
/// The same bytes as [`csv_header`] followed by [`csv_rows`] of the rows in
/// pieces (what a streamed export sends).
pub fn csv(rows: &[Row<'_>]) -> Vec<u8> {
    let mut buf = csv_header();
    buf.extend_from_slice(&csv_rows(rows));
    buf
}

/// The start of [`csv`]: the byte-order mark and the header line.
pub fn csv_header() -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice("\u{feff}".as_bytes());
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(&mut buf);
    w.write_record(CSV_HEADER).expect("writing to memory");
    w.flush().expect("writing to memory");
    drop(w);
    buf
}

/// The lines of [`csv`] for `rows`, without the header.
pub fn csv_rows(rows: &[Row<'_>]) -> Vec<u8> {
    let text = crate::escape::spreadsheet;
    let mut buf = Vec::with_capacity(rows.len() * 200);
    {
        let mut w = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .has_headers(false)
            .from_writer(&mut buf);
        for r in rows {
            let s = &r.status;
            w.write_record([
                &*text(&r.obligation.id),
                &*text(&r.obligation.title),
                &*text(&r.period),
                &*text(&r.unit.id),
                &*text(&r.unit.name),
                s.state.label_vi(),
                s.state.as_str(),
                &dmy(s.due),
                &s.submitted_on.map(dmy).unwrap_or_default(),
                &s.days_late.map(|d| d.to_string()).unwrap_or_default(),
                &s.working_days_late
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                &*text(r.reference.as_deref().unwrap_or("")),
            ])
            .expect("writing to memory");
        }
        w.flush().expect("writing to memory");
    }
    buf
}

/// The key under which the earlier periods of a report with periods
/// shorter than a month are shown together (`status`, the dashboard): it
/// sorts before every period key, so that column comes first.
pub const EARLIER: &str = "\u{0}earlier";

/// For each report with periods shorter than a month (by file position),
/// its latest period among `rows`: the matrices show it on its own and the
/// others together ([`EARLIER`]), so a daily report does not take a column
/// a day.
pub fn latest_short_periods<'r>(rows: &'r [Row<'_>], order: &FileOrder) -> HashMap<usize, &'r str> {
    let mut latest: HashMap<usize, &str> = HashMap::new();
    for r in rows.iter().filter(|r| r.obligation.cycle.is_short()) {
        let l = latest
            .entry(order.obligation(&r.obligation.id))
            .or_insert(&*r.period);
        if *r.period > **l {
            *l = &r.period;
        }
    }
    latest
}

/// The column a row is shown in: its period, or [`EARLIER`] for an
/// earlier period of a short-cycle report (see [`latest_short_periods`]).
pub fn column_of<'r>(latest: &HashMap<usize, &str>, o: usize, r: &'r Row<'_>) -> &'r str {
    match latest.get(&o) {
        Some(l) if *l != &*r.period => EARLIER,
        _ => &r.period,
    }
}

/// Where each obligation and unit stands in the configuration file: the
/// order in which tables, matrices and summaries show them (an id not in
/// the file, from an older configuration, comes first).
pub struct FileOrder<'c> {
    obligations: HashMap<&'c str, usize>,
    units: HashMap<&'c str, usize>,
}

impl<'c> FileOrder<'c> {
    pub fn new(cfg: &'c Config) -> FileOrder<'c> {
        let obligations = cfg.obligations.iter().map(|o| o.id.as_str());
        let units = cfg.units.iter().map(|u| u.id.as_str());
        FileOrder {
            obligations: obligations.enumerate().map(|(i, id)| (id, i)).collect(),
            units: units.enumerate().map(|(i, id)| (id, i)).collect(),
        }
    }

    /// The place of obligation `id` in the file.
    pub fn obligation(&self, id: &str) -> usize {
        self.obligations.get(id).copied().unwrap_or(0)
    }

    /// The place of unit `id` in the file.
    pub fn unit(&self, id: &str) -> usize {
        self.units.get(id).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_ranks_and_filters() {
        let known = ["nq121-6thang", "nq121-nam", "luattreem-hdnd-nam"];
        assert_eq!(
            nearest("nq121-6thng", known),
            vec!["nq121-6thang", "nq121-nam"]
        );
        assert!(nearest("zzz", known).is_empty());
    }

    #[test]
    fn dmy_pads() {
        assert_eq!(dmy(jiff::civil::date(2026, 6, 8)), "08/06/2026");
    }
}
