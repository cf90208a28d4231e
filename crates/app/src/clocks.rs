//! Which clock readings in an item's metadata cannot be its capture time.
//!
//! A device's clock may be wrong, and some wrong values give themselves away: a capture
//! time later than the moment the vault received the bytes is impossible; so is one
//! before 1826, earlier than any photograph; and a time in the first month after an
//! epoch where clocks start (1601-01-01 for Windows, 1900-01-01 for NTP and
//! spreadsheets, 1904-01-01 for QuickTime and the classic Mac OS, 1970-01-01 for Unix,
//! 1980-01-01 for DOS and FAT, 1980-01-06 for GPS) comes from a clock that was never set
//! or was reset, not from a camera that recorded when it took a picture. An older time
//! away from those epochs (a scanned 1988 print dated by its scanner) is kept. Such
//! readings stay in the record as read; they are flagged where the item is shown and
//! never chosen as a cluster's earliest appearance.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::{datetime, format_description};
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Earlier than this, no reading is a capture time: the oldest surviving photograph is
/// from 1826 or 1827.
const FLOOR: OffsetDateTime = datetime!(1826-01-01 00:00 UTC);

/// Where reset clocks start, with a name for messages and how long after it a reading
/// is taken as such a clock, oldest first. The epochs of computing systems get a month
/// (a clock that was never set, running on). The dates a camera or a file format
/// falls back to get a day: a reading on them may also be a true one, and a
/// genuine photograph of the first of January 2000 must not be set aside for long.
const EPOCHS: [(OffsetDateTime, &str, Duration); 8] = [
    (
        datetime!(1601-01-01 00:00 UTC),
        "1601-01-01, the Windows file time epoch",
        MONTH,
    ),
    (
        datetime!(1900-01-01 00:00 UTC),
        "1900-01-01, the NTP and spreadsheet epoch",
        MONTH,
    ),
    (
        datetime!(1904-01-01 00:00 UTC),
        "1904-01-01, the QuickTime and classic Mac OS epoch",
        MONTH,
    ),
    (
        datetime!(1970-01-01 00:00 UTC),
        "1970-01-01, the Unix epoch",
        MONTH,
    ),
    (
        datetime!(1980-01-01 00:00 UTC),
        "1980-01-01, the DOS and FAT epoch",
        MONTH,
    ),
    (
        datetime!(1980-01-06 00:00 UTC),
        "1980-01-06, the GPS epoch",
        MONTH,
    ),
    (
        datetime!(2000-01-01 00:00 UTC),
        "2000-01-01, where many cameras' clocks start after losing power",
        DAY,
    ),
    (
        datetime!(2001-01-01 00:00 UTC),
        "2001-01-01, the Matroska and Apple Core Foundation epoch",
        DAY,
    ),
];

const MONTH: Duration = Duration::days(31);
const DAY: Duration = Duration::days(1);

/// A reading this long before an epoch is taken as a clock running from it too (the
/// epoch shown in a time zone west of UTC).
const BEFORE_EPOCH: Duration = Duration::days(1);

/// How well a reading's offset from UTC is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offset {
    /// In UTC by the format, or with a recorded offset.
    Known,
    /// A local time with no offset.
    Unknown,
    /// UTC by the format's specification (QuickTime `mvhd`), which some devices fill
    /// with local time: it is taken as a span, as a local time is.
    UtcBySpecification,
}

/// The instants a clock reading can stand for: one instant for a reading in UTC (or
/// with its offset), a span for a local time whose offset is unknown (offsets in use
/// run from UTC−12:00 to UTC+14:00).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub earliest: OffsetDateTime,
    pub latest: OffsetDateTime,
    pub offset: Offset,
}

/// A local date-time as extractors write it (`2022-04-02T11:03:12`, fraction optional).
fn parse_local(s: &str) -> Option<PrimitiveDateTime> {
    let fmt = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(s, &fmt).ok().or_else(|| {
        let whole = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        PrimitiveDateTime::parse(s.get(..19)?, &whole).ok()
    })
}

/// Every instant a wall-clock reading `wall` (taken as if UTC) can be: UTC = local − offset.
/// At the ends of the representable years the span stops at the reading itself.
fn span(wall: OffsetDateTime, offset: Offset) -> Reading {
    Reading {
        earliest: wall.checked_sub(Duration::hours(14)).unwrap_or(wall),
        latest: wall.checked_add(Duration::hours(12)).unwrap_or(wall),
        offset,
    }
}

/// The reading of one entry of a metadata record's `times` (`utc`, else `local`).
pub fn reading(clock: &Value) -> Option<Reading> {
    if let Some(utc) = clock["utc"].as_str() {
        let at = OffsetDateTime::parse(utc, &Rfc3339).ok()?;
        if clock["basis"].as_str() == Some("utc_by_specification") {
            return Some(span(at, Offset::UtcBySpecification));
        }
        return Some(Reading {
            earliest: at,
            latest: at,
            offset: Offset::Known,
        });
    }
    let wall = parse_local(clock["local"].as_str()?)?.assume_offset(UtcOffset::UTC);
    Some(span(wall, Offset::Unknown))
}

impl Reading {
    /// Words for a time taken no later than the span's end, or empty for a known offset.
    pub fn span_note(&self) -> &'static str {
        match self.offset {
            Offset::Known => "",
            Offset::Unknown => {
                " (local time, offset unknown: taken as no later than +12 h UTC, or the collection if earlier)"
            }
            Offset::UtcBySpecification => {
                " (UTC by the format, but some devices write local time there: taken as no later than +12 h, or the collection if earlier)"
            }
        }
    }
}

/// Why `r` cannot be the capture time of bytes the vault received at `collected`, or
/// `None` when it can.
pub fn implausible(r: &Reading, collected: OffsetDateTime) -> Option<String> {
    implausible_as(r, collected, "the capture time")
}

/// [`implausible`] for a reading that would stand for something else than the capture
/// (`what`, e.g. when a sender's vault held the item).
pub fn implausible_as(r: &Reading, collected: OffsetDateTime, what: &str) -> Option<String> {
    if r.earliest > collected {
        let at = collected.format(&Rfc3339).unwrap_or_default();
        let whatever = match r.offset {
            Offset::Known => "",
            Offset::Unknown => ", whatever its offset",
            Offset::UtcBySpecification => ", even if the device wrote local time there",
        };
        return Some(format!(
            "later than the bytes' collection into this vault ({at}){whatever}: the clock was wrong, so this is not {what}"
        ));
    }
    // The latest epoch whose window the reading meets: 1980-01-09 is the GPS epoch's
    // week, not the DOS one's.
    let near = EPOCHS.iter().rev().find(|(epoch, _, after)| {
        r.latest >= *epoch - BEFORE_EPOCH && r.earliest < *epoch + *after
    });
    if let Some((_, name, after)) = near {
        return Some(format!(
            "within a {} of {name}, where a clock that was never set or was reset starts: not taken as {what}",
            if *after == DAY { "day" } else { "month" }
        ));
    }
    if r.latest < FLOOR {
        return Some(format!(
            "before 1826, earlier than any photograph: a clock that was never set or a value that is no date, not {what}"
        ));
    }
    None
}

/// Why a clock of a metadata record cannot be its capture time: it is implausible, or
/// it is the time of a GPS fix the receiver itself marked void (EXIF GPSStatus V: a
/// stale, last-known fix may carry a time from long before).
pub fn not_capture_time(
    record: &Value,
    clock: &Value,
    r: &Reading,
    collected: OffsetDateTime,
) -> Option<String> {
    implausible(r, collected).or_else(|| {
        let void = record["notes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|n| n["kind"] == "position_void");
        (void && clock["source"] == "exif.gps").then(|| {
            "the GPS receiver marked its fix void (GPSStatus V): its time may be that of a stale, last-known fix, so it is not taken as the capture time".to_owned()
        })
    })
}

/// Every reading in a metadata record that cannot be its capture time: the clock's
/// source and why.
pub fn implausible_in(record: &Value, collected: OffsetDateTime) -> Vec<(String, String)> {
    record["times"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let why = not_capture_time(record, c, &reading(c)?, collected)?;
            Some((c["source"].as_str().unwrap_or("?").to_owned(), why))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const COLLECTED: OffsetDateTime = datetime!(2022-04-06 10:00 UTC);

    /// A local time keeps its fraction of a second (a camera's SubSecTimeOriginal).
    #[test]
    fn local_times_keep_their_fraction_of_a_second() {
        let r = reading(&json!({"local": "2021-05-01T10:00:00.79"})).unwrap();
        assert_eq!(r.latest, datetime!(2021-05-01 22:00:00.79 UTC));
        let r = reading(&json!({"local": "2021-05-01T10:00:00"})).unwrap();
        assert_eq!(r.latest, datetime!(2021-05-01 22:00:00 UTC));
        assert!(reading(&json!({"local": "2021-05-01"})).is_none());
    }

    fn why(clock: Value) -> Option<String> {
        implausible(&reading(&clock).expect("a reading"), COLLECTED)
    }

    /// A GPS time from a fix the receiver marked void is not a capture time; the
    /// camera's clock beside it, and a GPS time from a valid fix, are.
    #[test]
    fn a_void_gps_fix_gives_no_capture_time() {
        let gps = json!({"source": "exif.gps", "utc": "2022-02-01T08:00:00Z"});
        let camera = json!({"source": "exif.DateTimeOriginal", "local": "2022-03-05T10:00:00"});
        let record = |notes: Value| json!({"times": [gps, camera], "notes": notes});
        let void = record(json!([{"kind": "position_void", "sources": ["exif.gps"]}]));
        let found = implausible_in(&void, COLLECTED);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "exif.gps");
        assert!(found[0].1.contains("marked its fix void"), "{found:?}");
        assert!(implausible_in(&record(json!([])), COLLECTED).is_empty());
    }

    #[test]
    fn a_time_after_collection_is_not_a_capture_time() {
        let w = why(json!({"utc": "2099-01-01T00:00:00Z"})).unwrap();
        assert!(w.contains("later than the bytes' collection"), "{w}");
        assert!(w.contains("2022-04-06T10:00:00Z"), "{w}");
        // A second after collection, in UTC: impossible too.
        assert!(why(json!({"utc": "2022-04-06T10:00:01Z"})).is_some());
        assert_eq!(why(json!({"utc": "2022-04-06T10:00:00Z"})), None);
    }

    #[test]
    fn a_local_time_is_late_only_if_it_is_late_at_every_offset() {
        // 23:00 local on collection day can be 09:00 UTC (at UTC+14:00): possible.
        assert_eq!(why(json!({"local": "2022-04-06T23:00:00"})), None);
        // 00:01 local the next day is at least 10:01 UTC: after collection anyway.
        let w = why(json!({"local": "2022-04-07T00:01:00"})).unwrap();
        assert!(w.contains("whatever its offset"), "{w}");
    }

    #[test]
    fn reset_clocks_are_not_capture_times() {
        let w = why(json!({"local": "1970-01-01T00:00:00"})).unwrap();
        assert!(w.contains("the Unix epoch"), "{w}");
        assert!(
            why(json!({"utc": "1980-01-01T00:00:00Z"}))
                .unwrap()
                .contains("DOS")
        );
        assert!(
            why(json!({"utc": "1980-01-09T10:00:00Z"}))
                .unwrap()
                .contains("the GPS epoch")
        );
        assert!(
            why(json!({"local": "1601-01-01T00:00:00"}))
                .unwrap()
                .contains("Windows")
        );
        assert!(
            why(json!({"local": "1900-01-02T00:00:00"}))
                .unwrap()
                .contains("NTP")
        );
        // The fallback dates of cameras and formats, for a day only: a Matroska file
        // whose date was left at 0, a camera that lost power.
        let w = why(json!({"utc": "2001-01-01T00:00:00Z"})).unwrap();
        assert!(
            w.contains("within a day of 2001-01-01, the Matroska"),
            "{w}"
        );
        assert!(
            why(json!({"local": "2000-01-01T00:00:07"}))
                .unwrap()
                .contains("cameras' clocks")
        );
        for genuine in ["2000-01-03T10:00:00", "2001-01-03T12:00:00"] {
            assert_eq!(why(json!({"local": genuine})), None, "{genuine}");
        }
        // Values that are no date of any photograph.
        for t in [
            "0001-01-01T00:00:00",
            "1700-05-01T00:00:00",
            "1825-12-30T00:00:00",
        ] {
            let w = why(json!({"local": t})).unwrap();
            assert!(w.contains("before 1826"), "{t}: {w}");
        }
        assert!(
            why(json!({"utc": "1904-01-03T00:00:00Z"}))
                .unwrap()
                .contains("QuickTime")
        );
        // Time zero shown in a time zone west of UTC.
        assert!(why(json!({"local": "1969-12-31T19:00:00"})).is_some());
        // A clock that ran from its epoch for three weeks.
        assert!(why(json!({"local": "1970-01-22T08:00:00"})).is_some());
        assert_eq!(why(json!({"utc": "2022-03-18T09:12:00Z"})), None);
    }

    #[test]
    fn old_times_away_from_an_epoch_are_kept() {
        // A scanned 1988 print dated by its scanner, a 1975 slide, 1970 in the summer.
        assert_eq!(why(json!({"local": "1988-06-14T10:00:00"})), None);
        assert_eq!(why(json!({"utc": "1975-03-01T00:00:00Z"})), None);
        assert_eq!(why(json!({"local": "1970-07-01T12:00:00"})), None);
        // More than a month after the epoch, even at the span's earliest.
        assert_eq!(why(json!({"local": "1970-02-01T15:00:00"})), None);
        // A daguerreotype's date written into a scan's metadata.
        assert_eq!(why(json!({"local": "1850-06-01T00:00:00"})), None);
    }

    #[test]
    fn a_container_time_in_utc_by_specification_may_be_local() {
        // Local time at UTC+05:00 written into mvhd an hour before collection (10:00 UTC
        // is 15:00 there): 14:00 read as UTC would be after collection, but it is not
        // impossible.
        let mvhd = json!({"utc": "2022-04-06T14:00:00Z", "basis": "utc_by_specification"});
        assert_eq!(why(mvhd.clone()), None);
        let r = reading(&mvhd).unwrap();
        assert_eq!(r.offset, Offset::UtcBySpecification);
        assert_eq!(r.latest, datetime!(2022-04-07 02:00 UTC));
        // Later than collection at every offset: still impossible.
        let late = json!({"utc": "2022-04-07T01:00:00Z", "basis": "utc_by_specification"});
        assert!(
            why(late)
                .unwrap()
                .contains("even if the device wrote local time")
        );
        // At the end of the representable years: still read, still after collection.
        let end = json!({"utc": "9999-12-31T20:00:00Z", "basis": "utc_by_specification"});
        assert!(
            why(end)
                .unwrap()
                .contains("later than the bytes' collection")
        );
        // A reading in plain UTC is one instant.
        assert!(why(json!({"utc": "2022-04-06T14:00:00Z", "basis": "utc"})).is_some());
    }

    #[test]
    fn the_reason_names_what_the_reading_would_stand_for() {
        let r = reading(&json!({"utc": "2099-01-01T00:00:00Z"})).unwrap();
        let w = implausible_as(&r, COLLECTED, "when the sender's vault held the item").unwrap();
        assert!(
            w.ends_with("so this is not when the sender's vault held the item"),
            "{w}"
        );
        let r = reading(&json!({"utc": "1970-01-02T00:00:00Z"})).unwrap();
        assert!(
            implausible(&r, COLLECTED)
                .unwrap()
                .ends_with("not taken as the capture time")
        );
    }

    #[test]
    fn records_list_each_implausible_clock_by_source() {
        let record = json!({"times": [
            {"source": "exif.DateTimeOriginal", "local": "1970-01-01T12:00:00"},
            {"source": "exif.gps", "utc": "2022-03-18T09:12:00Z"},
            {"source": "mp4.mvhd.creation_time", "utc": "2099-01-01T00:00:00Z"},
            {"source": "broken", "original": "0000:00:00 00:00:00"},
        ]});
        let found: Vec<String> = implausible_in(&record, COLLECTED)
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(found, ["exif.DateTimeOriginal", "mp4.mvhd.creation_time"]);
    }
}
