//! The custody ledger: an append-only log of custody events whose integrity anyone can
//! check without trusting the vault.
//!
//! - [`merkle`]: the RFC 6962 tree over entries, inclusion and consistency proofs.
//! - [`note`]: C2SP signed notes with Ed25519 keys, key IDs and `vkey` strings.
//! - [`checkpoint`]: signed tree heads in the C2SP `tlog-checkpoint` form.
//! - [`entry`]: the exact bytes of one ledger entry.
//! - [`proof`]: the JSON forms of proofs handed to third parties.
//! - [`file`]: the embedded vault's ledger files and their crash recovery.
//!
//! Formats are fixed in `docs/design/formats.md` §3–§5.

pub mod checkpoint;
pub mod entry;
pub mod error;
pub mod file;
pub mod hash;
pub mod merkle;
pub mod note;
pub mod proof;

pub use checkpoint::Checkpoint;
pub use entry::{ENTRY_VERSION, Entry};
pub use error::LedgerError;
pub use file::FileLedger;
pub use hash::Hash;
pub use merkle::Tree;
pub use note::{Signer, Verifier};
pub use proof::{ConsistencyProof, InclusionProof};
