//! Mirrored and turned copies: the hash a picture would have if it were flipped or rotated.
//!
//! A recycled photograph is sometimes mirrored (or turned) before it is posted again, so
//! that a reverse image search does not find where it came from. The stored hash
//! describes the picture as displayed, and a mirrored copy is a different picture to it.
//! What can be asked instead is whether some item is near the picture *as it would be*
//! if mirrored or turned: the grid of the picture is transformed, which costs one more
//! DCT a transform, and the vault's stored hashes are looked up as they are. The turned
//! hashes are recorded with the hash (each under its [`Turn::id`]); the hash itself is
//! the same whether or not they are.

use crate::PHash;
use crate::phash::{self, Grid};

/// One of the seven ways of mirroring or turning a picture by quarter turns (the eight
/// orientations of EXIF, less the picture as it is).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Turn {
    /// Left and right exchanged.
    Mirrored,
    /// Turned half a turn (upside down, left and right exchanged).
    HalfTurn,
    /// Top and bottom exchanged (mirrored upside down).
    UpsideDown,
    /// Mirrored across the diagonal from the top-left corner (a quarter turn clockwise,
    /// then mirrored left to right).
    Transposed,
    /// Turned a quarter turn clockwise.
    QuarterClockwise,
    /// Mirrored across the diagonal from the top-right corner (a quarter turn
    /// anticlockwise, then mirrored left to right).
    Transversed,
    /// Turned a quarter turn anticlockwise.
    QuarterAnticlockwise,
}

impl Turn {
    /// Every turn, in the order of [`Turned`]'s hashes.
    pub const ALL: [Turn; 7] = [
        Turn::Mirrored,
        Turn::HalfTurn,
        Turn::UpsideDown,
        Turn::Transposed,
        Turn::QuarterClockwise,
        Turn::Transversed,
        Turn::QuarterAnticlockwise,
    ];

    /// The EXIF Orientation value whose display transform this is.
    fn orientation(self) -> u8 {
        match self {
            Turn::Mirrored => 2,
            Turn::HalfTurn => 3,
            Turn::UpsideDown => 4,
            Turn::Transposed => 5,
            Turn::QuarterClockwise => 6,
            Turn::Transversed => 7,
            Turn::QuarterAnticlockwise => 8,
        }
    }

    /// The turn that undoes this one: if B is A after `self`, A is B after `inverse`.
    pub fn inverse(self) -> Turn {
        match self {
            Turn::QuarterClockwise => Turn::QuarterAnticlockwise,
            Turn::QuarterAnticlockwise => Turn::QuarterClockwise,
            other => other,
        }
    }

    /// The turn named `id` (see [`Turn::id`]).
    pub fn from_id(id: &str) -> Option<Turn> {
        Turn::ALL.into_iter().find(|t| t.id() == id)
    }

    /// A stable name for scripts (`--json`) and for the turned hashes recorded in the
    /// ledger.
    pub fn id(self) -> &'static str {
        match self {
            Turn::Mirrored => "mirrored",
            Turn::HalfTurn => "rotated-180",
            Turn::UpsideDown => "mirrored-upside-down",
            Turn::Transposed => "transposed",
            Turn::QuarterClockwise => "rotated-90-clockwise",
            Turn::Transversed => "transversed",
            Turn::QuarterAnticlockwise => "rotated-90-anticlockwise",
        }
    }

    /// What was done to the asked picture to give the one found, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Turn::Mirrored => "mirrored left to right",
            Turn::HalfTurn => "turned half a turn",
            Turn::UpsideDown => "mirrored top to bottom",
            Turn::Transposed => "mirrored across its diagonal",
            Turn::QuarterClockwise => "turned a quarter turn clockwise",
            Turn::Transversed => "mirrored across its other diagonal",
            Turn::QuarterAnticlockwise => "turned a quarter turn anticlockwise",
        }
    }
}

/// The hashes a picture would have if mirrored or turned, in the order of [`Turn::ALL`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Turned(pub [PHash; 7]);

impl Turned {
    /// Each turn with the hash the picture would have after it.
    pub fn iter(&self) -> impl Iterator<Item = (Turn, PHash)> + '_ {
        Turn::ALL.into_iter().zip(self.0)
    }

    /// The hash the picture would have after `turn`.
    pub fn get(&self, turn: Turn) -> PHash {
        let at = Turn::ALL
            .iter()
            .position(|t| *t == turn)
            .expect("every turn is listed");
        self.0[at]
    }

    pub(crate) fn of(grid: &Grid) -> Turned {
        Turned(Turn::ALL.map(|t| PHash(phash::hash_bits(&phash::orient(grid, t.orientation())))))
    }
}

/// A picture's hash as it is displayed, and as it would be if mirrored or turned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Turnings {
    pub hash: PHash,
    pub turned: Turned,
}

impl Turnings {
    /// Whether the picture looks the same after `turn` (its own turned hash is within
    /// `max_distance` of its hash): then a copy near it turned cannot be told from one
    /// near it as it is, and the turn says nothing.
    pub fn looks_the_same(&self, turn: Turn, max_distance: u32) -> bool {
        self.turned.get(turn).distance(&self.hash) <= max_distance
    }

    /// How far `other` is from this picture after `turn`, seen from both sides: the
    /// larger of the distance from this picture turned to `other` and from `other` turned
    /// back to this picture. A median-threshold hash of a turned grid is not the hash's
    /// bits turned, so the two differ, and a true turned copy is near from both sides
    /// while a chance match mostly is not. `None` when either picture looks the same
    /// after the turn (see [`Turnings::looks_the_same`]).
    pub fn turned_distance(&self, turn: Turn, other: &Turnings, max_distance: u32) -> Option<u32> {
        if self.looks_the_same(turn, max_distance)
            || other.looks_the_same(turn.inverse(), max_distance)
        {
            return None;
        }
        Some(
            self.turned
                .get(turn)
                .distance(&other.hash)
                .max(other.turned.get(turn.inverse()).distance(&self.hash)),
        )
    }

    pub(crate) fn of(grid: &Grid) -> Turnings {
        Turnings {
            hash: PHash(phash::hash_bits(grid)),
            turned: Turned::of(grid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phash::{GRID, orient};

    fn picture() -> Grid {
        let mut g = [0.0; GRID * GRID];
        for (i, v) in g.iter_mut().enumerate() {
            let (r, c) = (i / GRID, i % GRID);
            *v = (r * 7 + c * c) as f64 + if r < 9 && c < 20 { 80.0 } else { 0.0 };
        }
        g
    }

    #[test]
    fn each_turn_is_named_by_its_own_id() {
        let ids: std::collections::BTreeSet<&str> = Turn::ALL.iter().map(|t| t.id()).collect();
        assert_eq!(ids.len(), 7);
        for t in Turn::ALL {
            assert_eq!(Turn::from_id(t.id()), Some(t));
        }
        assert_eq!(Turn::from_id("upright"), None);
        assert_eq!(Turn::from_id("Mirrored"), None);
    }

    #[test]
    fn each_turn_is_undone_by_its_inverse() {
        let g = picture();
        for t in Turn::ALL {
            let back = orient(&orient(&g, t.orientation()), t.inverse().orientation());
            assert_eq!(back, g, "{t:?}");
        }
    }

    #[test]
    fn a_turned_copy_is_near_from_both_sides_and_a_symmetric_picture_names_no_turn() {
        let g = picture();
        let asked = Turnings::of(&g);
        for t in Turn::ALL {
            let copy = Turnings::of(&orient(&g, t.orientation()));
            assert_eq!(asked.turned_distance(t, &copy, 10), Some(0), "{t:?}");
            assert_eq!(
                copy.turned_distance(t.inverse(), &asked, 10),
                Some(0),
                "{t:?}"
            );
            assert!(asked.turned.get(t).distance(&asked.hash) > 10, "{t:?}");
        }
        // Left and right alike: mirrored, it looks the same, so no copy is "mirrored".
        let mut sym = g;
        for r in 0..GRID {
            for c in 0..GRID / 2 {
                sym[r * GRID + (GRID - 1 - c)] = sym[r * GRID + c];
            }
        }
        let sym = Turnings::of(&sym);
        assert!(sym.looks_the_same(Turn::Mirrored, 10));
        assert_eq!(sym.turned_distance(Turn::Mirrored, &sym, 10), None);
    }
}
