//! Throughput of making and validating a bag.
//!
//! ```text
//! bag_bench SOURCE_DIR NEW_BAG_DIR [--workers N] [--keep]
//! bag_bench --validate BAG_DIR
//! bag_bench --hash-speed [MIB]
//! ```
//!
//! The first form copies every file under SOURCE_DIR into a new bag (SHA-256 and SHA-512
//! in the same read, durable before the final rename), then validates the bag with the
//! strict options, and prints MB/s for each step. The bag is removed afterwards unless
//! `--keep` is given. The second form measures single-core SHA-256 and SHA-512 speed on
//! an in-memory buffer, for comparison with `openssl speed -bytes 1048576 sha256 sha512`.
//!
//! Run it with `cargo run --release -p custody-package --example bag_bench -- ...`;
//! `crates/package/bench/bagit_py_bench.sh` runs it beside bagit.py.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use custody_package::{
    Algorithm, BagInfo, BagWriter, PathNamer, Payload, ValidateOptions, validate,
};

fn files_under(root: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d)? {
            let e = e?;
            let t = e.file_type()?;
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .expect("walked below the root")
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, e.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn mb_per_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs.max(1e-9)
}

/// CPU seconds (user + system) this process has used, from /proc (Linux's USER_HZ is
/// 100 on every architecture it matters for here).
fn cpu_seconds() -> Option<f64> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Single-core digest speed, by wall clock and by CPU time. `openssl speed` reports CPU
/// time unless given `-elapsed`, so on a busy machine only the CPU-time figures compare.
fn hash_speed(mib: usize) {
    let buf: Vec<u8> = (0..mib << 20).map(|i| (i * 31 % 251) as u8).collect();
    for alg in [Algorithm::Sha256, Algorithm::Sha512] {
        let mut best_wall = f64::MAX;
        let mut best_cpu = f64::MAX;
        for _ in 0..3 {
            let (t, c) = (Instant::now(), cpu_seconds());
            std::hint::black_box(alg.digest(&buf));
            best_wall = best_wall.min(t.elapsed().as_secs_f64());
            if let (Some(c0), Some(c1)) = (c, cpu_seconds()) {
                best_cpu = best_cpu.min(c1 - c0);
            }
        }
        let bytes = buf.len() as u64;
        println!(
            "{alg}: {:.0} MB/s wall clock, {:.0} MB/s of CPU time, one core \
             ({mib} MiB in memory, best of 3)",
            mb_per_s(bytes, best_wall),
            mb_per_s(bytes, best_cpu)
        );
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--hash-speed") {
        let mib = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1024);
        hash_speed(mib);
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) == Some("--validate") {
        let Some(bag) = args.get(1) else {
            eprintln!("usage: bag_bench --validate BAG_DIR");
            return ExitCode::from(2);
        };
        let t = Instant::now();
        let report = validate(Path::new(bag), &ValidateOptions::default(), None);
        let secs = t.elapsed().as_secs_f64();
        println!(
            "validate: {} bytes hashed in {secs:.2} s = {:.0} MB/s; {}",
            report.bytes_hashed,
            mb_per_s(report.bytes_hashed, secs),
            if report.ok { "valid" } else { "INVALID" }
        );
        return if report.ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let mut positional = Vec::new();
    let mut workers = custody_package::default_workers();
    let mut keep = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--workers" => workers = it.next().and_then(|s| s.parse().ok()).unwrap_or(workers),
            "--keep" => keep = true,
            _ => positional.push(PathBuf::from(a)),
        }
    }
    let [source, target] = positional.as_slice() else {
        eprintln!("usage: bag_bench SOURCE_DIR NEW_BAG_DIR [--workers N] [--keep]");
        eprintln!("       bag_bench --hash-speed [MIB]");
        return ExitCode::from(2);
    };

    let files = match files_under(source) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{}: {e}", source.display());
            return ExitCode::FAILURE;
        }
    };
    let t = Instant::now();
    let result = (|| {
        let mut w = BagWriter::create(target)?.workers(workers);
        let mut namer = PathNamer::new();
        let items = files
            .iter()
            .map(|(rel, abs)| Payload::from_file(namer.name(rel), abs.clone()))
            .collect();
        w.add_payloads(items)?;
        w.finish(&BagInfo {
            source_organization: Some("bag_bench".into()),
            ..Default::default()
        })
    })();
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            eprintln!("export failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let export_s = t.elapsed().as_secs_f64();
    println!(
        "export:   {} files, {} bytes in {export_s:.2} s = {:.0} MB/s ({workers} workers; \
         copy + SHA-256 + SHA-512 + fsync)",
        summary.payload_files,
        summary.payload_bytes,
        mb_per_s(summary.payload_bytes, export_s)
    );

    let opts = ValidateOptions {
        workers,
        ..ValidateOptions::default()
    };
    let t = Instant::now();
    let report = validate(target, &opts, None);
    let validate_s = t.elapsed().as_secs_f64();
    println!(
        "validate: {} bytes hashed in {validate_s:.2} s = {:.0} MB/s ({workers} workers; \
         strict, SHA-256 + SHA-512)",
        report.bytes_hashed,
        mb_per_s(report.bytes_hashed, validate_s)
    );
    println!("total:    {:.2} s", export_s + validate_s);
    println!("EXPORT_SECONDS={export_s:.3}");
    println!("VALIDATE_SECONDS={validate_s:.3}");
    if !keep {
        let _ = fs::remove_dir_all(target);
    }
    if report.ok {
        ExitCode::SUCCESS
    } else {
        eprintln!("{report}");
        ExitCode::FAILURE
    }
}
