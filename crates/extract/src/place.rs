//! Positions compared: a file stating two places far apart says something about
//! itself (an edited copy, a stale fix beside a fresh one, a position written later).

use crate::record::{Note, Position};

/// Two positions further apart than this are noted. Readings of one fix written twice
/// (EXIF GPS and its XMP copy) agree to well under a metre.
const NOTED_APART_M: f64 = 50.0;

/// Mean radius of the Earth (IUGG), for great-circle distances.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A `position_difference` note for each pair of positions from different sources
/// more than [`NOTED_APART_M`] apart, in record order.
pub fn compare(positions: &[Position]) -> Vec<Note> {
    let mut notes = Vec::new();
    for (i, a) in positions.iter().enumerate() {
        for b in &positions[i + 1..] {
            if a.source == b.source {
                continue;
            }
            let d = great_circle_m(a, b);
            if d > NOTED_APART_M {
                let apart = if d < 10_000.0 {
                    format!("{d:.0} m")
                } else {
                    format!("{:.1} km", d / 1000.0)
                };
                notes.push(Note {
                    kind: "position_difference".into(),
                    sources: vec![a.source.clone(), b.source.clone()],
                    difference_s: None,
                    difference_range_s: None,
                    value: Some(format!("{d:.0}")),
                    text: format!(
                        "{} and {} state positions {apart} apart (great-circle distance): the file does not say one place.",
                        a.source, b.source
                    ),
                });
            }
        }
    }
    notes
}

/// Distance in metres between two positions on a sphere of the Earth's mean radius.
pub fn great_circle_m(a: &Position, b: &Position) -> f64 {
    let (p1, p2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dp = p2 - p1;
    let dl = (b.longitude - a.longitude).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(source: &str, latitude: f64, longitude: f64) -> Position {
        Position {
            source: source.into(),
            latitude,
            longitude,
            altitude_m: None,
            altitude_reference: None,
            horizontal_error_m: None,
            dop: None,
            datum: None,
            original: String::new(),
        }
    }

    #[test]
    fn places_far_apart_are_noted_and_copies_of_one_fix_are_not() {
        let bucha = at("exif.gps", 50.5436, 30.2133);
        let copy = at("xmp.exif", 50.54360001, 30.2133);
        assert!(compare(&[bucha.clone(), copy]).is_empty());
        let santiago = at("xmp.exif", -33.45, -70.6);
        let notes = compare(&[bucha.clone(), santiago]);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].sources, ["exif.gps", "xmp.exif"]);
        assert!(notes[0].text.contains("km apart"), "{}", notes[0].text);
        // Kyiv to Bucha is about 25 km.
        let kyiv = at("quicktime.udta.©xyz", 50.4501, 30.5234);
        let d = great_circle_m(&bucha, &kyiv);
        assert!((23_000.0..25_000.0).contains(&d), "{d}");
        // 100 m north: noted, in metres.
        let near = at("xmp.exif", 50.5436 + 100.0 / 111_195.0, 30.2133);
        let notes = compare(&[bucha, near]);
        assert!(notes[0].text.contains("100 m apart"), "{}", notes[0].text);
    }
}
