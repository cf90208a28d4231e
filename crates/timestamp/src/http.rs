//! A minimal blocking HTTP/1.1 client for one thing: POST a time-stamp query and read the
//! reply (RFC 3161 §3.4). Plain `http://` only.
//!
//! It bounds everything a hostile or broken server could stretch: one deadline covers
//! connecting, sending and reading; the body is capped (1 MiB by default, see
//! [`crate::StampOptions`]); header lines and their number are capped. It understands
//! `Content-Length`, `Transfer-Encoding: chunked` and bodies delimited by the server
//! closing the connection, skips `100 Continue`, and does not follow redirects.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::error::TsaErrorKind;

const MAX_LINE: u64 = 8 * 1024;
const MAX_HEADERS: usize = 100;

/// An `http://host[:port]/path` URL.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) struct Url {
    /// Host as written, IPv6 literals with their brackets.
    pub host: String,
    pub port: u16,
    /// Path and query, at least `/`.
    pub path: String,
}

impl Url {
    pub fn parse(url: &str) -> Result<Self, TsaErrorKind> {
        let invalid = |why: &str| TsaErrorKind::InvalidUrl(format!("{url:?}: {why}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("expected http://host[:port]/path"))?;
        if scheme.eq_ignore_ascii_case("https") {
            return Err(TsaErrorKind::HttpsNotSupported);
        }
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(invalid("only http:// is supported"));
        }
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        let path = path.split('#').next().unwrap_or("/").to_owned();
        if authority.contains('@') {
            return Err(invalid("credentials in the URL are not supported"));
        }
        if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(invalid("the path contains spaces or control characters"));
        }
        let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
            let (inner, after) = rest
                .split_once(']')
                .ok_or_else(|| invalid("unclosed [ in the host"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| invalid("bad port"))?),
            };
            (format!("[{inner}]"), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (authority.to_owned(), None),
            }
        };
        if host.is_empty() || host == "[]" {
            return Err(invalid("no host"));
        }
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_[]:%".contains(&b))
        {
            return Err(invalid("the host contains characters a host name cannot"));
        }
        let port = match port {
            None => 80,
            Some(p) => p.parse().map_err(|_| invalid("bad port"))?,
        };
        Ok(Self { host, port, path })
    }

    fn host_header(&self) -> String {
        if self.port == 80 {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn bare_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }
}

/// A response as read.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub reason: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Reads through a socket, never waiting past the deadline in total.
struct DeadlineStream {
    stream: TcpStream,
    deadline: Instant,
}

impl Read for DeadlineStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

fn io_error(stage: &'static str, timeout: Duration, err: std::io::Error) -> TsaErrorKind {
    match err.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => TsaErrorKind::Timeout {
            after: timeout,
            stage,
        },
        std::io::ErrorKind::UnexpectedEof => TsaErrorKind::MalformedHttp(format!(
            "the connection closed while {stage}, before the response was complete"
        )),
        _ => TsaErrorKind::Io { stage, source: err },
    }
}

/// POSTs `body` to `url` and reads the response, within `timeout` in total, refusing a
/// body larger than `limit` bytes.
pub(crate) fn post(
    url: &Url,
    content_type: &str,
    accept: &str,
    body: &[u8],
    timeout: Duration,
    limit: usize,
) -> Result<Response, TsaErrorKind> {
    let deadline = Instant::now() + timeout;
    let stream = connect(url, deadline, timeout)?;

    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nAccept: {accept}\r\n\
         Content-Length: {}\r\nConnection: close\r\nUser-Agent: custody-timestamp\r\n\r\n",
        url.path,
        url.host_header(),
        body.len()
    );
    let mut message = head.into_bytes();
    message.extend_from_slice(body);
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(TsaErrorKind::Timeout {
            after: timeout,
            stage: "sending the request",
        });
    }
    let send = |stream: &TcpStream| -> std::io::Result<()> {
        stream.set_write_timeout(Some(left))?;
        let mut writer = stream;
        writer.write_all(&message)?;
        writer.flush()
    };
    send(&stream).map_err(|e| io_error("sending the request", timeout, e))?;

    let mut reader = BufReader::new(DeadlineStream { stream, deadline });
    read_response(&mut reader, timeout, limit)
}

fn connect(url: &Url, deadline: Instant, timeout: Duration) -> Result<TcpStream, TsaErrorKind> {
    let addrs: Vec<SocketAddr> = (url.bare_host(), url.port)
        .to_socket_addrs()
        .map_err(|source| TsaErrorKind::Resolve {
            host: url.host.clone(),
            source,
        })?
        .collect();
    let mut last = None;
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some((addr, e)),
        }
    }
    match last {
        Some((_, e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            Err(TsaErrorKind::Timeout {
                after: timeout,
                stage: "connecting",
            })
        }
        Some((addr, source)) => Err(TsaErrorKind::Connect {
            addr: addr.to_string(),
            source,
        }),
        None => Err(TsaErrorKind::Resolve {
            host: url.host.clone(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
        }),
    }
}

fn read_line(
    reader: &mut impl BufRead,
    timeout: Duration,
    stage: &'static str,
) -> Result<String, TsaErrorKind> {
    let mut line = Vec::new();
    reader
        .take(MAX_LINE)
        .read_until(b'\n', &mut line)
        .map_err(|e| io_error(stage, timeout, e))?;
    if line.last() != Some(&b'\n') {
        return Err(if line.is_empty() {
            TsaErrorKind::MalformedHttp(format!("the connection closed while {stage}"))
        } else if line.len() as u64 >= MAX_LINE {
            TsaErrorKind::MalformedHttp(format!("a line longer than {MAX_LINE} bytes ({stage})"))
        } else {
            TsaErrorKind::MalformedHttp(format!("the connection closed while {stage}"))
        });
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map_err(|_| TsaErrorKind::MalformedHttp(format!("a line that is not text ({stage})")))
}

fn read_response(
    reader: &mut impl BufRead,
    timeout: Duration,
    limit: usize,
) -> Result<Response, TsaErrorKind> {
    loop {
        let status_line = read_line(reader, timeout, "reading the status line")?;
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        if !version.starts_with("HTTP/1.") {
            return Err(TsaErrorKind::MalformedHttp(format!(
                "status line {:?} is not HTTP/1.x",
                excerpt(status_line.as_bytes())
            )));
        }
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .filter(|s| (100..1000).contains(s))
            .ok_or_else(|| {
                TsaErrorKind::MalformedHttp(format!("bad status line {status_line:?}"))
            })?;
        let reason = parts.next().unwrap_or_default().to_owned();

        let mut content_type = None;
        let mut content_length: Option<usize> = None;
        let mut chunked = false;
        let mut count = 0;
        loop {
            let line = read_line(reader, timeout, "reading the headers")?;
            if line.is_empty() {
                break;
            }
            count += 1;
            if count > MAX_HEADERS {
                return Err(TsaErrorKind::MalformedHttp(format!(
                    "more than {MAX_HEADERS} header lines"
                )));
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(TsaErrorKind::MalformedHttp(format!(
                    "header line {line:?} has no colon"
                )));
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-type") {
                content_type = Some(value.to_owned());
            } else if name.eq_ignore_ascii_case("content-length") {
                let n = value.parse().map_err(|_| {
                    TsaErrorKind::MalformedHttp(format!("bad Content-Length {value:?}"))
                })?;
                content_length = Some(n);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value
                    .split(',')
                    .any(|v| v.trim().eq_ignore_ascii_case("chunked"));
            }
        }
        if (100..200).contains(&status) {
            continue; // 100 Continue and friends precede the real response.
        }

        let body = if status == 204 || status == 304 {
            Vec::new()
        } else if chunked {
            read_chunked(reader, timeout, limit)?
        } else if let Some(len) = content_length {
            if len > limit {
                return Err(TsaErrorKind::TooLarge { limit });
            }
            let mut body = vec![0; len];
            reader
                .read_exact(&mut body)
                .map_err(|e| io_error("reading the body", timeout, e))?;
            body
        } else {
            let mut body = Vec::new();
            reader
                .take(limit as u64 + 1)
                .read_to_end(&mut body)
                .map_err(|e| io_error("reading the body", timeout, e))?;
            if body.len() > limit {
                return Err(TsaErrorKind::TooLarge { limit });
            }
            body
        };
        return Ok(Response {
            status,
            reason,
            content_type,
            body,
        });
    }
}

fn read_chunked(
    reader: &mut impl BufRead,
    timeout: Duration,
    limit: usize,
) -> Result<Vec<u8>, TsaErrorKind> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader, timeout, "reading a chunk size")?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| TsaErrorKind::MalformedHttp(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            // Trailers, up to the empty line.
            for _ in 0..=MAX_HEADERS {
                if read_line(reader, timeout, "reading the trailers")?.is_empty() {
                    return Ok(body);
                }
            }
            return Err(TsaErrorKind::MalformedHttp("too many trailer lines".into()));
        }
        if body.len().saturating_add(size) > limit {
            return Err(TsaErrorKind::TooLarge { limit });
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(&mut body[start..])
            .map_err(|e| io_error("reading a chunk", timeout, e))?;
        let end = read_line(reader, timeout, "reading the end of a chunk")?;
        if !end.is_empty() {
            return Err(TsaErrorKind::MalformedHttp(
                "a chunk is longer than its size".into(),
            ));
        }
    }
}

/// The first characters of a body, printable, on one line.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(&body[..body.len().min(300)])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = words.join(" ");
    if out.chars().count() > 160 {
        out = out.chars().take(160).collect::<String>() + "…";
    }
    out
}

/// Whether a body looks like text worth quoting in an error message.
pub(crate) fn is_text(body: &[u8]) -> bool {
    let head = &body[..body.len().min(300)];
    !head.is_empty()
        && std::str::from_utf8(head).is_ok_and(|s| {
            s.chars()
                .all(|c| !c.is_control() || c.is_ascii_whitespace())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let u = Url::parse("http://tsa.example.org/tsr").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("tsa.example.org", 80, "/tsr")
        );
        let u = Url::parse("http://127.0.0.1:3180").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 3180, "/")
        );
        assert_eq!(u.host_header(), "127.0.0.1:3180");
        let u = Url::parse("HTTP://[::1]:8080/a/b?x=1#frag").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("[::1]", 8080, "/a/b?x=1")
        );
        assert_eq!(u.bare_host(), "::1");
        let u = Url::parse("http://tsa.example.org?q").unwrap();
        assert_eq!(u.path, "/?q");
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(matches!(
            Url::parse("https://tsa.example.org/"),
            Err(TsaErrorKind::HttpsNotSupported)
        ));
        for bad in [
            "tsa.example.org",
            "ftp://tsa.example.org/",
            "http://",
            "http://user:pw@tsa.example.org/",
            "http://tsa.example.org:99999/",
            "http://tsa.example.org:/",
            "http://tsa example.org/",
            "http://tsa.example.org/a b",
            "http://[::1/",
        ] {
            assert!(
                matches!(Url::parse(bad), Err(TsaErrorKind::InvalidUrl(_))),
                "{bad} was accepted"
            );
        }
    }

    fn read(raw: &[u8], limit: usize) -> Result<Response, TsaErrorKind> {
        read_response(&mut &raw[..], Duration::from_secs(1), limit)
    }

    #[test]
    fn reads_content_length_chunked_and_close_delimited_bodies() {
        let r = read(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcEXTRA", 10).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, b"abc".as_slice()));

        let r = read(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\
              Content-Type: application/timestamp-reply\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n",
            10,
        )
        .unwrap();
        assert_eq!(r.body, b"abcde");
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/timestamp-reply")
        );

        let r = read(b"HTTP/1.0 200 OK\nContent-Type: x\n\nall of it", 10).unwrap();
        assert_eq!(r.body, b"all of it");
    }

    #[test]
    fn enforces_the_size_limit() {
        assert!(matches!(
            read(
                b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n01234567890",
                10
            ),
            Err(TsaErrorKind::TooLarge { limit: 10 })
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\n\r\n01234567890", 10),
            Err(TsaErrorKind::TooLarge { limit: 10 })
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n6\r\n012345\r\n0\r\n\r\n", 10),
            Err(TsaErrorKind::TooLarge { limit: 10 })
        ));
    }

    #[test]
    fn rejects_malformed_responses() {
        for raw in [
            &b""[..],
            b"SSH-2.0-OpenSSH\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1",
        ] {
            assert!(
                matches!(read(raw, 100), Err(TsaErrorKind::MalformedHttp(_))),
                "{:?} was accepted",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn excerpts_are_one_short_line() {
        assert_eq!(excerpt(b"<h1>Not\r\n  found</h1>"), "<h1>Not found</h1>");
        assert!(is_text(b"Bad request\n"));
        assert!(!is_text(&[0x30, 0x82, 0x01, 0x00]));
    }
}
