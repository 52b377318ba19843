//! hanbao's test and benchmark support, shared by the integration tests
//! (`tests/it`), the benchmarks (`benches/`) and the examples, written once.
//!
//! Why a crate: every file of `benches/` is a crate of its own, as is
//! `tests/it`, so code they share has either to be included by path
//! (`#[path = "../tests/it/support/smtp.rs"] mod smtp;`, a second copy
//! compiled into each bench, with `dead_code` allowed everywhere and no
//! owner) or to live in a library they all depend on. This is that library:
//! a path dependency in the repository, listed only under hanbao's
//! `[dev-dependencies]`, so it is built for tests, benches and examples and
//! never for the daemon. It is a workspace member so `cargo fmt` and
//! `cargo clippy` cover it.
//!
//! - [`smtp`]: a real SMTP server on 127.0.0.1 with scripted failures.
//! - [`pg`]: a throwaway PostgreSQL cluster (initdb + pg_ctl), reaped at exit.
//! - [`http`]: the one HTTP/1.1 client (tokio and blocking).
//! - [`mime`]: the MIME reader, on Stalwart's `mail-parser` (an independent
//!   reader of what hanbao's hand-written MIME writer produces).
//! - [`plain_smtp`]: the benchmarks' baseline SMTP client.
//! - [`history`]: bulk-loaded history rows for the store and status benchmarks.
//! - [`national`]: the national-scale configuration (4,000 units).
//!
//! Must not: depend on `hanbao` (the library would be built twice and its
//! types would not match the ones under test; helpers that need hanbao's
//! types stay in `tests/it/support`), or be used by anything but tests,
//! benchmarks and examples. Panics where a test should fail.

pub mod history;
pub mod http;
pub mod mime;
pub mod national;
pub mod pg;
pub mod plain_smtp;
pub mod smtp;
