//! Recall and precision of near-duplicate detection on a corpus written by
//! `shared/bench/make_corpus.py`, whose `corpus-truth.json` says which photo derives from
//! which. Shared by the `recall` example and the corpus integration test.
//!
//! Every original defines a picture; its exact byte copies and its near-duplicates
//! (resized, recompressed, cropped, re-toned copies) show the same picture.
//!
//! - Recall at d: the fraction of (near-duplicate, original) pairs listed in the truth
//!   file whose hashes are within d.
//! - Precision at d: of all pairs of files whose hashes are within d, the fraction that
//!   show the same picture. Pairs of byte-identical files (an original and its exact
//!   copy, or two copies) are found at distance 0 by construction; they count as correct
//!   and are reported separately, and precision without them is given too, so that they
//!   cannot flatter the figure.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use custody_similar::{Index, PHash, Variant};

pub struct Corpus {
    pub files: Vec<PathBuf>,
    /// Picture (index of its original) shown by each file.
    pub picture: Vec<usize>,
    /// Whether each file is a byte copy of its original (or the original itself).
    pub exact: Vec<bool>,
    /// (near-duplicate, original) file indices.
    pub near_pairs: Vec<(usize, usize)>,
}

pub fn load(dir: &Path) -> Corpus {
    let text = std::fs::read_to_string(dir.join("corpus-truth.json")).expect("corpus-truth.json");
    let truth: serde_json::Value = serde_json::from_str(&text).expect("valid truth JSON");
    let mut files = Vec::new();
    let mut picture = Vec::new();
    let mut exact = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (i, o) in truth["originals"].as_array().unwrap().iter().enumerate() {
        let rel = o["file"].as_str().unwrap().to_owned();
        by_name.insert(rel.clone(), i);
        files.push(dir.join(&rel));
        picture.push(i);
        exact.push(true);
    }
    let mut near_pairs = Vec::new();
    for n in truth["near_duplicates"].as_array().unwrap() {
        let src = by_name[n["near_dup_of"].as_str().unwrap()];
        near_pairs.push((files.len(), src));
        files.push(dir.join(n["file"].as_str().unwrap()));
        picture.push(src);
        exact.push(false);
    }
    for e in truth["exact_duplicates"].as_array().unwrap() {
        let src = by_name[e["exact_dup_of"].as_str().unwrap()];
        files.push(dir.join(e["file"].as_str().unwrap()));
        picture.push(src);
        exact.push(true);
    }
    Corpus {
        files,
        picture,
        exact,
        near_pairs,
    }
}

/// Hashes every file of the corpus with `threads` threads.
pub fn hash_all(c: &Corpus, variant: Variant, threads: usize) -> Vec<PHash> {
    let next = AtomicUsize::new(0);
    let mut out = vec![PHash(0); c.files.len()];
    let results: Vec<Vec<(usize, PHash)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(f) = c.files.get(i) else { break };
                        let data = std::fs::read(f).expect("corpus file");
                        let h = custody_similar::hash_bytes_with(&data, "image/jpeg", variant)
                            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                        mine.push((i, h));
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, h) in results.into_iter().flatten() {
        out[i] = h;
    }
    out
}

#[derive(Debug, Clone, Copy)]
pub struct Scores {
    pub d: u32,
    pub near_found: usize,
    pub near_total: usize,
    pub reported: usize,
    pub correct: usize,
    pub byte_identical: usize,
}

impl Scores {
    pub fn recall(&self) -> f64 {
        self.near_found as f64 / self.near_total.max(1) as f64
    }
    pub fn precision(&self) -> f64 {
        if self.reported == 0 {
            1.0
        } else {
            self.correct as f64 / self.reported as f64
        }
    }
    /// Precision over the pairs that are not byte-identical.
    pub fn precision_excluding_identical(&self) -> f64 {
        let r = self.reported - self.byte_identical;
        if r == 0 {
            1.0
        } else {
            (self.correct - self.byte_identical) as f64 / r as f64
        }
    }
}

/// Scores at each distance, querying an [`Index`] of all the hashes.
pub fn score(c: &Corpus, hashes: &[PHash], distances: &[u32]) -> Vec<Scores> {
    let idx: Index = hashes
        .iter()
        .enumerate()
        .map(|(i, &h)| (i as u64, h))
        .collect();
    distances
        .iter()
        .map(|&d| {
            let mut s = Scores {
                d,
                near_found: 0,
                near_total: c.near_pairs.len(),
                reported: 0,
                correct: 0,
                byte_identical: 0,
            };
            for &(a, b) in &c.near_pairs {
                if hashes[a].distance(&hashes[b]) <= d {
                    s.near_found += 1;
                }
            }
            for (i, &h) in hashes.iter().enumerate() {
                for (j, _) in idx.query(h, d) {
                    let j = j as usize;
                    if j <= i {
                        continue;
                    }
                    s.reported += 1;
                    if c.picture[i] == c.picture[j] {
                        s.correct += 1;
                        if c.exact[i] && c.exact[j] {
                            s.byte_identical += 1;
                        }
                    }
                }
            }
            s
        })
        .collect()
}
