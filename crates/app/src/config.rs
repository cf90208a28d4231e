//! `vault.json`: the identity of a vault and where its parts live (formats.md §2).

use std::path::{Path, PathBuf};

use custody_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, Result};

pub const CONFIG_FILE: &str = "vault.json";
pub const FORMAT: &str = "custody-vault";
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    pub format: String,
    pub version: u32,
    pub id: String,
    pub name: String,
    pub origin: String,
    pub created: Timestamp,
    pub catalog: String,
    pub blobs: String,
}

/// Lowercase ASCII letters and digits separated by single hyphens.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("vault");
    }
    out.truncate(64);
    out
}

impl VaultConfig {
    pub fn new(name: &str, created: Timestamp) -> Result<Self> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id)
            .map_err(|e| AppError::Invalid(format!("no random source: {e}")))?;
        let id = hex::encode(id);
        Ok(Self {
            format: FORMAT.into(),
            version: VERSION,
            origin: format!("custody/{}/{}", slug(name), &id[..8]),
            id,
            name: name.to_owned(),
            created,
            catalog: "sqlite:catalog.sqlite".into(),
            blobs: "local:blobs".into(),
        })
    }

    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(AppError::NotAVault(dir.to_owned()));
            }
            Err(e) => return Err(AppError::io(format!("reading {}", path.display()), e)),
        };
        let bad = |reason: String| AppError::BadConfig {
            path: path.clone(),
            reason,
        };
        let probe: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if probe.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(bad(format!("\"format\" is not {FORMAT:?}")));
        }
        if probe.get("version").and_then(|v| v.as_u64()) != Some(u64::from(VERSION)) {
            return Err(bad(format!(
                "vault format version {} is not supported by this custody (it reads version {VERSION})",
                probe
                    .get("version")
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "missing".into())
            )));
        }
        serde_json::from_value(probe).map_err(|e| bad(e.to_string()))
    }

    /// Path of the SQLite catalog, when the catalog is SQLite.
    pub fn sqlite_path(&self, dir: &Path) -> Result<PathBuf> {
        match self.catalog.strip_prefix("sqlite:") {
            Some(p) => Ok(dir.join(p)),
            None => Err(AppError::BadConfig {
                path: dir.join(CONFIG_FILE),
                reason: format!("catalog {:?} is not supported by this build", self.catalog),
            }),
        }
    }

    pub fn local_blobs_path(&self, dir: &Path) -> Result<PathBuf> {
        match self.blobs.strip_prefix("local:") {
            Some(p) => Ok(dir.join(p)),
            None => Err(AppError::BadConfig {
                path: dir.join(CONFIG_FILE),
                reason: format!("blob store {:?} is not supported by this build", self.blobs),
            }),
        }
    }
}

/// Finds the vault to use: the explicit directory, else the nearest ancestor of `cwd`
/// that holds a `vault.json`.
pub fn locate(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.to_owned());
    }
    let mut dir = Some(cwd);
    while let Some(d) = dir {
        if d.join(CONFIG_FILE).is_file() {
            return Ok(d.to_owned());
        }
        dir = d.parent();
    }
    Err(AppError::NoVaultSelected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_key_names() {
        assert_eq!(
            slug("Kyiv region documentation unit"),
            "kyiv-region-documentation-unit"
        );
        assert_eq!(slug("  Unit #7 / OPG  "), "unit-7-opg");
        assert_eq!(slug("Київ"), "vault");
    }
}
