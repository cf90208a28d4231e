//! The certificate files in the vault's `keys/` directory that say whom it trusts: the
//! TSA roots time-stamps are verified against (`tsa-roots.pem`) and the trust anchors
//! of content-credential signers (`c2pa-anchors.pem`). Both are PEM bundles that only
//! grow; what they vouch for is judged each time it is used, so a certificate added
//! later counts without extracting or importing again.

use std::path::{Path, PathBuf};

use custody_model::Digest;
use custody_timestamp::TrustAnchors;
use serde::Serialize;

use crate::error::{AppError, Result};
use crate::vault::KEYS_DIR;

/// One of the vault's trust files: its name in `keys/`, what it holds in words, and the
/// command option that adds to it.
#[derive(Clone, Copy, Debug)]
pub struct TrustFile {
    pub file: &'static str,
    pub what: &'static str,
    pub added_with: &'static str,
}

/// Roots of the time-stamping authorities whose tokens the vault accepts.
pub const TSA_ROOTS: TrustFile = TrustFile {
    file: "tsa-roots.pem",
    what: "TSA roots",
    added_with: "custody timestamp --roots FILE",
};

/// Trust anchors of C2PA claim signers (cameras, editing tools, publishers).
pub const C2PA_ANCHORS: TrustFile = TrustFile {
    file: "c2pa-anchors.pem",
    what: "C2PA trust anchors",
    added_with: "custody credentials --anchors FILE",
};

/// One certificate of a trust file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Anchor {
    /// RFC 4514 subject.
    pub subject: String,
    /// SHA-256 of the certificate's DER, as `openssl x509 -fingerprint -sha256` gives it
    /// (without the colons).
    pub sha256: Digest,
    /// Whether it may issue certificates (basicConstraints cA). One that may not vouches
    /// only for signatures made with its own key.
    pub is_ca: bool,
    /// Its notAfter, RFC 3339, UTC: chains are judged at a time it must cover.
    pub not_after: String,
}

impl TrustFile {
    /// The file's path in the vault at `vault_dir`.
    pub fn path(&self, vault_dir: &Path) -> PathBuf {
        vault_dir.join(KEYS_DIR).join(self.file)
    }

    /// The certificates (DER) the file holds; none when it does not exist.
    fn read(&self, vault_dir: &Path) -> Result<Vec<Vec<u8>>> {
        Ok(self.read_with_text(vault_dir)?.1)
    }

    /// The file as it is, and the certificates (DER) it holds.
    fn read_with_text(&self, vault_dir: &Path) -> Result<(Vec<u8>, Vec<Vec<u8>>)> {
        let path = self.path(vault_dir);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
            Err(e) => return Err(AppError::io(format!("reading {}", path.display()), e)),
        };
        if bytes.is_empty() {
            return Ok(Default::default());
        }
        let certs = custody_timestamp::certificates_from_pem(&bytes, self.what).map_err(|e| {
            AppError::BadConfig {
                path,
                reason: format!(
                    "{e}; repair it or move it aside (its certificates can be added again with `{}`)",
                    self.added_with
                ),
            }
        })?;
        Ok((bytes, certs))
    }

    /// Adds the certificates in `pem` (PEM, or one DER certificate); returns how many
    /// were not there already. A damaged file is not added to: what it held would stay
    /// unusable.
    pub fn add(&self, vault_dir: &Path, pem: &[u8]) -> Result<usize> {
        let certs = custody_timestamp::certificates_from_pem(pem, self.what)
            .map_err(|e| AppError::Invalid(format!("not usable as {}: {e}", self.what)))?;
        let (mut all, existing) = self.read_with_text(vault_dir)?;
        let mut new: Vec<Vec<u8>> = Vec::new();
        for c in certs {
            if !existing.contains(&c) && !new.contains(&c) {
                new.push(c);
            }
        }
        if new.is_empty() {
            return Ok(0);
        }
        let path = self.path(vault_dir);
        // A file holding one DER certificate is written out as PEM first, so that what
        // it held stays readable beside the PEM added to it.
        if !existing.is_empty() && !all.windows(11).any(|w| w == b"-----BEGIN ") {
            all = custody_timestamp::certificates_pem(&existing).into_bytes();
        }
        if all.last().is_some_and(|b| *b != b'\n') {
            all.push(b'\n');
        }
        all.extend_from_slice(custody_timestamp::certificates_pem(&new).as_bytes());
        custody_ledger::file::write_atomic(&path, &all)?;
        Ok(new.len())
    }

    /// The file's certificates as trust anchors (none when it does not exist).
    pub fn load(&self, vault_dir: &Path) -> Result<TrustAnchors> {
        let mut anchors = TrustAnchors::new();
        for der in self.read(vault_dir)? {
            anchors.add_der(&der).map_err(|e| AppError::BadConfig {
                path: self.path(vault_dir),
                reason: e.to_string(),
            })?;
        }
        Ok(anchors)
    }

    /// The file's certificates, in the order they were added.
    pub fn list(&self, vault_dir: &Path) -> Result<Vec<Anchor>> {
        Ok(self
            .read(vault_dir)?
            .into_iter()
            // Each was parsed when the file was read.
            .filter_map(|der| {
                let facts = custody_timestamp::certificate_facts(&der)?;
                Some(Anchor {
                    subject: facts.subject,
                    sha256: Digest::of(&der),
                    is_ca: facts.is_ca,
                    not_after: crate::credentials::rfc3339_of(facts.not_after),
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_file_is_named_and_not_added_to() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(KEYS_DIR)).unwrap();
        let path = C2PA_ANCHORS.path(dir.path());
        std::fs::write(&path, "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
        let err = C2PA_ANCHORS.load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("c2pa-anchors.pem"), "{err}");
        assert!(err.contains("custody credentials --anchors"), "{err}");
        let err = C2PA_ANCHORS
            .add(dir.path(), b"no certificate here")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not usable as C2PA trust anchors"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "-----BEGIN CERTIFICATE-----\nnot base64\n"
        );
        // No file: no anchors, and nothing listed.
        assert!(TSA_ROOTS.load(dir.path()).unwrap().is_empty());
        assert!(TSA_ROOTS.list(dir.path()).unwrap().is_empty());
    }
}
