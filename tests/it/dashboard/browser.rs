//! The end-to-end stories in a real headless chromium, with screenshots:
//! recording a receipt from the matrix (Vietnamese browser), typing dates
//! in a browser whose locale is en-US (month first), on the dashboard and
//! on the confirmation page, the matrix of a daily report (its "hôm
//! nay" column and its earlier late days together), and a province of
//! 2,000 units (summary, paging, search, one unit's sent mail, a receipt
//! revoked).

use jiff::civil::Date;

use super::*;
use hanbao::store::Records;

/// Where the end-to-end screenshots go: `target/e2e/`.
pub(super) fn e2e_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The story in a real browser: log in with the administrator token, open
/// the matrix, follow a cell to its report, record the receipt through the
/// form, see the cell change; screenshots of the desktop and phone layouts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_an_administrator_records_a_receipt_and_sees_the_cell_change() {
    let s = start().await;
    let base = format!("http://{}", s.addr);
    let admin = s.admin.clone();
    let dir = e2e_dir();
    let shots = tokio::task::spawn_blocking(move || {
        let b = Browser::start();
        b.goto(&format!("{base}/dashboard"));
        assert!(b.url().ends_with("/dashboard/login"), "{}", b.url());
        let field = b.find("input[name=token]");
        b.type_text(&field, &admin);
        b.click(&b.find("form[action='/dashboard/login'] button[type=submit]"));
        b.wait_for_url("/dashboard");
        b.goto(&format!("{base}{Q1}"));
        let cell = "#c-so-yte-bc-quy-2026-Q1";
        let before = b.attr(&b.find(cell), "data-state").unwrap();
        assert!(
            ["overdue", "due_soon", "open", "not_open"].contains(&before.as_str()),
            "{before}"
        );
        b.click(&b.find(&format!("{cell} a")));
        b.wait_for_url(YTE_Q1);
        let reference = b.find("form[action$='/submission'] input[name=reference]");
        b.type_text(&reference, "123/BC-SYT");
        b.click(&b.find("form[action$='/submission'] button[type=submit]"));
        // The day (today, as filled in) is echoed in words first.
        let echo = b.wait_for_text("#echo");
        assert!(echo.contains(", ngày "), "{echo}");
        b.click(&b.find("button[value=record]"));
        let flash = b.wait_for_text(".flash.ok");
        assert!(
            flash.starts_with("Đã ghi: đã nhận báo cáo ngày "),
            "{flash}"
        );
        let report = b.screenshot();
        b.goto(&format!("{base}{Q1}"));
        let el = b.find(cell);
        let after = b.attr(&el, "data-state").unwrap();
        assert!(after.starts_with("submitted_"), "{after}");
        let text = b.text(&el);
        assert!(
            text.starts_with("Nộp muộn") || text.starts_with("Đã nộp"),
            "{text}"
        );
        let desktop = b.screenshot();
        b.set_window(390, 844);
        let phone = b.screenshot();
        [desktop, phone, report]
    })
    .await
    .unwrap();
    let names = [
        "dashboard.png",
        "dashboard-phone.png",
        "dashboard-report.png",
    ];
    for (name, png) in names.iter().zip(&shots) {
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
        assert!(png.len() > 5_000, "{name}: {} bytes", png.len());
        std::fs::write(dir.join(name), png).unwrap();
    }
    let events = s.history("so-yte").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].reference.as_deref(), Some("123/BC-SYT"));
    assert_eq!(events[0].source, Source::Web);
    assert_eq!(events[0].actor, format!("token:{}:Điều phối", s.admin_id));
    s.shutdown().await;
}

/// The day the en-US test types: 06/12/2026 (6 December, which an en-US
/// date input shows as 12/06/2026), or, should the clock be earlier, the
/// latest day before today whose day and month can be swapped.
fn ambiguous_day(today: Date) -> Date {
    let wanted = date(2026, 12, 6);
    if wanted <= today {
        return wanted;
    }
    let mut d = today;
    while !(d.day() <= 12 && d.day() != d.month()) {
        d = d.yesterday().unwrap();
    }
    d
}

/// Screenshots of the page at 1366 and 390 pixels wide, as
/// `(name.png, png)` and `(name-phone.png, png)`.
pub(super) fn shots(b: &Browser, name: &str) -> Vec<(String, Vec<u8>)> {
    shots_at(b, name, None)
}

/// The same, scrolled (at each width) so that the element with the id
/// `at` is at the top when given.
pub(super) fn shots_at(b: &Browser, name: &str, at: Option<&str>) -> Vec<(String, Vec<u8>)> {
    let scroll = || {
        if let Some(id) = at {
            b.script(&format!(
                "document.getElementById('{id}').scrollIntoView(); return 0;"
            ));
        }
    };
    b.set_window(1366, 900);
    scroll();
    let desktop = b.screenshot();
    b.set_window(390, 844);
    scroll();
    let phone = b.screenshot();
    let (page, window) = (
        b.script("return document.documentElement.scrollWidth;"),
        b.script("return document.documentElement.clientWidth;"),
    );
    assert!(
        page.as_u64().unwrap() <= window.as_u64().unwrap(),
        "{name}: the page scrolls sideways on a 390 px phone ({page} px in {window} px)"
    );
    b.set_window(1366, 900);
    vec![
        (format!("{name}.png"), desktop),
        (format!("{name}-phone.png"), phone),
    ]
}

/// In a browser whose locale is en-US (month first: 12/6/2026 is 6
/// December there), the dashboard's received-date field and the
/// confirmation page read and show dd/mm/yyyy: 06/12/2026 is echoed as "ngày 6
/// tháng 12 năm 2026" before anything is written, "Sửa lại" keeps it, and
/// "Xác nhận" records 6 December.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_with_an_en_us_locale_dates_are_typed_and_shown_day_first() {
    use hanbao::http::link::{LinkKey, LinkScope};
    let s = start().await;
    let key = LinkKey::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
    crate::support::turn_on_links(&s.state, &key);
    let link = LinkScope {
        obligation: "bc-quy".into(),
        period: "2026-Q1".into(),
        unit: "so-taichinh".into(),
        expires: Timestamp::now().as_second() + 86_400,
    }
    .path(&key);
    let today = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh")
        .unwrap()
        .to_datetime(Timestamp::now())
        .date();
    let day = ambiguous_day(today);
    let typed = format!("{:02}/{:02}/{}", day.day(), day.month(), day.year());
    let words = format!(
        "ngày {} tháng {} năm {}",
        day.day(),
        day.month(),
        day.year()
    );
    let base = format!("http://{}", s.addr);
    let admin = s.admin.clone();
    let store = s.store.clone();
    let rt = tokio::runtime::Handle::current();
    let dir = e2e_dir();
    let pngs = tokio::task::spawn_blocking(move || {
        let recorded = |unit: &str| {
            rt.block_on(store.history(&HistoryFilter {
                unit: Some(unit.into()),
                ..HistoryFilter::default()
            }))
            .unwrap()
        };
        let mut pngs = Vec::new();
        let b = Browser::start_in("en-US");
        b.goto("about:blank");
        let locale =
            b.execute("return [navigator.language, new Date(2026, 11, 6).toLocaleDateString()];");
        assert_eq!(
            locale,
            serde_json::json!(["en-US", "12/6/2026"]),
            "an en-US browser"
        );

        // The dashboard.
        b.goto(&format!("{base}/dashboard/login"));
        b.type_text(&b.find("input[name=token]"), &admin);
        b.click(&b.find("form[action='/dashboard/login'] button[type=submit]"));
        b.wait_for_url("/dashboard");
        b.goto(&format!("{base}{YTE_Q1}"));
        let field = b.find("#received_on");
        assert_eq!(b.attr(&field, "type").as_deref(), Some("text"));
        assert_eq!(b.attr(&field, "placeholder").as_deref(), Some("dd/mm/yyyy"));
        // The browser's own check: the pattern compiles and wants a year.
        b.clear(&field);
        b.type_text(&field, "12/06");
        assert_eq!(b.count("#received_on:invalid"), 1, "12/06 has no year");
        b.clear(&field);
        b.type_text(&field, &typed);
        assert_eq!(b.count("#received_on:invalid"), 0, "{typed} is well formed");
        pngs.extend(shots(&b, "dates-report-form"));
        b.click(&b.find("form[action$='/submission'] button[type=submit]"));
        let echo = b.wait_for_text("#echo");
        assert!(echo.ends_with(&words), "{echo}");
        assert!(
            b.wait_for_text("form.check")
                .contains("Ghi nhận ngày nhận:")
        );
        assert!(recorded("so-yte").is_empty(), "the echo writes nothing");
        // "Sửa lại" keeps what was typed; the form again, then the echo.
        b.click(&b.find("button[value=edit]"));
        b.wait_for_text("#received_on-hint");
        let field = b.find("#received_on");
        assert_eq!(b.attr(&field, "value").as_deref(), Some(typed.as_str()));
        b.click(&b.find("form[action$='/submission'] button[type=submit]"));
        assert!(b.wait_for_text("#echo").ends_with(&words));
        pngs.extend(shots(&b, "dates-report-echo"));
        b.click(&b.find("button[value=record]"));
        let flash = b.wait_for_text(".flash.ok");
        assert_eq!(flash, format!("Đã ghi: đã nhận báo cáo ngày {typed}."));
        let history = b.wait_for_text("table.history");
        assert!(history.contains(&format!("ngày gửi {typed}")), "{history}");
        pngs.extend(shots(&b, "dates-report-recorded"));
        let events = recorded("so-yte");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].received_on, Some(day));

        // The confirmation page of the other unit's link.
        b.goto(&format!("{base}{link}"));
        let brand = b.wait_for_text("header .brand");
        assert_eq!(
            brand, "Sở LĐ-TB&XH <i>Quảng Ngãi</i>",
            "the agency, as text"
        );
        let next = b.wait_for_text("ul.next");
        assert!(next.contains("không nhận thêm thư nhắc"), "{next}");
        assert!(next.contains("treem@soldtbxh.quangngai.example"), "{next}");
        pngs.extend(shots(&b, "confirm-form"));
        let field = b.find("#received_on");
        b.clear(&field);
        b.type_text(&field, &typed);
        b.type_text(&b.find("input[name=reference]"), "7/BC-STC");
        b.click(&b.find("form[action='/confirm'] button[type=submit]"));
        let echo = b.wait_for_text("#echo");
        assert!(echo.ends_with(&words), "{echo}");
        assert!(
            recorded("so-taichinh").is_empty(),
            "the echo writes nothing"
        );
        pngs.extend(shots(&b, "confirm-echo"));
        b.click(&b.find("button[value=record]"));
        let done = b.wait_for_text(".flash.ok");
        assert!(done.contains(&typed) && done.contains(&words), "{done}");
        assert!(b.wait_for_text("h1").contains("Đã ghi nhận"));
        pngs.extend(shots(&b, "confirm-recorded"));
        let events = recorded("so-taichinh");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].received_on, Some(day));
        assert_eq!(events[0].reference.as_deref(), Some("7/BC-STC"));
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

/// A report due every day by 24:00 the day after (moved to the next
/// working day when that is a day off), since nine days ago: xã A sent
/// nothing, xã B sent all but the last three days. On the real clock (the
/// page is "now"), the matrix shows two columns, the earlier days together
/// and today's ("hôm nay"); xã A is several periods late, xã B's last two
/// days are late (in hours, since last night's 24:00, on a weekday) or not
/// yet due (after a weekend). The exact texts on a fixed clock are the
/// unit tests of `http::dashboard::matrix`. Screenshots at 1366 and 390
/// pixels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_a_daily_report_shows_today_and_the_earlier_days_together() {
    let tz = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
    let today = tz.to_datetime(Timestamp::now()).date();
    let ago = |n: i64| today.checked_sub(jiff::Span::new().days(n)).unwrap();
    let start = ago(9);
    let config = format!(
        r#"
[[unit]]
id = "so"
name = "Sở Nông nghiệp và Môi trường"
email = "vanthu@so.example"

[[unit]]
id = "xa-a"
name = "UBND xã Bình Sơn"
email = "vanthu@xa-a.example"

[[unit]]
id = "xa-b"
name = "UBND xã Sơn Tịnh"
email = "vanthu@xa-b.example"

[[obligation]]
id = "bc-ngay"
title = "Báo cáo nhanh tình hình thiên tai trong ngày"
reporters = ["xa-a", "xa-b"]
recipient = "so"
cycle = "daily-all-days"
due = "1 ngày"
active_from = "{:02}/{:02}/{}"
"#,
        start.day(),
        start.month(),
        start.year()
    );
    let s = start_with(&config).await;
    for n in 3..=9 {
        let day = ago(n);
        s.store
            .record_submission(
                NewSubmission {
                    key: Key::new("bc-ngay", day.to_string(), "xa-b"),
                    received_on: day.tomorrow().unwrap(),
                    received_at: None,
                    reference: None,
                    note: None,
                    actor: "cli:test".into(),
                    source: Source::Cli,
                    correction: false,
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
    }
    let base = format!("http://{}", s.addr);
    let admin = s.admin.clone();
    let dir = e2e_dir();
    let pngs = tokio::task::spawn_blocking(move || {
        let b = Browser::start();
        b.goto(&format!("{base}/dashboard/login"));
        b.type_text(&b.find("input[name=token]"), &admin);
        b.click(&b.find("form[action='/dashboard/login'] button[type=submit]"));
        b.wait_for_url("/dashboard");
        b.goto(&format!("{base}/dashboard/matrix"));
        let head = b.wait_for_text("table.matrix thead");
        assert!(head.contains("các kỳ trước"), "{head}");
        assert!(head.contains("hôm nay"), "{head}");
        assert_eq!(b.count("table.matrix thead th"), 3, "{head}");
        let a = b.text(&b.find("#c-xa-a-bc-ngay-earlier"));
        let table = b.text(&b.find("table.matrix"));
        assert!(
            a.starts_with("Quá hạn ") && a.contains(" kỳ (lâu nhất ") && a.ends_with(" ngày)"),
            "{table}"
        );
        let b_cell = b.text(&b.find("#c-xa-b-bc-ngay-earlier"));
        assert!(
            b_cell == "2 kỳ chưa xong"
                || (b_cell.starts_with("Quá hạn ") && b_cell.contains(" kỳ (lâu nhất ")),
            "{table}"
        );
        let now = b.text(&b.find(&format!("#c-xa-a-bc-ngay-{today}")));
        assert!(
            ["Đang trong kỳ", "Sắp đến hạn"].contains(&now.as_str()),
            "{now}"
        );
        shots(&b, "dashboard-daily")
    })
    .await
    .unwrap();
    for (name, png) in &pngs {
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
        std::fs::write(dir.join(name), png).unwrap();
    }
    s.shutdown().await;
}

/// The coordinator's path on the sample with a seeded state: the summary,
/// a report's "quá hạn" count to its list (every line overdue), the whole
/// grid with its unit column staying in place when the table scrolls
/// sideways on a phone, and a search typed without diacritics; screenshots
/// at 1366 and 390 pixels, none scrolling sideways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_summary_leads_to_the_units_and_the_grid_keeps_its_unit_column() {
    let s = super::matrix::seeded_sample().await;
    let base = format!("http://{}", s.addr);
    let admin = s.admin.clone();
    let dir = e2e_dir();
    let pngs = tokio::task::spawn_blocking(move || {
        let b = Browser::start();
        b.goto(&format!("{base}/dashboard/login"));
        b.type_text(&b.find("input[name=token]"), &admin);
        b.click(&b.find("form[action='/dashboard/login'] button[type=submit]"));
        b.wait_for_url("/dashboard");
        let totals = b.wait_for_text("p.totals");
        assert!(totals.contains("đã nhận "), "{totals}");
        let mut pngs = shots(&b, "summary");
        // A report's overdue count: its list, every line overdue.
        let link = b.find("table.summary td.overdue a");
        let n: usize = b.text(&link).parse().unwrap();
        b.click(&link);
        b.wait_for_url("&status=overdue");
        let lines = b.count("table.list tbody tr");
        assert_eq!(lines, n);
        assert_eq!(b.count("td[data-state=overdue]"), n);
        pngs.extend(shots(&b, "matrix-list"));
        // The whole grid; on a phone the unit column stays in place.
        b.goto(&format!("{base}/dashboard/matrix"));
        b.wait_for_text("table.matrix thead");
        pngs.extend(shots(&b, "matrix-grid"));
        b.set_window(390, 844);
        let left = "return document.querySelector('tbody th.u').getBoundingClientRect().left;";
        let before = b.script(left).as_f64().unwrap();
        let scrolled = b.script(
            "const w = document.querySelector('.wrap'); w.scrollLeft = 300; return w.scrollLeft;",
        );
        assert!(scrolled.as_f64().unwrap() > 0.0, "the table scrolls");
        let after = b.script(left).as_f64().unwrap();
        // Within a pixel (collapsed borders move it by half a pixel); not
        // scrolled away with the 300 pixels.
        assert!(
            (before - after).abs() < 1.0,
            "the unit column stays in place: {before} then {after}"
        );
        b.set_window(1366, 900);
        // A search typed without diacritics.
        let q = b.find("input[name=q]");
        b.type_text(&q, "so y te");
        b.click(&b.find("form.filters button[type=submit]"));
        b.wait_for_url("&sort=");
        assert!(b.url().contains("q=so+y+te"), "{}", b.url());
        let names = b.text(&b.find("table.matrix tbody"));
        assert!(names.contains("Sở Y tế"), "{names}");
        assert_eq!(b.count("table.matrix tbody tr"), 1);
        pngs.extend(shots(&b, "matrix-search"));
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

/// At 2,000 units: the summary's "chưa đến hạn" count of a report opens
/// its list in pages ("1–100 / 2 000", then the next page), the unit
/// heading sorts by name, and "hoa hiep so 1999" typed without diacritics
/// finds "UBND xã Hòa Hiệp số 1999" alone. Then that unit's sent mail (a
/// reminder sent, an overdue notice failed, an escalation due on a Sunday
/// night) on its page, in the outbox's sent tab filtered on it and in its
/// report-period's list ("Lần nhắc gần nhất"); a receipt recorded on its
/// report page and revoked through the confirmation, the report back to
/// overdue with the revocation in its history. Screenshots at 1366 and 390
/// pixels, none scrolling sideways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_two_thousand_units_page_sort_and_search() {
    use super::sent::{dispatch, row};
    use hanbao::store::Outbox;
    let s = start_with(&super::matrix::province_of_2000()).await;
    let t0 = Timestamp::from_second(1_700_000_000).unwrap();
    let unit = "xa-1999";
    s.store
        .enqueue(
            vec![row(unit, OutboxKind::Reminder, 1, "vanthu@xa1999.example")],
            t0,
        )
        .await
        .unwrap();
    dispatch(&s, |r| Outcome::Sent {
        message_id: format!("<{}@x>", r.id),
    })
    .await;
    s.store
        .enqueue(
            vec![row(unit, OutboxKind::Overdue, 1, "cu@xa1999.example")],
            t0,
        )
        .await
        .unwrap();
    dispatch(&s, |_| Outcome::Failed {
        error: "550 5.1.1 <cu@xa1999.example>: hộp thư không tồn tại".into(),
    })
    .await;
    let mut night = row(unit, OutboxKind::Escalation, 1, "lanhdao@so.example");
    night.rank = 200;
    night.next_attempt_at = "2030-06-01T20:00:00Z".parse().unwrap();
    s.store.enqueue(vec![night], t0).await.unwrap();
    let base = format!("http://{}", s.addr);
    let admin = s.admin.clone();
    let dir = e2e_dir();
    let pngs = tokio::task::spawn_blocking(move || {
        let b = Browser::start();
        b.goto(&format!("{base}/dashboard/login"));
        b.type_text(&b.find("input[name=token]"), &admin);
        b.click(&b.find("form[action='/dashboard/login'] button[type=submit]"));
        b.wait_for_url("/dashboard");
        b.wait_for_text("p.totals");
        let mut pngs = shots(&b, "national-summary");
        // WebDriver reads the no-break space of "2 000" as a space.
        let link = b.find("table.summary td.not_open a");
        assert_eq!(b.text(&link), "2 000");
        b.click(&link);
        b.wait_for_url("status=not_open%2Copen%2Cdue_soon");
        assert_eq!(b.text(&b.find(".pager .count")), "1–100 / 2 000");
        assert_eq!(b.count("table.list tbody tr"), 100);
        b.click(&b.find(".pager a[rel=next]"));
        b.wait_for_url("&page=2");
        assert_eq!(b.text(&b.find(".pager .count")), "101–200 / 2 000");
        pngs.extend(shots(&b, "national-list"));
        // The unit heading sorts by name.
        b.click(&b.find("table.list thead th.u a"));
        b.wait_for_url("&sort=name");
        let first = b.text(&b.find("table.list tbody th.u a"));
        assert_eq!(first, "UBND xã Hòa Hiệp số 0");
        // A search typed without diacritics.
        let q = b.find("input[name=q]");
        b.type_text(&q, "hoa hiep so 1999");
        b.click(&b.find("form.filters button[type=submit]"));
        // The list's URL already ends in "&sort=name": wait for the line
        // of "số 1999", not on the first page by name.
        b.wait_for_text("#u-xa-1999");
        b.wait_for_url("&sort=name");
        assert!(b.url().contains("q=hoa+hiep+so+1999"), "{}", b.url());
        assert_eq!(b.count("table.list tbody tr"), 1);
        let name = b.text(&b.find("table.list tbody th.u a"));
        assert_eq!(name, "UBND xã Hòa Hiệp số 1999");
        pngs.extend(shots(&b, "national-search"));

        // Its page: every message with its time and kind, newest first.
        b.goto(&format!("{base}/dashboard/units/xa-1999"));
        assert_eq!(b.text(&b.find("#messages")), "Thư đã gửi và sắp gửi");
        let last = b.text(&b.find("#last-sent"));
        assert!(
            last.contains("17/03/2026 16:00, thư nhắc hạn (lần 1)"),
            "{last}"
        );
        let rows: Vec<String> = (1..=3)
            .map(|i| {
                let css = format!("table.messages tbody tr:nth-child({i})");
                b.text(&b.find(&css))
            })
            .collect();
        assert_eq!(b.count("table.messages tbody tr"), 3);
        assert!(
            rows[0].contains("03/06/2030 07:30 (ngoài giờ gửi)"),
            "{rows:?}"
        );
        assert!(rows[0].contains("Chờ gửi"), "{rows:?}");
        assert!(rows[0].contains("Thư đôn đốc (mức 1)"), "{rows:?}");
        assert!(rows[1].contains("Gửi lỗi"), "{rows:?}");
        assert!(
            rows[1].contains("Thư báo quá hạn (mức 1) gửi đơn vị"),
            "{rows:?}"
        );
        assert!(rows[1].contains("hộp thư không tồn tại"), "{rows:?}");
        assert!(rows[2].contains("17/03/2026 16:00"), "{rows:?}");
        assert!(rows[2].contains("Đã gửi"), "{rows:?}");
        assert!(rows[2].contains("Thư nhắc hạn (lần 1)"), "{rows:?}");
        pngs.extend(shots_at(&b, "national-unit", Some("messages")));
        // The outbox's sent tab, filtered on the unit: the one sent row.
        b.goto(&format!("{base}/dashboard/outbox?status=sent&unit=xa-1999"));
        assert_eq!(b.count("table.outbox tbody tr[id^=m-]"), 1);
        let sent = b.text(&b.find("table.outbox tbody tr[id^=m-]"));
        assert!(sent.contains("17/03/2026 16:00"), "{sent}");
        assert!(sent.contains("Thư nhắc hạn (lần 1)"), "{sent}");
        assert!(sent.contains("UBND xã Hòa Hiệp số 1999"), "{sent}");
        // Its report-period's list says the last reminder.
        b.goto(&format!(
            "{base}/dashboard/matrix?obligation=bc-quy&period=2026-Q1&q=hoa+hiep+so+1999"
        ));
        let cell = b.text(&b.find("#u-xa-1999 td.last"));
        assert_eq!(cell, "17/03/2026 16:00 · Thư nhắc hạn (lần 1)");
        pngs.extend(shots_at(&b, "national-last-sent", Some("u-xa-1999")));

        // A receipt recorded on the report page, then revoked.
        b.goto(&format!("{base}/dashboard/units/xa-1999/bc-quy/2026-Q1"));
        let state = || b.attr(&b.find("#state"), "data-state").unwrap();
        assert_eq!(state(), "overdue");
        let reference = b.find("form[action$='/submission'] input[name=reference]");
        b.type_text(&reference, "7/BC-UBND");
        b.click(&b.find("form[action$='/submission'] button[type=submit]"));
        b.wait_for_text("#echo");
        b.click(&b.find("button[value=record]"));
        let flash = b.wait_for_text(".flash.ok");
        assert!(flash.starts_with("Đã ghi: đã nhận báo cáo"), "{flash}");
        assert_eq!(state(), "submitted_late");
        b.type_text(
            &b.find("form.revoke input[name=reason]"),
            "Ghi nhầm đơn vị: văn bản của xã số 1998",
        );
        b.click(&b.find("form.revoke button[type=submit]"));
        let reason = b.wait_for_text("#reason");
        assert_eq!(reason, "Ghi nhầm đơn vị: văn bản của xã số 1998");
        pngs.extend(shots(&b, "national-revoke-confirm"));
        b.click(&b.find("button[value=record]"));
        let flash = b.wait_for_text(".flash.ok");
        assert_eq!(flash, "Đã thu hồi ghi nhận đã nhận báo cáo.");
        assert_eq!(state(), "overdue");
        let newest = b.text(&b.find("table.history tbody tr"));
        assert!(newest.contains("(thu hồi)"), "{newest}");
        assert!(
            newest.contains("Ghi nhầm đơn vị: văn bản của xã số 1998"),
            "{newest}"
        );
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
