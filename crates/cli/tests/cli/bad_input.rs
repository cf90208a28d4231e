//! Bad input: each problem gets a clear message, a non-zero exit, nothing half-written,
//! and the rest of the batch is still ingested.

use std::os::unix::ffi::OsStrExt;

use crate::support::*;

fn staging_is_empty(env: &Env) {
    let left: Vec<_> = std::fs::read_dir(env.path("vault/staging"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "staging must be empty, found {left:?}");
}

#[test]
fn problems_are_reported_per_file_and_the_rest_is_ingested() {
    let env = Env::new();
    env.init();
    env.write("in/good.bin", &bytes(1, 5000));
    env.write("in/empty", b"");
    env.write("in/target.txt", b"pointed to\n");
    std::os::unix::fs::symlink("target.txt", env.path("in/link")).unwrap();
    mkfifo(&env.path("in/pipe"));
    // A file the kernel refuses to read from offset 0.
    let out = env.run(&[
        "ingest",
        "in",
        "in/good.bin",
        "missing.bin",
        "/proc/self/mem",
    ]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let s = &out.stdout;
    assert!(
        s.contains("skipped  in/link: is a symbolic link; not followed (pass --follow-symlinks"),
        "{s}"
    );
    assert!(
        s.contains("FAILED   in/pipe: is a named pipe, not a regular file"),
        "{s}"
    );
    assert!(
        s.contains("FAILED   missing.bin: cannot read: no such file or directory"),
        "{s}"
    );
    assert!(
        s.contains("FAILED   /proc/self/mem: reading failed part-way"),
        "{s}"
    );
    assert!(
        s.contains("skipped  in/good.bin: same file as in/good.bin (given twice); ingested once"),
        "{s}"
    );
    assert!(
        s.contains("application/x-empty"),
        "empty files are ingested: {s}"
    );
    assert!(s.contains("3 ingested"), "{s}");
    staging_is_empty(&env);
    env.run(&["verify", "--full"]).ok();

    let followed = env.run(&["ingest", "in/link", "--follow-symlinks"]).ok();
    assert!(
        followed.stdout.contains("text/plain"),
        "{}",
        followed.stdout
    );
}

/// Makes a named pipe with the mkfifo tool.
fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn non_utf8_names_keep_their_exact_bytes() {
    let env = Env::new();
    env.init();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9 report.txt");
    std::fs::write(env.dir.path().join(name), b"latin-1 named file\n").unwrap();
    Run::of(env.command().args(["--vault", "vault", "ingest"]).arg(name)).ok();

    let list = env.run(&["list", "--json"]).ok().json();
    let item = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["size"] == 19)
        .expect("the file was ingested");
    assert_eq!(item["original_name"], "caf\u{FFFD} report.txt");
    let seq = item["ledger_seq"].as_u64().unwrap();
    let entry = env.run(&["log", "entry", &seq.to_string()]).ok().json();
    let hex = entry["details"]["original_path_hex"]
        .as_str()
        .expect("exact bytes are kept");
    assert!(hex.ends_with(&hex::encode(b"caf\xe9 report.txt")), "{hex}");
}

/// A seized file named to forge output (a line break, a terminal escape that erases
/// the line) is listed on one line with those characters shown, and kept exactly.
#[test]
fn names_cannot_forge_lines_of_text_output() {
    let env = Env::new();
    env.init();
    let name = "photo\u{1b}[2K\rITM-000099 forged\nline.txt";
    env.write(&format!("in/{name}"), b"forged name\n");
    let ingest = env.run(&["ingest", "in"]).ok().stdout;
    let list = env.run(&["list"]).ok().stdout;
    let show = env.run(&["show", "ITM-000001"]).ok().stdout;
    for out in [&ingest, &list, &show] {
        assert!(
            out.contains("photo\\u{1b}[2K\\u{d}ITM-000099 forged\\u{a}line.txt"),
            "{out}"
        );
        assert!(!out.contains('\u{1b}') && !out.contains('\r'), "{out:?}");
    }
    assert_eq!(list.lines().count(), 2, "header and one item: {list}");
    let json = env.run(&["list", "--json"]).ok().json();
    assert_eq!(json[0]["original_name"], name);
}

/// `CUSTODY_VAULT=` (set to nothing) is named as the cause, not an option never typed.
#[test]
fn an_empty_vault_variable_is_named() {
    let env = Env::new();
    let r = Run::of(env.command().env("CUSTODY_VAULT", "").arg("list"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("CUSTODY_VAULT is set but empty; set it to a value, or unset it"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_directory_that_is_not_a_vault() {
    let env = Env::new();
    std::fs::create_dir(env.path("vault")).unwrap();
    let out = env.run(&["list"]);
    out.refused(
        "vault is not a Custody vault (no vault.json); create one with `custody init --name NAME vault`",
    );
    let out = env.run_bare(&["init", "vault", "--name", "x"]);
    assert_eq!(
        out.code, 0,
        "an empty directory may become a vault: {}",
        out.stderr
    );
    let out = env.run_bare(&["init", "vault", "--name", "x"]);
    out.refused("already holds a vault or other files");
}

#[test]
fn a_second_writer_is_refused_with_a_clear_message() {
    let env = Env::new();
    env.init();
    env.write("f.bin", b"x");
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(env.path("vault/lock"))
        .unwrap();
    lock.try_lock().unwrap();
    std::fs::write(
        env.path("vault/lock"),
        b"pid 4242: custody ingest elsewhere",
    )
    .unwrap();
    let out = env.run(&["ingest", "f.bin"]);
    out.refused("is in use by another custody process (pid 4242: custody ingest elsewhere); wait for it to finish");
    // Readers are not blocked.
    env.run(&["list"]).ok();
    drop(lock);
    env.run(&["ingest", "f.bin"]).ok();
}

#[test]
fn bad_item_references_say_what_to_do() {
    let env = Env::new();
    env.init();
    let out = env.run(&["show", "ITM-000099"]);
    out.refused("no item matches \"ITM-000099\"; `custody list` shows the items");
    let out = env.run(&["show", "xyz"]);
    assert!(
        out.stderr
            .contains("neither an item id (ITM-000042) nor a SHA-256 prefix"),
        "{}",
        out.stderr
    );
    let out = env.run(&["log", "entry", "999"]);
    assert!(
        out.stderr
            .contains("ledger entry 999 does not exist (the ledger holds 2 entries)"),
        "{}",
        out.stderr
    );
    let out = env.run(&["log", "prove", "5"]);
    assert!(
        out.stderr.contains("entry 5 is not in a tree of size 2"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_full_disk_fails_the_file_cleanly_and_keeps_the_vault_valid() {
    // Needs a small file system of its own: a tmpfs mount (root only).
    let env = Env::new();
    let mnt = env.path("small");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=6m", "tmpfs"])
        .arg(&mnt)
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("skipped: cannot mount a small tmpfs here (needs root)");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mnt.clone());
    let out = env
        .run_bare(&["init", "small/vault", "--name", "Small"])
        .ok();
    drop(out);
    env.write("in/big.bin", &bytes(5, 8 << 20));
    let mut args = vec!["--vault", "small/vault", "ingest", "in/big.bin"];
    let smalls: Vec<String> = (0..6).map(|i| format!("in/small{i}.bin")).collect();
    for (i, s) in smalls.iter().enumerate() {
        env.write(s, &bytes(60 + i as u64, 10_000));
        args.push(s);
    }
    let out = env.run_bare(&args);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let full = "the vault's disk is full; free space and ingest this file again";
    assert!(
        out.stdout.contains(&format!("FAILED   in/big.bin: {full}")),
        "{}",
        out.stdout
    );
    // Two workers copy at once, so a small file written while the big one filled the disk
    // may fail too (more of them on a loaded machine); every failure must be the
    // disk-full one, and the rest goes in.
    let failures: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("FAILED"))
        .collect();
    assert!(failures.iter().all(|l| l.ends_with(full)), "{}", out.stdout);
    let ingested = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("ingested"))
        .count();
    assert!(
        ingested >= 1 && ingested + failures.len() == 7,
        "the rest of the batch goes in: {}",
        out.stdout
    );
    let left: Vec<_> = std::fs::read_dir(mnt.join("vault/staging"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "no partial copy left: {left:?}");
    let v = env.run_bare(&["--vault", "small/vault", "verify", "--full"]);
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);
    // As the message says: with the space free again, each small file failed goes in.
    let retry: Vec<&str> = failures
        .iter()
        .filter_map(|l| l.strip_prefix("FAILED   ")?.split(':').next())
        .filter(|f| *f != "in/big.bin")
        .collect();
    if !retry.is_empty() {
        let again = env.run_bare(&[&["--vault", "small/vault", "ingest"][..], &retry].concat());
        assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
        for f in &retry {
            assert!(again.stdout.contains(&format!(" {f}")), "{}", again.stdout);
        }
    }
}

#[test]
fn the_vault_itself_is_never_ingested() {
    let env = Env::new();
    env.init();
    env.write("notes/a.txt", b"synthetic note\n");
    let out = env.run(&["ingest", "."]).ok();
    assert!(
        out.stdout.contains(
            "skipped  ./vault: is the vault itself; a vault is never ingested into itself"
        ),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("entries.jsonl"), "{}", out.stdout);
    assert!(out.stdout.contains("1 ingested"), "{}", out.stdout);
    let out = env.run(&["ingest", "vault"]).ok();
    assert!(out.stdout.contains("0 ingested"), "{}", out.stdout);
}

/// `custody list | head -1`, `custody ingest DIR | head -1`: the reader goes away before
/// the output is written. The command is not cut short and does not panic: an ingest
/// still takes every file, and the status is the command's own.
#[test]
fn a_closed_output_pipe_neither_panics_nor_cuts_the_command_short() {
    let env = Env::new();
    env.init();
    for i in 0..20 {
        env.write(&format!("in/{i:02}.bin"), &bytes(i, 100 + i as usize));
    }
    let closed = |args: &[&str]| {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = env
            .command()
            .args(["--vault", "vault"])
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("run custody");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = closed(&["ingest", "in"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let listed = env.run(&["list", "--json"]).ok().json();
    assert_eq!(
        listed.as_array().unwrap().len(),
        20,
        "every file was ingested"
    );
    env.run(&["verify"]).ok();
    for args in [&["list"][..], &["list", "--json"][..]] {
        let (code, stderr) = closed(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: quiet, got {stderr}");
    }
    // Any other failed write (here: no space left) is reported, with status 2.
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        let out = env
            .command()
            .args(["--vault", "vault", "list"])
            .stdout(full)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("run custody");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("cannot write to standard output"),
            "{stderr}"
        );
    }
}

/// An empty folder is said to be empty; a digest prefix shared by copies of the same bytes
/// asks for the item id rather than more digits.
#[test]
fn empty_folders_and_same_bytes_prefixes_are_explained() {
    let env = Env::new();
    env.init();
    std::fs::create_dir_all(env.path("nothing/here")).unwrap();
    let r = env.run(&["ingest", "nothing"]).ok();
    assert!(
        r.stderr
            .contains("no files were found under nothing; nothing was ingested"),
        "{}",
        r.stderr
    );
    let data = bytes(3, 2000);
    env.write("a/one.bin", &data);
    env.write("b/two.bin", &data);
    env.run(&["ingest", "a"]).ok();
    env.run(&["ingest", "b"]).ok();
    let prefix = &sha256_hex(&data)[..8];
    let r = env.run(&["show", prefix]);
    r.refused("shared by 2 items holding the same bytes");
    r.refused("give the item id");
    // Extraction works on the bytes, so there the prefix names them well enough.
    let r = env.run(&["extract", prefix, "--json"]).ok().json();
    assert_eq!(r["up_to_date"], 1, "{r}");
}
