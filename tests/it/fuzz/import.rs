//! `hanbao import`'s reader and checks (`commands::import::import_csv`,
//! the function the command runs) on generated and mutated CSV files,
//! against a real SQLite store.
//!
//! Files: a header of the columns' English and Vietnamese names (in any
//! order and case, sometimes doubled, unknown or missing, sometimes
//! hundreds of them), rows whose fields are valid or odd (dates typed in
//! every odd way, hostile text, NUL and control characters, fields around
//! and far over the length limits, quotes and separators inside), comma
//! or semicolon separated, LF, CRLF or CR line ends, quoted or not; then
//! encoded as UTF-8 with or without a BOM, UTF-16 (either order, with its
//! BOM) or a legacy single-byte encoding, and sometimes mutated byte by
//! byte or with broken quoting.
//!
//! Properties: no panic and no database error; all or nothing: a refusal
//! writes nothing, an import that succeeds records every data row (each
//! row's key, in its canonical form, has a submission in effect) and
//! writes only events from the import; the report of a refusal stays
//! under [`MAX_REPORT`] bytes whatever the file.

use std::sync::Arc;

use hanbao::commands::import::import_csv;
use hanbao::commands::record::Ctx;
use hanbao::store::{Key, Source};
use jiff::Timestamp;
use proptest::prelude::*;

use super::app::{App, OBLIGATIONS};
use super::pools::{ByteMutation, Days, byte_mutation, id, long_text, odd_text, typed_date, unit};
use super::{Bytes, Tally, budget, fuzz_for, one_of, runtime};
use hanbao::store::Records;

/// The most a refusal's report may weigh, in bytes (50 problems of at
/// most 240 characters of at most 4 bytes, and the lines around them).
const MAX_REPORT: usize = 64 * 1024;

/// Header names: every accepted one, with odd variants.
const HEADERS: &[&[&str]] = &[
    &[
        "obligation",
        "Nghĩa vụ",
        "nghia_vu",
        "OBLIGATION",
        " obligation ",
    ],
    &["period", "Kỳ", "ky", "PERIOD"],
    &["unit", "Đơn vị", "don_vi", "Unit"],
    &["received_on", "Ngày nhận", "ngay_nhan", "NGÀY NHẬN"],
    &["reference", "Số văn bản", "so_van_ban"],
    &["note", "Ghi chú", "ghi_chu"],
    &["by", "Người ghi", "nguoi_ghi"],
    &["correction", "Sửa", "sua"],
];

#[derive(Debug, Clone, Copy)]
enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    /// Each character's low byte (what a legacy code page leaves).
    SingleByte,
}

#[derive(Debug, Clone)]
struct CsvCase {
    /// Column indices into [`HEADERS`] (and a name variant), or unknown names.
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    encoding: Encoding,
    mutation: Option<ByteMutation>,
    /// The file shown in a failure report.
    file: Bytes,
}

impl CsvCase {
    /// Whether the file is exactly the structured case (no mutation, UTF-8).
    fn plain(&self) -> bool {
        self.mutation.is_none() && matches!(self.encoding, Encoding::Utf8 | Encoding::Utf8Bom)
    }
}

fn quote(field: &str, sep: char, all: bool) -> String {
    // One character at a time: `str::contains(char)` is the standard
    // library's fast search, and fields may be long.
    if all || [sep, '"', '\n', '\r'].iter().any(|c| field.contains(*c)) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

fn encode(text: &str, enc: Encoding) -> Vec<u8> {
    match enc {
        Encoding::Utf8 => text.as_bytes().to_vec(),
        Encoding::Utf8Bom => [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat(),
        Encoding::Utf16Le => [0xfeffu16]
            .into_iter()
            .chain(text.encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect(),
        Encoding::Utf16Be => [0xfeffu16]
            .into_iter()
            .chain(text.encode_utf16())
            .flat_map(u16::to_be_bytes)
            .collect(),
        Encoding::SingleByte => text.chars().map(|c| c as u32 as u8).collect(),
    }
}

/// A value for column `col` (an index into [`HEADERS`]), or an unknown one.
fn value(col: Option<usize>, days: &Days) -> BoxedStrategy<String> {
    let text = || {
        prop_oneof![
            3 => one_of(&["15/BC-UBND", "CV 12", "", "bản giấy"]).prop_map(str::to_string),
            2 => odd_text(),
            1 => long_text(),
        ]
    };
    match col {
        Some(0) => id(OBLIGATIONS).boxed(),
        Some(1) => days.period().boxed(),
        Some(2) => unit().boxed(),
        Some(3) => typed_date(days.dmy.iter().chain(&days.iso).cloned().collect()).boxed(),
        Some(4 | 5) => text().boxed(),
        Some(6) => prop_oneof![
            3 => Just(String::new()),
            1 => one_of(&["chị Lan", "token:1:Điều phối", "link:so-yte"]).prop_map(str::to_string),
            1 => odd_text(),
        ]
        .boxed(),
        Some(7) => one_of(&["", "có", "không", "x", "yes", "0", "1", "CÓ", "maybe", "\0"])
            .prop_map(str::to_string)
            .boxed(),
        _ => odd_text().boxed(),
    }
}

/// A row with a value for each of `cols` that the import may accept: an
/// owed key of a reporter, received today, short text.
fn clean_row(cols: &[Option<usize>], days: &Days) -> BoxedStrategy<Vec<String>> {
    let cols = cols.to_vec();
    let today = [days.iso[0].clone(), days.dmy[0].clone()];
    (
        days.owed(),
        one_of(&["so-yte", "so-taichinh"]),
        proptest::sample::select(today.to_vec()),
        one_of(&["15/BC-UBND", "CV 12", "", "bản giấy"]),
        one_of(&["", "không", "0"]),
    )
        .prop_map(move |((o, p), u, on, text, flag)| {
            cols.iter()
                .map(|c| match c {
                    Some(0) => o.clone(),
                    Some(1) => p.clone(),
                    Some(2) => u.to_string(),
                    Some(3) => on.clone(),
                    Some(4 | 5) => text.to_string(),
                    Some(7) => flag.to_string(),
                    _ => String::new(),
                })
                .collect()
        })
        .boxed()
}

fn csv_case(days: &Days) -> BoxedStrategy<CsvCase> {
    let days = days.clone();
    // Columns: the four required ones with some optional ones, shuffled,
    // or anything.
    let columns = prop_oneof![
        8 => (proptest::collection::vec(4usize..8, 0..4), any::<u64>()).prop_map(|(extra, seed)| {
            let mut cols: Vec<Option<usize>> = (0..4).chain(extra).map(Some).collect();
            // A shuffle from the seed (the order of columns is free).
            fastrand::Rng::with_seed(seed).shuffle(&mut cols);
            cols
        }),
        2 => proptest::collection::vec(proptest::option::weighted(0.8, 0usize..8), 0..10),
        1 => (1usize..400).prop_map(|n| (0..4).map(Some).chain((0..n).map(|_| None)).collect()),
    ];
    let values: Vec<BoxedStrategy<String>> = (0..=8)
        .map(|c| value((c < 8).then_some(c), &days))
        .collect();
    columns
        .prop_flat_map(move |cols| {
            let names: Vec<BoxedStrategy<String>> = cols
                .iter()
                .map(|c| match c {
                    Some(i) => proptest::sample::select(HEADERS[*i].to_vec())
                        .prop_map(str::to_string)
                        .boxed(),
                    None => prop_oneof![Just("extra".to_string()), odd_text()].boxed(),
                })
                .collect();
            let row: Vec<BoxedStrategy<String>> = cols
                .iter()
                .map(|c| values[c.unwrap_or(8).min(8)].clone())
                .collect();
            let rows = prop_oneof![
                // Rows that could all pass, so that imports also succeed.
                2 => proptest::collection::vec(clean_row(&cols, &days), 1..5),
                3 => proptest::collection::vec(
                    prop_oneof![
                        10 => row.boxed(),
                        // Too few or too many fields, or blank.
                        1 => proptest::collection::vec(odd_text(), 0..12).boxed(),
                    ],
                    0..6,
                ),
            ];
            (
                names,
                rows,
                prop_oneof![6 => Just(','), 4 => Just(';'), 1 => Just('\t')],
                one_of(&["\n", "\r\n", "\r"]),
                any::<bool>(),
                prop_oneof![
                    8 => Just(Encoding::Utf8),
                    3 => Just(Encoding::Utf8Bom),
                    1 => Just(Encoding::Utf16Le),
                    1 => Just(Encoding::Utf16Be),
                    1 => Just(Encoding::SingleByte),
                ],
                proptest::option::weighted(0.2, byte_mutation()),
            )
                .prop_map(
                    |(header, rows, separator, line_end, quote_all, encoding, mutation)| {
                        let line = |fields: &[String]| {
                            fields
                                .iter()
                                .map(|f| quote(f, separator, quote_all))
                                .collect::<Vec<_>>()
                                .join(&separator.to_string())
                        };
                        let mut text = line(&header);
                        for r in &rows {
                            text.push_str(line_end);
                            text.push_str(&line(r));
                        }
                        text.push_str(line_end);
                        let mut file = encode(&text, encoding);
                        if let Some(m) = &mutation {
                            file = m.apply(file);
                        }
                        CsvCase {
                            header,
                            rows,
                            encoding,
                            mutation,
                            file: Bytes(file),
                        }
                    },
                )
        })
        .boxed()
}

/// The column of `name` as the import reads it (trimmed, any case).
fn column(name: &str) -> Option<usize> {
    let n = name.trim().to_lowercase();
    HEADERS
        .iter()
        .position(|names| names.iter().any(|h| h.trim().to_lowercase() == n))
}

async fn check(app: &App, case: &CsvCase) -> String {
    let live = app.state.live();
    let now = Timestamp::now();
    let ctx = Ctx {
        cfg: &live.cfg,
        // A clone: building a calendar takes milliseconds.
        cal: live.cal.clone(),
        now,
        today: live.today(now),
        default_actor: "fuzz".into(),
    };
    let outcome = import_csv(&app.store, &ctx, "fuzz.csv", &case.file.0)
        .await
        .unwrap_or_else(|e| panic!("import failed ({e}) for {case:?}"));
    let new = app.settle().await;
    match outcome.code {
        1 => {
            assert!(new.is_empty(), "refused but wrote {new:#?} for {case:?}");
            assert!(
                outcome.text.len() <= MAX_REPORT,
                "a report of {} bytes for {case:?}: {}…",
                outcome.text.len(),
                outcome.text.chars().take(2000).collect::<String>()
            );
            if std::env::var_os("HANBAO_FUZZ_SHOW").is_some() {
                eprintln!("{}", outcome.text.chars().take(600).collect::<String>());
            }
            "refused".into()
        }
        0 => {
            for e in &new {
                assert_eq!(e.source, Source::Import, "{e:?} for {case:?}");
            }
            if case.plain() {
                every_row_recorded(app, &ctx, case).await;
            }
            if new.is_empty() {
                "nothing new"
            } else {
                "recorded"
            }
            .into()
        }
        code => panic!("exit code {code} for {case:?}: {}", outcome.text),
    }
}

/// After an import that succeeded, every data row's key (canonical) has a
/// submission in effect.
async fn every_row_recorded(app: &App, ctx: &Ctx<'_>, case: &CsvCase) {
    let col = |name: usize| case.header.iter().position(|h| column(h) == Some(name));
    let (o, p, u) = (col(0).unwrap(), col(1).unwrap(), col(2).unwrap());
    for row in &case.rows {
        if row.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let d = hanbao::tracking::resolve(
            ctx.cfg,
            &ctx.cal,
            row[o].trim(),
            row[p].trim(),
            row[u].trim(),
        )
        .unwrap_or_else(|e| panic!("imported a row that does not resolve ({e}): {case:?}"));
        let key = Key::new(&d.obligation.id, d.period.to_string(), &d.unit.id);
        let current = app.store.current_for(&key).await.unwrap();
        assert!(
            current.submission.is_some(),
            "row {row:?} imported but {key} has no submission: {case:?}"
        );
    }
}

#[test]
fn fuzz_csv_import() {
    let rt = runtime();
    let app = Arc::new(rt.block_on(App::start()));
    let tally = Tally::default();
    let (a, t) = (app.clone(), tally.clone());
    fuzz_for(
        "import",
        budget() / 4,
        csv_case(&app.days),
        move |c: CsvCase| t.add(rt.block_on(check(&a, &c))),
    );
    tally.report("import");
}

// ---------------------------------------------------------------------------
// Regressions: one test per bug found.

/// A refused file's report listed every problem, each quoting its value
/// whole: hundreds of unknown columns or a bad 50 MB file gave a report as
/// large. Now it lists the first problems, each cut, and counts the rest.
#[test]
fn import_report_of_a_huge_bad_file_is_bounded() {
    let rt = runtime();
    rt.block_on(async {
        let app = App::start().await;
        let live = app.state.live();
        let now = Timestamp::now();
        let ctx = Ctx {
            cfg: &live.cfg,
            cal: live.cal.clone(),
            now,
            today: live.today(now),
            default_actor: "fuzz".into(),
        };
        let long = "x".repeat(100_000);
        let mut file = format!("obligation,period,unit,received_on,{long},{long}\n");
        for _ in 0..10 {
            file.push_str(&format!("bc-quy,2026-Q1,so-yte,{long},a,b\n"));
        }
        let out = import_csv(&app.store, &ctx, "big.csv", file.as_bytes())
            .await
            .unwrap();
        assert_eq!(out.code, 1);
        assert!(out.text.len() < 2_000, "{} bytes", out.text.len());
        assert!(out.text.contains("2 lỗi"), "{}", out.text);
        assert!(out.text.contains("xxx…"), "{}", out.text);

        let mut file = String::from("obligation,period,unit,received_on\n");
        for _ in 0..5_000 {
            file.push_str(&format!("bc-quy,2026-Q1,so-yte,{}\n", &long[..500]));
        }
        let out = import_csv(&app.store, &ctx, "big.csv", file.as_bytes())
            .await
            .unwrap();
        assert_eq!(out.code, 1);
        assert!(out.text.len() < 20_000, "{} bytes", out.text.len());
        assert!(out.text.contains("5000 lỗi"), "{}", out.text);
        assert!(out.text.contains("… và 4950 lỗi khác"), "{}", out.text);
        assert!(app.settle().await.is_empty());
    });
}
