//! Errors of this crate. Each message says what went wrong and, where there is one, what
//! to do about it.
//!
//! Obtaining a token from a TSA fails with a [`TsaError`], which always names the TSA's
//! URL, so that a caller trying several TSAs in turn can report each one's failure.
//! Reading a stored token or certificate fails with a [`TokenError`]. A token that parses
//! but does not verify is not an error: [`crate::verify()`] returns a report saying why.

use std::path::PathBuf;
use std::time::Duration;

/// Obtaining a time-stamp token from one TSA failed.
#[derive(Debug, thiserror::Error)]
#[error("TSA {url}: {kind}")]
pub struct TsaError {
    /// The TSA URL as the caller gave it.
    pub url: String,
    /// What went wrong.
    pub kind: TsaErrorKind,
}

/// What went wrong when asking one TSA for a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsaErrorKind {
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    #[error(
        "https:// URLs are not supported; use the TSA's http:// URL (the token is signed, \
         so it needs no transport security)"
    )]
    HttpsNotSupported,
    #[error("cannot resolve host {host}: {source}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no complete answer within {after:?} (while {stage}); the TSA may be down or slow")]
    Timeout {
        after: Duration,
        stage: &'static str,
    },
    #[error("connection failed while {stage}: {source}")]
    Io {
        stage: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("the answer is not valid HTTP/1.x: {0}")]
    MalformedHttp(String),
    #[error("HTTP status {status} {reason}{excerpt}; check the TSA URL")]
    HttpStatus {
        status: u16,
        reason: String,
        /// The start of the body, when it is text, prefixed with `: `.
        excerpt: String,
    },
    #[error("the answer is larger than {limit} bytes, far more than a time-stamp response")]
    TooLarge { limit: usize },
    #[error("the answer is not a TimeStampResp (Content-Type: {content_type}): {reason}")]
    NotTimeStampResp {
        content_type: String,
        reason: String,
    },
    #[error("the TSA refused the request: status {status}{fail_info}{text}")]
    Rejected {
        /// `rejection`, `waiting`, … or the number of an unknown status.
        status: String,
        /// `, failInfo badAlg, unacceptedPolicy` or empty.
        fail_info: String,
        /// `, text "…"` or empty.
        text: String,
    },
    #[error("status {status} but the response carries no token")]
    NoToken { status: String },
    #[error("the token in the response is malformed: {0}")]
    BadToken(#[from] TokenError),
    #[error("the token's message imprint {got} is not the digest {sent} that was sent")]
    ImprintMismatch { sent: String, got: String },
    #[error("the token's nonce {got} is not the nonce {sent} that was sent (a replayed answer?)")]
    NonceMismatch { sent: String, got: String },
    #[error(
        "the token carries no certificate although the request asked for one (certReq); \
         it could not be verified without obtaining the TSA certificate separately"
    )]
    NoCertificate,
    #[error("the system random number generator failed: {0}")]
    Random(String),
}

/// A stored token, certificate or trust-anchor file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("not a time-stamp token: {0}")]
    Malformed(String),
    #[error("{what}: not a valid X.509 certificate: {reason}")]
    Certificate { what: String, reason: String },
    #[error("{0} holds no certificate; expected PEM blocks \"BEGIN CERTIFICATE\" or DER")]
    NoCertificates(String),
}

impl TokenError {
    pub(crate) fn malformed(context: &str, err: impl std::fmt::Display) -> Self {
        Self::Malformed(format!("{context}: {err}"))
    }
}

/// A file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}
