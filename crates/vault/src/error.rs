//! Errors of blob storage.

use std::path::PathBuf;

use custody_model::Digest;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("reading the source failed: {0}")]
    Source(#[source] std::io::Error),
    #[error("blob {0} is not in the store")]
    Missing(Digest),
    #[error("nothing staged for {0}")]
    NotStaged(Digest),
    #[error("blob {expected} is damaged: its bytes hash to {actual}")]
    Corrupt { expected: Digest, actual: Digest },
    #[error("{0}")]
    Backend(String),
}

impl BlobError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// True when the failure is the storage being full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            BlobError::Io { source, .. } => {
                source.raw_os_error() == Some(libc::ENOSPC)
                    || source.raw_os_error() == Some(libc::EDQUOT)
            }
            _ => false,
        }
    }
}

pub type Result<T, E = BlobError> = std::result::Result<T, E>;
