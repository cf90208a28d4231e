//! `custody extract --all` and `custody extract ITEM`: metadata for items already in
//! the vault.
//!
//! Ingest extracts metadata as it goes; this re-runs the extractor over stored blobs,
//! every blob or one item's, where they lack a record of the current extractor version
//! (or regardless, with `force`). Both run the same per-blob work (`extract_blobs`).
//! Each extraction is a `metadata.extracted` ledger entry naming the extractor and its
//! version; the original bytes are only read.
//!
//! The perceptual hash is named by its own algorithm (`custody_similar::ALGORITHM`), not
//! by the extractor's version: with `--all`, bytes that already have a hash of that
//! algorithm get it recorded again rather than computed again, so catching up after an
//! extractor upgrade costs reading, checking and extracting, not decoding every image.
//! `force` computes everything again, and so does one item's extraction. Bytes of a type
//! the hasher now takes whose extraction recorded no hash at all (HEIC/HEIF before it was
//! decoded, videos before their keyframes were hashed) are examined again although their
//! record is of the current version. Keyframe hashes are never reused: videos are few,
//! and each extraction reads its chosen frames again.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use custody_model::{Digest, ItemId};
use serde::Serialize;

use crate::error::{AppError, Result};
use crate::ingest::{Examined, extraction_entry};
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
    /// Extractions whose perceptual hash was taken from an earlier record of the same
    /// bytes and the same hash algorithm instead of computed again (never with `force`).
    pub phash_reused: u64,
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
            known_phash: None,
        });
    }
    extract_blobs(
        vault,
        blobs.into_values().collect(),
        force,
        !force,
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
    let item = crate::items::resolve_bytes(vault, query).await?;
    let blob = Blob {
        sha256: item.sha256,
        size: item.size,
        item: item.id,
        media_type: item.media_type,
        known_phash: None,
    };
    // One image is hashed sooner than the vault's hashes are read: no reuse here.
    let mut report = extract_blobs(vault, vec![blob], force, false, 1, observer).await?;
    report.item = Some(item.id);
    Ok(report)
}

/// Whether the latest extraction of these bytes recorded none of the hashes their type
/// now gets, or only a failure that may pass (see [`lacks_hashes`]). Such bytes are
/// examined again although their record is of the current version.
async fn never_hashed(vault: &Vault, sha256: &Digest, media_type: &str) -> Result<bool> {
    let Some(row) = vault
        .catalog()
        .metadata(sha256, custody_extract::EXTRACTOR)
        .await?
    else {
        return Ok(false);
    };
    let bytes = vault.ledger().read(row.ledger_seq)?;
    let entry = custody_ledger::Entry::parse(&bytes, row.ledger_seq)?;
    Ok(lacks_hashes(&entry.details, media_type))
}

/// Whether the details of a `metadata.extracted` entry lack a hash their media type now
/// gets: neither a value nor why there is none (an image without `phash`: HEIC/HEIF
/// before `custody-similar` decoded it; a video without `keyframes`: before keyframes
/// were hashed), a hash without the hashes it would have turned (before those were
/// recorded), or a failure that says nothing about the bytes (the vault's copy
/// could not be read, an internal error stopped the examination). Bytes whose hash
/// failed because they cannot be decoded (a damaged image or video) recorded why, and
/// are not retried.
fn lacks_hashes(details: &serde_json::Value, media_type: &str) -> bool {
    // A hash recorded without the hashes it would have turned (before they were
    // recorded) lacks those.
    let unturned = |h: &serde_json::Value| h.get("value").is_some() && h.get("turned").is_none();
    let lacks = |key: &str| match details.get(key) {
        None => true,
        Some(h) => {
            h["error"]
                .as_str()
                .is_some_and(crate::ingest::may_succeed_later)
                || unturned(h)
                || h["frames"]
                    .as_array()
                    .is_some_and(|frames| frames.iter().any(unturned))
        }
    };
    (custody_similar::is_hashable(media_type) && lacks("phash"))
        || (custody_similar::has_keyframes(media_type) && lacks("keyframes"))
}

/// A blob to examine, read as the media type of the item its record is filed under.
struct Blob {
    sha256: Digest,
    /// Bytes collected.
    size: u64,
    item: ItemId,
    media_type: String,
    /// The perceptual hash of these bytes already recorded with the current algorithm,
    /// with its turned hashes, recorded again instead of computed.
    known_phash: Option<custody_similar::Turnings>,
}

/// The work shared by [`extract_all`] and [`extract_item`]: skip what is up to date,
/// extract the rest on `threads` workers, record each extraction as a
/// `metadata.extracted` entry (committed in batches of 256). With `reuse_hashes`, a
/// perceptual hash the catalog already holds for the same bytes under the current
/// algorithm is recorded again instead of computed.
async fn extract_blobs(
    vault: &Vault,
    blobs: Vec<Blob>,
    force: bool,
    reuse_hashes: bool,
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
    // Image hashes of the current algorithm recorded with their turned hashes, by bytes:
    // read once, at the first image.
    let mut known: Option<std::collections::HashMap<Digest, custody_similar::Turnings>> = None;
    for mut b in blobs {
        let hashable = custody_similar::is_hashable(&b.media_type);
        if (reuse_hashes || !force) && hashable && known.is_none() {
            let all = vault
                .catalog()
                .phashes(custody_similar::ALGORITHM, true)
                .await?;
            known = Some(
                all.into_iter()
                    .filter_map(|(d, hash, turned)| {
                        Some((d, crate::similar::turnings(hash, turned?)))
                    })
                    .collect(),
            );
        }
        let has_hash = known.as_ref().is_some_and(|k| k.contains_key(&b.sha256));
        // Images with a hash in the catalog have one recorded; videos (few) are looked
        // up in their latest extraction entry.
        let may_lack = (hashable && !has_hash) || custody_similar::has_keyframes(&b.media_type);
        if !force
            && vault
                .catalog()
                .has_metadata(
                    &b.sha256,
                    custody_extract::EXTRACTOR,
                    custody_extract::VERSION,
                )
                .await?
            && !(may_lack && never_hashed(vault, &b.sha256, &b.media_type).await?)
        {
            report.up_to_date += 1;
            continue;
        }
        if reuse_hashes && hashable {
            b.known_phash = known.as_ref().and_then(|k| k.get(&b.sha256)).copied();
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
                // A video's keyframes are read from the checked stored copy.
                let examined = match (read_stored(&path, &b, &mut buf, &mut whole), b.known_phash) {
                    (Err(why), _) => Err(why),
                    (Ok(held), Some(h)) => {
                        let (keyframes, stream) = crate::ingest::keyframes(&path, &b.media_type);
                        Ok(Examined {
                            metadata: extract_held(held, &whole, &path, &b),
                            phash: Some(Ok(h)),
                            keyframes,
                            stream,
                        })
                    }
                    (Ok(Held::Whole), None) => {
                        Ok(crate::ingest::guarded(&b.media_type, b.size, || {
                            crate::ingest::examine_bytes(&whole, &b.media_type, Some(&path))
                        }))
                    }
                    (Ok(Held::Checked), None) => {
                        Ok(crate::ingest::guarded(&b.media_type, b.size, || {
                            crate::ingest::examine_path(&path, &b.media_type)
                        }))
                    }
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
        let examined = match examined {
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
        if !examined.metadata.problems.is_empty() {
            report.with_problems += 1;
        }
        if b.known_phash.is_some() {
            report.phash_reused += 1;
        }
        batch.push(extraction_entry(id, d, &examined));
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

/// The metadata of a checked stored copy, from memory or read again from `path`.
fn extract_held(
    held: Held,
    whole: &[u8],
    path: &std::path::Path,
    b: &Blob,
) -> custody_extract::Metadata {
    match held {
        Held::Whole => crate::ingest::extract_bytes(whole, &b.media_type),
        Held::Checked => custody_extract::extract_path(path, &b.media_type),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Collection, IngestOptions, examine_bytes, extraction_entry};
    use crate::verify::{Silent, VerifyOptions, verify};

    /// A synthetic 256×192 JPEG: a gradient with a bright square placed by `seed`.
    fn jpeg(seed: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(256, 192, |x, y| {
            let inside = (x / 64 == seed % 4) && (y / 64 == seed % 3);
            let v = if inside { 250 } else { ((x + y) / 2) as u8 };
            image::Rgb([v, v / 2, 255 - v])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .expect("encodes");
        out.into_inner()
    }

    async fn recorded_phash(vault: &Vault, d: &Digest) -> Option<u64> {
        let all = vault
            .catalog()
            .phashes(custody_similar::ALGORITHM, true)
            .await
            .expect("catalog reads");
        all.into_iter().find(|(x, _, _)| x == d).map(|(_, h, _)| h)
    }

    /// The turned hashes recorded for the bytes `d` (`None` when none are, or no hash).
    async fn recorded_turned(vault: &Vault, d: &Digest) -> Option<custody_store::TurnedHashes> {
        let all = vault
            .catalog()
            .phashes(custody_similar::ALGORITHM, true)
            .await
            .expect("catalog reads");
        all.into_iter().find(|r| r.0 == *d).and_then(|r| r.2)
    }

    /// A fresh vault holding `files` (name, bytes), preserved without examination (as
    /// `ingest --no-extract` does), and its items.
    async fn preserved(
        files: &[(&str, &[u8])],
    ) -> (tempfile::TempDir, Vault, Vec<custody_model::Item>) {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::init(&dir.path().join("vault"), "t", "tester")
            .await
            .unwrap();
        let folder = dir.path().join("in");
        std::fs::create_dir(&folder).unwrap();
        for (name, bytes) in files {
            std::fs::write(folder.join(name), bytes).unwrap();
        }
        let options = IngestOptions {
            extract: false,
            ..Default::default()
        };
        let summary = crate::ingest::ingest(
            &vault,
            std::slice::from_ref(&folder),
            &Collection::default(),
            &options,
            Arc::new(crate::ingest::Quiet),
        )
        .await
        .unwrap();
        assert_eq!(summary.ingested, files.len() as u64);
        let items = vault.catalog().items(&Default::default()).await.unwrap();
        (dir, vault, items)
    }

    /// After an extractor upgrade, `extract --all` records the perceptual hash already
    /// known for the same bytes and algorithm instead of decoding the image again;
    /// `force` computes it again; bytes without a hash get one computed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_upgrade_records_the_known_perceptual_hash_again() {
        let (a, b, c) = (jpeg(1), jpeg(2), jpeg(3));
        let (_dir, vault, items) = preserved(&[("a.jpg", &a), ("b.jpg", &b), ("c.jpg", &c)]).await;
        let item = |name: &str| items.iter().find(|i| i.original_name == name).unwrap();
        let (item_a, item_b) = (item("a.jpg"), item("b.jpg"));
        let (digest_a, digest_b, digest_c) = (item_a.sha256, item_b.sha256, item("c.jpg").sha256);
        let real_hash = |bytes: &[u8]| {
            examine_bytes(bytes, "image/jpeg", None)
                .phash
                .unwrap()
                .unwrap()
        };
        let (real, real_b, real_c) = (real_hash(&a), real_hash(&b), real_hash(&c));

        // Records of an older extractor version for a.jpg and b.jpg, whose hashes are
        // planted: a hash computed again would differ from them.
        let planted = custody_similar::Turnings {
            hash: custody_similar::PHash(real.hash.0 ^ 0xFFFF_0000_0000_FFFF),
            turned: custody_similar::Turned(real.turned.0.map(|h| custody_similar::PHash(!h.0))),
        };
        let mut older = Vec::new();
        for (i, bytes) in [(item_a, &a), (item_b, &b)] {
            let mut examined = examine_bytes(bytes, "image/jpeg", None);
            examined.metadata.extractor_version = "0.9".into();
            examined.phash = Some(Ok(planted));
            older.push(extraction_entry(i.id, i.sha256, &examined));
        }
        vault.commit(older, &[]).await.unwrap();

        // One item's extraction hashes its image again.
        let one = extract_item(&vault, &item_b.id.to_string(), false, Arc::new(Quiet))
            .await
            .unwrap();
        assert_eq!((one.extracted, one.phash_reused), (1, 0));
        assert_eq!(recorded_phash(&vault, &digest_b).await, Some(real_b.hash.0));

        let r = extract_all(&vault, false, 2, Arc::new(Quiet))
            .await
            .unwrap();
        assert_eq!((r.extracted, r.up_to_date, r.phash_reused), (2, 1, 1));
        assert!(
            vault
                .catalog()
                .has_metadata(
                    &digest_a,
                    custody_extract::EXTRACTOR,
                    custody_extract::VERSION
                )
                .await
                .unwrap()
        );
        assert_eq!(
            recorded_phash(&vault, &digest_a).await,
            Some(planted.hash.0)
        );
        assert_eq!(recorded_phash(&vault, &digest_c).await, Some(real_c.hash.0));
        // The turned hashes are recorded again with the hash.
        assert_eq!(
            recorded_turned(&vault, &digest_a).await,
            Some(planted.turned.0.map(|h| h.0))
        );
        assert_eq!(
            recorded_turned(&vault, &digest_c).await,
            Some(real_c.turned.0.map(|h| h.0))
        );

        // Up to date now: nothing to do.
        let again = extract_all(&vault, false, 2, Arc::new(Quiet))
            .await
            .unwrap();
        assert_eq!(
            (again.extracted, again.up_to_date, again.phash_reused),
            (0, 3, 0)
        );

        // --force decodes again and records the hash of the bytes.
        let forced = extract_all(&vault, true, 2, Arc::new(Quiet)).await.unwrap();
        assert_eq!((forced.extracted, forced.phash_reused), (3, 0));
        assert_eq!(recorded_phash(&vault, &digest_a).await, Some(real.hash.0));

        // Every entry went through the ledger: the vault still verifies.
        let report = verify(
            &vault,
            &VerifyOptions {
                full: true,
                checkpoint_file: None,
                threads: 2,
            },
            &Silent,
        )
        .await
        .unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }

    /// HEIC/HEIF bytes examined before the hasher took them carry a record of the
    /// current version with no hash at all: `extract --all` examines them again, and
    /// only them (a damaged image, whose record says why it has no hash, is not retried).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bytes_never_hashed_are_examined_again_once_their_type_is_hashed() {
        let heic = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../similar/tests/data/picture.heic"),
        )
        .unwrap();
        let good = jpeg(1);
        let mut damaged = jpeg(2);
        damaged.truncate(damaged.len() / 2);
        let (_dir, vault, items) = preserved(&[
            ("p.heic", &heic),
            ("good.jpg", &good),
            ("damaged.jpg", &damaged),
        ])
        .await;
        let item = |name: &str| items.iter().find(|i| i.original_name == name).unwrap();
        assert_eq!(item("p.heic").media_type, "image/heif");

        // Records of the current version, as the release before HEIC hashing wrote
        // them: no hash for the HEIC, the hash of the good JPEG, the damaged one's error.
        let mut records = Vec::new();
        for (name, bytes) in [
            ("p.heic", &heic),
            ("good.jpg", &good),
            ("damaged.jpg", &damaged),
        ] {
            let i = item(name);
            let mut examined = examine_bytes(bytes, &i.media_type, None);
            if name == "p.heic" {
                examined.phash = None;
            }
            if name == "damaged.jpg" {
                assert!(matches!(examined.phash, Some(Err(_))), "{examined:?}");
            }
            records.push(extraction_entry(i.id, i.sha256, &examined));
        }
        vault.commit(records, &[]).await.unwrap();
        let digest = item("p.heic").sha256;
        assert_eq!(recorded_phash(&vault, &digest).await, None);

        let r = extract_all(&vault, false, 2, Arc::new(Quiet))
            .await
            .unwrap();
        assert_eq!((r.extracted, r.up_to_date), (1, 2));
        let expected = custody_similar::hash_bytes(&heic, "image/heif").unwrap();
        assert_eq!(recorded_phash(&vault, &digest).await, Some(expected.0));
        // Recorded with the hashes it would have turned.
        let turned = recorded_turned(&vault, &digest).await;
        let expected = custody_similar::hash_turnings_bytes(&heic, "image/heif").unwrap();
        assert_eq!(turned, Some(expected.turned.0.map(|h| h.0)));

        let again = extract_all(&vault, false, 2, Arc::new(Quiet))
            .await
            .unwrap();
        assert_eq!((again.extracted, again.up_to_date), (0, 3));
    }

    /// Images extracted before turned hashes were recorded: `extract --all` examines
    /// them again (the hash is computed, not reused, as its turned hashes are wanted)
    /// and records them; then leaves them alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashes_recorded_without_turned_hashes_are_examined_again() {
        let (a, b) = (jpeg(1), jpeg(2));
        let (_dir, vault, items) = preserved(&[("a.jpg", &a), ("b.jpg", &b)]).await;
        let item = |name: &str| items.iter().find(|i| i.original_name == name).unwrap();
        let mut records = Vec::new();
        for (name, bytes) in [("a.jpg", &a), ("b.jpg", &b)] {
            let i = item(name);
            let mut entry =
                extraction_entry(i.id, i.sha256, &examine_bytes(bytes, &i.media_type, None));
            if name == "a.jpg" {
                // As an earlier build recorded it.
                let phash = entry.details["phash"].as_object_mut().unwrap();
                assert!(phash.remove("turned").is_some());
            }
            records.push(entry);
        }
        vault.commit(records, &[]).await.unwrap();
        let (digest_a, digest_b) = (item("a.jpg").sha256, item("b.jpg").sha256);
        assert_eq!(recorded_turned(&vault, &digest_a).await, None);
        assert!(recorded_turned(&vault, &digest_b).await.is_some());

        let r = extract_all(&vault, false, 2, Arc::new(Quiet))
            .await
            .unwrap();
        assert_eq!((r.extracted, r.up_to_date, r.phash_reused), (1, 1, 0));
        let want = custody_similar::hash_turnings_bytes(&a, "image/jpeg").unwrap();
        assert_eq!(
            recorded_turned(&vault, &digest_a).await,
            Some(want.turned.0.map(|h| h.0))
        );
        let again = extract_all(&vault, false, 2, Arc::new(Quiet))
            .await
            .unwrap();
        assert_eq!((again.extracted, again.up_to_date), (0, 2));
    }

    /// Details lacking a hash their type now gets: an image without `phash`, a video of
    /// a type whose keyframes are hashed without `keyframes`, a hash without its turned
    /// hashes; a recorded failure is a hash's record too.
    #[test]
    fn what_lacks_hashes() {
        use serde_json::json;
        let error = json!({"algorithm": "a", "error": "could not hash: x"});
        assert!(lacks_hashes(&json!({}), "video/mp4"));
        assert!(lacks_hashes(&json!({"phash": error}), "video/quicktime"));
        assert!(!lacks_hashes(&json!({"keyframes": error}), "video/mp4"));
        let turned: serde_json::Map<String, serde_json::Value> = custody_similar::Turn::ALL
            .iter()
            .map(|t| (t.id().to_owned(), "0123456789abcdef".into()))
            .collect();
        let frames = json!({"algorithm": "a", "frames": [
            {"at_ms": 0, "value": "0123456789abcdef", "turned": turned}
        ]});
        assert!(!lacks_hashes(&json!({"keyframes": frames}), "video/x-m4v"));
        // Hashes recorded without their turned hashes (before those were) lack them.
        let unturned_frames = json!({"algorithm": "a", "frames": [
            {"at_ms": 0, "value": "0123456789abcdef", "turned": turned},
            {"at_ms": 40, "value": "0123456789abcdef"},
        ]});
        assert!(lacks_hashes(
            &json!({"keyframes": unturned_frames}),
            "video/mp4"
        ));
        let image = json!({"algorithm": "a", "value": "0123456789abcdef", "turned": turned});
        assert!(!lacks_hashes(&json!({"phash": image}), "image/jpeg"));
        let unturned = json!({"algorithm": "a", "value": "0123456789abcdef"});
        assert!(lacks_hashes(&json!({"phash": unturned}), "image/jpeg"));
        assert!(
            !lacks_hashes(&json!({}), "video/x-ms-wmv"),
            "not a type with keyframes"
        );
        assert!(lacks_hashes(&json!({}), "video/mpeg"));
        assert!(lacks_hashes(&json!({}), "video/x-msvideo"));
        assert!(lacks_hashes(&json!({}), "video/mp2t"));
        assert!(lacks_hashes(&json!({}), "image/heif"));
        assert!(!lacks_hashes(&json!({"phash": error}), "image/jpeg"));
        assert!(!lacks_hashes(&json!({}), "application/pdf"));
        // Failures that say nothing about the bytes are retried.
        let unread = json!({"algorithm": "a", "error": "could not hash: reading /v/blobs/ab: Input/output error (os error 5)"});
        assert!(lacks_hashes(&json!({"phash": unread}), "image/jpeg"));
        assert!(lacks_hashes(&json!({"keyframes": unread}), "video/mp4"));
        let stopped = json!({"algorithm": "a", "error": crate::ingest::STOPPED});
        assert!(lacks_hashes(&json!({"phash": stopped}), "image/png"));
        let undecodable = json!({"algorithm": "a", "error": "could not hash: the video data cannot be decoded (reading past the end)"});
        assert!(!lacks_hashes(
            &json!({"keyframes": undecodable}),
            "video/mp4"
        ));
    }

    /// A video examined before its keyframes were hashed carries a record of the current
    /// version without `keyframes`: `extract --all` examines it again and records them
    /// (or why they could not be hashed), and then leaves it alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn videos_examined_before_keyframes_were_hashed_are_examined_again() {
        // An MP4 with no track: its metadata is extracted; it has no frame to hash.
        let mut clip = vec![0, 0, 0, 16];
        clip.extend_from_slice(b"ftypisom\0\0\x02\0");
        let photo = jpeg(1);
        let (_dir, vault, items) = preserved(&[("clip.mp4", &clip), ("photo.jpg", &photo)]).await;
        let item = |name: &str| items.iter().find(|i| i.original_name == name).unwrap();
        let video = item("clip.mp4");
        assert!(
            custody_similar::has_keyframes(&video.media_type),
            "{}",
            video.media_type
        );

        // Records of the current version as a release before keyframes wrote them.
        let mut records = Vec::new();
        for (name, bytes) in [("clip.mp4", &clip), ("photo.jpg", &photo)] {
            let i = item(name);
            let examined = examine_bytes(bytes, &i.media_type, None);
            assert!(examined.keyframes.is_none(), "no file given: not read");
            records.push(extraction_entry(i.id, i.sha256, &examined));
        }
        vault.commit(records, &[]).await.unwrap();
        let recorded = |view: &crate::items::ItemView| view.recorded_keyframes().cloned();
        let view = crate::items::show(&vault, &video.id.to_string())
            .await
            .unwrap();
        assert_eq!(recorded(&view), None);

        let r = extract_all(&vault, false, 2, Arc::new(Quiet))
            .await
            .unwrap();
        assert_eq!((r.extracted, r.up_to_date), (1, 1));
        let view = crate::items::show(&vault, &video.id.to_string())
            .await
            .unwrap();
        let keyframes = recorded(&view).expect("keyframes recorded");
        assert_eq!(keyframes["algorithm"], custody_similar::ALGORITHM);
        let error = keyframes["error"]
            .as_str()
            .expect("a track-less MP4 cannot be hashed");
        assert!(error.starts_with("could not hash"), "{keyframes}");

        let again = extract_all(&vault, false, 2, Arc::new(Quiet))
            .await
            .unwrap();
        assert_eq!((again.extracted, again.up_to_date), (0, 2));
    }
}
