//! Secrets of the mail transport: the SMTP password, read from the
//! environment or a file (`[mail.smtp] password_env` / `password_file`) when
//! the mailer is built. A [`Secret`] prints as `***` (`Debug` and `Display`):
//! it never reaches a log, an error or a message.

use crate::config::model::SecretSource;
use std::fmt;
use std::path::{Path, PathBuf};

/// A secret string (the SMTP password). Its `Debug`/`Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for the one place that must hand it over.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A secret could not be read. Names where it was looked for, never its value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read the password file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the environment variable {0} holding the password is not set or not UTF-8")]
    Env(String),
    #[error(
        "the systemd credential {0} is unavailable: CREDENTIALS_DIRECTORY is not set (use LoadCredential= in the unit)"
    )]
    NoCredentialsDirectory(String),
    #[error("the password from {0} is empty")]
    Empty(String),
}

fn read_secret_file(path: &Path) -> Result<Secret, SecretError> {
    let text = std::fs::read_to_string(path).map_err(|source| SecretError::File {
        path: path.to_path_buf(),
        source,
    })?;
    // Files usually end with a newline the editor added; it is not part of the password.
    let trimmed = text.trim_end_matches(['\n', '\r']);
    if trimmed.is_empty() {
        return Err(SecretError::Empty(path.display().to_string()));
    }
    Ok(Secret(trimmed.to_string()))
}

/// Read a secret from a file, an environment variable or a systemd credential.
pub fn read_secret(source: &SecretSource) -> Result<Secret, SecretError> {
    match source {
        SecretSource::File(path) => read_secret_file(path),
        SecretSource::Env(var) => match std::env::var(var) {
            Ok(v) if v.is_empty() => Err(SecretError::Empty(format!("${var}"))),
            Ok(v) => Ok(Secret(v)),
            Err(_) => Err(SecretError::Env(var.clone())),
        },
        SecretSource::Credential(name) => {
            let dir = std::env::var_os("CREDENTIALS_DIRECTORY")
                .ok_or_else(|| SecretError::NoCredentialsDirectory(name.clone()))?;
            read_secret_file(&Path::new(&dir).join(name))
        }
    }
}
