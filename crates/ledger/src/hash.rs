//! RFC 6962 hashing: SHA-256 with domain separation between leaves and nodes.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// A node of the Merkle tree (a leaf hash, an interior hash or a root).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// `SHA-256(0x00 || entry)`: the hash of a leaf.
    pub fn leaf(entry: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update([0x00]);
        h.update(entry);
        Self(h.finalize().into())
    }

    /// `SHA-256(0x01 || left || right)`: the hash of an interior node.
    pub fn node(left: &Hash, right: &Hash) -> Self {
        let mut h = Sha256::new();
        h.update([0x01]);
        h.update(left.0);
        h.update(right.0);
        Self(h.finalize().into())
    }

    /// The root of the empty tree, `SHA-256("")`.
    pub fn empty() -> Self {
        Self(Sha256::digest([]).into())
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    pub fn from_base64(s: &str) -> Option<Self> {
        let bytes = STANDARD.decode(s).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}
