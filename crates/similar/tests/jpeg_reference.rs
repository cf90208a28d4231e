//! The DC-only JPEG path against a full reference decode (zune-jpeg, luma output, box
//! averaged over the same areas), on real camera JPEGs: many makers, all common chroma
//! subsamplings, restart intervals, a progressive file, EXIF orientations.

use custody_similar::testing::{dc_luma, hash_general, jpeg_files, shared_dir};
use custody_similar::{Variant, hash_bytes};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

/// Full-resolution luma from the reference decoder.
fn reference_luma(data: &[u8]) -> Option<(usize, usize, Vec<u8>)> {
    let opts = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::Luma);
    let mut d = JpegDecoder::new_with_options(ZCursor::new(data), opts);
    let px = d.decode().ok()?;
    let info = d.info()?;
    Some((usize::from(info.width), usize::from(info.height), px))
}

struct Compared {
    mean_abs: f64,
    p99: f64,
}

fn compare(data: &[u8]) -> Result<Compared, String> {
    let fast = dc_luma(data)?;
    let (w, h, px) = reference_luma(data).ok_or("reference decoder failed")?;
    assert_eq!((w, h), (fast.width as usize, fast.height as usize));
    let mut diffs = Vec::with_capacity(fast.samples.len());
    for r in 0..fast.rows {
        for c in 0..fast.cols {
            // Only samples wholly inside the picture: edge blocks include padding that
            // the reference decoder never outputs.
            let (x0, y0) = (
                (c as f64 * fast.cell_w) as usize,
                (r as f64 * fast.cell_h) as usize,
            );
            let (x1, y1) = (
                ((c + 1) as f64 * fast.cell_w) as usize,
                ((r + 1) as f64 * fast.cell_h) as usize,
            );
            if x1 > w || y1 > h {
                continue;
            }
            let mut sum = 0u64;
            for y in y0..y1 {
                for x in x0..x1 {
                    sum += u64::from(px[y * w + x]);
                }
            }
            let mean = sum as f64 / ((x1 - x0) * (y1 - y0)) as f64;
            diffs.push((f64::from(fast.samples[r * fast.cols + c]) - mean).abs());
        }
    }
    assert!(!diffs.is_empty());
    let mean_abs = diffs.iter().sum::<f64>() / diffs.len() as f64;
    diffs.sort_by(f64::total_cmp);
    let p99 = diffs[(diffs.len() * 99) / 100];
    Ok(Compared { mean_abs, p99 })
}

#[test]
fn dc_path_matches_a_full_decode_on_camera_jpegs() {
    let Some(shared) = shared_dir() else { return };
    let mut files = jpeg_files(&shared.join("testdata/exif/jpg"));
    files.extend(jpeg_files(&shared.join("testdata/c2pa")));
    files.sort();
    assert!(
        files.len() > 50,
        "expected the EXIF sample JPEGs, found {}",
        files.len()
    );
    let mut declined = Vec::new();
    let mut checked = 0;
    for f in &files {
        let data = std::fs::read(f).unwrap();
        match compare(&data) {
            Ok(c) => {
                checked += 1;
                // IDCT rounding and clamping of saturated pixels are the only differences.
                assert!(
                    c.mean_abs < 1.0,
                    "{}: mean |diff| {:.3}",
                    f.display(),
                    c.mean_abs
                );
                assert!(
                    c.p99 < 2.0,
                    "{}: 99th percentile |diff| {:.3}",
                    f.display(),
                    c.p99
                );
                // The hash of the two paths agrees closely.
                let fast = hash_bytes(&data, "image/jpeg").unwrap();
                let general = hash_general(&data, Variant::ZigzagAc).unwrap();
                assert!(
                    fast.distance(&general) <= 4,
                    "{}: fast {fast} general {general}",
                    f.display()
                );
            }
            Err(why) => declined.push(format!("{}: {why}", f.display())),
        }
    }
    eprintln!(
        "checked {checked} JPEGs; DC path declined {}: {declined:#?}",
        declined.len()
    );
    // Only the deliberately truncated sample may be refused by the fast path (the general
    // decoder then decides).
    assert_eq!(declined.len(), 1, "{declined:#?}");
    assert!(declined[0].contains("corrupted.jpg") && declined[0].contains("ends early"));
    // ...and the whole pipeline refuses it rather than hash a grey-filled guess.
    let truncated = std::fs::read(shared.join("testdata/exif/jpg/corrupted.jpg")).unwrap();
    let e = hash_bytes(&truncated, "image/jpeg")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("could not hash") && e.contains("ends early"),
        "{e}"
    );
}

#[test]
fn exif_orientation_is_applied() {
    let Some(shared) = shared_dir() else { return };
    let dir = shared.join("testdata/exif/jpg/orientation");
    for kind in ["landscape", "portrait"] {
        let hashes: Vec<_> = (1..=8)
            .map(|o| {
                let data = std::fs::read(dir.join(format!("{kind}_{o}.jpg"))).unwrap();
                assert_eq!(dc_luma(&data).unwrap().orientation, o);
                hash_bytes(&data, "image/jpeg").unwrap()
            })
            .collect();
        // All eight files show the same picture once their tag is applied.
        for (o, h) in hashes.iter().enumerate() {
            assert!(
                h.distance(&hashes[0]) <= 4,
                "{kind}_{}: {h} vs {}",
                o + 1,
                hashes[0]
            );
        }
        // Without applying the tag, a rotated copy would be far away: check that the
        // stored pixels of orientation 6 really differ from the upright ones.
        let data = std::fs::read(dir.join(format!("{kind}_6.jpg"))).unwrap();
        let stored = dc_luma(&data).unwrap();
        let upright = dc_luma(&std::fs::read(dir.join(format!("{kind}_1.jpg"))).unwrap()).unwrap();
        assert_ne!((stored.cols, stored.rows), (upright.cols, upright.rows));
    }
}
