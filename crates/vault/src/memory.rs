//! An in-memory blob store for fast tests. Nothing survives the process.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::sync::Mutex;

use custody_model::Digest;

use crate::error::{BlobError, Result};
use crate::{BlobStore, Progress, Staged};

#[derive(Default)]
pub struct MemoryBlobStore {
    blobs: Mutex<BTreeMap<Digest, Vec<u8>>>,
    staged: Mutex<BTreeMap<Digest, Vec<u8>>>,
}

impl MemoryBlobStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces a stored blob's bytes, to simulate damage in tests.
    pub fn corrupt(&self, digest: &Digest, bytes: Vec<u8>) {
        self.blobs
            .lock()
            .expect("not poisoned")
            .insert(*digest, bytes);
    }
}

impl BlobStore for MemoryBlobStore {
    fn stage(&self, src: &mut (dyn Read + Send), progress: Progress<'_>) -> Result<Staged> {
        let mut bytes = Vec::new();
        src.read_to_end(&mut bytes).map_err(BlobError::Source)?;
        progress(bytes.len() as u64);
        let digest = Digest::of(&bytes);
        let size = bytes.len() as u64;
        self.staged
            .lock()
            .expect("not poisoned")
            .insert(digest, bytes);
        Ok(Staged { digest, size })
    }

    fn sync_staging(&self) -> Result<()> {
        Ok(())
    }

    fn staged(&self) -> Result<Vec<Digest>> {
        Ok(self
            .staged
            .lock()
            .expect("not poisoned")
            .keys()
            .copied()
            .collect())
    }

    fn promote(&self, digests: &[Digest]) -> Result<usize> {
        let mut staged = self.staged.lock().expect("not poisoned");
        let mut blobs = self.blobs.lock().expect("not poisoned");
        let mut new = 0;
        for d in digests {
            match staged.remove(d) {
                Some(bytes) => {
                    if !blobs.contains_key(d) {
                        blobs.insert(*d, bytes);
                        new += 1;
                    }
                }
                None if blobs.contains_key(d) => {}
                None => return Err(BlobError::NotStaged(*d)),
            }
        }
        Ok(new)
    }

    fn discard(&self, digest: &Digest) -> Result<()> {
        self.staged.lock().expect("not poisoned").remove(digest);
        Ok(())
    }

    fn clean_partial(&self) -> Result<usize> {
        Ok(0)
    }

    fn get(&self, digest: &Digest) -> Result<Box<dyn Read + Send>> {
        let blobs = self.blobs.lock().expect("not poisoned");
        let bytes = blobs.get(digest).ok_or(BlobError::Missing(*digest))?;
        Ok(Box::new(Cursor::new(bytes.clone())))
    }

    fn stat(&self, digest: &Digest) -> Result<Option<u64>> {
        Ok(self
            .blobs
            .lock()
            .expect("not poisoned")
            .get(digest)
            .map(|b| b.len() as u64))
    }

    fn list(&self) -> Result<Vec<(Digest, u64)>> {
        Ok(self
            .blobs
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|(d, b)| (*d, b.len() as u64))
            .collect())
    }

    fn locate(&self, digest: &Digest) -> String {
        format!("memory:{digest}")
    }

    fn local_path(&self, _digest: &Digest, _staged: bool) -> Option<std::path::PathBuf> {
        None
    }
}
