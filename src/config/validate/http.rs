//! `[daemon]`'s settings of the HTTP server: how many connections it
//! serves at once, how long a client may take, and which reverse proxies
//! are believed about the client's address.
//!
//! Pure, like the rest of `validate`: the values are checked against their
//! ranges here; `http::serve` applies them. Must not: read the system's
//! limits (the server warns at start when the file limit is too low).

use std::time::Duration;

use serde_spanned::Spanned;

use super::at;
use crate::config::model::HttpSettings;
use crate::config::raw::RawDaemon;
use crate::config::report::{Problem, Reporter};

/// Bounds of `daemon.http_max_connections`.
const CONNECTIONS: (usize, usize) = (1, 65_535);
/// Bounds of the `daemon.http_*_timeout_secs` keys, in seconds.
const TIMEOUT_SECS: (u64, u64) = (1, 3_600);

/// The HTTP settings of `[daemon]` (defaults for the keys not given).
pub(super) fn settings(raw: Option<&RawDaemon>, file: usize, rep: &mut Reporter) -> HttpSettings {
    let mut s = HttpSettings::default();
    let Some(raw) = raw else {
        return s;
    };
    if let Some(v) = &raw.http_max_connections {
        match usize::try_from(*v.get_ref()) {
            Ok(n) if (CONNECTIONS.0..=CONNECTIONS.1).contains(&n) => s.max_connections = n,
            _ => rep.report(
                Problem::error(
                    &at(file, v),
                    "daemon.http_max_connections",
                    format!(
                        "số kết nối HTTP phục vụ cùng lúc phải từ {} đến {}",
                        CONNECTIONS.0, CONNECTIONS.1
                    ),
                )
                .value(v.get_ref().to_string())
                .hint(format!(
                    "{} (mặc định); mỗi kết nối giữ một tệp mở, nên LimitNOFILE= của dịch vụ \
                     phải lớn hơn con số này",
                    HttpSettings::default().max_connections
                )),
            ),
        }
    }
    if let Some(t) = timeout(
        rep,
        file,
        "daemon.http_header_timeout_secs",
        raw.http_header_timeout_secs.as_ref(),
    ) {
        s.header_timeout = t;
    }
    if let Some(t) = timeout(
        rep,
        file,
        "daemon.http_request_timeout_secs",
        raw.http_request_timeout_secs.as_ref(),
    ) {
        s.request_timeout = t;
    }
    for v in raw.trusted_proxies.iter().flatten() {
        match parse_net(v.get_ref()) {
            Some(net) => {
                if net.prefix_len() == 0 {
                    rep.report(
                        Problem::warning(
                            &at(file, v),
                            "daemon.trusted_proxies",
                            "tin mọi địa chỉ: bất kỳ ai cũng tự khai được địa chỉ của mình qua \
                             X-Forwarded-For, nên giới hạn đăng nhập sai mất tác dụng",
                        )
                        .quoted(v.get_ref())
                        .hint("chỉ ghi địa chỉ của reverse proxy, ví dụ \"127.0.0.1\""),
                    );
                }
                s.trusted_proxies.push(net);
            }
            None => rep.report(
                Problem::error(
                    &at(file, v),
                    "daemon.trusted_proxies",
                    "không phải địa chỉ IP hoặc dải CIDR",
                )
                .quoted(v.get_ref())
                .hint(
                    "địa chỉ của reverse proxy, ví dụ \"127.0.0.1\", \"::1\" hoặc \"10.0.0.0/24\"",
                ),
            ),
        }
    }
    s
}

/// An address (`127.0.0.1`, `::1`: the host alone) or a CIDR range
/// (`10.0.0.0/24`, host bits cleared).
fn parse_net(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<std::net::IpAddr>() {
        return Some(ipnet::IpNet::from(ip));
    }
    text.parse::<ipnet::IpNet>().ok().map(|n| n.trunc())
}

/// A number of seconds within [`TIMEOUT_SECS`], or `None` (reported when
/// given and out of range).
fn timeout(
    rep: &mut Reporter,
    file: usize,
    key: &str,
    v: Option<&Spanned<i64>>,
) -> Option<Duration> {
    let v = v?;
    match u64::try_from(*v.get_ref()) {
        Ok(n) if (TIMEOUT_SECS.0..=TIMEOUT_SECS.1).contains(&n) => Some(Duration::from_secs(n)),
        _ => {
            rep.report(
                Problem::error(
                    &at(file, v),
                    key,
                    format!(
                        "thời hạn phải từ {} đến {} giây",
                        TIMEOUT_SECS.0, TIMEOUT_SECS.1
                    ),
                )
                .value(v.get_ref().to_string())
                .hint("ví dụ 20 (giây)"),
            );
            None
        }
    }
}
