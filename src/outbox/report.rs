//! What a dispatch run did ([`DispatchReport`], each [`SentMessage`]),
//! and the run in words for the daemon's log ([`summary`]).

use std::collections::BTreeMap;

use jiff::Timestamp;

/// A notice kind's name (`reminder`, ...) in words.
pub fn kind_words(kind: &str) -> &'static str {
    match kind {
        "reminder" => "thư nhắc hạn",
        "due_today" => "thư báo đến hạn hôm nay",
        "overdue" => "thư báo quá hạn",
        "escalation" => "thư đôn đốc",
        "acknowledgement" => "thư báo đã nhận",
        "digest" => "bản tổng hợp",
        "test" => "thư thử",
        _ => "thư",
    }
}

/// A dispatch run in words for the daemon's log: the messages sent per
/// kind, those put back for a retry, failed for good, or cancelled (their
/// reasons are logged as they are cancelled).
pub fn summary(r: &DispatchReport) -> String {
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &r.sent {
        *kinds.entry(kind_words(m.kind)).or_default() += 1;
    }
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let mut out = format!("đợt gửi: đã gửi {} thư", r.sent.len());
    if !kinds.is_empty() {
        out.push_str(&format!(" ({})", kinds.join(", ")));
    }
    out.push_str(&format!(
        "; thử lại sau {}; lỗi vĩnh viễn {}; huỷ vì không còn cần {}",
        r.retried, r.failed, r.cancelled
    ));
    out
}

/// One message handed to the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub sent_at: Timestamp,
    pub kind: &'static str,
    pub recipients: Vec<String>,
    pub subject: String,
    pub message_id: String,
    /// The server's reply or the .eml path.
    pub detail: String,
}

/// What one dispatch run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchReport {
    pub sent: Vec<SentMessage>,
    /// Rows put back for a later attempt.
    pub retried: usize,
    /// Rows failed permanently.
    pub failed: usize,
    /// Rows no longer wanted.
    pub cancelled: usize,
    /// Rows whose lease was lost before the result was recorded.
    pub lost_leases: usize,
}
