//! MPEG-1 and MPEG-2 video intra pictures, read at 1/8 scale: the DC coefficient of
//! every 8×8 luma block gives its mean, as JPEG's does (`docs/design/near-duplicates.md`
//! §2, "MPEG-1 and MPEG-2 video").
//!
//! Broadcast recordings (DVB, ATSC), DVDs and older camcorders and recorders hold MPEG-2
//! video; `.mpg` files from older tools, MPEG-1. Their keyframes are I pictures: every
//! macroblock intra coded, each block's DC coefficient predicted from the block before
//! it in the slice. AC coefficients are only stepped over: their codes' lengths are
//! enough, so neither dequantisation nor a transform is needed.
//!
//! Read: 4:2:0, 4:2:2 and 4:4:4; frame pictures with frame or field DCT (a field-coded
//! macroblock's two left and two right blocks are averaged, as they cover the same
//! sixteen rows); field pictures (the first field of the keyframe, half the height);
//! both coefficient tables; concealment motion vectors. Refused: scalable extensions,
//! MPEG-1 D pictures, a macroblock skipped or missing in an intra picture, a picture
//! larger than [`MAX_FRAME_PIXELS`].

use std::ops::Range;
use std::sync::OnceLock;

use super::{MAX_FRAME_PIXELS, corrupt};
use crate::{HashError, phash};

/// Start codes (the byte after `00 00 01`).
const PICTURE: u8 = 0x00;
const SLICE_LAST: u8 = 0xAF;
const SEQUENCE: u8 = 0xB3;
const EXTENSION: u8 = 0xB5;

/// Extension identifiers (the first four bits after an extension start code).
const SEQUENCE_EXTENSION: u8 = 1;
const SCALABLE_EXTENSION: u8 = 5;
const PICTURE_CODING_EXTENSION: u8 = 8;

/// The internal type under which a sequence extension is kept beside the sequence
/// header as the stream's parameters (`0xB1` is a reserved start code, never in a
/// stream).
pub(super) const SEQUENCE_EXTENSION_KIND: u8 = 0xB1;

/// What an extension start code's unit is, by its identifier.
pub(super) fn extension_id(unit: &[u8]) -> Option<u8> {
    match unit {
        [EXTENSION, b, ..] => Some(b >> 4),
        _ => None,
    }
}

/// Whether a picture header's unit codes an I picture.
pub(super) fn is_intra_picture(unit: &[u8]) -> bool {
    unit.first() == Some(&PICTURE) && unit.get(2).is_some_and(|b| (b >> 3) & 7 == 1)
}

/// How many frames the units hold: each picture header a frame, except that a pair of
/// field pictures (told by the picture coding extension after each header) makes one;
/// at least one.
pub(super) fn frames_in<'a>(units: impl Iterator<Item = &'a [u8]>) -> u64 {
    let (mut frames, mut fields, mut pending) = (0u64, 0u64, false);
    for unit in units {
        match unit.first() {
            Some(&PICTURE) => {
                frames += u64::from(pending);
                pending = true;
            }
            Some(&EXTENSION) if pending && extension_id(unit) == Some(PICTURE_CODING_EXTENSION) => {
                pending = false;
                // picture_structure: the low two bits of the third byte after the id's.
                match unit.get(3).map(|b| b & 3) {
                    Some(1 | 2) => fields += 1,
                    _ => frames += 1,
                }
            }
            _ => {}
        }
    }
    // A picture without a coding extension (MPEG-1) is a frame.
    (frames + u64::from(pending) + fields.div_ceil(2)).max(1)
}

/// A frame's length in 90 kHz ticks, from a sequence header's `frame_rate_code`
/// (rounded to the tick for the rates of 1001 parts).
pub(super) fn frame_ticks(unit: &[u8]) -> Option<u64> {
    if unit.first() != Some(&SEQUENCE) {
        return None;
    }
    match unit.get(4)? & 0x0F {
        1 => Some(3754), // 24000/1001
        2 => Some(3750), // 24
        3 => Some(3600), // 25
        4 => Some(3003), // 30000/1001
        5 => Some(3000), // 30
        6 => Some(1800), // 50
        7 => Some(1502), // 60000/1001
        8 => Some(1500), // 60
        _ => None,
    }
}

/// Width and height a sequence header declares (without a sequence extension's high
/// bits, which only pictures above 4095 pixels need).
pub(super) fn sequence_size(unit: &[u8]) -> Option<(u32, u32)> {
    if unit.first() != Some(&SEQUENCE) || unit.len() < 4 {
        return None;
    }
    let w = (u32::from(unit[1]) << 4) | u32::from(unit[2] >> 4);
    let h = (u32::from(unit[2] & 0x0F) << 8) | u32::from(unit[3]);
    (w > 0 && h > 0).then_some((w, h))
}

/// The upright 32×32 grid of the I picture whose units (each after its start code,
/// the start code's byte first) are `units` of `bytes`: the sequence header, its
/// extension, the picture header and its extensions, and the slices.
pub(super) fn decode(bytes: &[u8], units: &[Range<usize>]) -> Result<phash::Grid, HashError> {
    let mut seq: Option<Sequence> = None;
    let mut picture: Option<Picture> = None;
    let mut plane: Option<Plane> = None;
    for r in units {
        let unit = &bytes[r.clone()];
        let Some(&code) = unit.first() else { continue };
        match code {
            SEQUENCE => seq = Some(Sequence::read(unit)?),
            EXTENSION => {
                let s = seq
                    .as_mut()
                    .ok_or_else(|| err("an extension before any sequence header"))?;
                match extension_id(unit) {
                    Some(SEQUENCE_EXTENSION) => s.extend(unit)?,
                    Some(SCALABLE_EXTENSION) => {
                        return Err(err("a scalable extension (layers are not read)"));
                    }
                    Some(PICTURE_CODING_EXTENSION) => {
                        let p = picture.as_mut().ok_or_else(|| {
                            err("a picture coding extension before its picture header")
                        })?;
                        p.extend(unit)?;
                    }
                    _ => {}
                }
            }
            PICTURE => {
                if plane.is_some() {
                    // A second picture (the second field): the first is the keyframe.
                    break;
                }
                if seq.is_none() {
                    return Err(err("a picture before any sequence header"));
                }
                picture = Some(Picture::read(unit)?);
            }
            1..=SLICE_LAST => {
                // The end of the picture before, in a packet that began inside it.
                let Some(p) = picture.as_ref() else { continue };
                let s = seq
                    .as_ref()
                    .ok_or_else(|| err("a slice before any sequence header"))?;
                let plane = match &mut plane {
                    Some(pl) => pl,
                    None => plane.insert(Plane::new(s, p)?),
                };
                slice(unit, s, p, plane)?;
            }
            _ => {}
        }
    }
    let plane = plane.ok_or_else(|| err("the keyframe holds no slice"))?;
    plane.grid()
}

fn err(what: &str) -> HashError {
    corrupt(format!("MPEG video: {what}"))
}

/// What the sequence header and its extension say.
#[derive(Clone, Debug)]
struct Sequence {
    width: u32,
    height: u32,
    /// MPEG-2 (a sequence extension follows the header); MPEG-1 otherwise.
    mpeg2: bool,
    progressive: bool,
    /// 1: 4:2:0, 2: 4:2:2, 3: 4:4:4.
    chroma: u8,
}

impl Sequence {
    fn read(unit: &[u8]) -> Result<Sequence, HashError> {
        let (width, height) =
            sequence_size(unit).ok_or_else(|| err("a sequence header without a picture size"))?;
        Ok(Sequence {
            width,
            height,
            mpeg2: false,
            progressive: true,
            chroma: 1,
        })
    }

    fn extend(&mut self, unit: &[u8]) -> Result<(), HashError> {
        let mut r = Reader::new(unit.get(1..).unwrap_or(&[]));
        r.skip(4 + 8); // identifier, profile and level
        self.progressive = r.bit() == 1;
        self.chroma = r.bits(2) as u8;
        let (wx, hx) = (r.bits(2), r.bits(2));
        if r.overrun() || self.chroma == 0 {
            return Err(err("a damaged sequence extension"));
        }
        self.width |= wx << 12;
        self.height |= hx << 12;
        self.mpeg2 = true;
        Ok(())
    }

    fn mb_width(&self) -> usize {
        (self.width as usize).div_ceil(16)
    }
}

/// What a picture header and its coding extension say.
#[derive(Clone, Debug)]
struct Picture {
    /// 3: a frame; 1 or 2: a top or bottom field.
    structure: u8,
    intra_dc_precision: u8,
    frame_pred_frame_dct: bool,
    concealment: bool,
    intra_vlc: bool,
    /// `f_code[0][0]` and `f_code[0][1]`, for concealment motion vectors.
    f_code: [u32; 2],
}

impl Picture {
    fn read(unit: &[u8]) -> Result<Picture, HashError> {
        let kind = unit.get(2).map(|b| (b >> 3) & 7);
        match kind {
            Some(1) => {}
            Some(4) => return Err(err("an MPEG-1 D picture (DC only) is not read")),
            _ => return Err(err("the keyframe is not an I picture")),
        }
        Ok(Picture {
            structure: 3,
            intra_dc_precision: 0,
            frame_pred_frame_dct: true,
            concealment: false,
            intra_vlc: false,
            f_code: [15, 15],
        })
    }

    fn extend(&mut self, unit: &[u8]) -> Result<(), HashError> {
        let mut r = Reader::new(unit.get(1..).unwrap_or(&[]));
        r.skip(4);
        let f00 = r.bits(4);
        let f01 = r.bits(4);
        r.skip(8); // backward f_codes
        self.f_code = [f00, f01];
        self.intra_dc_precision = r.bits(2) as u8;
        self.structure = r.bits(2) as u8;
        r.skip(1); // top_field_first
        self.frame_pred_frame_dct = r.bit() == 1;
        self.concealment = r.bit() == 1;
        r.skip(1); // q_scale_type
        self.intra_vlc = r.bit() == 1;
        if r.overrun() || self.structure == 0 {
            return Err(err("a damaged picture coding extension"));
        }
        Ok(())
    }

    fn is_frame(&self) -> bool {
        self.structure == 3
    }
}

/// The means of a picture's 8×8 luma blocks, filled in as macroblocks are read (shared
/// with the MPEG-4 Part 2 reader).
pub(super) struct Plane {
    mb_width: usize,
    mb_height: usize,
    /// Blocks per row (two per macroblock) and their means, row after row.
    cols: usize,
    means: Vec<f32>,
    /// Macroblocks read.
    done: Vec<bool>,
    width: u32,
    height: u32,
}

impl Plane {
    fn new(s: &Sequence, p: &Picture) -> Result<Plane, HashError> {
        let pixels = u64::from(s.width) * u64::from(s.height);
        if pixels > MAX_FRAME_PIXELS {
            return Err(HashError::TooLarge {
                width: s.width,
                height: s.height,
                max: MAX_FRAME_PIXELS,
            });
        }
        let (height, mb_height) = if !p.is_frame() {
            // A field: every other line of the frame.
            (s.height.div_ceil(2), (s.height as usize).div_ceil(32))
        } else if s.mpeg2 && !s.progressive {
            (s.height, 2 * (s.height as usize).div_ceil(32))
        } else {
            (s.height, (s.height as usize).div_ceil(16))
        };
        Ok(Plane::sized(s.width, height, s.mb_width(), mb_height))
    }

    /// A `width`×`height` picture of `mb_width`×`mb_height` macroblocks, none read yet
    /// (the caller has checked its size).
    pub(super) fn sized(width: u32, height: u32, mb_width: usize, mb_height: usize) -> Plane {
        let cols = 2 * mb_width;
        Plane {
            mb_width,
            mb_height,
            cols,
            means: vec![0.0; cols * 2 * mb_height],
            done: vec![false; mb_width * mb_height],
            width,
            height,
        }
    }

    /// Puts a macroblock's four luma means (in coding order) in their places; with
    /// field DCT, each of its halves is the mean of its two field blocks.
    pub(super) fn put(&mut self, address: usize, dc: [f32; 4], field_dct: bool) {
        let (row, col) = (address / self.mb_width, address % self.mb_width);
        let at = |r: usize, c: usize| (2 * row + r) * self.cols + 2 * col + c;
        let blocks = if field_dct {
            let (left, right) = ((dc[0] + dc[2]) / 2.0, (dc[1] + dc[3]) / 2.0);
            [left, right, left, right]
        } else {
            dc
        };
        for (i, v) in blocks.into_iter().enumerate() {
            let k = at(i / 2, i % 2);
            self.means[k] = v;
        }
        self.done[address] = true;
    }

    /// The grid, once every macroblock is read.
    pub(super) fn grid(self) -> Result<phash::Grid, HashError> {
        let read = self.done.iter().filter(|&&d| d).count();
        if read < self.done.len() {
            return Err(corrupt(format!(
                "the keyframe's data covers {read} of its {} macroblocks",
                self.done.len()
            )));
        }
        let mut b = phash::GridBuilder::new(
            self.cols,
            2 * self.mb_height,
            8.0,
            8.0,
            self.width,
            self.height,
        );
        for (r, row) in self.means.chunks_exact(self.cols).enumerate() {
            b.add_row(r, row);
        }
        Ok(b.finish())
    }
}

/// Reads one slice's macroblocks into `plane`.
fn slice(unit: &[u8], s: &Sequence, p: &Picture, plane: &mut Plane) -> Result<(), HashError> {
    let mut r = Reader::new(&unit[1..]);
    let mut row = usize::from(unit[0]) - 1;
    // MPEG-2 only: an MPEG-1 picture that tall has slices that span rows.
    if s.mpeg2 && s.height > 2800 {
        row += (r.bits(3) as usize) << 7;
    }
    if row >= plane.mb_height {
        return Err(err("a slice below the picture"));
    }
    r.skip(5); // quantiser_scale_code
    if s.mpeg2 && r.peek(1) == 1 {
        r.skip(9); // intra_slice_flag, intra_slice, reserved_bits
    }
    while r.bit() == 1 {
        r.skip(8); // extra_information_slice
    }
    let tables = tables();
    let ac = if p.intra_vlc {
        &tables.one
    } else {
        &tables.zero
    };
    let level_bits = if s.mpeg2 { 12 } else { 8 };
    let blocks = match s.chroma {
        1 => 6,
        2 => 8,
        _ => 12,
    };
    let reset = (1i32 << (7 + p.intra_dc_precision)) as f32;
    let scale = (1u32 << p.intra_dc_precision) as f32;
    let mut pred = [0i32; 3];
    let reset_pred = |pred: &mut [i32; 3]| *pred = [reset as i32; 3];
    reset_pred(&mut pred);
    let mut address: Option<usize> = None;
    let total = plane.mb_width * plane.mb_height;
    loop {
        // A slice ends where only zeros are left (the next start code's lead).
        if r.peek(23) == 0 {
            break;
        }
        let mut increment = 0usize;
        loop {
            match r.peek(11) {
                0b000_0000_1000 => {
                    increment += 33;
                    r.skip(11);
                }
                // MPEG-1 macroblock stuffing.
                0b000_0000_1111 if !s.mpeg2 => r.skip(11),
                _ => break,
            }
        }
        increment += address_increment(&mut r)?;
        let here = match address {
            None => row * plane.mb_width + increment - 1,
            Some(_) if increment != 1 => {
                return Err(err("a macroblock skipped in an intra picture"));
            }
            Some(a) => a + 1,
        };
        if here >= total {
            return Err(err("a macroblock past the end of the picture"));
        }
        address = Some(here);
        // macroblock_type (Table B-2): 1 intra; 01 intra with a quantiser scale.
        let quant = match r.peek(2) {
            0b10 | 0b11 => {
                r.skip(1);
                false
            }
            0b01 => {
                r.skip(2);
                true
            }
            _ => return Err(err("a macroblock type no intra picture holds")),
        };
        let field_dct = p.is_frame() && s.mpeg2 && !p.frame_pred_frame_dct && r.bit() == 1;
        if quant {
            r.skip(5);
        }
        if p.concealment {
            if !p.is_frame() {
                r.skip(1); // motion_vertical_field_select
            }
            for f in p.f_code {
                let moved = motion_code(&mut r)?;
                if f > 1 && moved {
                    r.skip(f as usize - 1);
                }
            }
            r.skip(1); // marker
        }
        let mut luma = [0f32; 4];
        for b in 0..blocks {
            let component = if b < 4 { 0 } else { 1 + (b - 4) % 2 };
            let size = dc_size(&mut r, component == 0)?;
            let diff = if size == 0 {
                0
            } else {
                let v = r.bits(size) as i32;
                if v < 1 << (size - 1) {
                    v - (1 << size) + 1
                } else {
                    v
                }
            };
            pred[component] += diff;
            if let Some(mean) = luma.get_mut(b) {
                *mean = pred[component] as f32 / scale;
            }
            skip_ac(&mut r, ac, level_bits)?;
        }
        if r.overrun() {
            return Err(err("a slice ends inside a macroblock"));
        }
        plane.put(here, luma, field_dct);
    }
    Ok(())
}

/// `macroblock_address_increment` (Table B-1) and `motion_code` (Table B-10) share their
/// code lengths: `(length, first code, last code)`, values counting down from the last.
const COUNTED: [(usize, u32, u32); 8] = [
    (1, 1, 1),
    (3, 2, 3),
    (4, 2, 3),
    (5, 2, 3),
    (7, 6, 7),
    (8, 6, 11),
    (10, 18, 23),
    (11, 24, 35),
];

/// The index of a code among all codes of [`COUNTED`], counting down within each
/// length (so that it is `macroblock_address_increment − 1`).
fn counted(r: &mut Reader<'_>) -> Option<u32> {
    let mut before = 0;
    for (len, first, last) in COUNTED {
        let v = r.peek(len);
        if (first..=last).contains(&v) {
            r.skip(len);
            return Some(before + (last - v));
        }
        before += last - first + 1;
    }
    None
}

fn address_increment(r: &mut Reader<'_>) -> Result<usize, HashError> {
    counted(r)
        .map(|i| i as usize + 1)
        .ok_or_else(|| err("a macroblock address that is no code"))
}

/// Reads a `motion_code` and its sign: whether it is other than zero.
fn motion_code(r: &mut Reader<'_>) -> Result<bool, HashError> {
    // Table B-10 pairs each magnitude's codes (+ then −) where B-1 lists two values;
    // the lengths are the same, which is all that stepping over them needs.
    let i = counted(r).ok_or_else(|| err("a motion code that is no code"))?;
    Ok(i != 0)
}

/// `dct_dc_size_luminance` (Table B-12) or `dct_dc_size_chrominance` (Table B-13).
fn dc_size(r: &mut Reader<'_>, luma: bool) -> Result<usize, HashError> {
    let v = r.peek(10);
    let ones = (!(v << 22)).leading_zeros() as usize; // leading ones of the 10 bits
    let (size, len) = if luma {
        match v >> 7 {
            0b000 | 0b001 => (1, 2),
            0b010 | 0b011 => (2, 2),
            0b100 => (0, 3),
            0b101 => (3, 3),
            0b110 => (4, 3),
            _ if ones >= 9 => (11, 9),
            _ => (ones + 2, ones + 1),
        }
    } else {
        match v >> 8 {
            0b00 => (0, 2),
            0b01 => (1, 2),
            0b10 => (2, 2),
            _ if ones >= 10 => (11, 10),
            _ => (ones + 1, ones + 1),
        }
    };
    r.skip(len);
    if r.overrun() {
        return Err(err("a block cut short"));
    }
    Ok(size)
}

/// Steps over a block's AC coefficients up to its end-of-block code.
fn skip_ac(r: &mut Reader<'_>, table: &[u8], level_bits: usize) -> Result<(), HashError> {
    // At most 63 coefficients, then the end of the block.
    for _ in 0..=63 {
        let e = table[r.peek(16) as usize];
        let len = usize::from(e & LEN);
        match e & !LEN {
            _ if e == 0 => return Err(err("a coefficient that is no code")),
            END => {
                r.skip(len);
                return Ok(());
            }
            ESCAPE => {
                r.skip(len + 6); // the code and the run
                if level_bits == 12 {
                    r.skip(12);
                } else {
                    // MPEG-1: 8 bits, or 16 after a first byte of 0x00 or 0x80.
                    let first = r.bits(8);
                    if first & 0x7F == 0 {
                        r.skip(8);
                    }
                }
            }
            _ => r.skip(len + 1), // the code and its sign
        }
        if r.overrun() {
            break;
        }
    }
    Err(err("a block runs past its 64 coefficients or its slice"))
}

const LEN: u8 = 0x1F;
const END: u8 = 0x40;
const ESCAPE: u8 = 0x80;
const COEFFICIENT: u8 = 0x20;

/// The two DCT coefficient tables (B-14, "table zero", and B-15, "table one", chosen
/// by `intra_vlc_format`), as lookups by the next 16 bits: the code's length and kind.
struct Tables {
    zero: Vec<u8>,
    one: Vec<u8>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables {
        zero: lookup(&TABLE_ZERO, (2, 0b10)),
        one: lookup(&TABLE_ONE, (4, 0b0110)),
    })
}

/// The coefficient codes of a table (sign bit not counted), by length: runs of codes
/// `first..=last`. The end-of-block and escape (`000001`) codes are given apart.
type Codes = [(u8, &'static [(u16, u16)])];

/// Table B-14, for intra blocks (its `1s` for a first coefficient is only for non-intra
/// blocks): lengths 2 to 16; the end of block is `10`.
const TABLE_ZERO: [(u8, &[(u16, u16)]); 13] = [
    (2, &[(0b11, 0b11)]),
    (3, &[(0b011, 0b011)]),
    (4, &[(0b0100, 0b0101)]),
    (5, &[(0b00101, 0b00111)]),
    (6, &[(0b000100, 0b000111)]),
    (7, &[(0b0000100, 0b0000111)]),
    (8, &[(0x20, 0x27)]),
    (10, &[(0x08, 0x0F)]),
    (12, &[(0x10, 0x1F)]),
    (13, &[(0x10, 0x1F)]),
    (14, &[(0x10, 0x1F)]),
    (15, &[(0x10, 0x1F)]),
    (16, &[(0x10, 0x1F)]),
];

/// Table B-15: the end of block is `0110`.
const TABLE_ONE: [(u8, &[(u16, u16)]); 14] = [
    (2, &[(0b10, 0b10)]),
    (3, &[(0b010, 0b010), (0b110, 0b110)]),
    (4, &[(0b0111, 0b0111)]),
    (5, &[(0b00101, 0b00111), (0b11100, 0b11101)]),
    (6, &[(0b000100, 0b000111)]),
    (7, &[(0b0000100, 0b0000111), (0x78, 0x7C)]),
    (8, &[(0x20, 0x27), (0xFA, 0xFF)]),
    (9, &[(0x04, 0x05), (0x07, 0x07)]),
    (10, &[(0x0C, 0x0D)]),
    (
        12,
        &[
            (0x11, 0x12),
            (0x15, 0x17),
            (0x19, 0x1A),
            (0x1C, 0x1C),
            (0x1E, 0x1F),
        ],
    ),
    (13, &[(0x10, 0x16), (0x1B, 0x1F)]),
    (14, &[(0x10, 0x1F)]),
    (15, &[(0x10, 0x1F)]),
    (16, &[(0x10, 0x1F)]),
];

/// A table as a lookup by the next 16 bits: each entry the kind and length of the code
/// the bits begin with (0: no code).
fn lookup(codes: &Codes, (end_len, end): (u8, u16)) -> Vec<u8> {
    let mut t = vec![0u8; 1 << 16];
    let mut set = |len: u8, code: u16, kind: u8| {
        let shift = 16 - u32::from(len);
        let from = usize::from(code) << shift;
        for e in &mut t[from..from + (1 << shift)] {
            *e = kind | len;
        }
    };
    for &(len, runs) in codes {
        for &(first, last) in runs {
            for code in first..=last {
                set(len, code, COEFFICIENT);
            }
        }
    }
    set(end_len, end, END);
    set(6, 0b000001, ESCAPE);
    t
}

/// A big-endian bit reader that reads zeros past the end of its bytes (and says so).
pub(super) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// Bits read so far.
    pub(super) fn position(&self) -> usize {
        self.pos
    }

    /// The bytes read from.
    pub(super) fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Moves to bit `pos`.
    pub(super) fn seek(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// The next `n` (at most 25) bits, without moving.
    pub(super) fn peek(&self, n: usize) -> u32 {
        let byte = self.pos / 8;
        let mut w = 0u32;
        for i in 0..4 {
            w = (w << 8) | u32::from(self.data.get(byte + i).copied().unwrap_or(0));
        }
        (w << (self.pos % 8)) >> (32 - n)
    }

    pub(super) fn skip(&mut self, n: usize) {
        self.pos += n;
    }

    pub(super) fn bits(&mut self, n: usize) -> u32 {
        let v = self.peek(n);
        self.pos += n;
        v
    }

    pub(super) fn bit(&mut self) -> u32 {
        self.bits(1)
    }

    /// Whether more bits were read than the bytes hold, beyond the zeros that may have
    /// been taken off their end: a unit's last bits may be zeros, which cannot be told
    /// from the zero bytes before the next start code and are left out with them (22
    /// at most: 23 zeros would begin a start code).
    pub(super) fn overrun(&self) -> bool {
        self.pos > self.data.len() * 8 + 22
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Every code of both coefficient tables has one meaning: no code is the beginning
    /// of another, and the tables count the codes the standard lists (B-14: 111 for
    /// intra blocks, with the end of block and the escape; B-15: 111 and the same two).
    #[test]
    fn the_coefficient_tables_are_prefix_codes() {
        for (name, codes, end_len, end) in [
            ("B-14", &TABLE_ZERO[..], 2u8, 0b10u16),
            ("B-15", &TABLE_ONE[..], 4, 0b0110),
        ] {
            let mut all: Vec<(u8, u16)> = vec![(end_len, end), (6, 1)];
            for &(len, runs) in codes {
                for &(a, b) in runs {
                    all.extend((a..=b).map(|c| (len, c)));
                }
            }
            assert_prefix_free(name, &all);
            assert_eq!(all.len(), 113, "{name}");
        }
    }

    /// Asserts that no code of `codes` (length, bits) is the beginning of another.
    pub(in crate::video) fn assert_prefix_free(name: &str, codes: &[(u8, u16)]) {
        for (i, &(la, a)) in codes.iter().enumerate() {
            for &(lb, b) in &codes[i + 1..] {
                let (short, long, ls, ll) = if la <= lb {
                    (a, b, la, lb)
                } else {
                    (b, a, lb, la)
                };
                assert_ne!(
                    long >> (ll - ls),
                    short,
                    "{name}: {short:b} prefixes {long:b}"
                );
            }
        }
    }

    #[test]
    fn dc_sizes_are_read_by_their_codes() {
        let read = |bits: &str, luma: bool| {
            let v = u32::from_str_radix(bits, 2).unwrap() << (32 - bits.len());
            let bytes = v.to_be_bytes();
            let mut r = Reader::new(&bytes);
            (dc_size(&mut r, luma).unwrap(), r.pos)
        };
        for (code, size) in [
            ("100", 0),
            ("00", 1),
            ("01", 2),
            ("101", 3),
            ("110", 4),
            ("1110", 5),
            ("11110", 6),
            ("111110", 7),
            ("1111110", 8),
            ("11111110", 9),
            ("111111110", 10),
            ("111111111", 11),
        ] {
            assert_eq!(read(code, true), (size, code.len()), "luma {code}");
        }
        for (code, size) in [
            ("00", 0),
            ("01", 1),
            ("10", 2),
            ("110", 3),
            ("1110", 4),
            ("11110", 5),
            ("111110", 6),
            ("1111110", 7),
            ("11111110", 8),
            ("111111110", 9),
            ("1111111110", 10),
            ("1111111111", 11),
        ] {
            assert_eq!(read(code, false), (size, code.len()), "chroma {code}");
        }
    }

    #[test]
    fn address_increments_are_read_by_their_codes() {
        let read = |bits: &str| {
            let v = u32::from_str_radix(bits, 2).unwrap() << (32 - bits.len());
            let bytes = v.to_be_bytes();
            let mut r = Reader::new(&bytes);
            (address_increment(&mut r).unwrap(), r.pos)
        };
        assert_eq!(read("1"), (1, 1));
        assert_eq!(read("011"), (2, 3));
        assert_eq!(read("010"), (3, 3));
        assert_eq!(read("00011"), (6, 5));
        assert_eq!(read("0000111"), (8, 7));
        assert_eq!(read("00001011"), (10, 8));
        assert_eq!(read("00000110"), (15, 8));
        assert_eq!(read("0000010111"), (16, 10));
        assert_eq!(read("00000100011"), (22, 11));
        assert_eq!(read("00000011000"), (33, 11));
    }
}
