//! `custody remains`: remains and their forensic records, through the guarded workflow
//! (recovered → examined → identified → family notified → returned; waivers, burial
//! unidentified, exhumation). An illegal step is refused with what is missing;
//! corrections are new records.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use custody_app::cases::exchange::Format;
use custody_app::cases::model::forensic::{
    Burial, Decision, DecisionStatus, ExamFinding, Examination, ExaminationType, Exhumation,
    IdMethod, IdResult, IdentificationEvidence, MannerOfDeath, Notification, Recovery, Release,
    RemainsRecord, Sample, Waiver,
};
use custody_app::cases::model::ids::{DecisionId, IdEvidenceId, PersonRef, SealedRef, Tag};
use custody_app::cases::model::{Case, Command, render};
use custody_model::ItemId;

use super::args::{CaseArg, PlaceArgs, TimeArgs, by, change, label, read_case};
use super::case::{export_sheet, import_sheet};
use crate::cli::Cli;
use crate::run::print_json;

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ResultArg {
    Match,
    Exclusion,
    Inconclusive,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum DecisionArg {
    Confirmed,
    Presumptive,
}

#[derive(Subcommand, Debug)]
pub enum RemainsCommand {
    /// Record the recovery of remains under a tag number (never reused).
    Recover {
        #[command(flatten)]
        case: CaseArg,
        /// The tag number (body bag, mortuary register), e.g. R-0007.
        tag: String,
        #[command(flatten)]
        time: TimeArgs,
        #[command(flatten)]
        place: PlaceArgs,
        /// Where they were found: surface, grave, building ...
        #[arg(long)]
        context: String,
        /// The recovery team.
        #[arg(long)]
        team: String,
        /// Mark the record as synthetic (training, demonstration): it refers to no person.
        #[arg(long)]
        synthetic: bool,
        /// Position in a grave.
        #[arg(long)]
        grave_position: Option<String>,
        /// Photograph reference; repeat.
        #[arg(long = "photo")]
        photos: Vec<String>,
        /// Property recovered with them (reference or short description); repeat.
        #[arg(long = "property")]
        property: Vec<String>,
    },
    /// Record an examination (a re-examination after exhumation is marked as such).
    Examine {
        #[command(flatten)]
        case: CaseArg,
        /// The tag number of the remains.
        tag: String,
        #[command(flatten)]
        time: TimeArgs,
        /// full autopsy, external examination, skeletal analysis, or your own.
        #[arg(long = "type", default_value = "full autopsy")]
        kind: String,
        /// Who examined.
        #[arg(long)]
        examiner: String,
        /// Cause of death as recorded.
        #[arg(long)]
        cause: Option<String>,
        /// homicide, accident, suicide, natural, undetermined, pending.
        #[arg(long, default_value = "pending")]
        manner: String,
        /// A sample taken, "kind:reference" (e.g. DNA:S-0001); repeat.
        #[arg(long = "sample", value_name = "KIND:REF")]
        samples: Vec<String>,
        /// A structured finding, "key=value"; repeat.
        #[arg(long = "finding", value_name = "KEY=VALUE")]
        findings: Vec<String>,
        /// A summary.
        #[arg(long, default_value = "")]
        summary: String,
        /// The examination report, as a vault item.
        #[arg(long, value_name = "ITEM")]
        report: Option<String>,
    },
    /// Record that the examination was waived (only for remains just recovered).
    Waive {
        #[command(flatten)]
        case: CaseArg,
        /// The tag number of the remains.
        tag: String,
        #[command(flatten)]
        time: TimeArgs,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Who authorised it.
        #[arg(long)]
        authorised_by: String,
    },
    /// Record one identification comparison (DNA, fingerprints, dental, documents,
    /// property, visual, medical) and its result.
    IdEvidence {
        #[command(flatten)]
        case: CaseArg,
        /// The tag number of the remains.
        tag: String,
        /// The method (dna, fingerprints, dental, documents, property, visual, medical).
        #[arg(long)]
        method: String,
        /// The comparison's result.
        #[arg(long, value_enum)]
        result: ResultArg,
        /// The ante-mortem record compared (a reference into the sensitive store).
        #[arg(long, value_name = "REF")]
        am_record: Option<String>,
        /// Who compared (default: you).
        #[arg(long)]
        analyst: Option<String>,
        #[command(flatten)]
        time: TimeArgs,
        /// A note on the comparison.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record an identification decision. A confirmed one needs the person reference,
    /// the board's reference and matching comparisons with a primary identifier (or two
    /// different secondary ones the board approved together).
    Decide {
        #[command(flatten)]
        case: CaseArg,
        /// The tag number of the remains.
        tag: String,
        /// Confirmed (the board's identification) or presumptive.
        #[arg(long, value_enum)]
        status: DecisionArg,
        /// Identification evidence the decision rests on (IE-0001); repeat.
        #[arg(long = "evidence", value_name = "IE")]
        evidence: Vec<String>,
        /// The person identified: a reference into the sensitive store, never a name.
        #[arg(long, value_name = "REF")]
        person: Option<String>,
        /// The identification board's reference.
        #[arg(long)]
        board_ref: Option<String>,
        /// The board approved identification on a combination of secondary identifiers.
        #[arg(long)]
        secondary_approved: bool,
        #[command(flatten)]
        time: TimeArgs,
        /// Who decided (default: you).
        #[arg(long)]
        decided_by: Option<String>,
    },
    /// Withdraw an identification decision (the remains return to their status before
    /// the identification; the decision stays in the record as withdrawn).
    Withdraw {
        #[command(flatten)]
        case: CaseArg,
        /// The tag number of the remains.
        tag: String,
        /// The decision (IDD-0001).
        #[arg(long)]
        decision: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Who recorded it (default: you).
        #[arg(long)]
        by: Option<String>,
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Record the notification of the family (needs a confirmed identification).
    Notify {
        #[command(flatten)]
        case: CaseArg,
        /// The tag number of the remains.
        tag: String,
        #[command(flatten)]
        time: TimeArgs,
        /// Who recorded it (default: you).
        #[arg(long)]
        by: Option<String>,
        /// Next of kin, as a sealed-store reference.
        #[arg(long, value_name = "SEALED-REF")]
        next_of_kin: Option<String>,
    },
    /// Record the release of the remains (needs the family notified).
    Release {
        #[command(flatten)]
        case: CaseArg,
        /// The tag number of the remains.
        tag: String,
        #[command(flatten)]
        time: TimeArgs,
        /// The recipient's role ("next of kin", "funeral service"), never a name.
        #[arg(long)]
        released_to: String,
        /// The recipient, as a sealed-store reference.
        #[arg(long, value_name = "SEALED-REF")]
        recipient: Option<String>,
        /// The signed release document, as a vault item.
        #[arg(long, value_name = "ITEM")]
        document: Option<String>,
        /// Who recorded it (default: you).
        #[arg(long)]
        by: Option<String>,
    },
    /// Record a burial of unidentified remains (needs an examination or a waiver).
    Bury {
        #[command(flatten)]
        case: CaseArg,
        /// The tag number of the remains.
        tag: String,
        #[command(flatten)]
        time: TimeArgs,
        #[command(flatten)]
        place: PlaceArgs,
        /// The grave marker, so the remains can be found again.
        #[arg(long)]
        grave_marker: String,
        /// Who recorded it (default: you).
        #[arg(long)]
        by: Option<String>,
    },
    /// Record an exhumation of remains buried unidentified.
    Exhume {
        #[command(flatten)]
        case: CaseArg,
        /// The tag number of the remains.
        tag: String,
        #[command(flatten)]
        time: TimeArgs,
        /// The authorisation.
        #[arg(long)]
        authorisation: String,
        /// Who recorded it (default: you).
        #[arg(long)]
        by: Option<String>,
    },
    /// Correct a tag number: the old one is retired and never reused.
    CorrectTag {
        #[command(flatten)]
        case: CaseArg,
        /// The tag number of the remains.
        tag: String,
        /// The corrected tag number (never used before).
        new_tag: String,
        /// Why the record is corrected.
        #[arg(long)]
        reason: String,
    },
    /// Correct the recovery record (the previous one is kept in the log).
    CorrectRecovery {
        #[command(flatten)]
        case: CaseArg,
        /// The tag number of the remains.
        tag: String,
        #[command(flatten)]
        time: TimeArgs,
        #[command(flatten)]
        place: PlaceArgs,
        /// Where they were found: surface, grave, building ...
        #[arg(long)]
        context: String,
        /// The recovery team.
        #[arg(long)]
        team: String,
        /// Why the record is corrected.
        #[arg(long)]
        reason: String,
    },
    /// Show remains: status, records and status history.
    Show {
        #[command(flatten)]
        case: CaseArg,
        /// The tag number of the remains.
        tag: String,
    },
    /// List the remains of a case with their current status.
    List {
        #[command(flatten)]
        case: CaseArg,
    },
    /// Import remains from a CSV sheet (docs/design/case-model.md §7.2), through the
    /// same workflow guards. All or nothing; problems are reported by row and column.
    ImportCsv {
        #[command(flatten)]
        case: CaseArg,
        /// The CSV file.
        file: PathBuf,
    },
    /// Export the remains of a case as CSV.
    ExportCsv {
        #[command(flatten)]
        case: CaseArg,
        /// The CSV file to create (must not exist).
        #[arg(long, short)]
        out: PathBuf,
    },
}

fn tag(s: &str) -> Result<Tag> {
    label::<Tag>(s)
}

fn record(tag: &str, cmd: impl FnOnce(Tag) -> Command) -> Result<Vec<Command>> {
    Ok(vec![cmd(self::tag(tag)?)])
}

fn recovery(
    c: &Case,
    actor: &str,
    time: &TimeArgs,
    place: &PlaceArgs,
    context: &str,
    team: &str,
) -> Result<Recovery> {
    Ok(Recovery {
        time: time.input().required(c.local_offset, actor, "a recovery")?,
        place: place
            .input()
            .place(Some(c), actor)?
            .context("a recovery needs a place: --place PL-REF or --lat/--lon/--radius-m")?,
        context: context.to_owned(),
        team: team.to_owned(),
        grave_position: None,
        photos: Vec::new(),
        property: Vec::new(),
    })
}

pub async fn run(cli: &Cli, actor: &str, cmd: &RemainsCommand) -> Result<ExitCode> {
    use RemainsCommand as R;
    match cmd {
        R::Recover {
            case,
            tag: t,
            time,
            place,
            context,
            team,
            synthetic,
            grave_position,
            photos,
            property,
        } => {
            change(cli, actor, &case.case, |c| {
                let mut rec = recovery(c, actor, time, place, context, team)?;
                rec.grave_position = grave_position.clone();
                rec.photos = photos.clone();
                rec.property = property.clone();
                record(t, |tag| Command::RecoverRemains {
                    tag,
                    synthetic: *synthetic,
                    recovery: rec,
                })
            })
            .await
        }
        R::Examine {
            case,
            tag: t,
            time,
            kind,
            examiner,
            cause,
            manner,
            samples,
            findings,
            summary,
            report,
        } => {
            change(cli, actor, &case.case, |c| {
                let samples = samples
                    .iter()
                    .map(|s| {
                        let (k, r) = s
                            .split_once(':')
                            .with_context(|| format!("--sample {s:?} is not KIND:REFERENCE"))?;
                        Ok(Sample {
                            kind: k.trim().to_owned(),
                            reference: r.trim().to_owned(),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let findings = findings
                    .iter()
                    .map(|s| {
                        let (k, v) = s
                            .split_once('=')
                            .with_context(|| format!("--finding {s:?} is not KEY=VALUE"))?;
                        Ok(ExamFinding {
                            key: k.trim().to_owned(),
                            value: v.trim().to_owned(),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let examination = Examination {
                    time: time.input().required(c.local_offset, actor, "an examination")?,
                    kind: ExaminationType::parse(kind),
                    examiner: examiner.clone(),
                    findings,
                    summary: summary.clone(),
                    cause_of_death: cause.clone(),
                    manner_of_death: MannerOfDeath::parse(manner),
                    samples,
                    report: report.as_deref().map(label::<ItemId>).transpose()?,
                };
                record(t, |tag| Command::RecordExamination { tag, examination })
            })
            .await
        }
        R::Waive {
            case,
            tag: t,
            time,
            reason,
            authorised_by,
        } => {
            change(cli, actor, &case.case, |c| {
                let waiver = Waiver {
                    time: time.input().required(c.local_offset, actor, "a waiver")?,
                    reason: reason.clone(),
                    authorised_by: authorised_by.clone(),
                };
                record(t, |tag| Command::WaiveExamination { tag, waiver })
            })
            .await
        }
        R::IdEvidence {
            case,
            tag: t,
            method,
            result,
            am_record,
            analyst,
            time,
            note,
        } => {
            change(cli, actor, &case.case, |c| {
                let Some(m) = IdMethod::parse(method) else {
                    bail!(
                        "--method {method:?} is not an identification method: dna, fingerprints, dental, documents, property, visual or medical"
                    );
                };
                let evidence = IdentificationEvidence {
                    method: m,
                    am_record: am_record.as_deref().map(label::<PersonRef>).transpose()?,
                    result: match result {
                        ResultArg::Match => IdResult::Match,
                        ResultArg::Exclusion => IdResult::Exclusion,
                        ResultArg::Inconclusive => IdResult::Inconclusive,
                    },
                    analyst: by(analyst, actor),
                    time: time
                        .input()
                        .required(c.local_offset, actor, "a comparison")?,
                    note: note.clone(),
                };
                record(t, |tag| Command::RecordIdentificationEvidence { tag, evidence })
            })
            .await
        }
        R::Decide {
            case,
            tag: t,
            status,
            evidence,
            person,
            board_ref,
            secondary_approved,
            time,
            decided_by,
        } => {
            change(cli, actor, &case.case, |c| {
                let decision = Decision {
                    status: match status {
                        DecisionArg::Confirmed => DecisionStatus::Confirmed,
                        DecisionArg::Presumptive => DecisionStatus::Presumptive,
                    },
                    person: person.as_deref().map(label::<PersonRef>).transpose()?,
                    basis: evidence
                        .iter()
                        .map(|e| label::<IdEvidenceId>(e))
                        .collect::<Result<_>>()?,
                    board_ref: board_ref.clone(),
                    secondary_combination_approved: *secondary_approved,
                    time: time.input().required(c.local_offset, actor, "a decision")?,
                    decided_by: by(decided_by, actor),
                };
                record(t, |tag| Command::DecideIdentification { tag, decision })
            })
            .await
        }
        R::Withdraw {
            case,
            tag: t,
            decision,
            reason,
            by: who,
            time,
        } => {
            change(cli, actor, &case.case, |c| {
                let withdrawal = custody_app::cases::model::forensic::Withdrawal {
                    decision: label::<DecisionId>(decision)?,
                    reason: reason.clone(),
                    by: by(who, actor),
                    time: time.input().required(c.local_offset, actor, "a withdrawal")?,
                };
                record(t, |tag| Command::WithdrawIdentification { tag, withdrawal })
            })
            .await
        }
        R::Notify {
            case,
            tag: t,
            time,
            by: who,
            next_of_kin,
        } => {
            change(cli, actor, &case.case, |c| {
                let notification = Notification {
                    time: time
                        .input()
                        .required(c.local_offset, actor, "a notification")?,
                    by: by(who, actor),
                    next_of_kin: next_of_kin.as_deref().map(label::<SealedRef>).transpose()?,
                };
                record(t, |tag| Command::NotifyFamily { tag, notification })
            })
            .await
        }
        R::Release {
            case,
            tag: t,
            time,
            released_to,
            recipient,
            document,
            by: who,
        } => {
            change(cli, actor, &case.case, |c| {
                let release = Release {
                    time: time.input().required(c.local_offset, actor, "a release")?,
                    released_to: released_to.clone(),
                    recipient: recipient.as_deref().map(label::<SealedRef>).transpose()?,
                    document: document.as_deref().map(label::<ItemId>).transpose()?,
                    by: by(who, actor),
                };
                record(t, |tag| Command::ReleaseRemains { tag, release })
            })
            .await
        }
        R::Bury {
            case,
            tag: t,
            time,
            place,
            grave_marker,
            by: who,
        } => {
            change(cli, actor, &case.case, |c| {
                let burial = Burial {
                    time: time.input().required(c.local_offset, actor, "a burial")?,
                    place: place.input().place(Some(c), actor)?.context(
                        "a burial needs the grave's place: --place PL-REF or --lat/--lon/--radius-m",
                    )?,
                    grave_marker: grave_marker.clone(),
                    by: by(who, actor),
                };
                record(t, |tag| Command::BuryUnidentified { tag, burial })
            })
            .await
        }
        R::Exhume {
            case,
            tag: t,
            time,
            authorisation,
            by: who,
        } => {
            change(cli, actor, &case.case, |c| {
                let exhumation = Exhumation {
                    time: time.input().required(c.local_offset, actor, "an exhumation")?,
                    authorisation: authorisation.clone(),
                    by: by(who, actor),
                };
                record(t, |tag| Command::Exhume { tag, exhumation })
            })
            .await
        }
        R::CorrectTag {
            case,
            tag: t,
            new_tag,
            reason,
        } => {
            change(cli, actor, &case.case, |_c| {
                let new_tag = tag(new_tag)?;
                record(t, |tag| Command::CorrectTag {
                    tag,
                    new_tag,
                    reason: reason.clone(),
                })
            })
            .await
        }
        R::CorrectRecovery {
            case,
            tag: t,
            time,
            place,
            context,
            team,
            reason,
        } => {
            change(cli, actor, &case.case, |c| {
                let rec = recovery(c, actor, time, place, context, team)?;
                record(t, |tag| Command::CorrectRecovery {
                    tag,
                    recovery: rec,
                    reason: reason.clone(),
                })
            })
            .await
        }
        R::Show { case, tag: t } => {
            let (vault, c) = read_case(cli, actor, &case.case).await?;
            vault.close().await;
            let r = c.remains_by_tag(&tag(t)?)?;
            if cli.json {
                print_json(r)?;
            } else {
                out!("{}", render::notice(&c));
                outln!(
                    "remains {}{}: {}",
                    r.tag,
                    if r.synthetic { " [synthetic]" } else { "" },
                    r.status
                );
                outln!(
                    "  recovered {} at {} ({}; team {})",
                    r.recovery.time,
                    r.recovery.place.short(),
                    r.recovery.context,
                    r.recovery.team
                );
                for f in &r.former_tags {
                    outln!(
                        "  formerly tagged {} (corrected to {}: {})",
                        f.tag, f.replaced_by, f.reason
                    );
                }
                outln!("records:");
                for rec in &r.records {
                    outln!("  {}", describe_record(rec));
                }
                outln!("status history:");
                for h in &r.history {
                    outln!("  {:<20} {} ({})", h.status.as_str(), h.time, h.because);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        R::List { case } => {
            let (vault, c) = read_case(cli, actor, &case.case).await?;
            vault.close().await;
            if cli.json {
                print_json(&c.remains.values().collect::<Vec<_>>())?;
            } else {
                out!("{}", render::notice(&c));
                for r in c.remains.values() {
                    outln!(
                        "{:<16} {:<20} recovered {}{}",
                        r.tag,
                        r.status.as_str(),
                        r.recovery.time,
                        if r.synthetic { " [synthetic]" } else { "" }
                    );
                }
                if !c.retired_tags.is_empty() {
                    for (old, new) in &c.retired_tags {
                        outln!("{old:<16} retired, now {new}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        R::ImportCsv { case, file } => {
            import_sheet(cli, actor, &case.case, Format::RemainsCsv, file).await
        }
        R::ExportCsv { case, out } => {
            export_sheet(cli, actor, &case.case, Format::RemainsCsv, out).await
        }
    }
}

fn describe_record(r: &RemainsRecord) -> String {
    match r {
        RemainsRecord::Examination {
            id,
            reexamination,
            examination: e,
        } => format!(
            "{id} {}{} by {} at {}; cause {}; manner {}",
            e.kind.label(),
            if *reexamination {
                " (re-examination)"
            } else {
                ""
            },
            e.examiner,
            e.time,
            e.cause_of_death.as_deref().unwrap_or("not recorded"),
            e.manner_of_death.label()
        ),
        RemainsRecord::ExaminationWaived { waiver } => format!(
            "examination waived at {} ({}; authorised by {})",
            waiver.time, waiver.reason, waiver.authorised_by
        ),
        RemainsRecord::IdentificationEvidence { id, evidence } => format!(
            "{id} {} comparison: {:?} by {} at {}",
            evidence.method.as_str(),
            evidence.result,
            evidence.analyst,
            evidence.time
        ),
        RemainsRecord::Decision { id, decision } => format!(
            "{id} {:?} identification on {} by {} at {}",
            decision.status,
            decision
                .basis
                .iter()
                .map(|b| b.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            decision.decided_by,
            decision.time
        ),
        RemainsRecord::Withdrawal { withdrawal } => format!(
            "decision {} withdrawn at {} by {}: {}",
            withdrawal.decision, withdrawal.time, withdrawal.by, withdrawal.reason
        ),
        RemainsRecord::FamilyNotified { notification } => format!(
            "family notified at {} by {}",
            notification.time, notification.by
        ),
        RemainsRecord::Released { release } => format!(
            "released to {} at {} by {}",
            release.released_to, release.time, release.by
        ),
        RemainsRecord::BuriedUnidentified { burial } => format!(
            "buried unidentified at {} (marker {}) at {}",
            burial.place.short(),
            burial.grave_marker,
            burial.time
        ),
        RemainsRecord::Exhumed { exhumation } => format!(
            "exhumed at {} ({})",
            exhumation.time, exhumation.authorisation
        ),
        RemainsRecord::RecoveryCorrected { reason, .. } => {
            format!("recovery corrected: {reason}")
        }
    }
}
