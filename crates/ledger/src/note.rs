//! C2SP signed notes with Ed25519 keys: signing, verification, key IDs and `vkey` strings.
//!
//! A note is text ending in LF, a blank line, and signature lines
//! `— <key name> <base64(key ID ‖ signature)>`. See formats.md §4.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{LedgerError, Result};

/// Signature type of Ed25519 in the signed-note specification.
const ALG_ED25519: u8 = 0x01;
const SIG_PREFIX: &str = "\u{2014} ";

/// The 4-byte key ID: the start of SHA-256(name ‖ LF ‖ 0x01 ‖ public key).
pub fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// A key name is non-empty and holds no whitespace and no `+`.
pub fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// A private signing key together with its name.
pub struct Signer {
    name: String,
    key: SigningKey,
}

impl Signer {
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self> {
        if !valid_key_name(name) {
            return Err(LedgerError::MalformedKey(format!(
                "{name:?} is not a valid key name"
            )));
        }
        Ok(Self {
            name: name.to_owned(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// A fresh key from the operating system's random source.
    pub fn generate(name: &str) -> Result<(Self, [u8; 32])> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| LedgerError::MalformedKey(format!("no random source: {e}")))?;
        Ok((Self::from_seed(name, seed)?, seed))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` (which must end with LF) and returns the whole signed note.
    pub fn sign_note(&self, text: &str) -> Result<String> {
        if !text.ends_with('\n') || text.contains("\n\n") {
            return Err(LedgerError::MalformedNote(
                "note text must end with a newline and contain no blank line".into(),
            ));
        }
        let sig = self.key.sign(text.as_bytes());
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&self.verifier().key_id());
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            STANDARD.encode(blob)
        ))
    }
}

/// A public key that checks notes, parsed from or printed as a `vkey`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Verifier {
    name: String,
    key: VerifyingKey,
}

impl Verifier {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, self.key.as_bytes())
    }

    pub fn public_key(&self) -> [u8; 32] {
        *self.key.as_bytes()
    }

    /// `name+hexkeyid+base64(0x01 ‖ public key)`.
    pub fn to_vkey(&self) -> String {
        let mut data = vec![ALG_ED25519];
        data.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            STANDARD.encode(data)
        )
    }

    pub fn from_vkey(vkey: &str) -> Result<Self> {
        let bad = |why: &str| LedgerError::MalformedKey(format!("{why} in {vkey:?}"));
        // The name and the hex key id hold no '+'; the base64 key may.
        let parts: Vec<&str> = vkey.trim().splitn(3, '+').collect();
        let [name, id_hex, data] = parts[..] else {
            return Err(bad("expected name+keyid+key"));
        };
        if !valid_key_name(name) {
            return Err(bad("invalid key name"));
        }
        let id = hex::decode(id_hex).map_err(|_| bad("key id is not hex"))?;
        let data = STANDARD
            .decode(data)
            .map_err(|_| bad("key is not base64"))?;
        if data.len() != 33 || data[0] != ALG_ED25519 {
            return Err(bad("not an Ed25519 key (type 0x01, 32 bytes)"));
        }
        let public: [u8; 32] = data[1..].try_into().expect("length checked");
        let key =
            VerifyingKey::from_bytes(&public).map_err(|_| bad("not a valid Ed25519 point"))?;
        let v = Self {
            name: name.to_owned(),
            key,
        };
        if id != v.key_id() {
            return Err(bad("key id does not match the name and key"));
        }
        Ok(v)
    }

    /// Verifies a signed note and returns its text. The note must carry a signature by
    /// this key; signatures by other keys are ignored.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str> {
        let split = note.rfind("\n\n").ok_or_else(|| {
            LedgerError::MalformedNote("no blank line before the signatures".into())
        })?;
        let text = &note[..split + 1];
        let sigs = &note[split + 2..];
        if !sigs.ends_with('\n') {
            return Err(LedgerError::MalformedNote(
                "signature block must end with a newline".into(),
            ));
        }
        let mut seen_ours = false;
        for line in sigs.lines() {
            let rest = line.strip_prefix(SIG_PREFIX).ok_or_else(|| {
                LedgerError::MalformedNote(format!(
                    "signature line does not start with an em dash: {line:?}"
                ))
            })?;
            let (name, b64) = rest.split_once(' ').ok_or_else(|| {
                LedgerError::MalformedNote(format!("malformed signature line: {line:?}"))
            })?;
            let blob = STANDARD.decode(b64).map_err(|_| {
                LedgerError::MalformedNote(format!("signature is not base64: {line:?}"))
            })?;
            if blob.len() < 4 {
                return Err(LedgerError::MalformedNote(format!(
                    "signature too short: {line:?}"
                )));
            }
            if name != self.name || blob[..4] != self.key_id() {
                continue;
            }
            seen_ours = true;
            let sig: [u8; 64] = blob[4..].try_into().map_err(|_| {
                LedgerError::BadSignature("Ed25519 signature is not 64 bytes".into())
            })?;
            self.key
                .verify_strict(text.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig))
                .map_err(|_| {
                    LedgerError::BadSignature(format!(
                        "the signature by {} does not match the note text",
                        self.name
                    ))
                })?;
        }
        if !seen_ours {
            return Err(LedgerError::BadSignature(format!(
                "the note carries no signature by {}",
                self.name
            )));
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::from_seed("custody/test/00000000", [7u8; 32]).unwrap()
    }

    #[test]
    fn sign_then_open_round_trips() {
        let s = signer();
        let note = s.sign_note("custody/test/00000000\n3\nAAAA\n").unwrap();
        assert!(note.contains("\n\n\u{2014} custody/test/00000000 "));
        assert_eq!(
            s.verifier().open(&note).unwrap(),
            "custody/test/00000000\n3\nAAAA\n"
        );
    }

    #[test]
    fn any_change_to_the_text_or_signature_is_caught() {
        let s = signer();
        let note = s.sign_note("origin\n3\nAAAA\n").unwrap();
        let v = s.verifier();
        assert!(v.open(&note.replacen("\n3\n", "\n4\n", 1)).is_err());
        let mut bytes = note.clone().into_bytes();
        let n = bytes.len();
        bytes[n - 5] = if bytes[n - 5] == b'A' { b'B' } else { b'A' };
        assert!(v.open(std::str::from_utf8(&bytes).unwrap()).is_err());
        let other = Signer::from_seed("custody/test/00000000", [8u8; 32]).unwrap();
        assert!(other.verifier().open(&note).is_err());
    }

    #[test]
    fn vkey_round_trips_and_rejects_a_wrong_id() {
        let v = signer().verifier();
        let vkey = v.to_vkey();
        assert!(vkey.starts_with("custody/test/00000000+"));
        assert_eq!(Verifier::from_vkey(&vkey).unwrap(), v);
        let parts: Vec<&str> = vkey.split('+').collect();
        let forged = format!("{}+00000000+{}", parts[0], parts[2]);
        assert!(Verifier::from_vkey(&forged).is_err());
        assert!(Verifier::from_vkey("nonsense").is_err());
    }

    #[test]
    fn vkeys_whose_base64_contains_plus_round_trip() {
        // Find a seed whose public key encodes with a '+' somewhere in its base64.
        let signer = (0u8..=255)
            .map(|b| Signer::from_seed("custody/test/00000000", [b; 32]).unwrap())
            .find(|s| s.verifier().to_vkey().matches('+').count() > 2)
            .expect("some key has a + in its base64");
        let vkey = signer.verifier().to_vkey();
        assert_eq!(Verifier::from_vkey(&vkey).unwrap(), signer.verifier());
    }

    #[test]
    fn key_names_with_spaces_or_plus_are_refused() {
        assert!(Signer::from_seed("a b", [1; 32]).is_err());
        assert!(Signer::from_seed("a+b", [1; 32]).is_err());
    }
}
