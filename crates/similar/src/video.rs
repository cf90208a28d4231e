//! Keyframes of videos: a few pictures of an MP4/MOV or Matroska/WebM video's track,
//! each hashed as a photograph is, so that a still taken from a video, or another copy
//! of the video, is found.
//!
//! Only the container's index (`moov`, and in a fragmented MP4 each fragment's `moof`;
//! in Matroska the element headers, [`matroska`]) and the chosen frames are read, never
//! the whole file. The video track's sync samples (`stss`, or the sample flags of a
//! fragment; every sample when there is none) are the keyframes; up to
//! [`MAX_KEYFRAMES`] of them, spread evenly over the list, are decoded on their own (an
//! intra picture needs no other) by pure-Rust decoders: `rusty_h264-decoder` for H.264
//! (`avc1`, `avc3`) and `rusty_h265` for HEVC (`hvc1`, `hev1`), both built without
//! their optional SIMD code, and VP9 (`vp09`) and VP8 (`vp08`) by [`vpx`]. The picture is turned as
//! the track's matrix says it is shown (a phone's portrait video is stored sideways).
//!
//! Every count and offset read from the file is checked against what the file holds
//! before it is used; the index is read only up to [`MAX_INDEX_BYTES`], a frame only
//! up to [`MAX_FRAME_BYTES`], and a picture larger than [`MAX_FRAME_PIXELS`] is refused
//! before it is decoded.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::turn::{Turned, Turnings};
use crate::{HashError, PHash, phash};

mod annexb;
mod avi;
mod flv;
mod matroska;
mod mpeg12;
mod mpeg4;
mod mpegps;
mod mpegts;
mod pes;
mod sps;
mod vpx;

/// At most this many keyframes are hashed per video, spread over its length.
pub const MAX_KEYFRAMES: usize = 5;

/// Largest `moov` box read (the index of every sample of every track).
const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

/// Largest coded frame read.
const MAX_FRAME_BYTES: u64 = 64 * 1024 * 1024;

/// Largest picture decoded: 2^25 pixels (8K UHD, 7680×4320, just fits). A 4:4:4
/// picture this large takes the VP9 decoder some 360 MB.
const MAX_FRAME_PIXELS: u64 = 1 << 25;

/// Most frames a track may list (about six days at 30 frames a second): as many as a
/// `stsz` table in the largest index read can size.
const MAX_SAMPLES: u32 = (MAX_INDEX_BYTES / 4) as u32;

/// Most edits an edit list may hold (real files have one to a few).
const MAX_EDITS: usize = 256;

/// Most top-level boxes walked looking for the index (real files have a handful).
const MAX_TOP_BOXES: u32 = 100_000;

/// Most top-level boxes walked in a fragmented MP4 (a fragment is two boxes, `moof` and
/// `mdat`: a day of one-second fragments is about 170,000; a day of a fragment for
/// every video frame and every audio packet, about 13 million).
const MAX_FRAGMENT_BOXES: u32 = 16_000_000;

/// Most bytes of movie fragments' indexes (`moof`) read in one walk, one at a time (a
/// fragment for every frame of 30 fps video with 48 kHz audio takes about 7 KB a
/// second: a day is some 600 MB).
const MAX_FRAGMENT_INDEX_BYTES: u64 = 1 << 30;

/// Bytes read at once while walking top-level box headers.
const WALK_WINDOW: u64 = 8 * 1024;

/// One hashed keyframe: when it is shown (milliseconds from the start of the video, as a
/// player counts them: the track's first edit applied) and its perceptual hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keyframe {
    pub at_ms: u64,
    pub hash: PHash,
    /// The hashes the keyframe would have if mirrored or turned (`custody similar
    /// --turned`), recorded with the hash.
    pub turned: Turned,
}

impl Keyframe {
    /// The keyframe shown at `at_ms` whose grid, in display orientation, is `grid`.
    pub(crate) fn of(at_ms: u64, grid: &phash::Grid) -> Keyframe {
        let t = Turnings::of(grid);
        Keyframe {
            at_ms,
            hash: t.hash,
            turned: t.turned,
        }
    }
}

/// Whether an AVI FourCC (any case) names MPEG-1, MPEG-2 or MPEG-4 Part 2 video, which
/// this release reads (for [`crate::lacked_a_decoder`]).
pub(crate) fn avi_fourcc_is_mpeg(fourcc: &str) -> bool {
    let upper = fourcc.to_ascii_uppercase();
    <[u8; 4]>::try_from(upper.as_bytes()).is_ok_and(|tag| avi::mpeg_fourcc(&tag).is_some())
}

/// Whether a media type names a video whose keyframes [`hash_keyframes_path`] hashes.
pub fn has_keyframes(media_type: &str) -> bool {
    matches!(
        media_type.to_ascii_lowercase().as_str(),
        "video/mp4"
            | "video/quicktime"
            | "video/x-m4v"
            | "video/3gpp"
            | "video/3gpp2"
            | "video/webm"
            | "video/x-matroska"
            | "video/matroska"
            | "video/mp2t"
            | "video/mpeg"
            | "video/mp2p"
            | "video/x-flv"
            | "video/x-msvideo"
            | "video/avi"
    )
}

/// What reading a video for its keyframes learnt of its video stream, for containers
/// whose header does not say it (transport and program streams): the stream is read
/// from end to end there, and this is what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamFacts {
    /// `H.264` or `HEVC`.
    pub codec: &'static str,
    /// The picture size the first sequence parameter set declares, cropping applied.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Access units (frames, or fields coded apart) of the video stream.
    pub frames: u64,
    /// From the earliest presentation time to the latest, plus one frame: as long as a
    /// player shows it (times made continuous over wraps and joined recordings), and,
    /// where the stream states its frame rate (MPEG-1/2), a frame more for each frame
    /// after the latest time without a time of its own.
    pub duration_ms: Option<u64>,
}

/// Up to [`MAX_KEYFRAMES`] hashed keyframes of a video, in the order they are shown, or
/// why they could not be; and what was learnt of its stream on the way where the
/// container's header does not say it (even when no keyframe could be hashed).
#[derive(Debug)]
pub struct VideoRead {
    pub keyframes: Result<Vec<Keyframe>, HashError>,
    pub stream: Option<StreamFacts>,
}

impl VideoRead {
    fn failed(e: HashError) -> Self {
        VideoRead {
            keyframes: Err(e),
            stream: None,
        }
    }
}

/// Hashes up to [`MAX_KEYFRAMES`] keyframes of the video file at `path`, in the order
/// they are shown.
pub fn hash_keyframes_path(path: &Path) -> Result<Vec<Keyframe>, HashError> {
    read_video_path(path).keyframes
}

/// [`hash_keyframes_path`], with what was learnt of the stream.
pub fn read_video_path(path: &Path) -> VideoRead {
    let io = |source| HashError::Io {
        path: Some(path.to_owned()),
        source,
    };
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return VideoRead::failed(io(e)),
    };
    let mut read = read_video(&mut file);
    read.keyframes = read.keyframes.map_err(|e| match e {
        HashError::Io { path: None, source } => io(source),
        other => other,
    });
    read
}

/// [`hash_keyframes_path`] over any seekable reader.
pub fn hash_keyframes<R: Read + Seek>(r: &mut R) -> Result<Vec<Keyframe>, HashError> {
    read_video(r).keyframes
}

/// [`read_video_path`] over any seekable reader.
pub fn read_video<R: Read + Seek>(r: &mut R) -> VideoRead {
    dispatch(r).unwrap_or_else(VideoRead::failed)
}

/// Reads the video by its container.
fn dispatch<R: Read + Seek>(r: &mut R) -> Result<VideoRead, HashError> {
    let alone = |keyframes| VideoRead {
        keyframes: Ok(keyframes),
        stream: None,
    };
    let file_len = r.seek(SeekFrom::End(0)).map_err(io_error)?;
    if matroska::sniff(r, file_len)? {
        return matroska::hash_keyframes(r, file_len).map(alone);
    }
    // Enough for five transport packets after other bytes.
    let mut head = Vec::with_capacity(8192);
    r.seek(SeekFrom::Start(0)).map_err(io_error)?;
    r.take(8192).read_to_end(&mut head).map_err(io_error)?;
    if let Some(layout) = mpegts::layout(&head) {
        return Ok(mpegts::hash_keyframes(r, layout));
    }
    if flv::is_flv(&head) {
        return flv::hash_keyframes(r, file_len).map(alone);
    }
    if avi::is_avi(&head) {
        return avi::hash_keyframes(r, file_len).map(alone);
    }
    if let Some(first) = mpegps::layout(&head) {
        return Ok(mpegps::hash_keyframes(r, first));
    }
    if let Some(codec) = mpegps::elementary(&head) {
        return Err(HashError::Unsupported {
            media_type: format!("{codec} alone, without a container"),
            why: "a bare stream has no times for its frames (MPEG-1/2 and MPEG-4 Part 2 video \
                  are read in transport and program streams, MP4, Matroska and AVI)",
        });
    }
    let (moov, file_len) = read_moov(r)?;
    let track = video_track(&moov, file_len)?;
    let mut chosen = Vec::new();
    for (key, at_ms) in track.choose(r, file_len, MAX_KEYFRAMES)? {
        let (number, (offset, size)) = match key {
            Key::Listed(n) => (u64::from(n) + 1, track.sample_place(n)?),
            Key::Fragment(k) => (k.number + 1, k.place()?),
        };
        chosen.push(Chosen {
            number,
            offset,
            size,
            at_ms,
        });
    }
    hash_frames(r, file_len, &track.coding, track.orientation, &chosen).map(alone)
}

/// A keyframe chosen for hashing: its number in the track (1-based, for messages),
/// where its coded bytes lie, and when it is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Chosen {
    number: u64,
    offset: u64,
    size: u32,
    at_ms: u64,
}

/// Reads, decodes, turns and hashes each chosen keyframe, in order.
fn hash_frames<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
    coding: &Coding<'_>,
    orientation: u8,
    chosen: &[Chosen],
) -> Result<Vec<Keyframe>, HashError> {
    let mut out: Vec<Keyframe> = Vec::with_capacity(chosen.len());
    for &Chosen {
        number,
        offset,
        size,
        at_ms,
    } in chosen
    {
        if u64::from(size) > MAX_FRAME_BYTES {
            return Err(corrupt(format!(
                "frame {number} is {size} bytes, more than {MAX_FRAME_BYTES}"
            )));
        }
        if offset
            .checked_add(u64::from(size))
            .is_none_or(|end| end > file_len)
        {
            return Err(corrupt(format!(
                "frame {number} lies past the end of the file"
            )));
        }
        let mut data = vec![0u8; size as usize];
        r.seek(SeekFrom::Start(offset)).map_err(io_error)?;
        r.read_exact(&mut data).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                corrupt(format!("frame {number} lies past the end of the file"))
            } else {
                io_error(e)
            }
        })?;
        let grid = phash::orient(&decode(coding, &data)?, orientation);
        out.push(Keyframe::of(at_ms, &grid));
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

/// The keyframes of a video whose keyframes may be damaged one by one (live and
/// power-cut recordings: transport and program streams, FLV, AVI), in the order shown: each one
/// that could not be hashed for what its bytes hold is left out, and the video fails
/// only when none could be (a read failure fails it at once).
fn keep_hashed(
    results: impl IntoIterator<Item = Result<Keyframe, HashError>>,
) -> Result<Vec<Keyframe>, HashError> {
    let mut out = Vec::new();
    let mut failed = None;
    for r in results {
        match r {
            Ok(k) => out.push(k),
            Err(e @ HashError::Io { .. }) => return Err(e),
            Err(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    if let (true, Some(e)) = (out.is_empty(), failed) {
        return Err(e);
    }
    out.sort_by_key(|k| k.at_ms);
    out.dedup_by_key(|k| k.at_ms);
    Ok(out)
}

/// A stream's times made continuous, for containers whose times wrap or start again
/// (transport and program streams, FLV): a step forward of less than half the wrap is time moving
/// on (over the wrap too); a step back of at most `reset` is a reordered frame
/// (B-frames); a larger step back is a new recording joined on (or a writer's own
/// wrap), after which time runs on one frame after the latest.
struct Clock {
    wrap: u64,
    reset: u64,
    last: Option<(u64, u64)>,
    latest: u64,
    /// The shortest step forward seen: a frame's duration (`default_frame` until then).
    frame: Option<u64>,
    default_frame: u64,
}

impl Clock {
    fn new(wrap: u64, reset: u64, default_frame: u64) -> Self {
        Clock {
            wrap,
            reset,
            last: None,
            latest: 0,
            frame: None,
            default_frame,
        }
    }

    fn time(&mut self, raw: u64) -> u64 {
        let raw = raw % self.wrap;
        let t = match self.last {
            None => raw,
            Some((last_raw, last_t)) => {
                let forward = (raw + self.wrap - last_raw) % self.wrap;
                if forward < self.wrap / 2 {
                    if forward > 0 {
                        self.frame = Some(self.frame.map_or(forward, |f| f.min(forward)));
                    }
                    last_t + forward
                } else {
                    let back = self.wrap - forward;
                    if back <= self.reset {
                        last_t.saturating_sub(back)
                    } else {
                        self.latest + self.frame.unwrap_or(self.default_frame)
                    }
                }
            }
        };
        self.last = Some((raw, t));
        self.latest = self.latest.max(t);
        t
    }
}

/// Moves the unread bytes `buf[pos..len]` to the front and reads after them until
/// `buf` is full or the reader ends (then `true`), counting the bytes read in `read`:
/// the buffered walk of containers read start to end (transport and program streams).
fn refill<R: Read>(
    r: &mut R,
    buf: &mut [u8],
    pos: &mut usize,
    len: &mut usize,
    read: &mut u64,
) -> Result<bool, HashError> {
    buf.copy_within(*pos..*len, 0);
    *len -= *pos;
    *pos = 0;
    while *len < buf.len() {
        match r.read(&mut buf[*len..]) {
            Ok(0) => return Ok(true),
            Ok(n) => {
                *len += n;
                *read += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    Ok(false)
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

/// A box at the top level of the file: its type, where it starts, and the lengths of
/// its header and of the whole box.
struct TopBox {
    kind: [u8; 4],
    at: u64,
    header: u64,
    size: u64,
}

/// How a walk over the top-level boxes ends.
enum Walked<T> {
    /// `f` returned this.
    Found(T),
    /// The last box ended at the end of the file.
    End,
    /// The box at this byte runs past the end of the file (or its header does).
    CutOff(u64),
}

/// Calls `f` with each top-level box of the file (`len` bytes) in turn until it returns
/// `Some`; at most `limit` boxes, else an error naming `what` the walk was for.
fn walk_top<R: Read + Seek, T>(
    r: &mut R,
    len: u64,
    limit: u32,
    what: &str,
    mut f: impl FnMut(&mut R, &TopBox) -> Result<Option<T>, HashError>,
) -> Result<Walked<T>, HashError> {
    let mut at = 0u64;
    let mut walked = 0u32;
    // Box headers are read from a window of the file, so that runs of small boxes cost
    // one read, not one each.
    let mut window: Vec<u8> = Vec::new();
    let mut window_at = 0u64;
    while at + 8 <= len {
        walked += 1;
        if walked > limit {
            return Err(corrupt(format!("more than {limit} boxes {what}")));
        }
        let got = (len - at).min(16) as usize;
        let inside = at >= window_at && at + got as u64 <= window_at + window.len() as u64;
        if !inside {
            window.resize((len - at).min(WALK_WINDOW) as usize, 0);
            r.seek(SeekFrom::Start(at)).map_err(io_error)?;
            r.read_exact(&mut window).map_err(io_error)?;
            window_at = at;
        }
        let start = (at - window_at) as usize;
        let h = &window[start..start + got];
        let size32 = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
        let (header, size) = match size32 {
            0 => (8, len - at),
            1 if got == 16 => (16, u64::from_be_bytes(h[8..16].try_into().expect("8"))),
            1 => return Ok(Walked::CutOff(at)),
            s => (8, s),
        };
        if size < header || size > len - at {
            return Ok(Walked::CutOff(at));
        }
        let b = TopBox {
            kind: h[4..8].try_into().expect("4"),
            at,
            header,
            size,
        };
        if let Some(found) = f(r, &b)? {
            return Ok(Walked::Found(found));
        }
        at += size;
    }
    Ok(Walked::End)
}

/// Reads the body of the top-level box `b`, at most `limit` bytes (else an error naming
/// `what` it is).
fn read_body<R: Read + Seek>(
    r: &mut R,
    b: &TopBox,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, HashError> {
    let body = b.size - b.header;
    if body > limit {
        return Err(corrupt(format!(
            "{what} is {body} bytes, more than {limit}"
        )));
    }
    let mut out = vec![0u8; body as usize];
    r.seek(SeekFrom::Start(b.at + b.header)).map_err(io_error)?;
    r.read_exact(&mut out).map_err(io_error)?;
    Ok(out)
}

/// Reads the `moov` box from the top level of the file, wherever it is.
fn read_moov<R: Read + Seek>(r: &mut R) -> Result<(Vec<u8>, u64), HashError> {
    let len = r.seek(SeekFrom::End(0)).map_err(io_error)?;
    let walked = walk_top(r, len, MAX_TOP_BOXES, "before the index (moov)", |r, b| {
        (&b.kind == b"moov")
            .then(|| read_body(r, b, MAX_INDEX_BYTES, "the index (moov)"))
            .transpose()
    })?;
    match walked {
        Walked::Found(moov) => Ok((moov, len)),
        Walked::End => Err(corrupt(
            "no index (moov box): the file is not a complete MP4/MOV video".into(),
        )),
        Walked::CutOff(at) => Err(corrupt(format!(
            "the box at byte {at} runs past the end of the file (more than the file holds), \
             and no index (moov) came before it"
        ))),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Codec {
    H264,
    Hevc,
    Vp9,
    Vp8,
    Av1,
    /// MPEG-1 and MPEG-2 video, read alike (`video/mpeg12`); they differ in what the
    /// stream says (an MPEG-2 sequence header is followed by its extension).
    Mpeg1,
    Mpeg2,
    /// MPEG-4 Part 2 video (`video/mpeg4`).
    Mpeg4,
    /// H.263 baseline (`video/mpeg4`, the short video header): 3GP phones' video.
    H263,
    /// Sorenson H.263 (`video/mpeg4`): FLV's codec 2.
    Sorenson,
}

impl Codec {
    fn is_mpeg12(self) -> bool {
        matches!(self, Codec::Mpeg1 | Codec::Mpeg2)
    }

    /// Whether the codec's stream is MPEG's start-code syntax (MPEG-1, MPEG-2, MPEG-4
    /// Part 2): no emulation prevention, its syntax alone keeps start codes out.
    fn is_mpeg_video(self) -> bool {
        matches!(self, Codec::Mpeg1 | Codec::Mpeg2 | Codec::Mpeg4)
    }
}

/// How a track's frames are coded: what decoding one keyframe on its own needs.
struct Coding<'a> {
    codec: Codec,
    /// Parameter sets, each a NAL unit without a start code (H.264, HEVC).
    params: Vec<&'a [u8]>,
    /// Bytes of each NAL unit's length prefix in a frame (H.264, HEVC).
    length_size: usize,
}

/// What the keyframes of one video track need.
struct Track<'a> {
    coding: Coding<'a>,
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
    /// In a fragmented MP4, how the track's frames in movie fragments are read.
    fragments: Option<Fragments>,
}

/// A keyframe: a frame listed in the index (`moov`), 0-based, or one in a movie fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Listed(u32),
    Fragment(FragKey),
}

/// A sync sample of the video track in a movie fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FragKey {
    /// Its number in the track (0-based, counting the frames listed in `moov` first).
    number: u64,
    offset: u64,
    size: u32,
    /// Its sample entry (1-based).
    description: u32,
    /// Its composition time (track time scale).
    media: i128,
}

impl FragKey {
    /// Where it lies and its size; a frame of another sample entry than the first is
    /// refused, as in the index.
    fn place(&self) -> Result<(u64, u32), HashError> {
        if self.description != 1 {
            return Err(second_entry());
        }
        Ok((self.offset, self.size))
    }
}

fn second_entry() -> HashError {
    HashError::Unsupported {
        media_type: "video".into(),
        why: "a keyframe is described by a second sample entry, whose parameter sets are not read",
    }
}

/// What a fragmented MP4 says of the video track outside its fragments: its track ID,
/// the defaults of its `trex` box, and where its fragments' frames begin.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fragments {
    track_id: u32,
    description: u32,
    duration: u32,
    size: u32,
    flags: u32,
    /// Frames listed in `moov` before the fragments, and the decoding time they end at.
    first_number: u64,
    start: u64,
    /// The default frame size of each other track (its `trex`), which places the
    /// frames of a fragment that follows that track's in the same `moof`.
    others: Vec<(u32, u32)>,
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

/// The first video track with a codec decoded here; without one, the first such
/// image-sequence track (`pict`: an animated AVIF or HEIF), whose pictures are chosen
/// and hashed as a video's keyframes are.
fn video_track(moov: &[u8], file_len: u64) -> Result<Track<'_>, HashError> {
    let mut seen = None;
    let tracks = || {
        boxes(moov)
            .filter(|b| &b.kind == b"trak")
            .filter_map(|trak| {
                let mdia = child(trak.body, b"mdia")?;
                let handler = child(mdia, b"hdlr").and_then(|h| h.get(8..12))?;
                Some((trak, mdia, handler))
            })
    };
    let video = tracks().filter(|t| t.2 == b"vide");
    let pictures = tracks().filter(|t| t.2 == b"pict");
    for (trak, mdia, _) in video.chain(pictures) {
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
            b"vp09" => Codec::Vp9,
            b"vp08" => Codec::Vp8,
            b"av01" => Codec::Av1,
            b"s263" | b"h263" | b"H263" => Codec::H263,
            // MPEG-4 visual sample entries hold MPEG-1 and MPEG-2 video too, told by
            // the object type of their elementary stream descriptor.
            b"mp4v" => match mpeg_object_type(entry.body) {
                Some(0x60..=0x65) => Codec::Mpeg2,
                Some(0x6A) => Codec::Mpeg1,
                Some(0x20) => Codec::Mpeg4,
                _ => {
                    seen = Some("mp4v".into());
                    continue;
                }
            },
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
            why: "only H.264, HEVC, VP9, VP8, AV1, MPEG-2, MPEG-1, MPEG-4 Part 2 and H.263 video \
                  keyframes are decoded",
        },
        None => no_video_track(),
    })
}

/// The descriptors of an `esds` box (ISO/IEC 14496-1 §7.2.6): `(tag, body)` of each
/// descriptor in `d`, a size being up to four bytes of seven bits.
fn descriptors(mut d: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (&tag, rest) = d.split_first()?;
        let (mut size, mut at) = (0usize, 0usize);
        loop {
            let b = *rest.get(at)?;
            size = (size << 7) | usize::from(b & 0x7F);
            at += 1;
            if b & 0x80 == 0 || at == 4 {
                break;
            }
        }
        let body = rest.get(at..at.checked_add(size)?)?;
        d = &rest[at + size..];
        Some((tag, body))
    })
}

/// The decoder configuration descriptor of an MPEG-4 visual sample entry's `esds`.
fn decoder_config(entry: &[u8]) -> Option<&[u8]> {
    let esds = child(entry.get(78..)?, b"esds")?.get(4..)?;
    let (_, es) = descriptors(esds).find(|&(tag, _)| tag == 0x03)?;
    // ES_ID, then flags saying which optional fields follow.
    let flags = *es.get(2)?;
    let mut at = 3;
    if flags & 0x80 != 0 {
        at += 2;
    }
    if flags & 0x40 != 0 {
        at += 1 + usize::from(*es.get(at)?);
    }
    if flags & 0x20 != 0 {
        at += 2;
    }
    descriptors(es.get(at..)?)
        .find(|&(tag, _)| tag == 0x04)
        .map(|(_, body)| body)
}

/// The object type an MPEG-4 visual sample entry names: 0x20 MPEG-4 Part 2, 0x60–0x65
/// MPEG-2 video, 0x6A MPEG-1 video.
fn mpeg_object_type(entry: &[u8]) -> Option<u8> {
    decoder_config(entry)?.first().copied()
}

/// The decoder-specific information of an MPEG-4 visual sample entry (for MPEG-1/2
/// video, the sequence header and its extension, with their start codes).
fn mpeg_specific_info(entry: &[u8]) -> Option<&[u8]> {
    // The configuration's fixed fields take 13 bytes; its descriptors follow.
    let config = decoder_config(entry)?;
    descriptors(config.get(13..)?)
        .find(|&(tag, _)| tag == 0x05)
        .map(|(_, body)| body)
}

/// A container with sound (or other tracks) and no picture: nothing to hash, and
/// nothing wrong with the file.
fn no_video_track() -> HashError {
    HashError::Unsupported {
        media_type: "a file without a video track".into(),
        why: "it holds sound or other tracks only, so there are no keyframes",
    }
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
    // A visual sample entry: 78 bytes of fields, then its boxes. A VP9 keyframe carries
    // all it needs in its own header.
    let config = |kind: &[u8; 4]| {
        entry
            .get(78..)
            .and_then(|b| child(b, kind))
            .ok_or_else(|| missing("decoder configuration (avcC/hvcC)"))
    };
    let cut = || corrupt("the decoder configuration is cut off".into());
    let (params, length_size) = match codec {
        Codec::H264 => avc_config(config(b"avcC")?).ok_or_else(cut)?,
        Codec::Hevc => hevc_config(config(b"hvcC")?).ok_or_else(cut)?,
        Codec::Vp9 | Codec::Vp8 | Codec::H263 | Codec::Sorenson => (Vec::new(), 0),
        // The sequence header, if the descriptor carries it (keyframes mostly carry their
        // own as well).
        Codec::Mpeg1 | Codec::Mpeg2 | Codec::Mpeg4 => (
            mpeg_specific_info(entry)
                .map(|i| vec![i])
                .unwrap_or_default(),
            0,
        ),
        Codec::Av1 => av1_config(config(b"av1C")?).ok_or_else(cut)?,
    };

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
    let mvex = child(moov, b"mvex");
    if sample_count == 0 && mvex.is_none() {
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
    let stts: Vec<(u32, u32)> = raw
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
            // An empty table is harmless where `moov` lists no frame (a fragmented MP4's
            // first segment).
            if s.is_empty() && sample_count > 0 {
                return Err(corrupt(
                    "the keyframe table names no frame of the track".into(),
                ));
            }
            Some(s)
        }
        None => None,
    };

    let fragments = match mvex {
        None => None,
        Some(mvex) => {
            let tkhd = child(trak, b"tkhd").ok_or_else(|| missing("track header (tkhd)"))?;
            let track_id = if tkhd.first() == Some(&1) {
                be32(tkhd, 20)
            } else {
                be32(tkhd, 12)
            }
            .ok_or_else(|| corrupt("the track header is cut off".into()))?;
            let trex = boxes(mvex)
                .filter(|b| &b.kind == b"trex")
                .find(|b| be32(b.body, 4) == Some(track_id))
                .map(|b| b.body);
            let field = |at| trex.and_then(|t| be32(t, at));
            let listed_duration = stts.iter().fold(0u64, |sum, &(count, delta)| {
                sum.saturating_add(u64::from(count).saturating_mul(u64::from(delta)))
            });
            Some(Fragments {
                track_id,
                description: field(8).unwrap_or(1),
                duration: field(12).unwrap_or(0),
                size: field(16).unwrap_or(0),
                flags: field(20).unwrap_or(0),
                first_number: u64::from(sample_count),
                start: listed_duration,
                others: boxes(mvex)
                    .filter(|b| &b.kind == b"trex")
                    .filter_map(|b| Some((be32(b.body, 4)?, be32(b.body, 16)?)))
                    .filter(|&(id, _)| id != track_id)
                    .take(256)
                    .collect(),
            })
        }
    };

    Ok(Track {
        fragments,
        edits: edits(moov, trak, timescale)?,
        coding: Coding {
            codec,
            params,
            length_size,
        },
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
            return Err(second_entry());
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

    /// Calls `f` with each keyframe a player shows, in order: those listed in the index,
    /// then those in movie fragments (read from `r`, `file_len` bytes, once per call),
    /// each with when it is shown (milliseconds).
    fn each_shown_keyframe<R: Read + Seek>(
        &self,
        r: &mut R,
        file_len: u64,
        mut f: impl FnMut(Key, u64),
    ) -> Result<(), HashError> {
        self.each_listed_keyframe(|n, at| f(Key::Listed(n), at));
        match &self.fragments {
            None => Ok(()),
            Some(frags) => frags.each_keyframe(r, file_len, |k| {
                if let Some(at) = self.shown_at_ms(k.media) {
                    f(Key::Fragment(k), at);
                }
            }),
        }
    }

    /// Calls `f` with each keyframe listed in the index that a player shows, in order of
    /// the sample list: its sample number (0-based) and when it is shown (milliseconds).
    /// Keyframes outside every edit (cut out of the video) are passed over. One pass
    /// over the tables.
    fn each_listed_keyframe(&self, mut f: impl FnMut(u32, u64)) {
        if self.sample_count == 0 {
            return;
        }
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
    fn choose<R: Read + Seek>(
        &self,
        r: &mut R,
        file_len: u64,
        count: usize,
    ) -> Result<Vec<(Key, u64)>, HashError> {
        let mut shown = 0u64;
        self.each_shown_keyframe(r, file_len, |_, _| shown += 1)?;
        if shown == 0 {
            return Err(corrupt(if self.fragments.is_some() {
                "no keyframe of the video track is shown (the file holds no movie fragment \
                 with one, or its edit list cuts them all out)"
                    .into()
            } else {
                "no keyframe of the video track is shown (its edit list cuts them all out)".into()
            }));
        }
        let wanted = ranks(shown, count);
        let mut out = Vec::with_capacity(wanted.len());
        let mut rank = 0u64;
        self.each_shown_keyframe(r, file_len, |k, at| {
            if wanted.binary_search(&rank).is_ok() {
                out.push((k, at));
            }
            rank += 1;
        })?;
        out.sort_by_key(|&(_, at)| at);
        out.dedup_by_key(|&mut (_, at)| at);
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------
// Movie fragments.

/// `tfhd` and `trun` flags (ISO/IEC 14496-12, 8.8.7 and 8.8.8).
const TFHD_BASE_DATA_OFFSET: u32 = 0x01;
const TFHD_DESCRIPTION: u32 = 0x02;
const TFHD_DURATION: u32 = 0x08;
const TFHD_SIZE: u32 = 0x10;
const TFHD_FLAGS: u32 = 0x20;
const TFHD_BASE_IS_MOOF: u32 = 0x02_0000;
const TRUN_DATA_OFFSET: u32 = 0x01;
const TRUN_FIRST_FLAGS: u32 = 0x04;
const TRUN_DURATION: u32 = 0x100;
const TRUN_SIZE: u32 = 0x200;
const TRUN_FLAGS: u32 = 0x400;
const TRUN_COMPOSITION: u32 = 0x800;
const TFHD_DURATION_IS_EMPTY: u32 = 0x01_0000;
/// `sample_is_non_sync_sample` in sample flags.
const NON_SYNC: u32 = 0x1_0000;
/// `sample_depends_on` in sample flags, and its value "depends on other samples".
const DEPENDS_ON: u32 = 0x0300_0000;
const DEPENDS_ON_OTHERS: u32 = 0x0100_0000;

/// Whether sample flags describe a keyframe: not marked as a non-sync sample, nor as
/// depending on other samples (as ffmpeg reads them).
fn is_sync(flags: u32) -> bool {
    flags & NON_SYNC == 0 && flags & DEPENDS_ON != DEPENDS_ON_OTHERS
}

/// Where the samples of a track fragment stand while its runs are read.
struct Run {
    /// Decoding time of the next sample (track time scale).
    decode: u64,
    /// Number of the next sample in the track (0-based).
    number: u64,
}

impl Fragments {
    /// Calls `f` with each sync sample of the track in the file's movie fragments, in
    /// order. Each `moof` is read (at most [`MAX_INDEX_BYTES`] of them in all); frames
    /// are never read here. A recording cut off in its last fragment keeps the fragments
    /// before it: the walk stops at a box that runs past the end of the file, and a
    /// keyframe whose bytes do so is passed over (a player cannot show it either).
    fn each_keyframe<R: Read + Seek>(
        &self,
        r: &mut R,
        file_len: u64,
        mut f: impl FnMut(FragKey),
    ) -> Result<(), HashError> {
        let mut run = Run {
            decode: self.start,
            number: self.first_number,
        };
        let mut read = 0u64;
        walk_top(
            r,
            file_len,
            MAX_FRAGMENT_BOXES,
            "in the fragmented MP4",
            |r, b| {
                if &b.kind == b"moof" {
                    read += b.size - b.header;
                    if read > MAX_FRAGMENT_INDEX_BYTES {
                        return Err(corrupt(format!(
                            "the movie fragments' indexes (moof) take more than {MAX_FRAGMENT_INDEX_BYTES} bytes"
                        )));
                    }
                    let moof = read_body(r, b, MAX_INDEX_BYTES, "a movie fragment's index (moof)")?;
                    let moof_end = b.at.saturating_add(b.size);
                    self.moof(&moof, b.at, &mut run, &mut |k: FragKey| {
                        // A frame must lie within the file, and not in the fragment's
                        // own index.
                        let inside = k.offset.checked_add(u64::from(k.size)).is_some_and(|end| {
                            end <= file_len && (end <= b.at || k.offset >= moof_end)
                        });
                        if inside {
                            f(k);
                        }
                    })?;
                }
                Ok(None::<()>)
            },
        )?;
        Ok(())
    }

    /// The sync samples of the track in one movie fragment (`moof`, starting at byte
    /// `moof_at` of the file).
    fn moof(
        &self,
        moof: &[u8],
        moof_at: u64,
        run: &mut Run,
        f: &mut dyn FnMut(FragKey),
    ) -> Result<(), HashError> {
        let cut = |what: &str| corrupt(format!("a movie fragment's {what} is cut off"));
        // Where the data of a track fragment without an explicit base begins: the
        // fragment's first byte for the first, the end of the one before for the others.
        let mut data_end = moof_at;
        let mut first = true;
        for traf in boxes(moof).filter(|b| &b.kind == b"traf") {
            let tfhd = child(traf.body, b"tfhd").ok_or_else(|| cut("track header (tfhd)"))?;
            let flags = be32(tfhd, 0).ok_or_else(|| cut("track header (tfhd)"))? & 0xFF_FFFF;
            let track_id = be32(tfhd, 4).ok_or_else(|| cut("track header (tfhd)"))?;
            let mut at = 8;
            let mut optional = |flag: u32, width: usize| -> Result<Option<u64>, HashError> {
                if flags & flag == 0 {
                    return Ok(None);
                }
                let v = tfhd
                    .get(at..at + width)
                    .ok_or_else(|| cut("track header (tfhd)"))?
                    .iter()
                    .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
                at += width;
                Ok(Some(v))
            };
            let base_offset = optional(TFHD_BASE_DATA_OFFSET, 8)?;
            let description = optional(TFHD_DESCRIPTION, 4)?.map_or(self.description, |v| v as u32);
            let duration = optional(TFHD_DURATION, 4)?.map_or(self.duration, |v| v as u32);
            let tfhd_size = optional(TFHD_SIZE, 4)?;
            let size = tfhd_size.map_or(self.size, |v| v as u32);
            let default_flags = optional(TFHD_FLAGS, 4)?.map_or(self.flags, |v| v as u32);
            let base = match base_offset {
                Some(b) => b,
                None if first || flags & TFHD_BASE_IS_MOOF != 0 => moof_at,
                None => data_end,
            };
            first = false;
            let ours = track_id == self.track_id;
            if !ours {
                // Another track's frames: only where they end matters here, each frame
                // of the size its own track's defaults give.
                let own = tfhd_size.or_else(|| {
                    self.others
                        .iter()
                        .find(|&&(id, _)| id == track_id)
                        .map(|&(_, s)| u64::from(s))
                });
                data_end = foreign_runs_end(traf.body, base, own.unwrap_or(0) as u32)?;
                continue;
            }
            if let Some(tfdt) = child(traf.body, b"tfdt") {
                run.decode = if tfdt.first() == Some(&1) {
                    tfdt.get(4..12)
                        .map(|b| u64::from_be_bytes(b.try_into().expect("8")))
                } else {
                    be32(tfdt, 4).map(u64::from)
                }
                .ok_or_else(|| cut("decoding time (tfdt)"))?;
            }
            if flags & TFHD_DURATION_IS_EMPTY != 0 && child(traf.body, b"trun").is_none() {
                // An empty stretch of the track: no frames, but time passes.
                run.decode = run.decode.saturating_add(u64::from(duration));
            }
            let mut next = base;
            for trun in boxes(traf.body).filter(|b| &b.kind == b"trun") {
                let t = trun.body;
                let tflags = be32(t, 0).ok_or_else(|| cut("run (trun)"))? & 0xFF_FFFF;
                let count = be32(t, 4).ok_or_else(|| cut("run (trun)"))?;
                let mut at = 8;
                let mut field = || -> Result<u32, HashError> {
                    let v = be32(t, at).ok_or_else(|| cut("run (trun)"))?;
                    at += 4;
                    Ok(v)
                };
                let mut offset = next;
                if tflags & TRUN_DATA_OFFSET != 0 {
                    let delta = i64::from(field()? as i32);
                    // Frames placed before the file's start cannot be read: they are
                    // passed over (as frames past its end are), not the whole file.
                    offset = base.checked_add_signed(delta).unwrap_or(u64::MAX);
                }
                let first_flags = if tflags & TRUN_FIRST_FLAGS != 0 {
                    Some(field()?)
                } else {
                    None
                };
                let per_sample = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_COMPOSITION]
                    .iter()
                    .filter(|&&b| tflags & b != 0)
                    .count()
                    * 4;
                let need = u64::from(count) * per_sample as u64;
                if need > t.len().saturating_sub(at) as u64 {
                    return Err(corrupt(format!(
                        "a movie fragment's run lists {count} frames, more than its box holds"
                    )));
                }
                if run.number.saturating_add(u64::from(count)) > u64::from(MAX_SAMPLES) {
                    return Err(corrupt(format!(
                        "the video track lists more than {MAX_SAMPLES} frames"
                    )));
                }
                let entries = &t[at..at + need as usize];
                for i in 0..count as usize {
                    let mut e = entries[i * per_sample..(i + 1) * per_sample].chunks_exact(4);
                    let mut take = |flag: u32| {
                        (tflags & flag != 0).then(|| {
                            u32::from_be_bytes(e.next().expect("4").try_into().expect("4"))
                        })
                    };
                    let sample_duration = take(TRUN_DURATION).unwrap_or(duration);
                    let sample_size = take(TRUN_SIZE).unwrap_or(size);
                    let sample_flags = take(TRUN_FLAGS)
                        .or(if i == 0 { first_flags } else { None })
                        .unwrap_or(default_flags);
                    // Read as signed in both versions, as `ctts` is.
                    let composition = take(TRUN_COMPOSITION).map_or(0, |v| i64::from(v as i32));
                    if is_sync(sample_flags) {
                        f(FragKey {
                            number: run.number,
                            offset,
                            size: sample_size,
                            description,
                            media: i128::from(run.decode) + i128::from(composition),
                        });
                    }
                    offset = offset.saturating_add(u64::from(sample_size));
                    run.decode = run.decode.saturating_add(u64::from(sample_duration));
                    run.number += 1;
                }
                next = offset;
            }
            data_end = next;
        }
        Ok(())
    }
}

/// Where the frames of another track's fragment (`traf` body) end, its data starting
/// at `base` and its frames `size` bytes each unless its runs say otherwise.
fn foreign_runs_end(traf: &[u8], base: u64, size: u32) -> Result<u64, HashError> {
    let cut = || corrupt("a movie fragment's run (trun) is cut off".into());
    let mut next = base;
    for trun in boxes(traf).filter(|b| &b.kind == b"trun") {
        let t = trun.body;
        let tflags = be32(t, 0).ok_or_else(cut)? & 0xFF_FFFF;
        let count = be32(t, 4).ok_or_else(cut)?;
        let mut at = 8;
        if tflags & TRUN_DATA_OFFSET != 0 {
            let delta = i64::from(be32(t, at).ok_or_else(cut)? as i32);
            next = base.checked_add_signed(delta).unwrap_or(u64::MAX);
            at += 4;
        }
        if tflags & TRUN_FIRST_FLAGS != 0 {
            at += 4;
        }
        let fields = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_COMPOSITION];
        let width = fields.iter().filter(|&&b| tflags & b != 0).count() * 4;
        let bytes = if tflags & TRUN_SIZE == 0 {
            u64::from(count).saturating_mul(u64::from(size))
        } else {
            // The size is the first per-sample field after the duration.
            let skip = if tflags & TRUN_DURATION != 0 { 4 } else { 0 };
            let need = u64::from(count) * width as u64;
            if need > t.len().saturating_sub(at) as u64 {
                return Err(corrupt(format!(
                    "a movie fragment's run lists {count} frames, more than its box holds"
                )));
            }
            t[at..at + need as usize]
                .chunks_exact(width)
                .map(|e| u64::from(be32(e, skip).unwrap_or(0)))
                .sum()
        };
        next = next.saturating_add(bytes);
    }
    Ok(next)
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

fn annex_b(coding: &Coding<'_>, frame: &[u8]) -> Result<Stream, HashError> {
    let mut out = Stream {
        bytes: Vec::with_capacity(frame.len() + 256),
        nals: Vec::new(),
    };
    for p in &coding.params {
        out.put(p);
    }
    let mut at = 0;
    while at < frame.len() {
        let len_bytes = frame
            .get(at..at + coding.length_size)
            .ok_or_else(|| corrupt("a frame's last NAL unit is cut off".into()))?;
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        at += coding.length_size;
        let nal = frame
            .get(at..at.saturating_add(len))
            .ok_or_else(|| corrupt("a NAL unit runs past its frame".into()))?;
        if !nal.is_empty() {
            if out.nals.len() >= annexb::MAX_NALS {
                return Err(corrupt(format!(
                    "a keyframe holds more than {} NAL units",
                    annexb::MAX_NALS
                )));
            }
            out.put(nal);
        }
        at += len;
    }
    Ok(out)
}

/// A panic inside a decoder is this file's failure, not the caller's: the decoders are
/// new and read hostile input.
fn guarded(decode: &dyn Fn() -> Result<phash::Grid, HashError>) -> Result<phash::Grid, HashError> {
    catch_unwind(AssertUnwindSafe(decode))
        .map_err(|_| corrupt("the decoder stopped on an internal error".into()))?
}

/// The grid of a keyframe's luma, as coded (not yet turned).
fn decode(coding: &Coding<'_>, frame: &[u8]) -> Result<phash::Grid, HashError> {
    match coding.codec {
        Codec::Vp9 => {
            // Every frame's size is checked before the decoder allocates it.
            vpx::check_vp9_sizes(frame)?;
            guarded(&|| vpx::decode_vp9(frame))
        }
        Codec::Vp8 => {
            vpx::check_vp8_size(frame)?;
            guarded(&|| vpx::decode_vp8(frame))
        }
        Codec::H264 | Codec::Hevc => decode_stream(coding.codec, &annex_b(coding, frame)?),
        Codec::Av1 => decode_av1(coding, frame),
        // A picture's header gives its size, checked against the standard's few.
        Codec::H263 => guarded(&|| mpeg4::decode_h263(frame)),
        Codec::Sorenson => guarded(&|| mpeg4::decode_sorenson(frame)),
        // The configuration's sequence header (a keyframe's own, when it has one,
        // comes after it and is the one read), then the keyframe, start codes and all.
        Codec::Mpeg1 | Codec::Mpeg2 | Codec::Mpeg4 => {
            let mut bytes: Vec<u8> = coding.params.concat();
            bytes.extend_from_slice(frame);
            let units: Vec<_> = annexb::nal_units(&bytes)
                .take(annexb::MAX_NALS + 1)
                .collect();
            if units.len() > annexb::MAX_NALS {
                return Err(corrupt(format!(
                    "a keyframe holds more than {} start codes",
                    annexb::MAX_NALS
                )));
            }
            if coding.codec == Codec::Mpeg4 {
                guarded(&|| mpeg4::decode(&bytes, &units))
            } else {
                guarded(&|| mpeg12::decode(&bytes, &units))
            }
        }
    }
}

/// The grid of an AV1 keyframe: the configuration's OBUs (the sequence header, when
/// the configuration carries it), then the frame's, decoded by the installed decoder
/// in a process of its own ([`crate::av1`]).
fn decode_av1(coding: &Coding<'_>, frame: &[u8]) -> Result<phash::Grid, HashError> {
    let mut obus =
        Vec::with_capacity(coding.params.iter().map(|p| p.len()).sum::<usize>() + frame.len());
    for p in &coding.params {
        obus.extend_from_slice(p);
    }
    obus.extend_from_slice(frame);
    // The decoding child refuses a larger picture before allocating it, as the other
    // decoders' sizes are checked before they decode. Each picture takes its turn in
    // the budget at the largest size it may have.
    let _held = crate::budget::take(MAX_FRAME_PIXELS.saturating_mul(8));
    let picture = crate::av1::decode(&obus, MAX_FRAME_PIXELS, "AV1")?;
    let (w, h) = (picture.width as usize, picture.height as usize);
    Ok(phash::grid_of_rows(w, h, picture.luma.chunks_exact(w), 1.0))
}

/// An AV1 codec configuration record (`av1C`, or a Matroska track's CodecPrivate):
/// four bytes of fields, the first of which says version 1, then OBUs to decode before
/// any frame (the sequence header, or nothing when every keyframe carries its own).
fn av1_config(c: &[u8]) -> Option<(Vec<&[u8]>, usize)> {
    // marker (1 bit, set) and version (7 bits, 1).
    if c.len() < 4 || c[0] != 0x81 {
        return None;
    }
    Some((vec![&c[4..]], 0))
}

/// The grid of an H.264 or HEVC keyframe given as an Annex-B stream with its parameter
/// sets.
fn decode_stream(codec: Codec, stream: &Stream) -> Result<phash::Grid, HashError> {
    match codec {
        Codec::H264 => {
            // The decoder crops the right and bottom; the left and top are cropped here.
            let left_top = stream
                .nals
                .iter()
                .find_map(|r| sps::h264_left_top(&stream.bytes[r.clone()]))
                .unwrap_or((0, 0));
            guarded(&|| decode_h264(&stream.bytes, left_top))
        }
        Codec::Hevc => {
            // The picture's size is checked before the decoder allocates it.
            for r in &stream.nals {
                check_hevc_size(&stream.bytes[r.clone()])?;
            }
            guarded(&|| decode_hevc(&stream.bytes))
        }
        // Nothing in the decoder panics on purpose, but it reads hostile input.
        Codec::Mpeg1 | Codec::Mpeg2 => guarded(&|| mpeg12::decode(&stream.bytes, &stream.nals)),
        Codec::Mpeg4 => guarded(&|| mpeg4::decode(&stream.bytes, &stream.nals)),
        Codec::Vp9 | Codec::Vp8 | Codec::Av1 | Codec::H263 | Codec::Sorenson => Err(corrupt(
            "a VP8, VP9, AV1 or H.263 frame has no Annex-B form".into(),
        )),
    }
}

fn decode_h264(stream: &[u8], (left, top): (usize, usize)) -> Result<phash::Grid, HashError> {
    let mut dec = rusty_h264_decoder::Decoder::new();
    let frame = dec
        .decode(stream)
        .map_err(|e| corrupt(format!("H.264: {e}")))?
        .ok_or_else(|| corrupt("H.264: the keyframe holds no picture".into()))?;
    let (w, h) = (frame.width, frame.height);
    if w <= left || h <= top || frame.y.len() < w * h {
        return Err(corrupt("H.264: the picture is empty".into()));
    }
    let rows = frame.y.chunks_exact(w).skip(top).map(|row| &row[left..]);
    Ok(phash::grid_of_rows(w - left, h - top, rows, 1.0))
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
    let (w, h) = sps::hevc_coded_size(nal)
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

#[cfg(test)]
mod tests {
    use super::sps::tests::hevc_sps;
    use super::*;

    #[test]
    fn clocks_run_on_over_wraps_and_resets() {
        const PTS_WRAP: u64 = 1 << 33;
        let mut c = Clock::new(PTS_WRAP, 180_000, 3_600);
        assert_eq!(c.time(PTS_WRAP - 3_600), PTS_WRAP - 3_600);
        assert_eq!(c.time(0), PTS_WRAP);
        // A frame shown before the wrap but coming after it (B-frames).
        assert_eq!(c.time(PTS_WRAP - 1_800), PTS_WRAP - 1_800);
        assert_eq!(c.time(3_600), PTS_WRAP + 3_600);
        assert_eq!(c.time(1_000_000), PTS_WRAP + 1_000_000);
        // A second recording joined on, its times starting again: it runs on from
        // the latest, one frame (the shortest step forward, 3,600) later.
        let joined = PTS_WRAP + 1_000_000 + 3_600;
        assert_eq!(c.time(3_600), joined);
        assert_eq!(c.time(7_200), joined + 3_600);

        // With no step forward seen yet, a reset runs on by the default frame.
        let mut c = Clock::new(1 << 32, 1_000, 40);
        assert_eq!(c.time(5_000), 5_000);
        assert_eq!(c.time(0), 5_040);
    }

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
            coding: Coding {
                codec: Codec::H264,
                params: Vec::new(),
                length_size: 4,
            },
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
            fragments: None,
        }
    }

    fn shown(t: &Track<'_>) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        t.each_listed_keyframe(|n, at| out.push((n, at)));
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
        let no_file = &mut std::io::Cursor::new(Vec::new());
        let picked = two.choose(no_file, 0, 2).unwrap();
        assert_eq!(picked, vec![(Key::Listed(0), 500), (Key::Listed(40), 3000)]);
        // An edit list that shows none of them.
        let none = track_with(Some(Vec::new()));
        assert!(none.choose(no_file, 0, 5).is_err());
    }

    /// A box of `kind` around `body`.
    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    /// A full box's body: version, flags, then the fields.
    fn full(version: u8, flags: u32, fields: &[u32]) -> Vec<u8> {
        let mut out = ((u32::from(version) << 24) | flags).to_be_bytes().to_vec();
        for f in fields {
            out.extend_from_slice(&f.to_be_bytes());
        }
        out
    }

    fn frags() -> Fragments {
        Fragments {
            track_id: 1,
            description: 1,
            duration: 100,
            size: 10,
            flags: NON_SYNC,
            first_number: 0,
            start: 0,
            others: vec![(3, 40)],
        }
    }

    fn keys_of(moof: &[u8], at: u64) -> Vec<FragKey> {
        let mut out = Vec::new();
        let mut run = Run {
            decode: 0,
            number: 0,
        };
        frags()
            .moof(moof, at, &mut run, &mut |k| out.push(k))
            .unwrap();
        out
    }

    #[test]
    fn movie_fragments_give_their_sync_samples_where_and_when_they_lie() {
        // Track 2's fragment comes first (its data is 50 bytes from the moof), then
        // track 1's: a run taking the trex defaults (non-sync) but for its first sample,
        // and a run with per-sample sizes, flags and signed composition offsets that
        // follows the first run's data.
        let other = bx(
            b"traf",
            &[
                bx(b"tfhd", &full(0, TFHD_SIZE, &[2, 50])),
                bx(b"trun", &full(0, 0x201, &[1, 0, 50])),
            ]
            .concat(),
        );
        let ours = bx(
            b"traf",
            &[
                bx(b"tfhd", &full(0, 0, &[1])),
                bx(b"tfdt", &full(1, 0, &[0, 3000])),
                bx(
                    b"trun",
                    &full(0, TRUN_DATA_OFFSET | TRUN_FIRST_FLAGS, &[3, 200, 0]),
                ),
                bx(
                    b"trun",
                    &full(
                        1,
                        TRUN_SIZE | TRUN_FLAGS | TRUN_COMPOSITION,
                        &[2, 7, NON_SYNC, 0, 8, 0, (-100i32) as u32],
                    ),
                ),
            ]
            .concat(),
        );
        let moof = [other, ours].concat();
        let keys = keys_of(&moof, 1000);
        let key = |number, offset, size, media| FragKey {
            number,
            offset,
            size,
            description: 1,
            media,
        };
        // The second traf has no base of its own: its data follows the first's (1000 +
        // 50 = 1050), its first run's offset counts from there, and its second run
        // follows the first run's three frames of 10 bytes (1280).
        assert_eq!(
            keys,
            vec![key(0, 1250, 10, 3000), key(4, 1287, 8, 3300)],
            "{keys:?}"
        );

        // An explicit base and a description other than the first.
        let explicit = bx(
            b"traf",
            &[
                bx(
                    b"tfhd",
                    &full(
                        0,
                        TFHD_BASE_DATA_OFFSET | TFHD_DESCRIPTION | TFHD_FLAGS,
                        &[1, 0, 5000, 2, 0],
                    ),
                ),
                bx(b"trun", &full(0, 0, &[1])),
            ]
            .concat(),
        );
        let keys = keys_of(&explicit, 0);
        assert_eq!(keys.len(), 1);
        assert_eq!((keys[0].offset, keys[0].description), (5000, 2));
        assert!(keys[0].place().is_err(), "a second sample entry is refused");
    }

    /// Another track's fragment takes its frame size from its own track's defaults;
    /// frames marked as depending on others are not keyframes; an empty stretch
    /// (`duration-is-empty`) moves the time on.
    #[test]
    fn fragments_follow_each_tracks_defaults_and_flags() {
        let foreign = bx(
            b"traf",
            &[
                bx(b"tfhd", &full(0, 0, &[3])),
                bx(b"trun", &full(0, 0, &[2])),
            ]
            .concat(),
        );
        let empty = bx(
            b"traf",
            &bx(b"tfhd", &full(0, TFHD_DURATION_IS_EMPTY, &[1])),
        );
        let ours = bx(
            b"traf",
            &[
                bx(b"tfhd", &full(0, 0, &[1])),
                bx(
                    b"trun",
                    &full(0, TRUN_FLAGS, &[3, 0, DEPENDS_ON_OTHERS, 0x0200_0000]),
                ),
            ]
            .concat(),
        );
        let keys = keys_of(&[foreign, empty, ours].concat(), 1000);
        // Track 3's two frames of 40 bytes come first: ours starts at 1080. The empty
        // stretch lasts the default 100 ticks. Of the three frames, the second depends on
        // others; the first and third (depends on none) are keyframes.
        let at: Vec<(u64, u64, i128)> =
            keys.iter().map(|k| (k.number, k.offset, k.media)).collect();
        assert_eq!(at, vec![(0, 1080, 100), (2, 1100, 300)], "{keys:?}");
    }

    #[test]
    fn damaged_movie_fragments_say_what_is_wrong() {
        let mut run = Run {
            decode: 0,
            number: 0,
        };
        let err = |moof: &[u8], run: &mut Run| {
            frags()
                .moof(moof, 0, run, &mut |_| ())
                .unwrap_err()
                .to_string()
        };
        let traf = |trun: Vec<u8>| bx(b"traf", &[bx(b"tfhd", &full(0, 0, &[1])), trun].concat());
        // More per-sample entries than the run's box holds.
        let e = err(
            &traf(bx(b"trun", &full(0, TRUN_SIZE, &[1_000_000, 5]))),
            &mut run,
        );
        assert!(e.contains("1000000 frames, more than its box holds"), "{e}");
        // A frame count past the track's limit, even with no per-sample fields.
        let e = err(&traf(bx(b"trun", &full(0, 0, &[u32::MAX]))), &mut run);
        assert!(e.contains("more than 16777216 frames"), "{e}");
        // Data placed before the file's start: its frames are passed over, not the
        // file refused (offset past every file's end).
        let mut placed = Vec::new();
        frags()
            .moof(
                &traf(bx(
                    b"trun",
                    &full(
                        0,
                        TRUN_DATA_OFFSET | TRUN_FIRST_FLAGS,
                        &[1, (-8i32) as u32, 0],
                    ),
                )),
                0,
                &mut run,
                &mut |k| placed.push(k.offset),
            )
            .unwrap();
        assert_eq!(placed, vec![u64::MAX]);
        // A track fragment without its header.
        let e = err(&bx(b"traf", &bx(b"trun", &full(0, 0, &[1]))), &mut run);
        assert!(e.contains("track header (tfhd) is cut off"), "{e}");
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

    #[test]
    fn hevc_picture_sizes_are_checked_without_overflow() {
        assert_eq!(
            sps::hevc_coded_size(&hevc_sps(1920, 1080)),
            Some((1920, 1080))
        );
        assert!(check_hevc_size(&hevc_sps(7680, 4320)).is_ok());
        let e = check_hevc_size(&hevc_sps(16384, 16384)).unwrap_err();
        assert!(e.to_string().contains("16384x16384 pixels"), "{e}");
        // Sizes whose product overflows 64 bits are refused, not wrapped.
        let huge = (1u64 << 33) - 2;
        let e = check_hevc_size(&hevc_sps(huge, huge)).unwrap_err();
        assert!(e.to_string().contains("more than the limit"), "{e}");
        assert!(
            check_hevc_size(&[0x40, 0x01, 0x0c]).is_ok(),
            "a VPS is not checked"
        );
    }
}
