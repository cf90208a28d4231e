//! `custody export-geo`: items with positions, for QGIS, Google Earth and spreadsheets.
//!
//! Positions come from extracted metadata (EXIF GPS, XMP, ISO 6709 in video, GeoTIFF),
//! each with its source, so the map shows what the files say, not what anyone decided.

use serde_json::{Value, json};

use crate::error::Result;
use crate::vault::Vault;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeoFormat {
    GeoJson,
    Kml,
    Csv,
}

/// One positioned item.
#[derive(Clone, Debug)]
pub struct Placed {
    pub item: String,
    pub name: String,
    pub sha256: String,
    pub media_type: String,
    pub case: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub altitude_m: Option<f64>,
    pub horizontal_error_m: Option<f64>,
    pub position_source: String,
    /// The geodetic datum the file states for the position (EXIF `GPSMapDatum`, a
    /// GeoTIFF's `EPSG:n`), as stated; a position note says when it is not WGS 84.
    pub position_datum: Option<String>,
    /// The clock that dates the capture, when the file has one (see [`CAPTURE_CLOCKS`]).
    pub capture: Option<CaptureClock>,
    /// The GPS receiver's own time (UTC), when recorded: a second, independent clock.
    pub gps_time_utc: Option<String>,
    /// What the extractor found when it compared the file's clocks (disagreements,
    /// offsets that would make them agree), one sentence each.
    pub clock_notes: Vec<String>,
    /// Why the position may not show where the file was made (a void GPS fix, 0°, 0°).
    pub position_notes: Vec<String>,
}

/// A capture clock as the extractor read it, with its basis.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureClock {
    /// Where it was read (`exif.DateTimeOriginal`, `quicktime.mvhd.creation_time`, ...).
    pub source: String,
    /// `utc`, `local_with_offset`, `local_unknown_offset`, ...
    pub basis: String,
    /// ISO 8601 local date and time as the device wrote it, without offset.
    pub local: Option<String>,
    /// The UTC offset when recorded (`+02:00`).
    pub offset: Option<String>,
    /// The instant in UTC, only when the offset (or UTC itself) is recorded.
    pub utc: Option<String>,
}

/// Clocks that date the moment of capture, most direct first. Modification and metadata
/// times (`exif.DateTime`, `xmp:ModifyDate`, `pdf.ModDate`, ...) date later edits and
/// are never offered as the capture time.
pub const CAPTURE_CLOCKS: &[&str] = &[
    "exif.DateTimeOriginal",
    "xmp.exif:DateTimeOriginal",
    "exif.DateTimeDigitized",
    "xmp.exif:DateTimeDigitized",
    "xmp.photoshop:DateCreated",
    "xmp.xmp:CreateDate",
    "quicktime.keys.creationdate",
    "quicktime.mvhd.creation_time",
    "pdf.CreationDate",
];

/// What `export-geo` found: the positioned items, and how many items were looked at and
/// how many of those have no metadata extracted yet (so cannot be placed).
#[derive(Clone, Debug, Default)]
pub struct GeoExport {
    pub placed: Vec<Placed>,
    pub items: usize,
    pub unexamined: usize,
    /// Items whose metadata came from an older extractor, without what it now reads
    /// (clock and position notes); `custody extract --all` brings them up to date.
    pub outdated: usize,
}

/// Whether a stated datum is WGS 84, whose degrees GIS tools and GeoJSON assume (UTM
/// zones on WGS 84 and Web Mercator included: the extractor gives their centre in WGS 84
/// degrees).
fn is_wgs84(datum: &str) -> bool {
    let d: String = datum
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase();
    // UTM zones 1–60 and, as 61, the polar stereographic (UPS) system of each hemisphere.
    let utm_zone = |prefix: &str| {
        d.strip_prefix(prefix)
            .and_then(|z| z.parse::<u8>().ok())
            .is_some_and(|z| (1..=61).contains(&z))
    };
    matches!(d.as_str(), "WGS84" | "WGS1984" | "EPSG4326" | "EPSG3857")
        || utm_zone("EPSG326")
        || utm_zone("EPSG327")
}

/// A note for degrees on another datum than WGS 84, or `None`.
/// The warning a position on a datum other than WGS 84 gets, wherever it is shown.
pub fn datum_note(source: &str, datum: Option<&str>) -> Option<String> {
    let d = datum.map(str::trim).filter(|d| !d.is_empty())?;
    (!is_wgs84(d)).then(|| {
        format!(
            "{source}: the coordinates are on the datum the file states, {d}, not on WGS 84, which GIS tools and GeoJSON assume: shown as WGS 84 they can lie from under a metre to several hundred metres off"
        )
    })
}

fn capture_clock(times: &[Value]) -> Option<CaptureClock> {
    let text = |c: &Value, k: &str| c[k].as_str().map(str::to_owned);
    CAPTURE_CLOCKS.iter().find_map(|want| {
        let c = times.iter().find(|c| c["source"].as_str() == Some(want))?;
        // A reading the extractor could not parse dates nothing.
        let basis = text(c, "basis").unwrap_or_default();
        // A reading defined as UTC has no local time or offset of its own: the ones the
        // record derives (+00:00) were never written by the device.
        let utc_only = basis == "utc" || basis == "utc_by_specification";
        let local = text(c, "local").filter(|_| !utc_only);
        let utc = text(c, "utc");
        if local.is_none() && utc.is_none() {
            return None;
        }
        Some(CaptureClock {
            source: (*want).to_owned(),
            offset: text(c, "offset").filter(|_| !utc_only),
            basis,
            local,
            utc,
        })
    })
}

/// The positioned items of `case` (all items when `None`). An unknown case is an error.
pub async fn placed_items(vault: &Vault, case: Option<&str>) -> Result<GeoExport> {
    let filter = custody_store::ItemFilter {
        case: case.map(str::to_owned),
        ..Default::default()
    };
    let items = vault.catalog().items(&filter).await?;
    if let Some(case) = case
        && items.is_empty()
    {
        crate::items::no_items_in(vault, case).await?;
    }
    let mut out = GeoExport {
        items: items.len(),
        ..Default::default()
    };
    for item in items {
        let Some(row) = vault
            .catalog()
            .metadata(&item.sha256, custody_extract::EXTRACTOR)
            .await?
        else {
            out.unexamined += 1;
            continue;
        };
        let Ok(record) = serde_json::from_str::<Value>(&row.record) else {
            continue;
        };
        if record["extractor_version"].as_str() != Some(custody_extract::VERSION) {
            out.outdated += 1;
        }
        // Every position the file holds is a point of its own, each with its source:
        // two that disagree are both evidence, and the record's `position_difference`
        // note, given with both, says how far apart.
        let positions: Vec<(&Value, f64, f64)> = record["positions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p, p["latitude"].as_f64()?, p["longitude"].as_f64()?)))
            .collect();
        let times = record["times"].as_array().map_or(&[][..], Vec::as_slice);
        let gps_time_utc = times
            .iter()
            .find(|c| c["source"].as_str() == Some("exif.gps"))
            .and_then(|c| c["utc"].as_str())
            .map(str::to_owned);
        let notes_of = |prefix: &str| -> Vec<String> {
            record["notes"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter(|n| n["kind"].as_str().is_some_and(|k| k.starts_with(prefix)))
                .filter_map(|n| n["text"].as_str().map(str::to_owned))
                .collect()
        };
        for (p, lat, lon) in positions {
            let position_source = p["source"].as_str().unwrap_or("").to_owned();
            let position_datum = p["datum"]
                .as_str()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned);
            // A position note goes with the positions whose source it names (all of
            // them when it names none).
            let mut position_notes: Vec<String> = record["notes"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter(|n| {
                    n["kind"]
                        .as_str()
                        .is_some_and(|k| k.starts_with("position_"))
                })
                .filter(|n| {
                    let sources = n["sources"].as_array().map_or(&[][..], Vec::as_slice);
                    sources.is_empty() || sources.iter().any(|s| s == &position_source)
                })
                .filter_map(|n| n["text"].as_str().map(str::to_owned))
                .collect();
            position_notes.extend(datum_note(&position_source, position_datum.as_deref()));
            out.placed.push(Placed {
                item: item.id.to_string(),
                name: item.original_name.clone(),
                sha256: item.sha256.to_hex(),
                media_type: item.media_type.clone(),
                case: item.case.clone(),
                latitude: lat,
                longitude: lon,
                altitude_m: p["altitude_m"].as_f64(),
                horizontal_error_m: p["horizontal_error_m"].as_f64(),
                position_source,
                position_datum,
                capture: capture_clock(times),
                gps_time_utc: gps_time_utc.clone(),
                clock_notes: notes_of("clock_"),
                position_notes,
            });
        }
    }
    Ok(out)
}

pub fn render(items: &[Placed], format: GeoFormat) -> String {
    match format {
        GeoFormat::GeoJson => geojson(items),
        GeoFormat::Kml => kml(items),
        GeoFormat::Csv => csv(items),
    }
}

fn geojson(items: &[Placed]) -> String {
    let features: Vec<Value> = items
        .iter()
        .map(|p| {
            let mut coords = vec![json!(p.longitude), json!(p.latitude)];
            if let Some(a) = p.altitude_m {
                coords.push(json!(a));
            }
            let c = p.capture.clone().unwrap_or_default();
            let opt = |s: String| (!s.is_empty()).then_some(s);
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": coords},
                "properties": {
                    "item": p.item, "name": p.name, "sha256": p.sha256, "media_type": p.media_type,
                    "case": p.case, "position_source": p.position_source,
                    "position_datum": p.position_datum,
                    "horizontal_error_m": p.horizontal_error_m,
                    "capture_local": c.local, "capture_offset": c.offset, "capture_utc": c.utc,
                    "capture_source": opt(c.source), "capture_basis": opt(c.basis),
                    "gps_time_utc": p.gps_time_utc, "clock_notes": p.clock_notes,
                    "position_notes": p.position_notes,
                }
            })
        })
        .collect();
    let doc = json!({"type": "FeatureCollection", "features": features});
    serde_json::to_string_pretty(&doc).expect("serialises") + "\n"
}

/// `s` as XML 1.0 text: markup escaped as for HTML, and the characters XML forbids
/// (control characters other than tab and line breaks, U+FFFE, U+FFFF), which a file
/// name or an EXIF text may hold, written visibly as `\u{..}` so the document stays
/// readable.
fn xml_escape(s: &str) -> String {
    let allowed: String = s
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c.to_string(),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                format!("\\u{{{:x}}}", c as u32)
            }
            c => c.to_string(),
        })
        .collect();
    // A carriage return written as itself is read back as a line feed (XML 1.0 §2.11):
    // written as a character reference, it survives.
    crate::report::esc(&allowed).replace('\r', "&#13;")
}

/// The capture clock in one line: local time, offset, UTC, and where it was read.
fn capture_line(c: Option<&CaptureClock>) -> String {
    let Some(c) = c else {
        return "no capture clock".into();
    };
    let when = match (&c.local, &c.offset, &c.utc) {
        (Some(l), Some(o), Some(u)) => format!("{l} at UTC{o} ({u})"),
        (Some(l), None, _) => format!("{l} local time, UTC offset not recorded"),
        (None, _, Some(u)) => format!("{u} UTC"),
        (Some(l), Some(o), None) => format!("{l} at UTC{o}"),
        (None, _, None) => "unreadable".into(),
    };
    let caveat = if c.basis == "utc_by_specification" {
        "; UTC by the format's specification, but some devices write local time here"
    } else {
        ""
    };
    format!("captured {when}, from {} ({}{caveat})", c.source, c.basis)
}

fn kml(items: &[Placed]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kml xmlns=\"http://www.opengis.net/kml/2.2\">\n<Document>\n<name>Custody items</name>\n",
    );
    for p in items {
        let alt = p.altitude_m.map(|a| format!(",{a}")).unwrap_or_default();
        let mut desc = format!(
            "{} ({})\nSHA-256 {}\nposition from {}{}{}\n{}",
            p.name,
            p.media_type,
            p.sha256,
            p.position_source,
            p.position_datum
                .as_ref()
                .map(|d| format!(", datum {d}"))
                .unwrap_or_default(),
            p.horizontal_error_m
                .map(|e| format!(", ±{e} m"))
                .unwrap_or_default(),
            capture_line(p.capture.as_ref()),
        );
        if let Some(g) = &p.gps_time_utc {
            desc.push_str(&format!("\nGPS time {g}"));
        }
        for n in &p.position_notes {
            desc.push_str(&format!("\nposition: {n}"));
        }
        for n in &p.clock_notes {
            desc.push_str(&format!("\nclocks: {n}"));
        }
        out.push_str(&format!(
            "<Placemark>\n<name>{}</name>\n<description>{}</description>\n<Point><coordinates>{},{}{alt}</coordinates></Point>\n</Placemark>\n",
            xml_escape(&p.item),
            xml_escape(&desc),
            p.longitude,
            p.latitude
        ));
    }
    out.push_str("</Document>\n</kml>\n");
    out
}

/// One CSV field of text: quoted when it holds a separator, a quote or a line break, and
/// defused when a spreadsheet would take it for a formula (it starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return): a leading `'` makes it plain text. File names and
/// notes come from untrusted sources.
fn csv_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        csv_quote(&format!("'{s}"))
    } else {
        csv_quote(s)
    }
}

/// One CSV field, quoted when it holds a separator, a quote or a line break.
fn csv_quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The CSV header; `csv` writes the columns in this order.
pub const CSV_COLUMNS: &str = "item,name,sha256,media_type,case,latitude,longitude,altitude_m,horizontal_error_m,position_source,position_datum,capture_local,capture_offset,capture_utc,capture_source,capture_basis,gps_time_utc,clock_notes,position_notes";

fn csv(items: &[Placed]) -> String {
    let mut out = format!("{CSV_COLUMNS}\n");
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let text = |v: Option<&String>| v.map(|v| csv_text(v)).unwrap_or_default();
    for p in items {
        let c = p.capture.as_ref();
        // Free text from outside (file names, case labels, notes) is defused; the values
        // Custody writes itself (ids, digests, ISO 8601 times, offsets) go out as they are.
        let own = |v: Option<&String>| v.map(|v| csv_quote(v)).unwrap_or_default();
        let row = [
            csv_quote(&p.item),
            csv_text(&p.name),
            csv_quote(&p.sha256),
            csv_quote(&p.media_type),
            text(p.case.as_ref()),
            // Numbers are written as numbers: a negative coordinate keeps its sign.
            p.latitude.to_string(),
            p.longitude.to_string(),
            num(p.altitude_m),
            num(p.horizontal_error_m),
            csv_quote(&p.position_source),
            text(p.position_datum.as_ref()),
            own(c.and_then(|c| c.local.as_ref())),
            own(c.and_then(|c| c.offset.as_ref())),
            own(c.and_then(|c| c.utc.as_ref())),
            own(c.map(|c| &c.source)),
            own(c.map(|c| &c.basis)),
            own(p.gps_time_utc.as_ref()),
            csv_text(&p.clock_notes.join(" | ")),
            csv_text(&p.position_notes.join(" | ")),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kml_text_keeps_carriage_returns_as_references() {
        assert_eq!(xml_escape("cr\rret<&>.jpg"), "cr&#13;ret&lt;&amp;&gt;.jpg");
        assert_eq!(xml_escape("tab\tline\n"), "tab\tline\n");
    }

    #[test]
    fn csv_text_defuses_formulas_and_quotes_separators() {
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_text("+cmd.jpg"), "'+cmd.jpg");
        assert_eq!(csv_text("@sum.jpg"), "'@sum.jpg");
        assert_eq!(csv_text("-1.jpg"), "'-1.jpg");
        assert_eq!(csv_text("a,b.jpg"), "\"a,b.jpg\"");
        assert_eq!(csv_text("plain.jpg"), "plain.jpg");
    }

    fn placed(capture: Option<CaptureClock>) -> Placed {
        Placed {
            item: "ITM-000001".into(),
            name: "=1+1.jpg".into(),
            sha256: "ab".into(),
            media_type: "image/jpeg".into(),
            case: None,
            latitude: -33.5,
            longitude: -70.25,
            altitude_m: None,
            horizontal_error_m: None,
            position_source: "exif.gps".into(),
            position_datum: Some("TOKYO".into()),
            capture,
            gps_time_utc: Some("2008-10-23T14:27:07.24Z".into()),
            clock_notes: vec!["exif.gps and exif.DateTimeOriginal disagree, by \"1 d\"".into()],
            position_notes: vec!["exif.gps: the position is exactly 0°, 0°".into()],
        }
    }

    #[test]
    fn csv_rows_keep_negative_coordinates_and_every_clock_column() {
        let c = CaptureClock {
            source: "exif.DateTimeOriginal".into(),
            basis: "local_with_offset".into(),
            local: Some("2022-04-01T10:00:00".into()),
            offset: Some("+03:00".into()),
            utc: Some("2022-04-01T07:00:00Z".into()),
        };
        let text = csv(&[placed(Some(c))]);
        let mut lines = text.lines();
        let header = parse_row(lines.next().unwrap());
        let row = parse_row(lines.next().unwrap());
        assert_eq!(header.len(), row.len(), "{text}");
        let col = |name: &str| row[header.iter().position(|h| h == name).unwrap()].as_str();
        assert_eq!(col("name"), "'=1+1.jpg");
        assert_eq!(col("latitude"), "-33.5");
        assert_eq!(col("longitude"), "-70.25");
        assert_eq!(col("capture_local"), "2022-04-01T10:00:00");
        assert_eq!(
            col("capture_offset"),
            "+03:00",
            "Custody's own values go out as they are"
        );
        assert_eq!(col("capture_utc"), "2022-04-01T07:00:00Z");
        assert_eq!(col("capture_source"), "exif.DateTimeOriginal");
        assert_eq!(col("gps_time_utc"), "2008-10-23T14:27:07.24Z");
        assert_eq!(
            col("clock_notes"),
            "exif.gps and exif.DateTimeOriginal disagree, by \"1 d\""
        );
        assert_eq!(
            col("position_notes"),
            "exif.gps: the position is exactly 0°, 0°"
        );
    }

    #[test]
    fn degrees_on_another_datum_than_wgs_84_are_noted() {
        for wgs in [
            "WGS-84",
            "WGS 84",
            "wgs84",
            "EPSG:4326",
            "EPSG:32635",
            "EPSG:32733",
        ] {
            assert_eq!(datum_note("exif.gps", Some(wgs)), None, "{wgs}");
        }
        assert_eq!(datum_note("exif.gps", None), None);
        assert_eq!(datum_note("exif.gps", Some("  ")), None);
        for other in ["TOKYO", "EPSG:4267", "EPSG:25835", "EPSG:32600", "EPSG:326"] {
            let n = datum_note("geotiff.centre", Some(other)).unwrap_or_default();
            assert!(
                n.contains(other) && n.contains("not on WGS 84"),
                "{other}: {n}"
            );
        }
        let text = csv(&[placed(None)]);
        let mut lines = text.lines();
        let header = parse_row(lines.next().unwrap());
        let row = parse_row(lines.next().unwrap());
        let at = header.iter().position(|h| h == "position_datum").unwrap();
        assert_eq!(row[at], "TOKYO");
        assert!(kml(&[placed(None)]).contains("position from exif.gps, datum TOKYO"));
    }

    /// Splits one CSV line (RFC 4180 quoting, no line breaks inside fields).
    fn parse_row(line: &str) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    out.last_mut().unwrap().push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => out.push(String::new()),
                (c, _) => out.last_mut().unwrap().push(c),
            }
        }
        out
    }

    #[test]
    fn a_utc_reading_gets_no_local_time_or_offset_it_never_had() {
        let times: Vec<Value> = serde_json::from_str(
            r#"[{"source": "quicktime.mvhd.creation_time", "basis": "utc_by_specification",
                 "local": "2022-04-01T07:00:00", "offset": "+00:00", "utc": "2022-04-01T07:00:00Z"}]"#,
        )
        .unwrap();
        let c = capture_clock(&times).unwrap();
        assert_eq!((c.local.as_deref(), c.offset.as_deref()), (None, None));
        assert_eq!(c.utc.as_deref(), Some("2022-04-01T07:00:00Z"));
        let line = capture_line(Some(&c));
        assert!(line.contains("2022-04-01T07:00:00Z UTC"), "{line}");
        assert!(
            line.contains("some devices write local time here"),
            "{line}"
        );
    }

    #[test]
    fn modification_times_are_never_the_capture_time() {
        let times: Vec<Value> = serde_json::from_str(
            r#"[{"source": "exif.DateTime", "basis": "local_unknown_offset", "local": "2008-11-01T21:15:07"},
                {"source": "xmp.xmp:ModifyDate", "basis": "utc", "utc": "2008-11-01T20:00:00Z"}]"#,
        )
        .unwrap();
        assert_eq!(capture_clock(&times), None);
        let mut more = times.clone();
        more.push(json!({"source": "exif.DateTimeDigitized", "basis": "local_unknown_offset", "local": "2008-10-22T16:28:39"}));
        let c = capture_clock(&more).unwrap();
        assert_eq!(c.source, "exif.DateTimeDigitized");
        assert_eq!(c.local.as_deref(), Some("2008-10-22T16:28:39"));
        assert_eq!(c.offset, None);
        assert!(capture_line(Some(&c)).contains("UTC offset not recorded"));
    }
}
