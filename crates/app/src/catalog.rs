//! `custody catalog rebuild`: a new catalog from the ledger alone.
//!
//! The catalog is derived data. When it is damaged or lost, it is rebuilt by replaying
//! every ledger entry, after checking that the entries are the ones the signed
//! checkpoints cover. The old catalog file is kept beside the new one for examination.

use std::path::{Path, PathBuf};

use custody_ledger::{Checkpoint, Entry, FileLedger, Hash, Tree};
use custody_model::{Action, Timestamp};
use custody_store::{Catalog, SqliteCatalog};
use serde::Serialize;
use serde_json::json;

use crate::config::VaultConfig;
use crate::error::{AppError, Result};
use crate::lock::VaultLock;
use crate::projection;
use crate::vault::{LEDGER_DIR, Mode, Pending, Vault, check_ledger_against_checkpoint};

#[derive(Clone, Debug, Serialize)]
pub struct RebuildReport {
    pub entries: u64,
    pub items: u64,
    pub previous_catalog: Option<PathBuf>,
    pub ledger_seq: u64,
}

pub async fn rebuild(dir: &Path, actor: &str) -> Result<RebuildReport> {
    let (entries, items, previous) = {
        let _lock = VaultLock::acquire(dir)?;
        let config = VaultConfig::load(dir)?;
        let verifier = crate::vault::read_verifier(dir)?;
        let (ledger, _) = FileLedger::open(&dir.join(LEDGER_DIR), true)?;
        check_ledger_against_checkpoint(&ledger, &verifier)?;

        // The entries themselves, not only the index, must match the checkpoint.
        let mut parsed = Vec::with_capacity(ledger.len() as usize);
        let mut leaves = Vec::with_capacity(ledger.len() as usize);
        let mut bad = None;
        ledger.scan(|seq, bytes| {
            leaves.push(Hash::leaf(bytes));
            match Entry::parse(bytes, seq) {
                Ok(e) => parsed.push(e),
                Err(e) => {
                    bad.get_or_insert(e.to_string());
                }
            }
        })?;
        if let Some(reason) = bad {
            return Err(AppError::Invalid(format!(
                "cannot rebuild the catalog from a damaged ledger: {reason}; run `custody verify`"
            )));
        }
        if let Some((size, note)) = ledger.latest_checkpoint()? {
            let cp = Checkpoint::open(&note, &verifier)?;
            if Tree::from_leaves(leaves).root_at(size)? != cp.root {
                return Err(AppError::LedgerMismatch {
                    size,
                    reason: "the entries differ from what the checkpoint signed".into(),
                });
            }
        }

        let path = config.sqlite_path(dir)?;
        let fresh = path.with_extension("sqlite.rebuilding");
        remove_db(&fresh)?;
        let catalog = SqliteCatalog::open(&fresh, true).await?;
        for chunk in parsed.chunks(5000) {
            let mut changes = Vec::new();
            for e in chunk {
                changes.extend(projection::changes(e)?);
            }
            catalog
                .apply(&changes, chunk.last().expect("non-empty").seq)
                .await?;
        }
        let items = catalog.totals().await?.0;
        catalog.close().await;

        let previous = if path.exists() {
            let stamp = Timestamp::now().to_string().replace([':', '.'], "-");
            let kept = path.with_extension(format!("sqlite.replaced-{stamp}"));
            std::fs::rename(&path, &kept)
                .map_err(|e| AppError::io(format!("moving {} aside", path.display()), e))?;
            for suffix in ["-wal", "-shm"] {
                let side = PathBuf::from(format!("{}{suffix}", path.display()));
                if side.exists() {
                    let _ = std::fs::rename(
                        &side,
                        PathBuf::from(format!("{}{suffix}", kept.display())),
                    );
                }
            }
            Some(kept)
        } else {
            None
        };
        std::fs::rename(&fresh, &path)
            .map_err(|e| AppError::io(format!("installing {}", path.display()), e))?;
        custody_ledger::file::sync_dir(dir)?;
        (parsed.len() as u64, items, previous)
    };

    // The rebuild itself is an action on the vault.
    let vault = Vault::open(dir, Mode::Write, actor).await?;
    let pending = Pending {
        action: Action::CatalogRebuilt,
        item: None,
        sha256: None,
        details: json!({
            "entries_replayed": entries,
            "previous_catalog": previous.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()),
        }),
    };
    let seq = vault.commit(vec![pending], &[]).await?[0].seq;
    vault.close().await;
    Ok(RebuildReport {
        entries,
        items,
        previous_catalog: previous,
        ledger_seq: seq,
    })
}

fn remove_db(path: &Path) -> Result<()> {
    for p in [
        path.to_owned(),
        PathBuf::from(format!("{}-wal", path.display())),
        PathBuf::from(format!("{}-shm", path.display())),
    ] {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(AppError::io(format!("removing {}", p.display()), e)),
        }
    }
    Ok(())
}
