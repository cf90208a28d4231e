//! The bytes of the exchange between the asking process and the decoding child (crate
//! documentation, "The exchange").

use std::io::{self, Read, Write};

use crate::{MAX_REQUEST_BYTES, Picture};

pub(crate) const REQUEST: &[u8; 8] = b"cav1req1";
pub(crate) const PICTURE: &[u8; 8] = b"cav1pic1";
pub(crate) const REFUSAL: &[u8; 8] = b"cav1err1";

/// Longest refusal message read back.
const MAX_MESSAGE: u32 = 64 * 1024;

/// The request's header; the OBUs follow it.
pub(crate) fn request_header(max_pixels: u64, length: u64) -> [u8; 24] {
    let mut h = [0; 24];
    h[..8].copy_from_slice(REQUEST);
    h[8..16].copy_from_slice(&max_pixels.to_le_bytes());
    h[16..].copy_from_slice(&length.to_le_bytes());
    h
}

/// Reads a whole request: `(max_pixels, obus)`.
pub(crate) fn read_request(r: &mut impl Read) -> Result<(u64, Vec<u8>), String> {
    let mut h = [0; 24];
    r.read_exact(&mut h)
        .map_err(|e| format!("the request is cut short: {e}"))?;
    if &h[..8] != REQUEST {
        return Err("the request does not begin as version 1 of the exchange".into());
    }
    let max_pixels = u64::from_le_bytes(h[8..16].try_into().expect("8 bytes"));
    let length = u64::from_le_bytes(h[16..].try_into().expect("8 bytes"));
    if length > MAX_REQUEST_BYTES {
        return Err(format!(
            "the request carries {length} bytes, more than the {MAX_REQUEST_BYTES} allowed"
        ));
    }
    let mut obus = Vec::new();
    r.take(length)
        .read_to_end(&mut obus)
        .map_err(|e| format!("the request cannot be read: {e}"))?;
    if obus.len() as u64 != length {
        return Err("the request is cut short".into());
    }
    Ok((max_pixels, obus))
}

/// Writes the answer for one decode.
pub(crate) fn write_answer(w: &mut impl Write, answer: &Result<Picture, String>) -> io::Result<()> {
    match answer {
        Ok(p) => {
            w.write_all(PICTURE)?;
            w.write_all(&p.width.to_le_bytes())?;
            w.write_all(&p.height.to_le_bytes())?;
            w.write_all(&p.luma)?;
        }
        Err(message) => {
            let bytes = &message.as_bytes()[..message.len().min(MAX_MESSAGE as usize)];
            w.write_all(REFUSAL)?;
            w.write_all(&(bytes.len() as u32).to_le_bytes())?;
            w.write_all(bytes)?;
        }
    }
    w.flush()
}

/// Reads an answer back: the decoder's picture or refusal, or (outer `Err`) why the
/// bytes are no whole answer. `max_pixels` bounds the picture that may be announced.
pub(crate) fn read_answer(
    r: &mut impl Read,
    max_pixels: u64,
) -> Result<Result<Picture, String>, String> {
    let mut magic = [0; 8];
    r.read_exact(&mut magic)
        .map_err(|_| "it gave no answer".to_string())?;
    let mut word = [0; 4];
    let mut u32_of = |r: &mut dyn Read| -> Result<u32, String> {
        r.read_exact(&mut word)
            .map_err(|_| "its answer is cut short".to_string())?;
        Ok(u32::from_le_bytes(word))
    };
    if &magic == PICTURE {
        let width = u32_of(r)?;
        let height = u32_of(r)?;
        let samples = u64::from(width) * u64::from(height);
        if samples == 0 || samples > max_pixels {
            return Err(format!(
                "it announced a {width}×{height} picture, outside what was asked for"
            ));
        }
        let mut luma = Vec::new();
        luma.try_reserve_exact(samples as usize)
            .map_err(|_| format!("its {width}×{height} picture does not fit in memory"))?;
        r.take(samples)
            .read_to_end(&mut luma)
            .map_err(|e| format!("its answer cannot be read: {e}"))?;
        if luma.len() as u64 != samples {
            return Err("its answer is cut short".into());
        }
        Ok(Ok(Picture {
            width,
            height,
            luma,
        }))
    } else if &magic == REFUSAL {
        let length = u32_of(r)?;
        if length > MAX_MESSAGE {
            return Err("its refusal is longer than any it writes".into());
        }
        let mut text = Vec::new();
        r.take(u64::from(length))
            .read_to_end(&mut text)
            .map_err(|e| format!("its answer cannot be read: {e}"))?;
        if text.len() as u64 != u64::from(length) {
            return Err("its answer is cut short".into());
        }
        Ok(Err(String::from_utf8_lossy(&text).into_owned()))
    } else {
        Err("its answer is not one of the exchange".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reads_back_as_written() {
        let mut bytes = request_header(1 << 20, 3).to_vec();
        bytes.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            read_request(&mut &bytes[..]).unwrap(),
            (1 << 20, vec![1, 2, 3])
        );
        // Cut short, a wrong magic, or too long: refused with a reason.
        assert!(
            read_request(&mut &bytes[..26])
                .unwrap_err()
                .contains("cut short")
        );
        let mut wrong = bytes.clone();
        wrong[0] = b'x';
        assert!(
            read_request(&mut &wrong[..])
                .unwrap_err()
                .contains("version 1")
        );
        let huge = request_header(1, MAX_REQUEST_BYTES + 1);
        assert!(
            read_request(&mut &huge[..])
                .unwrap_err()
                .contains("more than")
        );
    }

    #[test]
    fn answers_read_back_as_written_and_damaged_ones_are_told() {
        let picture = Picture {
            width: 3,
            height: 2,
            luma: vec![0, 1, 2, 3, 4, 5],
        };
        let mut out = Vec::new();
        write_answer(&mut out, &Ok(picture.clone())).unwrap();
        assert_eq!(read_answer(&mut &out[..], 6).unwrap(), Ok(picture));
        // A picture larger than asked for, or cut short, is no answer.
        assert!(read_answer(&mut &out[..], 5).unwrap_err().contains("3×2"));
        assert!(
            read_answer(&mut &out[..out.len() - 1], 6)
                .unwrap_err()
                .contains("cut short")
        );
        assert!(
            read_answer(&mut &[][..], 6)
                .unwrap_err()
                .contains("no answer")
        );

        let mut out = Vec::new();
        write_answer(&mut out, &Err("no sequence header".into())).unwrap();
        assert_eq!(
            read_answer(&mut &out[..], 6).unwrap(),
            Err("no sequence header".into())
        );
        assert!(
            read_answer(&mut &out[..out.len() - 1], 6)
                .unwrap_err()
                .contains("cut short")
        );
        assert!(
            read_answer(&mut &b"garbage!"[..], 6)
                .unwrap_err()
                .contains("not one of")
        );
    }
}
