//! Vietnamese public holidays for one year: the statutory holidays, the
//! compensatory days off, and the official civil-servant schedules shipped
//! in `official.toml`.
//!
//! Law applied, by year:
//! - from 2021, Labour Code 2019 Art. 112: 1/1; Tết 5 days; Hùng Kings'
//!   Commemoration (lunar 10/3); 30/4; 1/5; National Day 2/9 plus one
//!   adjacent day (3/9 unless the year's schedule names another);
//! - 2013–2020, Labour Code 2012 Art. 115: the same, National Day 2/9 only;
//! - before 2013, Labour Code 1994 (as amended 2007): Tết 4 days (the last
//!   day of the lunar year and lunar 1/1–3/1), Hùng Kings' day from 2007.
//!   Earlier history (six-day weeks, older holiday lists) is not modelled.
//! - Vietnam Culture Day 24/11 from 2026, only when `culture_day` is set.
//!
//! Tết when a year has no official schedule: the last day of the lunar year
//! and lunar 1/1–4/1 (the commonest choice; Art. 112 leaves it to the Prime
//! Minister each year). Compensatory days (Art. 111.3): each holiday on a
//! Saturday or Sunday gives the next day that is neither a weekend nor
//! already off, taken in date order so that several in a row stack up.
//!
//! Administrator overrides are applied by [`super::WorkCalendar`], not here.
//! Pure: the data file is compiled in with `include_str!`; no IO, no clock.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::civil::Date;
use serde::Deserialize;

use super::daynum;
use super::lunar::{self, LunarDate};
use super::{HolidayKind, SpecialDay};
use crate::config::model::CalendarSettings;

/// The shipped official schedules (TOML).
pub const OFFICIAL_TOML: &str = include_str!("official.toml");

/// One year of `official.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OfficialYear {
    pub year: i16,
    /// The documents the schedule comes from.
    pub sources: Vec<String>,
    /// Breaks as announced (first and last day), checked by the tests.
    #[serde(default)]
    pub announced: Vec<[Date; 2]>,
    /// The five statutory Tết days chosen for the year.
    #[serde(default)]
    pub tet: Option<Vec<Date>>,
    /// The second National Day holiday (next to 2/9).
    #[serde(default)]
    pub national_day_extra: Option<Date>,
    /// Days off by a swap (not holidays themselves).
    #[serde(default)]
    pub off: Vec<OfficialDay>,
    /// Make-up working days.
    #[serde(default)]
    pub work: Vec<OfficialDay>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OfficialDay {
    pub date: Date,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficialFile {
    year: Vec<OfficialYear>,
}

/// Parses an official-schedule file (the shipped one is [`OFFICIAL_TOML`]).
pub fn parse_official(text: &str) -> Result<BTreeMap<i16, OfficialYear>, toml::de::Error> {
    let file: OfficialFile = toml::from_str(text)?;
    Ok(file.year.into_iter().map(|y| (y.year, y)).collect())
}

/// The shipped schedules, parsed once. The file is part of the source tree
/// and a unit test parses it, so a failure here is a build defect; it is
/// reported as "no official schedules" rather than a panic.
pub fn official() -> &'static BTreeMap<i16, OfficialYear> {
    static OFFICIAL: OnceLock<BTreeMap<i16, OfficialYear>> = OnceLock::new();
    OFFICIAL.get_or_init(|| parse_official(OFFICIAL_TOML).unwrap_or_default())
}

fn ymd(year: i16, month: i8, day: i8) -> Option<Date> {
    Date::new(year, month, day).ok()
}

fn dm(d: Date) -> String {
    format!("{:02}/{:02}", d.day(), d.month())
}

/// A Vietnamese name for a Tết day from its lunar date.
fn tet_day_name(d: Date) -> String {
    match lunar::solar_to_lunar(d) {
        Ok(LunarDate { month: 12, day, .. }) => format!("Tết Nguyên đán ({day} tháng Chạp)"),
        Ok(LunarDate {
            month: 1,
            day,
            leap: false,
            ..
        }) if day <= 10 => {
            format!("Tết Nguyên đán (mùng {day} tháng Giêng)")
        }
        _ => "Tết Nguyên đán".to_string(),
    }
}

/// The default Tết days of solar year `year`: the last day of the previous
/// lunar year and lunar 1/1–4/1 (1/1–3/1 before 2013).
fn default_tet(year: i16) -> Vec<Date> {
    let Ok(first) = lunar::lunar_to_solar(LunarDate {
        year: i32::from(year),
        month: 1,
        day: 1,
        leap: false,
    }) else {
        return Vec::new();
    };
    let after = if year >= 2013 { 4 } else { 3 };
    let start = daynum::jdn(first) - 1;
    (start..start + 1 + after)
        .filter_map(daynum::date_of)
        .collect()
}

/// The statutory holidays of `year` (before compensation), in date order.
fn statutory(
    year: i16,
    settings: &CalendarSettings,
    official: Option<&OfficialYear>,
) -> Vec<(Date, String)> {
    let mut out: Vec<(Date, String)> = Vec::new();
    let mut push = |d: Option<Date>, name: String| {
        if let Some(d) = d {
            out.push((d, name));
        }
    };
    push(ymd(year, 1, 1), "Tết Dương lịch (01/01)".to_string());
    let tet = official
        .and_then(|o| o.tet.clone())
        .unwrap_or_else(|| default_tet(year));
    for d in tet {
        push(Some(d), tet_day_name(d));
    }
    if year >= 2007
        && let Ok(d) = lunar::lunar_to_solar(LunarDate {
            year: i32::from(year),
            month: 3,
            day: 10,
            leap: false,
        })
    {
        push(Some(d), "Giỗ Tổ Hùng Vương (10/3 âm lịch)".to_string());
    }
    push(ymd(year, 4, 30), "Ngày Chiến thắng (30/04)".to_string());
    push(ymd(year, 5, 1), "Ngày Quốc tế Lao động (01/05)".to_string());
    push(ymd(year, 9, 2), "Quốc khánh (02/09)".to_string());
    if year >= 2021 {
        let extra = official
            .and_then(|o| o.national_day_extra)
            .or_else(|| ymd(year, 9, 3));
        push(extra, "Quốc khánh (ngày liền kề 02/09)".to_string());
    }
    if year >= 2026 && settings.culture_day {
        push(
            ymd(year, 11, 24),
            "Ngày Văn hóa Việt Nam (24/11)".to_string(),
        );
    }
    out.sort_by_key(|(d, _)| *d);
    out.dedup_by_key(|(d, _)| *d);
    out
}

/// Every special day that the law and the official schedule give `year`
/// (of `settings`, only `culture_day` matters)
/// (compensatory days may fall early in the next year), in date order.
/// Administrator overrides are not included.
pub fn year_days(year: i16, settings: &CalendarSettings) -> Vec<SpecialDay> {
    let official = official().get(&year);
    let holidays = statutory(year, settings, official);

    let mut off: Vec<i32> = holidays.iter().map(|(d, _)| daynum::jdn(*d)).collect();
    if let Some(o) = official {
        off.extend(o.off.iter().map(|d| daynum::jdn(d.date)));
    }

    let mut out: Vec<SpecialDay> = holidays
        .iter()
        .map(|(d, name)| SpecialDay {
            date: *d,
            name: name.clone(),
            kind: HolidayKind::Statutory,
            working: false,
        })
        .collect();

    for (d, name) in &holidays {
        let n = daynum::jdn(*d);
        if !daynum::is_weekend(n) {
            continue;
        }
        let mut c = n + 1;
        while daynum::is_weekend(c) || off.contains(&c) {
            c += 1;
        }
        off.push(c);
        if let Some(date) = daynum::date_of(c) {
            out.push(SpecialDay {
                date,
                name: format!("Nghỉ bù: {name} trùng {} {}", weekday_vi(n), dm(*d)),
                kind: HolidayKind::Compensatory,
                working: false,
            });
        }
    }

    if let Some(o) = official {
        for d in &o.off {
            out.push(SpecialDay {
                date: d.date,
                name: d.name.clone(),
                kind: HolidayKind::Official,
                working: false,
            });
        }
        for d in &o.work {
            out.push(SpecialDay {
                date: d.date,
                name: d.name.clone(),
                kind: HolidayKind::Official,
                working: true,
            });
        }
    }
    out.sort_by_key(|s| s.date);
    out
}

/// [`year_days`] for every year of the calendar, computed once per process
/// for each value of the only setting they depend on (`culture_day`).
pub fn all_years(culture_day: bool) -> &'static [SpecialDay] {
    static WITHOUT: OnceLock<Vec<SpecialDay>> = OnceLock::new();
    static WITH: OnceLock<Vec<SpecialDay>> = OnceLock::new();
    let cell = if culture_day { &WITH } else { &WITHOUT };
    cell.get_or_init(|| {
        let settings = CalendarSettings {
            culture_day,
            ..CalendarSettings::default()
        };
        let mut out = Vec::with_capacity(2600);
        for year in super::FIRST_YEAR..=super::LAST_YEAR {
            out.extend(year_days(year, &settings));
        }
        out
    })
}

fn weekday_vi(jdn: i32) -> &'static str {
    match daynum::weekday0(jdn) {
        0 => "Chủ Nhật",
        6 => "Thứ Bảy",
        _ => "ngày làm việc",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_file_parses_and_names_sources() {
        let years = parse_official(OFFICIAL_TOML).expect("official.toml parses");
        for y in 2020..=2026 {
            let o = years.get(&y).unwrap_or_else(|| panic!("{y} missing"));
            assert!(!o.sources.is_empty(), "{y} has no source");
            if let Some(tet) = &o.tet {
                assert_eq!(tet.len(), 5, "{y}: Tết is five days");
            }
        }
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(parse_official("[[year]]\nyear = 2030\nsources = []\nbogus = 1\n").is_err());
    }

    #[test]
    fn default_tet_is_last_day_and_first_four() {
        // 2027: Tết (lunar 1/1 Đinh Mùi) is Saturday 6/2/2027 (checked with the
        // lunar module against the ephemeris); default days 5/2–9/2.
        let days: Vec<String> = default_tet(2027).iter().map(|d| d.to_string()).collect();
        assert_eq!(
            days,
            [
                "2027-02-05",
                "2027-02-06",
                "2027-02-07",
                "2027-02-08",
                "2027-02-09"
            ]
        );
        // Before 2013: four days.
        assert_eq!(default_tet(2010).len(), 4);
    }
}
