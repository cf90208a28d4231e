//! VP8 and VP9 keyframes: each carries all its decoder needs in its own header, so one
//! is decoded alone. VP9 (WebM as YouTube serves it, `vp09` in MP4) by `rusty_vp9`;
//! VP8 (older web video, browsers' recorders) by `image-webp`'s VP8 decoder, the one that
//! decodes lossy WebP stills (a lossy WebP is one VP8 keyframe). Every picture's size is
//! read from its header and checked against [`MAX_FRAME_PIXELS`] before a decoder
//! allocates it.

use super::{MAX_FRAME_PIXELS, corrupt};
use crate::{HashError, phash};

/// The frames of a VP9 packet: one, or those a superframe index at its end lists
/// (sizes little-endian; a frame that would pass the packet's end is left out, and an
/// index that leaves none out of place means one frame), as the decoder splits it.
fn vp9_frames(packet: &[u8]) -> Vec<&[u8]> {
    let n = packet.len();
    if let Some(&last) = packet.last() {
        let count = usize::from(last & 7) + 1;
        let mag = usize::from((last >> 3) & 3) + 1;
        let index = 2 + mag * count;
        if n >= 2 && last & 0xE0 == 0xC0 && n >= index && packet[n - index] == last {
            let sizes = &packet[n - index + 1..n - 1];
            let mut out = Vec::with_capacity(count);
            let mut at = 0usize;
            for s in sizes.chunks_exact(mag) {
                let size = s
                    .iter()
                    .rev()
                    .fold(0usize, |v, &b| (v << 8) | usize::from(b));
                if let Some(frame) = packet.get(at..at.saturating_add(size)) {
                    out.push(frame);
                }
                at = at.saturating_add(size);
            }
            if !out.is_empty() {
                return out;
            }
        }
    }
    vec![packet]
}

/// Refuses a VP9 packet that is not a keyframe, or any of whose frames declares a
/// picture larger than [`MAX_FRAME_PIXELS`], before the decoder allocates it.
pub(super) fn check_vp9_sizes(packet: &[u8]) -> Result<(), HashError> {
    let frames = vp9_frames(packet);
    for (i, frame) in frames.iter().enumerate() {
        let mut bits = rusty_vp9::BitReader::new(frame);
        let h = rusty_vp9::parse_uncompressed_header(&mut bits, &[(0, 0); 8])
            .map_err(|e| corrupt(format!("VP9: {e}")))?;
        if i == 0 && !h.key_frame {
            return Err(corrupt(
                "VP9: a block marked as a keyframe holds none".into(),
            ));
        }
        if u64::from(h.width) * u64::from(h.height) > MAX_FRAME_PIXELS {
            return Err(HashError::TooLarge {
                width: h.width,
                height: h.height,
                max: MAX_FRAME_PIXELS,
            });
        }
    }
    Ok(())
}

pub(super) fn decode_vp9(packet: &[u8]) -> Result<phash::Grid, HashError> {
    let mut dec = rusty_vp9::Vp9Decoder::new();
    dec.push(packet, None)
        .map_err(|e| corrupt(format!("VP9: {e}")))?;
    dec.flush();
    let frame = loop {
        match dec.next_frame() {
            Ok(f) => break f,
            Err(rusty_vp9::Error::Again) => continue,
            Err(e) => return Err(corrupt(format!("VP9: the keyframe gave no picture ({e})"))),
        }
    };
    let (w, h) = (frame.width as usize, frame.height as usize);
    let stride = frame.strides.first().copied().unwrap_or(0);
    let plane = frame.planes.first().map(Vec::as_slice).unwrap_or(&[]);
    let wide = frame.bit_depth > 8;
    if w == 0 || h == 0 || stride < w * if wide { 2 } else { 1 } || plane.len() < stride * h {
        return Err(corrupt("VP9: the picture is empty or cut off".into()));
    }
    if wide {
        // Little-endian 16-bit samples, on the 8-bit scale.
        let scale = 1.0 / f32::from(1u16 << frame.bit_depth.saturating_sub(8).min(8));
        let rows: Vec<Vec<u16>> = plane
            .chunks(stride)
            .take(h)
            .map(|row| {
                row[..2 * w]
                    .chunks_exact(2)
                    .map(|p| u16::from_le_bytes([p[0], p[1]]))
                    .collect()
            })
            .collect();
        Ok(phash::grid_of_rows(
            w,
            h,
            rows.iter().map(Vec::as_slice),
            scale,
        ))
    } else {
        Ok(phash::grid_of_rows(
            w,
            h,
            plane.chunks(stride).map(|row| &row[..w]),
            1.0,
        ))
    }
}

/// A VP8 keyframe's size from its header (RFC 6386 §9.1): the frame tag, the start
/// code, then 14-bit width and height (the top two bits ask a player to upscale, which
/// is not done here, as ffmpeg does not).
fn vp8_size(frame: &[u8]) -> Result<(u16, u16), HashError> {
    let [t0, _, _, s0, s1, s2, w0, w1, h0, h1, ..] = *frame else {
        return Err(corrupt("VP8: the frame is shorter than its header".into()));
    };
    if t0 & 1 != 0 {
        return Err(corrupt(
            "VP8: a block marked as a keyframe holds none".into(),
        ));
    }
    if [s0, s1, s2] != [0x9D, 0x01, 0x2A] {
        return Err(corrupt("VP8: the keyframe's start code is missing".into()));
    }
    let width = u16::from_le_bytes([w0, w1]) & 0x3FFF;
    let height = u16::from_le_bytes([h0, h1]) & 0x3FFF;
    if width == 0 || height == 0 {
        return Err(corrupt("VP8: the picture is empty".into()));
    }
    Ok((width, height))
}

/// Refuses a VP8 frame that is not a keyframe, or whose picture is larger than
/// [`MAX_FRAME_PIXELS`], before the decoder allocates it.
pub(super) fn check_vp8_size(frame: &[u8]) -> Result<(), HashError> {
    let (w, h) = vp8_size(frame)?;
    if u64::from(w) * u64::from(h) > MAX_FRAME_PIXELS {
        return Err(HashError::TooLarge {
            width: u32::from(w),
            height: u32::from(h),
            max: MAX_FRAME_PIXELS,
        });
    }
    Ok(())
}

pub(super) fn decode_vp8(frame: &[u8]) -> Result<phash::Grid, HashError> {
    let (w, h) = vp8_size(frame)?;
    let picture = image_webp::vp8::Vp8Decoder::decode_frame(std::io::Cursor::new(frame))
        .map_err(|e| corrupt(format!("VP8: {e}")))?;
    let (w, h) = (usize::from(w), usize::from(h));
    // Luma rows are whole macroblocks wide (16 samples).
    let stride = w.div_ceil(16) * 16;
    if usize::from(picture.width) != w
        || usize::from(picture.height) != h
        || picture.ybuf.len() < stride * h
    {
        return Err(corrupt("VP8: the picture is empty or cut off".into()));
    }
    Ok(phash::grid_of_rows(
        w,
        h,
        picture.ybuf.chunks(stride).take(h).map(|row| &row[..w]),
        1.0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn superframes_are_split_by_their_index() {
        // Two frames of 3 and 2 bytes, sizes in one byte each: marker 0b110_00_001.
        let packet = [1, 2, 3, 4, 5, 0xC1, 3, 2, 0xC1];
        assert_eq!(vp9_frames(&packet), vec![&[1, 2, 3][..], &[4, 5][..]]);
        // A last byte that looks like a marker without a matching index: one frame.
        let plain = [9, 9, 0xC1];
        assert_eq!(vp9_frames(&plain), vec![&plain[..]]);
        // A frame that would pass the packet's end is left out; with none left, the
        // packet is one frame.
        let long = [1, 2, 0xC1, 2, 200, 0xC1];
        assert_eq!(vp9_frames(&long), vec![&[1, 2][..]]);
        let none = [1, 0xC1, 200, 0xC1];
        assert_eq!(vp9_frames(&none), vec![&none[..]]);
    }

    #[test]
    fn vp8_headers_are_checked_before_decoding() {
        // Frame tag (keyframe, shown, partition size 0), start code, 1x1.
        let key = [0x10, 0, 0, 0x9D, 0x01, 0x2A, 1, 0, 1, 0];
        assert_eq!(vp8_size(&key).unwrap(), (1, 1));
        // The upscaling bits are not part of the size.
        let scaled = [0x10, 0, 0, 0x9D, 0x01, 0x2A, 0x40, 0xC0, 0x30, 0x40];
        assert_eq!(vp8_size(&scaled).unwrap(), (64, 48));
        let inter = [0x11, 0, 0, 0x9D, 0x01, 0x2A, 1, 0, 1, 0];
        assert!(
            vp8_size(&inter)
                .unwrap_err()
                .to_string()
                .contains("holds none")
        );
        let no_code = [0x10, 0, 0, 0, 0, 0, 1, 0, 1, 0];
        assert!(vp8_size(&no_code).is_err());
        assert!(vp8_size(&key[..9]).is_err());
        // 16383 x 16383 (the largest VP8 picture) is refused before any allocation.
        let huge = [0x10, 0, 0, 0x9D, 0x01, 0x2A, 0xFF, 0x3F, 0xFF, 0x3F];
        assert!(matches!(
            check_vp8_size(&huge),
            Err(HashError::TooLarge {
                width: 16383,
                height: 16383,
                ..
            })
        ));
        // A header with nothing after it fails as a decode, not a panic.
        assert!(decode_vp8(&key).is_err());
    }
}
