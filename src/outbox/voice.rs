//! Who speaks to whom: the speaker of an obligation's notices (its
//! directive's sender, contact, submission and citation), the register
//! toward an addressee (a request to a peer, a report upward, a note inside
//! the speaking agency), why an escalation's addressee is told (head,
//! supervisor, recipient, fixed address), and the period in words.
//!
//! Pure: reads only the configuration. The dispatcher and the digest build
//! their notices with it.

use jiff::civil::Date;

use crate::calendar::WorkCalendar;
use crate::config::model::{Config, Language, Obligation, Recipient, Unit};
use crate::mail::{self, ObligationRef, PeriodRef, Register, Role, Speaker};
use crate::planner::PeriodKey;

/// The obligation as notices name it.
pub fn obligation_ref(ob: &Obligation) -> ObligationRef {
    ObligationRef {
        id: ob.id.clone(),
        title: ob.title.clone(),
        short: mail::short_title(&ob.title, ob.short_title.as_deref()),
        legal_basis: ob.legal_basis.clone(),
    }
}

/// The period in words, never its key: "6 tháng đầu năm 2026", "quý III
/// năm 2026", "tháng 5 năm 2026" ("first half of 2026", "Q3 2026", "May
/// 2026"), "tuần 23 năm 2026 (01/06–07/06/2026)", "10 ngày giữa tháng 5 năm
/// 2026" (`PeriodKey::label_vi`); a one-off report is "đợt báo cáo một
/// lần" ("one-off report").
pub fn period_ref(key: &str, language: Language) -> PeriodRef {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const ROMAN: [&str; 4] = ["I", "II", "III", "IV"];
    let en = language == Language::En;
    let label = match (PeriodKey::parse(key), en) {
        (Ok(PeriodKey::Year { year }), false) => format!("năm {year}"),
        (Ok(PeriodKey::Year { year }), true) => format!("the year {year}"),
        (Ok(PeriodKey::Half { year, half: 1 }), false) => format!("6 tháng đầu năm {year}"),
        (Ok(PeriodKey::Half { year, half: 1 }), true) => format!("the first half of {year}"),
        (Ok(PeriodKey::Half { year, .. }), false) => format!("6 tháng cuối năm {year}"),
        (Ok(PeriodKey::Half { year, .. }), true) => format!("the second half of {year}"),
        (Ok(PeriodKey::Quarter { year, quarter }), false) => {
            let q = ROMAN
                .get(usize::try_from(quarter - 1).unwrap_or(9))
                .copied();
            format!("quý {} năm {year}", q.unwrap_or("?"))
        }
        (Ok(PeriodKey::Quarter { year, quarter }), true) => format!("Q{quarter} {year}"),
        (Ok(PeriodKey::NineMonths { year }), false) => format!("9 tháng năm {year}"),
        (Ok(PeriodKey::NineMonths { year }), true) => format!("the first nine months of {year}"),
        (Ok(PeriodKey::Month { year, month }), false) => format!("tháng {month} năm {year}"),
        (Ok(PeriodKey::Month { year, month }), true) => {
            let m = MONTHS
                .get(usize::try_from(month - 1).unwrap_or(99))
                .copied();
            format!("{} {year}", m.unwrap_or("?"))
        }
        (Ok(PeriodKey::Day { year, month, day }), true) => {
            format!("the day {day:02}/{month:02}/{year:04}")
        }
        (Ok(k @ PeriodKey::Week { year, week }), true) => {
            // "week 23 of 2026 (01/06–07/06/2026)": the dates from the
            // Vietnamese label, which carries them in parentheses.
            let dates = k
                .label_vi()
                .and_then(|l| l.split_once(" (").map(|(_, d)| d.to_string()))
                .unwrap_or_default();
            format!("week {week} of {year} ({dates}")
        }
        (Ok(PeriodKey::TenDays { year, month, part }), true) => {
            let m = MONTHS.get(usize::try_from(month - 1).unwrap_or(99));
            let which = ["first", "second", "last"].get(usize::try_from(part - 1).unwrap_or(9));
            format!(
                "the {} ten days of {} {year}",
                which.copied().unwrap_or("?"),
                m.copied().unwrap_or("?")
            )
        }
        (Ok(PeriodKey::HalfMonth { year, month, half }), true) => {
            let m = MONTHS.get(usize::try_from(month - 1).unwrap_or(99));
            let which = if half == 1 { "first" } else { "second" };
            format!("the {which} half of {} {year}", m.copied().unwrap_or("?"))
        }
        (Ok(k), false) if k.label_vi().is_some() => k.label_vi().unwrap_or_default(),
        (_, false) => "đợt báo cáo một lần".to_string(),
        (_, true) => "the one-off report".to_string(),
    };
    PeriodRef {
        key: key.to_string(),
        label,
    }
}

/// The unit that speaks for the obligation, if configured.
fn agency<'c>(cfg: &'c Config, ob: &Obligation) -> Option<&'c Unit> {
    ob.voice.sender.as_ref().and_then(|s| cfg.unit(&s.agency))
}

/// Who speaks in the obligation's notices. Without a configured sender,
/// the display name of `mail.from` (else its address).
pub fn speaker(cfg: &Config, ob: &Obligation) -> Speaker {
    let agency = match agency(cfg, ob) {
        Some(u) => u.name.clone(),
        None => match mail::render::parse_mailbox(&cfg.mail.from) {
            Ok(m) => m.name.unwrap_or_else(|| m.email.to_string()),
            Err(_) => cfg.mail.from.clone(),
        },
    };
    Speaker {
        agency,
        office: ob.voice.sender.as_ref().and_then(|s| s.office.clone()),
        contact: ob.voice.contact.clone(),
        submit_to: ob.voice.submission.as_ref().map(|s| s.to.clone()),
        submit_how: ob.voice.submission.as_ref().map(|s| s.how.clone()),
        basis: ob.voice.basis.clone(),
    }
}

/// The obligation whose agency speaks for the whole configuration (the
/// digest's sender, the dashboard's name): the first with a configured
/// sender, else the first.
pub fn coordinating_obligation(cfg: &Config) -> Option<&Obligation> {
    cfg.obligations
        .iter()
        .find(|o| o.voice.sender.is_some())
        .or(cfg.obligations.first())
}

/// Who speaks for the whole configuration (see [`coordinating_obligation`]).
pub fn coordinator(cfg: &Config) -> Speaker {
    coordinating_obligation(cfg)
        .map(|o| speaker(cfg, o))
        .unwrap_or_default()
}

/// Whether `unit` is above `of`: in its supervisor chain.
fn above(cfg: &Config, unit: &str, of: &str) -> bool {
    let mut at = cfg.unit(of).and_then(|u| u.supervisor.as_deref());
    let mut steps = 0;
    while let Some(s) = at {
        if s == unit {
            return true;
        }
        steps += 1;
        if steps > cfg.units.len() {
            return false;
        }
        at = cfg.unit(s).and_then(|u| u.supervisor.as_deref());
    }
    false
}

/// How the speaker of `ob` stands to the unit `unit`: its own agency
/// (internal), a body above it or a People's Council (upward), or any other
/// unit (peer).
pub fn register_for_unit(cfg: &Config, ob: &Obligation, unit: &str) -> Register {
    let Some(a) = agency(cfg, ob) else {
        return Register::Peer;
    };
    if a.id == unit {
        Register::Internal
    } else if above(cfg, unit, &a.id)
        || cfg.units.iter().any(|u| u.council.as_deref() == Some(unit))
    {
        Register::Upward
    } else {
        Register::Peer
    }
}

/// How the speaker of `ob` stands to the mailbox `address`: the register
/// of the unit it belongs to; the head of the speaking agency is inside it
/// (internal); the head of another unit, or an address of no unit, a peer.
pub fn register_for_address(cfg: &Config, ob: &Obligation, address: &str) -> Register {
    if let Some(u) = cfg
        .units
        .iter()
        .find(|u| u.emails.iter().any(|e| e == address))
    {
        return register_for_unit(cfg, ob, &u.id);
    }
    let own_head = agency(cfg, ob)
        .and_then(|a| a.head.as_ref())
        .is_some_and(|h| h.email == address);
    if own_head {
        Register::Internal
    } else {
        Register::Peer
    }
}

/// The unit the report of `unit` goes to (the obligation's recipient).
pub fn recipient_unit<'c>(cfg: &'c Config, ob: &Obligation, unit: &Unit) -> Option<&'c Unit> {
    let id = match &ob.recipient {
        Recipient::Unit(id) => Some(id.as_str()),
        Recipient::ReporterCouncil => unit.council.as_deref(),
        Recipient::ReporterSupervisor => unit.supervisor.as_deref(),
    };
    id.and_then(|id| cfg.unit(id))
}

/// Why `address` is told that `unit` is late with `ob`: its head, its
/// supervisor, the recipient of its report, or an address the stage names.
pub fn role(cfg: &Config, ob: &Obligation, unit: &Unit, address: &str) -> Role {
    if unit.head.as_ref().is_some_and(|h| h.email == address) {
        return Role::Head;
    }
    let mailbox_of = |id: Option<&str>| {
        id.and_then(|id| cfg.unit(id))
            .is_some_and(|u| u.emails.iter().any(|e| e == address))
    };
    if mailbox_of(unit.supervisor.as_deref()) {
        Role::Supervisor
    } else if recipient_unit(cfg, ob, unit).is_some_and(|r| r.emails.iter().any(|e| e == address)) {
        Role::Recipient
    } else {
        Role::Address
    }
}

/// Working days in `(from, to]`.
pub fn working_days_after(cal: &WorkCalendar, from: Date, to: Date) -> u32 {
    match from.tomorrow() {
        Ok(next) if next <= to && cal.covers(next) && cal.covers(to) => {
            u32::try_from(cal.working_days_between(next, to)).unwrap_or(u32::MAX)
        }
        _ => 0,
    }
}

/// Calendar days from `from` to `to`, 0 when `to` is earlier.
pub fn days_after(from: Date, to: Date) -> u32 {
    u32::try_from((to - from).get_days().max(0)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_in_words() {
        let vi = |k: &str| period_ref(k, Language::Vi).label;
        let en = |k: &str| period_ref(k, Language::En).label;
        assert_eq!(vi("2026-H1"), "6 tháng đầu năm 2026");
        assert_eq!(vi("2026-H2"), "6 tháng cuối năm 2026");
        assert_eq!(vi("2026-Q3"), "quý III năm 2026");
        assert_eq!(vi("2026-05"), "tháng 5 năm 2026");
        assert_eq!(vi("2026-9M"), "9 tháng năm 2026");
        assert_eq!(vi("2026"), "năm 2026");
        assert_eq!(vi("dot-xuat-2026"), "đợt báo cáo một lần");
        assert_eq!(en("2026-H1"), "the first half of 2026");
        assert_eq!(en("2026-Q3"), "Q3 2026");
        assert_eq!(en("2026-05"), "May 2026");
        assert_eq!(en("2026"), "the year 2026");
    }
}
