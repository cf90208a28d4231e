//! AV1 pictures: AVIF stills (8- and 10-bit, a grid of tiles, turned and mirrored by
//! their properties) and the keyframes of AV1 videos in MP4 and WebM (tests/data,
//! written by libaom through libheif, libavif and ffmpeg), hashed as the pictures they
//! show. The decoder is `custody-av1`'s, installed in this test process: these files
//! are known good (`custody` itself decodes in a child process; its tests give it
//! damaged ones).

#[path = "common/fixtures.rs"]
mod fixtures;

use std::process::Command;

use custody_similar::{
    Av1Decoder, Av1Failure, Av1Picture, hash_bytes, hash_keyframes_path, install_av1_decoder,
    is_hashable,
};
use fixtures::{data, png_hash};

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
        "could not hash: the AV1 decoder gave no answer (its process could not be started: /usr/bin/custody (deleted): No such file or directory); examining the item again may succeed",
        "could not hash: the AV1 decoder gave no answer (its process was killed from outside, perhaps by the system for want of memory); examining the item again may succeed",
    ] {
        assert!(custody_similar::lacked_a_decoder(old), "{old}");
    }
    for standing in [
        "could not hash: video coded as \"mp4v\" is not supported (only H.264, HEVC, VP9, VP8, AV1, MPEG-2, MPEG-1, MPEG-4 Part 2 and H.263 video keyframes are decoded)",
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

/// `from` replaced by `to` (the same length) at its first place in `bytes`.
fn patched(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("{from:02x?} not in the fixture"));
    let mut out = bytes.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

fn refusal(bytes: &[u8]) -> String {
    let e = hash_bytes(bytes, "image/avif").unwrap_err().to_string();
    assert!(
        e.starts_with("could not hash: the AVIF data cannot be decoded ("),
        "{e}"
    );
    e
}

/// What a file declares bounds what is decoded, and is checked before any tile is: a
/// grid naming one tile many times (each a decode), tiles that do not fit the grid's
/// picture, a picture that does not declare its size or is larger than it declares.
#[test]
fn hostile_declarations_are_refused_before_decoding() {
    install();
    let grid = std::fs::read(data("picture_grid.avif")).unwrap();
    // dimg from item 1 to items 2, 3, 4, 5: made 2, 2, 4, 5.
    let twice = patched(
        &grid,
        b"dimg\x00\x01\x00\x04\x00\x02\x00\x03",
        b"dimg\x00\x01\x00\x04\x00\x02\x00\x02",
    );
    let e = refusal(&twice);
    assert!(e.contains("the grid names item 2 more than once"), "{e}");
    // The grid's picture (version, flags, 2×2 tiles, 480×360) made 200 wide: its
    // second column of 240-pixel tiles would lie wholly outside it.
    let narrow = patched(
        &grid,
        b"\x00\x00\x01\x01\x01\xe0\x01\x68",
        b"\x00\x00\x01\x01\x00\xc8\x01\x68",
    );
    let e = refusal(&narrow);
    assert!(
        e.contains("the grid's 2×2 tiles of 240×180 do not fit its 200×360 picture"),
        "{e}"
    );

    let single = std::fs::read(data("picture.avif")).unwrap();
    let undeclared = patched(&single, b"ispe", b"xspe");
    let e = refusal(&undeclared);
    assert!(e.contains("does not declare its size (ispe)"), "{e}");
    // Declared 48×36, coded 480×360: the decoder is held to the declared size.
    let smaller = patched(
        &single,
        b"ispe\x00\x00\x00\x00\x00\x00\x01\xe0\x00\x00\x01\x68",
        b"ispe\x00\x00\x00\x00\x00\x00\x00\x30\x00\x00\x00\x24",
    );
    let e = refusal(&smaller);
    assert!(e.contains("declares a size out of range"), "{e}");
}

/// The primary item, not the brands, decides the decoder: an AVIF whose `ftyp` names
/// only generic HEIF brands (`mif1`, `miaf`) is decoded as AV1 all the same.
#[test]
fn an_av1_picture_under_generic_heif_brands_is_still_av1() {
    install();
    let avif = std::fs::read(data("picture.avif")).unwrap();
    let generic = patched(&avif, b"ftypavif\0\0\0\0avif", b"ftypmif1\0\0\0\0miaf");
    let expected = png_hash(&picture());
    let h = hash_bytes(&generic, "image/heif").unwrap();
    assert!(h.distance(&expected) <= 4, "{h} vs {expected}");
}

/// An animated AVIF's pictures (an image sequence: a `pict` track) are chosen and hashed
/// as a video's keyframes are: one second of the picture, hashed as the picture.
#[test]
fn an_animated_avif_is_hashed_as_a_video() {
    install();
    let frames = hash_keyframes_path(&data("animated.avif")).unwrap();
    let expected = png_hash(&picture());
    assert_eq!(frames[0].at_ms, 0, "{frames:?}");
    for k in &frames {
        assert!(
            k.hash.distance(&expected) <= 4,
            "at {} ms: {} vs the picture's {expected}",
            k.at_ms,
            k.hash
        );
    }
}

/// An animated AVIF is a picture file: hashed as a still, it gives its primary picture.
/// One that names no still (its `meta` box gone: a bare image sequence) gives the first
/// picture of its sequence instead; a file with neither is refused with the still's
/// reason.
#[test]
fn an_animated_avif_has_a_still_hash_with_or_without_a_primary_picture() {
    install();
    let animated = std::fs::read(data("animated.avif")).unwrap();
    let expected = png_hash(&picture());
    let still = hash_bytes(&animated, "image/avif").unwrap();
    assert!(still.distance(&expected) <= 4, "{still} vs {expected}");

    let bare = patched(&animated, b"meta", b"free");
    let first = hash_keyframes_path(&data("animated.avif")).unwrap()[0].hash;
    assert_eq!(hash_bytes(&bare, "image/avif").unwrap(), first);
    let turnings = custody_similar::hash_turnings_bytes(&bare, "image/avif").unwrap();
    assert_eq!(turnings.hash, first);

    // Neither a still nor a sequence.
    let neither = patched(&bare, b"moov", b"skip");
    let e = hash_bytes(&neither, "image/avif").unwrap_err().to_string();
    assert!(e.contains("meta"), "{e}");
}

/// A grid whose canvas and tiles together declare more than the decoding budget holds
/// (a 16000×16000 picture of 12000×12000 tiles, from a few kilobytes) is refused, not
/// left waiting for budget it holds itself.
#[test]
fn a_grid_declaring_more_than_the_budget_is_refused_not_stuck() {
    install();
    let grid = std::fs::read(data("picture_grid.avif")).unwrap();
    let big_tiles = patched(
        &grid,
        b"ispe\x00\x00\x00\x00\x00\x00\x00\xf0\x00\x00\x00\xb4",
        b"ispe\x00\x00\x00\x00\x00\x00\x2e\xe0\x00\x00\x2e\xe0",
    );
    let huge = patched(
        &big_tiles,
        b"\x00\x00\x01\x01\x01\xe0\x01\x68",
        b"\x00\x00\x01\x01\x3e\x80\x3e\x80",
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(hash_bytes(&huge, "image/avif").map_err(|e| e.to_string()));
    });
    let e = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("hashing the grid waited for ever")
        .unwrap_err();
    assert!(
        e.contains("tile 1 decodes to 240×180, not the 12000×12000 it declares"),
        "{e}"
    );
}
