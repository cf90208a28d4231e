//! Trusted timestamps for Custody: RFC 3161 time-stamp tokens that prove a piece of data
//! (a signed ledger checkpoint) existed at a given time, attested by one or more Time
//! Stamping Authorities (TSAs) independent of the vault.
//!
//! - [`request`]: the `TimeStampReq` (SHA-256 imprint, random nonce, `certReq`).
//! - [`client`]: asking a TSA over plain HTTP and checking the reply against the request
//!   ([`stamp`], [`check_response`]).
//! - [`token`]: reading a stored token ([`parse_token`], [`TokenInfo`]).
//! - [`verify`](mod@verify): verifying a token against data and trusted roots at its
//!   genTime ([`verify()`], [`verify_data`], [`TrustAnchors`], [`Verification`]).
//! - [`store`]: the storage form: raw DER, PEM certificates, a JSON summary.
//! - [`asn1`]: the RFC 3161 / RFC 5035 structures.
//!
//! Storage and verification rules are fixed in `docs/design/timestamps.md`. Every token
//! this crate accepts also verifies with `openssl ts -verify`; the tests check that
//! against the real openssl binary and a real `openssl ts -reply` TSA.
//!
//! ```no_run
//! use std::time::{Duration, SystemTime};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let digest = [0u8; 32]; // SHA-256 of the checkpoint bytes
//! let stamp = custody_timestamp::stamp("http://tsa.example.org/", &digest, Duration::from_secs(30))?;
//! let roots = custody_timestamp::TrustAnchors::from_pem(&std::fs::read("tsa-roots.pem")?)?;
//! let report = custody_timestamp::verify(&stamp.token_der, &digest, &roots, &[], SystemTime::now());
//! assert!(report.is_valid(), "{report}");
//! # Ok(()) }
//! ```

pub mod asn1;
pub mod client;
mod crypto;
pub mod error;
mod http;
pub mod request;
pub mod store;
pub mod token;
pub mod verify;

pub use client::{
    QUERY_CONTENT_TYPE, REPLY_CONTENT_TYPE, Stamp, StampOptions, check_response, stamp, stamp_with,
};
pub use error::{TokenError, TsaError, TsaErrorKind, WriteError};
pub use request::{Nonce, request_der};
pub use store::{StampFiles, certificates_pem, write_file};
pub use token::{AccuracyInfo, HashAlg, TokenInfo, parse_token, token_from_stored};
pub use verify::{
    CertificateFacts, CertificateReport, Check, CheckKind, CheckedChain, Outcome, Status,
    TrustAnchors, Verification, certificate_facts, certificates_from_pem, cms_signing_time,
    pem_certificate_blocks, verify, verify_chain, verify_data, verify_digest,
    verify_signer_profile,
};
