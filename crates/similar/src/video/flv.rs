//! Keyframes of Flash Video (FLV): H.264 as RTMP live streams are recorded (OBS's and
//! streaming servers' recordings, older live platforms, some downloads).
//!
//! An FLV file is a header and then tags, each with its type, size and time in
//! milliseconds. Only tag headers (and a video tag's first five bytes) are read while
//! walking: a video tag of the H.264 codec (7) is either a sequence header (the
//! `avcC` record, as in MP4) or coded frames, whose frame type says which are
//! keyframes. A frame's presentation time is its tag's time plus its composition
//! offset, counted from the earliest of the stream, as a player counts from 0:00. As
//! for the other containers, the file is walked twice (count, then take the chosen
//! ones), and each keyframe is decoded with the sequence header last seen before it. A
//! tag that runs past the end of the file, or a header that makes no sense, ends the
//! walk there, keeping the keyframes before it.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

use super::{
    Chosen, Codec, Coding, Keyframe, MAX_KEYFRAMES, avc_config, corrupt, hash_frames, io_error,
    no_video_track, ranks,
};
use crate::HashError;

const AUDIO: u8 = 8;
const VIDEO: u8 = 9;
const SCRIPT: u8 = 18;
/// The H.264 codec ID of a video tag.
const AVC: u8 = 7;
/// Most tags walked in one pass (a day of 60 fps video with audio is about 10 million).
const MAX_TAGS: u64 = 20_000_000;
/// Largest sequence header read (an `avcC` record is a few dozen bytes).
const MAX_HEADER_BYTES: u32 = 64 * 1024;

/// Whether the file starts with an FLV header.
pub(super) fn is_flv(head: &[u8]) -> bool {
    head.len() >= 9 && head.starts_with(b"FLV") && head[3] == 1
}

pub(super) fn hash_keyframes<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
) -> Result<Vec<Keyframe>, HashError> {
    let mut shown = 0u64;
    let mut earliest: Option<i64> = None;
    let has_video = walk(r, file_len, |tag| {
        if let Tag::Frame { pts, key, .. } = tag {
            earliest = Some(earliest.map_or(pts, |e| e.min(pts)));
            if key {
                shown += 1;
            }
        }
    })?;
    let Some(earliest) = earliest else {
        return Err(if has_video {
            corrupt("the FLV file's video holds no H.264 frames".into())
        } else {
            no_video_track()
        });
    };
    if shown == 0 {
        return Err(corrupt(
            "the FLV file's video holds no whole keyframe (no frame is marked as one)".into(),
        ));
    }
    let wanted = ranks(shown, MAX_KEYFRAMES);
    let mut rank = 0u64;
    let mut header: Option<(u64, u32)> = None;
    let mut chosen: Vec<(Chosen, Option<(u64, u32)>)> = Vec::with_capacity(wanted.len());
    walk(r, file_len, |tag| match tag {
        Tag::Header { offset, size } => header = Some((offset, size)),
        Tag::Frame {
            pts,
            key: true,
            offset,
            size,
        } => {
            if wanted.binary_search(&rank).is_ok() {
                let at_ms = u64::try_from(pts - earliest).unwrap_or(0);
                chosen.push((
                    Chosen {
                        number: rank + 1,
                        offset,
                        size,
                        at_ms,
                    },
                    header,
                ));
            }
            rank += 1;
        }
        Tag::Frame { .. } => {}
    })?;
    let mut out = Vec::with_capacity(chosen.len());
    for (frame, header) in chosen {
        let (at, size) = header.ok_or_else(|| {
            corrupt(format!(
                "keyframe {} comes before any H.264 sequence header (avcC)",
                frame.number
            ))
        })?;
        let record = read(r, at, size)?;
        let (params, length_size) = avc_config(&record)
            .ok_or_else(|| corrupt("the H.264 sequence header (avcC) is cut off".into()))?;
        let coding = Coding {
            codec: Codec::H264,
            params,
            length_size,
        };
        out.extend(hash_frames(r, file_len, &coding, 1, &[frame])?);
    }
    out.sort_by_key(|k| k.at_ms);
    out.dedup_by_key(|k| k.at_ms);
    Ok(out)
}

fn read<R: Read + Seek>(r: &mut R, at: u64, size: u32) -> Result<Vec<u8>, HashError> {
    let mut d = vec![0u8; size as usize];
    r.seek(SeekFrom::Start(at)).map_err(io_error)?;
    r.read_exact(&mut d).map_err(io_error)?;
    Ok(d)
}

/// What a walk finds: where an H.264 sequence header's `avcC` record lies, or where a
/// frame's length-prefixed NAL units lie, when it is shown (ms, as written) and
/// whether it is a keyframe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Header {
        offset: u64,
        size: u32,
    },
    Frame {
        pts: i64,
        key: bool,
        offset: u64,
        size: u32,
    },
}

/// Walks the file's tags, calling `f` with each H.264 sequence header and frame;
/// whether the file has video tags at all. Refuses a file whose video is not H.264,
/// naming its codec.
fn walk<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
    mut f: impl FnMut(Tag),
) -> Result<bool, HashError> {
    r.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let mut b = BufReader::with_capacity(8 * 1024, r);
    let mut head = [0u8; 9];
    b.read_exact(&mut head).map_err(io_error)?;
    let header_size = u32::from_be_bytes([head[5], head[6], head[7], head[8]]);
    // After the header, the first "previous tag size" (0).
    let mut at = u64::from(header_size) + 4;
    b.seek(SeekFrom::Start(at)).map_err(io_error)?;
    let mut other_codec: Option<u8> = None;
    let mut seen_video = false;
    let mut seen_avc = false;
    for _ in 0..MAX_TAGS {
        // A tag's header: type, data size, time (24 bits, then the upper 8), stream
        // (always 0), then the first bytes of a video tag's data.
        let mut t = [0u8; 16];
        let Ok(got) = fill(&mut b, &mut t) else { break };
        if got < 11 {
            break;
        }
        let kind = t[0] & 0x1F;
        let size = u32::from_be_bytes([0, t[1], t[2], t[3]]);
        let time = i64::from(u32::from_be_bytes([t[7], t[4], t[5], t[6]]));
        let data = at + 11;
        let end = data + u64::from(size);
        if !matches!(kind, AUDIO | VIDEO | SCRIPT) || t[8..11] != [0, 0, 0] || end > file_len {
            // Damage, or a recording cut off: keep what came before.
            break;
        }
        if kind == VIDEO && size >= 1 {
            seen_video = true;
            let codec = t[11] & 0x0F;
            let frame_type = t[11] >> 4;
            if t[11] & 0x80 != 0 {
                // Enhanced FLV (a FourCC codec: HEVC, AV1, VP9): not read here.
                other_codec.get_or_insert(0x80);
            } else if codec != AVC {
                other_codec.get_or_insert(codec);
            } else if size >= 5 && got >= 16 {
                seen_avc = true;
                let composition = {
                    let v = i64::from(u32::from_be_bytes([0, t[13], t[14], t[15]]));
                    // Signed 24 bits.
                    if v & 0x80_0000 != 0 {
                        v - 0x100_0000
                    } else {
                        v
                    }
                };
                match t[12] {
                    0 if size - 5 <= MAX_HEADER_BYTES => f(Tag::Header {
                        offset: data + 5,
                        size: size - 5,
                    }),
                    1 if size > 5 => f(Tag::Frame {
                        pts: time + composition,
                        key: frame_type == 1,
                        offset: data + 5,
                        size: size - 5,
                    }),
                    _ => {}
                }
            }
        }
        // On past the data and the next "previous tag size", within the buffer when
        // the tag is small.
        let next = end + 4;
        let skip = i64::try_from(i128::from(next) - i128::from(at + got as u64))
            .map_err(|_| corrupt("an FLV tag is larger than any file".into()))?;
        b.seek_relative(skip).map_err(io_error)?;
        at = next;
    }
    match other_codec {
        Some(codec) if !seen_avc => Err(HashError::Unsupported {
            media_type: format!("FLV video coded as {}", codec_name(codec)),
            why: "only H.264 video keyframes are decoded in FLV",
        }),
        _ => Ok(seen_video),
    }
}

fn codec_name(codec: u8) -> &'static str {
    match codec {
        2 => "Sorenson H.263",
        3 => "Screen video",
        4 => "On2 VP6",
        5 => "On2 VP6 with alpha",
        6 => "Screen video 2",
        12 => "HEVC (codec 12)",
        0x80 => "an enhanced-FLV FourCC codec (HEVC, AV1 or VP9)",
        _ => "an unknown codec",
    }
}

/// Reads as much of `buf` as the file holds.
fn fill<R: BufRead>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tag of `kind` at `time` ms holding `data`, and the size after it.
    fn tag(kind: u8, time: u32, data: &[u8]) -> Vec<u8> {
        let size = (data.len() as u32).to_be_bytes();
        let t = time.to_be_bytes();
        let mut v = vec![
            kind, size[1], size[2], size[3], t[1], t[2], t[3], t[0], 0, 0, 0,
        ];
        v.extend_from_slice(data);
        v.extend_from_slice(&(11 + data.len() as u32).to_be_bytes());
        v
    }

    fn file(tags: &[Vec<u8>]) -> Vec<u8> {
        let mut f = b"FLV\x01\x01\0\0\0\x09\0\0\0\0".to_vec();
        f.extend(tags.concat());
        f
    }

    fn tags_of(f: &[u8]) -> Result<Vec<Tag>, HashError> {
        let mut out = Vec::new();
        walk(&mut std::io::Cursor::new(f), f.len() as u64, |t| {
            out.push(t)
        })?;
        Ok(out)
    }

    #[test]
    fn tags_say_where_frames_lie_and_when_they_are_shown() {
        let header = tag(VIDEO, 0, &[0x17, 0, 0, 0, 0, 1, 2, 3]);
        // A keyframe shown 40 ms after its tag's time, then an inter frame shown 40 ms
        // before its tag's (a negative 24-bit offset), after a 2^24 ms time.
        let key = tag(VIDEO, 0x0100_0000, &[0x17, 1, 0, 0, 40, 9, 9]);
        let inter = tag(VIDEO, 0x0100_00A0, &[0x27, 1, 0xFF, 0xFF, 0xD8, 9]);
        let sound = tag(AUDIO, 10, &[0xAF, 1, 5]);
        let f = file(&[header, sound, key, inter]);
        let tags = tags_of(&f).unwrap();
        // The header tag at 13 (23 bytes with its size after), the sound (18), the
        // keyframe (22), the inter frame.
        let (at, key_at) = (13 + 11, 13 + 23 + 18);
        assert_eq!(
            tags,
            vec![
                Tag::Header {
                    offset: at + 5,
                    size: 3
                },
                Tag::Frame {
                    pts: 0x0100_0000 + 40,
                    key: true,
                    offset: key_at + 11 + 5,
                    size: 2
                },
                Tag::Frame {
                    pts: 0x0100_00A0 - 40,
                    key: false,
                    offset: key_at + 22 + 11 + 5,
                    size: 1
                },
            ]
        );
    }

    #[test]
    fn damage_ends_the_walk_and_other_codecs_are_named() {
        let key = tag(VIDEO, 0, &[0x17, 1, 0, 0, 0, 9]);
        // A tag of no known type (damage) ends the walk; so does one cut off.
        let f = file(&[key.clone(), vec![0x33; 20], key.clone()]);
        assert_eq!(tags_of(&f).unwrap().len(), 1);
        let whole = file(&[key.clone(), key.clone()]);
        assert_eq!(tags_of(&whole[..whole.len() - 6]).unwrap().len(), 1);
        // An empty tag does not upset the walk.
        let f = file(&[tag(SCRIPT, 0, &[]), key.clone()]);
        assert_eq!(tags_of(&f).unwrap().len(), 1);
        // VP6 and an enhanced-FLV codec are named; H.264 beside them is read.
        let vp6 = tag(VIDEO, 0, &[0x14, 0, 0]);
        let e = tags_of(&file(std::slice::from_ref(&vp6))).unwrap_err();
        assert!(e.to_string().contains("On2 VP6 is not supported"), "{e}");
        let hevc = tag(VIDEO, 0, &[0x90, b'h', b'v', b'c', b'1']);
        let e = tags_of(&file(&[hevc])).unwrap_err();
        assert!(e.to_string().contains("enhanced-FLV"), "{e}");
        assert_eq!(tags_of(&file(&[vp6, key])).unwrap().len(), 1);
    }
}
