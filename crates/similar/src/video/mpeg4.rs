//! MPEG-4 Part 2 video (ISO/IEC 14496-2: Xvid, DivX, 3GP phones' video, many cameras
//! and recorders) intra pictures, read at 1/8 scale as MPEG-2's are
//! (`docs/design/near-duplicates.md` §2, "MPEG-4 Part 2 and H.263 video").
//!
//! A keyframe is an I-VOP: every macroblock intra coded. A block's DC coefficient is
//! its mean times eight; it is coded as a difference from a neighbour's (left or above,
//! whichever the gradient of the three neighbours favours), quantised by a scaler that
//! follows the quantiser. AC coefficients are only stepped over by their codes' lengths;
//! with data partitioning they are not read at all, as every DC value comes before
//! them.
//!
//! Read: Simple and Advanced Simple profiles, rectangular, 8-bit 4:2:0; progressive and
//! interlaced (a field-coded macroblock's two left and two right blocks are averaged);
//! video packets (resync markers) with or without their header extension; data
//! partitioning, with or without reversible codes (progressive only); both quantisation
//! types; quarter samples, global motion and B-VOPs only matter to other pictures.
//! Refused: shapes other than rectangular, static sprites, complexity estimation
//! headers, reduced-resolution pictures, scalability, NEWPRED, more than 8 bits,
//! interlaced video with data partitioning (where its DCT type lies, decoders do not
//! agree), a DC coded among the AC coefficients (`intra_dc_vlc_thr` above the
//! quantiser), and a picture larger than [`MAX_FRAME_PIXELS`].
//!
//! H.263 baseline (3GP phones' video; MPEG-4's short video header is the same) shares
//! the macroblock and coefficient codes: [`decode_h263`]; so does FLV's Sorenson H.263
//! under a header of its own: [`decode_sorenson`].

use std::ops::Range;
use std::sync::OnceLock;

use super::mpeg12::{Plane, Reader};
use super::{MAX_FRAME_PIXELS, corrupt};
use crate::{HashError, phash};

/// Start codes (the byte after `00 00 01`).
const VISUAL_OBJECT: u8 = 0xB5;
const VOP: u8 = 0xB6;
/// Video object layer start codes.
const LAYERS: std::ops::RangeInclusive<u8> = 0x20..=0x2F;

/// Whether a unit (the bytes after a start code) is a video object layer header: the
/// parameters a VOP is decoded with.
pub(super) fn is_layer(unit: &[u8]) -> bool {
    unit.first().is_some_and(|b| LAYERS.contains(b))
}

/// Whether a unit is a VOP, and an intra coded one.
pub(super) fn vop_kind(unit: &[u8]) -> Option<bool> {
    match unit {
        [VOP, b, ..] => Some(b >> 6 == 0),
        [VOP] => Some(false),
        _ => None,
    }
}

/// Width and height a video object layer header declares.
pub(super) fn layer_size(unit: &[u8]) -> Option<(u32, u32)> {
    if !is_layer(unit) {
        return None;
    }
    let layer = Layer::read(unit, 1).ok()?;
    Some((layer.width, layer.height))
}

/// The upright 32×32 grid of the I-VOP in `units` of `bytes` (each unit after its start
/// code, the start code's byte first): the layer header (and the visual object header
/// before it, for its version), then the VOP.
pub(super) fn decode(bytes: &[u8], units: &[Range<usize>]) -> Result<phash::Grid, HashError> {
    let mut verid = 1u8;
    let mut layer: Option<Layer> = None;
    for r in units {
        let unit = &bytes[r.clone()];
        match unit.first() {
            // is_visual_object_identifier, then its version.
            Some(&VISUAL_OBJECT) if unit.get(1).is_some_and(|b| b & 0x80 != 0) => {
                verid = (unit[1] >> 3) & 0x0F;
            }
            Some(b) if LAYERS.contains(b) => layer = Some(Layer::read(unit, verid)?),
            Some(&VOP) => {
                let layer = layer
                    .as_ref()
                    .ok_or_else(|| err("a VOP before any video object layer header"))?;
                return picture(unit, layer);
            }
            _ => {}
        }
    }
    Err(err("the keyframe holds no VOP"))
}

fn err(what: &str) -> HashError {
    corrupt(format!("MPEG-4 video: {what}"))
}

/// What a video object layer header says.
#[derive(Clone, Debug)]
struct Layer {
    width: u32,
    height: u32,
    /// Bits of `vop_time_increment`.
    time_bits: usize,
    interlaced: bool,
    resync: bool,
    partitioned: bool,
    reduced_resolution: bool,
    /// A static sprite: its I-VOP is the sprite, not a picture of the layer's size.
    static_sprite: bool,
}

impl Layer {
    fn read(unit: &[u8], visual_verid: u8) -> Result<Layer, HashError> {
        let refuse = |why: &'static str| {
            Err(HashError::Unsupported {
                media_type: "MPEG-4 Part 2 video".into(),
                why,
            })
        };
        let mut r = Reader::new(unit.get(1..).unwrap_or(&[]));
        r.skip(1 + 8); // random_accessible_vol, video_object_type_indication
        let mut verid = visual_verid;
        if r.bit() == 1 {
            verid = r.bits(4) as u8;
            r.skip(3); // priority
        }
        if r.bits(4) == 0x0F {
            r.skip(16); // pixel aspect ratio
        }
        if r.bit() == 1 {
            // vol_control_parameters
            if r.bits(2) != 1 {
                return refuse("chroma other than 4:2:0 is not read");
            }
            r.skip(1); // low_delay
            if r.bit() == 1 {
                // vbv_parameters: 79 bits of rates, sizes and markers.
                r.skip(79);
            }
        }
        let shape = r.bits(2);
        if shape != 0 {
            return refuse("a video object shape other than rectangular is not read");
        }
        r.skip(1); // marker
        let resolution = r.bits(16);
        if resolution == 0 {
            return Err(err("a time resolution of zero"));
        }
        let time_bits = (32 - (resolution - 1).leading_zeros()).max(1) as usize;
        r.skip(1); // marker
        if r.bit() == 1 {
            r.skip(time_bits); // fixed_vop_time_increment
        }
        r.skip(1);
        let width = r.bits(13);
        r.skip(1);
        let height = r.bits(13);
        r.skip(1);
        let interlaced = r.bit() == 1;
        r.skip(1); // obmc_disable
        let sprite = if verid == 1 { r.bits(1) } else { r.bits(2) };
        if sprite == 1 || sprite == 2 {
            if sprite == 1 {
                r.skip(4 * 14); // sprite width, height, left and top, with markers
            }
            r.skip(6 + 2 + 1); // warping points, accuracy, brightness change
            if sprite == 1 {
                r.skip(1); // low_latency_sprite_enable
            }
        }
        if r.bit() == 1 {
            return refuse("video of more than 8 bits is not read");
        }
        if r.bit() == 1 {
            // quant_type 1: the intra and non-intra matrices, if loaded.
            for _ in 0..2 {
                if r.bit() == 1 {
                    for _ in 0..64 {
                        if r.bits(8) == 0 {
                            break;
                        }
                    }
                }
            }
        }
        if verid != 1 {
            r.skip(1); // quarter_sample
        }
        if r.bit() == 0 {
            return refuse("complexity estimation headers are not read");
        }
        let resync = r.bit() == 0;
        let partitioned = r.bit() == 1;
        if partitioned {
            r.skip(1); // reversible_vlc: only the AC coefficients, which are not read
        }
        let mut reduced_resolution = false;
        if verid != 1 {
            if r.bit() == 1 {
                return refuse("NEWPRED is not read");
            }
            reduced_resolution = r.bit() == 1;
        }
        if r.bit() == 1 {
            return refuse("a scalable layer is not read");
        }
        if interlaced && partitioned {
            // Decoders do not agree on where a field-coded macroblock's DCT type lies
            // with data partitioning (ffmpeg's encoder and decoder disagree).
            return refuse("interlaced video with data partitioning is not read");
        }
        if r.overrun() {
            return Err(err("a video object layer header cut short"));
        }
        if width == 0 || height == 0 {
            return Err(err("a picture size of zero"));
        }
        Ok(Layer {
            width,
            height,
            time_bits,
            interlaced,
            resync,
            partitioned,
            reduced_resolution,
            static_sprite: sprite == 1,
        })
    }

    fn mb_width(&self) -> usize {
        (self.width as usize).div_ceil(16)
    }

    fn mb_height(&self) -> usize {
        (self.height as usize).div_ceil(16)
    }
}

/// The value of an unavailable neighbour's DC (2^(bits + 2), 8-bit video).
const UNAVAILABLE: i32 = 1024;

/// `intra_dc_vlc_thr`: below which quantiser the DC has codes of its own.
const DC_THRESHOLD: [u32; 8] = [32, 13, 15, 17, 19, 21, 23, 0];

/// Changes of the quantiser a `dquant` code gives.
const DQUANT: [i32; 4] = [-1, -2, 1, 2];

/// The DC scaler of a luma block at quantiser `q`.
fn luma_scaler(q: u32) -> i32 {
    match q {
        0..=4 => 8,
        5..=8 => 2 * q as i32,
        9..=24 => q as i32 + 8,
        _ => 2 * q as i32 - 16,
    }
}

/// The luma DC values of the picture, as 8×8 block means, and which video packet each
/// block was read in (neighbours in another are unavailable).
struct Blocks {
    cols: usize,
    f: Vec<i32>,
    packet: Vec<u32>,
}

impl Blocks {
    fn new(mb_width: usize, mb_height: usize) -> Blocks {
        let cols = 2 * mb_width;
        Blocks {
            cols,
            f: vec![UNAVAILABLE; cols * 2 * mb_height],
            packet: vec![u32::MAX; cols * 2 * mb_height],
        }
    }

    fn at(&self, x: usize, y: usize, packet: u32) -> i32 {
        let k = y * self.cols + x;
        if self.packet[k] == packet {
            self.f[k]
        } else {
            UNAVAILABLE
        }
    }

    /// The predicted DC (as a level at `scaler`) of the block at `(x, y)`, from its left
    /// (A), above-left (B) and above (C) neighbours in the same packet.
    fn predicted(&self, x: usize, y: usize, packet: u32, scaler: i32) -> i32 {
        let a = if x > 0 {
            self.at(x - 1, y, packet)
        } else {
            UNAVAILABLE
        };
        let b = if x > 0 && y > 0 {
            self.at(x - 1, y - 1, packet)
        } else {
            UNAVAILABLE
        };
        let c = if y > 0 {
            self.at(x, y - 1, packet)
        } else {
            UNAVAILABLE
        };
        let p = if (a - b).abs() < (b - c).abs() { c } else { a };
        (p + scaler / 2) / scaler
    }

    /// Records the block's DC (`level × scaler`, saturated as decoders keep it) and
    /// gives the block's mean.
    fn set(&mut self, x: usize, y: usize, packet: u32, level: i32, scaler: i32) -> f32 {
        let k = y * self.cols + x;
        let dc = level * scaler;
        self.f[k] = dc.clamp(0, 2047);
        self.packet[k] = packet;
        dc as f32 / 8.0
    }
}

/// Reads an I-VOP into its grid.
fn picture(unit: &[u8], layer: &Layer) -> Result<phash::Grid, HashError> {
    let mut r = Reader::new(&unit[1..]);
    if r.bits(2) != 0 {
        return Err(err("the keyframe is not an I-VOP"));
    }
    if layer.static_sprite {
        return Err(HashError::Unsupported {
            media_type: "MPEG-4 Part 2 video".into(),
            why: "a static sprite's pictures are not read",
        });
    }
    while r.bit() == 1 {
        if r.overrun() {
            return Err(err("a VOP header cut short"));
        }
    } // modulo_time_base
    r.skip(1 + layer.time_bits + 1);
    if r.bit() == 0 {
        return Err(err(
            "the keyframe's VOP is not coded (it repeats the picture before)",
        ));
    }
    if layer.reduced_resolution && r.bit() == 1 {
        return Err(HashError::Unsupported {
            media_type: "MPEG-4 Part 2 video".into(),
            why: "a reduced-resolution VOP is not read",
        });
    }
    let threshold = DC_THRESHOLD[r.bits(3) as usize];
    if layer.interlaced {
        r.skip(2); // top_field_first, alternate_vertical_scan_flag
    }
    let quantiser = r.bits(5);
    if quantiser == 0 || r.overrun() {
        return Err(err("a VOP header without a quantiser"));
    }
    let pixels = u64::from(layer.width) * u64::from(layer.height);
    if pixels > MAX_FRAME_PIXELS {
        return Err(HashError::TooLarge {
            width: layer.width,
            height: layer.height,
            max: MAX_FRAME_PIXELS,
        });
    }
    let (mb_width, mb_height) = (layer.mb_width(), layer.mb_height());
    let mut vop = Vop {
        layer,
        threshold,
        total: mb_width * mb_height,
        blocks: Blocks::new(mb_width, mb_height),
        plane: Plane::sized(layer.width, layer.height, mb_width, mb_height),
        mb_width,
    };
    let mut packet = 0u32;
    let mut first = 0usize;
    let mut q = quantiser;
    loop {
        let next = if layer.partitioned {
            vop.partitioned(&mut r, packet, first, &mut q)?
        } else {
            vop.combined(&mut r, packet, first, &mut q)?
        };
        match next {
            Some(n) => {
                packet += 1;
                let (mb, quant) = vop.packet_header(&mut r)?;
                if mb != n {
                    return Err(err(&format!(
                        "a video packet begins at macroblock {mb}, not at the next ({n})"
                    )));
                }
                first = mb;
                q = quant;
            }
            None => break,
        }
    }
    vop.plane.grid()
}

/// A VOP being read.
struct Vop<'a> {
    layer: &'a Layer,
    threshold: u32,
    total: usize,
    blocks: Blocks,
    plane: Plane,
    mb_width: usize,
}

impl Vop<'_> {
    /// Whether the bits at `r` are stuffing to the next byte and a resync marker
    /// (sixteen zeros and a one, in an I-VOP).
    fn at_resync(&self, r: &Reader<'_>) -> bool {
        if !self.layer.resync {
            return false;
        }
        let n = 8 - r.position() % 8;
        if r.peek(n) != (1 << (n - 1)) - 1 {
            return false;
        }
        r.peek(n + 17) == ((((1 << (n - 1)) - 1) << 17) | 1)
    }

    /// Moves `r` to the next resync marker at a byte boundary (sixteen zero bits and a
    /// one), past data that is not read; `false` when there is none.
    fn next_resync(r: &mut Reader<'_>) -> bool {
        let data = r.data();
        let from = r.position().div_ceil(8);
        let found = data
            .get(from..)
            .unwrap_or(&[])
            .windows(3)
            .position(|w| w[0] == 0 && w[1] == 0 && w[2] & 0x80 != 0);
        match found {
            Some(at) => {
                r.seek((from + at) * 8);
                true
            }
            None => false,
        }
    }

    /// Reads a video packet's header from its resync marker (at a byte boundary): the
    /// first macroblock's number and the quantiser.
    fn packet_header(&self, r: &mut Reader<'_>) -> Result<(usize, u32), HashError> {
        r.skip(17);
        let bits = (usize::BITS - (self.total - 1).leading_zeros()).max(1) as usize;
        let mb = r.bits(bits) as usize;
        let q = r.bits(5);
        if r.bit() == 1 {
            // header_extension_code: the VOP's time and type again.
            while r.bit() == 1 {
                if r.overrun() {
                    break;
                }
            }
            r.skip(1 + self.layer.time_bits + 1);
            if r.bits(2) != 0 {
                return Err(err("a video packet of another kind of VOP inside an I-VOP"));
            }
            r.skip(3); // intra_dc_vlc_thr (decoders keep the VOP's)
            if self.layer.reduced_resolution && r.bit() == 1 {
                return Err(HashError::Unsupported {
                    media_type: "MPEG-4 Part 2 video".into(),
                    why: "a reduced-resolution VOP is not read",
                });
            }
        }
        if r.overrun() || q == 0 || mb >= self.total {
            return Err(err("a damaged video packet header"));
        }
        Ok((mb, q))
    }

    /// Applies a macroblock's `dquant` (when it has one) to the quantiser `q`, and gives
    /// the running quantiser that decides whether its DC values have codes of their own:
    /// the one before, or the macroblock's own for the first of a VOP or video packet.
    fn requantise(r: &mut Reader<'_>, q: &mut u32, dquant: bool, first: bool) -> u32 {
        let before = *q;
        if dquant {
            *q = (*q as i32 + DQUANT[r.bits(2) as usize]).clamp(1, 31) as u32;
        }
        if first { *q } else { before }
    }

    /// The macroblock type and chroma pattern (`mcbpc`), past any stuffing.
    fn mcbpc(r: &mut Reader<'_>) -> Result<(bool, u32), HashError> {
        loop {
            let v = r.peek(9);
            let (len, dquant, cbpc) = match v {
                _ if v >> 8 == 1 => (1, false, 0),
                _ if v >> 6 != 0 => (3, false, v >> 6),
                _ if v >> 5 == 1 => (4, true, 0),
                _ if v >> 3 != 0 => (6, true, v >> 3),
                1 => {
                    r.skip(9); // stuffing
                    if r.overrun() {
                        return Err(err("a picture ends in macroblock stuffing"));
                    }
                    continue;
                }
                _ => return Err(err("a macroblock type no intra picture holds")),
            };
            r.skip(len);
            return Ok((dquant, cbpc));
        }
    }

    /// Reads one macroblock's DC values (and, when `ac` is given, steps over its AC
    /// coefficients, the blocks coded by that pattern); returns its four luma means.
    fn dc_values(
        &mut self,
        r: &mut Reader<'_>,
        address: usize,
        packet: u32,
        running: u32,
        q: u32,
        ac: Option<u32>,
    ) -> Result<[f32; 4], HashError> {
        // The running quantiser decides (`running_QP`).
        if running >= self.threshold {
            return Err(HashError::Unsupported {
                media_type: "MPEG-4 Part 2 video".into(),
                why: "a DC coefficient coded among the AC coefficients (intra_dc_vlc_thr) is not read",
            });
        }
        let (mx, my) = (address % self.mb_width, address / self.mb_width);
        let scaler = luma_scaler(q);
        let mut luma = [0f32; 4];
        for (b, mean) in luma.iter_mut().enumerate() {
            let diff = dc_difference(r, true)?;
            let (x, y) = (2 * mx + b % 2, 2 * my + b / 2);
            let level = self.blocks.predicted(x, y, packet, scaler) + diff;
            *mean = self.blocks.set(x, y, packet, level, scaler);
            if let Some(pattern) = ac
                && pattern & (32 >> b) != 0
            {
                skip_ac(r)?;
            }
        }
        for b in 4..6 {
            dc_difference(r, false)?;
            if let Some(pattern) = ac
                && pattern & (32 >> b) != 0
            {
                skip_ac(r)?;
            }
        }
        Ok(luma)
    }

    /// Reads the macroblocks of a packet without data partitioning, from `first`, until
    /// a resync marker (giving the next macroblock's number) or the picture's end.
    fn combined(
        &mut self,
        r: &mut Reader<'_>,
        packet: u32,
        first: usize,
        q: &mut u32,
    ) -> Result<Option<usize>, HashError> {
        let mut address = first;
        while address < self.total {
            if address > first && self.at_resync(r) {
                r.skip(8 - r.position() % 8);
                return Ok(Some(address));
            }
            let (dquant, cbpc) = Self::mcbpc(r)?;
            r.skip(1); // ac_pred_flag
            let cbpy = cbpy(r)?;
            let running = Self::requantise(r, q, dquant, address == first);
            let field_dct = self.layer.interlaced && r.bit() == 1;
            let pattern = (cbpy << 2) | cbpc;
            let luma = self.dc_values(r, address, packet, running, *q, Some(pattern))?;
            if r.overrun() {
                return Err(err("the picture ends inside a macroblock"));
            }
            self.plane.put(address, luma, field_dct);
            address += 1;
        }
        Ok(None)
    }

    /// Reads a packet with data partitioning: its macroblocks' types and DC values up
    /// to the DC marker, then their patterns; the AC coefficients
    /// after them are passed over to the next resync marker.
    fn partitioned(
        &mut self,
        r: &mut Reader<'_>,
        packet: u32,
        first: usize,
        q: &mut u32,
    ) -> Result<Option<usize>, HashError> {
        const DC_MARKER: u32 = 0b110_1011_0000_0000_0001;
        let mut read: Vec<(usize, [f32; 4])> = Vec::new();
        let mut address = first;
        loop {
            // Macroblock stuffing may come before the DC marker too.
            while r.peek(9) == 1 && !r.overrun() {
                r.skip(9);
            }
            if r.peek(19) == DC_MARKER {
                break;
            }
            if address >= self.total {
                return Err(err("a video packet runs past the picture's macroblocks"));
            }
            let (dquant, _) = Self::mcbpc(r)?;
            let running = Self::requantise(r, q, dquant, address == first);
            let luma = self.dc_values(r, address, packet, running, *q, None)?;
            if r.overrun() {
                return Err(err("a video packet ends before its DC marker"));
            }
            read.push((address, luma));
            address += 1;
        }
        r.skip(19);
        // (Progressive only: the layer header refuses interlaced video here.)
        for (address, luma) in read {
            r.skip(1); // ac_pred_flag
            cbpy(r)?;
            if r.overrun() {
                return Err(err("a video packet ends inside its second partition"));
            }
            self.plane.put(address, luma, false);
        }
        // The next resync marker, byte aligned after the AC coefficients' partition.
        if address >= self.total {
            return Ok(None);
        }
        match Self::next_resync(r) {
            true => Ok(Some(address)),
            false => Err(err(&format!(
                "the picture's video packets cover {address} of its {} macroblocks",
                self.total
            ))),
        }
    }
}

/// `dct_dc_size_luminance` (Table B-13) or `_chrominance` (B-14), then the difference.
fn dc_difference(r: &mut Reader<'_>, luma: bool) -> Result<i32, HashError> {
    let v = r.peek(12);
    let zeros = (v << 20).leading_zeros() as usize; // leading zeros of the 12 bits
    let (size, len) = if luma {
        match v >> 9 {
            0b011 => (0, 3),
            0b110 | 0b111 => (1, 2),
            0b100 | 0b101 => (2, 2),
            0b010 => (3, 3),
            0b001 => (4, 3),
            _ if zeros <= 10 => (zeros + 2, zeros + 1),
            _ => return Err(err("a DC size that is no code")),
        }
    } else {
        match v >> 10 {
            0b11 => (0, 2),
            0b10 => (1, 2),
            0b01 => (2, 2),
            _ if zeros <= 11 => (zeros + 1, zeros + 1),
            _ => return Err(err("a DC size that is no code")),
        }
    };
    r.skip(len);
    if size == 0 {
        return Ok(0);
    }
    let bits = r.bits(size) as i32;
    let diff = if bits < 1 << (size - 1) {
        bits - (1 << size) + 1
    } else {
        bits
    };
    if size > 8 && r.bit() == 0 {
        return Err(err("a DC difference without its marker"));
    }
    if r.overrun() {
        return Err(err("a block cut short"));
    }
    Ok(diff)
}

/// `cbpy` (Table B-8), as an intra macroblock's luma pattern: bit 3 the first block.
fn cbpy(r: &mut Reader<'_>) -> Result<u32, HashError> {
    let v = r.peek(6);
    let (pattern, len) = match v {
        0b110000..=0b111111 => (15, 2),
        _ => match v >> 2 {
            0b0011 => (0, 4),
            0b1001 => (3, 4),
            0b0111 => (5, 4),
            0b1011 => (7, 4),
            0b0101 => (10, 4),
            0b1010 => (11, 4),
            0b0100 => (12, 4),
            0b1000 => (13, 4),
            0b0110 => (14, 4),
            _ => match v >> 1 {
                0b00101 => (1, 5),
                0b00100 => (2, 5),
                0b00011 => (4, 5),
                0b00010 => (8, 5),
                _ => match v {
                    0b000010 => (6, 6),
                    0b000011 => (9, 6),
                    _ => return Err(err("a luma pattern that is no code")),
                },
            },
        },
    };
    r.skip(len);
    Ok(pattern)
}

/// How a coefficient table's escape is followed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Escapes {
    /// MPEG-4: three kinds, told by the bits after the escape.
    Mpeg4,
    /// H.263: last, run (6) and level (8), the level neither 0 nor −128.
    H263,
    /// Sorenson H.263, format version 1: a bit for an 11-bit level (else 7), then last,
    /// run (6) and the level.
    Sorenson,
}

/// Steps over an intra block's AC coefficients up to the one marked last.
fn skip_ac(r: &mut Reader<'_>) -> Result<(), HashError> {
    skip_coefficients(r, intra_table(), Escapes::Mpeg4)
}

/// Steps over a block's coefficients, coded with `table`, up to the one marked last.
fn skip_coefficients(r: &mut Reader<'_>, table: &[u8], escapes: Escapes) -> Result<(), HashError> {
    // At most 64 coefficients.
    for _ in 0..64 {
        let e = table[r.peek(12) as usize];
        let len = usize::from(e & LEN);
        let last = if e & ESCAPE != 0 && escapes == Escapes::Sorenson {
            r.skip(len);
            let long = r.bit() == 1;
            let last = r.bit() == 1;
            r.skip(6 + if long { 11 } else { 7 });
            last
        } else if e & ESCAPE != 0 && escapes == Escapes::H263 {
            r.skip(len);
            let v = r.bits(15);
            if v & 0x7F == 0 {
                return Err(err("an escaped coefficient of level 0 or −128"));
            }
            v >> 14 == 1
        } else if e & ESCAPE != 0 {
            r.skip(len);
            match r.peek(2) {
                0b11 => {
                    // Third escape: last, run (6), marker, level (12), marker.
                    r.skip(2);
                    let v = r.bits(21);
                    if v & (1 << 13) == 0 || v & 1 == 0 {
                        return Err(err("an escaped coefficient without its markers"));
                    }
                    v >> 20 == 1
                }
                first => {
                    // First (0) or second (10) escape: a coefficient's code follows,
                    // its level or run offset.
                    r.skip(if first >> 1 == 0 { 1 } else { 2 });
                    let e = table[r.peek(12) as usize];
                    if e == 0 || e & ESCAPE != 0 {
                        return Err(err("an escape without a coefficient after it"));
                    }
                    r.skip(usize::from(e & LEN) + 1);
                    e & LAST != 0
                }
            }
        } else if e == 0 {
            return Err(err("a coefficient that is no code"));
        } else {
            r.skip(len + 1); // the code and its sign
            e & LAST != 0
        };
        if r.overrun() {
            break;
        }
        if last {
            return Ok(());
        }
    }
    Err(err("a block runs past its 64 coefficients or its picture"))
}

const LEN: u8 = 0x0F;
const LAST: u8 = 0x40;
const ESCAPE: u8 = 0x80;
const CODE: u8 = 0x20;

/// Table B-16 (intra TCOEF) as lookups by the next 12 bits: each entry the length of
/// the code they begin with (sign bit not counted) and whether it is the block's last
/// coefficient; 0 for no code.
fn intra_table() -> &'static [u8] {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    TABLE.get_or_init(|| lookup(&INTRA_CODES))
}

/// Table B-17 (inter TCOEF), which H.263 uses for every block's coefficients (its
/// Table 16), as a lookup alike.
fn h263_table() -> &'static [u8] {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    TABLE.get_or_init(|| lookup(&INTER_CODES))
}

fn lookup(codes: &[(u8, Runs, Runs)]) -> Vec<u8> {
    let mut t = vec![0u8; 1 << 12];
    let mut set = |len: u8, code: u16, kind: u8| {
        let shift = 12 - u32::from(len);
        let from = usize::from(code) << shift;
        for e in &mut t[from..from + (1 << shift)] {
            *e = kind | len;
        }
    };
    for &(len, not_last, last) in codes {
        for &(a, b) in not_last {
            (a..=b).for_each(|c| set(len, c, CODE));
        }
        for &(a, b) in last {
            (a..=b).for_each(|c| set(len, c, CODE | LAST));
        }
    }
    set(7, 0b0000011, ESCAPE);
    t
}

/// The codes of a coefficient table by length: runs `first..=last` of codes for a
/// coefficient that is not the block's last, then of those that are (LAST = 1). Both
/// tables share the escape `0000011`.
type Runs = &'static [(u16, u16)];

/// Table B-16: 67 codes before the last coefficient, 35 for it.
const INTRA_CODES: [(u8, Runs, Runs); 11] = [
    (2, &[(0b10, 0b10)], &[]),
    (3, &[(0b110, 0b110)], &[]),
    (4, &[(0b1110, 0b1111)], &[(0b0111, 0b0111)]),
    (5, &[(0b01011, 0b01101)], &[]),
    (
        6,
        &[(0x0D, 0x0D), (0x10, 0x15)],
        &[(0x0C, 0x0C), (0x0E, 0x0F)],
    ),
    (
        7,
        &[(0x12, 0x12), (0x14, 0x17)],
        &[(0x10, 0x11), (0x13, 0x13)],
    ),
    (
        8,
        &[(0x17, 0x19), (0x1B, 0x1F)],
        &[(0x13, 0x16), (0x1A, 0x1A)],
    ),
    (9, &[(0x18, 0x25)], &[(0x11, 0x17)]),
    (10, &[(0x07, 0x0F), (0x20, 0x21)], &[(0x04, 0x06)]),
    (
        11,
        &[(0x06, 0x07), (0x20, 0x23)],
        &[(0x04, 0x05), (0x24, 0x27)],
    ),
    (12, &[(0x50, 0x58)], &[(0x59, 0x5F)]),
];

/// Table B-17 (H.263 Table 16): 58 codes before the last coefficient, 44 for it.
const INTER_CODES: [(u8, Runs, Runs); 11] = [
    (2, &[(0b10, 0b10)], &[]),
    (3, &[(0b110, 0b110)], &[]),
    (4, &[(0b1110, 0b1111)], &[(0b0111, 0b0111)]),
    (5, &[(0b01011, 0b01101)], &[]),
    (6, &[(0x10, 0x15)], &[(0x0C, 0x0F)]),
    (7, &[(0x14, 0x17)], &[(0x10, 0x13)]),
    (8, &[(0x1B, 0x1F)], &[(0x13, 0x1A)]),
    (9, &[(0x1A, 0x25)], &[(0x11, 0x19)]),
    (10, &[(0x08, 0x0F), (0x20, 0x21)], &[(0x04, 0x07)]),
    (
        11,
        &[(0x06, 0x07), (0x20, 0x23)],
        &[(0x04, 0x05), (0x24, 0x27)],
    ),
    (12, &[(0x50, 0x57)], &[(0x58, 0x5F)]),
];

/// An H.263 picture (ITU-T H.263 baseline, as 3GP phones and MPEG-4's short video
/// header code it) read at 1/8 scale: an INTRA picture's blocks each begin with their
/// DC as eight bits (`INTRADC`), so no prediction is needed; the coefficients after it
/// are stepped over with Table 16. Refused: the extended header of H.263 version 2
/// (PLUSPTYPE) and syntax-based arithmetic coding.
pub(super) fn decode_h263(picture: &[u8]) -> Result<phash::Grid, HashError> {
    h263_picture(picture).map_err(|e| named(e, "H.263: "))
}

/// An error of the shared macroblock and coefficient readers (which say "MPEG-4 video"
/// or "H.263") given the name of the codec read, `name`.
fn named(e: HashError, name: &str) -> HashError {
    match e {
        HashError::Decode { format, detail } => {
            let rest = ["MPEG-4 video: ", "H.263: "]
                .iter()
                .find_map(|p| detail.strip_prefix(p))
                .unwrap_or(&detail);
            HashError::Decode {
                format,
                detail: format!("{name}{rest}"),
            }
        }
        other => other,
    }
}

fn h263_picture(picture: &[u8]) -> Result<phash::Grid, HashError> {
    let herr = |what: &str| corrupt(format!("H.263: {what}"));
    let refuse = |why: &'static str| {
        Err(HashError::Unsupported {
            media_type: "H.263 video".into(),
            why,
        })
    };
    let mut r = Reader::new(picture);
    if r.bits(22) != 0b10_0000 {
        return Err(herr("the picture does not begin with its start code"));
    }
    r.skip(8); // temporal reference
    if r.bits(2) != 0b10 {
        return Err(herr("a damaged picture type"));
    }
    r.skip(3); // split screen, document camera, freeze release
    let (width, height) = match r.bits(3) {
        1 => (128, 96),
        2 => (176, 144),
        3 => (352, 288),
        4 => (704, 576),
        5 => (1408, 1152),
        7 => {
            return refuse(
                "the extended picture header of H.263 version 2 (PLUSPTYPE) is not read",
            );
        }
        _ => return Err(herr("a source format that is none")),
    };
    if r.bit() != 0 {
        return Err(herr("the keyframe is not an INTRA picture"));
    }
    r.skip(1); // unrestricted motion vectors
    if r.bit() == 1 {
        return refuse("syntax-based arithmetic coding is not read");
    }
    r.skip(1); // advanced prediction
    if r.bit() == 1 {
        return Err(herr("an INTRA picture marked as PB-frames"));
    }
    let q = r.bits(5);
    // Continuous presence multipoint: a sub-bitstream indicator here and in every
    // group's header.
    let cpm = r.bit() == 1;
    if cpm {
        r.skip(2); // PSBI
    }
    while r.bit() == 1 {
        r.skip(8); // PSPARE
        if r.overrun() {
            return Err(herr("a picture header cut short"));
        }
    }
    if q == 0 {
        return Err(herr("a picture without a quantiser"));
    }
    // A group of blocks is one row of macroblocks up to CIF, two in 4CIF, four in 16CIF.
    let gob_rows = match height {
        576 => 2,
        1152 => 4,
        _ => 1,
    };
    intra_blocks(
        &mut r,
        width,
        height,
        q,
        Some((gob_rows, cpm)),
        Escapes::H263,
    )
}

/// Reads an H.263-style INTRA picture's macroblocks from `r` into its grid: a
/// `width`×`height` picture at quantiser `q`, in groups of blocks of so many rows
/// (whose headers are optional) with CPM, or none (Sorenson's).
fn intra_blocks(
    r: &mut Reader<'_>,
    width: usize,
    height: usize,
    mut q: u32,
    groups: Option<(usize, bool)>,
    escapes: Escapes,
) -> Result<phash::Grid, HashError> {
    let herr = |what: &str| corrupt(format!("H.263: {what}"));
    let pixels = width as u64 * height as u64;
    if pixels > MAX_FRAME_PIXELS || width == 0 || height == 0 {
        return Err(herr("a picture of no size, or larger than is read"));
    }
    let (mb_width, mb_height) = (width.div_ceil(16), height.div_ceil(16));
    let mut plane = Plane::sized(width as u32, height as u32, mb_width, mb_height);
    let table = h263_table();
    for address in 0..mb_width * mb_height {
        if let Some((gob_rows, cpm)) = groups
            && address > 0
            && address % (mb_width * gob_rows) == 0
        {
            // A group's header is optional: stuffing zeros to a byte, then GBSC.
            let stuffing = (8 - r.position() % 8) % 8;
            let found = if r.peek(17) == 1 {
                Some(0)
            } else if stuffing > 0 && r.peek(stuffing) == 0 && r.peek(stuffing + 17) == 1 {
                Some(stuffing)
            } else {
                None
            };
            if let Some(n) = found {
                r.skip(n + 17);
                let gn = r.bits(5) as usize;
                if gn != address / (mb_width * gob_rows) {
                    return Err(herr("a group of blocks out of its place"));
                }
                if cpm {
                    r.skip(2); // GSBI
                }
                r.skip(2); // GFID
                q = r.bits(5);
                if q == 0 {
                    return Err(herr("a group of blocks without a quantiser"));
                }
            }
        }
        let (dquant, cbpc) = Vop::mcbpc(r)?;
        let cbpy = cbpy(r)?;
        if dquant {
            q = (q as i32 + DQUANT[r.bits(2) as usize]).clamp(1, 31) as u32;
        }
        let pattern = (cbpy << 2) | cbpc;
        let mut luma = [0f32; 4];
        for b in 0..6 {
            let dc = r.bits(8);
            if dc == 0 || dc == 128 {
                return Err(herr("an INTRADC value no encoder writes"));
            }
            if let Some(mean) = luma.get_mut(b) {
                *mean = if dc == 255 { 128.0 } else { dc as f32 };
            }
            if pattern & (32 >> b) != 0 {
                skip_coefficients(r, table, escapes)?;
            }
        }
        if r.overrun() {
            return Err(herr("the picture ends inside a macroblock"));
        }
        plane.put(address, luma, false);
    }
    plane.grid()
}

/// A Sorenson H.263 picture (FLV's codec 2, Flash video of the 2000s): H.263's
/// macroblocks under a header of its own (a 17-bit start code, a format version, any
/// picture size) and no groups of blocks; format version 1 escapes a coefficient with a
/// 7- or 11-bit level.
pub(super) fn decode_sorenson(picture: &[u8]) -> Result<phash::Grid, HashError> {
    sorenson_picture(picture).map_err(|e| named(e, "Sorenson H.263: "))
}

fn sorenson_picture(picture: &[u8]) -> Result<phash::Grid, HashError> {
    let serr = |what: &str| corrupt(format!("H.263: {what}"));
    let mut r = Reader::new(picture);
    if r.bits(17) != 1 {
        return Err(serr("the picture does not begin with its start code"));
    }
    let version = r.bits(5);
    if version > 1 {
        return Err(serr("a format version other than 0 or 1"));
    }
    r.skip(8); // temporal reference
    let (width, height) = match r.bits(3) {
        0 => (r.bits(8) as usize, r.bits(8) as usize),
        1 => (r.bits(16) as usize, r.bits(16) as usize),
        2 => (352, 288),
        3 => (176, 144),
        4 => (128, 96),
        5 => (320, 240),
        6 => (160, 120),
        _ => return Err(serr("a reserved picture size")),
    };
    if r.bits(2) != 0 {
        return Err(serr("the keyframe is not an intra picture"));
    }
    r.skip(1); // deblocking
    let q = r.bits(5);
    while r.bit() == 1 {
        r.skip(8); // extra information
        if r.overrun() {
            return Err(serr("a picture header cut short"));
        }
    }
    if q == 0 {
        return Err(serr("a picture without a quantiser"));
    }
    let escapes = if version == 1 {
        Escapes::Sorenson
    } else {
        Escapes::H263
    };
    intra_blocks(&mut r, width, height, q, None, escapes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_codes(table: &[(u8, Runs, Runs)]) -> Vec<(u8, u16, bool)> {
        let mut all = vec![(7u8, 0b0000011u16, false)];
        for &(len, not_last, last) in table {
            for (runs, is_last) in [(not_last, false), (last, true)] {
                for &(a, b) in runs {
                    all.extend((a..=b).map(|c| (len, c, is_last)));
                }
            }
        }
        all
    }

    /// Table B-16 counts 67 codes before the last coefficient and 35 for it, Table B-17
    /// (H.263's Table 16) 58 and 44; in each no code is the beginning of another, and
    /// with the escape they leave unused only the codes that begin with nine zeros
    /// (kept from start codes); each lookup agrees with its list.
    #[test]
    fn the_coefficient_tables_are_prefix_codes() {
        for (name, table, lookup, counts) in [
            ("B-16", &INTRA_CODES, intra_table(), (67, 35)),
            ("B-17", &INTER_CODES, h263_table(), (58, 44)),
        ] {
            let all = all_codes(table);
            let not_last = all.iter().filter(|c| (c.0, c.1) != (7, 3) && !c.2).count();
            let last = all.iter().filter(|c| c.2).count();
            assert_eq!((not_last, last), counts, "{name}");
            let codes: Vec<(u8, u16)> = all.iter().map(|&(l, c, _)| (l, c)).collect();
            crate::video::mpeg12::tests::assert_prefix_free(name, &codes);
            let kraft: f64 = all.iter().map(|&(l, _, _)| 0.5f64.powi(i32::from(l))).sum();
            assert_eq!(kraft, 1.0 - 0.5f64.powi(9), "{name}");
            for (len, code, is_last) in all {
                let e = lookup[usize::from(code) << (12 - len)];
                assert_eq!(usize::from(e & LEN), usize::from(len), "{name}");
                assert_eq!(e & LAST != 0, is_last, "{name}");
            }
            assert_eq!(lookup[0], 0, "{name}");
        }
    }

    fn reader(bits: &str) -> Vec<u8> {
        let mut out = vec![0u8; bits.len().div_ceil(8) + 4];
        for (i, c) in bits.chars().enumerate() {
            if c == '1' {
                out[i / 8] |= 0x80 >> (i % 8);
            }
        }
        out
    }

    #[test]
    fn dc_sizes_and_differences_are_read_by_their_codes() {
        let read = |bits: &str, luma: bool| {
            let d = reader(bits);
            let mut r = Reader::new(&d);
            (dc_difference(&mut r, luma).unwrap(), r.position())
        };
        // Size 0; size 1 (+1, −1); size 3 (+5, −5); size 9 with its marker.
        assert_eq!(read("011", true), (0, 3));
        assert_eq!(read("111", true), (1, 3));
        assert_eq!(read("110", true), (-1, 3));
        assert_eq!(read("010101", true), (5, 6));
        assert_eq!(read("010010", true), (-5, 6));
        assert_eq!(read("000000011000000001", true), (256, 8 + 9 + 1));
        assert_eq!(read("11", false), (0, 2));
        assert_eq!(read("101", false), (1, 3));
        assert_eq!(read("001101", false), (5, 6));
        // A size 9 difference without its marker is refused.
        let d = reader("000000011111111110");
        assert!(dc_difference(&mut Reader::new(&d), true).is_err());
    }

    #[test]
    fn luma_patterns_are_read_by_their_codes() {
        let read = |bits: &str| {
            let d = reader(bits);
            let mut r = Reader::new(&d);
            (cbpy(&mut r).unwrap(), r.position())
        };
        assert_eq!(read("11"), (15, 2));
        assert_eq!(read("0011"), (0, 4));
        assert_eq!(read("00101"), (1, 5));
        assert_eq!(read("000010"), (6, 6));
        assert_eq!(read("000011"), (9, 6));
        assert_eq!(read("1000"), (13, 4));
        let d = reader("000000");
        assert!(cbpy(&mut Reader::new(&d)).is_err());
    }

    /// Errors of the shared readers carry the name of the codec read, once.
    #[test]
    fn errors_name_the_codec_read() {
        let text = |e: HashError| e.to_string();
        let sorenson = text(decode_sorenson(&[0xFF; 16]).unwrap_err());
        assert!(
            sorenson.contains("Sorenson H.263: the picture does not begin"),
            "{sorenson}"
        );
        assert!(!sorenson.contains("Sorenson Sorenson"), "{sorenson}");
        // A Sorenson header (start code, version 1, QCIF, intra, quantiser 8) over
        // macroblocks that are no codes: the shared reader's error, renamed.
        let mut bits = String::from("00000000000000001");
        bits += "00001"; // version 1
        bits += "00000000"; // temporal reference
        bits += "011"; // 176x144
        bits += "00"; // intra
        bits += "0"; // deblocking
        bits += "01000"; // quantiser 8
        bits += "0"; // no extra information
        bits += "000000000000"; // no macroblock type
        let e = text(decode_sorenson(&reader(&bits)).unwrap_err());
        assert!(
            e.contains("Sorenson H.263: a macroblock type no intra picture holds"),
            "{e}"
        );
        let h263 = text(decode_h263(&[0xFF; 16]).unwrap_err());
        assert!(h263.contains("H.263: the picture does not begin"), "{h263}");
        assert!(!h263.contains("MPEG-4"), "{h263}");
    }

    #[test]
    fn blocks_predict_from_the_flatter_side_within_their_packet() {
        let mut b = Blocks::new(2, 2);
        // Nothing around: 1024 at scaler 8 is level 128.
        assert_eq!(b.predicted(0, 0, 0, 8), 128);
        b.set(0, 0, 0, 100, 8); // 800
        b.set(1, 0, 0, 50, 8); // 400
        b.set(0, 1, 0, 101, 8); // 808
        // At (1, 1): A 808, B 800, C 400: |A − B| < |B − C|, so from above.
        assert_eq!(b.predicted(1, 1, 0, 8), 50);
        // In another packet, every neighbour is unavailable.
        assert_eq!(b.predicted(1, 1, 1, 8), 128);
        // Rounded to the nearest level at another scaler.
        assert_eq!(b.predicted(1, 1, 0, 16), 25);
    }
}
