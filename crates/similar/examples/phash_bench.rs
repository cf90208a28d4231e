//! Hashing throughput: hashes every JPEG under a folder and prints files per second.
//!
//! ```text
//! cargo run --release -p custody-similar --example phash_bench -- DIR [--threads N]
//! ```
//!
//! Files are read from disk inside the timed loop (as the Python reference does); run it
//! twice, or after the reference, so that both see a warm page cache.
//!
//! `--in-memory --repeat N` instead loads the files first and reports the best of N passes
//! over the bytes: the decoding cost alone, steadier on a busy machine.
//!
//! `--turned` computes the seven turned hashes too, as ingest does (`hash_turnings_*`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut threads = 2usize;
    let mut in_memory = false;
    let mut repeat = 1usize;
    let mut turned = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--threads N")
            }
            "--repeat" => {
                repeat = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--repeat N")
            }
            "--in-memory" => in_memory = true,
            "--turned" => turned = true,
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir =
        dir.expect("usage: phash_bench DIR [--threads N] [--in-memory] [--repeat N] [--turned]");
    let files = custody_similar::testing::jpeg_files(&dir);
    let bytes: u64 = files
        .iter()
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum();

    let loaded: Vec<Vec<u8>> = if in_memory {
        files
            .iter()
            .map(|f| std::fs::read(f).expect("readable file"))
            .collect()
    } else {
        Vec::new()
    };
    let failed = AtomicUsize::new(0);
    let mut best = f64::INFINITY;
    for _ in 0..repeat.max(1) {
        let next = AtomicUsize::new(0);
        let start = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break };
                        let r = match (in_memory, turned) {
                            (true, false) => custody_similar::hash_bytes(&loaded[i], "image/jpeg"),
                            (false, false) => custody_similar::hash_path(f, "image/jpeg"),
                            (true, true) => {
                                custody_similar::hash_turnings_bytes(&loaded[i], "image/jpeg")
                                    .map(|t| t.hash)
                            }
                            (false, true) => {
                                custody_similar::hash_turnings_path(f, "image/jpeg").map(|t| t.hash)
                            }
                        };
                        if let Err(e) = r {
                            eprintln!("{}: {e}", f.display());
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        best = best.min(start.elapsed().as_secs_f64());
    }
    let secs = best;
    println!(
        "custody-similar {}{}{}: {} files ({:.1} MB) in {:.3} s with {} threads: {:.1} files/s, {:.1} MB/s, {} failed",
        custody_similar::ALGORITHM,
        if turned { " with turned hashes" } else { "" },
        if in_memory {
            " (in memory, best pass)"
        } else {
            ""
        },
        files.len(),
        bytes as f64 / 1e6,
        secs,
        threads,
        files.len() as f64 / secs,
        bytes as f64 / 1e6 / secs,
        failed.load(Ordering::Relaxed)
    );
}
