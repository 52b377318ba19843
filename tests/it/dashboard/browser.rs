//! The end-to-end stories in a real headless chromium, with screenshots:
//! recording a receipt from the matrix (Vietnamese browser), typing dates
//! in a browser whose locale is en-US (month first), on the dashboard and
//! on the confirmation page, and the matrix of a daily report (its "hôm
//! nay" column and its earlier late days together).

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
    b.set_window(1366, 900);
    let desktop = b.screenshot();
    b.set_window(390, 844);
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
