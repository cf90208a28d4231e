//! SHA-512 of many files at once, on a few engine threads that feed the four-lane kernel
//! of [`crate::kernel`].
//!
//! A [`Sha512Stream`] looks like any running digest: bytes go in with `update`, the digest
//! comes out of `finish`. Behind it, the bytes are copied into buffers of whole blocks
//! and sent to an engine thread, which keeps the state of every open stream and, each
//! step, compresses the next blocks of up to four streams that have data waiting, one
//! per lane. A stream with nothing waiting simply sits out the step, so a slow reader
//! never holds up the others. With one stream runnable the engine uses the sha2 crate's
//! single-stream code, which is faster for one message than a vector with one lane busy.
//!
//! Memory: each stream has at most three buffers of 1 MiB; the writer of a
//! stream waits for one to come back before it copies more, so a fast reader cannot
//! outrun the engine. Buffers are reused across streams through a small pool.
//!
//! The engines are started on first use and live as long as the process. They only
//! compute; a stream's `finish` fails only if an engine thread has died, which would be
//! a bug (it reports so rather than returning a wrong digest).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Mutex, OnceLock};

use crate::kernel::{BLOCK, IV, Kernel, LANES};

/// Bytes per buffer sent to an engine: a whole number of blocks.
const CAP: usize = 1 << 20;

/// Buffers one stream may have in flight.
const DEPTH: usize = 3;

/// Blocks compressed per lane in one step at most, so that an engine looks at new
/// messages often enough to keep every lane fed.
const STEP_BLOCKS: usize = 2048;

/// Free buffers kept for reuse.
const POOL: usize = 32;

enum Msg {
    Open {
        id: u64,
        free: SyncSender<Vec<u8>>,
    },
    /// Whole blocks of the stream, in order.
    Data {
        id: u64,
        buf: Vec<u8>,
    },
    /// The last bytes (any length), the message length in bytes, and where the digest
    /// goes.
    End {
        id: u64,
        buf: Vec<u8>,
        len: u128,
        reply: SyncSender<[u8; 64]>,
    },
    /// The stream was dropped unfinished (its file could not be read to the end): its
    /// state and buffers go.
    Abandon {
        id: u64,
    },
}

struct Engines {
    senders: Vec<Sender<Msg>>,
    next: AtomicUsize,
    ids: AtomicUsize,
    pool: Mutex<Vec<Vec<u8>>>,
}

/// The running engines, or `None` where the CPU has no vector kernel: then callers hash
/// one stream at a time on their own thread.
fn engines() -> Option<&'static Engines> {
    static ENGINES: OnceLock<Option<Engines>> = OnceLock::new();
    ENGINES
        .get_or_init(|| {
            let kernel = Kernel::detect()?;
            // One engine per two cores: a lane-full engine hashes faster than one core
            // reads, and the other core has SHA-256, reading and writing to do.
            let count = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .div_ceil(2)
                .clamp(1, 8);
            let mut senders = Vec::with_capacity(count);
            for i in 0..count {
                let (tx, rx) = channel();
                let spawned = std::thread::Builder::new()
                    .name(format!("sha512-lanes-{i}"))
                    .spawn(move || run(kernel, rx));
                if spawned.is_err() {
                    break;
                }
                senders.push(tx);
            }
            if senders.is_empty() {
                return None;
            }
            Some(Engines {
                senders,
                next: AtomicUsize::new(0),
                ids: AtomicUsize::new(0),
                pool: Mutex::new(Vec::new()),
            })
        })
        .as_ref()
}

/// Whether SHA-512 streams go to the lane engines on this machine.
pub fn available() -> bool {
    engines().is_some()
}

/// One message being hashed by an engine.
pub struct Sha512Stream {
    id: u64,
    engines: &'static Engines,
    engine: Sender<Msg>,
    buf: Vec<u8>,
    free: Receiver<Vec<u8>>,
    out: usize,
    len: u128,
    finished: bool,
}

impl Sha512Stream {
    /// Opens a stream on the next engine; `None` where there are no engines.
    pub fn open() -> Option<Self> {
        let engines = engines()?;
        let pick = engines.next.fetch_add(1, Ordering::Relaxed) % engines.senders.len();
        let engine = engines.senders[pick].clone();
        let id = engines.ids.fetch_add(1, Ordering::Relaxed) as u64;
        let (free_tx, free) = sync_channel(DEPTH);
        engine
            .send(Msg::Open { id, free: free_tx })
            .expect("the SHA-512 engine thread is running");
        Some(Self {
            id,
            engines,
            engine,
            buf: Vec::new(),
            free,
            out: 0,
            len: 0,
            finished: false,
        })
    }

    /// A buffer to copy into: a returned one, a pooled or new one while fewer than
    /// [`DEPTH`] are out, else wait for the engine to return one.
    fn take_buffer(&mut self) -> Vec<u8> {
        if let Ok(buf) = self.free.try_recv() {
            return buf;
        }
        if self.out < DEPTH {
            self.out += 1;
            let pooled = self.engines.pool.lock().ok().and_then(|mut p| p.pop());
            return pooled.unwrap_or_else(|| Vec::with_capacity(CAP));
        }
        self.free
            .recv()
            .expect("the SHA-512 engine thread returns every buffer")
    }

    pub fn update(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u128;
        while !bytes.is_empty() {
            if self.buf.capacity() == 0 {
                self.buf = self.take_buffer();
            }
            let n = (CAP - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.buf.len() == CAP {
                let buf = std::mem::take(&mut self.buf);
                self.engine
                    .send(Msg::Data { id: self.id, buf })
                    .expect("the SHA-512 engine thread is running");
            }
        }
    }

    pub fn finish(mut self) -> [u8; 64] {
        self.finished = true;
        let (reply, digest) = sync_channel(1);
        let buf = std::mem::take(&mut self.buf);
        self.engine
            .send(Msg::End {
                id: self.id,
                buf,
                len: self.len,
                reply,
            })
            .expect("the SHA-512 engine thread is running");
        let out = digest
            .recv()
            .expect("the SHA-512 engine thread answers every stream");
        // Every buffer has come back before the answer; keep them for the next stream.
        if let Ok(mut pool) = self.engines.pool.lock() {
            for buf in self.free.try_iter() {
                if pool.len() < POOL {
                    pool.push(buf);
                }
            }
        }
        out
    }
}

impl Drop for Sha512Stream {
    fn drop(&mut self) {
        if !self.finished {
            // The engine may be gone only if it panicked; nothing is left to free then.
            let _ = self.engine.send(Msg::Abandon { id: self.id });
        }
    }
}

/// The padded last block or two of a message whose unhashed rest is `rest`
/// (FIPS 180-4 §5.1.2), and how many bytes of the array they fill.
fn pad(rest: &[u8], len: u128) -> ([u8; 2 * BLOCK], usize) {
    debug_assert!(rest.len() < BLOCK);
    let mut out = [0u8; 2 * BLOCK];
    out[..rest.len()].copy_from_slice(rest);
    out[rest.len()] = 0x80;
    let total = if rest.len() + 1 + 16 <= BLOCK {
        BLOCK
    } else {
        2 * BLOCK
    };
    out[total - 16..total].copy_from_slice(&(len.wrapping_mul(8)).to_be_bytes());
    (out, total)
}

/// An open stream inside an engine.
struct Job {
    id: u64,
    state: [u64; 8],
    queue: VecDeque<Vec<u8>>,
    /// Bytes of the front buffer already compressed.
    offset: usize,
    free: SyncSender<Vec<u8>>,
    /// Set once the stream has ended: the padded last blocks still to compress (`None`
    /// once they are) and where the digest goes.
    tail: Option<(Option<Last>, SyncSender<[u8; 64]>)>,
}

/// The padded last block or two of a stream.
struct Last {
    blocks: [u8; 2 * BLOCK],
    /// Bytes of `blocks` compressed so far.
    done: usize,
    /// Bytes of `blocks` in use: one block or two.
    end: usize,
}

impl Job {
    /// The next whole blocks ready to compress, if any.
    fn ready(&self) -> Option<&[u8]> {
        if let Some(front) = self.queue.front() {
            return Some(&front[self.offset..]);
        }
        match &self.tail {
            Some((Some(last), _)) => Some(&last.blocks[last.done..last.end]),
            _ => None,
        }
    }

    /// Marks `bytes` of [`Job::ready`] as compressed; true once the digest is sent.
    fn advance(&mut self, bytes: usize) -> bool {
        if let Some(front) = self.queue.front() {
            self.offset += bytes;
            if self.offset == front.len() {
                let mut buf = self.queue.pop_front().expect("front exists");
                self.offset = 0;
                buf.clear();
                // The stream may be gone (its owner stopped early): then the buffer
                // simply drops.
                let _ = self.free.try_send(buf);
            }
            return false;
        }
        if let Some((tail, reply)) = &mut self.tail
            && let Some(last) = tail
        {
            last.done += bytes;
            if last.done < last.end {
                return false;
            }
            *tail = None;
            let mut digest = [0u8; 64];
            for (out, word) in digest.chunks_exact_mut(8).zip(self.state) {
                out.copy_from_slice(&word.to_be_bytes());
            }
            let _ = reply.try_send(digest);
            return true;
        }
        false
    }
}

/// An engine: takes messages, and compresses whatever is ready, four streams at a time.
fn run(kernel: Kernel, rx: Receiver<Msg>) {
    let mut jobs: Vec<Job> = Vec::new();
    loop {
        let runnable = jobs.iter().any(|j| j.ready().is_some());
        // Wait only when there is nothing to compress.
        if !runnable {
            match rx.recv() {
                Ok(msg) => take(&mut jobs, msg),
                Err(_) => return,
            }
        }
        while let Ok(msg) = rx.try_recv() {
            take(&mut jobs, msg);
        }
        step(kernel, &mut jobs);
    }
}

fn take(jobs: &mut Vec<Job>, msg: Msg) {
    match msg {
        Msg::Open { id, free } => jobs.push(Job {
            id,
            state: IV,
            queue: VecDeque::new(),
            offset: 0,
            free,
            tail: None,
        }),
        Msg::Data { id, buf } => {
            if let Some(job) = jobs.iter_mut().find(|j| j.id == id) {
                debug_assert!(buf.len().is_multiple_of(BLOCK) && !buf.is_empty());
                job.queue.push_back(buf);
            }
        }
        Msg::End {
            id,
            mut buf,
            len,
            reply,
        } => {
            if let Some(job) = jobs.iter_mut().find(|j| j.id == id) {
                let whole = buf.len() - buf.len() % BLOCK;
                let padded = pad(&buf[whole..], len);
                buf.truncate(whole);
                if buf.is_empty() {
                    let _ = job.free.try_send(buf);
                } else {
                    job.queue.push_back(buf);
                }
                let (blocks, end) = padded;
                job.tail = Some((
                    Some(Last {
                        blocks,
                        done: 0,
                        end,
                    }),
                    reply,
                ));
            }
        }
        Msg::Abandon { id } => jobs.retain(|j| j.id != id),
    }
}

/// One round of work: the oldest streams with blocks ready, up to four, advance together.
fn step(kernel: Kernel, jobs: &mut Vec<Job>) {
    let picked: Vec<usize> = (0..jobs.len())
        .filter(|&i| jobs[i].ready().is_some())
        .take(LANES)
        .collect();
    if picked.is_empty() {
        return;
    }
    let mut done = Vec::new();
    if picked.len() == 1 {
        let job = &mut jobs[picked[0]];
        let mut state = job.state;
        let ready = job.ready().expect("picked because ready");
        let n = ready.len().min(STEP_BLOCKS * BLOCK * LANES);
        let (blocks, _) = ready[..n].as_chunks::<BLOCK>();
        sha2::block_api::compress512(&mut state, blocks);
        job.state = state;
        if job.advance(n) {
            done.push(picked[0]);
        }
    } else {
        let blocks = picked
            .iter()
            .map(|&i| jobs[i].ready().map_or(0, |r| r.len() / BLOCK))
            .min()
            .unwrap_or(0)
            .min(STEP_BLOCKS);
        let mut states = [[0u64; 8]; LANES];
        for (l, &i) in picked.iter().enumerate() {
            states[l] = jobs[i].state;
        }
        {
            let input: [Option<&[u8]>; LANES] = core::array::from_fn(|l| {
                picked
                    .get(l)
                    .and_then(|&i| jobs[i].ready())
                    .map(|r| &r[..blocks * BLOCK])
            });
            let [s0, s1, s2, s3] = &mut states;
            kernel.compress([s0, s1, s2, s3], input, blocks);
        }
        for (l, &i) in picked.iter().enumerate() {
            jobs[i].state = states[l];
            if jobs[i].advance(blocks * BLOCK) {
                done.push(i);
            }
        }
    }
    // Finished streams leave; the rest keep their order (oldest first).
    done.sort_unstable();
    for i in done.into_iter().rev() {
        jobs.remove(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha512};

    fn sample(len: usize, seed: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i.wrapping_mul(131) ^ seed.wrapping_mul(7) ^ (i >> 9)) as u8)
            .collect()
    }

    #[test]
    fn padding_fills_one_or_two_blocks() {
        for (rest, blocks) in [(0, 1), (111, 1), (112, 2), (127, 2)] {
            let (_, n) = pad(&vec![1u8; rest], rest as u128);
            assert_eq!(n, blocks * BLOCK, "{rest} bytes left");
        }
    }

    #[test]
    fn an_abandoned_stream_leaves_the_engine_and_others_finish() {
        let Some(mut left) = Sha512Stream::open() else {
            eprintln!("skipped: no vector kernel on this CPU, streams are not used");
            return;
        };
        // Three buffers in flight, then dropped unfinished: as when a file cannot be
        // read to its end.
        left.update(&sample(3 * CAP, 1));
        drop(left);
        let data = sample(2 * CAP + 5, 2);
        let mut kept = Sha512Stream::open().expect("engines exist");
        kept.update(&data);
        assert_eq!(kept.finish()[..], Sha512::digest(&data)[..]);
    }

    #[test]
    fn streams_of_every_awkward_length_match_sha2() {
        let Some(_) = Sha512Stream::open() else {
            eprintln!("skipped: no vector kernel on this CPU, streams are not used");
            return;
        };
        // Lengths around block, buffer and padding boundaries, fed in uneven pieces,
        // many streams open at once so that lanes go busy and idle.
        let lengths = [
            0,
            1,
            111,
            112,
            127,
            128,
            129,
            CAP - 1,
            CAP,
            CAP + 1,
            3 * CAP + 77,
        ];
        std::thread::scope(|s| {
            for (k, &len) in lengths.iter().enumerate() {
                s.spawn(move || {
                    let data = sample(len, k);
                    let mut stream = Sha512Stream::open().expect("engines exist");
                    let mut at = 0;
                    let mut piece = 1 + k * 37;
                    while at < data.len() {
                        let n = piece.min(data.len() - at);
                        stream.update(&data[at..at + n]);
                        at += n;
                        piece = piece * 3 % 300_007 + 1;
                    }
                    let got = stream.finish();
                    assert_eq!(got[..], Sha512::digest(&data)[..], "length {len}");
                });
            }
        });
    }
}
