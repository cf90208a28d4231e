//! The claim check: each claim against each evidence record, then a summary per claim.
//!
//! The rules (see `docs/design/claim-checks.md` for the full statement and worked
//! examples):
//!
//! 1. An observation is relevant to a claim when it speaks of the claim's subject and
//!    its place intersects the claim's place (uncertainty discs and polygons).
//! 2. Times are compared as intervals, bound by bound, and the comparison is written out.
//! 3. Control periods are reported as definitely inside / possibly inside / outside.
//! 4. Each claim/evidence pair yields contradicts, supports, inconclusive or
//!    not_applicable, with the reason, the arithmetic and the interpretations it rests on.
//! 5. Causal claims are never settled by time and place: inconclusive, forensic review.
//! 6. Per claim: conflicting (contradicting and supporting pairs both present) →
//!    inconclusive; any contradicting → contradicted; supporting pairs covering every
//!    part of the assertion → supported, some parts → partially_supported; otherwise
//!    inconclusive if any pair is, else not_applicable.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use custody_model::Digest;
use serde::{Deserialize, Serialize};

use super::{Claim, CountedStage, Predicate};
use crate::case::Case;
use crate::context::{ContextFinding, ContextVerdict};
use crate::evidence::{Coverage, Evidence, Finding, Observation, Via};
use crate::forensic::{Counts, Remains, counts};
use crate::geo::{Place, SpatialRelation};
use crate::ids::{ClaimId, EvidenceId, ObservationId};
use crate::when::{Moment, TimeInterval, describe_duration};

/// The relation of one evidence record (or observation) to one claim.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    NotApplicable,
    Inconclusive,
    Supports,
    Contradicts,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contradicts => "contradicts",
            Self::Supports => "supports",
            Self::Inconclusive => "inconclusive",
            Self::NotApplicable => "not_applicable",
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome for a whole claim.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Summary {
    Contradicted,
    Supported,
    PartiallySupported,
    Inconclusive,
    NotApplicable,
}

impl Summary {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contradicted => "contradicted",
            Self::Supported => "supported",
            Self::PartiallySupported => "partially_supported",
            Self::Inconclusive => "inconclusive",
            Self::NotApplicable => "not_applicable",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Contradicted,
            Self::Supported,
            Self::PartiallySupported,
            Self::Inconclusive,
            Self::NotApplicable,
        ]
        .into_iter()
        .find(|x| x.as_str() == s.trim())
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which claims to check.
#[derive(Clone, Default, Debug)]
pub struct CheckOptions {
    /// Only these claims; all when `None`.
    pub claims: Option<BTreeSet<ClaimId>>,
}

/// One observation weighed against a claim.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ObservationCheck {
    pub observation: ObservationId,
    pub relation: Relation,
    pub reason: String,
    /// The interval (or count) arithmetic, one comparison per line.
    pub arithmetic: Vec<String>,
    pub spatial: String,
    /// Parts of the assertion this observation supports in full.
    pub covers: Vec<String>,
    /// Interpretations and sources the relation rests on.
    pub depends_on: Vec<String>,
    pub context: Vec<ContextFinding>,
}

/// One claim/evidence pair.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct PairResult {
    /// The evidence record; `None` for the case's own remains records not covered by
    /// any evidence record.
    pub evidence: Option<EvidenceId>,
    pub relation: Relation,
    pub reason: String,
    pub arithmetic: Vec<String>,
    pub covers: Vec<String>,
    pub depends_on: Vec<String>,
    pub observations: Vec<ObservationCheck>,
    pub forensic_review: bool,
}

/// The check result for one claim.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ClaimResult {
    pub claim: ClaimId,
    pub made_by: String,
    pub assertion: String,
    pub predicate: String,
    /// The parts of the assertion that support must cover for `supported`.
    pub parts: Vec<String>,
    pub summary: Summary,
    pub summary_reason: String,
    pub forensic_review: bool,
    pub pairs: Vec<PairResult>,
}

impl ClaimResult {
    /// A digest of the result's content: what an analyst signs off.
    pub fn version(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("results always serialise");
        Digest::of(&bytes).to_hex()
    }

    /// Evidence records with the given relation.
    pub fn evidence_with(&self, relation: Relation) -> Vec<&EvidenceId> {
        self.pairs
            .iter()
            .filter(|p| p.relation == relation)
            .filter_map(|p| p.evidence.as_ref())
            .collect()
    }

    pub fn pair(&self, evidence: &str) -> Option<&PairResult> {
        self.pairs
            .iter()
            .find(|p| p.evidence.as_ref().is_some_and(|e| e.as_str() == evidence))
    }
}

/// Checks every claim of the case (or those selected) against its evidence.
pub fn check(case: &Case, opts: &CheckOptions) -> Vec<ClaimResult> {
    case.claims
        .values()
        .filter(|c| opts.claims.as_ref().is_none_or(|s| s.contains(&c.id)))
        .map(|c| check_claim(case, c))
        .collect()
}

fn na(evidence: Option<EvidenceId>, reason: String) -> PairResult {
    PairResult {
        evidence,
        relation: Relation::NotApplicable,
        reason,
        arithmetic: Vec::new(),
        covers: Vec::new(),
        depends_on: Vec::new(),
        observations: Vec::new(),
        forensic_review: false,
    }
}

fn list(ids: &[&EvidenceId]) -> String {
    ids.iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks one claim.
pub fn check_claim(case: &Case, claim: &Claim) -> ClaimResult {
    let parts: Vec<String> = match &claim.predicate {
        Predicate::AbsentBefore { .. } => vec!["absence up to the claimed time".into()],
        Predicate::PresentAt { .. } => vec!["presence within the interval".into()],
        Predicate::OccurredBetween { .. } => {
            vec!["not before the start".into(), "not after the end".into()]
        }
        Predicate::Count { figures, .. } => figures.keys().map(|k| k.to_string()).collect(),
        Predicate::CausalAlternative { .. } => Vec::new(),
    };
    let mut pairs: Vec<PairResult> = case
        .evidence
        .values()
        .map(|ev| pair(case, claim, ev))
        .collect();
    if let Predicate::Count {
        place,
        as_of,
        figures,
    } = &claim.predicate
    {
        let covered: BTreeSet<_> = case.evidence.values().flat_map(|e| &e.remains).collect();
        let rest: Vec<&Remains> = case
            .remains
            .values()
            .filter(|r| !covered.contains(&r.tag))
            .collect();
        if !rest.is_empty() {
            pairs.push(count_pair(
                None,
                rest,
                &[],
                Coverage::Sample,
                place,
                *as_of,
                figures,
            ));
        }
    }
    let forensic_review = matches!(claim.predicate, Predicate::CausalAlternative { .. });
    let (summary, summary_reason) = summarise(&claim.predicate, &parts, &pairs);
    ClaimResult {
        claim: claim.id.clone(),
        made_by: claim.made_by.clone(),
        assertion: claim.assertion.clone(),
        predicate: claim.predicate.describe(),
        parts,
        summary,
        summary_reason,
        forensic_review,
        pairs,
    }
}

fn summarise(pred: &Predicate, parts: &[String], pairs: &[PairResult]) -> (Summary, String) {
    let with = |r: Relation| -> Vec<&EvidenceId> {
        pairs
            .iter()
            .filter(|p| p.relation == r)
            .filter_map(|p| p.evidence.as_ref())
            .collect()
    };
    let count_with = |r: Relation| pairs.iter().filter(|p| p.relation == r).count();
    if let Predicate::CausalAlternative { .. } = pred {
        let forensic = with(Relation::Inconclusive);
        let held = if forensic.is_empty() {
            "no forensic item is linked yet".to_owned()
        } else {
            format!("forensic items to review: {}", list(&forensic))
        };
        return (
            Summary::Inconclusive,
            format!(
                "a causal claim is never settled by time and place; routed to forensic review ({held})"
            ),
        );
    }
    let c = with(Relation::Contradicts);
    let s = with(Relation::Supports);
    let records_supporting = pairs
        .iter()
        .any(|p| p.relation == Relation::Supports && p.evidence.is_none());
    let s_text = if records_supporting {
        let mut t = list(&s);
        if !t.is_empty() {
            t.push_str(", ");
        }
        t.push_str("the case's remains records");
        t
    } else {
        list(&s)
    };
    if count_with(Relation::Contradicts) > 0 && count_with(Relation::Supports) > 0 {
        return (
            Summary::Inconclusive,
            format!(
                "conflicting evidence: contradicted by {}, supported by {s_text}; an analyst must weigh them",
                list(&c)
            ),
        );
    }
    if count_with(Relation::Contradicts) > 0 {
        return (
            Summary::Contradicted,
            format!("contradicted by {}", list(&c)),
        );
    }
    if count_with(Relation::Supports) > 0 {
        let covered: BTreeSet<&String> = pairs
            .iter()
            .filter(|p| p.relation == Relation::Supports)
            .flat_map(|p| &p.covers)
            .collect();
        let missing: Vec<&String> = parts.iter().filter(|p| !covered.contains(p)).collect();
        if missing.is_empty() && !parts.is_empty() {
            return (
                Summary::Supported,
                format!("supported by {s_text}; every part of the assertion is covered"),
            );
        }
        let missing: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        return (
            Summary::PartiallySupported,
            format!(
                "supported in part by {s_text}; not established: {}",
                missing.join(", ")
            ),
        );
    }
    let i = count_with(Relation::Inconclusive);
    if i > 0 {
        return (
            Summary::Inconclusive,
            format!(
                "{i} relevant item(s) cannot decide the claim ({})",
                list(&with(Relation::Inconclusive))
            ),
        );
    }
    (
        Summary::NotApplicable,
        "no evidence record bears on this claim".into(),
    )
}

fn pair(case: &Case, claim: &Claim, ev: &Evidence) -> PairResult {
    if claim.source_evidence.as_ref() == Some(&ev.id) {
        return na(
            Some(ev.id.clone()),
            format!("{} publishes the claim itself", ev.id),
        );
    }
    match &claim.predicate {
        Predicate::Count {
            place,
            as_of,
            figures,
        } => {
            if ev.remains.is_empty() {
                return na(
                    Some(ev.id.clone()),
                    format!(
                        "{} is not a records summary; counts are checked against the forensic records",
                        ev.id
                    ),
                );
            }
            let mut missing = Vec::new();
            let records: Vec<&Remains> = ev
                .remains
                .iter()
                .filter_map(|t| {
                    let r = case.remains.get(t);
                    if r.is_none() {
                        missing.push(t.to_string());
                    }
                    r
                })
                .collect();
            count_pair(
                Some(ev.id.clone()),
                records,
                &missing,
                ev.coverage.unwrap_or(Coverage::Sample),
                place,
                *as_of,
                figures,
            )
        }
        Predicate::CausalAlternative { place, cause, .. } => causal_pair(case, ev, place, cause),
        _ => observation_pair(case, claim, ev),
    }
}

fn observation_pair(case: &Case, claim: &Claim, ev: &Evidence) -> PairResult {
    let obs: Vec<&Observation> = case
        .active_observations()
        .filter(|o| o.evidence == ev.id)
        .collect();
    if obs.is_empty() {
        return na(
            Some(ev.id.clone()),
            format!(
                "no observation is recorded for {}; record what it shows to let it be checked",
                ev.id
            ),
        );
    }
    let checks: Vec<ObservationCheck> = obs
        .iter()
        .map(|o| observation_check(case, &claim.predicate, o))
        .collect();
    let relation = checks
        .iter()
        .map(|c| c.relation)
        .max()
        .unwrap_or(Relation::NotApplicable);
    let deciding: Vec<&ObservationCheck> =
        checks.iter().filter(|c| c.relation == relation).collect();
    let reason = deciding
        .iter()
        .map(|c| format!("{}: {}", c.observation, c.reason))
        .collect::<Vec<_>>()
        .join(" | ");
    let mut arithmetic = Vec::new();
    let mut covers = BTreeSet::new();
    let mut depends = BTreeSet::new();
    for c in &deciding {
        arithmetic.extend(c.arithmetic.iter().cloned());
        if relation != Relation::NotApplicable {
            depends.extend(c.depends_on.iter().cloned());
        }
        if relation == Relation::Supports {
            covers.extend(c.covers.iter().cloned());
        }
    }
    PairResult {
        evidence: Some(ev.id.clone()),
        relation,
        reason,
        arithmetic,
        covers: covers.into_iter().collect(),
        depends_on: depends.into_iter().collect(),
        observations: checks,
        forensic_review: false,
    }
}

fn observation_check(case: &Case, pred: &Predicate, o: &Observation) -> ObservationCheck {
    let mut out = ObservationCheck {
        observation: o.id.clone(),
        relation: Relation::NotApplicable,
        reason: String::new(),
        arithmetic: Vec::new(),
        spatial: String::new(),
        covers: Vec::new(),
        depends_on: Vec::new(),
        context: Vec::new(),
    };
    let subject = match pred {
        Predicate::AbsentBefore { subject, .. }
        | Predicate::PresentAt { subject, .. }
        | Predicate::OccurredBetween { subject, .. } => subject,
        _ => unreachable!("count and causal claims are not checked per observation"),
    };
    let Some(finding) = o.finding_on(subject) else {
        out.reason = format!("does not speak of '{subject}'");
        return out;
    };
    let claim_place = pred.place();
    let spatial = o.place.relate(claim_place);
    out.spatial = format!(
        "observation place {} vs claim place {}: {}",
        o.place.short(),
        claim_place.short(),
        spatial.explanation
    );
    if spatial.relation == SpatialRelation::Disjoint {
        out.reason = format!("places do not intersect ({})", spatial.explanation);
        return out;
    }
    let t = &o.time;
    let shown = match finding.finding {
        Finding::Present => "present",
        Finding::Absent => "absent",
    };
    let what = format!(
        "shows '{}' ({shown}: '{}') at {} [{}]",
        subject,
        o.shows,
        t,
        t.basis_text()
    );
    let (relation, why, arithmetic, covers) = match pred {
        Predicate::AbsentBefore { until, .. } => absent_before(finding.finding, t, *until),
        Predicate::PresentAt { during, .. } => present_at(finding.finding, t, during),
        Predicate::OccurredBetween { during, .. } => occurred_between(finding.finding, t, during),
        _ => unreachable!(),
    };
    out.relation = relation;
    out.arithmetic = arithmetic;
    out.covers = covers;
    out.reason = format!("{what}; {why}");
    if relation == Relation::NotApplicable {
        return out;
    }
    // Interpretations and sources the relation rests on.
    if finding.via == Via::Interpretation {
        match &o.interpretation {
            Some(i) => {
                let corr = if i.corroborated_by.is_empty() {
                    "not corroborated by another item".to_owned()
                } else {
                    let ids: Vec<&str> = i.corroborated_by.iter().map(|e| e.as_str()).collect();
                    format!("corroborated by {}", ids.join(", "))
                };
                out.depends_on.push(format!(
                    "assumes the interpretation '{}' (by {}); {corr}",
                    i.text, i.by
                ));
            }
            None => out
                .depends_on
                .push("assumes an interpretation that is not recorded".into()),
        }
    }
    if let Some(r) = &o.reported_by {
        out.depends_on
            .push(format!("relies on {r}'s report (secondary source)"));
    }
    if !o.derived_from.is_empty() {
        let ids: Vec<&str> = o.derived_from.iter().map(|e| e.as_str()).collect();
        out.depends_on
            .push(format!("derived from {}", ids.join(", ")));
    }
    if spatial.relation == SpatialRelation::Overlaps && relation != Relation::Inconclusive {
        out.depends_on.push(format!(
            "the observation's area only partly lies within the claim's place ({}): assumes what was seen lies within it",
            spatial.explanation
        ));
    }
    // Context: control periods whose area the observation meets.
    for cp in case.control_periods.values() {
        let f = cp.place_interval(t, &o.place);
        if f.verdict != ContextVerdict::Outside || o.place.intersects(&cp.area) {
            out.context.push(f);
        }
    }
    let ctx: Vec<String> = out
        .context
        .iter()
        .filter(|c| c.verdict != ContextVerdict::Outside)
        .map(|c| format!("{} {} ({})", c.verdict.as_str(), c.period, c.controller))
        .collect();
    if !ctx.is_empty() {
        out.reason
            .push_str(&format!("; context: {}", ctx.join(", ")));
    }
    out
}

type Rule = (Relation, String, Vec<String>, Vec<String>);

fn absent_before(f: Finding, t: &TimeInterval, until: Moment) -> Rule {
    if t.latest() <= until {
        let gap = describe_duration(until.since(t.latest()));
        let line = format!(
            "observation latest {} <= claimed until {} (by {gap})",
            t.latest(),
            until
        );
        match f {
            Finding::Present => (
                Relation::Contradicts,
                "the subject was present while the claim says it was absent".into(),
                vec![line],
                vec![],
            ),
            Finding::Absent => (
                Relation::Supports,
                "absent at a time within the claimed period; this shows that moment only, so it supports the claim in part"
                    .into(),
                vec![line],
                // One observation shows one moment, never the whole period: it covers
                // no part in full.
                vec![],
            ),
        }
    } else if t.earliest() > until {
        (
            Relation::NotApplicable,
            format!(
                "seen after the claimed period (earliest {} > {until})",
                t.earliest()
            ),
            vec![format!(
                "observation earliest {} > claimed until {}",
                t.earliest(),
                until
            )],
            vec![],
        )
    } else {
        (
            Relation::Inconclusive,
            "the observation interval contains the claimed time, so it may show the state before or after it".into(),
            vec![format!(
                "observation earliest {} <= claimed until {} < observation latest {}",
                t.earliest(),
                until,
                t.latest()
            )],
            vec![],
        )
    }
}

fn present_at(f: Finding, t: &TimeInterval, during: &TimeInterval) -> Rule {
    let inside = t.within(during.earliest(), during.latest());
    let lines = vec![format!(
        "observation {} – {} against claimed {} – {}: {}",
        t.earliest(),
        t.latest(),
        during.earliest(),
        during.latest(),
        if inside {
            "wholly inside"
        } else if t.overlaps(during) {
            "overlapping, not wholly inside"
        } else {
            "disjoint"
        }
    )];
    if !t.overlaps(during) {
        return (
            Relation::NotApplicable,
            "observed outside the claimed interval".into(),
            lines,
            vec![],
        );
    }
    match (f, inside) {
        (Finding::Present, true) => (
            Relation::Supports,
            "present at a time wholly inside the claimed interval".into(),
            lines,
            vec!["presence within the interval".into()],
        ),
        (Finding::Present, false) => (
            Relation::Inconclusive,
            "present, but the observation may fall outside the claimed interval".into(),
            lines,
            vec![],
        ),
        (Finding::Absent, _) => (
            Relation::Inconclusive,
            "absent at one moment; presence at another moment within the interval is not excluded"
                .into(),
            lines,
            vec![],
        ),
    }
}

fn occurred_between(f: Finding, t: &TimeInterval, during: &TimeInterval) -> Rule {
    let (a, b) = (during.earliest(), during.latest());
    match f {
        Finding::Present => {
            if t.latest() < a {
                (
                    Relation::Contradicts,
                    "its effects were seen before the claimed interval began".into(),
                    vec![format!(
                        "observation latest {} < claimed start {a}",
                        t.latest()
                    )],
                    vec![],
                )
            } else if t.earliest() > b {
                (
                    Relation::NotApplicable,
                    "effects seen after the interval: expected under the claim and under its alternatives".into(),
                    vec![format!("observation earliest {} > claimed end {b}", t.earliest())],
                    vec![],
                )
            } else if t.earliest() >= a && t.latest() <= b {
                (
                    Relation::Supports,
                    "effects seen within the interval: it happened no later than the claimed end"
                        .into(),
                    vec![format!(
                        "claimed start {a} <= observation {} – {} <= claimed end {b}",
                        t.earliest(),
                        t.latest()
                    )],
                    vec!["not after the end".into()],
                )
            } else {
                (
                    Relation::Inconclusive,
                    "the observation interval straddles a bound of the claimed interval".into(),
                    vec![format!(
                        "observation {} – {} against claimed {a} – {b}",
                        t.earliest(),
                        t.latest()
                    )],
                    vec![],
                )
            }
        }
        Finding::Absent => {
            if t.earliest() > b {
                (
                    Relation::Contradicts,
                    "not yet happened after the claimed interval ended".into(),
                    vec![format!(
                        "observation earliest {} > claimed end {b}",
                        t.earliest()
                    )],
                    vec![],
                )
            } else if t.latest() < a {
                (
                    Relation::NotApplicable,
                    "absent before the interval: expected under the claim".into(),
                    vec![format!(
                        "observation latest {} < claimed start {a}",
                        t.latest()
                    )],
                    vec![],
                )
            } else if t.earliest() >= a && t.latest() <= b {
                (
                    Relation::Supports,
                    "not yet happened at a time within the interval: it happened no earlier than the claimed start".into(),
                    vec![format!(
                        "claimed start {a} <= observation {} – {} <= claimed end {b}",
                        t.earliest(),
                        t.latest()
                    )],
                    vec!["not before the start".into()],
                )
            } else {
                (
                    Relation::Inconclusive,
                    "the observation interval straddles a bound of the claimed interval".into(),
                    vec![format!(
                        "observation {} – {} against claimed {a} – {b}",
                        t.earliest(),
                        t.latest()
                    )],
                    vec![],
                )
            }
        }
    }
}

fn stage_count(c: &Counts, s: CountedStage) -> u64 {
    match s {
        CountedStage::Recovered => c.recovered,
        CountedStage::Examined => c.examined,
        CountedStage::Identified => c.identified,
        CountedStage::FamilyNotified => c.family_notified,
        CountedStage::ReturnedToFamily => c.returned_to_family,
    }
}

fn count_pair(
    evidence: Option<EvidenceId>,
    records: Vec<&Remains>,
    missing: &[String],
    coverage: Coverage,
    place: &Place,
    as_of: Moment,
    figures: &BTreeMap<CountedStage, u64>,
) -> PairResult {
    let c = counts(records.iter().copied(), as_of, Some(place));
    let who = evidence
        .as_ref()
        .map(|e| e.to_string())
        .unwrap_or_else(|| "the case's remains records".into());
    let mut arithmetic = Vec::new();
    let mut covers = Vec::new();
    let mut contradicted = Vec::new();
    let mut partial = Vec::new();
    let mut none = Vec::new();
    for (stage, claimed) in figures {
        let held = stage_count(&c, *stage);
        let line_head = format!(
            "{stage}: records hold {held} as of {as_of} within {}; claimed {claimed}",
            place.short()
        );
        if held >= *claimed {
            arithmetic.push(format!("{line_head}; {held} >= {claimed}: confirmed"));
            covers.push(stage.to_string());
        } else if coverage == Coverage::Complete {
            arithmetic.push(format!(
                "{line_head}; {held} < {claimed} and the records are complete: contradicted"
            ));
            contradicted.push(stage.to_string());
        } else if held > 0 {
            arithmetic.push(format!(
                "{line_head}; {held} < {claimed} but the records are a sample: they confirm {held} of {claimed}"
            ));
            partial.push(stage.to_string());
        } else {
            arithmetic.push(format!(
                "{line_head}; none in the records, which are a sample: cannot tell"
            ));
            none.push(stage.to_string());
        }
    }
    if !c.uncertain.is_empty() {
        let t: Vec<String> = c.uncertain.iter().map(|t| t.to_string()).collect();
        arithmetic.push(format!(
            "status uncertain at {as_of} (a dated step straddles it): {}",
            t.join(", ")
        ));
    }
    if !c.partly_in_area.is_empty() {
        let t: Vec<String> = c.partly_in_area.iter().map(|t| t.to_string()).collect();
        arithmetic.push(format!(
            "recovered partly outside the claimed area, not counted: {}",
            t.join(", ")
        ));
    }
    if !missing.is_empty() {
        arithmetic.push(format!(
            "listed but not in the case records: {}",
            missing.join(", ")
        ));
    }
    let coverage_text = match coverage {
        Coverage::Complete => "complete records",
        Coverage::Sample => "a sample of the records",
    };
    let (relation, reason) = if !contradicted.is_empty() {
        (
            Relation::Contradicts,
            format!(
                "{who} ({coverage_text}, {} remains) holds fewer than claimed for {}",
                records.len(),
                contradicted.join(", ")
            ),
        )
    } else if !covers.is_empty() || !partial.is_empty() {
        let mut r = format!("{who} ({coverage_text}, {} remains)", records.len());
        if !covers.is_empty() {
            r.push_str(&format!(" confirms {}", covers.join(", ")));
        }
        if !partial.is_empty() {
            if !covers.is_empty() {
                r.push(';');
            }
            r.push_str(&format!(
                " confirms part of the claimed {} (a sample cannot confirm the whole figure)",
                partial.join(", ")
            ));
        }
        (Relation::Supports, r)
    } else {
        (
            Relation::Inconclusive,
            format!(
                "{who} ({coverage_text}) holds no remains at the claimed stages by {as_of} within the place"
            ),
        )
    };
    PairResult {
        evidence,
        relation,
        reason,
        arithmetic,
        covers,
        depends_on: vec![format!(
            "rests on the remains records as entered ({coverage_text})"
        )],
        observations: Vec::new(),
        forensic_review: false,
    }
}

fn causal_pair(case: &Case, ev: &Evidence, place: &Place, cause: &str) -> PairResult {
    let forensic = ev.kind.is_forensic() || !ev.remains.is_empty();
    if !forensic {
        return na(
            Some(ev.id.clone()),
            format!(
                "{} ({}) is a time/place item; it cannot decide a cause",
                ev.id, ev.kind
            ),
        );
    }
    if let Some(p) = &ev.place {
        let rel = p.relate(place);
        if rel.relation == SpatialRelation::Disjoint {
            return na(
                Some(ev.id.clone()),
                format!("places do not intersect ({})", rel.explanation),
            );
        }
    }
    // Summarise the recorded causes of death of the remains the item covers.
    let mut causes: BTreeMap<String, u32> = BTreeMap::new();
    let mut not_examined = 0;
    for t in &ev.remains {
        match case.remains.get(t).and_then(|r| r.examinations().last()) {
            Some((_, e)) => {
                let c = e
                    .cause_of_death
                    .clone()
                    .unwrap_or_else(|| "not recorded".into());
                *causes
                    .entry(format!("{c} (manner: {})", e.manner_of_death.label()))
                    .or_default() += 1;
            }
            None => not_examined += 1,
        }
    }
    let mut held: Vec<String> = causes.iter().map(|(c, n)| format!("{n} × {c}")).collect();
    if not_examined > 0 {
        held.push(format!("{not_examined} not examined"));
    }
    let summary = if held.is_empty() {
        String::new()
    } else {
        format!("; the records it covers hold: {}", held.join(", "))
    };
    PairResult {
        evidence: Some(ev.id.clone()),
        relation: Relation::Inconclusive,
        reason: format!(
            "the alternative cause '{cause}' is not decidable by time and place; routed to forensic review of cause-of-death and wound evidence{summary}"
        ),
        arithmetic: Vec::new(),
        covers: Vec::new(),
        depends_on: vec!["needs a forensic expert's assessment".into()],
        observations: Vec::new(),
        forensic_review: true,
    }
}
