//! Trusted timestamps over checkpoints (formats.md §4.5, timestamps.md).
//!
//! `custody timestamp` asks one or more RFC 3161 TSAs to stamp the latest signed
//! checkpoint (the SHA-256 of the checkpoint file as stored). Each token is kept beside
//! the checkpoint under `ledger/timestamps/<size>/` and recorded in a
//! `checkpoint.timestamped` ledger entry, so the ledger itself says which tokens exist.
//! TSAs can be configured so that every command that changes the vault stamps the new
//! checkpoint once the last stamp is old enough.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use custody_ledger::Entry;
use custody_model::{Action, Digest, Timestamp};
use custody_timestamp::{CheckKind, Outcome, Status, TrustAnchors};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{AppError, Result};
use crate::vault::{LEDGER_DIR, Pending, Vault};

pub const TIMESTAMPS_DIR: &str = "timestamps";
pub const TSA_CONFIG: &str = "timestamping.json";

/// Which TSAs stamp this vault's checkpoints, and how often (`<vault>/timestamping.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampingConfig {
    pub tsas: Vec<String>,
    /// Stamp again when the newest token is older than this, on any command that changes
    /// the vault.
    pub every_seconds: u64,
}

impl TimestampingConfig {
    pub fn load(vault_dir: &Path) -> Result<Option<Self>> {
        let path = vault_dir.join(TSA_CONFIG);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| AppError::BadConfig {
                    path,
                    reason: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(AppError::io(format!("reading {}", path.display()), e)),
        }
    }

    pub fn save(&self, vault_dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("serialises") + "\n";
        custody_ledger::file::write_atomic(&vault_dir.join(TSA_CONFIG), text.as_bytes())?;
        Ok(())
    }
}

/// One token obtained.
#[derive(Clone, Debug, Serialize)]
pub struct Stamped {
    pub tsa: String,
    pub gen_time: String,
    pub serial_number: String,
    pub token_sha256: Digest,
    pub token_file: PathBuf,
    pub ledger_seq: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct StampReport {
    pub checkpoint_size: u64,
    pub checkpoint_sha256: Digest,
    pub stamped: Vec<Stamped>,
    pub failed: Vec<String>,
}

fn tsa_slug(url: &str) -> String {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split('/')
        .next()
        .unwrap_or("tsa");
    crate::config::slug(host)
}

/// The directory holding the tokens over the checkpoint of `size`.
pub fn tokens_dir(vault_dir: &Path, size: u64) -> PathBuf {
    vault_dir
        .join(LEDGER_DIR)
        .join(TIMESTAMPS_DIR)
        .join(custody_ledger::file::checkpoint_name(size))
}

/// Trusts TSA root certificates (PEM, or one DER certificate): a `trust.added` entry,
/// and a copy in `keys/tsa-roots.pem`; returns how many were new.
pub async fn add_roots(vault: &Vault, pem: &[u8]) -> Result<crate::anchors::Change> {
    crate::anchors::TSA_ROOTS.add(vault, pem).await
}

/// Whom the vault trusts for time-stamps: the roots it trusts, and those it trusted once
/// and withdrew, whose tokens no longer date anything.
#[derive(Default)]
pub struct TsaTrust {
    pub roots: TrustAnchors,
    pub withdrawn: TrustAnchors,
    /// Whether the ledger ever recorded a change to the TSA roots. Until it has, a
    /// token's chain is left unchecked (and said to be); once it has, a token dates
    /// something only through a root trusted now.
    pub recorded: bool,
}

impl TsaTrust {
    /// From what the ledger records for the TSA roots.
    pub fn of(ledgered: &crate::anchors::Ledgered) -> Result<Self> {
        Ok(Self {
            roots: crate::anchors::TrustFile::anchors(&ledgered.trusted)?,
            withdrawn: crate::anchors::TrustFile::anchors(&ledgered.withdrawn)?,
            recorded: ledgered.entries > 0,
        })
    }

    /// The vault's.
    pub async fn load(vault: &Vault) -> Result<Self> {
        Self::of(&crate::anchors::TSA_ROOTS.recorded(vault).await?)
    }
}

/// The recorded tokens that may date what they cover: those [`check_all`] finds no
/// problem with (a token whose chain does not lead to a trusted root, or leads to a
/// withdrawn one, dates nothing).
pub fn usable(
    vault: &Vault,
    tokens: Vec<RecordedToken>,
    trust: &TsaTrust,
    now: SystemTime,
) -> Result<Vec<RecordedToken>> {
    Ok(check_all(vault, tokens, trust, now)?
        .into_iter()
        .filter(|c| c.problems.is_empty())
        .map(|c| c.token)
        .collect())
}

/// Stamps the latest checkpoint with each TSA in turn; every token obtained is stored and
/// recorded. Fails only when no TSA gave a token.
pub async fn stamp(vault: &Vault, tsas: &[String], timeout: Duration) -> Result<StampReport> {
    if tsas.is_empty() {
        return Err(AppError::Invalid(
            "no TSA given: pass --tsa URL (or configure some with `custody timestamp --tsa URL --save`)".into(),
        ));
    }
    let (size, note) = {
        let ledger = vault.ledger();
        ledger
            .latest_checkpoint()?
            .ok_or_else(|| AppError::Invalid("the vault has no checkpoint yet".into()))?
    };
    let digest = Digest::of(note.as_bytes());
    let dir = tokens_dir(vault.dir(), size);
    std::fs::create_dir_all(&dir)
        .map_err(|e| AppError::io(format!("creating {}", dir.display()), e))?;
    let mut report = StampReport {
        checkpoint_size: size,
        checkpoint_sha256: digest,
        stamped: Vec::new(),
        failed: Vec::new(),
    };
    let mut pending = Vec::new();
    let mut files = Vec::new();
    for (i, url) in tsas.iter().enumerate() {
        let url2 = url.clone();
        let d = *digest.as_bytes();
        let got = tokio::task::spawn_blocking(move || custody_timestamp::stamp(&url2, &d, timeout))
            .await
            .map_err(|e| AppError::Invalid(format!("timestamp worker failed: {e}")))?;
        let stamp = match got {
            Ok(s) => s,
            Err(e) => {
                report.failed.push(e.to_string());
                continue;
            }
        };
        let existing = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        let stem = format!("{:02}-{}", existing / 4 + i, tsa_slug(url));
        let written = stamp
            .write_files(&dir, &stem)
            .map_err(|e| AppError::Invalid(format!("storing the token from {url}: {e}")))?;
        let token_sha256 = Digest::of(&stamp.token_der);
        pending.push(Pending {
            action: Action::CheckpointTimestamped,
            item: None,
            sha256: Some(digest),
            details: json!({
                "checkpoint_size": size,
                "gen_time": stamp.info.gen_time.to_rfc3339(),
                "policy": stamp.info.policy,
                "serial_number": stamp.info.serial_number,
                "token": format!("{}/{}.tst", custody_ledger::file::checkpoint_name(size), stem),
                "token_sha256": token_sha256.to_hex(),
                "tsa": url,
            }),
        });
        files.push((
            url.clone(),
            stamp.info.gen_time.to_rfc3339(),
            stamp.info.serial_number.clone(),
            token_sha256,
            written.token,
        ));
    }
    if pending.is_empty() {
        return Err(AppError::Invalid(format!(
            "no TSA gave a token: {}",
            report.failed.join("; ")
        )));
    }
    let entries = vault.commit(pending, &[]).await?;
    for ((tsa, gen_time, serial_number, token_sha256, token_file), e) in
        files.into_iter().zip(entries)
    {
        report.stamped.push(Stamped {
            tsa,
            gen_time,
            serial_number,
            token_sha256,
            token_file,
            ledger_seq: e.seq,
        });
    }
    Ok(report)
}

/// Stamps the latest checkpoint if TSAs are configured and the newest token is older than
/// the configured interval. Returns `None` when nothing was due.
pub async fn stamp_if_due(vault: &Vault) -> Result<Option<StampReport>> {
    let Some(config) = TimestampingConfig::load(vault.dir())? else {
        return Ok(None);
    };
    if config.tsas.is_empty() {
        return Ok(None);
    }
    let newest = recorded(vault)
        .await?
        .into_iter()
        .map(|t| t.recorded_at)
        .max();
    if let Some(t) = newest {
        let age = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|n| n.as_secs() as i64 - t.datetime().unix_timestamp())
            .unwrap_or(0);
        if age >= 0 && (age as u64) < config.every_seconds {
            return Ok(None);
        }
    }
    stamp(vault, &config.tsas, Duration::from_secs(30))
        .await
        .map(Some)
}

/// A token as the ledger records it.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedToken {
    pub ledger_seq: u64,
    pub recorded_at: Timestamp,
    pub checkpoint_size: u64,
    pub checkpoint_sha256: Digest,
    pub tsa: String,
    pub gen_time: String,
    pub token: String,
    pub token_sha256: Digest,
}

/// Every `checkpoint.timestamped` entry, oldest first.
pub async fn recorded(vault: &Vault) -> Result<Vec<RecordedToken>> {
    let entries = vault.entries_of(Action::CheckpointTimestamped).await?;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        out.push(parse_recorded(&e).ok_or_else(|| {
            AppError::Invalid(format!(
                "ledger entry {} (checkpoint.timestamped) has unreadable details",
                e.seq
            ))
        })?);
    }
    Ok(out)
}

/// The token a `checkpoint.timestamped` entry records.
pub fn parse_recorded(e: &Entry) -> Option<RecordedToken> {
    Some(RecordedToken {
        ledger_seq: e.seq,
        recorded_at: e.time,
        checkpoint_size: e.details.get("checkpoint_size")?.as_u64()?,
        checkpoint_sha256: e.sha256?,
        tsa: e.detail_str("tsa")?.to_owned(),
        gen_time: e.detail_str("gen_time")?.to_owned(),
        token: e.detail_str("token")?.to_owned(),
        token_sha256: e.detail_str("token_sha256")?.parse().ok()?,
    })
}

/// Why a token cannot stand for the entry that records it: the genTime the entry
/// records is not the one the TSA signed (a ledger, above all a sender's, must not date
/// an item by a time of its own choosing), or `None` when they agree.
pub fn recorded_gen_time_problem(
    token: &RecordedToken,
    v: &custody_timestamp::Verification,
) -> Option<String> {
    let info = v.info.as_ref()?;
    let signed = info.gen_time.to_rfc3339();
    let instant = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    };
    let same = match (instant(&signed), instant(&token.gen_time)) {
        (Some(a), Some(b)) => a == b,
        _ => signed == token.gen_time,
    };
    (!same).then(|| {
        format!(
            "ledger entry {} records genTime {}, but the token's signed genTime is {signed}",
            token.ledger_seq, token.gen_time
        )
    })
}

/// The result of checking one recorded token.
#[derive(Clone, Debug, Serialize)]
pub struct TokenCheck {
    pub token: RecordedToken,
    /// Problems make the token worthless as evidence.
    pub problems: Vec<String>,
    /// Worth knowing, not a failure (e.g. valid at genTime, expired since).
    pub notes: Vec<String>,
    /// Its chain leads to a root the vault withdrew from trust: it dates nothing, by the
    /// vault's own decision (the one problem then).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn_root: bool,
}

/// Checks recorded tokens: the files are the ones recorded, the checkpoint is the one
/// stamped, and the token verifies (chain to `roots`, the vault's, at genTime).
pub fn check_all(
    vault: &Vault,
    tokens: Vec<RecordedToken>,
    trust: &TsaTrust,
    now: SystemTime,
) -> Result<Vec<TokenCheck>> {
    let roots = &trust.roots;
    let ts_dir = vault.dir().join(LEDGER_DIR).join(TIMESTAMPS_DIR);
    let mut out = Vec::new();
    for token in tokens {
        let mut c = TokenCheck {
            token: token.clone(),
            problems: Vec::new(),
            notes: Vec::new(),
            withdrawn_root: false,
        };
        let what = format!(
            "token from {} over checkpoint {} (entry {})",
            token.tsa, token.checkpoint_size, token.ledger_seq
        );
        let token_path = ts_dir.join(&token.token);
        let certs_path = PathBuf::from(token_path.to_string_lossy().replace(".tst", ".certs.pem"));
        let cp = vault.ledger().read_checkpoint(token.checkpoint_size);
        match (std::fs::read(&token_path), cp) {
            (Err(e), _) => c
                .problems
                .push(format!("{what}: {}: {e}", token_path.display())),
            (_, Err(e)) => c
                .problems
                .push(format!("{what}: the stamped checkpoint is gone: {e}")),
            (Ok(der), Ok(note)) => {
                if Digest::of(&der) != token.token_sha256 {
                    c.problems.push(format!(
                        "{what}: the token file differs from the one recorded in the ledger"
                    ));
                }
                let digest = Digest::of(note.as_bytes());
                if digest != token.checkpoint_sha256 {
                    c.problems.push(format!(
                        "{what}: the checkpoint file differs from the one that was stamped"
                    ));
                }
                let extra = std::fs::read(&certs_path)
                    .ok()
                    .and_then(|pem| {
                        custody_timestamp::certificates_from_pem(&pem, "token certificates").ok()
                    })
                    .unwrap_or_default();
                let v = custody_timestamp::verify(&der, digest.as_bytes(), roots, &extra, now);
                if let Some(p) = recorded_gen_time_problem(&token, &v) {
                    c.problems.push(format!("{what}: {p}"));
                }
                // A chain through a withdrawn certificate (a root, an intermediate or the
                // TSA's own) vouches for nothing, even where a trusted root vouches for it.
                let through_withdrawn = !trust.withdrawn.is_empty()
                    && !matches!(
                        custody_timestamp::verify(
                            &der,
                            digest.as_bytes(),
                            &trust.withdrawn,
                            &extra,
                            now
                        )
                        .status,
                        Status::Invalid { .. }
                    );
                match &v.status {
                    _ if through_withdrawn => {
                        c.withdrawn_root = true;
                        c.problems.push(format!(
                            "{what}: its chain goes through a certificate this vault no longer trusts (withdrawn with `custody trust --remove`), so it dates nothing"
                        ));
                    }
                    Status::ValidNow => {}
                    Status::ValidAtGenTime { note } => c.notes.push(format!(
                        "{what}: valid at its genTime {}; {note}",
                        token.gen_time
                    )),
                    Status::Invalid { reason } => {
                        if roots.is_empty() && !trust.recorded {
                            // Without roots only the chain cannot be judged; all else must hold.
                            let other: Vec<&str> = v
                                .checks
                                .iter()
                                // The certificates' validity at genTime is checked over
                                // the chain as far as it goes, so it holds without roots.
                                .filter(|k| {
                                    k.outcome == Outcome::Fail && k.check != CheckKind::Chain
                                })
                                .map(|k| k.message.as_str())
                                .collect();
                            if other.is_empty() {
                                c.notes.push(format!(
                                    "{what}: signature and imprint check out, but the chain was not checked: no TSA roots trusted (add them with `custody timestamp --roots FILE`)"
                                ));
                            } else {
                                c.problems.push(format!("{what}: {}", other.join("; ")));
                            }
                        } else {
                            c.problems.push(format!("{what}: {reason}"));
                        }
                    }
                }
            }
        }
        out.push(c);
    }
    Ok(out)
}

/// The earliest genTime of a token over a checkpoint that covers ledger entry `seq`.
pub fn earliest_proof_of(tokens: &[RecordedToken], seq: u64) -> Option<&RecordedToken> {
    tokens
        .iter()
        .filter(|t| t.checkpoint_size > seq)
        .min_by(|a, b| a.gen_time.cmp(&b.gen_time))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(gen_time: &str) -> RecordedToken {
        RecordedToken {
            ledger_seq: 4,
            recorded_at: Timestamp::now(),
            checkpoint_size: 4,
            checkpoint_sha256: Digest::of(b"checkpoint"),
            tsa: "http://127.0.0.1/tsa".into(),
            gen_time: gen_time.into(),
            token: "t.tst".into(),
            token_sha256: Digest::of(b"token"),
        }
    }

    fn signed(gen_time: &str) -> custody_timestamp::Verification {
        custody_timestamp::Verification {
            status: Status::ValidNow,
            evaluated_at: String::new(),
            checks: Vec::new(),
            info: Some(custody_timestamp::TokenInfo {
                gen_time: custody_timestamp::asn1::GenTime::parse(gen_time).unwrap(),
                serial_number: "01".into(),
                policy: "1.2.3".into(),
                tsa_name: None,
                hash_algorithm: "sha256".into(),
                message_imprint: String::new(),
                nonce: None,
                accuracy: None,
                ordering: false,
            }),
            chain: Vec::new(),
        }
    }

    #[test]
    fn a_recorded_gen_time_must_be_the_signed_one() {
        let v = signed("20261206141000.25Z");
        assert_eq!(
            recorded_gen_time_problem(&recorded("2026-12-06T14:10:00.25Z"), &v),
            None
        );
        // The same instant written another way.
        assert_eq!(
            recorded_gen_time_problem(&recorded("2026-12-06T14:10:00.250Z"), &v),
            None
        );
        let forged = recorded_gen_time_problem(&recorded("2001-01-01T00:00:00Z"), &v).unwrap();
        assert!(
            forged.contains("records genTime 2001-01-01T00:00:00Z")
                && forged.contains("signed genTime is 2026-12-06T14:10:00.25Z"),
            "{forged}"
        );
    }
}
