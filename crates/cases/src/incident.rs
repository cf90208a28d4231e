//! Incidents: what happened, where (an area) and when (an interval), the crimes it may
//! amount to, the evidence linked to it, and the links from evidence to legal elements.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::crimes::CrimeRef;
use crate::geo::Place;
use crate::ids::{EvidenceId, IncidentId};
use crate::when::TimeInterval;

/// Whether an item supports or undercuts an element.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    Supports,
    Undercuts,
}

/// A link from an evidence record to one element of one candidate crime.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ElementLink {
    pub crime: CrimeRef,
    pub element: String,
    pub evidence: EvidenceId,
    pub stance: Stance,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    pub by: String,
}

/// A link as held in the state, with its retraction if any.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct HeldLink {
    pub link: ElementLink,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retracted: Option<String>,
}

/// What the user states when adding an incident.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct IncidentDraft {
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub place: Place,
    pub time: TimeInterval,
}

/// An incident of the case.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    #[serde(flatten)]
    pub draft: IncidentDraft,
    pub crimes: Vec<CrimeRef>,
    pub evidence: BTreeSet<EvidenceId>,
    pub links: Vec<HeldLink>,
}

impl Incident {
    /// Links in force (not retracted).
    pub fn active_links(&self) -> impl Iterator<Item = &ElementLink> {
        self.links
            .iter()
            .filter(|l| l.retracted.is_none())
            .map(|l| &l.link)
    }
}
