//! Times and places as a user enters them on the command line, turned into the case
//! model's intervals and areas. Nothing is ever a silent point: a date is the whole day
//! at the case's UTC offset, an instant is taken as exact only because it was entered as
//! one, and every value carries a basis (by default, who entered it).

use custody_cases::Case;
use custody_cases::geo::{LatLon, Place};
use custody_cases::ids::PlaceId;
use custody_cases::when::{
    Basis, DayEnd, FuzzyBound, Moment, TimeInterval, format_offset, parse_date,
};
use time::UtcOffset;

use crate::error::{AppError, Result};

/// The current instant, to the second (for records entered "now").
pub fn now() -> Moment {
    let t = time::OffsetDateTime::now_utc();
    Moment::new(t.replace_nanosecond(0).unwrap_or(t))
}

/// The basis used when the user gives none: who entered the value.
pub fn default_basis(actor: &str) -> String {
    format!("entered by {actor}; no other basis given")
}

fn bad(s: impl Into<String>) -> AppError {
    AppError::Invalid(s.into())
}

fn basis(text: Option<&str>, actor: &str) -> Basis {
    text.and_then(|t| Basis::new(t).ok())
        .unwrap_or_else(|| Basis::new(default_basis(actor)).expect("non-empty"))
}

/// Parses a date or an RFC 3339 instant; a date is the start or end of that day at
/// `offset`.
pub fn moment(s: &str, offset: UtcOffset, side: DayEnd, flag: &str) -> Result<Moment> {
    Moment::parse_lenient(s, offset, side)
        .map(|(m, _)| m)
        .map_err(|e| bad(format!("{flag}: {e}")))
}

/// A time as entered: `at` (a date = the whole day, an instant = exactly then), or
/// `from` and `to`, with the basis of the value.
#[derive(Clone, Debug, Default)]
pub struct TimeInput {
    pub at: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub basis: Option<String>,
}

impl TimeInput {
    pub fn is_given(&self) -> bool {
        self.at.is_some() || self.from.is_some() || self.to.is_some()
    }

    /// The interval, or `None` when no time was entered.
    pub fn interval(&self, offset: UtcOffset, actor: &str) -> Result<Option<TimeInterval>> {
        let b = basis(self.basis.as_deref(), actor);
        match (&self.at, &self.from, &self.to) {
            (None, None, None) => Ok(None),
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(bad(
                "give either --at, or --from and --to, not both: --at is one day or one instant, --from/--to an interval",
            )),
            (Some(at), None, None) => {
                if let Some(date) = parse_date(at) {
                    let b = Basis::new(format!(
                        "{b} (date only: the whole day at UTC{})",
                        format_offset(offset)
                    ))
                    .expect("non-empty");
                    return Ok(Some(TimeInterval::day(date, offset, b)));
                }
                let m = Moment::parse_rfc3339(at).map_err(|e| bad(format!("--at: {e}")))?;
                let b = Basis::new(format!("{b} (exact time as entered)")).expect("non-empty");
                Ok(Some(TimeInterval::exact(m, b)))
            }
            (None, Some(from), Some(to)) => {
                let a = moment(from, offset, DayEnd::Start, "--from")?;
                let z = moment(to, offset, DayEnd::End, "--to")?;
                TimeInterval::between(a, z, b)
                    .map(Some)
                    .map_err(|e| bad(format!("--from/--to: {e}")))
            }
            (None, Some(_), None) => Err(bad(
                "--from needs --to: give the latest time too (an interval has two ends)",
            )),
            (None, None, Some(_)) => Err(bad(
                "--to needs --from: give the earliest time too (an interval has two ends)",
            )),
        }
    }

    /// The interval; an error naming `what` when none was entered.
    pub fn required(&self, offset: UtcOffset, actor: &str, what: &str) -> Result<TimeInterval> {
        self.interval(offset, actor)?.ok_or_else(|| {
            bad(format!(
                "{what} needs a time: give --at DATE|DATETIME, or --from and --to, with --basis saying where the time comes from"
            ))
        })
    }
}

/// A fuzzy instant (`earliest`..`latest`), e.g. the start of a control period.
pub fn fuzzy(
    earliest: &str,
    latest: Option<&str>,
    offset: UtcOffset,
    flag: &str,
) -> Result<FuzzyBound> {
    let a = moment(earliest, offset, DayEnd::Start, flag)?;
    let z = moment(latest.unwrap_or(earliest), offset, DayEnd::End, flag)?;
    FuzzyBound::new(a, z, None).map_err(|e| bad(format!("{flag}: {e}")))
}

/// A place as entered: a named place of the case, a disc (`lat`, `lon`, `radius_m`) or
/// a polygon (`lat,lon;lat,lon;…` and `margin_m`), with its basis.
#[derive(Clone, Debug, Default)]
pub struct PlaceInput {
    pub place: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub radius_m: Option<f64>,
    pub polygon: Option<String>,
    pub margin_m: Option<f64>,
    pub basis: Option<String>,
}

impl PlaceInput {
    pub fn is_given(&self) -> bool {
        self.place.is_some() || self.lat.is_some() || self.lon.is_some() || self.polygon.is_some()
    }

    /// The place, or `None` when none was entered. A named place is looked up in `case`.
    pub fn place(&self, case: Option<&Case>, actor: &str) -> Result<Option<Place>> {
        let b = basis(self.basis.as_deref(), actor);
        let geo = |e: custody_cases::geo::PlaceError| bad(e.to_string());
        if let Some(r) = &self.place {
            if self.lat.is_some() || self.lon.is_some() || self.polygon.is_some() {
                return Err(bad(
                    "give either --place (a named place) or coordinates, not both",
                ));
            }
            let id = PlaceId::new(r.trim()).map_err(|e| bad(e.to_string()))?;
            let Some(case) = case else {
                return Err(bad(format!(
                    "--place {id}: no case to look the place up in"
                )));
            };
            return match case.places.get(&id) {
                Some(p) => Ok(Some(p.place.clone())),
                None => Err(bad(format!(
                    "unknown place {id} in case {}; `custody place add` defines one (known places: {})",
                    case.id,
                    super::known(case.places.keys())
                ))),
            };
        }
        if let Some(poly) = &self.polygon {
            let mut vertices = Vec::new();
            for (i, pair) in poly.split(';').filter(|p| !p.trim().is_empty()).enumerate() {
                let (a, z) = pair.split_once(',').ok_or_else(|| {
                    bad(format!(
                        "--polygon vertex {}: {pair:?} is not \"lat,lon\"",
                        i + 1
                    ))
                })?;
                let lat: f64 = a.trim().parse().map_err(|_| {
                    bad(format!(
                        "--polygon vertex {}: {a:?} is not a latitude",
                        i + 1
                    ))
                })?;
                let lon: f64 = z.trim().parse().map_err(|_| {
                    bad(format!(
                        "--polygon vertex {}: {z:?} is not a longitude",
                        i + 1
                    ))
                })?;
                vertices.push(LatLon::new(lat, lon).map_err(geo)?);
            }
            let margin = self.margin_m.unwrap_or(0.0);
            return Place::polygon(vertices, margin, b).map(Some).map_err(geo);
        }
        match (self.lat, self.lon, self.radius_m) {
            (None, None, _) => {
                if self.radius_m.is_some() {
                    Err(bad("--radius-m needs --lat and --lon"))
                } else {
                    Ok(None)
                }
            }
            (Some(lat), Some(lon), Some(r)) => {
                if r.is_nan() || r <= 0.0 {
                    return Err(bad(format!(
                        "--radius-m {r}: a place is an area; give the uncertainty radius in metres (more than 0)"
                    )));
                }
                let c = LatLon::new(lat, lon).map_err(geo)?;
                Place::disc(c, r, b).map(Some).map_err(geo)
            }
            (Some(_), Some(_), None) => Err(bad(
                "--lat/--lon need --radius-m: a place is an area, give its uncertainty radius in metres",
            )),
            _ => Err(bad("give both --lat and --lon")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(at: Option<&str>, from: Option<&str>, to: Option<&str>) -> TimeInput {
        TimeInput {
            at: at.map(Into::into),
            from: from.map(Into::into),
            to: to.map(Into::into),
            basis: None,
        }
    }

    #[test]
    fn a_date_is_the_whole_day_and_the_basis_names_the_actor() {
        let off = UtcOffset::from_hms(3, 0, 0).unwrap();
        let i = t(Some("2022-04-03"), None, None)
            .interval(off, "analyst@unit")
            .unwrap()
            .unwrap();
        assert_eq!(i.earliest(), "2022-04-03T00:00:00+03:00".parse().unwrap());
        assert!(i.latest() > "2022-04-03T23:59:59+03:00".parse().unwrap());
        assert!(
            i.basis_text().contains("entered by analyst@unit"),
            "{}",
            i.basis_text()
        );
        assert!(i.basis_text().contains("whole day"));
    }

    #[test]
    fn intervals_need_both_ends_and_the_right_order() {
        let u = UtcOffset::UTC;
        assert!(t(None, Some("2022-04-03"), None).interval(u, "a").is_err());
        assert!(t(None, None, Some("2022-04-03")).interval(u, "a").is_err());
        let e = t(None, Some("2022-04-05"), Some("2022-04-03"))
            .interval(u, "a")
            .unwrap_err();
        assert!(e.to_string().contains("before it starts"), "{e}");
        assert!(t(Some("x"), None, None).interval(u, "a").is_err());
        let exact = t(Some("2022-04-03T10:00:00Z"), None, None)
            .interval(u, "a")
            .unwrap()
            .unwrap();
        assert!(exact.is_exact());
        assert!(
            t(None, None, None)
                .required(u, "a", "the recovery")
                .unwrap_err()
                .to_string()
                .contains("the recovery needs a time")
        );
    }

    #[test]
    fn places_are_areas() {
        let p = PlaceInput {
            lat: Some(50.5),
            lon: Some(30.2),
            ..Default::default()
        };
        assert!(
            p.place(None, "a")
                .unwrap_err()
                .to_string()
                .contains("--radius-m")
        );
        let p = PlaceInput {
            lat: Some(50.5),
            lon: Some(30.2),
            radius_m: Some(0.0),
            ..Default::default()
        };
        assert!(p.place(None, "a").is_err());
        let p = PlaceInput {
            polygon: Some("50.0,30.0; 50.1,30.0; 50.1,30.1".into()),
            margin_m: Some(10.0),
            basis: Some("map".into()),
            ..Default::default()
        };
        assert!(p.place(None, "a").unwrap().is_some());
        assert!(PlaceInput::default().place(None, "a").unwrap().is_none());
    }
}
