//! `GET /api/v1/status` paged: the stable order, the cursor in `Link`, the
//! limits, the group and state filters, and the errors of a bad cursor;
//! `GET /dashboard/export.csv` streamed with the bytes of `tracking::csv`.

use hanbao::tracking::{self, Selection};
use serde_json::{Value, json};

use super::{ErrorCode, Resp, Server, get, post, start_config};

/// `n` communes (ids in reverse file order, so id order differs from the
/// file's), every third also in `so-nganh`, plus the units the tokens of
/// `start_config` need; a quarterly and a monthly report.
fn big_config(n: usize) -> String {
    let mut t = String::from(
        "[[group]]\nid = \"so-nganh\"\n\n[[group]]\nid = \"xa\"\n\n\
         [[unit]]\nid = \"ubnd-tinh\"\nname = \"UBND tỉnh\"\nemail = \"vanthu@ubnd.example\"\n\n\
         [[unit]]\nid = \"so-yte\"\nname = \"Sở Y tế\"\nemail = \"yte@example.vn\"\ngroups = [\"so-nganh\"]\n\n\
         [[unit]]\nid = \"so-taichinh\"\nname = \"=HYPERLINK(\\\"x\\\")\"\nemail = \"stc@example.vn\"\ngroups = [\"so-nganh\"]\n\n",
    );
    for i in (0..n).rev() {
        let groups = if i % 3 == 0 {
            "[\"xa\", \"so-nganh\"]"
        } else {
            "[\"xa\"]"
        };
        t.push_str(&format!(
            "[[unit]]\nid = \"xa-{i:04}\"\nname = \"UBND xã số {i}\"\nemail = \"xa{i}@example.vn\"\ngroups = {groups}\n\n"
        ));
    }
    t.push_str(
        "[[obligation]]\nid = \"bc-quy\"\ntitle = \"Báo cáo quý\"\nreporters = [\"so-nganh\", \"xa\"]\n\
         recipient = \"ubnd-tinh\"\ncycle = \"quarterly\"\ndue = \"ngày 20\"\nreminders = [\"3 ngày làm việc\"]\n\n\
         [[obligation]]\nid = \"bc-thang\"\ntitle = \"Báo cáo tháng\"\nreporters = [\"xa\"]\n\
         recipient = \"ubnd-tinh\"\ncycle = \"monthly\"\ndue = \"ngày 20\"\n",
    );
    t
}

const UNITS: usize = 700;
const AT: &str = "2026-03-25";

async fn big_server() -> Server {
    let s = start_config(None, &big_config(UNITS)).await;
    for i in (0..UNITS).step_by(5) {
        let day = if i % 2 == 0 {
            "2026-03-18"
        } else {
            "2026-03-24"
        };
        let r = post(
            &s,
            "/api/v1/submissions",
            &s.admin,
            json!({"obligation": "bc-quy", "period": "2026-Q1", "unit": format!("xa-{i:04}"),
                   "received_on": day, "reference": format!("{i}/BC")}),
        )
        .await;
        assert_eq!(r.status, 201, "{r:?}");
    }
    s
}

/// The rows of `tracking::status` at [`AT`] (the oracle), as the API's
/// JSON, in (obligation, period, unit) id order, kept by `keep`.
async fn oracle(s: &Server, keep: impl Fn(&tracking::Row<'_>) -> bool) -> Vec<Value> {
    let live = s.state.live();
    let at: jiff::civil::Date = AT.parse().unwrap();
    let rows = tracking::status(&s.store, &live.cfg, &live.cal, &Selection::default(), at)
        .await
        .unwrap();
    let mut out: Vec<(String, String, String, Value)> = rows
        .iter()
        .filter(|r| keep(r))
        .map(|r| {
            let st = &r.status;
            (
                r.obligation.id.clone(),
                r.period.to_string(),
                r.unit.id.clone(),
                json!({"obligation": r.obligation.id, "period": &*r.period, "unit": r.unit.id,
                       "state": st.state.as_str(), "due": st.due.to_string(),
                       "submitted_on": st.submitted_on.map(|d| d.to_string()),
                       "days_late": st.days_late, "reference": r.reference,
                       "working_days_late": st.working_days_late}),
            )
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    out.into_iter().map(|(.., v)| v).collect()
}

/// The path of the `Link: <…>; rel="next"` header, if any.
fn next_link(r: &Resp) -> Option<String> {
    let link = r.header("link")?;
    let rest = link.strip_prefix('<').expect("Link starts with <");
    let (path, params) = rest.split_once('>').expect("Link has >");
    assert_eq!(params.trim(), "; rel=\"next\"", "{link}");
    Some(path.to_string())
}

/// Every page from `first` on, following `Link`: the rows and the count of pages.
async fn all_pages(s: &Server, first: &str, secret: &str) -> (Vec<Value>, usize) {
    let mut rows = Vec::new();
    let mut path = Some(first.to_string());
    let mut pages = 0;
    while let Some(p) = path {
        let r = get(s, &p, Some(secret)).await;
        assert_eq!(r.status, 200, "{p}: {r:?}");
        pages += 1;
        assert!(pages < 1000, "paging does not end");
        let page = r.json();
        let page = page.as_array().unwrap();
        path = next_link(&r);
        if path.is_some() {
            assert!(!page.is_empty(), "a page before the last is not empty");
        }
        rows.extend(page.iter().cloned());
    }
    (rows, pages)
}

#[tokio::test]
async fn paging_by_cursor_yields_every_row_once_in_order() {
    let s = big_server().await;
    let want = oracle(&s, |_| true).await;
    assert!(want.len() > 5_000, "{} rows", want.len());

    // The default limit (1,000): one Link per full page.
    let (rows, pages) = all_pages(&s, &format!("/api/v1/status?at={AT}"), &s.admin).await;
    assert_eq!(rows, want);
    assert_eq!(pages, want.len().div_ceil(1000));

    // An odd limit: every row exactly once, in order, across pages that
    // end in the middle of an (obligation, period).
    let (rows, pages) = all_pages(&s, &format!("/api/v1/status?at={AT}&limit=137"), &s.admin).await;
    assert_eq!(pages, want.len().div_ceil(137));
    assert_eq!(rows, want);

    // The largest page: the first 5,000 rows, then a Link.
    let r = get(
        &s,
        &format!("/api/v1/status?at={AT}&limit=5000"),
        Some(&s.admin),
    )
    .await;
    assert_eq!(r.json().as_array().unwrap()[..], want[..5000]);
    assert!(next_link(&r).is_some(), "{r:?}");

    // Group and state filters page alike, and match the same filter
    // applied to the oracle.
    let live = s.state.live();
    let members = live.cfg.groups["so-nganh"].clone();
    let want = oracle(&s, |r| {
        members.contains(&r.unit.id)
            && matches!(
                r.status.state.as_str(),
                "overdue" | "submitted_on_time" | "submitted_late"
            )
    })
    .await;
    assert!(want.len() > 100, "{} rows", want.len());
    let (rows, _) = all_pages(
        &s,
        &format!("/api/v1/status?at={AT}&group=so-nganh&state=overdue,received&limit=29"),
        &s.admin,
    )
    .await;
    assert_eq!(rows, want);
    s.shutdown().await;
}

#[tokio::test]
async fn a_cursor_belongs_to_its_filters_and_bad_ones_are_400() {
    let s = big_server().await;
    let first = get(
        &s,
        &format!("/api/v1/status?at={AT}&obligation=bc-quy&limit=10"),
        Some(&s.admin),
    )
    .await;
    let next = next_link(&first).expect("more rows");
    let cursor = next.split("cursor=").nth(1).unwrap().to_string();
    // The same cursor with other filters, or without `at`.
    for path in [
        format!("/api/v1/status?at={AT}&obligation=bc-thang&limit=10&cursor={cursor}"),
        format!("/api/v1/status?obligation=bc-quy&cursor={cursor}"),
        format!("/api/v1/status?at={AT}&obligation=bc-quy&group=xa&cursor={cursor}"),
    ] {
        let r = get(&s, &path, Some(&s.admin)).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "invalid_cursor"),
            "{path}"
        );
    }
    // The limit may change between pages.
    let r = get(
        &s,
        &format!("/api/v1/status?at={AT}&obligation=bc-quy&limit=3&cursor={cursor}"),
        Some(&s.admin),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json().as_array().unwrap().len(), 3);
    // A unit token's listing is its unit's: an administrator's cursor is
    // another listing.
    let r = get(
        &s,
        &format!("/api/v1/status?obligation=bc-quy&at={AT}&cursor={cursor}"),
        Some(&s.yte),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid_cursor"));
    let (rows, _) = all_pages(&s, &format!("/api/v1/status?at={AT}&limit=1"), &s.yte).await;
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["unit"] == "so-yte"), "{rows:?}");

    // Garbled and forged cursors: 400 with a message, never 500.
    let forged = {
        use base64::Engine as _;
        let b = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        vec![
            format!(
                "v1.{}",
                b("{\"at\":\"2026-03-25\",\"after\":[\"a\",\"b\"],\"sel\":\"x\"}")
            ),
            format!(
                "v1.{}",
                b("{\"at\":\"9999-99-99\",\"after\":[\"a\",\"b\",\"c\"],\"sel\":\"x\"}")
            ),
            format!("v1.{}", b("[]")),
            format!("v1.{}", b("\u{0}\u{ff}")),
            "v2.abc".into(),
            "%FF%FE".into(),
            "v1.".into(),
            "A".repeat(5000),
        ]
    };
    for c in forged {
        let r = get(&s, &format!("/api/v1/status?cursor={c}"), Some(&s.admin)).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "invalid_cursor"),
            "{c}: {r:?}"
        );
    }

    // Limits.
    for limit in ["0", "5001", "-1", "abc", "1.5", "18446744073709551616"] {
        let r = get(&s, &format!("/api/v1/status?limit={limit}"), Some(&s.admin)).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "invalid_limit"),
            "{limit}"
        );
    }
    // Filters.
    let r = get(&s, "/api/v1/status?group=so-ngnh", Some(&s.admin)).await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "unknown_id"));
    assert!(r.body.contains("so-nganh"), "nearest group: {r:?}");
    let r = get(&s, "/api/v1/status?state=late", Some(&s.admin)).await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_request"));
    s.shutdown().await;
}

#[tokio::test]
async fn the_export_streams_the_bytes_of_tracking_csv() {
    let s = big_server().await;
    let login = crate::support::http::Request::new("POST", "/dashboard/login")
        .header("Origin", &format!("http://{}", s.addr))
        .body(
            "application/x-www-form-urlencoded",
            format!("token={}", s.admin).as_bytes(),
        )
        .send(s.addr)
        .await;
    assert_eq!(login.status, 303, "{login:?}");
    let cookie = login
        .header("set-cookie")
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(!cookie.is_empty(), "{login:?}");
    let live = s.state.live();
    let today = live.today(jiff::Timestamp::now());
    for (query, sel, group, state) in [
        ("", Selection::default(), None, None),
        (
            "?obligation=bc-quy&group=so-nganh&status=overdue",
            Selection {
                obligation: Some("bc-quy".into()),
                ..Selection::default()
            },
            Some("so-nganh"),
            Some("overdue"),
        ),
    ] {
        let r = crate::support::http::Request::new("GET", &format!("/dashboard/export.csv{query}"))
            .header("Cookie", &cookie)
            .send(s.addr)
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        assert!(r.header("content-length").is_none(), "streamed: {r:?}");
        assert_eq!(r.header("transfer-encoding"), Some("chunked"));
        let rows = tracking::status(&s.store, &live.cfg, &live.cal, &sel, today)
            .await
            .unwrap();
        let rows: Vec<_> = rows
            .into_iter()
            .filter(|r| group.is_none_or(|g| live.cfg.groups[g].contains(&r.unit.id)))
            .filter(|r| state.is_none_or(|st| r.status.state.as_str() == st))
            .collect();
        assert!(!rows.is_empty());
        assert_eq!(r.bytes, tracking::csv(&rows), "{query}");
        // The formula in a unit's name is text.
        if query.is_empty() {
            assert!(r.body.contains("'=HYPERLINK"), "escaped");
        }
    }
    s.shutdown().await;
}

#[tokio::test]
async fn the_summary_counts_what_status_lists() {
    use hanbao::tracking::summary::{Summary, Tally};
    let s = big_server().await;
    let live = s.state.live();
    let at: jiff::civil::Date = AT.parse().unwrap();
    let rows = tracking::status(&s.store, &live.cfg, &live.cal, &Selection::default(), at)
        .await
        .unwrap();
    let check = |v: &Value, t: &Tally| {
        assert_eq!(v["rows"], t.rows(), "{v}");
        assert_eq!(v["received"], t.received(), "{v}");
        for (k, n) in [
            ("owed", t.owed),
            ("on_time", t.on_time),
            ("late", t.late),
            ("overdue", t.overdue),
            ("extended", t.extended),
            ("waived", t.waived),
            ("not_yet_due", t.not_yet),
        ] {
            assert_eq!(v[k], n, "{k}: {v}");
        }
    };
    let r = get(&s, &format!("/api/v1/summary?at={AT}"), Some(&s.admin)).await;
    assert_eq!(r.status, 200, "{r:?}");
    let v = r.json();
    let want = Summary::of(&rows, &live.cfg);
    check(&v["total"], &want.total);
    check(&v["earlier"], &want.earlier);
    assert_eq!(
        v["total"]["rows"].as_u64().unwrap() + v["earlier"]["rows"].as_u64().unwrap(),
        rows.len() as u64
    );
    assert!(v["total"]["on_time"].as_u64().unwrap() > 0);
    assert!(v["total"]["late"].as_u64().unwrap() > 0);
    let pairs = v["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), want.pairs.len());
    for (p, w) in pairs.iter().zip(&want.pairs) {
        assert_eq!(
            (p["obligation"].as_str(), p["period"].as_str()),
            (Some(&*w.obligation), Some(&*w.period))
        );
        check(p, &w.tally);
    }
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), want.groups.len());
    for (g, (id, t)) in groups.iter().zip(&want.groups) {
        assert_eq!(g["group"], **id);
        check(g, t);
    }
    // One group: its members' rows only.
    let r = get(
        &s,
        &format!("/api/v1/summary?at={AT}&group=so-nganh"),
        Some(&s.admin),
    )
    .await;
    let v = r.json();
    let members = &live.cfg.groups["so-nganh"];
    let theirs: Vec<_> = rows
        .iter()
        .filter(|r| members.contains(&r.unit.id))
        .cloned()
        .collect();
    check(&v["total"], &Summary::of(&theirs, &live.cfg).total);
    assert_eq!(v["groups"].as_array().unwrap().len(), 1);
    // Administrators only; unknown groups and bad days refused.
    let r = get(&s, "/api/v1/summary", Some(&s.yte)).await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let r = get(&s, "/api/v1/summary?group=nope", Some(&s.admin)).await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "unknown_id"));
    let r = get(&s, "/api/v1/summary?at=25/03/2026", Some(&s.admin)).await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_request"));
    s.shutdown().await;
}
