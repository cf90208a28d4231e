//! Reading the tag files BagIt defines as text: size caps, UTF-8, byte-order marks and
//! line endings.
//!
//! RFC 8493 lets a line end in LF, CR or CRLF. A file that mixes them is reported: no
//! tool writes one, and a lone CR inside what was meant as one LF-terminated line (for
//! example a file name that should have been written `%0D`) would otherwise silently
//! split it in two. A last line without a terminator is reported too, since it is what a
//! truncated file looks like.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    Lf,
    Cr,
    CrLf,
    /// The file ends without a terminator after this line.
    None,
}

impl Ending {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Ending::Lf => "LF",
            Ending::Cr => "CR",
            Ending::CrLf => "CRLF",
            Ending::None => "no terminator",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Line<'a> {
    /// 1-based.
    pub number: u64,
    pub text: &'a str,
    pub ending: Ending,
}

/// Splits text into lines at LF, CR or CRLF.
pub(crate) fn split_lines(text: &str) -> Vec<Line<'_>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let ending = match b[i] {
            b'\n' => Some((Ending::Lf, 1)),
            b'\r' if b.get(i + 1) == Some(&b'\n') => Some((Ending::CrLf, 2)),
            b'\r' => Some((Ending::Cr, 1)),
            _ => None,
        };
        if let Some((ending, len)) = ending {
            out.push(Line {
                number: out.len() as u64 + 1,
                text: &text[start..i],
                ending,
            });
            i += len;
            start = i;
        } else {
            i += 1;
        }
    }
    if start < b.len() {
        out.push(Line {
            number: out.len() as u64 + 1,
            text: &text[start..],
            ending: Ending::None,
        });
    }
    out
}

/// A problem with a text file as a whole, before its lines are interpreted.
#[derive(Debug)]
pub(crate) struct TextIssue {
    pub line: Option<u64>,
    pub kind: TextIssueKind,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextIssueKind {
    Bom,
    Utf8,
    Ending,
    LineTooLong,
}

/// Decodes a tag file's bytes as UTF-8 and splits it into lines, reporting a BOM, invalid
/// UTF-8, mixed or missing terminators and over-long lines. Returns `None` for the text
/// when it cannot be decoded at all.
pub(crate) fn decode(bytes: &[u8], max_line: usize) -> (Option<&str>, Vec<TextIssue>) {
    let mut issues = Vec::new();
    let mut body = bytes;
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        issues.push(TextIssue {
            line: Some(1),
            kind: TextIssueKind::Bom,
            detail: "starts with a byte-order mark (EF BB BF); BagIt tag files are UTF-8 \
                     without one"
                .into(),
        });
        body = rest;
    }
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let line = body[..at].iter().filter(|&&c| c == b'\n').count() as u64 + 1;
            issues.push(TextIssue {
                line: Some(line),
                kind: TextIssueKind::Utf8,
                detail: format!(
                    "is not valid UTF-8: byte {} of the file ({:#04x}) does not continue a \
                     UTF-8 character, but bagit.txt declares UTF-8",
                    at + 1 + (bytes.len() - body.len()),
                    body[at]
                ),
            });
            return (None, issues);
        }
    };
    let lines = split_lines(text);
    let mut first: Option<Ending> = None;
    let mut mixed_reported = false;
    for l in &lines {
        if l.text.len() > max_line {
            issues.push(TextIssue {
                line: Some(l.number),
                kind: TextIssueKind::LineTooLong,
                detail: format!(
                    "is {} bytes long, over the limit of {max_line} bytes per line",
                    l.text.len()
                ),
            });
        }
        match (first, l.ending) {
            (_, Ending::None) => issues.push(TextIssue {
                line: Some(l.number),
                kind: TextIssueKind::Ending,
                detail: "is the last line and has no line terminator (LF, CR or CRLF); \
                         the file may be truncated"
                    .into(),
            }),
            (None, e) => first = Some(e),
            (Some(f), e) if f != e && !mixed_reported => {
                mixed_reported = true;
                issues.push(TextIssue {
                    line: Some(l.number),
                    kind: TextIssueKind::Ending,
                    detail: format!(
                        "ends with {} but line 1 ends with {}; a tag file must not mix line \
                         terminators (a stray CR usually means a file name that should have \
                         been percent-encoded)",
                        e.name(),
                        f.name()
                    ),
                });
            }
            _ => {}
        }
    }
    (Some(text), issues)
}

/// Why a file could not be read whole.
#[derive(Debug)]
pub(crate) enum ReadIssue {
    TooLarge(u64),
    NotRegular,
    Io(io::Error),
}

/// Opens a file inside a bag without following a symbolic link in its last component and
/// without blocking on a FIFO.
pub(crate) fn open_no_follow(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

/// Reads a whole regular file, refusing one over `cap` bytes (checked both before and
/// while reading, so a file that grows cannot exhaust memory).
pub(crate) fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ReadIssue> {
    let f = open_no_follow(path).map_err(ReadIssue::Io)?;
    let meta = f.metadata().map_err(ReadIssue::Io)?;
    if !meta.is_file() {
        return Err(ReadIssue::NotRegular);
    }
    if meta.size() > cap {
        return Err(ReadIssue::TooLarge(meta.size()));
    }
    let mut buf = Vec::with_capacity(meta.size() as usize);
    f.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(ReadIssue::Io)?;
    if buf.len() as u64 > cap {
        return Err(ReadIssue::TooLarge(buf.len() as u64));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_on_all_three_terminators() {
        let l = split_lines("a\nb\r\nc\rd");
        let got: Vec<_> = l.iter().map(|l| (l.number, l.text, l.ending)).collect();
        assert_eq!(
            got,
            vec![
                (1, "a", Ending::Lf),
                (2, "b", Ending::CrLf),
                (3, "c", Ending::Cr),
                (4, "d", Ending::None)
            ]
        );
        assert!(split_lines("").is_empty());
        assert_eq!(split_lines("\n\n").len(), 2);
    }

    #[test]
    fn decoding_reports_bom_bad_utf8_mixed_and_missing_endings() {
        let (t, i) = decode(b"a\r\nb\r\n", 100);
        assert_eq!(t, Some("a\r\nb\r\n"));
        assert!(i.is_empty(), "{i:?}");

        let (_, i) = decode(b"\xEF\xBB\xBFa\n", 100);
        assert_eq!(i[0].kind, TextIssueKind::Bom);

        let (t, i) = decode(b"a\nb\xFF\n", 100);
        assert!(t.is_none());
        assert_eq!((i[0].kind, i[0].line), (TextIssueKind::Utf8, Some(2)));

        let (_, i) = decode(b"a\nb\r\nc\rd\n", 100);
        assert_eq!(i.len(), 1, "{i:?}");
        assert_eq!((i[0].kind, i[0].line), (TextIssueKind::Ending, Some(2)));

        let (_, i) = decode(b"a\nb", 100);
        assert_eq!((i[0].kind, i[0].line), (TextIssueKind::Ending, Some(2)));

        let (_, i) = decode(b"abcdef\n", 3);
        assert_eq!(i[0].kind, TextIssueKind::LineTooLong);
    }
}
