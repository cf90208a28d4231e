//! C2PA content credentials, validated by the `c2pa` crate (feature `c2pa`).
//!
//! The `c2pa` API changes between minor versions, so it is touched only here, behind
//! one function. The validator streams the whole file (the data hash covers every
//! byte), from the caller's reader; no remote manifest is fetched and no trust list
//! is configured, so test or private signers come out `Valid` with
//! `signingCredential.untrusted`, never `Trusted`.

use std::io::{Read, Seek};
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

pub fn validate<R: Read + Seek + Send>(input: &mut Input<'_, R>, md: &mut Metadata) {
    let media_type = md.media_type.clone();
    if !supported(&media_type) {
        return;
    }
    let found_in = md.c2pa.as_ref().and_then(|c| c.found_in.clone());
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
    let mut report = C2paReport::found(found_in.clone().unwrap_or_default());
    report.found_in = found_in;
    report.validator = Some(VALIDATOR.into());
    match result {
        Ok(Ok(reader)) => fill(&reader, &mut report),
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

fn fill(reader: &c2pa::Reader, report: &mut C2paReport) {
    report.state = match reader.validation_state() {
        c2pa::ValidationState::Trusted => C2paState::Trusted,
        c2pa::ValidationState::Valid => C2paState::Valid,
        _ => C2paState::Invalid,
    };
    report.manifest_count = reader.manifests().len();
    report.active_manifest = reader.active_label().map(str::to_string);
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
        }
    }
    let mut statuses = Vec::new();
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
