//! Finding, showing and reading items.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use custody_ledger::Entry;
use custody_model::{Action, Item, ItemId};
use custody_store::ItemFilter;
use custody_vault::VerifyingReader;
use serde::Serialize;
use serde_json::json;

use crate::error::{AppError, Result};
use crate::vault::{Pending, Vault};

/// Resolves an item id (`ITM-000042`) or a SHA-256 prefix (at least 4 hex digits).
pub async fn resolve(vault: &Vault, query: &str) -> Result<Item> {
    resolve_with(vault, query, false).await
}

/// [`resolve`] for commands that work on the bytes (extraction, near-duplicates): a
/// prefix of one SHA-256 held by several items is not ambiguous there, and gives the
/// first of them.
pub async fn resolve_bytes(vault: &Vault, query: &str) -> Result<Item> {
    resolve_with(vault, query, true).await
}

async fn resolve_with(vault: &Vault, query: &str, by_bytes: bool) -> Result<Item> {
    let q = query.trim();
    if let Ok(id) = q.parse::<ItemId>() {
        return vault
            .catalog()
            .item(id)
            .await?
            .ok_or_else(|| AppError::NoSuchItem(q.to_owned()));
    }
    let hex = q.strip_prefix("sha256:").unwrap_or(q);
    if hex.len() < 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::Invalid(format!(
            "{q:?} is neither an item id (ITM-000042) nor a SHA-256 prefix of at least 4 hex digits"
        )));
    }
    let mut found = vault.catalog().items_by_sha256_prefix(hex).await?;
    match found.len() {
        0 => Err(AppError::NoSuchItem(q.to_owned())),
        1 => Ok(found.remove(0)),
        n => {
            let examples: Vec<String> = found.iter().take(4).map(|i| i.id.to_string()).collect();
            let more = if n > 4 { ", …" } else { "" };
            if found.iter().all(|i| i.sha256 == found[0].sha256) {
                if by_bytes {
                    found.sort_by_key(|i| i.id);
                    return Ok(found.remove(0));
                }
                // More digits cannot tell them apart: one set of bytes, collected n times.
                return Err(AppError::Invalid(format!(
                    "{q:?} matches one SHA-256 only, shared by {n} items holding the same bytes (collected {n} times: {}{more}); give the item id",
                    examples.join(", ")
                )));
            }
            Err(AppError::AmbiguousItem {
                query: q.to_owned(),
                count: n,
                examples: format!("{}{more}", examples.join(", ")),
            })
        }
    }
}

/// Why no item is filed under `case`: an error when no case of that name was opened
/// (a mistyped name, with the names that differ from it only in letter case), `Ok`
/// when the case was opened and simply holds no items yet, which is an empty answer.
pub async fn no_items_in(vault: &Vault, case: &str) -> Result<()> {
    let opened = vault.catalog().cases().await?;
    if opened.iter().any(|c| c.id == case) {
        return Ok(());
    }
    let mut names: Vec<String> = opened.into_iter().map(|c| c.id).collect();
    for item in vault.catalog().items(&ItemFilter::default()).await? {
        names.extend(item.case);
    }
    names.sort();
    names.dedup();
    let like: Vec<&String> = names
        .iter()
        .filter(|n| n.eq_ignore_ascii_case(case))
        .collect();
    let hint = match like.as_slice() {
        [] => "`custody list` shows every item with its case, `custody case list` the cases opened"
            .to_owned(),
        found => format!(
            "case names are exact: did you mean {}?",
            found
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    };
    Err(AppError::Invalid(format!(
        "no case {case:?} was opened and no items are filed under it; {hint}"
    )))
}

pub async fn list(vault: &Vault, filter: &ItemFilter) -> Result<Vec<Item>> {
    Ok(vault.catalog().items(filter).await?)
}

/// One ledger entry in an item's history, as the ledger holds it.
#[derive(Clone, Debug, Serialize)]
pub struct HistoryEntry {
    pub seq: u64,
    pub time: String,
    pub actor: String,
    pub action: String,
    pub details: serde_json::Value,
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemView {
    pub item: Item,
    pub annotations: Vec<serde_json::Value>,
    pub history: Vec<HistoryEntry>,
    /// Other items holding the same bytes.
    pub same_bytes: Vec<ItemId>,
    pub blob_present: bool,
    pub ledger: LedgerPosition,
    /// For an item received from another vault: its history there, from the sender's
    /// ledger entries kept with the package (oldest first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<Upstream>,
    /// Metadata extracted from the item's bytes (the newest record), if any.
    pub metadata: Option<serde_json::Value>,
    /// The perceptual hash recorded by the newest extraction of the item's bytes (the
    /// same for every item holding them): `{"algorithm", "value", "turned"}` (`turned`,
    /// the hashes it would have mirrored or turned, is absent from earlier builds'
    /// records), or `{"algorithm", "error"}` when the image could not be hashed; absent
    /// when no extraction recorded one (not examined yet, or a type that is not hashed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub perceptual_hash: Option<serde_json::Value>,
    /// The keyframe hashes of a video recorded by the newest extraction of its bytes:
    /// `{"algorithm", "frames": [{"at_ms", "value", "turned"}, ...]}`, or `{"algorithm",
    /// "error"}` when they could not be computed; absent when no extraction recorded them (not
    /// examined yet, or not a video whose keyframes are hashed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyframes: Option<serde_json::Value>,
    /// Clock readings in the metadata that cannot be the capture time (later than the
    /// collection, or a reset clock), each with its source and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub implausible_times: Vec<ImplausibleTime>,
    /// The earliest RFC 3161 token over a checkpoint that covers the collection entry:
    /// the item existed no later than its genTime.
    pub timestamp: Option<crate::timestamps::RecordedToken>,
    /// Why tokens over checkpoints that cover the entry date nothing (their chain does
    /// not lead to a root the vault trusts now, or leads to a withdrawn one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timestamps_set_aside: Vec<String>,
    /// The time-stamp of the item's content credentials (C2PA), judged against the
    /// vault's TSA roots now; absent when its claim carries none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c2pa_time_stamp: Option<crate::credentials::StampCheck>,
    /// The signer of the item's content credentials, judged against the vault's C2PA
    /// trust anchors now; absent when no validator read a signed manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c2pa_signer: Option<crate::credentials::SignerCheck>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImplausibleTime {
    pub source: String,
    pub why: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LedgerPosition {
    pub collected_entry: u64,
    pub tree_size: u64,
    pub latest_checkpoint: u64,
    pub origin: String,
}

impl ItemView {
    /// The perceptual hash recorded with the latest extraction of the item's bytes (see
    /// [`ItemView::perceptual_hash`]).
    pub fn recorded_phash(&self) -> Option<&serde_json::Value> {
        self.perceptual_hash.as_ref()
    }

    /// The keyframe hashes recorded with the latest extraction of the item's bytes (see
    /// [`ItemView::keyframes`]).
    pub fn recorded_keyframes(&self) -> Option<&serde_json::Value> {
        self.keyframes.as_ref()
    }
}

pub async fn show(vault: &Vault, query: &str) -> Result<ItemView> {
    let item = resolve(vault, query).await?;
    let events = vault.catalog().history(item.id, &item.sha256).await?;
    let mut history = Vec::with_capacity(events.len());
    {
        let ledger = vault.ledger();
        for ev in events {
            let bytes = ledger.read(ev.seq)?;
            let e = Entry::parse(&bytes, ev.seq)?;
            history.push(HistoryEntry {
                seq: e.seq,
                time: e.time.to_string(),
                actor: e.actor,
                action: e.action.to_string(),
                details: e.details,
            });
        }
    }
    let annotations = vault
        .catalog()
        .annotations(item.id)
        .await?
        .into_iter()
        .map(|(seq, note)| json!({"ledger_seq": seq, "note": note}))
        .collect();
    let filter = ItemFilter {
        sha256: Some(item.sha256),
        ..Default::default()
    };
    let same_bytes = vault
        .catalog()
        .items(&filter)
        .await?
        .into_iter()
        .map(|i| i.id)
        .filter(|id| *id != item.id)
        .collect();
    let blob_present = vault.blobs().stat(&item.sha256)?.is_some();
    let (tree_size, latest_checkpoint) = {
        let ledger = vault.ledger();
        (
            ledger.len(),
            ledger.checkpoint_sizes()?.last().copied().unwrap_or(0),
        )
    };
    // Only tokens whose chain leads to a root the vault trusts now date the item: the
    // earliest that does, checked in order of time.
    let mut tokens: Vec<_> = crate::timestamps::recorded(vault)
        .await?
        .into_iter()
        .filter(|t| t.checkpoint_size > item.ledger_seq)
        .collect();
    tokens.sort_by(|a, b| a.gen_time.cmp(&b.gen_time));
    let trust = crate::timestamps::TsaTrust::load(vault).await?;
    let now = std::time::SystemTime::now();
    let mut timestamp = None;
    let mut timestamps_set_aside = Vec::new();
    for t in tokens {
        let Some(c) = crate::timestamps::check_all(vault, vec![t], &trust, now)?.pop() else {
            continue;
        };
        if c.problems.is_empty() {
            timestamp = Some(c.token);
            break;
        }
        timestamps_set_aside.extend(c.problems);
    }
    let row = vault
        .catalog()
        .metadata(&item.sha256, custody_extract::EXTRACTOR)
        .await?;
    let metadata = match &row {
        Some(row) => Some(serde_json::from_str(&row.record).map_err(|e| {
            AppError::Invalid(format!(
                "the metadata record of {} is unreadable: {e}",
                item.id
            ))
        })?),
        None => None,
    };
    let c2pa = metadata
        .as_ref()
        .and_then(|m: &serde_json::Value| m.get("c2pa"));
    let c2pa_time_stamp = match c2pa {
        Some(c2pa) if c2pa.get("time_stamp").is_some() => {
            crate::credentials::check_against(c2pa, &Ok(trust.roots.clone()), now)
        }
        _ => None,
    };
    let c2pa_signer = match c2pa {
        Some(c2pa) => crate::credentials::judge_signer(
            c2pa,
            &crate::credentials::anchors_of(vault).await,
            c2pa_time_stamp.as_ref(),
            now,
        ),
        None => None,
    };
    let implausible_times = metadata
        .as_ref()
        .map(|m| crate::clocks::implausible_in(m, item.ingested_at.datetime()))
        .unwrap_or_default()
        .into_iter()
        .map(|(source, why)| ImplausibleTime { source, why })
        .collect();
    // The hash is in the extraction's ledger entry, which is linked to the bytes: an
    // item holding bytes collected before has it in another item's history.
    let (perceptual_hash, keyframes) = match &row {
        Some(row) => {
            let bytes = vault.ledger().read(row.ledger_seq)?;
            let details = Entry::parse(&bytes, row.ledger_seq)?.details;
            (
                details.get("phash").cloned(),
                details.get("keyframes").cloned(),
            )
        }
        None => (None, None),
    };
    let upstream = if history
        .first()
        .is_some_and(|h| h.action == Action::ItemReceived.as_str())
    {
        let bytes = vault.ledger().read(item.ledger_seq)?;
        upstream_of(vault, &Entry::parse(&bytes, item.ledger_seq)?)
    } else {
        None
    };
    Ok(ItemView {
        upstream,
        metadata,
        perceptual_hash,
        keyframes,
        implausible_times,
        timestamp,
        timestamps_set_aside,
        c2pa_time_stamp,
        c2pa_signer,
        ledger: LedgerPosition {
            collected_entry: item.ledger_seq,
            tree_size,
            latest_checkpoint,
            origin: vault.config().origin.clone(),
        },
        item,
        annotations,
        history,
        same_bytes,
        blob_present,
    })
}

#[derive(Clone, Debug, Serialize)]
pub struct GetReport {
    pub item: ItemId,
    pub sha256: custody_model::Digest,
    pub size: u64,
    pub out: String,
    pub ledger_seq: u64,
}

/// Copies an item's bytes to `out`, verifying them on the way, and records the read in
/// the ledger. Nothing appears at `out` unless the bytes verified and the read was
/// recorded.
pub async fn get(
    vault: &Vault,
    query: &str,
    out: &Path,
    force: bool,
    purpose: Option<&str>,
) -> Result<GetReport> {
    let item = resolve(vault, query).await?;
    if !force && fs::symlink_metadata(out).is_ok() {
        return Err(AppError::OutputExists {
            path: out.to_owned(),
        });
    }
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut rand = [0u8; 6];
    getrandom::fill(&mut rand).map_err(|e| AppError::Invalid(format!("no random source: {e}")))?;
    let tmp = dir.join(format!(".custody-get-{}.part", hex::encode(rand)));
    let copied = (|| -> Result<u64> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| AppError::io(format!("creating a file in {}", dir.display()), e))?;
        let mut src = VerifyingReader::new(vault.blobs().get(&item.sha256)?, item.sha256);
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                    return Err(AppError::DamagedBlob {
                        item: item.id.to_string(),
                    });
                }
                Err(e) => return Err(AppError::io(format!("reading the blob of {}", item.id), e)),
            };
            f.write_all(&buf[..n])
                .map_err(|e| AppError::io(format!("writing {}", tmp.display()), e))?;
            total += n as u64;
        }
        f.sync_all()
            .map_err(|e| AppError::io(format!("writing {}", tmp.display()), e))?;
        Ok(total)
    })();
    let size = match copied {
        Ok(n) => n,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let placed = if force {
        fs::rename(&tmp, out)
    } else {
        fs::hard_link(&tmp, out).and_then(|_| fs::remove_file(&tmp))
    };
    if let Err(e) = placed {
        let _ = fs::remove_file(&tmp);
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(AppError::OutputExists {
                path: out.to_owned(),
            });
        }
        return Err(AppError::io(format!("writing {}", out.display()), e));
    }
    let abs = std::path::absolute(out).unwrap_or_else(|_| out.to_owned());
    let pending = Pending {
        action: Action::ItemRead,
        item: Some(item.id),
        sha256: Some(item.sha256),
        details: json!({
            "destination": abs.to_string_lossy(),
            "purpose": purpose.map(str::trim).filter(|p| !p.is_empty()),
            "size": size,
            "verified": true,
        }),
    };
    match vault.commit(vec![pending], &[]).await {
        Ok(entries) => Ok(GetReport {
            item: item.id,
            sha256: item.sha256,
            size,
            out: abs.to_string_lossy().into_owned(),
            ledger_seq: entries[0].seq,
        }),
        Err(e) => {
            // An unrecorded read must not leave a copy behind.
            let _ = fs::remove_file(out);
            Err(e)
        }
    }
}

/// Adds a note to an item; the note is a ledger entry of its own.
pub async fn annotate(vault: &Vault, query: &str, note: &str) -> Result<u64> {
    let item = resolve(vault, query).await?;
    let note = note.trim();
    if note.is_empty() {
        return Err(AppError::Invalid("the note is empty".into()));
    }
    let pending = Pending {
        action: Action::ItemAnnotated,
        item: Some(item.id),
        sha256: Some(item.sha256),
        details: json!({"note": note}),
    };
    Ok(vault.commit(vec![pending], &[]).await?[0].seq)
}

/// Where a received item came from, and what happened to it there.
#[derive(Clone, Debug, Serialize)]
pub struct Upstream {
    pub origin: String,
    pub item: String,
    pub package_id: String,
    pub history: Vec<HistoryEntry>,
}

/// Reads the sender's history of a received item from the package records kept under
/// `received/<package id>/`.
fn upstream_of(vault: &Vault, collected: &Entry) -> Option<Upstream> {
    let up = collected.details.get("upstream")?;
    let origin = up.get("origin")?.as_str()?.to_owned();
    let item = up.get("item")?.as_str()?.to_owned();
    let package_id = up.get("package_id")?.as_str()?.to_owned();
    let dir = vault
        .dir()
        .join(crate::import::RECEIVED_DIR)
        .join(&package_id)
        .join("custody");
    let items: Vec<crate::export::PackagedItem> =
        serde_json::from_slice(&std::fs::read(dir.join("items.json")).ok()?).ok()?;
    let packaged = items.into_iter().find(|i| i.id == item)?;
    let mut history = Vec::new();
    for seq in packaged.history {
        let bytes = std::fs::read(dir.join("entries").join(format!("{seq:020}.json"))).ok()?;
        let e = Entry::parse(&bytes, seq).ok()?;
        history.push(HistoryEntry {
            seq,
            time: e.time.to_string(),
            actor: e.actor,
            action: e.action.to_string(),
            details: e.details,
        });
    }
    Some(Upstream {
        origin,
        item,
        package_id,
        history,
    })
}
