//! The perceptual hash of untrusted bytes: format sniffing, the DC-only JPEG path (markers,
//! Huffman tables, the entropy walk, restart intervals, progressive DC scans) and, for
//! what it does not take, the general decoder with its limits. Every input must give a
//! hash or an error that says "could not hash", never a panic, a hang or an allocation
//! past the limits (run with `-rss_limit_mb`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match custody_similar::hash_bytes(data, "application/octet-stream") {
        Ok(h) => {
            // A hash survives its own text form.
            assert_eq!(h.to_string().parse::<custody_similar::PHash>().ok(), Some(h));
        }
        Err(e) => assert!(e.to_string().starts_with("could not hash"), "{e}"),
    }
});
