//! Every blob store backend passes the same conformance suite.

use custody_vault::{LocalBlobStore, MemoryBlobStore};

#[test]
fn memory_store_conforms() {
    custody_testkit::blobs::run(&MemoryBlobStore::new());
}

#[test]
fn local_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        LocalBlobStore::open(&dir.path().join("blobs"), &dir.path().join("staging")).unwrap();
    custody_testkit::blobs::run(&store);
}

#[test]
fn local_store_conforms_without_direct_io() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::open(&dir.path().join("blobs"), &dir.path().join("staging"))
        .unwrap()
        .without_direct_io();
    assert!(!store.direct_io());
    custody_testkit::blobs::run(&store);
}

#[test]
fn local_store_leaves_nothing_behind_and_cleans_partials() {
    use custody_vault::BlobStore;
    let dir = tempfile::tempdir().unwrap();
    let staging = dir.path().join("staging");
    let store = LocalBlobStore::open(&dir.path().join("blobs"), &staging).unwrap();
    std::fs::write(staging.join("0123.part"), b"half").unwrap();
    assert_eq!(store.clean_partial().unwrap(), 1);
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0);
}

#[test]
fn local_store_reports_a_failing_source_and_keeps_no_partial_copy() {
    use custody_vault::BlobStore;
    struct Failing(usize);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("device vanished"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(7);
            self.0 -= n;
            Ok(n)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let staging = dir.path().join("staging");
    let store = LocalBlobStore::open(&dir.path().join("blobs"), &staging).unwrap();
    let err = store.stage(&mut Failing(6 << 20), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("device vanished"), "{err}");
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0);
}

#[test]
fn local_store_lends_exactly_the_bytes_it_staged() {
    use custody_vault::BlobStore;
    let dir = tempfile::tempdir().unwrap();
    let store =
        LocalBlobStore::open(&dir.path().join("blobs"), &dir.path().join("staging")).unwrap();
    let data = |n: usize, seed: u8| -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    };
    // Held while others are staged: lent memory must not be handed out again.
    let mut held = Vec::new();
    for (n, seed) in [(0usize, 1u8), (1, 2), (4097, 3), (1 << 20, 4), (300, 5)] {
        let src = data(n, seed);
        let (staged, kept) = store.stage_keep(&mut &src[..], &|_| {}).unwrap();
        assert_eq!(staged.size, n as u64);
        let kept = kept.expect("a small file is kept");
        assert_eq!(&kept[..], &src[..], "{n} bytes");
        assert_eq!(staged.digest, custody_model::Digest::of(&src));
        held.push((src, kept));
    }
    for (src, kept) in &held {
        assert_eq!(&kept[..], &src[..]);
    }
    // Once given back, the memory serves the next file, whose bytes alone are lent.
    drop(held);
    let src = data(100, 9);
    let (_, kept) = store.stage_keep(&mut &src[..], &|_| {}).unwrap();
    assert_eq!(&kept.expect("kept")[..], &src[..]);
    // A file larger than one buffer is streamed, and not kept.
    let big = data(9 << 20, 7);
    let (staged, kept) = store.stage_keep(&mut &big[..], &|_| {}).unwrap();
    assert!(kept.is_none());
    assert_eq!(staged.size, big.len() as u64);
}
