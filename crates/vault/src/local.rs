//! The embedded default: blobs as read-only files under `blobs/sha256/ab/cd/<hex>`, with
//! incoming bytes staged under `staging/` (formats.md §1, §6).
//!
//! Copies run as a three-stage pipeline (read → hash → write) over page-aligned buffers,
//! so hashing and I/O overlap on separate cores and memory stays constant whatever the
//! file size. Where the file system allows it, blobs are written and read with direct I/O
//! (`O_DIRECT`): evidence bytes are not copied into the page cache on their way to the disk,
//! which on the machines measured makes writing several times faster.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::sync_channel;

use custody_model::{Digest, Sha256};

use crate::error::{BlobError, Result};
use crate::{BlobStore, Kept, Progress, Staged};
use custody_aligned::{AlignedBuf, PAGE};

/// Size of one pipeline buffer.
const CHUNK: usize = 4 << 20;
/// Buffers in flight per copy: memory per copy is `BUFFERS × CHUNK`.
const BUFFERS: usize = 4;

pub struct LocalBlobStore {
    blobs: PathBuf,
    staging: PathBuf,
    direct: bool,
    pool: Arc<BufferPool>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BlobError + '_ {
    move |e| BlobError::io(path, e)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

fn random_name() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system's random source works");
    hex::encode(b)
}

impl LocalBlobStore {
    /// Opens (creating the directories if needed) a store rooted at `blobs` that stages
    /// under `staging`. Both must be on the same file system.
    pub fn open(blobs: &Path, staging: &Path) -> Result<Self> {
        fs::create_dir_all(blobs.join("sha256")).map_err(io_err(blobs))?;
        fs::create_dir_all(staging).map_err(io_err(staging))?;
        let direct = std::env::var_os("CUSTODY_NO_DIRECT_IO").is_none() && probe_direct(staging);
        Ok(Self {
            blobs: blobs.to_owned(),
            staging: staging.to_owned(),
            direct,
            pool: Arc::default(),
        })
    }

    /// Turns direct I/O off (it is used by default wherever the file system accepts it).
    pub fn without_direct_io(mut self) -> Self {
        self.direct = false;
        self
    }

    /// Whether direct I/O is in use.
    pub fn direct_io(&self) -> bool {
        self.direct
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        let hex = d.to_hex();
        self.blobs
            .join("sha256")
            .join(&hex[..2])
            .join(&hex[2..4])
            .join(hex)
    }

    fn staged_path(&self, d: &Digest) -> PathBuf {
        self.staging.join(format!("{}.staged", d.to_hex()))
    }

    /// Stages `src`; with `keep`, also returns the bytes of a file small enough to have
    /// been held in memory whole.
    fn stage_copy(
        &self,
        src: &mut (dyn Read + Send),
        progress: Progress<'_>,
        keep: bool,
    ) -> Result<(Staged, Option<Kept>)> {
        let (part, file, direct) = self.create_part()?;
        let result = (|| {
            let copied = copy_hashing(src, &file, direct, progress, &self.pool, keep).map_err(
                |e| match e {
                    CopyError::Source(e) => BlobError::Source(e),
                    CopyError::Dest(e) => BlobError::io(&part, e),
                },
            )?;
            file.sync_all().map_err(io_err(&part))?;
            let staged = self.staged_path(&copied.digest);
            fs::rename(&part, &staged).map_err(io_err(&staged))?;
            Ok((
                Staged {
                    digest: copied.digest,
                    size: copied.size,
                },
                copied.bytes,
            ))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&part);
        }
        result
    }

    fn create_part(&self) -> Result<(PathBuf, File, bool)> {
        let path = self.staging.join(format!("{}.part", random_name()));
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true).mode(0o444);
        if self.direct {
            let mut direct = opts.clone();
            direct.custom_flags(libc::O_DIRECT);
            if let Ok(f) = direct.open(&path) {
                return Ok((path, f, true));
            }
        }
        let f = opts.open(&path).map_err(io_err(&path))?;
        Ok((path, f, false))
    }
}

fn probe_direct(dir: &Path) -> bool {
    let path = dir.join(format!("{}.part", random_name()));
    let ok = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_DIRECT)
        .open(&path)
        .and_then(|f| f.write_all_at(AlignedBuf::new(PAGE).bytes(), 0))
        .is_ok();
    let _ = fs::remove_file(&path);
    ok
}

/// Like `fill`, hashing what it reads in slices small enough to stay in the CPU cache
/// between the copy into `buf` and the hash.
fn fill_hashing(src: &mut (dyn Read + Send), buf: &mut [u8], h: &mut Sha256) -> io::Result<usize> {
    const SLICE: usize = 256 << 10;
    let mut n = 0;
    while n < buf.len() {
        let end = buf.len().min(n + SLICE);
        let got = fill(src, &mut buf[n..end])?;
        h.update(&buf[n..n + got]);
        n += got;
        if n < end {
            break;
        }
    }
    Ok(n)
}

/// Fills `buf` from `src` until it is full or the source ends; returns the byte count.
fn fill(src: &mut (dyn Read + Send), buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Page-aligned copy buffers, kept for reuse: allocating (and zeroing) fresh ones for
/// every file cost more system time than the copies themselves.
///
/// It also bounds the copies that run as pipelines (files larger than one buffer): at
/// most one per core at a time, whatever the number of callers, so memory stays
/// `cores × BUFFERS × CHUNK` at most (and a pipeline keeps a core busy on its own).
struct BufferPool {
    free: std::sync::Mutex<Vec<AlignedBuf>>,
    pipelines: std::sync::Mutex<usize>,
    pipeline_done: std::sync::Condvar,
    max_pipelines: usize,
}

impl Default for BufferPool {
    fn default() -> Self {
        Self {
            free: Default::default(),
            pipelines: std::sync::Mutex::new(0),
            pipeline_done: std::sync::Condvar::new(),
            max_pipelines: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// A running pipeline's place; given back when dropped.
struct PipelineSlot<'a>(&'a BufferPool);

impl Drop for PipelineSlot<'_> {
    fn drop(&mut self) {
        *self.0.pipelines.lock().expect("not poisoned") -= 1;
        self.0.pipeline_done.notify_one();
    }
}

impl BufferPool {
    /// Waits until fewer than `max_pipelines` pipelines run, then takes a place.
    fn pipeline_slot(&self) -> PipelineSlot<'_> {
        let mut running = self.pipelines.lock().expect("not poisoned");
        while *running >= self.max_pipelines {
            running = self.pipeline_done.wait(running).expect("not poisoned");
        }
        *running += 1;
        PipelineSlot(self)
    }

    fn take(&self) -> AlignedBuf {
        self.free
            .lock()
            .expect("not poisoned")
            .pop()
            .unwrap_or_else(|| AlignedBuf::new(CHUNK))
    }
    fn give(&self, buf: AlignedBuf) {
        let mut pool = self.free.lock().expect("not poisoned");
        if pool.len() < 4 * BUFFERS {
            pool.push(buf);
        }
    }
}

/// The first `len` bytes of a pool buffer, lent out; the buffer goes back to the pool
/// when they are dropped.
struct Lent {
    buf: Option<AlignedBuf>,
    len: usize,
    pool: Arc<BufferPool>,
}

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        self.buf.as_ref().map_or(&[], |b| &b.bytes()[..self.len])
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            self.pool.give(buf);
        }
    }
}

/// Writes `n` bytes of `buf` at `offset`. With direct I/O only whole pages can be
/// written, so a partial last page (the end of the file) goes through the page cache:
/// direct I/O is switched off on the descriptor for it. Padding that page and cutting
/// the file back afterwards would make the file system read the block back from disk.
fn write_chunk(
    dst: &File,
    buf: &mut AlignedBuf,
    n: usize,
    offset: u64,
    direct: bool,
) -> io::Result<()> {
    let bytes = &buf.bytes()[..n];
    if !direct || n.is_multiple_of(PAGE) {
        return dst.write_all_at(bytes, offset);
    }
    let whole = n - n % PAGE;
    if whole > 0 {
        dst.write_all_at(&bytes[..whole], offset)?;
    }
    let flags = rustix::fs::fcntl_getfl(dst)?;
    rustix::fs::fcntl_setfl(dst, flags - rustix::fs::OFlags::DIRECT)?;
    dst.write_all_at(&bytes[whole..], offset + whole as u64)
}

/// What a copy produced: the digest, the size, and the bytes themselves when the whole
/// file fitted in one buffer and the caller asked to keep them.
struct Copied {
    digest: Digest,
    size: u64,
    bytes: Option<Kept>,
}

/// Copies `src` into `dst` while hashing. A file that fits in one buffer is copied on the
/// calling thread; a larger one runs as a three-stage pipeline (read → hash → write) on
/// three threads. `direct` means `dst` was opened with O_DIRECT (see `write_chunk`).
fn copy_hashing(
    src: &mut (dyn Read + Send),
    dst: &File,
    direct: bool,
    progress: Progress<'_>,
    pool: &Arc<BufferPool>,
    keep: bool,
) -> Result<Copied, CopyError> {
    let mut first = pool.take();
    // The first buffer is hashed as it fills, a slice at a time, while each slice is still
    // in the CPU's cache: most files fit in it whole.
    let mut h = Sha256::new();
    let n = match fill_hashing(src, first.bytes_mut(), &mut h) {
        Ok(n) => n,
        Err(e) => {
            pool.give(first);
            return Err(CopyError::Source(e));
        }
    };
    if n < first.len() {
        // The whole file is in memory: no threads needed.
        let written = if n > 0 {
            write_chunk(dst, &mut first, n, 0, direct)
        } else {
            Ok(())
        };
        // Kept bytes are the buffer itself, lent out (no copy).
        let bytes = if keep && written.is_ok() {
            Some(Kept::new(Lent {
                buf: Some(first),
                len: n,
                pool: Arc::clone(pool),
            }))
        } else {
            pool.give(first);
            None
        };
        written.map_err(CopyError::Dest)?;
        progress(n as u64);
        return Ok(Copied {
            digest: h.finish(),
            size: n as u64,
            bytes,
        });
    }
    let _slot = pool.pipeline_slot();
    std::thread::scope(|s| {
        // The flag says whether the buffer still has to be hashed.
        let (to_hash, hash_rx) = sync_channel::<(AlignedBuf, usize, bool)>(BUFFERS);
        let (to_write, write_rx) = sync_channel::<(AlignedBuf, usize)>(BUFFERS);
        let (free_tx, free_rx) = sync_channel::<AlignedBuf>(BUFFERS);
        for _ in 1..BUFFERS {
            free_tx.send(pool.take()).expect("receiver is alive");
        }
        let hasher = s.spawn(move || {
            let mut h = h;
            for (buf, n, unhashed) in hash_rx {
                if unhashed {
                    h.update(&buf.bytes()[..n]);
                }
                if to_write.send((buf, n)).is_err() {
                    break;
                }
            }
            h.finish()
        });
        let writer = s.spawn(move || -> (io::Result<u64>, Vec<AlignedBuf>) {
            let mut offset = 0u64;
            let mut spare = Vec::new();
            for (mut buf, n) in write_rx {
                if let Err(e) = write_chunk(dst, &mut buf, n, offset, direct) {
                    spare.push(buf);
                    return (Err(e), spare);
                }
                offset += n as u64;
                // The reader may have stopped; then the buffer goes back to the pool.
                if let Err(std::sync::mpsc::SendError(buf)) = free_tx.send(buf) {
                    spare.push(buf);
                }
            }
            (Ok(offset), spare)
        });

        let mut read_result = Ok(());
        progress(n as u64);
        let mut next = if to_hash.send((first, n, false)).is_ok() {
            free_rx.recv().ok()
        } else {
            None
        };
        while let Some(mut buf) = next.take() {
            match fill(src, buf.bytes_mut()) {
                Ok(0) => {
                    pool.give(buf);
                    break;
                }
                Ok(n) => {
                    let last = n < buf.len();
                    if to_hash.send((buf, n, true)).is_err() {
                        break;
                    }
                    progress(n as u64);
                    if !last {
                        next = free_rx.recv().ok();
                    }
                }
                Err(e) => {
                    pool.give(buf);
                    read_result = Err(e);
                    break;
                }
            }
        }
        drop(to_hash);
        let digest = hasher.join().expect("hasher thread does not panic");
        let (written, spare) = writer.join().expect("writer thread does not panic");
        for buf in spare.into_iter().chain(free_rx.try_iter()) {
            pool.give(buf);
        }
        read_result.map_err(CopyError::Source)?;
        let size = written.map_err(CopyError::Dest)?;
        Ok(Copied {
            digest,
            size,
            bytes: None,
        })
    })
}

enum CopyError {
    Source(io::Error),
    Dest(io::Error),
}

impl BlobStore for LocalBlobStore {
    fn stage(&self, src: &mut (dyn Read + Send), progress: Progress<'_>) -> Result<Staged> {
        self.stage_copy(src, progress, false).map(|(s, _)| s)
    }

    fn stage_keep(
        &self,
        src: &mut (dyn Read + Send),
        progress: Progress<'_>,
    ) -> Result<(Staged, Option<Kept>)> {
        self.stage_copy(src, progress, true)
    }

    fn sync_staging(&self) -> Result<()> {
        sync_dir(&self.staging)
    }

    fn staged(&self) -> Result<Vec<Digest>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.staging).map_err(io_err(&self.staging))? {
            let entry = entry.map_err(io_err(&self.staging))?;
            let name = entry.file_name();
            if let Some(hex) = name.to_str().and_then(|n| n.strip_suffix(".staged"))
                && let Ok(d) = hex.parse()
            {
                out.push(d);
            }
        }
        out.sort();
        Ok(out)
    }

    fn promote(&self, digests: &[Digest]) -> Result<usize> {
        let mut dirs = BTreeSet::new();
        let mut new = 0;
        for d in digests {
            let staged = self.staged_path(d);
            let blob = self.blob_path(d);
            let dir = blob.parent().expect("blob paths have a parent").to_owned();
            if blob.exists() {
                match fs::remove_file(&staged) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(BlobError::io(&staged, e)),
                }
                continue;
            }
            if !staged.exists() {
                return Err(BlobError::NotStaged(*d));
            }
            if !dir.exists() {
                fs::create_dir_all(&dir).map_err(io_err(&dir))?;
                // New directories must themselves be durable in their parents.
                let mid = dir.parent().expect("has parent").to_owned();
                dirs.insert(mid.parent().expect("has parent").to_owned());
                dirs.insert(mid);
            }
            fs::rename(&staged, &blob).map_err(io_err(&blob))?;
            dirs.insert(dir);
            new += 1;
        }
        for dir in &dirs {
            sync_dir(dir)?;
        }
        sync_dir(&self.staging)?;
        Ok(new)
    }

    fn discard(&self, digest: &Digest) -> Result<()> {
        let staged = self.staged_path(digest);
        match fs::remove_file(&staged) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BlobError::io(&staged, e)),
        }
    }

    fn clean_partial(&self) -> Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(&self.staging).map_err(io_err(&self.staging))? {
            let entry = entry.map_err(io_err(&self.staging))?;
            let path = entry.path();
            let is_part = path.extension().is_some_and(|e| e == "part" || e == "tmp");
            if is_part {
                fs::remove_file(&path).map_err(io_err(&path))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn get(&self, digest: &Digest) -> Result<Box<dyn Read + Send>> {
        // Reads go through the page cache: on this class of machine, parallel buffered
        // reads of cold files are as fast as direct ones, and warm files cost nothing.
        let path = self.blob_path(digest);
        match File::open(&path) {
            Ok(f) => Ok(Box::new(f)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(BlobError::Missing(*digest)),
            Err(e) => Err(BlobError::io(&path, e)),
        }
    }

    fn stat(&self, digest: &Digest) -> Result<Option<u64>> {
        let path = self.blob_path(digest);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BlobError::io(&path, e)),
        }
    }

    fn list(&self) -> Result<Vec<(Digest, u64)>> {
        let root = self.blobs.join("sha256");
        let mut out = Vec::new();
        for a in read_dir_sorted(&root)? {
            for b in read_dir_sorted(&a)? {
                for f in read_dir_sorted(&b)? {
                    let Some(d) = f
                        .file_name()
                        .and_then(|n| n.to_str())
                        .and_then(|n| n.parse().ok())
                    else {
                        continue;
                    };
                    // Only regular files are blobs, as for `stat`.
                    let m = fs::symlink_metadata(&f).map_err(io_err(&f))?;
                    if m.is_file() {
                        out.push((d, m.len()));
                    }
                }
            }
        }
        Ok(out)
    }

    fn locate(&self, digest: &Digest) -> String {
        self.blob_path(digest).display().to_string()
    }

    fn local_path(&self, digest: &Digest, staged: bool) -> Option<PathBuf> {
        Some(if staged {
            self.staged_path(digest)
        } else {
            self.blob_path(digest)
        })
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => return Ok(Vec::new()),
        Err(e) => return Err(BlobError::io(dir, e)),
    };
    v.sort();
    Ok(v)
}

/// Makes a stored blob read-only for everyone; used by tests that need to damage blobs
/// to restore write access first.
pub fn set_writable(path: &Path, writable: bool) -> io::Result<()> {
    let mut perm = fs::metadata(path)?.permissions();
    perm.set_mode(if writable { 0o644 } else { 0o444 });
    fs::set_permissions(path, perm)
}
