//! Witnesses of a case: registration with a sealed identity, consent, testimony, and the
//! one way to see an identity again ([`unseal`]).
//!
//! A witness is registered in one ledger batch: the `sealed.stored` entry of the
//! encrypted identity (written to `sealed/` first), then the `witness.registered` case
//! event naming the pseudonym and the sealed reference only. A testimony is a vault item
//! registered as evidence of kind `testimony` and linked to the pseudonym, under a
//! consent that covers recording.

use std::path::Path;

use custody_cases::Command;
use custody_cases::evidence::{Evidence, EvidenceKind};
use custody_cases::ids::{ConsentId, EvidenceId, IncidentId, Pseudonym};
use custody_cases::when::{Moment, TimeInterval};
use custody_cases::witness::{SealedIdentity, Testimony, Witness, render_public, render_unsealed};
use custody_model::ItemId;
use custody_store::SealedReadRow;
use serde::Serialize;

use super::{Recorded, commit_events, known, load, plan};
use crate::error::{AppError, Result};
use crate::sealed::{self, ReadRequest};
use crate::vault::Vault;

fn pseudonym(s: &str) -> Result<Pseudonym> {
    s.trim()
        .parse()
        .map_err(|e: custody_cases::ids::PseudonymParseError| AppError::Invalid(e.to_string()))
}

fn witness<'a>(case: &'a custody_cases::Case, w: &str) -> Result<&'a Witness> {
    let p = pseudonym(w)?;
    case.witnesses.get(&p).ok_or_else(|| {
        AppError::Invalid(format!(
            "unknown witness {p} in case {}; known witnesses: {}",
            case.id,
            known(case.witnesses.keys())
        ))
    })
}

/// Registers a witness: seals the identity, then records the pseudonym.
pub async fn register(
    vault: &Vault,
    key_file: Option<&Path>,
    case_id: &str,
    identity: &SealedIdentity,
    at: Option<Moment>,
    by: &str,
) -> Result<Recorded> {
    if identity.legal_name.trim().is_empty() {
        return Err(AppError::Invalid(
            "the identity needs a legal_name; nothing was registered".into(),
        ));
    }
    let case = load(vault, case_id).await?;
    let reference = sealed::new_ref()?;
    let at = at.unwrap_or_else(super::input::now);
    // Validate first, so no sealed record is written for a registration that fails.
    let events = plan(
        &case,
        vec![Command::RegisterWitness {
            sealed: reference.clone(),
            at,
            by: by.to_owned(),
        }],
    )?;
    let stored = sealed::seal(
        vault,
        key_file,
        &reference,
        identity,
        case.id.as_str(),
        "witness identity and contact details",
    )?;
    let wrapped = events.into_iter().map(|e| case.wrap(e)).collect();
    commit_events(vault, &case.id, vec![stored], wrapped, Vec::new()).await
}

/// A witness as anyone may see it, with the reads of its sealed record.
#[derive(Clone, Debug, Serialize)]
pub struct WitnessView {
    pub witness: Witness,
    pub testimonies: Vec<EvidenceId>,
    /// Rendered card: pseudonym, sealed reference, consents; never the identity.
    pub card: String,
    pub reads: Vec<ReadView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReadView {
    pub ledger_seq: u64,
    pub actor: String,
    pub permission: String,
    pub purpose: String,
}

impl From<SealedReadRow> for ReadView {
    fn from(r: SealedReadRow) -> Self {
        Self {
            ledger_seq: r.seq,
            actor: r.actor,
            permission: r.permission,
            purpose: r.purpose,
        }
    }
}

/// The public view of a witness (no identity).
pub async fn show(vault: &Vault, case_id: &str, w: &str) -> Result<WitnessView> {
    let case = load(vault, case_id).await?;
    let wit = witness(&case, w)?.clone();
    let testimonies: Vec<EvidenceId> = case
        .testimonies
        .values()
        .filter(|t| t.witness == wit.pseudonym)
        .map(|t| t.evidence.clone())
        .collect();
    let reads = vault
        .catalog()
        .sealed_reads(wit.sealed.as_str())
        .await?
        .into_iter()
        .map(ReadView::from)
        .collect();
    Ok(WitnessView {
        card: render_public(&wit, testimonies.len()),
        witness: wit,
        testimonies,
        reads,
    })
}

/// What an unseal showed, and the ledger entry that recorded the read.
#[derive(Clone, Debug)]
pub struct Unsealed {
    pub text: String,
    pub ledger_seq: u64,
}

/// Shows a witness's sealed identity: checks the permission, records the read in the
/// ledger, decrypts, and renders with the grant.
pub async fn unseal(
    vault: &Vault,
    key_file: Option<&Path>,
    case_id: &str,
    w: &str,
    permission: &str,
    purpose: &str,
) -> Result<Unsealed> {
    let case = load(vault, case_id).await?;
    let wit = witness(&case, w)?;
    let name = wit.pseudonym.to_string();
    let (identity, grant) = sealed::read_identity(
        vault,
        key_file,
        &wit.sealed,
        &ReadRequest {
            permission,
            purpose,
            case: case.id.as_str(),
            witness: &name,
        },
    )
    .await?;
    Ok(Unsealed {
        text: render_unsealed(wit, &identity, &grant),
        ledger_seq: grant.ledger_seq(),
    })
}

/// A testimony as entered.
#[derive(Clone, Debug)]
pub struct TestimonyInput {
    pub witness: String,
    pub evidence: String,
    /// The vault item holding the recording or statement.
    pub item: Option<ItemId>,
    pub consent: String,
    pub taken: TimeInterval,
    pub taken_by: String,
    pub language: String,
    pub incidents: Vec<String>,
    pub description: String,
}

/// Records a testimony: registers its evidence record (kind testimony) when new, links
/// the item, and links the testimony to the witness, in one batch.
pub async fn testimony(vault: &Vault, case_id: &str, t: TestimonyInput) -> Result<Recorded> {
    let case = load(vault, case_id).await?;
    let wit = witness(&case, &t.witness)?.pseudonym;
    let bad = |e: custody_cases::ids::LabelError| AppError::Invalid(e.to_string());
    let evidence = EvidenceId::new(t.evidence.trim()).map_err(bad)?;
    let mut cmds = Vec::new();
    match case.evidence.get(&evidence) {
        None => cmds.push(Command::RegisterEvidence {
            evidence: Evidence {
                id: evidence.clone(),
                item: t.item,
                kind: EvidenceKind::Testimony,
                source: format!("testimony of witness {wit}"),
                description: t.description.clone(),
                captured: Some(t.taken.clone()),
                place: None,
                links: Vec::new(),
                media: None,
                remains: Vec::new(),
                coverage: None,
            },
        }),
        Some(ev) => {
            if let Some(item) = t.item {
                if ev.item != Some(item) {
                    cmds.push(Command::LinkEvidenceItem {
                        evidence: evidence.clone(),
                        item,
                    });
                }
            }
        }
    }
    let incidents = t
        .incidents
        .iter()
        .map(|i| IncidentId::new(i.trim()).map_err(bad))
        .collect::<Result<Vec<_>>>()?;
    cmds.push(Command::RecordTestimony {
        testimony: Testimony {
            evidence,
            witness: wit,
            taken: t.taken,
            taken_by: t.taken_by,
            language: t.language,
            consent: ConsentId::new(t.consent.trim()).map_err(bad)?,
            incidents,
        },
    });
    let events = plan(&case, cmds)?;
    let wrapped = events.into_iter().map(|e| case.wrap(e)).collect();
    commit_events(vault, &case.id, Vec::new(), wrapped, Vec::new()).await
}

/// Parses a pseudonym (`W-0012`) for commands built elsewhere.
pub fn parse_pseudonym(s: &str) -> Result<Pseudonym> {
    pseudonym(s)
}
