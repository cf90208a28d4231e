//! Page-aligned, zeroed byte buffers, as direct I/O (`O_DIRECT`) needs: the buffer's
//! start and length must both be multiples of the page size.
//!
//! The buffer is a vector of page-sized, page-aligned blocks seen as bytes, so no
//! `unsafe` is needed to get the alignment.

use bytemuck::{Pod, Zeroable};

/// The alignment and granularity of direct I/O here.
pub const PAGE: usize = 4096;

#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(4096))]
struct Page([u8; PAGE]);

/// A zeroed buffer whose start is page-aligned and whose length is a whole number of
/// pages (at least one).
#[derive(Clone)]
pub struct AlignedBuf(Vec<Page>);

impl AlignedBuf {
    /// A buffer of at least `len` bytes, rounded up to whole pages. Zeroed by the
    /// allocator (fresh pages from the kernel for large buffers), not byte by byte.
    pub fn new(len: usize) -> Self {
        Self(bytemuck::zeroed_vec(len.div_ceil(PAGE).max(1)))
    }

    /// Length in bytes: a multiple of [`PAGE`], never 0.
    pub fn len(&self) -> usize {
        self.0.len() * PAGE
    }

    /// Always false: a buffer holds at least one page.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn bytes(&self) -> &[u8] {
        bytemuck::cast_slice(&self.0)
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        bytemuck::cast_slice_mut(&mut self.0)
    }
}

/// Whether `bytes` starts on a page boundary and is a whole number of pages long, as a
/// direct read or write needs.
pub fn is_aligned(bytes: &[u8]) -> bool {
    (bytes.as_ptr() as usize).is_multiple_of(PAGE) && bytes.len().is_multiple_of(PAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_aligned_whole_pages_and_zeroed() {
        for len in [0, 1, PAGE - 1, PAGE, PAGE + 1, 3 * PAGE, (1 << 20) + 5] {
            let mut b = AlignedBuf::new(len);
            assert!(
                b.len() >= len.max(1) && b.len().is_multiple_of(PAGE),
                "{len}: {}",
                b.len()
            );
            assert!(b.len() < len + PAGE + 1);
            assert!(is_aligned(b.bytes()), "{len}");
            assert!(b.bytes().iter().all(|&x| x == 0));
            let last = b.len() - 1;
            b.bytes_mut()[last] = 7;
            assert_eq!(b.bytes()[last], 7);
            assert!(!b.is_empty());
        }
        let b = AlignedBuf::new(2 * PAGE);
        assert!(!is_aligned(&b.bytes()[1..PAGE + 1]));
        assert!(!is_aligned(&b.bytes()[..PAGE - 1]));
    }
}
