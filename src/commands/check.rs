//! `hanbao check`: renders the result of loading a configuration for an
//! administrator, and chooses the exit code (0 valid, 78 = EX_CONFIG).
//!
//! Output only: it does not load files itself (the caller passes the result
//! of `config::load`), and it never prints secrets (diagnostics carry none).

use std::fmt::Write as _;

use crate::config::model::Transport;
use crate::config::{ConfigErrors, Diagnostic, Loaded};

/// Exit code for a configuration error (sysexits.h EX_CONFIG).
pub const EX_CONFIG: u8 = 78;

/// The process exit code for a load result.
pub fn exit_code(result: &Result<Loaded, ConfigErrors>) -> u8 {
    match result {
        Ok(_) => 0,
        Err(_) => EX_CONFIG,
    }
}

fn section(out: &mut String, title: &str, diags: &[Diagnostic]) {
    if diags.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title} ({}):", diags.len());
    for d in diags {
        let _ = writeln!(out, "  {d}");
    }
    out.push('\n');
}

/// Readable report: errors, then warnings, then a summary line.
pub fn render(result: &Result<Loaded, ConfigErrors>) -> String {
    let mut out = String::new();
    match result {
        Ok(loaded) => {
            section(&mut out, "Cảnh báo", &loaded.warnings);
            let c = &loaded.config;
            let transport = match &c.mail.transport {
                Transport::File { dir } => format!("tệp .eml trong {}", dir.display()),
                Transport::Smtp(s) => format!("SMTP {}:{}", s.host, s.port),
            };
            let _ = writeln!(
                out,
                "Cấu hình hợp lệ: {} tệp, {} đơn vị, {} nhóm, {} nghĩa vụ báo cáo; múi giờ {}; gửi thư: {transport}; {} cảnh báo.",
                c.files.len(),
                c.units.len(),
                c.groups.len(),
                c.obligations.len(),
                c.daemon.time_zone_name,
                loaded.warnings.len(),
            );
        }
        Err(e) => {
            section(&mut out, "Lỗi", &e.errors);
            section(&mut out, "Cảnh báo", &e.warnings);
            let _ = writeln!(
                out,
                "Cấu hình KHÔNG hợp lệ: {} lỗi, {} cảnh báo. Không lệnh nào chạy với cấu hình này cho đến khi sửa hết lỗi.",
                e.errors.len(),
                e.warnings.len()
            );
        }
    }
    out
}

/// The database warnings of `hanbao check` (history under ids the
/// configuration no longer has), one line per id; empty when there are none.
pub fn render_database(warnings: &[String]) -> String {
    let mut out = String::new();
    if warnings.is_empty() {
        return out;
    }
    let _ = writeln!(out, "Cảnh báo về cơ sở dữ liệu ({}):", warnings.len());
    for w in warnings {
        let _ = writeln!(out, "  {w}");
    }
    out.push('\n');
    out
}
