//! `custody credentials` and `custody trust`: whom the vault trusts (TSA roots, C2PA trust
//! anchors), each change a ledger entry.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use custody_app::anchors::{Anchor, C2PA_ANCHORS, Change, TSA_ROOTS, TrustFile};
use custody_app::{Mode, Vault};
use custody_model::Digest;

use crate::cli::Cli;
use crate::output::shown;
use crate::run::{finish_write_if, open, print_json, read_certificates_file};

/// One trust file's certificates, and what is wrong with its copy in `keys/`.
#[derive(serde::Serialize)]
struct Listed {
    certificates: Vec<Anchor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    copy_problem: Option<String>,
}

async fn listed(vault: &Vault, file: TrustFile) -> Result<Listed> {
    let (certificates, copy_problem) = file.list(vault).await?;
    Ok(Listed {
        certificates,
        copy_problem,
    })
}

/// Says on standard error what adding certificates to `file` from `from` did.
pub fn report_added(file: TrustFile, from: &Path, change: &Change) {
    match change.ledger_seq {
        None => eprintln!(
            "note: every certificate in {} is already among the {}",
            from.display(),
            file.what
        ),
        Some(seq) if change.copy_error.is_none() => eprintln!(
            "note: {} certificate(s) added to the {} (recorded as ledger entry {seq}, copied to keys/{})",
            change.certificates, file.what, file.file
        ),
        Some(seq) => eprintln!(
            "note: {} certificate(s) added to the {} (recorded as ledger entry {seq})",
            change.certificates, file.what
        ),
    }
    for w in &change.left_withdrawn {
        eprintln!("warning: not trusted again: {}", shown(w));
    }
    if let Some(e) = &change.copy_error {
        eprintln!(
            "warning: {e}; the ledger holds them and they are trusted; the next change to the vault's trust writes the copy again"
        );
    }
}

/// `custody credentials [--anchors FILE]`.
pub async fn run_credentials(cli: &Cli, actor: &str, anchors: Option<&Path>) -> Result<ExitCode> {
    let mode = if anchors.is_some() {
        Mode::Write
    } else {
        Mode::Read
    };
    let vault = open(cli, mode, actor).await?;
    let result = async {
        let mut change = None;
        if let Some(path) = anchors {
            let pem = read_certificates_file(path)?;
            let c = C2PA_ANCHORS.add(&vault, &pem).await?;
            report_added(C2PA_ANCHORS, path, &c);
            change = Some(c);
        }
        anyhow::Ok((change, listed(&vault, C2PA_ANCHORS).await?))
    }
    .await;
    let path = C2PA_ANCHORS.path(vault.dir());
    let (change, list) = finish_write_if(vault, result, |(c, _)| {
        c.as_ref().is_some_and(|c| c.ledger_seq.is_some())
    })
    .await?;
    if cli.json {
        print_json(&serde_json::json!({
            "anchors_added": change.as_ref().map(|c| c.certificates),
            "ledger_seq": change.as_ref().and_then(|c| c.ledger_seq),
            "copy_error": change.as_ref().and_then(|c| c.copy_error.clone()),
            "anchors": list.certificates,
            "copy_problem": list.copy_problem,
        }))?;
    } else if list.certificates.is_empty() && list.copy_problem.is_none() {
        outln!(
            "this vault holds no C2PA trust anchors: every signer shows as not trusted; add some with `custody credentials --anchors FILE`"
        );
    } else {
        print_listed(C2PA_ANCHORS, &path, &list);
    }
    Ok(exit_code(&change))
}

/// A copy that could not be written is a failure of a command that ran (status 1).
fn exit_code(change: &Option<Change>) -> ExitCode {
    if change.as_ref().is_some_and(|c| c.copy_error.is_some()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_listed(file: TrustFile, path: &Path, list: &Listed) {
    outln!(
        "{} (as the ledger records them; a copy in {}):",
        file.what,
        path.display()
    );
    if let Some(p) = &list.copy_problem {
        outln!("  the copy: {}", shown(p));
    }
    if list.certificates.is_empty() {
        outln!("  none trusted; add some with `{}`", file.added_with);
    }
    let now = custody_app::credentials::rfc3339_of(std::time::SystemTime::now());
    for a in &list.certificates {
        outln!("  {}  sha256 {}", shown(&a.subject), a.sha256);
        if let (None, Some(w)) = (a.ledger_seq, a.withdrawn_in) {
            outln!(
                "    NOT TRUSTED: withdrawn in ledger entry {w}, but still in the copy; `custody trust --remove {}` writes the copy again",
                a.sha256
            );
            continue;
        }
        let Some(seq) = a.ledger_seq else {
            outln!(
                "    NOT TRUSTED: in the copy only, not recorded in the ledger (put there outside custody, or kept by an earlier release); check it, then record it with `{}`, or remove it from the file",
                file.added_with
            );
            continue;
        };
        outln!("    recorded in ledger entry {seq}");
        if !a.is_ca {
            outln!("    not a CA: it vouches only for signatures made with its own key");
        }
        // RFC 3339 UTC texts of one form compare as times do.
        if a.not_after < now {
            outln!(
                "    expired {}: it vouches only for what was time-stamped before then",
                a.not_after
            );
        }
    }
}

/// The two sets of certificates a vault trusts.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum TrustSet {
    TsaRoots,
    C2paAnchors,
}

/// `custody trust [--remove SHA256 [--reason TEXT] [--from SET] | --restore SHA256]`.
pub async fn run_trust(
    cli: &Cli,
    actor: &str,
    remove: Option<&str>,
    reason: Option<&str>,
    from: Option<TrustSet>,
    restore: Option<&str>,
) -> Result<ExitCode> {
    if let Some(hex) = restore {
        return run_restore(cli, actor, hex).await;
    }
    let sets = match from {
        None => vec![TSA_ROOTS, C2PA_ANCHORS],
        Some(TrustSet::TsaRoots) => vec![TSA_ROOTS],
        Some(TrustSet::C2paAnchors) => vec![C2PA_ANCHORS],
    };
    let digest = remove
        .map(|hex| parse_sha256(hex, "--remove"))
        .transpose()?;
    let mode = if digest.is_some() {
        Mode::Write
    } else {
        Mode::Read
    };
    let vault = open(cli, mode, actor).await?;
    let result = async {
        let mut removed = Vec::new();
        if let Some(d) = &digest {
            for file in &sets {
                if let Some(c) = file.remove(&vault, d, reason).await? {
                    match c.ledger_seq {
                        Some(seq) => eprintln!(
                            "note: {d} is no longer among the {} (recorded as ledger entry {seq})",
                            file.what
                        ),
                        None => eprintln!(
                            "note: {d} was withdrawn from the {} before; its copy keys/{} is written again without it",
                            file.what, file.file
                        ),
                    }
                    if let Some(e) = &c.copy_error {
                        eprintln!(
                            "warning: {e}; other tools reading it may still trust the certificate; run this again once it can be written"
                        );
                    }
                    removed.push(serde_json::json!({
                        "file": file.file,
                        "ledger_seq": c.ledger_seq,
                        "copy_error": c.copy_error,
                    }));
                }
            }
            if removed.is_empty() {
                let among = match from {
                    None => String::new(),
                    Some(TrustSet::TsaRoots) => " among its TSA roots".into(),
                    Some(TrustSet::C2paAnchors) => " among its C2PA trust anchors".into(),
                };
                bail!(
                    "the vault trusts no certificate with SHA-256 {d}{among}; `custody trust` lists those it does"
                );
            }
        }
        anyhow::Ok((
            removed,
            listed(&vault, TSA_ROOTS).await?,
            listed(&vault, C2PA_ANCHORS).await?,
        ))
    }
    .await;
    let dir = vault.dir().to_owned();
    let (removed, tsa, c2pa) = finish_write_if(vault, result, |(r, ..)| !r.is_empty()).await?;
    if cli.json {
        print_json(&serde_json::json!({
            "removed": removed,
            "tsa_roots": tsa,
            "c2pa_anchors": c2pa,
        }))?;
    } else {
        print_listed(TSA_ROOTS, &TSA_ROOTS.path(&dir), &tsa);
        print_listed(C2PA_ANCHORS, &C2PA_ANCHORS.path(&dir), &c2pa);
    }
    Ok(if removed.iter().any(|c| !c["copy_error"].is_null()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn parse_sha256(hex: &str, option: &str) -> Result<Digest> {
    hex.trim().parse::<Digest>().map_err(|_| {
        anyhow::anyhow!(
            "{option} takes a certificate's SHA-256, 64 hexadecimal digits as `custody trust` lists them; got {hex:?}"
        )
    })
}

/// `custody trust --restore SHA256`: trusts again a certificate the vault withdrew.
async fn run_restore(cli: &Cli, actor: &str, hex: &str) -> Result<ExitCode> {
    let d = parse_sha256(hex, "--restore")?;
    let vault = open(cli, Mode::Write, actor).await?;
    let result = async {
        let mut restored = Vec::new();
        for file in [TSA_ROOTS, C2PA_ANCHORS] {
            if let Some(c) = file.restore(&vault, &d).await? {
                eprintln!(
                    "note: {d} is among the {} again (recorded as ledger entry {})",
                    file.what,
                    c.ledger_seq.unwrap_or_default()
                );
                if let Some(e) = &c.copy_error {
                    eprintln!("warning: {e}");
                }
                restored.push(serde_json::json!({
                    "file": file.file,
                    "ledger_seq": c.ledger_seq,
                    "copy_error": c.copy_error,
                }));
            }
        }
        if restored.is_empty() {
            bail!(
                "the vault withdrew no certificate with SHA-256 {d}; `custody trust --remove` withdraws one, `custody timestamp --roots` and `custody credentials --anchors` add new ones"
            );
        }
        anyhow::Ok(restored)
    }
    .await;
    let restored = finish_write_if(vault, result, |r| !r.is_empty()).await?;
    if cli.json {
        print_json(&serde_json::json!({ "restored": restored }))?;
    }
    Ok(if restored.iter().any(|c| !c["copy_error"].is_null()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
