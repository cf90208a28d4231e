//! GeoTIFF georeferencing (OGC GeoTIFF 1.1): model tie points, pixel scale,
//! transformation, and the GeoKey directory with its EPSG codes.
//!
//! The TIFF fields come from the EXIF parser; the key directory is decoded here,
//! with every index checked against the parameter arrays it points into.

use exif::{Context, Value};

use crate::exif::{Exif, decode_text};
use crate::record::{GeoKey, GeoTiff, Metadata};

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
