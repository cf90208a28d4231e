//! Which clock readings in an item's metadata cannot be its capture time.
//!
//! A device's clock may be wrong, and some wrong values give themselves away: a capture
//! time later than the moment the vault received the bytes is impossible, and a time
//! before 1990 comes from a clock that was never set or was reset (1970-01-01 is the
//! Unix epoch, 1980-01-01 the DOS one), not from a camera that recorded when it took a
//! picture. Such readings stay in the record as read; they are flagged where the item is
//! shown and never chosen as a cluster's earliest appearance.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::{datetime, format_description};
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Earlier than this, a reading is not taken as a capture time.
const FLOOR: OffsetDateTime = datetime!(1990-01-01 00:00 UTC);

/// The instants a clock reading can stand for: one instant for a reading in UTC (or
/// with its offset), a span for a local time whose offset is unknown (offsets in use
/// run from UTC−12:00 to UTC+14:00).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub earliest: OffsetDateTime,
    pub latest: OffsetDateTime,
    /// A local time with no offset.
    pub local: bool,
}

/// A local date-time as extractors write it (`2022-04-02T11:03:12`, fraction optional).
fn parse_local(s: &str) -> Option<PrimitiveDateTime> {
    let head = s.get(..19)?;
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(head, &fmt).ok()
}

/// The reading of one entry of a metadata record's `times` (`utc`, else `local`).
pub fn reading(clock: &Value) -> Option<Reading> {
    if let Some(utc) = clock["utc"].as_str() {
        let at = OffsetDateTime::parse(utc, &Rfc3339).ok()?;
        return Some(Reading {
            earliest: at,
            latest: at,
            local: false,
        });
    }
    let wall = parse_local(clock["local"].as_str()?)?.assume_offset(UtcOffset::UTC);
    // UTC = local − offset.
    Some(Reading {
        earliest: wall.checked_sub(Duration::hours(14))?,
        latest: wall.checked_add(Duration::hours(12))?,
        local: true,
    })
}

/// Why `r` cannot be the capture time of bytes the vault received at `collected`, or
/// `None` when it can.
pub fn implausible(r: &Reading, collected: OffsetDateTime) -> Option<String> {
    if r.earliest > collected {
        let at = collected.format(&Rfc3339).unwrap_or_default();
        let whatever = if r.local { ", whatever its offset" } else { "" };
        return Some(format!(
            "later than the bytes' collection into this vault ({at}){whatever}: the clock was wrong, so this is not the capture time"
        ));
    }
    if r.latest < FLOOR {
        return Some(
            "before 1990: a clock that was never set or was reset (1970-01-01 is the Unix epoch, 1980-01-01 the DOS one), not a capture time".into(),
        );
    }
    None
}

/// Every implausible reading in a metadata record: the clock's source and why.
pub fn implausible_in(record: &Value, collected: OffsetDateTime) -> Vec<(String, String)> {
    record["times"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let why = implausible(&reading(c)?, collected)?;
            Some((c["source"].as_str().unwrap_or("?").to_owned(), why))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const COLLECTED: OffsetDateTime = datetime!(2022-04-06 10:00 UTC);

    fn why(clock: Value) -> Option<String> {
        implausible(&reading(&clock).expect("a reading"), COLLECTED)
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
        assert!(w.contains("before 1990"), "{w}");
        assert!(why(json!({"utc": "1980-01-01T00:00:00Z"})).is_some());
        assert_eq!(why(json!({"utc": "2022-03-18T09:12:00Z"})), None);
        // The last day of 1989 read as local time could still be 1990 in UTC: kept.
        assert_eq!(why(json!({"local": "1989-12-31T23:00:00"})), None);
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
