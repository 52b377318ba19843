//! Golden test: the whole 2026 plan of the sample directive.
//!
//! `tests/golden/quang-ngai-4040-2026.jsonl` is the output of
//! `hanbao --config config/quang-ngai-4040.toml plan --from 2026-01-01 --to 2026-12-31 --json`:
//! every message that goes out (reminders, due-day notices, overdue notices
//! to the units, escalations to the others, the Monday digests) and the
//! deadlines. Spot checks done by hand against a 2026 wall calendar: unit
//! reminders for 2026-H1 on Thu 11/6 and Wed 17/6 (5 and 1 working days
//! before the overridden due day Thu 18/6); the due-day notice Thu 18/6
//! 07:30; first overdue notice Fri 19/6; the annual report due Sun 20/12
//! rolled to Mon 21/12; the repeat after Sat 26/12 – Fri 1/1 (New Year) on
//! Tue 5/1/2027 falls outside the year; the first digest Monday 5/1 08:00.
//! Regenerate with `HANBAO_UPDATE_GOLDEN=1 cargo test --test it golden` and
//! review the diff.

use std::path::Path;

use hanbao::calendar::WorkCalendar;
use hanbao::planner::{Filter, plan};
use jiff::civil::date;

#[test]
fn sample_directive_plan_for_2026() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = hanbao::config::load(&root.join("config/quang-ngai-4040.toml"))
        .expect("sample config loads");
    let cal = WorkCalendar::new(&loaded.config.calendar);
    let events = plan(
        &loaded.config,
        &cal,
        date(2026, 1, 1),
        date(2026, 12, 31),
        &Filter::default(),
    );
    let digests = hanbao::commands::simulate::digest_instants(
        &loaded.config,
        date(2026, 1, 1),
        date(2026, 12, 31),
    )
    .unwrap();
    let entries = hanbao::commands::plan::entries(&loaded.config, &cal, &events, &digests);
    let got = hanbao::commands::plan::render(&entries, &loaded.config, true);
    let golden = root.join("tests/golden/quang-ngai-4040-2026.jsonl");
    same_as_golden(&golden, &got);
    // The file's text, now known to equal the plan.
    let want = &got;
    // A few facts checked by hand, so the golden file cannot drift silently.
    let find = |ob: &str, unit: &str, kind: &str, stage: u32| {
        want.lines()
            .find(|l| {
                l.contains(&format!("\"obligation\":\"{ob}\""))
                    && l.contains(&format!("\"unit\":\"{unit}\""))
                    && l.contains(&format!("\"kind\":\"{kind}\""))
                    && l.contains(&format!("\"stage\":{stage},"))
            })
            .unwrap_or_else(|| panic!("no {ob} {unit} {kind} {stage}"))
            .to_string()
    };
    let cases = [
        (
            "nq121-6thang",
            "so-yte",
            "reminder",
            1,
            "\"at\":\"2026-06-11T07:30:00+07:00\",\"due\":\"2026-06-18\"",
        ),
        (
            "nq121-6thang",
            "so-yte",
            "due_today",
            0,
            "\"at\":\"2026-06-18T07:30:00+07:00\"",
        ),
        (
            "nq121-6thang",
            "so-yte",
            "reminder",
            2,
            "\"at\":\"2026-06-17T07:30:00+07:00\"",
        ),
        (
            "nq121-6thang",
            "so-yte",
            "deadline",
            0,
            "\"at\":\"2026-06-19T00:00:00+07:00\"",
        ),
        (
            "nq121-6thang",
            "so-yte",
            "overdue",
            1,
            "\"at\":\"2026-06-19T07:30:00+07:00\"",
        ),
        (
            "nq121-6thang",
            "so-yte",
            "escalation",
            2,
            "\"at\":\"2026-06-23T07:30:00+07:00\",\"due\":\"2026-06-18\",\"recipients\":[\"vanthu@soldtbxh.quangngai.example\"]",
        ),
        (
            "nq121-6thang",
            "so-yte",
            "escalation",
            3,
            "\"at\":\"2026-06-25T07:30:00+07:00\"",
        ),
        (
            "nq121-nam",
            "ubnd-lyson",
            "deadline",
            0,
            "\"due\":\"2026-12-21\"",
        ),
        (
            "nq121-nam",
            "ubnd-lyson",
            "escalation",
            3,
            "\"at\":\"2026-12-28T07:30:00+07:00\"",
        ),
    ];
    // Stage 1 names only the unit: an overdue notice and no escalation.
    assert!(
        !want.contains(
            "\"unit\":\"so-yte\",\"kind\":\"escalation\",\"stage\":1,\"at\":\"2026-06-19"
        )
    );
    let first_digest = want
        .lines()
        .find(|l| l.contains("\"kind\":\"digest\""))
        .unwrap();
    assert!(
        first_digest.contains("\"at\":\"2026-01-05T08:00:00+07:00\""),
        "{first_digest}"
    );
    assert_eq!(
        want.lines()
            .filter(|l| l.contains("\"kind\":\"digest\""))
            .count(),
        52,
        "the Mondays of 2026"
    );
    for (ob, unit, kind, stage, fragment) in cases {
        let line = find(ob, unit, kind, stage);
        assert!(
            line.contains(fragment),
            "{ob} {unit} {kind} {stage}: {line} lacks {fragment}"
        );
    }
}

/// The notices people read, one of each kind for each reader, in
/// Vietnamese and English: `tests/golden/mail/{vi,en}/{kind}-{reader}.txt`
/// (and the two acknowledgements of a reply by email, recorded and refused
/// for its size: `acknowledgement-{recorded,too-big}.txt`),
/// each the subject, the addressee and the text part as a real MIME
/// parser (`support::mime`, Stalwart's mail-parser) reads them from the
/// bytes the pipeline wrote, for the seasons of `support::notices`. The
/// files were read line by line when they were written; a change of
/// wording shows as a diff to review. Regenerate with
/// `HANBAO_UPDATE_GOLDEN=1 cargo test --test it golden` and review the diff.
///
/// Besides matching the files, every text keeps the rules of the register:
/// "Kính gửi:" first, a closing ("Trân trọng./." or "Kính báo cáo./."),
/// the agency's name in the body, the contact, no "hệ thống", no product
/// name, no "báo cáo Báo cáo", no period key in prose, no exclamation
/// mark; subjects within 100 characters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notice_texts_for_every_kind_reader_and_language() {
    use crate::support::{mime, notices};
    use hanbao::config::model::Language;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/mail");
    let update = std::env::var_os("HANBAO_UPDATE_GOLDEN").is_some();
    let mut differ = Vec::new();
    for language in [Language::Vi, Language::En] {
        let dir = tempfile::tempdir().unwrap();
        let lang = language.code();
        std::fs::create_dir_all(root.join(lang)).unwrap();
        let mut samples = notices::samples(dir.path(), language).await;
        samples.extend(notices::acknowledgements(dir.path(), language).await);
        for s in samples {
            let read = mime::read(&s.eml).unwrap_or_else(|d| panic!("{}: {d:?}", s.name));
            let (name, address) = &read.to[0];
            let got = format!(
                "Subject: {}\nTo: {} <{address}>\n\n{}",
                read.subject,
                name.as_deref().unwrap_or(""),
                read.text.replace("\r\n", "\n")
            );
            let path = root.join(lang).join(format!("{}.txt", s.name));
            if update {
                std::fs::write(&path, &got).unwrap();
            }
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            if got != want {
                differ.push(path.display().to_string());
            }
            let label = format!("{lang}/{}", s.name);
            assert!(
                read.subject.chars().count() <= 100,
                "{label}: {}",
                read.subject
            );
            let text = &read.text;
            let first = text.lines().next().unwrap_or("");
            let closings = match language {
                Language::Vi => ["Trân trọng./.", "Kính báo cáo./."],
                Language::En => ["Yours faithfully,", "Respectfully,"],
            };
            if s.name != "digest" {
                match language {
                    Language::Vi => assert!(first.starts_with("Kính gửi: "), "{label}: {first}"),
                    Language::En => assert!(
                        first.starts_with("Dear ") || first.starts_with("To the leadership of "),
                        "{label}: {first}"
                    ),
                }
                assert!(
                    closings.iter().any(|c| text.contains(c)),
                    "{label}: no closing"
                );
                assert!(
                    text.contains("Sở Lao động - Thương binh và Xã hội"),
                    "{label}: the agency speaks"
                );
                assert!(text.contains("0255 3822 123"), "{label}: the contact");
            }
            // Prose only: the confirmation link carries the period's key.
            let lower: String = text
                .lines()
                .filter(|l| !l.starts_with("https://"))
                .collect::<Vec<_>>()
                .join("\n")
                .to_lowercase();
            for bad in [
                "hệ thống theo dõi",
                "hanbao",
                "báo cáo báo cáo",
                "!",
                "2026-h1",
            ] {
                assert!(!lower.contains(bad), "{label}: {bad:?} in\n{text}");
            }
        }
    }
    assert!(
        differ.is_empty(),
        "notice texts differ from the golden files (regenerate with HANBAO_UPDATE_GOLDEN=1 and review): {differ:#?}"
    );
}

/// Compares a plan with its golden file (rewrites the file instead with
/// `HANBAO_UPDATE_GOLDEN` set), naming the first line that differs.
pub(crate) fn same_as_golden(golden: &std::path::Path, got: &str) {
    if std::env::var_os("HANBAO_UPDATE_GOLDEN").is_some() {
        std::fs::write(golden, got).expect("write golden file");
    }
    let want = std::fs::read_to_string(golden).expect("golden file");
    if got != want {
        let first = got.lines().zip(want.lines()).position(|(g, w)| g != w);
        panic!(
            "2026 plan differs from {} ({} lines now, {} in the file); first difference at line {:?}:\n  now:  {:?}\n  file: {:?}",
            golden.display(),
            got.lines().count(),
            want.lines().count(),
            first.map(|i| i + 1),
            first.and_then(|i| got.lines().nth(i)),
            first.and_then(|i| want.lines().nth(i)),
        );
    }
}
