//! Keyframes of Flash Video (FLV): H.264 as RTMP live streams are recorded (OBS's and
//! streaming servers' recordings, older live platforms, some downloads), and Sorenson
//! H.263 (codec 2), as Flash video sites served video in the 2000s: each frame is one
//! picture with its own header, read by `video/mpeg4`.
//!
//! An FLV file is a header and then tags, each with its type, size and time in
//! milliseconds. Only tag headers (and a video tag's first five bytes) are read while
//! walking: a video tag of the H.264 codec (7) is either a sequence header (the
//! `avcC` record, as in MP4, kept when it reads as one) or coded frames, whose frame
//! type says which are keyframes (1, and 4, a server's generated keyframe; 5, a
//! command, is no frame). A frame is shown at its tag's time plus its composition
//! offset; tag times are made continuous over a wrap and over recordings joined (see
//! [`Clock`](super::Clock)) and counted from the first frame's, as a player counts
//! from 0:00. As for the other containers, the file is walked twice (count, then take
//! the chosen ones), and each keyframe is decoded with the last sequence header before
//! it. A tag that is not one (damage) is passed over: the next is found by its type,
//! its size and the size written after it, as players do; a tag cut off by the end of
//! the file ends the walk. The stream ID is not checked (some recorders write the RTMP
//! message stream's there). A chosen keyframe that cannot be decoded, or that comes
//! before any sequence header, is left out, and the video fails only if none decodes
//! (a live recording's damage should not hide the rest of it).

use std::io::{BufReader, Read, Seek, SeekFrom};

use super::{
    Chosen, Clock, Codec, Coding, Keyframe, MAX_KEYFRAMES, avc_config, corrupt, hash_frames,
    io_error, keep_hashed, no_video_track, ranks,
};
use crate::HashError;

const AUDIO: u8 = 8;
const VIDEO: u8 = 9;
const SCRIPT: u8 = 18;
/// The H.264 codec ID of a video tag.
const AVC: u8 = 7;
/// The Sorenson H.263 codec ID of a video tag (Flash video of the 2000s).
const SORENSON: u8 = 2;
/// Largest sequence header read (an `avcC` record is a few dozen bytes).
const MAX_HEADER_BYTES: u32 = 64 * 1024;
/// Bytes looked through for the next tag after damage before the walk gives up.
const MAX_RESYNC: u64 = 16 * 1024 * 1024;

/// Whether the file starts with an FLV signature.
pub(super) fn is_flv(head: &[u8]) -> bool {
    head.starts_with(b"FLV")
}

pub(super) fn hash_keyframes<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
) -> Result<Vec<Keyframe>, HashError> {
    let mut shown = 0u64;
    let mut first: Option<i64> = None;
    // The codec of the first frame: a file's frames of another are passed over.
    let mut codec: Option<u8> = None;
    let has_video = walk(r, file_len, |tag| {
        if let Tag::Frame {
            pts, key, codec: c, ..
        } = tag
        {
            if *codec.get_or_insert(c) != c {
                return;
            }
            first = first.or(Some(pts));
            if key {
                shown += 1;
            }
        }
    })?;
    let (Some(first), Some(codec)) = (first, codec) else {
        return Err(if has_video {
            corrupt("the FLV file's video holds no H.264 or Sorenson H.263 frames".into())
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
    let mut header: Option<Vec<u8>> = None;
    let mut chosen: Vec<(Chosen, Option<Vec<u8>>)> = Vec::with_capacity(wanted.len());
    walk(r, file_len, |tag| match tag {
        Tag::Header { record } => header = Some(record),
        Tag::Frame {
            pts,
            key: true,
            offset,
            size,
            codec: c,
        } if c == codec => {
            if wanted.binary_search(&rank).is_ok() {
                let at_ms = u64::try_from(pts - first).unwrap_or(0);
                chosen.push((
                    Chosen {
                        number: rank + 1,
                        offset,
                        size,
                        at_ms,
                    },
                    header.clone(),
                ));
            }
            rank += 1;
        }
        Tag::Frame { .. } => {}
    })?;
    let mut results = Vec::with_capacity(chosen.len());
    for (frame, header) in chosen {
        let hashed = match &header {
            // A Sorenson picture carries all it needs in its own header.
            _ if codec == SORENSON => {
                let coding = Coding {
                    codec: Codec::Sorenson,
                    params: Vec::new(),
                    length_size: 0,
                };
                hash_frames(r, file_len, &coding, 1, &[frame])
                    .map(|mut k| k.pop().expect("one frame"))
            }
            None => Err(corrupt(format!(
                "keyframe {} has no readable H.264 sequence header (avcC) before it",
                frame.number
            ))),
            Some(record) => {
                let (params, length_size) = avc_config(record).expect("checked when read");
                let coding = Coding {
                    codec: Codec::H264,
                    params,
                    length_size,
                };
                hash_frames(r, file_len, &coding, 1, &[frame])
                    .map(|mut k| k.pop().expect("one frame"))
            }
        };
        results.push(hashed);
    }
    keep_hashed(results)
}

/// What a walk finds: an H.264 sequence header's `avcC` record, or where a frame's
/// length-prefixed NAL units lie, when it is shown (ms, its tag's time made
/// continuous) and whether it is a keyframe.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tag {
    Header {
        record: Vec<u8>,
    },
    Frame {
        pts: i64,
        key: bool,
        offset: u64,
        size: u32,
        /// The tag's codec ID: H.264's or Sorenson H.263's.
        codec: u8,
    },
}

/// A tag's header at the start of `t` (at least 11 bytes): its type (filter bit
/// removed), whether it is encrypted (the filter bit), its data size and time (24 bits,
/// then the upper 8).
fn tag_header(t: &[u8]) -> (u8, bool, u32, u32) {
    (
        t[0] & 0x1F,
        t[0] & 0x20 != 0,
        u32::from_be_bytes([0, t[1], t[2], t[3]]),
        u32::from_be_bytes([t[7], t[4], t[5], t[6]]),
    )
}

/// Walks the file's tags, calling `f` with each readable H.264 sequence header and
/// each frame; whether the file has video tags at all. Refuses a file whose video is
/// not H.264, naming its coding.
fn walk<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
    mut f: impl FnMut(Tag),
) -> Result<bool, HashError> {
    r.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let mut b = BufReader::with_capacity(8 * 1024, r);
    let mut head = [0u8; 9];
    b.read_exact(&mut head).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => corrupt("the FLV header is cut off".into()),
        _ => io_error(e),
    })?;
    let header_size = u32::from_be_bytes([head[5], head[6], head[7], head[8]]);
    if header_size < 9 {
        return Err(corrupt(format!(
            "the FLV header gives its size as {header_size} bytes, less than its 9"
        )));
    }
    // After the header, the first "previous tag size" (0).
    let mut at = u64::from(header_size) + 4;
    b.seek(SeekFrom::Start(at)).map_err(io_error)?;
    let mut pos = at;
    let mut other: Option<String> = None;
    let mut encrypted = false;
    let mut seen_video = false;
    let mut seen_avc = false;
    let mut seen_frame = false;
    let mut cut = false;
    let mut clock = Clock::new(1 << 32, 1_000, 40);
    loop {
        if pos != at {
            let skip = i64::try_from(i128::from(at) - i128::from(pos))
                .map_err(|_| corrupt("an FLV tag is larger than any file".into()))?;
            b.seek_relative(skip).map_err(io_error)?;
        }
        // A tag's header (type, size, time, stream), then a video tag's first bytes.
        let mut t = [0u8; 16];
        let got = fill(&mut b, &mut t)?;
        pos = at + got as u64;
        if got < 11 {
            break;
        }
        let (kind, filtered, size, time) = tag_header(&t);
        let data = at + 11;
        let end = data + u64::from(size);
        if !matches!(kind, AUDIO | VIDEO | SCRIPT) {
            // Damage: find the next tag.
            match resync(&mut b, at + 1, file_len)? {
                Some(next) => {
                    b.seek(SeekFrom::Start(next)).map_err(io_error)?;
                    (pos, at) = (next, next);
                    continue;
                }
                None => break,
            }
        }
        if end > file_len {
            // Cut off: what came before stands.
            cut = true;
            break;
        }
        if kind == VIDEO && size >= 1 {
            seen_video = true;
            let first = t[11];
            if filtered {
                encrypted = true;
            } else if first & 0x80 != 0 {
                // Enhanced FLV: a FourCC names the coding.
                other.get_or_insert_with(|| {
                    format!("{} (enhanced FLV)", String::from_utf8_lossy(&t[12..16]))
                });
            } else if first & 0x0F == SORENSON {
                // A frame type, then the picture itself (its own header first).
                let frame_type = first >> 4;
                seen_avc = true;
                if size > 1 && frame_type != 5 {
                    seen_frame = true;
                    let dts = i64::try_from(clock.time(u64::from(time))).unwrap_or(i64::MAX);
                    f(Tag::Frame {
                        pts: dts,
                        key: matches!(frame_type, 1 | 4),
                        offset: data + 1,
                        size: size - 1,
                        codec: SORENSON,
                    });
                }
            } else if first & 0x0F != AVC {
                other.get_or_insert_with(|| codec_name(first & 0x0F).to_owned());
            } else if size >= 5 && got >= 16 {
                seen_avc = true;
                let frame_type = first >> 4;
                let composition = {
                    let v = i64::from(u32::from_be_bytes([0, t[13], t[14], t[15]]));
                    // Signed 24 bits.
                    if v & 0x80_0000 != 0 {
                        v - 0x100_0000
                    } else {
                        v
                    }
                };
                match (t[12], frame_type) {
                    (_, 5) => {} // a command, no frame
                    (0, _) if size - 5 <= MAX_HEADER_BYTES => {
                        let mut record = vec![0u8; (size - 5) as usize];
                        b.read_exact(&mut record).map_err(io_error)?;
                        pos = data + 5 + u64::from(size - 5);
                        if avc_config(&record).is_some() {
                            f(Tag::Header { record });
                        }
                    }
                    (1, _) if size > 5 => {
                        seen_frame = true;
                        let dts = i64::try_from(clock.time(u64::from(time))).unwrap_or(i64::MAX);
                        f(Tag::Frame {
                            pts: dts + composition,
                            key: matches!(frame_type, 1 | 4),
                            offset: data + 5,
                            size: size - 5,
                            codec: AVC,
                        });
                    }
                    _ => {}
                }
            }
        }
        // On past the data and the next "previous tag size", within the buffer when
        // the tag is small.
        at = end + 4;
    }
    match (seen_avc, other, encrypted) {
        (_, _, true) if !seen_frame => Err(HashError::Unsupported {
            media_type: "encrypted FLV video".into(),
            why: "its frames cannot be read without the key they were encrypted with",
        }),
        (false, Some(name), _) => Err(HashError::Unsupported {
            media_type: format!("FLV video coded as {name}"),
            why: "only H.264 and Sorenson H.263 video keyframes are decoded in FLV",
        }),
        _ if cut && !seen_video => Err(corrupt(
            "the FLV file is cut off before its first video tag".into(),
        )),
        _ => Ok(seen_video),
    }
}

/// The next place from `from` where a tag begins, as players find one after damage: a
/// known type, reserved bits clear, and after its data the size it was written with
/// (11 more than its data's). Looks through at most [`MAX_RESYNC`] bytes.
fn resync<R: Read + Seek>(
    b: &mut BufReader<&mut R>,
    from: u64,
    file_len: u64,
) -> Result<Option<u64>, HashError> {
    let mut window = vec![0u8; 64 * 1024];
    let mut start = from;
    while start < file_len && start - from < MAX_RESYNC {
        b.seek(SeekFrom::Start(start)).map_err(io_error)?;
        let got = fill(b, &mut window)?;
        if got < 11 {
            return Ok(None);
        }
        for i in 0..got - 10 {
            let (kind, _, size, _) = tag_header(&window[i..]);
            if window[i] & 0xC0 != 0 || !matches!(kind, AUDIO | VIDEO | SCRIPT) {
                continue;
            }
            let at = start + i as u64;
            let trailer = at + 11 + u64::from(size);
            if trailer + 4 > file_len {
                continue;
            }
            let mut written = [0u8; 4];
            b.seek(SeekFrom::Start(trailer)).map_err(io_error)?;
            b.read_exact(&mut written).map_err(io_error)?;
            if u32::from_be_bytes(written) == 11 + size {
                return Ok(Some(at));
            }
        }
        start += (got - 10) as u64;
    }
    Ok(None)
}

fn codec_name(codec: u8) -> &'static str {
    match codec {
        2 => "Sorenson H.263",
        3 => "Screen video",
        4 => "On2 VP6",
        5 => "On2 VP6 with alpha",
        6 => "Screen video 2",
        12 => "HEVC (codec 12)",
        _ => "an unknown codec",
    }
}

/// Reads as much of `buf` as the file holds.
fn fill<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, HashError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
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

    /// An `avcC` record with no parameter sets and 4-byte lengths.
    const RECORD: [u8; 7] = [1, 0x64, 0, 0x1F, 0xFF, 0xE0, 0];

    #[test]
    fn tags_say_where_frames_lie_and_when_they_are_shown() {
        let header = tag(VIDEO, 0, &[&[0x17, 0, 0, 0, 0][..], &RECORD].concat());
        // A keyframe shown 40 ms after its tag's time, then an inter frame shown 40 ms
        // before its tag's (a negative 24-bit offset), after a 2^24 ms time.
        let key = tag(VIDEO, 0x0100_0000, &[0x17, 1, 0, 0, 40, 9, 9]);
        let inter = tag(VIDEO, 0x0100_00A0, &[0x27, 1, 0xFF, 0xFF, 0xD8, 9]);
        let sound = tag(AUDIO, 10, &[0xAF, 1, 5]);
        // A command (frame type 5) is no frame; a garbage sequence header is dropped.
        let command = tag(VIDEO, 0x0100_00A0, &[0x57, 1, 0, 0, 0, 0]);
        let garbage = tag(VIDEO, 0x0100_00A0, &[0x17, 0, 0, 0, 0, 9]);
        let f = file(&[header.clone(), sound, key, inter, command, garbage]);
        let tags = tags_of(&f).unwrap();
        // The header tag at 13 (its data 12 bytes; 27 with the size after), the sound
        // (18), the keyframe (22), the inter frame.
        let key_at = 13 + 27 + 18;
        assert_eq!(
            tags,
            vec![
                Tag::Header {
                    record: RECORD.to_vec()
                },
                Tag::Frame {
                    pts: 0x0100_0000 + 40,
                    key: true,
                    offset: key_at + 11 + 5,
                    size: 2,
                    codec: AVC,
                },
                Tag::Frame {
                    pts: 0x0100_00A0 - 40,
                    key: false,
                    offset: key_at + 22 + 11 + 5,
                    size: 1,
                    codec: AVC,
                },
            ]
        );
    }

    #[test]
    fn damage_is_passed_over_and_other_codecs_are_named() {
        let key = tag(VIDEO, 0, &[0x17, 1, 0, 0, 0, 9]);
        let later = tag(VIDEO, 2000, &[0x17, 1, 0, 0, 0, 9]);
        // Bytes that are no tag: the next tag is found by the size written after it.
        let f = file(&[key.clone(), vec![0x33; 20], later.clone()]);
        assert_eq!(tags_of(&f).unwrap().len(), 2);
        // A tag cut off by the end of the file ends the walk.
        let whole = file(&[key.clone(), later.clone()]);
        assert_eq!(tags_of(&whole[..whole.len() - 6]).unwrap().len(), 1);
        // An empty tag, and a stream ID that is not 0, do not upset the walk.
        let mut streamed = later.clone();
        streamed[10] = 1;
        let f = file(&[tag(SCRIPT, 0, &[]), key.clone(), streamed]);
        assert_eq!(tags_of(&f).unwrap().len(), 2);
        // Times that wrap at 2^31 (as ffmpeg writes them) or start again run on.
        let wrapped = [
            tag(VIDEO, 0x7FFF_FFD8, &[0x17, 1, 0, 0, 0, 9]),
            tag(VIDEO, 0x0000_0000, &[0x27, 1, 0, 0, 0, 9]),
        ];
        let times: Vec<i64> = tags_of(&file(&wrapped))
            .unwrap()
            .iter()
            .map(|t| match t {
                Tag::Frame { pts, .. } => *pts,
                Tag::Header { .. } => -1,
            })
            .collect();
        assert_eq!(times, [0x7FFF_FFD8, 0x7FFF_FFD8 + 40]);
        // VP6 and an enhanced-FLV coding are named; H.264 beside them is read.
        let vp6 = tag(VIDEO, 0, &[0x14, 0, 0]);
        let e = tags_of(&file(std::slice::from_ref(&vp6))).unwrap_err();
        assert!(e.to_string().contains("On2 VP6 is not supported"), "{e}");
        let hevc = tag(VIDEO, 0, &[0x90, b'h', b'v', b'c', b'1']);
        let e = tags_of(&file(&[hevc])).unwrap_err();
        assert!(e.to_string().contains("hvc1 (enhanced FLV)"), "{e}");
        assert_eq!(tags_of(&file(&[vp6, key.clone()])).unwrap().len(), 1);
        // Encrypted video (the filter bit) is named.
        let mut sealed = key.clone();
        sealed[0] |= 0x20;
        let e = tags_of(&file(&[sealed])).unwrap_err();
        assert!(e.to_string().contains("encrypted FLV video"), "{e}");
        // A header that is not one.
        let e = tags_of(&b"FLV\x01\x01\0\0\0\x05\0\0\0\0"[..]).unwrap_err();
        assert!(e.to_string().contains("less than its 9"), "{e}");
    }
}
