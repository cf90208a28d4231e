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
    /// Reading the input failed.
    #[error("could not hash: reading {}: {source}", path.as_ref().map_or("the input".into(), |p| p.display().to_string()))]
    Io {
        path: Option<PathBuf>,
        #[source]
        source: std::io::Error,
    },
}

/// A string that is not 16 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a perceptual hash: {0:?} (expected 16 hex digits)")]
pub struct ParseHashError(pub String);
