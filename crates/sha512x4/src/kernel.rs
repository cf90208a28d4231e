//! SHA-512 of four independent messages at once, one per 64-bit lane of a 256-bit vector.
//!
//! SHA-512 of one message is a chain of dependent rounds, so a single stream runs at the
//! speed of that chain (about 1.6 ns per byte on the machines measured in
//! `docs/design/bagit-profile.md` §7) however wide the core is. Four messages side by side
//! fill the vector units instead: the same rounds, each instruction working on four lanes.
//! Packages hold many files, so there are usually four to hash at the same time
//! ([`crate::engine`] schedules them).
//!
//! Two kernels, chosen at run time: AVX-512 (VL) has 64-bit rotations and three-input
//! logic in one instruction each; AVX2 builds a rotation from two shifts and an OR. Both
//! are safe code: `pulp` checks the CPU once and runs the kernel with its features on.
//! Where neither exists, or on other architectures, [`Kernel::detect`] gives `None` and
//! callers hash one message at a time with the sha2 crate.
//!
//! The constants are FIPS 180-4 §4.2.3 (first 64 bits of the fractional parts of the cube
//! roots of the first 80 primes) and §5.3.5 (square roots of the first 8 primes); the
//! tests compare every lane with the sha2 crate.

/// Initial hash value, FIPS 180-4 §5.3.5.
pub const IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// Round constants, FIPS 180-4 §4.2.3.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const K: [u64; 80] = [
    0x428a2f98d728ae22,
    0x7137449123ef65cd,
    0xb5c0fbcfec4d3b2f,
    0xe9b5dba58189dbbc,
    0x3956c25bf348b538,
    0x59f111f1b605d019,
    0x923f82a4af194f9b,
    0xab1c5ed5da6d8118,
    0xd807aa98a3030242,
    0x12835b0145706fbe,
    0x243185be4ee4b28c,
    0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f,
    0x80deb1fe3b1696b1,
    0x9bdc06a725c71235,
    0xc19bf174cf692694,
    0xe49b69c19ef14ad2,
    0xefbe4786384f25e3,
    0x0fc19dc68b8cd5b5,
    0x240ca1cc77ac9c65,
    0x2de92c6f592b0275,
    0x4a7484aa6ea6e483,
    0x5cb0a9dcbd41fbd4,
    0x76f988da831153b5,
    0x983e5152ee66dfab,
    0xa831c66d2db43210,
    0xb00327c898fb213f,
    0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2,
    0xd5a79147930aa725,
    0x06ca6351e003826f,
    0x142929670a0e6e70,
    0x27b70a8546d22ffc,
    0x2e1b21385c26c926,
    0x4d2c6dfc5ac42aed,
    0x53380d139d95b3df,
    0x650a73548baf63de,
    0x766a0abb3c77b2a8,
    0x81c2c92e47edaee6,
    0x92722c851482353b,
    0xa2bfe8a14cf10364,
    0xa81a664bbc423001,
    0xc24b8b70d0f89791,
    0xc76c51a30654be30,
    0xd192e819d6ef5218,
    0xd69906245565a910,
    0xf40e35855771202a,
    0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8,
    0x1e376c085141ab53,
    0x2748774cdf8eeb99,
    0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63,
    0x4ed8aa4ae3418acb,
    0x5b9cca4f7763e373,
    0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc,
    0x78a5636f43172f60,
    0x84c87814a1f0ab72,
    0x8cc702081a6439ec,
    0x90befffa23631e28,
    0xa4506cebde82bde9,
    0xbef9a3f7b2c67915,
    0xc67178f2e372532b,
    0xca273eceea26619c,
    0xd186b8c721c0c207,
    0xeada7dd6cde0eb1e,
    0xf57d4f7fee6ed178,
    0x06f067aa72176fba,
    0x0a637dc5a2c898a6,
    0x113f9804bef90dae,
    0x1b710b35131c471b,
    0x28db77f523047d84,
    0x32caab7b40c72493,
    0x3c9ebe0a15c9bebc,
    0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6,
    0x597f299cfc657e2a,
    0x5fcb6fab3ad6faec,
    0x6c44198c4a475817,
];

/// Bytes in one SHA-512 block.
pub const BLOCK: usize = 128;

/// Lanes per kernel call.
pub const LANES: usize = 4;

/// A vector kernel this CPU can run.
#[derive(Clone, Copy, Debug)]
pub enum Kernel {
    #[cfg(target_arch = "x86_64")]
    Avx512(pulp::x86::V4),
    #[cfg(target_arch = "x86_64")]
    Avx2(pulp::x86::V3),
}

impl Kernel {
    /// The best kernel for this CPU, or `None` where there is none.
    pub fn detect() -> Option<Kernel> {
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(v4) = pulp::x86::V4::try_new() {
                return Some(Kernel::Avx512(v4));
            }
            if let Some(v3) = pulp::x86::V3::try_new() {
                return Some(Kernel::Avx2(v3));
            }
        }
        None
    }

    /// The AVX2 kernel even where AVX-512 exists, so that tests exercise both.
    #[cfg(test)]
    pub fn avx2() -> Option<Kernel> {
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = pulp::x86::V3::try_new() {
            return Some(Kernel::Avx2(v3));
        }
        None
    }

    pub fn name(self) -> &'static str {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512(_) => "avx512",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2(_) => "avx2",
        }
    }

    /// Runs `blocks` compression steps on four states. Lane `l` reads its blocks from
    /// `input[l]`, which holds `blocks * BLOCK` bytes, or, when `None`, the lane is idle:
    /// its state is left as it was.
    pub fn compress(
        self,
        states: [&mut [u64; 8]; LANES],
        input: [Option<&[u8]>; LANES],
        blocks: usize,
    ) {
        for slice in input.iter().flatten() {
            assert_eq!(
                slice.len(),
                blocks * BLOCK,
                "a lane's input is whole blocks"
            );
        }
        #[cfg(target_arch = "x86_64")]
        {
            let mut lanes = [[0u64; LANES]; 8];
            for (l, s) in states.iter().enumerate() {
                for (i, word) in s.iter().enumerate() {
                    lanes[i][l] = *word;
                }
            }
            match self {
                Kernel::Avx512(simd) => simd.vectorize(
                    #[inline(always)]
                    || x86::run_avx512(simd, &mut lanes, &input, blocks),
                ),
                Kernel::Avx2(simd) => simd.vectorize(
                    #[inline(always)]
                    || x86::run_avx2(simd, &mut lanes, &input, blocks),
                ),
            }
            for (l, s) in states.into_iter().enumerate() {
                if input[l].is_some() {
                    for (i, word) in s.iter_mut().enumerate() {
                        *word = lanes[i][l];
                    }
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (states, input);
            match self {}
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{BLOCK, K, LANES};
    use core::arch::x86_64::__m256i;
    use pulp::x86::{V3, V4};

    /// The sixteen big-endian message words of block `b` of every lane, word by word;
    /// zeros for an idle lane.
    #[inline(always)]
    fn words(input: &[Option<&[u8]>; LANES], b: usize) -> [[u64; LANES]; 16] {
        let mut out = [[0u64; LANES]; 16];
        for (l, lane) in input.iter().enumerate() {
            if let Some(bytes) = lane {
                let (block, _) = bytes[b * BLOCK..(b + 1) * BLOCK].as_chunks::<8>();
                for (t, word) in block.iter().enumerate() {
                    out[t][l] = u64::from_be_bytes(*word);
                }
            }
        }
        out
    }

    /// The rounds, written once over the operations each kernel supplies.
    macro_rules! rounds {
        ($lanes:expr, $input:expr, $blocks:expr,
         load: $load:expr, store: $store:expr, splat: $splat:expr, add: $add:expr,
         big0: $big0:expr, big1: $big1:expr, small0: $small0:expr, small1: $small1:expr,
         ch: $ch:expr, maj: $maj:expr) => {{
            let lanes: &mut [[u64; LANES]; 8] = $lanes;
            let input: &[Option<&[u8]>; LANES] = $input;
            let mut h = [$load([0; LANES]); 8];
            for i in 0..8 {
                h[i] = $load(lanes[i]);
            }
            for b in 0..$blocks {
                let words = words(input, b);
                let mut w = [h[0]; 16];
                for t in 0..16 {
                    w[t] = $load(words[t]);
                }
                let [
                    mut a0,
                    mut a1,
                    mut a2,
                    mut a3,
                    mut a4,
                    mut a5,
                    mut a6,
                    mut a7,
                ] = h;
                for (t, &k) in K.iter().enumerate() {
                    let wt = if t < 16 {
                        w[t]
                    } else {
                        let s0 = $small0(w[(t + 1) & 15]);
                        let s1 = $small1(w[(t + 14) & 15]);
                        let n = $add($add(w[t & 15], s0), $add(w[(t + 9) & 15], s1));
                        w[t & 15] = n;
                        n
                    };
                    let t1 = $add(
                        $add($add(a7, $big1(a4)), $add($ch(a4, a5, a6), $splat(k))),
                        wt,
                    );
                    let t2 = $add($big0(a0), $maj(a0, a1, a2));
                    a7 = a6;
                    a6 = a5;
                    a5 = a4;
                    a4 = $add(a3, t1);
                    a3 = a2;
                    a2 = a1;
                    a1 = a0;
                    a0 = $add(t1, t2);
                }
                let next = [a0, a1, a2, a3, a4, a5, a6, a7];
                for i in 0..8 {
                    h[i] = $add(h[i], next[i]);
                }
            }
            for i in 0..8 {
                lanes[i] = $store(h[i]);
            }
        }};
    }

    #[inline(always)]
    pub(super) fn run_avx512(
        simd: V4,
        lanes: &mut [[u64; LANES]; 8],
        input: &[Option<&[u8]>; LANES],
        blocks: usize,
    ) {
        let f = simd.avx512f;
        let v2 = simd.avx2;
        let xor3 = |a, b, c| f._mm256_ternarylogic_epi64::<0x96>(a, b, c);
        macro_rules! ror {
            ($x:expr, $r:literal) => {
                f._mm256_ror_epi64::<$r>($x)
            };
        }
        rounds!(lanes, input, blocks,
            load: |x: [u64; LANES]| -> __m256i { pulp::cast(x) },
            store: |x: __m256i| -> [u64; LANES] { pulp::cast(x) },
            splat: |k: u64| simd.avx._mm256_set1_epi64x(k as i64),
            add: |a, b| v2._mm256_add_epi64(a, b),
            big0: |x| xor3(ror!(x, 28), ror!(x, 34), ror!(x, 39)),
            big1: |x| xor3(ror!(x, 14), ror!(x, 18), ror!(x, 41)),
            small0: |x| xor3(ror!(x, 1), ror!(x, 8), v2._mm256_srli_epi64::<7>(x)),
            small1: |x| xor3(ror!(x, 19), ror!(x, 61), v2._mm256_srli_epi64::<6>(x)),
            // Truth tables over (x, y, z): choose is x ? y : z, majority is at least two.
            ch: |x, y, z| f._mm256_ternarylogic_epi64::<0xCA>(x, y, z),
            maj: |x, y, z| f._mm256_ternarylogic_epi64::<0xE8>(x, y, z)
        );
    }

    #[inline(always)]
    pub(super) fn run_avx2(
        simd: V3,
        lanes: &mut [[u64; LANES]; 8],
        input: &[Option<&[u8]>; LANES],
        blocks: usize,
    ) {
        let v = simd.avx2;
        let xor = |a, b| v._mm256_xor_si256(a, b);
        // A rotation right by R is a right shift by R OR a left shift by 64 - R.
        macro_rules! ror {
            ($x:expr, $r:literal, $l:literal) => {
                v._mm256_or_si256(v._mm256_srli_epi64::<$r>($x), v._mm256_slli_epi64::<$l>($x))
            };
        }
        rounds!(lanes, input, blocks,
            load: |x: [u64; LANES]| -> __m256i { pulp::cast(x) },
            store: |x: __m256i| -> [u64; LANES] { pulp::cast(x) },
            splat: |k: u64| simd.avx._mm256_set1_epi64x(k as i64),
            add: |a, b| v._mm256_add_epi64(a, b),
            big0: |x| xor(xor(ror!(x, 28, 36), ror!(x, 34, 30)), ror!(x, 39, 25)),
            big1: |x| xor(xor(ror!(x, 14, 50), ror!(x, 18, 46)), ror!(x, 41, 23)),
            small0: |x| xor(xor(ror!(x, 1, 63), ror!(x, 8, 56)), v._mm256_srli_epi64::<7>(x)),
            small1: |x| xor(xor(ror!(x, 19, 45), ror!(x, 61, 3)), v._mm256_srli_epi64::<6>(x)),
            ch: |x, y, z| xor(v._mm256_and_si256(x, y), v._mm256_andnot_si256(x, z)),
            maj: |x, y, z| {
                let xy = v._mm256_and_si256(x, y);
                xor(xy, v._mm256_and_si256(z, xor(x, y)))
            }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sha2 crate's compression, one block stream at a time: the reference.
    fn reference(input: &[u8]) -> [u64; 8] {
        let mut state = IV;
        let blocks: Vec<[u8; BLOCK]> = input.chunks(BLOCK).map(|c| c.try_into().unwrap()).collect();
        sha2::block_api::compress512(&mut state, &blocks);
        state
    }

    fn check(kernel: Kernel) {
        let blocks = 37;
        let data: Vec<Vec<u8>> = (0..LANES)
            .map(|l| {
                (0..blocks * BLOCK)
                    .map(|i| (i.wrapping_mul(31) ^ (l * 97) ^ (i >> 7)) as u8)
                    .collect()
            })
            .collect();
        // All lanes busy.
        let mut states = [IV; LANES];
        let [s0, s1, s2, s3] = &mut states;
        kernel.compress(
            [s0, s1, s2, s3],
            core::array::from_fn(|l| Some(&data[l][..])),
            blocks,
        );
        for l in 0..LANES {
            assert_eq!(states[l], reference(&data[l]), "{} lane {l}", kernel.name());
        }
        // Lanes 1 and 3 idle: their states stay as they were.
        let marker = [7u64; 8];
        let mut states = [IV, marker, IV, marker];
        let [s0, s1, s2, s3] = &mut states;
        kernel.compress(
            [s0, s1, s2, s3],
            [Some(&data[0][..]), None, Some(&data[2][..]), None],
            blocks,
        );
        assert_eq!(states[0], reference(&data[0]));
        assert_eq!(states[1], marker);
        assert_eq!(states[2], reference(&data[2]));
        assert_eq!(states[3], marker);
    }

    #[test]
    fn every_lane_matches_sha2_with_the_best_kernel() {
        match Kernel::detect() {
            Some(k) => check(k),
            None => eprintln!("skipped: this CPU has neither AVX-512 nor AVX2"),
        }
    }

    #[test]
    fn every_lane_matches_sha2_with_the_avx2_kernel() {
        match Kernel::avx2() {
            Some(k) => check(k),
            None => eprintln!("skipped: this CPU has no AVX2"),
        }
    }

    #[test]
    fn constants_are_the_standard_ones() {
        // FIPS 180-4: the first and last round constants and the first IV word.
        assert_eq!(K[0], 0x428a2f98d728ae22);
        assert_eq!(K[79], 0x6c44198c4a475817);
        assert_eq!(IV[0], 0x6a09e667f3bcc908);
    }
}
