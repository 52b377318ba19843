//! Test helpers shared by the integration tests.

pub mod backend;
pub mod browser;
pub mod pg;
pub mod procs;
pub mod smtp;
