//! HEIC/HEIF stills (a phone's photographs): decoded in full by `heic-rs`, a pure-Rust
//! HEIF reader and HEVC still-picture decoder, luma only.
//!
//! HEVC has nothing like JPEG's DC coefficients to read a reduced image from, so every
//! tile of the picture is decoded. The luma plane is used as coded, without the colour
//! conversion: the hash compares coefficients with their median, which no change of
//! sample range or gain alters, and a colour profile is no part of the picture's
//! structure.
//!
//! The picture is taken as the file says it is displayed: its `irot`, `imir` and `clap`
//! properties are applied by the decoder. An EXIF Orientation inside a HEIF file is not
//! applied on top (HEIF says the properties, not EXIF, turn the picture; a phone writes
//! both for the same turn). `heic-rs` 0.1 reads the `imir` axis the other way round from
//! libheif (axis 0: libheif mirrors top to bottom, `heic-rs` left to right); a mirrored
//! picture is turned half round afterwards, which makes the one mirror the other
//! whatever the order of `irot` and `imir`, so the hash follows libheif.

use std::panic::{AssertUnwindSafe, catch_unwind};

use heic_rs::{DecodeOptions, PixelLayout};

use crate::{HashError, MAX_PIXELS, phash};

const FORMAT: &str = "HEIC/HEIF";

/// Brands under which an ISO base media file holds HEVC-coded images (or may: the
/// generic image brands `mif1` and `msf1` do not name the codec, and the decoder says
/// so when it is another).
const HEVC_IMAGE_BRANDS: [&[u8; 4]; 10] = [
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1",
];

/// Whether `data` begins with an ISO base media `ftyp` box naming a HEIF brand, as its
/// major brand or among its compatible ones. AVIF files (major brand `avif`/`avis`) are
/// not: their pictures are AV1.
pub(crate) fn sniff(data: &[u8]) -> bool {
    let avif_major = data
        .get(8..12)
        .is_some_and(|m| m == b"avif" || m == b"avis");
    !avif_major && names_brand(data, |b| HEVC_IMAGE_BRANDS.iter().any(|h| b == &h[..]))
}

/// Whether `data` begins with an ISO base media `ftyp` box naming a brand `wanted`
/// takes, as its major brand or among its compatible ones (HEIF and AVIF alike).
pub(crate) fn names_brand(data: &[u8], wanted: impl Fn(&[u8]) -> bool) -> bool {
    if data.len() < 16 || &data[4..8] != b"ftyp" {
        return false;
    }
    let major = &data[8..12];
    let size = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
    // Compatible brands follow the major brand and the minor version.
    let brands = data.get(16..size.clamp(16, data.len())).unwrap_or(&[]);
    std::iter::once(major)
        .chain(brands.chunks_exact(4))
        .any(wanted)
}

/// The upright 32×32 grid of the file's primary image.
pub(crate) fn grid(data: &[u8]) -> Result<phash::Grid, HashError> {
    let options = DecodeOptions::default()
        .with_layout(PixelLayout::Gray8)
        .with_max_pixels(Some(MAX_PIXELS))
        .with_alpha(false);
    // The decoder holds its planes and their output, some 8 bytes a pixel (measured:
    // about 100 MB for a 12-megapixel iPhone photograph); large pictures take their
    // turn.
    let pixels = heic_rs::probe(data).map_or(0, |i| u64::from(i.width) * u64::from(i.height));
    let _held = crate::budget::take(pixels.saturating_mul(8));
    // The decoder is new and reads hostile input: a panic inside it is this file's
    // failure, not the caller's.
    let decoded = catch_unwind(AssertUnwindSafe(|| heic_rs::decode(data, &options)))
        .map_err(|_| decode_error("the decoder stopped on an internal error".into()))?;
    let image = decoded.map_err(|e| match e {
        heic_rs::Error::PixelLimit { .. } => too_large(data),
        other => decode_error(other.to_string()),
    })?;
    let (w, h) = (image.width as usize, image.height as usize);
    if w == 0 || h == 0 || image.data.len() < w * h {
        return Err(decode_error("the image is empty".into()));
    }
    let grid = phash::grid_of_rows(w, h, image.data.chunks_exact(w), 1.0);
    let mirrored = heic_rs::probe(data).is_ok_and(|info| info.mirror.is_some());
    // EXIF orientation 3: a half turn.
    Ok(phash::orient(&grid, if mirrored { 3 } else { 1 }))
}

fn decode_error(detail: String) -> HashError {
    HashError::Decode {
        format: FORMAT,
        detail,
    }
}

/// The size refusal, with the size the file declares when it can be read.
fn too_large(data: &[u8]) -> HashError {
    match heic_rs::probe(data) {
        Ok(info) => HashError::TooLarge {
            width: info.width,
            height: info.height,
            max: MAX_PIXELS,
        },
        Err(e) => decode_error(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut v = (size as u32).to_be_bytes().to_vec();
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(major);
        v.extend_from_slice(&[0; 4]);
        for c in compatible {
            v.extend_from_slice(&c[..]);
        }
        v.extend_from_slice(b"\0\0\0\x08meta");
        v
    }

    #[test]
    fn heif_brands_are_recognised_and_others_are_not() {
        assert!(sniff(&ftyp(b"heic", &[b"mif1", b"heic"])));
        assert!(sniff(&ftyp(b"mif1", &[b"heic"])));
        assert!(sniff(&ftyp(b"MiHE", &[b"heix"])));
        assert!(!sniff(&ftyp(b"avif", &[b"mif1", b"miaf"])));
        assert!(!sniff(&ftyp(b"isom", &[b"mp41", b"avc1"])));
        assert!(!sniff(&ftyp(b"qt  ", &[b"qt  "])));
        assert!(!sniff(b"\0\0\0\x18ftyphe"));
        // A brand after the ftyp box's end is not one of its brands.
        let mut v = ftyp(b"isom", &[]);
        v.extend_from_slice(b"heic");
        assert!(!sniff(&v));
    }

    #[test]
    fn damaged_heif_says_what_failed() {
        let e = grid(&ftyp(b"heic", &[b"mif1"])).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("could not hash: the HEIC/HEIF data cannot be decoded"),
            "{msg}"
        );
    }
}
