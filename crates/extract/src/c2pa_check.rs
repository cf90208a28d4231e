//! C2PA content credentials, validated by the `c2pa` crate (feature `c2pa`).
//!
//! The `c2pa` API changes between minor versions, so it is touched only here, behind
//! one function. The validator streams the whole file (the data hash covers every
//! byte), from the caller's reader; no remote manifest is fetched and no trust list
//! is configured, so test or private signers come out `Valid` with
//! `signingCredential.untrusted`, never `Trusted`.
//!
//! A regular JPEG in which no byte the validator reads could begin content credentials
//! is not given to it (it copies the whole file three times to look): see [`SIGNS`].

use std::io::{self, Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::record::{C2paReport, C2paState, C2paStatus, Metadata};
use crate::source::Input;

/// Name and version of the validator, recorded in every report it produced.
pub const VALIDATOR: &str = "c2pa-rs 0.90.22";

/// Media types the validator is given; others keep the container scan's result.
fn supported(media_type: &str) -> bool {
    matches!(
        media_type,
        "image/jpeg"
            | "image/png"
            | "image/tiff"
            | "image/webp"
            | "image/heif"
            | "image/heic"
            | "image/avif"
            | "video/mp4"
            | "video/quicktime"
            | "audio/mp4"
    )
}

/// Byte strings without one of which the validator finds nothing to validate. Every
/// embedding (JPEG APP11, PNG `caBX`, WebP `C2PA`, BMFF `uuid` box, TIFF tag) holds the
/// manifest store as a JUMBF box labelled `c2pa`, which the validator looks for; a
/// manifest stored elsewhere is named by the XMP key `dcterms:provenance`.
const SIGNS: [&[u8]; 2] = [b"c2pa", b"dcterms:provenance"];

/// Bytes read at a time when looking for [`SIGNS`].
const SCAN_CHUNK: usize = 64 * 1024;

/// Whether one of [`SIGNS`] occurs anywhere in `r`, read to its end.
fn holds_a_sign(r: &mut impl Read) -> io::Result<bool> {
    let finders = SIGNS.map(memchr::memmem::Finder::new);
    // A sign split between two reads is found because the longest sign's length less
    // one byte is carried over to the next.
    let carry = SIGNS.iter().map(|s| s.len()).max().unwrap_or(1) - 1;
    let mut buf = [0u8; SCAN_CHUNK];
    let mut have = 0;
    loop {
        let n = match r.read(&mut buf[have..]) {
            Ok(0) => return Ok(false),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        have += n;
        if finders.iter().any(|f| f.find(&buf[..have]).is_some()) {
            return Ok(true);
        }
        let keep_from = have.saturating_sub(carry);
        buf.copy_within(keep_from..have, 0);
        have -= keep_from;
    }
}

/// Validates the file's content credentials into `md.c2pa`. `scope`: how many bytes
/// from the start hold everything the validator reads, when the container walk knows
/// (a regular JPEG's segments before its first scan: c2pa-rs reads APP11 and APP1
/// segments there only); with `None` the validator always runs.
pub fn validate<R: Read + Seek + Send>(
    input: &mut Input<'_, R>,
    md: &mut Metadata,
    scope: Option<u64>,
) {
    // A 3GPP file is an ISO BMFF file as MP4 is, and is validated as one.
    let media_type = match md.media_type.as_str() {
        "video/3gpp" | "video/3gpp2" => "video/mp4".to_owned(),
        other => other.to_owned(),
    };
    if !supported(&media_type) {
        return;
    }
    let found_in = md.c2pa.as_ref().and_then(|c| c.found_in.clone());
    // Only a regular JPEG is searched: c2pa-rs's JPEG reader copies the whole file to
    // look (three times), while its other readers read the container's structure,
    // which costs less than a search would. On an irregular or damaged JPEG the
    // validator may have more to say than "no manifest" (that it cannot parse it), so
    // it runs.
    if let (None, Some(scope)) = (&found_in, scope) {
        let searched = input
            .rewound()
            .and_then(|r| holds_a_sign(&mut r.take(scope)));
        match searched {
            Ok(true) => {}
            Ok(false) => {
                // Nothing the validator could read: no manifest store, and no validator run.
                md.c2pa = Some(C2paReport::new(C2paState::NoManifest, None));
                return;
            }
            Err(e) => {
                md.problem(format_args!("C2PA: cannot read the input: {e}"));
                return;
            }
        }
    }
    let stream = match input.rewound() {
        Ok(s) => s,
        Err(e) => {
            md.problem(format_args!("C2PA: cannot rewind the input: {e}"));
            return;
        }
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        c2pa::Reader::from_context(c2pa::Context::new()).with_stream(&media_type, stream)
    }));
    let mut report = C2paReport::new(C2paState::NotValidated, found_in);
    report.validator = Some(VALIDATOR.into());
    match result {
        Ok(Ok(reader)) => {
            fill(&reader, &mut report, md);
            read_time_stamp(input, &media_type, &reader, md, &mut report);
        }
        Ok(Err(c2pa::Error::JumbfNotFound)) | Ok(Err(c2pa::Error::ProvenanceMissing)) => {
            if report.found_in.is_some() {
                md.problem(
                    "C2PA: the container holds a manifest store box the validator did not find",
                );
            }
            report.state = C2paState::NoManifest;
        }
        Ok(Err(c2pa::Error::UnsupportedType)) => return,
        Ok(Err(e)) => {
            md.problem(format_args!("C2PA manifest store: {e}"));
            report.state = C2paState::Unreadable;
        }
        Err(_) => {
            md.problem("C2PA manifest store: the validator failed on this file");
            report.state = C2paState::Unreadable;
        }
    }
    md.c2pa = Some(report);
}

/// Reads the active manifest's time-stamp into `report.time_stamp` (`c2pa_stamp`); a
/// token that cannot be read is a problem, not a time.
fn read_time_stamp<R: Read + Seek + Send>(
    input: &mut Input<'_, R>,
    media_type: &str,
    reader: &c2pa::Reader,
    md: &mut Metadata,
    report: &mut C2paReport,
) {
    if report.signing_time.is_none() && report.active_manifest.is_none() {
        return;
    }
    if report
        .statuses
        .iter()
        .any(|s| s.code == "custody.signingCredential.weakKey")
    {
        // Its signature verifies over any claim, so a token over it dates none.
        if report.signing_time.is_some() {
            md.problem("C2PA time-stamp: over a signature under an Ed25519 key of small order, which verifies over any claim; it dates nothing, not kept");
        }
        return;
    }
    let store = input.rewound().map_err(|e| e.to_string()).and_then(|s| {
        catch_unwind(AssertUnwindSafe(|| {
            c2pa::jumbf_io::load_jumbf_from_stream(media_type, s)
        }))
        .map_err(|_| "the store reader failed on this file".to_string())?
        .map_err(|e| e.to_string())
    });
    let found = store
        .and_then(|store| crate::c2pa_stamp::time_stamp(&store, report.active_manifest.as_deref()));
    let validated = reader.active_manifest().map(|m| Validated {
        signature: m.signature().map(<[u8]>::to_vec),
        references: m
            .assertion_references()
            .map(|h| (h.url(), h.alg(), h.hash()))
            .collect(),
        signer: m
            .signature_info()
            .and_then(|i| {
                custody_timestamp::certificates_from_pem(i.cert_chain().as_bytes(), "signer").ok()
            })
            .and_then(|chain| chain.into_iter().next()),
        time: report.signing_time.clone(),
    });
    match found {
        Ok(Some(read)) => match validated
            .ok_or_else(|| "the validator named no active manifest".to_string())
            .and_then(|v| agrees_with_validator(&read, &v).map(|()| v))
        {
            Ok(v) => {
                let coverage = covers_file(input, media_type, &read, &v.references);
                let mut stamp = read.stamp;
                match coverage {
                    Ok(()) => stamp.covers_file = true,
                    Err(why) => stamp.coverage_note = Some(why),
                }
                report.time_stamp = Some(stamp);
            }
            Err(e) => md.problem(format_args!("C2PA time-stamp: {e}; not kept")),
        },
        Ok(None) => {}
        // Said only where the validator took a time: a store this reader cannot walk
        // (a compressed manifest, say) is no problem when it holds no time-stamp.
        Err(e) if report.signing_time.is_some() => md.problem(format_args!("C2PA time-stamp: {e}")),
        Err(_) => {}
    }
}

/// What the validator checked of the active manifest.
struct Validated {
    /// The `signature` field of its COSE_Sign1.
    signature: Option<Vec<u8>>,
    /// The certificate (DER) whose key it verified the signature with.
    signer: Option<Vec<u8>>,
    /// Its claim's assertion references: URL, hash algorithm, hash.
    references: Vec<(String, Option<String>, Vec<u8>)>,
    /// The time it took from the manifest's time-stamp.
    time: Option<String>,
}

/// Whether the time-stamp read here belongs to the manifest the validator checked. Two
/// readers of one store could disagree on which boxes it holds (a manifest can hide in
/// a compressed box), so what was read is tied to what was validated:
///
/// - its COSE signature is the validated one (same signature bytes);
/// - a `sigTst` token stamps the claim: the claim read lists exactly the assertions
///   (by hash) the validated claim lists, the asset's hard binding among them, so
///   whatever it stamps commits to what that binding hashes (how much of the file
///   that is, is [`covers_file`]'s question);
/// - a `sigTst2` token stamps the protected header and the signature value only. A
///   signature value alone dates nothing: with ECDSA, a key can be found later under
///   which a given value verifies over a claim written later. So the protected header
///   must name the signer's certificate (`x5chain`), and it must be the certificate the
///   validator verified the signature with: the key was then fixed when the token was
///   issued, and a signature under a fixed key cannot precede what it signs;
/// - its time is, to the second, the time the validator took: its `genTime`, or the
///   CMS signing time its signer signed beside it, which c2pa-rs reports instead when
///   there is one (OpenSSL's TSA signs one, a moment apart from `genTime` and so at
///   times a second off). A token the validator took no time from is kept only if it
///   does not stamp this claim (it then shows why the claim's time is not proven, and
///   can never verify).
fn agrees_with_validator(read: &crate::c2pa_stamp::Read, v: &Validated) -> Result<(), String> {
    use time::format_description::well_known::Rfc3339;
    let stamp = &read.stamp;
    if v.signature.as_deref() != Some(read.signature.as_slice()) {
        return Err("the signature it was read from is not the one the validator checked".into());
    }
    if stamp.header == "sigTst2" {
        match (&read.protected_signer, &v.signer) {
            (Some(mine), Some(theirs)) if mine == theirs => {}
            (None, _) => {
                return Err("a sigTst2 time-stamp whose protected header does not name the signer's certificate stamps a signature value only, which dates nothing".into());
            }
            _ => {
                return Err("the certificate its protected header names is not the one the validator verified the signature with".into());
            }
        }
    }
    if stamp.header == "sigTst" {
        let mut mine = read
            .assertion_hashes
            .clone()
            .ok_or("a sigTst time-stamp on a claim without an assertions list")?;
        let mut theirs: Vec<Vec<u8>> = v.references.iter().map(|(_, _, h)| h.clone()).collect();
        mine.sort();
        theirs.sort();
        if mine.is_empty() || mine != theirs {
            return Err(
                "the claim it stamps does not list the assertions of the claim the validator checked"
                    .into(),
            );
        }
    }
    let second = |t: &str| {
        time::OffsetDateTime::parse(t, &Rfc3339)
            .ok()
            .map(|t| t.unix_timestamp())
    };
    let signed = || {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(&stamp.token)
            .ok()
            .and_then(|der| custody_timestamp::cms_signing_time(&der))
    };
    match v.time.as_deref() {
        Some(t)
            if second(t).is_some()
                && (second(t) == second(&stamp.gen_time) || second(t) == signed()) =>
        {
            Ok(())
        }
        Some(t) => Err(format!(
            "the token read (genTime {}) is not the one the validator took (time {t})",
            stamp.gen_time
        )),
        None if !stamp.imprint_matches => Ok(()),
        None => Err(format!(
            "the validator took no time from this manifest, yet a token stamping its claim was read (genTime {})",
            stamp.gen_time
        )),
    }
}

/// Whether the claim's hard binding hashes every byte of the file outside its manifest
/// store. A validator calls credentials valid when the bytes their binding hashes are
/// unchanged, however few those are: a data hash may leave out any ranges, a box hash
/// any boxes it does not list. A time that dates the claim dates the picture only if
/// the binding covers it, so only the plainest binding is taken: one data-hash
/// assertion, the one the validated claim lists, whose one exclusion is exactly the
/// manifest store's place in the file (JPEG APP11 segments, PNG `caBX` chunk).
fn covers_file<R: Read + Seek + Send>(
    input: &mut Input<'_, R>,
    media_type: &str,
    read: &crate::c2pa_stamp::Read,
    references: &[(String, Option<String>, Vec<u8>)],
) -> Result<(), String> {
    const OTHER: [&str; 3] = ["c2pa.hash.boxes", "c2pa.hash.bmff", "c2pa.hash.collection"];
    if references
        .iter()
        .any(|(url, _, _)| OTHER.iter().any(|o| url.contains(o)))
    {
        return Err("its hard binding is a box, BMFF or collection hash, whose coverage of the file is not checked here".into());
    }
    // Exactly one data hash, without an instance number (`c2pa.hash.data__1`): with
    // more, which ones the validator checked is not known here.
    let mut listed = references
        .iter()
        .filter(|(url, _, _)| url.contains("c2pa.hash.data"));
    let (Some((url, alg, hash)), None) = (listed.next(), listed.next()) else {
        return Err("the validated claim does not list exactly one data-hash assertion".into());
    };
    if !url.ends_with("/c2pa.hash.data") {
        return Err(format!(
            "its data-hash assertion is {url}, not the one plain c2pa.hash.data"
        ));
    }
    let data_hash = read.data_hash.as_ref().map_err(Clone::clone)?;
    let alg = custody_timestamp::HashAlg::from_name(alg.as_deref().unwrap_or("sha256"))
        .ok_or("the data-hash assertion's hash algorithm is not read here")?;
    if alg.digest(&data_hash.payload) != *hash {
        return Err("the data-hash assertion read is not the one the validated claim lists".into());
    }
    let rewound = input
        .rewound()
        .map_err(|e| format!("cannot read the file: {e}"))?;
    let region = store_region(rewound, media_type)?;
    only_the_store_left_out(&data_hash.exclusions, region)
}

/// Whether a data hash's exclusions are exactly the manifest store's `region`.
fn only_the_store_left_out(exclusions: &[(u64, u64)], region: (u64, u64)) -> Result<(), String> {
    if exclusions == [region] {
        return Ok(());
    }
    let shown: Vec<String> = exclusions
        .iter()
        .map(|(start, length)| format!("{length} bytes at {start}"))
        .collect();
    Err(format!(
        "its data hash leaves out {} where only the manifest store ({} bytes at {}) may be left out",
        if shown.is_empty() {
            "nothing".into()
        } else {
            shown.join(", ")
        },
        region.1,
        region.0
    ))
}

/// Where the manifest store lies in the file, as `(start, length)`: a JPEG's APP11
/// segments holding JUMBF (from the first one's marker to the last one's end), or a
/// PNG's `caBX` chunk (length, type, data and CRC).
fn store_region<R: Read + Seek + ?Sized>(
    r: &mut R,
    media_type: &str,
) -> Result<(u64, u64), String> {
    let io = |e: io::Error| format!("cannot read the file: {e}");
    let read_n = |r: &mut R, n: usize| -> Result<Vec<u8>, String> {
        let mut b = vec![0u8; n];
        r.read_exact(&mut b).map_err(io)?;
        Ok(b)
    };
    match media_type {
        "image/jpeg" => {
            let soi = read_n(r, 2)?;
            if soi != [0xFF, 0xD8] {
                return Err("not a JPEG".into());
            }
            let mut pos = 2u64;
            let mut found: Option<(u64, u64)> = None;
            for _ in 0..65_536 {
                let m = read_n(r, 2)?;
                if m[0] != 0xFF {
                    return Err(format!("no JPEG marker at byte {pos}"));
                }
                match m[1] {
                    0xFF => {
                        // A fill byte: the marker starts one byte later.
                        r.seek(SeekFrom::Start(pos + 1)).map_err(io)?;
                        pos += 1;
                        continue;
                    }
                    0xDA | 0xD9 => break,
                    // Markers with a length; nothing else may stand in a header this
                    // check trusts: decoders and the validator skip `FF 00` and reserved
                    // codes as stray bytes, so a walk reading a length there would see
                    // other segments than they do.
                    0xC0..=0xCF | 0xDB..=0xDF | 0xE0..=0xEF | 0xFE => {}
                    other => {
                        return Err(format!(
                            "the JPEG header holds FF {other:02X} at byte {pos}, which readers may skip differently, so where its segments lie is not certain"
                        ));
                    }
                }
                let len = read_n(r, 2)?;
                let len = u16::from_be_bytes([len[0], len[1]]) as u64;
                if len < 2 {
                    return Err(format!("a JPEG segment at byte {pos} has a length under 2"));
                }
                if m[1] == 0xEB && len >= 4 && read_n(r, 2)? == b"JP" {
                    let end = pos + 2 + len;
                    found = Some(match found {
                        None => (pos, end),
                        Some((start, last)) if last == pos => (start, end),
                        // Whatever lies between two of them (a quantisation table, say)
                        // would be left out with the store.
                        Some(_) => {
                            return Err(
                                "the JPEG's APP11 segments of JUMBF are not contiguous: other segments lie between them".into(),
                            );
                        }
                    });
                }
                pos += 2 + len;
                r.seek(SeekFrom::Start(pos)).map_err(io)?;
            }
            found
                .map(|(start, end)| (start, end - start))
                .ok_or_else(|| "no manifest store found in the JPEG's APP11 segments".into())
        }
        "image/png" => {
            r.seek(SeekFrom::Start(8)).map_err(io)?;
            let mut pos = 8u64;
            for _ in 0..1_000_000 {
                let head = read_n(r, 8)?;
                let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as u64;
                if &head[4..8] == b"caBX" {
                    return Ok((pos, 12 + len));
                }
                if &head[4..8] == b"IEND" {
                    break;
                }
                pos += 12 + len;
                r.seek(SeekFrom::Start(pos)).map_err(io)?;
            }
            Err("no caBX chunk in the PNG".into())
        }
        other => Err(format!(
            "where the manifest store lies in {other} is not read here, so its coverage is not checked"
        )),
    }
}

/// The certificates of the validator's PEM chain as DER, in its order, as the
/// validator had them: decoded from PEM but not parsed, so that the first is always
/// the one it verified the signature with, whether or not the vault's reader can read
/// it (the vault then cannot vouch for it, and says so). A block that is not even PEM
/// is named in a problem; if it is the signer's, no chain is kept, since the next one
/// is not the signer's.
fn signer_chain(pem: &str, md: &mut Metadata) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (i, block) in custody_timestamp::pem_certificate_blocks(pem.as_bytes())
        .into_iter()
        .enumerate()
    {
        match block {
            Ok(der) => out.push(der),
            Err(e) if i == 0 => {
                md.problem(format_args!(
                    "C2PA signer: the signer's certificate in the validator's chain cannot be decoded ({e}); no signer_chain kept"
                ));
                return Vec::new();
            }
            Err(e) => md.problem(format_args!(
                "C2PA signer: certificate {} of the validator's chain cannot be decoded ({e}); left out of signer_chain",
                i + 1
            )),
        }
    }
    out
}

/// Ingredient failures recorded at most; more are said to be left out.
const MAX_INGREDIENT_FAILURES: usize = 4096;

/// Whether a certificate's key is an Ed25519 key of small order, read with the parser
/// the validator reads certificates with. c2pa-rs checks Ed25519 signatures without
/// refusing such keys, and under one a single signature verifies over every claim: it
/// proves nothing, and a time-stamp over it would date any claim at all.
fn weak_key(der: &[u8]) -> bool {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return false;
    };
    let spki = cert.public_key();
    if spki.algorithm.algorithm.to_id_string() != "1.3.101.112" {
        return false;
    }
    let Ok(key) = <[u8; 32]>::try_from(spki.subject_public_key.data.as_ref()) else {
        return true;
    };
    ed25519_dalek::VerifyingKey::from_bytes(&key).map_or(true, |k| k.is_weak())
}

fn fill(reader: &c2pa::Reader, report: &mut C2paReport, md: &mut Metadata) {
    report.state = match reader.validation_state() {
        c2pa::ValidationState::Trusted => C2paState::Trusted,
        c2pa::ValidationState::Valid => C2paState::Valid,
        _ => C2paState::Invalid,
    };
    report.manifest_count = reader.manifests().len();
    report.active_manifest = reader.active_label().map(str::to_string);
    let mut weak_signer = false;
    if let Some(m) = reader.active_manifest() {
        report.claim_generator = m.claim_generator().map(str::to_string);
        if report.claim_generator.is_none() {
            report.claim_generator =
                m.claim_generator_info
                    .as_ref()
                    .and_then(|v| v.first())
                    .map(|g| match &g.version {
                        Some(v) => format!("{} {v}", g.name),
                        None => g.name.clone(),
                    });
        }
        if let Some(s) = m.signature_info() {
            report.signer = s.common_name.clone();
            report.issuer = s.issuer.clone();
            report.signing_time = s.time.clone();
            report.signature_algorithm = s.alg.map(|a| a.to_string());
            report.certificate_serial = s.cert_serial_number.clone();
            let chain = signer_chain(s.cert_chain(), md);
            if chain.first().is_some_and(|leaf| weak_key(leaf)) {
                report.state = C2paState::Invalid;
                weak_signer = true;
            }
            report.signer_chain = chain
                .iter()
                .map(|der| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der))
                .collect();
        }
    }
    let mut statuses = Vec::new();
    if weak_signer {
        statuses.push(C2paStatus {
            kind: "failure".into(),
            code: "custody.signingCredential.weakKey".into(),
            url: None,
            explanation: Some(
                "the signer's Ed25519 key is of small order: one signature under it verifies over any claim, so it proves nothing".into(),
            ),
        });
        md.problem("C2PA signer: an Ed25519 key of small order, under which any signature proves nothing; the credentials are invalid");
    }
    if let Some(active) = reader
        .validation_results()
        .and_then(|r| r.active_manifest())
    {
        for (kind, list) in [
            ("failure", active.failure()),
            ("informational", active.informational()),
            ("success", active.success()),
        ] {
            for s in list.iter().take(256) {
                statuses.push(C2paStatus {
                    kind: kind.into(),
                    code: s.code().to_string(),
                    url: s.url().map(str::to_string),
                    explanation: s.explanation().map(str::to_string),
                });
            }
        }
        // Failures c2pa-rs files under the ingredients (some of them the active
        // manifest's own) count towards its state as well: kept with them, each saying
        // which ingredient it is of, however many ingredients there are. Past
        // `MAX_INGREDIENT_FAILURES` one more failure says that some were left out, so
        // that none can hide behind a crowd.
        let deltas = reader
            .validation_results()
            .and_then(|r| r.ingredient_deltas())
            .into_iter()
            .flatten();
        let mut kept = 0;
        'deltas: for delta in deltas {
            for s in delta.validation_deltas().failure() {
                if kept == MAX_INGREDIENT_FAILURES {
                    statuses.push(C2paStatus {
                        kind: "failure".into(),
                        code: "custody.ingredientFailuresLeftOut".into(),
                        url: None,
                        explanation: Some(format!(
                            "more than {MAX_INGREDIENT_FAILURES} ingredient failures; the rest are not recorded"
                        )),
                    });
                    break 'deltas;
                }
                kept += 1;
                let of = format!("in ingredient {}", delta.ingredient_assertion_uri());
                statuses.push(C2paStatus {
                    kind: "failure".into(),
                    code: s.code().to_string(),
                    url: s.url().map(str::to_string),
                    explanation: Some(match s.explanation() {
                        Some(e) => format!("{of}: {e}"),
                        None => of,
                    }),
                });
            }
        }
    } else if let Some(list) = reader.validation_status() {
        for s in list.iter().take(256) {
            statuses.push(C2paStatus {
                kind: if s.passed() { "success" } else { "failure" }.into(),
                code: s.code().to_string(),
                url: s.url().map(str::to_string),
                explanation: s.explanation().map(str::to_string),
            });
        }
    }
    report.statuses = statuses;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::C2paTimeStamp;

    /// Hands out at most `step` bytes a read, as a pipe or a slow file can.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn holds(data: &[u8], step: usize) -> bool {
        holds_a_sign(&mut Trickle { data, step }).unwrap()
    }

    #[test]
    fn a_sign_is_found_wherever_it_lies_and_however_the_bytes_arrive() {
        for sign in SIGNS {
            // Whole in the first read, cut after its first byte, cut before its last.
            for at in [
                0,
                1,
                SCAN_CHUNK - sign.len(),
                SCAN_CHUNK - sign.len() + 1,
                SCAN_CHUNK - 1,
                SCAN_CHUNK,
                200_001,
            ] {
                let mut data = vec![0xA5u8; 300_000];
                data[at..at + sign.len()].copy_from_slice(sign);
                for step in [1, 3, 4096, SCAN_CHUNK, usize::MAX] {
                    assert!(
                        holds(&data, step),
                        "{} at {at}, {step} bytes a read",
                        String::from_utf8_lossy(sign)
                    );
                }
            }
        }
    }

    /// The scope given for a JPEG rests on c2pa-rs reading no segment after the first
    /// scan: a real manifest store moved from the header to the end of the image data,
    /// and an XMP packet naming a remote manifest put there too, are not found by it, so
    /// searching the header alone misses nothing it would find.
    #[test]
    fn the_validator_reads_no_manifest_after_a_jpegs_first_scan() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/testdata/c2pa/C.jpg");
        let Ok(signed) = std::fs::read(&path) else {
            eprintln!("skipped: {} not found", path.display());
            return;
        };
        // Split the header into APP11 segments and the others, up to the first scan.
        let (mut header, mut app11) = (signed[..2].to_vec(), Vec::new());
        let mut pos = 2;
        while signed[pos + 1] != 0xDA {
            let len = usize::from(u16::from_be_bytes([signed[pos + 2], signed[pos + 3]]));
            let segment = &signed[pos..pos + 2 + len];
            if signed[pos + 1] == 0xEB {
                app11.extend_from_slice(segment);
            } else {
                header.extend_from_slice(segment);
            }
            pos += 2 + len;
        }
        assert!(app11.len() > 1000, "C.jpg's manifest store is in APP11");
        let end = signed.len() - 2;
        assert_eq!(&signed[end..], [0xFF, 0xD9]);
        let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\
            <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
            <rdf:Description xmlns:dcterms=\"http://purl.org/dc/terms/\" \
            dcterms:provenance=\"https://example.invalid/manifest.c2pa\"/>\
            </rdf:RDF></x:xmpmeta>";
        let mut moved = header;
        moved.extend_from_slice(&signed[pos..end]);
        moved.extend_from_slice(&app11);
        moved.extend_from_slice(&[0xFF, 0xE1]);
        moved.extend_from_slice(&(xmp.len() as u16 + 2).to_be_bytes());
        moved.extend_from_slice(xmp);
        moved.extend_from_slice(&[0xFF, 0xD9]);

        let run = |bytes: &[u8], scope: Option<u64>| {
            let mut md = Metadata::empty("image/jpeg", bytes.len() as u64);
            let mut cursor = std::io::Cursor::new(bytes);
            validate(
                &mut Input::new(&mut cursor, bytes.len() as u64),
                &mut md,
                scope,
            );
            md.c2pa.expect("a report")
        };
        let before = run(&signed, None);
        assert_eq!(before.state, C2paState::Valid, "{before:#?}");
        let after = run(&moved, None);
        assert_eq!(after.state, C2paState::NoManifest, "{after:#?}");
        assert_eq!(after.validator.as_deref(), Some(VALIDATOR));
        // What extraction says of the moved file: the same, without running the validator.
        let md = crate::extract_reader(
            &mut std::io::Cursor::new(&moved),
            moved.len() as u64,
            "image/jpeg",
        );
        let r = md.c2pa.expect("a report");
        assert_eq!((r.state, r.validator), (C2paState::NoManifest, None));
    }

    #[test]
    fn bytes_without_a_whole_sign_hold_none() {
        let mut data = vec![0u8; 3 * SCAN_CHUNK + 17];
        // Every sign less its last byte, one across the first read's end; a sign cut
        // short at the end of the data.
        for (i, sign) in SIGNS.iter().enumerate() {
            let at = (i + 1) * SCAN_CHUNK - sign.len() + 1;
            data[at..at + sign.len() - 1].copy_from_slice(&sign[..sign.len() - 1]);
        }
        data.extend_from_slice(b"c2p");
        for step in [1, 7, SCAN_CHUNK, usize::MAX] {
            assert!(!holds(&data, step), "{step} bytes a read");
        }
        assert!(!holds(b"", 1));
    }

    #[test]
    fn a_token_is_kept_only_if_it_is_the_one_the_validator_took() {
        let refs = |hashes: &[u8]| -> Vec<(String, Option<String>, Vec<u8>)> {
            hashes
                .iter()
                .map(|&h| (format!("self#jumbf=c2pa.assertions/a{h}"), None, vec![h]))
                .collect()
        };
        let read = |at: &str, matches: bool| crate::c2pa_stamp::Read {
            stamp: C2paTimeStamp {
                header: "sigTst".into(),
                covers: "claim".into(),
                gen_time: at.into(),
                tsa: None,
                imprint_algorithm: "sha256".into(),
                stamped_digest: "00".into(),
                imprint_matches: matches,
                covers_file: false,
                coverage_note: None,
                token: String::new(),
            },
            signature: vec![1, 2, 3],
            assertion_hashes: Some(vec![vec![7], vec![8]]),
            protected_signer: Some(vec![5]),
            data_hash: Err("not read".into()),
        };
        let validated = |time: Option<&str>| Validated {
            signature: Some(vec![1, 2, 3]),
            signer: Some(vec![5]),
            references: refs(&[8, 7]),
            time: time.map(str::to_owned),
        };
        let t = read("2024-08-06T21:53:37.250Z", true);
        let v = validated(Some("2024-08-06T21:53:37+00:00"));
        assert!(agrees_with_validator(&t, &v).is_ok());
        let err =
            agrees_with_validator(&t, &validated(Some("2022-06-15T17:36:48+00:00"))).unwrap_err();
        assert!(err.contains("not the one the validator took"), "{err}");
        assert!(agrees_with_validator(&t, &validated(None)).is_err());
        assert!(agrees_with_validator(&t, &validated(Some("garbage"))).is_err());
        // A token over other data is kept to say so; it never verifies.
        assert!(
            agrees_with_validator(&read("2024-08-06T21:53:37Z", false), &validated(None)).is_ok()
        );
        // Another signature, or a claim listing other assertions: not the manifest the
        // validator checked, whatever the time.
        let other_sig = Validated {
            signature: Some(vec![9]),
            ..validated(Some("2024-08-06T21:53:37Z"))
        };
        let err = agrees_with_validator(&t, &other_sig).unwrap_err();
        assert!(err.contains("not the one the validator checked"), "{err}");
        let other_claim = Validated {
            references: refs(&[7, 9]),
            ..validated(Some("2024-08-06T21:53:37Z"))
        };
        let err = agrees_with_validator(&t, &other_claim).unwrap_err();
        assert!(err.contains("does not list the assertions"), "{err}");
        // A version-2 token stamps the protected header and the signature: the key must
        // be fixed there, and be the one the validator used.
        let mut t2 = read("2024-08-06T21:53:37Z", true);
        t2.stamp.header = "sigTst2".into();
        t2.assertion_hashes = None;
        assert!(agrees_with_validator(&t2, &v).is_ok());
        let other_key = Validated {
            signer: Some(vec![6]),
            ..validated(Some("2024-08-06T21:53:37Z"))
        };
        let err = agrees_with_validator(&t2, &other_key).unwrap_err();
        assert!(err.contains("not the one the validator verified"), "{err}");
        t2.protected_signer = None;
        let err = agrees_with_validator(&t2, &v).unwrap_err();
        assert!(err.contains("dates nothing"), "{err}");
    }

    #[test]
    fn the_store_is_found_and_must_be_all_a_data_hash_leaves_out() {
        // SOI, APP0, two APP11 segments of JUMBF, an APP11 of something else, SOS.
        let seg = |m: u8, body: &[u8]| {
            let mut s = vec![0xFF, m];
            s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
            s.extend_from_slice(body);
            s
        };
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend(seg(0xE0, b"JFIF\0\x01\x01"));
        let first = jpeg.len() as u64;
        jpeg.extend(seg(0xEB, b"JP\0\x01store part one"));
        jpeg.extend(seg(0xEB, b"JP\0\x01store part two"));
        let end = jpeg.len() as u64;
        jpeg.extend(seg(0xEB, b"XX other"));
        jpeg.extend(seg(0xDA, b"\x01\x01\0\0?\0"));
        jpeg.extend_from_slice(&[0x12, 0x34, 0xFF, 0xD9]);
        let region = store_region(&mut std::io::Cursor::new(&jpeg), "image/jpeg").unwrap();
        assert_eq!(region, (first, end - first));
        // A segment between two of the store's would be left out with it: refused.
        let mut split = jpeg[..first as usize].to_vec();
        split.extend(seg(0xEB, b"JP\0\x01store part one"));
        split.extend(seg(0xDB, &[0; 65]));
        split.extend(seg(0xEB, b"JP\0\x01store part two"));
        split.extend_from_slice(&jpeg[end as usize..]);
        let err = store_region(&mut std::io::Cursor::new(&split), "image/jpeg").unwrap_err();
        assert!(err.contains("not contiguous"), "{err}");
        // `FF 00` (or a reserved code) is skipped by decoders and the validator, which
        // then walk other segments than a reader taking a length there.
        for code in [0x00u8, 0x01, 0x02, 0xBF, 0xD0, 0xD8] {
            let mut odd = jpeg[..first as usize].to_vec();
            odd.extend_from_slice(&[0xFF, code, 0x00, 0x06, 0xFF, 0xFE, 0x00, 0x0A]);
            odd.extend_from_slice(&jpeg[first as usize..]);
            let err = store_region(&mut std::io::Cursor::new(&odd), "image/jpeg").unwrap_err();
            assert!(
                err.contains("readers may skip differently"),
                "{code:02X}: {err}"
            );
        }
        assert!(only_the_store_left_out(&[region], region).is_ok());
        // Anything more, less or beside it leaves picture bytes unhashed or is wrong.
        for wrong in [
            vec![(first, 1 << 40)],
            vec![(first, end - first + 1)],
            vec![region, (end, 0)],
            vec![(0, 2), region],
            vec![],
        ] {
            let err = only_the_store_left_out(&wrong, region).unwrap_err();
            assert!(err.contains("may be left out"), "{err}");
        }
        // PNG: the caBX chunk whole.
        let chunk = |t: &[u8; 4], d: &[u8]| {
            let mut c = (d.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(t);
            c.extend_from_slice(d);
            c.extend_from_slice(&[0; 4]);
            c
        };
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        let at = png.len() as u64;
        png.extend(chunk(b"caBX", b"jumbf"));
        png.extend(chunk(b"IEND", b""));
        assert_eq!(
            store_region(&mut std::io::Cursor::new(&png), "image/png").unwrap(),
            (at, 17)
        );
        // Without a store, or in another format: said, not guessed.
        let err = store_region(&mut std::io::Cursor::new(&png[..33]), "image/png").unwrap_err();
        assert!(
            err.contains("cannot read") || err.contains("no caBX"),
            "{err}"
        );
        let err = store_region(&mut std::io::Cursor::new(&png), "image/webp").unwrap_err();
        assert!(err.contains("not read here"), "{err}");
    }
}
