//! Build tasks for hanbao, run from the repository as `cargo xtask TASK`
//! (an alias in `.cargo/config.toml`):
//!
//! - `cargo xtask deb [CARGO-DEB ARGS]`: the Debian package,
//!   `target/debian/hanbao_<version>-1_<arch>.deb`. Generates the man pages
//!   and shell completions, builds the stripped binary (`cargo build
//!   --profile dist --bin hanbao`), then runs `cargo deb --no-build
//!   --profile dist`, which packs the files listed in
//!   `[package.metadata.deb]` of Cargo.toml. Needs `cargo-deb`
//!   (`cargo install cargo-deb`).
//! - `cargo xtask docs DIR`: only the man pages (`DIR/man/*.1.gz`) and the
//!   completions (`DIR/completions/`: `hanbao.bash`, `_hanbao`,
//!   `hanbao.fish`), to look at them.
//!
//! Both read the command line's definition from the library
//! (`hanbao::commands::cli::command`), the one the binary parses, so the
//! pages cannot drift from the flags. Must not: be needed at run time (the
//! installed binary knows nothing of it), or write outside the target
//! directory.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use clap_complete::Shell;

/// Where the package's generated files go, inside the profile's output
/// directory; `[package.metadata.deb]` names them as
/// `target/release/package-docs/...`, which cargo-deb resolves to the
/// profile and target directory it builds with.
const DOCS_SUBDIR: &str = "package-docs";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("deb") => deb(args.collect()),
        Some("docs") => match args.next() {
            Some(dir) => docs(Path::new(&dir)),
            None => Err(anyhow::anyhow!("cargo xtask docs DIR: thiếu thư mục đích")),
        },
        _ => {
            eprintln!(
                "cách dùng: cargo xtask deb [tham số của cargo deb]   (gói .deb)\n\
                 \x20          cargo xtask docs DIR                     (chỉ trang man và bổ sung lệnh)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Generates the documentation into the `dist` profile's directory, then
/// hands over to cargo-deb with the same profile.
fn deb(extra: Vec<String>) -> Result<()> {
    let profile_dir = profile_dir()?;
    docs(&profile_dir.join(DOCS_SUBDIR))?;
    let has_cargo_deb = cargo()
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cargo_deb {
        bail!("chưa có cargo-deb: cài bằng `cargo install cargo-deb` rồi chạy lại");
    }
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("tên thư mục của profile")?
        .to_owned();
    // The binary is built here and cargo-deb told not to build: it would
    // build the whole workspace (tests' support crate included, with other
    // features of shared dependencies, so everything twice) because of the
    // globs under target/release/ in the asset list.
    let build = [
        "build",
        "--package",
        "hanbao",
        "--bin",
        "hanbao",
        "--profile",
    ];
    run(cargo().args(build).arg(&profile))?;
    let deb = ["deb", "--package", "hanbao", "--no-build", "--profile"];
    run(cargo().args(deb).arg(&profile).args(&extra))
}

/// Cargo, for a build of its own: without the variables `cargo run` set
/// for this xtask (`CARGO_PKG_*`, `CARGO_MANIFEST_*`, ...). Build scripts
/// that watch some of them (`rerun-if-env-changed`) would otherwise see
/// them changed, and everything above them (TLS, the database driver,
/// hanbao itself) would be compiled a second time.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let set_by_cargo_run = key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || matches!(
                key,
                "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE"
            );
        if set_by_cargo_run {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("chạy {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} thất bại ({status})");
    }
    Ok(())
}

/// The output directory of the profile this xtask was built with
/// (`target/dist` through the alias): the xtask binary lives in it.
fn profile_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("đường dẫn của xtask")?;
    exe.parent()
        .map(Path::to_path_buf)
        .context("thư mục chứa xtask")
}

/// Man pages (one per command and subcommand, `hanbao.1`,
/// `hanbao-check.1`, ...) and completions for bash, zsh and fish.
fn docs(dir: &Path) -> Result<()> {
    let cmd = hanbao::commands::cli::command();
    let man = dir.join("man");
    let completions = dir.join("completions");
    for d in [&man, &completions] {
        if d.exists() {
            std::fs::remove_dir_all(d).with_context(|| format!("xoá {}", d.display()))?;
        }
        std::fs::create_dir_all(d).with_context(|| format!("tạo {}", d.display()))?;
    }
    clap_mangen::generate_to(cmd.clone(), &man)
        .with_context(|| format!("ghi trang man vào {}", man.display()))?;
    // Compressed as Debian wants them (cargo-deb compresses only files it
    // does not take from the target directory); gzip is essential on Debian.
    run(Command::new("gzip")
        .args(["-9", "-n", "-f"])
        .arg("--")
        .args(
            std::fs::read_dir(&man)?
                .map(|e| e.map(|e| e.path()))
                .collect::<std::io::Result<Vec<_>>>()?,
        ))?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut cmd = cmd.clone();
        clap_complete::generate_to(shell, &mut cmd, "hanbao", &completions)
            .with_context(|| format!("ghi bổ sung lệnh {shell} vào {}", completions.display()))?;
    }
    eprintln!(
        "xtask: trang man trong {}, bổ sung lệnh trong {}",
        man.display(),
        completions.display()
    );
    Ok(())
}
