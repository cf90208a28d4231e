//! Streaming files through digests, and running per-file jobs on a few worker threads.
//!
//! Parallelism is mostly per file: each worker reads one file at a time in large chunks
//! and feeds every chunk to all the digests it needs, so a file is read once. Jobs are
//! taken largest first, so two large files do not end up on the same worker while the
//! other one idles. A large file is also split by digest ([`copy_fanned`]): its chunks go
//! to one thread per digest and one for the write, so it keeps more than one core busy.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel, sync_channel};
use std::sync::{Arc, Mutex};

use custody_aligned::AlignedBuf;

use crate::algorithm::MultiHasher;

/// Bytes read at a time by each worker.
pub(crate) const CHUNK: usize = 1 << 20;

/// Worker threads used by default: two per core, so that while one waits for the disk
/// (direct reads have no read-ahead) the other hashes.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8)
        * 2
}

pub(crate) enum CopyError {
    Source(io::Error),
    Dest(io::Error),
}

/// Reads `src` to its end, feeding `hasher` and, when given, writing to `dst`. Returns
/// the byte count.
pub(crate) fn copy_hashing(
    src: &mut dyn Read,
    mut dst: Option<&mut File>,
    buf: &mut [u8],
    hasher: &mut MultiHasher,
    progress: Option<&(dyn Fn(u64) + Send + Sync)>,
) -> Result<u64, CopyError> {
    let mut total = 0u64;
    loop {
        let n = match src.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Source(e)),
        };
        hasher.update(&buf[..n]);
        if let Some(d) = dst.as_deref_mut() {
            d.write_all(&buf[..n]).map_err(CopyError::Dest)?;
        }
        total += n as u64;
        if let Some(p) = progress {
            p(n as u64);
        }
    }
}

/// Buffers in flight between the hashing thread and the writing thread of one copy.
const WRITE_DEPTH: usize = 4;

/// Like [`copy_hashing`] into a file, with the writes on a second thread: when the disk is
/// slower than hashing and the kernel throttles writers, hashing goes on meanwhile instead
/// of waiting. Memory is at most `WRITE_DEPTH + 1` chunks, allocated as they are needed:
/// a small file takes one or two.
pub(crate) fn copy_hashing_to_file(
    src: &mut dyn Read,
    dst: &mut (dyn Write + Send),
    hasher: &mut MultiHasher,
    progress: Option<&(dyn Fn(u64) + Send + Sync)>,
) -> Result<u64, CopyError> {
    std::thread::scope(|s| {
        let (to_write, write_rx) = sync_channel::<(AlignedBuf, usize)>(WRITE_DEPTH);
        let (free_tx, free_rx) = sync_channel::<AlignedBuf>(WRITE_DEPTH + 1);
        let writer = s.spawn(move || -> io::Result<()> {
            for (buf, n) in write_rx {
                dst.write_all(&buf.bytes()[..n])?;
                // The reader may have stopped; then the buffer is simply dropped.
                let _ = free_tx.send(buf);
            }
            Ok(())
        });
        let mut total = 0u64;
        let mut read_result = Ok(());
        let mut allocated = 0;
        loop {
            // A returned buffer if there is one, a new one while fewer than the limit
            // exist, else wait. Ends when the writer has failed and dropped its side.
            let next = match free_rx.try_recv() {
                Ok(buf) => Ok(buf),
                Err(_) if allocated <= WRITE_DEPTH => {
                    allocated += 1;
                    Ok(AlignedBuf::new(CHUNK))
                }
                Err(_) => free_rx.recv(),
            };
            let Ok(mut buf) = next else { break };
            let n = match src.read(buf.bytes_mut()) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    let _ = to_write.send((buf, 0));
                    continue;
                }
                Err(e) => {
                    read_result = Err(CopyError::Source(e));
                    break;
                }
            };
            hasher.update(&buf.bytes()[..n]);
            total += n as u64;
            if let Some(p) = progress {
                p(n as u64);
            }
            if to_write.send((buf, n)).is_err() {
                break;
            }
        }
        drop(to_write);
        let written = writer.join().expect("writer thread does not panic");
        read_result?;
        written.map_err(CopyError::Dest)?;
        Ok(total)
    })
}

/// Files at least this large are hashed by [`copy_fanned`]; smaller ones are many, and
/// running them side by side on the workers already keeps the cores busy.
pub(crate) const FAN_OUT_MIN: u64 = 16 << 20;

/// Chunks in flight in one [`copy_fanned`] pipeline.
const FAN_DEPTH: usize = 8;

/// A consumer's hold on a chunk shared by the consumers of one pipeline. Letting go of it
/// tells the reader, which waits for the oldest chunk to come free before reusing it;
/// letting go happens however the hold ends (used, dropped with a queue, or unwinding
/// from a panic), so the reader never waits for a signal that cannot come.
struct Lease {
    buf: Option<Arc<AlignedBuf>>,
    len: usize,
    released: Sender<()>,
}

impl Lease {
    fn bytes(&self) -> &[u8] {
        &self.buf.as_ref().expect("held until dropped").bytes()[..self.len]
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // The handle goes first, so that the reader, once told, finds the chunk free.
        drop(self.buf.take());
        let _ = self.released.send(());
    }
}

/// Reads `src` to its end on the calling thread and hands every chunk to each digest of
/// `hasher` on a thread of its own and, when given, to `dst` on another. One large file
/// then uses more than one core: SHA-512 costs about twice SHA-256, so done one after the
/// other on one thread they would leave the second core idle whenever fewer files than
/// workers remain, and reading would wait for hashing. Memory is [`FAN_DEPTH`] chunks.
///
/// A failing write stops the reading at the next chunk; the digests are then of no use.
pub(crate) fn copy_fanned(
    src: &mut dyn Read,
    dst: Option<&mut (dyn Write + Send)>,
    hasher: &mut MultiHasher,
    progress: Option<&(dyn Fn(u64) + Send + Sync)>,
) -> Result<u64, CopyError> {
    let parts = hasher.take_parts();
    let failed = AtomicBool::new(false);
    std::thread::scope(|s| {
        // Every consumer says when it has dropped its handle on a chunk, so that the
        // reader can wait for a buffer to come free instead of allocating another.
        let (released_tx, released) = channel::<()>();
        let mut feeds = Vec::new();
        let mut digests = Vec::new();
        for (alg, mut h) in parts {
            let (tx, rx) = sync_channel::<Lease>(FAN_DEPTH);
            feeds.push(tx);
            digests.push(s.spawn(move || {
                for lease in rx {
                    h.update(lease.bytes());
                }
                (alg, h)
            }));
        }
        let writer = dst.map(|dst| {
            let (tx, rx) = sync_channel::<Lease>(FAN_DEPTH);
            let failed = &failed;
            feeds.push(tx);
            s.spawn(move || -> io::Result<()> {
                let mut result = Ok(());
                // Keeps taking chunks after a failure, so that the reader sees the flag
                // at its next chunk rather than waiting on a full queue.
                for lease in rx {
                    if result.is_ok() {
                        result = dst.write_all(lease.bytes());
                        if result.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                    }
                }
                result
            })
        });

        let mut in_flight: VecDeque<Arc<AlignedBuf>> = VecDeque::with_capacity(FAN_DEPTH);
        let mut total = 0u64;
        let mut read_result = Ok(());
        while !failed.load(Ordering::Relaxed) {
            let mut buf = if in_flight.len() < FAN_DEPTH {
                AlignedBuf::new(CHUNK)
            } else {
                // Consumers take chunks in order, so the oldest comes free first.
                let mut oldest = in_flight.pop_front().expect("FAN_DEPTH > 0");
                loop {
                    match Arc::try_unwrap(oldest) {
                        Ok(buf) => break buf,
                        Err(still_shared) => {
                            oldest = still_shared;
                            // Every lease still out signals when it ends, and the reader
                            // holds a sender itself, so this neither fails nor waits for
                            // a signal that cannot come.
                            let _ = released.recv();
                        }
                    }
                }
            };
            let n = match src.read(buf.bytes_mut()) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    in_flight.push_back(Arc::new(buf));
                    continue;
                }
                Err(e) => {
                    read_result = Err(CopyError::Source(e));
                    break;
                }
            };
            total += n as u64;
            if let Some(p) = progress {
                p(n as u64);
            }
            let buf = Arc::new(buf);
            for feed in &feeds {
                // A consumer only goes away by panicking, which the join below reports.
                let _ = feed.send(Lease {
                    buf: Some(Arc::clone(&buf)),
                    len: n,
                    released: released_tx.clone(),
                });
            }
            in_flight.push_back(buf);
        }
        drop(feeds);
        let mut parts = Vec::new();
        for d in digests {
            parts.push(d.join().expect("a digest thread does not panic"));
        }
        hasher.put_parts(parts);
        let written = writer.map(|w| w.join().expect("the writer thread does not panic"));
        read_result?;
        if let Some(w) = written {
            w.map_err(CopyError::Dest)?;
        }
        Ok(total)
    })
}

/// Runs `job` over `jobs` on `workers` threads, largest `size` first. Each worker owns
/// one buffer of [`CHUNK`] bytes. Once `stop(result)` is true for any result, no new job
/// starts. Results come back in the order of `jobs`; `None` marks a job never started.
pub(crate) fn run_jobs<T, R>(
    workers: usize,
    jobs: Vec<T>,
    size: impl Fn(&T) -> u64,
    job: impl Fn(T, &mut [u8]) -> R + Sync,
    stop: impl Fn(&R) -> bool + Sync,
) -> Vec<Option<R>>
where
    T: Send,
    R: Send,
{
    let count = jobs.len();
    let mut indexed: Vec<(usize, T)> = jobs.into_iter().enumerate().collect();
    indexed.sort_by_key(|(i, t)| (std::cmp::Reverse(size(t)), *i));
    let queue = Mutex::new(indexed.into_iter());
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..count).map(|_| None).collect());
    let cancelled = AtomicBool::new(false);
    let work = || {
        let mut buf = AlignedBuf::new(CHUNK);
        loop {
            if cancelled.load(Ordering::Relaxed) {
                return;
            }
            let next = queue.lock().expect("job queue lock").next();
            let Some((i, t)) = next else { return };
            let r = job(t, buf.bytes_mut());
            if stop(&r) {
                cancelled.store(true, Ordering::Relaxed);
            }
            results.lock().expect("results lock")[i] = Some(r);
        }
    };
    let workers = workers.clamp(1, count.max(1));
    if workers == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(work);
            }
        });
    }
    results.into_inner().expect("results lock")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithm::Algorithm;

    #[test]
    fn jobs_run_largest_first_and_results_keep_input_order() {
        let order = Mutex::new(Vec::new());
        let out = run_jobs(
            1,
            vec![1u64, 5, 3],
            |&s| s,
            |s, buf| {
                assert_eq!(buf.len(), CHUNK);
                order.lock().unwrap().push(s);
                s * 10
            },
            |_| false,
        );
        assert_eq!(out, vec![Some(10), Some(50), Some(30)]);
        assert_eq!(*order.lock().unwrap(), vec![5, 3, 1]);
    }

    /// Bytes that differ from chunk to chunk, so a chunk hashed twice or out of order shows.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4093) as u8).collect()
    }

    fn one_thread_digests(bytes: &[u8]) -> Vec<(Algorithm, Vec<u8>)> {
        let mut h = MultiHasher::new(&[Algorithm::Sha256, Algorithm::Sha512]);
        h.update(bytes);
        h.finish()
    }

    #[test]
    fn fanned_copy_gives_the_same_digests_and_bytes_as_one_thread() {
        for len in [0, 1, CHUNK - 1, CHUNK, 3 * FAN_DEPTH * CHUNK + 5] {
            let bytes = pattern(len);
            let mut h = MultiHasher::new(&[Algorithm::Sha256, Algorithm::Sha512]);
            let mut out = Vec::new();
            let seen = std::sync::atomic::AtomicU64::new(0);
            let progress = |n: u64| {
                seen.fetch_add(n, Ordering::Relaxed);
            };
            let n = copy_fanned(
                &mut &bytes[..],
                Some(&mut out as &mut (dyn Write + Send)),
                &mut h,
                Some(&progress),
            )
            .unwrap_or_else(|_| panic!("copy of {len} bytes"));
            assert_eq!(n, len as u64);
            assert_eq!(seen.load(Ordering::Relaxed), len as u64);
            assert!(out == bytes, "copied bytes differ for {len}");
            assert_eq!(h.finish(), one_thread_digests(&bytes), "digests for {len}");

            let mut h = MultiHasher::new(&[Algorithm::Sha256, Algorithm::Sha512]);
            let n = copy_fanned(&mut &bytes[..], None, &mut h, None)
                .unwrap_or_else(|_| panic!("hash of {len} bytes"));
            assert_eq!(n, len as u64);
            assert_eq!(h.finish(), one_thread_digests(&bytes), "digests for {len}");
        }
    }

    /// Accepts `room` bytes, then fails as a full disk does.
    struct FullDisk {
        room: usize,
    }

    impl Write for FullDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "no space left"));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Gives `good` bytes, then an error.
    struct FailingSource {
        good: usize,
    }

    impl Read for FailingSource {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.good == 0 {
                return Err(io::Error::other("device gone"));
            }
            let n = buf.len().min(self.good);
            self.good -= n;
            Ok(n)
        }
    }

    #[test]
    fn fanned_copy_stops_on_a_failing_write_or_read() {
        let bytes = pattern(4 * FAN_DEPTH * CHUNK);
        let mut h = MultiHasher::new(&[Algorithm::Sha256, Algorithm::Sha512]);
        let mut full = FullDisk { room: 3 * CHUNK };
        let r = copy_fanned(&mut &bytes[..], Some(&mut full), &mut h, None);
        match r {
            Err(CopyError::Dest(e)) => assert_eq!(e.kind(), io::ErrorKind::StorageFull),
            _ => panic!("a full disk must fail the copy"),
        }

        // The same for the copy that small files take.
        let mut h = MultiHasher::new(&[Algorithm::Sha256, Algorithm::Sha512]);
        let mut full = FullDisk { room: 3 * CHUNK };
        match copy_hashing_to_file(&mut &bytes[..], &mut full, &mut h, None) {
            Err(CopyError::Dest(e)) => assert_eq!(e.kind(), io::ErrorKind::StorageFull),
            _ => panic!("a full disk must fail the copy"),
        }
        let mut h = MultiHasher::new(&[Algorithm::Sha256, Algorithm::Sha512]);
        let mut out = Vec::new();
        let n = copy_hashing_to_file(&mut &bytes[..], &mut out, &mut h, None)
            .unwrap_or_else(|_| panic!("copy to memory"));
        assert_eq!(n, bytes.len() as u64);
        assert!(out == bytes);
        assert_eq!(h.finish(), one_thread_digests(&bytes));

        let mut h = MultiHasher::new(&[Algorithm::Sha256, Algorithm::Sha512]);
        let mut src = FailingSource {
            good: 2 * FAN_DEPTH * CHUNK + 3,
        };
        let mut out = Vec::new();
        let r = copy_fanned(&mut src, Some(&mut out), &mut h, None);
        match r {
            Err(CopyError::Source(e)) => assert_eq!(e.to_string(), "device gone"),
            _ => panic!("a failing source must fail the copy"),
        }
    }

    /// Panics at its second write, as a bug in a destination would.
    struct PanickingSink {
        writes: usize,
    }

    impl Write for PanickingSink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.writes += 1;
            assert!(self.writes < 2, "sink bug");
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_panicking_consumer_ends_the_copy_instead_of_hanging_it() {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let bytes = pattern(4 * FAN_DEPTH * CHUNK);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut h = MultiHasher::new(&[Algorithm::Sha256, Algorithm::Sha512]);
                let mut sink = PanickingSink { writes: 0 };
                let _ = copy_fanned(&mut &bytes[..], Some(&mut sink), &mut h, None);
            }));
            let _ = done_tx.send(r.is_err());
        });
        let panicked = done_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the copy ends");
        assert!(panicked, "the consumer's panic is reported");
    }

    #[test]
    fn a_stopping_result_prevents_later_jobs() {
        let out = run_jobs(1, vec![3u64, 2, 1], |&s| s, |s, _| s, |&r| r == 2);
        assert_eq!(out, vec![Some(3), Some(2), None]);
        let out = run_jobs(2, (0..100u64).collect(), |&s| s, |s, _| s, |_| false);
        assert!(out.iter().all(Option::is_some));
    }
}
