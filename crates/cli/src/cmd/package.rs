//! `custody export`, `custody verify-package`, `custody import`: hand-over packages.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use custody_app::export::{self, ExportOptions};
use custody_app::package::PackageCheckOptions;
use custody_app::{Mode, import, redact};

use crate::cli::Cli;
use crate::output::{shown, size};
use crate::progress::ByteProgress;
use crate::run::{finish_write, finish_write_if, open, print_json};

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The case to export (all its items, unless --items narrows them).
    #[arg(long)]
    pub case: Option<String>,
    /// Items to export (ids or SHA-256 prefixes).
    #[arg(long, num_args = 1..)]
    pub items: Vec<String>,
    /// Redact for hand-over: a JSON file naming, per item, regions to black out
    /// ({"ITM-000003": {"regions": [[x, y, w, h]], "reason": "..."}}) or items to withhold
    /// ({"withhold": true, "reason": "..."}). Redacted copies become new items linked to
    /// their originals; originals stay out of the package but their proofs stay in.
    #[arg(long, value_name = "SPEC.json")]
    pub redact: Option<PathBuf>,
    /// Who to contact about the package (bag-info Contact-Name; default: the actor).
    #[arg(long)]
    pub contact: Option<String>,
    /// Contact e-mail for bag-info.
    #[arg(long)]
    pub contact_email: Option<String>,
    /// The package directory to create (must not exist).
    #[arg(long, short)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The package directory.
    pub package: PathBuf,
    /// The sender's verifier key, obtained independently of the package (a vkey string or
    /// a file holding one). Without it the key inside the package is used.
    #[arg(long, value_name = "VKEY|FILE")]
    pub vkey: Option<String>,
    /// PEM file of TSA root certificates to check RFC 3161 tokens against. On import
    /// they become roots the vault trusts (a ledger entry, as with `custody timestamp
    /// --roots`), and the tokens are checked against every root the vault trusts;
    /// without the option an import uses the vault's roots, if it has any.
    #[arg(long, value_name = "FILE")]
    pub tsa_roots: Option<PathBuf>,
}

fn check_options(a: &CheckArgs) -> Result<PackageCheckOptions> {
    let vkey = match &a.vkey {
        Some(v) if std::path::Path::new(v).is_file() => Some(
            std::fs::read_to_string(v)
                .with_context(|| format!("reading {v}"))?
                .trim()
                .to_owned(),
        ),
        other => other.clone(),
    };
    Ok(PackageCheckOptions {
        trusted_vkey: vkey,
        tsa_roots: a.tsa_roots.clone(),
        vault_roots: None,
    })
}

pub async fn export(cli: &Cli, actor: &str, a: &ExportArgs) -> Result<ExitCode> {
    let vault = open(cli, Mode::Write, actor).await?;
    let result = async {
        let redactions = match &a.redact {
            Some(p) => redact::load_spec(p)?,
            None => Default::default(),
        };
        let opts = ExportOptions {
            case: a.case.clone(),
            items: a.items.clone(),
            redactions,
            contact: a.contact.clone(),
            contact_email: a.contact_email.clone(),
        };
        let progress = Arc::new(ByteProgress::new("exporting"));
        let p2 = progress.clone();
        let r = export::export(&vault, &a.out, &opts, move |n| p2.inc(n)).await;
        progress.finish();
        r
    }
    .await;
    let result = finish_write(vault, result).await;
    let r = result?;
    if cli.json {
        print_json(&r)?;
    } else {
        outln!(
            "package {} written: {} items ({} withheld, {} redacted copies), {} of payload, {} ledger entries with proofs to checkpoint {}, {} timestamps",
            r.package.display(),
            r.items,
            r.withheld,
            r.derived,
            size(r.payload_bytes),
            r.entries,
            r.checkpoint_size,
            r.timestamps
        );
        outln!(
            "package id (SHA-256 of tagmanifest-sha256.txt): {}",
            r.package_id
        );
        outln!("the export is recorded as ledger entry {}", r.ledger_seq);
        for why in &r.timestamps_left_out {
            outln!(
                "  note: a token left out, as it dates nothing: {}",
                shown(why)
            );
        }
        outln!(
            "check it with: custody verify-package {}   or   bagit.py --validate {}",
            r.package.display(),
            r.package.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn verify(cli: &Cli, a: &CheckArgs) -> Result<ExitCode> {
    let opts = check_options(a)?;
    let progress = Arc::new(ByteProgress::new("checking"));
    let p2 = progress.clone();
    let (r, _) =
        custody_app::package::verify_package(&a.package, &opts, Some(Arc::new(move |n| p2.inc(n))));
    progress.finish();
    if cli.json {
        print_json(&r)?;
    } else {
        if r.ok {
            outln!("OK: the package verifies");
        } else {
            outln!(
                "FAILED: {} problem{} found",
                r.problems.len(),
                if r.problems.len() == 1 { "" } else { "s" }
            );
            for p in &r.problems {
                outln!("  {p}");
            }
        }
        for n in &r.notes {
            outln!("  note: {n}");
        }
        outln!(
            "checked {} payload files ({}), {} items ({} withheld), {} ledger entries against checkpoint {} of {}, {} timestamps",
            r.payload_files,
            size(r.payload_bytes),
            r.items,
            r.withheld,
            r.entries,
            r.checkpoint_size
                .map(|s| s.to_string())
                .unwrap_or_else(|| "?".into()),
            r.origin.as_deref().unwrap_or("?"),
            r.timestamps
        );
    }
    Ok(if r.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub async fn import(cli: &Cli, actor: &str, a: &CheckArgs) -> Result<ExitCode> {
    let opts = check_options(a)?;
    let vault = open(cli, Mode::Write, actor).await?;
    let progress = Arc::new(ByteProgress::new("checking"));
    let p2 = progress.clone();
    let result = import::import(
        &vault,
        &a.package,
        &opts,
        Some(Arc::new(move |n| p2.inc(n))),
    )
    .await;
    progress.finish();
    let result = finish_write_if(vault, result, |r| {
        !r.already_imported
            || r.tsa_roots_added
                .as_ref()
                .is_some_and(|c| c.ledger_seq.is_some())
    })
    .await;
    let r = result?;
    if let (Some(c), Some(path)) = (&r.tsa_roots_added, &a.tsa_roots) {
        crate::cmd::trust::report_added(custody_app::anchors::TSA_ROOTS, path, c);
    }
    if cli.json {
        print_json(&r)?;
    } else if r.already_imported {
        let roots_recorded = r
            .tsa_roots_added
            .as_ref()
            .and_then(|c| c.ledger_seq.map(|seq| (c.certificates, seq)));
        match roots_recorded {
            None => outln!(
                "package {} was imported before (ledger entry {}); nothing changed",
                r.package_id,
                r.ledger_seq
            ),
            Some((n, seq)) => outln!(
                "package {} was imported before (ledger entry {}); only the {n} TSA root(s) given were recorded as trusted (ledger entry {seq})",
                r.package_id,
                r.ledger_seq
            ),
        }
        if r.timestamps_not_recorded > 0 {
            outln!(
                "note: {} of the sender's timestamps verify to the roots trusted now but were not verified when the package was first imported (no TSA root trusted or given then): they do not date its items in this vault, and importing again does not change the ledger",
                r.timestamps_not_recorded
            );
        }
    } else {
        for i in &r.items {
            outln!(
                "received {}  {}  {:>9}  (upstream {})",
                i.item,
                &i.sha256.to_hex()[..16],
                size(i.size),
                i.upstream_item
            );
        }
        outln!(
            "{} items received from {} ({} withheld by the sender); their upstream history is kept in {}; recorded as ledger entry {}",
            r.items.len(),
            r.from_origin,
            r.withheld,
            r.kept_in.display(),
            r.ledger_seq
        );
        for n in &r.check.notes {
            outln!("  note: {n}");
        }
    }
    // The roots given were recorded but their copy in keys/ could not be written.
    Ok(
        if r.tsa_roots_added
            .as_ref()
            .is_some_and(|c| c.copy_error.is_some())
        {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}
