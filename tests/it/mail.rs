//! Mail end to end: rendering every kind, the bytes on the wire (read back
//! with `support::mime`, Stalwart's mail-parser: another author's reader
//! than hanbao's writer), the .ics, the file transport, and SMTP over real
//! TCP to the test sink in `support::smtp`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hanbao::config::model::{Mail, SecretSource, Smtp, SmtpSecurity, Transport};
use hanbao::mail::{
    Addressee, Composer, Deadline, Digest, Escalation, FailedSend, Language, LatePeriod, LateUnit,
    Mailer, MailerError, Notice, NoticeKind, ObligationRef, PeriodRef, Register, Role, Section,
    SendError, Speaker, Standing, Templates, TimeOfDay, UnitRef, check_templates, send_test,
};
use jiff::Timestamp;
use jiff::civil::date;

use crate::support::mime;
use crate::support::smtp::{SinkOptions, SmtpSink};

// ---------------------------------------------------------------------------
// Fixtures.

const FROM: &str = "Sở LĐ-TB&XH Quảng Ngãi <baocao@soldtbxh.quangngai.example>";

fn mail_config(transport: Transport) -> Mail {
    Mail {
        transport,
        from: FROM.to_string(),
        reply_to: Some("Phòng Kế hoạch <kehoach@soldtbxh.quangngai.example>".to_string()),
        templates: None,
        language: Language::Vi,
    }
}

fn smtp_config(port: u16) -> Mail {
    mail_config(Transport::Smtp(Smtp {
        connections: 1,
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
    }))
}

fn now() -> Timestamp {
    // 08:00 in Vietnam (UTC+7) on Friday 19/06/2026.
    "2026-06-19T01:00:00Z".parse().unwrap()
}

fn obligation() -> ObligationRef {
    ObligationRef {
        id: "nq121-6thang".into(),
        title: "Báo cáo kết quả thực hiện Nghị quyết 121".into(),
        short: "Báo cáo NQ 121".into(),
        legal_basis: Some("Nghị quyết 121/NQ-HĐND, Điều 3".into()),
    }
}

fn speaker() -> Speaker {
    Speaker {
        agency: "Sở Lao động - Thương binh và Xã hội".into(),
        office: Some("Phòng Trẻ em - Bình đẳng giới".into()),
        contact: Some(hanbao::mail::Contact {
            name: "Bà Nguyễn Thị Hoa".into(),
            title: None,
            phone: Some("0255 3822 123".into()),
            email: None,
        }),
        submit_to: Some("Sở Lao động - Thương binh và Xã hội".into()),
        submit_how: Some("văn bản điện tử".into()),
        basis: None,
    }
}

fn period() -> PeriodRef {
    PeriodRef {
        key: "2026-H1".into(),
        label: "6 tháng đầu năm 2026".into(),
    }
}

fn deadline(unit_name: &str) -> Deadline {
    let mut d = Deadline::new(
        obligation(),
        period(),
        UnitRef {
            id: "ubnd-nghia-hanh".into(),
            name: unit_name.into(),
        },
        date(2026, 6, 22),
    );
    d.as_of = date(2026, 6, 19);
    d.speaker = speaker();
    d.days_left = 3;
    d.working_days_left = 1;
    d.days_late = 4;
    d.working_days_late = 2;
    d.dependencies = vec![standing(vec![late("Phòng Tài chính – Kế hoạch", 2)])];
    d.confirm_url = Some("https://hanbao.example/xac-nhan?t=abc&u=1".into());
    d.alarms = vec![-3 * 1440 + 450, 450];
    d
}

fn late(unit: &str, days_late: u32) -> LateUnit {
    LateUnit {
        unit: UnitRef {
            id: unit.to_lowercase().replace(' ', "-"),
            name: unit.into(),
        },
        due: date(2026, 6, 22),
        days_late,
        working_days_late: days_late,
        notices: vec![],
        periods: vec![],
    }
}

fn standing(late: Vec<LateUnit>) -> Standing {
    Standing {
        obligation: obligation(),
        period: period(),
        due: date(2026, 6, 22),
        expected: 13,
        submitted: 7,
        submitted_late: 2,
        waived: 1,
        late,
        span: None,
    }
}

/// An escalation to the Provincial People's Committee (a report upward).
fn escalation(late: Vec<LateUnit>) -> Escalation {
    Escalation {
        speaker: speaker(),
        addressee: "Ủy ban nhân dân tỉnh Quảng Ngãi".into(),
        register: Register::Upward,
        as_of: date(2026, 6, 26),
        sections: vec![Section {
            role: Role::Supervisor,
            standing: standing(late),
            recipient_name: None,
            dependencies: vec![],
        }],
    }
}

fn notice(kind: NoticeKind, key: &str) -> Notice {
    Notice {
        kind,
        language: Language::Vi,
        recipients: vec![Addressee::named(
            "vanthu@nghiahanh.example",
            "Văn thư UBND huyện Nghĩa Hành",
        )],
        outbox_key: key.into(),
        sent_at: now(),
    }
}

fn composer() -> Composer {
    Composer::new(
        &mail_config(Transport::File {
            dir: "/nonexistent".into(),
        }),
        Templates::builtin(),
    )
    .unwrap()
}

fn wire(n: &Notice) -> (mime::Mail, String) {
    let msg = composer().compose(n).unwrap();
    let bytes = msg.bytes().to_vec();
    assert!(bytes.is_ascii(), "the message on the wire is 7-bit");
    let raw = String::from_utf8(bytes).unwrap();
    (mime::Mail::parse(&raw), raw)
}

// ---------------------------------------------------------------------------
// Templates and rendering.

#[test]
fn builtin_templates_pass_check() {
    assert_eq!(check_templates(None), Ok(()));
}

#[test]
fn a_broken_override_is_reported_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("vi")).unwrap();
    // Line 3 uses a misspelled variable: strict undefined must catch it.
    std::fs::write(
        dir.path().join("vi/reminder.txt"),
        "Kính gửi {{ unit.name }}\n\nHạn: {{ obligation.titel }}\n",
    )
    .unwrap();
    let errors = check_templates(Some(dir.path())).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert!(e.file.ends_with("vi/reminder.txt"), "{e}");
    assert!(Path::new(&e.file).starts_with(dir.path()), "{e}");
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.to_string().contains(":3:"), "{e}");
}

#[test]
fn a_syntax_error_and_an_unknown_file_are_both_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("en")).unwrap();
    std::fs::write(
        dir.path().join("en/overdue.html"),
        "<p>ok</p>\n{% if %}\n{% endif %}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("en/reminder.htm"), "x").unwrap();
    let errors = check_templates(Some(dir.path())).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.file.ends_with("en/overdue.html") && e.line == Some(2))
    );
    assert!(
        errors
            .iter()
            .any(|e| e.file.ends_with("en/reminder.htm") && e.message.contains("reminder.html"))
    );
}

#[test]
fn an_override_replaces_the_builtin_template() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("vi")).unwrap();
    std::fs::write(
        dir.path().join("vi/reminder.subject"),
        "[Nhắc hạn] {{ obligation.id }} {{ due|date }}\n",
    )
    .unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    let composer = Composer::new(&smtp_config(25), templates).unwrap();
    let msg = composer
        .compose(&notice(NoticeKind::Reminder(deadline("UBND")), "k"))
        .unwrap();
    assert_eq!(msg.subject(), "[Nhắc hạn] nq121-6thang 22/06/2026");
    // Other templates stay built in.
    let msg = composer
        .compose(&notice(NoticeKind::Overdue(deadline("UBND")), "k"))
        .unwrap();
    assert!(msg.subject().starts_with("[Quá hạn] "));
}

#[test]
fn subjects_are_exact_for_every_kind() {
    let d = deadline("UBND huyện Nghĩa Hành");
    let mut several = escalation(vec![late("UBND xã Hành Thiện", 4)]);
    let mut other = several.sections[0].clone();
    other.standing.period = PeriodRef {
        key: "2025".into(),
        label: "năm 2025".into(),
    };
    several.sections.push(other);
    let mut head = escalation(vec![late("UBND huyện Nghĩa Hành", 4)]);
    head.register = Register::Peer;
    head.sections[0].role = Role::Head;
    let cases = [
        (
            NoticeKind::Reminder(d.clone()),
            "[Nhắc hạn] Hạn 22/06/2026 - Báo cáo NQ 121 kỳ 6 tháng đầu năm 2026".to_string(),
        ),
        (
            NoticeKind::DueToday(d.clone()),
            "[Đến hạn hôm nay 22/06/2026] Báo cáo NQ 121 kỳ 6 tháng đầu năm 2026".to_string(),
        ),
        (
            NoticeKind::Overdue(d.clone()),
            "[Quá hạn] Hạn 22/06/2026 - Báo cáo NQ 121 kỳ 6 tháng đầu năm 2026".to_string(),
        ),
        (
            // 13 expected, 7 sent, 1 exempted: 5 not sent.
            NoticeKind::Escalation(escalation(vec![late("UBND xã Hành Thiện", 4)])),
            "[Tình hình] 5/13 đơn vị chưa gửi Báo cáo NQ 121 kỳ 6 tháng đầu năm 2026".to_string(),
        ),
        (
            NoticeKind::Escalation(head),
            "[Đôn đốc] Quá hạn Báo cáo NQ 121 kỳ 6 tháng đầu năm 2026".to_string(),
        ),
        (
            NoticeKind::Escalation(several),
            "[Tình hình] 2 báo cáo quá hạn: Báo cáo NQ 121 kỳ 6 tháng đầu năm 2026; Báo cáo NQ 121 kỳ năm 2025"
                .to_string(),
        ),
        (
            NoticeKind::Digest(Digest {
                as_of: date(2026, 6, 26),
                speaker: Speaker::default(),
                coordinator: None,
                overdue: vec![],
                upcoming: vec![],
                failed_sends: vec![],
                dashboard_url: None,
            }),
            "[Tổng hợp] Tình hình báo cáo định kỳ đến ngày 26/06/2026".to_string(),
        ),
        (
            NoticeKind::Test,
            "[Thử nghiệm] Kiểm tra cấu hình gửi thư của hanbao".to_string(),
        ),
    ];
    for (kind, want) in cases {
        let name = kind.name();
        let n = notice(kind, name);
        let (part, raw) = wire(&n);
        let subject = part.header("Subject").unwrap();
        assert!(
            subject.contains("=?utf-8?"),
            "{name}: encoded on the wire: {subject}"
        );
        assert_eq!(part.decoded("Subject").unwrap(), want, "{name}");
        assert!(want.chars().count() <= 100, "{want}");
        assert!(raw.contains(&format!("X-Hanbao-Kind: {name}\r\n")));
    }

    let mut en = notice(NoticeKind::Reminder(d.clone()), "en");
    en.language = Language::En;
    en.kind = NoticeKind::Reminder(Deadline {
        period: PeriodRef {
            key: "2026-H1".into(),
            label: "the first half of 2026".into(),
        },
        ..d
    });
    let (part, _) = wire(&en);
    assert_eq!(
        part.decoded("Subject").unwrap(),
        "[Reminder] Due 22/06/2026 - Báo cáo NQ 121, the first half of 2026"
    );
}

/// A title without a short title is cut at a word boundary, so the
/// subject stays within 100 characters and keeps its period.
#[test]
fn long_titles_are_cut_in_subjects() {
    let title = "Báo cáo tình hình kinh tế, xã hội; quốc phòng, an ninh và công tác chỉ đạo, điều hành của Ủy ban nhân dân các cấp";
    let short = hanbao::mail::short_title(title, None);
    assert!(
        short.ends_with('…') && short.chars().count() <= 50,
        "{short}"
    );
    assert!(title.starts_with(short.trim_end_matches('…')), "{short}");
    let mut d = deadline("UBND huyện Nghĩa Hành");
    d.obligation.title = title.into();
    d.obligation.short = short;
    let msg = composer()
        .compose(&notice(NoticeKind::DueToday(d), "k"))
        .unwrap();
    assert!(msg.subject().chars().count() <= 100, "{}", msg.subject());
    assert!(
        msg.subject().ends_with(" kỳ 6 tháng đầu năm 2026"),
        "{}",
        msg.subject()
    );
}

#[test]
fn vietnamese_text_survives_encoding_in_headers_and_bodies() {
    let (part, _) = wire(&notice(
        NoticeKind::Reminder(deadline("UBND huyện Nghĩa Hành")),
        "k1",
    ));
    assert_eq!(
        part.decoded("To").unwrap(),
        "Văn thư UBND huyện Nghĩa Hành <vanthu@nghiahanh.example>"
    );
    assert_eq!(part.decoded("From").unwrap(), FROM);
    assert_eq!(
        part.decoded("Reply-To").unwrap(),
        "Phòng Kế hoạch <kehoach@soldtbxh.quangngai.example>"
    );
    let text = part.leaf("text/plain").text();
    for want in [
        "Kính gửi: UBND huyện Nghĩa Hành",
        "Sở Lao động - Thương binh và Xã hội đề nghị Quý cơ quan gửi báo cáo định kỳ sau đây:",
        "- Kỳ báo cáo: 6 tháng đầu năm 2026",
        "- Thời hạn gửi: chậm nhất hết ngày thứ Hai, 22/06/2026 (còn 1 ngày làm việc)",
        "- Căn cứ: Nghị quyết 121/NQ-HĐND, Điều 3",
        "   + Phòng Tài chính – Kế hoạch, quá hạn 2 ngày",
        "https://hanbao.example/xac-nhan?t=abc&u=1",
        "xin liên hệ: Bà Nguyễn Thị Hoa, điện thoại 0255 3822 123.",
    ] {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }
    assert!(
        text.ends_with("Trân trọng./.\r\n\r\nSở Lao động - Thương binh và Xã hội\r\n(Phòng Trẻ em - Bình đẳng giới)\r\n"),
        "{text:?}"
    );
    let html = part.leaf("text/html").text();
    assert!(html.contains("Xác nhận đã gửi báo cáo"), "{html}");
    // minijinja also escapes "/" (as &#x2f;), which HTML readers decode.
    assert!(html.contains("xac-nhan?t=abc&amp;u=1"), "{html}");
    assert!(
        html.contains("<strong>thứ Hai, 22/06/2026</strong>"),
        "{html}"
    );
}

#[test]
fn html_escapes_configuration_text_but_text_keeps_it() {
    let evil = "<script>alert('x')</script> & Co";
    let mut d = deadline(evil);
    d.obligation.title = "Báo cáo <b>đậm</b>".into();
    let (part, _) = wire(&notice(NoticeKind::Overdue(d), "k"));
    let html = part.leaf("text/html").text();
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<b>đậm"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(html.contains("&amp; Co"), "{html}");
    assert!(
        html.contains("&lt;b&gt;đậm&lt;&#x2f;b&gt;") || html.contains("&lt;b&gt;đậm&lt;/b&gt;"),
        "{html}"
    );
    let text = part.leaf("text/plain").text();
    assert!(
        text.contains("Kính gửi: <script>alert('x')</script> & Co"),
        "{text}"
    );
    assert!(text.contains("quá hạn 4 ngày"), "{text}");
}

#[test]
fn escalation_and_digest_list_every_item() {
    let mut x = late("UBND xã Hành Thiện", 4);
    x.notices = vec![
        hanbao::mail::PastNotice {
            kind: "reminder",
            on: date(2026, 6, 15),
            to: None,
        },
        hanbao::mail::PastNotice {
            kind: "overdue",
            on: date(2026, 6, 23),
            to: None,
        },
    ];
    let (part, _) = wire(&notice(
        NoticeKind::Escalation(escalation(vec![x, late("UBND xã Hành Đức", 2)])),
        "esc",
    ));
    let text = part.leaf("text/plain").text();
    for want in [
        "Kính gửi: Ủy ban nhân dân tỉnh Quảng Ngãi",
        "1. Báo cáo kết quả thực hiện Nghị quyết 121, kỳ 6 tháng đầu năm 2026, hạn thứ Hai, 22/06/2026",
        "Đã nhận 7/13 báo cáo (5 đúng hạn, 2 trễ hạn), miễn 1. Các cơ quan, đơn vị trực thuộc chưa gửi (2):",
        "   - UBND xã Hành Thiện: quá hạn 4 ngày (4 ngày làm việc); đã nhắc 2 lần, lần gần nhất ngày 23/06/2026",
        "   - UBND xã Hành Đức: quá hạn 2 ngày (2 ngày làm việc)",
        "Kính đề nghị Ủy ban nhân dân tỉnh Quảng Ngãi xem xét, chỉ đạo",
        "Kính báo cáo./.",
    ] {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }
    // No calendar attachment for an escalation.
    assert!(
        part.leaves()
            .iter()
            .all(|p| !p.content_type().starts_with("text/calendar"))
    );

    let late = |name: &str, days: u32, working: u32| LateUnit {
        unit: UnitRef {
            id: name.to_lowercase(),
            name: name.into(),
        },
        due: date(2026, 6, 22),
        days_late: days,
        working_days_late: working,
        notices: vec![],
        periods: vec![],
    };
    let (part, _) = wire(&notice(
        NoticeKind::Digest(Digest {
            as_of: date(2026, 6, 26),
            speaker: speaker(),
            coordinator: Some("Bà Nguyễn Thị Hoa".into()),
            overdue: vec![Standing {
                obligation: obligation(),
                period: period(),
                due: date(2026, 6, 22),
                expected: 13,
                submitted: 7,
                submitted_late: 2,
                waived: 1,
                late: vec![
                    late("UBND xã Hành Đức", 4, 4),
                    late("UBND xã Hành Thiện", 4, 4),
                ],
                span: None,
            }],
            upcoming: vec![Standing {
                obligation: obligation(),
                period: PeriodRef {
                    key: "2026-Q2".into(),
                    label: "quý II năm 2026".into(),
                },
                due: date(2026, 7, 2),
                expected: 13,
                submitted: 3,
                submitted_late: 0,
                waived: 0,
                late: vec![],
                span: None,
            }],
            failed_sends: vec![FailedSend {
                recipient: "sai@dia-chi.example".into(),
                kind: "overdue".into(),
                unit_name: "UBND xã Hành Đức".into(),
                obligation: obligation(),
                period: period(),
                on: date(2026, 6, 23),
                reason: "550 5.1.1 no such user".into(),
            }],
            dashboard_url: Some("https://baocao.example/dashboard".into()),
        }),
        "digest",
    ));
    let text = part.leaf("text/plain").text();
    for want in [
        "Kính gửi: Bà Nguyễn Thị Hoa",
        "đến ngày thứ Sáu, 26/06/2026",
        "1) Báo cáo kết quả thực hiện Nghị quyết 121, kỳ 6 tháng đầu năm 2026, hạn 22/06/2026",
        "Đã nhận 7/13 (trong đó 2 trễ hạn), miễn 1; chưa gửi 2:",
        "   - UBND xã Hành Đức: quá hạn 4 ngày (4 ngày làm việc)",
        "Tổng cộng: 2 lượt đơn vị chưa gửi, thuộc 1 báo cáo.",
        "kỳ quý II năm 2026: hạn thứ Năm, 02/07/2026; đã nhận 3/13",
        "Ngày 23/06/2026, thư báo quá hạn gửi sai@dia-chi.example (UBND xã Hành Đức;",
        ": 550 5.1.1 no such user",
        "https://baocao.example/dashboard",
    ] {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }
    let html = part.leaf("text/html").text();
    assert!(
        html.contains("<li>UBND xã Hành Thiện: quá hạn 4 ngày"),
        "{html}"
    );
}

#[test]
fn headers_carry_list_id_message_id_date_and_reply_to() {
    let n = notice(
        NoticeKind::Reminder(deadline("UBND")),
        "nq121|2026-H1|ubnd|reminder|0",
    );
    let (part, _) = wire(&n);
    assert_eq!(
        part.header("List-Id"),
        Some("<nq121-6thang.hanbao.soldtbxh.quangngai.example>")
    );
    assert_eq!(part.header("Date"), Some("Fri, 19 Jun 2026 01:00:00 +0000"));
    // Auto-replies stay away from the Reply-To: RFC 3834 (Auto-Submitted),
    // Exchange and Outlook (X-Auto-Response-Suppress: out-of-office and
    // other auto-replies, not non-delivery reports), older vacation
    // programs (Precedence: bulk). Read back by a real parser too.
    assert_eq!(part.header("Auto-Submitted"), Some("auto-generated"));
    assert_eq!(
        part.header("X-Auto-Response-Suppress"),
        Some("OOF, AutoReply")
    );
    assert_eq!(part.header("Precedence"), Some("bulk"));
    assert_eq!(part.header("X-Hanbao-Period"), Some("2026-H1"));
    assert_eq!(part.header("X-Hanbao-Obligation"), Some("nq121-6thang"));
    let read = crate::support::mime::read(composer().compose(&n).unwrap().bytes()).unwrap();
    for (name, value) in [
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "OOF, AutoReply"),
        ("Precedence", "bulk"),
    ] {
        assert_eq!(read.header(name), Some(value), "{name}");
    }
    let id = part.header("Message-ID").unwrap();
    assert!(
        id.starts_with('<') && id.ends_with(".hanbao@soldtbxh.quangngai.example>"),
        "{id}"
    );
    let (digest, _) = wire(&notice(
        NoticeKind::Digest(Digest {
            as_of: date(2026, 6, 26),
            speaker: Speaker::default(),
            coordinator: None,
            overdue: vec![],
            upcoming: vec![],
            failed_sends: vec![],
            dashboard_url: None,
        }),
        "d",
    ));
    assert_eq!(
        digest.header("List-Id"),
        Some("<digest.hanbao.soldtbxh.quangngai.example>")
    );
}

#[test]
fn message_id_depends_only_on_the_outbox_key() {
    let c = composer();
    let a = notice(NoticeKind::Reminder(deadline("A")), "key-1");
    let mut b = notice(NoticeKind::Overdue(deadline("B")), "key-1");
    b.sent_at = "2026-07-01T01:00:00Z".parse().unwrap();
    let other = notice(NoticeKind::Reminder(deadline("A")), "key-2");
    let ida = c.compose(&a).unwrap().message_id().to_string();
    assert_eq!(ida, c.compose(&a).unwrap().message_id());
    assert_eq!(ida, c.compose(&b).unwrap().message_id());
    assert_ne!(ida, c.compose(&other).unwrap().message_id());
    let (part, _) = wire(&a);
    assert_eq!(part.header("Message-ID"), Some(ida.as_str()));
}

fn unfold_ics(ics: &str) -> Vec<String> {
    ics.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn unescape_ics(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A deadline with a time of day ("trước 14 giờ 00"): named in the subject,
/// the body and the .ics, which holds a timed event at that instant.
#[test]
fn a_deadline_at_a_time_of_day_is_worded_and_timed() {
    let mut d = deadline("UBND huyện Nghĩa Hành");
    d.due_time = Some(TimeOfDay {
        local: jiff::civil::Time::constant(14, 0, 0, 0),
        // 14:00 on 22/6/2026 at UTC+7.
        instant: "2026-06-22T07:00:00Z".parse().unwrap(),
    });
    let (part, _) = wire(&notice(NoticeKind::Reminder(d.clone()), "timed"));
    let subject = part.decoded("Subject").unwrap();
    assert!(
        subject.starts_with("[Nhắc hạn] Hạn 14:00 22/06/2026 - "),
        "{subject}"
    );
    let text = part.leaf("text/plain").text();
    assert!(
        text.contains(
            "- Thời hạn gửi: trước 14 giờ 00 ngày thứ Hai, 22/06/2026 (còn 1 ngày làm việc)"
        ),
        "{text}"
    );
    assert!(!text.contains("chậm nhất hết ngày"), "{text}");
    let html = part.leaf("text/html").text();
    assert!(
        html.contains("trước <strong>14 giờ 00</strong> ngày"),
        "{html}"
    );
    let (part, _) = wire(&notice(NoticeKind::DueToday(d.clone()), "timed-today"));
    let subject = part.decoded("Subject").unwrap();
    assert!(
        subject.starts_with("[Đến hạn hôm nay 22/06/2026 trước 14:00] "),
        "{subject}"
    );
    let text = part.leaf("text/plain").text();
    assert!(
        text.contains("là hạn cuối (trước 14 giờ 00) gửi báo cáo"),
        "{text}"
    );
    assert!(text.contains("trước 14 giờ 00 hôm nay."), "{text}");
    let lines = unfold_ics(&part.leaf("text/calendar").text());
    assert!(
        lines.contains(&"DTSTART:20260622T070000Z".to_string()),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("DTEND")), "{lines:?}");
    // The alarms (3 days before and on the day, at 07:30) count from 14:00.
    assert!(
        lines.contains(&"TRIGGER:-P3DT6H30M".to_string()),
        "{lines:?}"
    );
    assert!(lines.contains(&"TRIGGER:-PT6H30M".to_string()), "{lines:?}");
    let description = lines
        .iter()
        .find_map(|l| l.strip_prefix("DESCRIPTION:"))
        .map(unescape_ics)
        .unwrap();
    assert!(
        description.contains("Thời hạn: trước 14 giờ 00 ngày thứ Hai, 22/06/2026"),
        "{description}"
    );
    let (part, _) = wire(&notice(NoticeKind::Overdue(d), "timed-late"));
    let text = part.leaf("text/plain").text();
    assert!(
        text.contains("là trước 14 giờ 00 ngày thứ Hai, 22/06/2026."),
        "{text}"
    );
}

/// A grouped overdue notice (a daily report late several days): the
/// subject counts the other periods, the body lists each with its due day
/// and days late, in both parts and both languages.
#[test]
fn a_grouped_overdue_notice_lists_the_other_late_periods() {
    let mut d = deadline("UBND huyện Nghĩa Hành");
    d.period = PeriodRef {
        key: "2026-02-12".into(),
        label: "ngày 12/02/2026".into(),
    };
    // Due Fri 13/2/2026; Tết 14–22/2; as of Wed 25/2: 12 days, 3 working days.
    d.due = date(2026, 2, 13);
    d.as_of = date(2026, 2, 25);
    d.also_late = vec![
        LatePeriod {
            period: PeriodRef {
                key: "2026-02-13".into(),
                label: "ngày 13/02/2026".into(),
            },
            due: date(2026, 2, 23),
            days_late: 2,
            working_days_late: 2,
        },
        LatePeriod {
            period: PeriodRef {
                key: "2026-02-23".into(),
                label: "ngày 23/02/2026".into(),
            },
            due: date(2026, 2, 24),
            days_late: 1,
            working_days_late: 1,
        },
    ];
    let (part, _) = wire(&notice(NoticeKind::Overdue(d.clone()), "grouped"));
    let subject = part.decoded("Subject").unwrap();
    assert!(
        subject.ends_with("kỳ ngày 12/02/2026 và 2 kỳ khác"),
        "{subject}"
    );
    let text = part.leaf("text/plain").text().replace("\r\n", "\n");
    assert!(
        text.contains(
            "Các kỳ sau của báo cáo này cũng đã quá hạn, chưa được ghi nhận là đã gửi:\n\
             - Kỳ ngày 13/02/2026: hạn thứ Hai, 23/02/2026, quá hạn 2 ngày (2 ngày làm việc)\n\
             - Kỳ ngày 23/02/2026: hạn thứ Ba, 24/02/2026, quá hạn 1 ngày (1 ngày làm việc)\n"
        ),
        "{text}"
    );
    let html = part.leaf("text/html").text();
    assert!(
        // The label is configuration-like text: escaped ('/' as &#x2f;).
        html.contains("<li>Kỳ ngày 23&#x2f;02&#x2f;2026: hạn thứ Ba, 24/02/2026, quá hạn 1 ngày"),
        "{html}"
    );
    let mut en = notice(NoticeKind::Overdue(d), "grouped-en");
    en.language = Language::En;
    let (part, _) = wire(&en);
    assert!(
        part.decoded("Subject").unwrap().ends_with(" and 2 more"),
        "{:?}",
        part.decoded("Subject")
    );
    let text = part.leaf("text/plain").text();
    assert!(
        text.contains("- ngày 23/02/2026: due Tuesday, 24/02/2026, 1 day late (1 working day)"),
        "{text}"
    );
}

#[test]
fn the_ics_attachment_parses_back() {
    let mut d = deadline("UBND huyện Nghĩa Hành");
    d.obligation.title =
        "Báo cáo tình hình kinh tế, xã hội; quốc phòng, an ninh \\ công tác chỉ đạo, điều hành của UBND các cấp".into();
    d.due = date(2026, 12, 31);
    let (part, _) = wire(&notice(NoticeKind::DueToday(d.clone()), "ics"));
    let cal = part.leaf("text/calendar");
    assert!(
        cal.content_type().contains("method=publish"),
        "{}",
        cal.content_type()
    );
    assert!(
        cal.header("Content-Disposition")
            .unwrap()
            .contains("attachment")
    );
    let ics = cal.text();
    assert!(ics.ends_with("\r\n"));
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    assert!(ics.contains("\r\n "), "the long DESCRIPTION is folded");
    let lines = unfold_ics(&ics);
    let get = |prefix: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("{prefix} in {lines:?}"))
            .to_string()
    };
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    assert_eq!(get("METHOD:"), "PUBLISH");
    // All-day on 31/12/2026; DTEND exclusive: 01/01/2027.
    assert_eq!(get("DTSTART;VALUE=DATE:"), "20261231");
    assert_eq!(get("DTEND;VALUE=DATE:"), "20270101");
    assert_eq!(get("DTSTAMP:"), "20260619T010000Z");
    assert_eq!(
        unescape_ics(&get("SUMMARY:")),
        "Hạn gửi Báo cáo NQ 121 kỳ 6 tháng đầu năm 2026"
    );
    let raw = get("DESCRIPTION:");
    assert!(
        raw.contains("xã hội\\; quốc phòng\\, an ninh \\\\ công tác"),
        "{raw}"
    );
    let description = unescape_ics(&raw);
    assert!(
        description.contains(&format!(
            "Đơn vị: UBND huyện Nghĩa Hành\nBáo cáo: {}\n",
            d.obligation.title
        )),
        "{description}"
    );
    assert!(
        description.contains("\nThời hạn: chậm nhất hết ngày thứ Năm, 31/12/2026"),
        "{description}"
    );
    // The alarms fire at the start of the sending hours: 3 days before at
    // 07:30 (2 days 16 h 30 min before 00:00 of the due day), and 07:30 on
    // the due day itself.
    let triggers: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("TRIGGER:"))
        .collect();
    assert_eq!(triggers, ["-P2DT16H30M", "PT7H30M"]);
    // An overdue notice has no date left to note: no calendar attachment.
    let (overdue, _) = wire(&notice(NoticeKind::Overdue(d.clone()), "ics-late"));
    assert!(
        overdue
            .leaves()
            .iter()
            .all(|p| !p.content_type().starts_with("text/calendar"))
    );

    // The UID is stable for (obligation, period, unit), whatever the kind or key.
    let uid = get("UID:");
    let (again, _) = wire(&notice(NoticeKind::Reminder(d.clone()), "other-key"));
    assert!(unfold_ics(&again.leaf("text/calendar").text()).contains(&format!("UID:{uid}")));
    let mut other_unit = d;
    other_unit.unit.id = "ubnd-tu-nghia".into();
    let (other, _) = wire(&notice(NoticeKind::Reminder(other_unit), "ics"));
    assert!(!unfold_ics(&other.leaf("text/calendar").text()).contains(&format!("UID:{uid}")));
}

#[test]
fn an_invalid_recipient_address_is_a_permanent_error() {
    let mut n = notice(NoticeKind::Test, "bad");
    n.recipients = vec![Addressee::new("not an address")];
    let err = composer().compose(&n).unwrap_err();
    let send: SendError = err.into();
    assert!(matches!(send, SendError::Permanent { .. }), "{send:?}");
    assert!(send.reason().contains("not an address"));
}

// ---------------------------------------------------------------------------
// File transport.

#[tokio::test]
async fn file_transport_writes_one_eml_per_message_and_overwrites_on_resend() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("outbox/mail");
    let mail = mail_config(Transport::File { dir: out.clone() });
    let mailer = Mailer::new(&mail).unwrap();
    let composer = Composer::new(&mail, Templates::builtin()).unwrap();
    let a = composer
        .compose(&notice(NoticeKind::Reminder(deadline("UBND")), "a"))
        .unwrap();
    let sent = mailer.send(&a).await.unwrap();
    assert_eq!(sent.message_id, a.message_id());
    mailer.send(&a).await.unwrap();
    let b = composer
        .compose(&notice(NoticeKind::Overdue(deadline("UBND")), "b"))
        .unwrap();
    mailer.send(&b).await.unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| f.ends_with(".hanbao.eml")));
    let path = Path::new(&sent.detail);
    let eml = std::fs::read_to_string(path).unwrap();
    let part = mime::Mail::parse(&eml);
    assert_eq!(part.header("Message-ID"), Some(a.message_id()));
    assert!(part.decoded("Subject").unwrap().starts_with("[Nhắc hạn] "));
}

// ---------------------------------------------------------------------------
// SMTP over real TCP.

async fn compose_for(mail: &Mail, key: &str) -> hanbao::mail::Outgoing {
    Composer::new(mail, Templates::builtin())
        .unwrap()
        .compose(&notice(
            NoticeKind::Reminder(deadline("UBND huyện Nghĩa Hành")),
            key,
        ))
        .unwrap()
}

#[tokio::test]
async fn smtp_delivers_to_a_real_server() {
    let sink = SmtpSink::start().await;
    let mail = smtp_config(sink.port());
    let mailer = Mailer::new(&mail).unwrap();
    let msg = compose_for(&mail, "one").await;
    let sent = mailer.send(&msg).await.unwrap();
    assert!(sent.detail.starts_with("250"), "{}", sent.detail);
    let got = sink.wait_for_messages(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].mail_from, "baocao@soldtbxh.quangngai.example");
    assert_eq!(got[0].rcpt_to, vec!["vanthu@nghiahanh.example".to_string()]);
    let part = mime::Mail::parse(&got[0].data);
    assert_eq!(part.header("Message-ID"), Some(msg.message_id()));
    assert!(
        part.leaf("text/plain")
            .text()
            .contains("Kính gửi: UBND huyện Nghĩa Hành")
    );
}

#[tokio::test]
async fn smtp_authenticates_with_a_password_from_a_file() {
    let sink = SmtpSink::start_with(SinkOptions {
        auth: Some(("hanbao".into(), "mật-khẩu s3cret".into())),
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("smtp-password");
    std::fs::write(&pw, "mật-khẩu s3cret\n").unwrap();
    let mut mail = smtp_config(sink.port());
    if let Transport::Smtp(s) = &mut mail.transport {
        s.username = Some("hanbao".into());
        s.password = Some(SecretSource::File(pw.clone()));
    }
    let mailer = Mailer::new(&mail).unwrap();
    assert!(!format!("{mailer:?}").contains("s3cret"), "{mailer:?}");
    assert!(format!("{mailer:?}").contains("***"), "{mailer:?}");
    mailer
        .send(&compose_for(&mail, "auth").await)
        .await
        .unwrap();
    let got = sink.wait_for_messages(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].auth_user.as_deref(), Some("hanbao"));

    // A wrong password: permanent (535), and the error does not carry it.
    std::fs::write(&pw, "wrong-s3cret\n").unwrap();
    let mailer = Mailer::new(&mail).unwrap();
    let err = mailer
        .send(&compose_for(&mail, "auth2").await)
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    assert!(err.reason().contains("535"), "{err}");
    for shown in [format!("{err}"), format!("{err:?}"), format!("{mailer:?}")] {
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}

#[tokio::test]
async fn smtp_4xx_is_transient_then_the_retry_succeeds() {
    let sink = SmtpSink::start().await;
    sink.fail_next_messages(1, 451, "4.3.0 mailbox busy, try later");
    let mail = smtp_config(sink.port());
    let mailer = Mailer::new(&mail).unwrap();
    let msg = compose_for(&mail, "4xx").await;
    let err = mailer.send(&msg).await.unwrap_err();
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");
    assert!(
        err.reason().contains("451") && err.reason().contains("try later"),
        "{err}"
    );
    mailer.send(&msg).await.unwrap();
    assert_eq!(
        sink.wait_for_messages(1, Duration::from_secs(5))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn smtp_5xx_for_a_recipient_is_permanent() {
    let sink = SmtpSink::start().await;
    sink.reject_recipient("vanthu@nghiahanh.example", 550, "5.1.1 mailbox unavailable");
    let mail = smtp_config(sink.port());
    let mailer = Mailer::new(&mail).unwrap();
    let err = mailer
        .send(&compose_for(&mail, "5xx").await)
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    assert!(
        err.reason().contains("550") && err.reason().contains("mailbox unavailable"),
        "{err}"
    );
    assert_eq!(sink.message_count(), 0);
}

#[tokio::test]
async fn smtp_server_down_is_transient_and_up_again_delivers() {
    let sink = SmtpSink::start().await;
    let mail = smtp_config(sink.port());
    let mailer = Mailer::new(&mail).unwrap();
    let msg = compose_for(&mail, "down").await;
    mailer.send(&msg).await.unwrap();
    sink.stop().await;
    let err = mailer.send(&msg).await.unwrap_err();
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");
    sink.restart().await;
    mailer.send(&msg).await.unwrap();
    assert_eq!(
        sink.wait_for_messages(2, Duration::from_secs(5))
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn smtp_dropped_connection_is_transient() {
    let sink = SmtpSink::start().await;
    sink.drop_next_connections(1);
    let mail = smtp_config(sink.port());
    let mailer = Mailer::new(&mail).unwrap();
    let msg = compose_for(&mail, "drop").await;
    let err = mailer.send(&msg).await.unwrap_err();
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");
    mailer.send(&msg).await.unwrap();
}

#[tokio::test]
async fn smtp_hung_server_times_out_as_transient_and_recovers() {
    let sink = SmtpSink::start().await;
    let mail = smtp_config(sink.port());
    let mailer = Mailer::new(&mail)
        .unwrap()
        .with_send_timeout(Duration::from_millis(700));
    let msg = compose_for(&mail, "hang").await;
    mailer.send(&msg).await.unwrap();
    sink.hang_next_messages(1);
    let started = std::time::Instant::now();
    let err = mailer.send(&msg).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");
    assert!(err.reason().contains("no answer"), "{err}");
    // The next send gets a fresh connection and goes through.
    mailer.send(&msg).await.unwrap();
    assert_eq!(
        sink.wait_for_messages(2, Duration::from_secs(5))
            .await
            .len(),
        2
    );
}

async fn pooled_sends(n: usize) -> (usize, usize, Vec<usize>) {
    let sink = SmtpSink::start().await;
    let mail = smtp_config(sink.port());
    let mailer = Mailer::new(&mail).unwrap();
    for i in 0..n {
        let msg = compose_for(&mail, &format!("pool-{i}")).await;
        mailer.send(&msg).await.unwrap();
    }
    let got = sink.wait_for_messages(n, Duration::from_secs(5)).await;
    (
        sink.connections(),
        mailer.connections_opened(),
        got.iter().map(|m| m.connection).collect(),
    )
}

#[tokio::test]
async fn smtp_pooling_reuses_one_connection() {
    let (connections, opened, used) = pooled_sends(20).await;
    assert_eq!(connections, 1, "20 sequential sends share one connection");
    assert_eq!(opened, 1);
    assert!(used.iter().all(|&c| c == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_pooling_reuses_one_connection_on_the_multi_thread_runtime() {
    // The connection is back in the pool before `send` returns, so this
    // does not depend on task scheduling.
    let (connections, opened, _) = pooled_sends(20).await;
    assert_eq!((connections, opened), (1, 1));
}

#[tokio::test]
async fn smtp_concurrent_sends_use_at_most_a_few_connections() {
    let sink = SmtpSink::start().await;
    let mail = smtp_config(sink.port());
    let mailer = std::sync::Arc::new(Mailer::new(&mail).unwrap());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12 {
        let mailer = mailer.clone();
        let msg = compose_for(&mail, &format!("conc-{i}")).await;
        tasks.spawn(async move { mailer.send(&msg).await });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    assert_eq!(
        sink.wait_for_messages(12, Duration::from_secs(5))
            .await
            .len(),
        12
    );
    assert!(sink.connections() <= 12);
    // Sequential sends afterwards reuse what the burst left in the pool.
    let before = sink.connections();
    for i in 0..5 {
        mailer
            .send(&compose_for(&mail, &format!("after-{i}")).await)
            .await
            .unwrap();
    }
    assert_eq!(sink.connections(), before);
}

#[tokio::test]
async fn smtp_a_pooled_connection_closed_by_the_server_is_replaced_transparently() {
    // lettre #743: the server drops an idle pooled connection; the next
    // send must not fail with "incomplete response" but use a new one.
    let sink = SmtpSink::start().await;
    let mail = smtp_config(sink.port());
    let mailer = Mailer::new(&mail).unwrap();
    mailer
        .send(&compose_for(&mail, "stale-1").await)
        .await
        .unwrap();
    sink.restart().await; // cuts every open connection, listens again
    mailer
        .send(&compose_for(&mail, "stale-2").await)
        .await
        .unwrap();
    assert_eq!(sink.connections(), 2);
    assert_eq!(mailer.connections_opened(), 2);
    assert_eq!(
        sink.wait_for_messages(2, Duration::from_secs(5))
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn plain_smtp_is_refused_for_a_remote_host() {
    let mut mail = smtp_config(25);
    if let Transport::Smtp(s) = &mut mail.transport {
        s.host = "mail.example.org".into();
    }
    let err = Mailer::new(&mail).unwrap_err();
    assert!(matches!(err, MailerError::PlainNotLoopback(_)), "{err:?}");
}

#[tokio::test]
async fn a_missing_password_names_its_source_and_nothing_else() {
    let mut mail = smtp_config(25);
    if let Transport::Smtp(s) = &mut mail.transport {
        s.username = Some("u".into());
        s.password = Some(SecretSource::Env("HANBAO_IT_UNSET_PASSWORD_VAR".into()));
    }
    let err = Mailer::new(&mail).unwrap_err();
    assert!(
        err.to_string().contains("HANBAO_IT_UNSET_PASSWORD_VAR"),
        "{err}"
    );
}

#[tokio::test]
async fn send_test_delivers_the_test_message() {
    let sink = SmtpSink::start().await;
    let mail = smtp_config(sink.port());
    let sent = send_test(&mail, "admin@soldtbxh.quangngai.example", now())
        .await
        .unwrap();
    let got = sink.wait_for_messages(1, Duration::from_secs(5)).await;
    let part = mime::Mail::parse(&got[0].data);
    assert_eq!(part.header("Message-ID"), Some(sent.message_id.as_str()));
    assert_eq!(
        part.decoded("Subject").unwrap(),
        "[Thử nghiệm] Kiểm tra cấu hình gửi thư của hanbao"
    );
    assert!(part.leaf("text/plain").text().contains("hanbao send-test"));

    let err = send_test(&smtp_config(sink.port()), "not an address", now())
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
}

/// A real MIME parser (Stalwart's mail-parser, `support::mime`) reads the
/// messages of a simulated national year without a defect: the national
/// configuration of `testkit::national` cut to one province (its
/// People's Committee, 20 departments, about 100 communes, the 20
/// obligations), the first quarter of 2026 through the real pipeline, every
/// 5th message and the first of each kind parsed from the .eml bytes,
/// its decoded subject and recipient compared with what the dispatcher
/// sent. The whole national year (1M messages) is read the same way by
/// `cargo bench --bench mime_oracle` (BENCHMARKS.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_mime_parser_reads_a_sample_of_a_national_year() {
    use hanbao::calendar::WorkCalendar;
    use std::collections::BTreeMap;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("national.toml");
    std::fs::write(&path, testkit::national::generate()).unwrap();
    let mut cfg = hanbao::config::load(&path).unwrap().config;
    let keep = |id: &str| id == "chinh-phu" || id.ends_with("-t00") || id.contains("-t00-");
    cfg.units.retain(|u| keep(&u.id));
    for ob in &mut cfg.obligations {
        ob.reporters.retain(|r| keep(r));
    }
    cfg.mail.transport = Transport::File {
        dir: dir.path().join("mail"),
    };
    let cal = WorkCalendar::new(&cfg.calendar);
    let composer = hanbao::outbox::composer(&cfg).unwrap();
    let mailer = Mailer::new(&cfg.mail).unwrap();
    let store = hanbao::store::open(&format!("sqlite://{}/s.db", dir.path().display()))
        .await
        .unwrap();
    let (from, to) = (date(2026, 1, 1), date(2026, 3, 31));
    let digests = hanbao::commands::simulate::digest_instants(&cfg, from, to).unwrap();
    let mut seen = 0usize;
    let mut read: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut defects: Vec<String> = Vec::new();
    let mut each = |m: hanbao::outbox::SentMessage| {
        seen += 1;
        let first_of_kind = !read.contains_key(m.kind);
        if first_of_kind || seen % 5 == 0 {
            let bytes = std::fs::read(&m.detail).unwrap();
            match crate::support::mime::read(&bytes) {
                Ok(r) => {
                    *read.entry(m.kind).or_default() += 1;
                    if r.subject != m.subject || r.to[0].1 != m.recipients[0] {
                        defects.push(format!(
                            "{}: read back as {:?} to {:?}",
                            m.message_id, r.subject, r.to
                        ));
                    }
                    if r.message_id != m.message_id.trim_matches(['<', '>']) {
                        defects.push(format!("{}: Message-ID {:?}", m.message_id, r.message_id));
                    }
                }
                Err(d) => defects.push(format!("{} ({}): {d:?}", m.message_id, m.kind)),
            }
        }
        let _ = std::fs::remove_file(&m.detail);
    };
    hanbao::outbox::simulate::simulate(
        &store,
        &cfg,
        &cal,
        &composer,
        &mailer,
        from,
        to,
        vec![],
        &digests,
        &mut each,
    )
    .await
    .unwrap();
    assert!(
        defects.is_empty(),
        "{} defects: {defects:#?}",
        defects.len()
    );
    for kind in ["reminder", "due_today", "overdue", "escalation", "digest"] {
        assert!(
            read.get(kind).is_some_and(|n| *n > 0),
            "no {kind} read: {read:?}"
        );
    }
    assert!(seen > 3000, "{seen} messages");
    println!("{seen} messages, read back: {read:?}");
}

/// Where the end-to-end screenshots go: `target/e2e/mail/`.
fn e2e_mail_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("e2e").join("mail");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every notice of `support::notices` (each kind for each reader, both
/// languages, and the two acknowledgements) as a reader's mail program
/// shows its HTML part: rendered in
/// headless Chromium at 1366 px (a desktop) and 390 px (a phone), saved as
/// `target/e2e/mail/{vi,en}-{kind}-{reader}-{1366,390}.png` next to the
/// HTML. At both widths nothing runs off the right edge (no horizontal
/// scrolling), the text is at least 14 px, the confirmation button (in
/// the notices to a unit) is on the page, and the page says who speaks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_render_in_headless_chromium() {
    use crate::support::browser::Browser;
    use crate::support::{mime, notices};
    let out = e2e_mail_dir();
    let mut pages = Vec::new();
    for language in [Language::Vi, Language::En] {
        let dir = tempfile::tempdir().unwrap();
        let mut samples = notices::samples(dir.path(), language).await;
        samples.extend(notices::acknowledgements(dir.path(), language).await);
        for s in samples {
            let read = mime::read(&s.eml).unwrap();
            let path = out.join(format!("{}-{}.html", language.code(), s.name));
            std::fs::write(&path, &read.html).unwrap();
            // The notices with the confirmation (or upload) button.
            let unit_notice = [
                "reminder",
                "due_today",
                "overdue",
                "acknowledgement-too-big",
            ]
            .iter()
            .any(|k| s.name.starts_with(k));
            pages.push((path, unit_notice));
        }
    }
    let checked = tokio::task::spawn_blocking(move || {
        let b = Browser::start();
        let mut shots = 0;
        for (path, unit_notice) in &pages {
            b.goto(&format!("file://{}", path.display()));
            for width in [1366u32, 390] {
                // As tall as the page, so the screenshot holds all of it.
                b.set_window(width, 800);
                let tall = b.script("return document.documentElement.scrollHeight;");
                let height = tall.as_u64().unwrap_or(800) as u32 + 160;
                b.set_window(width, height);
                let fits = b.script(
                    "return document.documentElement.scrollWidth <= document.documentElement.clientWidth;",
                );
                assert_eq!(fits, serde_json::json!(true), "{} overflows at {width} px", path.display());
                let px = b.script(
                    "return parseFloat(getComputedStyle(document.querySelector('p')).fontSize);",
                );
                assert!(px.as_f64().unwrap() >= 14.0, "{}: text at {px} px", path.display());
                let png = b.screenshot();
                assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
                std::fs::write(path.with_extension(format!("{width}.png")), &png).unwrap();
                shots += 1;
            }
            if *unit_notice {
                assert_eq!(b.count("a[href*='/confirm?']"), 1, "{}", path.display());
            }
            assert!(
                b.text(&b.find("body")).contains("Sở Lao động - Thương binh và Xã hội"),
                "{}",
                path.display()
            );
        }
        shots
    })
    .await
    .unwrap();
    assert_eq!(
        checked, 68,
        "15 notices and 2 acknowledgements x 2 languages x 2 widths"
    );
}

/// The grouping of a daily report's late days, as the digest and the
/// escalations do it (`group_short_periods`): seven per-day standings of
/// one report (9–13/2 and 23–24/2/2026, around Tết 14–22/2) become one,
/// each late unit once with its periods; a monthly report beside it stays
/// as it is. Rendered in English and Vietnamese, to a supervisor and to
/// the head of the late unit.
#[test]
fn an_escalation_groups_a_daily_reports_late_days_per_unit() {
    use hanbao::mail::group_short_periods;
    let day = |m: i8, d: i8| PeriodRef {
        key: format!("2026-{m:02}-{d:02}"),
        label: format!("ngày {d:02}/{m:02}/2026"),
    };
    // (period, its due day, days and working days late on Thu 26/2).
    let days = [
        (day(2, 9), date(2026, 2, 10), 16, 7),
        (day(2, 10), date(2026, 2, 11), 15, 6),
        (day(2, 11), date(2026, 2, 12), 14, 5),
        (day(2, 12), date(2026, 2, 13), 13, 4),
        (day(2, 13), date(2026, 2, 23), 3, 3),
        (day(2, 23), date(2026, 2, 24), 2, 2),
        (day(2, 24), date(2026, 2, 25), 1, 1),
    ];
    let mut daily = obligation();
    daily.id = "bc-ngay".into();
    daily.title = "Báo cáo nhanh trong ngày".into();
    daily.short = "Báo cáo nhanh".into();
    let mut items: Vec<(Role, Standing)> = Vec::new();
    // Newest first, to show the grouping sorts by period.
    for (p, due, d, w) in days.iter().rev().cloned() {
        let mut late_a = late("UBND xã A", d);
        late_a.due = due;
        late_a.working_days_late = w;
        let mut st = standing(vec![late_a]);
        st.obligation = daily.clone();
        st.period = p.clone();
        st.due = due;
        (st.expected, st.submitted, st.submitted_late, st.waived) = (2, 1, 0, 0);
        if p.key == "2026-02-24" {
            let mut late_b = late("UBND xã B", 1);
            late_b.due = due;
            st.late.push(late_b);
            st.submitted = 0;
        }
        items.push((Role::Supervisor, st));
    }
    items.insert(3, (Role::Supervisor, standing(vec![late("UBND xã C", 4)])));
    let grouped = group_short_periods(items, |id| id == "bc-ngay");
    assert_eq!(grouped.len(), 2);
    assert_eq!(grouped[0].2, [7, 6, 5, 4, 2, 1, 0], "made of, oldest first");
    assert_eq!(grouped[1].1, standing(vec![late("UBND xã C", 4)]));
    let st = grouped[0].1.clone();
    assert_eq!(st.period.key, "2026-02-09");
    assert_eq!((st.expected, st.submitted), (14, 6));
    assert_eq!(st.late_count(), 8);
    let mut esc = escalation(vec![]);
    esc.as_of = date(2026, 2, 26);
    esc.sections[0].standing = st.clone();

    let mut n = notice(NoticeKind::Escalation(esc.clone()), "grouped-esc");
    n.language = Language::En;
    let (part, _) = wire(&n);
    let subject = part.decoded("Subject").unwrap();
    assert_eq!(
        subject,
        "[Status] 2 units have not sent Báo cáo nhanh, 7 periods from ngày 09/02/2026"
    );
    let text = part.leaf("text/plain").text().replace("\r\n", "\n");
    for want in [
        "1. Báo cáo nhanh trong ngày, 7 periods from ngày 09/02/2026 to ngày 24/02/2026\n",
        "Received 6 of 14 reports (6 on time). Not sent by the agencies under you (2):\n",
        "   - UBND xã A: 7 periods not sent (since ngày 09/02/2026), the oldest 16 days late (7 working days)\n",
        "   - UBND xã B: 1 period not sent (for ngày 24/02/2026), 1 day late (1 working day)\n",
    ] {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }
    let (part, _) = wire(&notice(
        NoticeKind::Escalation(esc.clone()),
        "grouped-esc-vi",
    ));
    let html = part.leaf("text/html").text();
    assert!(
        html.contains("7 kỳ, từ ngày 09&#x2f;02&#x2f;2026 đến ngày 24&#x2f;02&#x2f;2026"),
        "{html}"
    );
    assert!(
        html.contains("UBND xã A: 7 kỳ chưa gửi (từ kỳ ngày 09&#x2f;02&#x2f;2026), lâu nhất quá hạn 16 ngày (7 ngày làm việc)"),
        "{html}"
    );

    // To the head of commune A, about his own unit.
    esc.sections[0].role = Role::Head;
    esc.register = Register::Peer;
    esc.sections[0].standing.late.truncate(1);
    let (part, _) = wire(&notice(NoticeKind::Escalation(esc), "grouped-head"));
    assert_eq!(
        part.decoded("Subject").unwrap(),
        "[Đôn đốc] Quá hạn Báo cáo nhanh, 7 kỳ từ ngày 09/02/2026"
    );
    let text = part.leaf("text/plain").text().replace("\r\n", "\n");
    assert!(
        text.contains(
            "UBND xã A chưa gửi báo cáo của 7 kỳ (từ kỳ ngày 09/02/2026); đến ngày 26/02/2026, kỳ lâu nhất đã quá hạn 16 ngày (7 ngày làm việc)."
        ),
        "{text}"
    );
}
