//! The daemon's clock: the system's, or, for tests only, a stepped virtual
//! clock.
//!
//! With `HANBAO_TEST_CLOCK=START..END[/STEP]` (read by `environment`, the
//! only reader of the process environment, and handed to `daemon::run`),
//! `hanbao run` starts at the instant START (RFC 3339, e.g.
//! `2026-06-01T00:00:00+07:00`) instead of now, and instead of waiting for
//! the wall clock's minutes it steps its virtual time by STEP (a whole
//! number of minutes, `5m`; default `1m`) up to END, running at each step
//! what the scheduler runs at that minute: the tick, and the digest when its
//! cron expression fires. Then it logs "đồng hồ thử đã chạy đến cuối" and
//! idles until stopped. This is what lets a test compare the real daemon
//! with `simulate` over a season in seconds. It is not for production: the
//! variable is undocumented in `--help` and named as for tests in README.
//!
//! Pure: parsing and arithmetic; the system clock is read only by
//! [`Clock::now`] in its `System` form.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::{SignedDuration, Timestamp};

/// A virtual clock that moves only when stepped.
#[derive(Debug)]
pub struct Stepped {
    pub start: Timestamp,
    pub end: Timestamp,
    pub step: SignedDuration,
    /// The current instant, in seconds since the epoch.
    now: AtomicI64,
}

impl Stepped {
    /// The clock at `start`.
    pub fn new(start: Timestamp, end: Timestamp, step: SignedDuration) -> Stepped {
        Stepped {
            start,
            end,
            step,
            now: AtomicI64::new(start.as_second()),
        }
    }

    /// Moves the clock one step; `None` once the step would pass `end`.
    pub fn advance(&self) -> Option<Timestamp> {
        let next = self.now().checked_add(self.step).ok()?;
        if next > self.end {
            return None;
        }
        self.now.store(next.as_second(), Ordering::Release);
        Some(next)
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_second(self.now.load(Ordering::Acquire)).unwrap_or(self.start)
    }
}

/// What the daemon reads the time from.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system clock; the cron scheduler drives the ticks and the digest.
    #[default]
    System,
    /// Tests only (see the module doc).
    Stepped(Arc<Stepped>),
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Stepped(s) => s.now(),
        }
    }

    /// Parses the value of `HANBAO_TEST_CLOCK`: `START..END[/STEP]`.
    pub fn parse_test(value: &str) -> Result<Clock, String> {
        let (range, step) = match value.split_once('/') {
            Some((r, s)) => (r, Some(s.trim())),
            None => (value, None),
        };
        let (start, end) = range
            .split_once("..")
            .ok_or_else(|| format!("HANBAO_TEST_CLOCK {value:?}: expected START..END[/STEP]"))?;
        let instant = |s: &str| {
            s.trim()
                .parse::<Timestamp>()
                .map_err(|e| format!("HANBAO_TEST_CLOCK {value:?}: {s:?}: {e}"))
        };
        let (start, end) = (instant(start)?, instant(end)?);
        if end < start {
            return Err(format!("HANBAO_TEST_CLOCK {value:?}: END is before START"));
        }
        let minutes = match step {
            None => 1,
            Some(s) => s
                .strip_suffix('m')
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|n| (1..=60).contains(n))
                .ok_or_else(|| {
                    format!("HANBAO_TEST_CLOCK {value:?}: STEP is 1m to 60m, not {s:?}")
                })?,
        };
        Ok(Clock::Stepped(Arc::new(Stepped::new(
            start,
            end,
            SignedDuration::from_mins(minutes),
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_clock_steps_to_its_end() {
        let Clock::Stepped(s) =
            Clock::parse_test("2026-06-01T00:00:00+07:00..2026-06-01T00:10:00+07:00/5m").unwrap()
        else {
            panic!("stepped");
        };
        let t0: Timestamp = "2026-05-31T17:00:00Z".parse().unwrap();
        assert_eq!(s.now(), t0);
        assert_eq!(s.advance(), Some(t0 + SignedDuration::from_mins(5)));
        assert_eq!(s.advance(), Some(t0 + SignedDuration::from_mins(10)));
        assert_eq!(s.advance(), None);
        assert_eq!(s.now(), t0 + SignedDuration::from_mins(10));
        for bad in [
            "2026-06-01T00:00:00+07:00",
            "2026-06-02T00:00:00+07:00..2026-06-01T00:00:00+07:00",
            "2026-06-01T00:00:00+07:00..2026-06-02T00:00:00+07:00/90s",
        ] {
            assert!(Clock::parse_test(bad).is_err(), "{bad}");
        }
    }
}
