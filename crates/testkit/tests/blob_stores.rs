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
