//! CLI command output (the integrator wires clap).

pub mod calendar;
