//! Every file of the shared EXIF sample set against exiftool 12.57's reading of it
//! (`reference-exiftool.json`, made with `exiftool -j -n -G1 -a -r .`).
//!
//! Compared, in both directions (a value we state must be one exiftool states, and
//! the reverse): EXIF DateTimeOriginal, CreateDate (DateTimeDigitized) and ModifyDate
//! (DateTime) text; their OffsetTime* text; the GPS date and time; GPS latitude and
//! longitude (within 1e-6°) and altitude with its reference; IFD0 Make and Model;
//! XMP xmp:CreateDate, xmp:ModifyDate, xmp:MetadataDate, photoshop:DateCreated,
//! exif:DateTimeOriginal and exif:DateTimeDigitized.
//!
//! Exclusions: the tags are compared only in exiftool's EXIF, GPS and XMP groups.
//! Values exiftool reads from maker notes (groups `Canon`, `Nikon`, `Olympus`, …), from
//! Canon CIFF or IPTC, are not compared: the record reads no maker notes, CIFF or
//! IPTC, so it neither claims nor contradicts them. No file-specific exclusion is needed.

use std::path::Path;

use custody_extract::{Metadata, extract_path};
use serde_json::Value;

use crate::shared;

/// exiftool key, our clock source.
const CLOCKS: [(&str, &str); 9] = [
    ("ExifIFD:DateTimeOriginal", "exif.DateTimeOriginal"),
    ("ExifIFD:CreateDate", "exif.DateTimeDigitized"),
    ("IFD0:ModifyDate", "exif.DateTime"),
    ("XMP-xmp:CreateDate", "xmp.xmp:CreateDate"),
    ("XMP-xmp:ModifyDate", "xmp.xmp:ModifyDate"),
    ("XMP-xmp:MetadataDate", "xmp.xmp:MetadataDate"),
    ("XMP-photoshop:DateCreated", "xmp.photoshop:DateCreated"),
    ("XMP-exif:DateTimeOriginal", "xmp.exif:DateTimeOriginal"),
    ("XMP-exif:DateTimeDigitized", "xmp.exif:DateTimeDigitized"),
];

/// IPTC IIM date and time keys of exiftool, and the clock they make.
const IPTC_CLOCKS: [(&str, &str, &str); 2] = [
    ("IPTC:DateCreated", "IPTC:TimeCreated", "iptc.DateCreated"),
    (
        "IPTC:DigitalCreationDate",
        "IPTC:DigitalCreationTime",
        "iptc.DigitalCreationDate",
    ),
];

/// exiftool offset key, the clock it belongs to.
const OFFSETS: [(&str, &str); 3] = [
    ("ExifIFD:OffsetTimeOriginal", "exif.DateTimeOriginal"),
    ("ExifIFD:OffsetTimeDigitized", "exif.DateTimeDigitized"),
    ("ExifIFD:OffsetTime", "exif.DateTime"),
];

fn text(e: &Value, key: &str) -> Option<String> {
    match e.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

fn number(e: &Value, key: &str) -> Option<f64> {
    match e.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// exiftool writes XMP dates with EXIF-style colons and a space.
fn exif_style(iso: &str) -> String {
    let mut s: String = iso.trim().to_string();
    if s.len() >= 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-' {
        s.replace_range(4..5, ":");
        s.replace_range(7..8, ":");
    }
    if s.len() > 10 && s.as_bytes()[10] == b'T' {
        s.replace_range(10..11, " ");
    }
    s
}

fn trim(s: &str) -> &str {
    s.trim_end_matches(['\0', ' '])
}

#[derive(Default)]
struct Tally {
    files: usize,
    fields: usize,
    agreed: usize,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, file: &str, what: &str, ours: Option<String>, theirs: Option<String>) {
        if ours.is_none() && theirs.is_none() {
            return;
        }
        self.fields += 1;
        if ours == theirs {
            self.agreed += 1;
        } else {
            self.failures.push(format!(
                "{file}: {what}: ours {ours:?}, exiftool {theirs:?}"
            ));
        }
    }

    fn close(&mut self, file: &str, what: &str, ours: Option<f64>, theirs: Option<f64>, tol: f64) {
        if ours.is_none() && theirs.is_none() {
            return;
        }
        self.fields += 1;
        match (ours, theirs) {
            (Some(a), Some(b)) if (a - b).abs() <= tol => self.agreed += 1,
            _ => self.failures.push(format!(
                "{file}: {what}: ours {ours:?}, exiftool {theirs:?}"
            )),
        }
    }
}

fn compare(file: &str, md: &Metadata, e: &Value, t: &mut Tally) {
    for (key, source) in CLOCKS {
        let ours = md.clock(source).map(|c| {
            if source.starts_with("xmp.") {
                exif_style(&c.original)
            } else {
                trim(&c.original).to_string()
            }
        });
        let theirs = text(e, key).map(|s| trim(&s).to_string());
        t.check(file, key, ours, theirs);
    }
    for (key, source) in OFFSETS {
        // An offset whose date is absent is reported as a note.
        let orphan = md
            .notes
            .iter()
            .find(|n| {
                n.kind == "offset_without_time" && n.sources[0] == key.replace("ExifIFD:", "exif.")
            })
            .and_then(|n| n.value.clone());
        let ours = md
            .clock(source)
            .and_then(|c| c.offset_original.clone())
            .or(orphan)
            .map(|s| trim(&s).to_string());
        t.check(file, key, ours, text(e, key).map(|s| trim(&s).to_string()));
    }
    // IPTC IIM: a date and its time (with its offset) make one clock.
    for (date_key, time_key, source) in IPTC_CLOCKS {
        let ours = md.clock(source).and_then(|c| {
            let local = exif_style(c.local.as_deref()?);
            Some(format!("{local}{}", c.offset.as_deref().unwrap_or("")))
        });
        let theirs = text(e, date_key).map(|d| match text(e, time_key) {
            Some(t) => format!("{d} {t}"),
            None => d,
        });
        t.check(file, date_key, ours, theirs);
    }
    // GPS clock: exiftool's Composite:GPSDateTime joins GPSDateStamp and GPSTimeStamp.
    let ours = md
        .clock("exif.gps")
        .and_then(|c| c.utc.as_deref().map(exif_style));
    t.check(
        file,
        "Composite:GPSDateTime",
        ours,
        text(e, "Composite:GPSDateTime"),
    );
    let ours = md.clock("exif.gps").and_then(|c| {
        c.original
            .strip_prefix("GPSDateStamp=")
            .and_then(|r| r.split(" GPSTimeStamp=").next())
            .map(str::to_string)
    });
    t.check(file, "GPS:GPSDateStamp", ours, text(e, "GPS:GPSDateStamp"));

    let pos = md.position("exif.gps");
    t.close(
        file,
        "Composite:GPSLatitude",
        pos.map(|p| p.latitude),
        number(e, "Composite:GPSLatitude").filter(|_| e.get("GPS:GPSLatitude").is_some()),
        1e-6,
    );
    t.close(
        file,
        "Composite:GPSLongitude",
        pos.map(|p| p.longitude),
        number(e, "Composite:GPSLongitude").filter(|_| e.get("GPS:GPSLongitude").is_some()),
        1e-6,
    );
    t.close(
        file,
        "GPS:GPSAltitude",
        pos.and_then(|p| p.altitude_m.map(f64::abs)),
        number(e, "GPS:GPSAltitude"),
        1e-6,
    );
    t.check(
        file,
        "GPS:GPSAltitudeRef (with GPS:GPSAltitude)",
        pos.and_then(|p| p.altitude_reference.clone()),
        e.get("GPS:GPSAltitude").map(|_| {
            match number(e, "GPS:GPSAltitudeRef") {
                Some(1.0) => "below_sea_level",
                _ => "above_sea_level",
            }
            .to_string()
        }),
    );
    t.close(
        file,
        "GPS:GPSHPositioningError",
        pos.and_then(|p| p.horizontal_error_m),
        number(e, "GPS:GPSHPositioningError"),
        1e-6,
    );

    let xpos = md.position("xmp.exif");
    for (key, v) in [
        ("XMP-exif:GPSLatitude", xpos.map(|p| p.latitude)),
        ("XMP-exif:GPSLongitude", xpos.map(|p| p.longitude)),
    ] {
        t.close(file, key, v, number(e, key), 1e-6);
    }

    for (key, field) in [("IFD0:Make", "make"), ("IFD0:Model", "model")] {
        let slot = if field == "make" {
            &md.device.make
        } else {
            &md.device.model
        };
        let ours = slot
            .as_ref()
            .filter(|s| s.source.starts_with("exif."))
            .map(|s| s.value.clone());
        t.check(
            file,
            key,
            ours,
            text(e, key).map(|s| s.trim_end().to_string()),
        );
    }
    for (key, prop) in [
        ("XMP-tiff:Make", "tiff:Make"),
        ("XMP-tiff:Model", "tiff:Model"),
    ] {
        let ours = md
            .xmp
            .as_ref()
            .and_then(|x| x.properties.get(prop).cloned());
        t.check(file, key, ours, text(e, key));
    }
}

/// The shared set's real corrupt samples.
fn is_corrupt(file: &str) -> bool {
    file.contains("/invalid/") || file.contains("/jpg/tests/") || file.ends_with("corrupted.jpg")
}

#[test]
fn every_reference_file_agrees_with_exiftool() {
    let Some(dir) = shared("testdata/exif") else {
        return;
    };
    let reference: Vec<Value> = serde_json::from_slice(
        &std::fs::read(dir.join("reference-exiftool.json")).expect("read reference-exiftool.json"),
    )
    .expect("parse reference-exiftool.json");
    let mut t = Tally::default();
    let mut corrupt = 0;
    for e in &reference {
        let file = e["SourceFile"].as_str().expect("SourceFile");
        let path = dir.join(file);
        assert!(Path::new(&path).exists(), "{file} is listed but missing");
        let md = extract_path(&path, "application/octet-stream");
        t.files += 1;
        compare(file, &md, e, &mut t);
        // Everything the record states about time and place was compared above: a
        // source outside the compared set would be an unchecked claim.
        for c in &md.times {
            assert!(
                c.source == "exif.gps"
                    || CLOCKS.iter().any(|(_, s)| *s == c.source)
                    || IPTC_CLOCKS.iter().any(|(_, _, s)| *s == c.source),
                "{file}: clock {} is not compared with exiftool",
                c.source
            );
        }
        for p in &md.positions {
            assert!(
                p.source == "exif.gps" || p.source == "xmp.exif",
                "{file}: position {} is not compared with exiftool",
                p.source
            );
        }
        if is_corrupt(file) {
            corrupt += 1;
        }
    }
    eprintln!(
        "exiftool agreement: {} files, {} field comparisons, {} agreed, {} disagreed",
        t.files,
        t.fields,
        t.agreed,
        t.failures.len()
    );
    assert_eq!(t.files, reference.len());
    // The known-corrupt samples went through the same two-way comparison: on them too
    // the record states nothing exiftool does not.
    assert!(corrupt >= 20, "only {corrupt} corrupt samples seen");
    assert!(
        t.fields >= 300,
        "too few fields compared ({}): the test compares nothing",
        t.fields
    );
    assert!(
        t.failures.is_empty(),
        "disagreements with exiftool:\n{}",
        t.failures.join("\n")
    );
}
