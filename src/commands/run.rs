//! `hanbao run`: environment overrides, the database, signals, then the
//! daemon (`daemon::run::serve`).
//!
//! Overrides, applied after validation (so `hanbao check` still judges the
//! files alone):
//! - `HANBAO_DATABASE=URL` replaces `daemon.database`;
//! - `HANBAO_STATE_DIR=DIR` replaces `daemon.state_dir`, and moves with it
//!   the paths derived from it by default (the SQLite file and the .eml
//!   directory), but not paths the files set explicitly;
//! - without `HANBAO_STATE_DIR`, when the state directory is the built-in
//!   default (`/var/lib/hanbao`) and cannot be created or written (a
//!   newcomer without root), `$XDG_STATE_HOME/hanbao` (or
//!   `~/.local/state/hanbao`) is used instead and logged. Under systemd
//!   `StateDirectory=` makes the default writable, so nothing changes there.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::config::model::{Config, Transport};
use crate::config::validate::DEFAULT_STATE_DIR;
use crate::daemon::run::{ReloadFn, Signal, serve};
use crate::store;

/// Moves the state directory to `dir`, with the paths derived from it.
pub fn rebase_state_dir(cfg: &mut Config, dir: &Path) {
    let old = cfg.daemon.state_dir.clone();
    if cfg.daemon.database_url == format!("sqlite://{}/hanbao.db", old.display()) {
        cfg.daemon.database_url = format!("sqlite://{}/hanbao.db", dir.display());
    }
    if let Transport::File { dir: mail_dir } = &mut cfg.mail.transport
        && *mail_dir == old.join("outbox-mail")
    {
        *mail_dir = dir.join("outbox-mail");
    }
    cfg.daemon.state_dir = dir.to_path_buf();
}

fn writable(dir: &Path) -> bool {
    if std::fs::create_dir_all(dir).is_err() {
        return false;
    }
    let probe = dir.join(".hanbao-write-test");
    let ok = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

fn user_state_dir() -> Option<PathBuf> {
    match std::env::var_os("XDG_STATE_HOME") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p).join("hanbao")),
        _ => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".local/state/hanbao")),
    }
}

/// Applies `HANBAO_STATE_DIR`, the no-root fallback and `HANBAO_DATABASE`.
pub fn apply_env_overrides(cfg: &mut Config) -> Result<()> {
    match std::env::var_os("HANBAO_STATE_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            let dir = if dir.is_absolute() {
                dir
            } else {
                // `components` drops the `.` of "./hanbao-state".
                std::env::current_dir()?.join(dir).components().collect()
            };
            rebase_state_dir(cfg, &dir);
        }
        None => {
            if cfg.daemon.state_dir == Path::new(DEFAULT_STATE_DIR)
                && !writable(&cfg.daemon.state_dir)
                && let Some(dir) = user_state_dir()
            {
                tracing::info!(
                    state_dir = %dir.display(),
                    "{DEFAULT_STATE_DIR} is not writable; using a per-user state directory (set HANBAO_STATE_DIR to choose)"
                );
                rebase_state_dir(cfg, &dir);
            }
        }
    }
    if let Ok(url) = std::env::var("HANBAO_DATABASE")
        && !url.is_empty()
    {
        cfg.daemon.database_url = url;
    }
    Ok(())
}

/// Runs the daemon until SIGTERM or SIGINT. `reload` loads and validates
/// the configuration again (on SIGHUP).
pub async fn run(
    mut cfg: Config,
    reload: Arc<dyn Fn() -> Result<Config, String> + Send + Sync>,
) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    apply_env_overrides(&mut cfg)?;
    if let Transport::File { dir } = &cfg.mail.transport {
        tracing::info!(dir = %dir.display(), "mail is written as .eml files");
    }
    let store = store::open(&cfg.daemon.database_url)
        .await
        .context("cannot open the database")?;
    tracing::info!(backend = store.backend(), "database open");
    let reload: ReloadFn = Arc::new(move || {
        let mut cfg = reload()?;
        apply_env_overrides(&mut cfg).map_err(|e| e.to_string())?;
        Ok(cfg)
    });
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        loop {
            let sig = tokio::select! {
                _ = hup.recv() => Signal::Reload,
                _ = term.recv() => Signal::Stop,
                _ = int.recv() => Signal::Stop,
            };
            if tx.send(sig).await.is_err() {
                break;
            }
        }
    });
    serve(store, cfg, reload, rx).await?;
    Ok(())
}
