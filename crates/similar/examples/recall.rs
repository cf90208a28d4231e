//! Recall and precision of near-duplicate detection on a generated corpus.
//!
//! ```text
//! python3 ../shared/bench/make_corpus.py bench/out/corpus-2000 --n 2000 --videos 0
//! cargo run --release -p custody-similar --example recall -- bench/out/corpus-2000 [--variant classic|zigzag]
//! ```
//!
//! See `tests/common/corpus.rs` for exactly what is counted.

#[path = "../tests/common/corpus.rs"]
mod corpus;

use std::path::PathBuf;

use custody_similar::Variant;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut variants = vec![Variant::ZigzagAc];
    while let Some(a) = args.next() {
        match a.as_str() {
            "--variant" => {
                variants = match args.next().as_deref() {
                    Some("classic") => vec![Variant::Classic],
                    Some("zigzag") => vec![Variant::ZigzagAc],
                    Some("both") => vec![Variant::Classic, Variant::ZigzagAc],
                    _ => panic!("--variant classic|zigzag|both"),
                }
            }
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.expect("usage: recall CORPUS_DIR [--variant classic|zigzag|both]");
    let c = corpus::load(&dir);
    println!(
        "{} files, {} near-duplicate pairs in the truth file",
        c.files.len(),
        c.near_pairs.len()
    );
    let distances: Vec<u32> = (0..=20).step_by(2).chain([11, 13]).collect::<Vec<_>>();
    let mut distances = distances;
    distances.sort_unstable();
    for v in variants {
        let t = std::time::Instant::now();
        let hashes = corpus::hash_all(&c, v, 2);
        println!(
            "\nvariant {v:?} (hashed in {:.1} s)",
            t.elapsed().as_secs_f64()
        );
        // Distance distribution of the true pairs.
        let mut ds: Vec<u32> = c
            .near_pairs
            .iter()
            .map(|&(a, b)| hashes[a].distance(&hashes[b]))
            .collect();
        ds.sort_unstable();
        println!(
            "true-pair distances: median {} p90 {} p95 {} p99 {} max {}",
            ds[ds.len() / 2],
            ds[ds.len() * 90 / 100],
            ds[ds.len() * 95 / 100],
            ds[(ds.len() * 99 / 100).min(ds.len() - 1)],
            ds[ds.len() - 1]
        );
        println!(
            "{:>3} {:>8} {:>9} {:>9} {:>12} {:>10} {:>14}",
            "d", "recall", "reported", "correct", "identical", "precision", "prec(non-id)"
        );
        for s in corpus::score(&c, &hashes, &distances) {
            println!(
                "{:>3} {:>8.4} {:>9} {:>9} {:>12} {:>10.4} {:>14.4}",
                s.d,
                s.recall(),
                s.reported,
                s.correct,
                s.byte_identical,
                s.precision(),
                s.precision_excluding_identical()
            );
        }
    }
}
