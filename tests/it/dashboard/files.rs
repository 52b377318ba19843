//! Files sent with reports over real TCP, on each path: the unit's
//! confirmation page (signed link), the dashboard's report page (session
//! and CSRF), the API (bearer token); the same content twice kept once,
//! a file over the limit or one file too many refused with nothing kept,
//! hostile names made safe, downloads as attachments with safe names, and
//! the .zip of a report-period with one folder per unit.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use hanbao::http::link::{LinkKey, LinkScope};
use hanbao::store::Files;

use super::*;

/// A server whose state directory is `dir`, with files of at most 1 MiB,
/// three at a time.
async fn start_in(dir: &Path) -> Server {
    start_with(&format!(
        "[daemon]\nstate_dir = \"{}\"\nfile_max_mb = 1\nfiles_per_submission = 3\n{CONFIG}",
        dir.display()
    ))
    .await
}

/// A `multipart/form-data` body: text fields first, then files
/// (field name, file name, type, content); and its content type.
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----hanbao-test-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, file_name, ctype, content) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {ctype}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_multipart(
    s: &Server,
    path: &str,
    headers: &[(&str, &str)],
    (ctype, body): (String, Vec<u8>),
) -> Resp {
    let origin = format!("http://{}", s.addr);
    let mut req = crate::support::http::Request::new("POST", path).header("Origin", &origin);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.body(&ctype, body).send(s.addr).await
}

/// Every kept file under `<dir>/files` (the temporary directory apart).
fn kept(dir: &Path) -> Vec<PathBuf> {
    let root = dir.join("files");
    let mut out = Vec::new();
    let Ok(subdirs) = std::fs::read_dir(&root) else {
        return out;
    };
    for d in subdirs {
        let d = d.unwrap().path();
        if d.file_name().unwrap() == "tmp" {
            continue;
        }
        for f in std::fs::read_dir(&d).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out.sort();
    out
}

fn temp_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("files/tmp")).map_or(0, |d| d.count())
}

/// Links turned on, and Sở Y tế's link to its first-quarter report.
fn yte_q1_link(s: &Server) -> (LinkKey, LinkScope) {
    let key = LinkKey::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
    crate::support::turn_on_links(&s.state, &key);
    let link = LinkScope {
        obligation: "bc-quy".into(),
        period: "2026-Q1".into(),
        unit: "so-yte".into(),
        expires: Timestamp::now().as_second() + 86_400,
    };
    (key, link)
}

/// Sở Y tế confirms its first-quarter report through its link.
async fn confirm_by_link(s: &Server) {
    s.store
        .record_submission(
            NewSubmission {
                key: Key::new("bc-quy", "2026-Q1", "so-yte"),
                received_on: date(2026, 3, 18),
                received_at: None,
                reference: Some("45/BC-SYT".into()),
                note: None,
                actor: "link:so-yte".into(),
                source: Source::Link,
                correction: false,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn the_coordinator_attaches_files_on_the_report_page_and_downloads_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(dir.path()).await;
    let cookie = s.login(&s.admin).await;
    let page = s.get(YTE_Q1, Some(&cookie)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Chưa có tệp nào gửi kèm báo cáo này."));
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    let csrf = page.csrf();
    let upload = format!("{YTE_Q1}/files");
    let long = format!("{}.pdf", "Báo cáo ".repeat(40));
    let r = post_multipart(
        &s,
        &upload,
        &[("Cookie", &cookie)],
        multipart(
            &[("csrf", &csrf)],
            &[
                ("files", "../../etc/passwd", "text/plain", b"root:x:0:0"),
                (
                    "files",
                    "<script>alert(1)</script>.html",
                    "text/html",
                    b"<script>alert(1)</script>",
                ),
                ("files", &long, "application/pdf", b"%PDF-1.4 bao cao"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let files = s
        .store
        .files_for(&Key::new("bc-quy", "2026-Q1", "so-yte"))
        .await
        .unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names[..2], ["passwd", "script.html"]);
    assert!(names[2].chars().count() <= hanbao::files::MAX_NAME_CHARS);
    assert!(names[2].ends_with(".pdf") && names[2].starts_with("Báo cáo Báo cáo"));
    assert!(files.iter().all(|f| f.sender.contains("Điều phối")));
    assert_eq!(kept(dir.path()).len(), 3);

    let page = s.get(YTE_Q1, Some(&cookie)).await;
    assert!(page.body.contains("Đã lưu 3 tệp."), "{}", page.body);
    assert!(page.body.contains("passwd"));
    assert!(!page.body.contains("<script>alert(1)"));

    // The download is an attachment of opaque type, with a safe name.
    let html = &files[1];
    let d = s
        .get(&format!("/dashboard/files/{}", html.id), Some(&cookie))
        .await;
    assert_eq!(d.status, 200);
    assert_eq!(d.bytes, b"<script>alert(1)</script>");
    assert_eq!(d.header("content-type"), Some("application/octet-stream"));
    assert_eq!(d.header("x-content-type-options"), Some("nosniff"));
    let cd = d.header("content-disposition").unwrap();
    assert!(
        cd.starts_with("attachment; filename=\"script.html\""),
        "{cd}"
    );
    // Without a session: the login page, not the file.
    let anon = s.get(&format!("/dashboard/files/{}", html.id), None).await;
    assert_ne!(anon.status, 200);
    assert_ne!(anon.bytes, b"<script>alert(1)</script>");
    assert_eq!(
        s.get("/dashboard/files/999999", Some(&cookie)).await.status,
        404
    );
    assert_eq!(
        s.get("/dashboard/files/..%2F..%2Fetc", Some(&cookie))
            .await
            .status,
        404
    );

    // A wrong CSRF token: refused before anything is kept.
    let r = post_multipart(
        &s,
        &upload,
        &[("Cookie", &cookie)],
        multipart(
            &[("csrf", "nope")],
            &[("files", "x.pdf", "application/pdf", b"x")],
        ),
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(kept(dir.path()).len(), 3);
    assert_eq!(temp_files(dir.path()), 0);
    s.shutdown().await;
}

/// The receipt and its files in one step: the first post (multipart)
/// keeps the files and echoes the day with their names, writing nothing;
/// "Xác nhận" records the receipt and the files' rows in one transaction.
/// The receipt form's file field left empty, as a browser sends it (a part
/// with `filename=""` and no bytes): the receipt is recorded and nothing is
/// written under the state directory, not even `files/tmp`.
#[tokio::test]
async fn an_empty_file_field_records_the_receipt_and_touches_no_disk() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(dir.path()).await;
    let cookie = s.login(&s.admin).await;
    let key = Key::new("bc-quy", "2026-Q1", "so-yte");
    let csrf = s.get(YTE_Q1, Some(&cookie)).await.csrf();
    let r = post_multipart(
        &s,
        &format!("{YTE_Q1}/submission"),
        &[("Cookie", &cookie)],
        multipart(
            &[
                ("csrf", &csrf),
                ("reference", "45/BC-SYT"),
                ("received_on", "18/03/2026"),
                ("note", ""),
            ],
            &[("files", "", "application/octet-stream", b"")],
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Kiểm tra trước khi ghi"), "{}", r.body);
    assert!(
        !dir.path().join("files").exists(),
        "nothing staged ({} temporary files)",
        temp_files(dir.path())
    );
    let done = s
        .post(
            &format!("{YTE_Q1}/submission"),
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("reference", "45/BC-SYT"),
                ("received_on", "18/03/2026"),
                ("note", ""),
                ("files", ""),
                ("step", "record"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let sub = s.store.current_for(&key).await.unwrap().submission;
    assert_eq!(
        sub.expect("recorded").reference.as_deref(),
        Some("45/BC-SYT")
    );
    assert!(s.store.files_for(&key).await.unwrap().is_empty());
    assert!(
        !dir.path().join("files").exists(),
        "no file, no files/ directory"
    );
    s.shutdown().await;
}

/// A receipt the store refuses (another one in effect) writes no file row
/// either; a check page whose carried files were tampered with records
/// nothing.
#[tokio::test]
async fn a_receipt_and_its_files_are_recorded_in_one_step() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(dir.path()).await;
    let cookie = s.login(&s.admin).await;
    let key = Key::new("bc-quy", "2026-Q1", "so-yte");
    let page = s.get(YTE_Q1, Some(&cookie)).await;
    let csrf = page.csrf();
    assert!(page.body.contains(&format!(
        "action=\"{YTE_Q1}/submission\" enctype=\"multipart/form-data\""
    )));
    let submission = format!("{YTE_Q1}/submission");
    let r = post_multipart(
        &s,
        &submission,
        &[("Cookie", &cookie)],
        multipart(
            &[
                ("csrf", &csrf),
                ("reference", "45/BC-SYT"),
                ("received_on", "18/03/2026"),
                ("note", ""),
            ],
            &[
                (
                    "files",
                    "Báo cáo quý I.pdf",
                    "application/pdf",
                    b"%PDF-1.4 quy I",
                ),
                (
                    "files",
                    "Phụ lục.xlsx",
                    "application/octet-stream",
                    b"PK phu luc",
                ),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Báo cáo quý I.pdf (14 byte)"), "{}", r.body);
    assert!(
        s.store
            .current_for(&key)
            .await
            .unwrap()
            .submission
            .is_none()
    );
    assert!(s.store.files_for(&key).await.unwrap().is_empty());
    assert_eq!(kept(dir.path()).len(), 2, "kept, not yet recorded");
    let hidden = |name: &str| {
        let field = format!("name=\"{name}\" value=\"");
        let at = r
            .body
            .find(&field)
            .unwrap_or_else(|| panic!("no {name} in {}", r.body));
        let rest = &r.body[at + field.len()..];
        rest[..rest.find('"').unwrap()].replace("&#x2f;", "/")
    };
    let carried = hidden("files");
    let record = |files: String| {
        let csrf = csrf.clone();
        let cookie = cookie.clone();
        let submission = submission.clone();
        let s = &s;
        async move {
            s.post(
                &submission,
                Some(&cookie),
                &[
                    ("csrf", &csrf),
                    ("reference", "45/BC-SYT"),
                    ("received_on", "18/03/2026"),
                    ("note", ""),
                    ("files", &files),
                    ("step", "record"),
                ],
            )
            .await
        }
    };
    // A name the page never gave: nothing recorded.
    let forged = format!("{}:3:text/plain:x.txt", "e".repeat(64));
    let bad = record(forged).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("hãy chọn lại tệp"), "{}", bad.body);
    assert!(
        s.store
            .current_for(&key)
            .await
            .unwrap()
            .submission
            .is_none()
    );

    let done = record(carried.clone()).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let sub = s
        .store
        .current_for(&key)
        .await
        .unwrap()
        .submission
        .expect("recorded");
    assert_eq!(sub.reference.as_deref(), Some("45/BC-SYT"));
    let files = s.store.files_for(&key).await.unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Báo cáo quý I.pdf", "Phụ lục.xlsx"]);
    assert!(files.iter().all(|f| f.event_id == Some(sub.stamp.event_id)));
    assert!(
        files
            .iter()
            .all(|f| f.source == hanbao::store::FileSource::Dashboard)
    );
    let page = s.get(YTE_Q1, Some(&cookie)).await;
    assert!(page.body.contains("và 2 tệp gửi kèm"), "{}", page.body);

    // Another receipt while this one is in effect: refused (409), and its
    // files are not recorded either.
    let other = format!("{}:10:application/pdf:khac.pdf", files[0].sha256);
    let conflict = s
        .post(
            &submission,
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("reference", "46/BC-SYT"),
                ("received_on", "19/03/2026"),
                ("note", ""),
                ("files", &other),
                ("step", "record"),
            ],
        )
        .await;
    assert_eq!(
        conflict.status, 422,
        "the size does not match: {}",
        conflict.body
    );
    let same_size = format!("{}:14:application/pdf:khac.pdf", files[0].sha256);
    let conflict = record(same_size.clone()).await;
    assert_eq!(
        conflict.status, 303,
        "the same receipt again: its files join it"
    );
    assert_eq!(s.store.files_for(&key).await.unwrap().len(), 3);
    let refused = s
        .post(
            &submission,
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("reference", "46/BC-SYT"),
                ("received_on", "19/03/2026"),
                ("note", ""),
                ("files", &same_size),
                ("step", "record"),
            ],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(
        s.store.files_for(&key).await.unwrap().len(),
        3,
        "all or nothing"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn oversize_and_too_many_files_are_refused_with_nothing_kept() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(dir.path()).await;
    let cookie = s.login(&s.admin).await;
    let csrf = s.get(YTE_Q1, Some(&cookie)).await.csrf();
    let upload = format!("{YTE_Q1}/files");
    let big = vec![b'x'; 1024 * 1024 + 1];
    let r = post_multipart(
        &s,
        &upload,
        &[("Cookie", &cookie)],
        multipart(
            &[("csrf", &csrf)],
            &[
                ("files", "nho.pdf", "application/pdf", b"small"),
                ("files", "lon.pdf", "application/pdf", &big),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("lớn hơn 1 MB"), "{}", r.body);
    assert!(r.body.contains("không lưu gì"));
    let many: Vec<(&str, &str, &str, &[u8])> = ["a", "b", "c", "d"]
        .iter()
        .map(|n| ("files", *n, "text/plain", n.as_bytes()))
        .collect();
    let r = post_multipart(
        &s,
        &upload,
        &[("Cookie", &cookie)],
        multipart(&[("csrf", &csrf)], &many),
    )
    .await;
    assert_eq!(r.status, 413);
    assert!(r.body.contains("gửi quá 3 tệp"), "{}", r.body);
    // The API says the same in its shape.
    let auth = format!("Bearer {}", s.admin);
    let r = post_multipart(
        &s,
        "/api/v1/files/bc-quy/2026-Q1/so-yte",
        &[("Authorization", &auth)],
        multipart(&[], &[("file", "lon.pdf", "application/pdf", &big)]),
    )
    .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"]["code"], "file_too_large");
    // A body cut off in the middle of a file (no closing boundary).
    let (ctype, mut body) = multipart(
        &[],
        &[("file", "cut.pdf", "application/pdf", b"%PDF partial")],
    );
    body.truncate(body.len() - 20);
    let r = post_multipart(
        &s,
        "/api/v1/files/bc-quy/2026-Q1/so-yte",
        &[("Authorization", &auth)],
        (ctype, body),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "bad_request");
    assert!(
        s.store
            .files_for(&Key::new("bc-quy", "2026-Q1", "so-yte"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(kept(dir.path()).is_empty(), "{:?}", kept(dir.path()));
    assert_eq!(temp_files(dir.path()), 0);
    s.shutdown().await;
}

#[tokio::test]
async fn the_api_keeps_files_for_its_unit_and_the_same_content_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(dir.path()).await;
    let unit = format!("Bearer {}", s.unit);
    let path = "/api/v1/files/bc-quy/2026-Q1/so-yte";
    let body = || {
        multipart(
            &[],
            &[(
                "file",
                "Báo cáo quý I.xlsx",
                "application/octet-stream",
                b"PK\x03\x04 bang tinh",
            )],
        )
    };
    let r = post_multipart(&s, path, &[("Authorization", &unit)], body()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let j = r.json();
    assert_eq!(j["result"], "stored");
    assert_eq!(j["files"][0]["name"], "Báo cáo quý I.xlsx");
    assert_eq!(
        j["files"][0]["media_type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(j["files"][0]["source"], "api");
    assert_eq!(j["files"][0]["event_id"], serde_json::Value::Null);
    let r = post_multipart(&s, path, &[("Authorization", &unit)], body()).await;
    assert_eq!(r.status, 201);
    // Two rows, one file.
    assert_eq!(kept(dir.path()).len(), 1);
    let list = crate::support::http::Request::new("GET", path)
        .header("Authorization", &unit)
        .send(s.addr)
        .await;
    assert_eq!(list.json()["files"].as_array().unwrap().len(), 2);

    // Another unit's report: 403 before anything is read; no token: 401.
    let other = "/api/v1/files/bc-quy/2026-Q1/so-taichinh";
    let r = post_multipart(&s, other, &[("Authorization", &unit)], body()).await;
    assert_eq!(r.status, 403);
    assert_eq!(post_multipart(&s, other, &[], body()).await.status, 401);
    let r = post_multipart(
        &s,
        "/api/v1/files/bc-quy/2026-Q1/khong-co",
        &[("Authorization", &unit)],
        body(),
    )
    .await;
    assert_eq!(r.status, 404);
    // Not multipart.
    let r = crate::support::http::Request::new("POST", path)
        .header("Authorization", &unit)
        .body("application/json", "{}")
        .send(s.addr)
        .await;
    assert_eq!(r.status, 415);
    assert_eq!(r.json()["error"]["code"], "unsupported_media_type");
    assert_eq!(kept(dir.path()).len(), 1);
    s.shutdown().await;
}

#[tokio::test]
async fn the_unit_attaches_files_on_its_confirmation_page() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(dir.path()).await;
    let (key, link) = yte_q1_link(&s);
    let sig = link.sign(&key);
    let e = link.expires.to_string();
    let link_fields = [
        ("o", "bc-quy"),
        ("p", "2026-Q1"),
        ("u", "so-yte"),
        ("e", e.as_str()),
        ("s", sig.as_str()),
    ];
    let file = [(
        "files",
        "Báo cáo quý I.pdf",
        "application/pdf",
        &b"%PDF bao cao"[..],
    )];
    // Before the report is confirmed: nothing recorded.
    let r = post_multipart(&s, "/confirm/files", &[], multipart(&link_fields, &file)).await;
    assert_eq!(r.status, 409, "{}", r.body);
    // Confirm, then the page offers the upload.
    confirm_by_link(&s).await;
    let page = s.get(&link.path(&key), None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("action=\"/confirm/files\""),
        "{}",
        page.body
    );
    let r = post_multipart(&s, "/confirm/files", &[], multipart(&link_fields, &file)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.contains("Đã nhận 1 tệp."));
    assert!(r.body.contains("Báo cáo quý I.pdf"));
    let files = s
        .store
        .files_for(&Key::new("bc-quy", "2026-Q1", "so-yte"))
        .await
        .unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].sender, "link:so-yte");
    assert!(files[0].event_id.is_some());

    // A tampered signature: refused before the file is read.
    let mut bad = link_fields;
    bad[2] = ("u", "so-taichinh");
    let r = post_multipart(&s, "/confirm/files", &[], multipart(&bad, &file)).await;
    assert_eq!(r.status, 400);
    assert_eq!(kept(dir.path()).len(), 1);
    s.shutdown().await;
}

#[tokio::test]
async fn the_zip_of_a_period_has_each_units_files_under_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(dir.path()).await;
    let admin = format!("Bearer {}", s.admin);
    for (unit, name, content) in [
        ("so-yte", "bc.pdf", &b"y te 1"[..]),
        ("so-yte", "bc.pdf", &b"y te 2"[..]),
        ("so-taichinh", "bc.pdf", &b"tai chinh"[..]),
    ] {
        let r = post_multipart(
            &s,
            &format!("/api/v1/files/bc-quy/2026-Q1/{unit}"),
            &[("Authorization", &admin)],
            multipart(&[], &[("file", name, "application/pdf", content)]),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let cookie = s.login(&s.admin).await;
    let page = s.get(YTE_Q1, Some(&cookie)).await;
    assert!(
        page.body
            .contains("/dashboard/files/bc-quy/2026-Q1/all.zip")
    );
    let r = s
        .get("/dashboard/files/bc-quy/2026-Q1/all.zip", Some(&cookie))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .starts_with("attachment; filename=\"bc-quy-2026-Q1.zip\"")
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(r.bytes.clone())).unwrap();
    let mut entries: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().to_string())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            "Sở Tài chính scriptalert('x')-script & B/bc.pdf",
            "Sở Y tế/bc (2).pdf",
            "Sở Y tế/bc.pdf",
        ]
    );
    let mut second = String::new();
    zip.by_name("Sở Y tế/bc (2).pdf")
        .unwrap()
        .read_to_string(&mut second)
        .unwrap();
    assert_eq!(second, "y te 2");
    let none = s
        .get("/dashboard/files/khong-co/2026-Q1/all.zip", Some(&cookie))
        .await;
    assert_eq!(none.status, 404);
    s.shutdown().await;
}

/// In chromium, at 1366 and 390 px: the report page's files (listed, a
/// long name wrapping, the form and the .zip link) and the unit's page
/// with its files; neither page scrolls sideways on a phone. Screenshots
/// in `target/e2e/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_files_of_a_report_fit_a_phone() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(dir.path()).await;
    let admin_auth = format!("Bearer {}", s.admin);
    let long = format!("{}.docx", "Báo cáo kết quả thực hiện nhiệm vụ ".repeat(3));
    let r = post_multipart(
        &s,
        "/api/v1/files/bc-quy/2026-Q1/so-yte",
        &[("Authorization", &admin_auth)],
        multipart(
            &[],
            &[
                (
                    "file",
                    "Báo cáo quý I.pdf",
                    "application/pdf",
                    &vec![b'x'; 46_285],
                ),
                ("file", &long, "application/octet-stream", b"PK"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (key, link) = yte_q1_link(&s);
    confirm_by_link(&s).await;
    let link = link.path(&key);
    let base = format!("http://{}", s.addr);
    let admin = s.admin.clone();
    let shots = tokio::task::spawn_blocking(move || {
        let b = Browser::start();
        b.goto(&format!("{base}/dashboard/login"));
        let field = b.find("input[name=token]");
        b.type_text(&field, &admin);
        b.click(&b.find("form[action='/dashboard/login'] button[type=submit]"));
        b.wait_for_url("/dashboard");
        b.goto(&format!("{base}{YTE_Q1}"));
        assert_eq!(b.count("table.files tbody tr"), 2);
        // The receipt's form (its files recorded with it) and the form
        // that adds files to the receipt in effect.
        assert_eq!(
            b.count("form[enctype='multipart/form-data'] input[type=file]"),
            2
        );
        let mut shots = super::browser::shots_at(&b, "report-files", Some("files"));
        shots.extend(super::browser::shots_at(
            &b,
            "report-receipt",
            Some("receipt"),
        ));
        b.goto(&format!("{base}{link}"));
        assert_eq!(b.count("ul.files li"), 2);
        shots.extend(super::browser::shots_at(&b, "confirm-files", Some("files")));
        shots
    })
    .await
    .unwrap();
    let out = super::browser::e2e_dir();
    for (name, png) in &shots {
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
        std::fs::write(out.join(name), png).unwrap();
    }
    s.shutdown().await;
}
