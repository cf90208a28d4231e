//! Keyframes of AVI videos: dashcams, CCTV exports and older cameras write them, Motion
//! JPEG (every frame a JPEG picture) or H.264; HEVC too from some recorders.
//!
//! Only chunk headers are read while walking: the `hdrl` list (each stream's header
//! `strh`: its type, rate and scale; and format `strf`: the picture's coding and the
//! decoder's extra data), then every `movi` list, of the first `RIFF` and of the
//! OpenDML extensions (`AVIX`) that files over 1 GB add. Each chunk of the first video
//! stream decoded here (`00dc`, `00db`, ...) is one frame, shown at its number times
//! the stream's scale over its rate, counted from 0:00. The index (`idx1`, or
//! OpenDML's) is not needed: a recording cut off by a power loss, with no index
//! written, is read as far as it goes. A frame is a keyframe when a decoder can start
//! from it: any Motion JPEG frame; an H.264 IDR picture (or an intra picture after a
//! recovery point); an HEVC intra random access point, judged from the first bytes of
//! the frame ([`annexb`](super::annexb)). As for the other containers, the file is
//! walked twice (count, then take the chosen ones), nothing kept per frame; a chunk
//! that runs past the end of the file or a header that is not one ends the walk,
//! keeping the keyframes before it.

use std::io::{BufReader, Read, Seek, SeekFrom};

use super::{
    Codec, Coding, Keyframe, MAX_FRAME_BYTES, MAX_KEYFRAMES, PHash, Stream, annexb, avc_config,
    corrupt, decode, decode_stream, io_error, no_video_track, phash, ranks,
};
use crate::HashError;

/// Largest `hdrl` list read whole (stream headers and formats: a few KB).
const MAX_HEADER_BYTES: u32 = 1024 * 1024;
/// Most chunks walked in one pass (a day of 30 fps video with audio is about 5 million).
const MAX_CHUNKS: u64 = 20_000_000;
/// Bytes of a frame looked at to tell a keyframe; up to [`MAX_LOOK_BYTES`] when its
/// first slice is further in (after a large SEI).
const LOOK_BYTES: u32 = 1024;
const MAX_LOOK_BYTES: u32 = 64 * 1024;

/// The Huffman tables a JPEG uses when it gives none: ITU-T T.81 Annex K.3 (luminance
/// and chrominance, DC and AC), as one DHT segment's body. Motion JPEG frames from
/// webcams and IP cameras often leave them out ("AVI1" Motion JPEG).
const STANDARD_HUFFMAN_TABLES: [u8; 416] = [
    0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x10, 0x00, 0x02,
    0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7D, 0x01, 0x02,
    0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71,
    0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0, 0x24, 0x33,
    0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A,
    0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x53,
    0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x73,
    0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x92,
    0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9,
    0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7,
    0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2, 0xE3, 0xE4,
    0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA,
    0x01, 0x00, 0x03, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x11, 0x00, 0x02,
    0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05, 0x04, 0x04, 0x00, 0x01, 0x02, 0x77, 0x00, 0x01,
    0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22,
    0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33, 0x52, 0xF0, 0x15, 0x62,
    0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19, 0x1A, 0x26, 0x27, 0x28,
    0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A,
    0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A,
    0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
    0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5,
    0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE2, 0xE3,
    0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA,
];

/// Whether the file starts as an AVI (a RIFF file of form `AVI `).
pub(super) fn is_avi(head: &[u8]) -> bool {
    head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"AVI "
}

/// How a stream's frames are coded.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Mjpeg,
    /// H.264 or HEVC with start codes (Annex B), parameter sets in the stream or in the
    /// extra data.
    AnnexB(Codec),
    /// H.264 with a length before each NAL unit, the `avcC` record in the extra data.
    Avcc,
}

/// The video stream: its two-digit number (as chunk IDs write it), coding, rate and
/// scale, and the decoder's extra data from its format.
struct Video {
    number: [u8; 2],
    kind: Kind,
    scale: u64,
    rate: u64,
    extra: Vec<u8>,
}

pub(super) fn hash_keyframes<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
) -> Result<Vec<Keyframe>, HashError> {
    let (video, movies) = headers(r, file_len)?;
    let mut shown = 0u64;
    walk(r, &video, &movies, |_| shown += 1)?;
    if shown == 0 {
        return Err(corrupt(
            "the AVI video holds no whole keyframe (its frames are empty or none can start a \
             decoder)"
                .into(),
        ));
    }
    let wanted = ranks(shown, MAX_KEYFRAMES);
    let mut rank = 0u64;
    let mut chosen = Vec::with_capacity(wanted.len());
    walk(r, &video, &movies, |frame| {
        if wanted.binary_search(&rank).is_ok() {
            chosen.push(frame);
        }
        rank += 1;
    })?;
    // Parameter sets from the extra data; a keyframe's own come first.
    let mut params: Vec<(u8, Vec<u8>)> = Vec::new();
    if let Kind::AnnexB(codec) = video.kind {
        for (t, n) in annexb::leading_parameters(codec, &video.extra) {
            params.push((t, video.extra[n].to_vec()));
        }
    }
    let mut out = Vec::with_capacity(chosen.len());
    for frame in chosen {
        if u64::from(frame.size) > MAX_FRAME_BYTES {
            return Err(corrupt(format!(
                "frame {} is {} bytes, more than {MAX_FRAME_BYTES}",
                frame.number + 1,
                frame.size
            )));
        }
        let data = read(r, frame.offset, frame.size)?;
        let hash = match &video.kind {
            Kind::Mjpeg => crate::hash_bytes(&with_huffman_tables(&data), "image/jpeg")?,
            Kind::AnnexB(codec) => {
                let own = annexb::leading_parameters(*codec, &data);
                let mut stream = Stream {
                    bytes: Vec::with_capacity(data.len() + 256),
                    nals: Vec::new(),
                };
                for (t, p) in &params {
                    if !own.iter().any(|(o, _)| o == t) {
                        stream.put(p);
                    }
                }
                for n in annexb::first_picture(*codec, &data)? {
                    stream.put(&data[n]);
                }
                for (t, n) in own {
                    let nal = data[n].to_vec();
                    match params.iter_mut().find(|(o, _)| *o == t) {
                        Some(slot) => slot.1 = nal,
                        None => params.push((t, nal)),
                    }
                }
                let grid = decode_stream(*codec, &stream)?;
                PHash(phash::bits(&grid, phash::Variant::ZigzagAc))
            }
            Kind::Avcc => {
                let (params, length_size) = avc_config(&video.extra).ok_or_else(|| {
                    corrupt("the H.264 decoder configuration (avcC) is cut off".into())
                })?;
                let coding = Coding {
                    codec: Codec::H264,
                    params,
                    length_size,
                };
                PHash(phash::bits(
                    &decode(&coding, &data)?,
                    phash::Variant::ZigzagAc,
                ))
            }
        };
        let at_ms = u64::try_from(
            u128::from(frame.number) * u128::from(video.scale) * 1000 / u128::from(video.rate),
        )
        .unwrap_or(u64::MAX);
        out.push(Keyframe { at_ms, hash });
    }
    out.sort_by_key(|k| k.at_ms);
    out.dedup_by_key(|k| k.at_ms);
    Ok(out)
}

/// A Motion JPEG frame with the standard Huffman tables put in after its start when it
/// defines none before its scan (as decoders of such frames assume them).
fn with_huffman_tables(frame: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let mut at = 2;
    while let [0xFF, marker, hi, lo, ..] = *frame.get(at..).unwrap_or(&[]) {
        match marker {
            0xC4 => return frame.into(),
            0xDA => break,
            0xD8 | 0x01 | 0xD0..=0xD7 => at += 2,
            _ => at += 2 + usize::from(u16::from_be_bytes([hi, lo])),
        }
    }
    if !frame.starts_with(&[0xFF, 0xD8]) {
        return frame.into();
    }
    let len = (STANDARD_HUFFMAN_TABLES.len() + 2) as u16;
    let mut out = Vec::with_capacity(frame.len() + 4 + STANDARD_HUFFMAN_TABLES.len());
    out.extend_from_slice(&frame[..2]);
    out.extend_from_slice(&[0xFF, 0xC4]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&STANDARD_HUFFMAN_TABLES);
    out.extend_from_slice(&frame[2..]);
    out.into()
}

fn read<R: Read + Seek>(r: &mut R, at: u64, size: u32) -> Result<Vec<u8>, HashError> {
    let mut d = vec![0u8; size as usize];
    r.seek(SeekFrom::Start(at)).map_err(io_error)?;
    r.read_exact(&mut d).map_err(io_error)?;
    Ok(d)
}

fn le32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// A chunk's ID and size, at the start of `d`.
fn chunk(d: &[u8]) -> Option<([u8; 4], u32)> {
    Some((d.get(..4)?.try_into().ok()?, le32(d, 4)?))
}

/// The children of a list held in memory, as (ID, data), up to the first that runs
/// past it.
fn children(mut d: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let (id, size) = chunk(d)?;
        let end = 8usize.checked_add(size as usize)?;
        let data = d.get(8..end)?;
        d = d.get(end + (end & 1)..).unwrap_or(&[]);
        Some((id, data))
    })
}

/// The video stream and where the `movi` lists' chunks lie (start, end).
fn headers<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
) -> Result<(Video, Vec<(u64, u64)>), HashError> {
    let mut video: Result<Video, HashError> = Err(no_video_track());
    let mut seen_header = false;
    let mut movies = Vec::new();
    let mut riff = 0u64;
    // Each RIFF: the first (AVI ), then OpenDML extensions (AVIX).
    while riff + 12 <= file_len {
        let mut head = [0u8; 12];
        r.seek(SeekFrom::Start(riff)).map_err(io_error)?;
        r.read_exact(&mut head).map_err(io_error)?;
        if &head[..4] != b"RIFF" || !matches!(&head[8..12], b"AVI " | b"AVIX") {
            break;
        }
        // A recorder stopped by a power loss leaves the size at 0 or unwritten.
        let size = u64::from(le32(&head, 4).unwrap_or(0));
        let riff_end = match riff + 8 + size {
            end if size >= 4 && end <= file_len => end,
            _ => file_len,
        };
        let mut at = riff + 12;
        while at + 8 <= riff_end {
            let mut h = [0u8; 12];
            r.seek(SeekFrom::Start(at)).map_err(io_error)?;
            let got = r.read(&mut h).map_err(io_error)?;
            let Some((id, size)) = chunk(&h[..got]) else {
                break;
            };
            let data = at + 8;
            let end = data + u64::from(size);
            if &id == b"LIST" && got >= 12 {
                match &h[8..12] {
                    b"hdrl" if !seen_header && size <= MAX_HEADER_BYTES && end <= riff_end => {
                        seen_header = true;
                        let list = read(r, data + 4, size.saturating_sub(4))?;
                        video = video_stream(&list);
                    }
                    b"movi" => {
                        // Cut off (or its size never written): to the end of what is here.
                        let movi_end = if size >= 4 && end <= riff_end {
                            end
                        } else {
                            riff_end
                        };
                        movies.push((data + 4, movi_end));
                    }
                    _ => {}
                }
            }
            if end > riff_end {
                break;
            }
            at = end + (end & 1);
        }
        if riff_end >= file_len {
            break;
        }
        riff = riff_end + (riff_end & 1);
    }
    if !seen_header {
        return Err(corrupt("the AVI file has no stream headers (hdrl)".into()));
    }
    let video = video?;
    if movies.is_empty() {
        return Err(corrupt("the AVI file has no frames (no movi list)".into()));
    }
    Ok((video, movies))
}

/// The first video stream of a header list whose coding is decoded here.
fn video_stream(hdrl: &[u8]) -> Result<Video, HashError> {
    let mut unsupported: Option<String> = None;
    let mut number = 0u32;
    for (id, list) in children(hdrl) {
        if &id != b"LIST" || list.get(..4) != Some(b"strl") {
            continue;
        }
        let index = number;
        number += 1;
        let mut strh = None;
        let mut strf = None;
        for (id, d) in children(&list[4..]) {
            match &id {
                b"strh" => strh = Some(d),
                b"strf" => strf = Some(d),
                _ => {}
            }
        }
        let (Some(strh), Some(strf)) = (strh, strf) else {
            continue;
        };
        if strh.get(..4) != Some(b"vids") || index > 99 {
            continue;
        }
        let scale = u64::from(le32(strh, 20).unwrap_or(0));
        let rate = u64::from(le32(strh, 24).unwrap_or(0));
        // BITMAPINFOHEADER: its size, then the picture's; the coding at 16.
        let compression: [u8; 4] = strf
            .get(16..20)
            .and_then(|c| c.try_into().ok())
            .unwrap_or([0; 4]);
        let extra = strf.get(40..).map(<[u8]>::to_vec).unwrap_or_default();
        let mut tag = compression;
        tag.make_ascii_uppercase();
        let kind = match &tag {
            b"MJPG" | b"AVRN" | b"DMB1" | b"JPEG" | b"JPGL" => Kind::Mjpeg,
            b"H264" | b"X264" | b"AVC1" | b"DAVC" | b"VSSH" | b"AVC3" => {
                if extra.first() == Some(&1) {
                    Kind::Avcc
                } else {
                    Kind::AnnexB(Codec::H264)
                }
            }
            b"HEVC" | b"H265" | b"X265" | b"HVC1" | b"HEV1" => Kind::AnnexB(Codec::Hevc),
            _ => {
                let name = if compression == [0; 4] {
                    "no FourCC (0: uncompressed, or a coding its writer did not name)".to_owned()
                } else {
                    String::from_utf8_lossy(&compression)
                        .trim_end_matches('\0')
                        .to_owned()
                };
                unsupported.get_or_insert(name);
                continue;
            }
        };
        if scale == 0 || rate == 0 {
            return Err(corrupt(format!(
                "the video stream's rate ({rate}) or scale ({scale}) is zero: its frames have no times"
            )));
        }
        let digits = format!("{index:02}");
        return Ok(Video {
            number: [digits.as_bytes()[0], digits.as_bytes()[1]],
            kind,
            scale,
            rate,
            extra,
        });
    }
    Err(match unsupported {
        Some(name) => HashError::Unsupported {
            media_type: format!("AVI video coded as {name}"),
            why: "only Motion JPEG, H.264 and HEVC video keyframes are decoded in AVI",
        },
        None => no_video_track(),
    })
}

/// A keyframe of the video stream: its number in the stream (0-based) and where its
/// bytes lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Frame {
    number: u64,
    offset: u64,
    size: u32,
}

/// Walks the chunks of every `movi` list, calling `f` with each keyframe of the video
/// stream, in order.
fn walk<R: Read + Seek>(
    r: &mut R,
    video: &Video,
    movies: &[(u64, u64)],
    mut f: impl FnMut(Frame),
) -> Result<(), HashError> {
    let mut number = 0u64;
    let mut chunks = 0u64;
    let mut b = BufReader::with_capacity(8 * 1024, r);
    let mut look = Vec::new();
    for &(start, end) in movies {
        let mut at = start;
        b.seek(SeekFrom::Start(at)).map_err(io_error)?;
        let mut pos = at;
        while at + 8 <= end {
            chunks += 1;
            if chunks > MAX_CHUNKS {
                return Err(corrupt(format!(
                    "the AVI file has more than {MAX_CHUNKS} chunks"
                )));
            }
            if pos != at {
                let skip = i64::try_from(i128::from(at) - i128::from(pos))
                    .map_err(|_| corrupt("an AVI chunk is larger than any file".into()))?;
                b.seek_relative(skip).map_err(io_error)?;
            }
            let mut h = [0u8; 8];
            b.read_exact(&mut h).map_err(io_error)?;
            pos = at + 8;
            let (id, size) = chunk(&h).expect("8 bytes");
            if !id.iter().all(|c| c.is_ascii_alphanumeric() || *c == b' ') {
                // Not a chunk header: damage. What came before stands.
                break;
            }
            if &id == b"LIST" {
                // A `rec ` list groups chunks: walk into it.
                at += 12;
                continue;
            }
            let data = at + 8;
            let next = data + u64::from(size);
            if id[..2] == video.number && matches!(&id[2..], b"dc" | b"db") {
                if next > end {
                    // Cut off: this frame is not whole.
                    break;
                }
                if size > 0 {
                    let n = (size.min(LOOK_BYTES)) as usize;
                    look.resize(n, 0);
                    b.read_exact(&mut look).map_err(io_error)?;
                    pos = data + n as u64;
                    let mut key = is_keyframe(&video.kind, &look);
                    if key.is_none() && size > LOOK_BYTES {
                        let n = size.min(MAX_LOOK_BYTES) as usize;
                        let more = n - look.len();
                        let had = look.len();
                        look.resize(n, 0);
                        b.read_exact(&mut look[had..had + more]).map_err(io_error)?;
                        pos = data + n as u64;
                        key = is_keyframe(&video.kind, &look);
                    }
                    if key == Some(true) {
                        f(Frame {
                            number,
                            offset: data,
                            size,
                        });
                    }
                }
                number += 1;
            }
            at = next + (next & 1);
        }
    }
    Ok(())
}

/// Whether a frame (its first bytes) is one a decoder can start from; `None` when those
/// bytes do not tell.
fn is_keyframe(kind: &Kind, head: &[u8]) -> Option<bool> {
    match kind {
        Kind::Mjpeg => Some(head.starts_with(&[0xFF, 0xD8])),
        Kind::AnnexB(codec) => {
            annexb::keyframe_of(*codec, annexb::nal_units(head).map(|n| &head[n]))
        }
        Kind::Avcc => {
            // A 4-byte length before each NAL unit (ffmpeg's and most writers'); a
            // unit cut off by the bytes looked at is looked at as far as it goes.
            let mut at = 0usize;
            let nals = std::iter::from_fn(|| {
                let len = u32::from_be_bytes(head.get(at..at + 4)?.try_into().ok()?) as usize;
                let nal = head.get(at + 4..)?;
                let nal = &nal[..len.min(nal.len())];
                at = at.saturating_add(4 + len);
                (!nal.is_empty()).then_some(nal)
            });
            annexb::keyframe_of(Codec::H264, nals)
        }
    }
}
