//! Media type from the first bytes, for callers that pass `application/octet-stream`
//! and to catch a caller's type that does not match the content.

/// The media type the leading bytes indicate, if one this crate reads.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        return Some("image/tiff");
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    if head.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        let brand = &head[8..12];
        return Some(match brand {
            b"heic" | b"heix" | b"mif1" | b"msf1" | b"heim" | b"heis" | b"hevc" => "image/heif",
            // A still AVIF, or an animated one (an AV1 image sequence, `avis`).
            b"avif" | b"avis" => "image/avif",
            b"qt  " => "video/quicktime",
            // 3GPP and 3GPP2: phones' video (3GP), whatever codec it holds.
            [
                b'3',
                b'g',
                b'p' | b'e' | b'g' | b's' | b'r' | b'h' | b'm' | b't',
                _,
            ] => "video/3gpp",
            [b'3', b'g', b'2', _] => "video/3gpp2",
            // Audio in MP4 (iTunes audio, audiobooks, phones' voice memos).
            b"M4A " | b"M4B " | b"M4P " => "audio/mp4",
            _ => "video/mp4",
        });
    }
    // Matroska and WebM start with an EBML header naming the document type.
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        // The document type is within the header's first few dozen bytes; further on,
        // "webm" could be any text of a Matroska file.
        let webm = head[..head.len().min(64)].windows(4).any(|w| w == b"webm");
        // Sound alone is audio, when the track list is within the bytes given.
        let audio = crate::matroska::audio_only(head);
        return Some(match (webm, audio) {
            (true, false) => "video/webm",
            (true, true) => "audio/webm",
            (false, false) => "video/x-matroska",
            (false, true) => "audio/x-matroska",
        });
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"AVI " {
        return Some("video/x-msvideo");
    }
    if head.starts_with(b"FLV\x01") {
        return Some("video/x-flv");
    }
    if is_transport_stream(head) {
        return Some("video/mp2t");
    }
    if is_program_stream(head) {
        return Some("video/mpeg");
    }
    // QuickTime files without ftyp start with moov/mdat/wide/free boxes.
    if head.len() >= 8 && matches!(&head[4..8], b"moov" | b"mdat" | b"wide" | b"free" | b"skip") {
        return Some("video/quicktime");
    }
    None
}

/// An MPEG transport stream (`.ts`; `.m2ts` with a 4-byte time code before each
/// packet): a sync byte at the start of every 188-byte packet in `head`, three at least
/// from its first byte, or five from a later one within 4 KiB (a recording cut off
/// mid-packet, a download with bytes before the stream).
fn is_transport_stream(head: &[u8]) -> bool {
    [(188usize, 0usize), (192, 4)]
        .into_iter()
        .any(|(size, skip)| {
            (0..head.len().min(4096)).any(|first| {
                let packets = head.len().saturating_sub(first + skip) / size;
                let enough = if first == 0 { 3 } else { 5 };
                packets >= enough && (0..packets).all(|i| head[first + skip + i * size] == 0x47)
            })
        })
}

/// An MPEG program stream (`.mpg`, `.vob`, and what CCTV recorders export, often
/// after a vendor's header): a pack header whose marker bits hold, followed by another
/// start code, from its first byte or within 4 KiB.
fn is_program_stream(head: &[u8]) -> bool {
    (0..head.len().min(4096)).any(|at| {
        let b = &head[at..];
        if b.len() < 16 || b[..4] != [0, 0, 1, 0xBA] {
            return false;
        }
        let len = if b[4] & 0xC4 == 0x44 {
            // MPEG-2: markers in the clock reference and after the mux rate.
            let ok = b[6] & 0x04 != 0 && b[8] & 0x04 != 0 && b[9] & 1 != 0 && b[12] & 3 == 3;
            if !ok {
                return false;
            }
            14 + usize::from(b[13] & 7)
        } else if b[4] & 0xF1 == 0x21 && b[6] & 1 != 0 && b[8] & 1 != 0 && b[11] & 1 != 0 {
            12
        } else {
            return false;
        };
        b.get(len..len + 4)
            .is_some_and(|n| n[..3] == [0, 0, 1] && n[3] >= 0xB9)
    })
}

/// Which reader handles a media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Jpeg,
    Png,
    Tiff,
    Webp,
    Bmff,
    Matroska,
    Avi,
    Pdf,
    Other,
}

pub fn family(media_type: &str) -> Family {
    let base = media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match base.as_str() {
        "image/jpeg" | "image/jpg" | "image/pjpeg" => Family::Jpeg,
        "image/png" | "image/apng" => Family::Png,
        "image/tiff" | "image/tiff-fx" | "image/x-adobe-dng" | "image/dng" => Family::Tiff,
        "image/webp" => Family::Webp,
        "image/heif"
        | "image/heic"
        | "image/heif-sequence"
        | "image/heic-sequence"
        | "image/avif"
        | "video/mp4"
        | "video/quicktime"
        | "audio/mp4"
        | "video/3gpp"
        | "video/3gpp2"
        | "video/x-m4v"
        | "audio/x-m4a" => Family::Bmff,
        "application/pdf" => Family::Pdf,
        "video/x-msvideo" | "video/avi" | "video/msvideo" => Family::Avi,
        "video/webm" | "video/x-matroska" | "video/matroska" | "audio/webm"
        | "audio/x-matroska" => Family::Matroska,
        _ => Family::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use custody_testkit::media::ebml;

    #[test]
    fn containers_are_told_apart_by_their_first_bytes() {
        let ftyp = |brand: &[u8; 4]| [&[0, 0, 0, 24][..], b"ftyp", brand, &[0; 4]].concat();
        assert_eq!(sniff(&ftyp(b"isom")), Some("video/mp4"));
        assert_eq!(sniff(&ftyp(b"qt  ")), Some("video/quicktime"));
        assert_eq!(sniff(&ftyp(b"3gp4")), Some("video/3gpp"));
        assert_eq!(sniff(&ftyp(b"3gp6")), Some("video/3gpp"));
        assert_eq!(sniff(&ftyp(b"3g2a")), Some("video/3gpp2"));
        assert_eq!(sniff(&ftyp(b"M4A ")), Some("audio/mp4"));
        assert_eq!(sniff(&ftyp(b"heic")), Some("image/heif"));
        assert_eq!(sniff(&ftyp(b"avif")), Some("image/avif"));
        // An animated AVIF is a picture file, whatever tracks it holds.
        assert_eq!(sniff(&ftyp(b"avis")), Some("image/avif"));
        let header =
            |doc: &[u8]| [&[0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x82, 0x84][..], doc].concat();
        assert_eq!(sniff(&header(b"webm")), Some("video/webm"));
        assert_eq!(sniff(&header(b"matroska")), Some("video/x-matroska"));
        // "webm" far into a Matroska file (a title, a frame) does not make it WebM.
        let mut mkv = header(b"matroska");
        mkv.extend([0u8; 100]);
        mkv.extend(b"webm");
        assert_eq!(sniff(&mkv), Some("video/x-matroska"));
        // The track list within the bytes given says whether it is sound alone.
        let track = |kind: u8| ebml(0xAE, &ebml(0x83, &[kind]));
        let file = |tracks: &[Vec<u8>]| {
            let mut f = ebml(0x1A45_DFA3, &ebml(0x4282, b"webm"));
            let list = ebml(0x1654_AE6B, &tracks.concat());
            let body = [ebml(0xEC, &[0; 20]), list, ebml(0x1F43_B675, &[])].concat();
            f.extend(ebml(0x1853_8067, &body));
            f
        };
        assert_eq!(sniff(&file(&[track(2)])), Some("audio/webm"));
        assert_eq!(sniff(&file(&[track(2), track(1)])), Some("video/webm"));
        assert_eq!(sniff(&file(&[track(17)])), Some("video/webm"));
        // A track list cut off by the end of the bytes given says nothing.
        let whole = file(&[track(2)]);
        // (the empty cluster after it is 12 bytes).
        assert_eq!(sniff(&whole[..whole.len() - 14]), Some("video/webm"));
        let mut ts = vec![0u8; 8 * 188];
        ts.iter_mut().step_by(188).for_each(|b| *b = 0x47);
        assert_eq!(sniff(&ts), Some("video/mp2t"));
        let mut m2ts = vec![0u8; 4 + 8 * 192];
        m2ts[4..].iter_mut().step_by(192).for_each(|b| *b = 0x47);
        assert_eq!(sniff(&m2ts), Some("video/mp2t"));
        // Every packet in the bytes given starts with the sync byte.
        // Cut off mid-packet, or after other bytes.
        assert_eq!(sniff(&ts[100..]), Some("video/mp2t"));
        assert_eq!(
            sniff(&[vec![1u8; 1000], ts.clone()].concat()),
            Some("video/mp2t")
        );
        ts[5 * 188] = b'G' + 1;
        assert_eq!(sniff(&ts), None);
        assert_eq!(sniff(&ts[..2 * 188]), None);
        assert_eq!(sniff(b"FLV\x01\x05\0\0\0\x09"), Some("video/x-flv"));
        // A program stream, from its first byte or after a recorder's header.
        let pack = [
            0, 0, 1, 0xBA, 0x44, 0, 4, 0, 4, 1, 0, 0, 3, 0xF8, 0, 0, 1, 0xBB,
        ];
        assert_eq!(sniff(&pack), Some("video/mpeg"));
        let recorder = [&b"IMKH"[..], &[1; 36], &pack].concat();
        assert_eq!(sniff(&recorder), Some("video/mpeg"));
        let mut broken = pack;
        broken[12] = 0;
        assert_eq!(sniff(&broken), None);
        assert_eq!(sniff(b"RIFF\0\0\0\0AVI LIST"), Some("video/x-msvideo"));
        assert_eq!(family("audio/mp4"), Family::Bmff);
        assert_eq!(family("video/webm"), Family::Matroska);
    }
}
