//! Streaming files through digests, and running per-file jobs on a few worker threads.
//!
//! Parallelism is per file: each worker reads one file at a time in large chunks and
//! feeds every chunk to all the digests it needs before reading the next, so a file is
//! read once and memory per worker is one buffer. Jobs are taken largest first, so two
//! large files do not end up on the same worker while the other one idles.

use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;

use crate::algorithm::MultiHasher;

/// Bytes read at a time by each worker.
pub(crate) const CHUNK: usize = 1 << 20;

/// Worker threads used by default: the target machines have two cores.
pub const DEFAULT_WORKERS: usize = 2;

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
/// of waiting. Memory is `WRITE_DEPTH + 1` chunks.
pub(crate) fn copy_hashing_to_file(
    src: &mut dyn Read,
    dst: &mut (dyn Write + Send),
    hasher: &mut MultiHasher,
    progress: Option<&(dyn Fn(u64) + Send + Sync)>,
) -> Result<u64, CopyError> {
    std::thread::scope(|s| {
        let (to_write, write_rx) = sync_channel::<(Vec<u8>, usize)>(WRITE_DEPTH);
        let (free_tx, free_rx) = sync_channel::<Vec<u8>>(WRITE_DEPTH + 1);
        for _ in 0..=WRITE_DEPTH {
            free_tx.send(vec![0u8; CHUNK]).expect("receiver is alive");
        }
        let writer = s.spawn(move || -> io::Result<()> {
            for (buf, n) in write_rx {
                dst.write_all(&buf[..n])?;
                // The reader may have stopped; then the buffer is simply dropped.
                let _ = free_tx.send(buf);
            }
            Ok(())
        });
        let mut total = 0u64;
        let mut read_result = Ok(());
        // Ends when the writer has failed and dropped its side.
        while let Ok(mut buf) = free_rx.recv() {
            let n = match src.read(&mut buf) {
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
            hasher.update(&buf[..n]);
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
        let mut buf = vec![0u8; CHUNK];
        loop {
            if cancelled.load(Ordering::Relaxed) {
                return;
            }
            let next = queue.lock().expect("job queue lock").next();
            let Some((i, t)) = next else { return };
            let r = job(t, &mut buf);
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

    #[test]
    fn a_stopping_result_prevents_later_jobs() {
        let out = run_jobs(1, vec![3u64, 2, 1], |&s| s, |s, _| s, |&r| r == 2);
        assert_eq!(out, vec![Some(3), Some(2), None]);
        let out = run_jobs(2, (0..100u64).collect(), |&s| s, |s, _| s, |_| false);
        assert!(out.iter().all(Option::is_some));
    }
}
