//! Bags made by the writer, checked by the validator and by the tools a receiving
//! organisation already trusts (bagit-python, `sha256sum -c`), and damaged on purpose to
//! show that each kind of damage is reported with its own message.
//!
//! Tests that need bagit-python (`pip install bagit`) print "skipped: ..." when
//! `bagit.py` is not on the PATH.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use custody_package::{
    Algorithm, BagDate, BagInfo, BagWriter, CheckedBag, PackageError, PathNamer, Payload, Problem,
    ProblemKind, ValidateOptions, ValidationReport, safe_payload_path, validate,
};

// ---------------------------------------------------------------------------------------
// helpers

/// Deterministic pseudo-random bytes (xorshift64*), so large files have no pattern a
/// chunk boundary could hide a bug in.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

const LONG_DESCRIPTION: &str = "Synthetic test export: photographs and notes of a \
    documented site, prepared for transfer to a partner organisation, with a description \
    long enough that bag-info.txt has to fold it over several lines.";

fn sample_info() -> BagInfo {
    BagInfo {
        source_organization: Some("Regional Documentation Unit".into()),
        contact_name: Some("Case Officer 7".into()),
        contact_email: Some("officer7@example.org".into()),
        external_identifier: Some("EXPORT-2026-0001".into()),
        external_description: Some(LONG_DESCRIPTION.into()),
        bag_software_agent: Some("custody-package tests".into()),
        bagging_date: BagDate::new(2026, 11, 25),
        labels: vec![("Custody-Case-Id".into(), "TEST-CASE-0001".into())],
        ..Default::default()
    }
}

fn sample_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("ITM-000001/IMG_0412.JPG", noise(3 * (1 << 20) + 5, 1)),
        (
            "ITM-000002/нотатки.txt",
            "Синтетичні нотатки.\n".as_bytes().to_vec(),
        ),
        ("ITM-000003/empty.bin", Vec::new()),
        ("ITM-000004/report with spaces.pdf", noise(70_000, 4)),
    ]
}

/// `Payload-Oxum` of the sample bag: bytes and file count.
fn sample_oxum() -> (u64, u64) {
    let f = sample_files();
    (f.iter().map(|(_, b)| b.len() as u64).sum(), f.len() as u64)
}

/// Replaces the sample bag's Payload-Oxum in bag-info.txt.
fn set_oxum(bag: &Path, bytes: u64, files: u64) {
    let (b, f) = sample_oxum();
    edit(&bag.join("bag-info.txt"), |t| {
        t.replace(
            &format!("Payload-Oxum: {b}.{f}\n"),
            &format!("Payload-Oxum: {bytes}.{files}\n"),
        )
    });
}

/// Writes the sample bag at `dir/name` and returns its path.
fn sample_bag(dir: &Path, name: &str) -> PathBuf {
    let target = dir.join(name);
    let mut w = BagWriter::create(&target).unwrap();
    let items = sample_files()
        .into_iter()
        .map(|(p, bytes)| Payload::from_reader(p, io::Cursor::new(bytes)))
        .collect();
    w.add_payloads(items).unwrap();
    w.add_tag_file("custody/checkpoint.txt", b"synthetic checkpoint\n")
        .unwrap();
    w.finish(&sample_info()).unwrap();
    target
}

fn strict(bag: &Path) -> ValidationReport {
    validate(bag, &ValidateOptions::default(), None)
}

/// Asserts that the report holds a problem of `kind` in `file` (at `line` if given) whose
/// message contains `needle`, and that the message names the file and line.
#[track_caller]
fn expect(
    r: &ValidationReport,
    kind: ProblemKind,
    file: Option<&str>,
    line: Option<u64>,
    needle: &str,
) -> Problem {
    assert!(!r.ok, "expected a problem, but the bag validated:\n{r}");
    let found = r.problems.iter().find(|p| {
        p.kind == kind
            && p.file.as_deref() == file
            && (line.is_none() || p.line == line)
            && p.message.contains(needle)
    });
    let Some(p) = found else {
        panic!("no {kind:?} problem in {file:?} line {line:?} mentioning {needle:?}:\n{r}");
    };
    if let Some(f) = file {
        assert!(p.message.starts_with(f), "{}", p.message);
    }
    if let Some(l) = p.line {
        assert!(p.message.contains(&format!("line {l}:")), "{}", p.message);
    }
    p.clone()
}

/// Rewrites every tag manifest so it matches the tag files again, as someone who edits a
/// tag file and covers their tracks would. Damage tests use it to show that the
/// validator catches the edit itself, not only the stale tag manifest.
fn reseal_tag_manifests(bag: &Path) {
    for alg in [Algorithm::Sha256, Algorithm::Sha512] {
        let tm = bag.join(alg.tagmanifest_name());
        let text = fs::read_to_string(&tm).unwrap();
        let mut out = String::new();
        for line in text.lines() {
            let (_, path) = line.split_once([' ', '\t']).unwrap();
            let path = path.trim_start_matches([' ', '\t']);
            let bytes = fs::read(bag.join(path)).unwrap();
            out.push_str(&format!("{}  {path}\n", hex::encode(alg.digest(&bytes))));
        }
        fs::write(&tm, out).unwrap();
    }
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = fs::read_to_string(path).unwrap();
    fs::write(path, f(text)).unwrap();
}

fn bagit_py() -> Option<PathBuf> {
    let ok = Command::new("bagit.py")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Some(PathBuf::from("bagit.py"))
    } else {
        eprintln!("skipped: bagit.py not found (install it with `pip install bagit`)");
        None
    }
}

/// Runs `bagit.py --validate`; returns success and the log.
fn bagit_py_validate(bagit: &Path, bag: &Path) -> (bool, String) {
    let out = Command::new(bagit)
        .arg("--validate")
        .arg(bag)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file under `dir` with its bytes, for before/after comparisons.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<_> = fs::read_dir(&d).unwrap().map(|e| e.unwrap()).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                out.push((e.path(), Vec::new(), true));
                stack.push(e.path());
            } else if t.is_file() {
                out.push((e.path(), fs::read(e.path()).unwrap(), false));
            } else {
                out.push((e.path(), Vec::new(), false));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// round trip

#[test]
fn round_trip_writer_then_validator() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("bag");
    let mut w = BagWriter::create(&target).unwrap();
    let items: Vec<Payload<'_>> = sample_files()
        .into_iter()
        .map(|(p, bytes)| Payload::from_reader(p, io::Cursor::new(bytes)))
        .collect();
    let entries = w.add_payloads(items).unwrap();
    assert_eq!(
        entries[0].path, "ITM-000001/IMG_0412.JPG",
        "input order kept"
    );
    let tag = w
        .add_tag_file("custody/checkpoint.txt", b"synthetic checkpoint\n")
        .unwrap();
    assert_eq!(
        tag.sha256.to_vec(),
        Algorithm::Sha256.digest(b"synthetic checkpoint\n")
    );
    let summary = w.finish(&sample_info()).unwrap();

    let files = sample_files();
    assert_eq!(summary.payload_files, files.len() as u64);
    assert_eq!(
        summary.payload_bytes,
        files.iter().map(|(_, b)| b.len() as u64).sum::<u64>()
    );
    for (path, bytes) in &files {
        assert_eq!(&fs::read(target.join("data").join(path)).unwrap(), bytes);
        let e = summary.payload.iter().find(|e| e.path == *path).unwrap();
        assert_eq!(e.sha256.to_vec(), Algorithm::Sha256.digest(bytes));
        assert_eq!(e.sha512.to_vec(), Algorithm::Sha512.digest(bytes));
        assert_eq!(e.size, bytes.len() as u64);
    }
    assert_eq!(
        summary.tagmanifest_sha256.to_vec(),
        Algorithm::Sha256.digest(&fs::read(target.join("tagmanifest-sha256.txt")).unwrap())
    );
    assert_eq!(
        fs::read_to_string(target.join("bagit.txt")).unwrap(),
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    );
    let info = fs::read_to_string(target.join("bag-info.txt")).unwrap();
    let (b, f) = sample_oxum();
    assert!(
        info.contains(&format!("\nPayload-Oxum: {b}.{f}\n")),
        "{info}"
    );
    assert!(info.contains("\nBagging-Date: 2026-11-25\n"), "{info}");
    assert!(
        info.lines().all(|l| l.chars().count() <= 79),
        "long values are folded:\n{info}"
    );
    let tm = fs::read_to_string(target.join("tagmanifest-sha256.txt")).unwrap();
    for listed in [
        "bag-info.txt",
        "bagit.txt",
        "custody/checkpoint.txt",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
    ] {
        assert!(tm.contains(&format!("  {listed}\n")), "{tm}");
    }
    assert!(!tm.contains("tagmanifest-"), "{tm}");

    let r = strict(&target);
    assert!(r.ok, "{r}");
    assert_eq!(r.version.as_deref(), Some("1.0"));
    assert_eq!(r.payload_files, 4);
    assert_eq!(r.payload_bytes, summary.payload_bytes);
    assert_eq!(
        r.payload_algorithms,
        vec![Algorithm::Sha256, Algorithm::Sha512]
    );
    assert_eq!(r.bag_info_value("Custody-Case-Id"), Some("TEST-CASE-0001"));
    assert_eq!(
        r.bag_info_value("External-Description"),
        Some(LONG_DESCRIPTION)
    );
    assert_eq!(
        r.bag_info_value("Contact-Email"),
        Some("officer7@example.org")
    );
    // Every byte of payload and tag files was hashed once.
    let tag_bytes: u64 = summary.tag_files.iter().map(|t| t.size).sum();
    assert_eq!(r.bytes_hashed, summary.payload_bytes + tag_bytes);
}

#[test]
fn many_files_on_two_workers() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("bag");
    let mut w = BagWriter::create(&target).unwrap().workers(2);
    let src = tmp.path().join("src");
    fs::create_dir(&src).unwrap();
    let mut items = Vec::new();
    for i in 0..60u64 {
        let p = src.join(format!("f{i}"));
        fs::write(&p, noise((i as usize * 7919) % 300_000, i)).unwrap();
        items.push(Payload::from_file(format!("d{}/f{i}.bin", i % 5), p));
    }
    let entries = w.add_payloads(items).unwrap();
    for (i, e) in entries.iter().enumerate() {
        let bytes = noise((i * 7919) % 300_000, i as u64);
        assert_eq!(e.path, format!("d{}/f{i}.bin", i % 5));
        assert_eq!(e.sha512.to_vec(), Algorithm::Sha512.digest(&bytes));
    }
    w.finish(&BagInfo::default()).unwrap();
    let r = strict(&target);
    assert!(r.ok, "{r}");
    assert_eq!(r.payload_files, 60);
}

#[test]
fn tag_files_written_as_a_batch_are_listed_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("bag");
    let mut w = BagWriter::create(&target).unwrap().workers(2);
    w.add_payload("a.txt", &b"payload"[..]).unwrap();
    let files: Vec<(String, Vec<u8>)> = (0..300u64)
        .map(|i| {
            (
                format!("custody/entries/{i:020}.json"),
                noise(100 + i as usize, i),
            )
        })
        .collect();
    let entries = w.add_tag_files(files.clone()).unwrap();
    assert_eq!(entries.len(), 300);
    for ((path, bytes), e) in files.iter().zip(&entries) {
        assert_eq!(&e.path, path);
        assert_eq!(e.sha256.to_vec(), Algorithm::Sha256.digest(bytes));
    }

    // One bad path refuses the whole batch before anything of it is written.
    let staging = w.staging_dir().to_owned();
    let bad = vec![
        ("custody/notes/ok.txt".to_owned(), b"fine".to_vec()),
        ("../escape.txt".to_owned(), b"no".to_vec()),
    ];
    assert!(w.add_tag_files(bad).is_err());
    assert!(!staging.join("custody/notes/ok.txt").exists());
    drop(w);
    assert!(!staging.exists(), "a refused writer leaves nothing");

    let mut w = BagWriter::create(&target).unwrap();
    w.add_payload("a.txt", &b"payload"[..]).unwrap();
    w.add_tag_files(files).unwrap();
    w.finish(&BagInfo::default()).unwrap();
    let r = strict(&target);
    assert!(r.ok, "{r}");
    let tagmanifest = fs::read_to_string(target.join("tagmanifest-sha512.txt")).unwrap();
    assert_eq!(
        tagmanifest
            .lines()
            .filter(|l| l.contains("custody/entries/"))
            .count(),
        300
    );
    // Damage to one of them is caught.
    fs::write(
        target.join("custody/entries/00000000000000000007.json"),
        b"x",
    )
    .unwrap();
    assert!(!strict(&target).ok);
}

#[test]
fn names_needing_percent_encoding_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("bag");
    let mut w = BagWriter::create(&target).unwrap();
    let odd = "line\nbreak 100%25\r.txt";
    w.add_payload(odd, &b"odd name"[..]).unwrap();
    w.add_payload("plain.txt", &b"plain"[..]).unwrap();
    w.finish(&BagInfo::default()).unwrap();
    assert_eq!(
        fs::read(target.join("data").join(odd)).unwrap(),
        b"odd name"
    );
    let m = fs::read_to_string(target.join("manifest-sha256.txt")).unwrap();
    assert!(
        m.contains("  data/line%0Abreak 100%2525%0D.txt\n"),
        "CR, LF and % are percent-encoded:\n{m}"
    );
    assert_eq!(m.lines().count(), 2);
    let r = strict(&target);
    assert!(r.ok, "{r}");
    assert_eq!(r.payload_files, 2);
}

// ---------------------------------------------------------------------------------------
// other tools

#[test]
fn bagit_python_validates_bags_the_writer_makes() {
    let Some(bagit) = bagit_py() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    let (ok, log) = bagit_py_validate(&bagit, &bag);
    assert!(ok, "bagit.py rejected the bag:\n{log}");

    // Names as they arrive from the field, made safe: bagit-python must find each file.
    let target = tmp.path().join("odd-names");
    let mut w = BagWriter::create(&target).unwrap();
    let mut namer = PathNamer::new();
    for (i, original) in [
        "/media/sd/DCIM/IMG_0412.JPG",
        "img_0412.jpg",
        "..\\..\\Windows\\notes 100%.txt",
        "new\nline\r.txt",
        "Kyi\u{0308}v 2022.jpg",
        " *star.txt",
        "CON",
        "a\u{2028}b.txt",
    ]
    .iter()
    .enumerate()
    {
        let path = namer.name(original);
        w.add_payload(&path, &noise(100 + i, i as u64)[..]).unwrap();
    }
    w.finish(&sample_info()).unwrap();
    let (ok, log) = bagit_py_validate(&bagit, &target);
    assert!(ok, "bagit.py rejected safe names:\n{log}");
    assert!(strict(&target).ok);
}

/// `TOOL -c --strict FILE` run in `dir` (coreutils' sha256sum/sha512sum); `None`, with a
/// note, where the tool cannot run.
fn check_sums(tool: &str, file: &str, dir: &Path) -> Option<std::process::Output> {
    match Command::new(tool)
        .args(["-c", "--strict", file])
        .current_dir(dir)
        .output()
    {
        Ok(o) => Some(o),
        Err(e) => {
            eprintln!("skipped: {tool} not runnable: {e}");
            None
        }
    }
}

#[test]
fn sha256sum_check_passes_from_the_bag_root() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    for (tool, file) in [
        ("sha256sum", "manifest-sha256.txt"),
        ("sha512sum", "manifest-sha512.txt"),
        ("sha256sum", "tagmanifest-sha256.txt"),
        ("sha512sum", "tagmanifest-sha512.txt"),
    ] {
        let Some(out) = check_sums(tool, file, &bag) else {
            return;
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{tool} -c {file}: {stdout}");
        assert_eq!(stdout.matches(": OK").count(), stdout.lines().count());
    }
    // And it notices damage, so the check above means something.
    fs::write(bag.join("data/ITM-000003/empty.bin"), b"x").unwrap();
    let out = Command::new("sha256sum")
        .args(["-c", "manifest-sha256.txt"])
        .current_dir(&bag)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// Many files of a few MiB are written side by side, so that their SHA-512 runs in the
/// vector lanes several at a time: `sha512sum` must agree with every line.
#[test]
fn sha512sum_agrees_when_many_large_files_are_hashed_together() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("bag");
    let mut w = BagWriter::create(&target).unwrap();
    let items = (0..12u64)
        .map(|i| {
            let bytes = noise((1 << 20) * (1 + i as usize % 4) + 131 * i as usize, 40 + i);
            Payload::from_reader(format!("ITM-{i:06}/clip.bin"), io::Cursor::new(bytes))
        })
        .collect();
    w.add_payloads(items).unwrap();
    w.finish(&sample_info()).unwrap();
    let Some(out) = check_sums("sha512sum", "manifest-sha512.txt", &target) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "sha512sum -c: {stdout}");
    assert_eq!(stdout.matches(": OK").count(), 12, "{stdout}");
    assert!(strict(&target).ok);
}

/// Makes a directory of files and lets bagit.py turn it into a bag in place.
fn bagit_py_bag(bagit: &Path, dir: &Path, extra_args: &[&str]) {
    fs::create_dir_all(dir.join("photos/2022")).unwrap();
    fs::write(dir.join("photos/2022/IMG_0001.JPG"), noise(1_500_000, 9)).unwrap();
    fs::write(dir.join("photos/опис.txt"), "синтетичний опис\n").unwrap();
    fs::write(dir.join("notes with spaces.txt"), b"notes\n").unwrap();
    fs::write(dir.join("100% synthetic.txt"), b"percent\n").unwrap();
    fs::write(dir.join("empty"), b"").unwrap();
    let out = Command::new(bagit)
        .args(extra_args)
        .args(["--contact-name", "Test Unit", "--external-description"])
        .arg(LONG_DESCRIPTION)
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bagit.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bags_made_by_bagit_python_pass_the_strict_validator() {
    let Some(bagit) = bagit_py() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("made-by-bagit-python");
    bagit_py_bag(&bagit, &dir, &[]);
    let r = strict(&dir);
    assert!(r.ok, "{r}");
    assert_eq!(r.version.as_deref(), Some("0.97"));
    assert_eq!(r.payload_files, 5);
    assert_eq!(
        r.payload_algorithms,
        vec![Algorithm::Sha256, Algorithm::Sha512]
    );
    assert_eq!(r.bag_info_value("Contact-Name"), Some("Test Unit"));

    // Damage is still found in a bag from another tool.
    fs::write(dir.join("data/empty"), b"x").unwrap();
    let r = strict(&dir);
    expect(
        &r,
        ProblemKind::ChecksumMismatch,
        Some("manifest-sha256.txt"),
        None,
        "data/empty",
    );
}

#[test]
fn an_md5_only_bag_is_valid_by_the_rfc_but_refused_by_the_strict_policy() {
    let Some(bagit) = bagit_py() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("md5");
    bagit_py_bag(&bagit, &dir, &["--md5"]);
    let r = validate(&dir, &ValidateOptions::rfc(), None);
    assert!(r.ok, "{r}");
    assert_eq!(r.payload_algorithms, vec![Algorithm::Md5]);
    let r = strict(&dir);
    expect(
        &r,
        ProblemKind::WeakAlgorithmsOnly,
        None,
        None,
        "MD5 or SHA-1",
    );
    assert_eq!(r.problems.len(), 1, "{r}");
}

// ---------------------------------------------------------------------------------------
// damage: each kind is reported with its own message

#[test]
fn damage_payload_byte_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    let f = bag.join("data/ITM-000001/IMG_0412.JPG");
    let mut bytes = fs::read(&f).unwrap();
    bytes[2_000_000] ^= 0x01;
    fs::write(&f, bytes).unwrap();
    let r = strict(&bag);
    let p = expect(
        &r,
        ProblemKind::ChecksumMismatch,
        Some("manifest-sha256.txt"),
        Some(1),
        "`data/ITM-000001/IMG_0412.JPG` has SHA-256",
    );
    assert!(p.message.contains("not the ones that were bagged"), "{p}");
    expect(
        &r,
        ProblemKind::ChecksumMismatch,
        Some("manifest-sha512.txt"),
        Some(1),
        "SHA-512",
    );
    assert_eq!(r.problems.len(), 2, "{r}");
}

#[test]
fn damage_manifest_line_altered() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    let m = bag.join("manifest-sha256.txt");
    edit(&m, |t| {
        let mut lines: Vec<String> = t.lines().map(str::to_owned).collect();
        let flipped = if lines[1].starts_with('0') { "1" } else { "0" };
        lines[1].replace_range(0..1, flipped);
        lines.join("\n") + "\n"
    });
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::ChecksumMismatch,
        Some("manifest-sha256.txt"),
        Some(2),
        "data/ITM-000002",
    );
    expect(
        &r,
        ProblemKind::ChecksumMismatch,
        Some("tagmanifest-sha256.txt"),
        None,
        "`manifest-sha256.txt` has SHA-256",
    );

    // The path of a line altered instead: the file is missing and the real one unlisted.
    let bag = sample_bag(tmp.path(), "bag2");
    edit(&bag.join("manifest-sha256.txt"), |t| {
        t.replace("empty.bin", "empty.bim")
    });
    reseal_tag_manifests(&bag);
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::MissingFile,
        Some("manifest-sha256.txt"),
        Some(3),
        "data/ITM-000003/empty.bim",
    );
    expect(
        &r,
        ProblemKind::NotInEveryManifest,
        Some("manifest-sha256.txt"),
        None,
        "data/ITM-000003/empty.bin",
    );
}

#[test]
fn damage_missing_file() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    fs::remove_file(bag.join("data/ITM-000004/report with spaces.pdf")).unwrap();
    let r = strict(&bag);
    for m in ["manifest-sha256.txt", "manifest-sha512.txt"] {
        expect(
            &r,
            ProblemKind::MissingFile,
            Some(m),
            Some(4),
            "`data/ITM-000004/report with spaces.pdf`, which is not in the bag",
        );
    }
    expect(
        &r,
        ProblemKind::PayloadOxum,
        Some("bag-info.txt"),
        None,
        "3 files",
    );
}

#[test]
fn damage_extra_file() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    fs::write(bag.join("data/ITM-000002/planted.txt"), b"planted").unwrap();
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::UnlistedPayloadFile,
        Some("data/ITM-000002/planted.txt"),
        None,
        "in no payload manifest",
    );
    expect(
        &r,
        ProblemKind::PayloadOxum,
        Some("bag-info.txt"),
        None,
        "5 files",
    );
    // A hidden file counts too.
    fs::remove_file(bag.join("data/ITM-000002/planted.txt")).unwrap();
    fs::write(bag.join("data/.DS_Store"), b"").unwrap();
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::UnlistedPayloadFile,
        Some("data/.DS_Store"),
        None,
        "",
    );
}

#[test]
fn damage_duplicated_manifest_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    edit(&bag.join("manifest-sha256.txt"), |t| {
        let first = t.lines().next().unwrap().to_owned();
        format!("{t}{first}\n")
    });
    reseal_tag_manifests(&bag);
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::DuplicateEntry,
        Some("manifest-sha256.txt"),
        Some(5),
        "again (first on line 1)",
    );
    assert_eq!(r.problems.len(), 1, "{r}");
}

#[test]
fn damage_the_same_file_under_two_encodings() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("bag");
    let mut w = BagWriter::create(&target).unwrap();
    w.add_payload("a\nb", &b"x"[..]).unwrap();
    w.finish(&BagInfo::default()).unwrap();
    edit(&target.join("manifest-sha256.txt"), |t| {
        let lower = t.replace("%0A", "%0a");
        format!("{t}{lower}")
    });
    reseal_tag_manifests(&target);
    let r = strict(&target);
    expect(
        &r,
        ProblemKind::EncodingConflict,
        Some("manifest-sha256.txt"),
        Some(2),
        "two encodings",
    );

    // Unicode normalization: the same name in NFC and NFD.
    let target = tmp.path().join("bag-nfd");
    let mut w = BagWriter::create(&target).unwrap();
    w.add_payload("Ky\u{00EF}v.txt", &b"x"[..]).unwrap();
    w.finish(&BagInfo::default()).unwrap();
    edit(&target.join("manifest-sha256.txt"), |t| {
        format!("{t}{}", t.replace('\u{00EF}', "i\u{0308}"))
    });
    reseal_tag_manifests(&target);
    let r = strict(&target);
    expect(
        &r,
        ProblemKind::EncodingConflict,
        Some("manifest-sha256.txt"),
        Some(2),
        "Unicode normalization",
    );
}

#[test]
fn damage_tag_file_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    edit(&bag.join("bag-info.txt"), |t| {
        t.replace("Case Officer 7", "Case Officer 8")
    });
    let r = strict(&bag);
    for m in ["tagmanifest-sha256.txt", "tagmanifest-sha512.txt"] {
        expect(
            &r,
            ProblemKind::ChecksumMismatch,
            Some(m),
            Some(1),
            "`bag-info.txt` has",
        );
    }
    assert!(
        r.problems[0].message.contains("tag file was changed"),
        "{r}"
    );
    assert_eq!(r.problems.len(), 2, "{r}");

    // A profile tag file too.
    let bag = sample_bag(tmp.path(), "bag2");
    fs::write(bag.join("custody/checkpoint.txt"), b"forged\n").unwrap();
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::ChecksumMismatch,
        Some("tagmanifest-sha256.txt"),
        Some(3),
        "custody/checkpoint.txt",
    );
}

#[test]
fn damage_payload_oxum_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    let (bytes, files) = sample_oxum();
    set_oxum(&bag, bytes - 1, files);
    reseal_tag_manifests(&bag);
    let r = strict(&bag);
    let p = expect(
        &r,
        ProblemKind::PayloadOxum,
        Some("bag-info.txt"),
        None,
        &format!(
            "Payload-Oxum says {} bytes in 4 files, but data/ holds {bytes} bytes in 4 files",
            bytes - 1
        ),
    );
    assert!(p.line.is_some());
    assert_eq!(r.problems.len(), 1, "{r}");

    edit(&bag.join("bag-info.txt"), |t| {
        t.replace(
            &format!("Payload-Oxum: {}.4", bytes - 1),
            &format!("Payload-Oxum: {bytes}"),
        )
    });
    reseal_tag_manifests(&bag);
    expect(
        &strict(&bag),
        ProblemKind::PayloadOxum,
        Some("bag-info.txt"),
        None,
        "decimal digits",
    );
}

#[test]
fn damage_space_before_the_colon_in_bagit_txt() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    fs::write(
        bag.join("bagit.txt"),
        "BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n",
    )
    .unwrap();
    reseal_tag_manifests(&bag);
    let r = strict(&bag);
    let p = expect(
        &r,
        ProblemKind::Declaration,
        Some("bagit.txt"),
        Some(1),
        "must read exactly `BagIt-Version: 1.0`",
    );
    assert!(p.message.contains("`BagIt-Version : 1.0`"), "{p}");
    assert_eq!(r.problems.len(), 1, "{r}");
}

#[test]
fn damage_other_declaration_defects() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&[u8], ProblemKind, Option<u64>, &str); 7] = [
        (
            b"\xEF\xBB\xBFBagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
            ProblemKind::ByteOrderMark,
            Some(1),
            "byte-order mark",
        ),
        (
            b"BagIt-Version: 0.96\nTag-File-Character-Encoding: UTF-8\n",
            ProblemKind::UnsupportedVersion,
            Some(1),
            "supports BagIt 1.0 (RFC 8493) and 0.97 only",
        ),
        (
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: ISO-8859-1\n",
            ProblemKind::UnsupportedEncoding,
            Some(2),
            "only UTF-8",
        ),
        (
            b"Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n",
            ProblemKind::Declaration,
            Some(1),
            "must be on line 2",
        ),
        (
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\nExtra: 1\n",
            ProblemKind::Declaration,
            None,
            "has 3 lines",
        ),
        (
            b"BagIt-Version:1.0\nTag-File-Character-Encoding: UTF-8\n",
            ProblemKind::Declaration,
            Some(1),
            "one space",
        ),
        (
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8",
            ProblemKind::LineEnding,
            Some(2),
            "no line terminator",
        ),
    ];
    for (i, (bytes, kind, line, needle)) in cases.into_iter().enumerate() {
        let bag = sample_bag(tmp.path(), &format!("bag{i}"));
        fs::write(bag.join("bagit.txt"), bytes).unwrap();
        reseal_tag_manifests(&bag);
        expect(&strict(&bag), kind, Some("bagit.txt"), line, needle);
    }
    let bag = sample_bag(tmp.path(), "no-declaration");
    fs::remove_file(bag.join("bagit.txt")).unwrap();
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::NotABag,
        Some("bagit.txt"),
        None,
        "is missing",
    );
    assert!(r.stopped_early);
}

#[test]
fn damage_path_traversal_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    let digest = "0".repeat(64);
    edit(&bag.join("manifest-sha256.txt"), |t| {
        format!(
            "{t}{digest}  ../x\n{digest}  /etc/passwd\n{digest}  data/../../x\n\
             {digest}  data/a\\..\\..\\x\n{digest}  ./data/x\n"
        )
    });
    edit(&bag.join("tagmanifest-sha256.txt"), |t| {
        format!("{t}{digest}  ../../etc/shadow\n")
    });
    let r = strict(&bag);
    for (line, needle) in [
        (5, "`../x` is refused: the path has a `..` component"),
        (6, "`/etc/passwd` is refused: the path is absolute"),
        (
            7,
            "`data/../../x` is refused: the path has a `..` component",
        ),
        (8, "contains a backslash"),
        (9, "has a `.` component"),
    ] {
        expect(
            &r,
            ProblemKind::UnsafePath,
            Some("manifest-sha256.txt"),
            Some(line),
            needle,
        );
    }
    expect(
        &r,
        ProblemKind::UnsafePath,
        Some("tagmanifest-sha256.txt"),
        Some(6),
        "../../etc/shadow",
    );
    // Nothing outside the bag was opened or hashed: only the bag's own bytes.
    let own: u64 = snapshot(&bag).iter().map(|(_, b, _)| b.len() as u64).sum();
    assert!(r.bytes_hashed <= own);
}

#[test]
fn damage_entries_in_the_wrong_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    let bagit_digest =
        hex::encode(Algorithm::Sha256.digest(&fs::read(bag.join("bagit.txt")).unwrap()));
    edit(&bag.join("manifest-sha256.txt"), |t| {
        format!("{t}{bagit_digest}  bagit.txt\n")
    });
    let line1 = fs::read_to_string(bag.join("manifest-sha256.txt"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    edit(&bag.join("tagmanifest-sha256.txt"), |t| {
        format!("{t}{line1}\n")
    });
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::WrongPlace,
        Some("manifest-sha256.txt"),
        Some(5),
        "outside the payload directory",
    );
    expect(
        &r,
        ProblemKind::WrongPlace,
        Some("tagmanifest-sha256.txt"),
        Some(6),
        "lists the payload file",
    );
}

#[test]
fn damage_malformed_manifest_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    let d = "a".repeat(64);
    edit(&bag.join("manifest-sha256.txt"), |t| {
        format!(
            "{t}{}  data/short\n{}  data/nothex\n{d}\n\n {d}  data/indented\n{d}  data/100%.txt\n",
            "a".repeat(63),
            "g".repeat(64)
        )
    });
    reseal_tag_manifests(&bag);
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::BadChecksum,
        Some("manifest-sha256.txt"),
        Some(5),
        "expected 64 hex digits, found 63",
    );
    expect(
        &r,
        ProblemKind::BadChecksum,
        Some("manifest-sha256.txt"),
        Some(6),
        "not all hex digits",
    );
    expect(
        &r,
        ProblemKind::MalformedLine,
        Some("manifest-sha256.txt"),
        Some(7),
        "no space or tab",
    );
    expect(
        &r,
        ProblemKind::MalformedLine,
        Some("manifest-sha256.txt"),
        Some(8),
        "is empty",
    );
    expect(
        &r,
        ProblemKind::MalformedLine,
        Some("manifest-sha256.txt"),
        Some(9),
        "starts with whitespace",
    );
    expect(
        &r,
        ProblemKind::MalformedLine,
        Some("manifest-sha256.txt"),
        Some(10),
        "literal % to be written %25",
    );
}

#[test]
fn damage_payload_file_missing_from_one_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    edit(&bag.join("manifest-sha512.txt"), |t| {
        t.lines()
            .filter(|l| !l.contains("empty.bin"))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    reseal_tag_manifests(&bag);
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::NotInEveryManifest,
        Some("manifest-sha512.txt"),
        None,
        "does not list `data/ITM-000003/empty.bin`, which manifest-sha256.txt lists",
    );
    assert_eq!(r.problems.len(), 1, "{r}");
}

#[test]
fn damage_symlinks_devices_and_fifos_inside_the_bag() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    std::os::unix::fs::symlink("/etc/passwd", bag.join("data/passwd")).unwrap();
    std::os::unix::fs::symlink("../bag-info.txt", bag.join("custody/info-link")).unwrap();
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::NotRegularFile,
        Some("data/passwd"),
        None,
        "is a symbolic link (to /etc/passwd)",
    );
    expect(
        &r,
        ProblemKind::NotRegularFile,
        Some("custody/info-link"),
        None,
        "symbolic link",
    );

    // A link listed in the manifest with the digest of its target is still refused.
    let bag = sample_bag(tmp.path(), "bag2");
    let f = "data/ITM-000002/нотатки.txt";
    let real = bag.join(f);
    let moved = tmp.path().join("outside.txt");
    fs::rename(&real, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &real).unwrap();
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::NotRegularFile,
        Some(f),
        None,
        "symbolic link",
    );
    expect(
        &r,
        ProblemKind::NotRegularFile,
        Some("manifest-sha256.txt"),
        Some(2),
        "not a regular file",
    );
    assert!(
        r.bytes_hashed
            < fs::metadata(bag.join("data/ITM-000001/IMG_0412.JPG"))
                .unwrap()
                .len()
                + 200_000
    );

    // A FIFO: validation must neither block nor accept it.
    if Command::new("mkfifo")
        .arg(bag.join("data/pipe"))
        .status()
        .is_ok_and(|s| s.success())
    {
        let r = strict(&bag);
        expect(
            &r,
            ProblemKind::NotRegularFile,
            Some("data/pipe"),
            None,
            "FIFO",
        );
    } else {
        eprintln!("skipped: mkfifo not available");
    }
    // The bag root itself may be reached through a link.
    let good = sample_bag(tmp.path(), "good");
    let link = tmp.path().join("link-to-good");
    std::os::unix::fs::symlink(&good, &link).unwrap();
    assert!(strict(&link).ok);
}

#[test]
fn damage_huge_tag_files_and_lines_are_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    // 65 MiB, sparse: over the default 64 MiB limit without using the disk.
    let f = fs::OpenOptions::new()
        .write(true)
        .open(bag.join("bag-info.txt"))
        .unwrap();
    f.set_len(65 << 20).unwrap();
    drop(f);
    let f = fs::OpenOptions::new()
        .write(true)
        .open(bag.join("manifest-sha512.txt"))
        .unwrap();
    f.set_len(1 << 40).unwrap();
    drop(f);
    let opts = ValidateOptions {
        verify_checksums: false,
        ..ValidateOptions::default()
    };
    let r = validate(&bag, &opts, None);
    expect(
        &r,
        ProblemKind::TooLarge,
        Some("bag-info.txt"),
        None,
        "68157440 bytes, over the limit of 67108864",
    );
    expect(
        &r,
        ProblemKind::TooLarge,
        Some("manifest-sha512.txt"),
        None,
        "1099511627776 bytes",
    );

    // A configurable cap, and a line cap.
    let bag = sample_bag(tmp.path(), "bag2");
    edit(&bag.join("custody/checkpoint.txt"), |t| {
        t + &"x".repeat(5000)
    });
    let opts = ValidateOptions {
        max_line_bytes: 100,
        ..ValidateOptions::default()
    };
    let r = validate(&bag, &opts, None);
    expect(
        &r,
        ProblemKind::TooLarge,
        Some("manifest-sha512.txt"),
        Some(1),
        "is 158 bytes long, over the limit of 100 bytes per line",
    );
    let r = validate(
        &bag,
        &ValidateOptions {
            max_tag_file_bytes: 500,
            ..ValidateOptions::default()
        },
        None,
    );
    expect(
        &r,
        ProblemKind::TooLarge,
        Some("manifest-sha512.txt"),
        None,
        "over the limit of 500 bytes",
    );

    // Too many entries.
    let r = validate(
        &bag,
        &ValidateOptions {
            max_entries: 3,
            ..ValidateOptions::default()
        },
        None,
    );
    assert!(r.stopped_early);
    expect(
        &r,
        ProblemKind::TooLarge,
        None,
        None,
        "more than 3 files and directories",
    );
}

#[test]
fn damage_invalid_utf8_in_a_tag_file() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    let mut bytes = fs::read(bag.join("bag-info.txt")).unwrap();
    let at = bytes.windows(7).position(|w| w == b"Officer").unwrap();
    bytes[at] = 0xFF;
    fs::write(bag.join("bag-info.txt"), bytes).unwrap();
    reseal_tag_manifests(&bag);
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::InvalidUtf8,
        Some("bag-info.txt"),
        Some(2),
        "not valid UTF-8",
    );

    // In a manifest, and in a file name on disk.
    let bag = sample_bag(tmp.path(), "bag2");
    let mut m = fs::read(bag.join("manifest-sha256.txt")).unwrap();
    let at = m.iter().position(|&c| c == b'I').unwrap();
    m[at] = 0xC3;
    fs::write(bag.join("manifest-sha256.txt"), m).unwrap();
    fs::write(
        bag.join("data").join(OsStr::from_bytes(b"bad\xFFname")),
        b"x",
    )
    .unwrap();
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::InvalidUtf8,
        Some("manifest-sha256.txt"),
        Some(1),
        "",
    );
    expect(
        &r,
        ProblemKind::NonUtf8Name,
        Some("data/bad\u{FFFD}name"),
        None,
        "not valid UTF-8",
    );
}

#[test]
fn damage_line_endings_and_bag_info_syntax() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    edit(&bag.join("manifest-sha256.txt"), |t| {
        t.replacen('\n', "\r\n", 2).replacen("\r\n", "\n", 1)
    });
    edit(&bag.join("bag-info.txt"), |t| {
        t.replace("Contact-Name: ", "Contact-Name : ") + "Bagging-Date: 2026-11-26\nNo colon here\n"
    });
    reseal_tag_manifests(&bag);
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::LineEnding,
        Some("manifest-sha256.txt"),
        Some(2),
        "ends with CRLF but line 1 ends with LF",
    );
    expect(
        &r,
        ProblemKind::BagInfo,
        Some("bag-info.txt"),
        Some(2),
        "ends with whitespace before the colon",
    );
    expect(
        &r,
        ProblemKind::BagInfo,
        Some("bag-info.txt"),
        None,
        "MUST NOT be repeated",
    );
    expect(
        &r,
        ProblemKind::BagInfo,
        Some("bag-info.txt"),
        None,
        "has no colon",
    );
}

#[test]
fn damage_unlisted_tag_file_and_fetch_txt() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    fs::write(bag.join("notes.txt"), b"added later").unwrap();
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::UnlistedTagFile,
        Some("tagmanifest-sha256.txt"),
        None,
        "`notes.txt`",
    );
    expect(
        &r,
        ProblemKind::UnlistedTagFile,
        Some("tagmanifest-sha512.txt"),
        None,
        "`notes.txt`",
    );
    // RFC 8493 allows unlisted tag files.
    assert!(validate(&bag, &ValidateOptions::rfc(), None).ok);

    fs::remove_file(bag.join("notes.txt")).unwrap();
    fs::write(bag.join("fetch.txt"), b"https://example.org/x 1 data/x\n").unwrap();
    let r = validate(&bag, &ValidateOptions::rfc(), None);
    expect(
        &r,
        ProblemKind::FetchFile,
        Some("fetch.txt"),
        None,
        "not self-contained",
    );
}

#[test]
fn damage_unsupported_algorithm_and_missing_pieces() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    fs::write(bag.join("manifest-blake3.txt"), b"").unwrap();
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::UnsupportedAlgorithm,
        Some("manifest-blake3.txt"),
        None,
        "`blake3`",
    );

    let bag = sample_bag(tmp.path(), "bag2");
    for f in [
        "manifest-sha256.txt",
        "manifest-sha512.txt",
        "tagmanifest-sha256.txt",
        "tagmanifest-sha512.txt",
        "bag-info.txt",
    ] {
        fs::remove_file(bag.join(f)).unwrap();
    }
    let r = strict(&bag);
    expect(
        &r,
        ProblemKind::NoPayloadManifest,
        None,
        None,
        "requires at least one",
    );
    expect(
        &r,
        ProblemKind::NoTagManifest,
        None,
        None,
        "no tag manifest",
    );
    expect(
        &r,
        ProblemKind::MissingBagInfo,
        Some("bag-info.txt"),
        None,
        "is missing",
    );
    let r = validate(&bag, &ValidateOptions::rfc(), None);
    assert_eq!(r.problems.len(), 1, "{r}");

    let bag = sample_bag(tmp.path(), "bag3");
    fs::remove_dir_all(bag.join("data")).unwrap();
    expect(
        &strict(&bag),
        ProblemKind::MissingPayloadDir,
        Some("data"),
        None,
        "is missing",
    );
}

// ---------------------------------------------------------------------------------------
// where bagit-python is lax and this validator is strict

#[test]
fn bagit_python_accepts_what_the_strict_validator_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let bagit = bagit_py();
    type Damage = fn(&Path);
    let cases: Vec<(&str, Damage, ProblemKind, &str)> = vec![
        (
            "space before the colon in bagit.txt",
            |b| {
                fs::write(
                    b.join("bagit.txt"),
                    "BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n",
                )
                .unwrap();
                reseal_tag_manifests(b);
            },
            ProblemKind::Declaration,
            "bagit.txt",
        ),
        (
            "byte-order mark in a manifest",
            |b| {
                edit(&b.join("manifest-sha256.txt"), |t| format!("\u{FEFF}{t}"));
                reseal_tag_manifests(b);
            },
            ProblemKind::ByteOrderMark,
            "manifest-sha256.txt",
        ),
        (
            "blank and comment lines in a manifest",
            |b| {
                edit(&b.join("manifest-sha256.txt"), |t| {
                    format!("# comment\n\n{t}")
                });
                reseal_tag_manifests(b);
            },
            ProblemKind::MalformedLine,
            "manifest-sha256.txt",
        ),
        (
            "non-canonical path `./data/..` in a manifest",
            |b| {
                edit(&b.join("manifest-sha256.txt"), |t| {
                    t.replace("  data/ITM-000003", "  ./data/ITM-000003")
                });
                reseal_tag_manifests(b);
            },
            ProblemKind::UnsafePath,
            "manifest-sha256.txt",
        ),
        (
            "sha256sum binary-mode marker `*` before a path",
            |b| {
                edit(&b.join("manifest-sha256.txt"), |t| {
                    t.replace("  data/ITM-000003", " *data/ITM-000003")
                });
                reseal_tag_manifests(b);
            },
            ProblemKind::WrongPlace,
            "manifest-sha256.txt",
        ),
        (
            "symbolic link to a payload file, listed with the right digest",
            |b| {
                let bytes = fs::read(b.join("data/ITM-000003/empty.bin")).unwrap();
                std::os::unix::fs::symlink("empty.bin", b.join("data/ITM-000003/link.bin"))
                    .unwrap();
                for alg in [Algorithm::Sha256, Algorithm::Sha512] {
                    edit(&b.join(alg.manifest_name()), |t| {
                        format!(
                            "{t}{}  data/ITM-000003/link.bin\n",
                            hex::encode(alg.digest(&bytes))
                        )
                    });
                }
                let (bytes, files) = sample_oxum();
                set_oxum(b, bytes, files + 1);
                reseal_tag_manifests(b);
            },
            ProblemKind::NotRegularFile,
            "data/ITM-000003/link.bin",
        ),
        (
            "tag file missing from the tag manifests",
            |b| fs::write(b.join("unlisted.txt"), b"x").unwrap(),
            ProblemKind::UnlistedTagFile,
            "tagmanifest-sha256.txt",
        ),
        (
            "no tag manifest at all",
            |b| {
                fs::remove_file(b.join("tagmanifest-sha256.txt")).unwrap();
                fs::remove_file(b.join("tagmanifest-sha512.txt")).unwrap();
            },
            ProblemKind::NoTagManifest,
            "",
        ),
        (
            "Payload-Oxum repeated with a wrong second value",
            |b| {
                edit(&b.join("bag-info.txt"), |t| t + "Payload-Oxum: 1.1\n");
                reseal_tag_manifests(b);
            },
            ProblemKind::BagInfo,
            "bag-info.txt",
        ),
        (
            "Bagging-Date not a date",
            |b| {
                edit(&b.join("bag-info.txt"), |t| {
                    t.replace("2026-11-25", "25/11/2026")
                });
                reseal_tag_manifests(b);
            },
            ProblemKind::BagInfo,
            "bag-info.txt",
        ),
        (
            "no Payload-Oxum",
            |b| {
                edit(&b.join("bag-info.txt"), |t| {
                    t.lines()
                        .filter(|l| !l.starts_with("Payload-Oxum"))
                        .map(|l| format!("{l}\n"))
                        .collect()
                });
                reseal_tag_manifests(b);
            },
            ProblemKind::PayloadOxum,
            "bag-info.txt",
        ),
        (
            "mixed line terminators in bag-info.txt",
            |b| {
                edit(&b.join("bag-info.txt"), |t| t.replacen('\n', "\r\n", 1));
                reseal_tag_manifests(b);
            },
            ProblemKind::LineEnding,
            "bag-info.txt",
        ),
        (
            "a literal `%` in a BagIt 1.0 manifest path",
            |b| {
                let bytes = b"percent".to_vec();
                fs::write(b.join("data/100%.txt"), &bytes).unwrap();
                for alg in [Algorithm::Sha256, Algorithm::Sha512] {
                    edit(&b.join(alg.manifest_name()), |t| {
                        format!("{t}{}  data/100%.txt\n", hex::encode(alg.digest(&bytes)))
                    });
                }
                let (bytes, files) = sample_oxum();
                set_oxum(b, bytes + 7, files + 1);
                reseal_tag_manifests(b);
            },
            ProblemKind::MalformedLine,
            "manifest-sha256.txt",
        ),
        (
            "a manifest whose last line has no terminator",
            |b| {
                edit(&b.join("manifest-sha256.txt"), |t| t.trim_end().to_owned());
                reseal_tag_manifests(b);
            },
            ProblemKind::LineEnding,
            "manifest-sha256.txt",
        ),
        (
            "fetch.txt naming a file that is present",
            |b| {
                fs::write(
                    b.join("fetch.txt"),
                    "https://example.org/e 0 data/ITM-000003/empty.bin\n",
                )
                .unwrap();
                for alg in [Algorithm::Sha256, Algorithm::Sha512] {
                    let bytes = fs::read(b.join("fetch.txt")).unwrap();
                    edit(&b.join(alg.tagmanifest_name()), |t| {
                        format!("{t}{}  fetch.txt\n", hex::encode(alg.digest(&bytes)))
                    });
                }
            },
            ProblemKind::FetchFile,
            "fetch.txt",
        ),
    ];
    for (i, (what, damage, kind, file)) in cases.into_iter().enumerate() {
        let bag = sample_bag(tmp.path(), &format!("case{i}"));
        damage(&bag);
        let r = strict(&bag);
        let file = (!file.is_empty()).then_some(file);
        assert!(
            r.problems
                .iter()
                .any(|p| p.kind == kind && p.file.as_deref() == file),
            "{what}: expected {kind:?} in {file:?}:\n{r}"
        );
        if let Some(bagit) = &bagit {
            let (ok, log) = bagit_py_validate(bagit, &bag);
            assert!(
                ok,
                "{what}: bagit.py is expected to accept this bag, but:\n{log}"
            );
        }
    }
}

#[test]
fn a_duplicate_entry_in_a_0_97_bag_is_refused_though_bagit_python_only_warns() {
    let Some(bagit) = bagit_py() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bag");
    bagit_py_bag(&bagit, &dir, &[]);
    edit(&dir.join("manifest-sha256.txt"), |t| {
        let first = t.lines().next().unwrap().to_owned();
        format!("{t}{first}\n")
    });
    reseal_tag_manifests(&dir);
    let (ok, log) = bagit_py_validate(&bagit, &dir);
    assert!(ok, "{log}");
    expect(
        &strict(&dir),
        ProblemKind::DuplicateEntry,
        Some("manifest-sha256.txt"),
        Some(6),
        "again",
    );
}

// ---------------------------------------------------------------------------------------
// writer safety

struct FailingReader(usize);

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0 == 0 {
            return Err(io::Error::other("synthetic read failure"));
        }
        let n = buf.len().min(self.0);
        buf[..n].fill(7);
        self.0 -= n;
        Ok(n)
    }
}

#[test]
fn an_interrupted_export_leaves_nothing_that_looks_like_a_bag() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("bag");

    // A source that fails part-way: the error names the file, and nothing remains.
    let mut w = BagWriter::create(&target).unwrap();
    w.add_payload("ok.txt", &b"fine"[..]).unwrap();
    let err = w
        .add_payloads(vec![Payload::from_reader(
            "broken.bin",
            FailingReader(3 << 20),
        )])
        .unwrap_err();
    assert!(
        matches!(err, PackageError::Source { ref path, .. } if path == "broken.bin"),
        "{err}"
    );
    assert!(err.to_string().contains("synthetic read failure"));
    assert!(matches!(
        w.add_payload("more.txt", &b"x"[..]),
        Err(PackageError::Poisoned)
    ));
    drop(w);
    assert!(!target.exists());
    assert!(BagWriter::leftovers(tmp.path()).unwrap().is_empty());

    // A process killed mid-export: the staging directory stays, hidden, never a bag.
    let mut w = BagWriter::create(&target).unwrap();
    w.add_payload("ok.txt", &b"fine"[..]).unwrap();
    let staging = w.staging_dir().to_owned();
    std::mem::forget(w);
    assert!(!target.exists());
    assert_eq!(
        BagWriter::leftovers(tmp.path()).unwrap(),
        vec![staging.clone()]
    );
    assert!(
        staging
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".bag.partial-")
    );
    let r = strict(&staging);
    expect(
        &r,
        ProblemKind::NotABag,
        Some("bagit.txt"),
        None,
        "is missing",
    );

    // A content address that does not match stops the export.
    let other = tmp.path().join("bag-digest");
    let mut w = BagWriter::create(&other).unwrap();
    let err = w
        .add_payloads(vec![
            Payload::from_reader("a.txt", &b"abc"[..]).expect_sha256([0; 32]),
        ])
        .unwrap_err();
    assert!(matches!(err, PackageError::DigestMismatch { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&hex::encode(Algorithm::Sha256.digest(b"abc")))
    );
    let mut ok: [u8; 32] = [0; 32];
    ok.copy_from_slice(&Algorithm::Sha256.digest(b"abc"));
    drop(w);
    let mut w = BagWriter::create(&other).unwrap();
    w.add_payloads(vec![
        Payload::from_reader("a.txt", &b"abc"[..]).expect_sha256(ok),
    ])
    .unwrap();
    w.finish(&BagInfo::default()).unwrap();
    assert!(strict(&other).ok);
}

#[test]
fn the_writer_refuses_unsafe_or_colliding_paths_and_existing_targets() {
    let tmp = tempfile::tempdir().unwrap();
    let existing = sample_bag(tmp.path(), "bag");
    assert!(matches!(
        BagWriter::create(&existing),
        Err(PackageError::TargetExists(_))
    ));
    assert!(matches!(
        BagWriter::create(&tmp.path().join("no/such/parent/bag")),
        Err(PackageError::BadTarget(_))
    ));
    let mut w = BagWriter::create(&tmp.path().join("new")).unwrap();
    for bad in [
        "../x",
        "/etc/passwd",
        "a/../../x",
        "a//b",
        "a\\b",
        "",
        "./a",
        "a/",
    ] {
        let err = w.add_payload(bad, &b""[..]).unwrap_err();
        assert!(
            matches!(err, PackageError::InvalidPath { .. }),
            "{bad:?}: {err}"
        );
    }
    w.add_payload("Photo.JPG", &b"1"[..]).unwrap();
    let err = w.add_payload("photo.jpg", &b"2"[..]).unwrap_err();
    assert!(
        matches!(err, PackageError::Collision { ref existing, .. } if existing == "Photo.JPG"),
        "{err}"
    );
    w.add_payload("dir/a", &b"1"[..]).unwrap();
    assert!(matches!(
        w.add_payload("dir", &b"2"[..]),
        Err(PackageError::Collision { .. })
    ));
    for reserved in [
        "bagit.txt",
        "bag-info.txt",
        "manifest-md5.txt",
        "tagmanifest-sha256.txt",
        "fetch.txt",
    ] {
        assert!(
            matches!(
                w.add_tag_file(reserved, b""),
                Err(PackageError::ReservedTagFile(_))
            ),
            "{reserved}"
        );
    }
    for bad in ["data/x", "DATA/x", "../x"] {
        assert!(
            matches!(
                w.add_tag_file(bad, b""),
                Err(PackageError::InvalidPath { .. })
            ),
            "{bad}"
        );
    }
    w.add_tag_file("custody/manifest-notes.txt", b"fine, not at the root")
        .unwrap();
    let info = BagInfo {
        labels: vec![("Payload-Oxum".into(), "1.1".into())],
        ..Default::default()
    };
    assert!(matches!(w.finish(&info), Err(PackageError::BagInfo(_))));
    assert!(!tmp.path().join("new").exists());
}

#[test]
fn safe_names_stay_inside_data_and_are_unique() {
    for hostile in [
        "../../etc/passwd",
        "/etc/shadow",
        "data/../../x",
        "..",
        "C:\\Windows\\win.ini",
    ] {
        let p = safe_payload_path(hostile);
        assert!(
            !p.split('/').any(|c| c == ".." || c.is_empty()),
            "{hostile}: {p}"
        );
        assert!(!p.starts_with('/'));
    }
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("bag");
    let mut w = BagWriter::create(&target).unwrap();
    let mut namer = PathNamer::new();
    for original in ["x.jpg", "X.JPG", "x.jpg", "sub/x.jpg", "SUB/x.jpg"] {
        let p = namer.name(original);
        w.add_payload(&p, &b"x"[..]).unwrap();
    }
    w.finish(&BagInfo::default()).unwrap();
    let r = strict(&target);
    assert!(r.ok, "{r}");
    assert_eq!(r.payload_files, 5);
}

// ---------------------------------------------------------------------------------------
// validator behaviour

#[test]
fn the_validator_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    fs::write(bag.join("data/extra"), b"x").unwrap();
    let before = snapshot(tmp.path());
    let r = strict(&bag);
    assert!(!r.ok);
    assert_eq!(snapshot(tmp.path()), before);
}

#[test]
fn a_profile_check_sees_verified_tag_files() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    let check = |b: &CheckedBag<'_>, out: &mut Vec<Problem>| {
        const F: &str = "custody/checkpoint.txt";
        if !b.is_verified(F) {
            out.push(Problem::new(
                ProblemKind::Profile,
                Some(F),
                None,
                "is missing or not verified",
            ));
            return;
        }
        match b.read_tag_file(F) {
            Ok(bytes) if bytes.starts_with(b"synthetic checkpoint") => {}
            Ok(_) => out.push(Problem::new(
                ProblemKind::Profile,
                Some(F),
                Some(1),
                "is not a checkpoint",
            )),
            Err(p) => out.push(p),
        }
        if b.bag_info_value("Custody-Case-Id").is_none() {
            out.push(Problem::new(
                ProblemKind::Profile,
                Some("bag-info.txt"),
                None,
                "has no Custody-Case-Id",
            ));
        }
    };
    let r = validate(&bag, &ValidateOptions::default(), Some(&check));
    assert!(r.ok, "{r}");

    // Changed and resealed: BagIt is satisfied, the profile is not.
    fs::write(bag.join("custody/checkpoint.txt"), b"not one\n").unwrap();
    reseal_tag_manifests(&bag);
    assert!(strict(&bag).ok);
    let r = validate(&bag, &ValidateOptions::default(), Some(&check));
    expect(
        &r,
        ProblemKind::Profile,
        Some("custody/checkpoint.txt"),
        Some(1),
        "is not a checkpoint",
    );

    // Changed and not resealed: the profile is told the file is not verified.
    fs::write(bag.join("custody/checkpoint.txt"), b"changed again\n").unwrap();
    let r = validate(&bag, &ValidateOptions::default(), Some(&check));
    expect(
        &r,
        ProblemKind::Profile,
        Some("custody/checkpoint.txt"),
        None,
        "not verified",
    );
    expect(
        &r,
        ProblemKind::ChecksumMismatch,
        Some("tagmanifest-sha256.txt"),
        None,
        "checkpoint",
    );
}

#[test]
fn completeness_only_mode_skips_hashing() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = sample_bag(tmp.path(), "bag");
    let f = bag.join("data/ITM-000004/report with spaces.pdf");
    let mut bytes = fs::read(&f).unwrap();
    bytes[0] ^= 1;
    fs::write(&f, bytes).unwrap();
    let opts = ValidateOptions {
        verify_checksums: false,
        ..ValidateOptions::default()
    };
    let r = validate(&bag, &opts, None);
    assert!(r.ok, "{r}");
    assert_eq!(r.bytes_hashed, 0);
    assert!(!strict(&bag).ok);
}

#[test]
fn progress_reports_every_byte() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let tmp = tempfile::tempdir().unwrap();
    let written = Arc::new(AtomicU64::new(0));
    let w2 = written.clone();
    let target = tmp.path().join("bag");
    let mut w = BagWriter::create(&target).unwrap().on_progress(move |n| {
        w2.fetch_add(n, Ordering::Relaxed);
    });
    let items = sample_files()
        .into_iter()
        .map(|(p, b)| Payload::from_reader(p, io::Cursor::new(b)))
        .collect();
    w.add_payloads(items).unwrap();
    let s = w.finish(&BagInfo::default()).unwrap();
    assert_eq!(written.load(Ordering::Relaxed), s.payload_bytes);
    let hashed = Arc::new(AtomicU64::new(0));
    let h2 = hashed.clone();
    let opts = ValidateOptions {
        progress: Some(Arc::new(move |n| {
            h2.fetch_add(n, Ordering::Relaxed);
        })),
        ..ValidateOptions::default()
    };
    let r = validate(&target, &opts, None);
    assert!(r.ok);
    assert_eq!(hashed.load(Ordering::Relaxed), r.bytes_hashed);
}
