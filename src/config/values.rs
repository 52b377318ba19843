//! Small pure parsers for the value forms an administrator writes in the
//! configuration: dates, day-months, day offsets, times, due rules, period
//! keys, ids and email addresses.
//!
//! Every function here is total: it returns `Err` with a short Vietnamese
//! reason on any input and never panics (they are fuzzed). No IO, no clock,
//! no knowledge of the rest of the configuration: cross-checks live in
//! `validate`.
//!
//! Vietnamese words are matched without diacritics, so "5 ngày làm việc",
//! "5 ngay lam viec" and a decomposed (NFD) "ngày" typed on a Mac all parse.

use jiff::civil::{Date, Time, Weekday};

use super::model::{DayUnit, FIRST_YEAR, LAST_YEAR, Offset};
pub use crate::period::PeriodKey;

/// Largest offset amount accepted ("1000 ngày" is already absurd).
const MAX_OFFSET: u32 = 1000;

/// What the accepted forms look like, for "what would be valid" hints.
pub const DATE_FORMS: &str = "ngày dạng \"dd/mm/yyyy\" (ví dụ \"28/08/2020\") hoặc \"yyyy-mm-dd\"";
pub const OFFSET_FORMS: &str = "số ngày dạng \"3 ngày\", \"5 ngày làm việc\", \"3d\", \"5wd\", \"3 days\" hoặc \"5 working days\"";
pub const NOTICE_OFFSET_FORMS: &str = "số ngày dạng \"3 ngày\", \"5 ngày làm việc\", \"3d\", \"5wd\", \"3 days\", \"5 working days\", hoặc số giờ dạng \"2 giờ\", \"2h\", \"2 hours\"";
/// The most hours an offset in hours may count (a week).
const MAX_OFFSET_HOURS: u32 = 168;
pub const TIME_RANGE_FORMS: &str = "khoảng giờ dạng \"07:30-11:00\"";
pub const DUE_FORMS: &str = "\"5 ngày làm việc\" hoặc \"10 ngày\" (sau ngày cuối kỳ), \"ngày làm việc tiếp theo\" (= \"1 ngày làm việc\"), \"ngày 20\" (ngày 20 của tháng cuối kỳ), \"ngày 5 tháng sau\", \"ngày 15 tháng đầu quý sau\", \"25/11\" (ngày 25/11 gần ngày cuối kỳ nhất, trước hoặc sau), \"thứ Năm\" hoặc \"thứ Hai tuần sau\" (chu kỳ tuần), \"3 ngày làm việc sau hạn của <id nghĩa vụ trong depends_on>\" (báo cáo tổng hợp); thêm giờ nếu cần: \"chậm nhất 14 giờ ngày 20\", \"trước 16 giờ 00 thứ Năm\"";
pub const PERIOD_KEY_FORMS: &str = "\"2026\", \"2026-H1\", \"2026-H2\", \"2026-9M\", \"2026-Q1\"…\"2026-Q4\", \"2026-01\"…\"2026-12\", \"2026-05-H1\"/\"2026-05-H2\" (15 ngày), \"2026-05-D1\"…\"2026-05-D3\" (10 ngày), \"2026-W23\" (tuần ISO), \"2026-05-15\" (ngày) hoặc id của nghĩa vụ một lần";
pub const ID_FORMS: &str =
    "chữ thường không dấu, chữ số, '-' và '_', bắt đầu bằng chữ hoặc số (ví dụ \"so-ldtbxh\")";

/// Removes Vietnamese diacritics (precomposed or combining), lowercases and
/// collapses runs of whitespace into one space.
pub fn fold(text: &str) -> String {
    const GROUPS: [(&str, char); 7] = [
        ("àáảãạăằắẳẵặâầấẩẫậ", 'a'),
        ("èéẻẽẹêềếểễệ", 'e'),
        ("ìíỉĩị", 'i'),
        ("òóỏõọôồốổỗộơờớởỡợ", 'o'),
        ("ùúủũụưừứửữự", 'u'),
        ("ỳýỷỹỵ", 'y'),
        ("đ", 'd'),
    ];
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars().flat_map(char::to_lowercase) {
        if ('\u{0300}'..='\u{036f}').contains(&ch) {
            continue;
        }
        if ch.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        let base = GROUPS
            .iter()
            .find(|(set, _)| set.contains(ch))
            .map_or(ch, |&(_, b)| b);
        out.push(base);
    }
    out
}

/// A piece of the input echoed in a message, cut at 60 characters (the
/// whole value is in the diagnostic already, itself cut when huge).
fn cut(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

fn parse_u32(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn make_date(year: u32, month: u32, day: u32) -> Result<Date, String> {
    if !(FIRST_YEAR as u32..=LAST_YEAR as u32).contains(&year) {
        return Err(format!(
            "năm {year} nằm ngoài khoảng {FIRST_YEAR}–{LAST_YEAR}"
        ));
    }
    if !(1..=12).contains(&month) {
        return Err(format!("tháng {month} không tồn tại"));
    }
    // year, month and day are all small here, so the casts cannot truncate.
    Date::new(year as i16, month as i8, day.min(99) as i8)
        .map_err(|_| format!("ngày {day:02}/{month:02}/{year} không tồn tại"))
}

/// Parses "28/08/2020", "28/8/2020", "28.8.2020" or ISO "2020-08-28".
pub fn parse_date(text: &str) -> Result<Date, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("chưa ghi ngày".into());
    }
    let iso: Vec<&str> = t.split('-').collect();
    if iso.len() == 3 && iso[0].len() == 4 {
        return match (parse_u32(iso[0]), parse_u32(iso[1]), parse_u32(iso[2])) {
            (Some(y), Some(m), Some(d)) if iso[1].len() == 2 && iso[2].len() == 2 => {
                make_date(y, m, d)
            }
            _ => Err("không đọc được ngày".into()),
        };
    }
    let parts: Vec<&str> = t.split(['/', '.']).collect();
    if parts.len() != 3 {
        return Err("không đọc được ngày".into());
    }
    match (
        parse_u32(parts[0]),
        parse_u32(parts[1]),
        parse_u32(parts[2]),
    ) {
        (Some(d), Some(m), Some(y))
            if parts[0].len() <= 2 && parts[1].len() <= 2 && parts[2].len() == 4 =>
        {
            make_date(y, m, d)
        }
        _ => Err("không đọc được ngày (năm phải có 4 chữ số)".into()),
    }
}

/// A date as `dd/mm/yyyy`, the form [`parse_date`] reads first and the one
/// shown to Vietnamese readers.
pub fn format_date(d: Date) -> String {
    format!("{:02}/{:02}/{:04}", d.day(), d.month(), d.year())
}

/// Parses a day of a month without a year: "20/06", "20/6", "20.6".
/// 29/02 is accepted (it exists in leap years). Returns (day, month).
pub fn parse_day_month(text: &str) -> Result<(u8, u8), String> {
    let parts: Vec<&str> = text.trim().split(['/', '.']).collect();
    if parts.len() != 2 || parts[0].len() > 2 || parts[1].len() > 2 {
        return Err("không đọc được ngày-tháng".into());
    }
    let (Some(d), Some(m)) = (parse_u32(parts[0]), parse_u32(parts[1])) else {
        return Err("không đọc được ngày-tháng".into());
    };
    if !(1..=12).contains(&m) {
        return Err(format!("tháng {m} không tồn tại"));
    }
    const DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if d == 0 || d > DAYS[(m - 1) as usize] {
        return Err(format!("ngày {d:02}/{m:02} không tồn tại"));
    }
    Ok((d as u8, m as u8))
}

/// Parses a count of days: "3 ngày", "5 ngày làm việc", "3d", "5wd",
/// "3 days", "1 day", "5 working days". Signs are rejected ("+3d", "-3d"):
/// the direction comes from the key (before the deadline, after the period).
pub fn parse_offset(text: &str) -> Result<Offset, String> {
    let f = fold(text);
    if f.starts_with('+') || f.starts_with('-') {
        return Err("không ghi dấu + hoặc -: chiều (trước/sau) do khóa quy định".into());
    }
    let digits_end = f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len());
    let (num, rest) = f.split_at(digits_end);
    let Some(amount) = parse_u32(num) else {
        return Err("thiếu số ngày".into());
    };
    if amount > MAX_OFFSET {
        return Err(format!("{amount} ngày là quá lớn (tối đa {MAX_OFFSET})"));
    }
    let unit = match rest.trim() {
        "d" | "day" | "days" | "ngay" => DayUnit::Days,
        "wd" | "working day" | "working days" | "ngay lam viec" => DayUnit::WorkingDays,
        u if is_hour_unit(u) => {
            return Err(
                "ở đây chỉ tính theo ngày: số giờ (\"2 giờ\") chỉ dùng cho reminders và escalation.after"
                    .into(),
            );
        }
        "" => return Err("thiếu đơn vị: \"ngày\" hoặc \"ngày làm việc\"".into()),
        other => return Err(format!("không hiểu đơn vị \"{}\"", cut(other))),
    };
    Ok(Offset { amount, unit })
}

/// Whether `text` is an offset in hours ("2 giờ", "2h", "2 hours").
pub fn is_offset_in_hours(text: &str) -> bool {
    let f = fold(text);
    let digits_end = f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len());
    digits_end > 0 && is_hour_unit(f[digits_end..].trim())
}

/// "giờ", "h", "hours" (folded): the unit of an offset in hours.
fn is_hour_unit(unit: &str) -> bool {
    matches!(unit, "gio" | "h" | "hour" | "hours" | "tieng")
}

/// Parses the offset of a reminder or an escalation: days as
/// [`parse_offset`], or hours from the deadline instant: "2 giờ", "2h",
/// "2 tiếng", "2 hours" (1–168).
pub fn parse_notice_offset(text: &str) -> Result<Offset, String> {
    let f = fold(text);
    let digits_end = f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len());
    let (num, rest) = f.split_at(digits_end);
    if is_hour_unit(rest.trim()) {
        let Some(amount) = parse_u32(num) else {
            return Err("thiếu số giờ".into());
        };
        if amount == 0 || amount > MAX_OFFSET_HOURS {
            return Err(format!(
                "{amount} giờ nằm ngoài khoảng cho phép (1–{MAX_OFFSET_HOURS} giờ; 0 giờ là đúng lúc hạn)"
            ));
        }
        return Ok(Offset {
            amount,
            unit: DayUnit::Hours,
        });
    }
    parse_offset(text)
}

/// Parses a local time of day: "07:30", "7:30", "7h30", "7h".
pub fn parse_time(text: &str) -> Result<Time, String> {
    let t = fold(text);
    let (h, m) = match t.split_once([':', 'h']) {
        Some((h, m)) => (
            h,
            if m.is_empty() && t.contains('h') {
                "0"
            } else {
                m
            },
        ),
        None => return Err("không đọc được giờ".into()),
    };
    let (Some(h), Some(m)) = (parse_u32(h), parse_u32(m)) else {
        return Err("không đọc được giờ".into());
    };
    if h > 23 || m > 59 || h.to_string().len() > 2 {
        return Err(format!("{h}:{m:02} không phải giờ hợp lệ"));
    }
    Time::new(h as i8, m as i8, 0, 0).map_err(|_| "không phải giờ hợp lệ".into())
}

/// Parses a range of local times: "07:30-11:00", "07:30–11:00",
/// "7h30 đến 11h". The end must be after the start.
pub fn parse_time_range(text: &str) -> Result<(Time, Time), String> {
    let f = fold(text);
    let parts: Vec<&str> = if f.contains(" den ") {
        f.split(" den ").collect()
    } else if f.contains(" to ") {
        f.split(" to ").collect()
    } else {
        f.split(['-', '–']).collect()
    };
    if parts.len() != 2 {
        return Err("cần giờ bắt đầu và giờ kết thúc".into());
    }
    let start = parse_time(parts[0])?;
    let end = parse_time(parts[1])?;
    if end <= start {
        return Err(format!(
            "giờ kết thúc {} không sau giờ bắt đầu {}",
            end.strftime("%H:%M"),
            start.strftime("%H:%M")
        ));
    }
    Ok((start, end))
}

/// A due rule as written, before it is matched against the cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueSpec {
    /// "5 ngày làm việc": after the last day of the period.
    After(Offset),
    /// "ngày 20" (`next_month = false`) or "ngày 5 tháng sau".
    DayOfMonth { day: u8, next_month: bool },
    /// "ngày 15 tháng đầu quý sau": day D of the first month of the next quarter.
    DayOfNextQuarter { day: u8 },
    /// "20/06" or "ngày 25/11": a day and month, placed near the period's end.
    DayMonth { day: u8, month: u8 },
    /// "thứ Năm", "thứ 2 tuần sau": a weekday of the period's week or the next.
    Weekday { weekday: Weekday, next_week: bool },
    /// "15/10/2026": a fixed date (one-off obligations only).
    Date(Date),
}

/// The word in front of a due rule, which decides what its day means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueWording {
    /// No such word ("ngày 20"): until the end of that day.
    Plain,
    /// "chậm nhất", "no later than", "by": until the end of that day (or
    /// the time given): the same as [`DueWording::Plain`].
    NoLaterThan,
    /// "trước", "before": with a time, the deadline is that instant
    /// ("trước 16 giờ thứ Năm"); without one, the day itself is excluded
    /// and the report is due on the day before ("trước ngày 20": chậm nhất
    /// ngày 19). Offices do not all read it so: `check` warns.
    Before,
}

/// A parsed `due`: the rule for the day, the optional time of day, and the
/// qualifying word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub spec: DueSpec,
    /// The deadline's time on the due day; `None`: 24:00 ("24 giờ" too).
    pub time: Option<Time>,
    pub wording: DueWording,
    /// "3 ngày làm việc sau hạn của nq121-6thang": the obligation id whose
    /// due day the offset (`spec` is then [`DueSpec::After`]) counts from.
    pub after_due_of: Option<String>,
}

/// Weekday names after `fold`: Vietnamese ("thứ Hai", "thứ 2", "T2", "Chủ
/// nhật", "CN") and English.
const WEEKDAYS: [(&[&str], Weekday); 7] = [
    (&["thu hai", "thu 2", "t2", "monday"], Weekday::Monday),
    (&["thu ba", "thu 3", "t3", "tuesday"], Weekday::Tuesday),
    (&["thu tu", "thu 4", "t4", "wednesday"], Weekday::Wednesday),
    (&["thu nam", "thu 5", "t5", "thursday"], Weekday::Thursday),
    (&["thu sau", "thu 6", "t6", "friday"], Weekday::Friday),
    (&["thu bay", "thu 7", "t7", "saturday"], Weekday::Saturday),
    (&["chu nhat", "cn", "sunday"], Weekday::Sunday),
];

/// Words in front of (or around) the day and time that only qualify them.
fn take_wording(tokens: &mut Vec<&str>) -> Result<DueWording, String> {
    let mut wording = DueWording::Plain;
    let mut set = |w: DueWording| -> Result<(), String> {
        if wording != DueWording::Plain && wording != w {
            return Err("vừa \"chậm nhất\" vừa \"trước\": chỉ ghi một trong hai".into());
        }
        wording = w;
        Ok(())
    };
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let pair = (tokens[i], tokens.get(i + 1).copied());
        let triple = (pair.0, pair.1, tokens.get(i + 2).copied());
        match triple {
            ("cham", Some("nhat"), _) => {
                set(DueWording::NoLaterThan)?;
                i += 2;
            }
            ("no", Some("later"), Some("than")) => {
                set(DueWording::NoLaterThan)?;
                i += 3;
            }
            ("by", _, _) => {
                set(DueWording::NoLaterThan)?;
                i += 1;
            }
            ("truoc", _, _) | ("before", _, _) => {
                set(DueWording::Before)?;
                i += 1;
            }
            // Connecting words: "lúc 14 giờ", "vào thứ Năm", "là ngày 20",
            // "at 14:00", "thứ Năm hằng tuần".
            ("luc", _, _) | ("vao", _, _) | ("la", _, _) | ("at", _, _) | ("on", _, _) => i += 1,
            ("hang", Some("tuan"), _) => i += 2,
            (t, _, _) => {
                out.push(t);
                i += 1;
            }
        }
    }
    *tokens = out;
    Ok(wording)
}

/// An hour and minute, `None` for 24:00 (the end of the day).
fn clock(h: u32, m: u32) -> Result<Option<Time>, String> {
    if h == 24 && m == 0 {
        return Ok(None);
    }
    if h > 23 || m > 59 {
        return Err(format!("{h} giờ {m:02} không phải giờ hợp lệ"));
    }
    Time::new(h as i8, m as i8, 0, 0)
        .map(Some)
        .map_err(|_| "không phải giờ hợp lệ".into())
}

/// Takes the time of day out of `tokens`: "14 giờ", "16 giờ 00", "16 giờ 30
/// phút", "14h", "14h30", "14g30", "14:00", optionally followed by "sáng",
/// "chiều" or "tối" ("2 giờ chiều" = 14:00). `Ok(None)` when there is none
/// or it is 24:00.
fn take_time(tokens: &mut Vec<&str>) -> Result<(bool, Option<Time>), String> {
    let mut found: Option<(usize, usize, u32, u32)> = None;
    for (i, t) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1).copied();
        let hm = if let Some((h, m)) = t.split_once(':') {
            parse_u32(h).zip(parse_u32(m)).map(|hm| (hm, 1))
        } else if let Some((h, m)) = t.split_once(['h', 'g']).filter(|(h, _)| !h.is_empty()) {
            let m = if m.is_empty() { Some(0) } else { parse_u32(m) };
            parse_u32(h).zip(m).map(|hm| (hm, 1))
        } else if let (Some(h), Some("gio")) = (parse_u32(t), next) {
            // "16 giờ 30", "16 giờ 5 phút": minutes of two digits or named.
            let after = tokens.get(i + 2).copied();
            let named = tokens.get(i + 3).copied() == Some("phut");
            match after.and_then(parse_u32) {
                Some(m) if after.is_some_and(|a| a.len() == 2) || named => {
                    Some(((h, m), if named { 4 } else { 3 }))
                }
                _ => Some(((h, 0), 2)),
            }
        } else {
            None
        };
        let Some(((h, m), len)) = hm else { continue };
        if t.len() > 5 {
            continue;
        }
        if found.is_some() {
            return Err("có hai giờ trong hạn nộp: chỉ ghi một".into());
        }
        found = Some((i, len, h, m));
    }
    let Some((i, mut len, mut h, m)) = found else {
        return Ok((false, None));
    };
    match tokens.get(i + len).copied() {
        Some("chieu") | Some("toi") => {
            if h < 12 {
                h += 12;
            }
            len += 1;
        }
        Some("sang") => len += 1,
        _ => {}
    }
    let time = clock(h, m)?;
    tokens.drain(i..i + len);
    Ok((true, time))
}

/// "thứ Năm", "thứ 5 tuần sau", "Friday of next week".
fn parse_weekday(rest: &str) -> Option<Result<DueSpec, String>> {
    let rest = rest.strip_prefix("ngay ").unwrap_or(rest);
    for (names, weekday) in WEEKDAYS {
        for name in names {
            let Some(tail) = rest.strip_prefix(name) else {
                continue;
            };
            if !(tail.is_empty() || tail.starts_with(' ')) {
                continue;
            }
            let next_week = match tail.trim() {
                "" | "tuan nay" | "cua tuan" | "this week" => false,
                "tuan sau" | "cua tuan sau" | "tuan ke tiep" | "next week" | "of next week"
                | "of the next week" => true,
                other => {
                    return Some(Err(format!(
                        "không hiểu \"{}\" sau thứ trong tuần (chỉ có thể là \"tuần sau\")",
                        cut(other)
                    )));
                }
            };
            return Some(Ok(DueSpec::Weekday { weekday, next_week }));
        }
    }
    None
}

/// "ngày 20", "ngày 5 tháng sau", "ngày 15 tháng đầu quý sau", "day 5 of next month".
fn parse_day_of(f: &str) -> Option<Result<DueSpec, String>> {
    for prefix in ["ngay ", "day "] {
        let Some(rest) = f.strip_prefix(prefix) else {
            continue;
        };
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(digits_end);
        let Some(day) = parse_u32(num) else { continue };
        if tail.starts_with(['/', '.']) {
            // "ngày 25/11": a day and month.
            return None;
        }
        if !(1..=31).contains(&day) {
            return Some(Err(format!("ngày {day} không có trong tháng nào")));
        }
        let day = day as u8;
        let spec = match tail.trim() {
            "" | "thang cuoi ky" | "cua thang cuoi ky" | "of the last month" => {
                DueSpec::DayOfMonth {
                    day,
                    next_month: false,
                }
            }
            "thang sau" | "cua thang sau" | "thang ke tiep" | "of next month" | "next month"
            | "of the next month" => DueSpec::DayOfMonth {
                day,
                next_month: true,
            },
            "thang dau quy sau"
            | "cua thang dau quy sau"
            | "thang dau cua quy sau"
            | "thang dau tien cua quy sau"
            | "of the first month of next quarter"
            | "of the first month of the next quarter" => DueSpec::DayOfNextQuarter { day },
            other => {
                return Some(Err(format!(
                    "không hiểu \"{}\" (chỉ có thể là \"tháng sau\" hoặc \"tháng đầu quý sau\")",
                    cut(other)
                )));
            }
        };
        return Some(Ok(spec));
    }
    None
}

/// Parses a due rule; see [`DUE_FORMS`]. Words are matched without
/// diacritics; the time of day and the words "chậm nhất" / "trước" may come
/// before or after the day ("chậm nhất 14 giờ ngày 20", "ngày 20, trước 16h").
pub fn parse_due(text: &str) -> Result<Due, String> {
    let folded = fold(&text.replace([',', ';'], " "));
    let mut tokens: Vec<&str> = folded.split(' ').filter(|t| !t.is_empty()).collect();
    let wording = take_wording(&mut tokens)?;
    let (timed, time) = take_time(&mut tokens)?;
    if tokens.is_empty() && timed {
        return Err("có giờ nhưng thiếu ngày: ghi cả ngày, ví dụ \"14 giờ ngày 20\" hoặc \"16 giờ thứ Năm\"".into());
    }
    let rest = tokens.join(" ");
    if let Some((offset, id)) = split_after_due_of(&rest) {
        if !is_valid_id(id) {
            return Err(format!(
                "\"{}\" không phải id của một nghĩa vụ ({ID_FORMS})",
                cut(id)
            ));
        }
        let offset = parse_offset(offset).map_err(|why| {
            format!("{why} (trước \"sau hạn của\" là số ngày, ví dụ \"3 ngày làm việc\")")
        })?;
        return Ok(Due {
            spec: DueSpec::After(offset),
            time,
            wording,
            after_due_of: Some(id.to_string()),
        });
    }
    let spec = parse_due_day(&rest)?;
    Ok(Due {
        spec,
        time,
        wording,
        after_due_of: None,
    })
}

/// "3 ngày làm việc sau hạn của bc-don-vi" -> ("3 ngay lam viec", "bc-don-vi").
fn split_after_due_of(f: &str) -> Option<(&str, &str)> {
    const MARKERS: [&str; 6] = [
        " sau han nop bao cao cua ",
        " sau han nop cua ",
        " sau han cua ",
        " ke tu han cua ",
        " after the due day of ",
        " after the deadline of ",
    ];
    MARKERS.iter().find_map(|m| {
        let (offset, id) = f.split_once(m)?;
        Some((offset.trim(), id.trim()))
    })
}

/// The day part of a due rule, already folded.
fn parse_due_day(f: &str) -> Result<DueSpec, String> {
    // A daily report's usual wording: the working day after the period.
    if matches!(
        f,
        "ngay lam viec tiep theo"
            | "ngay lam viec ke tiep"
            | "ngay lam viec sau"
            | "the next working day"
            | "next working day"
    ) {
        return parse_offset("1 ngay lam viec").map(DueSpec::After);
    }
    if let Some(r) = parse_day_of(f) {
        return r;
    }
    if let Some(r) = parse_weekday(f) {
        return r;
    }
    if let Some(day) = f
        .strip_prefix("ngay thu ")
        .or_else(|| f.strip_prefix("thu "))
    {
        return Err(format!(
            "không có \"thứ {}\" trong tuần: thứ Hai … thứ Bảy (thứ 2 … thứ 7) hoặc Chủ nhật",
            cut(day)
        ));
    }
    let f = f.strip_prefix("ngay ").unwrap_or(f);
    let slashes = f.chars().filter(|&c| c == '/' || c == '.').count();
    if slashes == 1 {
        let (day, month) = parse_day_month(f)?;
        return Ok(DueSpec::DayMonth { day, month });
    }
    if slashes == 2 || (f.len() == 10 && f.as_bytes().get(4) == Some(&b'-')) {
        return parse_date(f).map(DueSpec::Date);
    }
    // "5 ngày làm việc sau ngày cuối kỳ": the default reading, said aloud.
    let f = [
        " sau ngay cuoi ky",
        " ke tu ngay cuoi ky",
        " sau khi ket thuc ky",
        " after the end of the period",
        " after the period",
    ]
    .iter()
    .find_map(|s| f.strip_suffix(s))
    .unwrap_or(f);
    parse_offset(f).map(DueSpec::After)
}

/// Parses a period key as an administrator writes it; see
/// [`PERIOD_KEY_FORMS`]. Lenient where [`PeriodKey::parse`] is exact:
/// surrounding spaces and lower-case letters ("2026-h1") are accepted, any
/// year of the calendar's range, and an id stands for a one-off's key.
/// [`PeriodKey`]'s `Display` gives the canonical form.
pub fn parse_period_key(text: &str) -> Result<PeriodKey, String> {
    let t = text.trim();
    let starts_with_year = t.len() >= 4 && t.as_bytes()[..4].iter().all(u8::is_ascii_digit);
    if !starts_with_year {
        return if is_valid_id(t) {
            Ok(PeriodKey::Once(t.into()))
        } else {
            Err("không phải mã kỳ báo cáo".into())
        };
    }
    // The year is judged first, whatever follows it. Four ASCII digits
    // always fit an i16.
    let year: i16 = t[..4].parse().unwrap_or(i16::MAX);
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return Err(format!(
            "năm {year} nằm ngoài khoảng {FIRST_YEAR}–{LAST_YEAR}"
        ));
    }
    PeriodKey::parse_in(&t.to_ascii_uppercase(), FIRST_YEAR..=LAST_YEAR).map_err(|_| {
        match t[4..].strip_prefix('-') {
            Some(suffix) => format!(
                "\"{}\" không phải ngày, tuần, kỳ 10 ngày, kỳ 15 ngày, tháng, quý hay nửa năm",
                cut(suffix)
            ),
            None => "không phải mã kỳ báo cáo".into(),
        }
    })
}

/// Ids of units, groups and obligations: ASCII lower-case letters, digits,
/// '-' and '_', starting with a letter or digit, at most 64 characters.
pub fn is_valid_id(text: &str) -> bool {
    let b = text.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
}

/// A deliberately simple syntax check of an address: `local@domain.tld`,
/// no spaces, a domain of letters/digits/hyphens with at least one dot.
pub fn is_valid_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.len() > 253 {
        return false;
    }
    let local_ok = local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && labels_ok
}

/// `daemon.public_url`: an absolute `http://` or `https://` URL with a host,
/// optionally a path, no query, fragment, credentials or spaces. Returns
/// it without trailing `/` (links append `/confirm?...`).
pub fn parse_public_url(text: &str) -> Result<String, String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &t["https://".len()..]
    } else if lower.starts_with("http://") {
        &t["http://".len()..]
    } else {
        return Err("không phải URL tuyệt đối bắt đầu bằng http:// hoặc https://".into());
    };
    if let Some(c) = t.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("URL chứa ký tự không hợp lệ {c:?}"));
    }
    if t.contains(['?', '#']) {
        return Err("URL gốc không được có phần truy vấn (?) hoặc neo (#)".into());
    }
    let host = rest.split('/').next().unwrap_or("");
    if host.contains('@') {
        return Err("URL không được chứa tên người dùng hoặc mật khẩu".into());
    }
    let bad_host = || format!("tên máy \"{}\" không hợp lệ", cut(host));
    let (name, port) = if let Some(after) = host.strip_prefix('[') {
        let (inner, tail) = after.split_once(']').ok_or_else(bad_host)?;
        if inner.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad_host());
        }
        match tail {
            "" => (None, None),
            t => (None, Some(t.strip_prefix(':').ok_or_else(bad_host)?)),
        }
    } else {
        match host.split_once(':') {
            Some((n, p)) => (Some(n), Some(p)),
            None => (Some(host), None),
        }
    };
    if let Some(n) = name {
        let ok = !n.is_empty()
            && n.split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
        if !ok {
            return Err(bad_host());
        }
    }
    if let Some(p) = port
        && !(p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n > 0))
    {
        return Err(format!("cổng \"{}\" không hợp lệ", cut(p)));
    }
    Ok(t.trim_end_matches('/').to_string())
}

/// A mailbox as in From/Reply-To: `addr@x.example` or
/// `Display Name <addr@x.example>`. Returns the address part.
pub fn parse_mailbox(text: &str) -> Result<&str, String> {
    let t = text.trim();
    let addr = match (t.rfind('<'), t.ends_with('>')) {
        (Some(open), true) => &t[open + 1..t.len() - 1],
        (None, false) => t,
        _ => return Err("thiếu dấu '<' hoặc '>'".into()),
    };
    if is_valid_email(addr.trim()) {
        Ok(addr.trim())
    } else {
        Err(format!("\"{}\" không phải địa chỉ email", cut(addr)))
    }
}
