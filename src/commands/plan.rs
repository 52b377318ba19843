//! `hanbao plan`: renders planned events as JSON lines or as a readable
//! Vietnamese table.
//!
//! Rendering only: it takes events the planner already computed and returns
//! a string; it does no IO and never reads the clock.

use std::fmt::Write as _;

use crate::config::model::Config;
use crate::config::values::format_date;
use crate::planner::{Event, EventKind};

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
/// is shown as 24:00 on its due day.
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
            EventKind::Deadline => (e.due, "24:00".to_string()),
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
