//! The storage form of a token: the raw DER bytes, never re-encoded, written durably, and
//! the text forms that go beside them (certificates as PEM, a JSON summary).
//!
//! File names and their roles are fixed in `docs/design/timestamps.md` §3.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::client::Stamp;
use crate::error::WriteError;

/// PEM text of DER certificates, one `CERTIFICATE` block each: the `-untrusted` file for
/// `openssl ts -verify`.
pub fn certificates_pem(certificates: &[Vec<u8>]) -> String {
    certificates
        .iter()
        .map(|der| pem_block("CERTIFICATE", der))
        .collect()
}

/// One PEM block with the given label, lines of 64 characters, LF line endings.
pub fn pem_block(label: &str, der: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der).unwrap_or_default()
}

/// Writes `bytes` to `path` durably: a temporary file in the same directory, flushed to
/// stable storage, renamed over `path`, and the directory flushed.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let err = |source| WriteError {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| err(std::io::Error::other("the path has no file name")))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// The files [`Stamp::write_files`] wrote.
#[derive(Clone, Debug)]
pub struct StampFiles {
    /// `<stem>.tsr`: the whole `TimeStampResp`, DER.
    pub response: PathBuf,
    /// `<stem>.tst`: the token (`ContentInfo`), DER.
    pub token: PathBuf,
    /// `<stem>.certs.pem`: the certificates the token carries, PEM.
    pub certificates: PathBuf,
    /// `<stem>.json`: the summary of [`crate::TokenInfo`].
    pub summary: PathBuf,
}

impl Stamp {
    /// Writes the response, the token, its certificates and the JSON summary into `dir`
    /// as `<stem>.tsr`, `<stem>.tst`, `<stem>.certs.pem` and `<stem>.json`.
    pub fn write_files(&self, dir: &Path, stem: &str) -> Result<StampFiles, WriteError> {
        let files = StampFiles {
            response: dir.join(format!("{stem}.tsr")),
            token: dir.join(format!("{stem}.tst")),
            certificates: dir.join(format!("{stem}.certs.pem")),
            summary: dir.join(format!("{stem}.json")),
        };
        write_file(&files.response, &self.response_der)?;
        write_file(&files.token, &self.token_der)?;
        write_file(
            &files.certificates,
            certificates_pem(&self.certificates).as_bytes(),
        )?;
        let mut json = self.info.to_json();
        json.push('\n');
        write_file(&files.summary, json.as_bytes())?;
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_file_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tst");
        write_file(&path, b"one").unwrap();
        write_file(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.tst")]);
    }

    #[test]
    fn pem_blocks_round_trip() {
        let pem = pem_block("CERTIFICATE", &[0x30, 0x03, 0x02, 0x01, 0x05]);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
        let (label, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
        assert_eq!(
            (label, der),
            ("CERTIFICATE", vec![0x30, 0x03, 0x02, 0x01, 0x05])
        );
    }
}
