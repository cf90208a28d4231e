//! What validation found: one [`Problem`] per defect, each a sentence that names the file
//! and, where there is one, the line.

use std::fmt;

use crate::algorithm::Algorithm;

/// The kind of a defect, for callers that act on it (tests, exit codes, reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The directory is missing, not a directory, or has no `bagit.txt`.
    NotABag,
    /// `bagit.txt` does not have exactly the two required lines in the required form.
    Declaration,
    /// `BagIt-Version` is not one this validator supports (1.0 and 0.97).
    UnsupportedVersion,
    /// `Tag-File-Character-Encoding` is not UTF-8.
    UnsupportedEncoding,
    /// A tag file starts with a UTF-8 byte-order mark.
    ByteOrderMark,
    /// A tag file is not valid UTF-8.
    InvalidUtf8,
    /// Line terminators are mixed, or the last line has none.
    LineEnding,
    /// A tag file, a line, or the number of entries or files exceeds a limit.
    TooLarge,
    /// There is no `data/` directory.
    MissingPayloadDir,
    /// There is no payload manifest.
    NoPayloadManifest,
    /// There is no tag manifest (required by the strict options).
    NoTagManifest,
    /// A manifest names an algorithm the validator cannot compute.
    UnsupportedAlgorithm,
    /// Every payload manifest uses MD5 or SHA-1 (refused by the strict options).
    WeakAlgorithmsOnly,
    /// A manifest line is not `<checksum><whitespace><path>`, or a `%` is misused.
    MalformedLine,
    /// A checksum is not hex or has the wrong length for its algorithm.
    BadChecksum,
    /// A path is absolute, has `..`, `.` or empty components, or a backslash.
    UnsafePath,
    /// A payload manifest lists a path outside `data/`, or a tag manifest one inside it.
    WrongPlace,
    /// A manifest lists the same path twice.
    DuplicateEntry,
    /// The same name appears under two spellings (percent-encoding case, Unicode
    /// normalization form).
    EncodingConflict,
    /// A manifest lists a file that is not in the bag.
    MissingFile,
    /// A file in `data/` is in no payload manifest.
    UnlistedPayloadFile,
    /// A payload file is in some payload manifests but not all of them.
    NotInEveryManifest,
    /// A tag file is missing from a tag manifest (required by the strict options).
    UnlistedTagFile,
    /// A manifest lists a directory.
    NotAFile,
    /// A symbolic link, FIFO, socket or device is inside the bag.
    NotRegularFile,
    /// A file name inside the bag is not valid UTF-8.
    NonUtf8Name,
    /// A file's bytes do not match its checksum.
    ChecksumMismatch,
    /// A file changed (or was swapped) while it was being validated.
    ChangedDuringValidation,
    /// `bag-info.txt` has a malformed line, a repeated reserved label or a bad date.
    BagInfo,
    /// `bag-info.txt` is absent (required by the strict options).
    MissingBagInfo,
    /// `Payload-Oxum` is absent, malformed, or does not match the payload.
    PayloadOxum,
    /// `fetch.txt` is present: the bag depends on downloads, which are not performed.
    FetchFile,
    /// A file could not be read.
    Io,
    /// Reported by a caller-supplied [`crate::TagCheck`].
    Profile,
}

/// One defect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The file the defect is in, relative to the bag root (`manifest-sha256.txt`,
    /// `data/a.jpg`), when there is one.
    pub file: Option<String>,
    /// 1-based line within `file`, when the defect is on a line.
    pub line: Option<u64>,
    /// A full sentence, starting with the file and line.
    pub message: String,
}

impl Problem {
    /// A problem whose message is `<file>, line <n>: <detail>`.
    pub fn new(
        kind: ProblemKind,
        file: Option<&str>,
        line: Option<u64>,
        detail: impl AsRef<str>,
    ) -> Self {
        let detail = detail.as_ref();
        let message = match (file, line) {
            (Some(f), Some(l)) => format!("{}, line {l}: {detail}", show(f)),
            (Some(f), None) => format!("{}: {detail}", show(f)),
            (None, _) => detail.to_owned(),
        };
        Self {
            kind,
            file: file.map(str::to_owned),
            line,
            message,
        }
    }
}

/// A bag path as shown in messages: control characters escaped so that a name with a
/// line break cannot forge another line of output.
pub(crate) fn show(path: &str) -> String {
    if path.chars().any(char::is_control) {
        path.escape_debug().to_string()
    } else {
        path.to_owned()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The outcome of [`crate::validate`].
#[derive(Clone, Debug, Default)]
pub struct ValidationReport {
    /// True exactly when `problems` is empty.
    pub ok: bool,
    pub problems: Vec<Problem>,
    /// `BagIt-Version` as declared, when it could be read.
    pub version: Option<String>,
    /// Algorithms of the payload manifests.
    pub payload_algorithms: Vec<Algorithm>,
    /// Algorithms of the tag manifests.
    pub tag_algorithms: Vec<Algorithm>,
    /// Regular files found under `data/` and their total size.
    pub payload_files: u64,
    pub payload_bytes: u64,
    /// Elements of `bag-info.txt` in file order (values unfolded).
    pub bag_info: Vec<(String, String)>,
    /// Bytes read to compute checksums.
    pub bytes_hashed: u64,
    /// Set when validation stopped early (an unreadable declaration, a limit reached).
    pub stopped_early: bool,
}

impl ValidationReport {
    /// The problems of one kind.
    pub fn of_kind(&self, kind: ProblemKind) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(move |p| p.kind == kind)
    }

    /// The first value of a bag-info label (compared case-insensitively).
    pub fn bag_info_value(&self, label: &str) -> Option<&str> {
        self.bag_info
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(label))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ok {
            return write!(
                f,
                "valid bag: {} payload files, {} bytes",
                self.payload_files, self.payload_bytes
            );
        }
        writeln!(f, "invalid bag: {} problems", self.problems.len())?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}
