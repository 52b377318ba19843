//! `hanbao run`: the configuration and the places (`environment`), the
//! database, signals, then the daemon (`daemon::run::serve`).
//!
//! The daemon owns its database: it creates a missing SQLite file (and its
//! directory) wherever the state directory or database was chosen, and
//! logs where at start. On SIGHUP the configuration is loaded again through
//! the same prelude as every command (`commands::load`), so the flags and
//! environment variables keep their meaning after a reload.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result};

use crate::config::model::Transport;
use crate::daemon::clock::Clock;
use crate::daemon::run::{ReloadFn, serve};
use crate::environment::{Access, Source};

use super::{Context, block_on};

/// `hanbao run`: until SIGTERM or SIGINT; SIGHUP reloads.
pub fn run(ctx: &Context) -> Result<ExitCode> {
    let (cfg, places) = ctx.load()?;
    if places.state_dir.source == Source::PerUser {
        tracing::info!(
            state_dir = %places.state_dir.value.display(),
            "không ghi được vào thư mục trạng thái mặc định; dùng thư mục riêng của người dùng này (chọn nơi khác bằng --state-dir hoặc HANBAO_STATE_DIR)"
        );
    }
    let clock = match ctx.env.test_clock() {
        Some(value) => Clock::parse_test(value).map_err(anyhow::Error::msg)?,
        None => Clock::System,
    };
    let env = ctx.env.clone();
    let reload: ReloadFn =
        Arc::new(move || super::load(&env).map(|(cfg, _)| cfg).map_err(|e| e.report));
    block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        if let Transport::File { dir } = &cfg.mail.transport {
            tracing::info!(
                dir = %dir.display(),
                "thư được ghi thành tệp .eml trong thư mục này, không gửi đi (mail.transport = \"file\")"
            );
        }
        let store = ctx.open_store(&places, Access::Own).await?;
        tracing::info!(
            backend = store.backend(),
            database = %places.database_shown(),
            state_dir = %places.state_dir.value.display(),
            "đã mở cơ sở dữ liệu"
        );
        let mut hup = signal(SignalKind::hangup())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let (reloads, asked) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                if reloads.send(()).await.is_err() {
                    break;
                }
            }
        });
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        };
        serve(store, cfg, reload, asked, shutdown, clock)
            .await
            .context("daemon dừng vì lỗi")
    })??;
    Ok(ExitCode::SUCCESS)
}
