//! Raw configuration -> validated [`model::Config`], collecting every problem.
//!
//! Checks values (through the pure parsers in `values`), defaults, and every
//! cross-reference: unknown or duplicate ids (with the nearest existing id as
//! a suggestion), supervisor and `depends_on` loops, successors, reminders
//! that are not before the deadline, overrides whose period key does not fit
//! the cycle, SMTP settings. Warnings (things that are legal but probably not
//! meant) are collected apart. No IO and no clock: the file reading is done
//! by `load` before this runs.
//!
//! One part per concern: `daemon`, `mail`, `calendar` and `intake` check their
//! sections; `units` the units, groups and their links; `directive` the
//! `[[directive]]`s and who speaks in each obligation's notices; `obligations` the
//! list of obligations and their `depends_on`; `obligation` one obligation,
//! with `due` (cycle, window, due rule, overrides), `reminders` and
//! `escalation`; `usage` the warnings about units that take part in nothing.
//!
//! [`model::Config`]: super::model::Config

mod calendar;
mod daemon;
mod directive;
mod due;
mod escalation;
mod http;
pub(crate) mod intake;
mod mail;
mod obligation;
mod obligations;
mod reminders;
mod units;
mod usage;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use jiff::civil::Date;
use serde_spanned::Spanned;

use super::load::Collected;
use super::model::{Config, Directive, Unit};
use super::report::{Loc, Problem, Reporter, join, nearest, quote};
use super::values::{self, DATE_FORMS, ID_FORMS, format_date};

pub(crate) const DEFAULT_TIME_ZONE: &str = "Asia/Ho_Chi_Minh";
pub(crate) const DEFAULT_STATE_DIR: &str = "/var/lib/hanbao";
pub(crate) const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:8080";
pub(crate) const DEFAULT_FROM: &str = "hanbao@localhost";
/// Upper bound of `[mail.smtp] connections`.
pub(crate) const MAX_SMTP_CONNECTIONS: usize = 16;
/// The coordinator's digest: Monday 08:00 local.
pub const DEFAULT_DIGEST: &str = "0 8 * * Mon";
pub(crate) const RECIPIENT_COUNCIL: &str = "reporter.council";
pub(crate) const RECIPIENT_SUPERVISOR: &str = "reporter.supervisor";

/// Validates everything collected from the files. Returns the model when no
/// error was reported (warnings may have been).
pub fn validate(col: &Collected, rep: &mut Reporter) -> Option<Config> {
    let errors_before = rep.error_count();
    let daemon = daemon::daemon(col.daemon.as_ref(), rep);
    let mail = mail::mail(col.mail.as_ref(), &daemon.state_dir, rep);
    let calendar = calendar::calendar(col.calendar.as_ref(), rep);
    let intake = intake::intake(col.intake.as_ref(), &daemon.files, rep);
    let mut v = Validator {
        rep,
        col,
        units: Vec::new(),
        unit_locs: HashMap::new(),
        unit_pos: HashMap::new(),
        groups: BTreeMap::new(),
        unmailed: HashSet::new(),
        directives: Vec::new(),
    };
    v.units_and_groups();
    v.directives();
    let obligations = v.obligations();
    v.unit_links();
    v.warnings_about_usage(&obligations);
    let groups = v
        .groups
        .iter()
        .map(|(k, g)| (k.clone(), g.members.clone()))
        .collect();
    let group_names = v
        .groups
        .iter()
        .map(|(k, g)| (k.clone(), g.name.clone()))
        .collect();
    let units = std::mem::take(&mut v.units);
    let directives = std::mem::take(&mut v.directives);
    if rep.error_count() > errors_before {
        return None;
    }
    Some(Config {
        daemon,
        mail,
        calendar,
        intake,
        directives,
        positions: super::model::Positions::of(&units, &obligations),
        units,
        obligations,
        groups,
        group_names,
        files: rep.files.iter().map(|f| f.path.clone()).collect(),
    })
}

/// Where a spanned value of file `item_file` is.
fn at<T>(item_file: usize, s: &Spanned<T>) -> Loc {
    Loc {
        file: item_file,
        span: s.span(),
    }
}

/// The value of `key` read by `parse`, or `None` after reporting why it
/// does not parse, with `hint` saying what would be valid.
fn parsed<T>(
    rep: &mut Reporter,
    file: usize,
    key: &str,
    s: &Spanned<String>,
    parse: impl FnOnce(&str) -> Result<T, String>,
    hint: impl Into<String>,
) -> Option<T> {
    match parse(s.get_ref()) {
        Ok(v) => Some(v),
        Err(why) => {
            rep.report(
                Problem::error(&at(file, s), key, why)
                    .quoted(s.get_ref())
                    .hint(hint),
            );
            None
        }
    }
}

/// A date key: parses it or reports it.
fn date(rep: &mut Reporter, file: usize, key: &str, s: Option<&Spanned<String>>) -> Option<Date> {
    parsed(rep, file, key, s?, values::parse_date, DATE_FORMS)
}

/// `active_from` and `active_until` of the unit or obligation `label`:
/// parses both (reporting bad dates) and reports an `active_until` before
/// `active_from`, with `hint`. Returns the dates and whether they are in order.
fn active_span(
    rep: &mut Reporter,
    file: usize,
    label: &str,
    from: Option<&Spanned<String>>,
    until: Option<&Spanned<String>>,
    hint: Option<&str>,
) -> (Option<Date>, Option<Date>, bool) {
    let active_from = date(rep, file, &join(label, "active_from"), from);
    let active_until = date(rep, file, &join(label, "active_until"), until);
    if let (Some(f), Some(u), Some(s)) = (active_from, active_until, until)
        && u < f
    {
        rep.report(
            Problem::error(
                &at(file, s),
                join(label, "active_until"),
                format!("trước active_from ({})", format_date(f)),
            )
            .quoted(s.get_ref())
            .maybe_hint(hint.map(String::from)),
        );
        return (active_from, active_until, false);
    }
    (active_from, active_until, true)
}

fn is_absolute(p: &str) -> bool {
    Path::new(p).is_absolute()
}

/// A group while the units are read: where it is declared and its members
/// in file order (`set` is the same members, for lookups).
struct GroupInfo {
    loc: Loc,
    /// The group's `name`, or its id when it has none.
    name: String,
    members: Vec<String>,
    set: HashSet<String>,
}

/// The cross-referencing part of validation: units, groups and
/// obligations, which refer to each other by id.
struct Validator<'a> {
    rep: &'a mut Reporter,
    col: &'a Collected,
    units: Vec<Unit>,
    /// unit id -> (index in `col.units`, location of the element)
    unit_locs: HashMap<String, (usize, Loc)>,
    /// unit id -> index in `units`
    unit_pos: HashMap<String, usize>,
    groups: BTreeMap<String, GroupInfo>,
    /// Units marked `emailed = false`: no mailbox on purpose.
    unmailed: HashSet<String>,
    /// The `[[directive]]`s that passed their checks.
    directives: Vec<Directive>,
}

impl<'a> Validator<'a> {
    fn unit_by_id(&self, id: &str) -> Option<&Unit> {
        self.unit_pos.get(id).and_then(|&i| self.units.get(i))
    }

    /// The reporters in `ids` (known units) for which `lacks` holds.
    fn reporters_lacking<'r>(
        &self,
        ids: &'r [String],
        lacks: impl Fn(&Unit) -> bool,
    ) -> Vec<&'r str> {
        ids.iter()
            .filter(|u| self.unit_by_id(u).is_some_and(&lacks))
            .map(String::as_str)
            .collect()
    }

    fn id_ok(&mut self, file: usize, key: &str, s: &Spanned<String>) -> bool {
        if values::is_valid_id(s.get_ref()) {
            return true;
        }
        self.rep.report(
            Problem::error(&at(file, s), key, "id không hợp lệ")
                .quoted(s.get_ref())
                .hint(ID_FORMS),
        );
        false
    }

    fn unit_ids(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let col: &'a Collected = self.col;
        col.units
            .iter()
            .filter_map(|u| u.value.id.as_ref())
            .map(|s| s.get_ref().as_str())
    }

    fn group_ids(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let col: &'a Collected = self.col;
        col.groups
            .iter()
            .filter_map(|g| g.value.id.as_ref())
            .map(|s| s.get_ref().as_str())
    }

    /// Reports an unknown reference with a suggestion; silent for ids whose
    /// element could not be read at all, and when a whole file could not
    /// be read (the id may be declared there; that file is reported).
    fn unknown(&mut self, loc: &Loc, key: &str, value: &str, what: &str, candidates: Vec<&str>) {
        if self.col.incomplete || self.col.broken_ids.iter().any(|b| b == value) {
            return;
        }
        let hint = match nearest(value, candidates.iter().copied()) {
            Some(n) => format!("có phải ý là {}?", quote(n)),
            None if candidates.is_empty() => format!("chưa khai báo {what} nào"),
            None => format!(
                "khai báo nó bằng [[{}]] hoặc dùng một id đã có",
                what.split(' ').next().unwrap_or(what)
            ),
        };
        self.rep.report(
            Problem::error(loc, key, format!("không có {what} với id này"))
                .quoted(value)
                .hint(hint),
        );
    }
}
