//! `custody case`, `custody place`, `custody evidence`, `custody incident`: cases, their
//! places, evidence records and observations, incidents and the element links.
//!
//! Every change is a case command, validated against the case and written as ledger
//! entries (one per event); the output names each entry.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use custody_app::cases::exchange::{self, Format};
use custody_app::cases::input::{PlaceInput, fuzzy, moment};
use custody_app::cases::model::context::ControlPeriod;
use custody_app::cases::model::crimes::CrimeRef;
use custody_app::cases::model::event::{ArmedConflict, ConflictKind};
use custody_app::cases::model::evidence::{
    Coverage, Evidence, EvidenceKind, Finding, Interpretation, Subject, SubjectFinding, Via,
};
use custody_app::cases::model::ids::{
    ControlPeriodId, EvidenceId, IncidentId, ObservationId, PlaceId, Tag,
};
use custody_app::cases::model::incident::{ElementLink, IncidentDraft, Stance};
use custody_app::cases::model::when::{DayEnd, parse_offset};
use custody_app::cases::model::{Command, render};
use custody_app::cases::observe::{self, ObserveInput};
use custody_app::cases::{self};
use custody_app::{Mode, Vault};
use custody_model::ItemId;

use super::args::{CaseArg, PlaceArgs, TimeArgs, by, change, label, print_recorded, read_case};
use crate::cli::Cli;
use crate::run::{finish_write, open, print_json};

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ConflictArg {
    International,
    NonInternational,
}

#[derive(Subcommand, Debug)]
pub enum CaseCommand {
    /// Open a new case (the first ledger entry of the case).
    Open {
        /// The case id, e.g. BUCHA-2022-01 (letters, digits and . _ - : /).
        id: String,
        /// A short title.
        #[arg(long)]
        title: String,
        /// The armed conflict the case is set in (for the nexus elements).
        #[arg(long, value_enum)]
        conflict: Option<ConflictArg>,
        /// Since when the armed conflict exists (date or RFC 3339), with --conflict.
        #[arg(long, value_name = "DATE")]
        conflict_since: Option<String>,
        /// Where the conflict's start comes from.
        #[arg(long, value_name = "TEXT")]
        conflict_basis: Option<String>,
        /// The UTC offset dates without a time are read at (e.g. +03:00).
        #[arg(long, default_value = "+00:00", allow_hyphen_values = true)]
        offset: String,
        /// A notice shown wherever the case is shown (e.g. "synthetic training data").
        #[arg(long)]
        notice: Option<String>,
    },
    /// List the cases of the vault.
    List,
    /// Summarise a case: places, evidence, incidents, claims, remains, witnesses (by
    /// pseudonym only).
    Show {
        /// The case id.
        id: String,
    },
    /// The ledger entries of a case, oldest first.
    Log {
        /// The case id.
        id: String,
    },
    /// Write the whole case as a `custody-case` JSON document (docs/design/case-model.md
    /// §7.1). Never includes sealed identities, unless --include-sealed is given with the
    /// unseal permission; then they go to a separate file and every read is logged.
    Export {
        /// The case id.
        id: String,
        /// The JSON file to create (must not exist).
        #[arg(long, short)]
        out: PathBuf,
        /// Also export the witnesses' sealed identities (to --sealed-out), reading each
        /// under --permission for --purpose; each read is a ledger entry.
        #[arg(long, requires_all = ["permission", "purpose", "sealed_out"])]
        include_sealed: bool,
        /// The permission for reading sealed identities: unseal-identity.
        #[arg(long)]
        permission: Option<String>,
        /// Why the identities are read (recorded in the ledger).
        #[arg(long)]
        purpose: Option<String>,
        /// The file for the sealed identities (created with mode 0600).
        #[arg(long, value_name = "FILE")]
        sealed_out: Option<PathBuf>,
        /// The sealing key file (default: keys/sealed.key in the vault).
        #[arg(long, env = "CUSTODY_SEALED_KEY", value_name = "FILE")]
        sealed_key: Option<PathBuf>,
    },
    /// Import a whole new case from a `custody-case` JSON document. All or nothing:
    /// every problem is reported with its line and JSON path, and nothing is written
    /// unless there is none.
    Import {
        /// The JSON document.
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum PlaceCommand {
    /// Define a named place of a case: a disc (centre and uncertainty radius) or a
    /// polygon, always with its basis.
    Add {
        #[command(flatten)]
        case: CaseArg,
        /// The place id, e.g. PL-YABLUNSKA (default: the next PL-nnnn).
        #[arg(long)]
        id: Option<String>,
        /// The place's name.
        #[arg(long)]
        name: String,
        /// Latitude of the centre (decimal degrees, WGS84).
        #[arg(long, allow_negative_numbers = true)]
        lat: Option<f64>,
        /// Longitude of the centre.
        #[arg(long, allow_negative_numbers = true)]
        lon: Option<f64>,
        /// Uncertainty radius in metres.
        #[arg(long, value_name = "METRES")]
        radius_m: Option<f64>,
        /// A polygon instead of a disc: "lat,lon;lat,lon;lat,lon;…".
        #[arg(long, value_name = "VERTICES", allow_hyphen_values = true)]
        polygon: Option<String>,
        /// Margin around the polygon in metres.
        #[arg(long, value_name = "METRES")]
        margin_m: Option<f64>,
        /// Where the position comes from. Default: names you as the one who entered it.
        #[arg(long)]
        basis: Option<String>,
    },
    /// Record who controlled an area when (a control period with fuzzy start and end).
    Control {
        #[command(flatten)]
        case: CaseArg,
        /// The period's id, e.g. CP-BUCHA.
        #[arg(long)]
        id: String,
        /// Who controlled the area.
        #[arg(long)]
        controller: String,
        #[command(flatten)]
        place: PlaceArgs,
        /// Earliest possible start (date or RFC 3339).
        #[arg(long = "from", value_name = "DATE")]
        from_earliest: String,
        /// Latest possible start (default: the end of --from's day).
        #[arg(long, value_name = "DATE")]
        from_latest: Option<String>,
        /// Earliest possible end; omit while the control continues.
        #[arg(long = "to", value_name = "DATE")]
        to_earliest: Option<String>,
        /// Latest possible end (default: the end of --to's day).
        #[arg(long, value_name = "DATE")]
        to_latest: Option<String>,
        /// A source (URL); repeat for several.
        #[arg(long = "link")]
        links: Vec<String>,
    },
    /// List the named places of a case.
    List {
        #[command(flatten)]
        case: CaseArg,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum CoverageArg {
    Sample,
    Complete,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViaArg {
    Shown,
    Interpretation,
}

#[derive(Subcommand, Debug)]
pub enum EvidenceCommand {
    /// Register an evidence record of a case (optionally with its vault item).
    Register {
        #[command(flatten)]
        case: CaseArg,
        /// The evidence id, e.g. EV-04.
        #[arg(long)]
        id: String,
        /// The kind: satellite_image, photo, video, social_post_capture,
        /// official_statement, eyewitness_report, analysis_report, ngo_report,
        /// forensic_records_summary, forensic_report, testimony, document, or your own.
        #[arg(long)]
        kind: String,
        /// Who or what it comes from.
        #[arg(long)]
        source: String,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
        /// The vault item holding its bytes (ITM-000042).
        #[arg(long)]
        item: Option<String>,
        #[command(flatten)]
        time: TimeArgs,
        #[command(flatten)]
        place: PlaceArgs,
        /// A source URL; repeat for several.
        #[arg(long = "link")]
        links: Vec<String>,
        /// For a records summary: tag numbers of the remains it covers; repeat.
        #[arg(long = "remains", value_name = "TAG")]
        remains: Vec<String>,
        /// For a records summary: whether it covers every case in scope.
        #[arg(long, value_enum)]
        coverage: Option<CoverageArg>,
    },
    /// Link an evidence record to the vault item that holds its bytes.
    LinkItem {
        #[command(flatten)]
        case: CaseArg,
        /// The evidence id.
        evidence: String,
        /// The item id (ITM-000042) or a SHA-256 prefix.
        item: String,
    },
    /// Record what an item shows (kept apart from its interpretation). Place and time
    /// come from the item's extracted metadata (GNSS position, capture clocks) where
    /// present, else from what you enter, else from the evidence record.
    Observe(ObserveArgs),
    /// Mark an observation as superseded (a correction: the old one is kept).
    Supersede {
        #[command(flatten)]
        case: CaseArg,
        /// The observation, e.g. OB-0003.
        observation: String,
        /// Why it no longer holds.
        #[arg(long)]
        reason: String,
    },
    /// List the evidence records of a case.
    List {
        #[command(flatten)]
        case: CaseArg,
    },
    /// Import evidence records from a CSV sheet (docs/design/case-model.md §7.3). All or
    /// nothing; problems are reported by row and column.
    ImportCsv {
        #[command(flatten)]
        case: CaseArg,
        /// The CSV file.
        file: PathBuf,
    },
    /// Export the evidence records of a case as CSV.
    ExportCsv {
        #[command(flatten)]
        case: CaseArg,
        /// The CSV file to create.
        #[arg(long, short)]
        out: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
pub struct ObserveArgs {
    #[command(flatten)]
    case: CaseArg,
    /// The evidence record observed, e.g. EV-04.
    evidence: String,
    /// What the item shows, in neutral terms ("dark, body-sized objects on the road").
    #[arg(long)]
    shows: String,
    /// What it is taken to mean ("bodies"), kept apart from what it shows.
    #[arg(long)]
    interpretation: Option<String>,
    /// Who interprets (default: you).
    #[arg(long)]
    interpreted_by: Option<String>,
    /// Evidence corroborating the interpretation; repeat.
    #[arg(long = "corroborated-by", value_name = "EV")]
    corroborated_by: Vec<String>,
    /// A subject the item shows present ("bodies on street"); repeat.
    #[arg(long = "present", value_name = "SUBJECT")]
    present: Vec<String>,
    /// A subject the item shows absent; repeat.
    #[arg(long = "absent", value_name = "SUBJECT")]
    absent: Vec<String>,
    /// Whether the findings are plainly shown or rest on the interpretation (default:
    /// interpretation when --interpretation is given).
    #[arg(long, value_enum)]
    via: Option<ViaArg>,
    #[command(flatten)]
    time: TimeArgs,
    #[command(flatten)]
    place: PlaceArgs,
    /// The item reports what someone else observed (a secondary source): who.
    #[arg(long)]
    reported_by: Option<String>,
    /// Evidence this observation was derived from; repeat.
    #[arg(long = "derived-from", value_name = "EV")]
    derived_from: Vec<String>,
    /// Distance in metres from the camera to what is shown, added to a GNSS fix.
    #[arg(long, default_value_t = 0.0, value_name = "METRES")]
    view_extent_m: f64,
    /// The earliest possible capture time when no clock gives one (default: the start
    /// of the case's armed conflict).
    #[arg(long, value_name = "DATE")]
    floor: Option<String>,
    /// Where --floor comes from.
    #[arg(long, value_name = "TEXT")]
    floor_basis: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum IncidentCommand {
    /// Add an incident: what happened, where (an area) and when (an interval).
    Add {
        #[command(flatten)]
        case: CaseArg,
        /// The incident id (default: the next INC-nnnn).
        #[arg(long)]
        id: Option<String>,
        /// A short title.
        #[arg(long)]
        title: String,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        time: TimeArgs,
        #[command(flatten)]
        place: PlaceArgs,
        /// A candidate crime (RS-8(2)(a)(i), or a national article such as UA-CC-438);
        /// repeat.
        #[arg(long = "crime")]
        crimes: Vec<String>,
        /// Evidence linked to the incident; repeat.
        #[arg(long = "evidence", value_name = "EV")]
        evidence: Vec<String>,
    },
    /// Add a candidate crime to an incident.
    Crime {
        #[command(flatten)]
        case: CaseArg,
        /// The incident.
        incident: String,
        /// The crime code.
        crime: String,
    },
    /// Link evidence to an incident.
    Link {
        #[command(flatten)]
        case: CaseArg,
        /// The incident.
        incident: String,
        /// The evidence id.
        evidence: String,
    },
    /// Link evidence to one legal element of a candidate crime (supporting, or with
    /// --undercuts, undercutting). `custody matrix` shows the elements and gaps.
    Element {
        #[command(flatten)]
        case: CaseArg,
        /// The incident.
        incident: String,
        /// The candidate crime.
        #[arg(long)]
        crime: String,
        /// The element id (e.g. E1, protected-status; an unknown one lists them).
        #[arg(long)]
        element: String,
        /// The evidence id.
        #[arg(long)]
        evidence: String,
        /// The evidence undercuts the element instead of supporting it.
        #[arg(long)]
        undercuts: bool,
        /// A note on why.
        #[arg(long, default_value = "")]
        note: String,
        /// Who made the link (default: you).
        #[arg(long)]
        by: Option<String>,
    },
    /// Retract an element link (a correction; the link is kept as retracted).
    Retract {
        #[command(flatten)]
        case: CaseArg,
        /// The incident.
        incident: String,
        /// The candidate crime of the link.
        #[arg(long)]
        crime: String,
        /// The element of the link.
        #[arg(long)]
        element: String,
        /// The evidence of the link.
        #[arg(long)]
        evidence: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// List the incidents of a case.
    List {
        #[command(flatten)]
        case: CaseArg,
    },
}

fn item_id(s: &str) -> Result<ItemId> {
    label::<ItemId>(s)
}

fn coverage(c: Option<CoverageArg>) -> Option<Coverage> {
    c.map(|c| match c {
        CoverageArg::Sample => Coverage::Sample,
        CoverageArg::Complete => Coverage::Complete,
    })
}

pub async fn run_case(cli: &Cli, actor: &str, cmd: &CaseCommand) -> Result<ExitCode> {
    match cmd {
        CaseCommand::Open {
            id,
            title,
            conflict,
            conflict_since,
            conflict_basis,
            offset,
            notice,
        } => {
            let off = parse_offset(offset).with_context(|| {
                format!("--offset {offset:?} is not a UTC offset such as +03:00")
            })?;
            let armed = match (conflict, conflict_since) {
                (None, None) => None,
                (Some(k), Some(since)) => Some(ArmedConflict {
                    kind: match k {
                        ConflictArg::International => ConflictKind::International,
                        ConflictArg::NonInternational => ConflictKind::NonInternational,
                    },
                    since: moment(since, off, DayEnd::Start, "--conflict-since")?,
                    basis: conflict_basis.clone().unwrap_or_default(),
                }),
                (Some(_), None) => bail!("--conflict needs --conflict-since DATE"),
                (None, Some(_)) => bail!("--conflict-since needs --conflict"),
            };
            let (id, title, notice) = (id.clone(), title.clone(), notice.clone());
            super::args::write(cli, actor, |v| async move {
                let r = cases::open(&v, &id, &title, armed, off, notice).await;
                (v, r)
            })
            .await
        }
        CaseCommand::List => {
            let vault = open(cli, Mode::Read, actor).await?;
            let list = cases::list(&vault).await;
            vault.close().await;
            let list = list?;
            if cli.json {
                let v: Vec<_> = list
                    .iter()
                    .map(|c| {
                        serde_json::json!({"id": c.id, "title": c.title, "opened_entry": c.opened_seq, "events": c.events})
                    })
                    .collect();
                print_json(&v)?;
            } else if list.is_empty() {
                outln!("no cases (open one with `custody case open`)");
            } else {
                outln!("{:<28} {:>7} {:>7}  TITLE", "CASE", "EVENTS", "OPENED");
                for c in &list {
                    outln!(
                        "{:<28} {:>7} {:>7}  {}",
                        c.id,
                        c.events,
                        c.opened_seq,
                        c.title
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        CaseCommand::Show { id } => {
            let (vault, case) = read_case(cli, actor, id).await?;
            vault.close().await;
            if cli.json {
                let doc: serde_json::Value =
                    serde_json::from_str(&cases::model::exchange::export_json(&case))?;
                print_json(&serde_json::json!({
                    "notice": case.notice,
                    "summary": render::case_summary(&case),
                    "case": doc,
                }))?;
            } else {
                out!("{}", render::case_summary(&case));
            }
            Ok(ExitCode::SUCCESS)
        }
        CaseCommand::Log { id } => {
            let vault = open(cli, Mode::Read, actor).await?;
            let events = cases::events(&vault, id).await;
            vault.close().await;
            let events = events?;
            if cli.json {
                let v: Vec<_> = events
                    .iter()
                    .map(|(s, a, d)| serde_json::json!({"seq": s, "action": a, "details": d}))
                    .collect();
                print_json(&v)?;
            } else {
                for (seq, action, d) in &events {
                    let text = cases::model::CaseEvent::from_details(d)
                        .map(|e| cases::describe(&e.event))
                        .unwrap_or_else(|e| format!("unreadable: {e}"));
                    outln!("ledger entry {seq:<6} {action:<34} {text}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        CaseCommand::Export {
            id,
            out,
            include_sealed,
            permission,
            purpose,
            sealed_out,
            sealed_key,
        } => {
            let vault = open(cli, Mode::Write, actor).await?;
            let result = export_case(
                &vault,
                id,
                out,
                include_sealed.then_some(()).map(|_| {
                    (
                        permission.clone().unwrap_or_default(),
                        purpose.clone().unwrap_or_default(),
                        sealed_out.clone().unwrap_or_default(),
                    )
                }),
                sealed_key.as_deref(),
            )
            .await;
            let result = finish_write(vault, result).await;
            let (exported, sealed) = result?;
            if cli.json {
                print_json(&serde_json::json!({"export": exported, "sealed": sealed}))?;
            } else {
                outln!(
                    "case {} written to {} ({} bytes, sha256 {}); recorded as ledger entry {}",
                    exported.case,
                    exported.out.display(),
                    exported.bytes,
                    exported.sha256,
                    exported.ledger_seq
                );
                outln!("the export holds no sealed identity");
                if let Some(s) = sealed {
                    outln!(
                        "{} sealed identities written to {} (mode 0600); each read recorded: ledger entries {}",
                        s.witnesses,
                        s.out.display(),
                        s.reads
                            .iter()
                            .map(|r| r.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        CaseCommand::Import { file } => {
            let text = read_text(file)?;
            let source = file_name(file);
            super::args::write(cli, actor, |v| async move {
                let r = exchange::import_case_json(&v, &text, &source).await;
                (v, r)
            })
            .await
        }
    }
}

async fn export_case(
    vault: &Vault,
    id: &str,
    out: &std::path::Path,
    sealed: Option<(String, String, PathBuf)>,
    key: Option<&std::path::Path>,
) -> Result<(exchange::Exported, Option<exchange::SealedExported>)> {
    // Sealed identities first: if the permission or key is refused, nothing is written.
    let s = match &sealed {
        Some((permission, purpose, sealed_out)) => {
            Some(exchange::export_sealed(vault, key, id, permission, purpose, sealed_out).await?)
        }
        None => None,
    };
    let e = exchange::export(vault, id, Format::CaseJson, out).await?;
    Ok((e, s))
}

pub(crate) fn read_text(file: &std::path::Path) -> Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not UTF-8 text (first bad byte at offset {}); save it as UTF-8 and import again",
            file.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

pub(crate) fn file_name(file: &std::path::Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(crate) async fn export_sheet(
    cli: &Cli,
    actor: &str,
    case: &str,
    format: Format,
    out: &std::path::Path,
) -> Result<ExitCode> {
    let vault = open(cli, Mode::Write, actor).await?;
    let r = exchange::export(&vault, case, format, out).await;
    let r = finish_write(vault, r).await;
    let r = r?;
    if cli.json {
        print_json(&r)?;
    } else {
        outln!(
            "{} of case {} written to {} ({} bytes); recorded as ledger entry {}",
            r.format,
            r.case,
            r.out.display(),
            r.bytes,
            r.ledger_seq
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn import_sheet(
    cli: &Cli,
    actor: &str,
    case: &str,
    format: Format,
    file: &std::path::Path,
) -> Result<ExitCode> {
    let text = read_text(file)?;
    let source = file_name(file);
    let case = case.to_owned();
    super::args::write(cli, actor, |v| async move {
        let r = match format {
            Format::RemainsCsv => exchange::import_remains_csv(&v, &case, &text, &source).await,
            _ => exchange::import_items_csv(&v, &case, &text, &source).await,
        };
        (v, r)
    })
    .await
}

pub async fn run_place(cli: &Cli, actor: &str, cmd: &PlaceCommand) -> Result<ExitCode> {
    match cmd {
        PlaceCommand::Add {
            case,
            id,
            name,
            lat,
            lon,
            radius_m,
            polygon,
            margin_m,
            basis,
        } => {
            let input = PlaceInput {
                place: None,
                lat: *lat,
                lon: *lon,
                radius_m: *radius_m,
                polygon: polygon.clone(),
                margin_m: *margin_m,
                basis: basis.clone(),
            };
            change(cli, actor, &case.case, |_c| {
                let place = input.place(None, actor)?.context(
                    "a place needs --lat, --lon and --radius-m, or --polygon with --margin-m",
                )?;
                Ok(vec![Command::DefinePlace {
                    id: id.as_deref().map(label::<PlaceId>).transpose()?,
                    name: name.clone(),
                    place,
                }])
            })
            .await
        }
        PlaceCommand::Control {
            case,
            id,
            controller,
            place,
            from_earliest,
            from_latest,
            to_earliest,
            to_latest,
            links,
        } => {
            change(cli, actor, &case.case, |c| {
                let area = place.input().place(Some(c), actor)?.context(
                    "a control period needs its area: --place PL-REF or --lat/--lon/--radius-m",
                )?;
                let off = c.local_offset;
                let to = match to_earliest {
                    Some(t) => Some(fuzzy(t, to_latest.as_deref(), off, "--to")?),
                    None => None,
                };
                Ok(vec![Command::RecordControlPeriod {
                    period: ControlPeriod {
                        id: label::<ControlPeriodId>(id)?,
                        place_ref: place.place.as_deref().map(label::<PlaceId>).transpose()?,
                        area,
                        controller: controller.clone(),
                        from: fuzzy(from_earliest, from_latest.as_deref(), off, "--from")?,
                        to,
                        links: links.clone(),
                    },
                }])
            })
            .await
        }
        PlaceCommand::List { case } => {
            let (vault, c) = read_case(cli, actor, &case.case).await?;
            vault.close().await;
            if cli.json {
                print_json(&c.places.values().collect::<Vec<_>>())?;
            } else {
                out!("{}", render::notice(&c));
                for p in c.places.values() {
                    outln!("{:<20} {:<40} {}", p.id, p.name, p.place.short());
                }
                for cp in c.control_periods.values() {
                    outln!(
                        "{:<20} controlled by {} from {} to {}",
                        cp.id,
                        cp.controller,
                        cp.from,
                        cp.to
                            .as_ref()
                            .map(|t| t.to_string())
                            .unwrap_or_else(|| "(ongoing)".into())
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn run_evidence(cli: &Cli, actor: &str, cmd: &EvidenceCommand) -> Result<ExitCode> {
    match cmd {
        EvidenceCommand::Register {
            case,
            id,
            kind,
            source,
            description,
            item,
            time,
            place,
            links,
            remains,
            coverage: cov,
        } => {
            change(cli, actor, &case.case, |c| {
                Ok(vec![Command::RegisterEvidence {
                    evidence: Evidence {
                        id: label::<EvidenceId>(id)?,
                        item: item.as_deref().map(item_id).transpose()?,
                        kind: EvidenceKind::parse(kind),
                        source: source.clone(),
                        description: description.clone(),
                        captured: time.input().interval(c.local_offset, actor)?,
                        place: place.input().place(Some(c), actor)?,
                        links: links.clone(),
                        media: None,
                        remains: remains
                            .iter()
                            .map(|t| label::<Tag>(t))
                            .collect::<Result<_>>()?,
                        coverage: coverage(*cov),
                    },
                }])
            })
            .await
        }
        EvidenceCommand::LinkItem {
            case,
            evidence,
            item,
        } => {
            let vault = open(cli, Mode::Write, actor).await?;
            let result: Result<cases::Recorded> = async {
                let it = custody_app::items::resolve(&vault, item).await?;
                Ok(cases::execute(
                    &vault,
                    &case.case,
                    vec![Command::LinkEvidenceItem {
                        evidence: label::<EvidenceId>(evidence)?,
                        item: it.id,
                    }],
                )
                .await?)
            }
            .await;
            let result = finish_write(vault, result).await;
            print_recorded(cli, &result?)?;
            Ok(ExitCode::SUCCESS)
        }
        EvidenceCommand::Observe(a) => observe_cmd(cli, actor, a).await,
        EvidenceCommand::Supersede {
            case,
            observation,
            reason,
        } => {
            change(cli, actor, &case.case, |_c| {
                Ok(vec![Command::SupersedeObservation {
                    observation: label::<ObservationId>(observation)?,
                    replacement: None,
                    reason: reason.clone(),
                }])
            })
            .await
        }
        EvidenceCommand::List { case } => {
            let (vault, c) = read_case(cli, actor, &case.case).await?;
            vault.close().await;
            if cli.json {
                print_json(&c.evidence.values().collect::<Vec<_>>())?;
            } else {
                out!("{}", render::notice(&c));
                for e in c.evidence.values() {
                    let obs = c
                        .active_observations()
                        .filter(|o| o.evidence == e.id)
                        .count();
                    outln!(
                        "{:<10} {:<26} {:<11} {} observation(s); captured {}",
                        e.id,
                        e.kind.to_string(),
                        e.item.map(|i| i.to_string()).unwrap_or_else(|| "-".into()),
                        obs,
                        e.captured
                            .as_ref()
                            .map(|t| t.to_string())
                            .unwrap_or_else(|| "unknown".into())
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        EvidenceCommand::ImportCsv { case, file } => {
            import_sheet(cli, actor, &case.case, Format::ItemsCsv, file).await
        }
        EvidenceCommand::ExportCsv { case, out } => {
            export_sheet(cli, actor, &case.case, Format::ItemsCsv, out).await
        }
    }
}

async fn observe_cmd(cli: &Cli, actor: &str, a: &ObserveArgs) -> Result<ExitCode> {
    let via = match a.via {
        Some(ViaArg::Shown) => Via::Shown,
        Some(ViaArg::Interpretation) => Via::Interpretation,
        None if a.interpretation.is_some() => Via::Interpretation,
        None => Via::Shown,
    };
    let mut subjects = Vec::new();
    for (list, finding) in [(&a.present, Finding::Present), (&a.absent, Finding::Absent)] {
        for s in list {
            subjects.push(SubjectFinding {
                subject: Subject::new(s).context("a subject cannot be empty")?,
                finding,
                via,
            });
        }
    }
    let interpretation = match &a.interpretation {
        Some(text) => Some(Interpretation {
            text: text.clone(),
            by: by(&a.interpreted_by, actor),
            corroborated_by: a
                .corroborated_by
                .iter()
                .map(|e| label::<EvidenceId>(e))
                .collect::<Result<_>>()?,
        }),
        None if !a.corroborated_by.is_empty() || a.interpreted_by.is_some() => {
            bail!("--interpreted-by and --corroborated-by need --interpretation")
        }
        None => None,
    };
    let floor = match (&a.floor, &a.floor_basis) {
        (Some(f), b) => Some((
            f.clone(),
            b.clone()
                .unwrap_or_else(|| format!("floor entered by {actor}")),
        )),
        (None, Some(_)) => bail!("--floor-basis needs --floor"),
        (None, None) => None,
    };
    let input = ObserveInput {
        evidence: a.evidence.clone(),
        shows: a.shows.clone(),
        interpretation,
        subjects,
        time: a.time.input(),
        place: a.place.input(),
        reported_by: a.reported_by.clone(),
        derived_from: a.derived_from.clone(),
        view_extent_m: a.view_extent_m,
        floor,
    };
    let vault = open(cli, Mode::Write, actor).await?;
    let result = observe::observe(&vault, &a.case.case, &input).await;
    let result = finish_write(vault, result).await;
    let (recorded, derivation) = result?;
    if cli.json {
        print_json(&serde_json::json!({"recorded": recorded, "derivation": derivation}))?;
    } else {
        print_recorded(cli, &recorded)?;
        outln!(
            "time from {}, place from {}",
            derivation.time_from,
            derivation.place_from
        );
        for u in &derivation.used {
            outln!("  used:       {u}");
        }
        for s in &derivation.set_aside {
            outln!("  set aside:  {s}");
        }
        for n in &derivation.notes {
            outln!("  note:       {n}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_incident(cli: &Cli, actor: &str, cmd: &IncidentCommand) -> Result<ExitCode> {
    match cmd {
        IncidentCommand::Add {
            case,
            id,
            title,
            description,
            time,
            place,
            crimes,
            evidence,
        } => {
            change(cli, actor, &case.case, |c| {
                Ok(vec![Command::AddIncident {
                    id: id.as_deref().map(label::<IncidentId>).transpose()?,
                    draft: IncidentDraft {
                        title: title.clone(),
                        description: description.clone(),
                        place: place.input().place(Some(c), actor)?.context(
                            "an incident needs a place: --place PL-REF or --lat/--lon/--radius-m",
                        )?,
                        time: time
                            .input()
                            .required(c.local_offset, actor, "an incident")?,
                    },
                    crimes: crimes
                        .iter()
                        .map(|s| Ok(CrimeRef::parse(s)?))
                        .collect::<Result<_>>()?,
                    evidence: evidence
                        .iter()
                        .map(|e| label::<EvidenceId>(e))
                        .collect::<Result<_>>()?,
                }])
            })
            .await
        }
        IncidentCommand::Crime {
            case,
            incident,
            crime,
        } => {
            change(cli, actor, &case.case, |_c| {
                Ok(vec![Command::AddCrime {
                    incident: label::<IncidentId>(incident)?,
                    crime: CrimeRef::parse(crime)?,
                }])
            })
            .await
        }
        IncidentCommand::Link {
            case,
            incident,
            evidence,
        } => {
            change(cli, actor, &case.case, |_c| {
                Ok(vec![Command::LinkIncidentEvidence {
                    incident: label::<IncidentId>(incident)?,
                    evidence: label::<EvidenceId>(evidence)?,
                }])
            })
            .await
        }
        IncidentCommand::Element {
            case,
            incident,
            crime,
            element,
            evidence,
            undercuts,
            note,
            by: who,
        } => {
            change(cli, actor, &case.case, |_c| {
                Ok(vec![Command::LinkElement {
                    incident: label::<IncidentId>(incident)?,
                    link: ElementLink {
                        crime: CrimeRef::parse(crime)?,
                        element: element.trim().to_owned(),
                        evidence: label::<EvidenceId>(evidence)?,
                        stance: if *undercuts {
                            Stance::Undercuts
                        } else {
                            Stance::Supports
                        },
                        note: note.clone(),
                        by: by(who, actor),
                    },
                }])
            })
            .await
        }
        IncidentCommand::Retract {
            case,
            incident,
            crime,
            element,
            evidence,
            reason,
        } => {
            change(cli, actor, &case.case, |_c| {
                Ok(vec![Command::RetractElementLink {
                    incident: label::<IncidentId>(incident)?,
                    crime: CrimeRef::parse(crime)?,
                    element: element.trim().to_owned(),
                    evidence: label::<EvidenceId>(evidence)?,
                    reason: reason.clone(),
                }])
            })
            .await
        }
        IncidentCommand::List { case } => {
            let (vault, c) = read_case(cli, actor, &case.case).await?;
            vault.close().await;
            if cli.json {
                print_json(&c.incidents.values().collect::<Vec<_>>())?;
            } else {
                out!("{}", render::notice(&c));
                for i in c.incidents.values() {
                    let crimes: Vec<&str> = i.crimes.iter().map(|c| c.as_str()).collect();
                    outln!(
                        "{:<10} {} — {} at {}; crimes: {}; {} evidence record(s)",
                        i.id,
                        i.draft.title,
                        i.draft.time,
                        i.draft.place.short(),
                        if crimes.is_empty() {
                            "none yet".into()
                        } else {
                            crimes.join(", ")
                        },
                        i.evidence.len()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
