//! From ledger entries to catalog changes: the one place that decides what the catalog
//! holds. Replaying every entry through [`changes`] rebuilds the catalog exactly.

use custody_ledger::Entry;
use custody_model::{Action, CollectedDetails, Item};
use custody_store::{Change, EventRow, MetadataRow};

use crate::error::{AppError, Result};

pub fn changes(entry: &Entry) -> Result<Vec<Change>> {
    let mut out = vec![Change::Event(EventRow {
        seq: entry.seq,
        time: entry.time.to_string(),
        actor: entry.actor.clone(),
        action: entry.action.to_string(),
        item: entry.item,
        sha256: entry.sha256,
    })];
    let bad = |why: &str| {
        AppError::Invalid(format!(
            "ledger entry {} ({}) {why}",
            entry.seq, entry.action
        ))
    };
    match &entry.action {
        // Derived (redacted) copies and items received from another vault are items too.
        Action::ItemCollected | Action::ItemDerived | Action::ItemReceived => {
            let id = entry.item.ok_or_else(|| bad("names no item"))?;
            let sha256 = entry.sha256.ok_or_else(|| bad("names no digest"))?;
            let d: CollectedDetails = serde_json::from_value(entry.details.clone())
                .map_err(|e| bad(&format!("has unreadable details: {e}")))?;
            out.push(Change::InsertItem(Box::new(Item {
                id,
                sha256,
                size: d.size,
                media_type: d.media_type,
                original_name: d.original_name,
                original_path: d.original_path,
                fs: d.fs,
                collected_by: d.collected_by,
                source: d.source,
                method: d.method,
                case: d.case,
                note: d.note,
                ingested_at: entry.time,
                actor: entry.actor.clone(),
                ledger_seq: entry.seq,
                duplicate_of: d.duplicate_of,
            })));
        }
        Action::MetadataExtracted => {
            let sha256 = entry.sha256.ok_or_else(|| bad("names no digest"))?;
            let extractor = entry
                .detail_str("extractor")
                .ok_or_else(|| bad("names no extractor"))?;
            let version = entry
                .detail_str("extractor_version")
                .ok_or_else(|| bad("names no extractor version"))?;
            let mut record = entry
                .details
                .get("record")
                .ok_or_else(|| bad("holds no record"))?
                .clone();
            // Stored in canonical form (keys sorted), whatever key order serde_json keeps:
            // a replayed catalog must be byte-identical to the live one.
            record.sort_all_objects();
            let record = &record;

            let first = record.get("positions").and_then(|p| p.get(0));
            let coord = |k: &str| {
                first
                    .and_then(|p| p.get(k))
                    .and_then(serde_json::Value::as_f64)
            };
            if let Some(value) = entry
                .details
                .get("phash")
                .and_then(|p| p.get("value"))
                .and_then(|v| v.as_str())
            {
                let algorithm = entry.details["phash"]["algorithm"]
                    .as_str()
                    .ok_or_else(|| bad("names no hash algorithm"))?;
                let hash = u64::from_str_radix(value, 16)
                    .map_err(|_| bad("holds a malformed perceptual hash"))?;
                out.push(Change::Phash {
                    sha256,
                    algorithm: algorithm.to_owned(),
                    hash,
                    seq: entry.seq,
                });
            }
            out.push(Change::Metadata(Box::new(MetadataRow {
                sha256,
                extractor: extractor.to_owned(),
                version: version.to_owned(),
                ledger_seq: entry.seq,
                record: record.to_string(),
                latitude: coord("latitude"),
                longitude: coord("longitude"),
            })));
        }
        Action::ItemAnnotated => {
            let item = entry.item.ok_or_else(|| bad("names no item"))?;
            let note = entry
                .detail_str("note")
                .ok_or_else(|| bad("has no note"))?
                .to_owned();
            out.push(Change::Annotate {
                seq: entry.seq,
                item,
                note,
            });
        }
        // Case events and the sealed store (crate::cases).
        Action::Other(a) if crate::cases::projects(a) => out.extend(crate::cases::changes(entry)),
        _ => {}
    }
    Ok(out)
}
