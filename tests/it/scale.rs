//! Several real `hanbao run` processes on one PostgreSQL database: exactly
//! one leader, one grouped escalation per recipient, takeover
//! after the leader is killed with SIGKILL, and recovery without a restart
//! after every database connection is terminated or the database is
//! unreachable for a while.
//!
//! No virtual clock: the configuration makes the test's own day a working
//! day with sending hours 00:00–23:59 and a one-off report that fell due
//! yesterday, escalated this morning to the unit ("overdue") and to the
//! receiving office ("escalation", grouped per recipient). Each process gets
//! its own config file (only `http_listen` differs) so its `/healthz` can be
//! asked who leads.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hanbao::calendar::WorkCalendar;
use hanbao::config::model::CalendarSettings;
use hanbao::store::{Claim, NewOutboxRow, OutboxKey, OutboxKind, OutboxStatus};
use jiff::Timestamp;
use jiff::civil::Date;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::support::pg;
use crate::support::smtp::SmtpSink;
use hanbao::store::{Election, Outbox};

const UNITS_N: usize = 12;
const OBLIGATION: &str = "bc-thu";
const OFFICE: &str = "vanthu@so.example";

fn unit_ids() -> Vec<String> {
    (1..=UNITS_N).map(|i| format!("xa-{i:02}")).collect()
}

fn unit_mail(u: &str) -> String {
    format!("vanthu@{u}.example")
}

/// Today in a zone where it is daytime (`support::daytime_zone`), so a run
/// near midnight cannot see the day change.
fn today() -> Date {
    crate::support::daytime_zone()
        .1
        .to_datetime(Timestamp::now())
        .date()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The configuration of one instance: a one-off report due yesterday,
/// escalated today (stage 0) to the unit and to the office "so".
fn config_text(smtp_port: u16, http_port: u16) -> String {
    let (zone, _) = crate::support::daytime_zone();
    let today = today();
    let due = today.yesterday().unwrap();
    let cal = WorkCalendar::new(&CalendarSettings {
        culture_day: true,
        ..Default::default()
    });
    let mut toml = format!(
        "[daemon]\ntime_zone = \"{zone}\"\nsending_hours = \"00:00-23:59\"\n\
         http_listen = \"127.0.0.1:{http_port}\"\n\n\
         [mail]\ntransport = \"smtp\"\nfrom = \"Sở Thử <baocao@so.example>\"\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\n\n"
    );
    if !cal.is_working_day(today) {
        toml.push_str(&format!(
            "[[calendar.working_days]]\ndate = \"{today}\"\nreason = \"scale test\"\n\n"
        ));
    }
    toml.push_str(&format!(
        "[[unit]]\nid = \"so\"\nname = \"Sở\"\nemail = \"{OFFICE}\"\n\n"
    ));
    let units = unit_ids();
    for u in &units {
        toml.push_str(&format!(
            "[[unit]]\nid = \"{u}\"\nname = \"UBND {u}\"\nemail = \"{}\"\n\n",
            unit_mail(u)
        ));
    }
    toml.push_str(&format!(
        "[[obligation]]\nid = \"{OBLIGATION}\"\ntitle = \"Báo cáo thử\"\nreporters = [{}]\n\
         recipient = \"so\"\ncycle = \"once\"\ndue = \"{due}\"\nroll_to_working_day = false\n\n\
         [[obligation.escalation]]\nafter = \"0 ngày\"\nnotify = [\"unit\", \"recipient\"]\n",
        units
            .iter()
            .map(|u| format!("\"{u}\""))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    toml
}

/// One `hanbao run` process with its own config file and HTTP port.
struct Instance {
    name: String,
    child: Child,
    http: u16,
    log: PathBuf,
    /// A metrics token's secret: `/metrics` and `/healthz`'s details need one.
    metrics: String,
}

impl Instance {
    fn spawn(dir: &Path, name: &str, smtp_port: u16, database: &str) -> Instance {
        let http = free_port();
        let cfg = dir.join(format!("{name}.toml"));
        std::fs::write(&cfg, config_text(smtp_port, http)).unwrap();
        let log = dir.join(format!("{name}.log"));
        let out = Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .arg("--config")
            .arg(&cfg)
            .args(["token", "create", "--metrics", "--name"])
            .arg(format!("scale {name}"))
            .env("HANBAO_STATE_DIR", dir.join(format!("{name}-state")))
            .env("HANBAO_DATABASE", database)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let metrics = text
            .lines()
            .find(|l| l.starts_with("hanbao_"))
            .unwrap_or_else(|| {
                panic!(
                    "no metrics token: {text}{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
            .to_string();
        let child = Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .arg("--config")
            .arg(&cfg)
            .arg("run")
            .env("HANBAO_STATE_DIR", dir.join(format!("{name}-state")))
            .env("HANBAO_DATABASE", database)
            // SCALE_TEST_LOG (e.g. "debug") when a failure needs more.
            .env(
                "HANBAO_LOG",
                std::env::var("SCALE_TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .env_remove("JOURNAL_STREAM")
            .env_remove("NOTIFY_SOCKET")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Instance {
            name: name.into(),
            child,
            http,
            log,
            metrics,
        }
    }

    /// `GET path` with the metrics token: (status, body), or `None` when
    /// not answering.
    fn get(&self, path: &str) -> Option<(u16, String)> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.http));
        let r = crate::support::http::Request::get(path)
            .header("Authorization", &format!("Bearer {}", self.metrics))
            .send_blocking(addr, Duration::from_secs(5))
            .ok()?;
        Some((r.status, r.body))
    }

    /// `GET /healthz`: (status, JSON body), or `None` when not answering.
    fn health(&self) -> Option<(u16, serde_json::Value)> {
        let (status, body) = self.get("/healthz")?;
        Some((status, serde_json::from_str(&body).ok()?))
    }

    /// `Some(true)` when `/healthz` says this instance leads.
    fn leader(&self) -> Option<bool> {
        self.health()?.1["leader"].as_bool()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGTERM, then waits; asserts a clean exit.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        let log = self.log_text();
        assert!(status.success(), "{}: {status}\n{log}", self.name);
        log
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until every instance has checked its role; returns the roles.
fn roles(instances: &[Instance], timeout: Duration) -> Vec<bool> {
    let end = Instant::now() + timeout;
    loop {
        let roles: Vec<Option<bool>> = instances.iter().map(Instance::leader).collect();
        if roles.iter().all(Option::is_some) {
            return roles.into_iter().flatten().collect();
        }
        assert!(
            Instant::now() < end,
            "not every instance reports its role: {roles:?}\n{}",
            logs(instances)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn logs(instances: &[Instance]) -> String {
    instances
        .iter()
        .map(|i| format!("--- {}\n{}", i.name, i.log_text()))
        .collect()
}

/// Messages received per envelope recipient.
fn per_recipient(sink: &SmtpSink) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for m in sink.messages() {
        for r in &m.rcpt_to {
            *out.entry(r.clone()).or_insert(0) += 1;
        }
    }
    out
}

/// Every unit once and the office once: what one escalation round sends.
fn first_round() -> BTreeMap<String, usize> {
    let mut want: BTreeMap<String, usize> = unit_ids().iter().map(|u| (unit_mail(u), 1)).collect();
    want.insert(OFFICE.into(), 1);
    want
}

/// A new pending row due now, written as another planner would.
fn extra_row(kind: OutboxKind, unit: &str, stage: u32, recipient: &str) -> NewOutboxRow {
    NewOutboxRow {
        key: OutboxKey {
            obligation: OBLIGATION.into(),
            period: OBLIGATION.into(),
            unit: unit.into(),
            kind,
            stage,
            recipient: recipient.into(),
        },
        rank: 100 + stage,
        due_on: today().yesterday().unwrap(),
        status: OutboxStatus::Pending,
        next_attempt_at: Timestamp::now(),
    }
}

async fn enqueue(url: &str, rows: Vec<NewOutboxRow>) {
    let store = hanbao::store::open(url).await.unwrap();
    let n = rows.len();
    let r = store.enqueue(rows, Timestamp::now()).await.unwrap();
    assert_eq!(r.pending, n, "{r:?}");
    store.close().await;
}

/// Three instances: one leader; the grouped escalation to the office goes
/// out exactly once and every unit hears exactly once; the leader killed
/// with SIGKILL is replaced within the leadership interval, and the new
/// leader sends an escalation enqueued after the kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_one_leader_one_escalation_and_takeover_after_kill_9() {
    let sink = SmtpSink::start().await;
    let url = pg::fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let mut instances: Vec<Instance> = (1..=3)
        .map(|i| Instance::spawn(dir.path(), &format!("i{i}"), sink.port(), &url))
        .collect();

    let want = first_round();
    if let Err(e) = sink
        .try_wait_for_messages(UNITS_N + 1, Duration::from_secs(90))
        .await
    {
        panic!("{e}\n{}", logs(&instances));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(per_recipient(&sink), want, "{}", logs(&instances));

    // The office's message groups all twelve rows: one Message-ID.
    let store = hanbao::store::open(&url).await.unwrap();
    let rows = store.outbox(None).await.unwrap();
    store.close().await;
    let escalations: Vec<_> = rows
        .iter()
        .filter(|r| r.key.kind == OutboxKind::Escalation)
        .collect();
    assert_eq!(escalations.len(), UNITS_N, "{rows:?}");
    assert!(
        escalations.iter().all(|r| r.status == OutboxStatus::Sent
            && r.message_id.is_some()
            && r.message_id == escalations[0].message_id),
        "{escalations:?}"
    );

    let roles = roles(&instances, Duration::from_secs(20));
    assert_eq!(
        roles.iter().filter(|l| **l).count(),
        1,
        "exactly one leader: {roles:?}\n{}",
        logs(&instances)
    );
    let leader = roles.iter().position(|l| *l).unwrap();
    for (i, inst) in instances.iter().enumerate() {
        let (status, text) = inst.get("/metrics").expect("metrics answer");
        assert_eq!(status, 200, "{text}");
        let want = format!("\nhanbao_leader {}\n", u8::from(i == leader));
        assert!(text.contains(&want), "{}: {text}", inst.name);
    }

    // A new escalation comes due while the leader is frozen (SIGSTOP: its
    // session, and with it the lock, stay open, but it sends nothing), then
    // the leader is killed. The row is written before any other instance
    // can take over, so the takeover's own round must send it: written
    // after the takeover, it would wait for the next minute's tick, which
    // is not what this test measures.
    let mut dead = instances.remove(leader);
    let stopped = Command::new("kill")
        .args(["-STOP", &dead.child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    enqueue(
        &url,
        vec![extra_row(
            OutboxKind::Escalation,
            "xa-01",
            2,
            "chutich@tinh.example",
        )],
    )
    .await;
    let t0 = Instant::now();
    dead.child.kill().unwrap(); // SIGKILL
    dead.child.wait().unwrap();
    let mut took_over = None;
    while t0.elapsed() < Duration::from_secs(30) {
        let roles: Vec<Option<bool>> = instances.iter().map(Instance::leader).collect();
        if roles.contains(&Some(true)) {
            took_over = Some((t0.elapsed(), roles));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (took, roles) = took_over
        .unwrap_or_else(|| panic!("no instance took over within 30 s\n{}", logs(&instances)));
    if let Err(e) = sink
        .try_wait_for_messages(UNITS_N + 2, Duration::from_secs(30))
        .await
    {
        panic!(
            "{e} (takeover seen after {took:?})\n{}\n--- {} (killed)\n{}",
            logs(&instances),
            dead.name,
            dead.log_text()
        );
    }
    let escalated = t0.elapsed();
    eprintln!(
        "takeover after kill -9: leader in {:.2} s, escalation delivered by the new leader in {:.2} s",
        took.as_secs_f64(),
        escalated.as_secs_f64()
    );
    assert_eq!(roles.iter().filter(|r| **r == Some(true)).count(), 1);
    // The bound: one leadership interval plus a connect and a lock attempt.
    assert!(
        took <= hanbao::daemon::leader::LEADERSHIP_INTERVAL + Duration::from_secs(4),
        "{took:?}"
    );
    assert!(
        escalated < Duration::from_secs(20),
        "{escalated:?}\n{}",
        logs(&instances)
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut want = want;
    want.insert("chutich@tinh.example".into(), 1);
    assert_eq!(per_recipient(&sink), want, "{}", logs(&instances));

    let new_leader = roles.iter().position(|r| *r == Some(true)).unwrap();
    assert!(
        instances[new_leader]
            .log_text()
            .contains("đã nhận quyền dẫn dắt"),
        "{}",
        logs(&instances)
    );
    for i in instances {
        i.stop();
    }
}

/// A TCP proxy in front of PostgreSQL that can cut every connection and
/// refuse new ones (the database unreachable), then serve again on the
/// same port.
struct Proxy {
    port: u16,
    target: u16,
    cut: Arc<Mutex<CancellationToken>>,
}

impl Proxy {
    async fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy {
            port,
            target,
            cut: Arc::new(Mutex::new(CancellationToken::new())),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let token = self.cut.lock().unwrap().clone();
        let target = self.target;
        tokio::spawn(async move {
            loop {
                let (mut client, _) = tokio::select! {
                    _ = token.cancelled() => return,
                    got = listener.accept() => match got { Ok(c) => c, Err(_) => continue },
                };
                let token = token.clone();
                tokio::spawn(async move {
                    let Ok(mut server) =
                        tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                    else {
                        return;
                    };
                    tokio::select! {
                        _ = token.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    }
                });
            }
        });
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Closes every connection and the port.
    fn cut(&self) {
        self.cut.lock().unwrap().cancel();
    }

    /// Listens again on the same port.
    async fn restore(&self) {
        *self.cut.lock().unwrap() = CancellationToken::new();
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot listen again on {}: {e}", self.port),
            }
        };
        self.serve(listener);
    }
}

/// Connection loss without a restart: (1) every hanbao connection is
/// terminated by the server; the instances reconnect (the pool and the
/// leadership session), one leads again, and rows enqueued afterwards are
/// sent exactly once. (2) The database becomes unreachable: `/healthz`
/// answers 503 "database", nobody leads and nothing is sent; when it is
/// back, the instances recover by themselves and send what was enqueued
/// meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_survive_connection_loss_and_an_unreachable_database() {
    let sink = SmtpSink::start().await;
    let direct = pg::fresh_database();
    let database = direct.rsplit('/').next().unwrap().to_string();
    let proxy = Proxy::start(pg::shared().port()).await;
    let url = proxy.url(&database);
    let dir = tempfile::tempdir().unwrap();
    let mut instances: Vec<Instance> = (1..=2)
        .map(|i| Instance::spawn(dir.path(), &format!("i{i}"), sink.port(), &url))
        .collect();
    let mut want = first_round();
    sink.wait_for_messages(UNITS_N + 1, Duration::from_secs(90))
        .await;
    let roles0 = roles(&instances, Duration::from_secs(20));
    assert_eq!(roles0.iter().filter(|l| **l).count(), 1, "{roles0:?}");
    let pids: Vec<u32> = instances.iter().map(|i| i.child.id()).collect();

    // (1) The server terminates every other session of the database.
    let killer = sqlx::PgPool::connect(&direct).await.unwrap();
    let terminated: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&killer)
    .await
    .unwrap();
    assert!(
        terminated.len() >= 2,
        "at least the two leadership sessions: {terminated:?}"
    );
    enqueue(
        &direct,
        vec![
            extra_row(OutboxKind::Overdue, "xa-02", 2, &unit_mail("xa-02")),
            extra_row(OutboxKind::Escalation, "xa-02", 2, "chutich@tinh.example"),
        ],
    )
    .await;
    *want.get_mut(&unit_mail("xa-02")).unwrap() += 1;
    want.insert("chutich@tinh.example".into(), 1);
    // Sent at the latest by the next minute tick.
    sink.wait_for_messages(UNITS_N + 3, Duration::from_secs(90))
        .await;
    let mut end = Instant::now() + Duration::from_secs(20);
    let roles1 = loop {
        let r: Vec<Option<bool>> = instances.iter().map(Instance::leader).collect();
        if r.iter().filter(|l| **l == Some(true)).count() == 1 || Instant::now() > end {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        roles1.iter().filter(|l| **l == Some(true)).count(),
        1,
        "one leader again: {roles1:?}\n{}",
        logs(&instances)
    );
    for i in &instances {
        let (status, body) = i.health().expect("healthz answers");
        assert_eq!(status, 200, "{body}");
    }

    // (2) The database unreachable: 503 "database", nobody leads.
    proxy.cut();
    enqueue(
        &direct,
        vec![
            extra_row(OutboxKind::Overdue, "xa-03", 2, &unit_mail("xa-03")),
            extra_row(
                OutboxKind::Escalation,
                "xa-03",
                2,
                "pho-chutich@tinh.example",
            ),
        ],
    )
    .await;
    *want.get_mut(&unit_mail("xa-03")).unwrap() += 1;
    want.insert("pho-chutich@tinh.example".into(), 1);
    end = Instant::now() + Duration::from_secs(30);
    loop {
        let states: Vec<_> = instances.iter().map(|i| (i.health(), i.leader())).collect();
        let down = states.iter().all(|(h, leader)| {
            h.as_ref().is_some_and(|(status, body)| {
                *status == 503
                    && body["reason"]
                        .as_str()
                        .is_some_and(|r| r.contains("database"))
            }) && *leader == Some(false)
        });
        if down {
            break;
        }
        assert!(
            Instant::now() < end,
            "not reported down: {states:?}\n{}",
            logs(&instances)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        sink.message_count(),
        UNITS_N + 3,
        "nothing is sent without the database"
    );

    proxy.restore().await;
    let back = Instant::now();
    sink.wait_for_messages(UNITS_N + 5, Duration::from_secs(120))
        .await;
    eprintln!(
        "database back: the rows enqueued meanwhile delivered in {:.1} s",
        back.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(per_recipient(&sink), want, "{}", logs(&instances));
    end = Instant::now() + Duration::from_secs(20);
    loop {
        let r: Vec<Option<bool>> = instances.iter().map(Instance::leader).collect();
        let healthy = instances
            .iter()
            .all(|i| i.health().is_some_and(|(s, _)| s == 200));
        if healthy && r.iter().filter(|l| **l == Some(true)).count() == 1 {
            break;
        }
        assert!(Instant::now() < end, "{r:?}\n{}", logs(&instances));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // No restart: the same processes.
    for (i, pid) in instances.iter_mut().zip(&pids) {
        assert!(i.alive());
        assert_eq!(i.child.id(), *pid);
    }
    let log = logs(&instances);
    assert!(log.contains("không kết nối được cơ sở dữ liệu"), "{log}");
    assert!(log.contains("cơ sở dữ liệu đã trả lời lại"), "{log}");
    killer.close().await;
    for i in instances {
        i.stop();
    }
}

/// The lock itself: one holder per database; a second session waits; the
/// holder's session terminated by the server means it no longer leads and
/// the other takes the lock; a release hands it over too. Another database
/// on the same server has its own lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_lock_is_held_by_one_session_and_released_with_it() {
    let url = pg::fresh_database();
    let a = hanbao::store::open(&url).await.unwrap();
    let b = hanbao::store::open(&url).await.unwrap();
    let (mut la, mut lb) = (a.leader_lock(), b.leader_lock());
    assert!(
        la.check().await.unwrap(),
        "the first session takes the lock"
    );
    assert!(!lb.check().await.unwrap(), "the second waits");
    assert!(la.check().await.unwrap(), "a held lock is confirmed");
    assert!(!lb.check().await.unwrap());

    let other = pg::fresh_database();
    let c = hanbao::store::open(&other).await.unwrap();
    let mut lc = c.leader_lock();
    assert!(lc.check().await.unwrap(), "another database, another lock");

    // The server ends the holder's session (and only it).
    let killer = sqlx::PgPool::connect(&url).await.unwrap();
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(&killer)
    .await
    .unwrap();
    assert_eq!(n, 1, "one advisory lock held in this database");
    sqlx::query(
        "SELECT pg_terminate_backend(l.pid) FROM pg_locks l \
         WHERE l.locktype = 'advisory' AND l.granted \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .execute(&killer)
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(lb.check().await.unwrap(), "the lock is free: b takes it");
    let again = la.check().await;
    assert!(
        matches!(again, Ok(false)),
        "a lost its session: not the leader ({again:?})"
    );
    assert!(!la.held());

    // A release (shutdown) hands it over at the next check.
    lb.release().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(la.check().await.unwrap());
    assert!(lc.check().await.unwrap());
    la.release().await;
    lc.release().await;
    killer.close().await;
    for s in [a, b, c] {
        s.close().await;
    }
}

/// What a process that does not lead claims: every due row but the
/// escalations, which stay pending for the leader (both backends).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_of_a_non_leader_leave_escalations_alone() {
    let dir = tempfile::tempdir().unwrap();
    for url in [
        format!("sqlite://{}/hanbao.db", dir.path().display()),
        pg::fresh_database(),
    ] {
        let store = hanbao::store::open(&url).await.unwrap();
        let rows = vec![
            extra_row(OutboxKind::Overdue, "xa-01", 1, &unit_mail("xa-01")),
            extra_row(OutboxKind::Escalation, "xa-01", 1, OFFICE),
            extra_row(OutboxKind::Overdue, "xa-02", 1, &unit_mail("xa-02")),
            extra_row(OutboxKind::Escalation, "xa-02", 1, OFFICE),
        ];
        let now = Timestamp::now();
        assert_eq!(store.enqueue(rows, now).await.unwrap().pending, 4);
        let lease = now
            .checked_add(jiff::SignedDuration::from_mins(15))
            .unwrap();
        let got = store
            .claim_with(Claim::new("other", now, lease, 10).except_escalations())
            .await
            .unwrap();
        assert_eq!(got.len(), 2, "{url}: {got:?}");
        assert!(got.iter().all(|r| r.key.kind == OutboxKind::Overdue));
        let got = store
            .claim_with(Claim::new("other", now, lease, 10).except_escalations())
            .await
            .unwrap();
        assert!(got.is_empty(), "{url}: {got:?}");
        let got = store.claim("leader", now, lease, 10).await.unwrap();
        assert_eq!(got.len(), 2, "{url}: {got:?}");
        assert!(got.iter().all(|r| r.key.kind == OutboxKind::Escalation));
        // An expired escalation lease is still the leader's to take again.
        let later = lease
            .checked_add(jiff::SignedDuration::from_secs(1))
            .unwrap();
        let got = store
            .claim_with(Claim::new("other", later, later, 10).except_escalations())
            .await
            .unwrap();
        assert_eq!(got.len(), 2, "the expired overdue leases: {got:?}");
        assert!(got.iter().all(|r| r.key.kind == OutboxKind::Overdue));
        store.close().await;
    }
}
