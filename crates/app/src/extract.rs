//! `custody extract --all` and `custody extract ITEM`: metadata for items already in
//! the vault.
//!
//! Ingest extracts metadata as it goes; this re-runs the extractor over stored blobs,
//! every blob or one item's, where they lack a record of the current extractor version
//! (or regardless, with `force`). Both run the same per-blob work (`extract_blobs`).
//! Each extraction is a `metadata.extracted` ledger entry naming the extractor and its
//! version; the original bytes are only read.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use custody_model::{Digest, ItemId};
use serde::Serialize;

use crate::error::{AppError, Result};
use crate::ingest::extraction_entry;
use crate::vault::Vault;

/// Receives progress; called from worker threads.
pub trait ExtractObserver: Send + Sync {
    fn planned(&self, _files: u64) {}
    fn done(&self, _n: u64) {}
}

pub struct Quiet;
impl ExtractObserver for Quiet {}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ExtractReport {
    pub extractor: String,
    pub version: String,
    /// The item asked for, when one item was extracted (`custody extract ITEM`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemId>,
    /// Distinct blobs considered.
    pub blobs: u64,
    /// Extractions recorded.
    pub extracted: u64,
    /// Blobs that already had a record of this version.
    pub up_to_date: u64,
    /// Records that say some part could not be extracted.
    pub with_problems: u64,
    /// Blobs whose stored bytes are missing or are not the ones collected: nothing was
    /// recorded for them (`custody verify --full` says more).
    pub damaged: Vec<DamagedBlob>,
    pub seconds: f64,
    pub files_per_second: f64,
}

/// A blob that was not examined because its stored bytes are not the item's.
#[derive(Debug, Clone, Serialize)]
pub struct DamagedBlob {
    pub item: ItemId,
    pub sha256: Digest,
    /// What is wrong with the stored bytes.
    pub why: String,
}

/// Examines every distinct blob in the vault, each under the first item it was
/// collected as; blobs with a record of this extractor version are skipped unless `force`.
pub async fn extract_all(
    vault: &Vault,
    force: bool,
    threads: usize,
    observer: Arc<dyn ExtractObserver>,
) -> Result<ExtractReport> {
    // One representative item (the first collection) per distinct blob.
    let mut blobs: BTreeMap<Digest, Blob> = BTreeMap::new();
    for item in vault.catalog().items(&Default::default()).await? {
        blobs.entry(item.sha256).or_insert(Blob {
            sha256: item.sha256,
            size: item.size,
            item: item.id,
            media_type: item.media_type,
        });
    }
    extract_blobs(
        vault,
        blobs.into_values().collect(),
        force,
        threads,
        observer,
    )
    .await
}

/// Examines the bytes of one item, given as `custody show` takes it (item id or SHA-256
/// prefix); skipped when they have a record of this extractor version unless `force`.
/// The extraction is recorded under that item.
pub async fn extract_item(
    vault: &Vault,
    query: &str,
    force: bool,
    observer: Arc<dyn ExtractObserver>,
) -> Result<ExtractReport> {
    let item = crate::items::resolve(vault, query).await?;
    let blob = Blob {
        sha256: item.sha256,
        size: item.size,
        item: item.id,
        media_type: item.media_type,
    };
    let mut report = extract_blobs(vault, vec![blob], force, 1, observer).await?;
    report.item = Some(item.id);
    Ok(report)
}

/// A blob to examine, read as the media type of the item its record is filed under.
struct Blob {
    sha256: Digest,
    /// Bytes collected.
    size: u64,
    item: ItemId,
    media_type: String,
}

/// The work shared by [`extract_all`] and [`extract_item`]: skip what is up to date,
/// extract the rest on `threads` workers, record each extraction as a
/// `metadata.extracted` entry (committed in batches of 256).
async fn extract_blobs(
    vault: &Vault,
    blobs: Vec<Blob>,
    force: bool,
    threads: usize,
    observer: Arc<dyn ExtractObserver>,
) -> Result<ExtractReport> {
    let started = Instant::now();
    let mut report = ExtractReport {
        extractor: custody_extract::EXTRACTOR.into(),
        version: custody_extract::VERSION.into(),
        blobs: blobs.len() as u64,
        ..Default::default()
    };
    let mut todo = Vec::new();
    for b in blobs {
        if !force
            && vault
                .catalog()
                .has_metadata(
                    &b.sha256,
                    custody_extract::EXTRACTOR,
                    custody_extract::VERSION,
                )
                .await?
        {
            report.up_to_date += 1;
            continue;
        }
        let path = vault.blobs().local_path(&b.sha256, false).ok_or_else(|| {
            AppError::Invalid("this blob store keeps no local files; extraction needs them".into())
        })?;
        todo.push((b, path));
    }
    observer.planned(todo.len() as u64);

    let queue = Arc::new(Mutex::new(todo));
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let mut workers = Vec::new();
    for _ in 0..threads.max(1) {
        let queue = queue.clone();
        let tx = tx.clone();
        let observer = observer.clone();
        workers.push(std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let next = queue.lock().expect("not poisoned").pop();
                let Some((b, path)) = next else {
                    break;
                };
                // Derived data is filed under the digest: only from the very bytes it names.
                let examined = stored_bytes_problem(&path, &b, &mut buf).map_or_else(
                    || {
                        let m = custody_extract::extract_path(&path, &b.media_type);
                        let h = crate::ingest::perceptual_hash(&path, &b.media_type);
                        Ok((m, h))
                    },
                    Err,
                );
                observer.done(1);
                if tx.blocking_send((b, examined)).is_err() {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let mut batch = Vec::new();
    while let Some((b, examined)) = rx.recv().await {
        let (m, h) = match examined {
            Ok(done) => done,
            Err(why) => {
                report.damaged.push(DamagedBlob {
                    item: b.item,
                    sha256: b.sha256,
                    why,
                });
                continue;
            }
        };
        let (d, id) = (b.sha256, b.item);
        if !m.problems.is_empty() {
            report.with_problems += 1;
        }
        batch.push(extraction_entry(id, d, &m, h.as_ref()));
        if batch.len() >= 256 {
            report.extracted += batch.len() as u64;
            vault.commit(std::mem::take(&mut batch), &[]).await?;
        }
    }
    if !batch.is_empty() {
        report.extracted += batch.len() as u64;
        vault.commit(batch, &[]).await?;
    }
    for w in workers {
        let _ = w.join();
    }
    report.damaged.sort_by_key(|x| x.item);
    report.seconds = started.elapsed().as_secs_f64();
    report.files_per_second = if report.seconds > 0.0 {
        report.extracted as f64 / report.seconds
    } else {
        0.0
    };
    Ok(report)
}

/// Why the stored copy of `b` at `path` is not the collected bytes (missing, another
/// length, another SHA-256), or `None` when it is.
fn stored_bytes_problem(path: &std::path::Path, b: &Blob, buf: &mut [u8]) -> Option<String> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return Some(format!("its stored bytes cannot be read ({e})")),
    };
    match custody_vault::hash_reader_with(&mut file, buf, &|_| {}) {
        Err(e) => Some(format!("its stored bytes cannot be read ({e})")),
        Ok((_, len)) if len != b.size => Some(format!(
            "its stored copy is {len} bytes long where {} were collected",
            b.size
        )),
        Ok((d, _)) if d != b.sha256 => Some(format!(
            "its stored copy has SHA-256 {}, not the collected {}",
            d.to_hex(),
            b.sha256.to_hex()
        )),
        Ok(_) => None,
    }
}
