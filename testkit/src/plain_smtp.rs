//! The baseline SMTP client of the benchmarks: a few lines over a
//! `TcpStream`, one connection, one command at a time, no pipelining. What
//! it gets through the sink is the sink's capacity that hanbao is compared
//! with. Benchmark code only: it asserts the replies and nothing else.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

async fn expect(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, code: &str) {
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await.expect("read reply");
        assert!(line.starts_with(code), "expected {code}, got {line:?}");
        // Multi-line replies: "250-..." continues, "250 ..." ends.
        if line.as_bytes().get(3) != Some(&b'-') {
            return;
        }
    }
}

/// The minimal client: one connection, one command at a time. Like any
/// client it dot-stuffs each message as it sends it (RFC 5321 §4.5.2).
pub async fn plain_client(port: u16, bodies: &[(String, Vec<u8>)]) -> Duration {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    expect(&mut r, "220").await;
    w.write_all(b"EHLO bench\r\n").await.unwrap();
    expect(&mut r, "250").await;
    let start = Instant::now();
    for (rcpt, data) in bodies {
        w.write_all(b"MAIL FROM:<baocao@so.example>\r\n")
            .await
            .unwrap();
        expect(&mut r, "250").await;
        w.write_all(format!("RCPT TO:<{rcpt}>\r\n").as_bytes())
            .await
            .unwrap();
        expect(&mut r, "250").await;
        w.write_all(b"DATA\r\n").await.unwrap();
        expect(&mut r, "354").await;
        w.write_all(&data_payload(data)).await.unwrap();
        expect(&mut r, "250").await;
    }
    let elapsed = start.elapsed();
    w.write_all(b"QUIT\r\n").await.unwrap();
    elapsed
}

/// `k` plain clients at once, each on its own connection with every k-th
/// message: the sink's capacity at the concurrency a pooled sender with
/// `k` connections uses. Returns the time until the last one is done.
pub async fn plain_clients(port: u16, bodies: &[(String, Vec<u8>)], k: usize) -> Duration {
    let k = k.max(1);
    let shares: Vec<Vec<(String, Vec<u8>)>> = (0..k)
        .map(|i| bodies.iter().skip(i).step_by(k).cloned().collect())
        .collect();
    let start = Instant::now();
    futures_util::future::join_all(shares.iter().map(|s| plain_client(port, s))).await;
    start.elapsed()
}

/// Dot-stuffed DATA payload with the terminating line, as a client sends it.
pub fn data_payload(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 8);
    let mut at_line_start = true;
    for &b in raw {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !raw.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}
