//! Damaged input never panics and never takes long: fixed-seed mutations (bit flips,
//! byte overwrites with marker-like values, truncation, chunk deletion and duplication)
//! of real JPEGs, run through both the DC-only path and the whole hashing pipeline.
//! A stable-toolchain stand-in for a fuzzer: deterministic, so any failure reproduces.

use std::path::Path;
use std::time::{Duration, Instant};

use std::io::Cursor;

use custody_similar::hash_bytes;
use custody_similar::testing::{dc_luma, dc_luma_ordinary, lane_walks, same_outcome};
use custody_testkit::data::Rng;
use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, RgbImage};

fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut d = src.to_vec();
    let edits = 1 + rng.below(4);
    for _ in 0..edits {
        if d.is_empty() {
            break;
        }
        // Damage near the headers is the most interesting: bias half the edits there.
        let span = if rng.below(2) == 0 {
            d.len().min(1024)
        } else {
            d.len()
        };
        let at = rng.below(span);
        match rng.below(7) {
            0 => d[at] ^= 1 << rng.below(8),
            1 => {
                d[at] = [0x00, 0xFF, 0xD8, 0xD9, 0xDA, 0xC4, 0xDB, 0xDD, 0xC0, 0xC2][rng.below(10)]
            }
            2 => d[at] = rng.bits() as u8,
            3 => d.truncate(at),
            4 => {
                let end = (at + rng.below(64)).min(d.len());
                d.drain(at..end);
            }
            5 => {
                let end = (at + rng.below(64)).min(d.len());
                let chunk = d[at..end].to_vec();
                let to = rng.below(d.len());
                d.splice(to..to, chunk);
            }
            _ => {
                // Segment length fields: make one huge or tiny.
                if at + 1 < d.len() {
                    d[at] = 0xFF;
                    d[at + 1] = rng.bits() as u8;
                }
            }
        }
    }
    d
}

#[test]
fn mutated_jpegs_never_panic_or_hang() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<Vec<u8>> = [
        "baseline.jpg",
        "progressive.jpg",
        "progressive_gray.jpg",
        "restart.jpg",
        "sampling422.jpg",
    ]
    .iter()
    .map(|n| std::fs::read(manifest.join("tests/data").join(n)).unwrap())
    .collect();
    let shared = manifest.join("../../../shared/testdata/exif/jpg");
    if shared.is_dir() {
        for n in [
            "exif-org/fujifilm-mx1700.jpg",
            "gps/DSCN0010.jpg",
            "tests/32-lens_data.jpeg",
            "orientation/landscape_6.jpg",
        ] {
            seeds.push(std::fs::read(shared.join(n)).unwrap());
        }
    } else {
        eprintln!("note: ../shared not found; mutating the crate's own fixtures only");
    }
    let mut rng = Rng(0xC0FFEE);
    let (mut ok, mut refused) = (0, 0);
    let mut slowest = Duration::ZERO;
    for round in 0..3000 {
        let src = &seeds[round % seeds.len()];
        let d = mutate(&mut rng, src);
        let t = Instant::now();
        let _ = dc_luma(&d);
        match hash_bytes(&d, "image/jpeg") {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(e.to_string().starts_with("could not hash"), "{e}");
                refused += 1;
            }
        }
        let took = t.elapsed();
        if took > slowest {
            slowest = took;
            eprintln!("round {round}: {took:?} ({} bytes)", d.len());
        }
        // A hang guard, not a speed test: these inputs are under 40 kB.
        assert!(
            took < Duration::from_secs(10),
            "round {round} took {took:?}"
        );
    }
    eprintln!("{ok} hashed, {refused} refused, slowest {slowest:?}");
    assert!(
        ok > 0 && refused > 0,
        "mutations should produce both outcomes"
    );
}

/// A photo-sized picture with detail everywhere, as a baseline JPEG.
fn photo(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x9E37_79B9u32;
    let img = RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 48) as u8;
        let base = ((x * 200) / width) as u8 + ((y * 50) / height) as u8;
        image::Rgb([base ^ noise, base.wrapping_add(noise), 255 - base])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(Cursor::new(&mut out), 90)
        .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .expect("encodes");
    out
}

/// Photo-sized JPEGs are walked in stretches (with restart intervals and without): the
/// same mutations through both walks never panic, and the walks agree on every outcome.
#[test]
fn mutated_photos_walk_alike_in_stretches() {
    let mut seeds = vec![photo(1600, 1200)];
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/exif/jpg");
    if shared.is_dir() {
        for n in ["hdr/canon_hdr_NO.jpg", "tests/35-empty.jpg"] {
            seeds.push(std::fs::read(shared.join(n)).unwrap());
        }
    } else {
        eprintln!("note: ../shared not found; mutating a generated photo only");
    }
    // Each seed once as it is, so that its codes are seen and its tables built.
    for s in &seeds {
        let _ = dc_luma(s);
    }
    let before = lane_walks();
    let mut rng = Rng(0xFACADE);
    let mut refused = 0;
    for round in 0..300 {
        let src = &seeds[round % seeds.len()];
        // Damage away from the headers, in the entropy-coded data.
        let mut d = src.to_vec();
        let from = d.len() / 8;
        for _ in 0..1 + rng.below(3) {
            let at = from + rng.below(d.len() - from - 64);
            match rng.below(4) {
                0 => d[at] ^= 1 << rng.below(8),
                1 => d[at..at + 16].fill(rng.bits() as u8),
                2 => {
                    let n = rng.below(40);
                    d.drain(at..at + n);
                }
                _ => d.truncate(at),
            }
        }
        let (stretches, ordinary) = (dc_luma(&d), dc_luma_ordinary(&d));
        assert!(
            same_outcome(&stretches, &ordinary),
            "round {round}: {:?} against {:?}",
            stretches.as_ref().err(),
            ordinary.as_ref().err()
        );
        refused += usize::from(ordinary.is_err());
    }
    let after = lane_walks();
    eprintln!("{refused} of 300 refused; walks in stretches {before:?} -> {after:?}");
    assert!(
        after.0 > before.0,
        "some damaged photos were walked in stretches"
    );
    assert!(refused > 0, "some damage is refused");
}

/// Runs 1,500 fixed-seed mutations of `seeds` through `hash`: every failure must be a
/// "could not hash" message, no input may take ten seconds (a hang guard, not a speed
/// test: the seeds are under 120 kB), and both outcomes must occur.
fn mutations_are_refused_or_hashed(
    seeds: &[Vec<u8>],
    seed: u64,
    hash: impl Fn(Vec<u8>) -> Result<(), custody_similar::HashError>,
) {
    let mut rng = Rng(seed);
    let (mut ok, mut refused, mut internal) = (0, 0, 0);
    let mut slowest = Duration::ZERO;
    for round in 0..1500 {
        let d = mutate(&mut rng, &seeds[round % seeds.len()]);
        let t = Instant::now();
        match hash(d) {
            Ok(()) => ok += 1,
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with("could not hash"), "{msg}");
                internal += usize::from(msg.contains("internal error"));
                refused += 1;
            }
        }
        let took = t.elapsed();
        slowest = slowest.max(took);
        assert!(
            took < Duration::from_secs(10),
            "round {round} took {took:?}"
        );
    }
    eprintln!(
        "{ok} hashed, {refused} refused ({internal} by a stop inside a decoder), slowest {slowest:?}"
    );
    assert!(
        ok > 0 && refused > 0,
        "mutations should produce both outcomes"
    );
}

/// The same mutations of HEIC/HEIF files: the decoder (a third-party HEVC decoder)
/// refuses them with a message, never panics through, never hangs.
#[test]
fn mutated_heif_never_panics_or_hangs() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds = vec![std::fs::read(manifest.join("tests/data/picture.heic")).unwrap()];
    let shared = manifest.join("../../../shared/testdata/exif/heic/samplefilehub.heif");
    if shared.is_file() {
        seeds.push(std::fs::read(shared).unwrap());
    } else {
        eprintln!("note: ../shared not found; mutating the crate's own HEIC only");
    }
    mutations_are_refused_or_hashed(&seeds, 0x4845_4946, |d| {
        hash_bytes(&d, "image/heif").map(|_| ())
    });
}

/// The same mutations of H.264, HEVC, VP9, VP8, MPEG-2, MPEG-1, MPEG-4 Part 2 and H.263
/// videos, one of them a fragmented MP4, two WebM, three transport streams, one Flash
/// Video, two AVI, a 3GP with data partitioning, an H.263 3GP and a Sorenson FLV: the container readers and the decoders refuse them with a message,
/// never panic through, never hang.
#[test]
fn mutated_videos_never_panic_or_hang() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds: Vec<Vec<u8>> = [
        "clip_h264.mp4",
        "clip_hevc.mov",
        "moving.mp4",
        "moving_hevc10.mp4",
        "moving_fragmented.mp4",
        "moving_vp9.webm",
        "moving_vp8.webm",
        "moving.ts",
        "moving.flv",
        "moving.avi",
        "moving_mpeg2.ts",
        "moving_mpeg1.ts",
        "moving_mpeg4.avi",
        "moving_mpeg4.3gp",
        "moving_h263.3gp",
        "moving_sorenson.flv",
    ]
    .iter()
    .map(|n| std::fs::read(manifest.join("tests/data").join(n)).unwrap())
    .collect();
    mutations_are_refused_or_hashed(&seeds, 0x0056_4944_454F, |d| {
        custody_similar::hash_keyframes(&mut Cursor::new(d)).map(|_| ())
    });
}
