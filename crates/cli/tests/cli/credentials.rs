//! Whom the vault trusts to sign content credentials: `custody credentials --anchors`
//! and the signer line of `custody show`, on photos signed here with c2pa-rs under a
//! test PKI made with openssl.

use std::time::SystemTime;

use custody_testkit::pki::{DAY, Issued, Key, Pki};

use crate::support::*;

/// A small synthetic JPEG: a gradient, different for each `seed`.
fn photo(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(96, 64, |x, y| {
        image::Rgb([(x * 2) as u8 ^ seed, (y * 3) as u8, seed.wrapping_mul(40)])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out
}

/// A test PKI with a newsroom's root and signing CA, made now; `None` (said) without
/// openssl.
struct Newsroom {
    pki: Pki,
    now: SystemTime,
    root: Issued,
    ca: Issued,
}

impl Newsroom {
    fn new() -> Option<Self> {
        if !custody_testkit::pki::openssl_available() {
            eprintln!("skipped: openssl not found");
            return None;
        }
        let pki = Pki::new();
        let root = pki.root(Key::P256, "Newsroom Root CA");
        let ca = pki.intermediate(&root, Key::P256, "Newsroom Signing CA");
        Some(Newsroom {
            pki,
            now: SystemTime::now(),
            root,
            ca,
        })
    }
}

#[test]
fn a_signer_is_trusted_once_the_vault_holds_its_anchor_and_not_otherwise() {
    let Some(Newsroom { pki, now, root, ca }) = Newsroom::new() else {
        return;
    };
    let camera = pki.c2pa_signer(&ca, "Newsroom Camera 7", true, now - DAY, now + 365 * DAY);
    // A signer certificate may not issue certificates: this chain must not be trusted
    // although every signature in it verifies.
    let rogue = pki.c2pa_signer(&camera, "Rogue Signer", true, now - DAY, now + 365 * DAY);
    let stranger = pki.root(Key::P256, "Another Root");

    let sign = |seed: u8, chain: &[&Issued], name: &str| {
        let key = &chain[0].key;
        let chain = pki.bundle(&format!("{name}-chain.pem"), chain);
        let signed = custody_testkit::c2pa::sign_jpeg(&photo(seed), &chain, key);
        pki.write(&format!("{name}.jpg"), &signed)
    };
    let good = sign(1, &[&camera, &ca], "camera");
    let bad = sign(2, &[&rogue, &camera, &ca], "rogue");

    let env = Env::new();
    env.init();
    for p in [&good, &bad] {
        Run::of(env.command().args(["--vault", "vault", "ingest"]).arg(p)).ok();
    }
    let signer = |item: &str| env.run(&["show", item, "--json"]).ok().json()["c2pa_signer"].take();

    // No anchors: not trusted, and the reason says what to add.
    let listed = env.run(&["credentials"]).ok().stdout;
    assert!(listed.contains("holds no C2PA trust anchors"), "{listed}");
    let before = signer("ITM-000001");
    assert_eq!(before["trusted"], false, "{before}");
    assert!(
        before["signer"]
            .as_str()
            .unwrap()
            .contains("Newsroom Camera 7"),
        "{before}"
    );
    let why = before["reason"].as_str().unwrap();
    assert!(
        why.contains("custody credentials --anchors") && why.contains("Newsroom Root CA"),
        "{why}"
    );
    let meta = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    assert_eq!(meta["metadata"]["c2pa"]["state"], "valid", "{meta}");
    assert_eq!(
        meta["metadata"]["c2pa"]["signer_chain"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "the signer's certificate and its CA's, as signed"
    );

    // Another root: still not trusted, and why.
    env.run(&["credentials", "--anchors", stranger.cert.to_str().unwrap()])
        .ok();
    let other = signer("ITM-000001");
    assert_eq!(other["trusted"], false, "{other}");
    assert!(
        other["reason"]
            .as_str()
            .unwrap()
            .contains("Newsroom Root CA"),
        "{other}"
    );

    // The right root: trusted, judged now (no time-stamp), and listed.
    let added = env
        .run(&[
            "--json",
            "credentials",
            "--anchors",
            root.cert.to_str().unwrap(),
        ])
        .ok();
    let added = added.json();
    assert_eq!(added["anchors_added"], 1, "{added}");
    let anchors = added["anchors"].as_array().unwrap();
    assert_eq!(anchors.len(), 2, "{added}");
    assert_eq!(anchors[1]["sha256"], sha256_hex(&root.der), "{added}");
    assert!(
        anchors[1]["subject"]
            .as_str()
            .unwrap()
            .contains("Newsroom Root CA")
    );
    let again = env
        .run(&["credentials", "--anchors", root.cert.to_str().unwrap()])
        .ok();
    assert!(
        again
            .stderr
            .contains("already among the C2PA trust anchors"),
        "{}",
        again.stderr
    );
    let after = signer("ITM-000001");
    assert_eq!(after["trusted"], true, "{after}");
    assert!(
        after["anchor"]
            .as_str()
            .unwrap()
            .contains("Newsroom Root CA"),
        "{after}"
    );
    assert_eq!(after["judged_at_basis"], "now", "{after}");
    let human = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(
        human.contains("content credentials (C2PA): trusted (intact")
            && human.contains("C2PA signer")
            && human.contains("trusted, its chain leads to")
            && !human.contains("signingCredential.untrusted"),
        "{human}"
    );

    // The chain through a signer's certificate: every signature verifies, but a
    // certificate that is not a CA issued the signer's.
    let rogue = signer("ITM-000002");
    assert_eq!(rogue["trusted"], false, "{rogue}");
    assert!(
        rogue["reason"].as_str().unwrap().contains("is not a CA"),
        "{rogue}"
    );
    let human = env.run(&["show", "ITM-000002"]).ok().stdout;
    assert!(
        human.contains("signingCredential.untrusted") && human.contains("not trusted: "),
        "{human}"
    );

    // Adding an anchor is a ledger entry that holds the certificate.
    let seq = anchors[1]["ledger_seq"].as_u64().expect("recorded");
    let entry = env.run(&["log", "entry", &seq.to_string()]).ok().json();
    assert_eq!(entry["action"], "trust.added", "{entry}");
    assert_eq!(entry["details"]["file"], "c2pa-anchors.pem", "{entry}");
    assert_eq!(
        entry["details"]["certificates"][0]["sha256"],
        sha256_hex(&root.der),
        "{entry}"
    );
    env.run(&["verify"]).ok();

    // The ledger, not the file, says whom the vault trusts. A certificate put in the
    // file by hand is listed as not trusted, trusts nobody, and verify names it.
    let file = env.path("vault/keys/c2pa-anchors.pem");
    let impostor_root = pki.root(Key::P256, "Planted Root");
    let planted = pki.c2pa_signer(
        &impostor_root,
        "Planted Camera",
        true,
        now - DAY,
        now + 365 * DAY,
    );
    let planted_photo = sign(5, &[&planted], "planted");
    Run::of(
        env.command()
            .args(["--vault", "vault", "ingest"])
            .arg(&planted_photo),
    )
    .ok();
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(&std::fs::read_to_string(&impostor_root.cert).unwrap());
    std::fs::write(&file, &text).unwrap();
    let by_hand = signer("ITM-000003");
    assert_eq!(by_hand["trusted"], false, "{by_hand}");
    let listed = env.run(&["credentials"]).ok().stdout;
    assert!(
        listed.contains("Planted Root") && listed.contains("NOT TRUSTED: in the copy only"),
        "{listed}"
    );
    let v = env.run(&["verify", "--json"]);
    assert_eq!(v.code, 1, "{}\n{}", v.stdout, v.stderr);
    let problems = v.json()["problems"].to_string();
    assert!(
        problems.contains("does not record") && problems.contains(&sha256_hex(&impostor_root.der)),
        "{problems}"
    );
    // Recorded through custody, it is trusted.
    env.run(&[
        "credentials",
        "--anchors",
        impostor_root.cert.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(signer("ITM-000003")["trusted"], true);
    env.run(&["verify"]).ok();

    // A damaged or missing file takes no trust away: the ledger holds the anchors.
    std::fs::write(&file, "-----BEGIN CERTIFICATE-----\ngarbage\n").unwrap();
    assert_eq!(signer("ITM-000001")["trusted"], true);
    let listed = env.run(&["credentials"]).ok().stdout;
    assert!(
        listed.contains("the copy: ") && listed.contains("c2pa-anchors.pem"),
        "{listed}"
    );
    assert!(listed.contains("Newsroom Root CA"), "{listed}");
    let v = env.run(&["verify"]);
    assert_eq!(v.code, 1, "{}\n{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains("c2pa-anchors.pem cannot be read"),
        "{}",
        v.stdout
    );
    // Nothing is added to a damaged file; moved aside, the next addition writes every
    // recorded certificate back.
    env.run(&["credentials", "--anchors", root.cert.to_str().unwrap()])
        .refused("move it aside");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "-----BEGIN CERTIFICATE-----\ngarbage\n"
    );
    std::fs::remove_file(&file).unwrap();
    let v = env.run(&["verify"]).ok();
    assert!(v.stdout.contains("lacks 3 certificate(s)"), "{}", v.stdout);
    env.run(&["credentials", "--anchors", root.cert.to_str().unwrap()])
        .ok();
    let pem = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        pem.matches("-----BEGIN CERTIFICATE-----").count(),
        3,
        "{pem}"
    );
    let v = env.run(&["verify"]).ok();
    assert!(!v.stdout.contains("lacks"), "{}", v.stdout);

    // A file that holds no certificate is refused with the reason, and so is one that
    // is not a regular file (a device could have no end).
    let junk = env.write("junk.pem", b"not a certificate");
    env.run(&["credentials", "--anchors", junk.to_str().unwrap()])
        .refused("not usable as C2PA trust anchors");
    env.run(&["credentials", "--anchors", "/dev/zero"])
        .refused("not a regular file");

    // An anchors file written by hand (here one DER certificate) is not trusted, and
    // verify names it. Adding another anchor is refused, since writing the copy again
    // would drop it; recording the file itself adopts what it holds.
    let old = Env::new();
    old.init();
    let kept = old.path("vault/keys/c2pa-anchors.pem");
    std::fs::write(&kept, &root.der).unwrap();
    let v = old.run(&["verify"]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(v.stdout.contains("does not record"), "{}", v.stdout);
    let listed = old.run(&["--json", "credentials"]).ok().json();
    assert_eq!(listed["anchors"][0]["sha256"], sha256_hex(&root.der));
    assert!(listed["anchors"][0]["ledger_seq"].is_null(), "{listed}");
    old.run(&["credentials", "--anchors", stranger.cert.to_str().unwrap()])
        .refused("does not record");
    old.run(&["credentials", "--anchors", kept.to_str().unwrap()])
        .ok();
    old.run(&["credentials", "--anchors", stranger.cert.to_str().unwrap()])
        .ok();
    let listed = old.run(&["--json", "credentials"]).ok().json();
    assert_eq!(listed["anchors"][0]["sha256"], sha256_hex(&root.der));
    assert_eq!(listed["anchors"][1]["sha256"], sha256_hex(&stranger.der));
    assert!(listed["anchors"][1]["ledger_seq"].is_u64(), "{listed}");
    let pem = std::fs::read_to_string(&kept).unwrap();
    assert_eq!(
        pem.matches("-----BEGIN CERTIFICATE-----").count(),
        2,
        "{pem}"
    );
    let v = old.run(&["verify"]).ok();
    assert!(!v.stdout.contains("note: keys/"), "{}", v.stdout);
}

/// A signer's certificate that has expired by the time the photo is collected. The
/// validator then calls the credentials invalid (`signingCredential.expired`), but the
/// bytes are intact: the vault judges the certificate at the claim's time-stamp when
/// that time-stamp verifies and stamps the signature (a version-2 claim's `sigTst2`).
/// A version-1 claim's time-stamp stamps the claim but not its signature, which could
/// have been made later with the same key: judged now, not trusted.
#[test]
fn an_expired_signer_is_judged_at_a_time_stamp_over_its_signature_only() {
    use custody_testkit::c2pa::{StampingSigner, sign_jpeg_claim, signer};
    use custody_testkit::pki::Eku;
    use custody_testkit::tsa::{OpensslTsa, TsaConfig};
    let Some(Newsroom { pki, now, root, ca }) = Newsroom::new() else {
        return;
    };
    let lifetime = std::time::Duration::from_secs(6);
    let camera = pki.c2pa_signer(&ca, "Short-lived Camera", true, now - DAY, now + lifetime);
    let tsa_root = pki.root(Key::P256, "Test TSA Root");
    let tsa_cert = pki.tsa(
        &tsa_root,
        Key::P256,
        "Test TSA",
        Eku::CriticalTimeStamping,
        now - DAY,
        now + DAY,
    );
    let tsa = OpensslTsa::new(&pki, &tsa_cert, &[&tsa_root], &TsaConfig::default());
    let chain = pki.bundle("camera-chain.pem", &[&camera, &ca]);
    let stamped = || StampingSigner {
        inner: signer(&chain, &camera.key),
        tsa: tsa.clone(),
    };
    let v2 = pki.write("v2.jpg", &sign_jpeg_claim(&photo(3), &stamped(), 2));
    let v1 = pki.write("v1.jpg", &sign_jpeg_claim(&photo(4), &stamped(), 1));
    // Collected after the certificate's end.
    let end = now + lifetime + std::time::Duration::from_secs(1);
    if let Ok(wait) = end.duration_since(SystemTime::now()) {
        std::thread::sleep(wait);
    }

    let env = Env::new();
    env.init();
    for p in [&v2, &v1] {
        Run::of(env.command().args(["--vault", "vault", "ingest"]).arg(p)).ok();
    }
    env.run(&["credentials", "--anchors", root.cert.to_str().unwrap()])
        .ok();
    let view = |item: &str| env.run(&["show", item, "--json"]).ok().json();
    let first = view("ITM-000001");
    assert_eq!(first["metadata"]["c2pa"]["state"], "invalid", "{first}");
    // The TSA not yet trusted: judged now, expired.
    let signer_now = &first["c2pa_signer"];
    assert_eq!(signer_now["trusted"], false, "{signer_now}");
    assert_eq!(signer_now["judged_at_basis"], "now", "{signer_now}");
    assert!(
        signer_now["reason"]
            .as_str()
            .unwrap()
            .contains("had already expired"),
        "{signer_now}"
    );
    // Invalid for the validator, intact for the vault, and said so.
    let human = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(
        human.contains(
            "intact, but the validator found the signer's certificate outside its validity period"
        ) && human.contains("not trusted: "),
        "{human}"
    );

    env.run(&["timestamp", "--roots", tsa_root.cert.to_str().unwrap()])
        .ok();
    let v2_view = view("ITM-000001");
    let s = &v2_view["c2pa_signer"];
    assert_eq!(s["trusted"], true, "{v2_view}");
    assert_eq!(s["judged_at_basis"], "time-stamp", "{s}");
    assert_eq!(v2_view["c2pa_time_stamp"]["covers"], "claim signature");
    assert_eq!(
        v2_view["c2pa_time_stamp"]["dates_these_bytes"], true,
        "{v2_view}"
    );
    let human = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(
        human.contains("content credentials (C2PA): trusted (intact")
            && !human.contains("signingCredential.expired")
            && !human.contains("timeStamp.untrusted"),
        "{human}"
    );

    let v1_view = view("ITM-000002");
    assert_eq!(v1_view["c2pa_time_stamp"]["covers"], "claim", "{v1_view}");
    assert_eq!(v1_view["c2pa_time_stamp"]["verified"], true, "{v1_view}");
    let s = &v1_view["c2pa_signer"];
    assert_eq!(s["trusted"], false, "{s}");
    assert_eq!(s["judged_at_basis"], "now", "{s}");
    assert!(
        s["reason"]
            .as_str()
            .unwrap()
            .contains("stamps the claim, not its signature"),
        "{s}"
    );
    // c2pa-rs judged this one at the token's time (it takes any version-1 token's),
    // so its record says valid; the vault does not follow it there.
    assert_eq!(v1_view["metadata"]["c2pa"]["state"], "valid", "{v1_view}");
    let human = env.run(&["show", "ITM-000002"]).ok().stdout;
    assert!(
        human.contains("Short-lived Camera,O=Custody Test: not trusted: "),
        "{human}"
    );
}

/// The signer is the certificate the validator verified the signature with, readable or
/// not. Here an attacker signs with a certificate of a 30-byte serial number, which
/// c2pa-rs reads and the vault's reader refuses, and carries a trusted signer's public
/// certificates behind it: the vault must not judge those in its place.
#[test]
fn a_signer_certificate_the_vault_cannot_read_is_not_replaced_by_the_next() {
    let Some(Newsroom { pki, now, root, ca }) = Newsroom::new() else {
        return;
    };
    let desk = pki.c2pa_signer(&ca, "Newsroom Photo Desk", true, now - DAY, now + DAY);
    let attacker_ca = pki.root(Key::P256, "Attacker CA");
    pki.set_next_serial(&attacker_ca, &"01".repeat(30));
    let attacker = pki.c2pa_signer(&attacker_ca, "Attacker", true, now - DAY, now + DAY);
    let chain = pki.bundle("forged-chain.pem", &[&attacker, &desk, &ca]);
    let signed = pki.write(
        "forged.jpg",
        &custody_testkit::c2pa::sign_jpeg(&photo(5), &chain, &attacker.key),
    );

    let env = Env::new();
    env.init();
    Run::of(
        env.command()
            .args(["--vault", "vault", "ingest"])
            .arg(&signed),
    )
    .ok();
    env.run(&["credentials", "--anchors", root.cert.to_str().unwrap()])
        .ok();
    let view = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    assert_eq!(view["metadata"]["c2pa"]["state"], "valid", "{view}");
    assert_eq!(
        view["metadata"]["c2pa"]["signer_chain"]
            .as_array()
            .map(Vec::len),
        Some(3),
        "{view}"
    );
    let signer = &view["c2pa_signer"];
    assert_eq!(signer["trusted"], false, "{signer}");
    assert!(
        signer["reason"]
            .as_str()
            .unwrap()
            .contains("cannot be read here"),
        "{signer}"
    );
    let human = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(!human.contains("Photo Desk"), "{human}");
}

/// Trust can be withdrawn: `custody trust --remove` writes a `trust.removed` entry, the
/// signer is judged again without the anchor, and the copy in keys/ drops it. A PEM
/// block of another kind planted in a copy, which other tools may trust, is named.
#[test]
fn an_anchor_can_be_removed_and_a_planted_block_is_named() {
    let Some(Newsroom { pki, now, root, ca }) = Newsroom::new() else {
        return;
    };
    let camera = pki.c2pa_signer(&ca, "Newsroom Camera 9", true, now - DAY, now + 365 * DAY);
    let chain = pki.bundle("chain.pem", &[&camera, &ca]);
    let signed = custody_testkit::c2pa::sign_jpeg(&photo(7), &chain, &camera.key);
    let signed = pki.write("signed.jpg", &signed);
    let env = Env::new();
    env.init();
    Run::of(
        env.command()
            .args(["--vault", "vault", "ingest"])
            .arg(&signed),
    )
    .ok();
    env.run(&["credentials", "--anchors", root.cert.to_str().unwrap()])
        .ok();
    let trusted = |env: &Env| {
        env.run(&["show", "ITM-000001", "--json"]).ok().json()["c2pa_signer"]["trusted"].clone()
    };
    assert_eq!(trusted(&env), true);

    let listed = env.run(&["trust"]).ok().stdout;
    assert!(
        listed.contains("TSA roots") && listed.contains("none trusted"),
        "{listed}"
    );
    assert!(listed.contains("Newsroom Root CA"), "{listed}");

    // Bad input is refused before anything is written.
    env.run(&["trust", "--remove", "abc"])
        .refused("64 hexadecimal digits");
    env.run(&["trust", "--remove", &"0".repeat(64)])
        .refused("trusts no certificate");

    let hex = sha256_hex(&root.der);
    let out = env
        .run(&[
            "--json",
            "trust",
            "--remove",
            &hex,
            "--reason",
            "signing key reported stolen",
        ])
        .ok()
        .json();
    let seq = out["removed"][0]["ledger_seq"].as_u64().unwrap();
    assert_eq!(out["c2pa_anchors"]["certificates"], serde_json::json!([]));
    let entry = env.run(&["log", "entry", &seq.to_string()]).ok().json();
    assert_eq!(entry["action"], "trust.removed", "{entry}");
    assert_eq!(entry["details"]["reason"], "signing key reported stolen");
    assert_eq!(entry["details"]["certificates"][0]["sha256"], hex.as_str());
    assert_eq!(trusted(&env), false);
    let copy = std::fs::read_to_string(env.path("vault/keys/c2pa-anchors.pem")).unwrap();
    assert!(!copy.contains("BEGIN"), "{copy}");
    env.run(&["verify"]).ok();
    // Removed once, it is not there to remove again; given again, it is not trusted
    // again (the reason is repeated); restored, it is.
    env.run(&["trust", "--remove", &hex])
        .refused("trusts no certificate");
    let again = env
        .run(&["credentials", "--anchors", root.cert.to_str().unwrap()])
        .ok();
    assert!(
        again.stderr.contains("not trusted again") && again.stderr.contains("reported stolen"),
        "{}",
        again.stderr
    );
    assert_eq!(trusted(&env), false);
    env.run(&["trust", "--restore", &hex]).ok();
    assert_eq!(trusted(&env), true);
    env.run(&["trust", "--restore", &hex])
        .refused("withdrew no certificate");
    // Withdrawing the newsroom's signing CA, the signer's issuer, while its root stays
    // trusted: the chain goes through it, so it vouches for nothing.
    env.run(&["credentials", "--anchors", ca.cert.to_str().unwrap()])
        .ok();
    assert_eq!(trusted(&env), true);
    env.run(&["trust", "--remove", &sha256_hex(&ca.der)]).ok();
    let judged = env.run(&["show", "ITM-000001", "--json"]).ok().json()["c2pa_signer"].take();
    assert_eq!(judged["trusted"], false, "{judged}");
    assert!(
        judged["reason"].as_str().unwrap().contains("withdrew"),
        "{judged}"
    );

    // Another kind of PEM block in a copy: openssl may read it as a trusted
    // certificate, so verify names it, and adding to the copy is refused.
    let copy = env.path("vault/keys/tsa-roots.pem");
    let body = std::fs::read_to_string(&root.cert)
        .unwrap()
        .replace("CERTIFICATE-----", "TRUSTED CERTIFICATE-----");
    std::fs::write(&copy, &body).unwrap();
    let v = env.run(&["verify"]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(
        v.stdout
            .contains("tsa-roots.pem holds 1 PEM block(s) that are not certificates"),
        "{}",
        v.stdout
    );
    env.run(&["timestamp", "--roots", root.cert.to_str().unwrap()])
        .refused("not certificates");
}

/// A withdrawal is recorded even while the copy holds a certificate put there by hand,
/// which it leaves in place for verify to name, and says so (status 1).
#[test]
fn a_removal_keeps_what_was_planted_in_the_copy() {
    let Some(Newsroom { pki, root, .. }) = Newsroom::new() else {
        return;
    };
    let env = Env::new();
    env.init();
    env.run(&["credentials", "--anchors", root.cert.to_str().unwrap()])
        .ok();
    let planted = pki.root(Key::P256, "Planted Root");
    let copy = env.path("vault/keys/c2pa-anchors.pem");
    let mut text = std::fs::read_to_string(&copy).unwrap();
    text.push_str(&std::fs::read_to_string(&planted.cert).unwrap());
    std::fs::write(&copy, &text).unwrap();
    let r = env.run(&["trust", "--remove", &sha256_hex(&root.der)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("was not written again"), "{}", r.stderr);
    assert!(!r.stderr.contains("record them too"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), text);
    let trust = env.run(&["--json", "trust"]).ok().json();
    let listed = trust["c2pa_anchors"]["certificates"].as_array().unwrap();
    // Both are in the copy, neither is trusted.
    assert!(listed.iter().all(|c| c["ledger_seq"].is_null()), "{trust}");
    let v = env.run(&["verify"]);
    assert_eq!(v.code, 1);
    assert!(
        v.stdout.contains("withdrawn from trust in ledger entry")
            && v.stdout.contains("does not record"),
        "{}",
        v.stdout
    );
}
