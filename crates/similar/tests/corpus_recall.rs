//! Recall and precision on a freshly generated corpus (shared/bench/make_corpus.py, in a
//! temporary folder). Skipped with a message when ../shared or the Python packages it
//! needs (Pillow, piexif, numpy) are missing.
//!
//! Thresholds: on the 2,000-photo corpus (200 near-duplicate pairs) the default distance
//! gives recall 0.965 and precision 1.000 (docs/design/near-duplicates.md). This corpus
//! has 20 pairs, so each miss costs 0.05 of recall: the bar allows three misses where the
//! large corpus predicts about one, and one unrelated pair in the ~40 reported.

mod common;

use std::path::Path;
use std::process::Command;

use custody_similar::{DEFAULT_MAX_DISTANCE, Variant};

#[test]
fn near_duplicates_are_found_on_a_generated_corpus() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/make_corpus.py");
    if !script.is_file() {
        eprintln!("skipped: {} not found", script.display());
        return;
    }
    let deps = Command::new("python3")
        .args(["-c", "import PIL, piexif, numpy"])
        .output();
    if !deps.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "skipped: python3 with Pillow, piexif and numpy not found (pip install Pillow piexif numpy)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir.path())
        .args(["--n", "200", "--videos", "0", "--docs", "0", "--jobs", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make_corpus.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let corpus = common::corpus::load(dir.path());
    assert_eq!(corpus.files.len(), 200);
    assert_eq!(corpus.near_pairs.len(), 20);
    let hashes = common::corpus::hash_all(&corpus, Variant::ZigzagAc, 2);
    let scores = common::corpus::score(&corpus, &hashes, &[0, DEFAULT_MAX_DISTANCE]);
    for s in &scores {
        eprintln!(
            "d {}: recall {:.3} ({}/{}), precision {:.3} ({}/{} reported, {} byte-identical)",
            s.d,
            s.recall(),
            s.near_found,
            s.near_total,
            s.precision(),
            s.correct,
            s.reported,
            s.byte_identical
        );
    }
    let exact = scores[0];
    // Byte copies are always at distance 0.
    assert!(exact.byte_identical >= 10, "{exact:?}");
    let s = scores[1];
    assert!(s.recall() >= 0.85, "recall at d={}: {:.3}", s.d, s.recall());
    assert!(
        s.precision() >= 0.97,
        "precision at d={}: {:.3}",
        s.d,
        s.precision()
    );
    assert!(
        s.reported > exact.reported,
        "near-duplicates beyond byte copies must be found"
    );
}
