//! The exact bytes of a ledger entry (formats.md §3.1).
//!
//! An entry is compact JSON with its members in a fixed order and the members of
//! `details` sorted by name at every depth. The bytes, not the parsed value, are what the
//! Merkle tree commits to; [`Entry::parse`] therefore also checks that re-encoding the
//! parsed entry gives back the same bytes, so two different byte strings can never mean
//! the same entry.

use custody_model::{Action, Digest, ItemId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{LedgerError, Result};

/// The entry format this code writes and reads.
pub const ENTRY_VERSION: u32 = 1;

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub v: u32,
    pub seq: u64,
    pub time: Timestamp,
    pub actor: String,
    pub action: Action,
    pub item: Option<ItemId>,
    pub sha256: Option<Digest>,
    pub details: Value,
}

impl Entry {
    /// A version-1 entry; `details` must be a JSON object (anything else becomes `{}`).
    pub fn new(
        seq: u64,
        time: Timestamp,
        actor: &str,
        action: Action,
        item: Option<ItemId>,
        sha256: Option<Digest>,
        details: Value,
    ) -> Self {
        let details = if details.is_object() {
            details
        } else {
            Value::Object(Default::default())
        };
        Self {
            v: ENTRY_VERSION,
            seq,
            time,
            actor: actor.to_owned(),
            action,
            item,
            sha256,
            details,
        }
    }

    /// The canonical bytes (no trailing newline).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut canonical = self.clone();
        canonical.details.sort_all_objects();
        serde_json::to_vec(&canonical).expect("an entry always serialises")
    }

    /// Parses and checks the bytes of entry number `seq`.
    pub fn parse(bytes: &[u8], seq: u64) -> Result<Self> {
        let bad = |reason: String| LedgerError::MalformedEntry { seq, reason };
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not valid UTF-8".into()))?;
        let probe: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        match probe.get("v").and_then(Value::as_u64) {
            Some(v) if v == u64::from(ENTRY_VERSION) => {}
            Some(v) => {
                return Err(bad(format!(
                    "entry format version {v} is not supported (this build reads {ENTRY_VERSION})"
                )));
            }
            None => return Err(bad("no format version \"v\"".into())),
        }
        let entry: Entry = serde_json::from_value(probe).map_err(|e| bad(e.to_string()))?;
        if entry.seq != seq {
            return Err(bad(format!(
                "its sequence number is {} but it stands at position {seq}",
                entry.seq
            )));
        }
        if !entry.details.is_object() {
            return Err(bad("\"details\" is not an object".into()));
        }
        if entry.to_bytes() != bytes {
            return Err(bad(
                "not in canonical form (member order, spacing or escaping differs)".into(),
            ));
        }
        Ok(entry)
    }

    /// A string member of `details`, if present.
    pub fn detail_str(&self, name: &str) -> Option<&str> {
        self.details.get(name).and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Entry {
        Entry::new(
            3,
            "2026-11-25T09:15:11.020931Z".parse().unwrap(),
            "analyst@unit7",
            Action::ItemCollected,
            Some(ItemId::new(3)),
            Some(Digest::of(b"test")),
            json!({"size": 4, "case": "BUCHA-2022", "fs": {"modified": null, "accessed": null}}),
        )
    }

    #[test]
    fn bytes_have_fixed_member_order_and_sorted_details() {
        let bytes = String::from_utf8(sample().to_bytes()).unwrap();
        assert_eq!(
            bytes,
            r#"{"v":1,"seq":3,"time":"2026-11-25T09:15:11.020931Z","actor":"analyst@unit7","action":"item.collected","item":"ITM-000003","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","details":{"case":"BUCHA-2022","fs":{"accessed":null,"modified":null},"size":4}}"#
        );
    }

    #[test]
    fn parse_round_trips() {
        let e = sample();
        assert_eq!(Entry::parse(&e.to_bytes(), 3).unwrap(), e);
    }

    #[test]
    fn parse_rejects_wrong_position_version_and_non_canonical_bytes() {
        let bytes = sample().to_bytes();
        assert!(
            Entry::parse(&bytes, 4)
                .unwrap_err()
                .to_string()
                .contains("position 4")
        );
        let text = String::from_utf8(bytes.clone()).unwrap();
        let spaced = text.replacen("\"seq\":3", "\"seq\": 3", 1);
        assert!(
            Entry::parse(spaced.as_bytes(), 3)
                .unwrap_err()
                .to_string()
                .contains("canonical")
        );
        let v2 = text.replacen("\"v\":1", "\"v\":2", 1);
        assert!(
            Entry::parse(v2.as_bytes(), 3)
                .unwrap_err()
                .to_string()
                .contains("version 2")
        );
        assert!(Entry::parse(b"\xff\xfe", 3).is_err());
        let extra = text.replacen("{\"v\":1,", "{\"v\":1,\"x\":0,", 1);
        assert!(Entry::parse(extra.as_bytes(), 3).is_err());
    }

    #[test]
    fn non_ascii_text_is_written_as_utf8() {
        let mut e = sample();
        e.details = json!({"note": "Яблунська вул., 2 квітня — \"x\""});
        let text = String::from_utf8(e.to_bytes()).unwrap();
        assert!(text.contains(r#""note":"Яблунська вул., 2 квітня — \"x\"""#));
        assert_eq!(Entry::parse(text.as_bytes(), 3).unwrap(), e);
    }
}

#[cfg(test)]
mod float_tests {
    use super::*;
    use serde_json::json;

    /// Regression: GPS coordinates in extracted metadata made some entries fail the
    /// canonical check on re-reading, because parsing did not give back the exact f64
    /// that was written. Every finite f64 must survive write → parse → write unchanged.
    #[test]
    fn floats_round_trip_exactly() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let lat = 50.0 + (x % 1_000_000) as f64 / 1e6 * 0.05 + i as f64 * 1e-9;
            let bits = f64::from_bits(x >> 2);
            let values: Vec<f64> = [lat, 30.2 + lat / 1e3, bits]
                .into_iter()
                .filter(|v| v.is_finite())
                .collect();
            let e = Entry::new(
                0,
                "2026-11-25T09:15:11.020931Z".parse().unwrap(),
                "a",
                Action::MetadataExtracted,
                None,
                None,
                json!({ "values": values }),
            );
            let bytes = e.to_bytes();
            Entry::parse(&bytes, 0)
                .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(&bytes)));
        }
    }
}
