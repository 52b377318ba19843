//! The notice a claimed outbox row (or an escalation's group of rows)
//! becomes: the deadline with what went before and who is told, the
//! speaker and register (`voice`), an escalation's sections and their
//! dependencies, each read from an [`Index`] the dispatcher builds once
//! per claimed set, so a message says the same whichever order the run
//! sends in. No sending and no clock: `now` is given.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::calendar::WorkCalendar;
use crate::config::model::{Config, Obligation, Unit};
use crate::mail::{
    self, Addressee, LateUnit, Notice, NoticeKind, PastNotice, Role, Section, Standing, UnitRef,
};
use crate::planner;
use crate::store::{CurrentState, OutboxKind, OutboxRow, OutboxStatus, Store, StoreError};

use super::voice;
use crate::store::Records;

/// What a notice is built from: the configuration, its calendar, and the
/// composer (for the confirmation link).
pub(super) struct Notices<'a> {
    pub cfg: &'a Config,
    pub cal: &'a WorkCalendar,
    pub composer: &'a crate::mail::Composer,
}

/// Units by id and display names by address, built once per claimed set
/// (the configuration's lists are scanned linearly otherwise, per row),
/// and what the store held for the claimed rows' report-periods when the
/// run began: what is in effect per unit, and the outbox rows of the
/// claimed units (what went out before, and who is told at the same time).
/// Read before anything is sent, so a message says the same whichever
/// order the run sends in.
pub(super) struct Index<'c> {
    pub units: HashMap<&'c str, &'c Unit>,
    pub names: HashMap<&'c str, &'c str>,
    pub states: HashMap<(String, String), HashMap<String, CurrentState>>,
    pub history: HashMap<(String, String), Vec<OutboxRow>>,
}

impl<'c> Index<'c> {
    pub(super) fn new(cfg: &'c Config) -> Index<'c> {
        let mut units = HashMap::with_capacity(cfg.units.len());
        let mut names = HashMap::with_capacity(cfg.units.len() * 2);
        // First match wins, in configuration order; within a unit its
        // mailboxes before its head (what a scan of `cfg.units` finds).
        for u in &cfg.units {
            units.entry(u.id.as_str()).or_insert(u);
            for e in &u.emails {
                names.entry(e.as_str()).or_insert(u.name.as_str());
            }
            if let Some(h) = &u.head {
                names.entry(h.email.as_str()).or_insert(h.name.as_str());
            }
        }
        Index {
            units,
            names,
            states: HashMap::new(),
            history: HashMap::new(),
        }
    }

    /// The outbox rows of (obligation, period, unit), oldest first.
    fn history_of<'a>(
        &'a self,
        key: &'a crate::store::OutboxKey,
    ) -> impl Iterator<Item = &'a OutboxRow> + 'a {
        self.history
            .get(&(key.obligation.clone(), key.period.clone()))
            .into_iter()
            .flatten()
            .filter(move |r| r.key.unit == key.unit)
    }

    pub(super) fn unit(&self, id: &str) -> Option<&'c Unit> {
        self.units.get(id).copied()
    }

    /// The display name for an address: the unit or head it belongs to.
    pub(super) fn addressee(&self, address: &str) -> Addressee {
        match self.names.get(address) {
            Some(name) => Addressee::named(address, *name),
            None => Addressee::new(address),
        }
    }
}

impl Notices<'_> {
    pub(super) async fn notice(
        &self,
        store: &Store,
        index: &Index<'_>,
        rows: &[OutboxRow],
        now: Timestamp,
    ) -> Result<Notice, NoticeError> {
        let first = &rows[0];
        let kind = match first.key.kind {
            OutboxKind::Escalation => {
                NoticeKind::Escalation(self.escalation(store, index, rows, now).await?)
            }
            OutboxKind::Acknowledgement => {
                NoticeKind::Acknowledgement(self.acknowledgement(store, index, first, now).await?)
            }
            k => {
                let mut d = self.deadline(store, index, first, now).await?;
                if k == OutboxKind::Overdue {
                    d.also_late = self.also_late(rows, now);
                }
                match k {
                    OutboxKind::Reminder => NoticeKind::Reminder(d),
                    OutboxKind::DueToday => NoticeKind::DueToday(d),
                    _ => NoticeKind::Overdue(d),
                }
            }
        };
        let outbox_key = if rows.len() == 1 {
            first.key.to_string()
        } else {
            let mut keys: Vec<String> = rows.iter().map(|r| r.key.to_string()).collect();
            keys.sort();
            format!("group|{}", keys.join(";"))
        };
        Ok(Notice {
            kind,
            language: self.cfg.mail.language,
            recipients: vec![index.addressee(&first.key.recipient)],
            outbox_key,
            sent_at: now,
        })
    }

    /// The name an address is known by (a unit or a head), else the address.
    fn name_of(&self, index: &Index<'_>, address: &str) -> String {
        index
            .addressee(address)
            .name
            .unwrap_or_else(|| address.to_string())
    }

    /// A reminder, due-day or overdue notice for one row.
    async fn deadline(
        &self,
        store: &Store,
        index: &Index<'_>,
        row: &OutboxRow,
        now: Timestamp,
    ) -> Result<mail::Deadline, NoticeError> {
        let (ob, unit) = self.lookup(index, row)?;
        let tz = &self.cfg.daemon.time_zone;
        let today = tz.to_datetime(now).date();
        let due = row.due_on;
        let mut d = mail::Deadline::new(
            voice::obligation_ref(ob),
            voice::period_ref(&row.key.period, self.cfg.mail.language),
            UnitRef {
                id: unit.id.clone(),
                name: unit.name.clone(),
            },
            due,
        );
        d.due_time = ob.due_time.map(|local| mail::TimeOfDay {
            local,
            instant: planner::deadline_at(tz, due, Some(local)),
        });
        d.as_of = today;
        d.days_left = voice::days_after(today, due);
        d.working_days_left = voice::working_days_after(self.cal, today, due);
        d.days_late = voice::days_after(due, today);
        d.working_days_late = voice::working_days_after(self.cal, due, today);
        if row.key.kind == OutboxKind::Overdue {
            d.stage = row.key.stage;
        }
        d.speaker = voice::speaker(self.cfg, ob);
        d.register = voice::register_for_unit(self.cfg, ob, &unit.id);
        d.recipient_name = voice::recipient_unit(self.cfg, ob, unit).map(|u| u.name.clone());
        d.dependencies = self.dependencies(store, ob, &row.key.period, today).await?;
        d.history = self.past_notices(index, &row.key, now, Some(row.id));
        // Who else is told: not the speaking agency's own mailbox (it is
        // the one writing).
        let own = ob
            .voice
            .sender
            .as_ref()
            .and_then(|s| self.cfg.unit(&s.agency))
            .map(|u| u.emails.as_slice())
            .unwrap_or_default();
        for r in index.history_of(&row.key) {
            if r.key.kind != OutboxKind::Escalation || own.contains(&r.key.recipient) {
                continue;
            }
            let to = self.name_of(index, &r.key.recipient);
            let sent_at = match (r.status, r.sent_at) {
                (OutboxStatus::Sent, Some(at)) if at < now => Some(at),
                _ => None,
            };
            let known = d
                .informed
                .iter()
                .any(|p| p.to.as_deref() == Some(to.as_str()));
            match sent_at {
                Some(at) if !known => d.informed.push(PastNotice {
                    kind: "escalation",
                    on: tz.to_datetime(at).date(),
                    to: Some(to),
                }),
                // Told in this same run (sent already, or about to be).
                None if r.key.stage == row.key.stage && !d.informing.contains(&to) => {
                    d.informing.push(to)
                }
                _ => {}
            }
        }
        d.confirm_url = self
            .composer
            .confirm_url(&ob.id, &row.key.period, &unit.id, due, now);
        let reminders =
            planner::events::reminder_times(ob, self.cal, self.cfg.daemon.sending_hours, due);
        d.alarms = crate::mail::ics::alarm_minutes(due, &reminders);
        Ok(d)
    }

    /// The acknowledgement of a unit's reply by email: what the processed
    /// message (the row's stage is its id) came to, read now.
    async fn acknowledgement(
        &self,
        store: &Store,
        index: &Index<'_>,
        row: &OutboxRow,
        now: Timestamp,
    ) -> Result<mail::Acknowledgement, NoticeError> {
        use crate::store::Intake;
        let (ob, unit) = self.lookup(index, row)?;
        let tz = &self.cfg.daemon.time_zone;
        let detail = store
            .intake_detail(i64::from(row.key.stage))
            .await?
            .ok_or_else(|| NoticeError::Other(format!("no processed message {}", row.key.stage)))?;
        const MIB: u64 = 1024 * 1024;
        let intake = self.cfg.intake.as_ref();
        let outcome = match (detail.row.outcome.as_str(), &detail.event) {
            ("recorded" | "already", Some(e)) => mail::AckOutcome::Recorded {
                received_on: e
                    .received_on
                    .unwrap_or_else(|| tz.to_datetime(e.recorded_at).date()),
                reference: e.reference.clone(),
                recorded_at: tz.to_datetime(e.recorded_at),
                earlier: detail.row.outcome == "already",
            },
            ("refused", _) if detail.row.reason.as_deref() == Some("too_many_attachments") => {
                mail::AckOutcome::TooMany {
                    max: intake.map_or(self.cfg.daemon.files.max_count, |i| i.max_attachments),
                }
            }
            ("refused", _) if detail.row.reason.as_deref() == Some("too_big") => {
                mail::AckOutcome::TooBig {
                    file_max_mb: self.cfg.daemon.files.max_bytes / MIB,
                    message_max_mb: intake.map_or(
                        crate::config::validate::intake::DEFAULT_MAX_MESSAGE_MB,
                        |i| i.max_message_bytes / MIB,
                    ),
                }
            }
            (what, _) => {
                return Err(NoticeError::Other(format!(
                    "nothing to acknowledge for message {} ({what})",
                    row.key.stage
                )));
            }
        };
        let refused = !matches!(outcome, mail::AckOutcome::Recorded { .. });
        Ok(mail::Acknowledgement {
            obligation: voice::obligation_ref(ob),
            period: voice::period_ref(&row.key.period, self.cfg.mail.language),
            unit: UnitRef {
                id: unit.id.clone(),
                name: unit.name.clone(),
            },
            speaker: voice::speaker(self.cfg, ob),
            register: voice::register_for_unit(self.cfg, ob, &unit.id),
            sender: detail.row.sender.clone(),
            processed_at: tz.to_datetime(detail.row.processed_at),
            outcome,
            files: detail
                .files
                .iter()
                .map(|f| mail::AckFile {
                    name: f.name.clone(),
                    size: crate::files::size_text(f.size),
                })
                .collect(),
            confirm_url: if refused {
                self.composer
                    .confirm_url(&ob.id, &row.key.period, &unit.id, row.due_on, now)
            } else {
                None
            },
        })
    }

    /// The other late periods of a grouped overdue notice (rows sorted
    /// oldest period first; the first is the notice's own), each once.
    fn also_late(&self, rows: &[OutboxRow], now: Timestamp) -> Vec<mail::LatePeriod> {
        let today = self.cfg.daemon.time_zone.to_datetime(now).date();
        let mut out: Vec<mail::LatePeriod> = Vec::new();
        for r in rows.iter().skip(1) {
            if r.key.period == rows[0].key.period
                || out.iter().any(|p| p.period.key == r.key.period)
            {
                continue;
            }
            out.push(mail::LatePeriod {
                period: voice::period_ref(&r.key.period, self.cfg.mail.language),
                due: r.due_on,
                days_late: voice::days_after(r.due_on, today),
                working_days_late: voice::working_days_after(self.cal, r.due_on, today),
            });
        }
        out
    }

    /// The notices already sent to a unit about (obligation, period) before
    /// this run (reminders, due-day and overdue notices), oldest first.
    fn past_notices(
        &self,
        index: &Index<'_>,
        key: &crate::store::OutboxKey,
        now: Timestamp,
        except: Option<i64>,
    ) -> Vec<PastNotice> {
        let tz = &self.cfg.daemon.time_zone;
        let mut out: Vec<PastNotice> = Vec::new();
        for r in index.history_of(key) {
            if matches!(
                r.key.kind,
                OutboxKind::Escalation | OutboxKind::Acknowledgement
            ) || Some(r.id) == except
            {
                continue;
            }
            let (OutboxStatus::Sent, Some(at)) = (r.status, r.sent_at) else {
                continue;
            };
            if at >= now {
                continue;
            }
            let on = tz.to_datetime(at).date();
            // One per day: a unit with two mailboxes got one notice.
            if !out.iter().any(|p| p.on == on) {
                out.push(PastNotice {
                    kind: r.key.kind.as_str(),
                    on,
                    to: None,
                });
            }
        }
        out.sort_by_key(|p| p.on);
        out
    }

    /// Where one report-period stands, from what was in effect when the
    /// run began: the units that owe it, how many sent it (late ones) or
    /// were exempted. `late` is left empty.
    /// With `only_to`, only the reporters whose report goes to that unit
    /// (a People's Council or supervisor receiving one district's report).
    fn standing(
        &self,
        ob: &Obligation,
        period: &str,
        due: jiff::civil::Date,
        states: Option<&HashMap<String, CurrentState>>,
        only_to: Option<&str>,
    ) -> Standing {
        let mut st = Standing {
            obligation: voice::obligation_ref(ob),
            period: voice::period_ref(period, self.cfg.mail.language),
            due,
            expected: 0,
            submitted: 0,
            submitted_late: 0,
            waived: 0,
            late: Vec::new(),
            span: None,
        };
        let end = planner::period_of(ob, period).ok().map(|p| p.window.end);
        for id in &ob.reporters {
            let Some(u) = self.cfg.unit(id) else { continue };
            if end.is_some_and(|e| !u.active_on(e)) {
                continue;
            }
            if only_to
                .is_some_and(|to| voice::recipient_unit(self.cfg, ob, u).is_none_or(|r| r.id != to))
            {
                continue;
            }
            st.expected += 1;
            let Some(s) = states.and_then(|m| m.get(id)) else {
                continue;
            };
            if s.waiver.is_some() {
                st.waived += 1;
            } else if let Some(sub) = &s.submission {
                st.submitted += 1;
                let in_force = s.extension.as_ref().map_or(due, |x| x.until.max(due));
                if sub.received_on > in_force {
                    st.submitted_late += 1;
                }
            }
        }
        st
    }

    /// A grouped escalation: one section per (report, period, why told),
    /// each with received X of Y and the late units with what they were
    /// already sent.
    async fn escalation(
        &self,
        store: &Store,
        index: &Index<'_>,
        rows: &[OutboxRow],
        now: Timestamp,
    ) -> Result<mail::Escalation, NoticeError> {
        let first = &rows[0];
        let (first_ob, _) = self.lookup(index, first)?;
        let address = first.key.recipient.as_str();
        let today = self.cfg.daemon.time_zone.to_datetime(now).date();
        let mut sections: Vec<(usize, Section)> = Vec::new();
        for row in rows {
            let (ob, unit) = self.lookup(index, row)?;
            let role = voice::role(self.cfg, ob, unit, address);
            let found = sections.iter().position(|(_, s)| {
                s.role == role
                    && s.standing.obligation.id == ob.id
                    && s.standing.period.key == row.key.period
            });
            let i = match found {
                Some(i) => i,
                None => {
                    let pair = (row.key.obligation.clone(), row.key.period.clone());
                    // The body a report goes to per reporter (a council, a
                    // supervisor) hears about its own reporters only.
                    let only_to = match (&ob.recipient, role) {
                        (crate::config::model::Recipient::Unit(_), _) | (_, Role::Head) => None,
                        (_, Role::Recipient) => {
                            voice::recipient_unit(self.cfg, ob, unit).map(|u| u.id.as_str())
                        }
                        _ => None,
                    };
                    let standing = self.standing(
                        ob,
                        &row.key.period,
                        row.due_on,
                        index.states.get(&pair),
                        only_to,
                    );
                    let dependencies = self.dependencies(store, ob, &row.key.period, today).await?;
                    let order = self
                        .cfg
                        .obligations
                        .iter()
                        .position(|o| o.id == ob.id)
                        .unwrap_or(usize::MAX);
                    sections.push((
                        order,
                        Section {
                            role,
                            standing,
                            recipient_name: voice::recipient_unit(self.cfg, ob, unit)
                                .map(|u| u.name.clone()),
                            dependencies,
                        },
                    ));
                    sections.len() - 1
                }
            };
            let late = &mut sections[i].1.standing.late;
            if late.iter().any(|l| l.unit.id == unit.id) {
                continue;
            }
            late.push(LateUnit {
                unit: UnitRef {
                    id: unit.id.clone(),
                    name: unit.name.clone(),
                },
                due: row.due_on,
                days_late: voice::days_after(row.due_on, today),
                working_days_late: voice::working_days_after(self.cal, row.due_on, today),
                notices: self.past_notices(index, &row.key, now, None),
                periods: Vec::new(),
            });
        }
        sections.sort_by(|a, b| {
            (a.0, &a.1.standing.period.key, a.1.role).cmp(&(
                b.0,
                &b.1.standing.period.key,
                b.1.role,
            ))
        });
        let sections = self.group_short(sections.into_iter().map(|(_, s)| s).collect());
        let mut sections = sections;
        let position = |id: &str| self.cfg.units.iter().position(|u| u.id == id);
        for s in &mut sections {
            // The longest late first; then in the configuration's order.
            s.standing
                .late
                .sort_by_key(|l| (std::cmp::Reverse(l.days_late), position(&l.unit.id)));
        }
        Ok(mail::Escalation {
            speaker: voice::speaker(self.cfg, first_ob),
            // Empty for an address no unit or head has: the templates
            // then address "Quý cơ quan".
            addressee: index.addressee(address).name.unwrap_or_default(),
            register: voice::register_for_address(self.cfg, first_ob, address),
            as_of: today,
            sections,
        })
    }

    /// A report with short periods (daily, weekly, ...) late for several
    /// of them: one section per report and role, each late unit one line
    /// with how many periods and since when (`mail::group_short_periods`);
    /// a compiled report's missing data listed for each period.
    fn group_short(&self, sections: Vec<Section>) -> Vec<Section> {
        let short = |id: &str| self.cfg.obligation(id).is_some_and(|o| o.cycle.is_short());
        let mut extras: Vec<Option<(Option<String>, Vec<Standing>)>> = Vec::new();
        let mut items = Vec::with_capacity(sections.len());
        for s in sections {
            extras.push(Some((s.recipient_name, s.dependencies)));
            items.push((s.role, s.standing));
        }
        mail::group_short_periods(items, short)
            .into_iter()
            .map(|(role, standing, from)| {
                let mut recipient_name = None;
                let mut dependencies = Vec::new();
                for i in from {
                    if let Some((name, deps)) = extras.get_mut(i).and_then(Option::take) {
                        recipient_name = recipient_name.or(name);
                        dependencies.extend(deps);
                    }
                }
                Section {
                    role,
                    standing,
                    recipient_name,
                    dependencies,
                }
            })
            .collect()
    }

    fn lookup<'c>(
        &'c self,
        index: &Index<'c>,
        row: &OutboxRow,
    ) -> Result<(&'c Obligation, &'c Unit), NoticeError> {
        let ob = self.cfg.obligation(&row.key.obligation).ok_or_else(|| {
            NoticeError::Other(format!("unknown obligation {}", row.key.obligation))
        })?;
        let unit = index
            .unit(&row.key.unit)
            .ok_or_else(|| NoticeError::Other(format!("unknown unit {}", row.key.unit)))?;
        Ok((ob, unit))
    }

    /// For a compiled report: each report it compiles, with received X of
    /// Y and the units whose data has not arrived (neither sent nor
    /// exempted), with how late they are on `today`.
    async fn dependencies(
        &self,
        store: &Store,
        ob: &Obligation,
        period: &str,
        today: jiff::civil::Date,
    ) -> Result<Vec<Standing>, NoticeError> {
        if ob.depends_on.is_empty() {
            return Ok(Vec::new());
        }
        let Ok(p) = planner::period_of(ob, period) else {
            return Ok(Vec::new());
        };
        let deps = planner::dependencies(self.cfg, ob, &p.key)
            .map_err(|e| NoticeError::Other(e.to_string()))?;
        let mut out = Vec::new();
        for (dep, dp) in deps {
            let key = dp.key.to_string();
            let states: HashMap<String, CurrentState> = store
                .current(&dep.id, &key)
                .await
                .map_err(NoticeError::Store)?
                .into_iter()
                .map(|s| (s.key.unit.clone(), s))
                .collect();
            let due = planner::due_date(dep, self.cal, &dp.key, dp.window);
            let mut st = self.standing(dep, &key, due, Some(&states), None);
            for id in &dep.reporters {
                let Some(u) = self.cfg.unit(id) else { continue };
                if !u.active_on(dp.window.end) {
                    continue;
                }
                let done = states
                    .get(id)
                    .is_some_and(|s| s.submission.is_some() || s.waiver.is_some());
                if !done {
                    st.late.push(LateUnit {
                        unit: UnitRef {
                            id: u.id.clone(),
                            name: u.name.clone(),
                        },
                        due,
                        days_late: voice::days_after(due, today),
                        working_days_late: voice::working_days_after(self.cal, due, today),
                        notices: Vec::new(),
                        periods: Vec::new(),
                    });
                }
            }
            out.push(st);
        }
        Ok(out)
    }
}

pub(super) enum NoticeError {
    Store(StoreError),
    Other(String),
}

impl From<StoreError> for NoticeError {
    fn from(e: StoreError) -> NoticeError {
        NoticeError::Store(e)
    }
}
