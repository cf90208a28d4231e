//! Matroska and WebM: the segment's information (when it was written, its length, the
//! application that wrote it) and its tracks (codec, picture size, language), from the
//! elements before the first cluster. Element sizes are checked against their parent
//! and reads are capped, as everywhere in this crate.

use std::io::{Read, Seek};

use crate::clock;
use crate::record::{Basis, Metadata, Sourced, Track, VideoInfo};
use crate::source::Input;

const EBML: u32 = 0x1A45_DFA3;
const DOC_TYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const INFO: u32 = 0x1549_A966;
const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
const DURATION: u32 = 0x4489;
const DATE_UTC: u32 = 0x4461;
const MUXING_APP: u32 = 0x4D80;
const WRITING_APP: u32 = 0x5741;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const LANGUAGE: u32 = 0x22_B59C;
const VIDEO: u32 = 0xE0;
const PIXEL_WIDTH: u32 = 0xB0;
const PIXEL_HEIGHT: u32 = 0xBA;
const CLUSTER: u32 = 0x1F43_B675;

/// Seconds from 1970-01-01 to 2001-01-01, Matroska's epoch.
const EPOCH_2001: i64 = 978_307_200;

/// Largest EBML header, `Info` and `Tracks` read whole.
const MAX_HEADER: u64 = 64 * 1024;
const MAX_INFO: u64 = 1024 * 1024;
const MAX_TRACKS: u64 = 16 * 1024 * 1024;
/// Most elements walked before the first cluster.
const MAX_ELEMENTS: u32 = 10_000;

/// A variable-length integer at the start of `b`: its length and value, the length
/// marker kept (IDs) or removed (sizes).
fn vint(b: &[u8], max_len: usize, keep_marker: bool) -> Option<(usize, u64)> {
    let first = *b.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > max_len || b.len() < len {
        return None;
    }
    let init = if keep_marker {
        u64::from(first)
    } else {
        u64::from(first) & (0xFF >> len)
    };
    Some((
        len,
        b[1..len].iter().fold(init, |v, &x| (v << 8) | u64::from(x)),
    ))
}

/// An element header: ID, header length, data size (`None`: unknown).
fn header(b: &[u8]) -> Option<(u32, usize, Option<u64>)> {
    let (id_len, id) = vint(b, 4, true)?;
    let (size_len, size) = vint(b.get(id_len..)?, 8, false)?;
    let unknown = size == (1u64 << (7 * size_len)) - 1;
    Some((id as u32, id_len + size_len, (!unknown).then_some(size)))
}

/// The children of an element held in memory, as (ID, data); stops at the first that
/// is malformed, of unknown size or longer than what is left.
fn children(mut d: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    std::iter::from_fn(move || {
        let (id, head, size) = header(d)?;
        let end = (head as u64).checked_add(size?)?;
        if end > d.len() as u64 {
            d = &[];
            return None;
        }
        let data = &d[head..end as usize];
        d = &d[end as usize..];
        Some((id, data))
    })
}

fn uint(d: &[u8]) -> Option<u64> {
    (d.len() <= 8).then(|| d.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
}

fn float(d: &[u8]) -> Option<f64> {
    match d.len() {
        4 => Some(f64::from(f32::from_be_bytes(d.try_into().ok()?))),
        8 => Some(f64::from_be_bytes(d.try_into().ok()?)),
        _ => None,
    }
}

fn text(d: &[u8]) -> String {
    String::from_utf8_lossy(d).trim_end_matches('\0').to_owned()
}

/// Whether the first bytes of a Matroska or WebM file show it holds sound and no
/// picture: its track list, whole within `head` and before any cluster, lists an audio
/// track and no video track (a voice message, an audio-only WebM download). `false`
/// when it does not, or when `head` does not reach that far.
pub(crate) fn audio_only(head: &[u8]) -> bool {
    let types = || -> Option<Vec<u64>> {
        let (id, len, size) = header(head)?;
        if id != EBML {
            return None;
        }
        let mut at = len.checked_add(usize::try_from(size?).ok()?)?;
        let (id, len, _) = header(head.get(at..)?)?;
        if id != SEGMENT {
            return None;
        }
        at += len;
        // The elements before the track list (SeekHead, Void, Info) are few.
        for _ in 0..64 {
            let (id, len, size) = header(head.get(at..)?)?;
            let end = at
                .checked_add(len)?
                .checked_add(usize::try_from(size?).ok()?)?;
            match id {
                TRACKS => {
                    let body = head.get(at + len..end)?;
                    return Some(
                        children(body)
                            .filter(|&(id, _)| id == TRACK_ENTRY)
                            .filter_map(|(_, entry)| {
                                children(entry)
                                    .find(|&(id, _)| id == TRACK_TYPE)
                                    .and_then(|(_, d)| uint(d))
                            })
                            .collect(),
                    );
                }
                CLUSTER => return None,
                _ => at = end,
            }
        }
        None
    };
    types().is_some_and(|t| t.contains(&2) && !t.contains(&1))
}

/// Reads the metadata of a Matroska or WebM file into `md`.
pub fn extract<R: Read + Seek>(input: &mut Input<'_, R>, md: &mut Metadata) {
    let size = input.size();
    let problem = |md: &mut Metadata, what: &str| md.problem(format_args!("Matroska: {what}"));
    let head = input.read_up_to(0, 16).unwrap_or_default();
    let Some((EBML, ebml_head, Some(ebml_size))) = header(&head) else {
        problem(md, "no EBML header");
        return;
    };
    let ebml_end = (ebml_head as u64).saturating_add(ebml_size);
    let Ok(ebml) = input.read_at(ebml_head as u64, ebml_size, MAX_HEADER) else {
        problem(md, "the EBML header is cut off or too large");
        return;
    };
    let doc_type = children(&ebml)
        .find(|&(id, _)| id == DOC_TYPE)
        .map(|(_, d)| text(d))
        .unwrap_or_else(|| "matroska".into());
    let mut info = VideoInfo {
        doc_type: Some(doc_type),
        ..VideoInfo::default()
    };

    // The segment: its children up to the first cluster.
    let mut at = ebml_end;
    let mut segment = None;
    for _ in 0..16 {
        let Some((id, head, sz)) = input.read_up_to(at, 12).ok().as_deref().and_then(header) else {
            break;
        };
        if id == SEGMENT {
            let data = at + head as u64;
            let end = sz.map_or(size, |s| data.saturating_add(s).min(size));
            segment = Some((data, end));
            break;
        }
        let Some(s) = sz else { break };
        at = at.saturating_add(head as u64).saturating_add(s);
    }
    let Some((mut at, end)) = segment else {
        problem(md, "no segment (the file is cut off before it)");
        md.video = Some(info);
        return;
    };
    let mut scale = 1_000_000u64;
    let mut duration = None;
    for walked in 0..=MAX_ELEMENTS {
        if walked == MAX_ELEMENTS {
            problem(
                md,
                &format!(
                    "more than {MAX_ELEMENTS} elements before the first cluster; the rest was not read"
                ),
            );
            break;
        }
        let Some((id, head, sz)) = input.read_up_to(at, 12).ok().as_deref().and_then(header) else {
            break;
        };
        if id == CLUSTER {
            break;
        }
        let Some(sz) = sz else {
            problem(md, "an element of unknown size before the first cluster");
            break;
        };
        let data = at + head as u64;
        let limit = match id {
            INFO => MAX_INFO,
            TRACKS => MAX_TRACKS,
            _ => 0,
        };
        if limit > 0 {
            match input.read_at(data, sz, limit) {
                Ok(body) if id == INFO => {
                    for (cid, d) in children(&body) {
                        match cid {
                            TIMESTAMP_SCALE => {
                                scale = uint(d).filter(|&s| s > 0).unwrap_or(scale);
                            }
                            DURATION => duration = float(d),
                            DATE_UTC => date_utc(d, md),
                            WRITING_APP => {
                                md.device.software = Some(Sourced {
                                    value: text(d),
                                    source: "matroska.Info.WritingApp".into(),
                                });
                            }
                            MUXING_APP if md.device.software.is_none() => {
                                md.device.software = Some(Sourced {
                                    value: text(d),
                                    source: "matroska.Info.MuxingApp".into(),
                                });
                            }
                            _ => {}
                        }
                    }
                }
                Ok(body) => tracks(&body, &mut info),
                Err(e) => problem(md, &format!("cannot read element {id:#x}: {e}")),
            }
        }
        match data.checked_add(sz).filter(|&e| e <= end) {
            Some(next) => at = next,
            None => break,
        }
    }
    info.duration_s = duration
        .filter(|d| d.is_finite() && *d >= 0.0)
        .map(|d| d * scale as f64 / 1e9);
    md.video = Some(info);
}

/// `DateUTC`: nanoseconds since 2001-01-01T00:00:00 UTC, when the file was written.
fn date_utc(d: &[u8], md: &mut Metadata) {
    // A date is 8 bytes, or none for the epoch itself.
    let Some(raw) = uint(d).filter(|_| d.is_empty() || d.len() == 8) else {
        md.problem("Matroska: DateUTC is neither 8 bytes nor empty");
        return;
    };
    let ns = raw as i64;
    let original = format!("{ns} ns since 2001-01-01T00:00:00Z");
    let parsed = clock::since_unix(EPOCH_2001 + ns.div_euclid(1_000_000_000));
    md.times.push(clock::clock(
        "matroska.Info.DateUTC",
        &original,
        parsed,
        Basis::UtcBySpecification,
    ));
}

fn tracks(body: &[u8], info: &mut VideoInfo) {
    for (id, entry) in children(body) {
        if id != TRACK_ENTRY || info.tracks.len() >= 256 {
            continue;
        }
        let field = |want: u32| children(entry).find(|&(i, _)| i == want).map(|(_, d)| d);
        let handler = match field(TRACK_TYPE).and_then(uint) {
            Some(1) => "vide".to_owned(),
            Some(2) => "soun".to_owned(),
            Some(17) => "subt".to_owned(),
            Some(33) => "meta".to_owned(),
            Some(n) => format!("type {n}"),
            None => String::new(),
        };
        let video = field(VIDEO);
        let dim = |want: u32| {
            video
                .and_then(|v| children(v).find(|&(i, _)| i == want).map(|(_, d)| d))
                .and_then(uint)
                .and_then(|n| u32::try_from(n).ok())
                .filter(|&n| n > 0)
        };
        let track = Track {
            codec: field(CODEC_ID).map(text),
            width: dim(PIXEL_WIDTH),
            height: dim(PIXEL_HEIGHT),
            duration_s: None,
            language: field(LANGUAGE).map(text).filter(|l| l != "und"),
            handler,
            rotation: None,
            object_type: None,
        };
        if track.handler == "vide" && info.width.is_none() {
            info.width = track.width;
            info.height = track.height;
        }
        info.tracks.push(track);
    }
}
