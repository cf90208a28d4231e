//! Claim checks on synthetic cases beyond the demo: supported, contradicted,
//! inconclusive because intervals overlap, not applicable because places do not
//! intersect, causal claims routed to forensic review, interval events, counts, and
//! analyst sign-off.

mod common;

use std::collections::BTreeMap;

use common::*;
use custody_cases::Case;
use custody_cases::claims::{
    CheckOptions, Claim, CountedStage, Predicate, Relation, Summary, check, check_claim,
};
use custody_cases::command::{Command, ObservationDraft};
use custody_cases::context::ControlPeriod;
use custody_cases::error::CaseError;
use custody_cases::evidence::{
    ClockKind, ClockReading, Coverage, Evidence, EvidenceKind, Finding, Interpretation, Subject,
    SubjectFinding, Via, capture_interval,
};
use custody_cases::geo::Place;
use custody_cases::ids::{ClaimId, EvidenceId, ObservationId};
use custody_cases::when::{FuzzyBound, TimeBound, TimeInterval};

const SUBJECT: &str = "vehicles burnt out at the crossing";

fn p_site() -> Place {
    disc(48.0, 37.0, 300.0)
}
fn p_far() -> Place {
    disc(48.09, 37.0, 200.0) // about 10 km north
}

fn ev(case: &mut Case, id: &str, kind: EvidenceKind) {
    run(
        case,
        Command::RegisterEvidence {
            evidence: Evidence {
                id: EvidenceId::new(id).unwrap(),
                item: None,
                kind,
                source: "synthetic test source".into(),
                description: String::new(),
                captured: None,
                place: None,
                links: vec![],
                media: None,
                remains: vec![],
                coverage: None,
            },
        },
    );
}

fn observe(
    case: &mut Case,
    id: &str,
    subject: &str,
    finding: Finding,
    place: Place,
    time: TimeInterval,
) -> ObservationId {
    let draft = ObservationDraft {
        evidence: EvidenceId::new(id).unwrap(),
        shows: format!("test observation on {id}"),
        interpretation: Some(Interpretation {
            text: "burnt-out vehicles".into(),
            by: "test analyst".into(),
            corroborated_by: vec![],
        }),
        subjects: vec![SubjectFinding {
            subject: Subject::new(subject).unwrap(),
            finding,
            via: Via::Interpretation,
        }],
        place,
        time,
        reported_by: None,
        derived_from: vec![],
    };
    let id = case.next_observation_id();
    run(case, Command::RecordObservation { draft });
    id
}

fn claim(case: &mut Case, id: &str, predicate: Predicate) -> ClaimId {
    let c = Claim {
        id: ClaimId::new(id).unwrap(),
        made_by: "test speaker".into(),
        made_at: None,
        source_evidence: None,
        assertion: format!("synthetic claim {id}"),
        predicate,
    };
    run(case, Command::RecordClaim { claim: c });
    ClaimId::new(id).unwrap()
}

fn result(case: &Case, id: &ClaimId) -> custody_cases::claims::ClaimResult {
    check_claim(case, &case.claims[id])
}

fn sample_case() -> Case {
    let (mut case, _) = new_case();
    for id in ["E-EARLY", "E-OVERLAP", "E-FAR", "E-LATE"] {
        ev(&mut case, id, EvidenceKind::SatelliteImage);
    }
    // Seen at the site on 10 March.
    observe(
        &mut case,
        "E-EARLY",
        SUBJECT,
        Finding::Present,
        disc(48.001, 37.001, 100.0),
        iv("2022-03-10T08:00:00Z", "2022-03-10T09:00:00Z"),
    );
    // Seen at the site at some time from 18 to 22 March.
    observe(
        &mut case,
        "E-OVERLAP",
        SUBJECT,
        Finding::Present,
        p_site(),
        iv("2022-03-18T00:00:00Z", "2022-03-22T23:59:59Z"),
    );
    // Seen 10 km away on 10 March.
    observe(
        &mut case,
        "E-FAR",
        SUBJECT,
        Finding::Present,
        p_far(),
        iv("2022-03-10T08:00:00Z", "2022-03-10T09:00:00Z"),
    );
    // Seen at the site on 1 April.
    observe(
        &mut case,
        "E-LATE",
        SUBJECT,
        Finding::Present,
        p_site(),
        iv("2022-04-01T08:00:00Z", "2022-04-01T09:00:00Z"),
    );
    case
}

#[test]
fn absent_before_is_contradicted_by_an_earlier_sighting_with_the_arithmetic_written_out() {
    let mut case = sample_case();
    let c = claim(
        &mut case,
        "CL-A",
        Predicate::AbsentBefore {
            subject: Subject::new(SUBJECT).unwrap(),
            place: p_site(),
            until: m("2022-03-20T00:00:00Z"),
        },
    );
    let r = result(&case, &c);
    assert_eq!(r.summary, Summary::Contradicted, "{}", r.summary_reason);
    assert_eq!(
        r.evidence_with(Relation::Contradicts),
        vec![&EvidenceId::new("E-EARLY").unwrap()]
    );
    let p = r.pair("E-EARLY").unwrap();
    assert_eq!(p.arithmetic, vec!["observation latest 2022-03-10T09:00:00Z <= claimed until 2022-03-20T00:00:00Z (by 9 d 15 h 0 min)".to_owned()]);
    assert!(p.depends_on[0].contains("assumes the interpretation 'burnt-out vehicles' (by test analyst); not corroborated by another item"), "{:?}", p.depends_on);
    // The overlapping item is inconclusive, the far one not applicable, the late one too.
    let o = r.pair("E-OVERLAP").unwrap();
    assert_eq!(o.relation, Relation::Inconclusive, "{}", o.reason);
    assert!(o.arithmetic[0].contains("observation earliest 2022-03-18T00:00:00Z <= claimed until 2022-03-20T00:00:00Z < observation latest 2022-03-22T23:59:59Z"), "{:?}", o.arithmetic);
    let f = r.pair("E-FAR").unwrap();
    assert_eq!(f.relation, Relation::NotApplicable);
    assert!(f.reason.contains("places do not intersect"), "{}", f.reason);
    let l = r.pair("E-LATE").unwrap();
    assert_eq!(l.relation, Relation::NotApplicable);
    assert!(
        l.reason.contains("seen after the claimed period"),
        "{}",
        l.reason
    );
}

#[test]
fn only_overlapping_evidence_leaves_the_claim_inconclusive() {
    let mut case = sample_case();
    // Until 19 March: E-EARLY still contradicts; move the claim to a place only E-OVERLAP covers.
    let c = claim(
        &mut case,
        "CL-B",
        Predicate::AbsentBefore {
            subject: Subject::new(SUBJECT).unwrap(),
            place: disc(47.998, 37.0, 50.0),
            until: m("2022-03-20T00:00:00Z"),
        },
    );
    let r = result(&case, &c);
    assert_eq!(r.summary, Summary::Inconclusive, "{}", r.summary_reason);
    assert_eq!(
        r.evidence_with(Relation::Inconclusive),
        vec![&EvidenceId::new("E-OVERLAP").unwrap()]
    );
    assert!(
        r.pair("E-OVERLAP")
            .unwrap()
            .depends_on
            .iter()
            .any(|d| d.contains("assumes the interpretation"))
    );
}

#[test]
fn a_claim_about_a_place_no_evidence_reaches_is_not_applicable() {
    let mut case = sample_case();
    let c = claim(
        &mut case,
        "CL-C",
        Predicate::AbsentBefore {
            subject: Subject::new(SUBJECT).unwrap(),
            place: disc(49.0, 36.0, 500.0),
            until: m("2022-03-20T00:00:00Z"),
        },
    );
    let r = result(&case, &c);
    assert_eq!(r.summary, Summary::NotApplicable, "{}", r.summary_reason);
    assert!(
        r.pairs
            .iter()
            .all(|p| p.relation == Relation::NotApplicable)
    );
    // A subject nobody observed: not applicable either, and says so.
    let c = claim(
        &mut case,
        "CL-C2",
        Predicate::AbsentBefore {
            subject: Subject::new("something else").unwrap(),
            place: p_site(),
            until: m("2022-03-20T00:00:00Z"),
        },
    );
    let r = result(&case, &c);
    assert_eq!(r.summary, Summary::NotApplicable);
    assert!(
        r.pair("E-EARLY")
            .unwrap()
            .reason
            .contains("does not speak of 'something else'")
    );
}

#[test]
fn present_at_is_supported_by_a_sighting_inside_the_interval() {
    let mut case = sample_case();
    let c = claim(
        &mut case,
        "CL-D",
        Predicate::PresentAt {
            subject: Subject::new(SUBJECT).unwrap(),
            place: p_site(),
            during: iv("2022-03-01T00:00:00Z", "2022-03-15T00:00:00Z"),
        },
    );
    let r = result(&case, &c);
    assert_eq!(r.summary, Summary::Supported, "{}", r.summary_reason);
    assert_eq!(
        r.evidence_with(Relation::Supports),
        vec![&EvidenceId::new("E-EARLY").unwrap()]
    );
    assert_eq!(
        r.pair("E-EARLY").unwrap().covers,
        vec!["presence within the interval".to_owned()]
    );
    // Partly outside the interval: inconclusive.
    let c = claim(
        &mut case,
        "CL-D2",
        Predicate::PresentAt {
            subject: Subject::new(SUBJECT).unwrap(),
            place: p_site(),
            during: iv("2022-03-20T00:00:00Z", "2022-03-25T00:00:00Z"),
        },
    );
    let r = result(&case, &c);
    assert_eq!(r.summary, Summary::Inconclusive, "{}", r.summary_reason);
}

#[test]
fn absence_supports_only_in_part_and_conflicts_are_left_to_the_analyst() {
    let (mut case, _) = new_case();
    ev(&mut case, "E-EMPTY", EvidenceKind::Photo);
    ev(&mut case, "E-THERE", EvidenceKind::Photo);
    observe(
        &mut case,
        "E-EMPTY",
        SUBJECT,
        Finding::Absent,
        p_site(),
        iv("2022-03-15T10:00:00Z", "2022-03-15T11:00:00Z"),
    );
    let c = claim(
        &mut case,
        "CL-E",
        Predicate::AbsentBefore {
            subject: Subject::new(SUBJECT).unwrap(),
            place: p_site(),
            until: m("2022-03-20T00:00:00Z"),
        },
    );
    let r = result(&case, &c);
    assert_eq!(
        r.summary,
        Summary::PartiallySupported,
        "{}",
        r.summary_reason
    );
    assert!(
        r.summary_reason
            .contains("not established: absence up to the claimed time"),
        "{}",
        r.summary_reason
    );
    observe(
        &mut case,
        "E-THERE",
        SUBJECT,
        Finding::Present,
        p_site(),
        iv("2022-03-16T10:00:00Z", "2022-03-16T11:00:00Z"),
    );
    let r = result(&case, &c);
    assert_eq!(r.summary, Summary::Inconclusive);
    assert!(
        r.summary_reason
            .starts_with("conflicting evidence: contradicted by E-THERE, supported by E-EMPTY"),
        "{}",
        r.summary_reason
    );
}

#[test]
fn occurred_between_needs_both_bounds_for_full_support() {
    let (mut case, _) = new_case();
    ev(&mut case, "E-INTACT", EvidenceKind::SatelliteImage);
    ev(&mut case, "E-DAMAGED", EvidenceKind::SatelliteImage);
    let s = "roof destroyed at the school";
    observe(
        &mut case,
        "E-INTACT",
        s,
        Finding::Absent,
        p_site(),
        iv("2022-03-05T08:00:00Z", "2022-03-05T09:00:00Z"),
    );
    let c = claim(
        &mut case,
        "CL-F",
        Predicate::OccurredBetween {
            subject: Subject::new(s).unwrap(),
            place: p_site(),
            during: iv("2022-03-04T00:00:00Z", "2022-03-14T00:00:00Z"),
        },
    );
    assert_eq!(result(&case, &c).summary, Summary::PartiallySupported);
    observe(
        &mut case,
        "E-DAMAGED",
        s,
        Finding::Present,
        p_site(),
        iv("2022-03-12T08:00:00Z", "2022-03-12T09:00:00Z"),
    );
    let r = result(&case, &c);
    assert_eq!(r.summary, Summary::Supported, "{}", r.summary_reason);
    // Damage seen on 12 March contradicts a claim that it happened from 15 March.
    let c = claim(
        &mut case,
        "CL-G",
        Predicate::OccurredBetween {
            subject: Subject::new(s).unwrap(),
            place: p_site(),
            during: iv("2022-03-15T00:00:00Z", "2022-03-20T00:00:00Z"),
        },
    );
    let r = result(&case, &c);
    assert_eq!(r.summary, Summary::Contradicted);
    assert_eq!(
        r.evidence_with(Relation::Contradicts),
        vec![&EvidenceId::new("E-DAMAGED").unwrap()]
    );
    // The roof intact on 5 March contradicts a claim that it happened by 1 March.
    let c = claim(
        &mut case,
        "CL-H",
        Predicate::OccurredBetween {
            subject: Subject::new(s).unwrap(),
            place: p_site(),
            during: iv("2022-02-25T00:00:00Z", "2022-03-01T00:00:00Z"),
        },
    );
    let r = result(&case, &c);
    assert_eq!(
        r.evidence_with(Relation::Contradicts),
        vec![&EvidenceId::new("E-INTACT").unwrap()]
    );
}

#[test]
fn an_upload_time_bounds_capture_only_from_above() {
    let (mut case, _) = new_case();
    ev(&mut case, "E-POST", EvidenceKind::SocialPostCapture);
    // Posted on 25 March; nothing else is known about when the photo was taken.
    let est = capture_interval(
        &[ClockReading {
            kind: ClockKind::Upload,
            at: m("2022-03-25T12:00:00Z"),
            until: None,
            tolerance_s: None,
            source: "post timestamp".into(),
        }],
        Some(TimeBound {
            at: m("2022-02-24T00:00:00Z"),
            basis: b("start of the armed conflict"),
        }),
    )
    .unwrap();
    observe(
        &mut case,
        "E-POST",
        SUBJECT,
        Finding::Present,
        p_site(),
        est.interval,
    );
    let c = claim(
        &mut case,
        "CL-I",
        Predicate::AbsentBefore {
            subject: Subject::new(SUBJECT).unwrap(),
            place: p_site(),
            until: m("2022-03-20T00:00:00Z"),
        },
    );
    let r = result(&case, &c);
    // Posting after the claimed date proves nothing about before it.
    assert_eq!(r.summary, Summary::Inconclusive, "{}", r.summary_reason);
    // Had the capture time been taken as the post time, the item would not apply at all:
    // the upper-bound rule is what keeps it in view as possibly earlier.
    assert!(
        r.pair("E-POST").unwrap().reason.contains("upper bound"),
        "{}",
        r.pair("E-POST").unwrap().reason
    );
}

#[test]
fn causal_claims_are_routed_to_forensic_review() {
    let mut case = sample_case();
    ev(&mut case, "E-AUTOPSY", EvidenceKind::ForensicReport);
    let c = claim(
        &mut case,
        "CL-J",
        Predicate::CausalAlternative {
            place: p_site(),
            cause: "killed by shelling from the other side".into(),
            note: String::new(),
        },
    );
    let r = result(&case, &c);
    assert_eq!(r.summary, Summary::Inconclusive);
    assert!(r.forensic_review);
    assert!(
        r.summary_reason
            .contains("routed to forensic review (forensic items to review: E-AUTOPSY)"),
        "{}",
        r.summary_reason
    );
    let p = r.pair("E-AUTOPSY").unwrap();
    assert_eq!(p.relation, Relation::Inconclusive);
    assert!(p.forensic_review);
    // Time and place evidence never settles a cause, however close.
    let e = r.pair("E-EARLY").unwrap();
    assert_eq!(e.relation, Relation::NotApplicable);
    assert!(e.reason.contains("cannot decide a cause"), "{}", e.reason);
}

#[test]
fn control_periods_are_reported_with_the_pair() {
    let mut case = sample_case();
    run(
        &mut case,
        Command::RecordControlPeriod {
            period: ControlPeriod {
                id: "CP-1".parse().unwrap(),
                place_ref: None,
                area: disc(48.0, 37.0, 3000.0),
                controller: "Force A (test)".into(),
                from: FuzzyBound::new(m("2022-03-01T00:00:00Z"), m("2022-03-05T00:00:00Z"), None)
                    .unwrap(),
                to: Some(
                    FuzzyBound::new(m("2022-03-19T00:00:00Z"), m("2022-03-21T00:00:00Z"), None)
                        .unwrap(),
                ),
                links: vec![],
            },
        },
    );
    let c = claim(
        &mut case,
        "CL-K",
        Predicate::AbsentBefore {
            subject: Subject::new(SUBJECT).unwrap(),
            place: p_site(),
            until: m("2022-03-20T00:00:00Z"),
        },
    );
    let r = result(&case, &c);
    let early = r.pair("E-EARLY").unwrap();
    assert!(
        early
            .reason
            .contains("context: definitely inside CP-1 (Force A (test))"),
        "{}",
        early.reason
    );
    let overlap = &r.pair("E-OVERLAP").unwrap().observations[0];
    assert_eq!(
        overlap.context[0].verdict,
        custody_cases::context::ContextVerdict::PossiblyInside
    );
    let late = &r.pair("E-LATE").unwrap().observations[0];
    assert!(
        late.context.is_empty(),
        "not applicable pairs carry no context"
    );
}

#[test]
fn counts_against_complete_records_can_contradict_and_samples_cannot() {
    let (mut case, _) = new_case();
    for (t, d) in [
        ("R1", "2022-04-01"),
        ("R2", "2022-04-02"),
        ("R3", "2022-04-05"),
    ] {
        run(
            &mut case,
            Command::RecoverRemains {
                tag: tag(t),
                synthetic: true,
                recovery: recovery(d),
            },
        );
    }
    run(
        &mut case,
        Command::RecordExamination {
            tag: tag("R1"),
            examination: exam("2022-04-02"),
        },
    );
    let records = |id: &str, coverage: Coverage| Evidence {
        id: EvidenceId::new(id).unwrap(),
        item: None,
        kind: EvidenceKind::ForensicRecordsSummary,
        source: "test bureau".into(),
        description: String::new(),
        captured: None,
        place: None,
        links: vec![],
        media: None,
        remains: vec![tag("R1"), tag("R2"), tag("R3")],
        coverage: Some(coverage),
    };
    run(
        &mut case,
        Command::RegisterEvidence {
            evidence: records("E-COMPLETE", Coverage::Complete),
        },
    );
    let area = disc(50.5415, 30.2289, 5000.0);
    let figures = |rec: u64, exm: u64| {
        BTreeMap::from([
            (CountedStage::Recovered, rec),
            (CountedStage::Examined, exm),
        ])
    };
    let c = claim(
        &mut case,
        "CL-L",
        Predicate::Count {
            place: area.clone(),
            as_of: m("2022-04-03T00:00:00Z"),
            figures: figures(2, 1),
        },
    );
    let r = result(&case, &c);
    assert_eq!(r.summary, Summary::Supported, "{}", r.summary_reason);
    let c = claim(
        &mut case,
        "CL-M",
        Predicate::Count {
            place: area.clone(),
            as_of: m("2022-04-03T00:00:00Z"),
            figures: figures(5, 1),
        },
    );
    let r = result(&case, &c);
    assert_eq!(r.summary, Summary::Contradicted, "{}", r.summary_reason);
    assert!(
        r.pair("E-COMPLETE").unwrap().arithmetic[0]
            .contains("records hold 2 as of 2022-04-03T00:00:00Z"),
        "{:?}",
        r.pair("E-COMPLETE").unwrap().arithmetic
    );
    // The same figures against a sample: partly supported, not contradicted.
    let (mut case2, _) = new_case();
    for (t, d) in [
        ("R1", "2022-04-01"),
        ("R2", "2022-04-02"),
        ("R3", "2022-04-05"),
    ] {
        run(
            &mut case2,
            Command::RecoverRemains {
                tag: tag(t),
                synthetic: true,
                recovery: recovery(d),
            },
        );
    }
    run(
        &mut case2,
        Command::RegisterEvidence {
            evidence: records("E-SAMPLE", Coverage::Sample),
        },
    );
    let c = claim(
        &mut case2,
        "CL-N",
        Predicate::Count {
            place: area,
            as_of: m("2022-04-03T00:00:00Z"),
            figures: figures(5, 1),
        },
    );
    let r = result(&case2, &c);
    assert_eq!(
        r.summary,
        Summary::PartiallySupported,
        "{}",
        r.summary_reason
    );
    assert!(r.pair("E-SAMPLE").unwrap().arithmetic[0].contains("they confirm 2 of 5"));
}

#[test]
fn superseded_observations_no_longer_count() {
    let mut case = sample_case();
    let c = claim(
        &mut case,
        "CL-O",
        Predicate::AbsentBefore {
            subject: Subject::new(SUBJECT).unwrap(),
            place: p_site(),
            until: m("2022-03-20T00:00:00Z"),
        },
    );
    assert_eq!(result(&case, &c).summary, Summary::Contradicted);
    let early = case
        .active_observations()
        .find(|o| o.evidence.as_str() == "E-EARLY")
        .unwrap()
        .id
        .clone();
    run(
        &mut case,
        Command::SupersedeObservation {
            observation: early,
            replacement: None,
            reason: "geolocation was wrong (test)".into(),
        },
    );
    let r = result(&case, &c);
    assert_eq!(r.summary, Summary::Inconclusive, "{}", r.summary_reason);
    assert!(
        r.pair("E-EARLY")
            .unwrap()
            .reason
            .contains("no observation is recorded")
    );
}

#[test]
fn a_sign_off_names_the_result_version_and_refuses_a_stale_one() {
    let mut case = sample_case();
    let c = claim(
        &mut case,
        "CL-P",
        Predicate::AbsentBefore {
            subject: Subject::new(SUBJECT).unwrap(),
            place: p_site(),
            until: m("2022-03-20T00:00:00Z"),
        },
    );
    let v1 = result(&case, &c).version();
    assert_eq!(v1.len(), 64);
    let sign = |v: &str| Command::SignOffResult {
        claim: c.clone(),
        result_version: v.to_owned(),
        by: "analyst 3 (test)".into(),
        at: m("2022-05-01T10:00:00Z"),
        note: "reviewed".into(),
    };
    let signed = run(&mut case, sign(&v1));
    assert!(
        matches!(&signed[0], custody_cases::Event::ClaimResultSignedOff { signoff } if signoff.summary == Summary::Contradicted && signoff.result_version == v1)
    );
    assert_eq!(case.signoffs.len(), 1);
    // New evidence changes the result; the old version can no longer be signed.
    ev(&mut case, "E-NEW", EvidenceKind::Photo);
    observe(
        &mut case,
        "E-NEW",
        SUBJECT,
        Finding::Present,
        p_site(),
        iv("2022-03-11T08:00:00Z", "2022-03-11T09:00:00Z"),
    );
    let v2 = result(&case, &c).version();
    assert_ne!(v1, v2);
    let err = try_run(&mut case, sign(&v1)).unwrap_err();
    assert!(matches!(err, CaseError::StaleResult { .. }), "{err}");
    assert!(err.to_string().contains(&v2), "{err}");
    run(&mut case, sign(&v2));
    assert_eq!(case.signoffs.len(), 2);
    let text = custody_cases::render::claim_results(&case, &check(&case, &CheckOptions::default()));
    assert!(text.contains("signed off by analyst 3 (test) at 2022-05-01T10:00:00Z (an earlier version); analyst 3 (test) at 2022-05-01T10:00:00Z (this version)"), "{text}");
}
