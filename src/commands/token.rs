//! `hanbao token create|list|revoke`: tokens for `/api/v1` (administrator,
//! unit) and read-only ones (a unit's calendar feed or every feed;
//! `/metrics`).
//!
//! The secret is printed once, on create, and never stored: the database
//! keeps its SHA-256 (`http::token::hash`). Must not: print or log a secret
//! anywhere else.

use anyhow::{Context, Result, bail};
use jiff::Timestamp;

use crate::config::model::Config;
use crate::store::{self, NewToken, Store, Token, TokenRole};

/// Who the new token is for.
#[derive(Debug, Clone)]
pub enum Holder {
    Admin,
    Unit(String),
    /// Reads calendar feeds only: this unit's, or every feed (`None`).
    Feed(Option<String>),
    /// Reads `/metrics` and the details of `/healthz` only.
    Metrics,
}

fn known_unit(cfg: &Config, id: &str) -> Result<()> {
    if cfg.unit(id).is_none() {
        let known: Vec<&str> = cfg.units.iter().map(|u| u.id.as_str()).collect();
        bail!("unknown unit {id:?}{}", super::suggest(id, &known));
    }
    Ok(())
}

async fn open(cfg: &Config) -> Result<store::AnyStore> {
    let mut cfg = cfg.clone();
    super::run::apply_env_overrides(&mut cfg)?;
    store::open(&cfg.daemon.database_url)
        .await
        .context("cannot open the database")
}

/// Creates a token; returns the text to print (with the secret, once).
pub async fn create(cfg: &Config, holder: Holder, name: &str) -> Result<String> {
    let role = match holder {
        Holder::Admin => TokenRole::Admin,
        Holder::Unit(id) => {
            known_unit(cfg, &id)?;
            TokenRole::Unit(id)
        }
        Holder::Feed(unit) => {
            if let Some(id) = &unit {
                known_unit(cfg, id)?;
            }
            TokenRole::Feed(unit)
        }
        Holder::Metrics => TokenRole::Metrics,
    };
    if name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    let secret = crate::http::token::generate().context("cannot read random bytes")?;
    let store = open(cfg).await?;
    let t = store
        .create_token(
            NewToken {
                name: name.trim().to_string(),
                role,
                hash: crate::http::token::hash(&secret),
            },
            Timestamp::now(),
        )
        .await?;
    store.close().await;
    let usage = match &t.role {
        TokenRole::Feed(Some(u)) => format!("Use it as: /ics/{u}.ics?token=<secret>"),
        TokenRole::Feed(None) => "Use it as: /ics/all.ics?token=<secret> (or /ics/UNIT.ics)".into(),
        _ => "Use it as: Authorization: Bearer <secret>".into(),
    };
    Ok(format!(
        "token {} created ({}). Secret, shown only this once:\n{secret}\n{usage}\n",
        t.id,
        describe(&t)
    ))
}

fn describe(t: &Token) -> String {
    match &t.role {
        TokenRole::Admin => format!("{:?}, admin", t.name),
        TokenRole::Unit(u) => format!("{:?}, unit {u}", t.name),
        TokenRole::Feed(Some(u)) => format!("{:?}, read-only feed of unit {u}", t.name),
        TokenRole::Feed(None) => format!("{:?}, read-only, every feed", t.name),
        TokenRole::Metrics => format!("{:?}, read-only metrics", t.name),
    }
}

/// One line per token: id, role, unit (`*`: every feed), name, created,
/// revoked.
pub async fn list(cfg: &Config) -> Result<String> {
    let store = open(cfg).await?;
    let tokens = store.tokens().await?;
    store.close().await;
    let mut out = String::from("id\trole\tunit\tname\tcreated\trevoked\n");
    for t in &tokens {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            t.id,
            t.role.as_str(),
            match &t.role {
                TokenRole::Feed(None) => "*",
                role => role.unit().unwrap_or("-"),
            },
            t.name,
            t.created_at,
            t.revoked_at
                .map(|r| r.to_string())
                .unwrap_or_else(|| "-".into())
        ));
    }
    Ok(out)
}

/// Revokes a token by id.
pub async fn revoke(cfg: &Config, id: i64) -> Result<String> {
    let store = open(cfg).await?;
    let t = store.revoke_token(id, Timestamp::now()).await?;
    store.close().await;
    match t {
        Some(t) => Ok(format!("token {} revoked ({})\n", t.id, describe(&t))),
        None => bail!("no token with id {id} (see `hanbao token list`)"),
    }
}
