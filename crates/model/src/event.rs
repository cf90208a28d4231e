//! Custody events: what can happen to a vault and its items, as recorded in the ledger.
//!
//! The ledger crate owns the bytes of an entry; this module owns what the entry means.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Timestamp;

/// The kind of a custody event. Unknown actions from newer versions are kept verbatim
/// so that an older reader can still list and verify them.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Action {
    VaultCreated,
    KeyCreated,
    ItemCollected,
    ItemRead,
    ItemAnnotated,
    VaultVerified,
    CatalogRebuilt,
    CheckpointTimestamped,
    MetadataExtracted,
    ItemDerived,
    ItemReceived,
    PackageExported,
    PackageReceived,
    TrustAdded,
    TrustRemoved,
    Other(String),
}

impl Action {
    pub fn as_str(&self) -> &str {
        match self {
            Action::VaultCreated => "vault.created",
            Action::KeyCreated => "key.created",
            Action::ItemCollected => "item.collected",
            Action::ItemRead => "item.read",
            Action::ItemAnnotated => "item.annotated",
            Action::VaultVerified => "vault.verified",
            Action::CatalogRebuilt => "catalog.rebuilt",
            Action::CheckpointTimestamped => "checkpoint.timestamped",
            Action::MetadataExtracted => "metadata.extracted",
            Action::ItemDerived => "item.derived",
            Action::ItemReceived => "item.received",
            Action::PackageExported => "package.exported",
            Action::PackageReceived => "package.received",
            Action::TrustAdded => "trust.added",
            Action::TrustRemoved => "trust.removed",

            Action::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "vault.created" => Action::VaultCreated,
            "key.created" => Action::KeyCreated,
            "item.collected" => Action::ItemCollected,
            "item.read" => Action::ItemRead,
            "item.annotated" => Action::ItemAnnotated,
            "vault.verified" => Action::VaultVerified,
            "catalog.rebuilt" => Action::CatalogRebuilt,
            "checkpoint.timestamped" => Action::CheckpointTimestamped,
            "metadata.extracted" => Action::MetadataExtracted,
            "item.derived" => Action::ItemDerived,
            "item.received" => Action::ItemReceived,
            "package.exported" => Action::PackageExported,
            "package.received" => Action::PackageReceived,
            "trust.added" => Action::TrustAdded,
            "trust.removed" => Action::TrustRemoved,

            other => Action::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Action::parse(&String::deserialize(d)?))
    }
}

/// File-system times of a collected file, as the collecting machine reported them. They
/// are evidence of the copy, not of the capture: copying usually resets them.
#[derive(Clone, Default, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FsTimes {
    pub accessed: Option<Timestamp>,
    pub created: Option<Timestamp>,
    pub modified: Option<Timestamp>,
}

/// `details` of an `item.collected` entry. Members are declared in lexicographic order
/// because that is the order the ledger writes them in (formats.md §3.1).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct CollectedDetails {
    pub case: Option<String>,
    pub collected_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<crate::ItemId>,
    pub fs: FsTimes,
    pub media_type: String,
    pub method: Option<String>,
    pub note: Option<String>,
    pub original_name: String,
    pub original_path: String,
    pub size: u64,
    pub source: Option<String>,
}

/// `details` of a `trust.added` entry: certificates added to one of the vault's trust
/// files (`keys/tsa-roots.pem`, `keys/c2pa-anchors.pem`). The ledger, not the file, says
/// whom the vault trusts: a certificate is trusted only once such an entry holds it.
/// Members in lexicographic order (formats.md §3.1).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TrustAddedDetails {
    pub certificates: Vec<TrustedCertificate>,
    /// The trust file's name in `keys/`.
    pub file: String,
}

/// One certificate of a `trust.added` entry.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TrustedCertificate {
    /// The certificate's DER, base64 (RFC 4648, with padding).
    pub der: String,
    /// SHA-256 of the DER.
    pub sha256: crate::Digest,
    /// RFC 4514 subject, for readers of the ledger.
    pub subject: String,
}

/// `details` of a `trust.removed` entry: certificates of one trust file the vault no
/// longer trusts, from this entry on. Members in lexicographic order.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TrustRemovedDetails {
    pub certificates: Vec<RemovedCertificate>,
    /// The trust file's name in `keys/`.
    pub file: String,
    /// Why, in the words of whoever removed them.
    pub reason: Option<String>,
}

/// One certificate of a `trust.removed` entry.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct RemovedCertificate {
    /// SHA-256 of the DER.
    pub sha256: crate::Digest,
    /// RFC 4514 subject, for readers of the ledger.
    pub subject: String,
}
