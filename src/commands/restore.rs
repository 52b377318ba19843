//! `hanbao restore FILE`: puts a backup (a SQLite file from `hanbao
//! backup`) in place of the configured SQLite database.
//!
//! The backup is checked first (`store::inspect`: sound, known migrations,
//! a schema no newer than this binary's), copied beside the database under
//! a temporary name and migrated there, then renamed into place. A
//! database that already holds data is replaced only with `--force`, and
//! then kept beside it as `NAME.before-restore-TIME` (with its `-wal`), never
//! deleted. A database another process has open (a running `hanbao run`)
//! is never replaced, `--force` or not: stop the service first. Run as
//! root, the new file gets the owner of the state directory, so the
//! service's user can still write it.
//!
//! Must not: touch the current database before the backup has been
//! checked and migrated, or restore into PostgreSQL (`pg_restore` does).

use std::fs::Permissions;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};

use crate::store;

use super::{Context, block_on, verify_db};

/// Arguments of `hanbao restore`: the same as `hanbao backup`'s (FILE and
/// `--force`), each with its help for restoring ([`FILE_HELP`],
/// [`FORCE_HELP`], put in place by `cli`).
pub use super::backup::Args;

/// What FILE is to `hanbao restore`.
pub const FILE_HELP: &str = "The backup to restore (a SQLite file made by `hanbao backup`)";

/// What `--force` does for `hanbao restore`.
pub const FORCE_HELP: &str =
    "Replace a database that already holds data (it is kept beside it as NAME.before-restore-TIME)";

/// `hanbao restore FILE`.
pub fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let (cfg, places) = ctx.load()?;
    if ctx.verbose {
        eprintln!("{}", places.database_line());
    }
    let Some(target) = places.sqlite_file() else {
        bail!(
            "cơ sở dữ liệu là PostgreSQL: khôi phục bằng pg_restore vào một cơ sở dữ liệu \
             trống (README, mục \"Backups\"), rồi kiểm tra bằng hanbao verify-db"
        );
    };
    let target = std::path::absolute(&target)?;
    let backup_url = verify_db::file_url(&args.file)?;
    let v = block_on(store::inspect(&backup_url))?
        .with_context(|| format!("không đọc được bản sao lưu {}", args.file.display()))?;
    if v.schema.latest > store::SCHEMA_VERSION {
        return Err(store::StoreError::NewerSchema {
            found: v.schema.latest,
            known: store::SCHEMA_VERSION,
        }
        .into());
    }
    if !v.is_ok() || v.schema.latest == 0 {
        bail!(
            "bản sao lưu không dùng được, không khôi phục:\n{}",
            verify_db::render(&args.file.display().to_string(), &v)
        );
    }
    let holds_data = std::fs::metadata(&target).is_ok_and(|m| m.len() > 0);
    if block_on(store::backup::sqlite_in_use(&target))?? {
        bail!(
            "{} đang được một tiến trình khác mở (hanbao run?): dừng dịch vụ trước \
             (systemctl stop hanbao), khôi phục, rồi chạy lại",
            target.display()
        );
    }
    if holds_data && !args.force {
        bail!(
            "{} đã có dữ liệu; thêm --force để thay nó bằng bản sao lưu (bản hiện tại được \
             giữ lại bên cạnh, tên .before-restore-...)",
            target.display()
        );
    }
    let dir = target
        .parent()
        .context("cơ sở dữ liệu không nằm trong thư mục nào")?;
    std::fs::create_dir_all(dir)?;
    let part = dir.join(format!(
        ".{}.restore-{}",
        file_name(&target),
        std::process::id()
    ));
    let restored = prepare(&args.file, &part).and_then(|()| {
        let kept = if holds_data {
            Some(set_aside(&target, &cfg.daemon.time_zone)?)
        } else {
            None
        };
        std::fs::rename(&part, &target)?;
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        Ok(kept)
    });
    if restored.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    let kept = restored?;
    let v = block_on(store::inspect(&verify_db::file_url(&target)?))??;
    let mut text = format!(
        "Đã khôi phục {} vào {}.\n",
        args.file.display(),
        target.display()
    );
    if let Some(kept) = kept {
        text += &format!("Cơ sở dữ liệu trước đó được giữ lại: {}\n", kept.display());
    }
    text += &verify_db::render(&target.display().to_string(), &v);
    print!("{}", crate::escape::terminal_lines(&text));
    Ok(ExitCode::SUCCESS)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Copies the backup to `part` (0600, the state directory's owner when
/// run as root) and migrates it there to this binary's schema.
fn prepare(backup: &Path, part: &Path) -> Result<()> {
    let _ = std::fs::remove_file(part);
    std::fs::copy(backup, part).with_context(|| format!("không chép được {}", backup.display()))?;
    std::fs::set_permissions(part, Permissions::from_mode(0o600))?;
    give_to_directory_owner(part)?;
    let url = verify_db::file_url(part)?;
    block_on(async {
        let s = store::open(&url).await?;
        s.close().await;
        Ok::<_, store::StoreError>(())
    })?
    .context("không nâng cấp được bản sao lưu lên lược đồ của bản hanbao này")?;
    let v = block_on(store::inspect(&url))??;
    if !v.is_ok() {
        bail!("bản sao lưu sau khi nâng cấp không đạt kiểm tra");
    }
    std::fs::File::open(part)?.sync_all()?;
    Ok(())
}

/// Renames the current database (and its `-wal`, `-shm`) to
/// `NAME.before-restore-YYYYMMDDTHHMMSS`; returns the new name.
fn set_aside(target: &Path, tz: &jiff::tz::TimeZone) -> Result<PathBuf> {
    let stamp = jiff::Timestamp::now()
        .to_zoned_datetime(tz.clone())
        .strftime("%Y%m%dT%H%M%S")
        .to_string();
    let kept = target.with_file_name(format!("{}.before-restore-{stamp}", file_name(target)));
    for suffix in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", target.display()));
        if from.exists() {
            std::fs::rename(&from, format!("{}{suffix}", kept.display()))?;
        }
    }
    std::fs::rename(target, &kept)
        .with_context(|| format!("không đổi tên {}", target.display()))?;
    Ok(kept)
}

/// Run as root, gives `file` to the owner of its directory (the service's
/// user owns the state directory); otherwise leaves it as it is.
fn give_to_directory_owner(file: &Path) -> Result<()> {
    if !rustix::process::geteuid().is_root() {
        return Ok(());
    }
    let Some(dir) = file.parent() else {
        return Ok(());
    };
    let meta = std::fs::metadata(dir)?;
    rustix::fs::chown(
        file,
        Some(rustix::fs::Uid::from_raw(meta.uid())),
        Some(rustix::fs::Gid::from_raw(meta.gid())),
    )
    .with_context(|| format!("không đổi chủ sở hữu của {}", file.display()))?;
    Ok(())
}
