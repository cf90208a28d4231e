//! EXIF: clocks, GPS position, device and image properties from a TIFF-structured
//! EXIF block.
//!
//! kamadak-exif reads the fields: it hands back every value as stored (ASCII bytes,
//! rationals), so original text survives and each clock keeps its own offset tag.
//! nom-exif, an independent parser, reads the same block as a cross-check. It is not
//! the primary source because version 3.8 applies the first offset it finds
//! (`OffsetTimeOriginal`, then `OffsetTimeDigitized`, then `OffsetTime`) to every
//! date and drops the stored text, which would merge clocks that must stay apart.
//! When the two parsers read a value differently, the value is withheld and the
//! disagreement recorded.

use exif::{Field, In, Tag, Value};

use crate::clock::{self, Parsed};
use crate::record::{Basis, ImageInfo, Metadata, Note, Position, Sourced};

/// The EXIF block, parsed.
pub struct Exif {
    inner: exif::Exif,
}

/// Parses an EXIF block; partial results are kept, and their errors recorded.
pub fn parse(blob: Vec<u8>, md: &mut Metadata) -> Option<Exif> {
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    match reader.read_raw(blob) {
        Ok(inner) => Some(Exif { inner }),
        Err(exif::Error::PartialResult(partial)) => {
            let (inner, errors) = partial.into_inner();
            // The four bytes after a sub-directory's (Exif, GPS, interoperability)
            // entries, where EXIF wants zero, are not: some writers put another value's
            // data there (exiftool: "value overlaps IFD"), some a link to a further
            // directory. The parser read the directory in full and only declined to
            // follow those bytes as a link, so nothing was lost. Common in files written
            // by some libraries; said once, as a note, not as a problem.
            let (stray, other): (Vec<_>, Vec<_>) = errors
                .iter()
                .partition(|e| matches!(e, exif::Error::InvalidFormat("Unexpected next IFD")));
            if !stray.is_empty() {
                md.notes.push(Note {
                    kind: "exif_structure".into(),
                    sources: vec!["exif".into()],
                    difference_s: None,
                    difference_range_s: None,
                    value: None,
                    text: "exif: the four bytes after a sub-directory's entries (Exif, GPS or interoperability IFD), which EXIF wants zero, are not: they hold another value's data or a link to a further directory. They were not followed as a link; the directory itself was read in full and nothing was lost.".into(),
                });
            }
            for e in other.iter().take(8) {
                md.problem(format_args!("part of the EXIF data: {e}"));
            }
            Some(Exif { inner })
        }
        Err(e) => {
            md.problem(format_args!("EXIF data: {e}"));
            None
        }
    }
}

impl Exif {
    pub fn field(&self, tag: Tag) -> Option<&Field> {
        self.inner.get_field(tag, In::PRIMARY)
    }

    /// An ASCII field as text (trailing NULs already removed by the parser).
    pub fn text(&self, tag: Tag) -> Option<String> {
        match &self.field(tag)?.value {
            Value::Ascii(v) => v.first().map(|b| decode_text(b)),
            Value::Undefined(b, _) | Value::Byte(b) => {
                let t = decode_text(b);
                let t = t.trim_end_matches('\0');
                (!t.is_empty()).then(|| t.to_string())
            }
            _ => None,
        }
    }

    fn rationals(&self, tag: Tag) -> Option<Vec<f64>> {
        match &self.field(tag)?.value {
            Value::Rational(v) => v
                .iter()
                .map(|r| (r.denom != 0).then(|| r.to_f64()))
                .collect(),
            Value::SRational(v) => v
                .iter()
                .map(|r| (r.denom != 0).then(|| r.to_f64()))
                .collect(),
            _ => None,
        }
    }

    fn raw_rationals(&self, tag: Tag) -> Option<String> {
        match &self.field(tag)?.value {
            Value::Rational(v) => Some(
                v.iter()
                    .map(|r| format!("{}/{}", r.num, r.denom))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Value::SRational(v) => Some(
                v.iter()
                    .map(|r| format!("{}/{}", r.num, r.denom))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        }
    }

    pub fn uint(&self, tag: Tag) -> Option<u32> {
        self.field(tag)?.value.get_uint(0)
    }

    /// Every field of the block, for the GeoTIFF and XMP readers.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.inner.fields()
    }
}

/// EXIF ASCII is often UTF-8 in practice and sometimes Latin-1; never fail.
pub fn decode_text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => b.iter().map(|&c| c as char).collect(),
    }
}

const CLOCKS: [(Tag, Tag, Tag, &str); 3] = [
    (
        Tag::DateTimeOriginal,
        Tag::OffsetTimeOriginal,
        Tag::SubSecTimeOriginal,
        "exif.DateTimeOriginal",
    ),
    (
        Tag::DateTimeDigitized,
        Tag::OffsetTimeDigitized,
        Tag::SubSecTimeDigitized,
        "exif.DateTimeDigitized",
    ),
    (
        Tag::DateTime,
        Tag::OffsetTime,
        Tag::SubSecTime,
        "exif.DateTime",
    ),
];

/// Fills the record from the EXIF block.
pub fn apply(ex: &Exif, md: &mut Metadata, image: &mut ImageInfo) {
    for (tag, off_tag, sub_tag, source) in CLOCKS {
        let Some(text) = ex.text(tag) else {
            if let Some(o) = ex.text(off_tag) {
                md.notes.push(Note {
                    kind: "offset_without_time".into(),
                    sources: vec![format!("exif.{off_tag}")],
                    difference_s: None,
                    difference_range_s: None,
                    text: format!(
                        "exif.{off_tag} is {o:?} but {source} is absent; the offset applies to no recorded time."
                    ),
                    value: Some(o),
                });
            }
            continue;
        };
        let offset_text = ex.text(off_tag);
        let sub_text = ex.text(sub_tag);
        let mut parsed = clock::exif(&text);
        if let Some(p) = parsed.as_mut() {
            // Spaces and colons alone ("   :  ") are EXIF's way to say the offset is
            // unknown: the time stays local, with nothing to report.
            let unknown = |t: &str| t.chars().all(|c| matches!(c, ' ' | ':' | '\0'));
            if let Some(ot) = offset_text.as_deref().filter(|t| !unknown(t)) {
                match clock::offset(ot) {
                    Some((o, _)) => p.offset = Some(o),
                    None => md.problem(format_args!(
                        "{source} offset: {off_tag} {ot:?} is not a UTC offset"
                    )),
                }
            }
            if let Some(ns) = sub_text.as_deref().and_then(clock::fraction_nanos) {
                if let Some(t) = p.time {
                    p.time = t.replace_nanosecond(ns).ok();
                }
            }
        } else {
            md.problem(format_args!(
                "{source}: {text:?} is not an EXIF date and time"
            ));
        }
        let mut c = clock::clock(source, &text, parsed, Basis::Utc);
        c.offset_original = offset_text;
        c.subsec_original = sub_text;
        md.times.push(c);
    }
    gps(ex, md);

    let set = |slot: &mut Option<Sourced>, tag: Tag, name: &str| {
        if slot.is_none() {
            if let Some(v) = ex.text(tag).map(|v| v.trim_end().to_string()) {
                if !v.is_empty() {
                    *slot = Some(Sourced {
                        value: v,
                        source: format!("exif.{name}"),
                    });
                }
            }
        }
    };
    let d = &mut md.device;
    set(&mut d.make, Tag::Make, "Make");
    set(&mut d.model, Tag::Model, "Model");
    set(&mut d.software, Tag::Software, "Software");
    set(&mut d.lens_make, Tag::LensMake, "LensMake");
    set(&mut d.lens_model, Tag::LensModel, "LensModel");
    set(
        &mut d.serial_number,
        Tag::BodySerialNumber,
        "BodySerialNumber",
    );
    set(
        &mut d.lens_serial_number,
        Tag::LensSerialNumber,
        "LensSerialNumber",
    );
    set(&mut d.owner_name, Tag::CameraOwnerName, "CameraOwnerName");

    image.exif_width = ex.uint(Tag::PixelXDimension);
    image.exif_height = ex.uint(Tag::PixelYDimension);
    if let Some(o) = ex.uint(Tag::Orientation) {
        let text = match o {
            1 => Some("normal"),
            2 => Some("mirror horizontal"),
            3 => Some("rotate 180"),
            4 => Some("mirror vertical"),
            5 => Some("mirror horizontal and rotate 270 CW"),
            6 => Some("rotate 90 CW"),
            7 => Some("mirror horizontal and rotate 90 CW"),
            8 => Some("rotate 270 CW"),
            _ => None,
        };
        match text {
            Some(t) => {
                image.orientation = Some(o as u16);
                image.orientation_text = Some(t.to_string());
            }
            None => md.problem(format_args!("orientation: value {o} is not 1–8")),
        }
    }
}

fn gps(ex: &Exif, md: &mut Metadata) {
    // GPS clock: date stamp plus time stamp, UTC by definition.
    let date = ex.text(Tag::GPSDateStamp);
    let time = ex.rationals(Tag::GPSTimeStamp);
    if let Some(date) = &date {
        let raw_time = ex.raw_rationals(Tag::GPSTimeStamp).unwrap_or_default();
        let original = format!("GPSDateStamp={date} GPSTimeStamp={raw_time}");
        let parsed = match time.as_deref() {
            Some([h, m, s]) => clock::gps(date, [*h, *m, *s]),
            _ => None,
        };
        if parsed.is_none() && time.is_some() {
            md.problem(format_args!(
                "GPS time of day: GPSTimeStamp={raw_time} is not a valid time of day; only the GPS date is stated"
            ));
        }
        let parsed = parsed.or_else(|| {
            // A date without a usable time of day is still a date.
            let p = clock::exif(&format!("{} 00:00:00", date.trim_end()))?;
            Some(Parsed { time: None, ..p })
        });
        if parsed.is_none() {
            md.problem(format_args!(
                "GPS date and time: {original:?} is not a valid UTC time"
            ));
        }
        md.times
            .push(clock::clock("exif.gps", &original, parsed, Basis::Utc));
    } else if time.is_some() {
        // A time of day without its date dates nothing; say it was there.
        md.problem(format_args!(
            "GPS time: GPSTimeStamp={} without GPSDateStamp gives a time of day but no date; not stated as a clock",
            ex.raw_rationals(Tag::GPSTimeStamp).unwrap_or_default()
        ));
    }

    let lat = ex.rationals(Tag::GPSLatitude);
    let lon = ex.rationals(Tag::GPSLongitude);
    let lat_ref = ex.text(Tag::GPSLatitudeRef);
    let lon_ref = ex.text(Tag::GPSLongitudeRef);
    if ex.field(Tag::GPSLatitude).is_none() && ex.field(Tag::GPSLongitude).is_none() {
        return;
    }
    let original = format!(
        "GPSLatitude={} GPSLatitudeRef={} GPSLongitude={} GPSLongitudeRef={}",
        ex.raw_rationals(Tag::GPSLatitude).unwrap_or_default(),
        lat_ref.as_deref().unwrap_or(""),
        ex.raw_rationals(Tag::GPSLongitude).unwrap_or_default(),
        lon_ref.as_deref().unwrap_or("")
    );
    let dms = |v: &Option<Vec<f64>>| match v.as_deref() {
        Some([d, m, s]) => Some(d + m / 60.0 + s / 3600.0),
        Some([d, m]) => Some(d + m / 60.0),
        Some([d]) => Some(*d),
        _ => None,
    };
    let (Some(la), Some(lo)) = (dms(&lat), dms(&lon)) else {
        md.problem(format_args!(
            "GPS position: {original:?} is not a valid position"
        ));
        return;
    };
    let sign = |r: &Option<String>, pos: char, neg: char| match r.as_deref().map(str::trim) {
        Some(s) if s.starts_with(pos) => Some(1.0),
        Some(s) if s.starts_with(neg) => Some(-1.0),
        _ => None,
    };
    let (Some(sla), Some(slo)) = (sign(&lat_ref, 'N', 'S'), sign(&lon_ref, 'E', 'W')) else {
        md.problem(format_args!(
            "GPS position: {original:?} lacks a valid hemisphere reference, so its sign is unknown"
        ));
        return;
    };
    if !(0.0..=90.0).contains(&la) || !(0.0..=180.0).contains(&lo) {
        md.problem(format_args!("GPS position: {original:?} is out of range"));
        return;
    }
    let mut p = Position {
        source: "exif.gps".into(),
        latitude: sla * la,
        longitude: slo * lo,
        altitude_m: None,
        altitude_reference: None,
        horizontal_error_m: ex
            .rationals(Tag::GPSHPositioningError)
            .and_then(|v| v.first().copied()),
        dop: ex.rationals(Tag::GPSDOP).and_then(|v| v.first().copied()),
        datum: ex
            .text(Tag::GPSMapDatum)
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty()),
        original,
    };
    if let Some(alt) = ex
        .rationals(Tag::GPSAltitude)
        .and_then(|v| v.first().copied())
    {
        let r = ex.uint(Tag::GPSAltitudeRef);
        let below = r == Some(1);
        p.altitude_m = Some(if below { -alt } else { alt });
        p.altitude_reference = Some(
            match r {
                Some(1) => "below_sea_level",
                _ => "above_sea_level",
            }
            .into(),
        );
        p.original.push_str(&format!(
            " GPSAltitude={} GPSAltitudeRef={}",
            ex.raw_rationals(Tag::GPSAltitude).unwrap_or_default(),
            r.map(|v| v.to_string()).unwrap_or_default()
        ));
    }
    // The position is kept as written; what makes it doubtful is said beside it.
    let status = ex.text(Tag::GPSStatus).map(|s| s.trim().to_owned());
    if status.as_deref() == Some("V") {
        md.notes.push(position_note(
            "position_void",
            Some("V".into()),
            "exif.gps: GPSStatus is V (measurement void): the receiver had no current fix, so this may be a stale, last-known position rather than one taken at capture; treat it as unconfirmed.",
        ));
    }
    if la == 0.0 && lo == 0.0 {
        md.notes.push(position_note(
            "position_zero",
            None,
            "exif.gps: the position is exactly 0°, 0° (in the sea off West Africa), which a receiver without a fix often writes; treat it as no position unless something else confirms it.",
        ));
    }
    md.positions.push(p);
}

fn position_note(kind: &str, value: Option<String>, text: &str) -> Note {
    Note {
        kind: kind.into(),
        sources: vec!["exif.gps".into()],
        difference_s: None,
        difference_range_s: None,
        value,
        text: text.into(),
    }
}

/// Reads the same EXIF block with nom-exif and compares the values this record
/// states. A value the two parsers read differently is withheld.
pub fn cross_check(blob: &[u8], md: &mut Metadata) {
    let mut parser = nom_exif::MediaParser::new();
    let iter = match nom_exif::MediaSource::from_memory(blob.to_vec())
        .and_then(|ms| parser.parse_exif(ms))
    {
        Ok(i) => i,
        Err(e) => {
            md.notes.push(Note {
                kind: "cross_check".into(),
                sources: vec!["kamadak-exif".into(), "nom-exif".into()],
                difference_s: None,
                difference_range_s: None,
                value: None,
                text: format!(
                    "nom-exif could not read the EXIF block ({e}); values rest on one parser."
                ),
            });
            return;
        }
    };
    let gps = iter.parse_gps().ok().flatten();
    let exif: nom_exif::Exif = iter.into();
    let text = |t: nom_exif::ExifTag| {
        exif.get(t)
            .and_then(|v| v.as_str())
            .map(|s| s.trim_end_matches('\0').trim_end().to_string())
    };

    let mut disagree = Vec::new();
    for (tag, slot) in [
        (nom_exif::ExifTag::Make, &mut md.device.make),
        (nom_exif::ExifTag::Model, &mut md.device.model),
    ] {
        if let (Some(ours), Some(theirs)) = (slot.as_ref(), text(tag)) {
            if ours.source.starts_with("exif.") && ours.value != theirs {
                disagree.push(format!("{tag:?}: {:?} vs {:?}", ours.value, theirs));
                *slot = None;
            }
        }
    }
    if let Some(ours) = md
        .times
        .iter_mut()
        .find(|c| c.source == "exif.DateTimeOriginal")
    {
        if let Some(v) = exif.get(nom_exif::ExifTag::DateTimeOriginal) {
            let theirs = v
                .as_datetime()
                .map(|d| d.into_naive().format("%Y-%m-%dT%H:%M:%S").to_string());
            let ours_local = ours
                .local
                .as_deref()
                .map(|l| l.get(..19).unwrap_or(l).to_string());
            if let (Some(a), Some(b)) = (ours_local, theirs) {
                if a != b {
                    disagree.push(format!("DateTimeOriginal: {a} vs {b}"));
                    ours.basis = Basis::Unparsed;
                    ours.local = None;
                    ours.utc = None;
                    ours.offset = None;
                }
            }
        }
    }
    if let (Some(p), Some(g)) = (
        md.positions.iter().position(|p| p.source == "exif.gps"),
        gps,
    ) {
        let theirs = (g.latitude_decimal(), g.longitude_decimal());
        if let (Some(la), Some(lo)) = theirs {
            let ours = &md.positions[p];
            if (ours.latitude - la).abs() > 1e-6 || (ours.longitude - lo).abs() > 1e-6 {
                disagree.push(format!(
                    "GPS position: {},{} vs {la},{lo}",
                    ours.latitude, ours.longitude
                ));
                md.positions.remove(p);
            }
        }
    }
    for d in disagree {
        md.problem(format_args!(
            "EXIF value withheld because kamadak-exif and nom-exif read it differently ({d})"
        ));
    }
}
