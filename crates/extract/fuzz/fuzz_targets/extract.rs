//! Every parser behind `extract_reader`: the first byte picks the media type the
//! input is declared as, so each container walker (and the EXIF, XMP, PDF, GeoTIFF
//! and BMFF readers behind them) sees every input, whatever its real content.
#![no_main]

use libfuzzer_sys::fuzz_target;

const TYPES: [&str; 11] = [
    "application/octet-stream",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "image/webp",
    "image/heif",
    "video/mp4",
    "video/quicktime",
    "application/pdf",
    "video/webm",
    "video/x-msvideo",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let media_type = TYPES[pick as usize % TYPES.len()];
    let len = rest.len() as u64;
    let md = custody_extract::extract_reader(&mut std::io::Cursor::new(rest), len, media_type);
    assert!(
        md.problems
            .iter()
            .all(|p| p.starts_with("could not extract: "))
    );
});
