//! The sealed store: real identities and contact details of witnesses (and next of kin),
//! kept encrypted outside the case, readable only with an explicit permission, every
//! read written to the ledger before the record is decrypted.
//!
//! Layout and format (`docs/design/case-model.md` §6, §9):
//!
//! ```text
//! <vault>/sealed/<ref>.bin      one record per file, written atomically (mode 0600)
//! <vault>/keys/sealed.key       32-byte key, hex, one line (mode 0600); or a file
//!                               elsewhere (--sealed-key, CUSTODY_SEALED_KEY)
//! ```
//!
//! A record file is `CSEAL001` (8 bytes), a random 24-byte nonce, then the
//! XChaCha20-Poly1305 ciphertext and tag of the identity (`SealedIdentity`'s sealed
//! bytes), with the record's reference as associated data, so a file moved to another
//! reference does not decrypt. References are random (`SEALED-` and 32 hex digits),
//! never derived from the plaintext. The ledger records `sealed.stored` {ref,
//! ciphertext_sha256, key_id, case, purpose} when a record is written and `sealed.read`
//! {ref, permission, purpose, case, witness} before every read; `custody verify` checks
//! every record file against its recorded ciphertext digest without decrypting.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use custody_cases::ids::SealedRef;
use custody_cases::witness::{SealedIdentity, UnsealGrant};
use custody_ledger::Entry;
use custody_model::{Action, Digest};
use serde_json::json;

use crate::error::{AppError, Result};
use crate::vault::{KEYS_DIR, Pending, Vault};

pub const SEALED_DIR: &str = "sealed";
pub const SEALED_KEY: &str = "sealed.key";
/// Ledger action: a sealed record was written.
pub const STORED: &str = "sealed.stored";
/// Ledger action: a sealed record was read (recorded before decryption).
pub const READ: &str = "sealed.read";
/// The permission that allows reading a sealed identity.
pub const UNSEAL_PERMISSION: &str = "unseal-identity";

const MAGIC: &[u8; 8] = b"CSEAL001";
const NONCE_LEN: usize = 24;

/// Where the sealing key lives: `keys/sealed.key` in the vault unless given.
pub fn key_path(vault: &Vault, explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .unwrap_or_else(|| vault.dir().join(KEYS_DIR).join(SEALED_KEY))
}

/// The file of a sealed record.
pub fn record_path(vault_dir: &Path, reference: &str) -> PathBuf {
    vault_dir.join(SEALED_DIR).join(format!("{reference}.bin"))
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| AppError::Invalid(format!("no random source: {e}")))?;
    Ok(b)
}

/// A new random reference.
pub fn new_ref() -> Result<SealedRef> {
    let r: [u8; 16] = random()?;
    Ok(SealedRef::new(format!("SEALED-{}", hex::encode(r))).expect("a valid label"))
}

/// Names a key without revealing it: the first 16 hex digits of a SHA-256 over a
/// domain label and the key.
pub fn key_id(key: &[u8; 32]) -> String {
    let mut b = b"custody sealed-store key id\n".to_vec();
    b.extend_from_slice(key);
    Digest::of(&b).to_hex()[..16].to_owned()
}

fn read_key(path: &Path) -> Result<[u8; 32]> {
    let text = fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            AppError::Invalid(format!(
                "the sealing key {} does not exist; give the key file with --sealed-key FILE (or CUSTODY_SEALED_KEY) held by whoever keeps the sealed store",
                path.display()
            ))
        } else {
            AppError::io(format!("reading the sealing key {}", path.display()), e)
        }
    })?;
    let mut key = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut key).map_err(|_| {
        AppError::Invalid(format!(
            "{} is not a sealing key (64 hex digits on one line)",
            path.display()
        ))
    })?;
    Ok(key)
}

/// Reads the key, creating it (mode 0600) on first use.
fn key_or_create(path: &Path) -> Result<[u8; 32]> {
    if path.exists() {
        return read_key(path);
    }
    let key: [u8; 32] = random()?;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)
            .map_err(|e| AppError::io(format!("creating {}", dir.display()), e))?;
    }
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| AppError::io(format!("creating the sealing key {}", path.display()), e))?;
    f.write_all(format!("{}\n", hex::encode(key)).as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| AppError::io(format!("writing the sealing key {}", path.display()), e))?;
    if let Some(dir) = path.parent() {
        custody_ledger::file::sync_dir(dir)?;
    }
    Ok(key)
}

fn encrypt(key: &[u8; 32], reference: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
    let nonce: [u8; NONCE_LEN] = random()?;
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    let ct = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: reference.as_bytes(),
            },
        )
        .map_err(|_| AppError::Invalid("encryption of the sealed record failed".into()))?;
    let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + ct.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

fn decrypt(key: &[u8; 32], reference: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.len() < MAGIC.len() + NONCE_LEN + 16 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(AppError::Invalid(format!(
            "sealed record {reference} is not in the sealed-record format (CSEAL001)"
        )));
    }
    let (nonce, ct) = bytes[MAGIC.len()..].split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("24 bytes");
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    cipher
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: ct,
                aad: reference.as_bytes(),
            },
        )
        .map_err(|_| {
            AppError::Invalid(format!(
                "sealed record {reference} does not decrypt with this key (wrong key, or the file was altered or moved)"
            ))
        })
}

/// Writes a file atomically with mode 0600: temporary file, fsync, rename, directory
/// fsync.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("part");
    let io = |e| AppError::io(format!("writing {}", path.display()), e);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    if let Err(e) = f.write_all(bytes).and_then(|_| f.sync_all()) {
        drop(f);
        let _ = fs::remove_file(&tmp);
        return Err(io(e));
    }
    fs::rename(&tmp, path).map_err(io)?;
    custody_ledger::file::sync_dir(dir)?;
    Ok(())
}

/// Seals an identity: encrypts it under `reference` (from [`new_ref`]), writes the
/// record durably and returns the `sealed.stored` entry to commit (with the event that
/// names the reference, in the same batch). A record whose entry was never committed is
/// a leftover that `custody verify` notes.
pub fn seal(
    vault: &Vault,
    key_file: Option<&Path>,
    reference: &SealedRef,
    identity: &SealedIdentity,
    case: &str,
    purpose: &str,
) -> Result<Pending> {
    let key = key_or_create(&key_path(vault, key_file))?;
    if record_path(vault.dir(), reference.as_str()).exists() {
        return Err(AppError::Invalid(format!(
            "sealed record {reference} exists already; references are never reused"
        )));
    }
    let bytes = encrypt(&key, reference.as_str(), &identity.to_sealed_bytes())?;
    let dir = vault.dir().join(SEALED_DIR);
    if !dir.exists() {
        fs::create_dir(&dir)
            .and_then(|_| fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)))
            .map_err(|e| AppError::io(format!("creating {}", dir.display()), e))?;
        custody_ledger::file::sync_dir(vault.dir())?;
    }
    write_private(&record_path(vault.dir(), reference.as_str()), &bytes)?;
    let pending = Pending {
        action: Action::parse(STORED),
        item: None,
        sha256: None,
        details: json!({
            "case": case,
            "ciphertext_sha256": Digest::of(&bytes).to_hex(),
            "key_id": key_id(&key),
            "purpose": purpose,
            "ref": reference.as_str(),
        }),
    };
    Ok(pending)
}

/// Why a sealed record is read, and under which permission.
#[derive(Clone, Debug)]
pub struct ReadRequest<'a> {
    pub permission: &'a str,
    pub purpose: &'a str,
    pub case: &'a str,
    /// The pseudonym whose record this is (for the ledger entry).
    pub witness: &'a str,
}

/// Checks the permission, records the read in the ledger, then decrypts. Returns the
/// identity and the grant naming the ledger entry; nothing is decrypted unless the read
/// is recorded first.
pub async fn read_identity(
    vault: &Vault,
    key_file: Option<&Path>,
    reference: &SealedRef,
    req: &ReadRequest<'_>,
) -> Result<(SealedIdentity, UnsealGrant)> {
    if req.permission != UNSEAL_PERMISSION {
        return Err(AppError::Invalid(format!(
            "{:?} is not a permission to read sealed identities; the permission is {UNSEAL_PERMISSION} (give --permission {UNSEAL_PERMISSION} and --purpose)",
            req.permission
        )));
    }
    if req.purpose.trim().is_empty() {
        return Err(AppError::Invalid(
            "a sealed identity is read only for a stated purpose: give --purpose (e.g. \"court order 12/2024\")".into(),
        ));
    }
    let record = vault
        .catalog()
        .sealed_record(reference.as_str())
        .await?
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "no sealed record {reference} is recorded in this vault's ledger"
            ))
        })?;
    let key = read_key(&key_path(vault, key_file))?;
    if key_id(&key) != record.key_id {
        return Err(AppError::Invalid(format!(
            "sealed record {reference} was sealed with key {}, not with the key given ({}); give the right key with --sealed-key",
            record.key_id,
            key_id(&key)
        )));
    }
    let path = record_path(vault.dir(), reference.as_str());
    let bytes = fs::read(&path)
        .map_err(|e| AppError::io(format!("reading sealed record {}", path.display()), e))?;
    if Digest::of(&bytes).to_hex() != record.ciphertext_sha256 {
        return Err(AppError::Invalid(format!(
            "sealed record {} does not match the digest recorded in ledger entry {}; nothing was read. Run `custody verify`",
            path.display(),
            record.stored_seq
        )));
    }
    // The read is recorded before anything is decrypted.
    let entries = vault
        .commit(
            vec![Pending {
                action: Action::parse(READ),
                item: None,
                sha256: None,
                details: json!({
                    "case": req.case,
                    "permission": req.permission,
                    "purpose": req.purpose.trim(),
                    "ref": reference.as_str(),
                    "witness": req.witness,
                }),
            }],
            &[],
        )
        .await?;
    let seq = entries.first().map(|e| e.seq).unwrap_or_default();
    let plain = decrypt(&key, reference.as_str(), &bytes)?;
    let identity = SealedIdentity::from_sealed_bytes(&plain)
        .map_err(|e| AppError::Invalid(format!("sealed record {reference}: {e}")))?;
    // The one place a grant is made: after the permission check and the ledger entry.
    let grant = UnsealGrant::after_permission_check(vault.actor(), req.permission, seq);
    Ok((identity, grant))
}

/// `custody verify`: every `sealed.stored` record exists and its bytes hash to the
/// recorded digest (nothing is decrypted). Also notes record files no entry names.
pub fn check_records<'a>(
    vault_dir: &Path,
    entries: impl IntoIterator<Item = &'a Entry>,
) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let mut named = std::collections::BTreeSet::new();
    for e in entries.into_iter().filter(|e| e.action.as_str() == STORED) {
        let (Some(reference), Some(digest)) =
            (e.detail_str("ref"), e.detail_str("ciphertext_sha256"))
        else {
            problems.push(format!(
                "ledger entry {} (sealed.stored) does not name its record and digest",
                e.seq
            ));
            continue;
        };
        named.insert(format!("{reference}.bin"));
        let path = record_path(vault_dir, reference);
        match fs::read(&path) {
            Err(err) => problems.push(format!(
                "sealed record {reference} (ledger entry {}) cannot be read: {err} ({})",
                e.seq,
                path.display()
            )),
            Ok(bytes) if Digest::of(&bytes).to_hex() != digest => problems.push(format!(
                "sealed record {reference} (ledger entry {}) is damaged: its bytes do not hash to the recorded ciphertext digest ({})",
                e.seq,
                path.display()
            )),
            Ok(_) => {}
        }
    }
    let mut notes = Vec::new();
    if let Ok(dir) = fs::read_dir(vault_dir.join(SEALED_DIR)) {
        let extra: Vec<String> = dir
            .flatten()
            .map(|d| d.file_name().to_string_lossy().into_owned())
            .filter(|n| !named.contains(n))
            .collect();
        if !extra.is_empty() {
            notes.push(format!(
                "{} file(s) in sealed/ are not named by any ledger entry (an interrupted registration leaves one): {}",
                extra.len(),
                extra.join(", ")
            ));
        }
    }
    (problems, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_decrypt_only_under_their_reference_and_key() {
        let key = [7u8; 32];
        let ct = encrypt(&key, "SEALED-01", b"synthetic identity").unwrap();
        assert_eq!(&ct[..8], MAGIC);
        assert!(
            !ct.windows(9).any(|w| w == b"synthetic"),
            "plaintext not visible"
        );
        assert_eq!(
            decrypt(&key, "SEALED-01", &ct).unwrap(),
            b"synthetic identity"
        );
        assert!(
            decrypt(&key, "SEALED-02", &ct).is_err(),
            "moved to another ref"
        );
        assert!(decrypt(&[8u8; 32], "SEALED-01", &ct).is_err(), "wrong key");
        let mut bad = ct.clone();
        let n = bad.len() - 1;
        bad[n] ^= 1;
        assert!(decrypt(&key, "SEALED-01", &bad).is_err(), "altered");
        // Two seals of the same plaintext differ (random nonce).
        assert_ne!(
            ct,
            encrypt(&key, "SEALED-01", b"synthetic identity").unwrap()
        );
    }

    #[test]
    fn references_are_random_and_key_ids_reveal_nothing_simple() {
        let a = new_ref().unwrap();
        let b = new_ref().unwrap();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("SEALED-") && a.as_str().len() == 39);
        assert_eq!(key_id(&[1u8; 32]).len(), 16);
        assert_ne!(key_id(&[1u8; 32]), key_id(&[2u8; 32]));
    }
}
