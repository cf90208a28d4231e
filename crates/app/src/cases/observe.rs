//! Observations whose place and time come from the item's extracted metadata.
//!
//! When the evidence record is linked to a vault item whose bytes have a metadata record
//! (`docs/design/metadata.md`), the capture clocks in it (GNSS, camera clocks with and
//! without an offset, video container times) and the item's own collection time and file
//! modification time (upper bounds) are weighed by `evidence::capture_interval`, and a
//! GNSS position becomes the observation's place (`evidence::observation_place`). Without
//! usable metadata the time and place are those entered, else those of the evidence
//! record, always with their basis. The result says which clocks were used and which
//! were set aside.

use custody_cases::Case;
use custody_cases::command::{Command, ObservationDraft};
use custody_cases::evidence::{
    ClockKind, ClockReading, GpsFix, Interpretation, SubjectFinding, capture_interval,
    observation_place,
};
use custody_cases::geo::LatLon;
use custody_cases::ids::EvidenceId;
use custody_cases::when::{Basis, Moment, TimeBound};
use serde::Serialize;
use serde_json::Value;

use super::input::{PlaceInput, TimeInput};
use super::{Recorded, known};
use crate::error::{AppError, Result};
use crate::vault::Vault;

/// What the user states about an observation.
#[derive(Clone, Debug, Default)]
pub struct ObserveInput {
    pub evidence: String,
    pub shows: String,
    pub interpretation: Option<Interpretation>,
    pub subjects: Vec<SubjectFinding>,
    pub time: TimeInput,
    pub place: PlaceInput,
    pub reported_by: Option<String>,
    pub derived_from: Vec<String>,
    /// Distance from the camera to what is shown, added to a GNSS fix's accuracy.
    pub view_extent_m: f64,
    /// The earliest possible capture time when no clock gives one (date or instant) and
    /// its basis; defaults to the start of the case's armed conflict.
    pub floor: Option<(String, String)>,
}

/// Where the observation's time and place came from.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Derivation {
    /// `metadata`, `entered` or `evidence record`.
    pub time_from: String,
    pub place_from: String,
    /// Clocks used, and clocks set aside with the reason.
    pub used: Vec<String>,
    pub set_aside: Vec<String>,
    pub notes: Vec<String>,
}

/// Capture clocks of a metadata record (modification and metadata times are not
/// capture times and are left out).
const CAPTURE_SOURCES: &[&str] = &[
    "exif.DateTimeOriginal",
    "exif.DateTimeDigitized",
    "exif.gps",
    "xmp.xmp:CreateDate",
    "xmp.exif:DateTimeOriginal",
    "xmp.exif:DateTimeDigitized",
    "xmp.exif:GPSTimeStamp",
    "quicktime.mvhd.creation_time",
    "quicktime.keys.creationdate",
    "quicktime.udta.©day",
];

/// Reads the capture clocks of a metadata record as clock readings.
pub fn clock_readings(record: &Value, item: &str) -> Vec<ClockReading> {
    let mut out = Vec::new();
    for c in record
        .get("times")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let s = |k: &str| c.get(k).and_then(Value::as_str);
        let Some(source) = s("source") else { continue };
        if !CAPTURE_SOURCES.contains(&source) {
            continue;
        }
        let gps = source.contains("gps") || source.contains("GPS");
        let (kind, at) = match s("basis") {
            Some("utc") => (
                if gps {
                    ClockKind::Gnss
                } else {
                    ClockKind::CameraWithOffset
                },
                s("utc"),
            ),
            Some("local_with_offset") => (ClockKind::CameraWithOffset, s("utc")),
            Some("utc_by_specification") => (ClockKind::VideoContainer, s("utc")),
            // The wall-clock reading, read as UTC and widened for the unknown zone.
            Some("local_unknown_offset") => (ClockKind::CameraLocal, None),
            _ => continue,
        };
        let at = match at {
            Some(u) => Moment::parse_rfc3339(u).ok(),
            None => s("local").and_then(|l| Moment::parse_rfc3339(&format!("{l}Z")).ok()),
        };
        let Some(at) = at else { continue };
        out.push(ClockReading {
            kind,
            at,
            until: None,
            tolerance_s: None,
            source: format!(
                "{source} of {item} (written {:?})",
                s("original").unwrap_or("")
            ),
        });
    }
    out
}

/// The first GNSS position of a metadata record.
pub fn gps_fix(record: &Value, item: &str) -> Option<GpsFix> {
    let p = record.get("positions")?.as_array()?.first()?;
    let lat = p.get("latitude")?.as_f64()?;
    let lon = p.get("longitude")?.as_f64()?;
    Some(GpsFix {
        position: LatLon::new(lat, lon).ok()?,
        accuracy_m: p.get("horizontal_error_m").and_then(Value::as_f64),
        source: format!(
            "{} of {item}",
            p.get("source")
                .and_then(Value::as_str)
                .unwrap_or("metadata")
        ),
    })
}

fn ev_id(s: &str) -> Result<EvidenceId> {
    EvidenceId::new(s.trim()).map_err(|e| AppError::Invalid(e.to_string()))
}

/// Builds the observation: place and time from metadata where present, else entered,
/// else from the evidence record.
pub async fn draft(
    vault: &Vault,
    case: &Case,
    input: &ObserveInput,
) -> Result<(ObservationDraft, Derivation)> {
    let actor = vault.actor();
    let evidence = ev_id(&input.evidence)?;
    let Some(ev) = case.evidence.get(&evidence) else {
        return Err(AppError::Invalid(format!(
            "unknown evidence {evidence} in case {}; register it first with `custody evidence register` (known: {})",
            case.id,
            known(case.evidence.keys())
        )));
    };
    let mut d = Derivation::default();
    let entered_time = input.time.interval(case.local_offset, actor)?;
    let entered_place = input.place.place(Some(case), actor)?;

    // The item's metadata, if the evidence has an item with a record.
    let mut readings = Vec::new();
    let mut fix = None;
    if let Some(item_id) = ev.item {
        if let Some(item) = vault.catalog().item(item_id).await? {
            let name = item_id.to_string();
            if let Some(row) = vault
                .catalog()
                .metadata(&item.sha256, custody_extract::EXTRACTOR)
                .await?
            {
                let record: Value = serde_json::from_str(&row.record).unwrap_or(Value::Null);
                readings = clock_readings(&record, &name);
                fix = gps_fix(&record, &name);
            }
            if !readings.is_empty() {
                // Collection by the vault and the file's modification time bound the
                // capture from above.
                readings.push(ClockReading {
                    kind: ClockKind::Collection,
                    at: Moment::parse_rfc3339(&item.ingested_at.to_string())
                        .map_err(|e| AppError::Invalid(e.to_string()))?,
                    until: None,
                    tolerance_s: None,
                    source: format!(
                        "ingest of {name} into the vault (ledger entry {})",
                        item.ledger_seq
                    ),
                });
                if let Some(m) = item.fs.modified {
                    if let Ok(at) = Moment::parse_rfc3339(&m.to_string()) {
                        readings.push(ClockReading {
                            kind: ClockKind::FileModified,
                            at,
                            until: None,
                            tolerance_s: None,
                            source: format!("file modification time of {name} as collected"),
                        });
                    }
                }
            }
        }
    }

    let time = if !readings.is_empty() {
        if let Some(t) = &entered_time {
            readings.push(ClockReading {
                kind: ClockKind::Entered,
                at: t.earliest(),
                until: Some(t.latest()),
                tolerance_s: Some(0),
                source: format!("window entered by {actor} ({})", t.basis_text()),
            });
        }
        let floor = match &input.floor {
            Some((at, basis)) => Some(TimeBound {
                at: super::input::moment(
                    at,
                    case.local_offset,
                    custody_cases::when::DayEnd::Start,
                    "--floor",
                )?,
                basis: Basis::new(basis.clone())
                    .map_err(|e| AppError::Invalid(format!("--floor-basis: {e}")))?,
            }),
            None => case.armed_conflict.as_ref().map(|c| TimeBound {
                at: c.since,
                basis: Basis::new(format!(
                    "start of the armed conflict ({})",
                    if c.basis.is_empty() {
                        "case record"
                    } else {
                        &c.basis
                    }
                ))
                .expect("non-empty"),
            }),
        };
        let est = capture_interval(&readings, floor).map_err(|e| {
            AppError::Invalid(format!(
                "the capture time of {evidence} cannot be derived from its metadata: {e}"
            ))
        })?;
        d.time_from = "metadata".into();
        d.used = est.used;
        d.set_aside = est.set_aside;
        est.interval
    } else if let Some(t) = entered_time {
        d.time_from = "entered".into();
        t
    } else if let Some(t) = &ev.captured {
        d.time_from = "evidence record".into();
        t.clone()
    } else {
        return Err(AppError::Invalid(format!(
            "the observation needs a time: {evidence} has no capture metadata and no capture time; give --at DATE|DATETIME or --from/--to with --basis"
        )));
    };

    let entered = entered_place.clone().or_else(|| ev.place.clone());
    let (place, notes) = observation_place(fix.as_ref(), entered.as_ref(), input.view_extent_m)
        .map_err(|_| {
            AppError::Invalid(format!(
                "the observation needs a place: {evidence} has no position in its metadata and no place; give --place PL-REF or --lat/--lon/--radius-m"
            ))
        })?;
    d.place_from = if fix.is_some() {
        "metadata".into()
    } else if entered_place.is_some() {
        "entered".into()
    } else {
        "evidence record".into()
    };
    d.notes = notes;

    let derived_from = input
        .derived_from
        .iter()
        .map(|s| ev_id(s))
        .collect::<Result<Vec<_>>>()?;
    Ok((
        ObservationDraft {
            evidence,
            shows: input.shows.clone(),
            interpretation: input.interpretation.clone(),
            subjects: input.subjects.clone(),
            place,
            time,
            reported_by: input.reported_by.clone(),
            derived_from,
        },
        d,
    ))
}

/// Records an observation (`custody evidence observe`).
pub async fn observe(
    vault: &Vault,
    case_id: &str,
    input: &ObserveInput,
) -> Result<(Recorded, Derivation)> {
    let case = super::load(vault, case_id).await?;
    let (draft, derivation) = draft(vault, &case, input).await?;
    let events = super::plan(&case, vec![Command::RecordObservation { draft }])?;
    let wrapped = events.into_iter().map(|e| case.wrap(e)).collect();
    let recorded = super::commit_events(vault, &case.id, Vec::new(), wrapped, Vec::new()).await?;
    Ok((recorded, derivation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn capture_clocks_are_read_and_modification_times_left_out() {
        let record = json!({"times": [
            {"source": "exif.DateTimeOriginal", "original": "2022:04:01 11:30:00", "basis": "local_unknown_offset", "local": "2022-04-01T11:30:00"},
            {"source": "exif.DateTime", "original": "2022:04:09 10:00:00", "basis": "local_unknown_offset", "local": "2022-04-09T10:00:00"},
            {"source": "exif.gps", "original": "x", "basis": "utc", "local": "2022-04-01T08:30:05", "offset": "+00:00", "utc": "2022-04-01T08:30:05Z"},
            {"source": "quicktime.mvhd.creation_time", "original": "y", "basis": "utc_by_specification", "utc": "2022-04-01T08:31:00Z"},
            {"source": "xmp.photoshop:DateCreated", "original": "2022-04-01", "basis": "date_only"}
        ], "positions": [{"source": "exif.gps", "latitude": 50.5415, "longitude": 30.2289, "horizontal_error_m": 12.0}]});
        let r = clock_readings(&record, "ITM-000001");
        let kinds: Vec<ClockKind> = r.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ClockKind::CameraLocal,
                ClockKind::Gnss,
                ClockKind::VideoContainer
            ]
        );
        assert_eq!(r[0].at, "2022-04-01T11:30:00Z".parse().unwrap());
        let fix = gps_fix(&record, "ITM-000001").unwrap();
        assert_eq!(fix.accuracy_m, Some(12.0));
        assert!(fix.source.contains("exif.gps of ITM-000001"));
        let est = capture_interval(&r, None);
        // GNSS time wins: ±1 s around 08:30:05 UTC.
        let est = est.unwrap();
        assert_eq!(
            est.interval.earliest(),
            "2022-04-01T08:30:04Z".parse().unwrap()
        );
        assert_eq!(
            est.interval.latest(),
            "2022-04-01T08:30:06Z".parse().unwrap()
        );
    }
}
