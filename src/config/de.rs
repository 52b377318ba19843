//! Deserialising one section or element of a parsed file into its `raw`
//! struct. On an error the offending key is reported (in Vietnamese, with
//! the valid keys for an unknown one), removed, and the rest read again, so
//! that one run reports every bad key and the element is still checked.
//! Secrets are never quoted. No IO.

use std::ops::Range;

use serde::de::DeserializeOwned;
use serde_spanned::Spanned;
use toml::de::{DeValue, ValueDeserializer};

use super::report::{Loc, Problem, Reporter, join, nearest};
use super::toml_errors;

enum Seg {
    Key(String),
    Index(usize),
}

fn render_path(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if s.is_empty() => s.push_str(k),
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn covers(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start
        && inner.end <= outer.end
        && (inner.start < outer.end || outer == inner)
}

/// Removes the innermost key whose key or value covers `err` from `v`.
/// Returns the removed key's span, its value's span and type.
fn remove_at(
    v: &mut DeValue<'_>,
    err: &Range<usize>,
    path: &mut Vec<Seg>,
) -> Option<(Range<usize>, Range<usize>, &'static str)> {
    match v {
        DeValue::Table(t) => {
            // Deeper first: the spans of tables written as [headers] do not
            // cover their contents, so every nested container is searched.
            let names: Vec<String> = t.keys().map(|k| k.get_ref().to_string()).collect();
            for name in names {
                let Some(child) = t.get_mut(name.as_str()) else {
                    continue;
                };
                let container = matches!(child.get_ref(), DeValue::Table(_) | DeValue::Array(_));
                if container && child.span() != *err {
                    path.push(Seg::Key(name));
                    if let Some(hit) = remove_at(child.get_mut(), err, path) {
                        return Some(hit);
                    }
                    path.pop();
                }
            }
            let name = t
                .iter()
                .find(|(k, val)| covers(&k.span(), err) || covers(&val.span(), err))
                .map(|(k, _)| k.get_ref().to_string())?;
            let (k, val) = t.remove_entry(name.as_str())?;
            path.push(Seg::Key(name));
            Some((k.span(), val.span(), val.get_ref().type_str()))
        }
        DeValue::Array(a) => {
            for (i, el) in a.iter_mut().enumerate() {
                if matches!(el.get_ref(), DeValue::Table(_)) {
                    path.push(Seg::Index(i));
                    if let Some(hit) = remove_at(el.get_mut(), err, path) {
                        return Some(hit);
                    }
                    path.pop();
                }
            }
            None
        }
        _ => None,
    }
}

/// Deserialises one section or element; on an error, reports it, removes the
/// offending key and tries again, so that every bad key is reported once.
pub(super) fn de_item<T: DeserializeOwned>(
    mut value: Spanned<DeValue<'_>>,
    file: usize,
    label: &str,
    rep: &mut Reporter,
) -> Option<T> {
    let whole = value.span();
    for _ in 0..64 {
        let err = match T::deserialize(ValueDeserializer::from(value.clone())) {
            Ok(t) => return Some(t),
            Err(e) => e,
        };
        let span = err.span().unwrap_or(whole.clone());
        let mut path = Vec::new();
        let removed = remove_at(value.get_mut(), &span, &mut path);
        let key = join(label, &render_path(&path));
        let msg = err.message().trim().to_string();
        let Some((kspan, vspan, found)) = removed else {
            let hint = type_hint(&msg);
            rep.report(
                Problem::error(
                    &Loc { file, span },
                    label,
                    format!("không đọc được: {}", toml_errors::deserialize(&msg)),
                )
                .maybe_hint(hint),
            );
            return None;
        };
        let secret = key.contains("password");
        let snippet = rep.files[file].snippet(&vspan);
        let shown = if secret {
            "\"***\"".to_string()
        } else {
            snippet
        };
        if let Some(field) = msg
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
        {
            let expected: Vec<&str> = msg.split('`').skip(3).step_by(2).collect();
            let hint = match (
                nearest(field, expected.iter().copied()),
                expected.is_empty(),
            ) {
                (Some(n), _) => format!(
                    "có phải ý là `{n}`? các khóa hợp lệ: {}",
                    expected.join(", ")
                ),
                (None, false) => format!("các khóa hợp lệ: {}", expected.join(", ")),
                (None, true) => "bảng này không có khóa nào".into(),
            };
            rep.report(
                Problem::error(&Loc { file, span: kspan }, &key, "khóa không được hỗ trợ")
                    .value(shown)
                    .hint(hint),
            );
        } else {
            let msg = if secret {
                "sai kiểu giá trị".to_string()
            } else {
                format!(
                    "sai kiểu giá trị: {}",
                    toml_errors::deserialize_found(&msg, found)
                )
            };
            rep.report(
                Problem::error(&Loc { file, span: vspan }, &key, msg)
                    .value(shown)
                    .maybe_hint(type_hint(err.message())),
            );
        }
    }
    None
}

fn type_hint(msg: &str) -> Option<String> {
    if msg.contains("expected a string") || msg.contains("expected string") {
        Some("viết giá trị trong dấu ngoặc kép, ví dụ \"28/08/2020\"".into())
    } else if msg.contains("expected a sequence") || msg.contains("a list of strings") {
        Some("viết một danh sách, ví dụ [\"a\", \"b\"]".into())
    } else if msg.contains("expected a boolean") || msg.contains("expected bool") {
        Some("viết true hoặc false (không có dấu ngoặc kép)".into())
    } else if msg.contains("expected i64") || msg.contains("integer") {
        Some("viết một số nguyên (không có dấu ngoặc kép)".into())
    } else {
        None
    }
}
