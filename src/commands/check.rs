//! `hanbao check`: loads a configuration, renders every mail template
//! against sample data, and reports both for an administrator with the exit
//! code (0 valid, 78 = EX_CONFIG); the command also says where `hanbao run`
//! will keep things (state directory, database, .eml directory, resolved
//! as every command resolves them) and warns about history under ids the
//! configuration no longer has.
//!
//! [`render`] is output only (the caller passes the result of
//! `config::load`); [`check`] also reads the files; [`run`] is the command.
//! Nothing here prints secrets (diagnostics carry none; the database URL is
//! shown with its password replaced). Check never creates a database.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use crate::config::model::{Config, Transport};
use crate::config::{ConfigErrors, Diagnostic, Loaded};
use crate::environment::Places;
use crate::mail::{TemplateError, check_templates};

use super::{Context, block_on};
use crate::store::Records;

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
    render_counting(result, 0)
}

/// [`render`] whose summary also counts `outside` warnings printed before it.
fn render_counting(result: &Result<Loaded, ConfigErrors>, outside: usize) -> String {
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
                loaded.warnings.len() + outside,
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

/// Warnings `hanbao check` finds outside the configuration files (the
/// database's history, the confirmation-link key): printed before the
/// report and counted in its summary line, so the count is every warning
/// shown.
#[derive(Debug, Default)]
pub struct Outside {
    text: String,
    warnings: usize,
}

impl Outside {
    /// Adds the database warnings ([`render_database`]).
    pub fn database(&mut self, warnings: &[String]) {
        self.text.push_str(&render_database(warnings));
        self.warnings += warnings.len();
    }

    /// Adds the confirmation-link warning, if any ([`render_links`]).
    pub fn links(&mut self, daemon: &crate::config::model::Daemon) {
        let text = render_links(daemon);
        if !text.is_empty() {
            self.warnings += 1;
        }
        self.text.push_str(&text);
    }
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

/// The confirmation-link warning of `hanbao check`: with
/// `daemon.public_url` set, emails carry links only when the key file
/// `<state_dir>/link.key` exists and can be read; otherwise say so (and how
/// to create it) rather than let the links silently stay off. Empty when
/// links are off by choice (no `public_url`) or work. Never prints the key.
pub fn render_links(daemon: &crate::config::model::Daemon) -> String {
    if daemon.public_url.is_none() {
        return String::new();
    }
    let path = daemon.state_dir.join(crate::link::LINK_KEY_FILE);
    let problem = match crate::link::Links::configured(daemon) {
        Ok(Some(_)) => return String::new(),
        Ok(None) => format!("chưa có tệp khoá ký liên kết {}", path.display()),
        Err(e) => e.to_string(),
    };
    format!(
        "Cảnh báo về liên kết xác nhận:\n  daemon.public_url đã đặt nhưng {problem}: \
         thư nhắc sẽ không có liên kết \"Xác nhận đã gửi báo cáo\". \
         Tạo khoá: head -c 32 /dev/urandom > {} (chủ sở hữu là người dùng chạy hanbao, quyền 600)\n\n",
        path.display()
    )
}

/// The whole of `hanbao check`: loads the configuration at `path` and, when
/// it is valid, renders every template (built-ins and `mail.templates`
/// overrides, both languages) against sample data. Returns the report and
/// the exit code: a template error is a configuration error (78).
pub fn check(path: &Path) -> (String, u8) {
    report(&crate::config::load(path))
}

/// [`check`] for a configuration already loaded (so callers that add their
/// own sections, such as the database warnings, load it once).
pub fn report(result: &Result<Loaded, ConfigErrors>) -> (String, u8) {
    report_with(result, &Outside::default())
}

/// [`report`] preceded by the warnings found outside the files, all of
/// them counted in the summary line.
pub fn report_with(result: &Result<Loaded, ConfigErrors>, outside: &Outside) -> (String, u8) {
    let template_errors = match result {
        Ok(loaded) => check_templates(loaded.config.mail.templates.as_deref()).err(),
        Err(_) => None,
    };
    let (report, code) = match (result, template_errors) {
        (Ok(loaded), Some(errors)) => (
            render_template_errors(loaded, &errors, outside.warnings),
            EX_CONFIG,
        ),
        _ => (render_counting(result, outside.warnings), exit_code(result)),
    };
    (format!("{}{report}", outside.text), code)
}

/// A valid configuration whose templates do not render.
fn render_template_errors(loaded: &Loaded, errors: &[TemplateError], outside: usize) -> String {
    let mut out = String::new();
    section(&mut out, "Cảnh báo", &loaded.warnings);
    let _ = writeln!(out, "Lỗi trong mẫu thư ({}):", errors.len());
    for e in errors {
        let _ = writeln!(out, "  {e}");
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "Cấu hình KHÔNG hợp lệ: {} lỗi trong mẫu thư (mail.templates), {} cảnh báo. \
         Không lệnh nào chạy với cấu hình này cho đến khi sửa hết lỗi.",
        errors.len(),
        loaded.warnings.len() + outside
    );
    out
}

/// `hanbao check`: where things are, the database warnings and the
/// confirmation-link warning (for a valid configuration), then the report.
pub fn run(ctx: &Context) -> anyhow::Result<ExitCode> {
    let mut result = crate::config::load(&ctx.env.config_path().value);
    let mut outside = Outside::default();
    if let Ok(loaded) = &mut result {
        let places = ctx.env.apply(&mut loaded.config);
        if ctx.verbose {
            eprintln!("{}", places.database_line());
        }
        print!("{}", render_places(&places));
        outside.database(&check_database(&loaded.config, &places));
        outside.links(&loaded.config.daemon);
    }
    let (report, code) = report_with(&result, &outside);
    print!("{report}");
    Ok(ExitCode::from(code))
}

/// Where `hanbao run` (and every other command) keeps things, and how each
/// place was chosen.
pub fn render_places(places: &Places) -> String {
    let mut out = String::from("Nơi lưu trữ (hanbao run và mọi lệnh khác dùng):\n");
    let _ = writeln!(
        out,
        "  Thư mục trạng thái: {} ({})",
        places.state_dir.value.display(),
        places.state_dir.source
    );
    let exists = match places.sqlite_file() {
        Some(file) if file.exists() => " [đã có]",
        Some(_) => " [chưa có; hanbao run sẽ tạo]",
        None => "",
    };
    let _ = writeln!(out, "  {}{exists}", places.database_line());
    if let Some(mail) = &places.mail_dir {
        let _ = writeln!(
            out,
            "  Thư .eml: {} ({})",
            mail.value.display(),
            mail.source
        );
    }
    out.push('\n');
    out
}

/// The database part: warnings for history under ids the configuration no
/// longer has. A SQLite file that does not exist is left alone (check never
/// creates a database).
fn check_database(cfg: &Config, places: &Places) -> Vec<String> {
    if let Some(file) = places.sqlite_file()
        && !file.exists()
    {
        return Vec::new();
    }
    let result = block_on(async {
        let store = crate::store::open(&places.database.value)
            .await
            .map_err(|e| e.to_string())?;
        let known = store.known_ids().await;
        store.close().await;
        known.map_err(|e| e.to_string())
    })
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    match result {
        Ok(known) => {
            let orphans = crate::tracking::orphans(cfg, &known);
            crate::tracking::orphan_warnings(cfg, &orphans)
        }
        Err(e) => vec![format!(
            "không đọc được cơ sở dữ liệu để đối chiếu lịch sử: {e}"
        )],
    }
}
