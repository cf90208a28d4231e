//! Perceptual hashes of images and the near-duplicate index.
//!
//! A recycled photograph (the same picture resized, recompressed or lightly cropped) has a
//! different SHA-256 but nearly the same [`PHash`]: 64 bits that describe the coarse
//! structure of the picture, compared by Hamming distance. This crate owns
//!
//! - computing the hash ([`hash_path`], [`hash_reader`], [`hash_bytes`]): a fast path
//!   that decodes only the DC coefficients of JPEG luma blocks (a 1/8-scale image), a
//!   full HEVC decode of HEIC/HEIF photographs' luma, AVIF stills and AV1 keyframes
//!   through the AV1 decoder the program installs ([`install_av1_decoder`]), and a
//!   general decoder for everything else;
//! - the [`Index`] that answers "which hashes are within distance d" at millions of items;
//! - grouping near-duplicates into [`clusters`](Index::clusters) and choosing a cluster's
//!   [`earliest_provable_appearance`].
//!
//! It does no I/O beyond reading the file it is asked to hash, and knows nothing of the
//! vault: callers store each hash together with [`ALGORITHM`] and compare only hashes of
//! the same algorithm. The design and the measurements behind the defaults are in
//! `docs/design/near-duplicates.md`.
//!
//! Orientation: the hash describes the picture as displayed. An EXIF Orientation tag is
//! applied before hashing, so a phone photo stored sideways with a tag and a messenger
//! copy whose pixels were turned upright hash alike. A copy whose pixels were rotated or
//! mirrored by hand, without a matching tag, is a different picture to this hash; it is
//! found by looking up the hashes the asked picture would have if turned
//! ([`hash_turnings_path`], [`Keyframe::turned`]).

mod av1;
mod avif;
mod budget;
mod cluster;
mod error;
mod exif;
mod heif;
mod index;
mod jpeg;
mod phash;
mod turn;
mod video;

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

pub use av1::{Av1Decoder, Av1Failure, Av1Picture, decodes_av1, install_av1_decoder};
pub use cluster::{Appearance, TimeBasis, TimeClaim, earliest_provable_appearance};
pub use error::{HashError, ParseHashError, is_read_failure, lacked_a_decoder};
pub use index::Index;
pub use jpeg::MAX_PIXELS;
pub use turn::{Turn, Turned, Turnings};
pub use video::{
    Keyframe, MAX_KEYFRAMES, StreamFacts, VideoRead, has_keyframes, hash_keyframes,
    hash_keyframes_path, read_video, read_video_path,
};

/// Names the hash function. Stored with every hash; hashes with a different name (or
/// from a later version of this one) are never compared.
pub const ALGORITHM: &str = "custody-phash-v1";

/// The distance up to which two hashes are reported as near-duplicates unless the caller
/// asks otherwise. Chosen from the recall/precision measurements in
/// `docs/design/near-duplicates.md`.
pub const DEFAULT_MAX_DISTANCE: u32 = 10;

/// Largest input [`hash_reader`] and [`hash_path`] read into memory.
pub const MAX_INPUT_BYTES: u64 = 512 * 1024 * 1024;

/// Upper bound on what the general decoder may allocate for one picture, and on what
/// all the pictures decoded in full at once (general decoder, HEIC/HEIF) may hold
/// together ([`budget`]).
const MAX_DECODE_ALLOC: u64 = 1024 * 1024 * 1024;

/// A 64-bit perceptual hash. Written as 16 lower-case hex digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PHash(pub u64);

impl PHash {
    /// Number of differing bits (0..=64).
    pub fn distance(&self, other: &PHash) -> u32 {
        (self.0 ^ other.0).count_ones()
    }
}

impl fmt::Display for PHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for PHash {
    type Err = ParseHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseHashError(s.to_owned()));
        }
        u64::from_str_radix(s, 16)
            .map(PHash)
            .map_err(|_| ParseHashError(s.to_owned()))
    }
}

/// Image formats this crate can hash, by sniffing the first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Jpeg,
    Png,
    Tiff,
    WebP,
}

fn sniff(data: &[u8]) -> Option<Format> {
    match data {
        [0xFF, 0xD8, 0xFF, ..] => Some(Format::Jpeg),
        [0x89, b'P', b'N', b'G', ..] => Some(Format::Png),
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => Some(Format::Tiff),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some(Format::WebP),
        _ => None,
    }
}

/// Whether a media type names something [`hash_bytes`] can hash: JPEG, PNG, TIFF, WebP
/// and HEIC/HEIF stills, and AVIF stills when an AV1 decoder is installed
/// ([`install_av1_decoder`]). Videos are not (see `docs/design/near-duplicates.md`).
pub fn is_hashable(media_type: &str) -> bool {
    matches!(
        media_type.to_ascii_lowercase().as_str(),
        "image/jpeg"
            | "image/jpg"
            | "image/pjpeg"
            | "image/png"
            | "image/tiff"
            | "image/webp"
            | "image/heif"
            | "image/heic"
    ) || (media_type.eq_ignore_ascii_case("image/avif") && decodes_av1())
}

/// Hashes an image held in memory. The format is recognised from the bytes; `media_type`
/// is used for the error message when they are not a supported image.
pub fn hash_bytes(data: &[u8], media_type: &str) -> Result<PHash, HashError> {
    hash_bytes_with(data, media_type, phash::Variant::ZigzagAc)
}

/// Like [`hash_bytes`] with a choice of coefficients; for the measurements that chose
/// the default, not for storing.
#[doc(hidden)]
pub fn hash_bytes_with(
    data: &[u8],
    media_type: &str,
    variant: phash::Variant,
) -> Result<PHash, HashError> {
    match grid_of(data, media_type) {
        Ok(grid) => Ok(PHash(phash::bits(&grid, variant))),
        Err(still) => sequence_start(data, still).map(|t| t.hash),
    }
}

#[doc(hidden)]
pub use phash::Variant;

/// Reads an image (at most [`MAX_INPUT_BYTES`]) and hashes it.
pub fn hash_reader(mut r: impl Read, media_type: &str) -> Result<PHash, HashError> {
    let mut data = Vec::new();
    (&mut r)
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(|source| HashError::Io { path: None, source })?;
    if data.len() as u64 > MAX_INPUT_BYTES {
        return Err(HashError::InputTooLarge {
            max: MAX_INPUT_BYTES,
        });
    }
    hash_bytes(&data, media_type)
}

/// [`hash_path`], with the hashes the picture would have if mirrored or turned.
pub fn hash_turnings_path(path: &Path, media_type: &str) -> Result<Turnings, HashError> {
    with_file_bytes(path, |data| hash_turnings_bytes(data, media_type))
}

/// [`hash_bytes`], with the hashes the picture would have if mirrored or turned.
pub fn hash_turnings_bytes(data: &[u8], media_type: &str) -> Result<Turnings, HashError> {
    match grid_of(data, media_type) {
        Ok(grid) => Ok(Turnings::of(&grid)),
        Err(still) => sequence_start(data, still),
    }
}

/// The picture of an image sequence that names no still (an animated AVIF or HEIF whose
/// `meta` box, if any, has no primary item): its first picture shown, taken from its
/// sequence track as a video's keyframe is. Any other file keeps `still`, the reason its
/// still could not be hashed.
fn sequence_start(data: &[u8], still: HashError) -> Result<Turnings, HashError> {
    let sequence = (avif::sniff(data) || heif::sniff(data))
        && matches!(
            heic_rs::meta::parse(data),
            Err(heic_rs::Error::MissingBox("meta" | "pitm"))
        )
        && matches!(
            heic_rs::boxes::BoxIter::new(data).find(b"moov"),
            Ok(Some(_))
        );
    if !sequence {
        return Err(still);
    }
    // The keyframes that decoded, earliest first: the still is the picture shown first
    // (at 0), never a later one standing in for it.
    let first = video::hash_keyframes(&mut std::io::Cursor::new(data))?
        .into_iter()
        .min_by_key(|k| k.at_ms)
        .filter(|k| k.at_ms == 0)
        .ok_or(HashError::Decode {
            format: "HEIF image sequence",
            detail: "it names no still picture, and no picture shown at the start of its \
                     sequence could be hashed"
                .into(),
        })?;
    Ok(Turnings {
        hash: first.hash,
        turned: first.turned,
    })
}

/// Reads the file at `path` and hashes it.
pub fn hash_path(path: &Path, media_type: &str) -> Result<PHash, HashError> {
    with_file_bytes(path, |data| hash_bytes(data, media_type))
}

/// Reads the whole file at `path` (at most [`MAX_INPUT_BYTES`]) and gives its bytes to
/// `f`.
///
/// The bytes go through a per-thread buffer that is reused from call to call, so that
/// reading many files does not pay for a fresh allocation (and its page faults) each time.
pub fn with_file_bytes<T>(
    path: &Path,
    f: impl FnOnce(&[u8]) -> Result<T, HashError>,
) -> Result<T, HashError> {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    /// Larger buffers are released after use rather than kept per thread.
    const KEEP: usize = 64 * 1024 * 1024;
    let io = |source| HashError::Io {
        path: Some(path.to_owned()),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_INPUT_BYTES {
        return Err(HashError::InputTooLarge {
            max: MAX_INPUT_BYTES,
        });
    }
    BUF.with(|cell| {
        // A re-entrant call (not expected) falls back to its own buffer.
        let mut own = Vec::new();
        let mut guard = cell.try_borrow_mut().ok();
        let data = guard.as_deref_mut().unwrap_or(&mut own);
        data.clear();
        data.reserve(len as usize);
        let read = file.take(MAX_INPUT_BYTES).read_to_end(data).map_err(io);
        let result = read.and_then(|_| f(data));
        if data.capacity() > KEEP {
            *data = Vec::new();
        }
        result
    })
}

/// The upright 32×32 grid of an image.
pub(crate) fn grid_of(data: &[u8], media_type: &str) -> Result<phash::Grid, HashError> {
    // A HEIF file's primary item, not its brands, decides the decoder.
    if avif::sniff(data) || heif::sniff(data) {
        return if avif::holds_av1(data) || !heif::sniff(data) {
            avif::grid(data)
        } else {
            heif::grid(data)
        };
    }
    let Some(format) = sniff(data) else {
        let lower = media_type.to_ascii_lowercase();
        let why = if lower.starts_with("video/") {
            "videos are not hashed: no pure-Rust video decoder is available"
        } else {
            "the bytes are not a JPEG, PNG, TIFF, WebP or HEIC/HEIF image"
        };
        return Err(HashError::Unsupported {
            media_type: media_type.to_owned(),
            why,
        });
    };
    if format == Format::Jpeg {
        match jpeg::decode_dc_luma(data) {
            // A 1/8 image coarser than the grid would lose detail: small pictures (under
            // 256 pixels on a side) are cheap to decode in full.
            Ok(p) if p.cols >= phash::GRID && p.rows >= phash::GRID => {
                return Ok(grid_of_plane(&p));
            }
            Ok(_) => {}
            Err(jpeg::JpegError::TooLarge { width, height }) => {
                return Err(HashError::TooLarge {
                    width,
                    height,
                    max: MAX_PIXELS,
                });
            }
            // A kind of JPEG the fast path does not read: the general decoder takes it.
            Err(jpeg::JpegError::Unsupported(_)) => {}
            // Damaged: refused rather than guessed at. A general decoder would fill the
            // missing blocks with grey and give a hash of something that is not the
            // picture; it could also be made to decode a huge frame from a few bytes.
            Err(jpeg::JpegError::Corrupt(why)) => {
                return Err(HashError::Decode {
                    format: "JPEG",
                    detail: why.to_owned(),
                });
            }
        }
    }
    general::grid(data, format)
}

fn grid_of_plane(p: &jpeg::LumaPlane) -> phash::Grid {
    let mut b = phash::GridBuilder::new(p.cols, p.rows, p.cell_w, p.cell_h, p.width, p.height);
    for (r, row) in p.samples.chunks_exact(p.cols.max(1)).enumerate() {
        b.add_row(r, row);
    }
    phash::orient(&b.finish(), p.orientation)
}

/// The general path: a full decode with the `image` crate.
mod general {
    use std::io::Cursor;

    use image::{ColorType, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

    use super::{Format, HashError, MAX_DECODE_ALLOC, MAX_PIXELS, phash};

    pub(super) fn grid(data: &[u8], format: Format) -> Result<phash::Grid, HashError> {
        let (fmt, name) = match format {
            Format::Jpeg => (ImageFormat::Jpeg, "JPEG"),
            Format::Png => (ImageFormat::Png, "PNG"),
            Format::Tiff => (ImageFormat::Tiff, "TIFF"),
            Format::WebP => (ImageFormat::WebP, "WebP"),
        };
        let corrupt = |e: image::ImageError| HashError::Decode {
            format: name,
            detail: e.to_string(),
        };
        let mut reader = ImageReader::with_format(Cursor::new(data), fmt);
        let mut limits = Limits::default();
        limits.max_alloc = Some(MAX_DECODE_ALLOC);
        limits.max_image_width = Some(1 << 16);
        limits.max_image_height = Some(1 << 16);
        reader.limits(limits);
        let mut decoder = reader.into_decoder().map_err(corrupt)?;
        let (width, height) = decoder.dimensions();
        if width == 0 || height == 0 {
            return Err(HashError::Decode {
                format: name,
                detail: "the image is empty".into(),
            });
        }
        if u64::from(width) * u64::from(height) > MAX_PIXELS {
            return Err(HashError::TooLarge {
                width,
                height,
                max: MAX_PIXELS,
            });
        }
        let orientation = decoder.orientation().map(|o| o.to_exif()).unwrap_or(1);
        // Eight-bit pictures are read as decoded; others are made 8-bit RGB first, a
        // second copy.
        let eight_bit = matches!(
            decoder.color_type(),
            ColorType::L8 | ColorType::La8 | ColorType::Rgb8 | ColorType::Rgba8
        );
        let pixels = u64::from(width) * u64::from(height);
        let need = decoder
            .total_bytes()
            .saturating_add(if eight_bit { 0 } else { pixels * 3 });
        if need > MAX_DECODE_ALLOC {
            return Err(HashError::Decode {
                format: name,
                detail: format!(
                    "decoding this {width}x{height} picture takes {need} bytes, more than the \
                     {MAX_DECODE_ALLOC} allowed"
                ),
            });
        }
        let _held = crate::budget::take(need);
        let img = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
        let (w, h) = (img.width() as usize, img.height() as usize);
        let mut b = phash::GridBuilder::new(w, h, 1.0, 1.0, width, height);
        let mut row = vec![0f32; w];
        // BT.601 luma, as JPEG's Y, of each pixel's first three channels (grey: one
        // channel three times), alpha left out.
        let mut rows = |raw: &[u8], channels: usize, grey: bool| {
            for (r, line) in raw.chunks_exact(w * channels).enumerate() {
                for (y, px) in row.iter_mut().zip(line.chunks_exact(channels)) {
                    let (red, green, blue) = if grey {
                        (px[0], px[0], px[0])
                    } else {
                        (px[0], px[1], px[2])
                    };
                    *y =
                        0.299 * f32::from(red) + 0.587 * f32::from(green) + 0.114 * f32::from(blue);
                }
                b.add_row(r, &row);
            }
        };
        match &img {
            DynamicImage::ImageLuma8(p) => rows(p.as_raw(), 1, true),
            DynamicImage::ImageLumaA8(p) => rows(p.as_raw(), 2, true),
            DynamicImage::ImageRgb8(p) => rows(p.as_raw(), 3, false),
            DynamicImage::ImageRgba8(p) => rows(p.as_raw(), 4, false),
            other => rows(other.to_rgb8().as_raw(), 3, false),
        }
        Ok(phash::orient(&b.finish(), orientation))
    }
}

/// Access to the two decoding paths separately, for tests and benchmarks that compare
/// them. Not part of the stable API.
#[doc(hidden)]
pub mod testing {
    use super::*;

    /// The DC-only path's reduced luma image.
    pub struct DcLuma {
        pub cols: usize,
        pub rows: usize,
        /// Mean luma of each sample's area, row-major.
        pub samples: Vec<f32>,
        /// Pixels covered by one sample.
        pub cell_w: f64,
        pub cell_h: f64,
        pub width: u32,
        pub height: u32,
        pub orientation: u8,
    }

    impl From<jpeg::LumaPlane> for DcLuma {
        fn from(p: jpeg::LumaPlane) -> Self {
            DcLuma {
                cols: p.cols,
                rows: p.rows,
                samples: p.samples,
                cell_w: p.cell_w,
                cell_h: p.cell_h,
                width: p.width,
                height: p.height,
                orientation: p.orientation,
            }
        }
    }

    /// Runs only the DC-only JPEG path; `Err` says why it declined or failed.
    pub fn dc_luma(data: &[u8]) -> Result<DcLuma, String> {
        jpeg::decode_dc_luma(data)
            .map(DcLuma::from)
            .map_err(|e| format!("{e:?}"))
    }

    /// Like [`dc_luma`], walking every scan from start to end only (never in
    /// stretches at once), for comparing the two walks.
    pub fn dc_luma_ordinary(data: &[u8]) -> Result<DcLuma, String> {
        jpeg::decode_dc_luma_walking(data, jpeg::Walk::Ordinary)
            .map(DcLuma::from)
            .map_err(|e| format!("{e:?}"))
    }

    /// Whether two outcomes of the DC-only path are the same: the same size and every
    /// sample the same to the bit, or the same error.
    pub fn same_outcome(a: &Result<DcLuma, String>, b: &Result<DcLuma, String>) -> bool {
        match (a, b) {
            (Ok(a), Ok(b)) => {
                (a.cols, a.rows) == (b.cols, b.rows)
                    && a.samples
                        .iter()
                        .zip(&b.samples)
                        .all(|(x, y)| x.to_bits() == y.to_bits())
            }
            (Err(a), Err(b)) => a == b,
            _ => false,
        }
    }

    /// The JPEG files (by extension) under `dir`, sorted; an unreadable folder is
    /// passed over.
    pub fn jpeg_files(dir: &Path) -> Vec<std::path::PathBuf> {
        fn under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
            let Ok(rd) = std::fs::read_dir(dir) else {
                return;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    under(&p, out);
                } else if p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                    x.eq_ignore_ascii_case("jpg") || x.eq_ignore_ascii_case("jpeg")
                }) {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        under(dir, &mut out);
        out.sort();
        out
    }

    /// The shared test material beside the repository (`../shared`), or `None` with a
    /// message saying the tests that need it skip (a user's own clone has none).
    pub fn shared_dir() -> Option<std::path::PathBuf> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
        if p.is_dir() {
            Some(p)
        } else {
            eprintln!(
                "skipped: ../shared not found (shared test data is not part of the repository)"
            );
            None
        }
    }

    /// How many scans so far (in this process) were walked in stretches at once, and in
    /// how many that walk declined and the ordinary one ran.
    pub fn lane_walks() -> (usize, usize) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            jpeg::LANE_WALKS[0].load(Relaxed),
            jpeg::LANE_WALKS[1].load(Relaxed),
        )
    }

    /// Hashes with the general decoder only, skipping the DC-only path.
    pub fn hash_general(data: &[u8], variant: Variant) -> Result<PHash, HashError> {
        let format = sniff(data).ok_or(HashError::Unsupported {
            media_type: "unknown".into(),
            why: "not an image",
        })?;
        general::grid(data, format).map(|g| PHash(phash::bits(&g, variant)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_junk() {
        let h = PHash(0x0123_4567_89ab_cdef);
        assert_eq!(h.to_string(), "0123456789abcdef");
        assert_eq!("0123456789abcdef".parse::<PHash>().unwrap(), h);
        assert_eq!("0123456789ABCDEF".parse::<PHash>().unwrap(), h);
        for bad in [
            "",
            "0123",
            "0123456789abcdeg",
            "+123456789abcdef",
            "0123456789abcdef0",
        ] {
            assert!(bad.parse::<PHash>().is_err(), "{bad}");
        }
    }

    #[test]
    fn distance_counts_differing_bits() {
        assert_eq!(PHash(0).distance(&PHash(u64::MAX)), 64);
        assert_eq!(PHash(0b1011).distance(&PHash(0b0110)), 3);
        assert_eq!(PHash(42).distance(&PHash(42)), 0);
    }

    #[test]
    fn unsupported_inputs_say_why() {
        let e = hash_bytes(b"\0\0\0\x20ftypisom", "video/mp4").unwrap_err();
        assert!(e.to_string().starts_with("could not hash"), "{e}");
        assert!(e.to_string().contains("video"), "{e}");
        let e = hash_bytes(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "image/heif").unwrap_err();
        assert!(
            e.to_string().contains("HEIC/HEIF data cannot be decoded"),
            "{e}"
        );
        // No AV1 decoder is installed in this crate's unit tests: AVIF says so.
        let e = hash_bytes(b"\0\0\0\x18ftypavif\0\0\0\0mif1miaf", "image/avif").unwrap_err();
        assert!(e.to_string().contains("AVIF data cannot be decoded"), "{e}");
        assert!(is_hashable("image/heif"));
        assert!(!is_hashable("image/avif"));
        assert!(is_hashable("image/JPEG"));
    }
}
