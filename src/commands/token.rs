//! `hanbao token create|list|revoke`: API tokens for `/api/v1`.
//!
//! The secret is printed once, on create, and never stored: the database
//! keeps its SHA-256 (`http::token::hash`). `create` and `revoke` write
//! (a missing database is created only where this invocation chose it),
//! `list` only reads (it never creates one): `environment::Access`.
//! Must not: print or log a secret anywhere else.

use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use jiff::Timestamp;

use crate::config::model::Config;
use crate::environment::Access;
use crate::store::{AnyStore, NewToken, Store, Token, TokenRole};

use super::{Context, block_on};

/// `hanbao token ...`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum Command {
    /// Create a token; its secret is printed once and stored only as a hash
    Create(CreateArgs),
    /// Every token (id, role, unit, name, created, revoked); never secrets
    List,
    /// Revoke a token by id
    Revoke {
        /// Token id (from `hanbao token list`)
        id: i64,
    },
}

/// Arguments of `hanbao token create`.
#[derive(clap::Args, Debug, Clone)]
pub struct CreateArgs {
    /// An administrator token (every unit, extensions and waivers)
    #[arg(long, conflicts_with = "unit", required_unless_present = "unit")]
    pub admin: bool,
    /// A token that acts only for this unit id
    #[arg(long, value_name = "ID")]
    pub unit: Option<String>,
    /// Who holds it (recorded as the actor of every write)
    #[arg(long)]
    pub name: String,
}

/// `hanbao token ...`.
pub fn run(ctx: &Context, cmd: Command) -> Result<ExitCode> {
    let (cfg, places) = ctx.load()?;
    // A new token's holder is checked before the database is opened.
    let (access, new) = match &cmd {
        Command::Create(args) => (Access::Write, Some(checked(&cfg, args)?)),
        Command::List => (Access::Read, None),
        Command::Revoke { .. } => (Access::Write, None),
    };
    let out = block_on(async {
        let store = ctx.open_store(&places, access).await?;
        let out = match (cmd, new) {
            (Command::Revoke { id }, _) => revoke(&store, id).await,
            (_, Some(new)) => create(&store, new).await,
            _ => list(&store).await,
        };
        store.close().await;
        out
    })??;
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// A new token's holder and name, checked against the configuration.
fn checked(cfg: &Config, args: &CreateArgs) -> Result<(TokenRole, String)> {
    let role = match &args.unit {
        None => TokenRole::Admin,
        Some(id) => {
            if cfg.unit(id).is_none() {
                let known: Vec<&str> = cfg.units.iter().map(|u| u.id.as_str()).collect();
                bail!("unknown unit {id:?}{}", super::suggest(id, &known));
            }
            TokenRole::Unit(id.clone())
        }
    };
    let name = args.name.trim();
    if name.is_empty() {
        bail!("--name must not be empty");
    }
    Ok((role, name.to_string()))
}

/// Creates a token; returns the text to print (with the secret, once).
pub async fn create(store: &AnyStore, (role, name): (TokenRole, String)) -> Result<String> {
    let secret = crate::http::token::generate().context("cannot read random bytes")?;
    let t = store
        .create_token(
            NewToken {
                name,
                role,
                hash: crate::http::token::hash(&secret),
            },
            Timestamp::now(),
        )
        .await?;
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
pub async fn list(store: &AnyStore) -> Result<String> {
    let tokens = store.tokens().await?;
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
pub async fn revoke(store: &AnyStore, id: i64) -> Result<String> {
    let t = store.revoke_token(id, Timestamp::now()).await?;
    match t {
        Some(t) => Ok(format!("token {} revoked ({})\n", t.id, describe(&t))),
        None => bail!("no token with id {id} (see `hanbao token list`)"),
    }
}
