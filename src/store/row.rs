//! The stored shape of an event and its conversion to and from `Event`.
//!
//! Both backends use the same columns and encodings: instants as i64 epoch
//! seconds UTC, civil dates as 'YYYY-MM-DD' text, enums as lower-case text.
//! Does no IO.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;

use super::error::StoreError;
use super::model::{Action, CurrentState, Event, Facts, Key, Source, Subject};

/// The columns `EventRow` reads, in order (a macro, for `concat!`).
macro_rules! event_columns {
    () => {
        "id, obligation_id, period_key, unit_id, subject, action, received_on, received_at, \
         reference, due_on, note, actor, source, recorded_at"
    };
}
pub(crate) use event_columns;

/// The columns written on insert (all but `id`), in `Bind` order.
macro_rules! insert_columns {
    () => {
        "obligation_id, period_key, unit_id, subject, action, received_on, received_at, \
         reference, due_on, note, actor, source, recorded_at"
    };
}
pub(crate) use insert_columns;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    id: i64,
    obligation_id: String,
    period_key: String,
    unit_id: String,
    subject: String,
    action: String,
    received_on: Option<String>,
    received_at: Option<i64>,
    reference: Option<String>,
    due_on: Option<String>,
    note: Option<String>,
    actor: String,
    source: String,
    recorded_at: i64,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn date(value: Option<String>) -> Result<Option<Date>, StoreError> {
    value
        .map(|v| v.parse::<Date>().map_err(|_| corrupt("date", &v)))
        .transpose()
}

fn instant(value: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_second(value).map_err(|_| corrupt("instant", &value.to_string()))
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;

    fn try_from(r: EventRow) -> Result<Event, StoreError> {
        Ok(Event {
            id: r.id,
            subject: Subject::parse(&r.subject).ok_or_else(|| corrupt("subject", &r.subject))?,
            action: Action::parse(&r.action).ok_or_else(|| corrupt("action", &r.action))?,
            source: Source::parse(&r.source).ok_or_else(|| corrupt("source", &r.source))?,
            key: Key {
                obligation: r.obligation_id,
                period: r.period_key,
                unit: r.unit_id,
            },
            received_on: date(r.received_on)?,
            received_at: r.received_at.map(instant).transpose()?,
            reference: r.reference,
            due_on: date(r.due_on)?,
            note: r.note,
            actor: r.actor,
            recorded_at: instant(r.recorded_at)?,
        })
    }
}

pub(crate) fn events(rows: Vec<EventRow>) -> Result<Vec<Event>, StoreError> {
    rows.into_iter().map(Event::try_from).collect()
}

/// The values bound for one insert, in `insert_columns!()` order.
pub(crate) struct Bind<'a> {
    pub obligation_id: &'a str,
    pub period_key: &'a str,
    pub unit_id: &'a str,
    pub subject: &'static str,
    pub action: &'static str,
    pub received_on: Option<String>,
    pub received_at: Option<i64>,
    pub reference: Option<&'a str>,
    pub due_on: Option<String>,
    pub note: Option<&'a str>,
    pub actor: &'a str,
    pub source: &'static str,
    pub recorded_at: i64,
}

impl<'a> Bind<'a> {
    pub(crate) fn of(e: &'a Event) -> Bind<'a> {
        Bind {
            obligation_id: &e.key.obligation,
            period_key: &e.key.period,
            unit_id: &e.key.unit,
            subject: e.subject.as_str(),
            action: e.action.as_str(),
            received_on: e.received_on.map(|d| d.to_string()),
            received_at: e.received_at.map(|t| t.as_second()),
            reference: e.reference.as_deref(),
            due_on: e.due_on.map(|d| d.to_string()),
            note: e.note.as_deref(),
            actor: &e.actor,
            source: e.source.as_str(),
            recorded_at: e.recorded_at.as_second(),
        }
    }
}

/// One latest event of the `current` query, as the JSON array the database
/// aggregates it into: (id, unit_id, subject, action, received_on,
/// received_at, reference, due_on, note, actor, source, recorded_at).
///
/// The status read returns tens of thousands of rows; shipping them as one
/// JSON document built in the database is an order of magnitude faster than
/// sqlx's per-row decoding (measured in `benches/store.rs`).
type CurrentTuple = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    i64,
);

/// Parses the aggregated latest events of one obligation and period and
/// folds them into one state per unit, ordered by unit id, leaving out
/// units with nothing in effect.
pub(crate) fn current_from_json(
    obligation: &str,
    period: &str,
    json: &str,
) -> Result<Vec<CurrentState>, StoreError> {
    let tuples: Vec<CurrentTuple> = serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("current-state document: {e}")))?;
    let mut states: Vec<CurrentState> = Vec::new();
    let mut slots: HashMap<String, usize> = HashMap::with_capacity(tuples.len());
    for t in tuples {
        // The key's obligation and period are the query's: not repeated per row.
        let e = Event::try_from(EventRow {
            id: t.0,
            obligation_id: String::new(),
            period_key: String::new(),
            unit_id: t.1,
            subject: t.2,
            action: t.3,
            received_on: t.4,
            received_at: t.5,
            reference: t.6,
            due_on: t.7,
            note: t.8,
            actor: t.9,
            source: t.10,
            recorded_at: t.11,
        })?;
        let slot = match slots.get(&e.key.unit) {
            Some(&slot) => slot,
            None => {
                slots.insert(e.key.unit.clone(), states.len());
                states.push(CurrentState::empty(Key::new(
                    obligation,
                    period,
                    e.key.unit.clone(),
                )));
                states.len() - 1
            }
        };
        states[slot].apply_latest(e);
    }
    states.retain(|s| !s.is_empty());
    states.sort_unstable_by(|a, b| a.key.unit.cmp(&b.key.unit));
    Ok(states)
}

/// One latest, non-revoked event of the `facts` query, as aggregated by the
/// database: (period_key, unit_id, subject, received_on, reference, due_on).
type FactTuple = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Folds the aggregated latest events of periods of one obligation into
/// one `Facts` per unit with something in effect: for each of `periods`,
/// in that order, its facts ordered by unit id.
pub(crate) fn facts_from_json(
    obligation: &str,
    periods: &[String],
    json: &str,
) -> Result<Vec<Vec<Facts>>, StoreError> {
    let mut tuples: Vec<FactTuple> = serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("facts document: {e}")))?;
    tuples.sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut by_period: HashMap<String, Vec<Facts>> = HashMap::new();
    for (period, unit, subject, received_on, reference, due_on) in tuples {
        let out = by_period.entry(period.clone()).or_default();
        if out.last().is_none_or(|f: &Facts| f.key.unit != unit) {
            out.push(Facts::empty(Key::new(obligation, period, unit)));
        }
        let f = out.last_mut().expect("pushed above");
        match Subject::parse(&subject).ok_or_else(|| corrupt("subject", &subject))? {
            Subject::Submission => {
                f.submitted_on = date(received_on)?;
                f.reference = reference;
            }
            Subject::Extension => f.extended_until = date(due_on)?,
            Subject::Waiver => f.waived = true,
        }
    }
    let mut out = Vec::with_capacity(periods.len());
    for (i, p) in periods.iter().enumerate() {
        // A period asked twice gets its facts twice.
        let facts = match periods[i + 1..].contains(p) {
            true => by_period.get(p).cloned(),
            false => by_period.remove(p),
        };
        out.push(facts.unwrap_or_default());
    }
    Ok(out)
}
