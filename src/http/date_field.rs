//! The date fields of the web pages (the dashboard's receipt and extension
//! forms, the confirmation page): what they read, how they show a date, and
//! the two steps of a form that carries one.
//!
//! A browser's own date input shows and reads the date in the browser's
//! language (under en-US, 12/06/2026 is 6 December), so a clerk could record
//! the wrong day. These fields are plain text in the `date_field.html`
//! macro: the format in the label and the placeholder, a pattern the browser
//! checks, no JavaScript. The server reads them with the project's date
//! parser (`config::values::parse_date`: `dd/mm/yyyy` or `yyyy-mm-dd`, a
//! four-digit year required), so a day and month without a year, a month 13
//! or 31/02 are refused with a Vietnamese sentence, and pages show dates as
//! `dd/mm/yyyy`.
//!
//! Nothing with a typed date is recorded on the first post: the page echoes
//! the date in words ("Chủ nhật, ngày 6 tháng 12 năm 2026") with what was
//! typed in hidden fields, and only the post of its "Xác nhận" button
//! ([`Step::Record`]) writes; "Sửa lại" ([`Step::Edit`]) shows the form
//! again with the values kept.
//!
//! Must not: decide a rule about the day (that is `crate::input`), read the
//! clock, or build HTML.

use jiff::civil::{Date, Weekday};
use serde::Deserialize;

use crate::config::values::{format_date, parse_date};

/// Which step of a form with a date a post is, from its button's `step`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// The form's own button (no `step`): check, then echo the date in
    /// words; nothing is written.
    #[default]
    Check,
    /// "Xác nhận" under the echo: check again, then record.
    Record,
    /// "Sửa lại" under the echo: the form again with what was typed.
    Edit,
}

/// Reads a typed date; on failure the sentence shown under the form,
/// naming the field by its `label` and quoting what was typed.
pub fn read(label: &str, text: &str) -> Result<Date, String> {
    let parts: Vec<&str> = text.trim().split(['/', '.']).collect();
    let no_year = parts.len() == 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let parsed = if no_year {
        Err("thiếu năm".to_string())
    } else {
        parse_date(text)
    };
    parsed.map_err(|reason| {
        let typed = text.trim();
        if typed.is_empty() {
            format!("{label}: {reason} (ghi ngày/tháng/năm dạng dd/mm/yyyy, ví dụ 06/12/2026).")
        } else {
            format!(
                "{label} \"{typed}\": {reason}. Ghi ngày/tháng/năm dạng dd/mm/yyyy, đủ 4 chữ số của năm, ví dụ 06/12/2026 là ngày 6 tháng 12 năm 2026."
            )
        }
    })
}

/// `dd/mm/yyyy`, as the fields show a date.
pub fn shown(d: Date) -> String {
    format_date(d)
}

/// The weekday as written inside a sentence ("thứ Hai" … "Chủ nhật").
pub fn weekday(d: Date) -> &'static str {
    match d.weekday() {
        Weekday::Monday => "thứ Hai",
        Weekday::Tuesday => "thứ Ba",
        Weekday::Wednesday => "thứ Tư",
        Weekday::Thursday => "thứ Năm",
        Weekday::Friday => "thứ Sáu",
        Weekday::Saturday => "thứ Bảy",
        Weekday::Sunday => "Chủ nhật",
    }
}

/// The date in words, as the echo shows it: "thứ Năm, ngày 18 tháng 6 năm
/// 2026" (day and month without a leading zero, so that neither can be
/// taken for the other).
pub fn in_words(d: Date) -> String {
    format!(
        "{}, ngày {} tháng {} năm {}",
        weekday(d),
        d.day(),
        d.month(),
        d.year()
    )
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn dates_in_words_name_the_weekday_day_month_and_year() {
        for (d, words) in [
            (date(2026, 6, 18), "thứ Năm, ngày 18 tháng 6 năm 2026"),
            (date(2026, 12, 6), "Chủ nhật, ngày 6 tháng 12 năm 2026"),
            (date(2026, 6, 12), "thứ Sáu, ngày 12 tháng 6 năm 2026"),
            (date(2026, 3, 16), "thứ Hai, ngày 16 tháng 3 năm 2026"),
            (date(2026, 3, 17), "thứ Ba, ngày 17 tháng 3 năm 2026"),
            (date(2026, 3, 18), "thứ Tư, ngày 18 tháng 3 năm 2026"),
            (date(2026, 3, 21), "thứ Bảy, ngày 21 tháng 3 năm 2026"),
        ] {
            assert_eq!(in_words(d), words);
        }
    }

    #[test]
    fn fields_read_day_first_or_iso_and_refuse_ambiguous_text() {
        for (text, want) in [
            ("06/12/2026", date(2026, 12, 6)),
            ("6/12/2026", date(2026, 12, 6)),
            (" 06.12.2026 ", date(2026, 12, 6)),
            ("2026-12-06", date(2026, 12, 6)),
        ] {
            assert_eq!(read("Ngày nhận", text), Ok(want), "{text}");
        }
        for (text, says) in [
            ("12/06", "thiếu năm"),
            ("6.12", "thiếu năm"),
            ("06/12/26", "năm phải có 4 chữ số"),
            ("2026-13-01", "tháng 13 không tồn tại"),
            ("31/02/2026", "ngày 31/02/2026 không tồn tại"),
            ("12-06-2026", "không đọc được ngày"),
            ("Dec 6, 2026", "không đọc được ngày"),
            ("", "chưa ghi ngày"),
        ] {
            let e = read("Ngày nhận", text).unwrap_err();
            assert!(e.starts_with("Ngày nhận"), "{e}");
            assert!(e.contains(says), "{text}: {e}");
            assert!(e.contains("dd/mm/yyyy"), "{e}");
        }
        assert_eq!(shown(date(2026, 12, 6)), "06/12/2026");
    }
}
