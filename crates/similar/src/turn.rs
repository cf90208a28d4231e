//! Mirrored and turned copies: the hash a picture would have if it were flipped or rotated.
//!
//! A recycled photograph is sometimes mirrored (or turned) before it is posted again, so
//! that a reverse image search does not find where it came from. The stored hash
//! describes the picture as displayed, and a mirrored copy is a different picture to it.
//! What can be asked instead is whether some item is near the picture *as it would be*
//! if mirrored or turned: the grid of the asked picture is transformed, which costs one
//! more DCT a transform, and the vault's stored hashes are looked up as they are. Nothing
//! about stored hashes changes.

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
    /// Mirrored across the diagonal from the top-left corner (a quarter turn
    /// anticlockwise, then mirrored).
    Transposed,
    /// Turned a quarter turn clockwise.
    QuarterClockwise,
    /// Mirrored across the diagonal from the top-right corner (a quarter turn clockwise,
    /// then mirrored).
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

    /// A stable name for scripts (`--json`).
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
            Turn::HalfTurn => "turned upside down (half a turn)",
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
    pub(crate) fn of(grid: &Grid) -> Turnings {
        Turnings {
            hash: PHash(phash::hash_bits(grid)),
            turned: Turned::of(grid),
        }
    }
}
