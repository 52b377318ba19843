//! Two seasons of the sample directive in which every kind of notice goes
//! to every kind of reader: the source of the golden texts (`golden.rs`)
//! and of the screenshots (`mail.rs`).
//!
//! The sample (`config/quang-ngai-4040.toml`, its `[[directive]]` filled
//! in) with a deployment's `[mail]` and `[daemon]` (a public URL and a
//! fixed link key, so confirmation links are in and stable), and three
//! additions so that no reader is missing: Sở Tư pháp has a head, the
//! second escalation stage of the half-year report also notifies the head
//! and a fixed address, and the district report to the People's Council
//! also notifies its recipient (the council). Sở Y tế sends its report on
//! time (15/06), Sở Nội vụ late (22/06). The seasons run through the real
//! pipeline (`outbox::simulate`, file transport): 08/06–15/07/2026 and
//! 01/12–15/12/2026.
//!
//! Test-only: it must not be used outside the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use hanbao::calendar::WorkCalendar;
use hanbao::config::model::{Config, EscalationTarget, Language, Person, Transport};
use hanbao::mail::Mailer;
use hanbao::outbox::SentMessage;
use hanbao::store::{Key, NewSubmission, Source};
use jiff::civil::{Date, date};

/// One chosen message: its name (`kind-reader`) and its bytes.
pub struct Sample {
    pub name: &'static str,
    pub eml: Vec<u8>,
}

/// A message's name, kind, recipient (the start of its address) and the
/// local day it goes out (year, month, day).
type Choice = (&'static str, &'static str, &'static str, (i16, i8, i8));

/// Which message stands for which kind and reader.
pub const CHOSEN: [Choice; 15] = [
    (
        "reminder-unit",
        "reminder",
        "vanthu@sotuphap",
        (2026, 6, 11),
    ),
    (
        "due_today-unit",
        "due_today",
        "vanthu@sotuphap",
        (2026, 6, 18),
    ),
    (
        "overdue-unit-first",
        "overdue",
        "vanthu@sotuphap",
        (2026, 6, 19),
    ),
    (
        "overdue-unit-later",
        "overdue",
        "vanthu@sotuphap",
        (2026, 6, 25),
    ),
    (
        "reminder-compiler",
        "reminder",
        "vanthu@soldtbxh",
        (2026, 7, 2),
    ),
    (
        "due_today-compiler",
        "due_today",
        "vanthu@soldtbxh",
        (2026, 7, 7),
    ),
    (
        "overdue-compiler",
        "overdue",
        "vanthu@soldtbxh",
        (2026, 7, 8),
    ),
    (
        "escalation-head",
        "escalation",
        "giamdoc@sotuphap",
        (2026, 6, 23),
    ),
    (
        "escalation-head-of-the-agency",
        "escalation",
        "giamdoc@soldtbxh",
        (2026, 7, 8),
    ),
    (
        "escalation-supervisor",
        "escalation",
        "vanthu@ubnd.quangngai",
        (2026, 6, 25),
    ),
    (
        "escalation-recipient-the-agency",
        "escalation",
        "vanthu@soldtbxh",
        (2026, 6, 23),
    ),
    (
        "escalation-recipient-council",
        "escalation",
        "hdnd@binhson",
        (2026, 12, 11),
    ),
    (
        "escalation-address",
        "escalation",
        "theodoi@ubnd",
        (2026, 6, 23),
    ),
    ("digest", "digest", "treem@soldtbxh", (2026, 6, 22)),
    (
        "reminder-district",
        "reminder",
        "vanthu@binhson",
        (2026, 11, 26),
    ),
];

/// The scenario's configuration (see the module doc), writing .eml files
/// to `dir/mail` with its state (the link key) in `dir/state`.
pub fn config(dir: &Path, language: Language) -> Config {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cfg = hanbao::config::load(&root.join("config/quang-ngai-4040.toml"))
        .expect("the sample loads")
        .config;
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("link.key"), b"hanbao-golden-key-not-a-secret!!").unwrap();
    cfg.daemon.state_dir = state;
    cfg.daemon.public_url = Some("https://baocao.quangngai.example".into());
    cfg.mail.from = "Sở LĐ-TB&XH Quảng Ngãi <baocao@soldtbxh.quangngai.example>".into();
    cfg.mail.reply_to =
        Some("Phòng Trẻ em - Bình đẳng giới <treem@soldtbxh.quangngai.example>".into());
    cfg.mail.language = language;
    cfg.mail.transport = Transport::File {
        dir: dir.join("mail"),
    };
    let tuphap = cfg.units.iter_mut().find(|u| u.id == "so-tuphap").unwrap();
    tuphap.head = Some(Person {
        name: "Giám đốc Sở Tư pháp".into(),
        email: "giamdoc@sotuphap.quangngai.example".into(),
    });
    let half = cfg
        .obligations
        .iter_mut()
        .find(|o| o.id == "nq121-6thang")
        .unwrap();
    half.escalation[1].notify.push(EscalationTarget::Head);
    half.escalation[1].notify.push(EscalationTarget::Address(
        "theodoi@ubnd.quangngai.example".into(),
    ));
    let council = cfg
        .obligations
        .iter_mut()
        .find(|o| o.id == "luattreem-hdnd-nam")
        .unwrap();
    council.escalation[0]
        .notify
        .push(EscalationTarget::Recipient);
    cfg
}

fn submission(unit: &str, on: Date) -> NewSubmission {
    NewSubmission {
        key: Key::new("nq121-6thang", "2026-H1", unit),
        received_on: on,
        received_at: None,
        reference: None,
        note: None,
        actor: "test".into(),
        source: Source::Cli,
        correction: false,
    }
}

/// Every message of the two seasons, in sending order, with the .eml path.
pub async fn seasons(dir: &Path, language: Language) -> Vec<(SentMessage, PathBuf)> {
    let cfg = config(dir, language);
    let cal = WorkCalendar::new(&cfg.calendar);
    let composer = hanbao::outbox::composer(&cfg).unwrap();
    let mailer = Mailer::new(&cfg.mail).unwrap();
    let mut out = Vec::new();
    for (i, (from, to)) in [
        (date(2026, 6, 8), date(2026, 7, 15)),
        (date(2026, 11, 20), date(2026, 12, 15)),
    ]
    .into_iter()
    .enumerate()
    {
        let store = hanbao::store::open(&format!("sqlite://{}/season{i}.db", dir.display()))
            .await
            .unwrap();
        let digests = hanbao::commands::simulate::digest_instants(&cfg, from, to).unwrap();
        let mut sent = Vec::new();
        hanbao::outbox::simulate::simulate(
            &store,
            &cfg,
            &cal,
            &composer,
            &mailer,
            from,
            to,
            vec![
                submission("so-yte", date(2026, 6, 15)),
                submission("so-noivu", date(2026, 6, 22)),
            ],
            &digests,
            &mut |m| sent.push(m),
        )
        .await
        .unwrap();
        out.extend(sent.into_iter().map(|m| {
            let path = PathBuf::from(&m.detail);
            (m, path)
        }));
    }
    out
}

/// The messages of [`CHOSEN`], in that order.
pub async fn samples(dir: &Path, language: Language) -> Vec<Sample> {
    let all = seasons(dir, language).await;
    let tz = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
    CHOSEN
        .iter()
        .map(|(name, kind, to, (y, m, d))| {
            let day = date(*y, *m, *d);
            let (_, path) = all
                .iter()
                .find(|(s, _)| {
                    s.kind == *kind
                        && s.recipients.iter().any(|r| r.starts_with(to))
                        && tz.to_datetime(s.sent_at).date() == day
                })
                .unwrap_or_else(|| panic!("no {kind} to {to} on {day}"));
            Sample {
                name,
                eml: std::fs::read(path).unwrap(),
            }
        })
        .collect()
}

/// The two acknowledgements of a reply by email, through the store and
/// the dispatcher of the same deployment: Sở Tư pháp's reply recorded
/// with its two files and its document number, and Sở Nội vụ's refused
/// for its size. Named `acknowledgement-recorded` and
/// `acknowledgement-too-big`.
pub async fn acknowledgements(dir: &Path, language: Language) -> Vec<Sample> {
    use hanbao::outbox::Dispatcher;
    use hanbao::store::{
        FileSource, Intake, IntakeAck, IntakeMessage, IntakeOutcome, IntakeWrite, NewFile,
    };
    let cfg = config(dir, language);
    let cal = WorkCalendar::new(&cfg.calendar);
    let composer = hanbao::outbox::composer(&cfg).unwrap();
    let mailer = Mailer::new(&cfg.mail).unwrap();
    let store = hanbao::store::open(&format!("sqlite://{}/acks.db", dir.display()))
        .await
        .unwrap();
    // Tuesday 16/06/2026, 09:05 in Quảng Ngãi.
    let at: jiff::Timestamp = "2026-06-16T02:05:00Z".parse().unwrap();
    let message = |uid: u32, sender: &str| IntakeMessage {
        mailbox: "INBOX".into(),
        uid_validity: 1,
        uid,
        message_id: Some(format!("reply-{uid}@quangngai.example")),
        sender: sender.into(),
        subject: "Re: [Nhắc hạn] Báo cáo thực hiện NQ 121/2020/QH14".into(),
        sent_at: Some(at),
    };
    let due = date(2026, 6, 18);
    let tuphap = "vanthu@sotuphap.quangngai.example";
    let key = Key::new("nq121-6thang", "2026-H1", "so-tuphap");
    let files = [
        ("Báo cáo 6 tháng đầu năm 2026.pdf", 1_258_291),
        ("Phụ lục số liệu.xlsx", 46_285),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (name, size))| NewFile {
        key: key.clone(),
        sha256: format!("{:064x}", i + 1),
        name: name.into(),
        media_type: "application/octet-stream".into(),
        size,
        source: FileSource::Email,
        sender: tuphap.into(),
        received_at: at,
        event_id: None,
    })
    .collect();
    let recorded = IntakeWrite {
        outcome: IntakeOutcome::Submission(NewSubmission {
            key: key.clone(),
            received_on: date(2026, 6, 16),
            received_at: Some(at),
            reference: Some("112/BC-STP".into()),
            note: None,
            actor: format!("email:{tuphap}"),
            source: Source::Email,
            correction: false,
        }),
        files,
        ack: Some(IntakeAck {
            recipient: tuphap.into(),
            due_on: due,
        }),
    };
    store
        .intake_record(&message(1, tuphap), recorded, at)
        .await
        .unwrap();
    let noivu = "vanthu@sonoivu.quangngai.example";
    let too_big = IntakeWrite {
        outcome: IntakeOutcome::Refused {
            reason: "too_big".into(),
            key: Some(Key::new("nq121-6thang", "2026-H1", "so-noivu")),
        },
        files: Vec::new(),
        ack: Some(IntakeAck {
            recipient: noivu.into(),
            due_on: due,
        }),
    };
    store
        .intake_record(&message(2, noivu), too_big, at)
        .await
        .unwrap();
    let d = Dispatcher {
        cfg: &cfg,
        cal: &cal,
        composer: &composer,
        mailer: &mailer,
        owner: "golden",
    };
    let later = at.checked_add(jiff::SignedDuration::from_mins(1)).unwrap();
    let report = d.run(&store, &move || later).await.unwrap();
    store.close().await;
    let eml = |to: &str| {
        let m = report
            .sent
            .iter()
            .find(|m| m.recipients.iter().any(|r| r == to))
            .unwrap_or_else(|| panic!("no acknowledgement to {to}: {report:?}"));
        std::fs::read(&m.detail).unwrap()
    };
    vec![
        Sample {
            name: "acknowledgement-recorded",
            eml: eml(tuphap),
        },
        Sample {
            name: "acknowledgement-too-big",
            eml: eml(noivu),
        },
    ]
}
