//! `custody similar` and `custody clusters`: near-duplicates and first appearance.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use custody_app::Mode;
use custody_app::similar::clock_time;

use crate::cli::Cli;
use crate::output::shown;
use crate::run::{open, print_json};

#[derive(Args, Debug)]
pub struct SimilarArgs {
    /// Item id or SHA-256 prefix of an image or a video.
    #[arg(required_unless_present = "file")]
    pub item: Option<String>,
    /// Instead of an item, an image or video file outside the vault (one just found
    /// online, say): it is only read (a symbolic link is followed), never preserved, and
    /// items holding its very bytes are named.
    #[arg(long, value_name = "PATH", conflicts_with = "item")]
    pub file: Option<std::path::PathBuf>,
    /// Largest Hamming distance (of 64 bits, so 0 to 64) reported as a near-duplicate.
    #[arg(long, default_value_t = custody_similar::DEFAULT_MAX_DISTANCE,
          value_parser = clap::value_parser!(u32).range(0..=64))]
    pub max_distance: u32,
    /// Also find copies that were mirrored or turned (by quarter turns) before they were
    /// posted again: the picture is looked up as it would be after each of the seven
    /// turns (hashes recorded at ingest; decoded again for a --file or an item
    /// extracted before they were recorded), and a neighbour found that way says which.
    #[arg(long)]
    pub turned: bool,
}

#[derive(Args, Debug)]
pub struct ClustersArgs {
    /// Only items of this case.
    #[arg(long)]
    pub case: Option<String>,
    /// Largest Hamming distance (0 to 64) within which images and video keyframes are
    /// grouped.
    #[arg(long, default_value_t = custody_similar::DEFAULT_MAX_DISTANCE,
          value_parser = clap::value_parser!(u32).range(0..=64))]
    pub max_distance: u32,
    /// Also group copies that were mirrored or turned (by quarter turns), by the turned
    /// hashes recorded at ingest; a member joined that way says how it was turned. Items
    /// extracted before those were recorded are decoded again from their stored copies
    /// (some milliseconds a photograph); `custody extract --all` records them.
    #[arg(long)]
    pub turned: bool,
}

pub async fn similar(cli: &Cli, actor: &str, a: &SimilarArgs) -> Result<ExitCode> {
    let vault = open(cli, Mode::Read, actor).await?;
    let spinner = crate::progress::Spinner::new("looking for near-duplicates");
    let looking = custody_app::similar::Looking {
        max_distance: a.max_distance,
        turned: a.turned,
    };
    let result = match (&a.item, &a.file) {
        (_, Some(path)) => custody_app::similar::similar_to_file(&vault, path, looking).await,
        (Some(item), None) => custody_app::similar::similar(&vault, item, looking).await,
        (None, None) => anyhow::bail!("give an item, or a file with --file PATH"),
    };
    spinner.finish();
    vault.close().await;
    let r = result?;
    for note in &r.notes {
        eprintln!("note: {}", shown(note));
    }
    if cli.json {
        print_json(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::output::evidence_text(|| print_similar(&r));
    Ok(ExitCode::SUCCESS)
}

pub async fn clusters(cli: &Cli, actor: &str, a: &ClustersArgs) -> Result<ExitCode> {
    let vault = open(cli, Mode::Read, actor).await?;
    // Grouping spins; stored copies read again for `--turned` (bytes without recorded
    // turned hashes) are counted.
    let bar = std::sync::Arc::new(crate::progress::CountProgress::spinning(
        "grouping near-duplicates",
        "turning",
    ));
    let progress: std::sync::Arc<dyn custody_app::extract::ExtractObserver> = bar.clone();
    let looking = custody_app::similar::Looking {
        max_distance: a.max_distance,
        turned: a.turned,
    };
    let result = custody_app::similar::clusters(&vault, a.case.as_deref(), looking, progress).await;
    bar.finish();
    vault.close().await;
    let report = result?;
    if report.unexamined > 0 {
        // `--json` has the counts as `items` and `unexamined`.
        eprintln!(
            "note: {} of {} items were never examined (ingested with --no-extract): they have no perceptual hash and no capture times, so they are grouped only with the same bytes and dated by their collection; run `custody extract --all`, then `custody clusters` again",
            report.unexamined, report.items
        );
    }
    if report.read_again > 0 {
        // `--json` has the count as `read_again`.
        eprintln!(
            "note: {} of {} items have no turned hashes in the catalog (extracted before they were recorded), so their stored copies were read again to turn them; run `custody extract --all` once to record them and make `clusters --turned` as quick as `clusters` (if it finds nothing to do, the catalog is behind the ledger: `custody catalog rebuild`)",
            report.read_again, report.items
        );
    }
    if report.not_turned > 0 {
        // `--json` has the count as `not_turned`, and each such member a note.
        eprintln!(
            "note: {} of {} items could not be read again to be turned (their stored copies are damaged or cannot be decoded), so copies of them mirrored or turned may be missing from the groups; each one grouped says why; run `custody verify --full`",
            report.not_turned, report.items
        );
    }
    if cli.json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::output::evidence_text(|| print_clusters(&report, a.max_distance));
    Ok(ExitCode::SUCCESS)
}

/// The text of `custody similar`: names and cases as they were given, written visibly.
fn print_similar(r: &custody_app::similar::SimilarReport) {
    // Items and files are counted apart: the same bytes may be held by several items.
    let files: std::collections::BTreeSet<_> = r
        .neighbours
        .iter()
        .filter(|n| !n.same_bytes)
        .map(|n| n.sha256)
        .collect();
    let hashed = match &r.phash {
        Some(h) => format!("perceptual hash {h}"),
        None => format!(
            "video, {} keyframe{} hashed",
            r.keyframes.len(),
            if r.keyframes.len() == 1 { "" } else { "s" }
        ),
    };
    let s = if files.len() == 1 { "" } else { "s" };
    let asked = match (&r.item, &r.file) {
        (Some(item), _) => item.to_string(),
        (None, Some(f)) => {
            let held = match f.in_vault.as_slice() {
                [] => "not in the vault".to_owned(),
                ids => format!(
                    "the very bytes of {}",
                    ids.iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            format!(
                "{} ({}, sha256 {}, {held})",
                shown(&f.path),
                f.media_type,
                f.sha256
            )
        }
        (None, None) => String::new(),
    };
    outln!(
        "{asked} ({hashed}): {} item{} within distance {}{}: {} other image{s} or video{s} of the {} distinct images and videos hashed in the vault{}",
        r.neighbours.len(),
        if r.neighbours.len() == 1 { "" } else { "s" },
        r.max_distance,
        if r.turned {
            " as it is or mirrored or turned"
        } else {
            ""
        },
        files.len(),
        r.indexed,
        match r.neighbours.iter().filter(|n| n.same_bytes).count() {
            0 => String::new(),
            1 => ", and 1 other item holding the very same bytes".to_owned(),
            n => format!(", and {n} other items holding the very same bytes"),
        }
    );
    for n in &r.neighbours {
        let what = if n.same_bytes {
            "same bytes".to_owned()
        } else {
            format!("distance {:>2}", n.distance)
        };
        // Which frames matched, of a video found and of the video asked about.
        let frames: String = [
            n.at_ms.map(|t| format!("  at {}", clock_time(t))),
            n.query_at_ms
                .map(|t| format!("  with this video at {}", clock_time(t))),
        ]
        .into_iter()
        .flatten()
        .collect();
        let turn = n
            .turn
            .map(|t| format!("  (like the asked picture {})", t.describe()))
            .unwrap_or_default();
        outln!(
            "  {}  {what:<12} {}  {}  {}{frames}{turn}",
            n.item,
            &n.sha256.to_hex()[..16],
            shown(n.case.as_deref().unwrap_or("-")),
            shown(&n.name)
        );
    }
}

/// The text of `custody clusters`.
fn print_clusters(report: &custody_app::similar::Clusters, max_distance: u32) {
    let turned = if report.turned {
        ", as they are or mirrored or turned"
    } else {
        ""
    };
    if report.clusters.is_empty() {
        outln!("no near-duplicate groups within distance {max_distance}{turned}");
    } else if report.turned {
        outln!("near-duplicate groups within distance {max_distance}{turned}");
    }
    for (i, c) in report.clusters.iter().enumerate() {
        outln!("cluster {} ({} items)", i + 1, c.members.len());
        if let Some(e) = &c.earliest {
            outln!(
                "  earliest provable appearance: {} at {} ({}: {})",
                e.item,
                shown(&e.time.at),
                e.time.basis,
                shown(&e.time.source)
            );
        }
        let first = c.earliest.as_ref().map(|e| e.item);
        // What distances and turns are taken against.
        let reference = first.or(c.members.first().map(|m| m.item));
        for m in &c.members {
            let distance = if first == Some(m.item) {
                "earliest".to_owned()
            } else {
                format!("distance {:>2}", m.distance)
            };
            let at = m
                .at_ms
                .map(|t| format!("  at {}", clock_time(t)))
                .unwrap_or_default();
            let turn = match (m.turn, reference) {
                (Some(t), Some(r)) => format!("  (like {r} {})", t.describe()),
                _ => String::new(),
            };
            outln!(
                "  {}  {distance:<11}  {}  {}  {}{at}{turn}",
                m.item,
                &m.sha256.to_hex()[..16],
                shown(m.case.as_deref().unwrap_or("-")),
                shown(&m.name)
            );
            for t in &m.times {
                if let Some(why) = &t.not_used {
                    outln!(
                        "      not used: {} {} ({}): {}",
                        shown(&t.source),
                        shown(&t.at),
                        t.basis,
                        shown(why)
                    );
                }
            }
            for n in &m.notes {
                outln!("      note: {}", shown(n));
            }
        }
    }
}
