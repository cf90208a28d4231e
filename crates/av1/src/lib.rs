//! AV1 pictures decoded where a hostile stream can harm nothing but the decoding.
//!
//! AVIF stills and AV1 video (as video sites serve it, and as downloaders keep it) are
//! decoded by `rav1d`, the one pure-Rust AV1 decoder. It decodes correctly, but its only
//! interface is dav1d's C one, and a panic inside a C-interface function cannot unwind:
//! the process aborts. Damaged streams do make it panic (about half of 3,000 damaged
//! variants of one clip did, `docs/design/near-duplicates.md` §2), and an ingest must
//! not end on one bad file. So the decoder never runs in the process that asks:
//!
//! - [`Isolated`] starts a child process (the same program, asked with an argument of
//!   its own to [`serve`]), hands it the stream on its standard input, and reads the
//!   picture's luma from its standard output. A child that aborts, is killed, runs out
//!   of its memory limit or time, or answers with anything but a whole answer is this
//!   one picture's failure, told as a [`DecodeError`].
//! - [`serve`] is the child's side: it reads one request, lowers its own address-space
//!   limit, decodes, answers, and exits.
//! - [`decode_here`] decodes in the calling process. It is for the child and for tests
//!   on known-good streams; anything that reads files from users goes through
//!   [`Isolated`].
//!
//! # The exchange (version 1)
//!
//! All integers little-endian.
//!
//! Request, parent to child, then the parent closes the pipe:
//! `b"cav1req1"`, `max_pixels: u64`, `length: u64`, then `length` bytes of AV1 OBUs in
//! the low-overhead format (each OBU with its size field): the sequence header, then
//! the temporal unit holding the picture.
//!
//! Answer, child to parent, then the child exits with status 0:
//! - a picture: `b"cav1pic1"`, `width: u32`, `height: u32`, then `width × height` luma
//!   samples of 8 bits, row by row (deeper samples shifted down to 8 bits);
//! - a refusal: `b"cav1err1"`, `length: u32`, then a UTF-8 message of `length` bytes
//!   saying why the stream could not be decoded.
//!
//! The child decodes one picture and nothing else: no file is opened, nothing is
//! written but the answer.

mod error;
mod ffi;
mod isolated;
mod protocol;
mod serve;

pub use error::DecodeError;
pub use isolated::Isolated;
pub use serve::{SERVE_ARG, serve};

/// Upper bound on the OBUs one request may carry.
pub const MAX_REQUEST_BYTES: u64 = 600 * 1024 * 1024;

/// A decoded picture's luma plane: 8-bit samples, `width` per row, no padding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub luma: Vec<u8>,
}

/// Decodes the first picture `obus` shows, in this process. A damaged stream can abort
/// the process (see the crate's documentation): use [`Isolated`] for anything read
/// from users.
pub fn decode_here(obus: &[u8], max_pixels: u64) -> Result<Picture, String> {
    ffi::decode(obus, max_pixels)
}
