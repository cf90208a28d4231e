//! SHA-512 throughput: one stream with the sha2 crate, the four-lane kernel alone, and
//! the engine with several streams fed from threads of their own.
//!
//! ```text
//! cargo run --release -p custody-sha512x4 --example lanes_speed -- [MIB] [STREAMS]
//! ```
//!
//! MIB (default 256) is the size of each stream, STREAMS (default 4) how many run at once
//! through the engine. Every digest is checked against the sha2 crate's.

use std::time::Instant;

use custody_sha512x4::Sha512Stream;
use custody_sha512x4::kernel::{BLOCK, IV, Kernel, LANES};
use sha2::{Digest, Sha512};

fn mb_per_s(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / secs / 1e6
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap_or(0))
        .collect();
    let mib = args.first().copied().filter(|&m| m > 0).unwrap_or(256);
    let streams = args.get(1).copied().filter(|&s| s > 0).unwrap_or(4);
    let len = mib << 20;
    let data: Vec<Vec<u8>> = (0..streams.max(LANES))
        .map(|s| {
            (0..len)
                .map(|i| (i * 31 + s * 7 + (i >> 12)) as u8)
                .collect()
        })
        .collect();

    let t = Instant::now();
    let want: Vec<_> = data.iter().map(Sha512::digest).collect();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "sha2, one stream at a time:       {:6.0} MB/s (one core)",
        mb_per_s(len * data.len(), secs)
    );

    match Kernel::detect() {
        Some(kernel) => {
            let mut states = [IV; LANES];
            let t = Instant::now();
            let [s0, s1, s2, s3] = &mut states;
            kernel.compress(
                [s0, s1, s2, s3],
                core::array::from_fn(|l| Some(&data[l][..])),
                len / BLOCK,
            );
            let secs = t.elapsed().as_secs_f64();
            println!(
                "{} kernel, {LANES} lanes busy:       {:6.0} MB/s (one core; blocks only)",
                kernel.name(),
                mb_per_s(len * LANES, secs)
            );
        }
        None => println!("no vector kernel on this CPU"),
    }

    let t = Instant::now();
    let got: Vec<Option<[u8; 64]>> = std::thread::scope(|s| {
        let handles: Vec<_> = data[..streams]
            .iter()
            .map(|d| {
                s.spawn(move || {
                    let mut stream = Sha512Stream::open()?;
                    for piece in d.chunks(1 << 20) {
                        stream.update(piece);
                    }
                    Some(stream.finish())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    });
    let secs = t.elapsed().as_secs_f64();
    if got.iter().all(Option::is_some) {
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.expect("checked")[..], w[..], "engine digest differs");
        }
        println!(
            "engine, {streams} streams at once:        {:6.0} MB/s (wall clock, all digests checked)",
            mb_per_s(len * streams, secs)
        );
    } else {
        println!("no engine on this CPU: streams hash one at a time");
    }
}
