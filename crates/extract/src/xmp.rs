//! XMP: read the packet as namespaced XML and keep a fixed set of properties.
//!
//! quick-xml tokenises (it expands no custom entities, so entity bombs do nothing);
//! this module tracks `rdf:Description` properties in both attribute and element
//! form, taking the first `rdf:li` of arrays. Properties are keyed by namespace URI,
//! not by the prefix the file chose, and reported with the conventional prefix.
//! Input is capped by the caller at [`crate::source::MAX_XMP`]; the event count is
//! capped here.

use std::collections::BTreeMap;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::clock;
use crate::record::{Basis, Metadata, Position, Sourced, XmpSummary};

const NAMESPACES: [(&str, &str); 9] = [
    ("http://ns.adobe.com/xap/1.0/", "xmp"),
    ("http://ns.adobe.com/photoshop/1.0/", "photoshop"),
    ("http://ns.adobe.com/exif/1.0/", "exif"),
    ("http://ns.adobe.com/tiff/1.0/", "tiff"),
    ("http://ns.adobe.com/xap/1.0/mm/", "xmpMM"),
    ("http://ns.adobe.com/exif/1.0/aux/", "aux"),
    ("http://cipa.jp/exif/1.0/", "exifEX"),
    ("http://purl.org/dc/elements/1.1/", "dc"),
    ("http://ns.adobe.com/xap/1.0/rights/", "xmpRights"),
];

/// Properties kept, as `prefix:Name`.
const KEPT: [&str; 33] = [
    "xmp:CreateDate",
    "xmp:ModifyDate",
    "xmp:MetadataDate",
    "xmp:CreatorTool",
    "photoshop:DateCreated",
    "exif:DateTimeOriginal",
    "exif:DateTimeDigitized",
    "exif:GPSLatitude",
    "exif:GPSLongitude",
    "exif:GPSAltitude",
    "exif:GPSAltitudeRef",
    "exif:GPSTimeStamp",
    "exif:GPSMapDatum",
    "exif:GPSHPositioningError",
    "tiff:Make",
    "tiff:Model",
    "tiff:Software",
    "tiff:DateTime",
    "tiff:Orientation",
    "xmpMM:DocumentID",
    "xmpMM:InstanceID",
    "xmpMM:OriginalDocumentID",
    "aux:SerialNumber",
    "aux:Lens",
    "exifEX:BodySerialNumber",
    "exifEX:LensMake",
    "exifEX:LensModel",
    "exifEX:LensSerialNumber",
    "dc:creator",
    "dc:title",
    "dc:description",
    "dc:format",
    "xmpRights:Owner",
];

const MAX_EVENTS: usize = 1_000_000;
const MAX_VALUE: usize = 64 * 1024;

fn key(ns: &str, local: &str) -> Option<String> {
    let prefix = NAMESPACES
        .iter()
        .find(|(uri, _)| *uri == ns)
        .map(|(_, p)| *p)?;
    let k = format!("{prefix}:{local}");
    KEPT.contains(&k.as_str()).then_some(k)
}

/// The property element being captured.
struct Capture {
    key: String,
    /// Depth of the property element.
    depth: usize,
    /// Text directly inside the property element (simple values).
    direct: String,
    /// Text of the first array item that has text (`rdf:Seq`/`Bag`/`Alt`).
    item: String,
    /// Depth of the `rdf:li` being read, if any.
    in_item: Option<usize>,
    /// An array item has been seen; its text, not the direct text, is the value.
    has_items: bool,
    /// The first item with text has ended.
    item_done: bool,
}

/// Parses the packet; returns the kept properties, or the reason it failed.
pub fn parse(packet: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let text = std::str::from_utf8(packet).map_err(|e| format!("the packet is not UTF-8 ({e})"))?;
    // The packet may be padded with NULs or whitespace after the closing processing instruction.
    let text = text.trim_end_matches(['\0', ' ', '\n', '\r', '\t']);
    let mut reader = NsReader::from_str(text);
    let mut props = BTreeMap::new();
    let mut capture: Option<Capture> = None;
    let mut depth = 0usize;
    for _ in 0..MAX_EVENTS {
        let (ns, ev) = match reader.read_resolved_event() {
            Ok((ns, ev)) => (
                match ns {
                    ResolveResult::Bound(n) => Some(n.as_ref().to_string()),
                    _ => None,
                },
                ev,
            ),
            Err(e) => {
                return Err(format!(
                    "malformed XML at byte {}: {e}",
                    reader.buffer_position()
                ));
            }
        };
        let (e, opens) = match &ev {
            Event::Start(e) => (Some(e), true),
            Event::Empty(e) => (Some(e), false),
            _ => (None, false),
        };
        if let Some(e) = e {
            // Attribute-form properties.
            for a in e.attributes().flatten() {
                let (ans, local) = reader.resolver().resolve_attribute(a.key);
                if let ResolveResult::Bound(n) = ans {
                    if let Some(k) = key(n.as_ref(), local.as_ref()) {
                        if let Ok(v) = a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                            props.entry(k).or_insert_with(|| v.into_owned());
                        }
                    }
                }
            }
            if opens {
                depth += 1;
                match capture.as_mut() {
                    None => {
                        if let Some(k) = ns
                            .as_deref()
                            .and_then(|ns| key(ns, e.local_name().as_ref()))
                        {
                            capture = Some(Capture {
                                key: k,
                                depth,
                                direct: String::new(),
                                item: String::new(),
                                in_item: None,
                                has_items: false,
                                item_done: false,
                            });
                        }
                    }
                    Some(c) => {
                        if e.local_name().as_ref() == "li" && c.in_item.is_none() && !c.item_done {
                            c.in_item = Some(depth);
                            c.has_items = true;
                        }
                    }
                }
            }
            continue;
        }
        match ev {
            Event::End(_) => {
                if let Some(c) = capture.as_mut() {
                    if c.in_item == Some(depth) {
                        c.in_item = None;
                        if !c.item.trim().is_empty() {
                            c.item_done = true;
                        }
                    }
                    if c.depth == depth {
                        let v = if c.has_items { &c.item } else { &c.direct };
                        if !v.trim().is_empty() {
                            props.entry(c.key.clone()).or_insert_with(|| v.clone());
                        }
                        capture = None;
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => push_text(&mut capture, depth, &t.xml10_content()),
            Event::CData(t) => push_text(&mut capture, depth, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let s = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => match r.xml10_content().as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => format!("&{other};"),
                    },
                };
                push_text(&mut capture, depth, &s);
            }
            Event::Eof => return Ok(props),
            _ => {}
        }
    }
    Err("too many XML events".into())
}

fn push_text(capture: &mut Option<Capture>, depth: usize, s: &str) {
    let Some(c) = capture.as_mut() else { return };
    let buf = if c.in_item.is_some() {
        &mut c.item
    } else if depth == c.depth {
        &mut c.direct
    } else {
        return;
    };
    if buf.len() + s.len() <= MAX_VALUE {
        buf.push_str(s);
    }
}

/// Parses the packet and adds what it says to the record.
pub fn apply(packet: &[u8], md: &mut Metadata) {
    let props = match parse(packet) {
        Ok(p) => p,
        Err(e) => {
            md.problem(format_args!("XMP packet: {e}"));
            md.xmp = Some(XmpSummary {
                packet_bytes: packet.len() as u64,
                properties: BTreeMap::new(),
            });
            return;
        }
    };
    for k in [
        "exif:DateTimeOriginal",
        "exif:DateTimeDigitized",
        "photoshop:DateCreated",
        "xmp:CreateDate",
        "xmp:ModifyDate",
        "xmp:MetadataDate",
        "exif:GPSTimeStamp",
    ] {
        if let Some(v) = props.get(k) {
            let parsed = clock::iso8601(v);
            if parsed.is_none() {
                md.problem(format_args!("XMP {k}: {v:?} is not an ISO 8601 date"));
            }
            // exif:GPSTimeStamp is UTC by definition (XMP EXIF schema), whatever its suffix says.
            let parsed = if k == "exif:GPSTimeStamp" {
                parsed.map(|p| clock::Parsed {
                    utc: p.time.is_some() && (p.offset.is_none() || p.utc),
                    ..p
                })
            } else {
                parsed
            };
            md.times
                .push(clock::clock(&format!("xmp.{k}"), v, parsed, Basis::Utc));
        }
    }
    position(&props, md);
    let from = |keys: &[&str]| {
        keys.iter().find_map(|k| {
            props.get(*k).map(|v| Sourced {
                value: v.trim().to_string(),
                source: format!("xmp.{k}"),
            })
        })
    };
    let d = &mut md.device;
    d.make = d.make.take().or_else(|| from(&["tiff:Make"]));
    d.model = d.model.take().or_else(|| from(&["tiff:Model"]));
    d.software = d.software.take().or_else(|| from(&["tiff:Software"]));
    d.serial_number = d
        .serial_number
        .take()
        .or_else(|| from(&["exifEX:BodySerialNumber", "aux:SerialNumber"]));
    d.lens_make = d.lens_make.take().or_else(|| from(&["exifEX:LensMake"]));
    d.lens_model = d
        .lens_model
        .take()
        .or_else(|| from(&["exifEX:LensModel", "aux:Lens"]));
    d.lens_serial_number = d
        .lens_serial_number
        .take()
        .or_else(|| from(&["exifEX:LensSerialNumber"]));
    md.xmp = Some(XmpSummary {
        packet_bytes: packet.len() as u64,
        properties: props,
    });
}

/// XMP GPS coordinate: `DDD,MM,SSk` or `DDD,MM.mmk` (XMP specification part 2, EXIF schema).
pub fn coordinate(v: &str) -> Option<f64> {
    let v = v.trim();
    let hemi = v.chars().last()?;
    let sign = match hemi.to_ascii_uppercase() {
        'N' | 'E' => 1.0,
        'S' | 'W' => -1.0,
        _ => return None,
    };
    let body = &v[..v.len() - hemi.len_utf8()];
    let parts: Vec<&str> = body.split(',').collect();
    let nums: Option<Vec<f64>> = parts
        .iter()
        .map(|p| {
            p.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
        })
        .collect();
    let deg = match nums?.as_slice() {
        [d, m] => d + m / 60.0,
        [d, m, s] => d + m / 60.0 + s / 3600.0,
        _ => return None,
    };
    Some(sign * deg)
}

fn position(props: &BTreeMap<String, String>, md: &mut Metadata) {
    let (Some(la), Some(lo)) = (
        props.get("exif:GPSLatitude"),
        props.get("exif:GPSLongitude"),
    ) else {
        return;
    };
    let original = format!("exif:GPSLatitude={la} exif:GPSLongitude={lo}");
    let (Some(lat), Some(lon)) = (coordinate(la), coordinate(lo)) else {
        md.problem(format_args!(
            "XMP GPS position: {original:?} is not a valid position"
        ));
        return;
    };
    if lat.abs() > 90.0 || lon.abs() > 180.0 {
        md.problem(format_args!(
            "XMP GPS position: {original:?} is out of range"
        ));
        return;
    }
    let rational = |s: &str| -> Option<f64> {
        match s.split_once('/') {
            Some((n, d)) => {
                let (n, d) = (n.trim().parse::<f64>().ok()?, d.trim().parse::<f64>().ok()?);
                (d != 0.0).then(|| n / d)
            }
            None => s.trim().parse().ok(),
        }
    };
    let alt = props.get("exif:GPSAltitude").and_then(|a| rational(a));
    let below = props.get("exif:GPSAltitudeRef").map(|r| r.trim() == "1");
    md.positions.push(Position {
        source: "xmp.exif".into(),
        latitude: lat,
        longitude: lon,
        altitude_m: alt.map(|a| if below == Some(true) { -a } else { a }),
        altitude_reference: alt.map(|_| {
            if below == Some(true) {
                "below_sea_level".to_string()
            } else {
                "above_sea_level".to_string()
            }
        }),
        horizontal_error_m: props
            .get("exif:GPSHPositioningError")
            .and_then(|a| rational(a)),
        dop: None,
        datum: props.get("exif:GPSMapDatum").cloned(),
        original,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_and_element_forms_by_namespace() {
        let x = br#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:a="http://ns.adobe.com/xap/1.0/" a:CreateDate="2011-09-23T12:43:03Z">
<tiff:Make xmlns:tiff="http://ns.adobe.com/tiff/1.0/">Ex &amp; Co</tiff:Make>
<dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Seq><rdf:li>First</rdf:li><rdf:li>Second</rdf:li></rdf:Seq></dc:creator>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#;
        let p = parse(x).unwrap();
        assert_eq!(p["xmp:CreateDate"], "2011-09-23T12:43:03Z");
        assert_eq!(p["tiff:Make"], "Ex & Co");
        assert_eq!(p["dc:creator"], "First");
    }

    #[test]
    fn malformed_is_an_error_not_a_panic() {
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(&[0xFF, 0xFE, 0x00]).is_err());
    }

    #[test]
    fn xmp_coordinates() {
        assert!((coordinate("40,44.9356N").unwrap() - 40.748_926_666).abs() < 1e-6);
        assert!((coordinate("73,59,8.4W").unwrap() + 73.985_666_666).abs() < 1e-6);
        assert_eq!(coordinate("40,44.9356"), None);
    }
}
