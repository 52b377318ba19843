//! `GET /dashboard/mailbox`: the watched mailbox (`[intake]`): how many
//! replies were recorded, found already recorded or refused, and the
//! latest refused messages with their reason in words, the sender, the
//! subject and the report they were matched to when they were. A refused
//! message is never recorded: the coordinator reads why here and records
//! it by hand from the report page when it is right after all.
//!
//! Must not: write anything.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;

use crate::store::Intake;

use super::super::AppState;
use super::page::{self, Frame, store_failed};
use super::session::Admin;
use super::view::{dmy, key_href};

/// Refused messages listed, newest first.
const SHOWN: u32 = 200;

pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard/mailbox", get(mailbox_page))
}

/// Why a message was refused, in words, from the code `intake::decide`
/// stores (`Refusal::code`); an unknown code is shown as it is.
pub fn reason_words(code: &str) -> &str {
    match code {
        "unreadable" => "không đọc được thư",
        "not_a_reply" => "không phải thư trả lời một thông báo của hệ thống",
        "unknown_notice" => "trả lời một thư không do hệ thống gửi (hoặc đã bị xóa khỏi hàng đợi)",
        "not_to_unit" => {
            "trả lời một thông báo không gửi cho đơn vị báo cáo (thư báo cáo chậm gửi cấp trên)"
        }
        "unknown_sender" => "người gửi không phải hộp thư của đơn vị nào trong cấu hình",
        "other_unit" => "người gửi là hộp thư của đơn vị khác với đơn vị được nhắc trong thông báo",
        "several_reports" => {
            "thông báo được trả lời gộp nhiều kỳ báo cáo; không biết tệp thuộc kỳ nào, cần ghi nhận thủ công"
        }
        "not_owed" => "đơn vị không còn phải nộp kỳ báo cáo này theo cấu hình hiện hành",
        "invalid" => "ngày nhận hoặc số văn bản không hợp lệ",
        "no_attachment" => "thư không có tệp đính kèm",
        "too_many_attachments" => "thư có quá nhiều tệp đính kèm (đã báo lại cho đơn vị)",
        "too_big" => "thư vượt quá dung lượng cho phép (đã báo lại cho đơn vị)",
        other => other,
    }
}

#[derive(Serialize)]
struct Row {
    at: String,
    sender: String,
    subject: String,
    reason: String,
    report: Option<String>,
    href: Option<String>,
}

#[derive(Serialize)]
struct MailboxView {
    watched: Option<String>,
    recorded: u64,
    already: u64,
    refused: u64,
    rows: Vec<Row>,
}

async fn mailbox_page(State(state): State<AppState>, admin: Admin) -> Response {
    let flash = admin.take_flash(&state);
    let live = state.live();
    let store = &state.shared.store;
    let counts = tokio::try_join!(
        store.intake_count("recorded"),
        store.intake_count("already"),
        store.intake_count("refused"),
        store.intake_messages("refused", SHOWN),
    );
    let (recorded, already, refused, rows) = match counts {
        Ok(c) => c,
        Err(e) => return store_failed(e),
    };
    let zone = &live.cfg.daemon.time_zone;
    let rows = rows
        .into_iter()
        .map(|r| {
            let local = zone.to_datetime(r.processed_at);
            Row {
                at: format!(
                    "{:02}:{:02} {}",
                    local.hour(),
                    local.minute(),
                    dmy(local.date())
                ),
                sender: r.sender,
                subject: r.subject,
                reason: reason_words(r.reason.as_deref().unwrap_or_default()).to_string(),
                report: r.key.as_ref().map(|k| {
                    let unit = live
                        .cfg
                        .unit(&k.unit)
                        .map_or(k.unit.as_str(), |u| u.name.as_str());
                    let report = live
                        .cfg
                        .obligation(&k.obligation)
                        .map_or(k.obligation.as_str(), |o| {
                            o.short_title.as_deref().unwrap_or(&o.title)
                        });
                    format!(
                        "{report} kỳ {} — {unit}",
                        super::sent::period_words(&k.period)
                    )
                }),
                href: r
                    .key
                    .as_ref()
                    .map(|k| key_href(&k.unit, &k.obligation, &k.period)),
            }
        })
        .collect();
    let view = MailboxView {
        watched: live
            .cfg
            .intake
            .as_ref()
            .map(|i| format!("{} trên {}", i.mailbox, i.host)),
        recorded,
        already,
        refused,
        rows,
    };
    let frame = Frame {
        title: "Hộp thư nhận báo cáo",
        nav: Some(admin.nav()),
        flash,
    };
    page::render(StatusCode::OK, "dashboard/mailbox.html", frame, &view)
}
