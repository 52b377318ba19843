//! Vietnamese for the messages of the TOML parser (`toml_parser`, through
//! `toml`) and of serde's deserialisation, as `load` shows them.
//!
//! The parser writes "<what is wrong>, expected <a>, <b>"; serde writes
//! "invalid type: <found>, expected <wanted>", "missing field `x`",
//! "unknown field `x`, expected one of `a`, `b`". The common phrases are
//! translated piece by piece; a phrase this table does not know is kept as
//! written (English, but not lost), so a newer parser cannot make a message
//! disappear. Pure string work: no IO.

/// A syntax error: "key with no value, expected `=`" -> "khóa không có
/// giá trị; cần `=`".
pub fn syntax(msg: &str) -> String {
    let msg = msg.trim();
    let (what, expected) = match msg.split_once(", expected ") {
        Some((w, e)) => (w, Some(e)),
        None => (msg, None),
    };
    let Some(what_vi) = problem(what) else {
        return msg.to_string();
    };
    match expected {
        None | Some("nothing") => what_vi.to_string(),
        Some(e) => format!("{what_vi}; cần {}", alternatives(e)),
    }
}

/// A deserialisation error, e.g. "invalid type: string \"x\", expected a
/// sequence" -> "gặp chuỗi \"x\", cần một danh sách".
pub fn deserialize(msg: &str) -> String {
    let msg = msg.trim();
    if let Some(rest) = msg.strip_prefix("invalid type: ")
        && let Some((found, wanted)) = rest.split_once(", expected ")
    {
        return format!("gặp {}, cần {}", found_vi(found), wanted_vi(wanted));
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ")
        && let Some((found, wanted)) = rest.split_once(", expected ")
    {
        return format!(
            "giá trị không hợp lệ: gặp {}, cần {}",
            found_vi(found),
            wanted_vi(wanted)
        );
    }
    if let Some(rest) = msg.strip_prefix("invalid length ")
        && let Some((n, wanted)) = rest.split_once(", expected ")
    {
        return format!("độ dài {n} không hợp lệ, cần {}", wanted_vi(wanted));
    }
    if let Some(field) = msg
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        return format!("thiếu khóa `{field}`");
    }
    if let Some(rest) = msg.strip_prefix("unknown field `")
        && let Some((field, tail)) = rest.split_once('`')
    {
        let valid: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
        return if valid.is_empty() {
            format!("khóa `{field}` không được hỗ trợ; bảng này không có khóa nào")
        } else {
            format!(
                "khóa `{field}` không được hỗ trợ; các khóa hợp lệ: {}",
                valid.join(", ")
            )
        };
    }
    if let Some(key) = msg.strip_prefix("duplicate key: ") {
        return format!("trùng khóa {key}");
    }
    match problem(msg) {
        Some(vi) => vi.to_string(),
        None => msg.to_string(),
    }
}

/// [`deserialize`] for a value whose TOML type is `found`: a date written
/// without quotes reaches serde as a table, and is named for what it is.
pub fn deserialize_found(msg: &str, found: &str) -> String {
    if found == "datetime"
        && let Some(wanted) = msg.trim().strip_prefix("invalid type: map, expected ")
    {
        return format!(
            "gặp một ngày giờ TOML (viết không có dấu ngoặc kép), cần {}",
            wanted_vi(wanted)
        );
    }
    deserialize(msg)
}

/// The name of a TOML value's type (`DeValue::type_str`).
pub fn type_name(type_str: &str) -> &str {
    match type_str {
        "string" => "chuỗi",
        "integer" => "số nguyên",
        "float" => "số thực",
        "boolean" => "giá trị true/false",
        "datetime" => "ngày giờ",
        "array" => "danh sách",
        "table" => "bảng",
        other => other,
    }
}

/// What the parser found wrong.
fn problem(what: &str) -> Option<&'static str> {
    Some(match what {
        "duplicate key" => "khóa này đã có ở trên (trùng khóa trong cùng một bảng)",
        "key with no value" => "khóa không có giá trị",
        "missing value for key" => "khóa thiếu giá trị",
        "missing value" => "thiếu giá trị",
        "unexpected key or value" => "có khóa hoặc giá trị không đúng chỗ",
        "unexpected content" => "có nội dung không đúng chỗ",
        "unexpected content between comment and newline" => {
            "có nội dung không đúng chỗ sau chú thích"
        }
        "string values must be quoted" => "giá trị chuỗi phải đặt trong dấu ngoặc kép",
        "invalid unquoted key" => "khóa không có ngoặc kép chứa ký tự không hợp lệ",
        "unquoted keys cannot be empty" => "khóa không có ngoặc kép không được rỗng",
        "invalid key" => "khóa không hợp lệ",
        "invalid key-value pair" => "cặp khóa = giá trị không hợp lệ",
        "missing assignment between key-value pairs" => "thiếu dấu `=` giữa khóa và giá trị",
        "extra assignment between key-value pairs" => "thừa dấu `=` giữa các cặp khóa = giá trị",
        "missing comma between key-value pairs" => "thiếu dấu phẩy giữa các cặp khóa = giá trị",
        "extra `=`" => "thừa dấu `=`",
        "invalid value" => "giá trị không hợp lệ",
        "invalid string" => "chuỗi không hợp lệ",
        "invalid basic string" => "chuỗi trong ngoặc kép không hợp lệ",
        "invalid multi-line basic string" => "chuỗi nhiều dòng không hợp lệ",
        "invalid literal string" => "chuỗi trong ngoặc đơn không hợp lệ",
        "invalid multi-line literal string" => "chuỗi nhiều dòng trong ngoặc đơn không hợp lệ",
        "missing opening quote" => "thiếu dấu ngoặc mở",
        "missing escaped value" => "sau dấu `\\` thiếu ký tự của mã thoát",
        "too few unicode value digits" => "mã unicode sau `\\u` thiếu chữ số",
        "invalid comment character" => "chú thích chứa ký tự không hợp lệ",
        "missing comment start" => "thiếu dấu `#` mở đầu chú thích",
        "carriage return must be followed by newline" => {
            "ký tự về đầu dòng (CR) phải đi liền với ký tự xuống dòng (LF)"
        }
        "invalid table" => "bảng không hợp lệ",
        "unclosed table" => "tên bảng chưa đóng ngoặc",
        "unclosed array table" => "tên mảng bảng chưa đóng ngoặc",
        "missing table open" => "thiếu dấu mở tên bảng",
        "missing array opening" => "thiếu dấu mở danh sách",
        "unclosed array" => "danh sách chưa đóng ngoặc",
        "missing comma between array elements" => "thiếu dấu phẩy giữa các phần tử của danh sách",
        "unexpected `=` in array" => "dấu `=` không đúng chỗ trong danh sách",
        "extra comma in array" => "thừa dấu phẩy trong danh sách",
        "missing inline table opening" => "thiếu dấu mở bảng trên một dòng",
        "unclosed inline table" => "bảng trên một dòng chưa đóng ngoặc",
        "invalid inline table element" => "phần tử của bảng trên một dòng không hợp lệ",
        "missing key for inline table element" => "phần tử của bảng trên một dòng thiếu khóa",
        "extra comma in inline table" => "thừa dấu phẩy trong bảng trên một dòng",
        "invalid boolean" => "giá trị true/false không hợp lệ",
        "invalid integer number" => "số nguyên không hợp lệ",
        "invalid float" => "số thực không hợp lệ",
        "invalid date-time" => "ngày giờ không hợp lệ",
        "unexpected leading zero" => "số không được bắt đầu bằng chữ số 0",
        "unexpected sign" => "dấu + hoặc - không đúng chỗ",
        "redundant numeric sign" => "thừa dấu + hoặc -",
        "integer number overflowed" => "số nguyên quá lớn",
        "floating-point number overflowed" => "số thực quá lớn",
        "recursion limit" | "cannot recurse further; max recursion depth met" => {
            "các bảng hoặc danh sách lồng nhau quá sâu"
        }
        _ => return None,
    })
}

/// The parser's list of what would have been valid: "letters, numbers,
/// `-`, `_`" -> "chữ cái, chữ số, `-` hoặc `_`".
fn alternatives(list: &str) -> String {
    let items: Vec<&str> = list
        .split(", ")
        .map(|item| match item {
            "newline" => "xuống dòng",
            "letters" => "chữ cái",
            "numbers" | "digits" => "chữ số",
            "key" => "khóa",
            "value" => "giá trị",
            "whitespace" => "khoảng trắng",
            "literal string" => "chuỗi trong ngoặc kép",
            "printable characters" => "ký tự in được",
            "non-double-quote visible characters" => "ký tự nhìn thấy được (trừ dấu ngoặc kép)",
            "non-single-quote visible characters" => "ký tự nhìn thấy được (trừ dấu ngoặc đơn)",
            "non-single-quote characters" => "ký tự (trừ dấu ngoặc đơn)",
            "unicode hexadecimal value" => "mã unicode thập lục phân",
            "hexadecimal" => "chữ số thập lục phân",
            other => other,
        })
        .collect();
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} hoặc {last}", rest.join(", ")),
        _ => items.join(""),
    }
}

/// What serde found: `string "x"`, ``integer `5` as i128``, `sequence`, ...
fn found_vi(found: &str) -> String {
    let literal = |prefix: &str| {
        found
            .strip_prefix(prefix)
            .map(|r| r.split(" as ").next().unwrap_or(r).trim_matches('`'))
    };
    if let Some(s) = found.strip_prefix("string ") {
        format!("chuỗi {s}")
    } else if let Some(n) = literal("integer ") {
        format!("số nguyên {n}")
    } else if let Some(n) = literal("floating point ") {
        format!("số thực {n}")
    } else if let Some(b) = literal("boolean ") {
        b.to_string()
    } else if let Some(c) = literal("character ") {
        format!("ký tự {c}")
    } else {
        match found {
            "sequence" => "một danh sách",
            "map" => "một bảng",
            "unit value" => "giá trị rỗng",
            other => other,
        }
        .to_string()
    }
}

/// What serde wanted: `a string`, `a sequence`, `i64`, `struct RawRepeat`, ...
fn wanted_vi(wanted: &str) -> &str {
    match wanted {
        "a string" | "a borrowed string" | "string" => "một chuỗi",
        "a sequence" => "một danh sách",
        "a boolean" | "bool" => "true hoặc false",
        "a map" => "một bảng",
        "a string or a list of strings" => "một chuỗi hoặc một danh sách chuỗi",
        "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128" | "usize"
        | "isize" => "một số nguyên",
        "f32" | "f64" => "một số",
        w if w.starts_with("struct ") => "một bảng",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case's English message, through `translate`, reads as its
    /// Vietnamese one.
    fn translates(translate: fn(&str) -> String, cases: &[(&str, &str)]) {
        for (en, vi) in cases {
            assert_eq!(translate(en), *vi, "{en}");
        }
    }

    #[test]
    fn syntax_messages() {
        translates(
            syntax,
            &[
                (
                    "key with no value, expected `=`",
                    "khóa không có giá trị; cần `=`",
                ),
                (
                    "duplicate key",
                    "khóa này đã có ở trên (trùng khóa trong cùng một bảng)",
                ),
                (
                    "invalid unquoted key, expected letters, numbers, `-`, `_`",
                    "khóa không có ngoặc kép chứa ký tự không hợp lệ; cần chữ cái, chữ số, `-` hoặc `_`",
                ),
                (
                    "unexpected key or value, expected newline, `#`",
                    "có khóa hoặc giá trị không đúng chỗ; cần xuống dòng hoặc `#`",
                ),
                ("invalid float, expected nothing", "số thực không hợp lệ"),
                (
                    "missing comma between array elements, expected `,`",
                    "thiếu dấu phẩy giữa các phần tử của danh sách; cần `,`",
                ),
                // Unknown phrases stay as written.
                (
                    "a brand new problem, expected `x`",
                    "a brand new problem, expected `x`",
                ),
            ],
        );
    }

    #[test]
    fn deserialize_messages() {
        translates(
            deserialize,
            &[
                (
                    "invalid type: string \"x\", expected a sequence",
                    "gặp chuỗi \"x\", cần một danh sách",
                ),
                (
                    "invalid type: integer `5` as i128, expected a string",
                    "gặp số nguyên 5, cần một chuỗi",
                ),
                (
                    "invalid type: boolean `true`, expected a string or a list of strings",
                    "gặp true, cần một chuỗi hoặc một danh sách chuỗi",
                ),
                (
                    "invalid type: sequence, expected struct RawRepeat",
                    "gặp một danh sách, cần một bảng",
                ),
                (
                    "invalid type: map, expected i64",
                    "gặp một bảng, cần một số nguyên",
                ),
                ("missing field `id`", "thiếu khóa `id`"),
                (
                    "unknown field `nam`, expected one of `id`, `name`",
                    "khóa `nam` không được hỗ trợ; các khóa hợp lệ: id, name",
                ),
                (
                    "unknown field `x`, there are no fields",
                    "khóa `x` không được hỗ trợ; bảng này không có khóa nào",
                ),
            ],
        );
    }
}
