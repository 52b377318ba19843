//! `[intake]`: the IMAP mailbox of replies. Host, security (implicit TLS,
//! or no encryption towards this machine only), port, login and exactly
//! one password source (as `[mail.smtp]`, never a literal password), the
//! mailbox watched, what is done to a processed message, the polling
//! interval and the limits. No IO: the password is read by `intake` when it
//! connects.

use serde_spanned::Spanned;

use super::at;
use super::mail::{PasswordKeys, is_loopback_host, password_source};
use crate::config::load::Item;
use crate::config::model::{AfterIntake, FileLimits, ImapSecurity, Intake};
use crate::config::raw::RawIntake;
use crate::config::report::{Problem, Reporter, quote};

/// Defaults and bounds of the numeric keys.
pub(crate) const DEFAULT_POLL_SECS: u64 = 60;
const POLL_SECS: (i64, i64) = (10, 3600);
pub(crate) const DEFAULT_MAX_MESSAGE_MB: u64 = 25;
const MAX_MESSAGE_MB: (i64, i64) = (1, 100);
const MAX_ATTACHMENTS: (i64, i64) = (1, 100);

/// `[intake]`, its limits reconciled with the files' (`files`, from
/// `[daemon]`): an attachment is a file like any other, so a message may
/// carry at most `daemon.files_per_submission` of them (the default of
/// `intake.max_attachments`; a larger value is an error), each at most
/// `daemon.file_max_mb`; `intake.max_message_mb` bounds the whole message
/// as the server stores it (encoded, about a third larger than its files).
pub(super) fn intake(
    item: Option<&Item<RawIntake>>,
    files: &FileLimits,
    rep: &mut Reporter,
) -> Option<Intake> {
    let item = item?;
    let file = item.loc.file;
    let raw = &item.value;
    let errors_before = rep.error_count();
    let host = match &raw.host {
        Some(h) if !h.get_ref().trim().is_empty() => h.get_ref().trim().to_string(),
        Some(h) => {
            rep.report(
                Problem::error(&at(file, h), "intake.host", "tên máy chủ rỗng").quoted(h.get_ref()),
            );
            String::new()
        }
        None => {
            rep.report(
                Problem::error(&item.loc, "intake.host", "thiếu tên máy chủ IMAP")
                    .hint("host = \"imap.ten-mien.example\""),
            );
            String::new()
        }
    };
    let security = security(rep, file, raw.security.as_ref(), &host);
    let mut port = match security {
        ImapSecurity::Tls => 993,
        ImapSecurity::None => 143,
    };
    if let Some(p) = &raw.port {
        match u16::try_from(*p.get_ref()) {
            Ok(n) if n > 0 => port = n,
            _ => rep.report(
                Problem::error(&at(file, p), "intake.port", "không phải cổng")
                    .value(p.get_ref().to_string())
                    .hint("1–65535; 993 cho IMAP qua TLS"),
            ),
        }
    }
    if let Some(p) = &raw.password {
        rep.report(
            Problem::error(
                &at(file, p),
                "intake.password",
                "không được ghi mật khẩu trực tiếp trong tệp cấu hình",
            )
            .value("\"***\"")
            .hint(
                "dùng password_file = \"/etc/hanbao/imap-password\" (quyền 600), password_env = \"HANBAO_IMAP_PASSWORD\" \
                 hoặc password_credential = \"imap-password\" (LoadCredential= của systemd)",
            ),
        );
    }
    let password = password_source(
        rep,
        file,
        &PasswordKeys {
            table: "intake",
            file: raw.password_file.as_ref(),
            env: raw.password_env.as_ref(),
            credential: raw.password_credential.as_ref(),
        },
    );
    if password.is_none() && raw.password.is_none() && rep.error_count() == errors_before {
        rep.report(
            Problem::error(&item.loc, "intake", "thiếu nguồn mật khẩu của hộp thư")
                .hint("thêm password_file, password_env hoặc password_credential"),
        );
    }
    let username = match &raw.username {
        Some(u) if !u.get_ref().trim().is_empty() => u.get_ref().trim().to_string(),
        _ => {
            let loc = raw
                .username
                .as_ref()
                .map_or(item.loc.clone(), |u| at(file, u));
            rep.report(
                Problem::error(&loc, "intake.username", "thiếu tên đăng nhập hộp thư")
                    .hint("username = \"baocao@soldtbxh.quangngai.example\""),
            );
            String::new()
        }
    };
    let mailbox =
        folder(rep, file, "intake.mailbox", raw.mailbox.as_ref()).unwrap_or_else(|| "INBOX".into());
    let after = match folder(rep, file, "intake.move_to", raw.move_to.as_ref()) {
        Some(to) if to == mailbox => {
            if let Some(s) = &raw.move_to {
                rep.report(
                    Problem::error(
                        &at(file, s),
                        "intake.move_to",
                        "thư mục chuyển thư đến trùng với hộp thư đang theo dõi",
                    )
                    .quoted(s.get_ref())
                    .hint("một thư mục khác, ví dụ \"Da xu ly\", hoặc bỏ khóa này để chỉ đánh dấu đã đọc"),
                );
            }
            AfterIntake::MarkSeen
        }
        Some(to) => AfterIntake::MoveTo(to),
        None => AfterIntake::MarkSeen,
    };
    let poll_secs = number(
        rep,
        file,
        "intake.poll_secs",
        raw.poll_secs.as_ref(),
        POLL_SECS,
        "số giây giữa hai lần xem hộp thư (khi máy chủ không hỗ trợ IDLE)",
    )
    .map_or(DEFAULT_POLL_SECS, |n| n as u64);
    let max_message_mb = number(
        rep,
        file,
        "intake.max_message_mb",
        raw.max_message_mb.as_ref(),
        MAX_MESSAGE_MB,
        "dung lượng lớn nhất của một thư (MB)",
    )
    .map_or(DEFAULT_MAX_MESSAGE_MB, |n| n as u64);
    let max_attachments = number(
        rep,
        file,
        "intake.max_attachments",
        raw.max_attachments.as_ref(),
        MAX_ATTACHMENTS,
        "số tệp đính kèm nhiều nhất trong một thư",
    )
    .map_or(files.max_count, |n| n as usize);
    if let Some(v) = &raw.max_attachments
        && max_attachments > files.max_count
    {
        rep.report(
            Problem::error(
                &at(file, v),
                "intake.max_attachments",
                format!(
                    "mâu thuẫn với daemon.files_per_submission = {}: mỗi tệp đính kèm được lưu như mọi tệp gửi kèm báo cáo, \
                     nên một thư không được mang nhiều tệp hơn số tệp được lưu cho một lần gửi",
                    files.max_count
                ),
            )
            .value(max_attachments.to_string())
            .hint(format!(
                "bỏ khóa này (mặc định bằng daemon.files_per_submission), đặt từ 1 đến {}, \
                 hoặc tăng daemon.files_per_submission",
                files.max_count
            )),
        );
    }
    if rep.error_count() > errors_before {
        return None;
    }
    Some(Intake {
        host,
        port,
        security,
        username,
        password: password?,
        mailbox,
        after,
        poll_secs,
        max_message_bytes: max_message_mb * 1024 * 1024,
        max_attachments,
    })
}

/// `intake.security`; "none" only towards this machine.
fn security(
    rep: &mut Reporter,
    file: usize,
    v: Option<&Spanned<String>>,
    host: &str,
) -> ImapSecurity {
    let Some(v) = v else {
        return ImapSecurity::Tls;
    };
    match v.get_ref().as_str() {
        "tls" => ImapSecurity::Tls,
        "none" if host.is_empty() || is_loopback_host(host) => ImapSecurity::None,
        "none" => {
            rep.report(
                Problem::error(
                    &at(file, v),
                    "intake.security",
                    format!(
                        "kết nối IMAP không mã hóa chỉ được dùng với máy chủ trên chính máy này, không với {}",
                        quote(host)
                    ),
                )
                .quoted("none")
                .hint(
                    "\"tls\" (cổng 993, mặc định); \"none\" chỉ cho host = \"127.0.0.1\", \"::1\" hoặc \"localhost\"",
                ),
            );
            ImapSecurity::Tls
        }
        other => {
            rep.report(
                Problem::error(&at(file, v), "intake.security", "không có kiểu bảo mật này")
                    .quoted(other)
                    .hint("\"tls\" (cổng 993) hoặc \"none\" (chỉ cho máy chủ 127.0.0.1/localhost)"),
            );
            ImapSecurity::Tls
        }
    }
}

/// A folder name: not empty, printable ASCII (a non-ASCII name travels
/// in IMAP's modified UTF-7, which intake does not write), no wildcard of
/// IMAP's LIST, no quote or backslash.
fn folder(
    rep: &mut Reporter,
    file: usize,
    key: &str,
    v: Option<&Spanned<String>>,
) -> Option<String> {
    let v = v?;
    let name = v.get_ref().trim();
    let printable = name.chars().all(|c| c.is_ascii_graphic() || c == ' ');
    if name.is_empty() || !printable || name.contains(['*', '%', '"', '\\']) || name.len() > 200 {
        rep.report(
            Problem::error(
                &at(file, v),
                key,
                if printable || name.is_empty() {
                    "không phải tên thư mục thư dùng được"
                } else {
                    "tên thư mục có chữ có dấu hoặc ký tự ngoài bảng ASCII: chưa hỗ trợ \
                     (IMAP truyền các tên này ở dạng UTF-7 cải biên)"
                },
            )
                .quoted(v.get_ref())
                .hint(
                    "chữ không dấu, số, dấu cách, '.', '-', '_' hoặc '/', ví dụ \"INBOX\" hoặc \"Da xu ly\"; \
                     không có '*', '%', '\"', '\\'",
                ),
        );
        return None;
    }
    Some(name.to_string())
}

/// A whole number within `(min, max)`, or reported.
fn number(
    rep: &mut Reporter,
    file: usize,
    key: &str,
    v: Option<&Spanned<i64>>,
    (min, max): (i64, i64),
    what: &str,
) -> Option<i64> {
    let v = v?;
    let n = *v.get_ref();
    if (min..=max).contains(&n) {
        return Some(n);
    }
    rep.report(
        Problem::error(&at(file, v), key, format!("{what} phải từ {min} đến {max}"))
            .value(n.to_string()),
    );
    None
}
