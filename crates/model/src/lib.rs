//! Custody's domain: the types every other crate speaks, and the rules that need no I/O.
//!
//! Nothing here touches a disk, a network or a database. Digests, identifiers, timestamps
//! and the custody events written to the ledger are plain values with their invariants
//! checked at construction, so the adapters can trust what they receive.

pub mod digest;
pub mod event;
pub mod id;
pub mod item;
pub mod timestamp;

pub use digest::{Digest, DigestParseError, Sha256};
pub use event::{
    Action, CollectedDetails, FsTimes, RemovedCertificate, TrustAddedDetails, TrustRemovedDetails,
    TrustedCertificate,
};
pub use id::{ItemId, ItemIdParseError};
pub use item::Item;
pub use timestamp::Timestamp;
