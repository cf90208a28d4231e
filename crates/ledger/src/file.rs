//! The embedded vault's ledger files: `entries.jsonl`, `index.bin` and `checkpoints/`
//! (formats.md §1, §3.4, §6).
//!
//! `entries.jsonl` is the record. `index.bin` is derived from it and is extended or
//! rebuilt on open. Appends are durable when [`FileLedger::append`] returns.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{LedgerError, Result};
use crate::hash::Hash;
use crate::merkle::Tree;

const RECORD: usize = 48;
pub const ENTRIES: &str = "entries.jsonl";
pub const INDEX: &str = "index.bin";
pub const CHECKPOINTS: &str = "checkpoints";
pub const LATEST: &str = "checkpoint";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Record {
    offset: u64,
    len: u32,
    leaf: Hash,
}

impl Record {
    fn encode(&self) -> [u8; RECORD] {
        let mut out = [0u8; RECORD];
        out[..8].copy_from_slice(&self.offset.to_le_bytes());
        out[8..12].copy_from_slice(&self.len.to_le_bytes());
        out[16..].copy_from_slice(&self.leaf.0);
        out
    }
    fn decode(b: &[u8]) -> Self {
        Self {
            offset: u64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
            len: u32::from_le_bytes(b[8..12].try_into().expect("4 bytes")),
            leaf: Hash(b[16..48].try_into().expect("32 bytes")),
        }
    }
}

/// What opening for writing had to repair. Each is expected after a crash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Repairs {
    /// Bytes of an incomplete last line that were cut off (never committed).
    pub torn_tail_bytes: u64,
    /// Index records rebuilt from `entries.jsonl`.
    pub index_records_added: u64,
}

/// The ledger of an embedded vault.
pub struct FileLedger {
    dir: PathBuf,
    entries: File,
    index: Option<File>,
    records: Vec<Record>,
    tree: Tree,
    end: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LedgerError + '_ {
    move |e| LedgerError::io(path, e)
}

/// Flushes a directory so that renames and new names in it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Writes `bytes` to `path` atomically: temporary file, fsync, rename, directory fsync.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    // A stale temporary file (a crash mid-write) is removed, and the new one is made
    // afresh: a link planted in its place is never followed.
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&tmp)(e)),
    }
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(dir)
}

impl FileLedger {
    /// Creates empty ledger files in `dir` (which may exist but must hold no ledger).
    pub fn create(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir.join(CHECKPOINTS)).map_err(io(dir))?;
        let entries_path = dir.join(ENTRIES);
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&entries_path)
            .map_err(io(&entries_path))?;
        let index_path = dir.join(INDEX);
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&index_path)
            .map_err(io(&index_path))?;
        sync_dir(dir)?;
        Self::open(dir, true).map(|(l, _)| l)
    }

    /// Opens the ledger. With `write`, an incomplete last line is cut off and the index
    /// is brought up to date on disk; without, both are handled in memory only.
    pub fn open(dir: &Path, write: bool) -> Result<(Self, Repairs)> {
        let entries_path = dir.join(ENTRIES);
        let index_path = dir.join(INDEX);
        let mut entries = OpenOptions::new()
            .read(true)
            .append(write)
            .open(&entries_path)
            .map_err(io(&entries_path))?;
        let mut repairs = Repairs::default();
        let file_len = entries.metadata().map_err(io(&entries_path))?.len();
        let end = committed_end(&entries, file_len).map_err(io(&entries_path))?;
        if end < file_len {
            repairs.torn_tail_bytes = file_len - end;
            if write {
                entries
                    .set_len(end)
                    .and_then(|_| entries.sync_all())
                    .map_err(io(&entries_path))?;
            }
        }

        let mut index_bytes = Vec::new();
        let mut index = if write {
            let mut f = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&index_path)
                .map_err(io(&index_path))?;
            f.read_to_end(&mut index_bytes).map_err(io(&index_path))?;
            Some(f)
        } else {
            match File::open(&index_path) {
                Ok(mut f) => {
                    f.read_to_end(&mut index_bytes).map_err(io(&index_path))?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(LedgerError::io(&index_path, e)),
            }
            None
        };
        let whole = index_bytes.len() / RECORD * RECORD;
        let mut records: Vec<Record> = index_bytes[..whole]
            .chunks_exact(RECORD)
            .map(Record::decode)
            .collect();

        // The index must describe a prefix of the committed entries, record after record.
        let mut expected = 0u64;
        let mut valid = 0;
        for r in &records {
            if r.offset != expected || r.offset + u64::from(r.len) + 1 > end {
                break;
            }
            expected = r.offset + u64::from(r.len) + 1;
            valid += 1;
        }
        records.truncate(valid);
        if let Some(last) = records.last() {
            let bytes = read_at(&entries, last.offset, last.len).map_err(io(&entries_path))?;
            if Hash::leaf(&bytes) != last.leaf {
                // The index disagrees with the entries: rebuild it from scratch.
                records.clear();
                expected = 0;
            }
        }

        // Index the entries after the last indexed one.
        let first_new = records.len();
        entries
            .seek(SeekFrom::Start(expected))
            .map_err(io(&entries_path))?;
        let mut reader =
            std::io::BufReader::with_capacity(1 << 20, (&mut entries).take(end - expected));
        let mut line = Vec::new();
        let mut pos = expected;
        loop {
            line.clear();
            let n = std::io::BufRead::read_until(&mut reader, b'\n', &mut line)
                .map_err(io(&entries_path))?;
            if n == 0 {
                break;
            }
            let body = &line[..n - 1];
            let len = u32::try_from(body.len())
                .map_err(|_| LedgerError::Damaged(format!("entry at byte {pos} is over 4 GiB")))?;
            records.push(Record {
                offset: pos,
                len,
                leaf: Hash::leaf(body),
            });
            pos += n as u64;
        }
        drop(reader);
        repairs.index_records_added = (records.len() - first_new) as u64;
        if let Some(f) = index.as_mut() {
            if index_bytes.len() != first_new * RECORD {
                let mut buf = Vec::with_capacity(records.len() * RECORD);
                for r in &records {
                    buf.extend_from_slice(&r.encode());
                }
                f.set_len(0).map_err(io(&index_path))?;
                f.write_all_at(&buf, 0).map_err(io(&index_path))?;
            } else if repairs.index_records_added > 0 {
                let mut buf = Vec::new();
                for r in &records[first_new..] {
                    buf.extend_from_slice(&r.encode());
                }
                f.write_all_at(&buf, (first_new * RECORD) as u64)
                    .map_err(io(&index_path))?;
            }
        }

        let tree = Tree::from_leaves(records.iter().map(|r| r.leaf));
        Ok((
            Self {
                dir: dir.to_owned(),
                entries,
                index,
                records,
                tree,
                end,
            },
            repairs,
        ))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Number of committed entries.
    pub fn len(&self) -> u64 {
        self.records.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Appends entries (each without its LF) and makes them durable before returning.
    /// On failure nothing is appended: the file is cut back to where it was.
    pub fn append(&mut self, entries: &[Vec<u8>]) -> Result<()> {
        let path = self.dir.join(ENTRIES);
        if self.index.is_none() {
            return Err(LedgerError::io(
                &path,
                std::io::Error::other("ledger opened read-only"),
            ));
        }
        let mut buf = Vec::with_capacity(entries.iter().map(|e| e.len() + 1).sum());
        let mut new = Vec::with_capacity(entries.len());
        for e in entries {
            if e.contains(&b'\n') {
                return Err(LedgerError::MalformedEntry {
                    seq: self.len() + new.len() as u64,
                    reason: "contains a newline".into(),
                });
            }
            let len = u32::try_from(e.len()).map_err(|_| LedgerError::MalformedEntry {
                seq: self.len() + new.len() as u64,
                reason: "longer than 4 GiB".into(),
            })?;
            new.push(Record {
                offset: self.end + buf.len() as u64,
                len,
                leaf: Hash::leaf(e),
            });
            buf.extend_from_slice(e);
            buf.push(b'\n');
        }
        let written = self
            .entries
            .write_all(&buf)
            .and_then(|_| self.entries.sync_data());
        if let Err(e) = written {
            // Undo a partial append so that nothing uncommitted stays visible.
            let _ = self
                .entries
                .set_len(self.end)
                .and_then(|_| self.entries.sync_all());
            return Err(LedgerError::io(&path, e));
        }
        self.end += buf.len() as u64;
        let mut idx = Vec::with_capacity(new.len() * RECORD);
        for r in &new {
            idx.extend_from_slice(&r.encode());
            self.tree.push(r.leaf);
        }
        let at = (self.records.len() * RECORD) as u64;
        self.records.extend(new);
        // The index is derived: a failure here is repaired on the next open.
        if let Some(f) = &self.index {
            let _ = f.write_all_at(&idx, at);
        }
        Ok(())
    }

    /// The bytes of entry `seq`, without its LF.
    pub fn read(&self, seq: u64) -> Result<Vec<u8>> {
        let r = self
            .records
            .get(seq as usize)
            .ok_or(LedgerError::NoSuchEntry(seq, self.len()))?;
        let bytes = read_at(&self.entries, r.offset, r.len).map_err(io(&self.dir.join(ENTRIES)))?;
        Ok(bytes)
    }

    /// Reads every committed entry in order, straight from `entries.jsonl`, without
    /// trusting the index. Used by verification.
    pub fn scan(&self, mut f: impl FnMut(u64, &[u8])) -> Result<()> {
        let path = self.dir.join(ENTRIES);
        let mut file = File::open(&path).map_err(io(&path))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, (&mut file).take(self.end));
        let mut line = Vec::new();
        let mut seq = 0;
        loop {
            line.clear();
            let n =
                std::io::BufRead::read_until(&mut reader, b'\n', &mut line).map_err(io(&path))?;
            if n == 0 {
                break;
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            f(seq, &line);
            seq += 1;
        }
        Ok(())
    }

    /// Leaf hash recorded in the index for entry `seq`.
    pub fn indexed_leaf(&self, seq: u64) -> Option<Hash> {
        self.records.get(seq as usize).map(|r| r.leaf)
    }

    /// Stores a signed checkpoint note for tree size `size` and makes it the latest.
    pub fn write_checkpoint(&self, size: u64, note: &str) -> Result<()> {
        let path = self.dir.join(CHECKPOINTS).join(checkpoint_name(size));
        write_atomic(&path, note.as_bytes())?;
        write_atomic(&self.dir.join(LATEST), note.as_bytes())
    }

    /// Sizes of every stored checkpoint, ascending.
    pub fn checkpoint_sizes(&self) -> Result<Vec<u64>> {
        let dir = self.dir.join(CHECKPOINTS);
        let mut sizes = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()) {
                sizes.push(name.parse().expect("20 digits fit in u64"));
            }
        }
        sizes.sort_unstable();
        Ok(sizes)
    }

    pub fn read_checkpoint(&self, size: u64) -> Result<String> {
        let path = self.dir.join(CHECKPOINTS).join(checkpoint_name(size));
        fs::read_to_string(&path).map_err(io(&path))
    }

    /// The latest stored checkpoint note and its size, if any.
    pub fn latest_checkpoint(&self) -> Result<Option<(u64, String)>> {
        match self.checkpoint_sizes()?.last() {
            Some(&size) => Ok(Some((size, self.read_checkpoint(size)?))),
            None => Ok(None),
        }
    }
}

pub fn checkpoint_name(size: u64) -> String {
    format!("{size:020}")
}

fn read_at(file: &File, offset: u64, len: u32) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len as usize];
    file.read_exact_at(&mut buf, offset)?;
    Ok(buf)
}

/// The length of the file up to and including its last LF.
fn committed_end(file: &File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.read_exact_at(chunk, start)?;
        if let Some(p) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + p as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: u64) -> Vec<u8> {
        format!("{{\"n\":{i}}}").into_bytes()
    }

    #[test]
    fn append_read_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = FileLedger::create(dir.path()).unwrap();
        l.append(&[entry(0), entry(1)]).unwrap();
        l.append(&[entry(2)]).unwrap();
        assert_eq!(l.read(1).unwrap(), entry(1));
        let root = l.tree().root();
        drop(l);
        let (l, repairs) = FileLedger::open(dir.path(), true).unwrap();
        assert_eq!(repairs, Repairs::default());
        assert_eq!(l.len(), 3);
        assert_eq!(l.tree().root(), root);
        assert_eq!(l.read(2).unwrap(), entry(2));
    }

    #[test]
    fn a_torn_last_line_is_cut_off_and_a_missing_index_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = FileLedger::create(dir.path()).unwrap();
        l.append(&[entry(0), entry(1)]).unwrap();
        drop(l);
        let path = dir.path().join(ENTRIES);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"n\":2").unwrap();
        fs::write(dir.path().join(INDEX), b"").unwrap();

        let (l, repairs) = FileLedger::open(dir.path(), false).unwrap();
        assert_eq!((l.len(), repairs.torn_tail_bytes), (2, 6));
        assert_eq!(
            fs::metadata(&path).unwrap().len(),
            2 * 8 + 6,
            "read-only open changes nothing"
        );
        drop(l);

        let (l, repairs) = FileLedger::open(dir.path(), true).unwrap();
        assert_eq!(
            repairs,
            Repairs {
                torn_tail_bytes: 6,
                index_records_added: 2
            }
        );
        assert_eq!(fs::metadata(&path).unwrap().len(), 16);
        assert_eq!(fs::metadata(dir.path().join(INDEX)).unwrap().len(), 96);
        assert_eq!(l.read(1).unwrap(), entry(1));
    }

    #[test]
    fn entries_appended_after_the_index_are_indexed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = FileLedger::create(dir.path()).unwrap();
        l.append(&[entry(0)]).unwrap();
        drop(l);
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(ENTRIES))
            .unwrap();
        f.write_all(b"{\"n\":1}\n").unwrap();
        let (l, repairs) = FileLedger::open(dir.path(), true).unwrap();
        assert_eq!(repairs.index_records_added, 1);
        assert_eq!(l.len(), 2);
        assert_eq!(
            l.tree().root(),
            Tree::from_leaves([Hash::leaf(&entry(0)), Hash::leaf(&entry(1))]).root()
        );
    }

    #[test]
    fn a_stale_index_is_rebuilt_from_the_entries() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = FileLedger::create(dir.path()).unwrap();
        l.append(&[entry(0), entry(1)]).unwrap();
        drop(l);
        // Same lengths, different bytes: the index's leaf hash no longer matches.
        fs::write(dir.path().join(ENTRIES), b"{\"n\":7}\n{\"n\":8}\n").unwrap();
        let (l, _) = FileLedger::open(dir.path(), true).unwrap();
        assert_eq!(l.indexed_leaf(1), Some(Hash::leaf(b"{\"n\":8}")));
    }

    #[test]
    fn checkpoints_are_stored_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let l = FileLedger::create(dir.path()).unwrap();
        assert_eq!(l.latest_checkpoint().unwrap(), None);
        l.write_checkpoint(3, "a\n").unwrap();
        l.write_checkpoint(10, "b\n").unwrap();
        assert_eq!(l.checkpoint_sizes().unwrap(), vec![3, 10]);
        assert_eq!(
            l.latest_checkpoint().unwrap(),
            Some((10, "b\n".to_string()))
        );
        assert_eq!(fs::read_to_string(dir.path().join(LATEST)).unwrap(), "b\n");
    }

    #[test]
    fn scan_reads_every_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = FileLedger::create(dir.path()).unwrap();
        l.append(&[entry(0), entry(1), entry(2)]).unwrap();
        let mut seen = Vec::new();
        l.scan(|seq, bytes| seen.push((seq, bytes.to_vec())))
            .unwrap();
        assert_eq!(seen, vec![(0, entry(0)), (1, entry(1)), (2, entry(2))]);
    }
}
