//! Case events: every change to a case, as it is written to the custody ledger.
//!
//! A case's state is the result of applying its events in order
//! ([`crate::Case::apply`]); nothing else changes it. Each event is one ledger entry:
//! [`Event::action`] is the entry's `action` and [`CaseEvent::to_details`] its
//! `details` object, which carries the event format version `v`, the case id and a
//! `type` naming the event. Corrections are new events; no event removes anything.
//!
//! Versioning: [`EVENT_VERSION`] is 1. A new event type or a new optional member is
//! added without changing it; a change of meaning or encoding of an existing member
//! requires a new version, and a reader refuses versions it does not know.

use custody_model::ItemId;
use serde::{Deserialize, Serialize};

use crate::claims::{Claim, SignOff};
use crate::context::ControlPeriod;
use crate::crimes::CrimeRef;
use crate::error::CaseError;
use crate::evidence::{Evidence, Observation};
use crate::forensic::{Recovery, RemainsRecord};
use crate::geo::Place;
use crate::ids::{
    CaseId, ConsentId, EvidenceId, IncidentId, ObservationId, PlaceId, Pseudonym, SealedRef, Tag,
};
use crate::incident::{ElementLink, IncidentDraft};
use crate::when::Moment;
use crate::witness::{Consent, ConsentWithdrawal, Testimony};

/// The event format this code writes and reads.
pub const EVENT_VERSION: u32 = 1;

/// International or non-international armed conflict.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    International,
    NonInternational,
}

/// The armed conflict the case is set in (for the nexus elements).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ArmedConflict {
    pub kind: ConflictKind,
    pub since: Moment,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub basis: String,
}

/// One change to a case.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    CaseOpened {
        title: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        armed_conflict: Option<ArmedConflict>,
        /// The UTC offset date-only values of this case are read at ("+03:00").
        local_offset: String,
        /// A notice that must be shown wherever the case is shown (demo data).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notice: Option<String>,
    },
    PlaceDefined {
        id: PlaceId,
        name: String,
        place: Place,
    },
    ControlPeriodRecorded {
        period: ControlPeriod,
    },
    EvidenceRegistered {
        evidence: Evidence,
    },
    EvidenceItemLinked {
        evidence: EvidenceId,
        item: ItemId,
    },
    ObservationRecorded {
        observation: Observation,
    },
    ObservationSuperseded {
        observation: ObservationId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<ObservationId>,
        reason: String,
    },
    IncidentAdded {
        incident: IncidentId,
        #[serde(flatten)]
        draft: IncidentDraft,
    },
    IncidentCrimeAdded {
        incident: IncidentId,
        crime: CrimeRef,
    },
    IncidentEvidenceLinked {
        incident: IncidentId,
        evidence: EvidenceId,
    },
    ElementEvidenceLinked {
        incident: IncidentId,
        link: ElementLink,
    },
    ElementEvidenceRetracted {
        incident: IncidentId,
        crime: CrimeRef,
        element: String,
        evidence: EvidenceId,
        reason: String,
    },
    ClaimRecorded {
        claim: Claim,
    },
    ClaimResultSignedOff {
        signoff: SignOff,
    },
    RemainsRecovered {
        tag: Tag,
        synthetic: bool,
        recovery: Recovery,
    },
    RecoveryCorrected {
        tag: Tag,
        recovery: Recovery,
        reason: String,
    },
    TagCorrected {
        tag: Tag,
        new_tag: Tag,
        reason: String,
    },
    RemainsRecorded {
        tag: Tag,
        record: RemainsRecord,
    },
    WitnessRegistered {
        witness: Pseudonym,
        sealed: SealedRef,
        registered_at: Moment,
        registered_by: String,
    },
    ConsentRecorded {
        witness: Pseudonym,
        id: ConsentId,
        consent: Consent,
    },
    ConsentWithdrawn {
        witness: Pseudonym,
        consent: ConsentId,
        withdrawal: ConsentWithdrawal,
    },
    TestimonyRecorded {
        testimony: Testimony,
    },
}

impl Event {
    /// The ledger action for this event.
    pub fn action(&self) -> &'static str {
        match self {
            Event::CaseOpened { .. } => "case.opened",
            Event::PlaceDefined { .. } => "case.place_defined",
            Event::ControlPeriodRecorded { .. } => "case.control_period_recorded",
            Event::EvidenceRegistered { .. } => "case.evidence_registered",
            Event::EvidenceItemLinked { .. } => "case.evidence_item_linked",
            Event::ObservationRecorded { .. } => "case.observation_recorded",
            Event::ObservationSuperseded { .. } => "case.observation_superseded",
            Event::IncidentAdded { .. } => "incident.added",
            Event::IncidentCrimeAdded { .. } => "incident.crime_added",
            Event::IncidentEvidenceLinked { .. } => "incident.evidence_linked",
            Event::ElementEvidenceLinked { .. } => "incident.element_linked",
            Event::ElementEvidenceRetracted { .. } => "incident.element_retracted",
            Event::ClaimRecorded { .. } => "claim.recorded",
            Event::ClaimResultSignedOff { .. } => "claim.signed_off",
            Event::RemainsRecovered { .. } => "remains.recovered",
            Event::RecoveryCorrected { .. } => "remains.recovery_corrected",
            Event::TagCorrected { .. } => "remains.tag_corrected",
            Event::RemainsRecorded { record, .. } => match record {
                RemainsRecord::Examination { .. } => "remains.examined",
                RemainsRecord::ExaminationWaived { .. } => "remains.examination_waived",
                RemainsRecord::IdentificationEvidence { .. } => "remains.identification_evidence",
                RemainsRecord::Decision { .. } => "remains.identification_decided",
                RemainsRecord::Withdrawal { .. } => "remains.identification_withdrawn",
                RemainsRecord::FamilyNotified { .. } => "remains.family_notified",
                RemainsRecord::Released { .. } => "remains.released",
                RemainsRecord::BuriedUnidentified { .. } => "remains.buried_unidentified",
                RemainsRecord::Exhumed { .. } => "remains.exhumed",
                RemainsRecord::RecoveryCorrected { .. } => "remains.recovery_corrected",
            },
            Event::WitnessRegistered { .. } => "witness.registered",
            Event::ConsentRecorded { .. } => "witness.consent_recorded",
            Event::ConsentWithdrawn { .. } => "witness.consent_withdrawn",
            Event::TestimonyRecorded { .. } => "witness.testimony_recorded",
        }
    }

    /// The vault item the event concerns, for the ledger entry's `item` member.
    pub fn item(&self) -> Option<ItemId> {
        match self {
            Event::EvidenceRegistered { evidence } => evidence.item,
            Event::EvidenceItemLinked { item, .. } => Some(*item),
            _ => None,
        }
    }
}

/// An event with its format version and case: the `details` of a ledger entry.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct CaseEvent {
    pub v: u32,
    pub case: CaseId,
    #[serde(flatten)]
    pub event: Event,
}

impl CaseEvent {
    pub fn new(case: CaseId, event: Event) -> Self {
        Self {
            v: EVENT_VERSION,
            case,
            event,
        }
    }

    /// The JSON object to store as the ledger entry's `details`.
    pub fn to_details(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("case events always serialise")
    }

    /// Reads `details` back, refusing unknown versions.
    pub fn from_details(details: &serde_json::Value) -> Result<Self, CaseError> {
        match details.get("v").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(EVENT_VERSION) => {}
            Some(v) => {
                return Err(CaseError::UnsupportedVersion(
                    u32::try_from(v).unwrap_or(u32::MAX),
                    EVENT_VERSION,
                ));
            }
            None => {
                return Err(CaseError::Invalid(
                    "case event without a format version \"v\"".into(),
                ));
            }
        }
        serde_json::from_value(details.clone())
            .map_err(|e| CaseError::Invalid(format!("case event is malformed: {e}")))
    }
}
