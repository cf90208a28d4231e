//! Real phones' HEIC/HEIF photographs (../shared/testdata/exif/heic) hash as the
//! reference decoder shows them: each file is also decoded by libheif's `heif-convert`
//! (which applies the file's rotation and mirroring, as the hash must), and that PNG,
//! hashed through the general decoder, must be within a few bits.
//!
//! `heif-convert` writes upright pixels but copies the EXIF block, Orientation included,
//! into the PNG; applied again, that would turn the picture twice. The PNG's `eXIf`
//! chunk is dropped before hashing, so the reference is what libheif displays.

use std::path::{Path, PathBuf};
use std::process::Command;

use custody_similar::{PHash, hash_bytes, hash_path};

fn heif_files(shared: &Path) -> Vec<PathBuf> {
    let dir = shared.join("testdata/exif/heic");
    let mut out = Vec::new();
    for sub in [dir.clone(), dir.join("mobile")] {
        for e in std::fs::read_dir(&sub).unwrap().flatten() {
            let p = e.path();
            let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
            if ext.eq_ignore_ascii_case("heic") || ext.eq_ignore_ascii_case("heif") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn reference_hash(file: &Path, tmp: &Path) -> PHash {
    let png = tmp.join(format!(
        "{}.png",
        file.file_name().unwrap().to_string_lossy()
    ));
    let out = Command::new("heif-convert")
        .arg(file)
        .arg(&png)
        .output()
        .expect("run heif-convert");
    assert!(
        out.status.success(),
        "heif-convert {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    hash_bytes(&without_exif(&std::fs::read(&png).unwrap()), "image/png").unwrap()
}

/// The PNG without its `eXIf` chunk (chunks: length, type, data, CRC).
fn without_exif(png: &[u8]) -> Vec<u8> {
    let mut out = png[..8].to_vec();
    let mut at = 8;
    while at + 12 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let end = at + 12 + len;
        if &png[at + 4..at + 8] != b"eXIf" {
            out.extend_from_slice(&png[at..end]);
        }
        at = end;
    }
    out
}

#[test]
fn phone_photographs_hash_as_the_reference_decoder_shows_them() {
    let Some(shared) = custody_similar::testing::shared_dir() else {
        return;
    };
    if Command::new("heif-convert")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: heif-convert (libheif-examples) is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut files = heif_files(&shared);
    assert!(
        files.len() >= 5,
        "expected the five shared HEIF files: {files:?}"
    );
    // The crate's own HEIC turned and mirrored by its properties (`irot`, `imir`).
    files.push(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/picture_turned_mirrored.heic"),
    );
    let mut ours = Vec::new();
    for f in &files {
        let h = hash_path(f, "image/heif").unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let r = reference_hash(f, tmp.path());
        eprintln!(
            "{}: {h} reference {r}, distance {}",
            f.display(),
            h.distance(&r)
        );
        ours.push((f, h, r));
    }
    for (f, h, r) in &ours {
        assert!(
            h.distance(r) <= 3,
            "{}: {h} is {} bits from the reference decoding's {r}",
            f.display(),
            h.distance(r)
        );
    }
}
