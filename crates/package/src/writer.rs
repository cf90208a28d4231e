//! Writing a bag: payload streamed from readers, tag files, and the declaration,
//! bag-info, manifests and tag manifests at the end.
//!
//! Durability contract:
//!
//! - Everything is written inside a hidden staging directory next to the target,
//!   `.<name>.partial-<random>`. The bag appears under its real name only when
//!   [`BagWriter::finish`] renames the staging directory, after every file and directory
//!   in it has been fsynced. An interrupted export therefore never leaves anything at the
//!   target path, and the staging directory has no `bagit.txt` until the very end.
//! - Dropping a writer without finishing removes its staging directory. A process that
//!   died leaves one behind; [`BagWriter::leftovers`] lists them.
//! - The parent directory is fsynced after the rename, so once `finish` returns, the bag
//!   survives a power cut.
//!
//! Each payload file is read once: both digests (SHA-256 and SHA-512) are updated from
//! the same chunk that is written. Batches of files run on [`default_workers`] threads.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::algorithm::{Algorithm, MultiHasher};
use crate::error::{PackageError, Result};
use crate::info::BagInfo;
use crate::path::{PathSet, check_bag_path, encode_manifest_path, fold_name};
use crate::stream::{
    CHUNK, CopyError, FAN_OUT_MIN, copy_fanned, copy_hashing, copy_hashing_to_file,
    default_workers, run_jobs,
};

/// The declaration this writer produces (RFC 8493 §2.1.1).
pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

/// Called with the number of payload bytes just copied.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

type Opener<'a> = Box<dyn FnOnce() -> io::Result<Box<dyn Read + Send + 'a>> + Send + 'a>;

/// One payload file to copy into the bag: where it goes (relative to `data/`) and how
/// to open its source. Sources are opened only when a worker reaches them, so a batch
/// of thousands of files does not hold thousands of open files.
pub struct Payload<'a> {
    path: String,
    size_hint: u64,
    expected_sha256: Option<[u8; 32]>,
    open: Opener<'a>,
}

impl<'a> Payload<'a> {
    /// `path` is relative to `data/` (`ITM-000001/IMG_0412.JPG`); `open` is called on a
    /// worker thread when the copy starts.
    pub fn new<R, F>(path: impl Into<String>, open: F) -> Self
    where
        R: Read + Send + 'a,
        F: FnOnce() -> io::Result<R> + Send + 'a,
    {
        Self {
            path: path.into(),
            size_hint: 0,
            expected_sha256: None,
            open: Box::new(move || open().map(|r| Box::new(r) as Box<dyn Read + Send + 'a>)),
        }
    }

    /// A source that is already open.
    pub fn from_reader<R: Read + Send + 'a>(path: impl Into<String>, reader: R) -> Self {
        Self::new(path, move || Ok(reader))
    }

    /// A file on disk, opened when its turn comes; its size orders the work.
    pub fn from_file(path: impl Into<String>, file: impl Into<PathBuf>) -> Self {
        let file = file.into();
        let size = fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        Self::new(path, move || {
            File::open(file).map(crate::direct::DirectReader::new)
        })
        .size_hint(size)
    }

    /// Expected size; larger files are started first so the workers finish together.
    pub fn size_hint(mut self, bytes: u64) -> Self {
        self.size_hint = bytes;
        self
    }

    /// Fails the copy (and so the export) unless the bytes hash to this SHA-256, e.g. the
    /// content address under which a vault stores them.
    pub fn expect_sha256(mut self, digest: [u8; 32]) -> Self {
        self.expected_sha256 = Some(digest);
        self
    }

    pub fn path(&self) -> &str {
        &self.path
    }
}

/// A payload file as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadEntry {
    /// Relative to `data/`.
    pub path: String,
    pub size: u64,
    pub sha256: [u8; 32],
    pub sha512: [u8; 64],
}

impl PayloadEntry {
    /// The path relative to the bag root, as the manifests list it (before encoding).
    pub fn bag_path(&self) -> String {
        format!("data/{}", self.path)
    }
}

/// A tag file as written (relative to the bag root).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagEntry {
    pub path: String,
    pub size: u64,
    pub sha256: [u8; 32],
    pub sha512: [u8; 64],
}

/// What [`BagWriter::finish`] produced.
#[derive(Clone, Debug)]
pub struct BagSummary {
    /// Where the bag now is.
    pub path: PathBuf,
    pub payload_files: u64,
    pub payload_bytes: u64,
    /// Sorted by path.
    pub payload: Vec<PayloadEntry>,
    /// Every tag file except the tag manifests, sorted by path.
    pub tag_files: Vec<TagEntry>,
    /// SHA-256 of `tagmanifest-sha256.txt`: one digest that covers the whole bag, since
    /// that file lists the digests of the manifests, which list the payload.
    pub tagmanifest_sha256: [u8; 32],
}

/// Writes one bag. See the module documentation for the durability contract.
pub struct BagWriter {
    target: PathBuf,
    staging: PathBuf,
    workers: usize,
    progress: Option<Progress>,
    payload_paths: PathSet,
    payload: Vec<PayloadEntry>,
    tag_paths: PathSet,
    tags: Vec<TagEntry>,
    poisoned: bool,
    finished: bool,
}

const STAGING_MARK: &str = ".partial-";

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> PackageError + '_ {
    move |e| PackageError::io(path, e)
}

fn sync_path(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io_err(path))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}

fn invalid(path: &str, reason: impl ToString) -> PackageError {
    PackageError::InvalidPath {
        path: path.escape_debug().to_string(),
        reason: reason.to_string(),
    }
}

/// Names BagIt gives meaning to at the bag root, which a caller may not add.
fn is_reserved_tag(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "bagit.txt" | "bag-info.txt" | "fetch.txt" | "package-info.txt"
    ) || ((lower.starts_with("manifest-") || lower.starts_with("tagmanifest-"))
        && lower.ends_with(".txt")
        && !lower.contains('/'))
}

impl BagWriter {
    /// Starts a bag that will appear at `target`, which must not exist yet; its parent
    /// must exist.
    pub fn create(target: &Path) -> Result<Self> {
        if fs::symlink_metadata(target).is_ok() {
            return Err(PackageError::TargetExists(target.to_owned()));
        }
        let name = target
            .file_name()
            .ok_or_else(|| PackageError::BadTarget(target.to_owned()))?;
        let parent = match target.parent() {
            Some(p) if p.as_os_str().is_empty() => Path::new("."),
            Some(p) => p,
            None => return Err(PackageError::BadTarget(target.to_owned())),
        };
        if !parent.is_dir() {
            return Err(PackageError::BadTarget(target.to_owned()));
        }
        let mut random = [0u8; 6];
        getrandom::fill(&mut random).map_err(|e| {
            PackageError::io(parent, io::Error::other(format!("no random source: {e}")))
        })?;
        let mut staging_name = std::ffi::OsString::from(".");
        staging_name.push(name);
        staging_name.push(STAGING_MARK);
        staging_name.push(hex::encode(random));
        let staging = parent.join(staging_name);
        fs::create_dir(&staging).map_err(io_err(&staging))?;
        let data = staging.join("data");
        if let Err(e) = fs::create_dir(&data) {
            let _ = fs::remove_dir_all(&staging);
            return Err(PackageError::io(&data, e));
        }
        Ok(Self {
            target: target.to_owned(),
            staging,
            workers: default_workers(),
            progress: None,
            payload_paths: PathSet::default(),
            payload: Vec::new(),
            tag_paths: PathSet::default(),
            tags: Vec::new(),
            poisoned: false,
            finished: false,
        })
    }

    /// Staging directories left in `parent` by writers that never finished (a crash or a
    /// killed process). They are never valid bags; removing them is safe once no export
    /// is running.
    pub fn leftovers(parent: &Path) -> io::Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for e in fs::read_dir(parent)? {
            let e = e?;
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.contains(STAGING_MARK) && e.file_type()?.is_dir() {
                out.push(e.path());
            }
        }
        out.sort();
        Ok(out)
    }

    /// Number of files copied at once by [`BagWriter::add_payloads`] (default 2).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }

    /// Reports payload bytes as they are copied.
    pub fn on_progress(mut self, f: impl Fn(u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Where the bag is being assembled.
    pub fn staging_dir(&self) -> &Path {
        &self.staging
    }

    fn check_usable(&self) -> Result<()> {
        if self.poisoned {
            Err(PackageError::Poisoned)
        } else {
            Ok(())
        }
    }

    /// Copies one payload file from `source` on the calling thread.
    pub fn add_payload(&mut self, path: &str, source: impl Read + Send) -> Result<PayloadEntry> {
        let mut out = self.add_payloads(vec![Payload::from_reader(path, source)])?;
        Ok(out.pop().expect("one entry per payload"))
    }

    /// Copies many payload files, [`BagWriter::workers`] at a time. Paths are checked
    /// (and collisions refused) before anything is copied. On failure the writer refuses
    /// further work; drop it to remove the staging directory.
    pub fn add_payloads(&mut self, items: Vec<Payload<'_>>) -> Result<Vec<PayloadEntry>> {
        self.check_usable()?;
        for item in &items {
            let full = format!("data/{}", item.path);
            check_bag_path(&item.path)
                .and_then(|()| check_bag_path(&full))
                .map_err(|issue| invalid(&item.path, issue))?;
        }
        self.payload_paths
            .insert_all(items.iter().map(|i| i.path.as_str()))
            .map_err(|(path, c)| PackageError::Collision {
                path: path.to_owned(),
                existing: c.existing,
            })?;
        for item in &items {
            if let Some((dir, _)) = item.path.rsplit_once('/') {
                let d = self.staging.join("data").join(dir);
                if let Err(e) = fs::create_dir_all(&d) {
                    self.poisoned = true;
                    return Err(PackageError::io(&d, e));
                }
            }
        }

        let data = self.staging.join("data");
        let progress = self.progress.clone();
        let results = run_jobs(
            self.workers,
            items,
            |p| p.size_hint,
            |p, buf| copy_payload(&data, p, buf, progress.as_deref()),
            Result::is_err,
        );
        let mut entries = Vec::with_capacity(results.len());
        let mut first_err = None;
        for r in results {
            match r {
                Some(Ok(e)) => entries.push(e),
                Some(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                None => {}
            }
        }
        if let Some(e) = first_err {
            self.poisoned = true;
            return Err(e);
        }
        self.payload.extend(entries.iter().cloned());
        Ok(entries)
    }

    /// Adds a tag file (relative to the bag root, outside `data/`), e.g.
    /// `custody/checkpoint.txt`. It is listed in the tag manifests.
    pub fn add_tag_file(&mut self, path: &str, bytes: &[u8]) -> Result<TagEntry> {
        self.add_tag_file_from(path, bytes)
    }

    /// Like [`BagWriter::add_tag_file`], streaming from a reader.
    pub fn add_tag_file_from(&mut self, path: &str, source: impl Read) -> Result<TagEntry> {
        let dest = self.prepare_tag(path)?;
        let mut buf = vec![0u8; 64 << 10];
        match write_tag(path, &dest, source, &mut buf) {
            Ok(entry) => {
                self.tags.push(entry.clone());
                Ok(entry)
            }
            Err(e) => {
                self.poisoned = true;
                Err(e)
            }
        }
    }

    /// Adds many small tag files at once, written [`BagWriter::workers`] at a time; all
    /// paths are checked before any is written, and on failure the writer refuses
    /// further work (drop it to remove the staging directory). A package with thousands of ledger
    /// entries and proofs spends most of its tag-file time creating files, which runs
    /// better side by side.
    pub fn add_tag_files(&mut self, files: Vec<(String, Vec<u8>)>) -> Result<Vec<TagEntry>> {
        let mut jobs = Vec::with_capacity(files.len());
        for (path, bytes) in files {
            match self.prepare_tag(&path) {
                Ok(dest) => jobs.push((path, dest, bytes)),
                Err(e) => {
                    // Paths of this batch are already claimed: refuse further work.
                    self.poisoned = true;
                    return Err(e);
                }
            }
        }
        let results = run_jobs(
            self.workers,
            jobs,
            |(_, _, bytes)| bytes.len() as u64,
            |(path, dest, bytes), buf| write_tag(&path, &dest, &bytes[..], buf),
            Result::is_err,
        );
        let mut entries = Vec::with_capacity(results.len());
        for r in results.into_iter().flatten() {
            match r {
                Ok(e) => entries.push(e),
                Err(e) => {
                    self.poisoned = true;
                    return Err(e);
                }
            }
        }
        self.tags.extend(entries.iter().cloned());
        Ok(entries)
    }

    /// Checks a tag file's path, claims it, and creates its directory; returns where the
    /// file goes in the staging directory.
    fn prepare_tag(&mut self, path: &str) -> Result<PathBuf> {
        self.check_usable()?;
        check_bag_path(path).map_err(|issue| invalid(path, issue))?;
        let first = path.split('/').next().unwrap_or(path);
        if fold_name(first) == "data" {
            return Err(invalid(
                path,
                "tag files live outside the payload directory `data/`; use add_payload",
            ));
        }
        if is_reserved_tag(path) {
            return Err(PackageError::ReservedTagFile(path.to_owned()));
        }
        self.tag_paths
            .insert_file(path)
            .map_err(|c| PackageError::Collision {
                path: path.to_owned(),
                existing: c.existing,
            })?;
        let dest = self.staging.join(path);
        if let Some(parent) = dest.parent()
            && !parent.is_dir()
        {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        Ok(dest)
    }

    /// Writes the manifests, `bagit.txt`, `bag-info.txt` and the tag manifests, makes
    /// everything durable and moves the bag to its target path.
    pub fn finish(mut self, info: &BagInfo) -> Result<BagSummary> {
        self.check_usable()?;
        let payload_bytes: u64 = self.payload.iter().map(|e| e.size).sum();
        let payload_files = self.payload.len() as u64;
        let bag_info = info
            .render(payload_bytes, payload_files)
            .map_err(PackageError::BagInfo)?;

        self.payload.sort_by(|a, b| a.path.cmp(&b.path));
        let manifest = |alg: Algorithm| -> String {
            let mut s = String::new();
            for e in &self.payload {
                let digest = match alg {
                    Algorithm::Sha256 => hex::encode(e.sha256),
                    _ => hex::encode(e.sha512),
                };
                s.push_str(&digest);
                s.push_str("  ");
                s.push_str(&encode_manifest_path(&e.bag_path()));
                s.push('\n');
            }
            s
        };
        let generated = [
            ("bagit.txt".to_owned(), BAGIT_TXT.to_owned()),
            ("bag-info.txt".to_owned(), bag_info),
            (
                Algorithm::Sha256.manifest_name(),
                manifest(Algorithm::Sha256),
            ),
            (
                Algorithm::Sha512.manifest_name(),
                manifest(Algorithm::Sha512),
            ),
        ];
        let mut tags = self.tags.clone();
        for (name, text) in &generated {
            write_synced(&self.staging.join(name), text.as_bytes())?;
            let mut h = MultiHasher::new(&[Algorithm::Sha256, Algorithm::Sha512]);
            h.update(text.as_bytes());
            let (sha256, sha512) = two_digests(h);
            tags.push(TagEntry {
                path: name.clone(),
                size: text.len() as u64,
                sha256,
                sha512,
            });
        }
        tags.sort_by(|a, b| a.path.cmp(&b.path));
        let mut tagmanifest_sha256 = [0u8; 32];
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            let mut s = String::new();
            for t in &tags {
                let digest = match alg {
                    Algorithm::Sha256 => hex::encode(t.sha256),
                    _ => hex::encode(t.sha512),
                };
                s.push_str(&digest);
                s.push_str("  ");
                s.push_str(&encode_manifest_path(&t.path));
                s.push('\n');
            }
            write_synced(&self.staging.join(alg.tagmanifest_name()), s.as_bytes())?;
            if alg == Algorithm::Sha256 {
                tagmanifest_sha256.copy_from_slice(&alg.digest(s.as_bytes()));
            }
        }

        // Payload and tag files were written without waiting for the disk; make them and
        // every directory that holds them durable now, in parallel, while most of it has
        // already been written back.
        let data = self.staging.join("data");
        let mut dirs: Vec<PathBuf> = Vec::new();
        for p in self
            .payload
            .iter()
            .map(|e| format!("data/{}", e.path))
            .chain(self.tags.iter().map(|t| t.path.clone()))
        {
            let mut p = p.as_str();
            while let Some((parent, _)) = p.rsplit_once('/') {
                dirs.push(self.staging.join(parent));
                p = parent;
            }
        }
        dirs.push(data.clone());
        dirs.sort();
        dirs.dedup();
        let written: Vec<(PathBuf, u64)> = self
            .payload
            .iter()
            .map(|e| (data.join(&e.path), e.size))
            .chain(
                self.tags
                    .iter()
                    .map(|t| (self.staging.join(&t.path), t.size)),
            )
            .chain(dirs.into_iter().map(|d| (d, 0)))
            .collect();
        let synced = run_jobs(
            self.workers,
            written,
            |(_, size)| *size,
            |(path, _), _| sync_path(&path),
            Result::is_err,
        );
        for r in synced.into_iter().flatten() {
            r?;
        }
        sync_path(&self.staging)?;

        if fs::symlink_metadata(&self.target).is_ok() {
            return Err(PackageError::TargetExists(self.target.clone()));
        }
        fs::rename(&self.staging, &self.target).map_err(io_err(&self.target))?;
        self.finished = true;
        if let Some(parent) = self.target.parent() {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            sync_path(parent)?;
        }
        self.tags.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(BagSummary {
            path: self.target.clone(),
            payload_files,
            payload_bytes,
            payload: std::mem::take(&mut self.payload),
            tag_files: tags,
            tagmanifest_sha256,
        })
    }
}

impl Drop for BagWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Writes one tag file at `dest` (which must not exist) from `source`, hashing it. It is
/// made durable in [`BagWriter::finish`], together with the payload.
fn write_tag(path: &str, dest: &Path, mut source: impl Read, buf: &mut [u8]) -> Result<TagEntry> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
        .map_err(io_err(dest))?;
    let mut hasher = MultiHasher::new(&[Algorithm::Sha256, Algorithm::Sha512]);
    let size =
        copy_hashing(&mut source, Some(&mut file), buf, &mut hasher, None).map_err(
            |e| match e {
                CopyError::Source(source) => PackageError::Source {
                    path: path.to_owned(),
                    source,
                },
                CopyError::Dest(e) => PackageError::io(dest, e),
            },
        )?;
    let (sha256, sha512) = two_digests(hasher);
    Ok(TagEntry {
        path: path.to_owned(),
        size,
        sha256,
        sha512,
    })
}

fn two_digests(h: MultiHasher) -> ([u8; 32], [u8; 64]) {
    let mut sha256 = [0u8; 32];
    let mut sha512 = [0u8; 64];
    for (alg, d) in h.finish() {
        match alg {
            Algorithm::Sha256 => sha256.copy_from_slice(&d),
            Algorithm::Sha512 => sha512.copy_from_slice(&d),
            _ => {}
        }
    }
    (sha256, sha512)
}

fn copy_payload(
    data: &Path,
    p: Payload<'_>,
    buf: &mut [u8],
    progress: Option<&(dyn Fn(u64) + Send + Sync)>,
) -> Result<PayloadEntry> {
    debug_assert_eq!(buf.len(), CHUNK);
    let mut src = (p.open)().map_err(|source| PackageError::Source {
        path: p.path.clone(),
        source,
    })?;
    let dest = data.join(&p.path);
    let mut file = crate::direct::DirectWriter::create_new(&dest).map_err(io_err(&dest))?;
    let mut hasher = MultiHasher::new(&[Algorithm::Sha256, Algorithm::Sha512]);
    let copied = if p.size_hint >= FAN_OUT_MIN {
        copy_fanned(&mut src, Some(&mut file), &mut hasher, progress)
    } else {
        copy_hashing_to_file(&mut src, &mut file, &mut hasher, progress)
    };
    let size = copied.map_err(|e| match e {
        CopyError::Source(source) => PackageError::Source {
            path: p.path.clone(),
            source,
        },
        CopyError::Dest(e) => PackageError::io(&dest, e),
    })?;
    file.finish().map_err(io_err(&dest))?;
    let (sha256, sha512) = two_digests(hasher);
    if let Some(expected) = p.expected_sha256
        && expected != sha256
    {
        return Err(PackageError::DigestMismatch {
            path: p.path,
            expected: hex::encode(expected),
            actual: hex::encode(sha256),
        });
    }
    Ok(PayloadEntry {
        path: p.path,
        size,
        sha256,
        sha512,
    })
}
