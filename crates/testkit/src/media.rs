//! Test media made by ffmpeg (videos in every container and codec the readers take), so
//! that tests check against the reference tool's own files. Tests skip, saying so,
//! where ffmpeg is not installed.

use std::path::Path;
use std::process::Command;

/// Whether ffmpeg can be run; says that the test skips when it cannot.
pub fn have_ffmpeg() -> bool {
    let ok = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: ffmpeg is not installed (it makes the test videos)");
    }
    ok
}

/// Runs ffmpeg quietly with `args` (in `dir`, if given), overwriting its outputs; a
/// failure fails the test with ffmpeg's message.
pub fn ffmpeg(dir: Option<&Path>, args: &[&str]) {
    let mut cmd = Command::new("ffmpeg");
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = cmd
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Matroska (EBML) element with an 8-byte size: its ID as written (1 to 4 bytes,
/// length marker included) and its data. For building Matroska and WebM files in tests.
pub fn ebml(id: u32, data: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = id
        .to_be_bytes()
        .into_iter()
        .skip_while(|&b| b == 0)
        .collect();
    v.push(0x01);
    v.extend_from_slice(&(data.len() as u64).to_be_bytes()[1..]);
    v.extend_from_slice(data);
    v
}

/// A RIFF chunk (AVI, WAV): its ID, its data's size (32 bits, little-endian), its data,
/// and a padding byte after odd-sized data when `padded` (as the format asks; some
/// writers leave it out). For building AVI files in tests.
pub fn riff_chunk(id: &[u8; 4], data: &[u8], padded: bool) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend((data.len() as u32).to_le_bytes());
    c.extend(data);
    if padded && data.len() % 2 == 1 {
        c.push(0);
    }
    c
}
