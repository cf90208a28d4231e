//! Hand-over packages end to end: export → bagit-python → sha256sum → openssl →
//! verify-package → import into a second vault → verify there; every tamper kind; bad
//! packages refused with nothing written; redaction.

use std::path::{Path, PathBuf};
use std::process::Command;

use custody_testkit::tsa::LocalTsa;
use sha2::Digest as _;

use crate::support::*;

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A synthetic, non-graphic image: a grey gradient with a darker square.
fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let v = (40 + (x * 150 / w) as u8).wrapping_add((y % 7) as u8);
        if (20..60).contains(&x) && (20..60).contains(&y) {
            image::Rgb([30, 30, 30])
        } else {
            image::Rgb([v, v, v])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

struct Sent {
    env: Env,
    tsa: Option<LocalTsa>,
    vkey: String,
}

/// A vault with three items in case C-1, numbered in walk order: ITM-000001
/// capture.bin (entries 2, 3), ITM-000002 notes/statement.txt (4, 5), ITM-000003
/// photo.png (6, 7); the photo read (8), the statement annotated (9); optionally
/// timestamped; exported to `pkg`.
fn sent(stamp: bool) -> Sent {
    let env = Env::new();
    env.init();
    env.write("in/photo.png", &png(120, 80));
    env.write(
        "in/notes/statement.txt",
        "Synthetic statement, 2 квітня\n".as_bytes(),
    );
    env.write("in/capture.bin", &bytes(9, 200_000));
    env.run(&[
        "ingest",
        "in",
        "--case",
        "C-1",
        "--collected-by",
        "Investigator 7",
    ])
    .ok();
    env.run(&[
        "get",
        "ITM-000003",
        "--out",
        "copy.png",
        "--purpose",
        "review",
    ])
    .ok();
    env.run(&["annotate", "ITM-000002", "checked against the field log"])
        .ok();
    let tsa = if stamp && custody_testkit::pki::openssl_available() {
        let tsa = LocalTsa::start();
        let root = tsa.root.cert.to_str().unwrap().to_owned();
        env.run(&["timestamp", "--tsa", tsa.url(), "--roots", &root])
            .ok();
        Some(tsa)
    } else {
        None
    };
    let vkey = env.run(&["log", "key"]).ok().stdout.trim().to_owned();
    env.run(&["export", "--case", "C-1", "--out", "pkg"]).ok();
    Sent { env, tsa, vkey }
}

fn verify_pkg(env: &Env, extra: &[&str]) -> Run {
    let mut args = vec!["verify-package", "pkg"];
    args.extend_from_slice(extra);
    env.run_bare(&args)
}

#[test]
fn export_validates_everywhere_and_imports_into_another_vault() {
    let s = sent(true);
    let env = &s.env;
    let pkg = env.path("pkg");
    for f in [
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
        "tagmanifest-sha256.txt",
        "report.html",
        "custody/checkpoint",
        "custody/vkey",
        "custody/items.json",
    ] {
        assert!(pkg.join(f).is_file(), "{f} missing");
    }
    let info = std::fs::read_to_string(pkg.join("bag-info.txt")).unwrap();
    for label in [
        "Source-Organization: Test unit",
        "Payload-Oxum: ",
        "Bagging-Date: ",
        "External-Identifier: ",
        "Contact-Name: tester@lab",
        "Custody-Case: C-1",
    ] {
        assert!(info.contains(label), "bag-info lacks {label}:\n{info}");
    }
    let report = std::fs::read_to_string(pkg.join("report.html")).unwrap();
    assert!(
        report.contains("ITM-000002")
            && report.contains("note added: checked against the field log"),
        "report.html lacks the timeline"
    );
    assert!(report.contains("sha256sum -c manifest-sha256.txt"));

    // Other people's tools.
    for m in ["manifest-sha256.txt", "tagmanifest-sha256.txt"] {
        let out = Command::new("sha256sum")
            .current_dir(&pkg)
            .args(["-c", "--strict", "--quiet", m])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sha256sum -c {m}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    if have("bagit.py", "--version") {
        let out = Command::new("bagit.py")
            .args(["--validate"])
            .arg(&pkg)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "bagit.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        eprintln!("skipped part: bagit.py not found (pip install bagit)");
    }
    if let Some(tsa) = &s.tsa {
        let tokens: Vec<PathBuf> = walk(&pkg.join("custody/timestamps"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "tst"))
            .collect();
        assert_eq!(tokens.len(), 1);
        let cp = tokens[0]
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let certs = tokens[0].to_str().unwrap().replace(".tst", ".certs.pem");
        let out = Command::new("openssl")
            .args(["ts", "-verify", "-data"])
            .arg(pkg.join("custody/checkpoints").join(&cp))
            .arg("-in")
            .arg(&tokens[0])
            .args(["-token_in", "-CAfile"])
            .arg(&tsa.root.cert)
            .args(["-untrusted", &certs])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Verification: OK"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Custody's own strict check, with the key obtained independently.
    let mut args = vec!["--vkey", &s.vkey];
    let roots;
    if let Some(tsa) = &s.tsa {
        roots = tsa.root.cert.to_str().unwrap().to_owned();
        args.extend(["--tsa-roots", &roots]);
    }
    let v = verify_pkg(env, &args).ok();
    assert!(
        v.stdout.starts_with("OK: the package verifies"),
        "{}",
        v.stdout
    );
    assert!(
        !v.stdout
            .contains("note: the verifier key was taken from the package"),
        "{}",
        v.stdout
    );

    // Into a second vault, then verified there.
    env.run_bare(&["init", "vault2", "--name", "Receiving court"])
        .ok();
    let imported = env
        .run_bare(&[
            "--vault", "vault2", "import", "pkg", "--vkey", &s.vkey, "--json",
        ])
        .ok()
        .json();
    assert_eq!(imported["already_imported"], false);
    assert_eq!(imported["items"].as_array().unwrap().len(), 3);
    env.run_bare(&["--vault", "vault2", "verify", "--full"])
        .ok();
    let shown = env
        .run_bare(&["--vault", "vault2", "show", "ITM-000002", "--json"])
        .ok()
        .json();
    assert_eq!(shown["history"][0]["action"], "item.received");
    // The receiving vault extracts metadata itself, as on ingest.
    assert!(
        shown["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["action"] == "metadata.extracted"),
        "{shown}"
    );
    let upstream: Vec<&str> = shown["upstream"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert!(
        upstream.contains(&"item.collected") && upstream.contains(&"item.annotated"),
        "{upstream:?}"
    );
    let before = env
        .run_bare(&["--vault", "vault2", "log", "checkpoints", "--json"])
        .ok()
        .json();
    let again = env
        .run_bare(&["--vault", "vault2", "import", "pkg", "--json"])
        .ok()
        .json();
    assert_eq!(
        again["already_imported"], true,
        "importing twice is idempotent"
    );
    assert_eq!(
        env.run_bare(&["--vault", "vault2", "log", "checkpoints", "--json"])
            .ok()
            .json(),
        before,
        "nothing written"
    );
    // The bytes came across unchanged.
    env.run_bare(&[
        "--vault",
        "vault2",
        "get",
        "ITM-000003",
        "--out",
        "back.png",
    ])
    .ok();
    assert!(
        std::fs::read(env.path("back.png")).unwrap()
            == std::fs::read(env.path("in/photo.png")).unwrap(),
        "bytes changed"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p))
            } else {
                out.push(p)
            }
        }
    }
    out
}

/// Rewrites every manifest and tag manifest so the bag itself is consistent again: what
/// an attacker would do. Only the Custody profile can then notice.
fn rehash(pkg: &Path) {
    let rel = |p: &Path| p.strip_prefix(pkg).unwrap().to_str().unwrap().to_owned();
    let mut payload: Vec<PathBuf> = walk(&pkg.join("data"));
    payload.sort();
    for (name, sha512) in [
        ("manifest-sha256.txt", false),
        ("manifest-sha512.txt", true),
    ] {
        let text: String = payload
            .iter()
            .map(|p| format!("{}  {}\n", digest(p, sha512), rel(p)))
            .collect();
        std::fs::write(pkg.join(name), text).unwrap();
    }
    let mut tags: Vec<PathBuf> = walk(pkg)
        .into_iter()
        .filter(|p| !p.starts_with(pkg.join("data")) && !rel(p).starts_with("tagmanifest-"))
        .collect();
    tags.sort();
    for (name, sha512) in [
        ("tagmanifest-sha256.txt", false),
        ("tagmanifest-sha512.txt", true),
    ] {
        let text: String = tags
            .iter()
            .map(|p| format!("{}  {}\n", digest(p, sha512), rel(p)))
            .collect();
        std::fs::write(pkg.join(name), text).unwrap();
    }
}

fn digest(p: &Path, sha512: bool) -> String {
    let b = std::fs::read(p).unwrap();
    if sha512 {
        hex::encode(sha2::Sha512::digest(&b))
    } else {
        hex::encode(sha2::Sha256::digest(&b))
    }
}

fn flip(path: &Path, at_from_end: usize) {
    make_writable(path);
    let mut b = std::fs::read(path).unwrap();
    let i = b.len() - at_from_end;
    b[i] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

/// Damages a fresh copy of the package and returns verify-package's output.
fn damaged(s: &Sent, damage: impl FnOnce(&Path)) -> String {
    let pkg = s.env.path("pkg");
    let copy = s.env.path("pkg-damaged");
    let _ = std::fs::remove_dir_all(&copy);
    Command::new("cp")
        .arg("-a")
        .arg(&pkg)
        .arg(&copy)
        .status()
        .unwrap();
    damage(&copy);
    let out = s
        .env
        .run_bare(&["verify-package", "pkg-damaged", "--vkey", &s.vkey]);
    assert_eq!(
        out.code, 1,
        "damage not detected:\n{}{}",
        out.stdout, out.stderr
    );
    out.stdout
}

#[test]
fn every_tamper_kind_is_detected() {
    let s = sent(true);
    // Bag level: a payload byte, a manifest line, a tag file, without fixing any hash.
    let out = damaged(&s, |p| flip(&p.join("data/ITM-000001/capture.bin"), 100));
    assert!(out.contains("data/ITM-000001/capture.bin"), "{out}");
    let out = damaged(&s, |p| {
        let m = p.join("manifest-sha256.txt");
        let t = std::fs::read_to_string(&m).unwrap().replacen('a', "b", 1);
        std::fs::write(&m, t).unwrap();
    });
    assert!(out.contains("manifest-sha256.txt"), "{out}");
    let out = damaged(&s, |p| {
        let f = p.join("bag-info.txt");
        let t = std::fs::read_to_string(&f)
            .unwrap()
            .replace("Test unit", "Other unit");
        std::fs::write(&f, t).unwrap();
    });
    assert!(out.contains("bag-info.txt"), "{out}");

    // Profile level: every BagIt hash recomputed, as an attacker would.
    let out = damaged(&s, |p| {
        flip(&p.join("data/ITM-000001/capture.bin"), 100);
        rehash(p);
    });
    assert!(
        out.contains("data/ITM-000001/capture.bin does not hold the bytes its ledger entry names"),
        "{out}"
    );
    let out = damaged(&s, |p| {
        let f = p.join("custody/proofs/00000000000000000004.json");
        let t = std::fs::read_to_string(&f).unwrap();
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        let h = v["hashes"][0].as_str().unwrap();
        let bad = format!("{}{}", if h.starts_with('A') { "B" } else { "A" }, &h[1..]);
        std::fs::write(&f, t.replace(h, &bad)).unwrap();
        rehash(p);
    });
    assert!(
        out.contains(
            "custody/proofs/00000000000000000004.json: entry 4 is not in the signed ledger"
        ),
        "{out}"
    );
    let out = damaged(&s, |p| {
        let f = p.join("custody/entries/00000000000000000004.json");
        let t = std::fs::read_to_string(&f)
            .unwrap()
            .replace("Investigator 7", "Investigator 8");
        std::fs::write(&f, t).unwrap();
        rehash(p);
    });
    assert!(out.contains("entry 4 is not in the signed ledger"), "{out}");
    let out = damaged(&s, |p| {
        let f = p.join("custody/checkpoint");
        let t = std::fs::read_to_string(&f).unwrap();
        let at = t.rfind(' ').unwrap() + 12;
        let mut b = t.into_bytes();
        b[at] = if b[at] == b'A' { b'B' } else { b'A' };
        std::fs::write(&f, b).unwrap();
        rehash(p);
    });
    assert!(
        out.contains("custody/checkpoint: signature does not verify"),
        "{out}"
    );
    if s.tsa.is_some() {
        let out = damaged(&s, |p| {
            let tst = walk(&p.join("custody/timestamps"))
                .into_iter()
                .find(|f| f.extension().is_some_and(|e| e == "tst"))
                .unwrap();
            flip(&tst, 20);
            rehash(p);
        });
        assert!(
            out.contains("differs from the token recorded in ledger entry"),
            "{out}"
        );
    }
    // A vkey the receiver trusts that is not the sender's.
    let other = Env::new();
    other.init();
    let foreign = other.run(&["log", "key"]).ok().stdout.trim().to_owned();
    let out = s
        .env
        .run_bare(&["verify-package", "pkg", "--vkey", &foreign]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("is not the trusted key"),
        "{}",
        out.stdout
    );
}

#[test]
fn bad_packages_are_refused_and_import_writes_nothing() {
    let s = sent(false);
    let env = &s.env;
    env.run_bare(&["init", "vault2", "--name", "Receiver"]).ok();
    let before = std::fs::read(env.path("vault2/ledger/entries.jsonl")).unwrap();

    // Path traversal and a symlink inside the bag.
    let out = damaged(&s, |p| {
        std::os::unix::fs::symlink("/etc/passwd", p.join("data/ITM-000001/link")).unwrap();
    });
    assert!(out.contains("symbolic link"), "{out}");
    let out = damaged(&s, |p| {
        let m = p.join("manifest-sha256.txt");
        let mut t = std::fs::read_to_string(&m).unwrap();
        t.push_str(&format!("{}  data/../../etc/passwd\n", "0".repeat(64)));
        std::fs::write(&m, t).unwrap();
    });
    assert!(out.contains("data/../../etc/passwd"), "{out}");
    // A tag manifest listing a file that is not there.
    let out = damaged(&s, |p| {
        std::fs::remove_file(p.join("custody/items.json")).unwrap()
    });
    assert!(out.contains("custody/items.json"), "{out}");

    // Import refuses the damaged copy, and nothing changes in the receiving vault.
    let out = env.run_bare(&["--vault", "vault2", "import", "pkg-damaged"]);
    out.refused("the package does not verify, so nothing was imported");
    assert_eq!(
        std::fs::read(env.path("vault2/ledger/entries.jsonl")).unwrap(),
        before
    );
    assert!(
        !env.path("vault2/received").exists()
            || std::fs::read_dir(env.path("vault2/received"))
                .unwrap()
                .count()
                == 0
    );
    assert_eq!(
        std::fs::read_dir(env.path("vault2/staging"))
            .unwrap()
            .count(),
        0
    );

    // Not a bag at all.
    std::fs::create_dir(env.path("empty")).unwrap();
    let out = env.run_bare(&["verify-package", "empty"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("bagit.txt"), "{}", out.stdout);
}

#[test]
fn redaction_exports_a_linked_copy_and_never_the_original() {
    let env = Env::new();
    env.init();
    let original = png(100, 100);
    env.write("in/scene.png", &original);
    env.write("in/other.txt", b"synthetic\n");
    env.run(&["ingest", "in", "--case", "R-1"]).ok();
    std::fs::write(
        env.path("redact.json"),
        r#"{"ITM-000002": {"regions": [[10, 10, 50, 50]], "reason": "protected person in frame (synthetic test)"}}"#,
    )
    .unwrap();
    let out = env
        .run(&[
            "export",
            "--case",
            "R-1",
            "--redact",
            "redact.json",
            "--out",
            "pkg",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        (out["withheld"].as_u64(), out["derived"].as_u64()),
        (Some(1), Some(1))
    );

    let pkg = env.path("pkg");
    let items: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pkg.join("custody/items.json")).unwrap())
            .unwrap();
    let orig = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "ITM-000002")
        .unwrap();
    assert!(orig["payload"].is_null() && orig["withheld"].is_string());
    let copy = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["derived_from"] == "ITM-000002")
        .unwrap();
    let copy_bytes = std::fs::read(pkg.join(copy["payload"].as_str().unwrap())).unwrap();
    let img = image::load_from_memory(&copy_bytes).unwrap().to_rgb8();
    assert_eq!(
        img.get_pixel(30, 30),
        &image::Rgb([0, 0, 0]),
        "the region is blacked out"
    );
    assert_ne!(
        img.get_pixel(80, 80),
        &image::Rgb([0, 0, 0]),
        "the rest is kept"
    );
    // The original's bytes appear nowhere in the package; its proof does.
    let orig_hex = sha256_hex(&original);
    for f in walk(&pkg) {
        let b = std::fs::read(&f).unwrap();
        let head = &original[original.len() / 2..original.len() / 2 + 64];
        assert!(
            !b.windows(64).any(|w| w == head),
            "original bytes in {}",
            f.display()
        );
        assert_ne!(sha256_hex(&b), orig_hex, "original in {}", f.display());
    }
    let entry_seq = orig["entry"].as_u64().unwrap();
    assert!(
        pkg.join(format!("custody/proofs/{entry_seq:020}.json"))
            .is_file()
    );
    let v = env.run_bare(&["verify-package", "pkg"]).ok();
    assert!(v.stdout.contains("1 withheld"), "{}", v.stdout);
    // In the vault, the copy is an item of its own, linked to the original.
    let shown = env
        .run(&["show", copy["id"].as_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(shown["history"][0]["action"], "item.derived");
    assert_eq!(
        shown["history"][0]["details"]["derived_from_sha256"],
        orig_hex
    );
    env.run(&["verify", "--full"]).ok();
}

#[test]
fn a_case_export_never_leaks_a_sealed_identity() {
    let env = Env::new();
    env.init();
    env.run(&[
        "case",
        "open",
        "R-2",
        "--title",
        "Synthetic redaction case",
        "--offset",
        "+03:00",
    ])
    .ok();
    env.write("in/scene.png", &png(100, 100));
    env.write(
        "in/statement.txt",
        b"Synthetic statement of W-0001. Nothing here names anyone.\n",
    );
    env.run(&["ingest", "in", "--case", "R-2"]).ok();
    // Deliberately distinctive strings, so any leak is found by a byte search.
    let identity = r#"{"legal_name": "Zyxwvu Qplmok", "address": "Synthetic Street 17, Nowhere",
        "contacts": [{"kind": "phone", "value": "+000-555-0199"}], "notes": "secret-note-8842"}"#;
    env.write("identity.json", identity.as_bytes());
    let reg = env
        .run(&[
            "witness",
            "register",
            "--case",
            "R-2",
            "--identity-file",
            "identity.json",
            "--json",
        ])
        .ok();
    assert!(reg.stdout.contains("W-0001"), "{}", reg.stdout);
    std::fs::remove_file(env.path("identity.json")).unwrap();
    std::fs::write(
        env.path("redact.json"),
        r#"{"ITM-000001": {"regions": [[0, 0, 40, 40]], "reason": "synthetic test"}}"#,
    )
    .unwrap();
    env.run(&[
        "export",
        "--case",
        "R-2",
        "--redact",
        "redact.json",
        "--out",
        "pkg",
    ])
    .ok();

    let pkg = env.path("pkg");
    let case_json = std::fs::read_to_string(pkg.join("custody/case.json"))
        .expect("the case travels with the package");
    assert!(case_json.contains("W-0001"), "the pseudonym is exported");
    let case_entries = walk(&pkg.join("custody/entries"))
        .into_iter()
        .filter(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .contains("\"action\":\"witness.registered\"")
        })
        .count();
    assert_eq!(
        case_entries, 1,
        "the case's events travel with their proofs"
    );
    let secrets = [
        "Zyxwvu",
        "Qplmok",
        "Synthetic Street 17",
        "+000-555-0199",
        "secret-note-8842",
    ];
    for f in walk(&pkg) {
        let bytes = std::fs::read(&f).unwrap();
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "{s:?} leaked into {}",
                f.display()
            );
        }
    }
    let v = env.run_bare(&["verify-package", "pkg"]).ok();
    assert!(v.stdout.starts_with("OK"), "{}", v.stdout);
    // The vault still holds the identity, sealed, readable only with permission.
    let out = env.run(&["witness", "unseal", "W-0001", "--case", "R-2"]);
    assert_eq!(
        out.code, 2,
        "unsealing needs an explicit permission and purpose"
    );
}
