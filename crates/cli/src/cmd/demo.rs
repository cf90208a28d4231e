//! `custody demo`: builds the demonstration vault from the synthetic Bucha dataset and
//! shows the claim checks. The dataset's notice is printed first, before anything else.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;

use crate::cli::Cli;
use crate::progress::IngestProgress;
use crate::run::print_json;

pub async fn run(cli: &Cli, actor: &str, dir: &Path) -> Result<ExitCode> {
    let notice = custody_app::demo::notice()?;
    if !cli.json {
        outln!("NOTICE: {notice}\n");
    }
    let progress = Arc::new(IngestProgress::new(false));
    let result = custody_app::demo::run(dir, actor, progress.clone()).await;
    progress.finish();
    let r = result?;
    if cli.json {
        print_json(&r)?;
    } else {
        outln!(
            "demo vault: {} ({} {}; {} placeholder items generated in {}, {} case ledger entries)",
            r.vault.display(),
            r.dataset,
            r.dataset_version,
            r.items.len(),
            r.media.display(),
            r.case_entries
        );
        for i in &r.items {
            outln!("  {:<6} {}  {:<24} {}", i.evidence, i.item, i.kind, i.file);
        }
        outln!("\nclaim checks (case {}):\n", r.case);
        out!("{}", r.results_text);
        outln!("expected outcomes of the dataset:");
        for e in &r.expected {
            outln!(
                "  {:<6} expected {:<20} got {:<20} {}{}",
                e.claim,
                e.expected,
                e.actual,
                if e.holds { "OK" } else { "MISMATCH" },
                if e.mismatched.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", e.mismatched.join("; "))
                }
            );
        }
        outln!(
            "\nverification: {} ({} ledger entries){}",
            if r.verified { "OK" } else { "FAILED" },
            r.ledger_entries,
            if r.verify_problems.is_empty() {
                String::new()
            } else {
                format!(": {}", r.verify_problems.join("; "))
            }
        );
        outln!("done in {:.1} s", r.seconds);
        let v = r.vault.display();
        outln!(
            "\ntry:\n  custody --vault {v} case show {c}\n  custody --vault {v} claims check --case {c}\n  custody --vault {v} report forensic --case {c} --as-of 2022-04-20\n  custody --vault {v} matrix --case {c} INC-0001\n  custody --vault {v} verify --full",
            c = r.case
        );
    }
    Ok(if r.verified && r.expected_hold {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
