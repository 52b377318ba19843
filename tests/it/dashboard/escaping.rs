//! Auto-escaping on every page, from every source of text.

use super::*;
use hanbao::store::{Outbox, Records};

/// Raw markup from the configuration, a path or a form, which no page may
/// contain: every page is rendered from auto-escaping templates.
const HOSTILE: [&str; 4] = ["<script", "<b>", "<i>", "<img"];

/// What the hostile unit name and obligation title look like once escaped.
const NAME_ESCAPED: &str =
    "Sở Tài chính &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;B&quot;";
const TITLE_ESCAPED: &str = "Báo cáo quý &lt;b&gt;KT-XH&lt;/b&gt;";
const AGENCY_ESCAPED: &str = "Sở LĐ-TB&amp;XH &lt;i&gt;Quảng Ngãi&lt;/i&gt;";

fn assert_inert(what: &str, r: &Resp, shows: &[&str]) {
    for raw in HOSTILE {
        assert!(!r.body.contains(raw), "{what}: raw {raw:?} in {}", r.body);
    }
    for text in shows {
        assert!(r.body.contains(text), "{what}: no {text:?} in {}", r.body);
    }
}

/// Every HTML page, with hostile text from every source it shows: unit
/// names and obligation titles (configuration), ids in paths and queries,
/// typed form values kept on a 422 page, recorded references and notes,
/// outbox recipients and errors, and the confirmation pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_escapes_hostile_names_and_typed_text() {
    use hanbao::http::link::{LinkKey, LinkScope};
    let s = start().await;
    let t0 = Timestamp::from_second(1_700_000_000).unwrap();
    s.store
        .enqueue(vec![outbox_row("so-taichinh", "b<i>@x.vn")], t0)
        .await
        .unwrap();
    let claimed = s
        .store
        .claim("d", t0, Timestamp::from_second(1_700_000_900).unwrap(), 1)
        .await
        .unwrap();
    let error = "550 <script>alert('x')</script> \"><img src=x>";
    s.store
        .finish(
            claimed[0].id,
            "d",
            Outcome::Failed {
                error: error.into(),
            },
            t0,
        )
        .await
        .unwrap();
    let cookie = s.login(&s.admin).await;
    let c = Some(cookie.as_str());
    let tc = "/dashboard/units/so-taichinh/bc-quy/2026-Q1";
    let page = s.get(tc, c).await;
    let csrf = page.csrf();
    let typed = "\"><script>alert(1)</script><img src=x>";
    let typed_escaped = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x&gt;";

    let login = s.get("/dashboard/login", None).await;
    assert_inert("login", &login, &[]);
    let failed = s.post("/dashboard/login", None, &[("token", typed)]).await;
    assert_inert("failed login", &failed, &[]);
    let matrix = s.get(Q1, c).await;
    assert_inert("matrix", &matrix, &[NAME_ESCAPED, TITLE_ESCAPED]);
    let filter = s
        .get(
            "/dashboard/matrix?group=%22%3E%3Cscript%3E&status=%3Cimg%3E",
            c,
        )
        .await;
    assert_eq!(filter.status, 400);
    assert_inert("bad filter", &filter, &["&quot;&gt;&lt;script&gt;"]);
    let summary = s.get("/dashboard", c).await;
    assert_inert("summary", &summary, &[TITLE_ESCAPED]);
    let grid = s.get("/dashboard/matrix?q=%22%3E%3Cscript%3E", c).await;
    assert_eq!(grid.status, 200);
    assert_inert("searched grid", &grid, &["&quot;&gt;&lt;script&gt;"]);
    let grid = s.get("/dashboard/matrix?q=chinh", c).await;
    assert_inert("grid", &grid, &[NAME_ESCAPED, TITLE_ESCAPED]);
    let unit = s.get("/dashboard/units/so-taichinh", c).await;
    assert_inert("unit", &unit, &[NAME_ESCAPED, TITLE_ESCAPED]);
    let assessed = s.get("/dashboard/compliance?year=2026", c).await;
    assert_inert("compliance", &assessed, &[NAME_ESCAPED]);
    let bad_range = s.get("/dashboard/compliance?from=%3Cscript%3E", c).await;
    assert_eq!(bad_range.status, 400);
    assert_inert("bad range", &bad_range, &["&lt;script&gt;"]);
    let no_unit = s.get("/dashboard/units/%3Cscript%3Ex%22", c).await;
    assert_eq!(no_unit.status, 404);
    assert_inert("unknown unit", &no_unit, &["&lt;script&gt;x&quot;"]);
    assert_inert("report", &page, &[NAME_ESCAPED, TITLE_ESCAPED]);
    let not_owed = s
        .get("/dashboard/units/so-taichinh/%3Cb%3E/2026-Q1", c)
        .await;
    assert_eq!(not_owed.status, 404);
    assert_inert("report not owed", &not_owed, &["&lt;b&gt;"]);
    // Typed values are kept on the 422 page, escaped, in every form.
    for (form, fields) in [
        (
            "submission",
            vec![
                ("reference", typed),
                ("received_on", "01/01/2099"),
                ("note", typed),
            ],
        ),
        ("extension", vec![("until", typed), ("reason", typed)]),
        ("waiver", vec![("reason", " ")]),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(fields);
        let r = s.post(&format!("{tc}/{form}"), c, &f).await;
        assert_eq!(r.status, 422, "{form}: {}", r.body);
        let shows: &[&str] = if form == "waiver" {
            &[NAME_ESCAPED]
        } else {
            &[NAME_ESCAPED, typed_escaped]
        };
        assert_inert(form, &r, shows);
    }
    // The echo of a typed date keeps the other typed values, escaped.
    // An extension two months from today: after the due day, within the horizon.
    let until = s
        .state
        .live()
        .today(jiff::Timestamp::now())
        .checked_add(jiff::Span::new().days(60))
        .unwrap()
        .to_string();
    for (form, fields) in [
        (
            "submission",
            vec![
                ("reference", typed),
                ("received_on", "19/03/2026"),
                ("note", typed),
            ],
        ),
        (
            "extension",
            vec![("until", until.as_str()), ("reason", typed)],
        ),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(fields);
        let r = s.post(&format!("{tc}/{form}"), c, &f).await;
        assert_eq!(r.status, 200, "{form}: {}", r.body);
        assert_inert(
            &format!("{form} echo"),
            &r,
            &[NAME_ESCAPED, TITLE_ESCAPED, typed_escaped],
        );
    }
    // Recorded text in the history and the facts.
    let ok = [
        ("csrf", csrf.as_str()),
        ("reference", typed),
        ("received_on", "19/03/2026"),
        ("note", typed),
        ("step", "record"),
    ];
    assert_eq!(
        s.post(&format!("{tc}/submission"), c, &ok).await.status,
        303
    );
    let after = s.get(tc, c).await;
    assert_inert("report after a write", &after, &[typed_escaped]);
    assert_inert(
        "unit history",
        &s.get("/dashboard/units/so-taichinh", c).await,
        &[typed_escaped],
    );
    let outbox = s.get("/dashboard/outbox", c).await;
    assert_inert(
        "outbox",
        &outbox,
        &[
            "b&lt;i&gt;@x.vn",
            "550 &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;&gt;&lt;img src=x&gt;",
        ],
    );
    let retry = s
        .post("/dashboard/outbox/%3Cimg%3E/retry", c, &[("csrf", &csrf)])
        .await;
    assert_eq!(retry.status, 404);
    assert_inert("retry of no message", &retry, &["&quot;&lt;img&gt;&quot;"]);

    // The confirmation pages: form, 422 with the typed number, recorded.
    let key = LinkKey::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
    crate::support::turn_on_links(&s.state, &key);
    let link = LinkScope {
        obligation: "bc-quy".into(),
        period: "2026-Q1".into(),
        unit: "so-taichinh".into(),
        expires: Timestamp::now().as_second() + 86_400,
    };
    let recorded = s.get(&link.path(&key), None).await;
    assert_inert(
        "confirm, recorded",
        &recorded,
        &[NAME_ESCAPED, typed_escaped, AGENCY_ESCAPED],
    );
    let sig = link.sign(&key);
    let e = link.expires.to_string();
    let fields = |reference: &str, on: &str, step: &str| {
        form(&[
            ("o", "bc-quy"),
            ("p", "2026-Q1"),
            ("u", "so-taichinh"),
            ("e", &e),
            ("s", &sig),
            ("reference", reference),
            ("received_on", on),
            ("step", step),
        ])
    };
    for (on, step, status) in [
        ("2099-01-01", "check", 422),
        (typed, "check", 422),
        ("2026-03-18", "check", 200),
        ("2026-03-18", "edit", 200),
        ("2026-03-18", "record", 409),
    ] {
        let r = send(
            s.addr,
            "POST",
            "/confirm",
            None,
            &[],
            Some(&fields(typed, on, step)),
        )
        .await;
        assert_eq!(r.status, status, "{}", r.body);
        assert_inert(
            "confirm post",
            &r,
            &[NAME_ESCAPED, TITLE_ESCAPED, typed_escaped, AGENCY_ESCAPED],
        );
    }
    s.store
        .revoke(
            hanbao::store::Revocation {
                key: Key::new("bc-quy", "2026-Q1", "so-taichinh"),
                subject: Subject::Submission,
                reason: None,
                actor: "test".into(),
                source: Source::Cli,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let open = s.get(&link.path(&key), None).await;
    assert_eq!(open.status, 200);
    assert_inert(
        "confirm form",
        &open,
        &[NAME_ESCAPED, TITLE_ESCAPED, AGENCY_ESCAPED],
    );
    s.shutdown().await;
}
