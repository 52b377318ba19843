//! `hanbao token create|list|revoke`: API tokens for `/api/v1`.
//!
//! The secret is printed once, on create, and never stored: the database
//! keeps its SHA-256 (`http::token::hash`). Must not: print or log a secret
//! anywhere else.

use anyhow::{Context, Result, bail};
use jiff::Timestamp;

use crate::config::model::Config;
use crate::store::{self, NewToken, Token, TokenRole, Tokens};

/// Who the new token is for.
#[derive(Debug, Clone)]
pub enum Holder {
    Admin,
    Unit(String),
}

async fn open(cfg: &Config) -> Result<store::Store> {
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
            if cfg.unit(&id).is_none() {
                let known: Vec<&str> = cfg.units.iter().map(|u| u.id.as_str()).collect();
                bail!("unknown unit {id:?}{}", super::suggest(&id, &known));
            }
            TokenRole::Unit(id)
        }
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
    Ok(format!(
        "token {} created ({}). Secret, shown only this once:\n{secret}\nUse it as: Authorization: Bearer <secret>\n",
        t.id,
        describe(&t)
    ))
}

fn describe(t: &Token) -> String {
    match &t.role {
        TokenRole::Admin => format!("{:?}, admin", t.name),
        TokenRole::Unit(u) => format!("{:?}, unit {u}", t.name),
    }
}

/// One line per token: id, role, unit, name, created, revoked.
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
            t.role.unit().unwrap_or("-"),
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
