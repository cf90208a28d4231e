//! Several stretches of one scan walked at once.
//!
//! Walking a scan is one chain of dependent table lookups: where a code ends decides
//! where the next one starts. A core can follow several independent chains at the same
//! time, so this module cuts the scan's entropy-coded data into [`LANES`] stretches of
//! equal work and walks them in one loop, a step of each in turn, without a branch at
//! block ends (the block end is a change of state, chosen with conditional moves). Each
//! step is one lookup over a 16-bit window ([`table`]): a block's start with the AC
//! symbols after it, or a run of AC symbols.
//!
//! Only the first stretch starts where decoding really starts. The others start at a
//! byte boundary, guessing "start of a block, first block of the MCU", and are wrong at
//! first. Huffman codes resynchronise: after a while a guessed walk reaches a block
//! start at the very bit position, and for the very block of the MCU, where the true
//! walk has a block start, and from there on the two walks are the same. Every walk
//! records each block start it makes (bit position, and what gives its DC difference),
//! and each stretch is walked past its end, so that the true walk is known from two
//! records that agree, never from a guess ([`join`]):
//!
//! - the previous stretch's walk is true from its own junction onwards (the first is true
//!   from the start);
//! - a junction is the first block start recorded by both walks at the same bit position
//!   whose true place in the MCU (from the count of true blocks before it) equals the
//!   guessed one; decoding depends only on that position and that place, so the two
//!   walks agree from there on;
//! - a walk that has not met the next within the overrun goes on alone until it does;
//!   a walk that never meets the true one (long runs of repeating data can keep it off
//!   the true block boundaries) is dropped and the walk before it covers its stretch.
//!
//! A scan with restart intervals needs no guessing: each walk takes whole intervals and
//! starts where its first one starts, so every walk is true from its start.
//!
//! The DC differences of the true walk, in order, are then the same as those of a walk
//! from the start, bit for bit. A decoding error in a part that is used, fewer blocks
//! than the frame needs or bits used past the end of the data make [`walk`] return
//! `None`, and the caller walks the scan the ordinary way, which also gives the precise
//! error.

mod join;
mod table;

use std::hint::select_unpredictable;
use std::rc::Rc;

#[cfg(test)]
use super::DC_LOOKAHEAD;
use super::{AcTable, DcTable, extend};
pub(super) use join::LumaSink;
use join::{Join, emit, join};
pub(super) use table::LaneTable;
use table::{ADV_SHIFT, COUNT, EOB, HALF, SLOW, USED, WINDOW};

/// How many stretches are walked at once.
pub(super) const LANES: usize = 3;

/// Scans shorter than this many bytes a stretch are walked the ordinary way.
pub(super) const MIN_BYTES_PER_LANE: usize = 16 * 1024;

/// How far (in bits) a stretch's walk goes on past the start of the next stretch while
/// looking for the junction. Walks on the photo corpus of docs/design/near-duplicates.md
/// met within 4.6 kbit in 99% of cases; a walk that has not met the next by then goes
/// on alone until it does.
const OVERRUN_BITS: u64 = 16 * 1024;

/// Errors met by a guessed walk before its junction are expected; a walk that meets this
/// many stops there (if it had not met the true walk by then, the walk before it covers
/// its stretch; errors in a part that is used make the scan be walked the ordinary
/// way).
const MAX_ERRORS: usize = 64;

/// The tables of one block of the MCU.
#[derive(Clone, Copy)]
pub(super) struct SlotTables<'t> {
    pub lane: &'t Rc<LaneTable>,
    pub dc: &'t DcTable,
    pub ac: &'t AcTable,
}

/// One stretch's walk: the state that changes at every step.
#[derive(Clone, Copy, Default)]
struct Lane {
    /// Bit position of the next step.
    pos: u64,
    /// The data from `pos` on, at least its first 31 bits, the first at the top
    /// ([`Lane::reload`]); a step takes its lookup window from it and leaves the next
    /// step's, shifted from a window loaded at the step's start, off the chain of
    /// lookups.
    win: u64,
    /// Where the walk is, in the form that makes a step cheap (see [`St`]).
    st: u32,
    /// Index (in all the walks' records) of the current block's record.
    blk: usize,
}

/// The fields of [`Lane::st`]: the coefficient position in the current block (0: at
/// its start), a bit set once the block's first step is taken (it selects the AC half
/// of the table pair), the table pair's place among the scan's tables, and the MCU
/// block the walk takes the current block for. The first three together, masked, are
/// where the step's entry is looked up, less the window's bits.
struct St;

impl St {
    /// The coefficient position, with room for a step's count and [`EOB`].
    const K: u32 = 0x1FF;
    const MID: u32 = 1 << WINDOW;
    /// Table pair (the two bits above the half) and half.
    const TABLE: u32 = 7 << WINDOW;
    const SLOT_SHIFT: u32 = 24;

    /// At the start of block `slot` whose tables are pair `pair`.
    fn start(slot: usize, pair: usize) -> u32 {
        ((slot as u32) << Self::SLOT_SHIFT) | ((pair as u32) << (WINDOW + 1))
    }
}

impl Lane {
    /// Loads `win` again after `pos` was set.
    #[inline(always)]
    fn reload(&mut self, data: &[u8]) {
        self.win = window_at(data, self.pos);
    }
    #[inline(always)]
    fn k(&self) -> u32 {
        self.st & St::K
    }
    #[inline(always)]
    fn slot(&self) -> usize {
        (self.st >> St::SLOT_SHIFT) as usize & 15
    }
}

/// Per-thread buffers, kept between scans: the walks' tables side by side, block
/// records of every stretch and the error lists.
pub(super) struct Scratch {
    flat: Box<[u16; FLAT]>,
    /// The tables copied into `flat`, in order.
    placed: Vec<Rc<LaneTable>>,
    /// Made when first needed: 32 MiB of address space, of which the pages written (8
    /// bytes a block walked) are what it costs.
    records: Option<Box<[u64; RECORDS]>>,
    errors: Vec<Vec<usize>>,
}

impl Default for Scratch {
    fn default() -> Self {
        Self {
            flat: vec![SLOW; FLAT]
                .into_boxed_slice()
                .try_into()
                .expect("FLAT entries"),
            placed: Vec::new(),
            records: None,
            errors: Vec::new(),
        }
    }
}

/// Each walk's records take a region of `STRIDE` entries; the last entry of a region is
/// its scrap record, which the steps inside a block write to.
const STRIDE: usize = 1 << 20;
const RECORDS: usize = 4 * STRIDE;
const SCRAP: usize = STRIDE - 1;

/// Room for four pairs of tables (a scan has at most four components).
const FLAT: usize = 8 * HALF;
const _: () = assert!(FLAT - 1 == (St::TABLE | (HALF as u32 - 1)) as usize);

/// A block record: start bit position (high 44 bits) and, in the low 20 bits, either
/// the block-start window, or [`EXPLICIT`] and the DC difference (12 bits, two's
/// complement) of a DC decoded on its own.
#[inline(always)]
fn record(start: u64, low: u64) -> u64 {
    (start << 20) | low
}

const EXPLICIT: u64 = 1 << 19;

#[inline(always)]
fn rec_pos(r: u64) -> u64 {
    r >> 20
}

/// The DC difference of a block record whose block's tables are `t`: looked up by the
/// recorded window (the DC code and its magnitude bits lie inside it), or held in the
/// record itself.
#[inline(always)]
fn rec_dc(r: u64, t: &LaneTable) -> i32 {
    if r & EXPLICIT != 0 {
        // Sign-extend the 12-bit number.
        return (((r as u32) << 20) as i32) >> 20;
    }
    i32::from(t.dc[(r & 0xFFFF) as usize])
}

/// [`rec_dc`] the long way, decoding the window with the DC table: what the lookup
/// table must give.
#[cfg(test)]
fn rec_dc_decoded(r: u64, t: &DcTable) -> i32 {
    if r & EXPLICIT != 0 {
        return (((r as u32) << 20) as i32) >> 20;
    }
    let window = (r & 0xFFFF) as u32;
    let e = t.fast[(window >> (WINDOW - DC_LOOKAHEAD)) as usize];
    let (len, size) = if e != 0 {
        (u32::from(e & 0xFF), u32::from(e >> 8))
    } else {
        match t.slow.decode(window) {
            Some((len, sym)) => (len, u32::from(sym)),
            None => return 0,
        }
    };
    if size > 11 || len + size > WINDOW {
        return 0;
    }
    let bits = (window << len) & 0xFFFF;
    extend((bits >> (WINDOW - size)) as i32, size)
}

/// The 64 bits of `data` from bit `pos` on (at least 57 of them the data's, the first at
/// the top), zero where fewer than 8 bytes are left from the byte `pos` is in.
#[inline(always)]
fn window_at(data: &[u8], pos: u64) -> u64 {
    let at = (pos >> 3) as usize;
    match data.get(at..at + 8) {
        Some(b) => u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        None => 0,
    }
    .wrapping_shl((pos & 7) as u32)
}

/// The most bits one step moves a walk on: a 16-bit code and 15 magnitude bits, with
/// room to spare. (A move to the next restart interval may go further, but never past
/// the walk's end.)
const MAX_STEP_BITS: u64 = 40;

/// What every step of every walk reads.
struct Walking<'a, 't> {
    data: &'a [u8],
    flat: &'a [u16; FLAT],
    /// Per MCU block: the state at the start of the next block.
    next: [u32; 16],
    slots: &'a [SlotTables<'t>],
    /// Where a walk that has finished its restart intervals is parked: past the data,
    /// where it reads zeros and its errors are not noted.
    park: u64,
}

/// The restart intervals of a scan: where each begins (bytes into the data) and how
/// many blocks each holds (the last may hold fewer).
#[derive(Clone, Copy)]
pub(super) struct Restarts<'a> {
    pub starts: &'a [usize],
    pub blocks: usize,
}

/// Each walk's place among the restart intervals, changed only when an interval ends.
struct Intervals<'a> {
    starts: &'a [usize],
    /// Blocks an interval, blocks in all, bits of data.
    blocks: usize,
    total: usize,
    bits: u64,
    /// Per walk: its first and last interval, the current one, the record index at which
    /// the current one ends, and the records it made once it has finished.
    first: [usize; LANES],
    last: [usize; LANES],
    cur: [usize; LANES],
    iend: [usize; LANES],
    done: [Option<usize>; LANES],
}

impl Intervals<'_> {
    /// Bit at which interval `i` ends (where the next begins, or the end of the data).
    fn end_bit(&self, i: usize) -> u64 {
        self.starts.get(i + 1).map_or(self.bits, |&s| s as u64 * 8)
    }
    /// Record index (of walk `j`) at which interval `i` ends.
    fn end_record(&self, j: usize, i: usize) -> usize {
        j * STRIDE + ((i + 1) * self.blocks).min(self.total) - self.first[j] * self.blocks
    }
}

/// Walks the scan `data` (unstuffed, zero padded; its restart intervals, if it has
/// more than one, in `restarts`) whose MCU is the blocks `slots`, of which those marked
/// in `luma` are luma blocks, and puts the DC coefficient of each luma block among its
/// `total` blocks, in order, into `luma_dc`. `None`: not done (nothing was put into
/// `luma_dc`), walk it the ordinary way.
///
/// With restart intervals every walk starts where an interval starts, so every walk is
/// true from its start and no junction is needed: the walks take whole intervals, and
/// each walk moves on from one interval to the next as the ordinary walk does.
#[allow(clippy::too_many_arguments)]
pub(super) fn walk<S: LumaSink>(
    data: &[u8],
    len: usize,
    slots: &[SlotTables<'_>],
    luma: &[bool],
    total: usize,
    restarts: Option<Restarts<'_>>,
    scratch: &mut Scratch,
    luma_dc: &mut S,
) -> Option<()> {
    let nb = slots.len();
    if nb == 0
        || nb > 16
        || luma.len() != nb
        || len < LANES * MIN_BYTES_PER_LANE
        || total == 0
        || data.len() < len + 8
    {
        return None;
    }
    // The distinct tables, side by side; per MCU block, the pair it uses. The copies
    // are kept for the next scan with the same tables.
    let mut pair = [0usize; 16];
    let mut distinct: Vec<&Rc<LaneTable>> = Vec::with_capacity(4);
    for (i, s) in slots.iter().enumerate() {
        pair[i] = match distinct.iter().position(|&d| Rc::ptr_eq(d, s.lane)) {
            Some(same) => same,
            None => {
                distinct.push(s.lane);
                distinct.len() - 1
            }
        };
    }
    if distinct.len() > FLAT / (2 * HALF) {
        return None;
    }
    let same = scratch.placed.len() == distinct.len()
        && scratch
            .placed
            .iter()
            .zip(&distinct)
            .all(|(a, &b)| Rc::ptr_eq(a, b));
    if !same {
        scratch.placed.clear();
        for (p, &d) in distinct.iter().enumerate() {
            scratch.flat[p * 2 * HALF..(p + 1) * 2 * HALF].copy_from_slice(&d.t[..]);
            scratch.placed.push(Rc::clone(d));
        }
    }
    let mut next = [0u32; 16];
    for (i, n) in next.iter_mut().enumerate().take(nb) {
        let after = if i + 1 == nb { 0 } else { i + 1 };
        *n = St::start(after, pair[after]);
    }
    let records: &mut [u64; RECORDS] = match &mut scratch.records {
        Some(r) => r,
        None => {
            let fresh = vec![0u64; RECORDS].into_boxed_slice().try_into().ok()?;
            scratch.records.insert(fresh)
        }
    };
    scratch.errors.resize_with(LANES, Vec::new);
    for e in &mut scratch.errors {
        e.clear();
    }
    let bits = len as u64 * 8;
    let mut errs = scratch.errors.iter_mut();
    let mut errs: [&mut Vec<usize>; LANES] =
        std::array::from_fn(|_| errs.next().expect("one list a walk"));
    let w = Walking {
        data,
        flat: &scratch.flat,
        next,
        slots,
        park: data.len() as u64 * 8,
    };
    let mut lanes = [Lane::default(); LANES];
    for (j, l) in lanes.iter_mut().enumerate() {
        l.st = St::start(0, pair[0]);
        l.blk = j * STRIDE;
    }
    match restarts {
        Some(r) => {
            let parts = by_intervals(&mut lanes, &w, records, &mut errs, r, total, bits)?;
            emit(&parts, &records[..], slots, luma, r.blocks, luma_dc);
            Some(())
        }
        None => {
            let parts = by_junctions(&mut lanes, &w, records, &mut errs, total, bits)?;
            emit(&parts, &records[..], slots, luma, 0, luma_dc);
            Some(())
        }
    }
}

/// Runs `together` with BMI2 and MOVBE where the CPU has them.
#[inline(always)]
fn run_together<const R: bool>(
    lanes: &mut [Lane; LANES],
    end: &[u64; LANES],
    w: &Walking<'_, '_>,
    records: &mut [u64; RECORDS],
    errs: &mut [&mut Vec<usize>; LANES],
    iv: &mut Intervals<'_>,
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = pulp::x86::V3::try_new() {
        v3.vectorize(
            #[inline(always)]
            || together::<R>(lanes, end, w, records, errs, iv),
        );
        return;
    }
    together::<R>(lanes, end, w, records, errs, iv);
}

/// Intervals that no walk uses: for the walk without restart intervals.
fn no_intervals() -> Intervals<'static> {
    Intervals {
        starts: &[],
        blocks: 0,
        total: 0,
        bits: 0,
        first: [0; LANES],
        last: [0; LANES],
        cur: [0; LANES],
        iend: [usize::MAX; LANES],
        done: [None; LANES],
    }
}

/// The walk of a scan with restart intervals: each walk takes whole intervals, about
/// as many bytes as the others. Returns each walk's records in true order.
#[allow(clippy::too_many_arguments)]
fn by_intervals(
    lanes: &mut [Lane; LANES],
    w: &Walking<'_, '_>,
    records: &mut [u64; RECORDS],
    errs: &mut [&mut Vec<usize>; LANES],
    r: Restarts<'_>,
    total: usize,
    bits: u64,
) -> Option<[(usize, usize); LANES]> {
    let count = total.div_ceil(r.blocks.max(1));
    if r.blocks == 0 || r.starts.len() < count || count < 2 * LANES {
        return None;
    }
    let mut iv = Intervals {
        starts: r.starts,
        blocks: r.blocks,
        total,
        bits,
        first: [0; LANES],
        last: [0; LANES],
        cur: [0; LANES],
        iend: [0; LANES],
        done: [None; LANES],
    };
    let len = bits as usize / 8;
    let used = &r.starts[..count];
    for j in 1..LANES {
        let first = used.partition_point(|&s| s < len * j / LANES);
        if first <= iv.first[j - 1] || first >= count {
            return None;
        }
        iv.first[j] = first;
    }
    let mut end = [0u64; LANES];
    for j in 0..LANES {
        iv.last[j] = if j + 1 < LANES {
            iv.first[j + 1] - 1
        } else {
            count - 1
        };
        iv.cur[j] = iv.first[j];
        iv.iend[j] = iv.end_record(j, iv.first[j]);
        end[j] = iv.end_bit(iv.last[j]);
        lanes[j].pos = used[iv.first[j]] as u64 * 8;
    }
    run_together::<true>(lanes, &end, w, records, errs, &mut iv);
    let mut parts = [(0usize, 0usize); LANES];
    for j in 0..LANES {
        alone::<true>(&mut lanes[j], end[j], w, records, errs, j, &mut iv);
        let want = ((iv.last[j] + 1) * iv.blocks).min(total) - iv.first[j] * iv.blocks;
        // Every error before the walk finished is real: the ordinary walk reports it.
        if iv.done[j] != Some(want) || errs[j].iter().any(|&e| e < j * STRIDE + want) {
            return None;
        }
        parts[j] = (0, want);
    }
    Some(parts)
}

/// The walk of a scan without restart intervals: stretches of equal work, the guessed
/// ones joined to the true walk at their junctions. Returns each walk's records that
/// belong to the true walk.
fn by_junctions(
    lanes: &mut [Lane; LANES],
    w: &Walking<'_, '_>,
    records: &mut [u64; RECORDS],
    errs: &mut [&mut Vec<usize>; LANES],
    total: usize,
    bits: u64,
) -> Option<[(usize, usize); LANES]> {
    let mut iv = no_intervals();
    let mut from = [0u64; LANES];
    let mut end = [0u64; LANES];
    // Stretches of equal work: each but the last also walks the overrun, so the last is
    // that much longer.
    let stretch = (bits - OVERRUN_BITS) / LANES as u64 / 8 * 8;
    for j in 0..LANES {
        from[j] = stretch * j as u64;
        end[j] = if j + 1 == LANES {
            bits + 64
        } else {
            stretch * (j as u64 + 1) + OVERRUN_BITS
        };
        lanes[j].pos = from[j];
    }
    run_together::<false>(lanes, &end, w, records, errs, &mut iv);
    for j in 0..LANES {
        alone::<false>(&mut lanes[j], end[j], w, records, errs, j, &mut iv);
    }
    // Join the walks. A walk that has not met the next one within the overrun goes on
    // alone as far as the next one went; if they still have not met, the next one never
    // found the true walk (it can keep off it through long runs of repeating data) and
    // is dropped: the walk goes on over its stretch to meet the one after, or to the end.
    let mut active = [true; LANES];
    let mut extended: [Option<usize>; LANES] = [None; LANES];
    loop {
        let walks: [(u64, usize); LANES] =
            std::array::from_fn(|j| (from[j], walk_count(&lanes[j], &errs[j][..], j)));
        let seen: [&[usize]; LANES] = std::array::from_fn(|j| &errs[j][..]);
        match join(
            &walks,
            &active,
            &records[..],
            &seen,
            w.slots.len(),
            total,
            bits,
        ) {
            Join::Parts(parts) => return Some(parts),
            Join::Apart(j, next) if extended[j] != Some(next) => {
                extended[j] = Some(next);
                // (A walk that stopped on errors is far past the data.)
                let until = lanes[next].pos.min(bits + 64);
                alone::<false>(&mut lanes[j], until, w, records, errs, j, &mut iv);
            }
            Join::Apart(j, next) => {
                active[next] = false;
                if !active[next + 1..].contains(&true) {
                    alone::<false>(&mut lanes[j], bits + 64, w, records, errs, j, &mut iv);
                }
            }
            Join::Fails => return None,
        }
    }
}

/// One walk on its own, until bit `end` or the end of its records.
fn alone<const R: bool>(
    l: &mut Lane,
    end: u64,
    w: &Walking<'_, '_>,
    records: &mut [u64; RECORDS],
    errs: &mut [&mut Vec<usize>; LANES],
    j: usize,
    iv: &mut Intervals<'_>,
) {
    l.reload(w.data);
    while l.pos < end && l.blk < j * STRIDE + SCRAP - 1 {
        step::<R>(l, w, records, errs, j, iv);
    }
}

/// All walks a step each in turn, for as many rounds as none of them can reach its end
/// or the end of its records in, then again, until they are near.
#[inline(always)]
fn together<const R: bool>(
    lanes: &mut [Lane; LANES],
    end: &[u64; LANES],
    w: &Walking<'_, '_>,
    records: &mut [u64; RECORDS],
    errs: &mut [&mut Vec<usize>; LANES],
    iv: &mut Intervals<'_>,
) {
    for l in lanes.iter_mut() {
        l.reload(w.data);
    }
    loop {
        let mut safe = u64::MAX;
        for j in 0..LANES {
            let by_bits = end[j].saturating_sub(lanes[j].pos) / MAX_STEP_BITS;
            let by_recs = (j * STRIDE + SCRAP - 1).saturating_sub(lanes[j].blk) as u64;
            safe = safe.min(by_bits).min(by_recs);
        }
        if safe < 16 {
            return;
        }
        let [mut a, mut b, mut c] = *lanes;
        for _ in 0..safe {
            step::<R>(&mut a, w, records, errs, 0, iv);
            step::<R>(&mut b, w, records, errs, 1, iv);
            step::<R>(&mut c, w, records, errs, 2, iv);
        }
        *lanes = [a, b, c];
    }
}

/// One step of one walk: a table lookup, or one symbol on its own when the table cannot
/// take it.
#[inline(always)]
fn step<const R: bool>(
    l: &mut Lane,
    w: &Walking<'_, '_>,
    rec: &mut [u64; RECORDS],
    errs: &mut [&mut Vec<usize>],
    j: usize,
    iv: &mut Intervals<'_>,
) {
    // The window at `pos` loaded again, while the lookup runs: the next step's window
    // is shifted from it. (A table step uses at most 26 bits of its 57.)
    let ahead = window_at(w.data, l.pos);
    let peek = (l.win >> (64 - WINDOW)) as usize;
    let e = u32::from(w.flat[(l.st & St::TABLE) as usize | peek]);
    let st = l.st + ((e >> ADV_SHIFT) & (COUNT | EOB));
    let kn = st & St::K;
    if kn & COUNT > 64 {
        *l = slow_step(*l, ahead, w, rec, errs, j);
        l.reload(w.data);
    } else {
        // A block's record is written at its start; later steps write to the scrap
        // record.
        let r = select_unpredictable(l.st & St::MID == 0, l.blk, l.blk | SCRAP);
        rec[r & (RECORDS - 1)] = record(l.pos, peek as u64);
        let used = e & USED;
        l.pos += u64::from(used);
        l.win = ahead << used;
        let ended = kn >= 64;
        l.blk += usize::from(ended);
        l.st = select_unpredictable(ended, w.next[l.slot()], st | St::MID);
    }
    if R && l.blk == iv.iend[j] {
        if let Some(errs) = errs.get_mut(j) {
            *l = restart(*l, errs, j, iv, w.park);
            l.reload(w.data);
        }
    }
}

/// One symbol decoded on its own, exactly as the ordinary walk does it.
#[cold]
#[inline(never)]
fn slow_step(
    mut l: Lane,
    win: u64,
    w: &Walking<'_, '_>,
    rec: &mut [u64; RECORDS],
    errs: &mut [&mut Vec<usize>],
    j: usize,
) -> Lane {
    let Some(errs) = errs.get_mut(j) else {
        return l;
    };
    let Some(t) = w.slots.get(l.slot()) else {
        return fail(l, w, rec, errs);
    };
    let k = l.k();
    if k == 0 {
        let Some((len, sym)) = t.dc.slow.decode((win >> 48) as u32) else {
            return fail(l, w, rec, errs);
        };
        let size = u32::from(sym);
        if size > 11 {
            return fail(l, w, rec, errs);
        }
        let dc = extend((((win << len) >> 1) >> (63 - size)) as i32, size);
        if let Some(r) = rec.get_mut(l.blk) {
            *r = record(l.pos, EXPLICIT | u64::from(dc as u32 & 0xFFF));
        }
        l.pos += u64::from(len + size);
        l.st |= St::MID | 1;
        return l;
    }
    let s = t.ac.single[(win >> 52) as usize];
    let (len, sym) = if s & 0xFF != 0 {
        (u32::from(s & 0xFF), (s >> 8) as u8)
    } else {
        match t.ac.slow.decode((win >> 48) as u32) {
            Some(x) => x,
            None => return fail(l, w, rec, errs),
        }
    };
    let (size, run) = (u32::from(sym & 15), u32::from(sym >> 4));
    l.pos += u64::from(len + size);
    let k = match (run, size) {
        (0, 0) => 64,
        (15, 0) => k + 16,
        (_, 0) => return fail(l, w, rec, errs),
        (r, _) => k + r + 1,
    };
    if k > 64 {
        return fail(l, w, rec, errs);
    }
    if k == 64 {
        end_block(l, w)
    } else {
        l.st = (l.st & !St::K) | St::MID | k;
        l
    }
}

/// The walk moves on to the next block of the MCU.
fn end_block(mut l: Lane, w: &Walking<'_, '_>) -> Lane {
    l.blk += 1;
    l.st = w.next[l.slot()];
    l
}

/// The end of a restart interval: the bits used must lie inside it (else an error is
/// noted on its last block, as the ordinary walk refuses the scan there); the walk moves
/// to the start of the next interval, or, after its last one, notes its count and is
/// parked.
#[cold]
#[inline(never)]
fn restart(
    mut l: Lane,
    errs: &mut Vec<usize>,
    j: usize,
    iv: &mut Intervals<'_>,
    park: u64,
) -> Lane {
    let i = iv.cur[j];
    if l.pos > iv.end_bit(i) {
        errs.push(l.blk - 1);
    }
    if i >= iv.last[j] {
        iv.done[j] = Some(l.blk - j * STRIDE);
        iv.iend[j] = usize::MAX;
        l.pos = park;
        return l;
    }
    iv.cur[j] = i + 1;
    iv.iend[j] = iv.end_record(j, i + 1);
    l.pos = iv.starts[i + 1] as u64 * 8;
    l
}

/// A decoding error: noted, and the walk goes on as if a block had ended one bit on (a
/// guessed walk still has to find its junction). The error that makes [`MAX_ERRORS`]
/// stops the walk: it is noted too, and the walk is parked past the data, where the
/// steps that the loop still gives it read zeros, note no errors and count for nothing
/// (the walk's records end at that block, see [`walk_count`]). A parked walk's errors
/// are not noted either.
///
/// A block that fails at its very start still gets its record (its start, no DC), so
/// that every record up to the walk's count is this walk's own, none left from an
/// earlier scan.
fn fail(mut l: Lane, w: &Walking<'_, '_>, rec: &mut [u64; RECORDS], errs: &mut Vec<usize>) -> Lane {
    if l.pos >= w.park {
        l.pos += 1;
        return end_block(l, w);
    }
    if l.k() == 0 {
        rec[l.blk & (RECORDS - 1)] = record(l.pos, EXPLICIT);
    }
    errs.push(l.blk);
    if errs.len() >= MAX_ERRORS {
        l.pos = w.park;
        return end_block(l, w);
    }
    l.pos += 1;
    end_block(l, w)
}

/// How many records walk `j` made that are its own: up to the block where it stopped
/// on errors, or all it has written (the block it is in included).
fn walk_count(l: &Lane, errs: &[usize], j: usize) -> usize {
    match errs.last() {
        Some(&stop) if errs.len() >= MAX_ERRORS => stop - j * STRIDE,
        _ => l.blk - j * STRIDE + usize::from(l.k() != 0),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Bits, BlockStart, Canonical, Entropy, PAD, decode_block};
    use super::table::tests::{ac_code, dc_code};
    use super::*;

    /// splitmix64: a small, fixed-seed source of test data.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Codes of a canonical Huffman code, by symbol: (code, length).
    fn codes(c: &Canonical) -> [(u32, u32); 256] {
        let mut out = [(0, 0); 256];
        let (mut code, mut i) = (0u32, 0usize);
        for len in 1..=16u32 {
            for _ in 0..c.counts[len as usize - 1] {
                out[usize::from(c.values[i])] = (code, len);
                code += 1;
                i += 1;
            }
            code <<= 1;
        }
        out
    }

    #[derive(Default)]
    struct Writer {
        bytes: Vec<u8>,
        acc: u64,
        n: u32,
    }

    impl Writer {
        fn put(&mut self, v: u32, len: u32) {
            for i in (0..len).rev() {
                self.acc = (self.acc << 1) | u64::from((v >> i) & 1);
                self.n += 1;
                if self.n == 8 {
                    self.bytes.push(self.acc as u8);
                    (self.acc, self.n) = (0, 0);
                }
            }
        }
        /// Ends the data as an encoder does (1-bits to the byte), then the zero padding.
        fn finish(mut self) -> (Vec<u8>, usize) {
            while self.n != 0 {
                self.put(1, 1);
            }
            let len = self.bytes.len();
            self.bytes.resize(len + PAD, 0);
            (self.bytes, len)
        }
    }

    /// A magnitude category and its bits for `v` (T.81 F.1.2.1).
    fn magnitude(v: i32) -> (u32, u32) {
        let size = 32 - v.unsigned_abs().leading_zeros();
        let bits = if v < 0 { v + (1 << size) - 1 } else { v };
        (size, bits as u32)
    }

    struct Codes {
        dc: [(u32, u32); 256],
        ac: [(u32, u32); 256],
    }

    /// How the blocks of a test stream look.
    #[derive(Clone, Copy)]
    enum Blocks {
        /// Noisy: anything from a DC alone to all 63 coefficients, long runs, ZRLs, and
        /// magnitudes up to the largest.
        Varied,
        /// DC difference 0 and EOB, over and over.
        Flat,
    }

    /// Encodes one block; returns its DC difference.
    fn block(w: &mut Writer, c: &Codes, rng: &mut Rng, kind: Blocks) -> i32 {
        let put = |w: &mut Writer, t: &[(u32, u32); 256], sym: u32| {
            let (code, len) = t[sym as usize];
            assert!(len > 0, "symbol {sym:#x} in the code");
            w.put(code, len);
        };
        if let Blocks::Flat = kind {
            put(w, &c.dc, 0);
            put(w, &c.ac, 0);
            return 0;
        }
        let size = match rng.below(20) {
            0..=13 => rng.below(5),
            14..=18 => 5 + rng.below(4),
            _ => 9 + rng.below(3),
        } as u32;
        let dc = if size == 0 {
            0
        } else {
            let m = (1i32 << (size - 1)) + rng.below(1 << (size - 1)) as i32;
            if rng.below(2) == 0 { m } else { -m }
        };
        let (s, bits) = magnitude(dc);
        put(w, &c.dc, s);
        w.put(bits, s);
        let full = rng.below(12) == 0;
        let mut k = 1u32;
        while k < 64 {
            if !full && rng.below(4) == 0 {
                put(w, &c.ac, 0x00);
                break;
            }
            let mut run = match rng.below(10) {
                0..=6 => rng.below(3),
                7 | 8 => rng.below(16),
                _ => 16 + rng.below(20),
            } as u32;
            run = run.min(63 - k);
            while run >= 16 {
                put(w, &c.ac, 0xF0);
                run -= 16;
                k += 16;
            }
            let size = if rng.below(30) == 0 {
                10
            } else {
                1 + rng.below(5) as u32
            };
            let m = (1i32 << (size - 1)) + rng.below(1 << (size - 1)) as i32;
            let (s, bits) = magnitude(if rng.below(2) == 0 { m } else { -m });
            put(w, &c.ac, (run << 4) | s);
            w.put(bits, s);
            k += run + 1;
        }
        dc
    }

    /// A scan of `mcus` MCUs whose blocks use code set `sets[i]` and are luma where
    /// `luma[i]`; `kind(m)` says how MCU `m` looks. Returns the entropy-coded data and
    /// the luma DC coefficients in order.
    fn stream(
        sets: &[&Codes],
        luma: &[bool],
        mcus: usize,
        seed: u64,
        kind: impl Fn(usize) -> Blocks,
    ) -> (Vec<u8>, usize, Vec<i32>) {
        let (bytes, len, _, want) = stream_with_restarts(sets, luma, mcus, seed, kind, 0);
        (bytes, len, want)
    }

    /// [`stream`] with a restart interval of `restart` MCUs (0: none): each interval
    /// filled to a whole byte with 1-bits, its start noted (the markers themselves are
    /// what unstuffing takes out), the DC prediction started again.
    fn stream_with_restarts(
        sets: &[&Codes],
        luma: &[bool],
        mcus: usize,
        seed: u64,
        kind: impl Fn(usize) -> Blocks,
        restart: usize,
    ) -> (Vec<u8>, usize, Vec<usize>, Vec<i32>) {
        let mut rng = Rng(seed);
        let mut w = Writer::default();
        let mut starts = vec![0];
        let mut pred = 0i32;
        let mut want = Vec::new();
        for m in 0..mcus {
            if restart > 0 && m > 0 && m.is_multiple_of(restart) {
                while w.n != 0 {
                    w.put(1, 1);
                }
                starts.push(w.bytes.len());
                pred = 0;
            }
            for (c, &is_luma) in sets.iter().zip(luma) {
                let diff = block(&mut w, c, &mut rng, kind(m));
                if is_luma {
                    pred += diff;
                    want.push(pred);
                }
            }
        }
        let (bytes, len) = w.finish();
        (bytes, len, starts, want)
    }

    /// Two code sets: luma as in [`ac_code`], chroma with its AC symbols in another order
    /// and the standard chroma DC lengths.
    fn code_sets() -> [(Canonical, Canonical); 2] {
        let y = (dc_code(), ac_code());
        let mut values = ac_code().values.clone();
        values[3..].reverse();
        let counts = [0u8, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
        let c = (
            Canonical::new(&counts, &(0..=11).collect::<Vec<u8>>()).expect("valid"),
            Canonical::new(&ac_code().counts, &values).expect("valid"),
        );
        [y, c]
    }

    /// The ordinary walk of the same data: luma DC coefficients, or `None` on an error
    /// or bits used past the end.
    fn ordinary(
        bytes: &[u8],
        len: usize,
        sets: &[(Canonical, Canonical)],
        layout: &[usize],
        luma: &[bool],
        total: usize,
    ) -> Option<Vec<i32>> {
        ordinary_with_restarts(bytes, len, &[0], 0, sets, layout, luma, total)
    }

    #[allow(clippy::too_many_arguments)]
    fn ordinary_with_restarts(
        bytes: &[u8],
        len: usize,
        starts: &[usize],
        restart: usize,
        sets: &[(Canonical, Canonical)],
        layout: &[usize],
        luma: &[bool],
        total: usize,
    ) -> Option<Vec<i32>> {
        let e = Entropy {
            bytes: bytes.to_vec(),
            starts: starts.to_vec(),
            len,
            end: len,
        };
        let tables: Vec<(BlockStart, DcTable, AcTable)> = sets
            .iter()
            .map(|(d, a)| {
                (
                    BlockStart::new(d, a),
                    DcTable::new(d.clone()),
                    AcTable::new(a.clone()),
                )
            })
            .collect();
        let mut b = Bits::new(&e);
        let (mut pred, mut out) = (0i32, Vec::new());
        for i in 0..total {
            let slot = i % layout.len();
            let mcu = i / layout.len();
            if restart > 0 && slot == 0 && mcu > 0 && mcu.is_multiple_of(restart) {
                b = b.restart().ok()?;
                pred = 0;
            }
            let (s, d, a) = &tables[layout[slot]];
            let diff = decode_block(&mut b, s, d, a).ok()?;
            if luma[slot] {
                pred = pred.wrapping_add(diff);
                out.push(pred);
            }
        }
        (!b.overran()).then_some(out)
    }

    /// The stretch walk of the same data.
    fn stretches(
        bytes: &[u8],
        len: usize,
        sets: &[(Canonical, Canonical)],
        layout: &[usize],
        luma: &[bool],
        total: usize,
        scratch: &mut Scratch,
    ) -> Option<Vec<i32>> {
        stretches_with_restarts(bytes, len, &[0], 0, sets, layout, luma, total, scratch)
    }

    #[allow(clippy::too_many_arguments)]
    fn stretches_with_restarts(
        bytes: &[u8],
        len: usize,
        starts: &[usize],
        restart: usize,
        sets: &[(Canonical, Canonical)],
        layout: &[usize],
        luma: &[bool],
        total: usize,
        scratch: &mut Scratch,
    ) -> Option<Vec<i32>> {
        let lane: Vec<Rc<LaneTable>> = sets
            .iter()
            .map(|(d, a)| Rc::new(LaneTable::new(d, a)))
            .collect();
        let dc: Vec<DcTable> = sets.iter().map(|(d, _)| DcTable::new(d.clone())).collect();
        let ac: Vec<AcTable> = sets.iter().map(|(_, a)| AcTable::new(a.clone())).collect();
        let slots: Vec<SlotTables<'_>> = layout
            .iter()
            .map(|&t| SlotTables {
                lane: &lane[t],
                dc: &dc[t],
                ac: &ac[t],
            })
            .collect();
        let restarts = (restart > 0).then_some(Restarts {
            starts,
            blocks: restart * layout.len(),
        });
        let mut out = Vec::new();
        walk(bytes, len, &slots, luma, total, restarts, scratch, &mut out)?;
        Some(out)
    }

    fn encoded(sets: &[(Canonical, Canonical)]) -> Vec<Codes> {
        sets.iter()
            .map(|(d, a)| Codes {
                dc: codes(d),
                ac: codes(a),
            })
            .collect()
    }

    #[test]
    fn stretches_give_the_ordinary_walk_for_varied_blocks() {
        let sets = code_sets();
        let enc = encoded(&sets);
        let mut scratch = Scratch::default();
        // 4:2:0 (four luma blocks, then two chroma) and a grey scan.
        for (layout, luma, mcus) in [
            (
                &[0usize, 0, 0, 0, 1, 1][..],
                &[true, true, true, true, false, false][..],
                6000,
            ),
            (&[0][..], &[true][..], 30_000),
        ] {
            for seed in 1..=3 {
                let codes: Vec<&Codes> = layout.iter().map(|&t| &enc[t]).collect();
                let (bytes, len, want) = stream(&codes, luma, mcus, seed, |_| Blocks::Varied);
                assert!(len > LANES * MIN_BYTES_PER_LANE, "{len} bytes");
                let total = mcus * layout.len();
                let by_stretches = stretches(&bytes, len, &sets, layout, luma, total, &mut scratch);
                assert_eq!(
                    ordinary(&bytes, len, &sets, layout, luma, total),
                    Some(want.clone())
                );
                assert_eq!(
                    by_stretches,
                    Some(want),
                    "seed {seed}, {} blocks an MCU",
                    layout.len()
                );
            }
        }
    }

    #[test]
    fn a_stretch_that_never_meets_the_true_walk_is_walked_by_the_one_before() {
        // Long runs of identical blocks: a walk started inside one can stay off the true
        // walk's block boundaries for as long as the run lasts.
        let sets = code_sets();
        let enc = encoded(&sets);
        let layout = [0usize, 0, 0, 0, 1, 1];
        let luma = [true, true, true, true, false, false];
        let codes: Vec<&Codes> = layout.iter().map(|&t| &enc[t]).collect();
        let mcus = 40_000;
        let flat = |m: usize| {
            if (m / 2_000).is_multiple_of(3) {
                Blocks::Varied
            } else {
                Blocks::Flat
            }
        };
        let (bytes, len, want) = stream(&codes, &luma, mcus, 7, flat);
        let total = mcus * layout.len();
        let mut scratch = Scratch::default();
        assert_eq!(
            stretches(&bytes, len, &sets, &layout, &luma, total, &mut scratch),
            Some(want)
        );
    }

    #[test]
    fn damaged_data_is_left_to_the_ordinary_walk_or_walked_alike() {
        let sets = code_sets();
        let enc = encoded(&sets);
        let layout = [0usize, 0, 1, 1];
        let luma = [true, true, false, false];
        let codes: Vec<&Codes> = layout.iter().map(|&t| &enc[t]).collect();
        let mcus = 8000;
        let total = mcus * layout.len();
        let mut scratch = Scratch::default();
        let mut rng = Rng(99);
        let (mut declined, mut alike) = (0, 0);
        // Without restart intervals, and with one every 50 MCUs.
        for round in 0..80 {
            let restart = if round < 40 { 0 } else { 50 };
            let (clean, len, starts, _) =
                stream_with_restarts(&codes, &luma, mcus, 11, |_| Blocks::Varied, restart);
            let mut bytes = clean.clone();
            match round % 4 {
                // A few flipped bits anywhere.
                0 | 1 => {
                    for _ in 0..1 + rng.below(3) {
                        let at = rng.below(len as u64) as usize;
                        bytes[at] ^= 1 << rng.below(8);
                    }
                }
                // All-ones (no such code), as damage from a bad sector.
                2 => {
                    let at = rng.below(len as u64 - 64) as usize;
                    bytes[at..at + 32].fill(0xFF);
                }
                // Cut short.
                _ => {
                    let keep = len / 2 + rng.below(len as u64 / 2) as usize;
                    bytes[keep..].fill(0);
                }
            }
            let want =
                ordinary_with_restarts(&bytes, len, &starts, restart, &sets, &layout, &luma, total);
            let got = stretches_with_restarts(
                &bytes,
                len,
                &starts,
                restart,
                &sets,
                &layout,
                &luma,
                total,
                &mut scratch,
            );
            match (want, got) {
                (_, None) => declined += 1,
                (Some(w), Some(g)) => {
                    assert_eq!(w, g, "round {round}");
                    alike += 1;
                }
                (None, Some(_)) => {
                    panic!("round {round}: the stretch walk took data the ordinary one refuses")
                }
            }
        }
        assert!(
            declined > 0,
            "some damage is refused ({alike} walked alike)"
        );
    }

    #[test]
    fn scans_with_restart_intervals_are_walked_an_interval_at_a_time() {
        let sets = code_sets();
        let enc = encoded(&sets);
        let mut scratch = Scratch::default();
        for (layout, luma, mcus, restart) in [
            (
                &[0usize, 0, 0, 0, 1, 1][..],
                &[true, true, true, true, false, false][..],
                6000,
                37,
            ),
            (
                &[0usize, 0, 1, 1][..],
                &[true, true, false, false][..],
                9001,
                250,
            ),
            (&[0][..], &[true][..], 30_000, 1),
        ] {
            let codes: Vec<&Codes> = layout.iter().map(|&t| &enc[t]).collect();
            let (bytes, len, starts, want) =
                stream_with_restarts(&codes, luma, mcus, 3, |_| Blocks::Varied, restart);
            let total = mcus * layout.len();
            let args = (&bytes[..], len, &starts[..], restart);
            assert_eq!(
                ordinary_with_restarts(args.0, args.1, args.2, args.3, &sets, layout, luma, total),
                Some(want.clone())
            );
            let got = stretches_with_restarts(
                args.0,
                args.1,
                args.2,
                args.3,
                &sets,
                layout,
                luma,
                total,
                &mut scratch,
            );
            assert_eq!(got, Some(want), "intervals of {restart} MCUs");
            // An interval that uses bits of the next (the fill bits cut short) is refused
            // both ways.
            let mut cut = starts.clone();
            let mid = cut.len() / 2;
            cut[mid] -= 1;
            assert_eq!(
                ordinary_with_restarts(args.0, args.1, &cut, restart, &sets, layout, luma, total),
                None
            );
            assert_eq!(
                stretches_with_restarts(
                    args.0,
                    args.1,
                    &cut,
                    restart,
                    &sets,
                    layout,
                    luma,
                    total,
                    &mut scratch,
                ),
                None
            );
            // Too few interval starts for the frame: refused.
            assert_eq!(
                stretches_with_restarts(
                    args.0,
                    args.1,
                    &starts[..starts.len() - 1],
                    restart,
                    &sets,
                    layout,
                    luma,
                    total,
                    &mut scratch,
                ),
                None
            );
        }
    }

    #[test]
    fn a_walk_stopped_by_errors_counts_only_what_it_walked() {
        let sets = code_sets();
        let lane = Rc::new(LaneTable::new(&sets[0].0, &sets[0].1));
        let (dc, ac) = (
            DcTable::new(sets[0].0.clone()),
            AcTable::new(sets[0].1.clone()),
        );
        let slots = [SlotTables {
            lane: &lane,
            dc: &dc,
            ac: &ac,
        }];
        let flat: Box<[u16; FLAT]> = vec![SLOW; FLAT].into_boxed_slice().try_into().unwrap();
        let w = Walking {
            data: &[0xFF; 64],
            flat: &flat,
            next: [0; 16],
            slots: &slots,
            park: 64 * 8,
        };
        let mut rec: Box<[u64; RECORDS]> = vec![u64::MAX; RECORDS]
            .into_boxed_slice()
            .try_into()
            .unwrap();
        let mut errs = Vec::new();
        let j = 1;
        let mut l = Lane {
            st: St::start(0, 0),
            blk: j * STRIDE,
            ..Lane::default()
        };
        for n in 0..MAX_ERRORS {
            assert!(l.pos < w.park, "still walking after {n} errors");
            l = fail(l, &w, &mut rec, &mut errs);
            // Each failed block start has its own record, at its own position.
            assert_eq!(rec_pos(rec[j * STRIDE + n]), n as u64);
        }
        // The last error stopped it: noted, and the walk parked.
        assert_eq!(errs.len(), MAX_ERRORS);
        assert!(l.pos >= w.park);
        let stopped = walk_count(&l, &errs, j);
        assert_eq!(stopped, MAX_ERRORS - 1);
        // Whatever the loop still gives it changes neither its errors nor its count.
        for _ in 0..100 {
            l = fail(l, &w, &mut rec, &mut errs);
        }
        assert_eq!(
            (errs.len(), walk_count(&l, &errs, j)),
            (MAX_ERRORS, stopped)
        );
    }

    #[test]
    fn stretches_starting_in_long_damage_are_refused_with_the_scan() {
        // Runs of 0xFF (no code) where the second and third walks start: they stop on
        // errors; the scratch buffers hold an earlier scan's records.
        let sets = code_sets();
        let enc = encoded(&sets);
        let layout = [0usize];
        let mut scratch = Scratch::default();
        let (other, other_len, want) = stream(&[&enc[0]], &[true], 30_000, 21, |_| Blocks::Varied);
        assert_eq!(
            stretches(
                &other,
                other_len,
                &sets,
                &layout,
                &[true],
                30_000,
                &mut scratch
            ),
            Some(want)
        );
        let (mut bytes, len, _) = stream(&[&enc[0]], &[true], 30_000, 22, |_| Blocks::Varied);
        let stretch = (len * 8 - OVERRUN_BITS as usize) / LANES / 8;
        for j in 1..LANES {
            let at = stretch * j;
            bytes[at - 512..at + 512].fill(0xFF);
        }
        assert_eq!(ordinary(&bytes, len, &sets, &layout, &[true], 30_000), None);
        assert_eq!(
            stretches(&bytes, len, &sets, &layout, &[true], 30_000, &mut scratch),
            None
        );
    }

    #[test]
    fn a_record_gives_back_its_dc_difference() {
        let lane = LaneTable::new(&dc_code(), &ac_code());
        // DC size 2 (011), magnitude 01: -2; then whatever follows.
        assert_eq!(rec_dc(record(77, 0b0110_1000_0000_0000), &lane), -2);
        // DC size 0 (00): 0.
        assert_eq!(rec_dc(record(5, 0b0011_1111_1111_1111), &lane), 0);
        // DC size 8 (111110), magnitude 11111111: 255.
        assert_eq!(rec_dc(record(9, 0b1111_1011_1111_1100), &lane), 255);
        // A difference decoded on its own is kept in the record.
        for v in [-2047, -1, 0, 1, 2047] {
            let r = record(1 << 30, EXPLICIT | u64::from(v as u32 & 0xFFF));
            assert_eq!((rec_dc(r, &lane), rec_pos(r)), (v, 1 << 30));
        }
    }

    #[test]
    fn the_dc_lookup_gives_what_decoding_the_window_gives() {
        // Codes up to 16 bits, so that some codes with their magnitude overrun the window.
        let long = Canonical::new(
            &[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1],
            &(0..=11).collect::<Vec<u8>>(),
        )
        .expect("valid");
        let mut dcs: Vec<Canonical> = code_sets().into_iter().map(|(d, _)| d).collect();
        dcs.push(long);
        for d in dcs {
            let lane = LaneTable::new(&d, &ac_code());
            let table = DcTable::new(d);
            let mut nonzero = 0;
            for w in 0..1u64 << WINDOW {
                let r = record(12345, w);
                let v = rec_dc(r, &lane);
                assert_eq!(v, rec_dc_decoded(r, &table), "window {w:016b}");
                nonzero += usize::from(v != 0);
            }
            assert!(nonzero > 1 << 14, "{nonzero}");
        }
    }

    #[test]
    fn too_few_blocks_are_refused() {
        let sets = code_sets();
        let enc = encoded(&sets);
        let layout = [0usize];
        let (bytes, len, want) = stream(&[&enc[0]], &[true], 30_000, 5, |_| Blocks::Varied);
        let mut scratch = Scratch::default();
        let walk = |total, scratch: &mut Scratch| {
            stretches(&bytes, len, &sets, &layout, &[true], total, scratch)
        };
        assert_eq!(walk(30_000, &mut scratch), Some(want.clone()));
        // The frame asks for more blocks than the data holds.
        assert_eq!(walk(30_100, &mut scratch), None);
        // Fewer: the data goes on after the last block (the ordinary walk ignores that).
        assert_eq!(walk(29_000, &mut scratch), Some(want[..29_000].to_vec()));
    }
}
