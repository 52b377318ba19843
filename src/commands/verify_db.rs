//! `hanbao verify-db [FILE]`: checks a database without changing it: the
//! engine's integrity check (SQLite), the schema it records against the
//! one this binary expects, and how many rows it keeps. FILE is a SQLite
//! file (a backup); without it, the configured database.
//!
//! Exit 0 when sound and usable by this binary, 1 otherwise. Must not:
//! migrate, create or write a database (`store::inspect` opens it read-only).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::store::{self, Integrity, MigrationProblem, OutboxStatus, SCHEMA_VERSION, Verification};

use super::{Context, block_on};
use crate::environment::Access;

/// Arguments of `hanbao verify-db`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// A SQLite file to check (e.g. a backup) instead of the configured database
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// `hanbao verify-db`.
pub fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let (url, shown) = match &args.file {
        Some(file) => (file_url(file)?, file.display().to_string()),
        None => {
            let (_, places) = ctx.load()?;
            if ctx.verbose {
                eprintln!("{}", places.database_line());
            }
            places.check_access(Access::Read)?;
            (places.database.value.clone(), places.database_shown())
        }
    };
    let found = block_on(store::inspect(&url))?
        .with_context(|| format!("không kiểm tra được cơ sở dữ liệu {shown}"))?;
    let text = render(&shown, &found);
    let code = if found.is_ok() {
        print!("{}", crate::escape::terminal_lines(&text));
        ExitCode::SUCCESS
    } else {
        eprint!("{}", crate::escape::terminal_lines(&text));
        ExitCode::FAILURE
    };
    Ok(code)
}

/// `sqlite://` and the absolute path of `file`, which must exist.
pub fn file_url(file: &Path) -> Result<String> {
    let abs = std::path::absolute(file)
        .with_context(|| format!("không tìm được đường dẫn {}", file.display()))?;
    anyhow::ensure!(
        abs.is_file(),
        "{} không tồn tại hoặc không phải là tệp",
        file.display()
    );
    Ok(format!("sqlite://{}", abs.display()))
}

/// What `verify-db` prints (and `backup`, `restore` after their work).
pub fn render(shown: &str, v: &Verification) -> String {
    let mut out = format!("Cơ sở dữ liệu: {shown} ({})\n", v.backend);
    out += &match &v.integrity {
        Integrity::Ok => "Toàn vẹn: tốt (integrity_check, foreign_key_check)\n".to_string(),
        Integrity::NotChecked => "Toàn vẹn: máy chủ PostgreSQL tự giữ các trang dữ liệu \
             (kiểm tra sâu bằng pg_amcheck); mọi bảng đã được đọc hết để đếm\n"
            .to_string(),
        Integrity::Problems(lines) => {
            let mut s = format!("Toàn vẹn: CÓ LỖI ({} dòng)\n", lines.len());
            for l in lines {
                s += &format!("  {l}\n");
            }
            s
        }
    };
    let s = &v.schema;
    out += &match s.latest {
        0 => "Lược đồ: trống (chưa có bảng nào của hanbao)\n".to_string(),
        n if n == SCHEMA_VERSION => {
            format!("Lược đồ: phiên bản {n}, đúng phiên bản bản hanbao này dùng\n")
        }
        n if n < SCHEMA_VERSION => format!(
            "Lược đồ: phiên bản {n}, cũ hơn phiên bản {SCHEMA_VERSION} bản hanbao này dùng; \
             sẽ được nâng cấp khi hanbao mở nó để ghi\n"
        ),
        n => format!(
            "Lược đồ: phiên bản {n}, MỚI HƠN phiên bản {SCHEMA_VERSION} bản hanbao này dùng; \
             bản hanbao này sẽ không mở nó\n"
        ),
    };
    for p in &s.problems {
        out += &match p {
            MigrationProblem::Failed(n) => format!("  bước nâng cấp {n} đã dừng giữa chừng\n"),
            MigrationProblem::Modified(n) => {
                format!("  bước nâng cấp {n} khác với bước bản hanbao này có\n")
            }
            MigrationProblem::Unknown(n) => {
                format!("  bước nâng cấp {n} không có trong bản hanbao này\n")
            }
        };
    }
    let c = &v.counts;
    out += &format!(
        "Lịch sử: {} sự kiện ({} lần nộp, {} lần sửa, {} gia hạn, {} miễn, {} thu hồi) \
         của {} (nghĩa vụ, kỳ, đơn vị)\n",
        c.events, c.submissions, c.corrections, c.extensions, c.waivers, c.revocations, c.keys
    );
    let queue: Vec<String> = c
        .outbox
        .iter()
        .map(|(status, n)| format!("{} {n}", status_name(*status)))
        .collect();
    out += &format!(
        "Hàng đợi thư: {}; đã dọn {} thư cũ\n",
        if queue.is_empty() {
            "trống".to_string()
        } else {
            queue.join(", ")
        },
        c.outbox_purged
    );
    out += &format!("Token: {} ({} còn hiệu lực)\n", c.tokens, c.tokens_active);
    out += if v.is_ok() {
        "Kết quả: tốt\n"
    } else {
        "Kết quả: CÓ VẤN ĐỀ\n"
    };
    out
}

fn status_name(s: OutboxStatus) -> &'static str {
    match s {
        OutboxStatus::Pending => "chờ gửi",
        OutboxStatus::Sending => "đang gửi",
        OutboxStatus::Sent => "đã gửi",
        OutboxStatus::Failed => "lỗi",
        OutboxStatus::Skipped => "bỏ qua",
        OutboxStatus::Cancelled => "huỷ",
    }
}
