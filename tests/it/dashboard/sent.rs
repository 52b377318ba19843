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

fn row(unit: &str, kind: OutboxKind, stage: u32, to: &str) -> NewOutboxRow {
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
async fn dispatch(s: &Server, outcome: impl Fn(&OutboxRow) -> Outcome) {
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
