//! Payload writes that bypass the page cache (`O_DIRECT`) where the file system allows.
//!
//! An export copies every byte of a case once. Through the page cache, this class of
//! machine writes back at a few hundred MB/s; written directly, several times faster, and
//! the copy does not push the vault's working set out of memory. Direct I/O needs
//! page-aligned buffers and whole pages: bytes are gathered in an aligned buffer, the
//! last page is padded with zeros and the file cut back to its true length. Where
//! `O_DIRECT` is refused (tmpfs, some network file systems), writes are ordinary.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use bytemuck::{Pod, Zeroable};

const PAGE: usize = 4096;
/// Bytes gathered before each direct write.
const BLOCK: usize = 4 << 20;

#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(4096))]
struct Page([u8; PAGE]);

pub(crate) struct DirectWriter {
    file: File,
    direct: bool,
    buf: Vec<Page>,
    len: usize,
    offset: u64,
}

impl DirectWriter {
    /// Creates `path` (which must not exist), directly written when possible.
    pub(crate) fn create_new(path: &Path) -> io::Result<Self> {
        let disabled = std::env::var_os("CUSTODY_NO_DIRECT_IO").is_some();
        if !disabled
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
            buf: vec![Page([0; PAGE]); BLOCK / PAGE],
            len: 0,
            offset: 0,
        }
    }

    fn bytes(&mut self) -> &mut [u8] {
        bytemuck::cast_slice_mut(&mut self.buf)
    }

    fn flush_block(&mut self, len: usize) -> io::Result<()> {
        let offset = self.offset;
        let buf: &[u8] = bytemuck::cast_slice(&self.buf);
        match self.file.write_all_at(&buf[..len], offset) {
            Ok(()) => Ok(()),
            // Some file systems accept the flag at open and refuse it at write time.
            Err(e) if self.direct && e.raw_os_error() == Some(libc::EINVAL) && offset == 0 => {
                self.direct = false;
                self.file.write_all_at(&buf[..len], offset)
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
}
