//! Witnesses, their consent and their testimony, with identities kept sealed.
//!
//! A witness appears in the case only as a pseudonym (`W-0012`, allocated in sequence,
//! never reused) and a [`SealedRef`] naming an encrypted record the application keeps
//! elsewhere. The identity itself, a [`SealedIdentity`], is never part of the case
//! state, of any event, of any export or of any ordinary rendering:
//!
//! - [`SealedIdentity`] does not implement `Serialize` or `Display`, and its `Debug`
//!   prints nothing but a placeholder, so it cannot be embedded in an event, an export
//!   structure or a log line by accident (it does not compile). The application turns it
//!   into bytes for encryption with [`SealedIdentity::to_sealed_bytes`], on purpose.
//! - Showing it needs an [`UnsealGrant`], which names the actor, the permission and the
//!   ledger entry that recorded the read; [`render_unsealed`] is the only function that
//!   writes identity data out, and it takes both.
//!
//! ```compile_fail
//! // An identity cannot be serialised into JSON (or any export):
//! let id = custody_cases::witness::SealedIdentity::default();
//! let _ = serde_json::to_string(&id);
//! ```
//!
//! ```compile_fail
//! // A grant cannot be made up with a struct literal:
//! let g = custody_cases::witness::UnsealGrant { actor: String::new(), permission: String::new(), ledger_seq: 0 };
//! ```

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{ConsentId, EvidenceId, IncidentId, Pseudonym, SealedRef};
use crate::when::{Moment, TimeInterval};

/// A use a witness may consent to.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentUse {
    /// Recording and keeping the testimony.
    Recording,
    /// Use by the investigating organisation.
    Investigation,
    /// Sharing with a named prosecution authority (national or international).
    ShareWithProsecution,
    /// Use as evidence in court, including disclosure to the defence.
    CourtUse,
    /// Contact for follow-up.
    FollowUpContact,
    /// Publication of anonymised content.
    AnonymisedPublication,
    Other(String),
}

impl ConsentUse {
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "recording" => Self::Recording,
            "investigation" => Self::Investigation,
            "share_with_prosecution" => Self::ShareWithProsecution,
            "court_use" => Self::CourtUse,
            "follow_up_contact" => Self::FollowUpContact,
            "anonymised_publication" => Self::AnonymisedPublication,
            other => Self::Other(other.to_owned()),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Self::Recording => "recording",
            Self::Investigation => "investigation",
            Self::ShareWithProsecution => "share_with_prosecution",
            Self::CourtUse => "court_use",
            Self::FollowUpContact => "follow_up_contact",
            Self::AnonymisedPublication => "anonymised_publication",
            Self::Other(s) => s,
        }
    }
}

/// What a witness agreed to, when, and how it was recorded.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Consent {
    pub uses: BTreeSet<ConsentUse>,
    pub given_at: Moment,
    pub recorded_by: String,
    /// Conditions in the witness's words (e.g. "not to be shared with local police").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub conditions: String,
    /// The signed form or recording of the consent, as an evidence record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<EvidenceId>,
}

/// The withdrawal of a consent, in whole or for some uses.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ConsentWithdrawal {
    pub at: Moment,
    /// The uses withdrawn; empty means all.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub uses: BTreeSet<ConsentUse>,
    pub recorded_by: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A consent with its withdrawals.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub id: ConsentId,
    pub consent: Consent,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdrawals: Vec<ConsentWithdrawal>,
}

impl ConsentRecord {
    /// True when this consent covers `purpose` at `at`.
    pub fn covers(&self, purpose: &ConsentUse, at: Moment) -> bool {
        if self.consent.given_at > at || !self.consent.uses.contains(purpose) {
            return false;
        }
        !self
            .withdrawals
            .iter()
            .any(|w| w.at <= at && (w.uses.is_empty() || w.uses.contains(purpose)))
    }
}

/// A witness as the case knows them: pseudonym and sealed reference only.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Witness {
    pub pseudonym: Pseudonym,
    pub sealed: SealedRef,
    pub registered_at: Moment,
    pub registered_by: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consents: Vec<ConsentRecord>,
}

impl Witness {
    /// True when some consent covers `purpose` at `at`.
    pub fn consents_to(&self, purpose: &ConsentUse, at: Moment) -> bool {
        self.consents.iter().any(|c| c.covers(purpose, at))
    }
}

/// A testimony: an evidence record (its vault item holds the recording or statement)
/// given by a pseudonymous witness.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Testimony {
    pub evidence: EvidenceId,
    pub witness: Pseudonym,
    pub taken: TimeInterval,
    pub taken_by: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub language: String,
    /// The consent under which it was taken.
    pub consent: ConsentId,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<IncidentId>,
}

/// Contact details of a witness.
#[derive(Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Contact {
    pub kind: String,
    pub value: String,
}

/// The real identity and contact details of a witness or next of kin. Sealed: never in
/// the case state, events, exports or ordinary renderings (see the module docs).
#[derive(Clone, PartialEq, Eq, Default, Deserialize)]
pub struct SealedIdentity {
    pub legal_name: String,
    #[serde(default)]
    pub other_names: Vec<String>,
    #[serde(default)]
    pub date_of_birth: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub notes: String,
}

impl fmt::Debug for SealedIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedIdentity(<sealed>)")
    }
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Contact(<sealed>)")
    }
}

/// Why sealed bytes could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the sealed record is not a readable identity: {0}")]
pub struct SealedFormatError(String);

impl SealedIdentity {
    /// The plaintext bytes to encrypt, as JSON. Call only to seal the record.
    pub fn to_sealed_bytes(&self) -> Vec<u8> {
        let contacts: Vec<serde_json::Value> = self
            .contacts
            .iter()
            .map(|c| serde_json::json!({"kind": c.kind, "value": c.value}))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "format": "custody-sealed-identity",
            "version": 1,
            "legal_name": self.legal_name,
            "other_names": self.other_names,
            "date_of_birth": self.date_of_birth,
            "address": self.address,
            "contacts": contacts,
            "notes": self.notes,
        }))
        .expect("a JSON value always serialises")
    }

    /// Reads decrypted bytes written by [`SealedIdentity::to_sealed_bytes`].
    pub fn from_sealed_bytes(bytes: &[u8]) -> Result<Self, SealedFormatError> {
        #[derive(Deserialize)]
        struct Wire {
            format: String,
            version: u32,
            #[serde(flatten)]
            identity: SealedIdentity,
        }
        let w: Wire =
            serde_json::from_slice(bytes).map_err(|e| SealedFormatError(e.to_string()))?;
        if w.format != "custody-sealed-identity" || w.version != 1 {
            return Err(SealedFormatError(format!(
                "format {:?} version {} (expected custody-sealed-identity version 1)",
                w.format, w.version
            )));
        }
        Ok(w.identity)
    }
}

/// Permission to show one sealed record, issued by the application after it checked the
/// actor's permission and wrote the read to the ledger. The fields are private: the only
/// way to make one is [`UnsealGrant::after_permission_check`], whose call site is the
/// audit point.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UnsealGrant {
    actor: String,
    permission: String,
    ledger_seq: u64,
}

impl UnsealGrant {
    /// To be called by the application layer only, after checking that `actor` holds
    /// `permission` and after appending the `sealed.read` ledger entry numbered
    /// `ledger_seq`.
    pub fn after_permission_check(actor: &str, permission: &str, ledger_seq: u64) -> Self {
        Self {
            actor: actor.to_owned(),
            permission: permission.to_owned(),
            ledger_seq,
        }
    }
    pub fn actor(&self) -> &str {
        &self.actor
    }
    pub fn permission(&self) -> &str {
        &self.permission
    }
    pub fn ledger_seq(&self) -> u64 {
        self.ledger_seq
    }
}

/// A witness card with pseudonym, consents and testimony count: safe to show anywhere.
pub fn render_public(w: &Witness, testimonies: usize) -> String {
    let mut out = format!(
        "Witness {} (identity sealed: {}), registered {} by {}\n",
        w.pseudonym, w.sealed, w.registered_at, w.registered_by
    );
    for c in &w.consents {
        let uses: Vec<&str> = c.consent.uses.iter().map(|u| u.as_str()).collect();
        out.push_str(&format!(
            "  consent {} given {}: {}",
            c.id,
            c.consent.given_at,
            uses.join(", ")
        ));
        for wd in &c.withdrawals {
            let what = if wd.uses.is_empty() {
                "all uses".to_owned()
            } else {
                wd.uses
                    .iter()
                    .map(|u| u.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push_str(&format!("; withdrawn {} for {what}", wd.at));
        }
        out.push('\n');
    }
    out.push_str(&format!("  testimonies: {testimonies}\n"));
    out
}

/// The witness card with the sealed identity shown. Needs the grant for this read.
pub fn render_unsealed(w: &Witness, identity: &SealedIdentity, grant: &UnsealGrant) -> String {
    let mut out = format!(
        "SEALED RECORD {} shown to {} under permission {} (ledger entry {})\n",
        w.sealed, grant.actor, grant.permission, grant.ledger_seq
    );
    out.push_str(&format!("Witness {}\n", w.pseudonym));
    out.push_str(&format!("  name: {}\n", identity.legal_name));
    if !identity.other_names.is_empty() {
        out.push_str(&format!(
            "  other names: {}\n",
            identity.other_names.join(", ")
        ));
    }
    if let Some(d) = &identity.date_of_birth {
        out.push_str(&format!("  date of birth: {d}\n"));
    }
    if let Some(a) = &identity.address {
        out.push_str(&format!("  address: {a}\n"));
    }
    for c in &identity.contacts {
        out.push_str(&format!("  {}: {}\n", c.kind, c.value));
    }
    if !identity.notes.is_empty() {
        out.push_str(&format!("  notes: {}\n", identity.notes));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> SealedIdentity {
        SealedIdentity {
            legal_name: "Synthetic Person Quillfeather".into(),
            other_names: vec![],
            date_of_birth: Some("1970-01-01".into()),
            address: None,
            contacts: vec![Contact {
                kind: "phone".into(),
                value: "+000 SYNTHETIC 555".into(),
            }],
            notes: String::new(),
        }
    }

    #[test]
    fn debug_never_prints_the_identity() {
        let d = format!("{:?}", identity());
        assert_eq!(d, "SealedIdentity(<sealed>)");
    }

    #[test]
    fn sealed_bytes_round_trip_and_refuse_other_formats() {
        let id = identity();
        let bytes = id.to_sealed_bytes();
        assert_eq!(SealedIdentity::from_sealed_bytes(&bytes).unwrap(), id);
        assert!(
            SealedIdentity::from_sealed_bytes(br#"{"format":"x","version":1,"legal_name":"a"}"#)
                .is_err()
        );
        assert!(SealedIdentity::from_sealed_bytes(b"not json").is_err());
    }

    #[test]
    fn consent_covers_until_withdrawn() {
        let t = |s: &str| s.parse::<Moment>().unwrap();
        let mut c = ConsentRecord {
            id: ConsentId::new("CN-0001").unwrap(),
            consent: Consent {
                uses: [ConsentUse::Recording, ConsentUse::Investigation].into(),
                given_at: t("2022-04-10T10:00:00Z"),
                recorded_by: "investigator 7".into(),
                conditions: String::new(),
                document: None,
            },
            withdrawals: vec![],
        };
        assert!(!c.covers(&ConsentUse::Recording, t("2022-04-09T10:00:00Z")));
        assert!(c.covers(&ConsentUse::Recording, t("2022-04-10T10:00:00Z")));
        assert!(!c.covers(&ConsentUse::CourtUse, t("2022-04-11T10:00:00Z")));
        c.withdrawals.push(ConsentWithdrawal {
            at: t("2022-05-01T00:00:00Z"),
            uses: [ConsentUse::Investigation].into(),
            recorded_by: "investigator 7".into(),
            note: String::new(),
        });
        assert!(c.covers(&ConsentUse::Investigation, t("2022-04-30T00:00:00Z")));
        assert!(!c.covers(&ConsentUse::Investigation, t("2022-05-02T00:00:00Z")));
        assert!(c.covers(&ConsentUse::Recording, t("2022-05-02T00:00:00Z")));
    }

    #[test]
    fn unsealed_rendering_names_the_grant() {
        let w = Witness {
            pseudonym: Pseudonym::new(12),
            sealed: SealedRef::new("SEAL-0012").unwrap(),
            registered_at: "2022-04-10T10:00:00Z".parse().unwrap(),
            registered_by: "investigator 7".into(),
            consents: vec![],
        };
        let public = render_public(&w, 1);
        assert!(public.contains("W-0012") && !public.contains("Quillfeather"));
        let g = UnsealGrant::after_permission_check("prosecutor 2", "witness.unseal", 431);
        let shown = render_unsealed(&w, &identity(), &g);
        assert!(shown.contains("Quillfeather"));
        assert!(shown.contains("ledger entry 431"));
    }
}
