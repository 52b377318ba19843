//! Compliance over time on a simulated year, on both backends: a generated
//! configuration (36 units in three groups; monthly, quarterly,
//! six-monthly, annual, one-off and daily reports) and, from a seeded
//! random generator, a mix of receipts on time and late, never, corrections,
//! extensions (some revoked), waivers and revoked receipts. At 15/02/2027,
//! for the year 2026:
//!
//! - every cell the assessment folds is `tracking::status` of that one
//!   (obligation, period, unit);
//! - every unit's, group's and the total figures equal a fold, written
//!   here on its own, of `tracking::status` of each report-period;
//! - each CSV table equals its sheet of the .xlsx workbook read back with
//!   calamine (another author's reader), and no cell is a formula.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use calamine::{Data, Reader as _, Xlsx};
use hanbao::calendar::WorkCalendar;
use hanbao::config::model::Config;
use hanbao::status::{Moment, StateName};
use hanbao::store::{
    Key, NewExtension, NewSubmission, NewWaiver, Records, Revocation, Source, Store, Subject,
};
use hanbao::tracking::compliance::{self, Figures, Range, Table};
use hanbao::tracking::{self, Selection, sheets};
use jiff::Timestamp;
use jiff::civil::{Date, date};

use crate::support::backend::{Backend, stories};

stories!(a_simulated_year_agrees_with_status_for_every_cell);

const GROUPS: [&str; 3] = ["xa", "phuong", "so"];

/// 36 units, 12 per group; one unit's name is a formula and one is markup.
pub fn config_text() -> String {
    let mut t = String::new();
    for (g, name) in GROUPS.iter().zip(["Các xã", "Các phường", "Các sở, ngành"]) {
        t.push_str(&format!("[[group]]\nid = \"{g}\"\nname = \"{name}\"\n\n"));
    }
    t.push_str(
        "[[unit]]\nid = \"ubnd-tinh\"\nname = \"UBND tỉnh Quảng Ngãi\"\nemail = \"vt@tinh.example\"\n\n",
    );
    for (gi, g) in GROUPS.iter().enumerate() {
        for i in 0..12 {
            let id = format!("{g}-{i:02}");
            let name = match (gi, i) {
                (0, 3) => "=HYPERLINK(\"http://x.example\",\"Xã Hòa Hiệp\")".to_string(),
                (1, 5) => "Phường <b>Trần Phú</b> & \"Nghĩa Lộ\"".to_string(),
                (0, _) => format!("UBND xã Hòa Hiệp {i}"),
                (1, _) => format!("UBND phường Đức Phổ {i}"),
                _ => format!("Sở Tài nguyên và Môi trường {i}"),
            };
            t.push_str(&format!(
                "[[unit]]\nid = \"{id}\"\nname = '{name}'\nemail = \"vt@{id}.example\"\ngroups = [\"{g}\"]\n\n"
            ));
        }
    }
    let ob = |id: &str, title: &str, reporters: &str, cycle: &str, due: &str| {
        format!(
            "[[obligation]]\nid = \"{id}\"\ntitle = \"{title}\"\nreporters = [{reporters}]\nrecipient = \"ubnd-tinh\"\ncycle = \"{cycle}\"\ndue = \"{due}\"\n\n"
        )
    };
    t.push_str(&ob(
        "bc-thang",
        "Báo cáo tháng",
        "\"xa\", \"phuong\", \"so\"",
        "monthly",
        "5 ngày làm việc",
    ));
    t.push_str(&ob(
        "bc-quy",
        "Báo cáo quý",
        "\"xa\", \"phuong\"",
        "quarterly",
        "ngày 20",
    ));
    t.push_str(&ob(
        "bc-6thang",
        "Báo cáo 6 tháng",
        "\"so\"",
        "six-monthly",
        "10 ngày",
    ));
    t.push_str(&ob(
        "bc-nam",
        "Báo cáo năm",
        "\"xa\", \"phuong\", \"so\"",
        "annual",
        "15 ngày",
    ));
    t.push_str(&ob(
        "bc-ngay",
        "Báo cáo ngày",
        "\"so-00\", \"so-01\", \"so-02\"",
        "daily",
        "ngày làm việc tiếp theo",
    ));
    t.push_str(
        "[[obligation]]\nid = \"tongket-2026\"\ntitle = \"Tổng kết chuyên đề\"\nreporters = [\"xa\"]\nrecipient = \"ubnd-tinh\"\ncycle = \"once\"\nperiod_start = \"01/01/2026\"\nperiod_end = \"31/08/2026\"\ndue = \"15/09/2026\"\n\n",
    );
    t
}

pub fn config() -> Config {
    hanbao::config::load_str("compliance.toml", &config_text())
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

fn now() -> Timestamp {
    Timestamp::from_second(1_790_000_000).unwrap()
}

fn plus(d: Date, days: i64) -> Date {
    d.checked_add(jiff::Span::new().days(days)).unwrap()
}

fn sub(key: Key, on: Date, reference: String, correction: bool) -> NewSubmission {
    NewSubmission {
        key,
        received_on: on,
        received_at: None,
        reference: Some(reference),
        note: None,
        actor: "Văn thư".into(),
        source: Source::Cli,
        correction,
    }
}

fn revocation(key: Key, subject: Subject) -> Revocation {
    Revocation {
        key,
        subject,
        reason: Some("ghi nhầm".into()),
        actor: "Điều phối".into(),
        source: Source::Web,
    }
}

/// The year 2026 assessed on 15/02/2027.
fn at() -> Moment {
    Moment::from(date(2027, 2, 15))
}

fn year() -> Range {
    Range::year(2026).unwrap()
}

/// Writes a random year through the store (seeded: the same every run).
pub async fn simulate(store: &Store, cfg: &Config, cal: &WorkCalendar, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut bulk = Vec::new();
    let mut corrections = Vec::new();
    for (ob, period) in compliance::pairs(cfg, cal, year()) {
        let sel = Selection {
            obligation: Some(ob.id.clone()),
            period: Some(period.clone()),
            unit: None,
        };
        let rows = tracking::status(store, cfg, cal, &sel, at()).await.unwrap();
        for r in rows {
            let key = Key::new(&ob.id, &period, &r.unit.id);
            let due = r.status.due;
            let reference = format!("{}/BC", rng.u32(1..999));
            match rng.u32(0..100) {
                // On time: between the due day and a week before it.
                0..45 => bulk.push(sub(key, plus(due, -rng.i64(0..7)), reference, false)),
                // Late by 1 to 60 days (some into 2027).
                45..70 => {
                    let on = plus(due, rng.i64(1..61));
                    if on <= at().day {
                        bulk.push(sub(key.clone(), on, reference.clone(), false));
                        if rng.u32(0..4) == 0 {
                            corrections.push(sub(key, plus(on, -1), reference, true));
                        }
                    }
                }
                // Never.
                70..80 => {}
                80..85 => {
                    store
                        .grant_waiver(
                            NewWaiver {
                                key: key.clone(),
                                reason: "sáp nhập".into(),
                                actor: "Giám đốc Sở".into(),
                                source: Source::Cli,
                            },
                            now(),
                        )
                        .await
                        .unwrap();
                    if rng.u32(0..3) == 0 {
                        store
                            .revoke(revocation(key, Subject::Waiver), now())
                            .await
                            .unwrap();
                    }
                }
                85..95 => {
                    let until = plus(due, rng.i64(3..20));
                    store
                        .grant_extension(
                            NewExtension {
                                key: key.clone(),
                                until,
                                reason: "lũ lụt".into(),
                                actor: "Giám đốc Sở".into(),
                                source: Source::Cli,
                            },
                            now(),
                        )
                        .await
                        .unwrap();
                    match rng.u32(0..4) {
                        0 => store
                            .revoke(revocation(key, Subject::Extension), now())
                            .await
                            .map(|_| ())
                            .unwrap(),
                        1 => {}
                        _ => bulk.push(sub(key, plus(until, rng.i64(-3..6)), reference, false)),
                    }
                }
                // Received, then revoked as recorded by mistake.
                _ => {
                    store
                        .record_submission(sub(key.clone(), due, reference, false), now())
                        .await
                        .unwrap();
                    store
                        .revoke(revocation(key, Subject::Submission), now())
                        .await
                        .unwrap();
                }
            }
        }
    }
    store.import_submissions(bulk, now()).await.unwrap();
    for c in corrections {
        store.record_submission(c, now()).await.unwrap();
    }
}

/// The figures of one set of cells, counted here from the state names.
#[derive(Debug, Default, Clone, PartialEq)]
struct Count {
    owed: u32,
    on_time: u32,
    late: u32,
    days: i64,
    worst: Option<i32>,
    working: i64,
    never: u32,
    not_yet: u32,
    extensions: u32,
    waivers: u32,
}

impl Count {
    fn of(f: &Figures) -> Count {
        Count {
            owed: f.owed,
            on_time: f.on_time,
            late: f.late,
            days: f.days_late_total,
            worst: f.days_late_worst,
            working: f.working_days_late_total,
            never: f.never_sent,
            not_yet: f.not_yet_due,
            extensions: f.extensions,
            waivers: f.waivers,
        }
    }

    fn add(&mut self, r: &tracking::Row<'_>) {
        let s = &r.status;
        self.extensions += u32::from(s.extended);
        match s.state.as_str() {
            "waived" => {
                self.waivers += 1;
                return;
            }
            "submitted_on_time" => self.on_time += 1,
            "submitted_late" => {
                self.late += 1;
                self.days += i64::from(s.days_late.unwrap());
                self.working += i64::from(s.working_days_late.unwrap());
                self.worst = Some(self.worst.unwrap_or(0).max(s.days_late.unwrap()));
            }
            "overdue" => self.never += 1,
            _ => self.not_yet += 1,
        }
        self.owed += 1;
    }

    fn merge(&mut self, o: &Count) {
        self.owed += o.owed;
        self.on_time += o.on_time;
        self.late += o.late;
        self.days += o.days;
        self.worst = match (self.worst, o.worst) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.working += o.working;
        self.never += o.never;
        self.not_yet += o.not_yet;
        self.extensions += o.extensions;
        self.waivers += o.waivers;
    }
}

/// A sheet's cells as the CSV shows them: text through the spreadsheet
/// escaping, numbers with the CSV's decimals.
fn sheet_rows(book: &mut Xlsx<Cursor<Vec<u8>>>, table: Table) -> Vec<Vec<String>> {
    let range = book.worksheet_range(table.title()).unwrap();
    let header = table.header();
    let lead = header.len() - compliance::FIGURE_COLUMNS.len();
    let (decimals, percent_col) = ([lead + 3, lead + 5], header.len() - 1);
    range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            row.iter()
                .enumerate()
                .map(|(c, cell)| match cell {
                    Data::Empty => String::new(),
                    Data::String(s) => hanbao::escape::spreadsheet(s).into_owned(),
                    Data::Float(f) if i > 0 && c == percent_col => format!("{:.1}", f * 100.0),
                    Data::Float(f) if i > 0 && decimals.contains(&c) => format!("{f:.1}"),
                    Data::Float(f) => {
                        assert_eq!(f.fract(), 0.0, "{}: a count", table.title());
                        format!("{}", *f as i64)
                    }
                    Data::Int(n) => n.to_string(),
                    other => panic!("{}: unexpected cell {other:?}", table.title()),
                })
                .collect()
        })
        .collect()
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a BOM");
    assert!(text.ends_with("\r\n"));
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

async fn a_simulated_year_agrees_with_status_for_every_cell(b: &Backend) {
    let store = b.open().await;
    let cfg = config();
    let cal = WorkCalendar::new(&cfg.calendar);
    simulate(&store, &cfg, &cal, 15).await;

    // Every cell the assessment folds is status's cell for that one key.
    let mut cells = Vec::new();
    let pairs = compliance::for_each_pair(&store, &cfg, &cal, year(), at(), |rows| {
        cells.extend(rows.iter().map(|r| {
            (
                r.obligation.id.clone(),
                r.period.to_string(),
                r.unit.id.clone(),
                r.status.clone(),
            )
        }))
    })
    .await
    .unwrap();
    // 12 months + 4 quarters + 2 halves + 1 year + the one-off + the
    // working days of 2026 (each ending in 2026).
    assert!(pairs > 20 + 240, "{pairs} report-periods");
    let mut states: HashMap<StateName, usize> = HashMap::new();
    for (ob, period, unit, st) in &cells {
        let sel = Selection {
            obligation: Some(ob.clone()),
            period: Some(period.clone()),
            unit: Some(unit.clone()),
        };
        let one = tracking::status(&store, &cfg, &cal, &sel, at())
            .await
            .unwrap();
        assert_eq!(one.len(), 1, "{ob} {period} {unit}");
        assert_eq!(&one[0].status, st, "{ob} {period} {unit}");
        *states.entry(st.state).or_default() += 1;
    }
    // The random year has every state an assessment counts.
    for s in [
        StateName::SubmittedOnTime,
        StateName::SubmittedLate,
        StateName::Overdue,
        StateName::Waived,
    ] {
        assert!(
            states.get(&s).copied().unwrap_or(0) > 5,
            "{s:?}: {states:?}"
        );
    }
    assert!(cells.iter().any(|c| c.3.extended), "some extensions");

    // Each figure equals a fold, written here, of status per report-period,
    // the periods enumerated here from the planner.
    let mut by_unit: BTreeMap<String, Count> = BTreeMap::new();
    let mut by_report: BTreeMap<(String, String), Count> = BTreeMap::new();
    let mut seen_pairs = 0;
    for ob in &cfg.obligations {
        for p in hanbao::planner::periods_ending_in(ob, year().from, year().to) {
            if !hanbao::planner::owed_on_calendar(ob, &cal, p.window) {
                continue;
            }
            seen_pairs += 1;
            let sel = Selection {
                obligation: Some(ob.id.clone()),
                period: Some(p.key.to_string()),
                unit: None,
            };
            for r in tracking::status(&store, &cfg, &cal, &sel, at())
                .await
                .unwrap()
            {
                by_unit.entry(r.unit.id.clone()).or_default().add(&r);
                by_report
                    .entry((r.unit.id.clone(), ob.id.clone()))
                    .or_default()
                    .add(&r);
            }
        }
    }
    assert_eq!(seen_pairs, pairs);
    let c = compliance::compute(&store, &cfg, &cal, year(), at())
        .await
        .unwrap();
    assert_eq!(c.pairs, pairs);
    assert_eq!(c.units.len(), by_unit.len());
    for u in &c.units {
        assert_eq!(
            Count::of(&u.figures),
            by_unit[&u.unit.id],
            "unit {}",
            u.unit.id
        );
    }
    assert_eq!(c.reports.len(), by_report.len());
    for r in &c.reports {
        let k = (r.unit.id.clone(), r.obligation.id.clone());
        assert_eq!(Count::of(&r.figures), by_report[&k], "{k:?}");
    }
    let mut total = Count::default();
    for g in GROUPS {
        let mut want = Count::default();
        for (id, n) in &by_unit {
            if cfg.unit(id).unwrap().groups.iter().any(|x| x == g) {
                want.merge(n);
            }
        }
        let got = c.groups.iter().find(|x| x.id == g).expect("every group");
        assert_eq!(Count::of(&got.figures), want, "group {g}");
        assert_eq!(got.units, 12);
        total.merge(&want);
    }
    assert_eq!(Count::of(&c.total), total);

    // The CSV tables equal the workbook's sheets.
    let bytes = sheets::workbook(&c, &cfg).unwrap();
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert_eq!(
        book.sheet_names(),
        ["Theo nhóm", "Theo đơn vị", "Theo đơn vị và báo cáo"]
    );
    for table in Table::ALL {
        let csv = csv_rows(&compliance::csv(&c, &cfg, table));
        assert_eq!(csv[0], table.header());
        let sheet = sheet_rows(&mut book, table);
        assert_eq!(sheet, csv, "{}", table.title());
        let expected_rows = match table {
            Table::Groups => c.groups.len(),
            Table::Units => c.units.len(),
            Table::Reports => c.reports.len(),
        };
        assert_eq!(csv.len(), expected_rows + 1);
    }
    // A name that is a formula is text in both: quoted in the CSV, a
    // plain string in the workbook.
    let units = csv_rows(&compliance::csv(&c, &cfg, Table::Units));
    let hostile = units.iter().find(|r| r[0] == "xa-03").unwrap();
    assert_eq!(
        hostile[1],
        "'=HYPERLINK(\"http://x.example\",\"Xã Hòa Hiệp\")"
    );
    let range = book.worksheet_range("Theo đơn vị").unwrap();
    let raw = range
        .rows()
        .find(|r| r[0] == Data::String("xa-03".into()))
        .unwrap();
    assert_eq!(
        raw[1],
        Data::String("=HYPERLINK(\"http://x.example\",\"Xã Hòa Hiệp\")".into())
    );
    // Each unit's row in the CSV carries its figures.
    for (row, u) in units[1..].iter().zip(&c.units) {
        assert_eq!(row[0], u.unit.id);
        assert_eq!(row[3], u.figures.owed.to_string());
        assert_eq!(row[10], u.figures.never_sent.to_string());
    }
    store.close().await;
}

/// `hanbao compliance` (the real binary) prints what the library computes:
/// the CSV byte for byte, the workbook with the CSV's cells, one JSON line
/// per group and unit, and the totals in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_writes_the_same_assessment() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hanbao.toml");
    std::fs::write(&file, config_text()).unwrap();
    let db = dir.path().join("hanbao.db");
    let store = hanbao::store::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let cfg = config();
    let cal = WorkCalendar::new(&cfg.calendar);
    simulate(&store, &cfg, &cal, 3).await;
    let c = compliance::compute(&store, &cfg, &cal, year(), at())
        .await
        .unwrap();
    store.close().await;
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_hanbao"))
            .args(["compliance", "--year", "2026", "--at", "15/02/2027"])
            .args(args)
            .env("HANBAO_CONFIG", &file)
            .env("HANBAO_DATABASE", &db)
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    for t in Table::ALL {
        let csv = run(&["--csv", "-", "--table", t.slug()]);
        assert_eq!(csv, compliance::csv(&c, &cfg, t), "{}", t.title());
    }
    let book = dir.path().join("danh-gia.xlsx");
    run(&["--xlsx", book.to_str().unwrap()]);
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(std::fs::read(&book).unwrap())).unwrap();
    for t in Table::ALL {
        assert_eq!(
            sheet_rows(&mut wb, t),
            csv_rows(&compliance::csv(&c, &cfg, t))
        );
    }
    let json = String::from_utf8(run(&["--json"])).unwrap();
    assert_eq!(json.lines().count(), c.groups.len() + c.units.len());
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["group"], c.groups[0].id.as_str());
    assert_eq!(first["owed"], c.groups[0].figures.owed);
    let text = String::from_utf8(run(&[])).unwrap();
    assert!(
        text.contains(&format!(
            "Tổng: phải nộp {}, đúng hạn {}",
            c.total.owed, c.total.on_time
        )),
        "{text}"
    );
    assert!(text.contains("Các sở, ngành (12 đơn vị)"), "{text}");
    // A reversed range is refused before the database is read.
    let out = Command::new(env!("CARGO_BIN_EXE_hanbao"))
        .args(["compliance", "--from", "31/12/2026", "--to", "01/01/2026"])
        .env("HANBAO_CONFIG", &file)
        .env("HANBAO_DATABASE", &db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sau --to"));
}
