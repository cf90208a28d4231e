//! Keyframes of Matroska and WebM videos: VP9 (as YouTube serves WebM), VP8 (older web
//! video, browsers' recorders), H.264 and HEVC (as OBS and yt-dlp write Matroska).
//!
//! Only element headers are read while walking the file, and only the chosen frames'
//! bytes after that: the EBML header, `Info` (the time scale), `Tracks` (the first
//! video track a decoder here takes, with its codec's private data), then every
//! `Cluster`'s blocks of that track, whose keyframe flag (`SimpleBlock`) or lack of a
//! `ReferenceBlock` (`BlockGroup`) says which frames are keyframes. Block times are
//! presentation times (cluster timestamp plus the block's offset, times the time
//! scale), so a keyframe's time is when a player shows it. As for MP4 fragments, the
//! walk is made twice (count, then take the chosen ones), so nothing is kept per
//! frame. A live recording writes elements of unknown size (a browser's
//! `MediaRecorder`, ffmpeg to a pipe): such a segment runs to the end of the file, and
//! such a cluster to the next element that cannot be inside one. A recording cut off
//! mid-cluster keeps its whole keyframes: the walk stops at an element that runs past
//! the end of the file, and a keyframe whose bytes do is passed over.
//!
//! Matroska's `Projection` (a turned picture) is not read: pictures are hashed as
//! coded.

use std::io::{Read, Seek, SeekFrom};

use super::{
    Chosen, Codec, Coding, Keyframe, MAX_KEYFRAMES, MAX_SAMPLES, av1_config, avc_config, corrupt,
    hash_frames, hevc_config, io_error, no_video_track, ranks,
};
use crate::HashError;

const EBML: u32 = 0x1A45_DFA3;
const DOC_TYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const SEEK_HEAD: u32 = 0x114D_9B74;
const INFO: u32 = 0x1549_A966;
const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_NUMBER: u32 = 0xD7;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const CODEC_PRIVATE: u32 = 0x63A2;
const CONTENT_ENCODINGS: u32 = 0x6D80;
const CLUSTER: u32 = 0x1F43_B675;
const CLUSTER_TIMESTAMP: u32 = 0xE7;
const SIMPLE_BLOCK: u32 = 0xA3;
const BLOCK_GROUP: u32 = 0xA0;
const BLOCK: u32 = 0xA1;
const REFERENCE_BLOCK: u32 = 0xFB;
const CUES: u32 = 0x1C53_BB6B;
const ATTACHMENTS: u32 = 0x1941_A469;
const CHAPTERS: u32 = 0x1043_A770;
const TAGS: u32 = 0x1254_C367;

/// Elements found only at the segment's level: one of them ends a cluster of unknown
/// size.
const SEGMENT_LEVEL: [u32; 8] = [
    SEEK_HEAD,
    INFO,
    TRACKS,
    CLUSTER,
    CUES,
    ATTACHMENTS,
    CHAPTERS,
    TAGS,
];

/// Bytes read at once while walking element headers.
const WINDOW: u64 = 8 * 1024;

/// Largest EBML header, `Info` or `Tracks` element read whole.
const MAX_HEADER_BYTES: u64 = 64 * 1024;
const MAX_INFO_BYTES: u64 = 1024 * 1024;
const MAX_TRACKS_BYTES: u64 = 16 * 1024 * 1024;

/// Most elements walked in one pass over the file (a block and its header are one;
/// an hour of 30 fps video with audio is about 300,000).
const MAX_ELEMENTS: u64 = 20_000_000;

/// Whether the file starts with an EBML header (Matroska, WebM).
pub(super) fn sniff<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<bool, HashError> {
    if file_len < 4 {
        return Ok(false);
    }
    let mut head = [0u8; 4];
    r.seek(SeekFrom::Start(0)).map_err(io_error)?;
    r.read_exact(&mut head).map_err(io_error)?;
    Ok(u32::from_be_bytes(head) == EBML)
}

/// Hashes up to [`MAX_KEYFRAMES`] keyframes of a Matroska or WebM file, in the order
/// they are shown.
pub(super) fn hash_keyframes<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
) -> Result<Vec<Keyframe>, HashError> {
    let segment = segment(r, file_len)?;
    let head = head(r, &segment)?;
    let coding = head.track.coding()?;
    let mut shown = 0u64;
    walk_blocks(r, &segment, &head, |_| shown += 1)?;
    if shown == 0 {
        return Err(corrupt(
            "the video track holds no whole keyframe (no block is marked as one)".into(),
        ));
    }
    let wanted = ranks(shown, MAX_KEYFRAMES);
    let mut chosen = Vec::with_capacity(wanted.len());
    let mut rank = 0u64;
    walk_blocks(r, &segment, &head, |k| {
        if wanted.binary_search(&rank).is_ok() {
            chosen.push(k);
        }
        rank += 1;
    })?;
    chosen.sort_by_key(|k| k.at_ms);
    chosen.dedup_by_key(|k| k.at_ms);
    hash_frames(r, file_len, &coding, 1, &chosen)
}

// ---------------------------------------------------------------------------------------
// EBML.

/// An element: its ID (with its length marker, as written), where its data starts,
/// and its data's size (`None`: unknown, as live recordings write it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Element {
    id: u32,
    at: u64,
    data: u64,
    size: Option<u64>,
}

impl Element {
    /// Where its data ends, given where its parent's does; `None` when it runs past it
    /// (a file cut off).
    fn end(&self, parent_end: u64) -> Option<u64> {
        match self.size {
            None => Some(parent_end),
            Some(s) => self.data.checked_add(s).filter(|&e| e <= parent_end),
        }
    }
}

/// A variable-length integer at the start of `b`: its length and value with the length
/// marker removed (`keep_marker` keeps it, as IDs are written). `None` when `b` is too
/// short or the first byte is zero.
fn vint(b: &[u8], max_len: usize, keep_marker: bool) -> Option<(usize, u64)> {
    let first = *b.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > max_len || b.len() < len {
        return None;
    }
    let mut v = if keep_marker {
        u64::from(first)
    } else {
        u64::from(first) & (0xFF >> len)
    };
    for &x in &b[1..len] {
        v = (v << 8) | u64::from(x);
    }
    Some((len, v))
}

/// Reads element headers and the first bytes of blocks through a window of the file
/// (a run of small elements costs one read, not one each), and counts the elements
/// walked against [`MAX_ELEMENTS`].
struct Walk<'r, R> {
    r: &'r mut R,
    window: Vec<u8>,
    window_at: u64,
    walked: u64,
}

impl<'r, R: Read + Seek> Walk<'r, R> {
    fn new(r: &'r mut R) -> Self {
        Walk {
            r,
            window: Vec::new(),
            window_at: 0,
            walked: 0,
        }
    }

    /// Up to `len` bytes at `at`, none at or past `end`.
    fn bytes(&mut self, at: u64, len: usize, end: u64) -> Result<&[u8], HashError> {
        let want = end.saturating_sub(at).min(len as u64) as usize;
        let window_end = self.window_at + self.window.len() as u64;
        if at < self.window_at || at + want as u64 > window_end {
            self.window
                .resize(end.saturating_sub(at).min(WINDOW) as usize, 0);
            self.r.seek(SeekFrom::Start(at)).map_err(io_error)?;
            self.r.read_exact(&mut self.window).map_err(io_error)?;
            self.window_at = at;
        }
        let start = (at - self.window_at) as usize;
        Ok(&self.window[start..start + want])
    }

    /// The element whose header starts at `at`, inside a parent ending at `end`; `None`
    /// when no valid header does (the parent ends there; in a damaged or cut-off file,
    /// the walk does).
    fn element(&mut self, at: u64, end: u64) -> Result<Option<Element>, HashError> {
        if at >= end {
            return Ok(None);
        }
        self.walked += 1;
        if self.walked > MAX_ELEMENTS {
            return Err(corrupt(format!(
                "more than {MAX_ELEMENTS} elements in the file"
            )));
        }
        let b = self.bytes(at, 12, end)?;
        let Some((id_len, id)) = vint(b, 4, true) else {
            return Ok(None);
        };
        let Some((size_len, size)) = vint(&b[id_len..], 8, false) else {
            return Ok(None);
        };
        let unknown = size == (1u64 << (7 * size_len)) - 1;
        Ok(Some(Element {
            id: id as u32,
            at,
            data: at + (id_len + size_len) as u64,
            size: (!unknown).then_some(size),
        }))
    }

    /// The head of the block whose data lies from `data` to `end`.
    fn block_head(&mut self, data: u64, end: u64) -> Result<Option<BlockHead>, HashError> {
        let b = self.bytes(data, 11, end)?;
        let Some((len, track)) = vint(b, 8, false) else {
            return Ok(None);
        };
        if b.len() < len + 3 {
            return Ok(None);
        }
        Ok(Some(BlockHead {
            track,
            offset: i16::from_be_bytes([b[len], b[len + 1]]),
            flags: b[len + 2],
            len: len as u64 + 3,
        }))
    }

    /// The data of element `e` (inside a parent ending at `end`), at most `limit` bytes.
    fn data(
        &mut self,
        e: &Element,
        end: u64,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>, HashError> {
        let stop = e
            .end(end)
            .filter(|_| e.size.is_some())
            .ok_or_else(|| corrupt(format!("{what} runs past the end of the file")))?;
        let len = stop - e.data;
        if len > limit {
            return Err(corrupt(format!("{what} is {len} bytes, more than {limit}")));
        }
        let mut out = vec![0u8; len as usize];
        self.r.seek(SeekFrom::Start(e.data)).map_err(io_error)?;
        self.r.read_exact(&mut out).map_err(io_error)?;
        Ok(out)
    }
}

/// The children of an element's data held in memory: (ID, data), stopping at the first
/// that is malformed, of unknown size or runs past the end.
fn children(mut d: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    std::iter::from_fn(move || {
        let (id_len, id) = vint(d, 4, true)?;
        let (size_len, size) = vint(&d[id_len..], 8, false)?;
        let start = id_len + size_len;
        let end = u64::try_from(start).ok()?.checked_add(size)?;
        if end > d.len() as u64 || size == (1u64 << (7 * size_len)) - 1 {
            d = &[];
            return None;
        }
        let data = &d[start..end as usize];
        d = &d[end as usize..];
        Some((id as u32, data))
    })
}

/// An unsigned integer element's value (at most 8 bytes).
fn uint(d: &[u8]) -> Option<u64> {
    (d.len() <= 8).then(|| d.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
}

// ---------------------------------------------------------------------------------------
// The segment and its head.

/// Where the segment's children lie.
struct Segment {
    data: u64,
    end: u64,
}

/// Checks the EBML header (a Matroska or WebM document) and finds the segment.
fn segment<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<Segment, HashError> {
    let mut w = Walk::new(r);
    let header = w
        .element(0, file_len)?
        .filter(|e| e.id == EBML)
        .ok_or_else(|| corrupt("the EBML header is cut off".into()))?;
    let body = w.data(&header, file_len, MAX_HEADER_BYTES, "the EBML header")?;
    let doc_type = children(&body)
        .find(|&(id, _)| id == DOC_TYPE)
        .map(|(_, d)| String::from_utf8_lossy(d).trim_end_matches('\0').to_owned())
        .unwrap_or_else(|| "matroska".into());
    if doc_type != "webm" && doc_type != "matroska" {
        return Err(HashError::Unsupported {
            media_type: format!("EBML document of type {doc_type:?}"),
            why: "only Matroska and WebM videos are read",
        });
    }
    let mut at = header.end(file_len).expect("read whole");
    // Void and other elements may stand between the header and the segment.
    for _ in 0..16 {
        let Some(e) = w.element(at, file_len)? else {
            break;
        };
        if e.id == SEGMENT {
            // A segment of unknown size, or one cut off, runs to the end of the file.
            let end = e.end(file_len).unwrap_or(file_len);
            return Ok(Segment { data: e.data, end });
        }
        at = e
            .end(file_len)
            .filter(|_| e.size.is_some())
            .ok_or_else(|| corrupt("an element before the segment runs past the file".into()))?;
    }
    Err(corrupt(
        "no segment: the file is not a complete Matroska/WebM video".into(),
    ))
}

/// The video track whose keyframes are hashed.
struct VideoTrack {
    number: u64,
    codec: Codec,
    private: Vec<u8>,
}

impl VideoTrack {
    fn coding(&self) -> Result<Coding<'_>, HashError> {
        let (params, length_size) = match self.codec {
            Codec::Vp9 | Codec::Vp8 | Codec::H263 | Codec::Sorenson => (Vec::new(), 0),
            // The sequence header, with its start code, as the codec's private data.
            // MPEG-4 Part 2: the video object layer header, likewise.
            Codec::Mpeg1 | Codec::Mpeg2 | Codec::Mpeg4 => (vec![&self.private[..]], 0),
            Codec::H264 => avc_config(&self.private).ok_or_else(no_config)?,
            Codec::Hevc => hevc_config(&self.private).ok_or_else(no_config)?,
            Codec::Av1 => av1_config(&self.private).ok_or_else(no_config)?,
        };
        Ok(Coding {
            codec: self.codec,
            params,
            length_size,
        })
    }
}

fn no_config() -> HashError {
    corrupt("the video track's decoder configuration (CodecPrivate) is missing or cut off".into())
}

/// What the segment says before its first cluster: the time scale and the video track.
struct Head {
    /// Nanoseconds per unit of block and cluster time.
    scale: u64,
    track: VideoTrack,
    /// Where the first cluster starts.
    first_cluster: u64,
}

fn head<R: Read + Seek>(r: &mut R, seg: &Segment) -> Result<Head, HashError> {
    let mut scale = 1_000_000u64;
    let mut track = None;
    let mut unsupported = None;
    let mut seen_tracks = false;
    let mut at = seg.data;
    let mut w = Walk::new(r);
    while let Some(e) = w.element(at, seg.end)? {
        match e.id {
            INFO => {
                let info = w.data(&e, seg.end, MAX_INFO_BYTES, "the segment information")?;
                if let Some((_, d)) = children(&info).find(|&(id, _)| id == TIMESTAMP_SCALE) {
                    scale = uint(d)
                        .filter(|&s| s > 0)
                        .ok_or_else(|| corrupt("the time scale is not a positive number".into()))?;
                }
            }
            TRACKS => {
                let tracks = w.data(&e, seg.end, MAX_TRACKS_BYTES, "the track list")?;
                (track, unsupported) = video_track(&tracks);
                seen_tracks = true;
            }
            CLUSTER => {
                let track = track.ok_or_else(|| match unsupported.take() {
                    Some((media_type, why)) => HashError::Unsupported { media_type, why },
                    None if seen_tracks => no_video_track(),
                    None => corrupt("no track list before the first cluster".into()),
                })?;
                return Ok(Head {
                    scale,
                    track,
                    first_cluster: e.at,
                });
            }
            _ => {}
        }
        match e.end(seg.end).filter(|_| e.size.is_some()) {
            Some(end) => at = end,
            None => break,
        }
    }
    Err(corrupt("no cluster: the video holds no frames".into()))
}

/// Why the first video track not taken is not: its media type and the reason.
type NotTaken = (String, &'static str);

/// The first video track with a codec decoded here, and why the first video track not
/// taken is not.
fn video_track(tracks: &[u8]) -> (Option<VideoTrack>, Option<NotTaken>) {
    let mut unsupported = None;
    for (id, entry) in children(tracks) {
        if id != TRACK_ENTRY {
            continue;
        }
        let field = |want: u32| children(entry).find(|&(id, _)| id == want).map(|(_, d)| d);
        if field(TRACK_TYPE).and_then(uint) != Some(1) {
            continue;
        }
        let Some(number) = field(TRACK_NUMBER).and_then(uint).filter(|&n| n > 0) else {
            continue;
        };
        let codec_id = field(CODEC_ID)
            .map(|d| String::from_utf8_lossy(d).trim_end_matches('\0').to_owned())
            .unwrap_or_default();
        let codec = match codec_id.as_str() {
            "V_VP9" => Codec::Vp9,
            "V_VP8" => Codec::Vp8,
            "V_MPEG4/ISO/AVC" => Codec::H264,
            "V_MPEGH/ISO/HEVC" => Codec::Hevc,
            "V_AV1" => Codec::Av1,
            "V_MPEG2" => Codec::Mpeg2,
            "V_MPEG1" => Codec::Mpeg1,
            "V_MPEG4/ISO/SP" | "V_MPEG4/ISO/ASP" | "V_MPEG4/ISO/AP" => Codec::Mpeg4,
            _ => {
                unsupported.get_or_insert((
                    format!("video coded as {codec_id}"),
                    "only H.264, HEVC, VP9, VP8, AV1, MPEG-2, MPEG-1, MPEG-4 Part 2 and H.263 video \
                     keyframes are decoded",
                ));
                continue;
            }
        };
        if field(CONTENT_ENCODINGS).is_some() {
            // Header stripping or compression of every frame (old mkvmerge): the frames
            // as stored are not what the decoder reads.
            unsupported.get_or_insert((
                format!("{codec_id} video"),
                "its frames are stored with a content encoding (header stripping or \
                 compression), which is not read",
            ));
            continue;
        }
        let private = field(CODEC_PRIVATE).unwrap_or(&[]).to_vec();
        return (
            Some(VideoTrack {
                number,
                codec,
                private,
            }),
            None,
        );
    }
    (None, unsupported)
}

// ---------------------------------------------------------------------------------------
// Clusters and blocks.

/// The head of a block: its track, its time relative to its cluster, its flags, and
/// how many bytes precede its frame.
struct BlockHead {
    track: u64,
    offset: i16,
    flags: u8,
    len: u64,
}

/// Calls `f` with each whole keyframe of the video track, in file order. The walk ends
/// at the end of the segment, or where the file is cut off or damaged (an element that
/// runs past the end, or no valid header): the keyframes before stay, as a player
/// shows them.
fn walk_blocks<R: Read + Seek>(
    r: &mut R,
    seg: &Segment,
    head: &Head,
    mut f: impl FnMut(Chosen),
) -> Result<(), HashError> {
    let mut w = Walk::new(r);
    let mut frames = 0u64;
    let mut at = head.first_cluster;
    while let Some(e) = w.element(at, seg.end)? {
        // A cluster cut off by the file's end is read as far as it goes.
        let (end, whole) = match e.end(seg.end) {
            Some(end) => (end, true),
            None => (seg.end, false),
        };
        if e.id != CLUSTER {
            if e.size.is_none() || !whole {
                break;
            }
            at = end;
            continue;
        }
        // The cluster's children; one of unknown size ends at the next element that
        // belongs to the segment.
        let mut time: Option<u64> = None;
        let mut child_at = e.data;
        let mut next = end;
        while let Some(c) = w.element(child_at, end)? {
            if e.size.is_none() && SEGMENT_LEVEL.contains(&c.id) {
                next = c.at;
                break;
            }
            let Some(c_end) = c.end(end).filter(|_| c.size.is_some()) else {
                next = seg.end; // cut off, or damaged: the walk ends here
                break;
            };
            let block = match c.id {
                CLUSTER_TIMESTAMP => {
                    if c_end - c.data > 8 {
                        return Err(corrupt("a cluster timestamp is longer than 8 bytes".into()));
                    }
                    time = uint(w.bytes(c.data, 8, c_end)?);
                    None
                }
                SIMPLE_BLOCK => w.block_head(c.data, c_end)?.map(|h| {
                    let key = h.flags & 0x80 != 0;
                    (c.data, c_end, h, key)
                }),
                BLOCK_GROUP => group(&mut w, c.data, c_end)?,
                _ => None,
            };
            child_at = c_end;
            let Some((data, data_end, h, key)) = block else {
                continue;
            };
            if h.track != head.track.number {
                continue;
            }
            frames += 1;
            if frames > u64::from(MAX_SAMPLES) {
                return Err(corrupt(format!(
                    "the video track holds more than {MAX_SAMPLES} frames"
                )));
            }
            if !key {
                continue;
            }
            if h.flags & 0x06 != 0 {
                return Err(HashError::Unsupported {
                    media_type: "video".into(),
                    why: "a keyframe is laced with other frames in one block, which is not read",
                });
            }
            let base =
                time.ok_or_else(|| corrupt("a cluster's blocks come before its timestamp".into()))?;
            let units = i128::from(base) + i128::from(h.offset);
            let ms = (units.max(0) as u128 * u128::from(head.scale) / 1_000_000)
                .min(u128::from(u64::MAX)) as u64;
            let offset = data + h.len;
            f(Chosen {
                number: frames,
                offset,
                size: u32::try_from(data_end - offset).unwrap_or(u32::MAX),
                at_ms: ms,
            });
        }
        at = next;
    }
    Ok(())
}

/// The block of a `BlockGroup` whose data lies from `data` to `end`: where the block's
/// data starts and ends, its head, and whether it is a keyframe (it references no
/// other frame).
fn group<R: Read + Seek>(
    w: &mut Walk<'_, R>,
    data: u64,
    end: u64,
) -> Result<Option<(u64, u64, BlockHead, bool)>, HashError> {
    let mut block = None;
    let mut references = false;
    let mut at = data;
    while let Some(c) = w.element(at, end)? {
        let Some(c_end) = c.end(end).filter(|_| c.size.is_some()) else {
            break;
        };
        match c.id {
            BLOCK => block = w.block_head(c.data, c_end)?.map(|h| (c.data, c_end, h)),
            REFERENCE_BLOCK => references = true,
            _ => {}
        }
        at = c_end;
    }
    Ok(block.map(|(data, end, h)| (data, end, h, !references)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_length_integers_read_back() {
        assert_eq!(vint(&[0x81], 8, false), Some((1, 1)));
        assert_eq!(vint(&[0x40, 0x02], 8, false), Some((2, 2)));
        assert_eq!(
            vint(&[0x1A, 0x45, 0xDF, 0xA3], 4, true),
            Some((4, 0x1A45_DFA3))
        );
        assert_eq!(vint(&[0x00, 1], 8, false), None, "no length marker");
        assert_eq!(vint(&[0x10, 1], 8, false), None, "cut off");
        assert_eq!(vint(&[0x08, 0, 0, 0, 0], 4, true), None, "an ID of 5 bytes");
    }

    use custody_testkit::media::ebml as el;

    /// A block of track 1 at `offset` (ms) from its cluster, with `flags`.
    fn block(offset: i16, flags: u8) -> Vec<u8> {
        let mut b = vec![0x81];
        b.extend_from_slice(&offset.to_be_bytes());
        b.push(flags);
        b.extend_from_slice(&[9; 10]);
        b
    }

    /// The keyframes (time, offset in the file) of a segment of `children`, track 1
    /// being VP9, or the error.
    fn keys(children: &[Vec<u8>]) -> Result<Vec<(u64, u64)>, HashError> {
        keys_of(file_of(children))
    }

    /// A WebM file whose segment holds track 1 (VP9), then `children`.
    fn file_of(children: &[Vec<u8>]) -> Vec<u8> {
        let entry = [
            el(TRACK_NUMBER, &[1]),
            el(TRACK_TYPE, &[1]),
            el(CODEC_ID, b"V_VP9"),
        ]
        .concat();
        let mut body = el(TRACKS, &el(TRACK_ENTRY, &entry));
        body.extend(children.concat());
        [el(EBML, &el(DOC_TYPE, b"webm")), el(SEGMENT, &body)].concat()
    }

    fn keys_of(file: Vec<u8>) -> Result<Vec<(u64, u64)>, HashError> {
        let len = file.len() as u64;
        let r = &mut std::io::Cursor::new(file);
        let seg = segment(r, len)?;
        let head = head(r, &seg)?;
        let mut out = Vec::new();
        walk_blocks(r, &seg, &head, |k| out.push((k.at_ms, k.offset)))?;
        Ok(out)
    }

    /// Sound alone has no keyframes, and says so as a file of another kind, not as
    /// damage; a file with no track list before its first cluster is damaged.
    #[test]
    fn a_file_without_video_is_named_as_such() {
        let cluster = el(CLUSTER, &el(CLUSTER_TIMESTAMP, &[0]));
        let audio = el(
            TRACK_ENTRY,
            &[
                el(TRACK_NUMBER, &[1]),
                el(TRACK_TYPE, &[2]),
                el(CODEC_ID, b"A_OPUS"),
            ]
            .concat(),
        );
        let body = [el(TRACKS, &audio), cluster.clone()].concat();
        let file = [el(EBML, &el(DOC_TYPE, b"webm")), el(SEGMENT, &body)].concat();
        let e = keys_of(file).unwrap_err();
        assert!(matches!(e, HashError::Unsupported { .. }), "{e}");
        assert!(e.to_string().contains("without a video track"), "{e}");
        let file = [el(EBML, &el(DOC_TYPE, b"webm")), el(SEGMENT, &cluster)].concat();
        let e = keys_of(file).unwrap_err();
        assert!(e.to_string().contains("no track list"), "{e}");
    }

    #[test]
    fn blocks_say_which_frames_are_keyframes_and_when() {
        let group = |refs: bool| {
            let mut g = el(BLOCK, &block(20, 0));
            if refs {
                g.extend(el(REFERENCE_BLOCK, &[0xFF]));
            }
            el(BLOCK_GROUP, &g)
        };
        let cluster = el(
            CLUSTER,
            &[
                el(CLUSTER_TIMESTAMP, &[0x03, 0xE8]),
                el(SIMPLE_BLOCK, &block(0, 0x80)),
                el(SIMPLE_BLOCK, &block(10, 0x00)),
                group(true),
                group(false),
            ]
            .concat(),
        );
        let found = keys(&[cluster]).unwrap();
        // The simple keyframe at 1,000 ms and the group without a reference at 1,020.
        let times: Vec<u64> = found.iter().map(|&(t, _)| t).collect();
        assert_eq!(times, vec![1000, 1020], "{found:?}");

        // A laced keyframe and a block before its cluster's timestamp are refused.
        let laced = el(
            CLUSTER,
            &[
                el(CLUSTER_TIMESTAMP, &[0]),
                el(SIMPLE_BLOCK, &block(0, 0x82)),
            ]
            .concat(),
        );
        assert!(keys(&[laced]).unwrap_err().to_string().contains("laced"));
        let early = el(
            CLUSTER,
            &[
                el(SIMPLE_BLOCK, &block(0, 0x80)),
                el(CLUSTER_TIMESTAMP, &[0]),
            ]
            .concat(),
        );
        let e = keys(&[early]).unwrap_err().to_string();
        assert!(e.contains("before its timestamp"), "{e}");
        // A negative time is shown at 0.
        let before = el(
            CLUSTER,
            &[
                el(CLUSTER_TIMESTAMP, &[0]),
                el(SIMPLE_BLOCK, &block(-40, 0x80)),
            ]
            .concat(),
        );
        assert_eq!(keys(&[before]).unwrap()[0].0, 0);
    }

    /// A recording cut off inside a cluster keeps the whole keyframes before the cut; a
    /// damaged stretch (a tail of zeros, as a preallocated file leaves) ends the walk
    /// and keeps what came before.
    #[test]
    fn cut_off_and_damaged_files_keep_what_they_hold() {
        let cluster = el(
            CLUSTER,
            &[
                el(CLUSTER_TIMESTAMP, &[0]),
                el(SIMPLE_BLOCK, &block(0, 0x80)),
                el(SIMPLE_BLOCK, &block(500, 0x80)),
            ]
            .concat(),
        );
        let whole = file_of(std::slice::from_ref(&cluster));
        assert_eq!(keys_of(whole.clone()).unwrap().len(), 2);
        let mut cut = whole.clone();
        cut.truncate(whole.len() - 5);
        let kept = keys_of(cut).unwrap();
        assert_eq!(kept.iter().map(|k| k.0).collect::<Vec<_>>(), vec![0]);
        let mut zeros = whole.clone();
        zeros.extend([0u8; 4096]);
        assert_eq!(keys_of(zeros).unwrap().len(), 2);
    }
}
