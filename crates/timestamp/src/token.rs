//! Reading a time-stamp token: the CMS `ContentInfo` a TSA returns, its `TSTInfo`, its
//! signer and the certificates it carries, with the exact bytes that signatures and
//! hashes cover.
//!
//! Owns [`parse_token`] and [`TokenInfo`], the summary of a token that reports and JSON
//! files show.

use cms::content_info::CmsVersion;
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier, SignerInfo};
use der::asn1::{Int, OctetString, SetOfVec};
use der::oid::ObjectIdentifier;
use der::{Decode, Header, Reader, SliceReader};
use serde::Serialize;
use sha2::Digest;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::asn1::{Accuracy, GenTime, TstInfo, oid};
use crate::error::TokenError;

/// The hash algorithms this crate computes.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlg {
    /// SHA-1: only for ESS certificate identifiers (RFC 2634), never for imprints or
    /// signatures.
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    /// The algorithm an `AlgorithmIdentifier` names, if it is one of ours.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            oid::SHA1 => Some(Self::Sha1),
            oid::SHA256 => Some(Self::Sha256),
            oid::SHA384 => Some(Self::Sha384),
            oid::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The algorithm [`HashAlg::name`] names.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Sha1, Self::Sha256, Self::Sha384, Self::Sha512]
            .into_iter()
            .find(|a| a.name() == name)
    }

    /// The algorithm's object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => oid::SHA1,
            Self::Sha256 => oid::SHA256,
            Self::Sha384 => oid::SHA384,
            Self::Sha512 => oid::SHA512,
        }
    }

    /// The name openssl uses: `sha256`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

/// Name of an algorithm for messages: ours by name, others by OID.
pub(crate) fn alg_name(alg: &AlgorithmIdentifierOwned) -> String {
    HashAlg::from_oid(&alg.oid).map_or_else(|| alg.oid.to_string(), |h| h.name().to_owned())
}

/// The `TSTInfo` of a token, as reports show it. Serialises to the JSON summary that
/// Custody writes beside each stored token (see `docs/design/timestamps.md`).
#[derive(Clone, Debug, Serialize)]
pub struct TokenInfo {
    /// When the TSA says it stamped the data, UTC (RFC 3339 in JSON).
    #[serde(serialize_with = "ser_gen_time")]
    pub gen_time: GenTime,
    /// The token's serial number, lowercase hex.
    pub serial_number: String,
    /// The TSA policy under which the token was issued, dotted OID.
    pub policy: String,
    /// The TSA's name as it put it in the token (`tsa` field), if it did.
    pub tsa_name: Option<String>,
    /// Hash algorithm of the message imprint, `sha256` or a dotted OID.
    pub hash_algorithm: String,
    /// The message imprint (the hash of the stamped data), lowercase hex.
    pub message_imprint: String,
    /// The nonce copied from the request, lowercase hex.
    pub nonce: Option<String>,
    /// The accuracy the TSA claims for `gen_time`.
    pub accuracy: Option<AccuracyInfo>,
    /// Whether the TSA guarantees that its tokens are ordered by `gen_time`.
    pub ordering: bool,
}

fn ser_gen_time<S: serde::Serializer>(t: &GenTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339())
}

/// The `Accuracy` of a token: `gen_time` is within ± this much of the true time.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Serialize)]
pub struct AccuracyInfo {
    pub seconds: u64,
    pub millis: u16,
    pub micros: u16,
}

impl std::fmt::Display for AccuracyInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "±{}.{:03}{:03} s",
            self.seconds, self.millis, self.micros
        )
    }
}

impl TokenInfo {
    /// The summary as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn from_tst(tst: &TstInfo) -> Self {
        Self {
            gen_time: tst.gen_time.clone(),
            serial_number: int_hex(&tst.serial_number),
            policy: tst.policy.to_string(),
            tsa_name: tst.tsa.as_ref().map(general_name_text),
            hash_algorithm: alg_name(&tst.message_imprint.hash_algorithm),
            message_imprint: hex::encode(tst.message_imprint.hashed_message.as_bytes()),
            nonce: tst.nonce.as_ref().map(int_hex),
            accuracy: tst.accuracy.as_ref().map(|a: &Accuracy| AccuracyInfo {
                seconds: a.seconds.unwrap_or(0),
                millis: a.millis.unwrap_or(0),
                micros: a.micros.unwrap_or(0),
            }),
            ordering: tst.ordering.unwrap_or(false),
        }
    }
}

/// Lowercase hex of an INTEGER's value, without the sign byte DER adds before a high bit.
pub(crate) fn int_hex(value: &Int) -> String {
    int_hex_bytes(value.as_bytes())
}

/// [`int_hex`] of the content bytes of an INTEGER.
pub(crate) fn int_hex_bytes(bytes: &[u8]) -> String {
    let bytes = match bytes {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => bytes,
    };
    hex::encode(bytes)
}

/// A `GeneralName` as text: a directory name as RFC 4514, others with a prefix.
pub(crate) fn general_name_text(name: &GeneralName) -> String {
    match name {
        GeneralName::DirectoryName(n) => n.to_string(),
        GeneralName::DnsName(s) => format!("DNS:{}", s.as_str()),
        GeneralName::UniformResourceIdentifier(s) => format!("URI:{}", s.as_str()),
        GeneralName::Rfc822Name(s) => format!("email:{}", s.as_str()),
        GeneralName::IpAddress(ip) => format!("IP:{}", hex::encode(ip.as_bytes())),
        GeneralName::RegisteredId(oid) => format!("RID:{oid}"),
        GeneralName::OtherName(o) => format!("othername:{}", o.type_id),
        GeneralName::EdiPartyName(_) => "ediPartyName".to_owned(),
    }
}

/// Reads the summary of a stored token (the DER `ContentInfo`), without verifying it.
pub fn parse_token(token_der: &[u8]) -> Result<TokenInfo, TokenError> {
    Ok(ParsedToken::parse(token_der)?.info)
}

/// The token in bytes stored as either a `TimeStampToken` (a CMS `ContentInfo`) or the
/// whole `TimeStampResp` that carried one, as other tools keep them (C2PA's `sigTst`
/// header holds the response). A response must have granted the request.
pub fn token_from_stored(der_bytes: &[u8]) -> Result<Vec<u8>, TokenError> {
    let m = TokenError::malformed;
    let fields = children(der_bytes).map_err(|e| m("stored token", e))?;
    // A ContentInfo begins with its content type (an OID, tag 6); a TimeStampResp with
    // its PKIStatusInfo (a SEQUENCE).
    match fields.as_slice() {
        [first, ..] if first.first() == Some(&0x06) => Ok(der_bytes.to_vec()),
        [status, token] if status.first() == Some(&0x30) => {
            let status = crate::asn1::PkiStatusInfo::from_der(status)
                .map_err(|e| m("TimeStampResp status", e))?;
            if !matches!(status.status.as_bytes(), [0] | [1]) {
                return Err(TokenError::Malformed(
                    "the stored TimeStampResp did not grant the request".into(),
                ));
            }
            Ok(token.to_vec())
        }
        [_] => Err(TokenError::Malformed(
            "the stored TimeStampResp holds no token".into(),
        )),
        _ => Err(TokenError::Malformed(
            "neither a TimeStampToken nor a TimeStampResp".into(),
        )),
    }
}

/// A certificate with the exact bytes it was read from.
#[derive(Clone, Debug)]
pub(crate) struct CertBytes {
    pub der: Vec<u8>,
    pub cert: Certificate,
}

impl CertBytes {
    pub fn parse(der: &[u8], what: &str) -> Result<Self, TokenError> {
        let cert = Certificate::from_der(der).map_err(|e| TokenError::Certificate {
            what: what.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            der: der.to_vec(),
            cert,
        })
    }

    /// The subject as RFC 4514 text.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }
}

/// A token taken apart, with the bytes each check needs.
pub(crate) struct ParsedToken {
    pub tst: TstInfo,
    /// The `eContent` octets: the DER of the `TSTInfo`, as the message digest covers it.
    pub tst_der: Vec<u8>,
    pub signer: SignerInfo,
    /// The signed attributes as received, with their `[0]` tag replaced by the SET tag,
    /// which is what the signature covers (RFC 5652 §5.4).
    pub signed_attrs_der: Option<Vec<u8>>,
    /// Certificates in the `SignedData` that parse as X.509 certificates.
    pub certificates: Vec<CertBytes>,
    /// Entries of the certificate set that could not be read, as messages.
    pub unreadable_certificates: Vec<String>,
    pub info: TokenInfo,
}

impl ParsedToken {
    pub fn parse(token_der: &[u8]) -> Result<Self, TokenError> {
        let m = TokenError::malformed;
        let content_info = children(token_der).map_err(|e| m("ContentInfo", e))?;
        let [content_type, content] = content_info.as_slice() else {
            return Err(TokenError::Malformed(
                "ContentInfo does not have two fields".into(),
            ));
        };
        let content_type =
            ObjectIdentifier::from_der(content_type).map_err(|e| m("ContentInfo type", e))?;
        if content_type != oid::SIGNED_DATA {
            return Err(TokenError::Malformed(format!(
                "content type {content_type} is not id-signedData"
            )));
        }
        if content.first() != Some(&0xA0) {
            return Err(TokenError::Malformed(
                "ContentInfo content is not [0]".into(),
            ));
        }
        let explicit = children(content).map_err(|e| m("ContentInfo content", e))?;
        let [signed_data] = explicit.as_slice() else {
            return Err(TokenError::Malformed(
                "ContentInfo [0] does not hold one SignedData".into(),
            ));
        };
        let fields = children(signed_data).map_err(|e| m("SignedData", e))?;
        if fields.len() < 4 {
            return Err(TokenError::Malformed("SignedData is missing fields".into()));
        }
        let version = CmsVersion::from_der(fields[0]).map_err(|e| m("SignedData version", e))?;
        if version != CmsVersion::V3 {
            return Err(TokenError::Malformed(format!(
                "SignedData version {} is not 3, as RFC 5652 §5.1 requires for a TSTInfo",
                version as u8
            )));
        }
        let digest_algorithms: Vec<AlgorithmIdentifierOwned> =
            SetOfVec::<AlgorithmIdentifierOwned>::from_der(fields[1])
                .map_err(|e| m("SignedData digestAlgorithms", e))?
                .into_vec();
        let encap = EncapsulatedContentInfo::from_der(fields[2])
            .map_err(|e| m("EncapsulatedContentInfo", e))?;
        if encap.econtent_type != oid::TST_INFO {
            return Err(TokenError::Malformed(format!(
                "encapsulated content type {} is not id-ct-TSTInfo",
                encap.econtent_type
            )));
        }
        let econtent = encap
            .econtent
            .ok_or_else(|| TokenError::Malformed("the TSTInfo is missing (detached)".into()))?;
        let tst_der = econtent
            .decode_as::<OctetString>()
            .map_err(|e| m("eContent", e))?
            .into_bytes()
            .to_vec();
        let tst = TstInfo::from_der(&tst_der).map_err(|e| m("TSTInfo", e))?;
        if tst.version != 1 {
            return Err(TokenError::Malformed(format!(
                "TSTInfo version {} is not 1",
                tst.version
            )));
        }

        let mut certificates = Vec::new();
        let mut unreadable_certificates = Vec::new();
        for field in &fields[3..fields.len() - 1] {
            if field.first() == Some(&0xA0) {
                let set = children(field).map_err(|e| m("certificates", e))?;
                for (i, der) in set.into_iter().enumerate() {
                    if der.first() != Some(&0x30) {
                        unreadable_certificates
                            .push(format!("certificate {i} of the token is not X.509"));
                        continue;
                    }
                    match CertBytes::parse(der, &format!("certificate {i} of the token")) {
                        Ok(c) => certificates.push(c),
                        Err(e) => unreadable_certificates.push(e.to_string()),
                    }
                }
            }
        }

        let signer_infos = children(fields[fields.len() - 1]).map_err(|e| m("signerInfos", e))?;
        let [signer_der] = signer_infos.as_slice() else {
            return Err(TokenError::Malformed(format!(
                "a time-stamp token has exactly one signer (RFC 3161 §2.4.2), this one has {}",
                signer_infos.len()
            )));
        };
        let signer = SignerInfo::from_der(signer_der).map_err(|e| m("SignerInfo", e))?;
        let expected = match signer.sid {
            SignerIdentifier::IssuerAndSerialNumber(_) => CmsVersion::V1,
            SignerIdentifier::SubjectKeyIdentifier(_) => CmsVersion::V3,
        };
        if signer.version != expected {
            return Err(TokenError::Malformed(format!(
                "SignerInfo version {} does not match its signer identifier (RFC 5652 §5.3)",
                signer.version as u8
            )));
        }
        if !digest_algorithms
            .iter()
            .any(|a| a.oid == signer.digest_alg.oid)
        {
            return Err(TokenError::Malformed(format!(
                "the signer's digest algorithm {} is not listed in digestAlgorithms",
                alg_name(&signer.digest_alg)
            )));
        }
        for alg in digest_algorithms
            .iter()
            .chain([&signer.digest_alg, &tst.message_imprint.hash_algorithm])
        {
            if !hash_parameters_ok(alg) {
                return Err(TokenError::Malformed(format!(
                    "the hash algorithm identifier {} has parameters other than NULL",
                    alg_name(alg)
                )));
            }
        }
        let signed_attrs_der = children(signer_der)
            .map_err(|e| m("SignerInfo", e))?
            .into_iter()
            .find(|f| f.first() == Some(&0xA0))
            .map(|raw| {
                let mut v = raw.to_vec();
                v[0] = 0x31;
                v
            });

        let info = TokenInfo::from_tst(&tst);
        Ok(Self {
            tst,
            tst_der,
            signer,
            signed_attrs_der,
            certificates,
            unreadable_certificates,
            info,
        })
    }
}

/// Whether a hash algorithm identifier's parameters are absent or NULL (RFC 5754 §2).
pub(crate) fn hash_parameters_ok(alg: &AlgorithmIdentifierOwned) -> bool {
    alg.parameters
        .as_ref()
        .is_none_or(|p| der::Tagged::tag(p) == der::Tag::Null && p.value().is_empty())
}

/// The encodings of the elements of one constructed DER element, as they appear in it.
pub(crate) fn children(tlv: &[u8]) -> der::Result<Vec<&[u8]>> {
    let mut reader = SliceReader::new(tlv)?;
    let header = Header::decode(&mut reader)?;
    if !header.is_constructed() {
        return Err(der::ErrorKind::Noncanonical { tag: header.tag() }.into());
    }
    let mut out = Vec::new();
    reader.read_nested(header.length(), |inner| {
        while !inner.is_finished() {
            out.push(inner.tlv_bytes()?);
        }
        Ok::<_, der::Error>(())
    })?;
    reader.finish()?;
    Ok(out)
}
