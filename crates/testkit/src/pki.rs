//! A throwaway PKI made with the real openssl binary: roots, intermediates and TSA
//! certificates with chosen keys, extensions and validity periods.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

/// Whether an openssl binary is on the PATH; tests print a skip message without one.
pub fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs openssl and returns its stdout; panics with its stderr when it fails.
pub fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs openssl and returns (success, stdout + stderr).
pub fn openssl_status(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[derive(Clone, Copy, Debug)]
pub enum Key {
    Rsa2048,
    P256,
    P384,
}

/// How the TSA certificate's extendedKeyUsage looks.
#[derive(Clone, Copy, Debug)]
pub enum Eku {
    /// `critical, timeStamping`, as RFC 3161 requires.
    CriticalTimeStamping,
    /// `timeStamping`, not critical.
    NonCritical,
    /// No extendedKeyUsage at all.
    Missing,
    /// `critical, timeStamping, codeSigning`.
    ExtraPurpose,
}

/// A certificate and its key, as PEM files.
#[derive(Clone, Debug)]
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The certificate as DER.
    pub der: Vec<u8>,
}

pub struct Pki {
    pub dir: tempfile::TempDir,
    counter: std::cell::Cell<u32>,
}

const REQ_CNF: &str = "\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
";

const CA_CNF: &str = "\
[ ca ]
default_ca = ca_section
[ ca_section ]
database = DIR/index.txt
new_certs_dir = DIR/newcerts
serial = DIR/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ policy_any ]
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[ ext_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ext_intermediate ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_intermediate_bad_ku ]
basicConstraints = critical,CA:TRUE
2.5.29.15 = critical,DER:0302078000
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_intermediate_named ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = permitted;DNS:example.org
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_not_ca ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_tsa ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_tsa_noncritical ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_tsa_missing ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_c2pa_signer ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_c2pa_signer_certsign ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyCertSign
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_c2pa_signer_code ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_tsa_extra ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping,codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
";

/// `YYYYMMDDHHMMSSZ` for openssl's -startdate/-enddate.
pub fn asn1_time(t: SystemTime) -> String {
    let d = der::DateTime::from_system_time(t).expect("time in range");
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minutes(),
        d.seconds()
    )
}

pub const DAY: Duration = Duration::from_secs(86_400);

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Pki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("req.cnf"), REQ_CNF).unwrap();
        Self {
            dir,
            counter: std::cell::Cell::new(0),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn fresh(&self, stem: &str) -> String {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        format!("{stem}-{n}")
    }

    fn key(&self, kind: Key, stem: &str) -> PathBuf {
        let path = self.path().join(format!("{stem}.key"));
        let p = path.to_str().unwrap();
        match kind {
            Key::Rsa2048 => openssl(
                self.path(),
                &[
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                    "-out",
                    p,
                ],
            ),
            Key::P256 | Key::P384 => openssl(
                self.path(),
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    if matches!(kind, Key::P256) {
                        "ec_paramgen_curve:P-256"
                    } else {
                        "ec_paramgen_curve:P-384"
                    },
                    "-pkeyopt",
                    "ec_param_enc:named_curve",
                    "-out",
                    p,
                ],
            ),
        };
        path
    }

    fn der_of(&self, pem: &Path) -> Vec<u8> {
        let der = pem.with_extension("der");
        openssl(
            self.path(),
            &[
                "x509",
                "-in",
                pem.to_str().unwrap(),
                "-outform",
                "DER",
                "-out",
                der.to_str().unwrap(),
            ],
        );
        std::fs::read(der).unwrap()
    }

    /// A self-signed root CA valid for ten years from yesterday.
    ///
    /// Signed with `openssl ca -selfsign` because `openssl req -x509` can only start a
    /// certificate's validity now: a token stamped in the second before the root was
    /// made would then fall outside the root's validity.
    pub fn root(&self, key: Key, cn: &str) -> Issued {
        let now = SystemTime::now();
        let stem = self.fresh("root");
        let key_path = self.key(key, &stem);
        let csr = self.request(&key_path, &format!("/O=Custody Test/CN={cn}"), &stem);
        let cert = self.path().join(format!("{stem}.pem"));
        // The database the root then issues from: one serial counter for the issuer.
        let db = self.ca_database(&cert.with_extension("ca"));
        let mut args = vec!["-selfsign", "-keyfile", key_path.to_str().unwrap()];
        args.extend(["-in", csr.to_str().unwrap()]);
        self.ca_sign(
            &db,
            &args,
            "ext_root",
            now - DAY,
            now + 3650 * DAY,
            "sha256",
            &cert,
        );
        let der = self.der_of(&cert);
        Issued {
            cert,
            key: key_path,
            der,
        }
    }

    /// A certificate issued by `ca` with the `openssl ca` extension section `ext`.
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        &self,
        ca: &Issued,
        key: Key,
        subject: &str,
        ext: &str,
        not_before: SystemTime,
        not_after: SystemTime,
        md: &str,
    ) -> Issued {
        let stem = self.fresh("cert");
        let key_path = self.key(key, &stem);
        let csr = self.request(&key_path, subject, &stem);
        // Each issuing CA keeps its own openssl ca database.
        let db = self.ca_database(&ca.cert.with_extension("ca"));
        let cert = self.path().join(format!("{stem}.pem"));
        let args = [
            "-cert",
            ca.cert.to_str().unwrap(),
            "-keyfile",
            ca.key.to_str().unwrap(),
            "-in",
            csr.to_str().unwrap(),
        ];
        self.ca_sign(&db, &args, ext, not_before, not_after, md, &cert);
        let der = self.der_of(&cert);
        Issued {
            cert,
            key: key_path,
            der,
        }
    }

    /// Makes the next certificate `ca` issues carry `serial` (hex digits), however long:
    /// RFC 5280 allows 20 bytes, and some readers refuse more while others accept it.
    pub fn set_next_serial(&self, ca: &Issued, serial: &str) {
        let dir = ca.cert.with_extension("ca");
        self.ca_database(&dir);
        std::fs::write(dir.join("serial"), format!("{serial}\n")).unwrap();
    }

    /// A certificate signing request for `subject`, signed with the key at `key`.
    fn request(&self, key: &Path, subject: &str, stem: &str) -> PathBuf {
        let csr = self.path().join(format!("{stem}.csr"));
        openssl(
            self.path(),
            &[
                "req",
                "-new",
                "-config",
                "req.cnf",
                "-key",
                key.to_str().unwrap(),
                "-subj",
                subject,
                "-out",
                csr.to_str().unwrap(),
            ],
        );
        csr
    }

    /// An `openssl ca` database in `dir` (made on first use); returns its config file.
    fn ca_database(&self, dir: &Path) -> PathBuf {
        let config = dir.join("ca.cnf");
        if !dir.exists() {
            std::fs::create_dir_all(dir.join("newcerts")).unwrap();
            std::fs::write(dir.join("index.txt"), "").unwrap();
            std::fs::write(dir.join("serial"), "1000\n").unwrap();
            std::fs::write(&config, CA_CNF.replace("DIR", dir.to_str().unwrap())).unwrap();
        }
        config
    }

    /// Runs `openssl ca` with the database `config`, the signer and request in `signer`,
    /// the extension section `ext` and the given validity, writing the PEM to `out`.
    #[allow(clippy::too_many_arguments)]
    fn ca_sign(
        &self,
        config: &Path,
        signer: &[&str],
        ext: &str,
        not_before: SystemTime,
        not_after: SystemTime,
        md: &str,
        out: &Path,
    ) {
        let (start, end) = (asn1_time(not_before), asn1_time(not_after));
        let mut args = vec!["ca", "-batch", "-notext", "-config"];
        args.push(config.to_str().unwrap());
        args.extend(["-extensions", ext, "-md", md, "-startdate", &start]);
        args.extend(["-enddate", &end]);
        args.extend_from_slice(signer);
        args.extend(["-out", out.to_str().unwrap()]);
        openssl(self.path(), &args);
    }

    /// An intermediate CA under `ca`, valid from yesterday for five years.
    pub fn intermediate(&self, ca: &Issued, key: Key, cn: &str) -> Issued {
        let now = SystemTime::now();
        self.issue(
            ca,
            key,
            &format!("/O=Custody Test/CN={cn}"),
            "ext_intermediate",
            now - DAY,
            now + 5 * 365 * DAY,
            "sha256",
        )
    }

    /// A C2PA claim signer's certificate under `ca` (P-256, digitalSignature), valid
    /// between the given times; with `email`, its extendedKeyUsage is
    /// emailProtection, which C2PA accepts for signers, else codeSigning, which it does
    /// not.
    pub fn c2pa_signer(
        &self,
        ca: &Issued,
        cn: &str,
        email: bool,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Issued {
        self.issue(
            ca,
            Key::P256,
            &format!("/O=Custody Test/CN={cn}"),
            if email {
                "ext_c2pa_signer"
            } else {
                "ext_c2pa_signer_code"
            },
            not_before,
            not_after,
            "sha256",
        )
    }

    /// A TSA certificate under `ca` with the given validity and extendedKeyUsage.
    pub fn tsa(
        &self,
        ca: &Issued,
        key: Key,
        cn: &str,
        eku: Eku,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Issued {
        let ext = match eku {
            Eku::CriticalTimeStamping => "ext_tsa",
            Eku::NonCritical => "ext_tsa_noncritical",
            Eku::Missing => "ext_tsa_missing",
            Eku::ExtraPurpose => "ext_tsa_extra",
        };
        self.issue(
            ca,
            key,
            &format!("/O=Custody Test/CN={cn}"),
            ext,
            not_before,
            not_after,
            "sha256",
        )
    }

    /// Writes `contents` to a file in the PKI directory and returns its path.
    pub fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Concatenates PEM files into one (a `-chain`, `-CAfile` or `-untrusted` file).
    pub fn bundle(&self, name: &str, parts: &[&Issued]) -> PathBuf {
        let mut text = Vec::new();
        for p in parts {
            text.extend(std::fs::read(&p.cert).unwrap());
        }
        self.write(name, &text)
    }

    /// Re-signs the TSTInfo of `token` with `signer` through `openssl cms`, the way a TSA
    /// would (signed attributes, ESS signingCertificateV2 when `cades`), so that tokens
    /// can be made with certificates `openssl ts -reply` refuses to use.
    pub fn resign(&self, token: &[u8], signer: &Issued, extra: &[&Issued], cades: bool) -> Vec<u8> {
        let stem = self.fresh("resign");
        let input = self.write(&format!("{stem}.tst"), token);
        let tst = self.path().join(format!("{stem}.tstinfo"));
        openssl(
            self.path(),
            &[
                "cms",
                "-verify",
                "-noverify",
                "-inform",
                "DER",
                "-in",
                input.to_str().unwrap(),
                "-out",
                tst.to_str().unwrap(),
            ],
        );
        let out = self.path().join(format!("{stem}.out"));
        let mut args: Vec<String> = [
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-nosmimecap",
            "-md",
            "sha256",
            "-econtent_type",
            "1.2.840.113549.1.9.16.1.4",
            "-outform",
            "DER",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if cades {
            args.push("-cades".into());
        }
        for a in [
            "-in",
            tst.to_str().unwrap(),
            "-signer",
            signer.cert.to_str().unwrap(),
            "-inkey",
            signer.key.to_str().unwrap(),
            "-out",
            out.to_str().unwrap(),
        ] {
            args.push(a.into());
        }
        if !extra.is_empty() {
            let bundle = self.bundle(&format!("{stem}.extra.pem"), extra);
            args.push("-certfile".into());
            args.push(bundle.to_str().unwrap().into());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        openssl(self.path(), &refs);
        std::fs::read(out).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// notBefore of a PEM certificate, as openssl prints it.
    fn not_before(pki: &Pki, cert: &Path) -> String {
        let out = openssl(
            pki.path(),
            &[
                "x509",
                "-noout",
                "-startdate",
                "-in",
                cert.to_str().unwrap(),
            ],
        );
        out.trim().trim_start_matches("notBefore=").to_string()
    }

    /// openssl's `Mon DD HH:MM:SS YYYY GMT` for a time, as `-startdate` prints it.
    fn openssl_date(t: SystemTime) -> String {
        let d = der::DateTime::from_system_time(t).unwrap();
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{} {:>2} {:02}:{:02}:{:02} {} GMT",
            MONTHS[usize::from(d.month()) - 1],
            d.day(),
            d.hour(),
            d.minutes(),
            d.seconds(),
            d.year()
        )
    }

    #[test]
    fn roots_and_intermediates_are_valid_from_the_day_before() {
        if !openssl_available() {
            eprintln!("skipped: no openssl binary on the PATH");
            return;
        }
        let pki = Pki::new();
        let before = SystemTime::now() - DAY;
        let root = pki.root(Key::P256, "Root");
        let intermediate = pki.intermediate(&root, Key::P256, "Intermediate");
        let after = SystemTime::now() - DAY;
        // Every second from `before` to `after`, as openssl prints it.
        let span = after.duration_since(before).unwrap().as_secs() + 1;
        let expected: Vec<String> = (0..=span)
            .map(|s| openssl_date(before + Duration::from_secs(s)))
            .collect();
        for cert in [&root.cert, &intermediate.cert] {
            let start = not_before(&pki, cert);
            assert!(
                expected.contains(&start),
                "notBefore {start}, expected a day before now ({expected:?})"
            );
        }
        // A root and the certificates it issues have serials of their own (RFC 5280
        // §4.1.2.2: unique for each certificate an issuer issues).
        let serial = |cert: &Path| {
            openssl(
                pki.path(),
                &["x509", "-noout", "-serial", "-in", cert.to_str().unwrap()],
            )
        };
        assert_ne!(serial(&root.cert), serial(&intermediate.cert));
        // The root is self-signed and verifies as a CA of the intermediate.
        let (ok, text) = openssl_status(
            pki.path(),
            &[
                "verify",
                "-CAfile",
                root.cert.to_str().unwrap(),
                intermediate.cert.to_str().unwrap(),
            ],
        );
        assert!(ok, "{text}");
    }
}
