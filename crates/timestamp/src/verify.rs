//! Verifying a stored token against data and a set of trusted roots, at the token's own
//! time.
//!
//! Owns [`verify`], [`verify_data`], [`TrustAnchors`] and the [`Verification`] report.
//! The rules are those of `docs/design/timestamps.md` §4: every check is listed in the
//! report with its outcome and a sentence a court can read, and the overall status says
//! whether the token is valid now, was valid when issued but a certificate has expired
//! since, or is invalid, and why.
//!
//! Certificates are judged at the token's `genTime` (the chain model): a token issued
//! while the TSA certificate was valid stays valid after that certificate expires. What
//! this cannot tell is whether the TSA key was compromised before `genTime`; revocation
//! is not checked and the report says so.

use std::fmt;
use std::time::{Duration, SystemTime};

use cms::signed_data::SignerIdentifier;
use der::asn1::OctetString;
use der::oid::ObjectIdentifier;
use der::{DateTime, Encode};
use serde::Serialize;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::time::Time;

use crate::asn1::{IssuerSerial, SigningCertificate, SigningCertificateV2, oid, rfc3339};
use crate::crypto;
use crate::error::TokenError;
use crate::token::{CertBytes, HashAlg, ParsedToken, TokenInfo, alg_name, children};

/// A `genTime` this far after the evaluation time is still accepted (clock skew).
pub const FUTURE_SKEW: Duration = Duration::from_secs(300);

/// Longest certificate chain followed, TSA certificate and root included.
const MAX_CHAIN: usize = 8;

/// The root certificates a verifier trusts for time-stamping.
#[derive(Clone, Debug, Default)]
pub struct TrustAnchors {
    roots: Vec<CertBytes>,
}

impl TrustAnchors {
    /// No roots: every chain fails until one is added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Roots from PEM text holding one or more `CERTIFICATE` blocks.
    pub fn from_pem(pem: &[u8]) -> Result<Self, TokenError> {
        let mut anchors = Self::new();
        for der in certificates_from_pem(pem, "trust anchors")? {
            anchors.add_der(&der)?;
        }
        Ok(anchors)
    }

    /// One root from DER.
    pub fn from_der(der: &[u8]) -> Result<Self, TokenError> {
        let mut anchors = Self::new();
        anchors.add_der(der)?;
        Ok(anchors)
    }

    /// Adds one root from DER.
    pub fn add_der(&mut self, der: &[u8]) -> Result<(), TokenError> {
        let cert = CertBytes::parse(der, &format!("trust anchor {}", self.roots.len() + 1))?;
        if !self.roots.iter().any(|r| r.der == cert.der) {
            self.roots.push(cert);
        }
        Ok(())
    }

    /// The number of roots.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// Whether there are no roots.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// The roots' subjects, RFC 4514 text.
    pub fn subjects(&self) -> Vec<String> {
        self.roots.iter().map(CertBytes::subject).collect()
    }
}

/// What a certificate says of itself, for showing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateFacts {
    /// RFC 4514 text.
    pub subject: String,
    /// RFC 4514 text.
    pub issuer: String,
    /// Whether it may issue certificates (basicConstraints cA).
    pub is_ca: bool,
    /// When it stops being valid (notAfter).
    pub not_after: SystemTime,
}

/// The facts of a DER certificate; `None` when it does not parse.
pub fn certificate_facts(der: &[u8]) -> Option<CertificateFacts> {
    let c = CertBytes::parse(der, "certificate").ok()?;
    let tbs = c.cert.tbs_certificate();
    Some(CertificateFacts {
        subject: c.subject(),
        issuer: tbs.issuer().to_string(),
        is_ca: matches!(tbs.get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca),
        not_after: tbs.validity().not_after.to_system_time(),
    })
}

/// The contents of each `CERTIFICATE` block of PEM text, base64-decoded but not parsed
/// as certificates: the bytes as another reader had them, whether or not this crate
/// can read them. An unterminated block or bad base64 is an error in its place.
pub fn pem_certificate_blocks(pem: &[u8]) -> Vec<Result<Vec<u8>, String>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let text = String::from_utf8_lossy(pem);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start..];
        let Some(end) = after.find(END) else {
            out.push(Err("no END CERTIFICATE line".into()));
            break;
        };
        let block = &after[..end + END.len()];
        out.push(
            der::pem::decode_vec(block.as_bytes())
                .map(|(_, der)| der)
                .map_err(|e| format!("bad PEM: {e}")),
        );
        rest = &after[end + END.len()..];
    }
    out
}

/// The DER of every `CERTIFICATE` block in PEM text. `what` names the input in errors.
pub fn certificates_from_pem(pem: &[u8], what: &str) -> Result<Vec<Vec<u8>>, TokenError> {
    let mut out = Vec::new();
    for (i, block) in pem_certificate_blocks(pem).into_iter().enumerate() {
        let what = format!("{what}, block {}", i + 1);
        let der = block.map_err(|reason| TokenError::Certificate {
            what: what.clone(),
            reason,
        })?;
        CertBytes::parse(&der, &what)?;
        out.push(der);
    }
    if out.is_empty() {
        // One certificate in DER, as `openssl x509 -outform DER` writes it (a line break
        // an editor or a transfer added after it is left out).
        if let Some(der) = one_der(pem)
            && CertBytes::parse(der, what).is_ok()
        {
            return Ok(vec![der.to_vec()]);
        }
        return Err(TokenError::NoCertificates(what.to_owned()));
    }
    Ok(out)
}

/// The DER SEQUENCE `bytes` begins with, when nothing but ASCII whitespace follows it.
fn one_der(bytes: &[u8]) -> Option<&[u8]> {
    if bytes.first() != Some(&0x30) {
        return None;
    }
    let first = *bytes.get(1)?;
    let (header, len) = if first < 0x80 {
        (2, first as usize)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let len = bytes
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (2 + n, len)
    };
    let end = header.checked_add(len)?;
    let (der, rest) = (bytes.get(..end)?, &bytes[end..]);
    rest.iter().all(u8::is_ascii_whitespace).then_some(der)
}

/// What a check concluded.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    /// The token is invalid.
    Fail,
    /// Worth telling, but the token stays valid (a certificate expired after genTime).
    Warn,
    /// Not examined by this verifier; the message says what that leaves open.
    NotChecked,
}

/// The checks [`verify`] performs, in the order it reports them.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CheckKind {
    /// The bytes are a CMS SignedData holding a TSTInfo with one signer.
    Structure,
    /// The token's message imprint is the hash of the data.
    MessageImprint,
    /// The signed content-type attribute names id-ct-TSTInfo.
    ContentType,
    /// The signed message-digest attribute is the digest of the TSTInfo.
    MessageDigest,
    /// The signer's certificate is at hand (token, extra certificates or roots).
    SignerCertificate,
    /// The signature over the signed attributes verifies with that certificate's key.
    Signature,
    /// The ESS signing-certificate attribute identifies that certificate.
    SigningCertificateAttribute,
    /// The certificate is a time-stamping certificate (RFC 3161 §2.3).
    TsaCertificateUsage,
    /// The token's `tsa` name, when given, is the certificate's.
    TsaName,
    /// The certificate chains to a trusted root.
    Chain,
    /// Every certificate of the chain was within its validity period at genTime.
    ValidityAtGenTime,
    /// genTime is not after the evaluation time.
    GenTimeNotInFuture,
    /// Every certificate of the chain is within its validity period now.
    ValidityNow,
    /// Revocation status of the certificates.
    Revocation,
}

impl CheckKind {
    fn label(self) -> &'static str {
        match self {
            Self::Structure => "structure",
            Self::MessageImprint => "message imprint",
            Self::ContentType => "content type",
            Self::MessageDigest => "message digest",
            Self::SignerCertificate => "signer certificate",
            Self::Signature => "signature",
            Self::SigningCertificateAttribute => "signing-certificate attribute",
            Self::TsaCertificateUsage => "TSA certificate usage",
            Self::TsaName => "TSA name",
            Self::Chain => "chain",
            Self::ValidityAtGenTime => "validity at genTime",
            Self::GenTimeNotInFuture => "genTime not in the future",
            Self::ValidityNow => "validity now",
            Self::Revocation => "revocation",
        }
    }
}

/// One check and what it found.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub check: CheckKind,
    pub outcome: Outcome,
    /// A full sentence saying what was found.
    pub message: String,
}

/// The overall verdict.
#[derive(Clone, Debug, Eq, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Every check passed and every certificate of the chain is valid at the evaluation
    /// time too.
    ValidNow,
    /// Every check passed at genTime, but a certificate of the chain is no longer valid
    /// at the evaluation time (it expired after the token was issued).
    ValidAtGenTime {
        /// Which certificate, and since when: "… valid then, expired since YYYY-MM-DD".
        note: String,
    },
    /// The token does not prove that the data existed at genTime.
    Invalid {
        /// The first failed check's message.
        reason: String,
    },
}

/// A certificate of the chain as the report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct CertificateReport {
    pub subject: String,
    pub issuer: String,
    /// Lowercase hex.
    pub serial_number: String,
    /// RFC 3339.
    pub not_before: String,
    /// RFC 3339.
    pub not_after: String,
    /// `tsa`, `intermediate` or `root`.
    pub role: &'static str,
    /// Whether it is one of the configured trust anchors.
    pub trust_anchor: bool,
    pub valid_at_gen_time: bool,
    pub valid_now: bool,
}

/// The result of [`verify`].
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    pub status: Status,
    /// RFC 3339 of the evaluation time ("now").
    pub evaluated_at: String,
    pub checks: Vec<Check>,
    /// The token's summary, when it could be read.
    pub info: Option<TokenInfo>,
    /// The chain found, TSA certificate first, as far as it could be built.
    pub chain: Vec<CertificateReport>,
}

impl Verification {
    /// Whether the token proves the data existed at genTime (now or at genTime valid).
    pub fn is_valid(&self) -> bool {
        !matches!(self.status, Status::Invalid { .. })
    }

    /// The check of a kind, if it was reached.
    pub fn check(&self, kind: CheckKind) -> Option<&Check> {
        self.checks.iter().find(|c| c.check == kind)
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.outcome == Outcome::Fail)
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.status {
            Status::ValidNow => writeln!(f, "VALID: the token is valid, and so is its chain now")?,
            Status::ValidAtGenTime { note } => writeln!(
                f,
                "VALID AT genTime: the token was valid when issued; {note}"
            )?,
            Status::Invalid { reason } => writeln!(f, "INVALID: {reason}")?,
        }
        if let Some(info) = &self.info {
            writeln!(
                f,
                "genTime {}  serial {}  policy {}  imprint {}:{}",
                info.gen_time.to_rfc3339(),
                info.serial_number,
                info.policy,
                info.hash_algorithm,
                info.message_imprint
            )?;
        }
        writeln!(f, "evaluated at {}", self.evaluated_at)?;
        for check in &self.checks {
            let tag = match check.outcome {
                Outcome::Pass => "pass",
                Outcome::Fail => "FAIL",
                Outcome::Warn => "warn",
                Outcome::NotChecked => "not checked",
            };
            writeln!(f, "[{tag}] {}: {}", check.check.label(), check.message)?;
        }
        for cert in &self.chain {
            writeln!(
                f,
                "{} {}{}: {} .. {}, serial {}",
                cert.role,
                cert.subject,
                if cert.trust_anchor { " (trusted)" } else { "" },
                cert.not_before,
                cert.not_after,
                cert.serial_number
            )?;
        }
        Ok(())
    }
}

/// Verifies `token_der` (a DER `ContentInfo`) as a time-stamp of data whose SHA-256 is
/// `data_digest`, with certificates from the token plus `extra_certs` (DER), chaining to
/// `trust`, evaluated at the token's genTime; `now` is the evaluation time that decides
/// between [`Status::ValidNow`] and [`Status::ValidAtGenTime`] (pass
/// `SystemTime::now()`).
pub fn verify(
    token_der: &[u8],
    data_digest: &[u8; 32],
    trust: &TrustAnchors,
    extra_certs: &[Vec<u8>],
    now: SystemTime,
) -> Verification {
    verify_digest(
        token_der,
        HashAlg::Sha256,
        data_digest,
        trust,
        extra_certs,
        now,
    )
}

/// [`verify`] for the data itself: hashes `data` with the token's imprint algorithm
/// (SHA-256, SHA-384 or SHA-512), so tokens requested by other tools verify too.
pub fn verify_data(
    token_der: &[u8],
    data: &[u8],
    trust: &TrustAnchors,
    extra_certs: &[Vec<u8>],
    now: SystemTime,
) -> Verification {
    run(token_der, Expected::Data(data), trust, extra_certs, now)
}

/// [`verify`] for data known by its digest under `alg`, the algorithm the token's
/// imprint uses (a C2PA claim's time-stamp, whose stamped bytes are not kept).
pub fn verify_digest(
    token_der: &[u8],
    alg: HashAlg,
    digest: &[u8],
    trust: &TrustAnchors,
    extra_certs: &[Vec<u8>],
    now: SystemTime,
) -> Verification {
    run(
        token_der,
        Expected::Digest(alg, digest),
        trust,
        extra_certs,
        now,
    )
}

/// `anyExtendedKeyUsage` (RFC 5280 §4.2.1.12).
const ANY_EXTENDED_KEY_USAGE: &str = "2.5.29.37.0";

/// Checks a document signer's own certificate (C2PA 2.x §14.5.1, in part): not a CA;
/// version 3 with an authorityKeyIdentifier; keyUsage present, allowing digitalSignature
/// and not keyCertSign or cRLSign; extendedKeyUsage present, naming one of `purposes`
/// (dotted OIDs) and not anyExtendedKeyUsage; no critical extension this verifier does
/// not understand. Key sizes and curves are not checked here. Returns why when it does
/// not hold.
pub fn verify_signer_profile(der: &[u8], purposes: &[&str]) -> Result<(), String> {
    let leaf = CertBytes::parse(der, "the certificate").map_err(|e| e.to_string())?;
    check_signer_profile(&leaf, purposes)
}

fn check_signer_profile(leaf: &CertBytes, purposes: &[&str]) -> Result<(), String> {
    let tbs = leaf.cert.tbs_certificate();
    let who = leaf.subject();
    match tbs.get_extension::<BasicConstraints>() {
        Ok(Some((_, bc))) if bc.ca => {
            return Err(format!("{who} is a CA certificate, not a signer's"));
        }
        Err(e) => {
            return Err(format!(
                "{who} has a basicConstraints that cannot be read: {e}"
            ));
        }
        Ok(_) => {}
    }
    if tbs.version() != x509_cert::certificate::Version::V3 {
        return Err(format!("{who} is not an X.509 version 3 certificate"));
    }
    match tbs.get_extension::<AuthorityKeyIdentifier>() {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(format!(
                "{who} has no authorityKeyIdentifier, which a signer's must have"
            ));
        }
        Err(e) => {
            return Err(format!(
                "{who} has an authorityKeyIdentifier that cannot be read: {e}"
            ));
        }
    }
    match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) if ku.key_cert_sign() || ku.crl_sign() => {
            return Err(format!(
                "{who}'s keyUsage allows signing certificates or CRLs, which a signer's may not"
            ));
        }
        Ok(Some((_, ku))) if ku.digital_signature() => {}
        Ok(Some(_)) => return Err(format!("{who}'s keyUsage does not allow digitalSignature")),
        Ok(None) => return Err(format!("{who} has no keyUsage, which a signer's must have")),
        Err(e) => return Err(format!("{who} has a keyUsage that cannot be read: {e}")),
    }
    match tbs.get_extension::<ExtendedKeyUsage>() {
        Err(e) => return Err(format!("{who} has a malformed extendedKeyUsage: {e}")),
        Ok(None) => {
            return Err(format!(
                "{who} has no extendedKeyUsage, so it is not issued for this purpose"
            ));
        }
        Ok(Some((_, eku))) => {
            let held: Vec<String> = eku.0.iter().map(ToString::to_string).collect();
            if held.iter().any(|o| o == ANY_EXTENDED_KEY_USAGE) {
                return Err(format!(
                    "{who}'s extendedKeyUsage includes anyExtendedKeyUsage, which a signer's \
                     may not"
                ));
            }
            if !held.iter().any(|o| purposes.contains(&o.as_str())) {
                return Err(format!(
                    "{who}'s extendedKeyUsage ({}) names none of the purposes accepted here ({})",
                    held.join(", "),
                    purposes.join(", ")
                ));
            }
        }
    }
    check_constraints(&[leaf])
}

/// A certificate chain that [`verify_chain`] accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckedChain {
    /// Subjects, RFC 4514 text, from the certificate checked to the trusted root.
    pub subjects: Vec<String>,
}

impl CheckedChain {
    /// The trusted root the chain reached.
    pub fn root(&self) -> &str {
        self.subjects.last().map_or("", String::as_str)
    }
}

/// Checks a certificate other than a TSA's (a C2PA claim signer's, say) by the rules
/// tokens are checked by: a chain from `leaf` through `extra` (DER, any order) to one of
/// `roots`, each signature verifying, each issuer a CA allowed to sign certificates
/// (basicConstraints, pathLen, keyUsage), no critical extension left unread, every
/// certificate valid at `at` (named `at_label` in errors: "the claim's time-stamp").
/// The leaf must pass [`verify_signer_profile`] for `purposes` (dotted OIDs). Returns
/// why when it does not hold.
pub fn verify_chain(
    leaf: &[u8],
    extra: &[Vec<u8>],
    roots: &TrustAnchors,
    (at, at_label): (SystemTime, &str),
    purposes: &[&str],
) -> Result<CheckedChain, String> {
    let leaf = CertBytes::parse(leaf, "the certificate").map_err(|e| e.to_string())?;
    let pool: Vec<CertBytes> = extra
        .iter()
        .enumerate()
        .filter_map(|(i, der)| CertBytes::parse(der, &format!("certificate {}", i + 2)).ok())
        .collect();
    check_signer_profile(&leaf, purposes)?;
    if roots.is_empty() {
        return Err("no trusted root is configured".into());
    }
    let (chain, built) = build_chain(&leaf, &pool, &roots.roots);
    built?;
    let problems: Vec<String> = chain
        .iter()
        .filter_map(|c| validity_problem(&c.cert, at, at_label))
        .collect();
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(CheckedChain {
        subjects: chain.iter().map(|c| c.subject()).collect(),
    })
}

enum Expected<'a> {
    Digest(HashAlg, &'a [u8]),
    Data(&'a [u8]),
}

struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, check: CheckKind, outcome: Outcome, message: impl Into<String>) {
        self.checks.push(Check {
            check,
            outcome,
            message: message.into(),
        });
    }
    fn pass(&mut self, check: CheckKind, message: impl Into<String>) {
        self.add(check, Outcome::Pass, message);
    }
    fn fail(&mut self, check: CheckKind, message: impl Into<String>) {
        self.add(check, Outcome::Fail, message);
    }
}

fn run(
    token_der: &[u8],
    expected: Expected<'_>,
    trust: &TrustAnchors,
    extra_certs: &[Vec<u8>],
    now: SystemTime,
) -> Verification {
    let mut report = Report { checks: Vec::new() };
    let evaluated_at = system_time_text(now);
    let token = match ParsedToken::parse(token_der) {
        Ok(t) => t,
        Err(e) => {
            report.fail(CheckKind::Structure, e.to_string());
            return finish(report, evaluated_at, None, Vec::new());
        }
    };
    let mut structure = format!(
        "a CMS SignedData holding a version 1 TSTInfo, one signer and {} certificate(s)",
        token.certificates.len()
    );
    for problem in &token.unreadable_certificates {
        structure.push_str(&format!("; ignored: {problem}"));
    }
    report.pass(CheckKind::Structure, structure);

    check_imprint(&mut report, &token, expected);
    let digest_alg = check_signed_attributes(&mut report, &token);

    // The pool of certificates: the token's, the caller's, the roots.
    let mut pool: Vec<CertBytes> = token.certificates.clone();
    let mut ignored = String::new();
    for (i, der) in extra_certs.iter().enumerate() {
        match CertBytes::parse(der, &format!("extra certificate {}", i + 1)) {
            Ok(c) => pool.push(c),
            Err(e) => ignored.push_str(&format!("; ignored: {e}")),
        }
    }
    let signer = pool
        .iter()
        .chain(trust.roots.iter())
        .find(|c| is_signer(&token.signer.sid, &c.cert))
        .cloned();
    let Some(signer) = signer else {
        report.fail(
            CheckKind::SignerCertificate,
            format!(
                "no certificate matches the signer ({}) among the {} in the token, the extra \
                 certificates and the trust anchors; supply the TSA certificate",
                describe_sid(&token.signer.sid),
                token.certificates.len()
            ) + &ignored,
        );
        return finish(report, evaluated_at, Some(token.info), Vec::new());
    };
    report.pass(
        CheckKind::SignerCertificate,
        format!("the token was signed by {}{ignored}", signer.subject()),
    );

    check_signature(&mut report, &token, &signer, digest_alg);
    check_ess(&mut report, &token, &signer);
    check_tsa_usage(&mut report, &signer.cert);
    check_tsa_name(&mut report, &token, &signer.cert);

    let gen_time = token.tst.gen_time.to_system_time();
    let gen_text = token.tst.gen_time.to_rfc3339();
    let (chain, chain_result) = build_chain(&signer, &pool, &trust.roots);
    match chain_result {
        Ok(()) => report.pass(
            CheckKind::Chain,
            format!(
                "{}: each signature verifies, each issuer is a CA",
                chain
                    .iter()
                    .map(|c| c.subject())
                    .collect::<Vec<_>>()
                    .join(" ← ")
                    + " (trusted root)"
            ),
        ),
        Err(reason) => report.fail(CheckKind::Chain, reason),
    }

    // Validity at genTime, over the chain as far as it goes.
    let mut problems = Vec::new();
    for cert in &chain {
        if let Some(p) = validity_problem(&cert.cert, gen_time, "genTime") {
            problems.push(p);
        }
    }
    if problems.is_empty() {
        report.pass(
            CheckKind::ValidityAtGenTime,
            format!("every certificate of the chain was valid at genTime {gen_text}"),
        );
    } else {
        report.fail(CheckKind::ValidityAtGenTime, problems.join("; "));
    }

    if gen_time > now + FUTURE_SKEW {
        report.fail(
            CheckKind::GenTimeNotInFuture,
            format!(
                "genTime {gen_text} is later than the evaluation time {evaluated_at}: the TSA \
                 clock was wrong or the token is not genuine"
            ),
        );
    } else {
        report.pass(
            CheckKind::GenTimeNotInFuture,
            format!("genTime {gen_text} is not after the evaluation time {evaluated_at}"),
        );
    }

    // Validity now: expiry since genTime is a warning, not a failure.
    let mut since_then = Vec::new();
    for cert in &chain {
        let validity = cert.cert.tbs_certificate().validity();
        let not_after = validity.not_after.to_system_time();
        let not_before = validity.not_before.to_system_time();
        if now > not_after {
            let was_valid = not_before <= gen_time && gen_time <= not_after;
            since_then.push(format!(
                "{}: {}, expired since {}",
                cert.subject(),
                if was_valid {
                    "valid then"
                } else {
                    "not valid then"
                },
                date_text(&validity.not_after)
            ));
        } else if now < not_before {
            since_then.push(format!(
                "{}: not valid yet at the evaluation time (notBefore {})",
                cert.subject(),
                time_text(&validity.not_before)
            ));
        }
    }
    if since_then.is_empty() {
        report.pass(
            CheckKind::ValidityNow,
            format!("every certificate of the chain is also valid at {evaluated_at}"),
        );
    } else {
        report.add(CheckKind::ValidityNow, Outcome::Warn, since_then.join("; "));
    }

    report.add(
        CheckKind::Revocation,
        Outcome::NotChecked,
        "revocation was not checked (no CRL or OCSP is consulted): a TSA key revoked before \
         genTime would not be detected",
    );

    let chain_report = chain
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let v = c.cert.tbs_certificate().validity();
            let inside = |t: SystemTime| {
                v.not_before.to_system_time() <= t && t <= v.not_after.to_system_time()
            };
            let trust_anchor = trust.roots.iter().any(|r| r.der == c.der);
            CertificateReport {
                subject: c.subject(),
                issuer: c.cert.tbs_certificate().issuer().to_string(),
                serial_number: crate::token::int_hex_bytes(
                    c.cert.tbs_certificate().serial_number().as_bytes(),
                ),
                not_before: time_text(&v.not_before),
                not_after: time_text(&v.not_after),
                role: if i == 0 {
                    "tsa"
                } else if trust_anchor {
                    "root"
                } else {
                    "intermediate"
                },
                trust_anchor,
                valid_at_gen_time: inside(gen_time),
                valid_now: inside(now),
            }
        })
        .collect();
    finish(report, evaluated_at, Some(token.info), chain_report)
}

fn finish(
    report: Report,
    evaluated_at: String,
    info: Option<TokenInfo>,
    chain: Vec<CertificateReport>,
) -> Verification {
    let status = if let Some(fail) = report.checks.iter().find(|c| c.outcome == Outcome::Fail) {
        Status::Invalid {
            reason: format!("{}: {}", fail.check.label(), fail.message),
        }
    } else if let Some(warn) = report
        .checks
        .iter()
        .find(|c| c.check == CheckKind::ValidityNow && c.outcome == Outcome::Warn)
    {
        Status::ValidAtGenTime {
            note: warn.message.clone(),
        }
    } else {
        Status::ValidNow
    };
    Verification {
        status,
        evaluated_at,
        checks: report.checks,
        info,
        chain,
    }
}

fn check_imprint(report: &mut Report, token: &ParsedToken, expected: Expected<'_>) {
    let imprint = &token.tst.message_imprint;
    let got = imprint.hashed_message.as_bytes();
    let alg = HashAlg::from_oid(&imprint.hash_algorithm.oid);
    let (want_alg, want): (HashAlg, Vec<u8>) = match (expected, alg) {
        (_, None) | (_, Some(HashAlg::Sha1)) => {
            report.fail(
                CheckKind::MessageImprint,
                format!(
                    "the imprint uses {}, which is not accepted (SHA-256, SHA-384 or SHA-512)",
                    alg_name(&imprint.hash_algorithm)
                ),
            );
            return;
        }
        (Expected::Digest(a, d), _) => (a, d.to_vec()),
        (Expected::Data(data), Some(a)) => (a, a.digest(data)),
    };
    if alg != Some(want_alg) {
        report.fail(
            CheckKind::MessageImprint,
            format!(
                "the token stamps a {} digest, but a {} digest of the data was given",
                alg_name(&imprint.hash_algorithm),
                want_alg.name()
            ),
        );
    } else if got != want.as_slice() {
        report.fail(
            CheckKind::MessageImprint,
            format!(
                "the token stamps {}:{}, but the data's digest is {}:{}: the token was issued \
                 for other data",
                want_alg.name(),
                hex::encode(got),
                want_alg.name(),
                hex::encode(&want)
            ),
        );
    } else {
        report.pass(
            CheckKind::MessageImprint,
            format!(
                "the token's {} imprint equals the data's digest {}",
                want_alg.name(),
                hex::encode(got)
            ),
        );
    }
}

/// The signing time a token's signer signed beside its `TSTInfo` (the CMS `signingTime`
/// attribute, RFC 5652 §11.3), as Unix seconds; `None` when the token has none or
/// cannot be read. It is not the token's time (`genTime` is), but some TSAs (OpenSSL's
/// among them) sign one, taken a moment apart from `genTime` and so at times a second
/// off it, and some validators (c2pa-rs) report it as the token's time.
pub fn cms_signing_time(token_der: &[u8]) -> Option<i64> {
    let token = ParsedToken::parse(token_der).ok()?;
    let attrs = token.signer.signed_attrs.as_ref()?;
    let value = attribute(attrs.as_slice(), oid::SIGNING_TIME).ok()??;
    let time = value.decode_as::<x509_cert::time::Time>().ok()?;
    i64::try_from(time.to_unix_duration().as_secs()).ok()
}

fn attribute(attrs: &[Attribute], oid: ObjectIdentifier) -> Result<Option<&der::Any>, String> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let Some(attr) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(format!("attribute {oid} appears more than once"));
    }
    let mut values = attr.values.iter();
    match (values.next(), values.next()) {
        (Some(v), None) => Ok(Some(v)),
        _ => Err(format!("attribute {oid} does not have exactly one value")),
    }
}

/// Checks content type and message digest; returns the signer's digest algorithm.
fn check_signed_attributes(report: &mut Report, token: &ParsedToken) -> Option<HashAlg> {
    let Some(attrs) = token.signer.signed_attrs.as_ref() else {
        report.fail(
            CheckKind::MessageDigest,
            "the signer has no signed attributes; RFC 3161 tokens must sign the TSTInfo \
             through them",
        );
        return None;
    };
    let attrs: &[Attribute] = attrs.as_slice();

    match attribute(attrs, oid::CONTENT_TYPE) {
        Ok(Some(v)) => match v.decode_as::<ObjectIdentifier>() {
            Ok(ct) if ct == oid::TST_INFO => report.pass(
                CheckKind::ContentType,
                "the signed content-type attribute is id-ct-TSTInfo",
            ),
            Ok(ct) => report.fail(
                CheckKind::ContentType,
                format!("the signed content-type attribute is {ct}, not id-ct-TSTInfo"),
            ),
            Err(e) => report.fail(
                CheckKind::ContentType,
                format!("the content-type attribute is malformed: {e}"),
            ),
        },
        Ok(None) => report.fail(
            CheckKind::ContentType,
            "the content-type signed attribute is missing (RFC 5652 §5.3 requires it)",
        ),
        Err(e) => report.fail(CheckKind::ContentType, e),
    }

    let digest_alg = match HashAlg::from_oid(&token.signer.digest_alg.oid) {
        Some(HashAlg::Sha1) | None => {
            report.fail(
                CheckKind::MessageDigest,
                format!(
                    "the signer's digest algorithm {} is not accepted (SHA-256, SHA-384 or \
                     SHA-512)",
                    alg_name(&token.signer.digest_alg)
                ),
            );
            return None;
        }
        Some(a) => a,
    };
    match attribute(attrs, oid::MESSAGE_DIGEST) {
        Ok(Some(v)) => match v.decode_as::<OctetString>() {
            Ok(md) => {
                let actual = digest_alg.digest(&token.tst_der);
                if md.as_bytes() == actual.as_slice() {
                    report.pass(
                        CheckKind::MessageDigest,
                        format!(
                            "the signed message digest equals the {} of the TSTInfo",
                            digest_alg.name()
                        ),
                    );
                } else {
                    report.fail(
                        CheckKind::MessageDigest,
                        format!(
                            "the signed message digest {} is not the {} of the TSTInfo ({}): \
                             the TSTInfo was altered after signing",
                            hex::encode(md.as_bytes()),
                            digest_alg.name(),
                            hex::encode(&actual)
                        ),
                    );
                }
            }
            Err(e) => report.fail(
                CheckKind::MessageDigest,
                format!("the message-digest attribute is malformed: {e}"),
            ),
        },
        Ok(None) => report.fail(
            CheckKind::MessageDigest,
            "the message-digest signed attribute is missing",
        ),
        Err(e) => report.fail(CheckKind::MessageDigest, e),
    }
    Some(digest_alg)
}

/// Whether `cert` is the one a `SignerIdentifier` names.
pub(crate) fn is_signer(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            tbs.issuer() == &isn.issuer
                && tbs.serial_number().as_bytes() == isn.serial_number.as_bytes()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(tbs.get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if own == *ski)
        }
    }
}

fn describe_sid(sid: &SignerIdentifier) -> String {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => format!(
            "issuer {}, serial {}",
            isn.issuer,
            crate::token::int_hex_bytes(isn.serial_number.as_bytes())
        ),
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            format!("subject key identifier {}", hex::encode(ski.0.as_bytes()))
        }
    }
}

fn check_signature(
    report: &mut Report,
    token: &ParsedToken,
    signer: &CertBytes,
    digest_alg: Option<HashAlg>,
) {
    let Some(signed) = token.signed_attrs_der.as_ref() else {
        report.fail(
            CheckKind::Signature,
            "there are no signed attributes to verify",
        );
        return;
    };
    let alg = &token.signer.signature_algorithm;
    match crypto::verify(
        signer.cert.tbs_certificate().subject_public_key_info(),
        alg,
        digest_alg,
        signed,
        token.signer.signature.as_bytes(),
    ) {
        Ok(()) => report.pass(
            CheckKind::Signature,
            format!(
                "the {} signature over the signed attributes verifies with the key of {}",
                crypto::sig_alg_name(alg, digest_alg),
                signer.subject()
            ),
        ),
        Err(e) => report.fail(
            CheckKind::Signature,
            format!("the signature by {} is not valid: {e}", signer.subject()),
        ),
    }
}

fn check_ess(report: &mut Report, token: &ParsedToken, signer: &CertBytes) {
    let Some(attrs) = token.signer.signed_attrs.as_ref() else {
        return;
    };
    let attrs: &[Attribute] = attrs.as_slice();
    let k = CheckKind::SigningCertificateAttribute;
    let (version, hash_alg, cert_hash, issuer_serial): (
        &str,
        Option<HashAlg>,
        Vec<u8>,
        Option<IssuerSerial>,
    ) = match (
        attribute(attrs, oid::SIGNING_CERTIFICATE_V2),
        attribute(attrs, oid::SIGNING_CERTIFICATE),
    ) {
        (Err(e), _) | (_, Err(e)) => return report.fail(k, e),
        (Ok(Some(v2)), _) => match v2.decode_as::<SigningCertificateV2>() {
            Ok(sc) => match sc.certs.into_iter().next() {
                Some(id) => {
                    let alg = match &id.hash_algorithm {
                        None => Some(HashAlg::Sha256),
                        Some(a) if crate::token::hash_parameters_ok(a) => HashAlg::from_oid(&a.oid),
                        Some(_) => None,
                    };
                    (
                        "SigningCertificateV2",
                        alg,
                        id.cert_hash.as_bytes().to_vec(),
                        id.issuer_serial,
                    )
                }
                None => return report.fail(k, "SigningCertificateV2 lists no certificate"),
            },
            Err(e) => return report.fail(k, format!("SigningCertificateV2 is malformed: {e}")),
        },
        (Ok(None), Ok(Some(v1))) => match v1.decode_as::<SigningCertificate>() {
            Ok(sc) => match sc.certs.into_iter().next() {
                Some(id) => (
                    "SigningCertificate",
                    Some(HashAlg::Sha1),
                    id.cert_hash.as_bytes().to_vec(),
                    id.issuer_serial,
                ),
                None => return report.fail(k, "SigningCertificate lists no certificate"),
            },
            Err(e) => return report.fail(k, format!("SigningCertificate is malformed: {e}")),
        },
        (Ok(None), Ok(None)) => {
            return report.fail(
                k,
                "neither SigningCertificate nor SigningCertificateV2 is among the signed \
                     attributes (RFC 3161 §2.4.1 requires one): the signer certificate is not \
                     bound to the signature",
            );
        }
    };
    let Some(hash_alg) = hash_alg else {
        return report.fail(k, format!("{version} uses an unsupported hash algorithm"));
    };
    // SHA-1 is acceptable here: it identifies a certificate the signature itself binds,
    // as RFC 2634's ESSCertID defines it.
    let actual = hash_alg.digest(&signer.der);
    if actual != cert_hash {
        return report.fail(
            k,
            format!(
                "{version} names a certificate with {} {}, not the signer certificate {} ({})",
                hash_alg.name(),
                hex::encode(&cert_hash),
                signer.subject(),
                hex::encode(&actual)
            ),
        );
    }
    if let Some(is) = issuer_serial {
        let tbs = signer.cert.tbs_certificate();
        let issuer_ok = is
            .issuer
            .iter()
            .any(|n| matches!(n, GeneralName::DirectoryName(name) if name == tbs.issuer()));
        let serial_ok = is.serial_number.as_bytes() == tbs.serial_number().as_bytes();
        if !issuer_ok || !serial_ok {
            return report.fail(
                k,
                format!(
                    "{version} names the signer certificate's hash but another issuer or \
                     serial number"
                ),
            );
        }
    }
    report.pass(
        k,
        format!(
            "{version} identifies the signer certificate by its {} hash",
            hash_alg.name()
        ),
    );
}

fn check_tsa_usage(report: &mut Report, cert: &Certificate) {
    let k = CheckKind::TsaCertificateUsage;
    let tbs = cert.tbs_certificate();
    match tbs.get_extension::<ExtendedKeyUsage>() {
        Err(e) => {
            return report.fail(
                k,
                format!("the extendedKeyUsage extension is malformed: {e}"),
            );
        }
        Ok(None) => {
            return report.fail(
                k,
                "the TSA certificate has no extendedKeyUsage extension; RFC 3161 §2.3 requires \
                 a critical one with only id-kp-timeStamping",
            );
        }
        Ok(Some((critical, eku))) => {
            if !eku.0.contains(&oid::KP_TIME_STAMPING) {
                return report.fail(
                    k,
                    "the TSA certificate's extendedKeyUsage does not include timeStamping",
                );
            }
            if eku.0.len() != 1 {
                return report.fail(
                    k,
                    format!(
                        "the TSA certificate's extendedKeyUsage has {} purposes; RFC 3161 §2.3 \
                         allows only timeStamping",
                        eku.0.len()
                    ),
                );
            }
            if !critical {
                return report.fail(
                    k,
                    "the TSA certificate's extendedKeyUsage (timeStamping) is not marked \
                     critical, as RFC 3161 §2.3 requires",
                );
            }
        }
    }
    match tbs.get_extension::<KeyUsage>() {
        Err(e) => return report.fail(k, format!("the keyUsage extension is malformed: {e}")),
        Ok(Some((_, ku)))
            if ku.key_encipherment()
                || ku.data_encipherment()
                || ku.key_agreement()
                || ku.key_cert_sign()
                || ku.crl_sign()
                || ku.encipher_only()
                || ku.decipher_only() =>
        {
            return report.fail(
                k,
                "the TSA certificate's keyUsage allows more than digitalSignature and \
                 nonRepudiation",
            );
        }
        Ok(Some((_, ku))) if !ku.digital_signature() && !ku.non_repudiation() => {
            return report.fail(k, "the TSA certificate's keyUsage does not allow signing");
        }
        Ok(_) => {}
    }
    report.pass(
        k,
        "the TSA certificate's only extended key usage is timeStamping, marked critical",
    );
}

fn check_tsa_name(report: &mut Report, token: &ParsedToken, cert: &Certificate) {
    let k = CheckKind::TsaName;
    let Some(name) = token.tst.tsa.as_ref() else {
        return report.pass(k, "the token does not name its TSA (the field is optional)");
    };
    let text = crate::token::general_name_text(name);
    let tbs = cert.tbs_certificate();
    let matches = match name {
        GeneralName::DirectoryName(n) => n == tbs.subject(),
        other => matches!(
            tbs.get_extension::<SubjectAltName>(),
            Ok(Some((_, san))) if san.0.iter().any(|g| g.to_der().ok() == other.to_der().ok())
        ),
    };
    if matches {
        report.pass(
            k,
            format!("the token names its TSA {text}, the signer certificate's name"),
        );
    } else {
        report.fail(
            k,
            format!(
                "the token names its TSA {text}, which is not a name of the signer certificate {}",
                tbs.subject()
            ),
        );
    }
}

/// Builds the chain from `leaf` to a trust anchor. Returns the chain as far as it got,
/// and why it does not reach a root if it does not.
fn build_chain<'a>(
    leaf: &'a CertBytes,
    pool: &'a [CertBytes],
    roots: &'a [CertBytes],
) -> (Vec<&'a CertBytes>, Result<(), String>) {
    let mut chain = vec![leaf];
    loop {
        let current = chain[chain.len() - 1];
        if roots.iter().any(|r| r.der == current.der) {
            let result = check_constraints(&chain);
            return (chain, result);
        }
        if chain.len() >= MAX_CHAIN {
            return (
                chain,
                Err(format!("no trusted root within {MAX_CHAIN} certificates")),
            );
        }
        let tbs = current.cert.tbs_certificate();
        let aki = match tbs.get_extension::<AuthorityKeyIdentifier>() {
            Ok(Some((_, aki))) => aki.key_identifier,
            _ => None,
        };
        let named: Vec<&CertBytes> = roots
            .iter()
            .chain(pool.iter())
            .filter(|c| c.cert.tbs_certificate().subject() == tbs.issuer())
            .filter(|c| !chain.iter().any(|in_chain| in_chain.der == c.der))
            .collect();
        let candidates: Vec<&CertBytes> = named
            .iter()
            .copied()
            .filter(|c| {
                match (
                    &aki,
                    c.cert
                        .tbs_certificate()
                        .get_extension::<SubjectKeyIdentifier>(),
                ) {
                    (Some(want), Ok(Some((_, ski)))) => &ski.0 == want,
                    _ => true,
                }
            })
            .collect();
        if candidates.is_empty() {
            let why = if !named.is_empty() {
                format!(
                    "{} names its issuer {} by a key identifier that no certificate of that \
                     name among those given or the {} trusted root(s) has (the certificate \
                     of that name is another key's): the chain does not lead to a trusted \
                     root",
                    current.subject(),
                    tbs.issuer(),
                    roots.len()
                )
            } else if tbs.issuer() == tbs.subject() {
                format!(
                    "the chain ends at the self-signed {}, which is not one of the {} configured \
                     trusted root(s)",
                    current.subject(),
                    roots.len()
                )
            } else {
                format!(
                    "no certificate of the issuer {} of {} is among the certificates given \
                     or the {} trusted root(s): the chain does not lead to a trusted root",
                    tbs.issuer(),
                    current.subject(),
                    roots.len()
                )
            };
            return (chain, Err(why));
        }
        let Some(tbs_der) = children(&current.der).ok().and_then(|c| c.first().copied()) else {
            return (chain, Err(format!("{} is malformed", current.subject())));
        };
        if current.cert.signature_algorithm() != tbs.signature() {
            return (
                chain,
                Err(format!(
                    "{} names different signature algorithms inside and outside its signed \
                     part (RFC 5280 §4.1.1.2)",
                    current.subject()
                )),
            );
        }
        let Some(cert_signature) = current.cert.signature().as_bytes() else {
            return (
                chain,
                Err(format!(
                    "{} has a malformed signature BIT STRING",
                    current.subject()
                )),
            );
        };
        let mut errors = Vec::new();
        let mut unchecked = Vec::new();
        let mut next = None;
        for candidate in candidates {
            match crypto::verify(
                candidate.cert.tbs_certificate().subject_public_key_info(),
                current.cert.signature_algorithm(),
                None,
                tbs_der,
                cert_signature,
            ) {
                Ok(()) => {
                    next = Some(candidate);
                    break;
                }
                Err(crypto::SigError::Unsupported(e)) => unchecked.push(format!(
                    "the signature of {} by {} cannot be checked here: {e}",
                    current.subject(),
                    candidate.subject()
                )),
                Err(e) => errors.push(format!(
                    "the signature of {} by {} is not valid: {e}",
                    current.subject(),
                    candidate.subject()
                )),
            }
        }
        match next {
            Some(c) => chain.push(c),
            // A self-signed certificate named like a trusted root, made with another
            // key: the chain ends at an impostor, not at a damaged root.
            None if unchecked.is_empty() && tbs.issuer() == tbs.subject() => {
                return (
                    chain,
                    Err(format!(
                        "the chain ends at a self-signed {}, which has the name of a trusted \
                         root but not its key: it is not that root",
                        current.subject()
                    )),
                );
            }
            None => {
                errors.extend(unchecked);
                return (chain, Err(errors.join("; ")));
            }
        }
    }
}

/// Extensions this verifier understands; any other marked critical makes a certificate
/// unacceptable (RFC 5280 §4.2).
const KNOWN_EXTENSIONS: [ObjectIdentifier; 10] = [
    oid::BASIC_CONSTRAINTS,
    oid::KEY_USAGE,
    oid::EXT_KEY_USAGE,
    oid::SUBJECT_KEY_ID,
    oid::AUTHORITY_KEY_ID,
    oid::SUBJECT_ALT_NAME,
    oid::ISSUER_ALT_NAME,
    oid::CERTIFICATE_POLICIES,
    oid::CRL_DISTRIBUTION_POINTS,
    oid::AUTHORITY_INFO_ACCESS,
];

fn check_constraints(chain: &[&CertBytes]) -> Result<(), String> {
    for cert in chain {
        if let Some(exts) = cert.cert.tbs_certificate().extensions() {
            if let Some(unknown) = exts
                .iter()
                .find(|e| e.critical && !KNOWN_EXTENSIONS.contains(&e.extn_id))
            {
                return Err(format!(
                    "{} has a critical extension {} that this verifier does not understand",
                    cert.subject(),
                    unknown.extn_id
                ));
            }
        }
    }
    for (i, issuer) in chain.iter().enumerate().skip(1) {
        let tbs = issuer.cert.tbs_certificate();
        match tbs.get_extension::<BasicConstraints>() {
            Ok(Some((_, bc))) if bc.ca => {
                if let Some(max) = bc.path_len_constraint {
                    // Intermediates between this issuer and the TSA certificate.
                    let below = i - 1;
                    if below > usize::from(max) {
                        return Err(format!(
                            "{} allows {max} intermediate CA(s) below it, the chain has {below}",
                            issuer.subject()
                        ));
                    }
                }
            }
            Ok(_) => {
                return Err(format!(
                    "{} issued {} but is not a CA (basicConstraints cA is not set)",
                    issuer.subject(),
                    chain[i - 1].subject()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "{} has a malformed basicConstraints: {e}",
                    issuer.subject()
                ));
            }
        }
        match tbs.get_extension::<KeyUsage>() {
            Ok(Some((_, ku))) if !ku.key_cert_sign() => {
                return Err(format!(
                    "{} may not sign certificates (keyUsage lacks keyCertSign)",
                    issuer.subject()
                ));
            }
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "{} has a keyUsage that cannot be read ({e}), so whether it may sign \
                     certificates is unknown",
                    issuer.subject()
                ));
            }
        }
        if tbs
            .extensions()
            .is_some_and(|exts| exts.iter().any(|e| e.extn_id == oid::NAME_CONSTRAINTS))
        {
            return Err(format!(
                "{} restricts the names it may certify (nameConstraints), which this verifier \
                 does not evaluate",
                issuer.subject()
            ));
        }
    }
    Ok(())
}

/// Why `cert` was not valid at `at` (named `label`), if it was not.
fn validity_problem(cert: &Certificate, at: SystemTime, label: &str) -> Option<String> {
    let v = cert.tbs_certificate().validity();
    let subject = cert.tbs_certificate().subject();
    if at < v.not_before.to_system_time() {
        Some(format!(
            "{subject} was not yet valid at {label} {} (notBefore {})",
            system_time_text(at),
            time_text(&v.not_before)
        ))
    } else if at > v.not_after.to_system_time() {
        Some(format!(
            "{subject} had already expired at {label} {} (notAfter {})",
            system_time_text(at),
            time_text(&v.not_after)
        ))
    } else {
        None
    }
}

fn time_text(t: &Time) -> String {
    rfc3339(t.to_date_time())
}

fn date_text(t: &Time) -> String {
    let d = t.to_date_time();
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

fn system_time_text(t: SystemTime) -> String {
    match DateTime::from_system_time(t) {
        Ok(d) => rfc3339(d),
        Err(_) => format!("{t:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_anchor_input_errors_say_what_is_wrong() {
        let err = TrustAnchors::from_pem(b"no certificates here").unwrap_err();
        assert_eq!(
            err.to_string(),
            "trust anchors holds no certificate; expected PEM blocks \"BEGIN CERTIFICATE\" or DER"
        );
        let err = TrustAnchors::from_pem(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("trust anchors, block 1: not a valid X.509 certificate"),
            "{err}"
        );
        let err = TrustAnchors::from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap_err();
        assert!(err.to_string().contains("no END CERTIFICATE line"), "{err}");
        assert!(TrustAnchors::from_der(&[0x30, 0x00]).is_err());
        assert!(TrustAnchors::new().is_empty());
    }

    #[test]
    fn one_der_sequence_may_be_followed_by_whitespace_only() {
        let short = [0x30, 0x03, 1, 2, 3];
        assert_eq!(one_der(&short), Some(&short[..]));
        assert_eq!(
            one_der(&[0x30, 0x03, 1, 2, 3, b'\n', b'\r']),
            Some(&short[..])
        );
        assert_eq!(one_der(&[0x30, 0x03, 1, 2, 3, b'x']), None);
        assert_eq!(one_der(&[0x30, 0x05, 1, 2]), None);
        let mut long = vec![0x30, 0x82, 0x01, 0x00];
        long.extend(std::iter::repeat_n(7u8, 256));
        assert_eq!(one_der(&long).map(<[u8]>::len), Some(260));
        long.push(b'\n');
        assert_eq!(one_der(&long).map(<[u8]>::len), Some(260));
        assert_eq!(one_der(&[0x30, 0x80]), None);
        assert_eq!(one_der(&[0x30, 0x89, 1]), None);
        assert_eq!(one_der(b"-----BEGIN"), None);
    }
}
