//! `custody demo`: a complete, self-checking walk through a vault with synthetic material.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::error::{AppError, Result};
use crate::ingest::{self, Collection, IngestObserver, IngestOptions};
use crate::vault::Vault;
use crate::verify::{self, VerifyOptions};

#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    pub vault: PathBuf,
    pub samples: PathBuf,
    pub ingested: u64,
    pub verified: bool,
    pub ledger_entries: u64,
}

/// Synthetic, non-graphic sample files: field notes, a CSV log, binary "sensor" data.
fn write_samples(dir: &Path) -> Result<()> {
    let io = |e| AppError::io(format!("writing demo samples in {}", dir.display()), e);
    std::fs::create_dir_all(dir.join("field-notes")).map_err(io)?;
    std::fs::create_dir_all(dir.join("sensor")).map_err(io)?;
    for day in 1..=3 {
        let text = format!(
            "SYNTHETIC DEMO NOTE {day}\nObserver: demo team\nDate: 2022-04-0{day}\n\
             Observation: placeholder text standing in for a field note. No real event is described.\n"
        );
        std::fs::write(
            dir.join("field-notes").join(format!("note-0{day}.txt")),
            text,
        )
        .map_err(io)?;
    }
    let mut csv = String::from("time_utc,lat,lon,reading\n");
    for i in 0..200 {
        csv.push_str(&format!(
            "2022-04-02T{:02}:{:02}:00Z,50.54{:02},30.22{:02},{}\n",
            8 + i / 60,
            i % 60,
            i % 97,
            i % 89,
            i * 7 % 101
        ));
    }
    std::fs::write(dir.join("sensor").join("log.csv"), csv).map_err(io)?;
    let mut x: u64 = 0x5EED_DEAD_BEEF;
    let data: Vec<u8> = (0..2_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(dir.join("sensor").join("capture.bin"), &data).map_err(io)?;
    // The same bytes collected twice: stored once, recorded twice.
    std::fs::write(dir.join("field-notes").join("copy-of-capture.bin"), &data).map_err(io)?;
    Ok(())
}

/// Builds a demo vault in `dir` (which must not exist or be empty) and verifies it.
pub async fn run(dir: &Path, actor: &str, observer: Arc<dyn IngestObserver>) -> Result<DemoReport> {
    let vault_dir = dir.join("vault");
    let samples = dir.join("samples");
    if vault_dir.exists() {
        return Err(AppError::AlreadyExists(vault_dir));
    }
    write_samples(&samples)?;
    let vault = Vault::init(&vault_dir, "Demo documentation unit", actor).await?;
    let collection = Collection {
        case: Some("DEMO-2022".into()),
        collected_by: Some("Demo investigator".into()),
        source: Some("generated samples".into()),
        method: Some("custody demo".into()),
        note: Some("synthetic material for demonstration only".into()),
    };
    let summary = ingest::ingest(
        &vault,
        std::slice::from_ref(&samples),
        &collection,
        &IngestOptions::default(),
        observer,
    )
    .await?;
    let mut report = verify::verify(
        &vault,
        &VerifyOptions {
            full: true,
            threads: 2,
            ..Default::default()
        },
        &verify::Silent,
    )
    .await?;
    verify::record(&vault, &mut report).await?;
    let entries = crate::log::checkpoint_sizes(&vault)?
        .last()
        .copied()
        .unwrap_or(0);
    vault.close().await;
    Ok(DemoReport {
        vault: vault_dir,
        samples,
        ingested: summary.ingested,
        verified: report.ok,
        ledger_entries: entries,
    })
}
