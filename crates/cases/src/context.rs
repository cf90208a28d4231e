//! Context periods: who controlled a place when, with fuzzy beginnings and ends.
//!
//! A control period begins at some instant in `from` and ends at some instant in `to`
//! (or has not ended). An interval of interest lies
//!
//! - **definitely inside** when it starts no earlier than the latest possible start
//!   (`from.latest`) and ends no later than the earliest possible end (`to.earliest`),
//!   and its place lies wholly inside the controlled area;
//! - **possibly inside** when it overlaps `[from.earliest, to.latest]` and its place meets
//!   the controlled area, without being definitely inside;
//! - **outside** otherwise.

use serde::{Deserialize, Serialize};

use crate::geo::{Place, SpatialRelation};
use crate::ids::{ControlPeriodId, PlaceId};
use crate::when::{FuzzyBound, TimeInterval};

/// Who controlled an area during a period.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ControlPeriod {
    pub id: ControlPeriodId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_ref: Option<PlaceId>,
    pub area: Place,
    pub controller: String,
    pub from: FuzzyBound,
    /// `None` while the control continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<FuzzyBound>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// Where an interval falls relative to a control period.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextVerdict {
    DefinitelyInside,
    PossiblyInside,
    Outside,
}

impl ContextVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DefinitelyInside => "definitely inside",
            Self::PossiblyInside => "possibly inside",
            Self::Outside => "outside",
        }
    }
}

/// The verdict for one control period, with the comparison written out.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ContextFinding {
    pub period: ControlPeriodId,
    pub controller: String,
    pub verdict: ContextVerdict,
    pub reason: String,
}

impl ControlPeriod {
    /// Places `when`/`where_` relative to this period.
    pub fn place_interval(&self, when: &TimeInterval, where_: &Place) -> ContextFinding {
        let spatial = where_.relate(&self.area);
        let t_def_start = self.from.latest <= when.earliest();
        let t_def_end = match &self.to {
            Some(to) => when.latest() <= to.earliest,
            None => true,
        };
        let t_possible = when.latest() >= self.from.earliest
            && match &self.to {
                Some(to) => when.earliest() <= to.latest,
                None => true,
            };
        let end_text = match &self.to {
            Some(to) => format!("ended {to}"),
            None => "has not ended".to_owned(),
        };
        let time_text = format!(
            "interval {when}; control by {} began {} and {end_text}",
            self.controller, self.from
        );
        let verdict = if spatial.relation == SpatialRelation::Disjoint || !t_possible {
            ContextVerdict::Outside
        } else if t_def_start && t_def_end && spatial.relation == SpatialRelation::Within {
            ContextVerdict::DefinitelyInside
        } else {
            ContextVerdict::PossiblyInside
        };
        let why = match verdict {
            ContextVerdict::DefinitelyInside => {
                let end = match &self.to {
                    Some(to) => format!(
                        " and ends {} <= earliest end {}",
                        when.latest(),
                        to.earliest
                    ),
                    None => String::new(),
                };
                format!(
                    "starts {} >= latest start {}{end}; place wholly inside the controlled area ({})",
                    when.earliest(),
                    self.from.latest,
                    spatial.explanation
                )
            }
            ContextVerdict::PossiblyInside => {
                let mut parts = Vec::new();
                if !t_def_start {
                    parts.push(format!(
                        "starts {} before the latest possible start {}",
                        when.earliest(),
                        self.from.latest
                    ));
                }
                if !t_def_end {
                    if let Some(to) = &self.to {
                        parts.push(format!(
                            "ends {} after the earliest possible end {}",
                            when.latest(),
                            to.earliest
                        ));
                    }
                }
                if spatial.relation != SpatialRelation::Within {
                    parts.push(format!(
                        "place only partly inside the controlled area ({})",
                        spatial.explanation
                    ));
                }
                parts.join("; ")
            }
            ContextVerdict::Outside => {
                if spatial.relation == SpatialRelation::Disjoint {
                    format!(
                        "place outside the controlled area ({})",
                        spatial.explanation
                    )
                } else if when.latest() < self.from.earliest {
                    format!(
                        "ends {} before the earliest possible start {}",
                        when.latest(),
                        self.from.earliest
                    )
                } else {
                    let to = self
                        .to
                        .as_ref()
                        .map(|t| t.latest.to_string())
                        .unwrap_or_default();
                    format!(
                        "starts {} after the latest possible end {to}",
                        when.earliest()
                    )
                }
            }
        };
        ContextFinding {
            period: self.id.clone(),
            controller: self.controller.clone(),
            verdict,
            reason: format!("{}: {why} ({time_text})", verdict.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::LatLon;
    use crate::when::Basis;

    fn m(s: &str) -> crate::when::Moment {
        s.parse().unwrap()
    }
    fn b(s: &str) -> Basis {
        Basis::new(s).unwrap()
    }

    fn period() -> ControlPeriod {
        ControlPeriod {
            id: ControlPeriodId::new("CP-1").unwrap(),
            place_ref: None,
            area: Place::disc(LatLon::new(50.5486, 30.2208).unwrap(), 2500.0, b("x")).unwrap(),
            controller: "Force A".into(),
            from: FuzzyBound::new(
                m("2022-02-27T00:00:00+02:00"),
                m("2022-03-05T23:59:59+02:00"),
                None,
            )
            .unwrap(),
            to: Some(
                FuzzyBound::new(
                    m("2022-03-30T00:00:00+03:00"),
                    m("2022-03-31T23:59:59+03:00"),
                    None,
                )
                .unwrap(),
            ),
            links: vec![],
        }
    }

    fn at(place: (f64, f64, f64), from: &str, to: &str) -> (TimeInterval, Place) {
        (
            TimeInterval::between(m(from), m(to), b("t")).unwrap(),
            Place::disc(LatLon::new(place.0, place.1).unwrap(), place.2, b("p")).unwrap(),
        )
    }

    #[test]
    fn definitely_possibly_outside() {
        let cp = period();
        let (t, p) = at(
            (50.5415, 30.2289, 400.0),
            "2022-03-18T00:00:00Z",
            "2022-03-18T23:59:59Z",
        );
        let f = cp.place_interval(&t, &p);
        assert_eq!(f.verdict, ContextVerdict::DefinitelyInside, "{}", f.reason);

        // Straddles the fuzzy end.
        let (t, p) = at(
            (50.5415, 30.2289, 400.0),
            "2022-03-29T00:00:00Z",
            "2022-03-30T12:00:00Z",
        );
        let f = cp.place_interval(&t, &p);
        assert_eq!(f.verdict, ContextVerdict::PossiblyInside, "{}", f.reason);
        assert!(f.reason.contains("earliest possible end"), "{}", f.reason);

        // Inside the fuzzy start window only.
        let (t, p) = at(
            (50.5415, 30.2289, 400.0),
            "2022-03-01T00:00:00Z",
            "2022-03-01T23:00:00Z",
        );
        assert_eq!(
            cp.place_interval(&t, &p).verdict,
            ContextVerdict::PossiblyInside
        );

        // After the latest possible end.
        let (t, p) = at(
            (50.5415, 30.2289, 400.0),
            "2022-04-02T00:00:00Z",
            "2022-04-02T23:00:00Z",
        );
        let f = cp.place_interval(&t, &p);
        assert_eq!(f.verdict, ContextVerdict::Outside, "{}", f.reason);
        assert!(
            f.reason.contains("after the latest possible end"),
            "{}",
            f.reason
        );

        // Far away.
        let (t, p) = at(
            (50.45, 30.52, 100.0),
            "2022-03-18T00:00:00Z",
            "2022-03-18T23:59:59Z",
        );
        assert_eq!(cp.place_interval(&t, &p).verdict, ContextVerdict::Outside);

        // Place straddling the area edge: possibly.
        let (t, p) = at(
            (50.5486, 30.2208, 5000.0),
            "2022-03-18T00:00:00Z",
            "2022-03-18T23:59:59Z",
        );
        assert_eq!(
            cp.place_interval(&t, &p).verdict,
            ContextVerdict::PossiblyInside
        );
    }
}
