//! Obtaining tokens from the openssl TSA and verifying them here and with openssl.

use std::time::SystemTime;

use custody_timestamp::{CheckKind, Outcome, Status, TrustAnchors, verify, verify_data};

use crate::{CHECKPOINT, Fixture, failed, need_openssl, openssl_ts_verify, sha256};
use custody_testkit::pki::{Key, openssl};
use custody_testkit::tsa::{POLICY, TsaConfig};

#[test]
fn rsa_token_verifies_here_and_with_openssl() {
    need_openssl!();
    let fx = Fixture::new(Key::Rsa2048, TsaConfig::default());
    let stamp = fx.stamp();

    assert_eq!(stamp.info.hash_algorithm, "sha256");
    assert_eq!(stamp.info.message_imprint, hex::encode(sha256(CHECKPOINT)));
    assert_eq!(stamp.info.policy, POLICY);
    assert_eq!(
        stamp.info.tsa_name.as_deref(),
        Some("CN=Test TSA,O=Custody Test")
    );
    assert!(stamp.info.ordering);
    let acc = stamp.info.accuracy.expect("accuracy configured");
    assert_eq!((acc.seconds, acc.millis, acc.micros), (1, 500, 100));
    // The TSA certificate first, then the intermediate from -chain.
    assert_eq!(stamp.certificates.len(), 2);
    assert_eq!(stamp.certificates[0], fx.tsa_cert.der);
    assert_eq!(stamp.certificates[1], fx.intermediate.der);

    let report = verify(
        &stamp.token_der,
        &sha256(CHECKPOINT),
        &fx.trust(),
        &[],
        SystemTime::now(),
    );
    assert_eq!(report.status, Status::ValidNow, "{report}");
    assert!(failed(&report).is_empty(), "{report}");
    for kind in [
        CheckKind::MessageImprint,
        CheckKind::ContentType,
        CheckKind::MessageDigest,
        CheckKind::Signature,
        CheckKind::SigningCertificateAttribute,
        CheckKind::TsaCertificateUsage,
        CheckKind::TsaName,
        CheckKind::Chain,
        CheckKind::ValidityAtGenTime,
        CheckKind::ValidityNow,
    ] {
        assert_eq!(
            report.check(kind).map(|c| c.outcome),
            Some(Outcome::Pass),
            "{kind:?}\n{report}"
        );
    }
    assert_eq!(
        report.check(CheckKind::Revocation).unwrap().outcome,
        Outcome::NotChecked
    );
    let sig = &report.check(CheckKind::Signature).unwrap().message;
    assert!(sig.contains("RSA PKCS#1 v1.5 with sha256"), "{sig}");
    let chain: Vec<_> = report.chain.iter().map(|c| c.role).collect();
    assert_eq!(chain, ["tsa", "intermediate", "root"]);

    // openssl agrees, on the token and on the whole response.
    let (ok, text) = fx.openssl_verify(&stamp.token_der, None);
    assert!(ok, "openssl ts -verify rejected the token:\n{text}");
    let resp = fx.pki.write("stamp.tsr", &stamp.response_der);
    let data = fx.pki.write("checkpoint", CHECKPOINT);
    let (ok, text) = openssl_ts_verify(
        fx.pki.path(),
        &data,
        &resp,
        false,
        &fx.root.cert,
        None,
        None,
    );
    assert!(ok, "openssl ts -verify rejected the response:\n{text}");
}

#[test]
fn ecdsa_tokens_verify_with_either_ess_version_and_fractional_time() {
    need_openssl!();
    let cases = [
        // P-256, ESSCertID (SHA-1, SigningCertificate), genTime with milliseconds.
        (
            Key::P256,
            TsaConfig {
                ess_cert_id_alg: "sha1",
                precision: 3,
                ..TsaConfig::default()
            },
            "ECDSA with sha256",
            "SigningCertificate identifies",
        ),
        // P-384 signing with SHA-384, ESSCertIDv2 with SHA-384.
        (
            Key::P384,
            TsaConfig {
                signer_digest: "sha384",
                ess_cert_id_alg: "sha384",
                ..TsaConfig::default()
            },
            "ECDSA with sha384",
            "SigningCertificateV2 identifies the signer certificate by its sha384",
        ),
        // RSA signing with SHA-512.
        (
            Key::Rsa2048,
            TsaConfig {
                signer_digest: "sha512",
                ..TsaConfig::default()
            },
            "RSA PKCS#1 v1.5 with sha512",
            "SigningCertificateV2 identifies the signer certificate by its sha256",
        ),
    ];
    for (key, config, sig_text, ess_text) in cases {
        let precision = config.precision;
        let fx = Fixture::new(key, config);
        let stamp = fx.stamp();
        let report = verify(
            &stamp.token_der,
            &sha256(CHECKPOINT),
            &fx.trust(),
            &[],
            SystemTime::now(),
        );
        assert_eq!(report.status, Status::ValidNow, "{key:?}\n{report}");
        let sig = &report.check(CheckKind::Signature).unwrap().message;
        assert!(sig.contains(sig_text), "{key:?}: {sig}");
        let ess = &report
            .check(CheckKind::SigningCertificateAttribute)
            .unwrap()
            .message;
        assert!(ess.starts_with(ess_text), "{key:?}: {ess}");
        if precision == 3 {
            // DER GeneralizedTime drops trailing zeros of the fraction (and
            // the dot with them), so ".550" is written ".55" and ".000" is
            // absent: between zero and three digits after the seconds.
            let text = stamp.info.gen_time.as_str();
            assert!(text.ends_with('Z'), "{text}");
            let fraction = &text[14..text.len() - 1];
            if !fraction.is_empty() {
                let digits = &fraction[1..];
                assert!(fraction.starts_with('.'), "{text}");
                assert!((1..=3).contains(&digits.len()), "{text}");
                assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{text}");
                assert!(!digits.ends_with('0'), "{text}");
            }
        }
        let (ok, text) = fx.openssl_verify(&stamp.token_der, None);
        assert!(
            ok,
            "{key:?}: openssl ts -verify rejected the token:\n{text}"
        );
    }
}

#[test]
fn token_summary_agrees_with_openssl() {
    need_openssl!();
    let fx = Fixture::new(Key::P256, TsaConfig::default());
    let stamp = fx.stamp();
    let resp = fx.pki.write("summary.tsr", &stamp.response_der);
    let text = openssl(
        fx.pki.path(),
        &["ts", "-reply", "-in", resp.to_str().unwrap(), "-text"],
    );
    let field = |name: &str| -> String {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
            .trim()
            .to_owned()
    };
    let info = custody_timestamp::parse_token(&stamp.token_der).unwrap();
    let hex_of = |openssl_hex: String| {
        let h = openssl_hex.trim_start_matches("0x").to_ascii_lowercase();
        let h = h.trim_start_matches('0').to_owned();
        if h.len() % 2 == 1 { format!("0{h}") } else { h }
    };
    assert_eq!(hex_of(field("Serial number:")), info.serial_number);
    assert_eq!(Some(hex_of(field("Nonce:"))), info.nonce);
    assert_eq!(field("Hash Algorithm:"), "sha256");
    assert_eq!(field("TSA:"), "DirName:/O=Custody Test/CN=Test TSA");
    // "Time stamp: Nov 25 09:14:03 2026 GMT" against genTime.
    let dt = info.gen_time.date_time();
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let expected = format!(
        "{} {:>2} {:02}:{:02}:{:02} {} GMT",
        months[usize::from(dt.month()) - 1],
        dt.day(),
        dt.hour(),
        dt.minutes(),
        dt.seconds(),
        dt.year()
    );
    assert_eq!(field("Time stamp:"), expected);

    // The JSON summary carries the same values.
    let json: serde_json::Value = serde_json::from_str(&info.to_json()).unwrap();
    assert_eq!(json["serial_number"], info.serial_number.as_str());
    assert_eq!(json["nonce"], info.nonce.as_deref().unwrap());
    assert_eq!(json["policy"], POLICY);
    assert_eq!(json["hash_algorithm"], "sha256");
    assert_eq!(json["message_imprint"], hex::encode(sha256(CHECKPOINT)));
    assert_eq!(json["tsa_name"], "CN=Test TSA,O=Custody Test");
    assert_eq!(json["accuracy"]["millis"], 500);
    let gen_text = json["gen_time"].as_str().unwrap();
    assert_eq!(gen_text, info.gen_time.to_rfc3339());
    assert!(
        gen_text.ends_with('Z') && gen_text.len() == "2026-11-25T09:14:03Z".len(),
        "{gen_text}"
    );
}

#[test]
fn the_request_is_what_openssl_expects() {
    need_openssl!();
    let fx = Fixture::new(Key::P256, TsaConfig::default());
    let stamp = fx.stamp();
    let requests = fx.server.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let tsq = fx.pki.write("captured.tsq", &requests[0]);
    let text = openssl(
        fx.pki.path(),
        &["ts", "-query", "-in", tsq.to_str().unwrap(), "-text"],
    );
    assert!(text.contains("Certificate required: yes"), "{text}");
    assert!(text.contains("Hash Algorithm: sha256"), "{text}");
    let nonce_line = text
        .lines()
        .find_map(|l| l.strip_prefix("Nonce: "))
        .expect("a nonce");
    let openssl_nonce = nonce_line.trim_start_matches("0x").to_ascii_lowercase();
    assert_eq!(
        openssl_nonce.trim_start_matches('0'),
        stamp.info.nonce.as_deref().unwrap().trim_start_matches('0'),
    );
    // The imprint openssl reads is our digest: its hex dump lines hold the bytes.
    let digest = sha256(CHECKPOINT);
    let dumped: String = text
        .lines()
        .filter_map(|l| l.trim_start().split_once(" - "))
        .filter(|(offset, _)| offset.len() == 4 && offset.chars().all(|c| c.is_ascii_hexdigit()))
        .flat_map(|(_, rest)| {
            let bytes: String = rest.chars().take(47).collect();
            bytes
                .split([' ', '-'])
                .filter(|s| s.len() == 2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(dumped, hex::encode(digest), "{text}");
}

#[test]
fn stored_files_verify_with_openssl() {
    need_openssl!();
    let fx = Fixture::new(Key::Rsa2048, TsaConfig::default());
    let stamp = fx.stamp();
    let out = fx.pki.path().join("export");
    std::fs::create_dir(&out).unwrap();
    let files = stamp.write_files(&out, "checkpoint-42").unwrap();
    assert_eq!(std::fs::read(&files.token).unwrap(), stamp.token_der);
    assert_eq!(std::fs::read(&files.response).unwrap(), stamp.response_der);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files.summary).unwrap()).unwrap();
    assert_eq!(summary["serial_number"], stamp.info.serial_number.as_str());

    // Exactly the command of docs/design/timestamps.md, with the certificates file.
    let data = fx.pki.write("checkpoint", CHECKPOINT);
    let (ok, text) = openssl_ts_verify(
        fx.pki.path(),
        &data,
        &files.token,
        true,
        &fx.root.cert,
        Some(&files.certificates),
        None,
    );
    assert!(ok, "{text}");
    let (ok, text) = openssl_ts_verify(
        fx.pki.path(),
        &data,
        &files.response,
        false,
        &fx.root.cert,
        Some(&files.certificates),
        None,
    );
    assert!(ok, "{text}");
    // And the certificates file reads back as the token's certificates.
    let certs = custody_timestamp::certificates_from_pem(
        &std::fs::read(&files.certificates).unwrap(),
        "certs.pem",
    )
    .unwrap();
    assert_eq!(certs, stamp.certificates);
}

#[test]
fn a_caller_can_fall_back_to_the_next_tsa() {
    need_openssl!();
    let fx = Fixture::new(Key::P256, TsaConfig::default());
    // A port with nothing listening: bind, note the port, close.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/tsa", l.local_addr().unwrap())
    };
    let urls = [dead.as_str(), fx.server.url.as_str()];
    let mut errors = Vec::new();
    let mut stamp = None;
    for url in urls {
        match custody_timestamp::stamp(url, &sha256(CHECKPOINT), crate::TIMEOUT) {
            Ok(s) => {
                stamp = Some(s);
                break;
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    assert!(stamp.is_some());
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with(&format!("TSA {dead}: cannot connect to")),
        "{errors:?}"
    );
}

#[test]
fn tokens_for_sha512_queries_made_by_openssl_verify_from_the_data() {
    need_openssl!();
    let fx = Fixture::new(Key::P384, TsaConfig::default());
    let data = fx.pki.write(
        "evidence.bin",
        b"synthetic evidence bytes, not a real exhibit",
    );
    let tsq = fx.pki.path().join("sha512.tsq");
    openssl(
        fx.pki.path(),
        &[
            "ts",
            "-query",
            "-data",
            data.to_str().unwrap(),
            "-sha512",
            "-cert",
            "-out",
            tsq.to_str().unwrap(),
        ],
    );
    let resp = fx.tsa.reply(&std::fs::read(&tsq).unwrap()).unwrap();
    let tst = fx.pki.path().join("sha512.tst");
    let resp_path = fx.pki.write("sha512.tsr", &resp);
    openssl(
        fx.pki.path(),
        &[
            "ts",
            "-reply",
            "-in",
            resp_path.to_str().unwrap(),
            "-token_out",
            "-out",
            tst.to_str().unwrap(),
        ],
    );
    let token = std::fs::read(&tst).unwrap();
    let trust = fx.trust();
    let bytes = std::fs::read(&data).unwrap();
    let report = verify_data(&token, &bytes, &trust, &[], SystemTime::now());
    assert_eq!(report.status, Status::ValidNow, "{report}");
    assert_eq!(report.info.as_ref().unwrap().hash_algorithm, "sha512");

    // A SHA-256 digest cannot stand in for a SHA-512 imprint.
    let report = verify(&token, &sha256(&bytes), &trust, &[], SystemTime::now());
    assert_eq!(failed(&report), [CheckKind::MessageImprint], "{report}");
    let other = verify_data(&token, b"other bytes", &trust, &[], SystemTime::now());
    assert_eq!(failed(&other), [CheckKind::MessageImprint], "{other}");
    let _ = TrustAnchors::new();
}
