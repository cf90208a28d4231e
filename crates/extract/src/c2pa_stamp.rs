//! The RFC 3161 time-stamp of a C2PA claim, taken out of its manifest so that the vault
//! can verify it against its own TSA roots (feature `c2pa`).
//!
//! The validator reports a time-stamp's time but, for version-1 claims, calls any
//! well-formed token trusted whoever signed it, and this vault gives it no roots. So
//! the token is read here, with what it must stamp, and judged later by the vault
//! (`docs/design/metadata.md` §7):
//!
//! - The manifest store is a JUMBF superbox of C2PA type `c2pa` holding one superbox
//!   per manifest (type `c2ma`, `c2md` or `c2um`), labelled with the manifest's URN. A
//!   manifest holds its claim (type `c2cl`), its signature (`c2cs`) and its assertion
//!   store (`c2as`), the first two as a `cbor` box each. Boxes are told apart by type,
//!   as the validator does; anything ambiguous is refused.
//! - The signature is a COSE_Sign1 whose unprotected header carries the token: `sigTst`
//!   (C2PA 1.x: the value is a `TimeStampResp`) or `sigTst2` (2.x: a `TimeStampToken`),
//!   as `{"tstTokens": [{"val": bytes}]}`.
//! - The token stamps COSE's `CounterSignature` structure: `["CounterSignature",
//!   protected header, h'', payload]`, whose payload is the claim's bytes (`sigTst`) or
//!   the signature's bytes as a CBOR byte string (`sigTst2`).
//!
//! What is read here is then tied to what the validator checked, and the binding's
//! coverage of the file judged, by `c2pa_check`.

use base64::Engine;
use coset::cbor::value::Value;
use coset::{CborSerializable, CoseSign1, Label, SignatureContext, TaggedCborSerializable};

use crate::record::C2paTimeStamp;

/// One JUMBF box: its type and payload.
struct JumbfBox<'a> {
    kind: [u8; 4],
    payload: &'a [u8],
}

/// The boxes laid end to end in `data`.
fn boxes(mut data: &[u8]) -> Result<Vec<JumbfBox<'_>>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.len() < 8 {
            return Err(format!("{} stray bytes after the last box", data.len()));
        }
        let size = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as u64;
        let kind = [data[4], data[5], data[6], data[7]];
        let (header, size) = match size {
            0 => (8, data.len() as u64),
            1 => {
                let large = data
                    .get(8..16)
                    .ok_or("a box's 64-bit length is cut short")?;
                (16, u64::from_be_bytes(large.try_into().unwrap_or([0; 8])))
            }
            n => (8, n),
        };
        if size < header as u64 || size > data.len() as u64 {
            return Err(format!(
                "a {} box claims {size} bytes where {} remain",
                String::from_utf8_lossy(&kind),
                data.len()
            ));
        }
        let size = size as usize;
        out.push(JumbfBox {
            kind,
            payload: &data[header..size],
        });
        data = &data[size..];
    }
    Ok(out)
}

/// A superbox (`jumb`) taken apart: its content type, its label and the content boxes
/// after its description.
struct Superbox<'a> {
    uuid: [u8; 16],
    label: String,
    /// The superbox's payload: its description and content boxes, as stored.
    payload: &'a [u8],
    contents: Vec<JumbfBox<'a>>,
}

/// The last twelve bytes of every C2PA box type: the type is its first four bytes
/// (`c2pa`, `c2ma`, `c2cl`, …) followed by these.
const C2PA_UUID_TAIL: [u8; 12] = [
    0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

impl Superbox<'_> {
    /// Whether the box's content type is the C2PA type `code`.
    fn is(&self, code: &[u8; 4]) -> bool {
        self.uuid[..4] == code[..] && self.uuid[4..] == C2PA_UUID_TAIL
    }
}

fn superbox<'a>(b: &JumbfBox<'a>) -> Result<Superbox<'a>, String> {
    if &b.kind != b"jumb" {
        return Err("a JUMBF superbox was expected".into());
    }
    let mut inner = boxes(b.payload)?.into_iter();
    let desc = inner
        .next()
        .filter(|d| &d.kind == b"jumd")
        .ok_or("a JUMBF superbox does not begin with its description")?;
    // 16 bytes of content type, a byte of toggles, then the label if toggle 0x02 is set.
    let toggles = *desc
        .payload
        .get(16)
        .ok_or("a JUMBF description is cut short")?;
    let mut uuid = [0u8; 16];
    uuid.copy_from_slice(&desc.payload[..16]);
    let label = if toggles & 0x02 != 0 {
        let rest = &desc.payload[17..];
        let end = rest
            .iter()
            .position(|&c| c == 0)
            .ok_or("a JUMBF label is not terminated")?;
        String::from_utf8_lossy(&rest[..end]).into_owned()
    } else {
        String::new()
    };
    Ok(Superbox {
        uuid,
        label,
        payload: b.payload,
        contents: inner.collect(),
    })
}

/// The superboxes among `contents`.
fn children<'a>(contents: &[JumbfBox<'a>]) -> Result<Vec<Superbox<'a>>, String> {
    contents
        .iter()
        .filter(|b| &b.kind == b"jumb")
        .map(superbox)
        .collect()
}

/// The payload of a superbox's content, which must be one `cbor` box.
fn cbor_of<'a>(sb: &Superbox<'a>, what: &str) -> Result<&'a [u8], String> {
    match sb.contents.first() {
        Some(b) if &b.kind == b"cbor" => Ok(b.payload),
        _ => Err(format!("the {what} box does not hold CBOR")),
    }
}

/// The one superbox of C2PA type `code` among `boxes`; more than one is refused, as
/// the validator may have read another.
fn the_one<'s, 'a>(
    boxes: &'s [Superbox<'a>],
    code: &[u8; 4],
    what: &str,
) -> Result<&'s Superbox<'a>, String> {
    let mut found = boxes.iter().filter(|b| b.is(code));
    match (found.next(), found.next()) {
        (Some(one), None) => Ok(one),
        (None, _) => Err(format!("the active manifest holds no {what}")),
        (Some(_), Some(_)) => Err(format!(
            "the active manifest holds more than one {what}: which one was validated is not known"
        )),
    }
}

/// The claim's bytes and its signature's (COSE) bytes, of the manifest labelled
/// `active` (the last one when no label is given). Boxes are told apart by their C2PA
/// content types, as the validator tells them apart (labels only name them): a
/// manifest is `c2ma`, `c2md` or `c2um` (others are skipped), its claim `c2cl`, its
/// signature `c2cs`. Anything ambiguous is refused, never guessed.
#[cfg(test)]
fn claim_and_signature<'a>(
    store: &'a [u8],
    active: Option<&str>,
) -> Result<(&'a [u8], &'a [u8]), String> {
    manifest_parts(store, active).map(|p| (p.claim, p.signature))
}

/// What the active manifest holds that the time-stamp check reads.
struct Parts<'a> {
    claim: &'a [u8],
    signature: &'a [u8],
    /// The data-hash assertion (`c2pa.hash.data` in the assertion store, `c2as`): its
    /// superbox payload as stored, and its CBOR; or why there is not exactly one.
    data_hash: Result<(&'a [u8], &'a [u8]), String>,
}

fn manifest_parts<'a>(store: &'a [u8], active: Option<&str>) -> Result<Parts<'a>, String> {
    let top = boxes(store)?;
    let store_box = top.first().ok_or("the manifest store is empty")?;
    let store_sb = superbox(store_box)?;
    if !store_sb.is(b"c2pa") {
        return Err("the outer box is not a C2PA manifest store".into());
    }
    let all = children(&store_sb.contents)?;
    let manifests: Vec<&Superbox<'_>> = all
        .iter()
        .filter(|m| m.is(b"c2ma") || m.is(b"c2md") || m.is(b"c2um"))
        .collect();
    let manifest = match active {
        Some(label) => {
            if all.iter().any(|m| m.label == label && m.is(b"c2cm")) {
                return Err("the active manifest is compressed, which is not read here".into());
            }
            let mut named = manifests.iter().filter(|m| m.label == label);
            match (named.next(), named.next()) {
                (Some(one), None) => *one,
                (None, _) => return Err("the active manifest is not in the store".into()),
                (Some(_), Some(_)) => {
                    return Err("two manifests carry the active manifest's label".into());
                }
            }
        }
        None => manifests
            .last()
            .copied()
            .ok_or("the store holds no manifest")?,
    };
    let parts = children(&manifest.contents)?;
    let claim = the_one(&parts, b"c2cl", "claim")?;
    let signature = the_one(&parts, b"c2cs", "signature")?;
    let data_hash = the_one(&parts, b"c2as", "assertion store").and_then(|store| {
        let assertions = children(&store.contents)?;
        let mut found = assertions.iter().filter(|a| a.label == "c2pa.hash.data");
        match (found.next(), found.next()) {
            (Some(one), None) => Ok((one.payload, cbor_of(one, "data-hash assertion")?)),
            (None, _) => Err("the claim has no data-hash assertion".to_string()),
            (Some(_), Some(_)) => Err("the claim has more than one data-hash assertion".into()),
        }
    });
    Ok(Parts {
        claim: cbor_of(claim, "claim")?,
        signature: cbor_of(signature, "signature")?,
        data_hash,
    })
}

/// The value of text key `key` in a CBOR map.
fn field<'v>(map: &'v Value, key: &str) -> Option<&'v Value> {
    map.as_map()?
        .iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
}

/// The ranges a data-hash assertion leaves out (`exclusions`: `{"start", "length"}`).
fn exclusions(cbor: &[u8]) -> Result<Vec<(u64, u64)>, String> {
    let value: Value = coset::cbor::from_reader(cbor)
        .map_err(|e| format!("the data-hash assertion is not CBOR: {e}"))?;
    let Some(list) = field(&value, "exclusions") else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or("the data-hash exclusions are not a list")?;
    list.iter()
        .map(|e| {
            let n = |k| {
                field(e, k)
                    .and_then(|v| v.as_integer())
                    .and_then(|i| u64::try_from(i).ok())
            };
            n("start")
                .zip(n("length"))
                .ok_or_else(|| "a data-hash exclusion is not a start and a length".to_string())
        })
        .collect()
}

/// The data-hash assertion as read: its superbox payload (whose hash the claim lists)
/// and the ranges it leaves out.
pub struct DataHash {
    pub payload: Vec<u8>,
    pub exclusions: Vec<(u64, u64)>,
}

/// The token bytes of a `sigTst`/`sigTst2` header value: `{"tstTokens": [{"val": h'…'}]}`.
/// C2PA allows one token.
fn token_bytes(value: &Value) -> Result<Vec<u8>, String> {
    let tokens = field(value, "tstTokens").ok_or("the header holds no tstTokens")?;
    match tokens.as_array().map(Vec::as_slice) {
        Some([one]) => field(one, "val")
            .and_then(|v| v.as_bytes().cloned())
            .ok_or_else(|| "the token's value is not a byte string".into()),
        Some([]) => Err("tstTokens is empty".into()),
        Some(_) => Err("tstTokens holds more than the one token C2PA allows".into()),
        None => Err("tstTokens is not an array".into()),
    }
}

/// A time-stamp as read, with what ties it to the manifest the validator checked.
pub struct Read {
    pub stamp: C2paTimeStamp,
    /// The `signature` field of the COSE_Sign1 it was read from.
    pub signature: Vec<u8>,
    /// The hashes of the assertions the claim lists (`assertions`), when the claim has
    /// that field (version 1).
    pub assertion_hashes: Option<Vec<Vec<u8>>>,
    /// The active manifest's data-hash assertion, or why it cannot be read.
    pub data_hash: Result<DataHash, String>,
    /// The signer's certificate (DER) as the COSE *protected* header names it (`x5chain`,
    /// label 33), if it does: only there is the key part of what a `sigTst2` token
    /// stamps.
    pub protected_signer: Option<Vec<u8>>,
}

/// The first certificate of an `x5chain` in a protected header (a byte string, or an
/// array of them with the signer's first).
fn protected_signer(sign1: &CoseSign1) -> Option<Vec<u8>> {
    let value = sign1
        .protected
        .header
        .rest
        .iter()
        .find_map(|(label, v)| match label {
            Label::Int(33) => Some(v),
            Label::Text(t) if t == "x5chain" => Some(v),
            _ => None,
        })?;
    match value {
        Value::Bytes(b) => Some(b.clone()),
        Value::Array(a) => a.first()?.as_bytes().cloned(),
        _ => None,
    }
}

/// The hashes of a claim's `assertions` list (hashed URIs: `{"url", "hash"}`), if it
/// has one.
fn assertion_hashes(claim: &[u8]) -> Result<Option<Vec<Vec<u8>>>, String> {
    let value: Value =
        coset::cbor::from_reader(claim).map_err(|e| format!("the claim is not CBOR: {e}"))?;
    if value.as_map().is_none() {
        return Err("the claim is not a CBOR map".into());
    }
    let Some(list) = field(&value, "assertions") else {
        return Ok(None);
    };
    let list = list
        .as_array()
        .ok_or("the claim's assertions are not a list")?;
    list.iter()
        .map(|a| {
            field(a, "hash")
                .and_then(|h| h.as_bytes().cloned())
                .ok_or_else(|| "an assertion reference of the claim has no hash".to_string())
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The time-stamp of the claim of manifest `active` in the JUMBF `store`: `Ok(None)` when
/// its signature carries none, `Err` with the reason when it cannot be read.
pub fn time_stamp(store: &[u8], active: Option<&str>) -> Result<Option<Read>, String> {
    let Parts {
        claim,
        signature,
        data_hash,
    } = manifest_parts(store, active)?;
    let sign1 = CoseSign1::from_tagged_slice(signature)
        .or_else(|_| CoseSign1::from_slice(signature))
        .map_err(|e| format!("the signature is not a COSE_Sign1: {e}"))?;
    let header = sign1
        .unprotected
        .rest
        .iter()
        .find_map(|(label, value)| match label {
            Label::Text(t) if t == "sigTst" || t == "sigTst2" => Some((t.clone(), value)),
            _ => None,
        });
    let Some((header, value)) = header else {
        return Ok(None);
    };
    let stored = token_bytes(value)?;
    let token = custody_timestamp::token_from_stored(&stored).map_err(|e| e.to_string())?;
    let info = custody_timestamp::parse_token(&token).map_err(|e| e.to_string())?;
    // What the token must stamp (module documentation).
    let payload = if header == "sigTst" {
        claim.to_vec()
    } else {
        let mut encoded = Vec::new();
        coset::cbor::into_writer(&Value::Bytes(sign1.signature.clone()), &mut encoded)
            .map_err(|e| format!("cannot encode the signature: {e}"))?;
        encoded
    };
    let stamped = coset::sig_structure_data(
        SignatureContext::CounterSignature,
        sign1.protected.clone(),
        None,
        &[],
        &payload,
    );
    let alg = custody_timestamp::HashAlg::from_name(&info.hash_algorithm).ok_or_else(|| {
        format!(
            "the token's imprint uses {}, which is not read",
            info.hash_algorithm
        )
    })?;
    let digest = hex::encode(alg.digest(&stamped));
    let stamp = C2paTimeStamp {
        covers: if header == "sigTst" {
            "claim".into()
        } else {
            "claim signature".into()
        },
        header,
        gen_time: info.gen_time.to_rfc3339(),
        tsa: info.tsa_name.clone(),
        imprint_algorithm: info.hash_algorithm.clone(),
        imprint_matches: digest == info.message_imprint,
        covers_file: false,
        coverage_note: None,
        stamped_digest: digest,
        token: base64::engine::general_purpose::STANDARD.encode(&token),
    };
    Ok(Some(Read {
        stamp,
        assertion_hashes: assertion_hashes(claim)?,
        protected_signer: protected_signer(&sign1),
        data_hash: data_hash.and_then(|(payload, cbor)| {
            Ok(DataHash {
                payload: payload.to_vec(),
                exclusions: exclusions(cbor)?,
            })
        }),
        signature: sign1.signature,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jbox(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out
    }

    fn superbox_bytes(code: &[u8; 4], label: &str, contents: &[Vec<u8>]) -> Vec<u8> {
        let mut desc = code.to_vec();
        desc.extend_from_slice(&C2PA_UUID_TAIL);
        desc.push(0x03);
        desc.extend_from_slice(label.as_bytes());
        desc.push(0);
        let mut payload = jbox(b"jumd", &desc);
        for c in contents {
            payload.extend_from_slice(c);
        }
        jbox(b"jumb", &payload)
    }

    fn manifest(code: &[u8; 4], label: &str, n: u8) -> Vec<u8> {
        superbox_bytes(
            code,
            label,
            &[
                superbox_bytes(b"c2as", "c2pa.assertions", &[]),
                superbox_bytes(b"c2cl", "c2pa.claim.v2", &[jbox(b"cbor", &[n, 1])]),
                superbox_bytes(b"c2cs", "c2pa.signature", &[jbox(b"cbor", &[n, 2])]),
            ],
        )
    }

    #[test]
    fn the_active_manifests_claim_and_signature_are_found_by_type_and_label() {
        let store = superbox_bytes(
            b"c2pa",
            "c2pa",
            &[manifest(b"c2ma", "urn:1", 1), manifest(b"c2um", "urn:2", 2)],
        );
        assert_eq!(
            claim_and_signature(&store, Some("urn:1")).unwrap(),
            (&[1u8, 1][..], &[1u8, 2][..])
        );
        assert_eq!(
            claim_and_signature(&store, None).unwrap(),
            (&[2u8, 1][..], &[2u8, 2][..])
        );
        let err = claim_and_signature(&store, Some("urn:3")).unwrap_err();
        assert!(err.contains("not in the store"), "{err}");
    }

    /// A box of another type placed first and labelled as the active manifest, the
    /// claim or the signature is not what the validator read, so it is not read here
    /// either; two boxes that could each be the one validated are refused.
    #[test]
    fn boxes_are_told_apart_by_type_not_by_label() {
        let decoy = superbox_bytes(
            b"xxxx",
            "urn:1",
            &[
                superbox_bytes(b"c2cl", "c2pa.claim", &[jbox(b"cbor", &[9, 1])]),
                superbox_bytes(b"c2cs", "c2pa.signature", &[jbox(b"cbor", &[9, 2])]),
            ],
        );
        let store = superbox_bytes(b"c2pa", "c2pa", &[decoy, manifest(b"c2ma", "urn:1", 1)]);
        assert_eq!(
            claim_and_signature(&store, Some("urn:1")).unwrap(),
            (&[1u8, 1][..], &[1u8, 2][..])
        );
        // Inside the manifest: a decoy labelled as the signature, of another type.
        let inner = superbox_bytes(
            b"c2ma",
            "urn:1",
            &[
                superbox_bytes(b"json", "c2pa.signature", &[jbox(b"cbor", &[9, 2])]),
                superbox_bytes(b"c2cl", "c2pa.claim", &[jbox(b"cbor", &[1, 1])]),
                superbox_bytes(b"c2cs", "c2pa.signature", &[jbox(b"cbor", &[1, 2])]),
            ],
        );
        let store = superbox_bytes(b"c2pa", "c2pa", &[inner]);
        assert_eq!(
            claim_and_signature(&store, Some("urn:1")).unwrap(),
            (&[1u8, 1][..], &[1u8, 2][..])
        );
        // Two signatures, two manifests of one label, a compressed manifest: refused.
        let two_sigs = superbox_bytes(
            b"c2ma",
            "urn:1",
            &[
                superbox_bytes(b"c2cl", "c2pa.claim", &[jbox(b"cbor", &[1, 1])]),
                superbox_bytes(b"c2cs", "c2pa.signature", &[jbox(b"cbor", &[9, 2])]),
                superbox_bytes(b"c2cs", "c2pa.signature", &[jbox(b"cbor", &[1, 2])]),
            ],
        );
        let err =
            claim_and_signature(&superbox_bytes(b"c2pa", "c2pa", &[two_sigs]), None).unwrap_err();
        assert!(err.contains("more than one signature"), "{err}");
        let twice = superbox_bytes(
            b"c2pa",
            "c2pa",
            &[manifest(b"c2ma", "urn:1", 9), manifest(b"c2ma", "urn:1", 1)],
        );
        let err = claim_and_signature(&twice, Some("urn:1")).unwrap_err();
        assert!(err.contains("two manifests"), "{err}");
        let compressed = superbox_bytes(b"c2pa", "c2pa", &[manifest(b"c2cm", "urn:1", 1)]);
        let err = claim_and_signature(&compressed, Some("urn:1")).unwrap_err();
        assert!(err.contains("compressed"), "{err}");
        // A store of another type.
        let other = superbox_bytes(b"c2px", "c2pa", &[manifest(b"c2ma", "urn:1", 1)]);
        assert!(claim_and_signature(&other, None).is_err());
    }

    #[test]
    fn damaged_boxes_are_refused_with_a_reason() {
        let store = superbox_bytes(b"c2pa", "c2pa", &[]);
        // Every cut of the store, and a box claiming more than there is.
        for cut in 0..store.len() {
            let r = claim_and_signature(&store[..cut], None);
            assert!(r.is_err(), "cut at {cut}");
        }
        let mut long = store.clone();
        long[3] = 0xff;
        let err = claim_and_signature(&long, None).unwrap_err();
        assert!(err.contains("claims"), "{err}");
        let err = claim_and_signature(&store, None).unwrap_err();
        assert!(err.contains("no manifest"), "{err}");
    }

    /// Damage anywhere in a real store (a DigiCert-stamped fixture) gives an answer or a
    /// reason, never a panic.
    #[test]
    fn a_damaged_real_store_never_panics() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/testdata/c2pa/C.jpg");
        let Ok(jpeg) = std::fs::read(&path) else {
            eprintln!("skipped: {} not found", path.display());
            return;
        };
        let store = c2pa::jumbf_io::load_jumbf_from_memory("image/jpeg", &jpeg).unwrap();
        let whole = time_stamp(&store, None)
            .unwrap()
            .expect("C.jpg is stamped")
            .stamp;
        assert!(whole.imprint_matches);
        let mut damaged = store.clone();
        for at in (0..store.len()).step_by(7) {
            damaged[at] ^= 0xff;
            if let Ok(Some(Read { stamp: t, .. })) = time_stamp(&damaged, None) {
                // A changed byte of the claim or its header changes what is stamped.
                assert!(t.stamped_digest == whole.stamped_digest || !t.imprint_matches);
            }
            damaged[at] = store[at];
        }
        for cut in (0..store.len()).step_by(97) {
            let _ = time_stamp(&store[..cut], None);
        }
    }
}
