//! Near-duplicate index at scale: build time, memory and query latency.
//!
//! ```text
//! cargo run --release -p custody-similar --example index_bench -- [--n 10000000] [--queries 2000]
//! ```
//!
//! The data: `n` random 64-bit hashes plus, for each query, a planted cluster of
//! neighbours at distances 2, 4, 6, 8 and 10 (perceptual hashes of one picture differ by
//! an even number of bits). Every query must find all its planted neighbours within the
//! distance asked; the bench fails loudly if one is missed.

use std::time::Instant;

use custody_similar::{Index, PHash};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn flip(&mut self, h: u64, k: u32) -> u64 {
        let mut out = h;
        while (out ^ h).count_ones() < k {
            out ^= 1 << (self.next() % 64);
        }
        out
    }
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut n = 10_000_000usize;
    let mut queries = 2000usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--n" => n = args.next().and_then(|v| v.parse().ok()).expect("--n N"),
            "--queries" => {
                queries = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--queries N")
            }
            _ => panic!("usage: index_bench [--n N] [--queries N]"),
        }
    }
    let mut rng = Rng(0x1dea);
    let mut entries: Vec<(u64, PHash)> = (0..n as u64).map(|id| (id, PHash(rng.next()))).collect();
    let mut centres = Vec::with_capacity(queries);
    let mut id = n as u64;
    for _ in 0..queries {
        let c = rng.next();
        centres.push((c, id));
        for k in [2, 4, 6, 8, 10] {
            entries.push((id, PHash(rng.flip(c, k))));
            id += 1;
        }
    }
    let total = entries.len();
    let rss_before = rss_kib("VmRSS:");

    let t = Instant::now();
    let idx: Index = entries.into_iter().collect();
    let build = t.elapsed().as_secs_f64();
    println!(
        "built {} entries in {:.2} s; index heap {:.1} MiB ({:.1} bytes/entry); process RSS grew {:.1} MiB, peak {:.1} MiB",
        total,
        build,
        idx.heap_bytes() as f64 / 1048576.0,
        idx.heap_bytes() as f64 / total as f64,
        (rss_kib("VmRSS:").saturating_sub(rss_before)) as f64 / 1024.0,
        rss_kib("VmHWM:") as f64 / 1024.0
    );

    println!(
        "{:>3} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "d", "mean ms", "p50 ms", "p99 ms", "max ms", "mean found"
    );
    for d in [0u32, 4, 6, 8, 10, 12] {
        let mut times = Vec::with_capacity(queries);
        let mut found = 0usize;
        for &(c, first) in &centres {
            let t = Instant::now();
            let r = idx.query(PHash(c), d);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            found += r.len();
            // Planted neighbours within d must all be there.
            let planted = (d / 2).min(5) as u64;
            for k in 0..planted {
                assert!(
                    r.iter().any(|&(i, _)| i == first + k),
                    "d {d}: planted neighbour {k} missed"
                );
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{:>3} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>12.2}",
            d,
            times.iter().sum::<f64>() / times.len() as f64,
            times[times.len() / 2],
            times[times.len() * 99 / 100],
            times[times.len() - 1],
            found as f64 / queries as f64
        );
    }

    // Incremental inserts: the amortised cost of growing the index one entry at a time.
    let grow = (n / 10).max(1);
    let mut small = Index::new();
    let t = Instant::now();
    for i in 0..grow as u64 {
        small.insert(i, PHash(rng.next()));
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "inserted {grow} entries one by one in {:.2} s ({:.2} µs each, merges included)",
        secs,
        secs * 1e6 / grow as f64
    );
}
