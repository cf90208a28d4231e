//! Evidence records of a case and the observations made on them.
//!
//! An [`Evidence`] record describes one piece of evidence (a satellite image, a post, a
//! statement) and may be linked to the vault item holding its bytes. An [`Observation`]
//! says what the item *shows* ("body-sized dark objects on the road"), kept apart from
//! its *interpretation* ("bodies"), with its own place and time: when the state shown
//! held, which for a photograph is its capture interval and for a report is the time
//! the report speaks of. Observations are what claims are checked against.
//!
//! [`capture_interval`] derives a capture interval from candidate clocks (extracted
//! metadata, provider dates, upload times) with their basis; [`observation_place`] does
//! the same for a place from a GNSS fix or an entered place.

use std::fmt;

use custody_model::ItemId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::Duration;

use crate::geo::{LatLon, Place, PlaceError, metres};
use crate::ids::{EvidenceId, ObservationId, Tag};
use crate::when::{Basis, Moment, TimeBound, TimeInterval, describe_duration};

/// What kind of evidence a record is. Unknown kinds are kept verbatim.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
pub enum EvidenceKind {
    OfficialStatement,
    EyewitnessReport,
    SatelliteImage,
    Photo,
    Video,
    SocialPostCapture,
    AnalysisReport,
    NgoReport,
    ForensicRecordsSummary,
    ForensicReport,
    Testimony,
    Document,
    Other(String),
}

impl EvidenceKind {
    pub fn as_str(&self) -> &str {
        match self {
            Self::OfficialStatement => "official_statement",
            Self::EyewitnessReport => "eyewitness_report",
            Self::SatelliteImage => "satellite_image",
            Self::Photo => "photo",
            Self::Video => "video",
            Self::SocialPostCapture => "social_post_capture",
            Self::AnalysisReport => "analysis_report",
            Self::NgoReport => "ngo_report",
            Self::ForensicRecordsSummary => "forensic_records_summary",
            Self::ForensicReport => "forensic_report",
            Self::Testimony => "testimony",
            Self::Document => "document",
            Self::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "official_statement" => Self::OfficialStatement,
            "eyewitness_report" => Self::EyewitnessReport,
            "satellite_image" => Self::SatelliteImage,
            "photo" => Self::Photo,
            "video" => Self::Video,
            "social_post_capture" => Self::SocialPostCapture,
            "analysis_report" => Self::AnalysisReport,
            "ngo_report" => Self::NgoReport,
            "forensic_records_summary" => Self::ForensicRecordsSummary,
            "forensic_report" => Self::ForensicReport,
            "testimony" => Self::Testimony,
            "document" => Self::Document,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Forensic evidence: the only kind a causal claim is routed with.
    pub fn is_forensic(&self) -> bool {
        matches!(self, Self::ForensicRecordsSummary | Self::ForensicReport)
    }
}

impl fmt::Display for EvidenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EvidenceKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EvidenceKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

/// Whether a records summary covers every case in its scope or only some.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Some of the cases only: a count below a claimed figure does not contradict it.
    Sample,
    /// Every case in scope: a count below a claimed figure contradicts it.
    Complete,
}

/// How the media of an item is (or is to be) shown, e.g. a generated placeholder.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct MediaSpec {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render: Option<String>,
}

/// One evidence record of a case.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Evidence {
    pub id: EvidenceId,
    /// The vault item holding the bytes, once collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemId>,
    pub kind: EvidenceKind,
    pub source: String,
    #[serde(default)]
    pub description: String,
    /// When the item was captured (or the statement made), with basis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured: Option<TimeInterval>,
    /// Where the item was captured or what place it concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaSpec>,
    /// Remains records this item summarises (forensic records summaries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remains: Vec<Tag>,
    /// For a records summary: whether it covers every case in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
}

/// A subject a claim or observation speaks of ("bodies on street"), compared after
/// trimming, lowercasing and collapsing whitespace.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Subject(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a subject cannot be empty")]
pub struct EmptySubject;

impl Subject {
    pub fn new(s: &str) -> Result<Self, EmptySubject> {
        let norm = s
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if norm.is_empty() {
            Err(EmptySubject)
        } else {
            Ok(Self(norm))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Subject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Subject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Subject::new(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Whether an observation shows the subject there or shows it not there.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    Present,
    Absent,
}

/// Whether a finding is what the item plainly shows or rests on its interpretation.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Shown,
    Interpretation,
}

/// What an observation says about one subject.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SubjectFinding {
    pub subject: Subject,
    pub finding: Finding,
    pub via: Via,
}

/// An interpretation of what an item shows, by whom, and which items corroborate it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Interpretation {
    pub text: String,
    pub by: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corroborated_by: Vec<EvidenceId>,
}

/// What an evidence item shows, where and when the state shown held.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Observation {
    pub id: ObservationId,
    pub evidence: EvidenceId,
    /// What the item shows, in neutral terms.
    pub shows: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpretation: Option<Interpretation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<SubjectFinding>,
    pub place: Place,
    /// When the state shown held (for a capture: the capture interval).
    pub time: TimeInterval,
    /// Set when the item reports what someone else observed (secondary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_by: Option<String>,
    /// Items this observation was derived from (e.g. an analysis of an image).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived_from: Vec<EvidenceId>,
}

impl Observation {
    pub fn finding_on(&self, subject: &Subject) -> Option<&SubjectFinding> {
        self.subjects.iter().find(|s| &s.subject == subject)
    }
}

/// The clock a time reading comes from. The kind decides how the reading bounds the
/// capture time (see [`capture_interval`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClockKind {
    /// A GNSS-disciplined time (GPS time stamp in EXIF): ±1 s unless told otherwise.
    Gnss,
    /// A provider-stated acquisition time or date (satellite imagery).
    ProviderAcquisition,
    /// EXIF DateTimeOriginal with OffsetTimeOriginal: ±1 h camera clock error by default.
    CameraWithOffset,
    /// EXIF DateTimeOriginal without an offset: read as UTC and widened by ±14 h for the
    /// unknown zone, plus ±1 h camera clock error.
    CameraLocal,
    /// A video container creation time (often local despite the specification): as
    /// [`ClockKind::CameraLocal`].
    VideoContainer,
    /// A window entered by a person (witness, analyst).
    Entered,
    /// A platform's upload or post time: capture happened no later than this.
    Upload,
    /// A publication date: capture happened no later than this.
    Publication,
    /// When an investigator collected the item: capture happened no later than this.
    Collection,
    /// A file-system modification time: a weak upper bound (copies reset it).
    FileModified,
}

impl ClockKind {
    fn is_upper_bound_only(self) -> bool {
        matches!(
            self,
            Self::Upload | Self::Publication | Self::Collection | Self::FileModified
        )
    }
    /// Lower is stronger; readings are applied strongest first.
    fn rank(self) -> u8 {
        match self {
            Self::Upload | Self::Publication | Self::Collection => 0,
            Self::Gnss | Self::ProviderAcquisition => 1,
            Self::CameraWithOffset | Self::Entered => 2,
            Self::CameraLocal | Self::VideoContainer => 3,
            Self::FileModified => 4,
        }
    }
}

/// One candidate clock reading for the capture time of an item.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ClockReading {
    pub kind: ClockKind,
    /// The reading: an instant, or for date-level readings the earliest instant.
    pub at: Moment,
    /// For date-level or windowed readings: the latest instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Moment>,
    /// Clock error to allow either side; the kind's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_s: Option<i64>,
    /// Where the reading comes from ("EXIF DateTimeOriginal of IMG_0412.JPG").
    pub source: String,
}

/// A derived capture interval, with what was used and what was set aside.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct CaptureEstimate {
    pub interval: TimeInterval,
    pub used: Vec<String>,
    pub set_aside: Vec<String>,
}

/// Why no capture interval could be derived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    #[error(
        "no clock gives an earliest capture time (upload and publication times are only upper bounds); give a floor, such as the start of the events, with its basis"
    )]
    NoLowerBound,
    #[error(
        "no clock gives a latest capture time; add an upload, publication or collection time, or an entered window"
    )]
    NoUpperBound,
    #[error("the readings leave no possible capture time: {0}")]
    Empty(String),
}

fn window_of(r: &ClockReading) -> (Moment, Moment, String) {
    let default_tol = match r.kind {
        ClockKind::Gnss => 1,
        ClockKind::CameraWithOffset => 3600,
        ClockKind::CameraLocal | ClockKind::VideoContainer => 14 * 3600 + 3600,
        _ => 0,
    };
    let tol = Duration::seconds(r.tolerance_s.unwrap_or(default_tol).max(0));
    let lo = r.at.checked_add(-tol).unwrap_or(r.at);
    let hi_base = r.until.unwrap_or(r.at);
    let hi = hi_base.checked_add(tol).unwrap_or(hi_base);
    let how = if tol.is_zero() {
        format!("{:?} reading from {}", r.kind, r.source)
    } else {
        format!(
            "{:?} reading from {}, widened by ±{}",
            r.kind,
            r.source,
            describe_duration(tol)
        )
    };
    (lo, hi, how)
}

/// Derives a capture interval from candidate clocks.
///
/// Rules: upload, publication and collection times are upper bounds only (an item cannot
/// be posted before it was made); the earliest of them caps the interval. Then windows
/// are intersected strongest first (GNSS and provider dates, then camera clocks with an
/// offset and entered windows, then camera clocks without an offset); a window that would
/// leave nothing is set aside and named in the result. A file modification time is the
/// weakest upper bound and is applied last. Without any lower bound, `floor` (with its
/// basis) supplies the earliest time, and without one the derivation fails.
pub fn capture_interval(
    readings: &[ClockReading],
    floor: Option<TimeBound>,
) -> Result<CaptureEstimate, CaptureError> {
    let mut sorted: Vec<&ClockReading> = readings.iter().collect();
    sorted.sort_by_key(|r| r.kind.rank());
    let mut lo: Option<(Moment, String)> = None;
    let mut hi: Option<(Moment, String)> = None;
    let mut used = Vec::new();
    let mut set_aside = Vec::new();
    for r in sorted {
        if r.kind.is_upper_bound_only() {
            let at = r.until.unwrap_or(r.at);
            let how = format!(
                "{:?} time {} from {} (upper bound only)",
                r.kind, at, r.source
            );
            if let Some((l, _)) = &lo {
                if at < *l {
                    set_aside.push(format!("{how}: earlier than the earliest capture time {l}"));
                    continue;
                }
            }
            if hi.as_ref().is_none_or(|(h, _)| at < *h) {
                hi = Some((at, how.clone()));
            }
            used.push(how);
            continue;
        }
        let (wlo, whi, how) = window_of(r);
        let new_lo = match &lo {
            Some((l, _)) if *l >= wlo => None,
            _ => Some(wlo),
        };
        let new_hi = match &hi {
            Some((h, _)) if *h <= whi => None,
            _ => Some(whi),
        };
        let eff_lo = new_lo.unwrap_or_else(|| lo.as_ref().map(|x| x.0).unwrap_or(wlo));
        let eff_hi = new_hi.unwrap_or_else(|| hi.as_ref().map(|x| x.0).unwrap_or(whi));
        if eff_lo > eff_hi {
            set_aside.push(format!(
                "{how}: window {wlo} – {whi} does not meet the interval kept so far"
            ));
            continue;
        }
        if let Some(l) = new_lo {
            lo = Some((l, how.clone()));
        }
        if let Some(h) = new_hi {
            hi = Some((h, how.clone()));
        }
        used.push(how);
    }
    let (lo_at, lo_basis) = match (lo, floor) {
        (Some(l), _) => l,
        (None, Some(f)) => {
            used.push(format!("floor {} ({})", f.at, f.basis));
            (f.at, format!("floor: {}", f.basis))
        }
        (None, None) => return Err(CaptureError::NoLowerBound),
    };
    let (hi_at, hi_basis) = hi.ok_or(CaptureError::NoUpperBound)?;
    if lo_at > hi_at {
        return Err(CaptureError::Empty(format!(
            "earliest {lo_at} ({lo_basis}) is after latest {hi_at} ({hi_basis})"
        )));
    }
    let basis = |s: String| Basis::new(s).expect("non-empty basis text");
    let interval = if lo_at == hi_at {
        TimeInterval::exact(lo_at, basis(format!("{lo_basis}; {hi_basis}")))
    } else {
        TimeInterval::new(
            TimeBound {
                at: lo_at,
                basis: basis(lo_basis),
            },
            TimeBound {
                at: hi_at,
                basis: basis(hi_basis),
            },
        )
        .map_err(|e| CaptureError::Empty(e.to_string()))?
    };
    Ok(CaptureEstimate {
        interval,
        used,
        set_aside,
    })
}

/// A position fix from extracted metadata (EXIF GPS, video ISO 6709).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct GpsFix {
    pub position: LatLon,
    /// Horizontal accuracy if recorded (EXIF GPSHPositioningError).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<f64>,
    pub source: String,
}

/// Accuracy assumed for a GNSS fix that records none: a typical phone fix outdoors.
pub const ASSUMED_GPS_ACCURACY_M: f64 = 30.0;

/// The place of an observation: from a GNSS fix when there is one (its accuracy plus
/// `view_extent_m`, the distance from the camera to what is shown), else the entered
/// place. When both exist and do not intersect, the fix is still used and the conflict
/// is returned as a note for the analyst.
pub fn observation_place(
    fix: Option<&GpsFix>,
    entered: Option<&Place>,
    view_extent_m: f64,
) -> Result<(Place, Vec<String>), PlaceError> {
    let mut notes = Vec::new();
    match (fix, entered) {
        (Some(fix), entered) => {
            let (acc, acc_basis) = match fix.accuracy_m {
                Some(a) if a.is_finite() && a >= 0.0 => {
                    (a, format!("recorded accuracy {}", metres(a)))
                }
                _ => (
                    ASSUMED_GPS_ACCURACY_M,
                    format!(
                        "accuracy not recorded, {} assumed",
                        metres(ASSUMED_GPS_ACCURACY_M)
                    ),
                ),
            };
            let extent = if view_extent_m.is_finite() && view_extent_m > 0.0 {
                view_extent_m
            } else {
                0.0
            };
            let radius = (acc + extent).max(1.0);
            let basis = Basis::new(format!(
                "GNSS fix from {} ({acc_basis}) plus view extent {}",
                fix.source,
                metres(extent)
            ))
            .expect("non-empty");
            let place = Place::disc(fix.position, radius, basis)?;
            if let Some(e) = entered {
                if !place.intersects(e) {
                    notes.push(format!(
                        "the GNSS fix {} does not meet the entered place {}: check the geolocation",
                        place.short(),
                        e.short()
                    ));
                }
            }
            Ok((place, notes))
        }
        (None, Some(e)) => Ok((e.clone(), notes)),
        (None, None) => Err(PlaceError::NoPlace),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Moment {
        s.parse().unwrap()
    }
    fn reading(kind: ClockKind, at: &str) -> ClockReading {
        ClockReading {
            kind,
            at: m(at),
            until: None,
            tolerance_s: None,
            source: "test".into(),
        }
    }

    #[test]
    fn upload_time_only_caps_the_interval() {
        let r = [reading(ClockKind::Upload, "2022-04-01T12:00:00Z")];
        assert_eq!(capture_interval(&r, None), Err(CaptureError::NoLowerBound));
        let floor = TimeBound {
            at: m("2022-02-24T00:00:00Z"),
            basis: Basis::new("start of the full-scale invasion").unwrap(),
        };
        let est = capture_interval(&r, Some(floor)).unwrap();
        assert_eq!(est.interval.earliest(), m("2022-02-24T00:00:00Z"));
        assert_eq!(est.interval.latest(), m("2022-04-01T12:00:00Z"));
        assert!(
            est.interval
                .latest_bound()
                .basis
                .as_str()
                .contains("upper bound")
        );
    }

    #[test]
    fn camera_clock_is_intersected_with_the_upload_cap() {
        let r = [
            reading(ClockKind::Upload, "2022-04-01T12:00:00Z"),
            reading(ClockKind::CameraWithOffset, "2022-04-01T11:30:00+03:00"),
        ];
        let est = capture_interval(&r, None).unwrap();
        assert_eq!(est.interval.earliest(), m("2022-04-01T07:30:00Z"));
        assert_eq!(est.interval.latest(), m("2022-04-01T09:30:00Z"));
        // Camera without offset: ±15 h, capped by the upload.
        let r = [
            reading(ClockKind::Upload, "2022-04-01T12:00:00Z"),
            reading(ClockKind::CameraLocal, "2022-04-01T11:30:00Z"),
        ];
        let est = capture_interval(&r, None).unwrap();
        assert_eq!(est.interval.earliest(), m("2022-03-31T20:30:00Z"));
        assert_eq!(est.interval.latest(), m("2022-04-01T12:00:00Z"));
    }

    #[test]
    fn a_clock_after_the_upload_is_set_aside() {
        let r = [
            reading(ClockKind::Upload, "2022-04-01T12:00:00Z"),
            reading(ClockKind::Gnss, "2022-04-05T10:00:00Z"),
            reading(ClockKind::CameraWithOffset, "2022-04-01T10:00:00Z"),
        ];
        let est = capture_interval(&r, None).unwrap();
        assert_eq!(est.set_aside.len(), 1, "{:?}", est.set_aside);
        assert!(est.set_aside[0].contains("Gnss"));
        assert_eq!(est.interval.earliest(), m("2022-04-01T09:00:00Z"));
        assert_eq!(est.interval.latest(), m("2022-04-01T11:00:00Z"));
    }

    #[test]
    fn gps_fix_gives_a_disc_with_its_basis() {
        let fix = GpsFix {
            position: LatLon::new(50.5415, 30.2289).unwrap(),
            accuracy_m: None,
            source: "EXIF of IMG_1".into(),
        };
        let (p, notes) = observation_place(Some(&fix), None, 70.0).unwrap();
        assert!(notes.is_empty());
        assert!(p.short().contains("±100 m"), "{}", p.short());
        assert!(p.basis().as_str().contains("30 m assumed"));
    }

    #[test]
    fn entered_place_is_used_without_a_fix_and_a_conflict_is_noted() {
        let entered = Place::disc(
            LatLon::new(50.45, 30.52).unwrap(),
            200.0,
            Basis::new("entered by the analyst").unwrap(),
        )
        .unwrap();
        let (p, notes) = observation_place(None, Some(&entered), 0.0).unwrap();
        assert_eq!(p, entered);
        assert!(notes.is_empty());
        let fix = GpsFix {
            position: LatLon::new(50.5415, 30.2289).unwrap(),
            accuracy_m: Some(10.0),
            source: "EXIF of IMG_2".into(),
        };
        let (p, notes) = observation_place(Some(&fix), Some(&entered), 0.0).unwrap();
        assert!(p.short().contains("±10 m"), "{}", p.short());
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("check the geolocation"), "{notes:?}");
        assert_eq!(observation_place(None, None, 0.0), Err(PlaceError::NoPlace));
    }
}
