//! Crash safety: ingest is killed (SIGKILL) at random points, many times. After each
//! kill, `custody verify --full` passes and every item the killed process reported as
//! ingested is present with exactly the bytes of its source file.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

const ROUNDS: u64 = 24;

/// Writes a fresh batch of files for one round; returns file name → SHA-256.
fn batch(env: &Env, round: u64) -> BTreeMap<String, String> {
    let mut digests = BTreeMap::new();
    let dir = format!("src{round}");
    for i in 0..12u64 {
        let len = 2_000 + ((round * 7919 + i * 104_729) % 400_000) as usize;
        let data = bytes(round * 1000 + i, len);
        env.write(&format!("{dir}/f{i:02}.bin"), &data);
        digests.insert(format!("{dir}/f{i:02}.bin"), sha256_hex(&data));
    }
    let big = bytes(round * 1000 + 999, 6 << 20);
    env.write(&format!("{dir}/big.bin"), &big);
    digests.insert(format!("{dir}/big.bin"), sha256_hex(&big));
    // Repeat an earlier round's file too: duplicate bytes take another code path.
    if round > 0 {
        let again = bytes(
            (round - 1) * 1000,
            2_000 + (((round - 1) * 7919) % 400_000) as usize,
        );
        env.write(&format!("{dir}/again.bin"), &again);
        digests.insert(format!("{dir}/again.bin"), sha256_hex(&again));
    }
    digests
}

/// A small deterministic generator for the kill delays.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn ingest_killed_at_random_points_never_loses_a_reported_item() {
    let env = Env::new();
    env.init();

    // Calibrate: how long does one uninterrupted round take here?
    let digests = batch(&env, 1000);
    let t = Instant::now();
    env.run(&["ingest", "src1000"]).ok();
    // Other tests share the machine, so one timing says little: a round that ends before
    // its kill lowers the estimate to what it took, and the next kills come sooner.
    let mut full = t.elapsed();

    let mut rng = Lcg(0x5EED);
    let mut reported_total = 0;
    let mut killed_mid_way = 0;
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for (path, d) in &digests {
        expected.insert(path.clone(), d.clone());
    }
    for round in 0..ROUNDS {
        let digests = batch(&env, round);
        let delay = Duration::from_micros(rng.next() % (full.as_micros() as u64 * 5 / 4).max(1));
        let mut child = env
            .command()
            .args([
                "--vault",
                "vault",
                "ingest",
                &format!("src{round}"),
                "--batch",
                &(1 + round % 4).to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let mut ended_after = None;
        while started.elapsed() < delay {
            if child.try_wait().unwrap().is_some() {
                ended_after = Some(started.elapsed());
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if let Some(took) = ended_after {
            full = full.min(took.max(Duration::from_millis(5)));
        }
        let finished = ended_after.is_some() || child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        if !finished {
            killed_mid_way += 1;
        }
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();

        // Every item reported as ingested, with its source path.
        let mut reported = Vec::new();
        for line in out.lines().filter(|l| l.starts_with("ingested ")) {
            let id = line.split_whitespace().nth(1).unwrap().to_owned();
            let path = line
                .split_whitespace()
                .find(|t| t.starts_with("src"))
                .unwrap()
                .to_owned();
            reported.push((id, path));
        }
        reported_total += reported.len();

        let v = env.run(&["verify", "--full"]);
        assert_eq!(
            v.code, 0,
            "round {round} (killed after {delay:?}): verify failed\n{}\n{}",
            v.stdout, v.stderr
        );
        let recovered = v
            .stderr
            .lines()
            .find(|l| l.starts_with("note: recovered"))
            .unwrap_or("clean");
        eprintln!(
            "round {round}: killed after {delay:?}, finished={finished}, {} reported; {recovered}",
            reported.len()
        );

        let list = env.run(&["list", "--json"]).ok().json();
        let by_id: BTreeMap<String, String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["id"].as_str().unwrap().to_owned(),
                    i["sha256"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for (id, path) in &reported {
            let want = digests
                .get(path)
                .unwrap_or_else(|| panic!("unknown path {path}"));
            assert_eq!(
                by_id.get(id),
                Some(want),
                "round {round}: reported item {id} ({path}) is missing or wrong"
            );
        }
        // And the bytes are really there: read one back through `get`.
        if let Some((id, path)) = reported.last() {
            let out = format!("check-{round}.bin");
            env.run(&["get", id, "--out", &out]).ok();
            assert_eq!(
                std::fs::read(env.path(&out)).unwrap(),
                std::fs::read(env.path(path)).unwrap()
            );
        }
        // Run again with --resume: what the killed run committed is skipped, the rest
        // goes in, and every file of the round is then held exactly once.
        let again = env
            .run(&["ingest", "--resume", &format!("src{round}"), "--json"])
            .ok()
            .json();
        assert!(
            again["skipped"].as_u64().unwrap() >= reported.len() as u64,
            "round {round}: {again}"
        );
        let list = env.run(&["list", "--json"]).ok().json();
        for path in digests.keys() {
            let held = list
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| {
                    i["original_path"]
                        .as_str()
                        .unwrap()
                        .ends_with(&format!("/{path}"))
                })
                .count();
            assert_eq!(
                held, 1,
                "round {round}: {path} held {held} times after --resume"
            );
        }
        expected.extend(digests);
    }
    // The test must really have interrupted ingests, and really have seen reports.
    assert!(
        killed_mid_way >= ROUNDS / 3,
        "only {killed_mid_way} of {ROUNDS} rounds were interrupted"
    );
    assert!(reported_total > 0, "no round reported any item");
    let staging: Vec<_> = std::fs::read_dir(env.path("vault/staging"))
        .unwrap()
        .collect();
    assert!(
        staging.is_empty(),
        "recovery leaves no staged copies: {staging:?}"
    );
}
