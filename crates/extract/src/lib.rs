//! Metadata extraction: pure functions from a file's bytes to a versioned
//! [`Metadata`] record.
//!
//! The crate owns reading what a file says about itself: EXIF and XMP (JPEG, PNG,
//! TIFF, WebP, HEIF), MP4/MOV container metadata, the PDF information dictionary,
//! GeoTIFF georeferencing, and (with the `c2pa` feature) C2PA content credentials.
//! It never modifies its input, never panics on bad input, and reads only headers
//! and metadata segments through a bounded reader ([`source`]); what it cannot read
//! becomes a `"could not extract: …"` entry in [`Metadata::problems`] rather than a
//! guess. Every clock is kept apart with its source and basis ([`record::Clock`]);
//! comparisons between clocks are [`Metadata::notes`].
//!
//! The record's shape is documented in `docs/design/metadata.md`.
//!
//! ```no_run
//! let md = custody_extract::extract_path(std::path::Path::new("photo.jpg"), "image/jpeg");
//! for clock in &md.times {
//!     println!("{} {:?} {:?}", clock.source, clock.basis, clock.utc);
//! }
//! ```

mod bmff;
#[cfg(feature = "c2pa")]
mod c2pa_check;
#[cfg(feature = "c2pa")]
mod c2pa_stamp;
mod clock;
mod container;
mod exif;
mod fragments;
mod geotiff;
mod iptc;
mod matroska;
mod pdf;
mod place;
pub mod record;
mod riff;
mod sniff;
pub mod source;
mod video;
mod xmp;

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

pub use record::{
    Basis, C2paReport, C2paState, C2paStatus, Clock, Device, GeoKey, GeoTiff, ImageInfo, Metadata,
    Note, PdfInfo, Position, Sourced, Track, VideoInfo, XmpSummary,
};
pub use sniff::sniff;

/// Name of this extractor, for the ledger entry that records an extraction.
pub const EXTRACTOR: &str = "custody-extract";

/// Version of the extractor and its output: `<record format>.<extractor revision>`.
/// Bumped whenever the output for some input changes.
pub const VERSION: &str = "1.14";

/// Extracts metadata from the file at `path`, read as `media_type` (sniffed from the
/// content when it is `application/octet-stream` or empty).
pub fn extract_path(path: &Path, media_type: &str) -> Metadata {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            let mut md = Metadata::empty(media_type, 0);
            md.problem(format_args!("cannot open {}: {e}", path.display()));
            return md;
        }
    };
    let len = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => {
            let mut md = Metadata::empty(media_type, 0);
            md.problem(format_args!("cannot stat {}: {e}", path.display()));
            return md;
        }
    };
    // Small buffered reads: the walkers read many short headers.
    let mut r = BufReader::with_capacity(16 * 1024, file);
    extract_reader(&mut r, len, media_type)
}

/// Extracts metadata from `r`, whose length is `len` bytes.
pub fn extract_reader<R: Read + Seek + Send>(r: &mut R, len: u64, media_type: &str) -> Metadata {
    let mut input = source::Input::new(r, len);
    // Enough for every signature, Matroska's document type included; for Matroska,
    // enough to reach its track list (audio alone is audio).
    let mut head = input.read_up_to(0, 64).unwrap_or_default();
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        head = input.read_up_to(0, 8 * 1024).unwrap_or(head);
    }
    let sniffed = sniff::sniff(&head);
    let declared = media_type.trim();
    let generic = declared.is_empty()
        || declared.eq_ignore_ascii_case("application/octet-stream")
        || sniff::family(declared) == sniff::Family::Other;
    let used = match (generic, sniffed) {
        (true, Some(s)) => s.to_string(),
        _ => declared.to_string(),
    };
    let mut md = Metadata::empty(&used, len);
    if let Some(s) = sniffed {
        if !generic && sniff::family(s) != sniff::family(declared) {
            md.problem(format_args!(
                "the content looks like {s}, not the declared {declared}; read as {declared}"
            ));
        }
    }
    // The first bytes that hold everything a C2PA validator reads (None: the whole file).
    let mut c2pa_scope = None;
    match sniff::family(&used) {
        sniff::Family::Jpeg => {
            let found = container::jpeg(&mut input, &mut md);
            c2pa_scope = found.header_end;
            still(found, &mut md);
        }
        sniff::Family::Png => {
            let found = container::png(&mut input, &mut md);
            still(found, &mut md);
        }
        sniff::Family::Webp => {
            let found = container::webp(&mut input, &mut md);
            still(found, &mut md);
        }
        sniff::Family::Tiff => {
            let found = container::tiff(&mut input, &mut md);
            still(found, &mut md);
        }
        sniff::Family::Bmff => {
            let top = bmff::top_level(&mut input, &mut md);
            if top.is_heif() {
                let found = bmff::heif(&mut input, &mut md, &top);
                still(found, &mut md);
            } else {
                video::apply(&top, &mut md);
            }
        }
        sniff::Family::Pdf => pdf::extract(&mut input, &mut md),
        sniff::Family::Matroska => matroska::extract(&mut input, &mut md),
        sniff::Family::Avi => riff::extract(&mut input, &mut md),
        sniff::Family::Other => {}
    }
    c2pa(&mut input, &mut md, c2pa_scope);
    finite_only(&mut md);
    md.notes.extend(clock::compare(&md.times));
    md.notes.extend(place::compare(&md.positions));
    md
}

/// A number the file encodes as NaN or infinity states nothing; JSON cannot carry it
/// either. Such values are dropped and the drop recorded.
fn finite_only(md: &mut Metadata) {
    let mut dropped = Vec::new();
    md.positions.retain(|p| {
        let ok = p.latitude.is_finite() && p.longitude.is_finite();
        if !ok {
            dropped.push(format!("position from {}", p.source));
        }
        ok
    });
    for p in &mut md.positions {
        for (name, v) in [
            ("altitude", &mut p.altitude_m),
            ("horizontal error", &mut p.horizontal_error_m),
            ("DOP", &mut p.dop),
        ] {
            if v.is_some_and(|x| !x.is_finite()) {
                *v = None;
                dropped.push(format!("{name} from {}", p.source));
            }
        }
        if p.altitude_m.is_none() {
            p.altitude_reference = None;
        }
    }
    if let Some(v) = md.video.as_mut() {
        if v.duration_s.is_some_and(|x| !x.is_finite()) {
            v.duration_s = None;
            dropped.push("movie duration".into());
        }
        for t in &mut v.tracks {
            if t.duration_s.is_some_and(|x| !x.is_finite()) {
                t.duration_s = None;
                dropped.push("track duration".into());
            }
        }
    }
    if let Some(g) = md.geotiff.as_mut() {
        let bad = |xs: &[f64]| xs.iter().any(|x| !x.is_finite());
        if g.pixel_scale.is_some_and(|s| bad(&s)) {
            g.pixel_scale = None;
            dropped.push("GeoTIFF pixel scale".into());
        }
        if g.tiepoints.iter().any(|t| bad(t)) {
            g.tiepoints.clear();
            dropped.push("GeoTIFF tie points".into());
        }
        if g.transformation.as_deref().is_some_and(bad) {
            g.transformation = None;
            dropped.push("GeoTIFF transformation".into());
        }
    }
    for d in dropped {
        md.problem(format_args!("{d}: the stored number is not finite"));
    }
}

/// EXIF, XMP and image properties of a still image.
fn still(found: container::Found, md: &mut Metadata) {
    let mut image = ImageInfo {
        container: found.container.to_string(),
        width: found.width,
        height: found.height,
        ..ImageInfo::default()
    };
    if let Some(iim) = &found.iptc {
        iptc::apply(iim, md);
    }
    let mut xmp_packet = found.xmp;
    if let Some(blob) = found.exif {
        let cross = blob.clone();
        if let Some(ex) = exif::parse(blob, md) {
            exif::apply(&ex, md, &mut image);
            if found.container == "tiff" {
                md.geotiff = geotiff::extract(&ex, md);
                if xmp_packet.is_none() {
                    xmp_packet = tiff_xmp(&ex, md);
                }
                if found.iptc.is_none() {
                    if let Some(iim) = tiff_iptc(&ex, &cross) {
                        iptc::apply(&iim, md);
                    }
                }
                // In a TIFF file, IFD0's size is the image's size.
                image.width = ex.uint(::exif::Tag::ImageWidth);
                image.height = ex.uint(::exif::Tag::ImageLength);
                // A georeferenced raster is placed on the map by its centre.
                if let (Some(g), Some(w), Some(h)) = (&md.geotiff, image.width, image.height) {
                    match geotiff::centre(g, w, h) {
                        Ok(p) => md.positions.push(p),
                        Err(why) => md.notes.push(Note {
                            kind: "position_unplaced".into(),
                            sources: vec!["geotiff".into()],
                            difference_s: None,
                            difference_range_s: None,
                            value: None,
                            text: format!(
                                "geotiff: the raster is georeferenced but not placed on the map: {why}."
                            ),
                        }),
                    }
                }
            }
            exif::cross_check(&cross, md);
        }
    }
    if let Some(p) = xmp_packet {
        xmp::apply(&p, md);
    }
    if let Some(at) = found.c2pa {
        md.c2pa = Some(C2paReport::found(at));
    }
    md.image = Some(image);
}

/// A TIFF's IPTC IIM block: its IPTC-NAA tag (33723), which writers store as bytes or
/// as 32-bit words in the file's byte order, else the IIM resource of its Photoshop tag
/// (34377).
fn tiff_iptc(ex: &exif::Exif, tiff: &[u8]) -> Option<Vec<u8>> {
    let in_ifd0 = |number: u16| {
        ex.fields()
            .find(|f| f.ifd_num.index() == 0 && f.tag.number() == number)
    };
    if let Some(f) = in_ifd0(33723) {
        let little = tiff.starts_with(b"II");
        match &f.value {
            ::exif::Value::Byte(b) | ::exif::Value::Undefined(b, _) => return Some(b.clone()),
            ::exif::Value::Long(words) => {
                return Some(
                    words
                        .iter()
                        .flat_map(|w| {
                            if little {
                                w.to_le_bytes()
                            } else {
                                w.to_be_bytes()
                            }
                        })
                        .collect(),
                );
            }
            _ => {}
        }
    }
    match &in_ifd0(34377)?.value {
        ::exif::Value::Byte(b) | ::exif::Value::Undefined(b, _) => {
            iptc::from_resources(b).map(<[u8]>::to_vec)
        }
        _ => None,
    }
}

fn tiff_xmp(ex: &exif::Exif, md: &mut Metadata) -> Option<Vec<u8>> {
    let f = ex
        .fields()
        .find(|f| f.ifd_num.index() == 0 && f.tag.number() == 700)?;
    let b = match &f.value {
        ::exif::Value::Byte(b) | ::exif::Value::Undefined(b, _) => b.clone(),
        ::exif::Value::Ascii(a) => a.concat(),
        _ => {
            md.problem("TIFF XMP tag: unexpected value type");
            return None;
        }
    };
    if b.len() as u64 > source::MAX_XMP {
        md.problem(format_args!(
            "XMP packet of {} bytes exceeds the {}-byte limit",
            b.len(),
            source::MAX_XMP
        ));
        return None;
    }
    Some(b)
}

impl C2paReport {
    /// A manifest store seen by the container scan, not (yet) validated.
    pub(crate) fn found(at: String) -> C2paReport {
        C2paReport::new(C2paState::NotValidated, Some(at))
    }

    /// A report in `state`, with the container scan's finding and nothing else.
    pub(crate) fn new(state: C2paState, found_in: Option<String>) -> C2paReport {
        C2paReport {
            state,
            found_in,
            validator: None,
            active_manifest: None,
            claim_generator: None,
            signer: None,
            issuer: None,
            signing_time: None,
            signature_algorithm: None,
            certificate_serial: None,
            signer_chain: Vec::new(),
            time_stamp: None,
            manifest_count: 0,
            statuses: Vec::new(),
        }
    }
}

#[cfg(feature = "c2pa")]
fn c2pa<R: Read + Seek + Send>(
    input: &mut source::Input<'_, R>,
    md: &mut Metadata,
    scope: Option<u64>,
) {
    c2pa_check::validate(input, md, scope);
}

#[cfg(not(feature = "c2pa"))]
fn c2pa<R: Read + Seek + Send>(
    _input: &mut source::Input<'_, R>,
    _md: &mut Metadata,
    _scope: Option<u64>,
) {
}
