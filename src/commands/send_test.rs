//! `hanbao send-test --to ADDRESS`: checks the mail settings by sending one
//! test message through the configured transport.

use anyhow::{Result, bail};
use jiff::Timestamp;

use crate::config::model::Config;

/// Sends the test message; returns a line for the administrator.
pub async fn send_test(mut cfg: Config, to: &str) -> Result<String> {
    super::run::apply_env_overrides(&mut cfg)?;
    match crate::mail::send_test(&cfg.mail, to, Timestamp::now()).await {
        Ok(sent) => Ok(format!(
            "Đã gửi thư thử tới {to}: {} ({})\n",
            sent.message_id, sent.detail
        )),
        Err(e) => bail!("không gửi được thư thử tới {to}: {e}"),
    }
}
