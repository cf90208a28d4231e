//! The catalog: the SQL view of a vault that answers "what is here" quickly.
//!
//! The catalog is a projection of the custody ledger. It is written only by applying
//! [`Change`]s derived from ledger entries, in the same transaction that records the last
//! applied entry, so it can always be brought up to date by replaying the ledger and
//! checked by replaying it into an empty catalog ([`Catalog::dump`]).
//!
//! Backends: [`SqliteCatalog`] (embedded default). SQL is kept per dialect, with
//! migrations under `migrations/<dialect>/`.

mod batch;
pub mod cases;
pub mod error;
pub mod sqlite;

use async_trait::async_trait;
use custody_model::{Digest, Item, ItemId};

pub use cases::{CaseCatalog, CaseChange, CaseEventRow, CaseRow, SealedReadRow, SealedRecordRow};
pub use error::{CatalogError, Result};
pub use sqlite::SqliteCatalog;

/// The seven hashes a picture would have if mirrored or turned by quarter turns, in the
/// order custody-similar's `Turn::ALL` gives (stored as 56 bytes, big-endian).
pub type TurnedHashes = [u64; 7];

/// One ledger entry as the catalog indexes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    pub seq: u64,
    pub time: String,
    pub actor: String,
    pub action: String,
    pub item: Option<ItemId>,
    pub sha256: Option<Digest>,
}

/// A change to the catalog, derived from one ledger entry.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// Every entry is indexed for history queries.
    Event(EventRow),
    /// An `item.collected` entry.
    InsertItem(Box<Item>),
    /// An `item.annotated` entry.
    Annotate {
        seq: u64,
        item: ItemId,
        note: String,
    },
    /// A `metadata.extracted` entry.
    Metadata(Box<MetadataRow>),
    /// The perceptual hash recorded with a `metadata.extracted` entry, with the hashes
    /// the picture would have turned when the entry records them.
    Phash {
        sha256: Digest,
        algorithm: String,
        hash: u64,
        turned: Option<TurnedHashes>,
        seq: u64,
    },
    /// A `metadata.extracted` entry that could not hash the image: the bytes' hash of
    /// that algorithm, if an earlier extraction recorded one, is removed.
    PhashCleared { sha256: Digest, algorithm: String },
    /// The keyframe hashes of a video recorded with a `metadata.extracted` entry: they
    /// replace every row of these bytes and algorithm (an extraction that could not hash
    /// the video has no frames, and leaves none).
    Keyframes {
        sha256: Digest,
        algorithm: String,
        /// (presentation time in milliseconds from the track's start, hash, turned
        /// hashes when recorded), in the order the frames are shown.
        frames: Vec<(u64, u64, Option<TurnedHashes>)>,
        seq: u64,
    },
    /// Case events and the sealed store (see [`cases`]).
    Case(CaseChange),
}

/// Metadata extracted from some bytes by one extractor version.
#[derive(Clone, Debug, PartialEq)]
pub struct MetadataRow {
    pub sha256: Digest,
    pub extractor: String,
    pub version: String,
    pub ledger_seq: u64,
    /// The extractor's record, as JSON text.
    pub record: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// Which items to list.
#[derive(Clone, Debug, Default)]
pub struct ItemFilter {
    pub case: Option<String>,
    pub sha256: Option<Digest>,
    pub limit: Option<u64>,
}

/// One row of a projected table in a canonical textual form, for comparing catalogs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DumpRow {
    pub table: &'static str,
    pub key: String,
    pub row: String,
}

#[async_trait]
pub trait Catalog: CaseCatalog + Send + Sync {
    /// The last ledger entry applied, or `None` when none has been.
    async fn applied_seq(&self) -> Result<Option<u64>>;

    /// Applies changes and records `last_seq` as applied, in one transaction.
    async fn apply(&self, changes: &[Change], last_seq: u64) -> Result<()>;

    async fn item(&self, id: ItemId) -> Result<Option<Item>>;

    /// Items whose SHA-256 starts with `hex_prefix` (at least 4 hex digits).
    async fn items_by_sha256_prefix(&self, hex_prefix: &str) -> Result<Vec<Item>>;

    async fn items(&self, filter: &ItemFilter) -> Result<Vec<Item>>;

    /// The highest item number so far (0 when there are none).
    async fn max_item_number(&self) -> Result<u64>;

    /// Ledger entries that concern an item or its bytes, oldest first.
    async fn history(&self, item: ItemId, sha256: &Digest) -> Result<Vec<EventRow>>;

    /// The newest metadata record of some bytes by `extractor` (any version), if any.
    async fn metadata(&self, sha256: &Digest, extractor: &str) -> Result<Option<MetadataRow>>;

    /// Whether a record of exactly this extractor version exists for these bytes.
    async fn has_metadata(&self, sha256: &Digest, extractor: &str, version: &str) -> Result<bool>;

    /// Every perceptual hash of `algorithm`: (bytes, hash, turned hashes when recorded
    /// and `turned` asks for them), ordered by bytes. Without `turned` none are read,
    /// which spares their memory where they are not wanted.
    async fn phashes(
        &self,
        algorithm: &str,
        turned: bool,
    ) -> Result<Vec<(Digest, u64, Option<TurnedHashes>)>>;

    /// Every video keyframe hash of `algorithm`: (bytes, milliseconds from the track's
    /// start, hash, turned hashes when recorded and `turned` asks for them), ordered by
    /// bytes then time.
    async fn keyframe_hashes(
        &self,
        algorithm: &str,
        turned: bool,
    ) -> Result<Vec<(Digest, u64, u64, Option<TurnedHashes>)>>;

    /// Ledger entries of one action, oldest first.
    async fn events_by_action(&self, action: &str) -> Result<Vec<EventRow>>;

    /// Notes added to an item after collection, oldest first: (ledger seq, note).
    async fn annotations(&self, item: ItemId) -> Result<Vec<(u64, String)>>;

    /// Counts: (items, distinct blobs, total bytes of distinct blobs).
    async fn totals(&self) -> Result<(u64, u64, u64)>;

    /// Every projected row, sorted, in canonical form.
    async fn dump(&self) -> Result<Vec<DumpRow>>;

    /// Closes connections cleanly.
    async fn close(&self);
}
