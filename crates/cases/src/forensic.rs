//! Remains and their forensic records, the guarded status workflow, and counts.
//!
//! ```text
//! recovered ─► examined ─► identified ─► family_notified ─► returned_to_family
//!     │            │  ▲         ▲
//!     │            │  └─ exhumed ◄─ unidentified_buried ◄─┐
//!     │            └──────────────────────────────────────┘
//!     └─► examination_waived ─► identified / unidentified_buried
//! ```
//!
//! Every record (examination, waiver, identification evidence, decision, withdrawal,
//! notification, release, burial, exhumation, correction) is appended to the remains'
//! record log; nothing is deleted. Records that move the status are checked against the
//! current status and the records already held ([`Remains::admit`]); an illegal step is
//! an error saying what is missing. Each status change keeps the time it took effect, so
//! counts "as of" a date come straight from the records ([`counts`]).

use std::collections::BTreeMap;
use std::fmt;

use custody_model::ItemId;
use serde::{Deserialize, Serialize};

use crate::error::CaseError;
use crate::geo::{Place, SpatialRelation};
use crate::ids::{DecisionId, ExaminationId, IdEvidenceId, PersonRef, SealedRef, Tag};
use crate::when::{Moment, TimeInterval};

/// Where remains are in the workflow.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Recovered,
    Examined,
    ExaminationWaived,
    Identified,
    FamilyNotified,
    ReturnedToFamily,
    UnidentifiedBuried,
    Exhumed,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Recovered,
        Status::Examined,
        Status::ExaminationWaived,
        Status::Identified,
        Status::FamilyNotified,
        Status::ReturnedToFamily,
        Status::UnidentifiedBuried,
        Status::Exhumed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Recovered => "recovered",
            Status::Examined => "examined",
            Status::ExaminationWaived => "examination_waived",
            Status::Identified => "identified",
            Status::FamilyNotified => "family_notified",
            Status::ReturnedToFamily => "returned_to_family",
            Status::UnidentifiedBuried => "unidentified_buried",
            Status::Exhumed => "exhumed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s.trim())
    }

    /// True once the remains carry a confirmed identification.
    pub fn is_identified(self) -> bool {
        matches!(
            self,
            Status::Identified | Status::FamilyNotified | Status::ReturnedToFamily
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How and where remains were recovered.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Recovery {
    pub time: TimeInterval,
    pub place: Place,
    /// Surface, grave, building ...
    pub context: String,
    pub team: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grave_position: Option<String>,
    /// Photograph reference numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<String>,
    /// Property recovered with the remains (reference numbers or short descriptions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub property: Vec<String>,
}

/// The type of an examination. Serialised as its label ("full autopsy").
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ExaminationType {
    FullAutopsy,
    External,
    Skeletal,
    Other(String),
}

impl ExaminationType {
    pub fn parse(s: &str) -> Self {
        let l = s.trim().to_lowercase();
        if l.contains("autopsy") {
            Self::FullAutopsy
        } else if l.contains("external") {
            Self::External
        } else if l.contains("skeletal") {
            Self::Skeletal
        } else {
            Self::Other(s.trim().to_owned())
        }
    }
    pub fn label(&self) -> &str {
        match self {
            Self::FullAutopsy => "full autopsy",
            Self::External => "external examination",
            Self::Skeletal => "skeletal analysis",
            Self::Other(s) => s,
        }
    }
}

/// The manner of death as the examiner recorded it. Serialised as its label.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum MannerOfDeath {
    Homicide,
    Accident,
    Suicide,
    Natural,
    Undetermined,
    Pending,
    Other(String),
}

impl MannerOfDeath {
    pub fn parse(s: &str) -> Self {
        match s.trim().to_lowercase().as_str() {
            "homicide" => Self::Homicide,
            "accident" => Self::Accident,
            "suicide" => Self::Suicide,
            "natural" => Self::Natural,
            "undetermined" => Self::Undetermined,
            "pending" | "" => Self::Pending,
            _ => Self::Other(s.trim().to_owned()),
        }
    }
    pub fn label(&self) -> &str {
        match self {
            Self::Homicide => "homicide",
            Self::Accident => "accident",
            Self::Suicide => "suicide",
            Self::Natural => "natural",
            Self::Undetermined => "undetermined",
            Self::Pending => "pending",
            Self::Other(s) => s,
        }
    }
}

macro_rules! label_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.label())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(<$t>::parse(&String::deserialize(d)?))
            }
        }
    };
}
label_serde!(ExaminationType);
label_serde!(MannerOfDeath);

/// A sample taken for analysis.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Sample {
    /// DNA, ballistic, toxicology ...
    pub kind: String,
    pub reference: String,
}

/// One structured finding ("signs_of_restraint" = "yes").
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ExamFinding {
    pub key: String,
    pub value: String,
}

/// A post-mortem examination.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Examination {
    pub time: TimeInterval,
    pub kind: ExaminationType,
    pub examiner: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<ExamFinding>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause_of_death: Option<String>,
    pub manner_of_death: MannerOfDeath,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Sample>,
    /// The examination report, as a vault item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<ItemId>,
}

/// A recorded decision not to examine, with its reason.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Waiver {
    pub time: TimeInterval,
    pub reason: String,
    pub authorised_by: String,
}

/// An identification method. DNA, fingerprints and dental are primary identifiers;
/// the others only corroborate.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdMethod {
    Dna,
    Fingerprints,
    Dental,
    Documents,
    Property,
    Visual,
    Medical,
}

impl IdMethod {
    pub fn is_primary(self) -> bool {
        matches!(self, Self::Dna | Self::Fingerprints | Self::Dental)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dna => "dna",
            Self::Fingerprints => "fingerprints",
            Self::Dental => "dental",
            Self::Documents => "documents",
            Self::Property => "property",
            Self::Visual => "visual",
            Self::Medical => "medical",
        }
    }
    /// Reads free text such as "DNA - family reference sample" or "dental comparison".
    pub fn parse(s: &str) -> Option<Self> {
        let l = s.trim().to_lowercase();
        let has = |w: &str| l.contains(w);
        if has("dna") {
            Some(Self::Dna)
        } else if has("fingerprint") {
            Some(Self::Fingerprints)
        } else if has("dental") || has("teeth") || has("odontolog") {
            Some(Self::Dental)
        } else if has("document") {
            Some(Self::Documents)
        } else if has("property") || has("clothing") || has("effects") {
            Some(Self::Property)
        } else if has("visual") || has("recogni") {
            Some(Self::Visual)
        } else if has("medical") {
            Some(Self::Medical)
        } else {
            None
        }
    }
}

/// The outcome of one comparison.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdResult {
    Match,
    Exclusion,
    Inconclusive,
}

/// One comparison of post-mortem data with an ante-mortem record.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct IdentificationEvidence {
    pub method: IdMethod,
    /// The ante-mortem record compared (in the sensitive store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub am_record: Option<PersonRef>,
    pub result: IdResult,
    pub analyst: String,
    pub time: TimeInterval,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// Presumptive or confirmed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    Presumptive,
    Confirmed,
}

/// An identification decision (the board's, when confirmed).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Decision {
    pub status: DecisionStatus,
    /// The person identified: a reference into the sensitive store, never a name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonRef>,
    /// The identification evidence the decision rests on.
    pub basis: Vec<IdEvidenceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board_ref: Option<String>,
    /// The board approved identification on a combination of secondary identifiers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secondary_combination_approved: bool,
    pub time: TimeInterval,
    pub decided_by: String,
}

/// The withdrawal of an earlier decision.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Withdrawal {
    pub decision: DecisionId,
    pub reason: String,
    pub by: String,
    pub time: TimeInterval,
}

/// Notification of the family.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Notification {
    pub time: TimeInterval,
    pub by: String,
    /// Next of kin, in the sealed store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_of_kin: Option<SealedRef>,
}

/// Release of the remains.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Release {
    pub time: TimeInterval,
    /// The recipient's role ("next of kin", "funeral service"), never a name.
    pub released_to: String,
    /// The recipient, in the sealed store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<SealedRef>,
    /// The signed release document, as a vault item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<ItemId>,
    pub by: String,
}

/// Burial of unidentified remains.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Burial {
    pub time: TimeInterval,
    pub place: Place,
    pub grave_marker: String,
    pub by: String,
}

/// Exhumation of buried remains.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Exhumation {
    pub time: TimeInterval,
    pub authorisation: String,
    pub by: String,
}

/// One entry of a remains' record log.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum RemainsRecord {
    Examination {
        id: ExaminationId,
        reexamination: bool,
        examination: Examination,
    },
    ExaminationWaived {
        waiver: Waiver,
    },
    IdentificationEvidence {
        id: IdEvidenceId,
        evidence: IdentificationEvidence,
    },
    Decision {
        id: DecisionId,
        decision: Decision,
    },
    Withdrawal {
        withdrawal: Withdrawal,
    },
    FamilyNotified {
        notification: Notification,
    },
    Released {
        release: Release,
    },
    BuriedUnidentified {
        burial: Burial,
    },
    Exhumed {
        exhumation: Exhumation,
    },
    RecoveryCorrected {
        previous: Recovery,
        reason: String,
    },
}

impl RemainsRecord {
    pub fn time(&self) -> Option<&TimeInterval> {
        Some(match self {
            Self::Examination { examination, .. } => &examination.time,
            Self::ExaminationWaived { waiver } => &waiver.time,
            Self::IdentificationEvidence { evidence, .. } => &evidence.time,
            Self::Decision { decision, .. } => &decision.time,
            Self::Withdrawal { withdrawal } => &withdrawal.time,
            Self::FamilyNotified { notification } => &notification.time,
            Self::Released { release } => &release.time,
            Self::BuriedUnidentified { burial } => &burial.time,
            Self::Exhumed { exhumation } => &exhumation.time,
            Self::RecoveryCorrected { .. } => return None,
        })
    }

    fn label(&self) -> String {
        match self {
            Self::Examination { id, .. } => format!("examination {id}"),
            Self::ExaminationWaived { .. } => "the examination waiver".into(),
            Self::IdentificationEvidence { id, .. } => format!("identification evidence {id}"),
            Self::Decision { id, .. } => format!("decision {id}"),
            Self::Withdrawal { withdrawal } => format!("the withdrawal of {}", withdrawal.decision),
            Self::FamilyNotified { .. } => "the family notification".into(),
            Self::Released { .. } => "the release".into(),
            Self::BuriedUnidentified { .. } => "the burial".into(),
            Self::Exhumed { .. } => "the exhumation".into(),
            Self::RecoveryCorrected { .. } => "the recovery correction".into(),
        }
    }
}

/// A status change and when it took effect.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: Status,
    pub time: TimeInterval,
    pub because: String,
}

/// A tag number that was corrected.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TagChange {
    pub tag: Tag,
    pub replaced_by: Tag,
    pub reason: String,
}

/// Remains, their records and their workflow state.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Remains {
    pub tag: Tag,
    /// Synthetic records (demonstrations, tests) never refer to a real person.
    pub synthetic: bool,
    pub recovery: Recovery,
    pub status: Status,
    pub records: Vec<RemainsRecord>,
    pub history: Vec<StatusChange>,
    /// Earlier tag numbers of these remains, oldest first.
    pub former_tags: Vec<TagChange>,
    /// The confirmed decision in force, if any.
    pub confirmed: Option<DecisionId>,
    /// The status before the confirmed identification (where a withdrawal returns to).
    pub before_identification: Option<Status>,
}

fn workflow(r: &Remains, action: &'static str, missing: impl Into<String>) -> CaseError {
    CaseError::Workflow {
        tag: r.tag.to_string(),
        action,
        status: r.status,
        missing: missing.into(),
    }
}

impl Remains {
    /// New remains as recovered.
    pub fn recovered(tag: Tag, synthetic: bool, recovery: Recovery) -> Self {
        let history = vec![StatusChange {
            status: Status::Recovered,
            time: recovery.time.clone(),
            because: "recovery".into(),
        }];
        Self {
            tag,
            synthetic,
            recovery,
            status: Status::Recovered,
            records: Vec::new(),
            history,
            former_tags: Vec::new(),
            confirmed: None,
            before_identification: None,
        }
    }

    pub fn examinations(&self) -> impl Iterator<Item = (&ExaminationId, &Examination)> {
        self.records.iter().filter_map(|r| match r {
            RemainsRecord::Examination {
                id, examination, ..
            } => Some((id, examination)),
            _ => None,
        })
    }

    pub fn id_evidence(&self, id: &IdEvidenceId) -> Option<&IdentificationEvidence> {
        self.records.iter().find_map(|r| match r {
            RemainsRecord::IdentificationEvidence { id: i, evidence } if i == id => Some(evidence),
            _ => None,
        })
    }

    pub fn decisions(&self) -> impl Iterator<Item = (&DecisionId, &Decision)> {
        self.records.iter().filter_map(|r| match r {
            RemainsRecord::Decision { id, decision } => Some((id, decision)),
            _ => None,
        })
    }

    pub fn decision(&self, id: &DecisionId) -> Option<&Decision> {
        self.decisions().find(|(i, _)| *i == id).map(|(_, d)| d)
    }

    pub fn is_withdrawn(&self, id: &DecisionId) -> bool {
        self.records.iter().any(
            |r| matches!(r, RemainsRecord::Withdrawal { withdrawal } if &withdrawal.decision == id),
        )
    }

    pub fn release(&self) -> Option<&Release> {
        self.records.iter().rev().find_map(|r| match r {
            RemainsRecord::Released { release } => Some(release),
            _ => None,
        })
    }

    /// Checks that `record` may be appended now, and returns the status it leads to.
    pub fn admit(&self, record: &RemainsRecord) -> Result<Status, CaseError> {
        use Status::*;
        if let Some(t) = record.time() {
            if t.latest() < self.recovery.time.earliest() {
                return Err(CaseError::OutOfOrder {
                    record: format!("{} of {}", record.label(), self.tag),
                    date: t.to_string(),
                    before: format!("the recovery ({})", self.recovery.time),
                });
            }
        }
        let s = self.status;
        let moves = !matches!(
            record,
            RemainsRecord::IdentificationEvidence { .. } | RemainsRecord::RecoveryCorrected { .. }
        );
        if moves {
            if let (Some(t), Some(last)) = (record.time(), self.history.last()) {
                if t.latest() < last.time.earliest() {
                    return Err(CaseError::OutOfOrder {
                        record: format!("{} of {}", record.label(), self.tag),
                        date: t.to_string(),
                        before: format!(
                            "the last status change ({} at {})",
                            last.status, last.time
                        ),
                    });
                }
            }
        }
        match record {
            RemainsRecord::Examination { reexamination, .. } => match s {
                Recovered | Examined | ExaminationWaived => Ok(Examined),
                Exhumed => {
                    if *reexamination {
                        Ok(Examined)
                    } else {
                        Err(workflow(
                            self,
                            "record an examination of",
                            "exhumed remains get a re-examination: mark the examination as a re-examination",
                        ))
                    }
                }
                Identified | FamilyNotified => Ok(s),
                UnidentifiedBuried => Err(workflow(
                    self,
                    "examine",
                    "they are buried: record their exhumation first",
                )),
                ReturnedToFamily => Err(workflow(
                    self,
                    "examine",
                    "they were released to the family and are no longer in custody",
                )),
            },
            RemainsRecord::ExaminationWaived { waiver } => {
                if waiver.reason.trim().is_empty() || waiver.authorised_by.trim().is_empty() {
                    return Err(workflow(
                        self,
                        "waive the examination of",
                        "a waiver needs a reason and who authorised it",
                    ));
                }
                match s {
                    Recovered => Ok(ExaminationWaived),
                    _ => Err(workflow(
                        self,
                        "waive the examination of",
                        "an examination can only be waived for remains just recovered",
                    )),
                }
            }
            RemainsRecord::IdentificationEvidence { .. } => Ok(s),
            RemainsRecord::Decision { decision, .. } => self.admit_decision(decision),
            RemainsRecord::Withdrawal { withdrawal } => {
                let id = &withdrawal.decision;
                if self.decision(id).is_none() {
                    return Err(CaseError::unknown_hint(
                        "identification decision",
                        id,
                        &format!("remains {} have no such decision", self.tag),
                    ));
                }
                if self.is_withdrawn(id) {
                    return Err(workflow(
                        self,
                        "withdraw the identification of",
                        format!("decision {id} is already withdrawn"),
                    ));
                }
                if withdrawal.reason.trim().is_empty() {
                    return Err(workflow(
                        self,
                        "withdraw the identification of",
                        "a withdrawal needs a reason",
                    ));
                }
                if self.confirmed.as_ref() == Some(id) {
                    match s {
                        Identified | FamilyNotified => {
                            Ok(self.before_identification.unwrap_or(Examined))
                        }
                        _ => Err(workflow(
                            self,
                            "withdraw the identification of",
                            "they have been released to the family; a withdrawal needs them back in custody (record their recovery under a new tag)",
                        )),
                    }
                } else {
                    Ok(s)
                }
            }
            RemainsRecord::FamilyNotified { .. } => match s {
                Identified => Ok(FamilyNotified),
                FamilyNotified => Err(workflow(
                    self,
                    "notify the family of",
                    "the family was already notified",
                )),
                ReturnedToFamily => Err(workflow(
                    self,
                    "notify the family of",
                    "they were already returned to the family",
                )),
                _ => Err(workflow(
                    self,
                    "notify the family of",
                    "no confirmed identification: record a confirmed identification decision first",
                )),
            },
            RemainsRecord::Released { release } => {
                if release.released_to.trim().is_empty() {
                    return Err(workflow(
                        self,
                        "release",
                        "a release record needs the recipient's role (e.g. next of kin)",
                    ));
                }
                match s {
                    FamilyNotified => Ok(ReturnedToFamily),
                    Identified => Err(workflow(
                        self,
                        "release",
                        "the family has not been notified: record the family notification first",
                    )),
                    ReturnedToFamily => {
                        Err(workflow(self, "release", "they were already released"))
                    }
                    _ => Err(workflow(
                        self,
                        "release",
                        "no confirmed identification and no family notification: remains are returned only after both",
                    )),
                }
            }
            RemainsRecord::BuriedUnidentified { burial } => {
                if burial.grave_marker.trim().is_empty() {
                    return Err(workflow(
                        self,
                        "bury",
                        "an unidentified burial needs the grave marker so the remains can be found again",
                    ));
                }
                match s {
                    Examined | ExaminationWaived => Ok(UnidentifiedBuried),
                    Recovered => Err(workflow(
                        self,
                        "bury",
                        "no examination: record an examination (or a waiver with its reason) first",
                    )),
                    Exhumed => Err(workflow(
                        self,
                        "bury",
                        "they were exhumed for re-examination: record the re-examination first",
                    )),
                    _ if s.is_identified() => Err(workflow(
                        self,
                        "bury as unidentified",
                        "they are identified; withdraw the identification first if it no longer holds",
                    )),
                    _ => Err(workflow(self, "bury", "they are already buried")),
                }
            }
            RemainsRecord::Exhumed { exhumation } => {
                if exhumation.authorisation.trim().is_empty() {
                    return Err(workflow(
                        self,
                        "exhume",
                        "an exhumation needs its authorisation",
                    ));
                }
                match s {
                    UnidentifiedBuried => Ok(Exhumed),
                    _ => Err(workflow(
                        self,
                        "exhume",
                        "only remains buried unidentified are exhumed here",
                    )),
                }
            }
            RemainsRecord::RecoveryCorrected { reason, .. } => {
                if reason.trim().is_empty() {
                    return Err(workflow(
                        self,
                        "correct the recovery of",
                        "a correction needs a reason",
                    ));
                }
                Ok(s)
            }
        }
    }

    fn admit_decision(&self, d: &Decision) -> Result<Status, CaseError> {
        use Status::*;
        let s = self.status;
        const ACT: &str = "record an identification decision for";
        for id in &d.basis {
            let Some(ev) = self.id_evidence(id) else {
                return Err(CaseError::unknown_hint(
                    "identification evidence",
                    id,
                    &format!(
                        "record the comparison for remains {} first, then cite its id",
                        self.tag
                    ),
                ));
            };
            if d.status == DecisionStatus::Confirmed && ev.result != IdResult::Match {
                return Err(workflow(
                    self,
                    ACT,
                    format!(
                        "{id} ({}) is not a match ({:?}); a confirmed identification rests only on matching comparisons",
                        ev.method.as_str(),
                        ev.result
                    ),
                ));
            }
        }
        match d.status {
            DecisionStatus::Presumptive => match s {
                ReturnedToFamily => Err(workflow(self, ACT, "they were already released")),
                _ => Ok(s),
            },
            DecisionStatus::Confirmed => {
                match s {
                    Examined | ExaminationWaived => {}
                    Recovered => {
                        return Err(workflow(
                            self,
                            "identify",
                            "no examination: record an examination, or waive it with a reason, first",
                        ));
                    }
                    Exhumed => {
                        return Err(workflow(
                            self,
                            "identify",
                            "they were exhumed: record the re-examination first",
                        ));
                    }
                    UnidentifiedBuried => {
                        return Err(workflow(
                            self,
                            "identify",
                            "they are buried: record the exhumation and re-examination first",
                        ));
                    }
                    _ => {
                        let by = self
                            .confirmed
                            .as_ref()
                            .map(|d| d.to_string())
                            .unwrap_or_default();
                        return Err(workflow(
                            self,
                            "identify",
                            format!("already identified by {by}; withdraw that decision first"),
                        ));
                    }
                }
                if d.person.is_none() {
                    return Err(workflow(
                        self,
                        "identify",
                        "a confirmed identification must name the person by reference (person_ref)",
                    ));
                }
                if d.board_ref.as_deref().is_none_or(|b| b.trim().is_empty()) {
                    return Err(workflow(
                        self,
                        "identify",
                        "a confirmed identification is the identification board's decision: give board_ref",
                    ));
                }
                let methods: Vec<IdMethod> = d
                    .basis
                    .iter()
                    .filter_map(|id| self.id_evidence(id).map(|e| e.method))
                    .collect();
                let primary = methods.iter().any(|m| m.is_primary());
                let mut secondary: Vec<IdMethod> = methods
                    .iter()
                    .copied()
                    .filter(|m| !m.is_primary())
                    .collect();
                secondary.sort();
                secondary.dedup();
                let combination = d.secondary_combination_approved && secondary.len() >= 2;
                if !primary && !combination {
                    let held = if methods.is_empty() {
                        "no identification evidence".to_owned()
                    } else {
                        methods
                            .iter()
                            .map(|m| m.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    return Err(workflow(
                        self,
                        "identify",
                        format!(
                            "a confirmed identification needs at least one primary identifier (DNA, fingerprints, dental) among its basis, or at least two different secondary identifiers whose combination the board approved (secondary_combination_approved); the basis holds: {held}"
                        ),
                    ));
                }
                Ok(Identified)
            }
        }
    }

    /// Appends an admitted record and moves the status.
    pub(crate) fn append(&mut self, record: RemainsRecord, next: Status, because: &str) {
        let time = record.time().cloned();
        match &record {
            RemainsRecord::Decision { id, decision }
                if decision.status == DecisionStatus::Confirmed =>
            {
                self.before_identification = Some(self.status);
                self.confirmed = Some(id.clone());
            }
            RemainsRecord::Withdrawal { withdrawal }
                if self.confirmed.as_ref() == Some(&withdrawal.decision) =>
            {
                self.confirmed = None;
                self.before_identification = None;
            }
            _ => {}
        }
        if next != self.status {
            if let Some(time) = time {
                self.history.push(StatusChange {
                    status: next,
                    time,
                    because: because.to_owned(),
                });
            }
            self.status = next;
        }
        self.records.push(record);
    }

    /// Replaces the recovery record, keeping the previous one in the log.
    pub(crate) fn correct_recovery(&mut self, recovery: Recovery, reason: String) {
        let previous = std::mem::replace(&mut self.recovery, recovery);
        if let Some(first) = self.history.first_mut() {
            first.time = self.recovery.time.clone();
        }
        self.records
            .push(RemainsRecord::RecoveryCorrected { previous, reason });
    }

    /// The status at `t`, from the status changes whose time lies wholly before `t`.
    pub fn status_at(&self, t: Moment) -> StatusAt {
        let mut known: Option<Status> = None;
        let mut uncertain = false;
        for ch in &self.history {
            if ch.time.latest() <= t {
                known = Some(ch.status);
                uncertain = false;
            } else if ch.time.earliest() <= t {
                uncertain = true;
            }
        }
        match (known, uncertain) {
            (None, false) => StatusAt::NotYetRecovered,
            (None, true) => StatusAt::Uncertain(None),
            (Some(s), true) => StatusAt::Uncertain(Some(s)),
            (Some(s), false) => StatusAt::Known(s),
        }
    }

    /// True when an examination is dated wholly before `t`.
    pub fn examined_by(&self, t: Moment) -> bool {
        self.examinations().any(|(_, e)| e.time.latest() <= t)
    }
}

/// The status of remains at an instant.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StatusAt {
    NotYetRecovered,
    Known(Status),
    /// A status change's time interval contains the instant; the last certain status.
    Uncertain(Option<Status>),
}

/// Counts of remains as of an instant, optionally within an area.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Counts {
    pub as_of: Moment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// Current status as of the instant (remains with a certain status only).
    pub by_status: BTreeMap<Status, u64>,
    /// Recovered by then (every remains whose recovery lies wholly before the instant).
    pub recovered: u64,
    /// With at least one examination dated wholly before the instant.
    pub examined: u64,
    /// Identified, notified or returned as of the instant.
    pub identified: u64,
    pub family_notified: u64,
    pub returned_to_family: u64,
    /// Remains whose status at the instant is uncertain (a status change straddles it);
    /// counted under their last certain status and listed here.
    pub uncertain: Vec<Tag>,
    /// Remains whose recovery place only partly lies in the area: not counted.
    pub partly_in_area: Vec<Tag>,
}

impl Counts {
    /// "410 recovered, 140 examined as of 2022-04-03T23:59:59+03:00".
    pub fn headline(&self) -> String {
        format!(
            "{} recovered, {} examined, {} identified, {} returned to family as of {}{}",
            self.recovered,
            self.examined,
            self.identified,
            self.returned_to_family,
            self.as_of,
            self.area
                .as_ref()
                .map(|a| format!(" within {a}"))
                .unwrap_or_default()
        )
    }
}

/// Counts the remains as of `as_of`, within `area` when given (remains whose recovery
/// place lies wholly inside; those partly inside are listed, not counted).
pub fn counts<'a>(
    remains: impl IntoIterator<Item = &'a Remains>,
    as_of: Moment,
    area: Option<&Place>,
) -> Counts {
    let mut c = Counts {
        as_of,
        area: area.map(|a| a.short()),
        by_status: BTreeMap::new(),
        recovered: 0,
        examined: 0,
        identified: 0,
        family_notified: 0,
        returned_to_family: 0,
        uncertain: Vec::new(),
        partly_in_area: Vec::new(),
    };
    for r in remains {
        if let Some(area) = area {
            match r.recovery.place.relate(area).relation {
                SpatialRelation::Within => {}
                SpatialRelation::Overlaps => {
                    c.partly_in_area.push(r.tag.clone());
                    continue;
                }
                SpatialRelation::Disjoint => continue,
            }
        }
        let status = match r.status_at(as_of) {
            StatusAt::NotYetRecovered => continue,
            StatusAt::Uncertain(s) => {
                c.uncertain.push(r.tag.clone());
                match s {
                    Some(s) => s,
                    None => continue,
                }
            }
            StatusAt::Known(s) => s,
        };
        *c.by_status.entry(status).or_default() += 1;
        c.recovered += 1;
        if r.examined_by(as_of) {
            c.examined += 1;
        }
        if status.is_identified() {
            c.identified += 1;
        }
        if matches!(status, Status::FamilyNotified | Status::ReturnedToFamily) {
            c.family_notified += 1;
        }
        if status == Status::ReturnedToFamily {
            c.returned_to_family += 1;
        }
    }
    c
}

/// Counts the remains of a case as of `as_of`, within `area` when given.
pub fn case_counts(case: &crate::case::Case, as_of: Moment, area: Option<&Place>) -> Counts {
    counts(case.remains.values(), as_of, area)
}
