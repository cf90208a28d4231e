//! RFC 3161 timestamps over checkpoints, end to end, with a real `openssl ts -reply` TSA on
//! 127.0.0.1; every stored token is also checked with `openssl ts -verify`.

use std::process::Command;

use custody_testkit::pki::openssl_available;
use custody_testkit::tsa::LocalTsa;

use crate::support::*;

/// A local TSA and an empty vault; `None` (said) without openssl.
fn tsa_and_vault() -> Option<(LocalTsa, Env)> {
    if !openssl_available() {
        eprintln!("skipped: openssl not found on PATH");
        return None;
    }
    let tsa = LocalTsa::start();
    let env = Env::new();
    env.init();
    Some((tsa, env))
}

fn openssl_verify(env: &Env, tsa: &LocalTsa, checkpoint: &str, token: &str) -> (bool, String) {
    let certs = token.replace(".tst", ".certs.pem");
    let out = Command::new("openssl")
        .current_dir(env.dir.path())
        .args([
            "ts",
            "-verify",
            "-data",
            checkpoint,
            "-in",
            token,
            "-token_in",
            "-CAfile",
        ])
        .arg(&tsa.root.cert)
        .args(["-untrusted", &certs])
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn checkpoints_are_stamped_recorded_verified_and_openssl_agrees() {
    let Some((tsa, env)) = tsa_and_vault() else {
        return;
    };
    env.write("in/a.bin", &bytes(3, 50_000));
    env.run(&["ingest", "in"]).ok();
    let before = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(before.contains("timestamped: not yet"), "{before}");

    let root = tsa.root.cert.to_str().unwrap().to_owned();
    let out = env
        .run(&["timestamp", "--tsa", tsa.url(), "--roots", &root, "--json"])
        .ok()
        .json();
    let size = out["checkpoint_size"].as_u64().unwrap();
    assert_eq!(
        size, 5,
        "init (2 entries), the item and its metadata, then the TSA root trusted"
    );
    let stamped = &out["stamped"][0];
    assert_eq!(stamped["tsa"], tsa.url());
    let token = stamped["token_file"].as_str().unwrap().to_owned();
    assert!(
        token.contains("ledger/timestamps/00000000000000000005/"),
        "{token}"
    );

    // The ledger records the token, and the item now has a proof of existence.
    let entry = env
        .run(&["log", "entry", &stamped["ledger_seq"].to_string()])
        .ok()
        .json();
    assert_eq!(entry["action"], "checkpoint.timestamped");
    assert_eq!(entry["details"]["checkpoint_size"], 5);
    let shown = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(
        shown.contains("timestamped: existed no later than"),
        "{shown}"
    );

    // openssl agrees with the stored token, on the exact checkpoint file that was stamped.
    let cp = env.path("vault/ledger/checkpoints/00000000000000000005");
    let (ok, text) = openssl_verify(&env, &tsa, cp.to_str().unwrap(), &token);
    assert!(ok && text.contains("Verification: OK"), "{text}");

    let v = env.run(&["verify", "--full"]).ok();
    assert!(v.stdout.contains("1 timestamps"), "{}", v.stdout);
    assert!(
        !v.stdout.contains("note:"),
        "a fully trusted token needs no note: {}",
        v.stdout
    );

    // Damage to the token is caught by custody and by openssl.
    let token_path = env.path(&token);
    let mut der = std::fs::read(&token_path).unwrap();
    let n = der.len();
    der[n - 10] ^= 0x40;
    make_writable(&token_path);
    std::fs::write(&token_path, &der).unwrap();

    let v = env.run(&["verify"]);
    assert_eq!(v.code, 1);
    assert!(v.stdout.contains("timestamp: token from"), "{}", v.stdout);
    assert!(
        v.stdout
            .contains("the token file differs from the one recorded in the ledger"),
        "{}",
        v.stdout
    );
    let (ok, _) = openssl_verify(&env, &tsa, cp.to_str().unwrap(), &token);
    assert!(!ok, "openssl must reject the damaged token too");
}

#[test]
fn without_trusted_roots_the_chain_is_reported_unchecked() {
    let Some((tsa, env)) = tsa_and_vault() else {
        return;
    };
    env.run(&["timestamp", "--tsa", tsa.url()]).ok();
    let v = env.run(&["verify"]).ok();
    assert!(
        v.stdout
            .contains("the chain was not checked: no TSA roots trusted"),
        "{}",
        v.stdout
    );
}

#[test]
fn a_tsa_that_is_down_is_named_and_the_others_still_stamp() {
    let Some((tsa, env)) = tsa_and_vault() else {
        return;
    };
    // A port nobody listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/tsa", l.local_addr().unwrap())
    };
    let out = env.run(&["timestamp", "--tsa", &dead]);
    out.refused("no TSA gave a token");
    out.refused(&dead);
    let out = env.run(&["timestamp", "--tsa", &dead, "--tsa", tsa.url()]);
    assert_eq!(
        out.code, 1,
        "partial success exits 1: {}{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stdout.contains(&format!("FAILED   TSA {dead}")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("stamped by {}", tsa.url())),
        "{}",
        out.stdout
    );
    env.run(&["verify"]).ok();
}

#[test]
fn configured_tsas_stamp_new_checkpoints_automatically() {
    let Some((tsa, env)) = tsa_and_vault() else {
        return;
    };
    let root = tsa.root.cert.to_str().unwrap().to_owned();
    env.run(&[
        "timestamp",
        "--tsa",
        tsa.url(),
        "--roots",
        &root,
        "--save",
        "--every",
        "0",
    ])
    .ok();
    env.write("x.bin", b"synthetic");
    let out = env.run(&["ingest", "x.bin"]).ok();
    assert!(
        out.stderr.contains("note: checkpoint 6 timestamped by"),
        "{}",
        out.stderr
    );
    let v = env.run(&["verify"]).ok();
    assert!(v.stdout.contains("2 timestamps"), "{}", v.stdout);
}

/// A TSA root withdrawn from trust takes its tokens' dates away (show, verify), and its
/// removal is recorded even when the copy in keys/ cannot be written, which is said,
/// named by verify, and mended by removing it again. A change of trust that only a
/// recovery signed is named when the vault is next opened.
#[test]
fn a_withdrawn_tsa_root_dates_nothing() {
    let Some((tsa, env)) = tsa_and_vault() else {
        return;
    };
    env.write("in/a.bin", &bytes(5, 20_000));
    env.run(&["ingest", "in"]).ok();
    let root = tsa.root.cert.to_str().unwrap().to_owned();
    env.run(&["timestamp", "--tsa", tsa.url(), "--roots", &root])
        .ok();
    let shown = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(shown.contains("existed no later than"), "{shown}");
    // A TSA the vault never trusted stamps it too: its token dates nothing, before and
    // after the only root is withdrawn.
    let stranger = LocalTsa::start();
    env.run(&["timestamp", "--tsa", stranger.url()]).ok();

    let hex = sha256_hex(&tsa.root.der);
    let blocker = env.path("vault/keys/tsa-roots.tmp/x");
    std::fs::create_dir_all(&blocker).unwrap();
    let r = env.run(&["trust", "--remove", &hex, "--from", "tsa-roots"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("could not be written"), "{}", r.stderr);
    let shown = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    assert!(shown["timestamp"].is_null(), "{shown}");
    assert!(
        shown["timestamps_set_aside"][0]
            .as_str()
            .unwrap()
            .contains("no longer trusts"),
        "{shown}"
    );
    let v = env.run(&["verify"]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(
        v.stdout.contains("withdrawn from trust in ledger entry"),
        "{}",
        v.stdout
    );
    let listed = env.run(&["trust"]).ok().stdout;
    assert!(
        listed.contains("NOT TRUSTED: withdrawn in ledger entry"),
        "{listed}"
    );
    std::fs::remove_dir_all(env.path("vault/keys/tsa-roots.tmp")).unwrap();
    let r = env.run(&["trust", "--remove", &hex]).ok();
    assert!(
        r.stderr.contains("was withdrawn from the TSA roots before"),
        "{}",
        r.stderr
    );
    // The withdrawn root's token is noted; the untrusted TSA's is a problem.
    let v = env.run(&["verify"]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(
        v.stdout.contains("no longer trusts") && v.stdout.contains("0 configured trusted root"),
        "{}",
        v.stdout
    );
    let human = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(
        human.contains("timestamped: no token that covers this entry dates it")
            && human.contains("set aside: "),
        "{human}"
    );

    // Given again, a withdrawn root is not trusted again; restored, it is (a new
    // entry). Then a change of trust only a recovery signed.
    let again = env.run(&["timestamp", "--roots", &root]).ok();
    assert!(
        again.stderr.contains("not trusted again"),
        "{}",
        again.stderr
    );
    assert!(
        !env.run(&["show", "ITM-000001"])
            .ok()
            .stdout
            .contains("existed no later than")
    );
    env.run(&["trust", "--restore", &hex]).ok();
    assert!(
        env.run(&["show", "ITM-000001"])
            .ok()
            .stdout
            .contains("existed no later than")
    );
    remove_latest_checkpoint(&env);
    let v = env.run(&["verify"]);
    assert!(
        v.stderr
            .contains("covers changes of whom the vault trusts that no checkpoint covered before"),
        "{}",
        v.stderr
    );
}

/// In a vault that trusts no TSA root, a token's chain is left unchecked, but a TSA
/// certificate already expired when it stamped still makes the token date nothing: its
/// validity is checked over the certificates the token carries.
#[test]
fn without_roots_a_tsa_certificate_expired_at_gen_time_dates_nothing() {
    use custody_testkit::pki::{DAY, Eku, Key};
    use custody_testkit::tsa::{OpensslTsa, Server, TsaConfig};
    let Some((tsa, env)) = tsa_and_vault() else {
        return;
    };
    let now = std::time::SystemTime::now();
    let expired = tsa.pki.tsa(
        &tsa.root,
        Key::P256,
        "Expired TSA",
        Eku::CriticalTimeStamping,
        now - 3 * DAY,
        now - DAY,
    );
    let server = Server::start(
        OpensslTsa::new(&tsa.pki, &expired, &[&tsa.root], &TsaConfig::default()).handler(),
    );
    env.write("in/a.bin", &bytes(8, 5_000));
    env.run(&["ingest", "in"]).ok();
    let stamped = env.run(&["timestamp", "--tsa", &server.url]);
    if stamped.code != 0 {
        eprintln!("skipped: openssl would not stamp with an expired certificate");
        return;
    }
    let shown = env.run(&["show", "ITM-000001", "--json"]).ok().json();
    assert!(shown["timestamp"].is_null(), "{shown}");
    assert!(
        shown["timestamps_set_aside"][0]
            .as_str()
            .unwrap()
            .contains("had already expired at genTime"),
        "{shown}"
    );
    // A TSA whose certificate is in date still dates it, chain unchecked.
    env.run(&["timestamp", "--tsa", tsa.url()]).ok();
    let shown = env.run(&["show", "ITM-000001"]).ok().stdout;
    assert!(shown.contains("existed no later than"), "{shown}");
}
