//! Configuration: TOML files -> validated [`model::Config`].
//!
//! Two stages, as in ripgrep: `raw` mirrors the files (with spans for error
//! messages), `validate` turns it into the model and collects every problem.

pub mod model;
