//! The JSON forms of proofs given to third parties (formats.md §5).

use serde::{Deserialize, Serialize};

use crate::hash::Hash;
use crate::merkle::{self, ProofError};

/// `{"index":N,"tree_size":M,"hashes":["<base64>",...]}`
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    pub index: u64,
    pub tree_size: u64,
    pub hashes: Vec<String>,
}

/// `{"old_size":m,"new_size":n,"hashes":["<base64>",...]}`
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    pub hashes: Vec<String>,
}

fn encode(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(Hash::to_base64).collect()
}

fn decode(hashes: &[String]) -> Result<Vec<Hash>, ProofError> {
    hashes
        .iter()
        .map(|h| Hash::from_base64(h).ok_or(ProofError::WrongLength(hashes.len())))
        .collect()
}

impl InclusionProof {
    pub fn new(index: u64, tree_size: u64, hashes: &[Hash]) -> Self {
        Self {
            index,
            tree_size,
            hashes: encode(hashes),
        }
    }

    /// Checks that the entry with these bytes is leaf `index` of the tree with `root`.
    pub fn verify(&self, entry_bytes: &[u8], root: &Hash) -> Result<(), ProofError> {
        let path = decode(&self.hashes)?;
        merkle::verify_inclusion(
            self.index,
            self.tree_size,
            &Hash::leaf(entry_bytes),
            &path,
            root,
        )
    }
}

impl ConsistencyProof {
    pub fn new(old_size: u64, new_size: u64, hashes: &[Hash]) -> Self {
        Self {
            old_size,
            new_size,
            hashes: encode(hashes),
        }
    }

    pub fn verify(&self, old_root: &Hash, new_root: &Hash) -> Result<(), ProofError> {
        let path = decode(&self.hashes)?;
        merkle::verify_consistency(self.old_size, self.new_size, old_root, new_root, &path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::Tree;

    #[test]
    fn json_shapes_are_exactly_as_documented() {
        let p = InclusionProof::new(5, 42, &[Hash::empty()]);
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"index":5,"tree_size":42,"hashes":["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]}"#
        );
        let c = ConsistencyProof::new(17, 42, &[]);
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"old_size":17,"new_size":42,"hashes":[]}"#
        );
    }

    #[test]
    fn json_proofs_verify() {
        let entries: Vec<Vec<u8>> = (0..11u8).map(|i| vec![b'{', i, b'}']).collect();
        let tree = Tree::from_leaves(entries.iter().map(|e| Hash::leaf(e)));
        let p = InclusionProof::new(7, 11, &tree.inclusion_proof(7, 11).unwrap());
        let p: InclusionProof = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        p.verify(&entries[7], &tree.root()).unwrap();
        assert!(p.verify(&entries[6], &tree.root()).is_err());
        let c = ConsistencyProof::new(4, 11, &tree.consistency_proof(4, 11).unwrap());
        c.verify(&tree.root_at(4).unwrap(), &tree.root()).unwrap();
    }
}
