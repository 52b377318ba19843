//! Integration tests of the working-day calendar: holidays and compensatory
//! days per year, the official schedules, working-day arithmetic, the
//! administrator's overrides, the CLI output, and property tests.
//!
//! Expected values were checked by hand: statutory dates from the Labour
//! Code; lunar dates from BRIEF §5 (2020–2026) and, for 2027, the
//! independent PyEphem month table in `src/calendar/testdata/` (month 3 of
//! Đinh Mùi starts 7/4/2027, so 10/3 is Friday 16/4/2027); weekdays from a
//! printed perpetual calendar; the breaks match the announcements quoted in
//! `src/calendar/official.toml`.

use hanbao::calendar::{HolidayKind, SpecialDay, WorkCalendar, holidays};
use hanbao::commands::calendar as cmd;
use hanbao::config::model::{CalendarSettings, ConfiguredDay};
use jiff::civil::{Date, date};
use proptest::prelude::*;
use std::sync::LazyLock;

static DEFAULT: LazyLock<WorkCalendar> =
    LazyLock::new(|| WorkCalendar::new(&CalendarSettings::default()));
static MAKEUP: LazyLock<WorkCalendar> = LazyLock::new(|| {
    WorkCalendar::new(&CalendarSettings {
        makeup_saturday_counts: true,
        ..Default::default()
    })
});

/// The default calendar, built once for all tests.
fn cal() -> &'static WorkCalendar {
    &DEFAULT
}

/// (date, kind, working) of every special day, as a compact string per day:
/// "MM-DD K" for a day off, "MM-DD K+" for a working day.
fn summary(days: &[SpecialDay]) -> Vec<String> {
    days.iter()
        .map(|s| {
            let k = match s.kind {
                HolidayKind::Statutory => 'S',
                HolidayKind::Compensatory => 'C',
                HolidayKind::Official => 'O',
                HolidayKind::Configured => 'X',
            };
            format!(
                "{:02}-{:02} {k}{}",
                s.date.month(),
                s.date.day(),
                if s.working { "+" } else { "" }
            )
        })
        .collect()
}

#[test]
fn holidays_and_compensatory_days_2020_2027() {
    let cases: [(i16, &[&str]); 8] = [
        // 2012 Code: National Day one day. Tết 23–27/1 (Sat 25, Sun 26 -> 28, 29).
        (
            2020,
            &[
                "01-01 S", "01-23 S", "01-24 S", "01-25 S", "01-26 S", "01-27 S", "01-28 C",
                "01-29 C", "04-02 S", "04-30 S", "05-01 S", "09-02 S",
            ],
        ),
        // 2019 Code from here. Tết 10–14/2 (Sat 13, Sun 14 -> 15, 16); 1/5 Sat -> Mon 3/5.
        (
            2021,
            &[
                "01-01 S", "02-10 S", "02-11 S", "02-12 S", "02-13 S", "02-14 S", "02-15 C",
                "02-16 C", "04-21 S", "04-30 S", "05-01 S", "05-03 C", "09-02 S", "09-03 S",
            ],
        ),
        // 1/1 Sat -> 3/1; Hùng Sun 10/4 -> Mon 11/4; 30/4 Sat + 1/5 Sun -> 2/5, 3/5; National Day 1–2/9.
        (
            2022,
            &[
                "01-01 S", "01-03 C", "01-31 S", "02-01 S", "02-02 S", "02-03 S", "02-04 S",
                "04-10 S", "04-11 C", "04-30 S", "05-01 S", "05-02 C", "05-03 C", "09-01 S",
                "09-02 S",
            ],
        ),
        // Hùng Sat 29/4, 30/4 Sun, 1/5 Mon -> 2/5, 3/5 (several in a row); 2/9 Sat -> Mon 4/9.
        (
            2023,
            &[
                "01-01 S", "01-02 C", "01-20 S", "01-21 S", "01-22 S", "01-23 S", "01-24 S",
                "01-25 C", "01-26 C", "04-29 S", "04-30 S", "05-01 S", "05-02 C", "05-03 C",
                "09-01 S", "09-02 S", "09-04 C",
            ],
        ),
        // Mon 29/4 swapped with Sat 4/5 (VPCP 2450/VPCP-KGVX).
        (
            2024,
            &[
                "01-01 S", "02-08 S", "02-09 S", "02-10 S", "02-11 S", "02-12 S", "02-13 C",
                "02-14 C", "04-18 S", "04-29 O", "04-30 S", "05-01 S", "05-04 O+", "09-02 S",
                "09-03 S",
            ],
        ),
        // Sat 26/4 worked, Fri 2/5 off (BRIEF §3).
        (
            2025,
            &[
                "01-01 S", "01-27 S", "01-28 S", "01-29 S", "01-30 S", "01-31 S", "04-07 S",
                "04-26 O+", "04-30 S", "05-01 S", "05-02 O", "09-01 S", "09-02 S",
            ],
        ),
        // Fri 2/1 off, Sat 10/1 worked; Tết 16–20/2; Hùng Sun 26/4 -> 27/4; Mon 31/8 off, Sat 22/8 worked.
        (
            2026,
            &[
                "01-01 S", "01-02 O", "01-10 O+", "02-16 S", "02-17 S", "02-18 S", "02-19 S",
                "02-20 S", "04-26 S", "04-27 C", "04-30 S", "05-01 S", "08-22 O+", "08-31 O",
                "09-01 S", "09-02 S",
            ],
        ),
        // No official schedule: defaults. Tết Sat 6/2/2027: 5/2–9/2, Sat 6 and Sun 7 -> 10/2, 11/2;
        // Hùng Fri 16/4; 1/5 Sat -> Mon 3/5; National Day 2/9 + default 3/9.
        (
            2027,
            &[
                "01-01 S", "02-05 S", "02-06 S", "02-07 S", "02-08 S", "02-09 S", "02-10 C",
                "02-11 C", "04-16 S", "04-30 S", "05-01 S", "05-03 C", "09-02 S", "09-03 S",
            ],
        ),
    ];
    let cal = cal();
    for (year, expected) in cases {
        assert_eq!(summary(&cal.special_days(year)), expected, "{year}");
    }
}

#[test]
fn announced_breaks_are_exactly_the_days_off() {
    // Every break quoted in official.toml: all its days are off, the days
    // around it are working days.
    let cal = cal();
    let mut checked = 0;
    for (year, o) in holidays::official() {
        for [first, last] in &o.announced {
            let mut day = *first;
            while day <= *last {
                assert!(!cal.is_working_day(day), "{year}: {day} should be off");
                day = day.tomorrow().unwrap();
            }
            assert!(
                cal.is_working_day(first.yesterday().unwrap()),
                "{year}: day before {first}"
            );
            assert!(
                cal.is_working_day(last.tomorrow().unwrap()),
                "{year}: day after {last}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 17, "{checked}");
}

#[test]
fn official_schedules_from_the_brief() {
    let cal = cal();
    // 2025: Sat 26/4 worked (counts only with makeup_saturday_counts), Fri 2/5 off.
    let sat = cal.special_day(date(2025, 4, 26)).unwrap();
    assert_eq!((sat.kind, sat.working), (HolidayKind::Official, true));
    assert!(!cal.is_working_day(date(2025, 5, 2)));
    // 2026: New Year 1–4/1, Fri 2/1 off, Sat 10/1 worked.
    assert!(!cal.is_working_day(date(2026, 1, 2)));
    assert!(cal.is_working_day(date(2026, 1, 5)));
    assert!(cal.special_day(date(2026, 1, 10)).unwrap().working);
    // Tết 14–22/2/2026: Friday 13/2 and Monday 23/2 are working days.
    for day in 14..=22 {
        assert!(!cal.is_working_day(date(2026, 2, day)), "{day}/2");
    }
    assert!(cal.is_working_day(date(2026, 2, 13)));
    assert!(cal.is_working_day(date(2026, 2, 23)));
}

#[test]
fn working_day_arithmetic_across_tet_2026() {
    let cal = cal();
    // Thu 12/2 + 1 = Fri 13/2; Fri 13/2 + 1 = Mon 23/2 (Tết 14–22/2).
    assert_eq!(
        cal.add_working_days(date(2026, 2, 12), 1),
        date(2026, 2, 13)
    );
    assert_eq!(
        cal.add_working_days(date(2026, 2, 13), 1),
        date(2026, 2, 23)
    );
    // From Mon 2/2: 3,4,5,6,9,10,11,12,13 are 1..9; the 10th is Mon 23/2.
    assert_eq!(
        cal.add_working_days(date(2026, 2, 2), 10),
        date(2026, 2, 23)
    );
    // Wed 11/2 + 5: 12, 13, 23, 24, 25.
    assert_eq!(
        cal.add_working_days(date(2026, 2, 11), 5),
        date(2026, 2, 25)
    );
    // Counting from inside the break: the 1st working day after Sat 14/2 is 23/2.
    assert_eq!(
        cal.add_working_days(date(2026, 2, 14), 1),
        date(2026, 2, 23)
    );
    assert_eq!(
        cal.sub_working_days(date(2026, 2, 23), 1),
        date(2026, 2, 13)
    );
    assert_eq!(
        cal.sub_working_days(date(2026, 2, 25), 5),
        date(2026, 2, 11)
    );
    assert_eq!(cal.on_or_after(date(2026, 2, 14)), date(2026, 2, 23));
    assert_eq!(cal.on_or_before(date(2026, 2, 22)), date(2026, 2, 13));
    assert_eq!(cal.on_or_after(date(2026, 2, 13)), date(2026, 2, 13));
    // 9–27/2/2026: 9,10,11,12,13 and 23,24,25,26,27 = 10 working days.
    assert_eq!(
        cal.working_days_between(date(2026, 2, 9), date(2026, 2, 27)),
        10
    );
    // Civil Code 148.5 style roll: 1/5/2026 (Fri, holiday) -> Mon 4/5.
    assert_eq!(cal.on_or_after(date(2026, 5, 1)), date(2026, 5, 4));
    // 2022: Hùng Kings Sunday 10/4 -> Monday 11/4 off, so Fri 8/4 + 1 = Tue 12/4.
    assert_eq!(cal.add_working_days(date(2022, 4, 8), 1), date(2022, 4, 12));
    // 2022: 30/4 Sat and 1/5 Sun -> 2/5 and 3/5 off: Fri 29/4 + 1 = Wed 4/5.
    assert_eq!(cal.add_working_days(date(2022, 4, 29), 1), date(2022, 5, 4));
}

#[test]
fn makeup_saturday_counts_both_ways() {
    let off = cal();
    let on: &WorkCalendar = &MAKEUP;
    let sat = date(2026, 1, 10);
    assert!(!off.is_working_day(sat));
    assert!(on.is_working_day(sat));
    // Fri 9/1 + 1: Mon 12/1 without, Sat 10/1 with.
    assert_eq!(off.add_working_days(date(2026, 1, 9), 1), date(2026, 1, 12));
    assert_eq!(on.add_working_days(date(2026, 1, 9), 1), sat);
    assert_eq!(on.on_or_before(date(2026, 1, 11)), sat);
    assert_eq!(off.on_or_before(date(2026, 1, 11)), date(2026, 1, 9));
    // The listing says "working" either way.
    assert_eq!(off.special_days(2026), on.special_days(2026));
    // 2025 and 2024 make-up Saturdays too.
    assert!(on.is_working_day(date(2025, 4, 26)) && !off.is_working_day(date(2025, 4, 26)));
    assert!(on.is_working_day(date(2024, 5, 4)) && !off.is_working_day(date(2024, 5, 4)));
}

#[test]
fn configured_overrides_win() {
    let settings = CalendarSettings {
        extra_days_off: vec![
            ConfiguredDay {
                date: date(2026, 3, 2),
                reason: "Nghỉ theo quyết định của UBND tỉnh".into(),
            },
            // Off on a make-up Saturday: the administrator wins.
            ConfiguredDay {
                date: date(2026, 8, 22),
                reason: "Không làm bù".into(),
            },
        ],
        extra_working_days: vec![
            // Working on a Tết day (e.g. an emergency duty roster).
            ConfiguredDay {
                date: date(2026, 2, 16),
                reason: "Trực Tết".into(),
            },
            ConfiguredDay {
                date: date(2026, 3, 7),
                reason: "Làm bù thứ Bảy".into(),
            },
        ],
        ..Default::default()
    };
    let cal = WorkCalendar::new(&settings);
    assert!(!cal.is_working_day(date(2026, 3, 2)));
    assert!(!cal.is_working_day(date(2026, 8, 22)));
    assert!(cal.is_working_day(date(2026, 2, 16)));
    assert!(cal.is_working_day(date(2026, 3, 7)));
    for (day, working) in [
        ((3, 2), false),
        ((8, 22), false),
        ((2, 16), true),
        ((3, 7), true),
    ] {
        let s = cal.special_day(date(2026, day.0, day.1)).unwrap();
        assert_eq!(
            (s.kind, s.working),
            (HolidayKind::Configured, working),
            "{day:?}"
        );
    }
    // Fri 13/2 + 1 is now Mon 16/2 (the configured working Tết day).
    assert_eq!(
        cal.add_working_days(date(2026, 2, 13), 1),
        date(2026, 2, 16)
    );
    // One entry per day in the listing.
    let days = cal.special_days(2026);
    let mut dates: Vec<Date> = days.iter().map(|s| s.date).collect();
    dates.dedup();
    assert_eq!(dates.len(), days.len());
}

#[test]
fn culture_day_is_a_switch() {
    let off = cal();
    let on = WorkCalendar::new(&CalendarSettings {
        culture_day: true,
        ..Default::default()
    });
    // 24/11/2026 is a Tuesday; 24/11/2025 (before the holiday existed) a Monday.
    assert!(off.is_working_day(date(2026, 11, 24)));
    assert!(!on.is_working_day(date(2026, 11, 24)));
    assert_eq!(
        on.special_day(date(2026, 11, 24)).unwrap().kind,
        HolidayKind::Statutory
    );
    assert!(on.is_working_day(date(2025, 11, 24)));
    // 24/11/2029 is a Saturday: compensatory Monday 26/11.
    assert_eq!(
        on.special_day(date(2029, 11, 26)).unwrap().kind,
        HolidayKind::Compensatory
    );
}

#[test]
fn holidays_json_is_exactly_the_documented_format() {
    let out = cmd::holidays(cal(), 2026, true);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 16);
    for o in arr {
        let o = o.as_object().unwrap();
        let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["date", "kind", "name", "working"]);
        assert!(
            ["statutory", "compensatory", "official", "configured"]
                .contains(&o["kind"].as_str().unwrap())
        );
        assert!(o["working"].is_boolean());
        assert_eq!(o["date"].as_str().unwrap().len(), 10);
    }
    assert_eq!(
        arr[2],
        serde_json::json!({"date": "2026-01-10", "name": "Làm bù cho thứ Sáu 02/01/2026", "kind": "official", "working": true})
    );
    // Plain weekends are not listed; a holiday on a weekend is.
    assert!(!out.contains("2026-02-14"));
    assert!(out.contains("\"2026-04-26\""));
    assert_eq!(cmd::holidays(cal(), 1800, true), "[]\n");
}

#[test]
fn readable_holidays_use_vietnamese_dates() {
    let out = cmd::holidays(cal(), 2026, false);
    assert!(out.contains("Thứ Sáu   02/01/2026"), "{out}");
    assert!(out.contains("Chủ Nhật  26/04/2026"), "{out}");
    assert!(out.contains("Thứ Bảy   10/01/2026  Làm việc"), "{out}");
}

#[test]
fn outside_the_range_plain_weeks_and_no_panic() {
    let cal = cal();
    // 1/1/2101 is a Saturday; no holidays are known beyond 2100.
    assert!(!cal.is_working_day(date(2101, 1, 1)));
    assert!(cal.is_working_day(date(2101, 1, 3)));
    assert_eq!(cal.on_or_after(date(2101, 1, 1)), date(2101, 1, 3));
    assert_eq!(cal.on_or_before(date(2101, 1, 2)), date(2100, 12, 31));
    // 31/12/1899 is a Sunday: the next working day is Mon 1/1/1900, a holiday,
    // so the answer comes from the table: Tue 2/1/1900.
    assert_eq!(cal.on_or_after(date(1899, 12, 31)), date(1900, 1, 2));
    // Crossing the end: Fri 31/12/2100 + 1 = Mon 3/1/2101.
    assert_eq!(
        cal.add_working_days(date(2100, 12, 31), 1),
        date(2101, 1, 3)
    );
    // Crossing the start: Mon 1/1/1900 - 1 = Fri 29/12/1899.
    assert_eq!(
        cal.sub_working_days(date(1900, 1, 1), 1),
        date(1899, 12, 29)
    );
    // Extremes saturate instead of panicking.
    let _ = cal.add_working_days(Date::MAX, u32::MAX);
    let _ = cal.sub_working_days(Date::MIN, u32::MAX);
    let _ = cal.add_working_days(Date::MIN, u32::MAX);
    let _ = cal.sub_working_days(Date::MAX, u32::MAX);
    let _ = cal.on_or_after(Date::MAX);
    let _ = cal.on_or_before(Date::MIN);
    assert!(cal.special_days(2101).is_empty());
}

/// Found by `never_panics_anywhere`: a day number overflowed far in the future.
#[test]
fn regression_huge_count_far_in_the_future_saturates() {
    let d = date(4371, 5, 7);
    assert_eq!(cal().add_working_days(d, 1_534_541_500), Date::MAX);
    assert_eq!(
        cal().sub_working_days(date(-4371, 5, 7), 1_534_541_500),
        Date::MIN
    );
}

/// Found by `crossing_the_range_ends_matches_stepping`: stepping into the
/// table from before it skipped the New Year holiday of 1900.
#[test]
fn regression_step_into_the_table_sees_its_first_holiday() {
    assert_eq!(
        cal().add_working_days(date(1899, 12, 31), 1),
        date(1900, 1, 2)
    );
    assert_eq!(
        cal().add_working_days(date(1899, 12, 29), 1),
        date(1900, 1, 2)
    );
    assert_eq!(
        cal().sub_working_days(date(1900, 1, 2), 1),
        date(1899, 12, 29)
    );
}

/// Step-by-step reference built only on `is_working_day`.
fn slow_add(cal: &WorkCalendar, mut d: Date, n: u32) -> Date {
    for _ in 0..n {
        d = d.tomorrow().unwrap();
        while !cal.is_working_day(d) {
            d = d.tomorrow().unwrap();
        }
    }
    d
}

fn slow_sub(cal: &WorkCalendar, mut d: Date, n: u32) -> Date {
    for _ in 0..n {
        d = d.yesterday().unwrap();
        while !cal.is_working_day(d) {
            d = d.yesterday().unwrap();
        }
    }
    d
}

fn day_in_range() -> impl Strategy<Value = Date> {
    (0i64..73_400).prop_map(|i| {
        date(1900, 1, 1)
            .checked_add(jiff::Span::new().days(i))
            .unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        // Failures become named regression tests below, not seed files.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn add_gives_a_working_day_and_matches_stepping(d in day_in_range(), n in 1u32..60, makeup: bool) {
        let cal: &WorkCalendar = if makeup { &MAKEUP } else { &DEFAULT };
        let r = cal.add_working_days(d, n);
        prop_assert!(cal.is_working_day(r));
        prop_assert!(r > d);
        prop_assert_eq!(r, slow_add(cal, d, n));
    }

    #[test]
    fn on_or_after_and_before(d in day_in_range()) {
        let cal = cal();
        let a = cal.on_or_after(d);
        prop_assert!(a >= d && cal.is_working_day(a));
        let b = cal.on_or_before(d);
        prop_assert!(b <= d && cal.is_working_day(b));
        prop_assert_eq!(a == d, cal.is_working_day(d));
        prop_assert_eq!(b == d, cal.is_working_day(d));
    }

    #[test]
    fn sub_inverts_add(d in day_in_range(), n in 0u32..5000) {
        let cal = cal();
        let r = cal.sub_working_days(cal.add_working_days(d, n), n);
        if n == 0 || cal.is_working_day(d) {
            prop_assert_eq!(r, d);
        } else {
            prop_assert_eq!(r, cal.on_or_before(d));
        }
        let s = cal.sub_working_days(d, n);
        if n > 0 {
            prop_assert!(cal.is_working_day(s) && s < d);
            prop_assert_eq!(cal.working_days_between(s, d) - u64::from(cal.is_working_day(d)), u64::from(n));
        }
    }

    #[test]
    fn crossing_the_range_ends_matches_stepping(before in 0i64..4000, after in 0i64..4000, n in 1u32..3000) {
        let cal = cal();
        let early = date(1900, 1, 1).checked_sub(jiff::Span::new().days(before)).unwrap();
        prop_assert_eq!(cal.add_working_days(early, n), slow_add(cal, early, n));
        let late = date(2100, 12, 31).checked_add(jiff::Span::new().days(after)).unwrap();
        prop_assert_eq!(cal.sub_working_days(late, n), slow_sub(cal, late, n));
        prop_assert_eq!(cal.sub_working_days(cal.add_working_days(early, n), n), cal.on_or_before(early));
    }

    #[test]
    fn never_panics_anywhere(y in -9000i16..9000, doy in 1i16..366, n: u32) {
        let d = date(y, 1, 1).with().day_of_year(doy).build().unwrap_or(date(y, 1, 1));
        let cal = cal();
        let a = cal.add_working_days(d, n);
        let s = cal.sub_working_days(d, n);
        prop_assert!(a >= d && s <= d);
        let _ = (cal.on_or_after(d), cal.on_or_before(d), cal.is_working_day(d));
    }
}
