//! C2PA content credentials on the shared c2pa-rs fixtures. The signers are test
//! certificates, so `signingCredential.untrusted` is expected and nothing is `Trusted`.
//!
//! `sample1.png` is listed in the shared README as carrying a valid chain, but the
//! file has no manifest store at all (no `caBX` chunk, no JUMBF box: it is the
//! unsigned source image of the c2pa-rs tests), so "no manifest" is the right answer.

use custody_extract::{C2paState, extract_path};

use crate::shared;

#[cfg(feature = "c2pa")]
struct Expect {
    file: &'static str,
    state: C2paState,
    /// Failure or informational codes that must be present.
    codes: &'static [&'static str],
    /// Codes that must be absent.
    absent: &'static [&'static str],
}

#[cfg(feature = "c2pa")]
#[test]
fn fixtures_validate_as_expected() {
    let Some(dir) = shared("testdata/c2pa") else {
        return;
    };
    const UNTRUSTED: &str = "signingCredential.untrusted";
    let cases = [
        Expect {
            file: "C.jpg",
            state: C2paState::Valid,
            codes: &[UNTRUSTED],
            absent: &["assertion.dataHash.mismatch"],
        },
        Expect {
            file: "CA.jpg",
            state: C2paState::Valid,
            codes: &[UNTRUSTED],
            absent: &["claimSignature.mismatch"],
        },
        Expect {
            file: "boxhash.jpg",
            state: C2paState::Valid,
            codes: &[UNTRUSTED],
            absent: &["assertion.boxesHash.mismatch"],
        },
        Expect {
            file: "XCA.jpg",
            state: C2paState::Invalid,
            codes: &["assertion.dataHash.mismatch"],
            absent: &[],
        },
        Expect {
            file: "E-sig-CA.jpg",
            state: C2paState::Invalid,
            codes: &["claimSignature.mismatch"],
            absent: &[],
        },
        Expect {
            file: "no_manifest.jpg",
            state: C2paState::NoManifest,
            codes: &[],
            absent: &[],
        },
        Expect {
            file: "sample1.png",
            state: C2paState::NoManifest,
            codes: &[],
            absent: &[],
        },
    ];
    for c in cases {
        let md = extract_path(&dir.join(c.file), "application/octet-stream");
        let r = md
            .c2pa
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no c2pa report", c.file));
        assert_eq!(r.state, c.state, "{}: {r:#?}", c.file);
        let codes: Vec<&str> = r
            .statuses
            .iter()
            .filter(|s| s.kind != "success")
            .map(|s| s.code.as_str())
            .collect();
        for want in c.codes {
            assert!(
                codes.contains(want),
                "{}: {want} missing from {codes:?}",
                c.file
            );
        }
        for not in c.absent {
            assert!(!codes.contains(not), "{}: unexpected {not}", c.file);
        }
        if c.state != C2paState::NoManifest {
            assert_eq!(r.validator.as_deref(), Some("c2pa-rs 0.90.22"));
            assert_eq!(r.signer.as_deref(), Some("C2PA Signer"), "{}", c.file);
            assert_eq!(
                r.issuer.as_deref(),
                Some("C2PA Test Signing Cert"),
                "{}",
                c.file
            );
            assert!(r.claim_generator.is_some(), "{}", c.file);
            assert!(r.active_manifest.is_some(), "{}", c.file);
            assert!(md.problems.is_empty(), "{}: {:?}", c.file, md.problems);
        }
    }
}

/// Without the validator, the container scan still says where a manifest store is,
/// and says it was not validated.
#[cfg(not(feature = "c2pa"))]
#[test]
fn manifest_stores_are_seen_but_not_validated() {
    let Some(dir) = shared("testdata/c2pa") else {
        return;
    };
    for f in ["C.jpg", "CA.jpg", "boxhash.jpg", "XCA.jpg", "E-sig-CA.jpg"] {
        let md = extract_path(&dir.join(f), "image/jpeg");
        let r = md
            .c2pa
            .as_ref()
            .unwrap_or_else(|| panic!("{f}: manifest store not seen"));
        assert_eq!(r.state, C2paState::NotValidated, "{f}");
        assert_eq!(r.found_in.as_deref(), Some("jpeg APP11 JUMBF"));
        assert!(
            r.statuses.is_empty() && r.signer.is_none(),
            "{f}: nothing is claimed unvalidated"
        );
    }
    for f in ["no_manifest.jpg", "sample1.png"] {
        let md = extract_path(&dir.join(f), "application/octet-stream");
        assert!(md.c2pa.is_none(), "{f}");
    }
}
