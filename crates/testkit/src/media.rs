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
