//! `custody verify`: everything a vault claims, checked against everything else
//! (formats.md §7). Each problem names what is wrong and where.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use custody_ledger::{Checkpoint, Entry, Hash, Tree};
use custody_model::{Action, Digest, ItemId};
use custody_store::{Catalog, DumpRow, SqliteCatalog};
use serde::Serialize;
use serde_json::json;

use crate::error::{AppError, Result};
use crate::projection;
use crate::rehash::{self, Rehash};
use crate::vault::{KEYS_DIR, Pending, SIGNING_KEY, Vault};

#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// Re-hash every blob.
    pub full: bool,
    /// A checkpoint published earlier that the ledger must still be consistent with.
    pub checkpoint_file: Option<PathBuf>,
    pub threads: usize,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Problem {
    pub kind: &'static str,
    pub message: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub full: bool,
    pub problems: Vec<Problem>,
    pub notes: Vec<String>,
    pub entries: u64,
    pub checkpoints: u64,
    pub items: u64,
    pub blobs: u64,
    pub bytes_hashed: u64,
    pub timestamps: u64,
    /// The ledger entry recording this verification, when one was written.
    pub ledger_seq: Option<u64>,
}

impl VerifyReport {
    fn problem(&mut self, kind: &'static str, message: impl Into<String>) {
        self.problems.push(Problem {
            kind,
            message: message.into(),
        });
    }
    /// Problems that make the ledger itself untrustworthy.
    pub fn ledger_ok(&self) -> bool {
        !self
            .problems
            .iter()
            .any(|p| matches!(p.kind, "ledger" | "checkpoint" | "key"))
    }
}

pub trait VerifyObserver: Send + Sync {
    fn hashing(&self, _total_bytes: u64) {}
    fn bytes(&self, _n: u64) {}
}

pub struct Silent;
impl VerifyObserver for Silent {}

/// "entry 7 was" / "entries 7..9 were".
fn span(first: u64, last: u64) -> String {
    if first == last {
        format!("entry {first} was")
    } else {
        format!("entries {first}..{last} were")
    }
}

fn short(d: &Digest) -> String {
    d.to_hex()[..16].to_owned()
}

pub async fn verify(
    vault: &Vault,
    opts: &VerifyOptions,
    observer: &dyn VerifyObserver,
) -> Result<VerifyReport> {
    let mut report = VerifyReport {
        full: opts.full,
        ..Default::default()
    };
    let verifier = vault.verifier().clone();
    // The re-hash of every blob runs on its own threads while the ledger is checked.
    let rehash = opts
        .full
        .then(|| Rehash::start(vault.blobs().clone(), opts.threads));

    // Entries only this opening's recovery signed: a command that stopped part-way
    // leaves them, and so would anyone who wrote to the ledger file without the key.
    let r = vault.recovery();
    if r.checkpoint_signed && r.entries_signed > 0 {
        let len = vault.ledger().len();
        let first = len.saturating_sub(r.entries_signed);
        report.notes.push(format!(
            "{} covered by no checkpoint until this verification opened the vault and signed one: a command that stopped part-way leaves such entries; if none did, someone wrote them to the ledger file without the vault's key (look at them with `custody log entry N`)",
            span(first, len - 1)
        ));
    }

    // 1. Keys.
    let key_path = vault.dir().join(KEYS_DIR).join(SIGNING_KEY);
    match std::fs::read_to_string(&key_path) {
        Ok(text) => {
            let mut seed = [0u8; 32];
            if hex::decode_to_slice(text.trim(), &mut seed).is_err() {
                report.problem("key", "keys/ledger.key is not a 64-hex-digit Ed25519 seed");
            } else {
                match custody_ledger::Signer::from_seed(verifier.name(), seed) {
                    Ok(s) if s.verifier() == verifier => {}
                    _ => report.problem("key", "keys/ledger.key does not match keys/ledger.vkey"),
                }
            }
        }
        Err(e) => report.notes.push(format!("signing key not checked: {e}")),
    }

    // 2. Every entry, read straight from the ledger file.
    let mut entries: Vec<Option<Entry>> = Vec::new();
    let mut leaves: Vec<Hash> = Vec::new();
    let mut index_disagrees: Vec<u64> = Vec::new();
    {
        let ledger = vault.ledger();
        let mut parse_errors = Vec::new();
        ledger.scan(|seq, bytes| {
            let leaf = Hash::leaf(bytes);
            if ledger.indexed_leaf(seq).is_some_and(|l| l != leaf) {
                index_disagrees.push(seq);
            }
            leaves.push(leaf);
            match Entry::parse(bytes, seq) {
                Ok(e) => entries.push(Some(e)),
                Err(e) => {
                    parse_errors.push(e.to_string());
                    entries.push(None);
                }
            }
        })?;
        for e in parse_errors {
            report.problem("ledger", e);
        }
        report.entries = leaves.len() as u64;
    }
    let tree = Tree::from_leaves(leaves.iter().copied());
    let n = tree.len();
    if let Some(Some(first)) = entries.first() {
        if first.action != Action::VaultCreated {
            report.problem(
                "ledger",
                format!(
                    "entry 0 is {:?}, not the vault's creation",
                    first.action.as_str()
                ),
            );
        }
    }
    if let Some(Some(key_entry)) = entries.get(1) {
        if key_entry.action == Action::KeyCreated
            && key_entry.detail_str("vkey") != Some(&verifier.to_vkey())
        {
            report.problem("key", "the vault's verifier key differs from the one recorded in entry 1 when the vault was created");
        }
    }

    // 3. Checkpoints: signed by the vault key and matching the ledger.
    let sizes = vault.ledger().checkpoint_sizes()?;
    report.checkpoints = sizes.len() as u64;
    let pinpoint = |upto: u64| -> String {
        let changed: Vec<String> = index_disagrees
            .iter()
            .filter(|s| **s < upto)
            .map(|s| s.to_string())
            .collect();
        if changed.is_empty() {
            String::new()
        } else {
            format!(
                " (entries that differ from what was indexed when written: {})",
                changed.join(", ")
            )
        }
    };
    if sizes.is_empty() {
        report.problem("checkpoint", "there is no signed checkpoint");
    }
    for &size in &sizes {
        let note = match vault.ledger().read_checkpoint(size) {
            Ok(n) => n,
            Err(e) => {
                report.problem("checkpoint", format!("checkpoint {size}: {e}"));
                continue;
            }
        };
        let cp = match Checkpoint::open(&note, &verifier) {
            Ok(cp) => cp,
            Err(e) => {
                report.problem("checkpoint", format!("checkpoint {size}: {e}"));
                continue;
            }
        };
        if cp.size != size {
            report.problem(
                "checkpoint",
                format!(
                    "checkpoint file {size} holds a checkpoint of size {}",
                    cp.size
                ),
            );
            continue;
        }
        if size > n {
            report.problem(
                "checkpoint",
                format!("checkpoint {size} covers {size} entries but the ledger holds only {n}: {} removed", span(n, size - 1)),
            );
            continue;
        }
        if tree.root_at(size)? != cp.root {
            report.problem(
                "checkpoint",
                format!(
                    "checkpoint {size} does not match the ledger: entries 0..{} were changed, removed or reordered since it was signed{}",
                    size - 1,
                    pinpoint(size)
                ),
            );
        }
    }
    if let Some(&latest) = sizes.last() {
        if latest < n {
            report.problem(
                "checkpoint",
                format!(
                    "{} not covered by any signed checkpoint",
                    span(latest, n - 1)
                        .replace(" was", " is")
                        .replace(" were", " are")
                ),
            );
        }
    }
    if let Some(path) = &opts.checkpoint_file {
        match std::fs::read_to_string(path) {
            Err(e) => report.problem("checkpoint", format!("{}: {e}", path.display())),
            Ok(note) => match Checkpoint::open(&note, &verifier) {
                Err(e) => report.problem("checkpoint", format!("{}: {e}", path.display())),
                Ok(cp) if cp.size > n => report.problem(
                    "checkpoint",
                    format!("{}: it covers {} entries but the ledger holds only {n}: the ledger was cut back", path.display(), cp.size),
                ),
                Ok(cp) => {
                    if tree.root_at(cp.size)? != cp.root {
                        report.problem(
                            "checkpoint",
                            format!("{}: the ledger is not consistent with this checkpoint of size {}: its history was rewritten", path.display(), cp.size),
                        );
                    }
                }
            },
        }
    }

    // 4. The catalog must be exactly what replaying the ledger gives.
    let replay = SqliteCatalog::in_memory().await?;
    let mut changes = Vec::new();
    let mut last = None;
    for e in entries.iter().flatten() {
        match projection::changes(e) {
            Ok(c) => changes.extend(c),
            Err(err) => report.problem("ledger", err.to_string()),
        }
        last = Some(e.seq);
    }
    if let Some(last) = last {
        replay.apply(&changes, last).await?;
    }
    let expected = replay.dump().await?;
    let actual = vault.catalog().dump().await?;
    compare_catalogs(&expected, &actual, &mut report);
    match vault.catalog().applied_seq().await? {
        Some(s) if s + 1 == n => {}
        Some(s) if s + 1 > n => report.problem(
            "catalog",
            format!("the catalog reflects {} ledger entries but the ledger holds only {n}: entries were removed from the ledger", s + 1),
        ),
        other => report.problem(
            "catalog",
            format!(
                "the catalog reflects {} of the ledger's {n} entries; opening the vault for writing replays the rest",
                other.map_or(0, |s| s + 1)
            ),
        ),
    }
    let items = replay.items(&Default::default()).await?;
    replay.close().await;
    report.items = items.len() as u64;

    // 5. Blobs named by the ledger.
    let mut blobs: BTreeMap<Digest, (u64, Vec<ItemId>)> = BTreeMap::new();
    for item in &items {
        blobs
            .entry(item.sha256)
            .or_insert((item.size, Vec::new()))
            .1
            .push(item.id);
    }
    report.blobs = blobs.len() as u64;
    let store = vault.blobs().clone();
    // With --full, the re-hash listed the store already: its sizes save a stat per blob.
    let rehashed = match rehash {
        Some(rehash) => Some(
            rehash
                .finish(&|total| observer.hashing(total), &|n| observer.bytes(n))
                .await
                .map_err(|e| AppError::io("re-hashing the blob store", std::io::Error::other(e)))?,
        ),
        None => None,
    };
    let listed: Option<HashMap<Digest, u64>> = rehashed
        .as_ref()
        .map(|r| r.listed.iter().copied().collect());
    let mut present = Vec::new();
    for (d, (size, ids)) in &blobs {
        let who = ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let stat = match listed.as_ref().and_then(|l| l.get(d)) {
            Some(s) => Some(*s),
            None => store.stat(d)?,
        };
        match stat {
            None => report.problem(
                "blob",
                format!(
                    "blob {} of {who} is missing from the blob store ({})",
                    short(d),
                    store.locate(d)
                ),
            ),
            Some(s) if s != *size => report.problem(
                "blob",
                format!(
                    "blob {} of {who} has {s} bytes, the ledger says {size} ({})",
                    short(d),
                    store.locate(d)
                ),
            ),
            Some(_) => present.push((*d, *size, who)),
        }
    }
    if let Some(rehashed) = &rehashed {
        for (d, size, who) in &present {
            let outcome = match rehashed.outcomes.get(d) {
                Some(o) => o.clone(),
                None => rehash::hash_one(store.as_ref(), d),
            };
            if outcome.is_ok() {
                report.bytes_hashed += size;
            }
            match outcome {
                Ok(actual) if actual == *d => {}
                Ok(actual) => report.problem(
                    "blob",
                    format!(
                        "blob {} of {who} is damaged: its bytes now hash to {} ({})",
                        short(d),
                        short(&actual),
                        store.locate(d)
                    ),
                ),
                Err(e) => report.problem(
                    "blob",
                    format!("blob {} of {who} could not be read: {e}", short(d)),
                ),
            }
        }
    }

    // 6. Trusted timestamps recorded in the ledger.
    let tokens: Vec<_> = entries
        .iter()
        .flatten()
        .filter(|e| e.action == Action::CheckpointTimestamped)
        .filter_map(|e| {
            let t = crate::timestamps::parse_recorded(e);
            if t.is_none() {
                report.problems.push(Problem {
                    kind: "timestamp",
                    message: format!(
                        "ledger entry {} records a token with unreadable details",
                        e.seq
                    ),
                });
            }
            t
        })
        .collect();
    report.timestamps = tokens.len() as u64;
    // Whom the vault trusts is what the ledger records; the files in keys/ are copies.
    let mut tsa_trust = crate::timestamps::TsaTrust::default();
    for file in [crate::anchors::TSA_ROOTS, crate::anchors::C2PA_ANCHORS] {
        let ledgered = match file.recorded_in(entries.iter().flatten()) {
            Ok(r) => r,
            Err(e) => {
                report.problem("trust", e.to_string());
                continue;
            }
        };
        let check = file.check(vault.dir(), &ledgered);
        for p in check.problems {
            report.problem("trust", p);
        }
        report.notes.extend(check.notes);
        match crate::timestamps::TsaTrust::of(&ledgered) {
            Ok(t) if file.file == crate::anchors::TSA_ROOTS.file => tsa_trust = t,
            Ok(_) => {}
            Err(e) => report.problem("trust", e.to_string()),
        }
    }
    for check in
        crate::timestamps::check_all(vault, tokens, &tsa_trust, std::time::SystemTime::now())?
    {
        // A root the vault withdrew is its own decision, not damage: the token is noted
        // as dating nothing.
        if check.withdrawn_root && check.problems.len() == 1 {
            report.notes.extend(check.problems);
            report.notes.extend(check.notes);
            continue;
        }
        for p in check.problems {
            report.problem("timestamp", p);
        }
        report.notes.extend(check.notes);
    }

    // Cases replay from the ledger; sealed records match their recorded digests.
    for p in crate::cases::replay_problems(entries.iter().flatten()) {
        report.problem("case", p);
    }
    let (sealed, sealed_notes) =
        crate::sealed::check_records(vault.dir(), entries.iter().flatten());
    for p in sealed {
        report.problem("sealed", p);
    }
    report.notes.extend(sealed_notes);

    // 7. Leftovers: harmless, but worth knowing.
    let staged = store.staged()?;
    if !staged.is_empty() {
        report.notes.push(format!(
            "{} staged copies wait for recovery (the next write cleans them up)",
            staged.len()
        ));
    }
    let referenced: BTreeSet<Digest> = blobs.keys().copied().collect();
    let listing = match rehashed {
        Some(r) => r.listed,
        None => store.list()?,
    };
    let extra: Vec<String> = listing
        .into_iter()
        .filter(|(d, _)| !referenced.contains(d))
        .map(|(d, _)| short(&d))
        .collect();
    if !extra.is_empty() {
        report.notes.push(format!(
            "{} blobs are not named by any ledger entry: {}",
            extra.len(),
            extra.join(", ")
        ));
    }

    report.ok = report.problems.is_empty();
    Ok(report)
}

fn compare_catalogs(expected: &[DumpRow], actual: &[DumpRow], report: &mut VerifyReport) {
    let key = |r: &DumpRow| (r.table, r.key.clone());
    let exp: BTreeMap<_, _> = expected.iter().map(|r| (key(r), &r.row)).collect();
    let act: BTreeMap<_, _> = actual.iter().map(|r| (key(r), &r.row)).collect();
    for ((table, k), row) in &exp {
        match act.get(&(*table, k.clone())) {
            None => report.problem(
                "catalog",
                format!("catalog row {table}/{k} is missing (the ledger records it)"),
            ),
            Some(a) if a != row => {
                report.problem(
                    "catalog",
                    format!(
                        "catalog row {table}/{k} differs from the ledger: {}",
                        field_diff(row, a)
                    ),
                );
            }
            Some(_) => {}
        }
    }
    for (table, k) in act.keys() {
        if !exp.contains_key(&(*table, k.clone())) {
            report.problem(
                "catalog",
                format!("catalog row {table}/{k} is not explained by any ledger entry"),
            );
        }
    }
}

/// Names the fields that differ between two rows in canonical JSON form.
fn field_diff(expected: &str, actual: &str) -> String {
    let (Ok(e), Ok(a)) = (
        serde_json::from_str::<serde_json::Value>(expected),
        serde_json::from_str::<serde_json::Value>(actual),
    ) else {
        return "unreadable row".into();
    };
    let mut diffs = Vec::new();
    diff_values("", &e, &a, &mut diffs);
    diffs.join("; ")
}

fn diff_values(path: &str, e: &serde_json::Value, a: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (e, a) {
        (Value::Object(eo), Value::Object(ao)) => {
            let keys: BTreeSet<&String> = eo.keys().chain(ao.keys()).collect();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                diff_values(
                    &p,
                    eo.get(k).unwrap_or(&Value::Null),
                    ao.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(ea), Value::Array(aa)) if ea.len() == aa.len() => {
            for (i, (x, y)) in ea.iter().zip(aa).enumerate() {
                diff_values(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ if e != a => out.push(format!("{path}: catalog has {a}, ledger says {e}")),
        _ => {}
    }
}

/// Records a verification in the ledger (only when the ledger itself checked out).
pub async fn record(vault: &Vault, report: &mut VerifyReport) -> Result<()> {
    if !vault.is_writer() || !report.ledger_ok() {
        return Ok(());
    }
    let pending = Pending {
        action: Action::VaultVerified,
        item: None,
        sha256: None,
        details: json!({
            "blobs_checked": report.blobs,
            "bytes_hashed": report.bytes_hashed,
            "full": report.full,
            "ok": report.ok,
            "problems": report.problems.len(),
            "tree_size": report.entries,
        }),
    };
    let entries = vault.commit(vec![pending], &[]).await?;
    report.ledger_seq = entries.first().map(|e| e.seq);
    Ok(())
}

/// Opens a vault for verification: for writing when possible (so the verification is
/// recorded), read-only when the ledger is too damaged to write to.
pub async fn open_for_verify(
    dir: &std::path::Path,
    actor: &str,
) -> Result<(Vault, Option<String>)> {
    match Vault::open(dir, crate::Mode::Write, actor).await {
        Ok(v) => Ok((v, None)),
        Err(
            e @ (AppError::LedgerMismatch { .. }
            | AppError::Ledger(_)
            | AppError::Catalog(_)
            | AppError::BadConfig { .. }),
        ) => {
            let why = e.to_string();
            let v = Vault::open(dir, crate::Mode::Read, actor).await?;
            Ok((v, Some(why)))
        }
        Err(e) => Err(e),
    }
}
