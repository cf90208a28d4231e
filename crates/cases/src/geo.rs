//! Places in a case: areas with an uncertainty and a basis, never silent points.
//!
//! A [`Place`] is either a disc (a centre in WGS84 and an uncertainty radius in metres)
//! or a polygon with a margin in metres for the uncertainty of its edges. A radius of 0
//! claims an exact point; only [`Place::exact_point`] builds one, and its serialised form
//! carries `"exact": true`, so an exact point never arises by leaving a field at zero.
//!
//! Distances between centres are great-circle distances (haversine, mean Earth radius
//! 6 371 008.8 m). Polygon tests work in a local equirectangular projection around the
//! shapes involved, which is accurate to well under 1 % for areas of some tens of
//! kilometres, the scale of an incident; a shape spanning hundreds of kilometres or a
//! pole should be split.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::PlaceId;
use crate::when::Basis;

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS84 position in decimal degrees.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

/// Why a place cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlaceError {
    #[error("latitude {0} is outside -90..=90 degrees")]
    Latitude(f64),
    #[error("longitude {0} is outside -180..=180 degrees")]
    Longitude(f64),
    #[error("uncertainty {0} m is not a finite number of metres >= 0")]
    Uncertainty(f64),
    #[error(
        "an uncertainty of 0 m claims an exact point: state it on purpose (\"exact\": true, or Place::exact_point) with a basis saying how it was surveyed"
    )]
    SilentPoint,
    #[error("a polygon needs at least 3 vertices, got {0}")]
    TooFewVertices(usize),
    #[error("no GNSS fix and no entered place: enter the place with its uncertainty and basis")]
    NoPlace,
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Result<Self, PlaceError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(PlaceError::Latitude(lat));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(PlaceError::Longitude(lon));
        }
        Ok(Self { lat, lon })
    }
}

impl fmt::Display for LatLon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = if self.lat >= 0.0 { 'N' } else { 'S' };
        let ew = if self.lon >= 0.0 { 'E' } else { 'W' };
        write!(f, "{:.6} {ns}, {:.6} {ew}", self.lat.abs(), self.lon.abs())
    }
}

/// Great-circle distance in metres.
pub fn haversine_m(a: LatLon, b: LatLon) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// The shape of a place.
#[derive(Clone, PartialEq, Debug)]
pub enum Area {
    /// Everything within `radius_m` of `centre`.
    Disc { centre: LatLon, radius_m: f64 },
    /// The polygon, widened by `margin_m` for the uncertainty of its edges.
    Polygon {
        vertices: Vec<LatLon>,
        margin_m: f64,
    },
}

/// A place: an area, where it comes from, and optionally the named place it copies.
#[derive(Clone, PartialEq, Debug)]
pub struct Place {
    area: Area,
    basis: Basis,
    exact: bool,
    named: Option<PlaceId>,
}

impl Place {
    /// A disc with a radius > 0.
    pub fn disc(centre: LatLon, radius_m: f64, basis: Basis) -> Result<Self, PlaceError> {
        if !radius_m.is_finite() || radius_m < 0.0 {
            return Err(PlaceError::Uncertainty(radius_m));
        }
        if radius_m == 0.0 {
            return Err(PlaceError::SilentPoint);
        }
        Ok(Self {
            area: Area::Disc { centre, radius_m },
            basis,
            exact: false,
            named: None,
        })
    }

    /// A point claimed to be exact (surveyed); the basis must say how.
    pub fn exact_point(centre: LatLon, basis: Basis) -> Self {
        Self {
            area: Area::Disc {
                centre,
                radius_m: 0.0,
            },
            basis,
            exact: true,
            named: None,
        }
    }

    /// A polygon (at least three vertices, not closed: the last edge is implied) with a
    /// margin >= 0 for its edges.
    pub fn polygon(vertices: Vec<LatLon>, margin_m: f64, basis: Basis) -> Result<Self, PlaceError> {
        if vertices.len() < 3 {
            return Err(PlaceError::TooFewVertices(vertices.len()));
        }
        if !margin_m.is_finite() || margin_m < 0.0 {
            return Err(PlaceError::Uncertainty(margin_m));
        }
        Ok(Self {
            area: Area::Polygon { vertices, margin_m },
            basis,
            exact: false,
            named: None,
        })
    }

    /// The same place, marked as a copy of the named place `id`.
    pub fn named(mut self, id: PlaceId) -> Self {
        self.named = Some(id);
        self
    }

    pub fn area(&self) -> &Area {
        &self.area
    }
    pub fn basis(&self) -> &Basis {
        &self.basis
    }
    pub fn is_exact(&self) -> bool {
        self.exact
    }
    pub fn name_ref(&self) -> Option<&PlaceId> {
        self.named.as_ref()
    }

    /// A representative point: the disc centre or the polygon's vertex mean.
    pub fn centre(&self) -> LatLon {
        match &self.area {
            Area::Disc { centre, .. } => *centre,
            Area::Polygon { vertices, .. } => {
                let n = vertices.len() as f64;
                LatLon {
                    lat: vertices.iter().map(|v| v.lat).sum::<f64>() / n,
                    lon: vertices.iter().map(|v| v.lon).sum::<f64>() / n,
                }
            }
        }
    }

    /// "PL-YABLUNSKA (50.541500 N, 30.228900 E ±400 m)".
    pub fn short(&self) -> String {
        let shape = match &self.area {
            Area::Disc { centre, radius_m } if self.exact => {
                format!("{centre}, exact")
            }
            Area::Disc { centre, radius_m } => format!("{centre} ±{}", metres(*radius_m)),
            Area::Polygon { vertices, margin_m } => {
                format!(
                    "polygon of {} vertices ±{}",
                    vertices.len(),
                    metres(*margin_m)
                )
            }
        };
        match &self.named {
            Some(id) => format!("{id} ({shape})"),
            None => shape,
        }
    }

    /// How `self` lies relative to `other`, with the arithmetic written out.
    pub fn relate(&self, other: &Place) -> SpatialFinding {
        relate(self, other)
    }

    /// True when the two places share at least one point.
    pub fn intersects(&self, other: &Place) -> bool {
        self.relate(other).relation != SpatialRelation::Disjoint
    }
}

/// Writes metres readably: "400 m", "2.5 km".
pub fn metres(m: f64) -> String {
    if m >= 10_000.0 {
        format!("{:.0} km", m / 1000.0)
    } else if m >= 1000.0 {
        format!("{:.1} km", m / 1000.0)
    } else {
        format!("{m:.0} m")
    }
}

/// The relation of one place to another.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpatialRelation {
    /// Every point the first place may be at lies inside the second.
    Within,
    /// They share some points but the first may lie partly outside the second.
    Overlaps,
    /// They share no point.
    Disjoint,
}

/// A spatial relation and the arithmetic behind it.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct SpatialFinding {
    pub relation: SpatialRelation,
    pub explanation: String,
}

/// Local planar coordinates in metres around an origin.
#[derive(Clone, Copy)]
struct Xy {
    x: f64,
    y: f64,
}

struct Projection {
    lat0: f64,
    lon0: f64,
    cos0: f64,
}

impl Projection {
    fn around(p: LatLon) -> Self {
        Self {
            lat0: p.lat,
            lon0: p.lon,
            cos0: p.lat.to_radians().cos(),
        }
    }
    fn xy(&self, p: LatLon) -> Xy {
        let mut dlon = p.lon - self.lon0;
        if dlon > 180.0 {
            dlon -= 360.0;
        } else if dlon < -180.0 {
            dlon += 360.0;
        }
        Xy {
            x: EARTH_RADIUS_M * dlon.to_radians() * self.cos0,
            y: EARTH_RADIUS_M * (p.lat - self.lat0).to_radians(),
        }
    }
}

fn point_in_polygon(p: Xy, poly: &[Xy]) -> bool {
    let mut inside = false;
    let n = poly.len();
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (poly[i], poly[j]);
        if (a.y > p.y) != (b.y > p.y) {
            let x = (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x;
            if p.x < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

fn dist_point_segment(p: Xy, a: Xy, b: Xy) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0)
    };
    let (cx, cy) = (a.x + t * dx, a.y + t * dy);
    ((p.x - cx).powi(2) + (p.y - cy).powi(2)).sqrt()
}

fn cross(o: Xy, a: Xy, b: Xy) -> f64 {
    (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
}

fn segments_cross(a: Xy, b: Xy, c: Xy, d: Xy) -> bool {
    let d1 = cross(c, d, a);
    let d2 = cross(c, d, b);
    let d3 = cross(a, b, c);
    let d4 = cross(a, b, d);
    ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
}

fn dist_segment_segment(a: Xy, b: Xy, c: Xy, d: Xy) -> f64 {
    if segments_cross(a, b, c, d) {
        return 0.0;
    }
    dist_point_segment(a, c, d)
        .min(dist_point_segment(b, c, d))
        .min(dist_point_segment(c, a, b))
        .min(dist_point_segment(d, a, b))
}

fn edges(poly: &[Xy]) -> impl Iterator<Item = (Xy, Xy)> + '_ {
    (0..poly.len()).map(move |i| (poly[i], poly[(i + 1) % poly.len()]))
}

fn dist_to_boundary(p: Xy, poly: &[Xy]) -> f64 {
    edges(poly)
        .map(|(a, b)| dist_point_segment(p, a, b))
        .fold(f64::INFINITY, f64::min)
}

fn relate(a: &Place, b: &Place) -> SpatialFinding {
    use SpatialRelation::*;
    match (&a.area, &b.area) {
        (
            Area::Disc {
                centre: ca,
                radius_m: ra,
            },
            Area::Disc {
                centre: cb,
                radius_m: rb,
            },
        ) => {
            let d = haversine_m(*ca, *cb);
            let relation = if d > ra + rb {
                Disjoint
            } else if d + ra <= *rb {
                Within
            } else {
                Overlaps
            };
            let explanation = match relation {
                Disjoint => format!(
                    "centres {} apart > {} + {} = {} (sum of radii): the places do not intersect",
                    metres(d),
                    metres(*ra),
                    metres(*rb),
                    metres(ra + rb)
                ),
                Within => format!(
                    "centres {} apart; {} + {} = {} <= {}: the first place lies wholly inside the second",
                    metres(d),
                    metres(d),
                    metres(*ra),
                    metres(d + ra),
                    metres(*rb)
                ),
                Overlaps => format!(
                    "centres {} apart <= {} + {} = {} (sum of radii): the places intersect",
                    metres(d),
                    metres(*ra),
                    metres(*rb),
                    metres(ra + rb)
                ),
            };
            SpatialFinding {
                relation,
                explanation,
            }
        }
        (Area::Disc { centre, radius_m }, Area::Polygon { vertices, margin_m }) => {
            let proj = Projection::around(*centre);
            let poly: Vec<Xy> = vertices.iter().map(|v| proj.xy(*v)).collect();
            let c = proj.xy(*centre);
            let inside = point_in_polygon(c, &poly);
            let e = dist_to_boundary(c, &poly);
            let relation = if !inside && e > radius_m + margin_m {
                Disjoint
            } else if inside && e >= radius_m + margin_m {
                Within
            } else {
                Overlaps
            };
            let side = if inside { "inside" } else { "outside" };
            SpatialFinding {
                relation,
                explanation: format!(
                    "centre {side} the polygon, {} from its edge; radius {} + margin {} = {}",
                    metres(e),
                    metres(*radius_m),
                    metres(*margin_m),
                    metres(radius_m + margin_m)
                ),
            }
        }
        (Area::Polygon { vertices, margin_m }, Area::Disc { centre, radius_m }) => {
            let proj = Projection::around(*centre);
            let poly: Vec<Xy> = vertices.iter().map(|v| proj.xy(*v)).collect();
            let c = proj.xy(*centre);
            let far = vertices
                .iter()
                .map(|v| haversine_m(*v, *centre))
                .fold(0.0, f64::max);
            let inside = point_in_polygon(c, &poly);
            let e = dist_to_boundary(c, &poly);
            let relation = if far + margin_m <= *radius_m {
                Within
            } else if !inside && e > radius_m + margin_m {
                Disjoint
            } else {
                Overlaps
            };
            SpatialFinding {
                relation,
                explanation: format!(
                    "farthest vertex {} from the disc centre (radius {}); polygon edge {} from the centre; margin {}",
                    metres(far),
                    metres(*radius_m),
                    metres(e),
                    metres(*margin_m)
                ),
            }
        }
        (
            Area::Polygon {
                vertices: va,
                margin_m: ma,
            },
            Area::Polygon {
                vertices: vb,
                margin_m: mb,
            },
        ) => {
            let proj = Projection::around(va[0]);
            let pa: Vec<Xy> = va.iter().map(|v| proj.xy(*v)).collect();
            let pb: Vec<Xy> = vb.iter().map(|v| proj.xy(*v)).collect();
            let a_in_b = pa.iter().filter(|p| point_in_polygon(**p, &pb)).count();
            let b_in_a = pb.iter().filter(|p| point_in_polygon(**p, &pa)).count();
            let mut gap = f64::INFINITY;
            for (a1, a2) in edges(&pa) {
                for (b1, b2) in edges(&pb) {
                    gap = gap.min(dist_segment_segment(a1, a2, b1, b2));
                }
            }
            let relation = if a_in_b == 0 && b_in_a == 0 && gap > ma + mb {
                Disjoint
            } else if a_in_b == pa.len() && b_in_a == 0 && gap >= ma + mb {
                Within
            } else {
                Overlaps
            };
            SpatialFinding {
                relation,
                explanation: format!(
                    "{a_in_b} of {} vertices inside the other polygon; nearest edges {} apart; margins {} + {}",
                    pa.len(),
                    metres(gap),
                    metres(*ma),
                    metres(*mb)
                ),
            }
        }
    }
}

/// The serialised form of a place.
///
/// Disc: `{"lat", "lon", "uncertainty_m", "basis", "exact"?, "ref"?}`.
/// Polygon: `{"polygon": [[lat, lon], ...], "margin_m", "basis", "ref"?}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceWire {
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "ref")]
    named: Option<PlaceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lon: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uncertainty_m: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    polygon: Option<Vec<[f64; 2]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    margin_m: Option<f64>,
    basis: Basis,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    exact: bool,
}

impl Serialize for Place {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut w = PlaceWire {
            named: self.named.clone(),
            lat: None,
            lon: None,
            uncertainty_m: None,
            polygon: None,
            margin_m: None,
            basis: self.basis.clone(),
            exact: self.exact,
        };
        match &self.area {
            Area::Disc { centre, radius_m } => {
                w.lat = Some(centre.lat);
                w.lon = Some(centre.lon);
                w.uncertainty_m = Some(*radius_m);
            }
            Area::Polygon { vertices, margin_m } => {
                w.polygon = Some(vertices.iter().map(|v| [v.lat, v.lon]).collect());
                w.margin_m = Some(*margin_m);
            }
        }
        w.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Place {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let w = PlaceWire::deserialize(d)?;
        let place = match (w.polygon, w.lat, w.lon) {
            (Some(poly), None, None) => {
                let vertices = poly
                    .into_iter()
                    .map(|[lat, lon]| LatLon::new(lat, lon))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(D::Error::custom)?;
                Place::polygon(vertices, w.margin_m.unwrap_or(0.0), w.basis)
                    .map_err(D::Error::custom)?
            }
            (None, Some(lat), Some(lon)) => {
                let centre = LatLon::new(lat, lon).map_err(D::Error::custom)?;
                let r = w
                    .uncertainty_m
                    .ok_or_else(|| D::Error::custom("a disc needs uncertainty_m"))?;
                if w.exact {
                    if r != 0.0 {
                        return Err(D::Error::custom("\"exact\": true needs uncertainty_m 0"));
                    }
                    Place::exact_point(centre, w.basis)
                } else {
                    Place::disc(centre, r, w.basis).map_err(D::Error::custom)?
                }
            }
            _ => {
                return Err(D::Error::custom(
                    "a place is either lat, lon and uncertainty_m, or a polygon",
                ));
            }
        };
        Ok(match w.named {
            Some(id) => place.named(id),
            None => place,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Basis {
        Basis::new(s).unwrap()
    }
    fn p(lat: f64, lon: f64) -> LatLon {
        LatLon::new(lat, lon).unwrap()
    }

    #[test]
    fn haversine_matches_a_known_distance() {
        // Kyiv (50.4501 N, 30.5234 E) to the Bucha centroid: 24 042.5 m on the sphere
        // (independently computed with Python's math module).
        let d = haversine_m(p(50.4501, 30.5234), p(50.5486, 30.2208));
        assert!((d - 24_042.49).abs() < 0.5, "{d}");
        // One degree of latitude on the mean sphere: 111.195 km.
        let deg = haversine_m(p(10.0, 20.0), p(11.0, 20.0));
        assert!((deg - 111_195.0).abs() < 1.0, "{deg}");
    }

    #[test]
    fn zero_radius_needs_the_exact_constructor() {
        assert_eq!(
            Place::disc(p(50.0, 30.0), 0.0, b("x")),
            Err(PlaceError::SilentPoint)
        );
        assert!(Place::disc(p(50.0, 30.0), -1.0, b("x")).is_err());
        assert!(Place::disc(p(50.0, 30.0), f64::NAN, b("x")).is_err());
        let e = Place::exact_point(p(50.0, 30.0), b("total station survey"));
        assert!(e.is_exact());
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"exact\":true"), "{json}");
        let silent = r#"{"lat":50.0,"lon":30.0,"uncertainty_m":0,"basis":"x"}"#;
        let err = serde_json::from_str::<Place>(silent).unwrap_err();
        assert!(err.to_string().contains("exact"), "{err}");
        assert!(LatLon::new(91.0, 0.0).is_err());
        assert!(LatLon::new(0.0, 181.0).is_err());
    }

    #[test]
    fn discs_relate_by_centre_distance_and_radii() {
        let yablunska = Place::disc(p(50.5415, 30.2289), 400.0, b("x")).unwrap();
        let bucha = Place::disc(p(50.5486, 30.2208), 2500.0, b("x")).unwrap();
        let church = Place::disc(p(50.548258, 30.205485), 50.0, b("x")).unwrap();
        assert_eq!(yablunska.relate(&bucha).relation, SpatialRelation::Within);
        assert_eq!(bucha.relate(&yablunska).relation, SpatialRelation::Overlaps);
        assert_eq!(
            yablunska.relate(&church).relation,
            SpatialRelation::Disjoint
        );
        let f = yablunska.relate(&church);
        assert!(
            f.explanation.contains("do not intersect"),
            "{}",
            f.explanation
        );
    }

    #[test]
    fn polygons_relate_to_discs_and_polygons() {
        // A square of about 1.1 km side around 50.55 N, 30.22 E.
        let sq = Place::polygon(
            vec![
                p(50.545, 30.212),
                p(50.545, 30.228),
                p(50.555, 30.228),
                p(50.555, 30.212),
            ],
            0.0,
            b("x"),
        )
        .unwrap();
        let inside = Place::disc(p(50.55, 30.22), 100.0, b("x")).unwrap();
        let edge = Place::disc(p(50.545, 30.22), 100.0, b("x")).unwrap();
        let far = Place::disc(p(50.60, 30.22), 100.0, b("x")).unwrap();
        assert_eq!(inside.relate(&sq).relation, SpatialRelation::Within);
        assert_eq!(edge.relate(&sq).relation, SpatialRelation::Overlaps);
        assert_eq!(far.relate(&sq).relation, SpatialRelation::Disjoint);
        let big = Place::disc(p(50.55, 30.22), 5000.0, b("x")).unwrap();
        assert_eq!(sq.relate(&big).relation, SpatialRelation::Within);
        assert_eq!(sq.relate(&far).relation, SpatialRelation::Disjoint);
        let small_sq = Place::polygon(
            vec![
                p(50.549, 30.219),
                p(50.549, 30.221),
                p(50.551, 30.221),
                p(50.551, 30.219),
            ],
            0.0,
            b("x"),
        )
        .unwrap();
        assert_eq!(small_sq.relate(&sq).relation, SpatialRelation::Within);
        assert_eq!(sq.relate(&small_sq).relation, SpatialRelation::Overlaps);
        let away_sq = Place::polygon(
            vec![p(50.60, 30.21), p(50.60, 30.23), p(50.61, 30.23)],
            0.0,
            b("x"),
        )
        .unwrap();
        assert_eq!(away_sq.relate(&sq).relation, SpatialRelation::Disjoint);
        // A margin can bridge a gap.
        let near_sq = Place::polygon(
            vec![p(50.5551, 30.212), p(50.5551, 30.228), p(50.556, 30.22)],
            50.0,
            b("x"),
        )
        .unwrap();
        assert_eq!(near_sq.relate(&sq).relation, SpatialRelation::Overlaps);
        assert!(Place::polygon(vec![p(1.0, 1.0), p(2.0, 2.0)], 0.0, b("x")).is_err());
    }

    #[test]
    fn place_serde_round_trips() {
        let d = Place::disc(p(50.5415, 30.2289), 400.0, b("approx"))
            .unwrap()
            .named(PlaceId::new("PL-YABLUNSKA").unwrap());
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(
            json,
            r#"{"ref":"PL-YABLUNSKA","lat":50.5415,"lon":30.2289,"uncertainty_m":400.0,"basis":"approx"}"#
        );
        assert_eq!(serde_json::from_str::<Place>(&json).unwrap(), d);
    }
}
