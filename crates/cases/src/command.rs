//! Commands: what a user asks for, validated against the current state.
//!
//! [`handle`] turns a command into the events that carry it out, allocating identifiers
//! (`OB-0001`, `EX-0001`, `W-0012`, ...) from the case's counters, and applies them to a
//! copy of the state to prove they are valid. It returns the events or the first error,
//! and never changes the case: the caller writes the events to the ledger, then applies
//! them. [`open`] starts a case.

use std::collections::BTreeSet;

use custody_model::ItemId;
use time::UtcOffset;

use crate::case::Case;
use crate::claims::{Claim, SignOff, check_claim};
use crate::context::ControlPeriod;
use crate::crimes::CrimeRef;
use crate::error::{CaseError, Result};
use crate::event::{ArmedConflict, CaseEvent, Event};
use crate::evidence::{Evidence, Interpretation, Observation, SubjectFinding};
use crate::forensic::{
    Burial, Decision, Examination, Exhumation, IdentificationEvidence, Notification, Recovery,
    Release, RemainsRecord, Status, Waiver, Withdrawal,
};
use crate::geo::Place;
use crate::ids::{
    CaseId, ClaimId, ConsentId, DecisionId, EvidenceId, ExaminationId, IdEvidenceId, IncidentId,
    ObservationId, PlaceId, Pseudonym, SealedRef, Tag, allocated,
};
use crate::incident::{ElementLink, IncidentDraft};
use crate::when::{Moment, TimeInterval, format_offset};
use crate::witness::{Consent, ConsentWithdrawal, Testimony};

/// An observation as entered, before it has an identifier.
#[derive(Clone, PartialEq, Debug)]
pub struct ObservationDraft {
    pub evidence: EvidenceId,
    pub shows: String,
    pub interpretation: Option<Interpretation>,
    pub subjects: Vec<SubjectFinding>,
    pub place: Place,
    pub time: TimeInterval,
    pub reported_by: Option<String>,
    pub derived_from: Vec<EvidenceId>,
}

impl ObservationDraft {
    pub fn with_id(self, id: ObservationId) -> Observation {
        Observation {
            id,
            evidence: self.evidence,
            shows: self.shows,
            interpretation: self.interpretation,
            subjects: self.subjects,
            place: self.place,
            time: self.time,
            reported_by: self.reported_by,
            derived_from: self.derived_from,
        }
    }
}

/// Everything a user can ask of a case.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub enum Command {
    DefinePlace {
        id: Option<PlaceId>,
        name: String,
        place: Place,
    },
    RecordControlPeriod {
        period: ControlPeriod,
    },
    RegisterEvidence {
        evidence: Evidence,
    },
    LinkEvidenceItem {
        evidence: EvidenceId,
        item: ItemId,
    },
    RecordObservation {
        draft: ObservationDraft,
    },
    /// Records a corrected observation (if given) and marks the old one superseded.
    SupersedeObservation {
        observation: ObservationId,
        replacement: Option<ObservationDraft>,
        reason: String,
    },
    AddIncident {
        id: Option<IncidentId>,
        draft: IncidentDraft,
        crimes: Vec<CrimeRef>,
        evidence: Vec<EvidenceId>,
    },
    AddCrime {
        incident: IncidentId,
        crime: CrimeRef,
    },
    LinkIncidentEvidence {
        incident: IncidentId,
        evidence: EvidenceId,
    },
    /// Links evidence to an element (and to the incident first, if it is not yet).
    LinkElement {
        incident: IncidentId,
        link: ElementLink,
    },
    RetractElementLink {
        incident: IncidentId,
        crime: CrimeRef,
        element: String,
        evidence: EvidenceId,
        reason: String,
    },
    RecordClaim {
        claim: Claim,
    },
    /// Signs off the current check result of a claim; `result_version` must be the
    /// version the analyst reviewed, and must still be the current one.
    SignOffResult {
        claim: ClaimId,
        result_version: String,
        by: String,
        at: Moment,
        note: String,
    },
    RecoverRemains {
        tag: Tag,
        synthetic: bool,
        recovery: Recovery,
    },
    CorrectRecovery {
        tag: Tag,
        recovery: Recovery,
        reason: String,
    },
    CorrectTag {
        tag: Tag,
        new_tag: Tag,
        reason: String,
    },
    RecordExamination {
        tag: Tag,
        examination: Examination,
    },
    WaiveExamination {
        tag: Tag,
        waiver: Waiver,
    },
    RecordIdentificationEvidence {
        tag: Tag,
        evidence: IdentificationEvidence,
    },
    DecideIdentification {
        tag: Tag,
        decision: Decision,
    },
    WithdrawIdentification {
        tag: Tag,
        withdrawal: Withdrawal,
    },
    NotifyFamily {
        tag: Tag,
        notification: Notification,
    },
    ReleaseRemains {
        tag: Tag,
        release: Release,
    },
    BuryUnidentified {
        tag: Tag,
        burial: Burial,
    },
    Exhume {
        tag: Tag,
        exhumation: Exhumation,
    },
    RegisterWitness {
        sealed: SealedRef,
        at: Moment,
        by: String,
    },
    RecordConsent {
        witness: Pseudonym,
        consent: Consent,
    },
    WithdrawConsent {
        witness: Pseudonym,
        consent: ConsentId,
        withdrawal: ConsentWithdrawal,
    },
    RecordTestimony {
        testimony: Testimony,
    },
}

/// The event that opens a case.
pub fn open(
    id: CaseId,
    title: &str,
    armed_conflict: Option<ArmedConflict>,
    local_offset: UtcOffset,
    notice: Option<String>,
) -> Result<CaseEvent> {
    if title.trim().is_empty() {
        return Err(CaseError::Invalid("a case needs a title".into()));
    }
    let e = CaseEvent::new(
        id,
        Event::CaseOpened {
            title: title.trim().to_owned(),
            armed_conflict,
            local_offset: format_offset(local_offset),
            notice,
        },
    );
    Case::open(&e)?;
    Ok(e)
}

impl Case {
    /// Wraps an event of this case for the ledger.
    pub fn wrap(&self, event: Event) -> CaseEvent {
        CaseEvent::new(self.id.clone(), event)
    }

    fn next_free<T: Ord>(
        prefix: &str,
        counter: u64,
        make: impl Fn(String) -> T,
        taken: impl Fn(&T) -> bool,
    ) -> T {
        let mut n = counter + 1;
        loop {
            let id = make(allocated(prefix, n));
            if !taken(&id) {
                return id;
            }
            n += 1;
        }
    }

    /// The next free observation id.
    pub fn next_observation_id(&self) -> ObservationId {
        Self::next_free(
            "OB",
            self.counters.observations,
            |s| ObservationId::new(s).expect("valid label"),
            |id| self.observations.contains_key(id),
        )
    }
    pub fn next_incident_id(&self) -> IncidentId {
        Self::next_free(
            "INC",
            self.counters.incidents,
            |s| IncidentId::new(s).expect("valid label"),
            |id| self.incidents.contains_key(id),
        )
    }
    pub fn next_place_id(&self) -> PlaceId {
        Self::next_free(
            "PL",
            self.counters.places,
            |s| PlaceId::new(s).expect("valid label"),
            |id| self.places.contains_key(id),
        )
    }
    pub fn next_evidence_id(&self) -> EvidenceId {
        Self::next_free(
            "EV",
            self.counters.evidence,
            |s| EvidenceId::new(s).expect("valid label"),
            |id| self.evidence.contains_key(id),
        )
    }
    pub fn next_claim_id(&self) -> ClaimId {
        Self::next_free(
            "CL",
            self.counters.claims,
            |s| ClaimId::new(s).expect("valid label"),
            |id| self.claims.contains_key(id),
        )
    }
    fn all_records(&self) -> impl Iterator<Item = &RemainsRecord> {
        self.remains.values().flat_map(|r| &r.records)
    }
    pub fn next_examination_id(&self) -> ExaminationId {
        Self::next_free(
            "EX",
            self.counters.examinations,
            |s| ExaminationId::new(s).expect("valid label"),
            |id| {
                self.all_records()
                    .any(|r| matches!(r, RemainsRecord::Examination { id: i, .. } if i == id))
            },
        )
    }
    pub fn next_id_evidence_id(&self) -> IdEvidenceId {
        Self::next_free(
            "IE",
            self.counters.id_evidence,
            |s| IdEvidenceId::new(s).expect("valid label"),
            |id| {
                self.all_records().any(
                    |r| matches!(r, RemainsRecord::IdentificationEvidence { id: i, .. } if i == id),
                )
            },
        )
    }
    pub fn next_decision_id(&self) -> DecisionId {
        Self::next_free(
            "IDD",
            self.counters.decisions,
            |s| DecisionId::new(s).expect("valid label"),
            |id| {
                self.all_records()
                    .any(|r| matches!(r, RemainsRecord::Decision { id: i, .. } if i == id))
            },
        )
    }
    pub fn next_consent_id(&self) -> ConsentId {
        let taken: BTreeSet<&ConsentId> = self
            .witnesses
            .values()
            .flat_map(|w| &w.consents)
            .map(|c| &c.id)
            .collect();
        Self::next_free(
            "CN",
            self.counters.consents,
            |s| ConsentId::new(s).expect("valid label"),
            |id| taken.contains(id),
        )
    }
    pub fn next_pseudonym(&self) -> Pseudonym {
        Pseudonym::new(self.counters.witnesses + 1)
    }
}

/// Validates `cmd` against `case` and returns the events that carry it out.
pub fn handle(case: &Case, cmd: Command) -> Result<Vec<Event>> {
    let events = plan(case, cmd)?;
    let mut scratch = case.clone();
    for e in &events {
        scratch.apply(e)?;
    }
    Ok(events)
}

fn rec(tag: Tag, record: RemainsRecord) -> Vec<Event> {
    vec![Event::RemainsRecorded { tag, record }]
}

fn plan(case: &Case, cmd: Command) -> Result<Vec<Event>> {
    Ok(match cmd {
        Command::DefinePlace { id, name, place } => {
            if name.trim().is_empty() {
                return Err(CaseError::Invalid("a named place needs a name".into()));
            }
            let id = id.unwrap_or_else(|| case.next_place_id());
            let place = place.named(id.clone());
            vec![Event::PlaceDefined { id, name, place }]
        }
        Command::RecordControlPeriod { period } => vec![Event::ControlPeriodRecorded { period }],
        Command::RegisterEvidence { evidence } => vec![Event::EvidenceRegistered { evidence }],
        Command::LinkEvidenceItem { evidence, item } => {
            vec![Event::EvidenceItemLinked { evidence, item }]
        }
        Command::RecordObservation { draft } => vec![Event::ObservationRecorded {
            observation: draft.with_id(case.next_observation_id()),
        }],
        Command::SupersedeObservation {
            observation,
            replacement,
            reason,
        } => {
            if reason.trim().is_empty() {
                return Err(CaseError::Invalid(
                    "superseding an observation needs a reason".into(),
                ));
            }
            let mut out = Vec::new();
            let by = match replacement {
                Some(d) => {
                    let id = case.next_observation_id();
                    out.push(Event::ObservationRecorded {
                        observation: d.with_id(id.clone()),
                    });
                    Some(id)
                }
                None => None,
            };
            out.push(Event::ObservationSuperseded {
                observation,
                by,
                reason,
            });
            out
        }
        Command::AddIncident {
            id,
            draft,
            crimes,
            evidence,
        } => {
            if draft.title.trim().is_empty() {
                return Err(CaseError::Invalid("an incident needs a title".into()));
            }
            let id = id.unwrap_or_else(|| case.next_incident_id());
            let mut out = vec![Event::IncidentAdded {
                incident: id.clone(),
                draft,
            }];
            out.extend(crimes.into_iter().map(|crime| Event::IncidentCrimeAdded {
                incident: id.clone(),
                crime,
            }));
            out.extend(evidence.into_iter().map(|e| Event::IncidentEvidenceLinked {
                incident: id.clone(),
                evidence: e,
            }));
            out
        }
        Command::AddCrime { incident, crime } => {
            vec![Event::IncidentCrimeAdded { incident, crime }]
        }
        Command::LinkIncidentEvidence { incident, evidence } => {
            vec![Event::IncidentEvidenceLinked { incident, evidence }]
        }
        Command::LinkElement { incident, link } => {
            let inc = case
                .incidents
                .get(&incident)
                .ok_or_else(|| CaseError::unknown("incident", &incident))?;
            let mut out = Vec::new();
            if !inc.evidence.contains(&link.evidence) {
                out.push(Event::IncidentEvidenceLinked {
                    incident: incident.clone(),
                    evidence: link.evidence.clone(),
                });
            }
            out.push(Event::ElementEvidenceLinked { incident, link });
            out
        }
        Command::RetractElementLink {
            incident,
            crime,
            element,
            evidence,
            reason,
        } => {
            if reason.trim().is_empty() {
                return Err(CaseError::Invalid(
                    "retracting a link needs a reason".into(),
                ));
            }
            vec![Event::ElementEvidenceRetracted {
                incident,
                crime,
                element,
                evidence,
                reason,
            }]
        }
        Command::RecordClaim { claim } => vec![Event::ClaimRecorded { claim }],
        Command::SignOffResult {
            claim,
            result_version,
            by,
            at,
            note,
        } => {
            let c = case
                .claims
                .get(&claim)
                .ok_or_else(|| CaseError::unknown("claim", &claim))?;
            let current = check_claim(case, c);
            let version = current.version();
            if version != result_version {
                return Err(CaseError::StaleResult {
                    claim: claim.to_string(),
                    given: result_version,
                    current: version,
                });
            }
            vec![Event::ClaimResultSignedOff {
                signoff: SignOff {
                    claim,
                    result_version,
                    summary: current.summary,
                    by,
                    at,
                    note,
                },
            }]
        }
        Command::RecoverRemains {
            tag,
            synthetic,
            recovery,
        } => vec![Event::RemainsRecovered {
            tag,
            synthetic,
            recovery,
        }],
        Command::CorrectRecovery {
            tag,
            recovery,
            reason,
        } => vec![Event::RecoveryCorrected {
            tag,
            recovery,
            reason,
        }],
        Command::CorrectTag {
            tag,
            new_tag,
            reason,
        } => vec![Event::TagCorrected {
            tag,
            new_tag,
            reason,
        }],
        Command::RecordExamination { tag, examination } => {
            let r = case.remains_by_tag(&tag)?;
            let reexamination = r.status == Status::Exhumed || r.examinations().next().is_some();
            rec(
                tag,
                RemainsRecord::Examination {
                    id: case.next_examination_id(),
                    reexamination,
                    examination,
                },
            )
        }
        Command::WaiveExamination { tag, waiver } => {
            rec(tag, RemainsRecord::ExaminationWaived { waiver })
        }
        Command::RecordIdentificationEvidence { tag, evidence } => rec(
            tag,
            RemainsRecord::IdentificationEvidence {
                id: case.next_id_evidence_id(),
                evidence,
            },
        ),
        Command::DecideIdentification { tag, decision } => rec(
            tag,
            RemainsRecord::Decision {
                id: case.next_decision_id(),
                decision,
            },
        ),
        Command::WithdrawIdentification { tag, withdrawal } => {
            rec(tag, RemainsRecord::Withdrawal { withdrawal })
        }
        Command::NotifyFamily { tag, notification } => {
            rec(tag, RemainsRecord::FamilyNotified { notification })
        }
        Command::ReleaseRemains { tag, release } => rec(tag, RemainsRecord::Released { release }),
        Command::BuryUnidentified { tag, burial } => {
            rec(tag, RemainsRecord::BuriedUnidentified { burial })
        }
        Command::Exhume { tag, exhumation } => rec(tag, RemainsRecord::Exhumed { exhumation }),
        Command::RegisterWitness { sealed, at, by } => {
            if by.trim().is_empty() {
                return Err(CaseError::Invalid(
                    "registering a witness needs who registered them".into(),
                ));
            }
            vec![Event::WitnessRegistered {
                witness: case.next_pseudonym(),
                sealed,
                registered_at: at,
                registered_by: by,
            }]
        }
        Command::RecordConsent { witness, consent } => vec![Event::ConsentRecorded {
            witness,
            id: case.next_consent_id(),
            consent,
        }],
        Command::WithdrawConsent {
            witness,
            consent,
            withdrawal,
        } => vec![Event::ConsentWithdrawn {
            witness,
            consent,
            withdrawal,
        }],
        Command::RecordTestimony { testimony } => vec![Event::TestimonyRecorded { testimony }],
    })
}
