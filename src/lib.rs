//! hanbao: keeps government agencies on their periodic reporting deadlines.
//!
//! Data flows one way: config -> validated model -> pure planner -> outbox in
//! the database -> dispatcher -> mail. See ARCHITECTURE.md.

pub mod calendar;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod environment;
pub mod escape;
pub mod heartbeat;
pub mod http;
pub mod input;
pub mod link;
pub mod live;
pub mod logging;
pub mod mail;
pub mod outbox;
pub mod period;
pub mod planner;
pub mod primitives;
pub mod status;
pub mod store;
pub mod tracking;
