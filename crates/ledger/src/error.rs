//! Errors of the ledger. Each says what is wrong and, where it can, what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ledger entry {seq} is malformed: {reason}")]
    MalformedEntry { seq: u64, reason: String },
    #[error("ledger entry {0} does not exist (the ledger holds {1} entries)")]
    NoSuchEntry(u64, u64),
    #[error("tree size {requested} is beyond the ledger's {available} entries")]
    SizeOutOfRange { requested: u64, available: u64 },
    #[error("malformed signed note: {0}")]
    MalformedNote(String),
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    #[error("malformed verifier key: {0}")]
    MalformedKey(String),
    #[error("signature does not verify: {0}")]
    BadSignature(String),
    #[error("the ledger files are damaged: {0}; run `custody verify` to see every problem")]
    Damaged(String),
}

impl LedgerError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = LedgerError> = std::result::Result<T, E>;
