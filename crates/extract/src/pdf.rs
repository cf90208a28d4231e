//! PDF document information dictionary (`/Info`, PDF 32000-1 §14.3.3).
//!
//! Reads the header, then the last 64 KiB for the trailer (or cross-reference stream
//! dictionary, whose dictionary is plain text) naming `/Info N G R`. The object is
//! located through a classic `xref` table when there is one, else by a bounded
//! search of the file's first and last megabytes. An `/Info` inside a compressed
//! object stream is reported as not read; nothing is inflated.

use std::io::{Read, Seek};

use crate::clock;
use crate::record::{Basis, Metadata, PdfInfo};
use crate::source::Input;

const TAIL: u64 = 64 * 1024;
const SEARCH: u64 = 1024 * 1024;
const MAX_DICT: usize = 256 * 1024;

pub fn extract<R: Read + Seek>(input: &mut Input<'_, R>, md: &mut Metadata) {
    let mut info = PdfInfo::default();
    let size = input.size();
    let head = match input.read_up_to(0, 1024) {
        Ok(h) => h,
        Err(e) => {
            md.problem(format_args!("PDF header: {e}"));
            return;
        }
    };
    match find(&head, b"%PDF-") {
        Some(p) => {
            let v: String = head[p + 5..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || **c == b'.')
                .map(|&c| c as char)
                .collect();
            info.version = (!v.is_empty()).then_some(v);
        }
        None => {
            md.problem("PDF header: no %PDF- marker in the first 1024 bytes");
            return;
        }
    }
    let tail_at = size.saturating_sub(TAIL);
    let tail = match input.read_up_to(tail_at, TAIL) {
        Ok(t) => t,
        Err(e) => {
            md.problem(format_args!("PDF trailer: {e}"));
            md.pdf = Some(info);
            return;
        }
    };
    let Some((num, gen_)) = info_ref(&tail) else {
        // Many PDFs have no /Info at all (PDF 2.0 deprecates it); that is not a problem.
        md.pdf = Some(info);
        return;
    };
    let dict = match locate(input, &tail, tail_at, num, gen_) {
        Ok(d) => d,
        Err(e) => {
            md.problem(format_args!("PDF /Info object {num} {gen_}: {e}"));
            md.pdf = Some(info);
            return;
        }
    };
    let entries = parse_dict(&dict);
    for (k, v) in entries {
        let slot = match k.as_str() {
            "Title" => &mut info.title,
            "Author" => &mut info.author,
            "Subject" => &mut info.subject,
            "Keywords" => &mut info.keywords,
            "Creator" => &mut info.creator,
            "Producer" => &mut info.producer,
            "CreationDate" => &mut info.creation_date,
            "ModDate" => &mut info.mod_date,
            _ => continue,
        };
        match v {
            PdfValue::Text(t) => {
                if slot.is_none() {
                    *slot = Some(t);
                }
            }
            PdfValue::Ref => md.problem(format_args!(
                "PDF /Info {k}: the value is an indirect reference, which is not followed"
            )),
            PdfValue::Other => {}
        }
    }
    for (name, v) in [
        ("pdf.CreationDate", &info.creation_date),
        ("pdf.ModDate", &info.mod_date),
    ] {
        if let Some(v) = v {
            let parsed = clock::pdf(v);
            if parsed.is_none() {
                md.problem(format_args!("{name}: {v:?} is not a PDF date"));
            }
            md.times.push(clock::clock(name, v, parsed, Basis::Utc));
        }
    }
    md.pdf = Some(info);
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t' | b'\x0c' | 0) {
        i += 1;
    }
    i
}

fn int_at(b: &[u8], i: usize) -> Option<(u64, usize)> {
    let n = b
        .get(i..)?
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if n == 0 || n > 18 {
        return None;
    }
    let v = std::str::from_utf8(&b[i..i + n]).ok()?.parse().ok()?;
    Some((v, i + n))
}

/// The last `/Info N G R` in the tail (the newest trailer wins).
fn info_ref(tail: &[u8]) -> Option<(u64, u64)> {
    let mut end = tail.len();
    while let Some(p) = rfind(&tail[..end], b"/Info") {
        let i = skip_ws(tail, p + 5);
        if let Some((n, i)) = int_at(tail, i) {
            let i = skip_ws(tail, i);
            if let Some((g, i)) = int_at(tail, i) {
                let i = skip_ws(tail, i);
                if tail.get(i) == Some(&b'R') {
                    return Some((n, g));
                }
            }
        }
        end = p;
    }
    None
}

/// Finds `N G obj` and returns the dictionary text that follows it.
fn locate<R: Read + Seek>(
    input: &mut Input<'_, R>,
    tail: &[u8],
    tail_at: u64,
    num: u64,
    gen_: u64,
) -> Result<Vec<u8>, String> {
    let header = format!("{num} {gen_} obj");
    // Classic cross-reference table: "startxref\n<offset>" points at "xref".
    if let Some(p) = rfind(tail, b"startxref") {
        if let Some((xref_at, _)) = int_at(tail, skip_ws(tail, p + 9)) {
            if let Ok(x) = input.read_up_to(xref_at, 64 * 1024) {
                if x.starts_with(b"xref") {
                    if let Some(off) = xref_lookup(&x, num) {
                        if let Ok(obj) = input.read_up_to(off, MAX_DICT as u64) {
                            if obj.starts_with(header.as_bytes()) {
                                return dict_after(&obj, header.len());
                            }
                        }
                    }
                }
            }
        }
    }
    // Otherwise search the tail, then the first and last megabytes.
    if let Some(p) = find_obj(tail, header.as_bytes()) {
        let at = tail_at + p as u64;
        let obj = input
            .read_up_to(at, MAX_DICT as u64)
            .map_err(|e| e.to_string())?;
        return dict_after(&obj, header.len());
    }
    for start in [0, input.size().saturating_sub(SEARCH)] {
        let chunk = input.read_up_to(start, SEARCH).map_err(|e| e.to_string())?;
        if let Some(p) = find_obj(&chunk, header.as_bytes()) {
            let obj = input
                .read_up_to(start + p as u64, MAX_DICT as u64)
                .map_err(|e| e.to_string())?;
            return dict_after(&obj, header.len());
        }
    }
    Err(
        "not found as a plain object (it may sit in a compressed object stream, which is not read)"
            .into(),
    )
}

/// `N G obj` preceded by a line break or the start, so `12 0 obj` does not match `112 0 obj`.
fn find_obj(hay: &[u8], header: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = find(&hay[from..], header) {
        let at = from + p;
        if at == 0 || !hay[at - 1].is_ascii_digit() {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn xref_lookup(x: &[u8], num: u64) -> Option<u64> {
    let mut i = skip_ws(x, 4);
    // Subsections: "start count" then count 20-byte entries.
    for _ in 0..1024 {
        let (start, j) = int_at(x, i)?;
        let (count, j) = int_at(x, skip_ws(x, j))?;
        let entries = skip_ws(x, j);
        if num >= start && num < start + count {
            let e = entries + ((num - start) as usize).checked_mul(20)?;
            let line = x.get(e..e + 18)?;
            let (off, _) = int_at(line, 0)?;
            // "oooooooooo ggggg n": the type letter is the 18th byte.
            return (line.get(17) == Some(&b'n')).then_some(off);
        }
        i = entries + (count as usize).checked_mul(20)?;
        if x.get(i..i + 7) == Some(b"trailer") || i >= x.len() {
            return None;
        }
    }
    None
}

fn dict_after(obj: &[u8], header_len: usize) -> Result<Vec<u8>, String> {
    let i = skip_ws(obj, header_len);
    if obj.get(i..i + 2) != Some(b"<<") {
        return Err("the object is not a dictionary".into());
    }
    Ok(obj[i..].to_vec())
}

#[derive(Debug)]
enum PdfValue {
    Text(String),
    Ref,
    Other,
}

/// Parses the top-level `/Key value` pairs of a dictionary, decoding strings.
fn parse_dict(b: &[u8]) -> Vec<(String, PdfValue)> {
    let mut out = Vec::new();
    let mut i = 2;
    for _ in 0..1024 {
        i = skip_ws(b, i);
        if i >= b.len() || b[i..].starts_with(b">>") {
            break;
        }
        if b[i] != b'/' {
            break;
        }
        let (name, j) = read_name(b, i + 1);
        i = skip_ws(b, j);
        let (value, j) = match b.get(i) {
            Some(b'(') => {
                let (bytes, j) = literal(b, i + 1);
                (PdfValue::Text(decode(&bytes)), j)
            }
            Some(b'<') if b.get(i + 1) != Some(&b'<') => {
                let (bytes, j) = hex(b, i + 1);
                (PdfValue::Text(decode(&bytes)), j)
            }
            _ => {
                // Number, name, reference, array or nested dictionary: skip it.
                let (is_ref, j) = skip_value(b, i);
                (
                    if is_ref {
                        PdfValue::Ref
                    } else {
                        PdfValue::Other
                    },
                    j,
                )
            }
        };
        if j <= i {
            break;
        }
        out.push((name, value));
        i = j;
    }
    out
}

fn is_delim(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\n' | b'\r' | b'\t' | b'\x0c' | 0 | b'/' | b'(' | b')' | b'<' | b'>' | b'[' | b']'
    )
}

fn read_name(b: &[u8], mut i: usize) -> (String, usize) {
    let start = i;
    while i < b.len() && !is_delim(b[i]) {
        i += 1;
    }
    (String::from_utf8_lossy(&b[start..i]).into_owned(), i)
}

fn literal(b: &[u8], mut i: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut depth = 1usize;
    while i < b.len() {
        let c = b[i];
        i += 1;
        match c {
            b'\\' => {
                let Some(&e) = b.get(i) else { break };
                i += 1;
                match e {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'\r' => {
                        if b.get(i) == Some(&b'\n') {
                            i += 1;
                        }
                    }
                    b'\n' => {}
                    b'0'..=b'7' => {
                        let mut v = u32::from(e - b'0');
                        for _ in 0..2 {
                            match b.get(i) {
                                Some(&d @ b'0'..=b'7') => {
                                    v = v * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push((v & 0xFF) as u8);
                    }
                    other => out.push(other),
                }
            }
            b'(' => {
                depth += 1;
                out.push(c);
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
                out.push(c);
            }
            _ => out.push(c),
        }
        if out.len() > MAX_DICT {
            break;
        }
    }
    (out, i)
}

fn hex(b: &[u8], mut i: usize) -> (Vec<u8>, usize) {
    let mut nibbles = Vec::new();
    while i < b.len() && b[i] != b'>' {
        if let Some(v) = (b[i] as char).to_digit(16) {
            nibbles.push(v as u8);
        }
        i += 1;
    }
    if nibbles.len() % 2 == 1 {
        nibbles.push(0);
    }
    (nibbles.chunks(2).map(|p| p[0] << 4 | p[1]).collect(), i + 1)
}

/// Skips one value; says whether it was an indirect reference `N G R`.
fn skip_value(b: &[u8], i: usize) -> (bool, usize) {
    match b.get(i) {
        Some(b'[') | Some(b'<') => {
            // Skip a balanced array or dictionary, honouring strings.
            let mut depth = 0i32;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'[' => depth += 1,
                    b']' => depth -= 1,
                    b'<' if b.get(j + 1) == Some(&b'<') => {
                        depth += 1;
                        j += 1;
                    }
                    b'>' if b.get(j + 1) == Some(&b'>') => {
                        depth -= 1;
                        j += 1;
                    }
                    b'(' => {
                        let (_, k) = literal(b, j + 1);
                        j = k;
                        continue;
                    }
                    _ => {}
                }
                j += 1;
                if depth <= 0 {
                    break;
                }
            }
            (false, j)
        }
        Some(b'/') => {
            let (_, j) = read_name(b, i + 1);
            (false, j)
        }
        _ => {
            // A token, possibly "N G R".
            let mut j = i;
            while j < b.len() && !is_delim(b[j]) {
                j += 1;
            }
            if let Some((_, k)) = int_at(b, i) {
                let k = skip_ws(b, k);
                if let Some((_, m)) = int_at(b, k) {
                    let m = skip_ws(b, m);
                    if b.get(m) == Some(&b'R') {
                        return (true, m + 1);
                    }
                }
            }
            (false, j.max(i + 1))
        }
    }
}

/// Text strings: UTF-16BE with BOM, UTF-8 with BOM (PDF 2.0), else PDFDocEncoding.
fn decode(b: &[u8]) -> String {
    if let Some(rest) = b.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = b.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    b.iter().map(|&c| pdf_doc_char(c)).collect()
}

/// PDFDocEncoding (PDF 32000-1 Annex D): Latin-1 except 0x18–0x1F and 0x80–0x9F.
fn pdf_doc_char(c: u8) -> char {
    const HIGH: [char; 32] = [
        '•', '†', '‡', '…', '—', '–', 'ƒ', '⁄', '‹', '›', '−', '‰', '„', '“', '”', '‘', '’', '‚',
        '™', 'ﬁ', 'ﬂ', 'Ł', 'Œ', 'Š', 'Ÿ', 'Ž', 'ı', 'ł', 'œ', 'š', 'ž', '\u{FFFD}',
    ];
    const LOW: [char; 8] = ['˘', 'ˇ', 'ˆ', '˙', '˝', '˛', '˚', '˜'];
    match c {
        0x18..=0x1F => LOW[(c - 0x18) as usize],
        0x80..=0x9F => HIGH[(c - 0x80) as usize],
        0xA0 => '€',
        _ => c as char,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_strings() {
        let d = br"<< /Title (A \(nested\) title\051) /Author <FEFF00C9006C00E9> /Producer 5 0 R /Count 3 /Creator (x\134y) >>";
        let v = parse_dict(d);
        let get = |k: &str| v.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        assert!(matches!(get("Title"), Some(PdfValue::Text(t)) if t == "A (nested) title)"));
        assert!(matches!(get("Author"), Some(PdfValue::Text(t)) if t == "Élé"));
        assert!(matches!(get("Producer"), Some(PdfValue::Ref)));
        assert!(matches!(get("Creator"), Some(PdfValue::Text(t)) if t == "x\\y"));
    }

    #[test]
    fn info_ref_takes_the_last_trailer() {
        let t = b"trailer << /Info 3 0 R >> ... trailer << /Size 9 /Info 12 0 R >>";
        assert_eq!(info_ref(t), Some((12, 0)));
        assert_eq!(info_ref(b"/Info garbage"), None);
    }
}
