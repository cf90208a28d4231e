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
        // Every fixture goes to the validator: no_manifest.jpg names a manifest in its
        // XMP, and only JPEGs are searched first.
        assert_eq!(
            r.validator.as_deref(),
            Some("c2pa-rs 0.90.22"),
            "{}",
            c.file
        );
        if c.state != C2paState::NoManifest {
            assert_eq!(r.signer.as_deref(), Some("C2PA Signer"), "{}", c.file);
            assert_eq!(
                r.issuer.as_deref(),
                Some("C2PA Test Signing Cert"),
                "{}",
                c.file
            );
            assert!(r.claim_generator.is_some(), "{}", c.file);
            // The certificates the signature was verified with, kept for the vault.
            assert!(!r.signer_chain.is_empty(), "{}", c.file);
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

/// `jpeg` with a segment (marker `marker`, contents `body`) put right after SOI.
#[cfg(feature = "c2pa")]
fn with_segment(jpeg: &[u8], marker: u8, body: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&(body.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// `jpeg` (segments and EOI only) with a one-component scan holding `entropy` put
/// before its EOI.
#[cfg(feature = "c2pa")]
fn with_scan(jpeg: &[u8], entropy: &[u8]) -> Vec<u8> {
    let mut out = jpeg
        .strip_suffix(&[0xFF, 0xD9])
        .expect("ends with EOI")
        .to_vec();
    out.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    out.extend_from_slice(entropy);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

#[cfg(feature = "c2pa")]
fn c2pa_of(bytes: &[u8]) -> custody_extract::C2paReport {
    let md = custody_extract::extract_reader(
        &mut std::io::Cursor::new(bytes),
        bytes.len() as u64,
        "image/jpeg",
    );
    md.c2pa.expect("a c2pa report for every JPEG")
}

/// A JPEG in which no byte could begin content credentials is reported without a
/// validator run; one such byte string before the scan sends it to the validator.
#[cfg(feature = "c2pa")]
#[test]
fn the_validator_runs_when_some_byte_could_begin_credentials() {
    let segments = crate::synth::jpeg_with_gps([50, 27, 0], [30, 13, 0], None);
    let scan = [0x5Au8; 100];
    let plain = with_scan(&segments, &scan);
    let r = c2pa_of(&plain);
    assert_eq!(r.state, C2paState::NoManifest, "{r:#?}");
    assert_eq!(r.validator, None, "{r:#?}");

    let labelled = with_scan(
        &with_segment(&segments, 0xFE, b"a comment that says c2pa"),
        &scan,
    );
    let r = c2pa_of(&labelled);
    assert_eq!(r.state, C2paState::NoManifest, "{r:#?}");
    assert_eq!(r.validator.as_deref(), Some("c2pa-rs 0.90.22"), "{r:#?}");

    let referenced = with_scan(&with_segment(&segments, 0xE1, REMOTE_XMP), &scan);
    let md = custody_extract::extract_reader(
        &mut std::io::Cursor::new(&referenced),
        referenced.len() as u64,
        "image/jpeg",
    );
    // A manifest kept elsewhere is named, not fetched: the vault never goes online.
    let r = md.c2pa.expect("a c2pa report");
    assert_eq!(r.state, C2paState::Unreadable, "{r:#?}");
    assert_eq!(r.validator.as_deref(), Some("c2pa-rs 0.90.22"), "{r:#?}");
    assert!(
        md.problems.iter().any(|p| p.contains("remote manifest")
            && p.contains("https://example.invalid/manifest.c2pa")),
        "{:?}",
        md.problems
    );
}

/// An XMP packet naming a manifest kept elsewhere.
#[cfg(feature = "c2pa")]
const REMOTE_XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\
    <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
    <rdf:Description xmlns:dcterms=\"http://purl.org/dc/terms/\" \
    dcterms:provenance=\"https://example.invalid/manifest.c2pa\"/>\
    </rdf:RDF></x:xmpmeta>";

/// In a JPEG the validator reads the segments before the first scan only, so a sign in
/// the image data or after its end does not send the file to it. A JPEG whose header is
/// irregular (a marker T.81 does not define) or damaged goes to the validator whatever
/// it holds: the validator may not parse it, and says so.
#[cfg(feature = "c2pa")]
#[test]
fn in_a_jpeg_only_the_segments_before_the_scan_are_searched() {
    let segments = crate::synth::jpeg_with_gps([50, 27, 0], [30, 13, 0], None);
    let mut entropy = vec![0x5Au8; 70_000];
    entropy[69_000..69_004].copy_from_slice(b"c2pa");
    let after_the_scan = with_scan(&segments, &entropy);
    let r = c2pa_of(&after_the_scan);
    assert_eq!(r.state, C2paState::NoManifest, "{r:#?}");
    assert_eq!(r.validator, None, "{r:#?}");

    let mut trailing = with_scan(&segments, &[0x5A; 100]);
    trailing.extend_from_slice(b"dcterms:provenance=\"https://example.invalid/m\"");
    assert_eq!(c2pa_of(&trailing).validator, None);

    let validated = |bytes: &[u8], what: &str| {
        let r = c2pa_of(bytes);
        assert_eq!(
            r.validator.as_deref(),
            Some("c2pa-rs 0.90.22"),
            "{what}: {r:#?}"
        );
        r
    };
    // A reserved marker (0x02) with a length: irregular.
    let reserved = with_scan(&with_segment(&segments, 0x02, b"reserved"), &[0x5A; 10]);
    validated(&reserved, "reserved marker");
    // The scan's header is the last thing in the file: c2pa-rs cannot parse that.
    let mut cut = segments.strip_suffix(&[0xFF, 0xD9]).unwrap().to_vec();
    cut.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    let r = validated(&cut, "scan header at the end");
    assert_eq!(r.state, C2paState::Unreadable, "{r:#?}");
    // A segment whose length runs past the end of the file.
    let mut long = segments.strip_suffix(&[0xFF, 0xD9]).unwrap().to_vec();
    long.extend_from_slice(&[0xFF, 0xFE, 0x40, 0x00, b'x']);
    let r = validated(&long, "segment past the end");
    assert_eq!(r.state, C2paState::Unreadable, "{r:#?}");
}

/// The shared fixtures carry DigiCert tokens of version-1 claims (`sigTst`, over the
/// claim). For every one whose claim is intact the token stamps what the extractor says
/// it must; for `E-sig-CA.jpg`, whose claim was altered after signing, it does not.
/// `openssl ts -verify -digest` gives the same answers on these tokens.
#[cfg(feature = "c2pa")]
#[test]
fn version_1_claims_time_stamps_are_read_with_what_they_stamp() {
    let Some(dir) = shared("testdata/c2pa") else {
        return;
    };
    for (file, at, matches) in [
        ("C.jpg", "2024-08-06T21:53:37Z", true),
        ("CA.jpg", "2024-08-06T21:53:37Z", true),
        ("XCA.jpg", "2024-08-06T21:53:37Z", true),
        ("boxhash.jpg", "2022-06-15T17:36:48Z", true),
        ("E-sig-CA.jpg", "2024-08-06T21:53:37Z", false),
    ] {
        let md = extract_path(&dir.join(file), "application/octet-stream");
        let t = md.c2pa.as_ref().and_then(|c| c.time_stamp.clone());
        let t = t.unwrap_or_else(|| panic!("{file}: no time-stamp read: {:?}", md.problems));
        assert_eq!(
            (t.header.as_str(), t.covers.as_str(), t.gen_time.as_str()),
            ("sigTst", "claim", at),
            "{file}"
        );
        assert_eq!(t.imprint_matches, matches, "{file}: {t:?}");
        // One data hash whose one exclusion is the APP11 segments of the store.
        assert!(t.covers_file, "{file}: {:?}", t.coverage_note);
        let token = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &t.token)
            .expect("base64");
        let info = custody_timestamp::parse_token(&token).expect("a TimeStampToken");
        assert_eq!(info.message_imprint == t.stamped_digest, matches, "{file}");
    }
    // No manifest, no time-stamp.
    let md = extract_path(&dir.join("no_manifest.jpg"), "application/octet-stream");
    assert!(md.c2pa.unwrap().time_stamp.is_none());
}

/// A test PKI and a camera photo to sign, or `None` (said) when openssl or the shared
/// files are missing.
#[cfg(feature = "c2pa")]
fn pki_and_photo() -> Option<(custody_testkit::pki::Pki, Vec<u8>)> {
    if !custody_testkit::pki::openssl_available() {
        eprintln!("skipped: openssl not found");
        return None;
    }
    let photo = shared("testdata/exif/jpg/gps/DSCN0010.jpg")?;
    Some((
        custody_testkit::pki::Pki::new(),
        std::fs::read(photo).unwrap(),
    ))
}

/// A version-2 claim (what c2pa-rs writes today) keeps its token in `sigTst2`, over the
/// claim's signature. Signed here with a time-stamp from a local TSA, the token is read,
/// stamps what the extractor says it must, and verifies against that TSA's root and
/// no other.
#[cfg(feature = "c2pa")]
#[test]
fn a_version_2_claims_time_stamp_is_read_and_verifies_against_its_root() {
    use custody_testkit::pki::{DAY, Eku, Key};
    let Some((pki, photo)) = pki_and_photo() else {
        return;
    };
    let root = pki.root(Key::Rsa2048, "C2PA Test TSA Root");
    let now = std::time::SystemTime::now();
    let tsa_cert = pki.tsa(
        &root,
        Key::Rsa2048,
        "C2PA Test TSA",
        Eku::CriticalTimeStamping,
        now - DAY,
        now + DAY,
    );
    let tsa = custody_testkit::tsa::OpensslTsa::new(
        &pki,
        &tsa_cert,
        &[&root],
        &custody_testkit::tsa::TsaConfig::default(),
    );
    let signer = custody_testkit::c2pa::StampingSigner {
        inner: Box::new(c2pa::EphemeralSigner::new("custody.test").expect("ephemeral signer")),
        tsa,
    };
    let signed = custody_testkit::c2pa::sign_jpeg_with(&photo, &signer);

    let md = custody_extract::extract_reader(
        &mut std::io::Cursor::new(&signed),
        signed.len() as u64,
        "image/jpeg",
    );
    let c = md.c2pa.as_ref().expect("a c2pa report");
    assert_eq!(c.state, C2paState::Valid, "{c:#?}");
    let t = c
        .time_stamp
        .clone()
        .unwrap_or_else(|| panic!("no time-stamp: {:?}", md.problems));
    assert_eq!(
        (t.header.as_str(), t.covers.as_str()),
        ("sigTst2", "claim signature")
    );
    assert!(t.imprint_matches, "{t:?}");
    assert!(t.covers_file, "{:?}", t.coverage_note);
    let token =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &t.token).unwrap();
    let digest = hex::decode(&t.stamped_digest).unwrap();
    let alg = custody_timestamp::HashAlg::from_name(&t.imprint_algorithm).unwrap();
    let anchors = |cert: &custody_testkit::pki::Issued| {
        custody_timestamp::TrustAnchors::from_der(&cert.der).unwrap()
    };
    let v = custody_timestamp::verify_digest(&token, alg, &digest, &anchors(&root), &[], now);
    assert!(v.is_valid(), "{:?}", v.status);
    // Another root does not vouch for it.
    let stranger = pki.root(Key::Rsa2048, "Another Root");
    let v = custody_timestamp::verify_digest(&token, alg, &digest, &anchors(&stranger), &[], now);
    assert!(!v.is_valid());
    // Nor does the token stamp anything else.
    let mut other = digest.clone();
    other[0] ^= 1;
    let v = custody_timestamp::verify_digest(&token, alg, &other, &anchors(&root), &[], now);
    assert!(!v.is_valid());
}

/// The certificates the validator verified the signature with are kept, the signer's
/// first, for the vault to judge against its own trust anchors. Why the vault judges
/// them itself rather than giving its anchors to c2pa-rs: c2pa-rs 0.90.22's trust check
/// accepts a chain in which a signer's certificate, which is no CA, issued the signer's;
/// the vault's (`custody_timestamp::verify_chain`, as for TSAs) refuses it.
#[cfg(feature = "c2pa")]
#[test]
fn the_signers_chain_is_kept_for_the_vault_to_judge() {
    use custody_testkit::pki::{DAY, Key};
    let Some((pki, photo)) = pki_and_photo() else {
        return;
    };
    let now = std::time::SystemTime::now();
    let root = pki.root(Key::P256, "Test Root");
    let ca = pki.intermediate(&root, Key::P256, "Test Signing CA");
    let camera = pki.c2pa_signer(&ca, "Test Camera", true, now - DAY, now + DAY);
    let rogue = pki.c2pa_signer(&camera, "Rogue", true, now - DAY, now + DAY);
    let chain_pem = pki.bundle("rogue-chain.pem", &[&rogue, &camera, &ca]);
    let signed = custody_testkit::c2pa::sign_jpeg(&photo, &chain_pem, &rogue.key);
    let md = custody_extract::extract_reader(
        &mut std::io::Cursor::new(&signed),
        signed.len() as u64,
        "image/jpeg",
    );
    let c = md.c2pa.expect("a c2pa report");
    assert_eq!(c.state, C2paState::Valid, "{:?}", c.statuses);
    let chain: Vec<Vec<u8>> = c
        .signer_chain
        .iter()
        .map(|b| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).unwrap())
        .collect();
    assert_eq!(
        chain,
        [rogue.der.clone(), camera.der.clone(), ca.der.clone()]
    );

    let mut policy = c2pa::crypto::cose::CertificateTrustPolicy::default();
    policy
        .add_trust_anchors(&std::fs::read(&root.cert).unwrap())
        .unwrap();
    assert!(
        policy
            .check_certificate_trust(&chain[1..], &chain[0], None)
            .is_ok(),
        "c2pa-rs's trust check has changed: revisit docs/design/metadata.md §7"
    );
    let anchors = custody_timestamp::TrustAnchors::from_der(&root.der).unwrap();
    let why = custody_timestamp::verify_chain(
        &chain[0],
        &chain[1..],
        &anchors,
        (now, "now"),
        &["1.3.6.1.5.5.7.3.4"],
    )
    .unwrap_err();
    assert!(why.contains("is not a CA"), "{why}");
    // The camera's own chain is sound.
    let ok = custody_timestamp::verify_chain(
        &camera.der,
        std::slice::from_ref(&ca.der),
        &anchors,
        (now, "now"),
        &["1.3.6.1.5.5.7.3.4"],
    )
    .unwrap();
    assert_eq!(ok.subjects.len(), 3);
    assert!(ok.root().contains("Test Root"));
    // A purpose the certificate does not have, or a time it was not valid at.
    let why = custody_timestamp::verify_chain(
        &camera.der,
        std::slice::from_ref(&ca.der),
        &anchors,
        (now, "now"),
        &["1.3.6.1.4.1.62558.2.1"],
    )
    .unwrap_err();
    assert!(why.contains("names none of the purposes"), "{why}");
    let why = custody_timestamp::verify_chain(
        &camera.der,
        std::slice::from_ref(&ca.der),
        &anchors,
        (now + 3 * DAY, "the claim's time-stamp"),
        &["1.3.6.1.5.5.7.3.4"],
    )
    .unwrap_err();
    assert!(
        why.contains("had already expired at the claim's time-stamp"),
        "{why}"
    );
}

/// A signer's certificate whose Ed25519 key is of small order (here the identity
/// point): c2pa-rs checks Ed25519 without refusing such keys, and the one signature
/// R = identity, S = 0 then verifies over any claim, so a time-stamp over it would date
/// any picture. The extractor calls such credentials invalid and keeps no time-stamp.
#[cfg(feature = "c2pa")]
#[test]
fn an_ed25519_key_of_small_order_proves_nothing() {
    use custody_testkit::pki::{Key, openssl};
    let Some((pki, photo)) = pki_and_photo() else {
        return;
    };
    let root = pki.root(Key::P256, "Test Root");
    let dir = pki.path();
    // SubjectPublicKeyInfo of Ed25519 with the identity point (0x01, then zeros).
    let mut spki = hex::decode("302a300506032b6570032100").unwrap();
    spki.push(1);
    spki.extend([0u8; 31]);
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &spki)
    );
    pki.write("weak.pub.pem", pem.as_bytes());
    pki.write(
        "weak.ext",
        b"[ s ]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n\
          extendedKeyUsage = emailProtection\nsubjectKeyIdentifier = hash\n\
          authorityKeyIdentifier = keyid:always\n",
    );
    let p = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &p("any.key"),
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            &p("any.key"),
            "-subj",
            "/O=Custody Test/CN=Universal Signer",
            "-out",
            &p("weak.csr"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &p("weak.csr"),
            "-CA",
            root.cert.to_str().unwrap(),
            "-CAkey",
            root.key.to_str().unwrap(),
            "-force_pubkey",
            &p("weak.pub.pem"),
            "-extfile",
            &p("weak.ext"),
            "-extensions",
            "s",
            "-days",
            "2",
            "-outform",
            "DER",
            "-out",
            &p("weak.der"),
        ],
    );
    let weak = std::fs::read(dir.join("weak.der")).unwrap();

    struct Universal(Vec<Vec<u8>>);
    impl c2pa::Signer for Universal {
        fn sign(&self, _data: &[u8]) -> c2pa::Result<Vec<u8>> {
            let mut sig = vec![0u8; 64];
            sig[0] = 1; // R = the identity point, S = 0
            Ok(sig)
        }
        fn alg(&self) -> c2pa::SigningAlg {
            c2pa::SigningAlg::Ed25519
        }
        fn certs(&self) -> c2pa::Result<Vec<Vec<u8>>> {
            Ok(self.0.clone())
        }
        fn reserve_size(&self) -> usize {
            16 * 1024
        }
    }
    let signed =
        custody_testkit::c2pa::sign_jpeg_with(&photo, &Universal(vec![weak, root.der.clone()]));
    let md = custody_extract::extract_reader(
        &mut std::io::Cursor::new(&signed),
        signed.len() as u64,
        "image/jpeg",
    );
    let c = md.c2pa.expect("a c2pa report");
    let codes: Vec<&str> = c.statuses.iter().map(|s| s.code.as_str()).collect();
    assert!(
        codes.contains(&"custody.signingCredential.weakKey"),
        "{codes:?}"
    );
    assert_eq!(c.state, C2paState::Invalid, "{codes:?}");
    assert!(c.time_stamp.is_none());
}
