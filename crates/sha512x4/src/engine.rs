//! SHA-512 of many files at once, on a few engine threads that feed the four-lane kernel
//! of [`crate::kernel`].
//!
//! A [`Sha512Stream`] looks like any running digest: bytes go in with `update`, the digest
//! comes out of `finish`. A message shorter than one buffer (1 MiB) is hashed on the
//! caller's thread at `finish`. A longer one is copied into buffers of whole blocks that
//! go to the least busy engine thread, which keeps the state of every open stream and,
//! each step, compresses the next blocks of up to four streams that have data waiting,
//! one per lane. A stream with nothing waiting sits out the step, so a reader waiting for
//! the disk does not hold up the others; with more than four ready, the choice rotates.
//! With one stream ready the engine uses the sha2 crate's single-stream code, which is
//! faster for one message than a vector with one lane busy.
//!
//! Memory: each stream has at most three buffers of 1 MiB; the writer of a stream waits
//! for one to come back before it copies more, so a fast reader cannot outrun the engine.
//! Buffers are reused across streams through a small pool.
//!
//! The engines are started on first use and live as long as the process. They only
//! compute and have no input-dependent failure; should one die all the same (a bug), the
//! streams using it panic with a message saying so rather than return a wrong digest.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha512};

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
    /// Streams open on each engine; a new stream goes to the least busy.
    open: Vec<AtomicUsize>,
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
                open: senders.iter().map(|_| AtomicUsize::new(0)).collect(),
                senders,
                ids: AtomicUsize::new(0),
                pool: Mutex::new(Vec::new()),
            })
        })
        .as_ref()
}

/// A running SHA-512 digest whose blocks are compressed on an engine thread.
///
/// The first MiB stays with the stream: a message that ends before it fills is hashed on
/// the caller's thread (a round trip to an engine would cost more than it saves), so
/// small files and tag files never reach an engine.
pub struct Sha512Stream {
    engines: &'static Engines,
    /// The engine's side of the stream, once its first full buffer has been sent.
    link: Option<Link>,
    buf: Vec<u8>,
    /// Buffers this stream has taken (at most [`DEPTH`]).
    out: usize,
    len: u128,
}

/// A stream's connection to its engine.
struct Link {
    id: u64,
    engine: usize,
    sender: Sender<Msg>,
    free: Receiver<Vec<u8>>,
    engines: &'static Engines,
    finished: bool,
}

impl Drop for Link {
    fn drop(&mut self) {
        if !self.finished {
            // Dropped unfinished: the engine forgets the stream. It can be gone only if
            // it panicked; nothing is left to free then.
            let _ = self.sender.send(Msg::Abandon { id: self.id });
        }
        self.engines.open[self.engine].fetch_sub(1, Ordering::Relaxed);
    }
}

impl Sha512Stream {
    /// A new stream; `None` where there are no engines (no vector kernel on this CPU).
    pub fn open() -> Option<Self> {
        Some(Self {
            engines: engines()?,
            link: None,
            buf: Vec::new(),
            out: 0,
            len: 0,
        })
    }

    /// The engine side, opened on the least busy engine when first needed.
    fn link(&mut self) -> &Link {
        let engines = self.engines;
        self.link.get_or_insert_with(|| {
            let engine = (0..engines.senders.len())
                .min_by_key(|&i| engines.open[i].load(Ordering::Relaxed))
                .unwrap_or(0);
            engines.open[engine].fetch_add(1, Ordering::Relaxed);
            let id = engines.ids.fetch_add(1, Ordering::Relaxed) as u64;
            let (free_tx, free) = sync_channel(DEPTH);
            let sender = engines.senders[engine].clone();
            sender
                .send(Msg::Open { id, free: free_tx })
                .expect("the SHA-512 engine thread is running");
            Link {
                id,
                engine,
                sender,
                free,
                engines,
                finished: false,
            }
        })
    }

    /// A buffer to copy into: a returned one, a pooled or new one while fewer than
    /// [`DEPTH`] are out, else wait for the engine to return one.
    fn take_buffer(&mut self) -> Vec<u8> {
        if let Some(link) = &self.link {
            if let Ok(buf) = link.free.try_recv() {
                return buf;
            }
            if self.out >= DEPTH {
                return link
                    .free
                    .recv()
                    .expect("the SHA-512 engine thread returns every buffer");
            }
        }
        self.out += 1;
        let pooled = self.engines.pool.lock().ok().and_then(|mut p| p.pop());
        pooled.unwrap_or_else(|| Vec::with_capacity(CAP))
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
                let link = self.link();
                link.sender
                    .send(Msg::Data { id: link.id, buf })
                    .expect("the SHA-512 engine thread is running");
            }
        }
    }

    pub fn finish(mut self) -> [u8; 64] {
        let buf = std::mem::take(&mut self.buf);
        let Some(mut link) = self.link.take() else {
            // Less than one buffer in all: hashed here.
            let digest: [u8; 64] = Sha512::digest(&buf).into();
            self.keep(buf);
            return digest;
        };
        link.finished = true;
        let (reply, digest) = sync_channel(1);
        link.sender
            .send(Msg::End {
                id: link.id,
                buf,
                len: self.len,
                reply,
            })
            .expect("the SHA-512 engine thread is running");
        let out = digest
            .recv()
            .expect("the SHA-512 engine thread answers every stream");
        // Every buffer has come back before the answer; keep them for the next stream.
        for buf in link.free.try_iter() {
            self.keep(buf);
        }
        out
    }

    /// Puts a full-sized buffer in the pool for the next stream.
    fn keep(&self, mut buf: Vec<u8>) {
        if buf.capacity() < CAP {
            return;
        }
        buf.clear();
        if let Ok(mut pool) = self.engines.pool.lock()
            && pool.len() < POOL
        {
            pool.push(buf);
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
    let mut turn = 0usize;
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
        step(kernel, &mut jobs, turn);
        turn = turn.wrapping_add(1);
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
                    // A buffer the stream never filled (it ended on a buffer boundary)
                    // has no capacity worth returning.
                    if buf.capacity() >= CAP {
                        let _ = job.free.try_send(buf);
                    }
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

/// One round of work: up to four streams with blocks ready advance together. The search
/// starts one stream further on each turn, so that with more than four ready none waits
/// for long.
fn step(kernel: Kernel, jobs: &mut Vec<Job>, turn: usize) {
    let count = jobs.len();
    let mut picked: Vec<usize> = (0..count)
        .map(|k| (turn + k) % count)
        .filter(|&i| jobs[i].ready().is_some())
        .take(LANES)
        .collect();
    picked.sort_unstable();
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
    // Finished streams leave; the rest keep their order.
    done.sort_unstable();
    for i in done.into_iter().rev() {
        jobs.remove(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn streams_one_after_another_reuse_buffers_and_stay_right() {
        if Sha512Stream::open().is_none() {
            eprintln!("skipped: no vector kernel on this CPU, streams are not used");
            return;
        }
        // Empty, exactly one buffer, short (never reaches an engine), exactly two
        // buffers, then long: each reuses what the one before left in the pool.
        for (k, len) in [0, CAP, 1000, 2 * CAP, 5 * CAP + 3, 0, CAP]
            .into_iter()
            .enumerate()
        {
            let data = sample(len, k);
            let mut stream = Sha512Stream::open().expect("engines exist");
            stream.update(&data);
            assert_eq!(stream.link.is_some(), len >= CAP, "length {len}");
            assert_eq!(
                stream.finish()[..],
                Sha512::digest(&data)[..],
                "length {len}"
            );
            let engines = engines().expect("engines exist");
            let pool = engines.pool.lock().unwrap();
            assert!(
                pool.iter().all(|b| b.capacity() >= CAP && b.is_empty()),
                "only whole, empty buffers are pooled"
            );
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
