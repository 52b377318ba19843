//! Sample notices of every kind, register and reason, in both languages,
//! signed with a fixed public sample key: what `check_templates` renders so
//! a template that fails on any branch shows in `hanbao check`. Data only:
//! no templates, no clock, no network.

use jiff::Timestamp;

use super::notice::{
    AckFile, AckOutcome, Acknowledgement, Addressee, Deadline, Digest, Escalation, Language,
    LatePeriod, LateUnit, Notice, NoticeKind, ObligationRef, PastNotice, PeriodRef, PeriodSpan,
    Register, Role, Section, Speaker, Standing, TimeOfDay, UnitRef,
};

/// Links signed with a fixed, public sample key: only for [`sample_notices`]
/// (a template that mangles a long URL with `&` shows up in `hanbao check`).
fn sample_links() -> crate::link::Links {
    let key =
        crate::link::LinkKey::new(b"hanbao-sample-key-not-a-secret!!".to_vec()).expect("32 bytes");
    crate::link::Links::new(
        "https://baocao.example.gov.vn/hanbao",
        key,
        jiff::tz::TimeZone::fixed(jiff::tz::offset(7)),
    )
}

/// The speaker of the samples: every part configured.
fn sample_speaker() -> Speaker {
    Speaker {
        agency: "Sở Mẫu".into(),
        office: Some("Phòng Mẫu".into()),
        contact: Some(super::notice::Contact {
            name: "Bà Nguyễn Thị Mẫu".into(),
            title: Some("Chuyên viên Phòng Mẫu".into()),
            phone: Some("0255 3000 000".into()),
            email: Some("mau@so.example".into()),
        }),
        submit_to: Some("Sở Mẫu (Phòng Mẫu)".into()),
        submit_how: Some("văn bản điện tử".into()),
        basis: Some(super::notice::Basis {
            kind: "Công văn".into(),
            number: "1/UBND-MAU".into(),
            date: jiff::civil::date(2020, 8, 28),
            issuer: "UBND tỉnh Mẫu".into(),
            about: Some("báo cáo mẫu".into()),
        }),
    }
}

/// Sample notices of every kind, every register and every reason an
/// escalation is sent, in both languages, with everything filled in and
/// with nothing optional: what [`check_templates`] renders, so a template
/// that fails on any branch shows in `hanbao check`.
pub fn sample_notices(now: Timestamp) -> Vec<Notice> {
    let obligation = ObligationRef {
        id: "mau-6thang".into(),
        title: "Báo cáo công tác 6 tháng".into(),
        short: "Báo cáo công tác".into(),
        legal_basis: Some("Nghị định 09/2019/NĐ-CP, Điều 12".into()),
    };
    let period = PeriodRef {
        key: "2026-H1".into(),
        label: "6 tháng đầu năm 2026".into(),
    };
    let due = jiff::civil::date(2026, 6, 22);
    let unit = UnitRef {
        id: "ubnd-xa-mau".into(),
        name: "UBND xã Mẫu".into(),
    };
    let sent = |y, m, d| PastNotice {
        kind: "reminder",
        on: jiff::civil::date(y, m, d),
        to: None,
    };
    let late = LateUnit {
        unit: unit.clone(),
        due,
        days_late: 2,
        working_days_late: 2,
        notices: vec![sent(2026, 6, 15), sent(2026, 6, 19)],
        periods: vec![],
    };
    let standing = Standing {
        obligation: obligation.clone(),
        period: period.clone(),
        due,
        expected: 5,
        submitted: 3,
        submitted_late: 1,
        waived: 0,
        late: vec![late.clone()],
        span: None,
    };
    let mut full = Deadline::new(obligation.clone(), period.clone(), unit.clone(), due);
    full.as_of = jiff::civil::date(2026, 6, 24);
    full.days_left = 3;
    full.working_days_left = 3;
    full.days_late = 2;
    full.working_days_late = 2;
    full.stage = 2;
    full.speaker = sample_speaker();
    full.recipient_name = Some("UBND tỉnh Mẫu".into());
    full.dependencies = vec![standing.clone()];
    full.history = vec![sent(2026, 6, 15), sent(2026, 6, 19)];
    full.informed = vec![PastNotice {
        kind: "escalation",
        on: jiff::civil::date(2026, 6, 23),
        to: Some("UBND tỉnh Mẫu".into()),
    }];
    full.informing = vec!["Giám đốc Sở Mẫu".into()];
    full.confirm_url =
        Some(sample_links().confirm_url(&obligation.id, &period.key, &unit.id, due, now));
    full.alarms = vec![-3 * 1440 + 450, 450];
    // A deadline at 14:00 (07:00 UTC), and two more late periods grouped in.
    full.due_time = Some(TimeOfDay {
        local: jiff::civil::Time::constant(14, 0, 0, 0),
        instant: jiff::tz::TimeZone::UTC
            .to_timestamp(due.to_datetime(jiff::civil::Time::constant(7, 0, 0, 0)))
            .unwrap_or(now),
    });
    full.also_late = vec![LatePeriod {
        period: PeriodRef {
            key: "2026-H2".into(),
            label: "6 tháng cuối năm 2026".into(),
        },
        due,
        days_late: 1,
        working_days_late: 1,
    }];
    let mut bare = Deadline::new(obligation.clone(), period.clone(), unit.clone(), due);
    bare.speaker.agency = "Sở Mẫu".into();
    bare.stage = 1;
    let mut kinds = Vec::new();
    for register in [Register::Peer, Register::Upward, Register::Internal] {
        let d = Deadline {
            register,
            ..full.clone()
        };
        kinds.push(NoticeKind::Reminder(d.clone()));
        kinds.push(NoticeKind::DueToday(d.clone()));
        kinds.push(NoticeKind::Overdue(d));
    }
    kinds.push(NoticeKind::Reminder(bare.clone()));
    kinds.push(NoticeKind::DueToday(bare.clone()));
    kinds.push(NoticeKind::Overdue(bare));
    let section = |role| Section {
        role,
        standing: standing.clone(),
        recipient_name: Some("UBND tỉnh Mẫu".into()),
        dependencies: vec![standing.clone()],
    };
    for register in [Register::Peer, Register::Upward, Register::Internal] {
        for roles in [
            vec![Role::Head],
            vec![Role::Supervisor],
            vec![Role::Recipient],
            vec![Role::Address],
            vec![Role::Supervisor, Role::Recipient],
        ] {
            kinds.push(NoticeKind::Escalation(Escalation {
                speaker: sample_speaker(),
                addressee: "UBND tỉnh Mẫu".into(),
                register,
                as_of: jiff::civil::date(2026, 6, 24),
                sections: roles.into_iter().map(section).collect(),
            }));
        }
    }
    kinds.push(NoticeKind::Escalation(Escalation {
        speaker: Speaker {
            agency: "Sở Mẫu".into(),
            ..Speaker::default()
        },
        addressee: "theodoi@so.example".into(),
        register: Register::Peer,
        as_of: due,
        sections: vec![Section {
            role: Role::Address,
            standing: standing.clone(),
            recipient_name: None,
            dependencies: vec![],
        }],
    }));
    // A daily report late for several days: one section, one line per unit.
    let grouped = sample_grouped(&standing);
    for roles in [
        vec![Role::Head],
        vec![Role::Supervisor],
        vec![Role::Supervisor, Role::Recipient],
    ] {
        kinds.push(NoticeKind::Escalation(Escalation {
            speaker: sample_speaker(),
            addressee: "UBND tỉnh Mẫu".into(),
            register: Register::Peer,
            as_of: due,
            sections: roles
                .into_iter()
                .map(|role| Section {
                    role,
                    standing: grouped.clone(),
                    recipient_name: Some("UBND tỉnh Mẫu".into()),
                    dependencies: vec![],
                })
                .collect(),
        }));
    }
    let [mut with_daily, _] = sample_digests(&standing, due);
    with_daily.upcoming.insert(
        0,
        Standing {
            late: vec![],
            ..grouped.clone()
        },
    );
    with_daily.overdue.insert(0, grouped);
    kinds.push(NoticeKind::Digest(with_daily));
    kinds.extend(sample_digests(&standing, due).map(NoticeKind::Digest));
    kinds.extend(sample_acknowledgements(&obligation, &period, &unit));
    kinds.push(NoticeKind::Test);
    let mut out = Vec::new();
    for language in [Language::Vi, Language::En] {
        for (i, kind) in kinds.iter().enumerate() {
            out.push(Notice {
                kind: kind.clone(),
                language,
                recipients: vec![Addressee::named("vanthu@xa.example", "Văn thư")],
                outbox_key: format!("sample|{}|{}|{i}", language.code(), kind.name()),
                sent_at: now,
            });
        }
    }
    out
}

/// A daily report's three late days grouped: one unit late for all three,
/// one for the last only.
fn sample_grouped(standing: &Standing) -> Standing {
    let day = |d: i8| PeriodRef {
        key: format!("2026-06-{d:02}"),
        label: format!("ngày {d:02}/06/2026"),
    };
    let mut first = standing.late[0].clone();
    first.periods = vec![day(17), day(18), day(19)];
    first.days_late = 5;
    first.working_days_late = 3;
    let other = LateUnit {
        unit: UnitRef {
            id: "ubnd-xa-khac".into(),
            name: "UBND xã Khác".into(),
        },
        periods: vec![day(19)],
        notices: vec![],
        ..first.clone()
    };
    Standing {
        period: day(17),
        expected: 6,
        submitted: 2,
        submitted_late: 1,
        waived: 0,
        late: vec![first, other],
        span: Some(PeriodSpan {
            first: day(17),
            last: day(19),
            count: 3,
        }),
        ..standing.clone()
    }
}

/// The digests of the samples: one with everything, one with nothing.
fn sample_digests(standing: &Standing, due: jiff::civil::Date) -> [Digest; 2] {
    [
        Digest {
            as_of: due,
            speaker: sample_speaker(),
            coordinator: Some("Bà Nguyễn Thị Mẫu".into()),
            overdue: vec![standing.clone()],
            upcoming: vec![Standing {
                late: vec![],
                waived: 1,
                ..standing.clone()
            }],
            failed_sends: vec![super::notice::FailedSend {
                recipient: "vanthu@xa.example".into(),
                kind: "overdue".into(),
                unit_name: "UBND xã Mẫu".into(),
                obligation: standing.obligation.clone(),
                period: standing.period.clone(),
                on: due,
                reason: "550 5.1.1 mailbox unavailable".into(),
            }],
            dashboard_url: Some("https://baocao.example.gov.vn/hanbao/dashboard".into()),
        },
        Digest {
            as_of: due,
            speaker: Speaker::default(),
            coordinator: None,
            overdue: vec![],
            upcoming: vec![],
            failed_sends: vec![],
            dashboard_url: None,
        },
    ]
}

/// Acknowledgements of every outcome: recorded (with and without a
/// document number, new and added to an earlier one), too big, too many.
fn sample_acknowledgements(
    obligation: &ObligationRef,
    period: &PeriodRef,
    unit: &UnitRef,
) -> Vec<NoticeKind> {
    let at = jiff::civil::date(2026, 6, 18).at(9, 5, 0, 0);
    let ack = |outcome, files: Vec<AckFile>, register| {
        NoticeKind::Acknowledgement(Acknowledgement {
            obligation: obligation.clone(),
            period: period.clone(),
            unit: unit.clone(),
            speaker: sample_speaker(),
            register,
            sender: "vanthu@xa.example".into(),
            processed_at: at,
            outcome,
            files,
            confirm_url: Some(sample_links().confirm_url(
                &obligation.id,
                &period.key,
                &unit.id,
                jiff::civil::date(2026, 6, 22),
                "2026-06-18T02:05:00Z".parse().expect("valid instant"),
            )),
        })
    };
    let files = vec![
        AckFile {
            name: "Báo cáo 6 tháng.pdf".into(),
            size: "1,2 MB".into(),
        },
        AckFile {
            name: "Phụ lục.xlsx".into(),
            size: "45,2 KB".into(),
        },
    ];
    let recorded = |reference: Option<&str>, earlier| AckOutcome::Recorded {
        received_on: jiff::civil::date(2026, 6, 18),
        reference: reference.map(String::from),
        recorded_at: at,
        earlier,
    };
    vec![
        ack(
            recorded(Some("45/BC-UBND"), false),
            files.clone(),
            Register::Peer,
        ),
        ack(recorded(None, true), files.clone(), Register::Internal),
        ack(
            AckOutcome::TooBig {
                file_max_mb: 25,
                message_max_mb: 25,
            },
            vec![],
            Register::Upward,
        ),
        ack(AckOutcome::TooMany { max: 10 }, vec![], Register::Peer),
    ]
}
