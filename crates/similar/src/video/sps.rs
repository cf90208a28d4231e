//! Sequence parameter sets of H.264 (ITU-T H.264 §7.3.2.1.1) and HEVC (ITU-T H.265
//! §7.3.2.2): the picture size they declare, read from the bits, and the bit reader
//! the Annex B code shares.

use super::Codec;
use super::annexb;

/// Bytes of a parameter set read: the fields up to the picture size lie in the first
/// few dozen, unless an H.264 set carries scaling matrices (at most 12 lists of 64
/// values of up to 2 bytes each).
const READ: usize = 2048;

/// The picture size a sequence parameter set NAL unit of `codec` declares, as shown:
/// the coded size less the cropping (H.264 `frame_crop_*`, HEVC `conf_win_*`).
/// `None` when the unit is not a sequence parameter set, or is cut off or malformed.
pub(super) fn shown_size(codec: Codec, nal: &[u8]) -> Option<(u32, u32)> {
    let (w, h) = match codec {
        Codec::H264 if nal.first().map(|b| b & 0x1F) == Some(7) => h264_size(nal)?,
        Codec::Mpeg1 | Codec::Mpeg2 => {
            let (w, h) = super::mpeg12::sequence_size(nal)?;
            (u64::from(w), u64::from(h))
        }
        Codec::Mpeg4 => {
            let (w, h) = super::mpeg4::layer_size(nal)?;
            (u64::from(w), u64::from(h))
        }
        Codec::Hevc if nal.first().map(|b| (b >> 1) & 0x3F) == Some(33) => {
            let (coded, crop) = hevc_size(nal)?;
            let crop = crop?;
            (coded.0.checked_sub(crop.0)?, coded.1.checked_sub(crop.1)?)
        }
        _ => return None,
    };
    if w == 0 || h == 0 {
        return None;
    }
    Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?))
}

/// The coded picture size an HEVC sequence parameter set declares.
pub(super) fn hevc_coded_size(nal: &[u8]) -> Option<(u64, u64)> {
    hevc_size(nal).map(|(coded, _)| coded)
}

/// Width and height, in samples.
type Size = (u64, u64);

/// An HEVC sequence parameter set's coded size, and the width and height its
/// conformance window crops (`None` when the set ends before saying).
fn hevc_size(nal: &[u8]) -> Option<(Size, Option<Size>)> {
    // Emulation prevention bytes removed from the first part, which is all we read.
    let payload = nal.get(2..)?;
    let rbsp = annexb::rbsp(&payload[..payload.len().min(256)], 256);
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
    let chroma = r.ue()?;
    let separate = chroma == 3 && r.bits(1)? == 1;
    let coded = (r.ue()?, r.ue()?);
    let crop = (|| {
        if r.bits(1)? == 0 {
            return Some((0, 0));
        }
        let (left, right, top, bottom) = (r.ue()?, r.ue()?, r.ue()?, r.ue()?);
        // The offsets count chroma samples (Table 6-1).
        let (sub_w, sub_h) = match (chroma, separate) {
            (1, _) => (2, 2),
            (2, _) => (2, 1),
            _ => (1, 1),
        };
        Some((
            left.checked_add(right)?.checked_mul(sub_w)?,
            top.checked_add(bottom)?.checked_mul(sub_h)?,
        ))
    })();
    Some((coded, crop))
}

/// The profiles whose sequence parameter sets carry the chroma format, bit depths and
/// scaling matrices (H.264 §7.3.2.1.1).
const HIGH_PROFILES: [u64; 13] = [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135];

/// The shown picture size an H.264 sequence parameter set declares.
fn h264_size(nal: &[u8]) -> Option<(u64, u64)> {
    let g = h264_geometry(nal)?;
    Some((
        g.coded.0.checked_sub(g.left.checked_add(g.right)?)?,
        g.coded.1.checked_sub(g.top.checked_add(g.bottom)?)?,
    ))
}

/// How many luma columns and rows an H.264 sequence parameter set crops off the left
/// and the top of its pictures (the decoder crops the right and bottom itself).
pub(super) fn h264_left_top(nal: &[u8]) -> Option<(usize, usize)> {
    if nal.first().map(|b| b & 0x1F) != Some(7) {
        return None;
    }
    let g = h264_geometry(nal)?;
    Some((usize::try_from(g.left).ok()?, usize::try_from(g.top).ok()?))
}

/// An H.264 picture's coded size and its cropping on each side, in luma samples.
struct Geometry {
    coded: Size,
    left: u64,
    right: u64,
    top: u64,
    bottom: u64,
}

fn h264_geometry(nal: &[u8]) -> Option<Geometry> {
    let payload = nal.get(1..)?;
    let rbsp = annexb::rbsp(&payload[..payload.len().min(READ)], READ);
    let mut r = Bits { data: &rbsp, at: 0 };
    let profile = r.bits(8)?;
    r.skip(16)?; // constraint flags, level_idc
    r.ue()?; // seq_parameter_set_id
    let mut chroma = 1;
    let mut separate = false;
    if HIGH_PROFILES.contains(&profile) {
        chroma = r.ue()?;
        if chroma > 3 {
            return None;
        }
        if chroma == 3 {
            separate = r.bits(1)? == 1;
        }
        r.ue()?; // bit_depth_luma_minus8
        r.ue()?; // bit_depth_chroma_minus8
        r.skip(1)?; // qpprime_y_zero_transform_bypass_flag
        if r.bits(1)? == 1 {
            let lists = if chroma == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.bits(1)? == 1 {
                    skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num_minus4
    match r.ue()? {
        0 => {
            r.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            r.skip(1)?; // delta_pic_order_always_zero_flag
            r.se()?; // offset_for_non_ref_pic
            r.se()?; // offset_for_top_to_bottom_field
            let cycle = r.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                r.se()?;
            }
        }
        2 => {}
        _ => return None,
    }
    r.ue()?; // max_num_ref_frames
    r.skip(1)?; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = r.ue()? + 1;
    let height_units = r.ue()? + 1;
    let frames_only = r.bits(1)? == 1;
    if !frames_only {
        r.skip(1)?; // mb_adaptive_frame_field_flag
    }
    r.skip(1)?; // direct_8x8_inference_flag
    let field = if frames_only { 1 } else { 2 };
    let width = width_mbs.checked_mul(16)?;
    let height = height_units.checked_mul(16 * field)?;
    let none = Geometry {
        coded: (width, height),
        left: 0,
        right: 0,
        top: 0,
        bottom: 0,
    };
    if r.bits(1)? == 0 {
        return Some(none);
    }
    let (left, right, top, bottom) = (r.ue()?, r.ue()?, r.ue()?, r.ue()?);
    // Cropping counts in units of the chroma sampling (and of two rows when fields are
    // coded), §7.4.2.1.1.
    let (unit_x, unit_y) = match (chroma, separate) {
        (0, _) | (3, true) => (1, field),
        (1, _) => (2, 2 * field),
        (2, _) => (2, field),
        _ => (1, field),
    };
    Some(Geometry {
        left: left.checked_mul(unit_x)?,
        right: right.checked_mul(unit_x)?,
        top: top.checked_mul(unit_y)?,
        bottom: bottom.checked_mul(unit_y)?,
        ..none
    })
}

/// Reads past one `scaling_list()` of `size` values (§7.3.2.1.1.1).
fn skip_scaling_list(r: &mut Bits<'_>, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            let delta = r.se()?;
            next = (last + delta).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

/// Reads bits from the front of a byte slice, most significant first.
pub(super) struct Bits<'a> {
    pub(super) data: &'a [u8],
    pub(super) at: usize,
}

impl Bits<'_> {
    pub(super) fn bits(&mut self, n: usize) -> Option<u64> {
        let mut v = 0;
        for _ in 0..n {
            let byte = self.data.get(self.at / 8)?;
            v = (v << 1) | u64::from((byte >> (7 - self.at % 8)) & 1);
            self.at += 1;
        }
        Some(v)
    }

    pub(super) fn skip(&mut self, n: usize) -> Option<()> {
        self.at += n;
        (self.at <= self.data.len() * 8).then_some(())
    }

    /// An unsigned Exp-Golomb number (at most 32 bits).
    pub(super) fn ue(&mut self) -> Option<u64> {
        let mut zeros = 0;
        while self.bits(1)? == 0 {
            zeros += 1;
            if zeros > 32 {
                return None;
            }
        }
        Some((1u64 << zeros) - 1 + self.bits(zeros)?)
    }

    /// A signed Exp-Golomb number.
    pub(super) fn se(&mut self) -> Option<i64> {
        let k = self.ue()? as i64;
        Some(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

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

    /// An SPS NAL unit declaring `w`×`h` (chroma 4:2:0, no sub-layers).
    pub(in crate::video) fn hevc_sps(w: u64, h: u64) -> Vec<u8> {
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

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn h264_sizes_are_read_as_shown() {
        // x264's 1920x1080 (Constrained Baseline): 1088 lines coded, 8 cropped.
        let hd = hex("6742c028da01e0089f97011000000300100000030320f1832a");
        assert_eq!(shown_size(Codec::H264, &hd), Some((1920, 1080)));
        // x264's interlaced 720x576 (High, scaling matrices sent): 18 pairs of field
        // rows of macroblocks.
        let pal = hex("6764001eace80b424d808800000300080000030190f8a155");
        assert_eq!(shown_size(Codec::H264, &pal), Some((720, 576)));
        // Cut off, or not a parameter set: nothing.
        assert_eq!(shown_size(Codec::H264, &hd[..8]), None);
        assert_eq!(shown_size(Codec::H264, &[0x68, 0xce, 0x38, 0x80]), None);
        assert_eq!(shown_size(Codec::Hevc, &hd), None);
    }
}
