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
use custody_model::{
    Action, Digest, RemovedCertificate, TrustAddedDetails, TrustRemovedDetails, TrustedCertificate,
};
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
    /// For one in the file only: the `trust.removed` entry that withdrew it, if one did
    /// (a copy that could not be written since).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_in: Option<u64>,
}

/// A certificate the ledger holds for a trust file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub der: Vec<u8>,
    pub sha256: Digest,
    /// The `trust.added` entry that recorded it (for a withdrawn one, the
    /// `trust.removed` entry).
    pub ledger_seq: u64,
    /// Why it was withdrawn, as recorded (withdrawn ones only).
    pub reason: Option<String>,
}

/// What the ledger says of one trust file.
#[derive(Clone, Debug, Default)]
pub struct Ledgered {
    /// The certificates trusted now, in the order they were added.
    pub trusted: Vec<Recorded>,
    /// Certificates trusted once and withdrawn since (`ledger_seq`: the `trust.removed`
    /// entry), unless added again.
    pub withdrawn: Vec<Recorded>,
    /// How many `trust.added` and `trust.removed` entries name the file.
    pub entries: usize,
    /// Whether the vault was made by a release that did not record whom it trusts (its
    /// `vault.created` entry has no `trust` member) and has recorded nothing for the
    /// file since: its copy in `keys/` was kept as the only record then.
    pub kept_before_recording: bool,
}

/// Which certificates a trust file and the ledger disagree on, for `custody verify`.
#[derive(Debug, Default)]
pub struct FileCheck {
    /// The file holds what the ledger does not (certificates added by hand or by someone
    /// else, which are not trusted; other PEM blocks, which other tools may trust), or
    /// cannot be read.
    pub problems: Vec<String>,
    /// Worth knowing: recorded certificates missing from the file (still trusted), or a
    /// file kept before trust was recorded.
    pub notes: Vec<String>,
}

/// What a change to the trust files did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Change {
    /// Certificates added or removed.
    pub certificates: usize,
    /// The ledger entry that recorded the change, if there was one.
    pub ledger_seq: Option<u64>,
    /// Why the copy in `keys/` could not be written (the change itself stands).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_error: Option<String>,
    /// Certificates given that the vault withdrew from trust before: not trusted again
    /// by being given again (`custody trust --restore` does that), each with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_withdrawn: Vec<String>,
}

/// A trust file as found on disk.
enum OnDisk {
    Absent,
    Damaged(AppError),
    Read {
        bytes: Vec<u8>,
        certificates: Vec<Vec<u8>>,
        /// PEM blocks that are not plain certificates (`TRUSTED CERTIFICATE`, ...).
        other_blocks: usize,
    },
}

impl TrustFile {
    /// The file's path in the vault at `vault_dir`.
    pub fn path(&self, vault_dir: &Path) -> PathBuf {
        vault_dir.join(KEYS_DIR).join(self.file)
    }

    fn name(&self) -> String {
        format!("{KEYS_DIR}/{}", self.file)
    }

    fn on_disk(&self, vault_dir: &Path) -> OnDisk {
        let path = self.path(vault_dir);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return OnDisk::Absent,
            Err(e) => {
                return OnDisk::Damaged(AppError::io(format!("reading {}", path.display()), e));
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return OnDisk::Read {
                bytes,
                certificates: Vec::new(),
                other_blocks: 0,
            };
        }
        let blocks = bytes.windows(11).filter(|w| w == b"-----BEGIN ").count();
        let plain = custody_timestamp::pem_certificate_blocks(&bytes).len();
        if plain == 0 && blocks > 0 {
            // Only blocks of other kinds (`TRUSTED CERTIFICATE`, keys, ...).
            return OnDisk::Read {
                bytes,
                certificates: Vec::new(),
                other_blocks: blocks,
            };
        }
        match custody_timestamp::certificates_from_pem(&bytes, self.what) {
            Ok(certificates) => OnDisk::Read {
                other_blocks: blocks.saturating_sub(plain),
                bytes,
                certificates,
            },
            Err(e) => OnDisk::Damaged(AppError::BadConfig {
                path,
                reason: format!(
                    "{e}; move it aside: the certificates the ledger records are written to it again by the next `{}`",
                    self.added_with
                ),
            }),
        }
    }

    /// What `entries` (the ledger's, in order) record for this file.
    pub fn recorded_in<'a>(
        &self,
        entries: impl IntoIterator<Item = &'a Entry>,
    ) -> Result<Ledgered> {
        let mut out = Ledgered::default();
        let mut recorded_from_creation = false;
        for e in entries {
            let bad = |why: String| {
                AppError::Invalid(format!(
                    "ledger entry {} ({}) {why}; run `custody verify`",
                    e.seq, e.action
                ))
            };
            match e.action {
                Action::TrustAdded => {
                    let d: TrustAddedDetails = serde_json::from_value(e.details.clone())
                        .map_err(|err| bad(format!("has unreadable details: {err}")))?;
                    if d.file != self.file {
                        continue;
                    }
                    out.entries += 1;
                    for c in d.certificates {
                        let der = base64::engine::general_purpose::STANDARD
                            .decode(&c.der)
                            .map_err(|err| {
                                bad(format!("holds a certificate that is not base64: {err}"))
                            })?;
                        if Digest::of(&der) != c.sha256 {
                            return Err(bad(format!(
                                "holds a certificate whose SHA-256 is not the {} it names",
                                c.sha256
                            )));
                        }
                        out.withdrawn.retain(|r| r.sha256 != c.sha256);
                        if !out.trusted.iter().any(|r| r.sha256 == c.sha256) {
                            out.trusted.push(Recorded {
                                der,
                                sha256: c.sha256,
                                ledger_seq: e.seq,
                                reason: None,
                            });
                        }
                    }
                }
                Action::VaultCreated => {
                    recorded_from_creation = e.detail_str("trust") == Some("ledger");
                }
                Action::TrustRemoved => {
                    let d: TrustRemovedDetails = serde_json::from_value(e.details.clone())
                        .map_err(|err| bad(format!("has unreadable details: {err}")))?;
                    if d.file != self.file {
                        continue;
                    }
                    out.entries += 1;
                    let (gone, kept) = std::mem::take(&mut out.trusted)
                        .into_iter()
                        .partition(|r| d.certificates.iter().any(|c| c.sha256 == r.sha256));
                    out.trusted = kept;
                    let gone: Vec<Recorded> = gone;
                    out.withdrawn.extend(gone.into_iter().map(|r| Recorded {
                        ledger_seq: e.seq,
                        reason: d.reason.clone(),
                        ..r
                    }));
                }
                _ => {}
            }
        }
        out.kept_before_recording = !recorded_from_creation && out.entries == 0;
        Ok(out)
    }

    /// What the vault's ledger records for this file.
    pub async fn recorded(&self, vault: &Vault) -> Result<Ledgered> {
        let mut entries = vault.entries_of(Action::VaultCreated).await?;
        entries.extend(vault.entries_of(Action::TrustAdded).await?);
        entries.extend(vault.entries_of(Action::TrustRemoved).await?);
        entries.sort_by_key(|e| e.seq);
        self.recorded_in(&entries)
    }

    /// Adds the certificates in `pem` (PEM, or one DER certificate): a `trust.added`
    /// entry records those the ledger does not hold yet, then the copy in `keys/` is
    /// written again from the ledger. Refused, before anything is recorded, while the
    /// copy holds what the ledger does not (it would be lost) or cannot be read.
    pub async fn add(&self, vault: &Vault, pem: &[u8]) -> Result<Change> {
        let certs = custody_timestamp::certificates_from_pem(pem, self.what)
            .map_err(|e| AppError::Invalid(format!("not usable as {}: {e}", self.what)))?;
        let ledgered = self.recorded(vault).await?;
        let mut new: Vec<Vec<u8>> = Vec::new();
        let mut left_withdrawn = Vec::new();
        for c in certs {
            if let Some(w) = ledgered.withdrawn.iter().find(|w| w.der == c) {
                let why = w
                    .reason
                    .as_deref()
                    .map_or(String::new(), |r| format!(" ({r:?})"));
                let line = format!(
                    "{} ({}) was withdrawn from trust in ledger entry {}{why}; to trust it again, run `custody trust --restore {}`",
                    w.sha256,
                    subject_of(&c),
                    w.ledger_seq,
                    w.sha256
                );
                if !left_withdrawn.contains(&line) {
                    left_withdrawn.push(line);
                }
            } else if !ledgered.trusted.iter().any(|r| r.der == c) && !new.contains(&c) {
                new.push(c);
            }
        }
        self.may_be_written_again(vault.dir(), &ledgered, &new)?;
        let mut change = Change {
            certificates: new.len(),
            left_withdrawn,
            ..Change::default()
        };
        let mut trusted: Vec<Vec<u8>> = ledgered.trusted.into_iter().map(|r| r.der).collect();
        if !new.is_empty() {
            let details = TrustAddedDetails {
                certificates: new
                    .iter()
                    .map(|der| TrustedCertificate {
                        der: base64::engine::general_purpose::STANDARD.encode(der),
                        sha256: Digest::of(der),
                        subject: subject_of(der),
                    })
                    .collect(),
                file: self.file.to_owned(),
            };
            // The entry first: once it is durable the certificates are trusted, and a
            // crash before the copy is written leaves only the copy behind.
            change.ledger_seq = Some(record(vault, Action::TrustAdded, &details).await?);
            trusted.append(&mut new);
        }
        change.copy_error = self.write_copy(vault.dir(), &trusted);
        Ok(change)
    }

    /// Trusts again a certificate the vault withdrew (a `trust.added` entry holding it);
    /// `Ok(None)` when it is not one this file withdrew.
    pub async fn restore(&self, vault: &Vault, sha256: &Digest) -> Result<Option<Change>> {
        let ledgered = self.recorded(vault).await?;
        let Some(w) = ledgered.withdrawn.iter().find(|r| &r.sha256 == sha256) else {
            return Ok(None);
        };
        let der = w.der.clone();
        self.may_be_written_again(vault.dir(), &ledgered, &[])?;
        let details = TrustAddedDetails {
            certificates: vec![TrustedCertificate {
                der: base64::engine::general_purpose::STANDARD.encode(&der),
                sha256: *sha256,
                subject: subject_of(&der),
            }],
            file: self.file.to_owned(),
        };
        let seq = record(vault, Action::TrustAdded, &details).await?;
        let mut trusted: Vec<Vec<u8>> = ledgered.trusted.iter().map(|r| r.der.clone()).collect();
        trusted.push(der);
        Ok(Some(Change {
            certificates: 1,
            ledger_seq: Some(seq),
            copy_error: self.write_copy(vault.dir(), &trusted),
            ..Change::default()
        }))
    }

    /// Stops trusting the certificate `sha256` names (a `trust.removed` entry), then
    /// writes the copy in `keys/` again from the ledger. `Ok(None)` when the ledger does
    /// not trust it for this file.
    pub async fn remove(
        &self,
        vault: &Vault,
        sha256: &Digest,
        reason: Option<&str>,
    ) -> Result<Option<Change>> {
        let ledgered = self.recorded(vault).await?;
        let Some(cert) = ledgered.trusted.iter().find(|r| &r.sha256 == sha256) else {
            // Withdrawn before, but a copy that could not be written then still holds
            // it: written again now, with no new entry.
            let stale = ledgered.withdrawn.iter().any(|r| &r.sha256 == sha256)
                && matches!(self.on_disk(vault.dir()), OnDisk::Read { certificates, .. }
                    if certificates.iter().any(|c| Digest::of(c) == *sha256));
            if !stale {
                return Ok(None);
            }
            return Ok(Some(Change {
                copy_error: self.write_copy_unless_tampered(vault.dir(), &ledgered, None),
                ..Change::default()
            }));
        };
        let details = TrustRemovedDetails {
            certificates: vec![RemovedCertificate {
                sha256: *sha256,
                subject: subject_of(&cert.der),
            }],
            file: self.file.to_owned(),
            reason: reason
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
        };
        // A withdrawal only takes trust away, so nothing in the copy holds it up.
        let seq = record(vault, Action::TrustRemoved, &details).await?;
        Ok(Some(Change {
            certificates: 1,
            ledger_seq: Some(seq),
            copy_error: self.write_copy_unless_tampered(vault.dir(), &ledgered, Some(sha256)),
            ..Change::default()
        }))
    }

    /// After a withdrawal: writes the copy again without `withdrawn` (and without what
    /// was withdrawn before), unless it holds what the ledger does not, which is left in
    /// place for `custody verify` to name; says why it was not written.
    fn write_copy_unless_tampered(
        &self,
        vault_dir: &Path,
        ledgered: &Ledgered,
        withdrawn: Option<&Digest>,
    ) -> Option<String> {
        if self.may_be_written_again(vault_dir, ledgered, &[]).is_err() {
            return Some(format!(
                "the copy {} was not written again: it cannot be read, or holds certificates or PEM blocks the ledger does not record, which `custody verify` names; other tools reading it may still trust what was withdrawn: move it aside and run this again to write it",
                self.path(vault_dir).display()
            ));
        }
        let trusted: Vec<Vec<u8>> = ledgered
            .trusted
            .iter()
            .filter(|r| Some(&r.sha256) != withdrawn)
            .map(|r| r.der.clone())
            .collect();
        self.write_copy(vault_dir, &trusted)
    }

    /// Refuses a change while the copy holds what writing it again would drop unseen: a
    /// certificate the ledger never recorded (unless `incoming` records it now), or a
    /// PEM block of another kind; or while it cannot be read. Certificates withdrawn
    /// from trust are dropped from it.
    fn may_be_written_again(
        &self,
        vault_dir: &Path,
        ledgered: &Ledgered,
        incoming: &[Vec<u8>],
    ) -> Result<()> {
        let (certificates, other_blocks) = match self.on_disk(vault_dir) {
            OnDisk::Damaged(e) => return Err(e),
            OnDisk::Absent => return Ok(()),
            OnDisk::Read {
                certificates,
                other_blocks,
                ..
            } => (certificates, other_blocks),
        };
        let known = |c: &Vec<u8>| {
            ledgered
                .trusted
                .iter()
                .chain(&ledgered.withdrawn)
                .any(|r| &r.der == c)
                || incoming.contains(c)
        };
        let unrecorded: Vec<String> = certificates
            .iter()
            .filter(|c| !known(c))
            .map(|c| Digest::of(c).to_string())
            .collect();
        if !unrecorded.is_empty() {
            return Err(AppError::Invalid(format!(
                "{} holds {} certificate(s) the ledger does not record ({}), which writing it again would drop: check them, then record them too (`{} {}`), or move the file aside",
                self.name(),
                unrecorded.len(),
                unrecorded.join(", "),
                self.added_with.trim_end_matches(" FILE"),
                self.path(vault_dir).display()
            )));
        }
        if other_blocks > 0 {
            return Err(AppError::Invalid(format!(
                "{} holds {other_blocks} PEM block(s) that are not certificates, which other tools may read as trusted ones; move it aside",
                self.name()
            )));
        }
        Ok(())
    }

    /// Writes the copy in `keys/` to hold exactly `trusted`; says why it could not.
    fn write_copy(&self, vault_dir: &Path, trusted: &[Vec<u8>]) -> Option<String> {
        let path = self.path(vault_dir);
        let text = custody_timestamp::certificates_pem(trusted);
        if std::fs::read(&path).is_ok_and(|b| b == text.as_bytes()) {
            return None;
        }
        custody_ledger::file::write_atomic(&path, text.as_bytes())
            .err()
            .map(|e| format!("the copy {} could not be written: {e}", path.display()))
    }

    /// The certificates (DER) the vault trusts for this file, in the order they were
    /// added.
    pub async fn trusted_der(&self, vault: &Vault) -> Result<Vec<Vec<u8>>> {
        Ok(self
            .recorded(vault)
            .await?
            .trusted
            .into_iter()
            .map(|r| r.der)
            .collect())
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
        Self::anchors(&self.recorded(vault).await?.trusted)
    }

    /// The trusted certificates, in the order they were added, then any the copy holds
    /// that the ledger does not (`ledger_seq` none: not trusted); and what is wrong with
    /// the copy, if anything.
    pub async fn list(&self, vault: &Vault) -> Result<(Vec<Anchor>, Option<String>)> {
        let ledgered = self.recorded(vault).await?;
        let (in_file, trouble) = match self.on_disk(vault.dir()) {
            OnDisk::Read { certificates, .. } => (certificates, None),
            OnDisk::Absent => (Vec::new(), None),
            OnDisk::Damaged(e) => (Vec::new(), Some(e.to_string())),
        };
        let unrecorded = in_file
            .into_iter()
            .filter(|der| !ledgered.trusted.iter().any(|r| &r.der == der));
        let anchors = ledgered
            .trusted
            .iter()
            .map(|r| (r.der.clone(), Some(r.ledger_seq)))
            .chain(unrecorded.map(|der| (der, None)))
            // Each was parsed when it was read or recorded.
            .filter_map(|(der, ledger_seq)| {
                let facts = custody_timestamp::certificate_facts(&der)?;
                let withdrawn_in = ledger_seq
                    .is_none()
                    .then(|| ledgered.withdrawn.iter().find(|w| w.der == der))
                    .flatten()
                    .map(|w| w.ledger_seq);
                Some(Anchor {
                    subject: facts.subject,
                    sha256: Digest::of(&der),
                    is_ca: facts.is_ca,
                    not_after: crate::credentials::rfc3339_of(facts.not_after),
                    ledger_seq,
                    withdrawn_in,
                })
            })
            .collect();
        Ok((anchors, trouble))
    }

    /// Compares the copy in the vault at `vault_dir` with what the ledger records.
    pub fn check(&self, vault_dir: &Path, ledgered: &Ledgered) -> FileCheck {
        let mut out = FileCheck::default();
        let name = self.name();
        let recorded = &ledgered.trusted;
        let adopt = format!(
            "`{} {}`",
            self.added_with.trim_end_matches(" FILE"),
            self.path(vault_dir).display()
        );
        let (bytes, in_file, other_blocks) = match self.on_disk(vault_dir) {
            OnDisk::Absent if recorded.is_empty() => return out,
            OnDisk::Absent => (Vec::new(), Vec::new(), 0),
            OnDisk::Damaged(e) => {
                let what = format!(
                    "{name} cannot be read ({e}); the {} certificate(s) the ledger records are still trusted",
                    recorded.len()
                );
                if ledgered.kept_before_recording {
                    out.notes.push(what);
                } else {
                    out.problems.push(what);
                }
                return out;
            }
            OnDisk::Read {
                bytes,
                certificates,
                other_blocks,
            } => (bytes, certificates, other_blocks),
        };
        if bytes
            == custody_timestamp::certificates_pem(
                &recorded.iter().map(|r| r.der.clone()).collect::<Vec<_>>(),
            )
            .as_bytes()
        {
            return out;
        }
        let unrecorded: Vec<&Vec<u8>> = in_file
            .iter()
            .filter(|der| !recorded.iter().any(|r| &r.der == *der))
            .collect();
        if other_blocks > 0 {
            // No release wrote such blocks.
            out.problems.push(format!(
                "{name} holds {other_blocks} PEM block(s) that are not certificates (put there outside custody; other tools may read them as trusted certificates); move the file aside, and the next change writes it again from the ledger"
            ));
        }
        if ledgered.kept_before_recording {
            // Kept by a release that did not record trust: nothing in it was recorded.
            if !unrecorded.is_empty() {
                let each: Vec<String> = unrecorded
                    .iter()
                    .map(|der| format!("SHA-256 {} ({})", Digest::of(der), subject_of(der)))
                    .collect();
                out.notes.push(format!(
                    "{name} holds {} certificate(s) kept before the vault recorded whom it trusts (an earlier release): {}; they are not trusted until recorded: check each, then run {adopt}",
                    unrecorded.len(),
                    each.join(", ")
                ));
            }
            return out;
        }
        for der in unrecorded {
            if let Some(w) = ledgered.withdrawn.iter().find(|w| &w.der == der) {
                out.problems.push(format!(
                    "{name} still holds {} ({}), withdrawn from trust in ledger entry {}: other tools reading the copy would trust it; `custody trust --remove {}` writes the copy again",
                    w.sha256,
                    subject_of(der),
                    w.ledger_seq,
                    w.sha256
                ));
                continue;
            }
            out.problems.push(format!(
                "{name} holds a certificate the ledger does not record (SHA-256 {}, {}): it was put there outside custody and is not trusted; remove it, or record it with `{}`",
                Digest::of(der),
                subject_of(der),
                self.added_with
            ));
        }
        let missing: Vec<String> = recorded
            .iter()
            .filter(|r| !in_file.contains(&r.der))
            .map(|r| format!("{} (entry {})", r.sha256, r.ledger_seq))
            .collect();
        if !missing.is_empty() {
            out.notes.push(format!(
                "{name} lacks {} certificate(s) the ledger records: {}; they are still trusted, and the next change to the vault's trust writes them back",
                missing.len(),
                missing.join(", "),
            ));
        }
        out
    }
}

/// The largest file of certificates read to add roots or anchors (the C2PA trust list
/// is some hundred kilobytes).
pub const MAX_CERTIFICATES_FILE: u64 = 16 * 1024 * 1024;

/// Reads a file of certificates to trust: a regular file of at most
/// [`MAX_CERTIFICATES_FILE`] bytes (not a device or a pipe, which could have no end).
pub fn read_certificates(path: &Path) -> Result<Vec<u8>> {
    let reading = || format!("reading {}", path.display());
    let meta = std::fs::metadata(path).map_err(|e| AppError::io(reading(), e))?;
    if !meta.is_file() {
        return Err(AppError::Invalid(format!(
            "{} is not a regular file; give a PEM or DER file of certificates",
            path.display()
        )));
    }
    if meta.len() > MAX_CERTIFICATES_FILE {
        return Err(AppError::Invalid(format!(
            "{} holds {} bytes, more than the {} MiB a file of certificates is read up to",
            path.display(),
            meta.len(),
            MAX_CERTIFICATES_FILE >> 20
        )));
    }
    let mut bytes = Vec::new();
    let file = std::fs::File::open(path).map_err(|e| AppError::io(reading(), e))?;
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_CERTIFICATES_FILE + 1),
        &mut bytes,
    )
    .map_err(|e| AppError::io(reading(), e))?;
    Ok(bytes)
}

/// Commits one change of trust; returns its ledger entry's number.
async fn record(vault: &Vault, action: Action, details: &impl Serialize) -> Result<u64> {
    let entries = vault
        .commit(
            vec![Pending {
                action,
                item: None,
                sha256: None,
                details: serde_json::to_value(details).expect("details serialise"),
            }],
            &[],
        )
        .await?;
    Ok(entries.first().map_or(0, |e| e.seq))
}

fn subject_of(der: &[u8]) -> String {
    custody_timestamp::certificate_facts(der)
        .map(|f| f.subject)
        .unwrap_or_default()
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
        let (listed, trouble) = C2PA_ANCHORS.list(&vault).await.unwrap();
        assert!(listed.is_empty());
        let err = trouble.unwrap();
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
        // This vault records whom it trusts from its creation: a damaged copy is a
        // problem. In a vault kept by an earlier release it is a note.
        let ledgered = C2PA_ANCHORS.recorded(&vault).await.unwrap();
        assert!(!ledgered.kept_before_recording);
        let check = C2PA_ANCHORS.check(vault.dir(), &ledgered);
        assert!(
            check.problems[0].contains("cannot be read"),
            "{:?}",
            check.problems
        );
        let earlier = Ledgered {
            kept_before_recording: true,
            ..Ledgered::default()
        };
        let check = C2PA_ANCHORS.check(vault.dir(), &earlier);
        assert!(check.problems.is_empty(), "{:?}", check.problems);
        assert!(
            check.notes[0].contains("cannot be read"),
            "{:?}",
            check.notes
        );
        // No file: no anchors, nothing listed, nothing to report.
        assert!(TSA_ROOTS.load(&vault).await.unwrap().is_empty());
        assert_eq!(TSA_ROOTS.list(&vault).await.unwrap(), (Vec::new(), None));
        let check = TSA_ROOTS.check(vault.dir(), &Ledgered::default());
        assert!(check.problems.is_empty() && check.notes.is_empty());
    }

    #[test]
    fn a_vault_made_before_trust_was_recorded_is_told_apart() {
        let entry = |seq, action, details| {
            Entry::new(
                seq,
                custody_model::Timestamp::now(),
                "t",
                action,
                None,
                None,
                details,
            )
        };
        let before = [entry(
            0,
            Action::VaultCreated,
            serde_json::json!({"name": "old"}),
        )];
        assert!(
            TSA_ROOTS
                .recorded_in(&before)
                .unwrap()
                .kept_before_recording
        );
        let now = [entry(
            0,
            Action::VaultCreated,
            serde_json::json!({"name": "new", "trust": "ledger"}),
        )];
        assert!(!TSA_ROOTS.recorded_in(&now).unwrap().kept_before_recording);
        // Once something is recorded for a file, its copy is checked as a copy.
        let der = base64::engine::general_purpose::STANDARD.encode(b"not parsed here");
        let added = entry(
            1,
            Action::TrustAdded,
            serde_json::json!({"file": "tsa-roots.pem", "certificates": [
                {"der": der, "sha256": Digest::of(b"not parsed here"), "subject": "CN=x"}
            ]}),
        );
        let upgraded = [before[0].clone(), added.clone()];
        let l = TSA_ROOTS.recorded_in(&upgraded).unwrap();
        assert!(!l.kept_before_recording && l.trusted.len() == 1);
        // The other file is still as it was kept.
        assert!(
            C2PA_ANCHORS
                .recorded_in(&upgraded)
                .unwrap()
                .kept_before_recording
        );
        // A removal takes the certificate out from then on.
        let removed = entry(
            2,
            Action::TrustRemoved,
            serde_json::json!({"file": "tsa-roots.pem", "reason": null, "certificates": [
                {"sha256": Digest::of(b"not parsed here"), "subject": "CN=x"}
            ]}),
        );
        let l = TSA_ROOTS
            .recorded_in(&[before[0].clone(), added, removed])
            .unwrap();
        assert!(l.trusted.is_empty() && l.entries == 2);
    }
}
