//! Keyframes of untrusted videos: the MP4/MOV index reader (top-level boxes, `moov`,
//! tracks, sample tables, edit lists, the track matrix), the choice and placement of
//! keyframes, and the H.264 and HEVC decoders behind it. Every input must give at most
//! `MAX_KEYFRAMES` keyframes, in the order they are shown, each with a hash that
//! survives its own text form, or an error that says "could not hash"; never a panic, a
//! hang or an allocation past the limits (run with `-rss_limit_mb`).
#![no_main]

use std::io::Cursor;

use custody_similar::{MAX_KEYFRAMES, PHash, hash_keyframes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match hash_keyframes(&mut Cursor::new(data)) {
        Ok(frames) => {
            assert!(frames.len() <= MAX_KEYFRAMES, "{} keyframes", frames.len());
            assert!(
                frames.windows(2).all(|w| w[0].at_ms < w[1].at_ms),
                "keyframes out of order or repeated: {frames:?}"
            );
            for f in &frames {
                assert_eq!(f.hash.to_string().parse::<PHash>().ok(), Some(f.hash));
            }
        }
        Err(e) => assert!(e.to_string().starts_with("could not hash"), "{e}"),
    }
});
