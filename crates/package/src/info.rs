//! `bag-info.txt` (RFC 8493 §2.2.2): the metadata a caller supplies, how it is written
//! (with long values folded), and how a received one is parsed and checked.
//!
//! Folding: a value longer than fits in 79 characters is broken before a space, and the
//! space starts the continuation line. Unfolding (removing only the line break, as in
//! RFC 5322) gives back the exact value; bagit-python reads such lines as one element
//! too (it keeps the line break inside the value).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::text::Line;

/// A calendar date, as `Bagging-Date` carries it (`YYYY-MM-DD`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BagDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl BagDate {
    /// Checks the day exists (including 29 February only in leap years).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (day >= 1 && day <= days).then_some(Self { year, month, day })
    }

    /// Today in UTC.
    pub fn today_utc() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self::from_days_since_epoch((secs / 86_400) as i64)
    }

    /// The civil date `days` after 1970-01-01 (proleptic Gregorian calendar).
    fn from_days_since_epoch(days: i64) -> Self {
        // Count from 0000-03-01 so that the leap day ends each 4/100/400-year cycle.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year: year.clamp(0, 9999) as u16,
            month,
            day,
        }
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u16> {
            let part = &s[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        Self::new(
            digits(0..4)?,
            u8::try_from(digits(5..7)?).ok()?,
            u8::try_from(digits(8..10)?).ok()?,
        )
    }
}

impl fmt::Display for BagDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// What goes into `bag-info.txt` besides `Payload-Oxum`, which the writer computes.
///
/// Elements are written in this order: the named fields that are set, then `labels` in
/// the order given. Values are trimmed; they must not be empty or contain line breaks or
/// other control characters except tab.
#[derive(Clone, Debug, Default)]
pub struct BagInfo {
    pub source_organization: Option<String>,
    pub organization_address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub external_identifier: Option<String>,
    pub external_description: Option<String>,
    pub bag_software_agent: Option<String>,
    /// `Bagging-Date`; today (UTC) when `None`.
    pub bagging_date: Option<BagDate>,
    /// Any other elements, e.g. `("Custody-Case-Id", "BUCHA-2022")`. Repeating a label
    /// is allowed except for the reserved ones RFC 8493 says MUST NOT repeat.
    pub labels: Vec<(String, String)>,
}

/// Labels RFC 8493 §2.2.2 says MUST NOT be repeated.
pub(crate) const NON_REPEATABLE: [&str; 5] = [
    "Payload-Oxum",
    "Bagging-Date",
    "Bag-Size",
    "Bag-Group-Identifier",
    "Bag-Count",
];

/// Labels the writer sets itself.
const WRITER_OWNED: [&str; 2] = ["Payload-Oxum", "Bagging-Date"];

/// Longest line the writer aims for (RFC 8493 §2.2.2 recommends at most 79 characters).
const FOLD_AT: usize = 79;

impl BagInfo {
    /// The elements in writing order, without Payload-Oxum.
    fn elements(&self) -> Vec<(String, String)> {
        let named = [
            ("Source-Organization", &self.source_organization),
            ("Organization-Address", &self.organization_address),
            ("Contact-Name", &self.contact_name),
            ("Contact-Email", &self.contact_email),
            ("External-Identifier", &self.external_identifier),
            ("External-Description", &self.external_description),
            ("Bag-Software-Agent", &self.bag_software_agent),
        ];
        let mut out: Vec<(String, String)> = named
            .into_iter()
            .filter_map(|(l, v)| v.as_ref().map(|v| (l.to_owned(), v.clone())))
            .collect();
        out.push((
            "Bagging-Date".to_owned(),
            self.bagging_date
                .unwrap_or_else(BagDate::today_utc)
                .to_string(),
        ));
        out.extend(self.labels.iter().cloned());
        out
    }

    /// The bytes of `bag-info.txt`, or what is wrong with a label or value.
    pub(crate) fn render(&self, payload_bytes: u64, payload_files: u64) -> Result<String, String> {
        let mut elements = self.elements();
        for (label, _) in &self.labels {
            if WRITER_OWNED.iter().any(|r| r.eq_ignore_ascii_case(label)) {
                return Err(format!(
                    "label `{label}` is set by the writer; use the BagInfo field instead"
                ));
            }
        }
        elements.push((
            "Payload-Oxum".to_owned(),
            format!("{payload_bytes}.{payload_files}"),
        ));
        for r in NON_REPEATABLE {
            if elements
                .iter()
                .filter(|(l, _)| l.eq_ignore_ascii_case(r))
                .count()
                > 1
            {
                return Err(format!(
                    "label `{r}` must not be repeated (RFC 8493 §2.2.2)"
                ));
            }
        }
        let mut out = String::new();
        for (label, value) in &elements {
            check_label(label)?;
            let value = value.trim();
            if value.is_empty() {
                return Err(format!("the value of `{label}` is empty"));
            }
            if let Some(c) = value.chars().find(|&c| c.is_control() && c != '\t') {
                return Err(format!(
                    "the value of `{label}` contains the control character U+{:04X}; \
                     bag-info values are single lines",
                    c as u32
                ));
            }
            fold_into(&mut out, label, value);
        }
        Ok(out)
    }
}

fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("a bag-info label is empty".into());
    }
    if label.contains(':') || label.chars().any(char::is_control) {
        return Err(format!(
            "bag-info label `{}` contains a colon or a control character",
            label.escape_debug()
        ));
    }
    if label.trim() != label {
        return Err(format!(
            "bag-info label `{label}` starts or ends with whitespace"
        ));
    }
    Ok(())
}

/// Appends `label: value` and an LF, breaking before spaces so lines stay within
/// [`FOLD_AT`] characters where the value allows it.
fn fold_into(out: &mut String, label: &str, value: &str) {
    out.push_str(label);
    out.push_str(": ");
    // Break points: a space followed by a non-space, so no continuation line is blank.
    let chars: Vec<(usize, char)> = value.char_indices().collect();
    let mut candidates = chars
        .windows(2)
        .filter(|w| w[0].1 == ' ' && !w[1].1.is_whitespace())
        .map(|w| w[0].0)
        .peekable();
    let width = |s: &str| s.chars().count();
    let mut start = 0;
    let mut used = width(label) + 2;
    loop {
        if used + width(&value[start..]) <= FOLD_AT {
            break;
        }
        // The furthest break that keeps this line within the limit, else the nearest one.
        let mut chosen = None;
        while let Some(&b) = candidates.peek() {
            if b <= start {
                candidates.next();
                continue;
            }
            if used + width(&value[start..b]) <= FOLD_AT {
                chosen = Some(b);
                candidates.next();
            } else {
                if chosen.is_none() {
                    chosen = Some(b);
                    candidates.next();
                }
                break;
            }
        }
        let Some(b) = chosen else { break };
        out.push_str(&value[start..b]);
        out.push('\n');
        start = b;
        used = 0;
    }
    out.push_str(&value[start..]);
    out.push('\n');
}

/// One element of a received `bag-info.txt`.
#[derive(Clone, Debug)]
pub(crate) struct Element {
    pub label: String,
    pub value: String,
    pub line: u64,
}

/// Parses `bag-info.txt` lines strictly. Continuation lines (starting with a space or
/// tab) are unfolded by removing only the line break.
pub(crate) fn parse(lines: &[Line<'_>]) -> (Vec<Element>, Vec<(u64, String)>) {
    let mut elements: Vec<Element> = Vec::new();
    let mut errors = Vec::new();
    let mut continuable = false;
    for l in lines {
        let t = l.text;
        if t.is_empty() {
            errors.push((
                l.number,
                "is empty; bag-info.txt holds only `Label: value` lines and their \
                 continuations (RFC 8493 §2.2.2)"
                    .to_owned(),
            ));
            continuable = false;
            continue;
        }
        if t.starts_with([' ', '\t']) {
            match elements.last_mut() {
                Some(e) if continuable => e.value.push_str(t),
                _ => errors.push((
                    l.number,
                    "starts with whitespace, which marks a continuation line, but there is \
                     no element before it to continue"
                        .to_owned(),
                )),
            }
            continue;
        }
        continuable = false;
        let Some((label, rest)) = t.split_once(':') else {
            errors.push((
                l.number,
                format!(
                    "`{}` has no colon; a bag-info element is `Label: value`",
                    t.escape_debug()
                ),
            ));
            continue;
        };
        if label.trim_end() != label {
            errors.push((
                l.number,
                format!(
                    "the label `{label}` ends with whitespace before the colon; RFC 8493 \
                     §2.2.2 forbids whitespace at the end of a label"
                ),
            ));
            continue;
        }
        let Some(value) = rest.strip_prefix([' ', '\t']) else {
            errors.push((
                l.number,
                format!(
                    "the label `{label}` is not followed by `: ` (a colon and one space or \
                     tab) before its value"
                ),
            ));
            continue;
        };
        elements.push(Element {
            label: label.to_owned(),
            value: value.to_owned(),
            line: l.number,
        });
        continuable = true;
    }
    for r in NON_REPEATABLE {
        let mut seen: Option<u64> = None;
        for e in elements.iter().filter(|e| e.label.eq_ignore_ascii_case(r)) {
            match seen {
                None => seen = Some(e.line),
                Some(first) => errors.push((
                    e.line,
                    format!(
                        "repeats `{r}` (first on line {first}); RFC 8493 §2.2.2 says it \
                         MUST NOT be repeated"
                    ),
                )),
            }
        }
    }
    for e in &elements {
        if e.label.eq_ignore_ascii_case("Bagging-Date") && BagDate::parse(&e.value).is_none() {
            errors.push((
                e.line,
                format!(
                    "Bagging-Date `{}` is not a date in the form YYYY-MM-DD",
                    e.value.escape_debug()
                ),
            ));
        }
    }
    errors.sort_by_key(|(line, _)| *line);
    (elements, errors)
}

/// Parses a Payload-Oxum value, `<octets>.<streams>`, digits only.
pub(crate) fn parse_oxum(v: &str) -> Option<(u64, u64)> {
    let (a, b) = v.split_once('.')?;
    let num = |s: &str| {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    Some((num(a)?, num(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::split_lines;

    #[test]
    fn dates() {
        assert_eq!(BagDate::from_days_since_epoch(0).to_string(), "1970-01-01");
        assert_eq!(
            BagDate::from_days_since_epoch(19_000).to_string(),
            "2022-01-08"
        );
        assert_eq!(
            BagDate::from_days_since_epoch(11_016).to_string(),
            "2000-02-29"
        );
        assert_eq!(
            BagDate::parse("2024-02-29"),
            Some(BagDate {
                year: 2024,
                month: 2,
                day: 29
            })
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024-01-01 ",
        ] {
            assert_eq!(BagDate::parse(bad), None, "{bad}");
        }
        assert!(BagDate::today_utc().year >= 2024);
    }

    fn unfold(text: &str) -> Vec<(String, String)> {
        let (els, errs) = parse(&split_lines(text));
        assert!(errs.is_empty(), "{errs:?}");
        els.into_iter().map(|e| (e.label, e.value)).collect()
    }

    #[test]
    fn long_values_fold_and_unfold_exactly() {
        let long = "Mass grave documentation, Izium forest site, exhumation of \
                    September 2022, images and video taken by the  regional team, \
                    with a-very-long-unbreakable-token-that-is-longer-than-a-line-by-itself-\
                    and-keeps-going-for-a-while end";
        let info = BagInfo {
            external_description: Some(long.to_owned()),
            bagging_date: BagDate::new(2026, 11, 25),
            labels: vec![("Custody-Case-Id".into(), "IZIUM-2022".into())],
            ..Default::default()
        };
        let text = info.render(10, 2).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() > 4, "{text}");
        for l in &lines {
            assert!(
                l.chars().count() <= FOLD_AT || !l.trim_start().contains(' '),
                "{l:?}"
            );
        }
        assert_eq!(
            unfold(&text),
            vec![
                ("External-Description".to_owned(), long.to_owned()),
                ("Bagging-Date".to_owned(), "2026-11-25".to_owned()),
                ("Custody-Case-Id".to_owned(), "IZIUM-2022".to_owned()),
                ("Payload-Oxum".to_owned(), "10.2".to_owned()),
            ]
        );
    }

    #[test]
    fn render_refuses_bad_labels_and_values() {
        let with = |l: &str, v: &str| BagInfo {
            labels: vec![(l.into(), v.into())],
            ..Default::default()
        };
        assert!(with("Payload-Oxum", "1.1").render(0, 0).is_err());
        assert!(with("Bag-Size", "1").render(0, 0).is_ok());
        assert!(with("A:B", "x").render(0, 0).is_err());
        assert!(with(" A", "x").render(0, 0).is_err());
        assert!(with("A", "line\nbreak").render(0, 0).is_err());
        assert!(with("A", "  ").render(0, 0).is_err());
        let twice = BagInfo {
            labels: vec![
                ("Bag-Count".into(), "1".into()),
                ("bag-count".into(), "2".into()),
            ],
            ..Default::default()
        };
        assert!(twice.render(0, 0).is_err());
    }

    #[test]
    fn parsing_is_strict() {
        let (_, e) = parse(&split_lines("Payload-Oxum : 1.1\n"));
        assert_eq!(e[0].0, 1);
        assert!(e[0].1.contains("ends with whitespace"), "{e:?}");
        let (_, e) = parse(&split_lines("A:b\n"));
        assert!(e[0].1.contains("not followed by"), "{e:?}");
        let (_, e) = parse(&split_lines(" x\n"));
        assert!(e[0].1.contains("continuation"), "{e:?}");
        let (_, e) = parse(&split_lines("A: b\n\nC: d\n"));
        assert_eq!(e[0].0, 2);
        let (_, e) = parse(&split_lines(
            "Bagging-Date: 2024-01-01\nbagging-date: 2024-01-02\n",
        ));
        assert_eq!(e[0].0, 2);
        assert!(e[0].1.contains("MUST NOT be repeated"));
        let (_, e) = parse(&split_lines("Bagging-Date: 1/2/2024\n"));
        assert!(e[0].1.contains("YYYY-MM-DD"));
        assert_eq!(
            unfold("A:\tb\r\nC: d\r\n e\r\n"),
            vec![("A".into(), "b".into()), ("C".into(), "d e".into())]
        );
    }

    #[test]
    fn oxum() {
        assert_eq!(parse_oxum("123.4"), Some((123, 4)));
        for bad in ["123", "1.2.3", "+1.2", "1. 2", ".2", "1.", "a.b"] {
            assert_eq!(parse_oxum(bad), None, "{bad}");
        }
    }
}
