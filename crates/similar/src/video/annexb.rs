//! H.264 and HEVC access units in Annex-B form (each NAL unit after a start code), as
//! transport streams carry them: where their NAL units lie, which of them make up the
//! first picture, and whether that picture is one a decoder can start from.

use std::ops::Range;

use super::sps::Bits;
use super::{Codec, corrupt};
use crate::HashError;

/// Most NAL units taken from one keyframe's access unit (a picture has at most a few
/// hundred slices).
pub(super) const MAX_NALS: usize = 65_536;

/// Bytes of an SEI NAL unit read looking for a recovery point.
const MAX_SEI_BYTES: usize = 64 * 1024;

static START_CODE: [u8; 3] = [0, 0, 1];

/// Where each NAL unit of Annex-B bytes lies (start codes, and the zeros that pad
/// them, left out), found as they are asked for.
pub(super) fn nal_units(d: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let finder = memchr::memmem::Finder::new(&START_CODE);
    let mut next = finder.find(d).map(|i| i + 3);
    std::iter::from_fn(move || {
        loop {
            let start = next?;
            let following = finder.find(&d[start..]).map(|i| start + i);
            next = following.map(|i| i + 3);
            let mut end = following.unwrap_or(d.len());
            while end > start && d[end - 1] == 0 {
                end -= 1;
            }
            if end > start {
                return Some(start..end);
            }
        }
    })
}

/// What a NAL unit is, as far as finding pictures goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Nal {
    /// A parameter set, by its NAL unit type.
    Parameters(u8),
    /// A slice of a picture: whether the picture is IDR (or, in HEVC, an intra random
    /// access point), whether the slice is the picture's first, and whether it is
    /// intra coded (H.264 I or SI; HEVC IRAP pictures are).
    Slice {
        irap: bool,
        first: bool,
        intra: bool,
    },
    /// An access unit delimiter.
    Delimiter,
    /// Supplemental information (H.264 SEI, HEVC prefix SEI).
    Sei,
    Other,
}

pub(super) fn kind(codec: Codec, nal: &[u8]) -> Nal {
    let Some(&b) = nal.first() else {
        return Nal::Other;
    };
    if codec.is_mpeg12() {
        return mpeg12_kind(nal);
    }
    if codec == Codec::Mpeg4 {
        return mpeg4_kind(nal);
    }
    if codec == Codec::Hevc {
        let t = (b >> 1) & 0x3F;
        return match t {
            0..=31 => Nal::Slice {
                irap: (16..=21).contains(&t),
                first: nal.get(2).is_some_and(|&x| x & 0x80 != 0),
                intra: (16..=21).contains(&t),
            },
            32..=34 => Nal::Parameters(t),
            35 => Nal::Delimiter,
            39 => Nal::Sei,
            _ => Nal::Other,
        };
    }
    match b & 0x1F {
        t @ 1..=5 => {
            let (first_mb, slice_type) = slice_start(nal);
            Nal::Slice {
                irap: t == 5,
                first: first_mb == Some(0),
                intra: matches!(slice_type, Some(2 | 4 | 7 | 9)),
            }
        }
        6 => Nal::Sei,
        t @ (7 | 8) => Nal::Parameters(t),
        9 => Nal::Delimiter,
        _ => Nal::Other,
    }
}

/// An MPEG-1/2 unit (the bytes after a start code) in the terms of NAL units: a picture
/// header is a picture's first "slice" (intra when it codes an I picture, which a
/// decoder can start from), the sequence header and its extension are the parameters,
/// a group-of-pictures header opens a unit as a delimiter does; a picture's extensions
/// and user data belong to what they follow.
fn mpeg12_kind(unit: &[u8]) -> Nal {
    use super::mpeg12;
    match unit.first() {
        Some(0x00) => {
            let intra = mpeg12::is_intra_picture(unit);
            Nal::Slice {
                irap: intra,
                first: true,
                intra,
            }
        }
        Some(0x01..=0xAF) => Nal::Slice {
            irap: false,
            first: false,
            intra: false,
        },
        Some(0xB3) => Nal::Parameters(0xB3),
        Some(0xB5) if mpeg12::extension_id(unit) == Some(1) => {
            Nal::Parameters(mpeg12::SEQUENCE_EXTENSION_KIND)
        }
        Some(0xB8) => Nal::Delimiter,
        _ => Nal::Other,
    }
}

/// An MPEG-4 Part 2 unit in the terms of NAL units: a VOP is a picture's one "slice"
/// (intra when it is an I-VOP), the video object layer header and the visual object
/// header (whose version the layer's syntax follows) are the parameters, a group-of-VOPs
/// header or visual object sequence header opens a unit as a delimiter does.
fn mpeg4_kind(unit: &[u8]) -> Nal {
    use super::mpeg4;
    if let Some(intra) = mpeg4::vop_kind(unit) {
        return Nal::Slice {
            irap: intra,
            first: true,
            intra,
        };
    }
    if mpeg4::is_layer(unit) {
        return Nal::Parameters(unit[0]);
    }
    match unit.first() {
        Some(0xB5) => Nal::Parameters(0xB5),
        Some(0xB0 | 0xB3) => Nal::Delimiter,
        _ => Nal::Other,
    }
}

/// Whether a NAL unit begins an access unit: always, when none has begun yet;
/// otherwise a delimiter, supplemental information or a parameter set after a slice,
/// or a picture's first slice after another slice.
pub(super) fn begins_unit(kind: Nal, started: bool, seen_slice: bool) -> bool {
    let opener = matches!(
        kind,
        Nal::Delimiter | Nal::Sei | Nal::Parameters(_) | Nal::Slice { first: true, .. }
    );
    opener && (!started || seen_slice)
}

/// How many access units begin in `d` (at least one): a container's unit of data may
/// hold several (a transport stream's PES packet without a time of its own continues
/// the one before; a muxer may put two frames in one packet).
pub(super) fn units_in(codec: Codec, d: &[u8]) -> u64 {
    if codec.is_mpeg12() {
        return super::mpeg12::frames_in(nal_units(d).map(|n| &d[n]));
    }
    let (mut count, mut seen_slice) = (0u64, false);
    for n in nal_units(d) {
        let kind = kind(codec, &d[n]);
        if begins_unit(kind, count > 0, seen_slice) {
            count += 1;
            seen_slice = false;
        }
        seen_slice |= matches!(kind, Nal::Slice { .. });
    }
    count.max(1)
}

/// Whether the access unit in `d` begins with a picture a decoder can start from: an
/// IDR picture, or (H.264 open GOPs) an intra picture after a recovery point; in HEVC,
/// an intra random access point.
pub(super) fn is_keyframe(codec: Codec, d: &[u8]) -> bool {
    keyframe_of(codec, nal_units(d).map(|n| &d[n])) == Some(true)
}

/// [`is_keyframe`] over NAL units however they are delimited (a start code, or a
/// length before each); `None` when they hold no slice.
pub(super) fn keyframe_of<'a>(codec: Codec, nals: impl Iterator<Item = &'a [u8]>) -> Option<bool> {
    let mut recovery = false;
    for nal in nals {
        match kind(codec, nal) {
            // MPEG-1/2: slices before the first picture header end the picture before
            // (a packet may begin inside it); the picture header decides.
            Nal::Slice { first: false, .. } if codec.is_mpeg12() => {}
            Nal::Slice { irap, intra, .. } => {
                return Some(irap || (codec == Codec::H264 && recovery && intra));
            }
            Nal::Sei if codec == Codec::H264 => recovery |= has_recovery_point(nal),
            _ => {}
        }
    }
    None
}

/// The parameter sets before the first picture's slices, with their NAL unit types.
pub(super) fn leading_parameters(codec: Codec, d: &[u8]) -> Vec<(u8, Range<usize>)> {
    let mut out = Vec::new();
    for n in nal_units(d) {
        match kind(codec, &d[n.clone()]) {
            // MPEG-1/2: the end of the picture before, in a packet that began inside it.
            Nal::Slice { first: false, .. } if codec.is_mpeg12() && out.is_empty() => {}
            Nal::Slice { .. } => break,
            Nal::Parameters(t) => out.push((t, n)),
            _ => {}
        }
    }
    out
}

/// The NAL units of the access unit's first picture: up to where a second one begins
/// (a delimiter, supplemental information or parameter sets after a slice, or another
/// picture's first slice), as when a PES packet holds more than one frame.
pub(super) fn first_picture(codec: Codec, d: &[u8]) -> Result<Vec<Range<usize>>, HashError> {
    let mut out = Vec::new();
    let mut seen_slice = false;
    for n in nal_units(d) {
        let k = kind(codec, &d[n.clone()]);
        if codec.is_mpeg12() && !seen_slice && matches!(k, Nal::Slice { first: false, .. }) {
            // The end of the picture before, in a packet that began inside it.
            continue;
        }
        if seen_slice {
            let next_picture = match k {
                Nal::Slice { first, .. } => first,
                Nal::Delimiter | Nal::Sei | Nal::Parameters(_) => true,
                Nal::Other => false,
            };
            if next_picture {
                break;
            }
        }
        seen_slice |= matches!(k, Nal::Slice { .. });
        if out.len() == MAX_NALS {
            return Err(corrupt(format!(
                "a keyframe holds more than {MAX_NALS} NAL units"
            )));
        }
        // MPEG video has no emulation prevention: its syntax alone keeps start codes out.
        if !codec.is_mpeg_video() && damaged(&d[n.clone()]) {
            return Err(corrupt(
                "a keyframe's NAL unit holds bytes no encoder writes (00 00 00 or 00 00 02): \
                 it was overwritten"
                    .into(),
            ));
        }
        out.push(n);
    }
    Ok(out)
}

/// Whether a NAL unit holds `00 00 00` or `00 00 02`, which H.264 and HEVC forbid
/// inside one (an encoder inserts `03` after two zeros): bytes overwritten with zeros,
/// a sign of damage the container does not show.
fn damaged(nal: &[u8]) -> bool {
    memchr::memmem::find_iter(nal, &[0, 0]).any(|i| matches!(nal.get(i + 2), Some(0 | 2)))
}

/// A NAL unit's payload (the bytes after its header) without emulation-prevention
/// bytes (`00 00 03`), up to `max` bytes: the raw bits its syntax is read from.
pub(super) fn rbsp(payload: &[u8], max: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len().min(max));
    let mut zeros = 0;
    for &b in payload {
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
    let d = rbsp(nal.get(1..).unwrap_or(&[]), MAX_SEI_BYTES);
    // A payload type or size: bytes of 255 added up, then the last.
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
    let mut at = 0;
    // Payloads until the trailing bits, the last byte.
    while at + 1 < d.len() {
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

/// An H.264 slice header's `first_mb_in_slice` and `slice_type`, both Exp-Golomb
/// coded at its start.
fn slice_start(nal: &[u8]) -> (Option<u64>, Option<u64>) {
    let d = rbsp(nal.get(1..).unwrap_or(&[]), 16);
    let mut bits = Bits { data: &d, at: 0 };
    let first = bits.ue();
    (first, bits.ue())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MPEG-2: a packet that begins with the last slice of the picture before, then a
    /// sequence header, a group of pictures and an I picture, is a keyframe; its picture
    /// leaves the slice before out. A P picture (coding type 2) is none.
    #[test]
    fn an_mpeg2_i_picture_after_the_tail_of_another_is_a_keyframe() {
        // Picture headers: temporal reference, then the coding type in bits 3..6 of the
        // second byte.
        let i_picture: &[u8] = &[0x00, 0x00, 0x0F];
        let p_picture: &[u8] = &[0x00, 0x00, 0x17];
        let d = au(&[
            &[0x2C, 0x11],
            &[0xB3, 0x14],
            &[0xB8, 0x00],
            i_picture,
            &[0x01, 0x22],
        ]);
        assert!(is_keyframe(Codec::Mpeg2, &d));
        let firsts: Vec<u8> = first_picture(Codec::Mpeg2, &d)
            .unwrap()
            .into_iter()
            .map(|r| d[r.start])
            .collect();
        assert_eq!(firsts, [0xB3, 0xB8, 0x00, 0x01]);
        let d = au(&[&[0x2C, 0x11], p_picture, &[0x01, 0x22]]);
        assert!(!is_keyframe(Codec::Mpeg2, &d));
        assert_eq!(units_in(Codec::Mpeg2, &d), 1);
    }

    /// An access unit of NAL units with these first bytes (each followed by `80`).
    fn au(nals: &[&[u8]]) -> Vec<u8> {
        nals.iter()
            .flat_map(|n| [&[0, 0, 0, 1][..], n, &[0x80]].concat())
            .collect()
    }

    #[test]
    fn bytes_no_encoder_writes_are_damage() {
        assert!(!damaged(&[0x65, 0x88, 0, 0, 3, 0, 0, 3, 1, 0x80]));
        assert!(damaged(&[0x65, 0x88, 0, 0, 0, 0, 0x80]));
        assert!(damaged(&[0x65, 0x88, 0, 0, 2, 0x80]));
        assert!(damaged(&[0x65, 0, 0, 0]));
        let overwritten = au(&[&[0x65, 0x88, 0x84, 0, 0, 0, 0, 0x21]]);
        let e = first_picture(Codec::H264, &overwritten).unwrap_err();
        assert!(e.to_string().contains("overwritten"), "{e}");
        assert!(first_picture(Codec::H264, &au(&[&[0x65, 0x88, 0x84, 0, 0, 3, 0x21]])).is_ok());
    }

    #[test]
    fn keyframes_are_told_by_their_first_slice() {
        // Delimiter, SPS, PPS, IDR slice (first_mb 0: the bit '1').
        assert!(is_keyframe(
            Codec::H264,
            &au(&[&[0x09], &[0x67], &[0x68], &[0x65, 0x88]])
        ));
        // A non-IDR slice first.
        assert!(!is_keyframe(
            Codec::H264,
            &au(&[&[0x09], &[0x41, 0x9A], &[0x65, 0x88]])
        ));
        // An I slice (first_mb 0, slice_type 7: '1', '0001000') after a recovery point
        // (SEI payload type 6, size 1): an open GOP's keyframe; without it, not one.
        let i_slice: &[u8] = &[0x41, 0x88, 0x80];
        let recovery: &[u8] = &[0x06, 0x06, 0x01, 0x84];
        assert!(is_keyframe(Codec::H264, &au(&[recovery, i_slice])));
        assert!(!is_keyframe(Codec::H264, &au(&[i_slice])));
        // Another SEI before the recovery point, with a payload of 300 bytes.
        let mut big = vec![0x06, 0x05, 0xFF, 45];
        big.extend([0x11; 300]);
        big.extend([0x06, 0x01, 0x84]);
        assert!(is_keyframe(Codec::H264, &au(&[&big, i_slice])));
        // HEVC: VPS, SPS, PPS, then an IDR_W_RADL (19) or a CRA (21); a trailing
        // picture (1) is not one.
        let hevc = |t: u8| [t << 1, 1, 0x80];
        assert!(is_keyframe(
            Codec::Hevc,
            &au(&[&hevc(32), &hevc(33), &hevc(34), &hevc(19)])
        ));
        assert!(is_keyframe(Codec::Hevc, &au(&[&hevc(21)])));
        assert!(!is_keyframe(Codec::Hevc, &au(&[&hevc(32), &hevc(1)])));
    }

    #[test]
    fn the_first_picture_ends_where_the_next_begins() {
        // SPS, PPS, two slices of an IDR picture (the second not first), then a
        // delimiter and the next picture.
        let d = au(&[
            &[0x67],
            &[0x68],
            &[0x65, 0x88],
            &[0x65, 0x48],
            &[0x09],
            &[0x41, 0x9A],
        ]);
        let nals = first_picture(Codec::H264, &d).unwrap();
        assert_eq!(nals.len(), 4);
        // Without a delimiter, the next picture's first slice ends it.
        let d = au(&[&[0x65, 0x88], &[0x41, 0x9A]]);
        assert_eq!(first_picture(Codec::H264, &d).unwrap().len(), 1);
        let params = leading_parameters(Codec::H264, &au(&[&[0x67], &[0x68], &[0x65, 0x88]]));
        assert_eq!(params.iter().map(|p| p.0).collect::<Vec<_>>(), vec![7, 8]);
        // Emulation-prevention bytes are taken out of the bits read, up to a limit.
        assert_eq!(rbsp(&[0, 0, 3, 1, 0, 0, 3, 0], 16), [0, 0, 1, 0, 0, 0]);
        assert_eq!(rbsp(&[1, 2, 3, 4], 2), [1, 2]);
        // Start codes and their padding are left out; an empty unit is skipped.
        let d = [0, 0, 1, 0x67, 0, 0, 0, 0, 1, 0, 0, 1, 0x68, 0];
        let found: Vec<_> = nal_units(&d).collect();
        assert_eq!(found, vec![3..4, 12..13]);
    }

    #[test]
    fn units_joined_by_a_container_are_counted_one_by_one() {
        // One picture of two slices, with its parameter sets: one unit.
        let one = au(&[&[0x09], &[0x67], &[0x68], &[0x65, 0x88], &[0x65, 0x48]]);
        assert_eq!(units_in(Codec::H264, &one), 1);
        // Three pictures, delimited or not (a first slice after a slice begins one).
        let three = au(&[
            &[0x09],
            &[0x65, 0x88],
            &[0x09],
            &[0x41, 0x9A],
            &[0x41, 0x9A],
            &[0x41, 0x48],
        ]);
        assert_eq!(units_in(Codec::H264, &three), 3);
        // HEVC: a first slice segment (flag in the third byte) after a slice.
        let hevc = au(&[
            &[0x26, 0x01, 0x80],
            &[0x02, 0x01, 0x80],
            &[0x02, 0x01, 0x00],
        ]);
        assert_eq!(units_in(Codec::Hevc, &hevc), 2);
        // Bytes with no NAL unit still stand for the one unit the container gave.
        assert_eq!(units_in(Codec::H264, &[1, 2, 3]), 1);
    }
}
