//! Clock readings: parse each stored date format into a [`Clock`] that says how it
//! relates to UTC, and compare clocks with each other without inventing offsets.

use time::macros::format_description;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::record::{Basis, Clock, Note};

/// The UTC offsets of the tz database in use at some time since 2000, in seconds east
/// of UTC, in ascending order. Most are whole hours; the others are half hours (among
/// them UTC−04:30, Venezuela until 2016, UTC+08:30, North Korea 2015–2018, and UTC+11:30,
/// Norfolk Island until 2015) and three quarter hours (UTC+05:45 in Nepal, UTC+08:45 and
/// UTC+09:45 in Eucla, UTC+12:45 and UTC+13:45 in the Chatham Islands). Not every quarter
/// hour is one: UTC+01:15 is not.
const OFFSETS_IN_USE_S: [i64; 44] = {
    const H: i64 = 3600;
    const M: i64 = 60;
    [
        -12 * H,
        -11 * H,
        -10 * H,
        -(9 * H + 30 * M),
        -9 * H,
        -8 * H,
        -7 * H,
        -6 * H,
        -5 * H,
        -(4 * H + 30 * M),
        -4 * H,
        -(3 * H + 30 * M),
        -3 * H,
        -(2 * H + 30 * M),
        -2 * H,
        -H,
        0,
        H,
        2 * H,
        3 * H,
        3 * H + 30 * M,
        4 * H,
        4 * H + 30 * M,
        5 * H,
        5 * H + 30 * M,
        5 * H + 45 * M,
        6 * H,
        6 * H + 30 * M,
        7 * H,
        8 * H,
        8 * H + 30 * M,
        8 * H + 45 * M,
        9 * H,
        9 * H + 30 * M,
        9 * H + 45 * M,
        10 * H,
        10 * H + 30 * M,
        11 * H,
        11 * H + 30 * M,
        12 * H,
        12 * H + 45 * M,
        13 * H,
        13 * H + 45 * M,
        14 * H,
    ]
};

/// Earliest and latest UTC offsets in use (UTC−12:00 … UTC+14:00), in seconds.
const MIN_OFFSET_S: i64 = OFFSETS_IN_USE_S[0];
const MAX_OFFSET_S: i64 = OFFSETS_IN_USE_S[OFFSETS_IN_USE_S.len() - 1];

/// Readings that differ by no more than this are treated as the same instant.
const SAME_S: i64 = 1;

/// A parsed reading before it becomes a [`Clock`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Parsed {
    pub date: Option<Date>,
    pub time: Option<Time>,
    pub offset: Option<UtcOffset>,
    /// The text said UTC explicitly (`Z`), or the format defines the value as UTC.
    pub utc: bool,
}

/// Builds a clock from a parsed reading; `basis_utc` is the basis to use for a
/// UTC reading (plain [`Basis::Utc`] or [`Basis::UtcBySpecification`]).
pub fn clock(source: &str, original: &str, p: Option<Parsed>, basis_utc: Basis) -> Clock {
    let mut c = Clock {
        source: source.to_string(),
        original: original.to_string(),
        subsec_original: None,
        offset_original: None,
        basis: Basis::Unparsed,
        local: None,
        offset: None,
        utc: None,
    };
    let Some(p) = p else { return c };
    let Some(date) = p.date else { return c };
    let Some(time) = p.time else {
        c.basis = Basis::DateOnly;
        c.local = Some(fmt_date(date));
        return c;
    };
    let local = PrimitiveDateTime::new(date, time);
    c.local = Some(fmt_local(local));
    if p.utc {
        c.basis = basis_utc;
        c.offset = Some("+00:00".into());
        c.utc = Some(fmt_utc(local.assume_utc()));
    } else if let Some(off) = p.offset {
        c.basis = Basis::LocalWithOffset;
        c.offset = Some(fmt_offset(off));
        c.utc = Some(fmt_utc(local.assume_offset(off).to_offset(UtcOffset::UTC)));
    } else {
        c.basis = Basis::LocalUnknownOffset;
    }
    c
}

fn fmt_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn fmt_local(t: PrimitiveDateTime) -> String {
    let mut s = format!(
        "{}T{:02}:{:02}:{:02}",
        fmt_date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    );
    let ns = t.nanosecond();
    if ns > 0 {
        let frac = format!("{ns:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s
}

fn fmt_utc(t: OffsetDateTime) -> String {
    format!("{}Z", fmt_local(PrimitiveDateTime::new(t.date(), t.time())))
}

pub fn fmt_offset(o: UtcOffset) -> String {
    let (h, m, _) = o.as_hms();
    let sign = if o.is_negative() { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn make_date(y: u32, mo: u32, d: u32) -> Option<Date> {
    let month = Month::try_from(u8::try_from(mo).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()
}

fn make_time(h: u32, mi: u32, s: u32, nanos: u32) -> Option<Time> {
    Time::from_hms_nano(
        u8::try_from(h).ok()?,
        u8::try_from(mi).ok()?,
        u8::try_from(s).ok()?,
        nanos,
    )
    .ok()
}

/// Digits after a decimal point as nanoseconds (`"12"` → 120 ms).
pub fn fraction_nanos(digits: &str) -> Option<u32> {
    let d = digits.trim_end_matches([' ', '\0']);
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut s: String = d.chars().take(9).collect();
    while s.len() < 9 {
        s.push('0');
    }
    s.parse().ok()
}

/// `+HH:MM`, `-HH:MM`, `+HHMM`, `+HH` or `Z`.
pub fn offset(text: &str) -> Option<(UtcOffset, bool)> {
    let t = text.trim_matches([' ', '\0']);
    // Every format below is ASCII; checking first keeps byte slicing on char boundaries.
    if !t.is_ascii() {
        return None;
    }
    if t == "Z" {
        return Some((UtcOffset::UTC, true));
    }
    let sign: i8 = match t.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &t[1..];
    let (h, m) = match rest.len() {
        2 => (num(rest)?, 0),
        4 => (num(&rest[..2])?, num(&rest[2..])?),
        5 if rest.as_bytes()[2] == b':' => (num(&rest[..2])?, num(&rest[3..])?),
        _ => return None,
    };
    // Offsets in use run from UTC−12:00 to UTC+14:00; beyond them is no offset.
    let seconds = i64::from(sign) * (i64::from(h) * 3600 + i64::from(m) * 60);
    if m > 59 || !(MIN_OFFSET_S..=MAX_OFFSET_S).contains(&seconds) {
        return None;
    }
    let o = UtcOffset::from_hms(sign * h as i8, sign * m as i8, 0).ok()?;
    Some((o, false))
}

/// EXIF `YYYY:MM:DD HH:MM:SS` (trailing NULs or spaces ignored).
pub fn exif(text: &str) -> Option<Parsed> {
    let t = text.trim_end_matches(['\0', ' ']);
    if t.len() != 19 || !t.is_ascii() {
        return None;
    }
    let b = t.as_bytes();
    if b[4] != b':' || b[7] != b':' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = make_date(num(&t[0..4])?, num(&t[5..7])?, num(&t[8..10])?)?;
    let time = make_time(num(&t[11..13])?, num(&t[14..16])?, num(&t[17..19])?, 0)?;
    Some(Parsed {
        date: Some(date),
        time: Some(time),
        ..Parsed::default()
    })
}

/// ISO 8601 as XMP and QuickTime write it: `YYYY[-MM[-DD[Thh:mm[:ss[.s]][TZD]]]]`,
/// also with EXIF-style colons in the date and a space before the time.
pub fn iso8601(text: &str) -> Option<Parsed> {
    let t = text.trim_matches([' ', '\0', '\n', '\r', '\t']);
    let b = t.as_bytes();
    if b.len() < 4 || !t.is_ascii() {
        return None;
    }
    let y = num(&t[..4])?;
    let mut p = Parsed::default();
    if b.len() == 4 {
        // A year alone: kept as text only.
        return None;
    }
    if !matches!(b[4], b'-' | b':') || b.len() < 7 {
        return None;
    }
    let mo = num(&t[5..7])?;
    if b.len() == 7 {
        return None;
    }
    if b[7] != b[4] || b.len() < 10 {
        return None;
    }
    let d = num(&t[8..10])?;
    p.date = Some(make_date(y, mo, d)?);
    if b.len() == 10 {
        return Some(p);
    }
    if !matches!(b[10], b'T' | b' ') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let h = num(&t[11..13])?;
    let mi = num(&t[14..16])?;
    let mut rest = &t[16..];
    let mut s = 0;
    let mut nanos = 0;
    if let Some(r) = rest.strip_prefix(':') {
        s = num(r.get(..2)?)?;
        rest = &r[2..];
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            nanos = fraction_nanos(&r[..n])?;
            rest = &r[n..];
        }
    }
    p.time = Some(make_time(h, mi, s, nanos)?);
    if !rest.is_empty() {
        let (o, z) = offset(rest)?;
        p.offset = Some(o);
        p.utc = z;
    }
    Some(p)
}

/// PDF `D:YYYYMMDDHHmmSSOHH'mm'` (PDF 32000-1 §7.9.4); every part after the year optional.
pub fn pdf(text: &str) -> Option<Parsed> {
    let t = text.trim();
    let t = t.strip_prefix("D:").unwrap_or(t);
    if !t.is_ascii() {
        return None;
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits < 8 || digits % 2 != 0 || digits > 14 {
        return None;
    }
    let field = |a: usize, n: usize| num(&t[a..a + n]);
    let mut p = Parsed {
        date: Some(make_date(field(0, 4)?, field(4, 2)?, field(6, 2)?)?),
        ..Parsed::default()
    };
    if digits < 12 {
        return Some(p);
    }
    let s = if digits == 14 { field(12, 2)? } else { 0 };
    p.time = Some(make_time(field(8, 2)?, field(10, 2)?, s, 0)?);
    let rest = &t[digits..];
    match rest.as_bytes().first() {
        None => {}
        Some(b'Z') => {
            p.offset = Some(UtcOffset::UTC);
            p.utc = true;
        }
        Some(b'+' | b'-') => {
            let sign = &rest[..1];
            let body: String = rest[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            let o = match body.len() {
                2 | 4 => offset(&format!("{sign}{body}"))?.0,
                _ => return None,
            };
            p.offset = Some(o);
        }
        _ => return None,
    }
    Some(p)
}

/// Seconds since 1904-01-01T00:00:00 (ISO BMFF) as a UTC-by-specification reading.
pub fn since_1904(secs: u64) -> Option<Parsed> {
    since_unix(i64::try_from(secs).ok()? - crate::bmff::EPOCH_1904_TO_1970)
}

/// Seconds since 1970-01-01T00:00:00Z as a UTC reading.
pub fn since_unix(unix: i64) -> Option<Parsed> {
    let t = OffsetDateTime::from_unix_timestamp(unix).ok()?;
    Some(Parsed {
        date: Some(t.date()),
        time: Some(t.time()),
        offset: Some(UtcOffset::UTC),
        utc: true,
    })
}

/// EXIF GPS date stamp `YYYY:MM:DD` and time stamp (three rationals) as UTC.
pub fn gps(date: &str, hms: [f64; 3]) -> Option<Parsed> {
    let d = date.trim_end_matches(['\0', ' ']);
    if d.len() != 10 || !d.is_ascii() {
        return None;
    }
    let date = make_date(num(&d[0..4])?, num(&d[5..7])?, num(&d[8..10])?)?;
    let [h, m, s] = hms;
    if !(0.0..24.0).contains(&h) || !(0.0..60.0).contains(&m) || !(0.0..61.0).contains(&s) {
        return None;
    }
    if h.fract() != 0.0 || m.fract() != 0.0 {
        return None;
    }
    let whole = s.trunc();
    // Rationals such as 724/100 do not survive f64 exactly; microseconds do.
    let nanos = (((s - whole) * 1e6).round() as u32).saturating_mul(1000);
    let time = make_time(h as u32, m as u32, whole as u32, nanos.min(999_999_999))?;
    Some(Parsed {
        date: Some(date),
        time: Some(time),
        offset: Some(UtcOffset::UTC),
        utc: true,
    })
}

/// A reading in a form that can be compared.
#[derive(Clone, Copy)]
enum Reading {
    /// A known instant (seconds since the Unix epoch).
    Instant(i64),
    /// A wall-clock reading with unknown offset, as if it were UTC.
    Wall(i64),
}

fn reading(c: &Clock) -> Option<Reading> {
    let fmt = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    match c.basis {
        Basis::Utc | Basis::LocalWithOffset | Basis::UtcBySpecification => {
            let u = c.utc.as_deref()?.strip_suffix('Z')?;
            let t = PrimitiveDateTime::parse(u, fmt).ok()?;
            Some(Reading::Instant(t.assume_utc().unix_timestamp()))
        }
        Basis::LocalUnknownOffset => {
            let t = PrimitiveDateTime::parse(c.local.as_deref()?, fmt).ok()?;
            Some(Reading::Wall(t.assume_utc().unix_timestamp()))
        }
        _ => None,
    }
}

/// Human form of a span of seconds: `1 d 0 h 2 min 42 s`.
pub fn span(secs: i64) -> String {
    let d = Duration::seconds(secs.abs());
    let (days, h, m, s) = (
        d.whole_days(),
        d.whole_hours() % 24,
        d.whole_minutes() % 60,
        d.whole_seconds() % 60,
    );
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} d"));
    }
    if h > 0 || days > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 || h > 0 || days > 0 {
        parts.push(format!("{m} min"));
    }
    parts.push(format!("{s} s"));
    parts.join(" ")
}

fn signed_offset(secs: i64) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
}

fn relation(diff: i64) -> String {
    if diff > 0 {
        format!("{} after", span(diff))
    } else {
        format!("{} before", span(diff))
    }
}

/// Compares every pair of distinct readings and says how they relate.
///
/// Readings that agree exactly are grouped; each group is compared once. A UTC
/// reading against a local reading without offset yields a range over every offset
/// in use, never a single number.
pub fn compare(times: &[Clock]) -> Vec<Note> {
    // Group identical readings; remember the sources of each group.
    let mut groups: Vec<(Reading, Vec<&str>)> = Vec::new();
    for c in times {
        let Some(r) = reading(c) else { continue };
        let same = groups.iter_mut().find(|(g, _)| match (g, &r) {
            (Reading::Instant(a), Reading::Instant(b)) | (Reading::Wall(a), Reading::Wall(b)) => {
                (a - b).abs() <= SAME_S
            }
            _ => false,
        });
        match same {
            Some((_, srcs)) => srcs.push(&c.source),
            None => groups.push((r, vec![&c.source])),
        }
    }
    let mut notes = Vec::new();
    for i in 0..groups.len() {
        for j in i + 1..groups.len() {
            if notes.len() >= 32 {
                return notes;
            }
            let (a, sa) = &groups[i];
            let (b, sb) = &groups[j];
            let name = |s: &Vec<&str>| {
                if s.len() == 1 {
                    s[0].to_string()
                } else {
                    format!("{} (and {})", s[0], s[1..].join(", "))
                }
            };
            let sources = vec![sa[0].to_string(), sb[0].to_string()];
            match (*a, *b) {
                (Reading::Instant(x), Reading::Instant(y)) => {
                    let d = y - x;
                    notes.push(Note {
                        kind: "clock_difference".into(),
                        sources,
                        difference_s: Some(d),
                        difference_range_s: None,
                        value: None,
                        text: format!("{} is {} {}.", name(sb), relation(d), name(sa)),
                    });
                }
                (Reading::Wall(x), Reading::Wall(y)) => {
                    let d = y - x;
                    notes.push(Note {
                        kind: "clock_difference".into(),
                        sources,
                        difference_s: Some(d),
                        difference_range_s: None,
                        value: None,
                        text: format!(
                            "{} reads {} {} (both local times without offset; the difference is exact only if both came from the same clock).",
                            name(sb),
                            relation(d),
                            name(sa)
                        ),
                    });
                }
                (Reading::Wall(x), Reading::Instant(y)) => {
                    notes.push(unknown_offset(&name(sa), &name(sb), sources, x, y, true));
                }
                (Reading::Instant(x), Reading::Wall(y)) => {
                    notes.push(unknown_offset(&name(sb), &name(sa), sources, y, x, false));
                }
            }
        }
    }
    notes
}

/// `wall` is a local reading without offset, `instant` a UTC instant.
/// `wall_first` says which came first in `sources` (the difference is second − first).
///
/// They are offered as the same moment only when the offset that would make them so is
/// within a second of one in [`OFFSETS_IN_USE_S`] (a `clock_unknown_offset` note naming
/// it); otherwise a `clock_difference` note names the nearest offset in use and how far
/// it misses.
fn unknown_offset(
    wall_name: &str,
    instant_name: &str,
    sources: Vec<String>,
    wall: i64,
    instant: i64,
    wall_first: bool,
) -> Note {
    // instant − wall_utc, where wall_utc = wall − offset, offset ∈ [MIN, MAX].
    let d0 = instant - wall;
    let (lo, hi) = (d0 + MIN_OFFSET_S, d0 + MAX_OFFSET_S);
    let range = if wall_first { [lo, hi] } else { [-hi, -lo] };
    // If both were the same instant, the camera's offset would have been wall − instant.
    let implied = wall - instant;
    let (nearest, tied) = nearest_offsets_in_use(implied);
    let outside = lo > SAME_S || hi < -SAME_S;
    let matches = !outside && (implied - nearest).abs() <= SAME_S;
    let text = if outside {
        format!(
            "{instant_name} (a known instant) and {wall_name} (local time, offset unknown) disagree whatever the offset: {instant_name} is between {} and {}{} {wall_name}.",
            span(lo.abs().min(hi.abs())),
            span(lo.abs().max(hi.abs())),
            if lo > 0 { " after" } else { " before" },
        )
    } else if matches {
        format!(
            "{instant_name} (a known instant) matches {wall_name} (local time, offset unknown) only if that clock was set to UTC{}; the offset is not recorded, so this is not established.",
            signed_offset(nearest)
        )
    } else {
        // The gap is not an offset in use: none makes them the same moment. Say by how
        // much the nearest one misses, as a clock that ran fast or slow (or two
        // different events) would explain it.
        let miss = wall - nearest - instant;
        let direction = |m: i64| if m > 0 { "ahead of" } else { "behind" };
        let at_nearest = match tied {
            None => format!(
                "at the nearest, UTC{}, {wall_name} is {} {} {instant_name}",
                signed_offset(nearest),
                span(miss),
                direction(miss),
            ),
            Some(other) => format!(
                "at the two nearest, UTC{} and UTC{}, {wall_name} is {} {} {instant_name} and {} {} it",
                signed_offset(nearest),
                signed_offset(other),
                span(miss),
                direction(miss),
                span(wall - other - instant),
                direction(wall - other - instant),
            ),
        };
        format!(
            "{instant_name} (a known instant) and {wall_name} (local time, offset unknown) are not the same moment at any UTC offset in use (none is within a second of the gap between them); {at_nearest}: a clock off by that much, or two different events.",
        )
    };
    let kind = if matches {
        "clock_unknown_offset"
    } else {
        "clock_difference"
    };
    Note {
        kind: kind.into(),
        sources,
        difference_s: None,
        difference_range_s: Some(range),
        value: None,
        text,
    }
}

/// The offset in use nearest to `secs`, and a second one when two are equally near (the
/// western one first).
fn nearest_offsets_in_use(secs: i64) -> (i64, Option<i64>) {
    let gap = |o: &i64| (secs - o).abs();
    let nearest = OFFSETS_IN_USE_S
        .iter()
        .copied()
        .min_by_key(gap)
        .expect("the list of offsets is not empty");
    let tied = OFFSETS_IN_USE_S
        .iter()
        .copied()
        .find(|o| *o != nearest && gap(o) == gap(&nearest));
    (nearest, tied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exif_without_offset_is_local_and_has_no_utc() {
        let c = clock(
            "exif.DateTimeOriginal",
            "2008:10:22 16:29:49",
            exif("2008:10:22 16:29:49"),
            Basis::Utc,
        );
        assert_eq!(c.basis, Basis::LocalUnknownOffset);
        assert_eq!(c.local.as_deref(), Some("2008-10-22T16:29:49"));
        assert_eq!(c.utc, None);
    }

    #[test]
    fn exif_with_offset_derives_utc() {
        let mut p = exif("2022:02:24 05:10:00").unwrap();
        p.offset = Some(offset("+02:00").unwrap().0);
        let c = clock(
            "exif.DateTimeOriginal",
            "2022:02:24 05:10:00",
            Some(p),
            Basis::Utc,
        );
        assert_eq!(c.basis, Basis::LocalWithOffset);
        assert_eq!(c.utc.as_deref(), Some("2022-02-24T03:10:00Z"));
    }

    #[test]
    fn blank_exif_date_is_unparsed_not_invented() {
        let c = clock(
            "exif.DateTimeOriginal",
            "    :  :     :  :  ",
            exif("    :  :     :  :  "),
            Basis::Utc,
        );
        assert_eq!(c.basis, Basis::Unparsed);
        assert!(c.local.is_none() && c.utc.is_none());
    }

    #[test]
    fn iso_forms() {
        let p = iso8601("2011-09-23T12:43:03Z").unwrap();
        assert!(p.utc);
        let p = iso8601("2010-04-13T09:37:22+02:00").unwrap();
        assert_eq!(p.offset.unwrap().whole_hours(), 2);
        let p = iso8601("2010-04-13").unwrap();
        assert!(p.time.is_none());
        let p = iso8601("2019-02-12T15:27:12+0800").unwrap();
        assert_eq!(p.offset.unwrap().whole_hours(), 8);
        assert!(iso8601("2010-13-01").is_none());
        assert!(iso8601("garbage").is_none());
        // Found by the mutation test: multi-byte characters where digits belong.
        assert!(iso8601("2022-02-24T05:1\u{FFFD}\u{FFFD}").is_none());
        assert!(exif("2022:02:24 05:1\u{FFFD}:0").is_none());
        assert!(offset("+0\u{FFFD}").is_none());
    }

    #[test]
    fn pdf_forms() {
        let p = pdf("D:20240131120000+01'00'").unwrap();
        assert_eq!(p.offset.unwrap().whole_hours(), 1);
        let p = pdf("D:20240131").unwrap();
        assert!(p.time.is_none());
        assert!(pdf("D:2024013").is_none());
    }

    #[test]
    fn gps_one_day_after_local_camera_is_a_disagreement_range() {
        let cam = clock(
            "exif.DateTimeOriginal",
            "2008:10:22 16:29:49",
            exif("2008:10:22 16:29:49"),
            Basis::Utc,
        );
        let g = clock(
            "gps",
            "x",
            gps("2008:10:23", [14.0, 27.0, 7.24]),
            Basis::Utc,
        );
        let notes = compare(&[cam, g]);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].kind, "clock_difference");
        let [lo, hi] = notes[0].difference_range_s.unwrap();
        assert!(lo > 0 && hi > lo, "{lo} {hi}");
        assert_eq!(notes[0].difference_s, None);
    }

    /// A UTC reading and a local one without offset: a possible match only at an offset
    /// in use (`OFFSETS_IN_USE_S`); otherwise, how far the nearest offset misses.
    #[test]
    fn a_match_at_unknown_offset_is_offered_only_at_real_offsets() {
        let cam = || {
            clock(
                "exif.DateTimeOriginal",
                "2022:03:04 10:15:00",
                exif("2022:03:04 10:15:00"),
                Basis::Utc,
            )
        };
        let utc = |t: &str| clock("xmp.xmp:ModifyDate", t, iso8601(t), Basis::Utc);
        // 08:15 UTC is 10:15 at UTC+02:00 (Kyiv in winter).
        let notes = compare(&[cam(), utc("2022-03-04T08:15:00Z")]);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].kind, "clock_unknown_offset");
        assert!(
            notes[0]
                .text
                .contains("only if that clock was set to UTC+02:00"),
            "{}",
            notes[0].text
        );
        // 3 min 20 s more: no offset in use gives the same moment.
        let notes = compare(&[cam(), utc("2022-03-04T08:11:40Z")]);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].kind, "clock_difference");
        let t = &notes[0].text;
        assert!(!t.contains("matches"), "{t}");
        assert!(t.contains("at the nearest, UTC+02:00, exif.DateTimeOriginal is 3 min 20 s ahead of xmp.xmp:ModifyDate"), "{t}");
        // A second apart (GPS times carry fractions the comparison drops): the offer names
        // the offset in use, not the second-off one.
        let notes = compare(&[cam(), utc("2022-03-04T08:15:01Z")]);
        assert!(
            notes[0].text.contains("set to UTC+02:00;"),
            "{}",
            notes[0].text
        );
        let notes = compare(&[cam(), utc("2022-03-04T15:14:59Z")]);
        assert!(
            notes[0].text.contains("set to UTC-05:00;"),
            "{}",
            notes[0].text
        );
        // Behind: 15:20:30 UTC against 10:15 local; the nearest offset is UTC-05:00.
        let notes = compare(&[cam(), utc("2022-03-04T15:20:30Z")]);
        let t = &notes[0].text;
        assert!(
            t.contains("at the nearest, UTC-05:00, exif.DateTimeOriginal is 5 min 30 s behind"),
            "{t}"
        );
        // Three quarters past the hour: UTC+05:45 (Nepal) is in use...
        let notes = compare(&[cam(), utc("2022-03-04T04:30:00Z")]);
        assert_eq!(notes[0].kind, "clock_unknown_offset");
        assert!(
            notes[0].text.contains("set to UTC+05:45;"),
            "{}",
            notes[0].text
        );
        // ...and so is UTC-09:30 (the Marquesas).
        let notes = compare(&[cam(), utc("2022-03-04T19:45:00Z")]);
        assert_eq!(notes[0].kind, "clock_unknown_offset");
        assert!(
            notes[0].text.contains("set to UTC-09:30;"),
            "{}",
            notes[0].text
        );
        // ...but not every quarter hour is an offset: UTC+01:15 is none, and the note
        // names the nearest that is, UTC+01:00, missing by 15 min.
        let notes = compare(&[cam(), utc("2022-03-04T09:00:00Z")]);
        assert_eq!(notes[0].kind, "clock_difference");
        let t = &notes[0].text;
        assert!(!t.contains("matches"), "{t}");
        assert!(
            t.contains("(none is within a second of the gap between them)"),
            "{t}"
        );
        assert!(
            t.contains("at the nearest, UTC+01:00, exif.DateTimeOriginal is 15 min 0 s ahead of xmp.xmp:ModifyDate"),
            "{t}"
        );
        // UTC+08:30 was in use in North Korea from 2015 to 2018.
        let notes = compare(&[cam(), utc("2022-03-04T01:45:00Z")]);
        assert_eq!(notes[0].kind, "clock_unknown_offset");
        assert!(
            notes[0].text.contains("set to UTC+08:30;"),
            "{}",
            notes[0].text
        );
        // UTC+06:15 is none, and UTC+06:00 and UTC+06:30 are equally near: both are named.
        let notes = compare(&[cam(), utc("2022-03-04T04:00:00Z")]);
        assert_eq!(notes[0].kind, "clock_difference");
        let t = &notes[0].text;
        assert!(
            t.contains("at the two nearest, UTC+06:00 and UTC+06:30, exif.DateTimeOriginal is 15 min 0 s ahead of xmp.xmp:ModifyDate and 15 min 0 s behind it"),
            "{t}"
        );
    }

    #[test]
    fn offsets_beyond_those_in_use_are_no_offsets() {
        for ok in ["+14:00", "-12:00", "+05:45", "Z", "+0530", "-03"] {
            assert!(offset(ok).is_some(), "{ok}");
        }
        for bad in ["+14:30", "-12:30", "+15:00", "-13", "+01:60", "   :  "] {
            assert_eq!(offset(bad), None, "{bad}");
        }
    }

    #[test]
    fn offsets_in_use_are_ascending_whole_minutes_from_minus_12_to_plus_14() {
        assert!(OFFSETS_IN_USE_S.windows(2).all(|w| w[0] < w[1]));
        assert!(OFFSETS_IN_USE_S.iter().all(|o| o % 60 == 0));
        assert_eq!((MIN_OFFSET_S, MAX_OFFSET_S), (-12 * 3600, 14 * 3600));
        let named: Vec<String> = OFFSETS_IN_USE_S.iter().map(|&o| signed_offset(o)).collect();
        for o in [
            "-09:30", "-04:30", "-03:30", "-02:30", "+05:45", "+08:30", "+08:45", "+09:45",
            "+11:30", "+12:45", "+13:45",
        ] {
            assert!(named.iter().any(|n| n == o), "{o} missing");
        }
        for o in ["+01:15", "+06:15", "-00:30"] {
            assert!(!named.iter().any(|n| n == o), "{o} is not in use");
        }
        // Halfway between two offsets in use, both are given, the western one first.
        assert_eq!(
            nearest_offsets_in_use(-(9 * 3600 + 45 * 60)),
            (-10 * 3600, Some(-(9 * 3600 + 30 * 60)))
        );
        assert_eq!(nearest_offsets_in_use(3600 + 60), (3600, None));
    }
}
