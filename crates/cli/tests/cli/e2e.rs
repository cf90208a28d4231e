//! The commands a user runs, end to end, as the issue lists them.

use crate::support::*;

#[test]
fn init_ingest_list_show_get_verify_and_log() {
    let env = Env::new();
    let out = env
        .run_bare(&["init", "vault", "--name", "Kyiv region documentation unit"])
        .ok();
    assert!(
        out.stdout
            .contains("created vault \"Kyiv region documentation unit\""),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("custody/kyiv-region-documentation-unit/")
    );

    let photo = bytes(1, 250_000);
    env.write(
        "field-photos/IMG_0001.JPG",
        &[b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".as_slice(), &photo].concat(),
    );
    env.write("field-photos/day2/IMG_0002.JPG", &bytes(2, 40_000));
    env.write("report.pdf", b"%PDF-1.4\n% synthetic report\n");
    let out = env
        .run(&[
            "ingest",
            "field-photos",
            "report.pdf",
            "--case",
            "BUCHA-2022",
            "--collected-by",
            "Investigator 7",
            "--source",
            "OPG mobile team",
            "--method",
            "copied from SD card",
            "--note",
            "Yablunska St, 2 April",
            "--json",
        ])
        .ok();
    let summary = out.json();
    assert_eq!(summary["ingested"], 3);
    assert_eq!(summary["failed"], 0);
    let files = summary["files"].as_array().unwrap();
    // Items are numbered in the order the inputs were walked.
    assert_eq!(files[0]["item"], "ITM-000001");
    assert!(files[0]["path"].as_str().unwrap().ends_with("IMG_0001.JPG"));
    assert_eq!(files[0]["media_type"], "image/jpeg");
    assert_eq!(
        files[2]["media_type"], "application/pdf",
        "type comes from content"
    );
    assert_eq!(files[1]["media_type"], "application/octet-stream");

    let list = env
        .run(&["list", "--case", "BUCHA-2022", "--json"])
        .ok()
        .json();
    assert_eq!(list.as_array().unwrap().len(), 3);
    let item = &list[0];
    assert_eq!(item["collected_by"], "Investigator 7");
    assert_eq!(item["source"], "OPG mobile team");
    assert_eq!(item["method"], "copied from SD card");
    assert_eq!(item["note"], "Yablunska St, 2 April");
    assert_eq!(item["original_name"], "IMG_0001.JPG");
    assert!(
        item["original_path"]
            .as_str()
            .unwrap()
            .ends_with("field-photos/IMG_0001.JPG")
    );
    assert!(item["fs"]["modified"].is_string());
    assert_eq!(item["actor"], "tester@lab");
    assert!(
        env.run(&["list", "--case", "OTHER", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );

    // show by id and by digest prefix give the same item
    let digest = item["sha256"].as_str().unwrap().to_owned();
    let by_id = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    let by_prefix = env.run(&["show", &digest[..8], "--json"]).ok().json();
    assert_eq!(by_id["item"], by_prefix["item"]);
    assert_eq!(by_id["history"][0]["action"], "item.collected");
    let seq = by_id["ledger"]["collected_entry"].as_u64().unwrap();
    assert_eq!(seq, 2, "entries 0 and 1 create the vault and its key");
    let human = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(human.contains("collected by  Investigator 7"), "{human}");
    assert!(human.contains("custody history:"));

    // get: bytes back, verified, and the read is logged
    let out = env
        .run(&[
            "get",
            "ITM-000001",
            "--out",
            "copy.jpg",
            "--purpose",
            "expert examination",
        ])
        .ok();
    assert!(
        out.stdout.contains("read logged as ledger entry"),
        "{}",
        out.stdout
    );
    assert_eq!(
        std::fs::read(env.path("copy.jpg")).unwrap(),
        std::fs::read(env.path("field-photos/IMG_0001.JPG")).unwrap()
    );
    let shown = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    let read = action(&shown, "item.read");
    assert_eq!(read["action"], "item.read");
    assert_eq!(read["details"]["purpose"], "expert examination");
    assert!(
        read["details"]["destination"]
            .as_str()
            .unwrap()
            .ends_with("copy.jpg")
    );
    // no silent overwrite
    let again = env.run(&["get", "ITM-000001", "--out", "copy.jpg"]);
    again.refused("already exists");

    let v = env.run(&["verify", "--full"]).ok();
    assert!(
        v.stdout.starts_with("OK: the vault verifies"),
        "{}",
        v.stdout
    );
    assert!(v.stdout.contains("3 items, 3 blobs"), "{}", v.stdout);

    // log: checkpoint, key, entry, proofs — and they check out with the ledger crate
    let cp = env.run(&["log", "checkpoint"]).ok().stdout;
    let vkey = env.run(&["log", "key"]).ok().stdout;
    let verifier = custody_ledger::Verifier::from_vkey(vkey.trim()).unwrap();
    let checkpoint = custody_ledger::Checkpoint::open(&cp, &verifier).unwrap();
    let raw = env
        .command()
        .args([
            "--vault",
            "vault",
            "log",
            "entry",
            &seq.to_string(),
            "--raw",
        ])
        .output()
        .unwrap();
    assert!(raw.status.success());
    assert!(
        !raw.stdout.ends_with(b"\n"),
        "--raw prints the exact entry bytes"
    );
    let proof: custody_ledger::InclusionProof =
        serde_json::from_str(&env.run(&["log", "prove", &seq.to_string()]).ok().stdout).unwrap();
    assert_eq!(proof.tree_size, checkpoint.size);
    proof.verify(&raw.stdout, &checkpoint.root).unwrap();
    let pretty = env.run(&["log", "entry", &seq.to_string()]).ok().json();
    assert_eq!(pretty["action"], "item.collected");
    assert_eq!(pretty["item"], "ITM-000001");

    let sizes: Vec<u64> =
        serde_json::from_str(&env.run(&["log", "checkpoints", "--json"]).ok().stdout).unwrap();
    assert!(sizes.len() >= 3);
    let old = sizes[0];
    let old_cp = env
        .run(&["log", "checkpoint", "--size", &old.to_string()])
        .ok()
        .stdout;
    let old_cp = custody_ledger::Checkpoint::open(&old_cp, &verifier).unwrap();
    let cons: custody_ledger::ConsistencyProof = serde_json::from_str(
        &env.run(&[
            "log",
            "consistency",
            &old.to_string(),
            &checkpoint.size.to_string(),
        ])
        .ok()
        .stdout,
    )
    .unwrap();
    cons.verify(&old_cp.root, &checkpoint.root).unwrap();
}

#[test]
fn a_second_collection_of_the_same_bytes_is_its_own_custody_event_but_stored_once() {
    let env = Env::new();
    env.init();
    let data = bytes(7, 100_000);
    env.write("a/x.bin", &data);
    env.write("b/y.bin", &data);
    env.run(&["ingest", "a", "--collected-by", "first"]).ok();
    let out = env.run(&["ingest", "b", "--collected-by", "second"]).ok();
    assert!(
        out.stdout.contains("(same bytes as ITM-000001)"),
        "{}",
        out.stdout
    );
    let list = env.run(&["list", "--json"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["sha256"], list[1]["sha256"]);
    assert_eq!(list[1]["duplicate_of"], "ITM-000001");
    let blobs: Vec<_> = walk(&env.path("vault/blobs"))
        .into_iter()
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(blobs.len(), 1, "one copy of the bytes");
    let both = env.run(&["show", &sha256_hex(&data)[..12]]);
    assert_eq!(both.code, 2, "a prefix shared by two items is ambiguous");
    assert!(
        both.stderr.contains("ITM-000001, ITM-000002"),
        "{}",
        both.stderr
    );
    env.run(&["verify", "--full"]).ok();
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `ingest --resume` skips what this vault already collected from the same path, size
/// and modification time, naming the item; a file changed since, or new, goes in.
#[test]
fn resume_skips_what_was_already_collected() {
    let env = Env::new();
    env.init();
    env.write("dump/a.txt", b"first\n");
    env.write("dump/b.txt", b"second\n");
    env.run(&["ingest", "dump"]).ok();
    env.write("dump/c.txt", b"third\n");
    // Rewritten since (a new modification time, the same size).
    std::thread::sleep(std::time::Duration::from_millis(20));
    env.write("dump/b.txt", b"SECOND\n");
    let r = env
        .run(&["ingest", "--resume", "dump", "--json"])
        .ok()
        .json();
    assert_eq!(
        (r["ingested"].as_u64(), r["skipped"].as_u64()),
        (Some(2), Some(1)),
        "{r}"
    );
    let skipped = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["outcome"] == "skipped" || f.get("reason").is_some())
        .unwrap();
    assert!(
        skipped["path"].as_str().unwrap().ends_with("dump/a.txt"),
        "{r}"
    );
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("already collected as ITM-000001 (same path, size and modification time"),
        "{r}"
    );
    // Another case: its items are not this case's, so nothing is skipped.
    let r = env
        .run(&["ingest", "--resume", "dump", "--case", "OTHER", "--json"])
        .ok()
        .json();
    assert_eq!(r["ingested"].as_u64(), Some(3), "{r}");
    // Without --resume every file is collected again.
    let r = env.run(&["ingest", "dump", "--json"]).ok().json();
    assert_eq!(r["ingested"].as_u64(), Some(3), "{r}");

    // A link that now leads to another folder never hides a different file, even one
    // of the same size and time.
    env.write("one/f.txt", b"first version\n");
    env.write("two/f.txt", b"other version\n");
    let stamp = std::fs::metadata(env.path("one/f.txt"))
        .unwrap()
        .modified()
        .unwrap();
    std::fs::File::options()
        .write(true)
        .open(env.path("two/f.txt"))
        .unwrap()
        .set_modified(stamp)
        .unwrap();
    std::os::unix::fs::symlink("one", env.path("link")).unwrap();
    env.run(&["ingest", "link/f.txt"]).ok();
    std::fs::remove_file(env.path("link")).unwrap();
    std::os::unix::fs::symlink("two", env.path("link")).unwrap();
    let r = env
        .run(&["ingest", "--resume", "link/f.txt", "--json"])
        .ok()
        .json();
    assert_eq!(r["ingested"].as_u64(), Some(1), "{r}");
    env.run(&["verify"]).ok();
}

#[test]
fn annotations_are_ledger_entries_and_show_in_history() {
    let env = Env::new();
    env.init();
    env.write("f.txt", b"witness statement (synthetic)\n");
    env.run(&["ingest", "f.txt"]).ok();
    env.run(&["annotate", "ITM-000001", "translated by W. Analyst"])
        .ok();
    let shown = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    assert_eq!(shown["annotations"][0]["note"], "translated by W. Analyst");
    assert_eq!(
        action(&shown, "item.annotated")["details"]["note"],
        "translated by W. Analyst"
    );
    env.run(&["verify"]).ok();
}

#[test]
fn vault_is_found_from_the_environment_or_an_enclosing_directory() {
    let env = Env::new();
    env.init();
    let out = env
        .command()
        .env("CUSTODY_VAULT", "vault")
        .args(["list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    Run::of(
        env.command()
            .current_dir(env.path("vault/ledger"))
            .args(["log", "key"]),
    )
    .ok();
    let none = env
        .command()
        .current_dir("/")
        .args(["list"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no vault selected"));
}

#[test]
fn help_explains_every_flag() {
    let env = Env::new();
    let out = env.run_bare(&["ingest", "--help"]).ok();
    for flag in [
        "--case",
        "--collected-by",
        "--source",
        "--method",
        "--note",
        "--follow-symlinks",
        "--json",
        "--vault",
    ] {
        assert!(
            out.stdout.contains(flag),
            "--help lacks {flag}:\n{}",
            out.stdout
        );
    }
}

/// The first history entry of an item with this action.
fn action<'a>(shown: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["action"] == name)
        .unwrap_or_else(|| panic!("no {name} in {}", shown["history"]))
}
