//! AV1 pictures: AVIF stills (8- and 10-bit, a grid of tiles, turned and mirrored by
//! their properties) and the keyframes of AV1 videos in MP4 and WebM (tests/data,
//! written by libaom through libheif, libavif and ffmpeg), hashed as the pictures they
//! show. The decoder is `custody-av1`'s, installed in this test process: these files
//! are known good (`custody` itself decodes in a child process; its tests give it
//! damaged ones).

use std::path::{Path, PathBuf};
use std::process::Command;

use custody_similar::{
    Av1Decoder, Av1Failure, Av1Picture, PHash, hash_bytes, hash_keyframes_path,
    install_av1_decoder, is_hashable,
};

struct InProcess;

impl Av1Decoder for InProcess {
    fn decode(&self, obus: &[u8], max_pixels: u64) -> Result<Av1Picture, Av1Failure> {
        custody_av1::decode_here(obus, max_pixels)
            .map(|p| Av1Picture {
                width: p.width,
                height: p.height,
                luma: p.luma,
            })
            .map_err(Av1Failure::Refused)
    }
}

fn install() {
    install_av1_decoder(Box::new(InProcess));
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn png_hash(img: &image::RgbImage) -> PHash {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    hash_bytes(out.get_ref(), "image/png").unwrap()
}

fn picture() -> image::RgbImage {
    image::load_from_memory(&std::fs::read(data("picture.png")).unwrap())
        .unwrap()
        .to_rgb8()
}

#[test]
fn avif_stills_hash_as_the_picture() {
    install();
    assert!(is_hashable("image/avif"));
    let expected = png_hash(&picture());
    for name in ["picture.avif", "picture10.avif", "picture_grid.avif"] {
        let h = hash_bytes(&std::fs::read(data(name)).unwrap(), "image/avif")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        eprintln!("{name}: {h} picture {expected}");
        assert!(
            h.distance(&expected) <= 4,
            "{name}: {h} is {} bits from the PNG's {expected}",
            h.distance(&expected)
        );
    }
}

/// Turned a quarter anticlockwise and mirrored top to bottom by `irot` and `imir`, as
/// libheif shows it (the HEIC of `tests/formats.rs`, the same properties).
#[test]
fn an_avif_turned_and_mirrored_by_its_properties_hashes_as_shown() {
    install();
    let shown = image::imageops::flip_vertical(&image::imageops::rotate270(&picture()));
    let expected = png_hash(&shown);
    let file = data("picture_turned_mirrored.avif");
    let h = hash_bytes(&std::fs::read(&file).unwrap(), "image/avif").unwrap();
    assert!(
        h.distance(&expected) <= 4,
        "{h} is {} bits from the picture as shown, {expected}",
        h.distance(&expected)
    );
    let upright = png_hash(&picture());
    assert!(h.distance(&upright) > 10, "{h} vs upright {upright}");

    // libheif's own decoding, where it is installed.
    let tmp = tempfile::tempdir().unwrap();
    let png = tmp.path().join("shown.png");
    match Command::new("heif-convert").arg(&file).arg(&png).output() {
        Ok(out) if out.status.success() => {
            let image = image::load_from_memory(&std::fs::read(&png).unwrap()).unwrap();
            let reference = png_hash(&image.to_rgb8());
            assert!(
                h.distance(&reference) <= 3,
                "{h} is {} bits from libheif's {reference}",
                h.distance(&reference)
            );
        }
        _ => eprintln!("heif-convert not run: libheif's decoding not compared"),
    }
}

#[test]
fn av1_keyframes_in_mp4_and_webm_hash_as_the_same_pictures_in_h264() {
    install();
    let h264 = hash_keyframes_path(&data("moving.mp4")).unwrap();
    for name in ["moving_av1.mp4", "moving_av1.webm"] {
        let frames = hash_keyframes_path(&data(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let times: Vec<u64> = frames.iter().map(|k| k.at_ms).collect();
        assert_eq!(times, vec![0, 1000, 2000], "{name}: {frames:?}");
        for (a, b) in frames.iter().zip(&h264) {
            assert!(
                a.hash.distance(&b.hash) <= 4,
                "{name} at {} ms: {} is {} bits from H.264's {}",
                a.at_ms,
                a.hash,
                a.hash.distance(&b.hash),
                b.hash
            );
        }
    }
}

/// AV1 videos refused before AV1 was decoded, and pictures whose decoder could not be
/// run, are worth hashing again; other refusals and decoding failures stand.
#[test]
fn refusals_of_av1_recorded_before_it_was_decoded_are_outdated() {
    install();
    for old in [
        "could not hash: video coded as \"av01\" is not supported (only H.264, HEVC, VP9 and VP8 video keyframes are decoded)",
        "could not hash: video coded as V_AV1 is not supported (only H.264, HEVC, VP9 and VP8 video keyframes are decoded)",
        "could not hash: no AV1 decoder could be run (the AV1 decoding process could not be run (/usr/bin/custody (deleted): No such file or directory); check that the program can run itself again); examining the item again may succeed",
    ] {
        assert!(custody_similar::lacked_a_decoder(old), "{old}");
    }
    for standing in [
        "could not hash: video coded as \"mp4v\" is not supported (only H.264, HEVC, VP9, VP8 and AV1 video keyframes are decoded)",
        "could not hash: the AV1 data cannot be decoded (the AV1 data is not a valid stream)",
    ] {
        assert!(!custody_similar::lacked_a_decoder(standing), "{standing}");
    }
}

#[test]
fn damaged_avif_is_refused_with_a_reason() {
    install();
    let mut bytes = std::fs::read(data("picture.avif")).unwrap();
    // The coded picture is at the end of the file: cut into it.
    bytes.truncate(bytes.len() - 2000);
    let e = hash_bytes(&bytes, "image/avif").unwrap_err().to_string();
    assert!(
        e.starts_with("could not hash: the AVIF data cannot be decoded"),
        "{e}"
    );
}
