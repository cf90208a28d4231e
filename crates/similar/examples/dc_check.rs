//! Lists the JPEGs under a folder that the DC-only path declines, with the reason.
//!
//! ```text
//! cargo run --release -p custody-similar --example dc_check -- DIR
//! ```

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: dc_check DIR"));
    let files = custody_similar::testing::jpeg_files(&dir);
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
