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
    let movie = bmff::movie(moov, md);
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
