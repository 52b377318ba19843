//! Planner benchmark: a national-scale model built in code (4,000 units,
//! 20 obligations of mixed cycles, window styles and due rules), planned for
//! one year on one core. Prints unit-period deadlines per second, events per
//! second and peak memory (VmHWM) against the size of the output.
//!
//! Run with `cargo bench --bench plan`. Plain `std::time::Instant`, no
//! harness; it reads /proc/self/status for memory and nothing else.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hanbao::calendar::WorkCalendar;
use hanbao::config::model::*;
use hanbao::planner::{Event, Filter, deadlines, plan};
use jiff::civil::{Time, date};
use jiff::tz::TimeZone;

const PROVINCES: usize = 34;
const UNITS: usize = 4_000;

fn off(amount: u32, working: bool) -> Offset {
    Offset {
        amount,
        unit: if working {
            DayUnit::WorkingDays
        } else {
            DayUnit::Days
        },
    }
}

fn unit(id: String) -> Unit {
    Unit {
        emails: vec![
            format!("vanthu@{id}.example"),
            format!("lanhdao@{id}.example"),
        ],
        head: Some(Person {
            name: "Thủ trưởng".into(),
            email: format!("thutruong@{id}.example"),
        }),
        name: format!("Đơn vị {id}"),
        id,
        groups: vec![],
        supervisor: None,
        council: None,
        active_from: None,
        active_until: None,
        successor: None,
    }
}

/// 34 provincial PCs, 34 provincial councils and 3,932 reporting units
/// (departments and communes) in three groups; some dissolved mid-year.
fn model() -> Config {
    let mut units = Vec::with_capacity(UNITS);
    for p in 0..PROVINCES {
        units.push(unit(format!("ubnd-tinh-{p:02}")));
    }
    for p in 0..PROVINCES {
        units.push(unit(format!("hdnd-tinh-{p:02}")));
    }
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut i = 0;
    while units.len() < UNITS {
        let p = i % PROVINCES;
        let group = match i % 10 {
            0..=2 => "so",
            3..=8 => "xa",
            _ => "nganh",
        };
        let mut u = unit(format!("{group}-{p:02}-{i:04}"));
        u.groups = vec![group.into()];
        u.supervisor = Some(format!("ubnd-tinh-{p:02}"));
        u.council = Some(format!("hdnd-tinh-{p:02}"));
        if i % 97 == 0 {
            u.active_until = Some(date(2026, 6, 30));
        }
        groups.entry(group.into()).or_default().push(u.id.clone());
        units.push(u);
        i += 1;
    }
    let all: Vec<String> = units[2 * PROVINCES..]
        .iter()
        .map(|u| u.id.clone())
        .collect();
    let cycles = [
        Cycle::Monthly,
        Cycle::Monthly,
        Cycle::Monthly,
        Cycle::Monthly,
        Cycle::Monthly,
        Cycle::Quarterly,
        Cycle::Quarterly,
        Cycle::Quarterly,
        Cycle::Quarterly,
        Cycle::Quarterly,
        Cycle::SixMonthly {
            first_half_only: false,
        },
        Cycle::SixMonthly {
            first_half_only: false,
        },
        Cycle::SixMonthly {
            first_half_only: true,
        },
        Cycle::SixMonthly {
            first_half_only: true,
        },
        Cycle::NineMonthly,
        Cycle::Annual,
        Cycle::Annual,
        Cycle::Annual,
        Cycle::Annual,
        Cycle::Annual,
    ];
    let mut obligations = Vec::new();
    for (n, cycle) in cycles.into_iter().enumerate() {
        let reporters = match n % 4 {
            0 | 1 => all.clone(),
            2 => groups["xa"].clone(),
            _ => groups["so"]
                .iter()
                .chain(&groups["nganh"])
                .cloned()
                .collect(),
        };
        let due = match n % 3 {
            0 => DueRule::After(off(5, false)),
            1 => DueRule::After(off(3, true)),
            _ => DueRule::DayOfMonth {
                day: 20,
                next_month: n % 2 == 0,
            },
        };
        let mut overrides = BTreeMap::new();
        if n == 10 {
            overrides.insert("2026-H1".to_string(), date(2026, 6, 18));
        }
        obligations.push(Obligation {
            id: format!("bc-{n:02}"),
            title: format!("Báo cáo {n}"),
            legal_basis: Some("Nghị định 09/2019/NĐ-CP".into()),
            reporters,
            recipient: match n % 3 {
                0 => Recipient::Unit("ubnd-tinh-00".into()),
                1 => Recipient::ReporterCouncil,
                _ => Recipient::ReporterSupervisor,
            },
            cycle,
            window: if n % 2 == 0 {
                WindowStyle::Calendar
            } else {
                WindowStyle::Decree09
            },
            due,
            overrides,
            roll_to_working_day: n % 5 != 4,
            reminders: vec![off(7, false), off(3, true), off(1, true)],
            escalation: vec![
                EscalationStage {
                    after: off(0, false),
                    notify: vec![EscalationTarget::Unit, EscalationTarget::Head],
                    repeat: None,
                },
                EscalationStage {
                    after: off(3, true),
                    notify: vec![
                        EscalationTarget::Unit,
                        EscalationTarget::Supervisor,
                        EscalationTarget::Recipient,
                        EscalationTarget::Address("theodoi@bo.example".into()),
                    ],
                    repeat: Some(Repeat {
                        every: off(7, false),
                        limit: 2,
                    }),
                },
            ],
            active_from: None,
            active_until: None,
            depends_on: vec![],
        });
    }
    let tet = (14..=22)
        .map(|d| ConfiguredDay {
            date: date(2026, 2, d),
            reason: "Tết Nguyên đán".into(),
        })
        .collect();
    Config {
        daemon: Daemon {
            time_zone_name: "Asia/Ho_Chi_Minh".into(),
            time_zone: TimeZone::get("Asia/Ho_Chi_Minh").expect("bundled tzdb"),
            database_url: "sqlite:///var/lib/hanbao/hanbao.db".into(),
            state_dir: PathBuf::from("/var/lib/hanbao"),
            sending_hours: SendingHours {
                start: Time::constant(7, 30, 0, 0),
                end: Time::constant(11, 0, 0, 0),
            },
            http_listen: "127.0.0.1:8080".parse().expect("address"),
        },
        mail: Mail {
            transport: Transport::File {
                dir: PathBuf::from("/var/lib/hanbao/outbox"),
            },
            from: "baocao@bo.example".into(),
            reply_to: None,
        },
        calendar: CalendarSettings {
            extra_days_off: tet,
            ..CalendarSettings::default()
        },
        units,
        obligations,
        groups,
        files: vec![],
    }
}

/// Peak resident set size so far, in KiB (Linux `VmHWM`).
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Best of `runs` timings of `f`, and its last result.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        drop(out.take());
        let t = Instant::now();
        let r = black_box(f());
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.expect("runs > 0"))
}

fn main() {
    let t = Instant::now();
    let cfg = model();
    let cal = WorkCalendar::new(&cfg.calendar);
    let (from, to) = (date(2026, 1, 1), date(2026, 12, 31));
    let filter = Filter::default();
    let reporters: usize = cfg.obligations.iter().map(|o| o.reporters.len()).sum();
    println!(
        "model: {} units, {} obligations, {} reporter links (built in {:.0?})",
        cfg.units.len(),
        cfg.obligations.len(),
        reporters,
        t.elapsed()
    );
    let base = vm_hwm_kib();
    println!("VmHWM after building the model: {:.1} MiB", mib(base));

    let (dt, ds) = best(7, || deadlines(&cfg, &cal, from, to, &filter));
    let n = ds.len();
    let bytes = n * std::mem::size_of_val(&ds[0]);
    println!(
        "deadlines 2026: {n} unit-period deadlines in {:.1} ms (best of 7) = {:.0} deadlines/s; \
         output {:.1} MiB ({} B each)",
        dt.as_secs_f64() * 1e3,
        n as f64 / dt.as_secs_f64(),
        bytes as f64 / (1 << 20) as f64,
        std::mem::size_of_val(&ds[0]),
    );
    drop(ds);
    let after_deadlines = vm_hwm_kib();
    println!(
        "VmHWM after deadlines: {:.1} MiB (+{:.1} MiB over the model)",
        mib(after_deadlines),
        mib(after_deadlines - base)
    );

    let (et, events): (Duration, Vec<Event>) = best(3, || plan(&cfg, &cal, from, to, &filter));
    let m = events.len();
    let ebytes = m * std::mem::size_of::<Event>();
    println!(
        "plan 2026: {m} events in {:.1} ms (best of 3) = {:.0} events/s; output {:.1} MiB \
         ({} B each, recipient lists shared)",
        et.as_secs_f64() * 1e3,
        m as f64 / et.as_secs_f64(),
        ebytes as f64 / (1 << 20) as f64,
        std::mem::size_of::<Event>(),
    );
    let after_plan = vm_hwm_kib();
    println!(
        "VmHWM after plan: {:.1} MiB (+{:.1} MiB over the model; {:.2}x the event vector)",
        mib(after_plan),
        mib(after_plan - base),
        (after_plan - base) as f64 * 1024.0 / ebytes as f64
    );

    let sample = &events[..events.len().min(200_000)];
    let t = Instant::now();
    let json = hanbao::planner::events::to_json_lines(sample);
    let jt = t.elapsed();
    println!(
        "json: {} events in {:.1} ms = {:.0} events/s ({:.0} B per line)",
        sample.len(),
        jt.as_secs_f64() * 1e3,
        sample.len() as f64 / jt.as_secs_f64(),
        json.len() as f64 / sample.len() as f64
    );
    let target = 1_000_000.0;
    let rate = n as f64 / dt.as_secs_f64();
    println!(
        "target >= {target:.0} deadlines/s on one core: {}",
        if rate >= target { "met" } else { "NOT met" }
    );
}
