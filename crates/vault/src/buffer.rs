//! Page-aligned buffers, as direct I/O requires.

use bytemuck::{Pod, Zeroable};

pub const ALIGN: usize = 4096;

#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(4096))]
struct Page([u8; ALIGN]);

/// A zeroed buffer whose start is 4096-byte aligned and whose length is a multiple of 4096.
pub struct AlignedBuf {
    pages: Vec<Page>,
}

impl AlignedBuf {
    pub fn new(bytes: usize) -> Self {
        Self {
            pages: vec![Page([0; ALIGN]); bytes.div_ceil(ALIGN).max(1)],
        }
    }
    pub fn len(&self) -> usize {
        self.pages.len() * ALIGN
    }
    pub fn as_slice(&self) -> &[u8] {
        bytemuck::cast_slice(&self.pages)
    }
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        bytemuck::cast_slice_mut(&mut self.pages)
    }
}
