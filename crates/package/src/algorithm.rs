//! Checksum algorithms a manifest may name, and hashing several of them in one pass.
//!
//! The writer always produces SHA-256 and SHA-512 manifests (RFC 8493 §2.4 says tools
//! MUST support both). The validator also checks SHA-224, SHA-384, SHA-1 and MD5
//! manifests, because bags from older tools carry them; whether a bag that has *only*
//! MD5 or SHA-1 manifests is acceptable is a policy choice ([`crate::ValidateOptions`]).
//!
//! SHA-512 of files hashed through [`MultiHasher`] goes to the `custody_sha512x4` engines
//! where the CPU has AVX-512 or AVX2 and the file reaches 1 MiB: four files are compressed
//! at once, one per vector lane. Elsewhere SHA-512 is one stream at a time: with the `openssl`
//! feature from the system's libcrypto, whose x86-64 assembly is about 1.4 times faster
//! than the sha2 crate's AVX2 code. SHA-256 stays with sha2, which already uses the SHA-NI
//! instructions and matches libcrypto.

use std::fmt;

use md5::Md5;
use sha1::Sha1;
use sha2::Digest as _;
#[cfg(not(feature = "openssl"))]
use sha2::Sha512;
use sha2::{Sha224, Sha256, Sha384};

use custody_sha512x4::Sha512Stream;

/// A manifest algorithm, named as in `manifest-<name>.txt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::Sha224,
        Algorithm::Sha256,
        Algorithm::Sha384,
        Algorithm::Sha512,
    ];

    /// The name used in manifest file names (`sha256`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha224 => "sha224",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// The name people read (`SHA-256`).
    pub fn label(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha1 => "SHA-1",
            Algorithm::Sha224 => "SHA-224",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha384 => "SHA-384",
            Algorithm::Sha512 => "SHA-512",
        }
    }

    /// Parses a manifest file-name algorithm. Only the lowercase names are accepted.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Length of the digest in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Algorithm::Md5 => 16,
            Algorithm::Sha1 => 20,
            Algorithm::Sha224 => 28,
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }

    /// MD5 and SHA-1 are broken for collisions: a bag protected only by them proves little.
    pub fn is_strong(self) -> bool {
        !matches!(self, Algorithm::Md5 | Algorithm::Sha1)
    }

    /// `manifest-<name>.txt`
    pub fn manifest_name(self) -> String {
        format!("manifest-{}.txt", self.name())
    }

    /// `tagmanifest-<name>.txt`
    pub fn tagmanifest_name(self) -> String {
        format!("tagmanifest-{}.txt", self.name())
    }

    /// The digest of `bytes`.
    pub fn digest(self, bytes: &[u8]) -> Vec<u8> {
        let mut h = Hasher::new(self);
        h.update(bytes);
        h.finish()
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One running digest.
pub(crate) enum Hasher {
    Md5(Md5),
    Sha1(Sha1),
    Sha224(Sha224),
    Sha256(Sha256),
    Sha384(Sha384),
    #[cfg(not(feature = "openssl"))]
    Sha512(Sha512),
    #[cfg(feature = "openssl")]
    Sha512(openssl::sha::Sha512),
    /// SHA-512 on the lane engines, four files at a time (`custody_sha512x4`).
    Sha512Lanes(Sha512Stream),
}

impl Hasher {
    pub(crate) fn new(a: Algorithm) -> Self {
        match a {
            Algorithm::Md5 => Hasher::Md5(Md5::new()),
            Algorithm::Sha1 => Hasher::Sha1(Sha1::new()),
            Algorithm::Sha224 => Hasher::Sha224(Sha224::new()),
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha384 => Hasher::Sha384(Sha384::new()),
            #[cfg(not(feature = "openssl"))]
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
            #[cfg(feature = "openssl")]
            Algorithm::Sha512 => Hasher::Sha512(openssl::sha::Sha512::new()),
        }
    }

    /// Like [`Hasher::new`], for a file among many: SHA-512 goes to the lane engines
    /// where this CPU has them (once the file passes 1 MiB).
    pub(crate) fn for_file(a: Algorithm) -> Self {
        if a == Algorithm::Sha512
            && let Some(stream) = Sha512Stream::open()
        {
            return Hasher::Sha512Lanes(stream);
        }
        Self::new(a)
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(bytes),
            Hasher::Sha1(h) => h.update(bytes),
            Hasher::Sha224(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha384(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
            Hasher::Sha512Lanes(h) => h.update(bytes),
        }
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha224(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            #[cfg(not(feature = "openssl"))]
            Hasher::Sha512(h) => h.finalize().to_vec(),
            #[cfg(feature = "openssl")]
            Hasher::Sha512(h) => h.finish().to_vec(),
            Hasher::Sha512Lanes(h) => h.finish().to_vec(),
        }
    }
}

/// Bytes fed to each digest at a time: small enough that the slice is still in the
/// core's cache when the second digest reads it.
const SLICE: usize = 256 << 10;

/// Several digests over the same bytes, updated together so that a file is read once.
pub(crate) struct MultiHasher {
    hashers: Vec<(Algorithm, Hasher)>,
}

impl MultiHasher {
    pub(crate) fn new(algorithms: &[Algorithm]) -> Self {
        Self {
            hashers: algorithms
                .iter()
                .map(|&a| (a, Hasher::for_file(a)))
                .collect(),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        for slice in bytes.chunks(SLICE) {
            for (_, h) in &mut self.hashers {
                h.update(slice);
            }
        }
    }

    /// The running digests, to be fed on separate threads; give them back with
    /// [`MultiHasher::put_parts`].
    pub(crate) fn take_parts(&mut self) -> Vec<(Algorithm, Hasher)> {
        std::mem::take(&mut self.hashers)
    }

    pub(crate) fn put_parts(&mut self, parts: Vec<(Algorithm, Hasher)>) {
        self.hashers = parts;
    }

    pub(crate) fn finish(self) -> Vec<(Algorithm, Vec<u8>)> {
        self.hashers
            .into_iter()
            .map(|(a, h)| (a, h.finish()))
            .collect()
    }
}

/// Parses hex digits of either case into bytes; `None` on any other character or an odd
/// length.
pub(crate) fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let val = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(val(p[0])? << 4 | val(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_for_abc() {
        // FIPS 180-2 / RFC 1321 test vectors for "abc".
        let cases = [
            (Algorithm::Md5, "900150983cd24fb0d6963f7d28e17f72"),
            (Algorithm::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (
                Algorithm::Sha224,
                "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
            ),
            (
                Algorithm::Sha256,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                Algorithm::Sha512,
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
                 2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            ),
        ];
        for (a, want) in cases {
            assert_eq!(hex::encode(a.digest(b"abc")), want, "{a}");
            assert_eq!(a.digest(b"abc").len(), a.digest_len());
        }
        let mut m = MultiHasher::new(&[Algorithm::Sha256, Algorithm::Sha512]);
        m.update(&vec![b'x'; 3 * SLICE + 17]);
        let out = m.finish();
        assert_eq!(
            out[0].1,
            Algorithm::Sha256.digest(&vec![b'x'; 3 * SLICE + 17])
        );
        assert_eq!(
            out[1].1,
            Algorithm::Sha512.digest(&vec![b'x'; 3 * SLICE + 17])
        );
    }

    #[test]
    fn hex_parsing_accepts_both_cases_and_rejects_the_rest() {
        assert_eq!(parse_hex("0aFf"), Some(vec![0x0a, 0xff]));
        assert_eq!(parse_hex("0a f"), None);
        assert_eq!(parse_hex("abc"), None);
        assert_eq!(parse_hex("zz"), None);
        assert_eq!(parse_hex(""), Some(vec![]));
    }
}
