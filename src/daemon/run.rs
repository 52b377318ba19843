//! `hanbao run`: the long-running service.
//!
//! One [`Engine`] (configuration, calendar, composer, mailer and the
//! planning watermark) behind a mutex. The minute tick locks it, plans and
//! enqueues everything due, and dispatches inside sending hours; a reload
//! swaps it; shutdown takes the lock last, so the sends in flight finish
//! first. Every tick derives its work from the database, so a missed tick is
//! caught up by the next and downtime by the first tick on start.
//!
//! Several processes may share one PostgreSQL database: only the leader
//! (`daemon::leader`) plans, sends the digest, runs housekeeping and claims
//! escalations; every process dispatches the other rows, and plans once
//! after its start or a reload (its configuration may be newer than the
//! leader's). Leadership is
//! confirmed before each of those duties and checked every
//! `LEADERSHIP_INTERVAL`; a process that takes over runs a tick at once.
//!
//! Must not: decide what is sent (that is `outbox`), or touch SMTP or SQL
//! directly.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use jiff::Timestamp;
use tokio::sync::Mutex;

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::mail::{ComposeError, Composer, Mailer, MailerError, TemplateErrors, Templates};
use crate::outbox::dispatch::StopFlag;
use crate::outbox::{Dispatcher, Planning};
use crate::store::Store;

use super::leader::{LEADERSHIP_INTERVAL, Leadership};
use super::notify;
use super::schedule::{JobFn, JobSpec, ScheduleError, Scheduler};
use crate::heartbeat::{Heartbeat, TICK_MAX_AGE};
use crate::store::{Election, Outbox};

/// The minute tick (six fields: at second 0 of every minute).
pub const TICK_CRON: &str = "0 * * * * *";
/// Housekeeping: daily 03:15 local.
pub const HOUSEKEEPING_CRON: &str = "15 3 * * *";

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Mailer(#[from] MailerError),
    #[error(transparent)]
    Compose(#[from] ComposeError),
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error("mail templates:\n{0}")]
    Templates(#[from] TemplateErrors),
}

/// Everything a tick needs, built from one configuration.
pub struct Engine {
    pub cfg: Config,
    pub cal: WorkCalendar,
    pub composer: Composer,
    pub mailer: Mailer,
    pub planning: Planning,
    /// Plan at the next tick whatever the role: set when built (start or
    /// reload), so a configuration newer than the leader's (a rolling
    /// reload or upgrade) takes effect as soon as one instance has it.
    pub plan_once: bool,
}

impl Engine {
    /// Builds the calendar, composer and mailer (reads the SMTP password).
    /// The templates (`mail.templates` over the built-ins) are rendered
    /// against sample data first, so a broken one fails the start or the
    /// reload, not a send. Must run inside a tokio runtime.
    pub fn build(cfg: Config) -> Result<Engine, RunError> {
        let templates = Templates::configured(&cfg.mail)?;
        let links = match crate::link::Links::configured(&cfg.daemon) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "thư nhắc sẽ không có liên kết xác nhận");
                None
            }
        };
        let composer = Composer::new(&cfg.mail, templates)?.with_links(links);
        let mailer = Mailer::new(&cfg.mail)?;
        Ok(Engine {
            cal: WorkCalendar::new(&cfg.calendar),
            cfg,
            composer,
            mailer,
            planning: Planning::default(),
            plan_once: true,
        })
    }

    /// One tick at `clock()`: enqueue what is due, then dispatch (as the
    /// only process, i.e. the leader).
    pub async fn tick(
        &mut self,
        store: &Store,
        owner: &str,
        clock: &(dyn Fn() -> Timestamp + Sync),
        stop: &StopFlag,
    ) {
        self.tick_as(store, owner, clock, stop, true).await;
    }

    /// One tick: the leader enqueues what is due and dispatches everything;
    /// another process only dispatches, escalations excepted (and plans
    /// once after a start or reload: see `plan_once`; planning twice writes
    /// nothing twice).
    pub async fn tick_as(
        &mut self,
        store: &Store,
        owner: &str,
        clock: &(dyn Fn() -> Timestamp + Sync),
        stop: &StopFlag,
        leader: bool,
    ) {
        let now = clock();
        let plan = leader || self.plan_once;
        if plan && !self.plan(store, now).await {
            return;
        }
        let d = Dispatcher {
            cfg: &self.cfg,
            cal: &self.cal,
            composer: &self.composer,
            mailer: &self.mailer,
            owner,
        };
        match d.run_scoped(store, clock, stop, leader).await {
            Ok(r) => {
                if !r.sent.is_empty() || r.retried + r.failed + r.cancelled > 0 {
                    tracing::info!(
                        sent = r.sent.len(),
                        retried = r.retried,
                        failed = r.failed,
                        cancelled = r.cancelled,
                        "{}",
                        crate::outbox::dispatch::summary(&r)
                    );
                }
            }
            Err(e) => tracing::error!(
                error = %e,
                "đợt gửi thất bại; lần chạy sau (mỗi phút) sẽ thử lại"
            ),
        }
    }

    /// Plans and enqueues everything due by `now`; false (logged) when the
    /// store failed: the next tick retries, and this one sends nothing.
    async fn plan(&mut self, store: &Store, now: Timestamp) -> bool {
        match self
            .planning
            .enqueue(store, &self.cfg, &self.cal, now)
            .await
        {
            Ok(r) => {
                self.plan_once = false;
                if r.pending + r.skipped + r.superseded > 0 {
                    let mut what = format!(
                        "lập lịch thư: {} thư mới chờ gửi, {} thư bỏ qua (không bao giờ gửi)",
                        r.pending, r.skipped
                    );
                    if r.superseded > 0 {
                        what.push_str(&format!(
                            ", {} thư đang chờ được thay bằng thư ở mức sau",
                            r.superseded
                        ));
                    }
                    tracing::info!(
                        pending = r.pending,
                        skipped = r.skipped,
                        superseded = r.superseded,
                        "{what}"
                    );
                    for line in crate::outbox::describe(&r, &self.cfg, now) {
                        tracing::info!("lập lịch thư: {line}");
                    }
                }
                true
            }
            Err(e) => {
                tracing::error!(
                    error = %e,
                    "lập lịch thư thất bại; lần chạy sau (mỗi phút) sẽ thử lại"
                );
                false
            }
        }
    }
}

/// Says on start how many messages wait and when the next sending window
/// opens, so a quiet daemon outside sending hours does not look stuck.
async fn log_waiting(store: &Store, e: &Engine, now: Timestamp) {
    use crate::store::OutboxStatus;
    let Ok(pending) = store.outbox(Some(OutboxStatus::Pending)).await else {
        return;
    };
    let Some(first) = pending.iter().map(|r| r.next_attempt_at).min() else {
        tracing::info!("không có thư nào đang chờ gửi");
        return;
    };
    let tz = &e.cfg.daemon.time_zone;
    let at = crate::outbox::timing::next_sending_instant(
        first.max(now),
        tz,
        e.cfg.daemon.sending_hours,
        &e.cal,
    );
    tracing::info!(
        waiting = pending.len(),
        "{} thư đang chờ đến giờ gửi; thư tiếp theo đi lúc {} (giờ gửi {} các ngày làm việc)",
        pending.len(),
        crate::logging::local_time(at, tz),
        format_args!(
            "{}–{}",
            e.cfg.daemon.sending_hours.start.strftime("%H:%M"),
            e.cfg.daemon.sending_hours.end.strftime("%H:%M")
        )
    );
}

/// Loads and validates the configuration again; `Err` carries the report.
pub type ReloadFn = Arc<dyn Fn() -> Result<Config, String> + Send + Sync>;

/// What stops or reloads the daemon.
pub enum Signal {
    Reload,
    Stop,
}

/// Runs until `signals` yields `Stop` (or every sender is gone).
pub async fn serve(
    store: Store,
    cfg: Config,
    reload: ReloadFn,
    mut signals: tokio::sync::mpsc::Receiver<Signal>,
) -> Result<(), RunError> {
    let offset = cfg.daemon.time_zone.to_offset(Timestamp::now()).seconds();
    let digest_cron = cfg.daemon.digest.clone();
    let engine = Arc::new(Mutex::new(Engine::build(cfg)?));
    let owner: Arc<str> = Arc::from(format!(
        "{}:{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "hanbao".into()),
        std::process::id()
    ));
    let stop = Arc::new(StopFlag::new(false));
    let heartbeat = Heartbeat::new(Instant::now());
    // HTTP (health, metrics, API) alongside the scheduler: `crate::http`.
    let http_cfg = engine.lock().await.cfg.clone();
    let http = crate::http::start(
        http_cfg.daemon.http_listen,
        crate::http::AppState::new(store.clone(), http_cfg, Some(heartbeat.clone())),
    )
    .await;

    let leadership = Leadership::new(store.leader_lock(), heartbeat.clone());

    // Catch up on start, before the scheduler's first tick.
    heartbeat.beat(Instant::now());
    {
        let mut e = engine.lock().await;
        let role = leadership.confirm().await;
        e.tick_as(&store, &owner, &Timestamp::now, &stop, role.leader)
            .await;
        log_waiting(&store, &e, Timestamp::now()).await;
    }

    let tick: JobFn = {
        let (engine, store, owner, stop, heartbeat, leadership) = (
            engine.clone(),
            store.clone(),
            owner.clone(),
            stop.clone(),
            heartbeat.clone(),
            leadership.clone(),
        );
        Arc::new(move || {
            let (engine, store, owner, stop, heartbeat, leadership) = (
                engine.clone(),
                store.clone(),
                owner.clone(),
                stop.clone(),
                heartbeat.clone(),
                leadership.clone(),
            );
            Box::pin(async move {
                heartbeat.beat(Instant::now());
                if stop.load(Ordering::Acquire) {
                    return;
                }
                let mut e = engine.lock().await;
                // Confirmed after the engine lock: a tick in flight may have taken long.
                let role = leadership.confirm().await;
                e.tick_as(&store, &owner, &Timestamp::now, &stop, role.leader)
                    .await;
            })
        })
    };
    // Leadership checks between ticks: a process that takes over plans and
    // dispatches (escalations included) at once, not at the next minute.
    let checks = {
        let (engine, store, owner, stop, leadership) = (
            engine.clone(),
            store.clone(),
            owner.clone(),
            stop.clone(),
            leadership.clone(),
        );
        tokio::spawn(async move {
            let mut every = tokio::time::interval(LEADERSHIP_INTERVAL);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await;
            loop {
                every.tick().await;
                if stop.load(Ordering::Acquire) {
                    break;
                }
                // Not behind the engine lock: a leader busy sending keeps
                // its lock session alive.
                if !leadership.confirm().await.gained {
                    continue;
                }
                let (engine, store, owner, stop, leadership) = (
                    engine.clone(),
                    store.clone(),
                    owner.clone(),
                    stop.clone(),
                    leadership.clone(),
                );
                tokio::spawn(async move {
                    let mut e = engine.lock().await;
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    let role = leadership.confirm().await;
                    e.tick_as(&store, &owner, &Timestamp::now, &stop, role.leader)
                        .await;
                });
            }
        })
    };
    let digest: JobFn = {
        let (engine, store, leadership) = (engine.clone(), store.clone(), leadership.clone());
        Arc::new(move || {
            let (engine, store, leadership) = (engine.clone(), store.clone(), leadership.clone());
            Box::pin(async move {
                let e = engine.lock().await;
                if !leadership.confirm().await.leader {
                    tracing::info!("bản tổng hợp: tiến trình dẫn dắt (leader) khác gửi");
                    return;
                }
                if let Err(err) = crate::outbox::digest::send_digest(
                    &store,
                    &e.cfg,
                    &e.cal,
                    &e.composer,
                    &e.mailer,
                    Timestamp::now(),
                )
                .await
                {
                    tracing::error!(error = %err, "không gửi được bản tổng hợp");
                }
            })
        })
    };
    let housekeeping: JobFn = {
        let (store, leadership) = (store.clone(), leadership.clone());
        Arc::new(move || {
            let (store, leadership) = (store.clone(), leadership.clone());
            Box::pin(async move {
                use crate::store::OutboxStatus;
                if !leadership.is_leader() {
                    return;
                }
                match store.outbox(Some(OutboxStatus::Failed)).await {
                    Ok(failed) if !failed.is_empty() => tracing::warn!(
                        failed = failed.len(),
                        "{} thư lỗi vĩnh viễn, không gửi lại (có trong bản tổng hợp và trang /dashboard/outbox)",
                        failed.len()
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "dọn dẹp định kỳ thất bại"),
                }
            })
        })
    };
    let scheduler = Scheduler::start(
        vec![
            JobSpec {
                name: "tick".into(),
                cron: TICK_CRON.into(),
                run: tick,
            },
            JobSpec {
                name: "digest".into(),
                cron: digest_cron.clone(),
                run: digest,
            },
            JobSpec {
                name: "housekeeping".into(),
                cron: HOUSEKEEPING_CRON.into(),
                run: housekeeping,
            },
        ],
        offset,
    )
    .await?;

    let watchdog = notify::watchdog_interval().map(|interval| {
        let heartbeat = heartbeat.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(interval / 2);
            loop {
                every.tick().await;
                if heartbeat.is_alive(Instant::now(), TICK_MAX_AGE) {
                    notify::watchdog();
                } else {
                    tracing::error!(
                        "bộ lập lịch đã ngừng chạy; ngừng báo watchdog để systemd khởi động lại"
                    );
                }
            }
        })
    });

    notify::ready("đang chạy");
    tracing::info!("hanbao đang chạy");
    while let Some(Signal::Reload) = signals.recv().await {
        notify::reloading();
        match reload() {
            Ok(cfg) => match Engine::build(cfg) {
                Ok(new) => {
                    if new.cfg.daemon.digest != digest_cron {
                        tracing::warn!(
                            running = %digest_cron,
                            configured = %new.cfg.daemon.digest,
                            "daemon.digest đã đổi; lịch gửi bản tổng hợp mới có hiệu lực từ lần khởi động lại sau"
                        );
                    }
                    http.reloaded(Some(new.cfg.clone()));
                    *engine.lock().await = new;
                    tracing::info!("đã nạp lại cấu hình");
                    notify::ready("đang chạy (đã nạp lại cấu hình)");
                }
                Err(e) => {
                    http.reloaded(None);
                    tracing::error!(error = %e, "nạp lại cấu hình thất bại; giữ cấu hình cũ");
                    notify::ready("đang chạy (nạp lại thất bại; giữ cấu hình cũ)");
                }
            },
            Err(report) => {
                http.reloaded(None);
                tracing::error!("nạp lại cấu hình thất bại; giữ cấu hình cũ:\n{report}");
                notify::ready("đang chạy (nạp lại thất bại; giữ cấu hình cũ)");
            }
        }
    }
    notify::stopping();
    tracing::info!("đang dừng: gửi nốt các thư đang gửi dở");
    stop.store(true, Ordering::Release);
    scheduler.shutdown().await;
    http.stop().await;
    if let Some(w) = watchdog {
        w.abort();
    }
    // Taking the lock waits for a tick in flight to finish its batch.
    drop(engine.lock().await);
    checks.abort();
    leadership.release().await;
    store.close().await;
    tracing::info!("đã dừng");
    Ok(())
}
