//! The RFC 6962 Merkle tree over ledger entries, with inclusion and consistency proofs.
//!
//! [`Tree`] keeps every complete subtree's hash (about two hashes per leaf), so a root or
//! a proof for any tree size costs O(log n) hashes. Proofs follow RFC 6962 §2.1.1–2.1.2;
//! verification follows RFC 9162 §2.1.3.2 and §2.1.4.2.

use crate::error::{LedgerError, Result};
use crate::hash::Hash;

/// Leaf hashes and the hashes of all complete, aligned subtrees above them.
#[derive(Clone, Default, Debug)]
pub struct Tree {
    /// `levels[k][i]` is the hash of leaves `[i·2^k, (i+1)·2^k)`.
    levels: Vec<Vec<Hash>>,
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

impl Tree {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_leaves(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut k = 0;
        while self.levels[k].len().is_multiple_of(2) {
            let n = self.levels[k].len();
            let parent = Hash::node(&self.levels[k][n - 2], &self.levels[k][n - 1]);
            if self.levels.len() == k + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[k + 1].push(parent);
            k += 1;
        }
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels.first()?.get(index as usize).copied()
    }

    /// Forgets every leaf from `size` on.
    pub fn truncate(&mut self, size: u64) {
        for (k, level) in self.levels.iter_mut().enumerate() {
            level.truncate((size >> k) as usize);
        }
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.len() {
            return Err(LedgerError::SizeOutOfRange {
                requested: size,
                available: self.len(),
            });
        }
        Ok(())
    }

    /// MTH of the leaves `[start, start + size)`, a subtree of the RFC 6962 recursion.
    fn subtree(&self, start: u64, size: u64) -> Hash {
        match size {
            0 => Hash::empty(),
            _ if size.is_power_of_two() && start.is_multiple_of(size) => {
                let k = size.trailing_zeros() as usize;
                self.levels[k][(start >> k) as usize]
            }
            _ => {
                let k = split(size);
                Hash::node(&self.subtree(start, k), &self.subtree(start + k, size - k))
            }
        }
    }

    /// The root of the tree made of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        Ok(self.subtree(0, size))
    }

    pub fn root(&self) -> Hash {
        self.subtree(0, self.len())
    }

    /// The audit path for leaf `index` in the tree of the first `size` leaves, from the
    /// leaf's sibling upwards.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size(size)?;
        if index >= size {
            return Err(LedgerError::NoSuchEntry(index, size));
        }
        let mut path = Vec::new();
        self.path(index, 0, size, &mut path);
        Ok(path)
    }

    fn path(&self, m: u64, start: u64, n: u64, out: &mut Vec<Hash>) {
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            self.path(m, start, k, out);
            out.push(self.subtree(start + k, n - k));
        } else {
            self.path(m - k, start + k, n - k, out);
            out.push(self.subtree(start, k));
        }
    }

    /// The proof that the tree of `old` leaves is a prefix of the tree of `new` leaves.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        self.check_size(new)?;
        if old > new {
            return Err(LedgerError::SizeOutOfRange {
                requested: old,
                available: new,
            });
        }
        let mut proof = Vec::new();
        if old > 0 && old < new {
            self.subproof(old, 0, new, true, &mut proof);
        }
        Ok(proof)
    }

    fn subproof(&self, m: u64, start: u64, n: u64, whole: bool, out: &mut Vec<Hash>) {
        if m == n {
            if !whole {
                out.push(self.subtree(start, n));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, k, whole, out);
            out.push(self.subtree(start + k, n - k));
        } else {
            self.subproof(m - k, start + k, n - k, false, out);
            out.push(self.subtree(start, k));
        }
    }
}

/// Why a proof failed to verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexBeyondSize { index: u64, size: u64 },
    #[error("old size {old} is larger than new size {new}")]
    OldBeyondNew { old: u64, new: u64 },
    #[error("the proof has {0} hashes, which is the wrong number for these sizes")]
    WrongLength(usize),
    #[error("the proof leads to root {computed}, not to the expected root {expected}")]
    RootMismatch { computed: String, expected: String },
}

/// Checks an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    path: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexBeyondSize { index, size });
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return Err(ProofError::WrongLength(path.len()));
        }
        if f & 1 == 1 || f == s {
            r = Hash::node(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = Hash::node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength(path.len()));
    }
    if r != *root {
        return Err(ProofError::RootMismatch {
            computed: r.to_base64(),
            expected: root.to_base64(),
        });
    }
    Ok(())
}

/// Checks a consistency proof between two tree heads (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::OldBeyondNew { old, new });
    }
    if old == new || old == 0 {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength(proof.len()));
        }
        if old == new && old_root != new_root {
            return Err(ProofError::RootMismatch {
                computed: old_root.to_base64(),
                expected: new_root.to_base64(),
            });
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength(0));
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return Err(ProofError::WrongLength(proof.len()));
        }
        if f & 1 == 1 || f == s {
            fr = Hash::node(c, &fr);
            sr = Hash::node(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = Hash::node(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength(proof.len()));
    }
    if fr != *old_root {
        return Err(ProofError::RootMismatch {
            computed: fr.to_base64(),
            expected: old_root.to_base64(),
        });
    }
    if sr != *new_root {
        return Err(ProofError::RootMismatch {
            computed: sr.to_base64(),
            expected: new_root.to_base64(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The leaf inputs of the Certificate Transparency reference tests (RFC 6962 trees).
    fn reference_leaves() -> Vec<Hash> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|h| Hash::leaf(&hex::decode(h).unwrap()))
        .collect()
    }

    fn h(s: &str) -> Hash {
        Hash(hex::decode(s).unwrap().try_into().unwrap())
    }

    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn roots_match_the_rfc6962_reference_for_every_size() {
        let tree = Tree::from_leaves(reference_leaves());
        for (size, root) in ROOTS.iter().enumerate() {
            assert_eq!(tree.root_at(size as u64).unwrap(), h(root), "size {size}");
        }
        assert_eq!(Hash::empty(), h(ROOTS[0]));
    }

    #[test]
    fn inclusion_proofs_match_the_reference() {
        let tree = Tree::from_leaves(reference_leaves());
        let cases: [(u64, u64, &[&str]); 4] = [
            (
                0,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                &[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (index, size, expected) in cases {
            let proof = tree.inclusion_proof(index, size).unwrap();
            let expected: Vec<Hash> = expected.iter().map(|s| h(s)).collect();
            assert_eq!(proof, expected, "index {index} size {size}");
            let leaf = tree.leaf(index).unwrap();
            verify_inclusion(index, size, &leaf, &proof, &h(ROOTS[size as usize])).unwrap();
        }
    }

    #[test]
    fn consistency_proofs_match_the_reference() {
        let tree = Tree::from_leaves(reference_leaves());
        let cases: [(u64, u64, &[&str]); 4] = [
            (1, 1, &[]),
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (old, new, expected) in cases {
            let proof = tree.consistency_proof(old, new).unwrap();
            let expected: Vec<Hash> = expected.iter().map(|s| h(s)).collect();
            assert_eq!(proof, expected, "{old} -> {new}");
            verify_consistency(
                old,
                new,
                &h(ROOTS[old as usize]),
                &h(ROOTS[new as usize]),
                &proof,
            )
            .unwrap();
        }
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| Hash::leaf(&i.to_le_bytes())).collect()
    }

    /// Straight from the RFC 6962 definition, for cross-checking the cached tree.
    fn naive_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => Hash::empty(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                Hash::node(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn every_proof_round_trips_and_tampering_fails() {
        let all = leaves(70);
        let tree = Tree::from_leaves(all.clone());
        for size in 1..=70u64 {
            let root = tree.root_at(size).unwrap();
            assert_eq!(root, naive_root(&all[..size as usize]), "size {size}");
            for index in 0..size {
                let proof = tree.inclusion_proof(index, size).unwrap();
                verify_inclusion(index, size, &all[index as usize], &proof, &root).unwrap();
                let wrong = all[(index as usize + 1) % 70];
                assert!(verify_inclusion(index, size, &wrong, &proof, &root).is_err());
                if size > 1 {
                    assert!(
                        verify_inclusion(
                            (index + 1) % size,
                            size,
                            &all[index as usize],
                            &proof,
                            &root
                        )
                        .is_err()
                            || (index + 1) % size == index
                    );
                    let mut bad = proof.clone();
                    bad[0].0[0] ^= 1;
                    assert!(
                        verify_inclusion(index, size, &all[index as usize], &bad, &root).is_err()
                    );
                    assert!(
                        verify_inclusion(
                            index,
                            size,
                            &all[index as usize],
                            &proof[..proof.len() - 1],
                            &root
                        )
                        .is_err()
                    );
                }
            }
            for old in 0..=size {
                let proof = tree.consistency_proof(old, size).unwrap();
                let old_root = tree.root_at(old).unwrap();
                verify_consistency(old, size, &old_root, &root, &proof).unwrap();
                if old > 0 && old < size {
                    let other = tree.root_at(old - 1).unwrap();
                    assert!(verify_consistency(old, size, &other, &root, &proof).is_err());
                    let mut bad = proof.clone();
                    let last = bad.len() - 1;
                    bad[last].0[31] ^= 0x80;
                    assert!(verify_consistency(old, size, &old_root, &root, &bad).is_err());
                }
            }
        }
    }

    #[test]
    fn truncate_forgets_the_tail() {
        let mut tree = Tree::from_leaves(leaves(13));
        let root9 = tree.root_at(9).unwrap();
        tree.truncate(9);
        assert_eq!(tree.len(), 9);
        assert_eq!(tree.root(), root9);
        tree.push(Hash::leaf(b"x"));
        assert_eq!(
            tree.root(),
            naive_root(&[leaves(9), vec![Hash::leaf(b"x")]].concat())
        );
    }

    #[test]
    fn out_of_range_requests_are_errors() {
        let tree = Tree::from_leaves(leaves(4));
        assert!(tree.root_at(5).is_err());
        assert!(tree.inclusion_proof(4, 4).is_err());
        assert!(tree.consistency_proof(3, 5).is_err());
        assert!(tree.consistency_proof(4, 3).is_err());
    }
}
