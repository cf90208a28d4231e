//! Identifiers used inside a case: labels people write on spreadsheets and forms
//! (`EV-04`, `PL-BUCHA`, `DEMO-R-001`), and the ones the case allocates itself
//! (`INC-0001`, `OB-0001`, `W-0012`, ...).
//!
//! Every identifier is a validated label: 1 to 64 characters from `A-Z a-z 0-9 . _ - : /`,
//! starting with a letter or digit. Allocated identifiers are a prefix and a sequence
//! number; a number once allocated is never handed out again, even when the record it
//! named is withdrawn or corrected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a usable label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{kind} {value:?} is not a valid label: use 1 to 64 characters from letters, digits and . _ - : /, starting with a letter or digit"
)]
pub struct LabelError {
    pub kind: &'static str,
    pub value: String,
}

pub(crate) fn check_label(kind: &'static str, s: &str) -> Result<(), LabelError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':' | b'/'));
    if ok {
        Ok(())
    } else {
        Err(LabelError {
            kind,
            value: s.to_owned(),
        })
    }
}

macro_rules! label_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(String);

        impl $name {
            /// Validates `s` as a label.
            pub fn new(s: impl Into<String>) -> Result<Self, LabelError> {
                let s = s.into();
                check_label($kind, &s)?;
                Ok(Self(s))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = LabelError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

label_id!(
    /// A case, e.g. `DEMO-CASE-BUCHA-2022`.
    CaseId,
    "case id"
);
label_id!(
    /// A named place of the case, e.g. `PL-YABLUNSKA`.
    PlaceId,
    "place id"
);
label_id!(
    /// A control period (who controlled a place when), e.g. `CP-BUCHA-RU`.
    ControlPeriodId,
    "control period id"
);
label_id!(
    /// An evidence record of the case, e.g. `EV-04`. It may be linked to a vault item.
    EvidenceId,
    "evidence id"
);
label_id!(
    /// A claim, e.g. `CL-01`.
    ClaimId,
    "claim id"
);
label_id!(
    /// An incident, e.g. `INC-0001`.
    IncidentId,
    "incident id"
);
label_id!(
    /// An observation on an evidence record, e.g. `OB-0001`.
    ObservationId,
    "observation id"
);
label_id!(
    /// The tag number on remains (body bag, mortuary register), e.g. `DEMO-R-001`.
    /// A tag number is never reused, not even after a correction retires it.
    Tag,
    "tag number"
);
label_id!(
    /// An examination record, e.g. `EX-0001`.
    ExaminationId,
    "examination id"
);
label_id!(
    /// An identification-evidence record (one comparison), e.g. `IE-0001`.
    IdEvidenceId,
    "identification evidence id"
);
label_id!(
    /// An identification decision, e.g. `IDD-0001`.
    DecisionId,
    "decision id"
);
label_id!(
    /// A consent record of a witness, e.g. `CN-0001`.
    ConsentId,
    "consent id"
);
label_id!(
    /// A reference to a record in the sensitive store (ante-mortem record, missing
    /// person), e.g. `AM-0042`. It carries no personal data itself.
    PersonRef,
    "person reference"
);
label_id!(
    /// A reference to a sealed record: an encrypted payload the application keeps outside
    /// the public case state, readable only with an explicit permission.
    SealedRef,
    "sealed record reference"
);

/// A pseudonymous witness, `W-0012`. Allocated sequentially by the case and never reused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Pseudonym(u32);

impl Pseudonym {
    pub const PREFIX: &'static str = "W-";

    pub fn new(n: u32) -> Self {
        Self(n)
    }
    pub fn number(self) -> u32 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a witness pseudonym (pseudonyms look like W-0012)")]
pub struct PseudonymParseError(pub String);

impl FromStr for Pseudonym {
    type Err = PseudonymParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s
            .strip_prefix(Self::PREFIX)
            .ok_or_else(|| PseudonymParseError(s.to_owned()))?;
        if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PseudonymParseError(s.to_owned()));
        }
        match digits.parse() {
            Ok(n) if n > 0 => Ok(Self(n)),
            _ => Err(PseudonymParseError(s.to_owned())),
        }
    }
}

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:04}", Self::PREFIX, self.0)
    }
}

impl Serialize for Pseudonym {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Pseudonym {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Formats an allocated identifier: `prefix` and a zero-padded sequence number.
pub(crate) fn allocated(prefix: &str, n: u64) -> String {
    format!("{prefix}-{n:04}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_accept_common_forms_and_reject_junk() {
        assert!(EvidenceId::new("EV-04").is_ok());
        assert!(Tag::new("DEMO-R-001").is_ok());
        assert!(PlaceId::new("PL/NORTH:1.a_b").is_ok());
        assert!(EvidenceId::new("").is_err());
        assert!(EvidenceId::new("-EV").is_err());
        assert!(EvidenceId::new("EV 04").is_err());
        assert!(EvidenceId::new("x".repeat(65)).is_err());
        let e = Tag::new("a b").unwrap_err();
        assert!(e.to_string().contains("tag number \"a b\""), "{e}");
    }

    #[test]
    fn pseudonyms_pad_and_round_trip() {
        assert_eq!(Pseudonym::new(12).to_string(), "W-0012");
        assert_eq!("W-0012".parse::<Pseudonym>().unwrap(), Pseudonym::new(12));
        assert_eq!("W-12345".parse::<Pseudonym>().unwrap().number(), 12345);
        assert!("W-0".parse::<Pseudonym>().is_err());
        assert!("W-".parse::<Pseudonym>().is_err());
        assert!("X-0001".parse::<Pseudonym>().is_err());
    }
}
