//! What several dashboard pages show the same way, turned into plain
//! values for the templates: dates, links, a status cell's text, the
//! history table.
//!
//! Must not: produce HTML (the templates do) or read the store.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::status::StateName;
use crate::store::{Action, Event, Subject};
use crate::tracking::Row;

/// History events listed on a unit or report page (newest first).
const HISTORY_SHOWN: usize = 200;

/// Every state, in the order of the legend and the filter.
pub const STATES: [StateName; 8] = [
    StateName::Overdue,
    StateName::DueSoon,
    StateName::Open,
    StateName::Extended,
    StateName::SubmittedLate,
    StateName::SubmittedOnTime,
    StateName::Waived,
    StateName::NotOpen,
];

/// Percent-encodes a path segment or query value (everything but RFC 3986
/// unreserved characters): `primitives::percent`.
pub fn pct(s: &str) -> String {
    crate::primitives::percent(s)
}

/// dd/mm/yyyy.
pub fn dmy(d: Date) -> String {
    crate::tracking::dmy(d)
}

/// dd/mm/yyyy HH:MM in the configured time zone.
pub fn local(t: Timestamp, tz: &TimeZone) -> String {
    let dt = tz.to_datetime(t);
    format!(
        "{} {:02}:{:02}",
        dmy(dt.date()),
        dt.time().hour(),
        dt.time().minute()
    )
}

fn short(d: Date) -> String {
    format!("{:02}/{:02}", d.day(), d.month())
}

/// A period in words ("quý I năm 2026", "tháng 5 năm 2026"), or its key
/// when it has none (a one-off report's).
pub fn period_words(key: &str) -> String {
    crate::period::PeriodKey::parse(key)
        .ok()
        .and_then(|k| k.label_vi())
        .unwrap_or_else(|| key.to_string())
}

/// The page of one unit.
pub fn unit_href(unit: &str) -> String {
    format!("/dashboard/units/{}", pct(unit))
}

/// The page of one report (unit, obligation, period).
pub fn key_href(unit: &str, obligation: &str, period: &str) -> String {
    format!(
        "/dashboard/units/{}/{}/{}",
        pct(unit),
        pct(obligation),
        pct(period)
    )
}

/// The text of a status cell.
pub fn cell_text(r: &Row<'_>) -> String {
    let s = &r.status;
    // Within the first day late: the hours, worded as `status` does.
    if let Some(late) = s.late_within_day_vi() {
        return capitalised(&late);
    }
    match s.state {
        StateName::Overdue => format!(
            "Quá hạn {} ngày ({} ngày LV)",
            s.days_late.unwrap_or(0),
            s.working_days_late.unwrap_or(0)
        ),
        StateName::SubmittedLate => format!(
            "Nộp muộn {} ngày ({})",
            s.days_late.unwrap_or(0),
            s.submitted_on.map(short).unwrap_or_default()
        ),
        StateName::SubmittedOnTime => match s.submitted_on {
            Some(d) => format!("Đã nộp {}", short(d)),
            None => "Đã nộp".into(),
        },
        StateName::Extended => format!("Gia hạn đến {}", dmy(s.due)),
        other => other.label_vi().into(),
    }
}

/// A phrase with its first letter in capitals, as a cell starts.
fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn subject_vi(s: Subject) -> &'static str {
    match s {
        Subject::Submission => "Nộp báo cáo",
        Subject::Extension => "Gia hạn",
        Subject::Waiver => "Miễn nộp",
    }
}

fn action_vi(a: Action) -> &'static str {
    match a {
        Action::Submit => "ghi nhận",
        Action::Correct => "sửa",
        Action::Grant => "cho phép",
        Action::Revoke => "thu hồi",
    }
}

/// One line of the history table.
#[derive(Debug, Serialize)]
pub struct HistoryRow {
    at: String,
    href: String,
    obligation: String,
    period: String,
    what: String,
    detail: String,
    actor: String,
    source: &'static str,
}

/// The history table (`dashboard/history.html`): the newest events first.
#[derive(Debug, Serialize)]
pub struct History {
    rows: Vec<HistoryRow>,
    total: usize,
    /// Whether each row names its obligation and period (the unit page).
    with_key: bool,
}

impl History {
    pub fn new(events: &[Event], tz: &TimeZone, with_key: bool) -> History {
        let rows = events
            .iter()
            .rev()
            .take(HISTORY_SHOWN)
            .map(|e| {
                let mut detail = Vec::new();
                if let Some(d) = e.received_on {
                    detail.push(format!("ngày gửi {}", dmy(d)));
                }
                if let Some(r) = &e.reference {
                    detail.push(format!("số văn bản {r}"));
                }
                if let Some(d) = e.due_on {
                    detail.push(format!("hạn mới {}", dmy(d)));
                }
                if let Some(n) = &e.note {
                    detail.push(n.clone());
                }
                HistoryRow {
                    at: local(e.recorded_at, tz),
                    href: key_href(&e.key.unit, &e.key.obligation, &e.key.period),
                    obligation: e.key.obligation.clone(),
                    period: e.key.period.clone(),
                    what: format!("{} ({})", subject_vi(e.subject), action_vi(e.action)),
                    detail: detail.join("; "),
                    actor: e.actor.clone(),
                    source: e.source.as_str(),
                }
            })
            .collect();
        History {
            rows,
            total: events.len(),
            with_key,
        }
    }
}

/// One file as the report page lists it.
#[derive(Debug, Serialize)]
pub struct FileLine {
    name: String,
    size: String,
    media_type: String,
    source: &'static str,
    sender: String,
    at: String,
    href: String,
}

/// The report page's files section.
#[derive(Debug, Serialize)]
pub struct FilesView {
    items: Vec<FileLine>,
    upload_href: String,
    zip_href: String,
    max_mb: u64,
    max_count: usize,
}

impl FilesView {
    pub fn new(
        files: &[crate::store::StoredFile],
        key: &crate::store::Key,
        limits: &crate::config::model::FileLimits,
        tz: &jiff::tz::TimeZone,
    ) -> FilesView {
        FilesView {
            items: files.iter().map(|f| line(f, tz)).collect(),
            upload_href: format!(
                "{}/files",
                key_href(&key.unit, &key.obligation, &key.period)
            ),
            zip_href: zip_href(&key.obligation, &key.period),
            max_mb: limits.max_bytes / (1024 * 1024),
            max_count: limits.max_count,
        }
    }
}

/// The address of one report-period's .zip.
pub fn zip_href(obligation: &str, period: &str) -> String {
    format!(
        "/dashboard/files/{}/{}/all.zip",
        pct(obligation),
        pct(period)
    )
}

fn line(f: &crate::store::StoredFile, tz: &jiff::tz::TimeZone) -> FileLine {
    FileLine {
        name: f.name.clone(),
        size: crate::files::size_text(f.size),
        media_type: f.media_type.clone(),
        source: source_text(f.source),
        sender: f.sender.clone(),
        at: local(f.received_at, tz),
        href: format!("/dashboard/files/{}", f.id),
    }
}

fn source_text(s: crate::store::FileSource) -> &'static str {
    match s {
        crate::store::FileSource::Upload => "trang xác nhận",
        crate::store::FileSource::Dashboard => "trang quản lý",
        crate::store::FileSource::Api => "API",
        crate::store::FileSource::Email => "thư điện tử",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pct_keeps_unreserved_only() {
        assert_eq!(pct("so-yte_1.a~"), "so-yte_1.a~");
        assert_eq!(pct("a b/c?&đ"), "a%20b%2Fc%3F%26%C4%91");
    }
}
