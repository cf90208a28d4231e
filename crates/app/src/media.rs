//! Media types from content, never from the file name.

/// Sniffs the media type from the first bytes of a file.
pub fn sniff(header: &[u8], total_size: u64) -> String {
    if total_size == 0 {
        return "application/x-empty".into();
    }
    // The extractor knows the evidence formats (HEIF, QuickTime, TIFF variants) best.
    if let Some(kind) = custody_extract::sniff(header) {
        return kind.to_owned();
    }
    if let Some(kind) = infer::get(header) {
        return kind.mime_type().to_owned();
    }
    if looks_like_text(header) {
        return "text/plain".into();
    }
    "application/octet-stream".into()
}

fn looks_like_text(header: &[u8]) -> bool {
    if header.contains(&0) {
        return false;
    }
    match std::str::from_utf8(header) {
        Ok(_) => true,
        // A multi-byte character cut off by the header's end is still text.
        Err(e) => e.error_len().is_none() && header.len() - e.valid_up_to() < 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_not_the_name() {
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", 100),
            "image/jpeg"
        );
        assert_eq!(sniff(b"%PDF-1.7\n", 100), "application/pdf");
        assert_eq!(sniff("Свідчення, 2 квітня".as_bytes(), 100), "text/plain");
        assert_eq!(sniff(b"\x00\x01\x02\x03", 100), "application/octet-stream");
        assert_eq!(sniff(b"", 0), "application/x-empty");
    }
}
