//! `hanbao backup FILE`: a consistent copy of the SQLite database while
//! the daemon runs (`store::backup`: `VACUUM INTO` in one read
//! transaction; sending goes on), written beside FILE under a temporary
//! name, checked with `store::inspect`, made private (0600) and renamed to
//! FILE only when sound. On PostgreSQL it says how to use `pg_dump` and
//! how to check the result (README, "Backups").
//!
//! The files units sent (`<state_dir>/files`) are not in FILE: when they
//! exist, the command says to copy that directory after the database
//! (files are kept before their rows, so a database copied first never
//! names a file the later copy of the directory lacks).
//!
//! Must not: write to the database it copies, or leave a partial FILE.

use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::environment::Access;
use crate::progress::Progress;
use crate::store;

use super::{Context, block_on, verify_db};

/// Arguments of `hanbao backup`, and of `hanbao restore` (with its own help).
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Where to write the copy (a new file)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Replace FILE if it already exists
    #[arg(long)]
    pub force: bool,
}

/// What to do on PostgreSQL instead.
pub const PG_DUMP_HINT: &str = "cơ sở dữ liệu là PostgreSQL: sao lưu bằng pg_dump, ví dụ \
     `pg_dump --format=custom --file=hanbao.dump \"$HANBAO_DATABASE\"`, rồi kiểm tra bản sao \
     bằng cách khôi phục nó vào một cơ sở dữ liệu trống (`createdb hanbao_kiemtra && \
     pg_restore --no-owner --dbname=hanbao_kiemtra hanbao.dump`) và chạy \
     `hanbao verify-db --database postgres://.../hanbao_kiemtra` (README, mục \"Backups\")";

/// `hanbao backup FILE`.
pub fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let (cfg, places) = ctx.load()?;
    if ctx.verbose {
        eprintln!("{}", places.database_line());
    }
    let Some(source) = places.sqlite_file() else {
        bail!("{PG_DUMP_HINT}");
    };
    places.check_access(Access::Read)?;
    let dest = std::path::absolute(&args.file)
        .with_context(|| format!("không tìm được đường dẫn {}", args.file.display()))?;
    if dest.exists() && !args.force {
        bail!(
            "{} đã có; chọn tên tệp khác, hoặc thêm --force để ghi đè",
            dest.display()
        );
    }
    let same = dest
        .canonicalize()
        .ok()
        .zip(source.canonicalize().ok())
        .is_some_and(|(a, b)| a == b);
    if same {
        bail!("{} là chính cơ sở dữ liệu đang dùng", dest.display());
    }
    let part = partial_name(&dest);
    let _ = std::fs::remove_file(&part);
    let url = places.database.value.clone();
    let copied = block_on(copy_with_progress(&url, &part))?;
    let verified = copied.and_then(|()| finish(&part, &dest));
    if verified.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    let v = verified?;
    print!(
        "{}",
        crate::escape::terminal_lines(&format!(
            "Đã sao lưu {} vào {} ({} byte).\n{}",
            places.database_shown(),
            dest.display(),
            std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0),
            verify_db::render(&dest.display().to_string(), &v)
        ))
    );
    let files = crate::files::Blobs::under(&cfg.daemon.state_dir);
    if files.root().exists() {
        print!(
            "{}",
            crate::escape::terminal_lines(&format!(
                "Các tệp báo cáo gửi kèm ({}) không nằm trong bản sao này: hãy sao lưu thư mục \
                 đó riêng, sau bản sao này, ví dụ `rsync -a {}/ <thư mục sao lưu>/files/` \
                 (README, mục \"Backups and upgrades\").\n",
                files.root().display(),
                files.root().display()
            ))
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `.NAME.part-PID` beside `dest`: the same file system, so the rename is
/// atomic.
fn partial_name(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "hanbao-backup".into());
    dest.with_file_name(format!(".{name}.part-{}", std::process::id()))
}

/// The copy, with a bar of the bytes written so far on a terminal.
async fn copy_with_progress(url: &str, part: &Path) -> Result<()> {
    let total = store::backup::size(url).await?.unwrap_or(0);
    let bar = Progress::bytes(total, "Sao lưu");
    let copy = store::backup::backup_sqlite(url, part);
    tokio::pin!(copy);
    let mut every = tokio::time::interval(Duration::from_millis(100));
    let done = loop {
        tokio::select! {
            done = &mut copy => break done,
            _ = every.tick() => {
                if let Ok(m) = std::fs::metadata(part) {
                    bar.set(m.len().min(total));
                }
            }
        }
    };
    bar.finish();
    done.context("sao lưu thất bại")
}

/// Checks the copy, makes it private, syncs it and renames it to `dest`.
fn finish(part: &Path, dest: &Path) -> Result<store::Verification> {
    let v = block_on(store::inspect(&verify_db::file_url(part)?))?
        .context("không kiểm tra được bản sao")?;
    if !v.is_ok() {
        bail!(
            "bản sao không đạt kiểm tra, không giữ lại:\n{}",
            verify_db::render(&part.display().to_string(), &v)
        );
    }
    std::fs::set_permissions(part, Permissions::from_mode(0o600))?;
    std::fs::File::open(part)?.sync_all()?;
    std::fs::rename(part, dest)
        .with_context(|| format!("không đổi tên {} thành {}", part.display(), dest.display()))?;
    if let Some(dir) = dest.parent() {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(v)
}
