//! GeoTIFF georeferencing (OGC GeoTIFF 1.1): model tie points, pixel scale,
//! transformation, and the GeoKey directory with its EPSG codes.
//!
//! The TIFF fields come from the EXIF parser; the key directory is decoded here,
//! with every index checked against the parameter arrays it points into.

use exif::{Context, Value};

use crate::exif::{Exif, decode_text};
use crate::record::{GeoKey, GeoTiff, Metadata, Position};

const MODEL_PIXEL_SCALE: u16 = 33550;
const MODEL_TIEPOINT: u16 = 33922;
const MODEL_TRANSFORMATION: u16 = 34264;
const GEO_KEY_DIRECTORY: u16 = 34735;
const GEO_DOUBLE_PARAMS: u16 = 34736;
const GEO_ASCII_PARAMS: u16 = 34737;

const MAX_KEYS: usize = 1024;

fn key_name(id: u16) -> &'static str {
    match id {
        1024 => "GTModelTypeGeoKey",
        1025 => "GTRasterTypeGeoKey",
        1026 => "GTCitationGeoKey",
        2048 => "GeographicTypeGeoKey",
        2049 => "GeogCitationGeoKey",
        2050 => "GeogGeodeticDatumGeoKey",
        2051 => "GeogPrimeMeridianGeoKey",
        2052 => "GeogLinearUnitsGeoKey",
        2054 => "GeogAngularUnitsGeoKey",
        2056 => "GeogEllipsoidGeoKey",
        2057 => "GeogSemiMajorAxisGeoKey",
        2058 => "GeogSemiMinorAxisGeoKey",
        2059 => "GeogInvFlatteningGeoKey",
        3072 => "ProjectedCSTypeGeoKey",
        3073 => "PCSCitationGeoKey",
        3074 => "ProjectionGeoKey",
        3075 => "ProjCoordTransGeoKey",
        3076 => "ProjLinearUnitsGeoKey",
        4096 => "VerticalCSTypeGeoKey",
        4097 => "VerticalCitationGeoKey",
        4098 => "VerticalDatumGeoKey",
        4099 => "VerticalUnitsGeoKey",
        _ => "Unknown",
    }
}

fn doubles(v: &Value) -> Option<Vec<f64>> {
    match v {
        Value::Double(d) => Some(d.clone()),
        Value::Float(f) => Some(f.iter().map(|&x| f64::from(x)).collect()),
        _ => None,
    }
}

fn shorts(v: &Value) -> Option<Vec<u16>> {
    match v {
        Value::Short(s) => Some(s.clone()),
        _ => None,
    }
}

/// Reads the GeoTIFF tags of IFD0; `None` when there are none.
pub fn extract(ex: &Exif, md: &mut Metadata) -> Option<GeoTiff> {
    let mut g = GeoTiff::default();
    let mut seen = false;
    let mut dir = None;
    let mut dbl = Vec::new();
    let mut ascii = String::new();
    for f in ex.fields() {
        if f.ifd_num.index() != 0 || f.tag.context() != Context::Tiff {
            continue;
        }
        match f.tag.number() {
            MODEL_PIXEL_SCALE => {
                seen = true;
                match doubles(&f.value).as_deref() {
                    Some([x, y, z, ..]) => g.pixel_scale = Some([*x, *y, *z]),
                    _ => md.problem("GeoTIFF ModelPixelScale: not three doubles"),
                }
            }
            MODEL_TIEPOINT => {
                seen = true;
                match doubles(&f.value) {
                    Some(v) if v.len() % 6 == 0 => {
                        g.tiepoints = v
                            .chunks_exact(6)
                            .take(MAX_KEYS)
                            .map(|c| [c[0], c[1], c[2], c[3], c[4], c[5]])
                            .collect();
                    }
                    _ => md.problem("GeoTIFF ModelTiepoint: not a multiple of six doubles"),
                }
            }
            MODEL_TRANSFORMATION => {
                seen = true;
                match doubles(&f.value) {
                    Some(v) if v.len() == 16 => g.transformation = Some(v),
                    _ => md.problem("GeoTIFF ModelTransformation: not sixteen doubles"),
                }
            }
            GEO_KEY_DIRECTORY => {
                seen = true;
                dir = shorts(&f.value);
                if dir.is_none() {
                    md.problem("GeoTIFF GeoKeyDirectory: not an array of SHORT");
                }
            }
            GEO_DOUBLE_PARAMS => dbl = doubles(&f.value).unwrap_or_default(),
            GEO_ASCII_PARAMS => {
                if let Value::Ascii(a) = &f.value {
                    ascii = a
                        .iter()
                        .map(|s| decode_text(s))
                        .collect::<Vec<_>>()
                        .join("\0");
                }
            }
            _ => {}
        }
    }
    if !seen {
        return None;
    }
    if let Some(dir) = dir {
        keys(&dir, &dbl, &ascii, &mut g, md);
    }
    Some(g)
}

fn keys(dir: &[u16], dbl: &[f64], ascii: &str, g: &mut GeoTiff, md: &mut Metadata) {
    let Some(&[version, _, _, count]) = dir.get(..4).and_then(|h| <&[u16; 4]>::try_from(h).ok())
    else {
        md.problem("GeoTIFF GeoKeyDirectory: shorter than its header");
        return;
    };
    if version != 1 {
        md.problem(format_args!(
            "GeoTIFF GeoKeyDirectory: version {version} is not 1"
        ));
        return;
    }
    for k in 0..(count as usize).min(MAX_KEYS) {
        let Some(e) = dir.get(4 + k * 4..8 + k * 4) else {
            md.problem("GeoTIFF GeoKeyDirectory: fewer keys than its header says");
            return;
        };
        let (id, loc, n, v) = (e[0], e[1], e[2] as usize, e[3] as usize);
        let value = match loc {
            0 => Some(v.to_string()),
            GEO_KEY_DIRECTORY => dir
                .get(v..v + n)
                .map(|s| s.iter().map(u16::to_string).collect::<Vec<_>>().join(" ")),
            GEO_DOUBLE_PARAMS => dbl
                .get(v..v + n)
                .map(|s| s.iter().map(f64::to_string).collect::<Vec<_>>().join(" ")),
            GEO_ASCII_PARAMS => ascii
                .get(v..(v + n).min(ascii.len()))
                .map(|s| s.trim_end_matches(['|', '\0']).to_string()),
            _ => None,
        };
        let Some(value) = value else {
            md.problem(format_args!(
                "GeoTIFF key {id}: its value lies outside the parameter arrays"
            ));
            continue;
        };
        // 1–32766 are EPSG codes; 32767 is "user-defined", 0 "undefined".
        let epsg = (loc == 0 && (1..32767).contains(&v)).then_some(v as u32);
        match id {
            3072 => g.projected_epsg = epsg,
            2048 => g.geographic_epsg = epsg,
            4096 => g.vertical_epsg = epsg,
            _ => {}
        }
        g.keys.push(GeoKey {
            id,
            name: key_name(id).to_string(),
            value,
        });
    }
}

/// Geographic coordinate systems whose coordinates are longitude and latitude in degrees
/// (EPSG): WGS 84, ETRS89, NAD83, NAD27, Pulkovo 1942, WGS 72, GDA94.
const GEOGRAPHIC_DEGREES: [u32; 7] = [4326, 4258, 4269, 4267, 4284, 4322, 4283];

/// The ellipsoid and zone of a UTM projected system (EPSG 326zz / 327zz: WGS 84 north /
/// south; 258zz: ETRS89, north): flattening, zone, south.
fn utm(epsg: u32) -> Option<(f64, u32, bool)> {
    const WGS84_F: f64 = 1.0 / 298.257_223_563;
    const GRS80_F: f64 = 1.0 / 298.257_222_101;
    match epsg {
        32601..=32660 => Some((WGS84_F, epsg - 32600, false)),
        32701..=32760 => Some((WGS84_F, epsg - 32700, true)),
        25828..=25838 => Some((GRS80_F, epsg - 25800, false)),
        _ => None,
    }
}

/// Web Mercator (EPSG:3857, "WGS 84 / Pseudo-Mercator"), the system of web maps and of
/// much satellite imagery cut for them: WGS 84 degrees projected as if on a sphere.
const WEB_MERCATOR: u32 = 3857;
const WEB_MERCATOR_RADIUS: f64 = 6_378_137.0;

/// Latitude and longitude (degrees) of a Web Mercator point (metres): exact, by the
/// spherical inverse.
fn web_mercator_to_degrees(x: f64, y: f64) -> (f64, f64) {
    let r = WEB_MERCATOR_RADIUS;
    ((y / r).sinh().atan().to_degrees(), (x / r).to_degrees())
}

/// Latitude and longitude (degrees) of a UTM easting and northing (metres): the inverse
/// transverse Mercator in Krüger's series to the third power of the third flattening,
/// well under a millimetre inside a zone.
fn utm_to_degrees(
    easting: f64,
    northing: f64,
    flattening: f64,
    zone: u32,
    south: bool,
) -> (f64, f64) {
    const A: f64 = 6_378_137.0;
    const K0: f64 = 0.9996;
    let n = flattening / (2.0 - flattening);
    let (n2, n3) = (n * n, n * n * n);
    let rect = A / (1.0 + n) * (1.0 + n2 / 4.0 + n2 * n2 / 64.0);
    let beta = [
        n / 2.0 - 2.0 * n2 / 3.0 + 37.0 * n3 / 96.0,
        n2 / 48.0 + n3 / 15.0,
        17.0 * n3 / 480.0,
    ];
    let delta = [
        2.0 * n - 2.0 * n2 / 3.0 - 2.0 * n3,
        7.0 * n2 / 3.0 - 8.0 * n3 / 5.0,
        56.0 * n3 / 15.0,
    ];
    let xi = (northing - if south { 10_000_000.0 } else { 0.0 }) / (K0 * rect);
    let eta = (easting - 500_000.0) / (K0 * rect);
    let (mut xi1, mut eta1) = (xi, eta);
    for (j, b) in beta.iter().enumerate() {
        let k = 2.0 * (j as f64 + 1.0);
        xi1 -= b * (k * xi).sin() * (k * eta).cosh();
        eta1 -= b * (k * xi).cos() * (k * eta).sinh();
    }
    let chi = (xi1.sin() / eta1.cosh()).asin();
    let mut lat = chi;
    for (j, d) in delta.iter().enumerate() {
        lat += d * (2.0 * (j as f64 + 1.0) * chi).sin();
    }
    let lon0 = f64::from(zone) * 6.0 - 183.0;
    let lon = lon0 + eta1.sinh().atan2(xi1.cos()).to_degrees();
    (lat.to_degrees(), lon)
}

/// The model coordinates (X, Y) of raster point (i, j): through the transformation
/// matrix, else the first tie point and the pixel scale (Y grows northwards, rows
/// southwards).
fn model_at(g: &GeoTiff, i: f64, j: f64) -> Option<(f64, f64)> {
    if let Some(t) = g.transformation.as_deref().filter(|t| t.len() == 16) {
        return Some((t[0] * i + t[1] * j + t[3], t[4] * i + t[5] * j + t[7]));
    }
    let [ti, tj, _, x, y, _] = *g.tiepoints.first()?;
    let [sx, sy, _] = g.pixel_scale?;
    Some((x + (i - ti) * sx, y - (j - tj) * sy))
}

/// Where the centre of a `width` × `height` georeferenced raster lies, in degrees, when
/// its coordinate system is one this extractor converts: geographic in degrees, UTM, or
/// Web Mercator.
/// `Err` says why a georeferenced raster gets no position.
pub fn centre(g: &GeoTiff, width: u32, height: u32) -> Result<Position, String> {
    // GTRasterTypeGeoKey: 1 PixelIsArea (raster points are pixel corners, the default),
    // 2 PixelIsPoint (raster points are pixel centres).
    let point = g.keys.iter().any(|k| k.id == 1025 && k.value == "2");
    let half = |n: u32| {
        if point {
            (f64::from(n) - 1.0) / 2.0
        } else {
            f64::from(n) / 2.0
        }
    };
    if width == 0 || height == 0 {
        return Err(format!("the raster has no pixels ({width}×{height})"));
    }
    let (i, j) = (half(width), half(height));
    let Some((x, y)) = model_at(g, i, j) else {
        return Err("no tie point with a pixel scale, and no transformation".into());
    };
    let (lat, lon, system) = match (g.projected_epsg, g.geographic_epsg) {
        (Some(WEB_MERCATOR), _) => {
            // The square the projection maps the world to (±85.05°), and a little
            // room past its edges in x, which wraps round.
            let edge = WEB_MERCATOR_RADIUS * std::f64::consts::PI;
            if x.abs() > 1.5 * edge || y.abs() > edge {
                return Err(format!(
                    "its centre (EPSG:{WEB_MERCATOR} x {x} m y {y} m) lies outside the projection's coordinates"
                ));
            }
            let (lat, lon) = web_mercator_to_degrees(x, y);
            (lat, lon, format!("EPSG:{WEB_MERCATOR} x {x} m y {y} m"))
        }
        (Some(p), _) => match utm(p) {
            Some((f, zone, south)) => {
                // Outside these, a UTM coordinate is no point of its zone (and the
                // series gives numbers that look like a place).
                if (x - 500_000.0).abs() > 1_000_000.0 || !(0.0..=10_000_000.0).contains(&y) {
                    return Err(format!(
                        "its centre (EPSG:{p} easting {x} m northing {y} m) lies outside the zone's valid coordinates"
                    ));
                }
                let (lat, lon) = utm_to_degrees(x, y, f, zone, south);
                (lat, lon, format!("EPSG:{p} easting {x} m northing {y} m"))
            }
            None => {
                return Err(format!(
                    "projected system EPSG:{p} is not one converted here (UTM zones on WGS 84 or ETRS89, and Web Mercator, are)"
                ));
            }
        },
        (None, Some(_)) if g.keys.iter().any(|k| k.id == 1024 && k.value != "2") => {
            return Err(
                "the model is not geographic (GTModelTypeGeoKey) and names no projected system converted here".into(),
            );
        }
        (None, Some(geo)) if GEOGRAPHIC_DEGREES.contains(&geo) => {
            (y, x, format!("EPSG:{geo} longitude {x} latitude {y}"))
        }
        (None, Some(geo)) => {
            return Err(format!(
                "geographic system EPSG:{geo} is not one converted here"
            ));
        }
        (None, None) => return Err("no EPSG coordinate system is named".into()),
    };
    // Longitudes past the antimeridian (0–360°, or a zone's edge) wrap round.
    let lon = if lon.is_finite() && (-540.0..=540.0).contains(&lon) {
        (lon + 180.0).rem_euclid(360.0) - 180.0
    } else {
        lon
    };
    if !(-90.0..=90.0).contains(&lat)
        || !(-180.0..=180.0).contains(&lon)
        || !lat.is_finite()
        || !lon.is_finite()
    {
        return Err(format!(
            "its centre falls outside the Earth's coordinates ({system})"
        ));
    }
    let datum = match (g.projected_epsg, g.geographic_epsg) {
        (Some(p), _) => format!("EPSG:{p}"),
        (None, Some(geo)) => format!("EPSG:{geo}"),
        (None, None) => String::new(),
    };
    Ok(Position {
        source: "geotiff.centre".into(),
        latitude: lat,
        longitude: lon,
        altitude_m: None,
        altitude_reference: None,
        horizontal_error_m: None,
        dop: None,
        datum: Some(datum),
        original: format!(
            "centre of the {width}×{height} raster (raster point {i}, {j}, {}): {system}",
            if point {
                "pixel is point"
            } else {
                "pixel is area"
            }
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u16, value: &str) -> GeoKey {
        GeoKey {
            id,
            name: key_name(id).into(),
            value: value.into(),
        }
    }

    /// Reference values from PROJ (pyproj 3, `Transformer.from_crs(EPSG, 4326)`).
    #[test]
    fn utm_agrees_with_proj() {
        let cases = [
            (
                32635,
                302_000.0,
                5_601_000.0,
                50.527_403_189,
                24.206_335_531,
            ),
            (
                32736,
                400_000.0,
                8_000_000.0,
                -18.086_394_638,
                32.054_953_050,
            ),
            (
                25835,
                302_000.0,
                5_601_000.0,
                50.527_403_190,
                24.206_335_531,
            ),
        ];
        for (epsg, e, n, lat, lon) in cases {
            let (f, zone, south) = utm(epsg).unwrap();
            let (la, lo) = utm_to_degrees(e, n, f, zone, south);
            assert!(
                (la - lat).abs() < 1e-8,
                "EPSG:{epsg} latitude {la} vs {lat}"
            );
            assert!(
                (lo - lon).abs() < 1e-8,
                "EPSG:{epsg} longitude {lo} vs {lon}"
            );
        }
    }

    /// Reference values from PROJ (pyproj 3, `Transformer.from_crs(3857, 4326)`).
    #[test]
    fn web_mercator_agrees_with_proj() {
        let cases = [
            (3_363_000.0, 6_536_000.0, 50.515_302_049_4, 30.210_343_004_9),
            (
                -8_238_310.0,
                4_970_072.0,
                40.712_802_865_7,
                -74.005_997_883_1,
            ),
            (
                12_958_000.0,
                -3_750_000.0,
                -31.898_541_665_7,
                116.403_694_516_2,
            ),
        ];
        for (x, y, lat, lon) in cases {
            let (la, lo) = web_mercator_to_degrees(x, y);
            assert!((la - lat).abs() < 1e-9, "{x} {y}: latitude {la} vs {lat}");
            assert!((lo - lon).abs() < 1e-9, "{x} {y}: longitude {lo} vs {lon}");
        }
        // A raster of 10 m pixels centred on the first point, and one off the map.
        let mut g = GeoTiff {
            tiepoints: vec![[0.0, 0.0, 0.0, 3_358_000.0, 6_541_000.0, 0.0]],
            pixel_scale: Some([10.0, 10.0, 0.0]),
            projected_epsg: Some(3857),
            keys: vec![key(1024, "1"), key(3072, "3857")],
            ..GeoTiff::default()
        };
        let p = centre(&g, 1000, 1000).unwrap();
        assert!((p.latitude - 50.515_302_049_4).abs() < 1e-9, "{p:?}");
        assert!((p.longitude - 30.210_343_004_9).abs() < 1e-9, "{p:?}");
        assert_eq!(p.datum.as_deref(), Some("EPSG:3857"));
        g.tiepoints[0][4] = 30_000_000.0;
        let e = centre(&g, 1000, 1000).unwrap_err();
        assert!(e.contains("outside the projection's coordinates"), "{e}");
    }

    #[test]
    fn the_centre_of_a_utm_raster_is_placed() {
        // 1,000 × 500 pixels of 2 m, its north-west corner at (301 000, 5 601 500).
        let g = GeoTiff {
            tiepoints: vec![[0.0, 0.0, 0.0, 301_000.0, 5_601_500.0, 0.0]],
            pixel_scale: Some([2.0, 2.0, 0.0]),
            projected_epsg: Some(32635),
            keys: vec![key(1024, "1"), key(3072, "32635")],
            ..GeoTiff::default()
        };
        let p = centre(&g, 1000, 500).unwrap();
        assert!((p.latitude - 50.527_403_189).abs() < 1e-8, "{p:?}");
        assert!((p.longitude - 24.206_335_531).abs() < 1e-8, "{p:?}");
        assert_eq!(p.source, "geotiff.centre");
        assert_eq!(p.datum.as_deref(), Some("EPSG:32635"));
    }

    #[test]
    fn pixel_is_point_and_the_transformation_are_honoured() {
        // Pixel is point: raster points are pixel centres, so a 3 × 3 raster's centre is
        // raster point (1, 1).
        let g = GeoTiff {
            tiepoints: vec![[0.0, 0.0, 0.0, 30.0, 50.0, 0.0]],
            pixel_scale: Some([0.5, 0.25, 0.0]),
            geographic_epsg: Some(4326),
            keys: vec![key(1025, "2"), key(2048, "4326")],
            ..GeoTiff::default()
        };
        let p = centre(&g, 3, 3).unwrap();
        assert_eq!((p.latitude, p.longitude), (49.75, 30.5));
        // The same raster by its matrix, pixel is area: centre at raster point (1.5, 1.5).
        let mut m = vec![0.0; 16];
        (m[0], m[3], m[5], m[7], m[15]) = (0.5, 30.0, -0.25, 50.0, 1.0);
        let g = GeoTiff {
            transformation: Some(m),
            geographic_epsg: Some(4326),
            ..GeoTiff::default()
        };
        let p = centre(&g, 3, 3).unwrap();
        assert_eq!((p.latitude, p.longitude), (49.625, 30.75));
    }

    #[test]
    fn systems_not_converted_say_so() {
        let base = GeoTiff {
            tiepoints: vec![[0.0, 0.0, 0.0, 500_000.0, 100_000.0, 0.0]],
            pixel_scale: Some([1.0, 1.0, 0.0]),
            ..GeoTiff::default()
        };
        let lambert = GeoTiff {
            projected_epsg: Some(3035),
            ..base.clone()
        };
        let e = centre(&lambert, 10, 10).unwrap_err();
        assert!(e.contains("EPSG:3035 is not one converted here"), "{e}");
        let e = centre(&base, 10, 10).unwrap_err();
        assert!(e.contains("no EPSG coordinate system"), "{e}");
        let off_earth = GeoTiff {
            geographic_epsg: Some(4326),
            ..base
        };
        let e = centre(&off_earth, 10, 10).unwrap_err();
        assert!(e.contains("outside the Earth's coordinates"), "{e}");
        let e = centre(&off_earth, 0, 10).unwrap_err();
        assert!(e.contains("no pixels"), "{e}");
        let far = GeoTiff {
            tiepoints: vec![[0.0, 0.0, 0.0, 50_000_000.0, 5_600_000.0, 0.0]],
            pixel_scale: Some([1.0, 1.0, 0.0]),
            projected_epsg: Some(32635),
            ..GeoTiff::default()
        };
        let e = centre(&far, 10, 10).unwrap_err();
        assert!(e.contains("outside the zone's valid coordinates"), "{e}");
        let user_projected = GeoTiff {
            tiepoints: vec![[0.0, 0.0, 0.0, 30.0, 80.0, 0.0]],
            pixel_scale: Some([0.001, 0.001, 0.0]),
            geographic_epsg: Some(4326),
            keys: vec![key(1024, "1"), key(3072, "32767"), key(2048, "4326")],
            ..GeoTiff::default()
        };
        let e = centre(&user_projected, 10, 10).unwrap_err();
        assert!(e.contains("not geographic"), "{e}");
        // 0–360° longitudes wrap round.
        let east = GeoTiff {
            tiepoints: vec![[0.0, 0.0, 0.0, 189.0, 10.0, 0.0]],
            pixel_scale: Some([0.2, 0.2, 0.0]),
            geographic_epsg: Some(4326),
            ..GeoTiff::default()
        };
        let p = centre(&east, 10, 10).unwrap();
        assert!((p.longitude - -170.0).abs() < 1e-9, "{p:?}");
        let bare = GeoTiff {
            geographic_epsg: Some(4326),
            ..GeoTiff::default()
        };
        let e = centre(&bare, 10, 10).unwrap_err();
        assert!(e.contains("no tie point"), "{e}");
    }
}
