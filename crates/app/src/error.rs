//! The application's error type.
//!
//! Policy: every error names what failed and where, and where the user can do something
//! about it, the message ends with what to do. Errors from adapters are wrapped with the
//! operation that was under way. Variants may grow (`#[non_exhaustive]`).

use std::path::PathBuf;

use custody_ledger::LedgerError;
use custody_store::CatalogError;
use custody_vault::BlobError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    #[error(
        "no vault selected: pass --vault DIR or set CUSTODY_VAULT (create one with `custody init --name NAME DIR`)"
    )]
    NoVaultSelected,
    #[error(
        "{0} is not a Custody vault (no vault.json); create one with `custody init --name NAME {0}`"
    )]
    NotAVault(PathBuf),
    #[error("{0} already holds a vault or other files; choose an empty or new directory")]
    AlreadyExists(PathBuf),
    #[error("{path} is not usable: {reason}")]
    BadConfig { path: PathBuf, reason: String },
    #[error(
        "the vault at {path} is in use by another custody process ({holder}); wait for it to finish, then try again"
    )]
    Locked { path: PathBuf, holder: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("{0}")]
    Catalog(#[from] CatalogError),
    #[error("blob store: {0}")]
    Blob(#[from] BlobError),
    #[error("no item matches {0:?}; `custody list` shows the items in this vault")]
    NoSuchItem(String),
    #[error("{query:?} matches {count} items ({examples}); give more digits or the item id")]
    AmbiguousItem {
        query: String,
        count: usize,
        examples: String,
    },
    #[error(
        "the ledger does not match its signed checkpoint of size {size}: {reason}; nothing was written. Run `custody verify` for details"
    )]
    LedgerMismatch { size: u64, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{path} already exists; choose another output file or pass --force to replace it")]
    OutputExists { path: PathBuf },
    #[error(
        "the bytes of {item} do not match their digest (the blob store copy is damaged); nothing was written. Run `custody verify --full`"
    )]
    DamagedBlob { item: String },
}

impl AppError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;
