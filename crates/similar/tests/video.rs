//! Keyframes of real H.264 and HEVC videos (tests/data, written by libx264 and libx265
//! through ffmpeg from `picture.png` and from ffmpeg's moving test pattern): found, timed
//! and hashed as the picture they show; checked against ffmpeg's own decoding when
//! `ffmpeg` is installed.

#[path = "common/fixtures.rs"]
mod fixtures;

use std::path::Path;
use std::process::Command;

use custody_similar::{Keyframe, hash_bytes, hash_keyframes_path};
use custody_testkit::media::have_ffmpeg;
use fixtures::{data, png_hash};

/// Runs ffmpeg quietly with `args`, writing `out`.
fn ffmpeg(args: &[&str], out: &Path) {
    let mut all = args.to_vec();
    all.push(out.to_str().unwrap());
    custody_testkit::media::ffmpeg(None, &all);
}

/// Each keyframe hashes within 3 bits of the picture ffmpeg's own decoder shows at its
/// time (`-ss T` read as a timestamp, not offset by the file's start; turned as its
/// player turns it).
fn assert_shown_by_ffmpeg(file: &Path, frames: &[Keyframe], tmp: &Path) {
    shown_alike(file, frames, tmp, true, 3);
}

/// [`assert_shown_by_ffmpeg`], ffmpeg decoding the whole stream from its start and
/// showing the frame at `T` counted from there (`-ss` after the input). A transport
/// stream has no index: ffmpeg's seek in one can land on pictures that follow an open
/// GOP's keyframe in decoding order but are shown before it, without their references.
fn assert_decoded_by_ffmpeg(file: &Path, frames: &[Keyframe], tmp: &Path) {
    shown_alike(file, frames, tmp, false, 3);
}

fn shown_alike(file: &Path, frames: &[Keyframe], tmp: &Path, seek: bool, bits: u32) {
    let name = file.file_name().unwrap().to_string_lossy();
    let input = file.to_str().unwrap();
    for k in frames {
        let png = tmp.join(format!("{name}-{}.png", k.at_ms));
        let at = format!("{:.3}", k.at_ms as f64 / 1000.0);
        let args = if seek {
            vec!["-seek_timestamp", "1", "-ss", &at, "-i", input]
        } else {
            vec!["-i", input, "-ss", &at]
        };
        ffmpeg(&[&args[..], &["-frames:v", "1"]].concat(), &png);
        let shown = hash_bytes(&std::fs::read(&png).unwrap(), "image/png").unwrap();
        assert!(
            k.hash.distance(&shown) <= bits,
            "{name} at {} ms: {} is {} bits from ffmpeg's {shown}",
            k.at_ms,
            k.hash,
            k.hash.distance(&shown)
        );
    }
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
    if !have_ffmpeg() {
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
        assert_shown_by_ffmpeg(&file, &frames, tmp.path());
    }
    // Different moments of the moving pattern are different pictures.
    let moving = hash_keyframes_path(&data("moving.mp4")).unwrap();
    assert!(moving[0].hash.distance(&moving[2].hash) > 4, "{moving:?}");
}

/// A picture cropped at its left and top (H.264 `frame_crop_left/top_offset`, which
/// the decoder leaves to its caller) is hashed as shown, in MP4 and in a transport
/// stream: within 3 bits of ffmpeg's picture, and not as the uncropped one.
#[test]
fn a_picture_cropped_at_its_left_and_top_is_hashed_as_shown() {
    if !have_ffmpeg() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pattern = "testsrc2=size=320x240:rate=10:duration=2";
    for name in ["crop.mp4", "crop.ts"] {
        let out = tmp.path().join(name);
        ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                pattern,
                "-c:v",
                "libx264",
                "-g",
                "10",
                "-x264-params",
                // ffmpeg's decoder keeps the left crop to a multiple of 32 unless told
                // otherwise: 64 is cropped exactly by both.
                "crop-rect=64,48,0,0",
            ],
            &out,
        );
        let frames = hash_keyframes_path(&out).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(frames.len(), 2, "{name}: {frames:?}");
        assert_decoded_by_ffmpeg(&out, &frames, tmp.path());
        if name.ends_with(".ts") {
            let facts = custody_similar::read_video_path(&out).stream.unwrap();
            assert_eq!(
                (facts.width, facts.height),
                (Some(256), Some(192)),
                "{facts:?}"
            );
        }
    }
}

/// The index's counts are checked before anything is sized by them: a frame count of
/// 2^32 - 1 with one fixed frame size and no keyframe table is refused at once.
#[test]
fn a_hostile_frame_count_is_refused_without_allocating() {
    let mut d = std::fs::read(data("moving.mp4")).unwrap();
    let at = d.windows(4).position(|w| w == b"stsz").unwrap() + 4;
    d[at + 4..at + 8].copy_from_slice(&1u32.to_be_bytes());
    d[at + 8..at + 12].copy_from_slice(&u32::MAX.to_be_bytes());
    let stss = d.windows(4).position(|w| w == b"stss").unwrap();
    d[stss..stss + 4].copy_from_slice(b"free");
    let t = std::time::Instant::now();
    let e = custody_similar::hash_keyframes(&mut std::io::Cursor::new(d)).unwrap_err();
    assert!(e.to_string().contains("4294967295 frames"), "{e}");
    assert!(t.elapsed() < std::time::Duration::from_secs(1));
}

/// A copy cut with `ffmpeg -ss 1.5 -c copy` keeps the keyframe at 1 s in its data but
/// never shows it (its edit list starts the video half a second after it): only what a
/// player shows is hashed, at the time it shows it.
#[test]
fn a_cut_copy_is_hashed_as_it_is_shown() {
    if !have_ffmpeg() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let source = data("moving.mp4");
    let cut = tmp.path().join("cut.mp4");
    ffmpeg(
        &["-ss", "1.5", "-i", source.to_str().unwrap(), "-c", "copy"],
        &cut,
    );
    let original = hash_keyframes_path(&source).unwrap();
    let frames = hash_keyframes_path(&cut).unwrap();
    let times: Vec<u64> = frames.iter().map(|k| k.at_ms).collect();
    assert_eq!(times, vec![500], "{frames:?}");
    // The keyframe shown at 0.5 s is the original's at 2 s, and what ffmpeg shows then.
    assert!(
        frames[0].hash.distance(&original[2].hash) <= 2,
        "{frames:?} {original:?}"
    );
    let png = tmp.path().join("at.png");
    ffmpeg(
        &["-ss", "0.5", "-i", cut.to_str().unwrap(), "-frames:v", "1"],
        &png,
    );
    let shown = hash_bytes(&std::fs::read(&png).unwrap(), "image/png").unwrap();
    assert!(
        frames[0].hash.distance(&shown) <= 2,
        "{} vs {shown}",
        frames[0].hash
    );
}

/// A fragment whose run places its frames where no frame can be, inside the fragment's
/// own index or before the file's start, loses those frames, not the whole video: the
/// other fragments' keyframes are hashed as before.
#[test]
fn a_misplaced_fragment_loses_only_its_own_frames() {
    let whole = std::fs::read(data("moving_fragmented.mp4")).unwrap();
    let all = custody_similar::hash_keyframes(&mut std::io::Cursor::new(&whole)).unwrap();
    assert_eq!(all.len(), 3, "{all:?}");
    // The second fragment's run: its data offset (from its moof) follows the run's
    // flags and frame count.
    let runs: Vec<usize> = whole
        .windows(4)
        .enumerate()
        .filter(|(_, w)| w == b"trun")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(runs.len(), 3);
    for (what, delta) in [
        ("into its own index", 8i32),
        ("before the file", -1_000_000),
    ] {
        let mut d = whole.clone();
        let at = runs[1] + 12;
        d[at..at + 4].copy_from_slice(&delta.to_be_bytes());
        let kept = custody_similar::hash_keyframes(&mut std::io::Cursor::new(d))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(kept, vec![all[0], all[2]], "{what}");
    }
}

/// Fragmented MP4 (frames in movie fragments, as screen recorders, streams and CMAF
/// write them), made by ffmpeg from the test videos without re-encoding: every keyframe
/// is found in the fragments, at the time ffprobe gives it, and hashes as the
/// original's keyframe and as ffmpeg shows the copy then. A recording cut off inside its
/// last fragment keeps the keyframes whose bytes it still holds.
#[test]
fn fragmented_copies_are_hashed_as_they_are_shown() {
    if !have_ffmpeg() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for source in ["moving.mp4", "moving_hevc10.mp4"] {
        let original = hash_keyframes_path(&data(source)).unwrap();
        // ffmpeg writes no edit list into fragments: the first keyframe keeps its
        // composition offset of two frames (ffprobe: 0.2 s). CMAF's signed offsets make
        // its composition time 0 (ffprobe 5.1 gives 0.1 s: it shifts by ffmpeg's
        // decoding-time offset).
        for (flags, first_ms) in [
            ("frag_keyframe+empty_moov", 200),
            ("frag_keyframe+empty_moov+default_base_moof", 200),
            ("empty_moov+frag_every_frame", 200),
            ("frag_keyframe", 200),
            ("cmaf", 0),
        ] {
            let copy = tmp.path().join(format!("{source}-{flags}.mp4"));
            let src = data(source);
            ffmpeg(
                &[
                    "-i",
                    src.to_str().unwrap(),
                    "-c",
                    "copy",
                    "-movflags",
                    flags,
                ],
                &copy,
            );
            let bytes = std::fs::read(&copy).unwrap();
            assert!(
                bytes.windows(4).any(|w| w == b"moof"),
                "{flags}: not fragmented"
            );
            let what = format!("{source} as {flags}");
            let frames = hash_keyframes_path(&copy).unwrap_or_else(|e| panic!("{what}: {e}"));
            let times: Vec<u64> = frames.iter().map(|k| k.at_ms).collect();
            let expected: Vec<u64> = [0, 1000, 2000].iter().map(|t| t + first_ms).collect();
            assert_eq!(times, expected, "{what}");
            for (k, o) in frames.iter().zip(&original) {
                assert_eq!(k.hash, o.hash, "{what} at {} ms", k.at_ms);
            }
            if flags == "frag_keyframe+empty_moov" {
                assert_shown_by_ffmpeg(&copy, &frames, tmp.path());
                // Cut off 100 bytes into the last fragment's frames: its keyframe is
                // not whole, the two before it are.
                let last = bytes.windows(4).rposition(|w| w == b"moof").unwrap() - 4;
                let moof_len = u32::from_be_bytes(bytes[last..last + 4].try_into().unwrap());
                let cut = tmp.path().join("cut-off.mp4");
                std::fs::write(&cut, &bytes[..last + moof_len as usize + 8 + 100]).unwrap();
                let kept = hash_keyframes_path(&cut).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(kept, frames[..2].to_vec(), "{what}, cut off");
            }
        }
    }
}

/// Matroska and WebM: VP9 and VP8 in WebM (as YouTube serves it, as older web video and
/// browsers' recorders write it; fixtures made by libvpx), and, made by ffmpeg without
/// re-encoding, the H.264 and 10-bit HEVC test videos in
/// Matroska (as OBS records), VP9 written to a pipe (elements of unknown size, as a
/// browser's recorder writes them) and VP9 in MP4. Every keyframe is at the time
/// ffprobe gives and hashes as ffmpeg shows it then; copies of one bitstream hash alike
/// to the bit. A recording cut off inside its last keyframe keeps the two before it, and
/// a codec not decoded here is named.
#[test]
fn matroska_and_webm_keyframes_are_hashed_as_they_are_shown() {
    let webm = data("moving_vp9.webm");
    let vp9 = hash_keyframes_path(&webm).unwrap();
    let times: Vec<u64> = vp9.iter().map(|k| k.at_ms).collect();
    assert_eq!(times, vec![0, 1000, 2000], "{vp9:?}");
    // The same moving pattern as H.264: the same pictures, coded apart.
    let h264 = hash_keyframes_path(&data("moving.mp4")).unwrap();
    for (a, b) in vp9.iter().zip(&h264) {
        assert!(a.hash.distance(&b.hash) <= 4, "{vp9:?} {h264:?}");
    }
    let vp8 = hash_keyframes_path(&data("moving_vp8.webm")).unwrap();
    let times: Vec<u64> = vp8.iter().map(|k| k.at_ms).collect();
    assert_eq!(times, vec![0, 1000, 2000], "{vp8:?}");
    for (a, b) in vp8.iter().zip(&h264) {
        assert!(a.hash.distance(&b.hash) <= 4, "{vp8:?} {h264:?}");
    }

    // A codec not decoded here is named (the codec ID rewritten in place, to one of
    // the same length that no decoder here takes).
    let mut other = std::fs::read(&webm).unwrap();
    let at = other.windows(5).position(|w| w == b"V_VP9").unwrap();
    other[at..at + 5].copy_from_slice(b"V_VP7");
    let e = custody_similar::hash_keyframes(&mut std::io::Cursor::new(other)).unwrap_err();
    assert!(e.to_string().contains("V_VP7 is not supported"), "{e}");

    if !have_ffmpeg() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for (source, out, extra) in [
        ("moving_vp9.webm", "vp9.webm", &[][..]),
        ("moving.mp4", "h264.mkv", &[][..]),
        ("moving_hevc10.mp4", "hevc10.mkv", &[][..]),
        ("moving_vp9.webm", "vp9.mp4", &[][..]),
        ("moving_vp8.webm", "vp8.mkv", &[][..]),
        ("moving_vp9.webm", "live.webm", &["-f", "webm"][..]),
    ] {
        let src = data(source);
        let file = tmp.path().join(out);
        if out == "live.webm" {
            // To a pipe: the muxer cannot go back to write sizes.
            let o = Command::new("ffmpeg")
                .args(["-hide_banner", "-loglevel", "error", "-i"])
                .arg(&src)
                .args(["-c", "copy"])
                .args(extra)
                .arg("-")
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            std::fs::write(&file, &o.stdout).unwrap();
        } else {
            ffmpeg(&["-i", src.to_str().unwrap(), "-c", "copy"], &file);
        }
        let original = hash_keyframes_path(&src).unwrap();
        let frames = hash_keyframes_path(&file).unwrap_or_else(|e| panic!("{out}: {e}"));
        assert_eq!(
            frames, original,
            "{out}: the same bitstream, shown at the same times"
        );

        let probe = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v", "-show_frames"])
            .args([
                "-show_entries",
                "frame=pts_time,key_frame",
                "-of",
                "csv=p=0",
            ])
            .arg(&file)
            .output()
            .unwrap();
        let probed: Vec<u64> = String::from_utf8_lossy(&probe.stdout)
            .lines()
            .filter(|l| l.starts_with("1,"))
            .map(|l| {
                (l[2..].split(',').next().unwrap().parse::<f64>().unwrap() * 1000.0).round() as u64
            })
            .collect();
        let times: Vec<u64> = frames.iter().map(|k| k.at_ms).collect();
        assert_eq!(times, probed, "{out}: keyframe times against ffprobe");

        assert_shown_by_ffmpeg(&file, &frames, tmp.path());

        if out == "live.webm" {
            // Cut off 100 bytes into the last keyframe's block: the two before it stay.
            let bytes = std::fs::read(&file).unwrap();
            let last_cluster = bytes
                .windows(4)
                .rposition(|w| w == [0x1F, 0x43, 0xB6, 0x75])
                .unwrap();
            let cut = tmp.path().join("cut-off.webm");
            std::fs::write(&cut, &bytes[..last_cluster + 120]).unwrap();
            let kept = hash_keyframes_path(&cut).unwrap_or_else(|e| panic!("cut off: {e}"));
            assert_eq!(kept, frames[..2].to_vec(), "cut off");

            // Clusters of unknown size too, as a browser's recorder writes them: each
            // ends where the next begins.
            let live_unsized = tmp.path().join("unsized.webm");
            std::fs::write(&live_unsized, unknown_cluster_sizes(bytes)).unwrap();
            let again =
                hash_keyframes_path(&live_unsized).unwrap_or_else(|e| panic!("unsized: {e}"));
            assert_eq!(again, frames, "clusters of unknown size");
        }
    }
}

/// A WebM file (its segment of unknown size) with each cluster's size rewritten in
/// place to "unknown": all ones, in as many bytes as it took.
fn unknown_cluster_sizes(mut d: Vec<u8>) -> Vec<u8> {
    // A variable-length integer at `at`: its length and value (marker removed).
    fn vint(d: &[u8], at: usize) -> (usize, u64) {
        let len = d[at].leading_zeros() as usize + 1;
        let mut v = u64::from(d[at]) & (0xFF >> len);
        for &b in &d[at + 1..at + len] {
            v = (v << 8) | u64::from(b);
        }
        (len, v)
    }
    let segment = d
        .windows(4)
        .position(|w| w == [0x18, 0x53, 0x80, 0x67])
        .unwrap();
    let (len, _) = vint(&d, segment + 4);
    let mut at = segment + 4 + len;
    let mut rewritten = 0;
    while at < d.len() {
        let (id_len, _) = vint(&d, at);
        let (size_len, size) = vint(&d, at + id_len);
        if d[at..at + id_len] == [0x1F, 0x43, 0xB6, 0x75] {
            let s = at + id_len;
            d[s] = 0xFF >> (size_len - 1);
            d[s + 1..s + size_len].fill(0xFF);
            rewritten += 1;
        }
        at += id_len + size_len + size as usize;
    }
    assert!(rewritten >= 3, "{rewritten} clusters");
    d
}

/// ffprobe's keyframe times of a file's video (ms, as written) and its video's start
/// time (s).
fn probed_keyframes(file: &Path) -> (Vec<u64>, f64) {
    let probe = |what: &[&str]| {
        let o = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v"])
            .args(what)
            .args(["-of", "csv=p=0"])
            .arg(file)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let times = probe(&["-show_frames", "-show_entries", "frame=pts_time,key_frame"])
        .lines()
        .filter(|l| l.starts_with("1,") && !l.contains("N/A"))
        .map(|l| {
            (l[2..].split(',').next().unwrap().parse::<f64>().unwrap() * 1000.0).round() as u64
        })
        .collect();
    let start = probe(&["-show_entries", "stream=start_time"])
        .lines()
        .find(|l| !l.trim().is_empty())
        // MPEG-2 streams' side data can follow, after a comma.
        .and_then(|l| l.trim().split(',').next()?.parse::<f64>().ok())
        .expect("ffprobe gives the video's start time");
    (times, start)
}

/// MPEG transport streams, as live streams are recorded and camcorders write them: the
/// H.264 fixture (`moving.ts`) hashes as its MP4 original, to the bit. With ffmpeg: the
/// 10-bit HEVC and H.264 test videos copied to `.ts` and to 192-byte-packet `.m2ts`; a
/// live recording with audio; an open-GOP H.264 stream (intra pictures after recovery
/// points, not IDR); HLS segments joined. Every keyframe is at ffprobe's time counted
/// from the stream's start and hashes as ffmpeg shows it, decoding from the start; a recording cut off keeps the
/// keyframes before the cut.
#[test]
fn transport_stream_keyframes_are_hashed_as_they_are_shown() {
    let ts = hash_keyframes_path(&data("moving.ts")).unwrap();
    let mp4 = hash_keyframes_path(&data("moving.mp4")).unwrap();
    assert_eq!(ts, mp4, "the same bitstream in another container");

    if !have_ffmpeg() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = |name: &str| tmp.path().join(name);
    let src = |name: &str| data(name).to_str().unwrap().to_owned();
    let pattern = "testsrc2=size=640x360:rate=25:duration=12";
    let lavfi = ["-f", "lavfi", "-i", pattern];
    ffmpeg(
        &["-i", &src("moving_hevc10.mp4"), "-c", "copy"],
        &file("hevc10.ts"),
    );
    ffmpeg(
        &[
            "-i",
            &src("moving.mp4"),
            "-c",
            "copy",
            "-mpegts_m2ts_mode",
            "1",
            "-f",
            "mpegts",
        ],
        &file("h264.m2ts"),
    );
    live_recording(&file("live.ts"), "640x360", "aac");
    let mut open = lavfi.to_vec();
    open.extend(["-c:v", "libx264", "-bf", "3"]);
    open.extend([
        "-x264-params",
        "open-gop=1:keyint=50:min-keyint=50:scenecut=0",
    ]);
    ffmpeg(&open, &file("open-gop.ts"));
    let list = file("list.m3u8");
    let segments = file("seg%d.ts");
    ffmpeg(
        &[
            "-i",
            file("live.ts").to_str().unwrap(),
            "-c",
            "copy",
            "-f",
            "hls",
            "-hls_time",
            "4",
            "-hls_segment_filename",
            segments.to_str().unwrap(),
        ],
        &list,
    );
    let joined: Vec<u8> = (0..3)
        .flat_map(|i| std::fs::read(file(&format!("seg{i}.ts"))).unwrap())
        .collect();
    std::fs::write(file("hls-joined.ts"), joined).unwrap();

    for (name, original) in [
        ("hevc10.ts", Some(data("moving_hevc10.mp4"))),
        ("h264.m2ts", Some(data("moving.mp4"))),
        ("live.ts", None),
        ("open-gop.ts", None),
        ("hls-joined.ts", None),
    ] {
        let path = file(name);
        let frames = hash_keyframes_path(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(original) = original {
            assert_eq!(frames, hash_keyframes_path(&original).unwrap(), "{name}");
        }
        let (probed, start) = probed_keyframes(&path);
        let counted: Vec<u64> = probed
            .iter()
            .map(|t| t - (start * 1000.0).round() as u64)
            .collect();
        let times: Vec<u64> = frames.iter().map(|k| k.at_ms).collect();
        if counted.len() <= 5 {
            assert_eq!(times, counted, "{name}: keyframe times against ffprobe");
        } else {
            // Five spread over the list, first and last included.
            assert_eq!(times.len(), 5, "{name}: {times:?}");
            assert!(
                times.iter().all(|t| counted.contains(t)),
                "{name}: {times:?} {counted:?}"
            );
            assert_eq!((times[0], times[4]), (counted[0], *counted.last().unwrap()));
        }
        assert_decoded_by_ffmpeg(&path, &frames, tmp.path());
    }
    // The open-GOP stream shows the same pictures as the closed one.
    assert_eq!(
        hash_keyframes_path(&file("open-gop.ts")).unwrap(),
        hash_keyframes_path(&file("live.ts")).unwrap()
    );

    // Cut off: the keyframes before the cut stay.
    let live = std::fs::read(file("live.ts")).unwrap();
    std::fs::write(file("cut.ts"), &live[..300_000]).unwrap();
    let all = hash_keyframes_path(&file("live.ts")).unwrap();
    let cut = hash_keyframes_path(&file("cut.ts")).unwrap();
    assert_eq!(cut, all[..2].to_vec(), "cut off");
}

/// Flash Video, as RTMP live streams are recorded: the H.264 fixture (`moving.flv`)
/// hashes as its MP4 original, to the bit, its first keyframe at 0 although its tags
/// start at 0.2 s (B-frames' composition offset). With ffmpeg: a live recording with
/// audio gives ffprobe's keyframe times (counted from the video's start) and hashes as
/// ffmpeg shows it; cut off, it keeps the keyframes before the cut; a keyframe that
/// cannot be decoded is left out; Sorenson H.263 is named as not decoded, and sound
/// alone has no video track.
#[test]
fn flash_video_keyframes_are_hashed_as_they_are_shown() {
    let flv = hash_keyframes_path(&data("moving.flv")).unwrap();
    let mp4 = hash_keyframes_path(&data("moving.mp4")).unwrap();
    assert_eq!(flv, mp4, "the same bitstream in another container");

    if !have_ffmpeg() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = |name: &str| tmp.path().join(name);
    live_recording(&file("live.flv"), "640x360", "aac");
    let path = file("live.flv");
    let frames = hash_keyframes_path(&path).unwrap();
    let (probed, start) = probed_keyframes(&path);
    let counted: Vec<u64> = probed
        .iter()
        .map(|t| t - (start * 1000.0).round() as u64)
        .collect();
    assert_eq!(counted.len(), 6, "{counted:?}");
    let times: Vec<u64> = frames.iter().map(|k| k.at_ms).collect();
    assert_eq!(times.len(), 5, "{times:?}");
    assert!(
        times.iter().all(|t| counted.contains(t)),
        "{times:?} {counted:?}"
    );
    assert_eq!((times[0], times[4]), (counted[0], counted[5]));
    assert_decoded_by_ffmpeg(&path, &frames, tmp.path());

    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(file("cut.flv"), &bytes[..bytes.len() / 3]).unwrap();
    let cut = hash_keyframes_path(&file("cut.flv")).unwrap();
    let kept: Vec<u64> = cut.iter().map(|k| k.at_ms).collect();
    assert!(!kept.is_empty() && kept.len() < 5, "{kept:?}");
    assert_eq!(kept, counted[..kept.len()], "the keyframes before the cut");
    for k in &cut {
        if let Some(f) = frames.iter().find(|f| f.at_ms == k.at_ms) {
            assert_eq!(k, f, "the same keyframe, cut off or not");
        }
    }

    // A chosen keyframe that cannot be decoded (its first NAL unit's length runs past
    // the frame) is left out; the others stay as they were.
    let mut damaged = bytes.clone();
    let mut at = 13;
    let mut keys = 0;
    while at + 16 <= damaged.len() {
        let size = u32::from_be_bytes([0, damaged[at + 1], damaged[at + 2], damaged[at + 3]]);
        if damaged[at] == 9 && damaged[at + 11] == 0x17 && damaged[at + 12] == 1 {
            keys += 1;
            if keys == 2 {
                damaged[at + 16..at + 20].copy_from_slice(&[0x7F, 0xFF, 0xFF, 0xFF]);
                break;
            }
        }
        at += 11 + size as usize + 4;
    }
    assert_eq!(keys, 2, "the second keyframe's tag");
    std::fs::write(file("damaged.flv"), &damaged).unwrap();
    let kept = hash_keyframes_path(&file("damaged.flv")).unwrap();
    assert_eq!(kept, [frames[0], frames[2], frames[3], frames[4]]);

    refused_as(
        "flashsv",
        &file("screen.flv"),
        "FLV video coded as Screen video is not supported",
    );
    ffmpeg(
        &["-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac"],
        &file("sound.flv"),
    );
    let e = hash_keyframes_path(&file("sound.flv")).unwrap_err();
    assert!(e.to_string().contains("without a video track"), "{e}");
}

/// The 188-byte packets of a transport stream.
fn ts_packets(d: &[u8]) -> Vec<Vec<u8>> {
    d.chunks_exact(188).map(<[u8]>::to_vec).collect()
}

/// Which packets of a transport stream begin a PES packet of `pid`, in order.
fn ts_starts(packets: &[Vec<u8>], pid: u16) -> Vec<usize> {
    (0..packets.len())
        .filter(|&i| {
            let p = &packets[i];
            u16::from_be_bytes([p[1] & 0x1F, p[2]]) == pid && p[1] & 0x40 != 0
        })
        .collect()
}

/// Transport streams as they arrive damaged, cut or joined, made from a 12 s live
/// recording by ffmpeg (H.264 video on PID 0x100, a keyframe every 2 s): recordings
/// joined run on in time; a stream whose tables come late, or that follows other
/// bytes, is read whole; a keyframe whose last packet is lost, or in which a packet
/// has lost its sync byte, is passed over and the others kept; a program map longer
/// than one packet (many audio tracks) is joined; a one-frame stream gives its frame.
#[test]
fn damaged_and_joined_transport_streams_keep_what_they_hold() {
    if !have_ffmpeg() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = |name: &str| tmp.path().join(name);
    live_recording(&file("live.ts"), "320x240", "aac");
    let whole = std::fs::read(file("live.ts")).unwrap();
    let keys = |d: &[u8]| custody_similar::hash_keyframes(&mut std::io::Cursor::new(d));
    let all = keys(&whole).unwrap();
    let times = |k: &[Keyframe]| k.iter().map(|k| k.at_ms).collect::<Vec<_>>();
    assert_eq!(times(&all), [0, 2000, 6000, 8000, 10000]);

    // Two recordings joined: the second runs on one frame after the first's last
    // (at 11.96 s).
    let joined = keys(&[whole.clone(), whole.clone()].concat()).unwrap();
    assert_eq!(times(&joined), [0, 6000, 12000, 16000, 22000]);
    assert_eq!((joined[0].hash, joined[4].hash), (all[0].hash, all[4].hash));

    // The first tables cut away: they come again, and every frame is read.
    let packets = ts_packets(&whole);
    let pid = |p: &[u8]| u16::from_be_bytes([p[1] & 0x1F, p[2]]);
    let first_video = packets.iter().position(|p| pid(p) == 0x100).unwrap();
    let late: Vec<u8> = packets
        .iter()
        .enumerate()
        .filter(|(i, p)| !(*i < first_video && matches!(pid(p), 0 | 0x1000)))
        .flat_map(|(_, p)| p.clone())
        .collect();
    assert_eq!(keys(&late).unwrap(), all, "tables late");
    // Bytes before the stream.
    let lead = [vec![0xAB; 1000], whole.clone()].concat();
    assert_eq!(keys(&lead).unwrap(), all, "bytes before");

    // The keyframe at 0 s loses its last packet; the one at 6 s a sync byte.
    let video = ts_starts(&packets, 0x100);
    let frame_starts: Vec<usize> = video.clone();
    let second_frame = frame_starts[1];
    let last_of_first = (0..second_frame)
        .rev()
        .find(|&i| pid(&packets[i]) == 0x100)
        .unwrap();
    let lost: Vec<u8> = packets
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != last_of_first)
        .flat_map(|(_, p)| p.clone())
        .collect();
    assert_eq!(
        times(&keys(&lost).unwrap()),
        [2000, 4000, 6000, 8000, 10000]
    );
    let six = frame_starts[6 * 25];
    let mut unsynced = whole.clone();
    unsynced[(six + 3) * 188] = 0;
    assert_eq!(
        times(&keys(&unsynced).unwrap()),
        [0, 2000, 4000, 8000, 10000]
    );

    // A program map over several packets: eighteen audio tracks, each with a language.
    let mut many = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=2",
    ];
    many.extend(["-f", "lavfi", "-i", "sine=duration=2", "-map", "0:v"]);
    let langs: Vec<String> = (0..18).map(|i| format!("-metadata:s:a:{i}")).collect();
    for lang in &langs {
        many.extend(["-map", "1:a", lang.as_str(), "language=ukr"]);
    }
    many.extend(["-c:v", "libx264", "-c:a", "mp2"]);
    ffmpeg(&many, &file("many.ts"));
    assert_eq!(times(&hash_keyframes_path(&file("many.ts")).unwrap()), [0]);

    // One frame alone.
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240",
            "-frames:v",
            "1",
            "-c:v",
            "libx264",
        ],
        &file("one.ts"),
    );
    assert_eq!(times(&hash_keyframes_path(&file("one.ts")).unwrap()), [0]);
}

/// The packs and packets of a program stream as ffmpeg writes one: each item's bytes
/// and its start code's last byte (0xBA for a pack header).
fn ps_items(d: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= d.len() {
        assert_eq!(d[at..at + 3], [0, 0, 1], "a start code at {at}");
        let id = d[at + 3];
        let n = match id {
            0xBA => 14 + usize::from(d[at + 13] & 7),
            0xB9 => 4,
            _ => 6 + usize::from(u16::from_be_bytes([d[at + 4], d[at + 5]])),
        };
        out.push((id, d[at..at + n].to_vec()));
        at += n;
    }
    out
}

/// A program stream map naming stream 0xE0 as `kind` and 0xC0 as MPEG audio.
fn stream_map(kind: u8) -> Vec<u8> {
    let mut m = vec![0, 0, 1, 0xBC, 0, 0, 0xE0, 0xFF, 0, 0, 0, 8];
    m.extend([kind, 0xE0, 0, 0, 0x04, 0xC0, 0, 0]);
    let n = (m.len() - 6 + 4) as u16;
    m[4..6].copy_from_slice(&n.to_be_bytes());
    m.extend(custody_testkit::media::mpeg_crc32(&m).to_be_bytes());
    m
}

/// ffmpeg's program stream rewritten as CCTV recorders export theirs: a vendor's
/// 40-byte header first, the video on stream 0xE0, and a stream map naming it as
/// `kind` after the first pack's system header.
fn as_recorder_writes(d: &[u8], kind: u8) -> Vec<u8> {
    let mut out = b"IMKH".to_vec();
    out.extend([0x01; 36]);
    for (i, (id, mut bytes)) in ps_items(d).into_iter().enumerate() {
        if id == 0xE2 {
            bytes[3] = 0xE0;
        }
        out.extend(bytes);
        if i == 1 {
            out.extend(stream_map(kind));
        }
    }
    out
}

/// Writes one item of a program stream (the frame it belongs to, its bytes) to the
/// output, changed or not.
type Rework<'a> = dyn Fn(usize, &[u8], &mut Vec<u8>) + 'a;

/// MPEG program streams, as DVD-style muxers and CCTV recorders write them: the H.264
/// fixture (`moving.mpg`, ffmpeg's 2 KiB packs, frames spread over packets and packets
/// holding two frames' bytes) hashes as its MP4 original, to the bit; rewritten as a
/// recorder exports it (a vendor's header, a stream map), the same; named by its map
/// as MPEG-2, refused. Cut off, the keyframes before the cut stay; bytes lost inside a
/// keyframe lose that keyframe alone. With ffmpeg: a live recording with MPEG audio
/// and an HEVC recording give ffprobe's keyframe times (counted from the start) and
/// hash as ffmpeg shows them, as does H.264 in an MPEG-1 system stream; a live
/// recording and the HEVC fixture laid out as a CCTV recorder exports (a pack for each
/// frame, a vendor's header, a stream map) hash as their transport streams.
#[test]
fn program_stream_keyframes_are_hashed_as_they_are_shown() {
    let mpg = std::fs::read(data("moving.mpg")).unwrap();
    let keys = |d: &[u8]| custody_similar::hash_keyframes(&mut std::io::Cursor::new(d));
    let mp4 = hash_keyframes_path(&data("moving.mp4")).unwrap();
    assert_eq!(
        keys(&mpg).unwrap(),
        mp4,
        "the same bitstream in another container"
    );
    assert_eq!(
        keys(&as_recorder_writes(&mpg, 0x1B)).unwrap(),
        mp4,
        "as a recorder writes it"
    );
    // A stream map that calls H.264 MPEG-2: read as MPEG-2, it holds no picture.
    let e = keys(&as_recorder_writes(&mpg, 0x02)).unwrap_err();
    assert!(
        e.to_string()
            .contains("video (MPEG-2 video) holds no frame with a presentation time"),
        "{e}"
    );

    // Cut off inside the last keyframe: the two before it stay.
    let last_key = memchr::memmem::rfind(&mpg, &[0, 0, 1, 0x65]).unwrap();
    let cut = keys(&mpg[..last_key + 1000]).unwrap();
    assert_eq!(cut, mp4[..2], "cut off");
    // Cut at a packet's end inside it: the packets show nothing, but no end code
    // follows the last frame.
    let mut end = 0;
    let packet_end = ps_items(&mpg)
        .iter()
        .find_map(|(_, b)| {
            end += b.len();
            (end > last_key + 100).then_some(end)
        })
        .unwrap();
    assert!(packet_end < mpg.len() - 2048, "the keyframe goes on");
    let cut = keys(&mpg[..packet_end]).unwrap();
    assert_eq!(cut, mp4[..2], "cut off at a packet's end");
    // 100 bytes lost inside the keyframe at 1 s: that keyframe alone is passed over.
    let idr = memchr::memmem::find_iter(&mpg, &[0, 0, 1, 0x65]).collect::<Vec<_>>();
    let second = idr.iter().copied().find(|&at| at > idr[0] + 4096).unwrap();
    let hole = second + 200;
    let lost = [&mpg[..hole], &mpg[hole + 100..]].concat();
    assert_eq!(keys(&lost).unwrap(), [mp4[0], mp4[2]], "bytes lost");

    if !have_ffmpeg() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = |name: &str| tmp.path().join(name);
    let pattern = "testsrc2=size=640x360:rate=25:duration=12";
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            pattern,
            "-f",
            "lavfi",
            "-i",
            "sine=duration=12",
            "-c:v",
            "libx264",
            "-g",
            "50",
            "-c:a",
            "mp2",
            "-f",
            "vob",
        ],
        &file("live.mpg"),
    );
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            pattern,
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error:keyint=50:min-keyint=50",
            "-f",
            "vob",
        ],
        &file("hevc.mpg"),
    );
    // H.264 in an MPEG-1 system stream, as ffmpeg writes `.mpg` by default.
    ffmpeg(
        &[
            "-i",
            file("live.mpg").to_str().unwrap(),
            "-c",
            "copy",
            "-f",
            "mpeg",
        ],
        &file("mpeg1-system.mpg"),
    );
    for name in ["live.mpg", "hevc.mpg", "mpeg1-system.mpg"] {
        let path = file(name);
        let frames = hash_keyframes_path(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (probed, start) = probed_keyframes(&path);
        let counted: Vec<u64> = probed
            .iter()
            .map(|t| t - (start * 1000.0).round() as u64)
            .collect();
        let times: Vec<u64> = frames.iter().map(|k| k.at_ms).collect();
        // A keyframe that begins in a packet where another frame began has no time of
        // its own, for ffprobe (which leaves it out of this list) as here.
        assert_eq!(times, counted, "{name}: keyframe times against ffprobe");
        assert_decoded_by_ffmpeg(&path, &frames, tmp.path());
    }
    // As CCTV recorders export: a pack and PES packets of its own for each frame,
    // after a vendor's header, the stream named by a map (H.264 from a live recording,
    // 10-bit HEVC): the same keyframes, at the same times, as the transport streams.
    live_recording(&file("live.ts"), "640x360", "aac");
    let hevc = data("moving_hevc10.mp4");
    ffmpeg(
        &["-i", hevc.to_str().unwrap(), "-c", "copy"],
        &file("hevc10.ts"),
    );
    let header = [&b"IMKH"[..], &[1; 36]].concat();
    for (name, kind) in [("live.ts", 0x1B), ("hevc10.ts", 0x24)] {
        let ts = std::fs::read(file(name)).unwrap();
        let ps = custody_testkit::media::program_stream_from_ts(&ts, &header, kind);
        assert_eq!(
            keys(&ps).unwrap(),
            hash_keyframes_path(&file(name)).unwrap(),
            "{name} as a recorder exports it"
        );
    }
    assert_eq!(
        keys(&std::fs::read(file("hevc10.ts")).unwrap()).unwrap(),
        hash_keyframes_path(&hevc).unwrap()
    );

    // The recorder's layout of the live recording, reworked packet by packet.
    let live = hash_keyframes_path(&file("live.ts")).unwrap();
    let ts = std::fs::read(file("live.ts")).unwrap();
    let recorded = custody_testkit::media::program_stream_from_ts(&ts, &header, 0x1B);
    let items = ps_items(&recorded[40..]);
    let rework = |f: &Rework<'_>| {
        let mut out = header.clone();
        let mut frame = 0;
        for (id, bytes) in &items {
            if *id == 0xBA {
                frame += 1;
            }
            f(frame, bytes, &mut out);
        }
        out
    };
    // Padding after every frame: nothing is lost. Other bytes there could be the tail
    // of a packet whose length was damaged: the frames before them are not trusted.
    let padded = |with: &'static [u8]| {
        rework(&|_, b, out| {
            out.extend(b);
            if b[3] == 0xE0 {
                out.extend(with);
            }
        })
    };
    assert_eq!(keys(&padded(&[0; 16])).unwrap(), live, "padding");
    assert!(
        keys(&padded(b"DHAVjunk")).is_err(),
        "bytes of unknown meaning"
    );
    // Each keyframe's packet split after the first zero of its start code, the rest
    // in a packet of its own, without a time: the keyframe keeps the first's time.
    let split = rework(&|_, b, out| {
        let key = b[3] == 0xE0 && b.windows(4).any(|w| w == [0, 0, 1, 0x67]);
        if !key {
            out.extend(b);
            return;
        }
        let header_len = 9 + usize::from(b[8]);
        let (times, data) = (&b[6..header_len], &b[header_len..]);
        for (head, part) in [(times, &data[..1]), (&[0x80, 0, 0][..], &data[1..])] {
            out.extend([0, 0, 1, 0xE0]);
            out.extend(((head.len() + part.len()) as u16).to_be_bytes());
            out.extend(head);
            out.extend(part);
        }
    });
    assert_eq!(
        keys(&split).unwrap(),
        live,
        "a start code split over packets"
    );
    // 100 bytes lost inside the keyframe at 2 s (the 51st frame): its packet's length
    // runs into the next frame's; that keyframe alone is passed over, not hashed
    // damaged.
    let lost = rework(&|frame, b, out| {
        if frame == 51 && b[3] == 0xE0 {
            out.extend(&b[..b.len() - 200]);
            out.extend(&b[b.len() - 100..]);
        } else {
            out.extend(b);
        }
    });
    let kept = keys(&lost).unwrap();
    let times = |k: &[Keyframe]| k.iter().map(|k| k.at_ms).collect::<Vec<_>>();
    assert_eq!(times(&live), [0, 2000, 6000, 8000, 10000]);
    assert_eq!(times(&kept), [0, 4000, 6000, 8000, 10000], "bytes lost");
    assert!(
        kept.iter().all(|k| live.contains(k) || k.at_ms == 4000),
        "{kept:?}"
    );

    // MPEG-2 video alone, without a container, is named as such.
    let pattern = "testsrc2=size=320x240:rate=25:duration=2";
    let out = file("alone.m2v");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            pattern,
            "-c:v",
            "mpeg2video",
            "-f",
            "mpeg2video",
        ],
        &out,
    );
    let e = hash_keyframes_path(&out).unwrap_err();
    assert!(
        e.to_string()
            .contains("MPEG-1/2 video alone, without a container"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("are read in transport and program streams, MP4, Matroska and AVI"),
        "{e}"
    );
}

/// How a test AVI is written.
struct AviStyle {
    fourcc: [u8; 4],
    /// Odd-sized chunks padded, as the format asks.
    padded: bool,
    /// The stream's start, in frames.
    start: u32,
    /// The RIFF and `movi` sizes left at 0, as a recorder stopped by a power loss
    /// leaves them.
    sizes_unwritten: bool,
}

const AVI_STYLE: AviStyle = AviStyle {
    fourcc: *b"MJPG",
    padded: true,
    start: 0,
    sizes_unwritten: false,
};

/// An AVI file of Motion JPEG frames at 10 fps (stream 00), written here as a camera
/// writes one: stream headers, then the frames, and no index.
fn mjpeg_avi(frames: &[Vec<u8>], style: &AviStyle) -> Vec<u8> {
    use custody_testkit::media::riff_chunk as chunk;
    let list = |kind: &[u8], body: Vec<u8>| chunk(b"LIST", &[kind, &body].concat(), true);
    let mut strh = b"vidsMJPG".to_vec();
    strh.extend([0u8; 12]);
    strh.extend(1u32.to_le_bytes()); // scale
    strh.extend(10u32.to_le_bytes()); // rate
    strh.extend(style.start.to_le_bytes());
    strh.extend([0u8; 20]);
    let mut strf = 40u32.to_le_bytes().to_vec();
    strf.extend(320u32.to_le_bytes());
    strf.extend(240u32.to_le_bytes());
    strf.extend([1, 0, 24, 0]);
    strf.extend(style.fourcc);
    strf.extend([0u8; 20]);
    let strl = list(
        b"strl",
        [chunk(b"strh", &strh, true), chunk(b"strf", &strf, true)].concat(),
    );
    let hdrl = list(b"hdrl", [chunk(b"avih", &[0u8; 56], true), strl].concat());
    let mut movi = list(
        b"movi",
        frames
            .iter()
            .flat_map(|f| chunk(b"00dc", f, style.padded))
            .collect(),
    );
    let mut file = chunk(b"RIFF", &[b"AVI ".to_vec(), hdrl.clone()].concat(), true);
    if style.sizes_unwritten {
        movi[4..8].fill(0);
        file[4..8].fill(0);
    }
    file.extend(movi);
    if !style.sizes_unwritten {
        let size = (file.len() - 8) as u32;
        file[4..8].copy_from_slice(&size.to_le_bytes());
    }
    file
}

/// A JPEG's bytes with its Huffman tables (DHT segments) taken out.
fn without_huffman_tables(jpeg: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    let mut at = 2;
    while jpeg[at] == 0xFF && jpeg[at + 1] != 0xDA {
        let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if jpeg[at + 1] != 0xC4 {
            out.extend(&jpeg[at..at + 2 + len]);
        }
        at += 2 + len;
    }
    out.extend(&jpeg[at..]);
    out
}

/// AVI, as dashcams, CCTV exports and older cameras write it. Motion JPEG: every frame
/// is a keyframe, five spread over the video, at their frame times, each hashed as the
/// JPEG it is, also when the frames leave out their Huffman tables (as webcams' and IP
/// cameras' do: the standard tables are assumed, as decoders do), and with no index;
/// a recording cut off keeps its whole frames. With ffmpeg: H.264 in AVI (start codes,
/// or the MP4's length-prefixed frames copied) hashes as the MP4 original, to the bit;
/// a live recording with audio gives ffprobe's keyframe times and ffmpeg's pictures;
/// MPEG-4 Part 2 is named as not decoded.
#[test]
fn avi_keyframes_are_hashed_as_they_are_shown() {
    let picture = std::fs::read(data("baseline.jpg")).unwrap();
    let still = hash_bytes(&picture, "image/jpeg").unwrap();
    let frames: Vec<Vec<u8>> = (0..12).map(|_| picture.clone()).collect();
    let keys = |d: &[u8]| custody_similar::hash_keyframes(&mut std::io::Cursor::new(d));
    let avi = mjpeg_avi(&frames, &AVI_STYLE);
    let found = keys(&avi).unwrap();
    let times: Vec<u64> = found.iter().map(|k| k.at_ms).collect();
    // Ranks 0, 3, 6, 8 and 11 of twelve frames at 10 fps.
    assert_eq!(times, [0, 300, 600, 800, 1100]);
    assert!(found.iter().all(|k| k.hash == still), "{found:?}");
    // Cut off inside the last frame: the eleven before stay (the last of them chosen).
    let cut = keys(&avi[..avi.len() - 100]).unwrap();
    assert_eq!(cut.last().unwrap().at_ms, 1000);
    // Written other ways, the same: odd-sized frames without their padding byte, sizes
    // left at 0, a FourCC of 0 (the frames say they are JPEG pictures).
    let odd = if picture.len() % 2 == 1 {
        picture.clone()
    } else {
        [picture.clone(), vec![0]].concat()
    };
    assert_eq!(odd.len() % 2, 1);
    let odd_frames: Vec<Vec<u8>> = (0..12).map(|_| odd.clone()).collect();
    let unpadded = AviStyle {
        padded: false,
        ..AVI_STYLE
    };
    for style in [
        unpadded,
        AviStyle {
            sizes_unwritten: true,
            ..AVI_STYLE
        },
        AviStyle {
            fourcc: [0; 4],
            ..AVI_STYLE
        },
    ] {
        assert_eq!(keys(&mjpeg_avi(&odd_frames, &style)).unwrap(), found);
    }
    // A stream that starts 2 s in is shown from 2 s.
    let late = AviStyle {
        start: 20,
        ..AVI_STYLE
    };
    let times: Vec<u64> = keys(&mjpeg_avi(&frames, &late))
        .unwrap()
        .iter()
        .map(|k| k.at_ms)
        .collect();
    assert_eq!(times, [2000, 2300, 2600, 2800, 3100]);
    // A chosen frame that is not a whole picture is left out; the rest stay.
    let mut damaged = frames.clone();
    let half = damaged[3].len() / 2;
    damaged[3].truncate(half);
    let kept = keys(&mjpeg_avi(&damaged, &AVI_STYLE)).unwrap();
    assert_eq!(kept, [found[0], found[2], found[3], found[4]]);
    // Damage in the middle ends the walk: frames after it could not be numbered.
    let mut hole = avi.clone();
    let sixth = hole
        .windows(4)
        .enumerate()
        .filter(|(_, w)| w == b"00dc")
        .nth(6)
        .unwrap()
        .0;
    hole[sixth..sixth + 8].fill(0);
    let before: Vec<u64> = keys(&hole).unwrap().iter().map(|k| k.at_ms).collect();
    assert_eq!(before, [0, 100, 300, 400, 500]);

    if !have_ffmpeg() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = |name: &str| tmp.path().join(name);
    // Frames whose Huffman tables are the standard ones, with and without them.
    let pattern = "testsrc2=size=320x240:rate=10:duration=1";
    let args = [
        "-f", "lavfi", "-i", pattern, "-c:v", "mjpeg", "-huffman", "default",
    ];
    ffmpeg(
        &[&args[..], &["-q:v", "3", "-f", "image2"]].concat(),
        &file("f%02d.jpg"),
    );
    let tables: Vec<Vec<u8>> = (1..=10)
        .map(|i| std::fs::read(file(&format!("f{i:02}.jpg"))).unwrap())
        .collect();
    let bare: Vec<Vec<u8>> = tables.iter().map(|f| without_huffman_tables(f)).collect();
    assert!(bare.iter().zip(&tables).all(|(b, t)| b.len() < t.len()));
    let with = keys(&mjpeg_avi(&tables, &AVI_STYLE)).unwrap();
    assert_eq!(
        keys(&mjpeg_avi(&bare, &AVI_STYLE)).unwrap(),
        with,
        "standard tables assumed"
    );
    for (k, f) in with.iter().zip([0, 2, 5, 7, 9]) {
        assert_eq!(k.hash, hash_bytes(&tables[f], "image/jpeg").unwrap());
    }

    let src = data("moving.mp4");
    ffmpeg(
        &["-i", src.to_str().unwrap(), "-c", "copy"],
        &file("copy.avi"),
    );
    let pattern = "testsrc2=size=320x240:rate=10:duration=3";
    let h264 = [
        "-f", "lavfi", "-i", pattern, "-c:v", "libx264", "-g", "10", "-bf", "2",
    ];
    ffmpeg(&h264, &file("annexb.avi"));
    let original = hash_keyframes_path(&src).unwrap();
    for name in ["copy.avi", "annexb.avi"] {
        assert_eq!(
            hash_keyframes_path(&file(name)).unwrap(),
            original,
            "{name}"
        );
    }
    live_recording(&file("live.avi"), "640x360", "mp3");
    let frames = hash_keyframes_path(&file("live.avi")).unwrap();
    assert_eq!(
        frames.iter().map(|k| k.at_ms).collect::<Vec<_>>(),
        [0, 2000, 6000, 8000, 10000]
    );
    // AVI gives frames no times, only places (ffmpeg times them after its B-frame
    // delay): each keyframe is the picture ffmpeg decodes as that frame.
    for k in &frames {
        let n = k.at_ms * 25 / 1000;
        let png = file(&format!("frame-{n}.png"));
        let select = format!("select=eq(n\\,{n})");
        let input = file("live.avi");
        ffmpeg(
            &[
                "-i",
                input.to_str().unwrap(),
                "-vf",
                &select,
                "-frames:v",
                "1",
            ],
            &png,
        );
        let shown = hash_bytes(&std::fs::read(&png).unwrap(), "image/png").unwrap();
        assert!(
            k.hash.distance(&shown) <= 3,
            "frame {n}: {} against {shown}",
            k.hash
        );
    }
    // Microsoft's MPEG-4 variant (DivX 3) is not MPEG-4 Part 2.
    refused_as(
        "msmpeg4",
        &file("divx3.avi"),
        "is not supported (only Motion JPEG, H.264, HEVC, MPEG-4 Part 2, MPEG-2 and MPEG-1 video",
    );
}

/// A live recording as ffmpeg makes one: 12 s of the moving test pattern at 25 fps in
/// `size`, H.264 with a keyframe every 2 s, and a tone in `audio`, as `out`.
fn live_recording(out: &Path, size: &str, audio: &str) {
    let video = format!("testsrc2=size={size}:rate=25:duration=12");
    let args = [
        "-f",
        "lavfi",
        "-i",
        &video,
        "-f",
        "lavfi",
        "-i",
        "sine=duration=12",
    ];
    ffmpeg(
        &[&args[..], &["-c:v", "libx264", "-g", "50", "-c:a", audio]].concat(),
        out,
    );
}

/// Two seconds of the test pattern coded by `codec` into `out` are refused, saying
/// `says`.
fn refused_as(codec: &str, out: &Path, says: &str) {
    let pattern = "testsrc2=size=320x240:rate=25:duration=2";
    ffmpeg(&["-f", "lavfi", "-i", pattern, "-c:v", codec], out);
    let e = hash_keyframes_path(out).unwrap_err();
    assert!(e.to_string().contains(says), "{e}");
}

/// ffprobe's view of a file's first video stream: width, height, frames read, and the
/// container's duration in seconds.
fn probed_stream(file: &Path) -> (u32, u32, u64, f64) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames"])
        .args([
            "-show_entries",
            "stream=width,height,nb_read_frames:format=duration",
        ])
        .args(["-of", "json"])
        .arg(file)
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &j["streams"][0];
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or_else(|| panic!("{j}"));
    (
        n(&s["width"]) as u32,
        n(&s["height"]) as u32,
        s["nb_read_frames"].as_str().unwrap().parse().unwrap(),
        j["format"]["duration"].as_str().unwrap().parse().unwrap(),
    )
}

/// Transport and program streams have no header giving their codec, picture size or
/// length: the walk that finds their keyframes learns them from the stream, and they
/// agree with ffprobe's, over the cropping and field coding of H.264 (1080 lines coded
/// as 1088, an odd size in 4:2:2, interlaced PAL, scaling matrices) and HEVC's
/// conformance window.
#[test]
fn transport_and_program_streams_say_what_their_video_is() {
    if !have_ffmpeg() {
        eprintln!("skipped: ffmpeg is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let h264 = ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25"];
    let cases: Vec<(&str, &str, Vec<&str>, &str)> = vec![
        ("hd.ts", "1920x1080", h264.to_vec(), "H.264"),
        (
            "odd422.ts",
            "642x362",
            [&h264[..], &["-pix_fmt", "yuv422p"]].concat(),
            "H.264",
        ),
        (
            "pal.mpg",
            "720x576",
            [
                &h264[..],
                &["-flags", "+ildct+ilme", "-x264-params", "tff=1"],
            ]
            .concat(),
            "H.264",
        ),
        (
            "matrix.ts",
            "352x288",
            [&h264[..], &["-x264-params", "cqm=jvt"]].concat(),
            "H.264",
        ),
        (
            "odd.ts",
            "642x362",
            vec![
                "-c:v",
                "libx265",
                "-x265-params",
                "log-level=error",
                "-g",
                "25",
            ],
            "HEVC",
        ),
    ];
    for (name, size, codec, expected) in cases {
        let out = tmp.path().join(name);
        let pattern = format!("testsrc2=size={size}:rate=25:duration=3");
        let format = if name.ends_with(".mpg") {
            "vob"
        } else {
            "mpegts"
        };
        ffmpeg(
            &[
                &["-f", "lavfi", "-i", &pattern][..],
                &codec,
                &["-f", format],
            ]
            .concat(),
            &out,
        );
        let read = custody_similar::read_video_path(&out);
        let facts = read
            .stream
            .unwrap_or_else(|| panic!("{name}: no stream facts"));
        let (w, h, frames, duration) = probed_stream(&out);
        assert_eq!(facts.codec, expected, "{name}");
        assert_eq!(
            (facts.width, facts.height),
            (Some(w), Some(h)),
            "{name}: {facts:?}"
        );
        assert_eq!(facts.frames, frames, "{name}: {facts:?}");
        let ms = facts.duration_ms.unwrap();
        assert!(
            (ms as f64 - duration * 1000.0).abs() <= 40.0,
            "{name}: {ms} ms against ffprobe's {duration} s"
        );
        // Facts stand whether or not the keyframes could be decoded (the H.264
        // decoder takes 4:2:0 frames only).
        match read.keyframes {
            Ok(k) => assert!(!k.is_empty(), "{name}"),
            Err(e) => assert!(name == "odd422.ts" || name == "pal.mpg", "{name}: {e}"),
        }
    }
    // Containers with a header saying it give none.
    let mp4 = custody_similar::read_video_path(&data("moving.mp4"));
    assert_eq!(mp4.stream, None);
    assert_eq!(mp4.keyframes.unwrap().len(), 3);
}

/// A video's keyframes carry the hashes they would have if turned: a still turned by hand
/// from a video is near the keyframe's turned hash, not its own.
#[test]
fn keyframes_carry_their_turned_hashes() {
    use custody_similar::Turn;
    let img = image::open(data("picture.png")).unwrap().to_rgb8();
    let mirrored = png_hash(&image::imageops::flip_horizontal(&img));
    let frames = hash_keyframes_path(&data("clip_h264.mp4")).unwrap();
    assert!(!frames.is_empty());
    for k in &frames {
        let (turn, h) = k
            .turned
            .iter()
            .min_by_key(|(_, h)| h.distance(&mirrored))
            .unwrap();
        assert_eq!(turn, Turn::Mirrored, "{k:?}");
        assert!(h.distance(&mirrored) <= 4, "{h} vs {mirrored}");
        assert!(k.hash.distance(&mirrored) > 10, "{} vs {mirrored}", k.hash);
    }
}

/// The MPEG-2 fixture (interlaced, field DCT, coefficient table one, B-frames, in a
/// transport stream) and the MPEG-1 one (in another) show the same moving
/// pattern: their keyframes at ffprobe's times (the B-frames put MPEG-2's second one
/// two frames later), the first pictures within a few bits of each other.
#[test]
fn mpeg2_and_mpeg1_fixtures_show_the_same_pictures() {
    let two = hash_keyframes_path(&data("moving_mpeg2.ts")).unwrap();
    let one = hash_keyframes_path(&data("moving_mpeg1.ts")).unwrap();
    let times = |k: &[Keyframe]| k.iter().map(|k| k.at_ms).collect::<Vec<_>>();
    assert_eq!(times(&two), [0, 1080], "{two:?}");
    assert_eq!(times(&one), [0, 1000], "{one:?}");
    let d = two[0].hash.distance(&one[0].hash);
    assert!(d <= 6, "{} vs {}: {d}", two[0].hash, one[0].hash);
}

/// The MPEG-4 Part 2 fixtures (Xvid in AVI with video packets, B-VOPs and quarter
/// samples; a 3GP with data partitioning) and the H.263 3GP show the moving pattern: a keyframe a second,
/// the first pictures within a few bits of the MPEG-2 fixture's.
#[test]
fn mpeg4_fixtures_show_the_same_pictures() {
    let two = hash_keyframes_path(&data("moving_mpeg2.ts")).unwrap();
    let xvid = hash_keyframes_path(&data("moving_mpeg4.avi")).unwrap();
    let phone = hash_keyframes_path(&data("moving_mpeg4.3gp")).unwrap();
    let times = |k: &[Keyframe]| k.iter().map(|k| k.at_ms).collect::<Vec<_>>();
    assert_eq!(times(&xvid), [0, 1000], "{xvid:?}");
    assert_eq!(times(&phone), [0, 1000], "{phone:?}");
    let h263 = hash_keyframes_path(&data("moving_h263.3gp")).unwrap();
    assert_eq!(times(&h263), [0, 1000], "{h263:?}");
    for k in [&xvid[0], &phone[0], &h263[0]] {
        let d = two[0].hash.distance(&k.hash);
        assert!(d <= 6, "{} vs {}: {d}", two[0].hash, k.hash);
    }
}

/// MPEG-2 video as broadcast recordings (transport streams) and DVDs (program streams)
/// hold it, MPEG-1 video in an MPEG-1 system stream, and both in MP4 (`mp4v`, told by
/// its object type) and MPEG-2 in Matroska (`V_MPEG2`), written by ffmpeg: every
/// keyframe is at ffprobe's time and hashes as ffmpeg shows it; with either coefficient
/// table (`intra_vlc`), interlaced with field DCT, 4:2:2, and a picture of the still
/// within 4 bits of the still. `read_video` names the codec. Both in AVI hash as their
/// MP4 copies, at their frame numbers' times.
#[test]
fn mpeg1_and_mpeg2_keyframes_are_hashed_as_they_are_shown() {
    if !have_ffmpeg() {
        eprintln!("skipped: ffmpeg is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pattern = "testsrc2=size=720x576:rate=25:duration=4";
    let m2v = ["-c:v", "mpeg2video", "-g", "25", "-b:v", "6M"];
    let cases: Vec<(&str, Vec<&str>, &str, &str)> = vec![
        ("broadcast.ts", m2v.to_vec(), "mpegts", "MPEG-2 video"),
        ("dvd.vob", m2v.to_vec(), "vob", "MPEG-2 video"),
        (
            "table-one.ts",
            [&m2v[..], &["-intra_vlc", "1", "-bf", "2"]].concat(),
            "mpegts",
            "MPEG-2 video",
        ),
        (
            "interlaced.ts",
            [&m2v[..], &["-flags", "+ildct+ilme", "-top", "1"]].concat(),
            "mpegts",
            "MPEG-2 video",
        ),
        (
            "studio.ts",
            [&m2v[..], &["-pix_fmt", "yuv422p"]].concat(),
            "mpegts",
            "MPEG-2 video",
        ),
        (
            "old.mpg",
            vec!["-c:v", "mpeg1video", "-g", "25", "-b:v", "4M"],
            "mpeg",
            "MPEG-1 video",
        ),
        // In containers whose header describes the video (no stream facts then).
        ("in.mp4", m2v.to_vec(), "mp4", ""),
        ("in.mkv", m2v.to_vec(), "matroska", ""),
        (
            "old.mp4",
            vec!["-c:v", "mpeg1video", "-g", "25", "-b:v", "4M"],
            "mp4",
            "",
        ),
    ];
    for (name, codec, format, expected) in cases {
        made_as_ffmpeg_shows(tmp.path(), name, pattern, &codec, format, expected, 3);
    }

    // In AVI (as capture cards write them): the same coded pictures hash alike, at the
    // times their frame numbers give (ffprobe gives AVI frames no times to compare).
    for (avi, mp4, codec) in [
        ("capture.avi", "in.mp4", m2v.to_vec()),
        (
            "old.avi",
            "old.mp4",
            vec!["-c:v", "mpeg1video", "-g", "25", "-b:v", "4M"],
        ),
    ] {
        let out = tmp.path().join(avi);
        ffmpeg(
            &[&["-f", "lavfi", "-i", pattern][..], &codec, &["-f", "avi"]].concat(),
            &out,
        );
        let ours = hash_keyframes_path(&out).unwrap_or_else(|e| panic!("{avi}: {e}"));
        let theirs = hash_keyframes_path(&tmp.path().join(mp4)).unwrap();
        assert_eq!(ours, theirs, "{avi} against {mp4}");
        let times: Vec<u64> = ours.iter().map(|k| k.at_ms).collect();
        assert_eq!(times, [0, 1000, 2000, 3000], "{avi}");
    }

    // Refusals recorded before MPEG-1 and MPEG-2 were read are worth examining again.
    for old in [
        "could not hash: MPEG-TS video of stream type 0x02 (MPEG-2 video) is not supported (only H.264 and HEVC video keyframes are decoded in transport streams)",
        "could not hash: MPEG program stream video of stream type 0x01 (MPEG-1 video) is not supported (only H.264 and HEVC video keyframes are decoded in program streams)",
    ] {
        assert!(custody_similar::lacked_a_decoder(old), "{old}");
    }

    // The still, as a broadcast would carry it: the keyframes hash as the picture.
    still_coded_as(tmp.path(), "still.ts", &["-c:v", "mpeg2video"], "mpegts");
}

/// MPEG-4 Part 2 video as its users meet it, written by ffmpeg: Xvid in AVI, a phone's
/// 3GP, Advanced Simple (B-VOPs, quarter samples, MPEG quantisation) in MP4, video
/// packets (resync markers), data partitioning, adaptive quantisation, interlaced in
/// Matroska and a transport stream: every keyframe is at ffprobe's time and hashes as
/// ffmpeg shows it; a still coded so hashes within 4 bits of the still. Refusals
/// recorded before MPEG-4 Part 2 was read are examined again.
#[test]
fn mpeg4_part2_keyframes_are_hashed_as_they_are_shown() {
    if !have_ffmpeg() {
        eprintln!("skipped: ffmpeg is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pal = "testsrc2=size=720x576:rate=25:duration=4";
    let cif = "testsrc2=size=352x288:rate=15:duration=4";
    let m4 = ["-c:v", "mpeg4", "-g", "25"];
    let cases: Vec<(&str, &str, Vec<&str>, &str, &str)> = vec![
        (
            "xvid.avi",
            pal,
            [&m4[..], &["-vtag", "XVID", "-b:v", "3M"]].concat(),
            "avi",
            "",
        ),
        (
            "phone.3gp",
            cif,
            vec!["-c:v", "mpeg4", "-g", "15"],
            "3gp",
            "",
        ),
        (
            "asp.mp4",
            pal,
            [
                &m4[..],
                &["-bf", "2", "-flags", "+qpel", "-mpeg_quant", "1"],
            ]
            .concat(),
            "mp4",
            "",
        ),
        (
            "packets.mp4",
            pal,
            [&m4[..], &["-ps", "1000"]].concat(),
            "mp4",
            "",
        ),
        (
            "partitioned.mp4",
            pal,
            [&m4[..], &["-ps", "1000", "-data_partitioning", "1"]].concat(),
            "mp4",
            "",
        ),
        (
            "adaptive.mp4",
            pal,
            [
                &m4[..],
                &["-lumi_mask", "0.5", "-dark_mask", "0.5", "-b:v", "800k"],
            ]
            .concat(),
            "mp4",
            "",
        ),
        (
            "interlaced.mkv",
            pal,
            [&m4[..], &["-flags", "+ildct+ilme"]].concat(),
            "matroska",
            "",
        ),
        (
            "broadcast.ts",
            pal,
            m4.to_vec(),
            "mpegts",
            "MPEG-4 Part 2 video",
        ),
    ];
    // Xvid's own encoder too, where ffmpeg has it: its quantisation, B-VOPs and
    // interlacing.
    let xvid = ["-c:v", "libxvid", "-g", "25"];
    let mut cases = cases;
    if encoder_available("libxvid") {
        cases.extend([
            (
                "libxvid.avi",
                pal,
                [&xvid[..], &["-b:v", "2M"]].concat(),
                "avi",
                "",
            ),
            // (Not with B-VOPs: the times ffmpeg gives libxvid's reordered frames in
            // Matroska are not in display order, and ffprobe finds no keyframe times in
            // such an AVI, so there is nothing to compare with.)
            (
                "libxvid-mpeg-quant.mkv",
                pal,
                [&xvid[..], &["-mpeg_quant", "1", "-trellis", "1"]].concat(),
                "matroska",
                "",
            ),
            (
                "libxvid-interlaced.avi",
                pal,
                [&xvid[..], &["-flags", "+ildct"]].concat(),
                "avi",
                "",
            ),
        ]);
    } else {
        eprintln!("note: ffmpeg has no libxvid; Xvid's own encoder is not tried");
    }
    for (name, pattern, codec, format, expected) in cases {
        // A field-coded macroblock gives the mean of each half's sixteen rows, not of
        // its quarters: a bit or two more.
        let bits = if name.contains("interlaced") { 5 } else { 3 };
        made_as_ffmpeg_shows(tmp.path(), name, pattern, &codec, format, expected, bits);
    }
    if let Some(facts) = custody_similar::read_video_path(&tmp.path().join("broadcast.ts")).stream {
        assert_eq!((facts.width, facts.height), (Some(720), Some(576)));
    }

    for old in [
        "could not hash: MPEG-TS video of stream type 0x10 (MPEG-4 Part 2 video) is not supported (only H.264, HEVC, MPEG-1 and MPEG-2 video keyframes are decoded in transport streams)",
        "could not hash: video coded as \"mp4v\" is not supported (only H.264, HEVC, VP9, VP8, AV1, MPEG-2 and MPEG-1 video keyframes are decoded)",
        "could not hash: AVI video coded as XVID is not supported (only Motion JPEG, H.264 and HEVC video keyframes are decoded in AVI)",
        "could not hash: AVI video coded as mpg2 is not supported (only Motion JPEG, H.264 and HEVC video keyframes are decoded in AVI)",
        "could not hash: video coded as \"H263\" is not supported (only H.264, HEVC, VP9, VP8, AV1, MPEG-2 and MPEG-1 video keyframes are decoded)",
    ] {
        assert!(custody_similar::lacked_a_decoder(old), "{old}");
    }
    // An AVI refused for a codec still not read is not examined again.
    assert!(!custody_similar::lacked_a_decoder(
        "could not hash: AVI video coded as WMV3 is not supported (only Motion JPEG, H.264 and HEVC video keyframes are decoded in AVI)"
    ));
    // Interlaced with data partitioning is refused by name: decoders do not agree on
    // where its DCT types lie (ffmpeg cannot decode what its encoder writes).
    let both = tmp.path().join("interlaced-partitioned.mp4");
    ffmpeg(
        &[
            &["-f", "lavfi", "-i", pal][..],
            &m4,
            &["-data_partitioning", "1", "-flags", "+ildct", "-f", "mp4"],
        ]
        .concat(),
        &both,
    );
    let e = hash_keyframes_path(&both).unwrap_err().to_string();
    assert!(e.contains("interlaced video with data partitioning"), "{e}");
    assert!(!custody_similar::lacked_a_decoder(
        "could not hash: video coded as \"mp4v\" is not supported (only H.264, HEVC, VP9, VP8, AV1, MPEG-2, MPEG-1, MPEG-4 Part 2 and H.263 video keyframes are decoded)"
    ));

    // The still, as an old phone or a DivX file would carry it.
    still_coded_as(
        tmp.path(),
        "still.avi",
        &["-c:v", "mpeg4", "-vtag", "DIVX"],
        "avi",
    );
}

/// Whether ffmpeg lists `name` among its encoders.
fn encoder_available(name: &str) -> bool {
    std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-encoders"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .any(|w| w == name)
        })
        .unwrap_or(false)
}

/// H.263 as 3GP phones wrote it (ffmpeg's baseline encoder): at QCIF, CIF with a header
/// for every group of blocks, 4CIF (two rows of macroblocks a group) in QuickTime, and
/// with the quantiser changing by macroblock: every keyframe is at ffprobe's time and
/// hashes as ffmpeg shows it. H.263 version 2's extended header is refused by name.
#[test]
fn h263_keyframes_are_hashed_as_they_are_shown() {
    if !have_ffmpeg() {
        eprintln!("skipped: ffmpeg is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let size = |s: &str| format!("testsrc2=size={s}:rate=15:duration=3");
    let h263 = ["-c:v", "h263", "-g", "15"];
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        ("phone.3gp", size("176x144"), h263.to_vec(), "3gp"),
        (
            "groups.3gp",
            size("352x288"),
            [&h263[..], &["-ps", "300"]].concat(),
            "3gp",
        ),
        (
            "4cif.mov",
            size("704x576"),
            [&h263[..], &["-b:v", "2M"]].concat(),
            "mov",
        ),
        (
            "adaptive.3gp",
            size("176x144"),
            [&h263[..], &["-lumi_mask", "0.5", "-dark_mask", "0.5"]].concat(),
            "3gp",
        ),
    ];
    for (name, pattern, codec, format) in cases {
        made_as_ffmpeg_shows(tmp.path(), name, &pattern, &codec, format, "", 3);
    }
    let plus = tmp.path().join("plus.mov");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &size("320x240"),
            "-c:v",
            "h263p",
            "-f",
            "mov",
        ],
        &plus,
    );
    let e = hash_keyframes_path(&plus).unwrap_err().to_string();
    assert!(e.contains("PLUSPTYPE"), "{e}");
    assert!(custody_similar::lacked_a_decoder(
        "could not hash: video coded as \"s263\" is not supported (only H.264, HEVC, VP9, VP8, AV1, MPEG-2 and MPEG-1 video keyframes are decoded)"
    ));
}

/// Makes `name` in `dir` from the lavfi source `pattern` with ffmpeg's `codec` arguments
/// in `format`, and checks it: `read_video` names its stream `stream` (`""`: the
/// container's header describes it, so no stream facts), every keyframe is at ffprobe's
/// time, and each hashes within `bits` of the picture ffmpeg decodes there.
fn made_as_ffmpeg_shows(
    dir: &Path,
    name: &str,
    pattern: &str,
    codec: &[&str],
    format: &str,
    stream: &str,
    bits: u32,
) {
    let out = dir.join(name);
    ffmpeg(
        &[&["-f", "lavfi", "-i", pattern][..], codec, &["-f", format]].concat(),
        &out,
    );
    let read = custody_similar::read_video_path(&out);
    let expected = Some(stream).filter(|e| !e.is_empty());
    assert_eq!(read.stream.as_ref().map(|f| f.codec), expected, "{name}");
    let frames = read.keyframes.unwrap_or_else(|e| panic!("{name}: {e}"));
    let (times, start) = probed_keyframes(&out);
    let ours: Vec<u64> = frames.iter().map(|k| k.at_ms).collect();
    let theirs: Vec<u64> = times
        .iter()
        .map(|t| t - (start * 1000.0).round() as u64)
        .collect();
    assert_eq!(ours, theirs, "{name}: keyframe times");
    shown_alike(&out, &frames, dir, false, bits);
}

/// Sorenson H.263 in FLV (Flash video of the 2000s, as ffmpeg's `flv` encoder writes
/// it: format version 1, escapes of 7- or 11-bit levels): at a standard size, at a size
/// of its own (16-bit fields), and at a high quality that escapes many coefficients;
/// every keyframe is at ffprobe's time and hashes as ffmpeg shows it.
#[test]
fn sorenson_flv_keyframes_are_hashed_as_they_are_shown() {
    if !have_ffmpeg() {
        eprintln!("skipped: ffmpeg is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let flv = ["-c:v", "flv", "-g", "25"];
    for (name, size, extra) in [
        ("qvga.flv", "320x240", &[][..]),
        ("own-size.flv", "400x300", &["-b:v", "2M"][..]),
        ("fine.flv", "176x144", &["-q:v", "1"][..]),
    ] {
        let pattern = format!("testsrc2=size={size}:rate=25:duration=3");
        made_as_ffmpeg_shows(
            tmp.path(),
            name,
            &pattern,
            &[&flv[..], extra].concat(),
            "flv",
            "",
            3,
        );
    }
    assert!(custody_similar::lacked_a_decoder(
        "could not hash: FLV video coded as Sorenson H.263 is not supported (only H.264 video keyframes are decoded in FLV)"
    ));
    let fixture = hash_keyframes_path(&data("moving_sorenson.flv")).unwrap();
    let times: Vec<u64> = fixture.iter().map(|k| k.at_ms).collect();
    assert_eq!(times, [0, 1000]);
}

/// Codes the test still as two seconds of video (`codec`, a keyframe a second, fine
/// quantiser) in `format` as `name` in `dir`: both keyframes hash within 4 bits of the
/// still.
fn still_coded_as(dir: &Path, name: &str, codec: &[&str], format: &str) {
    let picture = hash_bytes(&std::fs::read(data("picture.png")).unwrap(), "image/png").unwrap();
    let still = dir.join(name);
    ffmpeg(
        &[
            &["-loop", "1", "-i", data("picture.png").to_str().unwrap()][..],
            &["-t", "2", "-r", "25", "-g", "25", "-q:v", "3"],
            codec,
            &["-pix_fmt", "yuv420p", "-f", format],
        ]
        .concat(),
        &still,
    );
    let frames = hash_keyframes_path(&still).unwrap();
    assert_eq!(frames.len(), 2, "{name}: {frames:?}");
    for k in &frames {
        assert!(
            k.hash.distance(&picture) <= 4,
            "{name}: {} vs {picture}",
            k.hash
        );
    }
}
