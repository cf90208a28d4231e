//! `custody witness`: pseudonymous witnesses, consent, testimony, and the sealed store.
//!
//! Identities are given in a JSON file (or on standard input) and sealed at once; the
//! case and every output name the pseudonym only. `custody witness unseal` is the one
//! command that shows an identity: it needs `--permission unseal-identity` and a
//! `--purpose`, and records the read in the ledger before decrypting.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use custody_app::Mode;
use custody_app::cases::input::{moment, now};
use custody_app::cases::model::Command;
use custody_app::cases::model::ids::{ConsentId, EvidenceId};
use custody_app::cases::model::when::{DayEnd, Moment};
use custody_app::cases::model::witness::{Consent, ConsentUse, ConsentWithdrawal, SealedIdentity};
use custody_app::cases::witness::{self, TestimonyInput, parse_pseudonym};
use custody_model::ItemId;

use super::args::{CaseArg, TimeArgs, by, change, label, print_recorded, read_case};
use crate::cli::Cli;
use crate::run::{finish_write, open, print_json};

#[derive(Subcommand, Debug)]
pub enum WitnessCommand {
    /// Register a witness: the identity is sealed (encrypted into the sealed store) and
    /// the case records only a new pseudonym (W-0001, W-0002, ...).
    Register {
        #[command(flatten)]
        case: CaseArg,
        /// JSON file with the identity ("-" reads standard input): {"legal_name": ...,
        /// "other_names": [...], "date_of_birth": ..., "address": ..., "contacts":
        /// [{"kind": "phone", "value": ...}], "notes": ...}. Never pass identities as
        /// flags: they would stay in the shell history.
        #[arg(long, value_name = "FILE")]
        identity_file: PathBuf,
        /// When the witness was registered (default: now).
        #[arg(long, value_name = "DATETIME")]
        at: Option<String>,
        /// Who registered them (default: you).
        #[arg(long)]
        by: Option<String>,
        /// The sealing key file (default: keys/sealed.key in the vault, created on
        /// first use with mode 0600).
        #[arg(long, env = "CUSTODY_SEALED_KEY", value_name = "FILE")]
        sealed_key: Option<PathBuf>,
    },
    /// Record a witness's consent to uses of their testimony.
    Consent {
        #[command(flatten)]
        case: CaseArg,
        /// The pseudonym, e.g. W-0001.
        witness: String,
        /// A use consented to: recording, investigation, share_with_prosecution,
        /// court_use, follow_up_contact, anonymised_publication (or your own); repeat.
        #[arg(long = "use", value_name = "USE", required = true)]
        uses: Vec<String>,
        /// When the consent was given (default: now).
        #[arg(long, value_name = "DATETIME")]
        given_at: Option<String>,
        /// Who recorded it (default: you).
        #[arg(long)]
        recorded_by: Option<String>,
        /// Conditions in the witness's words.
        #[arg(long, default_value = "")]
        conditions: String,
        /// The signed form or recording of the consent, as an evidence record.
        #[arg(long, value_name = "EV")]
        document: Option<String>,
    },
    /// Record the withdrawal of a consent, in whole or for some uses.
    WithdrawConsent {
        #[command(flatten)]
        case: CaseArg,
        /// The pseudonym, e.g. W-0001.
        witness: String,
        /// The consent, e.g. CN-0001.
        consent: String,
        /// A use withdrawn; repeat. Without any, the whole consent is withdrawn.
        #[arg(long = "use", value_name = "USE")]
        uses: Vec<String>,
        /// From when (default: now).
        #[arg(long, value_name = "DATETIME")]
        at: Option<String>,
        /// Who recorded the withdrawal (default: you).
        #[arg(long)]
        recorded_by: Option<String>,
        /// A note on the withdrawal.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record a testimony: a vault item (the recording or statement) registered as
    /// evidence of kind testimony and linked to the witness's pseudonym, under a consent
    /// that covers recording when it was taken.
    Testimony {
        #[command(flatten)]
        case: CaseArg,
        /// The pseudonym, e.g. W-0001.
        witness: String,
        /// The evidence id of the testimony (registered if new).
        #[arg(long, value_name = "EV")]
        evidence: String,
        /// The vault item holding the recording or statement.
        #[arg(long, value_name = "ITEM")]
        item: Option<String>,
        /// The consent under which it was taken, e.g. CN-0001.
        #[arg(long)]
        consent: String,
        /// When the testimony was taken.
        #[command(flatten)]
        time: TimeArgs,
        /// Who took it (default: you).
        #[arg(long)]
        taken_by: Option<String>,
        /// The language of the testimony.
        #[arg(long, default_value = "")]
        language: String,
        /// An incident the testimony concerns; repeat.
        #[arg(long = "incident", value_name = "INC")]
        incidents: Vec<String>,
        /// A description of the testimony record (never the witness's identity).
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Show a witness by pseudonym: consents, testimonies and every read of the sealed
    /// record. Never the identity.
    Show {
        #[command(flatten)]
        case: CaseArg,
        /// The pseudonym, e.g. W-0001.
        witness: String,
    },
    /// List the witnesses of a case (pseudonyms only).
    List {
        #[command(flatten)]
        case: CaseArg,
    },
    /// Show a witness's sealed identity. Needs --permission unseal-identity and
    /// --purpose; the read is written to the ledger before the record is decrypted.
    Unseal {
        #[command(flatten)]
        case: CaseArg,
        /// The pseudonym, e.g. W-0001.
        witness: String,
        /// The permission: unseal-identity.
        #[arg(long)]
        permission: String,
        /// Why the identity is read ("court order 12/2024"); recorded in the ledger.
        #[arg(long)]
        purpose: String,
        /// The sealing key file (default: keys/sealed.key in the vault).
        #[arg(long, env = "CUSTODY_SEALED_KEY", value_name = "FILE")]
        sealed_key: Option<PathBuf>,
    },
}

fn uses(list: &[String]) -> std::collections::BTreeSet<ConsentUse> {
    list.iter()
        .flat_map(|u| u.split(','))
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(ConsentUse::parse)
        .collect()
}

fn read_identity(file: &std::path::Path) -> Result<SealedIdentity> {
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the identity from standard input")?;
    } else {
        text = std::fs::read_to_string(file)
            .with_context(|| format!("reading the identity file {}", file.display()))?;
    }
    // The message names the field, never the value.
    serde_json::from_str::<SealedIdentity>(&text).map_err(|e| {
        anyhow::anyhow!(
            "the identity file is not an identity (line {}, column {}): expected a JSON object with legal_name and optionally other_names, date_of_birth, address, contacts [{{kind, value}}], notes",
            e.line(),
            e.column()
        )
    })
}

pub async fn run(cli: &Cli, actor: &str, cmd: &WitnessCommand) -> Result<ExitCode> {
    use WitnessCommand as W;
    match cmd {
        W::Register {
            case,
            identity_file,
            at,
            by: who,
            sealed_key,
        } => {
            let identity = read_identity(identity_file)?;
            let at = match at {
                Some(a) => Some(Moment::parse_rfc3339(a).context("--at")?),
                None => None,
            };
            let who = by(who, actor);
            let (case, key) = (case.case.clone(), sealed_key.clone());
            super::args::write(cli, actor, |v| async move {
                let r = witness::register(&v, key.as_deref(), &case, &identity, at, &who).await;
                (v, r)
            })
            .await
        }
        W::Consent {
            case,
            witness: w,
            uses: u,
            given_at,
            recorded_by,
            conditions,
            document,
        } => {
            change(cli, actor, &case.case, |c| {
                let given_at = match given_at {
                    Some(g) => moment(g, c.local_offset, DayEnd::Start, "--given-at")?,
                    None => now(),
                };
                Ok(vec![Command::RecordConsent {
                    witness: parse_pseudonym(w)?,
                    consent: Consent {
                        uses: uses(u),
                        given_at,
                        recorded_by: by(recorded_by, actor),
                        conditions: conditions.clone(),
                        document: document.as_deref().map(label::<EvidenceId>).transpose()?,
                    },
                }])
            })
            .await
        }
        W::WithdrawConsent {
            case,
            witness: w,
            consent,
            uses: u,
            at,
            recorded_by,
            note,
        } => {
            change(cli, actor, &case.case, |c| {
                let at = match at {
                    Some(g) => moment(g, c.local_offset, DayEnd::Start, "--at")?,
                    None => now(),
                };
                Ok(vec![Command::WithdrawConsent {
                    witness: parse_pseudonym(w)?,
                    consent: label::<ConsentId>(consent)?,
                    withdrawal: ConsentWithdrawal {
                        at,
                        uses: uses(u),
                        recorded_by: by(recorded_by, actor),
                        note: note.clone(),
                    },
                }])
            })
            .await
        }
        W::Testimony {
            case,
            witness: w,
            evidence,
            item,
            consent,
            time,
            taken_by,
            language,
            incidents,
            description,
        } => {
            let vault = open(cli, Mode::Write, actor).await?;
            let result: Result<_> = async {
                let c = custody_app::cases::load(&vault, &case.case).await?;
                let item = match item {
                    Some(i) => Some(custody_app::items::resolve(&vault, i).await?.id),
                    None => None,
                };
                let input = TestimonyInput {
                    witness: w.clone(),
                    evidence: evidence.clone(),
                    item: item.map(|i: ItemId| i),
                    consent: consent.clone(),
                    taken: time
                        .input()
                        .required(c.local_offset, actor, "a testimony")?,
                    taken_by: by(taken_by, actor),
                    language: language.clone(),
                    incidents: incidents.clone(),
                    description: description.clone(),
                };
                Ok(witness::testimony(&vault, &case.case, input).await?)
            }
            .await;
            let result = finish_write(vault, result).await;
            print_recorded(cli, &result?)?;
            Ok(ExitCode::SUCCESS)
        }
        W::Show { case, witness: w } => {
            let vault = open(cli, Mode::Read, actor).await?;
            let view = witness::show(&vault, &case.case, w).await;
            vault.close().await;
            let view = view?;
            if cli.json {
                print_json(&view)?;
            } else {
                out!("{}", view.card);
                if !view.testimonies.is_empty() {
                    let t: Vec<String> = view.testimonies.iter().map(|e| e.to_string()).collect();
                    outln!("  testimony evidence: {}", t.join(", "));
                }
                if view.reads.is_empty() {
                    outln!("  sealed record never read");
                } else {
                    outln!("  sealed record read {} time(s):", view.reads.len());
                    for r in &view.reads {
                        outln!(
                            "    ledger entry {} by {} under {}: {}",
                            r.ledger_seq,
                            r.actor,
                            r.permission,
                            r.purpose
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        W::List { case } => {
            let (vault, c) = read_case(cli, actor, &case.case).await?;
            vault.close().await;
            if cli.json {
                print_json(&c.witnesses.values().collect::<Vec<_>>())?;
            } else {
                out!("{}", custody_app::cases::model::render::notice(&c));
                for w in c.witnesses.values() {
                    let n = c
                        .testimonies
                        .values()
                        .filter(|t| t.witness == w.pseudonym)
                        .count();
                    out!(
                        "{}",
                        custody_app::cases::model::witness::render_public(w, n)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        W::Unseal {
            case,
            witness: w,
            permission,
            purpose,
            sealed_key,
        } => {
            if permission.trim().is_empty() || purpose.trim().is_empty() {
                bail!("unsealing needs --permission unseal-identity and a --purpose");
            }
            let vault = open(cli, Mode::Write, actor).await?;
            let result = witness::unseal(
                &vault,
                sealed_key.as_deref(),
                &case.case,
                w,
                permission,
                purpose,
            )
            .await;
            let result = finish_write(vault, result).await;
            let u = result?;
            if cli.json {
                print_json(&serde_json::json!({"ledger_seq": u.ledger_seq, "record": u.text}))?;
            } else {
                out!("{}", u.text);
                outln!("(this read is recorded as ledger entry {})", u.ledger_seq);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
