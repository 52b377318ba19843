//! A small real SMTP server for tests and benchmarks, on 127.0.0.1:0.
//!
//! It speaks enough ESMTP for lettre and plain clients (EHLO/HELO, optional
//! AUTH PLAIN/LOGIN, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT),
//! records every accepted message (envelope and raw bytes), counts
//! connections, and can be scripted per test:
//!
//! ```ignore
//! let sink = SmtpSink::start().await;
//! sink.fail_next_messages(1, 451, "4.3.0 try later"); // 4xx at end of DATA
//! sink.reject_recipient("ghost@x.vn", 550, "5.1.1 no such user");
//! sink.drop_next_connections(2);   // accept, then close without a greeting
//! sink.hang_next_messages(1);      // never answer the end of DATA
//! sink.swallow_message(4);         // keep the 5th message, never answer it
//! sink.set_reply_delay(Duration::from_millis(10)); // a slower server
//! sink.hold_replies_after(30);     // take the 31st message, answer it on release
//! sink.release_replies();
//! sink.stop().await;               // port closed, open connections cut
//! sink.restart().await;            // listening again on the same port
//! let got = sink.wait_for_messages(3, Duration::from_secs(5)).await;
//! ```
//!
//! Test-only code: no TLS, no size limits, everything in memory. It must not
//! be used outside tests and benchmarks.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// The reverse path without angle brackets.
    pub mail_from: String,
    /// Forward paths without angle brackets, in RCPT order.
    pub rcpt_to: Vec<String>,
    /// The message as transmitted, dot-unstuffed, without the final ".".
    pub data: Vec<u8>,
    /// The user that authenticated on this connection, if any.
    pub auth_user: Option<String>,
    /// Which connection (1-based, in accept order) carried it.
    pub connection: usize,
}

impl Received {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// Start-up options.
#[derive(Debug, Clone, Default)]
pub struct SinkOptions {
    /// Require and advertise AUTH PLAIN/LOGIN with these credentials.
    pub auth: Option<(String, String)>,
    /// Count messages without keeping their bytes (for benchmarks).
    pub count_only: bool,
}

#[derive(Default)]
struct Script {
    /// Replies to give at the end of DATA for the next messages.
    fail_data: VecDeque<(u16, String)>,
    reject_rcpt: HashMap<String, (u16, String)>,
    drop_connections: usize,
    hang_data: usize,
    /// Messages still to accept before one is swallowed (see `swallow_message`).
    swallow_after: Option<usize>,
}

struct Shared {
    options: SinkOptions,
    messages: Mutex<Vec<Received>>,
    accepted: AtomicUsize,
    connections: AtomicUsize,
    script: Mutex<Script>,
    arrived: Notify,
    /// Milliseconds between taking a message and answering its end of DATA.
    reply_delay_ms: AtomicU64,
    /// Messages answered normally before replies wait for `release_replies`
    /// (`None`: never held).
    hold_after: tokio::sync::watch::Sender<Option<usize>>,
}

struct Running {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// The test SMTP server. Dropping it stops it.
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    running: Mutex<Option<Running>>,
}

impl SmtpSink {
    /// Listen on 127.0.0.1 on a free port, without AUTH.
    pub async fn start() -> SmtpSink {
        SmtpSink::start_with(SinkOptions::default()).await
    }

    pub async fn start_with(options: SinkOptions) -> SmtpSink {
        let listener = bind("127.0.0.1:0".parse().unwrap()).expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            options,
            messages: Mutex::new(Vec::new()),
            accepted: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            script: Mutex::new(Script::default()),
            arrived: Notify::new(),
            reply_delay_ms: AtomicU64::new(0),
            hold_after: tokio::sync::watch::Sender::new(None),
        });
        let sink = SmtpSink {
            addr,
            shared,
            running: Mutex::new(None),
        };
        sink.serve(listener);
        sink
    }

    fn serve(&self, listener: TcpListener) {
        let stop = CancellationToken::new();
        let task = tokio::spawn(accept_loop(listener, self.shared.clone(), stop.clone()));
        *self.running.lock().unwrap() = Some(Running { stop, task });
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far (including dropped ones).
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Messages accepted so far (also counted with `count_only`).
    pub fn message_count(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// A copy of every message kept so far.
    pub fn messages(&self) -> Vec<Received> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// Wait until at least `n` messages were accepted; panics after `timeout`.
    pub async fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<Received> {
        match self.try_wait_for_messages(n, timeout).await {
            Ok(got) => got,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`SmtpSink::wait_for_messages`], but says what went wrong
    /// instead of panicking, so the caller can add what it knows (e.g. the
    /// daemons' logs).
    pub async fn try_wait_for_messages(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Received>, String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            if self.message_count() >= n {
                return Ok(self.messages());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(format!(
                    "SMTP sink: waited {timeout:?} for {n} messages, got {}",
                    self.message_count()
                ));
            }
        }
    }

    /// Answer the end of DATA of the next `n` messages with `code text`
    /// (e.g. 451 for a temporary, 554 for a permanent failure).
    pub fn fail_next_messages(&self, n: usize, code: u16, text: &str) {
        let mut s = self.shared.script.lock().unwrap();
        for _ in 0..n {
            s.fail_data.push_back((code, text.to_string()));
        }
    }

    /// Answer `RCPT TO:<address>` with `code text` until cleared.
    pub fn reject_recipient(&self, address: &str, code: u16, text: &str) {
        self.shared
            .script
            .lock()
            .unwrap()
            .reject_rcpt
            .insert(address.to_ascii_lowercase(), (code, text.to_string()));
    }

    pub fn clear_rejections(&self) {
        self.shared.script.lock().unwrap().reject_rcpt.clear();
    }

    /// Accept the next `n` connections and close them at once, without a greeting.
    pub fn drop_next_connections(&self, n: usize) {
        self.shared.script.lock().unwrap().drop_connections += n;
    }

    /// Never answer the end of DATA of the next `n` messages (a hung server).
    pub fn hang_next_messages(&self, n: usize) {
        self.shared.script.lock().unwrap().hang_data += n;
    }

    /// Accept the next `after` messages normally, then take the one after
    /// them (keep it, as delivered) but never answer its end of DATA: a
    /// server that accepted a message whose reply was lost, the case in
    /// which a crashed client sends a duplicate.
    pub fn swallow_message(&self, after: usize) {
        self.shared.script.lock().unwrap().swallow_after = Some(after);
    }

    /// Wait `delay` after taking each message before answering its end of
    /// DATA (the message counts as delivered from the moment it is taken):
    /// a slower server, so a test can act while messages are in flight.
    pub fn set_reply_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared.reply_delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Answer the next `n` messages normally, then take each later one
    /// (it counts as delivered) but keep its end-of-DATA reply until
    /// [`SmtpSink::release_replies`]: a test can do something while a run is
    /// certainly still going, whatever the machine's speed.
    pub fn hold_replies_after(&self, n: usize) {
        let at = self.shared.accepted.load(Ordering::SeqCst) + n;
        self.shared.hold_after.send_replace(Some(at));
    }

    /// Answer every held message and stop holding.
    pub fn release_replies(&self) {
        self.shared.hold_after.send_replace(None);
    }

    /// Stop listening (the port refuses connections) and cut open connections.
    pub async fn stop(&self) {
        let running = self.running.lock().unwrap().take();
        if let Some(r) = running {
            r.stop.cancel();
            let _ = r.task.await;
        }
    }

    /// Listen again on the same port after [`stop`](Self::stop).
    pub async fn restart(&self) {
        self.stop().await;
        let mut tries = 0;
        let listener = loop {
            match bind(self.addr) {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("SMTP sink: cannot listen again on {}: {e}", self.addr),
            }
        };
        self.serve(listener);
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(r) = self.running.lock().unwrap().take() {
            r.stop.cancel();
            r.task.abort();
        }
    }
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(128)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: CancellationToken) {
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
                let drop_it = {
                    let mut s = shared.script.lock().unwrap();
                    if s.drop_connections > 0 {
                        s.drop_connections -= 1;
                        true
                    } else {
                        false
                    }
                };
                if drop_it {
                    drop(stream);
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let stop = stop.clone();
                tasks.spawn(async move {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = session(stream, shared, id) => {}
                    }
                });
            }
        }
        // Reap finished sessions so the set does not grow without bound.
        while tasks.try_join_next().is_some() {}
    }
    drop(listener);
    tasks.shutdown().await;
}

/// An AUTH argument: base64 with or without padding (clients differ).
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(s.trim()).ok()
}

fn path_arg(rest: &str) -> String {
    // "FROM:<a@b> BODY=8BITMIME" -> "a@b"
    let after = rest.split_once(':').map(|(_, v)| v).unwrap_or("").trim();
    let path = after.split_whitespace().next().unwrap_or("");
    path.trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

struct Session {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
    line: Vec<u8>,
}

impl Session {
    async fn reply(&mut self, text: &str) -> std::io::Result<()> {
        self.writer.write_all(text.as_bytes()).await
    }

    /// One line without CRLF; None at EOF.
    async fn read_line(&mut self) -> std::io::Result<Option<String>> {
        self.line.clear();
        let n = self.reader.read_until(b'\n', &mut self.line).await?;
        if n == 0 {
            return Ok(None);
        }
        let l = String::from_utf8_lossy(&self.line);
        Ok(Some(l.trim_end_matches(['\r', '\n']).to_string()))
    }
}

async fn session(stream: TcpStream, shared: Arc<Shared>, id: usize) -> std::io::Result<()> {
    let (r, w) = stream.into_split();
    let mut s = Session {
        reader: BufReader::with_capacity(64 * 1024, r),
        writer: w,
        line: Vec::with_capacity(1024),
    };
    s.reply("220 hanbao-test-sink ESMTP ready\r\n").await?;
    let mut authed: Option<String> = None;
    let mut from: Option<String> = None;
    let mut rcpts: Vec<String> = Vec::new();
    while let Some(line) = s.read_line().await? {
        let (verb, rest) = match line.split_once(' ') {
            Some((v, r)) => (v.to_ascii_uppercase(), r.to_string()),
            None => (line.to_ascii_uppercase(), String::new()),
        };
        match verb.as_str() {
            "EHLO" => {
                let mut r = String::from(
                    "250-hanbao-test-sink greets you\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n",
                );
                if shared.options.auth.is_some() {
                    r.push_str("250-AUTH PLAIN LOGIN\r\n");
                }
                r.push_str("250 SIZE 52428800\r\n");
                s.reply(&r).await?;
            }
            "HELO" => s.reply("250 hanbao-test-sink\r\n").await?,
            "AUTH" => {
                let Some((user, pass)) = shared.options.auth.clone() else {
                    s.reply("503 5.5.1 AUTH not available\r\n").await?;
                    continue;
                };
                let mut parts = rest.split_whitespace();
                let mech = parts.next().unwrap_or("").to_ascii_uppercase();
                let initial = parts.next().map(str::to_string);
                let got = match mech.as_str() {
                    "PLAIN" => {
                        let resp = match initial {
                            Some(i) => i,
                            None => {
                                s.reply("334 \r\n").await?;
                                s.read_line().await?.unwrap_or_default()
                            }
                        };
                        decode_base64(&resp).and_then(|b| {
                            let mut f = b
                                .split(|&c| c == 0)
                                .map(|p| String::from_utf8_lossy(p).into_owned());
                            let _authzid = f.next()?;
                            Some((f.next()?, f.next()?))
                        })
                    }
                    "LOGIN" => {
                        let u = match initial {
                            Some(i) => i,
                            None => {
                                s.reply("334 VXNlcm5hbWU6\r\n").await?;
                                s.read_line().await?.unwrap_or_default()
                            }
                        };
                        s.reply("334 UGFzc3dvcmQ6\r\n").await?;
                        let p = s.read_line().await?.unwrap_or_default();
                        match (decode_base64(&u), decode_base64(&p)) {
                            (Some(u), Some(p)) => Some((
                                String::from_utf8_lossy(&u).into_owned(),
                                String::from_utf8_lossy(&p).into_owned(),
                            )),
                            _ => None,
                        }
                    }
                    _ => {
                        s.reply("504 5.5.4 unrecognized authentication type\r\n")
                            .await?;
                        continue;
                    }
                };
                if got.as_ref() == Some(&(user.clone(), pass)) {
                    authed = Some(user);
                    s.reply("235 2.7.0 authentication successful\r\n").await?;
                } else {
                    s.reply("535 5.7.8 authentication credentials invalid\r\n")
                        .await?;
                }
            }
            "MAIL" => {
                if shared.options.auth.is_some() && authed.is_none() {
                    s.reply("530 5.7.0 authentication required\r\n").await?;
                    continue;
                }
                from = Some(path_arg(&rest));
                rcpts.clear();
                s.reply("250 2.1.0 ok\r\n").await?;
            }
            "RCPT" => {
                if from.is_none() {
                    s.reply("503 5.5.1 need MAIL first\r\n").await?;
                    continue;
                }
                let to = path_arg(&rest);
                let rejected = shared
                    .script
                    .lock()
                    .unwrap()
                    .reject_rcpt
                    .get(&to.to_ascii_lowercase())
                    .cloned();
                match rejected {
                    Some((code, text)) => s.reply(&format!("{code} {text}\r\n")).await?,
                    None => {
                        rcpts.push(to);
                        s.reply("250 2.1.5 ok\r\n").await?;
                    }
                }
            }
            "DATA" => {
                if from.is_none() || rcpts.is_empty() {
                    s.reply("503 5.5.1 need MAIL and RCPT first\r\n").await?;
                    continue;
                }
                s.reply("354 end data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut data = Vec::new();
                loop {
                    s.line.clear();
                    let n = s.reader.read_until(b'\n', &mut s.line).await?;
                    if n == 0 {
                        return Ok(());
                    }
                    if s.line == b".\r\n" || s.line == b".\n" {
                        break;
                    }
                    if shared.options.count_only {
                        continue;
                    }
                    let unstuffed = if s.line.first() == Some(&b'.') {
                        &s.line[1..]
                    } else {
                        &s.line[..]
                    };
                    data.extend_from_slice(unstuffed);
                }
                let (hang, swallow, fail) = {
                    let mut sc = shared.script.lock().unwrap();
                    let swallow = match sc.swallow_after {
                        Some(0) => {
                            sc.swallow_after = None;
                            true
                        }
                        Some(n) => {
                            sc.swallow_after = Some(n - 1);
                            false
                        }
                        None => false,
                    };
                    if swallow {
                        (false, true, None)
                    } else if sc.hang_data > 0 {
                        sc.hang_data -= 1;
                        (true, false, None)
                    } else {
                        (false, false, sc.fail_data.pop_front())
                    }
                };
                if swallow {
                    shared.accepted.fetch_add(1, Ordering::SeqCst);
                    if !shared.options.count_only {
                        shared.messages.lock().unwrap().push(Received {
                            mail_from: from.clone().unwrap_or_default(),
                            rcpt_to: rcpts.clone(),
                            data,
                            auth_user: authed.clone(),
                            connection: id,
                        });
                    }
                    shared.arrived.notify_waiters();
                    // Kept, never answered: silent until the client goes away.
                    let mut sink = [0u8; 1024];
                    while s.reader.read(&mut sink).await? > 0 {}
                    return Ok(());
                }
                if hang {
                    // Keep the connection open and silent until the client gives up.
                    let mut sink = [0u8; 1024];
                    while s.reader.read(&mut sink).await? > 0 {}
                    return Ok(());
                }
                if let Some((code, text)) = fail {
                    s.reply(&format!("{code} {text}\r\n")).await?;
                } else {
                    let n = shared.accepted.fetch_add(1, Ordering::SeqCst) + 1;
                    if !shared.options.count_only {
                        shared.messages.lock().unwrap().push(Received {
                            mail_from: from.clone().unwrap_or_default(),
                            rcpt_to: rcpts.clone(),
                            data,
                            auth_user: authed.clone(),
                            connection: id,
                        });
                    }
                    shared.arrived.notify_waiters();
                    let mut hold = shared.hold_after.subscribe();
                    // Only a closed channel errs, and the sink owns the sender.
                    let _ = hold.wait_for(|h| h.is_none_or(|at| n <= at)).await;
                    let delay = shared.reply_delay_ms.load(Ordering::SeqCst);
                    if delay > 0 {
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                    }
                    s.reply(&format!("250 2.0.0 ok: queued as {n}\r\n")).await?;
                }
                from = None;
                rcpts.clear();
            }
            "RSET" => {
                from = None;
                rcpts.clear();
                s.reply("250 2.0.0 ok\r\n").await?;
            }
            "NOOP" => s.reply("250 2.0.0 ok\r\n").await?,
            "VRFY" => s.reply("252 2.0.0 cannot verify\r\n").await?,
            "QUIT" => {
                s.reply("221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => s.reply("500 5.5.2 command not recognized\r\n").await?,
        }
    }
    Ok(())
}
