//! `custody claims`, `custody report forensic`, `custody matrix`: claims checked against
//! the evidence (docs/design/claim-checks.md), the analyst's sign-off, counts of remains
//! as of a date, and the element-of-crime matrix with its gaps.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use custody_app::Mode;
use custody_app::cases::input::{TimeInput, moment};
use custody_app::cases::model::claims::{Claim, ClaimResult, CountedStage, Predicate, Relation};
use custody_app::cases::model::evidence::Subject;
use custody_app::cases::model::ids::{ClaimId, EvidenceId};
use custody_app::cases::model::when::{DayEnd, Moment, parse_date};
use custody_app::cases::model::{Case, Command, render};
use custody_app::cases::{self};

use super::args::{CaseArg, PlaceArgs, TimeArgs, by, change, label, read_case};
use crate::cli::Cli;
use crate::run::{open, print_json};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PredicateArg {
    /// The subject was not at the place at any time up to --until.
    AbsentBefore,
    /// The subject was at the place at some time within --from/--to (or --at).
    PresentAt,
    /// The event whose effects are the subject happened within --from/--to.
    OccurredBetween,
    /// So many remains had reached each stage (--figure) by --as-of, within the place.
    Count,
    /// Another cause (--cause); never settled by time and place: forensic review.
    CausalAlternative,
}

#[derive(Subcommand, Debug)]
pub enum ClaimsCommand {
    /// Record a claim: who said what, and its structured assertion (the predicate).
    Add(Box<AddClaim>),
    /// Check the case's claims against its evidence: one result per claim and one line
    /// per claim/evidence pair with the reason and the interval arithmetic. Causal claims
    /// are routed to forensic review. Nothing is written; sign a result off with
    /// `custody claims sign-off` and the version shown.
    Check {
        #[command(flatten)]
        case: CaseArg,
        /// Only this claim.
        #[arg(long)]
        claim: Option<String>,
        /// Also list the pairs that do not apply, with the reason.
        #[arg(long)]
        all: bool,
    },
    /// Sign off the current check result of a claim (a ledger entry). The version must be
    /// the one you reviewed; a result that changed since is refused as stale.
    SignOff {
        #[command(flatten)]
        case: CaseArg,
        /// The claim, e.g. CL-01.
        claim: String,
        /// The result version shown by `custody claims check`.
        #[arg(long)]
        version: String,
        /// Who signs off (default: you).
        #[arg(long)]
        by: Option<String>,
        /// The analyst's note (the weighing the check leaves to people).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List the claims of a case.
    List {
        #[command(flatten)]
        case: CaseArg,
    },
}

#[derive(Args, Debug)]
pub struct AddClaim {
    #[command(flatten)]
    case: CaseArg,
    /// The claim id, e.g. CL-01 (default: the next CL-nnnn).
    #[arg(long)]
    id: Option<String>,
    /// Who made the claim.
    #[arg(long)]
    made_by: String,
    /// When the claim was made (date or RFC 3339).
    #[arg(long, value_name = "DATE")]
    made_on: Option<String>,
    /// The evidence record holding the publication of the claim.
    #[arg(long, value_name = "EV")]
    source_evidence: Option<String>,
    /// The claim in words.
    #[arg(long)]
    assertion: String,
    /// What the claim asserts, in a form the check evaluates.
    #[arg(long, value_enum)]
    kind: PredicateArg,
    /// What the claim is about ("bodies on street"); observations are tagged with it.
    #[arg(long)]
    subject: Option<String>,
    #[command(flatten)]
    place: PlaceArgs,
    /// absent-before: up to and including when (a date means the end of that day).
    #[arg(long, value_name = "DATE|DATETIME")]
    until: Option<String>,
    /// present-at, occurred-between: the claimed interval.
    #[command(flatten)]
    during: TimeArgs,
    /// count: as of when (a date means the end of that day).
    #[arg(long, value_name = "DATE|DATETIME")]
    as_of: Option<String>,
    /// count: a figure, STAGE=N (recovered, examined, identified, family_notified,
    /// returned_to_family); repeat.
    #[arg(long = "figure", value_name = "STAGE=N")]
    figures: Vec<String>,
    /// causal-alternative: the other cause claimed.
    #[arg(long)]
    cause: Option<String>,
    /// causal-alternative: a note on the claimed cause.
    #[arg(long, default_value = "")]
    note: String,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Counts of remains as of a date, by status and stage, within an area when given
    /// ("410 recovered, 140 examined as of 3 April"), straight from the records, with one
    /// line per remains.
    Forensic {
        #[command(flatten)]
        case: CaseArg,
        /// As of when: a date means the end of that day at the case's offset.
        #[arg(long, value_name = "DATE|DATETIME")]
        as_of: String,
        /// Only remains recovered wholly within this named place.
        #[arg(long, value_name = "PL-REF")]
        area: Option<String>,
        /// Or an area given as a disc: latitude of the centre.
        #[arg(long, allow_negative_numbers = true)]
        lat: Option<f64>,
        /// Longitude of the centre.
        #[arg(long, allow_negative_numbers = true)]
        lon: Option<f64>,
        /// Radius in metres.
        #[arg(long, value_name = "METRES")]
        radius_m: Option<f64>,
    },
}

/// `custody matrix`: the element-of-crime matrix of an incident.
#[derive(Args, Debug)]
pub struct MatrixArgs {
    #[command(flatten)]
    case: CaseArg,
    /// The incident, e.g. INC-0001.
    incident: String,
}

fn as_of(c: &Case, s: &str, flag: &str) -> Result<Moment> {
    if let Some(d) = parse_date(s) {
        return Ok(c.end_of_day(d));
    }
    Ok(moment(s, c.local_offset, DayEnd::End, flag)?)
}

fn subject(s: &Option<String>, kind: &str) -> Result<Subject> {
    let s = s
        .as_deref()
        .with_context(|| format!("a {kind} claim needs --subject"))?;
    Subject::new(s).context("--subject cannot be empty")
}

fn predicate(c: &Case, a: &AddClaim, actor: &str) -> Result<Predicate> {
    let place = a
        .place
        .input()
        .place(Some(c), actor)?
        .context("a claim needs its place: --place PL-REF or --lat/--lon/--radius-m")?;
    let during =
        |what: &str| -> Result<_> { Ok(a.during.input().required(c.local_offset, actor, what)?) };
    Ok(match a.kind {
        PredicateArg::AbsentBefore => Predicate::AbsentBefore {
            subject: subject(&a.subject, "absent-before")?,
            place,
            until: as_of(
                c,
                a.until
                    .as_deref()
                    .context("an absent-before claim needs --until")?,
                "--until",
            )?,
        },
        PredicateArg::PresentAt => Predicate::PresentAt {
            subject: subject(&a.subject, "present-at")?,
            place,
            during: during("a present-at claim")?,
        },
        PredicateArg::OccurredBetween => Predicate::OccurredBetween {
            subject: subject(&a.subject, "occurred-between")?,
            place,
            during: during("an occurred-between claim")?,
        },
        PredicateArg::Count => {
            let mut figures = BTreeMap::new();
            for f in &a.figures {
                let (k, n) = f
                    .split_once('=')
                    .with_context(|| format!("--figure {f:?} is not STAGE=N"))?;
                let stage = CountedStage::parse(k).with_context(|| {
                    format!("--figure {f:?}: {k:?} is not a stage (recovered, examined, identified, family_notified, returned_to_family)")
                })?;
                let n: u64 = n
                    .trim()
                    .parse()
                    .with_context(|| format!("--figure {f:?}: {n:?} is not a count"))?;
                figures.insert(stage, n);
            }
            if figures.is_empty() {
                bail!("a count claim needs at least one --figure STAGE=N");
            }
            Predicate::Count {
                place,
                as_of: as_of(
                    c,
                    a.as_of.as_deref().context("a count claim needs --as-of")?,
                    "--as-of",
                )?,
                figures,
            }
        }
        PredicateArg::CausalAlternative => Predicate::CausalAlternative {
            place,
            cause: a
                .cause
                .clone()
                .context("a causal-alternative claim needs --cause")?,
            note: a.note.clone(),
        },
    })
}

pub async fn run_claims(cli: &Cli, actor: &str, cmd: &ClaimsCommand) -> Result<ExitCode> {
    match cmd {
        ClaimsCommand::Add(a) => {
            change(cli, actor, &a.case.case, |c| {
                let made_at = TimeInput {
                    at: a.made_on.clone(),
                    ..Default::default()
                }
                .interval(c.local_offset, actor)?;
                Ok(vec![Command::RecordClaim {
                    claim: Claim {
                        id: match &a.id {
                            Some(i) => label::<ClaimId>(i)?,
                            None => c.next_claim_id(),
                        },
                        made_by: a.made_by.clone(),
                        made_at,
                        source_evidence: a
                            .source_evidence
                            .as_deref()
                            .map(label::<EvidenceId>)
                            .transpose()?,
                        assertion: a.assertion.clone(),
                        predicate: predicate(c, a, actor)?,
                    },
                }])
            })
            .await
        }
        ClaimsCommand::Check { case, claim, all } => {
            let vault = open(cli, Mode::Read, actor).await?;
            let r = cases::check_claims(&vault, &case.case, claim.as_deref()).await;
            vault.close().await;
            let (c, results) = r?;
            if cli.json {
                print_json(&results_json(&c, &results))?;
            } else {
                print_results(&c, &results, *all);
            }
            Ok(ExitCode::SUCCESS)
        }
        ClaimsCommand::SignOff {
            case,
            claim,
            version,
            by: who,
            note,
        } => {
            change(cli, actor, &case.case, |_c| {
                Ok(vec![Command::SignOffResult {
                    claim: label::<ClaimId>(claim)?,
                    result_version: version.trim().to_owned(),
                    by: by(who, actor),
                    at: custody_app::cases::input::now(),
                    note: note.clone(),
                }])
            })
            .await
        }
        ClaimsCommand::List { case } => {
            let (vault, c) = read_case(cli, actor, &case.case).await?;
            vault.close().await;
            if cli.json {
                print_json(&c.claims.values().collect::<Vec<_>>())?;
            } else {
                out!("{}", render::notice(&c));
                for cl in c.claims.values() {
                    outln!("{:<8} {} — {}", cl.id, cl.made_by, cl.assertion);
                    outln!("         {}", cl.predicate.describe());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The check results as JSON, with each result's version (what a sign-off names).
pub fn results_json(c: &Case, results: &[ClaimResult]) -> serde_json::Value {
    let list: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).expect("serialises");
            v["version"] = serde_json::Value::String(r.version());
            let signed: Vec<_> = c
                .signoffs
                .iter()
                .filter(|s| s.claim == r.claim)
                .map(|s| {
                    serde_json::json!({
                        "by": s.by, "at": s.at, "note": s.note,
                        "summary": s.summary, "version": s.result_version,
                        "current": s.result_version == r.version(),
                    })
                })
                .collect();
            v["signoffs"] = serde_json::Value::Array(signed);
            v
        })
        .collect();
    serde_json::json!({"notice": c.notice, "case": c.id, "results": list})
}

/// The results in text: the notice first, then per claim its summary and each pair.
pub fn print_results(c: &Case, results: &[ClaimResult], all: bool) {
    out!("{}", render::claim_results(c, results));
    if all {
        for r in results {
            outln!("{}: pairs that do not apply", r.claim);
            for p in r
                .pairs
                .iter()
                .filter(|p| p.relation == Relation::NotApplicable)
            {
                let who = p
                    .evidence
                    .as_ref()
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "case records".into());
                outln!("    {who}: not_applicable — {}", p.reason);
            }
        }
    }
}

pub async fn run_report(cli: &Cli, actor: &str, cmd: &ReportCommand) -> Result<ExitCode> {
    match cmd {
        ReportCommand::Forensic {
            case,
            as_of: when,
            area,
            lat,
            lon,
            radius_m,
        } => {
            let (vault, c) = read_case(cli, actor, &case.case).await?;
            vault.close().await;
            let t = as_of(&c, when, "--as-of")?;
            let area = custody_app::cases::input::PlaceInput {
                place: area.clone(),
                lat: *lat,
                lon: *lon,
                radius_m: *radius_m,
                basis: Some("area of the report".into()),
                ..Default::default()
            }
            .place(Some(&c), actor)?;
            if cli.json {
                let counts = cases::forensic_counts(&c, t, area.as_ref());
                print_json(&serde_json::json!({
                    "notice": c.notice,
                    "case": c.id,
                    "headline": counts.headline(),
                    "counts": counts,
                }))?;
            } else {
                out!("{}", render::forensic_report(&c, t, area.as_ref()));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn run_matrix(cli: &Cli, actor: &str, a: &MatrixArgs) -> Result<ExitCode> {
    let vault = open(cli, Mode::Read, actor).await?;
    let r = cases::matrix(&vault, &a.case.case, &a.incident).await;
    vault.close().await;
    let (c, m) = r?;
    if cli.json {
        let gaps: Vec<_> = m
            .gaps()
            .into_iter()
            .map(|(crime, el)| serde_json::json!({"crime": crime, "element": el}))
            .collect();
        print_json(&serde_json::json!({"notice": c.notice, "matrix": m, "gaps": gaps}))?;
    } else {
        out!("{}", render::notice(&c));
        out!("{}", m.to_text());
    }
    Ok(ExitCode::SUCCESS)
}
