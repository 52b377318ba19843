//! `hanbao units import FILE`: a unit register from a spreadsheet (.xlsx,
//! .ods) or a CSV file, checked row by row (`register::parse`), written as
//! a TOML units file to include from the main configuration. With any bad
//! row, every problem is listed with its cell and nothing is written.
//!
//! Supervisors, councils and groups may name units and groups the
//! configuration already has, when one loads. Must not: write a partial
//! file, or overwrite one without `--force`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};

use crate::progress::Progress;
use crate::register::{self, RegisterError};

use super::Context;

/// `hanbao units ...`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum Command {
    /// Read a unit list from .xlsx, .ods or .csv (Vietnamese or English
    /// headers) and write a TOML units file, or list every bad cell
    Import(ImportArgs),
}

/// Arguments of `hanbao units import`.
#[derive(clap::Args, Debug, Clone)]
pub struct ImportArgs {
    /// The spreadsheet (.xlsx, .ods) or CSV file (UTF-8)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The TOML file to write [default: don-vi.toml]
    #[arg(long, short, value_name = "PATH", default_value = "don-vi.toml")]
    pub out: PathBuf,
    /// The sheet to read [default: the first]
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Replace the output file if it exists
    #[arg(long)]
    pub force: bool,
}

/// `hanbao units ...`.
pub fn run(ctx: &Context, cmd: Command) -> Result<ExitCode> {
    match cmd {
        Command::Import(args) => import(ctx, args),
    }
}

fn import(ctx: &Context, args: ImportArgs) -> Result<ExitCode> {
    if args.out.exists() && !args.force {
        bail!(
            "{} đã có; chọn tên khác bằng --out, hoặc thêm --force để ghi đè",
            args.out.display()
        );
    }
    // Ids the configuration has already, if there is a valid one.
    let (units, groups) = match ctx.config() {
        Ok(cfg) => (
            cfg.units.iter().map(|u| u.id.clone()).collect::<Vec<_>>(),
            cfg.groups.keys().cloned().collect::<Vec<_>>(),
        ),
        Err(_) => (Vec::new(), Vec::new()),
    };
    let grid = register::sheet::read(&args.file, args.sheet.as_deref())
        .with_context(|| format!("{}", args.file.display()))?;
    let bar = Progress::items(grid.rows.len() as u64, "Kiểm tra từng dòng");
    let parsed = register::parse(&grid, &units, &groups, || bar.inc(1));
    bar.finish();
    let reg = match parsed {
        Ok(reg) => reg,
        Err(RegisterError::Rows(problems)) => {
            let mut text = format!(
                "{}: {} lỗi, không ghi gì:\n",
                args.file.display(),
                problems.len()
            );
            for p in &problems {
                text += &format!("  {p}\n");
            }
            eprint!("{}", crate::escape::terminal_lines(&text));
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e).with_context(|| format!("{}", args.file.display())),
    };
    let source = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = register::to_toml(&reg, &source);
    let part = args.out.with_extension("toml.part");
    std::fs::write(&part, &text).with_context(|| format!("không ghi được {}", part.display()))?;
    std::fs::rename(&part, &args.out)
        .with_context(|| format!("không ghi được {}", args.out.display()))?;
    let mut msg = format!(
        "Đã ghi {} đơn vị vào {}",
        reg.units.len(),
        args.out.display()
    );
    if !reg.new_groups.is_empty() {
        msg += &format!(
            " (và {} nhóm mới: {}; hãy đặt tên cho chúng)",
            reg.new_groups.len(),
            reg.new_groups.join(", ")
        );
    }
    msg += ".\nThêm tệp này vào include của tệp cấu hình chính, rồi chạy hanbao check.\n";
    print!("{}", crate::escape::terminal_lines(&msg));
    Ok(ExitCode::SUCCESS)
}
