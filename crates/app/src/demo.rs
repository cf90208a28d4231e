//! `custody demo`: a demonstration vault built from the synthetic Bucha dataset
//! (`crates/cases/demo/bucha.json`), checked end to end.
//!
//! Steps: generate the placeholder media the dataset describes ([`media`]: captioned
//! grey tiles, a street-outline drawing, text cards, a 10-second grey APNG video with a
//! timecode), ingest them as items of case DEMO-CASE-BUCHA-2022 (collected by "demo",
//! with a note saying they are generated placeholders), write the case (places, control
//! period, evidence, demo observations, incident, claims, remains) to the ledger through
//! the case commands, link each evidence record to its item, check every claim against
//! the case as replayed from the catalog, compare with the dataset's `expected_checks`,
//! and verify the whole vault. The dataset's notice comes first wherever the demo is
//! shown.

pub mod media;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use custody_cases::Command;
use custody_cases::demo::{DemoCase, PlaceholderKind};
use serde::Serialize;

use crate::error::{AppError, Result};
use crate::ingest::{self, Collection, FileOutcome, IngestObserver, IngestOptions};
use crate::vault::Vault;
use crate::verify::{self, VerifyOptions};

/// The demo dataset, mapped into the case model.
pub fn dataset() -> Result<DemoCase> {
    custody_cases::demo::bucha()
        .map_err(|e| AppError::Invalid(format!("the demo dataset does not load: {e}")))
}

/// The notice that must be shown first wherever the demo is shown.
pub fn notice() -> Result<String> {
    Ok(dataset()?.notice)
}

/// One generated placeholder, ingested.
#[derive(Clone, Debug, Serialize)]
pub struct DemoItem {
    pub evidence: String,
    pub item: String,
    pub file: String,
    pub kind: String,
    pub caption: String,
}

/// One expected check of the dataset and what the check found.
#[derive(Clone, Debug, Serialize)]
pub struct ExpectedOutcome {
    pub claim: String,
    pub expected: String,
    pub actual: String,
    pub holds: bool,
    /// Listed evidence whose relation differs from the expected one.
    pub mismatched: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    /// Shown first.
    pub notice: String,
    pub dataset: String,
    pub dataset_version: String,
    pub vault: PathBuf,
    pub media: PathBuf,
    pub case: String,
    pub items: Vec<DemoItem>,
    /// Ledger entries written for the case (events and item links).
    pub case_entries: usize,
    /// The claim-check results as text (notice first), and as data.
    pub results_text: String,
    pub results: serde_json::Value,
    pub expected: Vec<ExpectedOutcome>,
    pub expected_hold: bool,
    pub verified: bool,
    pub verify_problems: Vec<String>,
    pub ledger_entries: u64,
    pub seconds: f64,
}

fn file_name(evidence: &str, kind: &PlaceholderKind) -> String {
    let what = match kind {
        PlaceholderKind::GreyTile => "tile",
        PlaceholderKind::StreetOutline => "street-outline",
        PlaceholderKind::TextCard | PlaceholderKind::Other => "text-card",
        PlaceholderKind::TimecodeVideo { .. } => "video-apng",
    };
    format!("{evidence}-{what}.png")
}

/// Writes the placeholder files; returns (evidence, file, kind label, caption).
pub fn write_media(demo: &DemoCase, dir: &Path) -> Result<Vec<(String, PathBuf, String, String)>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::io(format!("creating {}", dir.display()), e))?;
    let mut out = Vec::new();
    for m in &demo.media {
        let caption = m.caption.clone();
        let description = format!(
            "Generated placeholder for {} of the synthetic demo dataset ({}); not real imagery. {}",
            m.evidence, demo.dataset, m.render
        );
        let (bytes, label) = match &m.kind {
            PlaceholderKind::GreyTile => (
                media::png(
                    &media::grey_tile(&caption, m.evidence.as_str()),
                    &description,
                ),
                "grey tile",
            ),
            PlaceholderKind::StreetOutline => (
                media::png(
                    &media::street_outline(&caption, m.evidence.as_str()),
                    &description,
                ),
                "street-outline drawing",
            ),
            PlaceholderKind::TimecodeVideo { seconds } => {
                let frames = media::timecode_frames(
                    (*seconds).clamp(1, 60),
                    5,
                    &format!("{} - VIDEO PLACEHOLDER", m.evidence),
                );
                (
                    media::apng(&frames, 5, &description),
                    "timecode video (APNG)",
                )
            }
            PlaceholderKind::TextCard | PlaceholderKind::Other => (
                media::png(
                    &media::text_card(&caption, m.evidence.as_str()),
                    &description,
                ),
                "text card",
            ),
        };
        let path = dir.join(file_name(m.evidence.as_str(), &m.kind));
        std::fs::write(&path, bytes)
            .map_err(|e| AppError::io(format!("writing {}", path.display()), e))?;
        out.push((m.evidence.to_string(), path, label.to_owned(), caption));
    }
    Ok(out)
}

/// Builds the demo vault in `dir/vault` (which must not exist yet), with the media in
/// `dir/media`, and checks it.
pub async fn run(dir: &Path, actor: &str, observer: Arc<dyn IngestObserver>) -> Result<DemoReport> {
    let started = Instant::now();
    let mut demo = dataset()?;
    let vault_dir = dir.join("vault");
    let media_dir = dir.join("media");
    if vault_dir.exists() {
        return Err(AppError::AlreadyExists(vault_dir));
    }
    if media_dir.exists() {
        return Err(AppError::AlreadyExists(media_dir));
    }
    let written = write_media(&demo, &media_dir)?;
    let case_id = demo.case.id.clone();
    let vault = Vault::init(
        &vault_dir,
        "Demo documentation unit (synthetic data)",
        actor,
    )
    .await?;
    let result = build(&vault, &mut demo, &written, &media_dir, observer).await;
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            vault.close().await;
            return Err(e);
        }
    };
    let (items, case_entries) = report;

    // Check the case as the vault holds it: replayed from the catalog.
    let loaded = crate::cases::load(&vault, case_id.as_str()).await?;
    let results = custody_cases::claims::check(&loaded, &Default::default());
    let results_text = custody_cases::render::claim_results(&loaded, &results);
    demo.case = loaded;
    let expected: Vec<ExpectedOutcome> = demo
        .compare_expected()
        .into_iter()
        .map(|o| ExpectedOutcome {
            claim: o.claim.to_string(),
            expected: o.expected.to_string(),
            actual: o.actual.to_string(),
            holds: o.holds(),
            mismatched: o
                .mismatched_evidence
                .iter()
                .map(|(e, r)| format!("{e} is {r}"))
                .chain(
                    o.unlisted_evidence
                        .iter()
                        .map(|e| format!("{e} also {}", o.wanted_relation)),
                )
                .collect(),
        })
        .collect();
    let expected_hold = !expected.is_empty() && expected.iter().all(|e| e.holds);

    let mut v = verify::verify(
        &vault,
        &VerifyOptions {
            full: true,
            threads: 2,
            ..Default::default()
        },
        &verify::Silent,
    )
    .await?;
    verify::record(&vault, &mut v).await?;
    let ledger_entries = crate::log::checkpoint_sizes(&vault)?
        .last()
        .copied()
        .unwrap_or(0);
    vault.close().await;
    let results_json = serde_json::to_value(
        results
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).expect("serialises");
                v["version"] = serde_json::Value::String(r.version());
                v
            })
            .collect::<Vec<_>>(),
    )
    .expect("serialises");
    Ok(DemoReport {
        notice: demo.notice.clone(),
        dataset: demo.dataset.clone(),
        dataset_version: demo.version.clone(),
        vault: vault_dir,
        media: media_dir,
        case: case_id.to_string(),
        items,
        case_entries,
        results_text,
        results: results_json,
        expected,
        expected_hold,
        verified: v.ok,
        verify_problems: v
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.kind, p.message))
            .collect(),
        ledger_entries,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn build(
    vault: &Vault,
    demo: &mut DemoCase,
    written: &[(String, PathBuf, String, String)],
    media_dir: &Path,
    observer: Arc<dyn IngestObserver>,
) -> Result<(Vec<DemoItem>, usize)> {
    let case_id = demo.case.id.clone();
    let collection = Collection {
        case: Some(case_id.to_string()),
        collected_by: Some("demo".into()),
        source: Some(format!("{} {} (custody demo)", demo.dataset, demo.version)),
        method: Some("generated by custody demo".into()),
        note: Some(
            "generated placeholder media for a synthetic demonstration dataset; not real imagery, shows no people"
                .into(),
        ),
    };
    let summary = ingest::ingest(
        vault,
        &[media_dir.to_path_buf()],
        &collection,
        &IngestOptions::default(),
        observer,
    )
    .await?;
    let mut items = Vec::new();
    let mut links = Vec::new();
    for (evidence, path, kind, caption) in written {
        let item = summary.files.iter().find_map(|f| match f {
            FileOutcome::Ingested { path: p, item, .. } if Path::new(p) == path.as_path() => {
                Some(*item)
            }
            _ => None,
        });
        let Some(item) = item else {
            return Err(AppError::Invalid(format!(
                "the demo placeholder {} was not ingested",
                path.display()
            )));
        };
        links.push(Command::LinkEvidenceItem {
            evidence: evidence
                .parse()
                .map_err(|e: custody_cases::ids::LabelError| AppError::Invalid(e.to_string()))?,
            item,
        });
        items.push(DemoItem {
            evidence: evidence.clone(),
            item: item.to_string(),
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            kind: kind.clone(),
            caption: caption.clone(),
        });
    }
    // The case, as the dataset's commands produced it: one ledger entry per event.
    let events = std::mem::take(&mut demo.events);
    let written_case =
        crate::cases::commit_events(vault, &case_id, Vec::new(), events, Vec::new()).await?;
    // Then each evidence record is linked to its placeholder item.
    let linked = crate::cases::execute(vault, case_id.as_str(), links).await?;
    Ok((items, written_case.entries.len() + linked.entries.len()))
}
