//! `hanbao plan`: every message that will go out in a date range, and the
//! deadlines, as JSON lines or as a readable Vietnamese table.
//!
//! The messages are the outbox's candidates (`outbox::candidates`, what the
//! daemon enqueues): reminders, the due-day notice, the overdue notice to
//! the unit and the escalation to everyone else a stage names, plus the
//! coordinator's digest at the cron times of `daemon.digest` (without
//! `--obligation`/`--unit`). So `plan` and `simulate` agree on what goes
//! out and when; `simulate` adds what depends on the database (a report
//! that arrived stops its notices, escalations are grouped per recipient,
//! the first tick catches up).
//!
//! [`entries`] and [`render`] do no IO and never read the clock. [`run`] is
//! the command (configuration, id checks, planner, print).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Result, bail};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::calendar::WorkCalendar;
use crate::config::model::{Config, Obligation, Unit};
use crate::config::values::format_date;
use crate::outbox::candidates;
use crate::planner::{Event, EventKind};
use crate::store::OutboxKind;

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
    let digests = if args.obligation.is_none() && args.unit.is_none() {
        super::simulate::digest_instants(&cfg, args.from, args.to)?
    } else {
        Vec::new()
    };
    let filter = crate::planner::Filter {
        obligation: args.obligation,
        unit: args.unit,
    };
    let events = crate::planner::plan(&cfg, &cal, args.from, args.to, &filter);
    let entries = entries(&cfg, &cal, &events, &digests);
    print!("{}", render(&entries, &cfg, args.json));
    Ok(ExitCode::SUCCESS)
}

/// What a line of the plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    /// The deadline itself, 24:00 of the due day (no message).
    Deadline,
    Reminder,
    /// The notice on the morning of the due day.
    DueToday,
    /// An escalation stage's notice to the unit's own mailboxes.
    Overdue,
    /// An escalation stage's notice to everyone else it names (grouped per
    /// recipient when sent).
    Escalation,
    /// The coordinator's digest.
    Digest,
}

impl EntryKind {
    /// The name in `--json` (and in `simulate`'s summary).
    pub fn code(self) -> &'static str {
        match self {
            EntryKind::Deadline => "deadline",
            EntryKind::Reminder => "reminder",
            EntryKind::DueToday => "due_today",
            EntryKind::Overdue => "overdue",
            EntryKind::Escalation => "escalation",
            EntryKind::Digest => "digest",
        }
    }

    /// The Vietnamese name, as shown to administrators.
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Deadline => "Hạn chót",
            EntryKind::Reminder => "Nhắc hạn",
            EntryKind::DueToday => "Đến hạn hôm nay",
            EntryKind::Overdue => "Báo quá hạn",
            EntryKind::Escalation => "Đôn đốc",
            EntryKind::Digest => "Tổng hợp",
        }
    }
}

/// One line of the plan.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// `None` for the digest (it is about everything).
    pub obligation: Option<&'a Obligation>,
    pub period: Option<String>,
    pub unit: Option<&'a Unit>,
    pub kind: EntryKind,
    /// Reminders and escalation stages: 1.. in time order; 0 otherwise.
    pub stage: u32,
    /// When it goes out (the deadline: 00:00 after the due day, or its
    /// time of day).
    pub at: Timestamp,
    pub due: Option<Date>,
    pub recipients: Vec<String>,
}

/// Every message the events give (the outbox's candidates), with the
/// deadlines, and the digests at `digests`, ordered by time (the planner's
/// order within one instant).
pub fn entries<'a>(
    cfg: &'a Config,
    cal: &WorkCalendar,
    events: &[Event<'a>],
    digests: &[Timestamp],
) -> Vec<Entry<'a>> {
    let mut out = Vec::with_capacity(events.len() * 2 + digests.len());
    for e in events {
        if e.kind == EventKind::Deadline {
            out.push(Entry {
                obligation: Some(e.obligation),
                period: Some(e.period.to_string()),
                unit: Some(e.unit),
                kind: EntryKind::Deadline,
                stage: 0,
                at: e.at,
                due: Some(e.due),
                recipients: Vec::new(),
            });
        }
        for c in candidates(cfg, cal, std::slice::from_ref(e)) {
            out.push(Entry {
                obligation: Some(e.obligation),
                period: Some(e.period.to_string()),
                unit: Some(e.unit),
                kind: match c.kind {
                    OutboxKind::Reminder => EntryKind::Reminder,
                    OutboxKind::DueToday => EntryKind::DueToday,
                    OutboxKind::Overdue => EntryKind::Overdue,
                    OutboxKind::Escalation => EntryKind::Escalation,
                    // Never planned: the watched mailbox writes it.
                    OutboxKind::Acknowledgement => continue,
                },
                stage: c.stage,
                at: c.at,
                due: Some(e.due),
                recipients: c.recipients,
            });
        }
    }
    let coordinator =
        crate::mail::render::parse_mailbox(cfg.mail.reply_to.as_deref().unwrap_or(&cfg.mail.from))
            .map(|m| m.email.to_string())
            .unwrap_or_default();
    for &at in digests {
        out.push(Entry {
            obligation: None,
            period: None,
            unit: None,
            kind: EntryKind::Digest,
            stage: 0,
            at,
            due: None,
            recipients: vec![coordinator.clone()],
        });
    }
    out.sort_by_key(|e| e.at);
    out
}

/// The `--json` shape: keys in this order, one object per line.
#[derive(Serialize)]
struct JsonEntry<'a> {
    obligation: Option<&'a str>,
    period: Option<&'a str>,
    unit: Option<&'a str>,
    kind: &'static str,
    stage: u32,
    at: String,
    due: Option<String>,
    recipients: &'a [String],
}

/// `entries` as one JSON object per line (`json`), or as an aligned table
/// with dates as dd/mm/yyyy and times as HH:MM in the configured zone. A
/// deadline is shown as 24:00 on its due day, or at its time of day when
/// its rule gives one.
pub fn render(entries: &[Entry<'_>], cfg: &Config, json: bool) -> String {
    let tz = &cfg.daemon.time_zone;
    if json {
        let mut out = String::with_capacity(entries.len() * 200);
        for e in entries {
            let offset = tz.to_offset(e.at);
            let j = JsonEntry {
                obligation: e.obligation.map(|o| o.id.as_str()),
                period: e.period.as_deref(),
                unit: e.unit.map(|u| u.id.as_str()),
                kind: e.kind.code(),
                stage: e.stage,
                at: format!("{:.0}", e.at.display_with_offset(offset)),
                due: e.due.map(|d| d.to_string()),
                recipients: &e.recipients,
            };
            out.push_str(&serde_json::to_string(&j).expect("plain data serialises"));
            out.push('\n');
        }
        return out;
    }
    if entries.is_empty() {
        return "Không có thư hay hạn nào trong khoảng thời gian đã chọn.\n".to_string();
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
    let mut rows: Vec<[String; 8]> = Vec::with_capacity(entries.len());
    for e in entries {
        let (day, time) = match (e.kind, e.due) {
            (EntryKind::Deadline, Some(due))
                if e.obligation.is_none_or(|o| o.due_time.is_none()) =>
            {
                (due, "24:00".to_string())
            }
            _ => {
                let local = tz.to_datetime(e.at);
                (
                    local.date(),
                    format!("{:02}:{:02}", local.hour(), local.minute()),
                )
            }
        };
        rows.push([
            format_date(day),
            time,
            e.kind.name().to_string(),
            if e.stage == 0 {
                "-".to_string()
            } else {
                e.stage.to_string()
            },
            e.obligation.map_or("-", |o| o.id.as_str()).to_string(),
            e.period.clone().unwrap_or_else(|| "-".into()),
            e.unit.map_or("-", |u| u.id.as_str()).to_string(),
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
    let messages = entries
        .iter()
        .filter(|e| e.kind != EntryKind::Deadline)
        .count();
    let _ = writeln!(
        out,
        "Giờ theo múi giờ {}; {} thư, {} hạn chót.",
        cfg.daemon.time_zone_name,
        messages,
        entries.len() - messages
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
