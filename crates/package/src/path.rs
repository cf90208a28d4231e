//! Paths inside a bag: which are allowed, how they are written in manifests, and how an
//! arbitrary original file name becomes a payload path that every receiving tool can use.
//!
//! Three layers, from strict to forgiving:
//!
//! - [`check_bag_path`]: the rule both the writer and the validator enforce on a
//!   bag-relative path (RFC 8493 §2.1.3, §7.2): `/` separators, no empty, `.` or `..`
//!   component, not absolute, no NUL, and no backslash (a Windows receiver would read it
//!   as a separator, so the same manifest line would name a different file there).
//! - [`encode_manifest_path`] / [`decode_manifest_path`]: RFC 8493 §2.1.3 percent-encoding
//!   of exactly CR, LF and `%` in manifest lines.
//! - [`safe_payload_path`] and [`PathNamer`]: turn an original name (which may be an
//!   absolute path, contain `..`, control characters or Windows-reserved names) into a
//!   payload path that bagit-python, `sha256sum -c`, Windows and macOS all read back as the
//!   same file, and keep names unique even on case-insensitive file systems.

use std::collections::HashMap;
use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// Why a bag-relative path is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathIssue {
    Empty,
    Absolute,
    EmptyComponent,
    DotComponent,
    ParentComponent,
    Backslash,
    Nul,
}

impl fmt::Display for PathIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathIssue::Empty => "the path is empty",
            PathIssue::Absolute => "the path is absolute (starts with `/`)",
            PathIssue::EmptyComponent => "the path has an empty component (`//` or a trailing `/`)",
            PathIssue::DotComponent => "the path has a `.` component",
            PathIssue::ParentComponent => {
                "the path has a `..` component, which could escape the bag"
            }
            PathIssue::Backslash => {
                "the path contains a backslash, which Windows reads as a directory separator \
                 (RFC 8493 requires `/` as the only separator)"
            }
            PathIssue::Nul => "the path contains a NUL character",
        })
    }
}

/// Checks a decoded, bag-relative path (`data/a/b.jpg`, `bag-info.txt`).
pub fn check_bag_path(path: &str) -> Result<(), PathIssue> {
    if path.is_empty() {
        return Err(PathIssue::Empty);
    }
    if path.starts_with('/') {
        return Err(PathIssue::Absolute);
    }
    if path.contains('\0') {
        return Err(PathIssue::Nul);
    }
    for c in path.split('/') {
        match c {
            "" => return Err(PathIssue::EmptyComponent),
            "." => return Err(PathIssue::DotComponent),
            ".." => return Err(PathIssue::ParentComponent),
            _ => {}
        }
    }
    if path.contains('\\') {
        return Err(PathIssue::Backslash);
    }
    Ok(())
}

/// Writes a path as RFC 8493 §2.1.3 requires in a manifest line: `%`, CR and LF (and only
/// those) percent-encoded.
pub fn encode_manifest_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// A `%` in a manifest path that is not one of the three encodings BagIt defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadPercent {
    /// Byte offset of the `%` within the encoded path.
    pub offset: usize,
}

/// Decodes a manifest path.
///
/// BagIt 1.0 (`strict_percent`): `%25`, `%0D` and `%0A` (hex digits of either case) are
/// decoded and any other `%` is an error, because 1.0 requires a literal `%` to be written
/// `%25`. BagIt 0.97 predates that rule: only `%0D` / `%0A` are decoded and any other `%`
/// is literal, which is how bags made by bagit-python read.
pub fn decode_manifest_path(s: &str, strict_percent: bool) -> Result<String, BadPercent> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let code = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .filter(|_| b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit());
            match code {
                Some(c @ (b'\r' | b'\n')) => {
                    out.push(c);
                    i += 3;
                    continue;
                }
                Some(b'%') if strict_percent => {
                    out.push(b'%');
                    i += 3;
                    continue;
                }
                _ if strict_percent => return Err(BadPercent { offset: i }),
                _ => {}
            }
        }
        out.push(b[i]);
        i += 1;
    }
    // Only ASCII bytes were replaced by ASCII bytes, so the result is still UTF-8.
    Ok(String::from_utf8(out).expect("percent-decoding ASCII keeps UTF-8 valid"))
}

/// The key under which two names are the same file on a case-insensitive or
/// normalising file system (Windows, macOS): Unicode NFC, then lowercase.
pub fn fold_name(path: &str) -> String {
    path.nfc().collect::<String>().to_lowercase()
}

/// Longest component [`safe_payload_path`] produces, in bytes; leaves room under the
/// common 255-byte limit for a ` (12345)` collision suffix.
const MAX_COMPONENT: usize = 240;

/// Turns an original file name or path into a safe payload path, relative to `data/`.
///
/// `/` and `\` both separate components; empty, `.` and `..` components are dropped (so
/// `/etc/passwd` becomes `etc/passwd` and `../../x` becomes `x`). Each component is put in
/// Unicode NFC; control characters, Unicode line and paragraph separators, bidirectional
/// overrides, `%` and the characters Windows forbids (`:*?"<>|`) become `_`; leading and
/// trailing whitespace and trailing dots are removed; Windows device names (`CON`, `NUL`,
/// `COM1`, …) get a `_` prefix; over-long components are shortened, keeping the extension.
/// A name with nothing usable left becomes `unnamed`.
///
/// `%`, CR and LF are replaced rather than percent-encoded because bagit-python (1.9)
/// does not decode `%25` and `sha256sum -c` decodes nothing: a name holding them would
/// fail validation with those tools.
///
/// This does not make names unique; use [`PathNamer`] for a set of names.
pub fn safe_payload_path(name: &str) -> String {
    let parts: Vec<String> = name
        .split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != "." && *c != "..")
        .map(safe_component)
        .collect();
    if parts.is_empty() {
        "unnamed".to_owned()
    } else {
        parts.join("/")
    }
}

fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '%'
                // line and paragraph separators (bagit-python splits manifest lines on them)
                | '\u{2028}' | '\u{2029}'
                // bidirectional controls, which can disguise an extension
                | '\u{200E}' | '\u{200F}' | '\u{061C}'
                | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
                // invisible characters with no place in a file name
                | '\u{200B}' | '\u{FEFF}'
        )
}

fn safe_component(c: &str) -> String {
    let mapped: String = c
        .nfc()
        .map(|ch| if is_unsafe_char(ch) { '_' } else { ch })
        .collect();
    let trimmed = mapped
        .trim()
        .trim_end_matches(|ch: char| ch == '.' || ch.is_whitespace());
    let mut s = if trimmed.is_empty() {
        "_".to_owned()
    } else {
        trimmed.to_owned()
    };
    let stem = s.split('.').next().unwrap_or("").to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit());
    if reserved {
        s.insert(0, '_');
    }
    shorten(&s, MAX_COMPONENT)
}

/// Cuts a component to at most `max` bytes on a character boundary, keeping a short
/// extension.
fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let (stem, ext) = split_ext(s);
    let ext = if ext.len() <= 16 { ext } else { "" };
    let mut end = max - ext.len();
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{}", &stem[..end], ext)
}

/// `("photo", ".jpg")`; a leading dot does not start an extension.
fn split_ext(s: &str) -> (&str, &str) {
    match s.rfind('.') {
        Some(i) if i > 0 => (&s[..i], &s[i..]),
        _ => (s, ""),
    }
}

fn with_suffix(component: &str, n: u32) -> String {
    let (stem, ext) = split_ext(component);
    format!("{stem} ({n}){ext}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
}

/// Which paths (relative to `data/`) are in use, compared as a case-insensitive,
/// normalising file system would ([`fold_name`]).
#[derive(Debug, Default)]
pub(crate) struct PathSet {
    /// folded path → (kind, path as first used)
    taken: HashMap<String, (Kind, String)>,
}

/// A path that cannot be added to a [`PathSet`], with the path it collides with.
#[derive(Debug)]
pub(crate) struct Collision {
    pub existing: String,
}

impl PathSet {
    /// Records a file and its parent directories, or says what it collides with.
    pub(crate) fn insert_file(&mut self, path: &str) -> Result<(), Collision> {
        self.insert_new(path).map(drop)
    }

    /// Like `insert_file`; returns the keys that were new.
    fn insert_new(&mut self, path: &str) -> Result<Vec<String>, Collision> {
        let comps: Vec<&str> = path.split('/').collect();
        let mut prefix = String::new();
        let mut new_dirs = Vec::new();
        for (i, c) in comps.iter().enumerate() {
            if i > 0 {
                prefix.push('/');
            }
            prefix.push_str(c);
            let kind = if i + 1 == comps.len() {
                Kind::File
            } else {
                Kind::Dir
            };
            let key = fold_name(&prefix);
            match self.taken.get(&key) {
                Some((Kind::Dir, existing)) if kind == Kind::Dir && *existing == prefix => {}
                Some((_, existing)) => {
                    return Err(Collision {
                        existing: existing.clone(),
                    });
                }
                None => new_dirs.push((key, (kind, prefix.clone()))),
            }
        }
        let keys = new_dirs.iter().map(|(k, _)| k.clone()).collect();
        self.taken.extend(new_dirs);
        Ok(keys)
    }

    /// Records several files, all or none: on a collision nothing is recorded, and the
    /// offending path is returned with what it collides with.
    pub(crate) fn insert_all<'p>(
        &mut self,
        paths: impl IntoIterator<Item = &'p str>,
    ) -> Result<(), (&'p str, Collision)> {
        let mut added: Vec<String> = Vec::new();
        for p in paths {
            match self.insert_new(p) {
                Ok(keys) => added.extend(keys),
                Err(c) => {
                    for k in &added {
                        self.taken.remove(k);
                    }
                    return Err((p, c));
                }
            }
        }
        Ok(())
    }

    /// The spelling under which a folded directory is already in use, if any.
    fn dir(&self, path: &str) -> Option<Option<&str>> {
        match self.taken.get(&fold_name(path)) {
            None => None,
            Some((Kind::Dir, existing)) => Some(Some(existing)),
            Some((Kind::File, _)) => Some(None),
        }
    }
}

/// Gives each original name a unique safe payload path ([`safe_payload_path`]), adding
/// ` (2)`, ` (3)`, … before the extension when a name is already taken, compared as a
/// case-insensitive file system would (`IMG_1.JPG` and `img_1.jpg` collide). Directories
/// that differ only in case are merged under the first spelling seen.
#[derive(Debug, Default)]
pub struct PathNamer {
    set: PathSet,
}

impl PathNamer {
    pub fn new() -> Self {
        Self::default()
    }

    /// The payload path (relative to `data/`) for `original`.
    pub fn name(&mut self, original: &str) -> String {
        let safe = safe_payload_path(original);
        let comps: Vec<&str> = safe.split('/').collect();
        let (dirs, file) = comps.split_at(comps.len() - 1);
        let mut prefix = String::new();
        for d in dirs {
            let mut n = 1;
            loop {
                let cand = if n == 1 {
                    (*d).to_owned()
                } else {
                    with_suffix(d, n)
                };
                let full = join(&prefix, &cand);
                match self.set.dir(&full) {
                    Some(Some(existing)) => {
                        prefix = existing.to_owned();
                        break;
                    }
                    None => {
                        prefix = full;
                        break;
                    }
                    Some(None) => n += 1,
                }
            }
        }
        let mut n = 1;
        loop {
            let cand = if n == 1 {
                file[0].to_owned()
            } else {
                with_suffix(file[0], n)
            };
            let full = join(&prefix, &cand);
            if self.set.insert_file(&full).is_ok() {
                return full;
            }
            n += 1;
        }
    }
}

fn join(prefix: &str, c: &str) -> String {
    if prefix.is_empty() {
        c.to_owned()
    } else {
        format!("{prefix}/{c}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bag_paths_are_checked() {
        assert_eq!(check_bag_path("data/a/b.jpg"), Ok(()));
        assert_eq!(check_bag_path("data/a b%c\r\n"), Ok(()));
        assert_eq!(check_bag_path(""), Err(PathIssue::Empty));
        assert_eq!(check_bag_path("/etc/passwd"), Err(PathIssue::Absolute));
        assert_eq!(check_bag_path("../x"), Err(PathIssue::ParentComponent));
        assert_eq!(
            check_bag_path("data/../../x"),
            Err(PathIssue::ParentComponent)
        );
        assert_eq!(check_bag_path("data//x"), Err(PathIssue::EmptyComponent));
        assert_eq!(check_bag_path("data/x/"), Err(PathIssue::EmptyComponent));
        assert_eq!(check_bag_path("./data/x"), Err(PathIssue::DotComponent));
        assert_eq!(check_bag_path("data\\x"), Err(PathIssue::Backslash));
        assert_eq!(check_bag_path("data/x\0"), Err(PathIssue::Nul));
    }

    #[test]
    fn percent_encoding_round_trips_exactly_three_characters() {
        let raw = "data/50%\r\nof 100%0A.txt";
        let enc = encode_manifest_path(raw);
        assert_eq!(enc, "data/50%25%0D%0Aof 100%250A.txt");
        assert_eq!(decode_manifest_path(&enc, true).unwrap(), raw);
        assert_eq!(decode_manifest_path("a%0d%0a%25", true).unwrap(), "a\r\n%");
        assert_eq!(
            decode_manifest_path("data/100%.txt", true),
            Err(BadPercent { offset: 8 })
        );
        assert_eq!(
            decode_manifest_path("data/%41", true),
            Err(BadPercent { offset: 5 })
        );
        assert_eq!(
            decode_manifest_path("data/%2", true),
            Err(BadPercent { offset: 5 })
        );
        // 0.97: only CR and LF are decoded, other `%` are literal.
        assert_eq!(
            decode_manifest_path("data/100%.txt%25%0A", false).unwrap(),
            "data/100%.txt%25\n"
        );
    }

    #[test]
    fn original_names_become_safe() {
        assert_eq!(safe_payload_path("/etc/passwd"), "etc/passwd");
        assert_eq!(safe_payload_path("../../x"), "x");
        assert_eq!(safe_payload_path("data/../../x"), "data/x");
        assert_eq!(
            safe_payload_path("C:\\Users\\a\\IMG 1.JPG"),
            "C_/Users/a/IMG 1.JPG"
        );
        assert_eq!(safe_payload_path("a\r\nb%c.txt"), "a__b_c.txt");
        assert_eq!(safe_payload_path("  report. . "), "report");
        assert_eq!(safe_payload_path("CON.txt"), "_CON.txt");
        assert_eq!(safe_payload_path("com1"), "_com1");
        assert_eq!(safe_payload_path("console.txt"), "console.txt");
        assert_eq!(safe_payload_path("photo\u{202E}gpj.exe"), "photo_gpj.exe");
        assert_eq!(safe_payload_path(""), "unnamed");
        assert_eq!(safe_payload_path("../.."), "unnamed");
        assert_eq!(safe_payload_path("..."), "_");
        assert_eq!(safe_payload_path(".hidden"), ".hidden");
        // NFD input becomes NFC.
        assert_eq!(safe_payload_path("Kyi\u{0308}v.jpg"), "Ky\u{00EF}v.jpg");
        // Farsi zero-width non-joiner is kept.
        assert_eq!(safe_payload_path("می\u{200C}خواهم"), "می\u{200C}خواهم");
        let long = format!("{}.jpeg", "ж".repeat(200));
        let s = safe_payload_path(&long);
        assert!(s.len() <= MAX_COMPONENT && s.ends_with(".jpeg"), "{s}");
        for s in [
            safe_payload_path("a/../b\\c:d*e?f\"g<h>i|j"),
            safe_payload_path("x\u{2028}y"),
        ] {
            assert_eq!(check_bag_path(&format!("data/{s}")), Ok(()), "{s}");
            assert!(!s.contains(['%', '\r', '\n', '\u{2028}']), "{s}");
        }
    }

    #[test]
    fn the_namer_keeps_names_unique_case_insensitively() {
        let mut n = PathNamer::new();
        assert_eq!(n.name("IMG_1.JPG"), "IMG_1.JPG");
        assert_eq!(n.name("img_1.jpg"), "img_1 (2).jpg");
        assert_eq!(n.name("IMG_1.JPG"), "IMG_1 (3).JPG");
        assert_eq!(n.name("dir/a"), "dir/a");
        assert_eq!(n.name("DIR/b"), "dir/b");
        assert_eq!(n.name("dir"), "dir (2)");
        assert_eq!(n.name("x"), "x");
        assert_eq!(n.name("x/y"), "x (2)/y");
        assert_eq!(n.name("x/z"), "x (2)/z");
        assert_eq!(n.name("a\r"), "a_");
        assert_eq!(n.name("a\n"), "a_ (2)");
        assert_eq!(n.name("Ky\u{00EF}v"), "Ky\u{00EF}v");
        assert_eq!(n.name("Kyi\u{0308}v"), "Ky\u{00EF}v (2)");
    }

    #[test]
    fn the_path_set_reports_collisions() {
        let mut s = PathSet::default();
        s.insert_file("a/b").unwrap();
        assert_eq!(s.insert_file("A/B").unwrap_err().existing, "a");
        assert_eq!(s.insert_file("a").unwrap_err().existing, "a");
        assert_eq!(s.insert_file("a/b/c").unwrap_err().existing, "a/b");
        s.insert_file("a/c").unwrap();
        let err = s.insert_all(["n/1", "n/2", "A/c/d"]).unwrap_err();
        assert_eq!((err.0, err.1.existing.as_str()), ("A/c/d", "a"));
        // Nothing of the failed batch was kept.
        s.insert_file("N").unwrap();
        s.insert_all(["m/1", "m/2"]).unwrap();
    }
}
