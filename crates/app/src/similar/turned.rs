//! Copies mirrored or turned by quarter turns (`--turned`): pictures decoded again, and
//! the rule that names a turn (docs/design/near-duplicates.md §3).
//!
//! Turned hashes are recorded with the hash by extractions since they were added; for
//! bytes extracted before, and for a file asked about, they come from decoding the stored
//! copy (checked against its SHA-256 first) or the file. A turn links two pictures only
//! when each is near the other turned ([`Turnings::turned_distance`]: a median-threshold
//! hash of a turned grid is not the hash's bits turned, so a chance match from one side
//! is mostly not one from the other), and never through a turn a picture looks the same
//! after (a symmetric picture cannot tell a mirrored copy from one as it is).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use custody_model::{Digest, Item};
use custody_similar::{Index, PHash, Turn, Turnings};

use super::{Hashed, Hashes, PER_BYTES, unhashed_reason};
use crate::error::{AppError, Result};
use crate::vault::Vault;

/// One picture of some bytes with the hashes it would have turned, as recorded or as
/// decoded now: an image, or one keyframe of a video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Fresh {
    pub at_ms: Option<u64>,
    pub t: Turnings,
}

/// Why a file's pictures could not be read again.
#[derive(Debug)]
pub(super) enum Unread {
    /// Its type has no perceptual hash (the reason).
    NotHashed(String),
    /// It could not be read or decoded (the error).
    Failed(String),
    /// The stored copy's bytes no longer hash to its digest.
    Damaged,
}

impl Unread {
    /// The refusal for a file outside the vault, a sentence that starts with its name.
    pub(super) fn of_file(&self, shown: &str) -> String {
        match self {
            Unread::NotHashed(why) => format!("{shown} has no perceptual hash: {why}"),
            Unread::Failed(e) => format!("{shown}: {e}"),
            Unread::Damaged => format!("{shown} changed while it was being read"),
        }
    }

    /// Why a stored copy was not looked up turned, with what to do.
    pub(super) fn of_stored(&self) -> String {
        let why = match self {
            Unread::NotHashed(why) => return format!("it has no perceptual hash: {why}"),
            Unread::Failed(e) => format!("its stored copy cannot be read or decoded ({e})"),
            Unread::Damaged => "its stored copy no longer hashes to its SHA-256".to_owned(),
        };
        format!("{why}; run `custody verify --full`")
    }
}

/// The pictures in the file at `path` (`media_type` says whether an image or a video),
/// each with the hashes it would have turned. With `expect`, the bytes must hash to it
/// (a stored copy); read on the calling thread.
pub(super) fn read_pictures(
    path: &Path,
    media_type: &str,
    expect: Option<&Digest>,
) -> std::result::Result<Vec<Fresh>, Unread> {
    // The decoders catch their own panics on ingest; a change of decoder since then must
    // not end a whole `clusters` run either.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_pictures_unguarded(path, media_type, expect)
    }))
    .unwrap_or_else(|_| Err(Unread::Failed("the decoder failed on it".into())))
}

fn read_pictures_unguarded(
    path: &Path,
    media_type: &str,
    expect: Option<&Digest>,
) -> std::result::Result<Vec<Fresh>, Unread> {
    let failed = |e: &dyn std::fmt::Display| Unread::Failed(e.to_string());
    if custody_similar::is_hashable(media_type) {
        let read = custody_similar::with_file_bytes(path, |data| {
            if expect.is_some_and(|d| *d != Digest::of(data)) {
                return Ok(Err(Unread::Damaged));
            }
            custody_similar::hash_turnings_bytes(data, media_type).map(Ok)
        });
        let t = read.map_err(|e| failed(&e))??;
        Ok(vec![Fresh { at_ms: None, t }])
    } else if custody_similar::has_keyframes(media_type) {
        if let Some(d) = expect {
            let mut file = std::fs::File::open(path).map_err(|e| failed(&e))?;
            let (digest, _) =
                custody_vault::hash_reader(&mut file, &|_| {}).map_err(|e| failed(&e))?;
            if digest != *d {
                return Err(Unread::Damaged);
            }
        }
        let frames = custody_similar::hash_keyframes_path(path).map_err(|e| failed(&e))?;
        if frames.is_empty() {
            return Err(Unread::Failed(
                "no keyframe was found in it, so there is nothing to compare".into(),
            ));
        }
        Ok(frames
            .iter()
            .map(|k| Fresh {
                at_ms: Some(k.at_ms),
                t: Turnings {
                    hash: k.hash,
                    turned: k.turned,
                },
            })
            .collect())
    } else {
        Err(Unread::NotHashed(unhashed_reason(media_type)))
    }
}

/// The pictures of some bytes as their extraction recorded them, turned hashes included;
/// `None` when any lacks its turned hashes (an earlier build's extraction), or there is
/// none: then the stored copy is read again.
pub(super) fn recorded(b: &Hashes) -> Option<Vec<Fresh>> {
    let turned = b.turned.as_ref()?;
    if b.hashes.is_empty() || turned.len() != b.hashes.len() {
        return None;
    }
    Some(
        b.hashes
            .iter()
            .zip(turned)
            .map(|(h, t)| Fresh {
                at_ms: h.at_ms,
                t: Turnings {
                    hash: h.hash,
                    turned: *t,
                },
            })
            .collect(),
    )
}

/// The stored copy of the bytes `item` holds, read again.
pub(super) async fn stored(
    vault: &Vault,
    item: &Item,
) -> Result<std::result::Result<Vec<Fresh>, Unread>> {
    let path = vault
        .blobs()
        .local_path(&item.sha256, false)
        .ok_or_else(no_local_files)?;
    let (media_type, digest) = (item.media_type.clone(), item.sha256);
    tokio::task::spawn_blocking(move || read_pictures(&path, &media_type, Some(&digest)))
        .await
        .map_err(|e| AppError::Invalid(format!("a stored copy could not be read: {e}")))
}

fn no_local_files() -> AppError {
    AppError::Invalid(
        "this blob store keeps no local files; looking for turned copies needs them".into(),
    )
}

/// When the pictures read again are not the hashes recorded for the bytes (an earlier
/// build recorded them: a decoder fix may move a hash by a bit or two), what to say.
pub(super) fn drift(item: &Item, fresh: &[Fresh], recorded: &[Hashed]) -> Option<String> {
    let now: BTreeSet<(Option<u64>, PHash)> = fresh.iter().map(|f| (f.at_ms, f.t.hash)).collect();
    let then: BTreeSet<(Option<u64>, PHash)> = recorded.iter().map(|h| (h.at_ms, h.hash)).collect();
    (now != then).then(|| {
        format!(
            "{}: the perceptual hashes (or keyframe times) recorded for it were computed by an earlier build and differ from today's; turned copies are looked up with today's (`custody extract {} --force` records them)",
            item.id, item.id
        )
    })
}

/// The closest two pictures, one of `asked` turned and one of `found`, seen from both
/// sides: (distance, asked's time, found's time, turn). `None` when no turn brings them
/// within `limit`. A turn a picture looks the same after, within `max_distance`, is
/// never taken.
pub(super) fn closest_turned(
    asked: &[Fresh],
    found: &[Fresh],
    max_distance: u32,
    limit: u32,
) -> Option<(u32, Option<u64>, Option<u64>, Turn)> {
    let mut best: Option<(u32, Option<u64>, Option<u64>, Turn)> = None;
    for a in asked {
        for f in found {
            for turn in Turn::ALL {
                let Some(d) = a.t.turned_distance(turn, &f.t, max_distance) else {
                    continue;
                };
                if d <= limit && best.is_none_or(|b| d < b.0) {
                    best = Some((d, a.at_ms, f.at_ms, turn));
                }
            }
        }
    }
    best
}

/// The positions in `bytes` that some picture of `asked`, turned, is near in `index`
/// (from its side only: candidates to check from theirs).
pub(super) fn candidates(index: &Index, asked: &[Fresh], max_distance: u32) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    for a in asked {
        for (turn, hash) in a.t.turned.iter() {
            if a.t.looks_the_same(turn, max_distance) {
                continue;
            }
            out.extend(
                index
                    .query(hash, max_distance)
                    .into_iter()
                    .map(|(id, _)| id as usize),
            );
        }
    }
    out
}

/// The pictures of every image and video in scope, turned: by digest, its pictures; by
/// digest, why they could not be had; and the bytes whose stored copies were read again.
/// Recorded turned hashes are taken as they are; bytes recorded without them are read
/// again from their stored copies, on all cores.
pub(super) async fn in_scope(
    vault: &Vault,
    bytes: &[Hashes],
    in_scope: &BTreeMap<Digest, Vec<Item>>,
    progress: std::sync::Arc<dyn crate::extract::ExtractObserver>,
) -> Result<(
    BTreeMap<Digest, Vec<Fresh>>,
    BTreeMap<Digest, String>,
    BTreeSet<Digest>,
)> {
    let mut todo = Vec::new();
    let mut known = BTreeMap::new();
    for b in bytes {
        let Some(item) = in_scope.get(&b.sha256).and_then(|items| items.first()) else {
            continue;
        };
        if let Some(pictures) = recorded(b) {
            known.insert(b.sha256, pictures);
            continue;
        }
        let path = vault
            .blobs()
            .local_path(&b.sha256, false)
            .ok_or_else(no_local_files)?;
        todo.push((b.sha256, item.media_type.clone(), path));
    }
    let read_again: BTreeSet<Digest> = todo.iter().map(|(d, _, _)| *d).collect();
    if todo.is_empty() {
        return Ok((known, BTreeMap::new(), read_again));
    }
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    progress.planned(todo.len() as u64);
    tokio::task::spawn_blocking(move || {
        let queue = std::sync::Mutex::new(todo);
        let read = std::sync::Mutex::new((BTreeMap::new(), BTreeMap::new()));
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    loop {
                        let next = queue.lock().expect("not poisoned").pop();
                        let Some((digest, media_type, path)) = next else {
                            break;
                        };
                        let got = read_pictures(&path, &media_type, Some(&digest));
                        progress.done(1);
                        let mut read = read.lock().expect("not poisoned");
                        match got {
                            Ok(p) => {
                                read.0.insert(digest, p);
                            }
                            Err(why) => {
                                read.1.insert(
                                    digest,
                                    format!(
                                        "not looked up mirrored or turned: {}",
                                        why.of_stored()
                                    ),
                                );
                            }
                        }
                    }
                });
            }
        });
        read.into_inner().expect("not poisoned")
    })
    .await
    .map(|(mut fresh, notes)| {
        for b in bytes {
            if let Some(pictures) = fresh.get_mut(&b.sha256) {
                on_recorded_times(pictures, &b.hashes);
            }
        }
        fresh.append(&mut known);
        (fresh, notes, read_again)
    })
    .map_err(|e| AppError::Invalid(format!("turned copies could not be looked for: {e}")))
}

/// Puts each keyframe read again at the recorded keyframe time nearest its own, so that
/// it stands for that recorded picture: an earlier build may have timed keyframes a
/// little differently (an image has one picture, at no time, either way).
fn on_recorded_times(pictures: &mut [Fresh], recorded: &[Hashed]) {
    for p in pictures {
        if let Some(at) = p.at_ms
            && let Some(near) = recorded
                .iter()
                .filter_map(|h| h.at_ms)
                .min_by_key(|r| r.abs_diff(at))
        {
            p.at_ms = Some(near);
        }
    }
}

/// The groups of pictures (`groups`, of ids of `index_by_picture`, built into `index`)
/// joined where two pictures are near each other turned, from both sides. A picture
/// alone in the index becomes a group when so joined.
///
/// Each distinct picture (its hash and turned hashes) is looked up once, and each
/// distinct picture found is checked once: many alike (black keyframes, a lens cap) cost
/// one lookup, not one each.
pub(super) fn join(
    bytes: &[Hashes],
    index: &Index,
    groups: Vec<Vec<u64>>,
    fresh: &BTreeMap<Digest, Vec<Fresh>>,
    max_distance: u32,
) -> Vec<Vec<u64>> {
    // The picture read again for each id, and one id for each distinct picture.
    let mut picture_of: HashMap<u64, Turnings> = HashMap::new();
    let mut distinct: HashMap<(PHash, [PHash; 7]), u64> = HashMap::new();
    for (position, b) in bytes.iter().enumerate() {
        let Some(pictures) = fresh.get(&b.sha256) else {
            continue;
        };
        for f in pictures {
            let Some(k) = b.hashes.iter().position(|h| h.at_ms == f.at_ms) else {
                continue;
            };
            if k >= PER_BYTES {
                continue; // not in the index (`index_by_picture` takes as many)
            }
            let id = (position * PER_BYTES + k) as u64;
            picture_of.insert(id, f.t);
            distinct.entry((f.t.hash, f.t.turned.0)).or_insert(id);
        }
    }
    let mut sets = Sets::new(groups);
    let mut distinct: Vec<(u64, Turnings)> = distinct
        .into_values()
        .map(|id| (id, picture_of[&id]))
        .collect();
    distinct.sort_by_key(|(id, _)| *id);
    for (id, t) in distinct {
        for (turn, hash) in t.turned.iter() {
            if t.looks_the_same(turn, max_distance) {
                continue;
            }
            let mut seen: HashSet<(PHash, [PHash; 7])> = HashSet::new();
            for (other, _) in index.query(hash, max_distance) {
                if other / PER_BYTES as u64 == id / PER_BYTES as u64 {
                    continue;
                }
                let Some(o) = picture_of.get(&other) else {
                    continue; // not read again: cannot be checked from its side
                };
                // Alike pictures are alike in the index too: already one group.
                if !seen.insert((o.hash, o.turned.0)) {
                    continue;
                }
                if t.turned_distance(turn, o, max_distance)
                    .is_some_and(|d| d <= max_distance)
                {
                    sets.join(id, other);
                }
            }
        }
    }
    sets.groups()
}

/// Groups of ids being joined (union by smallest group number).
struct Sets {
    group_of: HashMap<u64, usize>,
    members: Vec<Vec<u64>>,
    parent: Vec<usize>,
}

impl Sets {
    fn new(groups: Vec<Vec<u64>>) -> Sets {
        let mut group_of = HashMap::new();
        for (g, ids) in groups.iter().enumerate() {
            for &id in ids {
                group_of.insert(id, g);
            }
        }
        let parent = (0..groups.len()).collect();
        Sets {
            group_of,
            members: groups,
            parent,
        }
    }

    fn group(&mut self, id: u64) -> usize {
        if let Some(&g) = self.group_of.get(&id) {
            return g;
        }
        self.members.push(vec![id]);
        self.parent.push(self.parent.len());
        self.group_of.insert(id, self.members.len() - 1);
        self.members.len() - 1
    }

    fn root(&mut self, mut g: usize) -> usize {
        while self.parent[g] != g {
            self.parent[g] = self.parent[self.parent[g]];
            g = self.parent[g];
        }
        g
    }

    fn join(&mut self, a: u64, b: u64) {
        let (ga, gb) = (self.group(a), self.group(b));
        let (ra, rb) = (self.root(ga), self.root(gb));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
        }
    }

    fn groups(mut self) -> Vec<Vec<u64>> {
        let mut out: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
        for g in 0..self.members.len() {
            let r = self.root(g);
            let ids = std::mem::take(&mut self.members[g]);
            out.entry(r).or_default().extend(ids);
        }
        out.into_values()
            .filter(|g| g.len() > 1)
            .map(|mut g| {
                g.sort_unstable();
                g.dedup();
                g
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_similar::Turned;

    const D: u32 = 10;

    /// `base` with its lowest `n` bits flipped.
    fn near(base: u64, n: u32) -> u64 {
        base ^ ((1u64 << n) - 1)
    }

    /// A picture whose hash is `hash` and whose mirrored hash is `mirrored`; every other
    /// turn far from everything (all ones and zeros mixed by the turn's number).
    fn picture(hash: u64, mirrored: u64) -> Turnings {
        let mut turned = [PHash(0); 7];
        for (i, t) in Turn::ALL.iter().enumerate() {
            turned[i] = if *t == Turn::Mirrored {
                PHash(mirrored)
            } else {
                PHash(0x5a5a_5a5a_5a5a_5a5a_u64.rotate_left(i as u32 * 3) ^ hash.rotate_left(17))
            };
        }
        Turnings {
            hash: PHash(hash),
            turned: Turned(turned),
        }
    }

    fn setup(pictures: &[Turnings]) -> (Vec<Hashes>, BTreeMap<Digest, Vec<Fresh>>) {
        let mut bytes = Vec::new();
        let mut fresh = BTreeMap::new();
        for (n, t) in pictures.iter().enumerate() {
            let sha256 = Digest::of(&[n as u8]);
            bytes.push(Hashes {
                sha256,
                turned: None,
                hashes: vec![Hashed {
                    at_ms: None,
                    hash: t.hash,
                }],
            });
            fresh.insert(sha256, vec![Fresh { at_ms: None, t: *t }]);
        }
        bytes.sort_by_key(|b| b.sha256);
        (bytes, fresh)
    }

    fn joined(pictures: &[Turnings]) -> Vec<Vec<usize>> {
        let (bytes, fresh) = setup(pictures);
        let index = super::super::index_by_picture(&bytes, |_| true);
        let groups = join(&bytes, &index, index.clusters(D), &fresh, D);
        // Back to the pictures' own numbers.
        let number = |id: u64| {
            let sha = bytes[id as usize / PER_BYTES].sha256;
            (0..pictures.len())
                .find(|n| Digest::of(&[*n as u8]) == sha)
                .unwrap()
        };
        let mut out: Vec<Vec<usize>> = groups
            .into_iter()
            .map(|g| {
                let mut v: Vec<usize> = g.into_iter().map(number).collect();
                v.sort();
                v
            })
            .collect();
        out.sort();
        out
    }

    const A: u64 = 0x0f0f_3c3c_a5a5_9696;
    const A_MIRRORED: u64 = 0x3333_cccc_0f0f_f0f0;

    #[test]
    fn a_copy_near_from_both_sides_is_joined_and_one_near_from_one_side_is_not() {
        let original = picture(A, A_MIRRORED);
        // Its mirrored copy: near A mirrored, and mirrored back near A.
        let copy = picture(near(A_MIRRORED, 4), near(A, 4));
        // A chance match: near A mirrored (8 bits), far from the copy (12), but
        // mirrored it is nothing like A.
        let stranger = picture(A_MIRRORED ^ (0xff << 40), 0x9999_6666_1234_4321);
        assert_eq!(joined(&[original, copy, stranger]), [vec![0, 1]]);
        // From the stranger's side alone, nothing either.
        assert_eq!(joined(&[original, stranger]), Vec::<Vec<usize>>::new());
    }

    #[test]
    fn a_picture_that_looks_the_same_mirrored_joins_nothing_by_mirroring() {
        let symmetric = picture(A, near(A, 4));
        // 11 bits from it as it is, 7 from it mirrored, and mirrored 2 from it: a
        // mirrored copy from both sides, had the picture not looked the same mirrored.
        let copy = picture(A ^ 0xf ^ (0x7f << 40), A ^ 0x3);
        assert_eq!(joined(&[symmetric, copy]), Vec::<Vec<usize>>::new());
        let lopsided = picture(A, A_MIRRORED);
        let its_copy = picture(A_MIRRORED ^ 0xf, A ^ 0x3);
        assert_eq!(
            joined(&[lopsided, its_copy]),
            [vec![0, 1]],
            "the same, not symmetric"
        );
    }

    #[test]
    fn many_alike_pictures_join_their_copy_once() {
        let mut pictures = vec![picture(A, A_MIRRORED); 50];
        pictures.push(picture(near(A_MIRRORED, 2), near(A, 2)));
        let groups = joined(&pictures);
        assert_eq!(groups, [(0..51).collect::<Vec<_>>()]);
    }

    #[test]
    fn keyframes_read_again_stand_for_the_nearest_recorded_ones() {
        let recorded = [
            Hashed {
                at_ms: Some(0),
                hash: PHash(1),
            },
            Hashed {
                at_ms: Some(2_000),
                hash: PHash(2),
            },
        ];
        let t = picture(A, A_MIRRORED);
        let mut fresh = [
            Fresh { at_ms: Some(40), t },
            Fresh {
                at_ms: Some(1_960),
                t,
            },
        ];
        on_recorded_times(&mut fresh, &recorded);
        assert_eq!(fresh.map(|f| f.at_ms), [Some(0), Some(2_000)]);
        let mut image = [Fresh { at_ms: None, t }];
        on_recorded_times(
            &mut image,
            &[Hashed {
                at_ms: None,
                hash: PHash(1),
            }],
        );
        assert_eq!(image[0].at_ms, None);
    }

    #[test]
    fn the_closest_turn_is_taken_from_both_sides() {
        let original = Fresh {
            at_ms: None,
            t: picture(A, A_MIRRORED),
        };
        let copy = Fresh {
            at_ms: Some(2_000),
            t: picture(near(A_MIRRORED, 2), near(A, 6)),
        };
        assert_eq!(
            closest_turned(&[original], &[copy], D, D),
            Some((6, None, Some(2_000), Turn::Mirrored)),
            "the larger of 2 and 6"
        );
        assert_eq!(closest_turned(&[original], &[copy], D, 4), None);
    }
}
