//! `hanbao status` (and the rows `hanbao export` writes): the status rows
//! as a summary or a matrix for people, JSON lines for scripts, or CSV for
//! spreadsheets.
//!
//! The summary (the default) fits [`WIDTH`] columns whatever the number of
//! units: per obligation (by title) and period (the earlier periods of a
//! report with short periods together), the due day, how many
//! reports arrived on time or late out of how many are owed, how many are
//! overdue, extended, waived or not yet due, and the overdue units by name.
//! `--matrix` shows every unit × (obligation, period), a report with short
//! periods in two columns (its latest period, and its earlier unsettled
//! ones together), so a daily report does not take a column a day. Text from the
//! configuration and the database is shown through `escape::terminal`.
//!
//! The renderers ([`json`], [`summary`], [`matrix`], and `tracking::csv`,
//! which the dashboard's export writes too) are output only: the rows come
//! from `tracking::status`, and they read neither the clock, the
//! environment nor the database. [`with_status`] is the command's part: it
//! loads the configuration and reads the rows from the database, which it
//! never creates (`environment::Access::Read`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use jiff::civil::Date;
use serde::Serialize;

use crate::config::model::Config;
use crate::environment::Access;
use crate::escape::terminal;
use crate::status::{StateName, Status};
use crate::tracking::summary::Tally;
use crate::tracking::{
    EARLIER, FileOrder, Row, Selection, column_of, csv, dmy, latest_short_periods,
};

use super::{Context, block_on, parse_date};

/// Which reports a command is about (`status`, `export`, `history`).
#[derive(clap::Args, Debug, Clone)]
pub struct Which {
    /// Only this obligation (id)
    #[arg(long)]
    pub obligation: Option<String>,
    /// Only this period (e.g. 2026-H1, 2026-Q3, 2026-05, 2026)
    #[arg(long)]
    pub period: Option<String>,
    /// Only this unit (id)
    #[arg(long)]
    pub unit: Option<String>,
}

/// Which statuses to show (`status` and `export`).
#[derive(clap::Args, Debug, Clone)]
pub struct Filters {
    #[command(flatten)]
    pub which: Which,
    /// The day to judge at [default: today in the configured time zone]
    #[arg(long, value_parser = parse_date)]
    pub at: Option<Date>,
}

/// Arguments of `hanbao status`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[command(flatten)]
    pub filters: Filters,
    /// One JSON object per line
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV (same as `hanbao export`)
    #[arg(long, conflicts_with = "matrix")]
    pub csv: bool,
    /// Every unit × (obligation, period) instead of the summary
    #[arg(long, conflicts_with = "json")]
    pub matrix: bool,
}

/// `hanbao status`.
pub fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    use std::io::{IsTerminal as _, Write as _};
    with_status(ctx, &args.filters, |rows, cfg, at| {
        let mut out = std::io::stdout().lock();
        if args.json {
            out.write_all(json(rows).as_bytes())?;
        } else if args.csv {
            out.write_all(&csv(rows))?;
        } else {
            let colours = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let text = if args.matrix {
                matrix(rows, cfg, at, colours)
            } else {
                summary(rows, cfg, at, colours)
            };
            out.write_all(text.as_bytes())?;
        }
        Ok(())
    })
}

/// The status rows of `filters`, rendered by `render`. Bad filters are
/// refused before the database is opened.
pub fn with_status(
    ctx: &Context,
    filters: &Filters,
    render: impl FnOnce(&[Row<'_>], &Config, Date) -> Result<()>,
) -> Result<ExitCode> {
    let (cfg, places) = ctx.load()?;
    let c = ctx.tracking(&cfg, None);
    let at = filters.at.unwrap_or(c.today);
    // Without --at, "now" (a deadline at 14:00 today has passed at 15:00).
    let moment = match filters.at {
        Some(day) => crate::status::Moment::from(day),
        None => crate::status::Moment::local(c.now, &cfg.daemon.time_zone),
    };
    let which = filters.which.clone();
    let sel = Selection {
        obligation: which.obligation,
        period: which.period,
        unit: which.unit,
    };
    crate::tracking::targets(&cfg, &c.cal, &sel, at).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rows = block_on(async {
        let store = ctx.open_store(&places, Access::Read).await?;
        let rows = crate::tracking::status(&store, &cfg, &c.cal, &sel, moment).await;
        store.close().await;
        rows.map_err(|e| anyhow::anyhow!("{e}"))
    })??;
    render(&rows, &cfg, at)?;
    Ok(ExitCode::SUCCESS)
}

/// The `--json` shape: keys in this order, one object per line.
#[derive(Serialize)]
struct JsonRow<'a> {
    obligation: &'a str,
    period: &'a str,
    unit: &'a str,
    state: &'static str,
    due: String,
    submitted_on: Option<String>,
    days_late: Option<i32>,
    reference: Option<&'a str>,
    working_days_late: Option<i32>,
    /// Only when known (overdue, with the time of day of "now").
    #[serde(skip_serializing_if = "Option::is_none")]
    hours_late: Option<i32>,
}

/// One JSON object per line.
pub fn json(rows: &[Row<'_>]) -> String {
    let mut out = String::with_capacity(rows.len() * 160);
    for r in rows {
        let j = JsonRow {
            obligation: &r.obligation.id,
            period: &r.period,
            unit: &r.unit.id,
            state: r.status.state.as_str(),
            due: r.status.due.to_string(),
            submitted_on: r.status.submitted_on.map(|d| d.to_string()),
            days_late: r.status.days_late,
            reference: r.reference.as_deref(),
            working_days_late: r.status.working_days_late,
            hours_late: r.status.hours_late,
        };
        out.push_str(&serde_json::to_string(&j).expect("plain data serialises"));
        out.push('\n');
    }
    out
}

/// A matrix column: (obligation position in the file, period key).
type ColumnKey<'a> = (usize, &'a str);

/// A short cell text for the matrix.
fn cell(s: &Status) -> String {
    // A deadline passed earlier today (a time of day, or 24:00 of
    // yesterday): the hours when known, the verb in capitals as in every
    // overdue cell of the matrix.
    if let Some(late) = s.late_within_day_vi() {
        return shout(&late);
    }
    match s.state {
        StateName::NotOpen => "chưa đến kỳ".into(),
        StateName::Open => "đang trong kỳ".into(),
        StateName::DueSoon => "sắp đến hạn".into(),
        StateName::Overdue => format!(
            "QUÁ HẠN {} ngày ({} LV)",
            s.days_late.unwrap_or(0),
            s.working_days_late.unwrap_or(0)
        ),
        StateName::SubmittedOnTime => match s.submitted_on {
            Some(d) => format!("đã nộp {}", short(d)),
            None => "đã nộp".into(),
        },
        StateName::SubmittedLate => format!(
            "nộp muộn {} ngày ({})",
            s.days_late.unwrap_or(0),
            s.submitted_on.map(short).unwrap_or_default()
        ),
        StateName::Waived => "được miễn".into(),
        StateName::Extended => format!("gia hạn đến {}", short(s.due)),
    }
}

/// The verb of an overdue cell in capitals ("QUÁ HẠN 5 giờ"), so that a
/// late report stands out in a terminal without colours.
fn shout(late: &str) -> String {
    for verb in ["quá giờ hạn", "quá hạn"] {
        if let Some(rest) = late.strip_prefix(verb) {
            return format!("{}{rest}", verb.to_uppercase());
        }
    }
    late.to_string()
}

fn short(d: Date) -> String {
    format!("{:02}/{:02}", d.day(), d.month())
}

/// ANSI colour of a state (SGR parameters).
fn colour(state: StateName) -> &'static str {
    match state {
        StateName::Overdue => "1;31",
        StateName::SubmittedLate | StateName::DueSoon => "33",
        StateName::SubmittedOnTime => "32",
        StateName::Extended => "36",
        StateName::Waived | StateName::NotOpen => "2",
        StateName::Open => "0",
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn pad(out: &mut String, text: &str, w: usize) {
    out.push_str(text);
    for _ in width(text)..w {
        out.push(' ');
    }
}

/// What `status` prints when the filters leave nothing to track.
fn nothing_to_track(at: Date) -> String {
    format!(
        "Không có báo cáo nào phải theo dõi với bộ lọc này vào ngày {}.\n",
        dmy(at)
    )
}

/// The cell of a unit's earlier periods of a short-cycle report: one
/// period's own cell, or how many are overdue and the longest late (days,
/// or hours within the first day late).
fn column_cell(rows: &[&Row<'_>]) -> String {
    let overdue: Vec<&Status> = rows
        .iter()
        .map(|r| &r.status)
        .filter(|s| s.state == StateName::Overdue)
        .collect();
    match (rows, overdue.len()) {
        ([one], _) => cell(&one.status),
        (_, 0) => format!("{} kỳ chưa xong", rows.len()),
        (_, n) => format!(
            "QUÁ HẠN {n} kỳ (lâu nhất {})",
            overdue
                .iter()
                .max_by_key(|s| s.lateness())
                .map(|s| s.time_late_vi())
                .unwrap_or_default()
        ),
    }
}

/// The matrix for people: one line per unit, one column per
/// (obligation, period), then a legend with due dates and a count per state.
/// A report with periods shorter than a month (daily, weekly, ...) takes
/// two columns at most: its latest period ("hôm nay" for today's daily
/// period) and, before it, one for every earlier period still unsettled
/// ("các kỳ trước": how many are overdue, the most days late).
pub fn matrix(rows: &[Row<'_>], cfg: &Config, at: Date, colours: bool) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        return nothing_to_track(at);
    }
    // Columns in obligation file order, then period.
    let order = FileOrder::new(cfg);
    let latest = latest_short_periods(rows, &order);
    let today = at.to_string();
    let mut columns: BTreeMap<(usize, &str), (&str, Date)> = BTreeMap::new();
    let mut lines: BTreeMap<usize, (&str, &str)> = BTreeMap::new();
    let mut cells: HashMap<(usize, usize, &str), Vec<&Row<'_>>> = HashMap::new();
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for r in rows {
        let o = order.obligation(&r.obligation.id);
        let u = order.unit(&r.unit.id);
        let period = column_of(&latest, o, r);
        let col = columns
            .entry((o, period))
            .or_insert((r.obligation.id.as_str(), r.status.due));
        col.1 = col.1.min(r.status.due);
        lines.insert(u, (r.unit.id.as_str(), r.unit.name.as_str()));
        cells.entry((u, o, period)).or_default().push(r);
        *counts.entry(r.status.state.label_vi()).or_default() += 1;
    }
    let cols: Vec<(ColumnKey<'_>, (&str, Date))> = columns.into_iter().collect();
    let heads: Vec<String> = cols
        .iter()
        .map(|((_, period), (ob, _))| match *period {
            EARLIER => format!("{ob} các kỳ trước"),
            p if p == today => format!("{ob} hôm nay"),
            p => format!("{ob} {p}"),
        })
        .collect();
    let texts: HashMap<(usize, usize, &str), String> =
        cells.iter().map(|(k, r)| (*k, column_cell(r))).collect();
    let unit_w = lines
        .values()
        .map(|(id, _)| width(id))
        .max()
        .unwrap_or(0)
        .max(width("Đơn vị"));
    let col_w: Vec<usize> = cols
        .iter()
        .zip(&heads)
        .map(|(((o, p), _), h)| {
            lines
                .keys()
                .filter_map(|u| texts.get(&(*u, *o, *p)).map(|t| width(t)))
                .max()
                .unwrap_or(1)
                .max(width(h))
        })
        .collect();
    let _ = writeln!(out, "Tình hình nộp báo cáo ngày {}", dmy(at));
    out.push('\n');
    pad(&mut out, "Đơn vị", unit_w);
    for (h, w) in heads.iter().zip(&col_w) {
        out.push_str("  ");
        pad(&mut out, h, *w);
    }
    trim_end(&mut out);
    out.push('\n');
    for (u, (id, _)) in &lines {
        pad(&mut out, id, unit_w);
        for (((o, p), _), w) in cols.iter().zip(&col_w) {
            out.push_str("  ");
            match (texts.get(&(*u, *o, *p)), cells.get(&(*u, *o, *p))) {
                (Some(t), Some(r)) if colours => {
                    let state = match r.iter().find(|r| r.status.state == StateName::Overdue) {
                        Some(late) => late.status.state,
                        None => r[0].status.state,
                    };
                    let _ = write!(out, "\x1b[{}m", colour(state));
                    out.push_str(t);
                    out.push_str("\x1b[0m");
                    for _ in width(t)..*w {
                        out.push(' ');
                    }
                }
                (Some(t), _) => pad(&mut out, t, *w),
                _ => pad(&mut out, "—", *w),
            }
        }
        trim_end(&mut out);
        out.push('\n');
    }
    out.push('\n');
    for (((_, period), (ob, due)), head) in cols.iter().zip(&heads) {
        let title = cfg.obligation(ob).map(|o| o.title.as_str()).unwrap_or("");
        let due = match *period {
            EARLIER => format!("hạn từ {}", dmy(*due)),
            p if p == today => format!("kỳ {p}, hạn {}", dmy(*due)),
            _ => format!("hạn {}", dmy(*due)),
        };
        let _ = writeln!(out, "{head}: {due} — {}", terminal(title));
    }
    let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    let _ = writeln!(out, "Tổng: {} ({}).", rows.len(), summary.join(", "));
    let _ = writeln!(out, "LV: ngày làm việc.");
    out
}

fn trim_end(s: &mut String) {
    while s.ends_with(' ') {
        s.pop();
    }
}

/// The width the summary fits, in characters.
pub const WIDTH: usize = 100;
/// The most overdue units named per period in the summary.
pub const MAX_NAMED: usize = 12;

/// `text` cut to `w` characters, ending in "…" when cut.
fn fit(text: &str, w: usize) -> String {
    match text.char_indices().nth(w) {
        Some(_) => {
            let cut: String = text.chars().take(w.saturating_sub(1)).collect();
            format!("{cut}…")
        }
        None => text.to_owned(),
    }
}

/// `head` then `items` separated by ", ", broken into lines of at most
/// [`WIDTH`] characters; lines after the first start with `indent` spaces.
fn wrapped(head: &str, items: &[String], indent: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = fit(head, WIDTH);
    // Whether `line` holds only its indentation.
    let mut fresh = false;
    for (i, item) in items.iter().enumerate() {
        let sep = if i + 1 < items.len() { "," } else { "" };
        let piece = fit(&format!("{item}{sep}"), WIDTH - indent);
        let gap = usize::from(!fresh);
        if !fresh && width(&line) + gap + width(&piece) > WIDTH {
            lines.push(std::mem::replace(&mut line, " ".repeat(indent)));
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(&piece);
        fresh = false;
    }
    lines.push(line);
    lines
}

/// Counts of one summary line: an (obligation, period), or the earlier
/// periods of a report with short periods together.
#[derive(Default)]
struct Line<'r> {
    tally: Tally,
    /// The overdue rows, to name their units.
    overdue: Vec<&'r Row<'r>>,
    /// The periods counted.
    periods: std::collections::BTreeSet<&'r str>,
}

/// The summary for people: for each obligation (by title, in file order)
/// and period, the due day and where its reports stand, then the overdue
/// units by name (the most late first, at most [`MAX_NAMED`]); every line
/// at most [`WIDTH`] characters.
pub fn summary(rows: &[Row<'_>], cfg: &Config, at: Date, colours: bool) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        return nothing_to_track(at);
    }
    let order = FileOrder::new(cfg);
    let latest = latest_short_periods(rows, &order);
    let today = at.to_string();
    let mut groups: BTreeMap<(usize, &str), Line<'_>> = BTreeMap::new();
    for r in rows {
        let o = order.obligation(&r.obligation.id);
        let period = column_of(&latest, o, r);
        let line = groups.entry((o, period)).or_default();
        line.periods.insert(&r.period);
        line.tally.add(&r.status);
        if r.status.state == StateName::Overdue {
            line.overdue.push(r);
        }
    }
    let red = |line: String| {
        if colours {
            format!("\x1b[{}m{line}\x1b[0m", colour(StateName::Overdue))
        } else {
            line
        }
    };
    let _ = writeln!(out, "Tình hình nộp báo cáo ngày {}", dmy(at));
    let mut last_ob = None;
    for ((o, period), line) in &mut groups {
        let t = &line.tally;
        let ob = &cfg.obligations[*o];
        if last_ob != Some(*o) {
            last_ob = Some(*o);
            out.push('\n');
            let id = format!(" [{}]", terminal(&ob.id));
            let title = fit(&terminal(&ob.title), WIDTH - width(&id));
            let _ = writeln!(out, "{title}{id}");
        }
        let due = t.due_day();
        let mut parts = vec![format!(
            "đã nhận {}/{} (đúng hạn {}, muộn {})",
            t.received(),
            t.owed,
            t.on_time,
            t.late
        )];
        for (n, what) in [
            (t.overdue, "quá hạn"),
            (t.extended, "gia hạn"),
            (t.waived, "miễn nộp"),
            (t.not_yet, "chưa đến hạn"),
        ] {
            if n > 0 {
                parts.push(format!("{what} {n}"));
            }
        }
        let due = due.map(dmy).unwrap_or_default();
        let head = match *period {
            EARLIER => format!("  Các kỳ trước ({} kỳ), hạn từ {due}:", line.periods.len()),
            p if p == today => format!("  Kỳ {} (hôm nay), hạn {due}:", terminal(p)),
            p => format!("  Kỳ {}, hạn {due}:", terminal(p)),
        };
        for text in wrapped(&head, &parts, 4) {
            let _ = writeln!(out, "{text}");
        }
        if line.overdue.is_empty() {
            continue;
        }
        line.overdue
            .sort_by_key(|r| std::cmp::Reverse(r.status.lateness()));
        // Each unit once, the most late first: with how many periods
        // when the earlier periods are shown together.
        let mut late: Vec<(&str, usize, &Status)> = Vec::new();
        for r in &line.overdue {
            match late.iter_mut().find(|(id, _, _)| *id == r.unit.id) {
                Some(l) => l.1 += 1,
                None => late.push((&r.unit.id, 1, &r.status)),
            }
        }
        let name = |id: &str| {
            cfg.unit(id)
                .map(|u| terminal(&u.name).to_string())
                .unwrap_or_default()
        };
        let mut named: Vec<String> = late
            .iter()
            .take(MAX_NAMED)
            .map(|&(id, n, s)| match (n, s.late_within_day_vi()) {
                // Within the first day late: hours when known, worded as
                // the matrix words them.
                (1, Some(w)) => format!("{} ({w})", name(id)),
                (1, None) => format!("{} ({})", name(id), s.time_late_vi()),
                (n, _) => format!("{} ({n} kỳ, lâu nhất {})", name(id), s.time_late_vi()),
            })
            .collect();
        if late.len() > MAX_NAMED {
            named.push(format!("và {} đơn vị khác", late.len() - MAX_NAMED));
        }
        for text in wrapped("  Quá hạn:", &named, 4) {
            let _ = writeln!(out, "{}", red(text));
        }
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "Từng đơn vị: hanbao status --matrix (lọc bằng --obligation, --period, --unit)."
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overdue_cells_say_days_or_that_the_hour_passed_today() {
        let st = |days: i32, working: i32| Status {
            state: StateName::Overdue,
            due: jiff::civil::date(2026, 6, 22),
            submitted_on: None,
            days_late: Some(days),
            working_days_late: Some(working),
            hours_late: None,
            extended: false,
        };
        assert_eq!(cell(&st(0, 0)), "QUÁ GIỜ HẠN hôm nay");
        assert_eq!(cell(&st(2, 1)), "QUÁ HẠN 2 ngày (1 LV)");
        // With the time of "now": hours within the first day late.
        let hours = |days, h| Status {
            hours_late: Some(h),
            ..st(days, days)
        };
        assert_eq!(cell(&hours(0, 0)), "QUÁ GIỜ HẠN hôm nay");
        assert_eq!(cell(&hours(0, 5)), "QUÁ HẠN 5 giờ");
        // Due 24:00 yesterday, at 15:00 today: 15 hours.
        assert_eq!(cell(&hours(1, 15)), "QUÁ HẠN 15 giờ");
        assert_eq!(cell(&hours(2, 39)), "QUÁ HẠN 2 ngày (2 LV)");
    }

    #[test]
    fn wrapping_keeps_every_line_within_the_width() {
        let items: Vec<String> = (0..40)
            .map(|i| format!("UBND xã số {i} (3 ngày)"))
            .collect();
        let lines = wrapped("  Quá hạn:", &items, 4);
        assert!(lines.len() > 5);
        for l in &lines {
            assert!(width(l) <= WIDTH, "{l}");
        }
        assert!(lines[1].starts_with("    UBND"));
        let joined = lines.join(" ");
        assert!(joined.contains("UBND xã số 39 (3 ngày)"));
        let long = vec!["x".repeat(300)];
        for l in wrapped("  Quá hạn:", &long, 4) {
            assert!(width(&l) <= WIDTH, "{l}");
        }
    }

    #[test]
    fn fit_cuts_with_an_ellipsis() {
        assert_eq!(fit("Sở Y tế", 10), "Sở Y tế");
        assert_eq!(fit("Báo cáo quý", 5), "Báo …");
    }
}
