//! Content-addressed blob storage: the original bytes of every item, by SHA-256.
//!
//! [`BlobStore`] is deliberately narrow: stage incoming bytes, promote or discard what was
//! staged, and get / stat / list blobs by digest. Staging is what makes ingest crash-safe:
//! a blob becomes visible only after the ledger entry that names it is durable
//! (formats.md §6). Backends:
//!
//! - [`LocalBlobStore`]: files under the vault directory (the embedded default).
//! - [`MemoryBlobStore`]: for fast tests.
//!
//! Cross-cutting behaviour wraps a backend instead of living in it: [`VerifyingReader`]
//! checks the digest of everything read.

pub mod error;
pub mod local;
pub mod memory;
pub mod verify;

use std::io::Read;

pub use custody_model::Digest;
pub use error::{BlobError, Result};
pub use local::LocalBlobStore;
pub use memory::MemoryBlobStore;
pub use verify::{VerifyingReader, hash_reader, hash_reader_with};

/// Bytes that are durably staged, known by their digest, not yet visible as a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Staged {
    pub digest: Digest,
    pub size: u64,
}

/// The bytes of a staged file that the backend held in memory whole, lent to the
/// caller: exactly the bytes hashed and staged. A backend may take the memory back for
/// its next copy once they are dropped, so holding them costs no copy.
pub struct Kept(Box<dyn AsRef<[u8]> + Send>);

impl Kept {
    pub fn new(bytes: impl AsRef<[u8]> + Send + 'static) -> Self {
        Self(Box::new(bytes))
    }
}

impl std::ops::Deref for Kept {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

/// Called with the number of bytes just processed, for progress bars.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

pub trait BlobStore: Send + Sync {
    /// Copies `src` into staging while hashing it. On return the staged copy is durable
    /// (but see [`BlobStore::sync_staging`]) and named by its digest.
    fn stage(&self, src: &mut (dyn Read + Send), progress: Progress<'_>) -> Result<Staged>;

    /// Like [`BlobStore::stage`], and also returns the bytes when the backend had the whole
    /// file in memory anyway (small files), so callers can inspect them without reading
    /// the staged copy back.
    fn stage_keep(
        &self,
        src: &mut (dyn Read + Send),
        progress: Progress<'_>,
    ) -> Result<(Staged, Option<Kept>)> {
        self.stage(src, progress).map(|s| (s, None))
    }

    /// Makes the names of everything staged so far durable.
    fn sync_staging(&self) -> Result<()>;

    /// Staged digests waiting for promotion or removal.
    fn staged(&self) -> Result<Vec<Digest>>;

    /// Moves staged bytes into the store, durably. A digest already stored just has its
    /// staged copy removed. Returns how many blobs were new.
    fn promote(&self, digests: &[Digest]) -> Result<usize>;

    /// Drops a staged copy that will not be promoted.
    fn discard(&self, digest: &Digest) -> Result<()>;

    /// Removes leftovers of interrupted staging (never-completed copies).
    fn clean_partial(&self) -> Result<usize>;

    /// Opens a stored blob for reading. The reader is not verified: wrap it in
    /// [`VerifyingReader`] unless the caller hashes the bytes itself.
    fn get(&self, digest: &Digest) -> Result<Box<dyn Read + Send>>;

    /// The size of a stored blob, or `None` when it is absent.
    fn stat(&self, digest: &Digest) -> Result<Option<u64>>;

    /// Every stored blob with its size.
    fn list(&self) -> Result<Vec<(Digest, u64)>>;

    /// Human-readable location of a blob, for messages.
    fn locate(&self, digest: &Digest) -> String;

    /// A local file holding the bytes (the staged copy when `staged`), for readers that
    /// need to seek. `None` when the backend keeps no local file.
    fn local_path(&self, digest: &Digest, staged: bool) -> Option<std::path::PathBuf>;
}
