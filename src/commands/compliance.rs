//! `hanbao compliance`: compliance over a range of periods (the year-end
//! assessment), the dashboard's `/dashboard/compliance` on the command
//! line, from the same functions (`tracking::compliance`,
//! `tracking::sheets`): by default the totals and one line per group; `--csv
//! FILE` one table (`--table`), `--xlsx FILE` the workbook, `--json` one
//! object per line per group and unit. Like `status`, it never creates a
//! database.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use jiff::civil::Date;
use serde::Serialize;

use crate::environment::Access;
use crate::escape::terminal;
use crate::status::Moment;
use crate::tracking::compliance::{self, Compliance, Figures, Range, Table, decimal_vi};
use crate::tracking::sheets;

use super::{Context, block_on, parse_date};

/// Arguments of `hanbao compliance`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// First day of the range (dd/mm/yyyy); the periods that end in it count
    #[arg(long, value_parser = parse_date, requires = "to", conflicts_with = "year")]
    pub from: Option<Date>,
    /// Last day of the range (dd/mm/yyyy)
    #[arg(long, value_parser = parse_date, requires = "from")]
    pub to: Option<Date>,
    /// A calendar year instead of --from/--to (default: this year)
    #[arg(long)]
    pub year: Option<i16>,
    /// The figures as of this day (default: now)
    #[arg(long, value_parser = parse_date)]
    pub at: Option<Date>,
    /// Write one table as CSV to FILE ("-": standard output)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["xlsx", "json"])]
    pub csv: Option<PathBuf>,
    /// The table --csv writes: nhom, don-vi (default), don-vi-bao-cao
    #[arg(long, default_value = "don-vi", requires = "csv")]
    pub table: String,
    /// Write the workbook (three sheets) to FILE
    #[arg(long, value_name = "FILE", conflicts_with = "json")]
    pub xlsx: Option<PathBuf>,
    /// One JSON object per line: each group, then each unit
    #[arg(long)]
    pub json: bool,
}

/// `hanbao compliance`.
pub fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    use std::io::Write as _;
    let table = Table::from_slug(&args.table).ok_or_else(|| {
        anyhow!(
            "--table \"{}\": chọn nhom, don-vi hoặc don-vi-bao-cao",
            args.table
        )
    })?;
    let (cfg, places) = ctx.load()?;
    let c = ctx.tracking(&cfg, None);
    let range = match (args.from, args.to, args.year) {
        (Some(from), Some(to), _) if from > to => {
            return Err(anyhow!(
                "--from {} sau --to {}",
                crate::tracking::dmy(from),
                crate::tracking::dmy(to)
            ));
        }
        (Some(from), Some(to), _) => Range { from, to },
        (_, _, Some(y)) => Range::year(y).ok_or_else(|| anyhow!("--year {y} không hợp lệ"))?,
        _ => Range::year(c.today.year()).expect("this year is valid"),
    };
    let at = match args.at {
        Some(day) => Moment::from(day),
        None => Moment::local(c.now, &cfg.daemon.time_zone),
    };
    let assessed = block_on(async {
        let store = ctx.open_store(&places, Access::Read).await?;
        let r = compliance::compute(&store, &cfg, &c.cal, range, at).await;
        store.close().await;
        r.map_err(|e| anyhow!("{e}"))
    })??;
    let write = |path: &PathBuf, bytes: &[u8]| -> Result<()> {
        if path.as_os_str() == "-" {
            std::io::stdout().lock().write_all(bytes)?;
        } else {
            std::fs::write(path, bytes)
                .map_err(|e| anyhow!("không ghi được {}: {e}", path.display()))?;
        }
        Ok(())
    };
    if let Some(path) = &args.csv {
        write(path, &compliance::csv(&assessed, &cfg, table))?;
    } else if let Some(path) = &args.xlsx {
        write(path, &sheets::workbook(&assessed, &cfg)?)?;
    } else if args.json {
        std::io::stdout()
            .lock()
            .write_all(json(&assessed).as_bytes())?;
    } else {
        std::io::stdout()
            .lock()
            .write_all(text(&assessed, &cfg).as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct JsonLine<'a> {
    group: Option<&'a str>,
    unit: Option<&'a str>,
    #[serde(flatten)]
    figures: &'a Figures,
}

/// One object per line: each group, then each unit.
fn json(c: &Compliance<'_>) -> String {
    let mut out = String::new();
    let groups = c.groups.iter().map(|g| JsonLine {
        group: Some(&g.id),
        unit: None,
        figures: &g.figures,
    });
    let units = c.units.iter().map(|u| JsonLine {
        group: None,
        unit: Some(&u.unit.id),
        figures: &u.figures,
    });
    for line in groups.chain(units) {
        out.push_str(&serde_json::to_string(&line).expect("plain data serialises"));
        out.push('\n');
    }
    out
}

fn line(f: &Figures) -> String {
    let mut s = format!(
        "phải nộp {}, đúng hạn {}, muộn {}",
        f.owed, f.on_time, f.late
    );
    if let (Some(avg), Some(worst)) = (f.average_days_late(), f.days_late_worst) {
        s.push_str(&format!(
            " (trung bình {} ngày, nhiều nhất {worst} ngày)",
            decimal_vi(avg)
        ));
    }
    s.push_str(&format!(", chưa nộp {}", f.never_sent));
    for (n, what) in [
        (f.not_yet_due, "chưa đến hạn"),
        (f.extensions, "gia hạn"),
        (f.waivers, "miễn"),
    ] {
        if n > 0 {
            s.push_str(&format!(", {what} {n}"));
        }
    }
    if let Some(r) = f.on_time_rate() {
        s.push_str(&format!("; đúng hạn {} %", decimal_vi(r * 100.0)));
    }
    s
}

/// The totals and one line per group.
fn text(c: &Compliance<'_>, cfg: &crate::config::model::Config) -> String {
    let mut out = format!(
        "Đánh giá việc nộp báo cáo {} ({} kỳ báo cáo), tính đến ngày {}:\n  Tổng: {}\n",
        c.range.words(),
        c.pairs,
        crate::tracking::dmy(c.at.day),
        line(&c.total)
    );
    for g in &c.groups {
        out.push_str(&format!(
            "  {} ({} đơn vị): {}\n",
            terminal(cfg.group_name(&g.id)),
            g.units,
            line(&g.figures)
        ));
    }
    out.push_str(
        "Từng đơn vị: --csv FILE (--table don-vi hoặc don-vi-bao-cao), --xlsx FILE, --json.\n",
    );
    out
}
