//! Keyframes of real H.264 and HEVC videos (tests/data, written by libx264 and libx265
//! through ffmpeg from `picture.png` and from ffmpeg's moving test pattern): found, timed
//! and hashed as the picture they show; checked against ffmpeg's own decoding when
//! `ffmpeg` is installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use custody_similar::{PHash, hash_bytes, hash_keyframes_path};

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

#[test]
fn keyframes_of_a_video_of_a_picture_hash_as_the_picture() {
    let picture = hash_bytes(&std::fs::read(data("picture.png")).unwrap(), "image/png").unwrap();
    for name in ["clip_h264.mp4", "clip_hevc.mov"] {
        let frames = hash_keyframes_path(&data(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        eprintln!("{name}: {frames:?} picture {picture}");
        let times: Vec<u64> = frames.iter().map(|k| k.at_ms).collect();
        assert_eq!(
            times,
            vec![0, 1000],
            "{name}: a keyframe every ten frames at 10 fps"
        );
        for k in &frames {
            assert!(
                k.hash.distance(&picture) <= 4,
                "{name} at {} ms: {} is {} bits from the picture's {picture}",
                k.at_ms,
                k.hash,
                k.hash.distance(&picture)
            );
        }
    }
}

#[test]
fn a_turned_track_is_hashed_as_a_player_shows_it() {
    let img = image::open(data("picture.png")).unwrap().to_rgb8();
    let upright = png_hash(&img);
    let cw = png_hash(&image::imageops::rotate90(&img));
    let ccw = png_hash(&image::imageops::rotate270(&img));
    let frames = hash_keyframes_path(&data("clip_rotated.mp4")).unwrap();
    eprintln!("{frames:?} upright {upright} cw {cw} ccw {ccw}");
    for k in &frames {
        assert!(k.hash.distance(&ccw) <= 4, "{} vs ccw {ccw}", k.hash);
        assert!(
            k.hash.distance(&upright) > 10,
            "{} vs upright {upright}",
            k.hash
        );
    }
}

/// Each keyframe, at the time found, hashes as ffmpeg shows the video at that time
/// (`ffmpeg -ss T -i FILE -frames:v 1`, turned as its player turns it): H.264 with
/// B-frames (composition offsets and an edit list), 10-bit HEVC, a turned track.
#[test]
fn keyframes_agree_with_ffmpegs_decoding() {
    if Command::new("ffmpeg").arg("-version").output().is_err() {
        eprintln!("skipped: ffmpeg is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for (name, expected_times) in [
        ("moving.mp4", vec![0, 1000, 2000]),
        ("moving_hevc10.mp4", vec![0, 1000, 2000]),
        ("clip_rotated.mp4", vec![0, 1000]),
    ] {
        let file = data(name);
        let frames = hash_keyframes_path(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
        let times: Vec<u64> = frames.iter().map(|k| k.at_ms).collect();
        assert_eq!(times, expected_times, "{name}");
        for k in &frames {
            let png = tmp.path().join(format!("{name}-{}.png", k.at_ms));
            let out = Command::new("ffmpeg")
                .args(["-hide_banner", "-loglevel", "error", "-ss"])
                .arg(format!("{:.3}", k.at_ms as f64 / 1000.0))
                .arg("-i")
                .arg(&file)
                .args(["-frames:v", "1", "-y"])
                .arg(&png)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let reference = hash_bytes(&std::fs::read(&png).unwrap(), "image/png").unwrap();
            eprintln!("{name} at {} ms: {} reference {reference}", k.at_ms, k.hash);
            assert!(
                k.hash.distance(&reference) <= 3,
                "{name} at {} ms: {} is {} bits from ffmpeg's {reference}",
                k.at_ms,
                k.hash,
                k.hash.distance(&reference)
            );
        }
    }
    // Different moments of the moving pattern are different pictures.
    let moving = hash_keyframes_path(&data("moving.mp4")).unwrap();
    assert!(moving[0].hash.distance(&moving[2].hash) > 4, "{moving:?}");
}
