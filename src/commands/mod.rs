//! Command output for people and scripts: one file per command group.
//!
//! The edge of the program: turns library results into text, JSON or CSV
//! and exit codes. The binary (`src/main.rs`) wires these to clap.

pub mod calendar;
pub mod check;
pub mod plan;
