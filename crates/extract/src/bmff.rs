//! ISO base media files (ISO/IEC 14496-12): HEIF/HEIC stills and MP4/MOV movies.
//!
//! The top level is walked by box headers, seeking over media data; only `ftyp`,
//! `meta` and `moov` (and XMP/C2PA `uuid` boxes) are read, each capped at
//! [`MAX_SEGMENT`]. Inside them, boxes are parsed from the slice with checked
//! arithmetic. nom-exif 3.8 also reads `mvhd`, but it folds the `mvhd` time (UTC by
//! specification) and Apple's `creationdate` (local time with offset) into one
//! value, which this record must keep apart; so the movie header is parsed here.

use std::io::{Read, Seek};

use crate::container::Found;
use crate::fragments::Fragments;
use crate::record::{Metadata, Track, VideoInfo};
use crate::source::{Input, MAX_SEGMENT, MAX_XMP, bytes};

/// UUID of an XMP packet box (Adobe XMP specification part 3).
const XMP_UUID: [u8; 16] = [
    0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC,
];
/// UUID of a C2PA manifest store box (C2PA specification, BMFF embedding).
const C2PA_UUID: [u8; 16] = [
    0xD8, 0xFE, 0xC3, 0xD6, 0x1B, 0x0E, 0x48, 0x3C, 0x92, 0x97, 0x58, 0x28, 0x87, 0x7E, 0xC4, 0x81,
];

const MAX_BOXES: usize = 100_000;
/// Most bytes of one movie fragment's index (`moof`) read, and of all of them.
const MAX_MOOF: u64 = 1 << 20;
const MAX_MOOF_BYTES: u64 = 64 << 20;
const MAX_DEPTH: usize = 12;

/// One box inside a slice: its type and body.
pub(crate) struct BoxRef<'a> {
    pub(crate) kind: [u8; 4],
    pub(crate) body: &'a [u8],
}

/// Iterates the boxes of a slice; stops (and reports) at the first malformed header.
pub(crate) struct Boxes<'a> {
    data: &'a [u8],
    pos: usize,
    count: usize,
    pub malformed: bool,
}

impl<'a> Boxes<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Boxes {
            data,
            pos: 0,
            count: 0,
            malformed: false,
        }
    }
}

impl<'a> Iterator for Boxes<'a> {
    type Item = BoxRef<'a>;
    fn next(&mut self) -> Option<BoxRef<'a>> {
        let rest = self.data.get(self.pos..)?;
        if rest.len() < 8 || self.count >= MAX_BOXES {
            if !rest.is_empty() {
                self.malformed = true;
            }
            return None;
        }
        self.count += 1;
        let size32 = bytes::be_u32(rest, 0)? as u64;
        let kind: [u8; 4] = rest[4..8].try_into().ok()?;
        let (hdr, size) = match size32 {
            0 => (8u64, rest.len() as u64),
            1 => (16u64, bytes::be_u64(rest, 8).unwrap_or(0)),
            s => (8u64, s),
        };
        if size < hdr || size > rest.len() as u64 {
            self.malformed = true;
            return None;
        }
        let body = &rest[hdr as usize..size as usize];
        self.pos += size as usize;
        Some(BoxRef { kind, body })
    }
}

fn find<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    Boxes::new(data).find(|b| &b.kind == kind).map(|b| b.body)
}

fn fourcc(k: &[u8]) -> String {
    k.iter()
        .map(|&c| {
            if c.is_ascii_graphic() || c == b' ' {
                c as char
            } else {
                '?'
            }
        })
        .collect()
}

/// What the top level of the file holds.
#[derive(Default)]
pub struct TopLevel {
    pub major_brand: Option<[u8; 4]>,
    pub compatible: Vec<[u8; 4]>,
    pub meta: Option<Vec<u8>>,
    pub moov: Option<Vec<u8>>,
    pub xmp: Option<Vec<u8>>,
    pub c2pa: bool,
    /// What the movie fragments (`moof`) say of their tracks' lengths.
    pub fragments: Fragments,
}

impl TopLevel {
    /// True when the brands say this is a HEIF still image rather than a movie.
    pub fn is_heif(&self) -> bool {
        const HEIF: [&[u8; 4]; 8] = [
            b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"avif", b"hevc",
        ];
        self.major_brand.as_ref().is_some_and(|b| HEIF.contains(&b)) && self.moov.is_none()
    }
}

/// Walks the top-level boxes, reading only the metadata boxes.
pub fn top_level<R: Read + Seek>(input: &mut Input<'_, R>, md: &mut Metadata) -> TopLevel {
    let mut top = TopLevel::default();
    let size = input.size();
    let mut pos = 0u64;
    let mut moof_bytes = 0u64;
    for _ in 0..MAX_BOXES {
        if pos >= size {
            return top;
        }
        let hdr = match input.read_up_to(pos, 32) {
            Ok(h) if h.len() >= 8 => h,
            _ => {
                md.problem(format_args!(
                    "box header at offset {pos}: the file ends inside it"
                ));
                return top;
            }
        };
        let size32 = u64::from(bytes::be_u32(&hdr, 0).unwrap_or(0));
        let kind: [u8; 4] = [hdr[4], hdr[5], hdr[6], hdr[7]];
        let (hlen, bsize) = match size32 {
            0 => (8, size - pos),
            1 => match bytes::be_u64(&hdr, 8) {
                Some(s) => (16, s),
                None => {
                    md.problem(format_args!(
                        "box header at offset {pos}: truncated 64-bit size"
                    ));
                    return top;
                }
            },
            s => (8, s),
        };
        if bsize < hlen {
            md.problem(format_args!(
                "box '{}' at offset {pos} claims {bsize} bytes, fewer than its own {hlen}-byte header (corrupt)",
                fourcc(&kind)
            ));
            return top;
        }
        if pos.checked_add(bsize).is_none_or(|end| end > size) {
            md.problem(format_args!(
                "box '{}' at offset {pos} claims {bsize} bytes, past the end of the {size}-byte file (truncated or corrupt)",
                fourcc(&kind)
            ));
            return top;
        }
        let body_at = pos + hlen;
        let body_len = bsize - hlen;
        match &kind {
            b"ftyp" => {
                if let Ok(b) = input.read_at(body_at, body_len.min(256), 256) {
                    top.major_brand = b.get(0..4).and_then(|s| s.try_into().ok());
                    top.compatible = b
                        .get(8..)
                        .unwrap_or_default()
                        .chunks_exact(4)
                        .filter_map(|c| c.try_into().ok())
                        .collect();
                }
            }
            b"meta" if top.meta.is_none() => match input.read_at(body_at, body_len, MAX_SEGMENT) {
                Ok(b) => top.meta = Some(b),
                Err(e) => md.problem(format_args!("'meta' box: {e}")),
            },
            b"moov" if top.moov.is_none() => match input.read_at(body_at, body_len, MAX_SEGMENT) {
                Ok(b) => top.moov = Some(b),
                Err(e) => md.problem(format_args!("'moov' box: {e}")),
            },
            // A movie fragment's index: a few KiB, its frames in the `mdat` after it.
            b"moof" if body_len <= MAX_MOOF && moof_bytes + body_len <= MAX_MOOF_BYTES => {
                moof_bytes += body_len;
                match input.read_at(body_at, body_len, MAX_MOOF) {
                    Ok(b) => top.fragments.add_moof(&b),
                    Err(e) => md.problem(format_args!("'moof' box at offset {pos}: {e}")),
                }
            }
            b"uuid" if body_len >= 16 => {
                if let Ok(id) = input.read_at(body_at, 16, 16) {
                    if id == XMP_UUID && top.xmp.is_none() {
                        match input.read_at(body_at + 16, body_len - 16, MAX_XMP) {
                            Ok(b) => top.xmp = Some(b),
                            Err(e) => md.problem(format_args!("XMP 'uuid' box: {e}")),
                        }
                    } else if id == C2PA_UUID {
                        top.c2pa = true;
                    }
                }
            }
            _ => {}
        }
        pos += bsize;
    }
    md.problem("top-level boxes: too many boxes");
    top
}

/// HEIF: find the `Exif` and XMP items through `iinf`/`iloc`, and the primary image's size.
pub fn heif<R: Read + Seek>(input: &mut Input<'_, R>, md: &mut Metadata, top: &TopLevel) -> Found {
    let mut found = Found {
        container: "heif",
        c2pa: top.c2pa.then(|| "bmff uuid box".to_string()),
        xmp: top.xmp.clone(),
        ..Found::default()
    };
    let Some(meta) = top.meta.as_deref() else {
        md.problem("HEIF: no 'meta' box");
        return found;
    };
    // `meta` is a full box: 4 bytes of version and flags precede its children.
    let Some(children) = meta.get(4..) else {
        md.problem("HEIF: empty 'meta' box");
        return found;
    };
    let items = find(children, b"iinf").map(parse_iinf).unwrap_or_default();
    let locs = find(children, b"iloc").map(parse_iloc).unwrap_or_default();
    let idat = find(children, b"idat");
    let primary = find(children, b"pitm").and_then(|p| {
        if p.first() == Some(&0) {
            bytes::be_u16(p, 4).map(u32::from)
        } else {
            bytes::be_u32(p, 4)
        }
    });
    if let Some(iprp) = find(children, b"iprp") {
        if let (Some(ipco), Some(ipma), Some(primary)) =
            (find(iprp, b"ipco"), find(iprp, b"ipma"), primary)
        {
            if let Some((w, h)) = primary_size(ipco, ipma, primary) {
                found.width = Some(w);
                found.height = Some(h);
            }
        }
    }
    for item in &items {
        let is_exif = &item.kind == b"Exif";
        let is_xmp = &item.kind == b"mime" && item.content_type == "application/rdf+xml";
        if !(is_exif && found.exif.is_none() || is_xmp && found.xmp.is_none()) {
            continue;
        }
        let Some(loc) = locs.iter().find(|l| l.item == item.id) else {
            md.problem(format_args!("HEIF item {} has no location", item.id));
            continue;
        };
        let limit = if is_exif { MAX_SEGMENT } else { MAX_XMP };
        let data = match read_item(input, loc, idat, limit) {
            Ok(d) => d,
            Err(e) => {
                md.problem(format_args!("HEIF item {}: {e}", item.id));
                continue;
            }
        };
        if is_exif {
            // The item starts with the offset of the TIFF header within the rest.
            let skip = bytes::be_u32(&data, 0).map(|s| s as usize + 4);
            match skip.and_then(|s| data.get(s..)) {
                Some(tiff) => found.exif = Some(tiff.to_vec()),
                None => md.problem("HEIF Exif item: bad TIFF header offset"),
            }
        } else {
            found.xmp = Some(data);
        }
    }
    found
}

struct ItemInfo {
    id: u32,
    kind: [u8; 4],
    content_type: String,
}

fn parse_iinf(b: &[u8]) -> Vec<ItemInfo> {
    let version = b.first().copied().unwrap_or(0);
    let start = if version == 0 { 6 } else { 8 };
    let mut out = Vec::new();
    for infe in Boxes::new(b.get(start..).unwrap_or_default()).filter(|x| &x.kind == b"infe") {
        let body = infe.body;
        let v = body.first().copied().unwrap_or(0);
        if v < 2 {
            continue;
        }
        let (id, at) = if v == 2 {
            (bytes::be_u16(body, 4).map(u32::from), 8)
        } else {
            (bytes::be_u32(body, 4), 10)
        };
        let (Some(id), Some(kind)) = (id, bytes::slice(body, at, 4)) else {
            continue;
        };
        let kind: [u8; 4] = kind.try_into().unwrap_or([0; 4]);
        let mut content_type = String::new();
        if &kind == b"mime" {
            // item_name\0 content_type\0
            let rest = body.get(at + 4..).unwrap_or_default();
            let mut parts = rest.split(|&c| c == 0);
            let _name = parts.next();
            if let Some(ct) = parts.next() {
                content_type = String::from_utf8_lossy(ct).into_owned();
            }
        }
        out.push(ItemInfo {
            id,
            kind,
            content_type,
        });
    }
    out
}

struct ItemLoc {
    item: u32,
    method: u8,
    base: u64,
    extents: Vec<(u64, u64)>,
}

fn read_sized(b: &[u8], at: &mut usize, size: u8) -> Option<u64> {
    let v = match size {
        0 => 0,
        4 => u64::from(bytes::be_u32(b, *at)?),
        8 => bytes::be_u64(b, *at)?,
        _ => return None,
    };
    *at += size as usize;
    Some(v)
}

fn parse_iloc(b: &[u8]) -> Vec<ItemLoc> {
    let mut out = Vec::new();
    let version = b.first().copied().unwrap_or(0);
    let (Some(&s1), Some(&s2)) = (b.get(4), b.get(5)) else {
        return out;
    };
    let (off_size, len_size, base_size) = (s1 >> 4, s1 & 15, s2 >> 4);
    let index_size = if version >= 1 { s2 & 15 } else { 0 };
    let mut at = 6;
    let count = if version < 2 {
        bytes::be_u16(b, at).map(u32::from)
    } else {
        bytes::be_u32(b, at)
    };
    at += if version < 2 { 2 } else { 4 };
    for _ in 0..count.unwrap_or(0).min(65_536) {
        let item = if version < 2 {
            bytes::be_u16(b, at).map(u32::from)
        } else {
            bytes::be_u32(b, at)
        };
        let Some(item) = item else { break };
        at += if version < 2 { 2 } else { 4 };
        let mut method = 0;
        if version >= 1 {
            let Some(m) = bytes::be_u16(b, at) else { break };
            method = (m & 15) as u8;
            at += 2;
        }
        at += 2; // data_reference_index
        let Some(base) = read_sized(b, &mut at, base_size) else {
            break;
        };
        let Some(n) = bytes::be_u16(b, at) else { break };
        at += 2;
        let mut extents = Vec::new();
        for _ in 0..n {
            if index_size > 0 && read_sized(b, &mut at, index_size).is_none() {
                break;
            }
            let (Some(off), Some(len)) = (
                read_sized(b, &mut at, off_size),
                read_sized(b, &mut at, len_size),
            ) else {
                break;
            };
            extents.push((off, len));
        }
        out.push(ItemLoc {
            item,
            method,
            base,
            extents,
        });
    }
    out
}

fn read_item<R: Read + Seek>(
    input: &mut Input<'_, R>,
    loc: &ItemLoc,
    idat: Option<&[u8]>,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for &(off, len) in &loc.extents {
        let start = loc.base.checked_add(off).ok_or("extent offset overflows")?;
        // A zero length means "to the end of the file" (or of `idat`).
        let remaining = limit.saturating_sub(out.len() as u64);
        match loc.method {
            0 => {
                let len = if len == 0 {
                    input.size().saturating_sub(start)
                } else {
                    len
                };
                let part = input
                    .read_at(start, len, remaining)
                    .map_err(|e| e.to_string())?;
                out.extend_from_slice(&part);
            }
            1 => {
                let idat = idat.ok_or("item stored in 'idat' but there is none")?;
                let s = usize::try_from(start).map_err(|_| "extent offset too large")?;
                let l = if len == 0 {
                    idat.len().saturating_sub(s)
                } else {
                    usize::try_from(len).map_err(|_| "extent too large")?
                };
                if l as u64 > remaining {
                    return Err(format!("item larger than the {limit}-byte limit"));
                }
                let part = bytes::slice(idat, s, l).ok_or("extent lies outside 'idat'")?;
                out.extend_from_slice(part);
            }
            m => return Err(format!("construction method {m} is not supported")),
        }
    }
    Ok(out)
}

fn primary_size(ipco: &[u8], ipma: &[u8], primary: u32) -> Option<(u32, u32)> {
    let props: Vec<BoxRef<'_>> = Boxes::new(ipco).collect();
    let version = *ipma.first()?;
    let flags = bytes::be_u32(ipma, 0)? & 0xFF_FFFF;
    let count = bytes::be_u32(ipma, 4)?;
    let mut at = 8;
    for _ in 0..count.min(65_536) {
        let item = if version < 1 {
            let v = u32::from(bytes::be_u16(ipma, at)?);
            at += 2;
            v
        } else {
            let v = bytes::be_u32(ipma, at)?;
            at += 4;
            v
        };
        let n = *ipma.get(at)?;
        at += 1;
        for _ in 0..n {
            let index = if flags & 1 == 1 {
                let v = bytes::be_u16(ipma, at)? & 0x7FFF;
                at += 2;
                v as usize
            } else {
                let v = ipma.get(at)? & 0x7F;
                at += 1;
                v as usize
            };
            if item == primary && index > 0 {
                if let Some(p) = props.get(index - 1) {
                    if &p.kind == b"ispe" {
                        return Some((bytes::be_u32(p.body, 4)?, bytes::be_u32(p.body, 8)?));
                    }
                }
            }
        }
    }
    None
}

/// Seconds between 1904-01-01 (the ISO BMFF epoch) and 1970-01-01.
pub const EPOCH_1904_TO_1970: i64 = 2_082_844_800;

/// What the movie box says, with every time kept apart.
#[derive(Default, Debug)]
pub struct Movie {
    pub info: VideoInfo,
    /// `mvhd` creation and modification times, seconds since 1904 as stored.
    pub created: Option<u64>,
    pub modified: Option<u64>,
    /// Text items of `udta` (`©xyz`, `©day`, `©mak`…) keyed by their four-character code.
    pub udta: Vec<(String, String)>,
    /// `mdta` keys with text values (`com.apple.quicktime.creationdate`…).
    pub keys: Vec<(String, String)>,
    /// An XMP packet in `udta/XMP_`.
    pub xmp: Option<Vec<u8>>,
    /// The body of a 3GPP location box, `udta/loci` (as ffmpeg's MP4 muxer writes a
    /// `location`).
    pub loci: Option<Vec<u8>>,
}

/// Parses `moov`; a fragmented file's lengths are counted from `fragments`.
pub fn movie(moov: &[u8], fragments: &Fragments, md: &mut Metadata) -> Movie {
    let mut m = Movie::default();
    let mut fragment_duration = None;
    let mut boxes = Boxes::new(moov);
    for b in boxes.by_ref() {
        match &b.kind {
            b"mvhd" => parse_mvhd(b.body, &mut m),
            b"trak" => {
                if let Some(t) = parse_trak(b.body) {
                    if t.handler == "vide" && m.info.width.is_none() {
                        m.info.width = t.width;
                        m.info.height = t.height;
                    }
                    if m.info.tracks.len() < 256 {
                        m.info.tracks.push(t);
                    }
                }
            }
            b"udta" => parse_udta(b.body, &mut m, 0),
            b"meta" => parse_keys_meta(b.body, &mut m),
            b"mvex" => {
                m.info.fragmented = true;
                fragment_duration = find(b.body, b"mehd").and_then(|mehd| {
                    if mehd.first() == Some(&1) {
                        bytes::be_u64(mehd, 4)
                    } else {
                        bytes::be_u32(mehd, 4).map(u64::from)
                    }
                });
            }
            _ => {}
        }
    }
    if boxes.malformed {
        md.problem("'moov' box: a child box is malformed; later boxes were not read");
    }
    // An image sequence (an animated AVIF or HEIF) has a picture track (`pict`) and no
    // video track: its size is the picture track's.
    if m.info.width.is_none() {
        if let Some(t) = m.info.tracks.iter().find(|t| t.handler == "pict") {
            m.info.width = t.width;
            m.info.height = t.height;
        }
    }
    if m.info.fragmented {
        // The movie and track headers count only the frames listed in `moov` (none,
        // usually); the movie's length is `mehd`'s, when the file gives one, else the
        // longest track's: its frames in `moov` and in every fragment (since 1.14).
        // A track no fragment was read of has no length given: its header's counts only
        // the frames `moov` lists.
        let counted = fragment_lengths(moov, fragments);
        for (i, t) in m.info.tracks.iter_mut().enumerate() {
            t.duration_s = counted.get(i).copied().flatten();
        }
        m.info.duration_s = fragment_duration
            .zip(m.info.timescale.filter(|&t| t > 0))
            .map(|(d, ts)| d as f64 / f64::from(ts))
            .or_else(|| counted.iter().flatten().copied().reduce(f64::max));
    } else if m.info.duration_units == Some(0) {
        // A movie header saying "no length" over tracks that have one (libavif writes
        // such headers for animated AVIF): the movie lasts as long as its longest track,
        // as players show it. The header's own value stays in `duration_units`.
        m.info.duration_s = m
            .info
            .tracks
            .iter()
            .filter_map(|t| t.duration_s)
            .filter(|d| d.is_finite() && *d > 0.0)
            .reduce(f64::max)
            .or(m.info.duration_s);
    }
    m
}

/// Each track's length in seconds (in `moov`'s order, as [`parse_trak`] lists them),
/// counted from its `mdhd` (the frames `moov` lists) and its movie fragments, `trex`'s
/// default duration standing in where a fragment gives none; `None` for a track no
/// fragment holds.
fn fragment_lengths(moov: &[u8], fragments: &Fragments) -> Vec<Option<f64>> {
    if fragments.is_empty() {
        return Vec::new();
    }
    // trex: track ID, then default sample description index and duration.
    let trex: Vec<(u32, u32)> = find(moov, b"mvex")
        .map(|mvex| {
            Boxes::new(mvex)
                .filter(|b| &b.kind == b"trex")
                .filter_map(|b| Some((bytes::be_u32(b.body, 4)?, bytes::be_u32(b.body, 12)?)))
                .collect()
        })
        .unwrap_or_default();
    Boxes::new(moov)
        .filter(|b| &b.kind == b"trak")
        .filter(|b| parse_trak(b.body).is_some())
        .take(256)
        .map(|trak| {
            let tkhd = find(trak.body, b"tkhd")?;
            let id = if tkhd.first() == Some(&1) {
                bytes::be_u32(tkhd, 20)?
            } else {
                bytes::be_u32(tkhd, 12)?
            };
            let mdhd = find(find(trak.body, b"mdia")?, b"mdhd")?;
            let (timescale, listed) = if mdhd.first() == Some(&1) {
                (bytes::be_u32(mdhd, 20)?, bytes::be_u64(mdhd, 24)?)
            } else {
                (
                    bytes::be_u32(mdhd, 12)?,
                    u64::from(bytes::be_u32(mdhd, 16)?),
                )
            };
            let default = trex.iter().find(|(t, _)| *t == id).map(|(_, d)| *d);
            let units = fragments.units(id, default)?;
            (timescale > 0).then(|| listed.saturating_add(units) as f64 / f64::from(timescale))
        })
        .collect()
}

fn parse_mvhd(b: &[u8], m: &mut Movie) {
    let version = b.first().copied().unwrap_or(0);
    let (created, modified, timescale, duration) = if version == 1 {
        (
            bytes::be_u64(b, 4),
            bytes::be_u64(b, 12),
            bytes::be_u32(b, 20),
            bytes::be_u64(b, 24),
        )
    } else {
        (
            bytes::be_u32(b, 4).map(u64::from),
            bytes::be_u32(b, 8).map(u64::from),
            bytes::be_u32(b, 12),
            bytes::be_u32(b, 16).map(u64::from),
        )
    };
    m.created = created;
    m.modified = modified;
    m.info.timescale = timescale;
    // All-ones means "duration unknown" (ISO/IEC 14496-12 8.2.2.3).
    m.info.duration_units = duration.filter(|&d| d != u64::MAX && d != u64::from(u32::MAX));
    if let (Some(ts), Some(d)) = (timescale.filter(|&t| t > 0), m.info.duration_units) {
        m.info.duration_s = Some(d as f64 / f64::from(ts));
    }
}

fn parse_trak(b: &[u8]) -> Option<Track> {
    let mut t = Track::default();
    if let Some(tkhd) = find(b, b"tkhd") {
        let v = tkhd.first().copied().unwrap_or(0);
        // Width and height are 16.16 fixed point at the end of the box.
        let at = if v == 1 { 88 } else { 76 };
        t.width = bytes::be_u32(tkhd, at).map(|w| w >> 16).filter(|&w| w > 0);
        t.height = bytes::be_u32(tkhd, at + 4)
            .map(|h| h >> 16)
            .filter(|&h| h > 0);
        t.rotation = rotation(tkhd, if v == 1 { 52 } else { 40 });
    }
    let mdia = find(b, b"mdia")?;
    if let Some(mdhd) = find(mdia, b"mdhd") {
        let v = mdhd.first().copied().unwrap_or(0);
        let (ts, dur, lang_at) = if v == 1 {
            (bytes::be_u32(mdhd, 20), bytes::be_u64(mdhd, 24), 32)
        } else {
            (
                bytes::be_u32(mdhd, 12),
                bytes::be_u32(mdhd, 16).map(u64::from),
                20,
            )
        };
        if let (Some(ts), Some(d)) = (ts.filter(|&t| t > 0), dur) {
            if d != u64::MAX && d != u64::from(u32::MAX) {
                t.duration_s = Some(d as f64 / f64::from(ts));
            }
        }
        if let Some(l) = bytes::be_u16(mdhd, lang_at) {
            let c = |s: u16| (((l >> s) & 31) as u8 + 0x60) as char;
            let lang: String = [c(10), c(5), c(0)].iter().collect();
            if lang.chars().all(|ch| ch.is_ascii_lowercase()) && lang != "und" {
                t.language = Some(lang);
            }
        }
    }
    if let Some(hdlr) = find(mdia, b"hdlr") {
        t.handler = bytes::slice(hdlr, 8, 4).map(fourcc).unwrap_or_default();
    }
    let stsd = find(mdia, b"minf")
        .and_then(|minf| find(minf, b"stbl"))
        .and_then(|stbl| find(stbl, b"stsd"));
    if let Some(stsd) = stsd {
        // full box (4) + entry_count (4), then the first sample entry's header.
        t.codec = bytes::slice(stsd, 12, 4).map(fourcc);
        let entry = stsd.get(8..).and_then(|e| Boxes::new(e).next());
        if let Some(entry) = entry.filter(|e| matches!(&e.kind, b"mp4v" | b"mp4a")) {
            // The fixed fields of a visual (78 bytes) or audio (28 bytes) sample entry,
            // then its boxes.
            let fixed = if &entry.kind == b"mp4v" { 78 } else { 28 };
            t.object_type = entry
                .body
                .get(fixed..)
                .and_then(|b| find(b, b"esds"))
                .and_then(|esds| object_type(esds.get(4..)?));
        }
    }
    Some(t)
}

/// The object type of an `esds` box's body (after its version and flags): the first
/// byte of the decoder configuration descriptor (tag 4) inside the elementary stream
/// descriptor (tag 3), ISO/IEC 14496-1 §7.2.6.
fn object_type(es: &[u8]) -> Option<u8> {
    // A descriptor: its tag, then a size of up to four bytes of seven bits.
    let open = |d: &[u8], tag: u8| -> Option<usize> {
        if *d.first()? != tag {
            return None;
        }
        let mut at = 1;
        loop {
            let b = *d.get(at)?;
            at += 1;
            if b & 0x80 == 0 || at == 5 {
                return Some(at);
            }
        }
    };
    let at = open(es, 3)?;
    // ES_ID, then flags saying which optional fields follow.
    let flags = *es.get(at + 2)?;
    let mut next = at + 3;
    if flags & 0x80 != 0 {
        next += 2;
    }
    if flags & 0x40 != 0 {
        next += 1 + usize::from(*es.get(next)?);
    }
    if flags & 0x20 != 0 {
        next += 2;
    }
    let config = es.get(next..)?;
    let body = open(config, 4)?;
    config.get(body).copied()
}

/// The turn a track's matrix (at `at` in `tkhd`: a, b, u, c, d, v, x, y, w) gives its
/// pictures when shown, in degrees clockwise, as exiftool's `Rotation` reads it: 90 for
/// a phone held upright (a = d = 0, b = 1, c = −1). `None` for the identity and for
/// any matrix that is not a quarter turn (a mirror, a scale).
fn rotation(tkhd: &[u8], at: usize) -> Option<u16> {
    let cell = |i: usize| bytes::be_u32(tkhd, at + 4 * i).map(|x| x as i32);
    let one = 1 << 16;
    match (cell(0)?, cell(1)?, cell(3)?, cell(4)?) {
        (0, b, c, 0) if b == one && c == -one => Some(90),
        (a, 0, 0, d) if a == -one && d == -one => Some(180),
        (0, b, c, 0) if b == -one && c == one => Some(270),
        _ => None,
    }
}

fn parse_udta(b: &[u8], m: &mut Movie, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for item in Boxes::new(b) {
        match &item.kind {
            [0xA9, ..] => {
                // QuickTime international text: u16 length, u16 language, text.
                if let Some(len) = bytes::be_u16(item.body, 0) {
                    if let Some(text) = bytes::slice(item.body, 4, len as usize) {
                        let key = format!("©{}", fourcc(&item.kind[1..]));
                        if m.udta.len() < 256 {
                            m.udta.push((
                                key,
                                String::from_utf8_lossy(text)
                                    .trim_end_matches('\0')
                                    .to_string(),
                            ));
                        }
                    }
                }
            }
            b"XMP_" if m.xmp.is_none() && item.body.len() as u64 <= MAX_XMP => {
                m.xmp = Some(item.body.to_vec());
            }
            b"loci" if m.loci.is_none() && item.body.len() <= 64 * 1024 => {
                m.loci = Some(item.body.to_vec());
            }
            b"meta" => parse_keys_meta(item.body, m),
            _ => {}
        }
    }
}

/// Apple `mdta` metadata: `keys` names, `ilst` values by 1-based key index.
fn parse_keys_meta(b: &[u8], m: &mut Movie) {
    // QuickTime `meta` is a plain box; MP4 `meta` is a full box with 4 extra bytes.
    let children = if b.get(4..8) == Some(b"hdlr") {
        b
    } else {
        b.get(4..).unwrap_or_default()
    };
    let Some(keys) = find(children, b"keys") else {
        return;
    };
    let Some(ilst) = find(children, b"ilst") else {
        return;
    };
    let mut names = Vec::new();
    let mut at = 8;
    let count = bytes::be_u32(keys, 4).unwrap_or(0);
    for _ in 0..count.min(4096) {
        let Some(size) = bytes::be_u32(keys, at) else {
            break;
        };
        let Some(name) = bytes::slice(keys, at + 8, (size as usize).saturating_sub(8)) else {
            break;
        };
        names.push(String::from_utf8_lossy(name).into_owned());
        if size < 8 {
            break;
        }
        at += size as usize;
    }
    for entry in Boxes::new(ilst) {
        let index = u32::from_be_bytes(entry.kind) as usize;
        let Some(name) = index.checked_sub(1).and_then(|i| names.get(i)) else {
            continue;
        };
        if let Some(data) = find(entry.body, b"data") {
            // type indicator (4) + locale (4); type 1 is UTF-8 text.
            if bytes::be_u32(data, 0) == Some(1) {
                if let Some(text) = data.get(8..) {
                    if m.keys.len() < 256 {
                        m.keys
                            .push((name.clone(), String::from_utf8_lossy(text).into_owned()));
                    }
                }
            }
        }
    }
}

/// Brand text for the record.
pub fn brand(b: &[u8; 4]) -> String {
    fourcc(b)
}
