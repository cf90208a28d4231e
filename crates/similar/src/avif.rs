//! AVIF stills: the HEIF container (read by `heic-rs`'s box parser) around AV1-coded
//! pictures, decoded by the installed AV1 decoder ([`crate::av1`]), luma only.
//!
//! As with HEIC ([`crate::heif`]), the picture is the one the file says is displayed: a
//! grid of tiles is put together, then `clap`, `irot` and `imir` are applied in the
//! order the file lists them, and an EXIF Orientation inside the file is not applied
//! on top. `heic-rs` mirrors about the other axis from libheif; a mirrored picture is
//! turned half round afterwards, as for HEIC, so the hash follows libheif.

use std::borrow::Cow;

use heic_rs::meta::iref::{self, RefKind};
use heic_rs::meta::{self, Meta};
use heic_rs::{Image, PixelLayout};

use crate::{HashError, MAX_PIXELS, av1, phash};

const FORMAT: &str = "AVIF";

/// Most tiles a grid may have.
const MAX_TILES: u64 = 4096;

/// Whether `data` begins with an ISO base media `ftyp` box naming AVIF, as its major
/// brand or among its compatible ones.
pub(crate) fn sniff(data: &[u8]) -> bool {
    crate::heif::names_brand(data, |b| b == b"avif" || b == b"avis")
}

/// Whether the file's primary picture is AV1-coded (an `av01` item, or a grid whose
/// first tile is one), whatever brands the file names: the item decides the decoder.
pub(crate) fn holds_av1(data: &[u8]) -> bool {
    let Ok(meta) = meta::parse(data) else {
        return false;
    };
    let Ok(primary) = meta.primary_item() else {
        return false;
    };
    match &primary.item_type {
        b"av01" => true,
        b"grid" => iref::targets(&meta.refs, primary.id, RefKind::Dimg)
            .first()
            .and_then(|&t| meta.item(t))
            .is_some_and(|t| &t.item_type == b"av01"),
        _ => false,
    }
}

/// The upright 32×32 grid of the file's primary image.
pub(crate) fn grid(data: &[u8]) -> Result<phash::Grid, HashError> {
    let meta = meta::parse(data).map_err(|e| decode_error(e.to_string()))?;
    let primary = meta
        .primary_item()
        .map_err(|e| decode_error(e.to_string()))?;
    let props =
        heic_rs::props::gather(&meta.props, primary.id).map_err(|e| decode_error(e.to_string()))?;
    let picture = match &primary.item_type {
        b"av01" => {
            let (w, h) = declared(&meta, primary.id)?;
            let pixels = u64::from(w) * u64::from(h);
            // The decoding child refuses a picture larger than declared before
            // allocating it, so the declared size is what it may hold: it takes its
            // turn in the budget so.
            let _held = crate::budget::take(pixels.saturating_mul(8));
            tile(&meta, data, primary.id, pixels)?
        }
        b"grid" => tiled(&meta, data, primary.id)?,
        other => {
            return Err(decode_error(format!(
                "the primary picture is coded as `{}`, not AV1",
                String::from_utf8_lossy(other)
            )));
        }
    };
    let image = Image {
        data: picture.luma,
        width: picture.width,
        height: picture.height,
        layout: PixelLayout::Gray8,
    };
    let image = heic_rs::transform::apply_all(image, &props.transforms)
        .map_err(|e| decode_error(e.to_string()))?;
    let (w, h) = (image.width as usize, image.height as usize);
    if w == 0 || h == 0 || image.data.len() < w * h {
        return Err(decode_error("the image is empty".into()));
    }
    let grid = phash::grid_of_rows(w, h, image.data.chunks_exact(w), 1.0);
    let mirrored = props.mirror().is_some();
    // EXIF orientation 3: a half turn.
    Ok(phash::orient(&grid, if mirrored { 3 } else { 1 }))
}

/// The size an AV1-coded item declares (`ispe`, which every image item must have),
/// within the pixel limit.
fn declared(meta: &Meta<'_>, id: u32) -> Result<(u32, u32), HashError> {
    let props = heic_rs::props::gather(&meta.props, id).map_err(|e| decode_error(e.to_string()))?;
    let ispe = props
        .ispe
        .ok_or_else(|| decode_error(format!("item {id} does not declare its size (ispe)")))?;
    check_size(ispe.width, ispe.height)?;
    if ispe.width == 0 || ispe.height == 0 {
        return Err(decode_error(format!("item {id} declares an empty picture")));
    }
    Ok((ispe.width, ispe.height))
}

/// One AV1-coded item, decoded no larger than `pixels` (its declared size): its
/// configuration's OBUs (the sequence header), then its data. The caller holds its
/// share of the budget.
fn tile(meta: &Meta<'_>, data: &[u8], id: u32, pixels: u64) -> Result<av1::Av1Picture, HashError> {
    let config = meta
        .props
        .find(id, b"av1C")
        .ok_or_else(|| decode_error(format!("item {id} has no AV1 configuration (av1C)")))?;
    // Four bytes of fields, then the configuration OBUs.
    let config_obus = config.payload.get(4..).unwrap_or(&[]);
    let item: Cow<'_, [u8]> = meta
        .item_data(data, id)
        .map_err(|e| decode_error(e.to_string()))?;
    let mut obus = Vec::with_capacity(config_obus.len() + item.len());
    obus.extend_from_slice(config_obus);
    obus.extend_from_slice(&item);
    av1::decode(&obus, pixels, FORMAT)
}

/// A grid of AV1-coded tiles, put together and cropped to the grid's output size.
/// Everything is checked against what the file declares before any tile is decoded:
/// each tile named once, all of one declared size, together covering the output with
/// no column or row wholly outside it.
fn tiled(meta: &Meta<'_>, data: &[u8], id: u32) -> Result<av1::Av1Picture, HashError> {
    let description = meta
        .item_data(data, id)
        .map_err(|e| decode_error(e.to_string()))?;
    let grid = heic_rs::grid::parse(&description).map_err(|e| decode_error(e.to_string()))?;
    check_size(grid.output_width, grid.output_height)?;
    if grid.tile_count() > MAX_TILES {
        return Err(decode_error(format!(
            "the grid has {} tiles, more than {MAX_TILES}",
            grid.tile_count()
        )));
    }
    let tiles = iref::targets(&meta.refs, id, RefKind::Dimg);
    heic_rs::grid::check_tiles(&grid, tiles).map_err(|e| decode_error(e.to_string()))?;
    let mut named = std::collections::HashSet::new();
    if let Some(t) = tiles.iter().find(|&&t| !named.insert(t) || t == id) {
        return Err(decode_error(format!(
            "the grid names item {t} more than once"
        )));
    }
    let (tw, th) = declared(meta, tiles[0])?;
    for &t in &tiles[1..] {
        if declared(meta, t)? != (tw, th) {
            return Err(decode_error(
                "the grid's tiles declare different sizes".into(),
            ));
        }
    }
    let (cols, rows) = (grid.columns, grid.rows);
    let fits = |tile: u32, n: u32, out: u32| {
        let (tile, n, out) = (u64::from(tile), u64::from(n), u64::from(out));
        tile * n >= out && tile * (n - 1) < out
    };
    if !fits(tw, cols, grid.output_width) || !fits(th, rows, grid.output_height) {
        return Err(decode_error(format!(
            "the grid's {cols}×{rows} tiles of {tw}×{th} do not fit its {}×{} picture",
            grid.output_width, grid.output_height
        )));
    }
    let (out_w, out_h) = (grid.output_width as usize, grid.output_height as usize);
    // One share for the canvas and the one tile decoded at a time, taken once: a
    // second share taken while holding the first could wait for ever.
    let tile_pixels = u64::from(tw) * u64::from(th);
    let _held = crate::budget::take((out_w * out_h) as u64 + tile_pixels.saturating_mul(8));
    let mut luma = vec![0u8; out_w * out_h];
    let (tw, th) = (tw as usize, th as usize);
    for (n, &tile_id) in tiles.iter().enumerate() {
        let t = tile(meta, data, tile_id, tile_pixels)?;
        if (t.width as usize, t.height as usize) != (tw, th) {
            return Err(decode_error(format!(
                "tile {} decodes to {}×{}, not the {tw}×{th} it declares",
                n + 1,
                t.width,
                t.height
            )));
        }
        let (row, col) = (n / cols as usize, n % cols as usize);
        let (x0, y0) = (col * tw, row * th);
        let width = tw.min(out_w - x0);
        for y in 0..th.min(out_h - y0) {
            let at = (y0 + y) * out_w + x0;
            luma[at..at + width].copy_from_slice(&t.luma[y * tw..y * tw + width]);
        }
    }
    Ok(av1::Av1Picture {
        width: grid.output_width,
        height: grid.output_height,
        luma,
    })
}

fn check_size(width: u32, height: u32) -> Result<(), HashError> {
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(HashError::TooLarge {
            width,
            height,
            max: MAX_PIXELS,
        });
    }
    Ok(())
}

fn decode_error(detail: String) -> HashError {
    HashError::Decode {
        format: FORMAT,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avif_brands_are_recognised_and_others_are_not() {
        let ftyp = |major: &[u8; 4], compatible: &[u8]| {
            let mut v = ((16 + compatible.len()) as u32).to_be_bytes().to_vec();
            v.extend_from_slice(b"ftyp");
            v.extend_from_slice(major);
            v.extend_from_slice(&[0; 4]);
            v.extend_from_slice(compatible);
            v
        };
        assert!(sniff(&ftyp(b"avif", b"mif1miaf")));
        assert!(sniff(&ftyp(b"mif1", b"avifmiaf")));
        assert!(sniff(&ftyp(b"avis", b"")));
        assert!(!sniff(&ftyp(b"heic", b"mif1heic")));
        assert!(!sniff(&ftyp(b"isom", b"mp41")));
        assert!(!sniff(b"\0\0\0\x18ftypav"));
    }

    #[test]
    fn damaged_avif_says_what_failed() {
        let e = grid(b"\0\0\0\x10ftypavif\0\0\0\0").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("could not hash: the AVIF data cannot be decoded"),
            "{msg}"
        );
    }
}
