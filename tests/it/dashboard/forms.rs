//! The report page's forms: CSRF and same-origin refusals, input checked
//! by `hanbao::input` (422, nothing written), writes and their redirects.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_check_csrf_origin_and_input_then_write_and_redirect() {
    let s = start().await;
    let cookie = s.login(&s.admin).await;
    let page = s.get(YTE_Q1, Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Ghi nhận đã nhận báo cáo"));
    let csrf = page.csrf();
    let sub = format!("{YTE_Q1}/submission");
    let good = [
        ("csrf", csrf.as_str()),
        ("reference", "15/BC-SYT <img src=x onerror=alert(1)>"),
        ("received_on", "19/03/2026"),
    ];
    // Wrong or missing CSRF token: 403, nothing written.
    for bad in ["", "0000", &csrf[1..]] {
        let mut f = good.to_vec();
        f[0].1 = bad;
        let r = s.post(&sub, Some(&cookie), &f).await;
        assert_eq!(r.status, 403, "csrf {bad:?}");
        assert!(r.body.contains("Biểu mẫu không hợp lệ"));
    }
    // Cross-origin: 403 even with the right token and cookie.
    for (k, v) in [
        ("Origin", "http://evil.example"),
        ("Origin", "null"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let r = send(
            s.addr,
            "POST",
            &sub,
            Some(&cookie),
            &[(k, v)],
            Some(&form(&good)),
        )
        .await;
        assert_eq!(r.status, 403, "{k}: {v}");
        assert!(r.body.contains("Yêu cầu bị từ chối"));
    }
    // Bad input: the form again with a Vietnamese message, 422.
    let long = "x".repeat(201);
    for (field, value, text) in [
        ("received_on", "31/02/2026", "không tồn tại"),
        ("received_on", "hôm qua", "Ngày nhận"),
        ("received_on", "", "chưa ghi ngày"),
        ("received_on", "01/01/2099", "ở sau hôm nay"),
        ("reference", long.as_str(), "Số văn bản dài quá 200 ký tự"),
    ] {
        let mut f = good.to_vec();
        let i = f.iter().position(|(k, _)| *k == field).unwrap();
        f[i].1 = value;
        let r = s.post(&sub, Some(&cookie), &f).await;
        assert_eq!(r.status, 422, "{field}={value:?}: {}", r.body);
        assert!(r.body.contains(text), "{field}={value:?}: {}", r.body);
        assert!(r.body.contains("role=\"alert\""));
    }
    assert!(s.history("so-yte").await.is_empty(), "nothing half-written");
    // The good form: 303 back to the report's page, with a flash once.
    let r = s.post(&sub, Some(&cookie), &good).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some(YTE_Q1));
    let after = s.get(YTE_Q1, Some(&cookie)).await;
    assert!(
        after.body.contains("Đã ghi: đã nhận báo cáo."),
        "{}",
        after.body
    );
    assert!(after.body.contains("data-state=\"submitted_on_time\""));
    assert!(
        after
            .body
            .contains("15/BC-SYT &lt;img src=x onerror=alert(1)&gt;")
    );
    assert!(!after.body.contains("<img"));
    assert!(!s.get(YTE_Q1, Some(&cookie)).await.body.contains("Đã ghi:"));
    let events = s.history("so-yte").await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.actor, format!("token:{}:Điều phối", s.admin_id));
    assert_eq!(e.source, Source::Web);
    assert_eq!(e.received_on, Some(date(2026, 3, 19)));
    // The same again: harmless; a different one: 409 until marked a correction.
    let r = s.post(&sub, Some(&cookie), &good).await;
    assert_eq!(r.status, 303);
    let other = [
        ("csrf", csrf.as_str()),
        ("reference", "16/BC-SYT"),
        ("received_on", "2026-03-20"),
    ];
    let r = s.post(&sub, Some(&cookie), &other).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("Đã có ghi nhận khác"));
    assert!(r.body.contains("value=\"16/BC-SYT\""), "typed text kept");
    let mut fix = other.to_vec();
    fix.push(("correction", "1"));
    assert_eq!(s.post(&sub, Some(&cookie), &fix).await.status, 303);
    assert_eq!(s.history("so-yte").await.len(), 2);

    // Extension for the other unit.
    let tc = "/dashboard/units/so-taichinh/bc-quy/2026-Q1";
    let ext = format!("{tc}/extension");
    for (until, reason, text) in [
        ("2026-02-30", "r", "không tồn tại"),
        ("20/03/2026", "r", "phải sau hạn gốc 20/03/2026"),
        ("2026-04-30", "  ", "Lý do gia hạn không được để trống"),
    ] {
        let r = s
            .post(
                &ext,
                Some(&cookie),
                &[("csrf", &csrf), ("until", until), ("reason", reason)],
            )
            .await;
        assert_eq!(r.status, 422, "{until} {reason:?}: {}", r.body);
        assert!(r.body.contains(text), "{}", r.body);
    }
    assert!(s.history("so-taichinh").await.is_empty());
    let r = s
        .post(
            &ext,
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("until", "2099-04-30"),
                ("reason", "Công văn 5/UBND"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let ev = s.history("so-taichinh").await;
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].subject, ev[0].due_on),
        (Subject::Extension, Some(date(2099, 4, 30)))
    );
    let page = s.get(tc, Some(&cookie)).await;
    assert!(page.body.contains("Đã ghi: gia hạn đến 30/04/2099."));
    assert!(page.body.contains("data-state=\"extended\""));
    // Waiver.
    let wv = format!("{tc}/waiver");
    let r = s
        .post(&wv, Some(&cookie), &[("csrf", &csrf), ("reason", "")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Lý do miễn nộp không được để trống"));
    let r = s
        .post(
            &wv,
            Some(&cookie),
            &[("csrf", &csrf), ("reason", "Sáp nhập <đơn vị>")],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = s.get(tc, Some(&cookie)).await;
    assert!(page.body.contains("data-state=\"waived\""));
    assert!(page.body.contains("Sáp nhập &lt;đơn vị&gt;"));
    // A report that is not owed: 404, nothing written.
    let r = s
        .post(
            "/dashboard/units/ubnd-tinh/bc-quy/2026-Q1/waiver",
            Some(&cookie),
            &[("csrf", &csrf), ("reason", "x")],
        )
        .await;
    assert_eq!(r.status, 404);
    assert!(s.history("ubnd-tinh").await.is_empty());
    // A body that is not a form.
    let r = send(
        s.addr,
        "POST",
        &wv,
        Some(&cookie),
        &[("Content-Type", "application/json")],
        None,
    )
    .await;
    assert_eq!(r.status, 400);
    s.shutdown().await;
}
