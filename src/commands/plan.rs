//! `hanbao plan`: every deadline, reminder and escalation in a date range,
//! as JSON lines or as a readable Vietnamese table.
//!
//! [`render`] is rendering only: it takes events the planner already
//! computed and returns a string; it does no IO and never reads the clock.
//! [`run`] is the command (configuration, id checks, planner, print).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Result, bail};
use jiff::civil::Date;

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::config::values::format_date;
use crate::planner::{Event, EventKind};

use super::{Context, parse_date, suggest};

/// Arguments of `hanbao plan`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// First day (YYYY-MM-DD or dd/mm/yyyy)
    #[arg(long, value_parser = parse_date)]
    pub from: Date,
    /// Last day, inclusive
    #[arg(long, value_parser = parse_date)]
    pub to: Date,
    /// Only this obligation (id)
    #[arg(long)]
    pub obligation: Option<String>,
    /// Only this unit (id)
    #[arg(long)]
    pub unit: Option<String>,
    /// One JSON object per line
    #[arg(long)]
    pub json: bool,
}

/// `hanbao plan`.
pub fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let cfg = ctx.config()?;
    if args.to < args.from {
        bail!("--to {} is before --from {}", args.to, args.from);
    }
    let obligations: Vec<&str> = cfg.obligations.iter().map(|o| o.id.as_str()).collect();
    let units: Vec<&str> = cfg.units.iter().map(|u| u.id.as_str()).collect();
    for (what, id, known) in [
        ("obligation", &args.obligation, &obligations),
        ("unit", &args.unit, &units),
    ] {
        if let Some(id) = id
            && !known.contains(&id.as_str())
        {
            bail!("unknown {what} {id:?}{}", suggest(id, known));
        }
    }
    let cal = WorkCalendar::new(&cfg.calendar);
    let filter = crate::planner::Filter {
        obligation: args.obligation,
        unit: args.unit,
    };
    let events = crate::planner::plan(&cfg, &cal, args.from, args.to, &filter);
    print!("{}", render(&events, &cfg, args.json));
    Ok(ExitCode::SUCCESS)
}

/// The Vietnamese name of an event kind, as shown to administrators.
pub fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Deadline => "Hạn chót",
        EventKind::Reminder => "Nhắc hạn",
        EventKind::Escalation => "Đôn đốc",
    }
}

/// `events` as one JSON object per line (`json`), or as an aligned table with
/// dates as dd/mm/yyyy and times as HH:MM in the configured zone. A deadline
/// is shown as 24:00 on its due day, or at its time of day when its rule
/// gives one.
pub fn render(events: &[Event<'_>], cfg: &Config, json: bool) -> String {
    if json {
        return crate::planner::events::to_json_lines(events);
    }
    if events.is_empty() {
        return "Không có sự kiện nào trong khoảng thời gian đã chọn.\n".to_string();
    }
    let header = [
        "Ngày",
        "Giờ",
        "Loại",
        "Lần",
        "Nghĩa vụ",
        "Kỳ",
        "Đơn vị",
        "Người nhận",
    ];
    let mut rows: Vec<[String; 8]> = Vec::with_capacity(events.len());
    for e in events {
        let (day, time) = match e.kind {
            EventKind::Deadline if e.obligation.due_time.is_none() => (e.due, "24:00".to_string()),
            _ => {
                let local = e.local();
                (
                    local.date(),
                    format!("{:02}:{:02}", local.hour(), local.minute()),
                )
            }
        };
        rows.push([
            format_date(day),
            time,
            kind_name(e.kind).to_string(),
            if e.stage == 0 {
                "-".to_string()
            } else {
                e.stage.to_string()
            },
            e.obligation.id.clone(),
            e.period.to_string(),
            e.unit.id.clone(),
            e.recipients.join(", "),
        ]);
    }
    let mut widths = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Giờ theo múi giờ {}; {} sự kiện.",
        cfg.daemon.time_zone_name,
        events.len()
    );
    let line = |out: &mut String, cells: &[&str]| {
        let last = cells.len() - 1;
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                let pad = widths[i] - cell.chars().count() + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    };
    line(&mut out, &header);
    let rule: Vec<String> = widths.iter().map(|&w| "─".repeat(w)).collect();
    line(
        &mut out,
        &rule.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    for r in &rows {
        line(&mut out, &r.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}
