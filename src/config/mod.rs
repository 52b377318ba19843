//! Configuration: TOML files -> validated [`model::Config`].
//!
//! Two stages, as in ripgrep: `raw` mirrors the files (with spans for error
//! messages), `validate` turns it into the model and collects every problem.
//! `load` reads the files (the only IO here, behind [`load::Source`]): it
//! decodes them (`encoding`: UTF-8 only, anything else named), refuses
//! control characters in any text (`controls`), and deserialises each
//! section and element on its own (`de`, parser messages in Vietnamese
//! through `toml_errors`); `report` gathers the diagnostics (`diagnostic`)
//! both stages find;
//! `values` holds the small pure parsers of dates, offsets and period keys,
//! `cron` the check of cron expressions (shared with `daemon::schedule`).
//! Nothing in this module reads the clock or logs secrets, and nothing in it
//! imports a module above it (daemon, mail, store, http, commands).

mod controls;
pub mod cron;
mod de;
pub mod diagnostic;
pub mod encoding;
pub mod load;
pub mod model;
pub mod raw;
pub mod report;
pub mod toml_errors;
pub mod validate;
pub mod values;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub use diagnostic::{ConfigErrors, Diagnostic, Loaded, Severity};
use load::{FsSource, MemSource, Source};
use report::Reporter;

/// Reads, checks and validates the configuration whose main file is `path`.
pub fn load(path: &Path) -> Result<Loaded, ConfigErrors> {
    load_from(&FsSource, path)
}

/// Like [`load`] for one file held in memory, named `name` in messages.
/// Includes resolve against other in-memory files only, so there are none.
pub fn load_str(name: &str, text: &str) -> Result<Loaded, ConfigErrors> {
    load_files(name, &[(name, text)])
}

/// Like [`load`] with every file given in memory as (path, text); `main` is one of them.
pub fn load_files(main: &str, files: &[(&str, &str)]) -> Result<Loaded, ConfigErrors> {
    let map: BTreeMap<_, _> = files
        .iter()
        .map(|(p, t)| (load::normalize(Path::new(p)), (*t).to_string()))
        .collect();
    load_from(&MemSource(map), Path::new(main))
}

/// Loads from any [`Source`].
pub fn load_from(source: &dyn Source, path: &Path) -> Result<Loaded, ConfigErrors> {
    let mut rep = Reporter::default();
    let collected = load::collect(source, path, &mut rep);
    let config = validate::validate(&collected, &mut rep);
    // Messages in file order (main file first), then by position.
    let order: HashMap<_, _> = rep
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.clone(), i))
        .collect();
    rep.diags.sort_by_key(|d| {
        (
            order.get(&d.file).copied().unwrap_or(usize::MAX),
            d.line,
            d.column,
        )
    });
    let (errors, warnings): (Vec<_>, Vec<_>) = rep
        .diags
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    match config {
        Some(config) if errors.is_empty() => Ok(Loaded { config, warnings }),
        _ => Err(ConfigErrors { errors, warnings }),
    }
}
