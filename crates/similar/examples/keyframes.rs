//! Hashes the keyframes of each video given and prints them with the time taken:
//! `cargo run --release -p custody-similar --example keyframes -- FILE...`

fn main() {
    for path in std::env::args().skip(1) {
        let t = std::time::Instant::now();
        match custody_similar::hash_keyframes_path(std::path::Path::new(&path)) {
            Ok(frames) => {
                let list: Vec<String> = frames
                    .iter()
                    .map(|k| format!("{} ms {}", k.at_ms, k.hash))
                    .collect();
                println!(
                    "{path}: {:.3} s: {}",
                    t.elapsed().as_secs_f64(),
                    list.join(", ")
                );
            }
            Err(e) => println!("{path}: {:.3} s: {e}", t.elapsed().as_secs_f64()),
        }
    }
}
