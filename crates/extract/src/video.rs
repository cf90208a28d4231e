//! MP4/MOV: container clocks, ISO 6709 positions, device text and track properties
//! from the parsed movie box ([`crate::bmff::movie`]).

use crate::bmff::{self, TopLevel};
use crate::clock;
use crate::record::{Basis, Metadata, Position, Sourced};

pub fn apply(top: &TopLevel, md: &mut Metadata) {
    let Some(moov) = top.moov.as_deref() else {
        md.problem("MP4/MOV: no 'moov' box (truncated file, or metadata at an unread location)");
        return;
    };
    let movie = bmff::movie(moov, &top.fragments, md);
    let mut info = movie.info.clone();
    info.major_brand = top.major_brand.as_ref().map(bmff::brand);
    info.compatible_brands = top.compatible.iter().map(bmff::brand).take(64).collect();

    for (name, v) in [
        ("quicktime.mvhd.creation_time", movie.created),
        ("quicktime.mvhd.modification_time", movie.modified),
    ] {
        // Zero means "not set" in practice; it is not 1904-01-01.
        match v {
            Some(0) | None => {}
            Some(secs) => {
                let original = format!("{secs} s since 1904-01-01T00:00:00Z");
                let parsed = clock::since_1904(secs);
                md.times.push(clock::clock(
                    name,
                    &original,
                    parsed,
                    Basis::UtcBySpecification,
                ));
            }
        }
    }
    for (k, v) in &movie.keys {
        if k == "com.apple.quicktime.creationdate" {
            md.times.push(clock::clock(
                "quicktime.keys.creationdate",
                v,
                clock::iso8601(v),
                Basis::Utc,
            ));
        }
    }
    for (k, v) in &movie.udta {
        if k == "©day" {
            md.times.push(clock::clock(
                "quicktime.udta.©day",
                v,
                clock::iso8601(v),
                Basis::Utc,
            ));
        }
    }

    let iso = movie
        .udta
        .iter()
        .find(|(k, _)| k == "©xyz")
        .map(|(_, v)| ("quicktime.udta.©xyz", v))
        .into_iter()
        .chain(
            movie
                .keys
                .iter()
                .find(|(k, _)| k == "com.apple.quicktime.location.ISO6709")
                .map(|(_, v)| ("quicktime.keys.location.ISO6709", v)),
        );
    for (source, v) in iso {
        match v.trim().parse::<nom_exif::GPSInfo>() {
            Ok(g) => match (g.latitude_decimal(), g.longitude_decimal()) {
                (Some(la), Some(lo)) if la.abs() <= 90.0 && lo.abs() <= 180.0 => {
                    let alt = g.altitude_meters();
                    md.positions.push(Position {
                        source: source.into(),
                        latitude: la,
                        longitude: lo,
                        altitude_m: alt,
                        altitude_reference: alt.map(|a| {
                            if a < 0.0 {
                                "below_sea_level".to_string()
                            } else {
                                "above_sea_level".to_string()
                            }
                        }),
                        horizontal_error_m: None,
                        dop: None,
                        datum: None,
                        original: v.clone(),
                    });
                }
                _ => md.problem(format_args!("{source}: {v:?} is out of range")),
            },
            Err(e) => md.problem(format_args!("{source}: {v:?} is not ISO 6709 ({e})")),
        }
    }
    if let Some(loci) = &movie.loci {
        match location_box(loci) {
            Some(p) => md.positions.push(p),
            None => md.problem(
                "3GPP location box (udta/loci): cut off or out of range; its position is not stated",
            ),
        }
    }
    let accuracy = movie
        .keys
        .iter()
        .find(|(k, _)| k == "com.apple.quicktime.location.accuracy.horizontal")
        .and_then(|(_, v)| v.trim().parse::<f64>().ok());
    if let (Some(a), Some(p)) = (
        accuracy,
        md.positions
            .iter_mut()
            .find(|p| p.source == "quicktime.keys.location.ISO6709"),
    ) {
        p.horizontal_error_m = Some(a);
    }

    let d = &mut md.device;
    for (slot, udta_key, mdta_key) in [
        (&mut d.make, "©mak", "com.apple.quicktime.make"),
        (&mut d.model, "©mod", "com.apple.quicktime.model"),
        (&mut d.software, "©swr", "com.apple.quicktime.software"),
    ] {
        let from_keys = movie
            .keys
            .iter()
            .find(|(k, _)| k == mdta_key)
            .map(|(_, v)| Sourced {
                value: v.trim().to_string(),
                source: format!(
                    "quicktime.keys.{}",
                    mdta_key.trim_start_matches("com.apple.quicktime.")
                ),
            });
        let from_udta = movie
            .udta
            .iter()
            .find(|(k, _)| k == udta_key)
            .map(|(_, v)| Sourced {
                value: v.trim().to_string(),
                source: format!("quicktime.udta.{udta_key}"),
            });
        *slot = from_keys.or(from_udta).filter(|s| !s.value.is_empty());
    }
    if let Some(x) = &movie.xmp {
        crate::xmp::apply(x, md);
    } else if let Some(x) = &top.xmp {
        crate::xmp::apply(x, md);
    }
    if top.c2pa {
        md.c2pa = Some(crate::record::C2paReport::found("bmff uuid box".into()));
    }
    md.video = Some(info);
}

/// The position of a 3GPP location box (3GPP TS 26.244, `loci`): after the full-box
/// header and a packed language code, a place name (NUL-terminated, UTF-8, or UTF-16
/// after a byte-order mark), a role byte, then longitude, latitude and altitude as
/// signed 16.16 fixed-point degrees and metres.
fn location_box(b: &[u8]) -> Option<Position> {
    let text = b.get(6..)?;
    let (name, rest) = if text.starts_with(&[0xFE, 0xFF]) {
        let end = (2..text.len().saturating_sub(1))
            .step_by(2)
            .find(|&i| text[i] == 0 && text[i + 1] == 0)?;
        let units: Vec<u16> = text[2..end]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        (String::from_utf16_lossy(&units), &text[end + 2..])
    } else {
        let end = text.iter().position(|&c| c == 0)?;
        (
            String::from_utf8_lossy(&text[..end]).into_owned(),
            &text[end + 1..],
        )
    };
    let role = *rest.first()?;
    let fixed = |at: usize| -> Option<f64> {
        let v = i32::from_be_bytes(rest.get(at..at + 4)?.try_into().ok()?);
        Some(f64::from(v) / 65536.0)
    };
    let (lon, lat, alt) = (fixed(1)?, fixed(5)?, fixed(9)?);
    if lat.abs() > 90.0 || lon.abs() > 180.0 {
        return None;
    }
    Some(Position {
        source: "3gpp.udta.loci".into(),
        latitude: lat,
        longitude: lon,
        altitude_m: Some(alt),
        altitude_reference: Some(
            if alt < 0.0 {
                "below_sea_level"
            } else {
                "above_sea_level"
            }
            .into(),
        ),
        horizontal_error_m: None,
        dop: None,
        datum: None,
        original: format!(
            "longitude {lon} latitude {lat} altitude {alt} (16.16 fixed point), name {name:?}, role {role}"
        ),
    })
}

#[cfg(test)]
mod location_tests {
    use super::location_box;

    fn loci(name: &[u8], lon: f64, lat: f64, alt: f64) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0, 0x15, 0xC7];
        b.extend_from_slice(name);
        b.push(0); // role: shooting location
        for v in [lon, lat, alt] {
            b.extend_from_slice(&((v * 65536.0).round() as i32).to_be_bytes());
        }
        b.extend_from_slice(b"earth\0\0");
        b
    }

    #[test]
    fn a_3gpp_location_box_gives_its_position() {
        let p = location_box(&loci(b"Bucha\0", 30.2133, 50.5436, 120.0)).unwrap();
        assert!((p.latitude - 50.5436).abs() < 2e-5, "{p:?}");
        assert!((p.longitude - 30.2133).abs() < 2e-5, "{p:?}");
        assert_eq!(p.altitude_m, Some(120.0));
        assert!(p.original.contains("\"Bucha\""), "{}", p.original);
        // A name in UTF-16, southern and western hemispheres.
        let mut utf16 = vec![0xFE, 0xFF];
        utf16.extend("Буча".encode_utf16().flat_map(u16::to_be_bytes));
        utf16.extend_from_slice(&[0, 0]);
        let p = location_box(&loci(&utf16, -70.6, -33.45, -5.0)).unwrap();
        assert!((p.latitude + 33.45).abs() < 2e-5 && (p.longitude + 70.6).abs() < 2e-5);
        assert_eq!(p.altitude_reference.as_deref(), Some("below_sea_level"));
        assert!(p.original.contains("Буча"), "{}", p.original);
        // Cut off, or out of range: nothing stated.
        let whole = loci(b"x\0", 1.0, 2.0, 3.0);
        assert!(location_box(&whole[..whole.len() - 12]).is_none());
        assert!(location_box(&loci(b"x\0", 1.0, 95.0, 0.0)).is_none());
    }
}
