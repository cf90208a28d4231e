//! What the vault makes of an item's content credentials: the time their claim was
//! stamped, judged against its TSA roots, and who signed them, judged against its C2PA
//! trust anchors.
//!
//! The extractor keeps the RFC 3161 token of a C2PA claim with the digest of what it
//! must stamp (`c2pa.time_stamp`), and the certificates the validator verified the
//! claim's signature with (`c2pa.signer_chain`; `docs/design/metadata.md` §7). Whom the
//! vault trusts is decided here, each time it is used, with the certificates its ledger
//! records then (`crate::anchors`: TSA roots added with `custody timestamp --roots`, C2PA
//! trust anchors with `custody credentials --anchors`, either withdrawn with `custody
//! trust --remove`): one added later counts without extracting again.

use std::time::{Duration, SystemTime};

use base64::Engine;
use custody_timestamp::{CheckKind, HashAlg, Status, TrustAnchors};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

/// A C2PA claim's time-stamp and what the vault makes of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StampCheck {
    /// The token's genTime, RFC 3339, UTC.
    pub gen_time: String,
    /// Who stamped it: the TSA certificate's subject when the chain was built, else the
    /// name the token gives, else `an unnamed TSA`.
    pub tsa: String,
    /// What it stamps: `claim` or `claim signature`.
    pub covers: String,
    /// Whether the token proves that the claim existed at genTime: it stamps this claim
    /// and its signer chains to one of the vault's TSA roots, at genTime.
    pub verified: bool,
    /// Whether it dates these very bytes: verified, the credentials are `valid` or
    /// `trusted`, and their hard binding hashes the whole file outside the manifest
    /// store (`covers_file`). Otherwise a verified token dates the claim only.
    pub dates_these_bytes: bool,
    /// Why a verified token does not date these bytes: the credentials do not hold, or
    /// their hard binding does not hash the whole file outside the manifest store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_these_bytes: Option<String>,
    /// Why it is not verified, in words a reader can act on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Who signed content credentials, and whether the vault trusts them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignerCheck {
    /// The signer's certificate subject, RFC 4514 text (empty when the record holds no
    /// certificate).
    pub signer: String,
    /// Whether the signer's chain leads to one of the vault's C2PA trust anchors by the
    /// rules of `custody_timestamp::verify_chain`, with an extendedKeyUsage C2PA accepts
    /// for claim signers, every certificate valid at `judged_at`, and the credentials
    /// intact.
    pub trusted: bool,
    /// The anchor the chain reached, when trusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    /// When the certificates had to be valid: the time of the claim's time-stamp when it
    /// verified and stamps the signature (`sigTst2`), else the time of this judgement
    /// (C2PA 2.x §14.5.2). RFC 3339, UTC.
    pub judged_at: String,
    /// `time-stamp` or `now`.
    pub judged_at_basis: String,
    /// Why it is not trusted, in words a reader can act on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Extended key usages C2PA accepts for a claim signer's certificate (C2PA 2.x
/// §14.5.1): emailProtection, documentSigning, C2PA claim signing, Microsoft's C2PA
/// signing. timeStamping and OCSPSigning, which c2pa-rs also accepts, belong to TSAs
/// and OCSP responders, not claim signers.
pub const C2PA_SIGNER_PURPOSES: [&str; 4] = [
    "1.3.6.1.5.5.7.3.4",
    "1.3.6.1.5.5.7.3.36",
    "1.3.6.1.4.1.62558.2.1",
    "1.3.6.1.4.1.311.76.59.1.9",
];

/// The C2PA trust anchors the vault trusts, and those it withdrew.
pub struct SignerTrust {
    pub anchors: TrustAnchors,
    pub withdrawn: TrustAnchors,
}

/// The vault's C2PA trust, or why it cannot be read.
pub async fn anchors_of(vault: &crate::Vault) -> Result<SignerTrust, String> {
    let ledgered = crate::anchors::C2PA_ANCHORS.recorded(vault).await;
    ledgered
        .and_then(|l| {
            Ok(SignerTrust {
                anchors: crate::anchors::TrustFile::anchors(&l.trusted)?,
                withdrawn: crate::anchors::TrustFile::anchors(&l.withdrawn)?,
            })
        })
        .map_err(|e| format!("this vault's C2PA trust anchors cannot be read ({e})"))
}

/// [`signer_check`] against the vault's trust: a chain that reaches a trusted anchor
/// but goes through a certificate the vault withdrew (an intermediate, say, under a
/// root it still trusts) vouches for nothing.
pub fn judge_signer(
    c2pa: &serde_json::Value,
    trust: &Result<SignerTrust, String>,
    stamp: Option<&StampCheck>,
    now: SystemTime,
) -> Option<SignerCheck> {
    let anchors = trust
        .as_ref()
        .map(|t| t.anchors.clone())
        .map_err(Clone::clone);
    let mut check = signer_check(c2pa, &anchors, stamp, now)?;
    let withdrawn = trust.as_ref().ok().map(|t| &t.withdrawn);
    if let Some(w) = withdrawn.filter(|w| check.trusted && !w.is_empty())
        && let Some(through) = signer_check(c2pa, &Ok(w.clone()), stamp, now).filter(|w| w.trusted)
    {
        check.trusted = false;
        check.reason = Some(format!(
            "its chain goes through {}, which this vault withdrew from its C2PA trust anchors (`custody trust` lists them)",
            through.anchor.unwrap_or_default()
        ));
        check.anchor = None;
    }
    Some(check)
}

/// Judges the signer of the credentials recorded in `c2pa` (a record's `c2pa`), if a
/// validator read a signed manifest. `stamp`: the claim's time-stamp as [`check`]
/// judged it; a verified one fixes the time the certificates must have been valid at.
pub fn signer_check(
    c2pa: &serde_json::Value,
    anchors: &Result<TrustAnchors, String>,
    stamp: Option<&StampCheck>,
    now: SystemTime,
) -> Option<SignerCheck> {
    if !matches!(
        c2pa["state"].as_str(),
        Some("valid" | "trusted" | "invalid")
    ) || c2pa["signer"].is_null() && c2pa["signer_chain"].is_null()
    {
        return None;
    }
    // Only a token over the signature (`sigTst2`) shows the signature existed at its
    // time: one over the claim (`sigTst`) can be followed by a signature made later with
    // the same key, after its certificate expired.
    let verified_time = stamp
        .filter(|s| s.verified && s.covers == "claim signature")
        .and_then(|s| time::OffsetDateTime::parse(&s.gen_time, &Rfc3339).ok());
    let claim_only = stamp.is_some_and(|s| s.verified && s.covers == "claim");
    let (at, basis) = match verified_time {
        Some(t) => (system_time_of(t), "time-stamp"),
        None => (now, "now"),
    };
    let mut out = SignerCheck {
        signer: c2pa["signer"].as_str().unwrap_or_default().to_owned(),
        trusted: false,
        anchor: None,
        judged_at: rfc3339_of(at),
        judged_at_basis: basis.into(),
        reason: None,
    };
    // All or nothing: a certificate left out would make the next one the signer's.
    let chain: Option<Vec<Vec<u8>>> = c2pa["signer_chain"].as_array().and_then(|a| {
        a.iter()
            .map(|c| {
                c.as_str()
                    .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
            })
            .collect()
    });
    let Some((leaf, rest)) = chain.as_deref().and_then(<[Vec<u8>]>::split_first) else {
        out.reason = Some(
            "the record holds no signer certificate the vault can read (records made before extractor 1.12 keep none: run `custody extract --all`; otherwise its problems say which could not be read)"
                .into(),
        );
        return Some(out);
    };
    if !intact(c2pa) {
        out.reason = Some(
            "the credentials are not valid for these bytes, so their signer vouches for nothing here"
                .into(),
        );
        return Some(out);
    }
    match custody_timestamp::certificate_facts(leaf) {
        Some(facts) => out.signer = facts.subject,
        None => {
            out.reason = Some(
                "the signer's certificate, the one the validator verified the signature with, cannot be read here, so the vault cannot vouch for it"
                    .into(),
            );
            return Some(out);
        }
    }
    let anchors = match anchors {
        Ok(a) => a,
        Err(why) => {
            out.reason = Some(why.clone());
            return Some(out);
        }
    };
    if anchors.is_empty() {
        let root = rest
            .last()
            .or(Some(leaf))
            .and_then(|c| custody_timestamp::certificate_facts(c))
            .map(|facts| facts.issuer)
            .map(|i| format!(" (its chain ends at a certificate issued by {i})"))
            .unwrap_or_default();
        out.reason = Some(format!(
            "this vault holds no C2PA trust anchors; add the root the signer's chain leads to{root} with `custody credentials --anchors FILE` if you trust it"
        ));
        return Some(out);
    }
    let label = match basis {
        "time-stamp" => "the claim's time-stamp",
        _ => "the time of this check",
    };
    match custody_timestamp::verify_chain(leaf, rest, anchors, (at, label), &C2PA_SIGNER_PURPOSES) {
        Ok(chain) => {
            out.trusted = true;
            out.anchor = Some(chain.root().to_owned());
        }
        Err(why) if claim_only => {
            out.reason = Some(format!(
                "{why} (the claim's time-stamp stamps the claim, not its signature, so it does not show when the signature was made)"
            ))
        }
        Err(why) => out.reason = Some(why),
    }
    Some(out)
}

fn system_time_of(t: time::OffsetDateTime) -> SystemTime {
    let secs = t.unix_timestamp();
    if secs >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

/// `t` as RFC 3339 text in UTC, to the second.
pub fn rfc3339_of(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Whether content credentials hold for the bytes they are in: `valid` or `trusted`, or
/// `invalid` only because the signer's certificate had expired when the validator ran
/// ([`expired_only`]).
pub fn intact(c2pa: &serde_json::Value) -> bool {
    matches!(c2pa["state"].as_str(), Some("valid" | "trusted")) || expired_only(c2pa)
}

/// Whether the validator called the credentials `invalid` for nothing but the signer's
/// certificate being out of its validity period (`signingCredential.expired`, which
/// c2pa-rs also says of one not yet valid) and not on a trust list (it never is here):
/// their signature verified, every hash matched, no ingredient failed, and the signer's
/// certificate passes the profile checks c2pa-rs skips once it finds it out of date. c2pa-rs judges the certificate at
/// the time it runs unless a time-stamp it trusts says otherwise, and it trusts none
/// here, so the same bytes validated after the certificate's expiry come out
/// `invalid`. That says nothing of the bytes; when the signer's certificate had to be
/// valid is the vault's to judge ([`signer_check`]).
pub fn expired_only(c2pa: &serde_json::Value) -> bool {
    let Some(statuses) = c2pa["statuses"].as_array() else {
        return false;
    };
    if c2pa["state"] != "invalid" {
        return false;
    }
    let is = |s: &serde_json::Value, kind: &str, code: &str| s["kind"] == kind && s["code"] == code;
    let failures = || statuses.iter().filter(|s| s["kind"] == "failure");
    let only_expiry = failures().any(|s| is(s, "failure", "signingCredential.expired"))
        && failures().all(|s| {
            is(s, "failure", "signingCredential.expired")
                || is(s, "failure", "signingCredential.untrusted")
        })
        && statuses
            .iter()
            .any(|s| is(s, "success", "claimSignature.validated"));
    // After finding the certificate out of date, c2pa-rs checks nothing else of it, so
    // the vault checks the signer's certificate as the validator would have.
    only_expiry
        && c2pa["signer_chain"][0]
            .as_str()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .is_some_and(|leaf| {
                custody_timestamp::verify_signer_profile(&leaf, &C2PA_SIGNER_PURPOSES).is_ok()
            })
}

/// [`check`] with the vault's TSA roots, or why they cannot be read: unreadable roots
/// verify nothing and say why.
pub fn check_against(
    c2pa: &serde_json::Value,
    roots: &Result<TrustAnchors, String>,
    now: SystemTime,
) -> Option<StampCheck> {
    match roots {
        Ok(r) => check(c2pa, r, now),
        Err(why) => {
            let mut c = check(c2pa, &TrustAnchors::new(), now)?;
            c.verified = false;
            c.dates_these_bytes = false;
            c.reason = Some(why.clone());
            Some(c)
        }
    }
}

/// Judges the time-stamp recorded in a C2PA report (`record["c2pa"]`), if it has one.
pub fn check(
    c2pa: &serde_json::Value,
    roots: &TrustAnchors,
    now: SystemTime,
) -> Option<StampCheck> {
    let t = c2pa.get("time_stamp")?;
    let text = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
    let mut out = StampCheck {
        gen_time: text("gen_time"),
        tsa: t["tsa"].as_str().unwrap_or("an unnamed TSA").to_owned(),
        covers: text("covers"),
        verified: false,
        dates_these_bytes: false,
        not_these_bytes: None,
        reason: None,
    };
    let token = base64::engine::general_purpose::STANDARD.decode(text("token"));
    let digest = hex::decode(text("stamped_digest"));
    let alg = HashAlg::from_name(&text("imprint_algorithm"));
    let (Ok(token), Ok(digest), Some(alg)) = (token, digest, alg) else {
        out.reason = Some(
            "the recorded time-stamp is unreadable; run `custody extract --all --force`".into(),
        );
        return Some(out);
    };
    let v = custody_timestamp::verify_digest(&token, alg, &digest, roots, &[], now);
    if let Some(first) = v.chain.first() {
        out.tsa = first.subject.clone();
    }
    // The time is the token's own, as verified, never the record's text of it.
    if let Some(info) = &v.info {
        out.gen_time = info.gen_time.to_rfc3339();
    }
    // Only the chain failing, with no roots at all: the one thing to say is what to add.
    let only_chain = v.failures().all(|c| c.check == CheckKind::Chain);
    match v.status {
        Status::ValidNow | Status::ValidAtGenTime { .. } => {
            out.verified = true;
            let covers = t["covers_file"].as_bool() == Some(true);
            out.dates_these_bytes = intact(c2pa) && covers;
            if !intact(c2pa) {
                out.not_these_bytes = Some("the credentials are not valid for these bytes".into());
            } else if !covers {
                out.not_these_bytes = Some(format!(
                    "the claim's hard binding does not hash the whole file: {}",
                    t["coverage_note"].as_str().unwrap_or("not checked")
                ));
            }
        }
        Status::Invalid { .. } if roots.is_empty() && only_chain => {
            let root = v.chain.last().map_or_else(
                || "its TSA's root".to_owned(),
                |c| {
                    format!(
                        "the root its chain leads to (the token's chain ends at {}, issued by {})",
                        c.subject, c.issuer
                    )
                },
            );
            out.reason = Some(format!(
                "this vault holds no TSA roots; add {root} with `custody timestamp --roots FILE` if you trust it"
            ))
        }
        Status::Invalid { reason } if roots.is_empty() => {
            out.reason = Some(format!("{reason} (and this vault holds no TSA roots)"))
        }
        Status::Invalid { reason } => out.reason = Some(reason),
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed signer's certificate (P-256, digitalSignature, emailProtection,
    /// made with openssl for these tests), base64 DER.
    const SIGNER: &str = "MIIB0jCCAXmgAwIBAgIUTEEAtAA0GU5XcsbBRiKZgY/NJLQwCgYIKoZIzj0EAwIwLTEVMBMGA1UECgwMQ3VzdG9keSBUZXN0MRQwEgYDVQQDDAtVbml0IFNpZ25lcjAgFw0yNjEyMDcwOTU4MjNaGA8yMTI2MTExMzA5NTgyM1owLTEVMBMGA1UECgwMQ3VzdG9keSBUZXN0MRQwEgYDVQQDDAtVbml0IFNpZ25lcjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJNzTZzeiH4D/TfC/n0N2KLNUmlJdOuySXYmAk48R/HVMrc53nHP0y+19pNBMBegm0JXTDBFK5cmlz4GjSY0rvujdTBzMB0GA1UdDgQWBBRcD6F+B41tty/NR2mddPcw6DJIPzAfBgNVHSMEGDAWgBRcD6F+B41tty/NR2mddPcw6DJIPzAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDBDAKBggqhkjOPQQDAgNHADBEAiAjYp07s9jw0Pg0+DEsWaIdjWzIehcMPsJpcwyA0vO7NQIgcDywTYDjIU57KIc9BIph03AezEHbqaZ6vR9G9dEVNgw=";

    fn stamp(verified: bool) -> StampCheck {
        StampCheck {
            gen_time: "2024-08-06T21:53:37Z".into(),
            tsa: "a TSA".into(),
            covers: "claim".into(),
            verified,
            dates_these_bytes: verified,
            not_these_bytes: None,
            reason: None,
        }
    }

    #[test]
    fn a_signer_is_judged_at_the_verified_time_stamp_else_now_and_says_what_is_missing() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let none: Result<TrustAnchors, String> = Ok(TrustAnchors::new());
        // No manifest read: nothing to judge.
        let absent = serde_json::json!({"state": "no_manifest"});
        assert_eq!(signer_check(&absent, &none, None, now), None);
        // A record from before signer chains were kept.
        let old = serde_json::json!({"state": "valid", "signer": "C2PA Signer"});
        let mut over_signature = stamp(true);
        over_signature.covers = "claim signature".into();
        let c = signer_check(&old, &none, Some(&over_signature), now).unwrap();
        assert!(!c.trusted);
        assert_eq!(c.signer, "C2PA Signer");
        assert!(c.reason.unwrap().contains("custody extract --all"));
        assert_eq!(
            (c.judged_at.as_str(), c.judged_at_basis.as_str()),
            ("2024-08-06T21:53:37Z", "time-stamp")
        );
        // A verified time-stamp over the claim alone does not date the signature.
        let c = signer_check(&old, &none, Some(&stamp(true)), now).unwrap();
        assert_eq!(c.judged_at_basis, "now");
        // A time-stamp that did not verify fixes nothing: judged now.
        let chain = serde_json::json!({"state": "valid", "signer": "x", "signer_chain": [SIGNER]});
        let c = signer_check(&chain, &none, Some(&stamp(false)), now).unwrap();
        assert_eq!(
            (c.judged_at.as_str(), c.judged_at_basis.as_str()),
            ("2027-01-15T08:00:00Z", "now")
        );
        assert!(c.reason.unwrap().contains("holds no C2PA trust anchors"));
        // Credentials that do not hold: their signer vouches for nothing.
        let invalid =
            serde_json::json!({"state": "invalid", "signer": "x", "signer_chain": ["AAAA"]});
        let c = signer_check(&invalid, &none, None, now).unwrap();
        assert!(c.reason.unwrap().contains("not valid for these bytes"));
        // Invalid only because the certificate had expired when the validator ran: the
        // bytes are intact, and the vault judges the certificate.
        let expired = serde_json::json!({"state": "invalid", "signer": "x", "signer_chain": [SIGNER],
            "statuses": [
                {"kind": "failure", "code": "signingCredential.expired"},
                {"kind": "failure", "code": "signingCredential.untrusted"},
                {"kind": "success", "code": "claimSignature.validated"},
                {"kind": "success", "code": "assertion.dataHash.match"}]});
        assert!(intact(&expired));
        let c = signer_check(&expired, &none, None, now).unwrap();
        assert!(c.reason.unwrap().contains("holds no C2PA trust anchors"));
        // Any other failure beside it is a failure of the credentials.
        let mut tampered = expired.clone();
        tampered["statuses"][1]["code"] = "assertion.dataHash.mismatch".into();
        assert!(!intact(&tampered));
        // Unless the validator skipped a check of the certificate that fails: a CA's
        // certificate, or an unreadable one, signs nothing here.
        let mut unreadable_leaf = expired.clone();
        unreadable_leaf["signer_chain"][0] = "AAAA".into();
        assert!(!intact(&unreadable_leaf));
        let mut valid_unreadable = chain.clone();
        valid_unreadable["signer_chain"][0] = "AAAA".into();
        let c = signer_check(&valid_unreadable, &none, None, now).unwrap();
        assert!(c.reason.unwrap().contains("cannot be read here"));
        // A damaged entry does not let the next certificate stand in for the signer's.
        let mut damaged = chain.clone();
        damaged["signer_chain"] = serde_json::json!(["not base64!", SIGNER]);
        let c = signer_check(&damaged, &none, None, now).unwrap();
        assert!(
            c.reason
                .unwrap()
                .contains("no signer certificate the vault can read")
        );
        // Ingredient failures count as failures.
        let mut ingredient = expired.clone();
        ingredient["statuses"].as_array_mut().unwrap().push(
            serde_json::json!({"kind": "failure", "code": "claimSignature.mismatch",
                "explanation": "in ingredient self#jumbf=c2pa.assertions/c2pa.ingredient.v3"}),
        );
        assert!(!intact(&ingredient));
        // Anchors that cannot be read: said, not trusted.
        let unreadable = Err("the anchors file is damaged".to_owned());
        let c = signer_check(&chain, &unreadable, None, now).unwrap();
        assert_eq!(c.reason.as_deref(), Some("the anchors file is damaged"));
    }

    #[test]
    fn no_time_stamp_no_judgement_and_a_damaged_record_says_so() {
        let roots = TrustAnchors::new();
        let now = SystemTime::now();
        assert_eq!(
            check(&serde_json::json!({"state": "valid"}), &roots, now),
            None
        );
        let damaged = serde_json::json!({"state": "valid", "time_stamp": {
            "header": "sigTst", "covers": "claim", "gen_time": "2024-08-06T21:53:37Z",
            "imprint_algorithm": "sha256", "stamped_digest": "not hex",
            "imprint_matches": true, "token": "AAAA"}});
        let c = check(&damaged, &roots, now).unwrap();
        assert!(!c.verified);
        assert!(c.reason.unwrap().contains("unreadable"));
        assert_eq!(c.gen_time, "2024-08-06T21:53:37Z");
    }
}
