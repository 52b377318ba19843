//! A real browser for end-to-end tests: Debian's `chromium`, driven by
//! `chromedriver` over WebDriver (W3C JSON over HTTP), spoken with the
//! tests' HTTP client (`support::http`, blocking) and serde_json.
//!
//! `Browser::start()` finds both programs on PATH, starts `chromedriver` on
//! a free port and opens a headless session; dropping the `Browser` ends the
//! session (which closes chromium) and kills `chromedriver`. If either
//! program is missing this panics with how to install it: the test fails,
//! it never skips. Blocking: call it from `spawn_blocking` or a plain thread.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const INSTALL_HINT: &str = "the browser test needs Debian's chromium and chromedriver (looked for \
     `chromium` and `chromedriver` on PATH). Install them with \
     `apt-get install chromium chromium-driver` and run the tests again (.ci/run does this).";

/// The W3C key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// How long the browser helpers wait for a page to change.
const WAIT: Duration = Duration::from_secs(15);

/// One WebDriver exchange: status and body.
pub fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> (u16, Vec<u8>) {
    let mut req = super::http::Request::new(method, path).header("Accept", "application/json");
    if let Some(b) = body {
        req = req.json(b);
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let r = req
        .send_blocking(addr, Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{method} {path} to chromedriver on {port}: {e}"));
    (r.status, r.bytes)
}

/// A headless chromium session.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

impl Browser {
    /// Starts chromedriver and a headless chromium session in Vietnamese.
    pub fn start() -> Browser {
        Browser::start_in("vi")
    }

    /// Starts chromedriver and a headless chromium session whose interface
    /// language, `Accept-Language` and `navigator.language` are `lang`
    /// (e.g. "en-US").
    pub fn start_in(lang: &str) -> Browser {
        let chromium = on_path("chromium").unwrap_or_else(|| panic!("{INSTALL_HINT}"));
        let chromedriver = on_path("chromedriver").unwrap_or_else(|| panic!("{INSTALL_HINT}"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let mut b = Browser {
            driver,
            port,
            session: String::new(),
        };
        let start = Instant::now();
        loop {
            let ready = TcpStream::connect(("127.0.0.1", port)).is_ok() && {
                let (code, body) = http(port, "GET", "/status", None);
                code == 200
                    && serde_json::from_slice::<Value>(&body)
                        .is_ok_and(|v| v["value"]["ready"] == true)
            };
            if ready {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver did not become ready in 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    format!("--lang={lang}"),
                    format!("--accept-lang={lang}"),
                ],
                "prefs": {"intl": {"accept_languages": lang}},
            },
        }}});
        let v = b.call("POST", "/session", Some(&caps));
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {v}"))
            .to_string();
        b
    }

    /// A WebDriver command; panics (with the driver's message) on an error.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|(code, v)| panic!("WebDriver {method} {path} answered {code}: {v}"))
    }

    /// A WebDriver command; `Err((status, body))` when the driver refuses it.
    fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, (u16, Value)> {
        let (code, bytes) = http(self.port, method, path, body);
        let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "WebDriver {method} {path}: not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        if code == 200 {
            Ok(v["value"].clone())
        } else {
            Err((code, v))
        }
    }

    /// Polls `f` until it answers, for at most `WAIT`: a click that submits
    /// a form may return before the next page has replaced the old one, so
    /// an element found right after it can go stale under us.
    fn poll<T>(&self, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(t) = f() {
                return t;
            }
            assert!(start.elapsed() < WAIT, "waited {WAIT:?} for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the current URL ends with `suffix`; returns it.
    pub fn wait_for_url(&self, suffix: &str) -> String {
        self.poll(
            &format!("a URL ending in {suffix:?} (at {})", self.url()),
            || {
                let url = self.url();
                url.ends_with(suffix).then_some(url)
            },
        )
    }

    /// The text of the first element matching `css`, once there is one
    /// (found again if the page changed between finding and reading).
    pub fn wait_for_text(&self, css: &str) -> String {
        self.poll(&format!("an element {css:?}"), || {
            let v = self
                .try_call(
                    "POST",
                    &self.s("/element"),
                    Some(&json!({"using": "css selector", "value": css})),
                )
                .ok()?;
            let el = v[ELEMENT].as_str()?.to_string();
            self.try_call("GET", &self.s(&format!("/element/{el}/text")), None)
                .ok()
                .map(|t| t.as_str().unwrap_or_default().to_string())
        })
    }

    fn s(&self, tail: &str) -> String {
        format!("/session/{}{tail}", self.session)
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(&json!({"url": url})));
    }

    pub fn url(&self) -> String {
        self.call("GET", &self.s("/url"), None)
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Resizes the window and waits (up to 5 s) until the page's viewport
    /// has the new width: on a loaded machine the resize reaches the page
    /// after the command returns, and a check made before it would measure
    /// the old layout.
    pub fn set_window(&self, width: u32, height: u32) {
        self.call(
            "POST",
            &self.s("/window/rect"),
            Some(&json!({"width": width, "height": height})),
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            let inner = self
                .script("return window.innerWidth;")
                .as_u64()
                .unwrap_or(0);
            if inner.abs_diff(u64::from(width)) <= 20 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// The first element matching a CSS selector.
    pub fn find(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            &self.s("/element"),
            Some(&json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css:?}: {v}"))
            .to_string()
    }

    /// How many elements match a CSS selector.
    pub fn count(&self, css: &str) -> usize {
        self.call(
            "POST",
            &self.s("/elements"),
            Some(&json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .map_or(0, Vec::len)
    }

    pub fn text(&self, el: &str) -> String {
        self.call("GET", &self.s(&format!("/element/{el}/text")), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn attr(&self, el: &str, name: &str) -> Option<String> {
        self.call(
            "GET",
            &self.s(&format!("/element/{el}/attribute/{name}")),
            None,
        )
        .as_str()
        .map(str::to_string)
    }

    pub fn click(&self, el: &str) {
        self.call(
            "POST",
            &self.s(&format!("/element/{el}/click")),
            Some(&json!({})),
        );
    }

    /// Empties a text field.
    pub fn clear(&self, el: &str) {
        self.call(
            "POST",
            &self.s(&format!("/element/{el}/clear")),
            Some(&json!({})),
        );
    }

    /// Runs `script` (a function body) in the page; its return value.
    pub fn execute(&self, script: &str) -> Value {
        self.call(
            "POST",
            &self.s("/execute/sync"),
            Some(&json!({"script": script, "args": []})),
        )
    }

    pub fn type_text(&self, el: &str, text: &str) {
        self.call(
            "POST",
            &self.s(&format!("/element/{el}/value")),
            Some(&json!({"text": text})),
        );
    }

    /// The value of a JavaScript expression in the page (`return ...;`).
    pub fn script(&self, body: &str) -> Value {
        self.call(
            "POST",
            &self.s("/execute/sync"),
            Some(&json!({"script": body, "args": []})),
        )
    }

    /// The page as PNG.
    pub fn screenshot(&self) -> Vec<u8> {
        let v = self.call("GET", &self.s("/screenshot"), None);
        use base64::Engine as _;
        let text: String = v
            .as_str()
            .expect("base64 screenshot")
            .split_ascii_whitespace()
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("base64 screenshot")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            // Closes chromium; errors do not matter on the way out.
            let (port, path) = (self.port, format!("/session/{}", self.session));
            let _ = std::panic::catch_unwind(move || http(port, "DELETE", &path, None));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
