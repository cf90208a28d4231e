//! Cases through the command line: the remains workflow and its guards, witness
//! protection and the sealed store, claim checks on synthetic cases, the matrix, case
//! import and export, observations from metadata, and the demo. Every change must be a
//! ledger entry, every refused command must write none, and `custody verify` must pass
//! at the end. All data here is synthetic and non-graphic.

use crate::support::*;

const CASE: &str = "SYN-2022-01";

/// Splits a command line at spaces; single quotes group words ('remains register').
fn argv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    for ch in line.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Runs `custody --vault vault <line>`.
fn run(env: &Env, line: &str) -> Run {
    let a = argv(line);
    env.run(&a.iter().map(String::as_str).collect::<Vec<_>>())
}

#[track_caller]
fn ok(env: &Env, line: &str) -> Run {
    let r = run(env, line);
    assert_eq!(
        r.code, 0,
        "`{line}` failed\nstdout:\n{}\nstderr:\n{}",
        r.stdout, r.stderr
    );
    r
}

/// Lines in the ledger: how many entries it holds.
fn ledger_len(env: &Env) -> usize {
    std::fs::read_to_string(env.path("vault/ledger/entries.jsonl"))
        .unwrap()
        .lines()
        .count()
}

/// The ledger entries, parsed.
fn ledger(env: &Env) -> Vec<serde_json::Value> {
    std::fs::read_to_string(env.path("vault/ledger/entries.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn entries_of(env: &Env, action: &str) -> Vec<serde_json::Value> {
    ledger(env)
        .into_iter()
        .filter(|e| e["action"] == action)
        .collect()
}

/// A command that must be refused: exit 2, no panic, nothing written to the ledger, and
/// an error containing `needle`.
#[track_caller]
fn refused(env: &Env, line: &str, needle: &str) {
    let before = ledger_len(env);
    run(env, line).refused(needle);
    assert_eq!(ledger_len(env), before, "a refused command writes nothing");
}

#[track_caller]
fn verify_ok(env: &Env) {
    let v = env.run(&["verify", "--json"]);
    assert_eq!(v.code, 0, "verify failed:\n{}", v.stdout);
    assert_eq!(v.json()["ok"], true);
}

fn case_env() -> Env {
    let env = Env::new();
    env.init();
    ok(
        &env,
        &format!(
            "case open {CASE} --title 'Synthetic case for tests' --conflict international \
             --conflict-since 2022-02-24 --offset +03:00"
        ),
    );
    ok(
        &env,
        &format!(
            "place add --case {CASE} --id PL-SITE --name 'Site (synthetic)' --lat 50.0 \
             --lon 30.0 --radius-m 300 --basis 'map (synthetic)'"
        ),
    );
    env
}

fn status(env: &Env, tag: &str) -> String {
    ok(env, &format!("remains show --case {CASE} {tag} --json")).json()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_remains_workflow_refuses_illegal_steps_and_keeps_a_withdrawn_identification() {
    let env = case_env();
    let c = format!("--case {CASE}");
    let r = ok(
        &env,
        &format!(
            "remains recover R-1 {c} --at 2022-04-03 --basis 'remains register' --place PL-SITE \
             --context surface --team TEAM-A --synthetic"
        ),
    );
    assert!(r.stdout.contains("remains.recovered"), "{}", r.stdout);
    assert_eq!(status(&env, "R-1"), "recovered");

    // Illegal steps from `recovered`, each naming what is missing.
    refused(
        &env,
        &format!("remains notify R-1 {c} --at 2022-04-04"),
        "no confirmed identification: record a confirmed identification decision first",
    );
    refused(
        &env,
        &format!("remains release R-1 {c} --at 2022-04-04 --released-to 'next of kin'"),
        "cannot release remains R-1: their status is recovered",
    );
    refused(
        &env,
        &format!("remains bury R-1 {c} --at 2022-04-04 --place PL-SITE --grave-marker G-1"),
        "no examination",
    );
    refused(
        &env,
        &format!("remains exhume R-1 {c} --at 2022-04-04 --authorisation 'order 1'"),
        "only remains buried unidentified are exhumed here",
    );
    refused(
        &env,
        &format!("remains examine R-1 {c} --at 2022-04-01 --examiner 'examiner 1'"),
        "before the recovery",
    );
    refused(
        &env,
        &format!("remains examine R-1 {c} --examiner 'examiner 1'"),
        "an examination needs a time",
    );
    refused(
        &env,
        &format!("remains examine R-404 {c} --at 2022-04-05 --examiner 'examiner 1'"),
        "unknown remains R-404; record their recovery first",
    );

    ok(
        &env,
        &format!(
            "remains examine R-1 {c} --at 2022-04-05 --basis 'autopsy report' --examiner \
             'examiner 1' --cause 'blast injuries (synthetic)' --manner undetermined \
             --sample DNA:S-0001"
        ),
    );
    assert_eq!(status(&env, "R-1"), "examined");
    refused(
        &env,
        &format!("remains waive R-1 {c} --at 2022-04-06 --reason x --authorised-by y"),
        "only be waived for remains just recovered",
    );

    // A secondary identifier alone cannot confirm an identification.
    ok(
        &env,
        &format!("remains id-evidence R-1 {c} --method visual --result match --at 2022-04-10"),
    );
    refused(
        &env,
        &format!(
            "remains decide R-1 {c} --status confirmed --evidence IE-0001 --person AM-0001 \
             --board-ref IDB-01 --at 2022-04-11"
        ),
        "at least one primary identifier",
    );
    ok(
        &env,
        &format!("remains id-evidence R-1 {c} --method dna --result match --at 2022-04-12"),
    );
    refused(
        &env,
        &format!(
            "remains decide R-1 {c} --status confirmed --evidence IE-0002 --board-ref IDB-01 \
             --at 2022-04-13"
        ),
        "must name the person by reference",
    );
    ok(
        &env,
        &format!(
            "remains decide R-1 {c} --status confirmed --evidence IE-0002 --person AM-0001 \
             --board-ref IDB-01 --at 2022-04-13"
        ),
    );
    assert_eq!(status(&env, "R-1"), "identified");
    refused(
        &env,
        &format!("remains release R-1 {c} --at 2022-04-14 --released-to 'next of kin'"),
        "the family has not been notified",
    );
    ok(&env, &format!("remains notify R-1 {c} --at 2022-04-14"));
    assert_eq!(status(&env, "R-1"), "family_notified");

    // The identification is withdrawn: the remains go back to examined, the decision is
    // kept as withdrawn, and what needs an identification is refused again.
    let r = ok(
        &env,
        &format!(
            "remains withdraw R-1 {c} --decision IDD-0001 --reason 'DNA sample mix-up found \
             by the laboratory (synthetic)' --at 2022-04-15"
        ),
    );
    assert!(
        r.stdout.contains("remains.identification_withdrawn"),
        "{}",
        r.stdout
    );
    assert_eq!(status(&env, "R-1"), "examined");
    refused(
        &env,
        &format!("remains release R-1 {c} --at 2022-04-16 --released-to 'next of kin'"),
        "no confirmed identification",
    );
    refused(
        &env,
        &format!("remains notify R-1 {c} --at 2022-04-16"),
        "no confirmed identification",
    );
    refused(
        &env,
        &format!("remains withdraw R-1 {c} --decision IDD-0001 --reason again --at 2022-04-16"),
        "already withdrawn",
    );
    let shown = ok(&env, &format!("remains show {c} R-1 --json")).json();
    let records = shown["records"].as_array().unwrap();
    assert!(
        records.iter().any(|r| r["record"] == "decision"),
        "the decision is kept"
    );
    assert!(records.iter().any(|r| r["record"] == "withdrawal"));
    assert!(shown["confirmed"].is_null());

    // Buried unidentified, exhumed, re-examined.
    ok(
        &env,
        &format!("remains bury R-1 {c} --at 2022-04-20 --place PL-SITE --grave-marker GRAVE-17"),
    );
    refused(
        &env,
        &format!("remains examine R-1 {c} --at 2022-04-21 --examiner 'examiner 2'"),
        "record their exhumation first",
    );
    ok(
        &env,
        &format!(
            "remains exhume R-1 {c} --at 2022-05-02 --authorisation 'court order 3 (synthetic)'"
        ),
    );
    let r = ok(
        &env,
        &format!("remains examine R-1 {c} --at 2022-05-03 --examiner 'examiner 2'"),
    );
    assert!(
        r.stdout.contains("re-examination EX-0002 of R-1"),
        "{}",
        r.stdout
    );
    assert_eq!(status(&env, "R-1"), "examined");

    // Tag numbers are never reused.
    ok(
        &env,
        &format!("remains correct-tag R-1 R-1A {c} --reason 'label misread (synthetic)'"),
    );
    refused(
        &env,
        &format!(
            "remains recover R-1 {c} --at 2022-05-04 --place PL-SITE --context surface \
             --team TEAM-B"
        ),
        "tag number R-1 was retired when it was corrected to R-1A",
    );
    assert_eq!(status(&env, "R-1A"), "examined");

    // Every change is one ledger entry of the case, in order.
    let log = ok(&env, &format!("case log {CASE} --json")).json();
    let acts: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        acts,
        [
            "case.opened",
            "case.place_defined",
            "remains.recovered",
            "remains.examined",
            "remains.identification_evidence",
            "remains.identification_evidence",
            "remains.identification_decided",
            "remains.family_notified",
            "remains.identification_withdrawn",
            "remains.buried_unidentified",
            "remains.exhumed",
            "remains.examined",
            "remains.tag_corrected",
        ]
    );
    // The ledger entry carries the event as its details: version, case, type.
    let e = &entries_of(&env, "remains.identification_withdrawn")[0];
    assert_eq!(e["details"]["v"], 1);
    assert_eq!(e["details"]["case"], CASE);
    assert_eq!(e["details"]["type"], "remains_recorded");
    assert_eq!(e["details"]["record"]["withdrawal"]["decision"], "IDD-0001");
    assert_eq!(e["actor"], "tester@lab");
    verify_ok(&env);

    // The catalog rebuilt from the ledger gives the same case.
    let before = ok(&env, &format!("case show {CASE} --json")).json();
    ok(&env, "catalog rebuild");
    let after = ok(&env, &format!("case show {CASE} --json")).json();
    assert_eq!(before["case"], after["case"]);
    verify_ok(&env);
}

#[test]
fn forensic_counts_come_from_the_records_as_of_a_date_and_within_an_area() {
    let env = case_env();
    for (tag, day, lat) in [
        ("F-1", "2022-04-02", "50.0"),
        ("F-2", "2022-04-03", "50.0"),
        ("F-3", "2022-04-05", "50.0"),
        ("F-4", "2022-04-02", "50.3"),
    ] {
        ok(
            &env,
            &format!(
                "remains recover {tag} --case {CASE} --at {day} --lat {lat} --lon 30.0 \
                 --radius-m 50 --place-basis 'GNSS handheld' --context surface --team TEAM-A \
                 --synthetic"
            ),
        );
    }
    ok(
        &env,
        &format!("remains examine F-1 --case {CASE} --at 2022-04-03 --examiner e1"),
    );
    ok(
        &env,
        &format!("remains examine F-2 --case {CASE} --at 2022-04-06 --examiner e1"),
    );
    let counts = |as_of: &str, area: &str| {
        ok(
            &env,
            &format!("report forensic --case {CASE} --as-of {as_of} {area} --json"),
        )
        .json()["counts"]
            .clone()
    };
    let n = |c: &serde_json::Value, k: &str| c[k].as_u64().unwrap();
    let c = counts("2022-04-03", "");
    assert_eq!((n(&c, "recovered"), n(&c, "examined")), (3, 1));
    assert_eq!(c["by_status"]["examined"], 1);
    assert_eq!(c["by_status"]["recovered"], 2);
    let c = counts("2022-04-06", "");
    assert_eq!((n(&c, "recovered"), n(&c, "examined")), (4, 2));
    // Within PL-SITE (300 m around 50.0 N) only: F-4 lies 33 km away.
    let c = counts("2022-04-06", "--area PL-SITE");
    assert_eq!((n(&c, "recovered"), n(&c, "examined")), (3, 2));
    let text = ok(
        &env,
        &format!("report forensic --case {CASE} --as-of 2022-04-03"),
    )
    .stdout;
    assert!(text.contains("3 recovered, 1 examined"), "{text}");
    assert!(!text.contains("F-3"), "F-3 was not yet recovered:\n{text}");
}

fn write_identity(env: &Env) -> String {
    env.write(
        "identity.json",
        br#"{"legal_name": "Quillfeather Synthetic-Person", "date_of_birth": "1970-01-01",
             "address": "1 Nowhere Lane (synthetic)",
             "contacts": [{"kind": "phone", "value": "+000 555 0199"}], "notes": "test only"}"#,
    );
    "identity.json".into()
}

const NAME: &str = "Quillfeather";

#[test]
fn sealed_identities_are_read_only_with_permission_and_every_read_is_logged() {
    let env = case_env();
    let id = write_identity(&env);
    let c = format!("--case {CASE}");
    let j = ok(
        &env,
        &format!("witness register {c} --identity-file {id} --json"),
    )
    .json();
    assert_eq!(j["entries"][0]["action"], "sealed.stored");
    assert_eq!(j["entries"][1]["action"], "witness.registered");
    assert_eq!(j["entries"][1]["details"]["witness"], "W-0001");
    let sealed_ref = j["entries"][1]["details"]["sealed"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(sealed_ref.starts_with("SEALED-"), "{sealed_ref}");
    {
        use std::os::unix::fs::PermissionsExt;
        let key = env.path("vault/keys/sealed.key");
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the sealing key is private");
    }

    // Consent and testimony by pseudonym: a testimony needs a consent to recording.
    env.write("statement.txt", b"Synthetic statement text for a test.\n");
    ok(&env, &format!("ingest statement.txt {c}"));
    ok(
        &env,
        &format!(
            "witness consent {c} W-0001 --use investigation --given-at 2022-04-10T10:00:00+03:00"
        ),
    );
    let testimony = |consent: &str| {
        format!(
            "witness testimony {c} W-0001 --evidence EV-T1 --item ITM-000001 --consent {consent} \
             --from 2022-04-10T10:10:00+03:00 --to 2022-04-10T11:00:00+03:00 --basis 'interview log'"
        )
    };
    refused(
        &env,
        &testimony("CN-0001"),
        "witness W-0001 has no consent in force for recording",
    );
    ok(
        &env,
        &format!(
            "witness consent {c} W-0001 --use recording --use court_use --given-at \
             2022-04-10T10:05:00+03:00"
        ),
    );
    let t = ok(&env, &testimony("CN-0002"));
    assert!(
        t.stdout.contains("case.evidence_registered"),
        "{}",
        t.stdout
    );
    assert!(
        t.stdout.contains("witness.testimony_recorded"),
        "{}",
        t.stdout
    );
    let e = &entries_of(&env, "case.evidence_registered")[0];
    assert_eq!(
        e["item"], "ITM-000001",
        "the testimony item is the entry's item"
    );
    assert_eq!(
        e["sha256"],
        sha256_hex(b"Synthetic statement text for a test.\n")
    );

    // Nothing that prints or exports the case shows the identity.
    for line in [
        format!("case show {CASE}"),
        format!("case show {CASE} --json"),
        format!("witness show {c} W-0001"),
        format!("witness list {c} --json"),
        format!("case log {CASE} --json"),
    ] {
        let out = ok(&env, &line);
        assert!(!out.stdout.contains(NAME), "`{line}` shows the identity");
        assert!(
            !out.stdout.contains("555 0199"),
            "`{line}` shows the contact"
        );
    }
    ok(&env, &format!("case export {CASE} --out case.json"));
    let exported = std::fs::read_to_string(env.path("case.json")).unwrap();
    assert!(exported.contains("W-0001") && !exported.contains(NAME));
    // Nor the ledger, the catalog, or the sealed file itself.
    for f in ["vault/ledger/entries.jsonl", "vault/catalog.sqlite"] {
        let bytes = std::fs::read(env.path(f)).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(NAME),
            "{f} holds the identity"
        );
    }
    let sealed_file = env.path(&format!("vault/sealed/{sealed_ref}.bin"));
    let ct = std::fs::read(&sealed_file).unwrap();
    assert!(
        !String::from_utf8_lossy(&ct).contains(NAME),
        "encrypted at rest"
    );
    assert_eq!(
        entries_of(&env, "sealed.stored")[0]["details"]["ciphertext_sha256"],
        sha256_hex(&ct)
    );

    // Reading needs the explicit permission and a purpose; refusals log nothing.
    let missing = run(&env, &format!("witness unseal {c} W-0001"));
    missing.refused("--permission");
    refused(
        &env,
        &format!("witness unseal {c} W-0001 --permission read-everything --purpose curiosity"),
        "is not a permission to read sealed identities",
    );
    refused(
        &env,
        &format!("witness unseal {c} W-0001 --permission unseal-identity --purpose ' '"),
        "--purpose",
    );
    assert!(entries_of(&env, "sealed.read").is_empty());
    let shown = ok(
        &env,
        &format!(
            "witness unseal {c} W-0001 --permission unseal-identity --purpose 'court order \
             12/2024 (synthetic)'"
        ),
    );
    assert!(
        shown.stdout.contains("Quillfeather Synthetic-Person"),
        "{}",
        shown.stdout
    );
    assert!(shown.stdout.contains("+000 555 0199"));
    let reads = entries_of(&env, "sealed.read");
    assert_eq!(reads.len(), 1);
    let read = &reads[0];
    assert_eq!(read["actor"], "tester@lab");
    assert_eq!(read["details"]["ref"], sealed_ref.as_str());
    assert_eq!(read["details"]["permission"], "unseal-identity");
    assert_eq!(
        read["details"]["purpose"],
        "court order 12/2024 (synthetic)"
    );
    assert_eq!(read["details"]["witness"], "W-0001");
    let seq = read["seq"].as_u64().unwrap();
    assert!(
        shown.stdout.contains(&format!("ledger entry {seq}")),
        "the rendering names the ledger entry of the read:\n{}",
        shown.stdout
    );
    // A second read is a second entry; `witness show` lists both.
    ok(
        &env,
        &format!(
            "witness unseal {c} W-0001 --permission unseal-identity --purpose 'witness \
             protection review (synthetic)'"
        ),
    );
    let view = ok(&env, &format!("witness show {c} W-0001 --json")).json();
    assert_eq!(view["reads"].as_array().unwrap().len(), 2);
    assert_eq!(
        view["reads"][1]["purpose"],
        "witness protection review (synthetic)"
    );

    // Export with the sealed identities: a separate file, each read logged.
    let export = |permission: &str| {
        format!(
            "case export {CASE} --out case2.json --include-sealed --permission {permission} \
             --purpose 'transfer to prosecutor (synthetic)' --sealed-out ids.json"
        )
    };
    refused(&env, &export("nope"), "is not a permission");
    assert!(!env.path("case2.json").exists() && !env.path("ids.json").exists());
    let before = ledger_len(&env);
    ok(&env, &export("unseal-identity"));
    assert_eq!(
        ledger_len(&env),
        before + 2,
        "one sealed.read, one case.exported"
    );
    let ids = std::fs::read_to_string(env.path("ids.json")).unwrap();
    assert!(ids.contains("Quillfeather Synthetic-Person"));
    assert!(
        !std::fs::read_to_string(env.path("case2.json"))
            .unwrap()
            .contains(NAME)
    );
    verify_ok(&env);

    // A damaged sealed record is found by verify without decrypting it.
    make_writable(&sealed_file);
    let mut bad = ct.clone();
    let n = bad.len() - 3;
    bad[n] ^= 0x40;
    std::fs::write(&sealed_file, &bad).unwrap();
    let v = env.run(&["verify", "--json"]);
    assert_eq!(v.code, 1);
    let problems = v.json()["problems"].clone();
    assert!(
        problems
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["kind"] == "sealed" && p["message"].as_str().unwrap().contains(&sealed_ref)),
        "{problems}"
    );
    refused(
        &env,
        &format!("witness unseal {c} W-0001 --permission unseal-identity --purpose x"),
        "does not match the digest recorded",
    );
}

#[test]
fn the_sealing_key_can_live_outside_the_vault() {
    let env = case_env();
    let id = write_identity(&env);
    let key = env.path("officer/sealed.key");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    Run::of(
        env.command()
            .args(["--vault", "vault", "witness", "register", "--case", CASE])
            .args(["--identity-file", &id])
            .env("CUSTODY_SEALED_KEY", &key),
    )
    .ok();
    assert!(key.exists());
    assert!(
        !env.path("vault/keys/sealed.key").exists(),
        "no key left in the vault"
    );
    // Without the key nothing can be read, and no read is logged.
    let unseal = format!(
        "witness unseal --case {CASE} W-0001 --permission unseal-identity --purpose 'court \
         order (synthetic)'"
    );
    refused(&env, &unseal, "does not exist");
    let r = ok(&env, &format!("{unseal} --sealed-key officer/sealed.key"));
    assert!(r.stdout.contains(NAME));
    // A key that is not the one used is refused before anything is logged.
    std::fs::write(env.path("other.key"), format!("{}\n", "ab".repeat(32))).unwrap();
    refused(
        &env,
        &format!("{unseal} --sealed-key other.key"),
        "not with the key given",
    );
    verify_ok(&env);
}

/// A synthetic case for the claim-check rules (claim-checks.md), with one claim of each
/// outcome.
const CLAIMS_CASE: &str = r#"{
  "format": "custody-case",
  "version": 1,
  "case": {"id": "SYN-CLAIMS", "title": "Synthetic claims", "local_offset": "+00:00",
           "armed_conflict": {"kind": "international", "since": "2022-02-24", "basis": "test"}},
  "places": [
    {"id": "PL-SITE", "name": "Site", "place": {"lat": 50.0, "lon": 30.0, "uncertainty_m": 200, "basis": "map"}},
    {"id": "PL-FAR", "name": "Far away", "place": {"lat": 51.0, "lon": 31.0, "uncertainty_m": 200, "basis": "map"}}
  ],
  "evidence": [
    {"id": "EV-SAT1", "kind": "satellite_image", "source": "provider (synthetic)",
     "captured": {"earliest": "2022-03-05", "latest": "2022-03-05", "basis": "provider date"}, "place": {"ref": "PL-SITE"}},
    {"id": "EV-SAT2", "kind": "satellite_image", "source": "provider (synthetic)",
     "captured": {"earliest": "2022-03-12", "latest": "2022-03-12", "basis": "provider date"}, "place": {"ref": "PL-SITE"}},
    {"id": "EV-POST", "kind": "social_post_capture", "source": "platform (synthetic)"},
    {"id": "EV-FOR", "kind": "forensic_report", "source": "bureau (synthetic)", "remains": ["R-1"], "place": {"ref": "PL-SITE"}},
    {"id": "EV-STMT", "kind": "official_statement", "source": "a ministry (synthetic)"}
  ],
  "observations": [
    {"id": "OB-0001", "evidence": "EV-SAT1", "shows": "a barrier across the road",
     "subjects": [{"subject": "checkpoint", "finding": "present", "via": "shown"}],
     "place": {"ref": "PL-SITE"},
     "time": {"earliest": "2022-03-05", "latest": "2022-03-05", "basis": "provider date"}},
    {"id": "OB-0002", "evidence": "EV-POST", "shows": "a photo of a roadblock",
     "subjects": [{"subject": "roadblock", "finding": "present", "via": "shown"}],
     "place": {"ref": "PL-SITE"},
     "time": {"earliest": "2022-03-01", "latest": "2022-03-20", "basis": "post time (upper bound) and start of events"}},
    {"id": "OB-0003", "evidence": "EV-SAT2", "shows": "a crater",
     "subjects": [{"subject": "crater", "finding": "present", "via": "shown"}],
     "place": {"ref": "PL-SITE"},
     "time": {"earliest": "2022-03-12", "latest": "2022-03-12", "basis": "provider date"}}
  ],
  "incidents": [
    {"id": "INC-0001", "title": "Killing at the site (synthetic)", "place": {"ref": "PL-SITE"},
     "time": {"earliest": "2022-03-01", "latest": "2022-03-20", "basis": "test"},
     "crimes": ["RS-8(2)(a)(i)"], "evidence": ["EV-SAT1", "EV-FOR"],
     "element_links": [
       {"crime": "RS-8(2)(a)(i)", "element": "E1", "evidence": "EV-FOR", "stance": "supports", "by": "analyst 1"}
     ]}
  ],
  "claims": [
    {"id": "CL-SUP", "made_by": "ministry (synthetic)", "source_evidence": "EV-STMT",
     "assertion": "There was a checkpoint at the site in early March.",
     "predicate": {"kind": "present_at", "subject": "checkpoint", "place": {"ref": "PL-SITE"},
                   "during": {"earliest": "2022-03-01", "latest": "2022-03-10", "basis": "the claim"}}},
    {"id": "CL-CON", "made_by": "ministry (synthetic)", "source_evidence": "EV-STMT",
     "assertion": "There was no checkpoint at the site before 10 March.",
     "predicate": {"kind": "absent_before", "subject": "checkpoint", "place": {"ref": "PL-SITE"}, "until": "2022-03-10"}},
    {"id": "CL-INC", "made_by": "ministry (synthetic)", "source_evidence": "EV-STMT",
     "assertion": "There was no roadblock before 10 March.",
     "predicate": {"kind": "absent_before", "subject": "roadblock", "place": {"ref": "PL-SITE"}, "until": "2022-03-10"}},
    {"id": "CL-NA", "made_by": "ministry (synthetic)", "source_evidence": "EV-STMT",
     "assertion": "A crater appeared far away in March.",
     "predicate": {"kind": "present_at", "subject": "crater", "place": {"ref": "PL-FAR"},
                   "during": {"earliest": "2022-03-01", "latest": "2022-03-31", "basis": "the claim"}}},
    {"id": "CL-CAUSE", "made_by": "ministry (synthetic)", "source_evidence": "EV-STMT",
     "assertion": "The deaths were caused by shelling by the other side.",
     "predicate": {"kind": "causal_alternative", "place": {"ref": "PL-SITE"}, "cause": "shelling by the other side"}}
  ],
  "remains": [
    {"tag": "R-1", "synthetic": true,
     "recovery": {"time": {"earliest": "2022-03-15", "latest": "2022-03-15", "basis": "register"},
                  "place": {"lat": 50.0001, "lon": 30.0001, "uncertainty_m": 20, "basis": "GNSS"},
                  "context": "surface", "team": "TEAM-A"},
     "records": [
       {"record": "examination", "id": "EX-0001", "examination": {
          "time": {"earliest": "2022-03-16", "latest": "2022-03-16", "basis": "autopsy report"},
          "kind": "full autopsy", "examiner": "examiner 1",
          "cause_of_death": "blast injuries (synthetic)", "manner_of_death": "undetermined"}}
     ],
     "status": "examined"}
  ]
}"#;

fn result_of(results: &serde_json::Value, claim: &str) -> serde_json::Value {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["claim"] == claim)
        .unwrap_or_else(|| panic!("no result for {claim}"))
        .clone()
}

fn pair<'a>(r: &'a serde_json::Value, ev: &str) -> &'a serde_json::Value {
    r["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["evidence"] == ev)
        .unwrap_or_else(|| panic!("no pair {ev}"))
}

fn text(v: &serde_json::Value) -> &str {
    v.as_str().unwrap_or("")
}

fn claims_env() -> Env {
    let env = Env::new();
    env.init();
    env.write("claims.json", CLAIMS_CASE.as_bytes());
    env
}

#[test]
fn claims_are_checked_per_pair_with_reasons_and_signed_off_in_the_ledger() {
    let env = claims_env();
    let r = ok(&env, "case import claims.json --json").json();
    let last = r["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "case.imported");
    assert_eq!(
        last["details"]["sha256"],
        sha256_hex(CLAIMS_CASE.as_bytes())
    );
    assert_eq!(last["details"]["format"], "custody-case");

    let res = ok(&env, "claims check --case SYN-CLAIMS --json").json();
    let sup = result_of(&res, "CL-SUP");
    assert_eq!(sup["summary"], "supported");
    assert_eq!(pair(&sup, "EV-SAT1")["relation"], "supports");
    let own = pair(&sup, "EV-STMT");
    assert_eq!(own["relation"], "not_applicable");
    assert!(text(&own["reason"]).contains("publishes the claim itself"));

    let con = result_of(&res, "CL-CON");
    assert_eq!(con["summary"], "contradicted");
    let p = pair(&con, "EV-SAT1");
    assert_eq!(p["relation"], "contradicts");
    assert!(
        p["arithmetic"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| text(a).contains("<= claimed until")),
        "{p}"
    );

    // Overlapping intervals: the post may show the state before or after the claimed time.
    let inc = result_of(&res, "CL-INC");
    assert_eq!(inc["summary"], "inconclusive");
    let p = pair(&inc, "EV-POST");
    assert_eq!(p["relation"], "inconclusive");
    assert!(
        text(&p["reason"]).contains("contains the claimed time"),
        "{p}"
    );

    let na = result_of(&res, "CL-NA");
    assert_eq!(na["summary"], "not_applicable");
    let p = pair(&na, "EV-SAT2");
    assert_eq!(p["relation"], "not_applicable");
    assert!(
        text(&p["reason"]).contains("places do not intersect"),
        "{p}"
    );

    let cause = result_of(&res, "CL-CAUSE");
    assert_eq!(cause["summary"], "inconclusive");
    assert_eq!(cause["forensic_review"], true);
    let p = pair(&cause, "EV-FOR");
    assert_eq!(p["relation"], "inconclusive");
    assert_eq!(p["forensic_review"], true);
    assert!(
        text(&p["reason"]).contains("blast injuries (synthetic)"),
        "{p}"
    );
    assert_eq!(pair(&cause, "EV-SAT1")["relation"], "not_applicable");

    // The text output: a line per pair that bears on the claim; --all adds the others.
    let out = ok(&env, "claims check --case SYN-CLAIMS --all").stdout;
    assert!(out.contains("CL-CON — CONTRADICTED"), "{out}");
    assert!(out.contains("EV-SAT1: contradicts"), "{out}");
    assert!(out.contains("EV-SAT2: not_applicable — "), "{out}");

    // Sign-off: a stale version is refused; the current one is a ledger entry.
    refused(
        &env,
        "claims sign-off --case SYN-CLAIMS CL-CON --version 0000",
        "has changed since version 0000 was reviewed",
    );
    let version = text(&con["version"]).to_owned();
    let s = ok(
        &env,
        &format!(
            "claims sign-off --case SYN-CLAIMS CL-CON --version {version} --note 'reviewed the \
             imagery (synthetic)'"
        ),
    );
    assert!(s.stdout.contains("claim.signed_off"), "{}", s.stdout);
    let e = ledger(&env).into_iter().last().unwrap();
    assert_eq!(e["action"], "claim.signed_off");
    assert_eq!(e["details"]["signoff"]["result_version"], version.as_str());
    assert_eq!(e["details"]["signoff"]["summary"], "contradicted");
    assert_eq!(e["details"]["signoff"]["by"], "tester@lab");
    let res = ok(&env, "claims check --case SYN-CLAIMS --claim CL-CON --json").json();
    assert_eq!(res["results"].as_array().unwrap().len(), 1);
    assert_eq!(result_of(&res, "CL-CON")["signoffs"][0]["current"], true);
    refused(
        &env,
        "claims check --case SYN-CLAIMS --claim CL-404",
        "unknown claim CL-404",
    );
    verify_ok(&env);
}

#[test]
fn claims_and_observations_entered_through_the_cli_are_checked_like_imported_ones() {
    let env = case_env();
    let c = format!("--case {CASE}");
    ok(
        &env,
        &format!(
            "evidence register {c} --id EV-1 --kind satellite_image --source 'provider \
             (synthetic)' --at 2022-03-18 --basis 'provider date' --place PL-SITE"
        ),
    );
    let r = ok(
        &env,
        &format!(
            "evidence observe {c} EV-1 --shows 'dark, body-sized objects on the road' \
             --interpretation bodies --present 'bodies on street'"
        ),
    );
    assert!(
        r.stdout
            .contains("time from evidence record, place from evidence record"),
        "{}",
        r.stdout
    );
    ok(
        &env,
        &format!(
            "claims add {c} --id CL-1 --made-by 'ministry (synthetic)' --assertion 'Bodies \
             appeared only after 30 March.' --kind absent-before --subject 'bodies on street' \
             --place PL-SITE --until 2022-03-30"
        ),
    );
    let res = ok(&env, &format!("claims check {c} --json")).json();
    let r = result_of(&res, "CL-1");
    assert_eq!(r["summary"], "contradicted");
    let p = pair(&r, "EV-1");
    assert!(
        p["depends_on"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| text(d).contains("assumes the interpretation 'bodies'")),
        "{p}"
    );
    // A correction is a new event: the superseded observation no longer counts.
    ok(
        &env,
        &format!("evidence supersede {c} OB-0001 --reason 'misread shadows (synthetic)'"),
    );
    let res = ok(&env, &format!("claims check {c} --json")).json();
    assert_eq!(result_of(&res, "CL-1")["summary"], "not_applicable");
    refused(
        &env,
        &format!(
            "claims add {c} --made-by x --assertion y --kind count --place PL-SITE --as-of \
             2022-04-03"
        ),
        "needs at least one --figure",
    );
    refused(
        &env,
        &format!("evidence observe {c} EV-404 --shows x"),
        "unknown evidence EV-404",
    );
    refused(
        &env,
        &format!(
            "incident add {c} --title 'x' --at 2022-03-01 --lat 50 --lon 30 --radius-m 10 --crime RS-99"
        ),
        "is not a Rome Statute crime this catalogue knows",
    );
    refused(
        &env,
        &format!("evidence register {c} --id EV-1 --kind photo --source x"),
        "evidence EV-1 already exists",
    );
    verify_ok(&env);
}

#[test]
fn the_matrix_shows_elements_and_gaps_plainly() {
    let env = claims_env();
    ok(&env, "case import claims.json");
    let m = ok(&env, "matrix --case SYN-CLAIMS INC-0001 --json").json();
    let gaps: Vec<&str> = m["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["element"].as_str().unwrap())
        .collect();
    assert_eq!(
        gaps,
        [
            "protected-status",
            "aware-of-status",
            "nexus-iac",
            "aware-of-conflict"
        ]
    );
    let out = ok(&env, "matrix --case SYN-CLAIMS INC-0001").stdout;
    assert!(out.contains("supported  E1"), "{out}");
    assert!(out.contains("GAP        protected-status"), "{out}");
    assert!(
        out.contains("4 element(s) without supporting evidence (GAP)"),
        "{out}"
    );

    // Filling a gap through the CLI; an undercutting link alone does not fill one.
    let link = "incident element --case SYN-CLAIMS INC-0001 --crime RS-8(2)(a)(i)";
    ok(
        &env,
        &format!(
            "{link} --element nexus-iac --evidence EV-SAT1 --note 'control period (synthetic)'"
        ),
    );
    ok(
        &env,
        &format!("{link} --element protected-status --evidence EV-SAT2 --undercuts"),
    );
    let m = ok(&env, "matrix --case SYN-CLAIMS INC-0001 --json").json();
    assert_eq!(m["gaps"].as_array().unwrap().len(), 3);
    refused(
        &env,
        &format!("{link} --element E9 --evidence EV-SAT1"),
        "unknown element E9 of RS-8(2)(a)(i)",
    );
    refused(
        &env,
        "incident element --case SYN-CLAIMS INC-0001 --crime RS-7(1)(a) --element E1 --evidence EV-SAT1",
        "is not a candidate crime of INC-0001",
    );
    refused(
        &env,
        "matrix --case SYN-CLAIMS INC-0404",
        "unknown incident INC-0404",
    );
    verify_ok(&env);
}

#[test]
fn imports_are_all_or_nothing_with_line_and_field() {
    let env = Env::new();
    env.init();
    let bad = CLAIMS_CASE.replace(
        r#""until": "2022-03-10"}},
    {"id": "CL-INC""#,
        r#""until": "10 March"}},
    {"id": "CL-INC""#,
    );
    let bad = bad.replacen(
        r#""uncertainty_m": 200, "basis": "map"}},
    {"id": "PL-FAR""#,
        r#""uncertainty_m": "200m", "basis": "map"}},
    {"id": "PL-FAR""#,
        1,
    );
    env.write("bad.json", bad.as_bytes());
    let line = bad.lines().position(|l| l.contains("\"200m\"")).unwrap() + 1;
    let until = bad
        .lines()
        .position(|l| l.contains("\"10 March\""))
        .unwrap()
        + 1;
    let before = ledger_len(&env);
    let r = run(&env, "case import bad.json");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nothing was imported"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "line {line}, $.places[0].place.uncertainty_m: a string \"200m\" is not a number"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "line {until}, $.claims[1].predicate.until: \"10 March\" is not a time"
        )),
        "{}",
        r.stderr
    );
    assert_eq!(ledger_len(&env), before);
    assert!(
        ok(&env, "case list --json")
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Syntax errors give line and column; a vault item that does not exist is refused.
    env.write(
        "syntax.json",
        b"{\n  \"format\": \"custody-case\",\n  \"version\": 1,\n  \"case\": {,\n}",
    );
    refused(&env, "case import syntax.json", "line 4, column");
    env.write(
        "item.json",
        CLAIMS_CASE
            .replace(
                r#""id": "EV-SAT1", "kind""#,
                r#""id": "EV-SAT1", "item": "ITM-000077", "kind""#,
            )
            .as_bytes(),
    );
    refused(
        &env,
        "case import item.json",
        "evidence EV-SAT1: item ITM-000077 is not in this vault",
    );
    env.write("claims.json", CLAIMS_CASE.as_bytes());
    ok(&env, "case import claims.json");
    refused(
        &env,
        "case import claims.json",
        "case SYN-CLAIMS already exists",
    );

    // Remains CSV: every row through the workflow guards; one bad row refuses the file.
    let header = "tag,synthetic,recovered_at,place_ref,context,team,examined_at,\
                  examination_type,examiner,id_method,id_status,id_at,board_ref,person_ref,\
                  notified_at,released_at,released_to,status";
    let row1 = "S-1,true,2022-04-03,PL-SITE,surface,TEAM-A,2022-04-05,full autopsy,e1,DNA,\
                confirmed,\
                2022-04-14,IDB-1,AM-1,2022-04-15,2022-04-18,next of kin,returned_to_family";
    let row2 = "S-2,true,2022-04-03,PL-SITE,surface,TEAM-A,2022-04-05,full autopsy,e1,DNA,\
                confirmed,\
                2022-04-14,IDB-1,AM-2,,2022-04-18,next of kin,returned_to_family";
    env.write(
        "remains.csv",
        format!("{header}\n{row1}\n{row2}\n").as_bytes(),
    );
    refused(
        &env,
        "remains import-csv --case SYN-CLAIMS remains.csv",
        "row 3 (line 3), column released_at: cannot release remains S-2: their status is \
         identified; the family has not been notified",
    );
    env.write("good.csv", format!("{header}\n{row1}\n").as_bytes());
    let r = ok(&env, "remains import-csv --case SYN-CLAIMS good.csv --json").json();
    let last = r["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["details"]["format"], "custody-remains-csv");
    let list = ok(&env, "remains list --case SYN-CLAIMS --json").json();
    assert_eq!(list.as_array().unwrap().len(), 2, "R-1 and S-1");
    refused(
        &env,
        "remains import-csv --case SYN-CLAIMS good.csv",
        "row 2 (line 2), column tag: tag number S-1 is already in the case",
    );

    // Export and import round trip: remains CSV, evidence CSV and the whole case.
    ok(&env, "remains export-csv --case SYN-CLAIMS --out out.csv");
    let out = std::fs::read_to_string(env.path("out.csv")).unwrap();
    assert!(
        out.lines()
            .any(|l| l.starts_with("S-1,") && l.ends_with(",returned_to_family")),
        "{out}"
    );
    ok(
        &env,
        "evidence export-csv --case SYN-CLAIMS --out items.csv",
    );
    assert!(
        std::fs::read_to_string(env.path("items.csv"))
            .unwrap()
            .contains("EV-SAT1,")
    );
    ok(&env, "case export SYN-CLAIMS --out whole.json");
    let whole = std::fs::read_to_string(env.path("whole.json")).unwrap();
    let exported = entries_of(&env, "case.exported");
    assert_eq!(exported.len(), 3);
    assert_eq!(
        exported[2]["details"]["sha256"],
        sha256_hex(whole.as_bytes())
    );
    refused(
        &env,
        "case export SYN-CLAIMS --out whole.json",
        "already exists",
    );
    let other = Env::new();
    other.init();
    other.write("whole.json", whole.as_bytes());
    ok(&other, "case import whole.json");
    ok(&other, "case export SYN-CLAIMS --out again.json");
    assert_eq!(
        std::fs::read_to_string(other.path("again.json")).unwrap(),
        whole
    );
    verify_ok(&env);
    verify_ok(&other);
}

#[test]
fn observations_take_place_and_time_from_the_item_metadata() {
    let photo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/exif/jpg/gps/DSCN0010.jpg");
    if !photo.exists() {
        eprintln!("skipped: ../shared/testdata not found");
        return;
    }
    let env = Env::new();
    env.init();
    ok(
        &env,
        "case open SYN-META --title metadata --conflict international --conflict-since 2008-01-01",
    );
    let out = env
        .command()
        .args(["--vault", "vault", "ingest", "--case", "SYN-META"])
        .arg(&photo)
        .output()
        .unwrap();
    assert!(out.status.success());
    ok(
        &env,
        "evidence register --case SYN-META --id EV-1 --kind photo --source 'camera (test \
         file)' --item ITM-000001",
    );
    let r = ok(
        &env,
        "evidence observe --case SYN-META EV-1 --shows 'a street with buildings' --present \
         buildings --view-extent-m 50 --json",
    )
    .json();
    let d = &r["derivation"];
    assert_eq!(d["time_from"], "metadata");
    assert_eq!(d["place_from"], "metadata");
    // The GNSS clock wins; the camera clock (no offset) disagrees and is set aside.
    assert!(
        d["set_aside"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| text(s).contains("exif.DateTimeOriginal")),
        "{d}"
    );
    let obs = &r["recorded"]["entries"][0]["details"]["observation"];
    assert_eq!(obs["time"]["earliest"], "2008-10-23T14:27:06.24Z", "{obs}");
    assert_eq!(obs["time"]["latest"], "2008-10-23T14:27:08.24Z", "{obs}");
    assert!(
        (obs["place"]["lat"].as_f64().unwrap() - 43.467448).abs() < 1e-5,
        "{obs}"
    );
    assert_eq!(
        obs["place"]["uncertainty_m"], 80.0,
        "30 m assumed accuracy + 50 m view"
    );
    assert!(text(&obs["place"]["basis"]).contains("GNSS fix from exif.gps of ITM-000001"));
    // Without metadata and without a time, the observation is refused with what to give.
    ok(
        &env,
        "evidence register --case SYN-META --id EV-2 --kind document --source 'archive (test)'",
    );
    refused(
        &env,
        "evidence observe --case SYN-META EV-2 --shows text",
        "the observation needs a time",
    );
    verify_ok(&env);
}

#[test]
fn the_demo_meets_the_expected_checks_of_its_dataset() {
    let env = Env::new();
    let r = env.run_bare(&["demo", "d"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.starts_with("NOTICE: Demonstration data"),
        "the notice comes first"
    );
    for claim in ["CL-01", "CL-02", "CL-03", "CL-04"] {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(claim) && l.ends_with("OK")),
            "{claim} meets its expectation:\n{}",
            r.stdout
        );
    }
    assert!(r.stdout.contains("verification: OK"));

    let j = env.run_bare(&["demo", "d2", "--json"]);
    assert_eq!(j.code, 0, "{}", j.stderr);
    let j = j.json();
    assert!(text(&j["notice"]).starts_with("Demonstration data"));
    assert_eq!(j["expected_hold"], true);
    assert_eq!(j["verified"], true);
    let expected: Vec<(&str, &str)> = j["expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["holds"], true, "{e}");
            (text(&e["claim"]), text(&e["actual"]))
        })
        .collect();
    assert_eq!(
        expected,
        [
            ("CL-01", "contradicted"),
            ("CL-02", "contradicted"),
            ("CL-03", "inconclusive"),
            ("CL-04", "partially_supported"),
        ]
    );
    // The placeholders are real files in the vault, linked to their evidence records.
    let items = j["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    let video = items.iter().find(|i| i["evidence"] == "EV-09").unwrap();
    assert_eq!(video["kind"], "timecode video (APNG)");
    let list = env
        .run_bare(&["--vault", "d2/vault", "list", "--json"])
        .ok()
        .json();
    assert_eq!(list.as_array().unwrap().len(), 10);
    for i in list.as_array().unwrap() {
        assert_eq!(i["case"], "DEMO-CASE-BUCHA-2022");
        assert_eq!(i["collected_by"], "demo");
        assert!(text(&i["note"]).contains("generated placeholder"));
        assert_eq!(i["media_type"], "image/png");
    }
    let bytes = std::fs::read(env.path("d2/media/EV-09-video-apng.png")).unwrap();
    assert!(bytes.windows(4).any(|w| w == b"acTL"), "an animated PNG");
    let shown = env
        .run_bare(&[
            "--vault",
            "d2/vault",
            "case",
            "show",
            "DEMO-CASE-BUCHA-2022",
            "--json",
        ])
        .ok()
        .json();
    let ev = shown["case"]["evidence"].as_array().unwrap();
    let ev09 = ev.iter().find(|e| e["id"] == "EV-09").unwrap();
    assert_eq!(ev09["item"], video["item"]);
    // Everything is in the ledger: the vault verifies, and the checks run again.
    let v = env.run_bare(&["--vault", "d2/vault", "verify", "--full", "--json"]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    let checks = env
        .run_bare(&[
            "--vault",
            "d2/vault",
            "claims",
            "check",
            "--case",
            "DEMO-CASE-BUCHA-2022",
        ])
        .ok()
        .stdout;
    assert!(checks.starts_with("NOTICE: Demonstration data"), "{checks}");
    let rep = env
        .run_bare(&[
            "--vault",
            "d2/vault",
            "report",
            "forensic",
            "--case",
            "DEMO-CASE-BUCHA-2022",
            "--as-of",
            "2022-04-20",
        ])
        .ok()
        .stdout;
    assert!(rep.starts_with("NOTICE: "), "{rep}");
    assert!(
        rep.contains("6 recovered, 5 examined, 3 identified, 2 returned to family"),
        "{rep}"
    );
    // A second demo into the same directory is refused.
    assert_eq!(env.run_bare(&["demo", "d"]).code, 2);
}
