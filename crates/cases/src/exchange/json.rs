//! The case JSON format, `custody-case` version 1: a whole case in one document.
//!
//! Export writes the case state; import reads it back (dates may be written as
//! `YYYY-MM-DD`, places as `{"ref": "PL-..."}`), validates everything, and returns the
//! events that rebuild the case. `export_json(import_json(x).case)` equals `x` for any
//! document this module wrote.

use std::collections::{BTreeMap, BTreeSet};

use custody_model::ItemId;
use serde::Serialize;
use serde_json::Value;
use time::UtcOffset;

use super::reader::{Ctx, N, Obj};
use super::{ImportErrors, Issue, Location};
use crate::case::Case;
use crate::claims::{Claim, CountedStage, Predicate, SignOff, Summary};
use crate::context::ControlPeriod;
use crate::crimes::CrimeRef;
use crate::event::{ArmedConflict, CaseEvent, ConflictKind, Event};
use crate::evidence::{
    Coverage, Evidence, EvidenceKind, Finding, Interpretation, MediaSpec, Observation, Subject,
    SubjectFinding, Via,
};
use crate::forensic::{
    Burial, Decision, DecisionStatus, ExamFinding, Examination, ExaminationType, Exhumation,
    IdMethod, IdResult, IdentificationEvidence, MannerOfDeath, Notification, Recovery, Release,
    RemainsRecord, Sample, Status, TagChange, Waiver, Withdrawal,
};
use crate::geo::Place;
use crate::ids::{
    CaseId, ClaimId, ConsentId, ControlPeriodId, DecisionId, EvidenceId, ExaminationId,
    IdEvidenceId, IncidentId, ObservationId, PersonRef, PlaceId, Pseudonym, SealedRef, Tag,
};
use crate::incident::{ElementLink, HeldLink, IncidentDraft, Stance};
use crate::when::{DayEnd, TimeInterval, format_offset, parse_offset};
use crate::witness::{Consent, ConsentRecord, ConsentUse, ConsentWithdrawal, Testimony, Witness};

/// The `format` member of a case document.
pub const CASE_FORMAT: &str = "custody-case";
/// The version this code writes and reads.
pub const CASE_FORMAT_VERSION: u64 = 1;

/// A successful import: the events (in order) and the case they build.
#[derive(Debug)]
pub struct Imported {
    pub events: Vec<CaseEvent>,
    pub case: Case,
}

// ---------------------------------------------------------------- export

#[derive(Serialize)]
struct Header<'a> {
    id: &'a CaseId,
    title: &'a str,
    local_offset: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    armed_conflict: Option<&'a ArmedConflict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notice: Option<&'a String>,
}

#[derive(Serialize)]
struct PlaceDoc<'a> {
    id: &'a PlaceId,
    name: &'a str,
    place: &'a Place,
}

#[derive(Serialize)]
struct Superseded<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<&'a ObservationId>,
    reason: &'a str,
}

#[derive(Serialize)]
struct ObsDoc<'a> {
    #[serde(flatten)]
    observation: &'a Observation,
    #[serde(skip_serializing_if = "Option::is_none")]
    superseded: Option<Superseded<'a>>,
}

#[derive(Serialize)]
struct LinkDoc<'a> {
    #[serde(flatten)]
    link: &'a ElementLink,
    #[serde(skip_serializing_if = "Option::is_none")]
    retracted: Option<&'a String>,
}

#[derive(Serialize)]
struct IncidentDoc<'a> {
    id: &'a IncidentId,
    #[serde(flatten)]
    draft: &'a IncidentDraft,
    crimes: &'a [CrimeRef],
    evidence: Vec<&'a EvidenceId>,
    element_links: Vec<LinkDoc<'a>>,
}

#[derive(Serialize)]
struct RemainsDoc<'a> {
    tag: &'a Tag,
    synthetic: bool,
    recovery: &'a Recovery,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    former_tags: &'a [TagChange],
    records: &'a [RemainsRecord],
    status: Status,
}

#[derive(Serialize)]
struct Doc<'a> {
    format: &'static str,
    version: u64,
    case: Header<'a>,
    places: Vec<PlaceDoc<'a>>,
    control_periods: Vec<&'a ControlPeriod>,
    evidence: Vec<&'a Evidence>,
    observations: Vec<ObsDoc<'a>>,
    incidents: Vec<IncidentDoc<'a>>,
    claims: Vec<&'a Claim>,
    signoffs: &'a [SignOff],
    remains: Vec<RemainsDoc<'a>>,
    witnesses: Vec<&'a Witness>,
    testimonies: Vec<&'a Testimony>,
}

/// Writes the whole case as a `custody-case` version 1 document (pretty-printed).
/// Sealed identities are not part of the case state and so never appear.
pub fn export_json(case: &Case) -> String {
    let doc = Doc {
        format: CASE_FORMAT,
        version: CASE_FORMAT_VERSION,
        case: Header {
            id: &case.id,
            title: &case.title,
            local_offset: format_offset(case.local_offset),
            armed_conflict: case.armed_conflict.as_ref(),
            notice: case.notice.as_ref(),
        },
        places: case
            .places
            .values()
            .map(|p| PlaceDoc {
                id: &p.id,
                name: &p.name,
                place: &p.place,
            })
            .collect(),
        control_periods: case.control_periods.values().collect(),
        evidence: case.evidence.values().collect(),
        observations: case
            .observations
            .values()
            .map(|h| ObsDoc {
                observation: &h.observation,
                superseded: h.superseded.as_ref().map(|(by, reason)| Superseded {
                    by: by.as_ref(),
                    reason,
                }),
            })
            .collect(),
        incidents: case
            .incidents
            .values()
            .map(|i| IncidentDoc {
                id: &i.id,
                draft: &i.draft,
                crimes: &i.crimes,
                evidence: i.evidence.iter().collect(),
                element_links: i
                    .links
                    .iter()
                    .map(|h| LinkDoc {
                        link: &h.link,
                        retracted: h.retracted.as_ref(),
                    })
                    .collect(),
            })
            .collect(),
        claims: case.claims.values().collect(),
        signoffs: &case.signoffs,
        remains: case
            .remains
            .values()
            .map(|r| RemainsDoc {
                tag: &r.tag,
                synthetic: r.synthetic,
                recovery: &r.recovery,
                former_tags: &r.former_tags,
                records: &r.records,
                status: r.status,
            })
            .collect(),
        witnesses: case.witnesses.values().collect(),
        testimonies: case.testimonies.values().collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("a case document always serialises");
    s.push('\n');
    s
}

// ---------------------------------------------------------------- import

/// Events to apply, each with the JSON path of the record it came from and the
/// top-level record it belongs to (so one bad record is reported once).
pub(crate) struct Plan {
    events: Vec<(Event, String, String)>,
    /// Stated statuses to compare with the records: tag, status, path, group.
    status_checks: Vec<(Tag, Status, String, String)>,
}

impl Plan {
    pub(crate) fn new() -> Self {
        Self {
            events: Vec::new(),
            status_checks: Vec::new(),
        }
    }
    pub(crate) fn push(&mut self, e: Event, path: &str, group: &str) {
        self.events.push((e, path.to_owned(), group.to_owned()));
    }
}

/// Tracks identifiers already seen in a list, for duplicate reports.
struct Seen<T: Ord>(BTreeMap<T, String>);

impl<T: Ord + Clone + std::fmt::Display> Seen<T> {
    fn new() -> Self {
        Self(BTreeMap::new())
    }
    fn add(&mut self, ctx: &mut Ctx, id: &T, path: &str, kind: &str) -> bool {
        if let Some(first) = self.0.get(id) {
            ctx.err(
                path,
                format!("duplicate {kind} {id} (first at {first})"),
                format!("a {kind} that is not used elsewhere in the document"),
            );
            return false;
        }
        self.0.insert(id.clone(), path.to_owned());
        true
    }
    fn contains(&self, id: &T) -> bool {
        self.0.contains_key(id)
    }
}

/// Reads a `custody-case` document and returns the events that rebuild it.
pub fn import_json(text: &str) -> Result<Imported, ImportErrors> {
    let value: Value = serde_json::from_str(text).map_err(|e| ImportErrors {
        issues: vec![Issue {
            location: Location::JsonSyntax {
                line: e.line(),
                column: e.column(),
            },
            problem: format!("not valid JSON: {e}"),
            expected: "a custody-case JSON document".into(),
        }],
    })?;
    let mut ctx = Ctx::new(text, UtcOffset::UTC);
    let root = N::root(&value);
    let plan = read_document(&mut ctx, &root);
    if !ctx.issues.is_empty() {
        return Err(ImportErrors { issues: ctx.issues });
    }
    let plan = plan.expect("no issues means a plan");
    apply_plan(&mut ctx, plan)
}

pub(crate) fn apply_plan(ctx: &mut Ctx, plan: (CaseEvent, Plan)) -> Result<Imported, ImportErrors> {
    let (opened, plan) = plan;
    let mut case = match Case::open(&opened) {
        Ok(c) => c,
        Err(e) => {
            ctx.err("$.case", e.to_string(), "a valid case header");
            return Err(ImportErrors {
                issues: std::mem::take(&mut ctx.issues),
            });
        }
    };
    let mut events = vec![opened];
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let status_checks = plan.status_checks;
    for (e, path, group) in plan.events {
        if failed.contains(&group) {
            continue;
        }
        match case.apply(&e) {
            Ok(()) => events.push(case.wrap(e)),
            Err(err) => {
                ctx.err(&path, err.to_string(), "");
                failed.insert(group);
            }
        }
    }
    let unchecked: Vec<_> = status_checks
        .into_iter()
        .filter(|(_, _, _, g)| !failed.contains(g))
        .collect();
    check_statuses(ctx, &case, &unchecked);
    if !ctx.issues.is_empty() {
        return Err(ImportErrors {
            issues: std::mem::take(&mut ctx.issues),
        });
    }
    Ok(Imported { events, case })
}

const TOP: &[&str] = &[
    "format",
    "version",
    "case",
    "places",
    "control_periods",
    "evidence",
    "observations",
    "incidents",
    "claims",
    "signoffs",
    "remains",
    "witnesses",
    "testimonies",
];

fn read_document(ctx: &mut Ctx, root: &N<'_>) -> Option<(CaseEvent, Plan)> {
    let doc = ctx.object(root, TOP)?;
    match doc.get("format").map(|n| n.v) {
        Some(Value::String(s)) if s == CASE_FORMAT => {}
        Some(other) => ctx.err(
            &doc.key_path("format"),
            format!("format is {}", super::reader::describe(other)),
            format!("\"{CASE_FORMAT}\""),
        ),
        None => ctx.err(
            &doc.key_path("format"),
            "missing field \"format\"",
            format!("\"{CASE_FORMAT}\""),
        ),
    }
    match doc.get("version").map(|n| n.v) {
        Some(v) if v.as_u64() == Some(CASE_FORMAT_VERSION) => {}
        Some(other) => {
            ctx.err(
                &doc.key_path("version"),
                format!(
                    "version {} is not supported (this build reads version {CASE_FORMAT_VERSION})",
                    other
                ),
                format!("{CASE_FORMAT_VERSION}"),
            );
            return None;
        }
        None => ctx.err(
            &doc.key_path("version"),
            "missing field \"version\"",
            format!("{CASE_FORMAT_VERSION}"),
        ),
    }
    let header = ctx.req(&doc, "case", "the case header object")?;
    let opened = read_header(ctx, &header);
    let mut plan = Plan::new();

    // Places first: everything else may refer to them.
    let mut places = Seen::<PlaceId>::new();
    for n in ctx.opt_array(&doc, "places", "an array of places") {
        let Some(o) = ctx.object(&n, &["id", "name", "place"]) else {
            continue;
        };
        let id: Option<PlaceId> = ctx.req_parsed(&o, "id", "a place id");
        let name = ctx.text(&o, "name", "the place's name");
        let place = ctx
            .req(&o, "place", "the place")
            .and_then(|p| ctx.place(&p));
        if let (Some(id), Some(name), Some(place)) = (id, name, place) {
            if places.add(ctx, &id, &n.path, "place id") {
                ctx.places.insert(id.clone(), place.clone());
                plan.push(
                    Event::PlaceDefined {
                        id: id.clone(),
                        name,
                        place: place.named(id),
                    },
                    &n.path,
                    &n.path,
                );
            }
        }
    }

    let mut evidence_ids = Seen::<EvidenceId>::new();
    let ev_nodes = ctx.opt_array(&doc, "evidence", "an array of evidence records");
    // Collect ids first so references can be checked in any order.
    for n in &ev_nodes {
        if let Some(Value::String(s)) = n.v.get("id") {
            if let Ok(id) = EvidenceId::new(s.clone()) {
                let p = format!("{}.id", n.path);
                evidence_ids.add(ctx, &id, &p, "evidence id");
            }
        }
    }
    let remains_tags: BTreeSet<Tag> = doc
        .get("remains")
        .and_then(|r| r.v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.get("tag")?.as_str().and_then(|s| Tag::new(s).ok()))
        .collect();
    let check_ev = |ctx: &mut Ctx, id: &EvidenceId, path: &str| {
        if !evidence_ids.contains(id) {
            ctx.err(
                path,
                format!("unknown evidence {id}"),
                "an evidence id listed under evidence",
            );
        }
    };

    for n in ctx.opt_array(&doc, "control_periods", "an array of control periods") {
        if let Some(period) = read_control_period(ctx, &n) {
            plan.push(Event::ControlPeriodRecorded { period }, &n.path, &n.path);
        }
    }

    for n in &ev_nodes {
        if let Some(evidence) = read_evidence(ctx, n) {
            for (i, t) in evidence.remains.iter().enumerate() {
                if !remains_tags.contains(t) {
                    ctx.err(
                        &format!("{}.remains[{i}]", n.path),
                        format!("unknown remains {t}"),
                        "a tag listed under remains",
                    );
                }
            }
            plan.push(Event::EvidenceRegistered { evidence }, &n.path, &n.path);
        }
    }

    let mut obs_ids = Seen::<ObservationId>::new();
    let mut supersessions = Vec::new();
    for n in ctx.opt_array(&doc, "observations", "an array of observations") {
        if let Some((o, sup)) = read_observation(ctx, &n) {
            check_ev(ctx, &o.evidence, &format!("{}.evidence", n.path));
            for (i, e) in o.derived_from.iter().enumerate() {
                check_ev(ctx, e, &format!("{}.derived_from[{i}]", n.path));
            }
            if let Some(int) = &o.interpretation {
                for (i, e) in int.corroborated_by.iter().enumerate() {
                    check_ev(
                        ctx,
                        e,
                        &format!("{}.interpretation.corroborated_by[{i}]", n.path),
                    );
                }
            }
            if obs_ids.add(ctx, &o.id, &n.path, "observation id") {
                if let Some((by, reason)) = sup {
                    supersessions.push((
                        Event::ObservationSuperseded {
                            observation: o.id.clone(),
                            by,
                            reason,
                        },
                        n.path.clone(),
                    ));
                }
                plan.push(
                    Event::ObservationRecorded { observation: o },
                    &n.path,
                    &n.path,
                );
            }
        }
    }
    for (e, p) in supersessions {
        plan.push(e, &p, &p);
    }

    let mut inc_ids = Seen::<IncidentId>::new();
    for n in ctx.opt_array(&doc, "incidents", "an array of incidents") {
        read_incident(ctx, &n, &mut plan, &mut inc_ids, &|ctx, id, p| {
            check_ev(ctx, id, p)
        });
    }

    let mut claim_ids = Seen::<ClaimId>::new();
    for n in ctx.opt_array(&doc, "claims", "an array of claims") {
        if let Some(claim) = read_claim(ctx, &n) {
            if let Some(s) = &claim.source_evidence {
                check_ev(ctx, s, &format!("{}.source_evidence", n.path));
            }
            if claim_ids.add(ctx, &claim.id, &n.path, "claim id") {
                plan.push(Event::ClaimRecorded { claim }, &n.path, &n.path);
            }
        }
    }

    let mut tags = Seen::<Tag>::new();
    for n in ctx.opt_array(&doc, "remains", "an array of remains") {
        read_remains(ctx, &n, &mut plan, &mut tags);
    }

    let mut witness_ids = Seen::<Pseudonym>::new();
    let mut w_nodes: Vec<(Pseudonym, Vec<(Event, String)>)> = Vec::new();
    for n in ctx.opt_array(&doc, "witnesses", "an array of witnesses") {
        if let Some((p, evs)) = read_witness(ctx, &n, &|ctx, id, path| check_ev(ctx, id, path)) {
            if witness_ids.add(ctx, &p, &n.path, "witness pseudonym") {
                w_nodes.push((p, evs));
            }
        }
    }
    // Pseudonyms are allocated in sequence: register in order.
    w_nodes.sort_by_key(|(p, _)| *p);
    for (_, evs) in w_nodes {
        let group = evs.first().map(|(_, p)| p.clone()).unwrap_or_default();
        for (e, p) in evs {
            plan.push(e, &p, &group);
        }
    }

    for n in ctx.opt_array(&doc, "testimonies", "an array of testimonies") {
        if let Some(t) = read_testimony(ctx, &n) {
            check_ev(ctx, &t.evidence, &format!("{}.evidence", n.path));
            if !witness_ids.contains(&t.witness) {
                ctx.err(
                    &format!("{}.witness", n.path),
                    format!("unknown witness {}", t.witness),
                    "a pseudonym listed under witnesses",
                );
            }
            for (i, inc) in t.incidents.iter().enumerate() {
                if !inc_ids.contains(inc) {
                    ctx.err(
                        &format!("{}.incidents[{i}]", n.path),
                        format!("unknown incident {inc}"),
                        "an incident id listed under incidents",
                    );
                }
            }
            plan.push(Event::TestimonyRecorded { testimony: t }, &n.path, &n.path);
        }
    }

    for n in ctx.opt_array(&doc, "signoffs", "an array of sign-offs") {
        if let Some(s) = read_signoff(ctx, &n) {
            if !claim_ids.contains(&s.claim) {
                ctx.err(
                    &format!("{}.claim", n.path),
                    format!("unknown claim {}", s.claim),
                    "a claim id listed under claims",
                );
            }
            plan.push(Event::ClaimResultSignedOff { signoff: s }, &n.path, &n.path);
        }
    }

    Some((opened?, plan))
}

fn read_header(ctx: &mut Ctx, n: &N<'_>) -> Option<CaseEvent> {
    let o = ctx.object(
        n,
        &["id", "title", "local_offset", "armed_conflict", "notice"],
    )?;
    let id: Option<CaseId> = ctx.req_parsed(&o, "id", "a case id");
    let title = ctx.text(&o, "title", "the case title");
    let offset = match o.get("local_offset") {
        Some(off) => {
            let s = ctx.string(&off, "a UTC offset such as +03:00")?;
            match parse_offset(&s) {
                Some(x) => x,
                None => {
                    ctx.err(
                        &off.path,
                        format!("{s:?} is not a UTC offset"),
                        "a UTC offset such as +03:00",
                    );
                    UtcOffset::UTC
                }
            }
        }
        None => UtcOffset::UTC,
    };
    // Date-only values elsewhere in the document are read at this offset.
    ctx.offset = offset;
    let armed_conflict = o.get("armed_conflict").and_then(|a| read_conflict(ctx, &a));
    let notice = ctx.opt_string(&o, "notice", "the notice text");
    Some(CaseEvent::new(
        id?,
        Event::CaseOpened {
            title: title?,
            armed_conflict,
            local_offset: format_offset(offset),
            notice,
        },
    ))
}

pub(crate) fn read_conflict(ctx: &mut Ctx, n: &N<'_>) -> Option<ArmedConflict> {
    let o = ctx.object(n, &["kind", "type", "since", "basis"])?;
    let kind_node = o.get("kind").or_else(|| o.get("type"));
    let kind = match kind_node {
        Some(k) => match ctx
            .string(&k, "international or non_international")?
            .as_str()
        {
            "international" => ConflictKind::International,
            "non_international" | "non-international" => ConflictKind::NonInternational,
            other => {
                ctx.err(
                    &k.path,
                    format!("{other:?} is not a conflict kind"),
                    "international or non_international",
                );
                return None;
            }
        },
        None => {
            ctx.err(
                &o.key_path("kind"),
                "missing field \"kind\"",
                "international or non_international",
            );
            return None;
        }
    };
    let since = ctx.req_moment(&o, "since", DayEnd::Start)?;
    let basis = ctx.opt_text(&o, "basis", "a basis");
    Some(ArmedConflict { kind, since, basis })
}

pub(crate) fn read_control_period(ctx: &mut Ctx, n: &N<'_>) -> Option<ControlPeriod> {
    let o = ctx.object(
        n,
        &[
            "id",
            "place_ref",
            "area",
            "controller",
            "from",
            "to",
            "links",
        ],
    )?;
    let id: Option<ControlPeriodId> = ctx.req_parsed(&o, "id", "a control period id");
    let place_ref: Option<PlaceId> = ctx.opt_parsed(&o, "place_ref", "a place id");
    let area = match (o.get("area"), &place_ref) {
        (Some(a), _) => ctx.place(&a),
        (None, Some(_)) => o.get("place_ref").and_then(|r| ctx.place_ref(&r)),
        (None, None) => {
            ctx.err(
                &o.key_path("area"),
                "missing field \"area\"",
                "the controlled area, or place_ref",
            );
            None
        }
    };
    let controller = ctx.text(&o, "controller", "who controlled the area");
    let from = ctx
        .req(&o, "from", "the fuzzy start {earliest, latest}")
        .and_then(|f| ctx.fuzzy(&f));
    let to = o.get("to").and_then(|t| ctx.fuzzy(&t));
    let links = ctx.list_text(&o, "links", "URLs");
    Some(ControlPeriod {
        id: id?,
        place_ref,
        area: area?,
        controller: controller?,
        from: from?,
        to,
        links,
    })
}

fn read_evidence(ctx: &mut Ctx, n: &N<'_>) -> Option<Evidence> {
    let o = ctx.object(
        n,
        &[
            "id",
            "item",
            "kind",
            "source",
            "description",
            "captured",
            "place",
            "links",
            "media",
            "remains",
            "coverage",
        ],
    )?;
    let id: Option<EvidenceId> = ctx.req_parsed(&o, "id", "an evidence id");
    let item: Option<ItemId> = ctx.opt_parsed(&o, "item", "a vault item id such as ITM-000042");
    let kind = ctx.text(&o, "kind", "the kind of evidence (e.g. satellite_image)");
    let source = ctx.text(&o, "source", "who or what the evidence comes from");
    let description = ctx.opt_text(&o, "description", "a description");
    let captured = o.get("captured").and_then(|c| ctx.interval(&c));
    let place = o.get("place").and_then(|p| ctx.place(&p));
    let links = ctx.list_text(&o, "links", "URLs");
    let media = o.get("media").and_then(|m| {
        let mo = ctx.object(&m, &["kind", "render"])?;
        let kind = ctx.text(&mo, "kind", "the media kind")?;
        let render = ctx.opt_string(&mo, "render", "render instructions");
        Some(MediaSpec { kind, render })
    });
    let remains = ctx.list_parsed::<Tag>(&o, "remains", "tag numbers");
    let coverage = match o.get("coverage") {
        Some(c) => match ctx.string(&c, "sample or complete")?.as_str() {
            "sample" => Some(Coverage::Sample),
            "complete" => Some(Coverage::Complete),
            other => {
                ctx.err(
                    &c.path,
                    format!("{other:?} is not a coverage"),
                    "sample or complete",
                );
                None
            }
        },
        None => None,
    };
    Some(Evidence {
        id: id?,
        item,
        kind: EvidenceKind::parse(&kind?),
        source: source?,
        description,
        captured,
        place,
        links,
        media,
        remains,
        coverage,
    })
}

pub(crate) fn read_subjects(ctx: &mut Ctx, o: &Obj<'_>) -> Vec<SubjectFinding> {
    let mut out = Vec::new();
    for s in ctx.opt_array(o, "subjects", "an array of {subject, finding, via}") {
        let Some(so) = ctx.object(&s, &["subject", "finding", "via"]) else {
            continue;
        };
        let subject = ctx.text(&so, "subject", "the subject, e.g. \"bodies on street\"");
        let finding = ctx.req(&so, "finding", "present or absent").and_then(|f| {
            match ctx.string(&f, "present or absent")?.as_str() {
                "present" => Some(Finding::Present),
                "absent" => Some(Finding::Absent),
                other => {
                    ctx.err(
                        &f.path,
                        format!("{other:?} is not a finding"),
                        "present or absent",
                    );
                    None
                }
            }
        });
        let via = match so.get("via") {
            Some(v) => match ctx.string(&v, "shown or interpretation").as_deref() {
                Some("shown") => Some(Via::Shown),
                Some("interpretation") => Some(Via::Interpretation),
                Some(other) => {
                    ctx.err(
                        &v.path,
                        format!("{other:?} is not a via"),
                        "shown or interpretation",
                    );
                    None
                }
                None => None,
            },
            None => Some(Via::Shown),
        };
        if let (Some(subject), Some(finding), Some(via)) = (subject, finding, via) {
            match Subject::new(&subject) {
                Ok(subject) => out.push(SubjectFinding {
                    subject,
                    finding,
                    via,
                }),
                Err(e) => ctx.err(&so.key_path("subject"), e.to_string(), "a subject"),
            }
        }
    }
    out
}

type Supersession = (Option<ObservationId>, String);

fn read_observation(ctx: &mut Ctx, n: &N<'_>) -> Option<(Observation, Option<Supersession>)> {
    let o = ctx.object(
        n,
        &[
            "id",
            "evidence",
            "shows",
            "interpretation",
            "subjects",
            "place",
            "time",
            "reported_by",
            "derived_from",
            "superseded",
        ],
    )?;
    let id: Option<ObservationId> = ctx.req_parsed(&o, "id", "an observation id");
    let evidence: Option<EvidenceId> = ctx.req_parsed(&o, "evidence", "an evidence id");
    let shows = ctx.text(&o, "shows", "what the item shows, in neutral terms");
    let interpretation = o.get("interpretation").and_then(|i| {
        let io = ctx.object(&i, &["text", "by", "corroborated_by"])?;
        let text = ctx.text(&io, "text", "the interpretation");
        let by = ctx.text(&io, "by", "who interprets");
        let corroborated_by = ctx.list_parsed(&io, "corroborated_by", "evidence ids");
        Some(Interpretation {
            text: text?,
            by: by?,
            corroborated_by,
        })
    });
    let subjects = read_subjects(ctx, &o);
    let place = ctx
        .req(&o, "place", "the place")
        .and_then(|p| ctx.place(&p));
    let time = ctx
        .req(&o, "time", "when the state shown held")
        .and_then(|t| ctx.interval(&t));
    let reported_by = ctx.opt_string(&o, "reported_by", "who reported it");
    let derived_from = ctx.list_parsed(&o, "derived_from", "evidence ids");
    let sup = o.get("superseded").and_then(|s| {
        let so = ctx.object(&s, &["by", "reason"])?;
        let by = ctx.opt_parsed(&so, "by", "an observation id");
        let reason = ctx.text(&so, "reason", "why it was superseded")?;
        Some((by, reason))
    });
    Some((
        Observation {
            id: id?,
            evidence: evidence?,
            shows: shows?,
            interpretation,
            subjects,
            place: place?,
            time: time?,
            reported_by,
            derived_from,
        },
        sup,
    ))
}

type EvCheck<'a> = &'a dyn Fn(&mut Ctx, &EvidenceId, &str);

fn read_incident(
    ctx: &mut Ctx,
    n: &N<'_>,
    plan: &mut Plan,
    ids: &mut Seen<IncidentId>,
    check_ev: EvCheck<'_>,
) {
    let Some(o) = ctx.object(
        n,
        &[
            "id",
            "title",
            "description",
            "place",
            "time",
            "crimes",
            "evidence",
            "element_links",
        ],
    ) else {
        return;
    };
    let id: Option<IncidentId> = ctx.req_parsed(&o, "id", "an incident id");
    let title = ctx.text(&o, "title", "the incident's title");
    let description = ctx.opt_text(&o, "description", "a description");
    let place = ctx
        .req(&o, "place", "the place")
        .and_then(|p| ctx.place(&p));
    let time = ctx
        .req(&o, "time", "the time interval")
        .and_then(|t| ctx.interval(&t));
    let mut crimes = Vec::new();
    for c in ctx.opt_array(&o, "crimes", "an array of crime codes") {
        if let Some(s) = ctx.string(&c, "a crime code") {
            match CrimeRef::parse(&s) {
                Ok(cr) => crimes.push(cr),
                Err(e) => ctx.err(
                    &c.path,
                    e.to_string(),
                    "RS-8(2)(a)(i) or a national article label",
                ),
            }
        }
    }
    let evidence: Vec<EvidenceId> = ctx.list_parsed(&o, "evidence", "evidence ids");
    for (i, e) in evidence.iter().enumerate() {
        check_ev(ctx, e, &format!("{}.evidence[{i}]", n.path));
    }
    let mut links = Vec::new();
    for l in ctx.opt_array(&o, "element_links", "an array of element links") {
        let Some(lo) = ctx.object(
            &l,
            &[
                "crime",
                "element",
                "evidence",
                "stance",
                "note",
                "by",
                "retracted",
            ],
        ) else {
            continue;
        };
        let crime: Option<CrimeRef> = ctx.req_parsed(&lo, "crime", "a crime code");
        let element = ctx.text(&lo, "element", "an element id such as E1");
        let ev: Option<EvidenceId> = ctx.req_parsed(&lo, "evidence", "an evidence id");
        if let Some(e) = &ev {
            check_ev(ctx, e, &lo.key_path("evidence"));
        }
        let stance = ctx
            .req(&lo, "stance", "supports or undercuts")
            .and_then(
                |s| match ctx.string(&s, "supports or undercuts")?.as_str() {
                    "supports" => Some(Stance::Supports),
                    "undercuts" => Some(Stance::Undercuts),
                    other => {
                        ctx.err(
                            &s.path,
                            format!("{other:?} is not a stance"),
                            "supports or undercuts",
                        );
                        None
                    }
                },
            );
        let note = ctx.opt_text(&lo, "note", "a note");
        let by = ctx.text(&lo, "by", "who made the link");
        let retracted = ctx.opt_string(&lo, "retracted", "the reason for the retraction");
        if let (Some(crime), Some(element), Some(evidence), Some(stance), Some(by)) =
            (crime, element, ev, stance, by)
        {
            links.push((
                HeldLink {
                    link: ElementLink {
                        crime,
                        element,
                        evidence,
                        stance,
                        note,
                        by,
                    },
                    retracted,
                },
                l.path.clone(),
            ));
        }
    }
    let (Some(id), Some(title), Some(place), Some(time)) = (id, title, place, time) else {
        return;
    };
    if !ids.add(ctx, &id, &n.path, "incident id") {
        return;
    }
    let g = n.path.clone();
    plan.push(
        Event::IncidentAdded {
            incident: id.clone(),
            draft: IncidentDraft {
                title,
                description,
                place,
                time,
            },
        },
        &n.path,
        &g,
    );
    for crime in crimes {
        plan.push(
            Event::IncidentCrimeAdded {
                incident: id.clone(),
                crime,
            },
            &format!("{}.crimes", n.path),
            &g,
        );
    }
    for e in evidence {
        plan.push(
            Event::IncidentEvidenceLinked {
                incident: id.clone(),
                evidence: e,
            },
            &format!("{}.evidence", n.path),
            &g,
        );
    }
    for (h, p) in links {
        let retraction = h
            .retracted
            .clone()
            .map(|reason| Event::ElementEvidenceRetracted {
                incident: id.clone(),
                crime: h.link.crime.clone(),
                element: h.link.element.clone(),
                evidence: h.link.evidence.clone(),
                reason,
            });
        plan.push(
            Event::ElementEvidenceLinked {
                incident: id.clone(),
                link: h.link,
            },
            &p,
            &p,
        );
        if let Some(r) = retraction {
            plan.push(r, &p, &p);
        }
    }
}

pub(crate) fn read_predicate(ctx: &mut Ctx, n: &N<'_>) -> Option<Predicate> {
    let o = ctx.object(
        n,
        &[
            "kind", "subject", "place", "until", "during", "as_of", "figures", "cause", "note",
        ],
    )?;
    let kind = ctx.text(
        &o,
        "kind",
        "absent_before, present_at, occurred_between, count or causal_alternative",
    )?;
    let place = ctx
        .req(&o, "place", "the claimed place")
        .and_then(|p| ctx.place(&p));
    let subject = |ctx: &mut Ctx| -> Option<Subject> {
        let s = ctx.text(
            &o,
            "subject",
            "what the claim is about, e.g. \"bodies on street\"",
        )?;
        Subject::new(&s).ok()
    };
    Some(match kind.as_str() {
        "absent_before" => {
            let subject = subject(ctx);
            let until = ctx.req_moment(&o, "until", DayEnd::End);
            Predicate::AbsentBefore {
                subject: subject?,
                place: place?,
                until: until?,
            }
        }
        "present_at" | "occurred_between" => {
            let subject = subject(ctx);
            let during = ctx
                .req(&o, "during", "the claimed interval")
                .and_then(|d| ctx.interval(&d));
            let (subject, place, during) = (subject?, place?, during?);
            if kind == "present_at" {
                Predicate::PresentAt {
                    subject,
                    place,
                    during,
                }
            } else {
                Predicate::OccurredBetween {
                    subject,
                    place,
                    during,
                }
            }
        }
        "count" => {
            let as_of = ctx.req_moment(&o, "as_of", DayEnd::End);
            let figures = read_figures(ctx, &o);
            Predicate::Count {
                place: place?,
                as_of: as_of?,
                figures: figures?,
            }
        }
        "causal_alternative" => {
            let cause = ctx.text(&o, "cause", "the alternative cause claimed");
            let note = ctx.opt_text(&o, "note", "a note");
            Predicate::CausalAlternative {
                place: place?,
                cause: cause?,
                note,
            }
        }
        other => {
            ctx.err(
                &o.key_path("kind"),
                format!("{other:?} is not a predicate kind"),
                "absent_before, present_at, occurred_between, count or causal_alternative",
            );
            return None;
        }
    })
}

pub(crate) fn read_figures(ctx: &mut Ctx, o: &Obj<'_>) -> Option<BTreeMap<CountedStage, u64>> {
    const EXP: &str = "an object of counts such as {\"recovered\": 410, \"examined\": 140}";
    let f = ctx.req(o, "figures", EXP)?;
    let fo = ctx.object(&f, &CountedStage::ALL.map(|c| c.as_str()))?;
    let mut out = BTreeMap::new();
    for stage in CountedStage::ALL {
        if let Some(v) = fo.get(stage.as_str()) {
            if let Some(n) = ctx.integer(&v, "a whole number") {
                out.insert(stage, n);
            }
        }
    }
    if out.is_empty() {
        ctx.err(&f.path, "no figures given", EXP);
        return None;
    }
    Some(out)
}

fn read_claim(ctx: &mut Ctx, n: &N<'_>) -> Option<Claim> {
    let o = ctx.object(
        n,
        &[
            "id",
            "made_by",
            "made_at",
            "source_evidence",
            "assertion",
            "predicate",
        ],
    )?;
    let id: Option<ClaimId> = ctx.req_parsed(&o, "id", "a claim id");
    let made_by = ctx.text(&o, "made_by", "who made the claim");
    let made_at = o.get("made_at").and_then(|m| ctx.interval(&m));
    let source_evidence = ctx.opt_parsed(&o, "source_evidence", "an evidence id");
    let assertion = ctx.text(&o, "assertion", "the claim in words");
    let predicate = ctx
        .req(&o, "predicate", "the structured assertion")
        .and_then(|p| read_predicate(ctx, &p));
    Some(Claim {
        id: id?,
        made_by: made_by?,
        made_at,
        source_evidence,
        assertion: assertion?,
        predicate: predicate?,
    })
}

fn read_signoff(ctx: &mut Ctx, n: &N<'_>) -> Option<SignOff> {
    let o = ctx.object(
        n,
        &["claim", "result_version", "summary", "by", "at", "note"],
    )?;
    let claim = ctx.req_parsed(&o, "claim", "a claim id");
    let result_version = ctx.text(&o, "result_version", "the result version signed off");
    let summary = ctx.req(&o, "summary", "a summary").and_then(|s| {
        let t = ctx.string(&s, "a summary")?;
        let parsed = Summary::parse(&t);
        if parsed.is_none() {
            ctx.err(
                &s.path,
                format!("{t:?} is not a summary"),
                "contradicted, supported, partially_supported, inconclusive or not_applicable",
            );
        }
        parsed
    });
    let by = ctx.text(&o, "by", "the analyst");
    let at = ctx.req_moment(&o, "at", DayEnd::Start);
    let note = ctx.opt_text(&o, "note", "a note");
    Some(SignOff {
        claim: claim?,
        result_version: result_version?,
        summary: summary?,
        by: by?,
        at: at?,
        note,
    })
}

pub(crate) fn read_recovery(ctx: &mut Ctx, n: &N<'_>) -> Option<Recovery> {
    let o = ctx.object(
        n,
        &[
            "time",
            "place",
            "context",
            "team",
            "grave_position",
            "photos",
            "property",
        ],
    )?;
    let time = ctx
        .req(&o, "time", "when the remains were recovered")
        .and_then(|t| ctx.interval(&t));
    let place = ctx
        .req(&o, "place", "where they were recovered")
        .and_then(|p| ctx.place(&p));
    let context = ctx.text(
        &o,
        "context",
        "the recovery context (surface, grave, building)",
    );
    let team = ctx.text(&o, "team", "the recovery team");
    let grave_position = ctx.opt_string(&o, "grave_position", "the position in the grave");
    let photos = ctx.list_text(&o, "photos", "photograph reference numbers");
    let property = ctx.list_text(&o, "property", "property references");
    Some(Recovery {
        time: time?,
        place: place?,
        context: context?,
        team: team?,
        grave_position,
        photos,
        property,
    })
}

fn read_time(ctx: &mut Ctx, o: &Obj<'_>) -> Option<TimeInterval> {
    ctx.req(o, "time", "a time interval")
        .and_then(|t| ctx.interval(&t))
}

fn enum_field<T>(
    ctx: &mut Ctx,
    o: &Obj<'_>,
    key: &str,
    expected: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let n = ctx.req(o, key, expected)?;
    let s = ctx.string(&n, expected)?;
    let v = parse(&s);
    if v.is_none() {
        ctx.err(&n.path, format!("{s:?} is not recognised"), expected);
    }
    v
}

fn read_record(ctx: &mut Ctx, n: &N<'_>) -> Option<RemainsRecord> {
    let kind =
        n.v.get("record")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
    Some(match kind.as_str() {
        "examination" => {
            let o = ctx.object(n, &["record", "id", "reexamination", "examination"])?;
            let id: Option<ExaminationId> = ctx.req_parsed(&o, "id", "an examination id");
            let re = ctx.opt_bool(&o, "reexamination");
            let e = ctx.req(&o, "examination", "the examination")?;
            let eo = ctx.object(
                &e,
                &[
                    "time",
                    "kind",
                    "examiner",
                    "findings",
                    "summary",
                    "cause_of_death",
                    "manner_of_death",
                    "samples",
                    "report",
                ],
            )?;
            let time = read_time(ctx, &eo);
            let kind = ctx.text(
                &eo,
                "kind",
                "full autopsy, external examination or skeletal analysis",
            );
            let examiner = ctx.text(&eo, "examiner", "the examiner");
            let mut findings = Vec::new();
            for f in ctx.opt_array(&eo, "findings", "an array of {key, value}") {
                if let Some(fo) = ctx.object(&f, &["key", "value"]) {
                    if let (Some(key), Some(value)) = (
                        ctx.text(&fo, "key", "a key"),
                        ctx.text(&fo, "value", "a value"),
                    ) {
                        findings.push(ExamFinding { key, value });
                    }
                }
            }
            let summary = ctx.opt_text(&eo, "summary", "a summary");
            let cause_of_death = ctx.opt_string(&eo, "cause_of_death", "the cause of death");
            let manner = ctx.opt_text(&eo, "manner_of_death", "the manner of death");
            let mut samples = Vec::new();
            for s in ctx.opt_array(&eo, "samples", "an array of {kind, reference}") {
                if let Some(so) = ctx.object(&s, &["kind", "reference"]) {
                    if let (Some(kind), Some(reference)) = (
                        ctx.text(&so, "kind", "the sample kind"),
                        ctx.text(&so, "reference", "the sample reference"),
                    ) {
                        samples.push(Sample { kind, reference });
                    }
                }
            }
            let report = ctx.opt_parsed(&eo, "report", "a vault item id");
            RemainsRecord::Examination {
                id: id?,
                reexamination: re,
                examination: Examination {
                    time: time?,
                    kind: ExaminationType::parse(&kind?),
                    examiner: examiner?,
                    findings,
                    summary,
                    cause_of_death,
                    manner_of_death: MannerOfDeath::parse(&manner),
                    samples,
                    report,
                },
            }
        }
        "examination_waived" => {
            let o = ctx.object(n, &["record", "waiver"])?;
            let w = ctx.req(&o, "waiver", "the waiver")?;
            let wo = ctx.object(&w, &["time", "reason", "authorised_by"])?;
            let time = read_time(ctx, &wo);
            let reason = ctx.text(&wo, "reason", "why the examination was waived");
            let by = ctx.text(&wo, "authorised_by", "who authorised the waiver");
            RemainsRecord::ExaminationWaived {
                waiver: Waiver {
                    time: time?,
                    reason: reason?,
                    authorised_by: by?,
                },
            }
        }
        "identification_evidence" => {
            let o = ctx.object(n, &["record", "id", "evidence"])?;
            let id: Option<IdEvidenceId> =
                ctx.req_parsed(&o, "id", "an identification evidence id");
            let e = ctx.req(&o, "evidence", "the comparison")?;
            let eo = ctx.object(
                &e,
                &["method", "am_record", "result", "analyst", "time", "note"],
            )?;
            let method = enum_field(
                ctx,
                &eo,
                "method",
                "dna, fingerprints, dental, documents, property, visual or medical",
                IdMethod::parse,
            );
            let am_record: Option<PersonRef> =
                ctx.opt_parsed(&eo, "am_record", "an ante-mortem record reference");
            let result = enum_field(
                ctx,
                &eo,
                "result",
                "match, exclusion or inconclusive",
                |s| match s {
                    "match" => Some(IdResult::Match),
                    "exclusion" => Some(IdResult::Exclusion),
                    "inconclusive" => Some(IdResult::Inconclusive),
                    _ => None,
                },
            );
            let analyst = ctx.text(&eo, "analyst", "who made the comparison");
            let time = read_time(ctx, &eo);
            let note = ctx.opt_text(&eo, "note", "a note");
            RemainsRecord::IdentificationEvidence {
                id: id?,
                evidence: IdentificationEvidence {
                    method: method?,
                    am_record,
                    result: result?,
                    analyst: analyst?,
                    time: time?,
                    note,
                },
            }
        }
        "decision" => {
            let o = ctx.object(n, &["record", "id", "decision"])?;
            let id: Option<DecisionId> = ctx.req_parsed(&o, "id", "a decision id");
            let d = ctx.req(&o, "decision", "the decision")?;
            let dobj = ctx.object(
                &d,
                &[
                    "status",
                    "person",
                    "basis",
                    "board_ref",
                    "secondary_combination_approved",
                    "time",
                    "decided_by",
                ],
            )?;
            let status = enum_field(
                ctx,
                &dobj,
                "status",
                "presumptive or confirmed",
                |s| match s {
                    "presumptive" => Some(DecisionStatus::Presumptive),
                    "confirmed" => Some(DecisionStatus::Confirmed),
                    _ => None,
                },
            );
            let person = ctx.opt_parsed(&dobj, "person", "a person reference");
            let basis = ctx.list_parsed(&dobj, "basis", "identification evidence ids");
            let board_ref = ctx.opt_string(&dobj, "board_ref", "the board reference");
            let combo = ctx.opt_bool(&dobj, "secondary_combination_approved");
            let time = read_time(ctx, &dobj);
            let by = ctx.text(&dobj, "decided_by", "who decided");
            RemainsRecord::Decision {
                id: id?,
                decision: Decision {
                    status: status?,
                    person,
                    basis,
                    board_ref,
                    secondary_combination_approved: combo,
                    time: time?,
                    decided_by: by?,
                },
            }
        }
        "withdrawal" => {
            let o = ctx.object(n, &["record", "withdrawal"])?;
            let w = ctx.req(&o, "withdrawal", "the withdrawal")?;
            let wo = ctx.object(&w, &["decision", "reason", "by", "time"])?;
            let decision = ctx.req_parsed(&wo, "decision", "the decision withdrawn");
            let reason = ctx.text(&wo, "reason", "why it was withdrawn");
            let by = ctx.text(&wo, "by", "who withdrew it");
            let time = read_time(ctx, &wo);
            RemainsRecord::Withdrawal {
                withdrawal: Withdrawal {
                    decision: decision?,
                    reason: reason?,
                    by: by?,
                    time: time?,
                },
            }
        }
        "family_notified" => {
            let o = ctx.object(n, &["record", "notification"])?;
            let w = ctx.req(&o, "notification", "the notification")?;
            let wo = ctx.object(&w, &["time", "by", "next_of_kin"])?;
            let time = read_time(ctx, &wo);
            let by = ctx.text(&wo, "by", "who notified the family");
            let next_of_kin: Option<SealedRef> =
                ctx.opt_parsed(&wo, "next_of_kin", "a sealed record reference");
            RemainsRecord::FamilyNotified {
                notification: Notification {
                    time: time?,
                    by: by?,
                    next_of_kin,
                },
            }
        }
        "released" => {
            let o = ctx.object(n, &["record", "release"])?;
            let w = ctx.req(&o, "release", "the release")?;
            let wo = ctx.object(&w, &["time", "released_to", "recipient", "document", "by"])?;
            let time = read_time(ctx, &wo);
            let released_to =
                ctx.text(&wo, "released_to", "the recipient's role, e.g. next of kin");
            let recipient = ctx.opt_parsed(&wo, "recipient", "a sealed record reference");
            let document = ctx.opt_parsed(&wo, "document", "a vault item id");
            let by = ctx.text(&wo, "by", "who released them");
            RemainsRecord::Released {
                release: Release {
                    time: time?,
                    released_to: released_to?,
                    recipient,
                    document,
                    by: by?,
                },
            }
        }
        "buried_unidentified" => {
            let o = ctx.object(n, &["record", "burial"])?;
            let w = ctx.req(&o, "burial", "the burial")?;
            let wo = ctx.object(&w, &["time", "place", "grave_marker", "by"])?;
            let time = read_time(ctx, &wo);
            let place = ctx
                .req(&wo, "place", "the grave's place")
                .and_then(|p| ctx.place(&p));
            let marker = ctx.text(&wo, "grave_marker", "the grave marker");
            let by = ctx.text(&wo, "by", "who buried them");
            RemainsRecord::BuriedUnidentified {
                burial: Burial {
                    time: time?,
                    place: place?,
                    grave_marker: marker?,
                    by: by?,
                },
            }
        }
        "exhumed" => {
            let o = ctx.object(n, &["record", "exhumation"])?;
            let w = ctx.req(&o, "exhumation", "the exhumation")?;
            let wo = ctx.object(&w, &["time", "authorisation", "by"])?;
            let time = read_time(ctx, &wo);
            let auth = ctx.text(&wo, "authorisation", "the exhumation's authorisation");
            let by = ctx.text(&wo, "by", "who exhumed them");
            RemainsRecord::Exhumed {
                exhumation: Exhumation {
                    time: time?,
                    authorisation: auth?,
                    by: by?,
                },
            }
        }
        "recovery_corrected" => {
            let o = ctx.object(n, &["record", "previous", "reason"])?;
            let prev = ctx
                .req(&o, "previous", "the recovery record replaced")
                .and_then(|p| read_recovery(ctx, &p));
            let reason = ctx.text(&o, "reason", "why it was corrected");
            RemainsRecord::RecoveryCorrected {
                previous: prev?,
                reason: reason?,
            }
        }
        other => {
            ctx.err(
                &format!("{}.record", n.path),
                format!("{other:?} is not a record kind"),
                "examination, examination_waived, identification_evidence, decision, withdrawal, family_notified, released, buried_unidentified, exhumed or recovery_corrected",
            );
            return None;
        }
    })
}

fn read_remains(ctx: &mut Ctx, n: &N<'_>, plan: &mut Plan, tags: &mut Seen<Tag>) {
    let Some(o) = ctx.object(
        n,
        &[
            "tag",
            "synthetic",
            "recovery",
            "former_tags",
            "records",
            "status",
        ],
    ) else {
        return;
    };
    let tag: Option<Tag> = ctx.req_parsed(&o, "tag", "a tag number");
    let synthetic = ctx.opt_bool(&o, "synthetic");
    let recovery = ctx
        .req(&o, "recovery", "the recovery record")
        .and_then(|r| read_recovery(ctx, &r));
    let mut former = Vec::new();
    for f in ctx.opt_array(&o, "former_tags", "an array of {tag, replaced_by, reason}") {
        if let Some(fo) = ctx.object(&f, &["tag", "replaced_by", "reason"]) {
            let t: Option<Tag> = ctx.req_parsed(&fo, "tag", "a tag number");
            let r: Option<Tag> = ctx.req_parsed(&fo, "replaced_by", "a tag number");
            let reason = ctx.text(&fo, "reason", "why the tag was corrected");
            if let (Some(t), Some(r), Some(reason)) = (t, r, reason) {
                former.push((t, r, reason, f.path.clone()));
            }
        }
    }
    let mut records = Vec::new();
    for r in ctx.opt_array(&o, "records", "an array of forensic records") {
        if let Some(rec) = read_record(ctx, &r) {
            records.push((rec, r.path.clone()));
        }
    }
    let status = o.get("status").and_then(|s| {
        let t = ctx.string(&s, "a status")?;
        let st = Status::parse(&t);
        if st.is_none() {
            ctx.err(
                &s.path,
                format!("{t:?} is not a status"),
                Status::ALL.map(|s| s.as_str()).join(", "),
            );
        }
        st.map(|st| (st, s.path.clone()))
    });
    let (Some(tag), Some(recovery)) = (tag, recovery) else {
        return;
    };
    // Every tag number ever used by these remains must be unused elsewhere.
    let mut fine = tags.add(ctx, &tag, &o.key_path("tag"), "tag number");
    for (t, _, _, p) in &former {
        fine &= tags.add(ctx, t, p, "tag number");
    }
    if !fine {
        return;
    }
    // Chain check: former tags lead to the current one.
    let mut expected_next: Option<&Tag> = None;
    for (t, r, _, p) in &former {
        if let Some(e) = expected_next {
            if e != t {
                ctx.err(
                    p,
                    format!("tag history breaks: expected {e}, found {t}"),
                    "former tags oldest first, each replaced_by the next",
                );
                return;
            }
        }
        expected_next = Some(r);
    }
    if let Some(e) = expected_next {
        if e != &tag {
            ctx.err(
                &o.key_path("former_tags"),
                format!("the last former tag was replaced by {e}, not by {tag}"),
                "a tag history ending at the current tag",
            );
            return;
        }
    }
    let g = n.path.clone();
    let first_tag = former
        .first()
        .map(|f| f.0.clone())
        .unwrap_or_else(|| tag.clone());
    // The recovery as first recorded: the oldest `previous`, else the current one.
    let corrections: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, (r, _))| matches!(r, RemainsRecord::RecoveryCorrected { .. }))
        .map(|(i, _)| i)
        .collect();
    let initial = match corrections.first() {
        Some(&i) => match &records[i].0 {
            RemainsRecord::RecoveryCorrected { previous, .. } => previous.clone(),
            _ => unreachable!(),
        },
        None => recovery.clone(),
    };
    plan.push(
        Event::RemainsRecovered {
            tag: first_tag,
            synthetic,
            recovery: initial,
        },
        &o.key_path("recovery"),
        &g,
    );
    for (t, r, reason, p) in former {
        plan.push(
            Event::TagCorrected {
                tag: t,
                new_tag: r,
                reason,
            },
            &p,
            &g,
        );
    }
    for (k, (rec, p)) in records.iter().enumerate() {
        match rec {
            RemainsRecord::RecoveryCorrected { reason, .. } => {
                let pos = corrections.iter().position(|&c| c == k).expect("listed");
                let next = match corrections.get(pos + 1) {
                    Some(&j) => match &records[j].0 {
                        RemainsRecord::RecoveryCorrected { previous, .. } => previous.clone(),
                        _ => unreachable!(),
                    },
                    None => recovery.clone(),
                };
                plan.push(
                    Event::RecoveryCorrected {
                        tag: tag.clone(),
                        recovery: next,
                        reason: reason.clone(),
                    },
                    p,
                    &g,
                );
            }
            other => plan.push(
                Event::RemainsRecorded {
                    tag: tag.clone(),
                    record: other.clone(),
                },
                p,
                &g,
            ),
        }
    }
    if let Some((st, p)) = status {
        plan.status_checks.push((tag, st, p, g));
    }
}

fn read_witness(
    ctx: &mut Ctx,
    n: &N<'_>,
    check_ev: EvCheck<'_>,
) -> Option<(Pseudonym, Vec<(Event, String)>)> {
    let o = ctx.object(
        n,
        &[
            "pseudonym",
            "sealed",
            "registered_at",
            "registered_by",
            "consents",
        ],
    )?;
    let p: Option<Pseudonym> = ctx.req_parsed(&o, "pseudonym", "a pseudonym such as W-0012");
    let sealed: Option<SealedRef> = ctx.req_parsed(&o, "sealed", "the sealed record reference");
    let at = ctx.req_moment(&o, "registered_at", DayEnd::Start);
    let by = ctx.text(&o, "registered_by", "who registered the witness");
    let mut consents = Vec::new();
    for c in ctx.opt_array(&o, "consents", "an array of consents") {
        if let Some(rec) = read_consent(ctx, &c) {
            if let Some(d) = &rec.consent.document {
                check_ev(ctx, d, &format!("{}.consent.document", c.path));
            }
            consents.push((rec, c.path.clone()));
        }
    }
    let (p, sealed, at, by) = (p?, sealed?, at?, by?);
    let mut evs = vec![(
        Event::WitnessRegistered {
            witness: p,
            sealed,
            registered_at: at,
            registered_by: by,
        },
        n.path.clone(),
    )];
    for (rec, path) in consents {
        evs.push((
            Event::ConsentRecorded {
                witness: p,
                id: rec.id.clone(),
                consent: rec.consent,
            },
            path.clone(),
        ));
        for w in rec.withdrawals {
            evs.push((
                Event::ConsentWithdrawn {
                    witness: p,
                    consent: rec.id.clone(),
                    withdrawal: w,
                },
                path.clone(),
            ));
        }
    }
    Some((p, evs))
}

fn read_uses(ctx: &mut Ctx, o: &Obj<'_>) -> BTreeSet<ConsentUse> {
    ctx.list_text(
        o,
        "uses",
        "consent uses such as recording, investigation, court_use",
    )
    .iter()
    .map(|s| ConsentUse::parse(s))
    .collect()
}

fn read_consent(ctx: &mut Ctx, n: &N<'_>) -> Option<ConsentRecord> {
    let o = ctx.object(n, &["id", "consent", "withdrawals"])?;
    let id: Option<ConsentId> = ctx.req_parsed(&o, "id", "a consent id");
    let c = ctx.req(&o, "consent", "the consent")?;
    let co = ctx.object(
        &c,
        &["uses", "given_at", "recorded_by", "conditions", "document"],
    )?;
    let uses = read_uses(ctx, &co);
    let given_at = ctx.req_moment(&co, "given_at", DayEnd::Start);
    let recorded_by = ctx.text(&co, "recorded_by", "who recorded the consent");
    let conditions = ctx.opt_text(&co, "conditions", "conditions");
    let document = ctx.opt_parsed(&co, "document", "an evidence id");
    let mut withdrawals = Vec::new();
    for w in ctx.opt_array(&o, "withdrawals", "an array of withdrawals") {
        if let Some(wo) = ctx.object(&w, &["at", "uses", "recorded_by", "note"]) {
            let at = ctx.req_moment(&wo, "at", DayEnd::Start);
            let uses = read_uses(ctx, &wo);
            let by = ctx.text(&wo, "recorded_by", "who recorded the withdrawal");
            let note = ctx.opt_text(&wo, "note", "a note");
            if let (Some(at), Some(by)) = (at, by) {
                withdrawals.push(ConsentWithdrawal {
                    at,
                    uses,
                    recorded_by: by,
                    note,
                });
            }
        }
    }
    Some(ConsentRecord {
        id: id?,
        consent: Consent {
            uses,
            given_at: given_at?,
            recorded_by: recorded_by?,
            conditions,
            document,
        },
        withdrawals,
    })
}

fn read_testimony(ctx: &mut Ctx, n: &N<'_>) -> Option<Testimony> {
    let o = ctx.object(
        n,
        &[
            "evidence",
            "witness",
            "taken",
            "taken_by",
            "language",
            "consent",
            "incidents",
        ],
    )?;
    let evidence = ctx.req_parsed(&o, "evidence", "the testimony's evidence id");
    let witness = ctx.req_parsed(&o, "witness", "a witness pseudonym");
    let taken = ctx
        .req(&o, "taken", "when the testimony was taken")
        .and_then(|t| ctx.interval(&t));
    let taken_by = ctx.text(&o, "taken_by", "who took the testimony");
    let language = ctx.opt_text(&o, "language", "the language");
    let consent = ctx.req_parsed(&o, "consent", "the consent id");
    let incidents = ctx.list_parsed(&o, "incidents", "incident ids");
    Some(Testimony {
        evidence: evidence?,
        witness: witness?,
        taken: taken?,
        taken_by: taken_by?,
        language,
        consent: consent?,
        incidents,
    })
}

/// Checks that the stated status of each remains equals the status its records give.
pub(crate) fn check_statuses(ctx: &mut Ctx, case: &Case, checks: &[(Tag, Status, String, String)]) {
    for (tag, stated, path, _) in checks {
        if let Some(r) = case.remains.get(tag) {
            if r.status != *stated {
                ctx.err(
                    path,
                    format!(
                        "the records of {tag} give status {} but the document states {stated}",
                        r.status
                    ),
                    "a status matching the records (add the missing record or correct the status)",
                );
            }
        }
    }
}
