//! Re-hashing every blob of a store in the background.
//!
//! `custody verify --full` is bound by hashing, and its other checks (ledger, checkpoints,
//! catalog replay) by one core. The re-hash therefore starts first, over every blob the
//! store holds, on its own threads, while those checks run; `verify` then compares the
//! results with the blobs the ledger names.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use custody_model::Digest;
use custody_vault::{BlobStore, hash_reader_with};

/// What hashing one blob gave: the digest of its bytes, or why they could not be read.
pub type Outcome = std::result::Result<Digest, String>;

/// A re-hash under way.
pub struct Rehash {
    progress: Arc<Progress>,
    handle: JoinHandle<std::result::Result<Rehashed, String>>,
}

/// A finished re-hash.
pub struct Rehashed {
    /// Every blob the store held when it was listed, with its size.
    pub listed: Vec<(Digest, u64)>,
    pub outcomes: HashMap<Digest, Outcome>,
}

#[derive(Default)]
struct Progress {
    /// Total bytes to hash, once the store has been listed.
    total: AtomicU64,
    listed: AtomicBool,
    hashed: AtomicU64,
}

impl Rehash {
    /// Lists the store and hashes every blob on `threads` threads, largest first.
    pub fn start(store: Arc<dyn BlobStore>, threads: usize) -> Self {
        let progress = Arc::new(Progress::default());
        let p = progress.clone();
        let handle = std::thread::spawn(move || {
            let listed = store.list().map_err(|e| e.to_string())?;
            let mut blobs = listed.clone();
            blobs.sort_by_key(|(d, size)| (*size, *d));
            p.total
                .store(blobs.iter().map(|b| b.1).sum(), Ordering::Relaxed);
            p.listed.store(true, Ordering::Release);
            let queue = Mutex::new(blobs);
            let results = Mutex::new(HashMap::new());
            std::thread::scope(|s| {
                for _ in 0..threads.max(1) {
                    s.spawn(|| {
                        let mut buf = vec![0u8; BUF];
                        loop {
                            let next = queue.lock().expect("not poisoned").pop();
                            let Some((d, _)) = next else { break };
                            let outcome = hash_blob(store.as_ref(), &d, &mut buf, &p.hashed);
                            results.lock().expect("not poisoned").insert(d, outcome);
                        }
                    });
                }
            });
            Ok(Rehashed {
                listed,
                outcomes: results.into_inner().expect("not poisoned"),
            })
        });
        Self { progress, handle }
    }

    /// Waits for the re-hash to end, telling `on_total` the bytes to hash once known
    /// and `on_bytes` how many more were hashed, every few tens of milliseconds.
    pub async fn finish(
        self,
        on_total: &dyn Fn(u64),
        on_bytes: &dyn Fn(u64),
    ) -> std::result::Result<Rehashed, String> {
        let mut told_total = false;
        let mut told = 0u64;
        loop {
            let done = self.handle.is_finished();
            if !told_total && self.progress.listed.load(Ordering::Acquire) {
                on_total(self.progress.total.load(Ordering::Relaxed));
                told_total = true;
            }
            let hashed = self.progress.hashed.load(Ordering::Relaxed);
            if hashed > told {
                on_bytes(hashed - told);
                told = hashed;
            }
            if done {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        }
        self.handle
            .join()
            .map_err(|_| "the hashing thread stopped unexpectedly".to_owned())?
    }
}

/// Read size: large enough that a read costs little beside hashing its bytes.
const BUF: usize = 1 << 20;

/// Hashes one blob now (for a blob that reached the store after it was listed).
pub fn hash_one(store: &dyn BlobStore, d: &Digest) -> Outcome {
    hash_blob(store, d, &mut vec![0u8; BUF], &AtomicU64::new(0))
}

fn hash_blob(store: &dyn BlobStore, d: &Digest, buf: &mut [u8], hashed: &AtomicU64) -> Outcome {
    let mut r = store.get(d).map_err(|e| e.to_string())?;
    hash_reader_with(&mut r, buf, &|n| {
        hashed.fetch_add(n, Ordering::Relaxed);
    })
    .map(|(digest, _)| digest)
    .map_err(|e| e.to_string())
}
