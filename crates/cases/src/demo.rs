//! The demonstration case: the synthetic Bucha dataset (`demo/bucha.json`) mapped into
//! the case model, with its expected claim-check outcomes.
//!
//! The dataset is synthetic and non-graphic: evidence items are modelled on publicly
//! reported facts, all media are generated placeholders, and all remains records refer
//! to no real person. Its notice ([`DemoCase::notice`], also the case's notice) must be
//! shown wherever the demo is shown. The demo names no unit.
//!
//! The dataset holds evidence descriptions but no observations; the mapping adds them as
//! labelled *demo annotations* ([`annotations`]): what each item shows, kept apart from
//! the interpretation, and which claim subjects it speaks of. Analysis reports that
//! re-examine imagery (EV-12, EV-13) are recorded as corroborating the interpretation of
//! that imagery rather than as separate sightings: the imagery they relied on for
//! earlier dates is not held in this case, and a full case would register it.

use std::collections::BTreeMap;

use serde_json::Value;
use time::UtcOffset;

use crate::case::Case;
use crate::claims::{
    CheckOptions, Claim, ClaimResult, CountedStage, Predicate, Relation, Summary, check,
};
use crate::command::{Command, ObservationDraft, handle};
use crate::context::ControlPeriod;
use crate::crimes::CrimeRef;
use crate::event::CaseEvent;
use crate::evidence::{
    ClockKind, ClockReading, Coverage, Evidence, EvidenceKind, Finding, Interpretation, MediaSpec,
    Subject, SubjectFinding, Via, capture_interval,
};
use crate::exchange::reader::{Ctx, N};
use crate::exchange::{ImportErrors, Issue, Location};
use crate::forensic::{
    Decision, DecisionStatus, ExamFinding, Examination, ExaminationType, IdMethod, IdResult,
    IdentificationEvidence, MannerOfDeath, Notification, Recovery, Release, Sample, Status,
};
use crate::geo::{LatLon, Place};
use crate::ids::{ClaimId, ControlPeriodId, EvidenceId, PersonRef, PlaceId, Tag};
use crate::incident::{ElementLink, IncidentDraft, Stance};
use crate::when::{Basis, DayEnd, TimeBound, TimeInterval, parse_offset};

/// The demo dataset as shipped with this crate.
pub const BUCHA_JSON: &str = include_str!("../demo/bucha.json");

/// The UTC offset date-only values of the demo are read at (Kyiv summer time, which the
/// dataset's own times use; days before 27 March 2022 were at +02:00, an hour that day-
/// level dates do not resolve).
pub const DEMO_OFFSET: &str = "+03:00";

/// What a placeholder tile or clip looks like.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceholderKind {
    /// A grey tile with a caption.
    GreyTile,
    /// A street-outline drawing without people, with a caption.
    StreetOutline,
    /// A text card.
    TextCard,
    /// A grey video showing only a timecode.
    TimecodeVideo { seconds: u32 },
    /// Render instructions this mapping does not recognise (kept verbatim).
    Other,
}

/// The placeholder media an evidence item needs, for generating captioned grey tiles.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize)]
pub struct MediaPlaceholder {
    pub evidence: EvidenceId,
    pub kind: PlaceholderKind,
    pub caption: String,
    /// The dataset's `media.render` text, verbatim.
    pub render: String,
}

/// One expected check from the dataset.
#[derive(Clone, PartialEq, Debug)]
pub struct ExpectedCheck {
    pub claim: ClaimId,
    pub evidence: Vec<EvidenceId>,
    pub expected: Summary,
    pub reason: String,
}

/// How one expected check compares with the check's result.
#[derive(Clone, PartialEq, Debug)]
pub struct ExpectationOutcome {
    pub claim: ClaimId,
    pub expected: Summary,
    pub actual: Summary,
    /// The relation each listed evidence item must have.
    pub wanted_relation: Relation,
    /// Listed items whose relation differs, with the relation found.
    pub mismatched_evidence: Vec<(EvidenceId, Relation)>,
    /// Items with the wanted relation that the dataset does not list.
    pub unlisted_evidence: Vec<EvidenceId>,
}

impl ExpectationOutcome {
    pub fn holds(&self) -> bool {
        self.expected == self.actual
            && self.mismatched_evidence.is_empty()
            && self.unlisted_evidence.is_empty()
    }
}

/// The demo case, ready to show.
#[derive(Debug)]
pub struct DemoCase {
    pub dataset: String,
    pub version: String,
    /// Must be shown wherever the demo is shown.
    pub notice: String,
    pub events: Vec<CaseEvent>,
    pub case: Case,
    pub media: Vec<MediaPlaceholder>,
    pub expected: Vec<ExpectedCheck>,
}

impl DemoCase {
    pub fn check(&self) -> Vec<ClaimResult> {
        check(&self.case, &CheckOptions::default())
    }

    /// Compares the check with the dataset's expected checks.
    pub fn compare_expected(&self) -> Vec<ExpectationOutcome> {
        let results = self.check();
        self.expected
            .iter()
            .map(|exp| {
                let r = results.iter().find(|r| r.claim == exp.claim);
                let wanted = match exp.expected {
                    Summary::Contradicted => Relation::Contradicts,
                    Summary::Supported | Summary::PartiallySupported => Relation::Supports,
                    Summary::Inconclusive => Relation::Inconclusive,
                    Summary::NotApplicable => Relation::NotApplicable,
                };
                let Some(r) = r else {
                    return ExpectationOutcome {
                        claim: exp.claim.clone(),
                        expected: exp.expected,
                        actual: Summary::NotApplicable,
                        wanted_relation: wanted,
                        mismatched_evidence: exp
                            .evidence
                            .iter()
                            .map(|e| (e.clone(), Relation::NotApplicable))
                            .collect(),
                        unlisted_evidence: vec![],
                    };
                };
                let mismatched = exp
                    .evidence
                    .iter()
                    .filter_map(|e| {
                        let rel = r
                            .pair(e.as_str())
                            .map(|p| p.relation)
                            .unwrap_or(Relation::NotApplicable);
                        (rel != wanted).then(|| (e.clone(), rel))
                    })
                    .collect();
                // For contradicted claims the listed items must be all the contradicting ones.
                let unlisted = if exp.expected == Summary::Contradicted {
                    r.evidence_with(Relation::Contradicts)
                        .into_iter()
                        .filter(|e| !exp.evidence.contains(e))
                        .cloned()
                        .collect()
                } else {
                    vec![]
                };
                ExpectationOutcome {
                    claim: exp.claim.clone(),
                    expected: exp.expected,
                    actual: r.summary,
                    wanted_relation: wanted,
                    mismatched_evidence: mismatched,
                    unlisted_evidence: unlisted,
                }
            })
            .collect()
    }
}

/// Loads the demo shipped with the crate.
pub fn bucha() -> Result<DemoCase, ImportErrors> {
    load(BUCHA_JSON)
}

/// One observation the demo adds to an evidence item.
pub struct Annotation {
    pub evidence: &'static str,
    pub shows: &'static str,
    /// (text, by, corroborated_by)
    pub interpretation: Option<(&'static str, &'static str, &'static [&'static str])>,
    /// (subject, finding present?, via interpretation?)
    pub subjects: &'static [(&'static str, bool, bool)],
    pub reported_by: Option<&'static str>,
    /// When the state shown held, if not the item's capture interval: a date, with its
    /// basis; or `UPLOAD_CAPPED` to derive it from the post time as an upper bound.
    pub time: Option<(&'static str, &'static str)>,
}

/// Derive the capture interval from the post time (an upper bound) and the start of
/// the armed conflict as the floor.
pub const UPLOAD_CAPPED: &str = "upload-capped";

const BODIES: &str = "bodies on street";
const IMAGERY: &str = "published imagery of bodies";

/// The demo annotations: observations the dataset does not carry. Every one is an
/// analyst's reading of the dataset's description, labelled as such.
pub fn annotations() -> Vec<Annotation> {
    vec![
        Annotation {
            evidence: "EV-02",
            shows: "journalists report the bodies of at least 21 people at various spots, a group of nine in civilian clothes, at least two with hands tied",
            interpretation: None,
            subjects: &[(BODIES, true, false)],
            reported_by: Some("Associated Press journalists"),
            time: None,
        },
        Annotation {
            evidence: "EV-03",
            shows: "disturbed ground on the church grounds",
            interpretation: Some((
                "first signs of excavation",
                "Maxar Technologies",
                &["EV-06", "EV-07"],
            )),
            subjects: &[("excavation at church grounds", true, true)],
            reported_by: None,
            time: None,
        },
        Annotation {
            evidence: "EV-04",
            shows: "several dark, body-sized objects on or beside the roadway of Yablunska Street",
            interpretation: Some((
                "bodies (apparent; objects, not identified persons)",
                "Maxar Technologies / Reuters",
                &["EV-09", "EV-12", "EV-13"],
            )),
            subjects: &[(BODIES, true, true)],
            reported_by: None,
            time: None,
        },
        Annotation {
            evidence: "EV-05",
            shows: "dark objects on Yablunska Street in the positions where bodies were filmed after Ukrainian forces re-entered the town",
            interpretation: Some((
                "bodies (objects consistent with bodies)",
                "The New York Times; verified by BBC",
                &["EV-09", "EV-12", "EV-13"],
            )),
            subjects: &[(BODIES, true, true)],
            reported_by: None,
            time: None,
        },
        Annotation {
            evidence: "EV-06",
            shows: "a grave near the church on medium-resolution imagery",
            interpretation: Some((
                "a mass grave",
                "Centre for Information Resilience",
                &["EV-07"],
            )),
            subjects: &[("grave at church grounds", true, true)],
            reported_by: None,
            time: None,
        },
        Annotation {
            evidence: "EV-07",
            shows: "a trench of about 13.7 m in the south-western part of the church grounds",
            interpretation: Some(("a grave site", "Maxar Technologies / Reuters", &["EV-06"])),
            subjects: &[("grave at church grounds", true, true)],
            reported_by: None,
            time: None,
        },
        Annotation {
            evidence: "EV-08",
            shows: "a public post with a photo of a street in Bucha (synthetic stand-in)",
            interpretation: Some((
                "the photo shows dead civilians on the street; the post publishes it",
                "demo annotation",
                &["EV-14"],
            )),
            subjects: &[(IMAGERY, true, true)],
            reported_by: None,
            time: None,
        },
        Annotation {
            evidence: "EV-08",
            shows: "the photo in the post shows a street in Bucha (synthetic stand-in)",
            interpretation: Some(("bodies on the street", "demo annotation", &["EV-09"])),
            subjects: &[(BODIES, true, true)],
            reported_by: None,
            time: Some((UPLOAD_CAPPED, "")),
        },
        Annotation {
            evidence: "EV-09",
            shows: "drive-along video along Yablunska Street with bodies beside the road",
            interpretation: Some((
                "bodies; imagery of them existed from the time of filming (the claim's 'appeared' read as 'existed')",
                "The New York Times (frame-to-satellite matching); demo annotation for the reading",
                &["EV-12", "EV-13"],
            )),
            subjects: &[(BODIES, true, true), (IMAGERY, true, true)],
            reported_by: None,
            time: None,
        },
        Annotation {
            evidence: "EV-12",
            shows: "before/after imagery analysis: positions of objects in satellite images match bodies in the early-April video",
            interpretation: Some((
                "the objects in the March imagery are the bodies filmed in April",
                "The New York Times Visual Investigations",
                &["EV-13"],
            )),
            subjects: &[("objects in imagery match filmed bodies", true, true)],
            reported_by: Some("The New York Times Visual Investigations"),
            time: None,
        },
        Annotation {
            evidence: "EV-13",
            shows: "verification of the 19 March image; the 'moving arm' is a windscreen mark, 'sitting up' a wing-mirror distortion",
            interpretation: Some((
                "the body did not move",
                "BBC Reality Check / BBC Monitoring",
                &["EV-12"],
            )),
            subjects: &[("objects in imagery match filmed bodies", true, true)],
            reported_by: Some("BBC Reality Check / BBC Monitoring"),
            time: None,
        },
        Annotation {
            evidence: "EV-14",
            shows: "report that the council secretary reported bodies on 1 April and that images of dead civilians were on social media from 1 April",
            interpretation: None,
            subjects: &[(IMAGERY, true, false)],
            reported_by: Some("Bellingcat"),
            time: Some((
                "2022-04-01",
                "date the posts appeared, as reported by Bellingcat (secondary)",
            )),
        },
    ]
}

/// Demo element links: (crime code, element, evidence, note).
pub fn element_annotations() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    vec![
        (
            "RS-8(2)(a)(i)",
            "E1",
            "EV-15",
            "synthetic records: gunshot wounds, manner of death homicide (demo)",
        ),
        (
            "RS-8(2)(a)(i)",
            "E1",
            "EV-02",
            "journalists saw bodies, at least two with hands tied",
        ),
        (
            "RS-8(2)(a)(i)",
            "protected-status",
            "EV-02",
            "victims in civilian clothes (journalists' report)",
        ),
        (
            "RS-8(2)(a)(i)",
            "nexus-iac",
            "EV-04",
            "captured inside control period CP-BUCHA-RU (see the claim check)",
        ),
        (
            "RS-8(2)(a)(i)",
            "nexus-iac",
            "EV-05",
            "captured inside control period CP-BUCHA-RU (see the claim check)",
        ),
        ("RS-7(1)(a)", "E1", "EV-15", "synthetic records (demo)"),
        (
            "RS-7(1)(a)",
            "widespread-systematic",
            "EV-17",
            "NGO field research describing a pattern of killings; needs corroboration",
        ),
        ("UA-CC-438", "conduct", "EV-15", "synthetic records (demo)"),
    ]
}

fn day(ctx: &mut Ctx, n: &N<'_>, basis: &str) -> Option<TimeInterval> {
    let (s, _) = ctx.moment(n, DayEnd::Start)?;
    let (e, _) = ctx.moment(n, DayEnd::End)?;
    let b = Basis::new(format!(
        "{basis} (date only: whole day at UTC{DEMO_OFFSET})"
    ))
    .ok()?;
    match TimeInterval::between(s, e, b) {
        Ok(i) => Some(i),
        Err(err) => {
            ctx.err(&n.path, err.to_string(), "a date");
            None
        }
    }
}

fn start_end(ctx: &mut Ctx, n: &N<'_>) -> Option<TimeInterval> {
    let o = ctx.object(n, &["start", "end", "basis"])?;
    let s = ctx.req_moment(&o, "start", DayEnd::Start);
    let e = ctx.req_moment(&o, "end", DayEnd::End);
    let b = ctx.text(&o, "basis", "where the time comes from");
    let (s, e, b) = (s?, e?, b?);
    match TimeInterval::between(s, e, Basis::new(b).ok()?) {
        Ok(i) => Some(i),
        Err(err) => {
            ctx.err(&n.path, err.to_string(), "start before end");
            None
        }
    }
}

/// Reads the figures of a count claim from its assertion when the predicate has none:
/// in each clause (split at ';'), the number before a stage word ("410 civilian bodies
/// recovered", "140 examined").
pub fn figures_from_assertion(text: &str) -> BTreeMap<CountedStage, u64> {
    let mut out = BTreeMap::new();
    for clause in text.split(';') {
        let words: Vec<String> = clause
            .split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .collect();
        for stage in CountedStage::ALL {
            let key = match stage {
                CountedStage::FamilyNotified => "notified",
                CountedStage::ReturnedToFamily => "returned",
                s => s.as_str(),
            };
            if let Some(pos) = words.iter().position(|w| w == key) {
                if let Some(n) = words[..pos]
                    .iter()
                    .rev()
                    .find_map(|w| w.parse::<u64>().ok())
                {
                    out.entry(stage).or_insert(n);
                }
            }
        }
    }
    out
}

fn media_placeholder(
    id: &EvidenceId,
    kind: &str,
    render: Option<&str>,
    captured: Option<&TimeInterval>,
    ev_kind: &str,
) -> Option<MediaPlaceholder> {
    if kind != "generated_placeholder" {
        return None;
    }
    let render = render.unwrap_or("text card").to_owned();
    let quoted = render
        .split_once('\'')
        .and_then(|(_, rest)| rest.rsplit_once('\'').map(|(c, _)| c.to_owned()));
    let l = render.to_lowercase();
    let kind = if l.contains("video") {
        let secs = l
            .split_whitespace()
            .find_map(|w| w.parse::<u32>().ok())
            .unwrap_or(10);
        PlaceholderKind::TimecodeVideo { seconds: secs }
    } else if l.contains("street-outline") || l.contains("street outline") {
        PlaceholderKind::StreetOutline
    } else if l.contains("grey tile") {
        PlaceholderKind::GreyTile
    } else if l.contains("text card") {
        PlaceholderKind::TextCard
    } else {
        PlaceholderKind::Other
    };
    let caption = quoted.unwrap_or_else(|| {
        let date = captured
            .map(|c| c.earliest().to_string()[..10].to_owned())
            .unwrap_or_default();
        format!(
            "{} - {} - {date} - placeholder",
            id,
            ev_kind.replace('_', " ").to_uppercase()
        )
    });
    Some(MediaPlaceholder {
        evidence: id.clone(),
        kind,
        caption,
        render,
    })
}

/// Maps the demo dataset (its schema as shipped) into the case model.
pub fn load(json: &str) -> Result<DemoCase, ImportErrors> {
    let value: Value = serde_json::from_str(json).map_err(|e| ImportErrors {
        issues: vec![Issue {
            location: Location::JsonSyntax {
                line: e.line(),
                column: e.column(),
            },
            problem: format!("not valid JSON: {e}"),
            expected: "the demo dataset".into(),
        }],
    })?;
    let offset: UtcOffset = parse_offset(DEMO_OFFSET).expect("valid offset");
    let mut ctx = Ctx::new(json, offset);
    let root = N::root(&value);
    let out = read_demo(&mut ctx, &root);
    if !ctx.issues.is_empty() {
        return Err(ImportErrors { issues: ctx.issues });
    }
    out.ok_or_else(|| ImportErrors {
        issues: vec![Issue {
            location: Location::Json {
                path: "$".into(),
                line: Some(1),
            },
            problem: "the dataset could not be mapped".into(),
            expected: "the demo dataset schema".into(),
        }],
    })
}

/// Applies a command to the case, recording its events; errors become issues at `path`.
fn run(
    ctx: &mut Ctx,
    case: &mut Case,
    events: &mut Vec<CaseEvent>,
    cmd: Command,
    path: &str,
) -> bool {
    match handle(case, cmd) {
        Ok(evs) => {
            for e in evs {
                case.apply(&e).expect("validated by handle");
                events.push(case.wrap(e));
            }
            true
        }
        Err(e) => {
            ctx.err(path, e.to_string(), "");
            false
        }
    }
}

fn read_demo(ctx: &mut Ctx, root: &N<'_>) -> Option<DemoCase> {
    let doc = ctx.object(
        root,
        &[
            "dataset",
            "version",
            "notice",
            "case",
            "places",
            "control_periods",
            "evidence",
            "claims",
            "expected_checks",
            "remains",
        ],
    )?;
    let dataset = ctx.text(&doc, "dataset", "the dataset name");
    let version = ctx.text(&doc, "version", "the dataset version");
    let notice = ctx.text(&doc, "notice", "the dataset notice");
    let c = ctx.req(&doc, "case", "the case")?;
    let co = ctx.object(&c, &["id", "title", "armed_conflict", "candidate_crimes"])?;
    let id = ctx.req_parsed(&co, "id", "a case id");
    let title = ctx.text(&co, "title", "the case title");
    let conflict = co
        .get("armed_conflict")
        .and_then(|a| crate::exchange::json_read_conflict(ctx, &a));
    let mut crimes = Vec::new();
    for n in ctx.opt_array(&co, "candidate_crimes", "crime codes") {
        if let Some(s) = ctx.string(&n, "a crime code with a description") {
            match CrimeRef::parse(&s) {
                Ok(cr) => crimes.push(cr),
                Err(e) => ctx.err(&n.path, e.to_string(), "RS-... or a national article label"),
            }
        }
    }
    let (dataset, version, notice, id, title) = (dataset?, version?, notice?, id?, title?);
    let opened = match crate::command::open(
        id,
        &title,
        conflict.clone(),
        ctx.offset,
        Some(notice.clone()),
    ) {
        Ok(o) => o,
        Err(e) => {
            ctx.err("$.case", e.to_string(), "");
            return None;
        }
    };
    let mut case = Case::open(&opened).ok()?;
    let mut events = vec![opened];

    for n in ctx.opt_array(&doc, "places", "places") {
        let Some(place) = ctx.place_with(&n, &["id", "name"]) else {
            continue;
        };
        let Some(o) = ctx.object(&n, &["id", "name", "lat", "lon", "uncertainty_m", "basis"])
        else {
            continue;
        };
        let pid: Option<PlaceId> = ctx.req_parsed(&o, "id", "a place id");
        let name = ctx.text(&o, "name", "the place name");
        if let (Some(pid), Some(name)) = (pid, name) {
            ctx.places.insert(pid.clone(), place.clone());
            run(
                ctx,
                &mut case,
                &mut events,
                Command::DefinePlace {
                    id: Some(pid),
                    name,
                    place,
                },
                &n.path,
            );
        }
    }

    for n in ctx.opt_array(&doc, "control_periods", "control periods") {
        let Some(o) = ctx.object(
            &n,
            &["id", "place_ref", "controller", "from", "to", "links"],
        ) else {
            continue;
        };
        let cid: Option<ControlPeriodId> = ctx.req_parsed(&o, "id", "a control period id");
        let pref: Option<PlaceId> = ctx.req_parsed(&o, "place_ref", "a place id");
        let area = o.get("place_ref").and_then(|r| ctx.place_ref(&r));
        let controller = ctx.text(&o, "controller", "who controlled the area");
        let from = ctx
            .req(&o, "from", "the fuzzy start")
            .and_then(|f| ctx.fuzzy(&f));
        let to = o.get("to").and_then(|t| ctx.fuzzy(&t));
        let links = ctx.list_text(&o, "links", "URLs");
        if let (Some(cid), Some(area), Some(controller), Some(from)) = (cid, area, controller, from)
        {
            let period = ControlPeriod {
                id: cid,
                place_ref: pref,
                area,
                controller,
                from,
                to,
                links,
            };
            run(
                ctx,
                &mut case,
                &mut events,
                Command::RecordControlPeriod { period },
                &n.path,
            );
        }
    }

    let mut media = Vec::new();
    let mut captured_of: BTreeMap<EvidenceId, (TimeInterval, Place, String)> = BTreeMap::new();
    for n in ctx.opt_array(&doc, "evidence", "evidence records") {
        let Some(o) = ctx.object(
            &n,
            &[
                "id",
                "type",
                "source",
                "captured_at",
                "location",
                "description",
                "links",
                "media",
                "capture",
                "remains_refs",
            ],
        ) else {
            continue;
        };
        let eid: Option<EvidenceId> = ctx.req_parsed(&o, "id", "an evidence id");
        let kind = ctx.text(&o, "type", "the evidence type");
        let source = ctx.text(&o, "source", "the source");
        let captured = ctx
            .req(&o, "captured_at", "{start, end, basis}")
            .and_then(|c| start_end(ctx, &c));
        let place = ctx
            .req(&o, "location", "{place_ref, basis?}")
            .and_then(|l| {
                let lo = ctx.object(&l, &["place_ref", "basis"])?;
                let r = ctx.req(&lo, "place_ref", "a place id")?;
                let p = ctx.place_ref(&r)?;
                Some(
                    match ctx.opt_string(&lo, "basis", "how the place was found") {
                        Some(b) => {
                            let named = p.name_ref().cloned();
                            let centre = p.centre();
                            let r = match p.area() {
                                crate::geo::Area::Disc { radius_m, .. } => *radius_m,
                                _ => 0.0,
                            };
                            let q = Place::disc(centre, r, Basis::new(b).ok()?).ok()?;
                            match named {
                                Some(id) => q.named(id),
                                None => q,
                            }
                        }
                        None => p,
                    },
                )
            });
        let description = ctx.opt_text(&o, "description", "a description");
        let mut links = ctx.list_text(&o, "links", "URLs");
        if let Some(cap) = o.get("capture") {
            if let Some(co) = ctx.object(
                &cap,
                &["url", "html_sha256", "screenshot_sha256", "collected_at"],
            ) {
                if let Some(u) = ctx.opt_string(&co, "url", "the captured URL") {
                    links.push(u);
                }
            }
        }
        let media_spec = o.get("media").and_then(|m| {
            let mo = ctx.object(&m, &["kind", "render"])?;
            let kind = ctx.text(&mo, "kind", "the media kind")?;
            let render = ctx.opt_string(&mo, "render", "render instructions");
            Some(MediaSpec { kind, render })
        });
        let remains: Vec<Tag> = ctx.list_parsed(&o, "remains_refs", "tag numbers");
        let (Some(eid), Some(kind), Some(source), Some(captured), Some(place)) =
            (eid, kind, source, captured, place)
        else {
            continue;
        };
        let ev_kind = EvidenceKind::parse(&kind);
        // The dataset's remains are a synthetic sample of the figures claimed.
        let coverage = (!remains.is_empty()).then_some(Coverage::Sample);
        if let Some(m) = &media_spec {
            if let Some(p) =
                media_placeholder(&eid, &m.kind, m.render.as_deref(), Some(&captured), &kind)
            {
                media.push(p);
            }
        }
        captured_of.insert(eid.clone(), (captured.clone(), place.clone(), kind.clone()));
        let evidence = Evidence {
            id: eid,
            item: None,
            kind: ev_kind,
            source,
            description,
            captured: Some(captured),
            place: Some(place),
            links,
            media: media_spec,
            remains,
            coverage,
        };
        run(
            ctx,
            &mut case,
            &mut events,
            Command::RegisterEvidence { evidence },
            &n.path,
        );
    }

    // Remains come before the annotations that summarise them.
    for n in ctx.opt_array(&doc, "remains", "remains records") {
        read_demo_remains(ctx, &n, &mut case, &mut events);
    }

    // Observations (demo annotations).
    for a in annotations() {
        let eid = EvidenceId::new(a.evidence).expect("valid id");
        let Some((captured, place, _)) = captured_of.get(&eid).cloned() else {
            ctx.err(
                "$.evidence",
                format!("the demo annotation refers to {eid}, which the dataset lacks"),
                "the evidence the demo annotates",
            );
            continue;
        };
        let time = match a.time {
            None => captured,
            Some((UPLOAD_CAPPED, _)) => {
                let floor = case.armed_conflict.as_ref().map(|c| TimeBound {
                    at: c.since,
                    basis: Basis::new(
                        "no earlier than the start of the armed conflict (case header)",
                    )
                    .expect("non-empty"),
                });
                let reading = ClockReading {
                    kind: ClockKind::Upload,
                    at: captured.latest(),
                    until: None,
                    tolerance_s: None,
                    source: format!("{} ({})", eid, captured.latest_bound().basis),
                };
                match capture_interval(&[reading], floor) {
                    Ok(est) => est.interval,
                    Err(e) => {
                        ctx.err("$.evidence", format!("{eid}: {e}"), "");
                        continue;
                    }
                }
            }
            Some((date, basis)) => {
                let d = crate::when::parse_date(date).expect("annotation dates are valid");
                TimeInterval::day(d, ctx.offset, Basis::new(basis).expect("non-empty"))
            }
        };
        let interpretation = a.interpretation.map(|(text, by, corr)| Interpretation {
            text: text.into(),
            by: by.into(),
            corroborated_by: corr
                .iter()
                .map(|e| EvidenceId::new(*e).expect("valid"))
                .collect(),
        });
        let subjects = a
            .subjects
            .iter()
            .map(|(s, present, interp)| SubjectFinding {
                subject: Subject::new(s).expect("non-empty"),
                finding: if *present {
                    Finding::Present
                } else {
                    Finding::Absent
                },
                via: if *interp {
                    Via::Interpretation
                } else {
                    Via::Shown
                },
            })
            .collect();
        let draft = ObservationDraft {
            evidence: eid,
            shows: a.shows.into(),
            interpretation,
            subjects,
            place,
            time,
            reported_by: a.reported_by.map(str::to_owned),
            derived_from: vec![],
        };
        run(
            ctx,
            &mut case,
            &mut events,
            Command::RecordObservation { draft },
            "$.evidence",
        );
    }

    // Claims.
    for n in ctx.opt_array(&doc, "claims", "claims") {
        let Some(o) = ctx.object(
            &n,
            &["id", "made_by", "source_evidence", "assertion", "predicate"],
        ) else {
            continue;
        };
        let cid: Option<ClaimId> = ctx.req_parsed(&o, "id", "a claim id");
        let made_by = ctx.text(&o, "made_by", "who made the claim");
        let source: Option<EvidenceId> = ctx.opt_parsed(&o, "source_evidence", "an evidence id");
        let assertion = ctx.text(&o, "assertion", "the claim in words");
        let predicate = ctx
            .req(&o, "predicate", "the predicate")
            .and_then(|p| demo_predicate(ctx, &p, assertion.as_deref().unwrap_or("")));
        if let (Some(cid), Some(made_by), Some(assertion), Some(predicate)) =
            (cid, made_by, assertion, predicate)
        {
            let made_at = source
                .as_ref()
                .and_then(|s| captured_of.get(s))
                .map(|(t, _, _)| t.clone());
            let claim = Claim {
                id: cid,
                made_by,
                made_at,
                source_evidence: source,
                assertion,
                predicate,
            };
            run(
                ctx,
                &mut case,
                &mut events,
                Command::RecordClaim { claim },
                &n.path,
            );
        }
    }

    // The demo incident and its element links (demo annotations).
    if let Some(cp) = case.control_periods.values().next().cloned() {
        let yab = case
            .places
            .get(&PlaceId::new("PL-YABLUNSKA").expect("valid"));
        if let Some(yab) = yab.map(|p| p.place.clone()) {
            let to = cp.to.as_ref().map(|t| t.latest).unwrap_or(cp.from.latest);
            let time = TimeInterval::between(
                cp.from.earliest,
                to,
                Basis::new(format!("control period {} (demo annotation)", cp.id))
                    .expect("non-empty"),
            )
            .ok()?;
            let evidence: Vec<EvidenceId> = [
                "EV-02", "EV-04", "EV-05", "EV-08", "EV-09", "EV-12", "EV-13", "EV-14", "EV-15",
                "EV-17",
            ]
            .iter()
            .filter_map(|e| EvidenceId::new(*e).ok())
            .filter(|e| case.evidence.contains_key(e))
            .collect();
            let inc = case.next_incident_id();
            let ok = run(
                ctx,
                &mut case,
                &mut events,
                Command::AddIncident {
                    id: Some(inc.clone()),
                    draft: IncidentDraft {
                        title: "Killings of civilians on Yablunska Street (demo)".into(),
                        description: "Demo incident built from the synthetic dataset; see the dataset notice.".into(),
                        place: yab,
                        time,
                    },
                    crimes: crimes.clone(),
                    evidence,
                },
                "$.case.candidate_crimes",
            );
            if ok {
                for (crime, element, ev, note) in element_annotations() {
                    let crime = CrimeRef::parse(crime).expect("valid code");
                    if !crimes.contains(&crime) {
                        continue;
                    }
                    let link = ElementLink {
                        crime,
                        element: element.into(),
                        evidence: EvidenceId::new(ev).expect("valid"),
                        stance: Stance::Supports,
                        note: format!("{note} [demo annotation]"),
                        by: "demo annotation".into(),
                    };
                    run(
                        ctx,
                        &mut case,
                        &mut events,
                        Command::LinkElement {
                            incident: inc.clone(),
                            link,
                        },
                        "$.case.candidate_crimes",
                    );
                }
            }
        }
    }

    let mut expected = Vec::new();
    for n in ctx.opt_array(&doc, "expected_checks", "expected checks") {
        let Some(o) = ctx.object(&n, &["claim", "evidence", "expected", "reason"]) else {
            continue;
        };
        let claim: Option<ClaimId> = ctx.req_parsed(&o, "claim", "a claim id");
        let evidence: Vec<EvidenceId> = ctx.list_parsed(&o, "evidence", "evidence ids");
        let exp = ctx.req(&o, "expected", "a summary").and_then(|e| {
            let s = ctx.string(&e, "a summary")?;
            let v = Summary::parse(&s);
            if v.is_none() {
                ctx.err(
                    &e.path,
                    format!("{s:?} is not a summary"),
                    "contradicted, supported, partially_supported, inconclusive or not_applicable",
                );
            }
            v
        });
        let reason = ctx.opt_text(&o, "reason", "the reason");
        if let (Some(claim), Some(expected_summary)) = (claim, exp) {
            expected.push(ExpectedCheck {
                claim,
                evidence,
                expected: expected_summary,
                reason,
            });
        }
    }
    Some(DemoCase {
        dataset,
        version,
        notice,
        events,
        case,
        media,
        expected,
    })
}

fn demo_predicate(ctx: &mut Ctx, n: &N<'_>, assertion: &str) -> Option<Predicate> {
    let o = ctx.object(
        n,
        &[
            "kind",
            "subject",
            "place_ref",
            "until",
            "as_of",
            "note",
            "figures",
        ],
    )?;
    let kind = ctx.text(&o, "kind", "the predicate kind")?;
    let place = ctx
        .req(&o, "place_ref", "a place id")
        .and_then(|r| ctx.place_ref(&r))?;
    match kind.as_str() {
        "absent_before" => {
            let subject = ctx.text(&o, "subject", "the subject")?;
            let until = ctx.req_moment(&o, "until", DayEnd::End)?;
            Some(Predicate::AbsentBefore {
                subject: Subject::new(&subject).ok()?,
                place,
                until,
            })
        }
        "causal_alternative" => Some(Predicate::CausalAlternative {
            place,
            cause: assertion.to_owned(),
            note: ctx.opt_text(&o, "note", "a note"),
        }),
        "count" => {
            let as_of = ctx.req_moment(&o, "as_of", DayEnd::End)?;
            let figures = if o.has("figures") {
                crate::exchange::json_read_figures(ctx, &o)?
            } else {
                let f = figures_from_assertion(assertion);
                if f.is_empty() {
                    ctx.err(
                        &n.path,
                        "a count claim without figures, and none found in the assertion",
                        "\"figures\": {\"recovered\": 410, ...}",
                    );
                    return None;
                }
                f
            };
            Some(Predicate::Count {
                place,
                as_of,
                figures,
            })
        }
        other => {
            ctx.err(
                &o.key_path("kind"),
                format!("{other:?} is not a predicate kind the demo knows"),
                "absent_before, causal_alternative or count",
            );
            None
        }
    }
}

const SYN: &str = "synthetic demo record";

fn read_demo_remains(ctx: &mut Ctx, n: &N<'_>, case: &mut Case, events: &mut Vec<CaseEvent>) {
    let Some(o) = ctx.object(
        &n.clone(),
        &[
            "id",
            "synthetic",
            "recovery",
            "examination",
            "identification",
            "family",
            "status",
        ],
    ) else {
        return;
    };
    let tag: Option<Tag> = ctx.req_parsed(&o, "id", "a tag number");
    let synthetic = ctx.opt_bool(&o, "synthetic");
    if !synthetic {
        ctx.err(
            &o.key_path("synthetic"),
            "demo remains must be marked synthetic",
            "\"synthetic\": true",
        );
    }
    let stated = o.get("status").and_then(|s| {
        let t = ctx.string(&s, "a status")?;
        Status::parse(&t)
    });
    let rec = ctx.req(&o, "recovery", "the recovery");
    let recovery = rec.and_then(|r| {
        let ro = ctx.object(
            &r,
            &[
                "date",
                "place_ref",
                "lat",
                "lon",
                "uncertainty_m",
                "context",
                "team",
            ],
        )?;
        let time = ctx
            .req(&ro, "date", "a date")
            .and_then(|d| day(ctx, &d, SYN));
        let near: Option<PlaceId> = ctx.opt_parsed(&ro, "place_ref", "a place id");
        let lat = ctx
            .req(&ro, "lat", "latitude")
            .and_then(|v| ctx.number(&v, "latitude"));
        let lon = ctx
            .req(&ro, "lon", "longitude")
            .and_then(|v| ctx.number(&v, "longitude"));
        let unc = ctx
            .req(&ro, "uncertainty_m", "metres")
            .and_then(|v| ctx.number(&v, "metres"));
        let context = ctx.text(&ro, "context", "the recovery context");
        let team = ctx.text(&ro, "team", "the team");
        let basis = match &near {
            Some(p) => format!("{SYN} (near {p})"),
            None => SYN.to_owned(),
        };
        let place = Place::disc(LatLon::new(lat?, lon?).ok()?, unc?, Basis::new(basis).ok()?);
        let place = match place {
            Ok(p) => p,
            Err(e) => {
                ctx.err(&r.path, e.to_string(), "a place with uncertainty");
                return None;
            }
        };
        Some(Recovery {
            time: time?,
            place,
            context: context?,
            team: team?,
            grave_position: None,
            photos: vec![],
            property: vec![],
        })
    });
    let (Some(tag), Some(recovery)) = (tag, recovery) else {
        return;
    };
    let path = n.path.clone();
    if !run(
        ctx,
        case,
        events,
        Command::RecoverRemains {
            tag: tag.clone(),
            synthetic,
            recovery,
        },
        &path,
    ) {
        return;
    }
    let mut exam_time = None;
    let samples: Vec<Sample> = o
        .get("identification")
        .and_then(|i| i.v.get("samples").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .map(|s| Sample {
            kind: if s.to_lowercase().contains("dna") {
                "DNA".into()
            } else {
                "other".into()
            },
            reference: format!("{s} ({SYN})"),
        })
        .collect();
    if let Some(e) = o.get("examination") {
        let Some(eo) = ctx.object(
            &e,
            &[
                "date",
                "type",
                "cause_of_death",
                "manner_of_death",
                "signs_of_restraint",
            ],
        ) else {
            return;
        };
        let time = ctx
            .req(&eo, "date", "a date")
            .and_then(|d| day(ctx, &d, SYN));
        let kind = ctx.text(&eo, "type", "the examination type");
        let cause = ctx.opt_string(&eo, "cause_of_death", "the cause of death");
        let manner = ctx.opt_text(&eo, "manner_of_death", "the manner of death");
        let restraint = match eo.map.get("signs_of_restraint") {
            Some(Value::Bool(true)) => "yes",
            Some(Value::Bool(false)) => "no",
            _ => "not assessed",
        };
        let (Some(time), Some(kind)) = (time, kind) else {
            return;
        };
        exam_time = Some(time.clone());
        let examination = Examination {
            time,
            kind: ExaminationType::parse(&kind),
            examiner: "synthetic demo examiner".into(),
            findings: vec![ExamFinding {
                key: "signs_of_restraint".into(),
                value: restraint.into(),
            }],
            summary: String::new(),
            cause_of_death: cause,
            manner_of_death: MannerOfDeath::parse(&manner),
            samples,
            report: None,
        };
        if !run(
            ctx,
            case,
            events,
            Command::RecordExamination {
                tag: tag.clone(),
                examination,
            },
            &e.path,
        ) {
            return;
        }
    }
    if let Some(i) = o.get("identification") {
        let Some(io) = ctx.object(&i, &["status", "method", "date", "board_ref", "samples"]) else {
            return;
        };
        let status = ctx
            .text(&io, "status", "identified, presumptive or unidentified")
            .unwrap_or_default();
        if status != "unidentified" {
            let method_text = ctx.text(&io, "method", "the identification method");
            let method = method_text.as_deref().and_then(IdMethod::parse);
            if method.is_none() {
                ctx.err(
                    &io.key_path("method"),
                    format!("{method_text:?} names no identification method"),
                    "DNA, fingerprints, dental, documents, ...",
                );
                return;
            }
            let time = match io.get("date") {
                Some(d) => day(ctx, &d, SYN),
                None => exam_time.clone().map(|t| {
                    let b = Basis::new("no date in the dataset; the examination date is used (synthetic demo record)").expect("non-empty");
                    TimeInterval::between(t.earliest(), t.latest(), b).expect("same bounds")
                }),
            };
            let Some(time) = time else { return };
            let board = ctx.opt_string(&io, "board_ref", "the board reference");
            let id_ev = case.next_id_evidence_id();
            let evidence = IdentificationEvidence {
                method: method.expect("checked"),
                am_record: None,
                result: IdResult::Match,
                analyst: "synthetic demo analyst".into(),
                time: time.clone(),
                note: method_text.unwrap_or_default(),
            };
            if !run(
                ctx,
                case,
                events,
                Command::RecordIdentificationEvidence {
                    tag: tag.clone(),
                    evidence,
                },
                &i.path,
            ) {
                return;
            }
            let decision_status = if status == "identified" {
                DecisionStatus::Confirmed
            } else {
                DecisionStatus::Presumptive
            };
            let num: String = tag
                .as_str()
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>()
                .chars()
                .rev()
                .collect();
            let decision = Decision {
                status: decision_status,
                person: Some(PersonRef::new(format!("DEMO-AM-{num}")).expect("valid")),
                basis: vec![id_ev],
                board_ref: board.clone(),
                secondary_combination_approved: false,
                time,
                decided_by: board.unwrap_or_else(|| "synthetic demo analyst".into()),
            };
            if !run(
                ctx,
                case,
                events,
                Command::DecideIdentification {
                    tag: tag.clone(),
                    decision,
                },
                &i.path,
            ) {
                return;
            }
        }
    }
    if let Some(f) = o.get("family") {
        let Some(fo) = ctx.object(&f, &["notified", "released"]) else {
            return;
        };
        if let Some(d) = fo.get("notified") {
            let Some(time) = day(ctx, &d, SYN) else {
                return;
            };
            let notification = Notification {
                time,
                by: "synthetic demo bureau".into(),
                next_of_kin: None,
            };
            if !run(
                ctx,
                case,
                events,
                Command::NotifyFamily {
                    tag: tag.clone(),
                    notification,
                },
                &d.path,
            ) {
                return;
            }
        }
        if let Some(d) = fo.get("released") {
            let Some(time) = day(ctx, &d, SYN) else {
                return;
            };
            let release = Release {
                time,
                released_to: "next of kin (synthetic)".into(),
                recipient: None,
                document: None,
                by: "synthetic demo bureau".into(),
            };
            if !run(
                ctx,
                case,
                events,
                Command::ReleaseRemains {
                    tag: tag.clone(),
                    release,
                },
                &d.path,
            ) {
                return;
            }
        }
    }
    if let Some(st) = stated {
        let got = case.remains[&tag].status;
        if got != st {
            ctx.err(
                &o.key_path("status"),
                format!("the records of {tag} give status {got} but the dataset states {st}"),
                "a status matching the records",
            );
        }
    }
}
