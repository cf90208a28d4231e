//! Hashing throughput: hashes every JPEG under a folder and prints files per second.
//!
//! ```text
//! cargo run --release -p custody-similar --example phash_bench -- DIR [--threads N]
//! ```
//!
//! Files are read from disk inside the timed loop (as the Python reference does); run it
//! twice, or after the reference, so that both see a warm page cache.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn jpegs(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            jpegs(&p, out)?;
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| x.eq_ignore_ascii_case("jpg") || x.eq_ignore_ascii_case("jpeg"))
        {
            out.push(p);
        }
    }
    Ok(())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut threads = 2usize;
    while let Some(a) = args.next() {
        if a == "--threads" {
            threads = args
                .next()
                .and_then(|v| v.parse().ok())
                .expect("--threads N");
        } else {
            dir = Some(PathBuf::from(a));
        }
    }
    let dir = dir.expect("usage: phash_bench DIR [--threads N]");
    let mut files = Vec::new();
    jpegs(&dir, &mut files).expect("cannot list folder");
    files.sort();
    let bytes: u64 = files
        .iter()
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum();

    let next = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(f) = files.get(i) else { break };
                    if let Err(e) = custody_similar::hash_path(f, "image/jpeg") {
                        eprintln!("{}: {e}", f.display());
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "custody-similar {}: {} files ({:.1} MB) in {:.3} s with {} threads: {:.1} files/s, {:.1} MB/s, {} failed",
        custody_similar::ALGORITHM,
        files.len(),
        bytes as f64 / 1e6,
        secs,
        threads,
        files.len() as f64 / secs,
        bytes as f64 / 1e6 / secs,
        failed.load(Ordering::Relaxed)
    );
}
