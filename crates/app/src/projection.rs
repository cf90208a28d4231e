//! From ledger entries to catalog changes: the one place that decides what the catalog
//! holds. Replaying every entry through [`changes`] rebuilds the catalog exactly.

use custody_ledger::Entry;
use custody_model::{Action, CollectedDetails, Item};
use custody_similar::{PHash, Turn};
use custody_store::{Change, EventRow, MetadataRow, TurnedHashes};

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
                let turned = turned_hashes(&entry.details["phash"]).map_err(&bad)?;
                out.push(Change::Phash {
                    sha256,
                    algorithm: algorithm.to_owned(),
                    hash,
                    turned,
                    seq: entry.seq,
                });
            } else if let Some(error) = entry
                .details
                .get("phash")
                .filter(|p| p.get("error").is_some())
            {
                // The latest extraction could not hash the image: an earlier hash of the
                // same bytes no longer stands for them.
                let algorithm = error["algorithm"]
                    .as_str()
                    .ok_or_else(|| bad("names no hash algorithm"))?;
                out.push(Change::PhashCleared {
                    sha256,
                    algorithm: algorithm.to_owned(),
                });
            }
            if let Some(keyframes) = entry.details.get("keyframes") {
                let (algorithm, frames) = keyframe_hashes(keyframes).map_err(&bad)?;
                out.push(Change::Keyframes {
                    sha256,
                    algorithm,
                    frames,
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

/// A keyframe hash algorithm and the (milliseconds, hash, turned hashes) frames recorded
/// with it.
type RecordedFrames = (String, Vec<(u64, u64, Option<TurnedHashes>)>);

/// The turned hashes recorded beside a hash (`"turned": {"mirrored": hex, ...}`, one key
/// per turn, docs/design/near-duplicates.md §8), in the order of `Turn::ALL`; `None` when
/// the entry records none (an earlier build's). Fails when one of the seven is missing or
/// malformed; other keys are not read.
fn turned_hashes(
    hashed: &serde_json::Value,
) -> std::result::Result<Option<TurnedHashes>, &'static str> {
    let Some(turned) = hashed.get("turned") else {
        return Ok(None);
    };
    let malformed = "holds malformed turned hashes";
    // Each of the seven turns must be there; a key this build does not know (a later
    // build's) is left alone.
    let turned = turned.as_object().ok_or(malformed)?;
    let mut out = [0u64; 7];
    for (slot, turn) in out.iter_mut().zip(Turn::ALL) {
        let value = turned
            .get(turn.id())
            .and_then(|v| v.as_str())
            .ok_or(malformed)?;
        *slot = value.parse::<PHash>().map_err(|_| malformed)?.0;
    }
    Ok(Some(out))
}

/// The algorithm and the (milliseconds, hash, turned hashes) frames of an extraction's
/// `keyframes` (`{"algorithm", "frames": [{"at_ms", "value", "turned"}, ...]}`); a record
/// of why there are none (`{"algorithm", "error"}`) has no frames. Fails with what is
/// wrong otherwise.
fn keyframe_hashes(
    keyframes: &serde_json::Value,
) -> std::result::Result<RecordedFrames, &'static str> {
    let algorithm = keyframes["algorithm"]
        .as_str()
        .ok_or("names no keyframe hash algorithm")?;
    let Some(frames) = keyframes.get("frames") else {
        return match keyframes.get("error") {
            Some(_) => Ok((algorithm.to_owned(), Vec::new())),
            None => Err("holds keyframes with neither frames nor an error"),
        };
    };
    let malformed = "holds a malformed keyframe hash";
    let frames = frames
        .as_array()
        .ok_or(malformed)?
        .iter()
        .map(|f| {
            let at_ms = f["at_ms"].as_u64().ok_or(malformed)?;
            let value = f["value"].as_str().ok_or(malformed)?;
            let hash: PHash = value.parse().map_err(|_| malformed)?;
            Ok((at_ms, hash.0, turned_hashes(f)?))
        })
        .collect::<std::result::Result<Vec<_>, &'static str>>()?;
    Ok((algorithm.to_owned(), frames))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use custody_model::{Digest, ItemId, Timestamp};
    use custody_similar::{Keyframe, Turned, Turnings};
    use serde_json::json;

    use super::*;
    use crate::ingest::{Collection, Examined, IngestOptions, extraction_entry};
    use crate::vault::Vault;
    use crate::verify::{Silent, VerifyOptions, verify};

    /// A fresh vault holding one file, preserved without examination, and its item.
    async fn preserved_one(
        name: &str,
        bytes: &[u8],
    ) -> (tempfile::TempDir, Vault, custody_model::Item) {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::init(&dir.path().join("vault"), "t", "tester")
            .await
            .unwrap();
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let options = IngestOptions {
            extract: false,
            ..Default::default()
        };
        crate::ingest::ingest(
            &vault,
            &[file],
            &Collection::default(),
            &options,
            Arc::new(crate::ingest::Quiet),
        )
        .await
        .unwrap();
        let item = vault.catalog().items(&Default::default()).await.unwrap()[0].clone();
        (dir, vault, item)
    }

    /// What `custody verify --full` finds wrong with the vault.
    async fn verify_problems(vault: &Vault) -> Vec<crate::verify::Problem> {
        let options = VerifyOptions {
            full: true,
            checkpoint_file: None,
            threads: 2,
        };
        verify(vault, &options, &Silent).await.unwrap().problems
    }

    fn extracted(details: serde_json::Value) -> Entry {
        let mut details = details;
        details["extractor"] = "x".into();
        details["extractor_version"] = "1".into();
        details["record"] = json!({});
        Entry::new(
            7,
            Timestamp::from_unix_nanos(0).unwrap(),
            "tester",
            Action::MetadataExtracted,
            Some(ItemId::new(1)),
            Some(Digest::of(b"clip")),
            details,
        )
    }

    fn keyframes_change(entry: &Entry) -> Option<Change> {
        changes(entry)
            .unwrap()
            .into_iter()
            .find(|c| matches!(c, Change::Keyframes { .. }))
    }

    #[test]
    fn keyframes_become_one_change_with_every_frame() {
        let entry = extracted(json!({"keyframes": {"algorithm": "alg", "frames": [
            {"at_ms": 0, "value": "0123456789abcdef"},
            {"at_ms": 1500, "value": "ffffffffffffffff"},
        ]}}));
        assert_eq!(
            keyframes_change(&entry),
            Some(Change::Keyframes {
                sha256: Digest::of(b"clip"),
                algorithm: "alg".into(),
                frames: vec![(0, 0x0123_4567_89ab_cdef, None), (1500, u64::MAX, None)],
                seq: 7,
            })
        );
        // Why there are none: no frames, and the earlier ones are replaced by nothing.
        let failed =
            extracted(json!({"keyframes": {"algorithm": "alg", "error": "could not hash: x"}}));
        assert!(matches!(
            keyframes_change(&failed),
            Some(Change::Keyframes { frames, .. }) if frames.is_empty()
        ));
        // An image's entry has no keyframes.
        let image = extracted(json!({"phash": {"algorithm": "alg", "value": "0123456789abcdef"}}));
        assert_eq!(keyframes_change(&image), None);
    }

    /// The seven turned hashes, as an extraction records them: `{"mirrored": hex, ...}`.
    fn turned_json(first: u64) -> serde_json::Value {
        Turn::ALL
            .iter()
            .enumerate()
            .map(|(i, t)| {
                (
                    t.id().to_owned(),
                    format!("{:016x}", first + i as u64).into(),
                )
            })
            .collect::<serde_json::Map<String, serde_json::Value>>()
            .into()
    }

    /// Turned hashes recorded beside an image's hash or a keyframe's reach the change in
    /// the order of `Turn::ALL`; an entry without them (an earlier build's) has none.
    #[test]
    fn turned_hashes_are_read_in_the_order_of_the_turns() {
        let want: TurnedHashes = [100, 101, 102, 103, 104, 105, 106];
        let image = extracted(json!({"phash": {
            "algorithm": "alg", "value": "0123456789abcdef", "turned": turned_json(100)
        }}));
        let phash = changes(&image)
            .unwrap()
            .into_iter()
            .find(|c| matches!(c, Change::Phash { .. }));
        assert!(
            matches!(phash, Some(Change::Phash { turned: Some(t), .. }) if t == want),
            "{phash:?}"
        );
        let old = extracted(json!({"phash": {"algorithm": "alg", "value": "0123456789abcdef"}}));
        assert!(changes(&old).unwrap().iter().any(|c| matches!(
            c,
            Change::Phash {
                turned: None,
                hash: 0x0123_4567_89ab_cdef,
                ..
            }
        )));
        let video = extracted(json!({"keyframes": {"algorithm": "alg", "frames": [
            {"at_ms": 0, "value": "0123456789abcdef", "turned": turned_json(100)},
            {"at_ms": 40, "value": "0123456789abcdef"},
        ]}}));
        assert!(matches!(
            keyframes_change(&video),
            Some(Change::Keyframes { frames, .. })
                if frames == [(0, 0x0123_4567_89ab_cdef, Some(want)), (40, 0x0123_4567_89ab_cdef, None)]
        ));
        // A turn a later build may add is not read; the seven are.
        let mut more = turned_json(100);
        more["rotated-45"] = "ffffffffffffffff".into();
        let later = extracted(json!({"phash": {
            "algorithm": "alg", "value": "0123456789abcdef", "turned": more
        }}));
        assert!(changes(&later).unwrap().iter().any(|c| matches!(
            c,
            Change::Phash { turned: Some(t), .. } if *t == want
        )));
    }

    #[test]
    fn malformed_turned_hashes_are_refused() {
        let mut missing = turned_json(0);
        missing.as_object_mut().unwrap().remove("mirrored");
        let mut renamed = turned_json(0);
        renamed.as_object_mut().unwrap().remove("transposed");
        renamed["upright"] = "0000000000000000".into();
        let mut short = turned_json(0);
        short["mirrored"] = "123".into();
        for bad in [
            missing,
            renamed,
            short,
            json!(["0000000000000000"]),
            json!(null),
        ] {
            let image = extracted(json!({"phash": {
                "algorithm": "alg", "value": "0123456789abcdef", "turned": bad.clone()
            }}));
            let e = changes(&image).unwrap_err();
            assert!(e.to_string().contains("malformed turned hashes"), "{e}");
            let video = extracted(json!({"keyframes": {"algorithm": "alg", "frames": [
                {"at_ms": 0, "value": "0123456789abcdef", "turned": bad}
            ]}}));
            assert!(changes(&video).is_err());
        }
    }

    #[test]
    fn malformed_keyframes_are_refused() {
        for bad in [
            json!({"frames": []}),
            json!({"algorithm": "alg"}),
            json!({"algorithm": "alg", "frames": {}}),
            json!({"algorithm": "alg", "frames": [{"at_ms": 0, "value": "xyz"}]}),
            json!({"algorithm": "alg", "frames": [{"at_ms": -1, "value": "0123456789abcdef"}]}),
            json!({"algorithm": "alg", "frames": [{"value": "0123456789abcdef"}]}),
        ] {
            let e = changes(&extracted(json!({ "keyframes": bad }))).unwrap_err();
            assert!(e.to_string().contains("ledger entry 7"), "{e}");
        }
    }

    /// Keyframe hashes recorded in the ledger reach the catalog and its dump, the latest
    /// extraction replaces them, and the vault still verifies (a replay of the ledger
    /// gives the same catalog).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn recorded_keyframes_are_in_the_catalog_and_verify() {
        let mut clip = vec![0, 0, 0, 16];
        clip.extend_from_slice(b"ftypisom\0\0\x02\0");
        let (_dir, vault, item) = preserved_one("clip.mp4", &clip).await;
        let frames = vec![
            Keyframe {
                at_ms: 0,
                hash: PHash(0x8000_0000_0000_0001),
                turned: Turned([PHash(u64::MAX); 7]),
            },
            Keyframe {
                at_ms: 1_000,
                hash: PHash(42),
                turned: Default::default(),
            },
        ];
        let examined = |keyframes| Examined {
            metadata: crate::ingest::extract_bytes(&clip, &item.media_type),
            phash: None,
            keyframes: Some(keyframes),
            stream: None,
        };
        let recorded = vault
            .commit(
                vec![extraction_entry(
                    item.id,
                    item.sha256,
                    &examined(Ok(frames)),
                )],
                &[],
            )
            .await
            .unwrap();
        let seq = recorded[0].seq;
        let alg = custody_similar::ALGORITHM;
        assert_eq!(
            vault.catalog().keyframe_hashes(alg, true).await.unwrap(),
            [
                (item.sha256, 0, 0x8000_0000_0000_0001, Some([u64::MAX; 7])),
                (item.sha256, 1_000, 42, Some([0; 7]))
            ]
        );
        let dump = vault.catalog().dump().await.unwrap();
        let rows: Vec<_> = dump
            .iter()
            .filter(|r| r.table == "keyframe_hashes")
            .map(|r| (r.key.clone(), r.row.clone()))
            .collect();
        let sha = item.sha256.to_hex();
        assert_eq!(
            rows,
            [
                (
                    format!("{sha}/{alg}/0"),
                    format!(
                        r#"["{sha}","{alg}",0,{},{seq},"{}"]"#,
                        i64::MIN + 1,
                        "f".repeat(112)
                    )
                ),
                (
                    format!("{sha}/{alg}/1000"),
                    format!(r#"["{sha}","{alg}",1000,42,{seq},"{}"]"#, "0".repeat(112))
                ),
            ]
        );
        let problems = verify_problems(&vault).await;
        assert!(problems.is_empty(), "{problems:?}");

        // An extraction that could not hash the video leaves no keyframes.
        let failed = examined(Err("could not hash: damaged".into()));
        vault
            .commit(vec![extraction_entry(item.id, item.sha256, &failed)], &[])
            .await
            .unwrap();
        assert_eq!(
            vault.catalog().keyframe_hashes(alg, true).await.unwrap(),
            []
        );
        let problems = verify_problems(&vault).await;
        assert!(problems.is_empty(), "{problems:?}");
    }

    /// An image's hash stands until an extraction of the same bytes says it could not
    /// hash them: then the catalog holds none, as the ledger's latest word says, and a
    /// replay agrees. A later success records a hash again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_later_failure_to_hash_an_image_clears_its_hash() {
        let (_dir, vault, item) = preserved_one("note.txt", b"not really an image").await;
        let alg = custody_similar::ALGORITHM;
        let examined = |phash| Examined {
            metadata: crate::ingest::extract_bytes(b"x", "image/png"),
            phash: Some(phash),
            keyframes: None,
            stream: None,
        };
        let record = |e: Examined| {
            let vault = &vault;
            let item = &item;
            async move {
                vault
                    .commit(vec![extraction_entry(item.id, item.sha256, &e)], &[])
                    .await
                    .unwrap();
            }
        };
        let hashed = |h: u64| Turnings {
            hash: PHash(h),
            turned: Turned([PHash(h + 1); 7]),
        };
        record(examined(Ok(hashed(7)))).await;
        assert_eq!(
            vault.catalog().phashes(alg, true).await.unwrap(),
            [(item.sha256, 7, Some([8; 7]))]
        );
        record(examined(Err("could not hash: the data is damaged".into()))).await;
        assert_eq!(vault.catalog().phashes(alg, true).await.unwrap(), []);
        let problems = verify_problems(&vault).await;
        assert!(problems.is_empty(), "{problems:?}");
        record(examined(Ok(hashed(9)))).await;
        assert_eq!(
            vault.catalog().phashes(alg, true).await.unwrap(),
            [(item.sha256, 9, Some([10; 7]))]
        );
        let problems = verify_problems(&vault).await;
        assert!(problems.is_empty(), "{problems:?}");
    }
}
