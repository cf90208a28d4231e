//! Asking a TSA for a token: send the request, read the `TimeStampResp`, and check that
//! the token it carries answers this request (status granted, same imprint, same nonce,
//! certificate included).
//!
//! The caller decides which TSAs to try and in what order; every error names the URL.
//! Checking the token's signature and certificates is [`crate::verify()`]'s job, against
//! the caller's trust anchors.

use std::time::Duration;

use der::Decode;

use crate::asn1::{PkiStatusInfo, oid};
use crate::error::{TsaError, TsaErrorKind};
use crate::http::{self, Url};
use crate::request::{Nonce, request_der};
use crate::token::{ParsedToken, TokenInfo, children};

/// The media type of a time-stamp query (RFC 3161 §3.4).
pub const QUERY_CONTENT_TYPE: &str = "application/timestamp-query";
/// The media type of a time-stamp reply (RFC 3161 §3.4).
pub const REPLY_CONTENT_TYPE: &str = "application/timestamp-reply";

/// How to talk to a TSA.
#[derive(Clone, Debug)]
pub struct StampOptions {
    /// Deadline for the whole exchange: connecting, sending, reading.
    pub timeout: Duration,
    /// The largest response accepted. Tokens are a few KiB; the default is 1 MiB.
    pub max_response: usize,
}

impl Default for StampOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_response: 1024 * 1024,
        }
    }
}

/// A token obtained from a TSA, with the bytes to store.
#[derive(Clone, Debug)]
pub struct Stamp {
    /// The whole `TimeStampResp`, DER, as received (`openssl ts -verify -in`).
    pub response_der: Vec<u8>,
    /// The token alone: the CMS `ContentInfo`, DER, exactly as it appears in the response
    /// (`openssl ts -verify -in … -token_in`).
    pub token_der: Vec<u8>,
    /// The token's `TSTInfo`, summarised.
    pub info: TokenInfo,
    /// The certificates the token carries (DER), the TSA's first when it can be told apart.
    pub certificates: Vec<Vec<u8>>,
}

/// Asks the TSA at `url` (plain `http://`) to stamp a SHA-256 `digest`, with a fresh
/// random nonce, and checks that the answer is a granted token for this request.
pub fn stamp(url: &str, digest: &[u8; 32], timeout: Duration) -> Result<Stamp, TsaError> {
    stamp_with(
        url,
        digest,
        &StampOptions {
            timeout,
            ..StampOptions::default()
        },
    )
}

/// [`stamp`] with every option.
pub fn stamp_with(url: &str, digest: &[u8; 32], options: &StampOptions) -> Result<Stamp, TsaError> {
    let at = |kind| TsaError {
        url: url.to_owned(),
        kind,
    };
    let parsed = Url::parse(url).map_err(at)?;
    let nonce = Nonce::random().map_err(at)?;
    let request = request_der(digest, &nonce);
    let response = http::post(
        &parsed,
        QUERY_CONTENT_TYPE,
        REPLY_CONTENT_TYPE,
        &request,
        options.timeout,
        options.max_response,
    )
    .map_err(at)?;
    if response.status != 200 {
        let excerpt = if http::is_text(&response.body) {
            format!(": {}", http::excerpt(&response.body))
        } else {
            String::new()
        };
        return Err(at(TsaErrorKind::HttpStatus {
            status: response.status,
            reason: response.reason,
            excerpt,
        }));
    }
    check_response_inner(
        &response.body,
        digest,
        &nonce,
        response.content_type.as_deref(),
    )
    .map_err(at)
}

/// Checks a `TimeStampResp` obtained by other means against the request it answers:
/// status granted, a token present, its imprint equal to `digest`, its nonce equal to
/// `nonce`, and at least one certificate in it.
pub fn check_response(
    response_der: &[u8],
    digest: &[u8; 32],
    nonce: &Nonce,
) -> Result<Stamp, TsaErrorKind> {
    check_response_inner(response_der, digest, nonce, None)
}

fn check_response_inner(
    response_der: &[u8],
    digest: &[u8; 32],
    nonce: &Nonce,
    content_type: Option<&str>,
) -> Result<Stamp, TsaErrorKind> {
    let not_resp = |reason: String| TsaErrorKind::NotTimeStampResp {
        content_type: content_type.unwrap_or("not given").to_owned(),
        reason: if http::is_text(response_der) {
            format!("{reason}; the body reads {:?}", http::excerpt(response_der))
        } else {
            reason
        },
    };
    let fields = children(response_der).map_err(|e| not_resp(format!("not DER: {e}")))?;
    let (status_der, token_der) = match fields.as_slice() {
        [status] => (*status, None),
        [status, token] => (*status, Some(*token)),
        _ => return Err(not_resp("wrong number of fields".into())),
    };
    let status = PkiStatusInfo::from_der(status_der)
        .map_err(|e| not_resp(format!("no PKIStatusInfo: {e}")))?;
    let status_name = status_name(&status);
    let granted = matches!(status.status.as_bytes(), [0] | [1]);
    if !granted {
        let fail_info = status
            .fail_info
            .as_ref()
            .map(|bits| fail_info_names(bits.raw_bytes()))
            .filter(|names| !names.is_empty())
            .map(|names| format!(", failInfo {}", names.join(", ")))
            .unwrap_or_default();
        let text = status
            .status_string
            .as_ref()
            .filter(|t| !t.is_empty())
            .map(|t| format!(", text {:?}", t.join(" / ")))
            .unwrap_or_default();
        return Err(TsaErrorKind::Rejected {
            status: status_name,
            fail_info,
            text,
        });
    }
    let token_der = token_der.ok_or(TsaErrorKind::NoToken {
        status: status_name,
    })?;
    let token = ParsedToken::parse(token_der)?;

    let imprint = &token.tst.message_imprint;
    if imprint.hash_algorithm.oid != oid::SHA256
        || imprint.hashed_message.as_bytes() != digest.as_slice()
    {
        return Err(TsaErrorKind::ImprintMismatch {
            sent: format!("sha256:{}", hex::encode(digest)),
            got: format!(
                "{}:{}",
                token.info.hash_algorithm, token.info.message_imprint
            ),
        });
    }
    let nonce_ok = token
        .tst
        .nonce
        .as_ref()
        .is_some_and(|n| n.as_bytes() == nonce.int_bytes().as_slice());
    if !nonce_ok {
        return Err(TsaErrorKind::NonceMismatch {
            sent: nonce.to_hex(),
            got: token.info.nonce.clone().unwrap_or_else(|| "absent".into()),
        });
    }
    if token.certificates.is_empty() {
        return Err(TsaErrorKind::NoCertificate);
    }

    // The signer's certificate first, so callers that keep one certificate keep the
    // right one.
    let mut certificates: Vec<Vec<u8>> = Vec::new();
    let signer_index = token
        .certificates
        .iter()
        .position(|c| crate::verify::is_signer(&token.signer.sid, &c.cert));
    if let Some(i) = signer_index {
        certificates.push(token.certificates[i].der.clone());
    }
    for (i, c) in token.certificates.iter().enumerate() {
        if Some(i) != signer_index {
            certificates.push(c.der.clone());
        }
    }

    Ok(Stamp {
        response_der: response_der.to_vec(),
        token_der: token_der.to_vec(),
        info: token.info,
        certificates,
    })
}

fn status_name(status: &PkiStatusInfo) -> String {
    match status.status.as_bytes() {
        [0] => "granted".into(),
        [1] => "grantedWithMods".into(),
        [2] => "rejection".into(),
        [3] => "waiting".into(),
        [4] => "revocationWarning".into(),
        [5] => "revocationNotification".into(),
        other => format!("{} (unknown)", crate::token::int_hex_bytes(other)),
    }
}

/// The names of the bits set in a `PKIFailureInfo` (RFC 3161 §2.4.2).
fn fail_info_names(bits: &[u8]) -> Vec<String> {
    let name = |bit: usize| -> String {
        match bit {
            0 => "badAlg (unrecognized or unsupported algorithm)".into(),
            2 => "badRequest (transaction not permitted or supported)".into(),
            5 => "badDataFormat (the data submitted has the wrong format)".into(),
            14 => "timeNotAvailable (the TSA's time source is not available)".into(),
            15 => "unacceptedPolicy (the requested TSA policy is not supported)".into(),
            16 => "unacceptedExtension (the requested extension is not supported)".into(),
            17 => "addInfoNotAvailable".into(),
            25 => "systemFailure (the TSA could not handle the request)".into(),
            n => format!("bit {n}"),
        }
    };
    let mut out = Vec::new();
    for (i, byte) in bits.iter().enumerate() {
        for b in 0..8 {
            if byte & (0x80 >> b) != 0 {
                out.push(name(i * 8 + b));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_info_bits_are_named() {
        // badAlg is bit 0, unacceptedPolicy bit 15: 0b1000_0000, 0b0000_0001.
        assert_eq!(
            fail_info_names(&[0x80, 0x01]),
            vec![
                "badAlg (unrecognized or unsupported algorithm)".to_owned(),
                "unacceptedPolicy (the requested TSA policy is not supported)".to_owned()
            ]
        );
    }

    #[test]
    fn html_is_not_a_time_stamp_response() {
        let err = check_response(
            b"<html>Service unavailable</html>",
            &[0; 32],
            &Nonce([1; 8]),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("not a TimeStampResp"), "{text}");
        assert!(text.contains("Service unavailable"), "{text}");
    }
}
