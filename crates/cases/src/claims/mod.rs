//! Claims: who said what, when, where it was published, and a structured assertion
//! that can be checked against the observations of the case ([`check()`]).
//!
//! The rules are written down in `docs/design/claim-checks.md`; [`check()`] follows
//! them and writes its reasons, the interval arithmetic included, into the result.

mod check;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::evidence::Subject;
use crate::geo::Place;
use crate::ids::{ClaimId, EvidenceId};
use crate::when::{Moment, TimeInterval};

pub use check::{
    CheckOptions, ClaimResult, ObservationCheck, PairResult, Relation, Summary, check, check_claim,
};

/// A stage of the forensic workflow a count can speak of.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountedStage {
    Recovered,
    Examined,
    Identified,
    FamilyNotified,
    ReturnedToFamily,
}

impl CountedStage {
    pub const ALL: [CountedStage; 5] = [
        CountedStage::Recovered,
        CountedStage::Examined,
        CountedStage::Identified,
        CountedStage::FamilyNotified,
        CountedStage::ReturnedToFamily,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recovered => "recovered",
            Self::Examined => "examined",
            Self::Identified => "identified",
            Self::FamilyNotified => "family_notified",
            Self::ReturnedToFamily => "returned_to_family",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }
}

impl fmt::Display for CountedStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a claim asserts, in a form the check can evaluate.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Predicate {
    /// The subject was not at the place at any time up to and including `until`.
    AbsentBefore {
        subject: Subject,
        place: Place,
        until: Moment,
    },
    /// The subject was at the place at some time within `during`.
    PresentAt {
        subject: Subject,
        place: Place,
        during: TimeInterval,
    },
    /// The event (whose effects are the subject) happened within `during`.
    OccurredBetween {
        subject: Subject,
        place: Place,
        during: TimeInterval,
    },
    /// So many remains had reached each stage by `as_of`, within the place.
    Count {
        place: Place,
        as_of: Moment,
        figures: BTreeMap<CountedStage, u64>,
    },
    /// An alternative cause ("shelling by the other side"): never settled by time and
    /// place; routed to forensic review.
    CausalAlternative {
        place: Place,
        cause: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
    },
}

impl Predicate {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::AbsentBefore { .. } => "absent_before",
            Self::PresentAt { .. } => "present_at",
            Self::OccurredBetween { .. } => "occurred_between",
            Self::Count { .. } => "count",
            Self::CausalAlternative { .. } => "causal_alternative",
        }
    }

    pub fn place(&self) -> &Place {
        match self {
            Self::AbsentBefore { place, .. }
            | Self::PresentAt { place, .. }
            | Self::OccurredBetween { place, .. }
            | Self::Count { place, .. }
            | Self::CausalAlternative { place, .. } => place,
        }
    }

    /// One line: "absent_before 'bodies on street' at PL-YABLUNSKA until ...".
    pub fn describe(&self) -> String {
        match self {
            Self::AbsentBefore {
                subject,
                place,
                until,
            } => format!(
                "absent_before: '{subject}' not at {} until {until}",
                place.short()
            ),
            Self::PresentAt {
                subject,
                place,
                during,
            } => format!(
                "present_at: '{subject}' at {} during {during}",
                place.short()
            ),
            Self::OccurredBetween {
                subject,
                place,
                during,
            } => format!(
                "occurred_between: '{subject}' at {} within {during}",
                place.short()
            ),
            Self::Count {
                place,
                as_of,
                figures,
            } => {
                let f: Vec<String> = figures.iter().map(|(k, v)| format!("{v} {k}")).collect();
                format!(
                    "count: {} as of {as_of} within {}",
                    f.join(", "),
                    place.short()
                )
            }
            Self::CausalAlternative { place, cause, .. } => {
                format!("causal_alternative: '{cause}' at {}", place.short())
            }
        }
    }
}

/// A claim: who said what, when, where it was published.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Claim {
    pub id: ClaimId,
    pub made_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_at: Option<TimeInterval>,
    /// The evidence record holding the publication of the claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_evidence: Option<EvidenceId>,
    /// The claim in words (paraphrase or quotation, as the source allows).
    pub assertion: String,
    pub predicate: Predicate,
}

/// An analyst's sign-off of one version of a claim's check result.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct SignOff {
    pub claim: ClaimId,
    /// [`ClaimResult::version`] of the result reviewed.
    pub result_version: String,
    pub summary: Summary,
    pub by: String,
    pub at: Moment,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}
