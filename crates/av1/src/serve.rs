//! The decoding child's side: one request read, one picture decoded, one answer.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use crate::{ffi, protocol};

/// The argument that makes a program that knows this crate [`serve`] instead of doing
/// its own work. Not meant to be typed by anyone.
pub const SERVE_ARG: &str = "__decode-av1";

/// Address space a child may take beyond its picture's needs: the program itself, its
/// allocator's reservations, the request.
const BASE_ADDRESS_SPACE: u64 = 4 * 1024 * 1024 * 1024;

/// Address space a child may take for each pixel it may decode: the decoder's planes
/// at 16 bits, its reference and work buffers.
const ADDRESS_SPACE_PER_PIXEL: u64 = 16;

/// Answers one request from standard input on standard output (crate documentation,
/// "The exchange"), and returns the status to exit with. Call it first thing when the
/// program is given [`SERVE_ARG`], and exit with what it returns.
pub fn serve() -> ExitCode {
    let answer = match protocol::read_request(&mut std::io::stdin().lock()) {
        Ok((max_pixels, obus)) => {
            // A stream that makes the decoder ask for ever more memory ends this child
            // at the limit, not the machine.
            ffi::limit_address_space(
                BASE_ADDRESS_SPACE
                    .saturating_add(max_pixels.saturating_mul(ADDRESS_SPACE_PER_PIXEL))
                    .saturating_add(2 * obus.len() as u64),
            );
            ffi::decode(&obus, max_pixels)
        }
        Err(e) => Err(e),
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    match protocol::write_answer(&mut out, &answer).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
