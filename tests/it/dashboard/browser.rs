//! The end-to-end story in a real headless chromium, with screenshots.

use super::*;

/// Where the end-to-end screenshots go: `target/e2e/`.
fn e2e_dir() -> std::path::PathBuf {
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
        let flash = b.wait_for_text(".flash.ok");
        assert_eq!(flash, "Đã ghi: đã nhận báo cáo.");
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
