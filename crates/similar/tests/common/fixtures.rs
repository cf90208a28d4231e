//! The synthetic fixtures in `tests/data` (written by `tests/data/make_fixtures.py`),
//! shared by the format tests that compare a file's hash with its picture's. Each test
//! file takes what it needs of these.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use custody_similar::{PHash, hash_bytes};

/// The path of fixture `name`.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The hash of `img` written as a PNG: the picture as shown, hashed through a lossless
/// format.
pub fn png_hash(img: &image::RgbImage) -> PHash {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    hash_bytes(out.get_ref(), "image/png").unwrap()
}
