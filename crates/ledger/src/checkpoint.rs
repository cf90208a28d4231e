//! Checkpoints: signed tree heads in the C2SP `tlog-checkpoint` form (formats.md §4.1).

use crate::error::{LedgerError, Result};
use crate::hash::Hash;
use crate::note::{Signer, Verifier};

/// The body of a checkpoint: which log, how many entries, and their Merkle root.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note text: origin, size and base64 root, one per line.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        )
    }

    pub fn sign(&self, signer: &Signer) -> Result<String> {
        signer.sign_note(&self.text())
    }

    /// Parses the note text of a checkpoint (without signatures).
    pub fn parse_text(text: &str) -> Result<Self> {
        let bad = |why: String| LedgerError::MalformedCheckpoint(why);
        let mut lines = text.split_terminator('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| bad("no origin line".into()))?;
        let size_line = lines
            .next()
            .ok_or_else(|| bad("no tree size line".into()))?;
        if size_line.is_empty()
            || !size_line.bytes().all(|b| b.is_ascii_digit())
            || (size_line.len() > 1 && size_line.starts_with('0'))
        {
            return Err(bad(format!(
                "tree size {size_line:?} is not a decimal number"
            )));
        }
        let size = size_line
            .parse()
            .map_err(|_| bad(format!("tree size {size_line:?} is too large")))?;
        let root_line = lines
            .next()
            .ok_or_else(|| bad("no root hash line".into()))?;
        let root = Hash::from_base64(root_line)
            .ok_or_else(|| bad(format!("root hash {root_line:?} is not 32 bytes of base64")))?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// Verifies a signed checkpoint note with `verifier` and parses it. The origin must
    /// be the verifier's key name.
    pub fn open(note: &str, verifier: &Verifier) -> Result<Self> {
        let text = verifier.open(note)?;
        let cp = Self::parse_text(text)?;
        if cp.origin != verifier.name() {
            return Err(LedgerError::MalformedCheckpoint(format!(
                "origin {:?} is not the key's name {:?}",
                cp.origin,
                verifier.name()
            )));
        }
        Ok(cp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_open_round_trip_and_text_is_exact() {
        let signer = Signer::from_seed("custody/unit/1a2b3c4d", [3; 32]).unwrap();
        let cp = Checkpoint {
            origin: "custody/unit/1a2b3c4d".into(),
            size: 42,
            root: Hash::leaf(b"x"),
        };
        let note = cp.sign(&signer).unwrap();
        assert!(note.starts_with(&format!(
            "custody/unit/1a2b3c4d\n42\n{}\n\n\u{2014} ",
            cp.root.to_base64()
        )));
        assert_eq!(Checkpoint::open(&note, &signer.verifier()).unwrap(), cp);
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        for text in [
            "",
            "o\n",
            "o\n-1\nAAAA\n",
            "o\n01\nAAAA\n",
            "o\n1\nnot-base64\n",
            "o\n1\nAAAA\n",
        ] {
            assert!(Checkpoint::parse_text(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn a_checkpoint_for_another_origin_is_refused() {
        let signer = Signer::from_seed("custody/a/00000000", [3; 32]).unwrap();
        let cp = Checkpoint {
            origin: "custody/b/00000000".into(),
            size: 1,
            root: Hash::empty(),
        };
        let note = cp.sign(&signer).unwrap();
        assert!(Checkpoint::open(&note, &signer.verifier()).is_err());
    }
}
