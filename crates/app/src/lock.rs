//! The single-writer lock of a vault: an advisory lock on `<vault>/lock`, taken without
//! waiting, holding the holder's pid and command line so a second writer can say who.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::{AppError, Result};

pub const LOCK_FILE: &str = "lock";

/// Held for as long as it lives; the operating system releases it if the process dies.
pub struct VaultLock {
    _file: File,
}

impl VaultLock {
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| AppError::io(format!("opening {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(AppError::Locked {
                    path: dir.to_owned(),
                    holder: if holder.is_empty() {
                        "unknown process".into()
                    } else {
                        holder.to_owned()
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(AppError::io(format!("locking {}", path.display()), e));
            }
        }
        let me = format!(
            "pid {}: {}",
            std::process::id(),
            std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = file.write_all(me.as_bytes());
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holder_named() {
        let dir = tempfile::tempdir().unwrap();
        let first = VaultLock::acquire(dir.path()).unwrap();
        let err = VaultLock::acquire(dir.path())
            .err()
            .expect("second lock must fail");
        let msg = err.to_string();
        assert!(msg.contains("in use by another custody process"), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        drop(first);
        VaultLock::acquire(dir.path()).unwrap();
    }
}
