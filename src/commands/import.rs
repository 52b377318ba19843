//! `hanbao import FILE.csv`: bulk submissions, all or nothing.
//!
//! Columns (header row required, any order, case-insensitive; Vietnamese
//! names accepted): `obligation` (nghĩa vụ), `period` (kỳ), `unit` (đơn vị),
//! `received_on` (ngày nhận; dd/mm/yyyy or YYYY-MM-DD) are required;
//! `reference` (số văn bản), `note` (ghi chú), `by` (người ghi) and
//! `correction` (sửa; có/không, yes/no, x, 1/0) are optional. UTF-8 with or
//! without a BOM; comma or semicolon separated.
//!
//! Every row is checked first, against the configuration (ids, period,
//! who owes it), against the rules of `input` (received day inside the
//! period and not after today, lengths and control characters of
//! reference, note and `by`) and against what the database has in effect
//! (a different submission needs `correction`); every problem is reported
//! with its file line and column (the first [`MAX_LISTED`], then how many
//! more), and nothing is written unless all rows pass. The write itself is
//! the store's single transaction. Never reads the clock.
//!
//! Bounds: a file of at most [`MAX_FILE_BYTES`] and [`MAX_ROWS`] data rows
//! (refused whole otherwise, before any row is checked).
//!
//! Who is recorded: the person who runs the import (`--by`, else
//! `$SUDO_USER`, `$USER`). A row's `by` names someone else only as
//! `<runner> (ghi thay <by>)`, so an import can never write under another
//! actor's name unmarked (`token:1:...` of the API, `link:...` of the
//! confirmation page, a colleague's name).

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};

use crate::config::values::parse_date;
use crate::environment::Access;
use crate::input;
use crate::store::{Key, NewSubmission, Source, Store, StoreError};
use crate::tracking::{self, TrackingError, dmy};

use super::Context;
use super::record::{Ctx, Outcome, recording, store_message};
use crate::store::Records;

/// Arguments of `hanbao import`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// CSV file (see `hanbao import --help` and the README for the columns)
    pub file: PathBuf,
    /// Who records rows without a `by` column [default: $SUDO_USER, then $USER]
    #[arg(long)]
    pub by: Option<String>,
}

/// The largest file `hanbao import` reads (16 MiB: about 100,000 rows
/// with notes).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// The most data rows one import takes.
pub const MAX_ROWS: usize = 100_000;
/// The most problems listed (their total is always said).
pub const MAX_LISTED: usize = 50;
/// The longest problem listed, in characters (a value it quotes is cut).
pub const MAX_PROBLEM_CHARS: usize = 240;

/// `hanbao import FILE.csv`: a writing command (see `environment::Access`).
pub fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let by = input::actor(args.by.as_deref()).map_err(|p| anyhow!("--by: {p}"))?;
    let bytes = read_bounded(&args.file)?;
    let name = crate::escape::terminal(&args.file.display().to_string()).into_owned();
    recording(ctx, Access::Write, by.as_deref(), async |s, c| {
        import_csv(s, c, &name, &bytes).await
    })
}

/// The file's bytes, refused when over [`MAX_FILE_BYTES`] (read at most
/// one byte more than that, whatever the file claims to be).
fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let shown = path.display();
    let cannot = |e: std::io::Error| anyhow!("không đọc được {shown}: {e}");
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        bail!(
            "tệp {shown} lớn hơn {} MiB, giới hạn của một lần nhập; hãy chia thành nhiều tệp (mỗi tệp tối đa {MAX_ROWS} dòng)",
            MAX_FILE_BYTES / 1024 / 1024
        );
    }
    Ok(bytes)
}

/// The columns, with the header names accepted for each.
const COLUMNS: [(&str, &[&str]); 8] = [
    (
        "obligation",
        &["obligation", "nghĩa vụ", "nghia_vu", "nghia vu"],
    ),
    ("period", &["period", "kỳ", "ky"]),
    ("unit", &["unit", "đơn vị", "don_vi", "don vi"]),
    (
        "received_on",
        &["received_on", "ngày nhận", "ngay_nhan", "ngay nhan"],
    ),
    (
        "reference",
        &["reference", "số văn bản", "so_van_ban", "so van ban"],
    ),
    ("note", &["note", "ghi chú", "ghi_chu", "ghi chu"]),
    ("by", &["by", "người ghi", "nguoi_ghi", "nguoi ghi"]),
    ("correction", &["correction", "sửa", "sua"]),
];

const REQUIRED: [&str; 4] = ["obligation", "period", "unit", "received_on"];

/// One problem, at a file line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub column: Option<&'static str>,
    pub message: String,
}

/// The message as listed: control characters escaped.
impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let message = crate::escape::terminal(&self.message);
        match self.column {
            Some(c) => write!(f, "dòng {}, cột {c}: {message}", self.line),
            None => write!(f, "dòng {}: {message}", self.line),
        }
    }
}

/// A problem; its message is cut at [`MAX_PROBLEM_CHARS`] characters (a
/// long value quoted from the file), so a bad file never makes a report,
/// or a list of problems in memory, larger than itself.
fn err(line: u64, column: Option<&'static str>, message: impl Into<String>) -> RowError {
    let mut message = message.into();
    if let Some((at, _)) = message.char_indices().nth(MAX_PROBLEM_CHARS) {
        message.truncate(at);
        message.push('…');
    }
    RowError {
        line,
        column,
        message,
    }
}

fn parse_flag(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().as_str() {
        "" | "0" | "no" | "false" | "không" | "khong" | "n" => Some(false),
        "1" | "yes" | "true" | "có" | "co" | "x" | "y" => Some(true),
        _ => None,
    }
}

/// Parses and checks the file against the configuration: the submissions
/// with their file lines, or every problem found.
pub fn parse(
    ctx: &Ctx<'_>,
    bytes: &[u8],
    default_actor: &str,
) -> Result<Vec<(u64, NewSubmission)>, Vec<RowError>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            return Err(vec![err(
                line,
                None,
                "tệp không phải UTF-8; hãy lưu lại dưới dạng CSV UTF-8",
            )]);
        }
    };
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut errors = Vec::new();
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![err(
                1,
                None,
                format!("không đọc được dòng tiêu đề: {e}"),
            )]);
        }
    };
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let name = h.trim().to_lowercase();
        match COLUMNS
            .iter()
            .find(|(_, names)| names.contains(&name.as_str()))
        {
            Some((col, _)) => {
                if index.insert(col, i).is_some() {
                    errors.push(err(1, Some(col), "cột bị lặp lại"));
                }
            }
            None => errors.push(err(
                1,
                None,
                format!(
                    "cột \"{}\" không được hỗ trợ; các cột: {}",
                    h.trim(),
                    COLUMNS.map(|(c, _)| c).join(", ")
                ),
            )),
        }
    }
    for col in REQUIRED {
        if !index.contains_key(col) {
            errors.push(err(1, Some(col), "thiếu cột bắt buộc"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = Vec::new();
    let records = data_rows(&mut reader)?;
    for rec in &records {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(e.clone());
                continue;
            }
        };
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.len() != headers.len() {
            errors.push(err(
                line,
                None,
                format!("có {} cột, dòng tiêu đề có {}", rec.len(), headers.len()),
            ));
            continue;
        }
        let fields = Fields { index: &index, rec };
        if let Some(sub) = check_row(ctx, line, &fields, default_actor, &mut errors) {
            out.push((line, sub));
        }
    }
    if records.is_empty() && errors.is_empty() {
        errors.push(err(1, None, "tệp không có dòng dữ liệu nào"));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The data rows that are not blank (or why one cannot be read), all read
/// before any is checked: a file of more than [`MAX_ROWS`] is refused
/// whole, at once.
fn data_rows<R: std::io::Read>(
    reader: &mut ::csv::Reader<R>,
) -> Result<Vec<Result<::csv::StringRecord, RowError>>, Vec<RowError>> {
    let mut rows = Vec::new();
    for rec in reader.records() {
        let row = match rec {
            Ok(r) if r.iter().all(|f| f.trim().is_empty()) => continue,
            Ok(r) => Ok(r),
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                Err(err(line, None, format!("dòng CSV không hợp lệ: {e}")))
            }
        };
        if rows.len() == MAX_ROWS {
            let line = match &row {
                Ok(r) => r.position().map(|p| p.line()).unwrap_or(0),
                Err(e) => e.line,
            };
            return Err(vec![err(
                line,
                None,
                format!(
                    "tệp có hơn {MAX_ROWS} dòng dữ liệu, giới hạn của một lần nhập; hãy chia thành nhiều tệp"
                ),
            )]);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// One data row's fields, by column name (trimmed; empty when absent).
struct Fields<'r> {
    index: &'r HashMap<&'static str, usize>,
    rec: &'r ::csv::StringRecord,
}

impl<'r> Fields<'r> {
    fn get(&self, col: &str) -> &'r str {
        self.index
            .get(col)
            .and_then(|&i| self.rec.get(i))
            .map(str::trim)
            .unwrap_or("")
    }
}

/// Checks one data row against the configuration and the rules of
/// `input`: its submission, or every problem added to `errors`.
fn check_row(
    ctx: &Ctx<'_>,
    line: u64,
    f: &Fields<'_>,
    default_actor: &str,
    errors: &mut Vec<RowError>,
) -> Option<NewSubmission> {
    let get = |col: &str| f.get(col);
    let mut ok = true;
    for col in REQUIRED {
        if get(col).is_empty() {
            errors.push(err(line, Some(col), "bỏ trống"));
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    let (ob, period, unit) = (get("obligation"), get("period"), get("unit"));
    // The first day of the period's window; unknown when the key is not
    // owed (already a problem), and then no receipt day is too early.
    let opens = match tracking::resolve(ctx.cfg, &ctx.cal, ob, period, unit) {
        Ok(d) => d.window.start,
        Err(e) => {
            let column = match &e {
                TrackingError::UnknownObligation { .. } => "obligation",
                TrackingError::UnknownPeriod { .. } => "period",
                _ => "unit",
            };
            errors.push(err(line, Some(column), e.to_string()));
            ok = false;
            jiff::civil::Date::MIN
        }
    };
    let by = match input::actor(Some(get("by"))) {
        Ok(by) => by,
        Err(problems) => {
            for p in problems.iter() {
                errors.push(err(line, Some("by"), p.to_string()));
            }
            ok = false;
            None
        }
    };
    let typed = match parse_date(get("received_on")) {
        Ok(d) => {
            let typed = input::Submission {
                received_on: d,
                reference: Some(get("reference")),
                note: Some(get("note")),
            };
            match input::submission(typed, opens, ctx.today) {
                Ok(c) => Some(c),
                Err(problems) => {
                    for p in problems.iter() {
                        errors.push(err(line, Some(p.field().as_str()), p.to_string()));
                    }
                    None
                }
            }
        }
        Err(e) => {
            errors.push(err(
                line,
                Some("received_on"),
                format!(
                    "{e}: \"{}\" (dùng dd/mm/yyyy hoặc YYYY-MM-DD)",
                    get("received_on")
                ),
            ));
            None
        }
    };
    let correction = match parse_flag(get("correction")) {
        Some(c) => c,
        None => {
            errors.push(err(
                line,
                Some("correction"),
                format!("\"{}\" không phải có/không", get("correction")),
            ));
            ok = false;
            false
        }
    };
    let (true, Some(typed)) = (ok, typed) else {
        return None;
    };
    Some(NewSubmission {
        key: Key::new(ob, period, unit),
        received_on: typed.received_on,
        received_at: None,
        reference: typed.reference,
        note: typed.note,
        actor: actor(default_actor, by.as_deref()),
        source: Source::Import,
        correction,
    })
}

/// Who an imported row is recorded as: the person running the import;
/// with a `by` naming someone else, marked as written on their behalf.
pub fn actor(runner: &str, by: Option<&str>) -> String {
    match by {
        Some(by) if by != runner => format!("{runner} (ghi thay {by})"),
        _ => runner.to_owned(),
    }
}

/// The parts of a submission that make two submissions "the same".
#[derive(Debug, PartialEq, Eq)]
struct Effect {
    received_on: jiff::civil::Date,
    received_at: Option<jiff::Timestamp>,
    reference: Option<String>,
    note: Option<String>,
}

fn clean(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// Checks the rows against what the database has in effect and against
/// each other, reporting every conflict (the store re-checks inside its
/// transaction).
pub async fn check_against_store(
    store: &Store,
    ctx: &Ctx<'_>,
    rows: &[(u64, NewSubmission)],
) -> Result<Vec<RowError>> {
    let mut pairs: Vec<(String, String)> = rows
        .iter()
        .map(|(_, s)| (s.key.obligation.clone(), s.key.period.clone()))
        .collect();
    pairs.sort();
    pairs.dedup();
    // What is in effect per key, and the file line that put it there.
    let mut effect: HashMap<Key, (Effect, Option<u64>)> = HashMap::new();
    for (o, p) in &pairs {
        for st in store.current(o, p).await? {
            if let Some(s) = st.submission {
                let e = Effect {
                    received_on: s.received_on,
                    received_at: s.received_at,
                    reference: s.reference,
                    note: s.note,
                };
                effect.insert(st.key, (e, None));
            }
        }
    }
    let mut errors = Vec::new();
    for (line, s) in rows {
        let mine = Effect {
            received_on: s.received_on,
            received_at: None,
            reference: clean(&s.reference).map(str::to_owned),
            note: clean(&s.note).map(str::to_owned),
        };
        match effect.get(&s.key) {
            Some((cur, _)) if *cur == mine => continue,
            Some((_, Some(earlier))) if !s.correction => errors.push(err(
                *line,
                None,
                format!(
                    "{}: khác với dòng {earlier} của cùng tệp; đánh dấu cột correction hoặc bỏ một dòng",
                    s.key
                ),
            )),
            Some((cur, None)) if !s.correction => errors.push(err(
                *line,
                None,
                format!(
                    "{}: đã có một báo cáo khác được ghi nhận (nhận ngày {}, số văn bản {}); muốn thay thì ghi \"có\" ở cột correction",
                    s.key,
                    dmy(cur.received_on),
                    cur.reference.as_deref().unwrap_or("không có")
                ),
            )),
            None if s.correction => errors.push(err(
                *line,
                Some("correction"),
                format!("{}: chưa có báo cáo nào để sửa", s.key),
            )),
            _ => {}
        }
        effect.insert(s.key.clone(), (mine, Some(*line)));
    }
    let _ = ctx;
    Ok(errors)
}

/// The whole import: parse, check, write all or nothing.
pub async fn import_csv(store: &Store, ctx: &Ctx<'_>, name: &str, bytes: &[u8]) -> Result<Outcome> {
    let rows = match parse(ctx, bytes, &ctx.default_actor) {
        Ok(rows) => rows,
        Err(errors) => return Ok(refusal(name, &errors)),
    };
    let errors = check_against_store(store, ctx, &rows).await?;
    if !errors.is_empty() {
        return Ok(refusal(name, &errors));
    }
    let lines: Vec<u64> = rows.iter().map(|(l, _)| *l).collect();
    let subs: Vec<NewSubmission> = rows.into_iter().map(|(_, s)| s).collect();
    let n = subs.len();
    match store.import_submissions(subs, ctx.now).await {
        Ok(r) => Ok(Outcome {
            text: format!(
                "Đã nhập {name}: {n} dòng; {} báo cáo mới, {} sửa, {} đã có sẵn (không ghi thêm).\n",
                r.submitted, r.corrected, r.unchanged
            ),
            code: 0,
        }),
        Err(StoreError::ImportRow { row, source }) => {
            let line = lines.get(row - 1).copied().unwrap_or(0);
            Ok(refusal(
                name,
                &[err(line, None, store_message(ctx.cfg, &source))],
            ))
        }
        Err(StoreError::ImportDuplicate {
            row,
            earlier_row,
            key,
        }) => {
            let line = lines.get(row - 1).copied().unwrap_or(0);
            let earlier = lines.get(earlier_row - 1).copied().unwrap_or(0);
            Ok(refusal(
                name,
                &[err(
                    line,
                    None,
                    format!("{key}: khác với dòng {earlier} của cùng tệp"),
                )],
            ))
        }
        Err(e) => bail!("{}", store_message(ctx.cfg, &e)),
    }
}

/// The refusal: how many problems, the first [`MAX_LISTED`] of them, and
/// how many more were not listed.
fn refusal(name: &str, errors: &[RowError]) -> Outcome {
    let mut text = format!(
        "Không nhập {name}: {} lỗi, không ghi dòng nào.\n",
        errors.len()
    );
    for e in errors.iter().take(MAX_LISTED) {
        text.push_str(&format!("  {e}\n"));
    }
    if errors.len() > MAX_LISTED {
        text.push_str(&format!(
            "  … và {} lỗi khác không liệt kê (chỉ liệt kê {MAX_LISTED} lỗi đầu); sửa các lỗi trên rồi nhập lại để xem tiếp.\n",
            errors.len() - MAX_LISTED
        ));
    }
    Outcome { text, code: 1 }
}
