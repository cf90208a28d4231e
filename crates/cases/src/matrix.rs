//! The element-of-crime matrix: for an incident, each candidate crime, each legal
//! element, and the evidence linked to it as supporting or undercutting. Elements with
//! no supporting evidence are gaps, and are shown as such.

use serde::Serialize;

use crate::case::Case;
use crate::crimes::{CrimeRef, ElementKind, definition};
use crate::error::{CaseError, Result};
use crate::ids::{EvidenceId, IncidentId};
use crate::incident::Stance;

/// The state of one element.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementState {
    /// No supporting evidence (undercutting evidence may exist).
    Gap,
    /// Supporting evidence and no undercutting evidence.
    Supported,
    /// Both supporting and undercutting evidence.
    Contested,
}

impl ElementState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gap => "GAP",
            Self::Supported => "supported",
            Self::Contested => "contested",
        }
    }
}

/// Evidence linked to an element.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct LinkedEvidence {
    pub evidence: EvidenceId,
    pub note: String,
    pub by: String,
}

/// One row: an element and its evidence.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct ElementRow {
    pub element: &'static str,
    pub kind: ElementKind,
    pub text: &'static str,
    pub supporting: Vec<LinkedEvidence>,
    pub undercutting: Vec<LinkedEvidence>,
    pub state: ElementState,
}

/// The rows of one candidate crime.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct CrimeMatrix {
    pub crime: CrimeRef,
    pub title: &'static str,
    pub generic: bool,
    pub rows: Vec<ElementRow>,
}

impl CrimeMatrix {
    pub fn gaps(&self) -> impl Iterator<Item = &ElementRow> {
        self.rows.iter().filter(|r| r.state == ElementState::Gap)
    }
}

/// The matrix of an incident.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct Matrix {
    pub incident: IncidentId,
    pub title: String,
    pub crimes: Vec<CrimeMatrix>,
}

impl Matrix {
    pub fn crime(&self, code: &str) -> Option<&CrimeMatrix> {
        self.crimes.iter().find(|c| c.crime.as_str() == code)
    }

    /// All gaps as (crime, element) pairs.
    pub fn gaps(&self) -> Vec<(&CrimeRef, &'static str)> {
        self.crimes
            .iter()
            .flat_map(|c| c.gaps().map(move |r| (&c.crime, r.element)))
            .collect()
    }

    /// A plain-text table for the terminal.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Element-of-crime matrix for {} — {}\n",
            self.incident, self.title
        );
        for c in &self.crimes {
            out.push_str(&format!("\n{} {}", c.crime, c.title));
            if c.generic {
                out.push_str(" [generic elements]");
            }
            out.push('\n');
            for r in &c.rows {
                let ids = |v: &[LinkedEvidence]| {
                    if v.is_empty() {
                        "—".to_owned()
                    } else {
                        v.iter()
                            .map(|l| l.evidence.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                };
                out.push_str(&format!(
                    "  {:<10} {:<22} supports: {:<24} undercuts: {:<16} {}\n",
                    r.state.as_str(),
                    r.element,
                    ids(&r.supporting),
                    ids(&r.undercutting),
                    r.text
                ));
            }
        }
        let gaps = self.gaps();
        out.push_str(&format!(
            "\n{} element(s) without supporting evidence{}\n",
            gaps.len(),
            if gaps.is_empty() { "" } else { " (GAP)" }
        ));
        out
    }
}

/// Builds the matrix of `incident`.
pub fn build(case: &Case, incident: &IncidentId) -> Result<Matrix> {
    let inc = case
        .incidents
        .get(incident)
        .ok_or_else(|| CaseError::unknown("incident", incident))?;
    let crimes = inc
        .crimes
        .iter()
        .map(|crime| {
            let def = definition(crime);
            let rows = def
                .elements
                .iter()
                .map(|el| {
                    let mut supporting = Vec::new();
                    let mut undercutting = Vec::new();
                    for l in inc
                        .active_links()
                        .filter(|l| &l.crime == crime && l.element == el.id)
                    {
                        let le = LinkedEvidence {
                            evidence: l.evidence.clone(),
                            note: l.note.clone(),
                            by: l.by.clone(),
                        };
                        match l.stance {
                            Stance::Supports => supporting.push(le),
                            Stance::Undercuts => undercutting.push(le),
                        }
                    }
                    let state = match (supporting.is_empty(), undercutting.is_empty()) {
                        (true, _) => ElementState::Gap,
                        (false, true) => ElementState::Supported,
                        (false, false) => ElementState::Contested,
                    };
                    ElementRow {
                        element: el.id,
                        kind: el.kind,
                        text: el.text,
                        supporting,
                        undercutting,
                        state,
                    }
                })
                .collect();
            CrimeMatrix {
                crime: crime.clone(),
                title: def.title,
                generic: def.generic,
                rows,
            }
        })
        .collect();
    Ok(Matrix {
        incident: incident.clone(),
        title: inc.draft.title.clone(),
        crimes,
    })
}
