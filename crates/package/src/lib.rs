//! BagIt 1.0 (RFC 8493) packages: how Custody hands evidence to others, and how it checks
//! what it receives.
//!
//! - [`BagWriter`] builds a bag in a staging directory from streamed payload files and
//!   caller-supplied tag files, computing SHA-256 and SHA-512 in one read, two files at a
//!   time, and moves it into place only when everything is durable.
//! - [`validate`] checks a bag strictly against RFC 8493 and returns a
//!   [`ValidationReport`] whose problems each name the file and line. It writes nothing.
//!   A [`TagCheck`] adds profile-specific checks.
//! - [`safe_payload_path`] and [`PathNamer`] turn original file names into payload paths
//!   that every receiving tool reads back the same way.
//!
//! The crate knows nothing about vaults or ledgers: a profile (which tag files a Custody
//! export carries, what they must contain) is layered on top through
//! [`BagWriter::add_tag_file`] and [`TagCheck`]. The generic rules, and where this
//! validator is stricter than bagit-python, are written down in
//! `docs/design/bagit-profile.md`.

mod algorithm;
mod direct;
pub mod error;
mod info;
pub mod path;
mod stream;
mod text;
pub mod validate;
pub mod writer;

pub use algorithm::Algorithm;
pub use error::{PackageError, Result};
pub use info::{BagDate, BagInfo};
pub use path::{PathNamer, safe_payload_path};
pub use stream::default_workers;
pub use validate::{
    CheckedBag, Problem, ProblemKind, TagCheck, ValidateOptions, ValidationReport, validate,
};
pub use writer::{BAGIT_TXT, BagSummary, BagWriter, Payload, PayloadEntry, Progress, TagEntry};
