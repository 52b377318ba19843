//! `hanbao units import` on the real binary, with registers made in
//! LibreOffice from `tests/fixtures/units/*.csv` (saved as .xlsx and .ods,
//! Vietnamese headers): `don-vi.*` has one bad mailbox (cell D7),
//! `don-vi-dung.*` none. Made with `soffice --headless
//! --infilter=CSV:44,34,76,1 --convert-to xlsx` (and `ods`) from the CSV.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/units")
        .join(name)
}

fn hanbao(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hanbao"))
        .args(["--config", dir.join("hanbao.toml").to_str().unwrap()])
        .args(args)
        .env_remove("HANBAO_CONFIG")
        .env_remove("HANBAO_STATE_DIR")
        .env_remove("HANBAO_DATABASE")
        .current_dir(dir)
        .output()
        .unwrap()
}

fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The bad mailbox is reported at its cell, alone, and nothing is written,
/// from the .xlsx, the .ods and the CSV they were made from.
#[test]
fn a_bad_mailbox_is_reported_at_its_cell_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["don-vi.xlsx", "don-vi.ods", "don-vi.csv"] {
        let out = hanbao(
            dir.path(),
            &[
                "units",
                "import",
                fixture(name).to_str().unwrap(),
                "--out",
                "don-vi.toml",
            ],
        );
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {stdout}\n{stderr}");
        assert!(
            stderr.contains(
                "1 lỗi, không ghi gì:\n  D7: hộp thư \"vanthu@bato quangngai\" không hợp lệ"
            ),
            "{name}: {stderr}"
        );
        assert_eq!(
            stderr.lines().count(),
            2,
            "{name}: one problem only:\n{stderr}"
        );
        assert!(
            !dir.path().join("don-vi.toml").exists(),
            "{name}: wrote a file"
        );
    }
}

/// The good register gives the same units file from .xlsx, .ods and .csv,
/// quietly (no progress drawn: stderr is not a terminal); filled into a
/// configuration, it passes `hanbao check`.
#[test]
fn a_good_register_becomes_a_units_file_that_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for name in ["don-vi-dung.xlsx", "don-vi-dung.ods", "don-vi-dung.csv"] {
        let out_name = format!("{name}.toml");
        let out = hanbao(
            dir.path(),
            &[
                "units",
                "import",
                fixture(name).to_str().unwrap(),
                "--out",
                &out_name,
            ],
        );
        let (stdout, stderr) = texts(&out);
        assert!(out.status.success(), "{name}: {stdout}\n{stderr}");
        assert!(stderr.is_empty(), "{name}: nothing on stderr: {stderr}");
        assert!(
            stdout.starts_with(&format!(
                "Đã ghi 7 đơn vị vào {out_name} (và 1 nhóm mới: ubnd-xa"
            )),
            "{stdout}"
        );
        let text = std::fs::read_to_string(dir.path().join(&out_name)).unwrap();
        // The first line names the source file; the rest is the same.
        files.push(text.split_once('\n').unwrap().1.to_string());
    }
    assert_eq!(files[0], files[1], "xlsx and ods");
    assert_eq!(files[0], files[2], "xlsx and csv");
    let units = &files[0];
    assert!(
        units.contains("name = \"UBND phường Cẩm Thành\""),
        "{units}"
    );
    assert!(
        units.contains(
            "email = [\"vanthu@nghialo.quangngai.example\", \"vhxh@nghialo.quangngai.example\"]"
        ),
        "{units}"
    );
    assert!(
        units.contains(
            "head = { name = \"Nguyễn Văn An\", email = \"an.nv@camthanh.quangngai.example\" }"
        ),
        "{units}"
    );

    // Again without --force: refused, the file kept.
    let out = hanbao(
        dir.path(),
        &[
            "units",
            "import",
            fixture("don-vi-dung.csv").to_str().unwrap(),
            "--out",
            "don-vi-dung.csv.toml",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(texts(&out).1.contains("--force"));

    std::fs::write(
        dir.path().join("hanbao.toml"),
        format!(
            "include = [\"don-vi-dung.xlsx.toml\"]\n\
             [daemon]\nstate_dir = \"{}\"\n\
             [[obligation]]\nid = \"bc-tre-em\"\ntitle = \"Báo cáo công tác trẻ em\"\n\
             reporters = [\"ubnd-xa\"]\nrecipient = \"so-y-te\"\ncycle = \"six-monthly\"\n\
             due = \"ngày 15\"\n",
            dir.path().join("state").display()
        ),
    )
    .unwrap();
    let out = hanbao(dir.path(), &["check"]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
}

/// `hanbao init DIR`: a starter configuration that `check` refuses while
/// its placeholders are there, and passes once they are filled (every
/// placeholder replaced programmatically); a second `init` refuses to
/// overwrite.
#[test]
fn init_writes_a_configuration_that_passes_check_once_filled() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("etc-hanbao");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .args(args)
            .env_remove("HANBAO_CONFIG")
            .env_remove("HANBAO_STATE_DIR")
            .env_remove("HANBAO_DATABASE")
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = run(&["init", conf.to_str().unwrap()]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("<<TINH>>, <<SO>>, <<MIEN>>, <<XA_1>>, <<XA_2>>"),
        "{stdout}"
    );
    let main = conf.join("hanbao.toml");
    let state = dir.path().join("state");
    let check = || {
        run(&[
            "--config",
            main.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "check",
        ])
    };
    let out = check();
    assert_eq!(out.status.code(), Some(78), "placeholders fail check");
    assert!(texts(&out).0.contains("<<MIEN>>"), "{}", texts(&out).0);

    let values = [
        ("<<TINH>>", "Quảng Ngãi"),
        ("<<SO>>", "Sở Y tế"),
        ("<<MIEN>>", "quangngai.gov.vn"),
        ("<<XA_1>>", "xã Tịnh Khê"),
        ("<<XA_2>>", "phường Cẩm Thành"),
    ];
    for name in ["hanbao.toml", "don-vi.toml", "bao-cao.toml"] {
        let path = conf.join(name);
        let mut text = std::fs::read_to_string(&path).unwrap();
        for (k, v) in values {
            text = text.replace(k, v);
        }
        assert!(!text.contains("<<"), "{name}: a placeholder left:\n{text}");
        std::fs::write(&path, text).unwrap();
    }
    let out = check();
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("0 cảnh báo") && !stdout.contains("Cảnh báo ("),
        "no warnings:\n{stdout}"
    );
    let units = std::fs::read_to_string(conf.join("don-vi.toml")).unwrap();
    assert!(
        units
            .lines()
            .filter(|l| l.starts_with("name ="))
            .all(|l| !l.contains("huyện")),
        "no district units since 1/7/2025"
    );

    // A year of it through the real pipeline: messages, and no progress
    // drawn on stderr (not a terminal), only the log lines.
    let sim = dir.path().join("sim");
    let out = run(&[
        "--config",
        main.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "simulate",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--index-only",
        "--out",
        sim.to_str().unwrap(),
    ]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        !stderr.contains("Mô phỏng (ngày)") && !stderr.contains('\r'),
        "{stderr}"
    );
    let index = std::fs::read_to_string(sim.join("index.tsv")).unwrap();
    assert!(index.lines().count() > 10, "{index}");

    let out = run(&["init", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(texts(&out).1.contains("--force"));
}
