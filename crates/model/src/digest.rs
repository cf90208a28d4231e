//! SHA-256 digests: the identity of every stored byte sequence.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

/// A SHA-256 digest. Displayed and serialised as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

/// Incremental SHA-256, for callers that stream bytes.
#[derive(Clone, Default)]
pub struct Sha256(sha2::Sha256);

impl Sha256 {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    pub fn finish(self) -> Digest {
        Digest(self.0.finalize().into())
    }
}

impl Digest {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
    pub fn of(bytes: &[u8]) -> Self {
        Self(sha2::Sha256::digest(bytes).into())
    }
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// True when `prefix` (lowercase or uppercase hex) starts this digest's hex form.
    pub fn has_hex_prefix(&self, prefix: &str) -> bool {
        let hex = self.to_hex();
        prefix.len() <= hex.len() && hex.starts_with(&prefix.to_ascii_lowercase())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a SHA-256 digest: expected 64 hex digits, got {0:?}")]
pub struct DigestParseError(pub String);

impl FromStr for Digest {
    type Err = DigestParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix("sha256:").unwrap_or(s);
        if s.len() != 64 {
            return Err(DigestParseError(s.to_owned()));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.to_ascii_lowercase(), &mut out)
            .map_err(|_| DigestParseError(s.to_owned()))?;
        Ok(Self(out))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.to_hex())
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_has_the_well_known_digest() {
        assert_eq!(
            Digest::of(b"").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn streaming_equals_one_shot() {
        let mut h = Sha256::new();
        h.update(b"te");
        h.update(b"st");
        assert_eq!(h.finish(), Digest::of(b"test"));
    }

    #[test]
    fn parses_with_and_without_prefix_and_rejects_junk() {
        let d = Digest::of(b"x");
        assert_eq!(d.to_hex().parse::<Digest>().unwrap(), d);
        assert_eq!(format!("sha256:{d}").parse::<Digest>().unwrap(), d);
        assert_eq!(d.to_hex().to_uppercase().parse::<Digest>().unwrap(), d);
        assert!("abc".parse::<Digest>().is_err());
        assert!("g".repeat(64).parse::<Digest>().is_err());
        assert!(d.has_hex_prefix(&d.to_hex()[..6].to_uppercase()));
    }
}
