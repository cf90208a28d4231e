//! The state of a case, built by applying its events in order.
//!
//! [`Case::apply`] checks an event against the current state before changing anything:
//! unknown references, reused identifiers and illegal workflow steps are refused with a
//! [`CaseError`], and the state is left as it was. Replaying a ledger therefore either
//! rebuilds the case exactly or stops at the first inconsistent event.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::UtcOffset;

use crate::claims::{Claim, SignOff};
use crate::context::ControlPeriod;
use crate::crimes::definition;
use crate::error::{CaseError, Result};
use crate::event::{ArmedConflict, CaseEvent, EVENT_VERSION, Event};
use crate::evidence::{Evidence, Observation};
use crate::forensic::{Remains, RemainsRecord, TagChange};
use crate::geo::Place;
use crate::ids::{
    CaseId, ClaimId, ControlPeriodId, EvidenceId, IncidentId, ObservationId, PlaceId, Pseudonym,
    Tag,
};
use crate::incident::{HeldLink, Incident};
use crate::when::parse_offset;
use crate::witness::{ConsentRecord, Testimony, Witness};

/// A named place of the case.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct NamedPlace {
    pub id: PlaceId,
    pub name: String,
    pub place: Place,
}

/// An observation with its supersession, if any.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct HeldObservation {
    pub observation: Observation,
    pub superseded: Option<(Option<ObservationId>, String)>,
}

/// Sequence counters for allocated identifiers. They only grow.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize)]
pub struct Counters {
    pub incidents: u64,
    pub observations: u64,
    pub examinations: u64,
    pub id_evidence: u64,
    pub decisions: u64,
    pub consents: u64,
    pub witnesses: u32,
    pub evidence: u64,
    pub claims: u64,
    pub places: u64,
    pub control_periods: u64,
}

/// The state of one case.
#[derive(Clone, PartialEq, Debug)]
pub struct Case {
    pub id: CaseId,
    pub title: String,
    pub armed_conflict: Option<ArmedConflict>,
    pub local_offset: UtcOffset,
    pub notice: Option<String>,
    pub places: BTreeMap<PlaceId, NamedPlace>,
    pub control_periods: BTreeMap<ControlPeriodId, ControlPeriod>,
    pub evidence: BTreeMap<EvidenceId, Evidence>,
    pub observations: BTreeMap<ObservationId, HeldObservation>,
    pub incidents: BTreeMap<IncidentId, Incident>,
    pub claims: BTreeMap<ClaimId, Claim>,
    pub signoffs: Vec<SignOff>,
    pub remains: BTreeMap<Tag, Remains>,
    /// Retired tag numbers and the tag that replaced each.
    pub retired_tags: BTreeMap<Tag, Tag>,
    pub witnesses: BTreeMap<Pseudonym, Witness>,
    pub testimonies: BTreeMap<EvidenceId, Testimony>,
    pub counters: Counters,
    /// How many events built this state.
    pub events_applied: u64,
}

fn max_seq(counter: &mut u64, id: &str, prefix: &str) {
    if let Some(rest) = id.strip_prefix(prefix) {
        if let Ok(n) = rest.parse::<u64>() {
            *counter = (*counter).max(n);
        }
    }
}

impl Case {
    /// Builds a case from its events; the first must be `case_opened`.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a CaseEvent>) -> Result<Case> {
        let mut it = events.into_iter();
        let first = it.next().ok_or(CaseError::NotOpened)?;
        let mut case = Case::open(first)?;
        for e in it {
            case.apply_versioned(e)?;
        }
        Ok(case)
    }

    /// The state after the first event, which must open the case.
    pub fn open(e: &CaseEvent) -> Result<Case> {
        if e.v != EVENT_VERSION {
            return Err(CaseError::UnsupportedVersion(e.v, EVENT_VERSION));
        }
        let Event::CaseOpened {
            title,
            armed_conflict,
            local_offset,
            notice,
        } = &e.event
        else {
            return Err(CaseError::NotOpened);
        };
        let offset = parse_offset(local_offset).ok_or_else(|| {
            CaseError::Invalid(format!(
                "local_offset {local_offset:?} is not a UTC offset such as +03:00"
            ))
        })?;
        Ok(Case {
            id: e.case.clone(),
            title: title.clone(),
            armed_conflict: armed_conflict.clone(),
            local_offset: offset,
            notice: notice.clone(),
            places: BTreeMap::new(),
            control_periods: BTreeMap::new(),
            evidence: BTreeMap::new(),
            observations: BTreeMap::new(),
            incidents: BTreeMap::new(),
            claims: BTreeMap::new(),
            signoffs: Vec::new(),
            remains: BTreeMap::new(),
            retired_tags: BTreeMap::new(),
            witnesses: BTreeMap::new(),
            testimonies: BTreeMap::new(),
            counters: Counters::default(),
            events_applied: 1,
        })
    }

    /// The last instant of `date` at the case's offset: what "as of 3 April" means.
    pub fn end_of_day(&self, date: time::Date) -> crate::when::Moment {
        crate::when::Moment::of_day(date, self.local_offset, crate::when::DayEnd::End)
    }

    /// Applies an event read from the ledger (version and case checked).
    pub fn apply_versioned(&mut self, e: &CaseEvent) -> Result<()> {
        if e.v != EVENT_VERSION {
            return Err(CaseError::UnsupportedVersion(e.v, EVENT_VERSION));
        }
        if e.case != self.id {
            return Err(CaseError::WrongCase {
                expected: self.id.to_string(),
                found: e.case.to_string(),
            });
        }
        self.apply(&e.event)
    }

    pub fn evidence_exists(&self, id: &EvidenceId) -> Result<&Evidence> {
        self.evidence.get(id).ok_or_else(|| {
            CaseError::unknown_hint("evidence", id, "register the evidence record first")
        })
    }

    fn incident_mut(&mut self, id: &IncidentId) -> Result<&mut Incident> {
        self.incidents
            .get_mut(id)
            .ok_or_else(|| CaseError::unknown("incident", id))
    }

    /// The remains under `tag`, explaining retired tags.
    pub fn remains_by_tag(&self, tag: &Tag) -> Result<&Remains> {
        if let Some(new) = self.retired_tags.get(tag) {
            return Err(CaseError::TagRetired {
                tag: tag.to_string(),
                replaced_by: new.to_string(),
            });
        }
        self.remains
            .get(tag)
            .ok_or_else(|| CaseError::unknown_hint("remains", tag, "record their recovery first"))
    }

    fn tag_is_free(&self, tag: &Tag) -> Result<()> {
        if let Some(new) = self.retired_tags.get(tag) {
            return Err(CaseError::TagRetired {
                tag: tag.to_string(),
                replaced_by: new.to_string(),
            });
        }
        if self.remains.contains_key(tag) {
            return Err(CaseError::duplicate("tag number", tag));
        }
        Ok(())
    }

    /// Observations in force (not superseded).
    pub fn active_observations(&self) -> impl Iterator<Item = &Observation> {
        self.observations
            .values()
            .filter(|o| o.superseded.is_none())
            .map(|o| &o.observation)
    }

    /// Checks `event` against the state and applies it; on error nothing changes.
    pub fn apply(&mut self, event: &Event) -> Result<()> {
        match event {
            Event::CaseOpened { .. } => return Err(CaseError::AlreadyOpened(self.id.to_string())),
            Event::PlaceDefined { id, name, place } => {
                if self.places.contains_key(id) {
                    return Err(CaseError::duplicate("place", id));
                }
                max_seq(&mut self.counters.places, id.as_str(), "PL-");
                self.places.insert(
                    id.clone(),
                    NamedPlace {
                        id: id.clone(),
                        name: name.clone(),
                        place: place.clone(),
                    },
                );
            }
            Event::ControlPeriodRecorded { period } => {
                if self.control_periods.contains_key(&period.id) {
                    return Err(CaseError::duplicate("control period", &period.id));
                }
                if let Some(p) = &period.place_ref {
                    if !self.places.contains_key(p) {
                        return Err(CaseError::unknown("place", p));
                    }
                }
                if period.controller.trim().is_empty() {
                    return Err(CaseError::Invalid(format!(
                        "control period {} needs a controller",
                        period.id
                    )));
                }
                max_seq(
                    &mut self.counters.control_periods,
                    period.id.as_str(),
                    "CP-",
                );
                self.control_periods
                    .insert(period.id.clone(), period.clone());
            }
            Event::EvidenceRegistered { evidence } => {
                if self.evidence.contains_key(&evidence.id) {
                    return Err(CaseError::duplicate("evidence", &evidence.id));
                }
                if evidence.source.trim().is_empty() {
                    return Err(CaseError::Invalid(format!(
                        "evidence {} needs a source",
                        evidence.id
                    )));
                }
                // Remains a summary covers may be recorded later; they are resolved when
                // the check runs, and unknown tags are reported there.
                max_seq(&mut self.counters.evidence, evidence.id.as_str(), "EV-");
                self.evidence.insert(evidence.id.clone(), evidence.clone());
            }
            Event::EvidenceItemLinked { evidence, item } => {
                let ev = self.evidence.get_mut(evidence).ok_or_else(|| {
                    CaseError::unknown_hint(
                        "evidence",
                        evidence,
                        "register the evidence record first",
                    )
                })?;
                if let Some(old) = ev.item {
                    if old != *item {
                        return Err(CaseError::Invalid(format!(
                            "evidence {evidence} is already linked to {old}; register a new evidence record for {item}"
                        )));
                    }
                }
                ev.item = Some(*item);
            }
            Event::ObservationRecorded { observation } => {
                if self.observations.contains_key(&observation.id) {
                    return Err(CaseError::duplicate("observation", &observation.id));
                }
                self.evidence_exists(&observation.evidence)?;
                for e in &observation.derived_from {
                    self.evidence_exists(e)?;
                }
                if let Some(i) = &observation.interpretation {
                    for e in &i.corroborated_by {
                        self.evidence_exists(e)?;
                    }
                }
                if observation.shows.trim().is_empty() {
                    return Err(CaseError::Invalid(format!(
                        "observation {} must say what the item shows",
                        observation.id
                    )));
                }
                max_seq(
                    &mut self.counters.observations,
                    observation.id.as_str(),
                    "OB-",
                );
                self.observations.insert(
                    observation.id.clone(),
                    HeldObservation {
                        observation: observation.clone(),
                        superseded: None,
                    },
                );
            }
            Event::ObservationSuperseded {
                observation,
                by,
                reason,
            } => {
                if let Some(b) = by {
                    if !self.observations.contains_key(b) {
                        return Err(CaseError::unknown("observation", b));
                    }
                }
                let held = self
                    .observations
                    .get_mut(observation)
                    .ok_or_else(|| CaseError::unknown("observation", observation))?;
                if held.superseded.is_some() {
                    return Err(CaseError::Invalid(format!(
                        "observation {observation} is already superseded"
                    )));
                }
                held.superseded = Some((by.clone(), reason.clone()));
            }
            Event::IncidentAdded { incident, draft } => {
                if self.incidents.contains_key(incident) {
                    return Err(CaseError::duplicate("incident", incident));
                }
                max_seq(&mut self.counters.incidents, incident.as_str(), "INC-");
                self.incidents.insert(
                    incident.clone(),
                    Incident {
                        id: incident.clone(),
                        draft: draft.clone(),
                        crimes: Vec::new(),
                        evidence: BTreeSet::new(),
                        links: Vec::new(),
                    },
                );
            }
            Event::IncidentCrimeAdded { incident, crime } => {
                let inc = self.incident_mut(incident)?;
                if inc.crimes.contains(crime) {
                    return Err(CaseError::Invalid(format!(
                        "{crime} is already a candidate crime of {incident}"
                    )));
                }
                inc.crimes.push(crime.clone());
            }
            Event::IncidentEvidenceLinked { incident, evidence } => {
                self.evidence_exists(evidence)?;
                let inc = self.incident_mut(incident)?;
                if !inc.evidence.insert(evidence.clone()) {
                    return Err(CaseError::Invalid(format!(
                        "{evidence} is already linked to {incident}"
                    )));
                }
            }
            Event::ElementEvidenceLinked { incident, link } => {
                self.evidence_exists(&link.evidence)?;
                let inc = self.incident_mut(incident)?;
                if !inc.crimes.contains(&link.crime) {
                    return Err(CaseError::Invalid(format!(
                        "{} is not a candidate crime of {incident}; add it first",
                        link.crime
                    )));
                }
                let def = definition(&link.crime);
                if def.element(&link.element).is_none() {
                    let ids: Vec<&str> = def.elements.iter().map(|e| e.id).collect();
                    return Err(CaseError::unknown_hint(
                        "element",
                        format!("{} of {}", link.element, link.crime),
                        &format!("its elements are {}", ids.join(", ")),
                    ));
                }
                if !inc.evidence.contains(&link.evidence) {
                    return Err(CaseError::Invalid(format!(
                        "{} is not linked to {incident}; link it to the incident first",
                        link.evidence
                    )));
                }
                if inc.active_links().any(|l| {
                    l.crime == link.crime
                        && l.element == link.element
                        && l.evidence == link.evidence
                }) {
                    return Err(CaseError::Invalid(format!(
                        "{} is already linked to element {} of {}; retract that link to change it",
                        link.evidence, link.element, link.crime
                    )));
                }
                inc.links.push(HeldLink {
                    link: link.clone(),
                    retracted: None,
                });
            }
            Event::ElementEvidenceRetracted {
                incident,
                crime,
                element,
                evidence,
                reason,
            } => {
                let inc = self.incident_mut(incident)?;
                let held = inc
                    .links
                    .iter_mut()
                    .find(|h| {
                        h.retracted.is_none()
                            && &h.link.crime == crime
                            && &h.link.element == element
                            && &h.link.evidence == evidence
                    })
                    .ok_or_else(|| {
                        CaseError::unknown(
                            "element link",
                            format!("{evidence} → {element} of {crime} in {incident}"),
                        )
                    })?;
                held.retracted = Some(reason.clone());
            }
            Event::ClaimRecorded { claim } => {
                if self.claims.contains_key(&claim.id) {
                    return Err(CaseError::duplicate("claim", &claim.id));
                }
                if let Some(s) = &claim.source_evidence {
                    self.evidence_exists(s)?;
                }
                max_seq(&mut self.counters.claims, claim.id.as_str(), "CL-");
                self.claims.insert(claim.id.clone(), claim.clone());
            }
            Event::ClaimResultSignedOff { signoff } => {
                if !self.claims.contains_key(&signoff.claim) {
                    return Err(CaseError::unknown("claim", &signoff.claim));
                }
                if signoff.by.trim().is_empty() {
                    return Err(CaseError::Invalid(
                        "a sign-off must name the analyst".into(),
                    ));
                }
                self.signoffs.push(signoff.clone());
            }
            Event::RemainsRecovered {
                tag,
                synthetic,
                recovery,
            } => {
                self.tag_is_free(tag)?;
                self.remains.insert(
                    tag.clone(),
                    Remains::recovered(tag.clone(), *synthetic, recovery.clone()),
                );
            }
            Event::RecoveryCorrected {
                tag,
                recovery,
                reason,
            } => {
                let r = self.remains_by_tag(tag)?;
                if reason.trim().is_empty() {
                    return Err(CaseError::Invalid(format!(
                        "a correction of the recovery of {tag} needs a reason"
                    )));
                }
                if let Some(first_record) = r
                    .records
                    .iter()
                    .filter_map(RemainsRecord::time)
                    .min_by_key(|t| t.latest())
                {
                    if first_record.latest() < recovery.time.earliest() {
                        return Err(CaseError::OutOfOrder {
                            record: format!("the corrected recovery of {tag}"),
                            date: recovery.time.to_string(),
                            before: format!("records already held ({first_record})"),
                        });
                    }
                }
                let r = self.remains.get_mut(tag).expect("checked above");
                r.correct_recovery(recovery.clone(), reason.clone());
            }
            Event::TagCorrected {
                tag,
                new_tag,
                reason,
            } => {
                self.remains_by_tag(tag)?;
                self.tag_is_free(new_tag)?;
                if reason.trim().is_empty() {
                    return Err(CaseError::Invalid(format!(
                        "a tag correction of {tag} needs a reason"
                    )));
                }
                let mut r = self.remains.remove(tag).expect("checked above");
                r.former_tags.push(TagChange {
                    tag: tag.clone(),
                    replaced_by: new_tag.clone(),
                    reason: reason.clone(),
                });
                r.tag = new_tag.clone();
                self.retired_tags.insert(tag.clone(), new_tag.clone());
                // Keep earlier retirements pointing at the current tag.
                for v in self.retired_tags.values_mut() {
                    if v == tag {
                        *v = new_tag.clone();
                    }
                }
                self.remains.insert(new_tag.clone(), r);
            }
            Event::RemainsRecorded { tag, record } => {
                self.check_record_ids(tag, record)?;
                let r = self.remains_by_tag(tag)?;
                let next = r.admit(record)?;
                let action = event.action();
                let r = self.remains.get_mut(tag).expect("checked above");
                r.append(record.clone(), next, action);
                self.bump_record_counters(record);
            }
            Event::WitnessRegistered {
                witness,
                sealed,
                registered_at,
                registered_by,
            } => {
                if self.witnesses.contains_key(witness)
                    || witness.number() <= self.counters.witnesses
                {
                    return Err(CaseError::Duplicate {
                        kind: "witness pseudonym",
                        id: format!(
                            "{witness} (pseudonyms are allocated in sequence and never reused; the next is {})",
                            Pseudonym::new(self.counters.witnesses + 1)
                        ),
                    });
                }
                if self.witnesses.values().any(|w| &w.sealed == sealed) {
                    return Err(CaseError::duplicate("sealed record reference", sealed));
                }
                self.counters.witnesses = witness.number();
                self.witnesses.insert(
                    *witness,
                    Witness {
                        pseudonym: *witness,
                        sealed: sealed.clone(),
                        registered_at: *registered_at,
                        registered_by: registered_by.clone(),
                        consents: Vec::new(),
                    },
                );
            }
            Event::ConsentRecorded {
                witness,
                id,
                consent,
            } => {
                if self
                    .witnesses
                    .values()
                    .flat_map(|w| &w.consents)
                    .any(|c| &c.id == id)
                {
                    return Err(CaseError::duplicate("consent", id));
                }
                if consent.uses.is_empty() {
                    return Err(CaseError::Invalid(format!(
                        "consent {id} must name at least one use"
                    )));
                }
                if let Some(d) = &consent.document {
                    self.evidence_exists(d)?;
                }
                let w = self
                    .witnesses
                    .get_mut(witness)
                    .ok_or_else(|| CaseError::unknown("witness", witness))?;
                w.consents.push(ConsentRecord {
                    id: id.clone(),
                    consent: consent.clone(),
                    withdrawals: Vec::new(),
                });
                max_seq(&mut self.counters.consents, id.as_str(), "CN-");
            }
            Event::ConsentWithdrawn {
                witness,
                consent,
                withdrawal,
            } => {
                let w = self
                    .witnesses
                    .get_mut(witness)
                    .ok_or_else(|| CaseError::unknown("witness", witness))?;
                let c = w
                    .consents
                    .iter_mut()
                    .find(|c| &c.id == consent)
                    .ok_or_else(|| CaseError::unknown("consent", consent))?;
                c.withdrawals.push(withdrawal.clone());
            }
            Event::TestimonyRecorded { testimony } => {
                let ev = self.evidence_exists(&testimony.evidence)?;
                if ev.kind != crate::evidence::EvidenceKind::Testimony {
                    return Err(CaseError::Invalid(format!(
                        "{} is a {} record; a testimony is registered as evidence of type testimony",
                        testimony.evidence, ev.kind
                    )));
                }
                if self.testimonies.contains_key(&testimony.evidence) {
                    return Err(CaseError::duplicate("testimony", &testimony.evidence));
                }
                for i in &testimony.incidents {
                    if !self.incidents.contains_key(i) {
                        return Err(CaseError::unknown("incident", i));
                    }
                }
                let w = self
                    .witnesses
                    .get(&testimony.witness)
                    .ok_or_else(|| CaseError::unknown("witness", testimony.witness))?;
                let c = w
                    .consents
                    .iter()
                    .find(|c| c.id == testimony.consent)
                    .ok_or_else(|| {
                        CaseError::unknown_hint(
                            "consent",
                            &testimony.consent,
                            &format!("witness {} has no such consent", testimony.witness),
                        )
                    })?;
                if !c.covers(
                    &crate::witness::ConsentUse::Recording,
                    testimony.taken.earliest(),
                ) {
                    return Err(CaseError::NoConsent {
                        witness: testimony.witness.to_string(),
                        purpose: format!(
                            "recording at {} under {}",
                            testimony.taken.earliest(),
                            testimony.consent
                        ),
                    });
                }
                self.testimonies
                    .insert(testimony.evidence.clone(), testimony.clone());
            }
        }
        self.events_applied += 1;
        Ok(())
    }

    fn check_record_ids(&self, tag: &Tag, record: &RemainsRecord) -> Result<()> {
        if let RemainsRecord::RecoveryCorrected { .. } = record {
            return Err(CaseError::Invalid(format!(
                "correct the recovery of {tag} with a recovery_corrected event"
            )));
        }
        if let Some((kind, id)) = record_key(record) {
            let taken = self
                .remains
                .values()
                .flat_map(|r| &r.records)
                .any(|r| record_key(r) == Some((kind, id)));
            if taken {
                return Err(CaseError::duplicate(kind, id));
            }
        }
        Ok(())
    }

    fn bump_record_counters(&mut self, record: &RemainsRecord) {
        match record {
            RemainsRecord::Examination { id, .. } => {
                max_seq(&mut self.counters.examinations, id.as_str(), "EX-")
            }
            RemainsRecord::IdentificationEvidence { id, .. } => {
                max_seq(&mut self.counters.id_evidence, id.as_str(), "IE-")
            }
            RemainsRecord::Decision { id, .. } => {
                max_seq(&mut self.counters.decisions, id.as_str(), "IDD-")
            }
            _ => {}
        }
    }
}

/// The kind and identifier of a record that carries one.
fn record_key(r: &RemainsRecord) -> Option<(&'static str, &str)> {
    match r {
        RemainsRecord::Examination { id, .. } => Some(("examination", id.as_str())),
        RemainsRecord::IdentificationEvidence { id, .. } => {
            Some(("identification evidence", id.as_str()))
        }
        RemainsRecord::Decision { id, .. } => Some(("identification decision", id.as_str())),
        _ => None,
    }
}
