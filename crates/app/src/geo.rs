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
    /// The camera's own clock, as written, with its basis.
    pub capture_time: Option<String>,
    pub capture_basis: Option<String>,
}

pub async fn placed_items(vault: &Vault, case: Option<&str>) -> Result<Vec<Placed>> {
    let filter = custody_store::ItemFilter {
        case: case.map(str::to_owned),
        ..Default::default()
    };
    let mut out = Vec::new();
    for item in vault.catalog().items(&filter).await? {
        let Some(row) = vault
            .catalog()
            .metadata(&item.sha256, custody_extract::EXTRACTOR)
            .await?
        else {
            continue;
        };
        let Ok(record) = serde_json::from_str::<Value>(&row.record) else {
            continue;
        };
        let Some(p) = record.get("positions").and_then(|p| p.get(0)) else {
            continue;
        };
        let (Some(lat), Some(lon)) = (p["latitude"].as_f64(), p["longitude"].as_f64()) else {
            continue;
        };
        let clock = record["times"].as_array().and_then(|t| {
            t.iter()
                .find(|c| {
                    c["source"]
                        .as_str()
                        .is_some_and(|s| s.contains("DateTimeOriginal"))
                })
                .or_else(|| t.first())
        });
        out.push(Placed {
            item: item.id.to_string(),
            name: item.original_name.clone(),
            sha256: item.sha256.to_hex(),
            media_type: item.media_type.clone(),
            case: item.case.clone(),
            latitude: lat,
            longitude: lon,
            altitude_m: p["altitude_m"].as_f64(),
            horizontal_error_m: p["horizontal_error_m"].as_f64(),
            position_source: p["source"].as_str().unwrap_or("").to_owned(),
            capture_time: clock
                .and_then(|c| c["original"].as_str())
                .map(str::to_owned),
            capture_basis: clock.and_then(|c| c["basis"].as_str()).map(str::to_owned),
        });
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
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": coords},
                "properties": {
                    "item": p.item, "name": p.name, "sha256": p.sha256, "media_type": p.media_type,
                    "case": p.case, "position_source": p.position_source,
                    "horizontal_error_m": p.horizontal_error_m,
                    "capture_time": p.capture_time, "capture_basis": p.capture_basis,
                }
            })
        })
        .collect();
    let doc = json!({"type": "FeatureCollection", "features": features});
    serde_json::to_string_pretty(&doc).expect("serialises") + "\n"
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn kml(items: &[Placed]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kml xmlns=\"http://www.opengis.net/kml/2.2\">\n<Document>\n<name>Custody items</name>\n",
    );
    for p in items {
        let alt = p.altitude_m.map(|a| format!(",{a}")).unwrap_or_default();
        let desc = format!(
            "{} ({})\nSHA-256 {}\nposition from {}{}\ncapture time {} ({})",
            p.name,
            p.media_type,
            p.sha256,
            p.position_source,
            p.horizontal_error_m
                .map(|e| format!(", ±{e} m"))
                .unwrap_or_default(),
            p.capture_time.as_deref().unwrap_or("unknown"),
            p.capture_basis.as_deref().unwrap_or("no basis"),
        );
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

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn csv(items: &[Placed]) -> String {
    let mut out = String::from(
        "item,name,sha256,media_type,case,latitude,longitude,altitude_m,horizontal_error_m,position_source,capture_time,capture_basis\n",
    );
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for p in items {
        let row = [
            p.item.clone(),
            p.name.clone(),
            p.sha256.clone(),
            p.media_type.clone(),
            p.case.clone().unwrap_or_default(),
            p.latitude.to_string(),
            p.longitude.to_string(),
            num(p.altitude_m),
            num(p.horizontal_error_m),
            p.position_source.clone(),
            p.capture_time.clone().unwrap_or_default(),
            p.capture_basis.clone().unwrap_or_default(),
        ];
        out.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}
