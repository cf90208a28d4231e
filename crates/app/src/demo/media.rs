//! Placeholder media for the demo: captioned grey tiles, a street-outline drawing (no
//! people), text cards, and a 10-second grey "video" with a timecode overlay.
//!
//! Everything is drawn here on 8-bit greyscale canvases with a small bitmap font of our
//! own (5×7 glyphs) and written as PNG; the video is an animated PNG (APNG: `acTL`,
//! `fcTL`, `fdAT` chunks), 5 frames per second, which browsers and image viewers play
//! and which needs no video encoder. Pixel data is compressed with a minimal DEFLATE
//! encoder (fixed Huffman codes, runs as length/distance-1 matches) after PNG's "Up"
//! filter, so flat grey areas cost almost nothing.

/// A greyscale image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Canvas {
    pub fn new(width: u32, height: u32, grey: u8) -> Self {
        Self {
            width,
            height,
            pixels: vec![grey; (width * height) as usize],
        }
    }

    pub fn set(&mut self, x: i64, y: i64, v: u8) {
        if x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height {
            self.pixels[(y as u32 * self.width + x as u32) as usize] = v;
        }
    }

    pub fn get(&self, x: u32, y: u32) -> u8 {
        self.pixels[(y * self.width + x) as usize]
    }

    pub fn fill(&mut self, x: i64, y: i64, w: i64, h: i64, v: u8) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.set(xx, yy, v);
            }
        }
    }

    pub fn frame(&mut self, x: i64, y: i64, w: i64, h: i64, t: i64, v: u8) {
        self.fill(x, y, w, t, v);
        self.fill(x, y + h - t, w, t, v);
        self.fill(x, y, t, h, v);
        self.fill(x + w - t, y, t, h, v);
    }

    /// A line `t` pixels thick (Bresenham, stamped with a square).
    pub fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), t: i64, v: u8) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.fill(x - t / 2, y - t / 2, t, t, v);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// Draws text with the bitmap font at `scale`; returns the width drawn.
    pub fn text(&mut self, x: i64, y: i64, scale: i64, s: &str, v: u8) -> i64 {
        let mut cx = x;
        for ch in s.chars() {
            let g = glyph(ch);
            for (row, bits) in g.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0b10000 >> col) != 0 {
                        self.fill(cx + col * scale, y + row as i64 * scale, scale, scale, v);
                    }
                }
            }
            cx += 6 * scale;
        }
        cx - x
    }

    /// Draws text centred horizontally, wrapped at words to fit `max_w`; returns the
    /// height used.
    pub fn text_block(&mut self, y: i64, scale: i64, s: &str, v: u8, max_w: i64) -> i64 {
        let per_line = (max_w / (6 * scale)).max(1) as usize;
        let lines = wrap(s, per_line);
        for (i, l) in lines.iter().enumerate() {
            let w = text_width(l, scale);
            let x = (i64::from(self.width) - w) / 2;
            self.text(x, y + i as i64 * 9 * scale, scale, l, v);
        }
        lines.len() as i64 * 9 * scale
    }
}

pub fn text_width(s: &str, scale: i64) -> i64 {
    (s.chars().count() as i64 * 6 - 1).max(0) * scale
}

/// Splits text into lines of at most `n` characters at spaces (long words are cut).
pub fn wrap(s: &str, n: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split_whitespace() {
        let mut w = word.to_owned();
        while w.chars().count() > n {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            let head: String = w.chars().take(n).collect();
            w = w.chars().skip(n).collect();
            lines.push(head);
        }
        if cur.is_empty() {
            cur = w;
        } else if cur.chars().count() + 1 + w.chars().count() <= n {
            cur.push(' ');
            cur.push_str(&w);
        } else {
            lines.push(std::mem::replace(&mut cur, w));
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// The 5×7 glyph of a character (rows top to bottom, bit 4 = leftmost column).
/// Lower case is drawn as upper case; characters without a glyph as '?'.
pub fn glyph(c: char) -> [u8; 7] {
    let rows: [&str; 7] = match c.to_ascii_uppercase() {
        ' ' => ["     "; 7],
        'A' => [
            " ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #",
        ],
        'B' => [
            "#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### ",
        ],
        'C' => [
            " ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### ",
        ],
        'D' => [
            "#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### ",
        ],
        'E' => [
            "#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####",
        ],
        'F' => [
            "#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    ",
        ],
        'G' => [
            " ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####",
        ],
        'H' => [
            "#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #",
        ],
        'I' => [
            " ### ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### ",
        ],
        'J' => [
            "  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  ",
        ],
        'K' => [
            "#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #",
        ],
        'L' => [
            "#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####",
        ],
        'M' => [
            "#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #",
        ],
        'N' => [
            "#   #", "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #",
        ],
        'O' => [
            " ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### ",
        ],
        'P' => [
            "#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    ",
        ],
        'Q' => [
            " ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #",
        ],
        'R' => [
            "#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #",
        ],
        'S' => [
            " ####", "#    ", "#    ", " ### ", "    #", "    #", "#### ",
        ],
        'T' => [
            "#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ",
        ],
        'U' => [
            "#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### ",
        ],
        'V' => [
            "#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  ",
        ],
        'W' => [
            "#   #", "#   #", "#   #", "# # #", "# # #", "# # #", " # # ",
        ],
        'X' => [
            "#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #",
        ],
        'Y' => [
            "#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  ",
        ],
        'Z' => [
            "#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####",
        ],
        '0' => [
            " ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### ",
        ],
        '1' => [
            "  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### ",
        ],
        '2' => [
            " ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####",
        ],
        '3' => [
            "#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### ",
        ],
        '4' => [
            "   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # ",
        ],
        '5' => [
            "#####", "#    ", "#### ", "    #", "    #", "#   #", " ### ",
        ],
        '6' => [
            "  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### ",
        ],
        '7' => [
            "#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   ",
        ],
        '8' => [
            " ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### ",
        ],
        '9' => [
            " ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  ",
        ],
        '-' => [
            "     ", "     ", "     ", "#####", "     ", "     ", "     ",
        ],
        ':' => [
            "     ", " ##  ", " ##  ", "     ", " ##  ", " ##  ", "     ",
        ],
        '.' => [
            "     ", "     ", "     ", "     ", "     ", " ##  ", " ##  ",
        ],
        ',' => [
            "     ", "     ", "     ", "     ", " ##  ", "  #  ", " #   ",
        ],
        '/' => [
            "     ", "    #", "   # ", "  #  ", " #   ", "#    ", "     ",
        ],
        '\'' => [
            "  #  ", "  #  ", " #   ", "     ", "     ", "     ", "     ",
        ],
        '"' => [
            " # # ", " # # ", "     ", "     ", "     ", "     ", "     ",
        ],
        '(' => [
            "   # ", "  #  ", " #   ", " #   ", " #   ", "  #  ", "   # ",
        ],
        ')' => [
            " #   ", "  #  ", "   # ", "   # ", "   # ", "  #  ", " #   ",
        ],
        '_' => [
            "     ", "     ", "     ", "     ", "     ", "     ", "#####",
        ],
        '+' => [
            "     ", "  #  ", "  #  ", "#####", "  #  ", "  #  ", "     ",
        ],
        '#' => [
            " # # ", " # # ", "#####", " # # ", "#####", " # # ", " # # ",
        ],
        '=' => [
            "     ", "     ", "#####", "     ", "#####", "     ", "     ",
        ],
        '&' => [
            " ##  ", "#  # ", "# #  ", " #   ", "# # #", "#  # ", " ## #",
        ],
        '!' => [
            "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "     ", "  #  ",
        ],
        '%' => [
            "##   ", "##  #", "   # ", "  #  ", " #   ", "#  ##", "   ##",
        ],
        _ => [
            " ### ", "#   #", "    #", "   # ", "  #  ", "     ", "  #  ",
        ],
    };
    let mut out = [0u8; 7];
    for (i, r) in rows.iter().enumerate() {
        for (j, b) in r.bytes().enumerate() {
            if b == b'#' {
                out[i] |= 0b10000 >> j;
            }
        }
    }
    out
}

// ------------------------------------------------------------------ PNG writing

fn crc32(data: &[&[u8]]) -> u32 {
    let mut table = [0u32; 256];
    for (n, t) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *t = c;
    }
    let mut c = 0xFFFF_FFFFu32;
    for part in data {
        for &b in *part {
            c = table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
    }
    c ^ 0xFFFF_FFFF
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// Writes bits least significant first, as DEFLATE does.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    /// A Huffman code, which DEFLATE stores most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        let mut r = 0;
        for i in 0..len {
            r |= ((code >> i) & 1) << (len - 1 - i);
        }
        self.put(r, len);
    }
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

fn literal(b: &mut Bits, sym: u32) {
    match sym {
        0..=143 => b.code(0x30 + sym, 8),
        144..=255 => b.code(0x190 + sym - 144, 9),
        256..=279 => b.code(sym - 256, 7),
        _ => b.code(0xC0 + sym - 280, 8),
    }
}

/// (base length, extra bits) of length codes 257..=285.
const LENGTHS: [(u32, u32); 29] = [
    (3, 0),
    (4, 0),
    (5, 0),
    (6, 0),
    (7, 0),
    (8, 0),
    (9, 0),
    (10, 0),
    (11, 1),
    (13, 1),
    (15, 1),
    (17, 1),
    (19, 2),
    (23, 2),
    (27, 2),
    (31, 2),
    (35, 3),
    (43, 3),
    (51, 3),
    (59, 3),
    (67, 4),
    (83, 4),
    (99, 4),
    (115, 4),
    (131, 5),
    (163, 5),
    (195, 5),
    (227, 5),
    (258, 0),
];

/// A repeat of the previous byte, `len` (3..=258) times: a length code and distance 1.
fn run(b: &mut Bits, len: u32) {
    let i = LENGTHS
        .iter()
        .rposition(|(base, _)| *base <= len)
        .expect("len >= 3");
    let (base, extra) = LENGTHS[i];
    literal(b, 257 + i as u32);
    if extra > 0 {
        b.put(len - base, extra);
    }
    b.code(0, 5); // distance code 0: distance 1
}

/// DEFLATE (RFC 1951) with one fixed-Huffman block; runs of a byte become matches at
/// distance 1.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut b = Bits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    b.put(1, 1); // final block
    b.put(1, 2); // fixed Huffman codes
    let mut i = 0;
    while i < data.len() {
        let v = data[i];
        literal(&mut b, u32::from(v));
        i += 1;
        let mut n = 0;
        while i + n < data.len() && data[i + n] == v && n < 258 {
            n += 1;
        }
        if n >= 3 {
            run(&mut b, n as u32);
            i += n;
        }
    }
    literal(&mut b, 256);
    b.finish()
}

/// A zlib stream (RFC 1950) around [`deflate`].
pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    out.extend(deflate(data));
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// Scanlines with PNG filter type 2 ("Up") each.
fn filtered(c: &Canvas) -> Vec<u8> {
    let w = c.width as usize;
    let mut out = Vec::with_capacity((w + 1) * c.height as usize);
    for y in 0..c.height as usize {
        out.push(2);
        let row = &c.pixels[y * w..(y + 1) * w];
        if y == 0 {
            out.extend_from_slice(row);
        } else {
            let prev = &c.pixels[(y - 1) * w..y * w];
            out.extend(row.iter().zip(prev).map(|(a, b)| a.wrapping_sub(*b)));
        }
    }
    out
}

fn ihdr(c: &Canvas) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend_from_slice(&c.width.to_be_bytes());
    d.extend_from_slice(&c.height.to_be_bytes());
    d.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale, deflate, adaptive, no interlace
    d
}

const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

fn text_chunk(out: &mut Vec<u8>, key: &str, value: &str) {
    let mut d = key.as_bytes().to_vec();
    d.push(0);
    d.extend(value.bytes().filter(|b| b.is_ascii() && *b != 0));
    chunk(out, b"tEXt", &d);
}

/// A greyscale PNG with a `tEXt` description.
pub fn png(c: &Canvas, description: &str) -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    chunk(&mut out, b"IHDR", &ihdr(c));
    text_chunk(&mut out, "Description", description);
    chunk(&mut out, b"IDAT", &zlib(&filtered(c)));
    chunk(&mut out, b"IEND", &[]);
    out
}

/// An animated PNG (APNG) of equal-sized frames, each shown `1/fps` s, played once.
pub fn apng(frames: &[Canvas], fps: u16, description: &str) -> Vec<u8> {
    let first = &frames[0];
    let mut out = SIGNATURE.to_vec();
    chunk(&mut out, b"IHDR", &ihdr(first));
    let mut actl = (frames.len() as u32).to_be_bytes().to_vec();
    actl.extend_from_slice(&1u32.to_be_bytes());
    chunk(&mut out, b"acTL", &actl);
    text_chunk(&mut out, "Description", description);
    let mut seq = 0u32;
    for (i, f) in frames.iter().enumerate() {
        let mut fctl = seq.to_be_bytes().to_vec();
        seq += 1;
        fctl.extend_from_slice(&f.width.to_be_bytes());
        fctl.extend_from_slice(&f.height.to_be_bytes());
        fctl.extend_from_slice(&0u32.to_be_bytes());
        fctl.extend_from_slice(&0u32.to_be_bytes());
        fctl.extend_from_slice(&1u16.to_be_bytes());
        fctl.extend_from_slice(&fps.to_be_bytes());
        fctl.extend_from_slice(&[0, 0]); // dispose none, blend source
        chunk(&mut out, b"fcTL", &fctl);
        let data = zlib(&filtered(f));
        if i == 0 {
            chunk(&mut out, b"IDAT", &data);
        } else {
            let mut d = seq.to_be_bytes().to_vec();
            seq += 1;
            d.extend(data);
            chunk(&mut out, b"fdAT", &d);
        }
    }
    chunk(&mut out, b"IEND", &[]);
    out
}

// ------------------------------------------------------------------ the placeholders

const W: u32 = 384;
const H: u32 = 256;

fn caption_band(c: &mut Canvas, caption: &str) {
    let w = i64::from(c.width);
    let h = i64::from(c.height);
    let lines = wrap(caption, ((w - 16) / 12) as usize).len() as i64;
    let band = lines * 18 + 10;
    c.fill(0, h - band, w, band, 232);
    c.text_block(h - band + 6, 2, caption, 20, w - 16);
}

fn banner(c: &mut Canvas) {
    let w = i64::from(c.width);
    c.fill(0, 0, w, 16, 40);
    let t = "GENERATED PLACEHOLDER - NOT REAL IMAGERY";
    c.text((w - text_width(t, 1)) / 2, 4, 1, t, 235);
}

/// Blocks of grey, placed and shaded by `seed` (the evidence's name): each placeholder
/// is a picture of its own, so that `custody clusters` does not group two pieces of
/// evidence as copies of one picture because their tiles differ only in their captions.
/// Blocks are filled (`Fill`), outlined (`Outline`) or filled in light greys that text
/// stays readable on (`Behind`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Blocks {
    Fill,
    Outline,
    Behind,
}

fn blocks(c: &mut Canvas, seed: &str, style: Blocks) {
    // FNV-1a of the seed, then a linear congruential sequence.
    let mut state = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut next = |below: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) % below) as i64
    };
    for _ in 0..5 {
        let (w, h) = (48 + next(140), 30 + next(90));
        let (x, y) = (next(u64::from(W) - 40), 18 + next(150));
        let v = 40 + next(180) as u8;
        match style {
            Blocks::Fill => c.fill(x, y, w, h, v),
            Blocks::Outline => c.frame(x, y, w, h, 3, v / 2),
            Blocks::Behind => c.fill(x, y, w, h, 150 + v / 5),
        }
    }
}

/// A grey tile with a caption, and blocks of its own (`seed`).
pub fn grey_tile(caption: &str, seed: &str) -> Canvas {
    let mut c = Canvas::new(W, H, 128);
    c.frame(0, 0, i64::from(W), i64::from(H), 2, 96);
    blocks(&mut c, seed, Blocks::Fill);
    banner(&mut c);
    caption_band(&mut c, caption);
    c
}

/// A street-outline drawing without people: road edges, a crossing street, building
/// footprints, some of them its own (`seed`).
pub fn street_outline(caption: &str, seed: &str) -> Canvas {
    let mut c = Canvas::new(W, H, 236);
    let ink = 60;
    // A main street running diagonally and a side street crossing it.
    c.line((0, 70), (383, 150), 2, ink);
    c.line((0, 110), (383, 190), 2, ink);
    c.line((170, 16), (150, 104), 2, ink);
    c.line((210, 16), (190, 112), 2, ink);
    // Centre line, dashed.
    for k in 0..12 {
        let x0 = k * 34;
        c.line(
            (x0, 90 + x0 * 80 / 383),
            (x0 + 16, 90 + (x0 + 16) * 80 / 383),
            1,
            120,
        );
    }
    // Building footprints on both sides.
    for (x, y, w, h) in [
        (20, 24, 60, 34),
        (92, 30, 44, 38),
        (240, 40, 56, 40),
        (310, 60, 50, 40),
        (30, 140, 70, 40),
        (120, 160, 50, 30),
        (250, 196, 60, 16),
    ] {
        c.frame(x, y, w, h, 2, ink);
    }
    blocks(&mut c, seed, Blocks::Outline);
    banner(&mut c);
    caption_band(&mut c, caption);
    c
}

/// A text card, on light blocks of its own (`seed`).
pub fn text_card(caption: &str, seed: &str) -> Canvas {
    let mut c = Canvas::new(W, H, 246);
    blocks(&mut c, seed, Blocks::Behind);
    c.frame(6, 22, i64::from(W) - 12, i64::from(H) - 28, 2, 70);
    banner(&mut c);
    c.text_block(50, 2, caption, 25, i64::from(W) - 40);
    c
}

/// The frames of a grey video with a timecode overlay (HH:MM:SS:FF), `fps` per second.
pub fn timecode_frames(seconds: u32, fps: u32, caption: &str) -> Vec<Canvas> {
    let (w, h) = (320u32, 180u32);
    (0..seconds * fps)
        .map(|i| {
            let mut c = Canvas::new(w, h, 128);
            banner(&mut c);
            let s = i / fps;
            let tc = format!(
                "{:02}:{:02}:{:02}:{:02}",
                s / 3600,
                s / 60 % 60,
                s % 60,
                i % fps
            );
            let tw = text_width(&tc, 3);
            c.fill((i64::from(w) - tw) / 2 - 8, 66, tw + 16, 37, 30);
            c.text((i64::from(w) - tw) / 2, 74, 3, &tc, 240);
            c.text_block(150, 1, caption, 230, i64::from(w) - 10);
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::AnimationDecoder;

    #[test]
    fn the_font_covers_the_captions() {
        for ch in "SATELLITE PLACEHOLDER - church grounds - 2022-03-10 'x' (a/b): 5.0".chars() {
            let g = glyph(ch);
            if ch != ' ' {
                assert!(g.iter().any(|r| *r != 0), "{ch:?} has a glyph");
            }
        }
        assert_ne!(glyph('A'), glyph('B'));
        assert_eq!(glyph('a'), glyph('A'));
        assert_eq!(
            wrap("one two three four", 9),
            vec!["one two", "three", "four"]
        );
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    }

    /// Placeholders of different evidence are different pictures to the perceptual
    /// hash (farther apart than `custody clusters` groups by default); one piece of
    /// evidence drawn twice is the same picture.
    #[test]
    fn placeholders_of_different_evidence_are_not_near_duplicates() {
        let hash = |c: &Canvas| custody_similar::hash_bytes(&png(c, "test"), "image/png").unwrap();
        let caption = "SATELLITE PLACEHOLDER - Yablunska";
        for make in [grey_tile, street_outline, text_card] {
            let a = hash(&make(caption, "EV-04"));
            let b = hash(&make(caption, "EV-05"));
            assert!(a.distance(&b) > 10, "{a} vs {b}: {}", a.distance(&b));
            assert_eq!(a, hash(&make(caption, "EV-04")));
        }
    }

    #[test]
    fn png_decodes_to_the_same_pixels() {
        let c = grey_tile("SATELLITE PLACEHOLDER - Yablunska - 2022-03-18", "EV-04");
        let bytes = png(&c, "test");
        let img = image::load_from_memory(&bytes)
            .expect("a valid PNG")
            .to_luma8();
        assert_eq!((img.width(), img.height()), (c.width, c.height));
        assert_eq!(img.as_raw(), &c.pixels, "pixels survive the round trip");
        // Flat areas compress: far smaller than the raw pixels.
        assert!(bytes.len() < c.pixels.len() / 4, "{} bytes", bytes.len());
        // Text is drawn: the caption band holds dark pixels.
        assert!(c.pixels.contains(&20));
    }

    #[test]
    fn deflate_round_trips_every_run_length() {
        // Runs of every length up to 300 and literals between them.
        let mut data = Vec::new();
        for n in 1..300u32 {
            data.extend(std::iter::repeat_n((n % 251) as u8, n as usize));
            data.push(7);
        }
        let c = Canvas {
            width: data.len() as u32,
            height: 1,
            pixels: data.clone(),
        };
        let img = image::load_from_memory(&png(&c, "runs"))
            .expect("valid")
            .to_luma8();
        assert_eq!(img.as_raw(), &data);
    }

    #[test]
    fn the_video_is_an_animated_png_of_ten_seconds() {
        let frames = timecode_frames(10, 5, "VIDEO PLACEHOLDER");
        assert_eq!(frames.len(), 50);
        assert_ne!(frames[0], frames[1], "the timecode changes");
        let bytes = apng(&frames, 5, "test");
        let dec = image::codecs::png::PngDecoder::new(std::io::Cursor::new(&bytes))
            .expect("png")
            .apng()
            .expect("apng");
        let decoded = dec.into_frames().collect_frames().expect("frames");
        assert_eq!(decoded.len(), 50);
        let total_ms: u32 = decoded
            .iter()
            .map(|f| {
                let (n, d) = f.delay().numer_denom_ms();
                n / d
            })
            .sum();
        assert_eq!(total_ms, 10_000);
        let last = image::DynamicImage::ImageRgba8(decoded[49].buffer().clone()).to_luma8();
        assert_eq!(last.as_raw(), &frames[49].pixels);
    }
}
