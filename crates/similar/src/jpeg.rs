//! The DC-only JPEG path: a 1/8-scale luma image straight from the entropy-coded data.
//!
//! The mean of an 8×8 block is its DC coefficient times the DC quantiser, divided by 8,
//! plus 128, so a perceptual hash needs only the DC coefficient of each luma block. This
//! module Huffman-decodes every block (bits cannot be skipped without decoding them) but
//! does no work at all for AC coefficients: no dequantisation, no zig-zag store, no IDCT,
//! and chroma blocks are only walked over. AC symbols are skipped several at a time with
//! a lookahead table whose entries say how many bits a run of complete symbols (code plus
//! extra bits) takes and how far it moves through the block.
//!
//! Scope: 8-bit Huffman JPEGs, baseline or extended sequential (SOF0/SOF1) and
//! progressive (SOF2, where only the DC scans are read and AC scans are stepped over),
//! one component (grey) or three (YCbCr), any sampling factors, restart intervals.
//! Anything else (arithmetic coding, 12-bit, lossless, CMYK, Adobe RGB) is reported as
//! [`JpegError::Unsupported`] so that the caller can use the general decoder.
//!
//! Every loop is bounded by the image dimensions (checked against a pixel limit before
//! anything is allocated) and by the input length; corrupt input gives an error, never a
//! panic.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::exif;

mod lanes;

/// Largest image (in pixels) the DC path accepts: 2^28, about 268 megapixels. Its 1/8
/// image is then 4 Mi samples (16 MiB of `f32`).
pub const MAX_PIXELS: u64 = 1 << 28;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JpegError {
    /// Valid, or at least not obviously broken, but not a kind this path reads.
    Unsupported(&'static str),
    /// Broken data; the general decoder will not do better.
    Corrupt(&'static str),
    /// Dimensions over [`MAX_PIXELS`].
    TooLarge { width: u32, height: u32 },
}

/// A luma image at reduced scale: each sample is the mean of a `cell_w`×`cell_h` pixel
/// area of a `width`×`height` picture (in stored orientation).
#[derive(Debug, Clone)]
pub(crate) struct LumaPlane {
    /// Samples per row.
    pub cols: usize,
    pub rows: usize,
    pub samples: Vec<f32>,
    /// Pixels covered by one sample, horizontally and vertically.
    pub cell_w: f64,
    pub cell_h: f64,
    /// Picture size in pixels (the samples may cover a little more: padding blocks).
    pub width: u32,
    pub height: u32,
    /// EXIF orientation (1..=8) found in an APP1 segment, 1 when absent.
    pub orientation: u8,
}

// ---------------------------------------------------------------------------------------
// Huffman tables

/// Lookahead width of the AC skipping table and of the DC table.
const AC_LOOKAHEAD: u32 = 12;
const DC_LOOKAHEAD: u32 = 9;

/// A canonical Huffman code as sent in a DHT segment, with the slow (bit-by-bit length)
/// decoding arrays.
#[derive(Clone, PartialEq, Eq)]
struct Canonical {
    /// For each length 1..=16: largest code of that length, or -1 when none.
    maxcode: [i32; 17],
    /// For each length: index into `values` of the first code of that length, minus that
    /// code (so `values[(valoff[l] + code) as usize]`).
    valoff: [i32; 17],
    values: Vec<u8>,
    counts: [u8; 16],
}

impl Canonical {
    fn new(counts: &[u8; 16], values: &[u8]) -> Result<Self, JpegError> {
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        if total != values.len() || total == 0 || total > 256 {
            return Err(JpegError::Corrupt("bad Huffman table"));
        }
        let mut maxcode = [-1i32; 17];
        let mut valoff = [0i32; 17];
        let mut code: i32 = 0;
        let mut k: i32 = 0;
        for len in 1..=16usize {
            let n = counts[len - 1] as i32;
            if n > 0 {
                valoff[len] = k - code;
                code += n;
                k += n;
                maxcode[len] = code - 1;
                if code > (1 << len) {
                    return Err(JpegError::Corrupt("over-subscribed Huffman table"));
                }
            }
            code <<= 1;
        }
        Ok(Self {
            maxcode,
            valoff,
            values: values.to_vec(),
            counts: *counts,
        })
    }

    /// One-step lookup table over `bits`-bit windows: code length (low byte) and symbol
    /// (high byte) of every code no longer than `bits`; 0 elsewhere.
    fn single_table(&self, bits: u32) -> Vec<u16> {
        let mut t = vec![0u16; 1 << bits];
        for len in 1..=bits as usize {
            let n = self.counts[len - 1] as i32;
            let first = self.maxcode[len] - n + 1;
            for code in first..=self.maxcode[len] {
                let Some(&sym) = self.values.get((self.valoff[len] + code) as usize) else {
                    continue;
                };
                let shift = bits as usize - len;
                let lo = (code as usize) << shift;
                for e in &mut t[lo..lo + (1 << shift)] {
                    *e = (len as u16) | (u16::from(sym) << 8);
                }
            }
        }
        t
    }

    /// Decodes one symbol from the top bits of `bits16` (a 16-bit window, MSB first).
    /// Returns (code length, symbol), or None for a code that is not in the table.
    #[inline]
    fn decode(&self, bits16: u32) -> Option<(u32, u8)> {
        for len in 1..=16u32 {
            let code = (bits16 >> (16 - len)) as i32;
            if code <= self.maxcode[len as usize] {
                let idx = self.valoff[len as usize] + code;
                return self.values.get(idx as usize).map(|&v| (len, v));
            }
        }
        None
    }
}

/// DC table: the lookahead entry holds code length (low byte) and magnitude category
/// (high byte); 0 means "code longer than the lookahead".
#[derive(Clone)]
struct DcTable {
    fast: Box<[u16; 1 << DC_LOOKAHEAD]>,
    slow: Canonical,
}

impl DcTable {
    fn new(c: Canonical) -> Self {
        Self {
            fast: c
                .single_table(DC_LOOKAHEAD)
                .into_boxed_slice()
                .try_into()
                .expect("table has 2^DC_LOOKAHEAD entries"),
            slow: c,
        }
    }
}

/// AC skipping table. Entry layout (u16):
/// bits 0..6 total bits of the run of whole symbols (0: code longer than the lookahead,
/// use the slow path; kept alone in the low six bits so that a shift by the entry needs
/// no masking), bits 6..13 coefficient advance of the run, plus 64 when the run ends
/// with EOB, and 127 for slow-path entries (so that one comparison, `k + advance < 64`,
/// keeps the common case in the loop) and for an EOB run that passes the 64th
/// coefficient before its EOB (taken a symbol at a time), bit 13 run ends with EOB.
///
/// A run is one or more whole symbols inside the window, or a single symbol whose code
/// is inside the window and whose magnitude bits run past it (at most
/// [`MAX_STEP_BITS`] bits in all: the loop's refills leave room for two such steps).
#[derive(Clone)]
struct AcTable {
    fast: Box<[u16; 1 << AC_LOOKAHEAD]>,
    /// One symbol per lookup (code length, symbol), for runs that cross the block end.
    single: Box<[u16; 1 << AC_LOOKAHEAD]>,
    slow: Canonical,
}

/// The most bits one table step may use: a 12-bit code and the longest AC magnitude of
/// 8-bit JPEG (10 bits).
const MAX_STEP_BITS: u32 = AC_LOOKAHEAD + 10;

const AC_ADV: u32 = 6;
const AC_EOB: u32 = 1 << 13;
const AC_SLOW: u32 = 127 << AC_ADV;

/// A run of whole AC symbols read from the `AC_LOOKAHEAD`-bit window `p`, starting at bit
/// `start`: bits used, coefficient advance, whether it ends with EOB, and the first
/// symbol's (bits, advance, is EOB).
struct Run {
    used: u32,
    adv: u32,
    eob: bool,
    first: Option<(u32, u32, bool)>,
}

fn ac_run(single: &[u16], p: u32, start: u32) -> Run {
    ac_run_in(single, p, start, AC_LOOKAHEAD)
}

/// [`ac_run`] over a `window`-bit window (`single` built for that width).
fn ac_run_in(single: &[u16], p: u32, start: u32, window: u32) -> Run {
    let mask = (1u32 << window) - 1;
    let mut r = Run {
        used: start,
        adv: 0,
        eob: false,
        first: None,
    };
    while r.used < window {
        // The remaining bits, left-aligned, zeros after them.
        let s = single[((p << r.used) & mask) as usize];
        let len = u32::from(s & 0xFF);
        let sym = (s >> 8) as u8;
        let size = u32::from(sym & 15);
        let run = u32::from(sym >> 4);
        if len == 0 || r.used + len + size > window {
            break;
        }
        let (step, is_eob) = match (run, size) {
            (0, 0) => (0, true),
            (15, 0) => (16, false),
            (_, 0) => break, // not a valid symbol: let the slow path report it
            (n, _) => (n + 1, false),
        };
        r.used += len + size;
        r.adv += step;
        if r.first.is_none() {
            r.first = Some((len + size, step, is_eob));
        }
        if is_eob {
            r.eob = true;
            break;
        }
        if r.adv >= 64 {
            break;
        }
    }
    r
}

impl AcTable {
    fn new(c: Canonical) -> Self {
        let single = c.single_table(AC_LOOKAHEAD);
        let mut fast = Box::new([0u16; 1 << AC_LOOKAHEAD]);
        for (p, e) in fast.iter_mut().enumerate() {
            let r = ac_run(&single, p as u32, 0);
            *e = AC_SLOW as u16;
            if r.first.is_some() {
                // An EOB run that reaches the 64th coefficient before its EOB (63 from
                // the first AC coefficient) is marked so that no block position takes it
                // whole: the block ends before that EOB, which starts the next block.
                let adv = match (r.eob, r.adv) {
                    (true, 63..) => 127,
                    (true, a) => a + 64,
                    (false, a) => a.min(126),
                };
                *e = (r.used | (adv << AC_ADV) | if r.eob { AC_EOB } else { 0 }) as u16;
            } else {
                // A code inside the window whose magnitude bits run past it.
                let s = single[p];
                let len = u32::from(s & 0xFF);
                let (run, size) = (u32::from(s >> 12), u32::from((s >> 8) & 15));
                if len != 0 && size != 0 && len + size <= MAX_STEP_BITS {
                    *e = ((len + size) | ((run + 1) << AC_ADV)) as u16;
                }
            }
        }
        Self {
            fast,
            single: single
                .into_boxed_slice()
                .try_into()
                .expect("table has 2^AC_LOOKAHEAD entries"),
            slow: c,
        }
    }
}

/// The start of a block in one lookup: the DC code and magnitude bits, and the run of
/// AC symbols that follows them in the same window, or, when the DC's magnitude bits run
/// past the window, the DC alone. Entry layout (u32): bits 0..6 total bits (0: the DC
/// code is longer than the window, decode it on its own), bits 6..13 AC advance (plus 64
/// when the run ends with EOB), bits 13..17 DC code length, bits 17..21 DC magnitude size.
struct BlockStart {
    fast: Box<[u32; 1 << AC_LOOKAHEAD]>,
}

impl BlockStart {
    fn new(dc: &Canonical, ac: &Canonical) -> Self {
        let dc_single = dc.single_table(AC_LOOKAHEAD);
        let ac_single = ac.single_table(AC_LOOKAHEAD);
        let mut fast = Box::new([0u32; 1 << AC_LOOKAHEAD]);
        for (p, e) in fast.iter_mut().enumerate() {
            let s = dc_single[p];
            let len = u32::from(s & 0xFF);
            let size = u32::from(s >> 8);
            if len == 0 || size > 11 {
                continue;
            }
            if len + size > AC_LOOKAHEAD {
                // The magnitude bits run past the window: the DC alone.
                *e = (len + size) | (len << 13) | (size << 17);
                continue;
            }
            let r = ac_run(&ac_single, p as u32, len + size);
            // Keep the AC part only if it stays inside the block.
            let (used, adv) = if r.eob {
                (r.used, r.adv + 64)
            } else if r.adv < 62 {
                (r.used, r.adv)
            } else {
                (len + size, 0)
            };
            if adv >= 64 && adv - 64 >= 63 {
                *e = (len + size) | (len << 13) | (size << 17);
            } else {
                *e = used | (adv << AC_ADV) | (len << 13) | (size << 17);
            }
        }
        Self { fast }
    }
}

/// The lookup tables of the last few Huffman codes seen on this thread. Building them
/// costs about 3% of decoding a 12-megapixel photo, and a camera or encoder mostly uses
/// the same codes from file to file.
#[derive(Default)]
struct TableCache {
    ac: Vec<(Canonical, Rc<AcTable>)>,
    start: Vec<((Canonical, Canonical), Rc<BlockStart>)>,
    lanes: Vec<((Canonical, Canonical), Rc<lanes::LaneTable>)>,
    /// Code pairs seen once, without a stretch-walk table yet.
    lanes_seen: Vec<(Canonical, Canonical)>,
}

/// How many codes (and code pairs) the cache keeps.
const CACHED_CODES: usize = 4;

/// How many code pairs have a stretch-walk table kept (384 KiB each): those of four
/// cameras or encoders taking turns.
const CACHED_LANE_CODES: usize = 8;

thread_local! {
    static TABLES: RefCell<TableCache> = RefCell::new(TableCache::default());
    static LANE_SCRATCH: RefCell<lanes::Scratch> = RefCell::new(lanes::Scratch::default());
}

/// The stretch-walk table of (`dc`, `ac`) from the cache, or built when this code pair
/// is seen for the second time; `None` the first time. Building it costs about as much
/// as walking a few 12-megapixel scans saves, so only codes that come back (a camera's,
/// an encoder's) get one; a file with codes of its own is walked the ordinary way.
fn cached_lane_table(dc: &Canonical, ac: &Canonical) -> Option<Rc<lanes::LaneTable>> {
    TABLES.with(|cell| {
        let mut cache = cell.try_borrow_mut().ok()?;
        if let Some((_, t)) = cache.lanes.iter().find(|((d, a), _)| d == dc && a == ac) {
            return Some(Rc::clone(t));
        }
        let key = (dc.clone(), ac.clone());
        let Some(seen) = cache.lanes_seen.iter().position(|k| *k == key) else {
            if cache.lanes_seen.len() == 2 * CACHED_LANE_CODES {
                cache.lanes_seen.remove(0);
            }
            cache.lanes_seen.push(key);
            return None;
        };
        cache.lanes_seen.remove(seen);
        let t = Rc::new(lanes::LaneTable::new(dc, ac));
        if cache.lanes.len() == CACHED_LANE_CODES {
            cache.lanes.remove(0);
        }
        cache.lanes.push((key, Rc::clone(&t)));
        Some(t)
    })
}

/// The AC skipping table of `ac` and the block-start table of (`dc`, `ac`), from the
/// cache or built.
fn cached_tables(dc: &Canonical, ac: &Canonical) -> (Rc<AcTable>, Rc<BlockStart>) {
    TABLES.with(|cell| {
        let Ok(mut cache) = cell.try_borrow_mut() else {
            // Not expected (no re-entry): build without the cache.
            return (
                Rc::new(AcTable::new(ac.clone())),
                Rc::new(BlockStart::new(dc, ac)),
            );
        };
        let acs = match cache.ac.iter().find(|(k, _)| k == ac) {
            Some((_, t)) => Rc::clone(t),
            None => {
                let t = Rc::new(AcTable::new(ac.clone()));
                if cache.ac.len() == CACHED_CODES {
                    cache.ac.remove(0);
                }
                cache.ac.push((ac.clone(), Rc::clone(&t)));
                t
            }
        };
        let start = match cache.start.iter().find(|((d, a), _)| d == dc && a == ac) {
            Some((_, t)) => Rc::clone(t),
            None => {
                let t = Rc::new(BlockStart::new(dc, ac));
                if cache.start.len() == CACHED_CODES {
                    cache.start.remove(0);
                }
                cache.start.push(((dc.clone(), ac.clone()), Rc::clone(&t)));
                t
            }
        };
        (acs, start)
    })
}

// ---------------------------------------------------------------------------------------
// Bit reader

/// The entropy-coded data of one scan with byte stuffing undone (FF 00 -> FF), fill bytes
/// dropped and restart markers taken out: the restart intervals back to back, then zero
/// padding. Undoing the stuffing once, in a pass that copies whole words, lets the bit
/// reader refill without looking for 0xFF bytes.
struct Entropy {
    /// The intervals, then [`PAD`] zero bytes.
    bytes: Vec<u8>,
    /// Offset in `bytes` at which each restart interval begins; the first is 0.
    starts: Vec<usize>,
    /// Length without the padding.
    len: usize,
    /// Where the marker that ends the scan begins in the file (its length if none).
    end: usize,
}

const PAD: usize = 8;

/// The largest buffer kept for the next scan (a photo's scan is a few megabytes).
const MAX_SPARE_ENTROPY: usize = 64 << 20;

thread_local! {
    /// The last scan's buffer, given back when its [`Entropy`] is dropped: a fresh one
    /// for every photo would be fresh pages from the kernel, zeroed, every time.
    static SPARE_ENTROPY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl Entropy {
    /// Reads from `start` up to the marker that ends the scan (any marker but RSTn) or the
    /// end of the data. Restart markers in a scan without a restart interval are refused:
    /// reading on across them would decode the next interval as if it continued this one.
    fn read(data: &[u8], start: usize, restart_interval: usize) -> Result<Self, JpegError> {
        let mut bytes = SPARE_ENTROPY
            .with(|s| s.try_borrow_mut().map(|mut s| std::mem::take(&mut *s)))
            .unwrap_or_default();
        bytes.clear();
        bytes.reserve(data.len().saturating_sub(start) + PAD);
        let mut starts = vec![0];
        let mut p = start.min(data.len());
        loop {
            // The run up to the next 0xFF (found with vector instructions) is copied in
            // one go.
            let q = memchr::memchr(0xFF, &data[p..]).map_or(data.len(), |i| p + i);
            bytes.extend_from_slice(&data[p..q]);
            p = q;
            if p >= data.len() {
                break;
            }
            match data.get(p + 1) {
                Some(0) => {
                    bytes.push(0xFF);
                    p += 2;
                }
                Some(0xFF) => p += 1,
                Some(0xD0..=0xD7) => {
                    starts.push(bytes.len());
                    p += 2;
                }
                _ => break,
            }
        }
        if restart_interval == 0 && starts.len() > 1 {
            return Err(JpegError::Corrupt(
                "restart marker without a restart interval",
            ));
        }
        let len = bytes.len();
        bytes.resize(len + PAD, 0);
        Ok(Self {
            bytes,
            starts,
            len,
            end: p.min(data.len()),
        })
    }
}

impl Drop for Entropy {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.bytes);
        let _ = SPARE_ENTROPY.with(|s| {
            s.try_borrow_mut().map(|mut s| {
                if bytes.capacity() > s.capacity() && bytes.capacity() <= MAX_SPARE_ENTROPY {
                    *s = bytes;
                }
            })
        });
    }
}

/// MSB-first bit reader over one scan's [`Entropy`]. Past the end of a restart interval
/// it reads the next interval's bits, and past the end of the data zeros; both are
/// detected by comparing the bit position with the interval's end.
#[derive(Clone, Copy)]
struct Bits<'a> {
    data: &'a [u8],
    starts: &'a [usize],
    len: usize,
    /// Current restart interval and the byte offset at which it ends.
    interval: usize,
    end: usize,
    /// Next byte to load; bits loaded but not consumed are the top `nbits` of `buf`.
    pos: usize,
    buf: u64,
    nbits: u32,
}

impl<'a> Bits<'a> {
    fn new(e: &'a Entropy) -> Self {
        let mut b = Self {
            data: &e.bytes,
            starts: &e.starts,
            len: e.len,
            interval: 0,
            end: e.starts.get(1).copied().unwrap_or(e.len),
            pos: 0,
            buf: 0,
            nbits: 0,
        };
        b.refill();
        b
    }

    /// Tops the buffer up to at least 56 bits, without branches on the data: the bits
    /// below the `nbits` valid ones are the stream's next bits too, so loading them again
    /// later changes nothing.
    #[inline(always)]
    fn refill(&mut self) {
        // Past the data, the last word is read again: it is the zero padding.
        let at = self.pos.min(self.data.len().saturating_sub(PAD));
        let w = match self.data.get(at..at + PAD) {
            Some(w) => u64::from_be_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]),
            None => 0,
        };
        self.buf |= w >> self.nbits;
        self.pos += ((63 - self.nbits) >> 3) as usize;
        self.nbits |= 56;
    }

    #[inline(always)]
    fn consume(&mut self, n: u32) {
        // `n` < 64 always; the mask lets the shift use the hardware's own masking.
        self.buf <<= n & 63;
        self.nbits -= n;
    }

    /// Reads `n` (1..=16) bits as an unsigned number. The caller has ensured enough bits.
    #[inline(always)]
    fn take(&mut self, n: u32) -> u32 {
        let v = (self.buf >> (64 - n)) as u32;
        self.consume(n);
        v
    }

    /// Bits consumed since the start of the data.
    #[inline(always)]
    fn bit_pos(&self) -> usize {
        (self.pos * 8).saturating_sub(self.nbits as usize)
    }

    /// True when bits beyond the end of the current interval were consumed (truncated or
    /// corrupt data).
    #[inline(always)]
    fn overran(&self) -> bool {
        self.bit_pos() > self.end * 8
    }

    /// True when decoding has run well past the interval's end: the data is broken and
    /// the rest of the image need not be walked.
    #[inline(always)]
    fn ran_far(&self) -> bool {
        self.bit_pos() > self.end * 8 + 128
    }

    /// Moves to the start of the next restart interval.
    #[inline(never)]
    fn restart(self) -> Result<Self, JpegError> {
        if self.overran() {
            return Err(JpegError::Corrupt("entropy-coded data ends early"));
        }
        let next = self.interval + 1;
        let Some(&start) = self.starts.get(next) else {
            return Err(JpegError::Corrupt("restart marker missing"));
        };
        let mut b = Self {
            interval: next,
            end: self.starts.get(next + 1).copied().unwrap_or(self.len),
            pos: start,
            buf: 0,
            nbits: 0,
            ..self
        };
        b.refill();
        Ok(b)
    }
}

/// Extends a `size`-bit magnitude to a signed value (JPEG F.12), without branches;
/// `size` 0 gives 0.
#[inline(always)]
fn extend(v: i32, size: u32) -> i32 {
    let half = (1i32 << size) >> 1;
    v - i32::from(v < half) * ((1i32 << size) - 1)
}

/// Decodes the DC difference of one block.
#[inline(always)]
fn decode_dc(b: &mut Bits<'_>, t: &DcTable) -> Result<i32, JpegError> {
    if b.nbits < 32 {
        b.refill();
    }
    let e = t.fast[(b.buf >> (64 - DC_LOOKAHEAD)) as usize];
    let (len, size) = if e != 0 {
        (u32::from(e & 0xFF), u32::from(e >> 8))
    } else {
        let (len, sym) = t
            .slow
            .decode((b.buf >> 48) as u32)
            .ok_or(JpegError::Corrupt("bad Huffman code"))?;
        (len, u32::from(sym))
    };
    if size > 11 {
        return Err(JpegError::Corrupt("DC magnitude out of range"));
    }
    // Branch-free: the magnitude bits follow the code; `size` may be 0.
    let v = (((b.buf << len) >> 1) >> (63 - size)) as i32;
    b.consume(len + size);
    Ok(extend(v, size))
}

/// Decodes one whole block (sequential mode) and returns its DC difference.
#[inline(always)]
fn decode_block(
    b: &mut Bits<'_>,
    start: &BlockStart,
    dc: &DcTable,
    ac: &AcTable,
) -> Result<i32, JpegError> {
    // Looked up before the refill, which then runs beside the lookup instead of before
    // it: a block starts with at least AC_LOOKAHEAD bits in the buffer.
    let e = start.fast[(b.buf >> (64 - AC_LOOKAHEAD)) as usize];
    b.refill();
    if e & 63 == 0 {
        let v = decode_dc(b, dc)?;
        skip_ac(b, ac, 1)?;
        return Ok(v);
    }
    let len = (e >> 13) & 15;
    let size = (e >> 17) & 15;
    let v = extend((((b.buf << len) >> 1) >> (63 - size)) as i32, size);
    let adv = (e >> AC_ADV) & 127;
    b.consume(e & 63);
    if adv < 64 {
        skip_ac(b, ac, 1 + adv)?;
    }
    Ok(v)
}

/// Steps over the AC coefficients of one block (sequential mode).
#[inline(always)]
fn skip_ac(b: &mut Bits<'_>, t: &AcTable, k: u32) -> Result<(), JpegError> {
    let tab = &*t.fast;
    let mut k = k;
    loop {
        // Runs of whole symbols inside the block, not ending it; a run takes at most
        // AC_LOOKAHEAD bits, so one refill serves two of them. The first lookup reads
        // the buffer before the refill (it holds at least AC_LOOKAHEAD bits here).
        let e = u32::from(tab[(b.buf >> (64 - AC_LOOKAHEAD)) as usize]);
        b.refill();
        let adv = (e >> AC_ADV) & 127;
        if k + adv < 64 {
            b.consume(e & 63);
            k += adv;
            let e = u32::from(tab[(b.buf >> (64 - AC_LOOKAHEAD)) as usize]);
            let adv = (e >> AC_ADV) & 127;
            if k + adv < 64 {
                b.consume(e & 63);
                k += adv;
                continue;
            }
        }
        let e = u32::from(tab[(b.buf >> (64 - AC_LOOKAHEAD)) as usize]);
        let adv = (e >> AC_ADV) & 127;
        if e & 63 != 0 {
            if e & AC_EOB != 0 && k + adv - 64 < 64 {
                // The run ends the block with EOB.
                b.consume(e & 63);
                return Ok(());
            }
            // The run would cross the end of the block: take its first symbol alone.
            let s = t.single[(b.buf >> (64 - AC_LOOKAHEAD)) as usize];
            let sym = (s >> 8) as u32;
            let (size, run) = (sym & 15, sym >> 4);
            b.consume(u32::from(s & 0xFF) + size);
            match (run, size) {
                (0, 0) => return Ok(()),
                (15, 0) => k += 16,
                (r, _) => k += r + 1,
            }
        } else {
            b.refill();
            // A code longer than the lookahead, one not in the code, or a magnitude too
            // long for 8-bit data (a code in the lookahead whose magnitude bits run past
            // it is otherwise a table step of its own).
            let s = t.single[(b.buf >> (64 - AC_LOOKAHEAD)) as usize];
            let (len, sym) = if s & 0xFF != 0 {
                (u32::from(s & 0xFF), (s >> 8) as u8)
            } else {
                t.slow
                    .decode((b.buf >> 48) as u32)
                    .ok_or(JpegError::Corrupt("bad Huffman code"))?
            };
            let size = u32::from(sym & 15);
            let run = u32::from(sym >> 4);
            b.consume(len + size);
            match (run, size) {
                (0, 0) => return Ok(()),
                (15, 0) => k += 16,
                (_, 0) => return Err(JpegError::Corrupt("bad AC symbol")),
                (r, _) => k += r + 1,
            }
        }
        if k >= 64 {
            return if k == 64 {
                Ok(())
            } else {
                Err(JpegError::Corrupt("AC run past end of block"))
            };
        }
    }
}

// ---------------------------------------------------------------------------------------
// Markers and frame structure

#[derive(Clone, Copy, Default)]
struct Component {
    id: u8,
    h: u8,
    v: u8,
    tq: u8,
}

struct Frame {
    width: u32,
    height: u32,
    progressive: bool,
    comps: Vec<Component>,
    hmax: u8,
    vmax: u8,
}

impl Frame {
    fn mcus_x(&self) -> usize {
        (self.width as usize).div_ceil(8 * self.hmax as usize)
    }
    fn mcus_y(&self) -> usize {
        (self.height as usize).div_ceil(8 * self.vmax as usize)
    }
    /// Blocks of component `c` that cover the picture (without MCU padding).
    fn comp_blocks(&self, c: usize) -> (usize, usize) {
        let cp = self.comps[c];
        let w = (self.width as usize * cp.h as usize).div_ceil(self.hmax as usize);
        let h = (self.height as usize * cp.v as usize).div_ceil(self.vmax as usize);
        (w.div_ceil(8), h.div_ceil(8))
    }
}

fn be16(d: &[u8], p: usize) -> Result<usize, JpegError> {
    match d.get(p..p + 2) {
        Some(s) => Ok(usize::from(u16::from_be_bytes([s[0], s[1]]))),
        None => Err(JpegError::Corrupt("segment runs past end of file")),
    }
}

/// Decodes the 1/8-scale luma image of a JPEG file.
pub(crate) fn decode_dc_luma(data: &[u8]) -> Result<LumaPlane, JpegError> {
    decode_dc_luma_walking(data, Walk::Lanes)
}

/// How a sequential scan is walked: in stretches at once where it can be ([`lanes`]), or
/// only from start to end (for the tests that compare the two).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Walk {
    Lanes,
    Ordinary,
}

pub(crate) fn decode_dc_luma_walking(data: &[u8], walk: Walk) -> Result<LumaPlane, JpegError> {
    if data.len() < 4 || data[0] != 0xFF || data[1] != 0xD8 {
        return Err(JpegError::Corrupt("no JPEG start-of-image marker"));
    }
    let mut pos = 2usize;
    let mut qt_dc: [Option<u16>; 4] = [None; 4];
    let mut dc_tables: [Option<DcTable>; 4] = [None, None, None, None];
    // AC tables are kept in canonical form; the skipping tables are built only for the
    // scan that is decoded (progressive files redefine tables for every scan).
    let mut ac_tables: [Option<Canonical>; 4] = [None, None, None, None];
    let mut restart_interval: usize = 0;
    let mut frame: Option<Frame> = None;
    let mut orientation = 1u8;
    let mut adobe_transform: Option<u8> = None;
    // Progressive state: the luma DC coefficients so far (in component block order).
    let mut coeffs: Vec<i32> = Vec::new();
    let mut luma_dc_done = false;
    // Sequential: the luma samples, produced by the scan holding the luma component.

    loop {
        // Find the next marker, tolerating fill bytes.
        if pos >= data.len() {
            return Err(JpegError::Corrupt("no image data before end of file"));
        }
        if data[pos] != 0xFF {
            return Err(JpegError::Corrupt("expected a marker"));
        }
        while pos < data.len() && data[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = data.get(pos) else {
            return Err(JpegError::Corrupt("no image data before end of file"));
        };
        pos += 1;
        match marker {
            0xD9 => {
                // EOI: a progressive file that had its DC scans is complete enough.
                return finish_progressive(frame, &coeffs, &qt_dc, luma_dc_done, orientation);
            }
            0xD0..=0xD7 | 0x01 => continue, // stray markers without a length
            // Not markers with a length: decoders skip such bytes and look for the next
            // marker, so reading a length here would walk a different file than the one
            // viewers see. The general decoder, which skips them too, takes the file.
            0x00 | 0x02..=0xBF | 0xD8 => {
                return Err(JpegError::Unsupported(
                    "bytes in the header that decoders skip (FF 00 or a reserved marker)",
                ));
            }
            _ => {}
        }
        let len = be16(data, pos)?;
        if len < 2 || pos + len > data.len() {
            return Err(JpegError::Corrupt("segment runs past end of file"));
        }
        let seg = &data[pos + 2..pos + len];
        let seg_end = pos + len;
        match marker {
            0xE1 => {
                if let Some(o) = exif::orientation_from_app1(seg) {
                    orientation = o;
                }
            }
            0xEE if seg.len() >= 12 && &seg[..5] == b"Adobe" => {
                adobe_transform = Some(seg[11]);
            }
            0xDB => parse_dqt(seg, &mut qt_dc)?,
            0xC4 => parse_dht(seg, &mut dc_tables, &mut ac_tables)?,
            0xDD => {
                if seg.len() < 2 {
                    return Err(JpegError::Corrupt("short DRI segment"));
                }
                restart_interval = usize::from(u16::from_be_bytes([seg[0], seg[1]]));
            }
            0xC0..=0xC2 => {
                if frame.is_some() {
                    return Err(JpegError::Corrupt("two frames in one file"));
                }
                let f = parse_sof(seg, marker == 0xC2, adobe_transform)?;
                if f.progressive {
                    let (bw, bh) = f.comp_blocks(0);
                    coeffs = vec![0i32; bw * bh];
                }
                frame = Some(f);
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(JpegError::Unsupported(
                    "arithmetic, lossless or hierarchical JPEG",
                ));
            }
            0xDA => {
                let Some(f) = frame.as_ref() else {
                    return Err(JpegError::Corrupt("scan before frame header"));
                };
                let scan = parse_sos(seg, f)?;
                let start = seg_end;
                if !f.progressive {
                    if scan.comps.contains(&0) {
                        return decode_sequential_scan(
                            data,
                            start,
                            f,
                            &scan,
                            &dc_tables,
                            &ac_tables,
                            &qt_dc,
                            restart_interval,
                            orientation,
                            walk,
                        );
                    }
                    pos = skip_entropy(data, start);
                    continue;
                }
                let is_luma_dc = scan.ss == 0 && scan.comps.contains(&0);
                if is_luma_dc {
                    decode_progressive_dc(
                        data,
                        start,
                        f,
                        &scan,
                        &dc_tables,
                        restart_interval,
                        &mut coeffs,
                    )?;
                    if scan.ah == 0 {
                        luma_dc_done = true;
                    }
                    // Once the DC of luma is complete to the last bit, stop reading,
                    // unless a later scan would change it again (decoders keep the
                    // last).
                    if scan.al == 0 && luma_dc_done {
                        no_later_luma_scan(data, skip_entropy(data, start), f)?;
                        return finish_progressive(
                            frame,
                            &coeffs,
                            &qt_dc,
                            luma_dc_done,
                            orientation,
                        );
                    }
                }
                pos = skip_entropy(data, start);
                continue;
            }
            _ => {}
        }
        pos = seg_end;
    }
}

fn parse_dqt(mut seg: &[u8], qt_dc: &mut [Option<u16>; 4]) -> Result<(), JpegError> {
    while !seg.is_empty() {
        let pq = seg[0] >> 4;
        let tq = usize::from(seg[0] & 15);
        let n = if pq == 0 { 64 } else { 128 };
        if tq > 3 || pq > 1 || seg.len() < 1 + n {
            return Err(JpegError::Corrupt("bad quantisation table"));
        }
        let q0 = if pq == 0 {
            u16::from(seg[1])
        } else {
            u16::from_be_bytes([seg[1], seg[2]])
        };
        qt_dc[tq] = Some(q0);
        seg = &seg[1 + n..];
    }
    Ok(())
}

fn parse_dht(
    mut seg: &[u8],
    dc: &mut [Option<DcTable>; 4],
    ac: &mut [Option<Canonical>; 4],
) -> Result<(), JpegError> {
    while !seg.is_empty() {
        if seg.len() < 17 {
            return Err(JpegError::Corrupt("short Huffman table"));
        }
        let class = seg[0] >> 4;
        let th = usize::from(seg[0] & 15);
        if class > 1 || th > 3 {
            return Err(JpegError::Corrupt("bad Huffman table id"));
        }
        let mut counts = [0u8; 16];
        counts.copy_from_slice(&seg[1..17]);
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let Some(values) = seg.get(17..17 + total) else {
            return Err(JpegError::Corrupt("short Huffman table"));
        };
        let canon = Canonical::new(&counts, values)?;
        if class == 0 {
            dc[th] = Some(DcTable::new(canon));
        } else {
            ac[th] = Some(canon);
        }
        seg = &seg[17 + total..];
    }
    Ok(())
}

fn parse_sof(seg: &[u8], progressive: bool, adobe: Option<u8>) -> Result<Frame, JpegError> {
    if seg.len() < 6 {
        return Err(JpegError::Corrupt("short frame header"));
    }
    if seg[0] != 8 {
        return Err(JpegError::Unsupported("sample precision other than 8 bits"));
    }
    let height = u32::from(u16::from_be_bytes([seg[1], seg[2]]));
    let width = u32::from(u16::from_be_bytes([seg[3], seg[4]]));
    let n = usize::from(seg[5]);
    if height == 0 {
        return Err(JpegError::Unsupported(
            "height defined later by a DNL marker",
        ));
    }
    if width == 0 {
        return Err(JpegError::Corrupt("zero image width"));
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(JpegError::TooLarge { width, height });
    }
    match n {
        1 => {}
        3 => {
            if adobe == Some(0) {
                return Err(JpegError::Unsupported("RGB-coded JPEG"));
            }
        }
        _ => return Err(JpegError::Unsupported("component count other than 1 or 3")),
    }
    if seg.len() < 6 + 3 * n {
        return Err(JpegError::Corrupt("short frame header"));
    }
    let mut comps = Vec::with_capacity(n);
    for i in 0..n {
        let c = &seg[6 + 3 * i..9 + 3 * i];
        let (h, v) = (c[1] >> 4, c[1] & 15);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) || c[2] > 3 {
            return Err(JpegError::Corrupt("bad component in frame header"));
        }
        comps.push(Component {
            id: c[0],
            h,
            v,
            tq: c[2],
        });
    }
    if n == 3 && comps[0].id == b'R' && comps[1].id == b'G' && comps[2].id == b'B' {
        return Err(JpegError::Unsupported("RGB-coded JPEG"));
    }
    let hmax = comps.iter().map(|c| c.h).max().unwrap_or(1);
    let vmax = comps.iter().map(|c| c.v).max().unwrap_or(1);
    // In a single-component frame the sampling factors have no effect.
    if n == 1 {
        comps[0].h = 1;
        comps[0].v = 1;
        return Ok(Frame {
            width,
            height,
            progressive,
            comps,
            hmax: 1,
            vmax: 1,
        });
    }
    let blocks_per_mcu: usize = comps.iter().map(|c| usize::from(c.h * c.v)).sum();
    if blocks_per_mcu > 10 {
        return Err(JpegError::Corrupt("more than 10 blocks per MCU"));
    }
    Ok(Frame {
        width,
        height,
        progressive,
        comps,
        hmax,
        vmax,
    })
}

struct Scan {
    /// Frame component indices in scan order.
    comps: Vec<usize>,
    dc_table: Vec<usize>,
    ac_table: Vec<usize>,
    ss: u8,
    se: u8,
    ah: u8,
    al: u8,
}

fn parse_sos(seg: &[u8], f: &Frame) -> Result<Scan, JpegError> {
    let Some(&ns) = seg.first() else {
        return Err(JpegError::Corrupt("short scan header"));
    };
    let ns = usize::from(ns);
    if ns == 0 || ns > 4 || seg.len() < 1 + 2 * ns + 3 {
        return Err(JpegError::Corrupt("short scan header"));
    }
    let mut comps = Vec::with_capacity(ns);
    let mut dc_table = Vec::with_capacity(ns);
    let mut ac_table = Vec::with_capacity(ns);
    for i in 0..ns {
        let cid = seg[1 + 2 * i];
        let t = seg[2 + 2 * i];
        let Some(ci) = f.comps.iter().position(|c| c.id == cid) else {
            return Err(JpegError::Corrupt("scan names an unknown component"));
        };
        if comps.contains(&ci) || (t >> 4) > 3 || (t & 15) > 3 {
            return Err(JpegError::Corrupt("bad scan component"));
        }
        comps.push(ci);
        dc_table.push(usize::from(t >> 4));
        ac_table.push(usize::from(t & 15));
    }
    let p = 1 + 2 * ns;
    let scan = Scan {
        comps,
        dc_table,
        ac_table,
        ss: seg[p],
        se: seg[p + 1],
        ah: seg[p + 2] >> 4,
        al: seg[p + 2] & 15,
    };
    if f.progressive {
        if scan.ss == 0 && scan.se != 0 {
            return Err(JpegError::Corrupt("progressive scan mixes DC and AC"));
        }
        if scan.ss > 0 && scan.comps.len() != 1 {
            return Err(JpegError::Corrupt("interleaved progressive AC scan"));
        }
        if scan.al > 13 || scan.ah > 13 {
            return Err(JpegError::Corrupt("bad successive approximation"));
        }
    } else if scan.ss != 0 || scan.se != 63 || scan.ah != 0 || scan.al != 0 {
        return Err(JpegError::Unsupported(
            "sequential scan with spectral selection",
        ));
    }
    Ok(scan)
}

/// Position of the marker that ends the entropy-coded data starting at `start`
/// (RSTn markers are part of the data).
fn skip_entropy(data: &[u8], start: usize) -> usize {
    let mut p = start;
    while p + 1 < data.len() {
        match memchr::memchr(0xFF, &data[p..data.len() - 1]) {
            Some(i) => p += i,
            None => return data.len(),
        }
        let m = data[p + 1];
        if m != 0 && !(0xD0..=0xD7).contains(&m) && m != 0xFF {
            return p;
        }
        p += if m == 0xFF { 1 } else { 2 };
    }
    data.len()
}

/// After the scan that gave the walk its luma DC, from `pos` (the marker ending it):
/// no later scan may hold luma's DC again. Decoders keep the last value they read, so a
/// file whose later scans rewrite it would show another picture than the walk hashed;
/// the general decoder, which reads every scan, takes such a file.
fn no_later_luma_scan(data: &[u8], mut pos: usize, f: &Frame) -> Result<(), JpegError> {
    const REWRITTEN: JpegError =
        JpegError::Unsupported("a later scan holds luma's DC again (read by the general decoder)");
    for _ in 0..65_536 {
        while data.get(pos) == Some(&0xFF) && data.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        match (data.get(pos), data.get(pos + 1)) {
            (None, _) | (Some(0xFF), Some(0xD9)) => return Ok(()),
            // Markers with a length only: decoders skip stray bytes and codes without
            // one while looking for the next marker, which this walk would not follow.
            (Some(0xFF), Some(&marker)) if matches!(marker, 0xC0..=0xCF | 0xDA..=0xDF | 0xE0..=0xEF | 0xFE) =>
            {
                let len = be16(data, pos + 2).map_err(|_| REWRITTEN)?;
                if len < 2 || pos + 2 + len > data.len() {
                    return Err(REWRITTEN);
                }
                let seg_end = pos + 2 + len;
                if marker == 0xDA {
                    let scan = parse_sos(&data[pos + 4..seg_end], f).map_err(|_| REWRITTEN)?;
                    if scan.comps.contains(&0) && (!f.progressive || scan.ss == 0) {
                        return Err(REWRITTEN);
                    }
                    pos = skip_entropy(data, seg_end);
                } else {
                    pos = seg_end;
                }
            }
            _ => return Err(REWRITTEN),
        }
    }
    Err(REWRITTEN)
}

fn dc_scale(qt_dc: &[Option<u16>; 4], f: &Frame) -> Result<f32, JpegError> {
    match qt_dc[usize::from(f.comps[0].tq)] {
        Some(q) => Ok(f32::from(q) / 8.0),
        None => Err(JpegError::Corrupt("missing quantisation table")),
    }
}

fn plane(f: &Frame, samples: Vec<f32>, cols: usize, rows: usize, orientation: u8) -> LumaPlane {
    let c = f.comps[0];
    LumaPlane {
        cols,
        rows,
        samples,
        cell_w: 8.0 * f64::from(f.hmax) / f64::from(c.h),
        cell_h: 8.0 * f64::from(f.vmax) / f64::from(c.v),
        width: f.width,
        height: f.height,
        orientation,
    }
}

#[allow(clippy::too_many_arguments)]
fn decode_sequential_scan(
    data: &[u8],
    start: usize,
    f: &Frame,
    scan: &Scan,
    dc_tables: &[Option<DcTable>; 4],
    ac_tables: &[Option<Canonical>; 4],
    qt_dc: &[Option<u16>; 4],
    restart_interval: usize,
    orientation: u8,
    walk: Walk,
) -> Result<LumaPlane, JpegError> {
    let scale = dc_scale(qt_dc, f)?;
    let mut dct: Vec<&DcTable> = Vec::with_capacity(scan.comps.len());
    let mut ac_built: Vec<Rc<AcTable>> = Vec::with_capacity(scan.comps.len());
    let mut start_built: Vec<Rc<BlockStart>> = Vec::with_capacity(scan.comps.len());
    for i in 0..scan.comps.len() {
        let (Some(d), Some(a)) = (&dc_tables[scan.dc_table[i]], &ac_tables[scan.ac_table[i]])
        else {
            return Err(JpegError::Corrupt("scan uses an undefined Huffman table"));
        };
        dct.push(d);
        let (ac, start) = cached_tables(&d.slow, a);
        ac_built.push(ac);
        start_built.push(start);
    }
    let act: Vec<&AcTable> = ac_built.iter().map(|t| &**t).collect();
    let bst: Vec<&BlockStart> = start_built.iter().map(|t| &**t).collect();
    let (bw, bh) = f.comp_blocks(0);
    let mut out = vec![0f32; bw * bh];
    let entropy = Entropy::read(data, start, restart_interval)?;
    if walk == Walk::Lanes && entropy.len >= lanes::LANES * lanes::MIN_BYTES_PER_LANE {
        let mut lane_built = Vec::with_capacity(scan.comps.len());
        for i in 0..scan.comps.len() {
            let a = ac_tables[scan.ac_table[i]]
                .as_ref()
                .ok_or(JpegError::Corrupt("scan uses an undefined Huffman table"))?;
            // Every pair is looked up, so that each is counted as seen.
            lane_built.push(cached_lane_table(&dct[i].slow, a));
        }
        let lane_built: Option<Vec<_>> = lane_built.into_iter().collect();
        if let Some(lane_built) = lane_built {
            if walk_in_lanes(
                f,
                scan,
                &entropy,
                restart_interval,
                &dct,
                &act,
                &lane_built,
                scale,
                &mut out,
            ) {
                LANE_WALKS[0].fetch_add(1, Ordering::Relaxed);
                no_later_luma_scan(data, entropy.end, f)?;
                return Ok(plane(f, out, bw, bh, orientation));
            }
            LANE_WALKS[1].fetch_add(1, Ordering::Relaxed);
        }
    }
    let mut b = Bits::new(&entropy);
    let mut pred = [0i32; 4];

    if scan.comps.len() == 1 {
        // Non-interleaved: the luma blocks in raster order.
        let (dt, at, bs) = (dct[0], act[0], bst[0]);
        for (n, sample) in out.iter_mut().enumerate() {
            if restart_interval > 0 && n > 0 && n.is_multiple_of(restart_interval) {
                b = b.restart()?;
                pred = [0; 4];
            }
            pred[0] = pred[0].wrapping_add(decode_block(&mut b, bs, dt, at)?);
            *sample = pred[0] as f32 * scale + 128.0;
            if b.ran_far() {
                return Err(JpegError::Corrupt("entropy-coded data ends early"));
            }
        }
    } else {
        let (mx, my) = (f.mcus_x(), f.mcus_y());
        let layout = mcu_layout(f, scan);
        let luma_slot = scan.comps.iter().position(|&c| c == 0).unwrap_or(0);
        let blocks: Vec<McuBlock<'_>> = layout
            .iter()
            .map(|&(slot, h, v)| McuBlock {
                start: bst[slot],
                dc: dct[slot],
                ac: act[slot],
                slot: slot & 3,
                luma: slot == luma_slot,
                h,
                v,
            })
            .collect();
        let grid = McuGrid {
            mx,
            my,
            lh: usize::from(f.comps[0].h),
            lv: usize::from(f.comps[0].v),
            bw,
            bh,
            restart_interval,
            scale,
        };
        decode_mcus(&mut b, &blocks, &grid, &mut out)?;
    }
    if b.overran() {
        return Err(JpegError::Corrupt("entropy-coded data ends early"));
    }
    no_later_luma_scan(data, entropy.end, f)?;
    Ok(plane(f, out, bw, bh, orientation))
}

/// The blocks of one MCU of an interleaved scan, in decoding order: (scan slot, x offset,
/// y offset in the component's blocks).
fn mcu_layout(f: &Frame, scan: &Scan) -> Vec<(usize, usize, usize)> {
    let mut layout = Vec::with_capacity(10);
    for (slot, &ci) in scan.comps.iter().enumerate() {
        let c = f.comps[ci];
        for v in 0..usize::from(c.v) {
            for h in 0..usize::from(c.h) {
                layout.push((slot, h, v));
            }
        }
    }
    layout
}

/// Scans walked in stretches, and scans where that walk declined (counted for the tests
/// and benchmarks that check how often each happens).
pub(crate) static LANE_WALKS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// Walks a scan in stretches ([`lanes`]) and writes the luma
/// samples into `out`; false when that walk declines (the ordinary one then runs).
#[allow(clippy::too_many_arguments)]
fn walk_in_lanes(
    f: &Frame,
    scan: &Scan,
    entropy: &Entropy,
    restart_interval: usize,
    dct: &[&DcTable],
    act: &[&AcTable],
    lane_tables: &[Rc<lanes::LaneTable>],
    scale: f32,
    out: &mut [f32],
) -> bool {
    let (bw, bh) = f.comp_blocks(0);
    // A non-interleaved scan has one block an MCU.
    let layout = if scan.comps.len() == 1 {
        vec![(0, 0, 0)]
    } else {
        mcu_layout(f, scan)
    };
    let slots: Vec<lanes::SlotTables<'_>> = layout
        .iter()
        .map(|&(slot, _, _)| lanes::SlotTables {
            lane: &lane_tables[slot],
            dc: dct[slot],
            ac: act[slot],
        })
        .collect();
    let luma_slot = scan.comps.iter().position(|&c| c == 0).unwrap_or(0);
    // Non-interleaved: the luma blocks in raster order, one block an MCU.
    let (mx, my, lh, lv) = if scan.comps.len() == 1 {
        (bw, bh, 1, 1)
    } else {
        (
            f.mcus_x(),
            f.mcus_y(),
            usize::from(f.comps[0].h),
            usize::from(f.comps[0].v),
        )
    };
    let total = mx * my * layout.len();
    // Restart intervals matter once the scan has more MCUs than one holds; a scan with
    // restart markers but no interval is refused earlier.
    let restarts = if restart_interval > 0 && mx * my > restart_interval {
        Some(lanes::Restarts {
            starts: &entropy.starts,
            blocks: restart_interval * layout.len(),
        })
    } else if entropy.starts.len() == 1 {
        None
    } else {
        return false;
    };
    let luma: Vec<bool> = layout
        .iter()
        .map(|&(slot, _, _)| slot == luma_slot)
        .collect();
    LANE_SCRATCH.with(|cell| {
        let Ok(mut scratch) = cell.try_borrow_mut() else {
            return false;
        };
        let grid = McuGrid {
            mx,
            my,
            lh,
            lv,
            bw,
            bh,
            restart_interval,
            scale,
        };
        let mut place = Placer::new(out, grid);
        lanes::walk(
            &entropy.bytes,
            entropy.len,
            &slots,
            &luma,
            total,
            restarts,
            &mut scratch,
            &mut place,
        )
        .is_some()
    })
}

/// Puts the luma DC coefficients of a scan, in decoding order, in their place in the
/// picture's luma samples: the luma blocks of each MCU, `lv` down and `lh` across, MCU
/// by MCU (`mx` a row); blocks past the picture's `bw` × `bh` blocks are left out.
struct Placer<'o> {
    out: &'o mut [f32],
    g: McuGrid,
    /// The next coefficient's MCU (x, y) and block in it (h, v).
    at: (usize, usize, usize, usize),
    /// MCUs across and down whose luma blocks all lie inside the picture.
    inside: (usize, usize),
    /// Each luma block's place in `out` from the MCU's first.
    offsets: [usize; 16],
}

impl<'o> Placer<'o> {
    fn new(out: &'o mut [f32], g: McuGrid) -> Self {
        let (lh, lv) = (g.lh.max(1), g.lv.max(1));
        let mut offsets = [0usize; 16];
        for (i, o) in offsets.iter_mut().enumerate().take(lh * lv) {
            *o = (i / lh) * g.bw + i % lh;
        }
        Self {
            out,
            g,
            at: (0, 0, 0, 0),
            inside: (g.bw / lh, g.bh / lv),
            offsets,
        }
    }
}

impl lanes::LumaSink for Placer<'_> {
    #[inline(always)]
    fn put(&mut self, dc: i32) {
        let (x, y, h, v) = self.at;
        let (bx, by) = (x * self.g.lh + h, y * self.g.lv + v);
        if bx < self.g.bw
            && by < self.g.bh
            && let Some(o) = self.out.get_mut(by * self.g.bw + bx)
        {
            *o = dc as f32 * self.g.scale + 128.0;
        }
        self.at = if h + 1 < self.g.lh {
            (x, y, h + 1, v)
        } else if v + 1 < self.g.lv {
            (x, y, 0, v + 1)
        } else if x + 1 < self.g.mx {
            (x + 1, y, 0, 0)
        } else {
            (0, y + 1, 0, 0)
        };
    }

    /// A whole MCU inside the picture is placed with one check, by the offsets of its
    /// luma blocks from its first; others (at the right and bottom edges) a block at a
    /// time.
    #[inline(always)]
    fn put_mcu(&mut self, dcs: &[i32]) {
        let (x, y, h, v) = self.at;
        let whole = dcs.len() == self.g.lh * self.g.lv;
        if (h, v) != (0, 0) || x >= self.inside.0 || y >= self.inside.1 || !whole {
            for &dc in dcs {
                self.put(dc);
            }
            return;
        }
        let base = (y * self.g.lv) * self.g.bw + x * self.g.lh;
        for (&o, &dc) in self.offsets.iter().zip(dcs) {
            if let Some(d) = self.out.get_mut(base + o) {
                *d = dc as f32 * self.g.scale + 128.0;
            }
        }
        self.at = if x + 1 < self.g.mx {
            (x + 1, y, 0, 0)
        } else {
            (0, y + 1, 0, 0)
        };
    }
}

/// One block of an interleaved MCU: its tables, its scan slot (for the DC prediction),
/// and, for luma, its place in the MCU.
#[derive(Clone, Copy)]
struct McuBlock<'t> {
    start: &'t BlockStart,
    dc: &'t DcTable,
    ac: &'t AcTable,
    slot: usize,
    luma: bool,
    h: usize,
    v: usize,
}

/// The MCU grid of an interleaved scan and where its luma blocks go.
#[derive(Clone, Copy)]
struct McuGrid {
    mx: usize,
    my: usize,
    /// Luma blocks per MCU, across and down.
    lh: usize,
    lv: usize,
    /// Luma blocks that cover the picture, across and down.
    bw: usize,
    bh: usize,
    restart_interval: usize,
    scale: f32,
}

/// Decodes the MCUs of an interleaved scan into the luma DC samples.
#[inline(always)]
fn decode_mcus(
    b: &mut Bits<'_>,
    blocks: &[McuBlock<'_>],
    g: &McuGrid,
    out: &mut [f32],
) -> Result<(), JpegError> {
    let mut pred = [0i32; 4];
    let mut n = 0usize;
    for y in 0..g.my {
        for x in 0..g.mx {
            if g.restart_interval > 0 && n > 0 && n.is_multiple_of(g.restart_interval) {
                *b = b.restart()?;
                pred = [0; 4];
            }
            n += 1;
            for blk in blocks {
                let diff = decode_block(b, blk.start, blk.dc, blk.ac)?;
                let p = &mut pred[blk.slot];
                *p = p.wrapping_add(diff);
                if blk.luma {
                    let (bx, by) = (x * g.lh + blk.h, y * g.lv + blk.v);
                    if bx < g.bw && by < g.bh {
                        out[by * g.bw + bx] = *p as f32 * g.scale + 128.0;
                    }
                }
            }
            if b.ran_far() {
                return Err(JpegError::Corrupt("entropy-coded data ends early"));
            }
        }
    }
    Ok(())
}

/// Reads a progressive DC scan (first pass or refinement) into the luma coefficients.
fn decode_progressive_dc(
    data: &[u8],
    start: usize,
    f: &Frame,
    scan: &Scan,
    dc_tables: &[Option<DcTable>; 4],
    restart_interval: usize,
    coeffs: &mut [i32],
) -> Result<(), JpegError> {
    let first = scan.ah == 0;
    let mut dct: Vec<&DcTable> = Vec::with_capacity(scan.comps.len());
    if first {
        for i in 0..scan.comps.len() {
            match &dc_tables[scan.dc_table[i]] {
                Some(d) => dct.push(d),
                None => return Err(JpegError::Corrupt("scan uses an undefined Huffman table")),
            }
        }
    }
    let (bw, bh) = f.comp_blocks(0);
    let entropy = Entropy::read(data, start, restart_interval)?;
    let mut b = Bits::new(&entropy);
    let mut pred = [0i32; 4];
    let al = u32::from(scan.al);

    if scan.comps.len() == 1 {
        let ci = scan.comps[0];
        let (cw, ch) = f.comp_blocks(ci);
        // `coeffs` covers luma only; other components are walked without storing.
        let mut own = coeffs.iter_mut();
        for n in 0..cw * ch {
            if restart_interval > 0 && n > 0 && n.is_multiple_of(restart_interval) {
                b = b.restart()?;
                pred = [0; 4];
            }
            progressive_step(
                &mut b,
                first,
                &dct,
                0,
                &mut pred,
                al,
                if ci == 0 { own.next() } else { None },
            )?;
            if b.ran_far() {
                return Err(JpegError::Corrupt("entropy-coded data ends early"));
            }
        }
    } else {
        let (mx, my) = (f.mcus_x(), f.mcus_y());
        let layout = mcu_layout(f, scan);
        let (lh, lv) = (usize::from(f.comps[0].h), usize::from(f.comps[0].v));
        let mut n = 0usize;
        for y in 0..my {
            for x in 0..mx {
                if restart_interval > 0 && n > 0 && n.is_multiple_of(restart_interval) {
                    b = b.restart()?;
                    pred = [0; 4];
                }
                n += 1;
                for &(slot, h, v) in &layout {
                    let idx = if scan.comps[slot] == 0 {
                        let (bx, by) = (x * lh + h, y * lv + v);
                        (bx < bw && by < bh).then_some(by * bw + bx)
                    } else {
                        None
                    };
                    progressive_step(
                        &mut b,
                        first,
                        &dct,
                        slot,
                        &mut pred,
                        al,
                        idx.map(|i| &mut coeffs[i]),
                    )?;
                }
                if b.ran_far() {
                    return Err(JpegError::Corrupt("entropy-coded data ends early"));
                }
            }
        }
    }
    if b.overran() {
        return Err(JpegError::Corrupt("entropy-coded data ends early"));
    }
    Ok(())
}

/// One block of a progressive DC scan: the first pass decodes a difference, a refinement
/// pass adds one bit.
fn progressive_step(
    b: &mut Bits<'_>,
    first: bool,
    dct: &[&DcTable],
    slot: usize,
    pred: &mut [i32; 4],
    al: u32,
    coeff: Option<&mut i32>,
) -> Result<(), JpegError> {
    if first {
        pred[slot] = pred[slot].wrapping_add(decode_dc(b, dct[slot])?);
        if let Some(c) = coeff {
            *c = pred[slot].wrapping_shl(al);
        }
    } else {
        if b.nbits < 8 {
            b.refill();
        }
        let bit = b.take(1);
        if let Some(c) = coeff {
            if bit != 0 {
                *c |= 1 << al;
            }
        }
    }
    Ok(())
}

fn finish_progressive(
    frame: Option<Frame>,
    coeffs: &[i32],
    qt_dc: &[Option<u16>; 4],
    luma_dc_done: bool,
    orientation: u8,
) -> Result<LumaPlane, JpegError> {
    let Some(f) = frame else {
        return Err(JpegError::Corrupt("no frame header"));
    };
    if !f.progressive || !luma_dc_done {
        return Err(JpegError::Corrupt("no luma scan"));
    }
    let scale = dc_scale(qt_dc, &f)?;
    let (bw, bh) = f.comp_blocks(0);
    let samples = coeffs.iter().map(|&c| c as f32 * scale + 128.0).collect();
    Ok(plane(&f, samples, bw, bh, orientation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_matches_the_standard_table() {
        // Reference: values below half the range are negative (T.81 F.12 EXTEND).
        for size in 0..=11u32 {
            for v in 0..(1i32 << size) {
                let want = if size > 0 && v < (1 << (size - 1)) {
                    v - (1 << size) + 1
                } else {
                    v
                };
                assert_eq!(extend(v, size), want, "v {v} size {size}");
            }
        }
        assert_eq!(extend(0, 1), -1);
        assert_eq!(extend(1, 1), 1);
        assert_eq!(extend(0, 3), -7);
        assert_eq!(extend(3, 3), -4);
        assert_eq!(extend(4, 3), 4);
        assert_eq!(extend(7, 3), 7);
    }

    #[test]
    fn canonical_codes_decode_in_order() {
        // Two codes of length 2 (00, 01), one of length 3 (100).
        let mut counts = [0u8; 16];
        counts[1] = 2;
        counts[2] = 1;
        let c = Canonical::new(&counts, &[5, 6, 7]).unwrap();
        assert_eq!(c.decode(0b00 << 14), Some((2, 5)));
        assert_eq!(c.decode(0b01 << 14), Some((2, 6)));
        assert_eq!(c.decode(0b100 << 13), Some((3, 7)));
        assert_eq!(c.decode(0b111 << 13), None);
    }

    /// Packs a string of '0'/'1' into bytes, MSB first, zero-padded.
    fn bits_of(s: &str) -> Vec<u8> {
        let mut out = vec![0u8; s.len().div_ceil(8)];
        for (i, c) in s.chars().enumerate() {
            if c == '1' {
                out[i / 8] |= 0x80 >> (i % 8);
            }
        }
        out
    }

    /// DC: 00 -> size 0, 01 -> size 11. AC: 00 -> EOB, 01000000 -> run 0 size 10.
    fn long_magnitude_codes() -> (Canonical, Canonical) {
        let mut dc = [0u8; 16];
        dc[1] = 2;
        let mut ac = [0u8; 16];
        ac[1] = 1;
        ac[7] = 1;
        (
            Canonical::new(&dc, &[0, 11]).unwrap(),
            Canonical::new(&ac, &[0x00, 0x0A]).unwrap(),
        )
    }

    #[test]
    fn magnitudes_running_past_the_window_are_one_table_step() {
        let (dc, ac) = long_magnitude_codes();
        let (start, act) = (BlockStart::new(&dc, &ac), AcTable::new(ac.clone()));
        // A 2-bit DC code with 11 magnitude bits: 13 bits, the DC alone.
        let e = start.fast[0b01 << 10];
        assert_eq!((e & 63, (e >> AC_ADV) & 127), (13, 0));
        // An 8-bit AC code with 10 magnitude bits: 18 bits, one coefficient on.
        let e = u32::from(act.fast[0b0100_0000 << 4]);
        assert_eq!((e & 63, (e >> AC_ADV) & 127, e & AC_EOB), (18, 1, 0));

        // Block 1: DC +1025 (01, 10000000001), EOB. Block 2: DC 0 (00), the long AC
        // symbol (01000000, 1010101010), EOB. 15 + 22 bits.
        let got = two_blocks("01100000000010000010000001010101010000", &dc, &ac);
        assert_eq!(got, [(1025, 15), (0, 37)]);
    }

    /// Decodes two blocks of `bits` (a string of 0s and 1s) with these codes: each
    /// block's DC difference and the bit position after it. Reading must not overrun.
    fn two_blocks(bits: &str, dc: &Canonical, ac: &Canonical) -> [(i32, usize); 2] {
        let (start, act) = (BlockStart::new(dc, ac), AcTable::new(ac.clone()));
        let data = bits_of(bits);
        let entropy = Entropy::read(&data, 0, 0).unwrap();
        let mut b = Bits::new(&entropy);
        let dct = DcTable::new(dc.clone());
        let got = [(); 2].map(|_| {
            let d = decode_block(&mut b, &start, &dct, &act).unwrap();
            (d, b.bit_pos())
        });
        assert!(!b.overran());
        got
    }

    #[test]
    fn a_block_that_reaches_the_64th_coefficient_ends_there_before_an_eob() {
        // DC: 00 -> size 0, 010..110 -> sizes 1..5. AC: 0 -> ZRL, 10 -> run 14 size 1,
        // 110 -> EOB. Three ZRLs and a run of 14 end the block at its 64th coefficient,
        // so the EOB code after them is the next block's DC code (size 5).
        let mut dc = [0u8; 16];
        dc[1] = 1;
        dc[2] = 5;
        let mut ac = [0u8; 16];
        ac[0] = 1;
        ac[1] = 1;
        ac[2] = 1;
        let (dc, ac) = (
            Canonical::new(&dc, &[0, 1, 2, 3, 4, 5]).unwrap(),
            Canonical::new(&ac, &[0xF0, 0xE1, 0x00]).unwrap(),
        );
        // Block 1: 00 | 0 0 0 | 10 1 (8 bits). Block 2: 110 10101 (+21) | 110 (EOB).
        let got = two_blocks("0000010111010101110", &dc, &ac);
        assert_eq!(got, [(0, 8), (21, 19)]);
    }

    #[test]
    fn placing_a_whole_mcu_gives_what_placing_its_blocks_one_by_one_gives() {
        use lanes::LumaSink;
        // (luma blocks across, down; MCU shape): edges cut MCUs on the right and bottom.
        for (bw, bh, lh, lv) in [
            (9usize, 7usize, 2, 2),
            (8, 6, 2, 2),
            (7, 5, 2, 1),
            (5, 9, 1, 2),
            (6, 4, 1, 1),
        ] {
            let (mx, my) = (bw.div_ceil(lh), bh.div_ceil(lv));
            let grid = McuGrid {
                mx,
                my,
                lh,
                lv,
                bw,
                bh,
                restart_interval: 0,
                scale: 2.0,
            };
            let n = mx * my * lh * lv;
            let dcs: Vec<i32> = (0..n as i32).map(|i| i * 7 - 300).collect();
            let mut one = vec![f32::NAN; bw * bh];
            let mut p = Placer::new(&mut one, grid);
            for &d in &dcs {
                p.put(d);
            }
            let mut whole = vec![f32::NAN; bw * bh];
            let mut p = Placer::new(&mut whole, grid);
            // Whole MCUs, then a stretch of blocks split across two MCUs, then whole again.
            let per = lh * lv;
            let (a, rest) = dcs.split_at(per * 2 + 1);
            for mcu in a[..per * 2].chunks(per) {
                p.put_mcu(mcu);
            }
            p.put_mcu(&a[per * 2..]);
            let (b, rest) = rest.split_at(per - 1);
            p.put_mcu(b);
            for mcu in rest.chunks(per) {
                p.put_mcu(mcu);
            }
            assert!(
                one.iter().all(|v| !v.is_nan()),
                "{bw}x{bh}: every block placed"
            );
            assert_eq!(one, whole, "{bw}x{bh}, MCU {lh}x{lv}");
        }
    }

    #[test]
    fn the_table_cache_keys_on_the_whole_code_and_keeps_four() {
        let (dc, ac) = long_magnitude_codes();
        let (a1, s1) = cached_tables(&dc, &ac);
        let (a2, s2) = cached_tables(&dc, &ac);
        assert!(
            Rc::ptr_eq(&a1, &a2) && Rc::ptr_eq(&s1, &s2),
            "same code, same tables"
        );
        // Same lengths, other symbols: other tables, equal to freshly built ones.
        let mut counts = [0u8; 16];
        counts[1] = 1;
        counts[7] = 1;
        let other = Canonical::new(&counts, &[0x00, 0x31]).unwrap();
        let (a3, s3) = cached_tables(&dc, &other);
        assert!(!Rc::ptr_eq(&a1, &a3) && !Rc::ptr_eq(&s1, &s3));
        assert_eq!(a3.fast, AcTable::new(other.clone()).fast);
        assert_eq!(s3.fast, BlockStart::new(&dc, &other).fast);
        assert_ne!(a3.fast, a1.fast);
        // Four more codes push the first one out: it is built again.
        for sym in [0x11u8, 0x21, 0x41, 0x51] {
            cached_tables(&dc, &Canonical::new(&counts, &[0x00, sym]).unwrap());
        }
        let (a4, _) = cached_tables(&dc, &ac);
        assert!(!Rc::ptr_eq(&a1, &a4));
        assert_eq!(a4.fast, a1.fast);
    }

    #[test]
    fn over_subscribed_tables_are_refused() {
        let mut counts = [0u8; 16];
        counts[0] = 3; // three 1-bit codes
        assert!(Canonical::new(&counts, &[1, 2, 3]).is_err());
    }

    #[test]
    fn bit_reader_unstuffs_and_stops_at_markers() {
        let data = [0xAB, 0xFF, 0x00, 0x12, 0xFF, 0xD9, 0x34];
        let e = Entropy::read(&data, 0, 0).expect("one interval");
        assert_eq!(e.len, 3);
        let mut b = Bits::new(&e);
        b.refill();
        assert_eq!(b.take(8), 0xAB);
        assert_eq!(b.take(8), 0xFF);
        assert_eq!(b.take(8), 0x12);
        assert!(!b.overran());
        b.refill();
        assert_eq!(b.take(16), 0);
        assert!(b.overran());
    }

    #[test]
    fn restart_intervals_are_read_apart() {
        // Two intervals (the first padded with fill bytes), a long run without 0xFF that
        // the word-at-a-time copy takes, then the end-of-image marker.
        let mut data = vec![0x5A, 0xFF, 0xFF, 0xD0];
        data.extend(1..=20u8);
        data.extend([0xFF, 0x00, 0xFF, 0xD9]);
        assert!(
            Entropy::read(&data, 0, 0).is_err(),
            "markers without an interval"
        );
        let e = Entropy::read(&data, 0, 1).expect("two intervals");
        assert_eq!(e.starts, vec![0, 1]);
        assert_eq!(e.len, 22);
        let mut b = Bits::new(&e);
        b.refill();
        assert_eq!(b.take(8), 0x5A);
        assert!(!b.overran());
        let mut b = b.restart().expect("second interval");
        for v in 1..=20u32 {
            b.refill();
            assert_eq!(b.take(8), v);
        }
        b.refill();
        assert_eq!(b.take(8), 0xFF);
        assert!(!b.overran());
        assert!(b.restart().is_err(), "there is no third interval");
    }

    #[test]
    fn a_short_interval_is_noticed_at_the_restart() {
        let data = [0x12, 0xFF, 0xD0, 0x34, 0x56];
        let e = Entropy::read(&data, 0, 1).expect("two intervals");
        let mut b = Bits::new(&e);
        b.refill();
        b.take(12);
        assert!(b.overran());
        assert!(b.restart().is_err());
    }
}
