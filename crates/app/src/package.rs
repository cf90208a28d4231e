//! `custody verify-package`: a package checked without trusting anything in it but
//! arithmetic and signatures (docs/design/bagit-profile.md §8).
//!
//! First the bag, strictly (RFC 8493, crate `custody-package`); then the Custody profile:
//! the checkpoint's signature, every entry's inclusion proof, consistency proofs from
//! earlier checkpoints, every item's bytes against its ledger entry, redacted copies
//! against their originals, and RFC 3161 tokens. Only tag files the bag validation
//! verified are read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use custody_ledger::{Checkpoint, ConsistencyProof, Entry, InclusionProof, Verifier};
use custody_model::{Action, Digest};
use custody_package::{CheckedBag, Problem, ProblemKind, ValidateOptions, validate};
use serde::Serialize;

use crate::export::{PROFILE_ID, PROFILE_VERSION, PackagedItem};

#[derive(Clone, Debug, Default)]
pub struct PackageCheckOptions {
    /// The sender's verifier key obtained independently; without it the key in the
    /// package is used and the report says so.
    pub trusted_vkey: Option<String>,
    /// PEM roots for RFC 3161 tokens; without them the package's own are used, if any.
    pub tsa_roots: Option<PathBuf>,
    /// On import: the TSA roots the receiving vault's ledger records (PEM), used when
    /// no file is given; like a file's, they were obtained apart from the package.
    pub vault_roots: Option<Vec<u8>>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PackageReport {
    pub ok: bool,
    pub problems: Vec<String>,
    pub notes: Vec<String>,
    pub origin: Option<String>,
    pub vkey: Option<String>,
    pub checkpoint_size: Option<u64>,
    pub items: usize,
    pub withheld: usize,
    pub entries: usize,
    pub timestamps: usize,
    pub payload_files: u64,
    pub payload_bytes: u64,
    pub bytes_hashed: u64,
}

/// What the profile check learned, for import.
#[derive(Clone, Debug, Default)]
pub struct Contents {
    pub profile: serde_json::Value,
    pub verifier: Option<Verifier>,
    pub checkpoint: Option<Checkpoint>,
    pub checkpoint_note: String,
    pub entries: BTreeMap<u64, (Vec<u8>, Entry)>,
    pub items: Vec<PackagedItem>,
    /// The sender's RFC 3161 tokens whose chain verified to TSA roots given with
    /// `--tsa-roots` (the package's own roots prove nothing about the sender's clock).
    pub verified_tokens: Vec<crate::timestamps::RecordedToken>,
}

struct Profile<'a> {
    opts: &'a PackageCheckOptions,
    out: std::sync::Mutex<(Contents, Vec<String>)>,
}

fn read_verified(bag: &CheckedBag<'_>, path: &str, problems: &mut Vec<Problem>) -> Option<Vec<u8>> {
    if !bag.is_verified(path) {
        problems.push(Problem::new(
            ProblemKind::Profile,
            Some(path),
            None,
            "missing, or not verified by the tag manifests",
        ));
        return None;
    }
    match bag.read_tag_file(path) {
        Ok(b) => Some(b),
        Err(p) => {
            problems.push(p);
            None
        }
    }
}

fn profile_problem(problems: &mut Vec<Problem>, path: &str, msg: impl AsRef<str>) {
    problems.push(Problem::new(ProblemKind::Profile, Some(path), None, msg));
}

impl custody_package::TagCheck for Profile<'_> {
    fn check(&self, bag: &CheckedBag<'_>, problems: &mut Vec<Problem>) {
        let mut c = Contents::default();
        let mut notes = Vec::new();
        self.run(bag, problems, &mut c, &mut notes);
        *self.out.lock().expect("not poisoned") = (c, notes);
    }
}

impl Profile<'_> {
    fn run(
        &self,
        bag: &CheckedBag<'_>,
        problems: &mut Vec<Problem>,
        c: &mut Contents,
        notes: &mut Vec<String>,
    ) {
        // Profile declaration.
        let Some(bytes) = read_verified(bag, "custody/profile.json", problems) else {
            return;
        };
        let Ok(profile) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return profile_problem(problems, "custody/profile.json", "not JSON");
        };
        if profile["profile"] != PROFILE_ID || profile["version"] != PROFILE_VERSION {
            return profile_problem(
                problems,
                "custody/profile.json",
                format!(
                    "not a {PROFILE_ID} version {PROFILE_VERSION} package (found {} {})",
                    profile["profile"], profile["version"]
                ),
            );
        }
        c.profile = profile;

        // The key, the checkpoint and its signature.
        let Some(vkey) = read_verified(bag, "custody/vkey", problems) else {
            return;
        };
        let vkey = String::from_utf8_lossy(&vkey).trim().to_owned();
        let verifier = match Verifier::from_vkey(&vkey) {
            Ok(v) => v,
            Err(e) => return profile_problem(problems, "custody/vkey", e.to_string()),
        };
        match &self.opts.trusted_vkey {
            Some(t) if t.trim() != vkey => {
                return profile_problem(problems, "custody/vkey", format!("the package's key {vkey} is not the trusted key {}", t.trim()));
            }
            Some(_) => {}
            None => notes.push(
                "the verifier key was taken from the package itself; obtain the sender's key independently and pass --vkey".into(),
            ),
        }
        let Some(note) = read_verified(bag, "custody/checkpoint", problems) else {
            return;
        };
        let note = String::from_utf8_lossy(&note).into_owned();
        let cp = match Checkpoint::open(&note, &verifier) {
            Ok(cp) => cp,
            Err(e) => return profile_problem(problems, "custody/checkpoint", e.to_string()),
        };
        if c.profile["checkpoint_size"].as_u64() != Some(cp.size) {
            profile_problem(
                problems,
                "custody/profile.json",
                "checkpoint_size differs from the checkpoint's size",
            );
        }

        // Entries and their inclusion proofs.
        for path in bag
            .tag_files()
            .iter()
            .filter(|p| p.starts_with("custody/entries/"))
        {
            let name = path
                .trim_start_matches("custody/entries/")
                .trim_end_matches(".json");
            let Ok(seq) = name.parse::<u64>() else {
                profile_problem(
                    problems,
                    path,
                    "entry files are named by their 20-digit sequence number",
                );
                continue;
            };
            let Some(bytes) = read_verified(bag, path, problems) else {
                continue;
            };
            let entry = match Entry::parse(&bytes, seq) {
                Ok(e) => e,
                Err(e) => {
                    profile_problem(problems, path, e.to_string());
                    continue;
                }
            };
            let proof_path = format!("custody/proofs/{name}.json");
            let Some(pb) = read_verified(bag, &proof_path, problems) else {
                continue;
            };
            match serde_json::from_slice::<InclusionProof>(&pb) {
                Err(e) => profile_problem(
                    problems,
                    &proof_path,
                    format!("not an inclusion proof: {e}"),
                ),
                Ok(p) if p.index != seq || p.tree_size != cp.size => profile_problem(
                    problems,
                    &proof_path,
                    format!(
                        "the proof is for entry {} in a tree of {}, not entry {seq} in {}",
                        p.index, p.tree_size, cp.size
                    ),
                ),
                Ok(p) => {
                    if let Err(e) = p.verify(&bytes, &cp.root) {
                        profile_problem(
                            problems,
                            &proof_path,
                            format!("entry {seq} is not in the signed ledger: {e}"),
                        );
                    }
                }
            }
            c.entries.insert(seq, (bytes, entry));
        }

        // Earlier checkpoints and consistency proofs.
        for path in bag
            .tag_files()
            .iter()
            .filter(|p| p.starts_with("custody/checkpoints/"))
        {
            let name = path.trim_start_matches("custody/checkpoints/");
            let Some(b) = read_verified(bag, path, problems) else {
                continue;
            };
            let old = match Checkpoint::open(&String::from_utf8_lossy(&b), &verifier) {
                Ok(o) => o,
                Err(e) => {
                    profile_problem(problems, path, e.to_string());
                    continue;
                }
            };
            if name != format!("{:020}", old.size) {
                profile_problem(
                    problems,
                    path,
                    format!("holds a checkpoint of size {}", old.size),
                );
            }
            let cons = format!("custody/consistency/{name}-{:020}.json", cp.size);
            let Some(pb) = read_verified(bag, &cons, problems) else {
                continue;
            };
            match serde_json::from_slice::<ConsistencyProof>(&pb) {
                Err(e) => profile_problem(problems, &cons, format!("not a consistency proof: {e}")),
                Ok(p) => {
                    if p.old_size != old.size || p.new_size != cp.size {
                        profile_problem(problems, &cons, "the proof is for other tree sizes");
                    } else if let Err(e) = p.verify(&old.root, &cp.root) {
                        profile_problem(
                            problems,
                            &cons,
                            format!(
                                "checkpoint {} is not a prefix of checkpoint {}: {e}",
                                old.size, cp.size
                            ),
                        );
                    }
                }
            }
        }

        // Items: bytes against ledger entries.
        let Some(ib) = read_verified(bag, "custody/items.json", problems) else {
            return;
        };
        let items: Vec<PackagedItem> = match serde_json::from_slice(&ib) {
            Ok(i) => i,
            Err(e) => {
                return profile_problem(problems, "custody/items.json", format!("unreadable: {e}"));
            }
        };
        let manifest = manifest_digests(bag, problems);
        let by_id: BTreeMap<&str, &PackagedItem> =
            items.iter().map(|i| (i.id.as_str(), i)).collect();
        for item in &items {
            let where_ = format!("custody/items.json ({})", item.id);
            let Some((_, entry)) = c.entries.get(&item.entry) else {
                profile_problem(
                    problems,
                    &where_,
                    format!("its entry {} is not in the package", item.entry),
                );
                continue;
            };
            let creates = matches!(
                entry.action,
                Action::ItemCollected | Action::ItemDerived | Action::ItemReceived
            );
            if !creates || entry.item.map(|i| i.to_string()) != Some(item.id.clone()) {
                profile_problem(
                    problems,
                    &where_,
                    format!("entry {} does not record this item's arrival", item.entry),
                );
                continue;
            }
            if entry.sha256 != Some(item.sha256) {
                profile_problem(
                    problems,
                    &where_,
                    format!(
                        "its SHA-256 differs from the one in ledger entry {}",
                        item.entry
                    ),
                );
            }
            if entry.details.get("size").and_then(|s| s.as_u64()) != Some(item.size) {
                profile_problem(
                    problems,
                    &where_,
                    format!(
                        "its size differs from the one in ledger entry {}",
                        item.entry
                    ),
                );
            }
            for seq in &item.history {
                if !c.entries.contains_key(seq) {
                    profile_problem(
                        problems,
                        &where_,
                        format!("its history entry {seq} is not in the package"),
                    );
                }
            }
            match (&item.payload, &item.withheld) {
                (Some(p), _) => match manifest.get(p.as_str()) {
                    Some(d) if *d == item.sha256 => {}
                    Some(_) => profile_problem(
                        problems,
                        &where_,
                        format!("{p} does not hold the bytes its ledger entry names"),
                    ),
                    None => profile_problem(
                        problems,
                        &where_,
                        format!("{p} is not in the payload manifest"),
                    ),
                },
                (None, Some(_)) => {}
                (None, None) => profile_problem(
                    problems,
                    &where_,
                    "has neither payload nor a reason for withholding it",
                ),
            }
            if let Some(orig) = &item.derived_from {
                let linked = entry.action == Action::ItemDerived
                    && entry.detail_str("derived_from") == Some(orig.as_str())
                    && by_id
                        .get(orig.as_str())
                        .map(|o| o.sha256.to_hex())
                        .as_deref()
                        == entry.detail_str("derived_from_sha256");
                if !linked {
                    profile_problem(
                        problems,
                        &where_,
                        format!(
                            "its ledger entry does not link it to {orig} and that item's digest"
                        ),
                    );
                }
            }
        }
        let listed: std::collections::BTreeSet<&str> =
            items.iter().filter_map(|i| i.payload.as_deref()).collect();
        for p in bag.payload_files() {
            if !listed.contains(p) {
                profile_problem(
                    problems,
                    p,
                    "payload file not described in custody/items.json",
                );
            }
        }
        c.items = items;
        c.verifier = Some(verifier);
        c.checkpoint = Some(cp);
        c.checkpoint_note = note;

        c.verified_tokens = self.check_timestamps(bag, problems, c, notes);
        if !bag.is_verified("report.html") {
            profile_problem(
                problems,
                "report.html",
                "missing, or not verified by the tag manifests",
            );
        }
    }

    fn check_timestamps(
        &self,
        bag: &CheckedBag<'_>,
        problems: &mut Vec<Problem>,
        c: &Contents,
        notes: &mut Vec<String>,
    ) -> Vec<crate::timestamps::RecordedToken> {
        let mut verified = Vec::new();
        let tokens: Vec<_> = c
            .entries
            .values()
            .filter_map(|(_, e)| crate::timestamps::parse_recorded(e))
            .collect();
        if tokens.is_empty() {
            return verified;
        }
        let roots_pem = match (&self.opts.tsa_roots, &self.opts.vault_roots) {
            (Some(p), _) => std::fs::read(p).ok(),
            (None, Some(pem)) => Some(pem.clone()),
            (None, None) => {
                if bag.is_verified("custody/tsa-roots.pem") {
                    notes.push("TSA roots were taken from the package itself; pass --tsa-roots with roots you obtained independently".into());
                }
                bag.read_tag_file("custody/tsa-roots.pem").ok()
            }
        };
        let roots = roots_pem
            .and_then(|p| custody_timestamp::TrustAnchors::from_pem(&p).ok())
            .unwrap_or_default();
        // Only roots obtained apart from the package make its tokens evidence of time.
        let independent = self.opts.tsa_roots.is_some() || self.opts.vault_roots.is_some();
        for t in tokens {
            let tst = format!("custody/timestamps/{}", t.token);
            let Some(der) = read_verified(bag, &tst, problems) else {
                continue;
            };
            if Digest::of(&der) != t.token_sha256 {
                profile_problem(
                    problems,
                    &tst,
                    format!(
                        "differs from the token recorded in ledger entry {}",
                        t.ledger_seq
                    ),
                );
                continue;
            }
            let stamped = if Some(t.checkpoint_size) == c.checkpoint.as_ref().map(|cp| cp.size) {
                Some(c.checkpoint_note.clone().into_bytes())
            } else {
                read_verified(
                    bag,
                    &format!("custody/checkpoints/{:020}", t.checkpoint_size),
                    problems,
                )
            };
            let Some(stamped) = stamped else { continue };
            if Digest::of(&stamped) != t.checkpoint_sha256 {
                profile_problem(
                    problems,
                    &tst,
                    "the checkpoint in the package is not the one that was stamped",
                );
                continue;
            }
            let certs_path = tst.replace(".tst", ".certs.pem");
            let extra = bag
                .read_tag_file(&certs_path)
                .ok()
                .and_then(|pem| {
                    custody_timestamp::certificates_from_pem(&pem, "token certificates").ok()
                })
                .unwrap_or_default();
            let v = custody_timestamp::verify(
                &der,
                t.checkpoint_sha256.as_bytes(),
                &roots,
                &extra,
                SystemTime::now(),
            );
            if let Some(p) = crate::timestamps::recorded_gen_time_problem(&t, &v) {
                profile_problem(problems, &tst, p);
                continue;
            }
            match &v.status {
                custody_timestamp::Status::ValidNow => {
                    if independent {
                        verified.push(t);
                    }
                }
                custody_timestamp::Status::ValidAtGenTime { note } => {
                    notes.push(format!(
                        "{tst}: valid at its genTime {}; {note}",
                        t.gen_time
                    ));
                    if independent {
                        verified.push(t);
                    }
                }
                custody_timestamp::Status::Invalid { reason } => {
                    // On import, a token whose chain does not lead to a root the vault
                    // trusts dates nothing there, but is no fault of the package.
                    let chain_only = v.checks.iter().all(|k| {
                        k.outcome != custody_timestamp::Outcome::Fail
                            || k.check == custody_timestamp::CheckKind::Chain
                    });
                    if self.opts.vault_roots.is_some() && chain_only {
                        notes.push(format!(
                            "{tst}: does not verify to the TSA roots this vault trusts ({reason}); it dates nothing here (trust its TSA's root with `custody import --tsa-roots FILE` to count it)"
                        ));
                    } else if roots.is_empty() {
                        notes.push(format!(
                            "{tst}: no TSA roots to check its chain against (pass --tsa-roots)"
                        ));
                    } else {
                        profile_problem(problems, &tst, reason);
                    }
                }
            }
        }
        verified
    }
}

/// Payload path → SHA-256 from `manifest-sha256.txt` (already validated by the bag check).
fn manifest_digests(bag: &CheckedBag<'_>, problems: &mut Vec<Problem>) -> BTreeMap<String, Digest> {
    let mut out = BTreeMap::new();
    let Some(bytes) = read_verified(bag, "manifest-sha256.txt", problems) else {
        return out;
    };
    for line in String::from_utf8_lossy(&bytes).lines() {
        if let Some((hex, path)) = line.split_once(char::is_whitespace) {
            let path = custody_package::path::decode_manifest_path(path.trim_start(), true)
                .unwrap_or_default();
            if let Ok(d) = hex.parse() {
                out.insert(path, d);
            }
        }
    }
    out
}

/// Verifies a package; returns the report and, for import, what the package holds.
pub fn verify_package(
    dir: &Path,
    opts: &PackageCheckOptions,
    progress: Option<custody_package::Progress>,
) -> (PackageReport, Contents) {
    let profile = Profile {
        opts,
        out: std::sync::Mutex::new((Contents::default(), Vec::new())),
    };
    let vopts = ValidateOptions {
        progress,
        ..ValidateOptions::default()
    };
    let bag = validate(dir, &vopts, Some(&profile));
    let (contents, notes) = profile.out.into_inner().expect("not poisoned");
    let report = PackageReport {
        ok: bag.ok,
        problems: bag.problems.iter().map(|p| p.message.clone()).collect(),
        notes,
        origin: contents.profile["origin"].as_str().map(str::to_owned),
        vkey: contents.verifier.as_ref().map(|v| v.to_vkey()),
        checkpoint_size: contents.checkpoint.as_ref().map(|c| c.size),
        items: contents.items.len(),
        withheld: contents
            .items
            .iter()
            .filter(|i| i.payload.is_none())
            .count(),
        entries: contents.entries.len(),
        timestamps: contents
            .entries
            .values()
            .filter(|(_, e)| e.action == Action::CheckpointTimestamped)
            .count(),
        payload_files: bag.payload_files,
        payload_bytes: bag.payload_bytes,
        bytes_hashed: bag.bytes_hashed,
    };
    (report, contents)
}
