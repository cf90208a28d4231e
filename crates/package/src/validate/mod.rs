//! Validating a received bag against RFC 8493, strictly, without writing anything.
//!
//! The order of work: walk the whole bag once (refusing anything that is not a regular
//! file or a directory), read the declaration, parse every manifest and tag manifest,
//! compare them with the files found, check `bag-info.txt` and `Payload-Oxum`, then hash
//! every listed file on [`ValidateOptions::workers`] threads, each file read once for all
//! the algorithms that list it. Finally a caller's [`TagCheck`] may inspect
//! profile-specific tag files. Every defect is collected; validation stops early only
//! when the declaration cannot be read or a limit is reached.
//!
//! Files are opened with `O_NOFOLLOW` and compared (device, inode, type, size) with what
//! the walk saw, so a file swapped for a link or another file between the walk and the
//! read is reported rather than followed.

mod report;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use unicode_normalization::UnicodeNormalization;

pub use report::{Problem, ProblemKind, ValidationReport};

use crate::algorithm::{Algorithm, MultiHasher, parse_hex};
use crate::info;
use crate::path::{check_bag_path, decode_manifest_path};
use crate::stream::{CopyError, FAN_OUT_MIN, copy_fanned, copy_hashing, default_workers, run_jobs};
use crate::text::{self, ReadIssue, TextIssueKind, split_lines};
use crate::writer::Progress;
use report::show;

/// Limits and policy. [`ValidateOptions::default`] is the strict policy Custody uses for
/// packages it receives; [`ValidateOptions::rfc`] keeps only what RFC 8493 itself
/// requires (with the same limits).
#[derive(Clone)]
pub struct ValidateOptions {
    /// Largest tag file read into memory (default 64 MiB).
    pub max_tag_file_bytes: u64,
    /// Longest line in a tag file (default 64 KiB).
    pub max_line_bytes: usize,
    /// Most entries in one manifest, and most files and directories in the bag
    /// (default 2,000,000).
    pub max_entries: usize,
    /// Files hashed at once (default 2).
    pub workers: usize,
    /// `bag-info.txt` must exist (RFC: optional).
    pub require_bag_info: bool,
    /// `Payload-Oxum` must be present (RFC: optional).
    pub require_payload_oxum: bool,
    /// At least one tag manifest must exist (RFC: optional).
    pub require_tag_manifest: bool,
    /// Every tag file must be listed in every tag manifest (RFC: tag files may be
    /// unlisted).
    pub require_complete_tag_manifests: bool,
    /// At least one payload manifest must use an algorithm other than MD5 or SHA-1.
    pub require_strong_algorithm: bool,
    /// Compute checksums; `false` checks structure and completeness only.
    pub verify_checksums: bool,
    /// Called with the number of bytes just hashed.
    pub progress: Option<Progress>,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self {
            max_tag_file_bytes: 64 << 20,
            max_line_bytes: 64 << 10,
            max_entries: 2_000_000,
            workers: default_workers(),
            require_bag_info: true,
            require_payload_oxum: true,
            require_tag_manifest: true,
            require_complete_tag_manifests: true,
            require_strong_algorithm: true,
            verify_checksums: true,
            progress: None,
        }
    }
}

impl ValidateOptions {
    /// Only the requirements of RFC 8493 (plus this validator's fixed strictness on
    /// syntax, paths and file types), with the default limits.
    pub fn rfc() -> Self {
        Self {
            require_bag_info: false,
            require_payload_oxum: false,
            require_tag_manifest: false,
            require_complete_tag_manifests: false,
            require_strong_algorithm: false,
            ..Self::default()
        }
    }
}

impl fmt::Debug for ValidateOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidateOptions")
            .field("max_tag_file_bytes", &self.max_tag_file_bytes)
            .field("max_line_bytes", &self.max_line_bytes)
            .field("max_entries", &self.max_entries)
            .field("workers", &self.workers)
            .field("require_bag_info", &self.require_bag_info)
            .field("require_payload_oxum", &self.require_payload_oxum)
            .field("require_tag_manifest", &self.require_tag_manifest)
            .field(
                "require_complete_tag_manifests",
                &self.require_complete_tag_manifests,
            )
            .field("require_strong_algorithm", &self.require_strong_algorithm)
            .field("verify_checksums", &self.verify_checksums)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Profile-specific checks run after the BagIt checks, e.g. that a bag carries a ledger
/// checkpoint and that its signature verifies. Closures of the right shape implement it.
pub trait TagCheck: Sync {
    fn check(&self, bag: &CheckedBag<'_>, problems: &mut Vec<Problem>);
}

impl<F> TagCheck for F
where
    F: Fn(&CheckedBag<'_>, &mut Vec<Problem>) + Sync,
{
    fn check(&self, bag: &CheckedBag<'_>, problems: &mut Vec<Problem>) {
        self(bag, problems)
    }
}

/// What a [`TagCheck`] sees: the bag as the BagIt checks found it.
pub struct CheckedBag<'a> {
    root: &'a Path,
    opts: &'a ValidateOptions,
    report: &'a ValidationReport,
    payload_files: Vec<&'a str>,
    tag_files: Vec<&'a str>,
    verified_tags: &'a HashSet<String>,
}

impl CheckedBag<'_> {
    pub fn root(&self) -> &Path {
        self.root
    }

    /// `BagIt-Version` as declared.
    pub fn version(&self) -> Option<&str> {
        self.report.version.as_deref()
    }

    /// `bag-info.txt` elements in file order.
    pub fn bag_info(&self) -> &[(String, String)] {
        &self.report.bag_info
    }

    /// The first value of a bag-info label (case-insensitive).
    pub fn bag_info_value(&self, label: &str) -> Option<&str> {
        self.report.bag_info_value(label)
    }

    /// Regular files under `data/`, sorted.
    pub fn payload_files(&self) -> &[&str] {
        &self.payload_files
    }

    /// Regular files outside `data/` (including the manifests), sorted.
    pub fn tag_files(&self) -> &[&str] {
        &self.tag_files
    }

    /// True when `path` is listed in at least one tag manifest and matched every
    /// checksum listed for it. A profile should trust only verified tag files.
    pub fn is_verified(&self, path: &str) -> bool {
        self.verified_tags.contains(path)
    }

    /// The problems the BagIt checks found (the profile may decide not to go on).
    pub fn problems(&self) -> &[Problem] {
        &self.report.problems
    }

    /// Reads a tag file (relative to the bag root) under the same limits as the
    /// validator, without following a symbolic link.
    pub fn read_tag_file(&self, path: &str) -> Result<Vec<u8>, Problem> {
        if check_bag_path(path).is_err() || !self.tag_files.contains(&path) {
            return Err(Problem::new(
                ProblemKind::MissingFile,
                Some(path),
                None,
                "this tag file is not in the bag",
            ));
        }
        text::read_capped(&self.root.join(path), self.opts.max_tag_file_bytes)
            .map_err(|e| read_issue_problem(path, e, self.opts.max_tag_file_bytes))
    }
}

/// Validates the bag in `dir`. Nothing is written. `extra` runs after the BagIt checks.
pub fn validate(
    dir: &Path,
    opts: &ValidateOptions,
    extra: Option<&dyn TagCheck>,
) -> ValidationReport {
    let mut v = Validator {
        root: dir,
        opts,
        problems: Vec::new(),
        report: ValidationReport::default(),
    };
    let verified = v.run();
    let mut report = v.report;
    report.problems = v.problems;
    if let (Some(check), Some((tree, verified))) = (extra, verified) {
        let mut extra_problems = Vec::new();
        {
            let bag = CheckedBag {
                root: dir,
                opts,
                report: &report,
                payload_files: tree
                    .files
                    .keys()
                    .filter(|p| p.starts_with("data/"))
                    .map(String::as_str)
                    .collect(),
                tag_files: tree
                    .files
                    .keys()
                    .filter(|p| !p.starts_with("data/"))
                    .map(String::as_str)
                    .collect(),
                verified_tags: &verified,
            };
            check.check(&bag, &mut extra_problems);
        }
        report.problems.extend(extra_problems);
    }
    report.ok = report.problems.is_empty();
    report
}

/// A regular file as the walk saw it.
#[derive(Clone, Copy, Debug)]
struct Found {
    size: u64,
    dev: u64,
    ino: u64,
}

/// Everything in the bag.
#[derive(Default)]
struct Tree {
    files: BTreeMap<String, Found>,
    dirs: BTreeSet<String>,
    /// Entries that are neither regular files nor directories, with what they are.
    special: BTreeMap<String, &'static str>,
}

struct Entry {
    path: String,
    raw: String,
    digest: Vec<u8>,
    line: u64,
}

/// Digests of one file, with the number of bytes read.
type Hashed = (Vec<(Algorithm, Vec<u8>)>, u64);

struct Manifest {
    name: String,
    alg: Algorithm,
    tag: bool,
    entries: Vec<Entry>,
    by_path: HashMap<String, usize>,
}

struct Validator<'a> {
    root: &'a Path,
    opts: &'a ValidateOptions,
    problems: Vec<Problem>,
    report: ValidationReport,
}

fn read_issue_problem(path: &str, e: ReadIssue, cap: u64) -> Problem {
    match e {
        ReadIssue::TooLarge(n) => Problem::new(
            ProblemKind::TooLarge,
            Some(path),
            None,
            format!(
                "is {n} bytes, over the limit of {cap} bytes for a tag file; it is not read \
                 (raise the limit only for a bag whose origin you trust)"
            ),
        ),
        ReadIssue::NotRegular => Problem::new(
            ProblemKind::NotRegularFile,
            Some(path),
            None,
            "is not a regular file",
        ),
        ReadIssue::Io(e) => Problem::new(
            ProblemKind::Io,
            Some(path),
            None,
            format!("cannot be read: {e}"),
        ),
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

fn nfc(s: &str) -> String {
    s.nfc().collect()
}

impl Validator<'_> {
    fn problem(
        &mut self,
        kind: ProblemKind,
        file: Option<&str>,
        line: Option<u64>,
        detail: impl AsRef<str>,
    ) {
        self.problems.push(Problem::new(kind, file, line, detail));
    }

    /// Runs the BagIt checks; returns what a profile check needs, unless validation
    /// stopped early.
    fn run(&mut self) -> Option<(Tree, HashSet<String>)> {
        match fs::metadata(self.root) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                let detail = format!(
                    "{} is not a directory, so it is not a bag",
                    self.root.display()
                );
                self.problem(ProblemKind::NotABag, None, None, detail);
                self.report.stopped_early = true;
                return None;
            }
            Err(e) => {
                let detail = format!("{} cannot be opened: {e}", self.root.display());
                self.problem(ProblemKind::NotABag, None, None, detail);
                self.report.stopped_early = true;
                return None;
            }
        }
        let Some(tree) = self.walk() else {
            self.report.stopped_early = true;
            return None;
        };
        for (p, f) in &tree.files {
            if p.starts_with("data/") {
                self.report.payload_files += 1;
                self.report.payload_bytes += f.size;
            }
        }
        let Some(version) = self.declaration(&tree) else {
            self.report.stopped_early = true;
            return None;
        };
        let strict_percent = version == "1.0";
        self.report.version = Some(version);

        if !tree.dirs.contains("data") {
            let detail = if tree.files.contains_key("data") || tree.special.contains_key("data") {
                "data is not a directory; a bag keeps its payload in the directory `data/` (RFC 8493 §2.1.2)"
            } else {
                "the payload directory `data/` is missing (RFC 8493 §2.1.2)"
            };
            self.problem(ProblemKind::MissingPayloadDir, Some("data"), None, detail);
        }
        if tree.files.contains_key("fetch.txt") {
            self.problem(
                ProblemKind::FetchFile,
                Some("fetch.txt"),
                None,
                "is present: this bag expects files to be downloaded from elsewhere, and a \
                 package that is not self-contained is not accepted",
            );
        }

        let manifests = self.manifests(&tree, strict_percent)?;
        self.completeness(&tree, &manifests);
        self.bag_info(&tree);
        let verified = if self.opts.verify_checksums {
            self.checksums(&tree, &manifests)
        } else {
            HashSet::new()
        };
        Some((tree, verified))
    }

    /// Walks the whole bag without following links. `None` when a limit is reached.
    fn walk(&mut self) -> Option<Tree> {
        let mut tree = Tree::default();
        let mut stack = vec![String::new()];
        let mut count = 0usize;
        while let Some(dir) = stack.pop() {
            let abs = self.root.join(&dir);
            let rd = match fs::read_dir(&abs) {
                Ok(rd) => rd,
                Err(e) => {
                    let shown = if dir.is_empty() {
                        ".".to_owned()
                    } else {
                        dir.clone()
                    };
                    self.problem(
                        ProblemKind::Io,
                        Some(&shown),
                        None,
                        format!("cannot be listed: {e}"),
                    );
                    continue;
                }
            };
            let mut entries = Vec::new();
            for e in rd {
                count += 1;
                if count > self.opts.max_entries {
                    let detail = format!(
                        "the bag holds more than {} files and directories, the limit; \
                         validation stopped",
                        self.opts.max_entries
                    );
                    self.problem(ProblemKind::TooLarge, None, None, detail);
                    return None;
                }
                match e {
                    Ok(e) => entries.push(e),
                    Err(err) => {
                        let shown = if dir.is_empty() {
                            ".".to_owned()
                        } else {
                            dir.clone()
                        };
                        self.problem(
                            ProblemKind::Io,
                            Some(&shown),
                            None,
                            format!("cannot be listed completely: {err}"),
                        );
                    }
                }
            }
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let name = e.file_name();
                let Some(name) = name.to_str() else {
                    let shown = join(&dir, &name.to_string_lossy());
                    let detail = format!(
                        "the name is not valid UTF-8 (raw bytes {:?}); bagit.txt declares \
                         UTF-8, so no manifest line can name this file",
                        name
                    );
                    self.problem(ProblemKind::NonUtf8Name, Some(&shown), None, detail);
                    continue;
                };
                let rel = join(&dir, name);
                let ft = match e.file_type() {
                    Ok(t) => t,
                    Err(err) => {
                        self.problem(
                            ProblemKind::Io,
                            Some(&rel),
                            None,
                            format!("cannot be examined: {err}"),
                        );
                        continue;
                    }
                };
                if ft.is_dir() {
                    tree.dirs.insert(rel.clone());
                    stack.push(rel);
                } else if ft.is_file() {
                    match e.metadata() {
                        Ok(m) => {
                            tree.files.insert(
                                rel,
                                Found {
                                    size: m.len(),
                                    dev: m.dev(),
                                    ino: m.ino(),
                                },
                            );
                        }
                        Err(err) => self.problem(
                            ProblemKind::Io,
                            Some(&rel),
                            None,
                            format!("cannot be examined: {err}"),
                        ),
                    }
                } else {
                    let what = if ft.is_symlink() {
                        "a symbolic link"
                    } else if ft.is_fifo() {
                        "a FIFO (named pipe)"
                    } else if ft.is_socket() {
                        "a socket"
                    } else if ft.is_block_device() || ft.is_char_device() {
                        "a device"
                    } else {
                        "not a regular file"
                    };
                    let target = if ft.is_symlink() {
                        fs::read_link(e.path())
                            .map(|t| format!(" (to {})", show(&t.to_string_lossy())))
                            .unwrap_or_default()
                    } else {
                        String::new()
                    };
                    let detail = format!(
                        "is {what}{target}; a bag may hold only regular files and directories, \
                         since anything else cannot be verified and may reach outside the bag"
                    );
                    self.problem(ProblemKind::NotRegularFile, Some(&rel), None, detail);
                    tree.special.insert(rel, what);
                }
            }
        }
        Some(tree)
    }

    /// Reads a tag file BagIt defines as text and reports BOMs, bad UTF-8, line endings
    /// and over-long lines. `None` when it cannot be read or decoded.
    fn read_text(&mut self, path: &str) -> Option<String> {
        let bytes = match text::read_capped(&self.root.join(path), self.opts.max_tag_file_bytes) {
            Ok(b) => b,
            Err(e) => {
                self.problems
                    .push(read_issue_problem(path, e, self.opts.max_tag_file_bytes));
                return None;
            }
        };
        let (text, issues) = text::decode(&bytes, self.opts.max_line_bytes);
        for i in issues {
            let kind = match i.kind {
                TextIssueKind::Bom => ProblemKind::ByteOrderMark,
                TextIssueKind::Utf8 => ProblemKind::InvalidUtf8,
                TextIssueKind::Ending => ProblemKind::LineEnding,
                TextIssueKind::LineTooLong => ProblemKind::TooLarge,
            };
            self.problem(kind, Some(path), i.line, i.detail);
        }
        text.map(str::to_owned)
    }

    /// Checks `bagit.txt`; returns the version whose rules apply, or `None` when the bag
    /// cannot be interpreted.
    fn declaration(&mut self, tree: &Tree) -> Option<String> {
        const FILE: &str = "bagit.txt";
        if !tree.files.contains_key(FILE) {
            if !tree.special.contains_key(FILE) {
                self.problem(
                    ProblemKind::NotABag,
                    Some(FILE),
                    None,
                    "is missing, so this directory is not a BagIt bag (RFC 8493 §2.1.1)",
                );
            }
            return None;
        }
        let text = self.read_text(FILE)?;
        let lines = split_lines(&text);
        if lines.len() != 2 {
            self.problem(
                ProblemKind::Declaration,
                Some(FILE),
                None,
                format!(
                    "has {} lines; RFC 8493 §2.1.1 requires exactly two: `BagIt-Version: M.N` \
                     and then `Tag-File-Character-Encoding: UTF-8`",
                    lines.len()
                ),
            );
        }
        const LABELS: [&str; 2] = ["BagIt-Version", "Tag-File-Character-Encoding"];
        let mut values: [Option<(String, u64)>; 2] = [None, None];
        for l in &lines {
            let Some((label, value)) = l.text.split_once(':') else {
                let detail = format!("`{}` is not a `Label: value` line", l.text.escape_debug());
                self.problem(ProblemKind::Declaration, Some(FILE), Some(l.number), detail);
                continue;
            };
            let value = value.trim_matches([' ', '\t']);
            let Some(which) = LABELS
                .iter()
                .position(|k| k.eq_ignore_ascii_case(label.trim()))
            else {
                let detail = format!(
                    "has the label `{}`; bagit.txt holds only BagIt-Version and \
                     Tag-File-Character-Encoding",
                    label.escape_debug()
                );
                self.problem(ProblemKind::Declaration, Some(FILE), Some(l.number), detail);
                continue;
            };
            let canonical = format!("{}: {value}", LABELS[which]);
            if l.text != canonical {
                let detail = format!(
                    "reads `{}` but must read exactly `{canonical}`: the label spelled as \
                     shown, the colon straight after it, one space, then the value \
                     (RFC 8493 §2.1.1)",
                    l.text.escape_debug()
                );
                self.problem(ProblemKind::Declaration, Some(FILE), Some(l.number), detail);
            }
            if which as u64 + 1 != l.number {
                let detail = format!("{} must be on line {}", LABELS[which], which + 1);
                self.problem(ProblemKind::Declaration, Some(FILE), Some(l.number), detail);
            }
            if let Some((_, first)) = &values[which] {
                let detail = format!("repeats {} (first on line {first})", LABELS[which]);
                self.problem(ProblemKind::Declaration, Some(FILE), Some(l.number), detail);
            } else {
                values[which] = Some((value.to_owned(), l.number));
            }
        }
        let [version, encoding] = values;
        let version = match version {
            Some((v, line)) => {
                if v != "1.0" && v != "0.97" {
                    let detail = format!(
                        "declares BagIt-Version `{}`; this validator supports BagIt 1.0 \
                         (RFC 8493) and 0.97 only",
                        v.escape_debug()
                    );
                    self.problem(
                        ProblemKind::UnsupportedVersion,
                        Some(FILE),
                        Some(line),
                        detail,
                    );
                    return None;
                }
                v
            }
            None => {
                self.problem(
                    ProblemKind::Declaration,
                    Some(FILE),
                    None,
                    "has no BagIt-Version line; the rules of BagIt 1.0 are applied",
                );
                "1.0".to_owned()
            }
        };
        match encoding {
            Some((e, _)) if e.eq_ignore_ascii_case("UTF-8") => {}
            Some((e, line)) => {
                let detail = format!(
                    "declares Tag-File-Character-Encoding `{}`; this validator reads only \
                     UTF-8 tag files",
                    e.escape_debug()
                );
                self.problem(
                    ProblemKind::UnsupportedEncoding,
                    Some(FILE),
                    Some(line),
                    detail,
                );
                return None;
            }
            None => self.problem(
                ProblemKind::Declaration,
                Some(FILE),
                None,
                "has no Tag-File-Character-Encoding line; UTF-8 is assumed",
            ),
        }
        Some(version)
    }

    /// Finds and parses every manifest and tag manifest at the bag root.
    fn manifests(&mut self, tree: &Tree, strict_percent: bool) -> Option<Vec<Manifest>> {
        let mut out = Vec::new();
        let mut payload_manifest_files = 0;
        let mut tag_manifest_files = 0;
        let names: Vec<String> = tree
            .files
            .keys()
            .filter(|p| !p.contains('/') && p.ends_with(".txt"))
            .cloned()
            .collect();
        for name in names {
            let (tag, alg_name) = if let Some(rest) = name.strip_prefix("tagmanifest-") {
                (true, rest.trim_end_matches(".txt"))
            } else if let Some(rest) = name.strip_prefix("manifest-") {
                (false, rest.trim_end_matches(".txt"))
            } else {
                continue;
            };
            if tag {
                tag_manifest_files += 1;
            } else {
                payload_manifest_files += 1;
            }
            let Some(alg) = Algorithm::from_name(alg_name) else {
                let detail = format!(
                    "names the algorithm `{}`, which this validator cannot compute \
                     (supported: md5, sha1, sha224, sha256, sha384, sha512), so the files it \
                     covers cannot be verified",
                    alg_name.escape_debug()
                );
                self.problem(ProblemKind::UnsupportedAlgorithm, Some(&name), None, detail);
                continue;
            };
            let text = self.read_text(&name);
            let Some(text) = text else { continue };
            let m = self.parse_manifest(&name, alg, tag, &text, strict_percent);
            out.push(m?);
        }
        if payload_manifest_files == 0 {
            self.problem(
                ProblemKind::NoPayloadManifest,
                None,
                None,
                "the bag has no payload manifest (manifest-<algorithm>.txt); RFC 8493 §2.1.3 \
                 requires at least one",
            );
        }
        if tag_manifest_files == 0 && self.opts.require_tag_manifest {
            self.problem(
                ProblemKind::NoTagManifest,
                None,
                None,
                "the bag has no tag manifest (tagmanifest-<algorithm>.txt), so nothing \
                 protects bag-info.txt and the manifests against change",
            );
        }
        let payload_algs: Vec<Algorithm> = out.iter().filter(|m| !m.tag).map(|m| m.alg).collect();
        if self.opts.require_strong_algorithm
            && !payload_algs.is_empty()
            && payload_algs.iter().all(|a| !a.is_strong())
        {
            self.problem(
                ProblemKind::WeakAlgorithmsOnly,
                None,
                None,
                "every payload manifest uses MD5 or SHA-1, whose collisions can be made on \
                 purpose; a SHA-256 or SHA-512 manifest is required",
            );
        }
        self.report.payload_algorithms = payload_algs;
        self.report.tag_algorithms = out.iter().filter(|m| m.tag).map(|m| m.alg).collect();
        Some(out)
    }

    /// Parses one manifest. `None` when it exceeds the entry limit (validation stops).
    fn parse_manifest(
        &mut self,
        name: &str,
        alg: Algorithm,
        tag: bool,
        text: &str,
        strict_percent: bool,
    ) -> Option<Manifest> {
        let mut m = Manifest {
            name: name.to_owned(),
            alg,
            tag,
            entries: Vec::new(),
            by_path: HashMap::new(),
        };
        let mut by_nfc: HashMap<String, usize> = HashMap::new();
        let hex_len = alg.digest_len() * 2;
        let f = Some(name);
        for l in split_lines(text) {
            let n = Some(l.number);
            if l.text.len() > self.opts.max_line_bytes {
                continue; // reported by read_text
            }
            if m.entries.len() >= self.opts.max_entries {
                let detail = format!(
                    "the manifest has more than {} entries, the limit; validation stopped",
                    self.opts.max_entries
                );
                self.problem(ProblemKind::TooLarge, f, n, detail);
                self.report.stopped_early = true;
                return None;
            }
            if l.text.is_empty() {
                self.problem(
                    ProblemKind::MalformedLine,
                    f,
                    n,
                    "is empty; every manifest line is `<checksum> <path>`",
                );
                continue;
            }
            let Some(sep) = l.text.find([' ', '\t']) else {
                let detail = format!(
                    "`{}` has no space or tab between a checksum and a path",
                    show(l.text)
                );
                self.problem(ProblemKind::MalformedLine, f, n, detail);
                continue;
            };
            if sep == 0 {
                self.problem(
                    ProblemKind::MalformedLine,
                    f,
                    n,
                    "starts with whitespace; a manifest line is `<checksum> <path>`",
                );
                continue;
            }
            let checksum = &l.text[..sep];
            let raw = l.text[sep..].trim_start_matches([' ', '\t']);
            let digest = match parse_hex(checksum) {
                Some(d) if checksum.len() == hex_len => d,
                _ => {
                    let detail = format!(
                        "`{}` is not a {alg} checksum: expected {hex_len} hex digits, found {} \
                         characters{}",
                        show(checksum),
                        checksum.chars().count(),
                        if parse_hex(checksum).is_none() {
                            " that are not all hex digits"
                        } else {
                            ""
                        }
                    );
                    self.problem(ProblemKind::BadChecksum, f, n, detail);
                    continue;
                }
            };
            if raw.is_empty() {
                self.problem(
                    ProblemKind::MalformedLine,
                    f,
                    n,
                    "has a checksum but no path",
                );
                continue;
            }
            let path = match decode_manifest_path(raw, strict_percent) {
                Ok(p) => p,
                Err(bad) => {
                    let detail = format!(
                        "the path `{}` has a `%` (at byte {}) that is not `%25`, `%0D` or \
                         `%0A`; BagIt 1.0 requires a literal % to be written %25 \
                         (RFC 8493 §2.1.3)",
                        show(raw),
                        bad.offset + 1
                    );
                    self.problem(ProblemKind::MalformedLine, f, n, detail);
                    continue;
                }
            };
            if let Err(issue) = check_bag_path(&path) {
                let detail = format!(
                    "the path `{}` is refused: {issue}; paths must stay inside the bag \
                     (RFC 8493 §2.1.3, §7.2)",
                    show(&path)
                );
                self.problem(ProblemKind::UnsafePath, f, n, detail);
                continue;
            }
            let in_data = path.starts_with("data/");
            if !tag && !in_data {
                let detail = format!(
                    "lists `{}`, which is outside the payload directory; a payload manifest \
                     lists only files under data/ (RFC 8493 §2.1.3)",
                    show(&path)
                );
                self.problem(ProblemKind::WrongPlace, f, n, detail);
                continue;
            }
            if tag && (in_data || path == "data") {
                let detail = format!(
                    "lists the payload file `{}`; a tag manifest lists only tag files \
                     (RFC 8493 §2.2.1)",
                    show(&path)
                );
                self.problem(ProblemKind::WrongPlace, f, n, detail);
                continue;
            }
            if let Some(&first) = m.by_path.get(&path) {
                let prev = &m.entries[first];
                if prev.raw != raw {
                    let detail = format!(
                        "lists `{}` again, spelled `{}` here and `{}` on line {}: the same \
                         file under two encodings",
                        show(&path),
                        show(raw),
                        show(&prev.raw),
                        prev.line
                    );
                    self.problem(ProblemKind::EncodingConflict, f, n, detail);
                } else {
                    let detail = format!(
                        "lists `{}` again (first on line {}); each file appears once per \
                         manifest",
                        show(&path),
                        prev.line
                    );
                    self.problem(ProblemKind::DuplicateEntry, f, n, detail);
                }
                continue;
            }
            let key = nfc(&path);
            if let Some(&other) = by_nfc.get(&key) {
                let prev = &m.entries[other];
                let detail = format!(
                    "lists `{}`, which differs from `{}` on line {} only in its Unicode \
                     normalization form; macOS and bagit-python treat them as one file",
                    show(&path),
                    show(&prev.path),
                    prev.line
                );
                self.problem(ProblemKind::EncodingConflict, f, n, detail);
                continue;
            }
            let idx = m.entries.len();
            by_nfc.insert(key, idx);
            m.by_path.insert(path.clone(), idx);
            m.entries.push(Entry {
                path,
                raw: raw.to_owned(),
                digest,
                line: l.number,
            });
        }
        Some(m)
    }

    /// Compares the manifests with the files found.
    fn completeness(&mut self, tree: &Tree, manifests: &[Manifest]) {
        let payload: Vec<&Manifest> = manifests.iter().filter(|m| !m.tag).collect();
        let tags: Vec<&Manifest> = manifests.iter().filter(|m| m.tag).collect();
        let on_disk_nfc: HashMap<String, &str> =
            tree.files.keys().map(|p| (nfc(p), p.as_str())).collect();

        if !payload.is_empty() {
            for path in tree.files.keys().filter(|p| p.starts_with("data/")) {
                let listing: Vec<&&Manifest> = payload
                    .iter()
                    .filter(|m| m.by_path.contains_key(path))
                    .collect();
                if listing.is_empty() {
                    let key = nfc(path);
                    let hint = payload
                        .iter()
                        .find_map(|m| {
                            m.entries.iter().find(|e| nfc(&e.path) == key).map(|e| {
                                format!(
                                    " ({} line {} lists `{}`, the same name in another Unicode \
                                     normalization form: the bag was probably copied through a \
                                     file system that renames files)",
                                    m.name,
                                    e.line,
                                    show(&e.path)
                                )
                            })
                        })
                        .unwrap_or_default();
                    let detail = format!(
                        "is in the payload directory but in no payload manifest: it was added \
                         or renamed after the bag was made{hint}"
                    );
                    self.problem(ProblemKind::UnlistedPayloadFile, Some(path), None, detail);
                } else if listing.len() < payload.len() {
                    let lister = &listing[0].name;
                    for m in payload.iter().filter(|m| !m.by_path.contains_key(path)) {
                        let detail = format!(
                            "does not list `{}`, which {lister} lists; every payload file must \
                             be in every payload manifest (RFC 8493 §3)",
                            show(path)
                        );
                        self.problem(ProblemKind::NotInEveryManifest, Some(&m.name), None, detail);
                    }
                }
            }
        }

        for m in manifests {
            for e in &m.entries {
                if tree.files.contains_key(&e.path) {
                    continue;
                }
                let (kind, detail) = if tree.dirs.contains(&e.path) {
                    (
                        ProblemKind::NotAFile,
                        format!(
                            "lists `{}`, which is a directory; manifests list files only",
                            show(&e.path)
                        ),
                    )
                } else if let Some(what) = tree.special.get(&e.path) {
                    (
                        ProblemKind::NotRegularFile,
                        format!(
                            "lists `{}`, which is {what}, not a regular file",
                            show(&e.path)
                        ),
                    )
                } else {
                    let hint = match on_disk_nfc.get(&nfc(&e.path)) {
                        Some(other) => format!(
                            "; `{}` is, the same name in another Unicode normalization form",
                            show(other)
                        ),
                        None => String::new(),
                    };
                    (
                        ProblemKind::MissingFile,
                        format!("lists `{}`, which is not in the bag{hint}", show(&e.path)),
                    )
                };
                self.problem(kind, Some(&m.name), Some(e.line), detail);
            }
        }

        if self.opts.require_complete_tag_manifests && !tags.is_empty() {
            for path in tree.files.keys().filter(|p| !p.starts_with("data/")) {
                if !path.contains('/') && path.starts_with("tagmanifest-") {
                    continue;
                }
                for m in tags.iter().filter(|m| !m.by_path.contains_key(path)) {
                    let detail = format!(
                        "does not list the tag file `{}`, so a change to it would go \
                         unnoticed; every tag file must be in every tag manifest",
                        show(path)
                    );
                    self.problem(ProblemKind::UnlistedTagFile, Some(&m.name), None, detail);
                }
            }
        }
    }

    /// Checks `bag-info.txt` and Payload-Oxum.
    fn bag_info(&mut self, tree: &Tree) {
        const FILE: &str = "bag-info.txt";
        if !tree.files.contains_key(FILE) {
            if self.opts.require_bag_info && !tree.special.contains_key(FILE) {
                self.problem(
                    ProblemKind::MissingBagInfo,
                    Some(FILE),
                    None,
                    "is missing; it must carry at least Payload-Oxum and Bagging-Date",
                );
            }
            return;
        }
        let Some(text) = self.read_text(FILE) else {
            return;
        };
        let lines = split_lines(&text);
        let (elements, errors) = info::parse(&lines);
        for (line, detail) in errors {
            self.problem(ProblemKind::BagInfo, Some(FILE), Some(line), detail);
        }
        self.report.bag_info = elements
            .iter()
            .map(|e| (e.label.clone(), e.value.clone()))
            .collect();
        let oxum = elements
            .iter()
            .find(|e| e.label.eq_ignore_ascii_case("Payload-Oxum"));
        match oxum {
            None if self.opts.require_payload_oxum => self.problem(
                ProblemKind::PayloadOxum,
                Some(FILE),
                None,
                "has no Payload-Oxum, so an incomplete payload cannot be detected quickly",
            ),
            None => {}
            Some(e) => match info::parse_oxum(&e.value) {
                None => {
                    let detail = format!(
                        "Payload-Oxum `{}` is not `<octet count>.<file count>` in decimal digits",
                        e.value.escape_debug()
                    );
                    self.problem(ProblemKind::PayloadOxum, Some(FILE), Some(e.line), detail);
                }
                Some((bytes, files))
                    if bytes != self.report.payload_bytes || files != self.report.payload_files =>
                {
                    let detail = format!(
                        "Payload-Oxum says {bytes} bytes in {files} files, but data/ holds {} \
                         bytes in {} files",
                        self.report.payload_bytes, self.report.payload_files
                    );
                    self.problem(ProblemKind::PayloadOxum, Some(FILE), Some(e.line), detail);
                }
                Some(_) => {}
            },
        }
    }

    /// Hashes every listed file once for all its algorithms and compares. Returns the tag
    /// files that matched every checksum listed for them.
    fn checksums(&mut self, tree: &Tree, manifests: &[Manifest]) -> HashSet<String> {
        struct Job<'t> {
            path: &'t str,
            found: Found,
            algs: Vec<Algorithm>,
            expect: Vec<(usize, usize)>,
        }
        let mut jobs: BTreeMap<&str, Job<'_>> = BTreeMap::new();
        for (mi, m) in manifests.iter().enumerate() {
            for (ei, e) in m.entries.iter().enumerate() {
                let Some((path, found)) = tree.files.get_key_value(&e.path) else {
                    continue;
                };
                let job = jobs.entry(path.as_str()).or_insert_with(|| Job {
                    path,
                    found: *found,
                    algs: Vec::new(),
                    expect: Vec::new(),
                });
                if !job.algs.contains(&m.alg) {
                    job.algs.push(m.alg);
                }
                job.expect.push((mi, ei));
            }
        }
        let jobs: Vec<Job<'_>> = jobs.into_values().collect();
        let root = self.root;
        let progress = self.opts.progress.clone();
        let hash = |job: &Job<'_>, buf: &mut [u8]| -> Result<Hashed, Problem> {
            let file = text::open_no_follow(&root.join(job.path)).map_err(|e| {
                Problem::new(
                    ProblemKind::Io,
                    Some(job.path),
                    None,
                    format!("cannot be opened: {e}"),
                )
            })?;
            let meta = file.metadata().map_err(|e| {
                Problem::new(
                    ProblemKind::Io,
                    Some(job.path),
                    None,
                    format!("cannot be examined: {e}"),
                )
            })?;
            if !meta.is_file() || meta.dev() != job.found.dev || meta.ino() != job.found.ino {
                return Err(Problem::new(
                    ProblemKind::ChangedDuringValidation,
                    Some(job.path),
                    None,
                    "was replaced by another file while the bag was being validated",
                ));
            }
            let mut hasher = MultiHasher::new(&job.algs);
            let mut src = crate::direct::DirectReader::new(file);
            let copied = if job.found.size >= FAN_OUT_MIN {
                copy_fanned(&mut src, None, &mut hasher, progress.as_deref())
            } else {
                copy_hashing(&mut src, None, buf, &mut hasher, progress.as_deref())
            };
            let n = copied.map_err(|e| {
                let e = match e {
                    CopyError::Source(e) | CopyError::Dest(e) => e,
                };
                Problem::new(
                    ProblemKind::Io,
                    Some(job.path),
                    None,
                    format!("cannot be read: {e}"),
                )
            })?;
            if n != job.found.size {
                return Err(Problem::new(
                    ProblemKind::ChangedDuringValidation,
                    Some(job.path),
                    None,
                    format!(
                        "changed size while the bag was being validated ({} bytes when listed, \
                         {n} bytes read)",
                        job.found.size
                    ),
                ));
            }
            Ok((hasher.finish(), n))
        };
        let results = run_jobs(
            self.opts.workers,
            jobs.iter().collect::<Vec<_>>(),
            |j| j.found.size,
            |j, buf| hash(j, buf),
            |_| false,
        );
        let mut verified = HashSet::new();
        for (job, r) in jobs.iter().zip(results) {
            let Some(r) = r else { continue };
            let (digests, n) = match r {
                Ok(x) => x,
                Err(p) => {
                    self.problems.push(p);
                    continue;
                }
            };
            self.report.bytes_hashed += n;
            let mut all_ok = true;
            let mut in_tag_manifest = false;
            for &(mi, ei) in &job.expect {
                let m = &manifests[mi];
                let e = &m.entries[ei];
                in_tag_manifest |= m.tag;
                let actual = &digests
                    .iter()
                    .find(|(a, _)| *a == m.alg)
                    .expect("every listed algorithm was computed")
                    .1;
                if *actual != e.digest {
                    all_ok = false;
                    let what = if m.tag {
                        "the tag file was changed after the bag was made"
                    } else {
                        "the file's bytes are not the ones that were bagged"
                    };
                    let detail = format!(
                        "`{}` has {} {} but the manifest says {}: {what}",
                        show(&e.path),
                        m.alg,
                        hex::encode(actual),
                        hex::encode(&e.digest)
                    );
                    self.problem(
                        ProblemKind::ChecksumMismatch,
                        Some(&m.name),
                        Some(e.line),
                        detail,
                    );
                }
            }
            if all_ok && in_tag_manifest {
                verified.insert(job.path.to_owned());
            }
        }
        verified
    }
}
