//! Custody's use cases. This is the only crate that joins the adapters (ledger, blob
//! store, catalog) together; the command line and the HTTP API call into it.

pub mod config;
pub mod error;
pub mod ingest;
pub mod lock;
pub mod media;
pub mod projection;
pub mod vault;

pub use error::{AppError, Result};
pub use vault::{Mode, Vault};
pub mod anchors;
pub mod cases;
pub mod catalog;
pub mod clocks;
pub mod credentials;
pub mod demo;
pub mod export;
pub mod extract;
pub mod geo;
pub mod import;
pub mod items;
pub mod log;
pub mod package;
pub mod redact;
pub mod rehash;
pub mod report;
pub mod sealed;
pub mod similar;
pub mod timestamps;
pub mod verify;
