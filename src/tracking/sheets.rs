//! The compliance assessment as an Excel workbook (.xlsx): one sheet per
//! table of `compliance` ("Theo nhóm", "Theo đơn vị", "Theo đơn vị và
//! báo cáo"), each with a bold frozen header and an autofilter; counts as
//! numbers, means with one decimal, the on-time rate as a percentage. The
//! cells hold what the CSV holds (`compliance::csv`), the same rows in the
//! same order; text is written with `write_string`, so no cell is ever a
//! formula, whatever a name in the configuration starts with.
//!
//! The only module that imports `rust_xlsxwriter`. Built in memory (about
//! 1 MB for a national year).
//!
//! Must not: read the clock, the store or files; write anything but the
//! returned bytes.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::config::model::Config;

use super::compliance::{Cell, Compliance, Table};

/// The workbook could not be assembled (a limit of the format, such as
/// more than 1,048,576 rows).
#[derive(Debug, thiserror::Error)]
#[error("không tạo được tệp Excel: {0}")]
pub struct SheetError(#[from] XlsxError);

/// The assessment as .xlsx bytes.
pub fn workbook(c: &Compliance<'_>, cfg: &Config) -> Result<Vec<u8>, SheetError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold().set_text_wrap();
    let decimal = Format::new().set_num_format("0.0");
    let percent = Format::new().set_num_format("0.0%");
    for table in Table::ALL {
        let sheet = book.add_worksheet();
        sheet.set_name(table.title())?;
        let header = table.header();
        for (col, name) in header.iter().enumerate() {
            let col = col as u16;
            sheet.write_string_with_format(0, col, *name, &bold)?;
            sheet.set_column_width(col, if col < 2 { 28 } else { 12 })?;
        }
        let mut row: u32 = 0;
        let mut failed: Option<XlsxError> = None;
        super::compliance::each_row(c, cfg, table, |cells| {
            if failed.is_some() {
                return;
            }
            row += 1;
            for (col, cell) in cells.iter().enumerate() {
                let col = col as u16;
                let written = match cell {
                    Cell::Text(t) => sheet.write_string(row, col, t.as_ref()).map(|_| ()),
                    Cell::Count(n) => sheet.write_number(row, col, *n as f64).map(|_| ()),
                    Cell::Decimal(Some(v)) => sheet
                        .write_number_with_format(row, col, *v, &decimal)
                        .map(|_| ()),
                    Cell::Percent(Some(v)) => sheet
                        .write_number_with_format(row, col, *v, &percent)
                        .map(|_| ()),
                    Cell::Decimal(None) | Cell::Percent(None) => Ok(()),
                };
                if let Err(e) = written {
                    failed = Some(e);
                    return;
                }
            }
        });
        if let Some(e) = failed {
            return Err(e.into());
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofilter(0, 0, row.max(1), (header.len() - 1) as u16)?;
    }
    Ok(book.save_to_buffer()?)
}
