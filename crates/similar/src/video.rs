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
    let moov = read_moov(r)?;
    let track = video_track(&moov)?;
    let chosen = choose(&track.sync, MAX_KEYFRAMES);
    let mut out = Vec::with_capacity(chosen.len());
    for sample in chosen {
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
        let luma = decode(&track, &data)?;
        let grid = grid_of(&luma, track.orientation);
        out.push(Keyframe {
            at_ms: track.presentation_ms(sample)?,
            hash: PHash(phash::bits(&grid, phash::Variant::ZigzagAc)),
        });
    }
    out.sort_by_key(|k| k.at_ms);
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

/// `count` indices spread evenly over `list` (all of them when it is shorter), first and
/// last included.
fn choose(list: &[u32], count: usize) -> Vec<u32> {
    let n = list.len();
    if n <= count {
        return list.to_vec();
    }
    let mut out: Vec<u32> = (0..count)
        .map(|i| list[(i * (n - 1) + (count - 1) / 2) / (count - 1)])
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
fn read_moov<R: Read + Seek>(r: &mut R) -> Result<Vec<u8>, HashError> {
    let len = r.seek(SeekFrom::End(0)).map_err(io_error)?;
    let mut at = 0u64;
    while at + 8 <= len {
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
            return Ok(moov);
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
    /// Sync samples, 0-based.
    sync: Vec<u32>,
    sample_count: u32,
    /// `stsz`: one size for all, or each sample's.
    fixed_size: u32,
    sizes: &'a [u8],
    /// `stsc` entries (first chunk, samples per chunk), 1-based chunks.
    stsc: Vec<(u32, u32)>,
    /// Chunk offsets.
    chunks: Vec<u64>,
    /// `stts` (count, delta) and `ctts` (count, offset) runs.
    stts: Vec<(u32, u32)>,
    ctts: Vec<(u32, i64)>,
    /// The first edit: the media time shown first (track time scale), after a delay
    /// (milliseconds) of empty edits.
    media_start: i64,
    delay_ms: u64,
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
fn video_track(moov: &[u8]) -> Result<Track<'_>, HashError> {
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
        return track(moov, trak.body, mdia, stbl, codec, entry.body);
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

    let (_, raw) = table(
        child(stbl, b"stsc").ok_or_else(|| missing("sample-to-chunk table (stsc)"))?,
        0,
        12,
        "the sample-to-chunk table",
    )?;
    let stsc: Vec<(u32, u32)> = raw
        .chunks_exact(12)
        .map(|e| (be32(e, 0).unwrap_or(0), be32(e, 4).unwrap_or(0)))
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
            let signed = c.first() == Some(&1);
            let (_, raw) = table(c, 0, 8, "the composition offset table")?;
            raw.chunks_exact(8)
                .map(|e| {
                    let v = be32(e, 4).unwrap_or(0);
                    let off = if signed {
                        i64::from(v as i32)
                    } else {
                        i64::from(v)
                    };
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
            s
        }
        None => (0..sample_count).collect(),
    };
    if sync.is_empty() {
        return Err(corrupt(
            "the keyframe table names no frame of the track".into(),
        ));
    }

    let (media_start, delay_ms) = first_edit(moov, trak);
    Ok(Track {
        media_start,
        delay_ms,
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

/// The first edit of a track's edit list (`edts/elst`): the media time it starts at,
/// and the delay before it (empty edits, in milliseconds). Without an edit list the
/// media is shown from its start, at once. Later edits (cuts) are not applied.
fn first_edit(moov: &[u8], trak: &[u8]) -> (i64, u64) {
    let movie_scale = child(moov, b"mvhd")
        .and_then(|m| {
            if m.first() == Some(&1) {
                be32(m, 20)
            } else {
                be32(m, 12)
            }
        })
        .filter(|&t| t > 0);
    let Some(elst) = path(trak, &[b"edts", b"elst"]) else {
        return (0, 0);
    };
    let wide = elst.first() == Some(&1);
    let width = if wide { 20 } else { 12 };
    let Ok((_, raw)) = table(elst, 0, width, "the edit list") else {
        return (0, 0);
    };
    let mut delay = 0u64;
    for e in raw.chunks_exact(width) {
        let (duration, media_time) = if wide {
            (
                u64::from_be_bytes(e[0..8].try_into().expect("8")),
                i64::from_be_bytes(e[8..16].try_into().expect("8")),
            )
        } else {
            (
                u64::from(be32(e, 0).unwrap_or(0)),
                i64::from(be32(e, 4).unwrap_or(0) as i32),
            )
        };
        if media_time == -1 {
            delay = delay.saturating_add(duration);
            continue;
        }
        let delay_ms = movie_scale.map_or(0, |t| {
            (u128::from(delay) * 1000 / u128::from(t)).min(u128::from(u64::MAX)) as u64
        });
        return (media_time.max(0), delay_ms);
    }
    (0, 0)
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
    /// Where sample `n` (0-based) lies in the file, and its size.
    fn sample_place(&self, n: u32) -> Result<(u64, u32), HashError> {
        let bad = || corrupt(format!("the index does not place frame {}", n + 1));
        if n >= self.sample_count {
            return Err(bad());
        }
        // Find the chunk: runs of chunks with the same number of samples each.
        let mut first_sample = 0u64;
        let mut place = None;
        for (i, &(first_chunk, per_chunk)) in self.stsc.iter().enumerate() {
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
                place = Some((chunk, first_in_chunk));
                break;
            }
            first_sample += run;
        }
        let (chunk, first_in_chunk) = place.ok_or_else(bad)?;
        let mut offset = *self.chunks.get(chunk as usize).ok_or_else(bad)?;
        for s in first_in_chunk..u64::from(n) {
            offset = offset
                .checked_add(u64::from(self.size_of(s as u32).ok_or_else(bad)?))
                .ok_or_else(bad)?;
        }
        Ok((offset, self.size_of(n).ok_or_else(bad)?))
    }

    fn size_of(&self, n: u32) -> Option<u32> {
        if self.fixed_size != 0 {
            return Some(self.fixed_size);
        }
        be32(self.sizes, n as usize * 4)
    }

    /// When sample `n` is shown, in milliseconds of the track's timeline.
    fn presentation_ms(&self, n: u32) -> Result<u64, HashError> {
        let mut decode: u64 = 0;
        let mut left = u64::from(n);
        for &(count, delta) in &self.stts {
            let take = left.min(u64::from(count));
            decode = decode.saturating_add(take * u64::from(delta));
            left -= take;
            if left == 0 {
                break;
            }
        }
        let mut offset = 0i64;
        let mut before = u64::from(n);
        for &(count, off) in &self.ctts {
            if before < u64::from(count) {
                offset = off;
                break;
            }
            before -= u64::from(count);
        }
        let shown =
            (i128::from(decode) + i128::from(offset) - i128::from(self.media_start)).max(0) as u128;
        let ms = shown * 1000 / u128::from(self.timescale) + u128::from(self.delay_ms);
        Ok(ms.min(u128::from(u64::MAX)) as u64)
    }
}

// ---------------------------------------------------------------------------------------
// Decoding.

/// A decoded picture's luma, upright as coded.
struct Luma {
    width: usize,
    height: usize,
    samples: Vec<f32>,
}

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

fn decode(track: &Track<'_>, frame: &[u8]) -> Result<Luma, HashError> {
    let stream = annex_b(track, frame)?;
    if track.codec == Codec::Hevc {
        // The picture's size is checked before the decoder allocates it.
        for r in &stream.nals {
            let nal = &stream.bytes[r.clone()];
            if nal.first().map(|b| (b >> 1) & 0x3F) == Some(33) {
                let (w, h) = hevc_sps_size(nal)
                    .ok_or_else(|| corrupt("the HEVC sequence parameters are cut off".into()))?;
                if w * h > MAX_FRAME_PIXELS {
                    return Err(HashError::TooLarge {
                        width: w as u32,
                        height: h as u32,
                        max: MAX_FRAME_PIXELS,
                    });
                }
            }
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

fn decode_h264(stream: &[u8]) -> Result<Luma, HashError> {
    let mut dec = rusty_h264_decoder::Decoder::new();
    let frame = dec
        .decode(stream)
        .map_err(|e| corrupt(format!("H.264: {e}")))?
        .ok_or_else(|| corrupt("H.264: the keyframe holds no picture".into()))?;
    let (w, h) = (frame.width, frame.height);
    if w == 0 || h == 0 || frame.y.len() < w * h {
        return Err(corrupt("H.264: the picture is empty".into()));
    }
    Ok(Luma {
        width: w,
        height: h,
        samples: frame.y[..w * h].iter().map(|&v| f32::from(v)).collect(),
    })
}

fn decode_hevc(stream: &[u8]) -> Result<Luma, HashError> {
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
    let scale = 1.0 / f32::from(1u16 << p.bit_depth_luma.saturating_sub(8).min(8));
    let mut samples = Vec::with_capacity(cw * ch);
    for row in plane.data.chunks(plane.stride.max(1)).skip(cy).take(ch) {
        let row = row
            .get(cx..cx + cw)
            .ok_or_else(|| corrupt("HEVC: the picture is cut off".into()))?;
        samples.extend(row.iter().map(|&v| f32::from(v) * scale));
    }
    if samples.len() != cw * ch {
        return Err(corrupt("HEVC: the picture is cut off".into()));
    }
    Ok(Luma {
        width: cw,
        height: ch,
        samples,
    })
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

fn grid_of(l: &Luma, orientation: u8) -> phash::Grid {
    let mut b =
        phash::GridBuilder::new(l.width, l.height, 1.0, 1.0, l.width as u32, l.height as u32);
    for (r, row) in l.samples.chunks_exact(l.width).enumerate() {
        b.add_row(r, row);
    }
    phash::orient(&b.finish(), orientation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframes_are_spread_over_the_list_first_and_last_included() {
        let list: Vec<u32> = (0..100).map(|i| i * 30).collect();
        let c = choose(&list, 5);
        assert_eq!(c.first(), Some(&0));
        assert_eq!(c.last(), Some(&(99 * 30)));
        assert_eq!(c.len(), 5);
        assert!(c.windows(2).all(|w| w[0] < w[1]), "{c:?}");
        assert_eq!(choose(&[7, 9], 5), vec![7, 9]);
        assert_eq!(choose(&[4], 5), vec![4]);
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
}
