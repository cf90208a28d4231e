//! Verify-on-read: a reader wrapper that fails rather than return bytes that do not
//! hash to the digest they were asked for.

use std::io::{self, Read};

use custody_model::{Digest, Sha256};

/// Hashes everything read through it. At end of input it compares the digest and
/// returns an `InvalidData` error on mismatch, so a caller that reads to the end can
/// never silently accept damaged bytes.
pub struct VerifyingReader<R> {
    inner: R,
    expected: Digest,
    hasher: Option<Sha256>,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, expected: Digest) -> Self {
        Self {
            inner,
            expected,
            hasher: Some(Sha256::new()),
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            if let Some(h) = self.hasher.as_mut() {
                h.update(&buf[..n]);
            }
            return Ok(n);
        }
        if !buf.is_empty()
            && let Some(h) = self.hasher.take()
        {
            let actual = h.finish();
            if actual != self.expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "blob {} is damaged: its bytes hash to {actual}",
                        self.expected
                    ),
                ));
            }
        }
        Ok(0)
    }
}

/// Reads to the end, returning the SHA-256 and the number of bytes.
pub fn hash_reader(r: &mut dyn Read, progress: &dyn Fn(u64)) -> io::Result<(Digest, u64)> {
    hash_reader_with(r, &mut vec![0u8; 1 << 20], progress)
}

/// [`hash_reader`] reading through the caller's buffer, for callers that hash many
/// blobs in turn.
pub fn hash_reader_with(
    r: &mut dyn Read,
    buf: &mut [u8],
    progress: &dyn Fn(u64),
) -> io::Result<(Digest, u64)> {
    let mut h = Sha256::new();
    let mut total = 0u64;
    loop {
        let n = match r.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        total += n as u64;
        progress(n as u64);
    }
    Ok((h.finish(), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_good_bytes_and_fails_bad_ones_at_the_end() {
        let data = b"evidence".to_vec();
        let mut out = Vec::new();
        VerifyingReader::new(&data[..], Digest::of(&data))
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        let err = VerifyingReader::new(&b"evidencE"[..], Digest::of(&data))
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("damaged"));
    }
}
