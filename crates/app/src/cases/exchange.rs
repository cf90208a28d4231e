//! Moving cases in and out of the vault in bulk: the case JSON document
//! (`custody-case` version 1), and the remains and evidence CSV sheets
//! (`docs/design/case-model.md` §7).
//!
//! Imports are all-or-nothing: the input is validated as a whole by the case model (every
//! problem reported with its line, path or row and column), vault items it names must
//! exist, and only then are all its events committed in one ledger write, followed by a
//! `case.imported` entry naming the format and the SHA-256 of the bytes read. Exports are
//! built from the case state, which holds no sealed data; each is recorded by a
//! `case.exported` entry. Sealed identities leave the vault only through
//! [`export_sealed`], which reads each one under the unseal permission (every read in
//! the ledger) into a separate file.

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use custody_cases::exchange::{self as cx, CASE_FORMAT, CASE_FORMAT_VERSION, ImportErrors};
use custody_cases::{CaseEvent, Event};
use custody_model::{Action, Digest, ItemId};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Recorded, commit_events, ensure_new, load};
use crate::error::{AppError, Result};
use crate::sealed::{self, ReadRequest};
use crate::vault::{Pending, Vault};

/// The formats a case moves in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// The whole case, `custody-case` JSON.
    CaseJson,
    /// Remains, one row each.
    RemainsCsv,
    /// Evidence records, one row each.
    ItemsCsv,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::CaseJson => "custody-case",
            Format::RemainsCsv => "custody-remains-csv",
            Format::ItemsCsv => "custody-items-csv",
        }
    }
}

fn refused(e: ImportErrors) -> AppError {
    AppError::Invalid(e.to_string().trim_end().to_owned())
}

fn refused_lines(problems: Vec<String>) -> AppError {
    let mut s = format!(
        "nothing was imported: {} problem(s) found; fix them and import again",
        problems.len()
    );
    for p in problems {
        s.push_str("\n  ");
        s.push_str(&p);
    }
    AppError::Invalid(s)
}

/// Items named by evidence records (and examination reports, release documents) that
/// are not in the vault.
async fn missing_items(vault: &Vault, events: &[&Event]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for e in events {
        let mut named: Vec<(ItemId, String)> = Vec::new();
        match e {
            Event::EvidenceRegistered { evidence } => {
                if let Some(i) = evidence.item {
                    named.push((i, format!("evidence {}", evidence.id)));
                }
            }
            Event::EvidenceItemLinked { evidence, item } => {
                named.push((*item, format!("evidence {evidence}")))
            }
            _ => {}
        }
        for (item, who) in named {
            if !seen.insert(item) {
                continue;
            }
            if vault.catalog().item(item).await?.is_none() {
                problems.push(format!(
                    "{who}: item {item} is not in this vault; ingest it first, or leave the item out and link it later with `custody evidence link-item`"
                ));
            }
        }
    }
    Ok(problems)
}

fn imported_entry(case: &str, format: Format, text: &str, events: usize, source: &str) -> Pending {
    Pending {
        action: Action::parse("case.imported"),
        item: None,
        sha256: None,
        details: json!({
            "bytes": text.len(),
            "case": case,
            "events": events,
            "format": format.name(),
            "sha256": Digest::of(text.as_bytes()).to_hex(),
            "source": source,
        }),
    }
}

/// Imports a whole case from its JSON document. The case must not exist yet.
pub async fn import_case_json(vault: &Vault, text: &str, source: &str) -> Result<Recorded> {
    let imported = cx::import_json(text).map_err(refused)?;
    ensure_new(vault, &imported.case.id).await?;
    let events: Vec<&Event> = imported.events.iter().map(|e| &e.event).collect();
    let missing = missing_items(vault, &events).await?;
    if !missing.is_empty() {
        return Err(refused_lines(missing));
    }
    let n = imported.events.len();
    let id = imported.case.id.clone();
    commit_events(
        vault,
        &id,
        Vec::new(),
        imported.events,
        vec![imported_entry(
            id.as_str(),
            Format::CaseJson,
            text,
            n,
            source,
        )],
    )
    .await
}

async fn import_sheet(
    vault: &Vault,
    case_id: &str,
    text: &str,
    source: &str,
    format: Format,
) -> Result<Recorded> {
    let case = load(vault, case_id).await?;
    let events = match format {
        Format::RemainsCsv => cx::import_remains_csv(&case, text),
        _ => cx::import_items_csv(&case, text),
    }
    .map_err(refused)?;
    let refs: Vec<&Event> = events.iter().collect();
    let missing = missing_items(vault, &refs).await?;
    if !missing.is_empty() {
        return Err(refused_lines(missing));
    }
    let n = events.len();
    let wrapped: Vec<CaseEvent> = events.into_iter().map(|e| case.wrap(e)).collect();
    commit_events(
        vault,
        &case.id,
        Vec::new(),
        wrapped,
        vec![imported_entry(case.id.as_str(), format, text, n, source)],
    )
    .await
}

/// Imports remains (one row each, through the workflow guards) into a case.
pub async fn import_remains_csv(
    vault: &Vault,
    case_id: &str,
    text: &str,
    source: &str,
) -> Result<Recorded> {
    import_sheet(vault, case_id, text, source, Format::RemainsCsv).await
}

/// Imports evidence records (and their observations) into a case.
pub async fn import_items_csv(
    vault: &Vault,
    case_id: &str,
    text: &str,
    source: &str,
) -> Result<Recorded> {
    import_sheet(vault, case_id, text, source, Format::ItemsCsv).await
}

/// What an export wrote.
#[derive(Clone, Debug, Serialize)]
pub struct Exported {
    pub case: String,
    pub format: &'static str,
    pub out: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    pub ledger_seq: u64,
}

/// Writes a new file (never replacing one), fsynced, with `mode`.
pub(crate) fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                AppError::OutputExists {
                    path: path.to_owned(),
                }
            } else {
                AppError::io(format!("creating {}", path.display()), e)
            }
        })?;
    if let Err(e) = f.write_all(bytes).and_then(|_| f.sync_all()) {
        drop(f);
        let _ = std::fs::remove_file(path);
        return Err(AppError::io(format!("writing {}", path.display()), e));
    }
    Ok(())
}

/// The text of a case in one of the formats (no ledger entry; for `--out -`).
pub async fn render(vault: &Vault, case_id: &str, format: Format) -> Result<String> {
    let case = load(vault, case_id).await?;
    Ok(match format {
        Format::CaseJson => cx::export_json(&case),
        Format::RemainsCsv => cx::export_remains_csv(&case),
        Format::ItemsCsv => cx::export_items_csv(&case),
    })
}

/// Exports a case to a new file and records the export.
pub async fn export(vault: &Vault, case_id: &str, format: Format, out: &Path) -> Result<Exported> {
    let text = render(vault, case_id, format).await?;
    let case = super::case_id(case_id)?;
    write_new(out, text.as_bytes(), 0o644)?;
    let sha256 = Digest::of(text.as_bytes()).to_hex();
    let entries = vault
        .commit(
            vec![Pending {
                action: Action::parse("case.exported"),
                item: None,
                sha256: None,
                details: json!({
                    "bytes": text.len(),
                    "case": case.as_str(),
                    "file": out.file_name().map(|n| n.to_string_lossy().into_owned()),
                    "format": format.name(),
                    "sha256": sha256,
                }),
            }],
            &[],
        )
        .await?;
    Ok(Exported {
        case: case.to_string(),
        format: format.name(),
        out: out.to_owned(),
        bytes: text.len() as u64,
        sha256,
        ledger_seq: entries.first().map(|e| e.seq).unwrap_or_default(),
    })
}

/// What an export of sealed identities wrote.
#[derive(Clone, Debug, Serialize)]
pub struct SealedExported {
    pub case: String,
    pub out: PathBuf,
    pub witnesses: usize,
    /// The `sealed.read` ledger entries, one per identity read.
    pub reads: Vec<u64>,
}

/// Exports the sealed identities of a case's witnesses to a separate file (mode 0600),
/// reading each one under `permission` with every read recorded first. The file format
/// is `custody-sealed-identities` version 1.
pub async fn export_sealed(
    vault: &Vault,
    key_file: Option<&Path>,
    case_id: &str,
    permission: &str,
    purpose: &str,
    out: &Path,
) -> Result<SealedExported> {
    let case = load(vault, case_id).await?;
    if out.exists() {
        return Err(AppError::OutputExists {
            path: out.to_owned(),
        });
    }
    let mut list = Vec::new();
    let mut reads = Vec::new();
    for w in case.witnesses.values() {
        let witness = w.pseudonym.to_string();
        let (id, grant) = sealed::read_identity(
            vault,
            key_file,
            &w.sealed,
            &ReadRequest {
                permission,
                purpose,
                case: case.id.as_str(),
                witness: &witness,
            },
        )
        .await?;
        reads.push(grant.ledger_seq());
        let contacts: Vec<Value> = id
            .contacts
            .iter()
            .map(|c| json!({"kind": c.kind, "value": c.value}))
            .collect();
        list.push(json!({
            "witness": witness,
            "sealed": w.sealed.as_str(),
            "read_entry": grant.ledger_seq(),
            "legal_name": id.legal_name,
            "other_names": id.other_names,
            "date_of_birth": id.date_of_birth,
            "address": id.address,
            "contacts": contacts,
            "notes": id.notes,
        }));
    }
    let doc = json!({
        "format": "custody-sealed-identities",
        "version": 1,
        "case": case.id.as_str(),
        "read_by": vault.actor(),
        "permission": permission,
        "purpose": purpose,
        "identities": list,
    });
    let text = serde_json::to_string_pretty(&doc).expect("serialises") + "\n";
    write_new(out, text.as_bytes(), 0o600)?;
    Ok(SealedExported {
        case: case.id.to_string(),
        out: out.to_owned(),
        witnesses: list.len(),
        reads,
    })
}

/// The case JSON document's format name and version, for messages.
pub fn case_format() -> String {
    format!("{CASE_FORMAT} version {CASE_FORMAT_VERSION}")
}
