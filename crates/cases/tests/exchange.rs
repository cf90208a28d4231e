//! The case JSON format and the CSV formats: round trips, and import errors with their
//! locations and messages. Imports are all-or-nothing.

mod common;

use common::*;
use custody_cases::Case;
use custody_cases::command::Command;
use custody_cases::demo;
use custody_cases::exchange::{
    Location, export_items_csv, export_json, export_remains_csv, import_items_csv, import_json,
    import_remains_csv,
};
use custody_cases::forensic::Status;
use custody_cases::geo::LatLon;
use custody_cases::ids::{PlaceId, Tag};
use serde_json::Value;

fn demo_json() -> String {
    export_json(&demo::bucha().unwrap().case)
}

/// The demo export with `f` applied to its parsed value, pretty-printed again.
fn edited(f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(&demo_json()).unwrap();
    f(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle present")
        + 1
}

#[test]
fn the_case_json_round_trips_exactly() {
    let text = demo_json();
    let imported = import_json(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(export_json(&imported.case), text);
    // The events rebuild the same case.
    let replayed = Case::replay(&imported.events).unwrap();
    assert_eq!(export_json(&replayed), text);
    assert!(text.starts_with("{\n  \"format\": \"custody-case\",\n  \"version\": 1,"));
    // Claim checks agree before and after.
    let d = demo::bucha().unwrap();
    let before = custody_cases::claims::check(&d.case, &Default::default());
    let after = custody_cases::claims::check(&imported.case, &Default::default());
    assert_eq!(before, after);
}

#[test]
fn syntax_errors_give_line_and_column() {
    let err =
        import_json("{\n  \"format\": \"custody-case\",\n  \"version\": 1,\n  \"case\": {,\n}")
            .unwrap_err();
    assert_eq!(err.issues.len(), 1);
    assert!(
        matches!(err.issues[0].location, Location::JsonSyntax { line: 4, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("line 4, column"), "{err}");
    assert!(
        err.to_string()
            .starts_with("nothing was imported: 1 problem(s) found"),
        "{err}"
    );
}

#[test]
fn wrong_types_are_reported_with_path_line_and_expectation() {
    let text = edited(|v| {
        v["places"][1]["place"]["uncertainty_m"] = Value::String("400m".into());
        v["evidence"][3]["captured"]["earliest"] = Value::String("18 March".into());
        v["remains"][0]["synthetic"] = Value::String("yes".into());
    });
    let err = import_json(&text).unwrap_err();
    let msgs: Vec<String> = err.issues.iter().map(|i| i.to_string()).collect();
    let unc_line = line_of(&text, "\"400m\"");
    assert!(msgs.contains(&format!("line {unc_line}, $.places[1].place.uncertainty_m: a string \"400m\" is not a number; expected the uncertainty radius in metres")), "{msgs:#?}");
    let t_line = line_of(&text, "\"18 March\"");
    assert!(msgs.iter().any(|m| m.starts_with(&format!("line {t_line}, $.evidence[3].captured.earliest: \"18 March\" is not a time; expected an RFC 3339 time"))), "{msgs:#?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("$.remains[0].synthetic: a string \"yes\" is not true or false")),
        "{msgs:#?}"
    );
}

#[test]
fn unknown_references_and_duplicates_are_all_reported() {
    let text = edited(|v| {
        v["observations"][0]["evidence"] = Value::String("EV-99".into());
        v["claims"][0]["predicate"]["place"] = serde_json::json!({"ref": "PL-NOWHERE"});
        let dup = v["evidence"][0].clone();
        v["evidence"].as_array_mut().unwrap().push(dup);
        v["evidence"][14]["remains"][0] = Value::String("DEMO-R-404".into());
        v["incidents"][0]["element_links"][0]["element"] = Value::String("E9".into());
        v["extra"] = Value::Bool(true);
    });
    let err = import_json(&text).unwrap_err();
    let all = err.to_string();
    assert!(err.mentions("$.observations[0].evidence: unknown evidence EV-99; expected an evidence id listed under evidence"), "{all}");
    assert!(err.mentions("$.claims[0].predicate.place.ref: unknown place PL-NOWHERE; expected a place defined under places (PL-BUCHA, PL-CHURCH, PL-KYIV-REGION, PL-YABLUNSKA)"), "{all}");
    assert!(
        err.mentions("$.evidence[17].id: duplicate evidence id EV-01 (first at $.evidence[0].id)"),
        "{all}"
    );
    assert!(
        err.mentions("$.evidence[14].remains[0]: unknown remains DEMO-R-404"),
        "{all}"
    );
    assert!(err.mentions("$.extra: unknown field \"extra\""), "{all}");
    assert!(err.issues.len() >= 5, "{all}");
}

#[test]
fn semantic_errors_found_while_applying_point_at_their_record() {
    let text = edited(|v| {
        v["incidents"][0]["element_links"][0]["element"] = Value::String("E9".into());
        // Claim the first remains were released although the records do not say so.
        v["remains"][5]["status"] = Value::String("returned_to_family".into());
    });
    let err = import_json(&text).unwrap_err();
    let all = err.to_string();
    assert!(err.mentions("$.incidents[0].element_links[0]: unknown element E9 of RS-8(2)(a)(i); its elements are E1"), "{all}");
    assert!(err.mentions("$.remains[5].status: the records of DEMO-R-006 give status recovered but the document states returned_to_family"), "{all}");
}

#[test]
fn reused_tag_numbers_are_refused() {
    let text = edited(|v| {
        v["remains"][1]["former_tags"] = serde_json::json!([{"tag": "DEMO-R-001", "replaced_by": "DEMO-R-002", "reason": "test"}]);
    });
    let err = import_json(&text).unwrap_err();
    assert!(err.mentions("$.remains[1].former_tags[0]: duplicate tag number DEMO-R-001 (first at $.remains[0].tag)"), "{err}");
    // A workflow impossibility inside a record list is reported at the record.
    let text = edited(|v| {
        let recs = v["remains"][0]["records"].as_array_mut().unwrap();
        recs.retain(|r| r["record"] != "family_notified");
    });
    let err = import_json(&text).unwrap_err();
    assert!(err.mentions("cannot release remains DEMO-R-001: their status is identified; the family has not been notified"), "{err}");
}

#[test]
fn an_unknown_version_is_refused_by_name() {
    let text = edited(|v| v["version"] = Value::from(2));
    let err = import_json(&text).unwrap_err();
    assert!(
        err.mentions("$.version: version 2 is not supported (this build reads version 1)"),
        "{err}"
    );
}

#[test]
fn exact_points_and_silent_points() {
    let text = edited(|v| {
        v["places"][0]["place"]["uncertainty_m"] = Value::from(0);
    });
    let err = import_json(&text).unwrap_err();
    assert!(
        err.mentions("an uncertainty of 0 m claims an exact point"),
        "{err}"
    );
    let text = edited(|v| {
        v["places"][0]["place"]["uncertainty_m"] = Value::from(0);
        v["places"][0]["place"]["exact"] = Value::Bool(true);
    });
    let imported = import_json(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        imported.case.places[&PlaceId::new("PL-BUCHA").unwrap()]
            .place
            .is_exact()
    );
}

// ---------------------------------------------------------------- CSV

fn case_with_places() -> Case {
    let (mut case, _) = new_case();
    run(
        &mut case,
        Command::DefinePlace {
            id: Some(PlaceId::new("PL-STREET").unwrap()),
            name: "test street".into(),
            place: disc(50.5415, 30.2289, 400.0),
        },
    );
    case
}

const HEADER: &str = "tag,synthetic,recovered_at,place_ref,lat,lon,uncertainty_m,place_basis,context,team,examined_at,examination_type,examiner,cause_of_death,manner_of_death,samples,id_method,id_status,id_at,board_ref,person_ref,notified_at,released_at,released_to,status";

#[test]
fn remains_csv_imports_rows_into_the_workflow() {
    let mut case = case_with_places();
    let text = format!(
        "{HEADER}\n\
         S-1,true,2022-04-03,,50.5412,30.2291,50,GNSS handheld,\"surface, street\",TEAM-A,2022-04-05,full autopsy,examiner 1,gunshot wound,homicide,DNA:S-0001,DNA,confirmed,2022-04-14,IDB-01,AM-0001,2022-04-15,2022-04-18,next of kin,returned_to_family\n\
         S-2,true,2022-04-04/2022-04-05,PL-STREET,,,,,courtyard,TEAM-B,,,,,,,,,,,,,,,recovered\n"
    );
    let events = import_remains_csv(&case, &text).unwrap_or_else(|e| panic!("{e}"));
    for e in &events {
        case.apply(e).unwrap();
    }
    assert_eq!(
        case.remains[&Tag::new("S-1").unwrap()].status,
        Status::ReturnedToFamily
    );
    let s2 = &case.remains[&Tag::new("S-2").unwrap()];
    assert_eq!(s2.status, Status::Recovered);
    assert_eq!(s2.recovery.place.name_ref().unwrap().as_str(), "PL-STREET");
    assert_eq!(s2.recovery.time.earliest(), m("2022-04-04T00:00:00Z"));
    // Export and import into a fresh case give the same remains.
    let out = export_remains_csv(&case);
    let mut again = case_with_places();
    for e in import_remains_csv(&again, &out).unwrap_or_else(|e| panic!("{e}\n{out}")) {
        again.apply(&e).unwrap();
    }
    assert_eq!(export_remains_csv(&again), out);
    assert_eq!(
        again.remains[&Tag::new("S-1").unwrap()].status,
        Status::ReturnedToFamily
    );
}

#[test]
fn remains_csv_errors_name_row_and_column_and_nothing_is_imported() {
    let case = case_with_places();
    let text = format!(
        "{HEADER}\n\
         S-1,true,2022-04-03,,50.5412,30.2291,fifty,GNSS,surface,TEAM-A,,,,,,,,,,,,,,,recovered\n\
         S-2,true,3 April,PL-STREET,,,,,surface,TEAM-A,,,,,,,,,,,,,,,recovered\n\
         S-3,true,2022-04-03,PL-NOWHERE,,,,,surface,TEAM-A,,,,,,,,,,,,,,,lost\n\
         S-4,true,2022-04-03,PL-STREET,,,,,surface,TEAM-A,2022-04-05,full autopsy,ex 1,,,,DNA,confirmed,2022-04-14,IDB-01,AM-0001,,2022-04-18,next of kin,returned_to_family\n\
         S-1,true,2022-04-03,PL-STREET,,,,,surface,TEAM-A,,,,,,,,,,,,,,,recovered\n\
         S-6,true,2022-04-03,PL-STREET,,,,,surface,TEAM-A,,,,,,,,,,,,,,,examined\n\
         S-7,true,2022-04-03\n"
    );
    let err = import_remains_csv(&case, &text).unwrap_err();
    let all = err.to_string();
    // A row with the wrong number of fields stops the file before rows are read.
    assert_eq!(err.issues.len(), 1, "{all}");
    assert!(
        all.contains("row 8 (line 8): the row has 3 fields but the header has 25"),
        "{all}"
    );

    let text = text.lines().take(7).collect::<Vec<_>>().join("\n");
    let err = import_remains_csv(&case, &text).unwrap_err();
    let all = err.to_string();
    assert!(err.mentions("row 2 (line 2), column uncertainty_m: \"fifty\" is not a number; expected the uncertainty radius in metres"), "{all}");
    assert!(err.mentions("row 3 (line 3), column recovered_at: \"3 April\" is not a time; expected a date (2022-04-03)"), "{all}");
    assert!(err.mentions("row 4 (line 4), column place_ref: unknown place PL-NOWHERE; expected a place of the case (PL-STREET)"), "{all}");
    assert!(
        err.mentions("row 4 (line 4), column status: \"lost\" is not a status"),
        "{all}"
    );
    assert!(err.mentions("row 5 (line 5), column released_at: cannot release remains S-4: their status is identified; the family has not been notified"), "{all}");
    assert!(
        err.mentions("row 6 (line 6), column tag: tag number S-1 is already used on row 2"),
        "{all}"
    );
    assert!(err.mentions("row 7 (line 7), column status: the row's records give status recovered but the row states examined"), "{all}");

    // Header problems.
    let err = import_remains_csv(&case, "tag,colour,status\nS-1,red,recovered\n").unwrap_err();
    assert!(
        err.mentions("row 1 (line 1), column colour: unknown column \"colour\""),
        "{err}"
    );
    assert!(
        err.mentions("required column \"recovered_at\" is missing"),
        "{err}"
    );
    let err = import_remains_csv(&case, "").unwrap_err();
    assert!(err.mentions("the file is empty"), "{err}");
}

#[test]
fn remains_csv_refuses_retired_and_existing_tags() {
    let mut case = case_with_places();
    run(
        &mut case,
        Command::RecoverRemains {
            tag: tag("OLD-1"),
            synthetic: true,
            recovery: recovery("2022-04-03"),
        },
    );
    run(
        &mut case,
        Command::CorrectTag {
            tag: tag("OLD-1"),
            new_tag: tag("NEW-1"),
            reason: "test".into(),
        },
    );
    let text = format!(
        "{HEADER}\nOLD-1,true,2022-04-03,PL-STREET,,,,,surface,TEAM-A,,,,,,,,,,,,,,,recovered\nNEW-1,true,2022-04-03,PL-STREET,,,,,surface,TEAM-A,,,,,,,,,,,,,,,recovered\nFRESH,true,2022-04-03,PL-STREET,,,,,surface,TEAM-A,,,,,,,,,,,,,,,recovered\n"
    );
    let err = import_remains_csv(&case, &text).unwrap_err();
    assert!(err.mentions("row 2 (line 2), column tag: tag number OLD-1 was retired when it was corrected to NEW-1; tag numbers are never reused"), "{err}");
    assert!(
        err.mentions("row 3 (line 3), column tag: tag number NEW-1 is already in the case"),
        "{err}"
    );
    assert_eq!(
        err.issues.len(),
        2,
        "the good row is not imported either: {err}"
    );
}

#[test]
fn items_csv_imports_evidence_with_an_observation() {
    let case = case_with_places();
    let text = "id,item,kind,source,captured_at,captured_basis,place_ref,observation,interpretation,interpreted_by,subjects,links\n\
                EV-1,ITM-000042,satellite_image,provider (test),2022-03-18,provider date,PL-STREET,dark objects on the road,bodies,analyst (test),bodies on street; absent:vehicles,https://example.invalid/a https://example.invalid/b\n\
                EV-2,,official_statement,ministry (test),,,,,,,,\n";
    let events = import_items_csv(&case, text).unwrap_or_else(|e| panic!("{e}"));
    let mut case = case;
    for e in &events {
        case.apply(e).unwrap();
    }
    let ev1 = &case.evidence[&"EV-1".parse().unwrap()];
    assert_eq!(ev1.item.unwrap().to_string(), "ITM-000042");
    assert_eq!(ev1.links.len(), 2);
    let o = case.active_observations().next().unwrap();
    assert_eq!(o.shows, "dark objects on the road");
    assert_eq!(o.subjects.len(), 2);
    assert_eq!(o.subjects[1].subject.as_str(), "vehicles");
    assert_eq!(o.place.centre(), LatLon::new(50.5415, 30.2289).unwrap());
    let out = export_items_csv(&case);
    assert!(
        out.contains(
            "EV-1,ITM-000042,satellite_image,provider (test),,2022-03-18,provider date,PL-STREET"
        ),
        "{out}"
    );
    assert!(out.contains("bodies on street; absent:vehicles"), "{out}");

    // Errors.
    let bad = "id,kind,source,observation,subjects,item\nEV-1,photo,x,,bodies,ITM-1x\nEV-1,photo,x,seen,,\nEV-3,photo,,,,\n";
    let err = import_items_csv(&case_with_places(), bad).unwrap_err();
    assert!(
        err.mentions("row 2 (line 2), column subjects: given without an observation"),
        "{err}"
    );
    assert!(
        err.mentions("row 2 (line 2), column item: not an item id: \"ITM-1x\""),
        "{err}"
    );
    assert!(
        err.mentions("row 3 (line 3), column id: evidence id EV-1 is already used on row 2"),
        "{err}"
    );
    assert!(
        err.mentions("row 3 (line 3), column captured_at: an observation needs the capture time"),
        "{err}"
    );
    assert!(
        err.mentions("row 4 (line 4), column source: the cell is empty"),
        "{err}"
    );
}

#[test]
fn the_example_in_the_design_document_imports_and_checks() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/design/case-model.md"
    );
    let doc = std::fs::read_to_string(path).expect("the design document is part of the repository");
    let start = doc.find("```json\n").expect("a JSON example") + "```json\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let imported = import_json(&doc[start..end]).unwrap_or_else(|e| panic!("{e}"));
    let case = imported.case;
    assert_eq!(
        case.remains[&Tag::new("R-0001").unwrap()].status,
        Status::Examined
    );
    assert_eq!(case.testimonies.len(), 1);
    let results = custody_cases::claims::check(&case, &Default::default());
    assert_eq!(
        results[0].summary,
        custody_cases::claims::Summary::Contradicted,
        "{}",
        results[0].summary_reason
    );
    let m = custody_cases::matrix::build(&case, &"INC-0001".parse().unwrap()).unwrap();
    assert_eq!(m.gaps().len(), 4 + 5);
}
