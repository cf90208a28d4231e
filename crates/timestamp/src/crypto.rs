//! Signature verification for the algorithms TSAs and their CAs use: RSA PKCS #1 v1.5
//! with SHA-256/384/512, and ECDSA on P-256 and P-384 with SHA-256/384/512.
//!
//! SHA-1 signatures are refused, as are algorithms not listed here (RSASSA-PSS among
//! them); the refusal names the algorithm so a report can say why a token was rejected.

use der::oid::ObjectIdentifier;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use rsa::Pkcs1v15Sign;
use rsa::pkcs1::DecodeRsaPublicKey;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::asn1::oid;
use crate::token::HashAlg;

/// Why a signature was not accepted.
#[derive(Debug, Clone, Eq, PartialEq)]
pub(crate) enum SigError {
    /// The algorithm or key type is not one this crate verifies.
    Unsupported(String),
    /// The signature or key is wrong.
    Invalid(String),
}

impl std::fmt::Display for SigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unsupported(s) | Self::Invalid(s) => f.write_str(s),
        }
    }
}

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Scheme {
    Rsa,
    Ecdsa,
}

/// The scheme and hash a signature algorithm identifier names. `digest_alg` supplies the
/// hash when the identifier names only the key type (`rsaEncryption`, `id-ecPublicKey`),
/// as CMS signers may do.
fn scheme(
    sig_alg: &AlgorithmIdentifierOwned,
    digest_alg: Option<HashAlg>,
) -> Result<(Scheme, HashAlg), SigError> {
    let need_digest = |scheme| {
        digest_alg.map(|d| (scheme, d)).ok_or_else(|| {
            SigError::Unsupported(format!(
                "signature algorithm {} without a digest algorithm",
                sig_alg.oid
            ))
        })
    };
    let (scheme, hash) = match sig_alg.oid {
        oid::SHA256_WITH_RSA => (Scheme::Rsa, HashAlg::Sha256),
        oid::SHA384_WITH_RSA => (Scheme::Rsa, HashAlg::Sha384),
        oid::SHA512_WITH_RSA => (Scheme::Rsa, HashAlg::Sha512),
        oid::ECDSA_WITH_SHA256 => (Scheme::Ecdsa, HashAlg::Sha256),
        oid::ECDSA_WITH_SHA384 => (Scheme::Ecdsa, HashAlg::Sha384),
        oid::ECDSA_WITH_SHA512 => (Scheme::Ecdsa, HashAlg::Sha512),
        oid::RSA_ENCRYPTION => need_digest(Scheme::Rsa)?,
        oid::EC_PUBLIC_KEY => need_digest(Scheme::Ecdsa)?,
        oid::SHA1_WITH_RSA | oid::ECDSA_WITH_SHA1 => {
            return Err(SigError::Unsupported(
                "SHA-1 signatures are not accepted (SHA-1 is broken for signatures)".into(),
            ));
        }
        oid::RSASSA_PSS => {
            return Err(SigError::Unsupported(
                "RSASSA-PSS signatures are not supported".into(),
            ));
        }
        other => {
            return Err(SigError::Unsupported(format!(
                "signature algorithm {other} is not supported"
            )));
        }
    };
    if hash == HashAlg::Sha1 {
        return Err(SigError::Unsupported(
            "SHA-1 signatures are not accepted (SHA-1 is broken for signatures)".into(),
        ));
    }
    Ok((scheme, hash))
}

/// A short name of a signature algorithm for reports: `sha256WithRSAEncryption`.
pub(crate) fn sig_alg_name(
    sig_alg: &AlgorithmIdentifierOwned,
    digest_alg: Option<HashAlg>,
) -> String {
    match scheme(sig_alg, digest_alg) {
        Ok((Scheme::Rsa, h)) => format!("RSA PKCS#1 v1.5 with {}", h.name()),
        Ok((Scheme::Ecdsa, h)) => format!("ECDSA with {}", h.name()),
        Err(_) => sig_alg.oid.to_string(),
    }
}

/// Verifies `signature` over `message` with the key in `spki`.
pub(crate) fn verify(
    spki: &SubjectPublicKeyInfoOwned,
    sig_alg: &AlgorithmIdentifierOwned,
    digest_alg: Option<HashAlg>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SigError> {
    let (scheme, hash) = scheme(sig_alg, digest_alg)?;
    if !crate::token::hash_parameters_ok(sig_alg) {
        return Err(SigError::Invalid(format!(
            "the signature algorithm identifier {} has parameters other than NULL",
            sig_alg.oid
        )));
    }
    let prehash = hash.digest(message);
    let key_bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| SigError::Invalid("the public key BIT STRING has unused bits".into()))?;
    match scheme {
        Scheme::Rsa => {
            if spki.algorithm.oid != oid::RSA_ENCRYPTION {
                return Err(SigError::Invalid(format!(
                    "an RSA signature but the key is of type {}",
                    spki.algorithm.oid
                )));
            }
            let key = rsa::PublicKey::from_pkcs1_der(key_bytes)
                .map_err(|e| SigError::Invalid(format!("the RSA public key is malformed: {e}")))?;
            let padding = match hash {
                HashAlg::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
                HashAlg::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
                HashAlg::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
                HashAlg::Sha1 => return Err(SigError::Unsupported("SHA-1".into())),
            };
            key.verify(padding, &prehash, signature)
                .map_err(|_| SigError::Invalid("the RSA signature does not verify".into()))
        }
        Scheme::Ecdsa => {
            if spki.algorithm.oid != oid::EC_PUBLIC_KEY {
                return Err(SigError::Invalid(format!(
                    "an ECDSA signature but the key is of type {}",
                    spki.algorithm.oid
                )));
            }
            let curve: Option<ObjectIdentifier> = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as().ok());
            let bad_sig = |e: p256::ecdsa::Error| {
                SigError::Invalid(format!("the ECDSA signature does not verify ({e})"))
            };
            let bad_key = |e: p256::ecdsa::Error| {
                SigError::Invalid(format!("the EC public key is malformed ({e})"))
            };
            match curve {
                Some(oid::P256) => {
                    let key =
                        p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes).map_err(bad_key)?;
                    let sig = p256::ecdsa::Signature::from_der(signature).map_err(bad_sig)?;
                    key.verify_prehash(&prehash, &sig).map_err(bad_sig)
                }
                Some(oid::P384) => {
                    let key =
                        p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes).map_err(bad_key)?;
                    let sig = p384::ecdsa::Signature::from_der(signature).map_err(bad_sig)?;
                    key.verify_prehash(&prehash, &sig).map_err(bad_sig)
                }
                Some(other) => Err(SigError::Unsupported(format!(
                    "elliptic curve {other} is not supported (only P-256 and P-384)"
                ))),
                None => Err(SigError::Unsupported(
                    "an EC key without a named curve is not supported".into(),
                )),
            }
        }
    }
}
