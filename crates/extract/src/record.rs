//! The metadata record: what one extraction says about one file, and where each
//! statement came from.
//!
//! The record is persisted next to the item it describes, so its field names are
//! stable and it carries a format version ([`FORMAT_VERSION`]). Every value keeps the
//! text (or number) it was read from, so a reader can check the interpretation.
//! The JSON shape is documented in `docs/design/metadata.md`.

use serde::{Deserialize, Serialize};

/// Version of the record's JSON shape. Bump when a field changes meaning or is removed.
pub const FORMAT_VERSION: u32 = 1;

/// Everything extracted from one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Version of this record's shape ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Name of the extractor ([`crate::EXTRACTOR`]).
    pub extractor: String,
    /// Version of the extractor and record ([`crate::VERSION`]).
    pub extractor_version: String,
    /// Media type the file was read as (the caller's, or sniffed from content).
    pub media_type: String,
    /// Size of the input in bytes, as given by the caller.
    pub size: u64,
    /// Every clock found, each with its own source and basis; never merged.
    pub times: Vec<Clock>,
    /// Every position found, each with its source.
    pub positions: Vec<Position>,
    /// Capture device and software.
    pub device: Device,
    /// Still-image properties, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageInfo>,
    /// Container properties, for MP4/MOV video and audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoInfo>,
    /// What the XMP packet said, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xmp: Option<XmpSummary>,
    /// The PDF document information dictionary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf: Option<PdfInfo>,
    /// GeoTIFF georeferencing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geotiff: Option<GeoTiff>,
    /// C2PA content credentials: present, validated, or known absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c2pa: Option<C2paReport>,
    /// Comparisons between clocks (and other cross-checks) worth a reader's attention.
    pub notes: Vec<Note>,
    /// What could not be extracted, each starting "could not extract: ".
    pub problems: Vec<String>,
}

impl Metadata {
    /// An empty record for a file of `size` bytes read as `media_type`.
    pub fn empty(media_type: &str, size: u64) -> Metadata {
        Metadata {
            format_version: FORMAT_VERSION,
            extractor: crate::EXTRACTOR.to_string(),
            extractor_version: crate::VERSION.to_string(),
            media_type: media_type.to_string(),
            size,
            times: Vec::new(),
            positions: Vec::new(),
            device: Device::default(),
            image: None,
            video: None,
            xmp: None,
            pdf: None,
            geotiff: None,
            c2pa: None,
            notes: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Records that something could not be extracted, and why.
    pub(crate) fn problem(&mut self, reason: impl std::fmt::Display) {
        let text = format!("could not extract: {reason}");
        if !self.problems.contains(&text) && self.problems.len() < MAX_PROBLEMS {
            self.problems.push(text);
        }
    }

    /// The first clock from `source`, if any.
    pub fn clock(&self, source: &str) -> Option<&Clock> {
        self.times.iter().find(|c| c.source == source)
    }

    /// The first position from `source`, if any.
    pub fn position(&self, source: &str) -> Option<&Position> {
        self.positions.iter().find(|p| p.source == source)
    }
}

/// A hostile file must not grow the record without bound.
const MAX_PROBLEMS: usize = 64;

/// How a clock reading relates to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Basis {
    /// The format defines the value as UTC (EXIF GPS time, an ISO 8601 value ending in `Z`).
    Utc,
    /// A wall-clock reading with a recorded UTC offset; `utc` is derived from both.
    LocalWithOffset,
    /// A wall-clock reading whose UTC offset is not recorded: `utc` is absent, and the
    /// instant is only known to within UTC−12:00…UTC+14:00.
    LocalUnknownOffset,
    /// A container time the format's specification defines as UTC (ISO/IEC 14496-12
    /// `mvhd`), which some devices fill with local time instead.
    UtcBySpecification,
    /// A date without a time of day.
    DateOnly,
    /// The value is present but could not be read as a date; only `original` is kept.
    Unparsed,
}

/// One clock reading, kept apart from every other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clock {
    /// Where the reading came from, e.g. `exif.DateTimeOriginal`, `gps`, `xmp.xmp:CreateDate`,
    /// `quicktime.mvhd.creation_time`, `pdf.CreationDate`.
    pub source: String,
    /// The stored value exactly as read (text), or a description of the stored number.
    pub original: String,
    /// Sub-second text stored separately (EXIF `SubSecTime*`), as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsec_original: Option<String>,
    /// Offset text stored separately (EXIF `OffsetTime*`), as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_original: Option<String>,
    /// How this reading relates to UTC.
    pub basis: Basis,
    /// The wall-clock reading, ISO 8601 without offset (`2008-10-22T16:29:49`), or the
    /// date alone for [`Basis::DateOnly`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<String>,
    /// The recorded UTC offset (`+02:00`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
    /// The instant in UTC (`2008-10-22T14:29:49Z`), only when the basis determines it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc: Option<String>,
}

/// One position reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Where it came from: `exif.gps`, `xmp.exif`, `quicktime.udta.©xyz`,
    /// `quicktime.keys.location.ISO6709`, `geotiff.centre` (the centre of a
    /// georeferenced raster).
    pub source: String,
    /// Decimal degrees, north positive, hemisphere reference applied.
    pub latitude: f64,
    /// Decimal degrees, east positive, hemisphere reference applied.
    pub longitude: f64,
    /// Metres; negative below sea level (reference applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub altitude_m: Option<f64>,
    /// `above_sea_level` or `below_sea_level`, as the file stated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub altitude_reference: Option<String>,
    /// Horizontal positioning error in metres (EXIF `GPSHPositioningError`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizontal_error_m: Option<f64>,
    /// Dilution of precision (EXIF `GPSDOP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dop: Option<f64>,
    /// Geodetic datum as stated (EXIF `GPSMapDatum`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datum: Option<String>,
    /// The stored values as read.
    pub original: String,
}

/// A value and the tag it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sourced {
    pub value: String,
    /// e.g. `exif.Make`, `xmp.tiff:Make`, `quicktime.udta.©mak`.
    pub source: String,
}

/// The capture device and the software that touched the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub make: Option<Sourced>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Sourced>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<Sourced>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lens_make: Option<Sourced>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lens_model: Option<Sourced>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<Sourced>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lens_serial_number: Option<Sourced>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<Sourced>,
}

/// Still-image properties. Pixels are never decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// Container format: `jpeg`, `png`, `tiff`, `webp`, `heif`.
    pub container: String,
    /// Dimensions as the container's own header states them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Dimensions EXIF claims (`PixelXDimension`/`PixelYDimension`), which editors may leave stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exif_width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exif_height: Option<u32>,
    /// EXIF orientation 1–8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orientation: Option<u16>,
    /// What the orientation means, e.g. `rotate 90 CW`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orientation_text: Option<String>,
}

/// MP4/MOV container properties.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    /// `ftyp` major brand, e.g. `isom`, `qt  `.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_brand: Option<String>,
    /// Matroska's EBML document type, `webm` or `matroska` (since 1.8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_type: Option<String>,
    #[serde(default)]
    pub compatible_brands: Vec<String>,
    /// Movie duration in seconds (`mvhd` duration / timescale; where `mvhd` says 0,
    /// the longest track's `mdhd` duration, since 1.13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// `mvhd` timescale (units per second) and duration, as stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timescale: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_units: Option<u64>,
    /// Width and height of the first video track (`tkhd`, display size), or of the
    /// first picture track (`pict`) of an image sequence that has no video track (since
    /// 1.13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Every track, in file order.
    #[serde(default)]
    pub tracks: Vec<Track>,
    /// A fragmented MP4 (`mvex`): its frames lie in movie fragments, which the movie and
    /// track headers do not count, so `duration_s` is the fragment duration of `mehd`
    /// when the file has one and absent otherwise (since 1.8).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fragmented: bool,
}

/// One track of an MP4/MOV file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// `hdlr` handler type: `vide`, `soun`, `meta`, `text`…
    pub handler: String,
    /// Sample entry four-character code from `stsd`: `avc1`, `hvc1`, `mp4a`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec: Option<String>,
    /// For an MPEG-4 sample entry (`mp4v`, `mp4a`), the object type its elementary
    /// stream descriptor (`esds`) names, as ISO/IEC 14496-1 numbers them: 0x20 MPEG-4
    /// Part 2 video, 0x60–0x65 MPEG-2 video, 0x6A MPEG-1 video, 0x40 MPEG-4 audio…
    /// (since 1.13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_type: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// The turn the track's matrix (`tkhd`) gives its pictures when shown, degrees
    /// clockwise (90, 180 or 270; a phone's upright video is 90), as exiftool's
    /// `Rotation`; absent for no turn or a matrix that is no quarter turn (since 1.13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<u16>,
    /// Track duration in seconds (`mdhd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// ISO 639-2/T language code from `mdhd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// What the XMP packet said. Dates also appear in [`Metadata::times`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct XmpSummary {
    /// Size of the packet in bytes, as stored.
    pub packet_bytes: u64,
    /// Properties read, keyed `prefix:Name` with the conventional prefix of the
    /// property's namespace (whatever prefix the file used), values as written.
    pub properties: std::collections::BTreeMap<String, String>,
}

/// The PDF document information dictionary (`/Info`), text decoded, dates as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PdfInfo {
    /// Version from the `%PDF-x.y` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keywords: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mod_date: Option<String>,
}

/// GeoTIFF georeferencing, values as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeoTiff {
    /// `ModelTiepointTag`: groups of (I, J, K, X, Y, Z).
    #[serde(default)]
    pub tiepoints: Vec<[f64; 6]>,
    /// `ModelPixelScaleTag`: (ScaleX, ScaleY, ScaleZ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixel_scale: Option<[f64; 3]>,
    /// `ModelTransformationTag`: 16 values, row-major 4×4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformation: Option<Vec<f64>>,
    /// Every GeoKey in the directory.
    #[serde(default)]
    pub keys: Vec<GeoKey>,
    /// `ProjectedCSTypeGeoKey` (3072), when an EPSG code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projected_epsg: Option<u32>,
    /// `GeographicTypeGeoKey` (2048), when an EPSG code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geographic_epsg: Option<u32>,
    /// `VerticalCSTypeGeoKey` (4096), when an EPSG code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vertical_epsg: Option<u32>,
}

/// One GeoKey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeoKey {
    pub id: u16,
    /// Name from the GeoTIFF 1.1 specification, or `Unknown`.
    pub name: String,
    /// The value rendered as text: a number, the doubles, or the ASCII string.
    pub value: String,
}

/// Validation state of C2PA content credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum C2paState {
    /// No manifest store in the file.
    NoManifest,
    /// A manifest store is present but this build does not validate C2PA
    /// (the `c2pa` feature is off).
    NotValidated,
    /// Well-formed and cryptographically intact; the signer is not on a trust list.
    Valid,
    /// Well-formed, intact, and signed by a trusted signer.
    Trusted,
    /// Validation failed; see the failure codes.
    Invalid,
    /// The manifest store could not be read at all.
    Unreadable,
}

/// One validation status code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct C2paStatus {
    /// `success`, `informational` or `failure`.
    pub kind: String,
    /// The C2PA status code, e.g. `assertion.dataHash.mismatch`.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

/// What content credentials say about the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct C2paReport {
    pub state: C2paState,
    /// Where the manifest store was found (`jpeg APP11`, `png caBX`, …), by the container scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_in: Option<String>,
    /// Name and version of the C2PA validator, when one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<String>,
    /// Label of the active manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_manifest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_generator: Option<String>,
    /// Signer's certificate common name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// Signer's certificate issuer (organisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Time in the signature (from a time-stamp when the signature carries one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_serial: Option<String>,
    /// The certificates the validator verified the claim's signature with, as the
    /// signature carries them: base64 DER, the signer's first. Whether they chain to a
    /// trust anchor is for the vault to judge with the anchors it holds
    /// (`docs/design/metadata.md` §7).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signer_chain: Vec<String>,
    /// The RFC 3161 time-stamp of the active manifest's claim, as read from its
    /// signature, for the vault to verify against its own TSA roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_stamp: Option<C2paTimeStamp>,
    /// Number of manifests in the store.
    #[serde(default)]
    pub manifest_count: usize,
    /// Validation status codes for the active manifest: failures and informational
    /// codes first, then successes.
    #[serde(default)]
    pub statuses: Vec<C2paStatus>,
}

/// The RFC 3161 time-stamp a C2PA claim's signature carries, with the digest of what it
/// must stamp (`docs/design/metadata.md` §7). Nothing here says who signed the token:
/// the vault verifies it against its TSA roots when it uses its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct C2paTimeStamp {
    /// The COSE header that holds it: `sigTst` (C2PA 1.x) or `sigTst2` (2.x).
    pub header: String,
    /// What it stamps: `claim` (`sigTst`) or `claim signature` (`sigTst2`).
    pub covers: String,
    /// The token's `genTime`, RFC 3339, UTC.
    pub gen_time: String,
    /// The TSA's name as the token gives it, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa: Option<String>,
    /// The token's imprint algorithm (`sha256`, …).
    pub imprint_algorithm: String,
    /// The digest, under that algorithm, of COSE's CounterSignature structure over what
    /// it stamps: the imprint the token must carry. Lowercase hex.
    pub stamped_digest: String,
    /// Whether the token's imprint is that digest.
    pub imprint_matches: bool,
    /// Whether the claim's hard binding hashes every byte of the file outside the
    /// manifest store (a data hash whose one exclusion is the store itself): only then
    /// does a time that dates the claim date the picture.
    #[serde(default)]
    pub covers_file: bool,
    /// Why it does not, when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_note: Option<String>,
    /// The `TimeStampToken` (CMS `ContentInfo`), base64 of its DER.
    pub token: String,
}

/// A statement comparing two readings, e.g. two clocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// `clock_difference` (two readings differ), `clock_unknown_offset` (a UTC reading
    /// and a local reading without offset that could be the same instant, but only
    /// under an offset that is not recorded), `offset_without_time` (an EXIF offset
    /// whose date and time are absent), `position_void` (EXIF GPSStatus V: the receiver
    /// had no fix), `position_zero` (a position of exactly 0°, 0°), `position_difference`
    /// (two sources' positions more than 50 m apart), `position_unplaced`
    /// (a georeferenced raster in a coordinate system not converted), `exif_structure`
    /// (a stray link after an EXIF sub-directory, not followed), or `cross_check`
    /// (about the two EXIF parsers).
    pub kind: String,
    /// Sources compared, e.g. `["exif.DateTimeOriginal", "gps"]`.
    pub sources: Vec<String>,
    /// Exact difference `second - first` in seconds, when both instants are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference_s: Option<i64>,
    /// Possible range of `second - first` in seconds, when an offset is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference_range_s: Option<[i64; 2]>,
    /// The value the note is about, as read, when it is a single value (e.g. the
    /// offset text of an `offset_without_time` note).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// One sentence a person can read.
    pub text: String,
}
