//! Damaged AVIF containers never panic the asking process and never take long: fixed-seed
//! mutations of the fixtures (a single picture, a grid of tiles, a turned and mirrored
//! picture) run through the whole hashing path with a stand-in decoder. The real decoder
//! runs in a child process and may abort there (the `custody` tests give it damaged
//! streams); what runs here is everything on the asking side: the box parser, the size
//! and grid checks, putting tiles together, the transforms, the hash.

#[path = "common/fixtures.rs"]
mod fixtures;

use std::time::{Duration, Instant};

use custody_similar::{Av1Decoder, Av1Failure, Av1Picture, hash_bytes, install_av1_decoder};
use custody_testkit::data::Rng;
use fixtures::data;

/// Answers with a flat picture of the size the request allows when that is a square
/// or a known fixture size, and refuses otherwise: enough to reach the grid and
/// transform code with pictures of the declared size and of other sizes.
struct StandIn;

impl Av1Decoder for StandIn {
    fn decode(&self, obus: &[u8], max_pixels: u64) -> Result<Av1Picture, Av1Failure> {
        let sizes = [(480, 360), (240, 180), (360, 480), (64, 64), (8, 8)];
        let pick = obus.len() % (sizes.len() + 1);
        let Some(&(width, height)) = sizes.get(pick) else {
            return Err(Av1Failure::Refused("the stand-in refuses".into()));
        };
        if u64::from(width) * u64::from(height) > max_pixels {
            return Err(Av1Failure::Refused("larger than allowed".into()));
        }
        Ok(Av1Picture {
            width,
            height,
            luma: vec![(obus.len() % 251) as u8; (width * height) as usize],
        })
    }
}

/// One to four edits, half of them within the first 1 KiB (the boxes).
fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut d = src.to_vec();
    for _ in 0..1 + rng.below(4) {
        if d.is_empty() {
            break;
        }
        let span = if rng.below(2) == 0 {
            d.len().min(1024)
        } else {
            d.len()
        };
        let at = rng.below(span);
        match rng.below(6) {
            0 => d[at] ^= 1 << rng.below(8),
            1 => d[at] = [0x00, 0x01, 0x02, 0xFF, 0x7F, 0x80][rng.below(6)],
            2 => d[at] = rng.bits() as u8,
            3 => d.truncate(at),
            4 => {
                let end = (at + rng.below(32)).min(d.len());
                d.drain(at..end);
            }
            _ => {
                let end = (at + rng.below(32)).min(d.len());
                let chunk = d[at..end].to_vec();
                let to = rng.below(d.len());
                d.splice(to..to, chunk);
            }
        }
    }
    d
}

#[test]
fn damaged_avif_containers_are_refused_or_hashed_never_a_panic() {
    install_av1_decoder(Box::new(StandIn));
    let mut rng = Rng(0x5EED_A71F);
    let (mut hashed, mut refused) = (0, 0);
    let mut slowest = Duration::ZERO;
    for name in [
        "picture.avif",
        "picture_grid.avif",
        "picture_turned_mirrored.avif",
    ] {
        let src = std::fs::read(data(name)).unwrap();
        for _ in 0..1500 {
            let damaged = mutate(&mut rng, &src);
            let started = Instant::now();
            match hash_bytes(&damaged, "image/avif") {
                Ok(_) => hashed += 1,
                Err(e) => {
                    assert!(e.to_string().starts_with("could not hash: "), "{e}");
                    refused += 1;
                }
            }
            slowest = slowest.max(started.elapsed());
        }
    }
    eprintln!("{hashed} hashed, {refused} refused, slowest {slowest:?}");
    assert!(
        hashed > 0 && refused > 0,
        "{hashed} hashed, {refused} refused"
    );
    assert!(slowest < Duration::from_secs(2), "slowest {slowest:?}");
}
