//! Output of `hanbao calendar holidays|lunar|solar`: the JSON documented
//! in README.md's command table (`[{"date", "name", "kind", "working"}]`,
//! `{"date"}`, ...), or readable Vietnamese (dd/mm/yyyy, weekday names).
//!
//! The renderers are formatting only: nothing in them does IO or reads the
//! clock. [`run`] is the command: it reads the configuration only for
//! `holidays`, and only when one is named or installed.

use std::process::ExitCode;

use anyhow::Result;
use jiff::civil::{Date, Weekday};
use serde::Serialize;

use crate::calendar::{self, CalendarError, HolidayKind, LunarDate, WorkCalendar};
use crate::config::model::CalendarSettings;
use crate::config::values::format_date;

use super::{Context, parse_date};

/// `hanbao calendar ...`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum Command {
    /// Holidays and changed working days of a year (with the configured days
    /// when a configuration is given or found)
    Holidays {
        #[arg(long)]
        year: i16,
        /// A JSON array for other tools
        #[arg(long)]
        json: bool,
    },
    /// The lunar date of a solar date
    Lunar {
        /// Solar date (YYYY-MM-DD or dd/mm/yyyy)
        #[arg(value_parser = parse_date)]
        date: Date,
        #[arg(long)]
        json: bool,
    },
    /// The solar date of a lunar date
    Solar {
        /// Lunar date as YYYY-MM-DD (lunar year, month, day)
        date: String,
        /// The month is the leap month (tháng nhuận)
        #[arg(long)]
        leap: bool,
        #[arg(long)]
        json: bool,
    },
}

/// `hanbao calendar ...`.
pub fn run(ctx: &Context, cmd: Command) -> Result<ExitCode> {
    match cmd {
        Command::Holidays { year, json } => {
            // The administrator's days off count when a configuration is
            // named or installed; without one the built-in calendar answers.
            let path = ctx.env.config_path();
            let settings = if path.source.is_chosen_here() || path.value.exists() {
                ctx.config()?.calendar
            } else {
                CalendarSettings {
                    culture_day: true,
                    ..Default::default()
                }
            };
            print!("{}", holidays(&WorkCalendar::new(&settings), year, json));
        }
        Command::Lunar { date, json } => print!("{}", lunar(date, json)?),
        Command::Solar { date, leap, json } => {
            let (y, m, d) = parse_lunar_arg(&date)?;
            print!("{}", solar(y, m, d, leap, json)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct HolidayJson<'a> {
    date: String,
    name: &'a str,
    kind: &'static str,
    working: bool,
}

#[derive(Serialize)]
struct LunarJson {
    year: i32,
    month: u8,
    day: u8,
    leap: bool,
}

#[derive(Serialize)]
struct SolarJson {
    date: String,
}

/// Vietnamese weekday name ("Thứ Hai" … "Chủ Nhật").
pub fn weekday_vi(d: Date) -> &'static str {
    match d.weekday() {
        Weekday::Monday => "Thứ Hai",
        Weekday::Tuesday => "Thứ Ba",
        Weekday::Wednesday => "Thứ Tư",
        Weekday::Thursday => "Thứ Năm",
        Weekday::Friday => "Thứ Sáu",
        Weekday::Saturday => "Thứ Bảy",
        Weekday::Sunday => "Chủ Nhật",
    }
}

fn kind_vi(kind: HolidayKind) -> &'static str {
    match kind {
        HolidayKind::Statutory => "ngày lễ theo luật",
        HolidayKind::Compensatory => "nghỉ bù",
        HolidayKind::Official => "lịch chính thức",
        HolidayKind::Configured => "do quản trị viên khai báo",
    }
}

/// The can-chi name of a lunar year, e.g. 2026 -> "Bính Ngọ".
pub fn can_chi(year: i32) -> String {
    const STEMS: [&str; 10] = [
        "Giáp", "Ất", "Bính", "Đinh", "Mậu", "Kỷ", "Canh", "Tân", "Nhâm", "Quý",
    ];
    const BRANCHES: [&str; 12] = [
        "Tý", "Sửu", "Dần", "Mão", "Thìn", "Tỵ", "Ngọ", "Mùi", "Thân", "Dậu", "Tuất", "Hợi",
    ];
    format!(
        "{} {}",
        STEMS[(year + 6).rem_euclid(10) as usize],
        BRANCHES[(year + 8).rem_euclid(12) as usize]
    )
}

/// "mùng 1 tháng Giêng năm Bính Ngọ (2026)", "ngày 15 tháng 4 nhuận năm Canh Tý (2020)".
pub fn lunar_vi(l: LunarDate) -> String {
    let day = if l.day <= 10 {
        format!("mùng {}", l.day)
    } else {
        format!("ngày {}", l.day)
    };
    let month = match l.month {
        1 => "Giêng".to_string(),
        12 => "Chạp".to_string(),
        m => m.to_string(),
    };
    let leap = if l.leap { " nhuận" } else { "" };
    format!(
        "{day} tháng {month}{leap} năm {} ({})",
        can_chi(l.year),
        l.year
    )
}

/// `hanbao calendar holidays --year Y [--json]`.
pub fn holidays(cal: &WorkCalendar, year: i16, json: bool) -> String {
    let days = cal.special_days(year);
    if json {
        let lines: Vec<String> = days
            .iter()
            .map(|s| {
                serde_json::to_string(&HolidayJson {
                    date: s.date.to_string(),
                    name: &s.name,
                    kind: s.kind.as_str(),
                    working: s.working,
                })
                .unwrap_or_default()
            })
            .collect();
        if lines.is_empty() {
            return "[]\n".to_string();
        }
        return format!("[\n  {}\n]\n", lines.join(",\n  "));
    }
    let mut out = format!("Ngày nghỉ lễ, Tết và ngày làm việc đặc biệt năm {year}\n");
    if days.is_empty() {
        out.push_str("(không có dữ liệu cho năm này)\n");
    }
    for s in &days {
        let status = if s.working { "Làm việc" } else { "Nghỉ" };
        let note = if s.working && !cal.is_working_day(s.date) {
            " (không tính là ngày làm việc khi tính hạn)"
        } else {
            ""
        };
        out.push_str(&format!(
            "{:<9} {}  {:<8}  {} [{}]{}\n",
            weekday_vi(s.date),
            format_date(s.date),
            status,
            s.name,
            kind_vi(s.kind),
            note
        ));
    }
    out
}

/// `hanbao calendar lunar YYYY-MM-DD [--json]`.
pub fn lunar(date: Date, json: bool) -> Result<String, CalendarError> {
    let l = calendar::solar_to_lunar(date)?;
    if json {
        let j = LunarJson {
            year: l.year,
            month: l.month,
            day: l.day,
            leap: l.leap,
        };
        return Ok(format!(
            "{}\n",
            serde_json::to_string(&j).unwrap_or_default()
        ));
    }
    Ok(format!(
        "{} {} (dương lịch) là {} (âm lịch)\n",
        weekday_vi(date),
        format_date(date),
        lunar_vi(l)
    ))
}

/// Splits the argument of `hanbao calendar solar` ("YYYY-MM-DD", a *lunar*
/// date, so "2025-12-30" must not go through a solar date parser) into
/// year, month and day. Ranges are checked by [`solar`].
pub fn parse_lunar_arg(text: &str) -> Result<(i32, u8, u8), CalendarError> {
    let bad = || CalendarError::Unparsable(text.to_string());
    let mut parts = text.trim().splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y) && digits(m) && digits(d)) || y.len() != 4 || m.len() > 2 || d.len() > 2 {
        return Err(bad());
    }
    Ok((
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    ))
}

/// `hanbao calendar solar YYYY-MM-DD [--leap] [--json]`: the argument is a
/// lunar date (see [`parse_lunar_arg`]).
pub fn solar(
    year: i32,
    month: u8,
    day: u8,
    leap: bool,
    json: bool,
) -> Result<String, CalendarError> {
    let l = LunarDate {
        year,
        month,
        day,
        leap,
    };
    let d = calendar::lunar_to_solar(l)?;
    if json {
        return Ok(format!(
            "{}\n",
            serde_json::to_string(&SolarJson {
                date: d.to_string()
            })
            .unwrap_or_default()
        ));
    }
    Ok(format!(
        "{} (âm lịch) là {} {} (dương lịch)\n",
        capitalise(&lunar_vi(l)),
        weekday_vi(d),
        format_date(d)
    ))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn lunar_arguments() {
        // Lunar month 12 of Ất Tỵ (2025) has 29 days, but 30 is a valid lunar
        // day in general and must reach `solar`, which reports the error.
        assert_eq!(parse_lunar_arg("2025-12-30"), Ok((2025, 12, 30)));
        assert_eq!(parse_lunar_arg("2020-4-15"), Ok((2020, 4, 15)));
        assert!(parse_lunar_arg("2025-12").is_err());
        assert!(parse_lunar_arg("25-12-01").is_err());
        assert!(parse_lunar_arg("2025-1x-01").is_err());
        assert!(parse_lunar_arg("2025-+1-01").is_err());
        assert!(solar(2025, 12, 30, false, true).is_err());
        assert_eq!(
            solar(2025, 12, 29, false, true).unwrap(),
            "{\"date\":\"2026-02-16\"}\n"
        );
    }

    #[test]
    fn can_chi_names() {
        // Well-known years: 2020 Canh Tý, 2024 Giáp Thìn, 2025 Ất Tỵ, 2026 Bính Ngọ, 1968 Mậu Thân.
        for (y, name) in [
            (2020, "Canh Tý"),
            (2024, "Giáp Thìn"),
            (2025, "Ất Tỵ"),
            (2026, "Bính Ngọ"),
            (1968, "Mậu Thân"),
        ] {
            assert_eq!(can_chi(y), name);
        }
    }

    #[test]
    fn lunar_and_solar_json_are_exact() {
        assert_eq!(
            lunar(date(2026, 2, 17), true).unwrap(),
            "{\"year\":2026,\"month\":1,\"day\":1,\"leap\":false}\n"
        );
        assert_eq!(
            solar(2026, 3, 10, false, true).unwrap(),
            "{\"date\":\"2026-04-26\"}\n"
        );
        assert_eq!(
            lunar(date(2020, 5, 23), true).unwrap(),
            "{\"year\":2020,\"month\":4,\"day\":1,\"leap\":true}\n"
        );
        assert!(solar(2026, 4, 1, true, true).is_err());
    }

    #[test]
    fn readable_output_is_vietnamese() {
        assert_eq!(
            lunar(date(2026, 2, 17), false).unwrap(),
            "Thứ Ba 17/02/2026 (dương lịch) là mùng 1 tháng Giêng năm Bính Ngọ (2026) (âm lịch)\n"
        );
        assert_eq!(
            solar(2020, 4, 15, true, false).unwrap(),
            "Ngày 15 tháng 4 nhuận năm Canh Tý (2020) (âm lịch) là Thứ Bảy 06/06/2020 (dương lịch)\n"
        );
    }
}
