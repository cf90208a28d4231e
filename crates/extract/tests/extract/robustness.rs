//! Stable-toolchain robustness: thousands of damaged variants of real and synthetic
//! samples (bit flips, truncations, corrupted length fields, inserted and deleted
//! runs, a caller that lies about the length), with a fixed seed. Every extraction
//! must return (no panic), within a generous bound that only a hang would exceed,
//! with a record that survives a JSON round trip (no NaN, nothing unserialisable).
//! The cargo-fuzz targets in `fuzz/` explore further where a nightly toolchain exists.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use custody_extract::{Metadata, extract_reader};
use custody_testkit::data::Rng;

use crate::{shared, synth};

/// Offsets just before a four-letter type code: where box, chunk and segment
/// lengths live in BMFF, PNG and RIFF files.
fn length_fields(data: &[u8]) -> Vec<usize> {
    let mut v = Vec::new();
    for i in 4..data.len().saturating_sub(4) {
        let t = &data[i..i + 4];
        if t.iter().all(|c| c.is_ascii_alphanumeric() || *c == b' ')
            && t.iter().any(u8::is_ascii_alphabetic)
        {
            v.push(i - 4);
            v.push(i + 4); // RIFF keeps its length after the type
        }
        if v.len() > 4096 {
            break;
        }
    }
    // JPEG marker lengths and TIFF counts/offsets.
    for i in 0..data.len().saturating_sub(2) {
        if data[i] == 0xFF && (0xC0..=0xFE).contains(&data[i + 1]) {
            v.push(i + 2);
        }
        if v.len() > 8192 {
            break;
        }
    }
    v
}

fn mutate(rng: &mut Rng, orig: &[u8], fields: &[usize]) -> (Vec<u8>, u64, &'static str) {
    let mut d = orig.to_vec();
    let kind = rng.below(6);
    let what = match kind {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(d.len());
                if let Some(b) = d.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            "bit flips"
        }
        1 => {
            d.truncate(rng.below(d.len() + 1));
            "truncation"
        }
        2 if !fields.is_empty() => {
            let at = fields[rng.below(fields.len())];
            let values: [u32; 8] = [
                0,
                1,
                7,
                8,
                0x7FFF_FFFF,
                0xFFFF_FFFF,
                0xFFFF,
                rng.bits() as u32,
            ];
            let v = values[rng.below(values.len())];
            let bytes = if rng.below(2) == 0 {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            let n = if rng.below(2) == 0 { 2 } else { 4 };
            for k in 0..n {
                if let Some(b) = d.get_mut(at + k) {
                    *b = bytes[4 - n + k];
                }
            }
            "length field"
        }
        3 => {
            let at = rng.below(d.len());
            let n = rng.below(64);
            let end = (at + n).min(d.len());
            d.drain(at..end);
            "deleted run"
        }
        4 => {
            let at = rng.below(d.len());
            let fill = [0u8, 0xFF][rng.below(2)];
            let n = 1 + rng.below(64);
            d.splice(at..at, std::iter::repeat_n(fill, n));
            "inserted run"
        }
        _ => {
            // Bit flips within the first kilobyte, where the headers are.
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(d.len().min(1024));
                if let Some(b) = d.get_mut(i) {
                    *b = rng.bits() as u8;
                }
            }
            "header bytes"
        }
    };
    // Sometimes the caller's length is wrong too.
    let len = match rng.below(10) {
        0 => d.len() as u64 + rng.below(1 << 20) as u64,
        1 => u64::MAX,
        _ => d.len() as u64,
    };
    (d, len, what)
}

/// Generous: a debug build extracts these small files in milliseconds; only a
/// loop or an unbounded read would take this long.
const HANG: Duration = Duration::from_secs(10);

fn samples() -> Vec<(String, Vec<u8>, &'static str)> {
    let mut v = vec![
        ("synthetic.mp4".to_string(), synth::mp4(), "video/mp4"),
        ("synthetic.pdf".to_string(), synth::pdf(), "application/pdf"),
        ("synthetic.tif".to_string(), synth::geotiff(), "image/tiff"),
        ("synthetic.png".to_string(), synth::png(), "image/png"),
        ("synthetic.webp".to_string(), synth::webp(), "image/webp"),
        ("synthetic.webm".to_string(), synth::webm(), "video/webm"),
        ("synthetic.avi".to_string(), synth::avi(), "video/x-msvideo"),
    ];
    if let Some(dir) = shared("testdata") {
        for (rel, mt) in [
            ("exif/jpg/gps/DSCN0010.jpg", "image/jpeg"),
            ("exif/jpg/Canon_40D.jpg", "image/jpeg"),
            ("exif/jpg/xmp/BlueSquare.jpg", "image/jpeg"),
            ("exif/heic/samplefilehub.heif", "image/heif"),
            ("exif/tiff/Arbitro.tiff", "image/tiff"),
            ("c2pa/CA.jpg", "image/jpeg"),
        ] {
            let data = std::fs::read(dir.join(rel)).expect("read sample");
            v.push((rel.to_string(), data, mt));
        }
    }
    v
}

#[test]
fn damaged_files_never_panic_hang_or_produce_unserialisable_records() {
    // The C2PA validator streams and hashes every byte: fewer rounds when it is on.
    let rounds = if cfg!(feature = "c2pa") { 150 } else { 700 };
    let mut rng = Rng(0x5EED_CAFE_F00D_0001);
    let mut total = 0;
    let mut slowest = Duration::ZERO;
    for (name, data, media_type) in samples() {
        let fields = length_fields(&data);
        for round in 0..rounds {
            let (bytes, len, what) = mutate(&mut rng, &data, &fields);
            for mt in [media_type, "application/octet-stream"] {
                let start = Instant::now();
                let result = catch_unwind(AssertUnwindSafe(|| {
                    extract_reader(&mut Cursor::new(&bytes), len, mt)
                }));
                let took = start.elapsed();
                slowest = slowest.max(took);
                let md = result.unwrap_or_else(|_| {
                    let path = std::env::temp_dir().join("custody-extract-panic.bin");
                    let _ = std::fs::write(&path, &bytes);
                    panic!("{name} round {round} ({what}, len {len}, as {mt}) panicked; input saved to {}", path.display())
                });
                assert!(took < HANG, "{name} round {round} ({what}) took {took:?}");
                let json = serde_json::to_string(&md).expect("record serialises");
                let back: Metadata = serde_json::from_str(&json).expect("record deserialises");
                // serde_json's default float parsing may differ from the printed value in the
                // last bit, so compare against the JSON tree parsed the same way.
                let tree: serde_json::Value = serde_json::from_str(&json).unwrap();
                assert_eq!(
                    serde_json::to_value(&back).unwrap(),
                    tree,
                    "{name} round {round}: JSON round trip changed the record"
                );
                assert_eq!(back.times, md.times);
                assert_eq!(back.problems, md.problems);
                for p in &md.problems {
                    assert!(p.starts_with("could not extract: "), "{p}");
                }
                total += 1;
            }
        }
    }
    eprintln!("robustness: {total} damaged extractions, slowest {slowest:?}");
    assert!(total >= 5 * rounds * 2);
}

/// Writes the samples above as a seed corpus for the `extract` fuzz target
/// (`crates/extract/fuzz`), into the folder named by `CUSTODY_FUZZ_SEEDS`: each file is the
/// target's media-type byte followed by the sample's first 64 KiB, where the metadata of
/// these formats lives. Run by hand (`--ignored`); see `crates/extract/fuzz/README.md`.
#[test]
#[ignore = "writes a fuzzing seed corpus; run by hand"]
fn write_fuzz_seeds() {
    /// The fuzz target's list of declared media types, in its order.
    const TYPES: [&str; 11] = [
        "application/octet-stream",
        "image/jpeg",
        "image/png",
        "image/tiff",
        "image/webp",
        "image/heif",
        "video/mp4",
        "video/quicktime",
        "application/pdf",
        "video/webm",
        "video/x-msvideo",
    ];
    let dir = std::env::var_os("CUSTODY_FUZZ_SEEDS").expect("set CUSTODY_FUZZ_SEEDS to a folder");
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("create the seed folder");
    let mut written = 0;
    for (name, data, media_type) in samples() {
        let pick = TYPES
            .iter()
            .position(|t| *t == media_type)
            .expect("every sample's type is one the target declares") as u8;
        let mut seed = vec![pick];
        seed.extend_from_slice(&data[..data.len().min(64 * 1024)]);
        let file = dir.join(name.replace('/', "_"));
        std::fs::write(&file, &seed).expect("write a seed");
        written += 1;
    }
    assert!(written >= 5, "the synthetic samples are always there");
    eprintln!("{written} seeds in {}", dir.display());
}

/// A box whose size field is smaller than its own header and one that runs past the end
/// of the file are two different faults, and the problem says which.
#[test]
fn box_size_faults_are_named_for_what_they_are() {
    let good = synth::mp4();
    // The first box is 'ftyp'; the second starts right after it.
    let second = u32::from_be_bytes(good[0..4].try_into().unwrap()) as usize;
    let kind = String::from_utf8_lossy(&good[second + 4..second + 8]).into_owned();
    let problems = |bytes: &[u8]| {
        extract_reader(&mut Cursor::new(bytes), bytes.len() as u64, "video/mp4").problems
    };

    let mut small = good.clone();
    small[second..second + 4].copy_from_slice(&4u32.to_be_bytes());
    let p = problems(&small);
    assert!(
        p.iter().any(|p| p.contains(&format!(
            "box '{kind}' at offset {second} claims 4 bytes, fewer than its own 8-byte header"
        ))),
        "{p:?}"
    );
    assert!(!p.iter().any(|p| p.contains("past the end")), "{p:?}");

    let cut = &good[..good.len() - 10];
    let p = problems(cut);
    assert!(p.iter().any(|p| p.contains("past the end of the")), "{p:?}");
}
