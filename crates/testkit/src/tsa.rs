//! A real TSA for tests: `openssl ts -reply` behind a small HTTP server on 127.0.0.1,
//! plus servers that misbehave in the ways real ones do.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::pki::{Issued, Pki};

/// Turns the body of a POST into the raw bytes of the HTTP answer.
pub type Handler = Box<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// A loopback HTTP server running `handler` for each request, one at a time. It stops
/// when dropped.
pub struct Server {
    pub url: String,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// The bodies of the requests received, in order.
    pub requests: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Server {
    pub fn start(handler: Handler) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (stop2, requests2) = (stop.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            // Bounded: a test server never answers more than 100 connections.
            for stream in listener.incoming().take(100) {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(stream, &handler, &requests2);
                }
            }
        });
        Self {
            url: format!("http://{addr}/tsa"),
            addr,
            stop,
            thread: Some(thread),
            requests,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut stream: TcpStream, handler: &Handler, requests: &Mutex<Vec<Vec<u8>>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let header_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
        if data.len() > 65_536 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&data[..header_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while data.len() < header_end + length {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    let body = data[header_end..header_end + length].to_vec();
    requests.lock().unwrap().push(body.clone());
    let answer = handler(&body);
    let _ = stream.write_all(&answer);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Let the client read everything before the socket closes.
    let _ = stream.read(&mut buf);
}

/// Raw bytes of an HTTP/1.1 response with a Content-Length.
pub fn http_response(status: u16, reason: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Raw bytes of an HTTP/1.1 200 response sent in chunks of `chunk` bytes.
pub fn chunked_response(content_type: &str, body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for piece in body.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Settings of the `openssl ts -reply` TSA.
#[derive(Clone, Debug)]
pub struct TsaConfig {
    /// `signer_digest`: the hash of the CMS signature.
    pub signer_digest: &'static str,
    /// `ess_cert_id_alg`: `sha1` gives SigningCertificate, others SigningCertificateV2.
    pub ess_cert_id_alg: &'static str,
    /// `digests`: imprint algorithms the TSA accepts.
    pub digests: &'static str,
    /// `clock_precision_digits`: digits of fraction in genTime.
    pub precision: u8,
    /// `tsa_name`: put the TSA name in the token.
    pub tsa_name: bool,
}

impl Default for TsaConfig {
    fn default() -> Self {
        Self {
            signer_digest: "sha256",
            ess_cert_id_alg: "sha256",
            digests: "sha256, sha384, sha512",
            precision: 0,
            tsa_name: true,
        }
    }
}

/// The TSA test policy OID (openssl's example `tsa_policy1`).
pub const POLICY: &str = "1.2.3.4.1";

/// `openssl ts -reply` with a signer certificate and key.
pub struct OpensslTsa {
    dir: PathBuf,
    cnf: PathBuf,
    signer: PathBuf,
    key: PathBuf,
    chain: Option<PathBuf>,
    counter: AtomicU32,
}

impl OpensslTsa {
    /// A TSA signing with `tsa`, including the certificates of `chain` in its replies.
    pub fn new(pki: &Pki, tsa: &Issued, chain: &[&Issued], config: &TsaConfig) -> Arc<Self> {
        let dir = tempfile::Builder::new()
            .prefix("tsa-")
            .tempdir_in(pki.path())
            .unwrap()
            .keep();
        std::fs::write(dir.join("tsaserial"), "01\n").unwrap();
        let cnf = dir.join("tsa.cnf");
        std::fs::write(
            &cnf,
            format!(
                "[ tsa ]\ndefault_tsa = tsa_config\n[ tsa_config ]\ndir = {dir}\n\
                 serial = $dir/tsaserial\ncrypto_device = builtin\nsigner_digest = {sd}\n\
                 default_policy = {POLICY}\ndigests = {digests}\n\
                 accuracy = secs:1, millisecs:500, microsecs:100\n\
                 clock_precision_digits = {prec}\nordering = yes\ntsa_name = {name}\n\
                 ess_cert_id_chain = no\ness_cert_id_alg = {ess}\n",
                dir = dir.display(),
                sd = config.signer_digest,
                digests = config.digests,
                prec = config.precision,
                name = if config.tsa_name { "yes" } else { "no" },
                ess = config.ess_cert_id_alg,
            ),
        )
        .unwrap();
        let chain = if chain.is_empty() {
            None
        } else {
            Some(pki.bundle(
                &format!("{}.chain.pem", dir.file_name().unwrap().to_string_lossy()),
                chain,
            ))
        };
        Arc::new(Self {
            dir,
            cnf,
            signer: tsa.cert.clone(),
            key: tsa.key.clone(),
            chain,
            counter: AtomicU32::new(0),
        })
    }

    /// Runs `openssl ts -reply` on a DER query; returns the DER response or stderr.
    pub fn reply(&self, query: &[u8]) -> Result<Vec<u8>, String> {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let tsq = self.dir.join(format!("req-{n}.tsq"));
        let tsr = self.dir.join(format!("resp-{n}.tsr"));
        std::fs::write(&tsq, query).unwrap();
        let mut args = vec![
            "ts".to_owned(),
            "-reply".into(),
            "-config".into(),
            self.cnf.display().to_string(),
            "-queryfile".into(),
            tsq.display().to_string(),
            "-signer".into(),
            self.signer.display().to_string(),
            "-inkey".into(),
            self.key.display().to_string(),
            "-out".into(),
            tsr.display().to_string(),
        ];
        if let Some(chain) = &self.chain {
            args.push("-chain".into());
            args.push(chain.display().to_string());
        }
        let out = std::process::Command::new("openssl")
            .args(&args)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        std::fs::read(&tsr).map_err(|e| e.to_string())
    }

    /// A `TimeStampResp` (DER) over the SHA-256 of `data`, asked for as a client would
    /// (`openssl ts -query -cert`, with a nonce).
    pub fn stamp_data(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let input = self.dir.join(format!("data-{n}"));
        let tsq = self.dir.join(format!("data-{n}.tsq"));
        std::fs::write(&input, data).map_err(|e| e.to_string())?;
        let out = std::process::Command::new("openssl")
            .args(["ts", "-query", "-sha256", "-cert", "-data"])
            .arg(&input)
            .arg("-out")
            .arg(&tsq)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        self.reply(&std::fs::read(&tsq).map_err(|e| e.to_string())?)
    }

    /// A handler that answers each query with this TSA's reply.
    pub fn handler(self: &Arc<Self>) -> Handler {
        let tsa = self.clone();
        Box::new(move |query| match tsa.reply(query) {
            Ok(resp) => http_response(200, "OK", "application/timestamp-reply", &resp),
            Err(e) => http_response(500, "Internal Server Error", "text/plain", e.as_bytes()),
        })
    }
}

/// A working TSA on 127.0.0.1 with a fresh root and TSA certificate, for end-to-end tests.
pub struct LocalTsa {
    pub pki: Pki,
    pub root: Issued,
    pub tsa: Issued,
    pub server: Server,
}

impl LocalTsa {
    /// Root and TSA certificate (critical timeStamping EKU) valid from yesterday for a
    /// year; `openssl ts -reply` answers behind a loopback HTTP server.
    pub fn start() -> Self {
        let pki = Pki::new();
        let root = pki.root(crate::pki::Key::Rsa2048, "Custody Test Root");
        let now = std::time::SystemTime::now();
        let tsa = pki.tsa(
            &root,
            crate::pki::Key::Rsa2048,
            "Custody Test TSA",
            crate::pki::Eku::CriticalTimeStamping,
            now - crate::pki::DAY,
            now + 365 * crate::pki::DAY,
        );
        let openssl_tsa = OpensslTsa::new(&pki, &tsa, &[&root], &TsaConfig::default());
        let server = Server::start(openssl_tsa.handler());
        Self {
            pki,
            root,
            tsa,
            server,
        }
    }

    pub fn url(&self) -> &str {
        &self.server.url
    }
}
