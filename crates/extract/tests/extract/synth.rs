//! Small synthetic files for the formats the shared samples lack (MP4, PDF, GeoTIFF,
//! PNG, WebP, WebM). They carry made-up, non-graphic content; the metadata in them is
//! checked against exiftool's reading of the same bytes, so these builders are not
//! trusted to be right on their own.

use custody_testkit::media::ebml;

/// An ISO BMFF box.
pub fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

fn full(version: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![version, 0, 0, 0];
    v.extend_from_slice(body);
    v
}

/// Seconds since 1904 for 2022-02-24T03:10:00Z.
pub const MVHD_CREATED: u32 = 1_645_672_200 + 2_082_844_800;

/// An MP4 with `mvhd` (12.345 s), one 1920×1080 `avc1` video track, `©xyz`, `©mak`,
/// `©mod`, and an Apple `mdta` creation date with an offset.
pub fn mp4() -> Vec<u8> {
    let mut ftyp = b"isom".to_vec();
    ftyp.extend_from_slice(&0x200u32.to_be_bytes());
    ftyp.extend_from_slice(b"isomiso2avc1mp41");

    let mut mvhd = Vec::new();
    mvhd.extend_from_slice(&MVHD_CREATED.to_be_bytes());
    mvhd.extend_from_slice(&MVHD_CREATED.to_be_bytes());
    mvhd.extend_from_slice(&1000u32.to_be_bytes());
    mvhd.extend_from_slice(&12_345u32.to_be_bytes());
    mvhd.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate
    mvhd.extend_from_slice(&0x0100u16.to_be_bytes()); // volume
    mvhd.extend_from_slice(&[0; 10]);
    for m in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        mvhd.extend_from_slice(&m.to_be_bytes());
    }
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend_from_slice(&2u32.to_be_bytes());
    let mvhd = bx(b"mvhd", &full(0, &mvhd));

    let mut tkhd = Vec::new();
    tkhd.extend_from_slice(&MVHD_CREATED.to_be_bytes());
    tkhd.extend_from_slice(&MVHD_CREATED.to_be_bytes());
    tkhd.extend_from_slice(&1u32.to_be_bytes()); // track id
    tkhd.extend_from_slice(&0u32.to_be_bytes());
    tkhd.extend_from_slice(&12_345u32.to_be_bytes());
    tkhd.extend_from_slice(&[0; 8]);
    tkhd.extend_from_slice(&[0; 4]); // layer, alternate group
    tkhd.extend_from_slice(&[0; 4]); // volume, reserved
    for m in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        tkhd.extend_from_slice(&m.to_be_bytes());
    }
    tkhd.extend_from_slice(&(1920u32 << 16).to_be_bytes());
    tkhd.extend_from_slice(&(1080u32 << 16).to_be_bytes());
    let tkhd = bx(b"tkhd", &{
        let mut v = vec![0, 0, 0, 3];
        v.extend_from_slice(&tkhd);
        v
    });

    let mut mdhd = Vec::new();
    mdhd.extend_from_slice(&MVHD_CREATED.to_be_bytes());
    mdhd.extend_from_slice(&MVHD_CREATED.to_be_bytes());
    mdhd.extend_from_slice(&90_000u32.to_be_bytes());
    mdhd.extend_from_slice(&1_111_050u32.to_be_bytes());
    // "eng" packed as three 5-bit letters.
    let lang = ((b'e' - 0x60) as u16) << 10 | ((b'n' - 0x60) as u16) << 5 | (b'g' - 0x60) as u16;
    mdhd.extend_from_slice(&lang.to_be_bytes());
    mdhd.extend_from_slice(&[0, 0]);
    let mdhd = bx(b"mdhd", &full(0, &mdhd));

    let mut hdlr = vec![0; 4];
    hdlr.extend_from_slice(b"vide");
    hdlr.extend_from_slice(&[0; 12]);
    hdlr.extend_from_slice(b"VideoHandler\0");
    let hdlr = bx(b"hdlr", &full(0, &hdlr));

    let mut avc1 = vec![0; 6];
    avc1.extend_from_slice(&1u16.to_be_bytes()); // data reference index
    avc1.extend_from_slice(&[0; 16]);
    avc1.extend_from_slice(&1920u16.to_be_bytes());
    avc1.extend_from_slice(&1080u16.to_be_bytes());
    avc1.extend_from_slice(&0x0048_0000u32.to_be_bytes());
    avc1.extend_from_slice(&0x0048_0000u32.to_be_bytes());
    avc1.extend_from_slice(&[0; 4]);
    avc1.extend_from_slice(&1u16.to_be_bytes());
    avc1.extend_from_slice(&[0; 32]);
    avc1.extend_from_slice(&0x0018u16.to_be_bytes());
    avc1.extend_from_slice(&0xFFFFu16.to_be_bytes());
    let mut stsd = 1u32.to_be_bytes().to_vec();
    stsd.extend_from_slice(&bx(b"avc1", &avc1));
    let stsd = bx(b"stsd", &full(0, &stsd));
    let stbl = bx(b"stbl", &stsd);
    let minf = bx(b"minf", &stbl);
    let mdia = bx(b"mdia", &[mdhd, hdlr, minf].concat());
    let trak = bx(b"trak", &[tkhd, mdia].concat());

    let qt_text = |kind: &[u8; 4], text: &str| {
        let mut v = (text.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(&0x15C7u16.to_be_bytes());
        v.extend_from_slice(text.as_bytes());
        bx(kind, &v)
    };
    let udta = bx(
        b"udta",
        &[
            qt_text(b"\xA9xyz", "+50.5436+030.2124+150.000/"),
            qt_text(b"\xA9mak", "Synthetic"),
            qt_text(b"\xA9mod", "Test Rig 1"),
        ]
        .concat(),
    );

    // Apple metadata: keys + ilst.
    let key = |name: &str| {
        let mut v = ((name.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(b"mdta");
        v.extend_from_slice(name.as_bytes());
        v
    };
    let mut keys = vec![0, 0, 0, 0];
    keys.extend_from_slice(&1u32.to_be_bytes());
    keys.extend_from_slice(&key("com.apple.quicktime.creationdate"));
    let keys = bx(b"keys", &keys);
    let mut data = 1u32.to_be_bytes().to_vec();
    data.extend_from_slice(&[0; 4]);
    data.extend_from_slice(b"2022-02-24T05:10:00+0200");
    let item = bx(&1u32.to_be_bytes(), &bx(b"data", &data));
    let ilst = bx(b"ilst", &item);
    let mut mhdlr = vec![0; 8];
    mhdlr.extend_from_slice(b"mdta");
    mhdlr.extend_from_slice(&[0; 13]);
    let meta = bx(b"meta", &[bx(b"hdlr", &mhdlr), keys, ilst].concat());

    let moov = bx(b"moov", &[mvhd, trak, udta, meta].concat());
    [bx(b"ftyp", &ftyp), moov, bx(b"mdat", &[0u8; 64])].concat()
}

/// A one-page PDF with a classic xref table and an `/Info` dictionary.
pub fn pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>".to_string(),
        "<< /Title (Field report \\(draft\\)) /Author <FEFF00C9006C00E9006E0065> /Creator (Synthetic Writer 1.0) /Producer (custody test) /CreationDate (D:20220224051000+02'00') /ModDate (D:20220301120000Z) >>".to_string(),
    ];
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A 2×2 GeoTIFF on WGS 84 (geographic, pixel is area), 0.001° a pixel, its corner at
/// 30.2124° E, 50.5436° N.
pub fn geotiff() -> Vec<u8> {
    custody_testkit::data::geotiff(&custody_testkit::data::GeoTiffSpec {
        width: 2,
        height: 2,
        pixel_scale: Some([0.001, 0.001, 0.0]),
        tiepoint: Some([0.0, 0.0, 0.0, 30.2124, 50.5436, 0.0]),
        transformation: None,
        keys: vec![(1024, 2), (1025, 1), (2048, 4326)],
    })
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut v = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    v.extend_from_slice(&body);
    v.extend_from_slice(&crc32(&body).to_be_bytes());
    v
}

/// A valid 1×1 grey PNG (zlib stream with one stored block).
pub fn png() -> Vec<u8> {
    let mut ihdr = 1u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let raw = [0u8, 0x80]; // filter byte, one grey pixel
    let mut z = vec![0x78, 0x01, 0x01];
    z.extend_from_slice(&(raw.len() as u16).to_le_bytes());
    z.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
    z.extend_from_slice(&raw);
    let (mut a, mut b) = (1u32, 0u32);
    for &c in &raw {
        a = (a + u32::from(c)) % 65521;
        b = (b + a) % 65521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    [
        b"\x89PNG\r\n\x1a\n".to_vec(),
        png_chunk(b"IHDR", &ihdr),
        png_chunk(b"IDAT", &z),
        png_chunk(b"IEND", &[]),
    ]
    .concat()
}

/// A 3×2 lossless WebP header (the pixel data is not decoded by anyone here).
pub fn webp() -> Vec<u8> {
    let (w, h) = (3u32, 2u32);
    let bits = (w - 1) | ((h - 1) << 14);
    let mut vp8l = vec![0x2F];
    vp8l.extend_from_slice(&bits.to_le_bytes());
    vp8l.extend_from_slice(&[0; 7]);
    let mut chunk = b"VP8L".to_vec();
    chunk.extend_from_slice(&(vp8l.len() as u32).to_le_bytes());
    chunk.extend_from_slice(&vp8l);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&((4 + chunk.len()) as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&chunk);
    out
}

/// A JPEG whose EXIF holds only a GPS block: latitude and longitude (degrees, minutes,
/// seconds as whole numbers), their references, and GPSStatus when given.
pub fn jpeg_with_gps(lat: [u32; 3], lon: [u32; 3], status: Option<&str>) -> Vec<u8> {
    jpeg_with_gps_clock(lat, lon, status, None, None)
}

/// [`jpeg_with_gps`] with GPSTimeStamp (hours, minutes, seconds as whole numbers) and
/// GPSDateStamp (`YYYY:MM:DD`) when given.
pub fn jpeg_with_gps_clock(
    lat: [u32; 3],
    lon: [u32; 3],
    status: Option<&str>,
    time: Option<[u32; 3]>,
    date: Option<&str>,
) -> Vec<u8> {
    // Big-endian TIFF: header, IFD0 with the GPS pointer, the GPS IFD, then the values.
    let mut gps_entries: Vec<(u16, u16, u32, [u8; 4])> =
        vec![(1, 2, 2, *b"N\0\0\0"), (3, 2, 2, *b"E\0\0\0")];
    if let Some(s) = status {
        let b = s.as_bytes();
        gps_entries.push((9, 2, 2, [b[0], 0, 0, 0]));
    }
    let ifd0_at = 8u32;
    let ifd0_len = 2 + 12 + 4;
    let gps_at = ifd0_at + ifd0_len;
    let n = gps_entries.len() as u32 + 2 + u32::from(time.is_some()) + u32::from(date.is_some());
    let values_at = gps_at + 2 + 12 * n + 4;
    let mut t = Vec::new();
    t.extend_from_slice(b"MM\0\x2A");
    t.extend_from_slice(&ifd0_at.to_be_bytes());
    t.extend_from_slice(&1u16.to_be_bytes());
    t.extend_from_slice(&0x8825u16.to_be_bytes());
    t.extend_from_slice(&4u16.to_be_bytes());
    t.extend_from_slice(&1u32.to_be_bytes());
    t.extend_from_slice(&gps_at.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    // The GPS IFD, tags ascending: 1, 2 (latitude), 3, 4 (longitude), 7 (time), 9,
    // 29 (date); values after it: latitude, longitude, time, date.
    let mut all: Vec<(u16, u16, u32, [u8; 4])> = gps_entries.clone();
    all.push((2, 5, 3, values_at.to_be_bytes()));
    all.push((4, 5, 3, (values_at + 24).to_be_bytes()));
    if time.is_some() {
        all.push((7, 5, 3, (values_at + 48).to_be_bytes()));
    }
    let date_at = values_at + 48 + if time.is_some() { 24 } else { 0 };
    if let Some(d) = date {
        all.push((29, 2, d.len() as u32 + 1, date_at.to_be_bytes()));
    }
    all.sort_by_key(|e| e.0);
    t.extend_from_slice(&(all.len() as u16).to_be_bytes());
    for (tag, ty, count, value) in all {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&ty.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&value);
    }
    t.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(t.len() as u32, values_at);
    for v in lat.iter().chain(lon.iter()).chain(time.iter().flatten()) {
        t.extend_from_slice(&v.to_be_bytes());
        t.extend_from_slice(&1u32.to_be_bytes());
    }
    if let Some(d) = date {
        t.extend_from_slice(d.as_bytes());
        t.push(0);
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&t);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A WebM file: an EBML header, a segment with its information (time scale 1 ms, 2.5 s,
/// muxed 2022-04-02T10:15:30Z, the writing application), one 320×240 VP9 track and a
/// cluster holding one block of made-up bytes.
pub fn webm() -> Vec<u8> {
    let header = ebml(0x1A45_DFA3, &ebml(0x4282, b"webm"));
    let date_ns: i64 = (1_648_894_530 - 978_307_200) * 1_000_000_000;
    let info = [
        ebml(0x2A_D7B1, &[0x0F, 0x42, 0x40]),
        ebml(0x4489, &2500f64.to_be_bytes()),
        ebml(0x4461, &date_ns.to_be_bytes()),
        ebml(0x4D80, b"synthetic muxer"),
        ebml(0x5741, b"synthetic writer"),
    ]
    .concat();
    let video = [ebml(0xB0, &[0x01, 0x40]), ebml(0xBA, &[0xF0])].concat();
    let entry = [
        ebml(0xD7, &[1]),
        ebml(0x83, &[1]),
        ebml(0x86, b"V_VP9"),
        ebml(0xE0, &video),
    ]
    .concat();
    let cluster = [
        ebml(0xE7, &[0]),
        ebml(0xA3, &[0x81, 0, 0, 0x80, 1, 2, 3, 4]),
    ]
    .concat();
    let segment = [
        ebml(0x1549_A966, &info),
        ebml(0x1654_AE6B, &ebml(0xAE, &entry)),
        ebml(0x1F43_B675, &cluster),
    ]
    .concat();
    [header, ebml(0x1853_8067, &segment)].concat()
}

/// An AVI file as a dashcam writes one: a main header (10 fps, 25 frames, 320×240), one
/// Motion JPEG stream, the camera's `IDIT` time, an `INFO` list (creation date,
/// software), and a `movi` list of one made-up frame.
pub fn avi() -> Vec<u8> {
    let chunk = |id: &[u8; 4], data: &[u8]| custody_testkit::media::riff_chunk(id, data, true);
    let list = |kind: &[u8], body: &[u8]| chunk(b"LIST", &[kind, body].concat());
    let le = |v: u32| v.to_le_bytes();
    let avih = [
        le(100_000),
        le(0),
        le(0),
        le(0x10),
        le(25),
        le(0),
        le(1),
        le(0),
        le(320),
        le(240),
    ]
    .concat();
    let avih = [avih, vec![0; 16]].concat();
    let strh = [
        &b"vidsMJPG"[..],
        &[0; 12],
        &le(1),
        &le(10),
        &le(0),
        &le(25),
        &[0; 20],
    ]
    .concat();
    let strf = [
        &le(40)[..],
        &le(320),
        &le(240),
        &[1, 0, 24, 0],
        b"MJPG",
        &[0; 20],
    ]
    .concat();
    let strl = list(
        b"strl",
        &[chunk(b"strh", &strh), chunk(b"strf", &strf)].concat(),
    );
    let idit = chunk(b"IDIT", b"SAT APR 02 10:15:30 2022\n\0");
    let hdrl = list(b"hdrl", &[chunk(b"avih", &avih), strl, idit].concat());
    let info = list(
        b"INFO",
        &[
            chunk(b"ICRD", b"2022-04-02\0"),
            chunk(b"ISFT", b"synthetic dashcam\0"),
        ]
        .concat(),
    );
    let movi = list(b"movi", &chunk(b"00dc", &[0xFF, 0xD8, 0xFF, 0xD9]));
    chunk(b"RIFF", &[&b"AVI "[..], &hdrl, &info, &movi].concat())
}
