//! The schedule of one obligation: its cycle (or the period of a one-off),
//! window style, due rule (a day-and-month fitted to the cycle's last
//! months) and the per-period overrides (period keys of that cycle, due
//! days near their period).

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde_spanned::Spanned;

use super::obligation::Draft;
use super::{Validator, date, parsed};
use crate::config::model::{Cycle, DayUnit, DueRule, Offset, WindowStyle};
use crate::config::report::{Problem, nearest, quote};
use crate::config::values::{self, DUE_FORMS, DueSpec, PERIOD_KEY_FORMS, format_date};
use crate::period::{PeriodKey, periods_of_year};

/// Cycle names in English and in Vietnamese without diacritics.
const CYCLES: [(&str, &str); 7] = [
    ("monthly", "hang thang"),
    ("quarterly", "hang quy"),
    ("six-monthly", "6 thang"),
    ("six-monthly-first-half", "6 thang dau nam"),
    ("nine-monthly", "9 thang"),
    ("annual", "hang nam"),
    ("once", "mot lan"),
];

/// When an obligation's reports are due.
pub(super) struct Schedule {
    pub cycle: Cycle,
    pub window: WindowStyle,
    pub due: DueRule,
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
        let spec = parsed(
            self.rep,
            d.file,
            &d.key("due"),
            due_s,
            values::parse_due,
            DUE_FORMS,
        )?;
        let cycle = self.cycle(d, cycle_name, spec)?;
        let due = self.due_rule(d, due_s, cycle_name, &cycle, window, spec)?;
        let mut overrides: BTreeMap<String, Date> = BTreeMap::new();
        if let (DueSpec::Date(day), Cycle::Once { .. }) = (spec, &cycle) {
            overrides.insert(d.id.clone(), day);
        }
        self.overrides(d, cycle_name, &cycle, window, &mut overrides);
        Some(Schedule {
            cycle,
            window,
            due,
            overrides,
        })
    }

    fn cycle_name(&mut self, d: &Draft) -> Option<&'static str> {
        let Some(c) = &d.raw.cycle else {
            self.rep.report(
                Problem::error(d.loc, d.key("cycle"), "thiếu chu kỳ báo cáo").hint(cycle_hint()),
            );
            return None;
        };
        let f = values::fold(c.get_ref());
        if let Some((en, _)) = CYCLES.iter().find(|(en, vi)| *en == f || *vi == f) {
            return Some(en);
        }
        let hint = match nearest(&f, CYCLES.iter().map(|(en, _)| *en)) {
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

    /// The due rule from the parsed `due`. A day-and-month ("20/06") must
    /// fall in the last month of every period of the cycle or the month
    /// after; a date belongs to one-offs (where it is the override of
    /// their one period, and the rule is "0 days").
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
            DueSpec::After(o) => return Some(DueRule::After(o)),
            DueSpec::DayOfMonth { day, next_month } => {
                return Some(DueRule::DayOfMonth { day, next_month });
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
                let ends: Vec<String> = last_months.iter().map(|m| format!("{m}")).collect();
                Problem::error(
                    &d.at(due_s),
                    d.key("due"),
                    format!(
                        "các kỳ của chu kỳ {} kết thúc vào tháng {}, không phải tháng {month} hay tháng trước đó",
                        quote(cycle_name),
                        ends.join(", ")
                    ),
                )
                .hint(format!(
                    "viết \"ngày {day}\" (ngày {day} của tháng cuối kỳ) hoặc \"ngày {day} tháng sau\""
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
    let names: Vec<String> = CYCLES.iter().map(|(en, _)| quote(en)).collect();
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
        Cycle::Once { .. } => format!("nghĩa vụ một lần chỉ có mã {}", quote(id)),
    }
}
