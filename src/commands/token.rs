//! `hanbao token create|list|revoke`: tokens for `/api/v1` (administrator,
//! unit) and read-only ones (a unit's calendar feed or every feed;
//! `/metrics`).
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
#[command(group(clap::ArgGroup::new("kind").required(true).multiple(true)
    .args(["admin", "unit", "feed", "metrics"])))]
pub struct CreateArgs {
    /// An administrator token (every unit, extensions and waivers)
    #[arg(long, conflicts_with_all = ["unit", "feed", "metrics"])]
    pub admin: bool,
    /// A token that acts only for this unit id (with --feed: reads only its feed)
    #[arg(long, value_name = "ID")]
    pub unit: Option<String>,
    /// A read-only token for calendar feeds: with --unit ID that unit's, with --all every feed
    #[arg(long, conflicts_with = "metrics")]
    pub feed: bool,
    /// With --feed: every feed, all.ics included
    #[arg(long, requires = "feed", conflicts_with = "unit")]
    pub all: bool,
    /// A read-only token for /metrics and the details of /healthz
    #[arg(long, conflicts_with = "unit")]
    pub metrics: bool,
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
    let known_unit = |id: &str| -> Result<()> {
        if cfg.unit(id).is_none() {
            let known: Vec<&str> = cfg.units.iter().map(|u| u.id.as_str()).collect();
            bail!("unknown unit {id:?}{}", super::suggest(id, &known));
        }
        Ok(())
    };
    let role = match (args.feed, args.metrics, &args.unit) {
        (true, _, None) if !args.all => bail!("--feed needs --unit ID or --all"),
        (true, _, unit) => {
            if let Some(id) = unit {
                known_unit(id)?;
            }
            TokenRole::Feed(unit.clone())
        }
        (_, true, _) => TokenRole::Metrics,
        (_, _, Some(id)) => {
            known_unit(id)?;
            TokenRole::Unit(id.clone())
        }
        _ => TokenRole::Admin,
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
pub async fn list(store: &AnyStore) -> Result<String> {
    let tokens = store.tokens().await?;
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
pub async fn revoke(store: &AnyStore, id: i64) -> Result<String> {
    let t = store.revoke_token(id, Timestamp::now()).await?;
    match t {
        Some(t) => Ok(format!("token {} revoked ({})\n", t.id, describe(&t))),
        None => bail!("no token with id {id} (see `hanbao token list`)"),
    }
}
