//! Prints the metadata record of each file named on the command line as JSON.
//!
//! `cargo run -p custody-extract --example extract_dump -- FILE...`

fn main() {
    for arg in std::env::args().skip(1) {
        let md =
            custody_extract::extract_path(std::path::Path::new(&arg), "application/octet-stream");
        match serde_json::to_string_pretty(&md) {
            Ok(j) => println!("{j}"),
            Err(e) => eprintln!("{arg}: cannot render the record: {e}"),
        }
    }
}
