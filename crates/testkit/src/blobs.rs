//! The conformance suite for [`BlobStore`] backends.

use std::io::Read;

use custody_model::Digest;
use custody_vault::{BlobError, BlobStore, VerifyingReader};

use crate::data;

fn stage(store: &dyn BlobStore, bytes: &[u8]) -> custody_vault::Staged {
    let mut src: &[u8] = bytes;
    store.stage(&mut src, &|_| {}).expect("stage")
}

fn read_all(store: &dyn BlobStore, d: &Digest) -> Vec<u8> {
    let mut out = Vec::new();
    store
        .get(d)
        .expect("get")
        .read_to_end(&mut out)
        .expect("read");
    out
}

/// Runs every check against a fresh, empty store.
pub fn run(store: &dyn BlobStore) {
    round_trip_of_awkward_sizes(store);
    staged_bytes_are_invisible_until_promoted(store);
    duplicates_are_stored_once(store);
    discarded_bytes_never_appear(store);
    promoting_unstaged_bytes_is_an_error(store);
    missing_blobs_are_reported(store);
    progress_counts_every_byte(store);
    verified_reads_catch_a_wrong_digest(store);
}

fn round_trip_of_awkward_sizes(store: &dyn BlobStore) {
    // Empty, sub-page, page-aligned, and sizes that straddle the copy buffers.
    for (i, len) in [
        0usize,
        1,
        4095,
        4096,
        4097,
        (4 << 20) - 1,
        4 << 20,
        (9 << 20) + 123,
    ]
    .into_iter()
    .enumerate()
    {
        let bytes = data::bytes(100 + i as u64, len);
        let s = stage(store, &bytes);
        assert_eq!(s.digest, Digest::of(&bytes), "digest of {len} bytes");
        assert_eq!(s.size, len as u64);
        store.sync_staging().unwrap();
        store.promote(&[s.digest]).unwrap();
        assert_eq!(
            store.stat(&s.digest).unwrap(),
            Some(len as u64),
            "stat of {len} bytes"
        );
        assert_eq!(
            read_all(store, &s.digest),
            bytes,
            "bytes back for {len} bytes"
        );
    }
}

fn staged_bytes_are_invisible_until_promoted(store: &dyn BlobStore) {
    let bytes = data::bytes(1, 10_000);
    let s = stage(store, &bytes);
    assert_eq!(store.stat(&s.digest).unwrap(), None);
    assert!(store.staged().unwrap().contains(&s.digest));
    assert!(!store.list().unwrap().iter().any(|(d, _)| *d == s.digest));
    assert_eq!(store.promote(&[s.digest]).unwrap(), 1);
    assert!(!store.staged().unwrap().contains(&s.digest));
    assert!(store.list().unwrap().contains(&(s.digest, 10_000)));
    // Promoting again is harmless (recovery may repeat it).
    assert_eq!(store.promote(&[s.digest]).unwrap(), 0);
}

fn duplicates_are_stored_once(store: &dyn BlobStore) {
    let bytes = data::bytes(2, 5000);
    let a = stage(store, &bytes);
    assert_eq!(store.promote(&[a.digest]).unwrap(), 1);
    let b = stage(store, &bytes);
    assert_eq!(a, b);
    assert_eq!(
        store.promote(&[b.digest]).unwrap(),
        0,
        "second copy is not stored again"
    );
    assert_eq!(
        store
            .list()
            .unwrap()
            .iter()
            .filter(|(d, _)| *d == a.digest)
            .count(),
        1
    );
    assert!(!store.staged().unwrap().contains(&a.digest));
}

fn discarded_bytes_never_appear(store: &dyn BlobStore) {
    let bytes = data::bytes(3, 777);
    let s = stage(store, &bytes);
    store.discard(&s.digest).unwrap();
    assert!(!store.staged().unwrap().contains(&s.digest));
    assert_eq!(store.stat(&s.digest).unwrap(), None);
    store.discard(&s.digest).unwrap();
}

fn promoting_unstaged_bytes_is_an_error(store: &dyn BlobStore) {
    let d = Digest::of(b"never staged");
    assert!(matches!(store.promote(&[d]), Err(BlobError::NotStaged(x)) if x == d));
}

fn missing_blobs_are_reported(store: &dyn BlobStore) {
    let d = Digest::of(b"absent");
    assert_eq!(store.stat(&d).unwrap(), None);
    assert!(store.get(&d).is_err());
}

fn progress_counts_every_byte(store: &dyn BlobStore) {
    let bytes = data::bytes(4, (5 << 20) + 17);
    let seen = std::sync::atomic::AtomicU64::new(0);
    let mut src: &[u8] = &bytes;
    let s = store
        .stage(&mut src, &|n| {
            seen.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        })
        .unwrap();
    assert_eq!(seen.into_inner(), bytes.len() as u64);
    store.discard(&s.digest).unwrap();
}

fn verified_reads_catch_a_wrong_digest(store: &dyn BlobStore) {
    let bytes = data::bytes(5, 3000);
    let s = stage(store, &bytes);
    store.promote(&[s.digest]).unwrap();
    let mut ok = Vec::new();
    VerifyingReader::new(store.get(&s.digest).unwrap(), s.digest)
        .read_to_end(&mut ok)
        .unwrap();
    assert_eq!(ok, bytes);
    let wrong = Digest::of(b"other");
    assert!(
        VerifyingReader::new(store.get(&s.digest).unwrap(), wrong)
            .read_to_end(&mut Vec::new())
            .is_err()
    );
}
