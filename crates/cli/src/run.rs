//! Runs one command.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use custody_app::config::locate;
use custody_app::ingest::{self, Collection, IngestOptions};
use custody_app::verify::{self, VerifyOptions};
use custody_app::{Mode, Vault, items, log, timestamps, vault::default_actor};
use custody_store::ItemFilter;
use serde::Serialize;

use crate::cli::{CatalogCommand, Cli, Command, GeoFormatArg, LogCommand};
use crate::output::{self, opt, shown, size};
use crate::progress::{IngestProgress, VerifyProgress};

pub(crate) fn print_json<T: Serialize>(value: &T) -> Result<()> {
    // Rendered first, so that a value that cannot be rendered is an error of its own,
    // not a failed write.
    let text = serde_json::to_string_pretty(value)?;
    outln!("{text}");
    Ok(())
}

pub(crate) fn vault_dir(cli: &Cli) -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    Ok(locate(cli.vault.as_deref(), &cwd)?)
}

pub(crate) async fn open(cli: &Cli, mode: Mode, actor: &str) -> Result<Vault> {
    let dir = vault_dir(cli)?;
    let vault = Vault::open(&dir, mode, actor).await?;
    report_recovery(&vault);
    Ok(vault)
}

fn report_recovery(vault: &Vault) {
    let r = vault.recovery();
    if !r.is_clean() {
        eprintln!(
            "note: recovered from an interrupted command: {} torn ledger bytes cut, {} index records rebuilt, \
             {} partial copies removed, {} staged copies promoted, {} discarded, {} entries replayed into the catalog{}",
            r.torn_ledger_bytes,
            r.index_records_rebuilt,
            r.partial_copies_removed,
            r.staged_promoted,
            r.staged_discarded,
            r.entries_replayed,
            if r.checkpoint_signed {
                ", checkpoint signed"
            } else {
                ""
            }
        );
        if !r.trust_entries_signed.is_empty() {
            let seqs: Vec<String> = r.trust_entries_signed.iter().map(u64::to_string).collect();
            eprintln!(
                "warning: the checkpoint just signed covers changes of whom the vault trusts that no checkpoint covered before (ledger entries {}); if no `custody timestamp --roots`, `credentials --anchors`, `import --tsa-roots` or `trust --remove` was interrupted, someone wrote them without the vault's key: look at them with `custody log entry N` and withdraw what you did not add with `custody trust --remove`",
                seqs.join(", ")
            );
        }
    }
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let actor = cli
        .actor
        .clone()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(default_actor);
    match &cli.command {
        Command::Init { dir, name } => {
            let vault = Vault::init(dir, name, &actor).await?;
            let vkey = log::verifier_key(&vault);
            if cli.json {
                print_json(&serde_json::json!({
                    "vault": vault.dir(),
                    "name": vault.config().name,
                    "origin": vault.config().origin,
                    "vkey": vkey,
                }))?;
            } else {
                outln!(
                    "created vault {:?} in {}",
                    vault.config().name,
                    vault.dir().display()
                );
                outln!("log origin:   {}", vault.config().origin);
                outln!("verifier key: {vkey}");
                outln!(
                    "keep keys/ledger.key private; publish the verifier key so others can check checkpoints"
                );
            }
            vault.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest(a) => {
            let vault = open(&cli, Mode::Write, &actor).await?;
            let collection = Collection {
                case: a.case.clone(),
                collected_by: a.collected_by.clone(),
                source: a.source.clone(),
                method: a.method.clone(),
                note: a.note.clone(),
            };
            let options = IngestOptions {
                follow_symlinks: a.follow_symlinks,
                batch_files: usize::from(a.batch),
                extract: !a.no_extract,
                resume: a.resume,
                ..Default::default()
            };

            let progress = Arc::new(IngestProgress::new(!cli.json));
            let result =
                ingest::ingest(&vault, &a.paths, &collection, &options, progress.clone()).await;
            progress.finish();
            let result = finish_write_if(vault, result, |s| s.ingested > 0).await;
            let summary = result?;
            if summary.ingested + summary.failed + summary.skipped == 0 {
                eprintln!(
                    "note: no files were found under {}; nothing was ingested",
                    a.paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            if cli.json {
                print_json(&summary)?;
            } else {
                let mb = summary.bytes as f64 / 1e6;
                outln!(
                    "{} ingested ({} with bytes already in the vault), {} failed, {} skipped; {} in {:.1} s ({:.0} MB/s)",
                    summary.ingested,
                    summary.duplicates,
                    summary.failed,
                    summary.skipped,
                    size(summary.bytes),
                    summary.seconds,
                    if summary.seconds > 0.0 {
                        mb / summary.seconds
                    } else {
                        0.0
                    }
                );
            }
            Ok(if summary.failed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::List { case, limit } => {
            let vault = open(&cli, Mode::Read, &actor).await?;
            let filter = ItemFilter {
                case: case.clone(),
                limit: *limit,
                ..Default::default()
            };
            let list = items::list(&vault, &filter).await?;
            if cli.json {
                print_json(&list)?;
            } else if list.is_empty() {
                outln!("no items");
            } else {
                outln!(
                    "{:<11} {:<16} {:>9}  {:<24} {:<16} NAME",
                    "ITEM",
                    "SHA-256",
                    "SIZE",
                    "TYPE",
                    "CASE"
                );
                for i in &list {
                    outln!(
                        "{:<11} {:<16} {:>9}  {:<24} {:<16} {}",
                        i.id.to_string(),
                        &i.sha256.to_hex()[..16],
                        size(i.size),
                        i.media_type,
                        shown(opt(&i.case)),
                        shown(&i.original_name)
                    );
                }
            }
            vault.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { item } => {
            let vault = open(&cli, Mode::Read, &actor).await?;
            let view = items::show(&vault, item).await?;
            if cli.json {
                print_json(&view)?;
            } else {
                output::evidence_text(|| print_item(&view));
            }
            vault.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Get {
            item,
            out,
            force,
            purpose,
        } => {
            let vault = open(&cli, Mode::Write, &actor).await?;
            let result = items::get(&vault, item, out, *force, purpose.as_deref()).await;
            let result = finish_write(vault, result).await;
            let r = result?;
            if cli.json {
                print_json(&r)?;
            } else {
                outln!(
                    "wrote {} ({}, sha256 {} verified) to {}; read logged as ledger entry {}",
                    r.item,
                    size(r.size),
                    r.sha256,
                    r.out,
                    r.ledger_seq
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Annotate { item, note } => {
            let vault = open(&cli, Mode::Write, &actor).await?;
            let result = items::annotate(&vault, item, note).await;
            let result = finish_write(vault, result).await;
            let seq = result?;
            if cli.json {
                print_json(&serde_json::json!({"ledger_seq": seq}))?;
            } else {
                outln!("note recorded as ledger entry {seq}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { full, checkpoint } => {
            let dir = vault_dir(&cli)?;
            let (vault, read_only_because) = verify::open_for_verify(&dir, &actor).await?;
            report_recovery(&vault);
            if let Some(why) = &read_only_because {
                eprintln!("note: verifying read-only, nothing will be recorded: {why}");
            }
            let opts = VerifyOptions {
                full: *full,
                checkpoint_file: checkpoint.clone(),
                threads: 2,
            };
            let progress = VerifyProgress::new();
            let result = verify::verify(&vault, &opts, &progress).await;
            progress.finish();
            let mut report = match result {
                Ok(r) => r,
                Err(e) => {
                    vault.close().await;
                    return Err(e.into());
                }
            };
            let recorded = verify::record(&vault, &mut report).await;
            vault.close().await;
            recorded?;
            if cli.json {
                print_json(&report)?;
            } else {
                print_verify(&report);
            }
            Ok(if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Demo { dir } => crate::cmd::demo::run(&cli, &actor, dir).await,
        Command::Case(c) => crate::cmd::case::run_case(&cli, &actor, c).await,
        Command::Place(c) => crate::cmd::case::run_place(&cli, &actor, c).await,
        Command::Evidence(c) => crate::cmd::case::run_evidence(&cli, &actor, c).await,
        Command::Incident(c) => crate::cmd::case::run_incident(&cli, &actor, c).await,
        Command::Remains(c) => crate::cmd::remains::run(&cli, &actor, c).await,
        Command::Witness(c) => crate::cmd::witness::run(&cli, &actor, c).await,
        Command::Claims(c) => crate::cmd::claims::run_claims(&cli, &actor, c).await,
        Command::Report(c) => crate::cmd::claims::run_report(&cli, &actor, c).await,
        Command::Matrix(a) => crate::cmd::claims::run_matrix(&cli, &actor, a).await,
        Command::Similar(a) => crate::cmd::similar::similar(&cli, &actor, a).await,
        Command::Clusters(a) => crate::cmd::similar::clusters(&cli, &actor, a).await,
        Command::Export(a) => crate::cmd::package::export(&cli, &actor, a).await,
        Command::VerifyPackage(a) => crate::cmd::package::verify(&cli, a),
        Command::Import(a) => crate::cmd::package::import(&cli, &actor, a).await,
        Command::Extract {
            item,
            all: _,
            force,
        } => {
            let vault = open(&cli, Mode::Write, &actor).await?;
            let progress = Arc::new(crate::progress::CountProgress::new("extracting"));
            let result = match item {
                Some(item) => {
                    custody_app::extract::extract_item(&vault, item, *force, progress.clone()).await
                }
                None => {
                    custody_app::extract::extract_all(&vault, *force, 2, progress.clone()).await
                }
            };
            progress.finish();
            let result = finish_write_if(vault, result, |r| r.extracted > 0).await;
            let r = result?;
            if let Some(id) = r.item
                && r.up_to_date > 0
            {
                eprintln!(
                    "note: the bytes of {id} already have a record of {} {}; nothing was extracted (--force extracts them again)",
                    r.extractor, r.version
                );
            }
            if cli.json {
                print_json(&r)?;
            } else if let Some(id) = r.item {
                let what = if r.with_problems > 0 {
                    "extracted, with parts that could not be read (`custody show` lists them)"
                } else if r.extracted > 0 {
                    "extracted"
                } else if r.up_to_date > 0 {
                    "already up to date"
                } else {
                    "not extracted"
                };
                outln!(
                    "{} {}: {id} {what}; {:.1} s",
                    r.extractor,
                    r.version,
                    r.seconds
                );
            } else {
                outln!(
                    "{} {}: {} blobs, {} extracted ({} with parts that could not be read), {} already up to date; {:.1} s ({:.0} files/s)",
                    r.extractor,
                    r.version,
                    r.blobs,
                    r.extracted,
                    r.with_problems,
                    r.up_to_date,
                    r.seconds,
                    r.files_per_second
                );
                if r.phash_reused > 0 {
                    outln!(
                        "{} perceptual hashes ({}) recorded again from earlier records of the same bytes, not computed (--force computes them)",
                        r.phash_reused,
                        custody_similar::ALGORITHM
                    );
                }
            }
            for x in &r.damaged {
                eprintln!(
                    "error: {} ({}): {}; nothing was extracted from it. `custody verify --full` checks every stored copy",
                    x.item,
                    x.sha256.to_hex(),
                    x.why
                );
            }
            Ok(if r.damaged.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::ExportGeo { case, format, out } => {
            // `-` is standard output, as for other tools.
            let out = out.as_ref().filter(|p| p.as_os_str() != "-");
            // --json describes the file written with --out; without one, only a GeoJSON
            // document is JSON itself.
            let not_json = match format {
                GeoFormatArg::Geojson => None,
                GeoFormatArg::Kml => Some("KML"),
                GeoFormatArg::Csv => Some("CSV"),
            };
            if cli.json
                && out.is_none()
                && let Some(name) = not_json
            {
                anyhow::bail!(
                    "--json describes a file written with --out; give --out FILE, or drop --json to write the {name} to standard output"
                );
            }
            let vault = open(&cli, Mode::Read, &actor).await?;
            let placed = custody_app::geo::placed_items(&vault, case.as_deref()).await;
            vault.close().await;
            let placed = placed?;
            let format = match format {
                GeoFormatArg::Geojson => custody_app::geo::GeoFormat::GeoJson,
                GeoFormatArg::Kml => custody_app::geo::GeoFormat::Kml,
                GeoFormatArg::Csv => custody_app::geo::GeoFormat::Csv,
            };
            let text = custody_app::geo::render(&placed.placed, format);
            if placed.outdated > 0 {
                eprintln!(
                    "note: {} items were examined by an older extractor (no clock or position notes of this version); run `custody extract --all` to bring them up to date",
                    placed.outdated
                );
            }
            if placed.unexamined > 0 {
                eprintln!(
                    "note: {} of {} items have no extracted metadata yet, so no position; run `custody extract --all` to read them",
                    placed.unexamined, placed.items
                );
            }
            match out {
                Some(path) => {
                    write_new_file(path, text.as_bytes())?;
                    if cli.json {
                        print_json(&serde_json::json!({
                            "path": path.display().to_string(),
                            "positioned": placed.placed.len(),
                            "items": placed.items,
                            "unexamined": placed.unexamined,
                            "outdated": placed.outdated,
                        }))?;
                    } else {
                        eprintln!(
                            "{} positioned items (of {}) written to {}",
                            placed.placed.len(),
                            placed.items,
                            path.display()
                        );
                    }
                }
                None => out!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Timestamp {
            tsas,
            roots,
            save,
            every,
            timeout,
        } => {
            let vault = open(&cli, Mode::Write, &actor).await?;
            let result =
                run_timestamp(&vault, tsas, roots.as_deref(), *save, *every, *timeout).await;
            vault.close().await;
            // Roots given alone: added, nothing to stamp.
            let (roots_added, report) = result?;
            let copy_failed = roots_added
                .as_ref()
                .is_some_and(|c: &custody_app::anchors::Change| c.copy_error.is_some());
            let Some(r) = report else {
                if cli.json {
                    print_json(&serde_json::json!({
                        "roots_added": roots_added.as_ref().map(|c| c.certificates),
                        "ledger_seq": roots_added.as_ref().and_then(|c| c.ledger_seq),
                        "copy_error": roots_added.as_ref().and_then(|c| c.copy_error.clone()),
                    }))?;
                }
                return Ok(if copy_failed {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                });
            };
            if cli.json {
                let mut v = serde_json::to_value(&r)?;
                if let Some(c) = &roots_added {
                    v["roots_added"] = c.certificates.into();
                    v["roots_ledger_seq"] = serde_json::json!(c.ledger_seq);
                    v["copy_error"] = serde_json::json!(c.copy_error);
                }
                print_json(&v)?;
            } else {
                for s in &r.stamped {
                    outln!(
                        "checkpoint {} stamped by {} at {} (serial {}); token {} recorded as ledger entry {}",
                        r.checkpoint_size,
                        s.tsa,
                        s.gen_time,
                        s.serial_number,
                        s.token_file.display(),
                        s.ledger_seq
                    );
                }
                for f in &r.failed {
                    outln!("FAILED   {f}");
                }
            }
            Ok(if r.failed.is_empty() && !copy_failed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Credentials { anchors } => {
            crate::cmd::trust::run_credentials(&cli, &actor, anchors.as_deref()).await
        }
        Command::Trust {
            remove,
            reason,
            from,
            restore,
        } => {
            crate::cmd::trust::run_trust(
                &cli,
                &actor,
                remove.as_deref(),
                reason.as_deref(),
                *from,
                restore.as_deref(),
            )
            .await
        }
        Command::Catalog(CatalogCommand::Rebuild) => {
            let dir = vault_dir(&cli)?;
            let r = custody_app::catalog::rebuild(&dir, &actor).await?;
            if cli.json {
                print_json(&r)?;
            } else {
                outln!(
                    "catalog rebuilt from {} ledger entries ({} items); recorded as ledger entry {}",
                    r.entries,
                    r.items,
                    r.ledger_seq
                );
                if let Some(p) = &r.previous_catalog {
                    outln!("the previous catalog is kept as {}", p.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Log(cmd) => {
            let vault = open(&cli, Mode::Read, &actor).await?;
            let result = run_log(&cli, &vault, cmd);
            vault.close().await;
            result?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_log(cli: &Cli, vault: &Vault, cmd: &LogCommand) -> Result<()> {
    match cmd {
        LogCommand::Checkpoint { size } => {
            let note = match size {
                Some(s) => log::checkpoint_at(vault, *s)?,
                None => log::checkpoint(vault)?,
            };
            if cli.json {
                print_json(&serde_json::json!({"checkpoint": note}))?;
            } else {
                out!("{note}");
            }
        }
        LogCommand::Checkpoints => {
            let sizes = log::checkpoint_sizes(vault)?;
            if cli.json {
                print_json(&sizes)?;
            } else {
                for s in sizes {
                    outln!("{s}");
                }
            }
        }
        LogCommand::Key => {
            let vkey = log::verifier_key(vault);
            if cli.json {
                print_json(&serde_json::json!({"vkey": vkey}))?;
            } else {
                outln!("{vkey}");
            }
        }
        LogCommand::Entry { n, raw } => {
            let bytes = log::entry(vault, *n)?;
            if *raw {
                let written = {
                    let mut out = std::io::stdout().lock();
                    out.write_all(&bytes).and_then(|()| out.flush())
                };
                if let Err(e) = written {
                    output::stdout_failed(&e);
                }
            } else {
                let v: serde_json::Value =
                    serde_json::from_slice(&bytes).context("the entry is not JSON")?;
                print_json(&v)?;
            }
        }
        LogCommand::Prove { n, size } => {
            let proof = log::prove(vault, *n, *size)?;
            outln!("{}", serde_json::to_string(&proof)?);
        }
        LogCommand::Consistency { old, new } => {
            let proof = log::consistency(vault, *old, *new)?;
            outln!("{}", serde_json::to_string(&proof)?);
        }
    }
    Ok(())
}

/// The keyframe hashes of a video recorded with its latest extraction, each after the
/// time it is shown, or why there are none.
fn print_keyframes(v: &items::ItemView) {
    let recorded = v.recorded_keyframes();
    // A transport or program stream says nothing of itself in a header: what reading it
    // end to end found.
    if let Some(st) = recorded.map(|k| &k["stream"]).filter(|st| st.is_object()) {
        let dims = match (st["width"].as_u64(), st["height"].as_u64()) {
            (Some(w), Some(h)) => format!(" {w}×{h}"),
            _ => String::new(),
        };
        let length = st["duration_ms"]
            .as_u64()
            .map(|ms| format!(", {:.1} s", ms as f64 / 1000.0))
            .unwrap_or_default();
        outln!(
            "  video stream  {}{dims}, {} frames{length} (read from the stream itself)",
            st["codec"].as_str().unwrap_or("?"),
            st["frames"].as_u64().unwrap_or(0),
        );
    }
    let frames: Vec<String> = recorded
        .and_then(|k| k["frames"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let at = custody_app::similar::clock_time(f["at_ms"].as_u64()?);
            Some(format!("{at} {}", f["value"].as_str()?))
        })
        .collect();
    if frames.is_empty() {
        let id = v.item.id.to_string();
        outln!(
            "  keyframes     none: {}",
            shown(&custody_app::similar::keyframes_missing(recorded, &id))
        );
    } else {
        outln!(
            "  keyframes     {} ({})",
            frames.join("  "),
            recorded.and_then(|k| k["algorithm"].as_str()).unwrap_or("")
        );
    }
}

fn print_item(v: &items::ItemView) {
    let i = &v.item;
    outln!("{}  {}", i.id, shown(&i.original_name));
    outln!("  sha256        {}", i.sha256);
    outln!("  size          {} ({} bytes)", size(i.size), i.size);
    outln!("  media type    {} (from content)", i.media_type);
    outln!("  case          {}", shown(opt(&i.case)));
    outln!("  collected by  {}", shown(opt(&i.collected_by)));
    outln!("  source        {}", shown(opt(&i.source)));
    outln!("  method        {}", shown(opt(&i.method)));
    outln!("  note          {}", shown(opt(&i.note)));
    outln!("  original path {}", shown(&i.original_path));
    let t = |t: &Option<custody_model::Timestamp>| {
        t.map(|t| t.to_string()).unwrap_or_else(|| "-".into())
    };
    outln!(
        "  file times    modified {}, created {}, accessed {} (of the collected copy)",
        t(&i.fs.modified),
        t(&i.fs.created),
        t(&i.fs.accessed)
    );
    outln!("  ingested      {} by {}", i.ingested_at, shown(&i.actor));
    if let Some(d) = i.duplicate_of {
        outln!("  same bytes as {d} (stored once)");
    }
    if !v.same_bytes.is_empty() {
        let ids: Vec<String> = v.same_bytes.iter().map(|i| i.to_string()).collect();
        outln!("  also collected as {}", ids.join(", "));
    }
    if !v.blob_present {
        outln!("  WARNING: the blob is missing from the store; run `custody verify`");
    }
    for a in &v.annotations {
        outln!(
            "  annotation    {} (ledger entry {})",
            shown(a["note"].as_str().unwrap_or("")),
            a["ledger_seq"]
        );
    }
    if let Some(m) = &v.metadata {
        print_metadata(
            m,
            v.c2pa_signer.as_ref().is_some_and(|c| c.trusted),
            v.c2pa_time_stamp.as_ref().is_some_and(|t| t.verified),
        );
        if let Some(c) = &v.c2pa_signer {
            let who = if c.signer.is_empty() {
                "its signer".to_owned()
            } else {
                shown(&c.signer).to_string()
            };
            let when = match c.judged_at_basis.as_str() {
                "time-stamp" => format!("at {}, the claim's verified time-stamp", c.judged_at),
                _ => format!("at {}, now", c.judged_at),
            };
            match (&c.anchor, &c.reason) {
                (Some(anchor), None) => outln!(
                    "  C2PA signer   {who}: trusted, its chain leads to {} (one of this vault's C2PA trust anchors), every certificate valid {when}",
                    shown(anchor)
                ),
                (_, why) => outln!(
                    "  C2PA signer   {who}: not trusted: {}",
                    shown(why.as_deref().unwrap_or("no anchor vouches for it"))
                ),
            }
        }
        if let Some(t) = &v.c2pa_time_stamp {
            let judged = match &t.reason {
                None if t.dates_these_bytes => "verified against this vault's TSA roots: the claim, and the bytes it binds, existed then".into(),
                None => format!(
                    "verified against this vault's TSA roots, but {}: it dates the claim, not these bytes",
                    shown(t.not_these_bytes.as_deref().unwrap_or("not these bytes"))
                ),
                Some(why) => format!("not verified: {}", shown(why)),
            };
            outln!(
                "  C2PA time-stamp {} from {} (over the {}), {judged}",
                t.gen_time,
                shown(&t.tsa),
                t.covers
            );
        }
        for t in &v.implausible_times {
            outln!(
                "  note: {} is not a capture time: {}",
                shown(&t.source),
                shown(&t.why)
            );
        }
        // The perceptual hash (or why there is none) comes with the latest extraction.
        match v.recorded_phash() {
            Some(p) => match (p["value"].as_str(), p["error"].as_str()) {
                (Some(h), _) => outln!(
                    "  perceptual hash {h} ({})",
                    p["algorithm"].as_str().unwrap_or("")
                ),
                (None, Some(e)) => outln!(
                    "  perceptual hash none: {}",
                    shown(e.strip_prefix("could not hash: ").unwrap_or(e))
                ),
                _ => {}
            },
            None if custody_similar::is_hashable(&i.media_type) => {}
            None if custody_similar::has_keyframes(&i.media_type) => {}
            None => outln!(
                "  perceptual hash none: {}",
                custody_app::similar::unhashed_reason(&i.media_type)
            ),
        }
        if custody_similar::has_keyframes(&i.media_type) || v.recorded_keyframes().is_some() {
            print_keyframes(v);
        }
    } else {
        outln!("metadata: not extracted (run `custody extract --all`)");
    }
    if let Some(u) = &v.upstream {
        outln!(
            "custody history at {} (as item {}, before the transfer in package {}):",
            shown(&u.origin),
            u.item,
            &u.package_id[..16]
        );
        for h in &u.history {
            outln!(
                "  #{:<6} {}  {:<16} by {}",
                h.seq,
                shown(&h.time),
                shown(&h.action),
                shown(&h.actor)
            );
        }
    }
    outln!("custody history:");
    for h in &v.history {
        let extra = match h.action.as_str() {
            "item.read" => format!(
                " to {}",
                shown(h.details["destination"].as_str().unwrap_or("?"))
            ),
            "item.annotated" => format!(": {}", shown(h.details["note"].as_str().unwrap_or(""))),
            _ => String::new(),
        };
        outln!(
            "  #{:<6} {}  {:<16} by {}{extra}",
            h.seq,
            h.time,
            h.action,
            shown(&h.actor)
        );
    }
    outln!(
        "ledger: collected in entry {} of {} ({}); latest checkpoint covers {} entries",
        v.ledger.collected_entry,
        v.ledger.tree_size,
        v.ledger.origin,
        v.ledger.latest_checkpoint
    );
    match &v.timestamp {
        Some(t) => outln!(
            "timestamped: existed no later than {} (RFC 3161 token from {} over checkpoint {}, ledger entry {})",
            t.gen_time,
            t.tsa,
            t.checkpoint_size,
            t.ledger_seq
        ),
        None if v.timestamps_set_aside.is_empty() => outln!(
            "timestamped: not yet (no RFC 3161 token covers this entry; run `custody timestamp`)"
        ),
        None => outln!(
            "timestamped: no token that covers this entry dates it (run `custody timestamp` for a new one)"
        ),
    }
    for why in &v.timestamps_set_aside {
        outln!("  set aside: {}", shown(why));
    }
    outln!(
        "  prove it: custody log prove {} > proof.json",
        v.ledger.collected_entry
    );
}

fn print_verify(r: &verify::VerifyReport) {
    if r.ok {
        outln!("OK: the vault verifies");
    } else {
        outln!(
            "FAILED: {} problem{} found",
            r.problems.len(),
            if r.problems.len() == 1 { "" } else { "s" }
        );
        // Messages may quote what files hold (a certificate's subject, a path).
        for p in &r.problems {
            outln!("  {}: {}", p.kind, shown(&p.message));
        }
    }
    for n in &r.notes {
        outln!("  note: {}", shown(n));
    }
    let hashed = if r.full {
        format!(", {} re-hashed", size(r.bytes_hashed))
    } else {
        " (sizes only; --full re-hashes)".into()
    };
    outln!(
        "checked {} ledger entries, {} checkpoints, {} timestamps, {} items, {} blobs{hashed}",
        r.entries,
        r.checkpoints,
        r.timestamps,
        r.items,
        r.blobs
    );
    if let Some(seq) = r.ledger_seq {
        outln!("this verification is recorded as ledger entry {seq}");
    }
}

/// Reads a file of certificates to trust (see `anchors::read_certificates`).
pub(crate) fn read_certificates_file(path: &std::path::Path) -> Result<Vec<u8>> {
    Ok(custody_app::anchors::read_certificates(path)?)
}

async fn run_timestamp(
    vault: &Vault,
    tsas: &[String],
    roots: Option<&std::path::Path>,
    save: bool,
    every: u64,
    timeout: u64,
) -> Result<(
    Option<custody_app::anchors::Change>,
    Option<timestamps::StampReport>,
)> {
    let mut roots_added = None;
    if let Some(path) = roots {
        let pem = read_certificates_file(path)?;
        let change = timestamps::add_roots(vault, &pem).await?;
        crate::cmd::trust::report_added(custody_app::anchors::TSA_ROOTS, path, &change);
        roots_added = Some(change);
    }
    let configured = timestamps::TimestampingConfig::load(vault.dir())?;
    let use_tsas: Vec<String> = if tsas.is_empty() {
        configured.map(|c| c.tsas).unwrap_or_default()
    } else {
        tsas.to_vec()
    };
    if save {
        if use_tsas.is_empty() {
            anyhow::bail!("--save needs at least one --tsa URL");
        }
        timestamps::TimestampingConfig {
            tsas: use_tsas.clone(),
            every_seconds: every,
        }
        .save(vault.dir())?;
    }
    if roots.is_some() && use_tsas.is_empty() {
        // Only adding roots (to verify tokens already held: a package's, a C2PA claim's).
        return Ok((roots_added, None));
    }
    let report =
        timestamps::stamp(vault, &use_tsas, std::time::Duration::from_secs(timeout)).await?;
    Ok((roots_added, Some(report)))
}

/// After a command changed the vault: stamp the new checkpoint if configured TSAs are due.
/// A failure here never fails the command; it is reported.
/// Ends a command that wrote to the vault: when it succeeded and `wrote` says it changed
/// something, a periodic timestamp that has fallen due is taken; then the vault is
/// closed and the command's result handed back.
pub async fn finish_write_if<T, E>(
    vault: Vault,
    result: std::result::Result<T, E>,
    wrote: impl FnOnce(&T) -> bool,
) -> std::result::Result<T, E> {
    if result.as_ref().is_ok_and(wrote) {
        stamp_if_due(&vault).await;
    }
    vault.close().await;
    result
}

/// `finish_write_if` for a command that always writes when it succeeds.
pub async fn finish_write<T, E>(
    vault: Vault,
    result: std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    finish_write_if(vault, result, |_| true).await
}

async fn stamp_if_due(vault: &Vault) {
    match timestamps::stamp_if_due(vault).await {
        Ok(None) => {}
        Ok(Some(r)) => {
            for s in &r.stamped {
                eprintln!(
                    "note: checkpoint {} timestamped by {} at {}",
                    r.checkpoint_size, s.tsa, s.gen_time
                );
            }
            for f in &r.failed {
                eprintln!("warning: periodic timestamp failed: {f}");
            }
        }
        Err(e) => eprintln!("warning: periodic timestamp failed: {e}"),
    }
}

/// Writes a whole file, refusing to replace an existing one. The bytes go to a hidden
/// temporary file in the same folder, are flushed to disk, and only then get their name
/// (a hard link, which fails if the name was taken meanwhile): after a crash there is
/// either the whole file or none, never a part of one under the final name.
/// Whether the folder `path` would be written in exists.
fn dir_exists(path: &std::path::Path) -> bool {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.is_dir(),
        _ => true,
    }
}

pub(crate) fn write_new_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let cannot = |e: std::io::Error| {
        let why = match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                "it already exists and is never replaced; choose another name"
            }
            std::io::ErrorKind::NotFound if !dir_exists(path) => {
                "its folder does not exist; create it first"
            }
            std::io::ErrorKind::NotFound => {
                "its folder does not take new files (a system folder such as /proc?); choose another folder"
            }
            _ => "check the folder's permissions and free space",
        };
        anyhow::Error::new(e).context(format!("cannot create {}: {why}", path.display()))
    };
    if path.symlink_metadata().is_ok() {
        return Err(cannot(std::io::ErrorKind::AlreadyExists.into()));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{}.{}.part",
        name.as_deref().unwrap_or("output"),
        std::process::id()
    ));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(cannot)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    drop(f);
    let linked = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
        // A file system without hard links (FAT on a USB stick, say): a rename, after
        // one more look that the name is still free.
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            if path.symlink_metadata().is_ok() {
                Err(std::io::ErrorKind::AlreadyExists.into())
            } else {
                std::fs::rename(&tmp, path)
            }
        }
        other => other,
    });
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            // The new name itself must survive a crash.
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(cannot(e)),
        Err(e) => Err(e).with_context(|| format!("writing {}", path.display())),
    }
}

/// Metres to the centimetre, without trailing zeros (a ratio of two EXIF integers,
/// 260.56063829787234, is shown as 260.56; the record keeps every digit).
fn centimetres(m: f64) -> String {
    let s = format!("{m:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// What the extractor found, each value with where it came from.
/// `signer_trusted`: the vault's C2PA trust anchors vouch for the signer at the time it
/// judged, so the validator's `signingCredential.untrusted` (it is given no trust list)
/// and `signingCredential.expired` (it judged at the time it ran) are not shown;
/// `stamp_verified`: the claim's time-stamp verified against the vault's TSA roots, so
/// its `timeStamp.untrusted` is not shown either.
fn print_metadata(m: &serde_json::Value, signer_trusted: bool, stamp_verified: bool) {
    // Every value is what a file said: written visibly (line breaks too), never obeyed.
    let s = |v: &serde_json::Value| shown(v.as_str().unwrap_or("")).into_owned();
    outln!(
        "metadata ({} {}):",
        s(&m["extractor"]),
        s(&m["extractor_version"])
    );
    if m["size"].as_u64() == Some(0) {
        outln!("  the file is empty: there is nothing to extract");
    }
    if let Some(times) = m["times"].as_array().filter(|t| !t.is_empty()) {
        outln!("  capture times (each clock kept apart, with its basis):");
        for c in times {
            let date_only = c["basis"] == "date_only";
            let reading = match (c["utc"].as_str(), c["local"].as_str(), c["offset"].as_str()) {
                // The local time beside it tells day from night where it was taken.
                (Some(utc), Some(local), Some(off)) => {
                    let from = c["offset_original"]
                        .as_str()
                        .filter(|o| o.trim() != off)
                        .map(|o| format!(", offset written \"{}\"", shown(o)))
                        .unwrap_or_default();
                    format!(
                        "{} UTC (local {}{}{from})",
                        shown(utc),
                        shown(local),
                        shown(off)
                    )
                }
                (Some(utc), _, _) => format!("{} UTC", shown(utc)),
                (None, Some(local), Some(off)) => format!("{}{}", shown(local), shown(off)),
                // A GPS date is a UTC date by the EXIF specification.
                (None, Some(date), None) if date_only && c["source"] == "exif.gps" => {
                    format!("{} (a UTC date, without a time of day)", shown(date))
                }
                (None, Some(date), None) if date_only => {
                    format!("{} (a date without a time of day)", shown(date))
                }
                (None, Some(local), None) => {
                    format!("{} (local time, offset unknown: not UTC)", shown(local))
                }
                _ => s(&c["original"]),
            };
            outln!(
                "    {:<28} {reading}  [{}; written \"{}\"]",
                s(&c["source"]),
                s(&c["basis"]),
                s(&c["original"])
            );
        }
    }
    if let Some(notes) = m["notes"].as_array() {
        for n in notes {
            outln!("  note: {}", s(&n["text"]));
        }
    }
    if let Some(positions) = m["positions"].as_array() {
        for p in positions {
            let lat = p["latitude"].as_f64().unwrap_or(0.0);
            let lon = p["longitude"].as_f64().unwrap_or(0.0);
            let alt = p["altitude_m"]
                .as_f64()
                .map(|a| format!(", altitude {} m", centimetres(a)))
                .unwrap_or_default();
            let err = p["horizontal_error_m"]
                .as_f64()
                .map(|e| format!(", ±{} m", centimetres(e)))
                .unwrap_or_default();
            outln!(
                "  position      {lat:.6}, {lon:.6} ({}){alt}{err}",
                s(&p["source"])
            );
            // Degrees on another datum are not where a map puts them.
            if let Some(note) = custody_app::geo::datum_note(
                p["source"].as_str().unwrap_or("?"),
                p["datum"].as_str(),
            ) {
                outln!("  note: {}", shown(&note));
            }
        }
    }
    if let Some(g) = m.get("geotiff").filter(|g| g.is_object()) {
        let system = match (g["projected_epsg"].as_u64(), g["geographic_epsg"].as_u64()) {
            (Some(p), _) => format!("projected, EPSG:{p}"),
            (None, Some(geo)) => format!("geographic, EPSG:{geo}"),
            (None, None) => "coordinate system not named by an EPSG code".into(),
        };
        let nums = |v: &serde_json::Value| {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(serde_json::Value::as_f64)
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        };
        let tie = g["tiepoints"]
            .get(0)
            .map(|t| format!("; tie point {}", nums(t)))
            .unwrap_or_default();
        let scale = g
            .get("pixel_scale")
            .map(|s| format!("; pixel size {}", nums(s)))
            .unwrap_or_default();
        let matrix = if g.get("transformation").is_some() {
            "; transformation matrix"
        } else {
            ""
        };
        outln!("  georeference  {system}{tie}{scale}{matrix}");
    }
    let dev = &m["device"];
    let part = |k: &str| dev[k]["value"].as_str().map(|v| shown(v).into_owned());
    let device: Vec<String> = [
        part("make"),
        part("model"),
        part("software").map(|x| format!("software {x}")),
        part("serial_number").map(|x| format!("serial {x}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !device.is_empty() {
        outln!("  device        {}", device.join(", "));
    }
    if let Some(img) = m.get("image") {
        if let (Some(w), Some(h)) = (img["width"].as_u64(), img["height"].as_u64()) {
            // As stored; a turn the file asks for is said, not applied.
            let turn = match (
                img["orientation"].as_u64(),
                img["orientation_text"].as_str(),
            ) {
                (Some(o), Some(t)) if o != 1 => format!(" (EXIF orientation {o}: {})", shown(t)),
                _ => String::new(),
            };
            outln!("  image         {w}×{h} {}{turn}", s(&img["container"]));
        }
    }
    if let Some(vid) = m.get("video") {
        let dur = vid["duration_s"]
            .as_f64()
            .map(|d| format!("{d:.1} s"))
            .unwrap_or_else(|| "duration unknown".into());
        // The first video track's turn, as its matrix asks a player to show it.
        let turned = vid["tracks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["handler"] == "vide")
            .and_then(|t| t["rotation"].as_u64())
            .map(|r| format!(" (shown turned {r}° clockwise)"))
            .unwrap_or_default();
        let dims = match (vid["width"].as_u64(), vid["height"].as_u64()) {
            (Some(w), Some(h)) => format!(", {w}×{h}{turned}"),
            _ => String::new(),
        };
        let fragmented = if vid["fragmented"].as_bool() == Some(true) {
            ", fragmented MP4"
        } else {
            ""
        };
        // A file with sound and no picture (a voice memo in MP4) is audio.
        let handlers: Vec<&str> = vid["tracks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["handler"].as_str())
            .collect();
        let kind = if handlers.contains(&"vide") {
            "video"
        } else if handlers.contains(&"pict") {
            // An animated AVIF or HEIF: pictures in sequence, without a video track.
            "sequence"
        } else if handlers.contains(&"soun") {
            "audio"
        } else {
            "video"
        };
        let mut codecs: Vec<String> = Vec::new();
        for t in vid["tracks"].as_array().into_iter().flatten() {
            // A video track, or an image sequence's (an animated AVIF or HEIF).
            if let (Some("vide" | "pict"), Some(code)) =
                (t["handler"].as_str(), t["codec"].as_str())
            {
                let name = codec_name(code, t["object_type"].as_u64());
                if !codecs.contains(&name) {
                    codecs.push(name);
                }
            }
        }
        let codecs = if codecs.is_empty() {
            String::new()
        } else {
            format!(", {}", codecs.join(" + "))
        };
        outln!("  {kind:<13} {dur}{dims}{codecs}{fragmented}");
    }
    if let Some(pdf) = m.get("pdf") {
        for k in ["title", "author", "creator", "producer"] {
            if let Some(v) = pdf[k].as_str() {
                outln!("  pdf {k:<9} {}", shown(v));
            }
        }
    }
    if let Some(c) = m.get("c2pa") {
        let codes: Vec<String> = c["statuses"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|x| x["kind"] != "success")
                    .filter(|x| {
                        let judged_here = match x["code"].as_str() {
                            Some("signingCredential.untrusted" | "signingCredential.expired") => {
                                signer_trusted
                            }
                            Some("timeStamp.untrusted") => stamp_verified,
                            _ => false,
                        };
                        !judged_here
                    })
                    .map(|x| s(&x["code"]))
                    .collect()
            })
            .unwrap_or_default();
        let signer = c["signer"]
            .as_str()
            .map(|x| format!("; signed by {}", shown(x)))
            .unwrap_or_default();
        // The time the signer claims; whether its time-stamp verifies against the
        // vault's TSA roots is the line `C2PA time-stamp` below.
        let signer = match c["signing_time"].as_str() {
            Some(t) => format!("{signer}; signing time {}", shown(t)),
            None => signer,
        };
        let intact = custody_app::credentials::intact(c);
        let state = match s(&c["state"]).as_str() {
            _ if intact && signer_trusted => {
                "trusted (intact, and the signer chains to this vault's C2PA trust anchors)".into()
            }
            "invalid" if intact => "intact, but the validator found the signer's certificate outside its validity period when it ran; the vault judges the signer below".into(),
            other => other.to_owned(),
        };
        outln!(
            "  content credentials (C2PA): {state}{}{signer}",
            if codes.is_empty() {
                String::new()
            } else {
                format!(" — {}", codes.join(", "))
            }
        );
    }
    if let Some(problems) = m["problems"].as_array() {
        for p in problems {
            outln!("  {}", s(p));
        }
    }
}

/// A video track's codec as people name it, with the code its container gives (an MP4
/// sample entry, a Matroska codec ID, an AVI FourCC); an unknown code as it is.
fn codec_name(code: &str, object_type: Option<u64>) -> String {
    let lower = code.trim().to_ascii_lowercase();
    let name = match (lower.as_str(), object_type) {
        // `mp4v` holds MPEG-1, MPEG-2 or MPEG-4 Part 2 video, as its descriptor's object
        // type says; without one, the code is shown as it is.
        ("mp4v", Some(0x20)) => "MPEG-4 Part 2",
        ("mp4v", Some(0x60..=0x65)) => "MPEG-2",
        ("mp4v", Some(0x6A)) => "MPEG-1",
        (other, _) => match other {
            "avc1" | "avc3" | "v_mpeg4/iso/avc" | "h264" | "x264" | "avc" => "H.264",
            "hvc1" | "hev1" | "v_mpegh/iso/hevc" | "hevc" | "h265" => "HEVC",
            "av01" | "v_av1" | "av1" => "AV1",
            "vp09" | "v_vp9" | "vp90" => "VP9",
            "vp08" | "v_vp8" | "vp80" => "VP8",
            "v_mpeg4/iso/asp" | "v_mpeg4/iso/sp" | "v_mpeg4/iso/ap" | "xvid" | "divx" | "dx50"
            | "fmp4" => "MPEG-4 Part 2",
            "s263" | "h263" => "H.263",
            "mjpg" | "jpeg" | "v_mjpeg" | "mjpa" => "Motion JPEG",
            "v_mpeg2" | "mp2v" | "mpg2" => "MPEG-2",
            "v_mpeg1" | "mp1v" | "mpg1" => "MPEG-1",
            "apcn" | "apch" | "apcs" | "apco" | "ap4h" | "v_prores" => "ProRes",
            _ => return shown(code).into_owned(),
        },
    };
    format!("{name} ({})", shown(code.trim()))
}

#[cfg(test)]
mod tests {
    use super::{centimetres, codec_name};

    #[test]
    fn mp4v_is_named_by_its_object_type() {
        assert_eq!(codec_name("mp4v", Some(0x61)), "MPEG-2 (mp4v)");
        assert_eq!(codec_name("mp4v", Some(0x6A)), "MPEG-1 (mp4v)");
        assert_eq!(codec_name("mp4v", Some(0x20)), "MPEG-4 Part 2 (mp4v)");
        assert_eq!(codec_name("mp4v", None), "mp4v");
        assert_eq!(codec_name("avc1", None), "H.264 (avc1)");
        assert_eq!(codec_name("s263", None), "H.263 (s263)");
        assert_eq!(codec_name("mpg1", None), "MPEG-1 (mpg1)");
    }

    #[test]
    fn metres_are_shown_to_the_centimetre() {
        assert_eq!(centimetres(260.560_638_297_872_34), "260.56");
        assert_eq!(centimetres(38.813_004_345_127_25), "38.81");
        assert_eq!(centimetres(5.0), "5");
        assert_eq!(centimetres(-12.5), "-12.5");
        assert_eq!(centimetres(-0.001), "0");
    }
}
