//! Near-duplicates across the vault: `custody similar` and `custody clusters`.
//!
//! Perceptual hashes are computed on ingest and recorded with the metadata: one for an
//! image, one per keyframe for a video (the same hash function, so a still taken from a
//! video is found beside it). Here they are loaded into an in-memory index
//! (docs/design/near-duplicates.md) to find an item's neighbours (ids are the bytes, each
//! with all its hashes: a video is near what is near any of its keyframes) or to group
//! the vault into clusters (each hash its own entry: a group is one picture, and a video
//! is a member of the group of each picture it shows).
//! Each cluster gets its earliest provable appearance: among all members' candidate
//! times, the earliest one with the strongest basis present (attested > device clock >
//! reported). A device reading that cannot be true (later than the collection, or a
//! reset clock: [`crate::clocks`]) is listed with why, and takes no part.

use std::collections::{BTreeMap, BTreeSet};

use custody_model::{Digest, Item, ItemId};
use custody_similar::{Appearance, Index, PHash, TimeBasis, TimeClaim, Turn, Turned, Turnings};
use custody_store::TurnedHashes;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{AppError, Result};
use crate::vault::Vault;

mod turned;

#[derive(Clone, Debug, Serialize)]
pub struct Neighbour {
    pub item: ItemId,
    pub sha256: Digest,
    pub name: String,
    pub case: Option<String>,
    /// The smallest distance between the asked item's hashes and this one's.
    pub distance: u32,
    /// The very same bytes (another collection of them).
    pub same_bytes: bool,
    /// When this neighbour is a video: where its keyframe at that distance is shown, in
    /// milliseconds from the start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
    /// When the asked item is a video: where its own keyframe at that distance is shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_at_ms: Option<u64>,
    /// When this neighbour is near the asked picture only once mirrored or turned, seen
    /// from both sides (`--turned`): it looks like the asked picture after this turn
    /// ([`Turn::id`]; a relation between the two pictures, not proof that anyone turned
    /// one).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "turn_id")]
    pub turn: Option<Turn>,
}

fn turn_id<S: serde::Serializer>(t: &Option<Turn>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(t.id()),
        None => s.serialize_none(),
    }
}

/// One hashed keyframe of a video, as reported.
#[derive(Clone, Debug, Serialize)]
pub struct KeyframeHash {
    /// Milliseconds from the start of the track.
    pub at_ms: u64,
    pub phash: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct SimilarReport {
    /// The item asked about; absent when a file outside the vault was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemId>,
    /// The file asked about (`custody similar --file`), as given; absent for an item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileAsked>,
    /// The perceptual hash of an image (absent for a video).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phash: Option<String>,
    /// The hashed keyframes of a video, in the order they are shown (absent for an
    /// image); each was looked up.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keyframes: Vec<KeyframeHash>,
    pub algorithm: &'static str,
    pub max_distance: u32,
    /// Whether mirrored and turned copies were looked for too (`--turned`).
    pub turned: bool,
    /// Distinct images and videos in the index.
    pub indexed: usize,
    pub neighbours: Vec<Neighbour>,
    /// What could not be checked, and why (`--turned`: a stored copy that could not be
    /// read again, a hash recorded by an earlier build).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One hash of some bytes: an image's perceptual hash, or one keyframe of a video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Hashed {
    /// Where the keyframe is shown, in milliseconds from the start; `None` for an image.
    at_ms: Option<u64>,
    hash: PHash,
}

/// A recorded hash and its recorded turned hashes, as one picture's [`Turnings`].
pub(crate) fn turnings(hash: u64, turned: TurnedHashes) -> Turnings {
    Turnings {
        hash: PHash(hash),
        turned: Turned(turned.map(PHash)),
    }
}

/// Every hash recorded for some bytes: an image's one, or a video's keyframes in the
/// order they are shown.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Hashes {
    sha256: Digest,
    hashes: Vec<Hashed>,
    /// The hashes each picture would have turned, in the order of `hashes`, when they
    /// were loaded and recorded for every one (kept apart: plain lookups load none).
    turned: Option<Vec<Turned>>,
}

/// The hashes of the current algorithm, by bytes and ordered by digest: image hashes
/// (bytes, hash, turned) and keyframe hashes (bytes, milliseconds, hash, turned), as the
/// catalog gives them.
fn by_bytes(
    images: Vec<(Digest, u64, Option<TurnedHashes>)>,
    keyframes: Vec<(Digest, u64, u64, Option<TurnedHashes>)>,
) -> Vec<Hashes> {
    type Recorded = (Vec<Hashed>, Option<Vec<Turned>>);
    let mut all: BTreeMap<Digest, Recorded> = BTreeMap::new();
    let mut add = |d: Digest, at_ms: Option<u64>, h: u64, t: Option<TurnedHashes>| {
        let (hashes, turned) = all
            .entry(d)
            .or_insert_with(|| (Vec::new(), Some(Vec::new())));
        hashes.push(Hashed {
            at_ms,
            hash: PHash(h),
        });
        // One picture without them, and the bytes have none to use.
        match (turned.as_mut(), t) {
            (Some(list), Some(t)) => list.push(Turned(t.map(PHash))),
            _ => *turned = None,
        }
    };
    for (d, h, t) in images {
        add(d, None, h, t);
    }
    for (d, at_ms, h, t) in keyframes {
        add(d, Some(at_ms), h, t);
    }
    all.into_iter()
        .map(|(sha256, (hashes, turned))| Hashes {
            sha256,
            hashes,
            turned,
        })
        .collect()
}

/// The index over the hashes of the bytes `keep` accepts; an id is a position in `bytes`.
fn index_of(bytes: &[Hashes], keep: impl Fn(&Digest) -> bool) -> Index {
    let mut index = Index::new();
    for (i, b) in bytes.iter().enumerate().filter(|(_, b)| keep(&b.sha256)) {
        for h in &b.hashes {
            index.insert(i as u64, h.hash);
        }
    }
    index
}

/// How many hashes of one set of bytes the per-picture index takes (a video has at most
/// `MAX_KEYFRAMES`).
const PER_BYTES: usize = 8;
const _: () = assert!(custody_similar::MAX_KEYFRAMES < PER_BYTES);

/// The index over every single hash of the bytes `keep` accepts, each picture its own
/// entry: an id is `position * PER_BYTES + k` for the `k`th hash of `bytes[position]`.
/// Groups of it are groups of pictures: a video showing two different pictures is in
/// two groups, and never joins them.
fn index_by_picture(bytes: &[Hashes], keep: impl Fn(&Digest) -> bool) -> Index {
    let mut index = Index::new();
    for (i, b) in bytes.iter().enumerate().filter(|(_, b)| keep(&b.sha256)) {
        for (k, h) in b.hashes.iter().enumerate().take(PER_BYTES) {
            index.insert((i * PER_BYTES + k) as u64, h.hash);
        }
    }
    index
}

/// The closest pair of hashes, one of `a` and one of `b`: (distance, a's, b's); the first
/// such pair in order on a tie. `None` when either has none.
fn closest(a: &[Hashed], b: &[Hashed]) -> Option<(u32, Hashed, Hashed)> {
    let mut best: Option<(u32, Hashed, Hashed)> = None;
    for x in a {
        for y in b {
            let d = x.hash.distance(&y.hash);
            if best.is_none_or(|(bd, _, _)| d < bd) {
                best = Some((d, *x, *y));
            }
        }
    }
    best
}

/// Bytes near some of the hashes of `query`, each once at its smallest distance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Match {
    /// Position of the bytes in the list the index was built from.
    position: usize,
    distance: u32,
    /// The matching keyframe of a video found.
    at_ms: Option<u64>,
    /// The matching keyframe of the video asked about.
    query_at_ms: Option<u64>,
    /// The asked picture's turn that matched.
    turn: Option<Turn>,
}

/// Every bytes with a hash within `max_distance` of one of `query`'s, each once with the
/// closest pair of hashes; ordered by distance, then position.
fn matches(bytes: &[Hashes], index: &Index, query: &[Hashed], max_distance: u32) -> Vec<Match> {
    let found: BTreeSet<usize> = query
        .iter()
        .flat_map(|q| index.query(q.hash, max_distance))
        .map(|(id, _)| id as usize)
        .collect();
    let mut out: Vec<Match> = found
        .into_iter()
        .filter_map(|position| {
            let (distance, mine, theirs) = closest(query, &bytes[position].hashes)?;
            Some(Match {
                position,
                distance,
                at_ms: theirs.at_ms,
                query_at_ms: mine.at_ms,
                turn: None,
            })
        })
        .collect();
    out.sort_by_key(|m| (m.distance, m.position));
    out
}

/// The recorded hashes by bytes; with `turned`, their recorded turned hashes too.
async fn load(vault: &Vault, turned: bool) -> Result<Vec<Hashes>> {
    let alg = custody_similar::ALGORITHM;
    let images = vault.catalog().phashes(alg, turned).await?;
    let keyframes = vault.catalog().keyframe_hashes(alg, turned).await?;
    Ok(by_bytes(images, keyframes))
}

/// A time in a video, as `m:ss.mmm` (`h:mm:ss.mmm` from an hour on).
pub fn clock_time(ms: u64) -> String {
    let (h, m, s, milli) = (
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1_000 % 60,
        ms % 1_000,
    );
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{milli:03}")
    } else {
        format!("{m}:{s:02}.{milli:03}")
    }
}

/// A file outside the vault looked up by `custody similar --file`.
#[derive(Clone, Debug, Serialize)]
pub struct FileAsked {
    pub path: String,
    pub sha256: Digest,
    pub media_type: String,
    /// Items holding these very bytes already (they are also among the neighbours,
    /// with `same_bytes`).
    pub in_vault: Vec<ItemId>,
}

/// What `custody similar` looks for besides the picture as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Looking {
    pub max_distance: u32,
    /// Also copies that were mirrored or turned by quarter turns: the asked picture is
    /// looked up as it would be after each of the seven turns (by its recorded turned
    /// hashes, or decoded again where none are recorded).
    pub turned: bool,
}

pub async fn similar(vault: &Vault, query: &str, looking: Looking) -> Result<SimilarReport> {
    let item = crate::items::resolve_bytes(vault, query).await?;
    let bytes = load(vault, looking.turned).await?;
    let Ok(own) = bytes.binary_search_by(|b| b.sha256.cmp(&item.sha256)) else {
        return Err(not_hashed(vault, &item).await?);
    };
    let recorded = bytes[own].hashes.clone();
    let mut notes = Vec::new();
    let fresh = if looking.turned {
        if let Some(fresh) = turned::recorded(&bytes[own]) {
            Some(fresh)
        } else {
            // Recorded by an earlier build without its turned hashes: read again.
            let fresh = turned::stored(vault, &item).await?.map_err(|why| {
                AppError::Invalid(format!(
                    "{}: not looked up turned: {}",
                    item.id,
                    why.of_stored()
                ))
            })?;
            notes.extend(turned::drift(&item, &fresh, &recorded));
            Some(fresh)
        }
    } else {
        None
    };
    let mut report = near(
        vault,
        &bytes,
        &recorded,
        fresh.as_deref(),
        item.sha256,
        looking,
    )
    .await?;
    report.neighbours.retain(|n| n.item != item.id);
    report.item = Some(item.id);
    notes.append(&mut report.notes);
    report.notes = notes;
    Ok(report)
}

/// Near-duplicates in the vault of a file outside it (one just found online, say),
/// without preserving it: the file is only read. Items holding the very same bytes are
/// reported too.
pub async fn similar_to_file(
    vault: &Vault,
    path: &std::path::Path,
    looking: Looking,
) -> Result<SimilarReport> {
    let shown = path.display().to_string();
    let path_owned = path.to_owned();
    let (sha256, media_type, pictures) =
        tokio::task::spawn_blocking(move || hash_outside_file(&path_owned))
            .await
            .map_err(|e| AppError::Invalid(format!("{shown}: could not be read: {e}")))??;
    let bytes = load(vault, looking.turned).await?;
    let upright: Vec<Hashed> = pictures
        .iter()
        .map(|p| Hashed {
            at_ms: p.at_ms,
            hash: p.t.hash,
        })
        .collect();
    let fresh = looking.turned.then_some(pictures.as_slice());
    let mut report = near(vault, &bytes, &upright, fresh, sha256, looking).await?;
    let in_vault = report
        .neighbours
        .iter()
        .filter(|n| n.same_bytes)
        .map(|n| n.item)
        .collect();
    report.file = Some(FileAsked {
        path: shown,
        sha256,
        media_type,
        in_vault,
    });
    Ok(report)
}

/// The SHA-256, media type and pictures of a file outside the vault, read on this
/// thread.
fn hash_outside_file(path: &std::path::Path) -> Result<(Digest, String, Vec<turned::Fresh>)> {
    use std::io::Read;
    let shown = path.display();
    let unreadable =
        |e: std::io::Error| AppError::Invalid(format!("{shown}: could not be read: {e}"));
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(AppError::Invalid(format!(
            "{shown} is not a regular file; give an image or a video"
        )));
    }
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let mut sha = custody_model::Sha256::new();
    let mut header = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(unreadable)?;
        if n == 0 {
            break;
        }
        if header.len() < 4096 {
            let take = n.min(4096 - header.len());
            header.extend_from_slice(&buf[..take]);
        }
        sha.update(&buf[..n]);
    }
    let media_type = crate::media::sniff(&header, meta.len());
    let hashes = turned::read_pictures(path, &media_type, None)
        .map_err(|why| AppError::Invalid(why.of_file(&shown.to_string())))?;
    // The digest and the hashes come from two reads: a file changed meanwhile would
    // pair one version's digest with another's picture.
    let after = std::fs::metadata(path).map_err(unreadable)?;
    if let Some(why) = crate::ingest::changed_while_read(&meta, &after)
        .or((after.len() != meta.len()).then_some("changed size"))
    {
        return Err(AppError::Invalid(format!(
            "{shown} {why} while it was being read; look it up again once nothing touches it"
        )));
    }
    Ok((sha.finish(), media_type, hashes))
}

/// The items near `query` (the hashes of the bytes `sha256`), every item holding those
/// bytes included as `same_bytes`. With `fresh` (the asked pictures with their turned
/// hashes, recorded or read again), also the items near them turned and not as they are,
/// each checked from its own side.
async fn near(
    vault: &Vault,
    bytes: &[Hashes],
    query: &[Hashed],
    fresh: Option<&[turned::Fresh]>,
    sha256: Digest,
    looking: Looking,
) -> Result<SimilarReport> {
    let max_distance = looking.max_distance;
    let index = index_of(bytes, |_| true);
    let holders = |digest: Digest| {
        let filter = custody_store::ItemFilter {
            sha256: Some(digest),
            ..Default::default()
        };
        async move { vault.catalog().items(&filter).await }
    };
    let neighbour = |other: Item, m: Option<&Match>| Neighbour {
        same_bytes: m.is_none(),
        item: other.id,
        sha256: other.sha256,
        name: other.original_name,
        case: other.case,
        distance: m.map_or(0, |m| m.distance),
        // Frames matter between different bytes only.
        at_ms: m.and_then(|m| m.at_ms),
        query_at_ms: m.and_then(|m| m.query_at_ms),
        turn: m.and_then(|m| m.turn),
    };
    // The very same bytes, whether or not their hashes were recorded (an item ingested
    // with --no-extract has none).
    let mut neighbours: Vec<Neighbour> = holders(sha256)
        .await?
        .into_iter()
        .map(|other| neighbour(other, None))
        .collect();
    let mut found = matches(bytes, &index, query, max_distance);
    let mut notes = Vec::new();
    if let Some(fresh) = fresh {
        // Near as it is wins: a turn is named only for what is near turned alone.
        let upright: BTreeSet<usize> = found.iter().map(|m| m.position).collect();
        for position in turned::candidates(&index, fresh, max_distance) {
            let digest = bytes[position].sha256;
            if digest == sha256 || upright.contains(&position) {
                continue;
            }
            let Some(holder) = holders(digest).await?.into_iter().next() else {
                continue;
            };
            let theirs = match turned::recorded(&bytes[position]) {
                Some(recorded) => Ok(recorded),
                None => turned::stored(vault, &holder).await?,
            };
            let theirs = match theirs {
                Ok(p) => p,
                Err(why) => {
                    notes.push(format!(
                        "{} could not be checked as a turned copy: {}",
                        holder.id,
                        why.of_stored()
                    ));
                    continue;
                }
            };
            if let Some((distance, query_at_ms, at_ms, turn)) =
                turned::closest_turned(fresh, &theirs, max_distance, max_distance)
            {
                found.push(Match {
                    position,
                    distance,
                    at_ms,
                    query_at_ms,
                    turn: Some(turn),
                });
            }
        }
    }
    for m in found {
        let digest = bytes[m.position].sha256;
        if digest == sha256 {
            continue;
        }
        for other in holders(digest).await? {
            neighbours.push(neighbour(other, Some(&m)));
        }
    }
    neighbours.sort_by_key(|n| (n.distance, n.item));
    Ok(SimilarReport {
        item: None,
        file: None,
        phash: query
            .iter()
            .find(|h| h.at_ms.is_none())
            .map(|h| h.hash.to_string()),
        keyframes: query
            .iter()
            .filter_map(|h| {
                Some(KeyframeHash {
                    at_ms: h.at_ms?,
                    phash: h.hash.to_string(),
                })
            })
            .collect(),
        algorithm: custody_similar::ALGORITHM,
        max_distance,
        turned: looking.turned,
        indexed: bytes.len(),
        neighbours,
        notes,
    })
}

/// The refusal of `custody similar` for an item with no hash in the catalog, saying why
/// and what to do.
async fn not_hashed(vault: &Vault, item: &Item) -> Result<AppError> {
    let extracted = vault
        .catalog()
        .metadata(&item.sha256, custody_extract::EXTRACTOR)
        .await?
        .is_some();
    let image = custody_similar::is_hashable(&item.media_type);
    let video = custody_similar::has_keyframes(&item.media_type);
    let what = if video {
        "keyframe hashes"
    } else {
        "perceptual hash"
    };
    if !extracted && (image || video) {
        return Ok(AppError::Invalid(format!(
            "{} has not been examined yet (it was ingested with --no-extract); run `custody extract --all` to extract its metadata and {what}",
            item.id
        )));
    }
    let why = if image || video {
        let view = crate::items::show(vault, &item.id.to_string()).await?;
        if video {
            keyframes_missing(view.recorded_keyframes(), &item.id.to_string())
        } else {
            view.recorded_phash()
                .and_then(|p| p["error"].as_str())
                .map(|e| e.strip_prefix("could not hash: ").unwrap_or(e).to_owned())
                .unwrap_or_else(|| "no hash was recorded".into())
        }
    } else {
        unhashed_reason(&item.media_type)
    };
    Ok(AppError::Invalid(format!(
        "{} ({}) has no {what}: {why}",
        item.id, item.original_name
    )))
}

/// Why a video examined for keyframes has none to compare, from what its latest
/// extraction recorded (`details["keyframes"]`), with what to do where something can be
/// done. `item` names it in the advice.
pub fn keyframes_missing(recorded: Option<&serde_json::Value>, item: &str) -> String {
    let Some(k) = recorded else {
        return "it was examined before keyframes were hashed; run `custody extract --all`".into();
    };
    if let Some(e) = k["error"].as_str() {
        return e.strip_prefix("could not hash: ").unwrap_or(e).to_owned();
    }
    let algorithm = k["algorithm"].as_str().unwrap_or("?");
    match k["frames"].as_array() {
        Some(frames) if frames.is_empty() => "no keyframe was found in it".into(),
        _ if algorithm != custody_similar::ALGORITHM => format!(
            "its keyframes were hashed with {algorithm}, which is not compared with {}; run `custody extract {item} --force`",
            custody_similar::ALGORITHM
        ),
        _ => "its recorded keyframes are missing from the catalog; run `custody verify`".into(),
    }
}

/// The time of an item's validated content credentials, with its basis and source.
/// It is attested only when the claim's RFC 3161 time-stamp verifies against the
/// vault's TSA roots ([`crate::credentials`]). Otherwise it is the signer's own say: the
/// C2PA validator, which this vault gives no roots, reports `timeStamp.trusted` for any
/// well-formed token of a version-1 claim whoever signed it, so anyone with a self-made
/// certificate could set it.
fn c2pa_time(
    c2pa: &serde_json::Value,
    roots: &custody_timestamp::TrustAnchors,
    now: std::time::SystemTime,
) -> Option<(OffsetDateTime, TimeBasis, String)> {
    if !crate::credentials::intact(c2pa) {
        return None;
    }
    if let Some(check) = crate::credentials::check(c2pa, roots, now)
        && check.dates_these_bytes
        && let Ok(at) = OffsetDateTime::parse(&check.gen_time, &Rfc3339)
    {
        return Some((
            at,
            TimeBasis::Attested,
            format!(
                "C2PA claim's RFC 3161 time-stamp from {}, verified against this vault's TSA roots",
                check.tsa
            ),
        ));
    }
    let at = OffsetDateTime::parse(c2pa["signing_time"].as_str()?, &Rfc3339).ok()?;
    Some((
        at,
        TimeBasis::DeviceClock,
        "signed C2PA claim's time (no time-stamp proves these bytes then; `custody show` says why)"
            .into(),
    ))
}

/// One candidate time of a cluster member, with where it comes from.
#[derive(Clone, Debug, Serialize)]
pub struct CandidateTime {
    pub at: String,
    pub basis: &'static str,
    pub source: String,
    /// Why this reading cannot be the capture time (a clock later than the collection,
    /// or a reset one): it is shown but never chosen as the earliest appearance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_used: Option<String>,
}

/// A candidate time with where it comes from and, if it cannot be true, why.
struct Candidate {
    claim: TimeClaim<OffsetDateTime>,
    source: String,
    not_used: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Member {
    pub item: ItemId,
    pub sha256: Digest,
    pub name: String,
    pub case: Option<String>,
    pub times: Vec<CandidateTime>,
    /// What could not be used to date this member, and why (a received item whose
    /// sender's records kept on import are missing or altered).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Hamming distance of this member's perceptual hash to that of the member with the
    /// earliest provable appearance (the first member when no time is known), the
    /// smallest over their hashes when either is a video (one per keyframe); 0 in a
    /// group of the same bytes. Groups are chained (single linkage), so a member may be
    /// further from it than the limit.
    pub distance: u32,
    /// When this member is a video: where its keyframe showing the group's picture (the
    /// one closest to that member's) is shown, in milliseconds from the start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
    /// When this member is beyond the distance of the reference member's picture as it
    /// is and within it turned, seen from both sides (`--turned`): it looks like that
    /// picture after this turn ([`Turn::id`]).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "turn_id")]
    pub turn: Option<Turn>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Cluster {
    pub members: Vec<Member>,
    /// The earliest time with the strongest basis any member has.
    pub earliest: Option<CandidateTimeOf>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CandidateTimeOf {
    pub item: ItemId,
    #[serde(flatten)]
    pub time: CandidateTime,
}

fn basis_name(b: TimeBasis) -> &'static str {
    match b {
        TimeBasis::Attested => "attested",
        TimeBasis::DeviceClock => "device clock",
        TimeBasis::Reported => "reported",
    }
}

/// What dates an item besides its metadata: this vault's RFC 3161 tokens, and for
/// received items their `item.received` entries and the sender's tokens that verified
/// on import, by package. Read once for all members.
struct Proofs {
    tokens: Vec<crate::timestamps::RecordedToken>,
    /// Each with whether it still dates what it covers (checked once, here).
    received: JudgedReceived,
    receipts: BTreeMap<ItemId, custody_ledger::Entry>,
    /// The vault's TSA roots (for content credentials' time-stamps and the sender's
    /// tokens), and those withdrawn.
    tsa: crate::timestamps::TsaTrust,
}

impl Proofs {
    async fn of(vault: &Vault) -> Result<Self> {
        let receipts = vault
            .entries_of(custody_model::Action::ItemReceived)
            .await?
            .into_iter()
            .filter_map(|e| Some((e.item?, e)))
            .collect();
        let tsa = crate::timestamps::TsaTrust::load(vault).await?;
        Ok(Self {
            tokens: crate::timestamps::usable(
                vault,
                crate::timestamps::recorded(vault).await?,
                &tsa,
                std::time::SystemTime::now(),
            )?,
            received: crate::import::received_tokens(vault)
                .await?
                .into_iter()
                .map(|(package, tokens)| {
                    let judged = tokens
                        .into_iter()
                        .map(|t| {
                            let standing =
                                crate::import::received_token_standing(vault, &package, &t, &tsa);
                            (t, standing)
                        })
                        .collect();
                    (package, judged)
                })
                .collect(),
            receipts,
            tsa,
        })
    }
}

/// A sender's tokens by package, each with whether it still dates what it covers.
type JudgedReceived = BTreeMap<
    String,
    Vec<(
        crate::import::UpstreamToken,
        std::result::Result<(), String>,
    )>,
>;

/// Candidate times of one item, each with its basis and source, and notes on what could
/// not be used.
async fn candidate_times(
    vault: &Vault,
    item: &Item,
    proofs: &Proofs,
) -> Result<(Vec<Candidate>, Vec<String>)> {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut push = |at, basis, source: String, not_used| {
        out.push(Candidate {
            claim: TimeClaim { at, basis },
            source,
            not_used,
        })
    };
    let collected = item.ingested_at.datetime();
    if let Some(t) = crate::timestamps::earliest_proof_of(&proofs.tokens, item.ledger_seq)
        && let Ok(at) = OffsetDateTime::parse(&t.gen_time, &Rfc3339)
    {
        push(
            at,
            TimeBasis::Attested,
            format!("RFC 3161 token from {}", t.tsa),
            None,
        );
    }
    if let Some(row) = vault
        .catalog()
        .metadata(&item.sha256, custody_extract::EXTRACTOR)
        .await?
        && let Ok(record) = serde_json::from_str::<serde_json::Value>(&row.record)
    {
        if let Some((at, basis, source)) = c2pa_time(
            &record["c2pa"],
            &proofs.tsa.roots,
            std::time::SystemTime::now(),
        ) {
            let reading = crate::clocks::Reading {
                earliest: at,
                latest: at,
                offset: crate::clocks::Offset::Known,
            };
            // A verified token is no clock reading: nothing to set aside.
            let not_used = (basis != TimeBasis::Attested)
                .then(|| crate::clocks::implausible_as(&reading, collected, "the claim's time"))
                .flatten();
            push(at, basis, source, not_used);
        }
        for c in record["times"].as_array().into_iter().flatten() {
            let source = c["source"].as_str().unwrap_or("?").to_owned();
            let Some(r) = crate::clocks::reading(c) else {
                continue;
            };
            // A time whose offset is unknown stands for a span of instants: the capture
            // was no later than its latest, nor than the collection. A reading set aside
            // is given as read (the latest it can stand for), not cut to the collection:
            // the reason names the collection beside it.
            let note = r.span_note();
            let not_used = crate::clocks::not_capture_time(&record, c, &r, collected);
            let at = if not_used.is_some() {
                r.latest
            } else {
                r.latest.min(collected)
            };
            push(
                at,
                TimeBasis::DeviceClock,
                format!("{source}{note}"),
                not_used,
            );
        }
    }
    // A received item was in the sender's vault before it was in this one: their
    // timestamps over their entry for it, and that entry, date it too.
    if let Some(sender) = proofs
        .receipts
        .get(&item.id)
        .and_then(|entry| crate::import::sender_collection(vault, entry))
    {
        // The tokens were verified on import and recorded in this vault's own ledger;
        // each still has to verify to a root the vault trusts now.
        let stamped = proofs
            .received
            .get(&sender.package_id)
            .into_iter()
            .flatten()
            .filter(|(t, _)| t.checkpoint_size > sender.entry)
            .filter_map(|(t, standing)| match standing {
                Ok(()) => Some(t),
                Err(why) => {
                    notes.push(format!(
                        "not dated by the token from {} over {}'s ledger: {why}",
                        t.tsa, sender.origin
                    ));
                    None
                }
            })
            .filter_map(|t| Some((OffsetDateTime::parse(&t.gen_time, &Rfc3339).ok()?, t)))
            .min_by_key(|(at, _)| *at);
        if let Some((at, t)) = stamped {
            push(
                at,
                TimeBasis::Attested,
                format!(
                    "RFC 3161 token from {} over {}'s ledger, verified on import",
                    t.tsa, sender.origin
                ),
                None,
            );
        }
        match sender.record {
            Ok((at, action)) => {
                // The sender's clock, as this vault's: no later than this vault's own
                // collection, and not a reset one.
                let r = crate::clocks::Reading {
                    earliest: at,
                    latest: at,
                    offset: crate::clocks::Offset::Known,
                };
                push(
                    at,
                    TimeBasis::Reported,
                    format!(
                        "{action} in {}'s vault (their signed ledger entry {}, their clock)",
                        sender.origin, sender.entry
                    ),
                    crate::clocks::implausible_as(
                        &r,
                        collected,
                        "when the sender's vault held the item",
                    ),
                );
            }
            Err(why) => notes.push(format!(
                "not dated by {}'s ledger entry {}: {why}",
                sender.origin, sender.entry
            )),
        }
    }
    push(
        collected,
        TimeBasis::Reported,
        "collected into this vault (the vault's own clock)".into(),
        None,
    );
    Ok((out, notes))
}

/// The groups of near-duplicates among the items in scope, and how many of those items
/// could take no part because their bytes were never examined.
#[derive(Clone, Debug, Serialize)]
pub struct Clusters {
    pub clusters: Vec<Cluster>,
    /// Items in scope (the case's, or all).
    pub items: usize,
    /// Of those, items whose bytes have no metadata of the current extractor yet (ingested
    /// with `--no-extract`): they have no perceptual hash and no device times, so they
    /// join a group only as the same bytes, dated by their collection.
    pub unexamined: usize,
    /// Whether mirrored and turned copies were grouped too (`--turned`).
    pub turned: bool,
    /// Of the items with a perceptual hash, those whose stored copy could not be read
    /// again to be turned (each has a note where it is grouped).
    pub not_turned: usize,
    /// Of the items with a perceptual hash, those without turned hashes in the catalog
    /// (extracted before they were recorded), whose stored copies were read again to
    /// turn them (`custody extract --all` records them); those that could not be read
    /// are in `not_turned` too.
    pub read_again: usize,
}

/// The near-duplicate groups of the vault (of one case), each with its earliest provable
/// appearance. `progress` counts the stored copies read again for `--turned` (those of
/// bytes without recorded turned hashes).
pub async fn clusters(
    vault: &Vault,
    case: Option<&str>,
    looking: Looking,
    progress: std::sync::Arc<dyn crate::extract::ExtractObserver>,
) -> Result<Clusters> {
    let max_distance = looking.max_distance;
    let bytes = load(vault, looking.turned).await?;
    // Items by digest, limited to the case when one is given.
    let filter = custody_store::ItemFilter {
        case: case.map(str::to_owned),
        ..Default::default()
    };
    let mut items_by_digest: BTreeMap<Digest, Vec<Item>> = BTreeMap::new();
    for item in vault.catalog().items(&filter).await? {
        items_by_digest.entry(item.sha256).or_default().push(item);
    }
    if let Some(case) = case
        && items_by_digest.is_empty()
    {
        crate::items::no_items_in(vault, case).await?;
    }
    let mut unexamined = 0;
    for (d, items) in &items_by_digest {
        if vault
            .catalog()
            .metadata(d, custody_extract::EXTRACTOR)
            .await?
            .is_none()
        {
            unexamined += items.len();
        }
    }
    // One entry per picture (an image, or one keyframe of a video): a group is one
    // picture, and a video is a member of the group of each picture it shows, once.
    let mut index = index_by_picture(&bytes, |d| items_by_digest.contains_key(d));
    index.compact();
    let (fresh, mut turn_notes, read_again) = if looking.turned {
        turned::in_scope(vault, &bytes, &items_by_digest, progress).await?
    } else {
        Default::default()
    };
    let read_again = read_again
        .iter()
        .filter_map(|d| items_by_digest.get(d))
        .map(Vec::len)
        .sum();
    // A hash recorded by an earlier build, and what a copy could not be turned for, is
    // said of every item holding the bytes.
    for b in &bytes {
        if let (Some(f), Some(item)) = (
            fresh.get(&b.sha256),
            items_by_digest.get(&b.sha256).and_then(|i| i.first()),
        ) && let Some(note) = turned::drift(item, f, &b.hashes)
        {
            turn_notes.insert(b.sha256, note);
        }
    }
    let hashed = |d: &Digest| bytes.binary_search_by(|b| b.sha256.cmp(d)).is_ok();
    let not_turned = items_by_digest
        .iter()
        .filter(|(d, _)| looking.turned && hashed(d) && !fresh.contains_key(*d))
        .map(|(_, items)| items.len())
        .sum();
    let proofs = Proofs::of(vault).await?;
    // Each group: its items, and per bytes the hashes that are in the group.
    type Group<'i> = (Vec<&'i Item>, BTreeMap<Digest, Vec<Hashed>>);
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut grouped: BTreeSet<Digest> = BTreeSet::new();
    let mut by_files: BTreeMap<Vec<Digest>, usize> = BTreeMap::new();
    let pictures = if looking.turned {
        turned::join(
            &bytes,
            &index,
            index.clusters(max_distance),
            &fresh,
            max_distance,
        )
    } else {
        index.clusters(max_distance)
    };
    for group in pictures {
        let mut in_group: BTreeMap<Digest, Vec<Hashed>> = BTreeMap::new();
        for id in group {
            let (position, k) = (id as usize / PER_BYTES, id as usize % PER_BYTES);
            let b = &bytes[position];
            in_group.entry(b.sha256).or_default().push(b.hashes[k]);
        }
        grouped.extend(in_group.keys().copied());
        // Pictures shown by exactly the same files (a video and its copy, scene after
        // scene) are one group: the same members, the same earliest appearance.
        let files: Vec<Digest> = in_group.keys().copied().collect();
        if let Some(&at) = by_files.get(&files) {
            let (_, same): &mut Group<'_> = &mut groups[at];
            for (d, hashes) in in_group {
                same.entry(d).or_default().extend(hashes);
            }
            continue;
        }
        let items = in_group
            .keys()
            .flat_map(|d| items_by_digest.get(d).into_iter().flatten())
            .collect();
        by_files.insert(files, groups.len());
        groups.push((items, in_group));
    }
    // The same bytes collected more than once and near nothing else are a group too,
    // whatever the file (a video, a PDF, an image without a hash): the same file from
    // several sources, whose earliest appearance matters as much. Their distance is 0.
    for (d, items) in &items_by_digest {
        if items.len() > 1 && grouped.insert(*d) {
            groups.push((items.iter().collect(), BTreeMap::new()));
        }
    }
    let mut out = Vec::new();
    for (items, hashes_of) in groups {
        if items.len() < 2 {
            continue;
        }
        let mut members = Vec::new();
        let mut claims: Vec<(u64, Vec<TimeClaim<OffsetDateTime>>, Vec<String>)> = Vec::new();
        for item in items {
            let (times, notes) = candidate_times(vault, item, &proofs).await?;
            members.push(Member {
                item: item.id,
                sha256: item.sha256,
                name: item.original_name.clone(),
                case: item.case.clone(),
                times: times
                    .iter()
                    .map(|c| CandidateTime {
                        at: c.claim.at.format(&Rfc3339).unwrap_or_default(),
                        basis: basis_name(c.claim.basis),
                        source: c.source.clone(),
                        not_used: c.not_used.clone(),
                    })
                    .collect(),
                notes: notes
                    .into_iter()
                    .chain(turn_notes.get(&item.sha256).cloned())
                    .collect(),
                distance: 0,
                at_ms: None,
                turn: None,
            });
            // Readings that cannot be true take no part in the choice.
            let usable: Vec<&Candidate> = times.iter().filter(|c| c.not_used.is_none()).collect();
            claims.push((
                item.id.number(),
                usable.iter().map(|c| c.claim).collect(),
                usable.iter().map(|c| c.source.clone()).collect(),
            ));
        }
        let appearance: Option<Appearance<OffsetDateTime>> =
            custody_similar::earliest_provable_appearance(
                claims.iter().map(|(id, c, _)| (*id, c.as_slice())),
            );
        let earliest = appearance.map(|a| {
            let (_, c, sources) = claims
                .iter()
                .find(|(id, _, _)| *id == a.member)
                .expect("a member");
            let source = c
                .iter()
                .zip(sources)
                .find(|(t, _)| t.at == a.at && t.basis == a.basis)
                .map(|(_, s)| s.clone())
                .unwrap_or_default();
            CandidateTimeOf {
                item: ItemId::new(a.member),
                time: CandidateTime {
                    at: a.at.format(&Rfc3339).unwrap_or_default(),
                    basis: basis_name(a.basis),
                    source,
                    not_used: None,
                },
            }
        });
        members.sort_by_key(|m| m.item);
        let reference = earliest
            .as_ref()
            .and_then(|e| members.iter().find(|m| m.item == e.item))
            .or(members.first())
            .map(|m| m.sha256);
        if let Some(r) = reference {
            let of = |d: &Digest| hashes_of.get(d).map(Vec::as_slice).unwrap_or_default();
            // The pictures of some bytes that are in this group, with their turned hashes.
            let fresh_of = |d: &Digest| -> Vec<turned::Fresh> {
                fresh
                    .get(d)
                    .into_iter()
                    .flatten()
                    .filter(|f| of(d).iter().any(|h| h.at_ms == f.at_ms))
                    .copied()
                    .collect()
            };
            for m in &mut members {
                if let Some((distance, _, theirs)) = closest(of(&r), of(&m.sha256)) {
                    m.distance = distance;
                    m.at_ms = theirs.at_ms;
                }
                // Beyond the limit as it is and within it turned, from both sides: the
                // member looks like the reference turned. (A member further than the
                // limit both ways is in the group through others: no turn is named.)
                if looking.turned
                    && m.sha256 != r
                    && m.distance > max_distance
                    && let Some((distance, _, at_ms, turn)) = turned::closest_turned(
                        &fresh_of(&r),
                        &fresh_of(&m.sha256),
                        max_distance,
                        max_distance,
                    )
                    && distance < m.distance
                {
                    m.distance = distance;
                    m.at_ms = at_ms;
                    m.turn = Some(turn);
                }
            }
        }
        out.push(Cluster { members, earliest });
    }
    out.sort_by_key(|c| c.members.first().map(|m| m.item));
    Ok(Clusters {
        clusters: out,
        items: items_by_digest.values().map(Vec::len).sum(),
        unexamined,
        turned: looking.turned,
        not_turned,
        read_again,
    })
}

/// Why an item of this media type has no perceptual hash (for types that are never
/// hashed; a hashable image or video that failed has its own reason in its extraction
/// entry).
pub fn unhashed_reason(media_type: &str) -> String {
    let lower = media_type.to_ascii_lowercase();
    if lower.contains("sequence") && (lower.contains("heic") || lower.contains("heif")) {
        "HEIF image sequences (bursts, animations) are not hashed: only HEIC/HEIF still images are"
            .into()
    } else if lower.starts_with("video/") {
        format!(
            "only the keyframes of MP4, MOV, M4V, 3GP, WebM, Matroska, MPEG-TS, MPEG program stream, FLV and AVI videos are hashed, and this is {media_type} (its metadata is extracted without them)"
        )
    } else if lower.starts_with("audio/") {
        format!("{media_type} is sound, with no picture to hash")
    } else if lower.contains("avif") {
        "AVIF images are hashed only where an AV1 decoder is installed, as the custody program installs one (their metadata is extracted without it)".into()
    } else {
        let images = if custody_similar::decodes_av1() {
            "JPEG, PNG, TIFF, WebP, HEIC/HEIF and AVIF"
        } else {
            "JPEG, PNG, TIFF, WebP and HEIC/HEIF"
        };
        format!(
            "only {images} images and the keyframes of MP4, MOV, M4V, 3GP, WebM, Matroska, MPEG-TS, MPEG program stream, FLV and AVI videos are hashed, and this is {media_type}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claims_time_without_a_verified_time_stamp_is_the_signers_clock() {
        let claim = |state: &str| {
            serde_json::json!({"state": state, "signing_time": "2024-08-06T21:53:37+00:00",
                               "statuses": [{"code": "timeStamp.trusted", "kind": "success"}]})
        };
        let roots = custody_timestamp::TrustAnchors::new();
        let now = std::time::SystemTime::now();
        for state in ["valid", "trusted"] {
            let (at, basis, source) = c2pa_time(&claim(state), &roots, now).unwrap();
            assert_eq!(at.year(), 2024, "{state}");
            assert_eq!(basis, TimeBasis::DeviceClock);
            assert!(
                source.contains("no time-stamp proves these bytes"),
                "{source}"
            );
        }
        assert!(c2pa_time(&claim("invalid"), &roots, now).is_none());
        assert!(c2pa_time(&claim("no_manifest"), &roots, now).is_none());
    }

    fn digest(n: u8) -> Digest {
        Digest::of(&[n])
    }

    /// A hash `bits` bits away from `base` (its lowest bits flipped).
    fn near(base: u64, bits: u32) -> u64 {
        base ^ ((1u128 << bits) - 1) as u64
    }

    const STILL: u64 = 0x0f0f_3c3c_a5a5_9696;
    const OTHER: u64 = 0x1234_5678_9abc_def0;

    /// An image (1), a video (2) whose second keyframe is a copy of the image and whose
    /// other frames are far from it, and an unrelated image (3).
    fn vault_hashes() -> Vec<Hashes> {
        by_bytes(
            vec![(digest(1), STILL, None), (digest(3), OTHER, None)],
            vec![
                (digest(2), 0, !STILL, None),
                (digest(2), 1_500, near(STILL, 3), None),
                (digest(2), 3_000, near(STILL, 6), None),
            ],
        )
    }

    fn position(bytes: &[Hashes], d: Digest) -> usize {
        bytes.iter().position(|b| b.sha256 == d).unwrap()
    }

    #[test]
    fn images_and_keyframes_are_held_by_bytes() {
        let bytes = vault_hashes();
        assert_eq!(bytes.len(), 3);
        let video = &bytes[position(&bytes, digest(2))];
        assert_eq!(
            video.hashes.iter().map(|h| h.at_ms).collect::<Vec<_>>(),
            [Some(0), Some(1_500), Some(3_000)]
        );
        let image = &bytes[position(&bytes, digest(1))];
        assert_eq!(
            image.hashes,
            [Hashed {
                at_ms: None,
                hash: PHash(STILL),
            }]
        );
        assert_eq!(image.turned, None, "none loaded");
    }

    /// Turned hashes are kept for bytes whose every picture has them, in the pictures'
    /// order; bytes with one picture without them have none to use.
    #[test]
    fn turned_hashes_are_kept_by_bytes_only_when_every_picture_has_them() {
        let t = |n: u64| [n; 7];
        let bytes = by_bytes(
            vec![(digest(1), STILL, Some(t(1))), (digest(3), OTHER, None)],
            vec![
                (digest(2), 0, 5, Some(t(2))),
                (digest(2), 40, 6, Some(t(3))),
                (digest(4), 0, 7, Some(t(4))),
                (digest(4), 40, 8, None),
            ],
        );
        let of = |n: u8| &bytes[position(&bytes, digest(n))];
        assert_eq!(of(1).turned, Some(vec![Turned([PHash(1); 7])]));
        assert_eq!(of(3).turned, None);
        assert_eq!(of(4).turned, None);
        let video = turned::recorded(of(2)).unwrap();
        assert_eq!(
            video
                .iter()
                .map(|f| (f.at_ms, f.t.hash, f.t.turned))
                .collect::<Vec<_>>(),
            [
                (Some(0), PHash(5), Turned([PHash(2); 7])),
                (Some(40), PHash(6), Turned([PHash(3); 7]))
            ]
        );
        assert!(turned::recorded(of(4)).is_none());
    }

    #[test]
    fn an_image_finds_the_video_frame_that_shows_it() {
        let bytes = vault_hashes();
        let index = index_of(&bytes, |_| true);
        let image = &bytes[position(&bytes, digest(1))].hashes;
        let found = matches(&bytes, &index, image, 10);
        assert_eq!(
            found,
            [
                Match {
                    position: position(&bytes, digest(1)),
                    distance: 0,
                    at_ms: None,
                    query_at_ms: None,
                    turn: None
                },
                Match {
                    position: position(&bytes, digest(2)),
                    distance: 3,
                    at_ms: Some(1_500),
                    query_at_ms: None,
                    turn: None
                },
            ],
            "the video once, at its closest frame; the stranger not at all"
        );
    }

    #[test]
    fn a_video_finds_what_any_of_its_frames_shows_once() {
        let bytes = vault_hashes();
        let index = index_of(&bytes, |_| true);
        let video = &bytes[position(&bytes, digest(2))].hashes;
        let found = matches(&bytes, &index, video, 10);
        let image = found
            .iter()
            .filter(|m| m.position == position(&bytes, digest(1)))
            .collect::<Vec<_>>();
        assert_eq!(
            image,
            [&Match {
                position: position(&bytes, digest(1)),
                distance: 3,
                at_ms: None,
                query_at_ms: Some(1_500),
                turn: None
            }],
            "two frames are within 10 of the image: it is reported once, at the closer"
        );
        assert_eq!(found.len(), 2, "itself and the image: {found:?}");
        assert_eq!(found[0].distance, 0);
    }

    #[test]
    fn a_video_joins_a_cluster_once_through_any_frame() {
        let bytes = vault_hashes();
        let index = index_of(&bytes, |_| true);
        let groups = index.clusters(10);
        let ids = |ds: &[u8]| {
            let mut v: Vec<u64> = ds
                .iter()
                .map(|d| position(&bytes, digest(*d)) as u64)
                .collect();
            v.sort();
            v
        };
        assert_eq!(groups, [ids(&[1, 2])]);
        // Kept out of the index, the image takes the video's group with it.
        let without_image = index_of(&bytes, |d| *d != digest(1));
        assert!(without_image.clusters(10).is_empty());
    }

    #[test]
    fn the_closest_pair_decides_the_distance() {
        let h = |at_ms, hash| Hashed {
            at_ms,
            hash: PHash(hash),
        };
        let video = [
            h(Some(0), near(STILL, 9)),
            h(Some(40), near(STILL, 2)),
            h(Some(80), near(STILL, 2)),
        ];
        let image = [h(None, STILL)];
        assert_eq!(closest(&image, &video), Some((2, image[0], video[1])));
        assert_eq!(closest(&video, &image), Some((2, video[1], image[0])));
        assert_eq!(closest(&video, &[]), None);
    }

    #[test]
    fn video_times_read_as_clock_times() {
        assert_eq!(clock_time(0), "0:00.000");
        assert_eq!(clock_time(1_500), "0:01.500");
        assert_eq!(clock_time(61_005), "1:01.005");
        assert_eq!(clock_time(3_723_004), "1:02:03.004");
    }

    #[test]
    fn a_video_without_keyframes_says_why() {
        use serde_json::json;
        let alg = custody_similar::ALGORITHM;
        assert!(keyframes_missing(None, "ITM-000001").contains("custody extract --all"));
        let failed = json!({"algorithm": alg, "error": "could not hash: the track is empty"});
        assert_eq!(
            keyframes_missing(Some(&failed), "ITM-000001"),
            "the track is empty"
        );
        let none = json!({"algorithm": alg, "frames": []});
        assert_eq!(
            keyframes_missing(Some(&none), "ITM-000001"),
            "no keyframe was found in it"
        );
        let older =
            json!({"algorithm": "old", "frames": [{"at_ms": 0, "value": "0123456789abcdef"}]});
        assert!(
            keyframes_missing(Some(&older), "ITM-000001")
                .contains("custody extract ITM-000001 --force")
        );
    }
}
