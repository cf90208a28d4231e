//! The near-duplicate index: multi-index hashing over four 16-bit substrings.
//!
//! Pigeonhole: if two 64-bit hashes differ in at most `d` bits and the bits are split into
//! four substrings, at least one substring differs in at most `⌊d/4⌋` bits. So a query
//! looks up, in each of four tables keyed by one substring, every key within `⌊d/4⌋` bits
//! of the query's substring (1 key for d ≤ 3, 17 for d ≤ 7, 137 for d ≤ 11), and checks
//! the full distance of what it finds there. When the expected number of candidates
//! approaches a linear scan, it does a linear scan instead.
//!
//! Substrings take interleaved bits (bit i goes to substring i mod 4): neighbouring DCT
//! coefficients are correlated, and interleaving spreads them over the tables so that
//! buckets stay even. Internally every hash is stored with its bits permuted so that each
//! substring is a contiguous 16-bit field; Hamming distance does not change under a
//! permutation.
//!
//! Layout (per entry 28 bytes): the permuted hashes and their ids sorted by hash (this
//! order is also the table of the first substring, which therefore needs only bucket
//! offsets), and for each other substring an array of u32 positions sorted by that
//! substring. New entries go to a small unsorted buffer that queries scan linearly; it is
//! merged into the sorted part once it outgrows an eighth of it (bounded between 4 Ki and
//! 256 Ki entries), so n inserts cost O(n log n) in all.

use std::sync::OnceLock;

use crate::PHash;

const CHUNKS: usize = 4;
const KEY_BITS: u32 = 16;
const BUCKETS: usize = 1 << KEY_BITS;

/// Byte-wise lookup: `PERM[b][v]` is where the bits of value `v` in byte `b` of a hash go.
fn perm_table() -> &'static [[u64; 256]; 8] {
    static T: OnceLock<Box<[[u64; 256]; 8]>> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = Box::new([[0u64; 256]; 8]);
        for (b, row) in t.iter_mut().enumerate() {
            for (v, out) in row.iter_mut().enumerate() {
                let mut p = 0u64;
                for bit in 0..8 {
                    if v >> bit & 1 == 1 {
                        let i = b * 8 + bit; // bit index in the hash, 0 = least significant
                        let chunk = i % CHUNKS;
                        let within = i / CHUNKS;
                        // Chunk 0 occupies the top 16 bits.
                        p |= 1u64 << ((CHUNKS - 1 - chunk) * KEY_BITS as usize + within);
                    }
                }
                *out = p;
            }
        }
        t
    })
}

fn permute(h: u64) -> u64 {
    let t = perm_table();
    h.to_le_bytes()
        .iter()
        .enumerate()
        .fold(0, |acc, (b, &v)| acc | t[b][usize::from(v)])
}

#[inline]
fn key(p: u64, chunk: usize) -> usize {
    ((p >> ((CHUNKS - 1 - chunk) * KEY_BITS as usize)) & 0xFFFF) as usize
}

/// All 16-bit masks ordered by number of set bits; the first `ball(r)` of them are the
/// flips within distance r.
fn masks_by_weight() -> &'static [u16] {
    static M: OnceLock<Vec<u16>> = OnceLock::new();
    M.get_or_init(|| {
        let mut m: Vec<u16> = (0..=u16::MAX).collect();
        m.sort_by_key(|x| (x.count_ones(), *x));
        m
    })
}

fn ball(r: u32) -> usize {
    // Σ_{i ≤ r} C(16, i)
    let mut total = 0usize;
    let mut c = 1usize;
    for i in 0..=r.min(KEY_BITS) {
        total += c;
        c = c * (KEY_BITS - i) as usize / (i + 1) as usize;
    }
    total
}

/// A set of (id, hash) entries answering "which ids have a hash within distance d".
///
/// An id may be inserted more than once (with several hashes, say keyframes of one
/// video); it is then reported once, at its smallest distance, and all its hashes join
/// the same cluster. Capacity: 2^32 − 1 entries.
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// Sorted part: permuted hashes and their ids, ordered by (hash, id).
    hashes: Vec<u64>,
    ids: Vec<u64>,
    /// Bucket offsets per substring (BUCKETS + 1 each); empty while nothing is sorted.
    offsets: Vec<Vec<u32>>,
    /// Positions into the sorted part, ordered by substring 1, 2 and 3.
    slots: Vec<Vec<u32>>,
    /// Unsorted recent entries: (permuted hash, id).
    pending: Vec<(u64, u64)>,
}

impl Index {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries (not distinct ids).
    pub fn len(&self) -> usize {
        self.hashes.len() + self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds an entry. Amortised O(log n).
    ///
    /// # Panics
    /// When the index would hold more than 2^32 − 1 entries.
    pub fn insert(&mut self, id: u64, hash: PHash) {
        assert!(self.len() < u32::MAX as usize, "index is full");
        self.pending.push((permute(hash.0), id));
        if self.pending.len() >= (self.hashes.len() / 8).clamp(4096, 1 << 18) {
            self.compact();
        }
    }

    /// Moves every pending entry into the sorted tables (done by [`Index::insert`] as
    /// needed; call it after a bulk load to make queries as fast as they get).
    pub fn compact(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_unstable();
        let (old_h, old_i) = (
            std::mem::take(&mut self.hashes),
            std::mem::take(&mut self.ids),
        );
        let n = old_h.len() + pending.len();
        let mut hashes = Vec::with_capacity(n);
        let mut ids = Vec::with_capacity(n);
        let (mut a, mut b) = (0, 0);
        while a < old_h.len() || b < pending.len() {
            let take_old =
                b == pending.len() || (a < old_h.len() && (old_h[a], old_i[a]) <= pending[b]);
            if take_old {
                hashes.push(old_h[a]);
                ids.push(old_i[a]);
                a += 1;
            } else {
                hashes.push(pending[b].0);
                ids.push(pending[b].1);
                b += 1;
            }
        }
        self.hashes = hashes;
        self.ids = ids;
        self.rebuild_tables();
    }

    fn rebuild_tables(&mut self) {
        self.offsets.clear();
        self.slots.clear();
        for chunk in 0..CHUNKS {
            let mut off = vec![0u32; BUCKETS + 1];
            for &h in &self.hashes {
                off[key(h, chunk) + 1] += 1;
            }
            for k in 0..BUCKETS {
                off[k + 1] += off[k];
            }
            if chunk > 0 {
                let mut next = off.clone();
                let mut slots = vec![0u32; self.hashes.len()];
                for (pos, &h) in self.hashes.iter().enumerate() {
                    let k = key(h, chunk);
                    slots[next[k] as usize] = pos as u32;
                    next[k] += 1;
                }
                self.slots.push(slots);
            }
            self.offsets.push(off);
        }
    }

    /// Entries within `max_distance` of `hash`: (id, distance), sorted by distance then
    /// id, each id once at its smallest distance.
    pub fn query(&self, hash: PHash, max_distance: u32) -> Vec<(u64, u32)> {
        let q = permute(hash.0);
        let mut found: Vec<(u64, u32)> = Vec::new();
        self.for_each_sorted_match(q, max_distance, |pos, d| found.push((self.ids[pos], d)));
        for &(h, id) in &self.pending {
            let d = (h ^ q).count_ones();
            if d <= max_distance {
                found.push((id, d));
            }
        }
        found.sort_unstable_by_key(|&(id, d)| (id, d));
        found.dedup_by_key(|e| e.0);
        found.sort_unstable_by_key(|&(id, d)| (d, id));
        found
    }

    /// Calls `f(position, distance)` for every entry of the sorted part within `d` of the
    /// permuted hash `q`, each position exactly once.
    fn for_each_sorted_match(&self, q: u64, d: u32, mut f: impl FnMut(usize, u32)) {
        let n = self.hashes.len();
        if n == 0 {
            return;
        }
        let r = d / CHUNKS as u32;
        let keys = ball(r);
        // Expected candidates: CHUNKS tables × keys × n / BUCKETS. Table lookups touch
        // memory at random, so switch to a scan well before they reach n.
        if r >= KEY_BITS || CHUNKS * keys * 4 >= BUCKETS {
            for (pos, &h) in self.hashes.iter().enumerate() {
                let dist = (h ^ q).count_ones();
                if dist <= d {
                    f(pos, dist);
                }
            }
            return;
        }
        let masks = &masks_by_weight()[..keys];
        let mut seen: Vec<u32> = Vec::new();
        for chunk in 0..CHUNKS {
            let qk = key(q, chunk);
            let off = &self.offsets[chunk];
            for &m in masks {
                let k = qk ^ usize::from(m);
                let (lo, hi) = (off[k] as usize, off[k + 1] as usize);
                if chunk == 0 {
                    for (pos, &h) in self.hashes[lo..hi].iter().enumerate() {
                        let dist = (h ^ q).count_ones();
                        if dist <= d {
                            seen.push((lo + pos) as u32);
                        }
                    }
                } else {
                    for &pos in &self.slots[chunk - 1][lo..hi] {
                        let dist = (self.hashes[pos as usize] ^ q).count_ones();
                        if dist <= d {
                            seen.push(pos);
                        }
                    }
                }
            }
        }
        // A match can turn up in several tables.
        seen.sort_unstable();
        seen.dedup();
        for pos in seen {
            let pos = pos as usize;
            f(pos, (self.hashes[pos] ^ q).count_ones());
        }
    }

    /// Groups of ids whose hashes are linked by chains of "within `max_distance`" (the
    /// connected components of that relation), leaving out ids that match nothing. Each
    /// group is sorted ascending and holds distinct ids; groups are ordered by their
    /// smallest id. Deterministic for a given set of entries, whatever the insertion order.
    ///
    /// Cost: one query per distinct hash, so O(n · query time); fine for the millions of
    /// a large vault at small distances, a batch job beyond that.
    pub fn clusters(&self, max_distance: u32) -> Vec<Vec<u64>> {
        let owned;
        let idx = if self.pending.is_empty() {
            self
        } else {
            let mut c = self.clone();
            c.compact();
            owned = c;
            &owned
        };
        let n = idx.hashes.len();
        let mut uf = UnionFind::new(n);
        // Entries of one id belong together.
        let mut by_id: Vec<u32> = (0..n as u32).collect();
        by_id.sort_unstable_by_key(|&p| idx.ids[p as usize]);
        for w in by_id.windows(2) {
            if idx.ids[w[0] as usize] == idx.ids[w[1] as usize] {
                uf.union(w[0] as usize, w[1] as usize);
            }
        }
        // Equal hashes are adjacent in the sorted part: join runs, query once per run.
        let mut pos = 0;
        while pos < n {
            let mut end = pos + 1;
            while end < n && idx.hashes[end] == idx.hashes[pos] {
                uf.union(pos, end);
                end += 1;
            }
            idx.for_each_sorted_match(idx.hashes[pos], max_distance, |other, _| {
                uf.union(pos, other);
            });
            pos = end;
        }
        let mut groups: std::collections::BTreeMap<usize, Vec<u64>> = Default::default();
        for p in 0..n {
            groups.entry(uf.find(p)).or_default().push(idx.ids[p]);
        }
        let mut out: Vec<Vec<u64>> = groups
            .into_values()
            .map(|mut g| {
                g.sort_unstable();
                g.dedup();
                g
            })
            .filter(|g| g.len() > 1)
            .collect();
        out.sort_unstable_by_key(|g| g[0]);
        out
    }

    /// Approximate heap memory held, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.hashes.capacity() * 8
            + self.ids.capacity() * 8
            + self.offsets.iter().map(|o| o.capacity() * 4).sum::<usize>()
            + self.slots.iter().map(|s| s.capacity() * 4).sum::<usize>()
            + self.pending.capacity() * 16
    }
}

impl Extend<(u64, PHash)> for Index {
    fn extend<I: IntoIterator<Item = (u64, PHash)>>(&mut self, iter: I) {
        for (id, h) in iter {
            assert!(self.len() < u32::MAX as usize, "index is full");
            self.pending.push((permute(h.0), id));
        }
        self.compact();
    }
}

impl FromIterator<(u64, PHash)> for Index {
    fn from_iter<I: IntoIterator<Item = (u64, PHash)>>(iter: I) -> Self {
        let mut idx = Index::new();
        idx.extend(iter);
        idx
    }
}

struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] as usize != x {
            let p = self.parent[x] as usize;
            self.parent[x] = self.parent[p];
            x = p;
        }
        x
    }

    /// Joins two sets; the smaller root becomes the root, which keeps results
    /// independent of the order of unions.
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi] = lo as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: deterministic test data without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        /// `h` with `k` distinct random bits flipped.
        fn flip(&mut self, h: u64, k: u32) -> u64 {
            let mut out = h;
            while (out ^ h).count_ones() < k {
                out ^= 1 << (self.next() % 64);
                if (out ^ h).count_ones() > k {
                    out = h;
                }
            }
            out
        }
    }

    fn brute(entries: &[(u64, u64)], q: u64, d: u32) -> Vec<(u64, u32)> {
        let mut best: std::collections::BTreeMap<u64, u32> = Default::default();
        for &(id, h) in entries {
            let dist = (h ^ q).count_ones();
            if dist <= d {
                let e = best.entry(id).or_insert(dist);
                *e = (*e).min(dist);
            }
        }
        let mut v: Vec<(u64, u32)> = best.into_iter().collect();
        v.sort_by_key(|&(id, d)| (d, id));
        v
    }

    #[test]
    fn permutation_is_a_bijection_and_keeps_distances() {
        let mut rng = Rng(7);
        let mut seen = std::collections::HashSet::new();
        for i in 0..64 {
            assert!(seen.insert(permute(1 << i)), "bit {i} collides");
            assert_eq!(permute(1 << i).count_ones(), 1);
        }
        for _ in 0..1000 {
            let (a, b) = (rng.next(), rng.next());
            assert_eq!((permute(a) ^ permute(b)).count_ones(), (a ^ b).count_ones());
        }
    }

    #[test]
    fn ball_sizes() {
        assert_eq!(ball(0), 1);
        assert_eq!(ball(1), 17);
        assert_eq!(ball(2), 137);
        assert_eq!(ball(16), 65536);
        let m = masks_by_weight();
        assert!(m[..ball(2)].iter().all(|x| x.count_ones() <= 2));
        assert!(m[ball(2)..].iter().all(|x| x.count_ones() > 2));
    }

    /// Random hashes plus planted neighbours at every distance; the index must agree with
    /// brute force for every query distance, with part of the data still pending.
    #[test]
    fn queries_match_brute_force_at_every_distance() {
        let mut rng = Rng(0x5eed);
        let mut entries: Vec<(u64, u64)> = Vec::new();
        let mut centres = Vec::new();
        for id in 0..12_000u64 {
            entries.push((id, rng.next()));
        }
        let mut id = 1_000_000u64;
        for _ in 0..40 {
            let c = rng.next();
            centres.push(c);
            for k in 0..=24 {
                entries.push((id, rng.flip(c, k)));
                id += 1;
            }
        }
        // A repeated id with two hashes, and a repeated hash with two ids.
        entries.push((5, centres[0]));
        entries.push((id, centres[1]));

        let mut idx: Index = entries[..8_000]
            .iter()
            .map(|&(i, h)| (i, PHash(h)))
            .collect();
        for &(i, h) in &entries[8_000..] {
            idx.insert(i, PHash(h));
        }
        assert!(
            !idx.pending.is_empty(),
            "test must cover the pending buffer"
        );
        assert_eq!(idx.len(), entries.len());
        // Brute force once per query at distance 64; smaller distances are its prefixes.
        let check = |idx: &Index, q: u64, what: &str, max_d: u32| {
            let all = brute(&entries, q, 64);
            for d in 0..=max_d {
                let want: Vec<(u64, u32)> = all.iter().copied().filter(|e| e.1 <= d).collect();
                assert_eq!(idx.query(PHash(q), d), want, "{what} d {d}");
            }
        };
        for (n, &c) in centres.iter().enumerate() {
            let q = if n % 2 == 0 { c } else { rng.flip(c, 3) };
            // Planted neighbours reach distance 24 (+3); every distance for a few.
            let max_d = if n < 4 { 64 } else { 30 };
            check(&idx, q, &format!("centre {n}"), max_d);
        }
        idx.compact();
        assert!(idx.pending.is_empty());
        for (n, &c) in centres[..5].iter().enumerate() {
            check(&idx, c, &format!("compacted, centre {n}"), 64);
        }
    }

    #[test]
    fn clusters_are_connected_components() {
        let mut rng = Rng(99);
        let mut entries: Vec<(u64, u64)> = (0..3000u64).map(|i| (i, rng.next())).collect();
        // A chain a - b - c where a and c are further apart than d: one cluster.
        let a = rng.next();
        let b = a ^ 0xFF; // 8 bits from a
        let c = b ^ 0xFF00; // 8 bits from b, 16 from a
        entries.extend([(10_001, a), (10_002, b), (10_003, c)]);
        // Id 7 also has a hash next to id 10_003: it joins the chain.
        entries.push((7, c ^ 1));
        let brute_clusters = |d: u32| {
            let n = entries.len();
            let mut uf = UnionFind::new(n);
            for i in 0..n {
                for j in i + 1..n {
                    if (entries[i].1 ^ entries[j].1).count_ones() <= d
                        || entries[i].0 == entries[j].0
                    {
                        uf.union(i, j);
                    }
                }
            }
            let mut g: std::collections::BTreeMap<usize, Vec<u64>> = Default::default();
            for (i, e) in entries.iter().enumerate() {
                g.entry(uf.find(i)).or_default().push(e.0);
            }
            let mut out: Vec<Vec<u64>> = g
                .into_values()
                .map(|mut v| {
                    v.sort_unstable();
                    v.dedup();
                    v
                })
                .filter(|v| v.len() > 1)
                .collect();
            out.sort();
            out
        };
        let idx: Index = entries.iter().map(|&(i, h)| (i, PHash(h))).collect();
        let mut reversed = Index::new();
        for &(i, h) in entries.iter().rev() {
            reversed.insert(i, PHash(h));
        }
        for d in [0, 4, 8, 10, 14] {
            let got = idx.clusters(d);
            assert_eq!(got, brute_clusters(d), "d {d}");
            assert_eq!(reversed.clusters(d), got, "order independence at d {d}");
        }
        assert!(idx.clusters(8).contains(&vec![7, 10_001, 10_002, 10_003]));
    }
}
