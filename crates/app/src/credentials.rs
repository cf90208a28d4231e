//! The time of an item's content credentials, judged against the vault's TSA roots.
//!
//! The extractor keeps the RFC 3161 token of a C2PA claim with the digest of what it
//! must stamp (`c2pa.time_stamp`, `docs/design/metadata.md` §7). Who signed the token
//! is decided here, each time it is used, with the roots the vault holds then
//! (`keys/tsa-roots.pem`, added with `custody timestamp --roots`): a root added later
//! counts without extracting again.

use std::time::SystemTime;

use base64::Engine;
use custody_timestamp::{CheckKind, HashAlg, Status, TrustAnchors};
use serde::Serialize;

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

/// Whether content credentials hold for the bytes they are in: `valid` or `trusted`.
pub fn intact(c2pa: &serde_json::Value) -> bool {
    matches!(c2pa["state"].as_str(), Some("valid" | "trusted"))
}

/// The vault's TSA roots for judging time-stamps, or why they cannot be read.
pub fn roots_of(vault_dir: &std::path::Path) -> Result<TrustAnchors, String> {
    crate::timestamps::trust_anchors(vault_dir).map_err(|e| {
        format!("this vault's TSA roots cannot be read ({e}), so no time-stamp can be verified")
    })
}

/// [`check`] with the roots as [`roots_of`] gives them: unreadable roots verify nothing
/// and say why.
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
