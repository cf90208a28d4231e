//! What MPEG-2 systems streams (ISO/IEC 13818-1) share, whether transport streams
//! ([`mpegts`](super::mpegts)) or program streams ([`mpegps`](super::mpegps)) carry
//! them: PES packet headers and their presentation times, the access units of an
//! H.264 or HEVC video joined from them, and how keyframes are chosen among those
//! units and decoded.

use super::{
    Codec, Keyframe, MAX_FRAME_BYTES, MAX_KEYFRAMES, Stream, StreamFacts, VideoRead, corrupt,
    decode_stream, keep_hashed, ranks,
};
use super::{annexb, sps};
use crate::HashError;

/// Bytes of an access unit looked at to tell a keyframe (its first slice is near its
/// start, after the delimiter, parameter sets and SEI); both walks look at as many.
pub(super) const HEAD_BYTES: usize = 64 * 1024;
/// PES presentation times count 90,000 to the second and wrap at 2^33.
pub(super) const PTS_WRAP: u64 = 1 << 33;
/// A jump back in presentation time larger than this is a new recording, not a
/// reordered frame.
pub(super) const RESET: u64 = 2 * 90_000;

/// One access unit of the video stream: its bytes (up to the walk's limit), its
/// presentation time (made continuous), whether none of it was lost or cut off, and
/// whether all of it is held here.
pub(super) struct Unit<'a> {
    pub(super) data: &'a [u8],
    pub(super) pts: Option<u64>,
    pub(super) whole: bool,
    pub(super) held: bool,
}

impl Unit<'_> {
    /// Whether this unit is a keyframe that can be decoded, judged on its first
    /// [`HEAD_BYTES`] whatever the walk keeps, so that both walks count alike.
    fn is_keyframe(&self, codec: Codec) -> bool {
        self.whole
            && self.pts.is_some()
            && annexb::is_keyframe(codec, &self.data[..self.data.len().min(HEAD_BYTES)])
    }
}

/// An access unit being joined from packets.
pub(super) struct Building {
    bytes: Vec<u8>,
    /// Bytes of it seen, kept or not.
    len: u64,
    pub(super) pts: Option<u64>,
    /// Bytes of it were lost, damaged or cut off.
    pub(super) broken: bool,
}

impl Building {
    pub(super) fn new(pts: Option<u64>) -> Self {
        Building {
            bytes: Vec::new(),
            len: 0,
            pts,
            broken: false,
        }
    }

    /// Joins `d` to the unit, keeping at most `keep` bytes of it.
    pub(super) fn append(&mut self, d: &[u8], keep: usize) {
        self.len += d.len() as u64;
        let room = keep.saturating_sub(self.bytes.len());
        self.bytes.extend_from_slice(&d[..d.len().min(room)]);
    }

    /// Takes the last `n` bytes joined back out (they turned out to begin the next
    /// unit).
    pub(super) fn give_back(&mut self, n: usize) {
        if self.held() {
            self.bytes.truncate(self.bytes.len().saturating_sub(n));
        }
        self.len = self.len.saturating_sub(n as u64);
    }

    fn held(&self) -> bool {
        self.len == self.bytes.len() as u64
    }

    pub(super) fn unit(&self) -> Unit<'_> {
        Unit {
            data: &self.bytes,
            pts: self.pts,
            whole: !self.broken,
            held: self.held(),
        }
    }
}

/// Hashes the keyframes among the access units `walk` gives, walking twice: once to
/// count the keyframes (each unit held up to [`HEAD_BYTES`]), once to decode the chosen
/// ones (held up to [`MAX_FRAME_BYTES`]). `walk(keep, on_unit)` calls `on_unit` with
/// each access unit of the video, in the file's order. Times count from the first
/// unit's. Parameter sets come in the stream: a keyframe without one of them is given
/// the latest seen before it. A chosen keyframe that fails to decode is left out, and
/// the video fails only when none decodes. The first walk also gathers the stream's
/// facts: its units, its span of time, the picture size of its first sequence parameter
/// set.
pub(super) fn hash_units(
    codec: Codec,
    container: &str,
    walk: impl FnMut(usize, &mut dyn FnMut(Unit<'_>) -> Result<(), HashError>) -> Result<(), HashError>,
) -> VideoRead {
    let mut stream = None;
    let keyframes = hash_noting(codec, container, walk, &mut stream);
    VideoRead { keyframes, stream }
}

/// [`hash_units`], the stream's facts put in `noted` once the first walk has them
/// (the keyframes may fail after).
fn hash_noting(
    codec: Codec,
    container: &str,
    mut walk: impl FnMut(
        usize,
        &mut dyn FnMut(Unit<'_>) -> Result<(), HashError>,
    ) -> Result<(), HashError>,
    noted: &mut Option<StreamFacts>,
) -> Result<Vec<Keyframe>, HashError> {
    let mut shown = 0u64;
    let mut base: Option<u64> = None;
    let mut span = Span::default();
    let mut size = None;
    walk(HEAD_BYTES, &mut |unit| {
        base = base.or(unit.pts);
        // Counted in the unit's first bytes: a unit the container joined from several
        // frames (a PES packet without a time continues the one before) holds several.
        span.add(unit.pts, annexb::units_in(codec, unit.data));
        if size.is_none() {
            size = annexb::leading_parameters(codec, unit.data)
                .into_iter()
                .find_map(|(_, n)| sps::shown_size(codec, &unit.data[n]));
        }
        if codec.is_mpeg12() && span.frame.is_none() {
            span.frame = annexb::leading_parameters(codec, unit.data)
                .into_iter()
                .find_map(|(_, n)| super::mpeg12::frame_ticks(&unit.data[n]));
        }
        if unit.is_keyframe(codec) {
            shown += 1;
        }
        Ok(())
    })?;
    let facts = StreamFacts {
        codec: match codec {
            Codec::H264 => "H.264",
            Codec::Hevc => "HEVC",
            Codec::Vp9 => "VP9",
            Codec::Vp8 => "VP8",
            Codec::Av1 => "AV1",
            Codec::Mpeg1 => "MPEG-1 video",
            Codec::Mpeg2 => "MPEG-2 video",
            Codec::Mpeg4 => "MPEG-4 Part 2 video",
            Codec::H263 => "H.263",
            Codec::Sorenson => "Sorenson H.263",
        },
        width: size.map(|s| s.0),
        height: size.map(|s| s.1),
        frames: span.units,
        duration_ms: span.duration().map(|t| (t + 45) / 90),
    };
    let facts_codec = facts.codec;
    *noted = Some(facts);
    let Some(base) = base else {
        return Err(corrupt(format!(
            "the {container}'s video ({facts_codec}) holds no frame with a presentation time"
        )));
    };
    if shown == 0 {
        return Err(corrupt(format!(
            "the {container}'s video holds no whole keyframe ({})",
            match codec {
                Codec::Hevc => "IDR, CRA or BLA picture",
                Codec::Mpeg1 | Codec::Mpeg2 => "I picture",
                Codec::Mpeg4 => "I-VOP",
                _ => "IDR picture, or intra picture after a recovery point",
            }
        )));
    }
    let wanted = ranks(shown, MAX_KEYFRAMES);
    let mut rank = 0u64;
    // The latest parameter set of each type, as the stream carries them.
    let mut params: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut results = Vec::with_capacity(wanted.len());
    let cap = usize::try_from(MAX_FRAME_BYTES).unwrap_or(usize::MAX);
    walk(cap, &mut |unit| {
        let own = annexb::leading_parameters(codec, unit.data);
        if unit.is_keyframe(codec) {
            if wanted.binary_search(&rank).is_ok() {
                if !unit.held {
                    results.push(Err(corrupt(format!(
                        "keyframe {} is more than {MAX_FRAME_BYTES} bytes",
                        rank + 1
                    ))));
                    rank += 1;
                    return Ok(());
                }
                let mut stream = Stream {
                    bytes: Vec::with_capacity(unit.data.len() + 256),
                    nals: Vec::new(),
                };
                for (t, p) in &params {
                    if !own.iter().any(|(o, _)| o == t) {
                        stream.put(p);
                    }
                }
                // A keyframe damaged without a sign of it in the packets is left out.
                let pts = unit.pts.unwrap_or(base);
                let picture = annexb::first_picture(codec, unit.data).and_then(|nals| {
                    for n in nals {
                        stream.put(&unit.data[n]);
                    }
                    decode_stream(codec, &stream)
                });
                results.push(
                    picture.map(|grid| Keyframe::of((pts.saturating_sub(base) + 45) / 90, &grid)),
                );
            }
            rank += 1;
        }
        for (t, n) in own {
            *slot(&mut params, t) = unit.data[n].to_vec();
        }
        Ok(())
    })?;
    keep_hashed(results)
}

/// The units of a stream and the span of their presentation times.
#[derive(Default)]
struct Span {
    units: u64,
    earliest: Option<u64>,
    latest: u64,
    previous: Option<u64>,
    /// The smallest step between one unit's time and the next one's: a frame.
    step: Option<u64>,
    /// Frames after the one with the latest time that have no time of their own (the
    /// rest of a unit holding several, and units without a time).
    tail: u64,
    /// A frame's length, where the stream says it (MPEG-1/2 sequence headers).
    frame: Option<u64>,
}

impl Span {
    fn add(&mut self, pts: Option<u64>, units: u64) {
        self.units += units;
        let Some(t) = pts else {
            self.tail += units;
            return;
        };
        if self.earliest.is_none() || t >= self.latest {
            self.latest = t;
            self.tail = units.saturating_sub(1);
        }
        self.earliest = Some(self.earliest.map_or(t, |e| e.min(t)));
        if let Some(p) = self.previous {
            let d = t.abs_diff(p);
            if d > 0 {
                self.step = Some(self.step.map_or(d, |s| s.min(d)));
            }
        }
        self.previous = Some(t);
    }

    /// From the earliest time to the latest, plus a frame, in 90 kHz ticks; unknown
    /// when a single time gives no step to measure a frame by. Where the stream gives a
    /// frame's length, frames after the latest time without a time of their own (a
    /// program stream packet holding several small frames gives a time to the first
    /// only) are added at that length each. (Frames reordered before it would be counted
    /// too: B-frames at the end of a stream, a few frames at most.) Without it, they are
    /// left out: the smallest step between times may be more than a frame.
    fn duration(&self) -> Option<u64> {
        let step = self.step?;
        let span = self.latest - self.earliest? + step;
        let tail = self.frame.map_or(0, |f| self.tail.saturating_mul(f));
        Some(span.saturating_add(tail))
    }
}

/// A PES packet's header: its length, its presentation time (33 bits, as written) and
/// its declared length (`None`: unbounded, as video's usually is).
pub(super) fn pes_header(b: &[u8]) -> Option<(usize, Option<u64>, Option<u64>)> {
    if b.len() < 9 || b[..3] != [0, 0, 1] || b[6] & 0xC0 != 0x80 {
        return None;
    }
    let len = u64::from(u16::from_be_bytes([b[4], b[5]]));
    let header = 9 + usize::from(b[8]);
    if header > b.len() {
        return None;
    }
    let pts = if b[7] & 0x80 != 0 && header >= 14 {
        // A time whose marker bits are wrong is damage, not a time.
        Some(timestamp(&b[9..14])?)
    } else {
        None
    };
    Some((header, pts, (len > 0).then_some(len)))
}

/// A PES packet's header in MPEG-1's form (MPEG-1 system streams): stuffing, the
/// decoder buffer's size, then a presentation time (and decoding time) or none. Its
/// length and presentation time.
pub(super) fn mpeg1_pes_header(b: &[u8]) -> Option<(usize, Option<u64>)> {
    if b.len() < 7 || b[..3] != [0, 0, 1] {
        return None;
    }
    let mut at = 6;
    while b.get(at) == Some(&0xFF) && at < 6 + 16 {
        at += 1;
    }
    if b.get(at)? & 0xC0 == 0x40 {
        at += 2;
    }
    let flags = *b.get(at)?;
    match flags >> 4 {
        0x2 => Some((at + 5, Some(timestamp(b.get(at..at + 5)?)?))),
        0x3 => {
            b.get(at + 5..at + 10)?;
            Some((at + 10, Some(timestamp(&b[at..at + 5])?)))
        }
        _ if flags == 0x0F => Some((at + 1, None)),
        _ => None,
    }
}

/// A 33-bit time in the 5-byte layout (a `001x` prefix, then the time with a marker
/// bit after each part); `None` when the prefix or a marker bit is wrong.
fn timestamp(t: &[u8]) -> Option<u64> {
    if t[0] & 0xE0 != 0x20 || t[0] & 1 == 0 || t[2] & 1 == 0 || t[4] & 1 == 0 {
        return None;
    }
    Some(
        (u64::from(t[0] >> 1) & 7) << 30
            | u64::from(t[1]) << 22
            | u64::from(t[2] >> 1) << 15
            | u64::from(t[3]) << 7
            | u64::from(t[4] >> 1),
    )
}

/// Whether a stream type names video in a codec not decoded here (named in refusals).
pub(super) fn other_video(kind: u8) -> bool {
    matches!(kind, 0x01 | 0x02 | 0x10 | 0x20 | 0x33 | 0x42 | 0xD1 | 0xEA)
}

/// The value kept for `key` in a short list of pairs, added (as its default) if absent.
pub(super) fn slot<K: PartialEq, V: Default>(list: &mut Vec<(K, V)>, key: K) -> &mut V {
    let i = match list.iter().position(|(k, _)| *k == key) {
        Some(i) => i,
        None => {
            list.push((key, V::default()));
            list.len() - 1
        }
    };
    &mut list[i].1
}

/// What a video stream type is, for messages.
pub(super) fn name(kind: u8) -> &'static str {
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

/// The CRC-32 of MPEG-2 sections (and of a program stream's map) (polynomial 0x04C11DB7, most significant bit first,
/// no final inversion): 0 over a section with its CRC.
pub(super) fn crc32(d: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in d {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream's length is its span of times plus one frame, the smallest step between
    /// timed units; one timed unit gives no step, so no length.
    #[test]
    fn a_streams_length_needs_two_times() {
        let mut one = Span::default();
        one.add(Some(90_000), 1);
        one.add(None, 2);
        assert_eq!((one.units, one.duration()), (3, None));
        let mut three = Span::default();
        // Decoding order with a reordered frame: 0, 3600 * 2, 3600 (25 fps).
        for t in [0, 7_200, 3_600] {
            three.add(Some(t), 1);
        }
        assert_eq!(three.duration(), Some(7_200 + 3_600));
        // Frames without a time of their own after the latest time add a frame each;
        // a timed frame earlier than the latest (reordered) adds nothing, nor do frames
        // before the first time.
        let mut tail = Span::default();
        tail.add(None, 1);
        for (t, units) in [(Some(0), 1), (Some(3_600), 1), (None, 2), (Some(1_800), 1)] {
            tail.add(t, units);
        }
        // Without a frame length from the stream, only the stamped span.
        assert_eq!(tail.duration(), Some(3_600 + 1_800));
        tail.frame = Some(1_800);
        assert_eq!(tail.duration(), Some(3_600 + 1_800 + 2 * 1_800));
        // A unit holding two frames at the end: the second is one more frame.
        let mut two = Span::default();
        two.add(Some(0), 1);
        two.add(Some(3_600), 2);
        two.frame = Some(3_600);
        assert_eq!(two.duration(), Some(3_600 * 3));
    }

    #[test]
    fn pes_headers_give_their_time() {
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
        // A marker bit lost: damage, not a time.
        let mut damaged = pes.clone();
        damaged[11] &= 0xFE;
        assert_eq!(pes_header(&damaged), None);
        // MPEG-1's form: two stuffing bytes, the buffer size, the time.
        let mut one = vec![0, 0, 1, 0xE0, 0, 0, 0xFF, 0xFF, 0x60, 0x2E];
        one.extend(b);
        assert_eq!(mpeg1_pes_header(&one), Some((15, Some(pts))));
        assert_eq!(
            mpeg1_pes_header(&[0, 0, 1, 0xE0, 0, 0, 0x0F]),
            Some((7, None))
        );
        assert_eq!(mpeg1_pes_header(&[0, 0, 1, 0xE0, 0, 0, 0x80]), None);
    }
}
