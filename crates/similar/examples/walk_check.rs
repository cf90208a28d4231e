//! Compares the two walks of the DC-only path on every JPEG under a folder: the walk in
//! stretches at once against the ordinary one, sample for sample, and times both.
//!
//! ```text
//! cargo run --release -p custody-similar --example walk_check -- DIR
//! ```

use std::path::Path;
use std::time::Instant;

use custody_similar::testing::{dc_luma, dc_luma_ordinary, jpeg_files, lane_walks, same_outcome};

fn main() {
    let dir = std::env::args().nth(1).expect("usage: walk_check DIR");
    let files = jpeg_files(Path::new(&dir));
    let data: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("readable"))
        .collect();
    // WALK=lanes|ordinary: decode each file once that way and stop (for profilers).
    if let Ok(w) = std::env::var("WALK") {
        for d in &data {
            let _ = if w == "lanes" {
                dc_luma(d)
            } else {
                dc_luma_ordinary(d)
            };
        }
        return;
    }
    let mut differ = 0;
    for (f, d) in files.iter().zip(&data) {
        let before = lane_walks().1;
        let (a, b) = (dc_luma(d), dc_luma_ordinary(d));
        if lane_walks().1 != before {
            eprintln!("declined file: {}", f.display());
        }
        let same = same_outcome(&a, &b);
        if !same {
            differ += 1;
            eprintln!("differs: {}", f.display());
        }
    }
    let (taken, declined) = lane_walks();
    println!(
        "{} files, {differ} differ; scans walked in stretches {taken}, declined {declined}",
        files.len()
    );
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut ratios = Vec::new();
    for round in 0..rounds {
        let t = Instant::now();
        for d in &data {
            let _ = dc_luma_ordinary(d);
        }
        let ordinary = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for d in &data {
            let _ = dc_luma(d);
        }
        let lanes = t.elapsed().as_secs_f64();
        println!(
            "round {round}: ordinary {:.1} files/s, stretches {:.1} files/s ({:.2}x)",
            data.len() as f64 / ordinary,
            data.len() as f64 / lanes,
            ordinary / lanes
        );
        ratios.push(ordinary / lanes);
    }
    ratios.sort_by(f64::total_cmp);
    if let Some(m) = ratios.get(ratios.len() / 2) {
        println!("median ratio {m:.3}");
    }
}
