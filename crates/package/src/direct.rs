//! Payload reads and writes that bypass the page cache (`O_DIRECT`) where the file
//! system allows.
//!
//! An export copies every byte of a case once. Through the page cache, this class of
//! machine writes back at a few hundred MB/s; written directly, several times faster, and
//! the copy does not push the vault's working set out of memory. Direct I/O needs
//! page-aligned buffers and whole pages: bytes are gathered in an aligned buffer, the
//! last page is padded with zeros and the file cut back to its true length. Where
//! `O_DIRECT` is refused (tmpfs, some network file systems), writes are ordinary.
//!
//! Reads of payload files (copied out of a vault, or checked in a bag) are direct too:
//! each byte is read once, so caching it only costs a copy per byte in the kernel, and a
//! check then reads what is on the medium rather than what a cache remembers.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use custody_aligned::{AlignedBuf, PAGE, is_aligned};

/// Bytes gathered before each direct write.
const BLOCK: usize = 4 << 20;

/// Whether direct I/O was turned off for this process (`CUSTODY_NO_DIRECT_IO` set).
fn disabled() -> bool {
    std::env::var_os("CUSTODY_NO_DIRECT_IO").is_some()
}

/// Reads a file directly when it is given page-aligned buffers of whole pages, and
/// through the page cache otherwise (or once the file system refuses direct reads).
pub(crate) struct DirectReader {
    file: File,
    direct: bool,
}

impl DirectReader {
    /// Wraps an open file, switching it to direct reads where the file system allows.
    pub(crate) fn new(file: File) -> Self {
        let direct = !disabled()
            && rustix::fs::fcntl_getfl(&file)
                .and_then(|flags| {
                    rustix::fs::fcntl_setfl(&file, flags | rustix::fs::OFlags::DIRECT)
                })
                .is_ok();
        Self { file, direct }
    }

    fn buffered(&mut self) -> io::Result<()> {
        self.direct = false;
        let flags = rustix::fs::fcntl_getfl(&self.file)?;
        rustix::fs::fcntl_setfl(&self.file, flags - rustix::fs::OFlags::DIRECT)?;
        Ok(())
    }
}

impl io::Read for DirectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.direct && !is_aligned(buf) {
            self.buffered()?;
        }
        match self.file.read(buf) {
            // Refused at read time, or the file position is no longer aligned after a
            // short read: go on through the page cache.
            Err(e) if self.direct && e.raw_os_error() == Some(libc::EINVAL) => {
                self.buffered()?;
                self.file.read(buf)
            }
            r => r,
        }
    }
}

pub(crate) struct DirectWriter {
    file: File,
    direct: bool,
    buf: AlignedBuf,
    len: usize,
    offset: u64,
}

impl DirectWriter {
    /// Creates `path` (which must not exist), directly written when possible.
    pub(crate) fn create_new(path: &Path) -> io::Result<Self> {
        if !disabled()
            && let Ok(file) = OpenOptions::new()
                .write(true)
                .create_new(true)
                .custom_flags(libc::O_DIRECT)
                .open(path)
        {
            return Ok(Self::new(file, true));
        }
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        Ok(Self::new(file, false))
    }

    fn new(file: File, direct: bool) -> Self {
        Self {
            file,
            direct,
            buf: AlignedBuf::new(BLOCK),
            len: 0,
            offset: 0,
        }
    }

    fn bytes(&mut self) -> &mut [u8] {
        self.buf.bytes_mut()
    }

    /// Goes on through the page cache: the file system refused a direct write.
    fn buffered(&mut self) -> io::Result<()> {
        self.direct = false;
        let flags = rustix::fs::fcntl_getfl(&self.file)?;
        rustix::fs::fcntl_setfl(&self.file, flags - rustix::fs::OFlags::DIRECT)
            .map_err(io::Error::from)
    }

    fn flush_block(&mut self, len: usize) -> io::Result<()> {
        let offset = self.offset;
        match self.file.write_all_at(&self.buf.bytes()[..len], offset) {
            Ok(()) => Ok(()),
            // Some file systems accept the flag at open and refuse it at write time.
            Err(e) if self.direct && e.raw_os_error() == Some(libc::EINVAL) && offset == 0 => {
                self.buffered()?;
                self.file.write_all_at(&self.buf.bytes()[..len], offset)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes what remains, cuts off the padding, and returns the file.
    pub(crate) fn finish(mut self) -> io::Result<File> {
        if self.len > 0 {
            let len = self.len;
            let padded = if self.direct {
                len.div_ceil(PAGE) * PAGE
            } else {
                len
            };
            self.bytes()[len..padded].fill(0);
            self.flush_block(padded)?;
            self.offset += len as u64;
            if padded != len {
                self.file.set_len(self.offset)?;
            }
        }
        Ok(self.file)
    }
}

impl Write for DirectWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        // Whole aligned pages with nothing gathered before them go out as they are.
        if self.direct && self.len == 0 && is_aligned(data) && !data.is_empty() {
            match self.file.write_all_at(data, self.offset) {
                Ok(()) => {
                    self.offset += data.len() as u64;
                    return Ok(data.len());
                }
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) && self.offset == 0 => {
                    self.buffered()?;
                }
                Err(e) => return Err(e),
            }
        }
        let n = data.len().min(BLOCK - self.len);
        let at = self.len;
        self.bytes()[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        if self.len == BLOCK {
            self.flush_block(BLOCK)?;
            self.offset += BLOCK as u64;
            self.len = 0;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_length_round_trips_in_any_write_sizes() {
        let dir = tempfile::tempdir().unwrap();
        for (i, len) in [
            0usize,
            1,
            4095,
            4096,
            4097,
            BLOCK - 1,
            BLOCK,
            BLOCK + 1,
            3 * BLOCK + 12345,
        ]
        .into_iter()
        .enumerate()
        {
            let data: Vec<u8> = (0..len).map(|j| (j * 31 + i) as u8).collect();
            let path = dir.path().join(format!("f{i}"));
            let mut w = DirectWriter::create_new(&path).unwrap();
            for chunk in data.chunks(1000 + i * 777) {
                w.write_all(chunk).unwrap();
            }
            w.finish().unwrap().sync_all().unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), data, "length {len}");
        }
        assert!(
            DirectWriter::create_new(&dir.path().join("f0")).is_err(),
            "never replaces a file"
        );
    }

    #[test]
    fn aligned_writes_go_straight_out_and_mix_with_gathered_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut expected = Vec::new();
        let path = dir.path().join("mixed");
        let mut w = DirectWriter::create_new(&path).unwrap();
        let mut chunk = AlignedBuf::new(2 * PAGE);
        for (i, len) in [2 * PAGE, PAGE, 100, 2 * PAGE, 17].into_iter().enumerate() {
            chunk.bytes_mut().fill(i as u8 + 1);
            w.write_all(&chunk.bytes()[..len]).unwrap();
            expected.extend_from_slice(&chunk.bytes()[..len]);
        }
        w.finish().unwrap().sync_all().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), expected);
    }

    fn read_all(r: &mut DirectReader, buf: &mut [u8]) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let n = io::Read::read(r, buf).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn direct_reads_give_the_file_whatever_its_length_and_the_buffer() {
        let dir = tempfile::tempdir().unwrap();
        for (i, len) in [0usize, 1, 4095, 4096, 3 * BLOCK + 12345]
            .into_iter()
            .enumerate()
        {
            let data: Vec<u8> = (0..len).map(|j| (j * 13 + i) as u8).collect();
            let path = dir.path().join(format!("r{i}"));
            std::fs::write(&path, &data).unwrap();

            let mut aligned_buf = AlignedBuf::new(BLOCK);
            let mut r = DirectReader::new(File::open(&path).unwrap());
            assert_eq!(read_all(&mut r, aligned_buf.bytes_mut()), data, "{len}");

            // A buffer that is not page-aligned switches the reader to the page cache.
            let mut r = DirectReader::new(File::open(&path).unwrap());
            let mut odd = vec![0u8; 5000];
            assert_eq!(read_all(&mut r, &mut odd[1..]), data, "{len}, odd buffer");
            assert!(!r.direct);
        }
    }
}
