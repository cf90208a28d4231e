//! Joining the walks: where each guessed walk meets the true one, and the true walk's
//! DC coefficients in order.

use super::{LANES, LaneTable, SCRAP, STRIDE, SlotTables, rec_dc, rec_pos};

/// How the walks join: each walk's records that belong to the true walk (`valid..upto`
/// of its own), or a walk and the next one under way that have not met, or a check
/// that failed.
pub(super) enum Join {
    Parts([(usize, usize); LANES]),
    Apart(usize, usize),
    Fails,
}

/// Finds the junctions of the walks under way (`active`; the first always is).
/// `walks` holds each walk's starting bit and the number of records it wrote; `errors`
/// the blocks (indices in all records) where each met an error.
pub(super) fn join(
    walks: &[(u64, usize); LANES],
    active: &[bool; LANES],
    records: &[u64],
    errors: &[&[usize]; LANES],
    nb: usize,
    total: usize,
    bits: u64,
) -> Join {
    let written = |j: usize| &records[j * STRIDE..j * STRIDE + walks[j].1.min(SCRAP)];
    let mut parts = [(0usize, 0usize); LANES];
    // `first` is the true block index of walk j's record 0, `valid` its first true one.
    let (mut j, mut first, mut valid, mut done) = (0usize, 0usize, 0usize, 0usize);
    loop {
        let ours = written(j);
        let next = (j + 1..LANES).find(|&n| active[n]);
        let (upto, handover) = match next {
            Some(n) => {
                let Some((a, b)) = junction(ours, valid, first, written(n), nb, walks[n].0) else {
                    return Join::Apart(j, n);
                };
                let Some(next_first) = (first + a).checked_sub(b) else {
                    return Join::Fails;
                };
                (a, Some((n, next_first, b)))
            }
            None => {
                // The record after the last block says where that block ends.
                let Some(n) = total.checked_sub(first) else {
                    return Join::Fails;
                };
                match ours.get(n) {
                    Some(&r) if rec_pos(r) <= bits => (n, None),
                    _ => return Join::Fails,
                }
            }
        };
        // Errors in the part used are real: the ordinary walk reports them.
        let local = |e: usize| e.wrapping_sub(j * STRIDE);
        if upto < valid || errors[j].iter().any(|&e| (valid..upto).contains(&local(e))) {
            return Join::Fails;
        }
        parts[j] = (valid, upto);
        done += upto - valid;
        match handover {
            Some((n, f, v)) => (j, first, valid) = (n, f, v),
            None => break,
        }
    }
    if done != total {
        return Join::Fails;
    }
    Join::Parts(parts)
}

/// Where the luma DC coefficients of a scan go, one at a time, in decoding order.
pub(in crate::jpeg) trait LumaSink {
    fn put(&mut self, dc: i32);
    /// The luma blocks of one whole MCU, in order.
    #[inline(always)]
    fn put_mcu(&mut self, dcs: &[i32]) {
        for &dc in dcs {
            self.put(dc);
        }
    }
}

/// The coefficients in a list, in order (for the tests, which compare lists).
#[cfg(test)]
impl LumaSink for Vec<i32> {
    #[inline(always)]
    fn put(&mut self, dc: i32) {
        self.push(dc);
    }
}

/// Gives the luma DC coefficients of the joined walk to `out`: records in true order,
/// the first being the first block of an MCU. The other blocks' differences are not
/// even looked up. With restart intervals of `restart_blocks` blocks the prediction
/// starts again at each.
pub(super) fn emit<S: LumaSink>(
    parts: &[(usize, usize); LANES],
    records: &[u64],
    slots: &[SlotTables<'_>],
    luma: &[bool],
    restart_blocks: usize,
    out: &mut S,
) {
    let nb = slots.len();
    // The luma blocks of an MCU: their place in it and their DC table.
    let lumas: Vec<(usize, &LaneTable)> = (0..nb)
        .filter(|&s| luma[s])
        .map(|s| (s, &**slots[s].lane))
        .collect();
    let mut slot = 0usize;
    let mut dc = 0i32;
    // Records left in the restart interval. An interval is whole MCUs, so it ends only
    // where an MCU does.
    let mut left = restart_blocks;
    for (j, &(from, upto)) in parts.iter().enumerate() {
        let mut recs = &records[j * STRIDE + from..j * STRIDE + upto];
        loop {
            if slot == 0 {
                // Whole MCUs at a time.
                let mut mcus = recs.chunks_exact(nb);
                for mcu in &mut mcus {
                    if restart_blocks != 0 {
                        if left == 0 {
                            dc = 0;
                            left = restart_blocks;
                        }
                        left -= nb;
                    }
                    let mut dcs = [0i32; 16];
                    for (d, &(s, t)) in dcs.iter_mut().zip(&lumas) {
                        dc = dc.wrapping_add(rec_dc(mcu[s], t));
                        *d = dc;
                    }
                    out.put_mcu(&dcs[..lumas.len()]);
                }
                recs = mcus.remainder();
            }
            // An MCU split between two walks: a record at a time.
            let Some((&r, rest)) = recs.split_first() else {
                break;
            };
            recs = rest;
            if left == 0 && restart_blocks != 0 {
                dc = 0;
                left = restart_blocks;
            }
            left = left.wrapping_sub(1);
            if luma[slot] {
                dc = dc.wrapping_add(rec_dc(r, slots[slot].lane));
                out.put(dc);
            }
            slot = if slot + 1 == nb { 0 } else { slot + 1 };
        }
    }
}

/// The junction of a true walk (`ours`, true from record `valid`, whose record 0 is true
/// block `first`) and the next guessed walk (`theirs`, started at bit `from`): record
/// indices (a, b) of the first block start both recorded at the same bit position for
/// the same MCU block.
fn junction(
    ours: &[u64],
    valid: usize,
    first: usize,
    theirs: &[u64],
    nb: usize,
    from: u64,
) -> Option<(usize, usize)> {
    let mut a = valid + ours[valid.min(ours.len())..].partition_point(|&r| rec_pos(r) < from);
    let mut b = 0usize;
    while a < ours.len() && b < theirs.len() {
        let (pa, pb) = (rec_pos(ours[a]), rec_pos(theirs[b]));
        if pa < pb {
            a += 1;
        } else if pb < pa {
            b += 1;
        } else {
            if (first + a) % nb == b % nb {
                return Some((a, b));
            }
            a += 1;
            b += 1;
        }
    }
    None
}
