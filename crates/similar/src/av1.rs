//! AV1 pictures (AVIF stills, keyframes of AV1 videos), decoded by a decoder the program
//! installs.
//!
//! This crate does not decode AV1 itself. The one pure-Rust AV1 decoder aborts the
//! whole process on some damaged streams (`docs/design/near-duplicates.md` §2), so a
//! program that hashes files from users runs it in a process of its own (the
//! `custody-av1` crate) and installs that here with [`install_av1_decoder`]. Without
//! one, AV1 pictures are refused with a reason, as any format not decoded here is.

use std::sync::OnceLock;

use crate::HashError;

/// A decoded AV1 picture's luma plane: 8-bit samples, `width` per row, no padding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Av1Picture {
    pub width: u32,
    pub height: u32,
    pub luma: Vec<u8>,
}

/// Why an [`Av1Decoder`] gave no picture, in words for a user to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Av1Failure {
    /// The decoder read the data and failed on them: they are damaged, or use what it
    /// cannot decode. This stands for these bytes.
    Refused(String),
    /// The decoder gave no answer (it could not be run, took too long, was killed from
    /// outside); nothing was learnt of the data, and trying again may succeed.
    Unavailable(String),
}

/// Decodes one AV1 picture.
pub trait Av1Decoder: Send + Sync {
    /// The first picture `obus` shows. `obus` are AV1 OBUs in the low-overhead format:
    /// the sequence header, then the temporal unit holding the picture. A picture of
    /// more than `max_pixels` is refused.
    fn decode(&self, obus: &[u8], max_pixels: u64) -> Result<Av1Picture, Av1Failure>;
}

static DECODER: OnceLock<Box<dyn Av1Decoder>> = OnceLock::new();

/// Makes `decoder` the one AV1 pictures are decoded with, in this process, from now on.
/// Returns false (and drops `decoder`) when one was installed already.
pub fn install_av1_decoder(decoder: Box<dyn Av1Decoder>) -> bool {
    DECODER.set(decoder).is_ok()
}

/// Whether AV1 pictures are decoded in this process (a decoder was installed).
pub fn decodes_av1() -> bool {
    DECODER.get().is_some()
}

/// Why AV1 is not decoded, when no decoder is installed.
pub(crate) const NOT_INSTALLED: &str =
    "no AV1 decoder is installed in this program (the custody program installs one)";

/// The picture `obus` show, through the installed decoder; `format` names the data in
/// errors ("AVIF", "AV1").
pub(crate) fn decode(
    obus: &[u8],
    max_pixels: u64,
    format: &'static str,
) -> Result<Av1Picture, HashError> {
    let Some(decoder) = DECODER.get() else {
        return Err(HashError::Decode {
            format,
            detail: NOT_INSTALLED.into(),
        });
    };
    let picture = decoder
        .decode(obus, max_pixels)
        .map_err(|e| failure(e, format))?;
    let samples = u64::from(picture.width) * u64::from(picture.height);
    if samples == 0 || picture.luma.len() as u64 != samples {
        return Err(HashError::Decode {
            format,
            detail: "the decoder gave a picture whose size and samples disagree".into(),
        });
    }
    Ok(picture)
}

/// The hashing error for a decoder's failure on data of `format`.
fn failure(e: Av1Failure, format: &'static str) -> HashError {
    match e {
        Av1Failure::Refused(detail) => HashError::Decode { format, detail },
        Av1Failure::Unavailable(detail) => HashError::DecoderUnavailable {
            format: "AV1",
            detail,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decoder that could not be run says so, and the record is one to try again; a
    /// decoder's refusal is the bytes' own, and stands.
    #[test]
    fn a_decoder_not_run_is_worth_another_try_and_a_refusal_is_not() {
        let not_run = failure(Av1Failure::Unavailable("no such file".into()), "AVIF").to_string();
        assert_eq!(
            not_run,
            "could not hash: the AV1 decoder gave no answer (no such file); examining the item again may succeed"
        );
        assert!(crate::lacked_a_decoder(&not_run));
        let refused = failure(Av1Failure::Refused("not a valid stream".into()), "AVIF").to_string();
        assert_eq!(
            refused,
            "could not hash: the AVIF data cannot be decoded (not a valid stream)"
        );
        assert!(!crate::lacked_a_decoder(&refused));
    }
}
