//! The case model of Custody: incidents, remains and forensic records, testimony with
//! protected witnesses, claims checked against evidence, the element-of-crime matrix,
//! and the case exchange formats. Pure domain logic: no I/O, no async, no SQL.
//!
//! The model is event-sourced. A [`Case`] is built by applying [`Event`]s in order
//! ([`Case::apply`], [`Case::replay`]); a user's [`Command`] is validated against the
//! current state by [`handle`], which returns the events that carry it out (to be
//! written to the custody ledger, then applied) or a [`CaseError`] saying what is wrong
//! or missing. Everything a case holds therefore lives in the ledger, and the catalog
//! can be rebuilt from it.
//!
//! - [`when`], [`geo`]: times as intervals and places as areas, each with a basis.
//! - [`evidence`]: evidence records and observations (what an item shows, kept apart
//!   from its interpretation); capture times from candidate clocks.
//! - [`incident`], [`crimes`], [`matrix`]: incidents, candidate crimes, their legal
//!   elements and the element-to-evidence matrix.
//! - [`forensic`]: remains, forensic records, the guarded status workflow, counts.
//! - [`witness`]: pseudonymous witnesses, consent, testimony, sealed identities.
//! - [`context`]: who controlled a place when, with fuzzy bounds.
//! - [`claims`]: claims and the check of each claim against the evidence.
//! - [`exchange`]: the case JSON format and the remains and evidence CSV formats.
//! - [`demo`]: the synthetic demonstration case.
//! - [`render`]: plain-text reports that never include sealed data.
//!
//! The model and its formats are described in `docs/design/case-model.md`, the claim
//! check rules in `docs/design/claim-checks.md`.

pub mod case;
pub mod claims;
pub mod command;
pub mod context;
pub mod crimes;
pub mod demo;
pub mod error;
pub mod event;
pub mod evidence;
pub mod exchange;
pub mod forensic;
pub mod geo;
pub mod ids;
pub mod incident;
pub mod matrix;
pub mod render;
pub mod when;
pub mod witness;

pub use case::Case;
pub use command::{Command, handle, open};
pub use error::CaseError;
pub use event::{CaseEvent, EVENT_VERSION, Event};
