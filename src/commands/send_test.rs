//! `hanbao send-test --to ADDRESS`: checks the mail settings by sending one
//! test message through the configured transport (for the file transport,
//! into the .eml directory every command resolves). No database.

use std::process::ExitCode;

use anyhow::{Result, bail};
use jiff::Timestamp;

use crate::config::model::Config;

use super::{Context, block_on};

/// Arguments of `hanbao send-test`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Recipient address
    #[arg(long, value_name = "ADDRESS")]
    pub to: String,
}

/// `hanbao send-test`.
pub fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let cfg = ctx.config()?;
    print!("{}", block_on(send_test(&cfg, &args.to))??);
    Ok(ExitCode::SUCCESS)
}

/// Sends the test message; returns a line for the administrator.
pub async fn send_test(cfg: &Config, to: &str) -> Result<String> {
    match crate::mail::send_test(&cfg.mail, to, Timestamp::now()).await {
        Ok(sent) => Ok(format!(
            "Đã gửi thư thử tới {to}: {} ({})\n",
            sent.message_id, sent.detail
        )),
        Err(e) => bail!("không gửi được thư thử tới {to}: {e}"),
    }
}
