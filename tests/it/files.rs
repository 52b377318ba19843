//! Files sent with reports, in the library: the rows (`store::Files`) on
//! both backends, a submission and its files in one transaction, and the
//! kept bytes (`files::Blobs`) with the .zip of a report-period. The HTTP
//! paths that take files in are tested in `http::files` and
//! `dashboard::files`.

use std::io::Read;

use hanbao::config::model::FileLimits;
use hanbao::files::{self, Blobs, Received};
use hanbao::store::{
    FileSource, Files, Key, NewSubmission, Records, Source, StoreError, StoredFile,
};
use jiff::Timestamp;
use jiff::civil::date;

use crate::support::backend::{Backend, stories};

stories!(
    files_are_recorded_and_listed_by_report_and_period,
    a_submission_and_its_files_are_one_transaction,
);

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_775_000_000 + second).unwrap()
}

fn key(unit: &str) -> Key {
    Key::new("bc-quy", "2026-Q1", unit)
}

fn submission(unit: &str, reference: &str) -> NewSubmission {
    NewSubmission {
        key: key(unit),
        received_on: date(2026, 4, 8),
        received_at: None,
        reference: Some(reference.into()),
        note: None,
        actor: "link".into(),
        source: Source::Link,
        correction: false,
    }
}

fn received(content: &[u8], name: &str) -> Received {
    Received::new(
        files::Blob {
            sha256: hanbao::primitives::sha256_hex(content),
            size: content.len() as u64,
        },
        Some(name),
        None,
    )
}

async fn files_are_recorded_and_listed_by_report_and_period(b: &Backend) {
    let s = b.open().await;
    let rows = vec![
        received(b"quy 1", "Báo cáo quý I.pdf").into_new_file(
            &key("xa-an-phu"),
            FileSource::Api,
            "token:3:văn thư",
            at(0),
            None,
        ),
        received(b"phu luc", "../phụ lục.xlsx").into_new_file(
            &key("xa-an-phu"),
            FileSource::Email,
            "vanthu@xa-an-phu.example",
            at(60),
            None,
        ),
        received(b"quy 1", "bc.pdf").into_new_file(
            &key("phuong-1"),
            FileSource::Dashboard,
            "web:admin",
            at(120),
            None,
        ),
    ];
    let stored = s.add_files(rows.clone()).await.unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored[0].id < stored[1].id);
    assert_eq!(stored[1].name, "phụ lục.xlsx");
    assert_eq!(stored[1].source, FileSource::Email);
    assert_eq!(stored[1].received_at, at(60));
    assert_eq!(stored[1].event_id, None);

    let mine = s.files_for(&key("xa-an-phu")).await.unwrap();
    assert_eq!(mine, stored[..2].to_vec());
    let all = s.files_of_period("bc-quy", "2026-Q1").await.unwrap();
    let units: Vec<&str> = all.iter().map(|f| f.key.unit.as_str()).collect();
    assert_eq!(units, ["phuong-1", "xa-an-phu", "xa-an-phu"]);
    assert!(
        s.files_of_period("bc-quy", "2026-Q2")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.file(stored[2].id).await.unwrap().as_ref(),
        Some(&stored[2])
    );
    assert_eq!(s.file(999_999).await.unwrap(), None);

    // A bad row is refused before anything is written.
    let mut bad = rows[0].clone();
    bad.sha256 = "../../etc/passwd".into();
    let err = s.add_files(vec![rows[0].clone(), bad]).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                field: "sha256",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(s.files_for(&key("xa-an-phu")).await.unwrap().len(), 2);
}

async fn a_submission_and_its_files_are_one_transaction(b: &Backend) {
    let s = b.open().await;
    let file = |content: &[u8], name| {
        received(content, name).into_new_file(&key("u1"), FileSource::Upload, "link", at(0), None)
    };
    let (rec, stored) = s
        .record_submission_with_files(submission("u1", "15/BC"), vec![file(b"a", "a.pdf")], at(0))
        .await
        .unwrap();
    assert!(rec.is_new());
    assert_eq!(stored[0].event_id, Some(rec.event().id));

    // The same confirmation again with another file: the file joins the
    // submission in effect.
    let (again, more) = s
        .record_submission_with_files(submission("u1", "15/BC"), vec![file(b"b", "b.pdf")], at(60))
        .await
        .unwrap();
    assert!(!again.is_new());
    assert_eq!(more[0].event_id, Some(rec.event().id));

    // A different submission is a conflict: neither it nor its file is kept.
    let err = s
        .record_submission_with_files(
            submission("u1", "99/BC"),
            vec![file(b"c", "c.pdf")],
            at(120),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let names: Vec<String> = s
        .files_for(&key("u1"))
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["a.pdf", "b.pdf"]);

    // A file for another report cannot ride along.
    let other =
        received(b"d", "d.pdf").into_new_file(&key("u2"), FileSource::Upload, "link", at(0), None);
    let err = s
        .record_submission_with_files(submission("u3", "1/BC"), vec![other], at(0))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid { field: "key", .. }),
        "{err}"
    );
    assert!(s.current_for(&key("u3")).await.unwrap().is_empty());
}

/// Kept bytes: the same content twice is one file; the .zip of a period
/// holds every unit's files in a folder named by the unit, names numbered
/// when they repeat.
#[tokio::test]
async fn the_zip_of_a_period_has_one_folder_per_unit() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Blobs::under(dir.path());
    let limits = FileLimits::default();
    let a = blobs.put("a", b"noi dung A", &limits).await.unwrap();
    let a2 = blobs.put("a", b"noi dung A", &limits).await.unwrap();
    assert_eq!(a, a2);
    let b = blobs.put("b", &vec![7u8; 300_000], &limits).await.unwrap();
    let row = |id, unit: &str, blob: &files::Blob, name: &str| StoredFile {
        id,
        key: key(unit),
        sha256: blob.sha256.clone(),
        name: name.into(),
        media_type: "application/pdf".into(),
        size: blob.size,
        source: FileSource::Upload,
        sender: "link".into(),
        received_at: at(0),
        event_id: None,
    };
    let rows = vec![
        row(1, "phuong-1", &a, "bc.pdf"),
        row(2, "xa-an-phu", &a, "bc.pdf"),
        row(3, "xa-an-phu", &b, "bc.pdf"),
    ];
    let names = |unit: &str| match unit {
        "phuong-1" => "Phường 1".to_string(),
        _ => "UBND xã An Phú/Đội 1\u{202E}".to_string(),
    };
    let out = files::write_zip(&blobs, &rows, names, std::io::Cursor::new(Vec::new())).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(out.into_inner())).unwrap();
    let mut entries: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().to_string())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            "Phường 1/bc.pdf",
            "UBND xã An Phú-Đội 1/bc (2).pdf",
            "UBND xã An Phú-Đội 1/bc.pdf"
        ]
    );
    let mut big = Vec::new();
    zip.by_name("UBND xã An Phú-Đội 1/bc (2).pdf")
        .unwrap()
        .read_to_end(&mut big)
        .unwrap();
    assert_eq!(big.len(), 300_000);
}
