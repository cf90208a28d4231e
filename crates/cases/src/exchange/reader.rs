//! A reader over parsed JSON that knows where it is: every accessor takes a node with
//! its path, and every problem becomes an [`Issue`] with that path, the line, what is
//! wrong and what was expected. Readers collect problems and go on, so one import
//! reports all of them.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use serde_json::{Map, Value};
use time::UtcOffset;

use super::jsonpos::{lines_of, push_index, push_key};
use super::{Issue, Location};
use crate::geo::{LatLon, Place};
use crate::ids::PlaceId;
use crate::when::{
    Basis, DayEnd, FuzzyBound, IntervalError, Moment, TimeBound, TimeInterval, format_offset,
};

/// A JSON value and its path.
#[derive(Clone)]
pub(crate) struct N<'v> {
    pub v: &'v Value,
    pub path: String,
}

impl<'v> N<'v> {
    pub fn root(v: &'v Value) -> Self {
        Self {
            v,
            path: "$".into(),
        }
    }
}

/// A JSON object and its path.
#[derive(Clone)]
pub(crate) struct Obj<'v> {
    pub map: &'v Map<String, Value>,
    pub path: String,
}

impl<'v> Obj<'v> {
    pub fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_null())
    }
    /// The member `key` if present and not null.
    pub fn get(&self, key: &str) -> Option<N<'v>> {
        self.map.get(key).filter(|v| !v.is_null()).map(|v| N {
            v,
            path: push_key(&self.path, key),
        })
    }
    pub fn key_path(&self, key: &str) -> String {
        push_key(&self.path, key)
    }
}

/// Describes a value for a message: `a string "400m"`, `a number 400`, `null`.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("a number {n}"),
        Value::String(s) => {
            let mut t: String = s.chars().take(60).collect();
            if t.len() < s.len() {
                t.push('…');
            }
            format!("a string {t:?}")
        }
        Value::Array(a) => format!("an array of {} values", a.len()),
        Value::Object(_) => "an object".into(),
    }
}

pub(crate) struct Ctx {
    pub issues: Vec<Issue>,
    lines: HashMap<String, usize>,
    pub offset: UtcOffset,
    pub places: BTreeMap<PlaceId, Place>,
}

impl Ctx {
    pub fn new(text: &str, offset: UtcOffset) -> Self {
        Self {
            issues: Vec::new(),
            lines: lines_of(text),
            offset,
            places: BTreeMap::new(),
        }
    }

    /// The line of `path`, or of its nearest ancestor that has one.
    pub fn line(&self, path: &str) -> Option<usize> {
        let mut p = path;
        loop {
            if let Some(l) = self.lines.get(p) {
                return Some(*l);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }

    pub fn err(&mut self, path: &str, problem: impl Into<String>, expected: impl Into<String>) {
        let line = self.line(path);
        self.issues.push(Issue {
            location: Location::Json {
                path: path.to_owned(),
                line,
            },
            problem: problem.into(),
            expected: expected.into(),
        });
    }

    /// The node as an object whose keys are all in `allowed`.
    pub fn object<'v>(&mut self, n: &N<'v>, allowed: &[&str]) -> Option<Obj<'v>> {
        let Value::Object(map) = n.v else {
            self.err(
                &n.path,
                format!("{} is not an object", describe(n.v)),
                "an object",
            );
            return None;
        };
        for k in map.keys() {
            if !allowed.contains(&k.as_str()) {
                let p = push_key(&n.path, k);
                self.err(
                    &p,
                    format!("unknown field {k:?}"),
                    format!("one of: {}", allowed.join(", ")),
                );
            }
        }
        Some(Obj {
            map,
            path: n.path.clone(),
        })
    }

    /// The member `key`, reporting it missing.
    pub fn req<'v>(&mut self, o: &Obj<'v>, key: &str, expected: &str) -> Option<N<'v>> {
        let n = o.get(key);
        if n.is_none() {
            let p = o.key_path(key);
            let problem = if o.map.contains_key(key) {
                format!("field {key:?} is null")
            } else {
                format!("missing field {key:?}")
            };
            self.err(&p, problem, expected);
        }
        n
    }

    pub fn array<'v>(&mut self, n: &N<'v>, expected: &str) -> Option<Vec<N<'v>>> {
        let Value::Array(a) = n.v else {
            self.err(
                &n.path,
                format!("{} is not an array", describe(n.v)),
                expected,
            );
            return None;
        };
        Some(
            a.iter()
                .enumerate()
                .map(|(i, v)| N {
                    v,
                    path: push_index(&n.path, i),
                })
                .collect(),
        )
    }

    /// An optional array member; absent means empty.
    pub fn opt_array<'v>(&mut self, o: &Obj<'v>, key: &str, expected: &str) -> Vec<N<'v>> {
        match o.get(key) {
            Some(n) => self.array(&n, expected).unwrap_or_default(),
            None => Vec::new(),
        }
    }

    pub fn string(&mut self, n: &N<'_>, expected: &str) -> Option<String> {
        match n.v {
            Value::String(s) => Some(s.clone()),
            other => {
                self.err(
                    &n.path,
                    format!("{} is not a string", describe(other)),
                    expected,
                );
                None
            }
        }
    }

    /// A required non-empty string member.
    pub fn text(&mut self, o: &Obj<'_>, key: &str, expected: &str) -> Option<String> {
        let n = self.req(o, key, expected)?;
        let s = self.string(&n, expected)?;
        if s.trim().is_empty() {
            self.err(&n.path, "the text is empty", expected);
            return None;
        }
        Some(s)
    }

    /// An optional string member ("" when absent).
    pub fn opt_text(&mut self, o: &Obj<'_>, key: &str, expected: &str) -> String {
        match o.get(key) {
            Some(n) => self.string(&n, expected).unwrap_or_default(),
            None => String::new(),
        }
    }

    pub fn opt_string(&mut self, o: &Obj<'_>, key: &str, expected: &str) -> Option<String> {
        let n = o.get(key)?;
        self.string(&n, expected).filter(|s| !s.trim().is_empty())
    }

    pub fn number(&mut self, n: &N<'_>, expected: &str) -> Option<f64> {
        match n.v.as_f64() {
            Some(f) if n.v.is_number() => Some(f),
            _ => {
                self.err(
                    &n.path,
                    format!("{} is not a number", describe(n.v)),
                    expected,
                );
                None
            }
        }
    }

    pub fn integer(&mut self, n: &N<'_>, expected: &str) -> Option<u64> {
        match n.v.as_u64() {
            Some(u) => Some(u),
            None => {
                self.err(
                    &n.path,
                    format!("{} is not a whole number >= 0", describe(n.v)),
                    expected,
                );
                None
            }
        }
    }

    pub fn boolean(&mut self, n: &N<'_>, expected: &str) -> Option<bool> {
        match n.v {
            Value::Bool(b) => Some(*b),
            other => {
                self.err(
                    &n.path,
                    format!("{} is not true or false", describe(other)),
                    expected,
                );
                None
            }
        }
    }

    pub fn opt_bool(&mut self, o: &Obj<'_>, key: &str) -> bool {
        match o.get(key) {
            Some(n) => self.boolean(&n, "true or false").unwrap_or(false),
            None => false,
        }
    }

    /// Parses a string node with `FromStr`, reporting the parser's message.
    pub fn parsed<T: FromStr>(&mut self, n: &N<'_>, expected: &str) -> Option<T>
    where
        T::Err: std::fmt::Display,
    {
        let s = self.string(n, expected)?;
        match s.parse::<T>() {
            Ok(t) => Some(t),
            Err(e) => {
                self.err(&n.path, e.to_string(), expected);
                None
            }
        }
    }

    pub fn req_parsed<T: FromStr>(&mut self, o: &Obj<'_>, key: &str, expected: &str) -> Option<T>
    where
        T::Err: std::fmt::Display,
    {
        let n = self.req(o, key, expected)?;
        self.parsed(&n, expected)
    }

    pub fn opt_parsed<T: FromStr>(&mut self, o: &Obj<'_>, key: &str, expected: &str) -> Option<T>
    where
        T::Err: std::fmt::Display,
    {
        let n = o.get(key)?;
        self.parsed(&n, expected)
    }

    pub fn list_parsed<T: FromStr>(&mut self, o: &Obj<'_>, key: &str, expected: &str) -> Vec<T>
    where
        T::Err: std::fmt::Display,
    {
        let items = self.opt_array(o, key, &format!("an array of {expected}"));
        items
            .iter()
            .filter_map(|n| self.parsed(n, expected))
            .collect()
    }

    pub fn list_text(&mut self, o: &Obj<'_>, key: &str, expected: &str) -> Vec<String> {
        let items = self.opt_array(o, key, &format!("an array of {expected}"));
        items
            .iter()
            .filter_map(|n| self.string(n, expected))
            .collect()
    }

    const TIME: &'static str =
        "an RFC 3339 time (2022-03-18T10:00:00Z, 2022-04-01T00:00:00+03:00) or a date (2022-03-18)";

    /// A time; date-only values become the start or end of the day at the case offset.
    /// Returns the moment and whether it was date-only.
    pub fn moment(&mut self, n: &N<'_>, side: DayEnd) -> Option<(Moment, bool)> {
        let s = self.string(n, Self::TIME)?;
        match Moment::parse_lenient(&s, self.offset, side) {
            Ok(m) => Some(m),
            Err(_) => {
                self.err(&n.path, format!("{s:?} is not a time"), Self::TIME);
                None
            }
        }
    }

    pub fn req_moment(&mut self, o: &Obj<'_>, key: &str, side: DayEnd) -> Option<Moment> {
        let n = self.req(o, key, Self::TIME)?;
        self.moment(&n, side).map(|(m, _)| m)
    }

    fn basis_of(&mut self, n: Option<N<'_>>, date_only: bool, path: &str) -> Option<Basis> {
        let text = match n {
            Some(n) => self.string(&n, "a basis: where the value comes from")?,
            None => {
                self.err(
                    path,
                    "missing field \"basis\"",
                    "a basis saying where the time comes from",
                );
                return None;
            }
        };
        let text = if date_only {
            format!(
                "{text} (date only: whole day at UTC{})",
                format_offset(self.offset)
            )
        } else {
            text
        };
        match Basis::new(text) {
            Ok(b) => Some(b),
            Err(e) => {
                self.err(path, e.to_string(), "a non-empty basis");
                None
            }
        }
    }

    /// `{"earliest", "latest", "basis", "latest_basis"?, "exact"?}`.
    pub fn interval(&mut self, n: &N<'_>) -> Option<TimeInterval> {
        let o = self.object(n, &["earliest", "latest", "basis", "latest_basis", "exact"])?;
        let e = self.req(&o, "earliest", Self::TIME);
        let l = self.req(&o, "latest", Self::TIME);
        let exact = self.opt_bool(&o, "exact");
        let e = e.and_then(|e| self.moment(&e, DayEnd::Start));
        let l = l.and_then(|l| self.moment(&l, DayEnd::End));
        let ((e, e_day), (l, l_day)) = (e?, l?);
        let eb = self.basis_of(o.get("basis"), e_day, &o.key_path("basis"))?;
        let lb = match o.get("latest_basis") {
            Some(n) => self.basis_of(Some(n), l_day, &o.key_path("latest_basis"))?,
            None if l_day != e_day => self.basis_of(o.get("basis"), l_day, &o.key_path("basis"))?,
            None => eb.clone(),
        };
        if exact {
            if e != l {
                self.err(
                    &o.key_path("exact"),
                    "\"exact\": true but earliest and latest differ",
                    "equal earliest and latest for an exact time",
                );
                return None;
            }
            return Some(TimeInterval::exact(e, eb));
        }
        match TimeInterval::new(
            TimeBound { at: e, basis: eb },
            TimeBound { at: l, basis: lb },
        ) {
            Ok(i) => Some(i),
            Err(err) => {
                let expected = match err {
                    IntervalError::SilentPoint(_) => "an interval, or \"exact\": true",
                    _ => "earliest <= latest",
                };
                self.err(&n.path, err.to_string(), expected);
                None
            }
        }
    }

    /// `{"earliest", "latest", "note"?}` with date-only values widened.
    pub fn fuzzy(&mut self, n: &N<'_>) -> Option<FuzzyBound> {
        let o = self.object(n, &["earliest", "latest", "note"])?;
        let e = self.req_moment(&o, "earliest", DayEnd::Start);
        let l = self.req_moment(&o, "latest", DayEnd::End);
        let note = self.opt_string(&o, "note", "a note");
        let (e, l) = (e?, l?);
        match FuzzyBound::new(e, l, note) {
            Ok(f) => Some(f),
            Err(err) => {
                self.err(&n.path, err.to_string(), "earliest <= latest");
                None
            }
        }
    }

    const PLACE: &'static str = "{\"ref\": place id}, {\"lat\", \"lon\", \"uncertainty_m\", \"basis\"} or {\"polygon\": [[lat, lon], ...], \"margin_m\", \"basis\"}";

    pub fn place_ref(&mut self, n: &N<'_>) -> Option<Place> {
        let id: PlaceId = self.parsed(n, "a place id")?;
        match self.places.get(&id) {
            Some(p) => Some(p.clone().named(id)),
            None => {
                let known: Vec<&str> = self.places.keys().map(|k| k.as_str()).collect();
                self.err(
                    &n.path,
                    format!("unknown place {id}"),
                    format!("a place defined under places ({})", known.join(", ")),
                );
                None
            }
        }
    }

    /// A place: a reference to a named place, or inline.
    pub fn place(&mut self, n: &N<'_>) -> Option<Place> {
        self.place_with(n, &[])
    }

    /// A place, tolerating the extra keys `extra` (e.g. `id`, `name`).
    pub fn place_with(&mut self, n: &N<'_>, extra: &[&str]) -> Option<Place> {
        let mut allowed = vec![
            "ref",
            "lat",
            "lon",
            "uncertainty_m",
            "basis",
            "exact",
            "polygon",
            "margin_m",
        ];
        allowed.extend_from_slice(extra);
        let o = self.object(n, &allowed)?;
        let has_shape = o.has("lat") || o.has("lon") || o.has("polygon");
        if !has_shape {
            return match o.get("ref") {
                Some(r) => self.place_ref(&r),
                None => {
                    self.err(&n.path, "no place given", Self::PLACE);
                    None
                }
            };
        }
        let named: Option<PlaceId> = self.opt_parsed(&o, "ref", "a place id");
        let basis = {
            let t = self.text(&o, "basis", "a basis saying where the place comes from")?;
            Basis::new(t).ok()?
        };
        let place = if let Some(poly) = o.get("polygon") {
            let pts = self.array(&poly, "an array of [lat, lon] pairs")?;
            let mut vertices = Vec::new();
            for p in &pts {
                let pair = match p.v {
                    Value::Array(a) if a.len() == 2 => (a[0].as_f64(), a[1].as_f64()),
                    _ => (None, None),
                };
                match pair {
                    (Some(lat), Some(lon)) => match LatLon::new(lat, lon) {
                        Ok(ll) => vertices.push(ll),
                        Err(e) => self.err(&p.path, e.to_string(), "a WGS84 position"),
                    },
                    _ => self.err(
                        &p.path,
                        format!("{} is not a [lat, lon] pair", describe(p.v)),
                        "[lat, lon] in decimal degrees",
                    ),
                }
            }
            if vertices.len() != pts.len() {
                return None;
            }
            let margin = match o.get("margin_m") {
                Some(m) => self.number(&m, "metres")?,
                None => 0.0,
            };
            match Place::polygon(vertices, margin, basis) {
                Ok(p) => p,
                Err(e) => {
                    self.err(
                        &poly.path,
                        e.to_string(),
                        "at least 3 vertices and a margin >= 0",
                    );
                    return None;
                }
            }
        } else {
            let lat = self.req(&o, "lat", "latitude in decimal degrees");
            let lon = self.req(&o, "lon", "longitude in decimal degrees");
            let unc = self.req(&o, "uncertainty_m", "the uncertainty radius in metres");
            let lat = lat.and_then(|n| self.number(&n, "latitude in decimal degrees"));
            let lon = lon.and_then(|n| self.number(&n, "longitude in decimal degrees"));
            let unc_path = o.key_path("uncertainty_m");
            let r = unc.and_then(|n| self.number(&n, "the uncertainty radius in metres"));
            let (lat, lon, r) = (lat?, lon?, r?);
            let centre = match LatLon::new(lat, lon) {
                Ok(c) => c,
                Err(e) => {
                    self.err(&n.path, e.to_string(), "a WGS84 position");
                    return None;
                }
            };
            if self.opt_bool(&o, "exact") {
                if r != 0.0 {
                    self.err(
                        &unc_path,
                        "\"exact\": true with a non-zero uncertainty",
                        "0 for an exact point",
                    );
                    return None;
                }
                Place::exact_point(centre, basis)
            } else {
                match Place::disc(centre, r, basis) {
                    Ok(p) => p,
                    Err(e) => {
                        self.err(
                            &unc_path,
                            e.to_string(),
                            "a radius > 0, or 0 with \"exact\": true",
                        );
                        return None;
                    }
                }
            }
        };
        Some(match named {
            Some(id) => place.named(id),
            None => place,
        })
    }
}
