//! `custody import`: evidence received from another organisation, with its history.
//!
//! A package is verified first (the whole of `custody verify-package`); if anything
//! fails, nothing is written. Otherwise the sender's tag files (their ledger entries,
//! checkpoint, key, proofs and tokens) are kept unchanged under
//! `received/<package id>/`, each payload file becomes a local item by an
//! `item.received` entry that names its upstream item and entry, and one
//! `package.received` entry records the package as a whole. Importing the same package
//! again changes nothing.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use custody_model::{Action, CollectedDetails, Digest, FsTimes};
use serde::Serialize;
use serde_json::json;

use crate::error::{AppError, Result};
use crate::package::{PackageCheckOptions, PackageReport, verify_package};
use crate::vault::{Pending, Vault};

pub const RECEIVED_DIR: &str = "received";

#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    pub package_id: String,
    pub from_origin: String,
    /// True when the package was imported before; nothing was written this time.
    pub already_imported: bool,
    pub items: Vec<ImportedItem>,
    pub withheld: usize,
    pub kept_in: PathBuf,
    pub ledger_seq: u64,
    pub check: PackageReport,
    /// On a second import: the sender's tokens that verify now (to the roots given this
    /// time) but were not recorded as verified the first time, so date nothing.
    #[serde(skip_serializing_if = "is_zero")]
    pub timestamps_not_recorded: usize,
    /// The TSA roots given with the import, recorded as trusted by the vault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsa_roots_added: Option<crate::anchors::Change>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Clone, Debug, Serialize)]
pub struct ImportedItem {
    pub item: String,
    pub upstream_item: String,
    pub sha256: Digest,
    pub size: u64,
}

/// The package id: SHA-256 of its `tagmanifest-sha256.txt`, which covers every byte.
pub fn package_id(dir: &Path) -> Result<String> {
    let path = dir.join("tagmanifest-sha256.txt");
    let bytes =
        fs::read(&path).map_err(|e| AppError::io(format!("reading {}", path.display()), e))?;
    Ok(Digest::of(&bytes).to_hex())
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let ft = entry.file_type()?;
        let target = to.join(entry.file_name());
        if ft.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if ft.is_file() {
            fs::copy(entry.path(), &target)?;
            File::open(&target)?.sync_all()?;
        }
    }
    File::open(to)?.sync_all()
}

pub async fn import(
    vault: &Vault,
    dir: &Path,
    opts: &PackageCheckOptions,
    progress: Option<custody_package::Progress>,
) -> Result<ImportReport> {
    // The vault judges the sender's tokens against the TSA roots its ledger records and
    // any given with the import, which are recorded (as `custody timestamp --roots`
    // records them) only once the package has verified.
    let given = match &opts.tsa_roots {
        Some(path) => {
            let pem = crate::anchors::read_certificates(path)?;
            let certs = custody_timestamp::certificates_from_pem(&pem, "--tsa-roots")
                .map_err(|e| AppError::Invalid(format!("not usable as TSA roots: {e}")))?;
            Some((pem, certs))
        }
        None => None,
    };
    let mut roots = crate::anchors::TSA_ROOTS.trusted_der(vault).await?;
    for c in given.iter().flat_map(|(_, certs)| certs) {
        if !roots.contains(c) {
            roots.push(c.clone());
        }
    }
    let opts = &PackageCheckOptions {
        trusted_vkey: opts.trusted_vkey.clone(),
        tsa_roots: None,
        vault_roots: (!roots.is_empty())
            .then(|| custody_timestamp::certificates_pem(&roots).into_bytes()),
    };
    let (check, contents) = verify_package(dir, opts, progress);
    if !check.ok {
        let shown: Vec<&str> = check.problems.iter().take(10).map(String::as_str).collect();
        return Err(AppError::Invalid(format!(
            "the package does not verify, so nothing was imported ({} problem{}): {}{}",
            check.problems.len(),
            if check.problems.len() == 1 { "" } else { "s" },
            shown.join("; "),
            if check.problems.len() > 10 {
                "; …"
            } else {
                ""
            }
        )));
    }
    let tsa_roots_added = match &given {
        Some((pem, _)) => Some(crate::anchors::TSA_ROOTS.add(vault, pem).await?),
        None => None,
    };
    let id = package_id(dir)?;
    let from_origin = check.origin.clone().unwrap_or_default();
    let kept_in = vault.dir().join(RECEIVED_DIR).join(&id);

    // Idempotence: the same package was imported before.
    for e in vault.entries_of(Action::PackageReceived).await? {
        if e.detail_str("package_id") == Some(&id) {
            let items = e
                .details
                .get("items")
                .and_then(|v| serde_json::from_value::<Vec<ImportedItemRecord>>(v.clone()).ok())
                .unwrap_or_default()
                .into_iter()
                .map(|r| ImportedItem {
                    item: r.item,
                    upstream_item: r.upstream_item,
                    sha256: r.sha256,
                    size: r.size,
                })
                .collect();
            let recorded: Vec<UpstreamToken> = e
                .details
                .get("upstream_timestamps")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            let timestamps_not_recorded = contents
                .verified_tokens
                .iter()
                .filter(|t| {
                    !recorded.iter().any(|r| {
                        r.checkpoint_size == t.checkpoint_size
                            && r.gen_time == t.gen_time
                            && r.tsa == t.tsa
                    })
                })
                .count();
            return Ok(ImportReport {
                package_id: id,
                from_origin,
                already_imported: true,
                items,
                withheld: check.withheld,
                kept_in,
                ledger_seq: e.seq,
                check,
                tsa_roots_added: tsa_roots_added.clone(),
                timestamps_not_recorded,
            });
        }
    }

    // Keep the sender's record exactly as received (everything but the payload).
    if !kept_in.exists() {
        let tmp = vault
            .dir()
            .join(RECEIVED_DIR)
            .join(format!(".{id}.partial"));
        let _ = fs::remove_dir_all(&tmp);
        let copied = (|| -> std::io::Result<()> {
            fs::create_dir_all(&tmp)?;
            for entry in fs::read_dir(dir)? {
                let entry = entry?;
                let name = entry.file_name();
                if name == "data" {
                    continue;
                }
                let ft = entry.file_type()?;
                if ft.is_dir() {
                    copy_tree(&entry.path(), &tmp.join(&name))?;
                } else if ft.is_file() {
                    fs::copy(entry.path(), tmp.join(&name))?;
                    File::open(tmp.join(&name))?.sync_all()?;
                }
            }
            File::open(&tmp)?.sync_all()?;
            fs::rename(&tmp, &kept_in)?;
            File::open(kept_in.parent().expect("has parent"))?.sync_all()
        })();
        if let Err(e) = copied {
            let _ = fs::remove_dir_all(&tmp);
            return Err(AppError::io(
                format!("keeping the sender's records in {}", kept_in.display()),
                e,
            ));
        }
    }

    // Stage every payload file, checking it against the sender's ledger entry again.
    let mut staged = Vec::new();
    let mut pending = Vec::new();
    let mut records = Vec::new();
    let upstream_cp = contents
        .checkpoint
        .as_ref()
        .expect("verified packages have a checkpoint");
    for item in contents.items.iter().filter(|i| i.payload.is_some()) {
        let path = dir.join(item.payload.as_deref().expect("filtered"));
        let mut f = File::open(&path)
            .map_err(|e| AppError::io(format!("reading {}", path.display()), e))?;
        let s = vault.blobs().stage(&mut f, &|_| {})?;
        if s.digest != item.sha256 {
            for d in &staged {
                let _ = vault.blobs().discard(d);
            }
            return Err(AppError::Invalid(format!(
                "{} changed while it was being imported; nothing was imported",
                path.display()
            )));
        }
        staged.push(s.digest);
        let (_, upstream) = &contents.entries[&item.entry];
        let mut details: CollectedDetails = serde_json::from_value(upstream.details.clone())
            .unwrap_or(CollectedDetails {
                case: item.case.clone(),
                collected_by: None,
                duplicate_of: None,
                fs: FsTimes::default(),
                media_type: item.media_type.clone(),
                method: None,
                note: None,
                original_name: item.original_name.clone(),
                original_path: String::new(),
                size: item.size,
                source: None,
            });
        let filter = custody_store::ItemFilter {
            sha256: Some(item.sha256),
            limit: Some(1),
            ..Default::default()
        };
        details.duplicate_of = vault.catalog().items(&filter).await?.first().map(|i| i.id);
        let local = vault.next_item_id();
        let mut details = serde_json::to_value(&details).expect("serialises");
        details["upstream"] = json!({
            "origin": from_origin,
            "item": item.id,
            "entry": item.entry,
            "entry_sha256": Digest::of(&contents.entries[&item.entry].0).to_hex(),
            "package_id": id,
        });
        let is_new = details["duplicate_of"].is_null();
        pending.push(Pending {
            action: Action::ItemReceived,
            item: Some(local),
            sha256: Some(item.sha256),
            details,
        });
        // The receiving vault extracts metadata itself, as on ingest.
        if is_new && let Some(p) = vault.blobs().local_path(&s.digest, true) {
            let examined = crate::ingest::examine_path(&p, &item.media_type);
            pending.push(crate::ingest::extraction_entry(local, s.digest, &examined));
        }
        records.push(ImportedItemRecord {
            item: local.to_string(),
            upstream_item: item.id.clone(),
            sha256: item.sha256,
            size: item.size,
        });
    }
    let withheld: Vec<_> = contents
        .items
        .iter()
        .filter(|i| i.payload.is_none())
        .map(|i| json!({"upstream_item": i.id, "sha256": i.sha256, "reason": i.withheld}))
        .collect();
    pending.push(Pending {
        action: Action::PackageReceived,
        item: None,
        sha256: Some(id.parse().expect("hex digest")),
        details: json!({
            "from_origin": from_origin,
            "from_vkey": check.vkey,
            "items": records,
            "kept_in": format!("{RECEIVED_DIR}/{id}"),
            "package_id": id,
            "upstream_checkpoint": {"size": upstream_cp.size, "root": upstream_cp.root.to_base64()},
            // The sender's timestamps whose chain verified to the roots given on import.
            "upstream_timestamps": contents.verified_tokens.iter().map(|t| json!({
                "ledger_seq": t.ledger_seq,
                "checkpoint_size": t.checkpoint_size,
                "gen_time": t.gen_time,
                "tsa": t.tsa,
            })).collect::<Vec<_>>(),
            "withheld": withheld,
        }),
    });
    let entries = match vault.commit(pending, &staged).await {
        Ok(e) => e,
        Err(e) => {
            for d in &staged {
                let _ = vault.blobs().discard(d);
            }
            return Err(e);
        }
    };
    Ok(ImportReport {
        package_id: id,
        from_origin,
        already_imported: false,
        items: records
            .into_iter()
            .map(|r| ImportedItem {
                item: r.item,
                upstream_item: r.upstream_item,
                sha256: r.sha256,
                size: r.size,
            })
            .collect(),
        withheld: withheld.len(),
        kept_in,
        ledger_seq: entries.last().expect("non-empty").seq,
        check,
        timestamps_not_recorded: 0,
        tsa_roots_added,
    })
}

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
struct ImportedItemRecord {
    item: String,
    upstream_item: String,
    sha256: Digest,
    size: u64,
}

/// One of the sender's RFC 3161 tokens that verified on import to roots given then.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct UpstreamToken {
    pub checkpoint_size: u64,
    pub gen_time: String,
    pub tsa: String,
    /// The sender's entry recording the token.
    #[serde(default)]
    pub ledger_seq: Option<u64>,
}

/// Whether a sender's token, recorded as verified when its package was imported, still
/// dates what it covers: read again from the records kept on import, it must verify to a
/// TSA root the vault trusts now, with the genTime recorded then. A root withdrawn since
/// takes its tokens' dates away.
pub fn received_token_standing(
    vault: &Vault,
    package_id: &str,
    t: &UpstreamToken,
    trust: &crate::timestamps::TsaTrust,
) -> std::result::Result<(), String> {
    let seq = t
        .ledger_seq
        .ok_or("the import recorded no entry for the token")?;
    let kept = vault
        .dir()
        .join(RECEIVED_DIR)
        .join(package_id)
        .join("custody");
    let entry_path = kept.join("entries").join(format!("{seq:020}.json"));
    let entry = fs::read(&entry_path)
        .map_err(|e| format!("{} cannot be read ({e})", entry_path.display()))
        .and_then(|b| {
            custody_ledger::Entry::parse(&b, seq)
                .map_err(|e| format!("{} cannot be read ({e})", entry_path.display()))
        })?;
    let token = crate::timestamps::parse_recorded(&entry)
        .ok_or_else(|| format!("{} records no token", entry_path.display()))?;
    let tst = kept.join("timestamps").join(&token.token);
    let der = fs::read(&tst).map_err(|e| format!("{} cannot be read ({e})", tst.display()))?;
    if Digest::of(&der) != token.token_sha256 {
        return Err(format!("{} is not the token recorded", tst.display()));
    }
    let extra = fs::read(PathBuf::from(
        tst.to_string_lossy().replace(".tst", ".certs.pem"),
    ))
    .ok()
    .and_then(|pem| custody_timestamp::certificates_from_pem(&pem, "token certificates").ok())
    .unwrap_or_default();
    let v = custody_timestamp::verify(
        &der,
        token.checkpoint_sha256.as_bytes(),
        &trust.roots,
        &extra,
        std::time::SystemTime::now(),
    );
    if let custody_timestamp::Status::Invalid { reason } = &v.status {
        return Err(format!(
            "it no longer verifies to a TSA root this vault trusts ({reason})"
        ));
    }
    match crate::timestamps::recorded_gen_time_problem(
        &crate::timestamps::RecordedToken {
            gen_time: t.gen_time.clone(),
            ..token
        },
        &v,
    ) {
        Some(p) => Err(p),
        None => Ok(()),
    }
}

/// Package id → the sender's tokens recorded as verified in its `package.received` entry.
pub async fn received_tokens(
    vault: &Vault,
) -> Result<std::collections::BTreeMap<String, Vec<UpstreamToken>>> {
    let mut out = std::collections::BTreeMap::new();
    for e in vault.entries_of(Action::PackageReceived).await? {
        let tokens = e
            .details
            .get("upstream_timestamps")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        if let Some(id) = e.detail_str("package_id") {
            out.insert(id.to_owned(), tokens);
        }
    }
    Ok(out)
}

/// Where a received item came from, as its `item.received` entry in this vault's own
/// ledger says, and what the sender's entry for it says, from the records kept on import.
#[derive(Clone, Debug)]
pub struct SenderCollection {
    pub origin: String,
    pub package_id: String,
    /// The sender's ledger entry that brought the item into their vault.
    pub entry: u64,
    /// That entry's time (the sender's clock) and action (`item.collected`, or
    /// `item.received` / `item.derived` when it came to them another way); or why it
    /// cannot be read: the kept record is missing, or no longer the one recorded.
    pub record: std::result::Result<(time::OffsetDateTime, String), String>,
}

/// The sender's side of a received item; `None` for an item collected here.
pub fn sender_collection(
    vault: &Vault,
    received: &custody_ledger::Entry,
) -> Option<SenderCollection> {
    let up = received.details.get("upstream")?;
    let package_id = up.get("package_id")?.as_str()?.to_owned();
    let entry = up.get("entry")?.as_u64()?;
    let recorded: Option<Digest> = up
        .get("entry_sha256")
        .and_then(|v| v.as_str())
        .and_then(|h| h.parse().ok());
    let path = vault
        .dir()
        .join(RECEIVED_DIR)
        .join(&package_id)
        .join("custody/entries")
        .join(format!("{entry:020}.json"));
    let record = match (fs::read(&path), recorded) {
        (Err(e), _) => Err(format!(
            "the sender's entry kept on import, {}, cannot be read ({e})",
            path.display()
        )),
        (Ok(_), None) => {
            Err("the item.received entry records no hash of the sender's entry".into())
        }
        (Ok(bytes), Some(d)) if Digest::of(&bytes) != d => Err(format!(
            "the sender's entry kept on import, {}, is no longer the one recorded (its SHA-256 differs)",
            path.display()
        )),
        (Ok(bytes), Some(_)) => custody_ledger::Entry::parse(&bytes, entry)
            .map(|e| (e.time.datetime(), e.action.to_string()))
            .map_err(|e| format!("the sender's entry kept on import cannot be read: {e}")),
    };
    Some(SenderCollection {
        origin: up.get("origin")?.as_str()?.to_owned(),
        package_id,
        entry,
        record,
    })
}
