//! Keyframes of MPEG transport streams (ISO/IEC 13818-1): `.ts` as a live stream is
//! recorded (streamlink, HLS segments joined, broadcast captures) and `.m2ts`/`.mts` as
//! camcorders write it (AVCHD: each 188-byte packet after a 4-byte time code).
//!
//! A transport stream has no index. Its tables come first: the program association
//! table (PID 0) names each program's map, and the first map naming an H.264 (stream
//! type 0x1B) or HEVC (0x24) stream gives the video (sections are joined across
//! packets and their CRC checked). Then the file is read from start to end, twice
//! (count the keyframes, then take the chosen ones), one access unit held at a time:
//! the video's packets are joined into PES packets, and a PES packet with a
//! presentation time begins an access unit (one without continues the one before, as
//! muxers that split large frames write them). An access unit whose first picture is
//! an IDR picture, an H.264 intra picture after a recovery point (open GOPs), or an
//! HEVC intra random access point is a keyframe ([`annexb`](super::annexb)).
//!
//! Times are PES presentation times (90 kHz), made continuous: over the 2^33 wrap,
//! and over a jump back of more than two seconds (recordings joined, a broadcast
//! splice), after which time runs on from the latest. They are counted from the
//! first access unit's, as ffprobe's `start_time` and a player count.
//!
//! Damage is passed over, not guessed at: an access unit with a lost packet (its
//! continuity counter), a packet flagged as in error, a PES packet shorter than its
//! declared length, or one that the file cuts off is not a keyframe; where a packet
//! has lost its sync byte, the reader finds the packets again further on. A chosen
//! keyframe that still fails to decode is left out (unlike in the other containers,
//! where it fails the video: a transport stream is what lossy links carry), and the
//! video fails only when none decodes. Parameter
//! sets come in the stream; a keyframe without one of them is given the latest seen
//! before it.

use std::io::{Read, Seek, SeekFrom};

use super::pes::{self, Building, PTS_WRAP, RESET, Unit, crc32, pes_header};
use super::{Clock, Codec, VideoRead, corrupt, io_error, no_video_track, refill};
use crate::HashError;

const SYNC: u8 = 0x47;
/// A transport packet; in `.m2ts` each follows a 4-byte time code.
const PACKET: usize = 188;
/// Packets read at once.
const READ_PACKETS: usize = 4096;
/// Bytes read looking for the tables before giving up.
const MAX_TABLE_SEARCH: u64 = 64 * 1024 * 1024;

/// Bytes before the first packet looked through (a recording cut off mid-packet, a
/// download with bytes before the stream).
pub(super) const MAX_LEAD: usize = 4096;

/// A transport stream's packet size (188, or 192 with a 4-byte time code before each
/// packet) and where its first whole packet starts, from its first bytes: a sync byte
/// at every packet start in `head`, at least three of them from the first byte, or
/// five from a later one, within [`MAX_LEAD`] bytes.
pub(super) fn layout(head: &[u8]) -> Option<(usize, u64)> {
    for (size, skip) in [(PACKET, 0usize), (PACKET + 4, 4)] {
        for first in 0..MAX_LEAD.min(head.len()) {
            let packets = head.len().saturating_sub(first + skip) / size;
            let enough = if first == 0 { 3 } else { 5 };
            if packets >= enough && (0..packets).all(|i| head[first + skip + i * size] == SYNC) {
                return Some((size, first as u64));
            }
        }
    }
    None
}

pub(super) fn hash_keyframes<R: Read + Seek>(r: &mut R, (size, first): (usize, u64)) -> VideoRead {
    let video = match find_video(r, size, first) {
        Ok(v) => v,
        Err(e) => return VideoRead::failed(e),
    };
    pes::hash_units(video.1, "transport stream", |keep, on_unit| {
        walk(r, size, first, video, keep, on_unit)
    })
}

/// The transport packets of a file, each as its 188 bytes; where a packet has lost its
/// sync byte, the next run of packets is found again, and that is reported.
struct Packets<'r, R> {
    r: &'r mut R,
    size: usize,
    skip: usize,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    read: u64,
}

impl<'r, R: Read + Seek> Packets<'r, R> {
    fn new(r: &'r mut R, size: usize, first: u64) -> Result<Self, HashError> {
        r.seek(SeekFrom::Start(first)).map_err(io_error)?;
        Ok(Packets {
            r,
            size,
            skip: size - PACKET,
            buf: vec![0u8; size * READ_PACKETS],
            pos: 0,
            len: 0,
            eof: false,
            read: 0,
        })
    }

    /// Keeps the unread bytes and reads more after them.
    fn refill(&mut self) -> Result<(), HashError> {
        let (pos, len, read) = (&mut self.pos, &mut self.len, &mut self.read);
        self.eof = refill(self.r, &mut self.buf, pos, len, read)?;
        Ok(())
    }

    /// Whether a packet starts at `at`: its sync byte, and those of the next two where
    /// the bytes read reach them.
    fn starts_at(&self, at: usize) -> bool {
        (0..3)
            .map(|i| at + self.skip + i * self.size)
            .take_while(|&b| b < self.len)
            .all(|b| self.buf[b] == SYNC)
    }

    /// The next packet, and whether bytes were passed over to find it.
    fn next(&mut self) -> Result<Option<([u8; PACKET], bool)>, HashError> {
        let mut lost = false;
        loop {
            if self.len - self.pos < 3 * self.size && !self.eof {
                self.refill()?;
            }
            if self.len - self.pos < self.size {
                return Ok(None);
            }
            if self.buf[self.pos + self.skip] == SYNC && (!lost || self.starts_at(self.pos)) {
                let at = self.pos + self.skip;
                let mut p = [0u8; PACKET];
                p.copy_from_slice(&self.buf[at..at + PACKET]);
                self.pos += self.size;
                return Ok(Some((p, lost)));
            }
            // Lost: look for the next run of packets.
            lost = true;
            let from = self.pos + 1;
            let limit = self.len.saturating_sub(self.size);
            match (from..=limit).find(|&at| self.starts_at(at)) {
                Some(at) => self.pos = at,
                None if self.eof => return Ok(None),
                None => self.pos = limit.max(from),
            }
        }
    }
}

/// A packet's fields.
struct Packet<'p> {
    pid: u16,
    start: bool,
    error: bool,
    scrambled: bool,
    cc: u8,
    has_payload: bool,
    /// The adaptation field says the continuity counter restarts.
    discontinuity: bool,
    /// An adaptation field pads the payload (the last packet of a PES packet).
    padded: bool,
    /// `None`: the adaptation field runs past the packet.
    payload: Option<&'p [u8]>,
}

fn packet(p: &[u8; PACKET]) -> Packet<'_> {
    let control = (p[3] >> 4) & 3;
    let adaptation = control & 2 != 0;
    let payload_at = if adaptation { 5 + usize::from(p[4]) } else { 4 };
    Packet {
        pid: u16::from_be_bytes([p[1] & 0x1F, p[2]]),
        start: p[1] & 0x40 != 0,
        error: p[1] & 0x80 != 0,
        scrambled: p[3] & 0xC0 != 0,
        cc: p[3] & 0x0F,
        has_payload: control & 1 != 0,
        discontinuity: adaptation && p[4] > 0 && p[5] & 0x80 != 0,
        padded: adaptation && stuffed(&p[4..]),
        payload: if control & 1 != 0 {
            p.get(payload_at..)
        } else {
            Some(&[][..])
        },
    }
}

/// Whether an adaptation field (from its length byte) holds stuffing after its
/// fields: a payload shorter than the packet, as a muxer writes the last packet of a
/// frame.
fn stuffed(a: &[u8]) -> bool {
    let len = usize::from(a[0]);
    if len == 0 {
        // A single byte of stuffing.
        return true;
    }
    let flags = a[1];
    let mut used = 1;
    used += if flags & 0x10 != 0 { 6 } else { 0 }; // PCR
    used += if flags & 0x08 != 0 { 6 } else { 0 }; // OPCR
    used += if flags & 0x04 != 0 { 1 } else { 0 }; // splice countdown
    if flags & 0x02 != 0 {
        // Private data: its length, then it.
        used += 1 + a.get(1 + used).map_or(0, |&n| usize::from(n));
    }
    if flags & 0x01 != 0 {
        used += 1 + a.get(1 + used).map_or(0, |&n| usize::from(n));
    }
    len > used
}

/// Finds the video stream: the first H.264 or HEVC stream of a program map the
/// program association table names, reading no further than the tables' first
/// appearance (at most [`MAX_TABLE_SEARCH`] bytes).
fn find_video<R: Read + Seek>(
    r: &mut R,
    size: usize,
    first: u64,
) -> Result<(u16, Codec), HashError> {
    let mut packets = Packets::new(r, size, first)?;
    let mut maps: Vec<u16> = Vec::new();
    let mut sections: Vec<(u16, Vec<u8>)> = Vec::new();
    let mut other: Option<u8> = None;
    let mut seen_pat = false;
    while let Some((p, _)) = packets.next()? {
        if packets.read > MAX_TABLE_SEARCH {
            break;
        }
        let p = packet(&p);
        if !(p.pid == 0 || maps.contains(&p.pid)) || p.error {
            continue;
        }
        let Some(payload) = p.payload else { continue };
        let Some(section) = join_section(&mut sections, p.pid, p.start, payload) else {
            continue;
        };
        if p.pid == 0 && section.first() == Some(&0x00) {
            seen_pat = true;
            for pid in program_maps(&section) {
                if !maps.contains(&pid) {
                    maps.push(pid);
                }
            }
        } else if section.first() == Some(&0x02) {
            let (found, unsupported) = video_stream(&section);
            if let Some(v) = found {
                return Ok(v);
            }
            other = other.or(unsupported);
        }
    }
    Err(match other {
        Some(kind) => HashError::Unsupported {
            media_type: format!(
                "MPEG-TS video of stream type 0x{kind:02X} ({})",
                pes::name(kind)
            ),
            why: "only H.264, HEVC, MPEG-1, MPEG-2 and MPEG-4 Part 2 video keyframes are decoded in \
                  transport streams",
        },
        None if !seen_pat => {
            corrupt("no program association table: the transport stream names no program".into())
        }
        None => no_video_track(),
    })
}

/// Joins a table section of `pid` across packets; the section, when whole and its
/// CRC right.
fn join_section(
    sections: &mut Vec<(u16, Vec<u8>)>,
    pid: u16,
    start: bool,
    payload: &[u8],
) -> Option<Vec<u8>> {
    let buf = pes::slot(sections, pid);
    if start {
        let pointer = usize::from(*payload.first()?);
        buf.clear();
        buf.extend_from_slice(payload.get(1 + pointer..)?);
    } else if buf.is_empty() {
        return None;
    } else {
        buf.extend_from_slice(payload);
    }
    let len = 3 + usize::from(u16::from_be_bytes([*buf.get(1)?, *buf.get(2)?]) & 0x0FFF);
    if buf.len() < len {
        // At most 1,024 bytes (a section's length is 12 bits, and at most 1,021).
        if len > 1024 {
            buf.clear();
        }
        return None;
    }
    let section = buf[..len].to_vec();
    buf.clear();
    (len >= 12 && crc32(&section) == 0).then(|| section[..len - 4].to_vec())
}

/// The PIDs of the program maps a program association table names.
fn program_maps(pat: &[u8]) -> Vec<u16> {
    pat.get(8..)
        .unwrap_or(&[])
        .chunks_exact(4)
        .filter(|e| u16::from_be_bytes([e[0], e[1]]) != 0)
        .map(|e| u16::from_be_bytes([e[2] & 0x1F, e[3]]))
        .collect()
}

/// The first H.264 or HEVC stream of a program map (PID and codec), and the stream type
/// of the first other video stream.
fn video_stream(pmt: &[u8]) -> (Option<(u16, Codec)>, Option<u8>) {
    let Some(info) = pmt.get(10..12) else {
        return (None, None);
    };
    let mut at = 12 + usize::from(u16::from_be_bytes([info[0], info[1]]) & 0x0FFF);
    let mut other = None;
    while let Some(e) = pmt.get(at..at + 5) {
        let kind = e[0];
        let pid = u16::from_be_bytes([e[1] & 0x1F, e[2]]);
        at += 5 + usize::from(u16::from_be_bytes([e[3], e[4]]) & 0x0FFF);
        match kind {
            0x1B => return (Some((pid, Codec::H264)), other),
            0x24 => return (Some((pid, Codec::Hevc)), other),
            0x01 => return (Some((pid, Codec::Mpeg1)), other),
            0x02 => return (Some((pid, Codec::Mpeg2)), other),
            0x10 => return (Some((pid, Codec::Mpeg4)), other),
            kind if pes::other_video(kind) => {
                other.get_or_insert(kind);
            }
            _ => {}
        }
    }
    (None, other)
}

/// Walks the packets of the whole file, calling `on_unit` with each access unit of the
/// video stream `(pid, codec)`, each holding at most `keep` bytes.
fn walk<R: Read + Seek>(
    r: &mut R,
    size: usize,
    first: u64,
    (vpid, _): (u16, Codec),
    keep: usize,
    mut on_unit: impl FnMut(Unit<'_>) -> Result<(), HashError>,
) -> Result<(), HashError> {
    let mut packets = Packets::new(r, size, first)?;
    let mut unit: Option<Building> = None;
    // The PES packet being read: its declared length and the bytes seen of it.
    let mut pes: Option<(Option<u64>, u64)> = None;
    let mut last_cc: Option<u8> = None;
    let mut last_padded = false;
    let mut clock = Clock::new(PTS_WRAP, RESET, 3_600);
    let mut emit = |u: Building| on_unit(u.unit());
    while let Some((raw, resynced)) = packets.next()? {
        if resynced {
            // Bytes were lost before this packet: the unit being joined lacks some.
            if let Some(u) = unit.as_mut() {
                u.broken = true;
            }
            last_cc = None;
        }
        let p = packet(&raw);
        if p.pid != vpid {
            continue;
        }
        if p.scrambled {
            return Err(HashError::Unsupported {
                media_type: "scrambled (encrypted) MPEG-TS video".into(),
                why: "the picture cannot be read without the broadcaster's keys",
            });
        }
        if !p.has_payload {
            continue;
        }
        // A repeated packet is dropped; a skipped counter means packets were lost,
        // from the unit being joined (even when this packet starts the next one).
        match last_cc {
            Some(prev) if p.cc == prev => continue,
            Some(prev) if !p.discontinuity && p.cc != (prev + 1) & 0x0F => {
                if let Some(u) = unit.as_mut() {
                    u.broken = true;
                }
            }
            _ => {}
        }
        last_cc = Some(p.cc);
        let Some(payload) = p.payload else {
            if let Some(u) = unit.as_mut() {
                u.broken = true;
            }
            continue;
        };
        let mut data = payload;
        if p.start {
            // The PES packet before ends here: short of its declared length, it lost
            // bytes.
            if let (Some((Some(declared), seen)), Some(u)) = (pes, unit.as_mut()) {
                if seen != declared + 6 {
                    u.broken = true;
                }
            }
            match pes_header(payload) {
                Some((header, pts, declared)) => {
                    if pts.is_some() || unit.is_none() {
                        if let Some(done) = unit.take() {
                            emit(done)?;
                        }
                        unit = Some(Building::new(pts.map(|t| clock.time(t))));
                    }
                    pes = Some((declared, 0));
                    data = &payload[header..];
                }
                None => {
                    // Not a PES packet this reader understands: its unit is lost.
                    if let Some(done) = unit.take() {
                        emit(done)?;
                    }
                    pes = None;
                }
            }
        }
        if let Some((_, seen)) = pes.as_mut() {
            *seen += payload.len() as u64;
        }
        if let Some(u) = unit.as_mut() {
            u.broken |= p.error;
            u.append(data, keep);
        }
        last_padded = p.padded;
    }
    if let Some(mut last) = unit {
        // The last unit is whole if its PES packet is as long as it declares, or, when
        // it declares none, if its last packet was padded out (a muxer's end of a
        // frame; a recording cut off mid-frame ends on a full packet).
        let complete = match pes {
            Some((Some(declared), seen)) => seen == declared + 6,
            _ => last_padded,
        };
        last.broken |= !complete;
        emit(last)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_layouts_are_told_by_their_sync_bytes() {
        let mut ts = vec![0u8; 8 * 188];
        ts.iter_mut().step_by(188).for_each(|b| *b = SYNC);
        assert_eq!(layout(&ts), Some((188, 0)));
        assert_eq!(layout(&ts[..3 * 188]), Some((188, 0)));
        // Cut off mid-packet, or after other bytes: the first whole one is found,
        // given five.
        assert_eq!(layout(&ts[100..]), Some((188, 88)));
        assert_eq!(layout(&ts[100..100 + 4 * 188]), None);
        let lead = [vec![0u8; 1000], ts.clone()].concat();
        assert_eq!(layout(&lead), Some((188, 1000)));
        let mut m2ts = vec![0u8; 8 * 192];
        m2ts[4..].iter_mut().step_by(192).for_each(|b| *b = SYNC);
        assert_eq!(layout(&m2ts), Some((192, 0)));
        ts[3 * 188] = 0;
        assert_eq!(layout(&ts), None);
        assert_eq!(layout(&[SYNC]), None);
    }

    #[test]
    fn sections_are_joined_across_packets_and_checked() {
        // A program association table naming program 1's map on PID 0x100, split
        // over two packets.
        let mut pat = vec![0x00, 0xB0, 13, 0, 1, 0xC1, 0, 0, 0, 1, 0xE1, 0x00];
        let crc = crc32(&pat);
        pat.extend(crc.to_be_bytes());
        assert_eq!(crc32(&pat), 0);
        let mut sections = Vec::new();
        let first = [&[0u8][..], &pat[..7]].concat();
        assert_eq!(join_section(&mut sections, 0, true, &first), None);
        let whole = join_section(&mut sections, 0, false, &pat[7..]).unwrap();
        assert_eq!(program_maps(&whole), vec![0x100]);
        // A damaged byte fails the CRC.
        let mut bad = pat.clone();
        bad[9] ^= 1;
        let packet = [&[0u8][..], &bad].concat();
        assert_eq!(join_section(&mut sections, 0, true, &packet), None);
    }
}
