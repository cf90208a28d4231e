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

/// The least address space a child is given, whatever the machine's memory: the
/// program and its allocator's reservations need about this much before decoding.
const MIN_ADDRESS_SPACE: u64 = 2 * 1024 * 1024 * 1024;

/// The machine's memory (`MemTotal` of `/proc/meminfo`), where the system says it.
fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Answers one request from standard input on standard output (crate documentation,
/// "The exchange"), and returns the status to exit with. Call it first thing when the
/// program is given [`SERVE_ARG`], and exit with what it returns.
pub fn serve() -> ExitCode {
    let answer = match protocol::read_request(&mut std::io::stdin().lock()) {
        Ok((max_pixels, obus)) => {
            // A stream that makes the decoder ask for ever more memory ends this child
            // at the limit (an abort, the stream's doing), not the machine: never more
            // than the machine's memory, so that the limit comes before the system's
            // out-of-memory killer, whose kill says nothing of the stream.
            let wanted = BASE_ADDRESS_SPACE
                .saturating_add(max_pixels.saturating_mul(ADDRESS_SPACE_PER_PIXEL))
                .saturating_add(2 * obus.len() as u64);
            let machine = physical_memory().map_or(u64::MAX, |m| m.max(MIN_ADDRESS_SPACE));
            ffi::limit_address_space(wanted.min(machine));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machines_memory_is_read_where_the_system_says_it() {
        if std::path::Path::new("/proc/meminfo").exists() {
            let m = physical_memory().expect("MemTotal in /proc/meminfo");
            assert!(m > 64 * 1024 * 1024, "{m}");
        } else {
            assert_eq!(physical_memory(), None);
        }
    }
}
