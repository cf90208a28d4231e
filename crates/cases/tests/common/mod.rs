//! Builders for synthetic test cases. All data here is invented and non-graphic.
#![allow(dead_code)]

use custody_cases::case::Case;
use custody_cases::command::{Command, handle, open};
use custody_cases::error::CaseError;
use custody_cases::event::{ArmedConflict, CaseEvent, ConflictKind, Event};
use custody_cases::forensic::{
    Decision, DecisionStatus, Examination, ExaminationType, IdMethod, IdResult,
    IdentificationEvidence, MannerOfDeath, Recovery,
};
use custody_cases::geo::{LatLon, Place};
use custody_cases::ids::{IdEvidenceId, PersonRef, Tag};
use custody_cases::when::{Basis, Moment, TimeInterval, parse_date};
use time::UtcOffset;

pub fn b(s: &str) -> Basis {
    Basis::new(s).unwrap()
}

pub fn m(s: &str) -> Moment {
    s.parse().unwrap()
}

/// The whole UTC day `date`.
pub fn day(date: &str) -> TimeInterval {
    TimeInterval::day(parse_date_pub(date), UtcOffset::UTC, b("test record"))
}

pub fn parse_date_pub(date: &str) -> time::Date {
    parse_date(date).unwrap()
}

pub fn iv(a: &str, z: &str) -> TimeInterval {
    TimeInterval::between(m(a), m(z), b("test interval")).unwrap()
}

pub fn disc(lat: f64, lon: f64, r: f64) -> Place {
    Place::disc(LatLon::new(lat, lon).unwrap(), r, b("test place")).unwrap()
}

pub fn tag(s: &str) -> Tag {
    Tag::new(s).unwrap()
}

/// A new case opened at UTC, in an international armed conflict since 2022-02-24.
pub fn new_case() -> (Case, Vec<CaseEvent>) {
    let e = open(
        "TEST-CASE".parse().unwrap(),
        "Synthetic test case",
        Some(ArmedConflict {
            kind: ConflictKind::International,
            since: m("2022-02-24T00:00:00Z"),
            basis: "test".into(),
        }),
        UtcOffset::UTC,
        None,
    )
    .unwrap();
    (Case::open(&e).unwrap(), vec![e])
}

/// Handles `cmd`, applies its events and returns them; panics on error.
pub fn run(case: &mut Case, cmd: Command) -> Vec<Event> {
    match try_run(case, cmd) {
        Ok(e) => e,
        Err(e) => panic!("command failed: {e}"),
    }
}

pub fn try_run(case: &mut Case, cmd: Command) -> Result<Vec<Event>, CaseError> {
    let events = handle(case, cmd)?;
    for e in &events {
        case.apply(e).expect("handle validated the event");
    }
    Ok(events)
}

pub fn recovery(date: &str) -> Recovery {
    Recovery {
        time: day(date),
        place: disc(50.5415, 30.2289, 50.0),
        context: "surface, street".into(),
        team: "TEST-TEAM".into(),
        grave_position: None,
        photos: vec![],
        property: vec![],
    }
}

pub fn exam(date: &str) -> Examination {
    Examination {
        time: day(date),
        kind: ExaminationType::FullAutopsy,
        examiner: "test examiner".into(),
        findings: vec![],
        summary: String::new(),
        cause_of_death: Some("test cause".into()),
        manner_of_death: MannerOfDeath::Pending,
        samples: vec![],
        report: None,
    }
}

pub fn id_ev(method: IdMethod, date: &str) -> IdentificationEvidence {
    IdentificationEvidence {
        method,
        am_record: Some(PersonRef::new("AM-0001").unwrap()),
        result: IdResult::Match,
        analyst: "test analyst".into(),
        time: day(date),
        note: String::new(),
    }
}

pub fn decision(status: DecisionStatus, basis: &[&str], date: &str) -> Decision {
    Decision {
        status,
        person: Some(PersonRef::new("AM-0001").unwrap()),
        basis: basis
            .iter()
            .map(|s| IdEvidenceId::new(*s).unwrap())
            .collect(),
        board_ref: Some("TEST-BOARD-1".into()),
        secondary_combination_approved: false,
        time: day(date),
        decided_by: "test board".into(),
    }
}
