//! Test media made by ffmpeg (videos in every container and codec the readers take), so
//! that tests check against the reference tool's own files. Tests skip, saying so,
//! where ffmpeg is not installed.

use std::path::Path;
use std::process::Command;

/// Whether ffmpeg can be run; says that the test skips when it cannot.
pub fn have_ffmpeg() -> bool {
    let ok = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: ffmpeg is not installed (it makes the test videos)");
    }
    ok
}

/// Runs ffmpeg quietly with `args` (in `dir`, if given), overwriting its outputs; a
/// failure fails the test with ffmpeg's message.
pub fn ffmpeg(dir: Option<&Path>, args: &[&str]) {
    let mut cmd = Command::new("ffmpeg");
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = cmd
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Matroska (EBML) element with an 8-byte size: its ID as written (1 to 4 bytes,
/// length marker included) and its data. For building Matroska and WebM files in tests.
pub fn ebml(id: u32, data: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = id
        .to_be_bytes()
        .into_iter()
        .skip_while(|&b| b == 0)
        .collect();
    v.push(0x01);
    v.extend_from_slice(&(data.len() as u64).to_be_bytes()[1..]);
    v.extend_from_slice(data);
    v
}

/// A RIFF chunk (AVI, WAV): its ID, its data's size (32 bits, little-endian), its data,
/// and a padding byte after odd-sized data when `padded` (as the format asks; some
/// writers leave it out). For building AVI files in tests.
pub fn riff_chunk(id: &[u8; 4], data: &[u8], padded: bool) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend((data.len() as u32).to_le_bytes());
    c.extend(data);
    if padded && data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// An MPEG program stream laid out as CCTV recorders and DVRs export theirs, from an
/// MPEG transport stream (as ffmpeg writes one, a PES packet per frame): `header` (a
/// vendor's header, or nothing) first, then for each video frame a pack header and its
/// PES packets on stream 0xE0, the first with the frame's own times, split at 60,000
/// bytes; a stream map names the video as `stream_type` in the first pack. Audio is
/// left out.
pub fn program_stream_from_ts(ts: &[u8], header: &[u8], stream_type: u8) -> Vec<u8> {
    // The video's PES packets, joined from its transport packets.
    let mut pes: Vec<Vec<u8>> = Vec::new();
    let mut video_pid = None;
    for p in ts.chunks_exact(188) {
        let pid = u16::from_be_bytes([p[1] & 0x1F, p[2]]);
        let start = p[1] & 0x40 != 0;
        let control = (p[3] >> 4) & 3;
        if control & 1 == 0 {
            continue;
        }
        let at = if control & 2 != 0 {
            5 + usize::from(p[4])
        } else {
            4
        };
        let payload = &p[at.min(188)..];
        if start && payload.starts_with(&[0, 0, 1, 0xE0]) && video_pid.is_none() {
            video_pid = Some(pid);
        }
        if Some(pid) != video_pid {
            continue;
        }
        if start {
            pes.push(payload.to_vec());
        } else if let Some(last) = pes.last_mut() {
            last.extend_from_slice(payload);
        }
    }
    let pack = [0, 0, 1, 0xBA, 0x44, 0, 4, 0, 4, 1, 0x01, 0x89, 0xC3, 0xF8];
    let mut map = vec![
        0,
        0,
        1,
        0xBC,
        0,
        0,
        0xE0,
        0xFF,
        0,
        0,
        0,
        4,
        stream_type,
        0xE0,
        0,
        0,
    ];
    let n = (map.len() - 6 + 4) as u16;
    map[4..6].copy_from_slice(&n.to_be_bytes());
    map.extend(mpeg_crc32(&map).to_be_bytes());
    let mut out = header.to_vec();
    for (i, p) in pes.iter().enumerate() {
        out.extend(pack);
        if i == 0 {
            out.extend(&map);
        }
        let header_len = 9 + usize::from(p[8]);
        let (times, data) = (&p[6..header_len], &p[header_len..]);
        for (k, chunk) in data.chunks(60_000).enumerate() {
            let head: &[u8] = if k == 0 { times } else { &[0x80, 0, 0] };
            let len = (head.len() + chunk.len()) as u16;
            out.extend([0, 0, 1, 0xE0]);
            out.extend(len.to_be_bytes());
            out.extend(head);
            out.extend(chunk);
        }
    }
    out.extend([0, 0, 1, 0xB9]);
    out
}

/// The CRC-32 of MPEG-2 tables and program stream maps (polynomial 0x04C11DB7, most
/// significant bit first, no reflection or final inversion).
pub fn mpeg_crc32(d: &[u8]) -> u32 {
    d.iter().fold(0xFFFF_FFFF, |mut crc, &b| {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
        crc
    })
}
