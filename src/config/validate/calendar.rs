//! `[calendar]`: the switches, and the extra days off and working days
//! (each a day or a run of at most 60 days, with a reason; no day declared
//! twice).

use std::collections::HashMap;

use jiff::civil::Date;
use serde_spanned::Spanned;

use super::{at, date};
use crate::config::load::Item;
use crate::config::model::{CalendarSettings, ConfiguredDay};
use crate::config::raw::{RawCalendar, RawDay};
use crate::config::report::{Problem, Reporter};
use crate::config::values::{DATE_FORMS, format_date};

pub(super) fn calendar(item: Option<&Item<RawCalendar>>, rep: &mut Reporter) -> CalendarSettings {
    let mut out = CalendarSettings {
        makeup_saturday_counts: false,
        culture_day: true,
        ..Default::default()
    };
    let Some(item) = item else { return out };
    let file = item.loc.file;
    let raw = &item.value;
    if let Some(b) = &raw.makeup_saturday_counts {
        out.makeup_saturday_counts = *b.get_ref();
    }
    if let Some(b) = &raw.culture_day {
        out.culture_day = *b.get_ref();
    }
    // Each day -> the key that declared it first.
    let mut seen: HashMap<Date, String> = HashMap::new();
    for (list, name, working) in [
        (&raw.days_off, "days_off", false),
        (&raw.working_days, "working_days", true),
    ] {
        for (i, day) in list.iter().enumerate() {
            let key = format!("calendar.{name}[{i}]");
            let Some((first, last, reason)) = day_run(rep, file, &key, day) else {
                continue;
            };
            let mut cur = first;
            loop {
                if let Some(prev) = seen.insert(cur, key.clone()) {
                    rep.report(
                        Problem::error(
                            &at(file, day),
                            &key,
                            format!("ngày {} đã được khai báo ở {prev}", format_date(cur)),
                        )
                        .hint("mỗi ngày chỉ khai báo một lần, là ngày nghỉ hoặc ngày làm việc"),
                    );
                }
                let c = ConfiguredDay {
                    date: cur,
                    reason: reason.clone(),
                };
                if working {
                    out.extra_working_days.push(c);
                } else {
                    out.extra_days_off.push(c);
                }
                match cur.tomorrow() {
                    Ok(n) if n <= last => cur = n,
                    _ => break,
                }
            }
        }
    }
    out.extra_days_off.sort_by_key(|c| c.date);
    out.extra_working_days.sort_by_key(|c| c.date);
    out
}

/// One configured day (`key`): its first and last day and its reason, or
/// `None` after reporting why it cannot be used.
fn day_run(
    rep: &mut Reporter,
    file: usize,
    key: &str,
    day: &Spanned<RawDay>,
) -> Option<(Date, Date, String)> {
    let dloc = at(file, day);
    let d = day.get_ref();
    let reason = match &d.reason {
        Some(r) if !r.get_ref().trim().is_empty() => r.get_ref().trim().to_string(),
        _ => {
            rep.report(
                Problem::error(&dloc, format!("{key}.reason"), "thiếu lý do")
                    .hint("reason = \"Nghỉ Tết Nguyên đán\""),
            );
            String::new()
        }
    };
    let first = match &d.date {
        Some(s) => date(rep, file, &format!("{key}.date"), Some(s))?,
        None => {
            rep.report(Problem::error(&dloc, format!("{key}.date"), "thiếu ngày").hint(DATE_FORMS));
            return None;
        }
    };
    let Some(u) = d.until.as_ref() else {
        return Some((first, first, reason));
    };
    let last = date(rep, file, &format!("{key}.until"), Some(u))?;
    let problem = if last < first {
        Problem::error(
            &at(file, u),
            format!("{key}.until"),
            format!("trước ngày bắt đầu {}", format_date(first)),
        )
        .quoted(u.get_ref())
        .hint("until là ngày cuối (tính cả ngày đó), không trước date")
    } else if (last - first).get_days() > 60 {
        Problem::error(
            &at(file, u),
            format!("{key}.until"),
            "khoảng ngày dài quá 60 ngày",
        )
        .quoted(u.get_ref())
        .hint("kiểm tra lại năm của date và until")
    } else {
        return Some((first, last, reason));
    };
    rep.report(problem);
    None
}
