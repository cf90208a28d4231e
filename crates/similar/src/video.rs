//! Keyframes of videos: a few pictures of an MP4/MOV video's track, each hashed as a
//! photograph is, so that a still taken from a video, or another copy of the video,
//! is found.
//!
//! Only the container's index (`moov`) and the chosen frames are read, never the whole
//! file. The video track's sync samples (`stss`; every sample when there is none) are
//! the keyframes; up to [`MAX_KEYFRAMES`] of them, spread evenly over the list, are
//! decoded on their own (an intra picture needs no other) by pure-Rust decoders:
//! `rusty_h264-decoder` for H.264 (`avc1`, `avc3`) and `rusty_h265` for HEVC (`hvc1`,
//! `hev1`), both built without their optional SIMD code. The picture is turned as the
//! track's matrix says it is shown (a phone's portrait video is stored sideways).
//!
//! Every count and offset read from the file is checked against what the file holds
//! before it is used; the index is read only up to [`MAX_INDEX_BYTES`], a frame only
//! up to [`MAX_FRAME_BYTES`], and a picture larger than [`MAX_FRAME_PIXELS`] is refused
//! before it is decoded.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::{HashError, PHash, phash};

/// At most this many keyframes are hashed per video, spread over its length.
pub const MAX_KEYFRAMES: usize = 5;

/// Largest `moov` box read (the index of every sample of every track).
const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

/// Largest coded frame read.
const MAX_FRAME_BYTES: u64 = 64 * 1024 * 1024;

/// Largest picture decoded: 2^26 pixels (8K UHD is about 2^25).
const MAX_FRAME_PIXELS: u64 = 1 << 26;

/// Most frames a track may list (about six days at 30 frames a second): as many as a
/// `stsz` table in the largest index read can size.
const MAX_SAMPLES: u32 = (MAX_INDEX_BYTES / 4) as u32;

/// Most edits an edit list may hold (real files have one to a few).
const MAX_EDITS: usize = 256;

/// Most top-level boxes walked looking for the index (real files have a handful).
const MAX_TOP_BOXES: u32 = 100_000;

/// One hashed keyframe: when it is shown (milliseconds from the start of the video, as a
/// player counts them: the track's first edit applied) and its perceptual hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keyframe {
    pub at_ms: u64,
    pub hash: PHash,
}

/// Whether a media type names a video whose keyframes [`hash_keyframes_path`] hashes.
pub fn has_keyframes(media_type: &str) -> bool {
    matches!(
        media_type.to_ascii_lowercase().as_str(),
        "video/mp4" | "video/quicktime" | "video/x-m4v" | "video/3gpp"
    )
}

/// Hashes up to [`MAX_KEYFRAMES`] keyframes of the video file at `path`, in the order
/// they are shown.
pub fn hash_keyframes_path(path: &Path) -> Result<Vec<Keyframe>, HashError> {
    let io = |source| HashError::Io {
        path: Some(path.to_owned()),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    hash_keyframes(&mut file).map_err(|e| match e {
        HashError::Io { path: None, source } => io(source),
        other => other,
    })
}

/// [`hash_keyframes_path`] over any seekable reader.
pub fn hash_keyframes<R: Read + Seek>(r: &mut R) -> Result<Vec<Keyframe>, HashError> {
    let (moov, file_len) = read_moov(r)?;
    let track = video_track(&moov, file_len)?;
    let chosen = track.choose(MAX_KEYFRAMES)?;
    let mut out: Vec<Keyframe> = Vec::with_capacity(chosen.len());
    for (sample, at_ms) in chosen {
        let (offset, size) = track.sample_place(sample)?;
        if u64::from(size) > MAX_FRAME_BYTES {
            return Err(corrupt(format!(
                "frame {} is {size} bytes, more than {MAX_FRAME_BYTES}",
                sample + 1
            )));
        }
        let mut data = vec![0u8; size as usize];
        r.seek(SeekFrom::Start(offset)).map_err(io_error)?;
        r.read_exact(&mut data).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                corrupt(format!(
                    "frame {} lies past the end of the file",
                    sample + 1
                ))
            } else {
                io_error(e)
            }
        })?;
        let grid = phash::orient(&decode(&track, &data)?, track.orientation);
        out.push(Keyframe {
            at_ms,
            hash: PHash(phash::bits(&grid, phash::Variant::ZigzagAc)),
        });
    }
    Ok(out)
}

fn corrupt(detail: String) -> HashError {
    HashError::Decode {
        format: "video",
        detail,
    }
}

fn io_error(source: std::io::Error) -> HashError {
    HashError::Io { path: None, source }
}

/// `count` ranks spread evenly over `0..n` (all of them when there are fewer), first and
/// last included, ascending.
fn ranks(n: u64, count: usize) -> Vec<u64> {
    let count = count as u64;
    if n <= count {
        return (0..n).collect();
    }
    let mut out: Vec<u64> = (0..count)
        .map(|i| (i * (n - 1) + (count - 1) / 2) / (count - 1))
        .collect();
    out.dedup();
    out
}

// ---------------------------------------------------------------------------------------
// The container.

/// A box: its type and its payload (after the header).
struct Bx<'a> {
    kind: [u8; 4],
    body: &'a [u8],
}

/// The boxes laid end to end in `data`; stops at the first malformed header.
fn boxes(mut data: &[u8]) -> impl Iterator<Item = Bx<'_>> {
    std::iter::from_fn(move || {
        if data.len() < 8 {
            return None;
        }
        let size32 = u32::from_be_bytes(data[..4].try_into().ok()?) as u64;
        let kind: [u8; 4] = data[4..8].try_into().ok()?;
        let (header, size) = match size32 {
            0 => (8, data.len() as u64),
            1 => {
                let big = u64::from_be_bytes(data.get(8..16)?.try_into().ok()?);
                (16, big)
            }
            s => (8, s),
        };
        if size < header as u64 || size > data.len() as u64 {
            data = &[];
            return None;
        }
        let body = &data[header..size as usize];
        data = &data[size as usize..];
        Some(Bx { kind, body })
    })
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data).find(|b| &b.kind == kind).map(|b| b.body)
}

fn path<'a>(data: &'a [u8], kinds: &[&[u8; 4]]) -> Option<&'a [u8]> {
    kinds.iter().try_fold(data, |d, k| child(d, k))
}

/// Reads the `moov` box from the top level of the file, wherever it is.
fn read_moov<R: Read + Seek>(r: &mut R) -> Result<(Vec<u8>, u64), HashError> {
    let len = r.seek(SeekFrom::End(0)).map_err(io_error)?;
    let mut at = 0u64;
    let mut walked = 0u32;
    while at + 8 <= len {
        walked += 1;
        if walked > MAX_TOP_BOXES {
            return Err(corrupt(format!(
                "more than {MAX_TOP_BOXES} boxes before the index (moov)"
            )));
        }
        r.seek(SeekFrom::Start(at)).map_err(io_error)?;
        let mut h = [0u8; 16];
        let got = (len - at).min(16) as usize;
        r.read_exact(&mut h[..got]).map_err(io_error)?;
        let size32 = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
        let (header, size) = match size32 {
            0 => (8, len - at),
            1 if got == 16 => (16, u64::from_be_bytes(h[8..16].try_into().expect("8"))),
            1 => return Err(corrupt("a box header is cut off".into())),
            s => (8, s),
        };
        if size < header || size > len - at {
            return Err(corrupt(format!(
                "a box at byte {at} claims {size} bytes, more than the file holds"
            )));
        }
        if &h[4..8] == b"moov" {
            let body = size - header;
            if body > MAX_INDEX_BYTES {
                return Err(corrupt(format!(
                    "the index (moov) is {body} bytes, more than {MAX_INDEX_BYTES}"
                )));
            }
            let mut moov = vec![0u8; body as usize];
            r.seek(SeekFrom::Start(at + header)).map_err(io_error)?;
            r.read_exact(&mut moov).map_err(io_error)?;
            return Ok((moov, len));
        }
        at += size;
    }
    Err(corrupt(
        "no index (moov box): the file is not a complete MP4/MOV video".into(),
    ))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Codec {
    H264,
    Hevc,
}

/// What the keyframes of one video track need.
struct Track<'a> {
    codec: Codec,
    /// Parameter sets, each a NAL unit without a start code.
    params: Vec<&'a [u8]>,
    /// Bytes of each NAL unit's length prefix in a sample.
    length_size: usize,
    /// EXIF-style orientation of the track matrix.
    orientation: u8,
    timescale: u32,
    /// Sync samples, 0-based and ascending; `None`: every sample is one.
    sync: Option<Vec<u32>>,
    sample_count: u32,
    /// `stsz`: one size for all, or each sample's.
    fixed_size: u32,
    sizes: &'a [u8],
    /// `stsc` entries (first chunk, samples per chunk, sample description), 1-based.
    stsc: Vec<(u32, u32, u32)>,
    /// Chunk offsets.
    chunks: Vec<u64>,
    /// `stts` (count, delta) and `ctts` (count, offset) runs.
    stts: Vec<(u32, u32)>,
    ctts: Vec<(u32, i64)>,
    /// The edit list: which stretches of the media are shown, and when. `None`: all of
    /// it, from its start.
    edits: Option<Vec<Edit>>,
}

/// One edit of a track: the media from `media_time` for `media_duration` (track time
/// scale) is shown from `shown_at_ms` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Edit {
    shown_at_ms: u64,
    media_time: u64,
    media_duration: u64,
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

/// The entries of a full box's table: `count` entries of `width` bytes after the
/// version, flags and count (and `skip` more bytes), refused when the box is shorter.
fn table<'a>(
    body: &'a [u8],
    skip: usize,
    width: usize,
    what: &str,
) -> Result<(u32, &'a [u8]), HashError> {
    let count = be32(body, 4 + skip).ok_or_else(|| corrupt(format!("{what} is cut off")))?;
    let start = 8 + skip;
    let need = (count as u64) * width as u64;
    if need > body.len().saturating_sub(start) as u64 {
        return Err(corrupt(format!(
            "{what} lists {count} entries, more than its box holds"
        )));
    }
    Ok((count, &body[start..start + need as usize]))
}

/// The first video track with a codec decoded here.
fn video_track(moov: &[u8], file_len: u64) -> Result<Track<'_>, HashError> {
    if child(moov, b"mvex").is_some() {
        return Err(HashError::Unsupported {
            media_type: "fragmented MP4".into(),
            why: "its frames lie in movie fragments (moof), which are not read",
        });
    }
    let mut seen = None;
    for trak in boxes(moov).filter(|b| &b.kind == b"trak") {
        let Some(mdia) = child(trak.body, b"mdia") else {
            continue;
        };
        let is_video = child(mdia, b"hdlr").and_then(|h| h.get(8..12)) == Some(b"vide");
        if !is_video {
            continue;
        }
        let Some(stbl) = path(mdia, &[b"minf", b"stbl"]) else {
            continue;
        };
        let entry = child(stbl, b"stsd")
            .and_then(|s| s.get(8..))
            .and_then(|e| boxes(e).next());
        let Some(entry) = entry else { continue };
        let codec = match &entry.kind {
            b"avc1" | b"avc3" => Codec::H264,
            b"hvc1" | b"hev1" => Codec::Hevc,
            other => {
                seen = Some(String::from_utf8_lossy(other).into_owned());
                continue;
            }
        };
        return track(moov, trak.body, mdia, stbl, codec, entry.body, file_len);
    }
    Err(match seen {
        Some(codec) => HashError::Unsupported {
            media_type: format!("video coded as {codec:?}"),
            why: "only H.264 and HEVC video keyframes are decoded",
        },
        None => corrupt("no video track".into()),
    })
}

fn track<'a>(
    moov: &'a [u8],
    trak: &'a [u8],
    mdia: &'a [u8],
    stbl: &'a [u8],
    codec: Codec,
    entry: &'a [u8],
    file_len: u64,
) -> Result<Track<'a>, HashError> {
    let missing = |what: &str| corrupt(format!("the video track has no {what}"));
    // A visual sample entry: 78 bytes of fields, then its boxes.
    let config_kind = if codec == Codec::H264 {
        b"avcC"
    } else {
        b"hvcC"
    };
    let config = entry
        .get(78..)
        .and_then(|b| child(b, config_kind))
        .ok_or_else(|| missing("decoder configuration (avcC/hvcC)"))?;
    let (params, length_size) = match codec {
        Codec::H264 => avc_config(config),
        Codec::Hevc => hevc_config(config),
    }
    .ok_or_else(|| corrupt("the decoder configuration is cut off".into()))?;

    let mdhd = child(mdia, b"mdhd").ok_or_else(|| missing("media header (mdhd)"))?;
    let timescale = if mdhd.first() == Some(&1) {
        be32(mdhd, 20)
    } else {
        be32(mdhd, 12)
    }
    .filter(|&t| t > 0)
    .ok_or_else(|| corrupt("the media header gives no time scale".into()))?;

    let stsz = child(stbl, b"stsz").ok_or_else(|| missing("sample sizes (stsz)"))?;
    let fixed_size = be32(stsz, 4).ok_or_else(|| missing("sample sizes (stsz)"))?;
    let (sample_count, sizes) = if fixed_size == 0 {
        table(stsz, 4, 4, "the sample size table")?
    } else {
        let n = be32(stsz, 8).ok_or_else(|| missing("sample count"))?;
        (n, &stsz[..0])
    };
    if sample_count == 0 {
        return Err(corrupt("the video track has no frames".into()));
    }
    if sample_count > MAX_SAMPLES {
        return Err(corrupt(format!(
            "the video track lists {sample_count} frames, more than {MAX_SAMPLES}"
        )));
    }
    if u64::from(sample_count) * u64::from(fixed_size) > file_len {
        return Err(corrupt(format!(
            "the video track lists {sample_count} frames of {fixed_size} bytes, more than the file holds"
        )));
    }

    let (_, raw) = table(
        child(stbl, b"stsc").ok_or_else(|| missing("sample-to-chunk table (stsc)"))?,
        0,
        12,
        "the sample-to-chunk table",
    )?;
    let stsc: Vec<(u32, u32, u32)> = raw
        .chunks_exact(12)
        .map(|e| {
            (
                be32(e, 0).unwrap_or(0),
                be32(e, 4).unwrap_or(0),
                be32(e, 8).unwrap_or(0),
            )
        })
        .collect();

    let chunks: Vec<u64> = if let Some(stco) = child(stbl, b"stco") {
        let (_, raw) = table(stco, 0, 4, "the chunk offset table")?;
        raw.chunks_exact(4)
            .map(|e| u64::from(be32(e, 0).unwrap_or(0)))
            .collect()
    } else if let Some(co64) = child(stbl, b"co64") {
        let (_, raw) = table(co64, 0, 8, "the chunk offset table")?;
        raw.chunks_exact(8)
            .map(|e| u64::from_be_bytes(e.try_into().expect("8")))
            .collect()
    } else {
        return Err(missing("chunk offsets (stco/co64)"));
    };

    let (_, raw) = table(
        child(stbl, b"stts").ok_or_else(|| missing("decoding times (stts)"))?,
        0,
        8,
        "the decoding time table",
    )?;
    let stts = raw
        .chunks_exact(8)
        .map(|e| (be32(e, 0).unwrap_or(0), be32(e, 4).unwrap_or(0)))
        .collect();
    let ctts = match child(stbl, b"ctts") {
        Some(c) => {
            // Read as signed in both versions, as players do (version 0 offsets are
            // unsigned by the letter of the standard, but never that large).
            let (_, raw) = table(c, 0, 8, "the composition offset table")?;
            raw.chunks_exact(8)
                .map(|e| {
                    let off = i64::from(be32(e, 4).unwrap_or(0) as i32);
                    (be32(e, 0).unwrap_or(0), off)
                })
                .collect()
        }
        None => Vec::new(),
    };

    let sync = match child(stbl, b"stss") {
        Some(stss) => {
            let (_, raw) = table(stss, 0, 4, "the keyframe table")?;
            let mut s: Vec<u32> = raw
                .chunks_exact(4)
                .filter_map(|e| be32(e, 0))
                .filter(|&n| n >= 1 && n <= sample_count)
                .map(|n| n - 1)
                .collect();
            s.sort_unstable();
            s.dedup();
            if s.is_empty() {
                return Err(corrupt(
                    "the keyframe table names no frame of the track".into(),
                ));
            }
            Some(s)
        }
        None => None,
    };

    Ok(Track {
        edits: edits(moov, trak, timescale)?,
        codec,
        params,
        length_size,
        orientation: child(trak, b"tkhd").map_or(1, orientation),
        timescale,
        sync,
        sample_count,
        fixed_size,
        sizes,
        stsc,
        chunks,
        stts,
        ctts,
    })
}

/// A track's edit list (`edts/elst`), as stretches of media and when each is shown;
/// `None` without one (all the media is shown, from its start). Empty edits delay what
/// follows; a dwell (rate 0) or a changed speed shows no keyframe of its own.
fn edits(moov: &[u8], trak: &[u8], timescale: u32) -> Result<Option<Vec<Edit>>, HashError> {
    let Some(elst) = path(trak, &[b"edts", b"elst"]) else {
        return Ok(None);
    };
    let movie_scale = child(moov, b"mvhd")
        .and_then(|m| {
            if m.first() == Some(&1) {
                be32(m, 20)
            } else {
                be32(m, 12)
            }
        })
        .filter(|&t| t > 0)
        .ok_or_else(|| corrupt("the movie header gives no time scale".into()))?;
    let wide = elst.first() == Some(&1);
    let width = if wide { 20 } else { 12 };
    let (count, raw) = table(elst, 0, width, "the edit list")?;
    if count as usize > MAX_EDITS {
        return Err(corrupt(format!(
            "the edit list holds {count} edits, more than {MAX_EDITS}"
        )));
    }
    let scale = |v: u64, from: u32, to: u64| {
        (u128::from(v) * u128::from(to) / u128::from(from)).min(u128::from(u64::MAX)) as u64
    };
    let mut shown_at = 0u64; // movie time scale
    let mut out = Vec::new();
    for e in raw.chunks_exact(width) {
        let (duration, media_time, rate) = if wide {
            (
                u64::from_be_bytes(e[0..8].try_into().expect("8")),
                i64::from_be_bytes(e[8..16].try_into().expect("8")),
                be32(e, 16).unwrap_or(0),
            )
        } else {
            (
                u64::from(be32(e, 0).unwrap_or(0)),
                i64::from(be32(e, 4).unwrap_or(0) as i32),
                be32(e, 8).unwrap_or(0),
            )
        };
        // A duration of 0 (fragmented files) runs to the end of the media.
        let media_duration = if duration == 0 {
            u64::MAX
        } else {
            scale(duration, movie_scale, u64::from(timescale))
        };
        if media_time >= 0 && rate == 0x0001_0000 {
            out.push(Edit {
                shown_at_ms: scale(shown_at, movie_scale, 1000),
                media_time: media_time as u64,
                media_duration,
            });
        }
        shown_at = shown_at.saturating_add(duration);
    }
    Ok(Some(out))
}

/// SPS and PPS of an `avcC` record, and the NAL length size.
fn avc_config(c: &[u8]) -> Option<(Vec<&[u8]>, usize)> {
    let length_size = usize::from(c.get(4)? & 3) + 1;
    let mut at = 5;
    let mut params = Vec::new();
    for mask in [0x1F, 0xFF] {
        let n = c.get(at)? & mask;
        at += 1;
        for _ in 0..n {
            let len = usize::from(be16(c, at)?);
            params.push(c.get(at + 2..at + 2 + len)?);
            at += 2 + len;
        }
    }
    Some((params, length_size))
}

/// VPS, SPS and PPS (and any other NAL arrays) of an `hvcC` record, and the NAL
/// length size.
fn hevc_config(c: &[u8]) -> Option<(Vec<&[u8]>, usize)> {
    let length_size = usize::from(c.get(21)? & 3) + 1;
    let arrays = *c.get(22)?;
    let mut at = 23;
    let mut params = Vec::new();
    for _ in 0..arrays {
        let n = be16(c, at + 1)?;
        at += 3;
        for _ in 0..n {
            let len = usize::from(be16(c, at)?);
            params.push(c.get(at + 2..at + 2 + len)?);
            at += 2 + len;
        }
    }
    Some((params, length_size))
}

/// The EXIF Orientation equivalent of a `tkhd` matrix: the quarter turns and mirrors a
/// player applies. Other matrices (scaling, shear) count as upright.
fn orientation(tkhd: &[u8]) -> u8 {
    // The matrix follows 36 (version 0) or 48 (version 1) bytes of fields after the
    // version and flags; a, b, c, d are 16.16 fixed point.
    let at = if tkhd.first() == Some(&1) {
        4 + 48
    } else {
        4 + 36
    };
    let m = |i: usize| be32(tkhd, at + 4 * i).map(|v| (v as i32) >> 16);
    let (Some(a), Some(b), Some(c), Some(d)) = (m(0), m(1), m(3), m(4)) else {
        return 1;
    };
    // A point (x, y) is shown at (a·x + c·y, b·x + d·y), y pointing down.
    match (a, b, c, d) {
        (1, 0, 0, 1) => 1,
        (-1, 0, 0, 1) => 2,
        (-1, 0, 0, -1) => 3,
        (1, 0, 0, -1) => 4,
        (0, 1, 1, 0) => 5,
        (0, 1, -1, 0) => 6,
        (0, -1, -1, 0) => 7,
        (0, -1, 1, 0) => 8,
        _ => 1,
    }
}

impl Track<'_> {
    /// Where sample `n` (0-based) lies in the file, and its size. A sample described by
    /// another sample entry than the first (whose parameter sets are used) is refused.
    fn sample_place(&self, n: u32) -> Result<(u64, u32), HashError> {
        let bad = || corrupt(format!("the index does not place frame {}", n + 1));
        if n >= self.sample_count {
            return Err(bad());
        }
        // Find the chunk: runs of chunks with the same number of samples each.
        let mut first_sample = 0u64;
        let mut place = None;
        for (i, &(first_chunk, per_chunk, description)) in self.stsc.iter().enumerate() {
            let next_chunk = self
                .stsc
                .get(i + 1)
                .map_or(self.chunks.len() as u64 + 1, |e| u64::from(e.0));
            if first_chunk == 0 || per_chunk == 0 || next_chunk < u64::from(first_chunk) {
                return Err(bad());
            }
            let run = (next_chunk - u64::from(first_chunk)) * u64::from(per_chunk);
            if u64::from(n) < first_sample + run {
                let into = u64::from(n) - first_sample;
                let chunk = u64::from(first_chunk) - 1 + into / u64::from(per_chunk);
                let first_in_chunk = u64::from(n) - into % u64::from(per_chunk);
                place = Some((chunk, first_in_chunk, description));
                break;
            }
            first_sample += run;
        }
        let (chunk, first_in_chunk, description) = place.ok_or_else(bad)?;
        if description != 1 {
            return Err(HashError::Unsupported {
                media_type: "video".into(),
                why: "a keyframe is described by a second sample entry, whose parameter sets are not read",
            });
        }
        let start = *self.chunks.get(chunk as usize).ok_or_else(bad)?;
        let before = if self.fixed_size != 0 {
            (u64::from(n) - first_in_chunk) * u64::from(self.fixed_size)
        } else {
            let mut sum = 0u64;
            for s in first_in_chunk..u64::from(n) {
                sum += u64::from(self.size_of(s as u32).ok_or_else(bad)?);
            }
            sum
        };
        let offset = start.checked_add(before).ok_or_else(bad)?;
        Ok((offset, self.size_of(n).ok_or_else(bad)?))
    }

    fn size_of(&self, n: u32) -> Option<u32> {
        if self.fixed_size != 0 {
            return Some(self.fixed_size);
        }
        be32(self.sizes, n as usize * 4)
    }

    /// Calls `f` with each keyframe a player shows, in order of the sample list: its
    /// sample number (0-based) and when it is shown (milliseconds). Keyframes outside
    /// every edit (cut out of the video) are passed over. One pass over the tables.
    fn each_shown_keyframe(&self, mut f: impl FnMut(u32, u64)) {
        let sync: &[u32] = self.sync.as_deref().unwrap_or(&[]);
        let listed = self.sync.is_some();
        let total = if listed {
            sync.len() as u64
        } else {
            u64::from(self.sample_count)
        };
        // Decoding times: runs of (count, delta), walked forward.
        let (mut stts_i, mut stts_left, mut stts_at, mut decode) = (0usize, 0u64, 0u64, 0u64);
        let (mut ctts_i, mut ctts_start) = (0usize, 0u64);
        for k in 0..total {
            let n = if listed {
                u64::from(sync[k as usize])
            } else {
                k
            };
            // Move the decoding time from sample `stts_at` to sample `n`.
            while stts_at < n {
                if stts_left == 0 {
                    let Some(&(count, _)) = self.stts.get(stts_i) else {
                        break;
                    };
                    stts_left = u64::from(count);
                    if stts_left == 0 {
                        stts_i += 1;
                        continue;
                    }
                }
                let delta = u64::from(self.stts[stts_i].1);
                let step = stts_left.min(n - stts_at);
                decode = decode.saturating_add(step.saturating_mul(delta));
                stts_at += step;
                stts_left -= step;
                if stts_left == 0 {
                    stts_i += 1;
                }
            }
            while let Some(&(count, _)) = self.ctts.get(ctts_i) {
                if n < ctts_start + u64::from(count) {
                    break;
                }
                ctts_start += u64::from(count);
                ctts_i += 1;
            }
            let offset = self.ctts.get(ctts_i).map_or(0, |&(_, o)| o);
            let media = i128::from(decode) + i128::from(offset);
            if let Some(at) = self.shown_at_ms(media) {
                f(n as u32, at);
            }
        }
    }

    /// When media time `t` (track time scale) is shown, in milliseconds, or `None` when
    /// no edit shows it. The first edit that shows it counts.
    fn shown_at_ms(&self, t: i128) -> Option<u64> {
        let ms = |v: u128| (v * 1000 / u128::from(self.timescale)).min(u128::from(u64::MAX)) as u64;
        let Some(edits) = &self.edits else {
            return Some(ms(t.max(0) as u128));
        };
        edits.iter().find_map(|e| {
            let into = t - i128::from(e.media_time);
            (into >= 0 && into < i128::from(e.media_duration))
                .then(|| e.shown_at_ms.saturating_add(ms(into as u128)))
        })
    }

    /// Up to `count` keyframes a player shows, spread evenly over them, first and last
    /// included: (sample, milliseconds), in the order they are shown, one per moment.
    fn choose(&self, count: usize) -> Result<Vec<(u32, u64)>, HashError> {
        let mut shown = 0u64;
        self.each_shown_keyframe(|_, _| shown += 1);
        if shown == 0 {
            return Err(corrupt(
                "no keyframe of the video track is shown (its edit list cuts them all out)".into(),
            ));
        }
        let wanted = ranks(shown, count);
        let mut out = Vec::with_capacity(wanted.len());
        let mut rank = 0u64;
        self.each_shown_keyframe(|n, at| {
            if wanted.binary_search(&rank).is_ok() {
                out.push((n, at));
            }
            rank += 1;
        });
        out.sort_by_key(|&(_, at)| at);
        out.dedup_by_key(|&mut (_, at)| at);
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------
// Decoding.

/// The Annex-B stream of one keyframe: the track's parameter sets, then the frame's
/// NAL units, each after a start code.
struct Stream {
    bytes: Vec<u8>,
    /// Where each NAL unit lies in `bytes` (after its start code).
    nals: Vec<std::ops::Range<usize>>,
}

impl Stream {
    fn put(&mut self, nal: &[u8]) {
        self.bytes.extend_from_slice(&[0, 0, 0, 1]);
        let at = self.bytes.len();
        self.bytes.extend_from_slice(nal);
        self.nals.push(at..self.bytes.len());
    }
}

fn annex_b(track: &Track<'_>, frame: &[u8]) -> Result<Stream, HashError> {
    let mut out = Stream {
        bytes: Vec::with_capacity(frame.len() + 256),
        nals: Vec::new(),
    };
    for p in &track.params {
        out.put(p);
    }
    let mut at = 0;
    while at < frame.len() {
        let len_bytes = frame
            .get(at..at + track.length_size)
            .ok_or_else(|| corrupt("a frame's last NAL unit is cut off".into()))?;
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        at += track.length_size;
        let nal = frame
            .get(at..at.saturating_add(len))
            .ok_or_else(|| corrupt("a NAL unit runs past its frame".into()))?;
        if !nal.is_empty() {
            out.put(nal);
        }
        at += len;
    }
    Ok(out)
}

/// The grid of a keyframe's luma, as coded (not yet turned).
fn decode(track: &Track<'_>, frame: &[u8]) -> Result<phash::Grid, HashError> {
    let stream = annex_b(track, frame)?;
    if track.codec == Codec::Hevc {
        // The picture's size is checked before the decoder allocates it.
        for r in &stream.nals {
            check_hevc_size(&stream.bytes[r.clone()])?;
        }
    }
    // The decoders are new and read hostile input: a panic inside one is this file's
    // failure, not the caller's.
    catch_unwind(AssertUnwindSafe(|| match track.codec {
        Codec::H264 => decode_h264(&stream.bytes),
        Codec::Hevc => decode_hevc(&stream.bytes),
    }))
    .map_err(|_| corrupt("the decoder stopped on an internal error".into()))?
}

fn decode_h264(stream: &[u8]) -> Result<phash::Grid, HashError> {
    let mut dec = rusty_h264_decoder::Decoder::new();
    let frame = dec
        .decode(stream)
        .map_err(|e| corrupt(format!("H.264: {e}")))?
        .ok_or_else(|| corrupt("H.264: the keyframe holds no picture".into()))?;
    let (w, h) = (frame.width, frame.height);
    if w == 0 || h == 0 || frame.y.len() < w * h {
        return Err(corrupt("H.264: the picture is empty".into()));
    }
    Ok(phash::grid_of_rows(w, h, frame.y.chunks_exact(w), 1.0))
}

fn decode_hevc(stream: &[u8]) -> Result<phash::Grid, HashError> {
    let mut dec = rusty_h265::Decoder::new();
    dec.push_annexb(stream, None)
        .map_err(|e| corrupt(format!("HEVC: {e}")))?;
    dec.flush();
    let frame = dec
        .next_frame()
        .map_err(|e| corrupt(format!("HEVC: the keyframe gave no picture ({e})")))?;
    let p = &frame.picture;
    let (cx, cy, cw, ch) = p.crop;
    let plane = &p.planes[0];
    if cw == 0 || ch == 0 || cx + cw > plane.width || cy + ch > plane.height {
        return Err(corrupt("HEVC: the picture is empty".into()));
    }
    let stride = plane.stride.max(1);
    if cx + cw > stride || plane.data.len() < (cy + ch) * stride {
        return Err(corrupt("HEVC: the picture is cut off".into()));
    }
    // 10-bit (and deeper) samples on the 8-bit scale.
    let scale = 1.0 / f32::from(1u16 << p.bit_depth_luma.saturating_sub(8).min(8));
    let rows = plane
        .data
        .chunks(stride)
        .skip(cy)
        .map(|row| &row[cx..cx + cw]);
    Ok(phash::grid_of_rows(cw, ch, rows, scale))
}

/// Refuses an HEVC sequence parameter set NAL unit (others pass) whose picture is
/// larger than [`MAX_FRAME_PIXELS`], or that is cut off before its size.
fn check_hevc_size(nal: &[u8]) -> Result<(), HashError> {
    if nal.first().map(|b| (b >> 1) & 0x3F) != Some(33) {
        return Ok(());
    }
    let (w, h) = hevc_sps_size(nal)
        .ok_or_else(|| corrupt("the HEVC sequence parameters are cut off".into()))?;
    if w.checked_mul(h).is_none_or(|px| px > MAX_FRAME_PIXELS) {
        return Err(HashError::TooLarge {
            width: u32::try_from(w).unwrap_or(u32::MAX),
            height: u32::try_from(h).unwrap_or(u32::MAX),
            max: MAX_FRAME_PIXELS,
        });
    }
    Ok(())
}

/// The picture size an HEVC sequence parameter set NAL unit declares.
fn hevc_sps_size(nal: &[u8]) -> Option<(u64, u64)> {
    // Emulation prevention bytes removed from the first part, which is all we read.
    let mut rbsp = Vec::with_capacity(64);
    let mut zeros = 0;
    for &b in nal.get(2..)?.iter().take(256) {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        rbsp.push(b);
    }
    let mut r = Bits { data: &rbsp, at: 0 };
    r.skip(4)?; // sps_video_parameter_set_id
    let sub_layers = r.bits(3)? as usize; // sps_max_sub_layers_minus1
    r.skip(1)?;
    // profile_tier_level: the general profile (88 bits) and level (8).
    r.skip(96)?;
    let mut present = [(false, false); 8];
    for p in present.iter_mut().take(sub_layers) {
        *p = (r.bits(1)? == 1, r.bits(1)? == 1);
    }
    if sub_layers > 0 {
        r.skip(2 * (8 - sub_layers))?;
    }
    for &(profile, level) in present.iter().take(sub_layers) {
        if profile {
            r.skip(88)?;
        }
        if level {
            r.skip(8)?;
        }
    }
    r.ue()?; // sps_seq_parameter_set_id
    if r.ue()? == 3 {
        r.skip(1)?; // separate_colour_plane_flag
    }
    Some((r.ue()?, r.ue()?))
}

struct Bits<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn bits(&mut self, n: usize) -> Option<u64> {
        let mut v = 0;
        for _ in 0..n {
            let byte = self.data.get(self.at / 8)?;
            v = (v << 1) | u64::from((byte >> (7 - self.at % 8)) & 1);
            self.at += 1;
        }
        Some(v)
    }
    fn skip(&mut self, n: usize) -> Option<()> {
        self.at += n;
        (self.at <= self.data.len() * 8).then_some(())
    }
    /// An unsigned Exp-Golomb number (at most 32 bits).
    fn ue(&mut self) -> Option<u64> {
        let mut zeros = 0;
        while self.bits(1)? == 0 {
            zeros += 1;
            if zeros > 32 {
                return None;
            }
        }
        Some((1u64 << zeros) - 1 + self.bits(zeros)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframes_are_spread_over_the_list_first_and_last_included() {
        let c = ranks(100, 5);
        assert_eq!(c, vec![0, 25, 50, 74, 99]);
        assert_eq!(ranks(2, 5), vec![0, 1]);
        assert_eq!(ranks(1, 5), vec![0]);
        assert_eq!(ranks(u64::from(u32::MAX), 5).len(), 5);
    }

    fn track_with(edits: Option<Vec<Edit>>) -> Track<'static> {
        Track {
            codec: Codec::H264,
            params: Vec::new(),
            length_size: 4,
            orientation: 1,
            timescale: 1000,
            sync: Some(vec![0, 10, 20, 30, 40]),
            sample_count: 50,
            fixed_size: 100,
            sizes: &[],
            stsc: vec![(1, 1, 1)],
            chunks: (0..50).map(|i| i * 100).collect(),
            // Every frame lasts 100 ms: keyframes at 0, 1, 2, 3 and 4 s of media.
            stts: vec![(50, 100)],
            ctts: Vec::new(),
            edits,
        }
    }

    fn shown(t: &Track<'_>) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        t.each_shown_keyframe(|n, at| out.push((n, at)));
        out
    }

    #[test]
    fn edit_lists_decide_which_keyframes_are_shown_and_when() {
        // No edit list: all of them, at their media times.
        let all = shown(&track_with(None));
        assert_eq!(
            all,
            vec![(0, 0), (10, 1000), (20, 2000), (30, 3000), (40, 4000)]
        );
        // A copy cut to start at 1.5 s: the keyframe at 1 s is not shown.
        let cut = track_with(Some(vec![Edit {
            shown_at_ms: 0,
            media_time: 1500,
            media_duration: 3500,
        }]));
        assert_eq!(shown(&cut), vec![(20, 500), (30, 1500), (40, 2500)]);
        // Two stretches, 0-2 s and 3.5-5 s of media, after a half-second delay.
        let two = track_with(Some(vec![
            Edit {
                shown_at_ms: 500,
                media_time: 0,
                media_duration: 2000,
            },
            Edit {
                shown_at_ms: 2500,
                media_time: 3500,
                media_duration: 1500,
            },
        ]));
        assert_eq!(shown(&two), vec![(0, 500), (10, 1500), (40, 3000)]);
        let picked = two.choose(2).unwrap();
        assert_eq!(picked, vec![(0, 500), (40, 3000)]);
        // An edit list that shows none of them.
        let none = track_with(Some(Vec::new()));
        assert!(none.choose(5).is_err());
    }

    #[test]
    fn a_fixed_frame_size_places_frames_by_arithmetic() {
        let t = track_with(None);
        assert_eq!(t.sample_place(20).unwrap(), (2000, 100));
        let mut packed = track_with(None);
        packed.stsc = vec![(1, 50, 1)];
        packed.chunks = vec![64];
        assert_eq!(packed.sample_place(49).unwrap(), (64 + 49 * 100, 100));
        packed.stsc = vec![(1, 50, 2)];
        assert!(packed.sample_place(3).is_err(), "a second sample entry");
    }

    #[test]
    fn track_matrices_map_to_exif_orientations() {
        let tkhd = |a: i32, b: i32, c: i32, d: i32| {
            let mut t = vec![0u8; 4 + 36];
            for v in [a, b, 0, c, d, 0, 0, 0, 1 << 14] {
                t.extend_from_slice(&((v << 16) as u32).to_be_bytes());
            }
            t
        };
        assert_eq!(orientation(&tkhd(1, 0, 0, 1)), 1);
        assert_eq!(orientation(&tkhd(0, 1, -1, 0)), 6);
        assert_eq!(orientation(&tkhd(-1, 0, 0, -1)), 3);
        assert_eq!(orientation(&tkhd(0, -1, 1, 0)), 8);
        assert_eq!(orientation(&tkhd(2, 0, 0, 2)), 1);
        assert_eq!(orientation(&[0u8; 10]), 1);
    }

    #[test]
    fn exp_golomb_numbers_read_back() {
        // 1 → 0, 010 → 1, 011 → 2, 00100 → 3
        let mut r = Bits {
            data: &[0b1010_0110, 0b0100_0000],
            at: 0,
        };
        assert_eq!(
            (r.ue(), r.ue(), r.ue(), r.ue()),
            (Some(0), Some(1), Some(2), Some(3))
        );
        let mut r = Bits {
            data: &[0, 0, 0, 0, 0],
            at: 0,
        };
        assert_eq!(r.ue(), None);
    }

    #[test]
    fn damaged_containers_say_what_is_wrong() {
        let e = hash_keyframes(&mut std::io::Cursor::new(
            b"\0\0\0\x10ftypisom\0\0\0\0".to_vec(),
        ))
        .unwrap_err();
        assert!(e.to_string().contains("no index (moov box)"), "{e}");
        let mut huge = b"\0\0\0\x10ftypisom\0\0\0\0".to_vec();
        huge.extend_from_slice(b"\x7f\0\0\0moov");
        let e = hash_keyframes(&mut std::io::Cursor::new(huge)).unwrap_err();
        assert!(e.to_string().contains("more than the file holds"), "{e}");
    }

    /// An SPS NAL unit declaring `w`×`h` (chroma 4:2:0, no sub-layers).
    fn sps(w: u64, h: u64) -> Vec<u8> {
        let mut bits: Vec<u8> = Vec::new();
        let mut put = |v: u64, n: usize| {
            for i in (0..n).rev() {
                bits.push(v.checked_shr(i as u32).map_or(0, |x| (x & 1) as u8));
            }
        };
        put(0, 4);
        put(0, 3);
        put(1, 1);
        put(0, 96);
        let ue = |v: u64, put: &mut dyn FnMut(u64, usize)| {
            let n = 64 - (v + 1).leading_zeros() as usize;
            put(0, n - 1);
            put(v + 1, n);
        };
        ue(0, &mut put);
        ue(1, &mut put);
        ue(w, &mut put);
        ue(h, &mut put);
        put(1, 8);
        let mut out = vec![0x42, 0x01];
        out.extend(bits.chunks(8).map(|c| {
            c.iter()
                .chain(std::iter::repeat(&0))
                .take(8)
                .fold(0u8, |a, &b| a << 1 | b)
        }));
        out
    }

    #[test]
    fn hevc_picture_sizes_are_checked_without_overflow() {
        assert_eq!(hevc_sps_size(&sps(1920, 1080)), Some((1920, 1080)));
        assert!(check_hevc_size(&sps(7680, 4320)).is_ok());
        let e = check_hevc_size(&sps(16384, 16384)).unwrap_err();
        assert!(e.to_string().contains("16384x16384 pixels"), "{e}");
        // Sizes whose product overflows 64 bits are refused, not wrapped.
        let huge = (1u64 << 33) - 2;
        let e = check_hevc_size(&sps(huge, huge)).unwrap_err();
        assert!(e.to_string().contains("more than the limit"), "{e}");
        assert!(
            check_hevc_size(&[0x40, 0x01, 0x0c]).is_ok(),
            "a VPS is not checked"
        );
    }
}
