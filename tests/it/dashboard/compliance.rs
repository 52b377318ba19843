//! `/dashboard/compliance` over real TCP on the simulated year of
//! `crate::compliance`: the page's figures are the library's, a unit's
//! page lists every cell behind them, the
//! printable view names the agency, the range and the day, the CSV and
//! .xlsx downloads are `tracking::compliance::csv` and
//! `tracking::sheets::workbook` byte for byte, bad ranges are refused; and
//! in chromium, screenshots of the page and the printable view at 1366
//! and 390 px, and of a unit's cells of the year (no sideways scroll on
//! the phone).

use hanbao::calendar::WorkCalendar;
use hanbao::status::Moment;
use hanbao::tracking::compliance::{self, Range, Table};

use super::browser::{e2e_dir, shots};
use super::*;

const YEAR: &str = "/dashboard/compliance?year=2026";

/// A server on the simulated year's configuration, with the year written.
async fn simulated() -> Server {
    let s = start_with(&crate::compliance::config_text()).await;
    let live = s.state.live();
    let cal = WorkCalendar::new(&live.cfg.calendar);
    crate::compliance::simulate(&s.store, &live.cfg, &cal, 7).await;
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compliance_page_and_its_exports_show_the_assessment() {
    let s = simulated().await;
    let cookie = s.login(&s.admin).await;
    let live = s.state.live();
    let r = s.get(YEAR, Some(&cookie)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The figures "now" (the test runs after 2026: every period fell due).
    let at = Moment::local(Timestamp::now(), &live.cfg.daemon.time_zone);
    let year = Range::year(2026).unwrap();
    let c = compliance::compute(&s.store, &live.cfg, &live.cal, year, at)
        .await
        .unwrap();
    let body = &r.body;
    assert!(
        body.contains("Theo nhóm") && body.contains("Theo đơn vị"),
        "{body}"
    );
    assert!(body.contains("01/01/2026–31/12/2026"), "{body}");
    for g in &c.groups {
        assert!(body.contains(&format!("group={}", g.id)), "group {}", g.id);
    }
    // Groups by name, the id muted beside it.
    assert!(
        body.contains(">Các sở, ngành</a><br><span class=\"muted\">so</span>"),
        "{body}"
    );
    // Each unit's row, its link and its never-sent count; names escaped.
    for u in &c.units {
        let row = body
            .find(&format!("<tr id=\"u-{}\">", u.unit.id))
            .unwrap_or_else(|| panic!("no row for {}", u.unit.id));
        let line = &body[row..row + body[row..].find("</tr>").unwrap()];
        assert!(line.contains(&format!("href=\"/dashboard/units/{}?from=", u.unit.id)));
        assert!(
            line.contains(&format!("<td class=\"n\">{}</td>", u.figures.owed)),
            "{line}"
        );
    }
    assert!(
        body.contains("Phường &lt;b&gt;Trần Phú&lt;/b&gt;"),
        "escaped"
    );
    assert!(!body.contains("<b>Trần Phú</b>"));

    // A unit's page lists every cell behind its figures, with its state.
    let so = c.units.iter().find(|u| u.unit.id == "so-01").unwrap();
    let r = s
        .get("/dashboard/units/so-01?year=2026", Some(&cookie))
        .await;
    assert_eq!(r.status, 200);
    let at = r.body.find("id=\"assessed\"").expect("the assessed cells");
    let table = &r.body[at..at + r.body[at..].find("</table>").unwrap()];
    assert_eq!(table.matches("<tr><td>").count() as u32, so.figures.cells);
    for (state, n) in [
        ("overdue", so.figures.never_sent),
        ("submitted_late", so.figures.late),
        ("submitted_on_time", so.figures.on_time),
        ("waived", so.figures.waivers),
    ] {
        let shown = table.matches(&format!("data-state=\"{state}\"")).count() as u32;
        assert_eq!(shown, n, "{state}");
    }
    assert!(body.contains("href=\"/dashboard/units/so-01?from="));
    // Without a range, no such section.
    let r = s.get("/dashboard/units/so-01", Some(&cookie)).await;
    assert!(!r.body.contains("id=\"assessed\""));

    // Sorted by name, Vietnamese read without diacritics: "Phường ..." and
    // "Sở ..." interleave by their folded letters, not by code point.
    let r = s.get(&format!("{YEAR}&sort=name"), Some(&cookie)).await;
    let names: Vec<String> = c
        .units
        .iter()
        .map(|u| {
            (
                u.unit.id.as_str(),
                r.body.find(&format!("<tr id=\"u-{}\">", u.unit.id)),
            )
        })
        .filter_map(|(id, at)| at.map(|at| (at, id.to_string())))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_values()
        .collect();
    let folded: Vec<String> = names
        .iter()
        .map(|id| hanbao::primitives::fold(&live.cfg.unit(id).unwrap().name))
        .collect();
    assert!(folded.windows(2).all(|w| w[0] <= w[1]), "{folded:?}");

    // One group's units only.
    let r = s.get(&format!("{YEAR}&group=so"), Some(&cookie)).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("u-so-00") && !r.body.contains("u-xa-00"));

    // The printable view: no top bar, its own header.
    let r = s.get(&format!("{YEAR}&print=1"), Some(&cookie)).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("class=\"print-head\""));
    assert!(r.body.contains("tính đến ngày"));
    assert!(!r.body.contains("action=\"/dashboard/logout\""));

    // The downloads are the library's bytes.
    for t in Table::ALL {
        let r = s
            .get(
                &format!("/dashboard/compliance.csv?year=2026&table={}", t.slug()),
                Some(&cookie),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
        assert_eq!(r.bytes, compliance::csv(&c, &live.cfg, t), "{}", t.title());
    }
    let r = s
        .get(
            "/dashboard/compliance.xlsx?from=01/01/2026&to=31/12/2026",
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"hanbao-danh-gia-2026.xlsx\"")
    );
    assert!(r.bytes.starts_with(b"PK"), "a zip");
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(r.bytes)).unwrap();
    use calamine::Reader as _;
    let units = book.worksheet_range("Theo đơn vị").unwrap();
    assert_eq!(units.rows().count(), c.units.len() + 1);

    // Bad ranges and tables are refused with a Vietnamese message.
    for (path, says) in [
        (
            "/dashboard/compliance?from=31/12/2026&to=01/01/2026",
            "sau đến ngày",
        ),
        ("/dashboard/compliance?from=2026-13-01", "dd/mm/yyyy"),
        ("/dashboard/compliance?year=abc", "Năm &quot;abc&quot;"),
        (
            "/dashboard/compliance?from=01/01/2000&to=01/01/2020",
            "5 năm",
        ),
        ("/dashboard/compliance?group=khong-co", "Không có nhóm"),
        ("/dashboard/compliance.csv?table=x", "Không có bảng"),
    ] {
        let r = s.get(path, Some(&cookie)).await;
        assert_eq!(r.status, 400, "{path}");
        assert!(r.body.contains(says), "{path}: {}", r.body);
    }
    // Without a session: the login page.
    let r = s.get(YEAR, None).await;
    assert_eq!(r.status, 303);
    s.shutdown().await;
}

/// In chromium: the page and the printable view at 1366 and 390 px.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_compliance_page_fits_a_phone_and_prints() {
    let s = simulated().await;
    let base = format!("http://{}", s.addr);
    let admin = s.admin.clone();
    let dir = e2e_dir();
    let pngs = tokio::task::spawn_blocking(move || {
        let b = Browser::start();
        b.goto(&format!("{base}/dashboard"));
        let field = b.find("input[name=token]");
        b.type_text(&field, &admin);
        b.click(&b.find("form[action='/dashboard/login'] button[type=submit]"));
        b.wait_for_url("/dashboard");
        b.goto(&format!("{base}{YEAR}"));
        let title = b.text(&b.find("h1"));
        assert_eq!(title, "Đánh giá việc nộp báo cáo");
        let mut pngs = shots(&b, "compliance");
        // A unit's cells of the year, from its row.
        b.click(&b.find("#u-so-01 a"));
        b.wait_for_url("#danh-gia");
        assert!(
            b.text(&b.find("#danh-gia"))
                .starts_with("Trong kỳ đánh giá")
        );
        pngs.extend(shots(&b, "compliance-unit"));
        b.goto(&format!("{base}{YEAR}"));
        b.click(&b.find("a[href*='print=1']"));
        b.wait_for_url("print=1");
        assert!(b.text(&b.find(".print-head")).contains("tính đến ngày"));
        pngs.extend(shots(&b, "compliance-print"));
        pngs
    })
    .await
    .unwrap();
    for (name, png) in &pngs {
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
        std::fs::write(dir.join(name), png).unwrap();
    }
    s.shutdown().await;
}
