//! Content credentials for synthetic test photos: a JPEG signed with a chosen
//! certificate chain, as a camera or editing tool holding that certificate would sign
//! it (feature `c2pa`).

use std::path::Path;

/// Signs `jpeg` with a C2PA manifest (a `c2pa.created` action) with the P-256 key at
/// `key` and the certificates in `chain` (PEM, the signer's first, as they are put in
/// the signature). No time-stamp.
pub fn sign_jpeg(jpeg: &[u8], chain: &Path, key: &Path) -> Vec<u8> {
    let certs = std::fs::read(chain).expect("the signer's chain");
    let key = std::fs::read(key).expect("the signer's key");
    let signer = c2pa::create_signer::from_keys(&certs, &key, c2pa::SigningAlg::Es256, None)
        .expect("a signer from the chain and key");
    sign_jpeg_with(jpeg, signer.as_ref())
}

/// Signs `jpeg` with a C2PA manifest (a `c2pa.created` action) with `signer`.
pub fn sign_jpeg_with(jpeg: &[u8], signer: &dyn c2pa::Signer) -> Vec<u8> {
    let mut builder = c2pa::Builder::from_context(c2pa::Context::new())
        .with_definition(
            r#"{"title": "synthetic test photo",
                "claim_generator_info": [{"name": "custody-test"}],
                "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.created",
                     "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}
                ]}}]}"#,
        )
        .expect("a manifest definition");
    let mut source = std::io::Cursor::new(jpeg);
    let mut signed = std::io::Cursor::new(Vec::new());
    builder
        .sign(signer, "image/jpeg", &mut source, &mut signed)
        .expect("signed");
    signed.into_inner()
}
