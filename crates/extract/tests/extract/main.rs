//! Integration tests for custody-extract, against real files and real tools.
//!
//! Sample files come from the shared test data (`../shared/testdata/` beside the
//! repository); when it is absent, each test that needs it says so and passes.

mod c2pa;
mod exiftool_reference;
mod formats;
mod robustness;
mod synth;

use std::path::PathBuf;

/// `../shared/<rel>` beside the repository, or `None` (with a message) when absent.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} not found", p.display());
        None
    }
}
