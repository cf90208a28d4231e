//! Whom the vault trusts: the TSA roots time-stamps are verified against and the trust
//! anchors of content-credential signers. Adding a certificate is a `trust.added` ledger
//! entry holding it (formats.md §3.2), and only certificates the ledger holds are
//! trusted. The files in `keys/` (`tsa-roots.pem`, `c2pa-anchors.pem`) are copies for
//! other tools (`openssl verify -CAfile`); a certificate put in one by hand is not
//! trusted, and `custody verify` names it. What the anchors vouch for is judged each time
//! it is used, so a certificate added later counts without extracting or importing again.

use std::path::{Path, PathBuf};

use base64::Engine;
use custody_ledger::Entry;
use custody_model::{Action, Digest, TrustAddedDetails, TrustedCertificate};
use custody_timestamp::TrustAnchors;
use serde::Serialize;

use crate::error::{AppError, Result};
use crate::vault::{KEYS_DIR, Pending, Vault};

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
    /// The `trust.added` entry that recorded it. None: it is in the file only, was not
    /// added through custody, and is not trusted.
    pub ledger_seq: Option<u64>,
}

/// A certificate the ledger holds for a trust file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub der: Vec<u8>,
    pub sha256: Digest,
    /// The `trust.added` entry that first recorded it.
    pub ledger_seq: u64,
}

/// Which certificates a trust file and the ledger disagree on, for `custody verify`.
#[derive(Debug, Default)]
pub struct FileCheck {
    /// The file holds certificates the ledger does not (added by hand or by someone
    /// else: not trusted), or cannot be read.
    pub problems: Vec<String>,
    /// Recorded certificates missing from the file (still trusted: the ledger holds them).
    pub notes: Vec<String>,
}

impl TrustFile {
    /// The file's path in the vault at `vault_dir`.
    pub fn path(&self, vault_dir: &Path) -> PathBuf {
        vault_dir.join(KEYS_DIR).join(self.file)
    }

    /// The file as it is, and the certificates (DER) it holds; nothing when it does not
    /// exist.
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
                    "{e}; move it aside: the certificates the ledger records are written to it again by the next `{}`",
                    self.added_with
                ),
            }
        })?;
        Ok((bytes, certs))
    }

    /// The certificates `entries` (the ledger's, in order) record as added to this file,
    /// each once, in the order they were added.
    pub fn recorded_in<'a>(
        &self,
        entries: impl IntoIterator<Item = &'a Entry>,
    ) -> Result<Vec<Recorded>> {
        let mut out: Vec<Recorded> = Vec::new();
        for e in entries {
            if e.action != Action::TrustAdded {
                continue;
            }
            let bad = |why: String| {
                AppError::Invalid(format!(
                    "ledger entry {} (trust.added) {why}; run `custody verify`",
                    e.seq
                ))
            };
            let d: TrustAddedDetails = serde_json::from_value(e.details.clone())
                .map_err(|err| bad(format!("has unreadable details: {err}")))?;
            if d.file != self.file {
                continue;
            }
            for c in d.certificates {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(&c.der)
                    .map_err(|err| bad(format!("holds a certificate that is not base64: {err}")))?;
                if Digest::of(&der) != c.sha256 {
                    return Err(bad(format!(
                        "holds a certificate whose SHA-256 is not the {} it names",
                        c.sha256
                    )));
                }
                if !out.iter().any(|r| r.sha256 == c.sha256) {
                    out.push(Recorded {
                        der,
                        sha256: c.sha256,
                        ledger_seq: e.seq,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The certificates the vault's ledger records for this file.
    pub async fn recorded(&self, vault: &Vault) -> Result<Vec<Recorded>> {
        self.recorded_in(&vault.entries_of(Action::TrustAdded).await?)
    }

    /// Adds the certificates in `pem` (PEM, or one DER certificate): a `trust.added`
    /// entry records those the ledger does not hold yet, then the file is made to hold
    /// every recorded certificate. Returns how many were recorded now. A damaged file is
    /// not added to: it is named, to be moved aside.
    pub async fn add(&self, vault: &Vault, pem: &[u8]) -> Result<usize> {
        let certs = custody_timestamp::certificates_from_pem(pem, self.what)
            .map_err(|e| AppError::Invalid(format!("not usable as {}: {e}", self.what)))?;
        let (mut text, in_file) = self.read_with_text(vault.dir())?;
        let mut recorded: Vec<Vec<u8>> = self
            .recorded(vault)
            .await?
            .into_iter()
            .map(|r| r.der)
            .collect();
        let mut new: Vec<Vec<u8>> = Vec::new();
        for c in certs {
            if !recorded.contains(&c) && !new.contains(&c) {
                new.push(c);
            }
        }
        if !new.is_empty() {
            let details = TrustAddedDetails {
                certificates: new
                    .iter()
                    .map(|der| TrustedCertificate {
                        der: base64::engine::general_purpose::STANDARD.encode(der),
                        sha256: Digest::of(der),
                        subject: custody_timestamp::certificate_facts(der)
                            .map(|f| f.subject)
                            .unwrap_or_default(),
                    })
                    .collect(),
                file: self.file.to_owned(),
            };
            // The entry first: once it is durable the certificates are trusted, and a
            // crash before the file is written leaves only the copy behind.
            vault
                .commit(
                    vec![Pending {
                        action: Action::TrustAdded,
                        item: None,
                        sha256: None,
                        details: serde_json::to_value(&details).expect("details serialise"),
                    }],
                    &[],
                )
                .await?;
        }
        let added = new.len();
        recorded.append(&mut new);
        let missing: Vec<Vec<u8>> = recorded
            .into_iter()
            .filter(|c| !in_file.contains(c))
            .collect();
        if missing.is_empty() {
            return Ok(added);
        }
        // A file holding one DER certificate is written out as PEM first, so that what
        // it held stays readable beside the PEM added to it.
        if !in_file.is_empty() && !text.windows(11).any(|w| w == b"-----BEGIN ") {
            text = custody_timestamp::certificates_pem(&in_file).into_bytes();
        }
        if text.last().is_some_and(|b| *b != b'\n') {
            text.push(b'\n');
        }
        text.extend_from_slice(custody_timestamp::certificates_pem(&missing).as_bytes());
        custody_ledger::file::write_atomic(&self.path(vault.dir()), &text)?;
        Ok(added)
    }

    /// Trust anchors made of recorded certificates.
    pub fn anchors(recorded: &[Recorded]) -> Result<TrustAnchors> {
        let mut anchors = TrustAnchors::new();
        for r in recorded {
            anchors.add_der(&r.der).map_err(|e| {
                AppError::Invalid(format!(
                    "the certificate recorded in ledger entry {} cannot be used: {e}",
                    r.ledger_seq
                ))
            })?;
        }
        Ok(anchors)
    }

    /// The trust anchors the vault's ledger records for this file (none when it records
    /// none).
    pub async fn load(&self, vault: &Vault) -> Result<TrustAnchors> {
        Self::anchors(&self.recorded(vault).await?)
    }

    /// The recorded certificates, in the order they were added, then any the file holds
    /// that the ledger does not (`ledger_seq` none: not trusted).
    pub async fn list(&self, vault: &Vault) -> Result<Vec<Anchor>> {
        let recorded = self.recorded(vault).await?;
        let (_, in_file) = self.read_with_text(vault.dir())?;
        let unrecorded = in_file
            .into_iter()
            .filter(|der| !recorded.iter().any(|r| &r.der == der));
        Ok(recorded
            .iter()
            .map(|r| (r.der.clone(), Some(r.ledger_seq)))
            .chain(unrecorded.map(|der| (der, None)))
            // Each was parsed when it was read or recorded.
            .filter_map(|(der, ledger_seq)| {
                let facts = custody_timestamp::certificate_facts(&der)?;
                Some(Anchor {
                    subject: facts.subject,
                    sha256: Digest::of(&der),
                    is_ca: facts.is_ca,
                    not_after: crate::credentials::rfc3339_of(facts.not_after),
                    ledger_seq,
                })
            })
            .collect())
    }

    /// Compares the file in the vault at `vault_dir` with what the ledger records.
    pub fn check(&self, vault_dir: &Path, recorded: &[Recorded]) -> FileCheck {
        let mut out = FileCheck::default();
        let name = format!("{KEYS_DIR}/{}", self.file);
        let in_file = match self.read_with_text(vault_dir) {
            Ok((_, certs)) => certs,
            Err(e) => {
                out.problems.push(format!(
                    "{name} cannot be read ({e}); the {} certificate(s) the ledger records are still trusted",
                    recorded.len()
                ));
                return out;
            }
        };
        for der in &in_file {
            if !recorded.iter().any(|r| &r.der == der) {
                let subject = custody_timestamp::certificate_facts(der)
                    .map(|f| f.subject)
                    .unwrap_or_default();
                out.problems.push(format!(
                    "{name} holds a certificate the ledger does not record (SHA-256 {}, {subject}): it was put there outside custody and is not trusted; remove it, or record it with `{}`",
                    Digest::of(der),
                    self.added_with
                ));
            }
        }
        let missing: Vec<String> = recorded
            .iter()
            .filter(|r| !in_file.contains(&r.der))
            .map(|r| format!("{} (entry {})", r.sha256, r.ledger_seq))
            .collect();
        if !missing.is_empty() {
            out.notes.push(format!(
                "{name} lacks {} certificate(s) the ledger records: {}; they are still trusted, and the next `{}` writes them back",
                missing.len(),
                missing.join(", "),
                self.added_with
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_damaged_file_is_named_and_not_added_to_and_trusts_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::init(&dir.path().join("vault"), "t", "tester")
            .await
            .unwrap();
        let path = C2PA_ANCHORS.path(vault.dir());
        std::fs::write(&path, "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
        let err = C2PA_ANCHORS.list(&vault).await.unwrap_err().to_string();
        assert!(err.contains("c2pa-anchors.pem"), "{err}");
        assert!(err.contains("move it aside"), "{err}");
        assert!(err.contains("custody credentials --anchors"), "{err}");
        let err = C2PA_ANCHORS
            .add(&vault, b"no certificate here")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("not usable as C2PA trust anchors"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "-----BEGIN CERTIFICATE-----\nnot base64\n"
        );
        // Whom the vault trusts comes from the ledger, which records nobody yet.
        assert!(C2PA_ANCHORS.load(&vault).await.unwrap().is_empty());
        let check = C2PA_ANCHORS.check(vault.dir(), &[]);
        assert_eq!(check.problems.len(), 1, "{:?}", check.problems);
        assert!(check.problems[0].contains("cannot be read"));
        // No file: no anchors, nothing listed, nothing to report.
        assert!(TSA_ROOTS.load(&vault).await.unwrap().is_empty());
        assert!(TSA_ROOTS.list(&vault).await.unwrap().is_empty());
        let check = TSA_ROOTS.check(vault.dir(), &[]);
        assert!(check.problems.is_empty() && check.notes.is_empty());
    }
}
