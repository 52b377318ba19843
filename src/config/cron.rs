//! Cron expressions as administrators write them (`daemon.digest`): five
//! fields (minute first) or six (seconds first), checked and normalised to
//! the six-field form the scheduler wants.
//!
//! Pure: parses with `croner` the way `tokio-cron-scheduler` does (seconds
//! required, day-of-month AND weekday), so what `check` accepts the
//! scheduler accepts. It lives in `config` so that validation never depends
//! on the daemon; `daemon::schedule` uses it to start its jobs. No IO, no
//! clock.

use croner::parser::{CronParser, Seconds};

/// Why a cron expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error(
        "cron expression {expr:?} has {fields} fields; write five (minute hour day month weekday, e.g. \"30 7 * * Mon-Fri\") or six with seconds first (\"0 30 7 * * Mon-Fri\")"
    )]
    FieldCount { expr: String, fields: usize },
    #[error("cron expression {expr:?} is not valid: {reason}")]
    Invalid { expr: String, reason: String },
}

/// Turns an administrator's cron expression into the six-field form the
/// scheduler wants. Five fields get `0` seconds; six or seven pass through.
pub fn normalize(expr: &str) -> Result<String, CronError> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    match fields.len() {
        5 => Ok(format!("0 {}", fields.join(" "))),
        6 | 7 => Ok(fields.join(" ")),
        n => Err(CronError::FieldCount {
            expr: expr.to_string(),
            fields: n,
        }),
    }
}

/// Checks a cron expression without starting anything (for `hanbao check`).
pub fn validate(expr: &str) -> Result<(), CronError> {
    let six = normalize(expr)?;
    CronParser::builder()
        .seconds(Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(&six)
        .map(|_| ())
        .map_err(|_| CronError::Invalid {
            expr: expr.to_string(),
            // The scheduler's own word for every parse failure.
            reason: "ParseSchedule".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_fields_get_seconds() {
        let cases = [
            ("30 7 * * Mon-Fri", Ok("0 30 7 * * Mon-Fri".to_string())),
            ("0 30 7 * * Mon-Fri", Ok("0 30 7 * * Mon-Fri".to_string())),
            ("  0   8 * *   Mon ", Ok("0 0 8 * * Mon".to_string())),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input).map_err(|e| e.to_string()), want, "{input}");
        }
        let err = normalize("8 * *").unwrap_err().to_string();
        assert!(
            err.contains("has 3 fields") && err.contains("five"),
            "{err}"
        );
    }

    #[test]
    fn validation_names_the_expression() {
        assert!(validate("30 7 * * Mon-Fri").is_ok());
        let err = validate("61 7 * * *").unwrap_err().to_string();
        assert!(err.contains("\"61 7 * * *\""), "{err}");
    }
}
