//! Deliberately damaged vaults: `custody verify` must find each damage, say exactly what
//! is wrong, and exit 1. The expected outputs are pinned.

use std::path::Path;

use crate::support::*;

/// A small vault with three items (two sharing bytes), a logged read and an annotation.
/// Everything in it is deterministic except times and the vault's random origin. Its
/// ledger: 0 vault.created, 1 key.created, 2 ITM-000001 collected, 3 its metadata,
/// 4 ITM-000002 collected, 5 its metadata, 6 ITM-000003 collected (same bytes as
/// ITM-000001, so no new metadata), 7 ITM-000002 read, 8 ITM-000002 annotated.
/// Checkpoints: 2, 7, 8, 9.
fn fixture() -> Env {
    let env = Env::new();
    env.init();
    env.write("in/a.bin", &bytes(11, 300_000));
    env.write("in/b.txt", b"synthetic field note\n");
    env.write("in/c.bin", &bytes(11, 300_000));
    env.run(&[
        "ingest",
        "in",
        "--case",
        "CASE-1",
        "--collected-by",
        "Investigator 7",
    ])
    .ok();
    env.run(&["get", "ITM-000002", "--out", "read.txt"]).ok();
    env.run(&["annotate", "ITM-000002", "checked"]).ok();
    env
}

fn verify(env: &Env, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["verify", "--full"];
    args.extend_from_slice(extra);
    let r = env.run(&args);
    (r.code, env.normalise(&r.stdout))
}

fn edit_line(path: &Path, line: usize, f: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[line] = f(std::mem::take(&mut lines[line]));
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn the_fixture_verifies() {
    let env = fixture();
    let (code, out) = verify(&env, &[]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_changed_byte_in_a_blob() {
    let env = fixture();
    let hex = sha256_hex(&bytes(11, 300_000));
    let a = &hex[..16];
    let blob = blob_path(&env.path("vault"), &hex);
    make_writable(&blob);
    let mut b = std::fs::read(&blob).unwrap();
    b[123_456] ^= 0x01;
    std::fs::write(&blob, &b).unwrap();
    let damaged = &sha256_hex(&b)[..16];
    let (code, out) = verify(&env, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        format!(
            "FAILED: 1 problem found\n  blob: blob {a} of ITM-000001, ITM-000003 is damaged: its bytes now hash to {damaged} (vault/blobs/sha256/{}/{}/{hex})\n\
             checked 9 ledger entries, 4 checkpoints, 0 timestamps, 3 items, 2 blobs, 300.0 kB re-hashed\n\
             this verification is recorded as ledger entry 9\n",
            &hex[..2],
            &hex[2..4],
        )
    );
}

#[test]
fn a_missing_blob() {
    let env = fixture();
    let hex = sha256_hex(b"synthetic field note\n");
    std::fs::remove_file(blob_path(&env.path("vault"), &hex)).unwrap();
    let (code, out) = verify(&env, &[]);
    assert_eq!(code, 1);
    let first = out.lines().nth(1).unwrap();
    assert_eq!(
        first,
        format!(
            "  blob: blob {} of ITM-000002 is missing from the blob store (vault/blobs/sha256/{}/{}/{hex})",
            &hex[..16],
            &hex[..2],
            &hex[2..4]
        )
    );
}

#[test]
fn an_edited_catalog_row() {
    let env = fixture();
    catalog(
        &env,
        "UPDATE items SET collected_by = 'Someone else', size = 7 WHERE id = 'ITM-000003'",
    );
    let (code, out) = verify(&env, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().take(2).collect::<Vec<_>>(),
        [
            "FAILED: 1 problem found",
            "  catalog: catalog row items/ITM-000003 differs from the ledger: collected_by: catalog has \"Someone else\", ledger says \"Investigator 7\"; size: catalog has 7, ledger says 300000",
        ]
    );
}

#[test]
fn a_deleted_and_an_invented_catalog_row() {
    let env = fixture();
    catalog(&env, "DELETE FROM annotations");
    catalog(
        &env,
        "INSERT INTO items (id, number, sha256, size, media_type, original_name, original_path, ingested_at, actor, ledger_seq) \
         VALUES ('ITM-000009', 9, 'aa', 1, 'x', 'x', 'x', '2026-01-01T00:00:00.000000Z', 'x', 99)",
    );
    let (code, out) = verify(&env, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().take(3).collect::<Vec<_>>(),
        [
            "FAILED: 2 problems found",
            "  catalog: catalog row annotations/8 is missing (the ledger records it)",
            "  catalog: catalog row items/ITM-000009 is not explained by any ledger entry",
        ]
    );
}

#[test]
fn an_edited_ledger_entry() {
    let env = fixture();
    edit_line(&env.path("vault/ledger/entries.jsonl"), 4, |l| {
        l.replace("Investigator 7", "Investigator 9")
    });
    let (code, out) = verify(&env, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "FAILED: 4 problems found\n\
         \x20 checkpoint: checkpoint 7 does not match the ledger: entries 0..6 were changed, removed or reordered since it was signed (entries that differ from what was indexed when written: 4)\n\
         \x20 checkpoint: checkpoint 8 does not match the ledger: entries 0..7 were changed, removed or reordered since it was signed (entries that differ from what was indexed when written: 4)\n\
         \x20 checkpoint: checkpoint 9 does not match the ledger: entries 0..8 were changed, removed or reordered since it was signed (entries that differ from what was indexed when written: 4)\n\
         \x20 catalog: catalog row items/ITM-000002 differs from the ledger: collected_by: catalog has \"Investigator 7\", ledger says \"Investigator 9\"\n\
         checked 9 ledger entries, 4 checkpoints, 0 timestamps, 3 items, 2 blobs, 300.0 kB re-hashed\n"
    );
}

#[test]
fn a_removed_ledger_entry() {
    let env = fixture();
    let path = env.path("vault/ledger/entries.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 5)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    let (code, out) = verify(&env, &[]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[1],
        "  ledger: ledger entry 5 is malformed: its sequence number is 6 but it stands at position 5"
    );
    assert!(lines.contains(&"  checkpoint: checkpoint 9 covers 9 entries but the ledger holds only 8: entry 8 was removed"), "{out}");
    assert!(lines.contains(&"  catalog: the catalog reflects 9 ledger entries but the ledger holds only 8: entries were removed from the ledger"), "{out}");
    assert!(
        !out.contains("recorded as ledger entry"),
        "nothing is written to a damaged ledger"
    );
}

#[test]
fn the_last_ledger_entry_and_checkpoint_removed_is_caught_by_a_published_checkpoint() {
    let env = fixture();
    let published = env.run(&["log", "checkpoint"]).ok().stdout;
    std::fs::write(env.path("published.cp"), &published).unwrap();
    // Cut the ledger back by one entry and delete every trace of the newer checkpoint.
    let path = env.path("vault/ledger/entries.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text.lines().take(8).collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    std::fs::remove_file(env.path("vault/ledger/checkpoints/00000000000000000009")).unwrap();
    catalog(
        &env,
        "DELETE FROM events WHERE seq = 8; DELETE FROM annotations WHERE seq = 8; UPDATE catalog_state SET applied_seq = 7",
    );
    // A third party who kept the published checkpoint sees the cut.
    let (code, out) = verify(&env, &["--checkpoint", "published.cp"]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().take(2).collect::<Vec<_>>(),
        [
            "FAILED: 1 problem found",
            "  checkpoint: published.cp: it covers 9 entries but the ledger holds only 8: the ledger was cut back",
        ]
    );
    // On its own the shortened vault is self-consistent, and this verification is
    // appended as a new entry 6...
    let (code, out) = verify(&env, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("recorded as ledger entry 8"), "{out}");
    // ...which the published checkpoint still exposes as rewritten history.
    let (code, out) = verify(&env, &["--checkpoint", "published.cp"]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().nth(1).unwrap(),
        "  checkpoint: published.cp: the ledger is not consistent with this checkpoint of size 9: its history was rewritten"
    );
}

#[test]
fn reordered_ledger_entries() {
    let env = fixture();
    let path = env.path("vault/ledger/entries.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(2, 3);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let (code, out) = verify(&env, &[]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[1],
        "  ledger: ledger entry 2 is malformed: its sequence number is 3 but it stands at position 2"
    );
    assert_eq!(
        lines[2],
        "  ledger: ledger entry 3 is malformed: its sequence number is 2 but it stands at position 3"
    );
    assert!(
        out.contains("checkpoint 7 does not match the ledger"),
        "{out}"
    );
}

#[test]
fn a_bad_checkpoint_signature() {
    let env = fixture();
    let path = env.path("vault/ledger/checkpoints/00000000000000000007");
    let note = std::fs::read_to_string(&path).unwrap();
    // Flip one character of the base64 signature (after the key id).
    let at = note.rfind(' ').unwrap() + 12;
    let mut b = note.into_bytes();
    b[at] = if b[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&path, b).unwrap();
    let (code, out) = verify(&env, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().take(2).collect::<Vec<_>>(),
        [
            "FAILED: 1 problem found",
            "  checkpoint: checkpoint 7: signature does not verify: the signature by custody/test-unit/ORIGIN does not match the note text",
        ]
    );
}

#[test]
fn a_checkpoint_signed_by_another_key() {
    let env = fixture();
    let other = Env::new();
    other.init();
    let foreign =
        std::fs::read_to_string(other.path("vault/ledger/checkpoints/00000000000000000002"))
            .unwrap();
    std::fs::write(
        env.path("vault/ledger/checkpoints/00000000000000000002"),
        foreign,
    )
    .unwrap();
    let (code, out) = verify(&env, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().nth(1).unwrap(),
        "  checkpoint: checkpoint 2: signature does not verify: the note carries no signature by custody/test-unit/ORIGIN"
    );
}

#[test]
fn a_replaced_signing_key() {
    let env = fixture();
    let key = env.path("vault/keys/ledger.key");
    make_writable(&key);
    std::fs::write(&key, format!("{}\n", "11".repeat(32))).unwrap();
    let (code, out) = verify(&env, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().nth(1).unwrap(),
        "  key: keys/ledger.key does not match keys/ledger.vkey"
    );
}

#[test]
fn a_destroyed_catalog_is_rebuilt_from_the_ledger() {
    let env = fixture();
    let before = env.run(&["list", "--json"]).ok().json();
    std::fs::write(env.path("vault/catalog.sqlite"), b"this is not a database").unwrap();
    let _ = std::fs::remove_file(env.path("vault/catalog.sqlite-wal"));
    let _ = std::fs::remove_file(env.path("vault/catalog.sqlite-shm"));
    let broken = env.run(&["list"]);
    broken.refused("`custody catalog rebuild` recreates it from the ledger");

    let out = env.run(&["catalog", "rebuild"]).ok();
    assert!(
        out.stdout.contains(
            "catalog rebuilt from 9 ledger entries (3 items); recorded as ledger entry 9"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("the previous catalog is kept as"),
        "{}",
        out.stdout
    );
    assert_eq!(env.run(&["list", "--json"]).ok().json(), before);
    let (code, out) = verify(&env, &[]);
    assert_eq!(code, 0, "{out}");
    let entry = env.run(&["log", "entry", "9"]).ok().json();
    assert_eq!(entry["action"], "catalog.rebuilt");
}

#[test]
fn the_catalog_is_not_rebuilt_from_a_tampered_ledger() {
    let env = fixture();
    edit_line(&env.path("vault/ledger/entries.jsonl"), 4, |l| {
        l.replace("Investigator 7", "Investigator 9")
    });
    let out = env.run(&["catalog", "rebuild"]);
    out.refused("the entries differ from what the checkpoint signed");
}

/// Entries no checkpoint covered (a command stopped before signing one, or someone
/// wrote to the ledger file without the key) are signed when verify opens the vault,
/// and its report names them, in text and in JSON.
#[test]
fn entries_signed_only_by_verifys_own_recovery_are_named() {
    let env = Env::new();
    env.init();
    env.write("in/a.bin", b"synthetic");
    env.run(&["ingest", "in"]).ok();
    remove_latest_checkpoint(&env);
    let v = env.run(&["verify", "--json"]).ok().json();
    assert_eq!(v["ok"], true, "{v}");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("entries 2..3 were covered by no checkpoint until this verification"),
        "{notes}"
    );
    // Signed now: the next verification has nothing to say of them.
    let again = env.run(&["verify"]).ok().stdout;
    assert!(!again.contains("covered by no checkpoint"), "{again}");
}
