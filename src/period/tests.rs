//! Tests of period keys, their words and windows.

use super::*;
use jiff::civil::date;

#[test]
fn parse_and_display_round_trip() {
    for s in [
        "2026-H1",
        "2026-H2",
        "2026-9M",
        "2026",
        "2026-Q3",
        "2026-05",
        "2026-12",
        "1901-01",
        "2026-05-15",
        "2024-02-29",
        "2026-W01",
        "2026-W23",
        "2026-W53",
        "2020-W53",
        "2026-05-D1",
        "2026-05-D3",
        "2026-12-H2",
    ] {
        let k = PeriodKey::parse(s).unwrap();
        assert_eq!(k.to_string(), s);
    }
    assert_eq!(
        PeriodKey::parse("2026-05").unwrap(),
        PeriodKey::Month {
            year: 2026,
            month: 5
        }
    );
}

#[test]
fn parse_rejects_bad_keys() {
    for s in [
        "",
        "-",
        "2026-",
        "2026-H3",
        "2026-Q0",
        "2026-Q5",
        "2026-00",
        "2026-13",
        "2026-5",
        "26-H1",
        "20266",
        "2026-9m",
        "2026-h1",
        "abcd",
        "2026-H1x",
        "1900",
        "2100-01",
        "+026",
        "２０２６",
        "2026-\u{1F600}",
        // Short periods: no such day, ISO week, ten-day or half-month.
        "2026-02-29",
        "2026-04-31",
        "2026-05-00",
        "2026-13-01",
        "2025-W53",
        "2026-W54",
        "2026-W00",
        "2026-W1",
        "2026-w23",
        "2026-05-D0",
        "2026-05-D4",
        "2026-05-H0",
        "2026-05-H3",
        "2026-05-h1",
        "2026-05-X1",
        "2026-5-15",
        "2026-05-15-",
    ] {
        assert!(PeriodKey::parse(s).is_err(), "{s:?} should not parse");
    }
    assert_eq!(
        PeriodKey::Month {
            year: 2026,
            month: 13
        }
        .calendar_window(WindowStyle::Calendar),
        None
    );
    assert_eq!(
        PeriodKey::Quarter {
            year: 2026,
            quarter: 0
        }
        .calendar_window(WindowStyle::Calendar),
        None
    );
    for year in [i16::MIN, i16::MAX] {
        assert_eq!(
            PeriodKey::Year { year }.calendar_window(WindowStyle::Decree09),
            None
        );
    }
    let long = "x".repeat(10_000);
    let msg = PeriodKey::parse(&long).unwrap_err().to_string();
    assert!(msg.len() < 200, "{msg}");
}

#[test]
fn wider_year_range_for_the_configuration() {
    assert_eq!(
        PeriodKey::parse_in("2100-H2", FIRST_YEAR..=LAST_YEAR),
        Ok(PeriodKey::Half {
            year: 2100,
            half: 2
        })
    );
    assert_eq!(
        PeriodKey::parse_in("2101-Q5", FIRST_YEAR..=LAST_YEAR),
        Err(PeriodKeyError::YearOutOfRange {
            key: "2101-Q5".into(),
            year: 2101
        })
    );
}

// Windows checked by hand against the Decree 09/2019 table (BRIEF §2) and
// a printed 2026 calendar (2026 is not a leap year; 2024 is).
#[test]
fn windows_table() {
    use WindowStyle::*;
    let cases: &[(&str, WindowStyle, Date, Date)] = &[
        ("2026-H1", Calendar, date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-H2", Calendar, date(2026, 7, 1), date(2026, 12, 31)),
        ("2026-9M", Calendar, date(2026, 1, 1), date(2026, 9, 30)),
        ("2026", Calendar, date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-Q3", Calendar, date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-Q1", Calendar, date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-02", Calendar, date(2026, 2, 1), date(2026, 2, 28)),
        ("2024-02", Calendar, date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-05", Calendar, date(2026, 5, 1), date(2026, 5, 31)),
        ("2026-05", Decree09, date(2026, 4, 15), date(2026, 5, 14)),
        ("2026-01", Decree09, date(2025, 12, 15), date(2026, 1, 14)),
        ("2026-Q1", Decree09, date(2025, 12, 15), date(2026, 3, 14)),
        ("2026-Q3", Decree09, date(2026, 6, 15), date(2026, 9, 14)),
        ("2026-H1", Decree09, date(2025, 12, 15), date(2026, 6, 14)),
        ("2026-H2", Decree09, date(2026, 6, 15), date(2026, 12, 14)),
        ("2026-9M", Decree09, date(2025, 12, 15), date(2026, 9, 14)),
        ("2026", Decree09, date(2025, 12, 15), date(2026, 12, 14)),
    ];
    for &(key, style, start, end) in cases.iter().chain(SHORT_WINDOWS) {
        let w = PeriodKey::parse(key)
            .unwrap()
            .calendar_window(style)
            .unwrap();
        assert_eq!(w, Window { start, end }, "{key} {style:?}");
    }
}

// Periods shorter than a month, checked by hand on a printed calendar:
// 1/1/2026 is a Thursday, so ISO week 1 of 2026 starts Mon 29/12/2025
// and 2026 has 53 ISO weeks (31/12/2026 is a Thursday too); 1/6/2026 is
// a Monday (week 23). 2020 also has 53 weeks (1/1/2020 a Wednesday, a
// leap year), 2025 has 52. Decree 09 defines no window for them: the
// Decree09 style gives the calendar window.
const SHORT_WINDOWS: &[(&str, WindowStyle, Date, Date)] = &[
    (
        "2026-05-15",
        WindowStyle::Calendar,
        date(2026, 5, 15),
        date(2026, 5, 15),
    ),
    (
        "2024-02-29",
        WindowStyle::Decree09,
        date(2024, 2, 29),
        date(2024, 2, 29),
    ),
    (
        "2026-W01",
        WindowStyle::Calendar,
        date(2025, 12, 29),
        date(2026, 1, 4),
    ),
    (
        "2026-W08",
        WindowStyle::Calendar,
        date(2026, 2, 16),
        date(2026, 2, 22),
    ),
    (
        "2026-W23",
        WindowStyle::Calendar,
        date(2026, 6, 1),
        date(2026, 6, 7),
    ),
    (
        "2026-W53",
        WindowStyle::Calendar,
        date(2026, 12, 28),
        date(2027, 1, 3),
    ),
    (
        "2020-W53",
        WindowStyle::Decree09,
        date(2020, 12, 28),
        date(2021, 1, 3),
    ),
    (
        "2025-W52",
        WindowStyle::Calendar,
        date(2025, 12, 22),
        date(2025, 12, 28),
    ),
    (
        "2026-05-D1",
        WindowStyle::Calendar,
        date(2026, 5, 1),
        date(2026, 5, 10),
    ),
    (
        "2026-05-D2",
        WindowStyle::Calendar,
        date(2026, 5, 11),
        date(2026, 5, 20),
    ),
    (
        "2026-05-D3",
        WindowStyle::Calendar,
        date(2026, 5, 21),
        date(2026, 5, 31),
    ),
    (
        "2026-02-D3",
        WindowStyle::Calendar,
        date(2026, 2, 21),
        date(2026, 2, 28),
    ),
    (
        "2024-02-D3",
        WindowStyle::Decree09,
        date(2024, 2, 21),
        date(2024, 2, 29),
    ),
    (
        "2026-04-D3",
        WindowStyle::Calendar,
        date(2026, 4, 21),
        date(2026, 4, 30),
    ),
    (
        "2026-05-H1",
        WindowStyle::Calendar,
        date(2026, 5, 1),
        date(2026, 5, 15),
    ),
    (
        "2026-05-H2",
        WindowStyle::Calendar,
        date(2026, 5, 16),
        date(2026, 5, 31),
    ),
    (
        "2026-02-H2",
        WindowStyle::Calendar,
        date(2026, 2, 16),
        date(2026, 2, 28),
    ),
    (
        "2028-02-H2",
        WindowStyle::Calendar,
        date(2028, 2, 16),
        date(2028, 2, 29),
    ),
    (
        "2026-04-H2",
        WindowStyle::Decree09,
        date(2026, 4, 16),
        date(2026, 4, 30),
    ),
];

#[test]
fn labels_in_vietnamese() {
    let cases = [
        ("2026", "năm 2026"),
        ("2026-H1", "6 tháng đầu năm 2026"),
        ("2026-H2", "6 tháng cuối năm 2026"),
        ("2026-9M", "9 tháng năm 2026"),
        ("2026-Q3", "quý III năm 2026"),
        ("2026-05", "tháng 5 năm 2026"),
        ("2026-05-15", "ngày 15/05/2026"),
        ("2026-W23", "tuần 23 năm 2026 (01/06–07/06/2026)"),
        ("2026-W01", "tuần 1 năm 2026 (29/12/2025–04/01/2026)"),
        ("2026-W53", "tuần 53 năm 2026 (28/12/2026–03/01/2027)"),
        ("2026-05-D1", "10 ngày đầu tháng 5 năm 2026"),
        ("2026-05-D2", "10 ngày giữa tháng 5 năm 2026"),
        ("2026-05-D3", "10 ngày cuối tháng 5 năm 2026"),
        ("2026-05-H1", "nửa đầu tháng 5 năm 2026"),
        ("2026-05-H2", "nửa cuối tháng 5 năm 2026"),
    ];
    for (key, want) in cases {
        assert_eq!(
            PeriodKey::parse(key).unwrap().label_vi().as_deref(),
            Some(want)
        );
    }
    assert_eq!(PeriodKey::Once("bc".into()).label_vi(), None);
    assert_eq!(
        PeriodKey::Week {
            year: 2025,
            week: 53
        }
        .label_vi(),
        None
    );
}

#[test]
fn keys_of_one_cycle_sort_as_text_and_as_keys() {
    for cycle in [
        Cycle::Daily {
            working_days_only: false,
        },
        Cycle::Weekly,
        Cycle::TenDay,
        Cycle::FifteenDay,
        Cycle::Monthly,
    ] {
        let mut keys = Vec::new();
        for year in [2025, 2026] {
            keys_of_year(&cycle, year, &mut keys);
        }
        let text: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        assert!(text.windows(2).all(|w| w[0] < w[1]), "{cycle:?}");
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{cycle:?}");
    }
    let count = |cycle: Cycle, year| periods_of_year(&cycle, WindowStyle::Calendar, year).len();
    assert_eq!(
        count(
            Cycle::Daily {
                working_days_only: true
            },
            2026
        ),
        365
    );
    assert_eq!(
        count(
            Cycle::Daily {
                working_days_only: true
            },
            2024
        ),
        366
    );
    assert_eq!(count(Cycle::Weekly, 2026), 53);
    assert_eq!(count(Cycle::Weekly, 2025), 52);
    assert_eq!(count(Cycle::TenDay, 2026), 36);
    assert_eq!(count(Cycle::FifteenDay, 2026), 24);
}

proptest::proptest! {
    // Every cycle that covers the whole year (and the Decree 09 style of
    // those the decree defines) tiles time: each period starts the day
    // after the previous one ends, across the turn of the year.
    #[test]
    fn periods_tile_without_gaps_or_overlaps(year in MIN_PERIOD_YEAR..MAX_PERIOD_YEAR) {
        let tiling = [
            (Cycle::Daily { working_days_only: false }, WindowStyle::Calendar),
            (Cycle::Weekly, WindowStyle::Calendar),
            (Cycle::TenDay, WindowStyle::Calendar),
            (Cycle::FifteenDay, WindowStyle::Calendar),
            (Cycle::Monthly, WindowStyle::Calendar),
            (Cycle::Monthly, WindowStyle::Decree09),
            (Cycle::Quarterly, WindowStyle::Calendar),
            (Cycle::Quarterly, WindowStyle::Decree09),
            (Cycle::SixMonthly { first_half_only: false }, WindowStyle::Calendar),
            (Cycle::SixMonthly { first_half_only: false }, WindowStyle::Decree09),
            (Cycle::Annual, WindowStyle::Calendar),
            (Cycle::Annual, WindowStyle::Decree09),
        ];
        for (cycle, style) in tiling {
            let mut all = periods_of_year(&cycle, style, year);
            all.extend(periods_of_year(&cycle, style, year + 1));
            for w in all.windows(2) {
                proptest::prop_assert!(w[0].window.start <= w[0].window.end);
                proptest::prop_assert_eq!(
                    w[0].window.end.tomorrow().unwrap(),
                    w[1].window.start,
                    "{:?} {:?}: {} then {}", cycle, style, w[0].key, w[1].key
                );
            }
        }
    }
}

// The same windows as `windows_table`, listed per cycle.
#[test]
fn periods_of_a_year() {
    let list = |cycle: Cycle, style| -> Vec<String> {
        periods_of_year(&cycle, style, 2026)
            .iter()
            .map(|p| format!("{} {}..{}", p.key, p.window.start, p.window.end))
            .collect()
    };
    assert_eq!(
        list(
            Cycle::SixMonthly {
                first_half_only: false
            },
            WindowStyle::Decree09
        ),
        [
            "2026-H1 2025-12-15..2026-06-14",
            "2026-H2 2026-06-15..2026-12-14"
        ]
    );
    assert_eq!(
        list(
            Cycle::SixMonthly {
                first_half_only: true
            },
            WindowStyle::Calendar
        ),
        ["2026-H1 2026-01-01..2026-06-30"]
    );
    assert_eq!(list(Cycle::Monthly, WindowStyle::Calendar).len(), 12);
    assert_eq!(list(Cycle::Quarterly, WindowStyle::Calendar).len(), 4);
    assert!(
        list(
            Cycle::Once {
                start: None,
                end: date(2026, 3, 1)
            },
            WindowStyle::Calendar
        )
        .is_empty()
    );
}
