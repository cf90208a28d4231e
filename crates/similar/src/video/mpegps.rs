//! Keyframes of MPEG program streams (ISO/IEC 13818-1): `.mpg` and `.vob` files, and
//! what many CCTV recorders and DVRs export (often named `.mp4` or `.ps`, sometimes
//! after a vendor's header of a few dozen bytes).
//!
//! A program stream is a run of packs, each a pack header followed by PES packets of
//! at most 64 KiB, with no index. The video is the first stream (stream IDs 0xE0 to
//! 0xEF) that the program stream map (stream type 0x1B: H.264; 0x24: HEVC) names, or,
//! where no map names it (ffmpeg writes none), whose own bytes show which it is: an
//! H.264 sequence parameter set, an HEVC parameter set, or an MPEG-1/2 or MPEG-4 Part
//! 2 header, which this reader names and refuses.
//!
//! PES packets are not frames here: a muxer may fill 2 KiB packs, so that a frame is
//! spread over many packets and one packet holds the end of a frame and the start of
//! the next. Access units are therefore found in the video's own bytes, as H.264 and
//! HEVC define them: a unit begins with a delimiter, supplemental information or a
//! parameter set after a slice, or with a picture's first slice after another's. A
//! unit takes the presentation time of the PES packet its first byte lies in, if it is
//! the first unit to begin in that packet (the standard's rule); a unit without one is
//! not counted as a keyframe, as in transport streams. From there the units are
//! treated as a transport stream's are ([`pes::hash_units`]): times continuous over
//! wraps and joins, counted from the first unit's, chosen keyframes that fail to
//! decode left out.
//!
//! Damage: bytes that are not a start code where one is due (lost or inserted bytes)
//! break the unit being joined, and the packs are found again at the next valid pack
//! header; a PES packet the file cuts off breaks its unit.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use super::annexb::{self, Nal};
use super::pes::{self, PTS_WRAP, RESET, Unit, crc32, mpeg1_pes_header, pes_header};
use super::{Clock, Codec, Keyframe, io_error, no_video_track};
use crate::HashError;

const PACK: u8 = 0xBA;
const END: u8 = 0xB9;
const MAP: u8 = 0xBC;
/// Bytes read at once (more than the largest PES packet, 6 + 65,535 bytes).
const READ_BYTES: usize = 1 << 20;
/// Bytes read looking for the video stream before giving up.
const MAX_VIDEO_SEARCH: u64 = 64 * 1024 * 1024;
/// Bytes of a stream's payload looked at before it is judged by what they show.
const JUDGE_BYTES: usize = 64 * 1024;
/// Bytes before the first pack header looked through (a vendor's header, a cut).
pub(super) const MAX_LEAD: usize = 4096;
/// Bytes a NAL unit's header needs to be told: type and the first fields of a slice.
const NAL_HEAD: usize = 16;

/// Where the first pack of a program stream starts in `head` (the file's first bytes):
/// a valid pack header, within [`MAX_LEAD`] bytes, followed by another start code.
pub(super) fn layout(head: &[u8]) -> Option<u64> {
    (0..MAX_LEAD.min(head.len())).find_map(|at| {
        let n = pack_header(&head[at..])?;
        let next = head.get(at + n..at + n + 4)?;
        (next[..3] == [0, 0, 1] && next[3] >= END).then_some(at as u64)
    })
}

/// The length of a pack header at the start of `b`, in MPEG-2's form or MPEG-1's (an
/// MPEG-1 system stream, as ffmpeg writes `.mpg` by default). `None` when its marker
/// bits are wrong.
fn pack_header(b: &[u8]) -> Option<usize> {
    if b.len() < 12 || b[..4] != [0, 0, 1, PACK] {
        return None;
    }
    if b[4] & 0xC4 == 0x44 {
        let h = b.get(..14)?;
        let markers = h[6] & 0x04 != 0 && h[8] & 0x04 != 0 && h[9] & 1 != 0 && h[12] & 3 == 3;
        return markers.then_some(14 + usize::from(h[13] & 7));
    }
    let mpeg1 = b[4] & 0xF1 == 0x21 && b[6] & 1 != 0 && b[8] & 1 != 0 && b[9] & 0x80 != 0;
    (mpeg1 && b[11] & 1 != 0).then_some(12)
}

pub(super) fn hash_keyframes<R: Read + Seek>(
    r: &mut R,
    first: u64,
) -> Result<Vec<Keyframe>, HashError> {
    let video = find_video(r, first)?;
    pes::hash_units(video.1, "program stream", |keep, on_unit| {
        walk(r, first, video, keep, on_unit)
    })
}

/// What the reader meets in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    Pack,
    End,
    /// A PES packet (or system header, or map) with this stream ID, header included;
    /// `cut`: the file ends inside it.
    Packet {
        id: u8,
        cut: bool,
    },
}

/// The packs and packets of a file, read in turn; where bytes are not a start code
/// where one is due, the next valid pack header is found, and that is reported.
struct Reader<'r, R> {
    r: &'r mut R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    read: u64,
}

impl<'r, R: Read + Seek> Reader<'r, R> {
    fn new(r: &'r mut R, first: u64) -> Result<Self, HashError> {
        r.seek(SeekFrom::Start(first)).map_err(io_error)?;
        Ok(Reader {
            r,
            buf: vec![0u8; READ_BYTES],
            pos: 0,
            len: 0,
            eof: false,
            read: 0,
        })
    }

    /// Whether `n` bytes from the position are read (fewer only at the end of the file).
    fn fill(&mut self, n: usize) -> Result<bool, HashError> {
        if self.len - self.pos >= n || self.eof {
            return Ok(self.len - self.pos >= n);
        }
        self.buf.copy_within(self.pos..self.len, 0);
        self.len -= self.pos;
        self.pos = 0;
        while self.len < self.buf.len() {
            match self.r.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(k) => {
                    self.len += k;
                    self.read += k as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(e)),
            }
        }
        Ok(self.len - self.pos >= n)
    }

    fn here(&self) -> &[u8] {
        &self.buf[self.pos..self.len]
    }

    /// The next item, where its bytes lie in `buf` (until the next call), and whether
    /// bytes were passed over to find it.
    fn next(&mut self) -> Result<Option<(Item, Range<usize>, bool)>, HashError> {
        let mut lost = false;
        loop {
            if !self.fill(4)? {
                return Ok(None);
            }
            let at = self.pos;
            let here = self.here();
            if here[..3] == [0, 0, 1] {
                match here[3] {
                    PACK => {
                        self.fill(14 + 7)?;
                        if let Some(n) = pack_header(self.here()) {
                            if self.fill(n)? {
                                self.pos += n;
                                return Ok(Some((Item::Pack, at..at + n, lost)));
                            }
                        }
                    }
                    END => {
                        self.pos += 4;
                        return Ok(Some((Item::End, at..at + 4, lost)));
                    }
                    id @ 0xBB..=0xFF => {
                        if !self.fill(6)? {
                            // A packet cut off within its header.
                            let n = self.len - self.pos;
                            self.pos = self.len;
                            return Ok(Some((Item::Packet { id, cut: true }, at..at + n, lost)));
                        }
                        let here = self.here();
                        let n = 6 + usize::from(u16::from_be_bytes([here[4], here[5]]));
                        let whole = self.fill(n)?;
                        let at = self.pos;
                        let n = n.min(self.len - at);
                        self.pos += n;
                        return Ok(Some((Item::Packet { id, cut: !whole }, at..at + n, lost)));
                    }
                    _ => {}
                }
            }
            // Lost: find the next valid pack header.
            lost = true;
            self.pos += 1;
            loop {
                match memchr::memmem::find(self.here(), &[0, 0, 1, PACK]) {
                    Some(k) => {
                        self.pos += k;
                        self.fill(14 + 7)?;
                        if pack_header(self.here()).is_some() {
                            break;
                        }
                        self.pos += 1;
                    }
                    None if self.eof => {
                        self.pos = self.len;
                        return Ok(None);
                    }
                    None => {
                        // Keep the last three bytes: a start code may begin in them.
                        self.pos = self.len.saturating_sub(3).max(self.pos);
                        self.fill(READ_BYTES / 2)?;
                    }
                }
            }
        }
    }
}

/// A PES packet's header, in MPEG-2's form or MPEG-1's: its length, and its
/// presentation time.
fn pes_start(b: &[u8]) -> Option<(usize, Option<u64>)> {
    match pes_header(b) {
        Some((header, pts, _)) => Some((header, pts)),
        None if b.get(6).is_some_and(|&c| c & 0xC0 != 0x80) => mpeg1_pes_header(b),
        None => None,
    }
}

/// What a video stream's bytes show it to be.
#[derive(Default)]
struct Judged {
    bytes: usize,
    h264: bool,
    hevc: bool,
    /// MPEG-1 or MPEG-2 video (a sequence or group-of-pictures header).
    mpeg12: bool,
    /// MPEG-2's own extension header.
    mpeg2: bool,
    /// MPEG-4 Part 2 (a visual object sequence or object plane).
    mpeg4: bool,
}

impl Judged {
    /// Takes in a PES payload of the stream. H.264 and HEVC never hold the start codes
    /// of the older codecs (the NAL unit header's first bit is 0), so those decide
    /// first; an H.264 sequence parameter set is told by its profile, an HEVC one by
    /// its two-byte header.
    fn add(&mut self, data: &[u8]) {
        self.bytes += data.len();
        for at in memchr::memmem::find_iter(data, &[0, 0, 1]) {
            let Some(&c) = data.get(at + 3) else { break };
            let next = data.get(at + 4).copied().unwrap_or(0xFF);
            match c {
                0xB3 | 0xB8 => self.mpeg12 = true,
                0xB5 => self.mpeg2 = true,
                0xB0 | 0xB6 => self.mpeg4 = true,
                0x27 | 0x47 | 0x67 => {
                    self.h264 |= matches!(
                        next,
                        66 | 77
                            | 88
                            | 100
                            | 110
                            | 122
                            | 244
                            | 44
                            | 83
                            | 86
                            | 118
                            | 128
                            | 138
                            | 139
                            | 134
                            | 135
                    );
                }
                0x40 | 0x42 | 0x44 | 0x46 => self.hevc |= next == 0x01,
                _ => {}
            }
        }
    }

    /// The verdict: a codec decoded here, or the stream type of one that is not.
    fn verdict(&self, done: bool) -> Option<Result<Codec, u8>> {
        if !(done || self.bytes >= JUDGE_BYTES) {
            return None;
        }
        if self.mpeg2 {
            Some(Err(0x02))
        } else if self.mpeg12 {
            Some(Err(0x01))
        } else if self.mpeg4 {
            Some(Err(0x10))
        } else if self.hevc {
            Some(Ok(Codec::Hevc))
        } else if self.h264 {
            Some(Ok(Codec::H264))
        } else {
            None
        }
    }
}

/// The entries of a program stream map (stream ID, stream type), when its CRC holds.
fn stream_map(b: &[u8]) -> Option<Vec<(u8, u8)>> {
    if b.len() < 16 || crc32(b) != 0 {
        return None;
    }
    let info = usize::from(u16::from_be_bytes([b[8], b[9]]));
    let at = 10 + info;
    let len = usize::from(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?));
    let entries = b.get(at + 2..(at + 2 + len).min(b.len() - 4))?;
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(e) = entries.get(i..i + 4) {
        out.push((e[1], e[0]));
        i += 4 + usize::from(u16::from_be_bytes([e[2], e[3]]));
    }
    Some(out)
}

/// Finds the video stream (its stream ID and codec): the first video stream the map
/// names or its bytes show, reading at most [`MAX_VIDEO_SEARCH`] bytes.
fn find_video<R: Read + Seek>(r: &mut R, first: u64) -> Result<(u8, Codec), HashError> {
    let mut reader = Reader::new(r, first)?;
    let mut map: Vec<(u8, u8)> = Vec::new();
    let mut judged: Vec<(u8, Judged)> = Vec::new();
    let verdict = |id: u8, v: Result<Codec, u8>| match v {
        Ok(codec) => Ok((id, codec)),
        Err(kind) => Err(HashError::Unsupported {
            media_type: format!(
                "MPEG program stream video of stream type 0x{kind:02X} ({})",
                pes::name(kind)
            ),
            why: "only H.264 and HEVC video keyframes are decoded in program streams",
        }),
    };
    while let Some((item, range, _)) = reader.next()? {
        if reader.read > MAX_VIDEO_SEARCH {
            break;
        }
        let b = &reader.buf[range];
        match item {
            Item::Packet {
                id: MAP,
                cut: false,
            } => {
                if let Some(entries) = stream_map(b) {
                    map = entries;
                }
            }
            Item::Packet {
                id: id @ 0xE0..=0xEF,
                ..
            } => {
                if let Some(&(_, kind)) = map.iter().find(|(i, _)| *i == id) {
                    match kind {
                        0x1B => return Ok((id, Codec::H264)),
                        0x24 => return Ok((id, Codec::Hevc)),
                        0x01 | 0x02 | 0x10 | 0x20 | 0x33 | 0x42 | 0xD1 | 0xEA => {
                            return verdict(id, Err(kind));
                        }
                        _ => {}
                    }
                }
                let Some((header, _)) = pes_start(b) else {
                    continue;
                };
                let slot = match judged.iter().position(|(i, _)| *i == id) {
                    Some(i) => i,
                    None => {
                        judged.push((id, Judged::default()));
                        judged.len() - 1
                    }
                };
                let j = &mut judged[slot].1;
                j.add(&b[header..]);
                if let Some(v) = j.verdict(false) {
                    return verdict(id, v);
                }
            }
            _ => {}
        }
    }
    for (id, j) in &judged {
        if let Some(v) = j.verdict(true) {
            return verdict(*id, v);
        }
    }
    if let Some((id, _)) = judged.first() {
        return Err(HashError::Unsupported {
            media_type: format!("MPEG program stream video (stream 0x{id:02X}) of an unknown kind"),
            why: "neither a stream map nor the stream's own bytes show H.264 or HEVC (in \
                  Annex-B form), the codecs decoded in program streams",
        });
    }
    Err(no_video_track())
}

/// Whether a NAL unit begins an access unit: always, when none has begun yet;
/// otherwise a delimiter, supplemental information or a parameter set after a slice,
/// or a picture's first slice after another slice.
fn begins_unit(kind: Nal, started: bool, seen_slice: bool) -> bool {
    let opener = matches!(
        kind,
        Nal::Delimiter | Nal::Sei | Nal::Parameters(_) | Nal::Slice { first: true, .. }
    );
    opener && (!started || seen_slice)
}

/// The access unit being joined.
struct Building {
    bytes: Vec<u8>,
    /// Bytes of it seen, kept or not.
    len: u64,
    pts: Option<u64>,
    /// Bytes of it were lost or cut off.
    broken: bool,
}

/// Walks the file's packs, calling `on_unit` with each access unit of the video stream
/// `(id, codec)`, each holding at most `keep` bytes.
fn walk<R: Read + Seek>(
    r: &mut R,
    first: u64,
    (vid, codec): (u8, Codec),
    keep: usize,
    mut on_unit: impl FnMut(Unit<'_>) -> Result<(), HashError>,
) -> Result<(), HashError> {
    let mut reader = Reader::new(r, first)?;
    let mut clock = Clock::new(PTS_WRAP, RESET, 3_600);
    let mut unit: Option<Building> = None;
    let mut seen_slice = false;
    // The stream's last bytes, not yet told: a start code, or a NAL unit whose header
    // the packet cut, read again with the next packet's bytes.
    let mut carry: Vec<u8> = Vec::new();
    // The presentation time of the packet the carried bytes came from, if no unit
    // took it there: a unit whose start code began in them takes it.
    let mut carry_pts: Option<u64> = None;
    let mut probe: Vec<u8> = Vec::new();
    let mut emit = |u: Building| -> Result<(), HashError> {
        on_unit(Unit {
            data: &u.bytes,
            pts: u.pts,
            whole: !u.broken,
            held: u.len == u.bytes.len() as u64,
        })
    };
    let append = |u: &mut Building, d: &[u8]| {
        u.len += d.len() as u64;
        let room = keep.saturating_sub(u.bytes.len());
        u.bytes.extend_from_slice(&d[..d.len().min(room)]);
    };
    while let Some((item, range, lost)) = reader.next()? {
        if lost {
            if let Some(u) = unit.as_mut() {
                u.broken = true;
            }
            carry.clear();
            carry_pts = None;
        }
        let Item::Packet { id, cut } = item else {
            continue;
        };
        if id != vid {
            continue;
        }
        let b = &reader.buf[range];
        let Some((header, pts)) = pes_start(b) else {
            // Not a PES packet this reader understands: its bytes are lost.
            if let Some(u) = unit.as_mut() {
                u.broken = true;
            }
            carry.clear();
            carry_pts = None;
            continue;
        };
        if b[6] & 0xC0 == 0x80 && b[6] & 0x30 != 0 {
            return Err(HashError::Unsupported {
                media_type: "scrambled (encrypted) MPEG program stream video".into(),
                why: "the picture cannot be read without the keys it was scrambled with",
            });
        }
        let mut pts = pts.map(|t| clock.time(t));
        // The time of the packet before, for a unit whose start code began there.
        let mut before = carry_pts.take();
        // The carried bytes, already joined to the unit, then this packet's.
        probe.clear();
        probe.extend_from_slice(&carry);
        probe.extend_from_slice(&b[header..]);
        let told = carry.len();
        carry.clear();
        // Bytes of `probe` already in the unit being joined.
        let mut joined = told;
        for n in annexb::nal_units(&probe) {
            // The start code, with the zero byte before it that makes it four bytes.
            let mut start = n.start - 3;
            if start > joined && probe[start - 1] == 0 {
                start -= 1;
            }
            if n.len() < NAL_HEAD && n.end == probe.len() && !cut {
                // Cut by the packet's end: told with the next packet's bytes.
                carry.extend_from_slice(&probe[start..]);
                break;
            }
            let kind = annexb::kind(codec, &probe[n]);
            if begins_unit(kind, unit.is_some(), seen_slice) {
                if let Some(mut done) = unit.take() {
                    if start < joined {
                        // The start code's bytes ended the packet before: not the
                        // unit's own.
                        let extra = joined - start;
                        if done.len == done.bytes.len() as u64 {
                            let keep_len = done.bytes.len().saturating_sub(extra);
                            done.bytes.truncate(keep_len);
                        }
                        done.len = done.len.saturating_sub(extra as u64);
                    } else {
                        append(&mut done, &probe[joined..start]);
                    }
                    emit(done)?;
                }
                let pts = if start < told {
                    before.take()
                } else {
                    pts.take()
                };
                unit = Some(Building {
                    bytes: Vec::new(),
                    len: 0,
                    pts,
                    broken: false,
                });
                joined = start;
                seen_slice = false;
            }
            seen_slice |= matches!(kind, Nal::Slice { .. });
        }
        let carried_from = if carry.is_empty() {
            // A start code may begin in the last bytes.
            let tail = probe.len().saturating_sub(3).max(joined);
            carry.extend_from_slice(&probe[tail..]);
            tail
        } else {
            probe.len() - carry.len()
        };
        carry_pts = if carried_from < told { before } else { pts };
        if let Some(u) = unit.as_mut() {
            append(u, &probe[joined..]);
            u.broken |= cut;
        }
    }
    if let Some(last) = unit {
        emit(last)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An MPEG-2 pack header with `stuffing` bytes after it.
    fn pack(stuffing: u8) -> Vec<u8> {
        let mut p = vec![
            0,
            0,
            1,
            PACK,
            0x44,
            0,
            0x04,
            0,
            0x04,
            0x01,
            0,
            0,
            0x03,
            0xF8 | stuffing,
        ];
        p.extend(std::iter::repeat_n(0xFF, usize::from(stuffing)));
        p
    }

    #[test]
    fn pack_headers_are_told_by_their_marker_bits() {
        assert_eq!(pack_header(&pack(0)), Some(14));
        assert_eq!(pack_header(&pack(3)), Some(17));
        let mut bad = pack(0);
        bad[12] = 0;
        assert_eq!(pack_header(&bad), None);
        let mpeg1 = [0, 0, 1, PACK, 0x21, 0, 1, 0, 1, 0x80, 0, 1];
        assert_eq!(pack_header(&mpeg1), Some(12));
        assert_eq!(pack_header(&pack(0)[..10]), None);
        // The first pack, after a vendor's header.
        let stream = [
            b"IMKH".to_vec(),
            vec![0; 36],
            pack(0),
            vec![0, 0, 1, 0xE0, 0, 0],
        ]
        .concat();
        assert_eq!(layout(&stream), Some(40));
        assert_eq!(layout(&stream[..50]), None);
        assert_eq!(
            layout(&pack(0)),
            None,
            "no start code after the pack header"
        );
    }

    #[test]
    fn streams_are_judged_by_their_headers() {
        let judge = |d: &[u8]| {
            let mut j = Judged::default();
            j.add(d);
            j.verdict(true)
        };
        assert_eq!(
            judge(&[0, 0, 0, 1, 0x67, 100, 0, 0x1F]),
            Some(Ok(Codec::H264))
        );
        assert_eq!(
            judge(&[0, 0, 1, 0x40, 0x01, 0x0C, 0, 0, 1, 0x42, 0x01]),
            Some(Ok(Codec::Hevc))
        );
        // An MPEG-2 slice start code looks like an H.264 parameter set; the sequence
        // header decides.
        assert_eq!(
            judge(&[0, 0, 1, 0xB3, 0x14, 0, 0, 1, 0x67, 100]),
            Some(Err(0x01))
        );
        assert_eq!(
            judge(&[0, 0, 1, 0xB3, 0x14, 0, 0, 1, 0xB5, 0x14]),
            Some(Err(0x02))
        );
        assert_eq!(judge(&[0, 0, 1, 0xB0, 0x01]), Some(Err(0x10)));
        assert_eq!(judge(&[0, 0, 1, 0x65, 0x88, 0x84]), None);
    }

    #[test]
    fn stream_maps_give_their_entries_when_whole() {
        let mut m = vec![
            0, 0, 1, MAP, 0, 0, 0xE0, 0xFF, 0, 0, 0, 8, 0x1B, 0xE0, 0, 0, 0x0F, 0xC0, 0, 0,
        ];
        let n = (m.len() - 6 + 4) as u16;
        m[4..6].copy_from_slice(&n.to_be_bytes());
        let crc = crc32(&m);
        m.extend(crc.to_be_bytes());
        assert_eq!(stream_map(&m), Some(vec![(0xE0, 0x1B), (0xC0, 0x0F)]));
        m[13] ^= 1;
        assert_eq!(stream_map(&m), None);
    }
}
