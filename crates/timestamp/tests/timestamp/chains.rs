//! `verify_chain`, the chain check of tokens offered for other certificates (a C2PA
//! claim signer's): what it refuses, and that its reasons name what is wrong.

use std::time::SystemTime;

use custody_testkit::pki::{DAY, Key, Pki};
use custody_timestamp::{TrustAnchors, verify_chain};

use crate::need_openssl;

/// emailProtection, as the test PKI's C2PA signers carry.
const EMAIL: [&str; 1] = ["1.3.6.1.5.5.7.3.4"];

#[test]
fn a_chain_is_refused_where_it_cannot_be_read_or_checked_and_says_why() {
    need_openssl!();
    let now = SystemTime::now();
    let pki = Pki::new();
    let root = pki.root(Key::P256, "Chain Root");
    let anchors = TrustAnchors::from_der(&root.der).unwrap();
    let check =
        |leaf: &[u8], extra: &[Vec<u8>]| verify_chain(leaf, extra, &anchors, (now, "now"), &EMAIL);
    let under = |ca: &custody_testkit::pki::Issued, cn: &str, ext: &str| {
        pki.issue(
            ca,
            Key::P256,
            &format!("/O=Custody Test/CN={cn}"),
            ext,
            now - DAY,
            now + DAY,
            "sha256",
        )
    };

    // Sound: root → CA → signer.
    let ca = pki.intermediate(&root, Key::P256, "Chain CA");
    let signer = pki.c2pa_signer(&ca, "Chain Signer", true, now - DAY, now + DAY);
    let ok = check(&signer.der, std::slice::from_ref(&ca.der)).unwrap();
    assert_eq!(ok.subjects.len(), 3);

    // A CA whose keyUsage cannot be read: whether it may sign certificates is unknown.
    let bad_ku = under(&root, "Bad KU CA", "ext_intermediate_bad_ku");
    let leaf = pki.c2pa_signer(&bad_ku, "Under Bad KU", true, now - DAY, now + DAY);
    let why = check(&leaf.der, std::slice::from_ref(&bad_ku.der)).unwrap_err();
    assert!(why.contains("keyUsage that cannot be read"), "{why}");

    // Name constraints, even not marked critical, are not evaluated: refused.
    let named = under(&root, "Named CA", "ext_intermediate_named");
    let leaf = pki.c2pa_signer(&named, "Under Named", true, now - DAY, now + DAY);
    let why = check(&leaf.der, std::slice::from_ref(&named.der)).unwrap_err();
    assert!(why.contains("nameConstraints"), "{why}");

    // A self-signed root of the same name and another key: an impostor, said so.
    let impostor = pki.root(Key::P256, "Chain Root");
    let leaf = pki.c2pa_signer(&impostor, "Under Impostor", true, now - DAY, now + DAY);
    let why = check(&leaf.der, std::slice::from_ref(&impostor.der)).unwrap_err();
    assert!(
        why.contains("has the name of a trusted root but not its key"),
        "{why}"
    );
    // Without the impostor at hand, the key identifier names another key.
    let why = check(&leaf.der, &[]).unwrap_err();
    assert!(why.contains("by a key identifier"), "{why}");

    // The signer's own certificate, checked as a validator would (which c2pa-rs skips
    // once it finds the certificate out of date): a CA's is no signer's, nor one
    // without extendedKeyUsage.
    let why = custody_timestamp::verify_signer_profile(&ca.der, &EMAIL).unwrap_err();
    assert!(why.contains("is a CA certificate"), "{why}");
    let plain = under(&ca, "No EKU", "ext_not_ca");
    let why = custody_timestamp::verify_signer_profile(&plain.der, &EMAIL).unwrap_err();
    assert!(why.contains("no extendedKeyUsage"), "{why}");
    let certsign = under(&ca, "Signs Certificates", "ext_c2pa_signer_certsign");
    let why = custody_timestamp::verify_signer_profile(&certsign.der, &EMAIL).unwrap_err();
    assert!(why.contains("allows signing certificates"), "{why}");
    custody_timestamp::verify_signer_profile(&signer.der, &EMAIL).unwrap();

    // No anchors at all, and a purpose the signer lacks.
    let none = TrustAnchors::new();
    let why = verify_chain(&signer.der, &[], &none, (now, "now"), &EMAIL).unwrap_err();
    assert!(why.contains("no trusted root"), "{why}");
    let code = pki.c2pa_signer(&ca, "Code Signer", false, now - DAY, now + DAY);
    let why = check(&code.der, std::slice::from_ref(&ca.der)).unwrap_err();
    assert!(why.contains("names none of the purposes"), "{why}");
}
