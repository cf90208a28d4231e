//! Instants recorded by the vault: UTC, microsecond precision, one textual form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// An instant written as `2026-11-25T09:14:03.512044Z`. The vault's own clock readings
/// (ledger times, ingest times) use this form; times found in evidence keep their own
/// form and basis elsewhere.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// Normalises to UTC and truncates to whole microseconds, so that the textual form
    /// round-trips exactly.
    pub fn from_datetime(t: OffsetDateTime) -> Self {
        let t = t.to_offset(UtcOffset::UTC);
        let micros = t.microsecond();
        Self(
            t.replace_nanosecond(micros * 1000)
                .expect("microseconds fit"),
        )
    }

    pub fn from_unix_nanos(nanos: i128) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .map(Self::from_datetime)
    }

    pub fn datetime(&self) -> OffsetDateTime {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 time: {0:?}")]
pub struct TimestampParseError(pub String);

impl FromStr for Timestamp {
    type Err = TimestampParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OffsetDateTime::parse(s, &Rfc3339)
            .map(Self::from_datetime)
            .map_err(|_| TimestampParseError(s.to_owned()))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_microseconds_in_utc_and_round_trips() {
        let t: Timestamp = "2022-04-02T14:03:12.123456789+03:00".parse().unwrap();
        assert_eq!(t.to_string(), "2022-04-02T11:03:12.123456Z");
        assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
    }

    #[test]
    fn rejects_non_rfc3339() {
        assert!("2022-04-02 11:03".parse::<Timestamp>().is_err());
    }
}
