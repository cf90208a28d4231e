//! The element-of-crime matrix, and witness protection: pseudonyms, consent, and sealed
//! identities that never reach an export, a rendering or an event.

mod common;

use common::*;
use custody_cases::Case;
use custody_cases::command::Command;
use custody_cases::crimes::CrimeRef;
use custody_cases::error::CaseError;
use custody_cases::event::Event;
use custody_cases::evidence::{Evidence, EvidenceKind};
use custody_cases::exchange::{export_items_csv, export_json, export_remains_csv};
use custody_cases::ids::{ConsentId, EvidenceId, IncidentId, Pseudonym, SealedRef};
use custody_cases::incident::{ElementLink, IncidentDraft, Stance};
use custody_cases::matrix::{ElementState, build};
use custody_cases::render;
use custody_cases::witness::{
    Consent, ConsentUse, ConsentWithdrawal, Contact, SealedIdentity, Testimony, UnsealGrant,
    render_unsealed,
};

fn evidence(case: &mut Case, id: &str, kind: EvidenceKind) {
    run(
        case,
        Command::RegisterEvidence {
            evidence: Evidence {
                id: EvidenceId::new(id).unwrap(),
                item: Some(custody_model::ItemId::new(7)),
                kind,
                source: "synthetic test source".into(),
                description: "synthetic".into(),
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

fn link(crime: &str, element: &str, ev: &str, stance: Stance) -> ElementLink {
    ElementLink {
        crime: CrimeRef::parse(crime).unwrap(),
        element: element.into(),
        evidence: EvidenceId::new(ev).unwrap(),
        stance,
        note: "test".into(),
        by: "analyst (test)".into(),
    }
}

#[test]
fn the_matrix_shows_support_undercutting_and_gaps() {
    let (mut case, _) = new_case();
    for e in ["E1", "E2", "E3"] {
        evidence(&mut case, e, EvidenceKind::Photo);
    }
    run(
        &mut case,
        Command::AddIncident {
            id: None,
            draft: IncidentDraft {
                title: "Synthetic incident".into(),
                description: String::new(),
                place: disc(48.0, 37.0, 200.0),
                time: iv("2022-03-01T00:00:00Z", "2022-03-10T00:00:00Z"),
            },
            crimes: vec![
                CrimeRef::parse("RS-8(2)(a)(i)").unwrap(),
                CrimeRef::parse("UA-CC-438").unwrap(),
            ],
            evidence: vec![EvidenceId::new("E1").unwrap()],
        },
    );
    let inc = IncidentId::new("INC-0001").unwrap();
    // LinkElement links E2 to the incident first.
    let evs = run(
        &mut case,
        Command::LinkElement {
            incident: inc.clone(),
            link: link("RS-8(2)(a)(i)", "E1", "E2", Stance::Supports),
        },
    );
    assert!(matches!(&evs[0], Event::IncidentEvidenceLinked { .. }));
    run(
        &mut case,
        Command::LinkElement {
            incident: inc.clone(),
            link: link("RS-8(2)(a)(i)", "protected-status", "E1", Stance::Undercuts),
        },
    );
    run(
        &mut case,
        Command::LinkElement {
            incident: inc.clone(),
            link: link("RS-8(2)(a)(i)", "nexus-iac", "E1", Stance::Supports),
        },
    );
    run(
        &mut case,
        Command::LinkElement {
            incident: inc.clone(),
            link: link("RS-8(2)(a)(i)", "nexus-iac", "E3", Stance::Undercuts),
        },
    );
    run(
        &mut case,
        Command::LinkElement {
            incident: inc.clone(),
            link: link("UA-CC-438", "conduct", "E2", Stance::Supports),
        },
    );

    let m = build(&case, &inc).unwrap();
    let wk = m.crime("RS-8(2)(a)(i)").unwrap();
    let state = |id: &str| wk.rows.iter().find(|r| r.element == id).unwrap().state;
    assert_eq!(state("E1"), ElementState::Supported);
    assert_eq!(
        state("protected-status"),
        ElementState::Gap,
        "undercut only is still a gap"
    );
    assert_eq!(state("nexus-iac"), ElementState::Contested);
    assert_eq!(state("aware-of-status"), ElementState::Gap);
    let ua = m.crime("UA-CC-438").unwrap();
    assert!(ua.generic);
    let gaps = m.gaps();
    assert_eq!(gaps.len(), 3 + 4, "{gaps:?}");
    let text = m.to_text();
    assert!(text.contains("GAP        protected-status"), "{text}");
    assert!(text.contains("undercuts: E1"), "{text}");
    assert!(
        text.contains("7 element(s) without supporting evidence (GAP)"),
        "{text}"
    );

    // Retracting the only support reopens the gap; nothing is deleted.
    run(
        &mut case,
        Command::RetractElementLink {
            incident: inc.clone(),
            crime: CrimeRef::parse("RS-8(2)(a)(i)").unwrap(),
            element: "E1".into(),
            evidence: EvidenceId::new("E2").unwrap(),
            reason: "misread (test)".into(),
        },
    );
    let m = build(&case, &inc).unwrap();
    assert_eq!(
        m.crime("RS-8(2)(a)(i)").unwrap().rows[0].state,
        ElementState::Gap
    );
    assert_eq!(case.incidents[&inc].links.len(), 5);

    // Errors: unknown element (listing the elements), a crime not on the incident, a duplicate link.
    let err = try_run(
        &mut case,
        Command::LinkElement {
            incident: inc.clone(),
            link: link("RS-8(2)(a)(i)", "E9", "E1", Stance::Supports),
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains(
            "its elements are E1, protected-status, aware-of-status, nexus-iac, aware-of-conflict"
        ),
        "{err}"
    );
    let err = try_run(
        &mut case,
        Command::LinkElement {
            incident: inc.clone(),
            link: link("RS-7(1)(a)", "E1", "E1", Stance::Supports),
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("is not a candidate crime of INC-0001; add it first"),
        "{err}"
    );
    let err = try_run(
        &mut case,
        Command::LinkElement {
            incident: inc.clone(),
            link: link("RS-8(2)(a)(i)", "nexus-iac", "E1", Stance::Supports),
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("already linked"), "{err}");
    assert!(build(&case, &IncidentId::new("INC-0404").unwrap()).is_err());
}

const NAME: &str = "Quillfeather-Synthetic";
const PHONE: &str = "+000-555-0199-SYN";
const ADDRESS: &str = "7 Nowhere Lane (synthetic)";

fn identity() -> SealedIdentity {
    SealedIdentity {
        legal_name: NAME.into(),
        other_names: vec![],
        date_of_birth: Some("1901-01-01".into()),
        address: Some(ADDRESS.into()),
        contacts: vec![Contact {
            kind: "phone".into(),
            value: PHONE.into(),
        }],
        notes: String::new(),
    }
}

fn witness_case() -> (Case, Vec<custody_cases::CaseEvent>) {
    let (mut case, mut log) = new_case();
    let mut rec = |case: &mut Case, cmd: Command| {
        for e in run(case, cmd) {
            log.push(case.wrap(e));
        }
    };
    rec(
        &mut case,
        Command::RegisterWitness {
            sealed: SealedRef::new("SEAL-0001").unwrap(),
            at: m("2022-04-10T10:00:00Z"),
            by: "investigator 7 (test)".into(),
        },
    );
    rec(
        &mut case,
        Command::RegisterWitness {
            sealed: SealedRef::new("SEAL-0002").unwrap(),
            at: m("2022-04-10T11:00:00Z"),
            by: "investigator 7 (test)".into(),
        },
    );
    rec(
        &mut case,
        Command::RecordConsent {
            witness: Pseudonym::new(1),
            consent: Consent {
                uses: [ConsentUse::Recording, ConsentUse::Investigation].into(),
                given_at: m("2022-04-10T10:05:00Z"),
                recorded_by: "investigator 7 (test)".into(),
                conditions: "not to be shared with local media".into(),
                document: None,
            },
        },
    );
    for e in run(
        &mut case,
        Command::RegisterEvidence {
            evidence: Evidence {
                id: EvidenceId::new("T-1").unwrap(),
                item: Some(custody_model::ItemId::new(42)),
                kind: EvidenceKind::Testimony,
                source: "interview (test)".into(),
                description: "statement of W-0001".into(),
                captured: None,
                place: None,
                links: vec![],
                media: None,
                remains: vec![],
                coverage: None,
            },
        },
    ) {
        log.push(case.wrap(e));
    }
    (case, log)
}

#[test]
fn pseudonyms_are_allocated_in_sequence_and_never_reused() {
    let (mut case, _) = witness_case();
    assert_eq!(
        case.witnesses
            .keys()
            .map(|p| p.to_string())
            .collect::<Vec<_>>(),
        ["W-0001", "W-0002"]
    );
    assert_eq!(case.next_pseudonym().to_string(), "W-0003");
    let reuse = Event::WitnessRegistered {
        witness: Pseudonym::new(2),
        sealed: SealedRef::new("SEAL-0009").unwrap(),
        registered_at: m("2022-04-11T00:00:00Z"),
        registered_by: "x".into(),
    };
    let err = case.apply(&reuse).unwrap_err();
    assert!(
        err.to_string().contains("never reused; the next is W-0003"),
        "{err}"
    );
    let same_seal = Event::WitnessRegistered {
        witness: Pseudonym::new(3),
        sealed: SealedRef::new("SEAL-0001").unwrap(),
        registered_at: m("2022-04-11T00:00:00Z"),
        registered_by: "x".into(),
    };
    assert!(
        case.apply(&same_seal)
            .unwrap_err()
            .to_string()
            .contains("sealed record reference SEAL-0001 already exists")
    );
}

#[test]
fn testimony_needs_consent_in_force() {
    let (mut case, _) = witness_case();
    let testimony = |w: u32, consent: &str| Testimony {
        evidence: EvidenceId::new("T-1").unwrap(),
        witness: Pseudonym::new(w),
        taken: iv("2022-04-10T10:10:00Z", "2022-04-10T11:00:00Z"),
        taken_by: "investigator 7 (test)".into(),
        language: "uk".into(),
        consent: ConsentId::new(consent).unwrap(),
        incidents: vec![],
    };
    let err = try_run(
        &mut case,
        Command::RecordTestimony {
            testimony: testimony(2, "CN-0001"),
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("witness W-0002 has no such consent"),
        "{err}"
    );
    // Consent withdrawn before the testimony was taken: refused.
    let mut withdrawn = case.clone();
    run(
        &mut withdrawn,
        Command::WithdrawConsent {
            witness: Pseudonym::new(1),
            consent: ConsentId::new("CN-0001").unwrap(),
            withdrawal: ConsentWithdrawal {
                at: m("2022-04-10T10:06:00Z"),
                uses: Default::default(),
                recorded_by: "investigator 7 (test)".into(),
                note: String::new(),
            },
        },
    );
    let err = try_run(
        &mut withdrawn,
        Command::RecordTestimony {
            testimony: testimony(1, "CN-0001"),
        },
    )
    .unwrap_err();
    assert!(matches!(err, CaseError::NoConsent { .. }), "{err}");
    run(
        &mut case,
        Command::RecordTestimony {
            testimony: testimony(1, "CN-0001"),
        },
    );
    assert_eq!(case.testimonies.len(), 1);
    assert!(
        case.witnesses[&Pseudonym::new(1)]
            .consents_to(&ConsentUse::Investigation, m("2022-05-01T00:00:00Z"))
    );
    assert!(
        !case.witnesses[&Pseudonym::new(1)]
            .consents_to(&ConsentUse::CourtUse, m("2022-05-01T00:00:00Z"))
    );
}

#[test]
fn sealed_identities_never_reach_events_exports_or_renderings() {
    let (case, log) = witness_case();
    // The sealed payload exists (the application encrypts these bytes)...
    let sealed = identity().to_sealed_bytes();
    let sealed_text = String::from_utf8(sealed).unwrap();
    for secret in [NAME, PHONE, ADDRESS] {
        assert!(
            sealed_text.contains(secret),
            "the test markers must be detectable"
        );
    }
    // ...but nothing the case produces carries it.
    let mut outputs = vec![
        export_json(&case),
        export_remains_csv(&case),
        export_items_csv(&case),
        render::case_summary(&case),
        format!("{case:?}"),
        format!("{:?}", identity()),
    ];
    outputs.extend(log.iter().map(|e| e.to_details().to_string()));
    for out in &outputs {
        for secret in [NAME, PHONE, ADDRESS, "1901-01-01"] {
            assert!(
                !out.contains(secret),
                "sealed data leaked: {secret} in {out}"
            );
        }
    }
    assert!(render::case_summary(&case).contains("Witness W-0001 (identity sealed: SEAL-0001)"));
    // Only the grant-carrying rendering shows it, and it names the grant.
    let grant = UnsealGrant::after_permission_check("prosecutor 2 (test)", "witness.unseal", 431);
    let shown = render_unsealed(&case.witnesses[&Pseudonym::new(1)], &identity(), &grant);
    assert!(shown.contains(NAME) && shown.contains(PHONE));
    assert!(shown.starts_with("SEALED RECORD SEAL-0001 shown to prosecutor 2 (test) under permission witness.unseal (ledger entry 431)"), "{shown}");
}
