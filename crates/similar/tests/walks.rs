//! The two walks of a scan's entropy-coded data: several stretches at once, and the
//! ordinary one from start to end, must give the same DC coefficients bit for bit, on
//! real camera JPEGs and on photo-sized ones made here.

use std::io::Cursor;
use std::sync::Mutex;

use custody_similar::testing::{
    DcLuma, dc_luma, dc_luma_ordinary, jpeg_files, lane_walks, same_outcome, shared_dir,
};
use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, RgbImage};

/// Decodes `data` both ways; the stretch walk gets its tables once a code pair has been
/// seen, so the file is decoded twice that way.
/// The walk counters are per process: tests that read them, or walk damaged data
/// (which the stretch walk declines), run one at a time under `cargo test`'s threads.
static COUNTERS: Mutex<()> = Mutex::new(());

fn both_walks(data: &[u8]) -> (Result<DcLuma, String>, Result<DcLuma, String>) {
    let _ = dc_luma(data);
    (dc_luma(data), dc_luma_ordinary(data))
}

/// A photo-sized picture with detail everywhere (noise over gradients, so that the
/// entropy-coded data is long and varied), as a baseline JPEG.
fn photo(width: u32, height: u32, quality: u8, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    let img = RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 64) as u8;
        let base = ((x * 255) / width) as u8 / 2 + ((y * 255) / height) as u8 / 4;
        let band = if (x / 97 + y / 61) % 3 == 0 { 40 } else { 0 };
        image::Rgb([
            base.wrapping_add(noise),
            base.wrapping_add(band).wrapping_add(noise / 2),
            (255 - base).wrapping_sub(noise / 3),
        ])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(Cursor::new(&mut out), quality)
        .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .expect("encodes");
    out
}

#[test]
fn stretches_and_the_ordinary_walk_agree_on_generated_photos() {
    let _serial = COUNTERS.lock().unwrap_or_else(|e| e.into_inner());
    let before = lane_walks();
    for (i, (w, h, q)) in [(2400, 1600, 90), (1800, 2400, 75), (3000, 2000, 95)]
        .into_iter()
        .enumerate()
    {
        let data = photo(w, h, q, i as u32 + 1);
        let (stretches, ordinary) = both_walks(&data);
        assert!(ordinary.is_ok(), "{w}x{h} q{q}: {:?}", ordinary.err());
        assert!(
            same_outcome(&stretches, &ordinary),
            "{w}x{h} q{q}: the walks differ"
        );
    }
    let after = lane_walks();
    assert!(
        after.0 - before.0 >= 3,
        "every photo was walked in stretches: {before:?} -> {after:?}"
    );
    assert_eq!(after.1, before.1, "and the stretch walk never declined");
}

#[test]
fn damaged_photos_fail_or_decode_alike_both_ways() {
    let _serial = COUNTERS.lock().unwrap_or_else(|e| e.into_inner());
    let data = photo(2400, 1600, 90, 9);
    let start = data.len() / 10;
    let mut refused = 0;
    for round in 0..24usize {
        let mut d = data.clone();
        let at = start + (round * 7919 * 13) % (d.len() - start - 64);
        match round % 3 {
            0 => d[at] ^= 0x10,
            1 => d[at..at + 24].fill(0x5A),
            _ => d.truncate(at),
        }
        let (stretches, ordinary) = both_walks(&d);
        assert!(
            same_outcome(&stretches, &ordinary),
            "round {round}: the walks differ"
        );
        refused += usize::from(ordinary.is_err());
    }
    assert!(refused > 0, "some damage is refused");
}

#[test]
fn stretches_and_the_ordinary_walk_agree_on_camera_jpegs() {
    let _serial = COUNTERS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(shared) = shared_dir() else { return };
    let files = jpeg_files(&shared.join("testdata"));
    assert!(
        files.len() > 50,
        "expected the sample JPEGs, found {}",
        files.len()
    );
    let before = lane_walks();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let (stretches, ordinary) = both_walks(&data);
        assert!(
            same_outcome(&stretches, &ordinary),
            "{}: the walks differ",
            f.display()
        );
    }
    let after = lane_walks();
    eprintln!(
        "{} scans walked in stretches, {} files each decoded twice",
        after.0 - before.0,
        files.len()
    );
    // Small pictures (and progressive ones) are walked the ordinary way only; the large
    // photos among the samples, with restart intervals or without, in stretches.
    assert!(
        after.0 - before.0 >= 40,
        "{} scans of {} files (each decoded twice) walked in stretches",
        after.0 - before.0,
        files.len()
    );
}
