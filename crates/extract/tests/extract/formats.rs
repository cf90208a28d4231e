//! Formats without shared samples (MP4, PDF, GeoTIFF, PNG, WebP), and EXIF values
//! the shared samples lack (offsets, altitude below sea level, positioning error):
//! synthetic files, written or enriched by exiftool, read by both exiftool and us.

use std::path::{Path, PathBuf};
use std::process::Command;

use custody_extract::{Basis, Metadata, extract_path};
use serde_json::Value;

use crate::{shared, synth};
use custody_testkit::media::{ffmpeg, have_ffmpeg};

/// Runs exiftool with `args`; `None` (with a message) when exiftool is not installed.
fn exiftool(args: &[&str]) -> Option<String> {
    match Command::new("exiftool").args(args).output() {
        Ok(o) => {
            assert!(
                o.status.success(),
                "exiftool {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            Some(String::from_utf8_lossy(&o.stdout).into_owned())
        }
        Err(_) => {
            eprintln!("skipped: exiftool not found (apt-get install libimage-exiftool-perl)");
            None
        }
    }
}

fn read_by_exiftool(path: &Path) -> Option<Value> {
    let out = exiftool(&["-j", "-n", "-G1", "-a", path.to_str().unwrap()])?;
    let v: Vec<Value> = serde_json::from_str(&out).expect("exiftool JSON");
    v.into_iter().next()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write sample");
    p
}

fn num(e: &Value, k: &str) -> f64 {
    match &e[k] {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("{k}: {s}")),
        other => panic!("exiftool has no number {k}: {other}"),
    }
}

fn s(e: &Value, k: &str) -> String {
    match &e[k] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("exiftool has no {k}: {other}"),
    }
}

/// `seconds` of ffmpeg's 64×48 test pattern at 10 fps, encoded with `args`, as `out`.
fn test_pattern(seconds: u32, args: &[&str], out: &Path) {
    let source = format!("testsrc2=size=64x48:rate=10:duration={seconds}");
    let mut all = vec!["-f", "lavfi", "-i", &source];
    all.extend_from_slice(args);
    all.push(out.to_str().unwrap());
    ffmpeg(None, &all);
}

fn clock<'a>(md: &'a Metadata, source: &str) -> &'a custody_extract::Clock {
    md.clock(source)
        .unwrap_or_else(|| panic!("no clock {source} in {:#?}", md.times))
}

#[test]
fn mp4_container_metadata_matches_exiftool() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "clip.mp4", &synth::mp4());
    let md = extract_path(&path, "video/mp4");
    assert!(md.problems.is_empty(), "{:?}", md.problems);
    let v = md.video.as_ref().expect("video info");
    assert_eq!(v.major_brand.as_deref(), Some("isom"));
    assert_eq!((v.width, v.height), (Some(1920), Some(1080)));
    assert_eq!(v.tracks[0].codec.as_deref(), Some("avc1"));
    assert_eq!(v.tracks[0].handler, "vide");
    assert_eq!(v.tracks[0].language.as_deref(), Some("eng"));
    let created = clock(&md, "quicktime.mvhd.creation_time");
    assert_eq!(created.basis, Basis::UtcBySpecification);
    assert_eq!(created.utc.as_deref(), Some("2022-02-24T03:10:00Z"));
    let apple = clock(&md, "quicktime.keys.creationdate");
    assert_eq!(apple.basis, Basis::LocalWithOffset);
    assert_eq!(apple.utc.as_deref(), Some("2022-02-24T03:10:00Z"));
    assert_eq!(apple.original, "2022-02-24T05:10:00+0200");
    let pos = md.position("quicktime.udta.©xyz").expect("©xyz position");

    let Some(e) = read_by_exiftool(&path) else {
        return;
    };
    assert_eq!(s(&e, "QuickTime:CreateDate"), "2022:02:24 03:10:00");
    assert!((v.duration_s.unwrap() - num(&e, "QuickTime:Duration")).abs() < 1e-9);
    assert_eq!(v.width, Some(num(&e, "Track1:ImageWidth") as u32));
    assert_eq!(v.height, Some(num(&e, "Track1:ImageHeight") as u32));
    assert_eq!(
        v.tracks[0].codec.as_deref(),
        Some(s(&e, "Track1:CompressorID").as_str())
    );
    let gps: Vec<f64> = s(&e, "UserData:GPSCoordinates")
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    assert!((pos.latitude - gps[0]).abs() < 1e-6 && (pos.longitude - gps[1]).abs() < 1e-6);
    assert!((pos.altitude_m.unwrap() - gps[2]).abs() < 1e-6);
    assert_eq!(
        md.device.make.as_ref().unwrap().value,
        s(&e, "UserData:Make")
    );
    assert_eq!(
        md.device.model.as_ref().unwrap().value,
        s(&e, "UserData:Model")
    );
    assert_eq!(s(&e, "Keys:CreationDate"), "2022:02:24 05:10:00+02:00");
}

/// ffmpeg's MP4 muxer writes a `location` as a 3GPP `loci` box (the QuickTime muxer as
/// `©xyz`): its position is read, and agrees with exiftool's to the box's precision
/// (16.16 fixed point, 1/65536 of a degree).
#[test]
fn a_3gpp_location_matches_exiftool() {
    if !have_ffmpeg() {
        eprintln!("skipped: ffmpeg not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("located.mp4");
    test_pattern(
        1,
        &[
            "-c:v",
            "libx264",
            "-metadata",
            "location=-33.4500-070.6000/",
        ],
        &path,
    );
    let md = extract_path(&path, "video/mp4");
    assert!(md.problems.is_empty(), "{:?}", md.problems);
    let pos = md.position("3gpp.udta.loci").expect("loci position");
    assert!((pos.latitude + 33.45).abs() < 2e-5, "{pos:?}");
    assert!((pos.longitude + 70.6).abs() < 2e-5, "{pos:?}");
    let Some(e) = read_by_exiftool(&path) else {
        return;
    };
    assert!(
        (pos.latitude - num(&e, "Composite:GPSLatitude")).abs() < 2e-5,
        "{e}"
    );
    assert!(
        (pos.longitude - num(&e, "Composite:GPSLongitude")).abs() < 2e-5,
        "{e}"
    );
}

#[test]
fn pdf_info_matches_exiftool() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "report.pdf", &synth::pdf());
    let md = extract_path(&path, "application/pdf");
    assert!(md.problems.is_empty(), "{:?}", md.problems);
    let p = md.pdf.as_ref().expect("pdf info");
    assert_eq!(p.version.as_deref(), Some("1.7"));
    assert_eq!(p.title.as_deref(), Some("Field report (draft)"));
    assert_eq!(p.author.as_deref(), Some("Éléne"));
    let c = clock(&md, "pdf.CreationDate");
    assert_eq!(c.basis, Basis::LocalWithOffset);
    assert_eq!(c.utc.as_deref(), Some("2022-02-24T03:10:00Z"));
    assert_eq!(clock(&md, "pdf.ModDate").basis, Basis::Utc);

    let Some(e) = read_by_exiftool(&path) else {
        return;
    };
    for (k, ours) in [
        ("PDF:Title", &p.title),
        ("PDF:Author", &p.author),
        ("PDF:Creator", &p.creator),
        ("PDF:Producer", &p.producer),
    ] {
        assert_eq!(ours.as_deref(), Some(s(&e, k).as_str()), "{k}");
    }
    assert_eq!(s(&e, "PDF:CreateDate"), "2022:02:24 05:10:00+02:00");
    assert_eq!(s(&e, "PDF:ModifyDate"), "2022:03:01 12:00:00Z");
}

#[test]
fn geotiff_keys_match_exiftool() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "map.tif", &synth::geotiff());
    let md = extract_path(&path, "image/tiff");
    assert!(md.problems.is_empty(), "{:?}", md.problems);
    let g = md.geotiff.as_ref().expect("geotiff");
    assert_eq!(g.geographic_epsg, Some(4326));
    assert_eq!(g.pixel_scale, Some([0.001, 0.001, 0.0]));
    assert_eq!(g.tiepoints, vec![[0.0, 0.0, 0.0, 30.2124, 50.5436, 0.0]]);
    let img = md.image.as_ref().unwrap();
    assert_eq!((img.width, img.height), (Some(2), Some(2)));
    // Placed on the map by its centre: one pixel east and south of the corner.
    let p = &md.positions[0];
    assert_eq!(p.source, "geotiff.centre");
    assert!((p.longitude - 30.2134).abs() < 1e-9, "{p:?}");
    assert!((p.latitude - 50.5426).abs() < 1e-9, "{p:?}");

    let Some(e) = read_by_exiftool(&path) else {
        return;
    };
    assert_eq!(num(&e, "GeoTiff:GeographicType") as u32, 4326);
    assert_eq!(num(&e, "GeoTiff:GTModelType") as u32, 2);
    let scale: Vec<f64> = s(&e, "IFD0:PixelScale")
        .split(' ')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(scale, g.pixel_scale.unwrap().to_vec());
    let tie: Vec<f64> = s(&e, "IFD0:ModelTiePoint")
        .split(' ')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(tie, g.tiepoints[0].to_vec());
}

/// Tags written by exiftool into a PNG and a WebP, read back by both.
const WRITE: [&str; 12] = [
    "-DateTimeOriginal=2022:02:24 05:10:00",
    "-OffsetTimeOriginal=+02:00",
    "-GPSLatitude=50.5436",
    "-GPSLatitudeRef=N",
    "-GPSLongitude=30.2124",
    "-GPSLongitudeRef=E",
    "-GPSAltitude=12.5",
    "-GPSAltitudeRef#=1",
    "-Make=Synthetic",
    "-Model=Test Rig 1",
    "-XMP-xmp:CreateDate=2022:02:24 05:10:00+02:00",
    "-XMP-photoshop:DateCreated=2022:02:24",
];

fn enriched_matches_exiftool(name: &str, bytes: &[u8], media_type: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, bytes);
    let mut args: Vec<&str> = vec!["-q", "-overwrite_original"];
    args.extend(WRITE);
    args.push(path.to_str().unwrap());
    if exiftool(&args).is_none() {
        return;
    }
    let md = extract_path(&path, media_type);
    let e = read_by_exiftool(&path).expect("exiftool ran above");
    assert!(md.problems.is_empty(), "{name}: {:?}", md.problems);
    let dto = clock(&md, "exif.DateTimeOriginal");
    assert_eq!(dto.original, s(&e, "ExifIFD:DateTimeOriginal"));
    assert_eq!(
        dto.offset_original.as_deref(),
        Some(s(&e, "ExifIFD:OffsetTimeOriginal").as_str())
    );
    assert_eq!(dto.utc.as_deref(), Some("2022-02-24T03:10:00Z"));
    let p = md.position("exif.gps").expect("gps position");
    assert!((p.latitude - num(&e, "Composite:GPSLatitude")).abs() < 1e-6);
    assert!((p.longitude - num(&e, "Composite:GPSLongitude")).abs() < 1e-6);
    assert!((p.altitude_m.unwrap() - num(&e, "Composite:GPSAltitude")).abs() < 1e-6);
    assert_eq!(p.altitude_m, Some(-12.5));
    assert_eq!(p.altitude_reference.as_deref(), Some("below_sea_level"));
    assert_eq!(md.device.make.as_ref().unwrap().value, s(&e, "IFD0:Make"));
    assert_eq!(md.device.model.as_ref().unwrap().value, s(&e, "IFD0:Model"));
    let xc = clock(&md, "xmp.xmp:CreateDate");
    assert_eq!(
        xc.original.replacen('-', ":", 2).replace('T', " "),
        s(&e, "XMP-xmp:CreateDate")
    );
    assert_eq!(xc.utc.as_deref(), Some("2022-02-24T03:10:00Z"));
    let dc = clock(&md, "xmp.photoshop:DateCreated");
    assert_eq!(dc.basis, Basis::DateOnly);
    assert_eq!(
        dc.original.replace('-', ":"),
        s(&e, "XMP-photoshop:DateCreated")
    );
    let img = md.image.as_ref().unwrap();
    // exiftool names the header's group after the format.
    let group = if media_type == "image/png" {
        "PNG"
    } else {
        "RIFF"
    };
    assert_eq!(
        img.width,
        Some(num(&e, &format!("{group}:ImageWidth")) as u32)
    );
    assert_eq!(
        img.height,
        Some(num(&e, &format!("{group}:ImageHeight")) as u32)
    );
    // Same instant, both with offsets: no disagreement note.
    assert!(
        md.notes.iter().all(|n| n.kind != "clock_difference"),
        "{:#?}",
        md.notes
    );
}

#[test]
fn png_exif_and_xmp_match_exiftool() {
    enriched_matches_exiftool("pixel.png", &synth::png(), "image/png");
}

#[test]
fn webp_exif_and_xmp_match_exiftool() {
    enriched_matches_exiftool("pixel.webp", &synth::webp(), "image/webp");
}

#[test]
fn jpeg_offsets_and_positioning_error_match_exiftool() {
    let Some(src) = shared("testdata/exif/jpg/gps/DSCN0010.jpg") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("DSCN0010.jpg");
    std::fs::copy(&src, &path).unwrap();
    let p = path.to_str().unwrap();
    if exiftool(&[
        "-q",
        "-overwrite_original",
        "-OffsetTimeOriginal=-03:30",
        "-GPSHPositioningError=4.5",
        p,
    ])
    .is_none()
    {
        return;
    }
    let md = extract_path(&path, "image/jpeg");
    let e = read_by_exiftool(&path).unwrap();
    let dto = clock(&md, "exif.DateTimeOriginal");
    assert_eq!(
        dto.offset_original.as_deref(),
        Some(s(&e, "ExifIFD:OffsetTimeOriginal").as_str())
    );
    assert_eq!(dto.basis, Basis::LocalWithOffset);
    // 16:28:39 at −03:30 is 19:58:39 UTC.
    assert_eq!(dto.utc.as_deref(), Some("2008-10-22T19:58:39Z"));
    // DateTimeDigitized has no offset of its own: it stays local, never borrowing this one.
    assert_eq!(
        clock(&md, "exif.DateTimeDigitized").basis,
        Basis::LocalUnknownOffset
    );
    let pos = md.position("exif.gps").unwrap();
    assert!((pos.horizontal_error_m.unwrap() - num(&e, "GPS:GPSHPositioningError")).abs() < 1e-9);
    // Now the camera instant is known: GPS is an exact 18 h 28 min 28 s later.
    let note = md
        .notes
        .iter()
        .find(|n| n.sources == ["exif.DateTimeOriginal", "exif.gps"])
        .expect("camera/GPS note");
    assert_eq!(note.difference_s, Some(66_508));

    // EXIF's own "unknown" (spaces and a colon) leaves the time local, and is no
    // problem to report.
    if exiftool(&[
        "-q",
        "-overwrite_original",
        "-OffsetTimeOriginal#=   :  ",
        p,
    ])
    .is_none()
    {
        return;
    }
    let md = extract_path(&path, "image/jpeg");
    let dto = clock(&md, "exif.DateTimeOriginal");
    assert_eq!(dto.basis, Basis::LocalUnknownOffset);
    assert_eq!(dto.utc, None);
    assert!(md.problems.is_empty(), "{:?}", md.problems);
}

#[test]
fn nikon_gps_day_disagreement_is_reported_as_a_range() {
    let Some(dir) = shared("testdata/exif/jpg/gps") else {
        return;
    };
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("jpg") {
            continue;
        }
        let md = extract_path(&path, "image/jpeg");
        let cam = clock(&md, "exif.DateTimeOriginal");
        assert_eq!(cam.basis, Basis::LocalUnknownOffset, "{}", path.display());
        assert!(cam.utc.is_none(), "no UTC may be invented for a local time");
        assert_eq!(clock(&md, "exif.gps").basis, Basis::Utc);
        let note = md
            .notes
            .iter()
            .find(|n| n.sources == ["exif.DateTimeOriginal", "exif.gps"])
            .expect("camera/GPS note");
        assert_eq!(note.kind, "clock_difference");
        assert_eq!(
            note.difference_s, None,
            "an exact difference would assume an offset"
        );
        let [lo, hi] = note.difference_range_s.unwrap();
        assert!(lo > 0 && hi - lo == 26 * 3600, "{lo}..{hi}");
        seen += 1;
    }
    assert_eq!(seen, 9);
}

#[test]
fn heic_items_are_found() {
    let Some(path) = shared("testdata/exif/heic/IMG_5195.HEIC") else {
        return;
    };
    let md = extract_path(&path, "application/octet-stream");
    assert_eq!(md.media_type, "image/heif");
    let img = md.image.as_ref().unwrap();
    assert_eq!(img.container, "heif");
    assert!(img.width.is_some() && img.height.is_some());
    assert!(md.clock("exif.DateTimeOriginal").is_some());
    assert!(md.clock("xmp.xmp:CreateDate").is_some(), "XMP item read");
}

/// An animated AVIF (libavif's, in the hasher's test data): a picture file, sniffed as
/// `image/avif`; its movie header says it lasts 0 s, its picture track one second,
/// which is its length, as exiftool's media duration says; its size is the picture
/// track's.
#[test]
fn an_animated_avif_is_a_picture_with_its_tracks_length() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../similar/tests/data/animated.avif");
    let md = extract_path(&path, "application/octet-stream");
    assert_eq!(md.media_type, "image/avif");
    assert!(md.problems.is_empty(), "{:?}", md.problems);
    let v = md.video.as_ref().expect("sequence info");
    assert_eq!(v.duration_units, Some(0), "the header's own value is kept");
    assert_eq!((v.width, v.height), (Some(480), Some(360)));
    assert_eq!(v.tracks.len(), 1);
    assert_eq!(v.tracks[0].handler, "pict");
    assert_eq!(v.tracks[0].codec.as_deref(), Some("av01"));
    let Some(e) = read_by_exiftool(&path) else {
        return;
    };
    assert_eq!(num(&e, "QuickTime:Duration"), 0.0);
    let media = num(&e, "Track1:MediaDuration");
    assert!(
        (v.duration_s.unwrap() - media).abs() < 1e-3,
        "{v:?} vs {media}"
    );
    assert_eq!(num(&e, "Track1:ImageWidth"), 480.0);
}

/// A video's display turn (its track matrix) is recorded as exiftool reads it: the
/// hasher's test clip, written with ffmpeg's `rotate=90` (a quarter turn the other way,
/// which exiftool calls 270), and one not turned.
#[test]
fn a_videos_turn_matches_exiftool() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../similar/tests/data");
    for (name, want) in [("clip_rotated.mp4", Some(270)), ("moving.mp4", None)] {
        let md = extract_path(&data.join(name), "video/mp4");
        let v = md.video.as_ref().expect("video info");
        let video = v.tracks.iter().find(|t| t.handler == "vide").unwrap();
        assert_eq!(video.rotation, want, "{name}: {v:?}");
        let Some(e) = read_by_exiftool(&data.join(name)) else {
            return;
        };
        let theirs = num(&e, "Composite:Rotation") as u16;
        assert_eq!(video.rotation.unwrap_or(0), theirs, "{name}");
    }
}

/// An `mp4v` track names its video's kind by the object type of its descriptor: MPEG-2,
/// MPEG-1 or MPEG-4 Part 2 video, as ffprobe names the codec.
#[test]
fn mp4v_tracks_name_their_object_type() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (codec, want) in [("mpeg2video", 0x61), ("mpeg1video", 0x6A), ("mpeg4", 0x20)] {
        let out = dir.path().join(format!("{codec}.mp4"));
        test_pattern(1, &["-c:v", codec, "-r", "25"], &out);
        let md = extract_path(&out, "video/mp4");
        let v = md.video.as_ref().expect("video info");
        let track = v.tracks.iter().find(|t| t.handler == "vide").unwrap();
        assert_eq!(track.codec.as_deref(), Some("mp4v"), "{codec}");
        assert_eq!(track.object_type, Some(want), "{codec}: {v:?}");
    }
}

/// IPTC IIM dates (as newsroom software writes them, here by exiftool into a camera
/// JPEG's Photoshop segment): the creation date with its time and offset, and the
/// digitisation date alone, each as exiftool reads them, beside the camera's clocks.
#[test]
fn iptc_dates_match_exiftool() {
    let Some(src) = shared("testdata/exif/jpg/gps/DSCN0010.jpg") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agency.jpg");
    std::fs::copy(&src, &path).unwrap();
    let Some(_) = exiftool(&[
        "-q",
        "-overwrite_original",
        "-IPTC:DateCreated=2022:03:18",
        "-IPTC:TimeCreated=10:00:00+03:00",
        "-IPTC:DigitalCreationDate=2022:03:19",
        path.to_str().unwrap(),
    ]) else {
        return;
    };
    let e = read_by_exiftool(&path).unwrap();
    let md = extract_path(&path, "image/jpeg");
    assert!(md.problems.is_empty(), "{:?}", md.problems);
    let created = clock(&md, "iptc.DateCreated");
    let (date, time) = (s(&e, "IPTC:DateCreated"), s(&e, "IPTC:TimeCreated"));
    assert_eq!(
        created.local.as_deref(),
        Some(&*format!("{}T{}", date.replace(':', "-"), &time[..8]))
    );
    assert_eq!(created.offset.as_deref(), Some(&time[8..]));
    assert_eq!(created.utc.as_deref(), Some("2022-03-18T07:00:00Z"));
    let digital = clock(&md, "iptc.DigitalCreationDate");
    assert_eq!(digital.basis, Basis::DateOnly);
    assert_eq!(
        digital.local.as_deref(),
        Some(&*s(&e, "IPTC:DigitalCreationDate").replace(':', "-"))
    );
}

/// IPTC dates are read where else writers put them, as exiftool reads them: in a TIFF
/// (exiftool writes its IPTC-NAA tag), and in a JPEG whose Photoshop resources continue
/// from one APP13 segment into the next (as a large block must).
#[test]
fn iptc_dates_in_tiff_and_split_segments_match_exiftool() {
    let dir = tempfile::tempdir().unwrap();
    let tiff = write(dir.path(), "scan.tif", &synth::geotiff());
    let Some(_) = exiftool(&[
        "-q",
        "-overwrite_original",
        "-IPTC:DateCreated=2022:04:02",
        "-IPTC:TimeCreated=14:05:00+03:00",
        tiff.to_str().unwrap(),
    ]) else {
        return;
    };
    let e = read_by_exiftool(&tiff).unwrap();
    let md = extract_path(&tiff, "image/tiff");
    let created = clock(&md, "iptc.DateCreated");
    let (date, time) = (s(&e, "IPTC:DateCreated"), s(&e, "IPTC:TimeCreated"));
    assert_eq!(
        created.local.as_deref(),
        Some(&*format!("{}T{}", date.replace(':', "-"), &time[..8]))
    );
    assert_eq!(created.utc.as_deref(), Some("2022-04-02T11:05:00Z"));

    // A JPEG with an IPTC block, its Photoshop segment then split in two.
    let Some(src) = shared("testdata/exif/jpg/gps/DSCN0010.jpg") else {
        return;
    };
    let jpeg = dir.path().join("agency.jpg");
    std::fs::copy(&src, &jpeg).unwrap();
    exiftool(&[
        "-q",
        "-overwrite_original",
        "-IPTC:DateCreated=2022:03:18",
        "-IPTC:TimeCreated=10:00:00+03:00",
        jpeg.to_str().unwrap(),
    ])
    .unwrap();
    let bytes = std::fs::read(&jpeg).unwrap();
    let lead = b"Photoshop 3.0\0";
    let at = bytes
        .windows(lead.len())
        .position(|w| w == lead)
        .expect("an APP13 segment")
        - 4;
    assert_eq!(&bytes[at..at + 2], &[0xFF, 0xED]);
    let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
    let body = &bytes[at + 4..at + 2 + len];
    let (first, rest) = body.split_at(lead.len() + 20);
    let segment = |b: &[u8]| {
        let mut v = vec![0xFF, 0xED];
        v.extend(((b.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(b);
        v
    };
    let split = [
        &bytes[..at],
        &segment(first),
        &segment(&[&lead[..], rest].concat()),
        &bytes[at + 2 + len..],
    ]
    .concat();
    let split_path = write(dir.path(), "split.jpg", &split);
    let e = read_by_exiftool(&split_path).unwrap();
    assert_eq!(
        s(&e, "IPTC:DateCreated"),
        "2022:03:18",
        "exiftool reads it too"
    );
    let md = extract_path(&split_path, "image/jpeg");
    assert!(md.problems.is_empty(), "{:?}", md.problems);
    assert_eq!(
        clock(&md, "iptc.DateCreated").utc.as_deref(),
        Some("2022-03-18T07:00:00Z")
    );
}

/// A GPS time of day without its date, or one that is no time of day, is not stated as
/// a clock, and the record says it was there (exiftool agrees on what the file holds).
#[test]
fn gps_times_that_date_nothing_are_reported() {
    let read = |bytes: Vec<u8>| {
        let len = bytes.len() as u64;
        custody_extract::extract_reader(&mut std::io::Cursor::new(bytes), len, "image/jpeg")
    };
    let (lat, lon) = ([50, 27, 0], [30, 31, 0]);
    let whole = read(synth::jpeg_with_gps_clock(
        lat,
        lon,
        None,
        Some([8, 30, 5]),
        Some("2022:03:05"),
    ));
    assert_eq!(
        whole.clock("exif.gps").and_then(|c| c.utc.as_deref()),
        Some("2022-03-05T08:30:05Z")
    );
    // (The synthetic file has no picture, which is a problem of its own.)
    assert!(
        !whole.problems.iter().any(|p| p.contains("GPS")),
        "{:?}",
        whole.problems
    );

    let no_date = synth::jpeg_with_gps_clock(lat, lon, None, Some([8, 30, 5]), None);
    let md = read(no_date.clone());
    assert!(md.clock("exif.gps").is_none());
    assert!(
        md.problems
            .iter()
            .any(|p| p.contains("GPSTimeStamp=8/1 30/1 5/1 without GPSDateStamp")),
        "{:?}",
        md.problems
    );
    let md = read(synth::jpeg_with_gps_clock(
        lat,
        lon,
        None,
        Some([24, 0, 0]),
        Some("2022:03:05"),
    ));
    assert!(
        md.problems
            .iter()
            .any(|p| p.contains("is not a valid time of day")),
        "{:?}",
        md.problems
    );
    assert_eq!(md.clock("exif.gps").and_then(|c| c.utc.as_deref()), None);

    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "no-date.jpg", &no_date);
    let Some(e) = read_by_exiftool(&path) else {
        return;
    };
    assert_eq!(s(&e, "GPS:GPSTimeStamp"), "08:30:05", "{e}");
    assert!(e.get("GPS:GPSDateStamp").is_none(), "{e}");
}

/// A void GPS fix and a 0°, 0° position are kept as written, with a note that says why
/// they are doubtful; a normal fix gets no such note.
#[test]
fn void_and_zero_positions_are_flagged() {
    let run = |bytes: Vec<u8>| {
        let len = bytes.len() as u64;
        custody_extract::extract_reader(&mut std::io::Cursor::new(bytes), len, "image/jpeg")
    };
    let kinds = |md: &Metadata| -> Vec<String> {
        md.notes
            .iter()
            .filter(|n| n.kind.starts_with("position_"))
            .map(|n| n.kind.clone())
            .collect()
    };
    let good = run(synth::jpeg_with_gps([50, 27, 0], [30, 31, 0], Some("A")));
    assert_eq!(good.positions.len(), 1, "{good:?}");
    assert!((good.positions[0].latitude - 50.45).abs() < 1e-9);
    assert!(kinds(&good).is_empty(), "{:?}", good.notes);

    let void = run(synth::jpeg_with_gps([50, 27, 0], [30, 31, 0], Some("V")));
    assert_eq!(void.positions.len(), 1, "kept as written");
    assert_eq!(kinds(&void), ["position_void"]);

    let zero = run(synth::jpeg_with_gps([0, 0, 0], [0, 0, 0], None));
    assert_eq!(zero.positions.len(), 1, "kept as written");
    assert_eq!(kinds(&zero), ["position_zero"]);
    assert!(zero.notes.iter().any(|n| n.text.contains("exactly 0°, 0°")));
}

/// A GPS directory that links to a further directory (EXIF allows none) is read in full:
/// the stray link is a note, not a problem, and the position is there.
#[test]
fn a_stray_link_after_a_sub_directory_loses_nothing() {
    let mut bytes = synth::jpeg_with_gps([50, 27, 0], [30, 31, 0], None);
    // The GPS IFD's next-directory link: the 4 bytes before its values, which start 80
    // bytes into the TIFF block (after SOI, the APP1 marker and length, and "Exif\0\0").
    let link = 4 + 2 + 6 + 80 - 4;
    assert_eq!(bytes[link..link + 4], [0, 0, 0, 0]);
    bytes[link..link + 4].copy_from_slice(&8u32.to_be_bytes());
    let md = custody_extract::extract_reader(
        &mut std::io::Cursor::new(&bytes),
        bytes.len() as u64,
        "image/jpeg",
    );
    // (The synthetic file has no image data, which is a problem of its own.)
    assert!(
        !md.problems.iter().any(|p| p.contains("EXIF")),
        "{:?}",
        md.problems
    );
    assert!(
        md.notes.iter().any(|n| n.kind == "exif_structure"),
        "{:?}",
        md.notes
    );
    assert!((md.positions[0].latitude - 50.45).abs() < 1e-9, "{md:?}");
}

/// A fragmented MP4 (`mvex`): the movie header counts only the frames listed in `moov`,
/// so the record says the file is fragmented and gives `mehd`'s duration, or without
/// one the length its fragments add up to (with the frames `moov` lists), as ffprobe
/// gives it. It never repeats the header's 0 s (or, when ffmpeg lists the first
/// fragment in `moov`, the first fragment's length) as the movie's.
#[test]
fn fragmented_mp4_states_no_false_duration() {
    let dir = tempfile::tempdir().unwrap();

    // The synthetic movie with a movie-extends box giving 5 s (movie time scale 1000).
    let mut mp4 = synth::mp4();
    let at = mp4.windows(4).position(|w| w == b"moov").unwrap() - 4;
    let mut mehd = vec![0, 0, 0, 0];
    mehd.extend_from_slice(&5000u32.to_be_bytes());
    let mut trex = vec![0, 0, 0, 0];
    for v in [1u32, 1, 0, 0, 0] {
        trex.extend_from_slice(&v.to_be_bytes());
    }
    let mvex = synth::bx(
        b"mvex",
        &[synth::bx(b"mehd", &mehd), synth::bx(b"trex", &trex)].concat(),
    );
    let moov_len = u32::from_be_bytes(mp4[at..at + 4].try_into().unwrap()) as usize;
    mp4.splice(at + moov_len..at + moov_len, mvex.iter().copied());
    let grown = (moov_len + mvex.len()) as u32;
    mp4[at..at + 4].copy_from_slice(&grown.to_be_bytes());
    let path = write(dir.path(), "fragmented.mp4", &mp4);
    let md = extract_path(&path, "video/mp4");
    assert!(md.problems.is_empty(), "{:?}", md.problems);
    let v = md.video.as_ref().expect("video info");
    assert!(v.fragmented);
    assert_eq!(v.duration_s, Some(5.0));
    assert_eq!(v.duration_units, Some(12_345), "as stored");
    // No fragment is there to count: the tracks' header lengths are not given as theirs.
    assert!(
        v.tracks.iter().all(|t| t.duration_s.is_none()),
        "{:?}",
        v.tracks
    );
    let plain = extract_path(&write(dir.path(), "plain.mp4", &synth::mp4()), "video/mp4");
    let plain = plain.video.expect("video info");
    assert!(!plain.fragmented);
    assert_eq!(plain.duration_s, Some(12.345));

    // Real fragmented files from ffmpeg (no `mehd`): three seconds of its test pattern,
    // in fragments at every keyframe, with an empty `moov` and with the first fragment
    // listed in it, and with sound in fragments of their own every 100 ms.
    if !have_ffmpeg() {
        return;
    }
    for flags in [
        "frag_keyframe+empty_moov",
        "frag_keyframe",
        "frag_keyframe+empty_moov+separate_moof",
    ] {
        let out = dir.path().join(format!("{flags}.mp4"));
        let mut args = vec!["-c:v", "libx264", "-g", "10", "-movflags", flags];
        if flags.contains("separate_moof") {
            args = [
                &["-f", "lavfi", "-i", "sine=duration=3"][..],
                &args,
                &["-frag_duration", "100000"],
            ]
            .concat();
        }
        test_pattern(3, &args, &out);
        let md = extract_path(&out, "video/mp4");
        assert!(md.problems.is_empty(), "{flags}: {:?}", md.problems);
        let v = md.video.as_ref().expect("video info");
        assert!(v.fragmented, "{flags}");
        let probed = probed_duration(&out);
        let d = v.duration_s.unwrap_or_else(|| panic!("{flags}: {v:?}"));
        assert!(
            (d - probed).abs() < 0.05,
            "{flags}: {d} s, ffprobe {probed} s"
        );
        assert_eq!((v.width, v.height), (Some(64), Some(48)), "{flags}");
        let streams = probed_durations(&out, "stream=duration");
        assert_eq!(streams.len(), v.tracks.len(), "{flags}: {v:?}");
        for (t, probed) in v.tracks.iter().zip(streams) {
            let td = t.duration_s.unwrap_or_else(|| panic!("{flags}: {t:?}"));
            assert!(
                (td - probed).abs() < 0.05,
                "{flags}: {t:?}, ffprobe {probed} s"
            );
        }
    }
}

/// ffprobe's duration of a file, seconds.
fn probed_duration(file: &Path) -> f64 {
    probed_durations(file, "format=duration")[0]
}

/// The durations ffprobe gives for `entries` (`format=duration`, `stream=duration`).
fn probed_durations(file: &Path, entries: &str) -> Vec<f64> {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", entries, "-of", "csv=p=0"])
        .arg(file)
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            l.trim()
                .parse()
                .unwrap_or_else(|_| panic!("ffprobe's {entries} of {}: {l}", file.display()))
        })
        .collect()
}

/// Matroska and WebM, written by ffmpeg (VP9 in WebM with a creation time, H.264 in
/// Matroska): the document type, the muxing date (`DateUTC`, UTC by specification),
/// the duration, the writing application and the video track's codec and size, each as
/// exiftool reads them.
#[test]
fn matroska_and_webm_match_exiftool() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let webm = dir.path().join("clip.webm");
    test_pattern(
        2,
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-metadata",
            "creation_time=2022-04-02T10:15:30Z",
        ],
        &webm,
    );
    let mkv = dir.path().join("clip.mkv");
    test_pattern(2, &["-c:v", "libx264"], &mkv);

    for (path, doc_type, codec) in [
        (&webm, "webm", "V_VP9"),
        (&mkv, "matroska", "V_MPEG4/ISO/AVC"),
    ] {
        let md = extract_path(path, "application/octet-stream");
        assert!(md.problems.is_empty(), "{:?}", md.problems);
        assert_eq!(
            md.media_type,
            if doc_type == "webm" {
                "video/webm"
            } else {
                "video/x-matroska"
            }
        );
        let v = md.video.as_ref().expect("video info");
        assert_eq!(v.doc_type.as_deref(), Some(doc_type));
        assert_eq!((v.width, v.height), (Some(64), Some(48)));
        assert_eq!(v.tracks[0].handler, "vide");
        assert_eq!(v.tracks[0].codec.as_deref(), Some(codec));
        assert!((v.duration_s.unwrap() - 2.0).abs() < 0.05, "{v:?}");
        let software = md.device.software.as_ref().expect("writing application");
        assert!(software.value.starts_with("Lavf"), "{software:?}");

        let Some(e) = read_by_exiftool(path) else {
            return;
        };
        assert_eq!(s(&e, "Matroska:DocType"), doc_type);
        assert_eq!(software.value, s(&e, "Matroska:WritingApp"));
        assert_eq!(v.width, Some(num(&e, "Track1:ImageWidth") as u32));
        assert_eq!(
            v.tracks[0].codec.as_deref(),
            Some(s(&e, "Track1:CodecID").as_str())
        );
        if doc_type == "webm" {
            let date = clock(&md, "matroska.Info.DateUTC");
            assert_eq!(date.basis, Basis::UtcBySpecification);
            assert_eq!(date.utc.as_deref(), Some("2022-04-02T10:15:30Z"));
            assert_eq!(s(&e, "Matroska:DateTimeOriginal"), "2022:04:02 10:15:30Z");
        } else {
            assert!(md.clock("matroska.Info.DateUTC").is_none());
        }
    }
}

/// Sound alone in WebM (Opus, a voice message) or Matroska (FLAC) is audio: its type
/// says so, and its one track is a sound track. A WebM with a picture and sound stays
/// video.
#[test]
fn audio_alone_in_matroska_is_audio() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sine = ["-f", "lavfi", "-i", "sine=duration=2"];
    let voice = dir.path().join("voice.webm");
    let flac = dir.path().join("music.mka");
    let both = dir.path().join("both.webm");
    for (codec, out) in [("libopus", &voice), ("flac", &flac)] {
        let mut args = sine.to_vec();
        args.extend(["-c:a", codec, out.to_str().unwrap()]);
        ffmpeg(None, &args);
    }
    let mut args = sine.to_vec();
    args.extend([
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x48:rate=10:duration=2",
    ]);
    args.extend([
        "-c:a",
        "libopus",
        "-c:v",
        "libvpx-vp9",
        "-deadline",
        "realtime",
    ]);
    args.push(both.to_str().unwrap());
    ffmpeg(None, &args);
    for (path, media_type, handlers) in [
        (&voice, "audio/webm", &["soun"][..]),
        (&flac, "audio/x-matroska", &["soun"][..]),
        (&both, "video/webm", &["soun", "vide"][..]),
    ] {
        let md = extract_path(path, "application/octet-stream");
        assert!(md.problems.is_empty(), "{:?}", md.problems);
        assert_eq!(md.media_type, media_type, "{}", path.display());
        let v = md.video.as_ref().expect("container info");
        let mut seen: Vec<&str> = v.tracks.iter().map(|t| t.handler.as_str()).collect();
        seen.sort_unstable();
        assert_eq!(seen, handlers, "{v:?}");
        assert!((v.duration_s.unwrap() - 2.0).abs() < 0.05, "{v:?}");
    }
}

/// The synthetic WebM (its information written by the test, not by ffmpeg): every field
/// read back as written.
#[test]
fn synthetic_webm_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "clip.webm", &synth::webm());
    let md = extract_path(&path, "video/webm");
    assert!(md.problems.is_empty(), "{:?}", md.problems);
    let v = md.video.as_ref().expect("video info");
    assert_eq!(v.doc_type.as_deref(), Some("webm"));
    assert_eq!(v.duration_s, Some(2.5));
    assert_eq!((v.width, v.height), (Some(320), Some(240)));
    assert_eq!(
        md.device.software.as_ref().unwrap().value,
        "synthetic writer"
    );
    let date = clock(&md, "matroska.Info.DateUTC");
    assert_eq!(date.utc.as_deref(), Some("2022-04-02T10:15:30Z"));
}

/// AVI as dashcams and older cameras write it: ffmpeg's (Motion JPEG with PCM sound,
/// a creation date) read as exiftool reads it (picture size, frame count and rate,
/// duration, `ICRD`, `ISFT`); and the same file given a camera's `IDIT` in its header
/// list, read as the camera's own clock: local time, its offset unknown.
#[test]
fn avi_matches_exiftool_and_keeps_a_cameras_clock() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let avi = dir.path().join("clip.avi");
    let args = [
        "-f",
        "lavfi",
        "-i",
        "sine=duration=2",
        "-c:v",
        "mjpeg",
        "-c:a",
        "pcm_s16le",
    ];
    test_pattern(
        2,
        &[&args[..], &["-metadata", "date=2022-04-02"]].concat(),
        &avi,
    );
    let md = extract_path(&avi, "application/octet-stream");
    assert!(md.problems.is_empty(), "{:?}", md.problems);
    assert_eq!(md.media_type, "video/x-msvideo");
    let v = md.video.as_ref().expect("video info");
    assert_eq!((v.width, v.height), (Some(64), Some(48)));
    assert!((v.duration_s.unwrap() - 2.0).abs() < 0.05, "{v:?}");
    let kinds: Vec<(&str, Option<&str>)> = v
        .tracks
        .iter()
        .map(|t| (t.handler.as_str(), t.codec.as_deref()))
        .collect();
    assert_eq!(kinds, [("vide", Some("MJPG")), ("soun", Some("0x0001"))]);
    let created = clock(&md, "riff.INFO.ICRD");
    assert_eq!(created.basis, Basis::DateOnly);
    assert_eq!(created.local.as_deref(), Some("2022-04-02"));
    let software = md.device.software.as_ref().expect("writing software");
    assert!(software.value.starts_with("Lavf"), "{software:?}");

    // A camera's IDIT chunk, put at the end of the header list (its size grown).
    let mut bytes = std::fs::read(&avi).unwrap();
    let hdrl = bytes.windows(4).position(|w| w == b"hdrl").unwrap() - 8;
    let idit = [
        &b"IDIT"[..],
        &26u32.to_le_bytes(),
        b"SUN JUN 12 14:22:07 2011\n\0",
    ]
    .concat();
    let len = u32::from_le_bytes(bytes[hdrl + 4..hdrl + 8].try_into().unwrap());
    let end = hdrl + 8 + len as usize;
    bytes.splice(end..end, idit.iter().copied());
    bytes[hdrl + 4..hdrl + 8].copy_from_slice(&(len + idit.len() as u32).to_le_bytes());
    let riff = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) + idit.len() as u32;
    bytes[4..8].copy_from_slice(&riff.to_le_bytes());
    let camera = write(dir.path(), "camera.avi", &bytes);
    let md2 = extract_path(&camera, "video/x-msvideo");
    assert!(md2.problems.is_empty(), "{:?}", md2.problems);
    let shot = clock(&md2, "riff.IDIT");
    assert_eq!(shot.basis, Basis::LocalUnknownOffset);
    assert_eq!(shot.local.as_deref(), Some("2011-06-12T14:22:07"));
    assert!(shot.utc.is_none());
    assert_eq!(md2.video, md.video, "the rest as before");

    let Some(e) = read_by_exiftool(&camera) else {
        return;
    };
    assert_eq!(num(&e, "RIFF:ImageWidth") as u32, 64);
    assert_eq!(num(&e, "RIFF:FrameCount") as u32, 20);
    assert_eq!(s(&e, "RIFF:Software"), software.value);
    assert_eq!(s(&e, "RIFF:DateCreated"), "2022:04:02");
    assert_eq!(s(&e, "RIFF:DateTimeOriginal"), "2011:06:12 14:22:07");
}

/// The synthetic dashcam AVI (its fields written by the test): the camera's clock, the
/// creation date, the software, the picture size and the duration.
#[test]
fn a_dashcam_avi_gives_its_cameras_clock() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "dashcam.avi", &synth::avi());
    let md = extract_path(&path, "application/octet-stream");
    assert!(md.problems.is_empty(), "{:?}", md.problems);
    assert_eq!(md.media_type, "video/x-msvideo");
    let shot = clock(&md, "riff.IDIT");
    assert_eq!(shot.basis, Basis::LocalUnknownOffset);
    assert_eq!(shot.local.as_deref(), Some("2022-04-02T10:15:30"));
    assert_eq!(clock(&md, "riff.INFO.ICRD").basis, Basis::DateOnly);
    let software = md.device.software.as_ref().unwrap();
    assert_eq!(software.value, "synthetic dashcam");
    let v = md.video.as_ref().unwrap();
    assert_eq!((v.width, v.height), (Some(320), Some(240)));
    assert_eq!(v.duration_s, Some(2.5));
    assert_eq!(v.tracks[0].codec.as_deref(), Some("MJPG"));
    assert_eq!(v.tracks[0].duration_s, Some(2.5));
}
