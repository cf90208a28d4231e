//! `custody extract --all`: metadata for items already in the vault.
//!
//! Ingest extracts metadata as it goes; this re-runs the extractor over stored blobs,
//! for items ingested before the current extractor version (or all, with `force`).
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
    /// Distinct blobs considered.
    pub blobs: u64,
    /// Extractions recorded.
    pub extracted: u64,
    /// Blobs that already had a record of this version.
    pub up_to_date: u64,
    /// Records that say some part could not be extracted.
    pub with_problems: u64,
    pub seconds: f64,
    pub files_per_second: f64,
}

pub async fn extract_all(
    vault: &Vault,
    force: bool,
    threads: usize,
    observer: Arc<dyn ExtractObserver>,
) -> Result<ExtractReport> {
    let started = Instant::now();
    let mut report = ExtractReport {
        extractor: custody_extract::EXTRACTOR.into(),
        version: custody_extract::VERSION.into(),
        ..Default::default()
    };
    // One representative item (the first collection) per distinct blob.
    let mut blobs: BTreeMap<Digest, (ItemId, String)> = BTreeMap::new();
    for item in vault.catalog().items(&Default::default()).await? {
        blobs
            .entry(item.sha256)
            .or_insert((item.id, item.media_type));
    }
    report.blobs = blobs.len() as u64;
    let mut todo = Vec::new();
    for (d, (id, media)) in blobs {
        if !force
            && vault
                .catalog()
                .has_metadata(&d, custody_extract::EXTRACTOR, custody_extract::VERSION)
                .await?
        {
            report.up_to_date += 1;
            continue;
        }
        let path = vault.blobs().local_path(&d, false).ok_or_else(|| {
            AppError::Invalid("this blob store keeps no local files; extraction needs them".into())
        })?;
        todo.push((d, id, media, path));
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
            loop {
                let next = queue.lock().expect("not poisoned").pop();
                let Some((d, id, media, path)) = next else {
                    break;
                };
                let m = custody_extract::extract_path(&path, &media);
                let h = crate::ingest::perceptual_hash(&path, &media);
                observer.done(1);
                if tx.blocking_send((d, id, m, h)).is_err() {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let mut batch = Vec::new();
    while let Some((d, id, m, h)) = rx.recv().await {
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
    report.seconds = started.elapsed().as_secs_f64();
    report.files_per_second = if report.seconds > 0.0 {
        report.extracted as f64 / report.seconds
    } else {
        0.0
    };
    Ok(report)
}
