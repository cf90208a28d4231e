//! AV1 pictures (AVIF stills, AV1 video keyframes) for the perceptual hash: decoded in a
//! child process of this same program, so that a damaged stream that makes the decoder
//! abort costs one file its hash, not the whole run (`custody-av1`).

use custody_av1::{DecodeError, Isolated};
use custody_similar::{Av1Decoder, Av1Failure, Av1Picture};

/// The decoder the perceptual hash uses: this program, run again with
/// [`custody_av1::SERVE_ARG`], for each picture.
struct Child(Isolated);

impl Av1Decoder for Child {
    fn decode(&self, obus: &[u8], max_pixels: u64) -> Result<Av1Picture, Av1Failure> {
        let p = self.0.decode(obus, max_pixels).map_err(|e| match e {
            // Nothing learnt of the stream: a later examination may succeed.
            DecodeError::Unavailable(why) => {
                Av1Failure::Unavailable(format!("its process could not be started: {why}"))
            }
            DecodeError::Killed => Av1Failure::Unavailable(
                "its process was killed from outside, perhaps by the system for want of memory"
                    .into(),
            ),
            // The stream's own doing, the time limit included (many times what the
            // largest picture allowed takes).
            DecodeError::Refused(_) | DecodeError::Stopped(_) | DecodeError::TimedOut(_) => {
                Av1Failure::Refused(e.to_string())
            }
        })?;
        Ok(Av1Picture {
            width: p.width,
            height: p.height,
            luma: p.luma,
        })
    }
}

/// Whether this run is the decoding child (the first argument is
/// [`custody_av1::SERVE_ARG`]).
pub fn is_child() -> bool {
    std::env::args_os().nth(1).as_deref() == Some(std::ffi::OsStr::new(custody_av1::SERVE_ARG))
}

/// Installs the child-process decoder, if this program can find itself to run again;
/// otherwise AV1 pictures are refused with a reason, as an undecoded format is.
pub fn install() {
    if let Ok(exe) = std::env::current_exe() {
        custody_similar::install_av1_decoder(Box::new(Child(Isolated::new(exe))));
    }
}
