//! From luma samples to 64 bits: area-average to a 32×32 grid, put the grid upright
//! (EXIF orientation), take its 2-D DCT and keep one bit per low-frequency coefficient.
//!
//! Both decoding paths end here. The DC-only JPEG path hands over 1/8-scale samples (one
//! per 8×8 block), the general path full-resolution rows; the grid is an exact area
//! average over the picture in either case, so the two paths give the same grid up to
//! rounding and the padding of the last block row and column.

/// Side of the grid the DCT is taken of.
pub(crate) const GRID: usize = 32;

/// A 32×32 grid of mean luma values, row-major, in display orientation once
/// [`orient`] has been applied.
pub(crate) type Grid = [f64; GRID * GRID];

/// For one axis: how each source sample spreads over the 32 grid cells.
/// Entries are (source index, grid cell, weight), in source order.
fn axis_weights(samples: usize, cell: f64, extent: u32) -> Vec<(usize, usize, f64)> {
    let extent = f64::from(extent);
    let bin = extent / GRID as f64;
    let mut w = Vec::with_capacity(samples + GRID);
    for i in 0..samples {
        let lo = i as f64 * cell;
        let hi = ((i + 1) as f64 * cell).min(extent);
        if hi <= lo {
            break; // a padding sample wholly outside the picture
        }
        let first = ((lo / bin) as usize).min(GRID - 1);
        let last = (((hi / bin).ceil() as usize).max(first + 1)).min(GRID);
        for g in first..last {
            let a = lo.max(g as f64 * bin);
            let b = hi.min((g + 1) as f64 * bin);
            if b > a {
                w.push((i, g, b - a));
            }
        }
    }
    w
}

/// Streams rows of luma samples into a 32×32 area-average grid.
pub(crate) struct GridBuilder {
    cols: usize,
    /// The horizontal weights grouped by grid column, in source order within each:
    /// (source index, weight); column `g`'s are `xw[xstart[g]..xstart[g + 1]]`.
    xw: Vec<(usize, f64)>,
    xstart: [usize; GRID + 1],
    /// Sum of column `g`'s weights, added in the same order as its samples.
    xsum: [f64; GRID],
    /// For each source row, the (grid row, weight) pairs it contributes to.
    yw: Vec<Vec<(usize, f64)>>,
    acc: Grid,
    weight: [f64; GRID * GRID],
}

impl GridBuilder {
    /// `cols`×`rows` samples, each covering `cell_w`×`cell_h` pixels of a
    /// `width`×`height` picture.
    pub(crate) fn new(
        cols: usize,
        rows: usize,
        cell_w: f64,
        cell_h: f64,
        width: u32,
        height: u32,
    ) -> Self {
        let mut by_cell = axis_weights(cols, cell_w, width);
        // A stable sort keeps each cell's samples in source order.
        by_cell.sort_by_key(|&(_, g, _)| g);
        let mut xstart = [0usize; GRID + 1];
        let mut xsum = [0f64; GRID];
        for &(_, g, w) in &by_cell {
            xstart[g + 1] += 1;
            xsum[g] += w;
        }
        for g in 0..GRID {
            xstart[g + 1] += xstart[g];
        }
        let mut yw = vec![Vec::new(); rows];
        for (i, g, w) in axis_weights(rows, cell_h, height) {
            yw[i].push((g, w));
        }
        Self {
            cols,
            xw: by_cell.into_iter().map(|(i, _, w)| (i, w)).collect(),
            xstart,
            xsum,
            yw,
            acc: [0.0; GRID * GRID],
            weight: [0.0; GRID * GRID],
        }
    }

    /// Adds source row `r`, which holds the `cols` samples given to [`GridBuilder::new`]
    /// (a shorter row is ignored).
    pub(crate) fn add_row(&mut self, r: usize, row: &[f32]) {
        let Some(ys) = self.yw.get(r) else { return };
        debug_assert!(row.len() >= self.cols, "a whole row of samples");
        if ys.is_empty() || row.len() < self.cols {
            return;
        }
        // One running sum per grid column, kept in a register: the columns' sums are
        // independent chains, so they overlap.
        let mut line = [0f64; GRID];
        for (g, sum) in line.iter_mut().enumerate() {
            let mut s = 0.0;
            for &(i, w) in &self.xw[self.xstart[g]..self.xstart[g + 1]] {
                s += f64::from(row[i]) * w;
            }
            *sum = s;
        }
        for &(gy, wy) in ys {
            let cells = gy * GRID..(gy + 1) * GRID;
            for (a, v) in self.acc[cells.clone()].iter_mut().zip(&line) {
                *a += v * wy;
            }
            for (a, w) in self.weight[cells].iter_mut().zip(&self.xsum) {
                *a += w * wy;
            }
        }
    }

    pub(crate) fn finish(self) -> Grid {
        let mut g = self.acc;
        for (v, w) in g.iter_mut().zip(self.weight.iter()) {
            *v = if *w > 0.0 { *v / *w } else { 0.0 };
        }
        g
    }
}

/// The grid of a `width`×`height` luma plane given row by row (each `width` samples,
/// times `scale`), without a copy of the plane: one row is converted at a time.
pub(crate) fn grid_of_rows<'a, T: Copy + Into<f32> + 'a>(
    width: usize,
    height: usize,
    rows: impl Iterator<Item = &'a [T]>,
    scale: f32,
) -> Grid {
    let mut b = GridBuilder::new(width, height, 1.0, 1.0, width as u32, height as u32);
    let mut line = vec![0f32; width];
    for (r, row) in rows.take(height).enumerate() {
        for (y, &v) in line.iter_mut().zip(row) {
            *y = v.into() * scale;
        }
        b.add_row(r, &line[..row.len().min(width)]);
    }
    b.finish()
}

/// Puts a grid in display orientation, given the EXIF Orientation value (1..=8) of the
/// stored picture. Other values leave the grid as it is.
pub(crate) fn orient(g: &Grid, orientation: u8) -> Grid {
    let n = GRID - 1;
    let mut out = [0.0; GRID * GRID];
    for r in 0..GRID {
        for c in 0..GRID {
            // (r, c) in the displayed picture comes from (sr, sc) in the stored one.
            let (sr, sc) = match orientation {
                2 => (r, n - c),
                3 => (n - r, n - c),
                4 => (n - r, c),
                5 => (c, r),
                6 => (n - c, r),
                7 => (n - c, n - r),
                8 => (c, n - r),
                _ => (r, c),
            };
            out[r * GRID + c] = g[sr * GRID + sc];
        }
    }
    out
}

/// How many DCT rows and columns are computed: enough for the 8×8 low-frequency block
/// and for the first 64 AC coefficients in zig-zag order.
const LOW: usize = 11;

/// The DCT's cosines, `cos(π u (2x+1) / 64)`: computed once (each picture is hashed
/// eight times when its turned hashes are taken), the same values every time.
fn cos_table() -> &'static [[f64; GRID]; LOW] {
    static TABLE: std::sync::OnceLock<[[f64; GRID]; LOW]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [[0.0; GRID]; LOW];
        for (u, row) in t.iter_mut().enumerate() {
            for (x, v) in row.iter_mut().enumerate() {
                *v = (std::f64::consts::PI * u as f64 * (2 * x + 1) as f64 / (2 * GRID) as f64)
                    .cos();
            }
        }
        t
    })
}

/// The low-frequency corner (LOW×LOW) of the unnormalised 2-D DCT-II of the grid:
/// `d[u][v] = Σ_y Σ_x g[y][x] cos(π u (2y+1) / 64) cos(π v (2x+1) / 64)`. A constant scale
/// factor is left out: only the order of coefficients matters to the hash.
pub(crate) fn dct_low(g: &Grid) -> [[f64; LOW]; LOW] {
    let c = cos_table();
    // Rows first: t[y][v] = Σ_x g[y][x] c[v][x].
    let mut t = [[0.0; LOW]; GRID];
    for y in 0..GRID {
        for v in 0..LOW {
            let mut s = 0.0;
            for x in 0..GRID {
                s += g[y * GRID + x] * c[v][x];
            }
            t[y][v] = s;
        }
    }
    let mut d = [[0.0; LOW]; LOW];
    for u in 0..LOW {
        for v in 0..LOW {
            let mut s = 0.0;
            for (y, row) in t.iter().enumerate() {
                s += row[v] * c[u][y];
            }
            d[u][v] = s;
        }
    }
    d
}

/// Which 64 coefficients become bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The classic pHash: the 8×8 low-frequency block including DC, threshold at the median
    /// of those 64 values (the DC bit is then always set).
    Classic,
    /// The first 64 AC coefficients in zig-zag order (DC left out), threshold at their
    /// median: no constant bit, and a little more high-frequency detail.
    ZigzagAc,
}

/// The first 64 AC coefficients in zig-zag order, computed once.
fn zigzag_ac() -> &'static [(usize, usize)] {
    static ORDER: std::sync::OnceLock<Vec<(usize, usize)>> = std::sync::OnceLock::new();
    &ORDER.get_or_init(|| zigzag(64))[1..]
}

fn zigzag(n: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(n + 1);
    let mut s = 0;
    while out.len() < n + 1 {
        for i in 0..=s {
            let (u, v) = if s % 2 == 0 { (s - i, i) } else { (i, s - i) };
            if u < LOW && v < LOW {
                out.push((u, v));
            }
        }
        s += 1;
    }
    out.truncate(n + 1);
    out
}

/// The stored hash's 64 bits ([`Variant::ZigzagAc`]) of a grid already in display
/// orientation.
pub(crate) fn hash_bits(g: &Grid) -> u64 {
    bits(g, Variant::ZigzagAc)
}

/// The 64 bits of a grid already in display orientation. Bit 63 (the most significant)
/// is the first coefficient, so the hex form reads in coefficient order.
pub(crate) fn bits(g: &Grid, variant: Variant) -> u64 {
    let d = dct_low(g);
    let coeffs: Vec<f64> = match variant {
        Variant::Classic => (0..8)
            .flat_map(|u| (0..8).map(move |v| (u, v)))
            .map(|(u, v)| d[u][v])
            .collect(),
        Variant::ZigzagAc => zigzag_ac().iter().map(|&(u, v)| d[u][v]).collect(),
    };
    let mut sorted = coeffs.clone();
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[31] + sorted[32]) / 2.0;
    coeffs
        .iter()
        .fold(0u64, |h, &c| (h << 1) | u64::from(c > median))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_weights_cover_the_extent_exactly() {
        for (samples, cell, extent) in [
            (504, 8.0, 4032),
            (3, 8.0, 20),
            (1000, 1.0, 1000),
            (7, 8.0, 49),
        ] {
            let w = axis_weights(samples, cell, extent);
            let total: f64 = w.iter().map(|e| e.2).sum();
            assert!(
                (total - f64::from(extent)).abs() < 1e-6,
                "{samples} {cell} {extent}: {total}"
            );
            let mut per_cell = [0.0; GRID];
            for &(_, g, x) in &w {
                per_cell[g] += x;
            }
            for c in per_cell {
                assert!((c - f64::from(extent) / GRID as f64).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn grid_of_a_constant_picture_is_constant() {
        let mut b = GridBuilder::new(10, 7, 8.0, 8.0, 75, 50);
        for r in 0..7 {
            b.add_row(r, &[100.0; 10]);
        }
        let g = b.finish();
        assert!(g.iter().all(|&v| (v - 100.0).abs() < 1e-9));
    }

    #[test]
    fn dct_of_a_cosine_peaks_at_its_frequency() {
        let mut g = [0.0; GRID * GRID];
        for y in 0..GRID {
            for x in 0..GRID {
                g[y * GRID + x] = (std::f64::consts::PI * 3.0 * (2 * x + 1) as f64 / 64.0).cos();
            }
        }
        let d = dct_low(&g);
        let (mut best, mut at) = (0.0, (0, 0));
        for (u, row) in d.iter().enumerate() {
            for (v, x) in row.iter().enumerate() {
                if x.abs() > best {
                    best = x.abs();
                    at = (u, v);
                }
            }
        }
        assert_eq!(at, (0, 3));
    }

    #[test]
    fn orientations_undo_their_transforms() {
        let mut g = [0.0; GRID * GRID];
        for (i, v) in g.iter_mut().enumerate() {
            *v = i as f64;
        }
        // Orientation 6 is stored rotated 90° counter-clockwise; displaying rotates it
        // clockwise. Rotating the upright grid counter-clockwise and then orienting
        // must give the grid back.
        let n = GRID - 1;
        let mut ccw = [0.0; GRID * GRID];
        for r in 0..GRID {
            for c in 0..GRID {
                ccw[(n - c) * GRID + r] = g[r * GRID + c];
            }
        }
        assert_eq!(orient(&ccw, 6), g);
        let mut flipped = [0.0; GRID * GRID];
        for r in 0..GRID {
            for c in 0..GRID {
                flipped[r * GRID + (n - c)] = g[r * GRID + c];
            }
        }
        assert_eq!(orient(&flipped, 2), g);
        assert_eq!(orient(&orient(&g, 3), 3), g);
        assert_eq!(orient(&orient(&g, 5), 5), g);
        assert_eq!(orient(&orient(&g, 7), 7), g);
        assert_eq!(orient(&orient(&g, 6), 8), g);
    }

    #[test]
    fn zigzag_starts_like_jpeg() {
        let z = zigzag(64);
        assert_eq!(&z[..6], &[(0, 0), (0, 1), (1, 0), (2, 0), (1, 1), (0, 2)]);
        assert_eq!(z.len(), 65);
    }
}
