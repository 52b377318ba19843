//! `hanbao export`: the status table as CSV for LibreOffice and Excel
//! (UTF-8 with BOM, CRLF), to standard output or a file. The rows and the
//! CSV are `status`'s; like it, export never creates a database.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use super::Context;
use super::status::{Filters, with_status};
use crate::tracking::csv;

/// Arguments of `hanbao export`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[command(flatten)]
    pub filters: Filters,
    /// CSV output (the only format; accepted for clarity)
    #[arg(long)]
    pub csv: bool,
    /// Write to this file instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `hanbao export`.
pub fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    use std::io::Write as _;
    with_status(ctx, &args.filters, |rows, _, _| {
        let bytes = csv(rows);
        match &args.output {
            Some(path) => std::fs::write(path, bytes)
                .map_err(|e| anyhow::anyhow!("không ghi được {}: {e}", path.display()))?,
            None => std::io::stdout().lock().write_all(&bytes)?,
        }
        Ok(())
    })
}
