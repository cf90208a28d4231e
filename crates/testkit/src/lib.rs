//! Shared test support: conformance suites that every backend of a trait must pass, and
//! fixtures. A dev-dependency only; nothing here ships in the binary.

pub mod blobs;
#[cfg(feature = "c2pa")]
pub mod c2pa;
pub mod data;
pub mod media;
pub mod pki;
pub mod tsa;
