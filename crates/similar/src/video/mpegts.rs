//! Keyframes of MPEG transport streams (ISO/IEC 13818-1): `.ts` as a live stream is
//! recorded (streamlink, HLS segments joined, broadcast captures) and `.m2ts`/`.mts` as
//! camcorders write it (AVCHD: each 188-byte packet after a 4-byte time code).
//!
//! A transport stream has no index: the file is read once from start to end, packet by
//! packet. The program association table (PID 0) names the first program's map, which
//! names its streams; the first H.264 (stream type 0x1B) or HEVC (0x24) stream is the
//! video. Its packets are joined into PES packets, one access unit (frame) each, and an
//! access unit whose first picture slice is an IDR picture (H.264) or an intra random
//! access point (HEVC: IDR, CRA, BLA) is a keyframe. Its time is its PES presentation
//! time (90 kHz, wrapping at 2^33 as the standard lets it), counted from the earliest
//! presentation time of the stream, as a player counts from 0:00.
//!
//! As for MP4 fragments and Matroska, the file is walked twice (count the keyframes,
//! then take the chosen ones), keeping one access unit at a time. Parameter sets are
//! carried in the stream (before each IDR picture, as encoders write them); a keyframe
//! without them in its own access unit is given the latest seen before it. A lost or
//! repeated packet (continuity counter), an access unit longer than the frame limit,
//! and an access unit the file cuts off are passed over, not decoded; a packet that has
//! lost its sync byte ends the walk there, keeping the keyframes before it.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use super::{
    Codec, Keyframe, MAX_FRAME_BYTES, MAX_KEYFRAMES, PHash, Stream, corrupt, decode_stream,
    io_error, no_video_track, phash, ranks,
};
use crate::HashError;

const SYNC: u8 = 0x47;
/// A transport packet; in `.m2ts` each follows a 4-byte time code.
const PACKET: usize = 188;
/// Packets read at once.
const READ_PACKETS: usize = 4096;
/// Bytes of an access unit kept while counting keyframes: its first slice is near its
/// start (after the delimiter, parameter sets and SEI).
const HEAD_BYTES: usize = 64 * 1024;
/// PES presentation times count 90,000 to the second and wrap at 2^33.
const PTS_WRAP: u64 = 1 << 33;

/// The packet size of a transport stream, from its first bytes: 188, or 192 with a
/// 4-byte time code before each packet. Three sync bytes in a row are asked for.
pub(super) fn packet_size(head: &[u8]) -> Option<usize> {
    [(PACKET, 0usize), (PACKET + 4, 4)]
        .into_iter()
        .find(|&(size, skip)| (0..3).all(|i| head.get(skip + i * size) == Some(&SYNC)))
        .map(|(size, _)| size)
}

pub(super) fn hash_keyframes<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
    packet_size: usize,
) -> Result<Vec<Keyframe>, HashError> {
    let mut shown = 0u64;
    let mut earliest: Option<u64> = None;
    let video = walk(r, packet_size, HEAD_BYTES, |codec, unit| {
        if let Some(pts) = unit.pts {
            earliest = Some(earliest.map_or(pts, |e| e.min(pts)));
        }
        if unit.is_keyframe(codec) {
            shown += 1;
        }
        Ok(())
    })?;
    let (Some(codec), Some(earliest)) = (video, earliest) else {
        return Err(no_video_track());
    };
    if shown == 0 {
        return Err(corrupt(format!(
            "the transport stream's video holds no whole keyframe ({}), in {file_len} bytes",
            match codec {
                Codec::Hevc => "IDR, CRA or BLA picture",
                _ => "IDR picture",
            }
        )));
    }
    let wanted = ranks(shown, MAX_KEYFRAMES);
    let mut rank = 0u64;
    let mut params: Vec<Vec<u8>> = Vec::new();
    let mut out: Vec<Keyframe> = Vec::with_capacity(wanted.len());
    let cap = usize::try_from(MAX_FRAME_BYTES).unwrap_or(usize::MAX);
    walk(r, packet_size, cap, |codec, unit| {
        let nals = nal_units(unit.data);
        let has_params = nals
            .iter()
            .any(|n| is_parameter_set(codec, &unit.data[n.clone()]));
        let key = unit.is_keyframe(codec);
        if key && wanted.binary_search(&rank).is_ok() {
            if !unit.held {
                return Err(corrupt(format!(
                    "keyframe {} is more than {MAX_FRAME_BYTES} bytes",
                    rank + 1
                )));
            }
            let mut stream = Stream {
                bytes: Vec::with_capacity(unit.data.len() + 256),
                nals: Vec::new(),
            };
            if !has_params {
                for p in &params {
                    stream.put(p);
                }
            }
            for n in &nals {
                stream.put(&unit.data[n.clone()]);
            }
            let grid = decode_stream(codec, &stream)?;
            let pts = unit.pts.unwrap_or(earliest);
            out.push(Keyframe {
                at_ms: (pts.saturating_sub(earliest) + 45) / 90,
                hash: PHash(phash::bits(&grid, phash::Variant::ZigzagAc)),
            });
        }
        if key {
            rank += 1;
        }
        if has_params {
            params = nals
                .iter()
                .map(|n| &unit.data[n.clone()])
                .filter(|n| is_parameter_set(codec, n))
                .map(<[u8]>::to_vec)
                .collect();
        }
        Ok(())
    })?;
    out.sort_by_key(|k| k.at_ms);
    out.dedup_by_key(|k| k.at_ms);
    Ok(out)
}

/// One PES packet of the video stream: its elementary-stream bytes (up to the walk's
/// limit), its presentation time (unwrapped), whether none of it was lost or cut off,
/// and whether all of it is held here.
struct Unit<'a> {
    data: &'a [u8],
    pts: Option<u64>,
    whole: bool,
    held: bool,
}

impl Unit<'_> {
    /// Whether this unit is a keyframe that can be decoded, judged on its first
    /// [`HEAD_BYTES`] whatever the walk keeps, so that both walks count alike.
    fn is_keyframe(&self, codec: Codec) -> bool {
        self.whole
            && self.pts.is_some()
            && is_keyframe(codec, &self.data[..self.data.len().min(HEAD_BYTES)])
    }
}

/// The PES packet being joined.
#[derive(Default)]
struct Pes {
    bytes: Vec<u8>,
    /// Bytes of the packet seen, kept or not.
    len: u64,
    /// A packet of it was lost or damaged, or it grew past the limit.
    broken: bool,
}

/// Walks the packets of the whole file, calling `on_unit` with each PES packet of the
/// first H.264 or HEVC stream of the first program (each holding at most `keep` bytes).
/// Returns the stream's codec, or `None` when the file names no video stream.
fn walk<R: Read + Seek>(
    r: &mut R,
    packet_size: usize,
    keep: usize,
    mut on_unit: impl FnMut(Codec, Unit<'_>) -> Result<(), HashError>,
) -> Result<Option<Codec>, HashError> {
    let skip = packet_size - PACKET;
    r.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let mut buf = vec![0u8; packet_size * READ_PACKETS];
    let mut map_pid: Option<u16> = None;
    let mut video: Option<(u16, Codec)> = None;
    let mut other: Option<u8> = None;
    let mut pes: Option<Pes> = None;
    let mut last_cc: Option<u8> = None;
    let mut clock = Unwrap::default();
    'file: loop {
        let n = fill(r, &mut buf)?;
        for packet in buf[..n - n % packet_size].chunks_exact(packet_size) {
            let p = &packet[skip..];
            if p[0] != SYNC {
                // Lost sync: damage, or the end of what was recorded.
                break 'file;
            }
            let pid = u16::from_be_bytes([p[1] & 0x1F, p[2]]);
            let start = p[1] & 0x40 != 0;
            let control = (p[3] >> 4) & 3;
            let cc = p[3] & 0x0F;
            let payload_at = if control & 2 != 0 {
                5 + usize::from(p[4])
            } else {
                4
            };
            let payload = if control & 1 != 0 {
                p.get(payload_at..)
            } else {
                Some(&[][..])
            };
            let Some(payload) = payload else {
                // An adaptation field longer than its packet.
                if video.is_some_and(|(v, _)| v == pid) {
                    if let Some(pes) = pes.as_mut() {
                        pes.broken = true;
                    }
                }
                continue;
            };
            match video {
                Some((vpid, codec)) if vpid == pid => {
                    if control & 1 == 0 {
                        continue;
                    }
                    let discontinuity = control & 2 != 0 && p[4] > 0 && p[5] & 0x80 != 0;
                    let lost = match last_cc {
                        Some(prev) if cc == prev => continue, // a repeated packet
                        Some(prev) => !discontinuity && cc != (prev + 1) & 0x0F,
                        None => false,
                    };
                    last_cc = Some(cc);
                    if start {
                        if let Some(done) = pes.take() {
                            finish(codec, done, true, &mut clock, &mut on_unit)?;
                        }
                        pes = Some(Pes::default());
                    }
                    if let Some(cur) = pes.as_mut() {
                        cur.broken |= lost;
                        cur.len += payload.len() as u64;
                        let room = keep.saturating_sub(cur.bytes.len());
                        cur.bytes
                            .extend_from_slice(&payload[..payload.len().min(room)]);
                    }
                }
                Some(_) => {}
                None if pid == 0 && start => {
                    if let Some(section) = section(payload, 0x00) {
                        map_pid = first_program_map(section);
                    }
                }
                None if Some(pid) == map_pid && start => {
                    if let Some(section) = section(payload, 0x02) {
                        let (found, unsupported) = video_stream(section);
                        video = found;
                        other = other.or(unsupported);
                    }
                }
                None => {}
            }
        }
        if n < buf.len() {
            break;
        }
    }
    if let (Some((_, codec)), Some(last)) = (video, pes.take()) {
        // The last unit is whole only if its header gave its length and it is all here.
        finish(codec, last, false, &mut clock, &mut on_unit)?;
    }
    match (video, other) {
        (Some((_, codec)), _) => Ok(Some(codec)),
        (None, Some(kind)) => Err(HashError::Unsupported {
            media_type: format!("MPEG-TS video of stream type 0x{kind:02X} ({})", name(kind)),
            why: "only H.264 and HEVC video keyframes are decoded in transport streams",
        }),
        (None, None) if map_pid.is_none() => Err(corrupt(
            "no program association table: the transport stream names no program".into(),
        )),
        (None, None) => Ok(None),
    }
}

/// Reads until `buf` is full or the file ends; the bytes read.
fn fill<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, HashError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    Ok(got)
}

/// Hands a joined PES packet on: its header read, its time unwrapped. `ended`: the
/// next packet of the stream began, so no byte of this one is missing unless lost.
fn finish(
    codec: Codec,
    pes: Pes,
    ended: bool,
    clock: &mut Unwrap,
    on_unit: &mut impl FnMut(Codec, Unit<'_>) -> Result<(), HashError>,
) -> Result<(), HashError> {
    let Some((header, pts, declared)) = pes_header(&pes.bytes) else {
        return Ok(());
    };
    let complete = match declared {
        // The header's length counts the bytes after its first six.
        Some(len) => pes.len == len + 6,
        None => ended,
    };
    on_unit(
        codec,
        Unit {
            data: &pes.bytes[header..],
            pts: pts.map(|t| clock.unwrap(t)),
            whole: complete && !pes.broken,
            held: pes.len == pes.bytes.len() as u64,
        },
    )
}

/// A PES packet's header: where its data starts, its presentation time (33 bits, as
/// written) and its declared length (`None`: unbounded, as video usually is).
fn pes_header(b: &[u8]) -> Option<(usize, Option<u64>, Option<u64>)> {
    if b.len() < 9 || b[..3] != [0, 0, 1] || b[6] & 0xC0 != 0x80 {
        return None;
    }
    let len = u64::from(u16::from_be_bytes([b[4], b[5]]));
    let header = 9 + usize::from(b[8]);
    if header > b.len() {
        return None;
    }
    let pts = (b[7] & 0x80 != 0 && header >= 14).then(|| {
        (u64::from(b[9] >> 1) & 7) << 30
            | u64::from(b[10]) << 22
            | u64::from(b[11] >> 1) << 15
            | u64::from(b[12]) << 7
            | u64::from(b[13] >> 1)
    });
    Some((header, pts, (len > 0).then_some(len)))
}

/// Presentation times made continuous over the 2^33 wrap (about 26.5 hours).
#[derive(Default)]
struct Unwrap {
    last: Option<u64>,
    base: u64,
}

impl Unwrap {
    fn unwrap(&mut self, raw: u64) -> u64 {
        if let Some(last) = self.last {
            // A jump back of more than half the range is a wrap; forward, an unwrap.
            if last > raw && last - raw > PTS_WRAP / 2 {
                self.base += PTS_WRAP;
            } else if raw > last && raw - last > PTS_WRAP / 2 && self.base >= PTS_WRAP {
                self.base -= PTS_WRAP;
            }
        }
        self.last = Some(raw);
        self.base + raw
    }
}

/// The section a packet starting one holds, when it is of `table` and whole within the
/// packet (tables this small are), without its CRC.
fn section(payload: &[u8], table: u8) -> Option<&[u8]> {
    let pointer = usize::from(*payload.first()?);
    let s = payload.get(1 + pointer..)?;
    if *s.first()? != table {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([*s.get(1)?, *s.get(2)?]) & 0x0FFF);
    s.get(..(3 + len).checked_sub(4)?)
}

/// The PID of the first program's map, from a program association table.
fn first_program_map(pat: &[u8]) -> Option<u16> {
    pat.get(8..)?.chunks_exact(4).find_map(|e| {
        let program = u16::from_be_bytes([e[0], e[1]]);
        (program != 0).then(|| u16::from_be_bytes([e[2] & 0x1F, e[3]]))
    })
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
            0x01 | 0x02 | 0x10 | 0x20 | 0x33 | 0x42 | 0xD1 | 0xEA => {
                other.get_or_insert(kind);
            }
            _ => {}
        }
    }
    (None, other)
}

/// What a video stream type is, for messages.
fn name(kind: u8) -> &'static str {
    match kind {
        0x01 => "MPEG-1 video",
        0x02 => "MPEG-2 video",
        0x10 => "MPEG-4 Part 2 video",
        0x20 => "H.264 SVC/MVC",
        0x33 => "H.266/VVC",
        0x42 => "AVS video",
        0xD1 => "Dirac",
        0xEA => "VC-1",
        _ => "video",
    }
}

/// Where the NAL units of an Annex-B access unit lie (start codes and the zeros that
/// pad them left out).
fn nal_units(d: &[u8]) -> Vec<Range<usize>> {
    let finder = memchr::memmem::Finder::new(&[0, 0, 1]);
    let starts: Vec<usize> = finder.find_iter(d).map(|i| i + 3).collect();
    let mut out = Vec::with_capacity(starts.len());
    for (i, &s) in starts.iter().enumerate() {
        let mut end = starts.get(i + 1).map_or(d.len(), |&n| n - 3);
        while end > s && d[end - 1] == 0 {
            end -= 1;
        }
        if end > s {
            out.push(s..end);
        }
    }
    out
}

/// Whether an access unit's first picture slice is one a decoder can start from: an
/// IDR picture, or (H.264 open GOPs) an intra picture after a recovery point; in HEVC,
/// an intra random access point.
fn is_keyframe(codec: Codec, data: &[u8]) -> bool {
    let mut recovery = false;
    for n in nal_units(data) {
        let nal = &data[n];
        let b = nal[0];
        match codec {
            Codec::H264 => match b & 0x1F {
                5 => return true,
                1 => return recovery && intra_slice(nal),
                2..=4 => return false,
                6 => recovery |= has_recovery_point(nal),
                _ => {}
            },
            _ => match (b >> 1) & 0x3F {
                16..=21 => return true,
                0..=31 => return false,
                _ => {}
            },
        }
    }
    false
}

/// A NAL unit's payload without its emulation-prevention bytes (`00 00 03`), up to
/// `max` bytes.
fn unescape(nal: &[u8], max: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len().min(max));
    let mut zeros = 0;
    for &b in nal.iter().skip(1) {
        if out.len() >= max {
            break;
        }
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// Whether an H.264 SEI NAL unit holds a recovery point (payload type 6).
fn has_recovery_point(nal: &[u8]) -> bool {
    let d = unescape(nal, 4096);
    let mut at = 0;
    let read = |at: &mut usize| -> Option<usize> {
        let mut v = 0usize;
        loop {
            let b = *d.get(*at)?;
            *at += 1;
            v += usize::from(b);
            if b != 0xFF {
                return Some(v);
            }
        }
    };
    // Payloads until the trailing bits (0x80).
    while d.get(at).is_some_and(|&b| b != 0x80) {
        let (Some(kind), Some(size)) = (read(&mut at), read(&mut at)) else {
            return false;
        };
        if kind == 6 {
            return true;
        }
        at += size;
    }
    false
}

/// Whether an H.264 slice is intra coded (slice type I or SI, 2/4 or 7/9): its header
/// starts with `first_mb_in_slice` and `slice_type`, both Exp-Golomb coded.
fn intra_slice(nal: &[u8]) -> bool {
    let d = unescape(nal, 16);
    let mut bit = 0usize;
    let mut ue = || -> Option<u32> {
        let mut zeros = 0;
        while d.get(bit / 8)? >> (7 - bit % 8) & 1 == 0 {
            zeros += 1;
            bit += 1;
            if zeros > 31 {
                return None;
            }
        }
        bit += 1;
        let mut v = 0u32;
        for _ in 0..zeros {
            v = (v << 1) | u32::from(d.get(bit / 8)? >> (7 - bit % 8) & 1);
            bit += 1;
        }
        Some((1u32 << zeros) - 1 + v)
    };
    let _first_mb = ue();
    matches!(ue(), Some(2 | 4 | 7 | 9))
}

fn is_parameter_set(codec: Codec, nal: &[u8]) -> bool {
    let Some(&b) = nal.first() else {
        return false;
    };
    match codec {
        Codec::H264 => matches!(b & 0x1F, 7 | 8),
        _ => matches!((b >> 1) & 0x3F, 32..=34),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_sizes_are_told_by_three_sync_bytes() {
        let mut ts = vec![0u8; 3 * 188];
        for i in 0..3 {
            ts[i * 188] = SYNC;
        }
        assert_eq!(packet_size(&ts), Some(188));
        let mut m2ts = vec![0u8; 3 * 192];
        for i in 0..3 {
            m2ts[4 + i * 192] = SYNC;
        }
        assert_eq!(packet_size(&m2ts), Some(192));
        ts[188] = 0;
        assert_eq!(packet_size(&ts), None);
        assert_eq!(packet_size(&[SYNC]), None);
    }

    #[test]
    fn presentation_times_unwrap_and_headers_are_read() {
        let mut c = Unwrap::default();
        assert_eq!(c.unwrap(PTS_WRAP - 10), PTS_WRAP - 10);
        assert_eq!(c.unwrap(5), PTS_WRAP + 5);
        // A frame shown before the wrap but coming after it (B-frames).
        assert_eq!(c.unwrap(PTS_WRAP - 3), PTS_WRAP - 3);
        assert_eq!(c.unwrap(20), PTS_WRAP + 20);

        // PTS 0x1_2345_6789 in the standard's marker-bit layout.
        let pts: u64 = 0x1_2345_6789;
        let b = [
            0x21 | ((pts >> 29) & 0x0E) as u8,
            (pts >> 22) as u8,
            ((pts >> 14) & 0xFE) as u8 | 1,
            (pts >> 7) as u8,
            ((pts << 1) & 0xFE) as u8 | 1,
        ];
        let mut pes = vec![0, 0, 1, 0xE0, 0, 0, 0x80, 0x80, 5];
        pes.extend(b);
        pes.extend([0, 0, 0, 1, 0x65]);
        assert_eq!(pes_header(&pes), Some((14, Some(pts), None)));
        assert_eq!(pes_header(&pes[..12]), None);
    }

    #[test]
    fn keyframes_are_told_by_their_first_slice() {
        let au = |types: &[u8]| -> Vec<u8> {
            types
                .iter()
                .flat_map(|&t| [0, 0, 0, 1, t, 0x88, 0x80])
                .collect()
        };
        // Delimiter, SPS, PPS, IDR slice.
        assert!(is_keyframe(Codec::H264, &au(&[0x09, 0x67, 0x68, 0x65])));
        // A non-IDR slice first.
        assert!(!is_keyframe(Codec::H264, &au(&[0x09, 0x41, 0x65])));
        // HEVC: VPS, SPS, PPS, then an IDR_W_RADL (19) or a CRA (21); a trailing
        // picture (1) is not one.
        assert!(is_keyframe(Codec::Hevc, &au(&[0x40, 0x42, 0x44, 19 << 1])));
        assert!(is_keyframe(Codec::Hevc, &au(&[21 << 1])));
        assert!(!is_keyframe(Codec::Hevc, &au(&[0x40, 1 << 1])));
        let d = au(&[0x67, 0x68]);
        let nals = nal_units(&d);
        assert_eq!(nals, vec![4..7, 11..14]);
        assert!(
            nals.iter()
                .all(|n| is_parameter_set(Codec::H264, &d[n.clone()]))
        );
    }
}
