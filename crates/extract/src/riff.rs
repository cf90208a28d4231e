//! AVI (a RIFF file of form `AVI `), as dashcams, CCTV exports and older cameras write
//! it: the main header (`avih`: frame count and rate), each stream's header and format
//! (`strh`, `strf`: its kind, coding and picture size), the capture time a camera
//! writes (`IDIT`, its own clock, local time without an offset), and the `INFO` list
//! (`ICRD`, the creation date; `ISFT`, the writing software). Only the first RIFF's
//! lists before its frames are read.

use std::io::{Read, Seek};

use crate::clock::{self, Parsed};
use crate::record::{Basis, Metadata, Sourced, Track, VideoInfo};
use crate::source::Input;

/// Largest header or `INFO` list read whole.
const MAX_LIST: u64 = 1024 * 1024;
/// Most chunks looked at before the frames.
const MAX_CHUNKS: u32 = 1_000;

fn le32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// The children of a list held in memory, as (ID, data), up to the first that runs
/// past it.
fn children(mut d: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let id: [u8; 4] = d.get(..4)?.try_into().ok()?;
        let size = le32(d, 4)? as usize;
        let end = 8usize.checked_add(size)?;
        let data = d.get(8..end)?;
        d = d.get(end + (end & 1)..).unwrap_or(&[]);
        Some((id, data))
    })
}

fn text(d: &[u8]) -> String {
    String::from_utf8_lossy(d)
        .trim_end_matches(['\0', '\n', '\r', ' '])
        .to_owned()
}

/// Reads the metadata of an AVI file into `md`.
pub fn extract<R: Read + Seek>(input: &mut Input<'_, R>, md: &mut Metadata) {
    let size = input.size();
    let problem = |md: &mut Metadata, what: &str| md.problem(format_args!("AVI: {what}"));
    let head = input.read_up_to(0, 12).unwrap_or_default();
    if head.len() < 12 || &head[..4] != b"RIFF" || &head[8..12] != b"AVI " {
        problem(md, "no RIFF AVI header");
        return;
    }
    let riff_end = match le32(&head, 4).map(|s| 8 + u64::from(s)) {
        Some(end) if end <= size && end > 12 => end,
        // A recorder stopped by a power loss leaves the size unwritten.
        _ => size,
    };
    let mut info = VideoInfo::default();
    let mut at = 12u64;
    for _ in 0..MAX_CHUNKS {
        let Ok(h) = input.read_up_to(at, 12) else {
            break;
        };
        if h.len() < 8 {
            break;
        }
        let id = &h[..4];
        let len = u64::from(le32(&h, 4).unwrap_or(0));
        let data = at + 8;
        let kind = h.get(8..12);
        if id == b"LIST" && kind == Some(b"movi") {
            break;
        }
        if id == b"LIST" && matches!(kind, Some(b"hdrl") | Some(b"INFO")) {
            match input.read_at(data + 4, len.saturating_sub(4), MAX_LIST) {
                Ok(list) if kind == Some(b"hdrl") => header(&list, &mut info, md),
                Ok(list) => info_list(&list, md),
                Err(e) => problem(md, &format!("cannot read a header list: {e}")),
            }
        } else if id == b"IDIT" {
            if let Ok(d) = input.read_at(data, len, 1024) {
                camera_time(&d, md);
            }
        }
        let end = data.saturating_add(len);
        if end > riff_end {
            break;
        }
        at = end + (end & 1);
    }
    md.video = Some(info);
}

/// The header list: the main header, each stream's header and format, and a camera's
/// `IDIT` where it is kept there.
fn header(list: &[u8], info: &mut VideoInfo, md: &mut Metadata) {
    for (id, d) in children(list) {
        match &id {
            b"avih" => {
                let frame_us = le32(d, 0).filter(|&us| us > 0);
                let frames = le32(d, 16);
                if let (Some(us), Some(n)) = (frame_us, frames) {
                    info.duration_s = Some(f64::from(n) * f64::from(us) / 1e6);
                }
                info.width = le32(d, 32).filter(|&w| w > 0);
                info.height = le32(d, 36).filter(|&h| h > 0);
            }
            b"LIST" if d.get(..4) == Some(b"strl") && info.tracks.len() < 256 => {
                stream(&d[4..], info);
            }
            b"IDIT" => camera_time(d, md),
            _ => {}
        }
    }
}

/// One stream: its kind, coding and picture size or audio format, and its length.
fn stream(strl: &[u8], info: &mut VideoInfo) {
    let mut track = Track::default();
    let mut strh = None;
    for (id, d) in children(strl) {
        match &id {
            b"strh" => strh = Some(d),
            b"strf" => match strh.and_then(|h| h.get(..4)) {
                Some(b"vids") => {
                    track.width = le32(d, 4).filter(|&w| w > 0);
                    // Negative: a top-down picture.
                    track.height = le32(d, 8)
                        .map(|h| (h as i32).unsigned_abs())
                        .filter(|&h| h > 0);
                    track.codec = d
                        .get(16..20)
                        .map(|c| String::from_utf8_lossy(c).trim_end_matches('\0').to_owned())
                        .filter(|c| !c.is_empty());
                }
                Some(b"auds") => {
                    track.codec = d
                        .get(..2)
                        .map(|t| format!("0x{:04X}", u16::from_le_bytes([t[0], t[1]])));
                }
                _ => {}
            },
            _ => {}
        }
    }
    let Some(h) = strh else { return };
    track.handler = match h.get(..4) {
        Some(b"vids") => "vide".into(),
        Some(b"auds") => "soun".into(),
        Some(b"txts") => "text".into(),
        Some(other) => String::from_utf8_lossy(other).into_owned(),
        None => String::new(),
    };
    let (scale, rate, length) = (le32(h, 20), le32(h, 24), le32(h, 32));
    if let (Some(scale), Some(rate), Some(length)) = (scale, rate, length) {
        if rate > 0 {
            track.duration_s = Some(f64::from(length) * f64::from(scale) / f64::from(rate));
        }
    }
    if track.handler == "vide" && info.width.is_none() {
        info.width = track.width;
        info.height = track.height;
    }
    info.tracks.push(track);
}

/// The `INFO` list: the creation date and the writing software.
fn info_list(list: &[u8], md: &mut Metadata) {
    for (id, d) in children(list) {
        match &id {
            b"ICRD" => {
                let t = text(d);
                let parsed = clock::iso8601(&t).or_else(|| clock::exif(&t));
                md.times
                    .push(clock::clock("riff.INFO.ICRD", &t, parsed, Basis::Utc));
            }
            b"ISFT" => {
                md.device.software = Some(Sourced {
                    value: text(d),
                    source: "riff.INFO.ISFT".into(),
                });
            }
            b"IDIT" => camera_time(d, md),
            _ => {}
        }
    }
}

/// `IDIT`: the time a camera's clock gave when it recorded, local without an offset,
/// as `ctime` writes it (`MON JUN 12 14:22:07 2011`) or as EXIF does.
fn camera_time(d: &[u8], md: &mut Metadata) {
    let t = text(d);
    if md.clock("riff.IDIT").is_some() {
        return;
    }
    let parsed = ctime(&t)
        .or_else(|| clock::exif(&t))
        .or_else(|| clock::iso8601(&t));
    md.times
        .push(clock::clock("riff.IDIT", &t, parsed, Basis::Utc));
}

/// `Www Mmm dd hh:mm:ss yyyy` (any case, single spaces or more).
fn ctime(t: &str) -> Option<Parsed> {
    let parts: Vec<&str> = t.split_whitespace().collect();
    let [_, month, day, hms, year] = parts[..] else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let mo = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as u32 + 1;
    let text = format!("{year}:{mo:02}:{:02} {hms}", day.parse::<u32>().ok()?);
    clock::exif(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camera_times_are_read_in_ctime_form() {
        let p = ctime("SUN JUN 12 14:22:07 2011").unwrap();
        assert_eq!(p.date.unwrap().to_string(), "2011-06-12");
        assert_eq!(p.time.unwrap().to_string(), "14:22:07.0");
        assert!(ctime("Mon Apr  4 09:05:00 2022").is_some());
        assert!(ctime("SUN XYZ 12 14:22:07 2011").is_none());
        assert!(ctime("2011-06-12").is_none());
    }
}
