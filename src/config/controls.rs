//! One rule for every string of every configuration file: no control
//! characters. A CR or LF in a unit's name, a title or the From name would
//! reach mail headers (decoded headers then carry line breaks that strict
//! mail readers refuse) and an ESC or NUL the administrators' terminals.
//! Refused are the C0 controls except TAB (CR, LF, NUL, ESC, ...), DEL and
//! the C1 controls; TAB is harmless (folding white space in a header).
//!
//! Checked by `load` on the parsed TOML, before anything is deserialised,
//! for values and keys alike; the message shows the value escaped. No IO.

use std::ops::Range;

use serde_spanned::Spanned;
use toml::de::DeValue;

use super::diagnostic::is_refused_control;
use super::report::{Loc, Problem, Reporter, join, quote};

/// Reports every string under `value` (table keys included) that holds a
/// refused control character; `key` is the path of `value`.
pub fn refuse_in(value: &Spanned<DeValue<'_>>, file: usize, key: &str, rep: &mut Reporter) {
    match value.get_ref() {
        DeValue::String(s) => {
            refuse_in_text(s, value.span(), file, key, rep);
        }
        DeValue::Array(items) => {
            for (i, el) in items.iter().enumerate() {
                refuse_in(el, file, &join(key, &format!("[{i}]")), rep);
            }
        }
        DeValue::Table(table) => {
            for (k, v) in table.iter() {
                let sub = join(key, k.get_ref());
                refuse_in_text(k.get_ref(), k.span(), file, &sub, rep);
                refuse_in(v, file, &sub, rep);
            }
        }
        _ => {}
    }
}

/// Reports `text` (written at `span`, under `key`) when it holds a refused
/// control character; true when it does.
pub fn refuse_in_text(
    text: &str,
    span: Range<usize>,
    file: usize,
    key: &str,
    rep: &mut Reporter,
) -> bool {
    let mut found: Vec<char> = Vec::new();
    for c in text.chars().filter(|&c| is_refused_control(c)) {
        if !found.contains(&c) {
            found.push(c);
        }
    }
    if found.is_empty() {
        return false;
    }
    let names: Vec<String> = found.iter().take(3).map(|&c| name(c)).collect();
    let more = if found.len() > 3 { ", …" } else { "" };
    // The value of a password key is never shown, not even escaped.
    let shown = if key.contains("password") {
        "\"***\"".to_string()
    } else {
        quote(text)
    };
    rep.report(
        Problem::error(
            &Loc { file, span },
            key,
            format!("chứa ký tự điều khiển {}{more}", names.join(", ")),
        )
        .value(shown)
        .hint(
            "xóa các ký tự đó: tên, tiêu đề, lý do, địa chỉ và mọi văn bản khác trong cấu hình \
             chỉ gồm chữ, số, dấu câu, dấu cách hoặc tab và viết trên một dòng; không dùng chuỗi \
             nhiều dòng \"\"\"…\"\"\" hay các mã \\r, \\n, \\e, \\u0000–\\u001F, \\u007F–\\u009F",
        ),
    );
    true
}

/// `U+000D (CR, về đầu dòng)`.
fn name(c: char) -> String {
    let what = match c {
        '\0' => "NUL, ký tự rỗng",
        '\u{8}' => "BS, xóa lùi",
        '\n' => "LF, xuống dòng",
        '\u{b}' => "VT, tab dọc",
        '\u{c}' => "FF, sang trang",
        '\r' => "CR, về đầu dòng",
        '\u{1b}' => "ESC, mã điều khiển màn hình",
        '\u{7f}' => "DEL, xóa",
        '\u{85}' => "NEL, xuống dòng",
        c if u32::from(c) < 0x20 => "ký tự điều khiển C0",
        _ => "ký tự điều khiển C1",
    };
    format!("U+{:04X} ({what})", u32::from(c))
}
