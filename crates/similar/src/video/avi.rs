//! Keyframes of AVI videos: dashcams, CCTV exports and older cameras write them, Motion
//! JPEG (every frame a JPEG picture) or H.264; HEVC too from some recorders.
//!
//! The header list (`hdrl`) gives each stream's header `strh` (its type, scale, rate
//! and start) and format `strf` (the picture's coding and the decoder's extra data).
//! From the first `movi` list on, chunk headers are walked to the end of the file,
//! stepping into the lists and OpenDML extensions (`RIFF AVIX`, `LIST movi`, `LIST
//! rec `) that files over 1 GB and some recorders write, whatever sizes those declare
//! (a recorder stopped by a power loss leaves them at 0, or wrong). Each chunk of the
//! first video stream decoded here (`00dc`, `00db`, ...) is one frame, shown at its
//! number plus the stream's start, times its scale over its rate. The index (`idx1`,
//! or OpenDML's) is not needed: a recording with none is read as far as it goes. A
//! header that is not one (damage, or unwritten space) ends the walk, keeping the
//! keyframes before it: frames after it could not be numbered, so their times could
//! not be trusted. An odd-sized chunk written without its padding byte is allowed for.
//!
//! A frame is a keyframe when a decoder can start from it: any Motion JPEG frame; an
//! H.264 IDR picture (or an intra picture after a recovery point); an HEVC intra random
//! access point, judged from the first bytes of the frame ([`annexb`](super::annexb)).
//! A stream whose FourCC is not known here (or is 0, as ffmpeg writes HEVC) is judged by
//! its first frame: a JPEG, or an H.264 or HEVC stream starting with its parameter
//! sets. As for the other containers, the file is walked twice (count, then take the
//! chosen ones), nothing kept per frame; a chosen keyframe that cannot be decoded is
//! left out, and the video fails only when none decodes (a recording cut by a power
//! loss is what this format often holds).

use std::io::{BufReader, Read, Seek, SeekFrom};

use super::{
    Codec, Coding, Keyframe, MAX_FRAME_BYTES, MAX_KEYFRAMES, Stream, annexb, avc_config, corrupt,
    decode, decode_stream, hevc_config, io_error, keep_hashed, no_video_track, phash, ranks,
};
use crate::HashError;

/// Largest `hdrl` list read whole (stream headers and formats: a few KB).
const MAX_HEADER_BYTES: u32 = 1024 * 1024;
/// Most chunks of the first RIFF looked at before its `movi` list.
const MAX_HEADER_CHUNKS: u32 = 10_000;
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

/// Whether the file starts as an AVI (a RIFF file of form `AVI `, or `AVI\x19`, which
/// some writers use).
pub(super) fn is_avi(head: &[u8]) -> bool {
    head.len() >= 12 && &head[..4] == b"RIFF" && matches!(&head[8..12], b"AVI " | b"AVI\x19")
}

/// How a stream's frames are coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Mjpeg,
    /// H.264 or HEVC with start codes (Annex B), parameter sets in the stream or in the
    /// extra data.
    AnnexB(Codec),
    /// H.264 or HEVC with a length before each NAL unit, the `avcC`/`hvcC` record in the
    /// extra data.
    Prefixed(Codec),
}

/// The video stream: its two-digit number (as chunk IDs write it), coding (`None`: to
/// be judged from its first frame), FourCC, start, rate and scale, and the decoder's
/// extra data from its format.
struct Video {
    number: [u8; 2],
    kind: Option<Kind>,
    fourcc: String,
    start: u64,
    scale: u64,
    rate: u64,
    extra: Vec<u8>,
}

impl Video {
    fn coding(&self, codec: Codec) -> Result<Coding<'_>, HashError> {
        let record = match codec {
            Codec::Hevc => hevc_config(&self.extra),
            _ => avc_config(&self.extra),
        };
        let (params, length_size) = record
            .ok_or_else(|| corrupt("the decoder configuration (avcC/hvcC) is cut off".into()))?;
        Ok(Coding {
            codec,
            params,
            length_size,
        })
    }
}

pub(super) fn hash_keyframes<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
) -> Result<Vec<Keyframe>, HashError> {
    let (mut video, movi) = headers(r, file_len)?;
    if video.kind.is_none() {
        video.kind = judge_first_frame(r, &video, movi, file_len)?;
    }
    let Some(kind) = video.kind else {
        return Err(HashError::Unsupported {
            media_type: format!("AVI video coded as {}", video.fourcc),
            why: "only Motion JPEG, H.264, HEVC, MPEG-4 Part 2, MPEG-2 and MPEG-1 video keyframes are decoded in AVI",
        });
    };
    let length_size = match kind {
        Kind::Prefixed(codec) => video.coding(codec)?.length_size,
        _ => 4,
    };
    let mut shown = 0u64;
    walk(r, (&video, length_size), movi, file_len, |frame| {
        if is_keyframe(kind, length_size, frame.head) == Some(true) {
            shown += 1;
        }
        true
    })?;
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
    walk(r, (&video, length_size), movi, file_len, |frame| {
        if is_keyframe(kind, length_size, frame.head) == Some(true) {
            if wanted.binary_search(&rank).is_ok() {
                chosen.push((frame.number, frame.offset, frame.size));
            }
            rank += 1;
        }
        true
    })?;
    // Parameter sets from the extra data; a keyframe's own come first.
    let mut params: Vec<(u8, Vec<u8>)> = Vec::new();
    if let Kind::AnnexB(codec) = kind {
        for (t, n) in annexb::leading_parameters(codec, &video.extra) {
            params.push((t, video.extra[n].to_vec()));
        }
    }
    let mut results = Vec::with_capacity(chosen.len());
    for (number, offset, size) in chosen {
        results.push(
            hash_frame(r, &video, kind, &mut params, number, offset, size).map(|grid| {
                let shown_at = u128::from(video.start + number) * u128::from(video.scale) * 1000
                    / u128::from(video.rate);
                Keyframe::of(u64::try_from(shown_at).unwrap_or(u64::MAX), &grid)
            }),
        );
    }
    keep_hashed(results)
}

/// Reads and decodes one keyframe, to its grid in display orientation.
fn hash_frame<R: Read + Seek>(
    r: &mut R,
    video: &Video,
    kind: Kind,
    params: &mut Vec<(u8, Vec<u8>)>,
    number: u64,
    offset: u64,
    size: u32,
) -> Result<phash::Grid, HashError> {
    if u64::from(size) > MAX_FRAME_BYTES {
        return Err(corrupt(format!(
            "frame {} is {size} bytes, more than {MAX_FRAME_BYTES}",
            number + 1
        )));
    }
    let data = read(r, offset, size)?;
    Ok(match kind {
        Kind::Mjpeg => crate::grid_of(&with_huffman_tables(&data), "image/jpeg")?,
        Kind::AnnexB(codec) => {
            let own = annexb::leading_parameters(codec, &data);
            let mut stream = Stream {
                bytes: Vec::with_capacity(data.len() + 256),
                nals: Vec::new(),
            };
            for (t, p) in params.iter() {
                if !own.iter().any(|(o, _)| o == t) {
                    stream.put(p);
                }
            }
            for n in annexb::first_picture(codec, &data)? {
                stream.put(&data[n]);
            }
            for (t, n) in own {
                let nal = data[n].to_vec();
                match params.iter_mut().find(|(o, _)| *o == t) {
                    Some(slot) => slot.1 = nal,
                    None => params.push((t, nal)),
                }
            }
            decode_stream(codec, &stream)?
        }
        Kind::Prefixed(codec) => {
            let coding = video.coding(codec)?;
            decode(&coding, &data)?
        }
    })
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

/// The video stream, and where the first `movi` list's chunks start.
fn headers<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<(Video, u64), HashError> {
    let mut video: Option<Result<Video, HashError>> = None;
    let mut at = 12u64;
    for _ in 0..MAX_HEADER_CHUNKS {
        if at + 12 > file_len {
            break;
        }
        let mut h = [0u8; 12];
        r.seek(SeekFrom::Start(at)).map_err(io_error)?;
        r.read_exact(&mut h).map_err(io_error)?;
        let (id, size) = chunk(&h).expect("12 bytes");
        let data = at + 8;
        if &id == b"LIST" {
            match &h[8..12] {
                b"movi" => {
                    let video = video.ok_or_else(|| {
                        corrupt(
                            "the AVI file has no stream headers (hdrl) before its frames".into(),
                        )
                    })??;
                    return Ok((video, data + 4));
                }
                b"hdrl" if video.is_none() => {
                    if size > MAX_HEADER_BYTES {
                        return Err(corrupt(format!(
                            "the AVI stream headers (hdrl) take {size} bytes, more than \
                             {MAX_HEADER_BYTES}"
                        )));
                    }
                    let list = read(r, data + 4, size.saturating_sub(4))?;
                    video = Some(video_stream(&list));
                }
                _ => {}
            }
        }
        let end = data + u64::from(size);
        at = end + (end & 1);
    }
    Err(match video {
        None => corrupt("the AVI file has no stream headers (hdrl)".into()),
        Some(Err(e)) => e,
        Some(Ok(_)) => corrupt("the AVI file has no frames (no movi list)".into()),
    })
}

/// The first video stream of a header list whose coding is decoded here or not known
/// (to be judged from its first frame).
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
        let start = u64::from(le32(strh, 28).unwrap_or(0));
        // BITMAPINFOHEADER: its size, then the picture's; the coding at 16.
        let compression: [u8; 4] = strf
            .get(16..20)
            .and_then(|c| c.try_into().ok())
            .unwrap_or([0; 4]);
        let extra = strf.get(40..).map(<[u8]>::to_vec).unwrap_or_default();
        let mut tag = compression;
        tag.make_ascii_uppercase();
        let fourcc = if compression == [0; 4] {
            "no FourCC (0)".to_owned()
        } else {
            String::from_utf8_lossy(&compression)
                .trim_end_matches('\0')
                .to_owned()
        };
        let record = extra.first() == Some(&1);
        let kind = match &tag {
            _ if let Some(codec) = mpeg_fourcc(&tag) => Some(Kind::AnnexB(codec)),
            // Motion JPEG under the names cameras and capture cards give it.
            b"MJPG" | b"AVRN" | b"DMB1" | b"JPEG" | b"JPGL" | b"MJPA" | b"ACDV" | b"QIVG"
            | b"SLMJ" | b"CJPG" | b"IJPG" | b"AVDJ" | b"MMJP" => Some(Kind::Mjpeg),
            // H.264, as encoders and surveillance systems name it.
            b"H264" | b"X264" | b"AVC1" | b"DAVC" | b"VSSH" | b"AVC3" | b"V264" | b"Q264"
            | b"GAVC" | b"UMSV" | b"TSHD" | b"INMC" | b"SMV2" => Some(if record {
                Kind::Prefixed(Codec::H264)
            } else {
                Kind::AnnexB(Codec::H264)
            }),
            b"HEVC" | b"H265" | b"X265" | b"HVC1" | b"HEV1" => Some(if record {
                Kind::Prefixed(Codec::Hevc)
            } else {
                Kind::AnnexB(Codec::Hevc)
            }),
            // Known codings not decoded here: named now.
            b"MP42" | b"MP43" | b"DIV3" | b"WMV1" | b"WMV2" | b"WMV3" | b"WVC1" | b"CVID"
            | b"IV50" | b"DVSD" | b"MJ2C" => {
                unsupported.get_or_insert(fourcc);
                continue;
            }
            _ => None,
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
            fourcc,
            start,
            scale,
            rate,
            extra,
        });
    }
    Err(match unsupported {
        Some(name) => HashError::Unsupported {
            media_type: format!("AVI video coded as {name}"),
            why: "only Motion JPEG, H.264, HEVC, MPEG-4 Part 2, MPEG-2 and MPEG-1 video keyframes are decoded in AVI",
        },
        None => no_video_track(),
    })
}

/// The MPEG video an AVI stream's FourCC (upper case) names: MPEG-4 Part 2 as Xvid,
/// DivX, ffmpeg and cameras name it, MPEG-2 and MPEG-1 as capture cards and converters
/// do.
pub(super) fn mpeg_fourcc(tag: &[u8; 4]) -> Option<Codec> {
    match tag {
        b"XVID" | b"DIVX" | b"DX50" | b"FMP4" | b"MP4V" | b"M4S2" | b"3IV2" | b"RMP4" | b"SEDG"
        | b"WV1F" | b"BLZ0" | b"UMP4" | b"SMP4" | b"PVMM" | b"M4CC" | b"MP4S" => Some(Codec::Mpeg4),
        b"MPG2" | b"MPEG" | b"MMES" | b"M701" | b"PIM2" | b"EM2V" | b"LMP2" => Some(Codec::Mpeg2),
        b"MPG1" | b"PIM1" => Some(Codec::Mpeg1),
        _ => None,
    }
}

/// A frame of the video stream met by a walk: its number in the stream (0-based),
/// where its bytes lie, and its first bytes.
struct Seen<'a> {
    number: u64,
    offset: u64,
    size: u32,
    head: &'a [u8],
}

/// Walks the chunks from the first `movi` list's to the end of the file, calling `f`
/// with each non-empty frame of the video stream, in order, until it returns `false`.
fn walk<R: Read + Seek>(
    r: &mut R,
    (video, length_size): (&Video, usize),
    movi: u64,
    file_len: u64,
    mut f: impl FnMut(Seen<'_>) -> bool,
) -> Result<(), HashError> {
    let mut number = 0u64;
    let mut b = BufReader::with_capacity(8 * 1024, r);
    b.seek(SeekFrom::Start(movi)).map_err(io_error)?;
    let mut pos = movi;
    let mut at = movi;
    let mut look = Vec::new();
    // Where the last chunk would have ended without its padding byte.
    let mut unpadded: Option<u64> = None;
    while at + 8 <= file_len {
        if pos != at {
            let skip = i64::try_from(i128::from(at) - i128::from(pos))
                .map_err(|_| corrupt("an AVI chunk is larger than any file".into()))?;
            b.seek_relative(skip).map_err(io_error)?;
        }
        let mut h = [0u8; 8];
        b.read_exact(&mut h).map_err(io_error)?;
        pos = at + 8;
        let (id, size) = chunk(&h).expect("8 bytes");
        if let Some(u) = unpadded.take() {
            // After an odd-sized chunk: its padding byte, or (some writers) none.
            if !known(&id) {
                let mut other = [0u8; 4];
                b.seek_relative(-9).map_err(io_error)?;
                b.read_exact(&mut other).map_err(io_error)?;
                pos = u + 4;
                if known(&other) {
                    at = u;
                    continue;
                }
                // Neither: back to where this header ended.
                b.seek_relative(5).map_err(io_error)?;
                pos = at + 8;
            }
        }
        if !id.iter().all(|c| c.is_ascii_alphanumeric() || *c == b' ') {
            // Not a chunk header: damage, or unwritten space. What came before stands.
            break;
        }
        if matches!(&id, b"LIST" | b"RIFF") {
            // Lists and OpenDML extensions: walk into them, whatever size they declare.
            at += 12;
            continue;
        }
        let data = at + 8;
        let next = data + u64::from(size);
        if id[..2] == video.number && matches!(&id[2..], b"dc" | b"db") {
            if next > file_len {
                // Cut off: this frame is not whole.
                break;
            }
            if size > 0 {
                let n = size.min(LOOK_BYTES) as usize;
                look.resize(n, 0);
                b.read_exact(&mut look).map_err(io_error)?;
                pos = data + n as u64;
                if size > LOOK_BYTES
                    && video
                        .kind
                        .is_some_and(|k| is_keyframe(k, length_size, &look).is_none())
                {
                    let n = size.min(MAX_LOOK_BYTES) as usize;
                    let had = look.len();
                    look.resize(n, 0);
                    b.read_exact(&mut look[had..]).map_err(io_error)?;
                    pos = data + n as u64;
                }
                let go_on = f(Seen {
                    number,
                    offset: data,
                    size,
                    head: &look,
                });
                if !go_on {
                    return Ok(());
                }
            }
            number += 1;
        }
        // Chunks are padded to an even size; some writers leave the padding out.
        at = next + u64::from(size & 1);
        if size & 1 == 1 {
            unpadded = Some(next);
        }
    }
    Ok(())
}

/// Whether a chunk ID is one an AVI's frames and indexes use: a stream's data (two
/// digits, then `dc`, `db`, `wb`, `tx` or `pc`), an index (`ix##`, `idx1`), a list,
/// an extension or padding.
fn known(id: &[u8; 4]) -> bool {
    let stream = id[0].is_ascii_hexdigit()
        && id[1].is_ascii_hexdigit()
        && matches!(&id[2..], b"dc" | b"db" | b"wb" | b"tx" | b"pc");
    stream
        || (&id[..2] == b"ix" && id[2].is_ascii_hexdigit() && id[3].is_ascii_hexdigit())
        || matches!(id, b"LIST" | b"RIFF" | b"JUNK" | b"idx1" | b"indx")
}

/// The coding of a stream whose FourCC says nothing known, from its first frame: a
/// JPEG picture, or H.264 or HEVC starting with a parameter set or a delimiter.
fn judge_first_frame<R: Read + Seek>(
    r: &mut R,
    video: &Video,
    movi: u64,
    file_len: u64,
) -> Result<Option<Kind>, HashError> {
    let mut kind = None;
    walk(r, (video, 4), movi, file_len, |frame| {
        let h = frame.head;
        let nal = annexb::nal_units(h).next().map(|n| h[n.start]);
        kind = if h.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Kind::Mjpeg)
        } else {
            match nal {
                Some(b) if b & 0x80 == 0 && matches!(b & 0x1F, 7 | 9) && h.starts_with(&[0, 0]) => {
                    Some(Kind::AnnexB(Codec::H264))
                }
                Some(b)
                    if b & 0x81 == 0
                        && matches!((b >> 1) & 0x3F, 32 | 35)
                        && h.starts_with(&[0, 0]) =>
                {
                    Some(Kind::AnnexB(Codec::Hevc))
                }
                _ => None,
            }
        };
        false
    })?;
    Ok(kind)
}

/// Whether a frame (its first bytes) is one a decoder can start from; `None` when those
/// bytes do not tell.
fn is_keyframe(kind: Kind, length_size: usize, head: &[u8]) -> Option<bool> {
    match kind {
        Kind::Mjpeg => Some(head.starts_with(&[0xFF, 0xD8])),
        Kind::AnnexB(codec) => {
            annexb::keyframe_of(codec, annexb::nal_units(head).map(|n| &head[n]))
        }
        Kind::Prefixed(codec) => {
            // A length before each NAL unit; a unit cut off by the bytes looked at is
            // looked at as far as it goes.
            let mut at = 0usize;
            let nals = std::iter::from_fn(|| {
                let len = head
                    .get(at..at + length_size)?
                    .iter()
                    .fold(0usize, |v, &b| (v << 8) | usize::from(b));
                let nal = head.get(at + length_size..)?;
                let nal = &nal[..len.min(nal.len())];
                at = at.saturating_add(length_size + len);
                (!nal.is_empty()).then_some(nal)
            });
            annexb::keyframe_of(codec, nals)
        }
    }
}
