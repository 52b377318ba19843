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
use hanbao::mail::{Composer, Mailer, Templates};
use hanbao::outbox::{Dispatcher, Planning};
use hanbao::store::{self, HistoryFilter, Records, Source, Store};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::smtp::{Received, SmtpSink};

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
// A few lines of MIME and HTTP, sharing nothing with the code under test.

fn b64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits: Vec<u32> = s.bytes().filter_map(val).collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, d) in chunk.iter().enumerate() {
            n |= d << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

fn qp(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The decoded leaf parts of a message: (content type, body).
fn leaves(raw: &str) -> Vec<(String, String)> {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            headers.last_mut().unwrap().1.push_str(line);
        } else if let Some((n, v)) = line.split_once(':') {
            headers.push((n.to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let ct = header("content-type").unwrap_or_else(|| "text/plain".into());
    if ct.to_ascii_lowercase().starts_with("multipart/") {
        let boundary = ct
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .unwrap()
            .trim_matches('"')
            .to_string();
        let mut out = Vec::new();
        for chunk in body.split(&format!("--{boundary}")).skip(1) {
            if chunk.starts_with("--") {
                break;
            }
            let chunk = chunk.strip_prefix("\r\n").unwrap_or(chunk);
            out.extend(leaves(chunk.strip_suffix("\r\n").unwrap_or(chunk)));
        }
        return out;
    }
    let bytes = match header("content-transfer-encoding")
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        Some("base64") => b64(body),
        Some("quoted-printable") => qp(body),
        _ => body.as_bytes().to_vec(),
    };
    vec![(
        ct.to_ascii_lowercase(),
        String::from_utf8_lossy(&bytes).into_owned(),
    )]
}

fn part(m: &Received, ctype: &str) -> String {
    leaves(&m.text())
        .into_iter()
        .find(|(ct, _)| ct.starts_with(ctype))
        .unwrap_or_else(|| panic!("no {ctype} part in {}", m.text()))
        .1
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

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap(),
            );
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// (status, body) of one HTTP/1.1 request with `Connection: close`.
async fn http(addr: SocketAddr, method: &str, path: &str, form: Option<&str>) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    match form {
        Some(body) => req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )),
        None => req.push_str("\r\n"),
    }
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text[9..12].parse().unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "the pages are small and sent with a length"
    );
    (status, body.to_string())
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

/// The 2027-Q1 season (due "ngày 20" of the quarter's last month) walked
/// one working morning at a time through March and April 2027 (a year
/// ahead, so the links, valid until 30 days after the deadline, are live
/// for the real clock of the HTTP side). Dates are not hard-coded: the
/// test keys on which messages arrive.
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
    let text = config_text(&state_dir, &format!("http://{addr}/"));
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

    // The web side, as `http::start` sets it up.
    let state = AppState::new(store.clone(), cfg.clone(), None);
    let key = LinkKey::from_file(&state_dir.join(http::LINK_KEY_FILE)).unwrap();
    assert!(state.set_link_key(key));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(http::serve(listener, state, async move {
        let _ = stopped.await;
    }));

    // The mail side, as `daemon::run::Engine::build` sets it up.
    let links = Links::configured(&cfg.daemon).unwrap();
    assert!(links.is_some(), "public_url and link.key: links on");
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

    // Walk March 2027 until the reminders arrive.
    let mut day = date(2027, 3, 1);
    while sink.message_count() == 0 {
        assert!(day < date(2027, 3, 31), "no reminder in March 2027");
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
    let query: Vec<(String, String)> = path
        .strip_prefix("/confirm?")
        .unwrap()
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), percent_decode(v))
        })
        .collect();
    let field = |k: &str| query.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(
        (field("o"), field("p"), field("u")),
        ("bc-quy".into(), "2027-Q1".into(), "so-yte".into())
    );
    let to_tc = first.iter().find(|m| m.rcpt_to == [TC]).unwrap();
    let tc_url = link_in(to_tc).unwrap();
    assert!(tc_url.contains("u=so-taichinh") && tc_url != url);

    // GET shows the form; POST records the submission with source "link".
    let (status, body) = http(addr, "GET", path, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<form") && body.contains("Sở Y tế"), "{body}");
    let today = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh")
        .unwrap()
        .to_datetime(Timestamp::now())
        .date();
    let mut form: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    form.push("reference=12%2FBC-SYT".into());
    form.push(format!("received_on={today}"));
    let (status, body) = http(addr, "POST", "/confirm", Some(&form.join("&"))).await;
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
    while day < date(2027, 4, 30) {
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
