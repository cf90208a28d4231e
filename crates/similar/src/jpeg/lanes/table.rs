//! The stretch walk's lookup table: one lookup takes a block's start (its DC code and
//! magnitude and the AC symbols after them) or a run of AC symbols, over a 16-bit
//! window.

use super::super::{Canonical, extend};

/// Width of the stretch walk's lookup window.
pub(super) const WINDOW: u32 = 16;
pub(super) const HALF: usize = 1 << WINDOW;

/// A stretch-walk table: the block-start table (DC code and magnitude with the AC run
/// after it) in the first half, the AC table in the second, in one layout (see
/// [`ADV_SHIFT`]); the advance of a block-start entry counts from the block's start, DC
/// included. A block-start step only notes its window: the DC difference that window
/// fixes (the DC code and its magnitude bits lie inside it) is read again when the
/// walks are joined, away from the walk's chain of lookups. A DC whose magnitude bits
/// run past the window is decoded on its own.
pub(in crate::jpeg) struct LaneTable {
    pub(super) t: Box<[u16]>,
    /// Per block-start window: the DC difference it fixes (0 where the DC code and its
    /// magnitude do not lie inside the window, or it holds no DC code; no block-start
    /// step records such a window).
    pub(super) dc: Box<[i16; HALF]>,
}

/// The step-entry fields: bits used (0..6) and the advance (6..15): coefficients moved
/// (`COUNT` bits), with [`EOB`] when the step ends the block with EOB, in which case
/// the count is one more (the EOB must come before the 64th coefficient is passed). A
/// count over 64 once added to the block's position means the step cannot be taken as
/// it is; [`SLOW`] entries always give that.
pub(super) const USED: u32 = 63;
pub(super) const ADV_SHIFT: u32 = 6;
pub(super) const COUNT: u32 = 0xFF;
pub(super) const EOB: u32 = 0x100;
pub(super) const SLOW: u16 = 65 << ADV_SHIFT;

impl LaneTable {
    pub(in crate::jpeg) fn new(dc_code: &Canonical, ac_code: &Canonical) -> Self {
        let mut t = vec![SLOW; 2 * HALF].into_boxed_slice();
        let mut dc: Box<[i16; HALF]> = vec![0i16; HALF]
            .into_boxed_slice()
            .try_into()
            .expect("HALF entries");
        let dc_single = dc_code.single_table(WINDOW);
        let ac_single = ac_code.single_table(WINDOW);
        let runs = Runs::new(&ac_single);
        for p in 0..HALF {
            // Block start: the DC code and magnitude, then a run of AC symbols.
            let s = dc_single[p];
            let (len, size) = (u32::from(s & 0xFF), u32::from(s >> 8));
            if len != 0 && size <= 11 && len + size <= WINDOW {
                let bits = ((p as u32) << len) & (HALF as u32 - 1);
                dc[p] = extend((bits >> (WINDOW - size)) as i32, size) as i16;
                let (used, adv, eob) = runs.after(p as u32, len + size);
                // The AC part is kept only if it stays inside the block.
                let (used, pos) = if eob && adv < 63 {
                    (len + size + used, EOB | (1 + adv + 1))
                } else if !eob && adv < 62 {
                    (len + size + used, 1 + adv)
                } else {
                    (len + size, 1)
                };
                t[p] = (used | (pos << ADV_SHIFT)) as u16;
            }
            // Inside a block: a run of whole AC symbols, or one whose magnitude bits run
            // past the window.
            let (used, adv, eob) = runs.after(p as u32, 0);
            if used != 0 {
                // Capped so that a run reaching the 64th coefficient before its end
                // (or before its EOB) always counts as crossing the block's end.
                let adv = if eob {
                    EOB | (adv.min(64) + 1)
                } else {
                    adv.min(65)
                };
                t[HALF + p] = (used | (adv << ADV_SHIFT)) as u16;
            } else {
                let s = ac_single[p];
                let len = u32::from(s & 0xFF);
                let (run, size) = (u32::from(s >> 12), u32::from((s >> 8) & 15));
                if len != 0 && size != 0 && len + size <= WINDOW + 10 {
                    t[HALF + p] = ((len + size) | ((run + 1) << ADV_SHIFT)) as u16;
                }
            }
        }
        Self { t, dc }
    }
}

/// The run of whole AC symbols in the last `n` bits of a window, for every `n` up to
/// [`WINDOW`] and every pattern of those bits, each made from the run after its first
/// symbol: (bits used, coefficient advance (127 at most), ends with EOB). A run stops
/// at EOB, and before a symbol that is not whole in the bits or not a valid symbol
/// (the walk decodes that one on its own). Unlike a run built symbol by symbol, it does
/// not stop once it passes the 64th coefficient: such a run never fits a block, and the
/// walk decodes its first symbol on its own either way.
struct Runs {
    /// Indexed by `(1 << n) + pattern`; packed as used | adv << 5 | eob << 12.
    runs: Vec<u16>,
}

impl Runs {
    fn new(single: &[u16]) -> Self {
        let mut runs = vec![0u16; 2 << WINDOW];
        for n in 1..=WINDOW {
            for q in 0..1u32 << n {
                let s = single[(q << (WINDOW - n)) as usize];
                let (len, sym) = (u32::from(s & 0xFF), u32::from(s >> 8));
                let (size, run) = (sym & 15, sym >> 4);
                if len == 0 || len + size > n {
                    continue;
                }
                let entry = match (run, size) {
                    (0, 0) => len | (1 << 12),
                    (_, 0) if run != 15 => continue,
                    _ => {
                        let step = if size == 0 { 16 } else { run + 1 };
                        let m = n - len - size;
                        let rest = u32::from(runs[(1usize << m) + (q & ((1 << m) - 1)) as usize]);
                        let adv = (step + ((rest >> 5) & 127)).min(127);
                        (len + size + (rest & 31)) | (adv << 5) | (rest & (1 << 12))
                    }
                };
                runs[(1usize << n) + q as usize] = entry as u16;
            }
        }
        Self { runs }
    }

    /// The run in window `p` from bit `start` on.
    fn after(&self, p: u32, start: u32) -> (u32, u32, bool) {
        let n = WINDOW - start;
        let e = u32::from(self.runs[(1usize << n) + (p & ((1 << n) - 1)) as usize]);
        (e & 31, (e >> 5) & 127, e & (1 << 12) != 0)
    }
}

#[cfg(test)]
pub(in crate::jpeg) mod tests {
    use super::super::super::ac_run_in;
    use super::*;

    /// An AC code with the standard length distribution (T.81 K.3.2), 162 symbols.
    pub(crate) fn ac_code() -> Canonical {
        let counts = [0u8, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125];
        let mut values = vec![0x01, 0x02, 0x00, 0x03, 0x11, 0x04, 0x05, 0x21, 0x12];
        for size in 1..=10u8 {
            for run in 0..16u8 {
                let v = (run << 4) | size;
                if !values.contains(&v) {
                    values.push(v);
                }
            }
        }
        // ZRL among the 11-bit codes, as in the standard table.
        values.insert(29, 0xF0);
        Canonical::new(&counts, &values).expect("valid code")
    }

    /// The standard luminance DC code (T.81 K.3.1).
    pub(crate) fn dc_code() -> Canonical {
        let counts = [0u8, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
        Canonical::new(&counts, &(0..=11).collect::<Vec<u8>>()).expect("valid code")
    }

    #[test]
    fn runs_agree_with_symbol_by_symbol_runs() {
        let single = ac_code().single_table(WINDOW);
        let runs = Runs::new(&single);
        let mut checked = 0;
        for p in (0..HALF as u32).step_by(7) {
            for start in [0, 3, 9, 15] {
                let r = ac_run_in(&single, p, start, WINDOW);
                let (used, adv, eob) = runs.after(p, start);
                if r.adv >= 64 {
                    // Past the block's end either way: both are decoded symbol by symbol.
                    assert!(adv >= 64, "pattern {p:016b} from {start}");
                    continue;
                }
                assert_eq!(
                    (used, adv, eob),
                    (r.used - start, r.adv, r.eob),
                    "pattern {p:016b} from {start}"
                );
                checked += 1;
            }
        }
        assert!(checked > 30_000, "{checked} patterns checked");
    }

    #[test]
    fn entries_say_what_one_step_takes() {
        let t = LaneTable::new(&dc_code(), &ac_code());
        let field = |e: u16| {
            let e = u32::from(e);
            (
                e & USED,
                (e >> ADV_SHIFT) & COUNT,
                e & (EOB << ADV_SHIFT) != 0,
            )
        };
        // Block start: DC 00 (size 0), then EOB (100): 5 bits, the block ends; the DC
        // difference is 0.
        let p = 0b00_100 << 11;
        assert_eq!(field(t.t[p]), (5, 2, true));
        // DC size 2 (code 011), magnitude 01 (-2), then AC 00 (run 0 size 1) and bit 1 (+1),
        // then EOB (100): 3 + 2 + 3 + 3 = 11 bits, two coefficients then EOB.
        #[allow(clippy::unusual_byte_groupings)] // grouped by field
        let p = 0b011_01_00_1_100 << 5;
        assert_eq!(field(t.t[p]), (11, 1 + 1 + 1, true));
        // DC size 11 (nine-bit code 111111110) and eleven magnitude bits do not fit the
        // window: decoded on its own.
        assert_eq!(t.t[0b1_1111_1110 << 7], SLOW);
        // Inside a block: a ZRL and nothing else that fits make a run of 16.
        let single = ac_code().single_table(WINDOW);
        let (code, len) = (0..HALF)
            .find(|&q| single[q] >> 8 == 0xF0)
            .map(|q| {
                (
                    q as u32 >> (WINDOW - u32::from(single[q] & 0xFF)),
                    u32::from(single[q] & 0xFF),
                )
            })
            .expect("ZRL in the code");
        assert_eq!(len, 11);
        // ZRL then a 5-bit rest that starts with a 16-bit code's first bits (all ones).
        let p = ((code << 5) | 0b11111) as usize;
        assert_eq!(field(t.t[HALF + p]), (11, 16, false));
        // An unused all-ones pattern is no code: decoded on its own.
        assert_eq!(t.t[HALF + 0xFFFF], SLOW);
    }
}
