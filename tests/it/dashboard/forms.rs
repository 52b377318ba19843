//! The report page's forms: CSRF and same-origin refusals, dates typed as
//! dd/mm/yyyy text and echoed in words before anything is written, input
//! checked by `hanbao::input` (422, nothing written), writes and their
//! redirects.

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
        ("received_on", "12/06", "thiếu năm"),
        ("received_on", "2026-13-01", "tháng 13 không tồn tại"),
        ("received_on", "19/03/26", "năm phải có 4 chữ số"),
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
    // The good form: first the date in words, nothing written.
    let r = s.post(&sub, Some(&cookie), &good).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("thứ Năm, ngày 19 tháng 3 năm 2026"));
    assert!(
        s.history("so-yte").await.is_empty(),
        "the echo writes nothing"
    );
    // Confirmed: 303 back to the report's page, with a flash once.
    let mut good = good.to_vec();
    good.push(("step", "record"));
    let r = s.post(&sub, Some(&cookie), &good).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some(YTE_Q1));
    let after = s.get(YTE_Q1, Some(&cookie)).await;
    assert!(
        after
            .body
            .contains("Đã ghi: đã nhận báo cáo ngày 19/03/2026."),
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
        ("step", "record"),
    ];
    let r = s.post(&sub, Some(&cookie), &other).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("Đã có ghi nhận khác"));
    assert!(r.body.contains("value=\"16/BC-SYT\""), "typed text kept");
    assert!(r.body.contains("value=\"2026-03-20\""), "typed date kept");
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
        ("2099-04-30", "r", "Hạn mới 30/04/2099 quá xa"),
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
    // Two months from today: after the due day, within a year and a day.
    let until = s
        .state
        .live()
        .today(Timestamp::now())
        .checked_add(jiff::Span::new().days(60))
        .unwrap();
    let until_text = until.to_string();
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("until", until_text.as_str()),
        ("reason", "Công văn 5/UBND"),
    ];
    let r = s.post(&ext, Some(&cookie), &fields).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(&format!(
        "ngày {} tháng {} năm {}",
        until.day(),
        until.month(),
        until.year()
    )));
    assert!(r.body.contains(&format!(
        "name=\"until\" value=\"{:02}/{:02}/{}\"",
        until.day(),
        until.month(),
        until.year()
    )));
    assert!(s.history("so-taichinh").await.is_empty());
    fields.push(("step", "record"));
    let r = s.post(&ext, Some(&cookie), &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let ev = s.history("so-taichinh").await;
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].subject, ev[0].due_on),
        (Subject::Extension, Some(until))
    );
    let page = s.get(tc, Some(&cookie)).await;
    assert!(page.body.contains(&format!(
        "Đã ghi: gia hạn đến {:02}/{:02}/{}.",
        until.day(),
        until.month(),
        until.year()
    )));
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

/// A date is typed as dd/mm/yyyy text whatever the browser, echoed in words
/// with what was typed in hidden fields (nothing written), kept by "Sửa
/// lại", and recorded only by "Xác nhận"; every post checks the CSRF token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_date_is_echoed_in_words_and_recorded_only_when_confirmed() {
    let s = start().await;
    let cookie = s.login(&s.admin).await;
    let c = Some(cookie.as_str());
    let page = s.get(YTE_Q1, c).await;
    // Text fields with the format said, never the browser's date input.
    assert!(!page.body.contains("type=\"date\""), "{}", page.body);
    for name in ["received_on", "until"] {
        let at = page
            .body
            .find(&format!("name=\"{name}\""))
            .unwrap_or_else(|| panic!("no field {name}"));
        let tag = &page.body[page.body[..at].rfind('<').unwrap()..];
        let tag = &tag[..tag.find('>').unwrap()];
        for attr in [
            "placeholder=\"dd/mm/yyyy\"",
            "pattern=\"",
            "inputmode=\"text\"",
            "required",
        ] {
            assert!(tag.contains(attr), "{name}: {attr} in {tag}");
        }
    }
    assert!(page.body.contains("(ngày/tháng/năm: dd/mm/yyyy)"));
    let today = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh")
        .unwrap()
        .to_datetime(Timestamp::now())
        .date();
    let today_dmy = format!("{:02}/{:02}/{}", today.day(), today.month(), today.year());
    assert!(
        page.body
            .contains(&format!("name=\"received_on\" value=\"{today_dmy}\"")),
        "today, as dd/mm/yyyy"
    );
    let csrf = page.csrf();
    let sub = format!("{YTE_Q1}/submission");
    let typed = [
        ("csrf", csrf.as_str()),
        ("reference", " 15/BC-SYT "),
        ("received_on", "2026-03-19"),
        ("note", "bản giấy"),
        ("correction", "1"),
    ];
    // First post: the echo, with the values in hidden fields (the date as
    // dd/mm/yyyy, text trimmed), the CSRF token, and both buttons.
    let echo = s.post(&sub, c, &typed).await;
    assert_eq!(echo.status, 200, "{}", echo.body);
    assert!(echo.body.contains("Ghi nhận ngày nhận:"), "{}", echo.body);
    assert!(
        echo.body
            .contains("<strong id=\"echo\">thứ Năm, ngày 19 tháng 3 năm 2026</strong>")
    );
    for hidden in [
        format!("name=\"csrf\" value=\"{csrf}\""),
        "name=\"received_on\" value=\"19/03/2026\"".into(),
        "name=\"reference\" value=\"15/BC-SYT\"".into(),
        "name=\"note\" value=\"bản giấy\"".into(),
        "name=\"correction\" value=\"1\"".into(),
        "name=\"step\" value=\"record\"".into(),
        "name=\"step\" value=\"edit\"".into(),
    ] {
        assert!(echo.body.contains(&hidden), "{hidden} in {}", echo.body);
    }
    assert!(echo.body.contains("Sửa lại") && echo.body.contains("Xác nhận"));
    assert!(
        s.history("so-yte").await.is_empty(),
        "the first post writes nothing"
    );
    // What the echo posts back, as a browser sends it.
    let back = |step: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("reference", "15/BC-SYT".to_string()),
            ("received_on", "19/03/2026".to_string()),
            ("note", "bản giấy".to_string()),
            ("correction", "1".to_string()),
            ("step", step.to_string()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| post_owned(&s, &sub, &cookie, fields);
    // "Sửa lại": the form again with what was typed, nothing written.
    let edit = post(back("edit")).await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    assert!(
        edit.body
            .contains("name=\"received_on\" value=\"19/03/2026\"")
    );
    assert!(edit.body.contains("value=\"15/BC-SYT\"") && edit.body.contains("checked"));
    assert!(!edit.body.contains("id=\"echo\""));
    assert!(s.history("so-yte").await.is_empty());
    // "Xác nhận" without the session's token: refused, nothing written.
    let mut forged = back("record");
    forged[0].1 = "0000".into();
    assert_eq!(post(forged).await.status, 403);
    // A step that is not one: not the form.
    assert_eq!(post(back("write")).await.status, 400);
    // A confirmed post is checked again: a date made ambiguous is refused.
    let mut changed = back("record");
    changed[2].1 = "19/03".into();
    let r = post(changed).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("thiếu năm"), "{}", r.body);
    assert!(s.history("so-yte").await.is_empty());
    // "Xác nhận": recorded (a correction with nothing to correct is 422).
    let r = post(back("record")).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Chưa có ghi nhận nào để sửa"));
    let mut plain = back("record");
    plain.remove(4);
    let r = post(plain).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let events = s.history("so-yte").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].received_on, Some(date(2026, 3, 19)));
    assert_eq!(events[0].reference.as_deref(), Some("15/BC-SYT"));
    assert_eq!(events[0].note.as_deref(), Some("bản giấy"));
    let after = s.get(YTE_Q1, c).await;
    assert!(
        after
            .body
            .contains("Đã ghi: đã nhận báo cáo ngày 19/03/2026.")
    );
    assert!(after.body.contains("ngày gửi 19/03/2026"));
    s.shutdown().await;
}

async fn post_owned(s: &Server, path: &str, cookie: &str, fields: Vec<(&str, String)>) -> Resp {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    s.post(path, Some(cookie), &refs).await
}
