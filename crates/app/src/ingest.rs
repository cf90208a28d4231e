//! Ingest: files and folders into the vault, each as an item with its custody record.
//!
//! Planning walks the inputs (symbolic links are not followed unless asked; special
//! files are refused; the same file given twice is taken once). Workers (two per core)
//! copy files into staging while hashing them; examiners (one per core) extract metadata
//! and perceptual hashes from the staged bytes. The committer groups staged files into batches and
//! commits each (formats.md §6); an item is reported only once its batch is committed.

use std::collections::{HashMap, HashSet};
use std::fs::{self, Metadata, OpenOptions};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use custody_model::{Action, CollectedDetails, Digest, FsTimes, ItemId, Timestamp};
use custody_vault::{BlobError, BlobStore, Staged};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::error::{AppError, Result};
use crate::media;
use crate::vault::{Pending, Vault};

/// Who collected the material, from where, how, and for which case.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Collection {
    pub case: Option<String>,
    pub collected_by: Option<String>,
    pub source: Option<String>,
    pub method: Option<String>,
    pub note: Option<String>,
}

#[derive(Clone, Debug)]
pub struct IngestOptions {
    pub follow_symlinks: bool,
    pub workers: usize,
    /// A batch is committed when it holds this many files...
    pub batch_files: usize,
    /// ...or when its first file has waited this long.
    pub batch_wait: Duration,
    /// Extract metadata and perceptual hashes while ingesting (else `custody extract`
    /// does it later).
    pub extract: bool,
    /// Skip files this vault already collected from the same path, with the same size
    /// and modification time (an interrupted ingest run again).
    pub resume: bool,
    /// Threads that examine staged files (metadata, perceptual hashes).
    pub examiners: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            follow_symlinks: false,
            // A worker spends as long waiting for its copy to reach the disk as it
            // spends hashing, so two per core keep both the CPU and the disk busy.
            workers: std::thread::available_parallelism().map_or(2, |n| 2 * n.get()),
            batch_files: 64,
            batch_wait: Duration::from_millis(250),
            extract: true,
            resume: false,
            examiners: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FileOutcome {
    Ingested {
        path: String,
        item: ItemId,
        sha256: Digest,
        size: u64,
        media_type: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        duplicate_of: Option<ItemId>,
        ledger_seq: u64,
    },
    Failed {
        path: String,
        reason: String,
    },
    Skipped {
        path: String,
        reason: String,
    },
}

/// Receives progress while an ingest runs. Called from several threads.
pub trait IngestObserver: Send + Sync {
    fn planned(&self, _files: u64, _bytes: u64) {}
    fn bytes(&self, _n: u64) {}
    fn outcome(&self, _outcome: &FileOutcome) {}
}

/// An observer that ignores everything.
pub struct Quiet;
impl IngestObserver for Quiet {}

#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestSummary {
    pub ingested: u64,
    pub duplicates: u64,
    pub failed: u64,
    pub skipped: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub files: Vec<FileOutcome>,
}

struct Candidate {
    order: usize,
    path: PathBuf,
    size: u64,
}

fn display(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => {
            "permission denied; check that you may read it".into()
        }
        _ => e.to_string(),
    }
}

fn special_kind(m: &Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_fifo() {
        "a named pipe"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_char_device() {
        "a character device"
    } else {
        "not a regular file"
    }
}

/// Expands the inputs into the files to ingest, in a stable order. The vault's own
/// directory is never entered.
fn plan(
    inputs: &[PathBuf],
    follow: bool,
    vault_dir: &Path,
    out: &mut Vec<FileOutcome>,
) -> Vec<Candidate> {
    let mut planner = Planner {
        follow,
        vault_key: fs::metadata(vault_dir).ok().map(|m| (m.dev(), m.ino())),
        files: Vec::new(),
        seen: HashMap::new(),
        dirs_seen: HashSet::new(),
        out,
    };
    for input in inputs {
        planner.visit(input, true);
    }
    planner.files
}

struct Planner<'a> {
    follow: bool,
    vault_key: Option<(u64, u64)>,
    files: Vec<Candidate>,
    /// Regular files already planned, by device and inode, with the path they came by.
    seen: HashMap<(u64, u64), PathBuf>,
    /// Folders already walked (guards against link cycles and repeated inputs).
    dirs_seen: HashSet<(u64, u64)>,
    out: &'a mut Vec<FileOutcome>,
}

impl Planner<'_> {
    fn visit(&mut self, path: &Path, top: bool) {
        let meta = match fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) => {
                self.out.push(FileOutcome::Failed {
                    path: display(path),
                    reason: format!("cannot read: {}", describe_io(&e)),
                });
                return;
            }
        };
        let meta = if meta.file_type().is_symlink() {
            if !self.follow {
                self.out.push(FileOutcome::Skipped {
                    path: display(path),
                    reason: "is a symbolic link; not followed (pass --follow-symlinks to ingest what it points to)".into(),
                });
                return;
            }
            match fs::metadata(path) {
                Ok(m) => m,
                Err(e) => {
                    self.out.push(FileOutcome::Failed {
                        path: display(path),
                        reason: format!("symbolic link to nothing readable: {}", describe_io(&e)),
                    });
                    return;
                }
            }
        } else {
            meta
        };
        let key = (meta.dev(), meta.ino());
        if meta.is_dir() && Some(key) == self.vault_key {
            self.out.push(FileOutcome::Skipped {
                path: display(path),
                reason: "is the vault itself; a vault is never ingested into itself".into(),
            });
            return;
        }
        if meta.is_dir() {
            if !self.dirs_seen.insert(key) {
                if top {
                    self.out.push(FileOutcome::Skipped {
                        path: display(path),
                        reason: "folder given twice; taken once".into(),
                    });
                }
                return;
            }
            let mut children: Vec<PathBuf> = match fs::read_dir(path) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) => {
                    self.out.push(FileOutcome::Failed {
                        path: display(path),
                        reason: format!("cannot list folder: {}", describe_io(&e)),
                    });
                    return;
                }
            };
            children.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
            for child in children {
                self.visit(&child, false);
            }
            return;
        }
        if !meta.is_file() {
            self.out.push(FileOutcome::Failed {
                path: display(path),
                reason: format!(
                    "is {}, not a regular file; only files are ingested",
                    special_kind(&meta)
                ),
            });
            return;
        }
        if let Some(first) = self.seen.get(&key) {
            self.out.push(FileOutcome::Skipped {
                path: display(path),
                reason: format!(
                    "same file as {} (given twice); ingested once",
                    display(first)
                ),
            });
            return;
        }
        self.seen.insert(key, path.to_owned());
        self.files.push(Candidate {
            order: self.files.len(),
            path: path.to_owned(),
            size: meta.len(),
        });
    }
}

/// A file copied into staging, waiting for its batch.
struct StagedFile {
    order: usize,
    path: PathBuf,
    staged: Staged,
    media_type: String,
    fs: FsTimes,
    /// Metadata and hashes, from the staged copy (never from the source, which may
    /// change); `None` when not examined.
    examined: Option<Box<Examined>>,
}

enum WorkerMsg {
    Staged(Box<StagedFile>),
    Failed(FileOutcome),
}

/// A staged file waiting to be examined: its bytes when the store kept them in memory,
/// and its staged copy.
struct ToExamine {
    file: Box<StagedFile>,
    bytes: Option<custody_vault::Kept>,
    copy: Option<PathBuf>,
}

impl ToExamine {
    fn examine(mut self) -> WorkerMsg {
        let (media_type, size) = (&self.file.media_type, self.file.staged.size);
        let examined = match &self.bytes {
            Some(b) => Some(guarded(media_type, size, || {
                examine_bytes(b, media_type, self.copy.as_deref())
            })),
            None => self
                .copy
                .as_ref()
                .map(|p| guarded(media_type, size, || examine_path(p, media_type))),
        };
        self.file.examined = examined.map(Box::new);
        WorkerMsg::Staged(self.file)
    }
}

/// What staging one file gave: a message for the committer, or a file to examine.
enum Stage {
    Done(WorkerMsg),
    Examine(ToExamine),
}

fn system_time(t: std::io::Result<SystemTime>) -> Option<Timestamp> {
    let t = t.ok()?;
    let nanos = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    Timestamp::from_unix_nanos(nanos)
}

fn stage_one(
    blobs: &dyn BlobStore,
    c: &Candidate,
    follow: bool,
    extract: bool,
    observer: &dyn IngestObserver,
) -> Stage {
    let fail = |reason: String| {
        Stage::Done(WorkerMsg::Failed(FileOutcome::Failed {
            path: display(&c.path),
            reason,
        }))
    };
    let mut opts = OpenOptions::new();
    opts.read(true);
    // Never block on a file that turned into a pipe; never follow a link that appeared
    // after planning unless links are followed.
    let mut flags = libc::O_NONBLOCK;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    opts.custom_flags(flags);
    let file = match opts.open(&c.path) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return fail("became a symbolic link after it was listed; not followed".into());
        }
        Err(e) => return fail(format!("cannot open: {}", describe_io(&e))),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return fail(format!("cannot read: {}", describe_io(&e))),
    };
    if !meta.is_file() {
        return fail(format!("is {}, not a regular file", special_kind(&meta)));
    }
    let mut header = vec![0u8; 8192.min(meta.len() as usize)];
    let mut got = 0;
    while got < header.len() {
        match file.read_at(&mut header[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return fail(format!("cannot read: {}", describe_io(&e))),
        }
    }
    header.truncate(got);
    let fs_times = FsTimes {
        accessed: system_time(meta.accessed()),
        created: system_time(meta.created()),
        modified: system_time(meta.modified()),
    };
    let mut reader = &file;
    let progress = |n| observer.bytes(n);
    let staging = if extract {
        blobs.stage_keep(&mut reader, &progress)
    } else {
        blobs.stage(&mut reader, &progress).map(|s| (s, None))
    };
    let (staged, bytes) = match staging {
        Ok(s) => s,
        Err(BlobError::Source(e)) => {
            return fail(format!("reading failed part-way: {}", describe_io(&e)));
        }
        Err(e) if e.is_disk_full() => {
            return fail("the vault's disk is full; free space and ingest this file again".into());
        }
        Err(e) => return fail(format!("could not store a copy: {e}")),
    };
    let now = file.metadata().ok();
    let after = now.as_ref().map_or(staged.size, |m| m.len());
    if staged.size != meta.len() || after != meta.len() {
        let _ = blobs.discard(&staged.digest);
        return fail(format!(
            "changed while it was being read ({} bytes listed, {} read, {} now); ingest it again once it is complete",
            meta.len(),
            staged.size,
            after
        ));
    }
    // Rewritten in place, at the same size: the copy may hold old and new bytes that
    // never existed together. The change time cannot be set back by any program.
    if let Some(why) = now
        .as_ref()
        .map_or(Some("could not be looked at again"), |now| {
            changed_while_read(&meta, now)
        })
    {
        let _ = blobs.discard(&staged.digest);
        return fail(format!(
            "{why} while it was being read, so the copy may not be the bytes of one moment; ingest it again once nothing touches it"
        ));
    }
    let media_type = media::sniff(&header, staged.size);
    let file = Box::new(StagedFile {
        order: c.order,
        path: c.path.clone(),
        examined: None,
        media_type,
        staged,
        fs: fs_times,
    });
    if !extract {
        return Stage::Done(WorkerMsg::Staged(file));
    }
    // Derived data comes from the staged bytes: in memory for small files, else the
    // staged copy (never the source, which may change). A video's keyframes are read
    // from the staged copy whatever its size.
    let copy = blobs.local_path(&file.staged.digest, true);
    Stage::Examine(ToExamine { file, bytes, copy })
}

fn none_if_blank(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Ingests `inputs` into the vault (which must be open for writing).
pub async fn ingest(
    vault: &Vault,
    inputs: &[PathBuf],
    collection: &Collection,
    options: &IngestOptions,
    observer: Arc<dyn IngestObserver>,
) -> Result<IngestSummary> {
    if !vault.is_writer() {
        return Err(AppError::Invalid(
            "ingest needs the vault opened for writing".into(),
        ));
    }
    if inputs.is_empty() {
        return Err(AppError::Invalid(
            "nothing to ingest: give one or more files or folders".into(),
        ));
    }
    let started = Instant::now();
    let mut outcomes = Vec::new();
    let mut candidates = plan(inputs, options.follow_symlinks, vault.dir(), &mut outcomes);
    if options.resume {
        let case = none_if_blank(&collection.case);
        candidates = already_collected(vault, candidates, case.as_deref(), &mut outcomes).await?;
    }

    for o in &outcomes {
        observer.outcome(o);
    }
    observer.planned(
        candidates.len() as u64,
        candidates.iter().map(|c| c.size).sum(),
    );

    let collection = Collection {
        case: none_if_blank(&collection.case),
        collected_by: none_if_blank(&collection.collected_by),
        source: none_if_blank(&collection.source),
        method: none_if_blank(&collection.method),
        note: none_if_blank(&collection.note),
    };

    // Workers take candidates in order and send staged files to the committer.
    let queue = Arc::new(std::sync::Mutex::new(
        candidates
            .into_iter()
            .collect::<std::collections::VecDeque<_>>(),
    ));
    let (tx, mut rx) = mpsc::channel::<WorkerMsg>(options.batch_files.max(1) * 2);
    // Staged files go to examiners, one per core: a worker spends much of its time
    // waiting on the disk, an examiner none, and examinations that share a core with
    // each other evict each other's tables from its caches.
    let examiners = options.examiners.max(1);
    let (to_examine, examine_rx) = std::sync::mpsc::sync_channel::<ToExamine>(examiners);
    let examine_rx = Arc::new(std::sync::Mutex::new(examine_rx));
    let mut workers = Vec::new();
    for _ in 0..examiners {
        let examine_rx = examine_rx.clone();
        let tx = tx.clone();
        workers.push(std::thread::spawn(move || {
            loop {
                let next = examine_rx.lock().expect("not poisoned").recv();
                let Ok(job) = next else { break };
                // `examine` records a panic inside an examination as its result.
                if tx.blocking_send(job.examine()).is_err() {
                    break;
                }
            }
        }));
    }
    for _ in 0..options.workers.max(1) {
        let queue = queue.clone();
        let tx = tx.clone();
        let to_examine = to_examine.clone();
        let blobs = vault.blobs().clone();
        let observer = observer.clone();
        let follow = options.follow_symlinks;
        let extract = options.extract;
        workers.push(std::thread::spawn(move || {
            loop {
                let next = queue.lock().expect("not poisoned").pop_front();
                let Some(c) = next else { break };
                // A panic while staging is this file's failure, never a file dropped
                // unreported.
                let staged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    stage_one(blobs.as_ref(), &c, follow, extract, observer.as_ref())
                }))
                .unwrap_or_else(|_| {
                    Stage::Done(WorkerMsg::Failed(FileOutcome::Failed {
                        path: display(&c.path),
                        reason: "an internal error stopped it; nothing was recorded for it (please report it)".into(),
                    }))
                });
                let sent = match staged {
                    Stage::Done(msg) => tx.blocking_send(msg).is_ok(),
                    Stage::Examine(job) => to_examine.send(job).is_ok(),
                };
                if !sent {
                    break;
                }
            }
        }));
    }
    drop((tx, to_examine));

    let mut committer = Committer {
        vault,
        collection: &collection,
        batch: Vec::new(),
        started: None,
        known: HashMap::new(),
        summary: IngestSummary::default(),
        observer: observer.as_ref(),
    };
    let fatal: Option<AppError> = loop {
        let msg = match committer.started.map(|t| t + options.batch_wait) {
            Some(deadline) => match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
                Ok(m) => m,
                // The oldest staged file has waited long enough.
                Err(_) => match committer.flush().await {
                    Ok(()) => continue,
                    Err(e) => break Some(e),
                },
            },
            None => rx.recv().await,
        };
        match msg {
            Some(WorkerMsg::Staged(f)) => {
                committer.push(*f);
                if committer.batch.len() >= options.batch_files
                    && let Err(e) = committer.flush().await
                {
                    break Some(e);
                }
            }
            Some(WorkerMsg::Failed(o)) => {
                observer.outcome(&o);
                outcomes.push(o);
            }
            None => break committer.flush().await.err(),
        }
    };
    let mut summary = std::mem::take(&mut committer.summary);
    if fatal.is_some() {
        // Stop the workers and throw away whatever they staged; none of it was committed.
        queue.lock().expect("not poisoned").clear();
        while let Some(msg) = rx.recv().await {
            if let WorkerMsg::Staged(f) = msg {
                let _ = vault.blobs().discard(&f.staged.digest);
            }
        }
    }
    for w in workers {
        let _ = w.join();
    }
    if let Some(e) = fatal {
        return Err(e);
    }
    summary.files.splice(0..0, outcomes);
    for o in &summary.files {
        match o {
            FileOutcome::Failed { .. } => summary.failed += 1,
            FileOutcome::Skipped { .. } => summary.skipped += 1,
            FileOutcome::Ingested { .. } => {}
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Staged files waiting to be committed together, and what was committed so far.
struct Committer<'a> {
    vault: &'a Vault,
    collection: &'a Collection,
    batch: Vec<StagedFile>,
    /// When the oldest file of the batch arrived.
    started: Option<Instant>,
    /// Digests committed in this run, with their first item.
    known: HashMap<Digest, ItemId>,
    summary: IngestSummary,
    observer: &'a dyn IngestObserver,
}

impl Committer<'_> {
    fn push(&mut self, f: StagedFile) {
        self.batch.push(f);
        self.started.get_or_insert_with(Instant::now);
    }

    /// Commits the batch (formats.md §6) and reports each file once it is durable.
    async fn flush(&mut self) -> Result<()> {
        self.started = None;
        if self.batch.is_empty() {
            return Ok(());
        }
        let (vault, collection, observer) = (self.vault, self.collection, self.observer);
        let known = &mut self.known;
        let summary = &mut self.summary;
        let mut files = std::mem::take(&mut self.batch);
        // Workers finish out of order; number items in the order the inputs were listed.
        files.sort_by_key(|f| f.order);
        let mut pending = Vec::with_capacity(files.len());
        let mut staged = Vec::with_capacity(files.len());
        let mut planned = Vec::with_capacity(files.len());
        for f in &files {
            let d = f.staged.digest;
            let duplicate_of = match known.get(&d) {
                Some(id) => Some(*id),
                None => {
                    let filter = custody_store::ItemFilter {
                        sha256: Some(d),
                        limit: Some(1),
                        ..Default::default()
                    };
                    vault.catalog().items(&filter).await?.first().map(|i| i.id)
                }
            };
            let id = vault.next_item_id();
            known.entry(d).or_insert(id);
            let abs = std::path::absolute(&f.path).unwrap_or_else(|_| f.path.clone());
            let name = f
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let details = CollectedDetails {
                case: collection.case.clone(),
                collected_by: collection.collected_by.clone(),
                duplicate_of,
                fs: f.fs.clone(),
                media_type: f.media_type.clone(),
                method: collection.method.clone(),
                note: collection.note.clone(),
                original_name: name,
                original_path: abs.to_string_lossy().into_owned(),
                size: f.staged.size,
                source: collection.source.clone(),
            };
            let mut details = serde_json::to_value(&details).expect("details serialise");
            if std::str::from_utf8(abs.as_os_str().as_bytes()).is_err() {
                // The name is not UTF-8: keep its exact bytes too, so nothing is lost.
                details["original_path_hex"] = hex::encode(abs.as_os_str().as_bytes()).into();
            }
            pending.push(Pending {
                action: Action::ItemCollected,
                item: Some(id),
                sha256: Some(d),
                details,
            });
            staged.push(d);
            planned.push((id, duplicate_of, pending.len() - 1));
            // Metadata depends only on the bytes: extracted once, when they first arrive.
            if let (Some(examined), None) = (&f.examined, duplicate_of) {
                pending.push(extraction_entry(id, d, examined));
            }
        }
        let entries = match vault.commit(pending, &staged).await {
            Ok(e) => e,
            Err(e) => {
                for f in &files {
                    let _ = vault.blobs().discard(&f.staged.digest);
                }
                return Err(e);
            }
        };
        for (f, (id, dup, at)) in files.iter().zip(planned) {
            let entry = &entries[at];
            let o = FileOutcome::Ingested {
                path: display(&f.path),
                item: id,
                sha256: f.staged.digest,
                size: f.staged.size,
                media_type: f.media_type.clone(),
                duplicate_of: dup,
                ledger_seq: entry.seq,
            };
            summary.ingested += 1;
            summary.bytes += f.staged.size;
            if dup.is_some() {
                summary.duplicates += 1;
            }
            observer.outcome(&o);
            summary.files.push(o);
        }
        Ok(())
    }
}

/// The candidates this vault has not collected yet, for `--resume`: a file is taken as
/// collected when an item of the same case came from its very path, with its size and
/// modification time (what an interrupted run left committed). The path compared is the
/// file's real one (symbolic links and `..` resolved) against the path recorded, so a
/// link or mount point that now leads elsewhere never hides a different file: a file
/// first collected through a link is collected again rather than skipped. Skipped files
/// are reported, naming the item; their bytes are not read again.
async fn already_collected(
    vault: &Vault,
    candidates: Vec<Candidate>,
    case: Option<&str>,
    outcomes: &mut Vec<FileOutcome>,
) -> Result<Vec<Candidate>> {
    let items = vault.catalog().items(&Default::default()).await?;
    let seen: HashMap<(&str, u64, Option<Timestamp>), ItemId> = items
        .iter()
        .filter(|i| i.fs.modified.is_some() && i.case.as_deref() == case)
        .map(|i| ((i.original_path.as_str(), i.size, i.fs.modified), i.id))
        .collect();
    let mut left = Vec::with_capacity(candidates.len());
    for c in candidates {
        let real = fs::canonicalize(&c.path).ok();
        let modified = system_time(fs::metadata(&c.path).and_then(|m| m.modified()));
        let found = real.as_ref().and_then(|real| {
            let real = real.to_string_lossy();
            seen.get(&(&*real, c.size, modified)).copied()
        });
        match found {
            Some(id) if modified.is_some() => outcomes.push(FileOutcome::Skipped {
                path: display(&c.path),
                reason: format!(
                    "already collected as {id} (same path, size and modification time; --resume)"
                ),
            }),
            _ => left.push(c),
        }
    }
    Ok(left)
}

/// What moved between two looks at a file, if anything: its modification time (a
/// write, even one that kept its size), or only its status change time (a write whose
/// modification time was set back, or a change of permissions or links: from outside
/// the one cannot be told from the other, so both are refused).
pub(crate) fn changed_while_read(before: &Metadata, after: &Metadata) -> Option<&'static str> {
    if (before.mtime(), before.mtime_nsec()) != (after.mtime(), after.mtime_nsec()) {
        Some("was modified")
    } else if (before.ctime(), before.ctime_nsec()) != (after.ctime(), after.ctime_nsec()) {
        Some("had its status changed (a write with its time set back, or new permissions or links)")
    } else {
        None
    }
}

/// What ingest and `custody extract` derive from an item's bytes.
#[derive(Debug)]
pub(crate) struct Examined {
    /// The extractor's record.
    pub metadata: custody_extract::Metadata,
    /// The perceptual hash of an image with the hashes it would have turned, or why it
    /// could not be computed; `None` for media that are not hashed as images.
    pub phash: Option<Result<custody_similar::Turnings, String>>,
    /// The hashed keyframes of a video, or why they could not be computed; `None` for
    /// media without keyframes (and for a video with no file to read them from).
    pub keyframes: Option<Result<Vec<custody_similar::Keyframe>, String>>,
    /// What reading a video end to end for its keyframes learnt of its stream (codec,
    /// picture size, frames, length), for containers whose header does not say it
    /// (transport and program streams); kept even when no keyframe could be hashed.
    pub stream: Option<custody_similar::StreamFacts>,
}

impl Examined {
    /// The record of an examination that an internal error stopped: the bytes are
    /// preserved all the same, and the record says what happened.
    fn stopped(media_type: &str, size: u64) -> Examined {
        let mut metadata = custody_extract::Metadata::empty(media_type, size);
        metadata.problems.push(
            "could not extract: an internal error stopped the examination of this file (please report it)"
                .into(),
        );
        let why = STOPPED;
        Examined {
            metadata,
            phash: custody_similar::is_hashable(media_type).then(|| Err(why.to_owned())),
            keyframes: custody_similar::has_keyframes(media_type).then(|| Err(why.to_owned())),
            stream: None,
        }
    }
}

/// The recorded hashing failure of an examination an internal error stopped.
pub(crate) const STOPPED: &str = "could not hash: an internal error stopped the examination";

/// Whether a recorded hashing failure says nothing about the bytes, so that a later
/// examination may give the hash: the vault's copy could not be read (a storage
/// fault), an internal error stopped the examination (a fault a later release may
/// mend), or the bytes wanted a decoder: a codec refused that this program now
/// decodes (AV1 video), or a decoding process that could not be started or was killed
/// from outside. A failure to decode the bytes is theirs, and stands.
pub(crate) fn may_succeed_later(recorded_error: &str) -> bool {
    recorded_error == STOPPED
        || custody_similar::is_read_failure(recorded_error)
        || custody_similar::lacked_a_decoder(recorded_error)
}

/// Runs an examination. A panic inside it (a parser or decoder failing on hostile input)
/// becomes this file's recorded failure instead of ending the worker, which would lose
/// the file.
pub(crate) fn guarded(media_type: &str, size: u64, examine: impl FnOnce() -> Examined) -> Examined {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(examine))
        .unwrap_or_else(|_| Examined::stopped(media_type, size))
}

/// Examines bytes held in memory. `file` is a copy of the same bytes on disk (staged or
/// stored), which a video's keyframes are read from: their decoder seeks in a file.
pub(crate) fn examine_bytes(bytes: &[u8], media_type: &str, file: Option<&Path>) -> Examined {
    let (keyframes, stream) = file.map_or((None, None), |f| keyframes(f, media_type));
    Examined {
        metadata: extract_bytes(bytes, media_type),
        phash: custody_similar::is_hashable(media_type).then(|| {
            custody_similar::hash_turnings_bytes(bytes, media_type).map_err(|e| e.to_string())
        }),
        keyframes,
        stream,
    }
}

/// The metadata of bytes held in memory.
pub(crate) fn extract_bytes(bytes: &[u8], media_type: &str) -> custody_extract::Metadata {
    custody_extract::extract_reader(
        &mut std::io::Cursor::new(bytes),
        bytes.len() as u64,
        media_type,
    )
}

/// Examines a file (one not held in memory), which each reads in turn.
pub(crate) fn examine_path(path: &Path, media_type: &str) -> Examined {
    let (keyframes, stream) = keyframes(path, media_type);
    Examined {
        metadata: custody_extract::extract_path(path, media_type),
        phash: perceptual_hash(path, media_type),
        keyframes,
        stream,
    }
}

/// The perceptual hash of an image file with its turned hashes, `None` for media that
/// are not hashed.
pub(crate) fn perceptual_hash(
    path: &Path,
    media_type: &str,
) -> Option<Result<custody_similar::Turnings, String>> {
    custody_similar::is_hashable(media_type)
        .then(|| custody_similar::hash_turnings_path(path, media_type).map_err(|e| e.to_string()))
}

/// The hashed keyframes of a video file (`None` for media without keyframes), and what
/// was learnt of its stream on the way.
pub(crate) fn keyframes(
    path: &Path,
    media_type: &str,
) -> (
    Option<Result<Vec<custody_similar::Keyframe>, String>>,
    Option<custody_similar::StreamFacts>,
) {
    if !custody_similar::has_keyframes(media_type) {
        return (None, None);
    }
    let read = custody_similar::read_video_path(path);
    (Some(read.keyframes.map_err(|e| e.to_string())), read.stream)
}

/// A hashing failure as recorded: the hasher's messages already start "could not hash".
fn could_not_hash(e: &str) -> String {
    if e.starts_with("could not hash") {
        e.to_owned()
    } else {
        format!("could not hash: {e}")
    }
}

/// The `details["phash"]` of an extraction entry: `{"algorithm", "value", "turned"}` (16
/// hex digits, and the turned hashes) or `{"algorithm", "error"}`.
fn phash_details(phash: &Result<custody_similar::Turnings, String>) -> serde_json::Value {
    let algorithm = custody_similar::ALGORITHM;
    match phash {
        Ok(t) => serde_json::json!({
            "algorithm": algorithm,
            "value": t.hash.to_string(),
            "turned": turned_details(&t.turned),
        }),
        Err(e) => serde_json::json!({"algorithm": algorithm, "error": could_not_hash(e)}),
    }
}

/// The hashes a picture would have turned, as recorded: `{"mirrored": hex, ...}`, one key
/// per turn (docs/design/near-duplicates.md §8).
fn turned_details(turned: &custody_similar::Turned) -> serde_json::Value {
    turned
        .iter()
        .map(|(turn, hash)| (turn.id().to_owned(), hash.to_string().into()))
        .collect::<serde_json::Map<String, serde_json::Value>>()
        .into()
}

/// The `details["keyframes"]` of an extraction entry: `{"algorithm", "frames": [{"at_ms",
/// "value", "turned"}, ...]}` in the order the frames are shown, or `{"algorithm",
/// "error"}`; with `"stream": {"codec", "width", "height", "frames", "duration_ms"}` when
/// the stream was read end to end.
pub(crate) fn keyframes_details(
    keyframes: &Result<Vec<custody_similar::Keyframe>, String>,
    stream: Option<&custody_similar::StreamFacts>,
) -> serde_json::Value {
    let mut details = hashes_details(keyframes);
    if let Some(s) = stream {
        details["stream"] = serde_json::json!({
            "codec": s.codec,
            "width": s.width,
            "height": s.height,
            "frames": s.frames,
            "duration_ms": s.duration_ms,
        });
    }
    details
}

fn hashes_details(keyframes: &Result<Vec<custody_similar::Keyframe>, String>) -> serde_json::Value {
    let algorithm = custody_similar::ALGORITHM;
    match keyframes {
        Ok(frames) => {
            let frames: Vec<serde_json::Value> = frames
                .iter()
                .map(|k| {
                    serde_json::json!({
                        "at_ms": k.at_ms,
                        "value": k.hash.to_string(),
                        "turned": turned_details(&k.turned),
                    })
                })
                .collect();
            serde_json::json!({"algorithm": algorithm, "frames": frames})
        }
        Err(e) => serde_json::json!({"algorithm": algorithm, "error": could_not_hash(e)}),
    }
}

/// The `metadata.extracted` entry recording one examination: the extractor's record,
/// and the perceptual hash of an image or the keyframe hashes of a video.
pub(crate) fn extraction_entry(item: ItemId, sha256: Digest, examined: &Examined) -> Pending {
    let m = &examined.metadata;
    let mut details = serde_json::json!({
        "extractor": m.extractor,
        "extractor_version": m.extractor_version,
        "record": m,
    });
    if let Some(phash) = &examined.phash {
        details["phash"] = phash_details(phash);
    }
    if let Some(keyframes) = &examined.keyframes {
        details["keyframes"] = keyframes_details(keyframes, examined.stream.as_ref());
    }
    Pending {
        action: Action::MetadataExtracted,
        item: Some(item),
        sha256: Some(sha256),
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Does `touch` to the file being read the first time ingest reports bytes read from
    /// it: a writer (or anything else) still at work on the evidence.
    struct WhileRead {
        touch: Box<dyn Fn() + Send + Sync>,
        done: std::sync::atomic::AtomicBool,
    }

    impl IngestObserver for WhileRead {
        fn bytes(&self, _n: u64) {
            if !self.done.swap(true, std::sync::atomic::Ordering::SeqCst) {
                (self.touch)();
            }
        }
    }

    /// Ingests `path` (8 MiB, read in several pieces) while `touch` is done to it, and
    /// gives the one file's outcome.
    async fn ingest_while(
        vault: &Vault,
        path: &Path,
        extract: bool,
        touch: impl Fn() + Send + Sync + 'static,
    ) -> (IngestSummary, String) {
        let observer = Arc::new(WhileRead {
            touch: Box::new(touch),
            done: Default::default(),
        });
        let options = IngestOptions {
            extract,
            ..Default::default()
        };
        let summary = ingest(
            vault,
            &[path.to_owned()],
            &Collection::default(),
            &options,
            observer,
        )
        .await
        .unwrap();
        let FileOutcome::Failed { reason, .. } = &summary.files[0] else {
            panic!("{summary:?}");
        };
        let reason = reason.clone();
        (summary, reason)
    }

    async fn vault_and_file() -> (tempfile::TempDir, Vault, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::init(&dir.path().join("vault"), "t", "tester")
            .await
            .unwrap();
        let path = dir.path().join("evidence.bin");
        std::fs::write(&path, vec![7u8; 8 << 20]).unwrap();
        (dir, vault, path)
    }

    /// A change of status alone (permissions) while a file is read is refused too, and
    /// said as what it is.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_status_change_while_read_is_named() {
        let (_dir, vault, path) = vault_and_file().await;
        let target = path.clone();
        let (_, reason) = ingest_while(&vault, &path, true, move || {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, fs::Permissions::from_mode(0o400)).unwrap();
        })
        .await;
        assert!(reason.starts_with("had its status changed"), "{reason}");
    }

    /// A file rewritten in place while it is read (same size, so its length says
    /// nothing) is refused, and nothing of it is kept: the copy could hold bytes that
    /// never existed together.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_rewritten_while_read_is_refused() {
        let (_dir, vault, path) = vault_and_file().await;
        for extract in [true, false] {
            let target = path.clone();
            let (summary, reason) = ingest_while(&vault, &path, extract, move || {
                let f = OpenOptions::new().write(true).open(&target).unwrap();
                f.write_all_at(b"rewritten", 0).unwrap();
            })
            .await;
            assert_eq!((summary.ingested, summary.failed), (0, 1), "{summary:?}");
            assert!(
                reason.contains("was modified while it was being read"),
                "{reason}"
            );
        }
        assert!(
            vault
                .catalog()
                .items(&Default::default())
                .await
                .unwrap()
                .is_empty()
        );
        // Left alone, the same file goes in.
        let summary = ingest(
            &vault,
            std::slice::from_ref(&path),
            &Collection::default(),
            &IngestOptions::default(),
            Arc::new(Quiet),
        )
        .await
        .unwrap();
        assert_eq!(summary.ingested, 1, "{summary:?}");
    }

    /// A panic inside an examination is recorded as that file's failure: the record
    /// says an internal error stopped it, and the hashes its type would get say why
    /// they are missing.
    #[test]
    fn a_stopped_examination_is_recorded_not_lost() {
        for (media_type, image, video) in [
            ("image/jpeg", true, false),
            ("video/mp4", false, true),
            ("application/pdf", false, false),
        ] {
            let e = guarded(media_type, 42, || panic!("a decoder gave up"));
            assert_eq!(e.metadata.size, 42);
            assert!(
                e.metadata.problems[0].contains("an internal error stopped"),
                "{:?}",
                e.metadata.problems
            );
            assert_eq!(e.phash.is_some(), image, "{media_type}");
            assert_eq!(e.keyframes.is_some(), video, "{media_type}");
            if let Some(Err(why)) = &e.keyframes {
                assert!(why.starts_with("could not hash"), "{why}");
            }
        }
        let fine = guarded("application/pdf", 3, || Examined {
            metadata: custody_extract::Metadata::empty("application/pdf", 3),
            phash: None,
            keyframes: None,
            stream: None,
        });
        assert!(fine.metadata.problems.is_empty());
    }
}
