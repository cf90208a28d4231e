//! Errors of writing a bag. (Validation does not fail: it returns a report.)

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    #[error("{0} already exists; a bag is only ever written to a new directory")]
    TargetExists(PathBuf),
    #[error("{0} cannot hold a bag: give a path whose parent directory exists")]
    BadTarget(PathBuf),
    #[error("cannot use `{path}` as a path in the bag: {reason}")]
    InvalidPath { path: String, reason: String },
    #[error(
        "`{path}` collides with `{existing}`, already in the bag (paths are compared as a \
         case-insensitive file system would); give each file a distinct name, for example \
         with PathNamer"
    )]
    Collision { path: String, existing: String },
    #[error("`{0}` is a name BagIt reserves for itself; choose another tag file name")]
    ReservedTagFile(String),
    #[error("bag-info.txt: {0}")]
    BagInfo(String),
    #[error("reading the source of `{path}` failed: {source}")]
    Source {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the bytes copied to `{path}` hash to SHA-256 {actual}, not the expected {expected}; \
         the source is damaged or changed while it was read, so the export stops"
    )]
    DigestMismatch {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("an earlier failure left this bag incomplete; drop the writer and start again")]
    Poisoned,
}

impl PackageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// True when the failure is the destination being full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            PackageError::Io { source, .. } => {
                source.raw_os_error() == Some(libc::ENOSPC)
                    || source.raw_os_error() == Some(libc::EDQUOT)
            }
            _ => false,
        }
    }
}

pub type Result<T, E = PackageError> = std::result::Result<T, E>;
