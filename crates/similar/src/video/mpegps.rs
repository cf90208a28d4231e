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
//! Damage: a packet whose declared length does not end at a start code was damaged
//! (bytes lost or inserted inside it) unless only a few bytes of padding follow it;
//! every unit it touched is then broken, and the packs are found again at the next
//! valid pack header. A PES packet the file cuts off breaks its unit, and the last
//! unit counts as whole only when the program's end code follows it (a file cut at a
//! packet's end shows nothing else).

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use super::annexb::{self, Nal};
use super::pes::{self, Building, PTS_WRAP, RESET, Unit, crc32, mpeg1_pes_header, pes_header};
use super::{Clock, Codec, VideoRead, io_error, no_video_track, refill};
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
/// Bytes of filler (0x00, 0xFF) between packs passed over as padding rather than lost
/// video.
const MAX_FILLER: u64 = 64;
/// The `profile_idc` values of H.264 (A.2, G.10, H.10): the byte after a sequence
/// parameter set's header.
const H264_PROFILES: [u8; 16] = [
    66, 77, 88, 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135,
];
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

/// The codec of an MPEG video elementary stream (video alone, without a container, as
/// `.m1v`/`.m2v` files hold it and sniffers also call `video/mpeg`), told by its first
/// start code.
pub(super) fn elementary(head: &[u8]) -> Option<&'static str> {
    match head {
        [0, 0, 1, 0xB3, ..] => Some("MPEG-1/2 video"),
        [0, 0, 1, 0xB0 | 0xB5, ..] => Some("MPEG-4 Part 2 video"),
        _ => None,
    }
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

pub(super) fn hash_keyframes<R: Read + Seek>(r: &mut R, first: u64) -> VideoRead {
    let video = match find_video(r, first) {
        Ok(v) => v,
        Err(e) => return VideoRead::failed(e),
    };
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
    /// `cut`: the file ends inside it; `overrun`: what follows the length it declares
    /// is not a start code (bytes lost or inserted inside it, or a damaged length).
    Packet {
        id: u8,
        cut: bool,
        overrun: bool,
    },
}

/// Bytes passed over to find an item: how many, whether a video PES packet's start
/// code was among them (a video packet lost), and whether any was other than filler
/// (0x00, 0xFF).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Skipped {
    bytes: u64,
    video: bool,
    data: bool,
}

impl Skipped {
    /// Whether video bytes may have been lost. Only a few bytes of filler between
    /// packs (as some writers pad) are taken as harmless: anything else may be the
    /// tail of a packet whose length was damaged, or bytes inserted into it, and the
    /// unit it belongs to cannot be trusted.
    fn may_hold_video(&self) -> bool {
        self.video || self.data || self.bytes > MAX_FILLER
    }
}

/// An item, where its bytes lie in the reader's buffer (until the next call), and the
/// bytes passed over before it.
struct Got {
    item: Item,
    range: Range<usize>,
    skipped: Skipped,
}

/// The packs and packets of a file, read in turn; where bytes are not a start code
/// where one is due, the next valid pack header is found, and what was passed over is
/// told.
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
        let (pos, len, read) = (&mut self.pos, &mut self.len, &mut self.read);
        self.eof = refill(self.r, &mut self.buf, pos, len, read)?;
        Ok(self.len - self.pos >= n)
    }

    fn here(&self) -> &[u8] {
        &self.buf[self.pos..self.len]
    }

    /// Passes over the bytes up to `to`, noting any video packet's start code that
    /// begins among them.
    fn pass(&mut self, to: usize, skipped: &mut Skipped) {
        let window = &self.buf[self.pos..(to + 3).min(self.len)];
        let passed = to - self.pos;
        skipped.video |= memchr::memmem::find_iter(window, &[0, 0, 1])
            .any(|i| i < passed && (0xE0..=0xEF).contains(&window[i + 3]));
        skipped.data |= window[..passed].iter().any(|&b| b != 0 && b != 0xFF);
        skipped.bytes += (to - self.pos) as u64;
        self.pos = to;
    }

    /// The next item, or `None` at the end of the file.
    fn next(&mut self) -> Result<Option<Got>, HashError> {
        let mut skipped = Skipped::default();
        loop {
            if !self.fill(4)? {
                return Ok(None);
            }
            let here = self.here();
            if here[..3] == [0, 0, 1] {
                match here[3] {
                    PACK => {
                        self.fill(14 + 7)?;
                        if let Some(n) = pack_header(self.here()) {
                            if self.fill(n)? {
                                let at = self.pos;
                                self.pos += n;
                                let (item, range) = (Item::Pack, at..at + n);
                                return Ok(Some(Got {
                                    item,
                                    range,
                                    skipped,
                                }));
                            }
                        }
                    }
                    END => {
                        let at = self.pos;
                        self.pos += 4;
                        let (item, range) = (Item::End, at..at + 4);
                        return Ok(Some(Got {
                            item,
                            range,
                            skipped,
                        }));
                    }
                    id @ 0xBB..=0xFF => {
                        let whole_header = self.fill(6)?;
                        let n = if whole_header {
                            let here = self.here();
                            6 + usize::from(u16::from_be_bytes([here[4], here[5]]))
                        } else {
                            6
                        };
                        // The packet and the start code that should follow it.
                        self.fill(n + 4)?;
                        let at = self.pos;
                        let have = self.len - at;
                        let after = self.buf.get(at + n..(at + n + 4).min(self.len));
                        let start_code =
                            |a: &[u8]| a.len() == 4 && a[..3] == [0, 0, 1] && a[3] >= END;
                        let overrun = after.is_some_and(|a| !(a.is_empty() || start_code(a)));
                        let item = Item::Packet {
                            id,
                            cut: have < n,
                            overrun,
                        };
                        let n = n.min(have);
                        self.pos += n;
                        let range = at..at + n;
                        return Ok(Some(Got {
                            item,
                            range,
                            skipped,
                        }));
                    }
                    _ => {}
                }
            }
            // Lost: find the next valid pack header.
            self.pass(self.pos + 1, &mut skipped);
            loop {
                match memchr::memmem::find(self.here(), &[0, 0, 1, PACK]) {
                    Some(k) => {
                        self.pass(self.pos + k, &mut skipped);
                        self.fill(14 + 7)?;
                        if pack_header(self.here()).is_some() {
                            break;
                        }
                        self.pass(self.pos + 1, &mut skipped);
                    }
                    None if self.eof => {
                        self.pass(self.len, &mut skipped);
                        return Ok(None);
                    }
                    None => {
                        // Keep the last three bytes: a start code may begin in them.
                        let keep = self.len.saturating_sub(3).max(self.pos);
                        self.pass(keep, &mut skipped);
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
                0x27 | 0x47 | 0x67 => self.h264 |= H264_PROFILES.contains(&next),
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
        // MPEG-2 never uses 0xB0 or 0xB6; MPEG-4 Part 2 uses 0xB5 for its own header.
        if self.mpeg4 {
            Some(Ok(Codec::Mpeg4))
        } else if self.mpeg2 {
            Some(Ok(Codec::Mpeg2))
        } else if self.mpeg12 {
            Some(Ok(Codec::Mpeg1))
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
            why: "only H.264, HEVC, MPEG-1, MPEG-2 and MPEG-4 Part 2 video keyframes are decoded in \
                  program streams",
        }),
    };
    while let Some(Got { item, range, .. }) = reader.next()? {
        if reader.read > MAX_VIDEO_SEARCH {
            break;
        }
        let b = &reader.buf[range];
        match item {
            Item::Packet {
                id: MAP,
                cut: false,
                overrun: false,
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
                        0x01 => return Ok((id, Codec::Mpeg1)),
                        0x02 => return Ok((id, Codec::Mpeg2)),
                        0x10 => return Ok((id, Codec::Mpeg4)),
                        kind if pes::other_video(kind) => return verdict(id, Err(kind)),
                        _ => {}
                    }
                }
                let Some((header, _)) = pes_start(b) else {
                    continue;
                };
                let j = pes::slot(&mut judged, id);
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
    // Where each packet's bytes begin in the carried bytes, with its presentation time
    // if no unit has taken it: a unit takes the time of the packet its first byte
    // lies in.
    let mut carry_marks: Vec<(usize, Option<u64>)> = Vec::new();
    let mut probe: Vec<u8> = Vec::new();
    let mut pending: Vec<Building> = Vec::new();
    // The last item was the program's end code.
    let mut ended = false;
    let mut emit = |u: Building| on_unit(u.unit());
    while let Some(Got {
        item,
        range,
        skipped,
    }) = reader.next()?
    {
        // Units that ended inside a video packet whose declared length was not
        // followed by a start code: bytes passed over now that may be video mean the
        // length was wrong (bytes lost or inserted inside it), and every unit it
        // touched is damaged; a few bytes of padding between packs mean it was whole.
        let harm = skipped.may_hold_video();
        for mut done in pending.drain(..) {
            done.broken |= harm;
            emit(done)?;
        }
        if harm {
            if let Some(u) = unit.as_mut() {
                u.broken = true;
            }
            carry.clear();
            carry_marks.clear();
        }
        ended = item == Item::End;
        let Item::Packet { id, cut, overrun } = item else {
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
            carry_marks.clear();
            continue;
        };
        if b[6] & 0xC0 == 0x80 && b[6] & 0x30 != 0 {
            return Err(HashError::Unsupported {
                media_type: "scrambled (encrypted) MPEG program stream video".into(),
                why: "the picture cannot be read without the keys it was scrambled with",
            });
        }
        let pts = pts.map(|t| clock.time(t));
        // The carried bytes, already joined to the unit, then this packet's.
        probe.clear();
        probe.extend_from_slice(&carry);
        probe.extend_from_slice(&b[header..]);
        let told = carry.len();
        carry.clear();
        // Each packet's share of `probe`, from where its bytes begin; a packet without
        // bytes can hold no unit's first byte.
        let mut marks = std::mem::take(&mut carry_marks);
        if probe.len() > told {
            marks.push((told, pts));
        }
        // Bytes of `probe` already in the unit being joined, and whether a unit began
        // in this packet.
        let mut joined = told;
        let mut began = false;
        for n in annexb::nal_units(&probe) {
            // The start code, with the zero byte before it that makes it four bytes
            // (after a unit's start in this packet, that byte lies past the NAL unit
            // before, so never before `joined`).
            let mut start = n.start - 3;
            if start > 0 && probe[start - 1] == 0 {
                start -= 1;
            }
            if n.len() < NAL_HEAD && n.end == probe.len() && !cut {
                // Cut by the packet's end: told with the next packet's bytes.
                carry.extend_from_slice(&probe[start..]);
                break;
            }
            let kind = annexb::kind(codec, &probe[n]);
            if annexb::begins_unit(kind, unit.is_some(), seen_slice) {
                if let Some(mut done) = unit.take() {
                    if start < joined {
                        // The start code's bytes ended the packet before: not the
                        // unit's own.
                        done.give_back(joined - start);
                    } else {
                        done.append(&probe[joined..start], keep);
                    }
                    if overrun {
                        pending.push(done);
                    } else {
                        emit(done)?;
                    }
                }
                let pts = marks
                    .iter_mut()
                    .rev()
                    .find(|(at, _)| *at <= start)
                    .and_then(|(_, t)| t.take());
                unit = Some(Building::new(pts));
                joined = start;
                began = true;
                seen_slice = false;
            }
            seen_slice |= matches!(kind, Nal::Slice { .. });
        }
        let carried_from = if carry.is_empty() {
            // A start code may begin in the last bytes (carried over several packets
            // if they are that short, but never from before a unit begun here).
            let tail = probe
                .len()
                .saturating_sub(3)
                .max(if began { joined } else { 0 });
            carry.extend_from_slice(&probe[tail..]);
            tail
        } else {
            probe.len() - carry.len()
        };
        // The marks of the packets the carried bytes came from, counted from the carry.
        let first = marks.iter().rposition(|(at, _)| *at <= carried_from);
        carry_marks = marks
            .iter()
            .enumerate()
            .filter(|(i, _)| first.is_some_and(|f| *i >= f))
            .map(|(_, &(at, t))| (at.saturating_sub(carried_from), t))
            .collect();
        if let Some(u) = unit.as_mut() {
            u.append(&probe[joined..], keep);
            u.broken |= cut;
        }
    }
    for done in pending {
        emit(done)?;
    }
    if let Some(mut last) = unit {
        // Nothing tells where the last unit ends but the program's end code: without
        // it, the file may have been cut at a packet's end, inside the frame.
        last.broken |= !ended;
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
    fn elementary_streams_are_told_by_their_first_start_code() {
        assert_eq!(elementary(&[0, 0, 1, 0xB3, 0x14]), Some("MPEG-1/2 video"));
        assert_eq!(
            elementary(&[0, 0, 1, 0xB0, 0x01]),
            Some("MPEG-4 Part 2 video")
        );
        assert_eq!(elementary(&pack(0)), None);
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
            Some(Ok(Codec::Mpeg1))
        );
        assert_eq!(
            judge(&[0, 0, 1, 0xB3, 0x14, 0, 0, 1, 0xB5, 0x14]),
            Some(Ok(Codec::Mpeg2))
        );
        assert_eq!(judge(&[0, 0, 1, 0xB0, 0x01]), Some(Ok(Codec::Mpeg4)));
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
