//! The JSON API, the calendar feeds, `/healthz` and `/metrics` under
//! generated and mutated requests, sent to the real router in process.
//!
//! Requests: any method (and some that are not HTTP's); the routes, their
//! neighbours and odd paths (percent-encoding, `..`, NUL, long segments);
//! query strings built from the routes' keys and odd values; bodies
//! generated for the route most of the time (each field valid, of the
//! wrong type, a huge or odd number, an odd date such as "-009999-01-01",
//! hostile text, absent, or an extra one) or replaced by something that is
//! not the route's JSON (empty, truncated, 10,000 brackets deep, over the
//! body limit, random bytes), then sometimes mutated byte by byte
//! (duplicate keys come from repeating a slice); every kind of
//! `Authorization` (each token kind, revoked, lower-case scheme, Basic,
//! empty, garbage, twice), `Content-Type` and `X-Forwarded-For`; the
//! feed token now and then in the query.
//!
//! Properties: no panic; no 5xx; no token's secret in an answer unless the
//! request carried it; a valid token never gets 401 or 429; every 4xx is
//! `{"error": {"code", "message"}}` with a code of [`CODES`]; every 2xx of
//! `/api` is JSON;
//! only a 201 writes (a 201 of `/api/v1/files/…` keeps files and no event),
//! and then exactly one event, from the API, by a token
//! that may write it (a unit token only for its own unit, extensions and
//! waivers only by an administrator); nothing else changes the history.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use hanbao::store::{Source, Subject};
use proptest::prelude::*;

use super::app::{App, OBLIGATIONS};
use super::pools::{
    ByteMutation, Days, ODD_DATES, ODD_IDS, byte_mutation, forwarded_for, id, odd_text, unit,
};
use super::{Bytes, Tally, budget, fuzz_for, one_of, runtime};

/// Every error code the API answers with below 500 (a client acts on
/// them: they are part of the interface).
const CODES: &[&str] = &[
    "bad_request",
    "conflict",
    "file_too_large",
    "forbidden",
    "invalid",
    "invalid_cursor",
    "invalid_limit",
    "method_not_allowed",
    "not_found",
    "not_owed",
    "nothing_to_revoke",
    "too_large",
    "too_many_failures",
    "too_many_files",
    "unauthorized",
    "unknown_id",
    "unknown_period",
    "unsupported_media_type",
];

const ROUTES: &[&str] = &[
    "/api/v1/status",
    "/api/v1/summary",
    "/api/v1/submissions",
    "/api/v1/submissions/revoke",
    "/api/v1/extensions",
    "/api/v1/extensions/revoke",
    "/api/v1/waivers",
    "/api/v1/waivers/revoke",
    "/api/v1/files/bc-quy/2026-Q1/so-yte",
    "/api/v1/files/bc-quy/2026-Q1/so-taichinh",
];

/// Odd neighbours of the routes.
const ODD_PATHS: &[&str] = &[
    "/",
    "/api",
    "/api/v1",
    "/api/v1/",
    "/api/v2/status",
    "/API/V1/STATUS",
    "/api/v1//status",
    "/api/v1/status/",
    "/api/v1/%73tatus",
    "/api/v1/status%00",
    "/api/v1/./status",
    "/api/v1/../v1/status",
    "/api/v1/submissions/revoke/",
    "/api/v1/submissions/1",
    "/healthz",
    "/healthz/",
    "/metrics",
    "/ics/so-yte.ics",
    "/ics/all.ics",
    "/ics/",
    "/ics/so-yte",
    "/ics/%2e%2e%2fso-yte.ics",
    "/ics/so-yte.ics.ics",
    "/ics/SO-YTE.ICS",
    "/favicon.ico",
];

/// Path segments after a route's prefix.
const SEGMENT_PREFIXES: &[&str] = &["/api/v1/", "/ics/", "/api/v1/submissions/", "/"];

/// Keys of the query strings (`status` and the feeds) and some others.
const QUERY_KEYS: &[&str] = &[
    "obligation",
    "period",
    "unit",
    "at",
    "group",
    "state",
    "limit",
    "cursor",
    "token",
    "from",
    "to",
    "x",
    "",
    "obligation[]",
    "Unit",
];

#[derive(Debug, Clone)]
enum Auth {
    None,
    Admin,
    Unit,
    Feed,
    Metrics,
    Revoked,
    /// `bearer <admin>` with odd spacing.
    AdminOddly,
    /// Anything at all.
    Raw(String),
    Twice(Box<Auth>, Box<Auth>),
}

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    target: String,
    auth: Auth,
    content_type: Option<&'static str>,
    forwarded_for: Option<String>,
    body: Bytes,
}

fn auth() -> BoxedStrategy<Auth> {
    let leaf = prop_oneof![
        2 => Just(Auth::None),
        12 => Just(Auth::Admin),
        8 => Just(Auth::Unit),
        1 => Just(Auth::Feed),
        1 => Just(Auth::Metrics),
        1 => Just(Auth::Revoked),
        2 => Just(Auth::AdminOddly),
        2 => prop_oneof![
            one_of(&[
                "Bearer",
                "Bearer ",
                "Bearer  ",
                "Basic YWRtaW46YWRtaW4=",
                "Token abc",
                "Bearer abc def",
                "Bearer \u{e9}",
                "Bearer\tabc",
            ])
            .prop_map(str::to_string),
            odd_text().prop_map(|t| format!("Bearer {t}")),
            odd_text(),
        ]
        .prop_map(Auth::Raw),
    ];
    leaf.prop_recursive(1, 2, 2, |inner| {
        (inner.clone(), inner).prop_map(|(a, b)| Auth::Twice(Box::new(a), Box::new(b)))
    })
    .boxed()
}

impl Auth {
    fn values(&self, app: &App) -> Vec<Vec<u8>> {
        let bearer = |s: &str| format!("Bearer {s}").into_bytes();
        match self {
            Auth::None => vec![],
            Auth::Admin => vec![bearer(&app.admin.secret)],
            Auth::Unit => vec![bearer(&app.yte.secret)],
            Auth::Feed => vec![bearer(&app.feed)],
            Auth::Metrics => vec![bearer(&app.metrics)],
            Auth::Revoked => vec![bearer(&app.revoked)],
            Auth::AdminOddly => vec![format!("bearer   {}  ", app.admin.secret).into_bytes()],
            Auth::Raw(s) => vec![s.clone().into_bytes()],
            Auth::Twice(a, b) => [a.values(app), b.values(app)].concat(),
        }
    }
}

/// A JSON string.
fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// JSON of the wrong type or shape, odd numbers, odd strings.
fn odd_json() -> BoxedStrategy<String> {
    prop_oneof![
        one_of(&[
            "null",
            "true",
            "false",
            "0",
            "-0",
            "-1",
            "1.5",
            "1e400",
            "-1e400",
            "123456789012345678901234567890",
            "9223372036854775808",
            "[]",
            "{}",
            "[\"bc-quy\"]",
            "{\"obligation\":\"bc-quy\"}",
            "\"\\u0000\"",
            "\"\\ud800\"",
            "\"\\udfff\\ud800\"",
            "\"\\u001b[2J\"",
            "\"a\\\"b\"",
        ])
        .prop_map(str::to_string),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| f.to_string()),
        odd_text().prop_map(|t| js(&t)),
        one_of(ODD_DATES).prop_map(js),
        (1usize..300).prop_map(|n| format!("{}1{}", "[".repeat(n), "]".repeat(n))),
    ]
    .boxed()
}

/// A field of a body: valid most of the time, absent or odd otherwise.
fn slot(
    name: &'static str,
    valid: impl Strategy<Value = String> + Clone + 'static,
    present: f64,
) -> BoxedStrategy<Option<String>> {
    proptest::option::weighted(
        present,
        prop_oneof![
            12 => valid.prop_map(|v| js(&v)),
            1 => odd_json(),
        ]
        .prop_map(move |v| format!("{}:{v}", js(name))),
    )
    .boxed()
}

/// Which fields a route takes: (received_on, reference/note/correction,
/// until, reason).
fn shape(route: &str) -> (f64, f64, f64, f64) {
    let (r, t, u, w) = if route.ends_with("/submissions") {
        (1.0, 1.0, 0.0, 0.0)
    } else if route.ends_with("/revoke") {
        (0.0, 0.0, 0.0, 0.7)
    } else if route.ends_with("/extensions") {
        (0.0, 0.0, 1.0, 1.0)
    } else if route.ends_with("/waivers") {
        (0.0, 0.0, 0.0, 1.0)
    } else {
        (0.3, 0.3, 0.3, 0.3)
    };
    // Present when the route takes it, now and then when it does not.
    let p = |x: f64| if x > 0.0 { 0.92 * x } else { 0.03 };
    (p(r), p(t), p(u), p(w))
}

/// A JSON object with the route's fields (or not), as text.
fn object(days: &Days, route: &str) -> BoxedStrategy<Vec<u8>> {
    let (r, t, u, w) = shape(route);
    let text = prop_oneof![
        3 => one_of(&["15/BC-UBND", "CV 12", "", "  "]).prop_map(str::to_string),
        1 => odd_text(),
    ];
    let dates = || super::pools::typed_date(days.iso.clone());
    let key = days.owed().prop_flat_map(|(o, p)| {
        (
            slot("obligation", Just(o), 0.97),
            slot("period", Just(p), 0.97),
        )
    });
    let fields = (
        key,
        slot("unit", unit(), 0.97),
        slot("received_on", dates(), r),
        slot("reference", text.clone(), t * 0.7),
        slot("note", text.clone(), t * 0.5),
        proptest::option::weighted(
            t * 0.3,
            prop_oneof![Just("true"), Just("false"), Just("\"yes\""), Just("1")]
                .prop_map(|v| format!("\"correction\":{v}")),
        ),
        slot("until", dates(), u),
        slot("reason", text, w),
        proptest::option::weighted(
            0.04,
            (
                one_of(&["extra", "Obligation", "unit ", "", "__proto__", "unit\u{0}"]),
                odd_json(),
            )
                .prop_map(|(k, v)| format!("{}:{v}", js(k))),
        ),
    );
    fields
        .prop_map(|((a, b), c, d, e, f, g, h, i, j)| {
            let parts: Vec<String> = [a, b, c, d, e, f, g, h, i, j]
                .into_iter()
                .flatten()
                .collect();
            format!("{{{}}}", parts.join(",")).into_bytes()
        })
        .boxed()
}

/// Something that is not the route's JSON object.
fn not_an_object() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        one_of(&[
            "",
            "null",
            "[]",
            "{}",
            "{",
            "}",
            "\"\"",
            "{\"obligation\":\"bc-quy\",}",
            "{'obligation':'bc-quy'}",
            "{\"obligation\":NaN}",
            "{\"obligation\":Infinity}",
            "{/* */}",
            "\u{feff}{}",
            "{}{}",
            "{} x",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        (1usize..20_000).prop_map(|n| "[".repeat(n).into_bytes()),
        (1usize..5_000).prop_map(|n| "{\"a\":".repeat(n).into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..200),
        // Over the 64 KiB body limit.
        Just(format!("{{\"note\":\"{}\"}}", "x".repeat(70_000)).into_bytes()),
    ]
    .boxed()
}

fn segment() -> BoxedStrategy<String> {
    prop_oneof![
        one_of(ODD_IDS).prop_map(hanbao::primitives::percent),
        odd_text().prop_map(|t| hanbao::primitives::percent(&t)),
        one_of(&[
            "%",
            "%zz",
            "%FF%FE",
            "%00",
            "..",
            ".",
            "%2e%2e",
            "a%2Fb",
            "so-yte.ics",
            "all.ics",
            "%C3%A9.ics",
            ";x=1",
        ])
        .prop_map(str::to_string),
        (1usize..6000).prop_map(|n| "a".repeat(n)),
    ]
    .boxed()
}

/// In a generated query string, replaced by the feed token's secret when
/// the request is sent (the feeds take their token in the query).
const FEED_TOKEN: &str = "FEEDTOKEN";

/// Hostile page sizes and cursors for `/api/v1/status`: out of range,
/// not numbers, garbled base64, JSON of the wrong shape, a well-formed
/// cursor with odd content (days out of range, ids that do not exist).
fn paging() -> BoxedStrategy<String> {
    use base64::Engine as _;
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    prop_oneof![
        one_of(&[
            "0",
            "1",
            "5000",
            "5001",
            "-1",
            "1e3",
            " 7",
            "07",
            "+5",
            "0x10",
            "18446744073709551616",
            "4294967296",
            "v1.",
            "v1",
            "v1.e30",
            "v2.e30",
            "v1.=",
            "v1.%00",
            "v1.****",
        ])
        .prop_map(str::to_string),
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(move |v| format!("v1.{}", b64(&v))),
        (odd_text(), odd_text(), one_of(ODD_DATES), odd_text()).prop_map(move |(o, u, at, sel)| {
            let json = serde_json::json!({"at": at, "after": [o, "2026-Q1", u], "sel": sel});
            format!("v1.{}", b64(json.to_string().as_bytes()))
        }),
        (1usize..3000).prop_map(|n| format!("v1.{}", "A".repeat(n))),
    ]
    .boxed()
}

fn query(days: &Days) -> BoxedStrategy<String> {
    let value = prop_oneof![
        2 => paging(),
        2 => id(OBLIGATIONS),
        2 => days.period(),
        2 => unit(),
        2 => super::pools::typed_date(days.iso.clone()),
        1 => odd_text(),
    ];
    let pair = (
        one_of(QUERY_KEYS),
        prop_oneof![9 => value, 1 => Just(FEED_TOKEN.to_string())],
        prop_oneof![4 => Just(true), 1 => Just(false)],
    )
        .prop_map(|(k, v, encode)| {
            if encode {
                format!("{k}={}", hanbao::primitives::percent(&v))
            } else {
                format!("{k}={v}")
            }
        });
    prop_oneof![
        6 => proptest::collection::vec(pair, 0..5).prop_map(|p| p.join("&")),
        1 => one_of(&["&&", "=", "a", "at=", "%", "%zz=1", "at=2026-01-01&at=2026-01-02", "+=+"])
            .prop_map(str::to_string),
    ]
    .boxed()
}

fn case(days: &Days) -> BoxedStrategy<Case> {
    let days = days.clone();
    let path = prop_oneof![
        16 => one_of(ROUTES).prop_map(str::to_string),
        2 => one_of(ODD_PATHS).prop_map(str::to_string),
        1 => (one_of(SEGMENT_PREFIXES), segment()).prop_map(|(p, s)| format!("{p}{s}")),
    ];
    path.prop_flat_map(move |path| {
        // The route's own method most of the time.
        let reads =
            path == "/api/v1/status" || path == "/api/v1/summary" || !path.starts_with("/api/");
        let method = prop_oneof![
            12 => Just(if reads { "GET" } else { "POST" }),
            1 => Just(if reads { "POST" } else { "GET" }),
            1 => one_of(&["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "FUZZ", "get"]),
        ];
        let target = (
            Just(path.clone()),
            proptest::option::weighted(0.4, query(&days)),
        )
            .prop_map(|(p, q)| match q {
                Some(q) => format!("{p}?{q}"),
                None => p,
            });
        let content_type = prop_oneof![
            8 => Just(Some("application/json")),
            1 => Just(None),
            2 => one_of(&[
                "application/json; charset=utf-8",
                "APPLICATION/JSON",
                " application/json ",
                "application/json;",
                "application/jsonx",
                "text/json",
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "application/json, text/plain",
                "",
                "application/ld+json",
                "application/json; charset=iso-8859-1",
                "\u{e9}",
            ])
            .prop_map(Some),
        ];
        let body = (
            prop_oneof![8 => object(&days, &path), 1 => not_an_object()],
            proptest::option::weighted(0.2, byte_mutation()),
        )
            .prop_map(|(b, m): (Vec<u8>, Option<ByteMutation>)| match m {
                Some(m) => m.apply(b),
                None => b,
            });
        (method, target, auth(), content_type, forwarded_for(), body).prop_map(
            |(method, target, auth, content_type, forwarded_for, body)| Case {
                method,
                target,
                auth,
                content_type,
                forwarded_for,
                body: Bytes(body),
            },
        )
    })
    .boxed()
}

/// One request and its properties. Returns what happened, for the tally.
async fn check(app: &App, case: &Case) -> String {
    // What hyper would refuse before the router sees it is skipped.
    let target = case.target.replace(FEED_TOKEN, &app.feed);
    let Ok(uri) = Uri::try_from(target.as_str()) else {
        return "target not a URI".into();
    };
    let method = Method::from_bytes(case.method.as_bytes()).unwrap();
    let mut req = Request::builder().method(method.clone()).uri(uri.clone());
    for v in case.auth.values(app) {
        if let Ok(v) = HeaderValue::from_bytes(&v) {
            req = req.header(header::AUTHORIZATION, v);
        }
    }
    if let Some(ct) = case.content_type
        && let Ok(v) = HeaderValue::from_bytes(ct.as_bytes())
    {
        req = req.header(header::CONTENT_TYPE, v);
    }
    if let Some(xff) = &case.forwarded_for
        && let Ok(v) = HeaderValue::from_bytes(xff.as_bytes())
    {
        req = req.header("x-forwarded-for", v);
    }
    let r = app
        .send(req.body(Body::from(case.body.0.clone())).unwrap())
        .await;
    let status = r.status;
    assert!(
        !status.is_server_error(),
        "{status} for {case:?}: {}",
        r.text()
    );
    // A secret this request did not carry never comes back.
    let sent = [
        target.as_bytes(),
        &case.auth.values(app).concat(),
        &case.body.0,
    ]
    .concat();
    let has = |hay: &[u8], s: &str| hay.windows(s.len()).any(|w| w == s.as_bytes());
    for secret in [&app.admin.secret, &app.yte.secret, &app.feed, &app.metrics] {
        assert!(
            has(&sent, secret) || !has(&r.body, secret),
            "a token's secret in the answer to {case:?}"
        );
    }
    let path = uri.path();
    // A valid credential is never refused, whatever failed before it.
    if path.starts_with("/api/") && matches!(case.auth, Auth::Admin | Auth::Unit | Auth::AdminOddly)
    {
        assert!(
            !matches!(status.as_u16(), 401 | 429),
            "{status} with a valid token for {case:?}: {}",
            r.text()
        );
    }
    let ours = !path.starts_with("/dashboard") && !path.starts_with("/confirm");
    let mut code = String::new();
    if status.is_client_error() && ours && method != Method::HEAD {
        code = error_code(&r, case);
        assert!(
            CODES.contains(&code.as_str()),
            "code {code:?} ({status}) is not one of the API's codes, for {case:?}"
        );
        if std::env::var_os("HANBAO_FUZZ_SHOW").is_some() {
            eprintln!("{status} {}", r.text());
        }
    }
    if status.is_success() && path.starts_with("/api/") && method != Method::HEAD {
        serde_json::from_slice::<serde_json::Value>(&r.body)
            .unwrap_or_else(|e| panic!("{status} not JSON ({e}) for {case:?}: {}", r.text()));
    }
    let new = app.settle().await;
    if status == StatusCode::CREATED && path.starts_with("/api/v1/files/") {
        // Files are kept, no event is written.
        assert!(new.is_empty(), "an upload wrote {new:#?} for {case:?}");
        "201 files".to_string()
    } else if status == StatusCode::CREATED {
        assert_eq!(new.len(), 1, "a 201 wrote {new:#?} for {case:?}");
        let e = &new[0];
        assert_eq!(e.source, Source::Api, "{e:?}");
        if e.actor == app.yte.actor {
            assert_eq!(
                e.key.unit, "so-yte",
                "a unit token wrote for another: {e:?}"
            );
            assert_eq!(e.subject, Subject::Submission, "{e:?}");
        } else {
            assert_eq!(e.actor, app.admin.actor, "{e:?} for {case:?}");
        }
        format!("201 {:?} {:?}", e.subject, e.action)
    } else {
        assert!(new.is_empty(), "{status} wrote {new:#?} for {case:?}");
        format!("{} {code}", status.as_u16())
    }
}

/// The code of an error response, checking its shape.
fn error_code(r: &super::app::Resp, case: &Case) -> String {
    assert!(
        r.content_type().starts_with("application/json"),
        "{} with {:?} for {case:?}: {}",
        r.status,
        r.content_type(),
        r.text()
    );
    let v: serde_json::Value = serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("{} not JSON ({e}) for {case:?}: {}", r.status, r.text()));
    let shape_ok = v.as_object().is_some_and(|o| o.len() == 1)
        && v["error"].as_object().is_some_and(|o| o.len() == 2)
        && v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.trim().is_empty());
    assert!(
        shape_ok,
        "{} error of the wrong shape for {case:?}: {v}",
        r.status
    );
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code: {v}"))
        .to_string()
}

#[test]
fn fuzz_api_requests() {
    let rt = runtime();
    let app = std::sync::Arc::new(rt.block_on(App::start()));
    let tally = Tally::default();
    let (a, t) = (app.clone(), tally.clone());
    fuzz_for("api", budget() * 2 / 5, case(&app.days), move |c: Case| {
        let what = rt.block_on(check(&a, &c));
        t.add(what);
    });
    tally.report("api");
}

// ---------------------------------------------------------------------------
// Regressions: one test per bug found.

/// A feed name that is not UTF-8 once percent-decoded (`/ics/%FF%FE`) got
/// axum's plain-text 400 instead of the API's JSON error.
#[test]
fn feed_name_not_utf8_is_a_json_error() {
    let rt = runtime();
    rt.block_on(async {
        let app = App::start().await;
        let r = app
            .send(Request::get("/ics/%FF%FE").body(Body::empty()).unwrap())
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let case = Case {
            method: "GET",
            target: "/ics/%FF%FE".into(),
            auth: Auth::None,
            content_type: None,
            forwarded_for: None,
            body: Bytes(vec![]),
        };
        assert_eq!(error_code(&r, &case), "bad_request");
    });
}
