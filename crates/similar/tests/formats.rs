//! One synthetic picture in many encodings (tests/data, written by make_fixtures.py; the
//! HEIC by libheif's `heif-enc`):
//! the hash must not depend on the container, the JPEG mode or the decoding path.

use std::path::Path;

use custody_similar::testing::{dc_luma, hash_general};
use custody_similar::{PHash, Variant, hash_bytes, hash_path, hash_reader};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

#[test]
fn every_encoding_of_one_picture_hashes_alike() {
    let reference = hash_bytes(&data("baseline.jpg"), "image/jpeg").unwrap();
    for (name, media) in [
        ("progressive.jpg", "image/jpeg"),
        ("progressive_gray.jpg", "image/jpeg"),
        ("restart.jpg", "image/jpeg"),
        ("sampling444.jpg", "image/jpeg"),
        ("sampling422.jpg", "image/jpeg"),
        ("picture.png", "image/png"),
        ("picture.webp", "image/webp"),
        ("picture.tif", "image/tiff"),
        ("picture.heic", "image/heif"),
    ] {
        let h = hash_bytes(&data(name), media).unwrap();
        assert!(
            h.distance(&reference) <= 4,
            "{name}: {h} is {} bits from the baseline JPEG {reference}",
            h.distance(&reference)
        );
    }
}

#[test]
fn fast_path_takes_progressive_and_restart_jpegs() {
    for name in [
        "baseline.jpg",
        "progressive.jpg",
        "progressive_gray.jpg",
        "restart.jpg",
        "sampling444.jpg",
        "sampling422.jpg",
    ] {
        let d = data(name);
        let p = dc_luma(&d).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((p.cols, p.rows), (60, 45), "{name}");
        // Fast and general paths agree on the same file.
        let fast = hash_bytes(&d, "image/jpeg").unwrap();
        let general = hash_general(&d, Variant::ZigzagAc).unwrap();
        assert!(fast.distance(&general) <= 2, "{name}: {fast} vs {general}");
    }
}

#[test]
fn path_reader_and_bytes_agree() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/baseline.jpg");
    let a = hash_path(&p, "image/jpeg").unwrap();
    let b = hash_reader(std::fs::File::open(&p).unwrap(), "image/jpeg").unwrap();
    let c = hash_bytes(&data("baseline.jpg"), "image/jpeg").unwrap();
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_ne!(a, PHash(0));
    let missing = hash_path(Path::new("/nonexistent/x.jpg"), "image/jpeg").unwrap_err();
    assert!(
        missing.to_string().contains("/nonexistent/x.jpg"),
        "{missing}"
    );
}

#[test]
fn absurd_dimensions_are_refused_before_decoding() {
    // A baseline JPEG header claiming 65535x65535 pixels and no data after it.
    let mut d = data("baseline.jpg");
    let sof = d.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    d[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    let e = hash_bytes(&d, "image/jpeg").unwrap_err();
    assert!(e.to_string().contains("65535x65535"), "{e}");
    assert!(e.to_string().starts_with("could not hash"), "{e}");
}

/// Orientation is normalised from the EXIF tag only: a copy whose pixels were turned
/// without a tag is, to this hash, a different picture (stated in near-duplicates.md).
#[test]
fn pixel_rotated_copies_without_a_tag_are_not_near_duplicates() {
    let img = image::load_from_memory(&data("picture.png")).unwrap();
    let upright = hash_bytes(&data("picture.png"), "image/png").unwrap();
    for (what, turned) in [
        ("rotate90", img.rotate90()),
        ("rotate180", img.rotate180()),
        ("fliph", img.fliph()),
    ] {
        let mut png = Vec::new();
        turned
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let h = hash_bytes(&png, "image/png").unwrap();
        eprintln!("{what}: distance {}", h.distance(&upright));
        assert!(
            h.distance(&upright) > custody_similar::DEFAULT_MAX_DISTANCE,
            "{what}: {h} vs {upright}"
        );
    }
}

/// A HEIC turned and mirrored by its own `irot` and `imir` properties hashes as libheif
/// shows it: the picture a quarter turn anticlockwise, then mirrored top to bottom
/// (`imir` axis 0, as libheif reads it; `tests/heif_reference.rs` compares with
/// libheif's own decoding).
#[test]
fn a_heic_turned_and_mirrored_by_its_properties_hashes_as_shown() {
    let picture = image::load_from_memory(&data("picture.png"))
        .unwrap()
        .to_rgb8();
    let shown = image::imageops::flip_vertical(&image::imageops::rotate270(&picture));
    let mut png = std::io::Cursor::new(Vec::new());
    shown.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let expected = hash_bytes(png.get_ref(), "image/png").unwrap();
    let h = hash_bytes(&data("picture_turned_mirrored.heic"), "image/heif").unwrap();
    assert!(
        h.distance(&expected) <= 4,
        "{h} is {} bits from the picture as shown, {expected}",
        h.distance(&expected)
    );
    let unmirrored = image::imageops::rotate270(&picture);
    let mut png = std::io::Cursor::new(Vec::new());
    unmirrored
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    let wrong = hash_bytes(png.get_ref(), "image/png").unwrap();
    assert!(
        h.distance(&wrong) > 10,
        "{h} vs the unmirrored picture {wrong}"
    );
}

/// `FF 00` in a header is no marker: decoders skip it and read on. The DC-only walk,
/// which would read a length there, leaves such a file to the general decoder, so the
/// hash describes the picture viewers see (a crafted header could otherwise show the
/// walk other tables than a viewer uses).
#[test]
fn stray_bytes_in_a_header_leave_the_file_to_the_general_decoder() {
    let d = data("baseline.jpg");
    let dqt = d.windows(2).position(|w| w == [0xFF, 0xDB]).unwrap();
    let mut odd = d[..dqt].to_vec();
    odd.extend_from_slice(&[0xFF, 0x00]);
    odd.extend_from_slice(&d[dqt..]);
    assert!(
        dc_luma(&odd).is_err(),
        "the walk must not read a length at FF 00"
    );
    let h = hash_bytes(&odd, "image/jpeg").expect("the general decoder reads it");
    let plain = hash_bytes(&d, "image/jpeg").unwrap();
    assert!(h.distance(&plain) <= 2, "{h} vs {plain}");
}

/// A later scan holding luma's DC again (a second copy of the first one, put before
/// the end) decides what decoders show, since they keep the last value: the DC-only
/// walk, which stops at the first, leaves such a file to the general decoder instead
/// of hashing another picture than viewers see. Sequential and progressive alike.
#[test]
fn a_later_scan_rewriting_luma_dc_leaves_the_file_to_the_general_decoder() {
    for name in ["baseline.jpg", "progressive.jpg"] {
        let d = data(name);
        let sos = d.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        // The scan runs to the next marker that is not a restart or stuffing.
        let mut end = sos + 2;
        while d[end] != 0xFF || matches!(d[end + 1], 0x00 | 0xD0..=0xD7 | 0xFF) {
            end += 1;
        }
        let eoi = d.len() - 2;
        assert_eq!(&d[eoi..], &[0xFF, 0xD9], "{name}");
        let mut odd = d[..eoi].to_vec();
        odd.extend_from_slice(&d[sos..end]);
        odd.extend_from_slice(&d[eoi..]);
        assert!(dc_luma(&d).is_ok(), "{name}");
        let err = match dc_luma(&odd) {
            Ok(_) => panic!("{name}: the walk hashed the first of two luma DC scans"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("later scan"), "{name}: {err}");
    }
}

/// A copy mirrored or turned by hand is near the hash the asked picture would have after
/// that very turn, and after no other: each [`Turn`] names what was done to it. Also
/// through JPEG (the DC-only path) at another size and quality.
#[test]
fn each_mirrored_or_turned_copy_is_named_by_its_turn() {
    use custody_similar::{Turn, hash_turnings_path};
    let dir = tempfile::tempdir().unwrap();
    let img = image::load_from_memory(&data("picture.png")).unwrap();
    let asked = dir.path().join("asked.png");
    img.save(&asked).unwrap();
    let t = hash_turnings_path(&asked, "image/png").unwrap();
    assert_eq!(
        t.hash,
        hash_bytes(&data("picture.png"), "image/png").unwrap()
    );
    for (turn, copy) in [
        (Turn::Mirrored, img.fliph()),
        (Turn::HalfTurn, img.rotate180()),
        (Turn::UpsideDown, img.flipv()),
        (Turn::Transposed, img.rotate90().fliph()),
        (Turn::QuarterClockwise, img.rotate90()),
        (Turn::Transversed, img.rotate270().fliph()),
        (Turn::QuarterAnticlockwise, img.rotate270()),
    ] {
        let small = copy.resize(
            copy.width() * 2 / 3,
            copy.height() * 2 / 3,
            image::imageops::FilterType::Triangle,
        );
        let path = dir.path().join(format!("{}.jpg", turn.id()));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 70)
            .encode_image(&small.to_rgb8())
            .unwrap();
        std::fs::write(&path, &jpeg).unwrap();
        let found = hash_path(&path, "image/jpeg").unwrap();
        let mut by_distance: Vec<(u32, Option<Turn>)> = t
            .turned
            .iter()
            .map(|(u, h)| (h.distance(&found), Some(u)))
            .chain([(t.hash.distance(&found), None)])
            .collect();
        by_distance.sort();
        eprintln!("{}: {by_distance:?}", turn.id());
        assert_eq!(
            by_distance[0].1,
            Some(turn),
            "{}: {by_distance:?}",
            turn.id()
        );
        assert!(by_distance[0].0 <= 6, "{}: {by_distance:?}", turn.id());
        assert!(
            by_distance[1].0 > custody_similar::DEFAULT_MAX_DISTANCE,
            "{}: {by_distance:?}",
            turn.id()
        );
    }
}
