//! An open vault: its configuration, ledger, catalog and blob store, and the one write
//! path every change goes through ([`Vault::commit`], formats.md §6).

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use custody_ledger::{Checkpoint, Entry, FileLedger, Signer, Verifier};
use custody_model::{Action, Digest, ItemId, Timestamp};
use custody_store::{Catalog, SqliteCatalog};
use custody_vault::{BlobStore, LocalBlobStore};
use serde_json::{Value, json};

use crate::config::{CONFIG_FILE, VaultConfig};
use crate::error::{AppError, Result};
use crate::lock::VaultLock;
use crate::projection;

pub const LEDGER_DIR: &str = "ledger";
pub const KEYS_DIR: &str = "keys";
pub const SIGNING_KEY: &str = "ledger.key";
pub const VERIFIER_KEY: &str = "ledger.vkey";
pub const STAGING_DIR: &str = "staging";

/// How a vault is opened. Writers hold the vault's lock and repair it on open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Read,
    Write,
}

/// An entry to be committed; the vault fills in sequence number, time and actor.
#[derive(Clone, Debug)]
pub struct Pending {
    pub action: Action,
    pub item: Option<ItemId>,
    pub sha256: Option<Digest>,
    pub details: Value,
}

/// What opening for writing repaired. All zero after a clean shutdown.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Recovery {
    pub torn_ledger_bytes: u64,
    pub index_records_rebuilt: u64,
    pub partial_copies_removed: usize,
    pub staged_promoted: usize,
    pub staged_discarded: usize,
    pub entries_replayed: u64,
    pub checkpoint_signed: bool,
    /// Entries the checkpoint signed on open covers that no checkpoint covered before
    /// (the last ones of the ledger).
    pub entries_signed: u64,
    /// Among them, the entries that changed whom the vault trusts (`trust.*`): worth a
    /// look, since anyone who can write the ledger file could have added them.
    pub trust_entries_signed: Vec<u64>,
}

impl Recovery {
    pub fn is_clean(&self) -> bool {
        *self == Recovery::default()
    }
}

struct Writer {
    _lock: VaultLock,
    signer: Signer,
    next_item: Mutex<u64>,
}

pub struct Vault {
    dir: PathBuf,
    config: VaultConfig,
    actor: String,
    catalog: Arc<dyn Catalog>,
    blobs: Arc<dyn BlobStore>,
    ledger: Mutex<FileLedger>,
    verifier: Verifier,
    writer: Option<Writer>,
    recovery: Recovery,
}

fn read_signing_seed(dir: &Path) -> Result<[u8; 32]> {
    let path = dir.join(KEYS_DIR).join(SIGNING_KEY);
    let text = fs::read_to_string(&path)
        .map_err(|e| AppError::io(format!("reading the signing key {}", path.display()), e))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed).map_err(|_| AppError::BadConfig {
        path: path.clone(),
        reason: "the signing key is not 64 hex digits".into(),
    })?;
    Ok(seed)
}

pub(crate) fn read_verifier(dir: &Path) -> Result<Verifier> {
    let path = dir.join(KEYS_DIR).join(VERIFIER_KEY);
    let text = fs::read_to_string(&path)
        .map_err(|e| AppError::io(format!("reading the verifier key {}", path.display()), e))?;
    Ok(Verifier::from_vkey(text.trim())?)
}

/// The default actor: `user@host`.
pub fn default_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    format!("{user}@{host}")
}

impl Vault {
    /// Creates a new vault in `dir`, which must not exist or be empty. The vault is built
    /// in a sibling temporary directory and renamed into place, so an interrupted `init`
    /// leaves no half-made vault behind.
    pub async fn init(dir: &Path, name: &str, actor: &str) -> Result<Self> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::Invalid(
                "the vault name must not be empty (--name)".into(),
            ));
        }
        if dir.exists() {
            let empty = fs::read_dir(dir)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !empty {
                return Err(AppError::AlreadyExists(dir.to_owned()));
            }
        }
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)
            .map_err(|e| AppError::io(format!("creating {}", parent.display()), e))?;
        let mut rand = [0u8; 6];
        getrandom::fill(&mut rand)
            .map_err(|e| AppError::Invalid(format!("no random source: {e}")))?;
        let tmp = parent.join(format!(".custody-init-{}", hex::encode(rand)));
        fs::create_dir(&tmp).map_err(|e| {
            AppError::io(
                format!(
                    "building the new vault in {} (a vault is built beside its place and moved into {} once complete, so that an interrupted init leaves nothing half-made: {} must be writable)",
                    tmp.display(),
                    dir.display(),
                    parent.display()
                ),
                e,
            )
        })?;
        let result = Self::build(&tmp, name, actor).await;
        let built = match result {
            Ok(()) => fs::rename(&tmp, dir).map_err(|e| {
                AppError::io(format!("moving the new vault into {}", dir.display()), e)
            }),
            Err(e) => Err(e),
        };
        if let Err(e) = built {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        custody_ledger::file::sync_dir(&parent)?;
        Self::open(dir, Mode::Write, actor).await
    }

    async fn build(tmp: &Path, name: &str, actor: &str) -> Result<()> {
        let io = |what: &str| {
            let what = what.to_owned();
            move |e| AppError::io(what, e)
        };
        let created = Timestamp::now();
        let config = VaultConfig::new(name, created)?;
        let keys = tmp.join(KEYS_DIR);
        fs::create_dir(&keys).map_err(io("creating keys/"))?;
        fs::set_permissions(&keys, fs::Permissions::from_mode(0o700))
            .map_err(io("protecting keys/"))?;
        let (signer, seed) = Signer::generate(&config.origin)?;
        let mut key_file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(keys.join(SIGNING_KEY))
            .map_err(io("writing the signing key"))?;
        std::io::Write::write_all(&mut key_file, format!("{}\n", hex::encode(seed)).as_bytes())
            .and_then(|_| key_file.sync_all())
            .map_err(io("writing the signing key"))?;
        let vkey = signer.verifier().to_vkey();
        custody_ledger::file::write_atomic(
            &keys.join(VERIFIER_KEY),
            format!("{vkey}\n").as_bytes(),
        )?;

        let mut ledger = FileLedger::create(&tmp.join(LEDGER_DIR))?;
        let entries = [
            Entry::new(
                0,
                created,
                actor,
                Action::VaultCreated,
                None,
                None,
                // `trust`: whom this vault trusts is recorded in its ledger from the start
                // (formats.md §3.5).
                json!({"name": config.name, "origin": config.origin, "trust": "ledger", "vault_id": config.id}),
            ),
            Entry::new(
                1,
                created,
                actor,
                Action::KeyCreated,
                None,
                None,
                json!({"purpose": "ledger-signing", "vkey": vkey}),
            ),
        ];
        ledger.append(&entries.iter().map(Entry::to_bytes).collect::<Vec<_>>())?;
        let catalog = SqliteCatalog::open(&config.sqlite_path(tmp)?, true).await?;
        let mut changes = Vec::new();
        for e in &entries {
            changes.extend(projection::changes(e)?);
        }
        catalog.apply(&changes, 1).await?;
        catalog.close().await;
        let cp = Checkpoint {
            origin: config.origin.clone(),
            size: 2,
            root: ledger.tree().root(),
        };
        ledger.write_checkpoint(2, &cp.sign(&signer)?)?;
        LocalBlobStore::open(&config.local_blobs_path(tmp)?, &tmp.join(STAGING_DIR))?;
        let text = serde_json::to_string_pretty(&config).expect("config serialises") + "\n";
        custody_ledger::file::write_atomic(&tmp.join(CONFIG_FILE), text.as_bytes())?;
        Ok(())
    }

    /// Opens an existing vault. A writer takes the lock and repairs what an interrupted
    /// command left behind (formats.md §6, "Recovery on open").
    pub async fn open(dir: &Path, mode: Mode, actor: &str) -> Result<Self> {
        if !dir.join(CONFIG_FILE).is_file() {
            if !dir.exists() {
                return Err(AppError::NotAVault(dir.to_owned()));
            }
            return Err(AppError::NotAVault(dir.to_owned()));
        }
        let lock = match mode {
            Mode::Write => Some(VaultLock::acquire(dir)?),
            Mode::Read => None,
        };
        let config = VaultConfig::load(dir)?;
        let verifier = read_verifier(dir)?;
        if verifier.name() != config.origin {
            return Err(AppError::BadConfig {
                path: dir.join(KEYS_DIR).join(VERIFIER_KEY),
                reason: format!(
                    "the verifier key is for {:?}, not this vault's origin {:?}",
                    verifier.name(),
                    config.origin
                ),
            });
        }
        let (ledger, repairs) = FileLedger::open(&dir.join(LEDGER_DIR), mode == Mode::Write)?;
        let catalog: Arc<dyn Catalog> =
            Arc::new(SqliteCatalog::open(&config.sqlite_path(dir)?, false).await?);
        let blobs: Arc<dyn BlobStore> = Arc::new(LocalBlobStore::open(
            &config.local_blobs_path(dir)?,
            &dir.join(STAGING_DIR),
        )?);
        let writer = match lock {
            Some(lock) => {
                let signer = Signer::from_seed(&config.origin, read_signing_seed(dir)?)?;
                if signer.verifier() != verifier {
                    return Err(AppError::BadConfig {
                        path: dir.join(KEYS_DIR).join(SIGNING_KEY),
                        reason: "the signing key does not match keys/ledger.vkey".into(),
                    });
                }
                Some(Writer {
                    _lock: lock,
                    signer,
                    next_item: Mutex::new(0),
                })
            }
            None => None,
        };
        let mut vault = Self {
            dir: dir.to_owned(),
            config,
            actor: actor.to_owned(),
            catalog,
            blobs,
            ledger: Mutex::new(ledger),
            verifier,
            writer,
            recovery: Recovery {
                torn_ledger_bytes: repairs.torn_tail_bytes,
                index_records_rebuilt: repairs.index_records_added,
                ..Recovery::default()
            },
        };
        if vault.writer.is_some() {
            vault.recover().await?;
            let next = vault.catalog.max_item_number().await? + 1;
            *vault
                .writer
                .as_ref()
                .expect("writer")
                .next_item
                .lock()
                .expect("not poisoned") = next;
        }
        Ok(vault)
    }

    /// Completes or undoes what an interrupted command left behind.
    async fn recover(&mut self) -> Result<()> {
        self.check_against_latest_checkpoint()?;
        self.recovery.partial_copies_removed = self.blobs.clean_partial()?;

        // Staged bytes named by a committed entry are promoted; the rest never happened.
        let staged = self.blobs.staged()?;
        if !staged.is_empty() {
            let mut referenced = BTreeSet::new();
            let ledger = self.ledger();
            let staged_set: BTreeSet<Digest> = staged.iter().copied().collect();
            ledger.scan(|seq, bytes| {
                if let Ok(e) = Entry::parse(bytes, seq) {
                    if let Some(d) = e.sha256 {
                        if staged_set.contains(&d) {
                            referenced.insert(d);
                        }
                    }
                }
            })?;
            drop(ledger);
            for d in &staged {
                if referenced.contains(d) {
                    self.recovery.staged_promoted += self.blobs.promote(&[*d])?;
                } else {
                    self.blobs.discard(d)?;
                    self.recovery.staged_discarded += 1;
                }
            }
        }

        // Entries the catalog has not seen yet.
        let applied = self.catalog.applied_seq().await?;
        let from = applied.map_or(0, |s| s + 1);
        let len = self.ledger().len();
        if from < len {
            let mut changes = Vec::new();
            for seq in from..len {
                let bytes = self.ledger().read(seq)?;
                let entry = Entry::parse(&bytes, seq)?;
                changes.extend(projection::changes(&entry)?);
            }
            self.catalog.apply(&changes, len - 1).await?;
            self.recovery.entries_replayed = len - from;
        }

        // A committed batch whose checkpoint was not written yet.
        let latest = self
            .ledger()
            .checkpoint_sizes()?
            .last()
            .copied()
            .unwrap_or(0);
        if latest < len {
            for seq in latest..len {
                let entry = Entry::parse(&self.ledger().read(seq)?, seq)?;
                if matches!(entry.action, Action::TrustAdded | Action::TrustRemoved) {
                    self.recovery.trust_entries_signed.push(seq);
                }
            }
            self.sign_checkpoint()?;
            self.recovery.checkpoint_signed = true;
            self.recovery.entries_signed = len - latest;
        }
        Ok(())
    }

    /// Refuses to write on top of a ledger that no longer matches its latest signed
    /// checkpoint: signing a new checkpoint would hide the damage.
    fn check_against_latest_checkpoint(&self) -> Result<()> {
        check_ledger_against_checkpoint(&self.ledger(), &self.verifier)
    }

    fn sign_checkpoint(&self) -> Result<()> {
        let writer = self.writer.as_ref().expect("only writers sign");
        let ledger = self.ledger();
        let cp = Checkpoint {
            origin: self.config.origin.clone(),
            size: ledger.len(),
            root: ledger.tree().root(),
        };
        ledger.write_checkpoint(cp.size, &cp.sign(&writer.signer)?)?;
        Ok(())
    }

    pub(crate) fn ledger(&self) -> MutexGuard<'_, FileLedger> {
        self.ledger.lock().expect("ledger mutex not poisoned")
    }

    /// Commits a batch (formats.md §6): staged bytes and ledger entries become durable,
    /// the blobs visible, the catalog updated and a checkpoint signed, in that order.
    pub async fn commit(&self, pending: Vec<Pending>, staged: &[Digest]) -> Result<Vec<Entry>> {
        if self.writer.is_none() {
            return Err(AppError::Invalid("this vault was opened read-only".into()));
        }
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        if !staged.is_empty() {
            self.blobs.sync_staging()?;
        }
        let entries = {
            let mut ledger = self.ledger();
            let first = ledger.len();
            let time = Timestamp::now();
            let entries: Vec<Entry> = pending
                .into_iter()
                .enumerate()
                .map(|(i, p)| {
                    Entry::new(
                        first + i as u64,
                        time,
                        &self.actor,
                        p.action,
                        p.item,
                        p.sha256,
                        p.details,
                    )
                })
                .collect();
            ledger.append(&entries.iter().map(Entry::to_bytes).collect::<Vec<_>>())?;
            entries
        };
        // Committed. What follows is completed by recovery if it is interrupted.
        if !staged.is_empty() {
            self.blobs.promote(staged)?;
        }
        let mut changes = Vec::new();
        for e in &entries {
            changes.extend(projection::changes(e)?);
        }
        self.catalog
            .apply(&changes, entries.last().expect("non-empty").seq)
            .await?;
        self.sign_checkpoint()?;
        Ok(entries)
    }

    /// Reserves the next item id (writers only).
    pub(crate) fn next_item_id(&self) -> ItemId {
        let writer = self.writer.as_ref().expect("only writers allocate ids");
        let mut next = writer.next_item.lock().expect("not poisoned");
        let id = ItemId::new(*next);
        *next += 1;
        id
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn config(&self) -> &VaultConfig {
        &self.config
    }
    pub fn actor(&self) -> &str {
        &self.actor
    }
    pub fn catalog(&self) -> &dyn Catalog {
        self.catalog.as_ref()
    }
    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.blobs
    }
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }
    pub fn is_writer(&self) -> bool {
        self.writer.is_some()
    }

    /// Every ledger entry of one action, oldest first, read from the ledger itself (the
    /// catalog only says where they are).
    pub async fn entries_of(&self, action: Action) -> Result<Vec<Entry>> {
        let events = self.catalog.events_by_action(action.as_str()).await?;
        let mut out = Vec::with_capacity(events.len());
        for ev in events {
            let bytes = self.ledger().read(ev.seq)?;
            out.push(Entry::parse(&bytes, ev.seq)?);
        }
        Ok(out)
    }

    /// Closes the catalog cleanly (checkpointing SQLite's write-ahead log).
    pub async fn close(self) {
        self.catalog.close().await;
    }
}

/// Checks that the ledger still matches its latest signed checkpoint.
pub(crate) fn check_ledger_against_checkpoint(
    ledger: &FileLedger,
    verifier: &Verifier,
) -> Result<()> {
    let Some((size, note)) = ledger.latest_checkpoint()? else {
        return Ok(());
    };
    let cp = Checkpoint::open(&note, verifier).map_err(|e| AppError::LedgerMismatch {
        size,
        reason: format!("the checkpoint itself is invalid: {e}"),
    })?;
    if cp.size != size {
        return Err(AppError::LedgerMismatch {
            size,
            reason: format!(
                "the file for size {size} holds a checkpoint of size {}",
                cp.size
            ),
        });
    }
    if size > ledger.len() {
        return Err(AppError::LedgerMismatch {
            size,
            reason: format!(
                "the ledger holds only {} entries (entries were removed)",
                ledger.len()
            ),
        });
    }
    if ledger.tree().root_at(size)? != cp.root {
        return Err(AppError::LedgerMismatch {
            size,
            reason: "its root differs (entries were changed or reordered)".into(),
        });
    }
    Ok(())
}
