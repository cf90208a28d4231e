//! Time in a case: instants as people wrote them, and intervals with their basis.
//!
//! A time in a case is never a silent point. An event is known to lie between an earliest
//! and a latest instant, each with a *basis* saying where that bound comes from ("provider
//! acquisition date", "platform post timestamp: an upper bound"). An interval whose two
//! ends coincide is an exact point and can only be made with [`TimeInterval::exact`],
//! which records that the exactness was claimed on purpose.
//!
//! Date-only values ("2022-03-05") are widened to the whole day, from 00:00:00 to
//! 23:59:59.999999999, at the case's local UTC offset, and the basis says so.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Where a piece of information comes from: never empty.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Basis(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a basis must say where the value comes from; it cannot be empty")]
pub struct EmptyBasis;

impl Basis {
    pub fn new(s: impl Into<String>) -> Result<Self, EmptyBasis> {
        let s = s.into();
        let t = s.trim();
        if t.is_empty() {
            Err(EmptyBasis)
        } else {
            Ok(Self(t.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Basis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Basis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Basis::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// An instant with the UTC offset it was written in. Comparisons are by instant, so
/// `2022-04-03T00:00:00+03:00` equals `2022-04-02T21:00:00Z`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Moment(OffsetDateTime);

/// Which end of a day a date-only value stands for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DayEnd {
    Start,
    End,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a time: expected RFC 3339 (2022-03-18T10:00:00Z, 2022-04-01T00:00:00+03:00) or a date (2022-03-18)"
)]
pub struct MomentParseError(pub String);

impl Moment {
    pub fn new(t: OffsetDateTime) -> Self {
        Self(t)
    }
    pub fn datetime(self) -> OffsetDateTime {
        self.0
    }
    pub fn utc(self) -> OffsetDateTime {
        self.0.to_offset(UtcOffset::UTC)
    }

    /// Parses RFC 3339 only.
    pub fn parse_rfc3339(s: &str) -> Result<Self, MomentParseError> {
        OffsetDateTime::parse(s.trim(), &Rfc3339)
            .map(Self)
            .map_err(|_| MomentParseError(s.to_owned()))
    }

    /// Parses RFC 3339, or a date (`YYYY-MM-DD`) which becomes the start or the end of
    /// that day at `offset`. Returns whether the value was date-only.
    pub fn parse_lenient(
        s: &str,
        offset: UtcOffset,
        side: DayEnd,
    ) -> Result<(Self, bool), MomentParseError> {
        if let Ok(m) = Self::parse_rfc3339(s) {
            return Ok((m, false));
        }
        let date = parse_date(s).ok_or_else(|| MomentParseError(s.to_owned()))?;
        Ok((Self::of_day(date, offset, side), true))
    }

    /// The first or last instant of `date` at `offset`.
    pub fn of_day(date: Date, offset: UtcOffset, side: DayEnd) -> Self {
        let time = match side {
            DayEnd::Start => Time::MIDNIGHT,
            DayEnd::End => Time::from_hms_nano(23, 59, 59, 999_999_999).expect("valid time"),
        };
        Self(PrimitiveDateTime::new(date, time).assume_offset(offset))
    }

    pub fn checked_add(self, d: Duration) -> Option<Self> {
        self.0.checked_add(d).map(Self)
    }

    /// Signed difference `self - other`.
    pub fn since(self, other: Moment) -> Duration {
        self.0 - other.0
    }
}

pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), format_description!("[year]-[month]-[day]")).ok()
}

/// Parses `+03:00`, `-04:00`, `Z` or `+00:00`.
pub fn parse_offset(s: &str) -> Option<UtcOffset> {
    let s = s.trim();
    if s == "Z" || s == "z" {
        return Some(UtcOffset::UTC);
    }
    UtcOffset::parse(s, format_description!("[offset_hour]:[offset_minute]")).ok()
}

pub fn format_offset(o: UtcOffset) -> String {
    if o == UtcOffset::UTC {
        return "+00:00".to_owned();
    }
    let (h, m, _) = o.as_hms();
    let sign = if h < 0 || m < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
}

impl fmt::Display for Moment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )?;
        let nanos = t.nanosecond();
        if nanos != 0 {
            let frac = format!("{nanos:09}");
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        if t.offset() == UtcOffset::UTC {
            f.write_str("Z")
        } else {
            f.write_str(&format_offset(t.offset()))
        }
    }
}

impl fmt::Debug for Moment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Moment {
    type Err = MomentParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_rfc3339(s)
    }
}

impl Serialize for Moment {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Moment {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Writes a duration as days, hours and minutes ("11 d 21 h 0 min"), for reasons.
pub fn describe_duration(d: Duration) -> String {
    let neg = d.is_negative();
    let d = d.abs();
    let days = d.whole_days();
    let hours = d.whole_hours() - days * 24;
    let mins = d.whole_minutes() - d.whole_hours() * 60;
    let secs = d.whole_seconds() - d.whole_minutes() * 60;
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if days > 0 {
        s.push_str(&format!("{days} d {hours} h {mins} min"));
    } else if hours > 0 {
        s.push_str(&format!("{hours} h {mins} min"));
    } else if mins > 0 {
        s.push_str(&format!("{mins} min {secs} s"));
    } else {
        s.push_str(&format!("{secs} s"));
    }
    s
}

/// One end of an interval and where it comes from.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TimeBound {
    pub at: Moment,
    pub basis: Basis,
}

/// Why an interval cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntervalError {
    #[error(
        "the interval ends ({latest}) before it starts ({earliest}); swap them or check the bases"
    )]
    Reversed { earliest: Moment, latest: Moment },
    #[error(
        "earliest and latest are both {0}: an exact time must be stated on purpose (\"exact\": true, or TimeInterval::exact) with a basis saying how it is known"
    )]
    SilentPoint(Moment),
}

/// A closed interval `[earliest, latest]` in which something happened or held.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TimeInterval {
    earliest: TimeBound,
    latest: TimeBound,
    exact: bool,
}

impl TimeInterval {
    /// An interval with a basis for each end. Refuses `latest < earliest`, and refuses
    /// equal ends (use [`TimeInterval::exact`]).
    pub fn new(earliest: TimeBound, latest: TimeBound) -> Result<Self, IntervalError> {
        match earliest.at.cmp(&latest.at) {
            Ordering::Greater => Err(IntervalError::Reversed {
                earliest: earliest.at,
                latest: latest.at,
            }),
            Ordering::Equal => Err(IntervalError::SilentPoint(earliest.at)),
            Ordering::Less => Ok(Self {
                earliest,
                latest,
                exact: false,
            }),
        }
    }

    /// An interval whose two ends share one basis.
    pub fn between(earliest: Moment, latest: Moment, basis: Basis) -> Result<Self, IntervalError> {
        Self::new(
            TimeBound {
                at: earliest,
                basis: basis.clone(),
            },
            TimeBound { at: latest, basis },
        )
    }

    /// A point in time claimed to be exact (e.g. a GNSS-synchronised clock). The basis
    /// must say why the exactness holds.
    pub fn exact(at: Moment, basis: Basis) -> Self {
        Self {
            earliest: TimeBound {
                at,
                basis: basis.clone(),
            },
            latest: TimeBound { at, basis },
            exact: true,
        }
    }

    /// The whole of `date` at `offset`.
    pub fn day(date: Date, offset: UtcOffset, basis: Basis) -> Self {
        Self {
            earliest: TimeBound {
                at: Moment::of_day(date, offset, DayEnd::Start),
                basis: basis.clone(),
            },
            latest: TimeBound {
                at: Moment::of_day(date, offset, DayEnd::End),
                basis,
            },
            exact: false,
        }
    }

    pub fn earliest(&self) -> Moment {
        self.earliest.at
    }
    pub fn latest(&self) -> Moment {
        self.latest.at
    }
    pub fn earliest_bound(&self) -> &TimeBound {
        &self.earliest
    }
    pub fn latest_bound(&self) -> &TimeBound {
        &self.latest
    }
    pub fn is_exact(&self) -> bool {
        self.exact
    }
    pub fn width(&self) -> Duration {
        self.latest.at.since(self.earliest.at)
    }

    /// The basis, written once when both ends share it.
    pub fn basis_text(&self) -> String {
        if self.earliest.basis == self.latest.basis {
            self.earliest.basis.to_string()
        } else {
            format!(
                "earliest: {}; latest: {}",
                self.earliest.basis, self.latest.basis
            )
        }
    }

    /// True when the two intervals share at least one instant.
    pub fn overlaps(&self, other: &TimeInterval) -> bool {
        self.earliest.at <= other.latest.at && other.earliest.at <= self.latest.at
    }

    /// True when `self` lies entirely within `[from, to]`.
    pub fn within(&self, from: Moment, to: Moment) -> bool {
        from <= self.earliest.at && self.latest.at <= to
    }
}

impl fmt::Display for TimeInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.exact {
            write!(f, "{} (exact)", self.earliest.at)
        } else {
            write!(f, "{} – {}", self.earliest.at, self.latest.at)
        }
    }
}

/// The serialised form: `{"earliest", "latest", "basis", "latest_basis"?, "exact"?}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IntervalWire {
    earliest: Moment,
    latest: Moment,
    basis: Basis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latest_basis: Option<Basis>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    exact: bool,
}

impl Serialize for TimeInterval {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let latest_basis =
            (self.latest.basis != self.earliest.basis).then(|| self.latest.basis.clone());
        IntervalWire {
            earliest: self.earliest.at,
            latest: self.latest.at,
            basis: self.earliest.basis.clone(),
            latest_basis,
            exact: self.exact,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for TimeInterval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = IntervalWire::deserialize(d)?;
        let latest_basis = w.latest_basis.unwrap_or_else(|| w.basis.clone());
        if w.exact {
            if w.earliest != w.latest {
                return Err(serde::de::Error::custom(
                    "\"exact\": true needs earliest equal to latest",
                ));
            }
            return Ok(TimeInterval::exact(w.earliest, w.basis));
        }
        TimeInterval::new(
            TimeBound {
                at: w.earliest,
                basis: w.basis,
            },
            TimeBound {
                at: w.latest,
                basis: latest_basis,
            },
        )
        .map_err(serde::de::Error::custom)
    }
}

/// A fuzzy instant: known only to lie in `[earliest, latest]` (e.g. "control began
/// between 27 February and 5 March").
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct FuzzyBound {
    pub earliest: Moment,
    pub latest: Moment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl FuzzyBound {
    pub fn new(
        earliest: Moment,
        latest: Moment,
        note: Option<String>,
    ) -> Result<Self, IntervalError> {
        if latest < earliest {
            return Err(IntervalError::Reversed { earliest, latest });
        }
        Ok(Self {
            earliest,
            latest,
            note,
        })
    }
}

impl fmt::Display for FuzzyBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "between {} and {}", self.earliest, self.latest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Basis {
        Basis::new(s).unwrap()
    }
    fn m(s: &str) -> Moment {
        s.parse().unwrap()
    }

    #[test]
    fn basis_cannot_be_empty() {
        assert!(Basis::new("  ").is_err());
        assert_eq!(Basis::new(" x ").unwrap().as_str(), "x");
    }

    #[test]
    fn moments_compare_by_instant_and_keep_their_offset() {
        let a = m("2022-04-03T00:00:00+03:00");
        let z = m("2022-04-02T21:00:00Z");
        assert_eq!(a, z);
        assert_eq!(a.to_string(), "2022-04-03T00:00:00+03:00");
        assert_eq!(z.to_string(), "2022-04-02T21:00:00Z");
    }

    #[test]
    fn dates_widen_to_the_whole_day_at_the_offset() {
        let off = parse_offset("+03:00").unwrap();
        let (s, date_only) = Moment::parse_lenient("2022-03-05", off, DayEnd::Start).unwrap();
        assert!(date_only);
        assert_eq!(s.to_string(), "2022-03-05T00:00:00+03:00");
        let (e, _) = Moment::parse_lenient("2022-03-05", off, DayEnd::End).unwrap();
        assert_eq!(e.to_string(), "2022-03-05T23:59:59.999999999+03:00");
        assert!(Moment::parse_lenient("5 March", off, DayEnd::End).is_err());
    }

    #[test]
    fn silent_points_and_reversed_intervals_are_refused() {
        let t = m("2022-03-18T10:00:00Z");
        assert_eq!(
            TimeInterval::between(t, t, b("x")),
            Err(IntervalError::SilentPoint(t))
        );
        let later = m("2022-03-19T10:00:00Z");
        assert!(matches!(
            TimeInterval::between(later, t, b("x")),
            Err(IntervalError::Reversed { .. })
        ));
        let exact = TimeInterval::exact(t, b("GNSS clock"));
        assert!(exact.is_exact());
        assert_eq!(exact.width(), Duration::ZERO);
    }

    #[test]
    fn interval_serde_round_trips_and_refuses_a_silent_point() {
        let i = TimeInterval::new(
            TimeBound {
                at: m("2022-04-01T00:00:00+03:00"),
                basis: b("NYT: 1 April"),
            },
            TimeBound {
                at: m("2022-04-02T23:59:59+03:00"),
                basis: b("other outlets: 2 April"),
            },
        )
        .unwrap();
        let json = serde_json::to_string(&i).unwrap();
        assert_eq!(
            json,
            r#"{"earliest":"2022-04-01T00:00:00+03:00","latest":"2022-04-02T23:59:59+03:00","basis":"NYT: 1 April","latest_basis":"other outlets: 2 April"}"#
        );
        assert_eq!(serde_json::from_str::<TimeInterval>(&json).unwrap(), i);
        let silent =
            r#"{"earliest":"2022-04-01T00:00:00Z","latest":"2022-04-01T00:00:00Z","basis":"x"}"#;
        let err = serde_json::from_str::<TimeInterval>(silent).unwrap_err();
        assert!(err.to_string().contains("exact"), "{err}");
        let exact = r#"{"earliest":"2022-04-01T00:00:00Z","latest":"2022-04-01T00:00:00Z","basis":"x","exact":true}"#;
        assert!(
            serde_json::from_str::<TimeInterval>(exact)
                .unwrap()
                .is_exact()
        );
    }

    #[test]
    fn durations_read_as_days_hours_minutes() {
        assert_eq!(
            describe_duration(Duration::hours(24 * 11 + 21)),
            "11 d 21 h 0 min"
        );
        assert_eq!(describe_duration(Duration::seconds(-90)), "-1 min 30 s");
    }
}
