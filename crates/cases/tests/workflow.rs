//! The guarded status workflow of remains: every legal path, every illegal transition
//! (with what the error says is missing), withdrawals, tag numbers, and counts as of a
//! date.

mod common;

use common::*;
use custody_cases::Case;
use custody_cases::command::Command;
use custody_cases::error::CaseError;
use custody_cases::event::Event;
use custody_cases::forensic::{
    Burial, DecisionStatus, Exhumation, IdMethod, IdResult, Notification, Release, RemainsRecord,
    Status, StatusAt, Waiver, Withdrawal, case_counts,
};
use custody_cases::ids::DecisionId;

fn recover(case: &mut Case, t: &str, date: &str) {
    run(
        case,
        Command::RecoverRemains {
            tag: tag(t),
            synthetic: true,
            recovery: recovery(date),
        },
    );
}

fn examine(case: &mut Case, t: &str, date: &str) {
    run(
        case,
        Command::RecordExamination {
            tag: tag(t),
            examination: exam(date),
        },
    );
}

fn comparison(case: &mut Case, t: &str, method: IdMethod, date: &str) -> String {
    let ev = run(
        case,
        Command::RecordIdentificationEvidence {
            tag: tag(t),
            evidence: id_ev(method, date),
        },
    );
    match &ev[0] {
        Event::RemainsRecorded {
            record: RemainsRecord::IdentificationEvidence { id, .. },
            ..
        } => id.to_string(),
        other => panic!("unexpected event {other:?}"),
    }
}

fn confirm(case: &mut Case, t: &str, basis: &[&str], date: &str) -> Result<Vec<Event>, CaseError> {
    try_run(
        case,
        Command::DecideIdentification {
            tag: tag(t),
            decision: decision(DecisionStatus::Confirmed, basis, date),
        },
    )
}

fn notify(t: &str, date: &str) -> Command {
    Command::NotifyFamily {
        tag: tag(t),
        notification: Notification {
            time: day(date),
            by: "test officer".into(),
            next_of_kin: None,
        },
    }
}

fn release(t: &str, date: &str) -> Command {
    Command::ReleaseRemains {
        tag: tag(t),
        release: Release {
            time: day(date),
            released_to: "next of kin".into(),
            recipient: None,
            document: None,
            by: "test bureau".into(),
        },
    }
}

fn bury(t: &str, date: &str) -> Command {
    Command::BuryUnidentified {
        tag: tag(t),
        burial: Burial {
            time: day(date),
            place: disc(50.55, 30.21, 20.0),
            grave_marker: "GRAVE-17".into(),
            by: "test bureau".into(),
        },
    }
}

fn exhume(t: &str, date: &str) -> Command {
    Command::Exhume {
        tag: tag(t),
        exhumation: Exhumation {
            time: day(date),
            authorisation: "court order 1/2022 (test)".into(),
            by: "test team".into(),
        },
    }
}

fn waive(t: &str, date: &str) -> Command {
    Command::WaiveExamination {
        tag: tag(t),
        waiver: Waiver {
            time: day(date),
            reason: "test reason".into(),
            authorised_by: "test prosecutor".into(),
        },
    }
}

fn examine_cmd(t: &str, date: &str) -> Command {
    Command::RecordExamination {
        tag: tag(t),
        examination: exam(date),
    }
}

fn status(case: &Case, t: &str) -> Status {
    case.remains[&tag(t)].status
}

/// Builds remains `t` in `target` status, recovered on 2022-04-03.
fn remains_in(case: &mut Case, t: &str, target: Status) {
    recover(case, t, "2022-04-03");
    match target {
        Status::Recovered => {}
        Status::ExaminationWaived => {
            run(case, waive(t, "2022-04-04"));
        }
        Status::Examined => examine(case, t, "2022-04-05"),
        Status::UnidentifiedBuried | Status::Exhumed => {
            examine(case, t, "2022-04-05");
            run(case, bury(t, "2022-04-20"));
            if target == Status::Exhumed {
                run(case, exhume(t, "2022-06-01"));
            }
        }
        Status::Identified | Status::FamilyNotified | Status::ReturnedToFamily => {
            examine(case, t, "2022-04-05");
            let ie = comparison(case, t, IdMethod::Dna, "2022-04-10");
            confirm(case, t, &[&ie], "2022-04-11").unwrap();
            if target != Status::Identified {
                run(case, notify(t, "2022-04-12"));
            }
            if target == Status::ReturnedToFamily {
                run(case, release(t, "2022-04-15"));
            }
        }
    }
    assert_eq!(status(case, t), target);
}

#[test]
fn the_main_path_moves_through_every_status_and_keeps_history() {
    let (mut case, _) = new_case();
    remains_in(&mut case, "R-1", Status::ReturnedToFamily);
    let r = &case.remains[&tag("R-1")];
    let path: Vec<Status> = r.history.iter().map(|h| h.status).collect();
    assert_eq!(
        path,
        [
            Status::Recovered,
            Status::Examined,
            Status::Identified,
            Status::FamilyNotified,
            Status::ReturnedToFamily
        ]
    );
    assert!(r.release().is_some());
    assert_eq!(r.confirmed.as_ref().map(|d| d.as_str()), Some("IDD-0001"));
}

#[test]
fn every_illegal_transition_is_refused_and_says_what_is_missing() {
    // (status, command, text the error must contain)
    type Make = fn(&str) -> Command;
    let table: Vec<(Status, Make, &str)> = vec![
        (
            Status::Recovered,
            |t| notify(t, "2022-05-01"),
            "no confirmed identification: record a confirmed identification decision first",
        ),
        (
            Status::Recovered,
            |t| release(t, "2022-05-01"),
            "no confirmed identification and no family notification",
        ),
        (
            Status::Recovered,
            |t| bury(t, "2022-05-01"),
            "no examination: record an examination (or a waiver with its reason) first",
        ),
        (
            Status::Recovered,
            |t| exhume(t, "2022-05-01"),
            "only remains buried unidentified are exhumed",
        ),
        (
            Status::Examined,
            |t| waive(t, "2022-05-01"),
            "only be waived for remains just recovered",
        ),
        (
            Status::Examined,
            |t| notify(t, "2022-05-01"),
            "no confirmed identification",
        ),
        (
            Status::Examined,
            |t| release(t, "2022-05-01"),
            "no confirmed identification and no family notification",
        ),
        (
            Status::Examined,
            |t| exhume(t, "2022-05-01"),
            "only remains buried unidentified",
        ),
        (
            Status::ExaminationWaived,
            |t| waive(t, "2022-05-01"),
            "only be waived for remains just recovered",
        ),
        (
            Status::ExaminationWaived,
            |t| notify(t, "2022-05-01"),
            "no confirmed identification",
        ),
        (
            Status::ExaminationWaived,
            |t| release(t, "2022-05-01"),
            "no confirmed identification",
        ),
        (
            Status::ExaminationWaived,
            |t| exhume(t, "2022-05-01"),
            "only remains buried unidentified",
        ),
        (
            Status::Identified,
            |t| release(t, "2022-05-01"),
            "the family has not been notified: record the family notification first",
        ),
        (
            Status::Identified,
            |t| bury(t, "2022-05-01"),
            "they are identified; withdraw the identification first",
        ),
        (
            Status::Identified,
            |t| exhume(t, "2022-05-01"),
            "only remains buried unidentified",
        ),
        (
            Status::Identified,
            |t| waive(t, "2022-05-01"),
            "only be waived for remains just recovered",
        ),
        (
            Status::FamilyNotified,
            |t| notify(t, "2022-05-01"),
            "the family was already notified",
        ),
        (
            Status::FamilyNotified,
            |t| bury(t, "2022-05-01"),
            "they are identified",
        ),
        (
            Status::FamilyNotified,
            |t| exhume(t, "2022-05-01"),
            "only remains buried unidentified",
        ),
        (
            Status::ReturnedToFamily,
            |t| examine_cmd(t, "2022-05-01"),
            "released to the family and are no longer in custody",
        ),
        (
            Status::ReturnedToFamily,
            |t| notify(t, "2022-05-01"),
            "already returned to the family",
        ),
        (
            Status::ReturnedToFamily,
            |t| release(t, "2022-05-01"),
            "they were already released",
        ),
        (
            Status::ReturnedToFamily,
            |t| bury(t, "2022-05-01"),
            "they are identified",
        ),
        (
            Status::ReturnedToFamily,
            |t| exhume(t, "2022-05-01"),
            "only remains buried unidentified",
        ),
        (
            Status::UnidentifiedBuried,
            |t| examine_cmd(t, "2022-05-01"),
            "they are buried: record their exhumation first",
        ),
        (
            Status::UnidentifiedBuried,
            |t| bury(t, "2022-05-01"),
            "they are already buried",
        ),
        (
            Status::UnidentifiedBuried,
            |t| notify(t, "2022-05-01"),
            "no confirmed identification",
        ),
        (
            Status::UnidentifiedBuried,
            |t| release(t, "2022-05-01"),
            "no confirmed identification",
        ),
        (
            Status::UnidentifiedBuried,
            |t| waive(t, "2022-05-01"),
            "only be waived",
        ),
        (
            Status::Exhumed,
            |t| bury(t, "2022-07-01"),
            "they were exhumed for re-examination: record the re-examination first",
        ),
        (
            Status::Exhumed,
            |t| notify(t, "2022-07-01"),
            "no confirmed identification",
        ),
        (
            Status::Exhumed,
            |t| release(t, "2022-07-01"),
            "no confirmed identification",
        ),
        (
            Status::Exhumed,
            |t| exhume(t, "2022-07-01"),
            "only remains buried unidentified",
        ),
        (
            Status::Exhumed,
            |t| waive(t, "2022-07-01"),
            "only be waived",
        ),
    ];
    for (i, (st, make, needle)) in table.into_iter().enumerate() {
        let (mut case, _) = new_case();
        let t = format!("R-{i}");
        remains_in(&mut case, &t, st);
        let before = case.clone();
        let err = try_run(&mut case, make(&t)).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, CaseError::Workflow { .. }),
            "{st}: expected a workflow error, got {msg}"
        );
        assert!(msg.contains(&format!("their status is {st}")), "{msg}");
        assert!(
            msg.contains(needle),
            "{st}: {msg:?} should contain {needle:?}"
        );
        assert_eq!(
            case, before,
            "a refused command must leave the case unchanged"
        );
    }
}

#[test]
fn confirming_an_identification_is_guarded_by_status_and_basis() {
    // By status.
    for (st, needle) in [
        (
            Status::Recovered,
            "no examination: record an examination, or waive it with a reason, first",
        ),
        (
            Status::UnidentifiedBuried,
            "they are buried: record the exhumation and re-examination first",
        ),
        (
            Status::Exhumed,
            "they were exhumed: record the re-examination first",
        ),
        (
            Status::Identified,
            "already identified by IDD-0001; withdraw that decision first",
        ),
        (Status::FamilyNotified, "already identified by IDD-0001"),
        (Status::ReturnedToFamily, "already identified by IDD-0001"),
    ] {
        let (mut case, _) = new_case();
        remains_in(&mut case, "R", st);
        let ie = comparison(&mut case, "R", IdMethod::Dna, "2022-08-01");
        let msg = confirm(&mut case, "R", &[&ie], "2022-08-02")
            .unwrap_err()
            .to_string();
        assert!(msg.contains(needle), "{st}: {msg}");
    }

    // By basis.
    let (mut case, _) = new_case();
    remains_in(&mut case, "R", Status::Examined);
    let docs = comparison(&mut case, "R", IdMethod::Documents, "2022-04-06");
    let msg = confirm(&mut case, "R", &[&docs], "2022-04-07")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("at least one primary identifier (DNA, fingerprints, dental)"),
        "{msg}"
    );
    assert!(msg.contains("the basis holds: documents"), "{msg}");

    // Two different secondary identifiers, but without the board's approval: refused.
    let visual = comparison(&mut case, "R", IdMethod::Visual, "2022-04-06");
    let msg = confirm(&mut case, "R", &[&docs, &visual], "2022-04-07")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("documents, visual"), "{msg}");

    // One secondary identifier with the approval flag: still refused.
    let mut d = decision(DecisionStatus::Confirmed, &[&docs], "2022-04-07");
    d.secondary_combination_approved = true;
    let err = try_run(
        &mut case,
        Command::DecideIdentification {
            tag: tag("R"),
            decision: d,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("at least two different secondary identifiers"),
        "{err}"
    );

    // Missing board reference, missing person, unknown basis, a non-match.
    let dna = comparison(&mut case, "R", IdMethod::Dna, "2022-04-06");
    let mut d = decision(DecisionStatus::Confirmed, &[&dna], "2022-04-07");
    d.board_ref = None;
    let err = try_run(
        &mut case,
        Command::DecideIdentification {
            tag: tag("R"),
            decision: d,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("give board_ref"), "{err}");
    let mut d = decision(DecisionStatus::Confirmed, &[&dna], "2022-04-07");
    d.person = None;
    let err = try_run(
        &mut case,
        Command::DecideIdentification {
            tag: tag("R"),
            decision: d,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("person_ref"), "{err}");
    let err = confirm(&mut case, "R", &["IE-0099"], "2022-04-07").unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown identification evidence IE-0099"),
        "{err}"
    );
    let mut excl = id_ev(IdMethod::Fingerprints, "2022-04-06");
    excl.result = IdResult::Exclusion;
    let ev = run(
        &mut case,
        Command::RecordIdentificationEvidence {
            tag: tag("R"),
            evidence: excl,
        },
    );
    let Event::RemainsRecorded {
        record: RemainsRecord::IdentificationEvidence { id: excl_id, .. },
        ..
    } = &ev[0]
    else {
        panic!()
    };
    let err = confirm(&mut case, "R", &[&dna, excl_id.as_str()], "2022-04-07").unwrap_err();
    assert!(
        err.to_string().contains("is not a match (Exclusion)"),
        "{err}"
    );
    assert_eq!(status(&case, "R"), Status::Examined);

    // The board-approved combination of two different secondary identifiers passes.
    let mut d = decision(DecisionStatus::Confirmed, &[&docs, &visual], "2022-04-07");
    d.secondary_combination_approved = true;
    run(
        &mut case,
        Command::DecideIdentification {
            tag: tag("R"),
            decision: d,
        },
    );
    assert_eq!(status(&case, "R"), Status::Identified);
}

#[test]
fn a_withdrawn_identification_returns_the_remains_to_examined() {
    let (mut case, _) = new_case();
    remains_in(&mut case, "R", Status::FamilyNotified);
    let withdraw = |id: &str| Command::WithdrawIdentification {
        tag: tag("R"),
        withdrawal: Withdrawal {
            decision: DecisionId::new(id).unwrap(),
            reason: "DNA sample mix-up found on review (test)".into(),
            by: "test board".into(),
            time: day("2022-05-01"),
        },
    };
    run(&mut case, withdraw("IDD-0001"));
    let r = &case.remains[&tag("R")];
    assert_eq!(r.status, Status::Examined);
    assert!(r.is_withdrawn(&DecisionId::new("IDD-0001").unwrap()));
    assert!(r.confirmed.is_none());
    // Nothing is deleted: the decision and the withdrawal are both in the log.
    assert!(r.decision(&DecisionId::new("IDD-0001").unwrap()).is_some());
    assert_eq!(r.history.last().unwrap().status, Status::Examined);

    // A second withdrawal of the same decision is refused.
    let err = try_run(&mut case, withdraw("IDD-0001")).unwrap_err();
    assert!(err.to_string().contains("already withdrawn"), "{err}");
    // Notification now needs a new identification.
    let err = try_run(&mut case, notify("R", "2022-05-02")).unwrap_err();
    assert!(
        err.to_string().contains("no confirmed identification"),
        "{err}"
    );
    // A new confirmed decision gets a new id and the remains are identified again.
    let ie = comparison(&mut case, "R", IdMethod::Dental, "2022-05-03");
    let ev = confirm(&mut case, "R", &[&ie], "2022-05-04").unwrap();
    assert!(
        matches!(&ev[0], Event::RemainsRecorded { record: RemainsRecord::Decision { id, .. }, .. } if id.as_str() == "IDD-0002")
    );
    assert_eq!(status(&case, "R"), Status::Identified);

    // After release a withdrawal is refused (the remains are not in custody).
    let (mut case, _) = new_case();
    remains_in(&mut case, "R", Status::ReturnedToFamily);
    let err = try_run(&mut case, withdraw("IDD-0001")).unwrap_err();
    assert!(err.to_string().contains("released to the family"), "{err}");

    // On the waiver path a withdrawal returns to examination_waived.
    let (mut case, _) = new_case();
    remains_in(&mut case, "R", Status::ExaminationWaived);
    let ie = comparison(&mut case, "R", IdMethod::Fingerprints, "2022-04-05");
    confirm(&mut case, "R", &[&ie], "2022-04-06").unwrap();
    run(&mut case, withdraw("IDD-0001"));
    assert_eq!(status(&case, "R"), Status::ExaminationWaived);

    // Withdrawing a presumptive decision changes no status.
    let (mut case, _) = new_case();
    remains_in(&mut case, "R", Status::Examined);
    let ie = comparison(&mut case, "R", IdMethod::Documents, "2022-04-06");
    run(
        &mut case,
        Command::DecideIdentification {
            tag: tag("R"),
            decision: decision(DecisionStatus::Presumptive, &[&ie], "2022-04-06"),
        },
    );
    run(&mut case, withdraw("IDD-0001"));
    assert_eq!(status(&case, "R"), Status::Examined);
}

#[test]
fn buried_remains_are_exhumed_and_re_examined_before_identification() {
    let (mut case, _) = new_case();
    remains_in(&mut case, "R", Status::Exhumed);
    let ev = run(&mut case, examine_cmd("R", "2022-06-02"));
    assert!(matches!(
        &ev[0],
        Event::RemainsRecorded {
            record: RemainsRecord::Examination {
                reexamination: true,
                ..
            },
            ..
        }
    ));
    assert_eq!(status(&case, "R"), Status::Examined);
    // An exhumed-remains examination not marked as re-examination is refused (import path).
    let (mut case2, _) = new_case();
    remains_in(&mut case2, "R", Status::Exhumed);
    let bad = Event::RemainsRecorded {
        tag: tag("R"),
        record: RemainsRecord::Examination {
            id: "EX-0099".parse().unwrap(),
            reexamination: false,
            examination: exam("2022-06-02"),
        },
    };
    let err = case2.apply(&bad).unwrap_err();
    assert!(
        err.to_string()
            .contains("mark the examination as a re-examination"),
        "{err}"
    );
    let ie = comparison(&mut case, "R", IdMethod::Dna, "2022-06-10");
    confirm(&mut case, "R", &[&ie], "2022-06-11").unwrap();
    assert_eq!(status(&case, "R"), Status::Identified);
}

#[test]
fn records_dated_before_the_recovery_or_the_last_step_are_refused() {
    let (mut case, _) = new_case();
    recover(&mut case, "R", "2022-04-03");
    let err = try_run(&mut case, examine_cmd("R", "2022-04-01")).unwrap_err();
    assert!(matches!(err, CaseError::OutOfOrder { .. }), "{err}");
    assert!(err.to_string().contains("before the recovery"), "{err}");
    examine(&mut case, "R", "2022-04-05");
    let err = try_run(&mut case, bury("R", "2022-04-04")).unwrap_err();
    assert!(
        err.to_string()
            .contains("before the last status change (examined"),
        "{err}"
    );
}

#[test]
fn tag_numbers_are_never_reused_even_after_a_correction() {
    let (mut case, _) = new_case();
    recover(&mut case, "T-1", "2022-04-03");
    let err = try_run(
        &mut case,
        Command::RecoverRemains {
            tag: tag("T-1"),
            synthetic: true,
            recovery: recovery("2022-04-04"),
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("tag number T-1 already exists"),
        "{err}"
    );

    run(
        &mut case,
        Command::CorrectTag {
            tag: tag("T-1"),
            new_tag: tag("T-2"),
            reason: "label misread (test)".into(),
        },
    );
    assert!(case.remains.contains_key(&tag("T-2")));
    assert!(!case.remains.contains_key(&tag("T-1")));
    let err = try_run(
        &mut case,
        Command::RecoverRemains {
            tag: tag("T-1"),
            synthetic: true,
            recovery: recovery("2022-04-04"),
        },
    )
    .unwrap_err();
    assert!(matches!(err, CaseError::TagRetired { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("retired when it was corrected to T-2"),
        "{err}"
    );
    let err = try_run(&mut case, examine_cmd("T-1", "2022-04-05")).unwrap_err();
    assert!(
        err.to_string().contains("use T-2 for these remains"),
        "{err}"
    );
    // Correcting onto a retired tag is refused too.
    recover(&mut case, "T-3", "2022-04-03");
    let err = try_run(
        &mut case,
        Command::CorrectTag {
            tag: tag("T-3"),
            new_tag: tag("T-1"),
            reason: "x".into(),
        },
    )
    .unwrap_err();
    assert!(matches!(err, CaseError::TagRetired { .. }), "{err}");
    // A chain keeps every retired tag pointing at the current one.
    run(
        &mut case,
        Command::CorrectTag {
            tag: tag("T-2"),
            new_tag: tag("T-4"),
            reason: "second fix (test)".into(),
        },
    );
    assert_eq!(case.retired_tags[&tag("T-1")], tag("T-4"));
    assert_eq!(case.remains[&tag("T-4")].former_tags.len(), 2);
}

#[test]
fn a_recovery_correction_keeps_the_previous_record() {
    let (mut case, _) = new_case();
    recover(&mut case, "R", "2022-04-03");
    run(
        &mut case,
        Command::CorrectRecovery {
            tag: tag("R"),
            recovery: recovery("2022-04-02"),
            reason: "register date corrected (test)".into(),
        },
    );
    let r = &case.remains[&tag("R")];
    assert_eq!(r.recovery.time, day("2022-04-02"));
    assert!(
        matches!(&r.records[0], RemainsRecord::RecoveryCorrected { previous, .. } if previous.time == day("2022-04-03"))
    );
    assert_eq!(r.history[0].time, day("2022-04-02"));
    let err = try_run(
        &mut case,
        Command::CorrectRecovery {
            tag: tag("R"),
            recovery: recovery("2022-04-02"),
            reason: " ".into(),
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("needs a reason"), "{err}");
}

#[test]
fn counts_as_of_a_date_come_from_the_dated_records() {
    let (mut case, _) = new_case();
    remains_in(&mut case, "A", Status::ReturnedToFamily); // rec 04-03, ex 04-05, id 04-11, notif 04-12, rel 04-15
    remains_in(&mut case, "B", Status::Examined); // rec 04-03, ex 04-05
    recover(&mut case, "C", "2022-04-08");
    // D: recovered at an uncertain time straddling 04-06.
    run(
        &mut case,
        Command::RecoverRemains {
            tag: tag("D"),
            synthetic: true,
            recovery: {
                let mut r = recovery("2022-04-05");
                r.time = iv("2022-04-05T00:00:00Z", "2022-04-07T00:00:00Z");
                r
            },
        },
    );

    let c = case_counts(&case, m("2022-04-03T23:59:59.999999999Z"), None);
    assert_eq!(
        (c.recovered, c.examined, c.identified, c.returned_to_family),
        (2, 0, 0, 0)
    );
    assert_eq!(c.by_status.get(&Status::Recovered), Some(&2));

    let c = case_counts(&case, m("2022-04-06T00:00:00Z"), None);
    assert_eq!((c.recovered, c.examined), (2, 2));
    assert_eq!(
        c.uncertain,
        vec![tag("D")],
        "D's recovery interval straddles the instant"
    );

    let c = case_counts(&case, m("2022-04-12T23:59:59.999999999Z"), None);
    assert_eq!(
        (
            c.recovered,
            c.examined,
            c.identified,
            c.family_notified,
            c.returned_to_family
        ),
        (4, 2, 1, 1, 0)
    );
    assert_eq!(c.by_status.get(&Status::FamilyNotified), Some(&1));

    let c = case_counts(&case, m("2022-05-01T00:00:00Z"), None);
    assert_eq!(
        (c.recovered, c.examined, c.identified, c.returned_to_family),
        (4, 2, 1, 1)
    );
    assert!(
        c.headline()
            .starts_with("4 recovered, 2 examined, 1 identified, 1 returned to family"),
        "{}",
        c.headline()
    );

    // By area: a disc around the recovery place, one partly overlapping, one far away.
    let near = disc(50.5415, 30.2289, 500.0);
    assert_eq!(
        case_counts(&case, m("2022-05-01T00:00:00Z"), Some(&near)).recovered,
        4
    );
    let edge = disc(50.5420, 30.2289, 40.0);
    let c = case_counts(&case, m("2022-05-01T00:00:00Z"), Some(&edge));
    assert_eq!(c.recovered, 0);
    assert_eq!(c.partly_in_area.len(), 4);
    let far = disc(50.45, 30.52, 1000.0);
    let c = case_counts(&case, m("2022-05-01T00:00:00Z"), Some(&far));
    assert_eq!((c.recovered, c.partly_in_area.len()), (0, 0));

    // Status at an instant.
    let a = &case.remains[&tag("A")];
    assert_eq!(
        a.status_at(m("2022-04-02T00:00:00Z")),
        StatusAt::NotYetRecovered
    );
    assert_eq!(
        a.status_at(m("2022-04-04T00:00:00Z")),
        StatusAt::Known(Status::Recovered)
    );
    assert_eq!(
        a.status_at(m("2022-04-05T12:00:00Z")),
        StatusAt::Uncertain(Some(Status::Recovered))
    );
}

#[test]
fn replaying_the_events_rebuilds_the_same_case() {
    let (mut case, mut log) = new_case();
    let mut record = |case: &mut Case, cmd: Command| {
        for e in run(case, cmd) {
            log.push(case.wrap(e));
        }
    };
    record(
        &mut case,
        Command::RecoverRemains {
            tag: tag("A"),
            synthetic: true,
            recovery: recovery("2022-04-03"),
        },
    );
    record(&mut case, examine_cmd("A", "2022-04-05"));
    record(
        &mut case,
        Command::RecordIdentificationEvidence {
            tag: tag("A"),
            evidence: id_ev(IdMethod::Dna, "2022-04-06"),
        },
    );
    record(
        &mut case,
        Command::DecideIdentification {
            tag: tag("A"),
            decision: decision(DecisionStatus::Confirmed, &["IE-0001"], "2022-04-07"),
        },
    );
    record(
        &mut case,
        Command::WithdrawIdentification {
            tag: tag("A"),
            withdrawal: Withdrawal {
                decision: DecisionId::new("IDD-0001").unwrap(),
                reason: "test".into(),
                by: "board".into(),
                time: day("2022-04-08"),
            },
        },
    );
    record(&mut case, bury("A", "2022-04-09"));
    record(&mut case, exhume("A", "2022-05-09"));
    record(
        &mut case,
        Command::CorrectTag {
            tag: tag("A"),
            new_tag: tag("A2"),
            reason: "test".into(),
        },
    );
    record(&mut case, examine_cmd("A2", "2022-05-10"));
    let replayed = Case::replay(&log).unwrap();
    assert_eq!(replayed, case);
    assert_eq!(replayed.remains[&tag("A2")].status, Status::Examined);
    // Through the ledger's details form as well.
    let via_details: Vec<_> = log
        .iter()
        .map(|e| custody_cases::CaseEvent::from_details(&e.to_details()).unwrap())
        .collect();
    assert_eq!(Case::replay(&via_details).unwrap(), case);
    // An event out of place is refused on replay and names the problem.
    let mut bad = log.clone();
    bad.swap(2, 1);
    let err = Case::replay(&bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown remains A; record their recovery first"
    );
}
