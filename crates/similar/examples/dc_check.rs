//! Lists the JPEGs under a folder that the DC-only path declines, with the reason.
//!
//! ```text
//! cargo run --release -p custody-similar --example dc_check -- DIR
//! ```

use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable folder").flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| x.eq_ignore_ascii_case("jpg") || x.eq_ignore_ascii_case("jpeg"))
        {
            out.push(p);
        }
    }
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: dc_check DIR"));
    let mut files = Vec::new();
    walk(&dir, &mut files);
    files.sort();
    let mut declined = 0;
    for f in &files {
        let data = std::fs::read(f).expect("readable file");
        if let Err(why) = custody_similar::testing::dc_luma(&data) {
            declined += 1;
            println!("{}: {why}", f.display());
        }
    }
    println!(
        "{} of {} JPEGs declined by the DC-only path",
        declined,
        files.len()
    );
}
