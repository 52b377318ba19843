//! One-click confirmation links in reminder emails, end to end: the
//! dispatcher sends reminders over real SMTP (`support::smtp`), the link is
//! taken from the received message (decoded from its MIME text part), the
//! running HTTP server (127.0.0.1:0) shows the form for it and records the
//! submission with source "link", and later dispatches send that unit
//! nothing more. Also `daemon.public_url` validation.

use std::net::SocketAddr;
use std::time::Duration;

use hanbao::calendar::WorkCalendar;
use hanbao::config::model::{Config, Smtp, SmtpSecurity, Transport};
use hanbao::http::{self, AppState};
use hanbao::link::{LinkKey, Links};
use hanbao::live::Live;
use hanbao::mail::{Composer, Mailer, Templates};
use hanbao::outbox::{Dispatcher, Planning};
use hanbao::store::{self, HistoryFilter, Source, Store};
use jiff::Timestamp;
use jiff::civil::{Date, date};

use crate::support::http::{Request, form};
use crate::support::mime::Mail;
use crate::support::smtp::{Received, SmtpSink};
use hanbao::store::Records;

const YTE: &str = "vanthu@soyte.quangngai.example";
const TC: &str = "vanthu@sotc.quangngai.example";
const HEAD: &str = "vanthu@ubnd.quangngai.example";

/// Two reporters of a quarterly report with a reminder 3 working days
/// ahead; `ubnd-tinh` supervises both (so escalations go to it).
fn config_text(state_dir: &std::path::Path, public_url: &str) -> String {
    format!(
        r#"
[daemon]
state_dir = "{state}"
public_url = "{public_url}"

[[group]]
id = "so-nganh"

[[unit]]
id = "ubnd-tinh"
name = "UBND tỉnh"
email = "{HEAD}"

[[unit]]
id = "so-yte"
name = "Sở Y tế"
email = "{YTE}"
groups = ["so-nganh"]
supervisor = "ubnd-tinh"

[[unit]]
id = "so-taichinh"
name = "Sở Tài chính"
email = "{TC}"
groups = ["so-nganh"]
supervisor = "ubnd-tinh"

[[obligation]]
id = "bc-quy"
title = "Báo cáo quý"
reporters = ["so-nganh"]
recipient = "ubnd-tinh"
cycle = "quarterly"
due = "ngày 20"
reminders = ["3 ngày làm việc"]
active_from = "01/01/2027"

[[obligation.escalation]]
after = "0 ngày"
notify = ["unit", "supervisor"]
"#,
        state = state_dir.display()
    )
}

/// Local time in Vietnam (UTC+7, no DST).
fn vn(d: Date, h: i8, m: i8) -> Timestamp {
    jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh")
        .unwrap()
        .to_timestamp(d.at(h, m, 0, 0))
        .unwrap()
}

// ---------------------------------------------------------------------------
// Reading what the server and the mail side produce, with the tests' own
// MIME reader (`support::mime`, on mail-parser) and HTTP client: nothing
// shared with the code under test.

fn part(m: &Received, ctype: &str) -> String {
    Mail::parse(&m.data).leaf(ctype).text()
}

/// The confirmation URL in a message's text part, if any.
fn link_in(m: &Received) -> Option<String> {
    let text = part(m, "text/plain");
    let start = text.find("http://")?;
    let url: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    url.contains("/confirm?").then_some(url)
}

/// (status, body) of one HTTP/1.1 request with `Connection: close`.
async fn http(addr: SocketAddr, method: &str, path: &str, form: Option<&str>) -> (u16, String) {
    let mut req = Request::new(method, path);
    if let Some(body) = form {
        req = req.body("application/x-www-form-urlencoded", body);
    }
    let r = req.send(addr).await;
    assert!(
        !r.head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "the pages are small and sent with a length"
    );
    (r.status, r.body)
}

struct Rig {
    cfg: Config,
    cal: WorkCalendar,
    composer: Composer,
    mailer: Mailer,
    store: Store,
    planning: Planning,
}

impl Rig {
    /// One daemon tick at `now`: plan, then dispatch.
    async fn tick(&mut self, now: Timestamp) {
        self.planning
            .enqueue(&self.store, &self.cfg, &self.cal, now)
            .await
            .unwrap();
        Dispatcher {
            cfg: &self.cfg,
            cal: &self.cal,
            composer: &self.composer,
            mailer: &self.mailer,
            owner: "test",
        }
        .run(&self.store, &|| now)
        .await
        .unwrap();
    }
}

/// The season of the quarter the real clock is in (due "ngày 20" of the
/// quarter's last month), walked one working morning at a time through
/// that month and the next: the HTTP side reads the real clock, so the
/// links (valid until 30 days after the deadline) are live, and the day
/// the unit confirms (today) is inside the period, as a receipt must be.
/// The obligation starts with that quarter, so no earlier period is owed.
/// Dates are not hard-coded: the test keys on which messages arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminder_link_confirms_over_http_and_stops_the_reminders() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    std::fs::create_dir_all(&state_dir).unwrap();
    std::fs::write(
        state_dir.join(http::LINK_KEY_FILE),
        b"0f1e2d3c4b5a69788796a5b4c3d2e1f0\n",
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let today = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh")
        .unwrap()
        .to_datetime(Timestamp::now())
        .date();
    let quarter = (today.month() - 1) / 3 + 1;
    let period = format!("{}-Q{quarter}", today.year());
    let opens = date(today.year(), quarter * 3 - 2, 1);
    let due_month = date(today.year(), quarter * 3, 1);
    let month_after = due_month.checked_add(jiff::Span::new().months(1)).unwrap();
    let text = config_text(&state_dir, &format!("http://{addr}/")).replace(
        "active_from = \"01/01/2027\"",
        &format!("active_from = \"{}\"", opens.strftime("%d/%m/%Y")),
    );
    let mut cfg = hanbao::config::load_str("l.toml", &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    assert_eq!(cfg.daemon.public_url, Some(format!("http://{addr}")));
    cfg.mail.transport = Transport::Smtp(Smtp {
        connections: 1,
        host: "127.0.0.1".into(),
        port: sink.port(),
        security: SmtpSecurity::None,
        username: None,
        password: None,
    });
    let store = store::open(&format!("sqlite://{}/h.db", dir.path().display()))
        .await
        .unwrap();

    // One snapshot for both sides, as `hanbao run` makes it: the web side
    // checks links with its key, the mail side signs with it.
    let live = std::sync::Arc::new(Live::load(cfg.clone()));
    assert!(live.link_key().is_some(), "link.key read with the snapshot");
    let state = AppState::new(store.clone(), live.clone(), None);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(http::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let links = live.links();
    assert!(links.is_some(), "public_url and link.key: links on");
    assert!(Links::configured(&cfg.daemon).unwrap().is_some());
    let mut rig = Rig {
        cal: WorkCalendar::new(&cfg.calendar),
        composer: Composer::new(&cfg.mail, Templates::builtin())
            .unwrap()
            .with_links(links),
        mailer: Mailer::new(&cfg.mail)
            .unwrap()
            .with_send_timeout(Duration::from_secs(5)),
        store: store.clone(),
        cfg,
        planning: Planning::default(),
    };

    // Walk the due month until the reminders arrive.
    let mut day = due_month;
    while sink.message_count() == 0 {
        assert!(day < month_after, "no reminder in the due month");
        rig.tick(vn(day, 8, 0)).await;
        day = day.tomorrow().unwrap();
    }
    let first = sink.messages();
    assert_eq!(first.len(), 2, "one reminder per unit");
    let to_yte = first.iter().find(|m| m.rcpt_to == [YTE]).unwrap();
    let url = link_in(to_yte).expect("a confirmation link in the reminder");
    let html = part(to_yte, "text/html")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&");
    assert!(html.contains(&format!("href=\"{url}\"")), "{html}");
    assert!(html.contains("Xác nhận đã gửi báo cáo"));
    let path = url
        .strip_prefix(&format!("http://{addr}"))
        .expect("the link points at the public URL");
    let query: Vec<(String, String)> = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert!(path.starts_with("/confirm?"), "{path}");
    let field = |k: &str| query.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(
        (field("o"), field("p"), field("u")),
        ("bc-quy".into(), period.clone(), "so-yte".into())
    );
    let to_tc = first.iter().find(|m| m.rcpt_to == [TC]).unwrap();
    let tc_url = link_in(to_tc).unwrap();
    assert!(tc_url.contains("u=so-taichinh") && tc_url != url);

    // GET shows the form; POST records the submission with source "link".
    let (status, body) = http(addr, "GET", path, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<form") && body.contains("Sở Y tế"), "{body}");
    let today_date = today;
    let today = today.to_string();
    let mut fields: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    fields.push(("reference", "12/BC-SYT"));
    fields.push(("received_on", &today));
    // The first post echoes the day in words and records nothing; its
    // "Xác nhận" records.
    let (status, body) = http(addr, "POST", "/confirm", Some(&form(&fields))).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!(
            "tháng {} năm {}",
            today_date.month(),
            today_date.year()
        )),
        "{body}"
    );
    assert!(
        store
            .history(&HistoryFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    fields.push(("step", "record"));
    let (status, body) = http(addr, "POST", "/confirm", Some(&form(&fields))).await;
    assert_eq!(status, 201, "{body}");
    let history = store.history(&HistoryFilter::default()).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].source, Source::Link);
    assert_eq!(history[0].key.unit, "so-yte");
    assert_eq!(history[0].reference.as_deref(), Some("12/BC-SYT"));

    // The rest of the season: nothing more for so-yte; so-taichinh gets
    // its due-day and overdue notices, each with its own link; the
    // escalation to the supervisor carries none.
    let before = sink.message_count();
    while day < month_after.last_of_month() {
        rig.tick(vn(day, 8, 0)).await;
        day = day.tomorrow().unwrap();
    }
    let later: Vec<Received> = sink.messages().split_off(before);
    assert!(
        later.iter().all(|m| m.rcpt_to != [YTE]),
        "nothing more for the unit that confirmed"
    );
    let tc_later: Vec<&Received> = later.iter().filter(|m| m.rcpt_to == [TC]).collect();
    assert!(!tc_later.is_empty(), "so-taichinh is still reminded");
    for m in &tc_later {
        let u = link_in(m).expect("every notice to the unit carries its link");
        assert!(u.contains("u=so-taichinh"), "{u}");
    }
    // The last overdue notice's link opens the unit's form.
    let last = link_in(tc_later.last().unwrap()).unwrap();
    let (status, body) = http(addr, "GET", &last[format!("http://{addr}").len()..], None).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<form") && body.contains("Sở Tài chính"),
        "{body}"
    );
    let escalations: Vec<&Received> = later.iter().filter(|m| m.rcpt_to == [HEAD]).collect();
    assert!(!escalations.is_empty(), "the supervisor is told");
    for m in escalations {
        assert!(!m.text().contains("confirm"), "no link for the supervisor");
    }

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// `daemon.public_url` must be an absolute http(s) URL; the diagnostic
/// points at the value (line 3, column 14) and names the key.
#[test]
fn public_url_is_validated_with_a_position() {
    let text = "[daemon]\nstate_dir = \"/tmp/x\"\npublic_url = \"baocao.quangngai.example\"\n";
    let err = hanbao::config::load_str("p.toml", text).unwrap_err();
    let d = err
        .errors
        .iter()
        .find(|d| d.key == "daemon.public_url")
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!((d.line, d.column), (3, 14), "{d}");
    assert!(d.message.contains("http://"), "{d}");
    let shown = d.to_string();
    assert!(
        shown.contains("https://baocao.quangngai.example"),
        "{shown}"
    );
}

/// A key file is used byte for byte. A random 32-byte key starts or ends
/// with a byte that reads as ASCII whitespace about one time in 26; such a
/// key was trimmed to 31 bytes, refused as too short, and the links went
/// silently off. Now it is used whole: the daemon's reading signs like the
/// raw bytes, and `hanbao check` has nothing to warn about.
#[test]
fn a_random_key_with_whitespace_bytes_at_its_ends_is_used_whole() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let cfg = config_text(&state, "https://baocao.quangngai.example");
    let config = hanbao::config::load_str("hanbao.toml", &cfg)
        .unwrap()
        .config;
    let cfg_path = dir.path().join("hanbao.toml");
    std::fs::write(&cfg_path, &cfg).unwrap();
    let key_path = state.join(hanbao::link::LINK_KEY_FILE);
    let scope = hanbao::link::LinkScope {
        obligation: "bc-quy".into(),
        period: "2027-Q1".into(),
        unit: "so-yte".into(),
        expires: 1_900_000_000,
    };
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for edge in [b'\n', b' ', b'\t', b'\r', 0x0c] {
        let mut ends = vec![0xa7; 31];
        ends.push(edge);
        keys.push(ends);
        let mut starts = vec![edge];
        starts.extend([0x5b; 31]);
        keys.push(starts);
    }
    keys.push([b"\n".as_slice(), &[0x3c; 30], b"\n"].concat());
    for raw in keys {
        std::fs::write(&key_path, &raw).unwrap();
        let read = LinkKey::from_file(&key_path).unwrap_or_else(|e| panic!("{raw:?} refused: {e}"));
        let whole = LinkKey::new(raw.clone()).unwrap();
        assert_eq!(scope.sign(&read), scope.sign(&whole), "{raw:?}");
        assert!(
            Links::configured(&config.daemon).unwrap().is_some(),
            "links on with {raw:?}"
        );
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .arg("--config")
            .arg(&cfg_path)
            .arg("check")
            .env_remove("HANBAO_STATE_DIR")
            .env_remove("HANBAO_DATABASE")
            .output()
            .unwrap();
        let out = String::from_utf8(out.stdout).unwrap();
        assert!(!out.contains("liên kết xác nhận"), "{raw:?}: {out}");
    }
    // The length rule stays: 31 bytes are too short, whatever they are.
    std::fs::write(&key_path, [0xa7; 31]).unwrap();
    assert!(LinkKey::from_file(&key_path).is_err());
}

/// `hanbao check` says when `public_url` is set but the link key is
/// missing (the links would silently stay off), and is quiet once the key
/// exists; the exit code stays 0 either way (a warning, not an error).
#[test]
fn check_warns_when_public_url_has_no_link_key() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let cfg = dir.path().join("hanbao.toml");
    std::fs::write(
        &cfg,
        config_text(&state, "https://baocao.quangngai.example"),
    )
    .unwrap();
    let check = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .arg("--config")
            .arg(&cfg)
            .arg("check")
            .env_remove("HANBAO_STATE_DIR")
            .env_remove("HANBAO_DATABASE")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, out) = check();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Cảnh báo về liên kết xác nhận"), "{out}");
    let key_path = state.join("link.key");
    assert!(
        out.contains(&format!("head -c 32 /dev/urandom > {}", key_path.display())),
        "{out}"
    );
    std::fs::write(&key_path, [7u8; 32]).unwrap();
    let (code, out) = check();
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("liên kết xác nhận"), "{out}");
}

/// Regression: the link key had two owners. `hanbao run` re-read
/// `<state_dir>/link.key` for the mail on SIGHUP, but `/confirm` kept the
/// key it had read at start, so a key created or rotated with a reload
/// made every new link fail until a restart. Now one snapshot per reload
/// holds the key for both. On the real binary: no key (links off, 404);
/// a key created and SIGHUP: `/confirm` takes links signed with it at once,
/// and the next reminder's link opens the form; the key rotated and
/// SIGHUP: links signed with the new key open, links signed with the old
/// one are refused as tampered (400). Rotation revokes: that is what it is
/// for (a leaked key); a unit with an older link uses its next reminder's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_key_created_or_rotated_with_a_reload_is_used_by_confirm_and_the_mail() {
    use crate::support::procs::{Daemon, DaemonConfig};
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut daemon_cfg = DaemonConfig::new(sink.port(), 1, 1);
    let cfg_path = dir.path().join("hanbao.toml");
    let write_config = |c: &DaemonConfig| {
        let text = c.toml().replace(
            "http_listen = \"127.0.0.1:0\"",
            &format!("http_listen = \"{addr}\"\npublic_url = \"http://{addr}\""),
        );
        assert!(text.contains("public_url"), "{text}");
        std::fs::write(&cfg_path, text).unwrap();
    };
    write_config(&daemon_cfg);
    let state = dir.path().join("links-state");
    std::fs::create_dir_all(&state).unwrap();
    let key_path = state.join(hanbao::link::LINK_KEY_FILE);
    let database = format!("sqlite://{}/h.db", dir.path().display());
    let mut daemon = Daemon::spawn("links", &cfg_path, &database, dir.path());
    let unit = DaemonConfig::unit_id(1);
    // A one-off report's period key is its obligation id.
    let scope = |obligation: &str| hanbao::link::LinkScope {
        obligation: obligation.into(),
        period: obligation.into(),
        unit: unit.clone(),
        expires: Timestamp::now().as_second() + 86_400,
    };
    let get = |path: String| async move { http(addr, "GET", &path, None).await.0 };
    let key_a = LinkKey::new(b"a link key created while running!".to_vec()).unwrap();
    let key_b = LinkKey::new(b"and the key that replaces it, B..".to_vec()).unwrap();

    // No key: the first reminder carries no link and /confirm is off.
    wait_for_messages(&sink, &daemon, 1).await;
    assert_eq!(link_in(&sink.messages()[0]), None);
    assert_eq!(get(scope("bc-1").path(&key_a)).await, 404);

    // A key created, with a new obligation, and SIGHUP.
    std::fs::write(&key_path, b"a link key created while running!").unwrap();
    daemon_cfg.obligations.push("bc-2".into());
    write_config(&daemon_cfg);
    daemon.hup();
    daemon
        .wait_for_log("đã nạp lại cấu hình", Duration::from_secs(20))
        .await;
    assert_eq!(
        get(scope("bc-1").path(&key_a)).await,
        200,
        "/confirm uses the key read by the reload"
    );
    // The next tick (within a minute) sends bc-2's reminder, with a link
    // signed by the same key, which opens the form.
    wait_for_messages(&sink, &daemon, 2).await;
    let mail_link = link_in(&sink.messages()[1]).expect("a link in the reminder after the reload");
    let mail_path = mail_link[format!("http://{addr}").len()..].to_string();
    assert!(mail_path.contains("o=bc-2"), "{mail_path}");
    assert_eq!(get(mail_path.clone()).await, 200, "{mail_path}");

    // The key rotated, and SIGHUP: the new key's links open, the old key's
    // (the reminder's) are refused.
    std::fs::write(&key_path, b"and the key that replaces it, B..").unwrap();
    daemon.hup();
    let end = std::time::Instant::now() + Duration::from_secs(20);
    while daemon.log().matches("đã nạp lại cấu hình").count() < 2 {
        assert!(std::time::Instant::now() < end, "{}", daemon.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(get(scope("bc-2").path(&key_b)).await, 200);
    assert_eq!(get(mail_path).await, 400, "a link of the old key");
    assert_eq!(get(scope("bc-1").path(&key_a)).await, 400);
    assert!(daemon.term(Duration::from_secs(20)).success());
}

/// Waits up to 90 s for the sink to hold `n` messages.
async fn wait_for_messages(sink: &SmtpSink, daemon: &crate::support::procs::Daemon, n: usize) {
    let end = std::time::Instant::now() + Duration::from_secs(90);
    while sink.message_count() < n {
        assert!(
            std::time::Instant::now() < end,
            "{n} messages expected, {} arrived:\n{}",
            sink.message_count(),
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
