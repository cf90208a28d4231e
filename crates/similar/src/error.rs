//! Errors of this crate. Every message starts with what failed ("could not hash") and
//! says why, so that it can be shown to a user as it is.

use std::path::PathBuf;

/// Why an image could not be hashed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// Not an image format this crate decodes (HEIC, video, documents...).
    #[error("could not hash: {media_type} is not supported ({why})")]
    Unsupported {
        media_type: String,
        why: &'static str,
    },
    /// The picture is larger than the pixel limit; refused before any pixel memory is
    /// allocated.
    #[error(
        "could not hash: the image is {width}x{height} pixels, more than the limit of {max} \
         pixels (a decompression bomb or a damaged header)"
    )]
    TooLarge { width: u32, height: u32, max: u64 },
    /// The file is larger than this crate reads into memory.
    #[error("could not hash: the file is larger than {max} bytes")]
    InputTooLarge { max: u64 },
    /// The data is damaged or uses a feature no decoder here supports.
    #[error("could not hash: the {format} data cannot be decoded ({detail})")]
    Decode {
        format: &'static str,
        detail: String,
    },
    /// The decoder for this format gave no answer (an AV1 decoding process that could
    /// not be started, took too long or was killed from outside); nothing was learnt
    /// of the bytes.
    #[error(
        "could not hash: the {format} decoder gave no answer ({detail}); examining the item again may succeed"
    )]
    DecoderUnavailable {
        format: &'static str,
        detail: String,
    },
    /// Reading the input failed.
    #[error("could not hash: reading {}: {source}", path.as_ref().map_or("the input".into(), |p| p.display().to_string()))]
    Io {
        path: Option<PathBuf>,
        #[source]
        source: std::io::Error,
    },
}

/// Whether `message`, the text of a [`HashError`] (as recorded), says the input could
/// not be read ([`HashError::Io`]): a fault of the storage, not of the bytes, so hashing
/// them again may succeed. Every other error is a statement about the bytes.
pub fn is_read_failure(message: &str) -> bool {
    message.starts_with("could not hash: reading ")
}

/// Whether `message`, the text of a [`HashError`] as recorded, says the bytes wanted a
/// decoder rather than that they are damaged: AV1 video refused before an AV1 decoder
/// was installed ([`crate::install_av1_decoder`]), MPEG-1, MPEG-2, MPEG-4 Part 2, H.263
/// or Sorenson H.263 video (or what may be such: an MP4 `mp4v` track, an AVI stream
/// under an MPEG FourCC) refused before they were read, or a decoder that gave no answer
/// ([`HashError::DecoderUnavailable`]). Hashing those bytes again may succeed.
pub fn lacked_a_decoder(message: &str) -> bool {
    // In streams, by their stream type; in MP4 (`mp4v`), Matroska and AVI, refused
    // before MPEG-4 Part 2 was read (the refusal since names it).
    let in_container = [
        "coded as \"mp4v\"",
        "coded as V_MPEG2 ",
        "coded as V_MPEG1 ",
        "coded as V_MPEG4/ISO/",
        "coded as \"s263\"",
        "coded as \"h263\"",
        "coded as \"H263\"",
    ]
    .iter()
    .any(|c| message.contains(c))
        && !message.contains("H.263 video keyframes are decoded");
    let in_avi = [
        "only Motion JPEG, H.264 and HEVC video keyframes are decoded in AVI",
        "only Motion JPEG, H.264, HEVC and MPEG-4 Part 2 video keyframes are decoded in AVI",
    ]
    .iter()
    .any(|old| message.contains(old))
        && avi_fourcc(message).is_some_and(crate::video::avi_fourcc_is_mpeg);
    let refused_mpeg = message.starts_with("could not hash: ")
        && (message.contains("(MPEG-2 video) is not supported")
            || message.contains("(MPEG-1 video) is not supported")
            || message.contains("(MPEG-4 Part 2 video) is not supported")
            || message.contains("FLV video coded as Sorenson H.263 is not supported")
            || in_container
            || in_avi);
    if refused_mpeg {
        return true;
    }
    let refused_av1 = message.starts_with("could not hash: video coded as ")
        && message.contains(" is not supported (")
        && (message.contains("coded as \"av01\"") || message.contains("coded as V_AV1 "));
    let not_run = message.starts_with("could not hash: the ")
        && message.contains(" decoder gave no answer (");
    (refused_av1 && crate::decodes_av1()) || not_run
}

/// The FourCC an AVI refusal names ("AVI video coded as XVID is not supported").
fn avi_fourcc(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("AVI video coded as ")?;
    let (fourcc, _) = rest.split_once(" is not supported")?;
    Some(fourcc)
}

/// A string that is not 16 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a perceptual hash: {0:?} (expected 16 hex digits)")]
pub struct ParseHashError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    /// The recorded text of a read failure is recognised, from each entry point that
    /// reads; a decoding failure is not one.
    #[test]
    fn read_failures_are_told_from_what_the_bytes_say() {
        let dir = std::env::temp_dir();
        let missing = dir.join("custody-similar-no-such-file.jpg");
        let e = crate::hash_path(&missing, "image/jpeg").unwrap_err();
        assert!(is_read_failure(&e.to_string()), "{e}");
        // A folder opens but cannot be read as a file.
        let e = crate::hash_keyframes_path(&dir).unwrap_err();
        assert!(is_read_failure(&e.to_string()), "{e}");
        let e = crate::hash_bytes(b"\xff\xd8\xff\xdb", "image/jpeg").unwrap_err();
        assert!(!is_read_failure(&e.to_string()), "{e}");
    }
}
