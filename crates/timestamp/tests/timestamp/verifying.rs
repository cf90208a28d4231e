//! Verification outcomes: expiry after genTime, and each way a token must be rejected,
//! each checked against `openssl ts -verify` as well.

use std::time::{Duration, SystemTime};

use custody_timestamp::{CheckKind, Outcome, Status, TrustAnchors, verify};

use crate::{CHECKPOINT, Fixture, TIMEOUT, failed, need_openssl, sha256, unix};
use custody_testkit::pki::{DAY, Eku, Key, Pki};
use custody_testkit::tsa::{OpensslTsa, Server, TsaConfig};

fn date(t: SystemTime) -> String {
    let d = der::DateTime::from_system_time(t).unwrap();
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

#[test]
fn token_stays_valid_after_the_tsa_certificate_expires() {
    need_openssl!();
    let now = SystemTime::now();
    // Whole seconds, as the certificate stores them.
    let not_after = SystemTime::UNIX_EPOCH + Duration::from_secs(unix(now) + 3600);
    let fx = Fixture::with_validity(Key::P256, TsaConfig::default(), now - DAY, not_after);
    let stamp = fx.stamp();
    let trust = fx.trust();
    let digest = sha256(CHECKPOINT);

    let today = verify(&stamp.token_der, &digest, &trust, &[], SystemTime::now());
    assert_eq!(today.status, Status::ValidNow, "{today}");

    let later = not_after + 2 * DAY;
    let report = verify(&stamp.token_der, &digest, &trust, &[], later);
    assert!(failed(&report).is_empty(), "{report}");
    let expected = format!(
        "CN=Test TSA,O=Custody Test: valid then, expired since {}",
        date(not_after)
    );
    match &report.status {
        Status::ValidAtGenTime { note } => assert_eq!(note, &expected),
        other => panic!("expected ValidAtGenTime, got {other:?}\n{report}"),
    }
    assert!(report.is_valid());
    assert_eq!(
        report.check(CheckKind::ValidityAtGenTime).unwrap().outcome,
        Outcome::Pass
    );
    assert_eq!(
        report.check(CheckKind::ValidityNow).unwrap().outcome,
        Outcome::Warn
    );
    assert!(report.chain[0].valid_at_gen_time && !report.chain[0].valid_now);
    assert!(report.chain[1].valid_now && report.chain[2].valid_now);
    let text = report.to_string();
    assert!(text.starts_with("VALID AT genTime: "), "{text}");
    assert!(text.contains(&expected), "{text}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["status"]["status"], "valid_at_gen_time");
    assert_eq!(json["status"]["note"], expected.as_str());

    // openssl judges the chain at the evaluation time (-attime): it accepts the token
    // today and at genTime, and rejects it once the TSA certificate has expired; which
    // is why the documented third-party command passes -attime genTime.
    let (ok, text) = fx.openssl_verify(&stamp.token_der, None);
    assert!(ok, "{text}");
    let gen_unix = unix(stamp.info.gen_time.to_system_time());
    let (ok, text) = fx.openssl_verify(&stamp.token_der, Some(gen_unix));
    assert!(ok, "{text}");
    let (ok, text) = fx.openssl_verify(&stamp.token_der, Some(unix(later)));
    assert!(!ok, "openssl accepted an expired chain:\n{text}");
    assert!(text.contains("certificate has expired"), "{text}");
}

#[test]
fn token_for_other_data_is_rejected() {
    need_openssl!();
    let fx = Fixture::new(Key::P256, TsaConfig::default());
    let stamp = fx.stamp();
    let report = verify(
        &stamp.token_der,
        &sha256(b"custody/test-unit/6f0c3e5d\n43\n"),
        &fx.trust(),
        &[],
        SystemTime::now(),
    );
    assert_eq!(failed(&report), [CheckKind::MessageImprint], "{report}");
    match &report.status {
        Status::Invalid { reason } => {
            assert!(reason.contains("issued for other data"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn altered_tokens_are_rejected() {
    need_openssl!();
    let fx = Fixture::new(Key::Rsa2048, TsaConfig::default());
    let stamp = fx.stamp();
    let digest = sha256(CHECKPOINT);
    let trust = fx.trust();

    // Move genTime by one second inside the signed TSTInfo.
    let gen_text = stamp.info.gen_time.as_str().as_bytes().to_vec();
    let at = stamp
        .token_der
        .windows(gen_text.len())
        .position(|w| w == gen_text.as_slice())
        .expect("genTime in the token");
    let mut moved = stamp.token_der.clone();
    let digit = at + 13; // the seconds' last digit
    moved[digit] = if moved[digit] == b'9' {
        b'8'
    } else {
        moved[digit] + 1
    };
    let report = verify(&moved, &digest, &trust, &[], SystemTime::now());
    assert_eq!(failed(&report), [CheckKind::MessageDigest], "{report}");
    assert!(
        report
            .check(CheckKind::MessageDigest)
            .unwrap()
            .message
            .contains("altered after signing"),
        "{report}"
    );
    let (ok, text) = fx.openssl_verify(&moved, None);
    assert!(!ok, "openssl accepted a moved genTime:\n{text}");

    // Flip a bit of the signature (the last field of the token).
    let mut forged = stamp.token_der.clone();
    let last = forged.len() - 1;
    forged[last] ^= 0x01;
    let report = verify(&forged, &digest, &trust, &[], SystemTime::now());
    assert_eq!(failed(&report), [CheckKind::Signature], "{report}");
    let (ok, text) = fx.openssl_verify(&forged, None);
    assert!(!ok, "openssl accepted a forged signature:\n{text}");

    // Not a token at all, or a truncated one.
    for junk in [
        &b"not a token"[..],
        &stamp.token_der[..stamp.token_der.len() / 2],
        &fx.tsa_cert.der,
    ] {
        let report = verify(junk, &digest, &trust, &[], SystemTime::now());
        assert_eq!(failed(&report), [CheckKind::Structure], "{report}");
        assert!(custody_timestamp::parse_token(junk).is_err());
    }
}

#[test]
fn tsa_certificate_must_have_only_critical_time_stamping() {
    need_openssl!();
    let fx = Fixture::new(Key::P256, TsaConfig::default());
    let stamp = fx.stamp();
    let digest = sha256(CHECKPOINT);
    let trust = fx.trust();
    let now = SystemTime::now();

    // Control: re-signing the same TSTInfo with the proper TSA certificate through
    // `openssl cms` gives a token that passes here and in openssl.
    let control = fx
        .pki
        .resign(&stamp.token_der, &fx.tsa_cert, &[&fx.intermediate], true);
    let report = verify(&control, &digest, &trust, &[], now);
    assert_eq!(report.status, Status::ValidNow, "{report}");
    let (ok, text) = fx.openssl_verify(&control, None);
    assert!(ok, "{text}");

    for (eku, message) in [
        (Eku::Missing, "has no extendedKeyUsage extension"),
        (Eku::NonCritical, "is not marked critical"),
        (Eku::ExtraPurpose, "has 2 purposes"),
    ] {
        let cert = fx.pki.tsa(
            &fx.intermediate,
            Key::P256,
            "Test TSA",
            eku,
            now - DAY,
            now + 30 * DAY,
        );
        let token = fx
            .pki
            .resign(&stamp.token_der, &cert, &[&fx.intermediate], true);
        let report = verify(&token, &digest, &trust, &[], now);
        assert_eq!(
            failed(&report),
            [CheckKind::TsaCertificateUsage],
            "{eku:?}\n{report}"
        );
        let found = &report
            .check(CheckKind::TsaCertificateUsage)
            .unwrap()
            .message;
        assert!(found.contains(message), "{eku:?}: {found}");
        let (ok, text) = fx.openssl_verify(&token, None);
        assert!(!ok, "{eku:?}: openssl accepted the token:\n{text}");
    }
}

#[test]
fn token_without_signing_certificate_attribute_is_rejected() {
    need_openssl!();
    let fx = Fixture::new(Key::P256, TsaConfig::default());
    let stamp = fx.stamp();
    let token = fx
        .pki
        .resign(&stamp.token_der, &fx.tsa_cert, &[&fx.intermediate], false);
    let report = verify(
        &token,
        &sha256(CHECKPOINT),
        &fx.trust(),
        &[],
        SystemTime::now(),
    );
    assert_eq!(
        failed(&report),
        [CheckKind::SigningCertificateAttribute],
        "{report}"
    );
    let (ok, text) = fx.openssl_verify(&token, None);
    assert!(
        !ok,
        "openssl accepted a token without ESS attribute:\n{text}"
    );
}

#[test]
fn chain_must_lead_to_a_configured_root() {
    need_openssl!();
    let fx = Fixture::new(Key::P256, TsaConfig::default());
    let stamp = fx.stamp();
    let digest = sha256(CHECKPOINT);
    // An unrelated root, and an impostor with the real root's name but another key.
    let unrelated = fx.pki.root(Key::P256, "Unrelated Root CA");
    let impostor = fx.pki.root(Key::Rsa2048, "Test Root CA");
    for root in [&unrelated, &impostor] {
        let trust = TrustAnchors::from_pem(&std::fs::read(&root.cert).unwrap()).unwrap();
        let report = verify(&stamp.token_der, &digest, &trust, &[], SystemTime::now());
        assert_eq!(failed(&report), [CheckKind::Chain], "{report}");
        let message = &report.check(CheckKind::Chain).unwrap().message;
        assert!(
            message.contains("does not lead to a trusted root"),
            "{message}"
        );
        let data = fx.pki.write("checkpoint", CHECKPOINT);
        let token = fx.pki.write("chain.tst", &stamp.token_der);
        let (ok, text) =
            crate::openssl_ts_verify(fx.pki.path(), &data, &token, true, &root.cert, None, None);
        assert!(!ok, "openssl accepted another root:\n{text}");
    }
    // No roots at all.
    let report = verify(
        &stamp.token_der,
        &digest,
        &TrustAnchors::new(),
        &[],
        SystemTime::now(),
    );
    assert_eq!(failed(&report), [CheckKind::Chain], "{report}");
}

#[test]
fn tsa_certificate_must_be_valid_at_gen_time() {
    need_openssl!();
    let now = SystemTime::now();
    let digest = sha256(CHECKPOINT);
    for (from, until, message) in [
        (now + DAY, now + 10 * DAY, "was not yet valid at genTime"),
        (now - 10 * DAY, now - DAY, "had already expired at genTime"),
    ] {
        let fx = Fixture::with_validity(Key::P256, TsaConfig::default(), from, until);
        // openssl ts -reply signs with such a certificate: only a verifier notices.
        let stamp = fx.stamp();
        let report = verify(
            &stamp.token_der,
            &digest,
            &fx.trust(),
            &[],
            now + Duration::from_secs(60),
        );
        assert_eq!(failed(&report), [CheckKind::ValidityAtGenTime], "{report}");
        let found = &report.check(CheckKind::ValidityAtGenTime).unwrap().message;
        assert!(
            found.starts_with(&format!("CN=Test TSA,O=Custody Test {message}")),
            "{found}"
        );
        let (ok, text) = fx.openssl_verify(&stamp.token_der, None);
        assert!(!ok, "openssl accepted the token:\n{text}");
    }
}

#[test]
fn missing_intermediate_can_be_supplied_by_the_caller() {
    need_openssl!();
    let pki = Pki::new();
    let now = SystemTime::now();
    // An all-ECDSA chain: P-384 root, P-256 intermediate signed with SHA-384, P-256 TSA.
    let root = pki.root(Key::P384, "EC Root CA");
    let intermediate = pki.issue(
        &root,
        Key::P256,
        "/O=Custody Test/CN=EC Issuing CA",
        "ext_intermediate",
        now - DAY,
        now + 365 * DAY,
        "sha384",
    );
    let tsa_cert = pki.tsa(
        &intermediate,
        Key::P256,
        "EC TSA",
        Eku::CriticalTimeStamping,
        now - DAY,
        now + 30 * DAY,
    );
    // This TSA includes only its own certificate, not the intermediate.
    let tsa = OpensslTsa::new(&pki, &tsa_cert, &[], &TsaConfig::default());
    let server = Server::start(tsa.handler());
    let digest = sha256(CHECKPOINT);
    let stamp = custody_timestamp::stamp(&server.url, &digest, TIMEOUT).unwrap();
    assert_eq!(stamp.certificates, vec![tsa_cert.der.clone()]);
    let trust = TrustAnchors::from_der(&root.der).unwrap();

    let report = verify(&stamp.token_der, &digest, &trust, &[], SystemTime::now());
    assert_eq!(failed(&report), [CheckKind::Chain], "{report}");
    let message = &report.check(CheckKind::Chain).unwrap().message;
    assert!(
        message.contains("no certificate of the issuer CN=EC Issuing CA,O=Custody Test"),
        "{message}"
    );

    let extra = vec![b"not a certificate".to_vec(), intermediate.der.clone()];
    let report = verify(&stamp.token_der, &digest, &trust, &extra, SystemTime::now());
    assert_eq!(report.status, Status::ValidNow, "{report}");
    let signer = &report.check(CheckKind::SignerCertificate).unwrap().message;
    assert!(
        signer.contains("; ignored: extra certificate 1: not a valid X.509 certificate"),
        "{signer}"
    );

    // The same with openssl: -untrusted carries the intermediate.
    let data = pki.write("checkpoint", CHECKPOINT);
    let token = pki.write("ec.tst", &stamp.token_der);
    let untrusted = pki.bundle("ec-untrusted.pem", &[&intermediate]);
    let (ok, text) = crate::openssl_ts_verify(
        pki.path(),
        &data,
        &token,
        true,
        &root.cert,
        Some(&untrusted),
        None,
    );
    assert!(ok, "{text}");
}

#[test]
fn issuer_must_be_a_ca() {
    need_openssl!();
    let pki = Pki::new();
    let now = SystemTime::now();
    let root = pki.root(Key::P256, "Root CA");
    // An end-entity certificate (CA:FALSE) that nevertheless issues the TSA certificate.
    let not_ca = pki.issue(
        &root,
        Key::P256,
        "/O=Custody Test/CN=Not A CA",
        "ext_not_ca",
        now - DAY,
        now + 365 * DAY,
        "sha256",
    );
    let tsa_cert = pki.tsa(
        &not_ca,
        Key::P256,
        "Test TSA",
        Eku::CriticalTimeStamping,
        now - DAY,
        now + 30 * DAY,
    );
    let tsa = OpensslTsa::new(&pki, &tsa_cert, &[&not_ca], &TsaConfig::default());
    let server = Server::start(tsa.handler());
    let digest = sha256(CHECKPOINT);
    let stamp = custody_timestamp::stamp(&server.url, &digest, TIMEOUT).unwrap();
    let trust = TrustAnchors::from_der(&root.der).unwrap();
    let report = verify(&stamp.token_der, &digest, &trust, &[], SystemTime::now());
    assert_eq!(failed(&report), [CheckKind::Chain], "{report}");
    let message = &report.check(CheckKind::Chain).unwrap().message;
    assert!(message.contains("is not a CA"), "{message}");
}

#[test]
fn damaged_tokens_never_panic_and_every_damaged_byte_is_caught() {
    need_openssl!();
    let fx = Fixture::new(Key::P256, TsaConfig::default());
    let stamp = fx.stamp();
    let digest = sha256(CHECKPOINT);
    let trust = fx.trust();
    let token = &stamp.token_der;
    for len in 0..token.len() {
        let report = verify(&token[..len], &digest, &trust, &[], SystemTime::now());
        assert!(!report.is_valid(), "a token cut to {len} bytes verified");
    }
    let mut accepted = Vec::new();
    for at in 0..token.len() {
        let mut damaged = token.clone();
        damaged[at] ^= 0x04;
        let _ = custody_timestamp::parse_token(&damaged);
        let report = verify(&damaged, &digest, &trust, &[], SystemTime::now());
        if report.is_valid() {
            accepted.push(at);
        }
    }
    // Every byte counts: what is signed, and the unsigned framing around it (versions,
    // the digestAlgorithms list, algorithm parameters, BIT STRING padding), which is
    // checked for conformance.
    assert!(accepted.is_empty(), "damage at {accepted:?} went unnoticed");
}

/// The CMS signing time OpenSSL's TSA signs beside genTime is read, and is genTime to
/// within a second (it is taken a moment apart); a token without signed attributes to
/// read gives none.
#[test]
fn the_cms_signing_time_beside_gen_time_is_read() {
    need_openssl!();
    let fx = Fixture::new(Key::P256, TsaConfig::default());
    let stamp = fx.stamp();
    let gen_time = unix(stamp.info.gen_time.to_system_time()) as i64;
    let signed = custody_timestamp::cms_signing_time(&stamp.token_der)
        .expect("OpenSSL signs a signing time");
    assert!(
        (signed - gen_time).abs() <= 1,
        "signed {signed}, genTime {gen_time}"
    );
    assert_eq!(custody_timestamp::cms_signing_time(b"not a token"), None);
    let mut cut = stamp.token_der.clone();
    cut.truncate(cut.len() / 2);
    assert_eq!(custody_timestamp::cms_signing_time(&cut), None);
}
