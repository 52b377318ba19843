//! The schedule of one obligation: its cycle (or the period of a one-off),
//! window style, due rule (a day-and-month fitted to the cycle's last
//! months) and the per-period overrides (period keys of that cycle, due
//! days near their period).

use std::collections::BTreeMap;

use jiff::civil::{Date, Time};
use serde_spanned::Spanned;

use super::obligation::Draft;
use super::{Validator, date, parsed};
use crate::config::model::{Cycle, DayUnit, DueRule, Offset, TierBase, WindowStyle};
use crate::config::report::{Problem, nearest, quote};
use crate::config::values::{
    self, DUE_FORMS, Due, DueSpec, DueWording, PERIOD_KEY_FORMS, format_date,
};
use crate::period::{PeriodKey, periods_of_year};

/// Cycle names: the canonical name, its Vietnamese words (for hints) and
/// every alias accepted, compared after `values::fold` (no diacritics, lower
/// case, "3 kỳ / tháng" written "3 ky/thang").
const CYCLES: [(&str, &str, &[&str]); 12] = [
    ("daily", "hàng ngày, ngày làm việc", &["hang ngay", "ngay"]),
    (
        "daily-all-days",
        "hàng ngày, kể cả ngày nghỉ",
        &["hang ngay ke ca ngay nghi", "moi ngay"],
    ),
    ("weekly", "hàng tuần", &["hang tuan", "tuan"]),
    (
        "ten-day",
        "10 ngày, 3 kỳ/tháng",
        &["10 ngay", "3 ky/thang", "3 ky moi thang", "ba ky/thang"],
    ),
    (
        "fifteen-day",
        "15 ngày, 2 kỳ/tháng",
        &[
            "15 ngay",
            "2 ky/thang",
            "2 ky moi thang",
            "hai ky/thang",
            "nua thang",
        ],
    ),
    ("monthly", "hàng tháng", &["hang thang"]),
    ("quarterly", "hàng quý", &["hang quy"]),
    ("six-monthly", "6 tháng", &["6 thang"]),
    (
        "six-monthly-first-half",
        "6 tháng đầu năm",
        &["6 thang dau nam"],
    ),
    ("nine-monthly", "9 tháng", &["9 thang"]),
    ("annual", "hàng năm", &["hang nam", "hằng năm"]),
    ("once", "một lần", &["mot lan"]),
];

/// The canonical name of a cycle as written (any alias), if it is one.
fn canonical_cycle(written: &str) -> Option<&'static str> {
    let f = values::fold(written).replace(" / ", "/").replace("/ ", "/");
    CYCLES
        .iter()
        .find(|(en, _, aliases)| *en == f || aliases.iter().any(|a| values::fold(a) == f))
        .map(|(en, _, _)| *en)
}

/// Whether a cycle's periods are shorter than a month (no Decree 09
/// window, no due day counted in months).
pub(super) fn is_short(cycle: &Cycle) -> bool {
    matches!(
        cycle,
        Cycle::Daily { .. } | Cycle::Weekly | Cycle::TenDay | Cycle::FifteenDay
    )
}

/// When an obligation's reports are due.
pub(super) struct Schedule {
    pub cycle: Cycle,
    pub window: WindowStyle,
    pub due: DueRule,
    /// "trước ngày X": the rule's day is excluded.
    pub due_exclusive: bool,
    /// The deadline's time of day, if written.
    pub due_time: Option<Time>,
    /// A second tier's first tier ("... sau hạn của <id>"), not yet resolved.
    pub due_after: Option<TierBase>,
    /// Period key -> due day (a one-off's date is its own override).
    pub overrides: BTreeMap<String, Date>,
}

impl Validator<'_> {
    /// The schedule, or `None` when the cycle or due rule cannot be read
    /// (the rest of the obligation is then not checked).
    pub(super) fn schedule(&mut self, d: &mut Draft) -> Option<Schedule> {
        let cycle_name = self.cycle_name(d)?;
        let window = self.window(d);
        if cycle_name != "once" {
            self.once_only_keys(d);
        }
        let Some(due_s) = &d.raw.due else {
            self.rep.report(
                Problem::error(d.loc, d.key("due"), "thiếu quy tắc hạn nộp").hint(DUE_FORMS),
            );
            return None;
        };
        let parsed_due = parsed(
            self.rep,
            d.file,
            &d.key("due"),
            due_s,
            values::parse_due,
            DUE_FORMS,
        )?;
        let spec = parsed_due.spec;
        let cycle = self.cycle(d, cycle_name, spec)?;
        if window == WindowStyle::Decree09
            && is_short(&cycle)
            && let Some(w) = &d.raw.window
        {
            self.rep.report(
                Problem::error(
                    &d.at(w),
                    d.key("window"),
                    format!(
                        "Nghị định 09/2019 không quy định thời gian chốt số liệu cho chu kỳ {}",
                        quote(cycle_name)
                    ),
                )
                .quoted(w.get_ref())
                .hint(
                    "bỏ dòng window (kỳ theo ngày lịch); \"decree09\" chỉ dùng cho chu kỳ tháng, quý, 6 tháng, 9 tháng và năm",
                ),
            );
            return None;
        }
        let (due, due_after) = match &parsed_due.after_due_of {
            Some(id) => {
                let DueSpec::After(offset) = spec else {
                    return None;
                };
                self.tier_base(d, due_s, cycle_name, id)?;
                (
                    DueRule::AfterDue(offset),
                    Some(TierBase {
                        id: id.clone(),
                        obligation: None,
                    }),
                )
            }
            None => (
                self.due_rule(d, due_s, cycle_name, &cycle, window, spec)?,
                None,
            ),
        };
        let due_exclusive = self.due_wording(d, due_s, &parsed_due);
        let mut overrides: BTreeMap<String, Date> = BTreeMap::new();
        if let (DueSpec::Date(day), Cycle::Once { .. }) = (spec, &cycle) {
            // "trước ngày 15/10/2026": chậm nhất 14/10.
            let day = if due_exclusive {
                day.yesterday().unwrap_or(day)
            } else {
                day
            };
            overrides.insert(d.id.clone(), day);
        }
        self.overrides(d, cycle_name, &cycle, window, &mut overrides);
        Some(Schedule {
            cycle,
            window,
            due,
            due_exclusive: due_exclusive && !matches!(spec, DueSpec::Date(_)),
            due_time: parsed_due.time,
            due_after,
            overrides,
        })
    }

    /// A second tier's due rule counts from an obligation of its
    /// `depends_on` with the same cycle (so that each period has one first
    /// tier's period with the same key). Whether that id exists is checked
    /// with `depends_on`.
    fn tier_base(
        &mut self,
        d: &Draft,
        due_s: &Spanned<String>,
        cycle_name: &str,
        id: &str,
    ) -> Option<()> {
        if !d.raw.depends_on.iter().any(|x| x.get_ref() == id) {
            self.rep.report(
                Problem::error(
                    &d.at(due_s),
                    d.key("due"),
                    format!(
                        "hạn tính theo hạn của nghĩa vụ {}, nhưng nghĩa vụ đó không có trong depends_on",
                        quote(id)
                    ),
                )
                .quoted(due_s.get_ref())
                .hint(format!(
                    "thêm depends_on = [{}] (báo cáo tổng hợp chờ các đơn vị báo cáo nghĩa vụ đó)",
                    quote(id)
                )),
            );
            return None;
        }
        let base_cycle = self
            .col
            .obligations
            .iter()
            .find(|o| o.value.id.as_ref().is_some_and(|i| i.get_ref() == id))
            .and_then(|o| o.value.cycle.as_ref())
            .and_then(|c| canonical_cycle(c.get_ref()));
        match base_cycle {
            Some(b) if b == cycle_name && b != "once" => Some(()),
            // An unknown id or an unreadable cycle is reported where it is written.
            None => None,
            Some(b) => {
                self.rep.report(
                    Problem::error(
                        &d.at(due_s),
                        d.key("due"),
                        format!(
                            "hạn tính theo hạn của nghĩa vụ {} (chu kỳ {}), nhưng chu kỳ của nghĩa vụ này là {}: mỗi kỳ phải có đúng một kỳ cùng mã ở cấp dưới",
                            quote(id),
                            quote(b),
                            quote(cycle_name)
                        ),
                    )
                    .quoted(due_s.get_ref())
                    .hint(
                        "dùng cùng chu kỳ cho hai cấp, hoặc tính hạn từ ngày cuối kỳ (\"10 ngày làm việc\") hay theo ngày (\"ngày 25 tháng sau\")",
                    ),
                );
                None
            }
        }
    }

    /// Whether the due day is excluded ("trước ngày X" without a time),
    /// with a warning: offices differ on whether X itself is still in time.
    fn due_wording(&mut self, d: &Draft, due_s: &Spanned<String>, due: &Due) -> bool {
        if due.wording != DueWording::Before || due.time.is_some() {
            return false;
        }
        self.rep.report(
            Problem::warning(
                &d.at(due_s),
                d.key("due"),
                "\"trước ngày X\" được hiểu là phải nộp xong trong ngày liền trước ngày X (hạn là 24 giờ ngày X − 1)",
            )
            .quoted(due_s.get_ref())
            .hint(
                "nếu cơ quan nhận vẫn nhận báo cáo trong ngày X, viết \"chậm nhất ngày X\"; nếu hạn là một giờ cụ thể, ghi giờ: \"trước 16 giờ ngày X\"",
            ),
        );
        true
    }

    fn cycle_name(&mut self, d: &Draft) -> Option<&'static str> {
        let Some(c) = &d.raw.cycle else {
            self.rep.report(
                Problem::error(d.loc, d.key("cycle"), "thiếu chu kỳ báo cáo").hint(cycle_hint()),
            );
            return None;
        };
        if let Some(en) = canonical_cycle(c.get_ref()) {
            return Some(en);
        }
        let f = values::fold(c.get_ref());
        let hint = match nearest(&f, CYCLES.iter().map(|(en, _, _)| *en)) {
            Some(n) => format!("có phải ý là {}? {}", quote(n), cycle_hint()),
            None => cycle_hint(),
        };
        self.rep.report(
            Problem::error(&d.at(c), d.key("cycle"), "không có chu kỳ này")
                .quoted(c.get_ref())
                .hint(hint),
        );
        None
    }

    fn window(&mut self, d: &mut Draft) -> WindowStyle {
        let Some(w) = &d.raw.window else {
            return WindowStyle::Calendar;
        };
        match values::fold(w.get_ref()).as_str() {
            "calendar" => WindowStyle::Calendar,
            "decree09" | "nd09" => WindowStyle::Decree09,
            _ => {
                self.rep.report(
                    Problem::error(&d.at(w), d.key("window"), "không có kiểu kỳ này")
                        .quoted(w.get_ref())
                        .hint(
                            "\"calendar\" (1/1–30/6…) hoặc \"decree09\" (chốt số liệu từ ngày 15 tháng trước đến ngày 14, Nghị định 09/2019)",
                        ),
                );
                d.ok = false;
                WindowStyle::Calendar
            }
        }
    }

    /// `period_start` and `period_end` belong to one-offs only.
    fn once_only_keys(&mut self, d: &mut Draft) {
        for (key, v) in [
            ("period_start", &d.raw.period_start),
            ("period_end", &d.raw.period_end),
        ] {
            if let Some(v) = v {
                self.rep.report(
                    Problem::error(&d.at(v), d.key(key), "chỉ dùng cho cycle = \"once\"")
                        .quoted(v.get_ref())
                        .hint("với chu kỳ định kỳ, kỳ báo cáo suy ra từ cycle và window"),
                );
                d.ok = false;
            }
        }
    }

    /// The cycle; for a one-off, its period from `period_start` and
    /// `period_end` (by default the due date).
    fn cycle(&mut self, d: &mut Draft, cycle_name: &str, spec: DueSpec) -> Option<Cycle> {
        let raw = d.raw;
        let period_start = date(
            self.rep,
            d.file,
            &d.key("period_start"),
            raw.period_start.as_ref(),
        );
        let period_end = date(
            self.rep,
            d.file,
            &d.key("period_end"),
            raw.period_end.as_ref(),
        );
        let cycle = match cycle_name {
            "monthly" => Cycle::Monthly,
            "quarterly" => Cycle::Quarterly,
            "six-monthly" => Cycle::SixMonthly {
                first_half_only: false,
            },
            "six-monthly-first-half" => Cycle::SixMonthly {
                first_half_only: true,
            },
            "nine-monthly" => Cycle::NineMonthly,
            "annual" => Cycle::Annual,
            "daily" => Cycle::Daily {
                working_days_only: true,
            },
            "daily-all-days" => Cycle::Daily {
                working_days_only: false,
            },
            "weekly" => Cycle::Weekly,
            "ten-day" => Cycle::TenDay,
            "fifteen-day" => Cycle::FifteenDay,
            _ => return self.once(d, spec, period_start, period_end),
        };
        Some(cycle)
    }

    fn once(
        &mut self,
        d: &mut Draft,
        spec: DueSpec,
        period_start: Option<Date>,
        period_end: Option<Date>,
    ) -> Option<Cycle> {
        let raw = d.raw;
        let end = match (period_end, spec) {
            (Some(e), _) => e,
            (None, DueSpec::Date(day)) => day,
            (None, _) => {
                if raw.period_end.is_none() {
                    self.rep.report(
                        Problem::error(
                            d.loc,
                            d.key("period_end"),
                            "nghĩa vụ một lần cần ngày cuối kỳ (hoặc due là một ngày cụ thể)",
                        )
                        .hint("period_end = \"30/09/2026\" hoặc due = \"15/10/2026\""),
                    );
                }
                return None;
            }
        };
        if let (Some(s), Some(raw_s)) = (period_start, &raw.period_start)
            && s > end
        {
            self.rep.report(
                Problem::error(
                    &d.at(raw_s),
                    d.key("period_start"),
                    format!("sau ngày cuối kỳ {}", format_date(end)),
                )
                .quoted(raw_s.get_ref()),
            );
            d.ok = false;
        }
        if let Some(w) = &raw.window {
            self.rep.report(
                Problem::warning(&d.at(w), d.key("window"), "bị bỏ qua với cycle = \"once\"")
                    .quoted(w.get_ref()),
            );
        }
        Some(Cycle::Once {
            start: period_start,
            end,
        })
    }

    /// The due rule from the parsed `due`. A day-and-month ("20/06",
    /// "25/11") suits the cycles with one period a year (and one-offs): its
    /// occurrence nearest the period's end. A weekday suits weekly cycles;
    /// days of a month suit cycles of a month or longer. A date belongs to
    /// one-offs (where it is the override of their one period, and the rule
    /// is "0 days").
    fn due_rule(
        &mut self,
        d: &Draft,
        due_s: &Spanned<String>,
        cycle_name: &str,
        cycle: &Cycle,
        window: WindowStyle,
        spec: DueSpec,
    ) -> Option<DueRule> {
        let problem = match spec {
            DueSpec::DayOfMonth { .. } | DueSpec::DayOfNextQuarter { .. } | DueSpec::DayMonth { .. }
                if is_short(cycle) =>
            {
                Problem::error(
                    &d.at(due_s),
                    d.key("due"),
                    format!(
                        "kỳ của chu kỳ {} ngắn hơn một tháng: hạn không tính theo ngày của tháng",
                        quote(cycle_name)
                    ),
                )
                .hint(if *cycle == Cycle::Weekly {
                    "tính từ ngày cuối kỳ (\"1 ngày làm việc\", \"2 ngày\") hoặc theo thứ trong tuần (\"thứ Năm\", \"16 giờ thứ Sáu\", \"thứ Hai tuần sau\")"
                } else {
                    "tính từ ngày cuối kỳ, ví dụ \"1 ngày làm việc\" hoặc \"2 ngày\"; thêm giờ nếu cần: \"chậm nhất 14 giờ, 1 ngày làm việc\""
                })
            }
            DueSpec::Weekday { .. } if *cycle != Cycle::Weekly => Problem::error(
                &d.at(due_s),
                d.key("due"),
                format!(
                    "hạn theo thứ trong tuần chỉ dùng cho chu kỳ \"weekly\" (hàng tuần), không dùng cho chu kỳ {}",
                    quote(cycle_name)
                ),
            )
            .hint(DUE_FORMS),
            DueSpec::After(o) => return Some(DueRule::After(o)),
            DueSpec::DayOfMonth { day, next_month } => {
                return Some(DueRule::DayOfMonth { day, next_month });
            }
            DueSpec::DayOfNextQuarter { day } => return Some(DueRule::DayOfNextQuarter { day }),
            DueSpec::Weekday { weekday, next_week } => {
                return Some(DueRule::Weekday { weekday, next_week });
            }
            DueSpec::DayMonth { day, month } => {
                let last_months: Vec<i8> = match cycle {
                    Cycle::Once { end, .. } => vec![end.month()],
                    c => periods_of_year(c, window, 2000)
                        .iter()
                        .map(|p| p.window.end.month())
                        .collect(),
                };
                let m = month as i8;
                // The month of the period's end, or the month after: the
                // same as "ngày D" / "ngày D tháng sau".
                if last_months.iter().all(|&l| l == m) {
                    return Some(DueRule::DayOfMonth {
                        day,
                        next_month: false,
                    });
                }
                if last_months.iter().all(|&l| l % 12 + 1 == m) {
                    return Some(DueRule::DayOfMonth {
                        day,
                        next_month: true,
                    });
                }
                if last_months.len() == 1 {
                    return Some(DueRule::DayMonth { day, month });
                }
                let ends: Vec<String> = last_months.iter().map(|m| format!("{m}")).collect();
                Problem::error(
                    &d.at(due_s),
                    d.key("due"),
                    format!(
                        "chu kỳ {} có {} kỳ mỗi năm (kết thúc vào tháng {}): một ngày-tháng cố định không chỉ được hạn của từng kỳ",
                        quote(cycle_name),
                        last_months.len(),
                        ends.join(", ")
                    ),
                )
                .hint(format!(
                    "viết \"ngày {day}\" (ngày {day} của tháng cuối kỳ), \"ngày {day} tháng sau\" hoặc \"ngày {day} tháng đầu quý sau\"; hạn riêng cho một kỳ ghi trong [obligation.overrides]"
                ))
            }
            DueSpec::Date(_) if matches!(cycle, Cycle::Once { .. }) => {
                return Some(DueRule::After(Offset {
                    amount: 0,
                    unit: DayUnit::Days,
                }));
            }
            DueSpec::Date(_) => Problem::error(
                &d.at(due_s),
                d.key("due"),
                "một ngày cụ thể chỉ dùng cho cycle = \"once\"",
            )
            .hint(format!(
                "dùng quy tắc lặp lại ({DUE_FORMS}); hạn riêng cho một kỳ ghi trong [obligation.overrides]"
            )),
        };
        self.rep.report(problem.quoted(due_s.get_ref()));
        None
    }

    /// `[obligation.overrides]`: period keys of this cycle, due days near
    /// their period.
    fn overrides(
        &mut self,
        d: &mut Draft,
        cycle_name: &str,
        cycle: &Cycle,
        window: WindowStyle,
        overrides: &mut BTreeMap<String, Date>,
    ) {
        let Some(ov) = &d.raw.overrides else { return };
        for (k, v) in ov.get_ref() {
            let key = d.key(&format!("overrides.\"{}\"", k.get_ref()));
            let kloc = d.at(k);
            let pk = match values::parse_period_key(k.get_ref()) {
                Ok(pk) => pk,
                Err(why) => {
                    self.rep.report(
                        Problem::error(&kloc, &key, format!("mã kỳ {}: {why}", quote(k.get_ref())))
                            .quoted(v.get_ref())
                            .hint(PERIOD_KEY_FORMS),
                    );
                    d.ok = false;
                    continue;
                }
            };
            let fits = match (cycle, &pk) {
                (Cycle::Once { .. }, PeriodKey::Once(o)) => **o == *d.id,
                (c, k) => k.in_cycle(c),
            };
            if !fits {
                self.rep.report(
                    Problem::error(
                        &kloc,
                        &key,
                        format!(
                            "mã kỳ {} không thuộc chu kỳ {}",
                            quote(k.get_ref()),
                            quote(cycle_name)
                        ),
                    )
                    .quoted(v.get_ref())
                    .hint(period_key_hint(cycle, &d.id)),
                );
                d.ok = false;
                continue;
            }
            let Some(day) = date(self.rep, d.file, &key, Some(v)) else {
                d.ok = false;
                continue;
            };
            let period = match cycle {
                Cycle::Once { start, end } => Some((start.unwrap_or(*end), *end)),
                c => periods_of_year(c, window, pk.year().unwrap_or(2000))
                    .into_iter()
                    .find(|p| p.key == pk)
                    .map(|p| (p.window.start, p.window.end)),
            };
            if let Some((s, e)) = period
                && (day < s || (day - e).get_days() > 366)
            {
                self.rep.report(
                    Problem::warning(
                        &d.at(v),
                        &key,
                        format!(
                            "hạn nộp không nằm gần kỳ {pk} ({}–{})",
                            format_date(s),
                            format_date(e)
                        ),
                    )
                    .quoted(v.get_ref())
                    .hint("kiểm tra lại năm của ngày hạn"),
                );
            }
            overrides.insert(pk.to_string(), day);
        }
    }
}

fn cycle_hint() -> String {
    let names: Vec<String> = CYCLES
        .iter()
        .map(|(en, vi, _)| format!("{} ({vi})", quote(en)))
        .collect();
    format!("chu kỳ hợp lệ: {}", names.join(", "))
}

fn period_key_hint(cycle: &Cycle, id: &str) -> String {
    match cycle {
        Cycle::Monthly => "chu kỳ tháng dùng mã \"2026-01\" … \"2026-12\"".into(),
        Cycle::Quarterly => "chu kỳ quý dùng mã \"2026-Q1\" … \"2026-Q4\"".into(),
        Cycle::SixMonthly {
            first_half_only: true,
        } => "chu kỳ 6 tháng đầu năm chỉ có mã \"2026-H1\"".into(),
        Cycle::SixMonthly {
            first_half_only: false,
        } => "chu kỳ 6 tháng dùng mã \"2026-H1\" hoặc \"2026-H2\"".into(),
        Cycle::NineMonthly => "chu kỳ 9 tháng dùng mã \"2026-9M\"".into(),
        Cycle::Annual => "chu kỳ năm dùng mã \"2026\"".into(),
        Cycle::Daily { .. } => "chu kỳ ngày dùng mã \"2026-05-15\" (năm-tháng-ngày)".into(),
        Cycle::Weekly => {
            "chu kỳ tuần dùng mã tuần ISO \"2026-W01\" … \"2026-W53\" (tuần từ thứ Hai đến Chủ nhật)"
                .into()
        }
        Cycle::TenDay => "chu kỳ 10 ngày dùng mã \"2026-05-D1\", \"2026-05-D2\", \"2026-05-D3\"".into(),
        Cycle::FifteenDay => "chu kỳ 15 ngày dùng mã \"2026-05-H1\", \"2026-05-H2\"".into(),
        Cycle::Once { .. } => format!("nghĩa vụ một lần chỉ có mã {}", quote(id)),
    }
}
