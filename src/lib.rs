//! hanbao: keeps government agencies on their periodic reporting deadlines.
//!
//! Data flows one way: config -> validated model -> pure planner -> outbox in
//! the database -> dispatcher -> mail. See ARCHITECTURE.md.

/// What `hanbao --version` prints after the name: the package version and
/// the database schema it expects (`store::SCHEMA_VERSION`, the last
/// migration it embeds).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (lược đồ cơ sở dữ liệu ",
    schema_version!(),
    ")"
);

pub mod calendar;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod environment;
pub mod escape;
pub mod files;
pub mod heartbeat;
pub mod http;
pub mod input;
pub mod intake;
pub mod link;
pub mod live;
pub mod logging;
pub mod mail;
pub mod outbox;
pub mod period;
pub mod planner;
pub mod primitives;
pub mod progress;
pub mod register;
pub mod status;
pub mod store;
pub mod tracking;
