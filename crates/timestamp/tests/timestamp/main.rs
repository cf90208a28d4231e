//! Integration tests of custody-timestamp against a real TSA (`openssl ts -reply` behind a
//! loopback HTTP server) and a real verifier (`openssl ts -verify`). Every certificate is
//! made by openssl in a temporary directory; nothing leaves 127.0.0.1.

mod chains;
mod client_errors;
mod stamping;
mod verifying;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use custody_timestamp::{CheckKind, Outcome, Verification};
use sha2::Digest;

use custody_testkit::pki::{self, DAY, Eku, Issued, Key, Pki};
use custody_testkit::tsa::{OpensslTsa, Server, TsaConfig};

/// Returns early, saying why, when openssl is not installed.
#[macro_export]
macro_rules! need_openssl {
    () => {
        if !$crate::pki::openssl_available() {
            eprintln!("skipped: openssl not found on PATH (Debian package: openssl)");
            return;
        }
    };
}

pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Synthetic data to stamp: a ledger checkpoint of a test vault.
pub const CHECKPOINT: &[u8] =
    b"custody/test-unit/6f0c3e5d\n42\nyd7ZpXkFq7zhHBs4xZsz7QX/dkA6mYQ7fvHRqyBvS0w=\n";

pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

/// A root, an intermediate and a TSA certificate, and the TSA answering over HTTP.
pub struct Fixture {
    pub pki: Pki,
    pub root: Issued,
    pub intermediate: Issued,
    pub tsa_cert: Issued,
    pub tsa: Arc<OpensslTsa>,
    pub server: Server,
}

impl Fixture {
    /// RSA root and intermediate; the TSA key of kind `key`, valid from yesterday for a
    /// year, and the intermediate included in replies.
    pub fn new(key: Key, config: TsaConfig) -> Self {
        let now = SystemTime::now();
        Self::with_validity(key, config, now - DAY, now + 365 * DAY)
    }

    pub fn with_validity(
        key: Key,
        config: TsaConfig,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Self {
        let pki = Pki::new();
        let root = pki.root(Key::Rsa2048, "Test Root CA");
        let intermediate = pki.intermediate(&root, Key::Rsa2048, "Test TSA Issuing CA");
        let tsa_cert = pki.tsa(
            &intermediate,
            key,
            "Test TSA",
            Eku::CriticalTimeStamping,
            not_before,
            not_after,
        );
        let tsa = OpensslTsa::new(&pki, &tsa_cert, &[&intermediate], &config);
        let server = Server::start(tsa.handler());
        Self {
            pki,
            root,
            intermediate,
            tsa_cert,
            tsa,
            server,
        }
    }

    pub fn trust(&self) -> custody_timestamp::TrustAnchors {
        custody_timestamp::TrustAnchors::from_pem(&std::fs::read(&self.root.cert).unwrap()).unwrap()
    }

    /// Stamps CHECKPOINT through the HTTP server.
    pub fn stamp(&self) -> custody_timestamp::Stamp {
        custody_timestamp::stamp(&self.server.url, &sha256(CHECKPOINT), TIMEOUT)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs `openssl ts -verify` on a token (DER ContentInfo) against CHECKPOINT, the root
    /// as -CAfile and the TSA certificate and intermediate as -untrusted.
    pub fn openssl_verify(&self, token: &[u8], attime: Option<u64>) -> (bool, String) {
        let token_path = self.pki.write(&format!("v-{}.tst", unique()), token);
        let data = self.pki.write("checkpoint", CHECKPOINT);
        let untrusted = self
            .pki
            .bundle("untrusted.pem", &[&self.tsa_cert, &self.intermediate]);
        openssl_ts_verify(
            self.pki.path(),
            &data,
            &token_path,
            true,
            &self.root.cert,
            Some(&untrusted),
            attime,
        )
    }
}

pub fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// `openssl ts -verify -data DATA -in TOKEN [-token_in] -CAfile CA [-untrusted U]
/// [-attime T]`.
pub fn openssl_ts_verify(
    dir: &Path,
    data: &Path,
    token: &Path,
    token_in: bool,
    ca: &Path,
    untrusted: Option<&PathBuf>,
    attime: Option<u64>,
) -> (bool, String) {
    let mut args: Vec<String> = vec![
        "ts".into(),
        "-verify".into(),
        "-data".into(),
        data.display().to_string(),
        "-in".into(),
        token.display().to_string(),
        "-CAfile".into(),
        ca.display().to_string(),
    ];
    if token_in {
        args.push("-token_in".into());
    }
    if let Some(u) = untrusted {
        args.push("-untrusted".into());
        args.push(u.display().to_string());
    }
    if let Some(t) = attime {
        args.push("-attime".into());
        args.push(t.to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, text) = pki::openssl_status(dir, &refs);
    // openssl ts -verify prints "Verification: OK" on success.
    (ok && text.contains("Verification: OK"), text)
}

/// The kinds of the failed checks, in report order.
pub fn failed(v: &Verification) -> Vec<CheckKind> {
    v.checks
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| c.check)
        .collect()
}

pub fn unix(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
}
