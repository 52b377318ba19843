//! The second sample, `config/quang-tri-bao-cao-dinh-ky.toml` (periodic
//! reporting regimes from Decree 09/2019, Circular 01/2020/TT-VPCP and
//! Circular 04/2016/TT-BNNPTNT, for a province after the 2025 reform): it
//! loads without warnings, its whole 2026 plan matches the golden file, and a
//! table of deadlines, reminders and escalations checked by hand against the
//! 2026 calendar pins the dates the golden file holds.
//!
//! `tests/golden/quang-tri-bao-cao-dinh-ky-2026.jsonl` is the output of
//! `hanbao --config config/quang-tri-bao-cao-dinh-ky.toml plan --from 2026-01-01 --to 2026-12-31 --json`.
//! Regenerate with `HANBAO_UPDATE_GOLDEN=1 cargo test --test it golden_quang_tri`
//! and review the diff against the table below.
//!
//! The 2026 calendar used by hand (civil servants, Saturday and Sunday off):
//! New Year Thu 1/1 and the swapped Fri 2/1 off, Sat 10/1 worked but not
//! counted for deadlines (`makeup_saturday_counts = false`); Tết Sat 14/2 to
//! Sun 22/2 (the five Tết days Mon 16/2 to Fri 20/2); Hùng Kings 10/3 lunar
//! = Sun 26/4, compensatory Mon 27/4; Thu 30/4 and Fri 1/5; National Day
//! Mon 31/8 (swapped for Sat 22/8), Tue 1/9 and Wed 2/9; Culture Day Tue 24/11.

use std::path::Path;

use hanbao::calendar::WorkCalendar;
use hanbao::commands::check;
use hanbao::planner::{Event, Filter, plan};
use jiff::civil::date;

const CONFIG: &str = "config/quang-tri-bao-cao-dinh-ky.toml";
const GOLDEN: &str = "tests/golden/quang-tri-bao-cao-dinh-ky-2026.jsonl";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load() -> hanbao::config::Loaded {
    hanbao::config::load(&root().join(CONFIG))
        .unwrap_or_else(|e| panic!("{}", check::render(&Err(e))))
}

#[test]
fn second_sample_loads_without_warnings() {
    let loaded = load();
    assert!(
        loaded.warnings.is_empty(),
        "{}",
        check::render(&Ok(loaded.clone()))
    );
    let c = &loaded.config;
    // Government office, provincial PC, its office, 6 departments, the
    // veterinary sub-department, 3 stations, 5 communes.
    assert_eq!(c.units.len(), 18);
    let ids: Vec<&str> = c.obligations.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "vpcp-cuochop-xa",
            "vpcp-cuochop-tinh",
            "tt04-thuysan-thang-tram",
            "tt04-thuysan-thang-chicuc",
            "tt04-thuysan-6thang",
            "tt04-thuysan-nam",
            "nd09-thang-so",
            "nd09-thang-tinh",
        ]
    );
    // Every obligation names its source: a document number and an article.
    for o in &c.obligations {
        let basis = o.legal_basis.as_deref().unwrap_or_default();
        assert!(
            basis.contains("Điều") && (basis.contains("/NĐ-CP") || basis.contains("/TT-")),
            "{}: legal_basis {basis:?} lacks a document and an article",
            o.id
        );
    }
}

#[test]
fn second_sample_plan_for_2026() {
    let loaded = load();
    let cal = WorkCalendar::new(&loaded.config.calendar);
    let events = plan(
        &loaded.config,
        &cal,
        date(2026, 1, 1),
        date(2026, 12, 31),
        &Filter::default(),
    );
    let got = hanbao::planner::events::to_json_lines(&events);
    let golden = root().join(GOLDEN);
    crate::golden::same_as_golden(&golden, &got);
}

/// One date checked by hand: the event of (obligation, period, unit, kind,
/// stage) happens at `at` (local) and belongs to the due day `due`.
struct Case {
    obligation: &'static str,
    period: &'static str,
    unit: &'static str,
    kind: &'static str,
    stage: u32,
    at: &'static str,
    due: &'static str,
}

const fn case(
    obligation: &'static str,
    period: &'static str,
    unit: &'static str,
    kind: &'static str,
    stage: u32,
    at: &'static str,
    due: &'static str,
) -> Case {
    Case {
        obligation,
        period,
        unit,
        kind,
        stage,
        at,
        due,
    }
}

/// Hand-checked 2026 dates. Deadlines are 24:00 of the due day (shown as
/// 00:00 the day after); reminders and escalations are at the start of the
/// sending hours (07:30); reminders move back to a working day, escalations
/// forward.
const HAND_CHECKED: &[Case] = &[
    // Decree 09 Art. 13.1, "chậm nhất vào ngày 25 của tháng cuối kỳ": the
    // April window (15/3–14/4) ends in April; Sat 25/4 rolls past Sun 26/4
    // (Hùng Kings) and Mon 27/4 (its compensatory day) to Tue 28/4.
    case(
        "nd09-thang-tinh",
        "2026-04",
        "vp-ubnd",
        "deadline",
        0,
        "2026-04-29T00:00",
        "2026-04-28",
    ),
    // Sun 25/1 rolls to Mon 26/1.
    case(
        "nd09-thang-tinh",
        "2026-01",
        "vp-ubnd",
        "deadline",
        0,
        "2026-01-27T00:00",
        "2026-01-26",
    ),
    // Wed 25/2 is a working day (the Tết break ended Sun 22/2).
    case(
        "nd09-thang-tinh",
        "2026-02",
        "vp-ubnd",
        "deadline",
        0,
        "2026-02-26T00:00",
        "2026-02-25",
    ),
    // Its reminder 3 working days before Wed 25/2: Tue 24/2 (1), Mon 23/2
    // (2), then back over Sun 22/2 – Sat 14/2 (weekends and Tết) to Fri 13/2 (3).
    case(
        "nd09-thang-tinh",
        "2026-02",
        "vp-ubnd",
        "reminder",
        1,
        "2026-02-13T07:30",
        "2026-02-25",
    ),
    // Sat 25/7 rolls to Mon 27/7; Sun 25/10 to Mon 26/10.
    case(
        "nd09-thang-tinh",
        "2026-07",
        "vp-ubnd",
        "deadline",
        0,
        "2026-07-28T00:00",
        "2026-07-27",
    ),
    case(
        "nd09-thang-tinh",
        "2026-10",
        "vp-ubnd",
        "deadline",
        0,
        "2026-10-27T00:00",
        "2026-10-26",
    ),
    // Wed 25/11 stands; its "1 ngày làm việc" reminder skips Tue 24/11
    // (Culture Day) to Mon 23/11.
    case(
        "nd09-thang-tinh",
        "2026-11",
        "vp-ubnd",
        "reminder",
        2,
        "2026-11-23T07:30",
        "2026-11-25",
    ),
    // Departments, 2 working days after the cut-off (VÍ DỤ): the February
    // window ends Sat 14/2; Sun 15/2, Tết 16–20/2 and the weekend 21–22/2
    // are not counted: Mon 23/2 (1), Tue 24/2 (2).
    case(
        "nd09-thang-so",
        "2026-02",
        "so-yte",
        "deadline",
        0,
        "2026-02-25T00:00",
        "2026-02-24",
    ),
    // The January window ends Wed 14/1: Thu 15/1 (1), Fri 16/1 (2).
    case(
        "nd09-thang-so",
        "2026-01",
        "so-taichinh",
        "deadline",
        0,
        "2026-01-17T00:00",
        "2026-01-16",
    ),
    // The March window ends Sat 14/3: Mon 16/3 (1), Tue 17/3 (2).
    case(
        "nd09-thang-so",
        "2026-03",
        "so-nnmt",
        "deadline",
        0,
        "2026-03-18T00:00",
        "2026-03-17",
    ),
    // Circular 04/2016 Art. 4.6(a), station to sub-department "trước ngày 10
    // của tháng tiếp theo" (written as the 9th): January's report Mon 9/2.
    case(
        "tt04-thuysan-thang-tram",
        "2026-01",
        "tram-thuy-dongha",
        "deadline",
        0,
        "2026-02-10T00:00",
        "2026-02-09",
    ),
    // April's: Sat 9/5 rolls to Mon 11/5.
    case(
        "tt04-thuysan-thang-tram",
        "2026-04",
        "tram-thuy-vinhlinh",
        "deadline",
        0,
        "2026-05-12T00:00",
        "2026-05-11",
    ),
    // Sub-department to department "trước ngày 15" (the 14th): January's
    // Sat 14/2 is the first day of the Tết break, rolled to Mon 23/2.
    case(
        "tt04-thuysan-thang-chicuc",
        "2026-01",
        "chicuc-cnty",
        "deadline",
        0,
        "2026-02-24T00:00",
        "2026-02-23",
    ),
    // Its reminder 2 working days before Mon 23/2: back over the break to
    // Fri 13/2 (1), Thu 12/2 (2).
    case(
        "tt04-thuysan-thang-chicuc",
        "2026-01",
        "chicuc-cnty",
        "reminder",
        1,
        "2026-02-12T07:30",
        "2026-02-23",
    ),
    // October's: Sat 14/11 rolls to Mon 16/11.
    case(
        "tt04-thuysan-thang-chicuc",
        "2026-10",
        "chicuc-cnty",
        "deadline",
        0,
        "2026-11-17T00:00",
        "2026-11-16",
    ),
    // Art. 4.6(c), the 2025 annual report "trước ngày 15 tháng 01 của năm
    // tiếp theo": Wed 14/1/2026. Its "5 ngày làm việc" reminder: Tue 13/1
    // (1), Mon 12/1 (2), Fri 9/1 (3), Thu 8/1 (4), Wed 7/1 (5); the make-up
    // Saturday 10/1 does not count.
    case(
        "tt04-thuysan-nam",
        "2025",
        "chicuc-cnty",
        "deadline",
        0,
        "2026-01-15T00:00",
        "2026-01-14",
    ),
    case(
        "tt04-thuysan-nam",
        "2025",
        "chicuc-cnty",
        "reminder",
        1,
        "2026-01-07T07:30",
        "2026-01-14",
    ),
    // Art. 4.6(b), first half "trước ngày 15 tháng 7": Tue 14/7; the
    // "5 ngày làm việc" reminder Tue 7/7 (Mon 13, Fri 10, Thu 9, Wed 8, Tue 7).
    case(
        "tt04-thuysan-6thang",
        "2026-H1",
        "chicuc-cnty",
        "deadline",
        0,
        "2026-07-15T00:00",
        "2026-07-14",
    ),
    case(
        "tt04-thuysan-6thang",
        "2026-H1",
        "chicuc-cnty",
        "reminder",
        1,
        "2026-07-07T07:30",
        "2026-07-14",
    ),
    // Circular 01/2020/TT-VPCP Art. 11.4(a): communes "chậm nhất vào ngày 17
    // tháng 12": Thu 17/12, before the year's end (the Decree 09 annual window
    // 15/12/2025–14/12/2026 is over by then). Reminder 5 working days before:
    // Thu 10/12.
    case(
        "vpcp-cuochop-xa",
        "2026",
        "ubnd-dk-conco",
        "deadline",
        0,
        "2026-12-18T00:00",
        "2026-12-17",
    ),
    case(
        "vpcp-cuochop-xa",
        "2026",
        "ubnd-dk-conco",
        "reminder",
        1,
        "2026-12-10T07:30",
        "2026-12-17",
    ),
    // Art. 11.4(c): the province "chậm nhất vào ngày 22 tháng 12": Tue 22/12;
    // the escalation "0 ngày" the next morning, Wed 23/12.
    case(
        "vpcp-cuochop-tinh",
        "2026",
        "vp-ubnd",
        "escalation",
        1,
        "2026-12-23T07:30",
        "2026-12-22",
    ),
];

#[test]
fn second_sample_dates_checked_by_hand() {
    let loaded = load();
    let cal = WorkCalendar::new(&loaded.config.calendar);
    let events = plan(
        &loaded.config,
        &cal,
        date(2026, 1, 1),
        date(2026, 12, 31),
        &Filter::default(),
    );
    let find = |c: &Case| -> Option<&Event<'_>> {
        events.iter().find(|e| {
            e.obligation.id == c.obligation
                && e.period.to_string() == c.period
                && e.unit.id == c.unit
                && e.kind.as_str() == c.kind
                && e.stage == c.stage
        })
    };
    let mut wrong = Vec::new();
    for c in HAND_CHECKED {
        let Some(e) = find(c) else {
            wrong.push(format!(
                "{} {} {} {} {}: no such event",
                c.obligation, c.period, c.unit, c.kind, c.stage
            ));
            continue;
        };
        let at = e.local().strftime("%Y-%m-%dT%H:%M").to_string();
        let due = e.due.to_string();
        if at != c.at || due != c.due {
            wrong.push(format!(
                "{} {} {} {} {}: at {at} due {due}, by hand at {} due {}",
                c.obligation, c.period, c.unit, c.kind, c.stage, c.at, c.due
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
