//! The one EXIF field the hash needs: Orientation (tag 0x0112 in IFD0).
//!
//! A bounded reader of just enough TIFF structure to find it; everything else in the EXIF
//! block is left to the metadata extractors.

/// Orientation (1..=8) from the payload of a JPEG APP1 segment, if it is an EXIF segment
/// that has a valid Orientation entry in IFD0.
pub(crate) fn orientation_from_app1(seg: &[u8]) -> Option<u8> {
    let tiff = seg.strip_prefix(b"Exif\0\0")?;
    orientation_from_tiff(tiff)
}

/// Orientation (1..=8) from a TIFF-structured EXIF block.
pub(crate) fn orientation_from_tiff(t: &[u8]) -> Option<u8> {
    let le = match t.get(..4)? {
        [b'I', b'I', 42, 0] => true,
        [b'M', b'M', 0, 42] => false,
        _ => return None,
    };
    let u16_at = |p: usize| -> Option<u16> {
        let b = t.get(p..p + 2)?;
        Some(if le {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |p: usize| -> Option<u32> {
        let b = t.get(p..p + 4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let n = usize::from(u16_at(ifd)?);
    for i in 0..n.min(512) {
        let e = ifd + 2 + 12 * i;
        if u16_at(e)? == 0x0112 {
            // Type SHORT, count 1: the value sits in the first two bytes of the field.
            if u16_at(e + 2)? != 3 {
                return None;
            }
            let v = u16_at(e + 8)?;
            return (1..=8).contains(&v).then_some(v as u8);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiff(le: bool, orientation: u16) -> Vec<u8> {
        let mut t = Vec::new();
        let w16 = |t: &mut Vec<u8>, v: u16| {
            t.extend_from_slice(&if le { v.to_le_bytes() } else { v.to_be_bytes() })
        };
        let w32 = |t: &mut Vec<u8>, v: u32| {
            t.extend_from_slice(&if le { v.to_le_bytes() } else { v.to_be_bytes() })
        };
        t.extend_from_slice(if le { b"II" } else { b"MM" });
        w16(&mut t, 42);
        w32(&mut t, 8);
        w16(&mut t, 2); // two entries
        // ImageWidth, LONG
        w16(&mut t, 0x0100);
        w16(&mut t, 4);
        w32(&mut t, 1);
        w32(&mut t, 640);
        // Orientation, SHORT
        w16(&mut t, 0x0112);
        w16(&mut t, 3);
        w32(&mut t, 1);
        w16(&mut t, orientation);
        w16(&mut t, 0);
        w32(&mut t, 0);
        t
    }

    #[test]
    fn reads_orientation_in_both_byte_orders() {
        for le in [true, false] {
            for o in 1..=8u16 {
                let mut seg = b"Exif\0\0".to_vec();
                seg.extend(tiff(le, o));
                assert_eq!(orientation_from_app1(&seg), Some(o as u8));
            }
        }
    }

    #[test]
    fn rejects_out_of_range_and_truncated_blocks() {
        assert_eq!(orientation_from_tiff(&tiff(true, 9)), None);
        assert_eq!(orientation_from_tiff(&tiff(true, 0)), None);
        let t = tiff(false, 6);
        for cut in 0..32 {
            assert_eq!(orientation_from_tiff(&t[..cut]), None, "cut at {cut}");
        }
        assert_eq!(orientation_from_app1(b"XMP\0"), None);
    }
}
