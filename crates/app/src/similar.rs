//! Near-duplicates across the vault: `custody similar` and `custody clusters`.
//!
//! Perceptual hashes are computed on ingest and recorded with the metadata; here they are
//! loaded into an in-memory index (docs/design/near-duplicates.md) to find an item's
//! neighbours or to group the vault into clusters. Each cluster gets its earliest provable
//! appearance: among all members' candidate times, the earliest one with the strongest
//! basis present (attested > device clock > reported). A device reading that cannot be
//! true (later than the collection, or a reset clock: [`crate::clocks`]) is listed with
//! why, and takes no part.

use std::collections::{BTreeMap, BTreeSet};

use custody_model::{Digest, Item, ItemId};
use custody_similar::{Appearance, Index, PHash, TimeBasis, TimeClaim};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{AppError, Result};
use crate::vault::Vault;

#[derive(Clone, Debug, Serialize)]
pub struct Neighbour {
    pub item: ItemId,
    pub sha256: Digest,
    pub name: String,
    pub case: Option<String>,
    pub distance: u32,
    /// The very same bytes (another collection of them).
    pub same_bytes: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct SimilarReport {
    pub item: ItemId,
    pub phash: String,
    pub algorithm: &'static str,
    pub max_distance: u32,
    /// Distinct images in the index.
    pub indexed: usize,
    pub neighbours: Vec<Neighbour>,
}

async fn load(vault: &Vault) -> Result<(Vec<(Digest, u64)>, Index)> {
    let hashes = vault.catalog().phashes(custody_similar::ALGORITHM).await?;
    let mut index = Index::new();
    for (i, (_, h)) in hashes.iter().enumerate() {
        index.insert(i as u64, PHash(*h));
    }
    Ok((hashes, index))
}

pub async fn similar(vault: &Vault, query: &str, max_distance: u32) -> Result<SimilarReport> {
    let item = crate::items::resolve_bytes(vault, query).await?;
    let (hashes, index) = load(vault).await?;
    let Some(&(_, h)) = hashes.iter().find(|(d, _)| *d == item.sha256) else {
        let extracted = vault
            .catalog()
            .metadata(&item.sha256, custody_extract::EXTRACTOR)
            .await?
            .is_some();
        let hashable = custody_similar::is_hashable(&item.media_type);
        if !extracted && hashable {
            return Err(AppError::Invalid(format!(
                "{} has not been examined yet (it was ingested with --no-extract); run `custody extract --all` to extract its metadata and perceptual hash",
                item.id
            )));
        }
        let why = if hashable {
            let view = crate::items::show(vault, &item.id.to_string()).await?;
            view.recorded_phash()
                .and_then(|p| p["error"].as_str())
                .map(|e| e.strip_prefix("could not hash: ").unwrap_or(e).to_owned())
                .unwrap_or_else(|| "no hash was recorded".into())
        } else {
            unhashed_reason(&item.media_type)
        };
        return Err(AppError::Invalid(format!(
            "{} ({}) has no perceptual hash: {why}",
            item.id, item.original_name
        )));
    };
    let mut neighbours = Vec::new();
    for (id, distance) in index.query(PHash(h), max_distance) {
        let digest = hashes[id as usize].0;
        let filter = custody_store::ItemFilter {
            sha256: Some(digest),
            ..Default::default()
        };
        for other in vault.catalog().items(&filter).await? {
            if other.id == item.id {
                continue;
            }
            neighbours.push(Neighbour {
                item: other.id,
                sha256: other.sha256,
                name: other.original_name,
                case: other.case,
                distance,
                same_bytes: other.sha256 == item.sha256,
            });
        }
    }
    neighbours.sort_by_key(|n| (n.distance, n.item));
    Ok(SimilarReport {
        item: item.id,
        phash: PHash(h).to_string(),
        algorithm: custody_similar::ALGORITHM,
        max_distance,
        indexed: hashes.len(),
        neighbours,
    })
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
    /// earliest provable appearance (the first member when no time is known); 0 in a
    /// group of the same bytes. Groups are chained (single linkage), so a member may be
    /// further from it than the limit.
    pub distance: u32,
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
    received: BTreeMap<String, Vec<crate::import::UpstreamToken>>,
    receipts: BTreeMap<ItemId, custody_ledger::Entry>,
}

impl Proofs {
    async fn of(vault: &Vault) -> Result<Self> {
        let receipts = vault
            .entries_of(custody_model::Action::ItemReceived)
            .await?
            .into_iter()
            .filter_map(|e| Some((e.item?, e)))
            .collect();
        Ok(Self {
            tokens: crate::timestamps::recorded(vault).await?,
            received: crate::import::received_tokens(vault).await?,
            receipts,
        })
    }
}

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
        let c2pa = &record["c2pa"];
        if matches!(c2pa["state"].as_str(), Some("valid" | "trusted"))
            && let Some(at) = c2pa["signing_time"]
                .as_str()
                .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        {
            push(at, TimeBasis::Attested, "signed C2PA claim".into(), None);
        }
        for c in record["times"].as_array().into_iter().flatten() {
            let source = c["source"].as_str().unwrap_or("?").to_owned();
            let Some(r) = crate::clocks::reading(c) else {
                continue;
            };
            // A time whose offset is unknown stands for a span of instants: the capture
            // was no later than its latest, nor than the collection.
            let note = r.span_note();
            push(
                r.latest.min(collected),
                TimeBasis::DeviceClock,
                format!("{source}{note}"),
                crate::clocks::implausible(&r, collected),
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
        // they need nothing else from the kept records.
        let stamped = proofs
            .received
            .get(&sender.package_id)
            .into_iter()
            .flatten()
            .filter(|t| t.checkpoint_size > sender.entry)
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
}

pub async fn clusters(vault: &Vault, case: Option<&str>, max_distance: u32) -> Result<Clusters> {
    let (hashes, full) = load(vault).await?;
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
        return Err(AppError::Invalid(format!(
            "no items are filed under case {case:?}; `custody list` shows every item with its case"
        )));
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
    let index = if case.is_some() {
        let mut idx = Index::new();
        for (i, (d, h)) in hashes.iter().enumerate() {
            if items_by_digest.contains_key(d) {
                idx.insert(i as u64, PHash(*h));
            }
        }
        idx
    } else {
        full
    };
    let proofs = Proofs::of(vault).await?;
    let hash_of: BTreeMap<Digest, u64> = hashes.iter().copied().collect();
    let mut groups: Vec<Vec<&Item>> = Vec::new();
    let mut grouped: BTreeSet<Digest> = BTreeSet::new();
    for group in index.clusters(max_distance) {
        grouped.extend(group.iter().map(|i| hashes[*i as usize].0));
        groups.push(
            group
                .iter()
                .flat_map(|i| {
                    items_by_digest
                        .get(&hashes[*i as usize].0)
                        .into_iter()
                        .flatten()
                })
                .collect(),
        );
    }
    // The same bytes collected more than once and near nothing else are a group too,
    // whatever the file (a video, a PDF, an image without a hash): the same file from
    // several sources, whose earliest appearance matters as much. Their distance is 0.
    for (d, items) in &items_by_digest {
        if items.len() > 1 && grouped.insert(*d) {
            groups.push(items.iter().collect());
        }
    }
    let mut out = Vec::new();
    for items in groups {
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
                notes,
                distance: 0,
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
            .and_then(|m| hash_of.get(&m.sha256).copied());
        if let Some(r) = reference {
            for m in &mut members {
                if let Some(h) = hash_of.get(&m.sha256) {
                    m.distance = (h ^ r).count_ones();
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
    })
}

/// Why an item of this media type has no perceptual hash (for types that are never
/// hashed; a hashable image that failed has its own reason in its extraction entry).
pub fn unhashed_reason(media_type: &str) -> String {
    let lower = media_type.to_ascii_lowercase();
    if lower.contains("sequence") && (lower.contains("heic") || lower.contains("heif")) {
        "HEIF image sequences (bursts, animations) are not hashed: only HEIC/HEIF still images are"
            .into()
    } else if lower.starts_with("video/") {
        "videos are not hashed: no pure-Rust video decoder is available (their metadata is extracted without one)".into()
    } else if lower.contains("avif") {
        "AVIF images are not hashed: no AV1 decoder is built in (their metadata is extracted without one)".into()
    } else {
        format!(
            "only JPEG, PNG, TIFF, WebP and HEIC/HEIF images are hashed, and this is {media_type}"
        )
    }
}
