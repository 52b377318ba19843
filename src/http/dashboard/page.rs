//! The dashboard's HTML frame: layout, inline stylesheet (allowed by a CSP
//! hash, no external assets, no JavaScript), flash messages, and the small
//! text helpers every page uses (escaping, URL encoding, dates).
//!
//! Must not: put text into HTML without [`esc`]; load anything from another
//! origin.

use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::session::Flash;

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    super::super::confirm::escape(s)
}

/// Percent-encodes a path segment or query value (everything but RFC 3986
/// unreserved characters).
pub fn pct(s: &str) -> String {
    crate::primitives::percent(s)
}

/// dd/mm/yyyy.
pub fn dmy(d: Date) -> String {
    crate::tracking::dmy(d)
}

/// dd/mm/yyyy HH:MM in the configured time zone.
pub fn local(t: Timestamp, tz: &TimeZone) -> String {
    let dt = tz.to_datetime(t);
    format!(
        "{} {:02}:{:02}",
        dmy(dt.date()),
        dt.time().hour(),
        dt.time().minute()
    )
}

const CSS: &str = "\
*{box-sizing:border-box}\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9;line-height:1.4}\
header{background:#1f3a5f;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;align-items:center}\
header a{color:#fff;font-weight:600}\
header .brand{font-size:1.1rem}\
header form{margin:0 0 0 auto}\
header button{background:transparent;color:#fff;border:1px solid #fff;border-radius:4px}\
main{padding:1rem;max-width:90rem;margin:0 auto}\
h1{font-size:1.4rem;margin:.2rem 0 .8rem}\
h2{font-size:1.15rem;margin:1.4rem 0 .5rem}\
.wrap{overflow-x:auto;-webkit-overflow-scrolling:touch;background:#fff}\
table{border-collapse:collapse;font-size:.9rem}\
th,td{border:1px solid #cfd4da;padding:.35rem .5rem;text-align:left;vertical-align:top}\
thead th{background:#e9edf2;position:sticky;top:0}\
th.u{background:#f1f3f6;min-width:8rem;max-width:16rem}\
td.c{min-width:7rem}\
td.c a{display:block;color:inherit;text-decoration:none;min-height:1.4em}\
td.c a:hover,td.c a:focus{text-decoration:underline}\
.overdue{background:#f9d2d2;color:#7d0000;font-weight:700}\
.due_soon{background:#fff1c4}\
.submitted_late{background:#fde5c0;color:#6b3d00}\
.submitted_on_time{background:#d3efd5;color:#0f4d17}\
.extended{background:#d2ecf6;color:#0b4660}\
.waived{background:#e6e6e6;color:#444}\
.not_open{background:#f3f3f3;color:#666}\
.open{background:#fff}\
.flash{padding:.6rem .9rem;border-radius:4px;margin:0 0 1rem;font-weight:600}\
.flash.ok{background:#d3efd5;color:#0f4d17}\
.flash.err{background:#f9d2d2;color:#7d0000}\
form.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:flex-end;margin-bottom:1rem}\
form.filters label{display:flex;flex-direction:column;font-size:.85rem}\
form.card{background:#fff;border:1px solid #cfd4da;border-radius:6px;padding:.8rem;margin:0 0 1rem;max-width:36rem}\
form.card label{display:block;margin:.4rem 0}\
form.card input,form.card textarea{width:100%}\
form.card input[type=checkbox]{width:auto;margin:0 .4rem 0 0}\
input,select,textarea,button{font:inherit;padding:.35rem .5rem;max-width:100%}\
button{cursor:pointer;background:#1f3a5f;color:#fff;border:0;border-radius:4px;padding:.45rem .9rem}\
button.small{padding:.2rem .6rem;font-size:.85rem}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;background:#fff;padding:.6rem;border:1px solid #cfd4da;max-width:40rem}\
dt{font-weight:600}dd{margin:0}\
.legend span{display:inline-block;padding:.1rem .4rem;margin:.1rem;border-radius:3px;font-size:.85rem}\
.muted{color:#555;font-size:.9rem}\
@media (max-width:640px){main{padding:.5rem}table{font-size:.8rem}th,td{padding:.25rem .3rem}h1{font-size:1.2rem}}";

/// `sha256-...` of the stylesheet, for the Content-Security-Policy.
fn css_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(CSS.as_bytes());
        format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    })
}

/// The dashboard's policy: nothing but this stylesheet; forms post here.
pub fn csp() -> HeaderValue {
    HeaderValue::try_from(format!(
        "default-src 'none'; style-src '{}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        css_hash()
    ))
    .expect("ASCII")
}

/// What the top bar shows: the logged-in administrator's name and the CSRF
/// token of the logout form.
pub struct Nav<'a> {
    pub who: &'a str,
    pub csrf: &'a str,
}

/// A full page.
pub fn render(
    status: StatusCode,
    title: &str,
    nav: Option<Nav<'_>>,
    flash: Option<&Flash>,
    body: &str,
) -> Response {
    let top = match &nav {
        Some(n) => format!(
            "<header><a class=\"brand\" href=\"/dashboard\">hanbao</a>\
             <a href=\"/dashboard\">Tình hình nộp báo cáo</a>\
             <a href=\"/dashboard/outbox\">Thư chờ gửi</a>\
             <form method=\"post\" action=\"/dashboard/logout\">{}\
             <button type=\"submit\" class=\"small\">Đăng xuất ({})</button></form></header>",
            csrf_field(n.csrf),
            esc(n.who)
        ),
        None => "<header><span class=\"brand\">hanbao</span></header>".to_string(),
    };
    let flash = flash
        .map(|f| {
            format!(
                "<p class=\"flash {}\" role=\"status\">{}</p>\n",
                if f.ok { "ok" } else { "err" },
                esc(&f.text)
            )
        })
        .unwrap_or_default();
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t} — hanbao</title>\n<style>{CSS}</style>\n</head>\n<body>\n{top}\n<main>\n\
         <h1>{t}</h1>\n{flash}{body}\n</main>\n</body>\n</html>\n",
        t = esc(title)
    );
    let mut resp = (status, Html(html)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, csp());
    // With "no-referrer" browsers send `Origin: null` on form posts, which
    // the same-origin check must refuse; "same-origin" still sends nothing
    // to other sites.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

/// The hidden CSRF field of every form.
pub fn csrf_field(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(csrf)
    )
}

/// A page with one message and a way back.
pub fn error_page(status: StatusCode, title: &str, text: &str) -> Response {
    render(
        status,
        title,
        None,
        None,
        &format!(
            "<p>{}</p>\n<p><a href=\"/dashboard\">Về bảng tình hình</a></p>",
            esc(text)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pct_keeps_unreserved_only() {
        assert_eq!(pct("so-yte_1.a~"), "so-yte_1.a~");
        assert_eq!(pct("a b/c?&đ"), "a%20b%2Fc%3F%26%C4%91");
    }

    #[test]
    fn the_policy_names_the_stylesheet_hash() {
        let v = csp();
        let v = v.to_str().unwrap();
        assert!(v.starts_with("default-src 'none'; style-src 'sha256-"));
        assert_eq!(css_hash().len(), "sha256-".len() + 44);
    }
}
