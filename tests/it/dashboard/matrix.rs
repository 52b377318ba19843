//! The summary page and the matrix at more than a province's size: the
//! summary's counts are `tracking::summary`'s and every count leads to
//! rows of its state; the matrix pages (the union of the pages is the
//! selection, each unit once), sorts (days late, name) and searches
//! without diacritics (NFC and NFD alike); and the sample's matrix still
//! shows every row it showed when it was the whole dashboard.

use std::collections::BTreeSet;

use hanbao::config::model::Config;
use hanbao::primitives::fold;
use hanbao::status::{Moment, StateName};
use hanbao::store::{NewExtension, NewWaiver};
use hanbao::tracking::summary::Summary;

use super::*;

/// Text as the templates escape it.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Every `data-state` of a page.
fn states(body: &str) -> Vec<String> {
    body.split("data-state=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

/// The unit ids of the lines of a page (`<tr id="u-...">`), in order.
fn lines(body: &str) -> Vec<String> {
    body.split("<tr id=\"u-")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

/// The text of the element after `marker`'s next `>` up to its `<`.
fn text_after<'b>(body: &'b str, marker: &str) -> Option<&'b str> {
    let at = body.find(marker)?;
    let rest = &body[at..];
    let start = rest.find("\">")? + 2;
    let rest = &rest[start..];
    Some(&rest[..rest.find('<')?])
}

/// The (state, text) of the matrix cell `c-{id}`.
fn cell(body: &str, id: &str) -> Option<(String, String)> {
    let marker = format!("id=\"c-{id}\"");
    let at = body.find(&marker)?;
    let before = &body[..at];
    let ds = before.rfind("data-state=\"").unwrap() + "data-state=\"".len();
    let state = before[ds..ds + before[ds..].find('"').unwrap()].to_string();
    let text = text_after(&body[at..], "<a href=")?.to_string();
    Some((state, text))
}

/// The `href` values of a page that start with `prefix`, unescaped.
fn hrefs(body: &str, prefix: &str) -> Vec<String> {
    body.split("href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].replace("&amp;", "&"))
        .filter(|h| h.starts_with(prefix))
        .collect()
}

fn sample() -> Config {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/quang-ngai-4040.toml");
    hanbao::config::load(&path).unwrap().config
}

fn now_in(cfg: &Config) -> Moment {
    Moment::local(Timestamp::now(), &cfg.daemon.time_zone)
}

/// The sample with a seeded state: of the current rows, every third
/// received today, every seventh (from the second) waived, every eleventh
/// (from the third) extended by 30 days.
pub(super) async fn seeded_sample() -> Server {
    let s = start_on(sample()).await;
    let live = s.state.live();
    let now = now_in(&live.cfg);
    let rows = tracking::status(&s.store, &live.cfg, &live.cal, &Selection::default(), now)
        .await
        .unwrap();
    let later = now.day.checked_add(jiff::Span::new().days(30)).unwrap();
    for (i, r) in rows.iter().enumerate() {
        let key = Key::new(&r.obligation.id, r.period.to_string(), &r.unit.id);
        let t = Timestamp::now();
        if i % 3 == 0 {
            let sub = NewSubmission {
                key,
                received_on: now.day,
                received_at: None,
                reference: Some(format!("{i}/BC")),
                note: None,
                actor: "cli:test".into(),
                source: Source::Cli,
                correction: false,
            };
            s.store.record_submission(sub, t).await.unwrap();
        } else if i % 7 == 1 {
            let w = NewWaiver {
                key,
                reason: "sáp nhập".into(),
                actor: "cli:test".into(),
                source: Source::Cli,
            };
            s.store.grant_waiver(w, t).await.unwrap();
        } else if i % 11 == 2 {
            let e = NewExtension {
                key,
                until: later,
                reason: "thiên tai".into(),
                actor: "cli:test".into(),
                source: Source::Cli,
            };
            s.store.grant_extension(e, t).await.unwrap();
        }
    }
    s
}

/// The words a cell of each state starts with.
fn starts(state: StateName) -> &'static str {
    match state {
        StateName::Overdue => "Quá ",
        StateName::SubmittedLate => "Nộp muộn ",
        StateName::SubmittedOnTime => "Đã nộp",
        StateName::Extended => "Gia hạn đến ",
        other => other.label_vi(),
    }
}

/// On the sample, the matrix (now at `/dashboard/matrix`) still shows all
/// it showed as the whole dashboard: every row of `tracking::status` as a
/// cell of its state and words, every column's title, period and due day,
/// the legend's counts and the CSV link; the summary lists every current
/// report-period; an old `/dashboard?<filters>` address is sent on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_dashboard_shows_everything_it_showed() {
    let s = seeded_sample().await;
    let cookie = s.login(&s.admin).await;
    let c = Some(cookie.as_str());
    let live = s.state.live();
    let rows = tracking::status(
        &s.store,
        &live.cfg,
        &live.cal,
        &Selection::default(),
        now_in(&live.cfg),
    )
    .await
    .unwrap();
    assert!(rows.len() > 40, "{}", rows.len());
    let page = s.get("/dashboard/matrix", c).await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    // One page, no paging asked: every unit.
    let units: BTreeSet<&str> = rows.iter().map(|r| r.unit.id.as_str()).collect();
    assert_eq!(lines(body).len(), units.len());
    for r in &rows {
        let id = format!("{}-{}-{}", r.unit.id, r.obligation.id, r.period);
        let (state, text) = cell(body, &id).unwrap_or_else(|| panic!("no cell {id}"));
        assert_eq!(state, r.status.state.as_str(), "{id}");
        assert!(text.starts_with(starts(r.status.state)), "{id}: {text}");
        assert!(body.contains(&format!("title=\"{}\"", esc(&r.obligation.title))));
        assert!(body.contains(&esc(&r.unit.name)), "{}", r.unit.name);
        if !r.status.extended {
            assert!(body.contains(&format!("hạn {}", tracking::dmy(r.status.due))));
        }
    }
    for st in [
        StateName::Overdue,
        StateName::SubmittedOnTime,
        StateName::Waived,
        StateName::Extended,
    ] {
        let n = rows.iter().filter(|r| r.status.state == st).count();
        assert!(n > 0, "the seed has {st:?}");
        assert!(
            body.contains(&format!("{}: {n}</span>", st.label_vi())),
            "legend {st:?} {n}"
        );
    }
    assert!(body.contains(&format!("Tổng: {} ô.", rows.len())));
    assert!(body.contains("href=\"/dashboard/export.csv\""));
    // The summary names every current report-period.
    let sum = Summary::of(&rows, &live.cfg);
    let summary = s.get("/dashboard", c).await;
    assert_eq!(summary.status, 200);
    for p in sum.pairs.iter().filter(|p| p.all_units) {
        let href = format!(
            "href=\"/dashboard/matrix?obligation={}&amp;period={}\"",
            p.obligation, p.period
        );
        assert!(summary.body.contains(&href), "{href}");
    }
    assert!(!sum.groups.is_empty());
    for (g, _) in &sum.groups {
        assert!(summary.body.contains(&esc(live.cfg.group_name(g))), "{g}");
    }
    // Old addresses of the filtered matrix are sent on.
    let old = "/dashboard?obligation=bc-quy&period=2026-Q1&status=overdue";
    let r = s.get(old, c).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some("/dashboard/matrix?obligation=bc-quy&period=2026-Q1&status=overdue")
    );
    s.shutdown().await;
}

/// The summary's counts are `tracking::summary`'s, and each count links
/// to a matrix whose rows all have that state (as many as counted for a
/// report-period).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_counts_are_the_tracking_summary_and_lead_to_their_units() {
    let s = seeded_sample().await;
    let cookie = s.login(&s.admin).await;
    let c = Some(cookie.as_str());
    let live = s.state.live();
    let rows = tracking::status(
        &s.store,
        &live.cfg,
        &live.cal,
        &Selection::default(),
        now_in(&live.cfg),
    )
    .await
    .unwrap();
    let sum = Summary::of(&rows, &live.cfg);
    let page = s.get("/dashboard", c).await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    let t = sum.total;
    assert!(
        body.contains(&format!("/{}</strong> (đúng hạn", t.owed)),
        "{body}"
    );
    let mut followed = 0;
    for p in sum.pairs.iter().filter(|p| p.all_units) {
        let base = format!(
            "/dashboard/matrix?obligation={}&period={}",
            p.obligation, p.period
        );
        for (n, states_) in [
            (p.tally.overdue, "overdue"),
            (p.tally.on_time, "submitted_on_time"),
            (p.tally.waived, "waived"),
            (p.tally.extended, "extended"),
            (p.tally.received(), "submitted_on_time%2Csubmitted_late"),
        ] {
            let href = format!("{base}&status={states_}");
            let shown = format!("href=\"{}\">{n}</a>", href.replace('&', "&amp;"));
            if n == 0 {
                assert!(!body.contains(&shown), "{shown}");
                continue;
            }
            assert!(body.contains(&shown), "{shown}");
            let m = s.get(&href, c).await;
            assert_eq!(m.status, 200, "{href}");
            let got = states(&m.body);
            assert_eq!(got.len(), n, "{href}");
            let wanted = states_.replace("%2C", ",");
            assert!(
                got.iter().all(|g| wanted.split(',').any(|w| w == g)),
                "{href}: {got:?}"
            );
            followed += 1;
        }
    }
    assert!(followed >= 4, "{followed}");
    // Per group: every overdue link leads to overdue rows only.
    let groups = hrefs(body, "/dashboard/matrix?group=");
    assert!(!groups.is_empty());
    for (g, gt) in &sum.groups {
        if gt.overdue == 0 {
            continue;
        }
        let href = format!("/dashboard/matrix?group={g}&status=overdue");
        assert!(groups.contains(&href), "{href}");
        let m = s.get(&href, c).await;
        let got = states(&m.body);
        assert!(got.len() >= gt.overdue, "{href}");
        assert!(got.iter().all(|g| g == "overdue"), "{href}");
    }
    s.shutdown().await;
}

/// 130 communes, one of them "UBND xã Hòa Hiệp Trung" (NFC), another
/// "UBND phường Hoà Hiệp Bắc" written decomposed (NFD) with the old tone
/// placement, owing a monthly report.
fn communes() -> String {
    use unicode_normalization::UnicodeNormalization as _;
    let mut t = String::from(
        "[[group]]\nid = \"xa\"\nname = \"Các xã, phường\"\n\n\
         [[unit]]\nid = \"so\"\nname = \"Sở Nội vụ\"\nemail = \"vanthu@so.example\"\n\n",
    );
    for i in 0..130 {
        let name = match i {
            77 => "UBND xã Hòa Hiệp Trung".to_string(),
            78 => "UBND phường Hoà Hiệp Bắc".nfd().collect(),
            i => format!("UBND xã Số {}", 1000 - i * 7 % 130),
        };
        t.push_str(&format!(
            "[[unit]]\nid = \"xa-{i:03}\"\nname = \"{name}\"\n\
             email = \"vanthu@xa{i}.example\"\ngroups = [\"xa\"]\n\n"
        ));
    }
    t.push_str(
        "[[obligation]]\nid = \"bc-thang\"\ntitle = \"Báo cáo tháng về cải cách hành chính\"\n\
         reporters = [\"xa\"]\nrecipient = \"so\"\ncycle = \"monthly\"\ndue = \"ngày 20\"\n",
    );
    t
}

/// The month three months ago, long overdue.
fn old_month() -> String {
    let tz = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
    let today = tz.to_datetime(Timestamp::now()).date();
    let d = today.checked_sub(jiff::Span::new().months(3)).unwrap();
    format!("{}-{:02}", d.year(), d.month())
}

/// The days late of each line of a list page ("12 (8 LV)"), in order;
/// -1 where empty.
fn days_late(body: &str) -> Vec<i64> {
    body.split("data-label=\"Số ngày muộn\">")
        .skip(1)
        .map(|s| {
            let t = &s[..s.find('<').unwrap()];
            t.split(' ').next().unwrap().parse().unwrap_or(-1)
        })
        .collect()
}

/// The unit names of the lines of a page, in order.
fn names(body: &str) -> Vec<String> {
    body.split("<th class=\"u\" scope=\"row\">")
        .skip(1)
        .map(|s| text_after(s, "<a href=").unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_matrix_pages_sorts_and_searches_without_diacritics() {
    let s = start_with(&communes()).await;
    let month = old_month();
    let live = s.state.live();
    let sel = Selection {
        obligation: Some("bc-thang".into()),
        period: Some(month.clone()),
        unit: None,
    };
    let rows = tracking::status(&s.store, &live.cfg, &live.cal, &sel, now_in(&live.cfg))
        .await
        .unwrap();
    assert_eq!(rows.len(), 130);
    let due0 = rows[0].status.due;
    let due = |i: i64| due0.checked_add(jiff::Span::new().days(i)).unwrap();
    for i in 0..130i64 {
        let received_on = match i % 4 {
            0 => due(1 + i % 13),
            1 => due(-1),
            _ => continue,
        };
        let sub = NewSubmission {
            key: Key::new("bc-thang", month.clone(), format!("xa-{i:03}")),
            received_on,
            received_at: None,
            reference: None,
            note: None,
            actor: "cli:test".into(),
            source: Source::Cli,
            correction: false,
        };
        s.store
            .record_submission(sub, Timestamp::now())
            .await
            .unwrap();
    }
    let cookie = s.login(&s.admin).await;
    let c = Some(cookie.as_str());
    let list = format!("/dashboard/matrix?obligation=bc-thang&period={month}");

    // Pages of 50: "1–50 / 130", then on; each unit exactly once.
    let mut seen = Vec::new();
    for (page, text) in [(1, "1–50 / 130"), (2, "51–100 / 130"), (3, "101–130 / 130")] {
        let r = s.get(&format!("{list}&per=50&page={page}"), c).await;
        assert_eq!(r.status, 200);
        assert!(r.body.contains(text), "page {page}");
        let got = lines(&r.body);
        assert_eq!(got.len(), if page < 3 { 50 } else { 30 });
        seen.extend(got);
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 130);
    assert_eq!(seen.len(), 130);
    // The default page of a list is 100, with a link to the next.
    let r = s.get(&list, c).await;
    assert!(r.body.contains("1–100 / 130"));
    assert!(r.body.contains("rel=\"next\""));
    // Beyond the last page: the last page; nonsense: the first.
    let r = s.get(&format!("{list}&page=18446744073709551616"), c).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("1–100 / 130"));
    let r = s.get(&format!("{list}&page=9&per=50"), c).await;
    assert!(r.body.contains("101–130 / 130"));

    // By days late: non-increasing, overdue first.
    let r = s.get(&format!("{list}&sort=late&per=200"), c).await;
    let late = days_late(&r.body);
    assert_eq!(late.len(), 130);
    assert!(late.windows(2).all(|w| w[0] >= w[1]), "{late:?}");
    assert_eq!(states(&r.body)[0], "overdue");
    // By state: overdue, then late, then on time.
    let r = s.get(&format!("{list}&sort=state&per=200"), c).await;
    let st = states(&r.body);
    let rank = |s: &str| {
        ["overdue", "submitted_late", "submitted_on_time"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    assert!(st.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])), "{st:?}");
    // By name, folded; reversed with dir=desc.
    let r = s.get(&format!("{list}&sort=name&per=200"), c).await;
    let n: Vec<String> = names(&r.body).iter().map(|n| fold(n)).collect();
    assert_eq!(n.len(), 130);
    assert!(n.windows(2).all(|w| w[0] <= w[1]), "{n:?}");
    let r = s
        .get(&format!("{list}&sort=name&dir=desc&per=200"), c)
        .await;
    let d: Vec<String> = names(&r.body).iter().map(|n| fold(n)).collect();
    assert!(d.windows(2).all(|w| w[0] >= w[1]), "{d:?}");

    // Search without diacritics, NFC or NFD, in any case; by id too.
    use unicode_normalization::UnicodeNormalization as _;
    let nfd: String = "hòa hiệp".nfd().collect();
    let mut found = Vec::new();
    for q in [
        "hoa hiep",
        "hòa hiệp",
        nfd.as_str(),
        "HOA  HIỆP",
        "Hoà Hiệp",
    ] {
        let r = s
            .get(&format!("{list}&q={}", hanbao::primitives::percent(q)), c)
            .await;
        assert_eq!(r.status, 200, "{q}");
        found.push(lines(&r.body));
    }
    assert_eq!(found[0], ["xa-077", "xa-078"]);
    assert!(found.iter().all(|f| *f == found[0]), "{found:?}");
    let r = s.get(&format!("{list}&q=xa-00"), c).await;
    assert_eq!(lines(&r.body).len(), 10);
    let r = s.get(&format!("{list}&q=hiep%20trung"), c).await;
    assert_eq!(lines(&r.body), ["xa-077"]);
    assert!(r.body.contains("1–1 / 1"));
    // The grid searches too, and the export follows the search.
    let r = s.get("/dashboard/matrix?q=hoa+hiep", c).await;
    assert_eq!(lines(&r.body), ["xa-077", "xa-078"]);
    assert!(
        r.body
            .contains("href=\"/dashboard/export.csv?q=hoa%20hiep\"")
    );
    let csv = s.get("/dashboard/export.csv?q=hoa%20hiep", c).await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.contains("xa-077") && csv.body.contains("xa-078"));
    assert!(!csv.body.contains("xa-076"));
    // Group and column names, not ids.
    assert!(r.body.contains(">Các xã, phường</option>"));
    assert!(r.body.contains("Báo cáo tháng về cải cách hành chính"));
    s.shutdown().await;
}

/// 2,000 communes in 40 districts (groups), owing a monthly, a quarterly
/// and an annual report.
pub(super) fn province_of_2000() -> String {
    let mut t = String::from(
        "[[unit]]\nid = \"so\"\nname = \"Sở Nội vụ\"\nemail = \"vanthu@so.example\"\n\n",
    );
    for d in 0..40 {
        t.push_str(&format!(
            "[[group]]\nid = \"h{d:02}\"\nname = \"Các xã thuộc huyện số {d}\"\n\n"
        ));
    }
    for i in 0..2000 {
        t.push_str(&format!(
            "[[unit]]\nid = \"xa-{i:04}\"\nname = \"UBND xã Hòa Hiệp số {i}\"\n\
             email = \"vanthu@xa{i}.example\"\ngroups = [\"h{:02}\"]\n\n",
            i % 40
        ));
    }
    for (id, cycle) in [
        ("bc-thang", "monthly"),
        ("bc-quy", "quarterly"),
        ("bc-nam", "annual"),
    ] {
        t.push_str(&format!(
            "[[obligation]]\nid = \"{id}\"\ntitle = \"Báo cáo {cycle} về tình hình kinh tế - xã hội\"\n\
             reporters = [{}]\nrecipient = \"so\"\ncycle = \"{cycle}\"\ndue = \"ngày 20\"\n\n",
            (0..40)
                .map(|d| format!("\"h{d:02}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    t
}

/// At 2,000 units the grid is paged (never every unit at once), and the
/// pages stay small: the summary under 500 KB, the heaviest matrix page
/// (200 units) under 2 MB. A byte check, not a timing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_two_thousand_units_pages_stay_small() {
    let s = start_with(&province_of_2000()).await;
    let cookie = s.login(&s.admin).await;
    let c = Some(cookie.as_str());
    let summary = s.get("/dashboard", c).await;
    assert_eq!(summary.status, 200);
    assert!(summary.bytes.len() < 500_000, "{}", summary.bytes.len());
    assert!(summary.body.contains("Các xã thuộc huyện số 39"));
    let grid = s.get("/dashboard/matrix", c).await;
    assert_eq!(grid.status, 200);
    assert_eq!(lines(&grid.body).len(), 50);
    assert!(grid.body.contains("1–50 / 2\u{a0}000"), "pager");
    let heavy = s.get("/dashboard/matrix?per=200&page=3", c).await;
    assert_eq!(lines(&heavy.body).len(), 200);
    assert!(heavy.body.contains("401–600 / 2\u{a0}000"));
    assert!(heavy.bytes.len() < 2_000_000, "{}", heavy.bytes.len());
    // Beyond one page, a report's earlier unsettled periods share one
    // column: at most two per report.
    let columns = heavy.body.matches("<th title=").count();
    assert!((3..=6).contains(&columns), "{columns}");
    let list = s
        .get("/dashboard/matrix?obligation=bc-quy&per=200", c)
        .await;
    assert_eq!(list.status, 200);
    assert!(list.bytes.len() < 2_000_000, "{}", list.bytes.len());
    let group = s.get("/dashboard/matrix?group=h07&per=200", c).await;
    assert_eq!(lines(&group.body).len(), 50);
    s.shutdown().await;
}

/// `print=1` puts every line of the selection on one page, in the order
/// asked; the page links to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_print_view_has_every_line() {
    let s = start_with(&communes()).await;
    let cookie = s.login(&s.admin).await;
    let c = Some(cookie.as_str());
    let month = old_month();
    let list = format!("/dashboard/matrix?obligation=bc-thang&period={month}&sort=name");
    let r = s.get(&list, c).await;
    assert_eq!(lines(&r.body).len(), 100);
    let print = format!("{list}&print=1").replace('&', "&amp;");
    assert!(r.body.contains(&format!("href=\"{print}\"")), "{}", r.body);
    let r = s.get(&format!("{list}&print=1"), c).await;
    assert_eq!(lines(&r.body).len(), 130);
    assert!(r.body.contains("1–130 / 130"));
    let n: Vec<String> = names(&r.body).iter().map(|n| fold(n)).collect();
    assert!(n.windows(2).all(|w| w[0] <= w[1]));
    s.shutdown().await;
}
