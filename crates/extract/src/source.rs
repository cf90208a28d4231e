//! Bounded random access to the input: every read is checked against the file's
//! length and against a total budget, so a hostile length field can neither make us
//! allocate without bound nor read a whole large file.

use std::io::{self, Read, Seek, SeekFrom};

/// Most bytes one extraction reads in total (headers, metadata segments, index boxes).
pub const READ_BUDGET: u64 = 64 * 1024 * 1024;

/// Largest single metadata segment we accept (EXIF blob, `moov` box, TIFF file).
pub const MAX_SEGMENT: u64 = 32 * 1024 * 1024;

/// Largest XMP packet we read.
pub const MAX_XMP: u64 = 4 * 1024 * 1024;

/// Why a read was refused or failed.
#[derive(Debug)]
pub enum ReadError {
    /// The range lies (partly) beyond the end of the file.
    PastEnd {
        offset: u64,
        len: u64,
        size: u64,
    },
    /// The request is larger than the limit for this kind of data.
    TooLarge {
        len: u64,
        limit: u64,
    },
    /// The total read budget for this file is spent.
    Budget,
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::PastEnd { offset, len, size } => write!(
                f,
                "{len} bytes at offset {offset} lie beyond the end of the {size}-byte file (truncated or corrupt)"
            ),
            ReadError::TooLarge { len, limit } => {
                write!(f, "a {len}-byte segment exceeds the {limit}-byte limit")
            }
            ReadError::Budget => write!(f, "read budget of {READ_BUDGET} bytes spent"),
            ReadError::Io(e) => write!(f, "read error: {e}"),
        }
    }
}

/// The input, with its length and a running budget.
pub struct Input<'a, R> {
    inner: &'a mut R,
    size: u64,
    spent: u64,
}

impl<'a, R: Read + Seek> Input<'a, R> {
    pub fn new(inner: &'a mut R, size: u64) -> Self {
        Input {
            inner,
            size,
            spent: 0,
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads exactly `len` bytes at `offset`, refusing ranges past the end, above
    /// `limit`, or beyond the budget.
    pub fn read_at(&mut self, offset: u64, len: u64, limit: u64) -> Result<Vec<u8>, ReadError> {
        if len > limit {
            return Err(ReadError::TooLarge { len, limit });
        }
        match offset.checked_add(len) {
            Some(end) if end <= self.size => {}
            _ => {
                return Err(ReadError::PastEnd {
                    offset,
                    len,
                    size: self.size,
                });
            }
        }
        if self.spent.saturating_add(len) > READ_BUDGET {
            return Err(ReadError::Budget);
        }
        self.spent += len;
        self.inner
            .seek(SeekFrom::Start(offset))
            .map_err(ReadError::Io)?;
        let mut buf = vec![0u8; len as usize];
        // The caller's length may be larger than the real stream: read what is there.
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => {
                    return Err(ReadError::PastEnd {
                        offset,
                        len,
                        size: offset + filled as u64,
                    });
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
        Ok(buf)
    }

    /// Reads up to `len` bytes at `offset`, stopping at the end of the file.
    pub fn read_up_to(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, ReadError> {
        let avail = self.size.saturating_sub(offset);
        self.read_at(offset, len.min(avail), len)
    }

    /// Gives the underlying reader, positioned at the start, to a validator that needs
    /// to stream the whole file (C2PA hashes every byte).
    #[cfg_attr(not(feature = "c2pa"), allow(dead_code))]
    pub fn rewound(&mut self) -> io::Result<&mut R> {
        self.inner.seek(SeekFrom::Start(0))?;
        Ok(self.inner)
    }
}

/// Big-endian and little-endian readers over a byte slice that never panic.
pub mod bytes {
    pub fn be_u16(b: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
    }
    pub fn be_u32(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }
    pub fn be_u64(b: &[u8], at: usize) -> Option<u64> {
        Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
    }
    pub fn le_u16(b: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
    }
    pub fn le_u32(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }
    /// `n` bytes from `at`, or `None` past the end.
    pub fn slice(b: &[u8], at: usize, n: usize) -> Option<&[u8]> {
        b.get(at..at.checked_add(n)?)
    }
}
