//! IPTC IIM (Information Interchange Model) in a JPEG's Photoshop segments (APP13, one
//! or several joined) or a TIFF's IPTC-NAA or Photoshop tag: the dates a newsroom or a
//! photographer's software records. News agencies and
//! photojournalists' tools write them, often without EXIF or XMP dates beside them.
//!
//! Read: record 2, DateCreated (2:55, `CCYYMMDD`) with TimeCreated (2:60, `HHMMSS±HHMM`),
//! the date the content was created, and DigitalCreationDate (2:62) with
//! DigitalCreationTime (2:63), the date it was digitised. Each pair becomes one clock,
//! `iptc.DateCreated` and `iptc.DigitalCreationDate`: with its offset when the time
//! gives one (as the standard asks), a local time of unknown offset when it does not, a
//! date alone without a time.

use time::{Date, Month, Time};

use crate::clock::{self, Parsed};
use crate::record::{Basis, Metadata};

/// The leading bytes of a Photoshop image resource segment.
const PHOTOSHOP: &[u8] = b"Photoshop 3.0\0";

/// The image resource holding IPTC IIM data.
const IPTC_RESOURCE: u16 = 0x0404;

/// Most datasets read from one IIM block.
const MAX_DATASETS: usize = 10_000;

/// The leading bytes of a JPEG's Photoshop segment (APP13), which a continuation of the
/// resources in a further segment repeats.
pub const PHOTOSHOP_SEGMENT: &[u8] = PHOTOSHOP;

/// The IIM bytes of an APP13 segment's body (or of several joined), if it holds them.
pub fn from_photoshop(body: &[u8]) -> Option<&[u8]> {
    from_resources(body.strip_prefix(PHOTOSHOP)?)
}

/// The IIM bytes among Photoshop image resources (as a TIFF's Photoshop tag holds them,
/// without the segment's leading bytes).
pub fn from_resources(mut at: &[u8]) -> Option<&[u8]> {
    // Image resources: "8BIM", an ID, a Pascal name padded to an even length, a size,
    // the data padded to an even length.
    // Photoshop writes `8BIM`; other software its own signatures.
    let signature = |b: &[u8]| {
        [b"8BIM", b"PHUT", b"AgHg", b"DCSR", b"MeSa"]
            .iter()
            .any(|s| b.starts_with(*s))
    };
    while at.len() >= 12 && signature(at) {
        let id = u16::from_be_bytes([at[4], at[5]]);
        let name_len = usize::from(at[6]);
        let name_total = (1 + name_len).next_multiple_of(2);
        let size_at = 6 + name_total;
        let size = at
            .get(size_at..size_at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)?;
        let data_at = size_at + 4;
        let data = at.get(data_at..data_at.checked_add(size)?)?;
        if id == IPTC_RESOURCE {
            return Some(data);
        }
        at = at.get(data_at + size.next_multiple_of(2)..).unwrap_or(&[]);
    }
    None
}

/// Adds the clocks of an IIM block to `md`; a block that ends inside a dataset is a
/// problem, and what was read before it stands.
pub fn apply(iim: &[u8], md: &mut Metadata) {
    let mut found: [Option<&[u8]>; 4] = [None; 4];
    let mut at = 0usize;
    for _ in 0..MAX_DATASETS {
        // The end, or padding after the last dataset (some writers fill the block with
        // zeros; fewer than a dataset's five bytes hold none).
        let rest = iim.get(at..).unwrap_or(&[]);
        if rest.len() < 5 || rest.iter().all(|&b| b == 0) {
            break;
        }
        // A dataset: the tag marker 0x1C, record and dataset numbers, a length (two
        // bytes; with the top bit set, the count of the bytes that give it).
        let Some(head) = iim.get(at..at + 5).filter(|h| h[0] == 0x1C) else {
            md.problem(format_args!(
                "IPTC IIM: no dataset where one was expected at byte {at} of the block"
            ));
            break;
        };
        let (record, dataset) = (head[1], head[2]);
        let short = usize::from(u16::from_be_bytes([head[3], head[4]]));
        let (len, value_at) = if short & 0x8000 == 0 {
            (short, at + 5)
        } else {
            let n = short & 0x7FFF;
            let Some(len) = iim
                .get(at + 5..at + 5 + n)
                .filter(|b| b.len() <= 4)
                .map(|b| b.iter().fold(0usize, |v, &x| (v << 8) | usize::from(x)))
            else {
                md.problem("IPTC IIM: a dataset's extended length is cut off or too long");
                break;
            };
            (len, at + 5 + n)
        };
        let Some(value) = value_at
            .checked_add(len)
            .and_then(|end| iim.get(value_at..end))
        else {
            md.problem(format_args!(
                "IPTC IIM: dataset {record}:{dataset} runs past the end of the block"
            ));
            break;
        };
        if record == 2 {
            let slot = match dataset {
                55 => Some(0),
                60 => Some(1),
                62 => Some(2),
                63 => Some(3),
                _ => None,
            };
            if let Some(i) = slot {
                found[i].get_or_insert(value);
            }
        }
        at = value_at + len;
    }
    for (source, date, time) in [
        ("iptc.DateCreated", found[0], found[1]),
        ("iptc.DigitalCreationDate", found[2], found[3]),
    ] {
        let Some(date) = date else {
            if time.is_some() {
                md.problem(format_args!(
                    "{source}: a time without its date is not a clock"
                ));
            }
            continue;
        };
        let (date, time) = (trimmed(date), time.map(trimmed));
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let original = match time {
            Some(t) => format!("{} {}", text(date), text(t)),
            None => text(date),
        };
        let mut parsed = parse(date, time);
        if parsed.is_none() && time.is_some() {
            // A time that is not one loses nothing of a good date.
            if let Some(day) = parse(date, None) {
                md.problem(format_args!(
                    "{source}: the time in {original:?} is not an IIM time (HHMMSS±HHMM): the date alone is kept"
                ));
                parsed = Some(day);
            }
        }
        let c = clock::clock(source, &original, parsed, Basis::Utc);
        if c.basis == Basis::Unparsed {
            md.problem(format_args!(
                "{source}: {original:?} is not an IIM date and time (CCYYMMDD HHMMSS±HHMM)"
            ));
        }
        md.times.push(c);
    }
}

/// A value without the NULs and spaces some writers pad it with.
fn trimmed(b: &[u8]) -> &[u8] {
    let end = b
        .iter()
        .rposition(|&c| c != 0 && c != b' ')
        .map_or(0, |i| i + 1);
    &b[..end]
}

/// `CCYYMMDD` and `HHMMSS±HHMM` (or `HHMMSS`) as IIM writes them.
fn parse(date: &[u8], time: Option<&[u8]>) -> Option<Parsed> {
    let digits = |b: &[u8]| -> Option<u32> {
        b.iter().try_fold(0u32, |v, &c| {
            c.is_ascii_digit().then(|| v * 10 + u32::from(c - b'0'))
        })
    };
    if date.len() != 8 {
        return None;
    }
    let year = i32::try_from(digits(&date[..4])?).ok()?;
    let month = Month::try_from(u8::try_from(digits(&date[4..6])?).ok()?).ok()?;
    let day = u8::try_from(digits(&date[6..8])?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let mut p = Parsed {
        date: Some(date),
        ..Parsed::default()
    };
    let Some(t) = time else {
        return Some(p);
    };
    if t.len() < 6 {
        return None;
    }
    let hms = |i: usize| u8::try_from(digits(&t[i..i + 2])?).ok();
    p.time = Some(Time::from_hms(hms(0)?, hms(2)?, hms(4)?).ok()?);
    if t.len() > 6 {
        let (offset, _) = clock::offset(std::str::from_utf8(&t[6..]).ok()?)?;
        p.offset = Some(offset);
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(record: u8, number: u8, value: &[u8]) -> Vec<u8> {
        let mut d = vec![0x1C, record, number];
        d.extend_from_slice(&(value.len() as u16).to_be_bytes());
        d.extend_from_slice(value);
        d
    }

    fn app13(iim: &[u8]) -> Vec<u8> {
        let mut b = PHOTOSHOP.to_vec();
        // A resource before it (a Photoshop resolution block), then the IIM one.
        b.extend_from_slice(b"8BIM\x03\xED\x00\x00\x00\x00\x00\x02\x00\x48");
        b.extend_from_slice(b"8BIM\x04\x04\x00\x00");
        b.extend_from_slice(&(iim.len() as u32).to_be_bytes());
        b.extend_from_slice(iim);
        if iim.len() % 2 == 1 {
            b.push(0);
        }
        b
    }

    #[test]
    fn dates_with_offsets_without_and_alone() {
        let iim = [
            dataset(1, 90, b"\x1b%G"),
            dataset(2, 55, b"20220318"),
            dataset(2, 60, b"100000+0300"),
            dataset(2, 62, b"20220317"),
        ]
        .concat();
        let body = app13(&iim);
        let found = from_photoshop(&body).expect("the IIM resource");
        assert_eq!(found, &iim[..]);
        let mut md = Metadata::empty("image/jpeg", 0);
        apply(found, &mut md);
        assert!(md.problems.is_empty(), "{:?}", md.problems);
        let created = md.clock("iptc.DateCreated").unwrap();
        assert_eq!(created.basis, Basis::LocalWithOffset);
        assert_eq!(created.utc.as_deref(), Some("2022-03-18T07:00:00Z"));
        assert_eq!(created.original, "20220318 100000+0300");
        let digital = md.clock("iptc.DigitalCreationDate").unwrap();
        assert_eq!(digital.basis, Basis::DateOnly);
        assert_eq!(digital.local.as_deref(), Some("2022-03-17"));

        let mut md = Metadata::empty("image/jpeg", 0);
        apply(&dataset(2, 55, b"2022031X"), &mut md);
        assert_eq!(md.clock("iptc.DateCreated").unwrap().basis, Basis::Unparsed);
        assert_eq!(md.problems.len(), 1, "{:?}", md.problems);

        // Padded values, and a block padded with zeros after its last dataset.
        let mut padded = [dataset(2, 55, b"20220318 "), dataset(2, 60, b"100000\0")].concat();
        padded.extend([0; 7]);
        let mut md = Metadata::empty("image/jpeg", 0);
        apply(&padded, &mut md);
        assert!(md.problems.is_empty(), "{:?}", md.problems);
        let c = md.clock("iptc.DateCreated").unwrap();
        assert_eq!(c.basis, Basis::LocalUnknownOffset);
        assert_eq!(c.original, "20220318 100000");

        // A time that is none keeps the date, and says so.
        let mut md = Metadata::empty("image/jpeg", 0);
        apply(
            &[
                dataset(2, 55, b"20220318"),
                dataset(2, 60, b"10:00:00+03:00"),
            ]
            .concat(),
            &mut md,
        );
        let c = md.clock("iptc.DateCreated").unwrap();
        assert_eq!(c.basis, Basis::DateOnly);
        assert_eq!(md.problems.len(), 1, "{:?}", md.problems);
    }

    #[test]
    fn damaged_blocks_are_problems_not_panics() {
        let good = dataset(2, 55, b"20220318");
        for cut in 0..good.len() {
            let mut md = Metadata::empty("image/jpeg", 0);
            apply(&good[..cut], &mut md);
            assert!(md.times.is_empty());
            // Fewer than five bytes are padding; more, a dataset cut off.
            assert_eq!(md.problems.len(), usize::from(cut >= 5), "cut at {cut}");
        }
        let mut md = Metadata::empty("image/jpeg", 0);
        apply(&[0x1C, 2, 55, 0x80, 0x09, 1, 2, 3], &mut md);
        assert_eq!(md.problems.len(), 1, "{:?}", md.problems);
        assert_eq!(
            from_photoshop(b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\xff\xff\xff\xff"),
            None
        );
        assert_eq!(from_photoshop(b"Exif\0\0"), None);
    }
}
