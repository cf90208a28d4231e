//! The length of a fragmented MP4's tracks, counted from its movie fragments (`moof`):
//! the movie and track headers count only the frames listed in `moov`, and `mehd`,
//! which would give the whole length, is optional (browsers' and OBS's recordings, and
//! ffmpeg's `frag_keyframe+empty_moov`, leave it out).

use std::collections::BTreeMap;

use crate::bmff::{BoxRef, Boxes};
use crate::source::bytes;

/// Most tracks followed (a file names a few).
const MAX_TRACKS: usize = 64;

/// Sample durations met in the fragments of each track, by track ID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fragments {
    tracks: BTreeMap<u32, Summed>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Summed {
    /// Units of the durations given in `trun` or as `tfhd` defaults.
    units: u64,
    /// Samples whose duration is `trex`'s default (known only from `moov`).
    defaulted: u64,
}

impl Fragments {
    /// Adds the track fragments of one `moof` box's body.
    pub fn add_moof(&mut self, moof: &[u8]) {
        for traf in Boxes::new(moof).filter(|b| &b.kind == b"traf") {
            self.add_traf(traf);
        }
    }

    fn add_traf(&mut self, traf: BoxRef<'_>) {
        let mut track = None;
        let mut default_duration = None;
        let mut runs: Vec<&[u8]> = Vec::new();
        for b in Boxes::new(traf.body) {
            match &b.kind {
                b"tfhd" => {
                    let Some(flags) = bytes::be_u32(b.body, 0).map(|f| f & 0xFF_FFFF) else {
                        return;
                    };
                    track = bytes::be_u32(b.body, 4);
                    // base_data_offset (8 bytes), sample_description_index (4), then
                    // default_sample_duration.
                    let mut at = 8;
                    if flags & 0x01 != 0 {
                        at += 8;
                    }
                    if flags & 0x02 != 0 {
                        at += 4;
                    }
                    if flags & 0x08 != 0 {
                        default_duration = bytes::be_u32(b.body, at);
                    }
                }
                b"trun" => runs.push(b.body),
                _ => {}
            }
        }
        let Some(track) = track else { return };
        if !self.tracks.contains_key(&track) && self.tracks.len() >= MAX_TRACKS {
            return;
        }
        let summed = self.tracks.entry(track).or_default();
        for trun in runs {
            let (Some(flags), Some(count)) = (
                bytes::be_u32(trun, 0).map(|f| f & 0xFF_FFFF),
                bytes::be_u32(trun, 4),
            ) else {
                continue;
            };
            if flags & 0x100 == 0 {
                match default_duration {
                    Some(d) => {
                        summed.units = summed.units.saturating_add(u64::from(d) * u64::from(count));
                    }
                    None => summed.defaulted = summed.defaulted.saturating_add(u64::from(count)),
                }
                continue;
            }
            // data_offset and first_sample_flags, then each sample's fields in order:
            // duration, size, flags, composition time offset.
            let mut at = 8;
            if flags & 0x01 != 0 {
                at += 4;
            }
            if flags & 0x04 != 0 {
                at += 4;
            }
            let stride = 4 * [0x100, 0x200, 0x400, 0x800]
                .iter()
                .filter(|&&f| flags & f != 0)
                .count();
            // A count larger than the box holds is cut to what it holds.
            let held = trun.len().saturating_sub(at) / stride;
            for i in 0..(count as usize).min(held) {
                if let Some(d) = bytes::be_u32(trun, at + i * stride) {
                    summed.units = summed.units.saturating_add(u64::from(d));
                }
            }
        }
    }

    /// Whether any track fragment was read.
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }

    /// Units of track `track`'s fragments, its `trex` default duration standing for the
    /// samples without one of their own; `None` when no fragment of it was read.
    pub fn units(&self, track: u32, trex_default: Option<u32>) -> Option<u64> {
        let s = self.tracks.get(&track)?;
        let defaulted = s
            .defaulted
            .saturating_mul(u64::from(trex_default.unwrap_or(0)));
        Some(s.units.saturating_add(defaulted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    fn full(flags: u32, rest: &[u32]) -> Vec<u8> {
        let mut v = flags.to_be_bytes().to_vec();
        for r in rest {
            v.extend(r.to_be_bytes());
        }
        v
    }

    #[test]
    fn durations_are_summed_from_runs_and_defaults() {
        let mut f = Fragments::default();
        // Track 1: each sample's duration in the run (data offset present).
        let traf = [
            bx(b"tfhd", &full(0x02_0000, &[1])),
            bx(b"trun", &full(0x301, &[3, 0, 512, 10, 512, 10, 500, 10])),
        ]
        .concat();
        f.add_moof(&bx(b"traf", &traf));
        // Track 2: tfhd's default (with a sample description index before it), and a
        // run without durations.
        let traf = [
            bx(b"tfhd", &full(0x0A, &[2, 1, 1024])),
            bx(b"trun", &full(0x200, &[4, 1, 1, 1, 1])),
        ]
        .concat();
        f.add_moof(&bx(b"traf", &traf));
        // Track 3: trex's default only.
        let traf = [bx(b"tfhd", &full(0, &[3])), bx(b"trun", &full(0, &[5]))].concat();
        f.add_moof(&bx(b"traf", &traf));
        assert_eq!(f.units(1, None), Some(1524));
        assert_eq!(f.units(2, None), Some(4096));
        assert_eq!(f.units(3, Some(40)), Some(200));
        assert_eq!(f.units(4, Some(40)), None);
        // A run claiming more samples than it holds counts those it holds.
        let mut g = Fragments::default();
        let traf = [
            bx(b"tfhd", &full(0, &[1])),
            bx(b"trun", &full(0x100, &[1_000_000, 7, 8])),
        ]
        .concat();
        g.add_moof(&bx(b"traf", &traf));
        assert_eq!(g.units(1, None), Some(15));
    }
}
