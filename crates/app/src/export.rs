//! `custody export`: a court-ready BagIt 1.0 package with everything needed to check it
//! offline (docs/design/bagit-profile.md §8, "The Custody profile").
//!
//! The package carries the original bytes under `data/`, and under `custody/` the ledger
//! entries that concern them, an inclusion proof for every entry, the signed checkpoint
//! the proofs lead to, earlier (timestamped) checkpoints with consistency proofs, RFC 3161
//! tokens, the verifier key, the items' metadata, and a human-readable `report.html`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use custody_ledger::{Checkpoint, ConsistencyProof, Entry, InclusionProof};
use custody_model::{Action, Digest, Item, Timestamp};
use custody_package::{BagDate, BagInfo, BagWriter, PathNamer, Payload};
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{AppError, Result};
use crate::redact::{self, RedactionSpec};
use crate::timestamps::{self, TIMESTAMPS_DIR};
use crate::vault::{LEDGER_DIR, Pending, Vault};

/// The version of the Custody profile this code writes and reads.
pub const PROFILE_VERSION: u32 = 1;
pub const PROFILE_ID: &str = "custody-package";

#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    pub case: Option<String>,
    /// Item ids or digest prefixes; all items of the case when empty.
    pub items: Vec<String>,
    pub redactions: RedactionSpec,
    /// Who to contact about the package (defaults to the actor).
    pub contact: Option<String>,
    pub contact_email: Option<String>,
}

/// One item as the package describes it (`custody/items.json`).
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct PackagedItem {
    pub id: String,
    pub sha256: Digest,
    pub size: u64,
    pub media_type: String,
    pub original_name: String,
    pub case: Option<String>,
    /// The entry that brought the item into the sender's vault.
    pub entry: u64,
    /// Every included entry that concerns the item, oldest first.
    pub history: Vec<u64>,
    /// Where its bytes are in the bag; `None` when withheld.
    pub payload: Option<String>,
    /// Why the bytes are not in the package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
    /// For a redacted copy: the item it was derived from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExportReport {
    pub package: PathBuf,
    /// SHA-256 of `tagmanifest-sha256.txt`: one digest for the whole package.
    pub package_id: String,
    pub items: usize,
    pub withheld: usize,
    pub derived: usize,
    pub payload_bytes: u64,
    pub entries: usize,
    pub checkpoint_size: u64,
    pub timestamps: usize,
    /// Tokens left out, and why: they date nothing (a root withdrawn or never trusted,
    /// a damaged file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timestamps_left_out: Vec<String>,
    pub ledger_seq: u64,
}

fn entry_name(seq: u64) -> String {
    format!("{seq:020}")
}

/// Builds the package at `out`, which must not exist.
pub async fn export(
    vault: &Vault,
    out: &Path,
    opts: &ExportOptions,
    progress: impl Fn(u64) + Send + Sync + 'static,
) -> Result<ExportReport> {
    if out.exists() {
        return Err(AppError::OutputExists {
            path: out.to_owned(),
        });
    }
    // 1. Which items.
    let mut items: Vec<Item> = if opts.items.is_empty() {
        let case = opts.case.as_ref().ok_or_else(|| {
            AppError::Invalid("say what to export: --case CASE and/or --items ITEM...".into())
        })?;
        let filter = custody_store::ItemFilter {
            case: Some(case.clone()),
            ..Default::default()
        };
        vault.catalog().items(&filter).await?
    } else {
        let mut v = Vec::new();
        for q in &opts.items {
            v.push(crate::items::resolve(vault, q).await?);
        }
        v
    };
    if items.is_empty() {
        return Err(AppError::Invalid(format!(
            "no items to export{}",
            opts.case
                .as_ref()
                .map(|c| format!(" in case {c}"))
                .unwrap_or_default()
        )));
    }
    for id in opts.redactions.keys() {
        if !items.iter().any(|i| &i.id.to_string() == id) {
            return Err(AppError::Invalid(format!(
                "the redaction names {id}, which is not among the items exported"
            )));
        }
    }

    // 2. Redactions: withheld originals, redacted copies as new items.
    let mut withheld: BTreeMap<String, String> = BTreeMap::new();
    let mut derived_of: BTreeMap<String, String> = BTreeMap::new();
    let mut extra = Vec::new();
    for item in &items {
        let Some(r) = opts.redactions.get(&item.id.to_string()) else {
            continue;
        };
        withheld.insert(item.id.to_string(), r.reason.clone());
        if !r.regions.is_empty() {
            let copy = match redact::existing_derivative(vault, item.id, r).await? {
                Some(c) => c,
                None => redact::derive(vault, item, r).await?,
            };
            derived_of.insert(copy.id.to_string(), item.id.to_string());
            extra.push(copy);
        }
    }
    items.extend(extra);

    // 3. The checkpoint every proof leads to: the latest, after any redaction was recorded.
    let (size, checkpoint_note) = {
        let ledger = vault.ledger();
        ledger
            .latest_checkpoint()?
            .ok_or_else(|| AppError::Invalid("the vault has no checkpoint".into()))?
    };

    // 4. Entries: the vault's identity, every entry about the items, and timestamp records.
    let mut seqs: BTreeSet<u64> = [0u64, 1].into_iter().collect();
    let mut histories: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for item in &items {
        let h: Vec<u64> = vault
            .catalog()
            .history(item.id, &item.sha256)
            .await?
            .iter()
            .map(|e| e.seq)
            .filter(|s| *s < size)
            .collect();
        seqs.extend(&h);
        histories.insert(item.id.to_string(), h);
    }
    // Tokens whose chain leads to a root the vault no longer trusts date nothing, and
    // would not verify against the roots the package carries: left out.
    let tokens: Vec<_> = timestamps::recorded(vault)
        .await?
        .into_iter()
        .filter(|t| t.ledger_seq < size)
        .collect();
    let (tokens, left_out): (Vec<_>, Vec<_>) = timestamps::check_all(
        vault,
        tokens,
        &timestamps::TsaTrust::load(vault).await?,
        std::time::SystemTime::now(),
    )?
    .into_iter()
    .partition(|c| c.problems.is_empty());
    let tokens: Vec<_> = tokens.into_iter().map(|c| c.token).collect();
    let timestamps_left_out: Vec<String> = left_out.into_iter().flat_map(|c| c.problems).collect();
    seqs.extend(tokens.iter().map(|t| t.ledger_seq));
    // The case itself (incidents, evidence records, claims, remains, pseudonymous witnesses):
    // every event, with its proof. Sealed identities are never part of these events.
    let case_events: Vec<u64> = match &opts.case {
        Some(c) => vault
            .catalog()
            .case_events(c)
            .await?
            .into_iter()
            .map(|r| r.seq)
            .filter(|s| *s < size)
            .collect(),
        None => Vec::new(),
    };
    seqs.extend(&case_events);

    // 5. Write the bag.
    let mut writer = BagWriter::create(out)
        .map_err(|e| AppError::Invalid(format!("cannot create the package: {e}")))?;
    writer = writer.on_progress(progress);
    let mut namer = PathNamer::new();
    let mut payloads = Vec::new();
    let mut packaged = Vec::new();
    for item in &items {
        let id = item.id.to_string();
        let payload_path = if withheld.contains_key(&id) {
            None
        } else {
            let path = format!("{id}/{}", namer.name(&item.original_name));
            let file = vault
                .blobs()
                .local_path(&item.sha256, false)
                .ok_or_else(|| AppError::Invalid("export needs a local blob store".into()))?;
            payloads.push(
                Payload::from_file(path.clone(), file)
                    .size_hint(item.size)
                    .expect_sha256(*item.sha256.as_bytes()),
            );
            Some(format!("data/{path}"))
        };
        let metadata = match vault
            .catalog()
            .metadata(&item.sha256, custody_extract::EXTRACTOR)
            .await?
        {
            Some(row) => serde_json::from_str(&row.record).ok(),
            None => None,
        };
        packaged.push(PackagedItem {
            id: id.clone(),
            sha256: item.sha256,
            size: item.size,
            media_type: item.media_type.clone(),
            original_name: item.original_name.clone(),
            case: item.case.clone(),
            entry: item.ledger_seq,
            history: histories.get(&id).cloned().unwrap_or_default(),
            payload: payload_path,
            withheld: withheld.get(&id).cloned(),
            derived_from: derived_of.get(&id).cloned(),
            metadata,
        });
    }
    writer.add_payloads(payloads).map_err(bag_err)?;

    let mut tags = TagBatch::default();
    let mut tag = |w: &mut BagWriter, path: &str, bytes: &[u8]| tags.add(w, path, bytes);
    let verifier = vault.verifier();
    let cp = Checkpoint::open(&checkpoint_note, verifier)?;
    tag(
        &mut writer,
        "custody/vkey",
        format!("{}\n", verifier.to_vkey()).as_bytes(),
    )?;
    tag(
        &mut writer,
        "custody/checkpoint",
        checkpoint_note.as_bytes(),
    )?;
    let mut included_entries = Vec::new();
    {
        let ledger = vault.ledger();
        for &seq in &seqs {
            let bytes = ledger.read(seq)?;
            let path = ledger.tree().inclusion_proof(seq, size)?;
            let proof = InclusionProof::new(seq, size, &path);
            tag(
                &mut writer,
                &format!("custody/entries/{}.json", entry_name(seq)),
                &bytes,
            )?;
            tag(
                &mut writer,
                &format!("custody/proofs/{}.json", entry_name(seq)),
                serde_json::to_string(&proof)
                    .expect("serialises")
                    .as_bytes(),
            )?;
            included_entries.push(Entry::parse(&bytes, seq)?);
        }
    }
    // Timestamped checkpoints, their tokens, and consistency proofs up to the package's.
    let stamped_sizes: BTreeSet<u64> = tokens.iter().map(|t| t.checkpoint_size).collect();
    let ts_root = vault.dir().join(LEDGER_DIR).join(TIMESTAMPS_DIR);
    for &old in &stamped_sizes {
        let note = vault.ledger().read_checkpoint(old)?;
        tag(
            &mut writer,
            &format!("custody/checkpoints/{}", entry_name(old)),
            note.as_bytes(),
        )?;
        let hashes = vault.ledger().tree().consistency_proof(old, size)?;
        let proof = ConsistencyProof::new(old, size, &hashes);
        tag(
            &mut writer,
            &format!(
                "custody/consistency/{}-{}.json",
                entry_name(old),
                entry_name(size)
            ),
            serde_json::to_string(&proof)
                .expect("serialises")
                .as_bytes(),
        )?;
    }
    for t in &tokens {
        let stem = t.token.trim_end_matches(".tst");
        for ext in ["tst", "tsr", "certs.pem", "json"] {
            let src = ts_root.join(format!("{stem}.{ext}"));
            if let Ok(bytes) = std::fs::read(&src) {
                tag(
                    &mut writer,
                    &format!("custody/timestamps/{stem}.{ext}"),
                    &bytes,
                )?;
            }
        }
    }
    let roots = crate::anchors::TSA_ROOTS.trusted_der(vault).await?;
    if !roots.is_empty() {
        tag(
            &mut writer,
            "custody/tsa-roots.pem",
            custody_timestamp::certificates_pem(&roots).as_bytes(),
        )?;
    }
    if let (Some(c), false) = (&opts.case, case_events.is_empty()) {
        let json =
            crate::cases::exchange::render(vault, c, crate::cases::exchange::Format::CaseJson)
                .await?;
        tag(&mut writer, "custody/case.json", json.as_bytes())?;
    }
    let exported_at = Timestamp::now();
    let profile = json!({
        "profile": PROFILE_ID,
        "version": PROFILE_VERSION,
        "origin": vault.config().origin,
        "vault_name": vault.config().name,
        "vkey": verifier.to_vkey(),
        "checkpoint_size": size,
        "case": opts.case,
        "exported_at": exported_at,
        "exported_by": vault.actor(),
        "redacted": !withheld.is_empty(),
        "case_events": case_events.len(),
    });
    tag(
        &mut writer,
        "custody/profile.json",
        (serde_json::to_string_pretty(&profile).expect("serialises") + "\n").as_bytes(),
    )?;
    tag(
        &mut writer,
        "custody/items.json",
        (serde_json::to_string_pretty(&packaged).expect("serialises") + "\n").as_bytes(),
    )?;
    let report = crate::report::package_report(&crate::report::ReportInput {
        vault_name: &vault.config().name,
        origin: &vault.config().origin,
        vkey: &verifier.to_vkey(),
        case: opts.case.as_deref(),
        exported_at,
        exported_by: vault.actor(),
        checkpoint: &cp,
        items: &packaged,
        entries: &included_entries,
        tokens: &tokens,
    });
    tag(&mut writer, "report.html", report.as_bytes())?;
    tags.flush(&mut writer)?;

    let mut labels = vec![
        (
            "Custody-Profile".to_owned(),
            format!("{PROFILE_ID}/{PROFILE_VERSION}"),
        ),
        ("Custody-Origin".to_owned(), vault.config().origin.clone()),
        ("Custody-Checkpoint-Size".to_owned(), size.to_string()),
    ];
    if let Some(c) = &opts.case {
        labels.push(("Custody-Case".to_owned(), c.clone()));
    }
    let info = BagInfo {
        source_organization: Some(vault.config().name.clone()),
        contact_name: Some(
            opts.contact
                .clone()
                .unwrap_or_else(|| vault.actor().to_owned()),
        ),
        contact_email: opts.contact_email.clone(),
        external_identifier: Some(format!(
            "{}/{}",
            vault.config().origin,
            opts.case.as_deref().unwrap_or("items")
        )),
        external_description: Some(format!(
            "Evidence package: {} item(s){} with their custody ledger entries, proofs and signed checkpoint",
            packaged.len(),
            opts.case
                .as_ref()
                .map(|c| format!(" of case {c}"))
                .unwrap_or_default()
        )),
        bag_software_agent: Some(format!("custody {}", env!("CARGO_PKG_VERSION"))),
        bagging_date: Some(BagDate::today_utc()),
        labels,
        ..Default::default()
    };
    let summary = writer.finish(&info).map_err(bag_err)?;
    let package_id = hex::encode(summary.tagmanifest_sha256);

    // 6. The export itself is a custody event of the sending vault.
    let pending = Pending {
        action: Action::PackageExported,
        item: None,
        sha256: Some(Digest::from_bytes(summary.tagmanifest_sha256)),
        details: json!({
            "case": opts.case,
            "checkpoint_size": size,
            "destination": std::path::absolute(out).unwrap_or_else(|_| out.to_owned()).to_string_lossy(),
            "items": packaged.iter().filter(|i| i.payload.is_some()).map(|i| i.id.clone()).collect::<Vec<_>>(),
            "package_id": package_id,
            "payload_oxum": format!("{}.{}", summary.payload_bytes, summary.payload_files),
            "withheld": withheld.keys().collect::<Vec<_>>(),
        }),
    };
    let entries = vault.commit(vec![pending], &[]).await?;
    Ok(ExportReport {
        package: summary.path,
        package_id,
        items: packaged.len(),
        withheld: withheld.len(),
        derived: derived_of.len(),
        payload_bytes: summary.payload_bytes,
        entries: seqs.len(),
        checkpoint_size: size,
        timestamps: tokens.len(),
        timestamps_left_out,
        ledger_seq: entries[0].seq,
    })
}

/// Bytes of tag files gathered before they are written.
const TAG_BATCH_BYTES: usize = 32 << 20;

/// Tag files (thousands of small ledger entries and proofs) gathered and written together,
/// side by side; a batch is bounded so that a very large case does not sit in memory.
#[derive(Default)]
struct TagBatch {
    files: Vec<(String, Vec<u8>)>,
    bytes: usize,
}

impl TagBatch {
    fn add(&mut self, w: &mut BagWriter, path: &str, bytes: &[u8]) -> Result<(), AppError> {
        self.bytes += bytes.len();
        self.files.push((path.to_owned(), bytes.to_vec()));
        if self.bytes >= TAG_BATCH_BYTES {
            self.flush(w)?;
        }
        Ok(())
    }

    fn flush(&mut self, w: &mut BagWriter) -> Result<(), AppError> {
        self.bytes = 0;
        w.add_tag_files(std::mem::take(&mut self.files))
            .map(|_| ())
            .map_err(bag_err)
    }
}

fn bag_err(e: custody_package::PackageError) -> AppError {
    AppError::Invalid(format!("writing the package: {e}"))
}
