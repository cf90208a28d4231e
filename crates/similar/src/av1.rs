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

/// Decodes one AV1 picture.
pub trait Av1Decoder: Send + Sync {
    /// The first picture `obus` shows. `obus` are AV1 OBUs in the low-overhead format:
    /// the sequence header, then the temporal unit holding the picture. A picture of
    /// more than `max_pixels` is refused. The error says why, for a user to read.
    fn decode(&self, obus: &[u8], max_pixels: u64) -> Result<Av1Picture, String>;
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
        .map_err(|detail| HashError::Decode { format, detail })?;
    let samples = u64::from(picture.width) * u64::from(picture.height);
    if samples == 0 || picture.luma.len() as u64 != samples {
        return Err(HashError::Decode {
            format,
            detail: "the decoder gave a picture whose size and samples disagree".into(),
        });
    }
    Ok(picture)
}
