//! Outbox rows as the dashboard shows them, shared by the outbox page, a
//! unit's page and a report's page: the kind in words with its stage, the
//! report's title and period in words, the unit's name, and the time that
//! matters for the row's status. For a row waiting to go out that is the
//! real next sending instant (`outbox::next_sending_instant` of the later
//! of its due time and now), not the stored `next_attempt_at`: the
//! dispatcher sends only inside sending hours, so a row due at night goes
//! out the next working morning, and the page says "(ngoài giờ gửi)".
//!
//! Must not: read the store or produce HTML.

use jiff::Timestamp;
use serde::Serialize;

use crate::config::model::Language;
use crate::live::Live;
use crate::outbox::{enqueue::kind_vi, next_sending_instant, period_ref};
use crate::store::{OutboxKind, OutboxRow, OutboxStatus};

use super::view::{key_href, local, unit_href};

/// A status in words (tabs and tables).
pub fn status_vi(s: OutboxStatus) -> &'static str {
    match s {
        OutboxStatus::Pending => "Chờ gửi",
        OutboxStatus::Sending => "Đang gửi",
        OutboxStatus::Sent => "Đã gửi",
        OutboxStatus::Failed => "Gửi lỗi",
        OutboxStatus::Skipped => "Bỏ qua",
        OutboxStatus::Cancelled => "Đã huỷ",
    }
}

/// A kind in words, without its stage (the filter's choices).
pub fn kind_name(k: OutboxKind) -> &'static str {
    match k {
        OutboxKind::Reminder => "Nhắc hạn",
        OutboxKind::DueToday => "Đến hạn hôm nay",
        OutboxKind::Overdue => "Quá hạn (gửi đơn vị)",
        OutboxKind::Escalation => "Đôn đốc (gửi cấp trên)",
        OutboxKind::Acknowledgement => "Báo đã nhận (gửi đơn vị)",
    }
}

/// A kind and its stage in words, capitalised: "Thư nhắc hạn (lần 2)".
pub fn kind_words(k: OutboxKind, stage: u32) -> String {
    let words = kind_vi(k, stage);
    let mut c = words.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => words,
    }
}

/// The period in words ("quý I năm 2026").
pub fn period_words(key: &str) -> String {
    period_ref(key, Language::Vi).label
}

/// One message as a table shows it.
#[derive(Debug, Serialize)]
pub struct Shown {
    pub id: i64,
    /// The status's name (a CSS class) and in words.
    pub status: &'static str,
    pub status_vi: &'static str,
    pub kind: String,
    pub title: String,
    pub period: String,
    pub report_href: String,
    pub unit: String,
    pub unit_id: String,
    pub unit_href: String,
    pub to: String,
    pub attempts: u32,
    /// The time that matters for its status (see [`when`]).
    pub when: String,
    /// Why `when` is later than the row's own time: "ngoài giờ gửi".
    pub when_note: Option<&'static str>,
    /// The error of a failed or retried row, why a row was cancelled or
    /// skipped.
    pub reason: String,
    pub failed: bool,
}

/// The time a row's status is about, in words, and a note when a pending
/// row waits for sending hours:
/// - sent: when it went out;
/// - pending: when the dispatcher will really send it, the next instant
///   inside sending hours at or after both its `next_attempt_at` and now;
/// - sending: until when it is leased;
/// - failed, skipped, cancelled: when it last changed.
pub fn when(r: &OutboxRow, live: &Live, now: Timestamp) -> (String, Option<&'static str>) {
    let tz = &live.cfg.daemon.time_zone;
    match r.status {
        OutboxStatus::Sent => (local(r.sent_at.unwrap_or(r.updated_at), tz), None),
        OutboxStatus::Pending => {
            let due = r.next_attempt_at.max(now);
            let real = next_sending_instant(due, tz, live.cfg.daemon.sending_hours, &live.cal);
            if real > due {
                (local(real, tz), Some("ngoài giờ gửi"))
            } else if r.next_attempt_at <= now {
                (
                    format!("ngay (đến lượt từ {})", local(r.next_attempt_at, tz)),
                    None,
                )
            } else {
                (local(real, tz), None)
            }
        }
        OutboxStatus::Sending => (
            format!(
                "đang gửi (giữ đến {})",
                r.lease_until.map(|t| local(t, tz)).unwrap_or_default()
            ),
            None,
        ),
        OutboxStatus::Failed | OutboxStatus::Skipped | OutboxStatus::Cancelled => {
            (local(r.updated_at, tz), None)
        }
    }
}

/// Why a row is where it is, in words where hanbao wrote the reason.
fn reason(r: &OutboxRow) -> String {
    let stored = r.last_error.clone().unwrap_or_default();
    match r.status {
        OutboxStatus::Skipped if stored.is_empty() => {
            "đã qua lúc gửi khi hanbao lập kế hoạch (không gửi muộn)".into()
        }
        OutboxStatus::Cancelled => match stored.strip_prefix("superseded by ") {
            Some(later) => {
                let mut parts = later.split(' ');
                let kind = parts.next().and_then(OutboxKind::parse);
                let stage = parts.next().and_then(|s| s.parse().ok());
                match (kind, stage) {
                    (Some(k), Some(s)) => format!("thay bằng {}", kind_vi(k, s)),
                    _ => stored,
                }
            }
            None => stored,
        },
        _ => stored,
    }
}

/// `r` as a table shows it.
pub fn shown(r: &OutboxRow, live: &Live, now: Timestamp) -> Shown {
    let (when, when_note) = when(r, live, now);
    let k = &r.key;
    Shown {
        id: r.id,
        status: r.status.as_str(),
        status_vi: status_vi(r.status),
        kind: kind_words(k.kind, k.stage),
        title: live
            .cfg
            .obligation(&k.obligation)
            .map_or_else(|| k.obligation.clone(), |o| o.title.clone()),
        period: period_words(&k.period),
        report_href: key_href(&k.unit, &k.obligation, &k.period),
        unit: live
            .cfg
            .unit(&k.unit)
            .map_or_else(|| k.unit.clone(), |u| u.name.clone()),
        unit_id: k.unit.clone(),
        unit_href: unit_href(&k.unit),
        to: k.recipient.clone(),
        attempts: r.attempts,
        when,
        when_note,
        reason: reason(r),
        failed: r.status == OutboxStatus::Failed,
    }
}

/// The last message sent, as the "Lần nhắc gần nhất" line says it.
#[derive(Debug, Serialize)]
pub struct Last {
    pub when: String,
    pub kind: String,
    pub to: String,
}

/// The messages section of a unit or report page
/// (`dashboard/messages.html`).
#[derive(Debug, Serialize)]
pub struct Messages {
    pub rows: Vec<Shown>,
    /// More rows than shown exist.
    pub more: bool,
    pub last: Option<Last>,
    pub with_key: bool,
    pub outbox_href: String,
    pub retention_days: u32,
}

impl Messages {
    /// `rows` newest first (at most `shown` of them kept), `last` among
    /// `sent` the one with the latest `sent_at`.
    pub fn new(
        mut rows: Vec<OutboxRow>,
        shown_at_most: usize,
        sent: &[OutboxRow],
        with_key: bool,
        outbox_href: String,
        live: &Live,
        now: Timestamp,
    ) -> Messages {
        rows.sort_by_key(|r| std::cmp::Reverse(r.id));
        let more = rows.len() > shown_at_most;
        rows.truncate(shown_at_most);
        let last = sent
            .iter()
            .filter(|r| r.status == OutboxStatus::Sent)
            .max_by_key(|r| (r.sent_at, r.id))
            .map(|r| Last {
                when: local(
                    r.sent_at.unwrap_or(r.updated_at),
                    &live.cfg.daemon.time_zone,
                ),
                kind: kind_vi(r.key.kind, r.key.stage),
                to: r.key.recipient.clone(),
            });
        Messages {
            rows: rows.iter().map(|r| shown(r, live, now)).collect(),
            more,
            last,
            with_key,
            outbox_href,
            retention_days: live.cfg.daemon.outbox_retention_days,
        }
    }
}
