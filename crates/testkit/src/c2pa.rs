//! Content credentials for synthetic test photos: a JPEG signed with a chosen
//! certificate chain, as a camera or editing tool holding that certificate would sign
//! it (feature `c2pa`).

use std::path::Path;
use std::sync::Arc;

use crate::tsa::OpensslTsa;

/// A signer whose signatures carry an RFC 3161 time-stamp from a local `openssl ts`
/// TSA, as a camera or tool configured with a TSA signs.
pub struct StampingSigner {
    pub inner: Box<dyn c2pa::Signer>,
    pub tsa: Arc<OpensslTsa>,
}

impl c2pa::Signer for StampingSigner {
    fn sign(&self, data: &[u8]) -> c2pa::Result<Vec<u8>> {
        self.inner.sign(data)
    }
    fn alg(&self) -> c2pa::SigningAlg {
        self.inner.alg()
    }
    fn certs(&self) -> c2pa::Result<Vec<Vec<u8>>> {
        self.inner.certs()
    }
    fn reserve_size(&self) -> usize {
        self.inner.reserve_size() + 16 * 1024
    }
    fn send_timestamp_request(&self, message: &[u8]) -> Option<c2pa::Result<Vec<u8>>> {
        Some(
            self.tsa
                .stamp_data(message)
                .map_err(|e| c2pa::Error::OtherError(e.into())),
        )
    }
}

/// The signer [`sign_jpeg`] uses: the P-256 key at `key` and the certificates in
/// `chain` (PEM, the signer's first).
pub fn signer(chain: &Path, key: &Path) -> Box<dyn c2pa::Signer> {
    let certs = std::fs::read(chain).expect("the signer's chain");
    let key = std::fs::read(key).expect("the signer's key");
    c2pa::create_signer::from_keys(&certs, &key, c2pa::SigningAlg::Es256, None)
        .expect("a signer from the chain and key")
}

/// Signs `jpeg` with a C2PA manifest (a `c2pa.created` action) with the P-256 key at
/// `key` and the certificates in `chain` (PEM, the signer's first, as they are put in
/// the signature). No time-stamp.
pub fn sign_jpeg(jpeg: &[u8], chain: &Path, key: &Path) -> Vec<u8> {
    sign_jpeg_with(jpeg, signer(chain, key).as_ref())
}

/// Signs `jpeg` with a C2PA manifest (a `c2pa.created` action) with `signer`, in a
/// version-2 claim (what c2pa-rs writes by default; its time-stamp is `sigTst2`).
pub fn sign_jpeg_with(jpeg: &[u8], signer: &dyn c2pa::Signer) -> Vec<u8> {
    sign_jpeg_claim(jpeg, signer, 2)
}

/// [`sign_jpeg_with`] in a claim of the given version: 1 puts the time-stamp in
/// `sigTst`, over the claim, as C2PA 1.x tools did.
pub fn sign_jpeg_claim(jpeg: &[u8], signer: &dyn c2pa::Signer, version: u8) -> Vec<u8> {
    let definition = format!(
        r#"{{"title": "synthetic test photo", "claim_version": {version},
            "claim_generator_info": [{{"name": "custody-test"}}],
            "assertions": [{{"label": "c2pa.actions", "data": {{"actions": [
                {{"action": "c2pa.created",
                 "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}}
            ]}}}}]}}"#
    );
    let mut builder = c2pa::Builder::from_context(c2pa::Context::new())
        .with_definition(definition.as_str())
        .expect("a manifest definition");
    let mut source = std::io::Cursor::new(jpeg);
    let mut signed = std::io::Cursor::new(Vec::new());
    builder
        .sign(signer, "image/jpeg", &mut source, &mut signed)
        .expect("signed");
    signed.into_inner()
}
