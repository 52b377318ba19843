//! Planner tests: due dates for every cycle, window style and due rule, who
//! owes what, reminders, escalations and recipients, plus property tests.
//!
//! Expected dates were worked out by hand from printed month calendars of
//! 2025–2027 (Python's `calendar.TextCalendar` output); weekdays are noted
//! beside each case. Tết 2026 (14–22/2, BRIEF §3) is declared in
//! `extra_days_off` so the tests do not depend on built-in holiday data; the
//! other dates avoid the statutory holidays.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use hanbao::calendar::WorkCalendar;
use hanbao::commands::plan::{entries, render};
use hanbao::config::model::*;
use hanbao::planner::{
    self, Deadline, EventKind, Filter, PeriodKey, PlanError, deadline_for, deadlines, plan,
};
use jiff::civil::{Date, Time, Weekday, date};
use jiff::tz::TimeZone;
use proptest::prelude::*;

// ---------- model builders ----------

fn days(n: u32) -> Offset {
    Offset {
        amount: n,
        unit: DayUnit::Days,
    }
}

fn wdays(n: u32) -> Offset {
    Offset {
        amount: n,
        unit: DayUnit::WorkingDays,
    }
}

fn unit(id: &str) -> Unit {
    Unit {
        id: id.into(),
        name: format!("Đơn vị {id}"),
        emails: vec![format!("vanthu@{id}.example")],
        head: None,
        groups: vec![],
        supervisor: None,
        council: None,
        active_from: None,
        active_until: None,
        successor: None,
    }
}

fn obligation(
    id: &str,
    reporters: &[&str],
    cycle: Cycle,
    window: WindowStyle,
    due: DueRule,
) -> Obligation {
    Obligation {
        id: id.into(),
        title: format!("Báo cáo {id}"),
        short_title: None,
        legal_basis: None,
        voice: Default::default(),
        reporters: reporters.iter().map(|s| s.to_string()).collect(),
        recipient: Recipient::Unit("so".into()),
        cycle,
        window,
        due,
        due_exclusive: false,
        due_time: None,
        due_after: None,
        overrides: BTreeMap::new(),
        roll_to_working_day: true,
        reminders: vec![],
        escalation: vec![],
        active_from: None,
        active_until: None,
        depends_on: vec![],
    }
}

fn tet_2026() -> CalendarSettings {
    CalendarSettings {
        extra_days_off: (14..=22)
            .map(|d| ConfiguredDay {
                date: date(2026, 2, d),
                reason: "Tết Nguyên đán 2026".into(),
            })
            .collect(),
        ..CalendarSettings::default()
    }
}

fn config(units: Vec<Unit>, obligations: Vec<Obligation>) -> Config {
    let mut all_units = vec![unit("so")];
    all_units.extend(units);
    Config {
        daemon: Daemon {
            time_zone_name: "Asia/Ho_Chi_Minh".into(),
            time_zone: TimeZone::get("Asia/Ho_Chi_Minh").unwrap(),
            database_url: "sqlite:///tmp/hanbao-test.db".into(),
            state_dir: PathBuf::from("/tmp"),
            sending_hours: SendingHours {
                start: Time::constant(7, 30, 0, 0),
                end: Time::constant(11, 0, 0, 0),
            },
            http_listen: "127.0.0.1:0".parse().unwrap(),
            public_url: None,
            digest: "0 8 * * Mon".into(),
            http: Default::default(),
            outbox_retention_days: 730,
            files: Default::default(),
        },
        mail: Mail {
            transport: Transport::File {
                dir: PathBuf::from("/tmp"),
            },
            from: "so@so.example".into(),
            reply_to: None,
            templates: None,
            language: Default::default(),
        },
        calendar: tet_2026(),
        intake: None,
        directives: vec![],
        units: all_units,
        obligations,
        groups: BTreeMap::new(),
        group_names: BTreeMap::new(),
        positions: Default::default(),
        files: vec![],
    }
}

fn due_of(cfg: &Config, ob: &str, key: &str, unit: &str) -> Date {
    let cal = WorkCalendar::new(&cfg.calendar);
    deadline_for(cfg, &cal, ob, key, unit).unwrap().due
}

// ---------- due dates ----------

#[test]
fn due_dates_for_every_cycle_style_and_rule() {
    use Cycle::*;
    use WindowStyle::*;
    let dom = |day, next_month| DueRule::DayOfMonth { day, next_month };
    let after = DueRule::After;
    // (cycle, style, rule, roll, key, expected due day)
    let cases: Vec<(Cycle, WindowStyle, DueRule, bool, &str, Date)> = vec![
        // Month 5/2026 ends Sun 31/5; +5 days = Fri 5/6.
        (
            Monthly,
            Calendar,
            after(days(5)),
            true,
            "2026-05",
            date(2026, 6, 5),
        ),
        // Decree 09 June window ends Sun 14/6; the 20th is Sat 20/6 -> Mon 22/6.
        (
            Monthly,
            Decree09,
            dom(20, false),
            true,
            "2026-06",
            date(2026, 6, 22),
        ),
        // Same, not rolled: stays on Saturday.
        (
            Monthly,
            Decree09,
            dom(20, false),
            false,
            "2026-06",
            date(2026, 6, 20),
        ),
        // Q3 ends Wed 30/9; 10 working days: Oct 1,2,5,6,7,8,9,12,13,14 -> Wed 14/10.
        (
            Quarterly,
            Calendar,
            after(wdays(10)),
            true,
            "2026-Q3",
            date(2026, 10, 14),
        ),
        // Decree 09 Q1 ends Sat 14/3; the 25th of March is a Wednesday.
        (
            Quarterly,
            Decree09,
            dom(25, false),
            true,
            "2026-Q1",
            date(2026, 3, 25),
        ),
        // H1 (first half only): "31/6" is clamped to Tue 30/6.
        (
            SixMonthly {
                first_half_only: true,
            },
            Calendar,
            dom(31, false),
            true,
            "2026-H1",
            date(2026, 6, 30),
        ),
        // H2 ends Thu 31/12; the 10th of next month is Sun 10/1/2027 -> Mon 11/1.
        (
            SixMonthly {
                first_half_only: false,
            },
            Calendar,
            dom(10, true),
            true,
            "2026-H2",
            date(2027, 1, 11),
        ),
        // Decree 09 H2 ends Mon 14/12; +3 days = Thu 17/12.
        (
            SixMonthly {
                first_half_only: false,
            },
            Decree09,
            after(days(3)),
            true,
            "2026-H2",
            date(2026, 12, 17),
        ),
        // Decree 09 9M ends Mon 14/9; 2 working days: Tue 15, Wed 16.
        (
            NineMonthly,
            Decree09,
            after(wdays(2)),
            true,
            "2026-9M",
            date(2026, 9, 16),
        ),
        // Calendar 9M ends Wed 30/9; the 31st of October exists: Sat 31/10 -> Mon 2/11.
        (
            NineMonthly,
            Calendar,
            dom(31, true),
            true,
            "2026-9M",
            date(2026, 11, 2),
        ),
        // Decree 09 year ends Mon 14/12; the 20th is Sun 20/12 -> Mon 21/12.
        (
            Annual,
            Decree09,
            dom(20, false),
            true,
            "2026",
            date(2026, 12, 21),
        ),
        // Calendar year ends Thu 31/12; 15/1/2027 is a Friday.
        (
            Annual,
            Calendar,
            dom(15, true),
            true,
            "2026",
            date(2027, 1, 15),
        ),
        // January 2027, due the 29th of next month: February 2027 has 28 days,
        // Sun 28/2/2027; rolled to Mon 1/3/2027.
        (
            Monthly,
            Calendar,
            dom(29, true),
            true,
            "2027-01",
            date(2027, 3, 1),
        ),
        (
            Monthly,
            Calendar,
            dom(29, true),
            false,
            "2027-01",
            date(2027, 2, 28),
        ),
        // Leap year 2028: 29/2/2028 exists (a Tuesday).
        (
            Monthly,
            Calendar,
            dom(29, true),
            true,
            "2028-01",
            date(2028, 2, 29),
        ),
        // Over Tết: January 2026 ends Sat 31/1; 12 working days:
        // Feb 2,3,4,5,6,9,10,11,12,13 (10), Tết 14–22, Mon 23 (11), Tue 24 (12).
        (
            Monthly,
            Calendar,
            after(wdays(12)),
            true,
            "2026-01",
            date(2026, 2, 24),
        ),
        // The 14th of next month is Sat 14/2/2026, inside Tết: rolls to Mon 23/2.
        (
            Monthly,
            Calendar,
            dom(14, true),
            true,
            "2026-01",
            date(2026, 2, 23),
        ),
        // Not rolled: stays inside Tết.
        (
            Monthly,
            Calendar,
            dom(17, true),
            false,
            "2026-01",
            date(2026, 2, 17),
        ),
    ];
    for (i, (cycle, style, rule, roll, key, want)) in cases.into_iter().enumerate() {
        let mut ob = obligation("bc", &["a"], cycle.clone(), style, rule);
        ob.roll_to_working_day = roll;
        let cfg = config(vec![unit("a")], vec![ob]);
        assert_eq!(
            due_of(&cfg, "bc", key, "a"),
            want,
            "case {i}: {cycle:?} {style:?} {rule:?} {key}"
        );
    }
}

/// Periods shorter than a month around Tết 2026 (Sat 14/2–Sun 22/2; the
/// five days off are Mon 16–Fri 20/2), the Victory and Labour Day break (Thu
/// 30/4, Fri 1/5), the New Year swap (Fri 2/1 off, Sat 10/1 worked) and the
/// ISO weeks that straddle New Year.
#[test]
fn short_cycles_due_dates() {
    let daily = Cycle::Daily {
        working_days_only: true,
    };
    let every_day = Cycle::Daily {
        working_days_only: false,
    };
    let cases: Vec<(Cycle, DueRule, &str, Date)> = vec![
        // Thu 12/2 + 1 working day = Fri 13/2.
        (
            daily.clone(),
            DueRule::After(wdays(1)),
            "2026-02-12",
            date(2026, 2, 13),
        ),
        // Fri 13/2 + 1 working day jumps Tết: Mon 23/2.
        (
            daily.clone(),
            DueRule::After(wdays(1)),
            "2026-02-13",
            date(2026, 2, 23),
        ),
        // Wed 29/4 + 1 working day: Thu 30/4, Fri 1/5 off, weekend: Mon 4/5.
        (
            daily.clone(),
            DueRule::After(wdays(1)),
            "2026-04-29",
            date(2026, 5, 4),
        ),
        // Every calendar day: Sat 14/2 and Sun 22/2 are owed too.
        (
            every_day.clone(),
            DueRule::After(wdays(1)),
            "2026-02-14",
            date(2026, 2, 23),
        ),
        (
            every_day.clone(),
            DueRule::After(wdays(1)),
            "2026-02-22",
            date(2026, 2, 23),
        ),
        // Same day, rolled off Sun 15/2 to the first day after Tết.
        (
            every_day.clone(),
            DueRule::After(days(0)),
            "2026-02-15",
            date(2026, 2, 23),
        ),
        // Week 7 (Mon 9–Sun 15/2) and week 8 (Tết, 16–22/2): both Mon 23/2.
        (
            Cycle::Weekly,
            DueRule::After(wdays(1)),
            "2026-W07",
            date(2026, 2, 23),
        ),
        (
            Cycle::Weekly,
            DueRule::After(wdays(1)),
            "2026-W08",
            date(2026, 2, 23),
        ),
        // Week 1 of 2026 is 29/12/2025–Sun 4/1/2026: Mon 5/1.
        (
            Cycle::Weekly,
            DueRule::After(wdays(1)),
            "2026-W01",
            date(2026, 1, 5),
        ),
        // Week 53 of 2026 ends Sun 3/1/2027: Mon 4/1/2027.
        (
            Cycle::Weekly,
            DueRule::After(wdays(1)),
            "2026-W53",
            date(2027, 1, 4),
        ),
        // Ten days 11–20/2 end on a Tết day: 23, 24, 25, 26, 27/2.
        (
            Cycle::TenDay,
            DueRule::After(wdays(5)),
            "2026-02-D2",
            date(2026, 2, 27),
        ),
        // 21–30/4 ends Thu 30/4 (holiday): 1/5 off, weekend, Mon 4 … Fri 8/5.
        (
            Cycle::TenDay,
            DueRule::After(wdays(5)),
            "2026-04-D3",
            date(2026, 5, 8),
        ),
        // 21–28/2 of 2026 ends Sat 28/2; +2 days = Mon 2/3.
        (
            Cycle::TenDay,
            DueRule::After(days(2)),
            "2026-02-D3",
            date(2026, 3, 2),
        ),
        // 16–30/4 + 3 days = Sun 3/5, rolled to Mon 4/5.
        (
            Cycle::FifteenDay,
            DueRule::After(days(3)),
            "2026-04-H2",
            date(2026, 5, 4),
        ),
        // 1–15/2 ends Sun 15/2: 23, 24, 25/2.
        (
            Cycle::FifteenDay,
            DueRule::After(wdays(3)),
            "2026-02-H1",
            date(2026, 2, 25),
        ),
        // 16–29/2/2028 (leap year) ends Tue 29/2; +1 working day = Wed 1/3.
        (
            Cycle::FifteenDay,
            DueRule::After(wdays(1)),
            "2028-02-H2",
            date(2028, 3, 1),
        ),
    ];
    for (cycle, rule, key, want) in cases {
        let ob = obligation("bc", &["a"], cycle.clone(), WindowStyle::Calendar, rule);
        let cfg = config(vec![unit("a")], vec![ob]);
        assert_eq!(
            due_of(&cfg, "bc", key, "a"),
            want,
            "{cycle:?} {rule:?} {key}"
        );
    }
}

#[test]
fn daily_reports_are_owed_on_working_days_only() {
    let ob = obligation(
        "bc",
        &["a"],
        Cycle::Daily {
            working_days_only: true,
        },
        WindowStyle::Calendar,
        DueRule::After(wdays(1)),
    );
    let mut cfg = config(vec![unit("a")], vec![ob]);
    let cal = WorkCalendar::new(&cfg.calendar);
    // Due between Mon 9/2 and Mon 23/2: Fri 6/2 (due Mon 9/2) … Fri 13/2
    // (due Mon 23/2). Nothing for the weekend or the Tết days.
    let keys: Vec<String> = deadlines(
        &cfg,
        &cal,
        date(2026, 2, 9),
        date(2026, 2, 23),
        &Filter::default(),
    )
    .iter()
    .map(|d| format!("{} {}", d.period, d.due))
    .collect();
    assert_eq!(
        keys,
        [
            "2026-02-06 2026-02-09",
            "2026-02-09 2026-02-10",
            "2026-02-10 2026-02-11",
            "2026-02-11 2026-02-12",
            "2026-02-12 2026-02-13",
            "2026-02-13 2026-02-23",
        ]
    );
    // Sat 14/2, a Tết day, the New Year swap day Fri 2/1/2026 and the
    // make-up Saturday 10/1 (not a working day for deadlines by default).
    for key in ["2026-02-14", "2026-02-17", "2026-01-02", "2026-01-10"] {
        let err = deadline_for(&cfg, &cal, "bc", key, "a").unwrap_err();
        assert!(matches!(err, PlanError::DayOff { .. }), "{key}: {err:?}");
    }
    // Counting make-up Saturdays: Sat 10/1 is owed, due Mon 12/1.
    cfg.calendar.makeup_saturday_counts = true;
    let cal = WorkCalendar::new(&cfg.calendar);
    let d = deadline_for(&cfg, &cal, "bc", "2026-01-10", "a").unwrap();
    assert_eq!(d.due, date(2026, 1, 12));
}

/// The due rules regulations use, on the working-day calendar of 2026
/// (Hùng Kings Sun 26/4 with its compensatory Mon 27/4; 30/4 and 1/5; Tết).
#[test]
fn regulation_due_rules_on_the_calendar() {
    let wk = |weekday, next_week| DueRule::Weekday { weekday, next_week };
    let cases: Vec<(Cycle, DueRule, bool, &str, Date)> = vec![
        // Annual report due 25/11 of its own year (Wed).
        (
            Cycle::Annual,
            DueRule::DayMonth { day: 25, month: 11 },
            false,
            "2026",
            date(2026, 11, 25),
        ),
        // Annual report due 20/01 of the next year (Wed 20/1/2027).
        (
            Cycle::Annual,
            DueRule::DayMonth { day: 20, month: 1 },
            false,
            "2026",
            date(2027, 1, 20),
        ),
        // First half due 14/6/2026, a Sunday: Mon 15/6.
        (
            Cycle::SixMonthly {
                first_half_only: true,
            },
            DueRule::DayMonth { day: 14, month: 6 },
            false,
            "2026-H1",
            date(2026, 6, 15),
        ),
        // Quarterly, day 15 of the first month of the next quarter.
        (
            Cycle::Quarterly,
            DueRule::DayOfNextQuarter { day: 15 },
            false,
            "2026-Q1",
            date(2026, 4, 15),
        ),
        (
            Cycle::Quarterly,
            DueRule::DayOfNextQuarter { day: 15 },
            false,
            "2026-Q4",
            date(2027, 1, 15),
        ),
        // Weekly on Thursday: week 18 (27/4–3/5) has Thu 30/4 off, then 1/5
        // and the weekend: Mon 4/5.
        (
            Cycle::Weekly,
            wk(Weekday::Thursday, false),
            false,
            "2026-W18",
            date(2026, 5, 4),
        ),
        // Its Monday is the compensatory day for Hùng Kings: Tue 28/4.
        (
            Cycle::Weekly,
            wk(Weekday::Monday, false),
            false,
            "2026-W18",
            date(2026, 4, 28),
        ),
        // Week 23 (1–7/6): Thursday 4/6; Monday of the next week 8/6.
        (
            Cycle::Weekly,
            wk(Weekday::Thursday, false),
            false,
            "2026-W23",
            date(2026, 6, 4),
        ),
        (
            Cycle::Weekly,
            wk(Weekday::Monday, true),
            false,
            "2026-W23",
            date(2026, 6, 8),
        ),
        // Friday of the week after week 7 (9–15/2) is Tết (20/2): Mon 23/2.
        (
            Cycle::Weekly,
            wk(Weekday::Friday, true),
            false,
            "2026-W07",
            date(2026, 2, 23),
        ),
        // "trước ngày 20": chậm nhất ngày 19. May: Tue 19/5.
        (
            Cycle::Monthly,
            DueRule::DayOfMonth {
                day: 20,
                next_month: true,
            },
            true,
            "2026-04",
            date(2026, 5, 19),
        ),
        // June: 20/6 is a Saturday anyway; the 19th is a Friday.
        (
            Cycle::Monthly,
            DueRule::DayOfMonth {
                day: 20,
                next_month: true,
            },
            true,
            "2026-05",
            date(2026, 6, 19),
        ),
        // February: 19/2 is a Tết day, rolled forward to Mon 23/2 (Art. 148.5).
        (
            Cycle::Monthly,
            DueRule::DayOfMonth {
                day: 20,
                next_month: true,
            },
            true,
            "2026-01",
            date(2026, 2, 23),
        ),
    ];
    for (cycle, rule, exclusive, key, want) in cases {
        let mut ob = obligation("bc", &["a"], cycle.clone(), WindowStyle::Calendar, rule);
        ob.due_exclusive = exclusive;
        let cfg = config(vec![unit("a")], vec![ob]);
        assert_eq!(
            due_of(&cfg, "bc", key, "a"),
            want,
            "{cycle:?} {rule:?} {key}"
        );
    }
}

/// "chậm nhất 14 giờ": the deadline is that instant, in `deadlines`, in the
/// plan, and a reminder that would come at or after it is dropped.
#[test]
fn deadline_at_a_time_of_day() {
    let mut ob = obligation(
        "bc",
        &["a"],
        Cycle::Daily {
            working_days_only: true,
        },
        WindowStyle::Calendar,
        DueRule::After(wdays(1)),
    );
    ob.due_time = Some(Time::constant(14, 0, 0, 0));
    ob.reminders = vec![days(0)];
    let cfg = config(vec![unit("a")], vec![ob.clone()]);
    let cal = WorkCalendar::new(&cfg.calendar);
    // Fri 13/2 is due Mon 23/2 at 14:00 (+07), 07:00 UTC.
    let d = deadline_for(&cfg, &cal, "bc", "2026-02-13", "a").unwrap();
    assert_eq!(d.due, date(2026, 2, 23));
    assert_eq!(d.deadline.to_string(), "2026-02-23T07:00:00Z");
    let events = plan(
        &cfg,
        &cal,
        date(2026, 2, 23),
        date(2026, 2, 23),
        &Filter::default(),
    );
    let shown: Vec<String> = events
        .iter()
        .filter(|e| e.period.to_string() == "2026-02-13")
        .map(|e| format!("{} {}", e.kind.as_str(), e.at_rfc3339()))
        .collect();
    assert_eq!(
        shown,
        [
            "reminder 2026-02-23T07:30:00+07:00",
            "deadline 2026-02-23T14:00:00+07:00"
        ]
    );
    // `hanbao plan` shows the deadline at its time, not at 24:00.
    let table = render(&entries(&cfg, &cal, &events, &[]), &cfg, false);
    assert!(table.contains("23/02/2026  14:00  Hạn chót"), "{table}");
    assert!(!table.contains("24:00"), "{table}");
    // At 07:00, before the sending hours (7:30): no reminder on the day.
    ob.due_time = Some(Time::constant(7, 0, 0, 0));
    let cfg = config(vec![unit("a")], vec![ob]);
    let events = plan(
        &cfg,
        &cal,
        date(2026, 2, 23),
        date(2026, 2, 23),
        &Filter::default(),
    );
    let shown: Vec<String> = events
        .iter()
        .filter(|e| e.period.to_string() == "2026-02-13")
        .map(|e| format!("{} {}", e.kind.as_str(), e.at_rfc3339()))
        .collect();
    assert_eq!(shown, ["deadline 2026-02-23T07:00:00+07:00"]);
}

fn hours(n: u32) -> Offset {
    Offset {
        amount: n,
        unit: DayUnit::Hours,
    }
}

/// Reminders and escalations in hours, on a daily report due the next
/// working day (sending hours 07:30–11:00; Tết 14–22/2/2026): each case is
/// (deadline's time, reminder, escalation after, period) and the events
/// other than the deadline, checked by hand.
#[test]
fn offsets_in_hours_table() {
    let t = |h, m| Some(Time::constant(h, m, 0, 0));
    type Case = (
        Option<Time>,
        Option<Offset>,
        Option<Offset>,
        &'static str,
        &'static [&'static str],
    );
    let cases: [Case; 11] = [
        // Fri 13/2 is due Mon 23/2. 10:00 − 2 h = 08:00, inside the hours.
        (
            t(10, 0),
            Some(hours(2)),
            None,
            "2026-02-13",
            &["reminder 2026-02-23T08:00:00+07:00"],
        ),
        // 10:00 − 3 h = 07:00, before 07:30: at 07:30, still before 10:00.
        (
            t(10, 0),
            Some(hours(3)),
            None,
            "2026-02-13",
            &["reminder 2026-02-23T07:30:00+07:00"],
        ),
        // 14:00 − 2 h = 12:00, after 11:00: at the start of that day's hours.
        (
            t(14, 0),
            Some(hours(2)),
            None,
            "2026-02-13",
            &["reminder 2026-02-23T07:30:00+07:00"],
        ),
        // 24:00 − 2 h = 22:00 Mon 23/2: 07:30 that day.
        (
            None,
            Some(hours(2)),
            None,
            "2026-02-13",
            &["reminder 2026-02-23T07:30:00+07:00"],
        ),
        // 10:00 Mon 23/2 − 48 h = Sat 21/2 (Tết): back to Fri 13/2, the
        // period's own day.
        (
            t(10, 0),
            Some(hours(48)),
            None,
            "2026-02-13",
            &["reminder 2026-02-13T07:30:00+07:00"],
        ),
        // Thu 12/2 is due Fri 13/2 10:00; − 48 h = Wed 11/2 10:00, before
        // the period (12/2) opens: dropped.
        (t(10, 0), Some(hours(48)), None, "2026-02-12", &[]),
        // − 24 h = Thu 12/2 10:00, inside the hours and the period.
        (
            t(10, 0),
            Some(hours(24)),
            None,
            "2026-02-12",
            &["reminder 2026-02-12T10:00:00+07:00"],
        ),
        // Overdue 1 h after 08:00 Mon 23/2: 09:00.
        (
            t(8, 0),
            None,
            Some(hours(1)),
            "2026-02-13",
            &["escalation 2026-02-23T09:00:00+07:00"],
        ),
        // 2 h after 10:00 = 12:00, after the hours: Tue 24/2 07:30.
        (
            t(10, 0),
            None,
            Some(hours(2)),
            "2026-02-13",
            &["escalation 2026-02-24T07:30:00+07:00"],
        ),
        // 2 h after 24:00 Mon 23/2 = 02:00 Tue 24/2: 07:30 that day.
        (
            None,
            None,
            Some(hours(2)),
            "2026-02-13",
            &["escalation 2026-02-24T07:30:00+07:00"],
        ),
        // 24 h after Fri 13/2 10:00 = Sat 14/2 (Tết): Mon 23/2 07:30.
        (
            t(10, 0),
            None,
            Some(hours(24)),
            "2026-02-12",
            &["escalation 2026-02-23T07:30:00+07:00"],
        ),
    ];
    for (due_time, reminder, after, period, expected) in cases {
        assert_eq!(
            hour_events(due_time, reminder, after, period),
            expected,
            "{due_time:?} {reminder:?} {after:?} {period}"
        );
    }
}

/// The events other than the deadline of `period` of a daily report due
/// the next working day at `due_time`, with one reminder and one
/// escalation stage (to the unit).
fn hour_events(
    due_time: Option<Time>,
    reminder: Option<Offset>,
    after: Option<Offset>,
    period: &str,
) -> Vec<String> {
    let mut ob = obligation(
        "bc",
        &["a"],
        Cycle::Daily {
            working_days_only: true,
        },
        WindowStyle::Calendar,
        DueRule::After(wdays(1)),
    );
    ob.due_time = due_time;
    ob.reminders = reminder.into_iter().collect();
    ob.escalation = after
        .into_iter()
        .map(|after| EscalationStage {
            after,
            notify: vec![EscalationTarget::Unit],
            repeat: None,
        })
        .collect();
    let cfg = config(vec![unit("a")], vec![ob]);
    let cal = WorkCalendar::new(&cfg.calendar);
    let year: i16 = period[..4].parse().unwrap();
    let events = plan(
        &cfg,
        &cal,
        date(year, 1, 15),
        date(year, 3, 31),
        &Filter::default(),
    );
    events
        .iter()
        .filter(|e| e.period.to_string() == period && e.kind != EventKind::Deadline)
        .map(|e| format!("{} {}", e.kind.as_str(), e.at_rfc3339()))
        .collect()
}

/// The same around Tết 2027 on the default calendar: Tết falls on Sat
/// 6/2/2027; the five holidays are Fri 5/2–Tue 9/2, and Sat 6 and Sun 7
/// give the compensatory Wed 10 and Thu 11/2 (Labour Code Art. 111.3):
/// no working day from Fri 5/2 to Thu 11/2; Thu 4/2 and Fri 12/2 are
/// working days, Sat 13 and Sun 14/2 the weekend.
#[test]
fn offsets_in_hours_around_tet_2027() {
    let t = Some(Time::constant(10, 0, 0, 0));
    type Case = (
        Option<Offset>,
        Option<Offset>,
        &'static str,
        &'static [&'static str],
    );
    let cases: [Case; 7] = [
        // Thu 4/2 is due Fri 12/2 10:00: 2 hours before, 08:00.
        (
            Some(hours(2)),
            None,
            "2027-02-04",
            &["reminder 2027-02-12T08:00:00+07:00"],
        ),
        // 24 hours before is Thu 11/2 (Tết): back to Thu 4/2, 07:30.
        (
            Some(hours(24)),
            None,
            "2027-02-04",
            &["reminder 2027-02-04T07:30:00+07:00"],
        ),
        // 1 hour after 10:00 is 11:00, the end of the sending hours: the
        // next window, Mon 15/2 07:30.
        (
            None,
            Some(hours(1)),
            "2027-02-04",
            &["escalation 2027-02-15T07:30:00+07:00"],
        ),
        // "0 ngày": the morning after (Sat 13/2) moved to Mon 15/2.
        (
            None,
            Some(days(0)),
            "2027-02-04",
            &["escalation 2027-02-15T07:30:00+07:00"],
        ),
        // Wed 3/2 is due Thu 4/2 10:00; 24 hours after is Fri 5/2 (Tết):
        // Fri 12/2 07:30.
        (
            None,
            Some(hours(24)),
            "2027-02-03",
            &["escalation 2027-02-12T07:30:00+07:00"],
        ),
        // Fri 12/2 is due Mon 15/2 10:00; 72 hours before is Fri 12/2 10:00.
        (
            Some(hours(72)),
            None,
            "2027-02-12",
            &["reminder 2027-02-12T10:00:00+07:00"],
        ),
        // 96 hours before is Thu 11/2 (Tết), back to Thu 4/2: before the
        // period opens, dropped.
        (Some(hours(96)), None, "2027-02-12", &[]),
    ];
    for (reminder, after, period, expected) in cases {
        assert_eq!(
            hour_events(t, reminder, after, period),
            expected,
            "{reminder:?} {after:?} {period}"
        );
    }
}

/// A second tier (the coordinator's compiled report) due N working days
/// after its first tier's due day, after the first tier's overrides and
/// rolling, in the first tier's own window style.
#[test]
fn second_tier_due_after_the_first_tiers_due_day() {
    let tier = |base: &Obligation, offset: Offset| {
        let mut ob = obligation(
            "tong-hop",
            &["so"],
            base.cycle.clone(),
            WindowStyle::Calendar,
            DueRule::AfterDue(offset),
        );
        ob.depends_on = vec![base.id.clone()];
        ob.due_after = Some(TierBase {
            id: base.id.clone(),
            obligation: Some(Box::new(base.clone())),
        });
        ob
    };
    let half = obligation(
        "don-vi",
        &["a"],
        Cycle::SixMonthly {
            first_half_only: true,
        },
        WindowStyle::Calendar,
        DueRule::DayOfMonth {
            day: 20,
            next_month: false,
        },
    );
    let mut monthly = obligation(
        "don-vi",
        &["a"],
        Cycle::Monthly,
        WindowStyle::Calendar,
        DueRule::DayOfMonth {
            day: 10,
            next_month: true,
        },
    );
    let decree09 = obligation(
        "don-vi",
        &["a"],
        Cycle::Monthly,
        WindowStyle::Decree09,
        DueRule::After(wdays(5)),
    );
    let cases: Vec<(Obligation, Offset, &str, Date)> = vec![
        // First tier 20/6/2026 is a Saturday: Mon 22/6; +5 working days:
        // 23, 24, 25, 26, Mon 29/6.
        (half.clone(), wdays(5), "2026-H1", date(2026, 6, 29)),
        // January's first tier is due Tue 10/2/2026; +3 working days: Fri 13/2.
        (monthly.clone(), wdays(3), "2026-01", date(2026, 2, 13)),
        // +4 working days: 11, 12, 13, then Tết: Mon 23/2.
        (monthly.clone(), wdays(4), "2026-01", date(2026, 2, 23)),
        // +7 calendar days from Tue 10/2: Tue 17/2, a Tết day: Mon 23/2.
        (monthly.clone(), days(7), "2026-01", date(2026, 2, 23)),
        // Decree 09 January ends Wed 14/1/2026; +5 working days: Wed 21/1;
        // the second tier's +2: Fri 23/1.
        (decree09, wdays(2), "2026-01", date(2026, 1, 23)),
    ];
    for (base, offset, key, want) in cases {
        let compiled = tier(&base, offset);
        let cfg = config(vec![unit("a")], vec![base.clone(), compiled]);
        assert_eq!(
            due_of(&cfg, "tong-hop", key, "so"),
            want,
            "{:?} {offset:?} {key}",
            base.due
        );
    }
    // A first-tier override moves the second tier: 12/2 (Thu), +3: 13, 23, 24/2.
    monthly
        .overrides
        .insert("2026-01".into(), date(2026, 2, 12));
    let compiled = tier(&monthly, wdays(3));
    let cfg = config(vec![unit("a")], vec![monthly, compiled]);
    assert_eq!(due_of(&cfg, "tong-hop", "2026-01", "so"), date(2026, 2, 24));
    // And it is listed where its due day falls.
    let cal = WorkCalendar::new(&cfg.calendar);
    let listed: Vec<String> = deadlines(
        &cfg,
        &cal,
        date(2026, 2, 24),
        date(2026, 2, 24),
        &Filter::default(),
    )
    .iter()
    .map(|d| format!("{} {} {}", d.obligation.id, d.period, d.due))
    .collect();
    assert_eq!(listed, ["tong-hop 2026-01 2026-02-24"]);
}

/// A reminder that would come before its period starts is dropped (the
/// later ones keep their stage numbers); `check` warns about it.
#[test]
fn reminders_before_the_period_starts_are_dropped() {
    let mut daily = obligation(
        "ngay",
        &["a"],
        Cycle::Daily {
            working_days_only: true,
        },
        WindowStyle::Calendar,
        DueRule::After(wdays(1)),
    );
    // Wed 3/6/2026 is due Thu 4/6: "3 ngày" (Mon 1/6) is before the period.
    daily.reminders = vec![days(3), days(0)];
    let mut weekly = obligation(
        "tuan",
        &["a"],
        Cycle::Weekly,
        WindowStyle::Calendar,
        DueRule::Weekday {
            weekday: Weekday::Thursday,
            next_week: false,
        },
    );
    // Week 23 (Mon 1–Sun 7/6) is due Thu 4/6: "5 ngày" falls on Sat 30/5,
    // moved back to Fri 29/5, before the week; "2 ngày" is Tue 2/6.
    weekly.reminders = vec![days(5), days(2)];
    let cfg = config(vec![unit("a")], vec![daily, weekly]);
    let cal = WorkCalendar::new(&cfg.calendar);
    let events = plan(
        &cfg,
        &cal,
        date(2026, 5, 25),
        date(2026, 6, 4),
        &Filter::default(),
    );
    let shown: Vec<String> = events
        .iter()
        .filter(|e| ["2026-06-03", "2026-W23"].contains(&e.period.to_string().as_str()))
        .map(|e| format!("{} {} {} {}", e.period, e.kind.as_str(), e.stage, e.day()))
        .collect();
    assert_eq!(
        shown,
        [
            "2026-W23 reminder 2 2026-06-02",
            "2026-06-03 reminder 2 2026-06-04",
            "2026-06-03 deadline 0 2026-06-04",
            "2026-W23 deadline 0 2026-06-04",
        ]
    );
}

#[test]
fn one_off_period_is_keyed_by_id() {
    // Window 1/3–10/3/2026; +3 days = Fri 13/3.
    let ob = obligation(
        "vuong-mac-2026",
        &["a"],
        Cycle::Once {
            start: Some(date(2026, 3, 1)),
            end: date(2026, 3, 10),
        },
        WindowStyle::Calendar,
        DueRule::After(days(3)),
    );
    let cfg = config(vec![unit("a")], vec![ob]);
    let cal = WorkCalendar::new(&cfg.calendar);
    let d = deadline_for(&cfg, &cal, "vuong-mac-2026", "vuong-mac-2026", "a").unwrap();
    assert_eq!(d.due, date(2026, 3, 13));
    assert_eq!(d.window.start, date(2026, 3, 1));
    assert_eq!(d.period.to_string(), "vuong-mac-2026");
    let err = deadline_for(&cfg, &cal, "vuong-mac-2026", "2026", "a").unwrap_err();
    assert!(
        err.to_string().contains("because its cycle is one-off"),
        "{err}"
    );
}

#[test]
fn overrides_replace_the_computed_day_then_roll() {
    let mut ob = obligation(
        "nq121-6thang",
        &["a"],
        Cycle::SixMonthly {
            first_half_only: false,
        },
        WindowStyle::Calendar,
        DueRule::DayOfMonth {
            day: 20,
            next_month: false,
        },
    );
    // "For 2026-H1 the province asked for 18/6" (Thu).
    ob.overrides.insert("2026-H1".into(), date(2026, 6, 18));
    // An override on Sat 5/12/2026 rolls to Mon 7/12.
    ob.overrides.insert("2026-H2".into(), date(2026, 12, 5));
    let cfg = config(vec![unit("a")], vec![ob.clone()]);
    assert_eq!(
        due_of(&cfg, "nq121-6thang", "2026-H1", "a"),
        date(2026, 6, 18)
    );
    assert_eq!(
        due_of(&cfg, "nq121-6thang", "2026-H2", "a"),
        date(2026, 12, 7)
    );
    // 2025-H1 has no override: 20/6/2025 is a Friday.
    assert_eq!(
        due_of(&cfg, "nq121-6thang", "2025-H1", "a"),
        date(2025, 6, 20)
    );
    ob.roll_to_working_day = false;
    let cfg = config(vec![unit("a")], vec![ob]);
    assert_eq!(
        due_of(&cfg, "nq121-6thang", "2026-H2", "a"),
        date(2026, 12, 5)
    );
    // The overridden day is what `deadlines` reports, found by the overridden date.
    let cal = WorkCalendar::new(&cfg.calendar);
    let d = deadlines(
        &cfg,
        &cal,
        date(2026, 6, 18),
        date(2026, 6, 18),
        &Filter::default(),
    );
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].period.to_string(), "2026-H1");
}

#[test]
fn missing_periods_are_explained() {
    let ob = obligation(
        "nq121-6thang",
        &["a"],
        Cycle::SixMonthly {
            first_half_only: true,
        },
        WindowStyle::Calendar,
        DueRule::After(days(5)),
    );
    let cfg = config(vec![unit("a")], vec![ob]);
    let cal = WorkCalendar::new(&cfg.calendar);
    for (key, want) in [
        (
            "2026-H2",
            "period 2026-H2 does not exist for obligation \"nq121-6thang\" because its cycle is six-monthly, first half only",
        ),
        ("2026-Q3", "because its cycle is six-monthly"),
        ("2026-13", "the month must be 01–12"),
        ("H1-2026", "is not a period key"),
    ] {
        let err = deadline_for(&cfg, &cal, "nq121-6thang", key, "a").unwrap_err();
        assert!(matches!(err, PlanError::Period { .. }), "{err:?}");
        assert!(err.to_string().contains(want), "{key}: {err}");
    }
    assert!(matches!(
        deadline_for(&cfg, &cal, "nope", "2026-H1", "a"),
        Err(PlanError::UnknownObligation(_))
    ));
    assert!(matches!(
        deadline_for(&cfg, &cal, "nq121-6thang", "2026-H1", "so"),
        Err(PlanError::NotAReporter { .. })
    ));
}

// ---------- who owes what ----------

#[test]
fn dissolved_unit_owes_first_half_but_not_the_year() {
    let mut a = unit("huyen-cu");
    a.active_until = Some(date(2025, 6, 30));
    let mut b = unit("xa-moi");
    b.active_from = Some(date(2025, 7, 1));
    let half = obligation(
        "nq121-6thang",
        &["huyen-cu", "xa-moi"],
        Cycle::SixMonthly {
            first_half_only: false,
        },
        WindowStyle::Calendar,
        DueRule::After(days(10)),
    );
    let year = obligation(
        "nq121-nam",
        &["huyen-cu", "xa-moi"],
        Cycle::Annual,
        WindowStyle::Calendar,
        DueRule::After(days(10)),
    );
    let cfg = config(vec![a, b], vec![half, year]);
    let cal = WorkCalendar::new(&cfg.calendar);
    let owed: Vec<(String, String, String)> = deadlines(
        &cfg,
        &cal,
        date(2025, 2, 1),
        date(2026, 1, 31),
        &Filter::default(),
    )
    .iter()
    .map(|d| {
        (
            d.obligation.id.clone(),
            d.period.to_string(),
            d.unit.id.clone(),
        )
    })
    .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        owed,
        vec![
            // 2025-H1 due 10/7/2025, 2025-H2 and 2025 due 10/1/2026 (Sat, rolled to Mon 12/1).
            s("nq121-6thang", "2025-H1", "huyen-cu"),
            s("nq121-6thang", "2025-H2", "xa-moi"),
            s("nq121-nam", "2025", "xa-moi"),
        ]
    );
    assert_eq!(
        due_of(&cfg, "nq121-nam", "2025", "xa-moi"),
        date(2026, 1, 12)
    );
    assert!(matches!(
        deadline_for(&cfg, &cal, "nq121-nam", "2025", "huyen-cu"),
        Err(PlanError::UnitInactive { .. })
    ));
}

#[test]
fn obligation_validity_window() {
    let mut ob = obligation(
        "bc",
        &["a"],
        Cycle::Quarterly,
        WindowStyle::Calendar,
        DueRule::After(days(5)),
    );
    ob.active_from = Some(date(2026, 4, 1));
    ob.active_until = Some(date(2026, 9, 30));
    let cfg = config(vec![unit("a")], vec![ob]);
    let cal = WorkCalendar::new(&cfg.calendar);
    let keys: Vec<String> = deadlines(
        &cfg,
        &cal,
        date(2026, 1, 1),
        date(2027, 3, 31),
        &Filter::default(),
    )
    .iter()
    .map(|d| d.period.to_string())
    .collect();
    assert_eq!(keys, ["2026-Q2", "2026-Q3"]);
    assert!(matches!(
        deadline_for(&cfg, &cal, "bc", "2026-Q1", "a"),
        Err(PlanError::ObligationInactive { .. })
    ));
}

#[test]
fn compiled_report_dependencies() {
    let units = obligation(
        "don-vi-6thang",
        &["a"],
        Cycle::SixMonthly {
            first_half_only: false,
        },
        WindowStyle::Calendar,
        DueRule::After(days(10)),
    );
    let monthly = obligation(
        "don-vi-thang",
        &["a"],
        Cycle::Monthly,
        WindowStyle::Decree09,
        DueRule::After(days(2)),
    );
    let mut compiled = obligation(
        "tong-hop",
        &["so"],
        Cycle::SixMonthly {
            first_half_only: false,
        },
        WindowStyle::Calendar,
        DueRule::After(wdays(5)),
    );
    compiled.depends_on = vec!["don-vi-6thang".into(), "don-vi-thang".into()];
    let cfg = config(vec![unit("a")], vec![units, monthly, compiled]);
    let compiled = cfg.obligation("tong-hop").unwrap();
    let deps =
        planner::dependencies(&cfg, compiled, &PeriodKey::parse("2026-H1").unwrap()).unwrap();
    let got: Vec<(String, String)> = deps
        .iter()
        .map(|(o, p)| (o.id.clone(), p.key.to_string()))
        .collect();
    // Same cycle: same key. Monthly Decree 09 windows end on the 14th of
    // January..June, all inside 1/1–30/6.
    let mut want = vec![("don-vi-6thang".to_string(), "2026-H1".to_string())];
    want.extend((1..=6).map(|m| ("don-vi-thang".to_string(), format!("2026-{m:02}"))));
    assert_eq!(got, want);
}

// ---------- events ----------

/// Two districts, each reporting to its own People's Council, supervised by the province.
fn districts() -> Config {
    let mut tinh = unit("ubnd-tinh");
    tinh.emails = vec!["vp@tinh.example".into()];
    let mut units = vec![tinh, unit("hdnd-a"), unit("hdnd-b")];
    for (id, council) in [("huyen-a", "hdnd-a"), ("huyen-b", "hdnd-b")] {
        let mut u = unit(id);
        u.emails = vec![format!("vanthu@{id}.example"), format!("ubnd@{id}.example")];
        u.head = Some(Person {
            name: "Chủ tịch".into(),
            email: format!("chutich@{id}.example"),
        });
        u.supervisor = Some("ubnd-tinh".into());
        u.council = Some(council.into());
        units.push(u);
    }
    let mut ob = obligation(
        "tre-em-nam",
        &["huyen-b", "huyen-a"],
        Cycle::SixMonthly {
            first_half_only: true,
        },
        WindowStyle::Calendar,
        DueRule::DayOfMonth {
            day: 20,
            next_month: false,
        },
    );
    ob.recipient = Recipient::ReporterCouncil;
    ob.reminders = vec![days(7), days(2), wdays(1)];
    ob.escalation = vec![
        EscalationStage {
            after: days(0),
            notify: vec![EscalationTarget::Unit, EscalationTarget::Head],
            repeat: None,
        },
        EscalationStage {
            after: days(5),
            notify: vec![
                EscalationTarget::Supervisor,
                EscalationTarget::Recipient,
                EscalationTarget::Address("theodoi@so.example".into()),
                EscalationTarget::Unit,
                EscalationTarget::Address("vp@tinh.example".into()),
            ],
            repeat: Some(Repeat {
                every: days(7),
                limit: 2,
            }),
        },
    ];
    config(units, vec![ob])
}

#[test]
fn events_of_a_period_in_order_with_recipients() {
    let cfg = districts();
    let cal = WorkCalendar::new(&cfg.calendar);
    let events = plan(
        &cfg,
        &cal,
        date(2026, 6, 1),
        date(2026, 7, 31),
        &Filter::default(),
    );
    let got: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {}",
                e.at_rfc3339(),
                e.unit.id,
                e.kind.as_str(),
                e.stage,
                e.recipients.join(",")
            )
        })
        .collect();
    // Due: 20/6/2026 is a Saturday -> Mon 22/6.
    // Reminders: 7 days before = Mon 15/6; 2 days before = Sat 20/6 -> Fri 19/6;
    // 1 working day before = Fri 19/6 (same day, dropped).
    // Escalations: stage A 0 days -> the morning after, Tue 23/6; stage B
    // 5 days -> Sat 27/6 -> Mon 29/6, repeats every 7 days twice: Mon 6/7, Mon 13/7.
    let a_unit = "vanthu@huyen-a.example,ubnd@huyen-a.example";
    let b_unit = "vanthu@huyen-b.example,ubnd@huyen-b.example";
    let a_head = format!("{a_unit},chutich@huyen-a.example");
    let b_head = format!("{b_unit},chutich@huyen-b.example");
    let a_b = format!("vp@tinh.example,vanthu@hdnd-a.example,theodoi@so.example,{a_unit}");
    let b_b = format!("vp@tinh.example,vanthu@hdnd-b.example,theodoi@so.example,{b_unit}");
    let mut want = vec![
        format!("2026-06-15T07:30:00+07:00 huyen-a reminder 1 {a_unit}"),
        format!("2026-06-15T07:30:00+07:00 huyen-b reminder 1 {b_unit}"),
        format!("2026-06-19T07:30:00+07:00 huyen-a reminder 2 {a_unit}"),
        format!("2026-06-19T07:30:00+07:00 huyen-b reminder 2 {b_unit}"),
        format!("2026-06-23T00:00:00+07:00 huyen-a deadline 0 {a_unit}"),
        format!("2026-06-23T00:00:00+07:00 huyen-b deadline 0 {b_unit}"),
        format!("2026-06-23T07:30:00+07:00 huyen-a escalation 1 {a_head}"),
        format!("2026-06-23T07:30:00+07:00 huyen-b escalation 1 {b_head}"),
    ];
    for (stage, day) in [(2, "2026-06-29"), (3, "2026-07-06"), (4, "2026-07-13")] {
        want.push(format!(
            "{day}T07:30:00+07:00 huyen-a escalation {stage} {a_b}"
        ));
        want.push(format!(
            "{day}T07:30:00+07:00 huyen-b escalation {stage} {b_b}"
        ));
    }
    assert_eq!(got, want);
    assert!(events.iter().all(|e| e.due == date(2026, 6, 22)));

    let line = serde_json::to_string(&events[4]).unwrap();
    assert_eq!(
        line,
        r#"{"obligation":"tre-em-nam","period":"2026-H1","unit":"huyen-a","kind":"deadline","stage":0,"at":"2026-06-23T00:00:00+07:00","due":"2026-06-22","recipients":["vanthu@huyen-a.example","ubnd@huyen-a.example"]}"#
    );
}

#[test]
fn recipients_per_target_kind() {
    use EscalationTarget::*;
    use hanbao::planner::events::escalation_recipients;
    let mut cfg = districts();
    let targets = [Recipient, Address("vp@tinh.example".into())];
    let a = |cfg: &Config| {
        let ob = &cfg.obligations[0];
        let u = cfg.unit("huyen-a").unwrap();
        escalation_recipients(cfg, ob, u, &targets).join(",")
    };
    // Per reporter: its own council.
    assert_eq!(a(&cfg), "vanthu@hdnd-a.example,vp@tinh.example");
    // Per reporter: its supervisor (whose mailbox is also the fixed address: kept once).
    cfg.obligations[0].recipient = hanbao::config::model::Recipient::ReporterSupervisor;
    assert_eq!(a(&cfg), "vp@tinh.example");
    // One unit for every reporter.
    cfg.obligations[0].recipient = hanbao::config::model::Recipient::Unit("so".into());
    assert_eq!(a(&cfg), "vanthu@so.example,vp@tinh.example");
    // A unit without a head or supervisor contributes nothing for those targets.
    let ob = &cfg.obligations[0];
    let so = cfg.unit("so").unwrap();
    assert_eq!(
        escalation_recipients(&cfg, ob, so, &[Head, Supervisor, Unit]),
        ["vanthu@so.example"]
    );
}

#[test]
fn range_and_filters() {
    let cfg = districts();
    let cal = WorkCalendar::new(&cfg.calendar);
    // The deadline event belongs to its due day, not to the next day.
    let one_day = plan(
        &cfg,
        &cal,
        date(2026, 6, 22),
        date(2026, 6, 22),
        &Filter::default(),
    );
    assert_eq!(one_day.len(), 2);
    assert!(one_day.iter().all(|e| e.kind == EventKind::Deadline));
    // A range that starts after the due day still shows the escalations, with stable stage numbers.
    let late = plan(
        &cfg,
        &cal,
        date(2026, 7, 1),
        date(2026, 7, 31),
        &Filter::default(),
    );
    assert_eq!(
        late.iter().map(|e| e.stage).collect::<Vec<_>>(),
        [3, 3, 4, 4]
    );
    let only_a = Filter {
        unit: Some("huyen-a".into()),
        ..Filter::default()
    };
    let a = plan(&cfg, &cal, date(2026, 6, 1), date(2026, 7, 31), &only_a);
    // Two reminders, the deadline and four escalations.
    assert_eq!(a.len(), 7);
    assert!(a.iter().all(|e| e.unit.id == "huyen-a"));
    let unknown = Filter {
        obligation: Some("khong-co".into()),
        ..Filter::default()
    };
    assert!(plan(&cfg, &cal, date(2026, 1, 1), date(2026, 12, 31), &unknown).is_empty());
}

#[test]
fn reminder_and_escalation_over_tet() {
    // January 2026, due Fri 13/2/2026 (the 13th of next month).
    let mut ob = obligation(
        "thang",
        &["a"],
        Cycle::Monthly,
        WindowStyle::Calendar,
        DueRule::DayOfMonth {
            day: 13,
            next_month: true,
        },
    );
    ob.reminders = vec![days(0)];
    ob.escalation = vec![EscalationStage {
        after: days(1),
        notify: vec![EscalationTarget::Unit],
        repeat: Some(Repeat {
            every: wdays(1),
            limit: 1,
        }),
    }];
    // December 2025 second obligation: due Mon 23/2/2026 (the 23rd of
    // February for January's report); a reminder 3 days before falls on
    // Fri 20/2 (Tết) and moves back to Fri 13/2.
    let mut ob2 = obligation(
        "thang-2",
        &["a"],
        Cycle::Monthly,
        WindowStyle::Calendar,
        DueRule::DayOfMonth {
            day: 23,
            next_month: true,
        },
    );
    ob2.reminders = vec![days(3)];
    let cfg = config(vec![unit("a")], vec![ob, ob2]);
    let cal = WorkCalendar::new(&cfg.calendar);
    let f = |id: &str| Filter {
        obligation: Some(id.into()),
        ..Filter::default()
    };
    let e = plan(&cfg, &cal, date(2026, 2, 1), date(2026, 2, 28), &f("thang"));
    let got: Vec<(EventKind, u32, String)> = e
        .iter()
        .map(|e| (e.kind, e.stage, e.at_rfc3339()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                EventKind::Reminder,
                1,
                "2026-02-13T07:30:00+07:00".to_string()
            ),
            (
                EventKind::Deadline,
                0,
                "2026-02-14T00:00:00+07:00".to_string()
            ),
            // 1 day after = Sat 14/2, Tết until Sun 22/2 -> Mon 23/2; repeat 1 working day later: Tue 24/2.
            (
                EventKind::Escalation,
                1,
                "2026-02-23T07:30:00+07:00".to_string()
            ),
            (
                EventKind::Escalation,
                2,
                "2026-02-24T07:30:00+07:00".to_string()
            ),
        ]
    );
    let e = plan(
        &cfg,
        &cal,
        date(2026, 2, 1),
        date(2026, 2, 28),
        &f("thang-2"),
    );
    let got: Vec<(EventKind, String)> = e.iter().map(|e| (e.kind, e.at_rfc3339())).collect();
    assert_eq!(
        got,
        vec![
            (EventKind::Reminder, "2026-02-13T07:30:00+07:00".to_string()),
            (EventKind::Deadline, "2026-02-24T00:00:00+07:00".to_string()),
        ]
    );
}

#[test]
fn escalation_working_days_and_limit() {
    // Quarter 2/2026 ends Tue 30/6; due the 10th of next month, Fri 10/7.
    let mut ob = obligation(
        "quy",
        &["a"],
        Cycle::Quarterly,
        WindowStyle::Calendar,
        DueRule::DayOfMonth {
            day: 10,
            next_month: true,
        },
    );
    ob.escalation = vec![EscalationStage {
        // 2 working days after Fri 10/7: Mon 13, Tue 14.
        after: wdays(2),
        notify: vec![EscalationTarget::Unit],
        // Every 3 days, three times: Fri 17/7, Mon 20/7 (Sat), Thu 23/7 -> stop.
        repeat: Some(Repeat {
            every: days(3),
            limit: 3,
        }),
    }];
    let cfg = config(vec![unit("a")], vec![ob]);
    let cal = WorkCalendar::new(&cfg.calendar);
    let e = plan(
        &cfg,
        &cal,
        date(2026, 7, 11),
        date(2026, 9, 30),
        &Filter::default(),
    );
    let got: Vec<String> = e.iter().map(|e| e.local().date().to_string()).collect();
    assert_eq!(
        got,
        ["2026-07-14", "2026-07-17", "2026-07-20", "2026-07-23"]
    );
}

#[test]
fn render_table_and_json() {
    let cfg = districts();
    let cal = WorkCalendar::new(&cfg.calendar);
    let events = plan(
        &cfg,
        &cal,
        date(2026, 6, 22),
        date(2026, 6, 23),
        &Filter::default(),
    );
    let entries = entries(&cfg, &cal, &events, &[]);
    let json = render(&entries, &cfg, true);
    assert_eq!(json.lines().count(), entries.len());
    for l in json.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(v["at"].as_str().unwrap().ends_with("+07:00"));
    }
    let table = render(&entries, &cfg, false);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[1].starts_with("Ngày"), "{table}");
    // Due Sat 20/6 rolled to Mon 22/6: the due-day notice that morning,
    // then the deadline at 24:00, then the unit's overdue notice and the
    // head's escalation on Tue 23/6.
    assert!(
        lines[3].starts_with("22/06/2026  07:30  Đến hạn hôm nay"),
        "{table}"
    );
    assert!(table.contains("22/06/2026  24:00  Hạn chót"), "{table}");
    assert!(table.contains("23/06/2026  07:30  Báo quá hạn"), "{table}");
    assert!(table.contains("23/06/2026  07:30  Đôn đốc"), "{table}");
    // Columns line up: the period column starts at the same character on every row.
    let col = |l: &str| {
        l.chars()
            .collect::<Vec<_>>()
            .windows(7)
            .position(|w| w.iter().collect::<String>() == "2026-H1")
    };
    let cols: HashSet<_> = lines[3..].iter().map(|l| col(l)).collect();
    assert_eq!(cols.len(), 1, "{table}");
}

// ---------- properties ----------

fn arb_offset() -> impl Strategy<Value = Offset> {
    (0u32..15, any::<bool>()).prop_map(|(n, w)| if w { wdays(n) } else { days(n) })
}

fn arb_obligation() -> impl Strategy<Value = Obligation> {
    let cycle = prop_oneof![
        Just(Cycle::Monthly),
        Just(Cycle::Quarterly),
        any::<bool>().prop_map(|f| Cycle::SixMonthly { first_half_only: f }),
        Just(Cycle::NineMonthly),
        Just(Cycle::Annual),
        any::<bool>().prop_map(|w| Cycle::Daily {
            working_days_only: w
        }),
        Just(Cycle::Weekly),
        Just(Cycle::TenDay),
        Just(Cycle::FifteenDay),
        (1i8..=28, 1i8..=12).prop_map(|(d, m)| Cycle::Once {
            start: None,
            end: date(2026, m, d)
        }),
    ];
    let style = prop_oneof![Just(WindowStyle::Calendar), Just(WindowStyle::Decree09)];
    let rule = prop_oneof![
        arb_offset().prop_map(DueRule::After),
        (1u8..=31, any::<bool>())
            .prop_map(|(day, next_month)| DueRule::DayOfMonth { day, next_month }),
        (1u8..=31).prop_map(|day| DueRule::DayOfNextQuarter { day }),
        (1u8..=29, 1u8..=12).prop_map(|(day, month)| DueRule::DayMonth { day, month }),
        (0i8..7, any::<bool>()).prop_map(|(d, next_week)| DueRule::Weekday {
            weekday: Weekday::from_monday_zero_offset(d).unwrap(),
            next_week
        }),
    ];
    let stage =
        (arb_offset(), proptest::option::of((arb_offset(), 0u32..4))).prop_map(|(after, rep)| {
            EscalationStage {
                after,
                notify: vec![EscalationTarget::Unit, EscalationTarget::Supervisor],
                repeat: rep.map(|(every, limit)| Repeat { every, limit }),
            }
        });
    (
        cycle,
        style,
        rule,
        any::<bool>(),
        proptest::collection::vec(arb_offset(), 0..4),
        proptest::collection::vec(stage, 0..3),
        proptest::option::of((1i8..=12, 1i8..=28)),
        (proptest::option::of((0i8..24, 0i8..60)), any::<bool>()),
    )
        .prop_map(
            |(cycle, style, rule, roll, reminders, escalation, over, (time, excl))| {
                let mut ob = obligation("p", &["a", "b"], cycle, style, rule);
                ob.due_time = time.map(|(h, m)| Time::constant(h, m, 0, 0));
                ob.due_exclusive = excl && ob.due_time.is_none();
                ob.roll_to_working_day = roll;
                ob.reminders = reminders;
                ob.escalation = escalation;
                if let Some((m, d)) = over {
                    ob.overrides
                        .insert(format!("2026-{m:02}"), date(2026, m, d));
                }
                ob
            },
        )
}

fn arb_days_off() -> impl Strategy<Value = Vec<Date>> {
    proptest::collection::vec((1i8..=12, 1i8..=28), 0..25)
        .prop_map(|v| v.into_iter().map(|(m, d)| date(2026, m, d)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn planned_events_hold_their_invariants(ob in arb_obligation(), off in arb_days_off()) {
        let mut a = unit("a");
        a.supervisor = Some("so".into());
        let mut b = unit("b");
        b.active_until = Some(date(2026, 6, 30));
        let roll = ob.roll_to_working_day;
        let mut cfg = config(vec![a, b], vec![ob]);
        cfg.calendar.extra_days_off.extend(off.into_iter().map(|date| ConfiguredDay { date, reason: "x".into() }));
        let cal = WorkCalendar::new(&cfg.calendar);
        let (from, to) = (date(2025, 10, 1), date(2027, 3, 31));
        let ds: Vec<Deadline> = deadlines(&cfg, &cal, from, to, &Filter::default());
        for d in &ds {
            if roll {
                prop_assert!(cal.is_working_day(d.due), "rolled due day {} is not a working day", d.due);
            }
        }
        let events = plan(&cfg, &cal, from, to, &Filter::default());
        let mut seen = HashSet::new();
        let mut deadline_at = std::collections::HashMap::new();
        for e in &events {
            prop_assert!(seen.insert((e.obligation.id.clone(), e.period.to_string(), e.unit.id.clone(), e.kind, e.stage)), "duplicate {:?}", e);
            if e.kind == EventKind::Deadline {
                deadline_at.insert((e.period.to_string(), e.unit.id.clone()), e.at);
            } else {
                prop_assert!(cal.is_working_day(e.local().date()), "{:?} not on a working day", e);
                prop_assert_eq!(e.local().time(), cfg.daemon.sending_hours.start);
            }
        }
        let order = |e: &hanbao::planner::Event| {
            let ui = cfg.units.iter().position(|u| u.id == e.unit.id).unwrap();
            (e.at, e.period.clone(), ui, e.kind, e.stage)
        };
        prop_assert!(events.windows(2).all(|w| order(&w[0]) < order(&w[1])), "not sorted");
        // Every deadline event matches a unit-period from `deadlines`, and vice versa.
        let from_deadlines: HashSet<_> = ds.iter().map(|d| (d.period.to_string(), d.unit.id.clone(), d.deadline)).collect();
        let from_events: HashSet<_> = deadline_at.iter().map(|((p, u), at)| (p.clone(), u.clone(), *at)).collect();
        prop_assert_eq!(from_deadlines, from_events);
        for e in &events {
            if let Some(&at) = deadline_at.get(&(e.period.to_string(), e.unit.id.clone())) {
                match e.kind {
                    EventKind::Reminder => prop_assert!(e.at < at, "{:?} not before its deadline", e),
                    EventKind::Escalation => prop_assert!(e.at > at, "{:?} not after its deadline", e),
                    EventKind::Deadline => {}
                }
            }
            // Unit b is dissolved on 30/6/2026: nothing for periods ending later.
            if e.unit.id == "b" {
                let p = planner::period_of(e.obligation, &e.period.to_string()).unwrap();
                prop_assert!(p.window.end <= date(2026, 6, 30));
            }
        }
    }

    #[test]
    fn period_key_parse_never_panics(s in "\\PC{0,12}") {
        if let Ok(k) = PeriodKey::parse(&s) {
            prop_assert_eq!(k.to_string(), s);
        }
    }
}
