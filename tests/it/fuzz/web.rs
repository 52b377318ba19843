//! The dashboard and the one-click confirmation page under generated and
//! mutated requests, sent to the real router in process.
//!
//! Dashboard: an administrator's session (cookie and CSRF token) posts the
//! report page's forms (receipt, extension, waiver), the outbox's retry
//! button and the login form, with each field valid, absent, doubled or
//! odd (dates typed in every odd way, hostile text, lengths around the
//! limits, the fields of a confirmation step), the CSRF token and the
//! cookie sometimes wrong or missing, cross-origin headers, other content
//! types, and byte-level mutations of the body; pages get odd ids in their
//! paths and odd filters. Properties: no panic; no 5xx; every HTML page
//! escapes what was typed and never shows a token's secret; only a
//! same-origin post with the session and its CSRF token that redirects
//! back to its report writes, and then one event from the web by the
//! session's administrator; a session is never lost on the way.
//!
//! Confirmation page: links signed with the server's key (for valid and
//! odd scopes: ids, periods, expiries), forged ones (a changed field after
//! signing, a wrong, truncated or foreign signature), and mutated query
//! strings and form bodies, by GET and POST. Properties: no panic; no 5xx;
//! a forged link gets 400 and writes nothing; a write happens only with a
//! 201 (or a redirect) and only for a key named by a link this test
//! signed, from the link's source and as the link's unit; pages escape
//! what was typed.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use hanbao::link::{LinkKey, LinkScope};
use hanbao::store::{Key, Source};
use jiff::Timestamp;
use proptest::prelude::*;

use super::app::{App, OBLIGATIONS};
use super::pools::{
    ByteMutation, Days, assert_escaped, byte_mutation, form, id, odd_text, typed_date, unit,
};
use super::{Tally, budget, fuzz_for, one_of, runtime};

/// The host the requests name; `Origin: http://fuzz.example` is same-origin.
const HOST: &str = "fuzz.example";

/// A field of a posted form: (name, value), valid or odd.
fn field(
    name: &'static str,
    valid: impl Strategy<Value = String> + Clone + 'static,
    present: f64,
) -> BoxedStrategy<Option<(String, String)>> {
    proptest::option::weighted(
        present,
        prop_oneof![5 => valid, 1 => odd_text()].prop_map(move |v| (name.to_string(), v)),
    )
    .boxed()
}

/// The fields of a confirmation step (another flow of the forms): sent
/// now and then, whatever the form.
fn step_fields() -> BoxedStrategy<Vec<(String, String)>> {
    proptest::collection::vec(
        (
            one_of(&["confirm", "confirmed", "step", "date_confirmed", "xac_nhan"]),
            one_of(&["1", "yes", "on", "có", "", "2", "<fz-i>", "record", "edit"]),
        )
            .prop_map(|(k, v)| (k.to_string(), v.to_string())),
        0..2,
    )
    .boxed()
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => one_of(&["15/BC-UBND", "CV 12/2026", "Thiếu phụ lục", ""]).prop_map(str::to_string),
        1 => odd_text(),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------
// The dashboard.

#[derive(Debug, Clone, Copy)]
enum Csrf {
    Right,
    Wrong,
    Missing,
    Twice,
}

#[derive(Debug, Clone)]
enum Cookie {
    Right,
    Missing,
    Wrong,
    /// The right cookie among odd ones, or an odd `Cookie` header alone.
    Among(String),
    Odd(String),
}

#[derive(Debug, Clone, Copy)]
enum Origin {
    None,
    Same,
    Other,
    Null,
    FetchSame,
    FetchCross,
}

#[derive(Debug, Clone)]
struct FormCase {
    method: &'static str,
    target: String,
    cookie: Cookie,
    csrf: Csrf,
    origin: Origin,
    content_type: Option<&'static str>,
    fields: Vec<(String, String)>,
    mutation: Option<ByteMutation>,
}

/// A path segment: an id percent-encoded, or now and then raw bytes that
/// do not decode (`%FF`), a lone `%` and the like.
fn segment(id: BoxedStrategy<String>) -> BoxedStrategy<String> {
    prop_oneof![
        20 => id.prop_map(|s| hanbao::primitives::percent(&s)),
        1 => one_of(&["%FF", "%C3", "%", "%zz", "%00", "..", "%2F", "a%2Fb", ";x"])
            .prop_map(str::to_string),
    ]
    .boxed()
}

fn report_path(days: &Days) -> BoxedStrategy<String> {
    let key = days
        .owed()
        .prop_flat_map(|(o, p)| (segment(Just(o).boxed()), segment(Just(p).boxed())));
    (segment(unit()), key)
        .prop_map(|(u, (o, p))| format!("/dashboard/units/{u}/{o}/{p}"))
        .boxed()
}

/// Odd `Cookie` headers.
fn odd_cookie() -> BoxedStrategy<String> {
    prop_oneof![
        one_of(&[
            "hanbao_session=",
            "hanbao_session",
            "=; ;;=",
            "hanbao_session=\"x\"",
            "HANBAO_SESSION=x",
            "hanbao_session=%00",
            "a=b",
        ])
        .prop_map(str::to_string),
        odd_text().prop_map(|t| format!("hanbao_session={t}")),
    ]
    .boxed()
}

fn form_case(days: &Days) -> BoxedStrategy<FormCase> {
    let post_target = prop_oneof![
        12 => (
            report_path(days),
            one_of(&["/submission", "/extension", "/waiver", "/revoke"]),
        )
            .prop_map(|(p, a)| format!("{p}{a}")),
        1 => (report_path(days), one_of(&["", "/submission/", "/x", "/submission?x=1"]))
            .prop_map(|(p, a)| format!("{p}{a}")),
        1 => one_of(&["1", "0", "-1", "99999999999999999999", "x", "%00", "1.0", "+1", "%FF"])
            .prop_map(|id| format!("/dashboard/outbox/{id}/retry")),
        2 => Just("/dashboard/login".to_string()),
    ];
    let filters = proptest::collection::vec(
        (
            one_of(&[
                "obligation",
                "period",
                "group",
                "status",
                "x",
                "q",
                "sort",
                "dir",
                "page",
                "per",
            ]),
            prop_oneof![
                id(OBLIGATIONS),
                days.period(),
                one_of(&[
                    "so-nganh",
                    "overdue",
                    "submitted",
                    "pending",
                    "overdue,waived",
                    ",",
                    "late",
                    "desc",
                    "0",
                    "18446744073709551616",
                    "200",
                    "hoà hiệp",
                ])
                .prop_map(str::to_string),
                odd_text(),
            ],
        )
            .prop_map(|(k, v)| format!("{k}={}", hanbao::primitives::percent(&v))),
        0..4,
    )
    .prop_map(|p| p.join("&"));
    let assessed = proptest::collection::vec(
        (
            one_of(&["from", "to", "year", "group", "sort", "page", "print", "x"]),
            prop_oneof![
                one_of(&[
                    "01/01/2026",
                    "31/12/2026",
                    "2026",
                    "so-nganh",
                    "rate",
                    "never",
                    "1",
                    "0",
                    "18446744073709551616",
                    "-1",
                    "31/02/2026",
                    "01/01/1900",
                ])
                .prop_map(str::to_string),
                odd_text(),
            ],
        )
            .prop_map(|(k, v)| format!("{k}={}", hanbao::primitives::percent(&v))),
        0..4,
    )
    .prop_map(|p| p.join("&"));
    let get_target = prop_oneof![
        1 => filters.clone().prop_map(|q| format!("/dashboard?{q}")),
        3 => filters.clone().prop_map(|q| format!("/dashboard/matrix?{q}")),
        1 => assessed.prop_map(|q| format!("/dashboard/compliance?{q}")),
        1 => filters.prop_map(|q| format!("/dashboard/export.csv?{q}")),
        2 => report_path(days),
        1 => segment(unit()).prop_map(|u| format!("/dashboard/units/{u}")),
        1 => Just("/dashboard/outbox".to_string()),
        1 => (
            one_of(&["status", "kind", "unit", "q", "group", "before", "per", "x"]),
            prop_oneof![
                one_of(&["sent", "failed", "reminder", "so-yte", "-1", "0", "18446744073709551616"])
                    .prop_map(str::to_string),
                odd_text(),
            ],
        )
            .prop_map(|(k, v)| format!(
                "/dashboard/outbox?{k}={}",
                hanbao::primitives::percent(&v)
            )),
        1 => Just("/dashboard/login?out=%zz".to_string()),
    ];
    let target = prop_oneof![
        5 => post_target.prop_map(|t| ("POST", t)),
        1 => get_target.prop_map(|t| ("GET", t)),
        1 => (
            one_of(&["PUT", "DELETE", "HEAD", "GET"]),
            report_path(days).prop_map(|p| format!("{p}/submission")),
        ),
    ];
    let dates = typed_date(days.dmy.iter().chain(&days.iso).cloned().collect());
    let fields = (
        field("reference", text(), 0.8),
        field("received_on", dates.clone(), 0.9),
        field("note", text(), 0.5),
        proptest::option::weighted(
            0.2,
            one_of(&["on", "", "0", "off"]).prop_map(|v| ("correction".to_string(), v.into())),
        ),
        field("until", dates, 0.9),
        field("reason", text(), 0.9),
        field(
            "subject",
            one_of(&["submission", "extension", "waiver", "", "x"]).prop_map(str::to_string),
            0.5,
        ),
        proptest::option::weighted(
            0.5,
            prop_oneof![
                Just("Điều phối-wrong".to_string()),
                odd_text(),
                Just(String::new()),
            ]
            .prop_map(|v| ("token".to_string(), v)),
        ),
        step_fields(),
    )
        .prop_map(|(a, b, c, d, e, f, s, g, steps)| {
            let mut v: Vec<(String, String)> =
                [a, b, c, d, e, f, s, g].into_iter().flatten().collect();
            v.extend(steps);
            v
        });
    (
        target,
        prop_oneof![
            24 => Just(Cookie::Right),
            2 => Just(Cookie::Missing),
            1 => Just(Cookie::Wrong),
            1 => odd_cookie().prop_map(Cookie::Among),
            1 => odd_cookie().prop_map(Cookie::Odd),
        ],
        prop_oneof![
            24 => Just(Csrf::Right),
            1 => Just(Csrf::Wrong),
            1 => Just(Csrf::Missing),
            1 => Just(Csrf::Twice),
        ],
        prop_oneof![
            12 => Just(Origin::None),
            8 => Just(Origin::Same),
            4 => Just(Origin::FetchSame),
            1 => Just(Origin::Other),
            1 => Just(Origin::Null),
            1 => Just(Origin::FetchCross),
        ],
        prop_oneof![
            12 => Just(Some("application/x-www-form-urlencoded")),
            1 => Just(None),
            1 => one_of(&[
                "application/json",
                "multipart/form-data; boundary=x",
                "application/x-www-form-urlencoded; charset=iso-8859-1",
                "text/plain",
            ])
            .prop_map(Some),
        ],
        fields,
        proptest::option::weighted(0.15, byte_mutation()),
    )
        .prop_map(
            |((method, target), cookie, csrf, origin, content_type, fields, mutation)| FormCase {
                method,
                target,
                cookie,
                csrf,
                origin,
                content_type,
                fields,
                mutation,
            },
        )
        .boxed()
}

struct Dashboard {
    app: App,
    cookie: String,
    csrf: String,
}

impl Dashboard {
    fn request(&self, case: &FormCase, uri: Uri) -> Request<Body> {
        let mut fields = case.fields.clone();
        match case.csrf {
            Csrf::Right => fields.insert(0, ("csrf".into(), self.csrf.clone())),
            Csrf::Wrong => fields.insert(0, ("csrf".into(), "0".repeat(64))),
            Csrf::Missing => {}
            Csrf::Twice => {
                fields.insert(0, ("csrf".into(), self.csrf.clone()));
                fields.push(("csrf".into(), self.csrf.clone()));
            }
        }
        let mut body = form(&fields);
        if let Some(m) = &case.mutation {
            body = m.apply(body);
        }
        let mut req = Request::builder()
            .method(Method::from_bytes(case.method.as_bytes()).unwrap())
            .uri(uri)
            .header(header::HOST, HOST);
        let cookies = match &case.cookie {
            Cookie::Right => vec![self.cookie.clone()],
            Cookie::Missing => vec![],
            Cookie::Wrong => vec![format!("a=b; hanbao_session={}", "f".repeat(64))],
            Cookie::Among(odd) => vec![format!("{odd}; {}", self.cookie)],
            Cookie::Odd(odd) => vec![odd.clone()],
        };
        for c in cookies {
            if let Ok(v) = HeaderValue::from_bytes(c.as_bytes()) {
                req = req.header(header::COOKIE, v);
            }
        }
        let origin: &[(&str, &str)] = match case.origin {
            Origin::None => &[],
            Origin::Same => &[("origin", "http://fuzz.example")],
            Origin::Other => &[("origin", "http://evil.example")],
            Origin::Null => &[("origin", "null")],
            Origin::FetchSame => &[("sec-fetch-site", "same-origin"), ("origin", "null")],
            Origin::FetchCross => &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://fuzz.example"),
            ],
        };
        for (k, v) in origin {
            req = req.header(*k, *v);
        }
        if let Some(ct) = case.content_type {
            req = req.header(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        req.body(Body::from(body)).unwrap()
    }
}

async fn check_form(d: &Dashboard, case: &FormCase) -> String {
    let app = &d.app;
    let Ok(uri) = Uri::try_from(case.target.as_str()) else {
        return "target not a URI".into();
    };
    let r = app.send(d.request(case, uri.clone())).await;
    let status = r.status;
    assert!(
        !status.is_server_error(),
        "{status} for {case:?}: {}",
        r.text()
    );
    let html = r.text();
    // What the dashboard answers: its pages, its CSV export, a redirect,
    // or the router's JSON for a path or method it has no route for.
    let ct = r.content_type();
    let no_route = matches!(status.as_u16(), 404 | 405)
        && ct.starts_with("application/json")
        && (html.contains("\"not_found\"") || html.contains("\"method_not_allowed\""));
    assert!(
        ct.starts_with("text/html")
            || (case.method == "HEAD" && r.body.is_empty())
            || (ct.starts_with("text/csv") && uri.path() == "/dashboard/export.csv")
            || (status == StatusCode::SEE_OTHER && r.body.is_empty())
            || no_route,
        "{status} {ct:?} for {case:?}: {html}"
    );
    if ct.starts_with("text/html") {
        assert_escaped(&html, case);
    }
    assert!(
        !html.contains(&app.admin.secret),
        "the token shown for {case:?}"
    );
    let path = uri.path();
    let location = r.location().unwrap_or("").to_string();
    if matches!(case.cookie, Cookie::Right) && path != "/dashboard/login" {
        assert!(
            !location.starts_with("/dashboard/login"),
            "the session was lost at {case:?}"
        );
    }
    let new = app.settle().await;
    let writes_here = status == StatusCode::SEE_OTHER
        && case.method == "POST"
        && location.starts_with("/dashboard/units/")
        && path.starts_with("/dashboard/units/");
    if !new.is_empty() {
        assert!(
            writes_here,
            "{status} → {location:?} wrote {new:#?} for {case:?}"
        );
        assert_eq!(new.len(), 1, "{new:#?} for {case:?}");
        let e = &new[0];
        assert_eq!(
            (e.source, e.actor.as_str()),
            (Source::Web, app.admin.actor.as_str())
        );
        assert!(
            matches!(case.cookie, Cookie::Right | Cookie::Among(_))
                && matches!(case.csrf, Csrf::Right | Csrf::Twice),
            "written without the session's token: {case:?}"
        );
        assert!(
            !matches!(
                case.origin,
                Origin::Other | Origin::Null | Origin::FetchCross
            ),
            "written cross-origin: {case:?}"
        );
    }
    if status == StatusCode::SEE_OTHER && location.starts_with("/dashboard") {
        // The page after the redirect shows the flash message.
        let next = app
            .send(
                Request::get(location.as_str())
                    .header(header::COOKIE, &d.cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert!(
            !next.status.is_server_error(),
            "{} after {case:?}",
            next.status
        );
        assert_escaped(&next.text(), case);
    }
    format!(
        "{} {} {}{}",
        case.method,
        page_kind(path),
        status.as_u16(),
        if new.is_empty() { "" } else { " wrote" }
    )
}

/// What a dashboard path names, for the tally.
fn page_kind(path: &str) -> &'static str {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["dashboard"] => "matrix",
        ["dashboard", "export.csv"] => "export",
        ["dashboard", "login"] => "login",
        ["dashboard", "outbox"] => "outbox",
        ["dashboard", "compliance"] => "compliance",
        ["dashboard", "outbox", _, "retry"] => "retry",
        ["dashboard", "units", _] => "unit",
        ["dashboard", "units", _, _, _] => "report",
        ["dashboard", "units", _, _, _, "submission"] => "submission",
        ["dashboard", "units", _, _, _, "extension"] => "extension",
        ["dashboard", "units", _, _, _, "waiver"] => "waiver",
        ["dashboard", "units", _, _, _, "revoke"] => "revoke",
        _ => "other",
    }
}

#[test]
fn fuzz_dashboard_forms() {
    let rt = runtime();
    let d = Arc::new(rt.block_on(async {
        let app = App::start().await;
        let (cookie, csrf) = app.login().await;
        Dashboard { app, cookie, csrf }
    }));
    let tally = Tally::default();
    let (dd, t) = (d.clone(), tally.clone());
    fuzz_for(
        "dashboard",
        budget() * 3 / 10,
        form_case(&d.app.days),
        move |c: FormCase| t.add(rt.block_on(check_form(&dd, &c))),
    );
    tally.report("dashboard");
}

// ---------------------------------------------------------------------------
// The confirmation page.

#[derive(Debug, Clone)]
enum Signature {
    /// Signed with the server's key.
    Right,
    /// The same, in upper case (hex is read either way).
    Upper,
    /// One hex digit changed.
    Flipped(proptest::sample::Index),
    Truncated(proptest::sample::Index),
    /// Signed with another key.
    OtherKey,
    Empty,
    Missing,
    Odd(String),
}

/// A field of the link changed after signing.
#[derive(Debug, Clone)]
enum Tamper {
    Obligation(String),
    Period(String),
    Unit(String),
    Expires(String),
}

#[derive(Debug, Clone)]
struct LinkCase {
    post: bool,
    scope: LinkScope,
    signature: Signature,
    tamper: Option<Tamper>,
    /// Typed in the form.
    fields: Vec<(String, String)>,
    /// A link field given twice.
    doubled: Option<&'static str>,
    mutation: Option<ByteMutation>,
}

fn expires() -> BoxedStrategy<i64> {
    let now = Timestamp::now().as_second();
    prop_oneof![
        12 => Just(now + 30 * 86_400),
        1 => Just(now - 1),
        1 => Just(now + 1),
        1 => Just(0),
        1 => Just(i64::MAX),
        1 => Just(i64::MIN),
        1 => any::<i64>(),
    ]
    .boxed()
}

fn link_case(days: &Days) -> BoxedStrategy<LinkCase> {
    let scope = (
        days.owed(),
        prop_oneof![4 => unit(), 1 => odd_text()],
        expires(),
    )
        .prop_map(|((obligation, period), unit, expires)| LinkScope {
            obligation,
            period,
            unit,
            expires,
        });
    let signature = prop_oneof![
        10 => Just(Signature::Right),
        1 => Just(Signature::Upper),
        1 => any::<proptest::sample::Index>().prop_map(Signature::Flipped),
        1 => any::<proptest::sample::Index>().prop_map(Signature::Truncated),
        1 => Just(Signature::OtherKey),
        1 => Just(Signature::Empty),
        1 => Just(Signature::Missing),
        1 => odd_text().prop_map(Signature::Odd),
    ];
    let tamper = proptest::option::weighted(
        0.1,
        prop_oneof![
            id(OBLIGATIONS).prop_map(Tamper::Obligation),
            days.period().prop_map(Tamper::Period),
            unit().prop_map(Tamper::Unit),
            prop_oneof![
                one_of(&["", "x", "1e9", "+1", " 1", "99999999999999999999", "-0"])
                    .prop_map(str::to_string),
                any::<i64>().prop_map(|n| n.to_string()),
            ]
            .prop_map(Tamper::Expires),
        ],
    );
    let dates = typed_date(days.dmy.iter().chain(&days.iso).cloned().collect());
    let fields = (
        field("reference", text(), 0.8),
        field("received_on", dates, 0.95),
        step_fields(),
    )
        .prop_map(|(a, b, steps)| {
            let mut v: Vec<(String, String)> = [a, b].into_iter().flatten().collect();
            v.extend(steps);
            v
        });
    (
        prop_oneof![2 => Just(true), 1 => Just(false)],
        scope,
        signature,
        tamper,
        fields,
        proptest::option::weighted(0.05, one_of(&["o", "p", "u", "e", "s"])),
        proptest::option::weighted(0.1, byte_mutation()),
    )
        .prop_map(
            |(post, scope, signature, tamper, fields, doubled, mutation)| LinkCase {
                post,
                scope,
                signature,
                tamper,
                fields,
                doubled,
                mutation,
            },
        )
        .boxed()
}

impl LinkCase {
    /// Whether a field was changed after signing.
    fn tampered(&self) -> bool {
        let sc = &self.scope;
        match &self.tamper {
            None => false,
            Some(Tamper::Obligation(v)) => *v != sc.obligation,
            Some(Tamper::Period(v)) => *v != sc.period,
            Some(Tamper::Unit(v)) => *v != sc.unit,
            Some(Tamper::Expires(v)) => v.parse::<i64>() != Ok(sc.expires),
        }
    }

    /// Whether the link is forged: a signature that is not the server's
    /// for its scope, or a field changed after signing.
    fn forged(&self) -> bool {
        !matches!(self.signature, Signature::Right | Signature::Upper) || self.tampered()
    }

    /// The link's fields and what was typed, as sent.
    fn fields(&self, key: &LinkKey) -> Vec<(String, String)> {
        let right = self.scope.sign(key);
        let s = match &self.signature {
            Signature::Right => Some(right),
            Signature::Upper => Some(right.to_uppercase()),
            Signature::Flipped(i) => {
                let mut b = right.into_bytes();
                let k = i.index(b.len());
                b[k] = if b[k] == b'0' { b'1' } else { b'0' };
                Some(String::from_utf8(b).unwrap())
            }
            Signature::Truncated(i) => Some(right[..i.index(right.len())].to_string()),
            Signature::OtherKey => Some(self.scope.sign(&LinkKey::new(vec![0xa5; 32]).unwrap())),
            Signature::Empty => Some(String::new()),
            Signature::Missing => None,
            Signature::Odd(t) => Some(t.clone()),
        };
        let sc = &self.scope;
        let mut link = vec![
            ("o".to_string(), sc.obligation.clone()),
            ("p".to_string(), sc.period.clone()),
            ("u".to_string(), sc.unit.clone()),
            ("e".to_string(), sc.expires.to_string()),
        ];
        if let Some(s) = s {
            link.push(("s".to_string(), s));
        }
        match &self.tamper {
            Some(Tamper::Obligation(v)) => link[0].1 = v.clone(),
            Some(Tamper::Period(v)) => link[1].1 = v.clone(),
            Some(Tamper::Unit(v)) => link[2].1 = v.clone(),
            Some(Tamper::Expires(v)) => link[3].1 = v.clone(),
            None => {}
        }
        if let Some(name) = self.doubled
            && let Some(f) = link.iter().find(|(k, _)| k == name).cloned()
        {
            link.push(f);
        }
        if self.post {
            link.extend(self.fields.iter().cloned());
        }
        link
    }
}

struct Confirm {
    app: App,
    /// The canonical keys of every unexpired link this test signed.
    signed: Mutex<HashSet<Key>>,
}

async fn check_link(c: &Confirm, case: &LinkCase) -> String {
    let app = &c.app;
    // The server accepts a link until its expiry second included.
    let signed = !case.forged() && case.scope.expires >= Timestamp::now().as_second();
    if signed {
        let live = app.state.live();
        let sc = &case.scope;
        if let Ok(d) =
            hanbao::tracking::resolve(&live.cfg, &live.cal, &sc.obligation, &sc.period, &sc.unit)
        {
            let key = Key::new(&d.obligation.id, d.period.to_string(), &d.unit.id);
            c.signed.lock().unwrap().insert(key);
        }
    }
    let mut bytes = form(&case.fields(&app.link_key));
    if let Some(m) = &case.mutation {
        bytes = m.apply(bytes);
    }
    let req = if case.post {
        Request::post("/confirm")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(bytes))
    } else {
        let Ok(uri) = Uri::try_from(format!("/confirm?{}", String::from_utf8_lossy(&bytes))) else {
            return "target not a URI".into();
        };
        Request::get(uri).body(Body::empty())
    };
    let r = app.send(req.unwrap()).await;
    let status = r.status;
    assert!(
        !status.is_server_error(),
        "{status} for {case:?}: {}",
        r.text()
    );
    assert!(r.content_type().starts_with("text/html"), "{case:?}: {r:?}");
    assert_escaped(&r.text(), case);
    let forged = case.forged();
    if forged && case.mutation.is_none() {
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "a forged link for {case:?}"
        );
    }
    let new = app.settle().await;
    if !new.is_empty() {
        // 201 with the page that says so (or a redirect to it, should the
        // page move to post-redirect-get).
        assert!(
            matches!(status, StatusCode::CREATED | StatusCode::SEE_OTHER),
            "{status} wrote {new:#?} for {case:?}"
        );
        assert_eq!(new.len(), 1, "{new:#?} for {case:?}");
        let e = &new[0];
        assert!(
            c.signed.lock().unwrap().contains(&e.key),
            "written for a key no link named: {e:?}, {case:?}"
        );
        assert_eq!(e.source, Source::Link, "{e:?}");
        assert_eq!(e.actor, format!("link:{}", e.key.unit), "{e:?}");
    } else {
        assert_ne!(
            status,
            StatusCode::CREATED,
            "a 201 wrote nothing for {case:?}"
        );
    }
    format!(
        "{} {}{status}",
        if case.post { "POST" } else { "GET" },
        if forged { "forged " } else { "" }
    )
}

#[test]
fn fuzz_confirmation_page() {
    let rt = runtime();
    let c = Arc::new(Confirm {
        app: rt.block_on(App::start()),
        signed: Mutex::new(HashSet::new()),
    });
    let tally = Tally::default();
    let (cc, t) = (c.clone(), tally.clone());
    fuzz_for(
        "confirm",
        budget() / 5,
        link_case(&c.app.days),
        move |l: LinkCase| t.add(rt.block_on(check_link(&cc, &l))),
    );
    tally.report("confirm");
}

// ---------------------------------------------------------------------------
// Regressions: one test per bug found.

/// A unit or outbox id that is not UTF-8 once percent-decoded
/// (`/dashboard/units/%FF`, `/dashboard/outbox/%FF/retry`) got axum's
/// plain-text "Invalid URL" 400 in English instead of the dashboard's 404
/// page.
#[test]
fn dashboard_ids_not_utf8_get_the_404_page() {
    let rt = runtime();
    rt.block_on(async {
        let app = App::start().await;
        let (cookie, csrf) = app.login().await;
        let unit = app
            .send(
                Request::get("/dashboard/units/%FF")
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        let retry = app
            .send(
                Request::post("/dashboard/outbox/%FF/retry")
                    .header(header::COOKIE, &cookie)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(form(&[("csrf".into(), csrf)])))
                    .unwrap(),
            )
            .await;
        for (r, what) in [
            (unit, "Không tìm thấy đơn vị"),
            (retry, "Không tìm thấy thư"),
        ] {
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
            assert!(r.content_type().starts_with("text/html"), "{r:?}");
            assert!(r.text().contains(what), "{}", r.text());
        }
    });
}
