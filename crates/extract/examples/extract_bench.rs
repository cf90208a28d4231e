//! Metadata extraction throughput over a folder, on every core, against exiftool.
//!
//! ```text
//! cargo run --release -p custody-extract --example extract_bench -- DIR [--no-exiftool]
//! ```
//!
//! Walks DIR, extracts every regular file (media type sniffed from content) on as
//! many threads as there are cores, and prints files/s. Unless `--no-exiftool` is
//! given, it then runs `exiftool -j -r DIR` on the same folder and prints exiftool's
//! files/s and the ratio. Both runs read the same files; run it twice for a warm cache.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() {
            walk(&e.path(), out);
        } else if t.is_file() {
            out.push(e.path());
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: extract_bench DIR [--no-exiftool]");
        std::process::exit(2);
    };
    let mut files = Vec::new();
    walk(Path::new(dir), &mut files);
    files.sort();
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());

    let next = AtomicUsize::new(0);
    let with_time = AtomicUsize::new(0);
    let with_gps = AtomicUsize::new(0);
    let with_problems = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(f) = files.get(i) else { break };
                    let md = custody_extract::extract_path(f, "application/octet-stream");
                    if !md.times.is_empty() {
                        with_time.fetch_add(1, Ordering::Relaxed);
                    }
                    if !md.positions.is_empty() {
                        with_gps.fetch_add(1, Ordering::Relaxed);
                    }
                    if !md.problems.is_empty() {
                        with_problems.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let ours = start.elapsed().as_secs_f64();
    let ours_rate = files.len() as f64 / ours;
    println!(
        "custody-extract {}: {} files ({:.1} MB) in {:.3} s on {threads} threads: {:.0} files/s \
         ({} with a clock, {} with a position, {} with problems)",
        custody_extract::VERSION,
        files.len(),
        bytes as f64 / 1e6,
        ours,
        ours_rate,
        with_time.into_inner(),
        with_gps.into_inner(),
        with_problems.into_inner()
    );

    if args.iter().any(|a| a == "--no-exiftool") {
        return;
    }
    let start = Instant::now();
    let out = std::process::Command::new("exiftool")
        .args(["-j", "-r", dir])
        .stderr(std::process::Stdio::null())
        .output();
    let theirs = start.elapsed().as_secs_f64();
    match out {
        Ok(o) => {
            let n = serde_json::from_slice::<Vec<serde_json::Value>>(&o.stdout)
                .map(|v| v.len())
                .unwrap_or(0);
            let rate = n as f64 / theirs;
            println!("exiftool -j -r: {n} files in {theirs:.3} s: {rate:.0} files/s");
            println!("ratio: {:.1}x exiftool", ours_rate / rate);
        }
        Err(e) => println!("exiftool not run ({e}); install libimage-exiftool-perl"),
    }
}
