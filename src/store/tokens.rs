//! API tokens: who may use the HTTP API (and read the feeds and metrics),
//! stored only as SHA-256 hashes,
//! and [`Tokens`], the store's interface for `hanbao token` and the HTTP
//! side's authentication.
//!
//! The token queries are the same on both dialects: written once. Must
//! not: see, store or log a token's secret; the caller hashes it first
//! (`http::token`), and `Token`'s `Debug` shows only a prefix of the hash.

use std::fmt;
use std::future::Future;

use jiff::Timestamp;

use super::Store;
use super::error::StoreError;
use super::sql::{Sql, sql};

/// What `hanbao token` and the HTTP side's authentication ask of the
/// store. Implemented once, by [`Store`]; the futures are `Send` so that
/// a caller can spawn them.
pub trait Tokens {
    /// Stores a new API token (its hash only).
    fn create_token(
        &self,
        token: NewToken,
        now: Timestamp,
    ) -> impl Future<Output = Result<Token, StoreError>> + Send;

    /// Every API token, revoked ones included, by id.
    fn tokens(&self) -> impl Future<Output = Result<Vec<Token>, StoreError>> + Send;

    /// Revokes a token (again: no change). `None` when there is no such id.
    fn revoke_token(
        &self,
        id: i64,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<Token>, StoreError>> + Send;

    /// The token whose secret hashes to `hash` (64 hex digits), revoked or not.
    fn token_by_hash(
        &self,
        hash: &str,
    ) -> impl Future<Output = Result<Option<Token>, StoreError>> + Send;
}

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TokenRole {
    /// Everything the API offers, for every unit.
    Admin,
    /// Acts only for this unit id.
    Unit(String),
    /// Reads calendar feeds and nothing else: this unit's (`Some`), or
    /// every feed, `all.ics` included (`None`). Meant for calendar URLs,
    /// where a write-capable secret must never be.
    Feed(Option<String>),
    /// Reads `/metrics` and the details of `/healthz`, nothing else.
    Metrics,
}

impl TokenRole {
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenRole::Admin => "admin",
            TokenRole::Unit(_) => "unit",
            TokenRole::Feed(_) => "feed",
            TokenRole::Metrics => "metrics",
        }
    }

    /// The unit a unit token acts for, or a feed token reads.
    pub fn unit(&self) -> Option<&str> {
        match self {
            TokenRole::Unit(u) | TokenRole::Feed(Some(u)) => Some(u),
            TokenRole::Admin | TokenRole::Feed(None) | TokenRole::Metrics => None,
        }
    }
}

/// A token to create: the hash of its secret, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub role: TokenRole,
    /// SHA-256 of the secret, 64 lowercase hex digits.
    pub hash: String,
}

/// A stored token.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub role: TokenRole,
    /// SHA-256 of the secret, 64 lowercase hex digits.
    pub hash: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl Token {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field(
                "hash",
                &format_args!("{}…", &self.hash[..self.hash.len().min(8)]),
            )
            .field("created_at", &self.created_at)
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}

#[derive(sqlx::FromRow)]
struct TokenDbRow {
    id: i64,
    name: String,
    role: String,
    unit_id: Option<String>,
    hash: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

fn instant(t: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_second(t).map_err(|_| StoreError::Corrupt(format!("token instant {t}")))
}

impl TryFrom<TokenDbRow> for Token {
    type Error = StoreError;

    fn try_from(r: TokenDbRow) -> Result<Token, StoreError> {
        let role = match (r.role.as_str(), r.unit_id) {
            ("admin", None) => TokenRole::Admin,
            ("unit", Some(u)) => TokenRole::Unit(u),
            ("feed", unit) => TokenRole::Feed(unit),
            ("metrics", None) => TokenRole::Metrics,
            (other, _) => return Err(StoreError::Corrupt(format!("token role {other:?}"))),
        };
        Ok(Token {
            id: r.id,
            name: r.name,
            role,
            hash: r.hash,
            created_at: instant(r.created_at)?,
            revoked_at: r.revoked_at.map(instant).transpose()?,
        })
    }
}

fn check(new: &NewToken) -> Result<(), StoreError> {
    if new.name.trim().is_empty() {
        return Err(StoreError::Invalid {
            field: "name",
            reason: "a token needs a name".into(),
        });
    }
    if let TokenRole::Unit(u) | TokenRole::Feed(Some(u)) = &new.role
        && u.trim().is_empty()
    {
        return Err(StoreError::Invalid {
            field: "unit",
            reason: "a unit token needs a unit id".into(),
        });
    }
    if new.hash.len() != 64 || !new.hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(StoreError::Invalid {
            field: "hash",
            reason: "expected 64 hex digits".into(),
        });
    }
    Ok(())
}

/// The columns `TokenDbRow` reads, in order (a macro, for `concat!`).
macro_rules! token_columns {
    () => {
        "id, name, role, unit_id, hash, created_at, revoked_at"
    };
}

const CREATE: Sql = sql!(concat!(
    "INSERT INTO tokens (name, role, unit_id, hash, created_at) VALUES ($1, $2, $3, $4, $5) \
     RETURNING ",
    token_columns!()
));
const LIST: Sql = sql!(concat!(
    "SELECT ",
    token_columns!(),
    " FROM tokens ORDER BY id"
));
const REVOKE: Sql = sql!("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL");
const BY_ID: Sql = sql!(concat!(
    "SELECT ",
    token_columns!(),
    " FROM tokens WHERE id = $1"
));
const BY_HASH: Sql = sql!(concat!(
    "SELECT ",
    token_columns!(),
    " FROM tokens WHERE hash = $1"
));

impl Tokens for Store {
    async fn create_token(&self, new: NewToken, now: Timestamp) -> Result<Token, StoreError> {
        check(&new)?;
        let row: TokenDbRow = on_backend!(self, db => {
            sqlx::query_as(db.sql(&CREATE))
                .bind(&new.name)
                .bind(new.role.as_str())
                .bind(new.role.unit())
                .bind(new.hash.to_ascii_lowercase())
                .bind(now.as_second())
                .fetch_one(&db.pool)
                .await?
        });
        row.try_into()
    }

    async fn tokens(&self) -> Result<Vec<Token>, StoreError> {
        let got: Vec<TokenDbRow> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&LIST)).fetch_all(&db.pool).await?
        });
        got.into_iter().map(Token::try_from).collect()
    }

    async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<Option<Token>, StoreError> {
        let got: Option<TokenDbRow> = on_backend!(self, db => {
            sqlx::query(db.sql(&REVOKE))
                .bind(id)
                .bind(now.as_second())
                .execute(&db.pool)
                .await?;
            sqlx::query_as(db.sql(&BY_ID))
                .bind(id)
                .fetch_optional(&db.pool)
                .await?
        });
        got.map(Token::try_from).transpose()
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<Token>, StoreError> {
        let got: Option<TokenDbRow> = on_backend!(self, db => {
            sqlx::query_as(db.sql(&BY_HASH))
                .bind(hash.to_ascii_lowercase())
                .fetch_optional(&db.pool)
                .await?
        });
        got.map(Token::try_from).transpose()
    }
}
