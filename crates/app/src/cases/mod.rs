//! Cases in the vault: the case model (`custody-cases`) joined to the ledger and the
//! catalog.
//!
//! Every change to a case is a case event, and every case event is one ledger entry
//! (`action` = the event's action, `item`/`sha256` = the vault item it concerns,
//! `details` = the event). A command runs as: load the case by replaying its events from
//! the catalog, validate the command against it ([`custody_cases::handle`]), commit the
//! events ([`Vault::commit`]), and let the projection store them in the catalog
//! ([`changes`]). Nothing else writes a case, so `custody verify` can replay every case
//! from the ledger ([`replay_problems`]).
//!
//! - [`input`]: times and places as a user enters them, always with a basis.
//! - [`observe`]: observations whose place and time come from extracted metadata.
//! - [`exchange`]: import and export of a whole case (JSON) and of remains and evidence
//!   (CSV), all-or-nothing.

pub mod exchange;
pub mod input;
pub mod observe;
pub mod witness;

use std::collections::{BTreeMap, BTreeSet};

use custody_cases::claims::{CheckOptions, ClaimResult};
use custody_cases::event::ArmedConflict;
use custody_cases::forensic::{Counts, RemainsRecord};
use custody_cases::geo::Place;
use custody_cases::ids::{CaseId, ClaimId, IncidentId};
use custody_cases::matrix::Matrix;
use custody_cases::when::Moment;
use custody_cases::{Case, CaseEvent, Command, Event};
use custody_ledger::Entry;
use custody_model::{Action, ItemId};
use custody_store::{CaseChange, CaseEventRow, CaseRow, Change, SealedReadRow, SealedRecordRow};
use serde::Serialize;
use serde_json::Value;
use time::UtcOffset;

pub use custody_cases as model;

use crate::error::{AppError, Result};
use crate::vault::{Pending, Vault};

/// Ledger action families that case events use.
const CASE_FAMILIES: [&str; 5] = ["case.", "incident.", "claim.", "remains.", "witness."];

/// One ledger entry written for a case.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedEntry {
    pub seq: u64,
    pub action: String,
    /// What the entry did, in words ("examination EX-0001 of R-7").
    pub summary: String,
    pub details: Value,
}

/// What a case command wrote.
#[derive(Clone, Debug, Serialize)]
pub struct Recorded {
    pub case: String,
    pub entries: Vec<RecordedEntry>,
}

/// True when the entry is a case event: a case action family and details carrying the
/// event format version, the case and the event type.
pub fn is_case_event(action: &str, details: &Value) -> bool {
    CASE_FAMILIES.iter().any(|f| action.starts_with(f))
        && details.get("v").is_some_and(Value::is_u64)
        && details.get("case").is_some_and(Value::is_string)
        && details.get("type").is_some_and(Value::is_string)
}

/// True when `action` is one the case projection handles.
pub fn projects(action: &str) -> bool {
    CASE_FAMILIES.iter().any(|f| action.starts_with(f)) || action.starts_with("sealed.")
}

fn canonical(details: &Value) -> Value {
    let mut d = details.clone();
    d.sort_all_objects();
    d
}

/// The catalog changes of a case or sealed-store entry. Never fails: an entry that is
/// not well formed is still kept as a case event (when it names its case) so that
/// `custody verify` reports it instead of the catalog refusing the ledger.
pub fn changes(entry: &Entry) -> Vec<Change> {
    let action = entry.action.as_str();
    let d = &entry.details;
    let s = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut out = Vec::new();
    if is_case_event(action, d) {
        let case_id = s("case").unwrap_or_default();
        out.push(Change::Case(CaseChange::Event(CaseEventRow {
            seq: entry.seq,
            case_id: case_id.clone(),
            action: action.to_owned(),
            details: canonical(d).to_string(),
        })));
        if action == "case.opened" {
            out.push(Change::Case(CaseChange::Opened {
                id: case_id,
                title: s("title").unwrap_or_default(),
                seq: entry.seq,
            }));
        }
        return out;
    }
    match action {
        crate::sealed::STORED => {
            if let (Some(reference), Some(digest), Some(key_id)) =
                (s("ref"), s("ciphertext_sha256"), s("key_id"))
            {
                out.push(Change::Case(CaseChange::SealedStored(SealedRecordRow {
                    reference,
                    ciphertext_sha256: digest,
                    key_id,
                    case_id: s("case"),
                    stored_seq: entry.seq,
                })));
            }
        }
        crate::sealed::READ => {
            if let (Some(reference), Some(permission), Some(purpose)) =
                (s("ref"), s("permission"), s("purpose"))
            {
                out.push(Change::Case(CaseChange::SealedRead(SealedReadRow {
                    seq: entry.seq,
                    reference,
                    actor: entry.actor.clone(),
                    permission,
                    purpose,
                })));
            }
        }
        _ => {}
    }
    out
}

fn case_id(id: &str) -> Result<CaseId> {
    CaseId::new(id.trim()).map_err(|e| AppError::Invalid(e.to_string()))
}

fn case_error(e: custody_cases::CaseError) -> AppError {
    AppError::Invalid(e.to_string())
}

/// Replays events given as (ledger seq, action, details) into a case.
fn replay_events<'a>(
    id: &str,
    events: impl IntoIterator<Item = (u64, &'a str, &'a Value)>,
) -> std::result::Result<Case, String> {
    let mut case: Option<Case> = None;
    for (seq, action, details) in events {
        let at = |e: &dyn std::fmt::Display| {
            format!("case {id} does not replay from the ledger: entry {seq} ({action}): {e}")
        };
        let ev = CaseEvent::from_details(details).map_err(|e| at(&e))?;
        if ev.event.action() != action {
            return Err(at(&format!(
                "the entry's action does not match its event, which is a {} event",
                ev.event.action()
            )));
        }
        match &mut case {
            None => case = Some(Case::open(&ev).map_err(|e| at(&e))?),
            Some(c) => c.apply_versioned(&ev).map_err(|e| at(&e))?,
        }
    }
    case.ok_or_else(|| format!("case {id} has no events"))
}

fn parse_rows(rows: &[CaseEventRow]) -> Result<Vec<(u64, String, Value)>> {
    rows.iter()
        .map(|r| {
            let v: Value = serde_json::from_str(&r.details).map_err(|e| {
                AppError::Invalid(format!(
                    "catalog row case_events/{} is not JSON ({e}); run `custody verify`",
                    r.seq
                ))
            })?;
            Ok((r.seq, r.action.clone(), v))
        })
        .collect()
}

/// Loads a case by replaying its events from the catalog.
pub async fn load(vault: &Vault, id: &str) -> Result<Case> {
    let id = case_id(id)?;
    let rows = vault.catalog().case_events(id.as_str()).await?;
    if rows.is_empty() {
        return Err(AppError::Invalid(format!(
            "no case {id} in this vault; `custody case list` shows the cases, `custody case open` opens one"
        )));
    }
    let parsed = parse_rows(&rows)?;
    replay_events(
        id.as_str(),
        parsed.iter().map(|(s, a, v)| (*s, a.as_str(), v)),
    )
    .map_err(|e| AppError::Invalid(format!("{e}; run `custody verify`")))
}

/// The cases of the vault.
pub async fn list(vault: &Vault) -> Result<Vec<CaseRow>> {
    Ok(vault.catalog().cases().await?)
}

/// The ledger entries of a case, oldest first: (seq, action, details).
pub async fn events(vault: &Vault, id: &str) -> Result<Vec<(u64, String, Value)>> {
    let id = case_id(id)?;
    let rows = vault.catalog().case_events(id.as_str()).await?;
    if rows.is_empty() {
        return Err(AppError::Invalid(format!("no case {id} in this vault")));
    }
    parse_rows(&rows)
}

/// Validates commands one after the other against the case (each sees the events of
/// the ones before) and returns all their events; nothing is written.
pub fn plan(case: &Case, commands: Vec<Command>) -> Result<Vec<Event>> {
    let mut scratch = case.clone();
    let mut out = Vec::new();
    for cmd in commands {
        let events = custody_cases::handle(&scratch, cmd).map_err(case_error)?;
        for e in &events {
            scratch.apply(e).map_err(case_error)?;
        }
        out.extend(events);
    }
    Ok(out)
}

/// The ledger entry for a case event: the vault item and its digest when it names one.
pub async fn pending(vault: &Vault, event: &CaseEvent) -> Result<Pending> {
    let item = event.event.item();
    let sha256 = match item {
        Some(id) => Some(item_digest(vault, id).await?),
        None => None,
    };
    Ok(Pending {
        action: Action::parse(event.event.action()),
        item,
        sha256,
        details: canonical(&event.to_details()),
    })
}

async fn item_digest(vault: &Vault, id: ItemId) -> Result<custody_model::Digest> {
    Ok(vault
        .catalog()
        .item(id)
        .await?
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "item {id} is not in this vault; ingest it first (`custody ingest`) or check the id with `custody list`"
            ))
        })?
        .sha256)
}

/// Commits case events (with any other entries that belong to the same change, such as
/// a `sealed.stored` written first) in one batch.
pub async fn commit_events(
    vault: &Vault,
    case: &CaseId,
    before: Vec<Pending>,
    events: Vec<CaseEvent>,
    after: Vec<Pending>,
) -> Result<Recorded> {
    let mut batch = before;
    let first_event = batch.len();
    let mut summaries = Vec::new();
    for e in &events {
        batch.push(pending(vault, e).await?);
        summaries.push(describe(&e.event));
    }
    batch.extend(after);
    let entries = vault.commit(batch, &[]).await?;
    let recorded = entries
        .iter()
        .enumerate()
        .map(|(i, e)| RecordedEntry {
            seq: e.seq,
            action: e.action.to_string(),
            summary: if i >= first_event && i < first_event + summaries.len() {
                summaries[i - first_event].clone()
            } else {
                e.action.to_string()
            },
            details: e.details.clone(),
        })
        .collect();
    Ok(Recorded {
        case: case.to_string(),
        entries: recorded,
    })
}

/// Runs commands against a case: load, validate, commit.
pub async fn execute(vault: &Vault, id: &str, commands: Vec<Command>) -> Result<Recorded> {
    let case = load(vault, id).await?;
    execute_on(vault, &case, commands).await
}

/// Runs commands against a case already loaded from this vault: validate, commit.
pub async fn execute_on(vault: &Vault, case: &Case, commands: Vec<Command>) -> Result<Recorded> {
    let events = plan(case, commands)?;
    let wrapped = events.into_iter().map(|e| case.wrap(e)).collect();
    commit_events(vault, &case.id, Vec::new(), wrapped, Vec::new()).await
}

/// Opens a new case.
pub async fn open(
    vault: &Vault,
    id: &str,
    title: &str,
    armed_conflict: Option<ArmedConflict>,
    local_offset: UtcOffset,
    notice: Option<String>,
) -> Result<Recorded> {
    let id = case_id(id)?;
    ensure_new(vault, &id).await?;
    let e = custody_cases::open(id.clone(), title, armed_conflict, local_offset, notice)
        .map_err(case_error)?;
    commit_events(vault, &id, Vec::new(), vec![e], Vec::new()).await
}

pub(crate) async fn ensure_new(vault: &Vault, id: &CaseId) -> Result<()> {
    if !vault.catalog().case_events(id.as_str()).await?.is_empty() {
        return Err(AppError::Invalid(format!(
            "case {id} already exists in this vault; a case is opened once (choose another id, or change the case with its commands)"
        )));
    }
    Ok(())
}

/// One line per event: what it did.
pub fn describe(e: &Event) -> String {
    match e {
        Event::CaseOpened { title, .. } => format!("case opened: {title}"),
        Event::PlaceDefined { id, name, .. } => format!("place {id} ({name}) defined"),
        Event::ControlPeriodRecorded { period } => {
            format!(
                "control period {} ({}) recorded",
                period.id, period.controller
            )
        }
        Event::EvidenceRegistered { evidence } => format!(
            "evidence {} ({}) registered{}",
            evidence.id,
            evidence.kind,
            evidence
                .item
                .map(|i| format!(", item {i}"))
                .unwrap_or_default()
        ),
        Event::EvidenceItemLinked { evidence, item } => {
            format!("evidence {evidence} linked to item {item}")
        }
        Event::ObservationRecorded { observation } => format!(
            "observation {} on {} recorded",
            observation.id, observation.evidence
        ),
        Event::ObservationSuperseded {
            observation, by, ..
        } => format!(
            "observation {observation} superseded{}",
            by.as_ref().map(|b| format!(" by {b}")).unwrap_or_default()
        ),
        Event::IncidentAdded { incident, draft } => {
            format!("incident {incident} added: {}", draft.title)
        }
        Event::IncidentCrimeAdded { incident, crime } => {
            format!("{crime} added as a candidate crime of {incident}")
        }
        Event::IncidentEvidenceLinked { incident, evidence } => {
            format!("evidence {evidence} linked to {incident}")
        }
        Event::ElementEvidenceLinked { incident, link } => format!(
            "{} {:?} element {} of {} ({incident})",
            link.evidence, link.stance, link.element, link.crime
        )
        .replace("Supports", "supports")
        .replace("Undercuts", "undercuts"),
        Event::ElementEvidenceRetracted {
            incident,
            crime,
            element,
            evidence,
            ..
        } => format!("link of {evidence} to element {element} of {crime} ({incident}) retracted"),
        Event::ClaimRecorded { claim } => format!("claim {} recorded", claim.id),
        Event::ClaimResultSignedOff { signoff } => format!(
            "check result of {} ({}) signed off by {}",
            signoff.claim, signoff.summary, signoff.by
        ),
        Event::RemainsRecovered { tag, .. } => format!("remains {tag} recovered"),
        Event::RecoveryCorrected { tag, .. } => format!("recovery of {tag} corrected"),
        Event::TagCorrected { tag, new_tag, .. } => {
            format!("tag {tag} corrected to {new_tag} ({tag} is retired)")
        }
        Event::RemainsRecorded { tag, record } => match record {
            RemainsRecord::Examination {
                id, reexamination, ..
            } => format!(
                "{} {id} of {tag} recorded",
                if *reexamination {
                    "re-examination"
                } else {
                    "examination"
                }
            ),
            RemainsRecord::ExaminationWaived { .. } => format!("examination of {tag} waived"),
            RemainsRecord::IdentificationEvidence { id, evidence } => format!(
                "identification evidence {id} ({}, {:?}) for {tag} recorded",
                evidence.method.as_str(),
                evidence.result
            ),
            RemainsRecord::Decision { id, decision } => format!(
                "identification decision {id} ({:?}) for {tag} recorded",
                decision.status
            ),
            RemainsRecord::Withdrawal { withdrawal } => format!(
                "identification decision {} of {tag} withdrawn",
                withdrawal.decision
            ),
            RemainsRecord::FamilyNotified { .. } => format!("family of {tag} notified"),
            RemainsRecord::Released { .. } => format!("remains {tag} released"),
            RemainsRecord::BuriedUnidentified { .. } => {
                format!("remains {tag} buried unidentified")
            }
            RemainsRecord::Exhumed { .. } => format!("remains {tag} exhumed"),
            RemainsRecord::RecoveryCorrected { .. } => format!("recovery of {tag} corrected"),
        },
        Event::WitnessRegistered {
            witness, sealed, ..
        } => format!("witness {witness} registered (identity sealed as {sealed})"),
        Event::ConsentRecorded { witness, id, .. } => {
            format!("consent {id} of {witness} recorded")
        }
        Event::ConsentWithdrawn {
            witness, consent, ..
        } => format!("consent {consent} of {witness} withdrawn"),
        Event::TestimonyRecorded { testimony } => format!(
            "testimony {} of {} recorded",
            testimony.evidence, testimony.witness
        ),
        other => other.action().to_owned(),
    }
}

/// The check of the case's claims (or one claim).
pub async fn check_claims(
    vault: &Vault,
    id: &str,
    claim: Option<&str>,
) -> Result<(Case, Vec<ClaimResult>)> {
    let case = load(vault, id).await?;
    let mut opts = CheckOptions::default();
    if let Some(c) = claim {
        let cid = ClaimId::new(c).map_err(|e| AppError::Invalid(e.to_string()))?;
        if !case.claims.contains_key(&cid) {
            return Err(AppError::Invalid(format!(
                "unknown claim {cid} in case {}; known claims: {}",
                case.id,
                known(case.claims.keys())
            )));
        }
        opts.claims = Some(BTreeSet::from([cid]));
    }
    let results = custody_cases::claims::check(&case, &opts);
    Ok((case, results))
}

pub(crate) fn known<T: std::fmt::Display>(ids: impl Iterator<Item = T>) -> String {
    let v: Vec<String> = ids.map(|i| i.to_string()).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// The element-of-crime matrix of one incident.
pub async fn matrix(vault: &Vault, id: &str, incident: &str) -> Result<(Case, Matrix)> {
    let case = load(vault, id).await?;
    let inc = IncidentId::new(incident).map_err(|e| AppError::Invalid(e.to_string()))?;
    if !case.incidents.contains_key(&inc) {
        return Err(AppError::Invalid(format!(
            "unknown incident {inc} in case {}; known incidents: {}",
            case.id,
            known(case.incidents.keys())
        )));
    }
    let m = custody_cases::matrix::build(&case, &inc).map_err(case_error)?;
    Ok((case, m))
}

/// Counts of remains as of an instant, within an area when given.
pub fn forensic_counts(case: &Case, as_of: Moment, area: Option<&Place>) -> Counts {
    custody_cases::forensic::case_counts(case, as_of, area)
}

/// Replays every case in the ledger; one problem per case that does not replay.
pub fn replay_problems<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Vec<String> {
    let mut by_case: BTreeMap<String, Vec<&Entry>> = BTreeMap::new();
    for e in entries {
        if is_case_event(e.action.as_str(), &e.details) {
            let id = e
                .details
                .get("case")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            by_case.entry(id).or_default().push(e);
        }
    }
    let mut problems = Vec::new();
    for (id, list) in &by_case {
        if let Err(p) = replay_events(
            id,
            list.iter().map(|e| (e.seq, e.action.as_str(), &e.details)),
        ) {
            problems.push(p);
        }
        for e in list {
            if let Ok(ev) = CaseEvent::from_details(&e.details) {
                if ev.event.item() != e.item {
                    problems.push(format!(
                        "case {id}: entry {} names item {} but its event concerns {}",
                        e.seq,
                        e.item
                            .map(|i| i.to_string())
                            .unwrap_or_else(|| "none".into()),
                        ev.event
                            .item()
                            .map(|i| i.to_string())
                            .unwrap_or_else(|| "none".into())
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_cases::forensic::{Examination, ExaminationType, MannerOfDeath, Recovery};
    use custody_cases::geo::LatLon;
    use custody_cases::ids::Tag;
    use custody_cases::when::{Basis, TimeInterval, parse_date};
    use custody_model::Timestamp;
    use serde_json::json;

    fn entry(seq: u64, e: &CaseEvent) -> Entry {
        Entry::new(
            seq,
            Timestamp::now(),
            "tester",
            Action::parse(e.event.action()),
            e.event.item(),
            None,
            canonical(&e.to_details()),
        )
    }

    fn day(d: &str) -> TimeInterval {
        TimeInterval::day(
            parse_date(d).unwrap(),
            UtcOffset::UTC,
            Basis::new("test").unwrap(),
        )
    }

    /// A case with one recovered and examined remains, as ledger entries from seq 2.
    fn entries() -> (Case, Vec<Entry>) {
        let opened = custody_cases::open(
            CaseId::new("T-1").unwrap(),
            "test",
            None,
            UtcOffset::UTC,
            None,
        )
        .unwrap();
        let case = Case::open(&opened).unwrap();
        let tag = Tag::new("R-1").unwrap();
        let events = plan(
            &case,
            vec![
                Command::RecoverRemains {
                    tag: tag.clone(),
                    synthetic: true,
                    recovery: Recovery {
                        time: day("2022-04-03"),
                        place: Place::disc(
                            LatLon::new(50.0, 30.0).unwrap(),
                            50.0,
                            Basis::new("test").unwrap(),
                        )
                        .unwrap(),
                        context: "surface".into(),
                        team: "A".into(),
                        grave_position: None,
                        photos: vec![],
                        property: vec![],
                    },
                },
                Command::RecordExamination {
                    tag,
                    examination: Examination {
                        time: day("2022-04-05"),
                        kind: ExaminationType::FullAutopsy,
                        examiner: "e1".into(),
                        findings: vec![],
                        summary: String::new(),
                        cause_of_death: None,
                        manner_of_death: MannerOfDeath::Pending,
                        samples: vec![],
                        report: None,
                    },
                },
            ],
        )
        .unwrap();
        let mut out = vec![entry(2, &opened)];
        for (i, e) in events.into_iter().enumerate() {
            out.push(entry(3 + i as u64, &case.wrap(e)));
        }
        (case, out)
    }

    #[test]
    fn verify_replays_cases_and_names_the_entry_that_does_not_apply() {
        let (_, mut list) = entries();
        assert!(replay_problems(&list).is_empty(), "a sound case replays");
        // The examination appears twice: the second reuses EX-0001.
        let again = list[2].clone();
        list.push(Entry { seq: 5, ..again });
        let p = replay_problems(&list);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with(
                "case T-1 does not replay from the ledger: entry 5 (remains.examined)"
            ),
            "{p:?}"
        );
        assert!(p[0].contains("EX-0001 already exists"), "{p:?}");
        // An entry whose action is not its event's.
        let (_, mut list) = entries();
        list[1].action = Action::parse("remains.released");
        let p = replay_problems(&list);
        assert!(p[0].contains("entry 3 (remains.released): the entry's action does not match its event, which is a remains.recovered event"), "{p:?}");
    }

    #[test]
    fn the_projection_keeps_case_events_and_sealed_entries_and_never_fails() {
        let (_, list) = entries();
        let ch = changes(&list[0]);
        assert!(
            matches!(&ch[0], Change::Case(CaseChange::Event(r)) if r.case_id == "T-1" && r.seq == 2)
        );
        assert!(
            matches!(&ch[1], Change::Case(CaseChange::Opened { title, .. }) if title == "test")
        );
        // Details that do not parse as an event are still kept (verify reports them).
        let odd = Entry::new(
            9,
            Timestamp::now(),
            "x",
            Action::parse("remains.examined"),
            None,
            None,
            json!({"v": 1, "case": "T-1", "type": "no_such_event"}),
        );
        assert_eq!(changes(&odd).len(), 1);
        // Not a case event: import records carry no `v`/`type`.
        let imported = Entry::new(
            10,
            Timestamp::now(),
            "x",
            Action::parse("case.imported"),
            None,
            None,
            json!({"case": "T-1", "format": "custody-case"}),
        );
        assert!(changes(&imported).is_empty());
        let read = Entry::new(
            11,
            Timestamp::now(),
            "officer",
            Action::parse(crate::sealed::READ),
            None,
            None,
            json!({"ref": "SEALED-1", "permission": "unseal-identity", "purpose": "p"}),
        );
        assert!(
            matches!(&changes(&read)[0], Change::Case(CaseChange::SealedRead(r)) if r.actor == "officer" && r.seq == 11)
        );
        // A malformed sealed entry projects nothing rather than failing the commit.
        let bad = Entry::new(
            12,
            Timestamp::now(),
            "x",
            Action::parse(crate::sealed::STORED),
            None,
            None,
            json!({"ref": "SEALED-2"}),
        );
        assert!(changes(&bad).is_empty());
    }
}
