//! Scale-out: dispatch throughput of 1, 2 and 3 real
//! `hanbao run` processes (the release binary) on one PostgreSQL database
//! and one SMTP sink on 127.0.0.1, and the time another process needs to
//! take over after the leader is killed with SIGKILL.
//!
//! Throughput: for each instance count, a fresh database receives N
//! reminders (one per unit of a generated configuration, planned through
//! the library exactly as the leader would), all due at the same minute
//! boundary T a few seconds ahead. The processes start, find nothing due,
//! and at T their minute ticks fire together; the figure is N / (time of
//! the N-th accepted message − T).
//!
//! Takeover: with three processes running, the leader (asked through
//! `/healthz`) is killed with SIGKILL and an escalation (which only the
//! leader sends) is enqueued at once; measured are the time until another
//! process's `/healthz` says it leads and until that escalation reaches the
//! sink (the new leader's first duty). A fresh process replaces the dead
//! one before the next sample.
//!
//! Run with `cargo bench --bench scale`; `HANBAO_BENCH_MESSAGES` sets N
//! (default 10000), `HANBAO_BENCH_TAKEOVERS` the samples (default 5). Not a
//! test: it asserts that everything was delivered exactly once, nothing
//! about speed.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hanbao::calendar::WorkCalendar;
use hanbao::outbox::Planning;
use hanbao::store::{NewOutboxRow, OutboxKey, OutboxKind, OutboxStatus};
use jiff::Timestamp;
use jiff::civil::Date;

use hanbao::store::Outbox;
use testkit::pg;
use testkit::smtp::{SinkOptions, SmtpSink};

const TZ: &str = "Asia/Ho_Chi_Minh";

fn today() -> Date {
    jiff::tz::TimeZone::get(TZ)
        .unwrap()
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

/// N units, one one-off report due in three days with a reminder three days
/// before (today, made a working day), sending hours all day.
fn config_text(n: usize, smtp_port: u16, http_port: u16) -> String {
    let today = today();
    let due = today.checked_add(jiff::Span::new().days(3)).unwrap();
    let cal = WorkCalendar::new(&Default::default());
    let mut t = format!(
        "[daemon]\ntime_zone = \"{TZ}\"\nsending_hours = \"00:00-23:59\"\n\
         http_listen = \"127.0.0.1:{http_port}\"\n\
         [mail]\ntransport = \"smtp\"\nfrom = \"Sở LĐ-TB&XH <baocao@so.example>\"\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\n"
    );
    if !cal.is_working_day(today) {
        let _ = write!(
            t,
            "[[calendar.working_days]]\ndate = \"{today}\"\nreason = \"benchmark\"\n"
        );
    }
    t.push_str("[[unit]]\nid = \"so\"\nname = \"Sở LĐ-TB&XH\"\nemail = \"vanthu@so.example\"\n");
    let mut reporters = String::new();
    for i in 0..n {
        let _ = write!(
            t,
            "[[unit]]\nid = \"xa-{i:05}\"\nname = \"UBND xã số {i}\"\nemail = \"vanthu@xa-{i:05}.example\"\n"
        );
        let _ = write!(reporters, "\"xa-{i:05}\",");
    }
    let _ = write!(
        t,
        "[[obligation]]\nid = \"bc-thu\"\ntitle = \"Báo cáo kết quả thực hiện Nghị quyết 121\"\n\
         reporters = [{reporters}]\nrecipient = \"so\"\ncycle = \"once\"\ndue = \"{due}\"\n\
         roll_to_working_day = false\nreminders = [\"3 ngày\"]\n"
    );
    t
}

struct Instance {
    child: Child,
    http: u16,
    /// A metrics token's secret: `/healthz`'s details (`leader`) need one.
    metrics: String,
}

impl Instance {
    fn spawn(dir: &Path, name: &str, n: usize, smtp_port: u16, url: &str) -> Instance {
        let http = free_port();
        let cfg = dir.join(format!("{name}.toml"));
        std::fs::write(&cfg, config_text(n, smtp_port, http)).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .arg("--config")
            .arg(&cfg)
            .args(["token", "create", "--metrics", "--name", name])
            .env("HANBAO_STATE_DIR", dir.join(format!("{name}-state")))
            .env("HANBAO_DATABASE", url)
            .output()
            .unwrap();
        let metrics = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.starts_with("hanbao_"))
            .expect("a metrics token")
            .to_string();
        let child = Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .arg("--config")
            .arg(&cfg)
            .arg("run")
            .env("HANBAO_STATE_DIR", dir.join(format!("{name}-state")))
            .env("HANBAO_DATABASE", url)
            .env("HANBAO_LOG", "warn")
            .env_remove("JOURNAL_STREAM")
            .env_remove("NOTIFY_SOCKET")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join(format!("{name}.log"))).unwrap())
            .spawn()
            .unwrap();
        Instance {
            child,
            http,
            metrics,
        }
    }

    fn leader(&self) -> Option<bool> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.http));
        let r = testkit::http::Request::get("/healthz")
            .header("Authorization", &format!("Bearer {}", self.metrics))
            .send_blocking(addr, Duration::from_secs(5))
            .ok()?;
        let body: serde_json::Value = serde_json::from_slice(&r.bytes).ok()?;
        body["leader"].as_bool()
    }

    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_roles(instances: &[Instance]) -> Vec<bool> {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let r: Vec<Option<bool>> = instances.iter().map(Instance::leader).collect();
        if r.iter().all(Option::is_some) {
            return r.into_iter().flatten().collect();
        }
        assert!(Instant::now() < end, "roles not reported: {r:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn wait_count(sink: &SmtpSink, n: usize, timeout: Duration) -> Instant {
    let end = Instant::now() + timeout;
    loop {
        if sink.message_count() >= n {
            return Instant::now();
        }
        assert!(
            Instant::now() < end,
            "only {} of {n} messages",
            sink.message_count()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The next minute boundary at least `lead` ahead, as a wall-clock
/// timestamp and the matching `Instant`.
fn next_minute(lead: Duration) -> (Timestamp, Instant) {
    let now = Timestamp::now();
    let secs = now.as_second() + lead.as_secs() as i64;
    let t = Timestamp::from_second((secs / 60 + 1) * 60).unwrap();
    let wait = t.duration_since(now).unsigned_abs();
    (t, Instant::now() + wait)
}

/// One throughput round with `k` processes; returns messages per second.
async fn round(
    cluster: &pg::Cluster,
    sink: &SmtpSink,
    dir: &Path,
    n: usize,
    k: usize,
    db: &str,
) -> (f64, Vec<Instance>) {
    let url = cluster.create_database(db).unwrap();
    let text = config_text(n, sink.port(), free_port());
    let cfg = hanbao::config::load_str("bench.toml", &text)
        .unwrap()
        .config;
    let cal = WorkCalendar::new(&cfg.calendar);
    let store = hanbao::store::open(&url).await.unwrap();
    let r = Planning::default()
        .enqueue(&store, &cfg, &cal, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(r.pending, n, "{r:?}");
    let (t, at) = next_minute(Duration::from_secs(12));
    store.close().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query("UPDATE outbox SET next_attempt_at = $1")
        .bind(t.as_second())
        .execute(&pool)
        .await
        .unwrap();
    let start_count = sink.message_count();
    let instances: Vec<Instance> = (1..=k)
        .map(|i| Instance::spawn(dir, &format!("{db}-i{i}"), n, sink.port(), &url))
        .collect();
    let roles = wait_roles(&instances);
    assert_eq!(roles.iter().filter(|l| **l).count(), 1, "{roles:?}");
    assert!(
        Instant::now() < at,
        "instances started after T; raise the lead"
    );
    assert_eq!(sink.message_count(), start_count, "nothing before T");
    let done = wait_count(sink, start_count + n, Duration::from_secs(900)).await;
    let secs = done.duration_since(at).as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.message_count(), start_count + n, "no duplicates");
    let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'sent'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sent as usize, n);
    pool.close().await;
    let rate = n as f64 / secs;
    println!("{k} instance(s): {n} messages in {secs:.2} s after the tick = {rate:.0} msgs/s");
    (rate, instances)
}

fn escalation(stage: u32) -> NewOutboxRow {
    NewOutboxRow {
        key: OutboxKey {
            obligation: "bc-thu".into(),
            period: "bc-thu".into(),
            unit: "xa-00000".into(),
            kind: OutboxKind::Escalation,
            stage,
            recipient: "chutich@tinh.example".into(),
        },
        rank: 100 + stage,
        due_on: today(),
        status: OutboxStatus::Pending,
        next_attempt_at: Timestamp::now(),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("HANBAO_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let takeovers: usize = std::env::var("HANBAO_BENCH_TAKEOVERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let cluster = pg::Cluster::start(pg::Durability::Default).unwrap();
    let sink = SmtpSink::start_with(SinkOptions {
        count_only: true,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let dir: PathBuf = dir.path().to_path_buf();
    println!(
        "PostgreSQL (default durability) and the SMTP sink on 127.0.0.1; {n} reminders per round"
    );

    let mut rates = Vec::new();
    let mut last = Vec::new();
    for k in 1..=3 {
        for i in std::mem::take(&mut last) {
            Instance::stop(i);
        }
        let (rate, instances) = round(&cluster, &sink, &dir, n, k, &format!("scale_{k}")).await;
        rates.push(rate);
        last = instances;
    }
    println!(
        "scaling: 2 instances {:.2}x, 3 instances {:.2}x the single instance",
        rates[1] / rates[0],
        rates[2] / rates[0]
    );

    // Takeover, on the three processes of the last round.
    let url = cluster.url("scale_3");
    let store = hanbao::store::open(&url).await.unwrap();
    let mut instances = last;
    let mut spawned = 0;
    let mut to_leader = Vec::new();
    let mut to_escalation = Vec::new();
    for sample in 0..takeovers {
        let roles = wait_roles(&instances);
        assert_eq!(roles.iter().filter(|l| **l).count(), 1, "{roles:?}");
        let leader = roles.iter().position(|l| *l).unwrap();
        // Spread the kills over the phase of the 5-second checks (the
        // previous takeover put every process's checks in step).
        tokio::time::sleep(Duration::from_millis((sample as u64 * 1700) % 5000)).await;
        let before = sink.message_count();
        let dead = instances.remove(leader);
        let t0 = Instant::now();
        dead.kill9();
        let r = store
            .enqueue(vec![escalation(10 + sample as u32)], Timestamp::now())
            .await
            .unwrap();
        assert_eq!(r.pending, 1);
        let took = loop {
            if instances.iter().any(|i| i.leader() == Some(true)) {
                break t0.elapsed();
            }
            assert!(t0.elapsed() < Duration::from_secs(60), "no takeover");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let sent = wait_count(&sink, before + 1, Duration::from_secs(90)).await;
        let escalated = sent.duration_since(t0);
        println!(
            "takeover {}: new leader after {:.2} s, its first escalation delivered after {:.2} s",
            sample + 1,
            took.as_secs_f64(),
            escalated.as_secs_f64()
        );
        to_leader.push(took.as_secs_f64());
        to_escalation.push(escalated.as_secs_f64());
        spawned += 1;
        instances.push(Instance::spawn(
            &dir,
            &format!("replacement-{spawned}"),
            n,
            sink.port(),
            &url,
        ));
    }
    let stats = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let max = v.iter().cloned().fold(0.0, f64::max);
        (mean, max)
    };
    let (lm, lx) = stats(&to_leader);
    let (em, ex) = stats(&to_escalation);
    println!(
        "takeover over {takeovers} kills: new leader mean {lm:.2} s, max {lx:.2} s; \
         first leader duty (escalation delivered) mean {em:.2} s, max {ex:.2} s \
         (bound: leadership interval {} s + one connect and lock attempt)",
        hanbao::daemon::leader::LEADERSHIP_INTERVAL.as_secs()
    );
    store.close().await;
    for i in instances {
        i.stop();
    }
}
