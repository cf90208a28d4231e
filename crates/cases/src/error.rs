//! The case model's error type.
//!
//! Policy: an error names the record concerned, says what is wrong, and where the user
//! can act, what to do next ("record an examination first"). Workflow errors say which
//! record is missing. Variants may grow (`#[non_exhaustive]`).

use crate::forensic::Status;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CaseError {
    #[error("no case is open: the first event must open the case")]
    NotOpened,
    #[error("case {0} is already open; a case is opened once")]
    AlreadyOpened(String),
    #[error("this event belongs to case {found}, not to case {expected}")]
    WrongCase { expected: String, found: String },
    #[error("{kind} {id} already exists; identifiers are never reused, choose another")]
    Duplicate { kind: &'static str, id: String },
    #[error("unknown {kind} {id}{hint}")]
    Unknown {
        kind: &'static str,
        id: String,
        hint: String,
    },
    #[error(
        "tag number {tag} was retired when it was corrected to {replaced_by}; a tag number is never reused: use {replaced_by} for these remains, or a new tag number for other remains"
    )]
    TagRetired { tag: String, replaced_by: String },
    #[error("cannot {action} remains {tag}: their status is {status}; {missing}")]
    Workflow {
        tag: String,
        action: &'static str,
        status: Status,
        missing: String,
    },
    #[error("{record} is dated {date}, before {before}; check the date")]
    OutOfOrder {
        record: String,
        date: String,
        before: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error(
        "witness {witness} has no consent in force for {purpose}; record the witness's consent first"
    )]
    NoConsent { witness: String, purpose: String },
    #[error(
        "the check result for claim {claim} has changed since version {given} was reviewed (it is now {current}); run the check again and review the new result"
    )]
    StaleResult {
        claim: String,
        given: String,
        current: String,
    },
    #[error("event format version {0} is not supported (this build reads version {1})")]
    UnsupportedVersion(u32, u32),
}

impl CaseError {
    pub(crate) fn unknown(kind: &'static str, id: impl ToString) -> Self {
        Self::Unknown {
            kind,
            id: id.to_string(),
            hint: String::new(),
        }
    }
    pub(crate) fn unknown_hint(kind: &'static str, id: impl ToString, hint: &str) -> Self {
        Self::Unknown {
            kind,
            id: id.to_string(),
            hint: format!("; {hint}"),
        }
    }
    pub(crate) fn duplicate(kind: &'static str, id: impl ToString) -> Self {
        Self::Duplicate {
            kind,
            id: id.to_string(),
        }
    }
}

pub type Result<T, E = CaseError> = std::result::Result<T, E>;
