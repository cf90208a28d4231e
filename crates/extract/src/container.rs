//! Container walkers for still images: find the EXIF block, the XMP packet, the
//! header dimensions and any C2PA manifest store in JPEG, PNG, WebP and TIFF files,
//! reading segment headers only. HEIF and MP4/MOV live in [`crate::bmff`].
//!
//! Every walker is bounded: it reads through [`Input`], which refuses ranges past the
//! end and above the per-kind limits, and it stops after a fixed number of segments.

use std::io::{Read, Seek};

use crate::record::Metadata;
use crate::source::{Input, MAX_SEGMENT, MAX_XMP, bytes};

/// What a container walk found.
#[derive(Debug, Default)]
pub struct Found {
    /// Container name for the record: `jpeg`, `png`, `webp`, `tiff`, `heif`.
    pub container: &'static str,
    /// The EXIF data as a TIFF structure (starting `II*\0` or `MM\0*`).
    pub exif: Option<Vec<u8>>,
    /// The XMP packet bytes.
    pub xmp: Option<Vec<u8>>,
    /// Dimensions from the container's own header.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Where a C2PA manifest store was seen.
    pub c2pa: Option<String>,
    /// IPTC IIM data (a JPEG's Photoshop segment).
    pub iptc: Option<Vec<u8>>,
    /// JPEG: the offset of the first start-of-scan marker, when the walk reached it
    /// through well-formed segments only (see [`jpeg`]) and the scan's header lies whole
    /// in the file with data after it; `None` otherwise.
    pub header_end: Option<u64>,
}

/// Most segments or chunks a walker visits before giving up.
const MAX_SEGMENTS: usize = 100_000;

const XMP_JPEG_HEADER: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXT_HEADER: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";

/// Walks JPEG markers up to the start of scan.
pub fn jpeg<R: Read + Seek>(input: &mut Input<'_, R>, md: &mut Metadata) -> Found {
    let mut found = Found {
        container: "jpeg",
        ..Found::default()
    };
    // The Photoshop resources of the APP13 segments, joined.
    let mut photoshop: Vec<u8> = Vec::new();
    let head = match input.read_up_to(0, 2) {
        Ok(h) => h,
        Err(e) => {
            md.problem(format_args!("JPEG header: {e}"));
            return found;
        }
    };
    if head != [0xFF, 0xD8] {
        md.problem("JPEG header: the file does not start with an SOI marker");
        return found;
    }
    let mut pos: u64 = 2;
    // Whether every marker so far is a segment with a length, a standalone marker (TEM,
    // RSTn) or a fill byte: then any JPEG reader that walks segments by their lengths
    // sees exactly these segments before the scan.
    let mut well_formed = true;
    for _ in 0..MAX_SEGMENTS {
        let hdr = match input.read_up_to(pos, 4) {
            Ok(h) if h.len() == 4 => h,
            Ok(_) => {
                md.problem(format_args!(
                    "JPEG segments: the file ends at offset {pos} before the image data"
                ));
                return found;
            }
            Err(e) => {
                md.problem(format_args!("JPEG segments: {e}"));
                return found;
            }
        };
        if hdr[0] != 0xFF {
            md.problem(format_args!(
                "JPEG segments: no marker at offset {pos} (corrupt segment lengths)"
            ));
            return found;
        }
        let marker = hdr[1];
        match marker {
            // Fill byte: the marker starts one byte later.
            0xFF => {
                pos += 1;
                continue;
            }
            0x01 | 0xD0..=0xD7 => {
                pos += 2;
                continue;
            }
            // Start of scan: no metadata segments follow that we read.
            0xDA => {
                // The scan's header must lie whole in the file with data after it.
                let len = u64::from(u16::from_be_bytes([hdr[2], hdr[3]]));
                let whole = len >= 2 && pos + 2 + len < input.size();
                found.header_end = (well_formed && whole).then_some(pos);
                return found;
            }
            0xD9 => return found,
            // Markers T.81 gives a length; any other (reserved, or SOI again) still gets
            // one read here, but makes the header irregular.
            0xC0..=0xCF | 0xDB..=0xDF | 0xE0..=0xFE => {}
            _ => well_formed = false,
        }
        let len = u64::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        if len < 2 {
            md.problem(format_args!(
                "JPEG segments: marker 0x{marker:02X} at offset {pos} has an impossible length {len}"
            ));
            return found;
        }
        let body_at = pos + 4;
        let body_len = len - 2;
        match marker {
            0xE1 => jpeg_app1(input, md, &mut found, body_at, body_len),
            // Photoshop image resources, with the IPTC IIM block among them; resources
            // too long for one segment continue in the next, after the same leading
            // bytes.
            0xED if found.iptc.is_none() && photoshop.len() as u64 + body_len <= MAX_SEGMENT => {
                match input.read_at(body_at, body_len, MAX_SEGMENT) {
                    Ok(b) => {
                        let lead = crate::iptc::PHOTOSHOP_SEGMENT;
                        match b.strip_prefix(lead) {
                            Some(rest) if !photoshop.is_empty() => {
                                photoshop.extend_from_slice(rest)
                            }
                            Some(_) => photoshop = b,
                            None => {}
                        }
                        found.iptc = crate::iptc::from_photoshop(&photoshop).map(<[u8]>::to_vec);
                    }
                    Err(e) => md.problem(format_args!("JPEG APP13 (Photoshop) segment: {e}")),
                }
            }
            0xEB if found.c2pa.is_none() => {
                if let Ok(b) = input.read_up_to(body_at, body_len.min(64)) {
                    if b.starts_with(b"JP") && contains(&b, b"c2pa") {
                        found.c2pa = Some("jpeg APP11 JUMBF".into());
                    }
                }
            }
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF if found.width.is_none() => {
                if let Ok(b) = input.read_at(body_at, 5.min(body_len), 5) {
                    found.height = bytes::be_u16(&b, 1).map(u32::from);
                    found.width = bytes::be_u16(&b, 3).map(u32::from);
                }
            }
            _ => {}
        }
        pos = body_at + body_len;
    }
    md.problem("JPEG segments: too many segments before the image data");
    found
}

fn jpeg_app1<R: Read + Seek>(
    input: &mut Input<'_, R>,
    md: &mut Metadata,
    found: &mut Found,
    at: u64,
    len: u64,
) {
    let peek = match input.read_up_to(at, len.min(XMP_EXT_HEADER.len() as u64)) {
        Ok(p) => p,
        Err(e) => {
            md.problem(format_args!("JPEG APP1 segment: {e}"));
            return;
        }
    };
    if peek.starts_with(b"Exif\0") {
        if found.exif.is_some() {
            return; // Readers (exiftool included) take the first EXIF segment.
        }
        match input.read_at(at, len, MAX_SEGMENT) {
            Ok(b) => found.exif = Some(b.get(6..).unwrap_or_default().to_vec()),
            Err(e) => md.problem(format_args!("EXIF segment: {e}")),
        }
    } else if peek.starts_with(XMP_JPEG_HEADER) {
        if found.xmp.is_some() {
            return;
        }
        match input.read_at(at, len, MAX_XMP) {
            Ok(b) => found.xmp = Some(b[XMP_JPEG_HEADER.len()..].to_vec()),
            Err(e) => md.problem(format_args!("XMP segment: {e}")),
        }
    } else if peek.starts_with(XMP_EXT_HEADER) {
        md.problem("extended XMP (continued in further APP1 segments) is not read");
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Walks PNG chunks up to `IEND`.
pub fn png<R: Read + Seek>(input: &mut Input<'_, R>, md: &mut Metadata) -> Found {
    let mut found = Found {
        container: "png",
        ..Found::default()
    };
    let mut pos: u64 = 8;
    for _ in 0..MAX_SEGMENTS {
        let hdr = match input.read_up_to(pos, 8) {
            Ok(h) if h.len() == 8 => h,
            Ok(_) => {
                md.problem(format_args!(
                    "PNG chunks: the file ends at offset {pos} before IEND"
                ));
                return found;
            }
            Err(e) => {
                md.problem(format_args!("PNG chunks: {e}"));
                return found;
            }
        };
        let len = u64::from(bytes::be_u32(&hdr, 0).unwrap_or(0));
        let kind = &hdr[4..8];
        let data_at = pos + 8;
        if data_at + len > input.size() {
            md.problem(format_args!(
                "PNG chunks: chunk {} at offset {pos} runs past the end of the file",
                String::from_utf8_lossy(kind)
            ));
            return found;
        }
        match kind {
            b"IHDR" => {
                if let Ok(b) = input.read_at(data_at, 8.min(len), 8) {
                    found.width = bytes::be_u32(&b, 0);
                    found.height = bytes::be_u32(&b, 4);
                }
            }
            b"eXIf" if found.exif.is_none() => match input.read_at(data_at, len, MAX_SEGMENT) {
                Ok(b) => found.exif = Some(b),
                Err(e) => md.problem(format_args!("PNG eXIf chunk: {e}")),
            },
            b"iTXt" if found.xmp.is_none() => png_itxt(input, md, &mut found, data_at, len),
            b"caBX" => found.c2pa = Some("png caBX chunk".into()),
            b"IEND" => return found,
            _ => {}
        }
        pos = data_at + len + 4;
    }
    md.problem("PNG chunks: too many chunks");
    found
}

fn png_itxt<R: Read + Seek>(
    input: &mut Input<'_, R>,
    md: &mut Metadata,
    found: &mut Found,
    at: u64,
    len: u64,
) {
    const KEY: &[u8] = b"XML:com.adobe.xmp\0";
    match input.read_up_to(at, KEY.len() as u64) {
        Ok(p) if p == KEY => {}
        _ => return,
    }
    let b = match input.read_at(at, len, MAX_XMP + 1024) {
        Ok(b) => b,
        Err(e) => {
            md.problem(format_args!("PNG XMP chunk: {e}"));
            return;
        }
    };
    let rest = &b[KEY.len()..];
    let (Some(&compressed), Some(_method)) = (rest.first(), rest.get(1)) else {
        md.problem("PNG XMP chunk: truncated header");
        return;
    };
    // Language tag and translated keyword, each NUL-terminated.
    let mut p = 2;
    for _ in 0..2 {
        match rest.get(p..).and_then(|r| r.iter().position(|&c| c == 0)) {
            Some(n) => p += n + 1,
            None => {
                md.problem("PNG XMP chunk: truncated header");
                return;
            }
        }
    }
    if compressed != 0 {
        md.problem("PNG XMP chunk is zlib-compressed, which this extractor does not inflate");
        return;
    }
    found.xmp = Some(rest[p..].to_vec());
}

/// Walks WebP RIFF chunks.
pub fn webp<R: Read + Seek>(input: &mut Input<'_, R>, md: &mut Metadata) -> Found {
    let mut found = Found {
        container: "webp",
        ..Found::default()
    };
    let riff_end = match input.read_up_to(0, 12) {
        Ok(h) if h.len() == 12 => {
            (8 + u64::from(bytes::le_u32(&h, 4).unwrap_or(0))).min(input.size())
        }
        _ => {
            md.problem("WebP header: the file is shorter than a RIFF header");
            return found;
        }
    };
    let mut pos: u64 = 12;
    for _ in 0..MAX_SEGMENTS {
        if pos + 8 > riff_end {
            return found;
        }
        let hdr = match input.read_at(pos, 8, 8) {
            Ok(h) => h,
            Err(e) => {
                md.problem(format_args!("WebP chunks: {e}"));
                return found;
            }
        };
        let len = u64::from(bytes::le_u32(&hdr, 4).unwrap_or(0));
        let data_at = pos + 8;
        if data_at + len > input.size() {
            md.problem(format_args!(
                "WebP chunks: chunk {} at offset {pos} runs past the end of the file",
                String::from_utf8_lossy(&hdr[..4])
            ));
            return found;
        }
        match &hdr[..4] {
            b"VP8X" => {
                if let Ok(b) = input.read_at(data_at, 10.min(len), 10) {
                    if b.len() == 10 {
                        let w = u32::from_le_bytes([b[4], b[5], b[6], 0]) + 1;
                        let h = u32::from_le_bytes([b[7], b[8], b[9], 0]) + 1;
                        found.width = Some(w);
                        found.height = Some(h);
                    }
                }
            }
            b"VP8 " if found.width.is_none() => {
                if let Ok(b) = input.read_at(data_at, 10.min(len), 10) {
                    if b.len() == 10 && b[3..6] == [0x9D, 0x01, 0x2A] {
                        found.width = bytes::le_u16(&b, 6).map(|v| u32::from(v & 0x3FFF));
                        found.height = bytes::le_u16(&b, 8).map(|v| u32::from(v & 0x3FFF));
                    }
                }
            }
            b"VP8L" if found.width.is_none() => {
                if let Ok(b) = input.read_at(data_at, 5.min(len), 5) {
                    if b.len() == 5 && b[0] == 0x2F {
                        let bits = bytes::le_u32(&b, 1).unwrap_or(0);
                        found.width = Some((bits & 0x3FFF) + 1);
                        found.height = Some(((bits >> 14) & 0x3FFF) + 1);
                    }
                }
            }
            b"EXIF" if found.exif.is_none() => match input.read_at(data_at, len, MAX_SEGMENT) {
                Ok(b) => {
                    // Some writers keep the JPEG-style "Exif\0\0" prefix.
                    let b = if b.starts_with(b"Exif\0\0") {
                        b[6..].to_vec()
                    } else {
                        b
                    };
                    found.exif = Some(b);
                }
                Err(e) => md.problem(format_args!("WebP EXIF chunk: {e}")),
            },
            b"XMP " if found.xmp.is_none() => match input.read_at(data_at, len, MAX_XMP) {
                Ok(b) => found.xmp = Some(b),
                Err(e) => md.problem(format_args!("WebP XMP chunk: {e}")),
            },
            b"C2PA" => found.c2pa = Some("webp C2PA chunk".into()),
            _ => {}
        }
        pos = data_at + len + (len & 1);
    }
    md.problem("WebP chunks: too many chunks");
    found
}

/// A TIFF file is itself the EXIF structure; IFD offsets are file offsets, so the
/// structure is read whole, up to [`MAX_SEGMENT`].
pub fn tiff<R: Read + Seek>(input: &mut Input<'_, R>, md: &mut Metadata) -> Found {
    let mut found = Found {
        container: "tiff",
        ..Found::default()
    };
    let size = input.size();
    if size > MAX_SEGMENT {
        md.problem(format_args!(
            "TIFF directories beyond the first {MAX_SEGMENT} bytes of this {size}-byte file are not read"
        ));
    }
    match input.read_up_to(0, size.min(MAX_SEGMENT)) {
        Ok(b) => found.exif = Some(b),
        Err(e) => md.problem(format_args!("TIFF file: {e}")),
    }
    found
}
