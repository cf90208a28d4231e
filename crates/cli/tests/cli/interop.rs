//! The ledger checked by an independent RFC 6962 / signed-note implementation: Go's
//! golang.org/x/mod/sumdb/{note,tlog}, via tests/interop/verify.go.

use std::process::Command;

use crate::support::*;

const GOPATH: &str = "/usr/share/gocode";

fn go_available() -> bool {
    let has_go = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    has_go
        && std::path::Path::new(GOPATH)
            .join("src/golang.org/x/mod/sumdb/tlog")
            .is_dir()
}

#[test]
fn checkpoints_entries_and_proofs_verify_with_go_sumdb() {
    if !go_available() {
        eprintln!(
            "skipped: needs `go` and golang.org/x/mod under {GOPATH} (Debian: golang-go golang-golang-x-mod-dev)"
        );
        return;
    }
    let env = Env::new();
    env.init();
    let old_size = env.run(&["log", "checkpoints", "--json"]).ok().json()[0]
        .as_u64()
        .unwrap();
    std::fs::write(
        env.path("old.cp"),
        env.run(&["log", "checkpoint"]).ok().stdout,
    )
    .unwrap();
    for i in 0..5 {
        env.write(
            &format!("in/{i}.bin"),
            &bytes(100 + i, 1000 + i as usize * 37),
        );
        env.run(&["ingest", &format!("in/{i}.bin"), "--note", "interop"])
            .ok();
    }
    std::fs::write(env.path("vkey"), env.run(&["log", "key"]).ok().stdout).unwrap();
    let cp = env.run(&["log", "checkpoint"]).ok().stdout;
    std::fs::write(env.path("new.cp"), &cp).unwrap();
    let size: u64 = cp.lines().nth(1).unwrap().parse().unwrap();
    std::fs::write(
        env.path("consistency.json"),
        env.run(&[
            "log",
            "consistency",
            &old_size.to_string(),
            &size.to_string(),
        ])
        .ok()
        .stdout,
    )
    .unwrap();
    let go = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/verify.go");
    for n in 0..size {
        let raw = env
            .command()
            .args(["--vault", "vault", "log", "entry", &n.to_string(), "--raw"])
            .output()
            .unwrap();
        std::fs::write(env.path("entry"), &raw.stdout).unwrap();
        std::fs::write(
            env.path("proof.json"),
            env.run(&["log", "prove", &n.to_string()]).ok().stdout,
        )
        .unwrap();
        let out = Command::new("go")
            .current_dir(env.dir.path())
            .env("GO111MODULE", "off")
            .env("GOPATH", GOPATH)
            .env("GOCACHE", env.path("gocache"))
            .arg("run")
            .arg(&go)
            .args([
                "vkey",
                "new.cp",
                "entry",
                "proof.json",
                "old.cp",
                "consistency.json",
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "entry {n}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("inclusion ok: entry {n} in tree of size {size}")),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("consistency ok: {old_size} -> {size}")),
            "{stdout}"
        );
        if n == 3 {
            // The same program rejects a changed entry, so its "ok" means something.
            let mut bad = raw.stdout.clone();
            let last = bad.len() - 3;
            bad[last] ^= 1;
            std::fs::write(env.path("entry"), &bad).unwrap();
            let out = Command::new("go")
                .current_dir(env.dir.path())
                .env("GO111MODULE", "off")
                .env("GOPATH", GOPATH)
                .env("GOCACHE", env.path("gocache"))
                .arg("run")
                .arg(&go)
                .args(["vkey", "new.cp", "entry", "proof.json"])
                .output()
                .unwrap();
            assert!(!out.status.success(), "a tampered entry must be rejected");
        }
    }
}
