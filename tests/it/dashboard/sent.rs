//! Sent mail made visible: the outbox page's tabs, filters and pager over
//! every status, the real next sending instant of a row due outside
//! sending hours, the messages of a unit and of a report, and revoking a
//! receipt, an extension or a waiver from the report page.

use super::*;
use hanbao::store::{Outbox, OutboxRow};

/// The ids of the message rows of a page (`id="m-N"`), in order.
fn message_ids(body: &str) -> Vec<i64> {
    body.split("id=\"m-")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect()
}

/// The `href` of the link with `rel="next"`, unescaped.
fn next_link(body: &str) -> Option<String> {
    let at = body.find("rel=\"next\"")?;
    let before = &body[..at];
    let h = before.rfind("href=\"").unwrap() + "href=\"".len();
    Some(before[h..h + before[h..].find('"').unwrap()].replace("&amp;", "&"))
}

pub(super) fn row(unit: &str, kind: OutboxKind, stage: u32, to: &str) -> NewOutboxRow {
    let mut r = outbox_row(unit, to);
    r.key.kind = kind;
    r.key.stage = stage;
    r.rank = stage;
    r
}

/// 16:00 on 17/03/2026 in Vietnam: when the fixture's mail went out.
fn sent_time() -> Timestamp {
    "2026-03-17T09:00:00Z".parse().unwrap()
}

/// Sends what the dispatcher would: every due row claimed and finished
/// with `outcome(row)` at [`sent_time`].
pub(super) async fn dispatch(s: &Server, outcome: impl Fn(&OutboxRow) -> Outcome) {
    let t = sent_time();
    let claimed = s
        .store
        .claim("d", t, t + jiff::SignedDuration::from_secs(900), 500)
        .await
        .unwrap();
    let results = claimed.iter().map(|r| (r.id, outcome(r))).collect();
    s.store.finish_many("d", results, t).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_shows_every_status_with_names_kinds_pages_and_real_sending_times() {
    let s = start().await;
    let t0 = Timestamp::from_second(1_700_000_000).unwrap();
    // 55 reminders to Sở Y tế (one per mailbox), one failed overdue notice
    // to the Sở Tài chính, both sent at `sent_time`.
    let mut rows: Vec<NewOutboxRow> = (0..55)
        .map(|i| {
            row(
                "so-yte",
                OutboxKind::Reminder,
                1,
                &format!("vt{i}@soyte.vn"),
            )
        })
        .collect();
    rows.push(row("so-taichinh", OutboxKind::Overdue, 2, "a@sotc.vn"));
    s.store.enqueue(rows, t0).await.unwrap();
    dispatch(&s, |r| {
        if r.key.unit == "so-taichinh" {
            Outcome::Failed {
                error: "550 5.1.1 <a@sotc.vn>: không có hộp thư".into(),
            }
        } else {
            Outcome::Sent {
                message_id: format!("<{}@x>", r.id),
            }
        }
    })
    .await;
    // Due at 03:00 on Sunday 02/06/2030 (Vietnam), outside sending hours:
    // the daemon sends it on Monday 03/06 at 07:30, the start of sending
    // hours, and the page says so.
    let sunday: Timestamp = "2030-06-01T20:00:00Z".parse().unwrap();
    let mut night = row("so-taichinh", OutboxKind::Escalation, 1, "lanhdao@ubnd.vn");
    night.rank = 200;
    night.next_attempt_at = sunday;
    let mut skipped = row("so-yte", OutboxKind::DueToday, 0, "vt0@soyte.vn");
    skipped.status = OutboxStatus::Skipped;
    s.store.enqueue(vec![night, skipped], t0).await.unwrap();
    let all = s.store.outbox(None).await.unwrap();
    let sent: Vec<i64> = all
        .iter()
        .filter(|r| r.status == OutboxStatus::Sent)
        .map(|r| r.id)
        .rev()
        .collect();
    assert_eq!(sent.len(), 55);

    let cookie = s.login(&s.admin).await;
    let c = Some(cookie.as_str());
    // By default: the failures, each tab with its count.
    let r = s.get("/dashboard/outbox", c).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (tab, n) in [
        ("Gửi lỗi", 1),
        ("Chờ gửi", 1),
        ("Đang gửi", 0),
        ("Đã gửi", 55),
        ("Bỏ qua", 1),
        ("Đã huỷ", 0),
    ] {
        let want = format!("{tab} <span class=\"n\">({n})</span>");
        assert!(r.body.contains(&want), "{want} in {}", r.body);
    }
    assert!(r.body.contains("aria-current=\"page\">Gửi lỗi"));
    assert!(
        r.body
            .contains("550 5.1.1 &lt;a@sotc.vn&gt;: không có hộp thư")
    );
    assert!(r.body.contains("Thư báo quá hạn (mức 2) gửi đơn vị"));
    // Names, never bare ids; hostile ones as text.
    assert!(r.body.contains("Sở Tài chính &lt;script&gt;"));
    assert!(!r.body.contains("<script>"));
    assert!(r.body.contains("Báo cáo quý &lt;b&gt;KT-XH&lt;/b&gt;"));
    assert!(r.body.contains("quý I năm 2026"));

    // Sent mail, newest first, 50 a page; the next page starts where the
    // first ended, and together they are every sent row once.
    let r = s.get("/dashboard/outbox?status=sent", c).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Lúc gửi"));
    assert!(r.body.contains("17/03/2026 16:00"));
    assert!(r.body.contains("Thư nhắc hạn (lần 1)"));
    assert!(r.body.contains(">Sở Y tế</a>"));
    let first = message_ids(&r.body);
    assert_eq!(first.len(), 50);
    let next = next_link(&r.body).expect("a next page");
    let r2 = s.get(&next, c).await;
    assert_eq!(r2.status, 200);
    let second = message_ids(&r2.body);
    assert!(next_link(&r2.body).is_none());
    assert!(r2.body.contains("« Mới nhất"));
    assert_eq!([first, second].concat(), sent);

    // The row due on Sunday night: the real sending instant.
    let r = s.get("/dashboard/outbox?status=pending", c).await;
    assert!(r.body.contains("Sẽ gửi lúc"));
    assert!(
        r.body
            .contains("03/06/2030 07:30 <span class=\"note\">(ngoài giờ gửi)</span>"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("02/06/2030"));
    // Skipped rows say why.
    let r = s.get("/dashboard/outbox?status=skipped", c).await;
    assert!(r.body.contains("đã qua lúc gửi"));
    assert!(r.body.contains("Thư báo đến hạn hôm nay"));

    // Filters over sent mail: by unit, by a name typed without diacritics,
    // by kind, by report and period; each keeps the others in the tabs.
    let n = |body: &str| message_ids(body).len();
    let r = s
        .get("/dashboard/outbox?status=sent&unit=so-taichinh", c)
        .await;
    assert_eq!(n(&r.body), 0);
    assert!(r.body.contains("Không có thư nào."));
    assert!(r.body.contains("Chỉ thư của"));
    let r = s
        .get("/dashboard/outbox?status=sent&q=so+y+te&per=100", c)
        .await;
    assert_eq!(n(&r.body), 55);
    assert!(
        r.body
            .contains("href=\"/dashboard/outbox?status=failed&amp;q=so%20y%20te&amp;per=100\"")
    );
    let r = s
        .get("/dashboard/outbox?status=failed&q=tai+chinh", c)
        .await;
    assert_eq!(n(&r.body), 1);
    let r = s.get("/dashboard/outbox?status=sent&kind=overdue", c).await;
    assert_eq!(n(&r.body), 0);
    let r = s
        .get(
            "/dashboard/outbox?status=sent&obligation=bc-quy&period=2026-Q1&group=so-nganh",
            c,
        )
        .await;
    assert_eq!(n(&r.body), 50);
    let r = s
        .get("/dashboard/outbox?status=sent&period=2026-Q2", c)
        .await;
    assert_eq!(n(&r.body), 0);
    // Nonsense is the default view, never an error.
    for q in [
        "status=nope&per=0&before=-5",
        "before=18446744073709551616&per=99999",
        "kind=%FF&q=%3Cscript%3E&group=%3Cb%3E",
        "status=sent&status=failed",
    ] {
        let r = s.get(&format!("/dashboard/outbox?{q}"), c).await;
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        assert!(!r.body.contains("<script>"), "{q}");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_and_a_report_list_their_messages_and_the_last_reminder() {
    let s = start().await;
    let t0 = Timestamp::from_second(1_700_000_000).unwrap();
    let reminder = row("so-yte", OutboxKind::Reminder, 1, "vanthu@soyte.vn");
    let mut overdue = row("so-yte", OutboxKind::Overdue, 1, "bad@soyte.vn");
    overdue.rank = 101;
    s.store.enqueue(vec![reminder], t0).await.unwrap();
    dispatch(&s, |r| Outcome::Sent {
        message_id: format!("<{}@x>", r.id),
    })
    .await;
    s.store.enqueue(vec![overdue], t0).await.unwrap();
    dispatch(&s, |_| Outcome::Failed {
        error: "550 <bad@soyte.vn> không có hộp thư".into(),
    })
    .await;
    let mut night = row("so-yte", OutboxKind::Escalation, 1, "lanhdao@ubnd.vn");
    night.rank = 200;
    night.next_attempt_at = "2030-06-01T20:00:00Z".parse().unwrap();
    s.store.enqueue(vec![night], t0).await.unwrap();

    let cookie = s.login(&s.admin).await;
    let c = Some(cookie.as_str());
    for (page, title) in [
        ("/dashboard/units/so-yte", "Thư đã gửi và sắp gửi"),
        (YTE_Q1, "Thư về báo cáo này"),
    ] {
        let r = s.get(page, c).await;
        assert_eq!(r.status, 200, "{page}: {}", r.body);
        assert!(r.body.contains(title), "{page}");
        assert!(
            r.body.contains(
                "Lần nhắc gần nhất: <strong>17/03/2026 16:00</strong>, thư nhắc hạn (lần 1) (gửi vanthu@soyte.vn)"
            ),
            "{page}: {}",
            r.body
        );
        // Every message, newest first: planned, failed with its reason, sent.
        let ids = message_ids(&r.body);
        assert_eq!(ids.len(), 3, "{page}");
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "{page}");
        assert!(r.body.contains("550 &lt;bad@soyte.vn&gt; không có hộp thư"));
        assert!(r.body.contains("Gửi lỗi"));
        assert!(
            r.body
                .contains("03/06/2030 07:30 <span class=\"note\">(ngoài giờ gửi)</span>")
        );
        assert!(
            r.body
                .contains("Thư đôn đốc (mức 1) gửi lãnh đạo, cấp trên, nơi nhận")
        );
        assert!(
            r.body
                .contains("/dashboard/outbox?status=sent&amp;unit=so-yte")
        );
    }
    let unit = s.get("/dashboard/units/so-yte", c).await;
    assert!(unit.body.contains("Báo cáo quý &lt;b&gt;KT-XH&lt;/b&gt;"));
    // Nothing sent to the Sở Tài chính: said so.
    let r = s.get("/dashboard/units/so-taichinh", c).await;
    assert!(r.body.contains("Lần nhắc gần nhất: chưa gửi thư nào."));
    assert!(r.body.contains("Chưa có thư nào."));
    s.shutdown().await;
}

/// The list of one report-period says, per unit on the page, when it was
/// last sent something and what: a reminder then a later overdue notice
/// to the Sở Y tế (the later one is shown, in local time), a failed one
/// to the Sở Tài chính (not sent: its cell stays empty).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_of_a_report_period_says_the_last_message_sent_per_unit() {
    let s = start().await;
    let t0 = Timestamp::from_second(1_700_000_000).unwrap();
    let reminder = row("so-yte", OutboxKind::Reminder, 1, "vanthu@soyte.vn");
    s.store.enqueue(vec![reminder], t0).await.unwrap();
    dispatch(&s, |r| Outcome::Sent {
        message_id: format!("<{}@x>", r.id),
    })
    .await;
    let overdue = row("so-yte", OutboxKind::Overdue, 2, "vanthu@soyte.vn");
    let later = sent_time() + jiff::SignedDuration::from_hours(24);
    s.store.enqueue(vec![overdue], t0).await.unwrap();
    let claimed = s
        .store
        .claim("d", later, later + jiff::SignedDuration::from_secs(900), 10)
        .await
        .unwrap();
    let done = claimed
        .iter()
        .map(|r| {
            (
                r.id,
                Outcome::Sent {
                    message_id: "<late@x>".into(),
                },
            )
        })
        .collect();
    s.store.finish_many("d", done, later).await.unwrap();
    let failed = row("so-taichinh", OutboxKind::Overdue, 1, "a@sotc.vn");
    s.store.enqueue(vec![failed], t0).await.unwrap();
    dispatch(&s, |_| Outcome::Failed {
        error: "550 không có hộp thư".into(),
    })
    .await;

    let cookie = s.login(&s.admin).await;
    let c = Some(cookie.as_str());
    let r = s.get(Q1, c).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<th>Lần nhắc gần nhất</th>"), "{}", r.body);
    let line = |unit: &str| {
        let at = r.body.find(&format!("<tr id=\"u-{unit}\">")).unwrap();
        let rest = &r.body[at..];
        rest[..rest.find("</tr>").unwrap()].to_string()
    };
    let yte = line("so-yte");
    assert!(
        yte.contains(
            "<td class=\"last\" data-label=\"Lần nhắc gần nhất\">18/03/2026 16:00 · Thư báo quá hạn (mức 2) gửi đơn vị</td>"
        ),
        "{yte}"
    );
    let tc = line("so-taichinh");
    assert!(
        tc.contains("<td class=\"last\" data-label=\"Lần nhắc gần nhất\"></td>"),
        "{tc}"
    );
    // A page that shows only the Sở Tài chính asks about it alone.
    let r = s.get(&format!("{Q1}&q=tai+chinh"), c).await;
    assert!(!r.body.contains("18/03/2026 16:00"), "{}", r.body);
    s.shutdown().await;
}

/// The events of the report of Sở Y tế for 2026-Q1.
async fn events(s: &Server) -> Vec<store::Event> {
    s.history("so-yte").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_from_the_report_page_needs_a_reason_and_a_confirmation() {
    let s = start().await;
    let key = Key::new("bc-quy", "2026-Q1", "so-yte");
    s.store
        .record_submission(
            NewSubmission {
                key: key.clone(),
                received_on: date(2026, 3, 19),
                received_at: None,
                reference: Some("12/BC-SYT".into()),
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
    let c = Some(cookie.as_str());
    let page = s.get(YTE_Q1, c).await;
    assert!(page.body.contains("Thu hồi ghi nhận"));
    assert!(
        page.body
            .contains("Ghi nhận đã nhận báo cáo ngày 19/03/2026, số văn bản 12/BC-SYT")
    );
    assert!(
        !page.body.contains("value=\"waiver\""),
        "only what is in effect"
    );
    let csrf = page.csrf();
    let url = format!("{YTE_Q1}/revoke");
    let reason = "Ghi nhầm đơn vị <img src=x onerror=alert(1)>";
    let before = events(&s).await.len();
    // No CSRF token: 403. No reason, no subject: 422. Nothing written.
    let r = s
        .post(
            &url,
            c,
            &[("csrf", "x"), ("subject", "submission"), ("reason", reason)],
        )
        .await;
    assert_eq!(r.status, 403);
    for (subject, why, text) in [
        ("submission", "  ", "Lý do thu hồi"),
        ("nope", reason, "Chọn điều cần thu hồi"),
        ("", reason, "Chọn điều cần thu hồi"),
    ] {
        let r = s
            .post(
                &url,
                c,
                &[("csrf", &csrf), ("subject", subject), ("reason", why)],
            )
            .await;
        assert_eq!(r.status, 422, "{subject:?} {why:?}");
        assert!(r.body.contains(text), "{}", r.body);
    }
    assert_eq!(events(&s).await.len(), before);
    // The first post shows what will be withdrawn, and writes nothing.
    let fields = [
        ("csrf", csrf.as_str()),
        ("subject", "submission"),
        ("reason", reason),
    ];
    let r = s.post(&url, c, &fields).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Thu hồi ghi nhận đã nhận báo cáo"));
    assert!(r.body.contains("Sẽ thu hồi"));
    assert!(r.body.contains("19/03/2026"));
    assert!(r.body.contains("12/BC-SYT"));
    assert!(
        r.body
            .contains("Ghi nhầm đơn vị &lt;img src=x onerror=alert(1)&gt;")
    );
    assert!(!r.body.contains("<img"));
    assert!(r.body.contains("name=\"step\" value=\"record\""));
    assert!(
        r.body.contains(&format!("href=\"{YTE_Q1}\"")),
        "Thôi goes back"
    );
    assert_eq!(events(&s).await.len(), before);
    // "Xác nhận thu hồi": one revoke event with the reason, the token's
    // name as actor, source web; the state is computed again.
    let record = [fields.as_slice(), &[("step", "record")]].concat();
    let r = s.post(&url, c, &record).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some(YTE_Q1));
    let after = events(&s).await;
    assert_eq!(after.len(), before + 1);
    let e = after.last().unwrap();
    assert_eq!(e.action, store::Action::Revoke);
    assert_eq!(e.subject, Subject::Submission);
    assert_eq!(e.note.as_deref(), Some(reason));
    assert_eq!(e.source, Source::Web);
    assert!(e.actor.contains("Điều phối"), "{}", e.actor);
    let page = s.get(YTE_Q1, c).await;
    assert!(page.body.contains("Đã thu hồi ghi nhận đã nhận báo cáo."));
    assert!(page.body.contains("Nộp báo cáo (thu hồi)"));
    assert!(page.body.contains("Ghi nhầm đơn vị &lt;img"));
    assert!(
        !page.body.contains("Thu hồi ghi nhận</h2>"),
        "nothing left to revoke"
    );
    let live = s.state.live();
    let state = tracking::status(
        &s.store,
        &live.cfg,
        &live.cal,
        &Selection {
            obligation: Some("bc-quy".into()),
            period: Some("2026-Q1".into()),
            unit: Some("so-yte".into()),
        },
        date(2026, 3, 30),
    )
    .await
    .unwrap();
    assert_eq!(state[0].status.state.as_str(), "overdue");
    drop(state);
    // Again: a flash, no second event; asked anew: 409, nothing to revoke.
    let r = s.post(&url, c, &record).await;
    assert_eq!(r.status, 303);
    assert_eq!(events(&s).await.len(), before + 1);
    let page = s.get(YTE_Q1, c).await;
    assert!(page.body.contains("đã được thu hồi trước đó"));
    let r = s.post(&url, c, &fields).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body
            .contains("Không có ghi nhận đã nhận báo cáo nào đang có hiệu lực để thu hồi")
    );
    // A waiver never granted: 409 at the record step too.
    let waiver = [
        ("csrf", csrf.as_str()),
        ("subject", "waiver"),
        ("reason", "nhầm"),
        ("step", "record"),
    ];
    let r = s.post(&url, c, &waiver).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("Không có miễn nộp nào đang có hiệu lực"));
    assert_eq!(events(&s).await.len(), before + 1);

    // An extension and a waiver are revoked the same way.
    s.store
        .grant_extension(
            store::NewExtension {
                key: key.clone(),
                until: date(2026, 4, 30),
                reason: "lũ lụt".into(),
                actor: "cli:test".into(),
                source: Source::Cli,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    s.store
        .grant_waiver(
            store::NewWaiver {
                key: key.clone(),
                reason: "sáp nhập".into(),
                actor: "cli:test".into(),
                source: Source::Cli,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let page = s.get(YTE_Q1, c).await;
    assert!(page.body.contains("Gia hạn đến 30/04/2026"));
    assert!(page.body.contains("Miễn nộp kỳ này"));
    for (subject, shown) in [("extension", "lũ lụt"), ("waiver", "sáp nhập")] {
        let f = [
            ("csrf", csrf.as_str()),
            ("subject", subject),
            ("reason", "cấp nhầm"),
        ];
        let r = s.post(&url, c, &f).await;
        assert_eq!(r.status, 200, "{subject}");
        assert!(r.body.contains(shown), "{subject}");
        let n = events(&s).await.len();
        let r = s
            .post(&url, c, &[f.as_slice(), &[("step", "record")]].concat())
            .await;
        assert_eq!(r.status, 303, "{subject}");
        let after = events(&s).await;
        assert_eq!(after.len(), n + 1);
        assert_eq!(after.last().unwrap().subject.as_str(), subject);
    }
    let page = s.get(YTE_Q1, c).await;
    assert!(
        !page
            .body
            .contains("action=\"/dashboard/units/so-yte/bc-quy/2026-Q1/revoke\"")
    );
    s.shutdown().await;
}

/// In chromium: the outbox's sent tab and its waiting tab (a row due on
/// Sunday night shown at Monday's start of sending hours), a report's
/// messages, and a receipt revoked from the report page through its
/// confirmation; screenshots at 1366 and 390 px (`shots` checks the phone
/// layout never scrolls sideways) in `target/e2e/sent-*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_sent_mail_is_visible_and_a_receipt_is_revoked() {
    use super::browser::{e2e_dir, shots};
    let s = start().await;
    let t0 = Timestamp::from_second(1_700_000_000).unwrap();
    let key = Key::new("bc-quy", "2026-Q1", "so-yte");
    s.store
        .record_submission(
            NewSubmission {
                key,
                received_on: date(2026, 3, 19),
                received_at: None,
                reference: Some("12/BC-SYT".into()),
                note: None,
                actor: "cli:test".into(),
                source: Source::Cli,
                correction: false,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let mut rows: Vec<NewOutboxRow> = (0..4)
        .map(|i| {
            row(
                "so-yte",
                OutboxKind::Reminder,
                1,
                &format!("vanthu{i}@soyte.quangngai.example"),
            )
        })
        .collect();
    rows.push(row(
        "so-taichinh",
        OutboxKind::Reminder,
        1,
        "vanthu@sotc.quangngai.example",
    ));
    s.store.enqueue(rows, t0).await.unwrap();
    dispatch(&s, |r| Outcome::Sent {
        message_id: format!("<{}@x>", r.id),
    })
    .await;
    let mut failed = row(
        "so-yte",
        OutboxKind::Overdue,
        1,
        "cu@soyte.quangngai.example",
    );
    failed.rank = 101;
    s.store.enqueue(vec![failed], t0).await.unwrap();
    dispatch(&s, |_| Outcome::Failed {
        error: "550 5.1.1 <cu@soyte.quangngai.example>: hộp thư không tồn tại".into(),
    })
    .await;
    let mut night = row(
        "so-taichinh",
        OutboxKind::Escalation,
        1,
        "lanhdao@ubnd.quangngai.example",
    );
    night.rank = 200;
    night.next_attempt_at = "2030-06-01T20:00:00Z".parse().unwrap();
    s.store.enqueue(vec![night], t0).await.unwrap();

    let base = format!("http://{}", s.addr);
    let admin = s.admin.clone();
    let dir = e2e_dir();
    let pngs = tokio::task::spawn_blocking(move || {
        let b = Browser::start();
        let mut pngs = Vec::new();
        b.goto(&format!("{base}/dashboard/login"));
        b.type_text(&b.find("input[name=token]"), &admin);
        b.click(&b.find("form[action='/dashboard/login'] button[type=submit]"));
        b.wait_for_url("/dashboard");
        b.goto(&format!("{base}/dashboard/outbox?status=sent"));
        assert_eq!(b.count("tr[id^=m-]"), 5);
        pngs.extend(shots(&b, "sent-outbox"));
        b.goto(&format!("{base}/dashboard/outbox?status=pending"));
        assert!(
            b.text(&b.find("td.when"))
                .contains("03/06/2030 07:30 (ngoài giờ gửi)")
        );
        pngs.extend(shots(&b, "sent-outbox-pending"));
        b.goto(&format!("{base}{YTE_Q1}"));
        assert_eq!(b.count("table.messages tr[id^=m-]"), 5);
        // The page's lower half: the revoke form and the messages.
        b.set_window(1366, 900);
        b.script("document.getElementById('revoke').scrollIntoView(); return 0;");
        pngs.extend(shots(&b, "sent-report"));
        b.type_text(
            &b.find("form.revoke input[name=reason]"),
            "Ghi nhầm: văn bản của Sở Tài chính",
        );
        b.click(&b.find("form.revoke button[type=submit]"));
        let reason = b.wait_for_text("#reason");
        assert_eq!(reason, "Ghi nhầm: văn bản của Sở Tài chính");
        pngs.extend(shots(&b, "sent-revoke-confirm"));
        b.click(&b.find("button[value=record]"));
        let flash = b.wait_for_text(".flash.ok");
        assert_eq!(flash, "Đã thu hồi ghi nhận đã nhận báo cáo.");
        let state = b.attr(&b.find("#state"), "data-state").unwrap();
        assert!(!state.starts_with("submitted_"), "{state}");
        pngs.extend(shots(&b, "sent-revoked"));
        pngs
    })
    .await
    .unwrap();
    for (name, png) in &pngs {
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
        std::fs::write(dir.join(name), png).unwrap();
    }
    let events = s.history("so-yte").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].action, store::Action::Revoke);
    s.shutdown().await;
}
