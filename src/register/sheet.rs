//! Reading a unit register from a file: `.xlsx`, `.xlsm`, `.xls` and
//! `.ods` through `calamine` (the first sheet, or the one named), `.csv`
//! through `csv` (UTF-8, a BOM allowed; `,` or `;` as saved by
//! LibreOffice and Excel). Every cell comes back as text with its place
//! (row and column from 0, as the sheet numbers them), so that problems
//! can name the cell ("C7").
//!
//! Numbers are written without a useless ".0" (an id typed as 12 is "12");
//! a leading zero a spreadsheet dropped cannot be recovered: store such
//! ids as text. Must not: interpret the cells (that is `register`).

use std::path::Path;

use calamine::{Data, Reader as _};

use super::{Grid, RegisterError};

/// The cells of `path` (its sheet `sheet`, or the first).
pub fn read(path: &Path, sheet: Option<&str>) -> Result<Grid, RegisterError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "csv" | "txt" => read_csv(path),
        "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => read_sheet(path, sheet),
        _ => Err(RegisterError::Format(ext)),
    }
}

fn read_sheet(path: &Path, sheet: Option<&str>) -> Result<Grid, RegisterError> {
    let mut book =
        calamine::open_workbook_auto(path).map_err(|e| RegisterError::Read(e.to_string()))?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .cloned()
            .ok_or_else(|| RegisterError::NoSheet {
                wanted: s.to_string(),
                found: names.clone(),
            })?,
        None => names.first().cloned().ok_or(RegisterError::Empty)?,
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| RegisterError::Read(e.to_string()))?;
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let mut cells = Vec::new();
    for (r, row) in range.rows().enumerate() {
        let texts: Vec<String> = row.iter().map(text).collect();
        cells.push((row0 as usize + r, col0 as usize, texts));
    }
    Ok(Grid { rows: cells })
}

/// A cell as text.
fn text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => dt.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn read_csv(path: &Path) -> Result<Grid, RegisterError> {
    let bytes = std::fs::read(path).map_err(|e| RegisterError::Read(e.to_string()))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| RegisterError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (r, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| RegisterError::Read(e.to_string()))?;
        rows.push((r, 0, rec.iter().map(str::to_string).collect()));
    }
    Ok(Grid { rows })
}
