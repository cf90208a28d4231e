//! Running `custody` in a scratch directory, and small helpers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_custody");

pub struct Env {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Runs a command built with [`Env::command`] (for arguments that are not UTF-8,
    /// environment variables or another working folder).
    pub fn of(cmd: &mut Command) -> Self {
        Run::from(cmd.output().expect("run custody"))
    }
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    /// Panics with the whole output unless the command succeeded.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "command failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    /// Panics with the whole output unless the command was refused as bad input (exit
    /// 2) with an error that says `needle`, without a panic.
    #[track_caller]
    pub fn refused(&self, needle: &str) {
        assert_eq!(
            self.code, 2,
            "expected a refusal\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "the error should say {needle:?}:\n{}",
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

impl Env {
    pub fn new() -> Self {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.dir.path())
            .env("CUSTODY_ACTOR", "tester@lab")
            .env_remove("CUSTODY_VAULT");
        c
    }

    /// Runs custody with `--vault vault` and the given arguments.
    pub fn run(&self, args: &[&str]) -> Run {
        let o = self
            .command()
            .arg("--vault")
            .arg("vault")
            .args(args)
            .output()
            .expect("run custody");
        Run::from(o)
    }

    /// Runs custody with exactly the given arguments.
    pub fn run_bare(&self, args: &[&str]) -> Run {
        Run::from(self.command().args(args).output().expect("run custody"))
    }

    pub fn init(&self) {
        self.run_bare(&["init", "vault", "--name", "Test unit"])
            .ok();
    }

    pub fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// The vault's origin line, to make outputs comparable across runs.
    pub fn origin(&self) -> String {
        let cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(self.path("vault/vault.json")).unwrap())
                .unwrap();
        cfg["origin"].as_str().unwrap().to_owned()
    }

    /// Replaces what differs from run to run (the vault's random origin suffix).
    pub fn normalise(&self, text: &str) -> String {
        text.replace(&self.origin(), "custody/test-unit/ORIGIN")
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Deterministic pseudo-random bytes.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    custody_testkit::data::bytes(seed, len)
}

pub fn make_writable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut p = std::fs::metadata(path).unwrap().permissions();
    p.set_mode(0o644);
    std::fs::set_permissions(path, p).unwrap();
}

/// Removes the newest signed checkpoint of the vault at `vault/`, as a command that
/// stopped before signing one leaves the ledger.
pub fn remove_latest_checkpoint(env: &Env) {
    let latest = std::fs::read_dir(env.path("vault/ledger/checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    std::fs::remove_file(latest).unwrap();
}

/// The blob file of a digest in an embedded vault.
pub fn blob_path(vault: &Path, hex: &str) -> PathBuf {
    vault
        .join("blobs/sha256")
        .join(&hex[..2])
        .join(&hex[2..4])
        .join(hex)
}

async fn catalog_exec(env: &Env, sql: &str) {
    use sqlx::Connection;
    let url = format!("sqlite://{}", env.path("vault/catalog.sqlite").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

/// Runs one SQL statement on the vault's catalog file directly, behind the ledger's
/// back (to damage it, or to stand for what an earlier build recorded).
pub fn catalog(env: &Env, sql: &str) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(catalog_exec(env, sql));
}
