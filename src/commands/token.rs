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
use crate::escape::terminal;
use crate::store::{NewToken, Store, Token, TokenRole, Tokens};

use super::{Context, block_on};

/// `hanbao token ...`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum Command {
    /// Create a token; its secret is printed once and stored only as a hash
    Create(CreateArgs),
    /// Every token (number, role, unit, holder, created, revoked, in local
    /// time); never secrets
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
            _ => list(&store, &cfg).await,
        };
        store.close().await;
        out
    })??;
    print!("{}", crate::escape::terminal_lines(&out));
    Ok(ExitCode::SUCCESS)
}

/// A new token's holder and name, checked against the configuration.
fn checked(cfg: &Config, args: &CreateArgs) -> Result<(TokenRole, String)> {
    let known_unit = |id: &str| -> Result<()> {
        if cfg.unit(id).is_none() {
            let known: Vec<&str> = cfg.units.iter().map(|u| u.id.as_str()).collect();
            bail!(
                "không có đơn vị {:?} trong cấu hình{}",
                id,
                super::suggest(id, &known)
            );
        }
        Ok(())
    };
    let role = match (args.feed, args.metrics, &args.unit) {
        (true, _, None) if !args.all => {
            bail!("--feed cần --unit MÃ_ĐƠN_VỊ (lịch của một đơn vị) hoặc --all (mọi lịch)")
        }
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
        bail!("--name không được để trống: ghi tên người hoặc bộ phận giữ mã");
    }
    Ok((role, name.to_string()))
}

/// Creates a token; returns the text to print (with the secret, once, on
/// a line of its own).
pub async fn create(store: &Store, (role, name): (TokenRole, String)) -> Result<String> {
    let secret =
        crate::http::token::generate().context("không lấy được số ngẫu nhiên từ hệ điều hành")?;
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
        "Đã tạo mã truy cập số {} ({}).\n\
         Khóa bí mật, chỉ hiện một lần này (hanbao chỉ lưu bản băm SHA-256 của nó):\n\
         {secret}\n\
         {}\n",
        t.id,
        describe(&t),
        usage(&t.role)
    ))
}

fn describe(t: &Token) -> String {
    let name = terminal(&t.name);
    match &t.role {
        TokenRole::Admin => format!("quản trị, người giữ \"{name}\""),
        TokenRole::Unit(u) => format!("đơn vị {}, người giữ \"{name}\"", terminal(u)),
        TokenRole::Feed(Some(u)) => format!(
            "chỉ đọc lịch của đơn vị {}, người giữ \"{name}\"",
            terminal(u)
        ),
        TokenRole::Feed(None) => format!("chỉ đọc mọi lịch, người giữ \"{name}\""),
        TokenRole::Metrics => format!("chỉ đọc số liệu vận hành, người giữ \"{name}\""),
    }
}

/// How the secret is used, by role.
fn usage(role: &TokenRole) -> String {
    match role {
        TokenRole::Feed(Some(u)) => {
            format!("Dùng làm địa chỉ lịch: /ics/{u}.ics?token=<khóa bí mật>")
        }
        TokenRole::Feed(None) => {
            "Dùng làm địa chỉ lịch: /ics/all.ics?token=<khóa bí mật> (hoặc /ics/MÃ_ĐƠN_VỊ.ics)"
                .into()
        }
        _ => "Dùng trong mỗi yêu cầu: Authorization: Bearer <khóa bí mật>".into(),
    }
}

/// The role as people read it.
fn role_vi(role: &TokenRole) -> &'static str {
    match role {
        TokenRole::Admin => "quản trị",
        TokenRole::Unit(_) => "đơn vị",
        TokenRole::Feed(_) => "đọc lịch",
        TokenRole::Metrics => "số liệu vận hành",
    }
}

/// The tokens as a table: number, role, unit, holder, created, revoked
/// (local time of the configured zone, named in the heading).
pub async fn list(store: &Store, cfg: &Config) -> Result<String> {
    let tokens = store.tokens().await?;
    if tokens.is_empty() {
        return Ok("Chưa có mã truy cập nào (tạo bằng hanbao token create).\n".into());
    }
    let tz = &cfg.daemon.time_zone;
    let when = |t: Timestamp| {
        t.to_zoned_datetime(tz.clone())
            .strftime("%d/%m/%Y %H:%M")
            .to_string()
    };
    let mut table = vec![[
        "Số".to_string(),
        "Quyền".into(),
        "Đơn vị".into(),
        "Người giữ".into(),
        "Tạo lúc".into(),
        "Thu hồi lúc".into(),
    ]];
    for t in &tokens {
        table.push([
            t.id.to_string(),
            role_vi(&t.role).into(),
            match &t.role {
                TokenRole::Feed(None) => "*".to_string(),
                role => terminal(role.unit().unwrap_or("-")).into_owned(),
            },
            terminal(&t.name).into_owned(),
            when(t.created_at),
            t.revoked_at.map(when).unwrap_or_else(|| "-".into()),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!(
        "Mã truy cập (giờ {}, UTC{}):\n",
        cfg.daemon.time_zone_name,
        Timestamp::now()
            .to_zoned_datetime(tz.clone())
            .strftime("%:z")
    );
    for row in &table {
        let mut line = String::new();
        for (cell, w) in row.iter().zip(&widths) {
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', w + 2 - cell.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// Revokes a token by id.
pub async fn revoke(store: &Store, id: i64) -> Result<String> {
    let t = store.revoke_token(id, Timestamp::now()).await?;
    match t {
        Some(t) => Ok(format!(
            "Đã thu hồi mã truy cập số {} ({}); từ yêu cầu tiếp theo mã này không dùng được nữa.\n",
            t.id,
            describe(&t)
        )),
        None => bail!("không có mã truy cập số {id} (xem hanbao token list)"),
    }
}
