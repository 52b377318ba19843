//! `hanbao run`: the long-running service, in mini-redis's shape.
//!
//! [`serve`] builds one [`Daemon`], the state every job shares, and runs
//! it until its shutdown future completes; each job is a method of
//! `Daemon` run on an `Arc` of it: the minute [`Daemon::tick`], the
//! leadership checks between ticks, the digest, housekeeping, the
//! watchdog, and [`Daemon::reload`] on SIGHUP. The [`Engine`] (composer,
//! mailer and planning watermark built from one snapshot) sits behind a
//! mutex: a tick locks it, plans and enqueues everything due, and
//! dispatches inside sending hours; a reload swaps it. Every tick derives
//! its work from the database, so a missed tick is caught up by the next
//! and downtime by the first tick on start.
//!
//! One snapshot per start or reload (`live::Live`: the configuration, its
//! calendar, the link key) is made here and handed to both the engine and
//! the web face (`AppState::reloaded`), so the links the mail carries and
//! the key `/confirm` checks them with always come from the same reading
//! of `link.key`.
//!
//! Shutdown is one `CancellationToken`: cancelled, it stops the loops,
//! the web server's accept loop and a dispatch run between batches; the
//! `TaskTracker` then waits for every job run and task in flight, so the
//! batch being sent is finished and recorded before the process exits.
//!
//! With a test clock (`daemon::clock`, tests only) the same jobs run at the
//! virtual clock's minutes, stepped as fast as they go, instead of the
//! scheduler's tick and digest.
//!
//! Several processes may share one PostgreSQL database: only the leader
//! (`daemon::leader`) plans, sends the digest, runs housekeeping, claims
//! escalations and watches the mailbox of replies (`intake`); every process dispatches the other rows, and plans once
//! after its start or a reload (its configuration may be newer than the
//! leader's). Leadership is confirmed before each of those duties and
//! checked every `LEADERSHIP_INTERVAL`; a process that takes over runs a
//! tick at once.
//!
//! Must not: decide what is sent (that is `outbox`), or touch SMTP or SQL
//! directly.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::clock::{Clock, Stepped};
use crate::config::model::Config;
use crate::heartbeat::{Heartbeat, TICK_MAX_AGE};
use crate::http::AppState;
use crate::live::Live;
use crate::mail::{ComposeError, Composer, Mailer, MailerError, TemplateErrors};
use crate::outbox::{ComposerError, Dispatcher, Planning};
use crate::store::{Election, Outbox, OutboxStatus, Store, TALLY_FOLD_AT};

use super::leader::{LEADERSHIP_INTERVAL, Leadership};
use super::notify;
use super::schedule::{JobSpec, ScheduleError, Scheduler};

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

/// Everything a tick needs, built from one snapshot.
pub struct Engine {
    /// The configuration, calendar and link key this engine was built
    /// from: the web face has the same `Arc`.
    pub live: Arc<Live>,
    pub composer: Composer,
    pub mailer: Mailer,
    pub planning: Planning,
    /// Plan at the next tick whatever the role: set when built (start or
    /// reload), so a configuration newer than the leader's (a rolling
    /// reload or upgrade) takes effect as soon as one instance has it.
    pub plan_once: bool,
}

impl Engine {
    /// Builds the composer (with the snapshot's links) and the mailer
    /// (reads the SMTP password). The templates (`mail.templates` over the
    /// built-ins) are rendered against sample data first, so a broken one
    /// fails the start or the reload, not a send. Must run inside a tokio
    /// runtime.
    pub fn build(live: Arc<Live>) -> Result<Engine, RunError> {
        let composer = match crate::outbox::composer_with_links(&live.cfg, live.links()) {
            Ok(c) => c,
            Err(ComposerError::Templates(t)) => return Err(RunError::Templates(t)),
            Err(ComposerError::Compose(c)) => return Err(RunError::Compose(c)),
        };
        let mailer = Mailer::new(&live.cfg.mail)?;
        Ok(Engine {
            live,
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
        stop: &CancellationToken,
    ) {
        self.tick_as(store, owner, clock, stop, true).await;
    }

    /// One tick: the leader enqueues what is due and dispatches everything;
    /// another process only dispatches, escalations excepted (and plans
    /// once after a start or reload: see `plan_once`; planning twice writes
    /// nothing twice). A dispatch run stops between batches once `stop` is
    /// cancelled.
    pub async fn tick_as(
        &mut self,
        store: &Store,
        owner: &str,
        clock: &(dyn Fn() -> Timestamp + Sync),
        stop: &CancellationToken,
        leader: bool,
    ) {
        let now = clock();
        let plan = leader || self.plan_once;
        if plan && !self.plan(store, now).await {
            return;
        }
        let d = Dispatcher {
            cfg: &self.live.cfg,
            cal: &self.live.cal,
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
        let live = &self.live;
        match self
            .planning
            .enqueue(store, &live.cfg, &live.cal, now)
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
                    for line in r.written.lines(&live.cfg) {
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

/// The daily housekeeping's retention (leader only): deletes the finished
/// outbox rows older than `daemon.outbox_retention_days` and says how many.
async fn housekeep(store: &Store, cfg: &Config, now: Timestamp) {
    match crate::outbox::retention::purge(store, cfg, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            deleted = n,
            days = cfg.daemon.outbox_retention_days,
            "dọn hàng đợi thư: đã xóa {n} thư đã xong (đã gửi, bỏ qua hoặc huỷ) cũ hơn {} ngày \
             (daemon.outbox_retention_days); lịch sử nộp báo cáo được giữ nguyên",
            cfg.daemon.outbox_retention_days
        ),
        Err(e) => tracing::error!(error = %e, "dọn hàng đợi thư thất bại; thử lại lần sau"),
    }
}

/// Loads and validates the configuration again; `Err` carries the report.
pub type ReloadFn = Arc<dyn Fn() -> Result<Config, String> + Send + Sync>;

/// The running service: what its jobs share. Each job is a method, run on
/// an `Arc<Daemon>` by the scheduler or a task of its own.
pub struct Daemon {
    store: Store,
    /// Plans and dispatches, one tick at a time; a reload swaps it whole.
    engine: Mutex<Engine>,
    /// The web face's state: told of every reload, with the same snapshot.
    http: AppState,
    /// Names this process in outbox leases ("host:pid").
    owner: String,
    heartbeat: Heartbeat,
    leadership: Leadership,
    /// `daemon.digest` as scheduled at start (a change needs a restart).
    digest_cron: String,
    /// Cancelled once, on SIGTERM or SIGINT.
    shutdown: CancellationToken,
    /// Every job run and task the daemon started: shutdown waits for them.
    tasks: TaskTracker,
    /// What the time is: the system's but in tests (`daemon::clock`).
    clock: Clock,
}

/// Runs `hanbao run` on `cfg` until `shutdown` completes: reloads on each
/// message of `reloads` (SIGHUP), through `reload`. `clock` is
/// [`Clock::System`] but in tests (`daemon::clock`).
pub async fn serve(
    store: Store,
    cfg: Config,
    reload: ReloadFn,
    mut reloads: tokio::sync::mpsc::Receiver<()>,
    shutdown: impl Future<Output = ()>,
    clock: Clock,
) -> Result<(), RunError> {
    let offset = cfg.daemon.time_zone.to_offset(clock.now()).seconds();
    let live = Arc::new(Live::load(cfg));
    let engine = Engine::build(live.clone())?;
    let heartbeat = Heartbeat::new(Instant::now());
    let token = CancellationToken::new();
    let http = AppState::new(store.clone(), live.clone(), Some(heartbeat.clone()));
    let server = crate::http::start(live.cfg.daemon.http_listen, http.clone(), token.clone()).await;
    let daemon = Arc::new(Daemon {
        engine: Mutex::new(engine),
        leadership: Leadership::new(store.leader_lock(), heartbeat.clone()),
        owner: format!(
            "{}:{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "hanbao".into()),
            std::process::id()
        ),
        digest_cron: live.cfg.daemon.digest.clone(),
        store,
        http,
        heartbeat,
        shutdown: token,
        tasks: TaskTracker::new(),
        clock,
    });

    daemon.catch_up().await;
    // On a test clock the driver steps through the minutes instead of
    // the scheduler's tick and digest.
    if let Clock::Stepped(stepped) = &daemon.clock {
        daemon
            .tasks
            .spawn(daemon.clone().drive_stepped(stepped.clone(), offset));
    }
    let scheduler = Scheduler::start(daemon.jobs(), offset).await?;
    daemon.tasks.spawn(daemon.clone().check_leadership());
    daemon.tasks.spawn(daemon.clone().watch_mailbox());
    if let Some(interval) = notify::watchdog_interval() {
        daemon.tasks.spawn(daemon.clone().watchdog(interval));
    }

    notify::ready("đang chạy");
    tracing::info!("hanbao đang chạy");
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            asked = reloads.recv() => match asked {
                Some(()) => daemon.reload(&reload).await,
                // Nobody can ask for a reload any more: wait for the end.
                None => {
                    (&mut shutdown).await;
                    break;
                }
            },
        }
    }
    daemon.stop(scheduler, server).await;
    Ok(())
}

impl Daemon {
    /// The scheduler's jobs: the minute tick, the digest, housekeeping. On
    /// a test clock only housekeeping: `drive_stepped` runs the tick and
    /// the digest at the virtual clock's minutes.
    fn jobs(self: &Arc<Self>) -> Vec<JobSpec> {
        let mut jobs = Vec::new();
        if let Clock::System = self.clock {
            jobs.push(self.job("tick", TICK_CRON, |d| async move { d.tick().await }));
            jobs.push(self.job(
                "digest",
                &self.digest_cron,
                |d| async move { d.digest().await },
            ));
        }
        jobs.push(self.job("housekeeping", HOUSEKEEPING_CRON, |d| async move {
            d.housekeeping().await
        }));
        jobs
    }

    /// Tests only (`daemon::clock`): steps the virtual clock to its end,
    /// running at each step what the scheduler runs at that minute (the
    /// tick, then the digest when its cron expression fires in the step),
    /// as fast as they go; stops early on shutdown.
    async fn drive_stepped(self: Arc<Self>, stepped: Arc<Stepped>, offset: i32) {
        loop {
            if self.shutdown.is_cancelled() {
                return;
            }
            let before = stepped.now();
            let Some(now) = stepped.advance() else { break };
            self.heartbeat.beat(Instant::now());
            self.run_engine().await;
            let digest = super::schedule::occurrences(&self.digest_cron, offset, before, now, 1)
                .is_ok_and(|t| !t.is_empty());
            if digest {
                self.digest().await;
            }
            tokio::task::yield_now().await;
        }
        tracing::info!(at = %stepped.now(), "đồng hồ thử đã chạy đến cuối");
    }

    /// A job that runs `body` on this daemon at `cron`; each run is
    /// tracked, so shutdown waits for the one in flight.
    fn job<F, Fut>(self: &Arc<Self>, name: &str, cron: &str, body: F) -> JobSpec
    where
        F: Fn(Arc<Daemon>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let daemon = self.clone();
        JobSpec {
            name: name.into(),
            cron: cron.into(),
            run: Arc::new(move || Box::pin(daemon.tasks.track_future(body(daemon.clone())))),
        }
    }

    /// On start, before the scheduler's first tick: catch up on what came
    /// due while the daemon was down, then say what waits.
    async fn catch_up(&self) {
        self.heartbeat.beat(Instant::now());
        let mut engine = self.engine.lock().await;
        self.tick_locked(&mut engine).await;
        self.log_waiting(&engine, self.clock.now()).await;
    }

    /// The minute tick: proves the scheduler alive, then plans (as the
    /// leader, or once after a start or reload) and dispatches.
    async fn tick(&self) {
        self.heartbeat.beat(Instant::now());
        if self.shutdown.is_cancelled() {
            return;
        }
        self.run_engine().await;
    }

    /// One tick of the engine, as the role confirmed after taking its lock
    /// (a tick in flight may have taken long).
    async fn run_engine(&self) {
        let mut engine = self.engine.lock().await;
        if self.shutdown.is_cancelled() {
            return;
        }
        self.tick_locked(&mut engine).await;
    }

    /// A tick of `engine` (locked by the caller) now, as the role confirmed
    /// at this moment.
    async fn tick_locked(&self, engine: &mut Engine) {
        let leader = self.leadership.confirm().await.leader;
        let (store, owner, stop) = (&self.store, &self.owner, &self.shutdown);
        let clock = &self.clock;
        engine
            .tick_as(store, owner, &|| clock.now(), stop, leader)
            .await;
    }

    /// Leadership checks between ticks, until shutdown: a process that
    /// takes over plans and dispatches (escalations included) at once, not
    /// at the next minute. Not behind the engine lock: a leader busy
    /// sending keeps its lock session alive. The leader also folds the
    /// outbox tally's changes here (`fold_tally`), so that they do not pile
    /// up during a long dispatch run.
    ///
    /// The takeover's round follows [`Leadership::gained`], not this task's
    /// own check: the mailbox watcher and the digest confirm leadership
    /// too, and whichever check sees the takeover first, the round runs.
    async fn check_leadership(self: Arc<Self>) {
        let mut every = tokio::time::interval(LEADERSHIP_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            tokio::select! {
                () = self.shutdown.cancelled() => break,
                () = self.leadership.gained() => {
                    let daemon = self.clone();
                    self.tasks.spawn(async move { daemon.run_engine().await });
                }
                _ = every.tick() => {
                    if self.leadership.confirm().await.leader {
                        self.fold_tally().await;
                    }
                }
            }
        }
    }

    /// Leader only, every leadership check: folds the outbox counts'
    /// changes into their tally once more than `TALLY_FOLD_AT` wait
    /// (PostgreSQL; nothing on SQLite), so that `/metrics` reads a few
    /// dozen rows. A failure only leaves them for the next check.
    async fn fold_tally(&self) {
        match self.store.fold_outbox_tally(TALLY_FOLD_AT).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(folded = n, "đã gộp {n} thay đổi vào bộ đếm hàng đợi thư"),
            Err(e) => tracing::warn!(
                error = %e,
                "gộp bộ đếm hàng đợi thư thất bại; thử lại ở lần kiểm tra sau"
            ),
        }
    }

    /// Pings the systemd watchdog every half `interval` while the
    /// scheduler ticks (a tick at most `TICK_MAX_AGE` ago), until shutdown.
    async fn watchdog(self: Arc<Self>, interval: Duration) {
        let mut every = tokio::time::interval(interval / 2);
        loop {
            tokio::select! {
                () = self.shutdown.cancelled() => break,
                _ = every.tick() => {}
            }
            if self.heartbeat.is_alive(Instant::now(), TICK_MAX_AGE) {
                notify::watchdog();
            } else {
                tracing::error!(
                    "bộ lập lịch đã ngừng chạy; ngừng báo watchdog để systemd khởi động lại"
                );
            }
        }
    }

    /// The watched mailbox (`[intake]`), on the leader only: while this
    /// process leads and the configuration in force has an `[intake]`,
    /// `intake::Watcher::run` watches it (and connects again after
    /// failures); it returns when leadership is lost, the section is gone
    /// after a reload, or on shutdown. Looked at again every
    /// `LEADERSHIP_INTERVAL`.
    async fn watch_mailbox(self: Arc<Self>) {
        loop {
            if self.shutdown.is_cancelled() {
                return;
            }
            let leads = self.leadership.confirm().await.leader;
            if leads && self.http.live().cfg.intake.is_some() {
                let http = self.http.clone();
                let live = move || http.live();
                let clock = self.clock.clone();
                let now = move || clock.now();
                let heartbeat = self.heartbeat.clone();
                let still_leads = move || heartbeat.leader() == Some(true);
                crate::intake::Watcher {
                    store: &self.store,
                    live: &live,
                    now: &now,
                    leads: &still_leads,
                    stop: &self.shutdown,
                }
                .run()
                .await;
            }
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                () = tokio::time::sleep(LEADERSHIP_INTERVAL) => {}
            }
        }
    }

    /// The coordinator's digest, sent by the leader only.
    async fn digest(&self) {
        let engine = self.engine.lock().await;
        if !self.leadership.confirm().await.leader {
            tracing::info!("bản tổng hợp: tiến trình dẫn dắt (leader) khác gửi");
            return;
        }
        if let Err(err) = crate::outbox::digest::send_digest(
            &self.store,
            &engine.live.cfg,
            &engine.live.cal,
            &engine.composer,
            &engine.mailer,
            self.clock.now(),
        )
        .await
        {
            tracing::error!(error = %err, "không gửi được bản tổng hợp");
        }
    }

    /// Daily, on the leader: deletes the finished outbox rows past
    /// retention (`housekeep`), and says how many messages failed for good.
    async fn housekeeping(&self) {
        if !self.leadership.is_leader() {
            return;
        }
        let live = self.engine.lock().await.live.clone();
        housekeep(&self.store, &live.cfg, Timestamp::now()).await;
        // Counted, not read: the failed rows stay until someone retries them.
        match self.store.outbox_waiting(OutboxStatus::Failed).await {
            Ok((failed, _)) if failed > 0 => tracing::warn!(
                failed,
                "{failed} thư lỗi vĩnh viễn, không gửi lại (có trong bản tổng hợp và trang /dashboard/outbox)"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "dọn dẹp định kỳ thất bại"),
        }
    }

    /// SIGHUP: loads the configuration again and makes a new snapshot (the
    /// link key read anew), builds an engine from it, and swaps both the
    /// web face's snapshot and the engine. Anything that fails keeps the
    /// old ones, and says why.
    async fn reload(&self, reload: &ReloadFn) {
        notify::reloading();
        let built = reload()
            .map_err(|report| format!("nạp lại cấu hình thất bại; giữ cấu hình cũ:\n{report}"))
            .and_then(|cfg| {
                Engine::build(Arc::new(Live::load(cfg)))
                    .map_err(|e| format!("nạp lại cấu hình thất bại; giữ cấu hình cũ: {e}"))
            });
        match built {
            Ok(engine) => {
                let digest = &engine.live.cfg.daemon.digest;
                if *digest != self.digest_cron {
                    tracing::warn!(
                        running = %self.digest_cron,
                        configured = %digest,
                        "daemon.digest đã đổi; lịch gửi bản tổng hợp mới có hiệu lực từ lần khởi động lại sau"
                    );
                }
                self.http.reloaded(Some(engine.live.clone()));
                *self.engine.lock().await = engine;
                tracing::info!("đã nạp lại cấu hình");
                notify::ready("đang chạy (đã nạp lại cấu hình)");
            }
            Err(why) => {
                self.http.reloaded(None);
                tracing::error!("{why}");
                notify::ready("đang chạy (nạp lại thất bại; giữ cấu hình cũ)");
            }
        }
    }

    /// Stops: cancels the token (the loops end, the web server stops
    /// accepting, a dispatch run stops after its batch), stops the
    /// scheduler, waits for the requests and every job run or task in
    /// flight, then gives up leadership and closes the store.
    async fn stop(&self, scheduler: Scheduler, server: crate::http::Running) {
        notify::stopping();
        tracing::info!("đang dừng: gửi nốt các thư đang gửi dở");
        self.shutdown.cancel();
        scheduler.shutdown().await;
        server.stopped().await;
        self.tasks.close();
        self.tasks.wait().await;
        self.leadership.release().await;
        self.store.close().await;
        tracing::info!("đã dừng");
    }

    /// Says on start how many messages wait and when the next sending
    /// window opens, so a quiet daemon outside sending hours does not look
    /// stuck.
    async fn log_waiting(&self, engine: &Engine, now: Timestamp) {
        // One aggregate statement: at national scale the pending rows of a
        // catch-up number about 100,000, and reading them only to count them
        // held them all in memory at start.
        let Ok((waiting, first)) = self.store.outbox_waiting(OutboxStatus::Pending).await else {
            return;
        };
        let Some(first) = first else {
            tracing::info!("không có thư nào đang chờ gửi");
            return;
        };
        let daemon = &engine.live.cfg.daemon;
        let tz = &daemon.time_zone;
        let at = crate::outbox::timing::next_sending_instant(
            first.max(now),
            tz,
            daemon.sending_hours,
            &engine.live.cal,
        );
        tracing::info!(
            waiting,
            "{} thư đang chờ đến giờ gửi; thư tiếp theo đi lúc {} (giờ gửi {} các ngày làm việc)",
            waiting,
            crate::logging::local_time(at, tz),
            format_args!(
                "{}–{}",
                daemon.sending_hours.start.strftime("%H:%M"),
                daemon.sending_hours.end.strftime("%H:%M")
            )
        );
    }
}
