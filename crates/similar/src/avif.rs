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
    if data.len() < 16 || &data[4..8] != b"ftyp" {
        return false;
    }
    let major = &data[8..12];
    let size = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
    let brands = data.get(16..size.clamp(16, data.len())).unwrap_or(&[]);
    std::iter::once(major)
        .chain(brands.chunks_exact(4))
        .any(|b| b == b"avif" || b == b"avis")
}

/// The upright 32×32 grid of the file's primary image.
pub(crate) fn grid(data: &[u8]) -> Result<phash::Grid, HashError> {
    let meta = meta::parse(data).map_err(|e| decode_error(e.to_string()))?;
    let primary = meta
        .primary_item()
        .map_err(|e| decode_error(e.to_string()))?;
    let props =
        heic_rs::props::gather(&meta.props, primary.id).map_err(|e| decode_error(e.to_string()))?;
    if let Some(ispe) = props.ispe {
        check_size(ispe.width, ispe.height)?;
    }
    let picture = match &primary.item_type {
        b"av01" => tile(&meta, data, primary.id)?,
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

/// One AV1-coded item: its configuration's OBUs (the sequence header), then its data.
fn tile(meta: &Meta<'_>, data: &[u8], id: u32) -> Result<av1::Av1Picture, HashError> {
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
    // The child decodes while this waits: its picture takes its turn in the budget,
    // sized by what the file declares.
    let declared = heic_rs::props::gather(&meta.props, id)
        .ok()
        .and_then(|p| p.ispe)
        .map_or(0, |i| u64::from(i.width) * u64::from(i.height));
    let _held = crate::budget::take(declared.saturating_mul(8));
    av1::decode(&obus, MAX_PIXELS, FORMAT)
}

/// A grid of AV1-coded tiles, put together and cropped to the grid's output size.
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
    let (out_w, out_h) = (grid.output_width as usize, grid.output_height as usize);
    let mut luma = vec![0u8; out_w * out_h];
    let mut size = None;
    for (n, &tile_id) in tiles.iter().enumerate() {
        let t = tile(meta, data, tile_id)?;
        let (tw, th) = (t.width as usize, t.height as usize);
        if *size.get_or_insert((tw, th)) != (tw, th) {
            return Err(decode_error("the grid's tiles differ in size".into()));
        }
        let (row, col) = (n / grid.columns as usize, n % grid.columns as usize);
        let (x0, y0) = (col * tw, row * th);
        for y in 0..th {
            let oy = y0 + y;
            if oy >= out_h || x0 >= out_w {
                break;
            }
            let width = tw.min(out_w - x0);
            luma[oy * out_w + x0..oy * out_w + x0 + width]
                .copy_from_slice(&t.luma[y * tw..y * tw + width]);
        }
    }
    // Tiles that together fall short of the output leave part of it unpainted.
    let (tw, th) = size.unwrap_or((0, 0));
    if tw * (grid.columns as usize) < out_w || th * (grid.rows as usize) < out_h {
        return Err(decode_error(
            "the grid's tiles do not cover its picture".into(),
        ));
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
