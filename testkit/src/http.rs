//! The one HTTP/1.1 client of the tests and benchmarks: a request written
//! by hand onto a TCP socket (`Connection: close`, so one exchange per
//! connection) and the answer read back until it is complete: by
//! `Content-Length`, by the last chunk of a chunked body, or by the server
//! closing the connection.
//!
//! It shares nothing with the server under test (no hyper, no axum): what
//! the tests check is what a client really receives. [`Request::send`] is
//! for tokio tests, [`Request::send_blocking`] for plain threads (the
//! WebDriver client, the scale-out runs); [`exchange`] sends bytes exactly
//! as given, for malformed or oversized requests. [`form`] writes an
//! `application/x-www-form-urlencoded` body as a browser would.
//!
//! Test-only: no TLS, no redirects, no keep-alive, panics where a test
//! should fail (except [`Request::send_blocking`], which returns the I/O
//! error so a caller can poll a server that is not up yet).

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A request: method, path (with its query), headers and body.
#[derive(Debug, Clone)]
pub struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    /// Set by [`Request::body`]: with it come `Content-Length` (even 0).
    body: Option<Vec<u8>>,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.to_string(),
            path: path.to_string(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(path: &str) -> Request {
        Request::new("GET", path)
    }

    pub fn post(path: &str) -> Request {
        Request::new("POST", path)
    }

    /// Adds a header (after `Host` and `Connection: close`).
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body with its `Content-Type`; `Content-Length` follows.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Request {
        self.headers
            .push(("Content-Type".to_string(), content_type.to_string()));
        self.body = Some(body.into());
        self
    }

    /// A form body (see [`form`]).
    pub fn form(self, fields: &[(&str, &str)]) -> Request {
        self.body("application/x-www-form-urlencoded", form(fields))
    }

    /// A JSON body.
    pub fn json(self, value: &serde_json::Value) -> Request {
        self.body("application/json; charset=utf-8", value.to_string())
    }

    /// The bytes on the wire for a server reached as `host`.
    pub fn to_bytes(&self, host: &str) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n",
            self.method, self.path
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = &self.body {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_deref().unwrap_or_default());
        bytes
    }

    /// Sends the request to `addr` and reads the whole answer (tokio).
    pub async fn send(&self, addr: SocketAddr) -> Response {
        exchange(addr, &self.to_bytes(&addr.to_string())).await
    }

    /// Sends the request to `addr` from a plain thread; connecting and each
    /// read wait at most `timeout`.
    pub fn send_blocking(&self, addr: SocketAddr, timeout: Duration) -> std::io::Result<Response> {
        let mut s = std::net::TcpStream::connect_timeout(&addr, timeout)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        s.write_all(&self.to_bytes(&addr.to_string()))?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        while !is_complete(&buf) {
            let n = s.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Response::parse(&buf).map_err(std::io::Error::other)
    }
}

/// Writes `request` to `addr` exactly as given and reads the answer until
/// it is complete or the server closes. A server may answer (413, 431)
/// before reading everything: write and read errors end the exchange, and
/// what arrived is parsed.
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> Response {
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    let _ = s.write_all(request).await;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    while !is_complete(&buf) {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Response::parse(&buf).unwrap_or_else(|e| panic!("{e}"))
}

/// An `application/x-www-form-urlencoded` body, as a browser sends a form.
pub fn form(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// The status line and header lines as received, without the blank line.
    pub head: String,
    /// Header names in lower case, values trimmed, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub bytes: Vec<u8>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
}

impl Response {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics with the body when it is not.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// Parses a whole answer: status line, headers, and the body by
    /// `Content-Length`, chunked, or to the end of `raw`.
    pub fn parse(raw: &[u8]) -> Result<Response, String> {
        let split = header_end(raw)
            .ok_or_else(|| format!("no end of headers in {:?}", String::from_utf8_lossy(raw)))?;
        let head = String::from_utf8(raw[..split].to_vec())
            .map_err(|e| format!("headers are not UTF-8: {e}"))?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let rest = &raw[split + 4..];
        let find = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let bytes = if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            dechunk(rest).ok_or("incomplete chunked body")?
        } else if let Some(n) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
            rest[..n.min(rest.len())].to_vec()
        } else {
            rest.to_vec()
        };
        Ok(Response {
            status,
            head,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        })
    }
}

fn header_end(raw: &[u8]) -> Option<usize> {
    raw.windows(4).position(|w| w == b"\r\n\r\n")
}

/// Whether `raw` holds a whole answer (without waiting for the close).
fn is_complete(raw: &[u8]) -> bool {
    let Some(split) = header_end(raw) else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let rest = &raw[split + 4..];
    let value = |name: &str| {
        head.split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim().to_string())
    };
    if value("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        chunked_complete(rest)
    } else if let Some(n) = value("content-length").and_then(|v| v.parse::<usize>().ok()) {
        rest.len() >= n
    } else {
        false
    }
}

/// Whether a chunked body's last chunk has arrived: walks the chunk sizes
/// without copying the data (checked after every read, a copy of what
/// arrived so far made reading a streamed export of 20 MB quadratic).
fn chunked_complete(mut body: &[u8]) -> bool {
    loop {
        let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") else {
            return false;
        };
        let size = std::str::from_utf8(&body[..line_end]).ok().and_then(|t| {
            usize::from_str_radix(t.split(';').next().unwrap_or_default().trim(), 16).ok()
        });
        let Some(size) = size else {
            return false;
        };
        body = &body[line_end + 2..];
        if size == 0 {
            return true;
        }
        if body.len() < size + 2 {
            return false;
        }
        body = &body[size + 2..];
    }
}

/// The data of a chunked body; `None` until its last chunk has arrived.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if body.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_by_length_chunks_or_close() {
        let r = Response::parse(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhelloEXTRA",
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_str()), (200, "hello"));
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert!(r.head.starts_with("HTTP/1.1 200 OK\r\n"));
        let chunked = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        assert!(is_complete(chunked));
        assert!(!is_complete(&chunked[..chunked.len() - 5]));
        assert_eq!(Response::parse(chunked).unwrap().body, "abcde");
        let closed = b"HTTP/1.1 404 Not Found\r\n\r\nall of it";
        assert!(!is_complete(closed), "no length: read until the close");
        assert_eq!(Response::parse(closed).unwrap().body, "all of it");
        assert!(Response::parse(b"HTTP/1.1 200 OK\r\n").is_err());
    }

    #[test]
    fn requests_carry_host_close_and_length() {
        let bytes = Request::post("/x?a=1")
            .header("Cookie", "s=1")
            .form(&[("a", "b c"), ("d", "é&")])
            .to_bytes("127.0.0.1:80");
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "POST /x?a=1 HTTP/1.1\r\nHost: 127.0.0.1:80\r\nConnection: close\r\n\
             Cookie: s=1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 17\r\n\r\na=b+c&d=%C3%A9%26"
        );
        assert_eq!(
            String::from_utf8(Request::get("/").to_bytes("h")).unwrap(),
            "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        );
    }
}
