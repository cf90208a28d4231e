//! The ASN.1 structures of RFC 3161 (time-stamp protocol) and RFC 5035 (ESS signing
//! certificate attributes), declared with `der`'s derive macros, plus the object
//! identifiers this crate compares against.
//!
//! Only what a client and a verifier need is declared. CMS itself (`ContentInfo`,
//! `SignedData`, `SignerInfo`) comes from the `cms` crate, certificates from `x509-cert`.

use der::asn1::{BitString, Int, OctetString};
use der::oid::ObjectIdentifier;
use der::{
    DateTime, DecodeValue, EncodeValue, FixedTag, Header, Length, Reader, Sequence, Tag, Writer,
};
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};
use x509_cert::spki::AlgorithmIdentifierOwned;

/// Object identifiers used by the time-stamp protocol and its verification.
pub mod oid {
    use der::oid::ObjectIdentifier as Oid;

    /// `id-signedData` (RFC 5652).
    pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
    /// `id-ct-TSTInfo` (RFC 3161 §2.4.2).
    pub const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
    /// `id-contentType` signed attribute (RFC 5652 §11.1).
    pub const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
    /// `id-messageDigest` signed attribute (RFC 5652 §11.2).
    pub const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
    /// `id-signingTime` signed attribute (RFC 5652 §11.3).
    pub const SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
    /// `id-aa-signingCertificate` (RFC 2634 §5.4, ESSCertID with SHA-1).
    pub const SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
    /// `id-aa-signingCertificateV2` (RFC 5035 §3, ESSCertIDv2).
    pub const SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
    /// `id-kp-timeStamping` (RFC 5280 §4.2.1.12).
    pub const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");

    /// `id-sha1`.
    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    /// `id-sha256`.
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    /// `id-sha384`.
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    /// `id-sha512`.
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

    /// `rsaEncryption` (PKCS #1).
    pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    /// `sha1WithRSAEncryption`.
    pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
    /// `RSASSA-PSS`.
    pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    /// `sha256WithRSAEncryption`.
    pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    /// `sha384WithRSAEncryption`.
    pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    /// `sha512WithRSAEncryption`.
    pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    /// `id-ecPublicKey`.
    pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    /// `ecdsa-with-SHA1`.
    pub const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
    /// `ecdsa-with-SHA256`.
    pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    /// `ecdsa-with-SHA384`.
    pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    /// `ecdsa-with-SHA512`.
    pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    /// `prime256v1` / `secp256r1` (NIST P-256).
    pub const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    /// `secp384r1` (NIST P-384).
    pub const P384: Oid = Oid::new_unwrap("1.3.132.0.34");

    /// `basicConstraints`.
    pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
    /// `keyUsage`.
    pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
    /// `extKeyUsage`.
    pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
    /// `subjectKeyIdentifier`.
    pub const SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");
    /// `authorityKeyIdentifier`.
    pub const AUTHORITY_KEY_ID: Oid = Oid::new_unwrap("2.5.29.35");
    /// `subjectAltName`.
    pub const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
    /// nameConstraints (RFC 5280 §4.2.1.10).
    pub const NAME_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.30");
    /// `issuerAltName`.
    pub const ISSUER_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.18");
    /// `certificatePolicies`.
    pub const CERTIFICATE_POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
    /// `cRLDistributionPoints`.
    pub const CRL_DISTRIBUTION_POINTS: Oid = Oid::new_unwrap("2.5.29.31");
    /// `authorityInfoAccess`.
    pub const AUTHORITY_INFO_ACCESS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.1");
}

/// `MessageImprint` (RFC 3161 §2.4.1): the hash of the stamped data.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct MessageImprint {
    pub hash_algorithm: AlgorithmIdentifierOwned,
    pub hashed_message: OctetString,
}

/// `TimeStampReq` (RFC 3161 §2.4.1).
///
/// `certReq` is `BOOLEAN DEFAULT FALSE`; it is an `Option` here so that the encoder
/// omits it when absent (DER forbids encoding a default value).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampReq {
    pub version: u8,
    pub message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    pub req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    #[asn1(optional = "true")]
    pub cert_req: Option<bool>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}

/// `PKIStatusInfo` (RFC 3161 §2.4.2).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PkiStatusInfo {
    pub status: Int,
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

/// `Accuracy` (RFC 3161 §2.4.2). `millis` and `micros` are `[0]`/`[1] IMPLICIT INTEGER`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct Accuracy {
    #[asn1(optional = "true")]
    pub seconds: Option<u64>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub millis: Option<u16>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub micros: Option<u16>,
}

/// `TSTInfo` (RFC 3161 §2.4.2): what the TSA signs.
///
/// `ordering` is `BOOLEAN DEFAULT FALSE`; absent means false. `tsa` is `[0] GeneralName`,
/// explicitly tagged because `GeneralName` is a CHOICE.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TstInfo {
    pub version: u8,
    pub policy: ObjectIdentifier,
    pub message_imprint: MessageImprint,
    pub serial_number: Int,
    pub gen_time: GenTime,
    #[asn1(optional = "true")]
    pub accuracy: Option<Accuracy>,
    #[asn1(optional = "true")]
    pub ordering: Option<bool>,
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}

/// `IssuerSerial` (RFC 5035 §4).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    pub issuer: GeneralNames,
    pub serial_number: Int,
}

/// `ESSCertID` (RFC 2634 §5.4.1): `certHash` is the SHA-1 of the whole certificate.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertId {
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// `SigningCertificate` (RFC 2634 §5.4). The optional `policies` are kept undecoded.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificate {
    pub certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    pub policies: Option<der::Any>,
}

/// `ESSCertIDv2` (RFC 5035 §4). An absent `hashAlgorithm` means SHA-256.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// `SigningCertificateV2` (RFC 5035 §3).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    pub policies: Option<der::Any>,
}

/// A `GeneralizedTime` as RFC 3161 §2.4.2 allows it in `genTime`:
/// `YYYYMMDDhhmmss[.s...]Z`, in UTC, with an optional fraction of a second.
///
/// `der`'s own `GeneralizedTime` refuses fractions (RFC 5280 forbids them in
/// certificates), but many TSAs send them, so `genTime` has its own type. The text as
/// received is kept and re-encoded unchanged.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct GenTime {
    text: String,
    whole: DateTime,
    nanos: u32,
}

impl GenTime {
    /// Parses the `GeneralizedTime` text (without tag and length).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bytes = text.as_bytes();
        let bad = || format!("genTime {text:?} is not YYYYMMDDhhmmss[.fraction]Z");
        if bytes.len() < 15 || bytes.last() != Some(&b'Z') {
            return Err(bad());
        }
        if !bytes[..14].iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let num = |range: std::ops::Range<usize>| -> u16 {
            bytes[range]
                .iter()
                .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'))
        };
        let fraction = &bytes[14..bytes.len() - 1];
        let nanos = if fraction.is_empty() {
            0
        } else {
            let digits = &fraction[1..];
            if fraction[0] != b'.' || digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            // Nanosecond resolution; further digits are dropped.
            let mut nanos: u32 = 0;
            for i in 0..9 {
                let digit = digits.get(i).map_or(0, |d| u32::from(d - b'0'));
                nanos = nanos * 10 + digit;
            }
            nanos
        };
        let two = |at: usize| num(at..at + 2) as u8;
        let whole = DateTime::new(num(0..4), two(4), two(6), two(8), two(10), two(12))
            .map_err(|_| bad())?;
        Ok(Self {
            text: text.to_owned(),
            whole,
            nanos,
        })
    }

    /// The time as a `SystemTime`, fraction included.
    pub fn to_system_time(&self) -> std::time::SystemTime {
        self.whole.to_system_time() + std::time::Duration::from_nanos(u64::from(self.nanos))
    }

    /// The whole seconds as a `der` date-time.
    pub fn date_time(&self) -> DateTime {
        self.whole
    }

    /// The fraction of a second, in nanoseconds.
    pub fn nanos(&self) -> u32 {
        self.nanos
    }

    /// The text as the TSA encoded it, e.g. `20261125091403.512Z`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// RFC 3339 in UTC, with the fraction the TSA gave (trailing zeros dropped), e.g.
    /// `2026-11-25T09:14:03.512Z`.
    pub fn to_rfc3339(&self) -> String {
        let whole = rfc3339(self.whole);
        if self.nanos == 0 {
            return whole;
        }
        let fraction = format!("{:09}", self.nanos);
        let fraction = fraction.trim_end_matches('0');
        format!("{}.{fraction}Z", whole.trim_end_matches('Z'))
    }
}

/// RFC 3339 text of a whole-second UTC time: `2026-11-25T09:14:03Z`.
pub fn rfc3339(time: DateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minutes(),
        time.seconds()
    )
}

impl<'a> DecodeValue<'a> for GenTime {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let bytes = reader.read_vec(header.length())?;
        let text = String::from_utf8(bytes).map_err(|_| {
            der::Error::from(der::ErrorKind::Value {
                tag: Tag::GeneralizedTime,
            })
        })?;
        GenTime::parse(&text).map_err(|_| {
            der::Error::from(der::ErrorKind::Value {
                tag: Tag::GeneralizedTime,
            })
        })
    }
}

impl EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.text.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(self.text.as_bytes())
    }
}

impl FixedTag for GenTime {
    const TAG: Tag = Tag::GeneralizedTime;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gen_time_with_and_without_fraction() {
        let whole = GenTime::parse("20261125091403Z").unwrap();
        assert_eq!(whole.to_rfc3339(), "2026-11-25T09:14:03Z");
        assert_eq!(whole.nanos(), 0);

        let frac = GenTime::parse("20261125091403.512Z").unwrap();
        assert_eq!(frac.to_rfc3339(), "2026-11-25T09:14:03.512Z");
        assert_eq!(frac.nanos(), 512_000_000);
        let delta = frac
            .to_system_time()
            .duration_since(whole.to_system_time())
            .unwrap();
        assert_eq!(delta.as_millis(), 512);
    }

    #[test]
    fn gen_time_rejects_malformed_text() {
        for bad in [
            "20261125091403",
            "2026112509140Z",
            "20261325091403Z",
            "20261125091403.Z",
            "20261125091403,5Z",
            "20261125091403+0100",
        ] {
            assert!(GenTime::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
