//! Deterministic synthetic bytes for tests (no real media, nothing sensitive).

/// `len` pseudo-random bytes from `seed` (xorshift; same seed, same bytes).
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A small deterministic generator (xorshift64*) for fixed-seed mutation tests: the same
/// seed gives the same sequence on every machine, so a failure reproduces.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 pseudo-random bits.
    pub fn bits(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.bits() % n.max(1) as u64) as usize
    }
}

/// What [`geotiff`] writes: a `width` × `height` 8-bit grey TIFF with these georeferencing
/// tags, and GeoKeys given as (key, SHORT value) pairs.
pub struct GeoTiffSpec {
    pub width: u16,
    pub height: u16,
    pub pixel_scale: Option<[f64; 3]>,
    pub tiepoint: Option<[f64; 6]>,
    pub transformation: Option<[f64; 16]>,
    pub keys: Vec<(u16, u16)>,
}

/// A little-endian, one-strip GeoTIFF as `spec` describes (pixels a grey ramp).
pub fn geotiff(spec: &GeoTiffSpec) -> Vec<u8> {
    let short = |v: &[u16]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let long = |v: u32| v.to_le_bytes().to_vec();
    let dbl = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let pixels = u32::from(spec.width) * u32::from(spec.height);
    // (tag, type, count, value bytes), in ascending tag order.
    let mut entries: Vec<(u16, u16, u32, Vec<u8>)> = vec![
        (256, 3, 1, short(&[spec.width])),
        (257, 3, 1, short(&[spec.height])),
        (258, 3, 1, short(&[8])),
        (259, 3, 1, short(&[1])),
        (262, 3, 1, short(&[1])),
        (273, 4, 1, long(0)), // the strip's offset, set below
        (277, 3, 1, short(&[1])),
        (278, 3, 1, short(&[spec.height])),
        (279, 4, 1, long(pixels)),
    ];
    if let Some(s) = spec.pixel_scale {
        entries.push((33550, 12, 3, dbl(&s)));
    }
    if let Some(t) = spec.tiepoint {
        entries.push((33922, 12, 6, dbl(&t)));
    }
    if let Some(m) = spec.transformation {
        entries.push((34264, 12, 16, dbl(&m)));
    }
    let mut keys = vec![1u16, 1, 0, spec.keys.len() as u16];
    for &(id, value) in &spec.keys {
        keys.extend_from_slice(&[id, 0, 1, value]);
    }
    entries.push((34735, 3, keys.len() as u32, short(&keys)));

    let ifd_at = 8u32;
    let mut data_at = ifd_at + 2 + entries.len() as u32 * 12 + 4;
    let mut ifd = (entries.len() as u16).to_le_bytes().to_vec();
    let mut extra = Vec::new();
    let mut strip_field = 0usize;
    for (tag, kind, count, bytes) in &entries {
        ifd.extend_from_slice(&tag.to_le_bytes());
        ifd.extend_from_slice(&kind.to_le_bytes());
        ifd.extend_from_slice(&count.to_le_bytes());
        if *tag == 273 {
            strip_field = ifd.len();
        }
        if bytes.len() <= 4 {
            let mut b = bytes.clone();
            b.resize(4, 0);
            ifd.extend_from_slice(&b);
        } else {
            ifd.extend_from_slice(&data_at.to_le_bytes());
            extra.extend_from_slice(bytes);
            data_at += bytes.len() as u32;
        }
    }
    ifd.extend_from_slice(&0u32.to_le_bytes());
    ifd[strip_field..strip_field + 4].copy_from_slice(&data_at.to_le_bytes());
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&ifd_at.to_le_bytes());
    out.extend_from_slice(&ifd);
    out.extend_from_slice(&extra);
    out.extend((0..pixels).map(|i| (i * 37 % 251) as u8));
    out
}
