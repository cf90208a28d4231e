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
            let mut whole = Vec::new();
            loop {
                let next = queue.lock().expect("not poisoned").pop();
                let Some((b, path)) = next else {
                    break;
                };
                // Derived data is filed under the digest: only from the very bytes it
                // names. A copy small enough is read once, checked, then examined in
                // memory; a larger one is checked, then read again.
                let examined = match read_stored(&path, &b, &mut buf, &mut whole) {
                    Err(why) => Err(why),
                    Ok(Held::Whole) => Ok(crate::ingest::examine_bytes(&whole, &b.media_type)),
                    Ok(Held::Checked) => Ok(crate::ingest::examine_path(&path, &b.media_type)),
                };
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

/// Largest stored copy read into memory whole to be checked and examined.
const HELD_WHOLE: u64 = 64 * 1024 * 1024;

/// How [`read_stored`] left a stored copy that is the collected bytes.
enum Held {
    /// Read whole into the caller's buffer.
    Whole,
    /// Larger than [`HELD_WHOLE`]: checked as it streamed past, not kept.
    Checked,
}

/// Reads the stored copy of `b` at `path` and checks it against the collected length
/// and SHA-256; a copy of at most [`HELD_WHOLE`] bytes is left in `whole`. Fails with
/// why the stored bytes are not the collected ones (missing, another length, another
/// SHA-256).
fn read_stored(
    path: &std::path::Path,
    b: &Blob,
    buf: &mut [u8],
    whole: &mut Vec<u8>,
) -> std::result::Result<Held, String> {
    use std::io::Read;
    let unreadable = |e: std::io::Error| format!("its stored bytes cannot be read ({e})");
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let (digest, len, held) = if b.size <= HELD_WHOLE {
        whole.clear();
        whole.reserve(b.size as usize + 1);
        // One byte past the collected length tells a longer copy, whose length is then
        // asked of the file system rather than read.
        (&mut file)
            .take(b.size + 1)
            .read_to_end(whole)
            .map_err(unreadable)?;
        let len = if whole.len() as u64 > b.size {
            file.metadata().map_err(unreadable)?.len()
        } else {
            whole.len() as u64
        };
        let mut h = custody_model::Sha256::new();
        h.update(whole);
        (h.finish(), len, Held::Whole)
    } else {
        let (d, len) =
            custody_vault::hash_reader_with(&mut file, buf, &|_| {}).map_err(unreadable)?;
        (d, len, Held::Checked)
    };
    if len != b.size {
        return Err(format!(
            "its stored copy is {len} bytes long where {} were collected",
            b.size
        ));
    }
    if digest != b.sha256 {
        return Err(format!(
            "its stored copy has SHA-256 {}, not the collected {}",
            digest.to_hex(),
            b.sha256.to_hex()
        ));
    }
    Ok(held)
}
