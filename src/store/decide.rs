//! What a write means given what is already in effect: pure rules shared by
//! both backends, so SQLite and PostgreSQL cannot disagree.
//!
//! No IO here: the backends read the latest event of a (key, subject) inside
//! their write transaction, ask this module, and append what it returns.

use jiff::Timestamp;

use super::error::StoreError;
use super::model::{
    Action, Event, Key, NewExtension, NewSubmission, NewWaiver, Revocation, Subject,
};

/// What to do with a write request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Append this event (its id is assigned on insert).
    Insert(Event),
    /// Nothing to write: this event already says the same thing.
    Already(Event),
}

/// Stored instants have one-second resolution; round down so that what is
/// compared is what is stored.
fn to_second(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// Empty or blank optional text is stored as absent.
fn clean(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn required(field: &'static str, value: &str) -> Result<String, StoreError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(StoreError::Invalid {
            field,
            reason: "must not be empty".into(),
        });
    }
    Ok(v.to_owned())
}

fn check_key(key: &Key) -> Result<(), StoreError> {
    for (field, v) in [
        ("obligation", &key.obligation),
        ("period", &key.period),
        ("unit", &key.unit),
    ] {
        if v.trim().is_empty() || v.trim() != v {
            return Err(StoreError::Invalid {
                field,
                reason: format!("{v:?} must be non-empty, without surrounding spaces"),
            });
        }
    }
    Ok(())
}

/// An event that is in effect (not a revocation).
fn active(latest: Option<&Event>) -> Option<&Event> {
    latest.filter(|e| e.action != Action::Revoke)
}

pub(crate) fn submission_event(s: &NewSubmission, now: Timestamp) -> Result<Event, StoreError> {
    check_key(&s.key)?;
    Ok(Event {
        id: 0,
        key: s.key.clone(),
        subject: Subject::Submission,
        action: if s.correction {
            Action::Correct
        } else {
            Action::Submit
        },
        received_on: Some(s.received_on),
        received_at: s.received_at.map(to_second),
        reference: clean(&s.reference),
        due_on: None,
        note: clean(&s.note),
        actor: required("actor", &s.actor)?,
        source: s.source,
        recorded_at: to_second(now),
    })
}

/// Same report: same date, time, document number and note. Who recorded it
/// and how does not matter, so re-importing a file already typed in is a no-op.
fn same_submission(a: &Event, b: &Event) -> bool {
    a.received_on == b.received_on
        && a.received_at == b.received_at
        && a.reference == b.reference
        && a.note == b.note
}

/// `latest` is the latest submission event of the key, if any.
pub(crate) fn submission(
    latest: Option<&Event>,
    s: &NewSubmission,
    now: Timestamp,
) -> Result<Decision, StoreError> {
    let new = submission_event(s, now)?;
    decide_submission_event(latest, new)
}

pub(crate) fn decide_submission_event(
    latest: Option<&Event>,
    new: Event,
) -> Result<Decision, StoreError> {
    match active(latest) {
        Some(cur) if same_submission(cur, &new) => Ok(Decision::Already(cur.clone())),
        Some(_) if new.action == Action::Correct => Ok(Decision::Insert(new)),
        Some(cur) => Err(StoreError::Conflict {
            key: new.key,
            existing: Box::new(cur.clone()),
        }),
        None if new.action == Action::Correct => Err(StoreError::NothingToCorrect { key: new.key }),
        None => Ok(Decision::Insert(new)),
    }
}

/// A new grant with the same content as the one in effect is a no-op; a
/// different one supersedes it (an extension can be extended again).
pub(crate) fn extension(
    latest: Option<&Event>,
    x: &NewExtension,
    now: Timestamp,
) -> Result<Decision, StoreError> {
    check_key(&x.key)?;
    let new = Event {
        id: 0,
        key: x.key.clone(),
        subject: Subject::Extension,
        action: Action::Grant,
        received_on: None,
        received_at: None,
        reference: None,
        due_on: Some(x.until),
        note: Some(required("reason", &x.reason)?),
        actor: required("actor", &x.actor)?,
        source: x.source,
        recorded_at: to_second(now),
    };
    Ok(match active(latest) {
        Some(cur) if cur.due_on == new.due_on && cur.note == new.note => {
            Decision::Already(cur.clone())
        }
        _ => Decision::Insert(new),
    })
}

pub(crate) fn waiver(
    latest: Option<&Event>,
    w: &NewWaiver,
    now: Timestamp,
) -> Result<Decision, StoreError> {
    check_key(&w.key)?;
    let new = Event {
        id: 0,
        key: w.key.clone(),
        subject: Subject::Waiver,
        action: Action::Grant,
        received_on: None,
        received_at: None,
        reference: None,
        due_on: None,
        note: Some(required("reason", &w.reason)?),
        actor: required("actor", &w.actor)?,
        source: w.source,
        recorded_at: to_second(now),
    };
    Ok(match active(latest) {
        Some(cur) if cur.note == new.note => Decision::Already(cur.clone()),
        _ => Decision::Insert(new),
    })
}

/// Revoking what is already revoked is a no-op; revoking what never existed
/// is an error (most likely a wrong key).
pub(crate) fn revocation(
    latest: Option<&Event>,
    r: &Revocation,
    now: Timestamp,
) -> Result<Decision, StoreError> {
    check_key(&r.key)?;
    let new = Event {
        id: 0,
        key: r.key.clone(),
        subject: r.subject,
        action: Action::Revoke,
        received_on: None,
        received_at: None,
        reference: None,
        due_on: None,
        note: clean(&r.reason),
        actor: required("actor", &r.actor)?,
        source: r.source,
        recorded_at: to_second(now),
    };
    match latest {
        None => Err(StoreError::NothingToRevoke {
            key: r.key.clone(),
            subject: r.subject,
        }),
        Some(cur) if cur.action == Action::Revoke => Ok(Decision::Already(cur.clone())),
        Some(_) => Ok(Decision::Insert(new)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::Source;
    use jiff::civil::date;

    fn sub(reference: &str, correction: bool) -> NewSubmission {
        NewSubmission {
            key: Key::new("o", "2026-Q1", "u"),
            received_on: date(2026, 4, 10),
            received_at: None,
            reference: Some(reference.into()),
            note: None,
            actor: "chị Lan".into(),
            source: Source::Cli,
            correction,
        }
    }

    fn stored(s: &NewSubmission) -> Event {
        let mut e = submission_event(s, Timestamp::UNIX_EPOCH).unwrap();
        e.id = 7;
        e
    }

    #[test]
    fn submission_rules() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let first = stored(&sub("12/BC", false));
        // Nothing yet: submit inserts, correct is refused.
        assert!(matches!(
            submission(None, &sub("12/BC", false), now),
            Ok(Decision::Insert(_))
        ));
        assert!(matches!(
            submission(None, &sub("12/BC", true), now),
            Err(StoreError::NothingToCorrect { .. })
        ));
        // Same content, other actor: already recorded.
        let mut again = sub("12/BC", false);
        again.actor = "anh Minh".into();
        assert_eq!(
            submission(Some(&first), &again, now).unwrap(),
            Decision::Already(first.clone())
        );
        // Different content: conflict unless a correction.
        assert!(matches!(
            submission(Some(&first), &sub("13/BC", false), now),
            Err(StoreError::Conflict { .. })
        ));
        assert!(matches!(
            submission(Some(&first), &sub("13/BC", true), now),
            Ok(Decision::Insert(Event {
                action: Action::Correct,
                ..
            }))
        ));
        // After a revocation a new submission is accepted.
        let mut revoked = first.clone();
        revoked.action = Action::Revoke;
        assert!(matches!(
            submission(Some(&revoked), &sub("13/BC", false), now),
            Ok(Decision::Insert(_))
        ));
    }

    #[test]
    fn blank_actor_and_padded_ids_are_refused() {
        let now = Timestamp::UNIX_EPOCH;
        let mut s = sub("1", false);
        s.actor = "  ".into();
        assert!(matches!(
            submission(None, &s, now),
            Err(StoreError::Invalid { field: "actor", .. })
        ));
        let mut s = sub("1", false);
        s.key.unit = " u".into();
        assert!(matches!(
            submission(None, &s, now),
            Err(StoreError::Invalid { field: "unit", .. })
        ));
    }

    #[test]
    fn revocation_rules() {
        let now = Timestamp::UNIX_EPOCH;
        let r = Revocation {
            key: Key::new("o", "p", "u"),
            subject: Subject::Waiver,
            reason: None,
            actor: "a".into(),
            source: Source::Cli,
        };
        assert!(matches!(
            revocation(None, &r, now),
            Err(StoreError::NothingToRevoke { .. })
        ));
        let granted = waiver(
            None,
            &NewWaiver {
                key: r.key.clone(),
                reason: "sáp nhập".into(),
                actor: "a".into(),
                source: Source::Cli,
            },
            now,
        )
        .unwrap();
        let Decision::Insert(granted) = granted else {
            panic!("expected insert")
        };
        let Decision::Insert(rev) = revocation(Some(&granted), &r, now).unwrap() else {
            panic!("expected insert")
        };
        assert_eq!(rev.action, Action::Revoke);
        assert_eq!(
            revocation(Some(&rev), &r, now).unwrap(),
            Decision::Already(rev)
        );
    }
}
