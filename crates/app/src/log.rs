//! What third parties need from the ledger: checkpoints, the verifier key, entry bytes,
//! and proofs (formats.md §4–§5).

use custody_ledger::{ConsistencyProof, InclusionProof};

use crate::error::{AppError, Result};
use crate::vault::Vault;

/// The latest signed checkpoint note.
pub fn checkpoint(vault: &Vault) -> Result<String> {
    let ledger = vault.ledger();
    match ledger.latest_checkpoint()? {
        Some((_, note)) => Ok(note),
        None => Err(AppError::Invalid("the vault has no checkpoint yet".into())),
    }
}

/// The signed checkpoint for one tree size.
pub fn checkpoint_at(vault: &Vault, size: u64) -> Result<String> {
    let ledger = vault.ledger();
    if !ledger.checkpoint_sizes()?.contains(&size) {
        return Err(AppError::Invalid(format!(
            "there is no checkpoint of size {size}; `custody log checkpoints` lists them"
        )));
    }
    Ok(ledger.read_checkpoint(size)?)
}

pub fn checkpoint_sizes(vault: &Vault) -> Result<Vec<u64>> {
    Ok(vault.ledger().checkpoint_sizes()?)
}

pub fn verifier_key(vault: &Vault) -> String {
    vault.verifier().to_vkey()
}

/// The exact bytes of entry `seq`.
pub fn entry(vault: &Vault, seq: u64) -> Result<Vec<u8>> {
    Ok(vault.ledger().read(seq)?)
}

fn latest_size(vault: &Vault) -> Result<u64> {
    Ok(vault
        .ledger()
        .checkpoint_sizes()?
        .last()
        .copied()
        .unwrap_or(0))
}

pub fn prove(vault: &Vault, index: u64, size: Option<u64>) -> Result<InclusionProof> {
    let size = match size {
        Some(s) => s,
        None => latest_size(vault)?,
    };
    if index >= size {
        return Err(AppError::Invalid(format!(
            "entry {index} is not in a tree of size {size}; give --size larger than {index}"
        )));
    }
    let ledger = vault.ledger();
    let path = ledger.tree().inclusion_proof(index, size)?;
    Ok(InclusionProof::new(index, size, &path))
}

pub fn consistency(vault: &Vault, old: u64, new: u64) -> Result<ConsistencyProof> {
    if old > new {
        return Err(AppError::Invalid(format!(
            "the old size {old} is larger than the new size {new}"
        )));
    }
    let ledger = vault.ledger();
    let path = ledger.tree().consistency_proof(old, new)?;
    Ok(ConsistencyProof::new(old, new, &path))
}
