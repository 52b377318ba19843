//! Periodic jobs on the configured zone's wall clock (tokio-cron-scheduler).
//!
//! The only module that imports `tokio-cron-scheduler` and `chrono`.
//! [`occurrences`] lists the instants an expression fires in a range, parsed
//! as the scheduler parses it, for `simulate`, `plan` and the daemon's test
//! clock. A tick
//! is only a *prompt*: every job derives its work from the database ("all
//! that is due by now"), so a missed or late tick is caught up by the next
//! one and correctness never depends on a tick firing. Each job is guarded
//! against overlapping itself (the crate has no guard of its own). The
//! expressions are read by `config::cron` (five fields accepted by adding
//! the seconds field, which the crate would reject with a bare error), the
//! same check `hanbao check` runs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_cron_scheduler::{Job, JobScheduler};

use crate::config::cron::{self, CronError};

/// The body of a periodic job.
pub type JobFn = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// One periodic job.
pub struct JobSpec {
    /// Name used in logs.
    pub name: String,
    /// Cron expression, five fields (minute first) or six (seconds first).
    pub cron: String,
    pub run: JobFn,
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The expression itself (checked by `config::cron`, as `check` does).
    #[error(transparent)]
    Cron(#[from] CronError),
    #[error("the job scheduler failed: {0}")]
    Scheduler(String),
}

/// The instants in `(after, until]` at which `expr` fires on the wall
/// clock of a zone `utc_offset_seconds` east of UTC, parsed as
/// [`Scheduler::start`] parses it (`config::cron`: seconds required after
/// normalising; day-of-month and weekday combine with AND). At most
/// `limit` instants.
pub fn occurrences(
    expr: &str,
    utc_offset_seconds: i32,
    after: jiff::Timestamp,
    until: jiff::Timestamp,
    limit: usize,
) -> Result<Vec<jiff::Timestamp>, ScheduleError> {
    use chrono::TimeZone as _;
    let six = cron::normalize(expr)?;
    let invalid = |reason: String| CronError::Invalid {
        expr: expr.to_string(),
        reason,
    };
    let parsed = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(&six)
        .map_err(|e| invalid(e.to_string()))?;
    let zone = chrono::FixedOffset::east_opt(utc_offset_seconds)
        .ok_or_else(|| ScheduleError::Scheduler(format!("bad UTC offset {utc_offset_seconds}s")))?;
    let start = zone
        .timestamp_opt(after.as_second(), 0)
        .single()
        .ok_or_else(|| invalid(format!("instant {after} out of range")))?;
    let mut out = Vec::new();
    for t in parsed.iter_after(start) {
        let Ok(t) = jiff::Timestamp::from_second(t.timestamp()) else {
            break;
        };
        if t > until || out.len() >= limit {
            break;
        }
        out.push(t);
    }
    Ok(out)
}

/// Running periodic jobs.
pub struct Scheduler {
    inner: JobScheduler,
}

impl Scheduler {
    /// Starts `jobs` on the wall clock of a zone `utc_offset_seconds` east of
    /// UTC (Vietnam: 25 200; it has no daylight saving time).
    pub async fn start(
        jobs: Vec<JobSpec>,
        utc_offset_seconds: i32,
    ) -> Result<Scheduler, ScheduleError> {
        let zone = chrono::FixedOffset::east_opt(utc_offset_seconds).ok_or_else(|| {
            ScheduleError::Scheduler(format!("bad UTC offset {utc_offset_seconds}s"))
        })?;
        let inner = JobScheduler::new()
            .await
            .map_err(|e| ScheduleError::Scheduler(e.to_string()))?;
        for spec in jobs {
            let six = cron::normalize(&spec.cron)?;
            let running = Arc::new(AtomicBool::new(false));
            let name = spec.name.clone();
            let run = spec.run.clone();
            let job = Job::new_async_tz(six.as_str(), zone, move |_, _| {
                let running = running.clone();
                let run = run.clone();
                let name = name.clone();
                Box::pin(async move {
                    if running.swap(true, Ordering::AcqRel) {
                        tracing::debug!(job = %name, "lần chạy trước chưa xong; bỏ qua lần này");
                        return;
                    }
                    run().await;
                    running.store(false, Ordering::Release);
                })
            })
            .map_err(|e| CronError::Invalid {
                expr: spec.cron.clone(),
                reason: e.to_string(),
            })?;
            inner
                .add(job)
                .await
                .map_err(|e| ScheduleError::Scheduler(e.to_string()))?;
        }
        inner
            .start()
            .await
            .map_err(|e| ScheduleError::Scheduler(e.to_string()))?;
        Ok(Scheduler { inner })
    }

    /// Stops firing jobs. Runs already started finish on their own.
    pub async fn shutdown(mut self) {
        if let Err(err) = self.inner.shutdown().await {
            tracing::warn!(error = %err, "lỗi khi dừng bộ lập lịch");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mondays at 08:00 in UTC+7 through June 2026: 1, 8, 15, 22 and 29/6
    /// (checked on a wall calendar), the range's end included.
    #[test]
    fn occurrences_of_the_default_digest() {
        let vn = |s: &str| -> jiff::Timestamp {
            format!("{s}+07:00[Asia/Ho_Chi_Minh]")
                .parse::<jiff::ZonedDateTime>()
                .unwrap()
                .timestamp()
        };
        let got = occurrences(
            "0 8 * * Mon",
            25_200,
            vn("2026-06-01T08:00:00"),
            vn("2026-06-29T08:00:00"),
            100,
        )
        .unwrap();
        let want: Vec<_> = ["08", "15", "22", "29"]
            .iter()
            .map(|d| vn(&format!("2026-06-{d}T08:00:00")))
            .collect();
        assert_eq!(got, want, "the start is excluded, the end included");
        // Day of month AND weekday, as the scheduler combines them:
        // the 1st of a month that is a Monday (June 2026 only, in 2026).
        let both = occurrences(
            "0 8 1 * Mon",
            25_200,
            vn("2026-01-01T00:00:00"),
            vn("2026-12-31T00:00:00"),
            100,
        )
        .unwrap();
        assert_eq!(both, [vn("2026-06-01T08:00:00")]);
        assert!(occurrences("61 8 * * *", 25_200, got[0], got[1], 10).is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_fire_and_do_not_overlap() {
        use std::sync::atomic::AtomicUsize;
        let started = Arc::new(AtomicUsize::new(0));
        let s = started.clone();
        // Fires every second; each run takes 2.5 s, so without the guard
        // runs would pile up.
        let run: JobFn = Arc::new(move || {
            let s = s.clone();
            Box::pin(async move {
                s.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
            })
        });
        let sched = Scheduler::start(
            vec![JobSpec {
                name: "t".into(),
                cron: "* * * * * *".into(),
                run,
            }],
            25_200,
        )
        .await
        .expect("start");
        tokio::time::sleep(std::time::Duration::from_millis(3600)).await;
        sched.shutdown().await;
        let n = started.load(Ordering::SeqCst);
        assert!((1..=2).contains(&n), "{n} overlapping runs started");
    }
}
