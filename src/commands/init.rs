//! `hanbao init DIR`: a starter configuration for a coordinating
//! department under the two-tier local government in force since
//! 1 July 2025 (province and communes, wards and special zones; no
//! districts), with Vietnamese comments: `hanbao.toml` (service and mail),
//! `don-vi.toml` (the provincial People's Committee, the department, two
//! communes, their group) and `bao-cao.toml` (half-year and annual reports
//! with reminders and escalation, and the department's compiled report).
//!
//! The files hold placeholders (`<<TINH>>`, `<<SO>>`, `<<MIEN>>`,
//! `<<XA_1>>`, `<<XA_2>>`) that fail `hanbao check` until filled; filled,
//! the configuration passes it. Must not: overwrite a file without
//! `--force`, or read or write anything outside DIR.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};

/// Arguments of `hanbao init`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The directory to write into (created if missing), e.g. /etc/hanbao
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Replace files that already exist
    #[arg(long)]
    pub force: bool,
}

/// The files written, by name.
pub const FILES: [(&str, &str); 3] = [
    ("hanbao.toml", include_str!("init/hanbao.toml")),
    ("don-vi.toml", include_str!("init/don-vi.toml")),
    ("bao-cao.toml", include_str!("init/bao-cao.toml")),
];

/// The distinct placeholders of `text` (`<<NAME>>`), in order of appearance.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<<") {
        let after = &rest[start + 2..];
        let Some(end) = after.find(">>") else { break };
        let name = &after[..end];
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && !found.iter().any(|f| f == name)
        {
            found.push(name.to_string());
        }
        rest = &after[end + 2..];
    }
    found
}

/// `hanbao init DIR`.
pub fn run(args: Args) -> Result<ExitCode> {
    let existing: Vec<String> = FILES
        .iter()
        .map(|(name, _)| args.dir.join(name))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() && !args.force {
        bail!(
            "đã có {}; không ghi đè (thêm --force để thay)",
            existing.join(", ")
        );
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("không tạo được thư mục {}", args.dir.display()))?;
    let mut names = Vec::new();
    for (name, text) in FILES {
        let path = args.dir.join(name);
        std::fs::write(&path, text)
            .with_context(|| format!("không ghi được {}", path.display()))?;
        for p in placeholders(text) {
            if !names.contains(&p) {
                names.push(p);
            }
        }
    }
    let main = args.dir.join("hanbao.toml");
    let text = format!(
        "Đã viết {}, don-vi.toml và bao-cao.toml trong {}.\n\
         Thay các chỗ {} trong ba tệp, rồi kiểm tra:\n  hanbao check --config {}\n",
        main.display(),
        args.dir.display(),
        names
            .iter()
            .map(|n| format!("<<{n}>>"))
            .collect::<Vec<_>>()
            .join(", "),
        main.display()
    );
    print!("{}", crate::escape::terminal_lines(&text));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_once_each() {
        assert_eq!(
            placeholders("a <<TINH>> b <<MIEN>> <<TINH>> <<không>> <<XA_1>>"),
            ["TINH", "MIEN", "XA_1"]
        );
        let all: Vec<String> = FILES.iter().flat_map(|(_, t)| placeholders(t)).collect();
        for p in ["TINH", "SO", "MIEN", "XA_1", "XA_2"] {
            assert!(all.iter().any(|a| a == p), "{p}");
        }
    }
}
