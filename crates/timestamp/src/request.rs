//! The `TimeStampReq` Custody sends: a SHA-256 message imprint, a random 64-bit nonce and
//! `certReq = TRUE`, so that the token carries the TSA certificate needed to verify it.

use der::Encode;
use der::asn1::{Int, OctetString};
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::asn1::{MessageImprint, TimeStampReq, oid};
use crate::error::TsaErrorKind;

/// The nonce of a request: 64 random bits, sent as a positive INTEGER. The TSA copies it
/// into the token, which proves that the token answers this request and is not replayed.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Nonce(pub [u8; 8]);

impl Nonce {
    /// A nonce from the operating system's random number generator.
    pub fn random() -> Result<Self, TsaErrorKind> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|e| TsaErrorKind::Random(e.to_string()))?;
        Ok(Self(bytes))
    }

    /// The DER INTEGER content: minimal two's complement of the positive value.
    pub(crate) fn int_bytes(&self) -> Vec<u8> {
        let start = self.0.iter().position(|&b| b != 0).unwrap_or(7);
        let magnitude = &self.0[start..];
        let mut out = Vec::with_capacity(9);
        if magnitude[0] & 0x80 != 0 {
            out.push(0);
        }
        out.extend_from_slice(magnitude);
        out
    }

    /// Lowercase hex of the value, as [`crate::TokenInfo::nonce`] shows it.
    pub fn to_hex(&self) -> String {
        let bytes = self.int_bytes();
        let bytes = match bytes.as_slice() {
            [0, rest @ ..] if !rest.is_empty() => rest,
            other => other,
        };
        hex::encode(bytes)
    }
}

/// The DER `TimeStampReq` for a SHA-256 `digest`, with `nonce` and `certReq = TRUE`.
///
/// The same bytes `openssl ts -query -digest <hex> -sha256 -cert` writes, apart from the
/// nonce, so `openssl ts -reply` and every RFC 3161 TSA accept it.
pub fn request_der(digest: &[u8; 32], nonce: &Nonce) -> Vec<u8> {
    let request = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: oid::SHA256,
                // RFC 5754 allows absent or NULL; openssl and most TSAs send NULL.
                parameters: Some(der::asn1::Null.into()),
            },
            hashed_message: OctetString::new(digest.as_slice())
                .expect("a 32-byte OCTET STRING always encodes"),
        },
        req_policy: None,
        nonce: Some(Int::new(&nonce.int_bytes()).expect("a minimal 9-byte INTEGER is valid")),
        cert_req: Some(true),
        extensions: None,
    };
    request
        .to_der()
        .expect("a TimeStampReq of fixed shape always encodes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_encodes_as_a_positive_integer() {
        assert_eq!(Nonce([0x80, 0, 0, 0, 0, 0, 0, 1]).int_bytes()[0], 0);
        assert_eq!(Nonce([0x80, 0, 0, 0, 0, 0, 0, 1]).int_bytes().len(), 9);
        assert_eq!(
            Nonce([0, 0, 0x12, 0, 0, 0, 0, 1]).int_bytes(),
            vec![0x12, 0, 0, 0, 0, 1]
        );
        assert_eq!(Nonce([0; 8]).int_bytes(), vec![0]);
        assert_eq!(
            Nonce([0x80, 0, 0, 0, 0, 0, 0, 1]).to_hex(),
            "8000000000000001"
        );
    }
}
