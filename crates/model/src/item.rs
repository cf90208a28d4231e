//! Evidence items as the catalog presents them.

use serde::{Deserialize, Serialize};

use crate::{Digest, FsTimes, ItemId, Timestamp};

/// One collection of some bytes, with who collected it, when, where and how. Built only
/// from an `item.collected` ledger entry, so every field here is covered by the ledger.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Item {
    pub id: ItemId,
    pub sha256: Digest,
    pub size: u64,
    pub media_type: String,
    pub original_name: String,
    pub original_path: String,
    pub fs: FsTimes,
    pub collected_by: Option<String>,
    pub source: Option<String>,
    pub method: Option<String>,
    pub case: Option<String>,
    pub note: Option<String>,
    pub ingested_at: Timestamp,
    pub actor: String,
    pub ledger_seq: u64,
    pub duplicate_of: Option<ItemId>,
}
